"""SQLite writes and point reads run on the serving event loop (app/store/repository.py,
_InlineWriter and LeaseStore.read_point), with the writer thread as the fallback. These tests
drive that path the way requests do, and check what must stay true whatever path a write takes:
an answer only after the commit, group commit, first come first committed, and no lost write
when the loop's connection cannot take the lock."""

from __future__ import annotations

import asyncio
import os
import sqlite3
import threading
from collections.abc import Iterator
from typing import Any

import pytest

from app.errors import StoreUnavailable
from app.store import repository
from app.store.repository import AddLease, BulkApply, FuncOp, StoreConflict, UpdateLease, lease_key
from tests.conftest import KeaClient, lease_store, service_config, v4_lease


async def _hostname(client: KeaClient, address: str) -> str:
    answer = await client.one("lease4-get", "dhcp4", {"ip-address": address})
    assert answer["result"] == 0, answer
    return str(answer["arguments"]["hostname"])


async def test_concurrent_updates_from_the_loop_share_commits(sqlite_client: KeaClient) -> None:
    store = lease_store(sqlite_client)
    assert store._inline_writer is not None, "the in-process service should write on its own loop"
    commits_before = store.commits
    answers = await asyncio.gather(*(
        sqlite_client.one("lease4-add", "dhcp4", {"ip-address": f"192.0.2.{10 + i}", "hw-address": "1a:1b:1c:1d:1e:1f"})
        for i in range(40)))
    assert [a["result"] for a in answers] == [0] * 40
    assert store.commits - commits_before < 40, "every write paid its own commit: no group commit"
    for i in range(40):
        assert (await sqlite_client.one("lease4-get", "dhcp4", {"ip-address": f"192.0.2.{10 + i}"}))["result"] == 0


def _force_create(address: str, hostname: str) -> dict[str, Any]:
    return {"ip-address": address, "hw-address": "1a:1b:1c:1d:1e:1f", "hostname": hostname, "force-create": True}


async def test_concurrent_force_creates_are_one_upsert_told_added_or_updated(sqlite_client: KeaClient,
                                                                            monkeypatch: pytest.MonkeyPatch) -> None:
    upserted: list[int] = []
    batch_upsert = repository._force4_rows_sqlite

    def counted(conn: Any, rows: list[dict[str, Any]]) -> list[str]:
        upserted.append(len(rows))
        return batch_upsert(conn, rows)

    monkeypatch.setattr(repository, "_force4_rows_sqlite", counted)
    for i in range(20):
        await sqlite_client.one("lease4-add", "dhcp4", {"ip-address": f"192.0.2.{10 + i}", "hw-address": "0a:0b:0c:0d:0e:0f"})
    answers = await asyncio.gather(*(
        sqlite_client.one("lease4-update", "dhcp4", _force_create(f"192.0.2.{10 + i}", f"new{i}")) for i in range(40)))
    assert [a["text"] for a in answers] == ["IPv4 lease updated."] * 20 + ["IPv4 lease added."] * 20
    assert sum(upserted) > 1, "no batch of force-creates went out as one upsert"
    for i in range(40):
        assert await _hostname(sqlite_client, f"192.0.2.{10 + i}") == f"new{i}"
    assigned = await sqlite_client.one("statistic-get", "dhcp4", {"name": "subnet[1].assigned-addresses"})
    assert assigned["arguments"]["subnet[1].assigned-addresses"][0][0] == 40


async def test_concurrent_force_creates_of_one_address_are_applied_in_order(sqlite_client: KeaClient) -> None:
    answers = await asyncio.gather(*(
        sqlite_client.one("lease4-update", "dhcp4", _force_create("192.0.2.70", f"take{i}")) for i in range(6)))
    assert [a["text"] for a in answers] == ["IPv4 lease added."] + ["IPv4 lease updated."] * 5
    assert await _hostname(sqlite_client, "192.0.2.70") == "take5"


