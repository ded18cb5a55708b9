"""Kea's statistic-* commands: names, answer shapes, values from the store and the pools,
reset/remove semantics, and a comparison with real Kea 2.2."""

from __future__ import annotations

import re
from typing import Any

import pytest

from app.commands.stats import ready as stats_ready
from app.commands.stats import total_addresses, total_prefixes
from tests.conftest import KeaClient, service_config

TIMESTAMP = re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{6}$")


async def get(client: KeaClient, name: str, service: str = "dhcp4") -> Any:
    ans = await client.one("statistic-get", service, {"name": name})
    assert ans["result"] == 0, ans
    return ans["arguments"]


async def value(client: KeaClient, name: str, service: str = "dhcp4") -> int | None:
    samples = (await get(client, name, service)).get(name)
    return None if samples is None else samples[0][0]


async def add4(client: KeaClient, ip: str, state: int = 0) -> None:
    ans = await client.one("lease4-add", "dhcp4", {"ip-address": ip, "hw-address": "1a:1b:1c:1d:1e:1f", "state": state})
    assert ans["result"] == 0, ans


# --- names and shapes -----------------------------------------------------------------------

RECLAMATION4 = ("reclaimed-leases", "reclaimed-declined-addresses", "cumulative-assigned-addresses")
RECLAMATION6 = ("reclaimed-leases", "reclaimed-declined-addresses", "cumulative-assigned-nas", "cumulative-assigned-pds")


async def test_v4_get_all_has_keas_lease_statistics(sqlite_client: KeaClient) -> None:
    ans = await sqlite_client.one("statistic-get-all", "dhcp4")
    assert ans["result"] == 0
    assert set(ans["arguments"]) == {
        "declined-addresses", *RECLAMATION4,
        *(f"subnet[{i}].{s}" for i in (1, 2)
          for s in ("total-addresses", "assigned-addresses", "declined-addresses", *RECLAMATION4)),
    }


async def test_v6_get_all_has_keas_lease_statistics(sqlite_client: KeaClient) -> None:
    ans = await sqlite_client.one("statistic-get-all", "dhcp6")
    assert set(ans["arguments"]) == {
        "declined-addresses", *RECLAMATION6,
        *(f"subnet[{i}].{s}" for i in (1, 2)
          for s in ("total-nas", "assigned-nas", "total-pds", "assigned-pds", "declined-addresses", *RECLAMATION6)),
    }


async def test_beside_a_local_kea_reclamation_statistics_are_not_kept_here(make_client: Any,
                                                                         sqlite_database: dict[str, Any],
                                                                         tmp_path: Any) -> None:
    # the local Kea reclaims and allocates: its reclaimed-* and cumulative-* are the true ones
    sockets = {"control-sockets": {"dhcp4": {"socket-type": "unix", "socket-name": str(tmp_path / "kea4.sock")}}}
    client = await make_client(service_config(sqlite_database, extra_agent=sockets))
    state = await stats_ready(client.runtime.families[4])
    assert not {n for n in state.stats if "reclaimed" in n or "cumulative" in n}


async def test_samples_are_value_and_kea_timestamp(sqlite_client: KeaClient) -> None:
    samples = (await get(sqlite_client, "subnet[1].total-addresses"))["subnet[1].total-addresses"]
    assert samples[0][0] == 191  # 192.0.2.10 - 192.0.2.200
    assert TIMESTAMP.match(samples[0][1])


async def test_v6_pd_pool_total(sqlite_client: KeaClient) -> None:
    assert await value(sqlite_client, "subnet[1].total-pds", "dhcp6") == 1 << 16  # /48 delegated as /64


async def test_unknown_statistic_is_an_empty_map(sqlite_client: KeaClient) -> None:
    assert await sqlite_client.one("statistic-get", "dhcp4", {"name": "pkt4-received"}) == {"result": 0, "arguments": {}}


@pytest.mark.parametrize(("arguments", "text"), [
    (None, "Missing mandatory 'name' parameter."),
    ({}, "Missing mandatory 'name' parameter."),
    ({"name": 5}, "'name' parameter expected to be a string."),
    ([], "Error during command processing: get(string) called on a non-map Element in (<wire>:0:16)"),
])
async def test_get_argument_errors_are_keas(sqlite_client: KeaClient, arguments: Any, text: str) -> None:
    assert await sqlite_client.one("statistic-get", "dhcp4", arguments) == {"result": 1, "text": text}


async def test_statistics_need_a_service(sqlite_client: KeaClient) -> None:
    ans = await sqlite_client.one("statistic-get-all")
    assert ans["result"] == 2


# --- values follow the store ----------------------------------------------------------------

async def test_assigned_counts_leases_on_every_backend(client: KeaClient) -> None:
    await add4(client, "192.0.2.20")
    await add4(client, "192.0.2.21")
    assert await value(client, "subnet[1].assigned-addresses") == 2


