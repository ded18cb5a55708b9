"""How a backlog batch is split for replay (app/ha/service.py): lanes of one lease each, side by
side, a lease's entries in queue order, and a bulk entry alone between the others; and how the
requests of one step go side by side."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from app.ha.peer_client import PeerError
from app.ha.service import REPLAY_CONCURRENCY, _replay_segments, _side_by_side
from app.store.sync_ops import BacklogEntry


def entry(ident: int, command: str, arguments: dict[str, Any]) -> BacklogEntry:
    return BacklogEntry(ident, "server2", 4 if command.startswith("lease4") else 6, command, arguments, 0)


def ids(segments: list[list[list[BacklogEntry]]]) -> list[list[list[int]]]:
    return [[[e.id for e in lane] for lane in segment] for segment in segments]


async def until(predicate: Any, seconds: float) -> None:
    """Poll `predicate` every 10 ms for up to `seconds` (the loop under test has no event to wait
    on); the caller asserts what it needs afterwards."""
    for _ in range(int(seconds * 100)):
        if predicate():
            return
        await asyncio.sleep(0.01)


def test_the_changes_of_one_lease_share_a_lane_in_queue_order() -> None:
    batch = [entry(1, "lease4-update", {"ip-address": "192.0.2.1"}),
             entry(2, "lease4-update", {"ip-address": "192.0.2.2"}),
             entry(3, "lease4-del", {"ip-address": "192.0.2.1"}),
             entry(4, "lease4-update", {"ip-address": "192.0.2.1"})]
    assert ids(_replay_segments(batch, 4)) == [[[1, 3, 4], [2]]]


def test_a_bulk_of_several_leases_is_replayed_alone_between_the_entries_around_it() -> None:
    two = {"leases": [{"ip-address": "2001:db8::1"}], "deleted-leases": [{"ip-address": "2001:db8::2"}]}
    batch = [entry(1, "lease6-del", {"ip-address": "2001:db8::1"}),
             entry(2, "lease6-bulk-apply", two),
             entry(3, "lease6-del", {"ip-address": "2001:db8::1"}),
             entry(4, "lease6-del", {"ip-address": "2001:db8::1", "type": "IA_PD"})]
    assert ids(_replay_segments(batch, 6)) == [[[1]], [[2]], [[3], [4]]]


def test_a_bulk_of_one_lease_shares_that_leases_lane() -> None:
    # what one local v6 change queues for a partner: a lease6-bulk-apply of that lease
    batch = [entry(1, "lease6-bulk-apply", {"leases": [{"ip-address": "2001:db8::1"}], "deleted-leases": []}),
             entry(2, "lease6-bulk-apply", {"leases": [{"ip-address": "2001:db8::2"}], "deleted-leases": []}),
             entry(3, "lease6-bulk-apply", {"leases": [], "deleted-leases": [{"ip-address": "2001:db8::1"}]}),
             entry(4, "lease6-bulk-apply", {"leases": [{"ip-address": "2001:db8::1", "type": "IA_PD"}],
                                            "deleted-leases": []})]
    assert ids(_replay_segments(batch, 6)) == [[[1, 3], [2], [4]]]


def test_an_empty_bulk_is_replayed_alone() -> None:
    batch = [entry(1, "lease6-bulk-apply", {"leases": [], "deleted-leases": []})]
    assert ids(_replay_segments(batch, 6)) == [[[1]]]


def test_an_entry_without_an_address_is_replayed_alone() -> None:
    batch = [entry(1, "lease4-update", {"ip-address": "192.0.2.1"}),
             entry(2, "lease4-update", {"hw-address": "0a:0b:0c:0d:0e:0f"}),
             entry(3, "lease4-update", {"ip-address": "192.0.2.1"})]
    assert ids(_replay_segments(batch, 4)) == [[[1]], [[2]], [[3]]]


async def test_side_by_side_questions_stop_at_the_first_that_cannot_reach_the_peer() -> None:
    # a bulk of 20 leases, each needing a question to the partner; the first question fails at
    # once, the others in flight hang as at a stalled peer
    started: list[int] = []
    cancelled: list[int] = []
    never = asyncio.Event()

    async def ask(item: int) -> int:
        started.append(item)
        if item == 0:
            await asyncio.sleep(0)
            raise PeerError("communication", "connection refused")
        try:
            await never.wait()
        except asyncio.CancelledError:
            cancelled.append(item)
            raise
        return item

    with pytest.raises(PeerError):
        await _side_by_side(ask, list(range(20)))
    for _ in range(5):
        await asyncio.sleep(0)
    assert started == list(range(REPLAY_CONCURRENCY))
    assert sorted(cancelled) == list(range(1, REPLAY_CONCURRENCY))


async def test_side_by_side_answers_in_the_order_of_the_items() -> None:
    async def ask(item: int) -> int:
        await asyncio.sleep(0.001 * (item % 3))
        return item * 10

    assert await _side_by_side(ask, list(range(12))) == [item * 10 for item in range(12)]


async def test_an_entry_queued_while_the_backlog_is_counted_is_replayed_not_left_asleep(
        make_client: Any, sqlite_database: dict[str, Any]) -> None:
    # The replay loop counts the backlog on a reader, which may not see a commit made during the
    # count; an entry queued meanwhile must make it count again, not sleep until the next lease
    # change (bench/kea_soak.py lost one administrator write per writer this way on MariaDB).
    from tests.conftest import free_port, service_config
    from tests.ha_helpers import ha_hook

    peers = [{"name": "server1", "url": f"http://127.0.0.1:{free_port()}/", "role": "primary"},
             {"name": "server2", "url": f"http://127.0.0.1:{free_port()}/", "role": "standby"}]
    client = await make_client(service_config(sqlite_database, dhcp6=False, dhcp4_extra={
        # slow heartbeats: no state change (which also wakes the loop) during the test
        "hooks-libraries": [ha_hook("server1", "hot-standby", peers, **{
            "heartbeat-delay": 10000, "max-response-delay": 60000})]}))
    service = client.runtime.ha[4]
    store = service.family.store
    # the loop's first count: an empty backlog, then asleep
    await until(lambda: service._backlog_pending.get("server2") is False, 1)
    assert service._backlog_pending["server2"] is False

    counted_before_the_commit = asyncio.Event()
    real_read = store.read

    async def read(op: Any) -> Any:
        if "backlog_stats" in getattr(op, "__qualname__", "") and not counted_before_the_commit.is_set():
            counted_before_the_commit.set()
            stale = await real_read(op)
            update = {"command": "lease4-update", "service": ["dhcp4"],
                      "arguments": {"ip-address": "192.0.2.9", "hw-address": "1a:1b:1c:1d:1e:1f"}}
            await service._persist("server2", [update])
            return stale
        return await real_read(op)

    store.read = read  # type: ignore[method-assign]
    service._replay_wake["server2"].set()  # a lease change wakes the loop: it counts
    await asyncio.wait_for(counted_before_the_commit.wait(), 5)
    await until(lambda: service._backlog_pending["server2"], 0.5)
    metrics = (await client.http.get("/metrics")).text
    assert service._backlog_pending["server2"] is True
    assert 'leasesync_ha_backlog_depth{family="dhcp4",peer="server2"} 1.0' in metrics


class GatedPeer:
    """Stands in for a peer's client: every lease update waits for `gate`, and is recorded."""

    def __init__(self) -> None:
        self.gate = asyncio.Event()
        self.sent: list[str] = []
        self.fail = False
        self.limit: int | None = None  # updates beyond this many wait for raise_limit
        self._raised = asyncio.Event()

    def raise_limit(self, limit: int | None) -> None:
        self.limit = limit
        raised, self._raised = self._raised, asyncio.Event()
        raised.set()

    async def send(self, body: dict[str, Any], request_timeout: float | None = None,
                   accept: tuple[int, ...] = (0, 3)) -> dict[str, Any]:
        await self.gate.wait()
        while self.limit is not None and len(self.sent) >= self.limit:
            await self._raised.wait()
        if self.fail:
            raise PeerError("communication", "Connection refused")
        self.sent.append(body["arguments"]["ip-address"])
        return {"result": 0, "text": "Lease updated."}


