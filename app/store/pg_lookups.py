"""PostgreSQL lease lookups on the serving event loop, over a few asyncpg connections of its own.

One connection answers one query at a time (asyncpg refuses a second one meanwhile), so with one
connection concurrent lookups queued behind each other's round trips: the loop waited while a
PostgreSQL backend worked on the other core. With a connection per lookup in flight (up to
twice `pool-size`), the backends work side by side while the loop parses the next requests
(bench/RESULTS.md, session 17: lease4-get +38 % at 8 connections, +29 % at 32).

Connections are opened only as concurrency asks for them, and handed back LIFO, so a quiet
service keeps using one. A lookup waits its turn in FIFO order once all are busy, and is handed
the connection directly, so a new lookup cannot overtake it. Plain asyncio, in the loop's own
terms: a connection whose query did not end cleanly is closed here, never handed on.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections import deque
from collections.abc import Awaitable, Callable
from typing import Any

RETRY_AFTER_FAILURE = 1.0  # seconds during which the reader threads answer instead


class PgLookupsUnavailable(Exception):
    """These connections cannot serve a lookup now (another loop, a recent failure, closing):
    the caller answers it another way."""


class PgLookupConnections:
    """Up to `size` asyncpg connections, all of one event loop (the first that asks)."""

    def __init__(self, connect: Callable[[], Awaitable[Any]], size: int) -> None:
        self._connect = connect
        self.size = max(1, size)
        self.loop: asyncio.AbstractEventLoop | None = None
        self._thread = 0  # the thread of that loop
        self._idle: list[Any] = []  # LIFO: the most recently used first
        self._open: set[Any] = set()  # connected: idle or answering a lookup
        self._opening = 0
        # lookups waiting for a connection; each gets one handed over, or None: "try again"
        self._waiters: deque[asyncio.Future[Any]] = deque()
        self.retry_at = 0.0
        self.closed = False
        self.failures = 0  # in a row: a lookup that ends cleanly resets it
        # named prepared statements (asyncpg's cache) on new connections; off behind a pooler in
        # transaction mode (stop_preparing)
        self.prepared = True
        self._retired: set[Any] = set()  # busy connections to close when their lookup ends

    def connections(self) -> list[Any]:
        """The open connections (for tests and diagnostics)."""
        return list(self._open)

    def usable(self, loop: asyncio.AbstractEventLoop) -> bool:
        return (not self.closed and (self.loop is None or loop is self.loop)
                and not (self.retry_at and time.monotonic() < self.retry_at))

    async def fetch(self, sql: str, *args: Any) -> Any:
        """The rows of `sql` (asyncpg's dialect). Raises PgLookupsUnavailable, or what the query
        raised; a connection that did not finish its query cleanly is closed, never reused."""
        conn = await self._acquire()
        try:
            rows = await conn.fetch(sql, *args)
        except BaseException:
            # cancelled (query-timeout) or failed in mid-query: its state is unknown
            self._discard(conn)
            raise
        self._release(conn)
        self.failures = 0
        return rows

    async def _acquire(self) -> Any:
        loop = asyncio.get_running_loop()
        while True:
            if not self.usable(loop):
                raise PgLookupsUnavailable()
            while self._idle:
                conn = self._idle.pop()
                if not conn.is_closed():
                    return conn
                self._open.discard(conn)
            if len(self._open) + self._opening < self.size:
                return await self._open_one(loop)
            waiter: asyncio.Future[Any] = loop.create_future()
            self._waiters.append(waiter)
            try:
                conn = await waiter
            except asyncio.CancelledError:
                if waiter.done() and not waiter.cancelled() and waiter.result() is not None:
                    self._release(waiter.result())  # handed over just as this lookup was cancelled
                raise
            if conn is not None:
                return conn

    async def _open_one(self, loop: asyncio.AbstractEventLoop) -> Any:
        if self.loop is None:  # from the first attempt on: another loop must not connect meanwhile
            self.loop, self._thread = loop, threading.get_ident()
        self._opening += 1
        try:
            conn = await self._connect()
        except BaseException:
            self._opening -= 1
            self._wake_one()  # a lookup waiting for this place may open a connection itself
            raise
        self._opening -= 1
        if self.closed:  # closed while connecting: nothing may be left open
            conn.terminate()
            raise PgLookupsUnavailable()
        self._open.add(conn)
        return conn

    def _release(self, conn: Any) -> None:
        if conn in self._retired:
            self._retired.discard(conn)
            self._discard(conn)
            return
        if not self._hand_to_waiter(conn):
            self._idle.append(conn)

    def _discard(self, conn: Any) -> None:
        self._open.discard(conn)
        self._retired.discard(conn)
        try:
            conn.terminate()
        except Exception:  # noqa: BLE001 - it was broken already
            pass
        self._wake_one()  # a place to open a connection is free

    def _wake_one(self) -> None:
        self._hand_to_waiter(None)

    def _hand_to_waiter(self, conn: Any) -> bool:
        """Give `conn` (None: "try again") to the oldest lookup still waiting; False if none is."""
        while self._waiters:
            waiter = self._waiters.popleft()
            if not waiter.done():
                waiter.set_result(conn)
                return True
        return False

    def failed(self) -> None:
        """A lookup failed or outlived query-timeout: close the idle connections and let the
        reader threads answer for RETRY_AFTER_FAILURE (the server may be restarting). A busy one
        is closed if its own lookup fails (`fetch`), and kept if that lookup ends cleanly."""
        self.retry_at = time.monotonic() + RETRY_AFTER_FAILURE
        self.failures += 1
        idle, self._idle = self._idle, []
        for conn in idle:
            self._discard(conn)
        while self._hand_to_waiter(None):  # they look again, find the pause and go the other way
            pass

    def stop_preparing(self) -> bool:
        """From now on connections without named prepared statements, which a pooler in
        transaction mode loses between queries: every open connection is replaced (the idle ones
        now, the busy ones when their lookup ends). False if that was done already."""
        if not self.prepared:
            return False
        self.prepared = False
        self._retired.update(self._open - set(self._idle))
        idle, self._idle = self._idle, []
        for conn in idle:
            self._discard(conn)
        return True

    def close(self) -> None:
        """Close every connection, without waiting for the server; from any thread (a
        connection's transport belongs to its loop, so it is closed there when that loop runs)."""
        self.closed = True
        conns = list(self._open)
        self._open.clear()
        self._idle.clear()
        loop = self.loop
        for conn in conns:
            try:
                if loop is not None and loop.is_running() and threading.get_ident() != self._thread:
                    loop.call_soon_threadsafe(conn.terminate)
                else:
                    conn.terminate()
            except Exception:  # noqa: BLE001 - it was broken already, or its loop is gone
                pass
