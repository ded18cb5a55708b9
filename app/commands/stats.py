"""Kea's statistics commands (statistic-get, -get-all, -reset, -remove, -reset-all, -remove-all,
-sample-count-set[-all], -sample-age-set[-all]) for each family.

leasesync is not a DHCP server, so it has no packet counters: the statistics are the lease and
pool ones Kea derives from its lease database and configuration, with Kea's names:

* v4: `subnet[ID].total-addresses`, `subnet[ID].assigned-addresses`, `subnet[ID].declined-addresses`
  and the global `declined-addresses`;
* v6: `subnet[ID].total-nas`, `subnet[ID].assigned-nas`, `subnet[ID].total-pds`,
  `subnet[ID].assigned-pds`, `subnet[ID].declined-addresses` and the global `declined-addresses`;
* where leasesync reclaims the family's expired leases (app/reclaim.py), also Kea's
  `reclaimed-leases`, `reclaimed-declined-addresses` and `cumulative-assigned-*`, global and per
  subnet (the cumulative ones stay 0: leasesync allocates nothing). Beside a local Kea these are
  Kea's, answered through its control socket.

They are kept in memory in the main process as Kea's StatsMgr keeps them: a value and its samples
(`[value, "YYYY-MM-DD HH:MM:SS.ffffff"]`, newest first, 20 by default), one sample for every set
or add of the value, even one that leaves it unchanged:

* configuration (the first use after start-up, and config-reload): pool capacities from the
  configuration, saturating and wrapping to int64 as Kea 2.2 does (a /64 pool reads -1), then
  Kea's `recountLeaseStats` of the lease table: every value set to 0, then the counts of default
  and declined leases added (a declined lease counts as assigned too; v6 only IA_NA and IA_PD).
  A config-reload drops the old configuration's subnet statistics (their samples and limits)
  while the global `declined-addresses` carries on;
* lease changes, as Kea 2.2's lease_cmds moves them (`updateStatsOnAdd/Update/Delete`): an add or
  delete moves assigned (unless expired-reclaimed; a v6 lease that is not IA_NA is a prefix) and
  the declined values; an update moves assigned only when the subnet changes or the old lease
  was expired-reclaimed, and takes a declined old lease off the declined values and puts a
  declined new one back; `leaseX-wipe` sets the wiped subnets' values to 0. The store does not
  return the lease an update replaced: the leases not in the default state are remembered
  (`FamilyStats.odd`), so that a change costs dict updates and no query;
* changes made behind leasesync's back: the local Kea's (change capture) move each statistic by
  their net effect at the next use (one recount); an HA sync's do not move them, as in Kea;
* `statistic-reset` sets a value to 0 with that one sample; `statistic-remove` drops it, and the
  next lease change re-creates it with the change alone as its value (`-1` after a delete).

When a `control-sockets` entry points at the family's Kea daemon, the names leasesync does not
count (pkt4-received, v4-allocation-fail...) are Kea's: statistic-get/-reset/-remove of such a
name is forwarded, statistic-get-all merges Kea's answer with the lease statistics counted here,
and the *-all commands are applied on both sides.
"""

from __future__ import annotations

import asyncio
import re
import time
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import select

from app.commands.context import CommandContext
from app.commands.registry import DAEMON, registry
from app.config import FamilyConfig
from app.errors import ARGUMENTS_NOT_A_MAP, NOT_AN_INTEGER, RESULT_SUCCESS, CommandError, answer, not_a_map
from app.runtime import FamilyRuntime
from app.store import schema
from app.store.leases import STATE_DECLINED, STATE_DEFAULT, STATE_RECLAIMED, Lease4, Lease6

UINT64_MAX = (1 << 64) - 1
DEFAULT_MAX_SAMPLES = 20  # Kea's statistic-default-sample-count

# v6 lease types
TYPE_NA = 0
TYPE_PD = 2


def _int64(value: int) -> int:
    """Kea stores uint64 capacities in int64 statistics: saturate at 2^64-1, then wrap."""
    value = min(value, UINT64_MAX)
    return value - (1 << 64) if value >= 1 << 63 else value


def _saturating_sum(values: list[int]) -> int:
    total = 0
    for value in values:
        total = min(total + min(value, UINT64_MAX), UINT64_MAX)
    return total


