"""HTTP/1.1 as a real `leasesync serve` speaks it on a socket: keep-alive, pipelining, answers
that close the connection, refusals, timeouts. leasesync speaks HTTP itself (app/api/protocol.py,
on httptools' parser) and writes each answer (status line, headers and body) in one piece."""

from __future__ import annotations

import json
import socket
import time
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import free_port, service_config


def _request(body: dict[str, Any] | bytes, *, version: str = "1.1", extra: str = "") -> bytes:
    payload = body if isinstance(body, bytes) else json.dumps(body).encode()
    head = (f"POST / HTTP/{version}\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
            f"Content-Length: {len(payload)}\r\n{extra}\r\n")
    return head.encode() + payload


class _Answers:
    """Reads HTTP answers off a socket, one at a time, by their Content-Length."""

    def __init__(self, sock: socket.socket) -> None:
        self.sock = sock
        self.buffer = b""

    def _fill(self) -> bool:
        chunk = self.sock.recv(65536)
        self.buffer += chunk
        return bool(chunk)

    def next(self) -> tuple[int, dict[str, str], bytes]:
        while b"\r\n\r\n" not in self.buffer:
            assert self._fill(), f"connection closed before a whole answer: {self.buffer!r}"
        head, self.buffer = self.buffer.split(b"\r\n\r\n", 1)
        status_line, *lines = head.decode().split("\r\n")
        headers = {name.lower(): value.strip() for name, value in (line.split(":", 1) for line in lines)}
        length = int(headers["content-length"])
        while len(self.buffer) < length:
            assert self._fill(), "connection closed inside an answer's body"
        body, self.buffer = self.buffer[:length], self.buffer[length:]
        return int(status_line.split()[1]), headers, body

    def closed_by_server(self) -> bool:
        return not self.buffer and not self._fill()


def _readable(sock: socket.socket) -> bool:
    import select

    return bool(select.select([sock], [], [], 0.01)[0])


@pytest.fixture
def server(spawn: Any, tmp_path: Path) -> Any:
    db = {"type": "sqlite", "name": str(tmp_path / "leases.db")}
    return spawn(service_config(db, port=free_port(), extra_agent={"max-request-size": 4096, "request-timeout": 1}))


def _connect(server: Any) -> socket.socket:
    sock = socket.create_connection(("127.0.0.1", server.port), timeout=10)
    return sock


def _add(i: int) -> dict[str, Any]:
    return {"command": "lease4-add", "service": ["dhcp4"],
            "arguments": {"ip-address": f"192.0.2.{10 + i}", "hw-address": "1a:1b:1c:1d:1e:1f"}}


def test_answers_on_a_kept_alive_connection_arrive_whole_and_in_turn(server: Any) -> None:
    with _connect(server) as sock:
        answers = _Answers(sock)
        for i in range(5):
            sock.sendall(_request(_add(i)))
            status, headers, body = answers.next()
            assert status == 200 and headers["content-type"] == "application/json"
            assert json.loads(body)[0]["text"] == f"Lease for address 192.0.2.{10 + i}, subnet-id 1 added."


def test_pipelined_requests_are_each_answered_in_order(server: Any) -> None:
    with _connect(server) as sock:
        sock.sendall(b"".join(_request(_add(i)) for i in range(20, 24)))
        answers = _Answers(sock)
        texts = [json.loads(answers.next()[2])[0]["text"] for _ in range(4)]
    assert texts == [f"Lease for address 192.0.2.{10 + i}, subnet-id 1 added." for i in range(20, 24)]


def _answer_then_close(server: Any, request: bytes) -> tuple[int, dict[str, str], bytes]:
    """Send `request` on a new connection: its one answer, after which the server must close."""
    with _connect(server) as sock:
        sock.sendall(request)
        answers = _Answers(sock)
        answer = answers.next()
        assert answers.closed_by_server(), "the connection stayed open after the answer"
    return answer


def test_a_body_over_the_size_limit_is_answered_413_then_the_connection_closes(server: Any) -> None:
    status, headers, body = _answer_then_close(server, _request(b"{" + b" " * 5000 + b"}"))
    assert status == 413 and headers["connection"] == "close"
    assert json.loads(body) == {"result": 413, "text": "Payload Too Large"}


def test_an_http_1_0_request_is_answered_whole_then_the_connection_closes(server: Any) -> None:
    status, headers, body = _answer_then_close(server, _request({"command": "version-get"}, version="1.0"))
    assert status == 200 and headers["connection"] == "close"
    assert json.loads(body)[0]["result"] == 0


def test_connection_close_from_the_client_gets_the_whole_answer_first(server: Any) -> None:
    status, _headers, body = _answer_then_close(
        server, _request({"command": "list-commands"}, extra="Connection: close\r\n"))
    assert status == 200 and "list-commands" in json.loads(body)[0]["arguments"]


