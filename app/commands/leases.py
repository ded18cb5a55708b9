"""Kea's lease_cmds: lease4-*/lease6-* commands with Kea 2.2's arguments, texts and codes.

Every change is committed through the store's group commit before the answer is built, and
then handed to the family's listeners (HA) as a committed change.
"""

from __future__ import annotations

import ipaddress
import time
from typing import Any, TypeVar

from app.commands import stats
from app.commands.context import CommandContext
from app.commands.lease_parse import (
    LeaseQuery,
    address_text,
    get_uint,
    parse_address,
    parse_client_id,
    parse_duid,
    parse_hwaddr,
    parse_lease4,
    parse_lease6,
    parse_query,
)
from app.commands.registry import DAEMON, registry
from app.errors import (
    NOT_A_MAP_CONTAINS,
    NOT_A_MAP_GET,
    RESULT_EMPTY,
    RESULT_ERROR,
    RESULT_SUCCESS,
    CommandError,
    answer,
    not_a_map,
)
from app.runtime import FamilyRuntime, LeaseChange
from app.store.leases import LEASE6_TYPE_NAMES, Lease4, Lease6, hex_colon, storage_refusal
from app.store.repository import AddLease, BulkApply, DeleteLease, UpdateLease, WipeLeases, WriteOp

UINT32_MAX = 0xFFFFFFFF


def _family(ctx: CommandContext) -> FamilyRuntime:
    assert ctx.family is not None, "lease commands are always routed to a family"
    return ctx.family


def _kea(lease: Lease4 | Lease6) -> dict[str, Any]:
    out = lease.to_kea()
    if isinstance(lease, Lease4) and "hw-address" not in out:
        out["hw-address"] = ""  # a v4 lease always has a (possibly empty) hardware address in Kea
    return out


def _found(leases: list[Lease4] | list[Lease6], v: int, extra: dict[str, Any] | None = None) -> dict[str, Any]:
    arguments: dict[str, Any] = {"leases": [_kea(lease) for lease in leases]}
    if extra:
        arguments.update(extra)
    return answer(RESULT_SUCCESS if leases else RESULT_EMPTY, f"{len(leases)} IPv{v} lease(s) found.", arguments)


def _added_text(lease: Lease4 | Lease6) -> str:
    if isinstance(lease, Lease6) and lease.type != 0:
        return f"Lease for prefix {lease.address}/{lease.prefix_len}, subnet-id {lease.subnet_id} added."
    return f"Lease for address {lease.ip}, subnet-id {lease.subnet_id} added."


# --- add / update -----------------------------------------------------------------------------

_Op = TypeVar("_Op", bound=WriteOp)


def _journaled(ctx: CommandContext, family: FamilyRuntime, op: _Op) -> _Op:
    """`op` with the token under which it journals its changes for the HA peers, when this
    change is to be sent to them (FamilyRuntime.handoff_token)."""
    op.handoff = family.handoff_token(ctx.origin.from_partner)
    return op


async def _add(ctx: CommandContext, v: int) -> dict[str, Any]:
    family = _family(ctx)
    if not ctx.has_arguments:
        raise CommandError("no parameters specified for the command")
    if not isinstance(ctx.arguments, dict):
        raise not_a_map(NOT_A_MAP_GET)
    parsed = parse_lease4(ctx.arguments, family.config) if v == 4 else parse_lease6(ctx.arguments, family.config)
    lease = parsed.lease
    counts = await stats.ready(family)
    op = _journaled(ctx, family, AddLease(lease))
    if not await family.store.write(op):
        raise CommandError(f"IPv{v} lease already exists.")
    counts.added(lease, time.time())
    await family.committed([LeaseChange("update", lease)], ctx.origin.from_partner, op.handoff)
    return answer(RESULT_SUCCESS, _added_text(lease))


