"""The asyncio adapter around the sans-I/O HA core (one per family with an HA relationship).

It runs the core's timers, performs the actions the core returns (heartbeats, syncs,
maintenance notifications, backlog sends, local DHCP enable/disable) and reports each outcome
back. Lease changes committed locally are sent to peers as Kea sends them; anything that cannot
be delivered goes to a durable per-peer backlog table and is replayed, in order, when the peer
is reachable again — also after a restart of leasesync.
"""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import logging
import time
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, Literal, TypeVar

from app.errors import CommandError
from app.ha import messages
from app.ha.actions import (
    Action,
    CommandOutcome,
    DisableLocalService,
    EnableLocalService,
    LogMessage,
    LogStateChange,
    SendBacklog,
    SendHaReset,
    SendHeartbeat,
    SendLeaseUpdates,
    SendMaintenanceNotify,
    ServeScopes,
    StartSync,
)
from app.ha.config import HaConfig, PeerConfig
from app.ha.http_transport import MAX_ANSWER_BYTES
from app.ha.peer_client import PeerClient, PeerEndpoint, PeerError
from app.ha.state_machine import HaStateMachine
from app.ha.states import HaState
from app.ha.sync import SyncResult, sync_from
from app.runtime import FamilyRuntime, LeaseChange, Runtime
from app.store.leases import LEASE6_TYPE_CODES
from app.store.sync_ops import (
    BacklogEntry,
    backlog_stats,
    delete_entries_op,
    enqueue_tail_op,
    handoffs_done_op,
    handoffs_to_backlog_op,
    read_backlog,
    read_handoffs,
)

log = logging.getLogger("leasesync.ha")

# Commands an HA peer sends with lease changes; only these can be "from a partner".
HA_UPDATE_COMMANDS = frozenset({
    "lease4-update", "lease4-del", "lease6-update", "lease6-del", "lease6-bulk-apply", "lease4-bulk-apply",
})
_LEVELS = {"info": logging.INFO, "warning": logging.WARNING, "error": logging.ERROR, "debug": logging.DEBUG}
REPLAY_BATCH = 200
# A change queued behind at most this many backlog ids waits for the replay to hand it over
# (_await_handover); behind more, for the replay's next round.
HANDOVER_WINDOW = 2 * REPLAY_BATCH
# Backlog entries for different leases are replayed side by side, this many at a time (the peer
# client's connection limit): one at a time, each a lookup and a durable write at the peer, a
# long backlog drained at a few hundred updates a second.
REPLAY_CONCURRENCY = 8
# Journal rows of changes handed off are deleted this long after the first of a batch: one delete
# for the changes of many requests (a row left by a crash is only checked again, never lost).
HANDOFF_FLUSH_SECONDS = 0.05
_Item = TypeVar("_Item")
_Result = TypeVar("_Result")
_PARTNER_STATES_NOT_REPLAYED_TO = (None, HaState.UNAVAILABLE, HaState.WAITING, HaState.SYNCING)
ALREADY_THERE: dict[str, Any] = {}  # _still_current: the peer holds this update's lease exactly as it would


def _endpoint(config: HaConfig, peer: PeerConfig) -> PeerEndpoint:
    tls = config.tls_for(peer)
    return PeerEndpoint(
        name=peer.name,
        url=str(peer.url),
        basic_auth_user=peer.basic_auth_user,
        basic_auth_password=peer.basic_auth_password or "",
        trust_anchor=tls.trust_anchor if tls else None,
        cert_file=tls.cert_file if tls else None,
        key_file=tls.key_file if tls else None,
    )