def total_addresses(pools: tuple[tuple[int, int], ...]) -> int:
    return _int64(_saturating_sum([last - first + 1 for first, last in pools if last >= first]))


def total_prefixes(pd_pools: tuple[tuple[int, int, int], ...]) -> int:
    return _int64(_saturating_sum([
        UINT64_MAX if delegated - length >= 64 else 1 << (delegated - length) for _, length, delegated in pd_pools
    ]))


# the statistics leasesync keeps; the local Kea's (forwarded) of these names are not shown
LEASE_STATISTIC = re.compile(r"^(declined-addresses|subnet\[\d+\]\.(total-addresses|assigned-addresses|declined-addresses|"
                             r"total-nas|assigned-nas|total-pds|assigned-pds))$")


def _assigned_name(v4: bool, subnet_id: int, lease_type: int) -> str:
    # lease_cmds (and the allocation engine) count every v6 lease that is not an IA_NA as a prefix
    if v4:
        return f"subnet[{subnet_id}].assigned-addresses"
    return f"subnet[{subnet_id}].{'assigned-nas' if lease_type == TYPE_NA else 'assigned-pds'}"


def contributions(v4: bool, subnet_id: int, lease_type: int, state: int) -> list[str]:
    """The statistics one lease adds 1 to as lease_cmds counts it: assigned unless
    expired-reclaimed, declined (subnet and global) when declined."""
    if state == STATE_RECLAIMED:
        return []
    names = [_assigned_name(v4, subnet_id, lease_type)]
    if state == STATE_DECLINED:
        names += [f"subnet[{subnet_id}].declined-addresses", "declined-addresses"]
    return names


def raw_counts(v4: bool, rows: list[tuple[int, int, int, int]]) -> dict[str, int]:
    """The store's counts (subnet_id, lease_type, state, count) summed as `contributions` counts."""
    raw: dict[str, int] = {}
    for subnet_id, lease_type, state, count in rows:
        for name in contributions(v4, subnet_id, lease_type, state):
            raw[name] = raw.get(name, 0) + count
    return raw


def timestamp(now: float) -> str:
    return datetime.fromtimestamp(now).strftime("%Y-%m-%d %H:%M:%S.%f")


@dataclass
class Statistic:
    """One of Kea's observations: a value and its samples (newest first); every set or add of the
    value is a sample, even one that leaves it unchanged."""

    value: int = 0
    samples: list[tuple[int, float]] = field(default_factory=list)
    max_samples: int = DEFAULT_MAX_SAMPLES
    max_age: float = 0.0  # seconds; used when max_samples is 0, as Kea

    def record(self, value: int, now: float) -> None:
        self.value = value
        samples = self.samples
        samples.insert(0, (value, now))
        if self.max_samples > 0:  # trim's usual case, inline: a bulk records a sample per lease
            if len(samples) > self.max_samples:
                del samples[self.max_samples:]
        else:
            self.trim(now)

    def trim(self, now: float) -> None:
        if self.max_samples > 0:
            del self.samples[self.max_samples:]
        elif self.max_age > 0:
            keep = [s for s in self.samples if now - s[1] <= self.max_age]
            self.samples[:] = keep or self.samples[:1]

    def render(self) -> list[list[Any]]:
        return [[value, timestamp(at)] for value, at in self.samples]


# what the store changed without telling the statistics lease by lease (FamilyStats.pending)
CAPTURED = 1  # the local Kea's changes (capture): their net effect is added at the next use
REWRITTEN = 2  # an HA sync wrote leases: Kea's statistics do not move for it; only re-learn the store