async def _update(ctx: CommandContext, v: int) -> dict[str, Any]:
    family = _family(ctx)
    if not ctx.has_arguments:
        raise CommandError(f"no parameters specified for lease{v}-update command")
    if not isinstance(ctx.arguments, dict):
        raise not_a_map(NOT_A_MAP_GET)
    parsed = parse_lease4(ctx.arguments, family.config) if v == 4 else parse_lease6(ctx.arguments, family.config)
    lease = parsed.lease
    counts = await stats.ready(family)
    # Kea replaces only a lease of the same type at the address (it looks up (type, address)):
    # another type is "failed to update", or with force-create an add that finds the address taken
    op = _journaled(ctx, family, UpdateLease(lease, force_create=parsed.force_create, replace_other_type=False))
    outcome = await family.store.write(op)
    if outcome == "exists":
        raise CommandError(f"IPv{v} lease already exists.")
    if outcome is None:
        raise CommandError(
            f"failed to update the lease with address {lease.ip} either because the lease has been deleted or it "
            "has changed in the database, in both cases a retry might succeed"
        )
    counts.stored(lease, outcome, time.time())
    await family.committed([LeaseChange("update", lease)], ctx.origin.from_partner, op.handoff)
    return answer(RESULT_SUCCESS, f"IPv{v} lease {'added' if outcome == 'added' else 'updated'}.")


@registry.command("lease4-add", where=DAEMON, family=4, mutates=True, summary="Add an IPv4 lease.")
async def lease4_add(ctx: CommandContext) -> dict[str, Any]:
    return await _add(ctx, 4)


@registry.command("lease6-add", where=DAEMON, family=6, mutates=True, summary="Add an IPv6 lease (address or prefix).")
async def lease6_add(ctx: CommandContext) -> dict[str, Any]:
    return await _add(ctx, 6)


@registry.command("lease4-update", where=DAEMON, family=4, mutates=True, ha_peer=True,
                  summary="Replace an IPv4 lease (full replacement); force-create adds it when absent.")
async def lease4_update(ctx: CommandContext) -> dict[str, Any]:
    return await _update(ctx, 4)


@registry.command("lease6-update", where=DAEMON, family=6, mutates=True, ha_peer=True,
                  summary="Replace an IPv6 lease (full replacement); force-create adds it when absent.")
async def lease6_update(ctx: CommandContext) -> dict[str, Any]:
    return await _update(ctx, 6)


# --- get / del --------------------------------------------------------------------------------

async def _lookup(family: FamilyRuntime, query: LeaseQuery, v: int, verb: str = "Query") -> Lease4 | Lease6 | None:
    """Kea's leaseX-get / leaseX-del lookup; `verb` is "Query" (get) or "Delete" (del) in the texts."""
    store = family.store
    if v == 4:
        if query.kind == "address":
            return await store.get4(int(query.address))
        if query.kind == "duid":
            raise CommandError(f"{verb} by duid is not allowed in v4.")
        column = "hwaddr" if query.kind == "hw-address" else "client_id"
        found = await store.get4_by(column, query.identifier, query.subnet_id)
        return found[0] if found else None
    if query.kind == "address":
        if query.lease_type == 3:
            return None
        return await store.get6(str(query.address), query.lease_type)
    if query.kind == "hw-address":
        raise CommandError(f"{verb} by hw-address is not allowed in v6.")
    if query.kind == "client-id":
        # Kea's lease6-del has no case for it and names the query type's number (client-id is 3)
        raise CommandError("Unknown query type: 3" if verb == "Delete" else f"{verb} by client-id is not allowed in v6.")
    found6 = await store.get6_by_duid(query.identifier, query.iaid, query.subnet_id, query.lease_type)
    if len(found6) > 1:
        # Kea's lease manager looks up one lease by (type, DUID, IAID, subnet) and refuses to pick one
        raise CommandError(f"More than one lease found for type {query.lease_type}, duid {hex_colon(query.identifier)}, "
                           f"iaid {query.iaid} and subnet-id {query.subnet_id}")
    return found6[0] if found6 else None


async def _get(ctx: CommandContext, v: int) -> dict[str, Any]:
    family = _family(ctx)
    query = parse_query(ctx.arguments if ctx.has_arguments else None, v6=v == 6)
    lease = await _lookup(family, query, v)
    if lease is None:
        return answer(RESULT_EMPTY, "Lease not found.")
    return answer(RESULT_SUCCESS, f"IPv{v} lease found.", _kea(lease))


