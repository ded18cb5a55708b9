"""Kea's statistics commands (statistic-get, -get-all, -reset, -remove, -reset-all, -remove-all,
-sample-count-set[-all], -sample-age-set[-all]) for each family.

leasesync is not a DHCP server, so it has no packet counters: the statistics are the lease and
pool ones Kea derives from its lease database and configuration, with Kea's names:

* v4: `subnet[ID].total-addresses`, `subnet[ID].assigned-addresses`, `subnet[ID].declined-addresses`
  and the global `declined-addresses`;
* v6: `subnet[ID].total-nas`, `subnet[ID].assigned-nas`, `subnet[ID].total-pds`,
  `subnet[ID].assigned-pds`, `subnet[ID].declined-addresses` and the global `declined-addresses`.

Values are counted from the store each time they are read (Kea's `recountLeaseStats`: a declined
address counts as assigned too; expired-reclaimed leases count as neither; IA_TA leases are not
counted) and pool capacities come from the configuration, saturating and wrapping to int64 as
Kea 2.2 does (a /64 pool reads -1). Samples are `[value, "YYYY-MM-DD HH:MM:SS.ffffff"]`, newest
first; a new sample is taken when a read sees a value different from the last one.

Kea's statistics count changes since start-up, a reset or a removal; leasesync keeps, per family
and per running service, the raw count at the last reset/removal and reports the difference, so
`statistic-reset` sets a value to 0 and later lease changes move it from there, and a removed
statistic stays absent until its value next changes. A `config-reload` recounts everything, as
Kea's reconfiguration does.

When a `control-sockets` entry points at the family's Kea daemon, the names leasesync does not
count (pkt4-received, v4-allocation-fail...) are Kea's: statistic-get/-reset/-remove of such a
name is forwarded, statistic-get-all merges Kea's answer with the lease statistics counted here,
and the *-all commands are applied on both sides.
"""

from __future__ import annotations

import time
import weakref
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from app.commands.context import CommandContext
from app.commands.registry import DAEMON, registry
from app.config import FamilyConfig
from app.errors import RESULT_SUCCESS, CommandError, answer
from app.runtime import FamilyRuntime, Runtime

UINT64_MAX = (1 << 64) - 1
DEFAULT_MAX_SAMPLES = 20  # Kea's statistic-default-sample-count

# lease states (Kea's Lease::STATE_*)
STATE_DEFAULT = 0
STATE_DECLINED = 1
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


def compute(config: FamilyConfig, rows: list[tuple[int, int, int, int]]) -> dict[str, int]:
    """Kea's lease statistics for one family from the configuration and the store's counts."""
    values: dict[str, int] = {"declined-addresses": 0}
    v4 = config.family == 4
    for subnet in config.subnets.values():
        prefix = f"subnet[{subnet.id}]."
        if v4:
            values[prefix + "total-addresses"] = total_addresses(subnet.pools)
            values[prefix + "assigned-addresses"] = 0
        else:
            values[prefix + "total-nas"] = total_addresses(subnet.pools)
            values[prefix + "assigned-nas"] = 0
            values[prefix + "total-pds"] = total_prefixes(subnet.pd_pools)
            values[prefix + "assigned-pds"] = 0
        values[prefix + "declined-addresses"] = 0

    def add(name: str, count: int) -> None:
        values[name] = values.get(name, 0) + count

    for subnet_id, lease_type, state, count in rows:
        prefix = f"subnet[{subnet_id}]."
        if v4 or lease_type == TYPE_NA:
            assigned = prefix + ("assigned-addresses" if v4 else "assigned-nas")
            if state == STATE_DEFAULT:
                add(assigned, count)
            elif state == STATE_DECLINED:
                add(assigned, count)
                add(prefix + "declined-addresses", count)
                add("declined-addresses", count)
        elif lease_type == TYPE_PD and state == STATE_DEFAULT:
            add(prefix + "assigned-pds", count)
    return values


def timestamp(now: float) -> str:
    return datetime.fromtimestamp(now).strftime("%Y-%m-%d %H:%M:%S.%f")


