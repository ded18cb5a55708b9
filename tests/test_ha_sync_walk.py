"""The sync's page walk against a partner that answers over real HTTP as a Kea server would, or
not quite: `ha-sync` asked of an in-process leasesync whose partner is a FakePeer."""

from __future__ import annotations

import asyncio
import ipaddress
import json
import time
from collections.abc import Callable
from typing import Any

import pytest

from tests.conftest import service_config
from tests.fake_peer import FakePeer, answer
from tests.ha_helpers import ha_hook

pytestmark = pytest.mark.timeout(60)

Page = Callable[[str, int], list[dict[str, Any]]]
SUBNET6 = [{"id": 1, "subnet": "2001:db8:1::/64", "pools": [{"pool": "2001:db8:1::1 - 2001:db8:1::ffff"}]}]


def partner(page: Page, **answers: dict[str, Any]) -> Callable[[FakePeer, asyncio.StreamWriter, bytes], None]:
    """A FakePeer's behaviour: dhcp-disable/-enable and ha-sync-complete-notify succeed (or
    answer what `answers` gives for the command, `_` for `-`), leaseX-get-page answers
    `page(from, limit)`; heartbeats are refused, so the state machine stays where it is."""

    def behave(_peer: FakePeer, writer: asyncio.StreamWriter, request: bytes) -> None:
        envelope = json.loads(request.partition(b"\r\n\r\n")[2])
        command, arguments = envelope["command"], envelope.get("arguments") or {}
        result: dict[str, Any] = {"result": 0, "text": "done"}
        if command.endswith("-get-page"):
            leases = page(arguments["from"], arguments["limit"])
            result = {"result": 0 if leases else 3, "text": f"{len(leases)} lease(s) found.",
                      "arguments": {"leases": leases, "count": len(leases)}}
        elif command == "ha-heartbeat":
            result = {"result": 1, "text": "not a partner today"}
        result = answers.get(command.replace("-", "_"), result)
        writer.write(answer(json.dumps([result]).encode()))

    return behave


def commands(peer: FakePeer) -> list[str]:
    """The commands the peer received, heartbeats left out."""
    sent = [json.loads(request.partition(b"\r\n\r\n")[2])["command"] for request in peer.requests]
    return [command for command in sent if command != "ha-heartbeat"]


async def leasesync_syncing_from(peer: FakePeer, make_client: Any, database: dict[str, Any],
                                 family: int = 4, page_limit: int = 2) -> Any:
    peers = [{"name": "server1", "url": "http://127.0.0.1:9/", "role": "primary"},
             {"name": "server2", "url": f"http://127.0.0.1:{peer.port}/", "role": "standby"}]
    hook = ha_hook("server1", "hot-standby", peers, **{
        "heartbeat-delay": 10000, "max-response-delay": 60000, "max-ack-delay": 5000, "sync-page-limit": page_limit})
    if family == 4:
        return await make_client(service_config(database, dhcp6=False, dhcp4_extra={"hooks-libraries": [hook]}))
    return await make_client(service_config(database, dhcp6_extra={"subnet6": SUBNET6, "hooks-libraries": [hook]}))


def lease4(address: str) -> dict[str, Any]:
    return {"ip-address": address, "hw-address": "1a:1b:1c:1d:1e:1f", "subnet-id": 1, "cltt": int(time.time()),
            "valid-lft": 3600, "fqdn-fwd": False, "fqdn-rev": False, "hostname": "", "state": 0}


def lease6(address: str) -> dict[str, Any]:
    return {"ip-address": address, "duid": "01:02:03:04", "iaid": int(ipaddress.IPv6Address(address)) & 0xffff,
            "subnet-id": 1, "cltt": int(time.time()), "valid-lft": 3600, "preferred-lft": 3000, "fqdn-fwd": False,
            "fqdn-rev": False, "hostname": "", "state": 0, "type": "IA_NA"}


