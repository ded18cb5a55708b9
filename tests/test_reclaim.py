"""leases-reclaim: Kea's reclamation of expired leases, over HTTP, on every database.

What a reclaimed lease looks like and how the statistics move is what Kea 2.2 did for the same
requests; tests/kea_cases.py ("leases-reclaim/*") compares the two live."""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Any

import pytest

from app.errors import StoreUnavailable
from app.reclaim import ReclaimSettings
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
    ([], "Error during command processing: get(string) called on a non-map Element in (<wire>:0:16)"),
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


# --- the periodic timers (expired-leases-processing) ------------------------------------------

def processing(**settings: Any) -> dict[str, Any]:
    return {"expired-leases-processing": settings}


async def reclaiming_client(make_client: Any, db: dict[str, Any], **settings: Any) -> KeaClient:
    return await make_client(service_config(db, dhcp4_extra=processing(**settings)))  # type: ignore[no-any-return]


async def test_the_reclaim_timer_reclaims_expired_leases(make_client: Any, lease_database: dict[str, Any]) -> None:
    client = await reclaiming_client(make_client, lease_database, **{"reclaim-timer-wait-time": 1})
    await add4(client, "192.0.2.20", **EXPIRED)
    reclaimer = client.runtime.reclaimers[4]
    while reclaimer.reclaimed == 0:  # a run that began before the lease was added reclaims nothing
        reclaimer.run_done.clear()
        await asyncio.wait_for(reclaimer.run_done.wait(), 10)
    lease = await get4(client, "192.0.2.20")
    assert lease is not None and (lease["state"], lease["hostname"]) == (2, "")
    assert await stat(client, "subnet[1].assigned-addresses") == 0


async def test_hold_reclaimed_time_zero_deletes_on_reclamation(make_client: Any, sqlite_database: dict[str, Any]) -> None:
    client = await reclaiming_client(make_client, sqlite_database, **{"hold-reclaimed-time": 0})
    await add4(client, "192.0.2.20", **EXPIRED)
    reclaimer = client.runtime.reclaimers[4]
    assert await reclaimer.reclaim_run(ReclaimSettings.of(client.runtime.families[4])) == 1
    assert await get4(client, "192.0.2.20") is None


async def test_max_reclaim_leases_bounds_a_run_soonest_expired_first(make_client: Any,
                                                                     sqlite_database: dict[str, Any]) -> None:
    client = await reclaiming_client(make_client, sqlite_database, **{"max-reclaim-leases": 2})
    for index, ip in enumerate(("192.0.2.22", "192.0.2.20", "192.0.2.21")):
        await add4(client, ip, **{**EXPIRED, "expire": 1000000 + index})
    reclaimer = client.runtime.reclaimers[4]
    assert await reclaimer.reclaim_run(ReclaimSettings.of(client.runtime.families[4])) == 2
    states = {ip: (await get4(client, ip) or {})["state"] for ip in ("192.0.2.20", "192.0.2.21", "192.0.2.22")}
    assert states == {"192.0.2.22": 2, "192.0.2.20": 2, "192.0.2.21": 0}


async def test_leases_left_run_after_run_are_warned_about(make_client: Any, sqlite_database: dict[str, Any],
                                                          caplog: pytest.LogCaptureFixture) -> None:
    client = await reclaiming_client(make_client, sqlite_database,
                                     **{"max-reclaim-leases": 1, "unwarned-reclaim-cycles": 2})
    for ip in ("192.0.2.20", "192.0.2.21", "192.0.2.22"):
        await add4(client, ip, **EXPIRED)
    reclaimer = client.runtime.reclaimers[4]
    settings = ReclaimSettings.of(client.runtime.families[4])
    await reclaimer.reclaim_run(settings)
    assert "still left" not in caplog.text
    await reclaimer.reclaim_run(settings)
    assert "expired DHCPv4 leases are still left after 2 reclamation runs in a row" in caplog.text