class HaService:
    def __init__(self, runtime: Runtime, family: FamilyRuntime, config: HaConfig,
                 clock: Callable[[], float] = time.monotonic, wall: Callable[[], float] = time.time) -> None:
        self.runtime = runtime
        self.family = family
        self.config = config
        self.clock = clock
        self.wall = wall
        self.service = family.service
        # every update skipped for the partner goes to the durable backlog (on_local_changes)
        self.sm = HaStateMachine(config, clock(), self.service, durable_backlog=True)  # type: ignore[arg-type]
        # a sync page may be as large as the configured page limit makes it (4 KiB a lease)
        answer_limit = max(MAX_ANSWER_BYTES, config.sync_page_limit * 4096)
        self.clients = {peer.name: PeerClient(_endpoint(config, peer), max_answer_bytes=answer_limit)
                        for peer in config.other_peers}
        self._wake = asyncio.Event()
        self._tasks: set[asyncio.Task[Any]] = set()
        self._main: asyncio.Task[Any] | None = None
        self._replay_wake: dict[str, asyncio.Event] = {name: asyncio.Event() for name in self.clients}
        # tokens of journaled changes handed to every peer, deleted from ls_ha_handoff in batches
        self._handoffs_done: list[int] = []
        self._handoff_flush = asyncio.Event()
        self._backlog_pending: dict[str, bool] = dict.fromkeys(self.clients, True)
        # The replay's progress, which a change queued behind a short backlog waits for (see
        # _await_handover): the highest entry id each peer's replay has handled, an event pulsed
        # after every round, and whether the last round failed or could not run (the peer is
        # not taking updates: nobody waits until a round succeeds again).
        # None: nothing handled since the backlog was last empty (ids are only comparable within
        # one drain: SQLite numbers rows max(rowid)+1, so an emptied table starts over)
        self._handled_through: dict[str, int | None] = dict.fromkeys(self.clients, None)
        self._replay_pulse: dict[str, asyncio.Event] = {name: asyncio.Event() for name in self.clients}
        self._replay_stalled: dict[str, bool] = dict.fromkeys(self.clients, False)
        self._sync_lock = asyncio.Lock()
        self.last_sync: SyncResult | None = None
        self.updates_sent = 0
        self.updates_failed = 0
        self.updates_received = 0
        self.updates_rejected = 0
        self._last_identity_error: str | None = None
        # How long a lease change waits for a peer's acknowledgement before it goes to the
        # backlog: Kea's 10 s HTTP timeout, but never longer than max-ack-delay, so a hung peer
        # delays an administrator's command by at most that much.
        self.update_timeout = min(10.0, max(1.0, config.max_ack_delay / 1000.0))
        self.verifier: Any = None
        self.replication_warning: str | None = None
        if not config.send_lease_updates and config.partner is not None:
            from app.ha.verify import ReplicationVerifier

            self.verifier = ReplicationVerifier(family.family, self.clients[config.partner.name],
                                                interval=max(config.heartbeat_delay / 1000.0, 1.0),
                                                metrics=runtime.metrics)
        self.peer_users = config.peer_users()

    # --- lifecycle ---------------------------------------------------------------------------
    @property
    def state_name(self) -> str:
        return self.sm.state.value

    async def start(self) -> None:
        for message_id, text in self.config.startup_warnings():
            log.warning("%s %s", message_id, text)
        if not self.config.send_lease_updates:
            log.warning("HA_CONFIG_LEASE_UPDATES_DISABLED %s: lease updates are off; nothing is sent to partners "
                        "or backups, so the sites must replicate the lease database themselves", self.service)
        if self.verifier is not None:
            await self.verifier.start()
        if self.family.config.lease_database.expect_synchronous_replication:
            from app.ha.verify import database_replication_warning

            try:
                self.replication_warning = await database_replication_warning(self.family.store)
            except Exception as exc:  # noqa: BLE001 - a probe failure is itself worth a warning
                self.replication_warning = f"could not read the replication settings: {exc}"
            if self.replication_warning:
                log.warning("LEASESYNC_REPLICATION_ASYNCHRONOUS %s", self.replication_warning)
        if self.family.journals_handoffs:
            await self._recover_handoffs()
        self._execute(self.sm.start(self.clock()))
        self._main = asyncio.create_task(self._timer_loop(), name=f"ha-{self.service}-timers")
        self._spawn(self._flush_handoffs_loop(), f"ha-{self.service}-handoffs")
        for name in self.clients:
            self._spawn(self._replay_loop(name), f"ha-{self.service}-replay-{name}")

    async def stop(self) -> None:
        if self.verifier is not None:
            await self.verifier.stop()
        tasks = [t for t in [self._main, *self._tasks] if t is not None]
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        await self._flush_handoffs()  # (what is not flushed is re-checked after the restart)
        for client in self.clients.values():
            await client.close()

    def _spawn(self, coro: Any, name: str) -> asyncio.Task[Any]:
        task = asyncio.create_task(coro, name=name)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    # --- the core's timers and actions ------------------------------------------------------
    async def _timer_loop(self) -> None:
        while True:
            deadline = self.sm.get_timer()
            self._wake.clear()
            timeout = None if deadline is None else max(0.0, deadline - self.clock())
            if timeout is None or timeout > 0:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wake.wait(), timeout)
            self._execute(self.sm.handle_timer(self.clock()))

    def _execute(self, actions: list[Action]) -> None:
        for action in actions:
            try:
                self._perform(action)
            except Exception:  # noqa: BLE001 - one bad action must not stop the HA service
                log.exception("HA action %s failed", action)
        self._wake.set()

    def _perform(self, action: Action) -> None:
        metrics = self.runtime.metrics
        if isinstance(action, SendHeartbeat):
            self._spawn(self._heartbeat(action), f"ha-{self.service}-heartbeat")
        elif isinstance(action, StartSync):
            if not action.manual:
                self._spawn(self._sync(action), f"ha-{self.service}-sync")
        elif isinstance(action, SendBacklog):
            self._spawn(self._send_backlog(action), f"ha-{self.service}-backlog")
        elif isinstance(action, SendHaReset):
            self._spawn(self._send_ha_reset(action), f"ha-{self.service}-reset")
        elif isinstance(action, EnableLocalService):
            self.family.dhcp.enable("ha")
            log.info("HA_LOCAL_DHCP_ENABLE local DHCP service is enabled while %s is in the %s state",
                     self.config.this_server_name, action.state.label)
            self._forward_local("dhcp-enable")
        elif isinstance(action, DisableLocalService):
            self.family.dhcp.disable("ha", None)
            log.info("HA_LOCAL_DHCP_DISABLE local DHCP service is disabled while %s is in the %s state",
                     self.config.this_server_name, action.state.label)
            self._forward_local("dhcp-disable")
        elif isinstance(action, ServeScopes):
            log.debug("HA %s serves scopes %s", self.service, sorted(action.scopes))
        elif isinstance(action, LogStateChange):
            partner = f", partner state is {action.partner_state}" if action.partner_state else ""
            log.info("HA_STATE_TRANSITION %s: server transitions from %s to %s state%s (%s)", self.service,
                     action.from_state.label, action.to_state.label, partner, action.reason)
            if metrics is not None:
                for state in HaState:
                    metrics.ha_state.labels(self.service, self.config.this_server_name, state.value).set(
                        1 if state is action.to_state else 0)
            for name in self._replay_wake:
                self._replay_wake[name].set()
        elif isinstance(action, LogMessage):
            log.log(_LEVELS.get(action.level, logging.INFO), "%s %s", action.message_id, action.text)
        elif isinstance(action, SendMaintenanceNotify | SendLeaseUpdates):
            # performed synchronously by the command handlers / the lease-change hook
            pass

    def _forward_local(self, command: str) -> None:
        """Pause or resume the local Kea daemon, when leasesync fronts one (control-sockets)."""
        forwarder = self.runtime.forwarder
        if forwarder is None or not forwarder.has(self.service):
            return
        envelope = {"command": command, "service": [self.service], "arguments": {"origin": "ha-partner"}}
        self._spawn(forwarder.forward(self.service, envelope), f"ha-{self.service}-local-{command}")

    async def _heartbeat(self, action: SendHeartbeat) -> None:
        client = self.clients[action.peer]
        metrics = self.runtime.metrics
        try:
            body = await client.post(action.body)
        except PeerError as exc:
            if metrics is not None:
                metrics.partner_reachable.labels(self.service, action.peer).set(0)
            self._execute(self.sm.on_heartbeat_failed(self.clock(), exc.text))
            return
        mismatch = self._identity_mismatch(action.peer, body)
        if mismatch is not None:
            if mismatch != self._last_identity_error:
                log.error("HA_PEER_CONFIG_MISMATCH %s", mismatch)
                self._last_identity_error = mismatch
            self._execute(self.sm.on_heartbeat_failed(self.clock(), mismatch))
            return
        self._last_identity_error = None
        if metrics is not None:
            metrics.partner_reachable.labels(self.service, action.peer).set(1)
            if client.last_rtt is not None:
                metrics.heartbeat_rtt.labels(self.service, action.peer).observe(client.last_rtt)
        self._execute(self.sm.on_heartbeat_ok(body, self.clock(), self.wall()))

    def _peer_list(self) -> list[list[str]]:
        return [[peer.name, peer.role.value] for peer in self.config.peers]

    def _identity_mismatch(self, peer_name: str, body: Any) -> str | None:
        """A leasesync partner tells who it is in its heartbeat answer (Kea ignores the extra
        key); two servers with one this-server-name, or peer lists that disagree, are refused."""
        try:
            extra = body[0]["arguments"]["leasesync"]
        except (KeyError, IndexError, TypeError):
            return None  # a Kea peer, or an answer the core will judge
        if not isinstance(extra, dict):
            return None
        url = self.clients[peer_name].peer.url
        claimed = extra.get("server-name")
        if claimed == self.config.this_server_name:
            return (f"two servers claim this-server-name '{claimed}': this server and the peer at {url}; "
                    f"give each server its own name")
        if claimed is not None and claimed != peer_name:
            return f"the peer at {url} says it is '{claimed}', but this server's config calls it '{peer_name}'"
        theirs = extra.get("peers")
        if isinstance(theirs, list) and sorted(map(list, theirs)) != sorted(self._peer_list()):
            return f"peer lists disagree: {self.config.this_server_name} has {self._peer_list()}, {peer_name} has {theirs}"
        return None

    async def _run_sync(self, peer: str, max_period: int | None, progress: Any = None) -> SyncResult:
        async with self._sync_lock:
            result = await sync_from(
                self.clients[peer], self.family.store, self.family.family,
                page_limit=self.config.sync_page_limit, sync_timeout_ms=self.config.sync_timeout,
                max_period=max_period, progress=progress,
            )
        self.last_sync = result
        # Kea's statistics do not move for synced leases; the next use only re-reads the store
        from app.commands.stats import REWRITTEN, changed_behind

        changed_behind(self.family, REWRITTEN)
        metrics = self.runtime.metrics
        if metrics is not None:
            metrics.sync_leases.labels(self.service).inc(result.received)
            metrics.sync_duration.labels(self.service).observe(result.seconds)
        return result

    async def _sync(self, action: StartSync) -> None:
        result = await self._run_sync(action.peer, action.max_period)
        self._execute(self.sm.on_sync_done(result.ok, self.clock(), result.error, manual=False))

    async def _send_backlog(self, action: SendBacklog) -> None:
        client = self.clients[action.peer]
        error = ""
        ok = True
        metrics = self.runtime.metrics
        for body in action.commands:
            try:
                await client.send(body)
            except PeerError as exc:
                ok, error = False, exc.text
                break
            if metrics is not None:
                metrics.updates_sent.labels(self.service, action.peer).inc()
        if ok:
            # Delivered. Their durable copies stay for the replay, which finds them there
            # (ALREADY_THERE) and forgets them: the durable backlog also holds what this one
            # lacks, such as the update whose failed send began communication-recovery.
            self._replay_wake[action.peer].set()
        self._execute(self.sm.on_backlog_done(ok, self.clock(), error))

    async def _send_ha_reset(self, action: SendHaReset) -> None:
        try:
            await self.clients[action.peer].send(action.body)
            ok, error = True, ""
        except PeerError as exc:
            ok, error = False, exc.text
        # (the durable backlog stays: the partner's resync skips a lease whose cltt equals its own
        # copy's, and the replay, which waits for the resync to end, sends only what it lacks)
        self._execute(self.sm.on_ha_reset_done(ok, self.clock(), error))

    # --- lease updates out ---------------------------------------------------------------------
    async def on_local_changes(self, family: int, changes: list[LeaseChange], from_partner: bool,
                               handoff: int | None = None) -> None:
        if family != self.family.family:
            return
        # (should this raise, the journal row stays: the change is handed off again after a restart)
        deliveries = await self._hand_off(family, changes, from_partner)
        if handoff is None:
            return
        if deliveries:
            # (backups are sent to in the background: the row goes once those sends are settled,
            # and stays when one was cancelled at shutdown or failed before its backlog took it)
            def settled(_: Any) -> None:
                if not any(task.cancelled() or task.exception() is not None for task in deliveries):
                    self._handed_off(handoff)

            asyncio.ensure_future(asyncio.gather(*deliveries, return_exceptions=True)).add_done_callback(settled)
        else:
            self._handed_off(handoff)

    def _handed_off(self, token: int) -> None:
        """A journaled change reached every peer or its backlog: its row may go (in the next
        flush: one delete for many changes, off the answer path)."""
        self._handoffs_done.append(token)
        self._handoff_flush.set()

    async def _flush_handoffs_loop(self) -> None:
        while True:
            await self._handoff_flush.wait()
            await asyncio.sleep(HANDOFF_FLUSH_SECONDS)
            await self._flush_handoffs()

    async def _flush_handoffs(self) -> None:
        self._handoff_flush.clear()
        tokens, self._handoffs_done = self._handoffs_done, []
        if tokens:
            try:
                await self.family.store.write(handoffs_done_op(tokens))
            except Exception as exc:  # noqa: BLE001 - rows left behind are re-checked after a restart
                log.warning("HA_HANDOFF_JOURNAL_CLEANUP_FAILED %d journal rows kept: %s", len(tokens), exc)

    async def _recover_handoffs(self) -> None:
        """Changes journaled before a restart and never confirmed handed off: committed here,
        perhaps never sent. Queue each lease as it is now (a delete where it is gone) for every
        peer; the replay skips what a peer already holds."""
        store = self.family.store
        rows = await store.read(read_handoffs(self.family.family))
        if not rows:
            return
        updated: list[dict[str, Any]] = []
        deleted: list[dict[str, Any]] = []
        seen: set[tuple[str, int]] = set()
        for row in reversed(rows):  # the latest row of a lease says how it left
            if (row.address, row.lease_type) in seen:
                continue
            seen.add((row.address, row.lease_type))
            current = await self._lease_at(row.address, row.lease_type)
            if current is not None:
                updated.append(current)
            elif row.deleted is not None:
                deleted.append(row.deleted)
        peers = [peer.name for peer in self.config.other_peers]
        commands = self.sm.lease_commands(updated[::-1], deleted[::-1]) if updated or deleted else ()
        await store.write(handoffs_to_backlog_op([row.id for row in rows], peers, self.family.family,
                                                 _backlog_items(commands)))
        log.warning("HA_HANDOFF_RECOVERED %d lease changes made before the restart may not have reached the peers: "
                    "queued for %s", len(seen), ", ".join(peers))

    async def _hand_off(self, family: int, changes: list[LeaseChange], from_partner: bool) -> list[asyncio.Task[Any]]:
        """Send or queue one change set; the deliveries still running in the background."""
        if self.verifier is not None:
            await self.verifier.on_local_changes(family, changes, from_partner)
        if from_partner:
            self.updates_received += len(changes)
            metrics = self.runtime.metrics
            if metrics is not None:
                # the command carries no peer name: count it against the partner, as identify_peer does
                peer = self.config.partner.name if self.config.partner else "ha-peer"
                metrics.updates_received.labels(self.service, peer).inc(len(changes))
            return []
        if not self.config.send_lease_updates or not changes:
            return []
        updated = [c.lease.to_kea() for c in changes if c.kind == "update"]
        deleted = [c.lease.to_kea() for c in changes if c.kind == "delete"]
        plan = self.sm.plan_lease_updates(updated, deleted)
        waits: list[asyncio.Task[Any]] = []
        if (plan.queued_for_partner or plan.skipped_partner) and self.config.partner is not None:
            # Kea keeps the first in communication-recovery's in-memory backlog (dropped beyond
            # delayed-updates-limit) and counts the second (unsent-update-count), relying on a
            # resync for what it dropped. A resync brings only leases with a newer cltt: a change
            # in the same second as the partner's copy would stay here alone. So leasesync keeps
            # them all in the durable backlog, whose replay sends what the partner still lacks.
            await self._persist(self.config.partner.name, list(self.sm.lease_commands(updated, deleted)))
        background: list[asyncio.Task[Any]] = []
        for request in plan.requests:
            task = asyncio.ensure_future(self._deliver(request))
            if request.must_ack:
                waits.append(task)
            else:
                self._tasks.add(task)
                task.add_done_callback(self._tasks.discard)
                background.append(task)
        if waits:
            await asyncio.gather(*waits)
        if waits or plan.requests:
            self._wake.set()
        return background

    async def _persist(self, peer: str, commands: list[dict[str, Any]]) -> int:
        """Queue `commands` in the peer's durable backlog; the highest entry id queued for it."""
        tail = await self.family.store.write(enqueue_tail_op(peer, self.family.family, _backlog_items(commands)))
        self._backlog_pending[peer] = True
        self._replay_wake[peer].set()
        return int(tail)

    async def _await_handover(self, peer: str, through: int) -> None:
        """Wait until the replay has handed the peer every entry up to id `through`, the replay
        stalls (a round failed, or the peer is not ready for it) or update_timeout passes.

        A change queued only to keep its order behind a short backlog waits here as it would
        have waited for the peer's answer: the answer still follows the peer's acknowledgement,
        and the writers cannot outrun the replay. Without the wait a pair under a steady stream
        of changes never left the backlog after a hiccup (bench/kea_soak.py, session 30: 18 s of
        rounds of 1-4 entries until the load stopped), answering before the partner had the
        change. Behind a long backlog (an outage's) it waits for one round only: waiting for
        the whole drain would stall every command, and one round each still lets the replay
        gain (a round takes up to 200 entries; the writers add one change each meanwhile)."""
        deadline = self.clock() + self.update_timeout
        waited_a_round = False
        while self._backlog_pending[peer] and not self._replay_stalled[peer]:
            handled = self._handled_through[peer]
            if handled is not None and (
                handled >= through or (waited_a_round and through - handled > HANDOVER_WINDOW)
            ):
                return
            remaining = deadline - self.clock()
            if remaining <= 0:
                return
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._replay_pulse[peer].wait(), remaining)
            waited_a_round = True

    def _pulse_replay(self, peer: str, *, stalled: bool = False) -> None:
        self._replay_stalled[peer] = stalled
        pulse, self._replay_pulse[peer] = self._replay_pulse[peer], asyncio.Event()
        pulse.set()

    async def _deliver(self, request: SendLeaseUpdates) -> None:
        """Send one query's updates to one peer, in order; keep what fails in the durable backlog."""
        client = self.clients[request.peer]
        metrics = self.runtime.metrics
        if self._backlog_pending.get(request.peer):
            # older updates are still waiting: keep the order, queue behind them
            through = await self._persist(request.peer, list(request.commands))
            if request.must_ack:
                await self._await_handover(request.peer, through)
            return
        for index, body in enumerate(request.commands):
            try:
                answer = await client.send(body, request_timeout=self.update_timeout)
            except PeerError as exc:
                self.updates_failed += 1
                if metrics is not None:
                    metrics.updates_failed.labels(self.service, request.peer, exc.kind).inc()
                if exc.kind == "answer" and exc.result in (1, 4):
                    # the peer processed and refused it: resending the same update cannot help
                    await self._reconcile(request.peer, body, exc)
                    remaining = list(request.commands[index + 1:])
                else:
                    remaining = list(request.commands[index:])
                if remaining:
                    await self._persist(request.peer, remaining)
                self._execute(self.sm.on_lease_update_done(request.peer, False, self.clock(), exc.text))
                return
            self._log_failed_entries(request.peer, answer)
            self.updates_sent += 1
            if metrics is not None:
                metrics.updates_sent.labels(self.service, request.peer).inc()
        self._execute(self.sm.on_lease_update_done(request.peer, True, self.clock()))

    def _log_failed_entries(self, peer: str, answer: dict[str, Any]) -> None:
        arguments = answer.get("arguments")
        if not isinstance(arguments, dict):
            return
        for key, message_id in (("failed-leases", "HA_LEASE_UPDATE_CREATE_UPDATE_FAILED_ON_PEER"),
                                ("failed-deleted-leases", "HA_LEASE_UPDATE_DELETE_FAILED_ON_PEER")):
            for entry in arguments.get(key) or []:
                if isinstance(entry, dict):
                    log.warning("%s lease %s on %s: %s", message_id, entry.get("ip-address"), peer,
                                entry.get("error-message"))

    async def _reconcile(self, peer_name: str, body: dict[str, Any], exc: PeerError) -> None:
        """A peer refused a lease update (result 1, or 4 from Kea 2.4+). Rule: the newer lease
        wins. If the peer holds a newer copy (greater cltt) it is adopted here; otherwise ours
        stays and the refusal is counted and logged with its reason. Either way the update is
        not retried, so refusals cannot pile up until the pair stops."""
        self.updates_rejected += 1
        metrics = self.runtime.metrics
        if metrics is not None:
            metrics.updates_failed.labels(self.service, peer_name, "rejected").inc()
        arguments = body.get("arguments") or {}
        address = arguments.get("ip-address")
        log.warning("HA_LEASE_UPDATE_REJECTED %s refused %s for %s: %s", peer_name, body.get("command"),
                    address or "its leases", exc.text)
        if not isinstance(address, str) or body.get("command") != f"lease{self.family.family}-update":
            return
        ours = arguments.get("expire", 0) - arguments.get("valid-lft", 0)
        try:
            theirs = await self.clients[peer_name].send(
                {"command": f"lease{self.family.family}-get", "service": [self.service],
                 "arguments": {"ip-address": address}}, request_timeout=self.update_timeout)
        except PeerError:
            return
        lease_map = theirs.get("arguments")
        if theirs.get("result") != 0 or not isinstance(lease_map, dict) or int(lease_map.get("cltt", 0)) <= ours:
            return
        from app.ha.sync import lease_from_page
        from app.store.repository import UpdateLease

        try:
            newer = lease_from_page(lease_map, self.family.family)
        except (ValueError, KeyError, TypeError):
            return
        await self.family.store.write(UpdateLease(newer, force_create=True))
        from app.commands.stats import REWRITTEN, changed_behind

        changed_behind(self.family, REWRITTEN)
        log.info("HA_LEASE_RECONCILED %s: adopted %s's newer copy (cltt %s > %s)", address, peer_name,
                 lease_map.get("cltt"), ours)

    # --- durable backlog replay --------------------------------------------------------------
    def _peer_ready_for_replay(self, peer: PeerConfig) -> bool:
        if not self.config.send_lease_updates:
            return False
        if not peer.is_backup and self.sm.partner_state in _PARTNER_STATES_NOT_REPLAYED_TO:
            # not heard from since it failed, or about to fetch every lease with its own sync:
            # the backlog waits for a heartbeat that shows the partner past that (sent earlier, it
            # would write each lease there twice; sent after, most entries are already there)
            return False
        return self.sm.should_send_lease_updates(peer)

    async def _replay_loop(self, peer_name: str) -> None:
        peer = self.config.peer(peer_name)
        wake = self._replay_wake[peer_name]
        delay = max(self.config.heartbeat_delay / 1000.0, 0.5)
        store = self.family.store
        metrics = self.runtime.metrics
        drain: _ReplayDrain | None = None
        while True:
            # Cleared before counting, never after: an entry queued while the count runs (its
            # read may not see that commit) sets the event again, and the loop counts once more
            # instead of going to sleep with the entry in the table. Before session 29 the
            # clear came after an empty count, and such an entry waited, unsent and reported as
            # a backlog of 0, for the next lease change to wake the loop (bench/kea_soak.py).
            wake.clear()
            count, oldest = await store.read(backlog_stats(peer_name, self.family.family))
            if metrics is not None:
                metrics.backlog_depth.labels(self.service, peer_name).set(count)
                metrics.backlog_age.labels(self.service, peer_name).set(time.time() - oldest if oldest else 0)
            if count == 0:
                if wake.is_set():
                    continue
                if drain is not None:
                    drain.log_done(peer_name)
                    drain = None
                self._backlog_pending[peer_name] = False
                self._handled_through[peer_name] = None
                self._pulse_replay(peer_name, stalled=self._replay_stalled[peer_name])
                await wake.wait()
                continue
            self._backlog_pending[peer_name] = True
            if not self._peer_ready_for_replay(peer):
                self._pulse_replay(peer_name, stalled=True)
                wake.clear()  # here and after a failed round: the wait is bounded by `delay`
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(wake.wait(), delay)
                continue
            entries = await store.read(read_backlog(peer_name, self.family.family, REPLAY_BATCH))
            if drain is None:
                log.info("HA_LEASES_BACKLOG_START sending %d outstanding lease updates to %s", count, peer_name)
                drain = _ReplayDrain(time.monotonic())
            tally = _ReplayTally()
            for segment in _replay_segments(entries, self.family.family):
                await self._replay_segment(peer_name, segment, tally)
                if tally.failure is not None:
                    break
            if tally.failure is not None:
                # one line a round, however many entries were in flight when the peer went away
                log.warning("HA_LEASE_UPDATE_FAILED replaying the backlog to %s failed: %s%s", peer_name,
                            tally.failure, f" ({tally.failed} entries)" if tally.failed > 1 else "")
                if not peer.is_backup:
                    self._execute(self.sm.on_lease_update_done(peer_name, False, self.clock(), tally.failure))
            drain.add(tally)
            if tally.delivered:
                await store.write(delete_entries_op(tally.delivered))
                self.updates_sent += len(tally.delivered)
                if metrics is not None and tally.acknowledged:
                    # refusals settled by reconciliation are counted as failed (reason "rejected")
                    metrics.updates_sent.labels(self.service, peer_name).inc(tally.acknowledged)
            if tally.failure is None and entries:
                self._handled_through[peer_name] = max(self._handled_through[peer_name] or 0, entries[-1].id)
            self._pulse_replay(peer_name, stalled=tally.failure is not None)
            if tally.failure is not None:
                wake.clear()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(wake.wait(), delay)

    async def _replay_segment(self, peer_name: str, segment: list[list[BacklogEntry]], tally: _ReplayTally) -> None:
        """Replay a segment's lanes side by side, each lane's entries in order. A failure stops
        every lane before its next entry; what was not delivered stays in the backlog."""
        async def lane(entries: list[BacklogEntry]) -> None:
            for entry in entries:
                if tally.failure is not None or not await self._replay_entry(peer_name, entry, tally):
                    return

        await _side_by_side(lane, segment)

    async def _replay_entry(self, peer_name: str, entry: BacklogEntry, tally: _ReplayTally) -> bool:
        """Deliver one backlog entry; False when the peer could not be reached (stop replaying)."""
        try:
            arguments = await self._still_current(peer_name, entry.command, entry.arguments)
        except PeerError as exc:
            # the peer could not be asked for its copy: stop, and check again on the next round
            tally.unreachable(exc.text)
            return False
        if arguments is ALREADY_THERE:
            # the peer synced from us since it was queued: delivered, without a write there
            tally.delivered.append(entry.id)
            tally.acknowledged += 1
            tally.already += 1
            return True
        if arguments is None:
            # superseded: the lease changed here since (a later update is queued behind this
            # one, or the partner's own copy arrived), or the peer holds a newer copy; sending
            # this old copy would overwrite a newer lease at the peer
            tally.delivered.append(entry.id)
            tally.superseded += 1
            return True
        try:
            await self.clients[peer_name].send({"command": entry.command, "service": [self.service],
                                                "arguments": arguments})
        except PeerError as exc:
            if exc.kind == "answer" and exc.result in (1, 4):
                await self._reconcile(peer_name, {"command": entry.command, "arguments": entry.arguments}, exc)
                tally.delivered.append(entry.id)  # settled by reconciliation, not to be retried
                return True
            tally.unreachable(exc.text)
            return False
        tally.delivered.append(entry.id)
        tally.acknowledged += 1
        return True

    async def _local_copy(self, lease_map: dict[str, Any]) -> dict[str, Any] | None:
        """The local lease at the address of `lease_map`, as a lease update would carry it."""
        current = await self._local_lease(lease_map)
        return None if current is None else messages.lease_with_expire(current)

    async def _local_lease(self, lease_map: dict[str, Any]) -> dict[str, Any] | None:
        """The local lease at the address (and v6 type) of `lease_map`, as Kea's map (`cltt`)."""
        address = lease_map.get("ip-address")
        if not isinstance(address, str):
            raise ValueError("no ip-address")
        lease_type = LEASE6_TYPE_CODES.get(str(lease_map.get("type", "IA_NA")), 0) if self.family.family == 6 else 0
        return await self._lease_at(address, lease_type)

    async def _lease_at(self, address: str, lease_type: int) -> dict[str, Any] | None:
        """The local lease at `address` (v6: of `lease_type`), as Kea's map (`cltt`)."""
        store = self.family.store
        current: Any
        if self.family.family == 4:
            current = await store.get4(int(ipaddress.IPv4Address(address)))
        else:
            current = await store.get6(str(ipaddress.IPv6Address(address)), lease_type)
        return None if current is None else current.to_kea()

    async def _partner_copy(self, peer: str, lease_map: dict[str, Any]) -> Literal["newer", "same", "other"]:
        """How the peer's copy of this lease compares with the queued one. "newer" (greater
        cltt): the queued copy is stale there too, the newer lease wins (as for refused updates).
        "same": the peer holds exactly the queued lease (it synced from us since). "other":
        older, different or absent, or a peer that refuses the question (a Kea partner whose
        restrict-commands leaves leaseX-get out). A peer that cannot be reached (refused, reset,
        timed out) raises PeerError: the update is not sent blind, because a peer that stalled
        past the question's timeout may take the send a moment later and replace a newer lease."""
        ours = int(lease_map.get("expire", 0)) - int(lease_map.get("valid-lft", 0))
        arguments: dict[str, Any] = {"ip-address": lease_map["ip-address"]}
        if self.family.family == 6:
            arguments["type"] = lease_map.get("type", "IA_NA")
        try:
            theirs = await self.clients[peer].send(
                {"command": f"lease{self.family.family}-get", "service": [self.service], "arguments": arguments},
                request_timeout=self.update_timeout, accept=(0, 3))
        except PeerError as exc:
            if exc.kind == "communication":
                raise
            return "other"
        lease = theirs.get("arguments")
        if theirs.get("result") != 0 or not isinstance(lease, dict):
            return "other"
        if int(lease.get("cltt", 0)) > ours:
            return "newer"
        return "same" if _same_lease(lease, lease_map) else "other"

    async def _partner_copies(self, peer: str, leases: list[dict[str, Any]]) -> list[str]:
        """`_partner_copy` of each lease, REPLAY_CONCURRENCY questions in flight at a time."""
        return await _side_by_side(lambda lease: self._partner_copy(peer, lease), leases)

    async def _still_current(self, peer: str, command: str, arguments: dict[str, Any]) -> dict[str, Any] | None:
        """The arguments to replay for a backlog entry, limited to what is still the local state;
        None when nothing of it is. A queued update whose lease changed locally since is
        superseded: a later local change queued (or sent) its own update, and a change that came
        from the partner (sync, lease update, reconciliation) is already there. A queued delete
        is superseded when the lease exists again. Either is also superseded when the peer already
        holds a newer copy of the lease (after the partner restarted and synced from us, or took
        writes itself while we could not reach it). ALREADY_THERE when the peer holds every lease
        of an update exactly as queued (it synced from us since): delivered, nothing to send."""
        try:
            if command == "lease4-update":
                current = await self._local_copy(arguments)
                if current is None or {**current, "force-create": True} != arguments:
                    return None
                copy = await self._partner_copy(peer, arguments)
                if copy == "newer":
                    return None
                return ALREADY_THERE if copy == "same" else arguments
            if command in ("lease4-del", "lease6-del"):
                if await self._local_copy(arguments) is not None or await self._partner_copy(peer, arguments) == "newer":
                    return None
                return arguments
            if command == "lease6-bulk-apply":
                unchanged = [lease for lease in arguments.get("leases") or [] if await self._local_copy(lease) == lease]
                copies = await self._partner_copies(peer, unchanged)
                leases = [lease for lease, copy in zip(unchanged, copies, strict=True) if copy == "other"]
                there = copies.count("same")
                # a delete is never "already there" by the lease's copy: the peer holding the very
                # lease we deleted is why the delete must go
                gone = [lease for lease in arguments.get("deleted-leases") or [] if await self._local_copy(lease) is None]
                deleted = [lease for lease, copy in zip(gone, await self._partner_copies(peer, gone), strict=True)
                           if copy != "newer"]
                if not leases and not deleted:
                    return ALREADY_THERE if there else None
                return {**arguments, "leases": leases, "deleted-leases": deleted}
        except (ValueError, TypeError, AttributeError):
            pass  # an entry we cannot check is sent as it was queued
        return arguments

    # --- commands ------------------------------------------------------------------------
    def status(self) -> list[dict[str, Any]]:
        element = self.sm.status_dict(self.clock(), self.wall())
        if self.verifier is not None:
            replication = self.verifier.report()
            if self.replication_warning:
                replication["warning"] = self.replication_warning
            element["leasesync"]["replication"] = replication
        return [element]

    def heartbeat_answer(self) -> dict[str, Any]:
        answer = self.sm.heartbeat_answer(self.wall())
        answer["arguments"]["leasesync"] = {"server-name": self.config.this_server_name, "peers": self._peer_list()}
        return answer

    async def admin(self, command: str, arguments: Any) -> dict[str, Any]:
        outcome: CommandOutcome = self.sm.on_admin(command, self.clock(), arguments)
        answer = outcome.answer
        for action in outcome.actions:
            if isinstance(action, StartSync) and action.manual:
                result = await self._run_sync(action.peer, action.max_period)
                self._execute(self.sm.on_sync_done(result.ok, self.clock(), result.error, manual=True))
                answer = messages.ha_sync_answer(None if result.ok else (result.error or "synchronization failed"))
            elif isinstance(action, SendMaintenanceNotify):
                body: Any = None
                error: str | None = None
                try:
                    body = await self.clients[action.peer].post(action.body)
                except PeerError as exc:
                    error = exc.text
                done = self.sm.on_maintenance_notify_done(body, error, self.clock())
                self._execute(done.actions)
                answer = done.answer
        self._execute([a for a in outcome.actions if not (isinstance(a, StartSync) and a.manual)
                       and not isinstance(a, SendMaintenanceNotify)])
        if answer is None:
            raise CommandError(f"'{command}' could not be completed")
        return answer

    def maintenance_notify(self, arguments: Any) -> dict[str, Any]:
        outcome = self.sm.on_maintenance_notify(arguments, self.clock())
        self._execute(outcome.actions)
        assert outcome.answer is not None
        return outcome.answer

    def sync_complete_notify(self) -> dict[str, Any]:
        outcome = self.sm.on_sync_complete_notify(self.clock())
        self._execute(outcome.actions)
        assert outcome.answer is not None
        return outcome.answer

    def partner_dhcp_disable(self, max_period: int | None) -> None:
        self._execute(self.sm.on_partner_dhcp_disable(max_period, self.clock()))

    def partner_dhcp_enable(self) -> None:
        self._execute(self.sm.on_partner_dhcp_enable(self.clock()))

    def identify_peer(self, user: str | None, command: str, arguments: Any) -> str | None:
        """Is this lease change from an HA peer? See README "How a partner's update is recognised"."""
        if user is not None and user in self.peer_users:
            return self.peer_users[user]
        if not isinstance(arguments, dict):
            return None
        partner = self.config.partner.name if self.config.partner else "ha-peer"
        if arguments.get("origin") == "ha-partner":
            return partner
        if command == "lease4-update" and arguments.get("force-create") is True and "expire" in arguments:
            return partner
        if command in ("lease4-del", "lease6-del") and "expire" in arguments and "valid-lft" in arguments:
            return partner
        if command.endswith("bulk-apply") and "leases" in arguments and "deleted-leases" in arguments:
            return partner
        return None


