"""The serving loop's PostgreSQL lookup connections (app/store/pg_lookups.py), with stand-in
connections whose queries end when the test says: how many are opened, who waits, who gets
which, and what is closed. tests/test_store_pg_reads.py drives them against PostgreSQL."""

from __future__ import annotations

import asyncio
import itertools
from typing import Any

import pytest

from app.store.pg_lookups import PgLookupConnections, PgLookupsUnavailable

_pids = itertools.count(1)


class StandInConnection:
    """asyncpg's connection as the lookups use it: one query at a time, answered on demand."""

    def __init__(self) -> None:
        self.pid = next(_pids)
        self.closed = False
        self.answer: asyncio.Future[Any] | None = None
        self.queries: list[str] = []

    async def fetch(self, sql: str, *args: Any) -> list[Any]:
        assert self.answer is None, "a second query on a busy connection"
        self.queries.append(sql)
        self.answer = asyncio.get_running_loop().create_future()
        try:
            return [(self.pid, *args)] + await self.answer
        finally:
            self.answer = None

    def is_closed(self) -> bool:
        return self.closed

    def terminate(self) -> None:
        self.closed = True


class StandInServer:
    def __init__(self) -> None:
        self.opened: list[StandInConnection] = []
        self.refusals = 0  # how many connects to refuse

    async def connect(self) -> StandInConnection:
        await asyncio.sleep(0)
        if self.refusals:
            self.refusals -= 1
            raise OSError("connection refused")
        conn = StandInConnection()
        self.opened.append(conn)
        return conn

    def busy(self) -> list[StandInConnection]:
        return [conn for conn in self.opened if conn.answer is not None]


async def _settle() -> None:
    for _ in range(5):
        await asyncio.sleep(0)


def _answer_all(server: StandInServer) -> None:
    for conn in server.busy():
        assert conn.answer is not None
        conn.answer.set_result([])


async def _started(lookups: PgLookupConnections, sql: str = "q", *args: Any) -> asyncio.Future[Any]:
    """A lookup, run until it holds a connection (its query unanswered) or waits for one."""
    lookup = asyncio.ensure_future(lookups.fetch(sql, *args))
    await _settle()
    return lookup


async def _served(lookups: PgLookupConnections, server: StandInServer, sql: str = "q") -> Any:
    """One lookup, answered."""
    lookup = await _started(lookups, sql)
    _answer_all(server)
    return await lookup


async def test_a_quiet_loop_keeps_using_one_connection() -> None:
    server = StandInServer()
    lookups = PgLookupConnections(server.connect, 4)
    for _ in range(3):
        await _served(lookups, server)
    assert len(server.opened) == 1 and server.opened[0].queries == ["q"] * 3


async def test_overlapping_lookups_open_one_connection_each_up_to_the_size() -> None:
    server = StandInServer()
    lookups = PgLookupConnections(server.connect, 3)
    running = [asyncio.ensure_future(lookups.fetch("q", i)) for i in range(5)]
    await _settle()
    assert len(server.opened) == 3 and len(server.busy()) == 3  # the other two wait
    for _ in range(2):
        _answer_all(server)
        await _settle()
    rows = [await lookup for lookup in running]
    assert sorted(row[0][1] for row in rows) == [0, 1, 2, 3, 4]
    assert len(server.opened) == 3


async def test_waiting_lookups_are_served_in_arrival_order() -> None:
    server = StandInServer()
    lookups = PgLookupConnections(server.connect, 1)
    first = await _started(lookups, "first")
    second = await _started(lookups, "second")
    third = await _started(lookups, "third")
    for _ in range(3):
        _answer_all(server)
        await _settle()
    await asyncio.gather(first, second, third)
    assert server.opened[0].queries == ["first", "second", "third"]


async def test_a_lookup_cancelled_while_it_runs_closes_its_connection_and_a_waiter_opens_another() -> None:
    server = StandInServer()
    lookups = PgLookupConnections(server.connect, 1)
    running = await _started(lookups, "slow")
    waiting = await _started(lookups, "next")

    running.cancel()  # what query-timeout does: the connection is in mid-query
    await _settle()

    assert server.opened[0].closed
    assert len(server.opened) == 2 and server.opened[1].queries == ["next"]
    _answer_all(server)
    assert (await waiting)[0][0] == server.opened[1].pid
    assert lookups.connections() == [server.opened[1]]


async def test_a_lookup_cancelled_just_as_it_is_handed_a_connection_gives_it_back() -> None:
    server = StandInServer()
    lookups = PgLookupConnections(server.connect, 1)
    running = await _started(lookups)
    waiting = await _started(lookups)

    assert server.opened[0].answer is not None
    server.opened[0].answer.set_result([])
    await asyncio.sleep(0)  # `running` resumes and hands the connection to `waiting`...
    waiting.cancel()  # ... which is cancelled before it could use it
    await running
    with pytest.raises(asyncio.CancelledError):
        await waiting

    assert (await _served(lookups, server, "again"))[0][0] == server.opened[0].pid  # the connection was not lost
    assert len(server.opened) == 1 and not server.opened[0].closed


async def test_after_a_failure_lookups_are_refused_and_idle_connections_closed() -> None:
    server = StandInServer()
    lookups = PgLookupConnections(server.connect, 2)
    await _served(lookups, server)

    lookups.failed()

    assert server.opened[0].closed and lookups.connections() == []
    assert not lookups.usable(asyncio.get_running_loop())
    with pytest.raises(PgLookupsUnavailable):
        await lookups.fetch("q")
    lookups.retry_at = 0.0  # the pause is over
    await _served(lookups, server)
    assert len(server.opened) == 2


async def test_a_lookup_waiting_during_a_failure_is_refused_rather_than_left_waiting() -> None:
    server = StandInServer()
    lookups = PgLookupConnections(server.connect, 1)
    running = await _started(lookups)
    waiting = await _started(lookups)

    lookups.failed()
    await _settle()

    with pytest.raises(PgLookupsUnavailable):
        await waiting
    _answer_all(server)
    await running


async def test_a_failed_connect_lets_a_waiting_lookup_try_for_itself() -> None:
    server = StandInServer()
    lookups = PgLookupConnections(server.connect, 1)
    server.refusals = 1
    opening = asyncio.ensure_future(lookups.fetch("q"))
    waiting = asyncio.ensure_future(lookups.fetch("q"))
    with pytest.raises(OSError):
        await opening
    await _settle()
    _answer_all(server)
    assert (await waiting)[0][0] == server.opened[0].pid


async def test_close_terminates_idle_and_busy_connections_and_refuses_later_lookups() -> None:
    server = StandInServer()
    lookups = PgLookupConnections(server.connect, 2)
    first = asyncio.ensure_future(lookups.fetch("q"))
    busy = await _started(lookups)
    assert server.opened[0].answer is not None
    server.opened[0].answer.set_result([])
    await first

    lookups.close()

    assert all(conn.closed for conn in server.opened)
    with pytest.raises(PgLookupsUnavailable):
        await lookups.fetch("q")
    busy.cancel()


async def test_lookups_from_another_event_loop_are_refused() -> None:
    server = StandInServer()
    lookups = PgLookupConnections(server.connect, 2)
    await _served(lookups, server)

    def from_another_loop() -> BaseException | None:
        try:
            asyncio.run(lookups.fetch("q"))
        except BaseException as exc:  # noqa: BLE001 - returned for the assertion
            return exc
        return None

    refused = await asyncio.to_thread(from_another_loop)

    assert isinstance(refused, PgLookupsUnavailable)
    assert len(server.opened) == 1  # the other loop opened nothing