@dataclass
class FamilyStats:
    """A running service's lease statistics of one family, kept as Kea's StatsMgr keeps them:
    set at configuration (pool capacities, recount of the lease table), moved by every lease
    change as Kea's lease_cmds moves them, reset, removed and re-created as Kea does."""

    config: FamilyConfig  # the configuration they were counted for; another one means config-reload
    default_max_samples: int = DEFAULT_MAX_SAMPLES
    default_max_age: float = 0.0
    stats: dict[str, Statistic] = field(default_factory=dict)
    # the store's counts as the changes seen here left them (`contributions`): what a captured
    # change moved is the difference to a recount
    raw: dict[str, int] = field(default_factory=dict)
    # leases not in the default state: address -> (subnet_id, state, lease type). An update needs
    # the old lease's state (and subnet) and the store does not return it; a lease that is not
    # here is in the default state, in the subnet of its new version.
    odd: dict[Any, tuple[int, int, int]] = field(default_factory=dict)
    pending: int = 0
    # Kea's reclaimed-* and cumulative-* statistics are kept here only where leasesync reclaims
    # (else they are the local Kea's, or nobody's)
    keeps_reclamation: bool = False
    # statistic-default-sample-count/-age as the *-set-all commands left them: Kea's config-get
    # shows these in place of the configured values until the next configuration
    set_defaults: dict[str, int] = field(default_factory=dict)

    @property
    def v4(self) -> bool:
        return self.config.family == 4

    # --- Kea's StatsMgr --------------------------------------------------------------------
    def _stat(self, name: str) -> Statistic:
        stat = self.stats.get(name)
        if stat is None:
            stat = self.stats[name] = Statistic(max_samples=self.default_max_samples, max_age=self.default_max_age)
        return stat

    def set_value(self, name: str, value: int, now: float) -> None:
        self._stat(name).record(value, now)

    def add_value(self, name: str, delta: int, now: float) -> None:
        # a statistic that does not exist (removed) is created with the delta as its value
        stat = self.stats.get(name)
        self._stat(name).record(delta if stat is None else stat.value + delta, now)

    def reset(self, name: str, now: float) -> None:
        stat = self.stats[name]
        stat.samples.clear()
        stat.record(0, now)

    # --- configuration and recount -----------------------------------------------------------
    @property
    def _reclamation_names(self) -> tuple[str, ...]:
        """Kea's reclamation and allocation counters (each global and per subnet), kept where
        leasesync reclaims."""
        cumulative = ("cumulative-assigned-addresses",) if self.v4 else ("cumulative-assigned-nas", "cumulative-assigned-pds")
        return ("reclaimed-leases", "reclaimed-declined-addresses", *cumulative)

    def configure(self, rows: list[tuple[int, int, int, int]], odd: dict[Any, tuple[int, int, int]],
                  now: float) -> None:
        """Kea's configuration: pool capacities of every subnet, then recountLeaseStats. Where
        leasesync reclaims, Kea's reclamation and allocation counters start at 0 too (a global
        one only when it does not exist: a reconfiguration keeps it, as Kea does)."""
        if self.keeps_reclamation:
            for name in self._reclamation_names:
                if name not in self.stats:
                    self.set_value(name, 0, now)
        for subnet in sorted(self.config.subnets.values(), key=lambda s: s.id):
            prefix = f"subnet[{subnet.id}]."
            if self.v4:
                self.set_value(prefix + "total-addresses", total_addresses(subnet.pools), now)
            else:
                self.set_value(prefix + "total-nas", total_addresses(subnet.pools), now)
                self.set_value(prefix + "total-pds", total_prefixes(subnet.pd_pools), now)
            if self.keeps_reclamation:
                for name in self._reclamation_names:
                    self.set_value(prefix + name, 0, now)
        self.recount(rows, now)
        self.raw = raw_counts(self.v4, rows)
        self.odd = odd
        self.pending = 0

    def recount(self, rows: list[tuple[int, int, int, int]], now: float) -> None:
        """Kea's recountLeaseStats4/6: zero the global and subnet values, then add the counts of
        the lease table by subnet and state (only default and declined; v6 IA_NA and IA_PD)."""
        self.set_value("declined-addresses", 0, now)
        for subnet_id in sorted(self.config.subnets):
            prefix = f"subnet[{subnet_id}]."
            self.set_value(prefix + ("assigned-addresses" if self.v4 else "assigned-nas"), 0, now)
            self.set_value(prefix + "declined-addresses", 0, now)
            if not self.v4:
                self.set_value(prefix + "assigned-pds", 0, now)
        for subnet_id, lease_type, state, count in sorted(rows):
            if count <= 0:
                continue
            prefix = f"subnet[{subnet_id}]."
            if self.v4 or lease_type == TYPE_NA:
                assigned = prefix + ("assigned-addresses" if self.v4 else "assigned-nas")
                if state == STATE_DEFAULT:
                    self.add_value(assigned, count, now)
                elif state == STATE_DECLINED:
                    self.set_value(prefix + "declined-addresses", count, now)
                    self.add_value("declined-addresses", count, now)
                    self.add_value(assigned, count, now)
            elif lease_type == TYPE_PD and state == STATE_DEFAULT:
                self.set_value(prefix + "assigned-pds", count, now)

    def reconfigure(self, config: FamilyConfig, rows: list[tuple[int, int, int, int]],
                    odd: dict[Any, tuple[int, int, int]], now: float) -> None:
        """config-reload: Kea removes the old configuration's subnet statistics, then configures
        the new one (the global declined-addresses keeps its samples)."""
        suffixes: tuple[str, ...] = ("total-addresses", "assigned-addresses") if self.v4 else \
            ("total-nas", "assigned-nas", "total-pds", "assigned-pds")
        if self.keeps_reclamation:
            suffixes += self._reclamation_names
        for subnet_id in self.config.subnets:
            for suffix in (*suffixes, "declined-addresses"):
                self.stats.pop(f"subnet[{subnet_id}].{suffix}", None)
        self.config = config
        self.default_max_samples, self.default_max_age = _sample_defaults(config)
        self.set_defaults.clear()
        self.configure(rows, odd, now)

    def resync(self, rows: list[tuple[int, int, int, int]], odd: dict[Any, tuple[int, int, int]],
               now: float) -> None:
        """After changes made behind leasesync's back: captured ones (the local Kea's) move each
        statistic by their net effect; an HA sync's do not move them (as in Kea)."""
        fresh = raw_counts(self.v4, rows)
        if self.pending & CAPTURED and not self.pending & REWRITTEN:
            for name in sorted({*fresh, *self.raw}):
                delta = fresh.get(name, 0) - self.raw.get(name, 0)
                if delta:
                    self.add_value(name, delta, now)
        self.raw = fresh
        self.odd = odd
        self.pending = 0

    # --- lease changes, as lease_cmds counts them ---------------------------------------------
    def _count(self, names: list[str], delta: int) -> None:
        """The store's counts (`raw`) follow every lease exactly, whatever Kea's values do."""
        for name in names:
            self.raw[name] = self.raw.get(name, 0) + delta

    def _move(self, names: list[str], delta: int, now: float) -> None:
        self._count(names, delta)
        for name in names:
            self.add_value(name, delta, now)

    def _remember(self, key: Any, lease: Lease4 | Lease6 | None) -> None:
        if lease is None or lease.state == STATE_DEFAULT:
            self.odd.pop(key, None)
        else:
            self.odd[key] = (lease.subnet_id, lease.state, _lease_type(lease))

    def added(self, lease: Lease4 | Lease6, now: float) -> None:
        if lease.state == STATE_DEFAULT:  # the usual lease: it adds 1 to its assigned value only
            name = _assigned_name(self.v4, lease.subnet_id, _lease_type(lease))
            self.raw[name] = self.raw.get(name, 0) + 1
            self.add_value(name, 1, now)
            self.odd.pop(lease.address, None)
            return
        self._move(contributions(self.v4, lease.subnet_id, _lease_type(lease), lease.state), 1, now)
        self._remember(lease.address, lease)

    def deleted(self, lease: Lease4 | Lease6, now: float) -> None:
        self._move(contributions(self.v4, lease.subnet_id, _lease_type(lease), lease.state), -1, now)
        self._remember(lease.address, None)

    def reclaimed(self, lease: Lease4 | Lease6, removed: bool, now: float) -> None:
        """Kea's reclamation of one expired lease (as it was before): the assigned value of its
        type loses it (v4, IA_NA, IA_PD; an IA_TA none, although lease_cmds counted it as a
        prefix), a declined lease leaves the declined values; where leasesync reclaims, Kea's
        reclaimed-leases (and reclaimed-declined-addresses) count it, globally and in its subnet."""
        kind = _lease_type(lease)
        self._count(contributions(self.v4, lease.subnet_id, kind, lease.state), -1)
        if removed:
            self._remember(lease.address, None)
        else:  # an expired-reclaimed lease counts nowhere
            self.odd[lease.address] = (lease.subnet_id, STATE_RECLAIMED, kind)
        if self.v4 or kind in (TYPE_NA, TYPE_PD):
            self.add_value(_assigned_name(self.v4, lease.subnet_id, kind), -1, now)
        if lease.state == STATE_DECLINED:
            self.add_value(f"subnet[{lease.subnet_id}].declined-addresses", -1, now)
            self.add_value("declined-addresses", -1, now)
        if self.keeps_reclamation:
            counters = ["reclaimed-leases"] + (["reclaimed-declined-addresses"] if lease.state == STATE_DECLINED else [])
            for name in counters:
                self.add_value(name, 1, now)
                self.add_value(f"subnet[{lease.subnet_id}].{name}", 1, now)

    def forget(self, address: Any) -> None:
        """A lease that counted nowhere (expired-reclaimed) was deleted: no value moves."""
        self.odd.pop(address, None)

    def stored(self, lease: Lease4 | Lease6, outcome: str, now: float) -> None:
        """An update or force-create update the store answered with `outcome` ("added" or "updated")."""
        (self.added if outcome == "added" else self.updated)(lease, now)

    def updated(self, lease: Lease4 | Lease6, now: float) -> None:
        """Kea's updateStatsOnUpdate(existing, lease): the assigned value moves only when the
        subnet changes or the old lease was expired-reclaimed; a declined old lease is taken off
        the declined values and a declined new one put back (two samples each)."""
        if lease.state == STATE_DEFAULT and lease.address not in self.odd:
            # a lease in the default state replaced by another in the default state, in the same
            # subnet (what `odd` does not hold is so): no value moves and no sample is taken
            return
        kind = _lease_type(lease)
        old_subnet, old_state, old_type = self.odd.get(lease.address, (lease.subnet_id, STATE_DEFAULT, kind))
        self._count(contributions(self.v4, old_subnet, old_type, old_state), -1)
        self._count(contributions(self.v4, lease.subnet_id, kind, lease.state), 1)
        self._remember(lease.address, lease)
        # Kea's values follow lease_cmds (the assigned name is the new lease's type)
        old_assigned = _assigned_name(self.v4, old_subnet, kind)
        new_assigned = _assigned_name(self.v4, lease.subnet_id, kind)
        declined = ["declined-addresses"]
        if old_state != STATE_RECLAIMED:
            if old_subnet != lease.subnet_id:
                self.add_value(old_assigned, -1, now)
            if old_state == STATE_DECLINED:
                for name in [*declined, f"subnet[{old_subnet}].declined-addresses"]:
                    self.add_value(name, -1, now)
            if lease.state != STATE_RECLAIMED:
                if old_subnet != lease.subnet_id:
                    self.add_value(new_assigned, 1, now)
                if lease.state == STATE_DECLINED:
                    for name in [*declined, f"subnet[{lease.subnet_id}].declined-addresses"]:
                        self.add_value(name, 1, now)
        elif lease.state != STATE_RECLAIMED:
            self.add_value(new_assigned, 1, now)
            if lease.state == STATE_DECLINED:
                for name in [*declined, f"subnet[{lease.subnet_id}].declined-addresses"]:
                    self.add_value(name, 1, now)

    def wiped(self, subnet_id: int, deleted: list[Lease4] | list[Lease6], now: float) -> None:
        """leaseX-wipe: Kea sets the wiped subnets' values to 0 (one subnet: the global declined
        value loses what the subnet's declined value was; every subnet: it is set to 0)."""
        for lease in deleted:
            self._count(contributions(self.v4, lease.subnet_id, _lease_type(lease), lease.state), -1)
            self.odd.pop(lease.address, None)
        names = ["assigned-addresses"] if self.v4 else ["assigned-nas", "assigned-pds"]
        if subnet_id:
            declined = self.stats.get(f"subnet[{subnet_id}].declined-addresses")
            previous = declined.value if declined is not None else 0
            for name in names:
                self.set_value(f"subnet[{subnet_id}].{name}", 0, now)
            self.set_value(f"subnet[{subnet_id}].declined-addresses", 0, now)
            self.add_value("declined-addresses", -previous, now)
            return
        for sid in self.config.subnets:
            for name in [*names, "declined-addresses"]:
                self.set_value(f"subnet[{sid}].{name}", 0, now)
        self.set_value("declined-addresses", 0, now)


