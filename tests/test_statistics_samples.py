"""The lease statistics' samples: Kea 2.2 keeps one sample per change of a value (lease_cmds'
updateStatsOn*, leaseX-wipe, the recount at configuration), and leasesync keeps the same.
tests/kea_cases.py ("statistics/...") proves the sequences against Kea's recorded answers; these
tests cover what a single long-running Kea cannot show: start-up, config-reload with leases in
the store, changes made behind leasesync's back, and the cost of a lease change."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

from sqlalchemy import insert

from app.store import schema
from app.store.leases import lease4_to_row
from app.store.repository import AddLease, make_engine
from tests.conftest import KeaClient, lease_store, service_config, v4_lease

HW = "1a:1b:1c:1d:1e:1f"
ASSIGNED = "subnet[1].assigned-addresses"


async def samples(client: KeaClient, name: str, service: str = "dhcp4") -> list[int] | None:
    ans = await client.one("statistic-get", service, {"name": name})
    assert ans["result"] == 0, ans
    found = ans["arguments"].get(name)
    return None if found is None else [value for value, _ in found]


async def ok(client: KeaClient, command: str, arguments: dict[str, Any], service: str = "dhcp4") -> None:
    ans = await client.one(command, service, arguments)
    assert ans["result"] == 0, ans


def lease4(ip: str, **extra: Any) -> dict[str, Any]:
    return {"ip-address": ip, "hw-address": HW, **extra}


async def test_each_lease4_add_takes_a_sample(sqlite_client: KeaClient) -> None:
    await ok(sqlite_client, "lease4-add", lease4("192.0.2.20"))
    await ok(sqlite_client, "lease4-add", lease4("192.0.2.21"))
    assert await samples(sqlite_client, ASSIGNED) == [2, 1, 0]


async def test_start_up_recounts_the_store_as_kea_does(sqlite_client: KeaClient) -> None:
    # leases already in the table when the statistics are first needed: Kea's recount zeroes
    # every value, then adds the default and the declined leases' counts
    store = lease_store(sqlite_client)
    for address, state in (("192.0.2.20", 0), ("192.0.2.21", 0), ("192.0.2.22", 1)):
        assert await store.write(AddLease(v4_lease(address, state=state)))
    assert await samples(sqlite_client, ASSIGNED) == [3, 2, 0]
    assert await samples(sqlite_client, "subnet[1].declined-addresses") == [1, 0]
    assert await samples(sqlite_client, "declined-addresses") == [1, 0]
    assert await samples(sqlite_client, "subnet[1].total-addresses") == [191]


async def test_an_update_that_moves_no_count_takes_no_sample(sqlite_client: KeaClient) -> None:
    await ok(sqlite_client, "lease4-add", lease4("192.0.2.20"))
    await ok(sqlite_client, "lease4-update", lease4("192.0.2.20", hostname="h"))
    await ok(sqlite_client, "lease4-update", lease4("192.0.2.20", **{"force-create": True}))
    assert await samples(sqlite_client, ASSIGNED) == [1, 0]


async def test_updating_a_declined_lease_takes_it_off_and_back_on(sqlite_client: KeaClient) -> None:
    await ok(sqlite_client, "lease4-add", lease4("192.0.2.20", state=1))
    await ok(sqlite_client, "lease4-update", lease4("192.0.2.20", state=1))
    assert await samples(sqlite_client, "declined-addresses") == [1, 0, 1, 0]
    assert await samples(sqlite_client, ASSIGNED) == [1, 0]


async def test_a_declined_lease_in_the_store_at_start_up_is_known_to_updates(sqlite_client: KeaClient) -> None:
    assert await lease_store(sqlite_client).write(AddLease(v4_lease("192.0.2.20", state=1)))
    await ok(sqlite_client, "lease4-update", lease4("192.0.2.20", state=0))
    assert await samples(sqlite_client, "declined-addresses") == [0, 1, 0]


async def test_expired_reclaimed_leases_follow_lease_cmds(sqlite_client: KeaClient) -> None:
    # lease_cmds: to expired-reclaimed does not lower assigned, from it raises it
    await ok(sqlite_client, "lease4-add", lease4("192.0.2.20", state=2))
    assert await samples(sqlite_client, ASSIGNED) == [0]
    await ok(sqlite_client, "lease4-update", lease4("192.0.2.20", state=0))
    await ok(sqlite_client, "lease4-update", lease4("192.0.2.20", state=2))
    await ok(sqlite_client, "lease4-update", lease4("192.0.2.20", state=0))
    assert await samples(sqlite_client, ASSIGNED) == [2, 1, 0]


async def test_a_lease6_ta_counts_as_an_assigned_prefix(sqlite_client: KeaClient) -> None:
    ta = {"subnet-id": 1, "ip-address": "2001:db8:1::109", "duid": "01:02:03:04:05:06:07:08", "iaid": 1,
          "type": "IA_TA"}
    await ok(sqlite_client, "lease6-add", ta, "dhcp6")
    assert await samples(sqlite_client, "subnet[1].assigned-pds", "dhcp6") == [1, 0]
    assert await samples(sqlite_client, "subnet[1].assigned-nas", "dhcp6") == [0]


async def test_lease6_bulk_apply_moves_the_statistics_per_lease(sqlite_client: KeaClient) -> None:
    na = {"ip-address": "2001:db8:1::100", "duid": "01:02:03:04:05:06:07:08", "iaid": 1}
    await ok(sqlite_client, "lease6-add", na, "dhcp6")
    await ok(sqlite_client, "lease6-bulk-apply", {
        "deleted-leases": [{"ip-address": "2001:db8:1::100"}],
        "leases": [{**na, "ip-address": "2001:db8:1::101"}, {**na, "ip-address": "2001:db8:1::102", "state": 1}],
    }, "dhcp6")
    assert await samples(sqlite_client, "subnet[1].assigned-nas", "dhcp6") == [2, 1, 0, 1, 0]
    assert await samples(sqlite_client, "declined-addresses", "dhcp6") == [1, 0]


async def test_lease4_bulk_apply_moves_the_statistics_per_lease(sqlite_client: KeaClient) -> None:
    await ok(sqlite_client, "lease4-add", lease4("192.0.2.20"))
    await ok(sqlite_client, "lease4-bulk-apply", {
        "deleted-leases": [{"ip-address": "192.0.2.20"}], "leases": [lease4("192.0.2.21", state=1)]})
    assert await samples(sqlite_client, ASSIGNED) == [1, 0, 1, 0]
    assert await samples(sqlite_client, "subnet[1].declined-addresses") == [1, 0]


async def test_wiping_an_unconfigured_subnet_creates_its_statistics(sqlite_client: KeaClient) -> None:
    assert (await sqlite_client.one("lease4-wipe", "dhcp4", {"subnet-id": 9}))["result"] == 3
    assert await samples(sqlite_client, "subnet[9].assigned-addresses") == [0]
    assert await samples(sqlite_client, "subnet[9].declined-addresses") == [0]
    assert await samples(sqlite_client, "declined-addresses") == [0, 0]


async def test_config_reload_recounts_subnets_afresh_and_keeps_the_global_history(
        make_client: Any, sqlite_database: dict[str, Any], tmp_path: Path) -> None:
    config = service_config(sqlite_database)
    (tmp_path / "leasesync.json").write_text(json.dumps(config))
    client = await make_client(config)
    await ok(client, "lease4-add", lease4("192.0.2.20", state=1))
    await ok(client, "statistic-sample-count-set", {"name": ASSIGNED, "max-samples": 1})
    assert (await client.one("config-reload", "dhcp4"))["result"] == 0
    # the subnet's statistics are new (and have the default limit again)...
    assert await samples(client, ASSIGNED) == [1, 0]
    assert await samples(client, "subnet[1].declined-addresses") == [1, 0]
    # ...the global one carries on: zeroed, then the declined count added
    assert await samples(client, "declined-addresses") == [1, 0, 1, 0]


async def test_captured_changes_move_the_statistics_by_their_net_effect(
        make_client: Any, sqlite_database: dict[str, Any]) -> None:
    db = {**sqlite_database, "capture-changes": True}
    client = await make_client(service_config(db))
    assert await samples(client, ASSIGNED) == [0]
    config = client.runtime.families[4].config
    engine = make_engine(config.lease_database)  # not leasesync's writer: its changes are "Kea's"
    try:
        def kea_adds() -> None:
            with engine.begin() as conn:
                for address in ("192.0.2.20", "192.0.2.21"):
                    conn.execute(insert(schema.lease4).values(**lease4_to_row(v4_lease(address), "sqlite")))

        await asyncio.to_thread(kea_adds)
    finally:
        engine.dispose()
    capture = next(s for s in client.runtime.services if type(s).__name__ == "ChangeCapture")
    await capture.drain_once()
    assert await samples(client, ASSIGNED) == [2, 0]


async def test_lease_changes_do_not_read_the_store(sqlite_client: KeaClient) -> None:
    await samples(sqlite_client, ASSIGNED)  # counted once, when first needed
    store = lease_store(sqlite_client)
    reads: list[Any] = []
    original = store.read

    async def counting_read(fn: Any) -> Any:
        reads.append(fn)
        return await original(fn)

    store.read = counting_read
    try:
        await ok(sqlite_client, "lease4-add", lease4("192.0.2.20"))
        await ok(sqlite_client, "lease4-update", lease4("192.0.2.20", state=1))
        await ok(sqlite_client, "lease4-update", lease4("192.0.2.21", **{"force-create": True}))
        await ok(sqlite_client, "lease4-wipe", {"subnet-id": 1})
    finally:
        del store.read
    assert reads == []
    assert await samples(sqlite_client, ASSIGNED) == [0, 2, 1, 0]
