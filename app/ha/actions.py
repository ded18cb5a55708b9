"""What the HA core asks the I/O layer to do. Plain data; the adapter executes them in order
and reports each outcome back to the state machine (`on_heartbeat_ok`, `on_sync_done`, ...)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from app.ha.states import HaState


@dataclass(frozen=True)
class SendHeartbeat:
    """POST `body` to the partner; report with on_heartbeat_ok / on_heartbeat_failed."""

    peer: str
    body: dict[str, Any]


@dataclass(frozen=True)
class StartSync:
    """Run the lease sync of spec §6.2 from `peer` (dhcp-disable before each page, pages of
    sync-page-limit, ha-sync-complete-notify / dhcp-enable fallback); report on_sync_done.
    `max_period` None: omit it from dhcp-disable (manual ha-sync without one)."""

    peer: str
    max_period: int | None
    manual: bool = False


@dataclass(frozen=True)
class SendMaintenanceNotify:
    """Synchronous ha-maintenance-notify for an operator command; report
    on_maintenance_notify_done (its answer is the operator's answer)."""

    peer: str
    cancel: bool
    body: dict[str, Any]


@dataclass(frozen=True)
class SendBacklog:
    """Send the communication-recovery backlog in order, one request at a time, stopping at
    the first failure (v4: lease4-update/lease4-del; v6: one lease6-bulk-apply); report
    on_backlog_done."""

    peer: str
    commands: tuple[dict[str, Any], ...]


@dataclass(frozen=True)
class SendHaReset:
    """Ask the partner to resync (backlog overflowed or undeliverable); report on_ha_reset_done."""

    peer: str
    body: dict[str, Any]


@dataclass(frozen=True)
class SendLeaseUpdates:
    """Lease updates of one DHCP query for one peer (v4: deletes then updates, concurrently
    allowed; v6: one bulk-apply). Report each outcome with on_lease_update_done.
    `must_ack`: the client's answer waits for (and is dropped on failure of) these requests."""

    peer: str
    commands: tuple[dict[str, Any], ...]
    must_ack: bool


@dataclass(frozen=True)
class EnableLocalService:
    """Enable the local DHCP service (HA origin); `state` for the log line."""

    state: HaState


@dataclass(frozen=True)
class DisableLocalService:
    state: HaState


@dataclass(frozen=True)
class ServeScopes:
    """The set of scopes this server answers changed (drives the query filter)."""

    scopes: frozenset[str]


@dataclass(frozen=True)
class LogStateChange:
    from_state: HaState
    to_state: HaState
    partner_state: str  # upper-case as Kea logs it, "" in passive-backup mode
    reason: str


@dataclass(frozen=True)
class LogMessage:
    """Any other HA log line, with Kea's message id so operators can grep for it."""

    level: str  # "info" | "warning" | "error"
    message_id: str
    text: str


Action = (
    SendHeartbeat
    | StartSync
    | SendMaintenanceNotify
    | SendBacklog
    | SendHaReset
    | SendLeaseUpdates
    | EnableLocalService
    | DisableLocalService
    | ServeScopes
    | LogStateChange
    | LogMessage
)


@dataclass
class CommandOutcome:
    """Result of an HA command: the answer map (None while waiting for a peer exchange that
    the actions start) and the actions to perform."""

    answer: dict[str, Any] | None
    actions: list[Action] = field(default_factory=list)


@dataclass
class LeaseUpdatePlan:
    """What to do with the leases one DHCP query committed (spec §5.1)."""

    requests: list[SendLeaseUpdates] = field(default_factory=list)
    queued: int = 0  # entries appended to the communication-recovery backlog
    # the partner's updates belong in that backlog, whether they fitted (`queued`) or overflowed
    # delayed-updates-limit (then dropped there, as Kea drops them, and the partner is reset)
    queued_for_partner: bool = False
    skipped_partner: bool = False  # unsent-update-count was incremented

    @property
    def wait_for_acks(self) -> bool:
        """True if the DHCP answer must be parked until every must_ack request succeeded."""
        return any(r.must_ack for r in self.requests)