async def test_a_write_waits_for_another_writers_lock_then_commits(sqlite_client: KeaClient,
                                                                 sqlite_database: dict[str, Any]) -> None:
    # another process holds SQLite's write lock: the loop's connection must not wait for it (it
    # would stall every request), so the write goes to the writer thread, which waits and commits
    other = sqlite3.connect(sqlite_database["name"], isolation_level=None)
    other.execute("BEGIN IMMEDIATE")
    released = asyncio.Event()

    def release() -> None:
        other.execute("ROLLBACK")
        released.set()

    asyncio.get_running_loop().call_later(0.3, release)
    answer = await sqlite_client.one("lease4-add", "dhcp4", {"ip-address": "192.0.2.50", "hw-address": "1a:1b:1c:1d:1e:1f"})
    assert released.is_set(), "the write was answered while another writer held the lock"
    assert answer["result"] == 0, answer
    assert await _hostname(sqlite_client, "192.0.2.50") == ""
    other.close()


async def test_a_light_write_queued_after_a_heavy_one_commits_after_it(sqlite_client: KeaClient) -> None:
    store = lease_store(sqlite_client)
    await store.write(AddLease(v4_lease("192.0.2.60")))

    def rename_to_first(conn: Any, dialect: str) -> None:
        conn.exec_driver_sql("UPDATE lease4 SET hostname = 'first' WHERE address = ?",
                             (v4_lease("192.0.2.60").address,))

    heavy = asyncio.ensure_future(store.write(FuncOp(rename_to_first)))
    await asyncio.sleep(0)  # the heavy write is queued first
    light = asyncio.ensure_future(store.write(UpdateLease(v4_lease("192.0.2.60", hostname="second"))))
    await asyncio.gather(heavy, light)
    assert await _hostname(sqlite_client, "192.0.2.60") == "second"


async def test_the_ha_journal_rows_of_a_few_handed_off_changes_are_forgotten_on_the_serving_loop(
        sqlite_client: KeaClient, monkeypatch: pytest.MonkeyPatch) -> None:
    # on the writer thread the delete held the write lock the loop's next lease batches needed
    from app.store import sync_ops

    store = lease_store(sqlite_client)
    threads: list[int] = []
    real_delete = sync_ops.delete

    def recording_delete(*args: Any) -> Any:
        threads.append(threading.get_ident())
        return real_delete(*args)

    monkeypatch.setattr(sync_ops, "delete", recording_delete)
    await store.write(sync_ops.handoffs_done_op(list(range(sync_ops._LIGHT_HANDOFFS))))
    await store.write(sync_ops.handoffs_done_op(list(range(sync_ops._LIGHT_HANDOFFS + 1))))
    assert threads[0] == threading.get_ident(), "a few rows were not deleted on the serving loop"
    assert threads[1] != threading.get_ident(), "many rows were deleted on the serving loop"


async def test_a_heavy_write_queued_after_light_ones_commits_after_them(sqlite_client: KeaClient) -> None:
    store = lease_store(sqlite_client)
    await store.write(AddLease(v4_lease("192.0.2.61")))

    def rename_to_last(conn: Any, dialect: str) -> None:
        conn.exec_driver_sql("UPDATE lease4 SET hostname = 'last' WHERE address = ?", (v4_lease("192.0.2.61").address,))

    writes = [asyncio.ensure_future(store.write(UpdateLease(v4_lease("192.0.2.61", hostname=f"light{i}"))))
              for i in range(5)]
    await asyncio.sleep(0)
    writes.append(asyncio.ensure_future(store.write(FuncOp(rename_to_last))))
    await asyncio.gather(*writes)
    assert await _hostname(sqlite_client, "192.0.2.61") == "last"


async def test_one_failing_write_in_a_loop_batch_fails_alone(sqlite_client: KeaClient) -> None:
    # state 9 is not in lease_state: the foreign key refuses the row, which fails the whole
    # transaction; the writer thread redoes the batch one write at a time
    store = lease_store(sqlite_client)
    results = await asyncio.gather(
        store.write(AddLease(v4_lease("192.0.2.70"))),
        store.write(UpdateLease(v4_lease("192.0.2.71", state=9), force_create=True)),
        store.write(AddLease(v4_lease("192.0.2.72"))),
        return_exceptions=True)
    assert results[0] is True and results[2] is True, results
    assert isinstance(results[1], StoreConflict), results
    assert (await sqlite_client.one("lease4-get", "dhcp4", {"ip-address": "192.0.2.71"}))["result"] == 3
    assert (await sqlite_client.one("lease4-get", "dhcp4", {"ip-address": "192.0.2.72"}))["result"] == 0


