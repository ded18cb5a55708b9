"""PostgreSQL's two writer connections (LeaseStore._claim_batch).

While one writer's transaction is open, the other takes the next writes from the head of the
queue when the head is a bulk, but only those that change no lease of the open transaction; a
single-lease write waits to be gathered into the next transaction, and an op whose leases are not
known beforehand (a wipe, a reclamation) has the database to itself. A transaction begun beside
another that waits too long for a lock (Kea's statistics rows, taken in another order) is rolled
back and redone alone, and its request is answered as if nothing had happened."""

from __future__ import annotations

import asyncio
import random
import threading
from dataclasses import dataclass, field
from typing import Any

import pytest

from app.store.repository import DeleteLease, LeaseKey, WriteOp, lease_key
from tests.conftest import service_config

pytestmark = pytest.mark.postgres

DUID = "01:02:03:04:05:06:07:08"


@dataclass
class _HeldWrite(WriteOp):
    """A write of the given leases that keeps its writer's transaction open until released."""

    keys: frozenset[LeaseKey]
    sql: str = ""  # run first, inside the transaction (e.g. to take a row lock)
    started: threading.Event = field(default_factory=threading.Event)
    release: threading.Event = field(default_factory=threading.Event)

    def lease_keys(self) -> frozenset[LeaseKey]:
        return self.keys

    def apply(self, conn: Any, dialect: str) -> None:
        if self.sql:
            conn.exec_driver_sql(self.sql)
        self.started.set()
        self.release.wait(10)


async def _hold(store: Any, *keys: LeaseKey, sql: str = "") -> tuple[asyncio.Future[Any], _HeldWrite]:
    op = _HeldWrite(frozenset(keys), sql)
    held = asyncio.ensure_future(store.write(op))
    assert await asyncio.get_running_loop().run_in_executor(None, op.started.wait, 10)
    return held, op


async def _until(condition: Any, what: str) -> None:
    for _ in range(1000):  # at most ~10 s
        if condition():
            return
        await asyncio.sleep(0.01)
    raise AssertionError(what)


def _update4(address: str, hostname: str = "") -> dict[str, Any]:
    return {"ip-address": address, "hw-address": "1a:1b:1c:1d:1e:1f", "hostname": hostname, "force-create": True}


def _bulk4(address: str, hostname: str = "") -> dict[str, Any]:
    return {"leases": [{"ip-address": address, "hw-address": "1a:1b:1c:1d:1e:1f", "hostname": hostname}]}


BULK4_DONE = {"result": 0, "text": "Bulk apply of 1 IPv4 leases completed."}


async def test_a_bulk_of_other_leases_commits_while_a_transaction_is_open(make_client: Any,
                                                                          pg_database: Any) -> None:
    client = await make_client(service_config(pg_database))
    store = client.runtime.families[4].store
    held, op = await _hold(store, lease_key(4, 0xC0000214))  # 192.0.2.20

    other = await asyncio.wait_for(client.one("lease4-bulk-apply", "dhcp4", _bulk4("192.0.2.21")), timeout=10)

    assert other == BULK4_DONE
    assert not held.done()
    op.release.set()
    await held


async def test_a_single_lease_update_waits_for_the_next_transaction(make_client: Any, pg_database: Any) -> None:
    client = await make_client(service_config(pg_database))
    store = client.runtime.families[4].store
    held, op = await _hold(store, lease_key(4, 0xC0000214))  # 192.0.2.20
    other = asyncio.ensure_future(client.one("lease4-update", "dhcp4", _update4("192.0.2.21")))
    await _until(lambda: len(store._queue) == 1, "the update did not queue")
    await asyncio.sleep(0.2)  # time enough for the other writer to take it, were it to

    assert not other.done()
    op.release.set()
    await held
    assert (await asyncio.wait_for(other, timeout=10)) == {"result": 0, "text": "IPv4 lease added."}


