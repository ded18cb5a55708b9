"""The HA "command creator": exact JSON bodies leasesync sends to HA peers, the answers it
gives to ha-* commands, and the check Kea applies to every answer it gets from a peer.

Bodies are plain dicts with keys in alphabetical order (Kea serialises maps sorted; order is
irrelevant to receivers but makes diffs against the captures trivial). Answers are single answer
maps: the HTTP edge wraps them in a one-element list, as Kea's control channel does.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal

from app.errors import RESULT_EMPTY, RESULT_ERROR, RESULT_SUCCESS, RESULT_UNSUPPORTED, CommandError, answer
from app.sentinels import MISSING

Service = Literal["dhcp4", "dhcp6"]
Lease = Mapping[str, Any]

# Result code Kea uses to refuse ha-maintenance-notify (HA_CONTROL_RESULT_MAINTENANCE_NOT_ALLOWED).
RESULT_MAINTENANCE_NOT_ALLOWED = 1001

# ---- answer texts (Kea 2.2, verified live where the spec says so) --------------------------
HEARTBEAT_TEXT = "HA peer status returned."
HA_RESET_ALREADY_WAITING = "HA state machine already in WAITING state."
HA_RESET_DONE = "HA state machine reset."
HA_CONTINUE_RESUMED = "HA state machine continues."
HA_CONTINUE_NOT_PAUSED = "HA state machine is not paused."
HA_SCOPES_DONE = "New HA scopes configured."
HA_SYNC_DONE = "Lease database synchronization complete."
HA_SYNC_COMPLETE_NOTIFIED = "Server successfully notified about the synchronization completion."
MAINTENANCE_NOTIFY_IN_MAINTENANCE = "Server is in-maintenance state."
MAINTENANCE_NOTIFY_CANCELED = "Server maintenance canceled."
MAINTENANCE_NOTIFY_CANCEL_REFUSED = (
    "Unable to cancel the maintenance for the server not in the in-maintenance state."
)
MAINTENANCE_START_PARTNER_IN_MAINTENANCE = (
    "Server is now in the partner-in-maintenance state and its partner is in-maintenance state. "
    "The partner can be now safely shut down."
)
MAINTENANCE_START_PARTNER_DOWN = (
    "Server is now in the partner-down state as its partner appears to be offline for maintenance."
)
MAINTENANCE_CANCEL_DONE = "Server maintenance successfully canceled."
MAINTENANCE_CANCEL_NOT_PIM = (
    "Unable to cancel maintenance request because the server is not in the partner-in-maintenance state."
)


def maintenance_start_refused(state: str) -> str:
    return f"Unable to transition the server from the {state} to partner-in-maintenance state."


def maintenance_notify_refused(state: str) -> str:
    return f"Unable to transition the server from the {state} to in-maintenance state."


def maintenance_start_partner_refused(partner_message: str) -> str:
    return (
        "Unable to transition to the partner-in-maintenance state. The partner server responded with the "
        f"following message to the ha-maintenance-notify command: {partner_message}."
    )


def maintenance_cancel_failed(partner_message: str) -> str:
    return (
        "Unable to cancel maintenance. The partner server responded with the following message to the "
        f"ha-maintenance-notify command: {partner_message}."
    )


# ---- RFC 1123 dates -----------------------------------------------------------------------
_DAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
_RFC1123 = re.compile(
    r"(Mon|Tue|Wed|Thu|Fri|Sat|Sun), (\d{2}) (Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) "
    r"(\d{4}) (\d{2}):(\d{2}):(\d{2}) GMT"
)


def format_rfc1123(wall_time: float) -> str:
    """`Wed, 25 Nov 2026 19:28:41 GMT` (locale-independent, unlike strftime)."""
    t = time.gmtime(int(wall_time))
    return (
        f"{_DAYS[t.tm_wday]}, {t.tm_mday:02d} {_MONTHS[t.tm_mon - 1]} {t.tm_year:04d} "
        f"{t.tm_hour:02d}:{t.tm_min:02d}:{t.tm_sec:02d} GMT"
    )


def parse_rfc1123(text: str) -> int:
    """RFC 1123 date -> epoch seconds; anything else (ISO 8601, RFC 850...) is refused."""
    match = _RFC1123.fullmatch(text)
    if match is None:
        raise ValueError(f"unable to parse RFC 1123 time value of '{text}'")
    _, day, month, year, hour, minute, second = match.groups()
    try:
        moment = datetime(
            int(year), _MONTHS.index(month) + 1, int(day), int(hour), int(minute), int(second), tzinfo=UTC
        )
    except ValueError:
        raise ValueError(f"unable to parse RFC 1123 time value of '{text}'") from None
    return int(moment.timestamp())


# ---- checking a peer's answer (Kea's verifyAsyncResponse) ---------------------------------
class AnswerError(Exception):
    """A peer's answer that Kea counts as a failure; `rcode` as Kea would report it."""

    def __init__(self, message: str, rcode: int = RESULT_ERROR) -> None:
        super().__init__(message)
        self.message = message
        self.rcode = rcode

    @property
    def unsupported(self) -> bool:
        return self.rcode == RESULT_UNSUPPORTED