@dataclass
class Statistic:
    samples: list[tuple[int, float]] = field(default_factory=list)  # newest first
    max_samples: int = DEFAULT_MAX_SAMPLES
    max_age: float = 0.0  # seconds; used when max_samples is 0, as Kea

    def record(self, value: int, now: float) -> None:
        if self.samples and self.samples[0][0] == value:
            return
        self.samples.insert(0, (value, now))
        self.trim(now)

    def trim(self, now: float) -> None:
        if self.max_samples > 0:
            del self.samples[self.max_samples:]
        elif self.max_age > 0:
            keep = [s for s in self.samples if now - s[1] <= self.max_age]
            self.samples[:] = keep or self.samples[:1]

    def render(self) -> list[list[Any]]:
        return [[value, timestamp(at)] for value, at in self.samples]


@dataclass
class FamilyStats:
    """What a running service remembers about one family's statistics."""

    epoch: float  # runtime.reloaded when this state was built
    default_max_samples: int = DEFAULT_MAX_SAMPLES
    default_max_age: float = 0.0
    stats: dict[str, Statistic] = field(default_factory=dict)
    # raw count at the last reset/removal, subtracted from the raw count
    baseline: dict[str, int] = field(default_factory=dict)
    # removed statistics: the raw count at removal; hidden until the raw count differs
    removed: dict[str, int] = field(default_factory=dict)

    def observe(self, raw: dict[str, int], now: float) -> None:
        for name, value in raw.items():
            if name in self.removed:
                if self.removed[name] == value:
                    continue
                del self.removed[name]
            stat = self.stats.get(name)
            if stat is None:
                stat = self.stats[name] = Statistic(max_samples=self.default_max_samples, max_age=self.default_max_age)
            stat.record(value - self.baseline.get(name, 0), now)

    def reset(self, name: str, raw: dict[str, int], now: float) -> None:
        self.baseline[name] = raw.get(name, 0)
        self.stats[name].samples[:] = [(0, now)]

    def remove(self, name: str, raw: dict[str, int]) -> None:
        self.baseline[name] = raw.get(name, 0)
        self.removed[name] = raw.get(name, 0)
        del self.stats[name]


_state: weakref.WeakKeyDictionary[Runtime, dict[int, FamilyStats]] = weakref.WeakKeyDictionary()


def recounted(runtime: Runtime, family: int) -> None:
    """After leaseX-wipe Kea recounts the family's lease statistics (assigned, declined) from the
    lease database: they are absolute counts again, so a reset's or a removal's baseline no
    longer applies (and a removed one is back). Pool capacities are not recounted."""
    state = _state.get(runtime, {}).get(family)
    if state is None:
        return
    for name in [n for n in {*state.baseline, *state.removed} if "assigned" in n or "declined" in n]:
        state.baseline.pop(name, None)
        state.removed.pop(name, None)


def _sample_defaults(config: FamilyConfig) -> tuple[int, float]:
    count = config.raw.get("statistic-default-sample-count", DEFAULT_MAX_SAMPLES)
    age = config.raw.get("statistic-default-sample-age", 0)
    count = count if isinstance(count, int) and not isinstance(count, bool) and count >= 0 else DEFAULT_MAX_SAMPLES
    age = age if isinstance(age, int | float) and not isinstance(age, bool) and age >= 0 else 0
    return count, float(age)


def _lease_statistic_names(state: FamilyStats) -> list[str]:
    return [*state.stats, *state.removed]


def _family_state(runtime: Runtime, family: FamilyRuntime) -> FamilyStats:
    per_runtime = _state.setdefault(runtime, {})
    state = per_runtime.get(family.family)
    if state is None or state.epoch != runtime.reloaded:
        count, age = _sample_defaults(family.config)
        fresh = FamilyStats(epoch=runtime.reloaded, default_max_samples=count, default_max_age=age)
        if state is not None:  # a reload recounts; sample histories carry on, as in Kea
            fresh.stats = state.stats
        per_runtime[family.family] = state = fresh
    return state