async def test_point_reads_fall_back_to_a_reader_thread_when_the_loop_connection_breaks(
        sqlite_client: KeaClient) -> None:
    store = lease_store(sqlite_client)
    await store.write(AddLease(v4_lease("192.0.2.80", hostname="kept")))
    assert await _hostname(sqlite_client, "192.0.2.80") == "kept"
    reader = store._inline_reader
    assert reader is not None, "lease4-get did not use the loop's read connection"
    reader.connection.dbapi_connection.close()  # type: ignore[union-attr]
    assert await _hostname(sqlite_client, "192.0.2.80") == "kept"


async def test_with_synchronous_normal_the_loop_commits_without_a_thread(make_client: Any,
                                                                        sqlite_database: dict[str, Any]) -> None:
    client = await make_client(service_config({**sqlite_database, "synchronous": "NORMAL"}))
    store = lease_store(client)
    assert store._inline_writer is not None and not store._inline_writer.sync_after_commit
    answer = await client.one("lease4-add", "dhcp4", {"ip-address": "192.0.2.90", "hw-address": "1a:1b:1c:1d:1e:1f"})
    assert answer["result"] == 0
    assert (await client.one("lease4-get", "dhcp4", {"ip-address": "192.0.2.90"}))["result"] == 0


async def test_writes_after_close_are_refused(make_client: Any, sqlite_database: dict[str, Any]) -> None:
    client = await make_client(service_config(sqlite_database))
    store = lease_store(client)
    await asyncio.get_running_loop().run_in_executor(None, store.close)
    with pytest.raises(StoreUnavailable):
        await store.write(AddLease(v4_lease("192.0.2.99")))


async def test_every_reader_sees_a_lease_committed_after_its_last_read(client: KeaClient) -> None:
    # reader threads keep their connections between reads; a read must still end its transaction
    # (MySQL's REPEATABLE READ would otherwise answer from the first read's snapshot forever)
    address = {"ip-address": "192.0.2.120"}
    for _ in range(3 * client.runtime.families[4].store.config.pool_size):
        assert (await client.one("lease4-get", "dhcp4", address))["result"] == 3
    answer = await client.one("lease4-add", "dhcp4", {**address, "hw-address": "1a:1b:1c:1d:1e:1f"})
    assert answer["result"] == 0, answer
    for _ in range(3 * client.runtime.families[4].store.config.pool_size):
        assert (await client.one("lease4-get", "dhcp4", address))["result"] == 0


async def test_closing_the_store_answers_every_write_in_flight_truthfully(make_client: Any,
                                                                          sqlite_database: dict[str, Any]) -> None:
    client = await make_client(service_config(sqlite_database))
    store = lease_store(client)
    writes = [asyncio.ensure_future(store.write(AddLease(v4_lease(f"192.0.2.{130 + i}")))) for i in range(10)]
    await asyncio.sleep(0)  # the loop's first batch under way; the rest queue behind it
    closing = asyncio.get_running_loop().run_in_executor(None, store.close)
    for i in range(10, 30):
        writes.append(asyncio.ensure_future(store.write(AddLease(v4_lease(f"192.0.2.{130 + i}")))))
        await asyncio.sleep(0)
    await closing
    outcomes = await asyncio.wait_for(asyncio.gather(*writes, return_exceptions=True), 15)
    assert all(o is True or isinstance(o, StoreUnavailable) for o in outcomes), outcomes
    with sqlite3.connect(sqlite_database["name"]) as db:
        stored = db.execute("SELECT COUNT(*) FROM lease4 WHERE address BETWEEN ? AND ?",
                            (v4_lease("192.0.2.130").address, v4_lease("192.0.2.159").address)).fetchone()[0]
    assert stored == sum(o is True for o in outcomes), (stored, outcomes)


# --- durability: the WAL fsync after the commit --------------------------------------------

class HeldFsyncs:
    """os.fsync in the store, made to wait: each call blocks until the test lets one through."""

    def __init__(self) -> None:
        self.permits = threading.Semaphore(0)
        self.started = threading.Semaphore(0)
        self.synced: list[int] = []  # inodes of the files synced
        self.fail: OSError | None = None

    def __call__(self, fd: int) -> None:
        self.started.release()
        assert self.permits.acquire(timeout=10), "the test never let this fsync through"
        if self.fail is not None:
            raise self.fail
        self.synced.append(os.fstat(fd).st_ino)

    async def wait_started(self) -> None:
        assert await asyncio.get_running_loop().run_in_executor(None, lambda: self.started.acquire(timeout=10))


