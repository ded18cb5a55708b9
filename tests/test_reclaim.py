"""leases-reclaim: Kea's reclamation of expired leases, over HTTP, on every database.

What a reclaimed lease looks like and how the statistics move is what Kea 2.2 did for the same
requests; tests/kea_cases.py ("leases-reclaim/*") compares the two live."""

from __future__ import annotations

import time
from typing import Any

import pytest

from tests.conftest import KeaClient, service_config

HW = "1a:1b:1c:1d:1e:1f"
EXPIRED = {"valid-lft": 100, "expire": 1000000, "hostname": "h.example.org", "fqdn-fwd": True, "fqdn-rev": True,
           "client-id": "01:02:03", "user-context": {"a": 1}}


async def add4(client: KeaClient, ip: str, **extra: Any) -> None:
    ans = await client.one("lease4-add", "dhcp4", {"ip-address": ip, "hw-address": HW, **extra})
    assert ans["result"] == 0, ans


async def get4(client: KeaClient, ip: str) -> dict[str, Any] | None:
    ans = await client.one("lease4-get", "dhcp4", {"ip-address": ip})
    return ans["arguments"] if ans["result"] == 0 else None


async def reclaim(client: KeaClient, remove: bool, service: str = "dhcp4") -> None:
    assert await client.one("leases-reclaim", service, {"remove": remove}) == {
        "result": 0, "text": "Reclamation of expired leases is complete."}


async def stat(client: KeaClient, name: str, service: str = "dhcp4") -> int:
    return (await client.one("statistic-get", service, {"name": name}))["arguments"][name][0][0]  # type: ignore[no-any-return]


async def test_an_expired_lease_is_kept_as_reclaimed_without_its_name(client: KeaClient) -> None:
    await add4(client, "192.0.2.20", **EXPIRED)
    await reclaim(client, remove=False)
    assert await get4(client, "192.0.2.20") == {
        "ip-address": "192.0.2.20", "hw-address": HW, "client-id": "01:02:03", "cltt": 999900, "valid-lft": 100,
        "subnet-id": 1, "state": 2, "hostname": "", "fqdn-fwd": False, "fqdn-rev": False, "user-context": {"a": 1}}


async def test_remove_deletes_expired_leases(client: KeaClient) -> None:
    await add4(client, "192.0.2.20", **EXPIRED)
    await reclaim(client, remove=True)
    assert await get4(client, "192.0.2.20") is None


async def test_an_expired_declined_lease_is_deleted_even_without_remove(client: KeaClient) -> None:
    await add4(client, "192.0.2.20", state=1, **EXPIRED)
    await reclaim(client, remove=False)
    assert await get4(client, "192.0.2.20") is None
    assert await stat(client, "declined-addresses") == 0
    assert await stat(client, "subnet[1].declined-addresses") == 0


async def test_current_reclaimed_and_infinite_leases_are_left_alone(client: KeaClient) -> None:
    await add4(client, "192.0.2.20")  # valid for the subnet's lifetime from now
    await add4(client, "192.0.2.21", **{**EXPIRED, "state": 2})
    # infinite: cltt = expire - valid-lft = 1992, and Kea's SQL schema stores expire = cltt
    await add4(client, "192.0.2.22", **{**EXPIRED, "valid-lft": 0xFFFFFFFF, "expire": 5000000000})
    before = [await get4(client, ip) for ip in ("192.0.2.20", "192.0.2.21", "192.0.2.22")]
    await reclaim(client, remove=True)
    assert [await get4(client, ip) for ip in ("192.0.2.20", "192.0.2.21", "192.0.2.22")] == before


async def test_a_lease_that_expired_a_second_ago_is_reclaimed(client: KeaClient) -> None:
    await add4(client, "192.0.2.20", **{**EXPIRED, "expire": int(time.time()) - 1})
    await reclaim(client, remove=True)
    assert await get4(client, "192.0.2.20") is None


async def test_assigned_statistics_lose_each_reclaimed_lease(client: KeaClient) -> None:
    await add4(client, "192.0.2.20", **EXPIRED)
    await add4(client, "192.0.2.21", **EXPIRED)
    await add4(client, "192.0.2.22")
    assert await stat(client, "subnet[1].assigned-addresses") == 3
    await reclaim(client, remove=False)
    samples = (await client.one("statistic-get", "dhcp4", {"name": "subnet[1].assigned-addresses"}))["arguments"]
    assert [value for value, _ in samples["subnet[1].assigned-addresses"]][:3] == [1, 2, 3]  # one sample per lease


async def test_v6_reclaims_addresses_and_prefixes_and_counts_no_temporary_address(client: KeaClient) -> None:
    v6 = {"duid": "01:02:03", "iaid": 1, **{k: v for k, v in EXPIRED.items() if k != "client-id"}}
    for arguments in ({"ip-address": "2001:db8:1::11"},
                      {"ip-address": "3000:1::", "type": "IA_PD", "prefix-len": 64, "subnet-id": 1},
                      {"ip-address": "2001:db8:1::13", "type": "IA_TA", "subnet-id": 1}):
        ans = await client.one("lease6-add", "dhcp6", {**v6, **arguments})
        assert ans["result"] == 0, ans
    await reclaim(client, remove=False, service="dhcp6")
    leases = (await client.one("lease6-get-all", "dhcp6"))["arguments"]["leases"]
    assert {(lease["ip-address"], lease["state"], lease["hostname"]) for lease in leases} == {
        ("2001:db8:1::11", 2, ""), ("3000:1::", 2, ""), ("2001:db8:1::13", 2, "")}
    assert await stat(client, "subnet[1].assigned-nas", "dhcp6") == 0
    assert await stat(client, "subnet[1].assigned-pds", "dhcp6") == 1  # lease_cmds counted the TA as a prefix


async def test_each_family_reclaims_only_its_own_leases(sqlite_client: KeaClient) -> None:
    await add4(sqlite_client, "192.0.2.20", **EXPIRED)
    await reclaim(sqlite_client, remove=True, service="dhcp6")
    assert await get4(sqlite_client, "192.0.2.20") is not None


@pytest.mark.parametrize(("arguments", "text"), [
    (None, "Missing mandatory 'remove' parameter."),
    ({}, "Missing mandatory 'remove' parameter."),
    ([], "Error during command processing: get(string) called on a non-map Element in"),
    ({"remove": 1}, "'remove' parameter expected to be a boolean."),
    ({"remove": "true"}, "'remove' parameter expected to be a boolean."),
])
async def test_bad_arguments_are_keas_errors_and_change_nothing(sqlite_client: KeaClient, arguments: Any, text: str) -> None:
    await add4(sqlite_client, "192.0.2.20", **EXPIRED)
    assert await sqlite_client.one("leases-reclaim", "dhcp4", arguments) == {"result": 1, "text": text}
    assert (await get4(sqlite_client, "192.0.2.20") or {}).get("state") == 0


async def test_with_a_control_socket_the_local_kea_reclaims(make_client: Any, sqlite_database: dict[str, Any]) -> None:
    from tests.kea_harness import KeaServer, require_kea

    require_kea()
    with KeaServer(4, start_agent=False) as kea:
        sockets = {"control-sockets": {"dhcp4": {"socket-type": "unix", "socket-name": kea.socket_path}}}
        client = await make_client(service_config(sqlite_database, extra_agent=sockets))
        await add4(client, "192.0.2.20", **EXPIRED)  # in leasesync's store only
        await reclaim(client, remove=True)
    assert await get4(client, "192.0.2.20") is not None  # Kea reclaimed its own (empty) memfile