def _backlog_items(commands: Iterable[dict[str, Any]]) -> list[tuple[str, dict[str, Any]]]:
    """The (command, arguments) pairs a backlog stores for peer requests."""
    return [(body["command"], body.get("arguments", {})) for body in commands]


async def _side_by_side(run: Callable[[_Item], Awaitable[_Result]], items: list[_Item]) -> list[_Result]:
    """`run` of each item, results in the items' order, at most REPLAY_CONCURRENCY at a time.
    The first item that raises ends it all, with its exception: the items not yet started never
    start and those in flight are cancelled, so a peer that stopped answering costs one
    question's timeout, not one per REPLAY_CONCURRENCY items (a bulk of 50 leases: 7 timeouts
    one after the other), and no question is left running once the round has given up."""
    limit = asyncio.Semaphore(REPLAY_CONCURRENCY)
    failure: list[BaseException] = []

    async def bounded(item: _Item) -> _Result:
        async with limit:
            if failure:  # woken by the failed item's slot before the others were cancelled
                raise _NotStarted
            try:
                return await run(item)
            except Exception as exc:
                failure.append(exc)
                raise

    tasks = [asyncio.ensure_future(bounded(item)) for item in items]
    if not tasks:
        return []
    try:
        await asyncio.wait(tasks, return_when=asyncio.FIRST_EXCEPTION)
    finally:
        unfinished = [task for task in tasks if not task.done()]
        for task in unfinished:
            task.cancel()
        # collected, so that no task's exception goes unretrieved
        await asyncio.gather(*tasks, return_exceptions=True)
    if failure:
        raise failure[0]
    return [task.result() for task in tasks]