async def _del(ctx: CommandContext, v: int) -> dict[str, Any]:
    family = _family(ctx)
    query = parse_query(ctx.arguments if ctx.has_arguments else None, v6=v == 6)
    lease = await _lookup(family, query, v, "Delete")
    if lease is None:
        return answer(RESULT_EMPTY, f"IPv{v} lease not found.")
    key: int | str = lease.address
    counts = await stats.ready(family)
    op = _journaled(ctx, family, DeleteLease(v, key, lease.type if isinstance(lease, Lease6) else None))
    deleted = await family.store.write(op)
    if deleted is None:
        return answer(RESULT_EMPTY, f"IPv{v} lease not found.")
    counts.deleted(deleted, time.time())
    await family.committed([LeaseChange("delete", deleted)], ctx.origin.from_partner, op.handoff)
    return answer(RESULT_SUCCESS, f"IPv{v} lease deleted.")


@registry.command("lease4-get", where=DAEMON, family=4, summary="Get an IPv4 lease by address or identifier.")
async def lease4_get(ctx: CommandContext) -> dict[str, Any]:
    return await _get(ctx, 4)


@registry.command("lease6-get", where=DAEMON, family=6, ha_peer=True,
                  summary="Get an IPv6 lease by address (and type) or DUID/IAID.")
async def lease6_get(ctx: CommandContext) -> dict[str, Any]:
    return await _get(ctx, 6)


@registry.command("lease4-del", where=DAEMON, family=4, mutates=True, ha_peer=True, summary="Delete an IPv4 lease.")
async def lease4_del(ctx: CommandContext) -> dict[str, Any]:
    return await _del(ctx, 4)


@registry.command("lease6-del", where=DAEMON, family=6, mutates=True, ha_peer=True, summary="Delete an IPv6 lease.")
async def lease6_del(ctx: CommandContext) -> dict[str, Any]:
    return await _del(ctx, 6)


# --- lists ------------------------------------------------------------------------------------

async def _get_all(ctx: CommandContext, v: int) -> dict[str, Any]:
    family = _family(ctx)
    subnet_ids: list[int] | None = None
    if ctx.has_arguments:
        args = ctx.arguments
        if not isinstance(args, dict):
            raise not_a_map(NOT_A_MAP_GET)
        if "subnets" not in args:
            raise CommandError("'subnets' parameter not specified")
        if not isinstance(args["subnets"], list):
            raise CommandError("'subnets' parameter must be a list")
        subnet_ids = []
        for sid in args["subnets"]:
            if isinstance(sid, bool) or not isinstance(sid, int):
                raise CommandError("listed subnet identifiers must be numbers")
            subnet_ids.append(sid)
    leases = await (family.store.all4(subnet_ids) if v == 4 else family.store.all6(subnet_ids))
    return _found(leases, v)


@registry.command("lease4-get-all", where=DAEMON, family=4, summary="All IPv4 leases, or those of the given subnets.")
async def lease4_get_all(ctx: CommandContext) -> dict[str, Any]:
    return await _get_all(ctx, 4)


@registry.command("lease6-get-all", where=DAEMON, family=6, summary="All IPv6 leases, or those of the given subnets.")
async def lease6_get_all(ctx: CommandContext) -> dict[str, Any]:
    return await _get_all(ctx, 6)


async def _get_page(ctx: CommandContext, v: int) -> dict[str, Any]:
    family = _family(ctx)
    if not ctx.has_arguments:
        raise CommandError(f"no parameters specified for the lease{v}-get-page command")
    args = ctx.arguments
    if not isinstance(args, dict):
        raise not_a_map(NOT_A_MAP_GET)
    if "from" not in args:
        raise CommandError("'from' parameter not specified")
    # Kea checks 'from' through (type, then value) before it looks for 'limit'
    start = args["from"]
    if not isinstance(start, str):
        raise CommandError("'from' parameter must be a string")
    if start == "start":
        after_address: Any = ipaddress.ip_address("0.0.0.0" if v == 4 else "::")
    else:
        try:
            after_address = parse_address(start)
        except CommandError:
            raise CommandError(
                f"'from' parameter value is neither 'start' keyword nor a valid IPv{v} address") from None
    if after_address.version != v:
        raise CommandError(f"'from' parameter value {address_text(after_address)} is not an IPv{v} address")
    if "limit" not in args:
        raise CommandError("'limit' parameter not specified")
    limit = args["limit"]
    if isinstance(limit, bool) or not isinstance(limit, int):
        raise CommandError("'limit' parameter must be a number")
    if limit == 0:
        raise CommandError("page size of retrieved leases must not be 0")
    if limit < 0 or limit > UINT32_MAX:
        raise CommandError(f"page size of retrieved leases must not be greater than {UINT32_MAX}")
    limit = min(limit, ctx.runtime.config.agent.max_page_limit)
    after = int(after_address)
    leases = await (family.store.page4(after, limit) if v == 4 else family.store.page6(after, limit))
    return _found(leases, v, {"count": len(leases)})


