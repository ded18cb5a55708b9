"""FastAPI for everything that is not the Kea control channel: health, readiness, metrics, docs."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Response
from fastapi.responses import JSONResponse
from prometheus_client import generate_latest
from prometheus_client.exposition import CONTENT_TYPE_LATEST

from app import __version__
from app.api.openapi import install as install_openapi
from app.runtime import Runtime


def build_web_app(runtime: Runtime) -> FastAPI:
    web = FastAPI(
        title="leasesync",
        version=__version__,
        description="HA-aware DHCP lease agent speaking ISC Kea's control channel. Commands are sent as "
        "Kea envelopes with POST / (any path is accepted, so each command is also documented here as "
        "POST /{command-name}); see also docs/commands.md.",
    )
    install_openapi(web)  # every registry command's typed request and answer in /openapi.json and /docs

    @web.get("/healthz", summary="The process is alive")
    async def healthz() -> dict[str, Any]:
        return {"status": "ok"}

    @web.get("/readyz", summary="Database reachable, migrations current, HA not terminated")
    async def readyz() -> Response:
        from app.store.migrate import is_current

        problems: list[str] = []
        for store in runtime.stores.values():
            try:
                await store.ping()
                if not is_current(store.engine):
                    problems.append(f"{store.config.redacted_url()}: migrations not current")
            except Exception as exc:  # noqa: BLE001 - readiness reports any failure as text
                problems.append(f"{store.config.redacted_url()}: {exc}")
        for family, ha in runtime.ha.items():
            if getattr(ha, "state_name", None) == "terminated":
                problems.append(f"dhcp{family}: HA state is terminated")
        if problems:
            return JSONResponse({"status": "not ready", "problems": problems}, status_code=503)
        return JSONResponse({"status": "ready"})

    @web.get("/metrics", summary="Prometheus metrics")
    async def metrics() -> Response:
        if runtime.metrics is None:
            return Response(status_code=404)
        await refresh_lease_gauges(runtime)
        return Response(generate_latest(runtime.metrics.registry), media_type=CONTENT_TYPE_LATEST)

    return web


async def refresh_lease_gauges(runtime: Runtime) -> None:
    metrics = runtime.metrics
    metrics.leases.clear()
    for family, fam in runtime.families.items():
        try:
            rows = await fam.store.stats(family)
        except Exception:  # noqa: BLE001 - metrics must not fail the scrape
            continue
        for subnet_id, _lease_type, state, count in rows:
            metrics.leases.labels(str(family), str(subnet_id), str(state)).inc(count)
