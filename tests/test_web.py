"""Health, readiness and Prometheus metrics (the FastAPI side of the HTTP edge)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from prometheus_client.parser import text_string_to_metric_families

from tests.conftest import KeaClient, make_database, service_config


async def sample(client: KeaClient, metric: str, **labels: str) -> float | None:
    response = await client.http.get("/metrics")
    assert response.status_code == 200
    for family in text_string_to_metric_families(response.text):
        for s in family.samples:
            if s.name == metric and all(s.labels.get(k) == v for k, v in labels.items()):
                return float(s.value)
    return None


async def add4(client: KeaClient, ip: str, state: int = 0) -> None:
    ans = await client.one("lease4-add", "dhcp4", {"ip-address": ip, "hw-address": "1a:1b:1c:1d:1e:1f", "state": state})
    assert ans["result"] == 0, ans


async def test_healthz(sqlite_client: KeaClient) -> None:
    response = await sqlite_client.http.get("/healthz")
    assert (response.status_code, response.json()) == (200, {"status": "ok"})


async def test_readyz_when_the_database_answers(sqlite_client: KeaClient) -> None:
    response = await sqlite_client.http.get("/readyz")
    assert (response.status_code, response.json()) == (200, {"status": "ready"})


async def test_readyz_is_503_when_the_database_is_unreachable(make_client: Any, tmp_path: Path) -> None:
    db, drop = make_database("postgresql", tmp_path)  # skips (fails under CI) without PostgreSQL
    client = await make_client(service_config(db))
    drop()  # DROP DATABASE ... WITH (FORCE): the service's connections are cut, reconnects fail
    response = await client.http.get("/readyz")
    assert response.status_code == 503
    assert response.json()["status"] == "not ready"
    assert db["name"] in response.json()["problems"][0]


async def test_lease_gauge_follows_added_leases(sqlite_client: KeaClient) -> None:
    labels = {"family": "4", "subnet_id": "1", "state": "0"}
    await add4(sqlite_client, "192.0.2.20")
    assert await sample(sqlite_client, "leasesync_leases", **labels) == 1
    await add4(sqlite_client, "192.0.2.21")
    assert await sample(sqlite_client, "leasesync_leases", **labels) == 2


async def test_lease_gauge_is_per_state(sqlite_client: KeaClient) -> None:
    await add4(sqlite_client, "192.0.2.22", state=1)
    assert await sample(sqlite_client, "leasesync_leases", family="4", subnet_id="1", state="1") == 1


async def test_lease_gauge_drops_deleted_leases(sqlite_client: KeaClient) -> None:
    await add4(sqlite_client, "192.0.2.23")
    await sqlite_client.one("lease4-del", "dhcp4", {"ip-address": "192.0.2.23"})
    assert await sample(sqlite_client, "leasesync_leases", family="4", subnet_id="1", state="0") is None


async def test_command_counter_moves(sqlite_client: KeaClient) -> None:
    labels = {"command": "lease4-get", "result": "3"}
    before = await sample(sqlite_client, "leasesync_commands_total", **labels) or 0
    await sqlite_client.one("lease4-get", "dhcp4", {"ip-address": "192.0.2.99"})
    assert await sample(sqlite_client, "leasesync_commands_total", **labels) == before + 1


async def test_command_latency_is_observed(sqlite_client: KeaClient) -> None:
    await sqlite_client.one("version-get")
    assert await sample(sqlite_client, "leasesync_command_duration_seconds_count", command="version-get") == 1


async def test_openapi_docs_are_served(sqlite_client: KeaClient) -> None:
    response = await sqlite_client.http.get("/docs")
    assert response.status_code == 200 and "swagger" in response.text.lower()


async def test_metrics_count_the_store_s_commits_and_failures(sqlite_client: KeaClient) -> None:
    store = sqlite_client.runtime.families[4].store
    database = store.config.redacted_url()
    before = await sample(sqlite_client, "leasesync_store_commits_total", database=database)
    await add4(sqlite_client, "192.0.2.77")

    assert (await sample(sqlite_client, "leasesync_store_commits_total", database=database) or 0) > (before or 0)
    assert await sample(sqlite_client, "leasesync_store_failed_commits_total", database=database) == 0
    assert await sample(sqlite_client, "leasesync_store_lock_conflicts_total", database=database) == 0
