"""HA state names exactly as Kea 2.2 writes them on the wire (heartbeats, status-get, config)."""

from __future__ import annotations

from enum import StrEnum


class HaState(StrEnum):
    """Every HA state of Kea 2.2; the value is the wire name."""

    BACKUP = "backup"
    COMMUNICATION_RECOVERY = "communication-recovery"
    HOT_STANDBY = "hot-standby"
    IN_MAINTENANCE = "in-maintenance"
    LOAD_BALANCING = "load-balancing"
    PARTNER_DOWN = "partner-down"
    PARTNER_IN_MAINTENANCE = "partner-in-maintenance"
    PASSIVE_BACKUP = "passive-backup"
    READY = "ready"
    SYNCING = "syncing"
    TERMINATED = "terminated"
    WAITING = "waiting"
    # Pseudo-state: only ever a *partner* state, recorded after a failed exchange. Kea also
    # accepts it in a heartbeat answer and in `state-machine` pause settings, so it parses.
    UNAVAILABLE = "unavailable"

    @property
    def label(self) -> str:
        """Upper-case name as Kea logs it (HA_STATE_TRANSITION ... WAITING to SYNCING)."""
        return self.value.upper()


# States in which HA keeps the local DHCP service enabled (Kea's adjustNetworkState).
DHCP_ENABLED_STATES: frozenset[HaState] = frozenset(
    {
        HaState.COMMUNICATION_RECOVERY,
        HaState.LOAD_BALANCING,
        HaState.HOT_STANDBY,
        HaState.PARTNER_DOWN,
        HaState.PARTNER_IN_MAINTENANCE,
        HaState.PASSIVE_BACKUP,
        HaState.TERMINATED,
    }
)


def parse_state(name: str) -> HaState:
    """Wire name -> state; raises ValueError with Kea's text for anything else (case matters)."""
    try:
        return HaState(name)
    except ValueError:
        raise ValueError(f"unknown state {name}") from None