async def test_the_flush_deletes_reclaimed_leases_held_long_enough(make_client: Any, lease_database: dict[str, Any]) -> None:
    client = await reclaiming_client(make_client, lease_database, **{"hold-reclaimed-time": 3600})
    await add4(client, "192.0.2.20", **{**EXPIRED, "state": 2})  # expired in 1970
    await add4(client, "192.0.2.21", **{**EXPIRED, "state": 2, "expire": int(time.time()) - 60})
    reclaimer = client.runtime.reclaimers[4]
    assert await reclaimer.flush_run(ReclaimSettings.of(client.runtime.families[4])) == 1
    assert await get4(client, "192.0.2.20") is None
    assert await get4(client, "192.0.2.21") is not None


async def test_settings_are_keas_defaults_unless_configured(make_client: Any, sqlite_database: dict[str, Any]) -> None:
    client = await reclaiming_client(make_client, sqlite_database, **{"max-reclaim-time": 50})
    assert ReclaimSettings.of(client.runtime.families[4]) == ReclaimSettings(
        reclaim_wait=10, flush_wait=25, hold_reclaimed=3600, max_leases=100, max_time=0.05, unwarned_cycles=5)


async def test_a_local_kea_or_captured_writes_leave_reclamation_to_kea(make_client: Any, tmp_path: Any,
                                                                       sqlite_database: dict[str, Any]) -> None:
    alone = await make_client(service_config(sqlite_database))
    assert alone.runtime.reclaimers[4].owns_reclamation()
    sockets = {"control-sockets": {"dhcp4": {"socket-type": "unix", "socket-name": str(tmp_path / "kea4.sock")}}}
    beside_kea = await make_client(service_config(sqlite_database, extra_agent=sockets))
    assert not beside_kea.runtime.reclaimers[4].owns_reclamation()
    assert beside_kea.runtime.reclaimers[6].owns_reclamation()  # no socket for dhcp6
    captured = await make_client(service_config({**sqlite_database, "capture-changes": True}))
    assert not captured.runtime.reclaimers[4].owns_reclamation()


async def test_failed_runs_are_logged_once_counted_and_change_nothing(make_client: Any, sqlite_database: dict[str, Any],
                                                                  caplog: pytest.LogCaptureFixture,
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    caplog.set_level(logging.DEBUG, logger="leasesync.reclaim")
    client = await reclaiming_client(make_client, sqlite_database)
    await add4(client, "192.0.2.20", **EXPIRED)
    store = client.runtime.families[4].store

    async def unreachable(op: Any) -> Any:
        raise StoreUnavailable("database is down")

    monkeypatch.setattr(store, "write", unreachable)
    reclaimer = client.runtime.reclaimers[4]
    await reclaimer.run_once("reclaim", reclaimer.reclaim_run)
    await reclaimer.run_once("reclaim", reclaimer.reclaim_run)
    monkeypatch.undo()
    warned = [r for r in caplog.records if "reclamation of expired DHCPv4 leases failed: database is down" in r.message]
    assert [r.levelname for r in warned] == ["WARNING", "DEBUG"]  # once per failure streak
    assert reclaimer.failures == 2
    metrics = (await client.http.get("/metrics")).text
    assert 'leasesync_reclaim_failures_total{family="4"} 2.0' in metrics
    assert (await get4(client, "192.0.2.20") or {}).get("state") == 0
    await reclaimer.run_once("reclaim", reclaimer.reclaim_run)
    assert (await get4(client, "192.0.2.20") or {}).get("state") == 2
    assert "reclamation of expired DHCPv4 leases works again" in caplog.text
    assert 'leasesync_reclaimed_leases_total{family="4"} 1.0' in (await client.http.get("/metrics")).text


async def test_a_long_backlog_is_reclaimed_a_chunk_per_transaction(sqlite_client: KeaClient,
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    import app.reclaim

    monkeypatch.setattr(app.reclaim, "_CHUNK", 2)
    for index in range(5):
        await add4(sqlite_client, f"192.0.2.{20 + index}", **EXPIRED)
    store = sqlite_client.runtime.families[4].store
    transactions: list[Any] = []
    write = store.write

    async def counted(op: Any) -> Any:
        transactions.append(op)
        return await write(op)

    monkeypatch.setattr(store, "write", counted)
    await reclaim(sqlite_client, remove=True)
    assert [op.limit for op in transactions] == [2, 2, 2]  # 2 + 2 + 1: the short chunk ends it
    assert (await sqlite_client.one("lease4-get-all", "dhcp4"))["result"] == 3  # none left