@pytest.fixture
def held_fsyncs(monkeypatch: pytest.MonkeyPatch) -> Iterator[HeldFsyncs]:
    import app.store.repository as repository

    held = HeldFsyncs()
    monkeypatch.setattr(repository.os, "fsync", held)
    yield held
    for _ in range(100):  # nothing left blocked on the committer thread
        held.permits.release()


def committed_between(database: dict[str, Any], first: str, last: str) -> int:
    with sqlite3.connect(database["name"]) as db:
        return int(db.execute("SELECT COUNT(*) FROM lease4 WHERE address BETWEEN ? AND ?",
                              (v4_lease(first).address, v4_lease(last).address)).fetchone()[0])


async def let_the_loop_turn() -> None:
    for _ in range(20):  # enough turns for a batch to commit, were it committed during the fsync
        await asyncio.sleep(0)


async def a_group_behind_a_write_in_its_fsync(
        store: Any, held: HeldFsyncs, first: int) -> tuple[asyncio.Future[Any], list[asyncio.Future[Any]]]:
    """A write of 192.0.2.`first` held in its WAL fsync, then a group of one-lease writes of the
    addresses after it, small enough to commit during that fsync only while few are in flight,
    and the loop given the turns to commit it."""
    write = asyncio.ensure_future(store.write(AddLease(v4_lease(f"192.0.2.{first}"))))
    await held.wait_started()
    group = [asyncio.ensure_future(store.write(AddLease(v4_lease(f"192.0.2.{first + 1 + i}"))))
             for i in range(repository._COMMIT_DURING_FSYNC_ONE_LEASE)]
    await let_the_loop_turn()
    return write, group


async def release_two_fsyncs(held: HeldFsyncs) -> None:
    held.permits.release()
    await held.wait_started()
    held.permits.release()


async def test_a_durable_write_is_answered_only_after_the_wal_fsync_that_followed_its_commit(
        sqlite_client: KeaClient, sqlite_database: dict[str, Any], held_fsyncs: HeldFsyncs) -> None:
    adding = asyncio.ensure_future(sqlite_client.one(
        "lease4-add", "dhcp4", {"ip-address": "192.0.2.200", "hw-address": "1a:1b:1c:1d:1e:1f"}))
    await held_fsyncs.wait_started()
    done, _ = await asyncio.wait({adding}, timeout=0.2)
    assert not done, "answered before its commit reached the disk"
    with sqlite3.connect(sqlite_database["name"]) as db:  # committed (visible), not yet acknowledged
        assert db.execute("SELECT COUNT(*) FROM lease4 WHERE address = ?",
                          (v4_lease("192.0.2.200").address,)).fetchone()[0] == 1
    held_fsyncs.permits.release()
    assert (await adding)["result"] == 0
    assert held_fsyncs.synced == [os.stat(sqlite_database["name"] + "-wal").st_ino], "synced something else than the WAL"


async def test_writes_that_arrive_during_an_fsync_are_committed_after_it_in_one_batch(
        sqlite_client: KeaClient, sqlite_database: dict[str, Any], held_fsyncs: HeldFsyncs) -> None:
    store = lease_store(sqlite_client)
    commits = store.commits
    first = asyncio.ensure_future(store.write(AddLease(v4_lease("192.0.2.201"))))
    await held_fsyncs.wait_started()  # the first fsync is under way
    later = [asyncio.ensure_future(store.write(AddLease(v4_lease(f"192.0.2.{202 + i}")))) for i in range(3)]
    await let_the_loop_turn()
    assert committed_between(sqlite_database, "192.0.2.202", "192.0.2.204") == 0, \
        "committed while the fsync before it still ran"
    held_fsyncs.permits.release()
    assert await first is True
    await held_fsyncs.wait_started()  # a second fsync, after the waiting writes' commit
    assert not any(w.done() for w in later), "answered before an fsync that began after their commit"
    held_fsyncs.permits.release()
    assert await asyncio.gather(*later) == [True, True, True]
    assert store.commits == commits + 2, "the writes that waited were not committed together"