def update(address: str) -> dict[str, Any]:
    return {"command": "lease4-update", "service": ["dhcp4"],
            "arguments": {"ip-address": address, "hw-address": "1a:1b:1c:1d:1e:1f", "force-create": True}}


async def replaying_service(make_client: Any, sqlite_database: dict[str, Any]) -> tuple[Any, GatedPeer]:
    """A primary whose replay to server2 goes through a GatedPeer, with the peer taken as ready
    and every queued entry as still to be sent (no state machine, no copy checks)."""
    from tests.conftest import free_port, service_config
    from tests.ha_helpers import ha_hook

    peers = [{"name": "server1", "url": f"http://127.0.0.1:{free_port()}/", "role": "primary"},
             {"name": "server2", "url": f"http://127.0.0.1:{free_port()}/", "role": "standby"}]
    client = await make_client(service_config(sqlite_database, dhcp6=False, dhcp4_extra={
        "hooks-libraries": [ha_hook("server1", "hot-standby", peers, **{
            "heartbeat-delay": 10000, "max-response-delay": 60000, "max-ack-delay": 5000})]}))
    service = client.runtime.ha[4]
    peer = GatedPeer()
    service.clients["server2"] = peer
    service._peer_ready_for_replay = lambda _peer: True

    async def still_current(_peer: str, _command: str, arguments: dict[str, Any]) -> dict[str, Any]:
        return arguments

    service._still_current = still_current
    return service, peer


