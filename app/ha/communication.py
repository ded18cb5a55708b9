"""What this server knows about its HA partner (Kea's CommunicationState), without I/O.

Times are passed in: `now` is a monotonic clock in seconds (for "how long since the last good
heartbeat"), `wall_now` is epoch seconds (only for clock skew against the partner's date-time).
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from app.ha.config import HaConfig
from app.ha.messages import AnswerError, parse_rfc1123, verify_answer
from app.ha.states import HaState

CLOCK_SKEW_WARN_S = 30
CLOCK_SKEW_TERMINATE_S = 60
CLOCK_SKEW_WARN_INTERVAL_S = 60  # HA_HIGH_CLOCK_SKEW is logged at most once a minute
_UINT64 = 2**64


class HeartbeatRejected(Exception):
    """The partner answered, but not with something Kea accepts (HA_HEARTBEAT_FAILED)."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


@dataclass(frozen=True)
class HeartbeatAnswer:
    state: HaState
    partner_time: int  # epoch seconds from `date-time`
    scopes: frozenset[str] | None  # None: missing or unusable (the previous scopes are kept)
    unsent_update_count: int | None  # None: not sent (older Kea); the history is not touched


def parse_heartbeat_answer(body: object) -> HeartbeatAnswer:
    """Validate a heartbeat answer body (parsed JSON) the way Kea 2.2 does, with its texts.

    Accepted: a non-empty list whose first map has result 0 or 3 and an `arguments` map with a
    known lower-case `state` string and an RFC 1123 `date-time`; `unsent-update-count` must be
    an integer if present; `scopes` and `text` may be anything. HTTP status is not looked at.
    """
    try:
        args = verify_answer(body).arguments
    except AnswerError as exc:
        raise HeartbeatRejected(exc.message) from None
    if not isinstance(args, dict):
        raise HeartbeatRejected("returned arguments in the response must be a map")
    state_name = args.get("state")
    if not isinstance(state_name, str):
        raise HeartbeatRejected(
            "server state not returned in response to a ha-heartbeat command or it is not a string"
        )
    try:
        state = HaState(state_name)
    except ValueError:
        raise HeartbeatRejected(f"unsupported HA partner state returned {state_name}") from None
    date_time = args.get("date-time")
    if not isinstance(date_time, str):
        raise HeartbeatRejected(
            "date-time not returned in response to a ha-heartbeat command or it is not a string"
        )
    try:
        partner_time = parse_rfc1123(date_time)
    except ValueError as exc:
        raise HeartbeatRejected(str(exc)) from None

    scopes: frozenset[str] | None = None
    raw_scopes = args.get("scopes")
    if isinstance(raw_scopes, list) and all(isinstance(s, str) for s in raw_scopes):
        scopes = frozenset(s for s in raw_scopes if s)

    unsent: int | None = None
    if "unsent-update-count" in args:
        raw_unsent = args["unsent-update-count"]
        if not isinstance(raw_unsent, int) or isinstance(raw_unsent, bool):
            raise HeartbeatRejected(
                "unsent-update-count returned in the ha-heartbeat response is not an integer"
            )
        unsent = raw_unsent % _UINT64  # Kea stores it as uint64 (so -1 is accepted, as huge)
    return HeartbeatAnswer(state, partner_time, scopes, unsent)


def _log_time(wall: float) -> str:
    return time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(int(wall)))