async def _snapshot(ctx: CommandContext) -> tuple[FamilyStats, dict[str, int], float]:
    assert ctx.family is not None, "statistics commands are routed to a family"
    family = ctx.family
    rows = await family.store.stats(family.family) if hasattr(family.store, "stats") else []
    raw = compute(family.config, rows)
    state = _family_state(ctx.runtime, family)
    now = time.time()
    state.observe(raw, now)
    return state, raw, now


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
        raise CommandError("Error during command processing: get(string) called on a non-map Element in")
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
            raise CommandError("Error during command processing: intValue() called on non-integer Element in")
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
    state, _, _ = await _snapshot(ctx)
    stat = state.stats.get(name)
    if stat is None:
        forwarded = await _forward(ctx)
        if forwarded is not None:
            return forwarded
    return answer(RESULT_SUCCESS, arguments={name: stat.render()} if stat is not None else {})


@registry.command("statistic-get-all", where=DAEMON,
                  summary="Every lease and pool statistic of the family with its samples.")
async def statistic_get_all(ctx: CommandContext) -> dict[str, Any]:
    state, _, _ = await _snapshot(ctx)
    ours = {name: stat.render() for name, stat in sorted(state.stats.items())}
    forwarded = await _forward(ctx)
    if forwarded is not None and forwarded.get("result") == RESULT_SUCCESS and isinstance(forwarded.get("arguments"), dict):
        # Kea's own statistics, with the lease statistics counted from the store in place of Kea's
        lease_names = set(_lease_statistic_names(state))
        merged = {k: v for k, v in forwarded["arguments"].items() if k not in lease_names}
        merged.update(ours)
        return answer(RESULT_SUCCESS, arguments=dict(sorted(merged.items())))
    return answer(RESULT_SUCCESS, arguments=ours)


@registry.command("statistic-reset", where=DAEMON, mutates=True, arguments=_ARG_NAME,
                  summary="Set a statistic to 0; later lease changes move it from there.")
async def statistic_reset(ctx: CommandContext) -> dict[str, Any]:
    name = _name(ctx)
    state, raw, now = await _snapshot(ctx)
    if name not in state.stats:
        return await _unknown_statistic(ctx, name)
    state.reset(name, raw, now)
    return answer(RESULT_SUCCESS, f"Statistic '{name}' reset.")


@registry.command("statistic-remove", where=DAEMON, mutates=True, arguments=_ARG_NAME,
                  summary="Remove a statistic until its value next changes.")
async def statistic_remove(ctx: CommandContext) -> dict[str, Any]:
    name = _name(ctx)
    state, raw, _ = await _snapshot(ctx)
    if name not in state.stats:
        return await _unknown_statistic(ctx, name)
    state.remove(name, raw)
    return answer(RESULT_SUCCESS, f"Statistic '{name}' removed.")


@registry.command("statistic-reset-all", where=DAEMON, mutates=True, summary="Set every statistic to 0.")
async def statistic_reset_all(ctx: CommandContext) -> dict[str, Any]:
    state, raw, now = await _snapshot(ctx)
    for name in list(state.stats):
        state.reset(name, raw, now)
    return await _also_at_kea(ctx, "All statistics reset to neutral values.")


@registry.command("statistic-remove-all", where=DAEMON, mutates=True,
                  summary="Remove every statistic until its value next changes (deprecated in Kea).")
async def statistic_remove_all(ctx: CommandContext) -> dict[str, Any]:
    state, raw, _ = await _snapshot(ctx)
    for name in list(state.stats):
        state.remove(name, raw)
    return await _also_at_kea(ctx, "Warning: statistic-remove-all command is deprecated. All statistics removed.")


@registry.command("statistic-sample-count-set", where=DAEMON, mutates=True,
                  arguments={**_ARG_NAME, "max-samples": "samples to keep (integer)"},
                  summary="Keep at most max-samples samples of one statistic.")
async def statistic_sample_count_set(ctx: CommandContext) -> dict[str, Any]:
    name = _name(ctx)
    count = _int_argument(ctx, "max-samples")
    state, _, now = await _snapshot(ctx)
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
    state, _, now = await _snapshot(ctx)
    state.default_max_samples = _sample_count(count)
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
    state, _, now = await _snapshot(ctx)
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
    state, _, now = await _snapshot(ctx)
    state.default_max_age, state.default_max_samples = float(duration), 0
    for stat in state.stats.values():
        stat.max_age, stat.max_samples = float(duration), 0
        stat.trim(now)
    return await _also_at_kea(ctx, "All statistics duration limit are set.")
