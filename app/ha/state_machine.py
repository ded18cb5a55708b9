"""The Kea 2.2 HA state machine, sans I/O.

Every input is an event method that takes the current monotonic time `now` (seconds) and
returns the actions for the I/O layer (see `app.ha.actions`). Timers are exposed the aioquic
way: `get_timer()` says when to call `handle_timer(now)` next.

The partner-state-driven transitions of every state are one table (`TRANSITIONS`, spec §3.3);
the checks that precede it (pause, maintenance cancel, clock skew, invalid partner state) are
in `_common_checks`. Kea runs its model after each heartbeat, after lease updates complete and
after commands; a transition keeps the triggering event, so transitions chain until a state
decides to stay. A command runs the model with a "no-op" event, so a second chained transition
waits for the next heartbeat. Both are reproduced because they are visible on the wire.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from enum import Enum, auto
from typing import Any, Literal

from app.errors import RESULT_ERROR, RESULT_SUCCESS, CommandError, answer
from app.ha import messages
from app.ha.actions import (
    Action,
    CommandOutcome,
    DisableLocalService,
    EnableLocalService,
    LeaseUpdatePlan,
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
from app.ha.communication import (
    CommunicationState,
    HeartbeatAnswer,
    HeartbeatRejected,
    parse_heartbeat_answer,
)
from app.ha.config import HaConfig, HaMode, PauseMode, PeerConfig
from app.ha.messages import AnswerError, Lease, Service, verify_answer
from app.ha.query_filter import default_scopes, failover_scopes, validate_scopes
from app.ha.states import DHCP_ENABLED_STATES, HaState
from app.sentinels import MISSING

S = HaState
MAX_CHAINED_TRANSITIONS = 32  # a safety net; real chains are at most 4 long


class Event(Enum):
    """Why the model runs (Kea's events; only a few are looked at by the handlers)."""

    NOP = auto()
    START = auto()
    HEARTBEAT_COMPLETE = auto()
    LEASE_UPDATES_COMPLETE = auto()
    SYNC_COMPLETE = auto()
    BACKLOG_COMPLETE = auto()
    MAINTENANCE_NOTIFY = auto()
    MAINTENANCE_START = auto()
    MAINTENANCE_CANCEL = auto()
    SYNCED_PARTNER_UNAVAILABLE = auto()


class Rule(Enum):
    """Conditional outcomes of the transition table."""

    STAY = auto()
    SYNC = auto()  # syncing, or ready directly when sync-leases is false
    PRIMARY_SYNCS = auto()  # both waiting: the primary goes first
    PRIMARY_NORMAL = auto()  # both ready: the primary goes first
    NORMAL = auto()  # load-balancing / hot-standby
    DOWN_IF_FAILED = auto()  # partner-down if shouldPartnerDown, else stay
    DOWN_OR_RECOVERY = auto()  # ... else communication-recovery if enabled (LB only)
    RUN_SYNC = auto()  # start the lease sync against the partner
    RESYNC_IF_PARTNER_UNSENT = auto()  # partner ready: waiting if it has new unsent updates, else normal
    RECOVERY_PARTNER_WAKING = auto()  # partner resyncing: waiting only if our backlog overflowed
    RECOVERY_RESUME = auto()  # communication back: deliver the backlog, or ha-reset the partner
    WAIT_PARTNER_RESTART = auto()  # partner terminated while we wait: stay until it is restarted


Target = HaState | Rule
ANY = "*"  # table key for "any other partner state", including unknown

_NORMAL_STATE_RULES: Mapping[HaState | str, Target] = {
    S.IN_MAINTENANCE: S.PARTNER_IN_MAINTENANCE,
    S.PARTNER_DOWN: S.WAITING,  # the partner served alone: we must resync
    S.PARTNER_IN_MAINTENANCE: S.IN_MAINTENANCE,
    S.TERMINATED: S.TERMINATED,
    S.UNAVAILABLE: Rule.DOWN_OR_RECOVERY,
    ANY: Rule.STAY,
}

# Our state -> partner state -> what happens (spec §3.3). Partner None (unknown) uses ANY.
TRANSITIONS: Mapping[HaState, Mapping[HaState | str, Target]] = {
    S.WAITING: {
        S.COMMUNICATION_RECOVERY: Rule.SYNC,
        S.HOT_STANDBY: Rule.SYNC,
        S.LOAD_BALANCING: Rule.SYNC,
        S.IN_MAINTENANCE: Rule.SYNC,
        S.PARTNER_DOWN: Rule.SYNC,
        S.PARTNER_IN_MAINTENANCE: Rule.SYNC,
        S.READY: Rule.SYNC,
        S.WAITING: Rule.PRIMARY_SYNCS,
        S.SYNCING: Rule.STAY,
        S.TERMINATED: Rule.WAIT_PARTNER_RESTART,
        S.UNAVAILABLE: Rule.DOWN_IF_FAILED,
        ANY: Rule.STAY,
    },
    S.SYNCING: {
        S.TERMINATED: S.TERMINATED,
        S.UNAVAILABLE: Rule.DOWN_IF_FAILED,
        ANY: Rule.RUN_SYNC,
    },
    S.READY: {
        S.HOT_STANDBY: Rule.NORMAL,
        S.LOAD_BALANCING: Rule.NORMAL,
        S.COMMUNICATION_RECOVERY: Rule.NORMAL,
        S.IN_MAINTENANCE: S.PARTNER_IN_MAINTENANCE,
        S.PARTNER_IN_MAINTENANCE: S.IN_MAINTENANCE,
        S.READY: Rule.PRIMARY_NORMAL,
        S.TERMINATED: S.TERMINATED,
        S.UNAVAILABLE: Rule.DOWN_IF_FAILED,
        ANY: Rule.STAY,
    },
    S.LOAD_BALANCING: _NORMAL_STATE_RULES,
    S.HOT_STANDBY: _NORMAL_STATE_RULES,
    S.COMMUNICATION_RECOVERY: {
        S.IN_MAINTENANCE: S.PARTNER_IN_MAINTENANCE,
        S.PARTNER_DOWN: S.WAITING,
        S.PARTNER_IN_MAINTENANCE: S.IN_MAINTENANCE,
        S.TERMINATED: S.TERMINATED,
        S.UNAVAILABLE: Rule.DOWN_IF_FAILED,
        S.WAITING: Rule.RECOVERY_PARTNER_WAKING,
        S.SYNCING: Rule.RECOVERY_PARTNER_WAKING,
        S.READY: Rule.RECOVERY_PARTNER_WAKING,
        ANY: Rule.RECOVERY_RESUME,
    },
    S.PARTNER_DOWN: {
        S.COMMUNICATION_RECOVERY: S.WAITING,
        S.PARTNER_DOWN: S.WAITING,
        S.PARTNER_IN_MAINTENANCE: S.WAITING,
        S.READY: Rule.RESYNC_IF_PARTNER_UNSENT,
        S.TERMINATED: S.TERMINATED,
        ANY: Rule.STAY,
    },
    S.PARTNER_IN_MAINTENANCE: {
        S.UNAVAILABLE: S.PARTNER_DOWN,  # no failure detection: the partner was announced gone
        ANY: Rule.STAY,
    },
    # No automatic transitions: left only by commands (or a restart).
    S.IN_MAINTENANCE: {ANY: Rule.STAY},
    S.TERMINATED: {ANY: Rule.STAY},
    S.PASSIVE_BACKUP: {ANY: Rule.STAY},
    S.BACKUP: {ANY: Rule.STAY},
}

# States whose handler runs the common checks (paused / cancel, clock skew, invalid partner).
_CHECKED_STATES = frozenset(
    {S.SYNCING, S.READY, S.LOAD_BALANCING, S.HOT_STANDBY, S.COMMUNICATION_RECOVERY, S.PARTNER_DOWN}
)
# States that keep the heartbeat running (waiting only for servers that have a partner).
_HEARTBEAT_STATES = frozenset(
    {
        S.WAITING,
        S.SYNCING,
        S.READY,
        S.LOAD_BALANCING,
        S.HOT_STANDBY,
        S.COMMUNICATION_RECOVERY,
        S.PARTNER_DOWN,
        S.PARTNER_IN_MAINTENANCE,
        S.IN_MAINTENANCE,
    }
)
_NO_SCOPE_STATES = frozenset({S.WAITING, S.SYNCING, S.READY, S.IN_MAINTENANCE, S.BACKUP})
_MAINTENANCE_START_REFUSED = frozenset({S.BACKUP, S.IN_MAINTENANCE, S.PARTNER_IN_MAINTENANCE, S.TERMINATED})
_MAINTENANCE_NOTIFY_REFUSED = frozenset({S.BACKUP, S.PARTNER_IN_MAINTENANCE, S.TERMINATED})


@dataclass(frozen=True)
class Explanation:
    reason: str  # why we are in this state
    since: float  # monotonic time of entry
    next: str  # what would move us next

    def as_dict(self, now: float, wall_now: float | None = None) -> dict[str, Any]:
        since: str | float
        if wall_now is not None:
            since = messages.format_rfc1123(wall_now - (now - self.since))
        else:
            since = round(now - self.since, 3)
        return {"next": self.next, "reason": self.reason, "since": since}


BacklogOp = Literal["add", "delete"]


class HaStateMachine:
    """One HA relationship of this server. Not thread-safe: drive it from one task."""

    def __init__(self, config: HaConfig, now: float, service: Service = "dhcp4", *,
                 durable_backlog: bool = False) -> None:
        """`durable_backlog`: the caller keeps every lease update skipped for the partner
        (`LeaseUpdatePlan.skipped_partner`) in a durable backlog and replays it once updates
        flow again (app/ha/service.py). The partner then needs no resync for those updates and
        none is asked for: in partner-down under a steady stream of lease changes, each resync
        would end with new skipped updates and ask for the next one, for as long as the stream
        lasts."""
        self.config = config
        self.service: Service = service
        self._durable_backlog = durable_backlog
        self.comm = CommunicationState(config, now)
        self.partner: PeerConfig | None = config.partner
        self._state = S.WAITING
        self._prev_state = S.WAITING
        self._on_entry = True
        self._paused = False
        self._paused_once: set[HaState] = set()
        self._last_event = Event.NOP
        self._next_event = Event.NOP
        self._scopes: frozenset[str] = frozenset()
        # Kea's network state for the HA origin; the partner's dhcp-disable (origin ha-partner)
        # toggles the very same flag, which is why sync-complete-notify can re-enable it.
        self._dhcp_enabled = True
        self._partner_disable_until: float | None = None
        self._heartbeat_due: float | None = None
        self._heartbeat_in_flight = False
        self._sync_in_flight = False
        self._sync_complete_notified = False
        self._backlog: list[tuple[BacklogOp, Lease]] = []
        self._backlog_overflowed = False
        self._backlog_in_flight = False
        self._reset_in_flight = False
        self._pending_maintenance: Literal["start", "cancel"] | None = None
        # The heartbeat in flight is the one that confirms a received ha-sync-complete-notify.
        self._heartbeat_confirms_sync_notify = False
        # We skipped lease updates to the partner since it last synced from us (our side of
        # the asymmetric-failure fix, spec §3.3).
        self._partner_missing_our_updates = False
        # Our lease database has not been synchronized with the partner's since this process
        # started: a restarted server lacks what the partner handed out while it was down.
        self._unsynced_since_start = True
        self._since = now
        self._reason = "service started"
        self._started = False
        self._now = now
        self._actions: list[Action] = []

    # ================================================================================
    # read-only views
    # ================================================================================
    @property
    def state(self) -> HaState:
        return self._state

    @property
    def previous_state(self) -> HaState:
        return self._prev_state

    @property
    def paused(self) -> bool:
        return self._paused

    @property
    def served_scopes(self) -> frozenset[str]:
        return self._scopes

    @property
    def dhcp_enabled(self) -> bool:
        return self._dhcp_enabled

    @property
    def partner_state(self) -> HaState | None:
        return self.comm.partner_state

    @property
    def backlog_size(self) -> int:
        return len(self._backlog)

    def serves_scope(self, scope: str | None) -> bool:
        return scope is not None and scope in self._scopes

    # ================================================================================
    # events
    # ================================================================================
    def start(self, now: float) -> list[Action]:
        """Run the model once at service start (Kea's startModel(WAITING))."""
        self._begin(now)
        if not self._started:
            self._started = True
            self._enter_state_bookkeeping(S.WAITING)
            self._run(Event.START)
        return self._end()

    def on_heartbeat_ok(self, answer_body: object, now: float, wall_now: float) -> list[Action]:
        """The partner answered our heartbeat (HTTP exchange done). `answer_body` is the parsed
        JSON body (or an already parsed HeartbeatAnswer). A body Kea would reject is handled
        exactly like a failed heartbeat."""
        self._begin(now)
        try:
            hb = (
                answer_body
                if isinstance(answer_body, HeartbeatAnswer)
                else parse_heartbeat_answer(answer_body)
            )
        except HeartbeatRejected as exc:
            self._log(
                "warning",
                "HA_HEARTBEAT_FAILED",
                f"heartbeat to {self._partner_label()} failed: {exc.message}",
            )
            return self._heartbeat_done(ok=False)
        self.comm.apply_heartbeat(hb, now, wall_now)
        return self._heartbeat_done(ok=True)

    def on_heartbeat_failed(self, now: float, reason: str) -> list[Action]:
        """Transport failure of a heartbeat (refused, reset, timeout, not JSON)."""
        self._begin(now)
        self._log(
            "warning",
            "HA_HEARTBEAT_COMMUNICATIONS_FAILED",
            f"failed to send heartbeat to {self._partner_label()}: {reason}",
        )
        return self._heartbeat_done(ok=False)

    def on_sync_done(self, ok: bool, now: float, error: str = "", manual: bool = False) -> list[Action]:
        """The sync started by a StartSync action finished."""
        self._begin(now)
        partner_name = self.partner.name if self.partner else "partner"
        if not ok:
            # The failing step marked the partner unavailable in Kea; retried on the next run.
            self.comm.mark_partner_unavailable()
            self._log(
                "error",
                "HA_SYNC_FAILED",
                f"lease database synchronization with {partner_name} failed: {error}",
            )
        else:
            self._unsynced_since_start = False
            self._log(
                "info",
                "HA_SYNC_SUCCESSFUL",
                f"lease database synchronization with {partner_name} completed successfully",
            )
        if manual:
            return self._end()
        self._sync_in_flight = False
        if self._state is S.SYNCING:
            if ok:
                self._post(Event.SYNC_COMPLETE)
                self._transition(S.READY, f"lease database synchronization with {partner_name} completed")
                self._loop()
            else:
                self._reason = (
                    f"lease sync with {partner_name} failed ({error}); retried after the next heartbeat"
                )
        self._schedule_heartbeat()
        return self._end()

    def on_backlog_done(self, ok: bool, now: float, error: str = "") -> list[Action]:
        """The SendBacklog requests finished (ok: all delivered, in order)."""
        self._begin(now)
        self._backlog_in_flight = False
        if self._state is not S.COMMUNICATION_RECOVERY:
            return self._end()  # we left the state meanwhile; the backlog was discarded
        partner_name = self.partner.name if self.partner else "partner"
        if not ok:
            self._log(
                "warning",
                "HA_LEASES_BACKLOG_FAILED",
                f"failed to send lease updates backlog to {partner_name}: {error}",
            )
            # Kea loses the popped entries here and could later return to load-balancing
            # without them; treating the backlog as overflowed forces the full resync instead.
            self._backlog_overflowed = True
            self._send_ha_reset()
            return self._end()
        self._log(
            "info", "HA_LEASES_BACKLOG_SUCCESS", f"sending lease updates backlog to {partner_name} successful"
        )
        if self._backlog:
            self._run(Event.BACKLOG_COMPLETE)  # entries queued meanwhile: the handler sends them
        else:
            self._post(Event.BACKLOG_COMPLETE)
            self._transition(
                self.config.normal_state, "lease updates backlog delivered after communication recovery"
            )
            self._loop()
        return self._end()

    def on_ha_reset_done(self, ok: bool, now: float, error: str = "") -> list[Action]:
        """The SendHaReset exchange finished (ok: answer result 0 or 3)."""
        self._begin(now)
        self._reset_in_flight = False
        if not ok:
            self._log(
                "warning",
                "HA_RESET_FAILED",
                f"failed to reset HA state machine of {self._partner_label()}: {error}",
            )
        elif self._state is S.COMMUNICATION_RECOVERY:
            self._post(Event.BACKLOG_COMPLETE)
            self._transition(
                S.WAITING, "lease updates backlog overflowed or undeliverable; partner reset, full resync"
            )
            self._loop()
        return self._end()

    def on_lease_update_done(self, peer_name: str, ok: bool, now: float, error: str = "") -> list[Action]:
        """Outcome of one SendLeaseUpdates request. A failure towards the partner makes it
        `unavailable` at once; backups never change the partner state."""
        self._begin(now)
        peer = self.config.peer(peer_name)
        if not ok:
            self._log(
                "warning", "HA_LEASE_UPDATE_FAILED", f"lease update to {peer.log_label} failed: {error}"
            )
            if not peer.is_backup:
                self.comm.mark_partner_unavailable()
        if not peer.is_backup or self.config.wait_backup_ack:
            self._run(Event.LEASE_UPDATES_COMPLETE)
        return self._end()

    def analyze_query(self, client_key: str, waited_ms: int, now: float) -> None:
        """Failure detection input: a DHCP query for the partner's scope was seen (leasesync
        does not see DHCP traffic itself; the DHCP side reports it). Does not run the model."""
        self.comm.analyze_query(client_key, waited_ms, now)

    # ---- timers ------------------------------------------------------------------------
    def get_timer(self) -> float | None:
        deadlines = [t for t in (self._heartbeat_due, self._partner_disable_until) if t is not None]
        return min(deadlines) if deadlines else None

    def handle_timer(self, now: float) -> list[Action]:
        self._begin(now)
        if self._partner_disable_until is not None and now >= self._partner_disable_until:
            self._partner_disable_until = None
            self._set_dhcp_enabled(True)  # the partner's max-period ran out
        if self._heartbeat_due is not None and now >= self._heartbeat_due and self.partner is not None:
            self._heartbeat_due = None
            self._heartbeat_in_flight = True
            # ha-sync-complete-notify is confirmed by the next heartbeat, success or not.
            self._heartbeat_confirms_sync_notify = self._sync_complete_notified
            self._sync_complete_notified = False
            self._actions.append(SendHeartbeat(self.partner.name, messages.heartbeat(self.service)))
        return self._end()

    # ---- commands received from the partner ----------------------------------------------
    def heartbeat_answer(self, wall_now: float) -> dict[str, Any]:
        """Answer to a received `ha-heartbeat` (given in any state)."""
        return messages.heartbeat_answer(
            self._state.value, self._scopes, self.comm.unsent_update_count, wall_now
        )

    def on_maintenance_notify(self, arguments: object, now: float) -> CommandOutcome:
        """A received `ha-maintenance-notify` (the partner's operator ran maintenance-start/cancel)."""
        self._begin(now)
        try:
            cancel = messages.parse_maintenance_notify_arguments(arguments)
        except CommandError as exc:
            return CommandOutcome(exc.answer(), self._end())
        if cancel:
            if self._state is not S.IN_MAINTENANCE:
                return CommandOutcome(
                    answer(RESULT_ERROR, messages.MAINTENANCE_NOTIFY_CANCEL_REFUSED), self._end()
                )
            self._post(Event.MAINTENANCE_CANCEL)
            self._transition(self._prev_state, "partner canceled the maintenance (ha-maintenance-notify)")
            self._run(Event.NOP)
            return CommandOutcome(answer(RESULT_SUCCESS, messages.MAINTENANCE_NOTIFY_CANCELED), self._end())
        if self._state in _MAINTENANCE_NOTIFY_REFUSED:
            text = messages.maintenance_notify_refused(self._state.value)
            return CommandOutcome(answer(messages.RESULT_MAINTENANCE_NOT_ALLOWED, text), self._end())
        self._transition(S.IN_MAINTENANCE, "partner announced maintenance (ha-maintenance-notify)")
        self._run(Event.MAINTENANCE_NOTIFY)
        return CommandOutcome(answer(RESULT_SUCCESS, messages.MAINTENANCE_NOTIFY_IN_MAINTENANCE), self._end())

    def on_sync_complete_notify(self, now: float) -> CommandOutcome:
        """A received `ha-sync-complete-notify`: the partner finished syncing from us."""
        self._begin(now)
        self._partner_missing_our_updates = False  # it now holds every lease we have
        if self._state is S.PARTNER_DOWN:
            # Stay disabled until we leave partner-down, the max-period ends, or the next
            # heartbeat fails (then we serve on in partner-down).
            self._sync_complete_notified = True
        else:
            self._set_dhcp_enabled(True)
            self._partner_disable_until = None
        return CommandOutcome(answer(RESULT_SUCCESS, messages.HA_SYNC_COMPLETE_NOTIFIED), self._end())

    def on_partner_dhcp_disable(self, max_period: int | None, now: float) -> list[Action]:
        """A received `dhcp-disable` with origin ha-partner (the partner syncs from us)."""
        self._begin(now)
        self._set_dhcp_enabled(False)
        self._partner_disable_until = now + max_period if max_period else None
        return self._end()

    def on_partner_dhcp_enable(self, now: float) -> list[Action]:
        """A received `dhcp-enable` with origin ha-partner."""
        self._begin(now)
        self._partner_disable_until = None
        self._set_dhcp_enabled(True)
        return self._end()

    # ---- operator commands -----------------------------------------------------------
    def on_admin(self, command: str, now: float, arguments: object = MISSING) -> CommandOutcome:
        """ha-continue, ha-reset, ha-scopes, ha-sync, ha-maintenance-start/-cancel, and
        ha-maintenance-notify. An answer of None means: perform the actions, then report
        the peer exchange (on_maintenance_notify_done / on_sync_done(manual=True))."""
        if command == "ha-maintenance-notify":
            return self.on_maintenance_notify(arguments, now)
        handler: Callable[[object], CommandOutcome] | None = {
            "ha-continue": self._cmd_continue,
            "ha-reset": self._cmd_reset,
            "ha-scopes": self._cmd_scopes,
            "ha-sync": self._cmd_sync,
            "ha-maintenance-start": self._cmd_maintenance_start,
            "ha-maintenance-cancel": self._cmd_maintenance_cancel,
        }.get(command)
        if handler is None:
            raise ValueError(f"not an HA command: {command}")
        self._begin(now)
        try:
            return handler(arguments)
        except CommandError as exc:
            return CommandOutcome(exc.answer(), self._end())

    def on_maintenance_notify_done(
        self, body: object, transport_error: str | None, now: float
    ) -> CommandOutcome:
        """The ha-maintenance-notify sent for ha-maintenance-start/-cancel completed:
        `body` is the partner's parsed answer, or `transport_error` says why there is none."""
        self._begin(now)
        pending, self._pending_maintenance = self._pending_maintenance, None
        error: str | None = transport_error
        rcode = RESULT_ERROR
        if error is None:
            try:
                rcode = verify_answer(body).rcode
            except AnswerError as exc:
                error, rcode = exc.message, exc.rcode
        if error is not None:
            self.comm.mark_partner_unavailable()
            self._log(
                "error",
                "HA_MAINTENANCE_NOTIFY_FAILED",
                f"failed to send ha-maintenance-notify to {self._partner_label()}: {error}",
            )
        if pending == "cancel":
            if error is not None:
                return CommandOutcome(
                    answer(RESULT_ERROR, messages.maintenance_cancel_failed(error)), self._end()
                )
            self._post(Event.MAINTENANCE_CANCEL)
            self._transition(self._prev_state, "maintenance canceled by the operator (ha-maintenance-cancel)")
            self._run(Event.NOP)
            return CommandOutcome(answer(RESULT_SUCCESS, messages.MAINTENANCE_CANCEL_DONE), self._end())
        if pending != "start":
            raise RuntimeError("no ha-maintenance-start/-cancel is waiting for the partner")
        if transport_error is not None or rcode == RESULT_ERROR:
            self._post(Event.MAINTENANCE_START)
            self._transition(
                S.PARTNER_DOWN, "ha-maintenance-start: partner unreachable, assumed down for maintenance"
            )
            self._run(Event.NOP)
            return CommandOutcome(
                answer(RESULT_SUCCESS, messages.MAINTENANCE_START_PARTNER_DOWN), self._end()
            )
        if rcode == RESULT_SUCCESS:
            self._post(Event.MAINTENANCE_START)
            self._transition(S.PARTNER_IN_MAINTENANCE, "ha-maintenance-start: partner is in-maintenance")
            self._run(Event.NOP)
            return CommandOutcome(
                answer(RESULT_SUCCESS, messages.MAINTENANCE_START_PARTNER_IN_MAINTENANCE), self._end()
            )
        # Kea quirk kept on purpose: result 3 passes the answer check but is neither 0 nor 1.
        text = messages.maintenance_start_partner_refused(error or "")
        return CommandOutcome(answer(RESULT_ERROR, text), self._end())

    # ---- lease updates -------------------------------------------------------------------
    def should_send_lease_updates(self, peer: PeerConfig) -> bool:
        """Spec §5.2: never when disabled; backups always; a backup never sends; the partner
        only in load-balancing, hot-standby and partner-in-maintenance."""
        if not self.config.send_lease_updates:
            return False
        if peer.is_backup:
            return True
        if self.config.is_backup:
            return False
        return self._state in (S.HOT_STANDBY, S.LOAD_BALANCING, S.PARTNER_IN_MAINTENANCE)

    def should_queue_lease_updates(self, peer: PeerConfig) -> bool:
        return (
            self.config.send_lease_updates and not peer.is_backup and self._state is S.COMMUNICATION_RECOVERY
        )

    def must_wait_for_ack(self, peer: PeerConfig) -> bool:
        """§5.3: the client's answer waits for the partner always, for backups only with
        wait-backup-ack."""
        return not peer.is_backup or self.config.wait_backup_ack

    def plan_lease_updates(self, leases: Iterable[Lease], deleted_leases: Iterable[Lease]) -> LeaseUpdatePlan:
        """What to send for the leases one DHCP query committed (lease maps with `cltt`)."""
        plan = LeaseUpdatePlan()
        if not self.config.send_lease_updates:
            return plan  # nothing at all: no sends, no queue, no counter
        added, deleted = list(leases), list(deleted_leases)
        if not added and not deleted:
            return plan
        for peer in self.config.other_peers:  # peer-name order, like Kea
            if self.should_queue_lease_updates(peer):
                plan.queued_for_partner = True
                for op, batch in (("delete", deleted), ("add", added)):
                    for lease in batch:
                        plan.queued += self._push_backlog(op, lease)  # type: ignore[arg-type]
                continue
            if not self.should_send_lease_updates(peer):
                if not peer.is_backup:
                    self.comm.increase_unsent_update_count()
                    # without a durable backlog only a resync can bring these to the partner
                    self._partner_missing_our_updates = not self._durable_backlog
                    plan.skipped_partner = True
                continue
            plan.requests.append(
                SendLeaseUpdates(
                    peer.name, self.lease_commands(added, deleted), self.must_wait_for_ack(peer)
                )
            )
        return plan

    # ================================================================================
    # status
    # ================================================================================
    def status_dict(self, now: float, wall_now: float | None = None) -> dict[str, Any]:
        """The relationship element of status-get's `high-availability` list, plus `leasesync`."""
        servers: dict[str, Any] = {
            "local": {
                "role": self.config.role.value,
                "scopes": sorted(self._scopes),
                "state": self._state.value,
            }
        }
        if self.config.mode is not HaMode.PASSIVE_BACKUP and not self.config.is_backup:
            remote = self.comm.report(now)
            remote["role"] = self.partner.role.value if self.partner else ""
            servers["remote"] = dict(sorted(remote.items()))
        return {
            "ha-mode": self.config.mode.value,
            "ha-servers": servers,
            "leasesync": self.explain(now).as_dict(now, wall_now),
        }

    def explain(self, now: float) -> Explanation:
        return Explanation(self._reason, self._since, self._next_step(now))

    def _next_step(self, now: float) -> str:
        state, partner = self._state, self.comm.partner_state
        if self._paused:
            return "state machine paused by the state-machine config; send ha-continue"
        if state is S.BACKUP:
            return "stays backup (receives lease updates only); change the role to leave it"
        if state is S.PASSIVE_BACKUP:
            return "stays passive-backup (no heartbeats, no failover)"
        if state is S.TERMINATED:
            return "stays terminated: fix the clocks, then ha-reset or restart both servers"
        if state is S.IN_MAINTENANCE:
            return "safe to shut down; leaves on ha-maintenance-notify cancel from the partner or ha-reset"
        if state is S.PARTNER_IN_MAINTENANCE:
            return "serving all scopes; partner-down as soon as the partner stops answering; ha-maintenance-cancel to return"
        if state is S.SYNCING and self._sync_in_flight:
            return "lease sync in progress; ready when it completes"
        if partner is S.UNAVAILABLE or (partner is None and self.comm.is_interrupted(now)):
            return self._explain_unreachable(now)
        if partner is None:
            return "waiting for the first heartbeat answer from the partner"
        target = TRANSITIONS[state].get(partner, TRANSITIONS[state][ANY])
        if target is Rule.STAY or (target is Rule.PRIMARY_SYNCS and not self.config.is_primary):
            return f"stays {state.value} while the partner is {partner.value}"
        if target is Rule.PRIMARY_NORMAL and not self.config.is_primary:
            return "the primary goes first; normal state once the partner is in it"
        if target is Rule.WAIT_PARTNER_RESTART:
            return "partner is terminated: restart it (or ha-reset it); we stay waiting"
        goal = target.value if isinstance(target, HaState) else target.name.lower().replace("_", " ")
        return f"partner is {partner.value}; moving on at the next run ({goal})"

    def _explain_unreachable(self, now: float) -> str:
        silent = self.comm.ms_since_contact(now) / 1000
        left = self.comm.seconds_until_interrupted(now)
        if self._state is S.PARTNER_DOWN:
            return f"partner unreachable for {silent:.0f} s; serving its scopes until it reports ready"
        if left > 0:
            extra = ""
            if self._state in (S.LOAD_BALANCING, S.HOT_STANDBY) and self.config.allows_communication_recovery:
                extra = "; communication-recovery at the next run"
            return f"partner unreachable for {silent:.0f} s; partner-down after {left:.0f} s more without contact{extra}"
        if self._needs_failure_detection():
            return (
                f"communication interrupted for {silent:.0f} s; partner-down when more than "
                f"{self.config.max_unacked_clients} clients are unacked (now {self.comm.unacked_clients})"
            )
        return f"communication interrupted for {silent:.0f} s; partner-down at the next heartbeat"

    # ================================================================================
    # the model
    # ================================================================================
    def _begin(self, now: float) -> None:
        self._now = now
        self._actions = []

    def _end(self) -> list[Action]:
        out, self._actions = self._actions, []
        return out

    def _post(self, event: Event) -> None:
        self._last_event, self._next_event = self._next_event, event

    def _run(self, event: Event) -> None:
        self._post(event)
        self._loop()

    def _loop(self) -> None:
        for _ in range(MAX_CHAINED_TRANSITIONS):
            self._handle_state()
            if self._next_event is Event.NOP:
                return
        raise RuntimeError(f"HA state machine did not settle (state {self._state.value})")

    def _enter_state_bookkeeping(self, state: HaState) -> None:
        pause = self.config.pause_for(state)
        if not self._paused and (
            pause is PauseMode.ALWAYS or (pause is PauseMode.ONCE and state not in self._paused_once)
        ):
            self._paused = True
            self._paused_once.add(state)

    def _transition(self, state: HaState, reason: str) -> None:
        old = self._state
        partner = "" if self.config.mode is HaMode.PASSIVE_BACKUP else self._partner_state_label()
        self._actions.append(LogStateChange(old, state, partner, reason))
        if old is S.WAITING and state is S.READY:
            self._log(
                "info",
                "HA_CONFIG_LEASE_SYNCING_DISABLED_REMINDER",
                "bypassing SYNCING state because lease database synchronization is administratively disabled",
            )
        if old is S.COMMUNICATION_RECOVERY and state is not old:
            self._backlog.clear()
            self._backlog_overflowed = False
        self._prev_state, self._state = old, state
        self._on_entry = old is not state
        if self._on_entry:
            self._since = self._now
            self._enter_state_bookkeeping(state)
        self._reason = reason
        self._post(self._next_event)
        self._log_lease_update_mode(state)

    def _handle_state(self) -> None:
        state = self._state
        if self._on_entry:
            self._on_entry = False
            self._entry_actions(state)
        elif state is S.PARTNER_DOWN and self._last_event is Event.SYNCED_PARTNER_UNAVAILABLE:
            # The partner synced from us but our heartbeat to it fails: serve on.
            self._adjust_network_state()

        if state is not S.SYNCING:  # syncing stops the heartbeat while the sync runs
            self._schedule_heartbeat()

        if state in (S.IN_MAINTENANCE, S.TERMINATED, S.PASSIVE_BACKUP, S.BACKUP):
            self._post(Event.NOP)
            return

        if self._paused or (
            self._last_event is Event.MAINTENANCE_CANCEL and state is not S.PARTNER_IN_MAINTENANCE
        ):
            self._post(Event.NOP)
            return
        if state is S.WAITING:  # backup / passive-backup leave waiting at once
            if self.config.is_backup:
                self._transition(S.BACKUP, "role is backup")
                return
            if self.config.mode is HaMode.PASSIVE_BACKUP:
                self._transition(S.PASSIVE_BACKUP, "passive-backup mode: serving without a partner")
                return
        if self._should_terminate():
            self._transition(S.TERMINATED, f"clock skew too high: {self.comm.clock_skew_text()}")
            return
        if (state in _CHECKED_STATES or state is S.WAITING) and self._partner_state_invalid():
            if state is S.WAITING:
                self._post(Event.NOP)
            else:
                self._transition(
                    S.WAITING,
                    f"partner reports {self._partner_key()} which is invalid in {self.config.mode.value} mode",
                )
            return

        partner_key = self._partner_key()
        table = TRANSITIONS[state]
        target = table.get(partner_key, table[ANY])
        self._apply(target)

    def _apply(self, target: Target) -> None:
        partner = self._partner_key()
        if isinstance(target, HaState):
            self._transition(target, f"partner state is {partner}")
            return
        normal = self.config.normal_state
        if target is Rule.STAY:
            self._post(Event.NOP)
        elif target is Rule.SYNC or (target is Rule.PRIMARY_SYNCS and self.config.is_primary):
            if self.config.sync_leases:
                self._transition(S.SYNCING, f"partner is {partner}: fetching its leases")
            else:
                self._transition(S.READY, f"partner is {partner}; sync-leases is false, syncing skipped")
        elif target is Rule.PRIMARY_SYNCS:
            self._post(Event.NOP)  # standby/secondary: the primary goes first
        elif target is Rule.NORMAL or (target is Rule.PRIMARY_NORMAL and self.config.is_primary):
            self._transition(normal, f"partner is {partner}")
        elif target is Rule.PRIMARY_NORMAL:
            self._post(Event.NOP)
        elif target is Rule.DOWN_IF_FAILED:
            if self._should_partner_down():
                self._transition(S.PARTNER_DOWN, self._partner_down_reason())
            else:
                self._post(Event.NOP)
        elif target is Rule.DOWN_OR_RECOVERY:
            if self._should_partner_down():
                self._transition(S.PARTNER_DOWN, self._partner_down_reason())
            elif self.config.allows_communication_recovery:
                self._transition(S.COMMUNICATION_RECOVERY, "partner unreachable: queuing lease updates")
            else:
                self._post(Event.NOP)
        elif target is Rule.RUN_SYNC:
            self._start_sync()
        elif target is Rule.RESYNC_IF_PARTNER_UNSENT:
            if self.comm.partner_has_new_unsent_updates():
                self._transition(S.WAITING, "partner is ready but skipped lease updates meanwhile: resync")
            elif self._unsynced_since_start and self.config.sync_leases:
                # We came to partner-down straight from start-up (or a failed sync), so the
                # leases the partner handed out before it went away never reached us, and its
                # unsent-update count, reset by its own restart, cannot tell. Kea 2.2 goes to
                # the normal state here and the two databases stay apart; resync instead.
                self._transition(S.WAITING, "partner is ready but we have not synced with it since we started: resync")
            elif self._partner_missing_our_updates:
                # Kea 2.2 would go to the normal state here and leave the leases we handed out
                # since the partner's sync missing on it (spec §3.3). Ask it to sync again
                # instead; a Kea partner in ready obeys ha-reset (waiting -> syncing from us).
                self._post(Event.NOP)
                if not self._reset_in_flight:
                    self._reason = (
                        "partner is ready but lacks leases we handed out after its sync: ha-reset sent"
                    )
                    self._send_ha_reset()
            else:
                self._transition(normal, "partner is ready and missed no lease updates of its own")
        elif target is Rule.RECOVERY_PARTNER_WAKING:
            if not self.comm.is_interrupted(self._now) and self._backlog_overflowed:
                self._transition(S.WAITING, "lease updates backlog overflowed: resync")
            else:
                self._post(Event.NOP)
        elif target is Rule.RECOVERY_RESUME:
            self._recovery_resume()
        elif target is Rule.WAIT_PARTNER_RESTART:
            self._log("info", "HA_TERMINATED_RESTART_PARTNER", "waiting for the partner to be restarted")
            self._post(Event.NOP)
        else:  # pragma: no cover - every Rule is handled above
            raise AssertionError(target)

    def _recovery_resume(self) -> None:
        if self.comm.is_interrupted(self._now):
            self._post(Event.NOP)
            return
        partner = self.comm.partner_state
        if partner not in (self.config.normal_state, S.COMMUNICATION_RECOVERY):
            self._transition(
                S.WAITING, f"partner is {self._partner_key()} after communication recovery: resync"
            )
            return
        self._post(Event.NOP)  # whatever happens next is reported by on_backlog_done / on_ha_reset_done
        if self._backlog_in_flight or self._reset_in_flight:
            return
        if self._backlog_overflowed:
            self._send_ha_reset()
            return
        if not self._backlog:
            self._log(
                "info",
                "HA_LEASES_BACKLOG_NOTHING_TO_SEND",
                "no leases in backlog after communication recovery",
            )
            self._transition(self.config.normal_state, "communication recovered, nothing queued")
            return
        assert self.partner is not None
        entries, self._backlog = self._backlog, []
        self._log(
            "info",
            "HA_LEASES_BACKLOG_START",
            f"starting to send {len(entries)} outstanding lease updates to {self.partner.name}",
        )
        if self.service == "dhcp4":
            commands = tuple(
                messages.lease4_update(lease) if op == "add" else messages.lease4_del(lease)
                for op, lease in entries
            )
        else:
            commands = (
                messages.lease6_bulk_apply(
                    [lease for op, lease in entries if op == "add"],
                    [lease for op, lease in entries if op == "delete"],
                ),
            )
        self._backlog_in_flight = True
        self._actions.append(SendBacklog(self.partner.name, commands))

    def _send_ha_reset(self) -> None:
        assert self.partner is not None
        self._reset_in_flight = True
        self._actions.append(SendHaReset(self.partner.name, messages.ha_reset(self.service)))

    def _start_sync(self) -> None:
        self._post(Event.NOP)
        if self._sync_in_flight or self.partner is None:
            return
        # Heartbeats pause during the sync so they cannot interfere with it (Kea does the same).
        self._heartbeat_due = None
        self._sync_in_flight = True
        self._reason = f"fetching leases from {self.partner.name}"
        self._actions.append(StartSync(self.partner.name, messages.sync_max_period(self.config.sync_timeout)))

    def _entry_actions(self, state: HaState) -> None:
        if state in _NO_SCOPE_STATES:
            scopes: frozenset[str] = frozenset()
        elif state is S.PARTNER_IN_MAINTENANCE:
            scopes = failover_scopes(self.config)
        elif state is S.PARTNER_DOWN:
            maintenance = self._last_event is Event.MAINTENANCE_START
            if maintenance or self.config.this_peer.auto_failover:
                scopes = failover_scopes(self.config)
            else:
                scopes = default_scopes(self.config)
            if maintenance:
                self._log(
                    "info", "HA_MAINTENANCE_STARTED_IN_PARTNER_DOWN", "partner assumed down for maintenance"
                )
        else:
            scopes = default_scopes(self.config)
        self._set_scopes(scopes)
        self._adjust_network_state()
        if self._paused:
            self._log("info", "HA_STATE_MACHINE_PAUSED", f"state machine paused in state {state.label}")
        if state in (S.TERMINATED, S.PASSIVE_BACKUP):
            self._heartbeat_due = None
        if state is S.TERMINATED:
            self._log("error", "HA_TERMINATED", "HA service terminated due to an unrecoverable condition")
        elif state is S.IN_MAINTENANCE:
            self._log(
                "info", "HA_MAINTENANCE_SHUTDOWN_SAFE", "the server can now be shut down for maintenance"
            )
        elif state is S.PARTNER_IN_MAINTENANCE:
            self._log("info", "HA_MAINTENANCE_STARTED", "the partner is in maintenance")

    def _set_scopes(self, scopes: frozenset[str]) -> None:
        if scopes != self._scopes:
            self._scopes = scopes
            self._actions.append(ServeScopes(scopes))

    def _adjust_network_state(self) -> None:
        self._set_dhcp_enabled(self._state in DHCP_ENABLED_STATES)

    def _set_dhcp_enabled(self, enabled: bool) -> None:
        if enabled == self._dhcp_enabled:
            return
        self._dhcp_enabled = enabled
        self._actions.append(EnableLocalService(self._state) if enabled else DisableLocalService(self._state))

    def _schedule_heartbeat(self) -> None:
        if (
            self._heartbeat_due is None
            and not self._heartbeat_in_flight
            and not self._sync_in_flight
            and self.config.sends_heartbeats
            and self._state in _HEARTBEAT_STATES
        ):
            self._heartbeat_due = self._now + self.config.heartbeat_delay / 1000

    def _heartbeat_done(self, ok: bool) -> list[Action]:
        self._heartbeat_in_flight = False
        notified, self._heartbeat_confirms_sync_notify = self._heartbeat_confirms_sync_notify, False
        if not ok:
            self.comm.mark_partner_unavailable()
            if self.comm.is_interrupted(self._now):
                name = self.partner.name if self.partner else "partner"
                self._log(
                    "warning", "HA_COMMUNICATION_INTERRUPTED", f"communication with {name} is interrupted"
                )
        self._schedule_heartbeat()  # one-shot timer, re-armed after each completion
        if notified and not ok:
            self._post(Event.SYNCED_PARTNER_UNAVAILABLE)
        self._run(Event.HEARTBEAT_COMPLETE)
        return self._end()

    # ---- commands ----------------------------------------------------------------------
    def _cmd_continue(self, _arguments: object) -> CommandOutcome:
        if self._paused:
            self._paused = False
            self._log("info", "HA_STATE_MACHINE_CONTINUED", "state machine is un-paused")
            return CommandOutcome(answer(RESULT_SUCCESS, messages.HA_CONTINUE_RESUMED), self._end())
        return CommandOutcome(answer(RESULT_SUCCESS, messages.HA_CONTINUE_NOT_PAUSED), self._end())

    def _cmd_reset(self, _arguments: object) -> CommandOutcome:
        if self._state is S.WAITING:
            return CommandOutcome(answer(RESULT_SUCCESS, messages.HA_RESET_ALREADY_WAITING), self._end())
        # A skew measured before the reset must not send us straight back to terminated; the
        # next heartbeat measures it again (and terminates again if the clocks still differ).
        self.comm.forget_clock_skew()
        self._transition(S.WAITING, "ha-reset")
        self._run(Event.NOP)
        return CommandOutcome(answer(RESULT_SUCCESS, messages.HA_RESET_DONE), self._end())

    def _cmd_scopes(self, arguments: object) -> CommandOutcome:
        names = messages.parse_ha_scopes_arguments(arguments)
        try:
            scopes = validate_scopes(self.config, names)
        except ValueError as exc:
            raise CommandError(str(exc)) from None
        self._set_scopes(scopes)
        self._adjust_network_state()
        return CommandOutcome(answer(RESULT_SUCCESS, messages.HA_SCOPES_DONE), self._end())

    def _cmd_sync(self, arguments: object) -> CommandOutcome:
        server_name, max_period = messages.parse_ha_sync_arguments(arguments)
        try:
            self.config.peer(server_name)
        except KeyError:
            raise CommandError(f"no configuration specified for server {server_name}") from None
        if server_name == self.config.this_server_name:
            # Kea 2.2 sends the sync's commands to its own URL and answers when they time out
            raise CommandError(
                f"'server-name' {server_name} is this server: name the server to fetch the leases from"
            )
        self._actions.append(StartSync(server_name, max_period, manual=True))
        return CommandOutcome(None, self._end())

    def _cmd_maintenance_start(self, _arguments: object) -> CommandOutcome:
        if self._state in _MAINTENANCE_START_REFUSED:
            raise CommandError(messages.maintenance_start_refused(self._state.value))
        partner = self._require_partner()
        self._pending_maintenance = "start"
        self._actions.append(
            SendMaintenanceNotify(partner.name, False, messages.ha_maintenance_notify(self.service, False))
        )
        return CommandOutcome(None, self._end())

    def _cmd_maintenance_cancel(self, _arguments: object) -> CommandOutcome:
        if self._state is not S.PARTNER_IN_MAINTENANCE:
            raise CommandError(messages.MAINTENANCE_CANCEL_NOT_PIM)
        partner = self._require_partner()
        self._pending_maintenance = "cancel"
        self._actions.append(
            SendMaintenanceNotify(partner.name, True, messages.ha_maintenance_notify(self.service, True))
        )
        return CommandOutcome(None, self._end())

    def _require_partner(self) -> PeerConfig:
        if self.partner is None:
            raise CommandError(
                f"no failover partner server found for this server {self.config.this_server_name}"
            )
        return self.partner

    # ---- conditions --------------------------------------------------------------------
    def _needs_failure_detection(self) -> bool:
        return self._dhcp_enabled and (self.config.mode is HaMode.LOAD_BALANCING or self.config.is_standby)

    def _should_partner_down(self) -> bool:
        """Communication interrupted, and (when we can watch the partner's clients) failure
        detected. The hot-standby primary and servers with DHCP disabled skip the analysis."""
        if not self.comm.is_interrupted(self._now):
            return False
        if self._needs_failure_detection():
            return self.comm.failure_detected()
        return True

    def _partner_down_reason(self) -> str:
        silent = self.comm.ms_since_contact(self._now) / 1000
        reason = f"no successful heartbeat for {silent:.0f} s (max-response-delay {self.config.max_response_delay} ms)"
        if self._needs_failure_detection() and self.config.max_unacked_clients:
            reason += f" and {self.comm.unacked_clients} unacked clients"
        return reason

    def _should_terminate(self) -> bool:
        if self.comm.clock_skew_should_terminate():
            self._log(
                "error",
                "HA_HIGH_CLOCK_SKEW_CAUSES_TERMINATION",
                f"{self.comm.clock_skew_text()}, causing HA service to terminate",
            )
            return True
        warning = self.comm.clock_skew_warning(self._now)
        if warning:
            self._log("warning", "HA_HIGH_CLOCK_SKEW", warning)
        return False

    def _partner_state_invalid(self) -> bool:
        partner, mode = self.comm.partner_state, self.config.mode
        invalid = (
            (partner is S.COMMUNICATION_RECOVERY and mode is not HaMode.LOAD_BALANCING)
            or (partner is S.LOAD_BALANCING and mode is not HaMode.LOAD_BALANCING)
            or (partner is S.HOT_STANDBY and mode is not HaMode.HOT_STANDBY)
        )
        if invalid and partner is not None:
            message_id = "HA_INVALID_PARTNER_STATE_" + partner.name
            self._log("warning", message_id, f"partner is in the {partner.value} state unexpectedly")
        return invalid

    def _partner_key(self) -> HaState | str:
        return self.comm.partner_state if self.comm.partner_state is not None else ANY

    def _partner_state_label(self) -> str:
        state = self.comm.partner_state
        return state.label if state is not None else ""

    def _partner_label(self) -> str:
        return self.partner.log_label if self.partner else "partner"

    # ---- lease-update helpers ------------------------------------------------------------
    def _push_backlog(self, op: BacklogOp, lease: Lease) -> int:
        if len(self._backlog) >= self.config.delayed_updates_limit:
            self._backlog_overflowed = True  # dropped: the partner will need a full resync
            return 0
        self._backlog.append((op, lease))
        return 1

    def lease_commands(self, added: Sequence[Lease], deleted: Sequence[Lease]) -> tuple[dict[str, Any], ...]:
        """The requests that carry one query's lease changes, as Kea sends them."""
        if self.service == "dhcp6":
            return messages.lease6_bulk_applies(added, deleted)
        return tuple(
            [messages.lease4_del(lease) for lease in deleted]
            + [messages.lease4_update(lease) for lease in added]
        )

    def _log(self, level: str, message_id: str, text: str) -> None:
        self._actions.append(LogMessage(level, message_id, text))

    def _log_lease_update_mode(self, state: HaState) -> None:
        if self.config.mode is HaMode.PASSIVE_BACKUP or self.config.is_backup or self.partner is None:
            return
        if self.should_send_lease_updates(self.partner):
            self._log(
                "info",
                "HA_LEASE_UPDATES_ENABLED",
                f"lease updates will be sent to the partner while in {state.label} state",
            )
        elif not self.config.send_lease_updates:
            self._log(
                "info",
                "HA_CONFIG_LEASE_UPDATES_DISABLED_REMINDER",
                f"lease updates are administratively disabled and will not be generated while in {state.label} state",
            )
        else:
            self._log(
                "info",
                "HA_LEASE_UPDATES_DISABLED",
                f"lease updates will not be sent to the partner while in {state.label} state",
            )
