"""How the writer of a server database (PostgreSQL, MySQL) batches concurrent writes.

Concurrent lease6-bulk-apply requests that the writer takes as one batch are sent to PostgreSQL as
one statement (LeaseStore._apply, _merged_bulk_outcomes), and each request still gets the outcomes
of its own leases, in order, as if the bulks had been applied one after the other. Lease updates
are gathered into a batch as large as the last one before the writer begins it
(LeaseStore._gather), and a lone update never waits."""

from __future__ import annotations

import asyncio
import threading
from typing import Any

import pytest

from app.store import repository
from app.store.repository import FuncOp
from tests.conftest import service_config

DUID = "01:02:03:04:05:06:07:08"


def _update(address: str) -> dict[str, Any]:
    return {"ip-address": address, "hw-address": "1a:1b:1c:1d:1e:1f", "force-create": True}


async def _hold_writer(store: Any) -> tuple[Any, threading.Event]:
    """Keep the writer in a transaction of its own until the returned event is set."""
    started, release = threading.Event(), threading.Event()

    def hold(_conn: Any, _dialect: str) -> None:
        started.set()
        release.wait(10)

    held = asyncio.ensure_future(store.write(FuncOp(hold)))
    assert await asyncio.get_running_loop().run_in_executor(None, started.wait, 10)
    return held, release


async def _queued(store: Any, count: int) -> None:
    for _ in range(1000):  # the requests parsed and queued: at most ~10 s
        if len(store._queue) == count:
            return
        await asyncio.sleep(0.01)
    raise AssertionError(f"{len(store._queue)} writes queued, not {count}")


async def test_updates_are_gathered_into_a_batch_as_large_as_the_last(make_client: Any, shared_database: Any) -> None:
    client = await make_client(service_config(shared_database))
    store = client.runtime.families[4].store
    held, release = await _hold_writer(store)
    first = [asyncio.ensure_future(client.one("lease4-update", "dhcp4", _update(f"192.0.2.{n}"))) for n in (10, 11, 12)]
    await _queued(store, 3)
    release.set()
    await held
    assert [(await answer)["result"] for answer in first] == [0, 0, 0]  # one batch of 3
    store._gather_for = 30.0  # a window no test run reaches: the batch must fill it
    commits = store.commits

    again = [asyncio.ensure_future(client.one("lease4-update", "dhcp4", _update("192.0.2.20")))]
    for _ in range(1000):  # the writer has the first one and waits for two more (at most ~10 s)
        if store._gathering:
            break
        await asyncio.sleep(0.01)
    assert store._gathering and store.commits == commits
    again += [asyncio.ensure_future(client.one("lease4-update", "dhcp4", _update(f"192.0.2.{n}"))) for n in (21, 22)]

    assert [(await answer)["result"] for answer in again] == [0, 0, 0]
    assert store.commits == commits + 1  # one transaction for all three


async def test_a_lone_update_does_not_wait_to_be_gathered(make_client: Any, shared_database: Any) -> None:
    client = await make_client(service_config(shared_database))
    store = client.runtime.families[4].store
    store._gather_for = 30.0
    await client.one("lease4-update", "dhcp4", _update("192.0.2.30"))  # the last batch: one write

    answer = await asyncio.wait_for(client.one("lease4-update", "dhcp4", _update("192.0.2.31")), timeout=10)

    assert answer["result"] == 0


def _bulk(*leases: tuple[str, int]) -> dict[str, Any]:
    return {"leases": [{"subnet-id": 1, "ip-address": address, "duid": DUID, "iaid": iaid} for address, iaid in leases]}


@pytest.mark.postgres
async def test_bulks_committed_in_one_batch_each_get_their_own_outcomes(make_client: Any, pg_database: Any,
                                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    statements: list[int] = []  # the rows of every multi-row upsert sent
    upsert = repository._upsert_rows_postgresql

    def counted(conn: Any, family: int, rows: list[dict[str, Any]], returning: str = "") -> list[Any]:
        statements.append(len(rows))
        return upsert(conn, family, rows, returning)

    monkeypatch.setattr(repository, "_upsert_rows_postgresql", counted)
    client = await make_client(service_config(pg_database))
    await client.one("lease6-add", "dhcp6", {"ip-address": "2001:db8:1::700", "duid": DUID, "iaid": 1})
    store = client.runtime.families[6].store
    held, release = await _hold_writer(store)  # both bulks queue behind it
    first = asyncio.ensure_future(client.one("lease6-bulk-apply", "dhcp6", _bulk(
        ("2001:db8:1::700", 2), ("2001:db8:1::701", 3), ("2001:db8:1::703", 4))))
    second = asyncio.ensure_future(client.one("lease6-bulk-apply", "dhcp6", _bulk(("2001:db8:1::701", 5))))
    await _queued(store, 2)
    commits = store.commits
    release.set()
    await held

    assert await first == {"result": 0, "text": "Bulk apply of 3 IPv6 leases completed."}
    assert await second == {"result": 0, "text": "Bulk apply of 1 IPv6 leases completed."}
    assert store.commits == commits + 2  # the held transaction, then both bulks in one
    assert statements == [4]  # ... as one statement
    stored = await client.one("lease6-get", "dhcp6", {"ip-address": "2001:db8:1::701"})
    assert stored["arguments"]["iaid"] == 5  # the later bulk's lease
    # ::700 was there (updated), ::701 and ::703 new (added), ::701 again (updated): 3 assigned
    assigned = await client.one("statistic-get", "dhcp6", {"name": "subnet[1].assigned-nas"})
    assert assigned["arguments"]["subnet[1].assigned-nas"][0][0] == 3


async def test_a_write_of_another_kind_does_not_count_as_a_client_to_wait_for(make_client: Any,
                                                                              shared_database: Any) -> None:
    client = await make_client(service_config(shared_database))
    store = client.runtime.families[4].store
    store._gather_for = 30.0
    held, release = await _hold_writer(store)  # a transaction of another kind (as a reclamation's)
    update = asyncio.ensure_future(client.one("lease4-update", "dhcp4", _update("192.0.2.40")))
    await _queued(store, 1)
    release.set()
    await held

    # one client writes: its update must not wait for a second one
    assert (await asyncio.wait_for(update, timeout=10))["result"] == 0
