"""The running service: configuration, lease stores, per-family state and the HA services.

Built once at start-up (and again on config-reload); the HTTP edge and the command handlers
only see this object.
"""

from __future__ import annotations

import asyncio
import logging
import os
import secrets
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

from app.config import Config, FamilyConfig
from app.store.leases import Lease4, Lease6
from app.store.repository import LeaseStore

log = logging.getLogger("leasesync")


@dataclass(frozen=True)
class LeaseChange:
    """A committed lease change, as the HA layer needs it to tell partners."""

    kind: str  # "update" or "delete"
    lease: Lease4 | Lease6


class ChangeListener(Protocol):
    """Something that must hear of committed local lease changes (the HA service)."""

    async def on_local_changes(self, family: int, changes: list[LeaseChange], from_partner: bool,
                               handoff: int | None = None) -> None: ...


class DhcpServiceState:
    """dhcp-disable / dhcp-enable, tracked per origin as Kea does, with `max-period` timers."""

    def __init__(self) -> None:
        self.disabled_by: set[str] = set()
        self._timers: dict[str, asyncio.TimerHandle] = {}

    @property
    def enabled(self) -> bool:
        return not self.disabled_by

    def disable(self, origin: str, max_period: int | None) -> None:
        self.disabled_by.add(origin)
        timer = self._timers.pop(origin, None)
        if timer:
            timer.cancel()
        if max_period:
            loop = asyncio.get_running_loop()
            self._timers[origin] = loop.call_later(max_period, self.enable, origin)

    def enable(self, origin: str) -> None:
        self.disabled_by.discard(origin)
        timer = self._timers.pop(origin, None)
        if timer:
            timer.cancel()


@dataclass
class FamilyRuntime:
    config: FamilyConfig
    store: Any  # LeaseStore, or EmptyStore for the other family's view
    dhcp: DhcpServiceState = field(default_factory=DhcpServiceState)
    listeners: list[ChangeListener] = field(default_factory=list)
    stats: Any = None  # the lease statistics, kept by app.commands.stats (main process only)
    # leasesync reclaims this family's expired leases (app.reclaim): it then keeps Kea's reclaimed-*
    # and cumulative-* statistics too, which otherwise only the local Kea knows
    reclaims: bool = False
    # the HA service hands this family's local changes to peers and journals them until it has
    # (ls_ha_handoff): lease commands then ask for a token (handoff_token)
    journals_handoffs: bool = False

    @property
    def family(self) -> int:
        return self.config.family

    @property
    def service(self) -> str:
        return self.config.service

    def handoff_token(self, from_partner: bool) -> int | None:
        """The token under which a local change's write op journals it for the HA peers (set
        as the op's `handoff`, then given to `committed`); None when nothing will be sent."""
        if from_partner or not self.journals_handoffs:
            return None
        return secrets.randbits(62)

    async def committed(self, changes: list[LeaseChange], from_partner: bool, handoff: int | None = None) -> None:
        """Tell listeners (HA) about changes that are already committed; `handoff`: the token
        they were journaled under (handoff_token)."""
        if not changes and handoff is None:
            return
        for listener in self.listeners:
            await listener.on_local_changes(self.family, changes, from_partner, handoff)


class EmptyStore:
    """The lease view of a family a daemon does not serve: Kea's dhcp4 answers lease6-get
    with "Lease not found." because it has no v6 leases at all."""

    async def get4(self, *_: Any) -> None:
        return None

    async def get6(self, *_: Any) -> None:
        return None

    async def get4_by(self, *_: Any, **__: Any) -> list[Any]:
        return []

    async def get4_by_hostname(self, *_: Any) -> list[Any]:
        return []

    async def get6_by_duid(self, *_: Any, **__: Any) -> list[Any]:
        return []

    async def get6_by_hostname(self, *_: Any) -> list[Any]:
        return []

    async def all4(self, *_: Any) -> list[Any]:
        return []

    async def all6(self, *_: Any) -> list[Any]:
        return []

    async def page4(self, *_: Any) -> list[Any]:
        return []

    async def page6(self, *_: Any) -> list[Any]:
        return []

    async def write(self, op: Any) -> Any:
        from app.store.repository import AddLease, BulkApply, DeleteLease, UpdateLease, WipeLeases

        if isinstance(op, AddLease):
            return False
        if isinstance(op, UpdateLease | DeleteLease):
            return None
        if isinstance(op, WipeLeases):
            return []
        if isinstance(op, BulkApply):
            return [None] * len(op.deletes), [None] * len(op.upserts)
        return None


class Runtime:
    def __init__(self, config: Config) -> None:
        self.config = config
        self.started = time.time()
        self.reloads: dict[int | None, float] = {}  # config-reload times: by family, None for the agent
        self.pid = os.getpid()
        self.stores: dict[str, LeaseStore] = {}
        self.families: dict[int, FamilyRuntime] = {}
        self.foreign_views: dict[int, FamilyRuntime] = {}
        self.services: list[Any] = []  # long-running services with start()/stop() (HA, change capture)
        self.ha: dict[int, Any] = {}
        self.forwarder: Any = None
        self.reclaimers: dict[int, Any] = {}  # app.reclaim.LeaseReclaimer by family (main process only)
        self.frontends: Any = None  # app.api.frontends.FrontendSupervisor with LeaseSync.http-workers
        self.shutdown_requested: Callable[[], Awaitable[None]] | None = None
        self.exit_value = 0  # `shutdown`'s exit-value: the status `leasesync serve` exits with
        self.metrics: Any = None
        for fam in (config.dhcp4, config.dhcp6):
            if fam is None:
                continue
            key = fam.lease_database.url()
            if key not in self.stores:
                self.stores[key] = LeaseStore(fam.lease_database)
            self.families[fam.family] = FamilyRuntime(fam, self.stores[key])

    def view(self, service_family: int, command_family: int) -> FamilyRuntime | None:
        """The family runtime a command of `command_family` sees when sent to `service_family`."""
        runtime = self.families.get(service_family)
        if runtime is None:
            return None
        if service_family == command_family:
            return runtime
        if service_family not in self.foreign_views:
            from app.config import FamilyConfig as _FC

            # the daemon's own settings stay (DDNS is on or off for the whole daemon); it has
            # no subnets and no leases of the other family
            empty = _FC(family=command_family, lease_database=runtime.config.lease_database, subnets={},
                        valid_lifetime=0, preferred_lifetime=0, ddns_enabled=runtime.config.ddns_enabled)
            self.foreign_views[service_family] = FamilyRuntime(empty, EmptyStore(), runtime.dhcp)
        return self.foreign_views[service_family]

    def prepare_databases(self) -> None:
        """Bring every lease database up to date (migrations) before serving."""
        from app.store.migrate import open_and_upgrade

        for store in self.stores.values():
            db = store.config
            open_and_upgrade(store.engine, db.redacted_url(), retries=db.startup_retries(),
                             wait=db.reconnect_wait_time / 1000)

    async def start(self) -> None:
        for store in self.stores.values():
            store.start()
        for service in self.services:
            await service.start()

    async def stop(self) -> None:
        for service in reversed(self.services):
            try:
                await service.stop()
            except Exception:  # noqa: BLE001 - shutting down anyway; log and go on
                log.exception("error while stopping %s", service)
        loop = asyncio.get_running_loop()
        for store in self.stores.values():
            await loop.run_in_executor(None, store.close)