async def test_a_write_of_a_lease_in_an_open_transaction_waits_for_its_commit(make_client: Any,
                                                                              pg_database: Any) -> None:
    client = await make_client(service_config(pg_database))
    store = client.runtime.families[4].store
    held, op = await _hold(store, lease_key(4, 0xC0000214))  # 192.0.2.20
    same = asyncio.ensure_future(client.one("lease4-bulk-apply", "dhcp4", _bulk4("192.0.2.20", "second")))
    await _until(lambda: len(store._queue) == 1, "the update did not queue")
    behind = asyncio.ensure_future(client.one("lease4-bulk-apply", "dhcp4", _bulk4("192.0.2.22")))
    await _until(lambda: len(store._queue) == 2, "the second update did not queue")
    await asyncio.sleep(0.2)  # time enough for the other writer to take them, were it free to

    assert not same.done() and not behind.done()  # nothing overtakes the waiting write
    op.release.set()
    await held
    assert await asyncio.wait_for(same, timeout=10) == BULK4_DONE
    assert await asyncio.wait_for(behind, timeout=10) == BULK4_DONE
    stored = await client.one("lease4-get", "dhcp4", {"ip-address": "192.0.2.20"})
    assert stored["arguments"]["hostname"] == "second"


async def test_a_v6_address_in_another_spelling_is_the_same_lease(make_client: Any, pg_database: Any) -> None:
    client = await make_client(service_config(pg_database))
    store = client.runtime.families[6].store
    held, op = await _hold(store, lease_key(6, "2001:db8:1::5"))
    same = asyncio.ensure_future(client.one("lease6-bulk-apply", "dhcp6", {"leases": [{
        "subnet-id": 1, "ip-address": "2001:0db8:0001:0:0::5", "duid": DUID, "iaid": 1}]}))
    await _until(lambda: len(store._queue) == 1, "the update did not queue")
    await asyncio.sleep(0.2)  # time enough for the other writer to take it, were it free to

    assert not same.done()
    op.release.set()
    await held
    assert (await asyncio.wait_for(same, timeout=10))["result"] == 0


async def test_writes_behind_a_wipe_wait_for_it_and_the_wipe_for_the_open_transaction(make_client: Any,
                                                                                       pg_database: Any) -> None:
    client = await make_client(service_config(pg_database))
    await client.one("lease4-add", "dhcp4", {"ip-address": "192.0.2.30", "hw-address": "1a:1b:1c:1d:1e:1f"})
    store = client.runtime.families[4].store
    held, op = await _hold(store, lease_key(4, 0xC0000214))  # 192.0.2.20
    wipe = asyncio.ensure_future(client.one("lease4-wipe", "dhcp4", {"subnet-id": 1}))
    await _until(lambda: len(store._queue) == 1, "the wipe did not queue")
    after = asyncio.ensure_future(client.one("lease4-bulk-apply", "dhcp4", _bulk4("192.0.2.31")))
    await _until(lambda: len(store._queue) == 2, "the update did not queue")
    await asyncio.sleep(0.2)  # time enough for the other writer to take either, were it free to

    assert not wipe.done() and not after.done()
    op.release.set()
    await held
    assert (await asyncio.wait_for(wipe, timeout=10))["result"] == 0
    assert (await asyncio.wait_for(after, timeout=10))["result"] == 0
    assert (await client.one("lease4-get", "dhcp4", {"ip-address": "192.0.2.30"}))["result"] == 3  # wiped
    assert (await client.one("lease4-get", "dhcp4", {"ip-address": "192.0.2.31"}))["result"] == 0  # after it


async def test_a_write_blocked_by_the_open_transaction_s_lock_is_redone_alone(make_client: Any,
                                                                             pg_database: Any) -> None:
    client = await make_client(service_config(pg_database))
    await client.one("lease4-add", "dhcp4", {"ip-address": "192.0.2.40", "hw-address": "1a:1b:1c:1d:1e:1f"})
    store = client.runtime.families[4].store
    # the open transaction holds subnet 1's statistics row, which the new lease's trigger updates
    held, op = await _hold(store, lease_key(4, 0xC0000228),  # 192.0.2.40
                           sql="UPDATE lease4_stat SET leases = leases WHERE subnet_id = 1 AND state = 0")
    blocked = asyncio.ensure_future(client.one("lease4-bulk-apply", "dhcp4", _bulk4("192.0.2.41")))
    await _until(lambda: store.lock_conflicts == 1, "the write beside the open transaction did not give way")
    await asyncio.sleep(0.3)  # it is not retried beside the open transaction again

    assert store.lock_conflicts == 1 and not blocked.done()
    op.release.set()
    await held
    assert await asyncio.wait_for(blocked, timeout=10) == BULK4_DONE
    assigned = await client.one("statistic-get", "dhcp4", {"name": "subnet[1].assigned-addresses"})
    assert assigned["arguments"]["subnet[1].assigned-addresses"][0][0] == 2
    rows = await store.read(lambda c, _d: c.exec_driver_sql(
        "SELECT leases FROM lease4_stat WHERE subnet_id = 1 AND state = 0").scalar())
    assert rows == 2  # Kea's statistics trigger ran once for the lease, in the transaction redone
    metrics = (await client.http.get("/metrics")).text
    assert f'leasesync_store_lock_conflicts_total{{database="{store.config.redacted_url()}"}} 1.0' in metrics