@dataclass(frozen=True)
class VerifiedAnswer:
    rcode: int  # 0 or 3
    arguments: Any  # `arguments` if present, else `text` (Kea's parseAnswer), else None


def verify_answer(body: object) -> VerifiedAnswer:
    """Kea's check of any answer from an HA peer: a JSON list, first element result 0 or 3.

    A bare map is turned into a failed answer carrying only its text (so even a valid map is
    an error, "<text>, error code 1"), exactly like Kea 2.2.
    """
    if body is None:
        raise AnswerError("no body found in the response")
    if isinstance(body, dict):
        converted: dict[str, Any] = {"result": RESULT_ERROR}
        if "text" in body:
            converted["text"] = body["text"]
        body = [converted]
    if not isinstance(body, list):
        raise AnswerError("body of the response must be a list")
    if not body:
        raise AnswerError("list of responses must not be empty")
    first = body[0]
    if not isinstance(first, dict):
        raise AnswerError("Invalid answer Element specified, expected map")
    if "result" not in first:
        raise AnswerError("Invalid answer specified, does not contain mandatory 'result'")
    rcode = first["result"]
    if not isinstance(rcode, int) or isinstance(rcode, bool):
        raise AnswerError("Result element in answer message is not a string")
    args = first["arguments"] if "arguments" in first else first.get("text")
    if rcode not in (RESULT_SUCCESS, RESULT_EMPTY):
        prefix = f"{args}, " if isinstance(args, str) else ""
        raise AnswerError(f"{prefix}error code {rcode}", rcode)
    return VerifiedAnswer(rcode, args)


# ---- requests leasesync sends to peers ----------------------------------------------------
def _command(command: str, service: Service, arguments: Mapping[str, Any] | None = None) -> dict[str, Any]:
    body: dict[str, Any] = {}
    if arguments is not None:
        body["arguments"] = dict(sorted(arguments.items()))
    body["command"] = command
    body["service"] = [service]
    return body


def lease_with_expire(lease: Lease) -> dict[str, Any]:
    """Lease map as Kea's HA sends it: `expire` = cltt + valid-lft, and no `cltt`."""
    cltt = lease.get("cltt")
    valid_lft = lease.get("valid-lft")
    if not isinstance(cltt, int) or isinstance(cltt, bool) or not isinstance(valid_lft, int):
        raise ValueError("invalid lease format")
    out = {k: v for k, v in lease.items() if k != "cltt"}
    out["expire"] = cltt + valid_lft
    return dict(sorted(out.items()))


def heartbeat(service: Service) -> dict[str, Any]:
    return _command("ha-heartbeat", service)


def lease4_update(lease: Lease) -> dict[str, Any]:
    return _command("lease4-update", "dhcp4", {**lease_with_expire(lease), "force-create": True})


def lease4_del(lease: Lease) -> dict[str, Any]:
    return _command("lease4-del", "dhcp4", lease_with_expire(lease))


def lease6_bulk_apply(leases: Iterable[Lease], deleted_leases: Iterable[Lease]) -> dict[str, Any]:
    """One command per query (or per v6 backlog): both lists always present, maybe empty."""
    return _command(
        "lease6-bulk-apply",
        "dhcp6",
        {
            "deleted-leases": [lease_with_expire(lease) for lease in deleted_leases],
            "leases": [lease_with_expire(lease) for lease in leases],
        },
    )


# leases (deleted and added) in one lease6-bulk-apply a change set is sent in: Kea sends one per
# DHCP query, a handful of leases; an administrator's bulk of 100,000 would be a 30 MB request (over
# a leasesync partner's max-request-size) and one durable backlog row
BULK_APPLY_CHUNK = 1000


def lease6_bulk_applies(leases: Sequence[Lease], deleted_leases: Sequence[Lease],
                        chunk: int = BULK_APPLY_CHUNK) -> tuple[dict[str, Any], ...]:
    """The lease6-bulk-apply commands that carry one change set, in order: one command when it
    fits in `chunk` leases, else several, the deletes first (as one bulk applies them)."""
    if len(leases) + len(deleted_leases) <= chunk:
        return (lease6_bulk_apply(leases, deleted_leases),)
    changes = [(False, lease) for lease in deleted_leases] + [(True, lease) for lease in leases]
    parts = [changes[start:start + chunk] for start in range(0, len(changes), chunk)]
    return tuple(lease6_bulk_apply([lease for added, lease in part if added],
                                   [lease for added, lease in part if not added]) for part in parts)