@registry.command("lease4-get-page", where=DAEMON, family=4, ha_peer=True,
                  summary="A page of IPv4 leases after `from`, in address order (HA sync).")
async def lease4_get_page(ctx: CommandContext) -> dict[str, Any]:
    return await _get_page(ctx, 4)


@registry.command("lease6-get-page", where=DAEMON, family=6, ha_peer=True,
                  summary="A page of IPv6 leases after `from`, in address order (HA sync).")
async def lease6_get_page(ctx: CommandContext) -> dict[str, Any]:
    return await _get_page(ctx, 6)


def _by_args(ctx: CommandContext, name: str) -> str:
    args = ctx.arguments
    if not ctx.has_arguments or not isinstance(args, dict):
        raise CommandError("Command arguments missing or a not a map.")
    if name not in args:
        raise CommandError(f"'{name}' parameter not specified")
    value = args[name]
    if not isinstance(value, str):
        raise CommandError(f"'{name}' parameter must be a string")
    return value


@registry.command("lease4-get-by-hw-address", where=DAEMON, family=4, summary="IPv4 leases with a hardware address.")
async def lease4_get_by_hw_address(ctx: CommandContext) -> dict[str, Any]:
    hwaddr = parse_hwaddr(_by_args(ctx, "hw-address"))
    return _found(await _family(ctx).store.get4_by("hwaddr", hwaddr), 4)


@registry.command("lease4-get-by-client-id", where=DAEMON, family=4, summary="IPv4 leases with a client identifier.")
async def lease4_get_by_client_id(ctx: CommandContext) -> dict[str, Any]:
    client_id = parse_client_id(_by_args(ctx, "client-id"))
    return _found(await _family(ctx).store.get4_by("client_id", client_id), 4)


@registry.command("lease6-get-by-duid", where=DAEMON, family=6, summary="IPv6 leases with a DUID.")
async def lease6_get_by_duid(ctx: CommandContext) -> dict[str, Any]:
    duid = parse_duid(_by_args(ctx, "duid"))
    return _found(await _family(ctx).store.get6_by_duid(duid), 6)


async def _by_hostname(ctx: CommandContext, v: int) -> dict[str, Any]:
    hostname = _by_args(ctx, "hostname")
    if not hostname:
        raise CommandError("'hostname' parameter is empty")
    store = _family(ctx).store
    leases = await (store.get4_by_hostname(hostname) if v == 4 else store.get6_by_hostname(hostname))
    return _found(leases, v)


@registry.command("lease4-get-by-hostname", where=DAEMON, family=4, summary="IPv4 leases with a hostname (any case).")
async def lease4_get_by_hostname(ctx: CommandContext) -> dict[str, Any]:
    return await _by_hostname(ctx, 4)


@registry.command("lease6-get-by-hostname", where=DAEMON, family=6, summary="IPv6 leases with a hostname (any case).")
async def lease6_get_by_hostname(ctx: CommandContext) -> dict[str, Any]:
    return await _by_hostname(ctx, 6)


# --- wipe / resend-ddns -------------------------------------------------------------------------

async def _wipe(ctx: CommandContext, v: int) -> dict[str, Any]:
    family = _family(ctx)
    subnet_id = 0
    if ctx.has_arguments:
        args = ctx.arguments
        if not isinstance(args, dict):
            raise not_a_map(NOT_A_MAP_CONTAINS)
        if "subnet-id" in args:
            subnet_id = get_uint(args, "subnet-id")
    ids = [subnet_id] if subnet_id else sorted(family.config.subnets)
    counts = await stats.ready(family)
    op = _journaled(ctx, family, WipeLeases(v, ids))
    deleted = await family.store.write(op)
    counts.wiped(subnet_id, deleted, time.time())
    await family.committed([LeaseChange("delete", lease) for lease in deleted], ctx.origin.from_partner, op.handoff)
    text = f"Deleted {len(deleted)} IPv{v} lease(s) from subnet(s)" + "".join(f" {i}" for i in ids)
    return answer(RESULT_SUCCESS if deleted else RESULT_EMPTY, text)