async def test_a_large_batch_that_queued_during_an_fsync_commits_without_waiting_for_it(
        sqlite_client: KeaClient, sqlite_database: dict[str, Any], held_fsyncs: HeldFsyncs) -> None:
    import app.store.repository as repository

    store = lease_store(sqlite_client)
    first = asyncio.ensure_future(store.write(AddLease(v4_lease("192.0.2.221"))))
    await held_fsyncs.wait_started()  # the first fsync is under way
    size = repository._COMMIT_DURING_FSYNC
    many = [asyncio.ensure_future(store.write(AddLease(v4_lease(f"192.0.2.{222 + i}")))) for i in range(size)]
    await let_the_loop_turn()
    assert committed_between(sqlite_database, "192.0.2.222", f"192.0.2.{221 + size}") == size, \
        "a full batch waited for the fsync before it"
    assert not any(w.done() for w in many), "answered before an fsync that began after their commit"
    held_fsyncs.permits.release()
    assert await first is True
    await held_fsyncs.wait_started()
    held_fsyncs.permits.release()
    assert all(await asyncio.gather(*many))


async def test_with_few_writes_in_flight_some_one_lease_writes_commit_during_the_fsync(
        sqlite_client: KeaClient, sqlite_database: dict[str, Any], held_fsyncs: HeldFsyncs) -> None:
    # a handful of clients: the loop would idle through the fsync, so the next group commits now
    first, group = await a_group_behind_a_write_in_its_fsync(lease_store(sqlite_client), held_fsyncs, 241)
    size = repository._COMMIT_DURING_FSYNC_ONE_LEASE
    assert committed_between(sqlite_database, "192.0.2.242", f"192.0.2.{241 + size}") == size
    assert not any(w.done() for w in group), "answered before an fsync that began after their commit"
    await release_two_fsyncs(held_fsyncs)
    assert await first is True and all(await asyncio.gather(*group))


async def test_a_batch_committed_during_an_fsync_is_synced_next_without_waiting_for_the_loop(
        sqlite_client: KeaClient, held_fsyncs: HeldFsyncs) -> None:
    # the committer thread goes on to the next fsync by itself: waking it from the loop cost a
    # cross-CPU wake-up per commit
    first, group = await a_group_behind_a_write_in_its_fsync(lease_store(sqlite_client), held_fsyncs, 221)
    held_fsyncs.permits.release()
    # the loop does not turn here: the second fsync must begin all the same
    assert held_fsyncs.started.acquire(timeout=5), "the next fsync waited for the loop"
    held_fsyncs.permits.release()
    assert await first is True and all(await asyncio.gather(*group))


async def test_with_many_writes_in_flight_a_small_group_waits_for_the_fsync(
        sqlite_client: KeaClient, sqlite_database: dict[str, Any], held_fsyncs: HeldFsyncs) -> None:
    # many clients: the loop stays busy during the fsync, and one larger commit costs less CPU
    store = lease_store(sqlite_client)
    syncing = [asyncio.ensure_future(store.write(AddLease(v4_lease(f"192.0.2.{1 + i}")))) for i in range(6)]
    await held_fsyncs.wait_started()
    group = [asyncio.ensure_future(store.write(AddLease(v4_lease(f"192.0.2.{11 + i}"))))
             for i in range(repository._COMMIT_DURING_FSYNC_ONE_LEASE)]
    await let_the_loop_turn()
    assert committed_between(sqlite_database, "192.0.2.11", "192.0.2.20") == 0, "committed during the fsync"
    await release_two_fsyncs(held_fsyncs)
    assert all(await asyncio.gather(*syncing, *group))


async def test_a_small_group_of_bulks_waits_for_the_fsync(
        sqlite_client: KeaClient, sqlite_database: dict[str, Any], held_fsyncs: HeldFsyncs) -> None:
    store = lease_store(sqlite_client)
    first = asyncio.ensure_future(store.write(AddLease(v4_lease("192.0.2.31"))))
    await held_fsyncs.wait_started()
    bulks = [asyncio.ensure_future(store.write(BulkApply(upserts=[
                 UpdateLease(v4_lease(f"192.0.2.{40 + 2 * i + j}"), force_create=True) for j in range(2)])))
             for i in range(repository._COMMIT_DURING_FSYNC_ONE_LEASE)]
    await let_the_loop_turn()
    assert committed_between(sqlite_database, "192.0.2.40", "192.0.2.60") == 0, "committed during the fsync"
    await release_two_fsyncs(held_fsyncs)
    assert await first is True
    await asyncio.gather(*bulks)
    assert committed_between(sqlite_database, "192.0.2.40", "192.0.2.60") == 2 * repository._COMMIT_DURING_FSYNC_ONE_LEASE


