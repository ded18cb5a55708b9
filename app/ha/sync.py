"""Lease database synchronisation from the partner (Kea HA §6.2), as the syncing client.

Before every page the partner's DHCP service is disabled (`dhcp-disable`, origin ha-partner,
max-period = sync-timeout), pages are walked with `leaseX-get-page` from "start" to a short
page, each page is applied locally in one transaction (a local lease is replaced only by a
newer one), and `ha-sync-complete-notify` re-enables the partner (or `dhcp-enable` when the
partner does not know that command, or when the sync failed).
"""

from __future__ import annotations

import ipaddress
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from app.ha.peer_client import PeerClient, PeerError
from app.store.leases import LEASE6_TYPE_CODES, Lease4, Lease6, ascii_lower, storage_refusal
from app.store.sync_ops import ApplyIfNewer

log = logging.getLogger("leasesync.ha.sync")

_REQUIRED4 = ("cltt", "subnet-id", "hw-address", "valid-lft", "fqdn-fwd", "fqdn-rev", "hostname")
_REQUIRED6 = (
    "cltt",
    "subnet-id",
    "duid",
    "iaid",
    "valid-lft",
    "preferred-lft",
    "fqdn-fwd",
    "fqdn-rev",
    "hostname",
)


@dataclass
class SyncResult:
    ok: bool
    pages: int = 0
    received: int = 0
    stored: int = 0
    stale: int = 0
    skipped: int = 0
    seconds: float = 0.0
    error: str = ""


def _hex(text: Any) -> bytes | None:
    if not isinstance(text, str) or not text:
        return None
    return bytes(int(part, 16) for part in text.split(":"))


def lease_from_page(item: Any, family: int) -> Lease4 | Lease6:
    """A lease map of Kea's get-page answer → lease value; raises ValueError naming the field."""
    if not isinstance(item, dict):
        raise ValueError("lease is not a map")
    for key in _REQUIRED4 if family == 4 else _REQUIRED6:
        if key not in item:
            raise ValueError(f"{key} is not present in the parsed lease")
    context = item.get("user-context")
    state = int(item.get("state", 0))
    if family == 4:
        return Lease4(
            address=int(ipaddress.IPv4Address(item["ip-address"])),
            hwaddr=_hex(item["hw-address"]),
            client_id=_hex(item.get("client-id")),
            valid_lft=int(item["valid-lft"]),
            cltt=int(item["cltt"]),
            subnet_id=int(item["subnet-id"]),
            fqdn_fwd=bool(item["fqdn-fwd"]),
            fqdn_rev=bool(item["fqdn-rev"]),
            hostname=ascii_lower(str(item["hostname"])),
            state=state,
            user_context=context if isinstance(context, dict) else None,
        )
    lease_type = LEASE6_TYPE_CODES.get(item.get("type", "IA_NA"), 0)
    hwaddr = _hex(item.get("hw-address"))
    return Lease6(
        address=str(ipaddress.IPv6Address(item["ip-address"])),
        duid=_hex(item["duid"]) or b"",
        iaid=int(item["iaid"]),
        type=lease_type,
        prefix_len=int(item.get("prefix-len", 128)),
        valid_lft=int(item["valid-lft"]),
        preferred_lft=int(item["preferred-lft"]),
        cltt=int(item["cltt"]),
        subnet_id=int(item["subnet-id"]),
        fqdn_fwd=bool(item["fqdn-fwd"]),
        fqdn_rev=bool(item["fqdn-rev"]),
        hostname=ascii_lower(str(item["hostname"])),
        state=state,
        hwaddr=hwaddr,
        hwtype=1 if hwaddr else 0,
        user_context=context if isinstance(context, dict) else None,
    )