def _lease_type(lease: Lease4 | Lease6) -> int:
    return lease.type if isinstance(lease, Lease6) else TYPE_NA


def _sample_defaults(config: FamilyConfig) -> tuple[int, float]:
    count = config.raw.get("statistic-default-sample-count", DEFAULT_MAX_SAMPLES)
    age = config.raw.get("statistic-default-sample-age", 0)
    count = count if isinstance(count, int) and not isinstance(count, bool) and count >= 0 else DEFAULT_MAX_SAMPLES
    age = age if isinstance(age, int | float) and not isinstance(age, bool) and age >= 0 else 0
    return count, float(age)


# --- the family's state ---------------------------------------------------------------------------

@dataclass
class _Holder:
    """FamilyRuntime.stats: the family's statistics once counted, and the lock of counting them."""

    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    state: FamilyStats | None = None


def _holder(family: FamilyRuntime) -> _Holder:
    holder = family.stats
    if holder is None:
        holder = family.stats = _Holder()
    return holder  # type: ignore[no-any-return]


async def _read_store(family: FamilyRuntime) -> tuple[list[tuple[int, int, int, int]], dict[Any, tuple[int, int, int]]]:
    """The lease table's counts by (subnet, type, state) and its leases not in the default state."""
    store = family.store
    if not hasattr(store, "stats") or not hasattr(store, "read"):
        return [], {}
    rows = await store.stats(family.family)
    v4 = family.family == 4
    table = schema.lease4 if v4 else schema.lease6

    def run(conn: Any, _dialect: str) -> dict[Any, tuple[int, int, int]]:
        kind = table.c.lease_type if not v4 else table.c.state  # v4: a placeholder column
        stmt = select(table.c.address, table.c.subnet_id, table.c.state, kind).where(table.c.state != STATE_DEFAULT)
        return {(int(a) if v4 else a): (int(s or 0), int(st or 0), TYPE_NA if v4 else int(k or 0))
                for a, s, st, k in conn.execute(stmt)}

    odd = await store.read(run)
    return rows, odd