async def test_a_failed_wal_fsync_answers_that_the_change_may_not_be_durable(sqlite_client: KeaClient,
                                                                               held_fsyncs: HeldFsyncs) -> None:
    held_fsyncs.fail = OSError(5, "Input/output error")
    held_fsyncs.permits.release()
    answer = await sqlite_client.one("lease4-add", "dhcp4", {"ip-address": "192.0.2.203", "hw-address": "1a:1b:1c:1d:1e:1f"})
    assert answer["result"] == 1
    assert "may have been applied" in answer["text"] and "Input/output error" in answer["text"]
    held_fsyncs.fail = None
    held_fsyncs.permits.release()
    answer = await sqlite_client.one("lease4-update", "dhcp4", {"ip-address": "192.0.2.203", "hw-address": "1a:1b:1c:1d:1e:1f",
                                                               "hostname": "after"})
    assert answer["result"] == 0, "the store did not recover from one failed fsync"


async def test_a_failed_fsync_of_a_later_round_answers_only_its_own_batches_as_maybe_not_durable(
        sqlite_client: KeaClient, held_fsyncs: HeldFsyncs) -> None:
    store = lease_store(sqlite_client)
    first, group = await a_group_behind_a_write_in_its_fsync(store, held_fsyncs, 211)
    held_fsyncs.permits.release()
    await held_fsyncs.wait_started()  # the group's own fsync, which fails
    held_fsyncs.fail = OSError(5, "Input/output error")
    held_fsyncs.permits.release()
    assert await first is True
    outcomes = await asyncio.gather(*group, return_exceptions=True)
    assert all(isinstance(outcome, repository.StoreOutcomeUnknown) for outcome in outcomes), outcomes
    held_fsyncs.fail = None
    held_fsyncs.permits.release()
    assert await store.write(AddLease(v4_lease("192.0.2.220"))) is True, "no recovery after the failed fsync"


async def test_a_writer_thread_batch_is_answered_after_the_loop_batch_it_committed_after(
        sqlite_client: KeaClient, held_fsyncs: HeldFsyncs) -> None:
    # answers leave in commit order whatever path each write took: an HA partner is told of
    # changes in answer order, and two versions of one lease must reach it oldest first
    store = lease_store(sqlite_client)
    answered: list[str] = []
    light = asyncio.ensure_future(store.write(AddLease(v4_lease("192.0.2.210", hostname="light"))))
    light.add_done_callback(lambda _: answered.append("light"))
    await held_fsyncs.wait_started()  # committed on the loop, its fsync held

    def rename(conn: Any, dialect: str) -> None:
        conn.exec_driver_sql("UPDATE lease4 SET hostname = 'heavy' WHERE address = ?", (v4_lease("192.0.2.210").address,))

    heavy = asyncio.ensure_future(store.write(FuncOp(rename)))  # the writer thread, synchronous FULL
    heavy.add_done_callback(lambda _: answered.append("heavy"))
    for _ in range(200):  # until the writer thread committed it (its own fsync is SQLite's, not held)
        if store.commits >= 1 and store._inline_writer is not None and store._inline_writer._held:
            break
        await asyncio.sleep(0.005)
    assert store._inline_writer is not None and store._inline_writer._held, "the writer thread's batch was not held"
    assert not heavy.done(), "answered before the loop batch it committed after"
    held_fsyncs.permits.release()
    await asyncio.gather(light, heavy)
    assert answered == ["light", "heavy"]
    assert await _hostname(sqlite_client, "192.0.2.210") == "heavy"


def test_lease_keys_name_a_v6_address_by_its_bytes() -> None:
    # what keeps two PostgreSQL writers off one lease (LeaseStore._claim_batch): any spelling of
    # an address names the same lease, and a v4 address never names a v6 one
    assert lease_key(6, "2001:db8::1") == lease_key(6, "2001:0db8:0:0::1")
    assert lease_key(4, 3221225985) != lease_key(6, "::c000:201")
