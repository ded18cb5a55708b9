"""Keep-alive HTTP/1.1 connections to one HA peer, on asyncio, answers parsed by httptools.

A request through httpx's client and default transport (httpcore on anyio, h11) cost 0.65–0.9 ms
of CPU here, and through httpx's client on a lean transport still 0.26 ms, half of it httpx's
request and response models, URL parsing and cookie jar (bench/RESULTS.md, "Session 22"): more
than leasesync spends writing a lease. Every heartbeat, every lease update for a partner, every
backlog entry and every sync page goes through one peer's connections, so that cost bounded a
pair's update rate and the drain of a backlog. A peer client needs much less: POST a JSON body to
one fixed URL, one request at a time per connection, a bounded pool of keep-alive connections,
TLS through the caller's context. Failures are raised as httpx's exception types (a vocabulary
the rest of leasesync already speaks), timeouts as `httpx.TimeoutException`.

Kea and leasesync answer with a Content-Length (or chunked); an answer delimited by closing the
connection is not supported (it fails as a protocol error).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import socket
import ssl
import time
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar, cast
from urllib.parse import urlsplit

import httptools
import httpx

T = TypeVar("T")

# A timer that fires this much later than it was due tells that this process did not run in the
# meantime (SIGSTOP and SIGCONT, a suspended and resumed VM, a machine that stalled): see _within.
FROZEN_AFTER = 0.25


async def _within(aw: Awaitable[T], seconds: float, abandon: Callable[[T], Any] | None = None) -> T:
    """`asyncio.wait_for`, except that a timeout that fires late because this process was frozen
    starts once more from the moment it runs again. A frozen process wakes with every timer past
    due while the peer's answers wait in its sockets and the requests queued for a connection
    could go out at once; Kea's asio reads a ready socket before it runs due timers and starts a
    request's timer only when the request goes out, so a pause does not fail requests there
    either. Without this, a pause of a few seconds fails updates the partner has taken or would
    take at once, and sends the pair through partner-down and a full resync.
    `abandon` receives a result that came too late to be taken (the caller timed out or was
    cancelled), so that what it holds can be given back."""
    loop = asyncio.get_running_loop()
    task = asyncio.ensure_future(aw)
    deadline = loop.time() + seconds
    extended = False
    taken = False
    try:
        while True:
            await asyncio.wait((task,), timeout=max(0.0, deadline - loop.time()))
            if task.done():
                taken = True
                return task.result()
            if extended or loop.time() - deadline < FROZEN_AFTER:
                raise TimeoutError
            extended = True
            deadline = loop.time() + seconds
    finally:
        if not taken:
            if not task.done():
                task.cancel()
            elif abandon is not None and not task.cancelled() and task.exception() is None:
                abandon(task.result())


class _StaleConnection(Exception):
    """A reused keep-alive connection was closed by the peer before any byte of the answer."""


# The largest answer a peer may send: a sync page of 10,000 leases (Kea's default
# sync-page-limit) at 26 KiB each. A peer that sends more (a bug, or an attack) fails the request
# instead of growing this process's memory without bound.
MAX_ANSWER_BYTES = 256 * 1024 * 1024


class _Connection(asyncio.Protocol):
    """One connection to the peer: one request in flight, its answer collected by httptools."""

    def __init__(self, max_answer_bytes: int = MAX_ANSWER_BYTES) -> None:
        self.max_answer_bytes = max_answer_bytes
        self.transport: asyncio.Transport | None = None
        self.parser = httptools.HttpResponseParser(self)
        self.answered: asyncio.Future[None] | None = None
        self.closed = False
        self.idle_since = 0.0
        self._reset()

    def _reset(self) -> None:
        self.status = 0
        self.body: list[bytes] = []
        self.body_size = 0
        self.received = False
        self.keep_alive = False

    # --- asyncio.Protocol ---
    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.Transport, transport)  # uvloop's transports are not its subclasses

    def data_received(self, data: bytes) -> None:
        if self.answered is None or self.answered.done():
            self.close()  # bytes nobody asked for: the connection cannot be trusted again
            return
        self.received = True
        try:
            self.parser.feed_data(data)
        except httptools.HttpParserError as exc:
            self._fail(httpx.RemoteProtocolError(f"malformed HTTP answer: {exc}"))

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        if self.received:
            self._fail(httpx.RemoteProtocolError("the peer closed the connection in the middle of its answer"))
        else:
            self._fail(_StaleConnection())

    # --- httptools callbacks ---
    def on_headers_complete(self) -> None:
        self.status = self.parser.get_status_code()

    def on_body(self, body: bytes) -> None:
        if self.closed:
            return
        self.body_size += len(body)
        if self.body_size > self.max_answer_bytes:
            self.body = []
            self._fail(httpx.RemoteProtocolError(f"the peer's answer is larger than {self.max_answer_bytes} bytes"))
            self.close()
            return
        self.body.append(body)

    def on_message_complete(self) -> None:
        self.keep_alive = self.parser.should_keep_alive()
        if self.answered is not None and not self.answered.done():
            self.answered.set_result(None)

    # --- use ---
    def _fail(self, exc: Exception) -> None:
        if self.answered is not None and not self.answered.done():
            self.answered.set_exception(exc)

    def close(self) -> None:
        self.closed = True
        if self.transport is not None:
            self.transport.close()

    async def exchange(self, request: bytes, read_timeout: float | None) -> tuple[int, bytes]:
        assert self.transport is not None
        self._reset()
        self.answered = asyncio.get_running_loop().create_future()
        try:
            self.transport.write(request)
        except (RuntimeError, OSError):
            # closed under us before its loss was reported (uvloop raises RuntimeError for a
            # closed handle): nothing of this request went out
            self.answered = None
            self.close()
            raise _StaleConnection() from None
        try:
            if read_timeout is None:
                await self.answered
            else:
                await _within(self.answered, read_timeout)
        except TimeoutError:
            self.close()
            raise httpx.ReadTimeout("timed out waiting for the peer's answer") from None
        except BaseException:
            self.close()  # failed or cancelled half-way: the answer may still come, on nobody's behalf
            raise
        finally:
            self.answered = None
        if not self.keep_alive:
            self.close()
        return self.status, b"".join(self.body)


class PeerConnections:
    """POST requests to one URL over at most `max_connections` keep-alive connections; a
    connection idle for `keepalive_expiry` seconds is not used again."""

    def __init__(self, url: str, headers: dict[str, str], ssl_context: ssl.SSLContext | None = None,
                 max_connections: int = 8, keepalive_expiry: float = 25.0,
                 max_answer_bytes: int = MAX_ANSWER_BYTES) -> None:
        self.max_answer_bytes = max_answer_bytes
        parts = urlsplit(url)
        self.https = parts.scheme == "https"
        self.host = parts.hostname or ""
        self.port = parts.port or (443 if self.https else 80)
        target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        lines = [f"POST {target} HTTP/1.1"] + [f"{name}: {value}" for name, value in headers.items()]
        self._head = ("\r\n".join(lines) + "\r\nContent-Length: ").encode("latin-1")
        self.ssl_context = ssl_context if self.https else None
        if self.https and self.ssl_context is None:
            self.ssl_context = ssl.create_default_context()
        self.keepalive_expiry = keepalive_expiry
        self._idle: list[_Connection] = []
        self._slots = asyncio.Semaphore(max_connections)

    async def post(self, body: bytes, answer_timeout: float, connect_timeout: float) -> tuple[int, bytes]:
        """(status, answer body). `answer_timeout` bounds the wait for a free connection and,
        separately, for the answer; `connect_timeout` a new connection's set-up (TCP and TLS)."""
        request = self._head + b"%d\r\n\r\n" % len(body) + body
        try:
            if self._slots.locked():
                await _within(self._slots.acquire(), answer_timeout, abandon=lambda _: self._slots.release())
            else:
                await self._slots.acquire()  # a free connection: taken at once, no task or timer
        except TimeoutError:
            raise httpx.PoolTimeout("no connection to the peer became free in time") from None
        try:
            connection = self._reuse()
            if connection is not None:
                try:
                    return await self._exchange(connection, request, answer_timeout)
                except _StaleConnection:
                    # closed while idle (its keep-alive ran out there) before it read a byte of this
                    # request's answer: once more, on a new connection. The commands a peer client
                    # sends can be applied twice with the same outcome.
                    pass
            connection = await self._connect(connect_timeout)
            try:
                return await self._exchange(connection, request, answer_timeout)
            except _StaleConnection:
                raise httpx.RemoteProtocolError("the peer closed the connection without answering") from None
        finally:
            self._slots.release()

    async def _exchange(self, connection: _Connection, request: bytes, answer_timeout: float) -> tuple[int, bytes]:
        answer = await connection.exchange(request, answer_timeout)
        if not connection.closed:
            connection.idle_since = time.monotonic()
            self._idle.append(connection)
        return answer

    def _reuse(self) -> _Connection | None:
        now = time.monotonic()
        while self._idle:
            connection = self._idle.pop()  # the most recently used: the least likely to have timed out there
            usable = connection.transport is not None and not connection.transport.is_closing()
            if usable and not connection.closed and now - connection.idle_since < self.keepalive_expiry:
                return connection
            connection.close()
        return None

    async def _connect(self, connect_timeout: float) -> _Connection:
        loop = asyncio.get_running_loop()
        try:
            _, connection = await _within(
                loop.create_connection(lambda: _Connection(self.max_answer_bytes), self.host, self.port,
                                       ssl=self.ssl_context,
                                       server_hostname=self.host if self.ssl_context else None),
                connect_timeout, abandon=lambda made: made[0].close())
        except TimeoutError:
            raise httpx.ConnectTimeout(f"connecting to {self.host}:{self.port} timed out") from None
        except OSError as exc:  # refused, unreachable, TLS handshake (ssl.SSLError)
            raise httpx.ConnectError(_connect_failure_text(exc)) from None
        return connection

    def close(self) -> None:
        for connection in self._idle:
            with contextlib.suppress(Exception):
                connection.close()
        self._idle.clear()


def _connect_failure_text(exc: OSError) -> str:
    """The reason a connection failed, as Kea words it (the system's text: `Connection refused`,
    not Python's `[Errno 111] Connection refused`); a TLS failure keeps OpenSSL's own text."""
    if exc.errno and exc.errno > 0 and not isinstance(exc, ssl.SSLError | socket.gaierror):
        return os.strerror(exc.errno)
    return str(exc) or type(exc).__name__