async def test_declined_lease_counts_as_assigned_and_declined(sqlite_client: KeaClient) -> None:
    await add4(sqlite_client, "192.0.2.21", state=1)
    assert (await value(sqlite_client, "subnet[1].assigned-addresses"),
            await value(sqlite_client, "subnet[1].declined-addresses"),
            await value(sqlite_client, "declined-addresses")) == (1, 1, 1)


async def test_expired_reclaimed_lease_is_not_assigned(sqlite_client: KeaClient) -> None:
    await add4(sqlite_client, "192.0.2.22", state=2)
    assert await value(sqlite_client, "subnet[1].assigned-addresses") == 0


async def test_v6_address_and_prefix_counted_apart(sqlite_client: KeaClient) -> None:
    for args in ({"ip-address": "2001:db8:1::20", "duid": "01:02:03:04:05:06:07:08", "iaid": 1},
                 {"ip-address": "3000:1::", "prefix-len": 64, "type": "IA_PD", "subnet-id": 1,
                  "duid": "01:02:03:04:05:06:07:09", "iaid": 2}):
        assert (await sqlite_client.one("lease6-add", "dhcp6", args))["result"] == 0
    assert (await value(sqlite_client, "subnet[1].assigned-nas", "dhcp6"),
            await value(sqlite_client, "subnet[1].assigned-pds", "dhcp6")) == (1, 1)


async def test_samples_are_newest_first(sqlite_client: KeaClient) -> None:
    await value(sqlite_client, "subnet[1].assigned-addresses")
    await add4(sqlite_client, "192.0.2.20")
    samples = (await get(sqlite_client, "subnet[1].assigned-addresses"))["subnet[1].assigned-addresses"]
    assert [s[0] for s in samples] == [1, 0]
    assert samples[0][1] >= samples[1][1]


async def test_sample_count_limit(sqlite_client: KeaClient) -> None:
    ans = await sqlite_client.one("statistic-sample-count-set", "dhcp4",
                                  {"name": "subnet[1].assigned-addresses", "max-samples": 2})
    assert ans == {"result": 0, "text": "Statistic 'subnet[1].assigned-addresses' count limit is set."}
    for ip in ("192.0.2.20", "192.0.2.21", "192.0.2.22"):
        await add4(sqlite_client, ip)
        await value(sqlite_client, "subnet[1].assigned-addresses")
    samples = (await get(sqlite_client, "subnet[1].assigned-addresses"))["subnet[1].assigned-addresses"]
    assert [s[0] for s in samples] == [3, 2]


# --- reset / remove -------------------------------------------------------------------------

async def test_reset_sets_zero_and_counts_on_from_there(sqlite_client: KeaClient) -> None:
    await add4(sqlite_client, "192.0.2.20")
    ans = await sqlite_client.one("statistic-reset", "dhcp4", {"name": "subnet[1].assigned-addresses"})
    assert ans == {"result": 0, "text": "Statistic 'subnet[1].assigned-addresses' reset."}
    assert await value(sqlite_client, "subnet[1].assigned-addresses") == 0
    await add4(sqlite_client, "192.0.2.21")
    assert await value(sqlite_client, "subnet[1].assigned-addresses") == 1


async def test_a_wipe_after_a_reset_recounts_absolute_values(sqlite_client: KeaClient) -> None:
    # Kea recounts the lease statistics after leaseX-wipe: the reset's baseline is gone
    await add4(sqlite_client, "192.0.2.20")
    await add4(sqlite_client, "192.0.2.21")
    name = "subnet[1].assigned-addresses"
    assert (await sqlite_client.one("statistic-reset", "dhcp4", {"name": name}))["result"] == 0
    assert (await sqlite_client.one("lease4-wipe", "dhcp4", {}))["result"] == 0
    assert await value(sqlite_client, name) == 0
    await add4(sqlite_client, "192.0.2.22")
    assert await value(sqlite_client, name) == 1


async def test_a_removed_lease_statistic_is_back_after_a_wipe(sqlite_client: KeaClient) -> None:
    await add4(sqlite_client, "192.0.2.20")
    name = "subnet[1].assigned-addresses"
    assert (await sqlite_client.one("statistic-remove", "dhcp4", {"name": name}))["result"] == 0
    assert (await sqlite_client.one("lease4-wipe", "dhcp4", {"subnet-id": 1}))["result"] == 0
    assert await value(sqlite_client, name) == 0


async def test_reset_unknown_statistic_fails(sqlite_client: KeaClient) -> None:
    ans = await sqlite_client.one("statistic-reset", "dhcp4", {"name": "nonexistent"})
    assert ans == {"result": 1, "text": "No 'nonexistent' statistic found"}


async def test_removed_statistic_is_absent_until_it_changes(sqlite_client: KeaClient) -> None:
    name = "subnet[1].assigned-addresses"
    ans = await sqlite_client.one("statistic-remove", "dhcp4", {"name": name})
    assert ans == {"result": 0, "text": f"Statistic '{name}' removed."}
    assert await value(sqlite_client, name) is None
    await add4(sqlite_client, "192.0.2.20")
    samples = (await get(sqlite_client, name))[name]
    assert [s[0] for s in samples] == [1]


