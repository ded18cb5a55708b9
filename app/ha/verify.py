"""Verified replication: with `send-lease-updates: false` nothing on the HA channel proves the
partner has our leases, so this service checks. It remembers recent local lease changes,
periodically asks the partner for a sample of them (`leaseX-get`), and reports replication lag
and divergence (how many are missing, the oldest missing lease) in status-get, logs and metrics.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from app.ha.peer_client import PeerClient, PeerError
from app.runtime import LeaseChange

log = logging.getLogger("leasesync.ha.verify")

RECENT_LIMIT = 10_000  # changes remembered (bounded memory)
SAMPLE_SIZE = 20


@dataclass
class PendingChange:
    address: str
    kind: str  # "update" | "delete"
    cltt: int
    at: float  # wall time of the local commit


class ReplicationVerifier:
    def __init__(self, family: int, client: PeerClient, interval: float = 2.0,
                 wall: Callable[[], float] = time.time, sample_size: int = SAMPLE_SIZE, metrics: Any = None) -> None:
        self.metrics = metrics
        self.family = family
        self.client = client
        self.interval = interval
        self.wall = wall
        self.sample_size = sample_size
        self._pending: OrderedDict[str, PendingChange] = OrderedDict()
        self._task: asyncio.Task[Any] | None = None
        self.checked = 0
        self.last_check: float | None = None
        self.last_error: str | None = None
        self.confirmed_lag: list[float] = []  # seconds from local commit to seen at the partner

    # listener of committed local changes (FamilyRuntime.listeners)
    async def on_local_changes(self, family: int, changes: list[LeaseChange], from_partner: bool,
                               handoff: int | None = None) -> None:
        if from_partner or family != self.family:
            return
        now = self.wall()
        for change in changes:
            address = change.lease.ip
            self._pending.pop(address, None)
            self._pending[address] = PendingChange(address, change.kind, change.lease.cltt, now)
        while len(self._pending) > RECENT_LIMIT:
            self._pending.popitem(last=False)

    async def start(self) -> None:
        self._task = asyncio.create_task(self._loop(), name=f"replication-verify-v{self.family}")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    async def _loop(self) -> None:
        while True:
            await asyncio.sleep(self.interval)
            await self.check()

    async def check(self) -> None:
        """Ask the partner for a sample of the changes not yet seen there (oldest first)."""
        if not self._pending:
            self.last_check = self.wall()
            return
        items = list(self._pending.values())
        sample = items
        if len(items) > self.sample_size:
            # the oldest half (they measure the lag) and a random half of the rest
            half = self.sample_size // 2
            sample = items[:half] + random.sample(items[half:], half)
        for change in sample:
            try:
                answer = await self.client.send(
                    {"command": f"lease{self.family}-get", "service": [f"dhcp{self.family}"],
                     "arguments": {"ip-address": change.address}})
            except PeerError as exc:
                self.last_error = exc.text
                return
            self.checked += 1
            present = answer.get("result") == 0
            cltt = int((answer.get("arguments") or {}).get("cltt", -1)) if present else -1
            replicated = (change.kind == "delete" and not present) or (change.kind == "update" and cltt >= change.cltt)
            if replicated:
                self._pending.pop(change.address, None)
                self.confirmed_lag.append(self.wall() - change.at)
                self.confirmed_lag = self.confirmed_lag[-1000:]
        self.last_error = None
        self.last_check = self.wall()
        if self.metrics is not None:
            report = self.report()
            self.metrics.replication_diverged.labels(str(self.family)).set(report["diverged"])
            self.metrics.replication_lag.labels(str(self.family)).set(report["lag-max"] or 0)

    def report(self, grace: float = 5.0) -> dict[str, Any]:
        """Divergence = changes the partner still lacks after `grace` seconds."""
        now = self.wall()
        missing = [c for c in self._pending.values() if now - c.at > grace]
        oldest = missing[0] if missing else None
        lags = sorted(self.confirmed_lag)
        return {
            "checked": self.checked,
            "unconfirmed": len(self._pending),
            "diverged": len(missing),
            "oldest-missing": {"ip-address": oldest.address, "kind": oldest.kind,
                               "age": round(now - oldest.at, 1)} if oldest else None,
            "lag-p50": round(lags[len(lags) // 2], 3) if lags else None,
            "lag-max": round(lags[-1], 3) if lags else None,
            "last-check": round(now - self.last_check, 1) if self.last_check else None,
            "last-error": self.last_error,
        }


async def database_replication_warning(store: Any) -> str | None:
    """When the operator asked for synchronous replication (lease-database
    `expect-synchronous-replication`), say so if the database reports otherwise."""
    from sqlalchemy import text

    dialect = store.dialect

    def probe(conn: Any, _dialect: str) -> str | None:
        if dialect == "postgresql":
            commit = conn.execute(text("SHOW synchronous_commit")).scalar_one()
            standbys = conn.execute(text("SHOW synchronous_standby_names")).scalar_one()
            if not standbys or commit in ("off", "local"):
                return (f"PostgreSQL replicates asynchronously (synchronous_commit={commit}, "
                        f"synchronous_standby_names='{standbys}'): a committed lease may be lost with this site")
            return None
        if dialect == "mysql":
            row = conn.execute(text("SHOW VARIABLES LIKE 'rpl_semi_sync_master_enabled'")).first()
            if row is None or str(row[1]).upper() != "ON":
                return ("MariaDB/MySQL replicates asynchronously (semi-synchronous replication is off): "
                        "a committed lease may be lost with this site")
            return None
        return "SQLite is not replicated by the database: with send-lease-updates false the partner gets nothing"

    result: str | None = await store.read(probe)
    return result