async def test_concurrent_bulks_over_shared_leases_leave_table_and_statistics_consistent(make_client: Any,
                                                                                          pg_database: Any) -> None:
    client = await make_client(service_config(pg_database))
    store = client.runtime.families[6].store
    shared = [f"2001:db8:{subnet}::{n:x}" for subnet in (1, 2) for n in range(1, 16)]
    rng = random.Random(18)

    async def owner(number: int) -> None:
        # 10 rounds over its own leases (in both subnets), each waiting for the last: the last round stays
        own = [f"2001:db8:{subnet}::{0x100 * (number + 1) + n:x}" for subnet in (1, 2) for n in range(5)]
        for round_ in range(10):
            answer = await client.one("lease6-bulk-apply", "dhcp6", {"leases": [
                {"subnet-id": int(a.split(":")[2]), "ip-address": a, "duid": DUID, "iaid": round_} for a in own]})
            assert answer["result"] == 0, answer

    async def crowd(picks: list[list[str]], deletes: list[list[str]]) -> None:
        # bulks over the shared leases, in both subnets and in no order, with deletes among them
        for leases, gone in zip(picks, deletes, strict=True):
            answer = await client.one("lease6-bulk-apply", "dhcp6", {
                "deleted-leases": [{"ip-address": a} for a in gone],
                "leases": [{"subnet-id": int(a.split(":")[2]), "ip-address": a, "duid": DUID, "iaid": 7}
                           for a in leases]})
            assert answer["result"] in (0, 3), answer

    crowds = [([rng.sample(shared, 8) for _ in range(10)], [rng.sample(shared, 2) for _ in range(10)])
              for _ in range(6)]
    await asyncio.wait_for(asyncio.gather(*(owner(n) for n in range(6)),
                                          *(crowd(picks, gone) for picks, gone in crowds)), timeout=120)

    for number in range(6):
        for subnet in (1, 2):
            address = f"2001:db8:{subnet}::{0x100 * (number + 1) + 4:x}"
            stored = await client.one("lease6-get", "dhcp6", {"ip-address": address})
            assert stored["arguments"]["iaid"] == 9, stored
    counted = await store.read(lambda c, _d: sorted(c.exec_driver_sql(
        "SELECT subnet_id, lease_type, state, count(*) FROM lease6 GROUP BY subnet_id, lease_type, state").all()))
    kept = await store.read(lambda c, _d: sorted(c.exec_driver_sql(
        "SELECT subnet_id, lease_type, state, leases FROM lease6_stat WHERE leases <> 0").all()))
    assert [tuple(r) for r in kept] == [tuple(r) for r in counted]  # Kea's triggers saw every change once


async def test_a_delete_of_an_address_that_does_not_parse_runs_alone(make_client: Any, pg_database: Any) -> None:
    client = await make_client(service_config(pg_database))
    store = client.runtime.families[6].store
    # a v6 address as no parser spells it (a row written by another program) names no lease key:
    # the delete runs with nothing beside it, and the writers go on
    assert await asyncio.wait_for(store.write(DeleteLease(6, "2001:db8:1::zz")), timeout=10) is None

    answer = await asyncio.wait_for(client.one("lease6-bulk-apply", "dhcp6", {"leases": [
        {"subnet-id": 1, "ip-address": "2001:db8:1::1", "duid": DUID, "iaid": 1}]}), timeout=10)

    assert answer == {"result": 0, "text": "Bulk apply of 1 IPv6 leases completed."}
