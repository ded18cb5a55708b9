"""Which server answers a DHCP query: Kea 2.2's scope assignment and load-balancing hash.

The hash is the RFC 3074 (section 6) Pearson-style hash Kea uses, so a client lands on the
same server as it would with two Kea servers. Scope-set helpers (default / failover scopes)
live here too, because Kea keeps them in its query filter.
"""

from __future__ import annotations

from collections.abc import Iterable

from app.ha.config import HaConfig, HaMode, PeerConfig, Role

# RFC 3074 mixing table (a permutation of 0..255).
_MIX_TABLE: tuple[int, ...] = (
    251, 175, 119, 215, 81, 14, 79, 191, 103, 49, 181, 143, 186, 157, 0, 232,
    31, 32, 55, 60, 152, 58, 17, 237, 174, 70, 160, 144, 220, 90, 57, 223,
    59, 3, 18, 140, 111, 166, 203, 196, 134, 243, 124, 95, 222, 179, 197, 65,
    180, 48, 36, 15, 107, 46, 233, 130, 165, 30, 123, 161, 209, 23, 97, 16,
    40, 91, 219, 61, 100, 10, 210, 109, 250, 127, 22, 138, 29, 108, 244, 67,
    207, 9, 178, 204, 74, 98, 126, 249, 167, 116, 34, 77, 193, 200, 121, 5,
    20, 113, 71, 35, 128, 13, 182, 94, 25, 226, 227, 199, 75, 27, 41, 245,
    230, 224, 43, 225, 177, 26, 155, 150, 212, 142, 218, 115, 241, 73, 88, 105,
    39, 114, 62, 255, 192, 201, 145, 214, 168, 158, 221, 148, 154, 122, 12, 84,
    82, 163, 44, 139, 228, 236, 205, 242, 217, 11, 187, 146, 159, 64, 86, 239,
    195, 42, 106, 198, 118, 112, 184, 172, 87, 2, 173, 117, 176, 229, 247, 253,
    137, 185, 99, 164, 102, 147, 45, 66, 231, 52, 141, 211, 194, 206, 246, 238,
    56, 110, 78, 248, 63, 240, 189, 93, 92, 51, 53, 183, 19, 171, 72, 50,
    33, 104, 101, 69, 8, 252, 83, 120, 76, 135, 85, 54, 202, 125, 188, 213,
    96, 235, 136, 208, 162, 129, 190, 132, 156, 38, 47, 1, 7, 254, 24, 4,
    216, 131, 89, 21, 28, 133, 37, 153, 149, 80, 170, 68, 6, 169, 234, 151,
)  # fmt: skip

# Message types subject to HA scopes; any other type is processed by every server.
HA_MESSAGE_TYPES_V4: frozenset[int] = frozenset({1, 3, 4, 7, 8})  # DISCOVER REQUEST DECLINE RELEASE INFORM
HA_MESSAGE_TYPES_V6: frozenset[int] = frozenset({1, 3, 4, 5, 6, 8, 9})  # SOLICIT..REBIND RELEASE DECLINE


def load_balance_hash(key: bytes) -> int:
    """Kea's 8-bit load-balancing hash: seeded with the length, walks the key backwards."""
    value = len(key) & 0xFF
    for byte in reversed(key):
        value = _MIX_TABLE[value ^ byte]
    return value


def v4_load_balancing_key(client_id: bytes | None, hw_address: bytes | None) -> bytes | None:
    """The whole option-61 payload (type byte included) if non-empty, else the chaddr bytes."""
    if client_id:
        return client_id
    if hw_address:
        return hw_address
    return None


def ordered_peers(config: HaConfig) -> list[PeerConfig]:
    """Peers in Kea's query-filter order: primary, then secondary/standby, then backups."""
    primary = [p for p in config.peers if p.role is Role.PRIMARY]
    second = [p for p in config.peers if p.role in (Role.SECONDARY, Role.STANDBY)]
    backups = [p for p in config.peers if p.role is Role.BACKUP]
    return primary + second + backups


def scope_for_key(config: HaConfig, key: bytes | None) -> str | None:
    """Scope (server name) that owns a query with this load-balancing key.

    Hot-standby and passive-backup: always the primary. Load-balancing: hash mod the number
    of active servers (primary + secondary), index 0 = primary. None when the key is missing
    in load-balancing: Kea then drops the query on every server.
    """
    peers = ordered_peers(config)
    if config.mode is not HaMode.LOAD_BALANCING:
        return peers[0].name
    if not key:
        return None
    active = sum(1 for p in peers if p.role in (Role.PRIMARY, Role.SECONDARY))
    return peers[load_balance_hash(key) % active].name


def scope_for_v4_query(
    config: HaConfig, message_type: int, client_id: bytes | None, hw_address: bytes | None
) -> tuple[str | None, bool]:
    """(scope, subject_to_scopes) of a DHCPv4 query; non-HA types go to the primary's scope
    but are processed by every server (subject_to_scopes False)."""
    if message_type not in HA_MESSAGE_TYPES_V4:
        return ordered_peers(config)[0].name, False
    return scope_for_key(config, v4_load_balancing_key(client_id, hw_address)), True


def scope_for_v6_query(config: HaConfig, message_type: int, duid: bytes | None) -> tuple[str | None, bool]:
    """Same as `scope_for_v4_query` for DHCPv6; the key is the client DUID."""
    if message_type not in HA_MESSAGE_TYPES_V6:
        return ordered_peers(config)[0].name, False
    return scope_for_key(config, duid), True


def scope_class(scope: str) -> str:
    """Client class Kea adds to every query, answered or not: `HA_<scope>`."""
    return f"HA_{scope}"


def default_scopes(config: HaConfig) -> frozenset[str]:
    """Own name for a primary/secondary; nothing for standby and backup."""
    if config.role in (Role.PRIMARY, Role.SECONDARY):
        return frozenset({config.this_server_name})
    return frozenset()


def failover_scopes(config: HaConfig) -> frozenset[str]:
    """Names of all primary and secondary peers."""
    return frozenset(p.name for p in config.peers if p.role in (Role.PRIMARY, Role.SECONDARY))


def validate_scopes(config: HaConfig, scopes: Iterable[str]) -> frozenset[str]:
    """Scope names for `ha-scopes`: each must be a configured peer name (Kea's text otherwise)."""
    names = {p.name for p in config.peers}
    for scope in scopes:
        if scope not in names:
            raise ValueError(f"invalid server name specified '{scope}' while enabling/disabling HA scopes")
    return frozenset(scopes)