class CommunicationState:
    """Partner state, heartbeat freshness, clock skew, unsent updates and failure detection."""

    def __init__(self, config: HaConfig, now: float) -> None:
        self.config = config
        # Kea starts the "last contact" clock at service start, so a partner that never
        # answers makes communication count as interrupted max-response-delay after start.
        self.poke_time = now
        self.partner_state: HaState | None = None  # None = unknown (never heard of)
        self.partner_scopes: frozenset[str] = frozenset()
        self.clock_skew_s = 0
        self._my_time_at_skew: float | None = None
        self._partner_time_at_skew: int | None = None
        self._last_skew_warning: float | None = None
        self.unsent_update_count = 0
        self._partner_unsent_history: tuple[int, int] = (0, 0)  # (previous, latest)
        self._clients: dict[str, bool] = {}  # client key -> unacked
        self.analyzed_packets = 0

    # ---- contact -----------------------------------------------------------------------
    def ms_since_contact(self, now: float) -> int:
        return int((now - self.poke_time) * 1000)

    def is_interrupted(self, now: float) -> bool:
        """No successful heartbeat for more than max-response-delay (strictly greater)."""
        return self.ms_since_contact(now) > self.config.max_response_delay

    def seconds_until_interrupted(self, now: float) -> float:
        return max(0.0, self.poke_time + self.config.max_response_delay / 1000 - now)

    def poke(self, now: float) -> None:
        self.poke_time = now
        self._clients.clear()
        self.analyzed_packets = 0

    def mark_partner_unavailable(self) -> None:
        self.partner_state = HaState.UNAVAILABLE

    def apply_heartbeat(self, answer: HeartbeatAnswer, now: float, wall_now: float) -> None:
        self.partner_state = answer.state
        self._partner_time_at_skew = answer.partner_time
        self._my_time_at_skew = wall_now
        # Kea subtracts a microsecond clock from a whole-second one and truncates to seconds.
        self.clock_skew_s = int(answer.partner_time - wall_now)
        if answer.scopes is not None:
            self.partner_scopes = answer.scopes
        if answer.unsent_update_count is not None:
            self._partner_unsent_history = (self._partner_unsent_history[1], answer.unsent_update_count)
        self.poke(now)

    # ---- clock skew --------------------------------------------------------------------
    def clock_skew_should_terminate(self) -> bool:
        return abs(self.clock_skew_s) > CLOCK_SKEW_TERMINATE_S

    def clock_skew_warning(self, now: float) -> str | None:
        """HA_HIGH_CLOCK_SKEW text when |skew| > 30 s, at most once per 60 s; else None."""
        if abs(self.clock_skew_s) <= CLOCK_SKEW_WARN_S:
            return None
        if (
            self._last_skew_warning is not None
            and now - self._last_skew_warning <= CLOCK_SKEW_WARN_INTERVAL_S
        ):
            return None
        self._last_skew_warning = now
        return f"{self.clock_skew_text()}, please synchronize clocks!"

    def clock_skew_text(self) -> str:
        if self._my_time_at_skew is None or self._partner_time_at_skew is None:
            return "skew not initialized"
        direction = (
            f"{-self.clock_skew_s}s behind" if self.clock_skew_s < 0 else f"{self.clock_skew_s}s ahead"
        )
        return (
            f"my time: {_log_time(self._my_time_at_skew)}, partner's time: "
            f"{_log_time(self._partner_time_at_skew)}, partner's clock is {direction}"
        )

    def forget_clock_skew(self) -> None:
        """Drop the last measurement so a stale skew cannot re-terminate us after ha-reset
        (Kea 2.2 keeps it; Kea 2.4 forgets it after a communication failure)."""
        self.clock_skew_s = 0
        self._my_time_at_skew = None
        self._partner_time_at_skew = None

    # ---- unsent updates ----------------------------------------------------------------
    def increase_unsent_update_count(self) -> None:
        # uint64 that wraps to 1, not 0, so "has new unsent updates" stays true for the partner.
        self.unsent_update_count = (
            self.unsent_update_count + 1 if self.unsent_update_count < _UINT64 - 1 else 1
        )

    def partner_has_new_unsent_updates(self) -> bool:
        previous, latest = self._partner_unsent_history
        return latest > 0 and previous != latest

    @property
    def partner_unsent_update_count(self) -> int:
        return self._partner_unsent_history[1]

    # ---- failure detection (fed by the DHCP side through an API call) -------------------
    def analyze_query(self, client_key: str, waited_ms: int, now: float) -> bool:
        """Record a query that belongs to the partner's scope; only while communication is
        interrupted (Kea ignores them otherwise). A client once unacked stays unacked.
        `waited_ms` is secs*1000 (v4) or elapsed-time*10 (v6). Returns True if recorded."""
        if not self.is_interrupted(now):
            return False
        self.analyzed_packets += 1
        unacked = waited_ms > self.config.max_ack_delay
        self._clients[client_key] = self._clients.get(client_key, False) or unacked
        return True

    @property
    def connecting_clients(self) -> int:
        return len(self._clients)

    @property
    def unacked_clients(self) -> int:
        return sum(1 for unacked in self._clients.values() if unacked)

    def failure_detected(self) -> bool:
        """max-unacked-clients 0 means "interrupted is enough"; otherwise strictly more."""
        limit = self.config.max_unacked_clients
        return limit == 0 or self.unacked_clients > limit

    def unacked_clients_left(self, now: float) -> int:
        limit = self.config.max_unacked_clients
        if self.is_interrupted(now) and limit >= self.unacked_clients:
            return limit - self.unacked_clients + 1
        return 0

    # ---- status-get "remote" -----------------------------------------------------------
    def report(self, now: float) -> dict[str, Any]:
        in_touch = self.partner_state is not None
        return {
            "age": self.ms_since_contact(now) // 1000 if in_touch else 0,
            "analyzed-packets": self.analyzed_packets,
            "communication-interrupted": self.is_interrupted(now),
            "connecting-clients": self.connecting_clients,
            "in-touch": in_touch,
            "last-scopes": sorted(self.partner_scopes),
            "last-state": self.partner_state.value if self.partner_state is not None else "",
            "unacked-clients": self.unacked_clients,
            "unacked-clients-left": self.unacked_clients_left(now),
        }


def v4_secs_to_ms(secs: int) -> int:
    """DHCPv4 `secs` in ms, with Kea's fix for clients that send it little-endian."""
    if secs > 255 and secs & 0xFF == 0:
        secs = ((secs & 0xFF) << 8) | (secs >> 8)
    return secs * 1000
