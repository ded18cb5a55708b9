"""Lease values and their encoding to Kea's SQL rows and Kea's JSON.

A lease is an immutable value; the repository converts it to and from rows for each dialect
(Kea's encodings: IPv4 as an unsigned integer, expire = cltt + valid-lft except for infinite
leases, PostgreSQL's signed iaid, non-NULL hwtype/hwaddr_source for v6).
"""

from __future__ import annotations

import ipaddress
import socket
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any

import orjson

INFINITE = 0xFFFFFFFF
# lease states (Kea's Lease::STATE_*)
STATE_DEFAULT = 0
STATE_DECLINED = 1
STATE_RECLAIMED = 2
LEASE6_TYPE_NAMES = ("IA_NA", "IA_TA", "IA_PD")
LEASE6_TYPE_CODES = {name: code for code, name in enumerate(LEASE6_TYPE_NAMES)}


def hex_colon(data: bytes | None) -> str:
    return ":".join(f"{b:02x}" for b in data) if data else ""


# Not frozen: a frozen dataclass sets each field through object.__setattr__, 3 us per Lease6
# against 0.5, a sixth of lease6-bulk-apply's CPU. Leases are treated as values all the same:
# a change is a new lease (`replace`), never an assignment.
@dataclass(slots=True)
class Lease4:
    address: int
    hwaddr: bytes | None
    client_id: bytes | None
    valid_lft: int
    cltt: int
    subnet_id: int
    fqdn_fwd: bool = False
    fqdn_rev: bool = False
    hostname: str = ""
    state: int = 0
    user_context: dict[str, Any] | None = None

    @property
    def ip(self) -> str:
        return str(ipaddress.IPv4Address(self.address))

    @property
    def expire(self) -> int:
        return self.cltt + self.valid_lft

    def to_kea(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "cltt": self.cltt,
            "fqdn-fwd": self.fqdn_fwd,
            "fqdn-rev": self.fqdn_rev,
            "hostname": self.hostname,
            "ip-address": self.ip,
            "state": self.state,
            "subnet-id": self.subnet_id,
            "valid-lft": self.valid_lft,
        }
        if self.hwaddr:
            out["hw-address"] = hex_colon(self.hwaddr)
        if self.client_id:
            out["client-id"] = hex_colon(self.client_id)
        if self.user_context is not None:
            out["user-context"] = self.user_context
        return out

    def with_changes(self, **changes: Any) -> Lease4:
        return replace(self, **changes)


@dataclass(slots=True)
class Lease6:
    address: str  # Kea's canonical compressed form
    duid: bytes
    iaid: int
    type: int  # 0 IA_NA, 1 IA_TA, 2 IA_PD
    prefix_len: int
    valid_lft: int
    preferred_lft: int
    cltt: int
    subnet_id: int
    fqdn_fwd: bool = False
    fqdn_rev: bool = False
    hostname: str = ""
    state: int = 0
    hwaddr: bytes | None = None
    hwtype: int = 0
    hwaddr_source: int = 0
    user_context: dict[str, Any] | None = None

    @property
    def ip(self) -> str:
        return self.address

    @property
    def type_name(self) -> str:
        return LEASE6_TYPE_NAMES[self.type]

    @property
    def expire(self) -> int:
        return self.cltt + self.valid_lft

    def to_kea(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "cltt": self.cltt,
            "duid": hex_colon(self.duid),
            "fqdn-fwd": self.fqdn_fwd,
            "fqdn-rev": self.fqdn_rev,
            "hostname": self.hostname,
            "iaid": self.iaid,
            "ip-address": self.address,
            "preferred-lft": self.preferred_lft,
            "state": self.state,
            "subnet-id": self.subnet_id,
            "type": self.type_name,
            "valid-lft": self.valid_lft,
        }
        if self.type == 2:
            out["prefix-len"] = self.prefix_len
        if self.hwaddr:
            out["hw-address"] = hex_colon(self.hwaddr)
        if self.user_context is not None:
            out["user-context"] = self.user_context
        return out

    def with_changes(self, **changes: Any) -> Lease6:
        return replace(self, **changes)


Lease = Lease4 | Lease6


_ASCII_LOWER = str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZ", "abcdefghijklmnopqrstuvwxyz")


def ascii_lower(text: str) -> str:
    """`text` with only A-Z lower-cased: Kea lower-cases a hostname in the C locale, so "Ä"
    stays "Ä" (and a lookup by "ä" does not find it)."""
    return text.lower() if text.isascii() else text.translate(_ASCII_LOWER)


