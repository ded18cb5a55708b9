"""query-timeout of lease writes (lease-database `query-timeout`): a write the database does not
commit in time is answered with an error and changes nothing, each at its own deadline, however
many writes wait at once (app/store/repository.py, _Deadlines)."""

from __future__ import annotations

import asyncio
import sqlite3
from typing import Any

import pytest

from app.errors import StoreUnavailable
from app.store.repository import AddLease
from tests.conftest import KeaClient, lease_store, service_config, v4_lease

QUERY_TIMEOUT = 0.4


@pytest.fixture
async def slow_client(make_client: Any, sqlite_database: dict[str, Any]) -> KeaClient:
    client: KeaClient = await make_client(service_config({**sqlite_database, "query-timeout": QUERY_TIMEOUT}))
    return client


def _hold_write_lock(database: dict[str, Any]) -> sqlite3.Connection:
    """Another writer (Kea, a script) holds SQLite's write lock until rolled back."""
    other = sqlite3.connect(database["name"], isolation_level=None)
    other.execute("BEGIN IMMEDIATE")
    return other


def _stored(database: dict[str, Any], address: str) -> int:
    with sqlite3.connect(database["name"]) as db:
        return int(db.execute("SELECT COUNT(*) FROM lease4 WHERE address = ?", (v4_lease(address).address,)).fetchone()[0])


async def test_a_write_not_committed_within_query_timeout_is_answered_with_an_error(
        slow_client: KeaClient, sqlite_database: dict[str, Any]) -> None:
    other = _hold_write_lock(sqlite_database)
    try:
        answer = await asyncio.wait_for(slow_client.one(
            "lease4-add", "dhcp4", {"ip-address": "192.0.2.10", "hw-address": "1a:1b:1c:1d:1e:1f"}), 10)
    finally:
        other.execute("ROLLBACK")
        other.close()
    assert answer["result"] == 1, answer
    assert "did not commit within 0.4 s" in answer["text"], answer


async def test_a_write_that_timed_out_changes_nothing_once_the_lock_is_free(
        slow_client: KeaClient, sqlite_database: dict[str, Any]) -> None:
    other = _hold_write_lock(sqlite_database)
    try:
        answer = await slow_client.one("lease4-add", "dhcp4", {"ip-address": "192.0.2.11", "hw-address": "1a:1b:1c:1d:1e:1f"})
        assert answer["result"] == 1, answer
    finally:
        other.execute("ROLLBACK")
        other.close()
    # the writer thread was still waiting for the lock with the withdrawn request: a later write
    # commits, and the withdrawn one must not have come along with it
    later = await slow_client.one("lease4-add", "dhcp4", {"ip-address": "192.0.2.12", "hw-address": "1a:1b:1c:1d:1e:1f"})
    assert later["result"] == 0, later
    assert _stored(sqlite_database, "192.0.2.11") == 0
    assert _stored(sqlite_database, "192.0.2.12") == 1


async def test_each_waiting_write_times_out_at_its_own_deadline(slow_client: KeaClient,
                                                                sqlite_database: dict[str, Any]) -> None:
    store = lease_store(slow_client)
    loop = asyncio.get_running_loop()
    other = _hold_write_lock(sqlite_database)
    failed_at: dict[str, float] = {}

    async def write(address: str) -> None:
        started = loop.time()
        with pytest.raises(StoreUnavailable):
            await store.write(AddLease(v4_lease(address)))
        failed_at[address] = loop.time() - started

    try:
        first = asyncio.ensure_future(write("192.0.2.20"))
        await asyncio.sleep(QUERY_TIMEOUT / 2)
        second = asyncio.ensure_future(write("192.0.2.21"))
        await asyncio.wait_for(asyncio.gather(first, second), 10)
    finally:
        other.execute("ROLLBACK")
        other.close()
    # the second write was queued half a timeout later: it must get its whole timeout, not
    # expire with the first; and neither may wait for the other's deadline before failing
    for address in ("192.0.2.20", "192.0.2.21"):
        assert QUERY_TIMEOUT * 0.95 <= failed_at[address] < QUERY_TIMEOUT * 5, failed_at


async def test_answered_writes_are_not_kept_for_their_deadline(slow_client: KeaClient) -> None:
    store = lease_store(slow_client)
    for i in range(200):
        assert await store.write(AddLease(v4_lease(f"192.0.2.{i % 250}", hostname=str(i)))) in (True, False)
    loop = asyncio.get_running_loop()
    watched = store._deadlines.get(loop)
    # each write drops the answered ones ahead of it: what waits is at most the last write
    assert watched is None or len(watched.waiting) <= 1