async def ready(family: FamilyRuntime) -> FamilyStats:
    """The family's statistics, up to date: counted from the store when first needed (as Kea
    does at start-up), after a config-reload (Kea's reconfiguration) and after changes made
    behind leasesync's back. O(1) when nothing of that is due."""
    holder = _holder(family)
    state = holder.state
    if state is not None and state.config is family.config and not state.pending:
        return state
    async with holder.lock:
        state = holder.state
        if state is not None and state.config is family.config and not state.pending:
            return state
        rows, odd = await _read_store(family)
        now = time.time()
        if state is None:
            count, age = _sample_defaults(family.config)
            state = FamilyStats(config=family.config, default_max_samples=count, default_max_age=age,
                                keeps_reclamation=family.reclaims)
            state.configure(rows, odd, now)
            holder.state = state
        elif state.config is not family.config:
            state.reconfigure(family.config, rows, odd, now)
        else:
            state.resync(rows, odd, now)
        return state


def counted(family: FamilyRuntime) -> FamilyStats | None:
    """The family's statistics if they have been counted (else a change needs no bookkeeping:
    the first use counts the store)."""
    holder = family.stats
    return holder.state if holder is not None else None  # type: ignore[no-any-return]


def changed_behind(family: FamilyRuntime, how: int) -> None:
    """The store changed without the changes passing here (CAPTURED, REWRITTEN): the next use
    of the statistics re-reads the store."""
    state = counted(family)
    if state is not None:
        state.pending |= how