class _NotStarted(Exception):
    """An item of `_side_by_side` that was not started because another one had failed."""


@dataclass
class _ReplayTally:
    """What one replay round did with its entries."""
    delivered: list[int] = field(default_factory=list)  # entry ids: sent, already there, superseded or settled
    acknowledged: int = 0
    superseded: int = 0
    already: int = 0
    failure: str | None = None  # the first request (a question or a send) that could not reach the peer
    failed: int = 0  # requests that could not reach it

    def unreachable(self, text: str) -> None:
        """An entry's request could not reach the peer (`text`: why)."""
        self.failed += 1
        if self.failure is None:
            self.failure = text


@dataclass
class _ReplayDrain:
    """One drain of a peer's backlog, from the round that found it non-empty to the count that
    found it empty, logged as a start line and a summary however many rounds it takes. Under a
    steady stream of changes new updates queue behind the replay (to keep their order), so a
    drain can take thousands of small rounds: until session 30 each round logged up to three
    INFO lines (~300 lines/s in bench/kea_soak.py after a pause of Kea)."""
    started: float  # monotonic
    rounds: int = 0
    sent: int = 0
    superseded: int = 0
    already: int = 0
    reconciled: int = 0
    failed_rounds: int = 0

    def add(self, tally: _ReplayTally) -> None:
        self.rounds += 1
        self.sent += tally.acknowledged - tally.already
        self.superseded += tally.superseded
        self.already += tally.already
        self.reconciled += len(tally.delivered) - tally.acknowledged - tally.superseded
        self.failed_rounds += tally.failure is not None

    def log_done(self, peer_name: str) -> None:
        log.info("HA_LEASES_BACKLOG_SUCCESS outstanding lease updates to %s all handled in %.3f s: %d sent, "
                 "%d superseded (the leases changed here since, or the peer holds newer copies), %d already "
                 "there (the peer holds those leases as they are here), %d refused by the peer and reconciled; %d "
                 "rounds, %d of them failed", peer_name, time.monotonic() - self.started, self.sent,
                 self.superseded, self.already, self.reconciled, self.rounds, self.failed_rounds)