def test_an_http_1_0_request_gets_an_http_1_0_status_line_as_from_kea(server: Any) -> None:
    with _connect(server) as sock:
        sock.sendall(_request({"command": "version-get"}, version="1.0"))
        assert sock.recv(65536).startswith(b"HTTP/1.0 200 OK\r\nContent-Length: ")


def test_an_unparsable_request_gets_keas_json_400_then_the_connection_closes(server: Any) -> None:
    with _connect(server) as sock:
        sock.sendall(b"HELLO\r\n\r\n")
        answers = _Answers(sock)
        status, headers, body = answers.next()
        assert answers.closed_by_server()
    assert status == 400 and headers["content-type"] == "application/json"
    assert json.loads(body) == {"result": 400, "text": "Bad Request"}


def test_requests_before_an_unparsable_one_are_answered_first(server: Any) -> None:
    with _connect(server) as sock:
        sock.sendall(_request({"command": "version-get"}) + b"GARBAGE\r\n\r\n")
        answers = _Answers(sock)
        first, second = answers.next(), answers.next()
        assert answers.closed_by_server()
    assert first[0] == 200 and json.loads(first[2])[0]["result"] == 0
    assert second[0] == 400



def test_a_lower_case_method_is_read_as_kea_reads_it(server: Any) -> None:
    # curl -X post: Kea takes the method in any case, llhttp alone would refuse it
    with _connect(server) as sock:
        sock.sendall(b"post" + _request({"command": "version-get"})[4:])
        status, _headers, body = _Answers(sock).next()
    assert status == 200 and json.loads(body)[0]["result"] == 0

def test_a_body_that_stalls_past_request_timeout_is_answered_408_then_the_connection_closes(server: Any) -> None:
    with _connect(server) as sock:
        sock.sendall(_request({"command": "version-get"})[:-5])  # the server waits for 5 more bytes
        answers = _Answers(sock)
        status, headers, body = answers.next()  # request-timeout is 1 s in this fixture
        assert answers.closed_by_server()
    assert status == 408 and headers["connection"] == "close"
    assert json.loads(body) == {"result": 408, "text": "Request Timeout"}


def test_headers_beyond_64_kib_are_refused_400_then_the_connection_closes(server: Any) -> None:
    filler = "".join(f"X-Filler-{i}: {'a' * 1000}\r\n" for i in range(70))
    status, _headers, body = _answer_then_close(server, _request({"command": "version-get"}, extra=filler))
    assert status == 400 and json.loads(body) == {"result": 400, "text": "Bad Request"}



def test_a_header_line_that_never_ends_is_refused_400_after_64_kib(server: Any) -> None:
    with _connect(server) as sock:
        sock.sendall(b"POST / HTTP/1.1\r\nX-Endless: ")
        answers = _Answers(sock)
        for _ in range(40):  # 40 x 4 KiB in separate writes, well before request-timeout
            try:
                sock.sendall(b"a" * 4096)
            except OSError:  # refused and closed while still sending
                break
            if answers.buffer or _readable(sock):
                break
        status, headers, body = answers.next()
    assert status == 400 and headers["connection"] == "close"
    assert json.loads(body) == {"result": 400, "text": "Bad Request"}

