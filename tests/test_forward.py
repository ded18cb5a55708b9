"""Forwarding to a local Kea daemon's unix control socket (app/forward.py), against a socket
server that answers as kea-dhcp4 does: the answer's JSON, written in pieces, then the close."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest

import app.forward
from app.config import ControlSocket
from app.forward import Forwarder

pytestmark = pytest.mark.timeout(30)

ENVELOPE = {"command": "lease4-get-all", "service": ["dhcp4"]}
LEASES = [{"ip-address": f"10.0.{n // 250}.{n % 250 + 1}", "hostname": f"host-{n}", "subnet-id": 1}
          for n in range(2000)]
ANSWER = {"result": 0, "text": "2000 IPv4 lease(s) found.", "arguments": {"leases": LEASES}}


def pieces(text: bytes, size: int = 997) -> list[bytes]:
    """`text` cut every `size` bytes, moved so that no piece but the last ends on `}` or `]`."""
    out: list[bytes] = []
    while len(text) > size:
        cut = size
        while text[cut - 1:cut] in (b"}", b"]"):
            cut += 1
        out.append(text[:cut])
        text = text[cut:]
    return [*out, text]


@pytest.fixture
async def kea_socket(tmp_path: Path) -> AsyncIterator[Callable[..., Any]]:
    servers: list[asyncio.AbstractServer] = []

    async def start(answer: list[bytes], close: bool = True, gap: float = 0.0, forward_timeout: float = 10.0) -> Forwarder:
        async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            await reader.read(65536)
            for piece in answer:
                writer.write(piece)
                await writer.drain()
                await asyncio.sleep(gap)
            if close:
                writer.close()
            else:
                await asyncio.sleep(60)

        path = tmp_path / f"kea{len(servers)}.sock"
        servers.append(await asyncio.start_unix_server(serve, str(path)))
        return Forwarder({"dhcp4": ControlSocket("unix", str(path))}, timeout=forward_timeout)

    yield start
    for server in servers:
        server.close()


async def test_an_answer_written_in_pieces_is_read_whole(kea_socket: Any) -> None:
    forwarder = await kea_socket(pieces(json.dumps(ANSWER).encode()))
    assert await forwarder.forward("dhcp4", ENVELOPE) == ANSWER


async def test_an_answer_is_parsed_once_it_is_complete_not_after_every_piece(kea_socket: Any,
                                                                              monkeypatch: Any) -> None:
    parsed: list[int] = []
    parse = app.forward._json_value

    def counting(data: bytes) -> Any:
        parsed.append(len(data))
        return parse(data)

    monkeypatch.setattr(app.forward, "_json_value", counting)
    answer = pieces(json.dumps(ANSWER).encode())
    forwarder = await kea_socket(answer)
    assert await forwarder.forward("dhcp4", ENVELOPE) == ANSWER
    assert len(answer) > 100 and parsed == [sum(map(len, answer))]


async def test_a_complete_answer_is_taken_without_waiting_for_the_close(kea_socket: Any) -> None:
    forwarder = await kea_socket([json.dumps(ANSWER).encode()], close=False)
    assert await asyncio.wait_for(forwarder.forward("dhcp4", ENVELOPE), 5) == ANSWER


async def test_a_daemon_that_closes_before_its_answer_is_complete_is_an_end_of_file(kea_socket: Any) -> None:
    forwarder = await kea_socket([json.dumps(ANSWER).encode()[:5000]])
    assert await forwarder.forward("dhcp4", ENVELOPE) == {
        "result": 1,
        "text": "unable to forward command to the dhcp4 service: End of file. The server is likely to be offline"}
    assert forwarder.failures == 1


async def test_an_answer_that_keeps_coming_is_not_cut_off_by_the_timeout(kea_socket: Any) -> None:
    # the timeout bounds each wait, as kea-ctrl-agent's does: 24 pieces 0.05 s apart outlast 0.5 s
    answer = pieces(json.dumps(ANSWER).encode(), size=len(json.dumps(ANSWER)) // 24 + 1)
    forwarder = await kea_socket(answer, gap=0.05, forward_timeout=0.5)
    assert await forwarder.forward("dhcp4", ENVELOPE) == ANSWER


async def test_a_daemon_that_stops_sending_half_way_times_out(kea_socket: Any) -> None:
    text = json.dumps(ANSWER).encode()
    forwarder = await kea_socket([text[:5000], text[5000:]], gap=1.0, forward_timeout=0.2)
    assert await forwarder.forward("dhcp4", ENVELOPE) == {
        "result": 1, "text": "unable to forward command to the dhcp4 service: Connection timed out. "
                             "The server is likely to be offline"}
