"""Kea's stat_cmds hook: `stat-lease4-get` and `stat-lease6-get`.

One row per configured subnet in the selection (all, one `subnet-id`, or a `subnet-range`),
ordered by subnet id. The lease counts come from the lease table (as Kea's lease manager query
does: leases in the default state are assigned, declined ones declined, expired leases
included; v6 counts IA_NA addresses and IA_PD prefixes only, a declined prefix nowhere). The
totals are the family's `subnet[ID].total-*` statistics, so `statistic-reset`/`-remove` move
them as they move Kea's. The `cumulative-assigned-*` columns count allocations by a DHCP
server's allocation engine; leasesync allocates nothing, so they are 0, as Kea's are for
leases that only lease commands made.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, TypeGuard

from app.commands import stats
from app.commands.context import CommandContext
from app.commands.registry import DAEMON, registry
from app.errors import RESULT_EMPTY, RESULT_SUCCESS, CommandError, answer

COLUMNS4 = ["subnet-id", "total-addresses", "cumulative-assigned-addresses", "assigned-addresses",
            "declined-addresses"]
COLUMNS6 = ["subnet-id", "total-nas", "cumulative-assigned-nas", "assigned-nas", "declined-nas",
            "total-pds", "cumulative-assigned-pds", "assigned-pds"]

_SUBNET_ID_MASK = 0xFFFFFFFF  # Kea's SubnetID is 32 bits: a larger positive id wraps


@dataclass(frozen=True)
class Selection:
    """Which subnets a stat-leaseX-get asks for: first = last = 0 means all."""

    first: int = 0
    last: int = 0
    single: bool = False

    @property
    def text(self) -> str:
        if self.single:
            return f"[subnet-id={self.first}]"
        if self.first == 0 and self.last == 0:
            return "[all subnets]"
        return f"[subnets {self.first} through {self.last}]"

    @property
    def range(self) -> bool:
        return not self.single and (self.first, self.last) != (0, 0)


def _is_integer(value: Any) -> TypeGuard[int]:
    return isinstance(value, int) and not isinstance(value, bool)


def parse_selection(ctx: CommandContext) -> Selection:
    """Kea's checks, in Kea's order; the first that fails answers."""
    if not ctx.has_arguments:
        return Selection()
    args = ctx.arguments
    if not isinstance(args, dict):
        raise CommandError("'arguments' parameter is not a map")
    selection = Selection()
    if "subnet-id" in args:
        value = args["subnet-id"]
        if not _is_integer(value):
            raise CommandError("'subnet-id' parameter is not integer")
        if value <= 0:
            raise CommandError("'subnet-id' parameter must be > 0")
        selection = Selection(value & _SUBNET_ID_MASK, 0, single=True)
    if "subnet-range" in args:
        if selection.single:
            raise CommandError("cannot specify both subnet-id and subnet-range")
        bounds = args["subnet-range"]
        if not isinstance(bounds, dict):
            raise CommandError("subnet-range parameter is not a map")
        ids = []
        for name in ("first-subnet-id", "last-subnet-id"):
            value = bounds.get(name)
            if not _is_integer(value):
                raise CommandError(f"'{name}' parameter missing or not an integer")
            if value <= 0:
                raise CommandError(f"'{name}' parameter must be > 0")
            ids.append(value & _SUBNET_ID_MASK)
        first, last = ids
        if last < first:
            raise CommandError("'last-subnet-id' must be greater than 'first-subnet-id'")
        selection = Selection(first, last)
    return selection


async def _stat_lease_get(ctx: CommandContext, v: int) -> dict[str, Any]:
    assert ctx.family is not None, "stat-leaseX-get is always routed to a family"
    family = ctx.family
    selection = parse_selection(ctx)
    name = f"stat-lease{v}-get{selection.text}"
    ids = sorted(family.config.subnets)
    if selection.single:
        ids = [i for i in ids if i == selection.first]
        if not ids:
            raise CommandError(f"{name}: no matching data, subnet-id: {selection.first} does not exist",
                               RESULT_EMPTY, {})
    elif selection.range:
        ids = [i for i in ids if selection.first <= i <= selection.last]
    if not ids:
        raise CommandError(f"{name}: no matching data, selected ID range: {selection.first} through "
                           f"{selection.last} includes no known subnets", RESULT_EMPTY, {})
    # Kea's lease manager checks the range only once it is known to hold a subnet: a first id
    # that wrapped to 0, then a one-subnet range
    if selection.range and selection.first == 0:
        raise CommandError("LeaseStatsQuery: first_subnet_id_ must be > 0")
    if selection.range and selection.first == selection.last:
        raise CommandError("LeaseStatsQuery: last_subnet_id_must be > first_subnet_id_")
    counted = await stats.ready(family)
    wanted = set(ids)
    # (subnet, column) -> count, from the lease table
    counts: dict[tuple[int, str], int] = {}
    for subnet_id, lease_type, state, count in await family.store.stats(v):
        if subnet_id not in wanted:
            continue
        if v == 4 or lease_type == stats.TYPE_NA:
            column = {stats.STATE_DEFAULT: "assigned", stats.STATE_DECLINED: "declined"}.get(state)
        else:
            column = "assigned-pds" if lease_type == stats.TYPE_PD and state == stats.STATE_DEFAULT else None
        if column is not None:
            counts[(subnet_id, column)] = counts.get((subnet_id, column), 0) + count

    def total(subnet_id: int, suffix: str) -> int:
        statistic = counted.stats.get(f"subnet[{subnet_id}].{suffix}")
        return statistic.value if statistic is not None else 0

    rows: list[list[int]] = []
    for subnet_id in ids:
        assigned, declined = counts.get((subnet_id, "assigned"), 0), counts.get((subnet_id, "declined"), 0)
        if v == 4:
            rows.append([subnet_id, total(subnet_id, "total-addresses"), 0, assigned, declined])
        else:
            rows.append([subnet_id, total(subnet_id, "total-nas"), 0, assigned, declined,
                         total(subnet_id, "total-pds"), 0, counts.get((subnet_id, "assigned-pds"), 0)])
    result_set = {
        "columns": COLUMNS4 if v == 4 else COLUMNS6,
        "rows": rows,
        # Kea stamps the result set in UTC (its statistics' samples are in local time)
        "timestamp": datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S.%f"),
    }
    return answer(RESULT_SUCCESS, f"{name}: {len(rows)} rows found", {"result-set": result_set})


@registry.command("stat-lease4-get", where=DAEMON, family=4,
                  summary="Lease counts and pool sizes of IPv4 subnets (all, one subnet-id, or a subnet-range).")
async def stat_lease4_get(ctx: CommandContext) -> dict[str, Any]:
    return await _stat_lease_get(ctx, 4)


@registry.command("stat-lease6-get", where=DAEMON, family=6,
                  summary="Lease counts and pool sizes of IPv6 subnets (all, one subnet-id, or a subnet-range).")
async def stat_lease6_get(ctx: CommandContext) -> dict[str, Any]:
    return await _stat_lease_get(ctx, 6)