async def _state(ctx: CommandContext) -> FamilyStats:
    assert ctx.family is not None, "statistics commands are routed to a family"
    return await ready(ctx.family)


def _forwarder(ctx: CommandContext) -> Any:
    """The local Kea daemon's control socket for this family, if configured: Kea's own statistics
    (packet counters, allocation failures...) live there."""
    forwarder = ctx.runtime.forwarder
    if forwarder is None or ctx.service is None or not forwarder.has(ctx.service):
        return None
    return forwarder


async def _forward(ctx: CommandContext) -> dict[str, Any] | None:
    forwarder = _forwarder(ctx)
    if forwarder is None:
        return None
    envelope: dict[str, Any] = {"command": ctx.command, "service": [ctx.service]}
    if ctx.has_arguments:
        envelope["arguments"] = ctx.arguments
    answer_map: dict[str, Any] = await forwarder.forward(ctx.service, envelope)
    return answer_map


async def _unknown_statistic(ctx: CommandContext, name: str) -> dict[str, Any]:
    """A statistic leasesync does not keep: the local Kea's answer when a control socket is
    configured, else Kea's error."""
    forwarded = await _forward(ctx)
    if forwarded is not None:
        return forwarded
    raise CommandError(f"No '{name}' statistic found")


async def _also_at_kea(ctx: CommandContext, text: str) -> dict[str, Any]:
    """After a change applied here: the same command at the local Kea (when forwarding), whose
    failure is the answer; else success with `text`."""
    forwarded = await _forward(ctx)
    if forwarded is not None and forwarded.get("result") != RESULT_SUCCESS:
        return forwarded
    return answer(RESULT_SUCCESS, text)