async def test_a_change_queued_behind_a_flowing_replay_is_answered_after_the_replay_hands_it_over(
        make_client: Any, sqlite_database: dict[str, Any]) -> None:
    # The answer of a change that queues behind the backlog (to keep its order) waits for the
    # replay to deliver it, as it would have waited for the partner's answer; before session 30
    # it was answered at once, and writers could outrun the replay for as long as they wrote.
    from app.ha.actions import SendLeaseUpdates

    service, peer = await replaying_service(make_client, sqlite_database)
    await service._persist("server2", [update("192.0.2.1"), update("192.0.2.2")])  # a round starts, gated
    change = asyncio.ensure_future(service._deliver(SendLeaseUpdates("server2", (update("192.0.2.3"),), True)))
    with pytest.raises(TimeoutError):
        await asyncio.wait_for(asyncio.shield(change), 0.3)
    peer.gate.set()
    await asyncio.wait_for(change, 5)
    assert "192.0.2.3" in peer.sent


async def test_a_change_queued_behind_a_failing_replay_is_answered_at_once(
        make_client: Any, sqlite_database: dict[str, Any]) -> None:
    # The peer does not take updates: the change is in the durable backlog, and waiting for the
    # next round's outcome would only delay the answer (the direct path's failure answers too).
    from app.ha.actions import SendLeaseUpdates

    service, peer = await replaying_service(make_client, sqlite_database)
    peer.fail = True
    peer.gate.set()
    await service._persist("server2", [update("192.0.2.1")])
    await until(lambda: service._replay_stalled["server2"], 2)
    assert service._replay_stalled["server2"]
    peer.gate.clear()  # the next round would hang: the change must not wait for it
    await asyncio.wait_for(service._deliver(SendLeaseUpdates("server2", (update("192.0.2.2"),), True)), 1)


async def test_a_change_waits_for_the_hand_over_in_a_drain_after_the_backlog_was_emptied(
        make_client: Any, sqlite_database: dict[str, Any]) -> None:
    # SQLite numbers a row max(rowid) + 1: once the backlog table is empty the ids start over,
    # and the id the previous drain handled last says nothing about the next drain's entries.
    from app.ha.actions import SendLeaseUpdates

    service, peer = await replaying_service(make_client, sqlite_database)
    peer.gate.set()
    await service._persist("server2", [update("192.0.2.1"), update("192.0.2.2")])
    await until(lambda: not service._backlog_pending["server2"], 2)
    assert not service._backlog_pending["server2"] and peer.sent == ["192.0.2.1", "192.0.2.2"]
    peer.gate.clear()
    await service._persist("server2", [update("192.0.2.3")])  # id 1 again
    change = asyncio.ensure_future(service._deliver(SendLeaseUpdates("server2", (update("192.0.2.4"),), True)))
    with pytest.raises(TimeoutError):
        await asyncio.wait_for(asyncio.shield(change), 0.3)
    peer.gate.set()
    await asyncio.wait_for(change, 5)
    assert peer.sent[-1] == "192.0.2.4"


async def test_a_change_queued_behind_a_long_backlog_waits_for_one_round_not_for_its_hand_over(
        make_client: Any, sqlite_database: dict[str, Any]) -> None:
    # Behind an outage's backlog waiting for the whole drain would stall every command; one round
    # each still lets the replay gain on the writers.
    from app.ha.actions import SendLeaseUpdates

    service, peer = await replaying_service(make_client, sqlite_database)
    peer.raise_limit(200)  # the first round (200 entries) goes through, the second waits
    peer.gate.set()
    await service._persist("server2", [update(f"10.0.{i // 250}.{i % 250 + 1}") for i in range(1000)])
    await until(lambda: service._handled_through["server2"] == 200, 3)
    assert service._handled_through["server2"] == 200
    change = asyncio.ensure_future(service._deliver(SendLeaseUpdates("server2", (update("192.0.2.9"),), True)))
    with pytest.raises(TimeoutError):  # 800 entries ahead: it waits for the round under way
        await asyncio.wait_for(asyncio.shield(change), 0.3)
    peer.raise_limit(400)
    await asyncio.wait_for(change, 5)
    assert len(peer.sent) == 400 and "192.0.2.9" not in peer.sent
    peer.raise_limit(None)
    await until(lambda: not service._backlog_pending["server2"], 3)
    assert peer.sent[-1] == "192.0.2.9" and len(peer.sent) == 1001
