"""HTTP/1.1 on a served socket: the control channel's own protocol, plugged into uvicorn.

uvicorn still runs the server (sockets, TLS, signals, lifespan, graceful shutdown); this class
replaces its per-connection HTTP protocol. A `POST` goes from httptools' parser straight to the
application's `head_refusal`/`control_answer` and its answer is written in one piece: no ASGI
scope, message dicts or header validation per request (uvicorn's protocol and ASGI plumbing were
a fifth of the CPU of a lease4-update, bench/profile_server.py). Every other method goes through
the application as ASGI (the FastAPI GET endpoints), collected and written the same way.

Owning the protocol also lets the wire answer as Kea's does (tests/kea_fuzz.py --family http):
the status line is HTTP/1.1 only for an HTTP/1.1 request line, and an unparsable request gets
Kea's JSON 400.

Per connection, requests are answered one at a time in arrival order (pipelining); the next
waits while one runs, and reading pauses while too many wait or the peer does not read its
answers. `request-timeout` bounds the time from a request's first byte to its last, a request
head is bounded as it arrives, `Expect: 100-continue` is answered, an idle keep-alive connection
closes after `timeout_keep_alive`, `max-connections` refuses with 503.
"""

from __future__ import annotations

import asyncio
import http
import logging
import re
from collections import deque
from collections.abc import Coroutine
from typing import Any
from urllib.parse import unquote

import httptools

from app import kea_json
from app.api.asgi import (
    BAD_REQUEST,
    TIMEOUT,
    TOO_LARGE,
    UNAVAILABLE,
    ControlChannelApp,
    control_headers,
    http_date,
)

log = logging.getLogger("leasesync.http")

# requests parsed ahead of the one being answered; beyond this, reading pauses (a pipelining
# client cannot make the server hold an unbounded queue)
_MAX_PIPELINED = 32
# a request's head (request line and header lines) together
_MAX_HEADER_BYTES = 64 * 1024

_status_lines: dict[tuple[bool, int], bytes] = {}
# a request line as Kea reads one: any method token, a target, a version
_REQUEST_LINE = re.compile(rb"[!-~]+ [^ \r\n]+ HTTP/([0-9]\.[0-9])\r?\n")


def _upper_method(data: bytes) -> bytes:
    """`post / HTTP/1.1` read as `POST`: Kea takes a method in any case (`curl -X post` works with
    it), llhttp only upper case. Only for a request that starts a chunk of data, which is where a
    client that sends one request at a time puts it."""
    space = data.find(b" ", 0, 16)
    if space > 0 and data[:space].isalpha():
        return data[:space].upper() + data[space:]
    return data


def _status_line(http11: bool, status: int) -> bytes:
    line = _status_lines.get((http11, status))
    if line is None:
        try:
            phrase = http.HTTPStatus(status).phrase
        except ValueError:
            phrase = ""
        line = _status_lines[(http11, status)] = (
            f"HTTP/1.{1 if http11 else 0} {status} {phrase}\r\n".encode("ascii"))
    return line


class _Request:
    __slots__ = ("method", "url", "headers", "chunks", "size", "http11", "keep_alive", "refusal", "continue_due",
                 "authorization")

    def __init__(self) -> None:
        self.method = b""
        self.url = b""
        self.headers: list[tuple[bytes, bytes]] = []  # names lower-cased
        self.chunks: list[bytes] = []
        self.size = 0  # header bytes while reading headers, then body bytes
        self.http11 = True
        self.keep_alive = True
        # (status, body, close) when the request is answered without running it
        self.refusal: tuple[int, bytes, bool] | None = None
        self.continue_due = False  # `Expect: 100-continue`, and the 100 is not sent yet
        self.authorization: bytes | None = None