async def test_remove_twice_fails_the_second_time(sqlite_client: KeaClient) -> None:
    await sqlite_client.one("statistic-remove", "dhcp4", {"name": "declined-addresses"})
    ans = await sqlite_client.one("statistic-remove", "dhcp4", {"name": "declined-addresses"})
    assert ans == {"result": 1, "text": "No 'declined-addresses' statistic found"}


async def test_reset_all_zeroes_totals_too(sqlite_client: KeaClient) -> None:
    ans = await sqlite_client.one("statistic-reset-all", "dhcp4")
    assert ans == {"result": 0, "text": "All statistics reset to neutral values."}
    everything = (await sqlite_client.one("statistic-get-all", "dhcp4"))["arguments"]
    assert {name: samples[0][0] for name, samples in everything.items()} == dict.fromkeys(everything, 0)


async def test_remove_all_then_a_change_shows_only_what_changed(sqlite_client: KeaClient) -> None:
    ans = await sqlite_client.one("statistic-remove-all", "dhcp4")
    assert ans["text"] == "Warning: statistic-remove-all command is deprecated. All statistics removed."
    await add4(sqlite_client, "192.0.2.23")
    everything = (await sqlite_client.one("statistic-get-all", "dhcp4"))["arguments"]
    assert {name: [s[0] for s in samples] for name, samples in everything.items()} == {
        "subnet[1].assigned-addresses": [1]}


async def test_state_is_per_family(sqlite_client: KeaClient) -> None:
    await sqlite_client.one("statistic-remove-all", "dhcp4")
    assert await value(sqlite_client, "declined-addresses", "dhcp6") == 0


async def test_state_is_per_runtime(make_client: Any, sqlite_database: dict[str, Any]) -> None:
    first = await make_client(service_config(sqlite_database))
    second = await make_client(service_config(sqlite_database))
    await first.one("statistic-remove-all", "dhcp4")
    assert await value(second, "subnet[1].total-addresses") == 191


# --- capacities as Kea 2.2 computes them ----------------------------------------------------

def test_v6_capacity_saturates_and_wraps_like_kea() -> None:
    slash64 = (0, (1 << 64) - 1)
    assert total_addresses((slash64,)) == -1
    assert total_addresses(((0, (1 << 63) - 1), (0, (1 << 48) - 1))) == -9223090561878065152


def test_pd_capacity_saturates_like_kea() -> None:
    assert total_prefixes(((0, 48, 56), (0, 64, 64))) == 257
    assert total_prefixes(((0, 32, 96),)) == -1


# --- real Kea -------------------------------------------------------------------------------

@pytest.mark.kea
async def test_values_match_kea(sqlite_client: KeaClient) -> None:
    from tests.kea_harness import KeaServer, require_kea

    require_kea()
    leases = [{"ip-address": "192.0.2.20", "hw-address": "1a:1b:1c:1d:1e:1f"},
              {"ip-address": "192.0.2.21", "hw-address": "1a:1b:1c:1d:1e:10", "state": 1},
              {"ip-address": "198.51.100.5", "hw-address": "1a:1b:1c:1d:1e:11"},
              {"ip-address": "198.51.100.6", "hw-address": "1a:1b:1c:1d:1e:12", "state": 2}]
    with KeaServer(4, start_agent=False) as kea:
        for lease in leases:
            assert kea.socket_command({"command": "lease4-add", "arguments": lease})["result"] == 0
            assert (await sqlite_client.one("lease4-add", "dhcp4", lease))["result"] == 0
        theirs = kea.socket_command({"command": "statistic-get-all"})["arguments"]
    ours = (await sqlite_client.one("statistic-get-all", "dhcp4"))["arguments"]
    assert set(ours) <= set(theirs)
    assert {n: s[0][0] for n, s in ours.items()} == {n: theirs[n][0][0] for n in ours}


@pytest.mark.kea
async def test_keas_own_statistics_come_through_the_control_socket(make_client: Any,
                                                                    sqlite_database: dict[str, Any]) -> None:
    from tests.kea_harness import KeaServer, require_kea

    require_kea()
    with KeaServer(4, start_agent=False) as kea:
        sockets = {"control-sockets": {"dhcp4": {"socket-type": "unix", "socket-name": kea.socket_path}}}
        client = await make_client(service_config(sqlite_database, extra_agent=sockets))
        await add4(client, "192.0.2.20")  # in leasesync's store only: Kea's own count stays 0
        assert await value(client, "pkt4-received") == 0
        everything = (await client.one("statistic-get-all", "dhcp4"))["arguments"]
    assert "pkt4-received" in everything
    assert everything["subnet[1].assigned-addresses"][0][0] == 1