async def test_a_partner_that_answers_the_same_page_again_fails_the_sync_and_gets_its_service_back(
        fake_peer: Any, make_client: Any, sqlite_database: dict[str, Any]) -> None:
    peer = await fake_peer(partner(lambda _from, limit: [lease4("192.0.2.10"), lease4("192.0.2.11")][:limit]))
    client = await leasesync_syncing_from(peer, make_client, sqlite_database)
    answer = await client.one("ha-sync", "dhcp4", {"server-name": "server2"})
    assert answer == {"result": 1, "text": "the partner's lease page after 192.0.2.11 ends at 192.0.2.11, where an "
                                           "earlier page ended: its lease list does not advance"}
    assert commands(peer) == ["dhcp-disable", "lease4-get-page", "dhcp-disable", "lease4-get-page", "dhcp-enable"]
    # what the pages held is kept: each lease was as good as any the partner sends
    assert (await client.one("lease4-get", "dhcp4", {"ip-address": "192.0.2.11"}))["result"] == 0


async def test_a_walk_in_address_text_order_as_kea_on_sql_pages_v6_completes(
        fake_peer: Any, make_client: Any, sqlite_database: dict[str, Any]) -> None:
    # Kea 2.2 on PostgreSQL/MySQL pages v6 leases by address text: ...::10 comes before ...::9
    stored = sorted(f"2001:db8:1::{n:x}" for n in (0x9, 0x10, 0x11, 0xa0, 0xb))

    def by_text(start: str, limit: int) -> list[dict[str, Any]]:
        return [lease6(a) for a in stored if start == "start" or a > start][:limit]

    peer = await fake_peer(partner(by_text))
    client = await leasesync_syncing_from(peer, make_client, sqlite_database, family=6)
    answer = await client.one("ha-sync", "dhcp6", {"server-name": "server2"})
    assert answer == {"result": 0, "text": "Lease database synchronization complete."}
    got = await client.one("lease6-get-all", "dhcp6")
    assert sorted(lease["ip-address"] for lease in got["arguments"]["leases"]) == sorted(stored)


async def test_a_page_may_be_as_large_as_the_configured_page_limit_makes_it(
        fake_peer: Any, make_client: Any, sqlite_database: dict[str, Any]) -> None:
    peer = await fake_peer(partner(lambda _from, _limit: []))
    small = await leasesync_syncing_from(peer, make_client, sqlite_database, page_limit=10000)
    large = await leasesync_syncing_from(peer, make_client, sqlite_database, page_limit=200000)
    # 256 MiB by default (app/ha/http_transport.py), 4 KiB a lease beyond that
    assert small.runtime.ha[4].clients["server2"]._connections.max_answer_bytes == 256 * 1024 * 1024
    assert large.runtime.ha[4].clients["server2"]._connections.max_answer_bytes == 200000 * 4096


async def test_a_malformed_lease_in_a_page_is_skipped_and_the_others_are_stored(
        fake_peer: Any, make_client: Any, sqlite_database: dict[str, Any], caplog: Any) -> None:
    broken = {**lease4("192.0.2.12"), "valid-lft": "forever"}
    leases = [lease4("192.0.2.10"), broken, lease4("192.0.2.14")]
    peer = await fake_peer(partner(lambda start, limit: [x for x in leases if start == "start"][:limit]))
    client = await leasesync_syncing_from(peer, make_client, sqlite_database, page_limit=10)
    answer = await client.one("ha-sync", "dhcp4", {"server-name": "server2"})
    assert answer == {"result": 0, "text": "Lease database synchronization complete."}
    got = await client.one("lease4-get-all", "dhcp4")
    assert [lease["ip-address"] for lease in got["arguments"]["leases"]] == ["192.0.2.10", "192.0.2.14"]
    assert "HA_LEASE_SYNC_FAILED skipping a lease from server2" in caplog.text


async def test_a_partner_without_ha_sync_complete_notify_gets_dhcp_enable_instead(
        fake_peer: Any, make_client: Any, sqlite_database: dict[str, Any]) -> None:
    unsupported = {"result": 2, "text": "'ha-sync-complete-notify' command not supported."}
    peer = await fake_peer(partner(lambda _from, _limit: [], ha_sync_complete_notify=unsupported))
    client = await leasesync_syncing_from(peer, make_client, sqlite_database)
    answer = await client.one("ha-sync", "dhcp4", {"server-name": "server2"})
    assert answer == {"result": 0, "text": "Lease database synchronization complete."}
    assert commands(peer) == ["dhcp-disable", "lease4-get-page", "ha-sync-complete-notify", "dhcp-enable"]