# --- row codec -----------------------------------------------------------------------------

# what Kea's schema columns hold on PostgreSQL and MySQL (SQLite holds anything): hostname is
# VARCHAR(255), MySQL's expire a TIMESTAMP (up to 2038-01-19 03:14:07 UTC), user_context a TEXT.
# Kea's SQL backends refuse an expire after MAX_DB_TIME on PostgreSQL as well (its timestamp
# would hold it, but Kea found such values unreliable when read back and never writes them)
TEXT_COLUMN_CHARS = 255
MAX_DB_TIME = 2**31 - 1
MYSQL_TEXT_BYTES = 65535


def _expire_seconds(cltt: int, valid: int) -> int:
    # Kea's SQL backends store expire = cltt for infinite leases (MySQL TIMESTAMP would overflow).
    return cltt if valid == INFINITE else cltt + valid


def _cltt_from(expire: int, valid: int) -> int:
    return expire if valid == INFINITE else expire - valid


def encode_time(seconds: int, dialect: str) -> Any:
    """Unix seconds as `dialect`'s expire column holds them."""
    if dialect == "sqlite":
        return seconds
    if seconds > MAX_DB_TIME:
        # MySQL's TIMESTAMP ends in January 2038; Kea's SQL backends refuse the same on both servers
        raise ValueError(f"expire {seconds} is beyond the lease database's time range (at most {MAX_DB_TIME})")
    try:
        moment = datetime.fromtimestamp(seconds, UTC)
    except (OverflowError, OSError, ValueError):
        # a ValueError is the store's "refused value" (StoreRejected), not an unreachable database
        raise ValueError(f"expire {seconds} is beyond the lease database's time range") from None
    return moment.replace(tzinfo=None) if dialect == "mysql" else moment


def _decode_time(value: Any) -> int:
    if value is None:
        return 0
    if isinstance(value, datetime):
        if value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        return int(value.timestamp())
    if isinstance(value, str) and not value.lstrip("-").isdigit():
        return 0  # MySQL's zero date, which PyMySQL hands over as text (written by another tool)
    return int(value)


def _checked_text(name: str, value: str, dialect: str) -> str:
    """`value` unless `dialect`'s VARCHAR(255) column cannot hold it (SQLite holds any length)."""
    if dialect != "sqlite" and len(value) > TEXT_COLUMN_CHARS:
        raise ValueError(f"{name} is {len(value)} characters long, the lease database holds at most {TEXT_COLUMN_CHARS}")
    if dialect == "postgresql" and "\x00" in value:
        raise ValueError(f"{name} contains a NUL character, which PostgreSQL text cannot hold")
    return value


def _has_nul(value: Any) -> bool:
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, dict):
        return any(_has_nul(k) or _has_nul(v) for k, v in value.items())
    if isinstance(value, list):
        return any(_has_nul(item) for item in value)
    return False


def _row_context(ctx: dict[str, Any] | None, dialect: str) -> Any:
    text = _encode_context(ctx)
    if dialect == "postgresql" and "\\u0000" in text and _has_nul(ctx):
        # Kea's statistics triggers read user_context as JSON, whose text PostgreSQL refuses then
        raise ValueError("user-context contains a NUL character, which PostgreSQL's JSON functions cannot read")
    if dialect == "mysql" and len(text.encode()) > MYSQL_TEXT_BYTES:
        raise ValueError(f"user-context is {len(text.encode())} bytes as JSON, the lease database holds at most "
                         f"{MYSQL_TEXT_BYTES}")
    return text or _empty(dialect, "")


def _encode_context(ctx: dict[str, Any] | None) -> str:
    return orjson.dumps(ctx).decode() if ctx is not None else ""


def _decode_context(text: str | None) -> dict[str, Any] | None:
    if not text:
        return None
    try:
        value = orjson.loads(text)
    except orjson.JSONDecodeError:
        return None
    return value if isinstance(value, dict) else None


def _empty(dialect: str, value: Any) -> Any:
    """What Kea writes for "none": empty values on PostgreSQL, NULL on MySQL (where Kea's own
    update triggers fail on an empty user_context)."""
    return None if dialect == "mysql" else value


def _flag(value: bool, dialect: str) -> Any:
    """A boolean column's value: an int on SQLite, whose driver binds an exact int directly but
    sends a bool through its adapter lookup first (0.4-0.6 us a value); PostgreSQL's boolean
    columns take only a bool."""
    return int(value) if dialect == "sqlite" else value