async def sync_from(
    client: PeerClient,
    store: Any,
    family: int,
    *,
    page_limit: int,
    sync_timeout_ms: int,
    max_period: int | None,
    progress: Callable[[SyncResult], None] | None = None,
) -> SyncResult:
    service = [f"dhcp{family}"]
    result = SyncResult(ok=False)
    started = time.monotonic()
    disabled = False
    timeout = max(sync_timeout_ms / 1000.0, 1.0)
    if page_limit <= 0:
        result.error = "'limit' parameter must be greater than 0 (sync-page-limit)"
        return result
    start = "start"
    # a page must end on an address no earlier page ended on: a partner that answers the same
    # page again (a bug, or a lie) would otherwise keep the walk, and its DHCP service, disabled
    # for ever. Compared as text, not by order: Kea's SQL backends order v6 pages by address text.
    page_ends: set[str] = set()
    try:
        while True:
            disable_args: dict[str, Any] = {"origin": "ha-partner"}
            if max_period is not None:
                disable_args["max-period"] = max_period
            await client.send({"command": "dhcp-disable", "service": service, "arguments": disable_args})
            disabled = True
            answer = await client.send(
                {
                    "command": f"lease{family}-get-page",
                    "service": service,
                    "arguments": {"from": start, "limit": page_limit},
                },
                request_timeout=timeout,
            )
            leases = (answer.get("arguments") or {}).get("leases")
            if not isinstance(leases, list):
                raise PeerError("answer", "the partner's page has no 'leases' list")
            result.pages += 1
            result.received += len(leases)
            parsed: list[Lease4 | Lease6] = []
            last_address: str | None = None
            for item in leases:
                if isinstance(item, dict) and isinstance(item.get("ip-address"), str):
                    last_address = item["ip-address"]
                try:
                    lease = lease_from_page(item, family)
                except (ValueError, KeyError, TypeError) as exc:
                    result.skipped += 1
                    log.warning("HA_LEASE_SYNC_FAILED skipping a lease from %s: %s", client.peer.name, exc)
                    continue
                # a lease the local columns cannot hold (a memfile partner's long hostname) is
                # skipped alone, as Kea's SQL backends skip a lease whose write throws
                refusal = storage_refusal(lease, store.dialect)
                if refusal is not None:
                    result.skipped += 1
                    log.warning("HA_LEASE_SYNC_FAILED skipping lease %s from %s: %s", lease.ip, client.peer.name,
                                refusal)
                    continue
                parsed.append(lease)
            stored, stale = await store.write(ApplyIfNewer(parsed)) if parsed else (0, 0)
            result.stored += stored
            result.stale += stale
            log.info(
                "HA_LEASES_SYNC_LEASE_PAGE_RECEIVED received %d leases from %s", len(leases), client.peer.name
            )
            if progress is not None:
                progress(result)
            if len(leases) < page_limit or last_address is None:
                break
            if last_address in page_ends:
                raise PeerError(
                    "answer", f"the partner's lease page after {start} ends at {last_address}, where an earlier "
                    "page ended: its lease list does not advance")
            page_ends.add(last_address)
            start = last_address
        try:
            await client.send({"command": "ha-sync-complete-notify", "service": service}, accept=(0,))
        except PeerError as exc:
            if exc.result != 2:
                raise
            await client.send(
                {"command": "dhcp-enable", "service": service, "arguments": {"origin": "ha-partner"}}
            )
        result.ok = True
    except PeerError as exc:
        result.error = exc.text
        log.warning(
            "HA_SYNC_FAILED lease database synchronization with %s failed: %s", client.peer.name, exc.text
        )
        if disabled:
            try:
                await client.send(
                    {"command": "dhcp-enable", "service": service, "arguments": {"origin": "ha-partner"}}
                )
            except PeerError:
                pass
    result.seconds = time.monotonic() - started
    if result.ok:
        log.info(
            "HA_SYNC_SUCCESSFUL lease database synchronization with %s completed successfully in %.3f s "
            "(%d leases, %d stored, %d stale)",
            client.peer.name,
            result.seconds,
            result.received,
            result.stored,
            result.stale,
        )
    return result