def _name(ctx: CommandContext) -> str:
    if ctx.has_arguments and not isinstance(ctx.arguments, dict):
        raise not_a_map(ARGUMENTS_NOT_A_MAP)
    args = ctx.args_map or {}
    if "name" not in args:
        raise CommandError("Missing mandatory 'name' parameter.")
    name = args["name"]
    if not isinstance(name, str):
        raise CommandError("'name' parameter expected to be a string.")
    return name


def _int_argument(ctx: CommandContext, key: str) -> int:
    args = ctx.args_map or {}
    if key not in args:
        raise CommandError(f"Missing mandatory '{key}' parameter.")
    value = args[key]
    if isinstance(value, bool) or not isinstance(value, int):
        if key == "duration":
            raise CommandError("Error during command processing: " + NOT_AN_INTEGER, at=(args, key))
        raise CommandError(f"'{key}' parameter expected to be an integer.")
    return value


def _sample_count(count: int) -> int:
    # Kea keeps the limit as uint32: -1 means 4294967295; 0 keeps the newest sample only
    return count if count > 0 else (0xFFFFFFFF if count < 0 else 1)


_ARG_NAME = {"name": "statistic name, e.g. subnet[1].assigned-addresses"}


@registry.command("statistic-get", where=DAEMON, arguments=_ARG_NAME,
                  summary="One statistic's samples, newest first; empty arguments for an unknown name.")
async def statistic_get(ctx: CommandContext) -> dict[str, Any]:
    name = _name(ctx)
    state = await _state(ctx)
    stat = state.stats.get(name)
    if stat is None:
        forwarded = await _forward(ctx)
        if forwarded is not None:
            return forwarded
    return answer(RESULT_SUCCESS, arguments={name: stat.render()} if stat is not None else {})


@registry.command("statistic-get-all", where=DAEMON,
                  summary="Every lease and pool statistic of the family with its samples.")
async def statistic_get_all(ctx: CommandContext) -> dict[str, Any]:
    state = await _state(ctx)
    ours = {name: stat.render() for name, stat in sorted(state.stats.items())}
    forwarded = await _forward(ctx)
    if forwarded is not None and forwarded.get("result") == RESULT_SUCCESS and isinstance(forwarded.get("arguments"), dict):
        # Kea's own statistics, with the lease statistics counted from the store in place of Kea's
        merged = {k: v for k, v in forwarded["arguments"].items() if not LEASE_STATISTIC.match(k)}
        merged.update(ours)
        return answer(RESULT_SUCCESS, arguments=dict(sorted(merged.items())))
    return answer(RESULT_SUCCESS, arguments=ours)


@registry.command("statistic-reset", where=DAEMON, mutates=True, arguments=_ARG_NAME,
                  summary="Set a statistic to 0; later lease changes move it from there.")
async def statistic_reset(ctx: CommandContext) -> dict[str, Any]:
    name = _name(ctx)
    state = await _state(ctx)
    if name not in state.stats:
        return await _unknown_statistic(ctx, name)
    state.reset(name, time.time())
    return answer(RESULT_SUCCESS, f"Statistic '{name}' reset.")


@registry.command("statistic-remove", where=DAEMON, mutates=True, arguments=_ARG_NAME,
                  summary="Remove a statistic until its value next changes.")
