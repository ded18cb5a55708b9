"""The HA peer client's connections (app/ha/http_transport.py), against small servers of the
tests' own on loopback that answer, stall, close or misbehave as a peer might."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import pytest

from app.ha.peer_client import PeerClient, PeerEndpoint, PeerError
from tests.fake_peer import OK, FakePeer, answer

LIST_COMMANDS = {"command": "list-commands"}


def client_for(peer: FakePeer, timeout: float = 5.0) -> PeerClient:
    return PeerClient(PeerEndpoint("server2", f"http://127.0.0.1:{peer.port}/", basic_auth_user="ha",
                                   basic_auth_password="s3cret"), timeout=timeout)


async def test_requests_share_one_kept_alive_connection(fake_peer) -> None:
    peer = await fake_peer(lambda p, w, r: w.write(answer()))
    client = client_for(peer)
    for _ in range(3):
        assert (await client.send(LIST_COMMANDS))["result"] == 0
    assert peer.connections == 1
    await client.close()


async def test_a_request_carries_the_json_body_and_the_credentials(fake_peer) -> None:
    peer = await fake_peer(lambda p, w, r: w.write(answer()))
    client = client_for(peer)
    await client.send(LIST_COMMANDS)
    head, _, body = peer.requests[0].partition(b"\r\n\r\n")
    assert head.startswith(b"POST / HTTP/1.1\r\n")
    assert b"\r\nContent-Type: application/json" in head
    assert b"\r\nAuthorization: Basic aGE6czNjcmV0" in head  # ha:s3cret
    assert body == b'{"command":"list-commands"}'
    await client.close()


async def test_a_connection_the_peer_closed_while_idle_is_replaced_without_an_error(fake_peer) -> None:
    # the peer's keep-alive ran out between two requests: it closes without saying so beforehand
    peer = await fake_peer(lambda p, w, r: (w.write(answer()), "close")[1])
    client = client_for(peer)
    assert (await client.send(LIST_COMMANDS))["result"] == 0
    await asyncio.sleep(0.05)  # the close reaches the client while the connection is idle
    assert (await client.send(LIST_COMMANDS))["result"] == 0
    assert peer.connections == 2
    assert len(peer.requests) == 2
    await client.close()


async def test_a_kept_alive_connection_that_hangs_up_on_the_next_request_is_replaced_once(fake_peer) -> None:
    # the race the idle check cannot see: the peer closed just as the request went out
    served: dict[int, int] = {}

    def first_only(p: FakePeer, w: asyncio.StreamWriter, r: bytes) -> str | None:
        served[id(w)] = served.get(id(w), 0) + 1
        if served[id(w)] > 1:
            return "close"
        w.write(answer())
        return None

    peer = await fake_peer(first_only)
    client = client_for(peer)
    assert (await client.send(LIST_COMMANDS))["result"] == 0
    assert (await client.send(LIST_COMMANDS))["result"] == 0
    assert peer.connections == 2
    assert len(peer.requests) == 3  # the second request went out twice: once unanswered, once answered
    await client.close()


async def test_connection_close_in_the_answer_is_obeyed(fake_peer) -> None:
    peer = await fake_peer(lambda p, w, r: w.write(answer(extra=b"Connection: close\r\n")))
    client = client_for(peer)
    for _ in range(2):
        assert (await client.send(LIST_COMMANDS))["result"] == 0
    assert peer.connections == 2
    await client.close()


async def test_a_chunked_answer_is_read_whole(fake_peer) -> None:
    def chunked(p: FakePeer, w: asyncio.StreamWriter, r: bytes) -> None:
        w.write(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
                b"%x\r\n%s\r\n%x\r\n%s\r\n0\r\n\r\n" % (10, OK[:10], len(OK) - 10, OK[10:]))

    peer = await fake_peer(chunked)
    client = client_for(peer)
    assert (await client.send(LIST_COMMANDS))["text"] == "ok"
    assert (await client.send(LIST_COMMANDS))["text"] == "ok"
    assert peer.connections == 1
    await client.close()


async def test_a_peer_that_does_not_answer_times_out_as_a_communication_failure(fake_peer) -> None:
    async def stall(p: FakePeer, w: asyncio.StreamWriter, r: bytes) -> None:
        await p.release.wait()

    peer = await fake_peer(stall)
    client = client_for(peer, timeout=0.3)
    with pytest.raises(PeerError) as raised:
        await client.send(LIST_COMMANDS)
    assert (raised.value.kind, raised.value.text) == ("communication", "Connection timed out")
    peer.release.set()
    await client.close()


async def test_a_late_answer_is_not_taken_for_the_next_requests(fake_peer) -> None:
    async def slow_first(p: FakePeer, w: asyncio.StreamWriter, r: bytes) -> None:
        if len(p.requests) == 1:
            await asyncio.sleep(0.5)
            w.write(answer(b'[{"result": 1, "text": "late"}]'))
        else:
            w.write(answer())

    peer = await fake_peer(slow_first)
    client = client_for(peer, timeout=0.2)
    with pytest.raises(PeerError):
        await client.send(LIST_COMMANDS)
    assert (await client.send(LIST_COMMANDS, request_timeout=2))["text"] == "ok"
    assert peer.connections == 2  # the timed-out connection was dropped, not reused
    await client.close()


async def test_a_refused_connection_is_a_communication_failure(unused_tcp_port: int) -> None:
    client = PeerClient(PeerEndpoint("server2", f"http://127.0.0.1:{unused_tcp_port}/"))
    with pytest.raises(PeerError) as raised:
        await client.send(LIST_COMMANDS)
    assert raised.value.kind == "communication"
    assert client.failures == 1
    await client.close()


async def test_a_refused_connection_is_reported_in_keas_words(unused_tcp_port: int) -> None:
    client = PeerClient(PeerEndpoint("server2", f"http://127.0.0.1:{unused_tcp_port}/"))
    with pytest.raises(PeerError) as raised:
        await client.send(LIST_COMMANDS)
    assert raised.value.text == "Connection refused"  # what Kea's ha-sync answers, not "[Errno 111] ..."
    await client.close()


async def test_an_answer_larger_than_the_limit_fails_the_request_without_being_kept(fake_peer) -> None:
    body = b'[{"result": 0, "text": "' + b"x" * (1 << 20) + b'"}]'
    peer = await fake_peer(lambda p, w, r: w.write(answer(body)))
    client = PeerClient(PeerEndpoint("server2", f"http://127.0.0.1:{peer.port}/"), max_answer_bytes=64 * 1024)
    with pytest.raises(PeerError) as raised:
        await client.send(LIST_COMMANDS)
    assert (raised.value.kind, raised.value.text) == ("communication", "the peer's answer is larger than 65536 bytes")
    assert client.failures == 1
    await client.close()


async def test_an_answer_within_the_limit_is_read_whole(fake_peer) -> None:
    body = b'[{"result": 0, "text": "' + b"x" * 60_000 + b'"}]'
    peer = await fake_peer(lambda p, w, r: w.write(answer(body)))
    client = PeerClient(PeerEndpoint("server2", f"http://127.0.0.1:{peer.port}/"), max_answer_bytes=64 * 1024)
    assert len((await client.send(LIST_COMMANDS))["text"]) == 60_000
    await client.close()


@pytest.mark.parametrize(("body", "kind", "text", "result"), [
    (b'{"result": 401, "text": "Unauthorized"}', "answer", "Unauthorized", 401),
    (b'{"result": 1, "text": "no"}', "answer", "the answer is not a list of responses", 1),
    (b"[]", "answer", "list of responses must not be empty", None),
    (b'[{"text": "no result"}]', "answer", "invalid answer: no integer result", None),
    (b'[{"result": "0"}]', "answer", "invalid answer: no integer result", None),
    (b'[{"result": 1, "text": "refused"}]', "answer", "refused, error code 1", 1),
    (b"[{result: 0}]", "communication", "invalid JSON answer (HTTP 200)", None),
])
async def test_an_answer_that_is_not_a_kea_success_fails_the_request_and_is_counted(
        fake_peer, body: bytes, kind: str, text: str, result: int | None) -> None:
    peer = await fake_peer(lambda p, w, r: w.write(answer(body)))
    client = client_for(peer)
    with pytest.raises(PeerError) as raised:
        await client.send(LIST_COMMANDS)
    assert (raised.value.kind, raised.value.text, raised.value.result) == (kind, text, result)
    assert client.failures == 1
    await client.close()


async def test_a_malformed_answer_is_a_communication_failure(fake_peer) -> None:
    peer = await fake_peer(lambda p, w, r: w.write(b"HTTP/1.1 abc\r\n\r\n"))
    client = client_for(peer)
    with pytest.raises(PeerError) as raised:
        await client.send(LIST_COMMANDS)
    assert raised.value.kind == "communication"
    assert "malformed HTTP answer" in raised.value.text
    await client.close()


async def test_an_answer_cut_off_half_way_fails_without_sending_the_request_again(fake_peer) -> None:
    peer = await fake_peer(lambda p, w, r: (w.write(answer()[:-5]), "close")[1])
    client = client_for(peer)
    with pytest.raises(PeerError) as raised:
        await client.send(LIST_COMMANDS)
    assert "in the middle of its answer" in raised.value.text
    assert len(peer.requests) == 1
    await client.close()


async def test_a_peer_that_always_hangs_up_without_answering_fails_after_one_fresh_try(fake_peer) -> None:
    peer = await fake_peer(lambda p, w, r: "close")
    client = client_for(peer)
    with pytest.raises(PeerError) as raised:
        await client.send(LIST_COMMANDS)
    assert "closed the connection without answering" in raised.value.text
    assert len(peer.requests) == 1  # a new connection is not retried
    await client.close()


async def test_no_more_than_eight_requests_are_in_flight_at_once(fake_peer) -> None:
    async def hold(p: FakePeer, w: asyncio.StreamWriter, r: bytes) -> None:
        await p.release.wait()
        w.write(answer())

    peer = await fake_peer(hold)
    client = client_for(peer)
    sends = [asyncio.ensure_future(client.send(LIST_COMMANDS)) for _ in range(12)]
    for _ in range(100):
        await asyncio.sleep(0.01)
        if peer.in_flight == 8:
            break
    await asyncio.sleep(0.05)
    assert peer.in_flight == 8
    peer.release.set()
    assert [a["result"] for a in await asyncio.gather(*sends)] == [0] * 12
    assert peer.most_in_flight == 8
    assert peer.connections == 8
    await client.close()


async def test_a_kept_alive_connection_closed_before_its_loss_is_reported_is_not_used(fake_peer) -> None:
    peer = await fake_peer(lambda p, w, r: w.write(answer()))
    client = client_for(peer)
    assert (await client.send(LIST_COMMANDS))["result"] == 0
    [idle] = client._connections._idle
    assert idle.transport is not None
    idle.transport.close()  # closing now; connection_lost only runs on a later turn of the loop
    assert (await client.send(LIST_COMMANDS))["result"] == 0
    assert peer.connections == 2
    assert len(peer.requests) == 2
    await client.close()


async def test_a_connection_whose_write_fails_is_replaced_without_an_error(fake_peer) -> None:
    # uvloop raises RuntimeError writing to a handle that closed before the loss was reported
    peer = await fake_peer(lambda p, w, r: w.write(answer()))
    client = client_for(peer)
    assert (await client.send(LIST_COMMANDS))["result"] == 0
    [idle] = client._connections._idle

    def closed_handle(data: bytes) -> None:
        raise RuntimeError("unable to perform operation on <TCPTransport closed=True>; the handler is closed")

    idle.transport.write = closed_handle  # type: ignore[method-assign,union-attr]
    assert (await client.send(LIST_COMMANDS))["result"] == 0
    assert peer.connections == 2
    await client.close()


async def test_an_unexpected_error_in_the_connection_is_a_communication_failure(fake_peer, monkeypatch) -> None:
    peer = await fake_peer(lambda p, w, r: w.write(answer()))
    client = client_for(peer)

    async def broken(*args: object, **kwargs: object) -> tuple[int, bytes]:
        raise ValueError("something nobody foresaw")

    monkeypatch.setattr(client._connections, "post", broken)
    with pytest.raises(PeerError) as raised:
        await client.send(LIST_COMMANDS)
    assert raised.value.kind == "communication"
    assert "something nobody foresaw" in raised.value.text
    await client.close()



def _freezing_peer(pause: float, answer_after: float) -> tuple[int, Callable[[asyncio.AbstractEventLoop], None]]:
    """A peer on threads of its own that, on the first request, freezes the client's event loop
    for `pause` seconds (as SIGSTOP or a suspended VM would) and answers every request
    `answer_after` seconds after it arrived."""
    import socket
    import threading
    import time

    listener = socket.create_server(("127.0.0.1", 0))
    frozen = threading.Event()

    def answer_each(conn: socket.socket, loop: asyncio.AbstractEventLoop) -> None:
        with conn:
            buffered = b""
            while True:
                while b"\r\n\r\n" not in buffered:
                    chunk = conn.recv(65536)
                    if not chunk:
                        return
                    buffered += chunk
                head, buffered = buffered.split(b"\r\n\r\n", 1)
                length = next(int(line.split(b":")[1]) for line in head.split(b"\r\n")
                              if line.lower().startswith(b"content-length:"))
                while len(buffered) < length:
                    buffered += conn.recv(65536)
                buffered = buffered[length:]
                if not frozen.is_set():
                    frozen.set()
                    loop.call_soon_threadsafe(time.sleep, pause)
                time.sleep(answer_after)
                conn.sendall(answer())

    def accept(loop: asyncio.AbstractEventLoop) -> None:
        with listener:
            listener.settimeout(pause + 5)
            try:
                while True:
                    conn, _ = listener.accept()
                    threading.Thread(target=answer_each, args=(conn, loop), daemon=True).start()
            except OSError:
                return

    start = lambda loop: threading.Thread(target=accept, args=(loop,), daemon=True).start()  # noqa: E731
    return listener.getsockname()[1], start


@pytest.mark.parametrize("loop_kind", ["asyncio", "uvloop"])
@pytest.mark.parametrize("requests", [1, 12])
def test_time_the_process_spent_frozen_does_not_count_against_a_requests_timeout(loop_kind: str,
                                                                                requests: int) -> None:
    # After SIGCONT (or a VM's resume) every timer is past due: answers already in the sockets,
    # requests still waiting for one of the 8 connections. A timeout counts the time this process
    # ran, not the time it was frozen; otherwise a pause of a few seconds fails updates the partner
    # has taken or would take at once, and sends the pair through partner-down and a full resync.
    import uvloop

    async def main() -> list[dict[str, object]]:
        port, start = _freezing_peer(pause=0.8, answer_after=0.05)
        start(asyncio.get_running_loop())
        client = PeerClient(PeerEndpoint("server2", f"http://127.0.0.1:{port}/"), timeout=0.4)
        try:
            return list(await asyncio.gather(*(client.send(LIST_COMMANDS) for _ in range(requests))))
        finally:
            await client.close()

    factory = uvloop.new_event_loop if loop_kind == "uvloop" else asyncio.new_event_loop
    with asyncio.Runner(loop_factory=factory) as runner:
        assert [answer["text"] for answer in runner.run(main())] == ["ok"] * requests