def _replay_segments(entries: list[BacklogEntry], family: int) -> list[list[list[BacklogEntry]]]:
    """Split a backlog batch into segments to replay one after the other; a segment is a list of
    lanes that can go side by side, each lane the entries of one lease in queue order. An entry
    of several leases (a bulk) is a segment and a lane of its own, so nothing passes it either way."""
    segments: list[list[list[BacklogEntry]]] = []
    lanes: dict[tuple[str, str], list[BacklogEntry]] = {}
    for entry in entries:
        key = _lease_key(entry, family)
        if key is None:
            if lanes:
                segments.append(list(lanes.values()))
                lanes = {}
            segments.append([[entry]])
        else:
            lanes.setdefault(key, []).append(entry)
    if lanes:
        segments.append(list(lanes.values()))
    return segments


def _lease_key(entry: BacklogEntry, family: int) -> tuple[str, str] | None:
    """The one lease a backlog entry is about (its address, and its type for v6); None for an
    entry of several leases or none. A lease6-bulk-apply of one lease (what one local change
    queues for a v6 partner) is about that lease."""
    arguments = entry.arguments if isinstance(entry.arguments, dict) else {}
    if entry.command == f"lease{family}-bulk-apply":
        leases = list(arguments.get("leases") or []) + list(arguments.get("deleted-leases") or [])
        if len(leases) != 1 or not isinstance(leases[0], dict):
            return None
        arguments = leases[0]
    elif entry.command not in (f"lease{family}-update", f"lease{family}-del"):
        return None
    address = arguments.get("ip-address")
    if not isinstance(address, str):
        return None
    return address.lower(), str(arguments.get("type", "IA_NA")) if family == 6 else ""


