"""Kea's stat_cmds hook: stat-lease4-get and stat-lease6-get, over HTTP, on every database.

The expected answers are what Kea 2.2's libdhcp_stat_cmds.so answered for the same requests
(kea-dhcp4/6 with memfile, 2026-11-26); tests/kea_cases.py compares the two live."""

from __future__ import annotations

import re
from typing import Any

import pytest

from tests.conftest import KeaClient

TIMESTAMP = re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{6}$")
COLUMNS4 = ["subnet-id", "total-addresses", "cumulative-assigned-addresses", "assigned-addresses", "declined-addresses"]
COLUMNS6 = ["subnet-id", "total-nas", "cumulative-assigned-nas", "assigned-nas", "declined-nas", "total-pds",
            "cumulative-assigned-pds", "assigned-pds"]
POOL4 = 191  # subnet 1: 192.0.2.10 - 192.0.2.200; subnet 2 has no pool
PDS6 = 1 << 16  # subnet 1: 3000:1::/48 delegated as /64


async def rows(client: KeaClient, v: int, arguments: Any = None) -> list[list[int]]:
    ans = await client.one(f"stat-lease{v}-get", f"dhcp{v}", arguments)
    assert ans["result"] == 0, ans
    result_set = ans["arguments"]["result-set"]
    assert result_set["columns"] == (COLUMNS4 if v == 4 else COLUMNS6)
    assert TIMESTAMP.match(result_set["timestamp"])
    assert ans["text"].endswith(f": {len(result_set['rows'])} rows found")
    return result_set["rows"]  # type: ignore[no-any-return]


async def add(client: KeaClient, v: int, **arguments: Any) -> None:
    if v == 4:
        arguments.setdefault("hw-address", "1a:1b:1c:1d:1e:1f")
    else:
        arguments.setdefault("duid", "01:02:03:04:05:06")
        arguments.setdefault("iaid", 1)
    ans = await client.one(f"lease{v}-add", f"dhcp{v}", arguments)
    assert ans["result"] == 0, ans


async def test_v4_every_subnet_has_a_row_with_its_pool_size(client: KeaClient) -> None:
    assert await rows(client, 4) == [[1, POOL4, 0, 0, 0], [2, 0, 0, 0, 0]]


async def test_v4_counts_default_leases_as_assigned_and_declined_ones_apart(client: KeaClient) -> None:
    await add(client, 4, **{"ip-address": "192.0.2.11"})
    await add(client, 4, **{"ip-address": "192.0.2.12", "state": 1})
    await add(client, 4, **{"ip-address": "192.0.2.13", "state": 2})  # expired-reclaimed: neither
    await add(client, 4, **{"ip-address": "192.0.2.14", "valid-lft": 10, "expire": 1000000})  # expired, still assigned
    await add(client, 4, **{"ip-address": "198.51.100.5", "state": 1})
    assert await rows(client, 4) == [[1, POOL4, 0, 2, 1], [2, 0, 0, 0, 1]]


async def test_v6_counts_addresses_and_prefixes_but_no_temporary_address(client: KeaClient) -> None:
    await add(client, 6, **{"ip-address": "2001:db8:1::11"})
    await add(client, 6, **{"ip-address": "2001:db8:1::12", "state": 1})
    await add(client, 6, **{"ip-address": "2001:db8:1::14", "type": "IA_TA", "subnet-id": 1})
    await add(client, 6, **{"ip-address": "3000:1::", "type": "IA_PD", "prefix-len": 64, "subnet-id": 1})
    await add(client, 6, **{"ip-address": "3000:1:0:1::", "type": "IA_PD", "prefix-len": 64, "subnet-id": 1, "state": 2})
    await add(client, 6, **{"ip-address": "2001:db8:2::1"})
    assert await rows(client, 6) == [[1, 0, 0, 1, 1, PDS6, 0, 1], [2, 0, 0, 1, 0, 0, 0, 0]]


async def test_one_subnet_by_id(client: KeaClient) -> None:
    await add(client, 4, **{"ip-address": "198.51.100.5"})
    ans = await client.one("stat-lease4-get", "dhcp4", {"subnet-id": 2})
    assert ans["text"] == "stat-lease4-get[subnet-id=2]: 1 rows found"
    assert ans["arguments"]["result-set"]["rows"] == [[2, 0, 0, 1, 0]]


async def test_a_range_selects_the_known_subnets_within_it(sqlite_client: KeaClient) -> None:
    ans = await sqlite_client.one("stat-lease6-get", "dhcp6", {"subnet-range": {"first-subnet-id": 2, "last-subnet-id": 9}})
    assert ans["text"] == "stat-lease6-get[subnets 2 through 9]: 1 rows found"
    assert ans["arguments"]["result-set"]["rows"] == [[2, 0, 0, 0, 0, 0, 0, 0]]


async def test_totals_follow_statistic_remove_and_reset(sqlite_client: KeaClient) -> None:
    await sqlite_client.one("statistic-remove", "dhcp4", {"name": "subnet[1].total-addresses"})
    assert (await rows(sqlite_client, 4))[0] == [1, 0, 0, 0, 0]


