"""A peer of the tests' own on loopback: reads HTTP requests one at a time per connection and
lets the test's `behave` answer, stall, close or misbehave as a peer might (the `fake_peer`
fixture of tests/conftest.py starts them)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass, field

OK = b'[{"result": 0, "text": "ok"}]'


@dataclass
class FakePeer:
    """Reads one request at a time per connection and lets `behave` answer it."""

    behave: Callable[[FakePeer, asyncio.StreamWriter, bytes], object]
    connections: int = 0
    requests: list[bytes] = field(default_factory=list)
    in_flight: int = 0
    most_in_flight: int = 0
    release: asyncio.Event = field(default_factory=asyncio.Event)
    port: int = 0

    async def serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                length = next(int(line.split(b":")[1]) for line in head.split(b"\r\n")
                              if line.lower().startswith(b"content-length:"))
                request = head + await reader.readexactly(length)
                self.requests.append(request)
                self.in_flight += 1
                self.most_in_flight = max(self.most_in_flight, self.in_flight)
                try:
                    outcome = self.behave(self, writer, request)
                    if asyncio.iscoroutine(outcome):
                        outcome = await outcome
                finally:
                    self.in_flight -= 1
                await writer.drain()
                if outcome == "close":
                    writer.close()
                    return
        except (asyncio.IncompleteReadError, ConnectionError):
            writer.close()


def answer(body: bytes = OK, extra: bytes = b"") -> bytes:
    return b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n%sContent-Length: %d\r\n\r\n%s" % (
        extra, len(body), body)