def _same_lease(held: dict[str, Any], queued: dict[str, Any]) -> bool:
    """Is the peer's copy (a leaseX-get answer's lease) exactly the lease a queued update carries?
    Any difference in any field, or a field only one side has, means the update must go."""
    try:
        copy = messages.lease_with_expire(held)
    except ValueError:
        return False
    return copy == {k: v for k, v in queued.items() if k not in ("force-create", "origin")}


def attach_ha(runtime: Runtime) -> None:
    """Create an HaService for every family whose config loads libdhcp_ha.so."""
    for family, fam in runtime.families.items():
        if fam.config.ha is None:
            continue
        service = HaService(runtime, fam, fam.config.ha)
        fam.journals_handoffs = fam.config.ha.send_lease_updates and bool(fam.config.ha.other_peers)
        runtime.ha[family] = service
        fam.listeners.append(service)
        runtime.services.append(service)

    if runtime.ha:
        def identify(origin: Any, command: str, arguments: Any) -> str | None:
            if command not in HA_UPDATE_COMMANDS:
                return None
            family = 6 if command.startswith("lease6") else 4
            ha = runtime.ha.get(family)
            return ha.identify_peer(origin.user, command, arguments) if ha is not None else None

        runtime.identify_peer = identify  # type: ignore[attr-defined]