def test_get_endpoints_answer_on_the_socket_and_head_gets_no_body(server: Any) -> None:
    with _connect(server) as sock:
        answers = _Answers(sock)
        sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
        status, _headers, body = answers.next()
        assert status == 200 and body
        sock.sendall(b"HEAD /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
        while b"\r\n\r\n" not in answers.buffer:
            assert answers._fill()
        head, rest = answers.buffer.split(b"\r\n\r\n", 1)
        assert head.startswith(b"HTTP/1.1 ") and b"content-length: " in head.lower()
        assert rest == b""  # the length of the GET's body is announced, the body is not sent
        sock.sendall(_request({"command": "version-get"}))  # the connection still serves commands
        answers.buffer = b""
        assert answers.next()[0] == 200


def test_a_connection_beyond_max_connections_is_refused_503(spawn: Any, tmp_path: Path) -> None:
    db = {"type": "sqlite", "name": str(tmp_path / "leases.db")}
    limited = spawn(service_config(db, port=free_port(), extra_agent={"max-connections": 1}))
    first = None
    for _ in range(100):  # until the start-up probe's connection is gone from the server's count
        candidate = _connect(limited)
        candidate.sendall(_request({"command": "version-get"}))
        if _Answers(candidate).next()[0] == 200:
            first = candidate
            break
        candidate.close()
        time.sleep(0.02)
    assert first is not None, "the one allowed connection was never let in"
    with first:
        second = _connect(limited)
        second.sendall(_request({"command": "version-get"}))
        with second:
            answers = _Answers(second)
            status, _headers, body = answers.next()
            assert answers.closed_by_server()
    assert status == 503 and json.loads(body) == {"result": 503, "text": "Service Unavailable"}


def test_expect_100_continue_gets_100_continue_before_the_body_is_sent(server: Any) -> None:
    body = json.dumps({"command": "version-get"}).encode()
    head = (f"POST / HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: {len(body)}\r\n"
            "Expect: 100-continue\r\n\r\n").encode()
    with _connect(server) as sock:
        sock.sendall(head)
        interim = b""
        while b"\r\n\r\n" not in interim:
            chunk = sock.recv(65536)
            assert chunk, "closed instead of 100 Continue"
            interim += chunk
        assert interim == b"HTTP/1.1 100 Continue\r\n\r\n"
        sock.sendall(body)
        status, _headers, answer = _Answers(sock).next()
    assert status == 200 and json.loads(answer)[0]["result"] == 0


def test_expect_100_continue_refused_on_its_headers_is_answered_at_once_then_closes(server: Any) -> None:
    head = (b"POST / HTTP/1.1\r\nHost: x\r\nContent-Type: text/plain\r\nContent-Length: 30\r\n"
            b"Expect: 100-continue\r\n\r\n")
    status, headers, body = _answer_then_close(server, head)  # the body is never sent
    assert status == 400 and headers["connection"] == "close"
    assert json.loads(body) == {"result": 400, "text": "Bad Request"}


def test_an_http_1_0_keep_alive_request_is_told_and_the_connection_stays(server: Any) -> None:
    with _connect(server) as sock:
        answers = _Answers(sock)
        for _ in range(2):
            sock.sendall(_request({"command": "version-get"}, version="1.0", extra="Connection: keep-alive\r\n"))
            status, headers, _body = answers.next()
            assert status == 200 and headers["connection"] == "keep-alive"


class _RecordingTransport:
    def __init__(self) -> None:
        self.writes: list[bytes] = []
        self.closed = False

    def write(self, data: bytes) -> None:
        self.writes.append(bytes(data))

    def close(self) -> None:
        self.closed = True

    def is_closing(self) -> bool:
        return self.closed

    def get_extra_info(self, name: str) -> Any:
        return ("127.0.0.1", 4242) if name in ("peername", "sockname") else None

    paused = False

    def pause_reading(self) -> None:
        self.paused = True

    def resume_reading(self) -> None:
        self.paused = False


class _ManualClock:
    """The protocol's loop with time under the test's hand: its timers run only when the test
    moves the clock past them (tasks and futures still go to the running loop)."""

    def __init__(self) -> None:
        import asyncio

        self.real = asyncio.get_running_loop()
        self.now = 0.0
        self.timers: list[Any] = []

    def time(self) -> float:
        return self.now

    def call_later(self, delay: float, callback: Any, *args: Any) -> Any:
        import types

        timer = types.SimpleNamespace(when=self.now + delay, callback=callback, args=args, cancelled=False)
        timer.cancel = lambda: setattr(timer, "cancelled", True)
        self.timers.append(timer)
        return timer

    def armed(self) -> list[Any]:
        return [timer for timer in self.timers if not timer.cancelled]

    def advance(self, seconds: float) -> None:
        self.now += seconds
        while due := [t for t in self.armed() if t.when <= self.now]:
            timer = min(due, key=lambda t: t.when)
            self.timers.remove(timer)
            timer.callback(*timer.args)

    def create_task(self, coro: Any) -> Any:
        return self.real.create_task(coro)

    def create_future(self) -> Any:
        return self.real.create_future()


def _protocol(answer: bytes, gate: Any = None, loop: Any = None) -> Any:
    """The protocol in front of an application whose every command answers `answer`."""
    import types

    from app.api.asgi import ControlChannelApp
    from app.api.protocol import ControlChannelProtocol

    class _FixedAnswer(ControlChannelApp):
        def __init__(self) -> None:
            self.max_size, self.body_timeout = 4096, 10.0

        async def control_answer(self, body: bytes, authorization: bytes | None, remote: str) -> Any:
            if gate is not None:
                await gate.wait()
            return 200, answer, None

    config = types.SimpleNamespace(app=_FixedAnswer(), limit_concurrency=None, timeout_keep_alive=5, root_path="")
    state = types.SimpleNamespace(connections=set(), tasks=set(), total_requests=0)
    return ControlChannelProtocol(config, state, _loop=loop)


def _connected_on_a_manual_clock(gate: Any = None) -> tuple[_ManualClock, Any, _RecordingTransport]:
    """A connection made to a protocol whose timers run on a `_ManualClock`; every command answers `[ ]`."""
    clock = _ManualClock()
    protocol, transport = _protocol(b"[ ]", gate, loop=clock), _RecordingTransport()
    protocol.connection_made(transport)
    return clock, protocol, transport


def _assert_closed_after_the_keep_alive_timeout(clock: _ManualClock, transport: _RecordingTransport) -> None:
    """Open until the fixture's 5 s keep-alive timeout from now has passed, closed just after."""
    clock.advance(4.9)
    assert not transport.closed
    clock.advance(0.2)
    assert transport.closed


async def _answered(protocol: Any) -> None:
    import asyncio

    if protocol.running is not None:
        await asyncio.wait({protocol.running})


async def test_a_keep_alive_connection_idle_for_the_keep_alive_timeout_is_closed() -> None:
    clock, protocol, transport = _connected_on_a_manual_clock()
    protocol.data_received(_request({"command": "version-get"}))
    await _answered(protocol)
    _assert_closed_after_the_keep_alive_timeout(clock, transport)


async def test_each_request_starts_the_keep_alive_time_again() -> None:
    clock, protocol, transport = _connected_on_a_manual_clock()
    for _ in range(3):  # a request every 4 s: never 5 s idle
        clock.advance(4)
        protocol.data_received(_request({"command": "version-get"}))
        await _answered(protocol)
    assert not transport.closed and len(transport.writes) == 3
    _assert_closed_after_the_keep_alive_timeout(clock, transport)


async def test_a_connection_busy_with_a_request_is_not_closed_for_keep_alive() -> None:
    import asyncio

    gate = asyncio.Event()
    clock, protocol, transport = _connected_on_a_manual_clock(gate)
    protocol.data_received(_request({"command": "version-get"}))
    clock.advance(60)  # the command takes a minute
    assert not transport.closed
    gate.set()
    await _answered(protocol)
    _assert_closed_after_the_keep_alive_timeout(clock, transport)


async def test_a_request_that_arrives_whole_arms_no_request_timer() -> None:
    import asyncio

    gate = asyncio.Event()
    clock, protocol, transport = _connected_on_a_manual_clock(gate)
    protocol.data_received(_request({"command": "version-get"}))
    assert not [timer for timer in clock.timers if timer.callback == protocol._timed_out]
    gate.set()
    await _answered(protocol)


async def test_a_request_split_over_chunks_is_timed_out_after_request_timeout() -> None:
    clock, protocol, transport = _connected_on_a_manual_clock()
    request = _request({"command": "version-get"})
    protocol.data_received(request[:30])
    clock.advance(9.9)  # the fixture's request-timeout is 10 s
    protocol.data_received(request[30:40])
    assert transport.writes == []
    clock.advance(0.2)
    assert transport.writes and transport.writes[0].startswith(b"HTTP/1.1 408 ")
    assert transport.closed


async def test_a_second_request_begun_in_the_chunk_that_ends_the_first_is_timed() -> None:
    clock, protocol, transport = _connected_on_a_manual_clock()
    second = _request({"command": "version-get"})
    protocol.data_received(_request({"command": "version-get"}) + second[:20])
    await _answered(protocol)
    assert len(transport.writes) == 1
    clock.advance(10.1)
    assert len(transport.writes) == 2 and transport.writes[1].startswith(b"HTTP/1.1 408 ")


@pytest.mark.parametrize("keep_alive", [True, False])
async def test_each_answer_leaves_in_one_write(keep_alive: bool) -> None:
    import asyncio

    body = b'[ { "result": 0, "text": "ok" } ]'
    protocol, transport = _protocol(body), _RecordingTransport()
    protocol.connection_made(transport)
    protocol.data_received(_request({"command": "version-get"}, extra="" if keep_alive else "Connection: close\r\n"))
    await asyncio.wait({protocol.running})
    assert len(transport.writes) == 1, transport.writes
    assert transport.writes[0].startswith(b"HTTP/1.1 200 OK\r\nContent-Length: 33\r\nContent-Type: application/json\r\n")
    assert transport.writes[0].endswith(b"\r\n\r\n" + body)
    assert transport.closed is (not keep_alive)
    protocol.connection_lost(None)


async def test_a_pipelining_client_is_not_read_while_more_than_32_requests_wait() -> None:
    import asyncio

    gate = asyncio.Event()
    protocol, transport = _protocol(b"[ ]", gate), _RecordingTransport()
    protocol.connection_made(transport)
    protocol.data_received(b"".join(_request({"command": "version-get"}) for _ in range(40)))
    assert transport.paused and len(protocol.waiting) == 39  # one is being answered
    gate.set()
    for _ in range(1000):  # bounded: each answer takes a few loop turns
        if len(transport.writes) == 40 and protocol.running is None:
            break
        await asyncio.sleep(0)
    assert len(transport.writes) == 40 and not transport.paused
    protocol.connection_lost(None)
