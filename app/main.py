"""Assembling the service: runtime, HA, forwarding, ASGI app."""

from __future__ import annotations

import logging
from typing import Any

import app.commands  # noqa: F401 - registers every command
from app.api.asgi import ControlChannelApp
from app.api.web import build_web_app
from app.config import Config
from app.metrics import Metrics
from app.runtime import Runtime

log = logging.getLogger("leasesync")


def build_runtime(config: Config, *, migrate: bool = True) -> Runtime:
    runtime = Runtime(config)
    runtime.metrics = Metrics()
    runtime.metrics.store_counters.stores = lambda: list(runtime.stores.values())  # as they are at each scrape
    if migrate:
        runtime.prepare_databases()
    if config.agent.control_sockets:
        from app.forward import Forwarder

        runtime.forwarder = Forwarder(config.agent.control_sockets)
    try:
        from app.ha.service import attach_ha
    except ImportError:
        attach_ha = None  # type: ignore[assignment]
    if attach_ha is not None:
        attach_ha(runtime)
    from app.capture import attach_capture

    captures = attach_capture(runtime, install=migrate)  # after HA: captured changes go to a started HA service
    runtime.metrics.capture_counters.captures = lambda: captures
    from app.reclaim import attach_reclaimers

    attach_reclaimers(runtime)
    return runtime


def build_app(runtime: Runtime) -> Any:
    return ControlChannelApp(runtime, build_web_app(runtime))