@registry.command("lease4-wipe", where=DAEMON, family=4, mutates=True, summary="Delete all IPv4 leases of a subnet (or all).")
async def lease4_wipe(ctx: CommandContext) -> dict[str, Any]:
    return await _wipe(ctx, 4)


@registry.command("lease6-wipe", where=DAEMON, family=6, mutates=True, summary="Delete all IPv6 leases of a subnet (or all).")
async def lease6_wipe(ctx: CommandContext) -> dict[str, Any]:
    return await _wipe(ctx, 6)


async def _resend_ddns(ctx: CommandContext, v: int) -> dict[str, Any]:
    # Without arguments kea-dhcp4 2.2 crashes; leasesync answers as for an empty map.
    args = ctx.arguments if ctx.has_arguments else {}
    if not isinstance(args, dict):
        raise not_a_map(NOT_A_MAP_GET)
    if "ip-address" not in args:
        raise CommandError("'ip-address' parameter is missing.")
    text = args["ip-address"]
    if not isinstance(text, str):
        raise CommandError("'ip-address' is not a string.")
    try:
        address = parse_address(text)
    except CommandError:
        raise CommandError(f"'{text}' is not a valid IP address.") from None
    if address.version != v:
        raise CommandError(f"Invalid IPv{v} address specified: {text}")
    family = _family(ctx)
    if not family.config.ddns_enabled:
        raise CommandError("DDNS updating is not enabled")
    lease = await (family.store.get4(int(address)) if v == 4 else family.store.get6(str(address), 0))
    if lease is None:
        return answer(RESULT_EMPTY, f"No lease found for: {address_text(address)}")
    if not lease.hostname:
        raise CommandError(f"Lease for: {address_text(address)}, has no hostname, nothing to update")
    if not lease.fqdn_fwd and not lease.fqdn_rev:
        raise CommandError(f"Neither forward nor reverse updates enabled for lease for: {address_text(address)}")
    # leasesync has no DHCP-DDNS client: the local Kea daemon (same lease database) queues the
    # NameChangeRequest when its control socket is configured.
    service = ctx.service or f"dhcp{v}"
    forwarder = ctx.runtime.forwarder
    if forwarder is not None and forwarder.has(service):
        return await forwarder.forward(service, {"command": ctx.command, "service": [service], "arguments": args})
    raise CommandError(
        f"NCR not generated for: {address}, hostname: {lease.hostname}: leasesync has no DHCP-DDNS client and "
        f"no control socket for {service} is configured to send it"
    )


@registry.command("lease4-resend-ddns", where=DAEMON, family=4, summary="Queue a DNS update for an IPv4 lease.")
async def lease4_resend_ddns(ctx: CommandContext) -> dict[str, Any]:
    return await _resend_ddns(ctx, 4)


@registry.command("lease6-resend-ddns", where=DAEMON, family=6, summary="Queue a DNS update for an IPv6 lease.")
async def lease6_resend_ddns(ctx: CommandContext) -> dict[str, Any]:
    return await _resend_ddns(ctx, 6)


# --- bulk apply ---------------------------------------------------------------------------------

def _failed(address: str, lease_type: str, result: int, message: str) -> dict[str, Any]:
    if address == "::":  # Kea names no address it takes for unset (the v6 zero address)
        return {"error-message": message, "result": result, "type": lease_type}
    return {"error-message": message, "ip-address": address, "result": result, "type": lease_type}