class ControlChannelProtocol(asyncio.Protocol):
    """One HTTP connection to the control channel (uvicorn's `http` protocol class)."""

    def __init__(self, config: Any, server_state: Any, app_state: dict[str, Any] | None = None,
                 _loop: asyncio.AbstractEventLoop | None = None) -> None:
        app = config.app
        if not isinstance(app, ControlChannelApp):
            raise TypeError("ControlChannelProtocol serves a ControlChannelApp")
        self.app = app
        self.loop = _loop or asyncio.get_event_loop()
        self.server_state = server_state
        self.connections: set[Any] = server_state.connections
        self.tasks: set[asyncio.Task[None]] = server_state.tasks
        self.app_state = app_state if app_state is not None else {}
        self.limit_concurrency: int | None = config.limit_concurrency
        self.keep_alive_timeout: float = config.timeout_keep_alive
        self.root_path: str = config.root_path or ""
        self.parser = httptools.HttpRequestParser(self)
        # any HTTP/1.x version digit, as Kea takes them (llhttp refuses HTTP/1.2 otherwise)
        self.parser.set_dangerous_leniencies(lenient_version=True)
        self.transport: asyncio.Transport | None = None
        self.remote = ""
        self.client: tuple[str, int] | None = None
        self.server: tuple[str, int] | None = None
        self.scheme = "http"
        self.current: _Request | None = None  # the request being parsed
        self.waiting: deque[_Request] = deque()  # parsed, not yet answered
        self.running: asyncio.Task[None] | None = None  # the request being answered
        self.stopped = False  # nothing more is read: the last request has been parsed
        self.closing = False
        self.reading_paused = False
        self.writing_paused = False
        # the timers are armed lazily: a request that arrives whole in one chunk never arms the
        # request timer, and the keep-alive timer, once armed, stays while requests come and
        # go (it checks `idle_since` when it fires): creating and cancelling two timers per
        # request was 2-4 % of a lease4-update's CPU (bench/inprocess.py --sample)
        self.request_timer: asyncio.TimerHandle | None = None
        self.idle_timer: asyncio.TimerHandle | None = None
        self.idle_since: float | None = None  # loop time the connection went idle; None while busy
        # bytes of the current request's head that httptools holds unparsed (a header line not
        # yet ended): counted per chunk, as the parser shows only whole header lines
        self.head_bytes = 0
        self.began_in_chunk = False

    # -- connection -------------------------------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]  # uvloop's transports are not asyncio.Transport
        self.connections.add(self)
        peer = transport.get_extra_info("peername")
        if isinstance(peer, tuple) and len(peer) >= 2:
            self.client = (str(peer[0]), int(peer[1]))
            self.remote = f"{peer[0]}:{peer[1]}"
        sock = transport.get_extra_info("sockname")
        if isinstance(sock, tuple) and len(sock) >= 2:
            self.server = (str(sock[0]), int(sock[1]))
        if transport.get_extra_info("sslcontext") is not None:
            self.scheme = "https"
        self._idle()

    def connection_lost(self, exc: Exception | None) -> None:
        self.connections.discard(self)
        self.closing = True
        self.stopped = True
        self.waiting.clear()
        self._cancel_timers()
        # a running command completes (its change is committed or not as it would be); only
        # its answer has nowhere to go

    def eof_received(self) -> bool | None:
        # the peer sent everything it will: answer what was read, then close
        self.stopped = True
        if self.running is None and not self.waiting:
            self._close()
        # keep the write side open for the answers still due (TLS has no half-close: it ends)
        return None if self.scheme == "https" else True

    def pause_writing(self) -> None:
        self.writing_paused = True

    def resume_writing(self) -> None:
        self.writing_paused = False
        self._next()

    def shutdown(self) -> None:
        """The server stops: close when idle, else after the answer under way."""
        self.stopped = True
        self.waiting.clear()
        if self.running is None:
            self._close()

    def data_received(self, data: bytes) -> None:
        if self.stopped:
            return
        self.idle_since = None
        self.began_in_chunk = False
        if self.current is None and data[:1].islower():
            data = _upper_method(data)
        try:
            self.parser.feed_data(data)
            request = self.current
            if request is not None and not request.method and not self.began_in_chunk and not self.stopped:
                # the whole chunk went into one request's head, which is still not complete
                self.head_bytes += len(data)
                if self.head_bytes > _MAX_HEADER_BYTES:
                    request.refusal = (*BAD_REQUEST, True)
                    self._finish(request)
            if self.current is not None and self.request_timer is None and not self.stopped:
                # a request begun in this chunk and not ended by it: request-timeout runs from now
                self.request_timer = self.loop.call_later(self.app.body_timeout, self._timed_out)
        except httptools.HttpParserUpgrade:
            # no protocol switch is offered: what was parsed is answered, the rest is not read
            self._stop_reading()
        except httptools.HttpParserError:
            if not self.stopped:
                # an unparsable request gets Kea's answer to it: the JSON map, in HTTP/1.1 when
                # the request line said 1.1, else (no version could be read) in HTTP/1.0
                request = self.current or _Request()
                version = self.parser.get_http_version()
                if version == "0.0":  # llhttp stops at a method it does not know, Kea reads on
                    line = _REQUEST_LINE.match(data) if self.began_in_chunk or self.current is None else None
                    version = "1.1" if line is not None and line.group(1) == b"1.1" else "1.0"
                request.http11 = version == "1.1"
                request.refusal = (*BAD_REQUEST, True)
                self._finish(request)
        self._next()

    # -- parser callbacks (httptools) ----------------------------------------------------------

    def on_message_begin(self) -> None:
        if self.stopped:
            return
        self.current = _Request()
        self.head_bytes = 0
        self.began_in_chunk = True

    def on_url(self, url: bytes) -> None:
        request = self.current
        if request is not None and not self.stopped:
            request.url += url
            request.size += len(url)

    def on_header(self, name: bytes, value: bytes) -> None:
        request = self.current
        if request is None or self.stopped:
            return
        request.size += len(name) + len(value)
        if request.size > _MAX_HEADER_BYTES:
            request.http11 = self.parser.get_http_version() == "1.1"
            request.refusal = (*BAD_REQUEST, True)
            self._finish(request)
            return
        request.headers.append((name.lower(), value))

    def on_headers_complete(self) -> None:
        request = self.current
        if request is None or self.stopped:
            return
        parser = self.parser
        request.method = parser.get_method()
        version = parser.get_http_version()
        request.http11 = version == "1.1"
        request.keep_alive = parser.should_keep_alive()
        request.size = 0
        if version == "0.9":  # a request line without a version: refused, as Kea does
            request.refusal = (*BAD_REQUEST, True)
            self._finish(request)
            return
        limit = self.limit_concurrency
        if limit is not None and (len(self.connections) > limit or len(self.tasks) >= limit):
            request.refusal = (*UNAVAILABLE, True)
            self._finish(request)
            return
        if request.method == b"POST":
            content_type, content_length, request.authorization, chunked = control_headers(request.headers)
            request.refusal = self.app.head_refusal(content_type, content_length, chunked)
            if request.refusal is not None and request.refusal[2]:
                self._finish(request)  # over the size limit: answered now, the body is not read
                return
        if request.http11 and any(name == b"expect" and value.strip().lower() == b"100-continue"
                                  for name, value in request.headers):
            # curl asks before a body over 1 KiB and otherwise waits a second for the answer
            if request.refusal is not None:
                # refused on its headers: answered now, and the body the client then holds back is
                # not waited for (where it would end is unknown): the connection closes
                status, body, _ = request.refusal
                request.refusal = (status, body, True)
                self._finish(request)
                return
            # sent when this chunk of data has been parsed, unless the body came with it (RFC 9110
            # section 10.1.1: a server may omit it then, and Kea never sends one)
            request.continue_due = True

    def on_body(self, body: bytes) -> None:
        request = self.current
        if request is None or self.stopped or request.refusal is not None:
            return  # a refused request's body is read and dropped
        request.size += len(body)
        if request.size > self.app.max_size:  # a body beyond its declared length cannot get here
            request.refusal = (*TOO_LARGE, True)
            self._finish(request)
            return
        request.chunks.append(body)

    def on_message_complete(self) -> None:
        request = self.current
        if request is None or self.stopped:
            return
        self._finish(request)

    # -- answering --------------------------------------------------------------------------------

    def _finish(self, request: _Request) -> None:
        """`request` is whole (or refused): queue it; a request that closes ends the reading."""
        self.current = None
        if self.request_timer is not None:
            self.request_timer.cancel()
            self.request_timer = None
        self.waiting.append(request)
        if not request.keep_alive or (request.refusal is not None and request.refusal[2]):
            self._stop_reading()
        elif (len(self.waiting) > _MAX_PIPELINED and not self.reading_paused and self.transport is not None
              and not self.transport.is_closing()):
            self.reading_paused = True
            self.transport.pause_reading()

    def _send_continue(self) -> None:
        """`100 Continue` for the request being read, once every earlier answer has been written
        (an interim answer must not overtake them)."""
        request = self.current
        if (request is not None and request.continue_due and self.running is None and not self.waiting
                and self.transport is not None and not self.transport.is_closing()):
            request.continue_due = False
            self.transport.write(b"HTTP/1.1 100 Continue\r\n\r\n")

    def _stop_reading(self) -> None:
        self.stopped = True
        if self.transport is not None and not self.reading_paused and not self.transport.is_closing():
            self.reading_paused = True
            self.transport.pause_reading()

    def _timed_out(self) -> None:
        """The request under way did not arrive whole within `request-timeout`."""
        self.request_timer = None
        request = self.current or _Request()
        request.refusal = (*TIMEOUT, True)
        self._finish(request)
        self._next()

    def _next(self) -> None:
        """Answer the waiting requests in order: refusals at once, the next command as a task."""
        while self.running is None and self.waiting and not self.writing_paused and not self.closing:
            request = self.waiting.popleft()
            if request.refusal is not None:
                status, body, close = request.refusal
                self._write(request, status, body, None, close or not request.keep_alive)
                continue
            self.server_state.total_requests += 1
            if request.method == b"POST":
                work: Coroutine[Any, Any, None] = self._control(request)
            else:
                work = self._asgi(request)
            task = self.loop.create_task(work)
            self.running = task
            self.tasks.add(task)
            task.add_done_callback(self._answered)
        if (self.reading_paused and not self.stopped and len(self.waiting) <= _MAX_PIPELINED // 2
                and self.transport is not None and not self.transport.is_closing()):
            self.reading_paused = False
            self.transport.resume_reading()
        if self.running is None and not self.waiting:
            if self.stopped:
                self._close()
            else:
                self._send_continue()
                self._idle()

    def _answered(self, task: asyncio.Task[None]) -> None:
        self.tasks.discard(task)
        self.running = None
        if not task.cancelled() and task.exception() is not None:
            # never expected (the application answers every failure itself); the connection
            # cannot be trusted to be in step any more
            log.error("answering a request failed", exc_info=task.exception())
            self._close()
            return
        self._next()

    async def _control(self, request: _Request) -> None:
        body = b"".join(request.chunks) if len(request.chunks) != 1 else request.chunks[0]
        status, answer, extra = await self.app.control_answer(body, request.authorization, self.remote)
        self._write(request, status, answer, extra, not request.keep_alive)

    async def _asgi(self, request: _Request) -> None:
        """A request for the application's ASGI side, its answer collected and written whole."""
        # Any: httptools' stub types `path` and `query` as bytes, but each is None when absent
        # (which compiled code, bench/compiled.py, would check and refuse)
        url: Any = httptools.parse_url(request.url)
        raw_path = url.path or b"/"
        scope = {
            "type": "http",
            "asgi": {"version": "3.0", "spec_version": "2.3"},
            "http_version": "1.1" if request.http11 else "1.0",
            "server": self.server,
            "client": self.client,
            "scheme": self.scheme,
            "method": request.method.decode("ascii"),
            "root_path": self.root_path,
            "path": unquote(raw_path.decode("ascii", "replace")),
            "raw_path": raw_path,
            "query_string": url.query or b"",
            "headers": request.headers,
            "state": self.app_state.copy(),
        }
        body = b"".join(request.chunks)
        delivered = False
        disconnected = self.loop.create_future()
        status = 500
        headers: list[tuple[bytes, bytes]] = []
        parts: list[bytes] = []

        async def receive() -> dict[str, Any]:
            nonlocal delivered
            if not delivered:
                delivered = True
                return {"type": "http.request", "body": body, "more_body": False}
            await disconnected  # only when the connection goes (it never does while waited on here)
            return {"type": "http.disconnect"}

        async def send(message: dict[str, Any]) -> None:
            nonlocal status, headers
            if message["type"] == "http.response.start":
                status = message["status"]
                headers = list(message.get("headers", ()))
            elif message["type"] == "http.response.body":
                parts.append(message.get("body", b""))

        try:
            await self.app(scope, receive, send)
        except Exception:  # noqa: BLE001 - the edge never answers with a traceback
            log.exception("internal error while answering %s %s", scope["method"], scope["path"])
            status, headers = 500, [(b"Content-Type", b"application/json")]
            parts = [kea_json.dumps({"result": 500, "text": "Internal Server Error"})]
        finally:
            disconnected.cancel()
        answer = b"".join(parts)
        self._write_raw(request, status, headers, b"" if request.method == b"HEAD" else answer, len(answer),
                        not request.keep_alive)

    def _write(self, request: _Request, status: int, body: bytes, extra: list[tuple[bytes, bytes]] | None,
               close: bool) -> None:
        """One answer, status line to body, in one write: Kea's header names, order and spelling."""
        parts = [_status_line(request.http11, status), b"Content-Length: ", str(len(body)).encode(),
                 b"\r\nContent-Type: application/json\r\nDate: ", http_date(), b"\r\n"]
        if extra:
            for name, value in extra:
                parts += (name, b": ", value, b"\r\n")
        self._send(request, parts, body, close)

    def _write_raw(self, request: _Request, status: int, headers: list[tuple[bytes, bytes]], body: bytes,
                   length: int, close: bool) -> None:
        """An ASGI answer: its own headers (a length added if it gave none)."""
        parts = [_status_line(request.http11, status)]
        has_length = False
        for name, value in headers:
            lowered = name.lower()
            if lowered == b"content-length":
                has_length = True
            elif lowered == b"connection":
                continue
            parts += (name, b": ", value, b"\r\n")
        if not has_length:
            parts += (b"Content-Length: ", str(length).encode(), b"\r\n")
        self._send(request, parts, body, close)

    def _send(self, request: _Request, head: list[bytes], body: bytes, close: bool) -> None:
        transport = self.transport
        if transport is None or transport.is_closing():
            return
        if close:
            head.append(b"Connection: close\r\n")
        elif not request.http11:
            head.append(b"Connection: keep-alive\r\n")  # HTTP/1.0 closes unless told otherwise
        head += (b"\r\n", body)
        transport.write(b"".join(head))
        if close:
            self._stop_reading()
            self.waiting.clear()
            self._close()

    # -- timers and closing -----------------------------------------------------------------

    def _idle(self) -> None:
        if not self.closing and self.current is None:
            self.idle_since = self.loop.time()
            if self.idle_timer is None:
                self.idle_timer = self.loop.call_later(self.keep_alive_timeout, self._idle_expired)

    def _idle_expired(self) -> None:
        """The keep-alive timer: close if the connection has been idle all along since it went
        idle last; else wait for the rest of that time (or for the next idle spell)."""
        self.idle_timer = None
        if self.closing or self.idle_since is None:
            return  # busy: the end of the current request arms the timer again
        left = self.idle_since + self.keep_alive_timeout - self.loop.time()
        if left <= 0:
            self._close()
        else:
            self.idle_timer = self.loop.call_later(left, self._idle_expired)

    def _cancel_timers(self) -> None:
        for timer in (self.request_timer, self.idle_timer):
            if timer is not None:
                timer.cancel()
        self.request_timer = self.idle_timer = None

    def _close(self) -> None:
        self.closing = True
        self._cancel_timers()
        if self.transport is not None and not self.transport.is_closing():
            self.transport.close()