async def test_a_subnet_id_too_large_for_32_bits_wraps_as_keas(sqlite_client: KeaClient) -> None:
    ans = await sqlite_client.one("stat-lease4-get", "dhcp4", {"subnet-id": (1 << 32) + 2})
    assert ans["text"] == "stat-lease4-get[subnet-id=2]: 1 rows found"


async def test_a_lease_change_is_counted_by_the_next_call(sqlite_client: KeaClient) -> None:
    await add(sqlite_client, 4, **{"ip-address": "192.0.2.20"})
    await sqlite_client.one("lease4-update", "dhcp4", {"ip-address": "192.0.2.20", "hw-address": "1a:1b:1c:1d:1e:1f",
                                                       "state": 1})
    assert (await rows(sqlite_client, 4))[0] == [1, POOL4, 0, 0, 1]
    await sqlite_client.one("lease4-del", "dhcp4", {"ip-address": "192.0.2.20"})
    assert (await rows(sqlite_client, 4))[0] == [1, POOL4, 0, 0, 0]


@pytest.mark.parametrize(("arguments", "text"), [
    ({"subnet-id": 3}, "stat-lease4-get[subnet-id=3]: no matching data, subnet-id: 3 does not exist"),
    ({"subnet-id": 1 << 32}, "stat-lease4-get[subnet-id=0]: no matching data, subnet-id: 0 does not exist"),
    ({"subnet-range": {"first-subnet-id": 3, "last-subnet-id": 9}},
     "stat-lease4-get[subnets 3 through 9]: no matching data, selected ID range: 3 through 9 includes no known subnets"),
    ({"subnet-range": {"first-subnet-id": 4, "last-subnet-id": 4}},
     "stat-lease4-get[subnets 4 through 4]: no matching data, selected ID range: 4 through 4 includes no known subnets"),
])
async def test_no_known_subnet_in_the_selection_is_empty(sqlite_client: KeaClient, arguments: Any, text: str) -> None:
    assert await sqlite_client.one("stat-lease4-get", "dhcp4", arguments) == {"result": 3, "text": text, "arguments": {}}


async def test_the_other_familys_command_sees_no_subnets(sqlite_client: KeaClient) -> None:
    assert await sqlite_client.one("stat-lease6-get", "dhcp4") == {
        "result": 3, "arguments": {},
        "text": "stat-lease6-get[all subnets]: no matching data, selected ID range: 0 through 0 includes no known subnets"}


@pytest.mark.parametrize(("arguments", "text"), [
    ([], "'arguments' parameter is not a map"),
    ("x", "'arguments' parameter is not a map"),
    ({"subnet-id": "1"}, "'subnet-id' parameter is not integer"),
    ({"subnet-id": 1.0}, "'subnet-id' parameter is not integer"),
    ({"subnet-id": True}, "'subnet-id' parameter is not integer"),
    ({"subnet-id": None}, "'subnet-id' parameter is not integer"),
    ({"subnet-id": 0}, "'subnet-id' parameter must be > 0"),
    ({"subnet-id": -1}, "'subnet-id' parameter must be > 0"),
    ({"subnet-id": 1, "subnet-range": None}, "cannot specify both subnet-id and subnet-range"),
    ({"subnet-range": []}, "subnet-range parameter is not a map"),
    ({"subnet-range": {"last-subnet-id": 3}}, "'first-subnet-id' parameter missing or not an integer"),
    ({"subnet-range": {"first-subnet-id": 1.0, "last-subnet-id": 3}}, "'first-subnet-id' parameter missing or not an integer"),
    ({"subnet-range": {"first-subnet-id": 1}}, "'last-subnet-id' parameter missing or not an integer"),
    ({"subnet-range": {"first-subnet-id": 0, "last-subnet-id": 3}}, "'first-subnet-id' parameter must be > 0"),
    ({"subnet-range": {"first-subnet-id": 1, "last-subnet-id": 0}}, "'last-subnet-id' parameter must be > 0"),
    ({"subnet-range": {"first-subnet-id": 3, "last-subnet-id": 1}}, "'last-subnet-id' must be greater than 'first-subnet-id'"),
    ({"subnet-range": {"first-subnet-id": 1, "last-subnet-id": 1}}, "LeaseStatsQuery: last_subnet_id_must be > first_subnet_id_"),
    ({"subnet-range": {"first-subnet-id": 1 << 32, "last-subnet-id": 2}}, "LeaseStatsQuery: first_subnet_id_ must be > 0"),
])
async def test_bad_arguments_are_keas_errors(sqlite_client: KeaClient, arguments: Any, text: str) -> None:
    assert await sqlite_client.one("stat-lease4-get", "dhcp4", arguments) == {"result": 1, "text": text}


async def test_explicit_null_arguments_are_not_a_map(sqlite_client: KeaClient) -> None:
    answers = (await sqlite_client.http.post("/", json={"command": "stat-lease4-get", "service": ["dhcp4"],
                                                         "arguments": None})).json()
    assert answers == [{"result": 1, "text": "'arguments' parameter is not a map"}]


async def test_unknown_arguments_are_ignored(sqlite_client: KeaClient) -> None:
    assert len(await rows(sqlite_client, 4, {"foo": 1})) == 2
