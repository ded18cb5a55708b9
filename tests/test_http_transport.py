"""HTTP/1.1 as a real `leasesync serve` speaks it on a socket: keep-alive, pipelining, answers
that close the connection. uvicorn does the HTTP; leasesync writes each answer (status line,
headers and body) to the socket in one piece (app/api/asgi.py, ControlChannelApp._respond), and
these tests check that nothing of HTTP got lost on the way."""

from __future__ import annotations

import json
import socket
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


@pytest.fixture
def server(spawn: Any, tmp_path: Path) -> Any:
    db = {"type": "sqlite", "name": str(tmp_path / "leases.db")}
    return spawn(service_config(db, port=free_port(), extra_agent={"max-request-size": 4096}))


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

    def pause_reading(self) -> None: ...

    def resume_reading(self) -> None: ...


def _uvicorn_cycle(transport: _RecordingTransport, keep_alive: bool) -> Any:
    import asyncio
    import logging

    from uvicorn.protocols.http.flow_control import FlowControl
    from uvicorn.protocols.http.httptools_impl import RequestResponseCycle

    scope = {"type": "http", "method": "POST", "path": "/", "headers": [], "http_version": "1.1"}
    return RequestResponseCycle(scope=scope, transport=transport, flow=FlowControl(transport),  # type: ignore[arg-type]
                                logger=logging.getLogger("test"), access_logger=logging.getLogger("test"),
                                access_log=False, default_headers=[], message_event=asyncio.Event(),
                                expect_100_continue=False, keep_alive=keep_alive, on_response=lambda: None)


@pytest.mark.parametrize("keep_alive", [True, False])
async def test_uvicorn_gets_each_answer_as_one_write(keep_alive: bool) -> None:
    # against uvicorn's own request cycle: if uvicorn stops writing through `cycle.transport`,
    # answers fall back to two writes and this fails
    from app.api.asgi import ControlChannelApp

    transport = _RecordingTransport()
    cycle = _uvicorn_cycle(transport, keep_alive)
    body = b'[ { "result": 0, "text": "ok" } ]'
    await ControlChannelApp._respond(None, cycle.send, 200, body)  # type: ignore[arg-type]
    assert len(transport.writes) == 1, transport.writes
    assert transport.writes[0].startswith(b"HTTP/1.1 200 OK\r\n") and transport.writes[0].endswith(b"\r\n\r\n" + body)
    assert cycle.response_complete
    assert transport.closed is (not keep_alive)