async def statistic_remove(ctx: CommandContext) -> dict[str, Any]:
    name = _name(ctx)
    state = await _state(ctx)
    if name not in state.stats:
        return await _unknown_statistic(ctx, name)
    del state.stats[name]
    return answer(RESULT_SUCCESS, f"Statistic '{name}' removed.")


@registry.command("statistic-reset-all", where=DAEMON, mutates=True, summary="Set every statistic to 0.")
async def statistic_reset_all(ctx: CommandContext) -> dict[str, Any]:
    state = await _state(ctx)
    now = time.time()
    for name in list(state.stats):
        state.reset(name, now)
    return await _also_at_kea(ctx, "All statistics reset to neutral values.")


@registry.command("statistic-remove-all", where=DAEMON, mutates=True,
                  summary="Remove every statistic until its value next changes (deprecated in Kea).")
async def statistic_remove_all(ctx: CommandContext) -> dict[str, Any]:
    state = await _state(ctx)
    state.stats.clear()
    return await _also_at_kea(ctx, "Warning: statistic-remove-all command is deprecated. All statistics removed.")


@registry.command("statistic-sample-count-set", where=DAEMON, mutates=True,
                  arguments={**_ARG_NAME, "max-samples": "samples to keep (integer)"},
                  summary="Keep at most max-samples samples of one statistic.")
async def statistic_sample_count_set(ctx: CommandContext) -> dict[str, Any]:
    name = _name(ctx)
    count = _int_argument(ctx, "max-samples")
    state, now = await _state(ctx), time.time()
    stat = state.stats.get(name)
    if stat is None:
        return await _unknown_statistic(ctx, name)
    stat.max_samples = _sample_count(count)
    stat.trim(now)
    return answer(RESULT_SUCCESS, f"Statistic '{name}' count limit is set.")


@registry.command("statistic-sample-count-set-all", where=DAEMON, mutates=True,
                  arguments={"max-samples": "samples to keep (integer)"},
                  summary="Keep at most max-samples samples of every statistic.")
async def statistic_sample_count_set_all(ctx: CommandContext) -> dict[str, Any]:
    count = _int_argument(ctx, "max-samples")
    if count % 2**32 == 0:  # Kea checks the value as the uint32 it keeps: 2^32 is zero there
        raise CommandError("'max-samples' parameter must not be zero")
    state, now = await _state(ctx), time.time()
    state.default_max_samples = _sample_count(count)
    state.set_defaults["statistic-default-sample-count"] = count % 2**32  # as the uint32 Kea keeps
    for stat in state.stats.values():
        stat.max_samples = _sample_count(count)
        stat.trim(now)
    return await _also_at_kea(ctx, "All statistics count limit are set.")


@registry.command("statistic-sample-age-set", where=DAEMON, mutates=True,
                  arguments={**_ARG_NAME, "duration": "seconds of samples to keep (integer)"},
                  summary="Keep only the samples of the last duration seconds of one statistic.")
async def statistic_sample_age_set(ctx: CommandContext) -> dict[str, Any]:
    name = _name(ctx)
    duration = _int_argument(ctx, "duration")
    state, now = await _state(ctx), time.time()
    stat = state.stats.get(name)
    if stat is None:
        return await _unknown_statistic(ctx, name)
    stat.max_age, stat.max_samples = float(duration), 0
    stat.trim(now)
    return answer(RESULT_SUCCESS, f"Statistic '{name}' duration limit is set.")


@registry.command("statistic-sample-age-set-all", where=DAEMON, mutates=True,
                  arguments={"duration": "seconds of samples to keep (integer)"},
                  summary="Keep only the samples of the last duration seconds of every statistic.")
async def statistic_sample_age_set_all(ctx: CommandContext) -> dict[str, Any]:
    duration = _int_argument(ctx, "duration")
    state, now = await _state(ctx), time.time()
    state.default_max_age, state.default_max_samples = float(duration), 0
    state.set_defaults["statistic-default-sample-age"] = duration
    for stat in state.stats.values():
        stat.max_age, stat.max_samples = float(duration), 0
        stat.trim(now)
    return await _also_at_kea(ctx, "All statistics duration limit are set.")
