"""Kea's reclamation of expired leases: the `leases-reclaim` work and its periodic timers.

Kea reclaims expired leases on timers set by each family's `expired-leases-processing`
(`reclaim-timer-wait-time`, `max-reclaim-leases`, `max-reclaim-time`, `hold-reclaimed-time`,
`flush-reclaimed-timer-wait-time`, `unwarned-reclaim-cycles`). leasesync runs the same timers for
a family whose lease database only it writes: no `control-sockets` entry for the family (then
the local Kea reclaims, with its DNS removals and its own statistics) and no `capture-changes`
(a local Kea writes the same tables). Reclaiming leases behind a Kea's back would cost it the DNS
removals and statistics of the leases it no longer finds expired.

* reclaim: every `reclaim-timer-wait-time` seconds after the previous run ended, up to
  `max-reclaim-leases` leases (0: no limit, in chunks) for up to `max-reclaim-time` ms (0: no
  limit); with `hold-reclaimed-time` 0 the leases are deleted instead of kept as
  expired-reclaimed. When leases are still left after `unwarned-reclaim-cycles` full runs in a
  row, a warning says so, as Kea's does.
* flush: every `flush-reclaimed-timer-wait-time` seconds, the expired-reclaimed leases whose
  expiry is more than `hold-reclaimed-time` seconds ago are deleted.

A wait time of 0 turns its timer off, as in Kea. Settings are read at every run, so a
config-reload applies at the next one. Reclamation is never sent to HA partners.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from app.commands import stats
from app.errors import StoreRejected, StoreUnavailable
from app.runtime import FamilyRuntime, Runtime
from app.store.repository import FlushReclaimed, ReclaimExpired

log = logging.getLogger("leasesync.reclaim")

_CHUNK = 500  # leases per transaction when max-reclaim-leases is 0 (no limit)


@dataclass(frozen=True)
class ReclaimSettings:
    """A family's `expired-leases-processing`, with Kea's defaults."""

    reclaim_wait: float = 10.0
    flush_wait: float = 25.0
    hold_reclaimed: int = 3600
    max_leases: int = 100
    max_time: float = 0.25  # seconds
    unwarned_cycles: int = 5

    @classmethod
    def of(cls, family: FamilyRuntime) -> ReclaimSettings:
        raw = family.config.raw.get("expired-leases-processing")
        raw = raw if isinstance(raw, dict) else {}

        def number(key: str, default: int) -> int:
            value = raw.get(key, default)
            return value if isinstance(value, int) and not isinstance(value, bool) and value >= 0 else default

        return cls(reclaim_wait=float(number("reclaim-timer-wait-time", 10)),
                   flush_wait=float(number("flush-reclaimed-timer-wait-time", 25)),
                   hold_reclaimed=number("hold-reclaimed-time", 3600), max_leases=number("max-reclaim-leases", 100),
                   max_time=number("max-reclaim-time", 250) / 1000, unwarned_cycles=number("unwarned-reclaim-cycles", 5))


async def reclaim_expired(runtime: Runtime, family: FamilyRuntime, remove: bool, limit: int = 0) -> int:
    """Reclaim the family's expired leases (at most `limit`, 0: all) in one transaction, move the
    statistics as Kea does; the number reclaimed."""
    counted = await stats.ready(family)
    reclaimed = await family.store.write(ReclaimExpired(family.family, int(time.time()), remove, limit))
    now = time.time()
    for lease, removed in reclaimed:
        counted.reclaimed(lease, removed, now)
    if reclaimed and runtime.metrics is not None:
        runtime.metrics.reclaimed.labels(str(family.family)).inc(len(reclaimed))
    return len(reclaimed)


async def reclaim_all(runtime: Runtime, family: FamilyRuntime, remove: bool) -> int:
    """`leases-reclaim`: every expired lease, a chunk per transaction, so that a long backlog
    neither holds the database's write lock for its whole length nor runs past `query-timeout`
    (Kea reclaims lease by lease too); the number reclaimed."""
    total = 0
    while True:
        done = await reclaim_expired(runtime, family, remove, _CHUNK)
        total += done
        if done < _CHUNK:
            return total


async def flush_reclaimed(runtime: Runtime, family: FamilyRuntime, hold: int) -> int:
    """Delete the expired-reclaimed leases that expired more than `hold` seconds ago."""
    counted = await stats.ready(family)
    flushed = await family.store.write(FlushReclaimed(family.family, int(time.time()) - hold))
    for address in flushed:
        counted.forget(address)
    if flushed and runtime.metrics is not None:
        runtime.metrics.flushed.labels(str(family.family)).inc(len(flushed))
    return len(flushed)


class LeaseReclaimer:
    """The reclaim and flush timers of one family (a runtime service: start/stop)."""

    def __init__(self, runtime: Runtime, family: int, clock: Callable[[], float] = time.monotonic) -> None:
        self.runtime = runtime
        self.family = family
        self.clock = clock
        self.reclaimed = 0  # leases reclaimed by the timers since start
        self.failures = 0
        self.run_done = asyncio.Event()  # set after every reclaim run (tests wait on it)
        self._unfinished_runs = 0
        self._failing: set[str] = set()  # timers whose last run failed
        self._tasks: list[asyncio.Task[None]] = []

    @property
    def runtime_family(self) -> FamilyRuntime:
        return self.runtime.families[self.family]

    def owns_reclamation(self) -> bool:
        """Whether leasesync alone writes this family's leases (see the module docstring)."""
        forwarder = self.runtime.forwarder
        if forwarder is not None and forwarder.has(f"dhcp{self.family}"):
            return False
        return not self.runtime_family.config.lease_database.capture_changes

    async def start(self) -> None:
        self._tasks = [asyncio.create_task(self._timer("reclaim", lambda s: s.reclaim_wait, self.reclaim_run),
                                           name=f"leasesync-reclaim{self.family}"),
                       asyncio.create_task(self._timer("flush", lambda s: s.flush_wait, self.flush_run),
                                           name=f"leasesync-flush{self.family}")]

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            try:
                await task
            except asyncio.CancelledError:
                pass
        self._tasks.clear()

    async def _timer(self, what: str, wait_of: Callable[[ReclaimSettings], float],
                     run: Callable[[ReclaimSettings], Any]) -> None:
        """Wait, run, repeat: the next wait starts when a run has ended, as Kea's timers do. A wait
        of 0 (off) is looked at again every 10 s, so that a config-reload can turn it on."""
        while True:
            settings = ReclaimSettings.of(self.runtime_family)
            wait = wait_of(settings)
            await asyncio.sleep(wait if wait > 0 else 10.0)
            if wait > 0 and self.owns_reclamation():
                await self.run_once(what, run)

    async def run_once(self, what: str, run: Callable[[ReclaimSettings], Any]) -> None:
        """One timer run with the current settings; a failure is logged and counted, and the
        next run tries again (nothing was changed: a run is one transaction per chunk)."""
        name = "reclamation" if what == "reclaim" else "flush"
        try:
            await run(ReclaimSettings.of(self.runtime_family))
        except Exception as exc:  # noqa: BLE001 - a timer must outlive one bad run; the next one retries
            self.failures += 1
            if self.runtime.metrics is not None:
                self.runtime.metrics.reclaim_failures.labels(str(self.family)).inc()
            # once per failure streak at warning (a read-only replica would fail every run), then debug
            level = logging.DEBUG if what in self._failing else logging.WARNING
            self._failing.add(what)
            detail = str(exc) if isinstance(exc, StoreUnavailable) else f"{type(exc).__name__}: {exc}"
            log.log(level, "%s of expired DHCPv%d leases failed: %s; retrying at every run", name, self.family, detail,
                    exc_info=not isinstance(exc, StoreUnavailable | StoreRejected))
            return
        if what in self._failing:
            self._failing.discard(what)
            log.info("%s of expired DHCPv%d leases works again", name, self.family)

    async def reclaim_run(self, settings: ReclaimSettings) -> int:
        """One run of the reclaim timer; the number of leases reclaimed."""
        family = self.runtime_family
        remove = settings.hold_reclaimed == 0
        started = self.clock()
        total = 0
        left = settings.max_leases if settings.max_leases > 0 else None
        try:
            while left is None or left > 0:
                chunk = min(left, _CHUNK) if left is not None else _CHUNK
                done = await reclaim_expired(self.runtime, family, remove, chunk)
                total += done
                if left is not None:
                    left -= done
                if done < chunk or (settings.max_time > 0 and self.clock() - started >= settings.max_time):
                    break
            more = done == chunk
            self._unfinished_runs = self._unfinished_runs + 1 if more else 0
            if more and settings.unwarned_cycles and self._unfinished_runs >= settings.unwarned_cycles:
                log.warning("expired DHCPv%d leases are still left after %d reclamation runs in a row; consider "
                            "raising max-reclaim-leases or max-reclaim-time", self.family, self._unfinished_runs)
                self._unfinished_runs = 0
            if total:
                log.info("reclaimed %d expired DHCPv%d lease(s)%s", total, self.family, " (removed)" if remove else "")
            self.reclaimed += total
            return total
        finally:
            self.run_done.set()

    async def flush_run(self, settings: ReclaimSettings) -> int:
        """One run of the flush timer; the number of expired-reclaimed leases deleted."""
        flushed = await flush_reclaimed(self.runtime, self.runtime_family, settings.hold_reclaimed)
        if flushed:
            log.info("flushed %d expired-reclaimed DHCPv%d lease(s)", flushed, self.family)
        return flushed


def attach_reclaimers(runtime: Runtime) -> list[LeaseReclaimer]:
    """One LeaseReclaimer per served family; each decides at every run whether it owns reclamation."""
    reclaimers = [LeaseReclaimer(runtime, family) for family in sorted(runtime.families)]
    for reclaimer in reclaimers:
        reclaimer.runtime_family.reclaims = reclaimer.owns_reclamation()
    runtime.services.extend(reclaimers)
    runtime.reclaimers = {r.family: r for r in reclaimers}
    return reclaimers