async def _bulk_apply(ctx: CommandContext, v: int) -> dict[str, Any]:
    family = _family(ctx)
    args = ctx.arguments
    if not ctx.has_arguments or not isinstance(args, dict):
        raise CommandError("Command arguments missing or a not a map.")
    deleted = args.get("deleted-leases")
    leases = args.get("leases")
    if "deleted-leases" not in args and "leases" not in args:
        raise CommandError("neither 'deleted-leases' nor 'leases' parameter specified")
    # each present key must be a list (null too), 'deleted-leases' checked first, as Kea does
    if "deleted-leases" in args and not isinstance(deleted, list):
        raise CommandError("the 'deleted-leases' parameter must be a list")
    if "leases" in args and not isinstance(leases, list):
        raise CommandError("the 'leases' parameter must be a list")
    limit = ctx.runtime.config.agent.max_bulk_leases
    if len(deleted or []) + len(leases or []) > limit:
        raise CommandError(f"too many leases in one lease{v}-bulk-apply: at most {limit} (max-bulk-leases)")
    # Parse everything first: one malformed entry rejects the whole command, changing nothing.
    queries = [parse_query(entry, v6=v == 6) for entry in deleted or []]
    parsed = [
        (parse_lease4(entry, family.config) if v == 4 else parse_lease6(entry, family.config)).lease
        if isinstance(entry, dict) else _not_a_map(leases or [], index)
        for index, entry in enumerate(leases or [])
    ]
    by_address = [query for query in queries if query.kind == "address"]
    deletes = [DeleteLease(v, int(q.address) if v == 4 else str(q.address), q.lease_type if v == 6 else None)
               for q in by_address]
    # A lease named by identifier (DUID + IAID + subnet; v4: hw-address or client-id) is looked up
    # as leaseX-del looks it up, errors included; one that is not there is skipped without a
    # failed-deleted-leases entry, as Kea does. These deletes follow those by address.
    for query in queries:
        if query.kind != "address":
            found = await _lookup(family, query, v, "Delete")
            if found is not None:
                deletes.append(DeleteLease(v, found.address, found.type if isinstance(found, Lease6) else None))
    # a lease the database's columns cannot hold fails alone, as an exception of Kea's SQL
    # backends fails only that lease; the others are applied
    refusals = [storage_refusal(lease, family.store.dialect) for lease in parsed]
    storable = [lease for lease, refusal in zip(parsed, refusals, strict=True) if refusal is None]
    ops = _journaled(ctx, family, BulkApply(deletes=deletes,
                                            upserts=[UpdateLease(lease, force_create=True) for lease in storable]))
    counts = await stats.ready(family)
    delete_outcomes, upsert_outcomes = await family.store.write(ops)
    now = time.time()
    changes: list[LeaseChange] = []
    failed_deleted: list[dict[str, Any]] = []
    failed_leases: list[dict[str, Any]] = []
    for i, outcome in enumerate(delete_outcomes):
        if outcome is not None:
            counts.deleted(outcome, now)
            changes.append(LeaseChange("delete", outcome))
        elif i < len(by_address):
            query = by_address[i]
            type_name = LEASE6_TYPE_NAMES[query.lease_type] if v == 6 and query.lease_type < 3 else "V4"
            failed_deleted.append(_failed(str(query.address), type_name, RESULT_EMPTY, "lease not found"))
        # else: a lease found by identifier and gone since the lookup, as if it had not been found
    outcomes = iter(upsert_outcomes)
    for lease, refusal in zip(parsed, refusals, strict=True):
        outcome = next(outcomes) if refusal is None else None
        if outcome is None:
            type_name = lease.type_name if isinstance(lease, Lease6) else "V4"
            failed_leases.append(_failed(lease.ip, type_name, RESULT_ERROR, refusal or "lease could not be stored"))
        else:
            counts.stored(lease, outcome, now)
            changes.append(LeaseChange("update", lease))
    await family.committed(changes, ctx.origin.from_partner, ops.handoff)
    extra: dict[str, Any] | None = None
    if failed_deleted or failed_leases:
        extra = {}
        if failed_deleted:
            extra["failed-deleted-leases"] = failed_deleted
        if failed_leases:
            extra["failed-leases"] = failed_leases
    count = len(changes)
    return answer(RESULT_SUCCESS if count else RESULT_EMPTY, f"Bulk apply of {count} IPv{v} leases completed.", extra)


def _not_a_map(entries: list[Any], index: int) -> Any:
    raise not_a_map(NOT_A_MAP_GET, entries, index)


@registry.command("lease6-bulk-apply", where=DAEMON, family=6, mutates=True, ha_peer=True,
                  summary="Delete and add/update many IPv6 leases in one command (HA lease updates).")
async def lease6_bulk_apply(ctx: CommandContext) -> dict[str, Any]:
    return await _bulk_apply(ctx, 6)


@registry.command("lease4-bulk-apply", where=DAEMON, family=4, mutates=True, ha_peer=True,
                  summary="leasesync extension: lease6-bulk-apply's shape for IPv4 leases.")
async def lease4_bulk_apply(ctx: CommandContext) -> dict[str, Any]:
    return await _bulk_apply(ctx, 4)