def lease_get_page(service: Service, last_address: str | None, limit: int) -> dict[str, Any]:
    """`lease4-get-page`/`lease6-get-page`: `from` is "start" or the last address of the
    previous page; a limit of 0 is refused like Kea's command creator does."""
    command = "lease4-get-page" if service == "dhcp4" else "lease6-get-page"
    if limit == 0:
        raise ValueError(f"limit value for {command} command must not be 0")
    return _command(command, service, {"from": last_address or "start", "limit": limit})


def sync_max_period(sync_timeout_ms: int) -> int:
    """`max-period` of the automatic sync's dhcp-disable: sync-timeout in seconds, at least 1."""
    return max(1, sync_timeout_ms // 1000)


def dhcp_disable(service: Service, max_period: int | None) -> dict[str, Any]:
    """Partner dhcp-disable; `max_period` None/0 omits the key (manual ha-sync without one)."""
    arguments: dict[str, Any] = {"origin": "ha-partner"}
    if max_period:
        arguments["max-period"] = max_period
    return _command("dhcp-disable", service, arguments)


def dhcp_enable(service: Service) -> dict[str, Any]:
    return _command("dhcp-enable", service, {"origin": "ha-partner"})


def ha_sync_complete_notify(service: Service) -> dict[str, Any]:
    return _command("ha-sync-complete-notify", service)


def ha_maintenance_notify(service: Service, cancel: bool) -> dict[str, Any]:
    return _command("ha-maintenance-notify", service, {"cancel": cancel})


def ha_reset(service: Service) -> dict[str, Any]:
    return _command("ha-reset", service)


# ---- answers leasesync gives --------------------------------------------------------------
def heartbeat_answer(
    state: str, scopes: Iterable[str], unsent_update_count: int, wall_time: float
) -> dict[str, Any]:
    """The `ha-heartbeat` answer map (scopes sorted, like Kea's std::set)."""
    return answer(
        RESULT_SUCCESS,
        HEARTBEAT_TEXT,
        {
            "date-time": format_rfc1123(wall_time),
            "scopes": sorted(scopes),
            "state": state,
            "unsent-update-count": unsent_update_count,
        },
    )


def ha_sync_answer(error: str | None) -> dict[str, Any]:
    """Answer to a manual `ha-sync` once the I/O layer finished it (error = failed step's text)."""
    if error:
        return answer(RESULT_ERROR, error)
    return answer(RESULT_SUCCESS, HA_SYNC_DONE)


# ---- argument checks of ha-* commands (raise CommandError -> result 1 at the edge) ----------
def _arguments_map(command: str, arguments: object) -> Mapping[str, Any]:
    # MISSING: the envelope had no "arguments"; `"arguments": null` is a value, and not a map (Kea)
    if arguments is MISSING:
        raise CommandError(f"arguments not found in the '{command}' command")
    if not isinstance(arguments, dict):
        raise CommandError(f"arguments in the '{command}' command are not a map")
    return arguments


def parse_ha_scopes_arguments(arguments: object) -> list[str]:
    args = _arguments_map("ha-scopes", arguments)
    if "scopes" not in args:
        raise CommandError("'scopes' is mandatory for the 'ha-scopes' command")
    scopes = args["scopes"]
    if not isinstance(scopes, list):
        raise CommandError("'scopes' must be a list in the 'ha-scopes' command")
    for scope in scopes:
        if not isinstance(scope, str):
            raise CommandError("scope name must be a string in the 'scopes' argument")
    return list(scopes)


def parse_ha_sync_arguments(arguments: object) -> tuple[str, int | None]:
    """(server-name, max-period or None) of a manual `ha-sync`."""
    args = _arguments_map("ha-sync", arguments)
    if "server-name" not in args:
        raise CommandError("'server-name' is mandatory for the 'ha-sync' command")
    server_name = args["server-name"]
    if not isinstance(server_name, str):
        raise CommandError("'server-name' must be a string in the 'ha-sync' command")
    if "max-period" not in args:
        return server_name, None
    max_period = args["max-period"]  # present means checked, null included (Kea)
    if not isinstance(max_period, int) or isinstance(max_period, bool) or max_period <= 0:
        raise CommandError("'max-period' must be a positive integer in the 'ha-sync' command")
    return server_name, max_period


def parse_maintenance_notify_arguments(arguments: object) -> bool:
    """`cancel` flag. Kea 2.2 answers HTTP 500 here; leasesync answers result 1 (spec §7.6)."""
    if not isinstance(arguments, dict) or "cancel" not in arguments:
        raise CommandError("'cancel' is mandatory for the 'ha-maintenance-notify' command")
    cancel = arguments["cancel"]
    if not isinstance(cancel, bool):
        raise CommandError("'cancel' must be a boolean in the 'ha-maintenance-notify' command")
    return cancel