def lease4_to_row(lease: Lease4, dialect: str) -> dict[str, Any]:
    return {
        "address": lease.address,
        "hwaddr": lease.hwaddr or _empty(dialect, b""),
        "client_id": lease.client_id or _empty(dialect, b""),
        "valid_lifetime": lease.valid_lft,
        "expire": encode_time(_expire_seconds(lease.cltt, lease.valid_lft), dialect),
        "subnet_id": lease.subnet_id,
        "fqdn_fwd": _flag(lease.fqdn_fwd, dialect),
        "fqdn_rev": _flag(lease.fqdn_rev, dialect),
        "hostname": _checked_text("hostname", lease.hostname, dialect),
        "state": lease.state,
        "user_context": _row_context(lease.user_context, dialect),
    }


def storage_refusal(lease: Lease4 | Lease6, dialect: str) -> str | None:
    """Why `dialect`'s columns cannot hold `lease` (the ValueError of its row codec), or None."""
    if dialect == "sqlite":
        return None  # holds any length and time
    try:
        if isinstance(lease, Lease4):
            lease4_to_row(lease, dialect)
        else:
            lease6_to_row(lease, dialect)
    except ValueError as exc:
        return str(exc)
    return None


def lease4_from_row(row: Any) -> Lease4:
    valid = int(row.valid_lifetime or 0)
    return Lease4(
        address=int(row.address),
        hwaddr=bytes(row.hwaddr) if row.hwaddr else None,
        client_id=bytes(row.client_id) if row.client_id else None,
        valid_lft=valid,
        cltt=_cltt_from(_decode_time(row.expire), valid),
        subnet_id=int(row.subnet_id or 0),
        fqdn_fwd=bool(row.fqdn_fwd),
        fqdn_rev=bool(row.fqdn_rev),
        hostname=row.hostname or "",
        state=int(row.state or 0),
        user_context=_decode_context(row.user_context),
    )


def lease6_to_row(lease: Lease6, dialect: str) -> dict[str, Any]:
    iaid = lease.iaid
    if dialect == "postgresql" and iaid >= 2**31:
        iaid -= 2**32
    return {
        "address": lease.address,
        "duid": lease.duid,
        "valid_lifetime": lease.valid_lft,
        "expire": encode_time(_expire_seconds(lease.cltt, lease.valid_lft), dialect),
        "subnet_id": lease.subnet_id,
        "pref_lifetime": lease.preferred_lft,
        "lease_type": lease.type,
        "iaid": iaid,
        "prefix_len": lease.prefix_len,
        "fqdn_fwd": _flag(lease.fqdn_fwd, dialect),
        "fqdn_rev": _flag(lease.fqdn_rev, dialect),
        "hostname": _checked_text("hostname", lease.hostname, dialect),
        "state": lease.state,
        "hwaddr": lease.hwaddr or _empty(dialect, b""),
        "hwtype": lease.hwtype if lease.hwaddr else _empty(dialect, 0),
        "hwaddr_source": lease.hwaddr_source if lease.hwaddr else _empty(dialect, 0),
        "user_context": _row_context(lease.user_context, dialect),
    }


def lease6_from_row(row: Any) -> Lease6:
    valid = int(row.valid_lifetime or 0)
    iaid = int(row.iaid or 0)
    if iaid < 0:
        iaid += 2**32
    return Lease6(
        address=row.address,
        duid=bytes(row.duid) if row.duid else b"",
        iaid=iaid,
        type=int(row.lease_type or 0),
        prefix_len=int(row.prefix_len if row.prefix_len is not None else 128),
        valid_lft=valid,
        preferred_lft=int(row.pref_lifetime or 0),
        cltt=_cltt_from(_decode_time(row.expire), valid),
        subnet_id=int(row.subnet_id or 0),
        fqdn_fwd=bool(row.fqdn_fwd),
        fqdn_rev=bool(row.fqdn_rev),
        hostname=row.hostname or "",
        state=int(row.state or 0),
        hwaddr=bytes(row.hwaddr) if row.hwaddr else None,
        hwtype=int(row.hwtype or 0),
        hwaddr_source=int(row.hwaddr_source or 0),
        user_context=_decode_context(row.user_context),
    )


def v6_order_bytes(address: str) -> bytes | None:
    """An IPv6 address as 16 bytes, which compare as the addresses do (None when it is not one):
    SQLite's `ls_v6key`, the counterpart of PostgreSQL's `::inet` and MySQL's INET6_ATON."""
    try:
        return socket.inet_pton(socket.AF_INET6, address)
    except (OSError, TypeError, ValueError):
        return None
