"""Kea-shaped JSON configuration parsed into typed, validated objects.

The file holds a `LeaseSync` object for the agent beside `Dhcp4`/`Dhcp6` objects in Kea's own
format, so an administrator can paste from the Kea config they already run. Every error names
the key and its JSON path; nothing is half-applied.
"""

from __future__ import annotations

import ctypes
import ipaddress
import logging
import os
import re
import socket
import string
from dataclasses import dataclass, field, replace
from functools import cached_property
from pathlib import Path
from typing import Any
from urllib.parse import quote, quote_plus

from app import config_text
from app.errors import (
    NOT_A_BOOL,
    NOT_A_LIST,
    NOT_A_MAP_CONTAINS,
    NOT_A_MAP_GET,
    NOT_A_MAP_VALUE,
    NOT_A_STRING,
    NOT_AN_INTEGER,
    CommandError,
    ConfigError,
)
from app.kea_options import (
    STANDARD,
    OptionDefinition,
    OptionDefinitions,
    OptionRefusal,
    add_definition,
    base16_problem,
    check_option,
    parse_definition,
)
from app.netifs import c_library, host_interfaces

INFINITE_LIFETIME = 0xFFFFFFFF
DEFAULT_VALID_LIFETIME = 7200
DEFAULT_PREFERRED_LIFETIME = 3600


log = logging.getLogger("leasesync.config")

# --- small typed readers ------------------------------------------------------------------

def _type_name(value: Any) -> str:
    return {bool: "boolean", int: "integer", float: "real", str: "string", list: "list", dict: "map"}.get(
        type(value), type(value).__name__
    )


def _get(obj: dict[str, Any], key: str, kind: type | tuple[type, ...], path: str, default: Any = None) -> Any:
    if key not in obj:
        return default
    value = obj[key]
    kinds = kind if isinstance(kind, tuple) else (kind,)
    if isinstance(value, bool) and bool not in kinds:
        raise ConfigError(f"invalid type specified for parameter '{key}' (expected {kinds[0].__name__})", f"{path}.{key}")
    if not isinstance(value, kinds):
        raise ConfigError(
            f"invalid type specified for parameter '{key}': expected {kinds[0].__name__}, got {_type_name(value)}",
            f"{path}.{key}",
        )
    return value


def _uint(obj: dict[str, Any], key: str, path: str, default: int | None = None, maximum: int = INFINITE_LIFETIME) -> int | None:
    value = _get(obj, key, int, path, default)
    if value is None:
        return None
    if value < 0 or value > maximum:
        raise ConfigError(f"out of range value ({value}) specified for parameter '{key}'", f"{path}.{key}")
    return int(value)


def _reject_unknown(obj: dict[str, Any], allowed: set[str], path: str) -> None:
    for key in obj:
        if key not in allowed:
            raise ConfigError(f"unsupported parameter '{key}'", f"{path}.{key}")


def _require_map(value: Any, path: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise ConfigError(f"expected a map, got {_type_name(value)}", path)
    return value


# --- lease database ------------------------------------------------------------------------

_DB_KEYS = {
    "type", "name", "host", "port", "user", "password", "persist", "lfc-interval", "readonly",
    "connect-timeout", "read-timeout", "write-timeout", "tcp-user-timeout", "max-reconnect-tries",
    "reconnect-wait-time", "on-fail", "max-row-errors", "trust-anchor", "cert-file", "key-file",
    "key-password", "cipher-list", "retry-on-startup",
    # Kea 3.1's (PostgreSQL only there; leasesync applies it to MySQL too), Kea 3.3's
    "ssl-mode", "password-file",
    # leasesync's own keys
    "synchronous", "pool-size", "query-timeout", "capture-changes",
    "expect-synchronous-replication",
}


@dataclass(frozen=True)
class DatabaseConfig:
    type: str = "sqlite"
    name: str = "leasesync.db"
    host: str = "127.0.0.1"
    port: int | None = None
    user: str = ""
    password: str = ""
    connect_timeout: int = 5
    # seconds a single database operation may take before the request gets result 1
    query_timeout: float = 10.0
    # SQLite durability: FULL makes every acknowledged commit survive power loss.
    synchronous: str = "FULL"
    pool_size: int = 4
    # capture lease changes other writers (the local Kea) make in this database (app/capture.py)
    capture_changes: bool = False
    # the operator relies on synchronous database replication: warn when the database says otherwise
    expect_synchronous_replication: bool = False
    tls: DatabaseTls | None = None  # None: no TLS key given, the drivers' defaults
    # Kea's tcp-user-timeout (PostgreSQL), in seconds; None: leasesync bounds it by query-timeout
    tcp_user_timeout: int | None = None
    # Kea's read-timeout / write-timeout (MySQL), in seconds; None: leasesync bounds them by
    # query-timeout
    read_timeout: int | None = None
    write_timeout: int | None = None
    # Kea 2.6's retry-on-startup: a database that cannot be opened at start-up is tried again,
    # max-reconnect-tries times (None: on-fail serve-retry-continue, without end), reconnect-wait-time
    # apart (ms); Kea's 0 in either disables it
    retry_on_startup: bool = False
    max_reconnect_tries: int = 0
    reconnect_wait_time: int = 0
    on_fail: str = "stop-retry-exit"

    def tcp_user_timeout_ms(self) -> int:
        """How long sent data may stay unacknowledged before the connection is given up: a server
        that vanished without a reset (a failover behind a virtual address, a cut link) would
        otherwise hold a writer until TCP's retransmissions give up, about 15 minutes on Linux.
        A slow server still acknowledges at once, so query-timeout is a safe default."""
        seconds = self.tcp_user_timeout if self.tcp_user_timeout is not None else self.query_timeout
        return max(1, int(seconds * 1000))

    def mysql_socket_timeouts(self) -> tuple[int, int]:
        """PyMySQL's read and write timeouts, in seconds: how long one read or write of the
        socket may wait. Unlike TCP's user timeout they also end a wait on a server that is alive
        but does not answer (a server hung on its disk), so a writer gets its connection back."""
        fallback = max(1, int(self.query_timeout))
        return self.read_timeout or fallback, self.write_timeout or fallback

    def startup_retries(self) -> int | None:
        """How often `serve` tries again to open the database: 0 never, None without end."""
        if not self.retry_on_startup or self.reconnect_wait_time == 0:
            return 0
        if self.on_fail == "serve-retry-continue":
            return None
        return self.max_reconnect_tries

    def url(self) -> str:
        # percent-encoded as SQLAlchemy decodes them (quote_plus would turn a space into a '+' that
        # stays one: a password with a space was refused)
        user = quote(self.user, safe="")
        password = quote(self.password, safe="")
        name = quote(self.name, safe="")
        cred = f"{user}:{password}@" if self.user else ""
        host = f"[{self.host}]" if ":" in self.host else self.host  # an IPv6 address, as RFC 3986 writes it
        if self.type == "sqlite":
            return f"sqlite:///{self.name}"
        if self.type == "postgresql":
            port = self.port or 5432
            if self.is_socket:
                # libpq reads a host that starts with "/" as the directory of the server's unix
                # socket, and Kea passes `host` to libpq as it is
                return f"postgresql+psycopg://{cred}/{name}?host={quote_plus(self.host)}&port={port}"
            return f"postgresql+psycopg://{cred}{host}:{port}/{name}"
        port = self.port or 3306
        if self.is_socket:
            return f"mysql+pymysql://{cred}/{name}?unix_socket={quote_plus(self.host)}&charset=utf8mb4"
        return f"mysql+pymysql://{cred}{host}:{port}/{name}?charset=utf8mb4"

    @property
    def is_socket(self) -> bool:
        """`host` names a unix socket: PostgreSQL's socket directory, MySQL's socket file."""
        return self.host.startswith("/")

    def redacted_url(self) -> str:
        return self.url().replace(f":{quote(self.password, safe='')}@", ":*****@") if self.password else self.url()


SSL_MODES = ("disable", "prefer", "require", "verify-ca", "verify-full")
_DB_TLS_FILES = ("trust-anchor", "cert-file", "key-file")


@dataclass(frozen=True)
class DatabaseTls:
    """TLS to the database server, from Kea's keys. `mode` is libpq's sslmode: `ssl-mode` when
    given, else `verify-ca` with a `trust-anchor` and `require` without one (Kea 3.1's reading;
    Kea 2.2 only asked libpq to prefer TLS)."""

    mode: str
    trust_anchor: str = ""  # a CA file (or, for MySQL, a directory of them)
    cert_file: str = ""
    key_file: str = ""
    key_password: str = ""
    cipher_list: str = ""

    @property
    def required(self) -> bool:
        return self.mode in ("require", "verify-ca", "verify-full")

    @property
    def verified(self) -> bool:
        # libpq verifies the chain in `require` too when a CA is given, and so does leasesync
        return self.mode in ("verify-ca", "verify-full") or (self.mode == "require" and bool(self.trust_anchor))

    def libpq_parameters(self) -> dict[str, str]:
        """libpq's connection parameters (psycopg; asyncpg reads the same names)."""
        parameters = {"sslmode": self.mode}
        for name, value in (("sslrootcert", self.trust_anchor), ("sslcert", self.cert_file),
                            ("sslkey", self.key_file), ("sslpassword", self.key_password)):
            if value:
                parameters[name] = value
        return parameters


def _parse_database_tls(obj: dict[str, Any], path: str, db_type: str) -> DatabaseTls | None:
    values = {key: _get(obj, key, str, path) for key in (*_DB_TLS_FILES, "key-password", "cipher-list", "ssl-mode")}
    if all(value is None for value in values.values()) or db_type == "sqlite":
        return None
    mode = values["ssl-mode"]
    if mode is not None and mode not in SSL_MODES:
        raise ConfigError(f"'ssl-mode' must be one of {', '.join(SSL_MODES)}, not '{mode}'", f"{path}.ssl-mode")
    for key in _DB_TLS_FILES:
        file_name = values[key]
        if file_name is None:
            continue
        if not file_name:
            raise ConfigError(f"'{key}' is empty", f"{path}.{key}")
        if not os.access(file_name, os.R_OK):
            reason = "does not exist" if not os.path.exists(file_name) else "is not readable"
            raise ConfigError(f"'{key}' {file_name} {reason}", f"{path}.{key}")
    trust_anchor = values["trust-anchor"] or ""
    if db_type == "postgresql" and os.path.isdir(trust_anchor):
        raise ConfigError(f"'trust-anchor' {trust_anchor} is a directory: for postgresql name one CA file "
                          "(libpq reads a file)", f"{path}.trust-anchor")
    if values["key-file"] and not values["cert-file"]:
        raise ConfigError("'key-file' is given without 'cert-file'", f"{path}.key-file")
    tls = DatabaseTls(
        mode=mode or ("verify-ca" if trust_anchor else "require"),
        trust_anchor=trust_anchor,
        cert_file=values["cert-file"] or "",
        key_file=values["key-file"] or "",
        key_password=values["key-password"] or "",
        cipher_list=values["cipher-list"] or "",
    )
    from app.store import db_tls  # the drivers' side of TLS; it needs these types

    db_tls.check(db_type, tls, path)
    return tls


def _database_password(obj: dict[str, Any], path: str) -> str:
    """`password`, or the first line of the file `password-file` names (Kea 3.3: either, not both)."""
    password = _get(obj, "password", str, path)
    password_file = _get(obj, "password-file", str, path)
    if password_file is None:
        return password or ""
    if password is not None:
        raise ConfigError("can't specify both 'password' and 'password-file'", f"{path}.password-file")
    return _secret_file_text(Path(password_file), f"{path}.password-file").split("\n", 1)[0]


def _secret_file_text(file_path: Path, path: str) -> str:
    """The whole text of a file holding a secret; `path` names the key that names the file."""
    try:
        return file_path.read_text()
    except OSError as exc:
        raise ConfigError(f"cannot read secret file '{file_path}': {exc.strerror}", path) from None


def _seconds_as_kea_reads_them(obj: dict[str, Any], key: str, path: str) -> int | None:
    """An optional number of seconds that later Kea versions read as an integer and Kea 2.2's
    control channel as a string of digits; 0 (Kea: not set) is None."""
    value = _get(obj, key, (int, str), path)
    if isinstance(value, str):
        if not value.isdigit():
            raise ConfigError(f"'{key}' must be a number of seconds, not '{value}'", f"{path}.{key}")
        value = int(value)
    if value is not None and not 0 <= value <= _UINT32_MAX:
        raise ConfigError(f"out of range value ({value}) specified for parameter '{key}'", f"{path}.{key}")
    return value or None


def _timeout_of_backend(obj: dict[str, Any], key: str, path: str, db_type: str, backend: str) -> int | None:
    """A Kea timeout that only one backend's driver has. Set for another backend, Kea 2.4 and
    later refuse the configuration; leasesync starts and says the value does nothing (Kea 2.2's
    control channel does not check it, and a SQLite store has neither)."""
    seconds = _seconds_as_kea_reads_them(obj, key, path)
    if seconds is not None and db_type != backend:
        log.warning("%s.%s is only used with %s, not %s: ignored", path, key, backend, db_type)
        return None
    return seconds


ON_FAIL_ACTIONS = ("stop-retry-exit", "serve-retry-exit", "serve-retry-continue")


def _on_fail(obj: dict[str, Any], path: str) -> str:
    action = _get(obj, "on-fail", str, path, "stop-retry-exit") or "stop-retry-exit"
    if action not in ON_FAIL_ACTIONS:
        # Kea's text, which it gives only when it opens the database
        raise ConfigError(f"Invalid action on connection loss: {action}", f"{path}.on-fail")
    return action


def parse_lease_database(obj: Any, path: str, base_dir: Path) -> DatabaseConfig:
    if obj is None:
        return DatabaseConfig(name=str(base_dir / "leasesync.db"))
    obj = _require_map(obj, path)
    _reject_unknown(obj, _DB_KEYS, path)
    db_type = _get(obj, "type", str, path)
    if db_type is None:
        raise ConfigError("'type' parameter is mandatory", f"{path}.type")
    if db_type == "memfile":
        raise ConfigError(
            "lease database type 'memfile' is not supported by leasesync, use 'sqlite' "
            "(embedded, durable) or a SQL server ('postgresql', 'mysql')",
            f"{path}.type",
        )
    if db_type not in ("sqlite", "postgresql", "mysql"):
        raise ConfigError(f"unsupported lease database type '{db_type}' (use sqlite, postgresql or mysql)", f"{path}.type")
    name = _get(obj, "name", str, path)
    if db_type == "sqlite":
        name = name or "leasesync.db"
        if name != ":memory:" and not os.path.isabs(name):
            name = str(base_dir / name)
    elif not name:
        raise ConfigError("'name' (the database name) is mandatory for SQL databases", f"{path}.name")
    synchronous = _get(obj, "synchronous", str, path, "FULL").upper()
    if synchronous not in ("OFF", "NORMAL", "FULL", "EXTRA"):
        raise ConfigError(f"'synchronous' must be one of OFF, NORMAL, FULL, EXTRA, not '{synchronous}'", f"{path}.synchronous")
    query_timeout = _get(obj, "query-timeout", (int, float), path, 10)
    return DatabaseConfig(
        type=db_type,
        name=name,
        host=_get(obj, "host", str, path, "127.0.0.1") or "127.0.0.1",
        port=_uint(obj, "port", path, None, 65535),
        user=_get(obj, "user", str, path, "") or "",
        password=_database_password(obj, path),
        connect_timeout=_uint(obj, "connect-timeout", path, 5) or 5,
        query_timeout=float(query_timeout),
        synchronous=synchronous,
        pool_size=_uint(obj, "pool-size", path, 4, 64) or 4,
        capture_changes=bool(_get(obj, "capture-changes", bool, path, False)),
        expect_synchronous_replication=bool(_get(obj, "expect-synchronous-replication", bool, path, False)),
        tls=_parse_database_tls(obj, path, db_type),
        tcp_user_timeout=_timeout_of_backend(obj, "tcp-user-timeout", path, db_type, "postgresql"),
        read_timeout=_timeout_of_backend(obj, "read-timeout", path, db_type, "mysql"),
        write_timeout=_timeout_of_backend(obj, "write-timeout", path, db_type, "mysql"),
        retry_on_startup=bool(_get(obj, "retry-on-startup", bool, path, False)),
        # Kea bounds the tries only below (a JSON integer is 64 bits)
        max_reconnect_tries=_uint(obj, "max-reconnect-tries", path, 0, (1 << 63) - 1) or 0,
        reconnect_wait_time=_uint(obj, "reconnect-wait-time", path, 0) or 0,
        on_fail=_on_fail(obj, path),
    )


# --- subnets -------------------------------------------------------------------------------

@dataclass(frozen=True)
class Subnet:
    id: int
    prefix: ipaddress.IPv4Network | ipaddress.IPv6Network
    valid_lifetime: int
    preferred_lifetime: int
    pools: tuple[tuple[int, int], ...] = ()
    # v6 prefix delegation pools: (prefix as int, prefix-len, delegated-len)
    pd_pools: tuple[tuple[int, int, int], ...] = ()
    # its client-class, or its shared network's: a command carries no client classes, so Kea
    # never picks such a subnet for an address (lease4-add without subnet-id)
    client_class: str = ""

    def contains(self, address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
        return address in self.prefix

    @cached_property
    def bounds(self) -> tuple[int, int]:
        """(network address, netmask) as integers: `address & mask == network` is the prefix
        test of the lease parsers' fast path, without building an address object."""
        return int(self.prefix.network_address), int(self.prefix.netmask)


_SUBNET_KEYS = {
    "id", "subnet", "pools", "pd-pools", "valid-lifetime", "min-valid-lifetime", "max-valid-lifetime",
    "preferred-lifetime", "min-preferred-lifetime", "max-preferred-lifetime", "option-data", "relay",
    "interface", "interface-id", "reservations", "reservation-mode", "reservations-global",
    "reservations-in-subnet", "reservations-out-of-pool", "client-class", "require-client-classes",
    "user-context", "comment", "renew-timer", "rebind-timer", "calculate-tee-times", "t1-percent",
    "t2-percent", "match-client-id", "authoritative", "next-server", "server-hostname", "boot-file-name",
    "4o6-interface", "4o6-interface-id", "4o6-subnet", "store-extended-info", "rapid-commit",
    "ddns-send-updates", "ddns-override-no-update", "ddns-override-client-update", "ddns-replace-client-name",
    "ddns-generated-prefix", "ddns-qualifying-suffix", "ddns-update-on-renew", "ddns-use-conflict-resolution",
    "hostname-char-set", "hostname-char-replacement", "cache-threshold", "cache-max-age", "pool-id",
}
_SHARED_NETWORK_KEYS = _SUBNET_KEYS - {"id", "subnet", "pools", "pd-pools", "reservations", "4o6-subnet"} | {
    "name", "subnet4", "subnet6",
}


def _parse_pool(pool: Any, family: int, path: str) -> tuple[int, int]:
    # Kea's own reading of a pool (its syntax, keys and texts), with the pool's path
    try:
        return _kea_pool(pool, family)
    except KeaRefusal as exc:
        raise ConfigError(str(exc), path) from None


_PD_POOL_KEYS = {"prefix", "prefix-len", "delegated-len", "excluded-prefix", "excluded-prefix-len", "option-data",
                 "client-class", "require-client-classes", "user-context", "comment", "pool-id"}


def _parse_pd_pool(pool: Any, path: str) -> tuple[int, int, int]:
    pool = _require_map(pool, path)
    _reject_unknown(pool, _PD_POOL_KEYS, path)
    text = _get(pool, "prefix", str, path)
    if text is None:
        raise ConfigError("missing parameter 'prefix'", path)
    prefix_len = _uint(pool, "prefix-len", path, None, 128)
    delegated_len = _uint(pool, "delegated-len", path, None, 128)
    if prefix_len is None:
        raise ConfigError("missing parameter 'prefix-len'", path)
    if delegated_len is None:
        raise ConfigError("missing parameter 'delegated-len'", path)
    if delegated_len < prefix_len:
        raise ConfigError(f"delegated length ({delegated_len}) must be longer than or equal to prefix length "
                          f"({prefix_len})", f"{path}.delegated-len")
    try:
        address = ipaddress.IPv6Address(text.strip())
    except ValueError as exc:
        raise ConfigError(f"invalid prefix '{text}': {exc}", f"{path}.prefix") from None
    return int(address), prefix_len, delegated_len


def _parse_subnets(
    items: Any, family: int, path: str, inherited: dict[str, int], out: list[Subnet],
    pending_ids: list[int], network_class: str = "",
) -> None:
    if not isinstance(items, list):
        raise ConfigError(f"'subnet{family}' must be a list", path)
    for index, raw in enumerate(items):
        spath = f"{path}[{index}]"
        sub = _require_map(raw, spath)
        _reject_unknown(sub, _SUBNET_KEYS, spath)
        text = _get(sub, "subnet", str, spath)
        if text is None:
            raise ConfigError("mandatory 'subnet' parameter is missing for a subnet being configured", spath)
        try:
            prefix = ipaddress.ip_network(text, strict=False)
        except ValueError:
            raise ConfigError(f"Invalid subnet syntax (prefix/len expected):{text}", f"{spath}.subnet") from None
        if prefix.version != family:
            raise ConfigError(f"subnet '{text}' is not an IPv{family} prefix", f"{spath}.subnet")
        subnet_id = _uint(sub, "id", spath, 0) or 0
        lifetimes = dict(inherited)
        for key in ("valid-lifetime", "preferred-lifetime"):
            value = _uint(sub, key, spath)
            if value is not None:
                lifetimes[key] = value
        pools = tuple(_parse_pool(p, family, f"{spath}.pools[{i}]") for i, p in enumerate(_get(sub, "pools", list, spath, [])))
        pd_pools: tuple[tuple[int, int, int], ...] = ()
        if family == 6:
            pd_pools = tuple(_parse_pd_pool(p, f"{spath}.pd-pools[{i}]")
                             for i, p in enumerate(_get(sub, "pd-pools", list, spath, [])))
        # a duplicated id is refused afterwards, in Kea's words (_kea_check_family)
        # an empty one is no class of its own (Kea keeps it unset), so the network's applies
        client_class = _get(sub, "client-class", str, spath, "") or network_class
        out.append(Subnet(subnet_id, prefix, lifetimes["valid-lifetime"], lifetimes.get("preferred-lifetime", 0), pools,
                          pd_pools, client_class))
        if not subnet_id:
            pending_ids.append(len(out) - 1)


# --- family (Dhcp4 / Dhcp6) ----------------------------------------------------------------

_FAMILY_KEYS = {
    "lease-database", "hosts-database", "hosts-databases", "config-control", "interfaces-config",
    "control-socket", "dhcp-queue-control", "dhcp-ddns", "hooks-libraries", "loggers", "valid-lifetime",
    "min-valid-lifetime", "max-valid-lifetime", "preferred-lifetime", "min-preferred-lifetime",
    "max-preferred-lifetime", "renew-timer", "rebind-timer", "calculate-tee-times", "t1-percent", "t2-percent",
    "option-data", "option-def", "client-classes", "shared-networks", "reservations", "reservation-mode",
    "reservations-global", "reservations-in-subnet", "reservations-out-of-pool", "host-reservation-identifiers",
    "expired-leases-processing", "dhcp4o6-port", "decline-probation-period", "echo-client-id", "match-client-id",
    "authoritative", "next-server", "server-hostname", "boot-file-name", "server-tag", "sanity-checks",
    "statistic-default-sample-count", "statistic-default-sample-age", "multi-threading", "user-context",
    "comment", "store-extended-info", "server-id", "relay-supplied-options", "mac-sources", "ip-reservations-unique",
    "reservations-lookup-first", "compatibility", "parked-packet-limit", "early-global-reservations-lookup",
    "ddns-send-updates", "ddns-override-no-update", "ddns-override-client-update", "ddns-replace-client-name",
    "ddns-generated-prefix", "ddns-qualifying-suffix", "ddns-update-on-renew", "ddns-use-conflict-resolution",
    "hostname-char-set", "hostname-char-replacement", "cache-threshold", "cache-max-age", "rapid-commit",
    "data-directory", "subnet4", "subnet6", "4o6-interface",
}


@dataclass(frozen=True)
class HookLibrary:
    library: str
    parameters: dict[str, Any]


@dataclass
class FamilyConfig:
    family: int
    lease_database: DatabaseConfig
    subnets: dict[int, Subnet]
    valid_lifetime: int
    preferred_lifetime: int
    ddns_enabled: bool = False
    hooks: tuple[HookLibrary, ...] = ()
    ha: Any = None  # app.ha.config.HaConfig when libdhcp_ha.so is configured
    raw: dict[str, Any] = field(default_factory=dict)

    @property
    def service(self) -> str:
        return f"dhcp{self.family}"

    @cached_property
    def _selectable(self) -> tuple[Subnet, ...]:
        return tuple(sorted((s for s in self.subnets.values() if not s.client_class), key=lambda s: s.id))

    def subnet_for(self, address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> Subnet | None:
        """The subnet Kea 2.2 picks for an address when a command names none: the lowest id
        whose prefix holds it (prefixes may nest), among subnets open to a client of no class."""
        for subnet in self._selectable:
            if address in subnet.prefix:
                return subnet
        return None


def parse_family(obj: Any, family: int, path: str, base_dir: Path) -> FamilyConfig:
    obj = _require_map(obj, path)
    _reject_unknown(obj, _FAMILY_KEYS - {f"subnet{10 - family}"}, path)
    database = parse_lease_database(obj.get("lease-database"), f"{path}.lease-database", base_dir)
    valid = _uint(obj, "valid-lifetime", path, DEFAULT_VALID_LIFETIME)
    preferred = _uint(obj, "preferred-lifetime", path, DEFAULT_PREFERRED_LIFETIME)
    inherited = {"valid-lifetime": valid or 0}
    if family == 6:
        inherited["preferred-lifetime"] = preferred or 0
    subnets: list[Subnet] = []
    pending: list[int] = []  # positions in `subnets` of those without an id
    key = f"subnet{family}"
    # Kea reads the global parameters in key order, so "shared-networks" before "subnet4"/"subnet6":
    # that is the order its subnets are built in, and the order of their automatic ids
    for index, raw in enumerate(_get(obj, "shared-networks", list, path, [])):
        npath = f"{path}.shared-networks[{index}]"
        network = _require_map(raw, npath)
        _reject_unknown(network, _SHARED_NETWORK_KEYS, npath)
        net_inherited = dict(inherited)
        for lkey in ("valid-lifetime", "preferred-lifetime"):
            value = _uint(network, lkey, npath)
            if value is not None:
                net_inherited[lkey] = value
        _parse_subnets(network.get(key, []), family, f"{npath}.{key}", net_inherited, subnets, pending,
                       _get(network, "client-class", str, npath, "") or "")
    _parse_subnets(obj.get(key, []), family, f"{path}.{key}", inherited, subnets, pending)
    # Kea 2.2 numbers the subnets without an id 1, 2, 3, ... in that order, whatever ids others
    # have; a number that another subnet has too is refused below ("ID ... is already in use")
    for next_id, position in enumerate(pending, start=1):
        subnets[position] = replace(subnets[position], id=next_id)
    ddns = _get(obj, "dhcp-ddns", dict, path, {}) or {}
    hooks: list[HookLibrary] = []
    ha = None
    for index, raw in enumerate(_get(obj, "hooks-libraries", list, path, [])):
        hpath = f"{path}.hooks-libraries[{index}]"
        hook = _require_map(raw, hpath)
        _reject_unknown(hook, {"library", "parameters"}, hpath)  # all Kea 2.2's grammar takes
        library = _get(hook, "library", str, hpath)
        if not library:
            raise ConfigError("'library' parameter is mandatory", hpath)
        params = _get(hook, "parameters", dict, hpath, {}) or {}
        hooks.append(HookLibrary(library, params))
        if os.path.basename(library).startswith("libdhcp_ha"):
            if "high-availability" not in params:
                raise ConfigError("'high-availability' parameter not specified", f"{hpath}.parameters")
            from app.ha.config import parse_ha_parameters

            ha = parse_ha_parameters(params["high-availability"], f"{hpath}.parameters.high-availability")
    # what leasesync's own reading lets through but Kea's daemon refuses at start-up (pools outside
    # their subnet or overlapping, a prefix twice, lifetime bounds, value types of keys leasesync
    # only passes on): the same refusal, with its path
    try:
        _kea_check_family(obj, family, from_file=True)
    except KeaRefusal as exc:
        raise ConfigError(str(exc), f"{path}.{exc.where}" if exc.where else path) from None
    by_id = {s.id: s for s in subnets}
    return FamilyConfig(
        family=family,
        lease_database=database,
        subnets=by_id,
        valid_lifetime=valid or 0,
        preferred_lifetime=preferred or 0,
        ddns_enabled=bool(ddns.get("enable-updates", False)),
        hooks=tuple(hooks),
        ha=ha,
        raw=obj,
    )


# --- the agent (LeaseSync) -----------------------------------------------------------------

@dataclass(frozen=True)
class AuthClient:
    user: str
    password: str
    # commands this client may run; None = all (leasesync's built-in permissions)
    commands: frozenset[str] | None = None


@dataclass(frozen=True)
class AuthConfig:
    realm: str
    clients: tuple[AuthClient, ...]


@dataclass(frozen=True)
class TlsConfig:
    trust_anchor: str
    cert_file: str
    key_file: str
    cert_required: bool = True


@dataclass(frozen=True)
class ControlSocket:
    socket_type: str
    socket_name: str


@dataclass(frozen=True)
class AgentConfig:
    http_host: str = "127.0.0.1"
    http_port: int = 8000
    authentication: AuthConfig | None = None
    tls: TlsConfig | None = None
    control_sockets: dict[str, ControlSocket] = field(default_factory=dict)
    max_request_size: int = 16 * 1024 * 1024
    max_json_depth: int = 64
    max_bulk_leases: int = 100_000
    max_page_limit: int = 0xFFFFFFFF
    max_connections: int = 1024
    http_workers: int = 0
    request_timeout: float = 10.0
    log_format: str = "text"
    log_severity: str = "INFO"


_AGENT_KEYS = {
    "http-host", "http-port", "authentication", "trust-anchor", "cert-file", "key-file", "cert-required",
    "control-sockets", "max-request-size", "max-json-depth", "max-bulk-leases", "max-page-limit",
    "max-connections", "http-workers", "request-timeout", "loggers", "log-format", "hooks-libraries", "user-context", "comment",
}


def _read_secret(directory: str, name: str, path: str) -> str:
    return _secret_file_text(Path(directory) / name if directory else Path(name), path).strip()


def parse_authentication(obj: Any, path: str) -> AuthConfig | None:
    if obj is None:
        return None
    obj = _require_map(obj, path)
    _reject_unknown(obj, {"type", "realm", "directory", "clients", "user-context", "comment"}, path)
    auth_type = _get(obj, "type", str, path)
    if auth_type is None:
        raise ConfigError("'type' parameter is mandatory in authentication", f"{path}.type")
    if auth_type != "basic":
        raise ConfigError(f"unsupported authentication type '{auth_type}' (only 'basic')", f"{path}.type")
    realm = _get(obj, "realm", str, path, "kea-control-agent")
    directory = _get(obj, "directory", str, path, "")
    clients: list[AuthClient] = []
    users: set[str] = set()
    for index, raw in enumerate(_get(obj, "clients", list, path, [])):
        cpath = f"{path}.clients[{index}]"
        client = _require_map(raw, cpath)
        _reject_unknown(client, {"user", "password", "user-file", "password-file", "commands", "user-context", "comment"}, cpath)
        user = _get(client, "user", str, cpath)
        password = _get(client, "password", str, cpath)
        if "user-file" in client:
            if user is not None:
                raise ConfigError("only one of 'user' and 'user-file' may be given", cpath)
            user = _read_secret(directory, _get(client, "user-file", str, cpath), f"{cpath}.user-file")
        if "password-file" in client:
            if password is not None:
                raise ConfigError("only one of 'password' and 'password-file' may be given", cpath)
            secret = _read_secret(directory, _get(client, "password-file", str, cpath), f"{cpath}.password-file")
            if user is None and ":" in secret:
                user, password = secret.split(":", 1)
            else:
                password = secret
        if not user:
            raise ConfigError("user is required and must not be empty", f"{cpath}.user")
        if ":" in user:
            # never echo the value: it may come from a file (or hold a password typed as "user:pw")
            raise ConfigError("user must not contain a ':'", f"{cpath}.user")
        if user in users:
            raise ConfigError("user already configured by an earlier client", f"{cpath}.user")
        users.add(user)
        commands = _get(client, "commands", list, cpath)
        if commands is not None and not all(isinstance(c, str) for c in commands):
            raise ConfigError("'commands' must be a list of command names", f"{cpath}.commands")
        clients.append(AuthClient(user, password or "", frozenset(commands) if commands is not None else None))
    return AuthConfig(realm=realm, clients=tuple(clients))


def parse_agent(obj: Any, path: str) -> AgentConfig:
    obj = _require_map(obj, path)
    _reject_unknown(obj, _AGENT_KEYS, path)
    tls_values = [_get(obj, k, str, path) for k in ("trust-anchor", "cert-file", "key-file")]
    tls = None
    if any(tls_values):
        for key, value in zip(("trust-anchor", "cert-file", "key-file"), tls_values, strict=True):
            if not value:
                raise ConfigError(f"{key} parameter is missing or empty: all or none of TLS parameters must be set", f"{path}.{key}")
        tls = TlsConfig(tls_values[0] or "", tls_values[1] or "", tls_values[2] or "", _get(obj, "cert-required", bool, path, True))
    sockets: dict[str, ControlSocket] = {}
    for service, raw in (_get(obj, "control-sockets", dict, path, {}) or {}).items():
        spath = f"{path}.control-sockets.{service}"
        if service not in ("dhcp4", "dhcp6", "d2"):
            raise ConfigError(f"unsupported control socket service '{service}'", spath)
        sock = _require_map(raw, spath)
        _reject_unknown(sock, {"socket-type", "socket-name", "user-context", "comment"}, spath)
        socket_type = _get(sock, "socket-type", str, spath, "unix")
        if socket_type != "unix":
            raise ConfigError(f"unsupported socket-type '{socket_type}' (only 'unix')", f"{spath}.socket-type")
        name = _get(sock, "socket-name", str, spath)
        if not name:
            raise ConfigError("'socket-name' is mandatory", f"{spath}.socket-name")
        sockets[service] = ControlSocket(socket_type, name)
    log_format = _get(obj, "log-format", str, path, "text")
    if log_format not in ("text", "json"):
        raise ConfigError("'log-format' must be 'text' or 'json'", f"{path}.log-format")
    severity = "INFO"
    loggers = _get(obj, "loggers", list, path, [])
    if loggers:
        severity = str(_require_map(loggers[0], f"{path}.loggers[0]").get("severity", "INFO")).upper()
    return AgentConfig(
        http_host=_get(obj, "http-host", str, path, "127.0.0.1"),
        http_port=_uint(obj, "http-port", path, 8000, 65535) or 0,
        authentication=parse_authentication(obj.get("authentication"), f"{path}.authentication"),
        tls=tls,
        control_sockets=sockets,
        max_request_size=_uint(obj, "max-request-size", path, 16 * 1024 * 1024, 1 << 31) or 0,
        max_json_depth=_uint(obj, "max-json-depth", path, 64, 10_000) or 64,
        max_bulk_leases=_uint(obj, "max-bulk-leases", path, 100_000) or 100_000,
        max_page_limit=_uint(obj, "max-page-limit", path, 0xFFFFFFFF) or 0xFFFFFFFF,
        max_connections=_uint(obj, "max-connections", path, 1024, 1_000_000) or 1024,
        http_workers=_uint(obj, "http-workers", path, 0, 64) or 0,
        request_timeout=float(_get(obj, "request-timeout", (int, float), path, 10)),
        log_format=log_format,
        log_severity=severity,
    )


# --- config-test sent to a family: Kea 2.2's daemon's own checks ---------------------------------
#
# kea-dhcp4/kea-dhcp6 check a configuration in a fixed order and stop at the first problem; the
# tables and texts below were established by sending config-test to Kea 2.2 (tests/kea_cases.py
# records them). Kea appends the position of the offending element in the JSON the daemon received
# (" (<wire>:0:N)", N counted in the CA's re-serialisation of the command); leasesync leaves it out,
# as for the lease commands.

_STR, _INT, _REAL, _BOOL, _LIST, _MAP = "a string", "an integer", "a real", "a boolean", "a list", "a map"


def _keywords(**groups: str) -> dict[str, str]:
    table: dict[str, str] = {}
    for kind, names in groups.items():
        for name in names.split():
            table[name] = {"s": _STR, "i": _INT, "r": _REAL, "b": _BOOL, "l": _LIST, "m": _MAP}[kind]
    return table


_COMMON_SCOPE = _keywords(
    s="client-class comment ddns-generated-prefix ddns-qualifying-suffix ddns-replace-client-name "
      "hostname-char-replacement hostname-char-set interface reservation-mode",
    b="calculate-tee-times ddns-override-client-update ddns-override-no-update ddns-send-updates ddns-update-on-renew "
      "ddns-use-conflict-resolution reservations-global reservations-in-subnet reservations-out-of-pool "
      "store-extended-info",
    i="cache-max-age max-valid-lifetime min-valid-lifetime rebind-timer renew-timer valid-lifetime",
    r="cache-threshold t1-percent t2-percent", l="option-data require-client-classes", m="relay user-context",
)
_V4_SCOPE = _keywords(s="boot-file-name next-server server-hostname", b="authoritative match-client-id")
_V6_SCOPE = _keywords(s="interface-id", b="rapid-commit",
                      i="max-preferred-lifetime min-preferred-lifetime preferred-lifetime")
_NETWORK_KEYWORDS = {
    4: {**_COMMON_SCOPE, **_V4_SCOPE, **_keywords(s="name", l="subnet4")},
    6: {**_COMMON_SCOPE, **_V6_SCOPE, **_keywords(s="name", l="subnet6")},
}
_SUBNET_KEYWORDS = {
    4: {**_COMMON_SCOPE, **_V4_SCOPE, **_keywords(s="subnet 4o6-interface 4o6-interface-id 4o6-subnet", i="id",
                                                  l="pools reservations")},
    6: {**_COMMON_SCOPE, **_V6_SCOPE, **_keywords(s="subnet", i="id", l="pools pd-pools reservations")},
}
_POOL_KEYWORDS = _keywords(s="pool client-class comment", l="option-data require-client-classes", m="user-context")
_PD_POOL_KEYWORDS = _keywords(s="prefix excluded-prefix client-class comment", i="prefix-len delegated-len excluded-prefix-len",
                              l="option-data require-client-classes", m="user-context")
# global keys Kea 2.2's daemon refuses through the control channel ("comment" only its file parser
# turns into user-context), on top of any key leasesync does not know either
_NOT_GLOBAL = {
    4: {"4o6-interface", "comment", "data-directory", "mac-sources", "max-preferred-lifetime", "min-preferred-lifetime",
        "preferred-lifetime", "rapid-commit", "relay-supplied-options", "server-id", "subnet6"},
    6: {"4o6-interface", "authoritative", "boot-file-name", "comment", "echo-client-id", "match-client-id",
        "next-server", "rapid-commit", "server-hostname", "subnet4"},
}
# global values Kea copies into shared networks and subnets that do not set them (so their type
# errors are the subnet's), except these: scope keys, and the values Kea 2.2 looks up at run time
# instead (a wrong type there passes its config-test; each measured)
_NOT_INHERITED = {"client-class", "comment", "interface", "interface-id", "option-data",
                  "require-client-classes", "user-context", "name", "subnet4", "subnet6",
                  "authoritative", "boot-file-name", "ddns-generated-prefix", "ddns-override-client-update",
                  "ddns-override-no-update", "ddns-qualifying-suffix", "ddns-replace-client-name",
                  "ddns-send-updates", "ddns-update-on-renew", "ddns-use-conflict-resolution",
                  "hostname-char-replacement", "hostname-char-set", "match-client-id", "next-server",
                  "reservations-global", "reservations-in-subnet", "reservations-out-of-pool", "server-hostname",
                  "4o6-interface", "4o6-interface-id", "4o6-subnet", "rapid-commit", "reservation-mode",
                  "reservations"}
# hook libraries leasesync implements itself: accepted wherever they are (or are not) installed
_OWN_HOOKS = {"libdhcp_lease_cmds.so", "libdhcp_ha.so"}
_GLOBAL_LIFETIMES = {4: ("max-valid-lifetime", "min-valid-lifetime", "valid-lifetime"),
                     6: ("max-preferred-lifetime", "max-valid-lifetime", "min-preferred-lifetime",
                         "min-valid-lifetime", "preferred-lifetime", "valid-lifetime")}
# global containers Kea reads before the subnets, and its text when one has the wrong type
_GLOBAL_CONTAINERS = {
    "client-classes": (list, NOT_A_LIST),
    "compatibility": (dict, NOT_A_MAP_VALUE),
    "config-control": (dict, NOT_A_MAP_CONTAINS),
    "control-socket": (dict, "Specified control-socket is expected to be a map, i.e. a structure defined within { }"),
    "dhcp-queue-control": (dict, NOT_A_MAP_GET),
    "expired-leases-processing": (dict, NOT_A_MAP_GET),
    "host-reservation-identifiers": (list, NOT_A_LIST),
    "hosts-database": (dict, NOT_A_MAP_VALUE),
    "hosts-databases": (list, NOT_A_LIST),
    "interfaces-config": (dict, NOT_A_MAP_GET),
    "multi-threading": (dict, NOT_A_MAP_GET),
    "option-data": (list, NOT_A_LIST),
    "option-def": (list, NOT_A_LIST),
    "reservations": (list, NOT_A_LIST),
    "reservations-lookup-first": (bool, NOT_A_BOOL),
    "sanity-checks": (dict, NOT_A_MAP_GET),
}
_V6_GLOBAL_CONTAINERS = {
    "data-directory": (str, NOT_A_STRING),
    "mac-sources": (list, NOT_A_LIST),
    "relay-supplied-options": (list, NOT_A_LIST),
    "server-id": (dict, NOT_A_MAP_GET),
}
# global scalars Kea checks once the subnets are parsed
_GLOBAL_SCALARS = {"decline-probation-period": _INT, "dhcp4o6-port": _INT, "reservation-mode": _STR,
                   "server-tag": _STR}
_V4_GLOBAL_SCALARS = {"echo-client-id": _BOOL}
_UINT32_MAX = 0xFFFFFFFF
_GLOBAL_SCALAR_RANGES = {"decline-probation-period": _UINT32_MAX, "dhcp4o6-port": 0xFFFF}
_HOST_IDENTIFIERS = {4: ("hw-address", "duid", "circuit-id", "client-id", "flex-id"), 6: ("hw-address", "duid", "flex-id")}
_LEASE_CHECKS = ("none", "warn", "fix", "fix-del", "del")
# database keys Kea 2.2 reads as integers or booleans; any other of its keys must be a string. The
# keys of later Kea versions are typed as those read them only from a file (Kea 2.2's grammar does not
# know them; over the channel its parser wants strings there, and answers so)
_DB_INTEGERS = {"connect-timeout", "lfc-interval", "max-reconnect-tries", "max-row-errors", "port",
                "reconnect-wait-time"}
_DB_INTEGERS_LATER = {"read-timeout", "tcp-user-timeout", "write-timeout"}
_DB_BOOLEANS = {"persist", "readonly"}
_DB_BOOLEANS_LATER = {"retry-on-startup"}
# Kea's range checks, in its order: (key, lowest, highest, text) with {value}
_DB_RANGES = (
    ("lfc-interval", 0, _UINT32_MAX, "lfc-interval value: {value} is out of range, expected value: 0..4294967295"),
    ("connect-timeout", 0, _UINT32_MAX, "connect-timeout value: {value} is out of range, expected value: 0..4294967295"),
    ("port", 0, 0xFFFF, "port value: {value} is out of range, expected value: 0..65535"),
    ("max-row-errors", 0, _UINT32_MAX, "max-row-errors value: {value} is out of range, expected value: 0..4294967295"),
    ("max-reconnect-tries", 0, None, "max-reconnect-tries cannot be less than zero:"),
    ("reconnect-wait-time", 0, _UINT32_MAX, "reconnect-wait-time {value} must be in range 0...MAX_UINT32 (4294967295)"),
)
_LEASE_DB_TYPES = ("memfile", "mysql", "postgresql", "sqlite")  # sqlite is leasesync's own
_HOST_DB_TYPES = ("memfile", "mysql", "postgresql")
_DB_OWN_KEYS = {"synchronous", "pool-size", "query-timeout", "capture-changes", "expect-synchronous-replication"}
_SUBNET_ID_MAX = 4294967294


class KeaRefusal(CommandError):
    """The first problem Kea's daemon finds in a configuration: its text and the element Kea names
    (`at`, over the control channel Kea's text ends with its position), the answer config-test
    gives; `where` is the JSON path (below the family) of the scope it is about, when known
    (start-up names it)."""

    def __init__(self, text: str, where: str = "", *, at: tuple[Any, Any] | None = None,
                 separator: str = " ", also_at: tuple[Any, Any] | None = None, form: str = "({})") -> None:
        super().__init__(text, at=at, separator=separator, also_at=also_at, form=form)
        self.where = where


def _is_kind(value: Any, kind: str) -> bool:
    if kind == _STR:
        return isinstance(value, str)
    if kind == _BOOL:
        return isinstance(value, bool)
    if kind == _INT:
        return isinstance(value, int) and not isinstance(value, bool)
    if kind == _REAL:
        return isinstance(value, float)
    if kind == _LIST:
        return isinstance(value, list)
    return isinstance(value, dict)


def _invalid_type(scope: Any, key: str) -> KeaRefusal:
    """Kea's SimpleParser refusing the type of `key` in `scope`."""
    return KeaRefusal(f"invalid type specified for parameter '{key}'", at=(scope, key))


def _kea_integer(scope: dict[str, Any], key: str) -> int | None:
    """SimpleParser::getInteger of an optional key: its value, None when absent."""
    if key not in scope:
        return None
    if not _is_kind(scope[key], _INT):
        raise _invalid_type(scope, key)
    return int(scope[key])


def _kea_unsigned(scope: dict[str, Any], key: str, highest: int) -> int | None:
    """SimpleParser::getUint16/getUint32 of an optional key: an integer in 0..`highest`."""
    value = _kea_integer(scope, key)
    if value is not None and not 0 <= value <= highest:
        raise KeaRefusal(f"out of range value ({value}) specified for parameter '{key}'", at=(scope, key))
    return value


def _check_keys(scope: dict[str, Any], keywords: dict[str, str]) -> None:
    # every known key's type first, then the first unknown key, in key order
    spurious = None
    for key in sorted(scope):
        kind = keywords.get(key)
        if kind is None:
            spurious = spurious or key
        elif not _is_kind(scope[key], kind):
            raise KeaRefusal(f"'{key}' parameter is not {kind}")
    if spurious is not None:
        raise KeaRefusal(f"spurious '{spurious}' parameter")


_OPTION_KEYWORDS = _keywords(s="name data space comment", i="code", b="csv-format always-send",
                             m="user-context metadata")


def _kea_option_data(scope: dict[str, Any], family: int, options: OptionDefinitions, *, csv_default: bool = False,
                     wrap: tuple[Any, Any] | None = None, not_a_map: str = NOT_A_MAP_VALUE,
                     not_a_map_wrap: tuple[Any, Any] | None = None) -> None:
    """Kea's option data parser on the `option-data` list of `scope` (app/kea_options.py).
    `csv_default`: Kea's defaults gave each entry `csv-format: true` (global option data only);
    `wrap`: the element a scope's parser names once more after any error in its option data
    (`not_a_map_wrap`: only after an entry that is not a map, which the v4 network parser adds)."""
    entries = scope.get("option-data")
    if not isinstance(entries, list):
        return  # its type is the scope's parser's to check
    for index, entry in enumerate(entries):
        if not isinstance(entry, dict):
            raise KeaRefusal(not_a_map, at=(entries, index), also_at=wrap or not_a_map_wrap)
        try:
            _check_keys(entry, _OPTION_KEYWORDS)
            check_option(entry, family, options, csv_default=csv_default)
        except KeaRefusal as exc:
            if exc.at is None:
                exc.at = wrap
            else:
                exc.also_at = exc.also_at or wrap
            raise
        except OptionRefusal as exc:
            raise KeaRefusal(exc.text, at=exc.at, also_at=wrap) from None


_OPTION_DEF_KEYWORDS = _keywords(s="name type record-types space encapsulate comment", i="code", b="array",
                                 m="user-context metadata")


# Kea's names of the places a v6 client's hardware address can be taken from (aliases share one)
_MAC_SOURCES = {"any": 0, "raw": 1, "duid": 2, "ipv6-link-local": 3, "client-link-addr-option": 4, "rfc6939": 4,
                "remote-id": 5, "rfc4649": 5, "subscriber-id": 6, "rfc4580": 6, "docsis-cmts": 7, "docsis-modem": 8}


def _kea_mac_sources(section: dict[str, Any], key: str) -> None:
    """Kea's MAC sources list parser (v6): known names, each once (its errors name the list)."""
    sources = section[key]
    seen: set[int] = set()
    for index, source in enumerate(sources):
        if not isinstance(source, str):
            raise KeaRefusal(NOT_A_STRING, at=(sources, index))
        number = _MAC_SOURCES.get(source)
        if number is None:
            raise KeaRefusal(f"Failed to convert '{source}' to any recognized MAC source:Can't convert '{source}' to "
                             "any known MAC source.", at=(section, key))
        if number in seen:
            raise KeaRefusal(f"The mac-sources value '{source}' was specified twice", at=(section, key))
        seen.add(number)
    if not seen:
        raise KeaRefusal("If specified, MAC Sources cannot be empty")


def _kea_server_id(server_id: dict[str, Any]) -> None:
    """Kea's DUID configuration parser (v6 `server-id`): `type` first, then each value given."""
    if "type" not in server_id:
        raise KeaRefusal("missing parameter 'type'", at=(server_id, None))
    kind = server_id["type"]
    if not isinstance(kind, str):
        raise _invalid_type(server_id, "type")
    if kind not in ("LLT", "EN", "LL"):
        raise KeaRefusal(f"unsupported DUID type '{kind}'. Expected: LLT, EN or LL", at=(server_id, "type"))
    if "identifier" in server_id:
        identifier = server_id["identifier"]
        if not isinstance(identifier, str):
            raise _invalid_type(server_id, "identifier")
        trimmed = identifier.strip(" \t\n")
        if trimmed and base16_problem(trimmed):
            raise KeaRefusal(f"identifier specified in the DUID configuration '{trimmed}' is not a valid string of "
                             "hexadecimal digits", at=(server_id, "identifier"))
    for key, highest in (("htype", 0xFFFF), ("time", _UINT32_MAX), ("enterprise-id", _UINT32_MAX)):
        _kea_unsigned(server_id, key, highest)
    if "persist" in server_id and not isinstance(server_id["persist"], bool):
        raise _invalid_type(server_id, "persist")


def _kea_relay_supplied_options(section: dict[str, Any], key: str) -> None:
    """Kea's parser of the options a relay may supply (v6): codes, or names of standard options;
    every error names the list once more."""
    entries = section[key]
    for index, entry in enumerate(entries):
        if not isinstance(entry, str):
            raise KeaRefusal(NOT_A_STRING, at=(entries, index), also_at=(section, key))
        code = int(entry) if re.fullmatch(r"[+-]?[0-9]+", entry) and abs(int(entry)) < 1 << 63 else 0
        if code < 0:
            problem = f"invalid option code value specified '{entry}', the option code must be a non-negative value"
        elif code > 0xFFFF:
            problem = (f"invalid option code value specified '{entry}', the option code must not be greater than "
                       "'65535'")
        elif code == 0 and not any(d.name == entry for d in STANDARD["dhcp6"]):
            problem = (f"unable to find option code for the  specified option name '{entry}' while parsing the list "
                       "of enabled relay-supplied-options")
        else:
            continue
        raise KeaRefusal(problem, at=(section, key))


_BUILT_IN_CLASSES = ("ALL", "KNOWN", "UNKNOWN", "BOOTP")


def _kea_client_classes(classes: list[Any], family: int, options: OptionDefinitions, *, raw_utf8: bool) -> None:
    """Kea's client class parser, class by class: the name, the `test` expression, the class's
    own option definitions and option data, its values, the built-in classes' rules and no name
    twice."""
    names: set[str] = set()
    held_names: set[str] = set()  # the same, as Kea's bytes (what `member()` names are compared with)
    for index, entry in enumerate(classes):
        if not isinstance(entry, dict):
            raise KeaRefusal(NOT_A_MAP_GET, at=(classes, index))
        if "name" not in entry:
            raise KeaRefusal("missing parameter 'name'", at=(entry, None))
        name = entry["name"]
        if not isinstance(name, str):
            raise _invalid_type(entry, "name")
        if not name:
            raise KeaRefusal("not empty parameter 'name' is required", at=(entry, "name"), form="{})")
        test = entry.get("test", "")
        if not isinstance(test, str):
            from app.kea_json import dumps

            raise KeaRefusal(f"expression [{dumps(test).decode()}] must be a string, at", at=(entry, "test"))
        if "test" in entry:
            _kea_class_test(test, family, options, held_names, raw_utf8, entry)
        own = _kea_option_defs(entry.get("option-def", []), family, class_defs=True)
        if "option-data" in entry:
            if not isinstance(entry["option-data"], list):
                raise KeaRefusal(NOT_A_LIST, at=(entry, "option-data"))
            _kea_option_data(entry, family, OptionDefinitions(own + options.custom))
        if "user-context" in entry and not isinstance(entry["user-context"], dict):
            raise KeaRefusal("User context has to be a map", at=(entry, "user-context"))
        required = entry.get("only-if-required", False)
        if not isinstance(required, bool):
            raise _invalid_type(entry, "only-if-required")
        _kea_class_boot_fields(entry, raw_utf8)
        for lifetime in ("valid-lifetime",) + (("preferred-lifetime",) if family == 6 else ()):
            _kea_triplet(entry, lifetime)
        if name in _BUILT_IN_CLASSES:
            if required:
                raise KeaRefusal(f"built-in class '{name}' only-if-required flag must be false")
            if test:
                raise KeaRefusal(f"built-in class '{name}' test expression must be empty")
        if name == "DROP" and required:
            raise KeaRefusal(f"special class '{name}' only-if-required flag must be false")
        if name in names:
            raise KeaRefusal(f"Can't add class: Client Class: {name} has already been defined", at=(entry, None))
        names.add(name)
        held_names.add(_kea_text(name, raw_utf8))


_BUILT_IN_PREFIXES = ("VENDOR_CLASS_", "HA_", "AFTER_", "EXTERNAL_")


def _kea_class_test(test: str, family: int, options: OptionDefinitions, defined: set[str], raw_utf8: bool,
                    entry: dict[str, Any]) -> None:
    """A class's `test` expression, read as Kea's expression parser reads it (app/kea_expressions):
    its grammar, option codes and names, and `member()` of only the classes built in or defined
    before this one (`defined`, as Kea's bytes)."""
    from app.kea_expressions import ExpressionError, check_expression

    space = f"dhcp{family}"

    def option_code(name: str) -> int | None:
        found = options.find(family, space, None, name)
        return found.code if found is not None else None

    def class_defined(name: str) -> bool:
        return name in _BUILT_IN_CLASSES or name.startswith(_BUILT_IN_PREFIXES) or name in defined

    held = _kea_text(test, raw_utf8)
    try:
        check_expression(held, family, option_code, class_defined)
    except ExpressionError as error:
        raise KeaRefusal(f"expression: [{held}] error: {error} at", at=(entry, "test")) from None


def _kea_class_boot_fields(entry: dict[str, Any], raw_utf8: bool) -> None:
    """A client class's next-server, server-hostname and boot-file-name, as Kea's class parser
    reads them (its own texts, not the subnet parser's)."""
    for key in ("next-server", "server-hostname", "boot-file-name"):
        if key in entry and not isinstance(entry[key], str):
            raise _invalid_type(entry, key)
    if "next-server" in entry:
        text = entry["next-server"]
        try:
            address = _address(text)
        except KeaRefusal:
            raise KeaRefusal(f"Invalid next-server value specified: '{text}'", at=(entry, "next-server")) from None
        if address.version != 4:
            raise KeaRefusal(f"Invalid next-server value: '{text}', must be IPv4 address", at=(entry, "next-server"))
        if int(address) == 0xFFFFFFFF:
            raise KeaRefusal(f"Invalid next-server value: '{text}', must not be a broadcast", at=(entry, "next-server"))
    for key, longest in (("server-hostname", 63), ("boot-file-name", 127)):
        if key in entry:
            size = _kea_bytes(entry[key], raw_utf8)
            # Kea's class parser takes 128 bytes of file name while saying 127, as its subnet parser
            if size > longest + (1 if key == "boot-file-name" else 0):
                raise KeaRefusal(f"{key} must be at most {longest} bytes long, it is {size}", at=(entry, key))


def _kea_triplet(scope: dict[str, Any], name: str) -> None:
    """Kea's parseIntTriplet: a lifetime with its min- and max- bounds, none inherited."""
    keys = (name, f"min-{name}", f"max-{name}")
    for key in keys:
        if key in scope and not _is_kind(scope[key], _INT):
            raise _invalid_type(scope, key)
    value, low, high = (None if k not in scope else scope[k] % (1 << 32) for k in keys)
    if value is None and low is not None and high is not None:
        raise KeaRefusal(f"have min-{name} and max-{name} but no {name} (default) in", at=(scope, None), form="{}")
    _lifetime_within_bounds(name, value, low, high)


def _kea_option_defs(entries: Any, family: int, *, class_defs: bool = False) -> list[OptionDefinition]:
    """Kea's option definition parser on an `option-def` list (global, or a client class's):
    each entry's keys, values and consistency, then no code or name twice in a space and none of
    a standard option."""
    found: list[OptionDefinition] = []
    if not isinstance(entries, list):
        return found  # its type was checked with the containers Kea's defaults walk into
    for index, entry in enumerate(entries):
        if not isinstance(entry, dict):
            raise KeaRefusal(NOT_A_MAP_GET, at=(entries, index))
        _check_keys(entry, _OPTION_DEF_KEYWORDS)
        try:
            definition = parse_definition(entry, family)
            if class_defs and not (definition.space == "dhcp4" and (definition.code == 43
                                                                     or 224 <= definition.code <= 254)):
                # a class may define only the options Kea unpacks late: v4 43 and 224..254
                raise KeaRefusal(f"Not allowed option definition for code '{definition.code}' in space "
                                 f"'{definition.space}' at", at=(entry, None))
            add_definition(found, definition, entry)
        except OptionRefusal as exc:
            raise KeaRefusal(exc.text, at=exc.at) from None
    return found


def _inherit(scope: dict[str, Any], parent: dict[str, Any], keywords: dict[str, str]) -> dict[str, Any]:
    merged = dict(scope)
    for key, value in parent.items():
        if key in keywords and key not in _NOT_INHERITED and key not in merged:
            merged[key] = value
    return merged


def _lifetime_bounds(scope: dict[str, Any], family: int, names: tuple[str, ...] = ()) -> None:
    # Kea's min/default/max check of each lifetime (`names`, default all of the family's),
    # values read as 32-bit unsigned numbers
    for name in names or (("preferred-lifetime",) if family == 6 else ()) + ("valid-lifetime",):
        value, low, high = (scope.get(key) for key in (name, f"min-{name}", f"max-{name}"))
        if not all(v is None or _is_kind(v, _INT) for v in (value, low, high)):
            continue  # refused elsewhere, with Kea's type error
        _lifetime_within_bounds(name, *(None if v is None else v % (1 << 32) for v in (value, low, high)))


def _lifetime_within_bounds(name: str, value: int | None, low: int | None, high: int | None) -> None:
    """Kea's comparison of a lifetime (`value`, None when not given) with the bounds given."""
    if low is not None and high is not None and low > high:
        raise KeaRefusal(f"the value of min-{name} ({low}) is not less than max-{name} ({high})")
    if value is None:
        return
    if low is not None and high is not None:
        if not low <= value <= high:
            raise KeaRefusal(f"the value of (default) {name} ({value}) is not between min-{name} ({low}) and "
                              f"max-{name} ({high})")
    elif high is not None and value > high:
        raise KeaRefusal(f"the value of (default) {name} ({value}) is not less than max-{name} ({high})")
    elif low is not None and value < low:
        raise KeaRefusal(f"the value of min-{name} ({low}) is not less than (default) {name} ({value})")


def _convert_failed(text: str) -> str:
    """Kea's IOAddress refusing `text`."""
    return f"Failed to convert string to address '{text}': Invalid argument"


def _address(text: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address:
    try:
        return ipaddress.ip_address(text)
    except ValueError:
        raise KeaRefusal(_convert_failed(text)) from None


def _kea_pool(pool: Any, family: int, named: tuple[Any, Any] | None = None,
              options: OptionDefinitions | None = None) -> tuple[int, int]:
    """Kea's reading of one pool; `named`: the (list, index) Kea names when it is not a map;
    `options`: the definitions its option data is read with (config-test)."""
    if not isinstance(pool, dict):
        raise KeaRefusal(NOT_A_MAP_VALUE, at=named)
    _check_keys(pool, _POOL_KEYWORDS)
    if "pool" not in pool:
        raise KeaRefusal("Mandatory 'pool' entry missing in definition:", at=(pool, None))
    at = (pool, "pool")
    text = "".join(pool["pool"].split())
    bounds: tuple[Any, Any] | None = None
    try:
        if "/" in text:
            addr, length = text.split("/", 1)
            bounds = (ipaddress.ip_address(addr), int(length))
        elif "-" in text:
            first, last = text.split("-", 1)
            bounds = (ipaddress.ip_address(first), ipaddress.ip_address(last))
    except ValueError:
        raise KeaRefusal(f"Failed to parse pool definition: {text}", at=at) from None
    if bounds is None:
        raise KeaRefusal(f"invalid pool definition: {text}. There are two acceptable formats <min address-max address> "
                          "or <prefix/len>", at=at)
    start, end = bounds
    if start.version != family or (isinstance(end, int) and not 0 <= end <= start.max_prefixlen) or (
            not isinstance(end, int) and (end.version != family or int(end) < int(start))):
        raise KeaRefusal(f"Failed to create pool defined by: {text}", at=at)
    if options is not None:
        # Kea's pool parser adds the position of the pool's option-data to whatever fails in it
        _kea_option_data(pool, family, options, wrap=(pool, "option-data"))
    if isinstance(end, int):
        net = ipaddress.ip_network(f"{start}/{end}", strict=False)
        return int(net.network_address), int(net.broadcast_address)
    return int(start), int(end)


def _kea_pd_pool(pool: Any, named: tuple[Any, Any] | None = None,
                 options: OptionDefinitions | None = None) -> tuple[int, int]:
    """Kea's reading of one pd-pool; `named` as for `_kea_pool`."""
    if not isinstance(pool, dict):
        raise KeaRefusal(NOT_A_MAP_VALUE, at=named)
    _check_keys(pool, _PD_POOL_KEYWORDS)
    at = (pool, None)  # Kea names the pd-pool for every problem of its values
    for key in ("prefix", "prefix-len", "delegated-len"):
        if key not in pool:
            raise KeaRefusal(f"missing parameter '{key}'", at=at)
    try:
        prefix = _address(pool["prefix"])
    except KeaRefusal as exc:
        exc.at = at
        raise
    length, delegated = pool["prefix-len"], pool["delegated-len"]
    if prefix.version != 6:
        raise KeaRefusal("Invalid Pool6 address boundaries: not IPv6", at=at)
    if not 0 < length <= 128:
        raise KeaRefusal(f"Invalid prefix length: {length}", at=at)
    if delegated < length:
        raise KeaRefusal(f"Delegated length ({delegated}) must be longer than or equal to prefix length ({length})",
                          at=at)
    if options is not None:
        _kea_option_data(pool, 6, options)
    net = ipaddress.IPv6Network(f"{prefix}/{length}", strict=False)
    return int(net.network_address), int(net.broadcast_address)


def _range_text(first: int, last: int, family: int) -> str:
    return f"{ipaddress.ip_address(first) if family == 4 else ipaddress.IPv6Address(first)}-" \
           f"{ipaddress.ip_address(last) if family == 4 else ipaddress.IPv6Address(last)}"


# Kea 2.2's global defaults of the tee times, which every subnet and network derives: (calculate, t1, t2)
_TEE_DEFAULTS = {4: (False, 0.5, 0.875), 6: (True, 0.5, 0.8)}
_REPLACE_CLIENT_NAME = ("never", "always", "when-present", "when-not-present")


def _cxx_number(value: float) -> str:
    """A double as C++'s ostream prints it by default (six significant digits, no trailing zeros)."""
    return format(value, ".6g")


def _kea_timers(scope: dict[str, Any]) -> None:
    """parseCommon's timers: neither negative, renew not after rebind."""
    renew, rebind = scope.get("renew-timer"), scope.get("rebind-timer")
    for name, value in (("renew-timer", renew), ("rebind-timer", rebind)):
        if value is not None and value < 0:
            raise KeaRefusal(f"the value of {name} ({value}) must be a positive number")
    if renew is not None and rebind is not None and renew > rebind:
        raise KeaRefusal(f"the value of renew-timer ({renew}) is greater than the value of rebind-timer ({rebind})")


def _kea_relay(relay: dict[str, Any], family: int) -> None:
    """Kea's relay parser: `ip-address` or `ip-addresses` (not both), each an address of the family, once."""
    if "ip-address" in relay and "ip-addresses" in relay:
        raise KeaRefusal("specify either ip-address or ip-addresses, not both")
    if "ip-address" not in relay and "ip-addresses" not in relay:
        raise KeaRefusal("ip-addresses is required")
    name = "ip-address" if "ip-address" in relay else "ip-addresses"
    if name == "ip-address":
        if not isinstance(relay[name], str):
            raise _invalid_type(relay, name)
        texts = [relay[name]]
    else:
        if not isinstance(relay[name], list):
            raise KeaRefusal("ip-addresses must be a list", at=(relay, name))
        texts = []
        for index, entry in enumerate(relay[name]):
            if not isinstance(entry, str):
                raise KeaRefusal(NOT_A_STRING, at=(relay[name], index))
            texts.append(entry)
    kind = "IPv4" if family == 4 else "IPv6"
    added: list[Any] = []
    for text in texts:
        address = _c_address(text)
        if address is None:
            raise KeaRefusal(f"address {text} is not a valid: {kind}address", at=(relay, name))
        if address.version != family:
            raise KeaRefusal(f"address {text} is not a: {kind}address", at=(relay, name))
        if address in added:
            raise KeaRefusal(f"cannot add address: {text} to relay info: RelayInfo already contains address: "
                             f"{_c_text(address)}", at=(relay, name))
        added.append(address)


def _unmatched_close(pattern: str) -> bool:
    """A `)` that closes no group (outside bracket expressions and escapes): the C library takes
    it as a character, C++'s std::regex, which Kea uses, refuses it."""
    depth, index = 0, 0
    while index < len(pattern):
        char = pattern[index]
        if char == "\\":
            index += 1
        elif char == "[":
            # a bracket expression ends at the first `]` that is not its first member
            index += 2 if pattern[index + 1:index + 2] == "]" else 1
            if pattern[index:index + 2] == "^]":
                index += 2
            while index < len(pattern) and pattern[index] != "]":
                index += 1
        elif char == "(":
            depth += 1
        elif char == ")":
            if depth == 0:
                return True
            depth -= 1
        index += 1
    return False


def _regex_usable(pattern: str) -> bool:
    """Whether Kea compiles `pattern` as a POSIX extended regular expression: the C library's
    regcomp decides, but for a `)` that closes nothing; True when the C library cannot be asked."""
    if _unmatched_close(pattern):
        return False
    libc = c_library()
    if libc is None or not hasattr(libc, "regcomp"):
        return True
    compiled = ctypes.create_string_buffer(256)  # a regex_t, with room to spare
    if libc.regcomp(compiled, pattern.encode(), 1) != 0:  # REG_EXTENDED
        return False
    libc.regfree(compiled)
    return True


def _kea_network_tail(scope: dict[str, Any], own: dict[str, Any], family: int) -> None:
    """What Kea's subnet and shared-network parsers check last, in its order: tee times (only when
    calculated), the DDNS values read in the scope (`own`: only its own keys, Kea looks the
    globals up at run time), then the cache threshold."""
    calculate, t1_default, t2_default = _TEE_DEFAULTS[family]
    if scope.get("calculate-tee-times", calculate):
        t1, t2 = scope.get("t1-percent", t1_default), scope.get("t2-percent", t2_default)
        if not 0.0 < t2 < 1.0:
            raise KeaRefusal(f"t2-percent:  {_cxx_number(t2)} is invalid, it must be greater than 0.0 and less than 1.0")
        if not 0.0 < t1 < 1.0:
            raise KeaRefusal(f"t1-percent:  {_cxx_number(t1)} is invalid it must be greater than 0.0 and less than 1.0")
        if t1 >= t2:
            raise KeaRefusal(f"t1-percent:  {_cxx_number(t1)} is invalid, it must be less than t2-percent: "
                             f"{_cxx_number(t2)}")
    mode = own.get("ddns-replace-client-name")
    if mode is not None and mode not in _REPLACE_CLIENT_NAME:
        raise KeaRefusal(f"invalid ReplaceClientName mode ({mode}) specified for parameter 'ddns-replace-client-name'",
                         at=(own, "ddns-replace-client-name"))
    char_set = own.get("hostname-char-set", "")
    if char_set and not _regex_usable(char_set):
        raise _NotAConfigError(f"hostname-char-set '{char_set}' is not a valid regular expression")
    threshold = scope.get("cache-threshold")
    if threshold is not None and not 0.0 < threshold < 1.0:
        raise KeaRefusal(f"cache-threshold: {_cxx_number(threshold)} is invalid, it must be greater than 0.0 and "
                         "less than 1.0")


def _kea_bytes(text: str, raw_utf8: bool) -> int:
    """The length of `text` as Kea holds it (`_kea_text`)."""
    return len(_kea_text(text, raw_utf8))


def _kea_text(text: str, raw_utf8: bool) -> str:
    """`text` as Kea holds it, one character per byte: UTF-8 bytes, but a character up to U+00FF
    that the client sent escaped (`\\u00e9`) is the one byte Kea's JSON parser makes of it."""
    if raw_utf8:
        return text.encode(errors="surrogatepass").decode("latin-1")
    if text.isascii():
        return text
    return "".join(char if ord(char) <= 0xFF else char.encode(errors="surrogatepass").decode("latin-1")
                   for char in text)


def _kea_boot_fields(scope: dict[str, Any], raw_utf8: bool) -> None:
    """v4 next-server (an IPv4 address), server-hostname and boot-file-name (their lengths)."""
    server = scope.get("next-server", "")
    if server:
        address = _c_address(server)
        if address is None or address.version != 4:
            raise KeaRefusal(f"invalid parameter next-server : {server}", at=(scope, "next-server"), separator="")
    for name, limit, highest in (("server-hostname", 63, 63), ("boot-file-name", 127, 128)):
        length = _kea_bytes(scope.get(name, ""), raw_utf8)
        if length > highest:  # Kea takes a boot-file-name of 128 bytes although it says 127
            raise KeaRefusal(f"{name} must be at most {limit} bytes long, it is {length}", at=(scope, name))


def _lexical_unsigned(text: str) -> int | None:
    """`text` as C++'s boost::lexical_cast<unsigned int> reads it: digits with an optional sign
    (a minus wraps around), None when it refuses."""
    digits = text[1:] if text[:1] in ("+", "-") else text
    if not (digits.isascii() and digits.isdigit()) or int(digits) > _UINT32_MAX:
        return None
    return (-int(digits) if text[0] == "-" else int(digits)) % (1 << 32)


def _kea_4o6_subnet(scope: dict[str, Any]) -> None:
    """v4 4o6-subnet: `prefix/length`, the length as C++'s lexical_cast reads an unsigned number."""
    text = scope.get("4o6-subnet", "")
    if not text:
        return
    if "/" not in text:
        raise KeaRefusal(f"Missing / in the 4o6-subnet parameter:{text}, expected format: prefix6/length")
    prefix, length = text.split("/", 1)
    if _lexical_unsigned(length) is None:
        raise KeaRefusal(f"Invalid prefix length specified in 4o6-subnet parameter: {text}, expected 0..128 value")
    _kea_ioaddress(prefix)


def _kea_required_classes(scope: dict[str, Any]) -> None:
    classes = scope.get("require-client-classes", [])
    for index, name in enumerate(classes):
        if not isinstance(name, str) or not name:
            raise KeaRefusal("invalid class name", at=(classes, index))


def _kea_interface_present(scope: dict[str, Any], what: str, *, from_file: bool) -> None:
    """Over the control channel, as Kea's config-test: the interface named must exist on this host."""
    name = scope.get("interface", "")
    if name and not from_file:
        host = host_interfaces()
        if host is not None and name not in host:
            raise KeaRefusal(f"Specified network interface name {name} for {what} is not present in the system",
                             at=(scope, "interface"))


class _NotAConfigError(KeaRefusal):
    """An error Kea raises as another exception than DhcpConfigError (a regular expression, the
    table of reservations): a shared network's parser adds the network's position to it."""


class _KeaSubnets:
    """Kea's subnet parser and its table of subnets (ids given out 1, 2, ... to subnets without one)."""

    def __init__(self, family: int, *, from_file: bool = False, raw_utf8: bool = False,
                 unique_addresses: bool = True) -> None:
        self.family = family
        self.from_file = from_file
        self.options = OptionDefinitions()  # the configuration's option-def
        self.hosts = _KeaHosts(family, unique_addresses, self.options)  # every subnet's reservations, and the global ones
        # the client sent non-ASCII characters unescaped; not known of a file, whose lengths are
        # then counted as if escaped, the count that refuses less
        self.raw_utf8 = raw_utf8
        self.next_id = 1
        self.ids: set[int] = set()
        self.prefixes: set[str] = set()

    def parse(self, raw: dict[str, Any], parent: dict[str, Any], where: str = "") -> tuple[int, str]:
        try:
            return self._parse(raw, parent)
        except KeaRefusal as exc:
            exc.where = exc.where or where
            raise

    def _parse(self, raw: dict[str, Any], parent: dict[str, Any]) -> tuple[int, str]:
        family = self.family
        sub = _inherit(raw, parent, _SUBNET_KEYWORDS[family])
        _check_keys(sub, _SUBNET_KEYWORDS[family])
        pool_list = sub.get("pools", [])
        pools = [_kea_pool(pool, family, (pool_list, i), self.options) for i, pool in enumerate(pool_list)]
        pd_list = sub.get("pd-pools", []) if family == 6 else []
        pd_pools = [_kea_pd_pool(pool, (pd_list, i), self.options) for i, pool in enumerate(pd_list)]
        _kea_option_data(raw, family, self.options)
        if "relay" in sub:
            _kea_relay(sub["relay"], family)

        def failed(text: str, at: tuple[Any, Any] | None = (raw, None), separator: str = " ") -> KeaRefusal:
            # Kea names the subnet, or its prefix for a problem of the prefix text; some texts name none
            return KeaRefusal(f"subnet configuration failed: {text}", at=at, separator=separator)

        if "subnet" not in sub:
            raise failed("mandatory 'subnet' parameter is missing for a subnet being configured")
        prefix_at = (raw, "subnet")
        text = sub["subnet"].strip()
        if "/" not in text:
            raise failed(f"Invalid subnet syntax (prefix/len expected):{text}", prefix_at)
        addr_text, len_text = text.split("/", 1)
        try:
            address = _address(addr_text)
        except KeaRefusal as exc:
            raise failed(str(exc), None) from None
        if not len_text.isdigit():
            raise failed(f"prefix length: '{len_text}' is not an integer", prefix_at)
        length = int(len_text)
        if length > address.max_prefixlen:
            raise failed(f"Invalid prefix length specified for subnet: {length}", prefix_at)
        subnet_id = sub.get("id", 0)
        if not 0 <= subnet_id <= _SUBNET_ID_MAX:
            raise failed(f"The 'id' value ({subnet_id}) is not within expected range: (0 - {_SUBNET_ID_MAX})", None)
        prefix = f"{address}/{length}"
        try:
            # Kea's initSubnet: v6 reads the preferred lifetime before it makes the subnet (which
            # refuses a prefix of the other family), then the timers and the valid lifetime
            if family == 6:
                _lifetime_bounds(sub, family, ("preferred-lifetime",))
            if address.version != family:
                raise KeaRefusal(f"Non IPv{family} prefix {address} specified in subnet{family}")
            _kea_timers(sub)
            _lifetime_bounds(sub, family, ("valid-lifetime",))
            # Kea refuses both only when both name something (its all-keys example has "interface-id": "")
            if family == 6 and sub.get("interface") and sub.get("interface-id"):
                raise KeaRefusal("parser error: interface (defined for locally reachable subnets) and interface-id "
                                 "(defined for subnets reachable via relays) cannot be defined at the same time for "
                                 f"subnet {prefix}", at=(raw, None), separator="")
            # then its own values (Kea looks the globals of these up at run time), the tee times,
            # DDNS and caching
            if family == 4:
                _kea_boot_fields(raw, self.raw_utf8)
            _kea_interface_present(raw, f"subnet {prefix}", from_file=self.from_file)
            _kea_required_classes(raw)
            if family == 4:
                _kea_4o6_subnet(raw)
            _kea_network_tail(sub, raw, family)
        except KeaRefusal as exc:
            raise failed(exc.text, exc.at, exc.separator) from None
        net = ipaddress.ip_network(prefix, strict=False)
        low, high = int(net.network_address), int(net.broadcast_address)
        for kind, bounds, inside in (("V4" if family == 4 else "IA_NA", pools, True), ("IA_PD", pd_pools, False)):
            added: list[tuple[int, int]] = []
            for first, last in bounds:
                where = _range_text(first, last, family)
                if inside and not (low <= first <= high and low <= last <= high):
                    raise failed(f"a pool of type {kind}, with the following address range: {where} does not match the "
                                 f"prefix of a subnet: {prefix} to which it is being added")
                if any(first <= b and a <= last for a, b in added):
                    raise failed(f"a pool of type {kind}, with the following address range: {where} overlaps with an "
                                 f"existing pool in the subnet: {prefix} to which it is being added")
                added.append((first, last))
        if not subnet_id:  # Kea numbers a subnet without an id when it makes it
            subnet_id = self.next_id
            self.next_id += 1
        _kea_reservations(sub.get("reservations", []), family, from_file=self.from_file, raw_utf8=self.raw_utf8,
                          table=self.hosts, subnet_id=subnet_id, prefix=net)
        return subnet_id, prefix

    def add(self, subnet_id: int, prefix: str, where: str = "", raw: Any = None) -> None:
        at = None if raw is None else (raw, None)
        if subnet_id in self.ids:
            raise KeaRefusal(f"ID of the new IPv{self.family} subnet '{subnet_id}' is already in use", where, at=at)
        if prefix in self.prefixes:
            raise KeaRefusal(f"subnet with the prefix of '{prefix}' already exists", where, at=at)
        self.ids.add(subnet_id)
        self.prefixes.add(prefix)


_RESERVATION_KEYS = {
    4: {"hw-address", "duid", "circuit-id", "client-id", "flex-id", "ip-address", "hostname", "option-data",
        "next-server", "server-hostname", "boot-file-name", "client-classes", "user-context"},
    6: {"hw-address", "duid", "flex-id", "ip-addresses", "prefixes", "hostname", "option-data", "client-classes",
        "user-context"},
}
_INTERFACES_CONFIG_KEYS = {
    4: {"interfaces", "dhcp-socket-type", "outbound-interface", "re-detect", "service-sockets-require-all",
        "service-sockets-max-retries", "service-sockets-retry-wait-time", "user-context"},
    6: {"interfaces", "re-detect", "service-sockets-require-all", "service-sockets-max-retries",
        "service-sockets-retry-wait-time", "user-context"},
}


def _kea_known_keys(known: set[str], *, from_file: bool) -> set[str]:
    """The keys a parser of Kea's takes: `known`, and a `comment` only in a file (Kea's file parser
    moves it into user-context, the control channel does not)."""
    return known | ({"comment"} if from_file else set())


_MAX_HWADDR_LEN, _MAX_DUID_LEN = 20, 128
_HOST_IDENTIFIER_TEXT = {"hw-address": "hwaddr", "duid": "duid", "circuit-id": "circuit-id", "client-id": "client-id",
                         "flex-id": "flex-id"}
_KEA_SPACE = " \t\n\v\f\r"


def _kea_identifier(text: str) -> bytes | None:
    """A host identifier as Kea reads it: 'quoted text', or hex digits (colon- or space-separated
    bytes of one or two digits, or a run of digits, `0x` allowed); None when it is neither."""
    trimmed = text.strip(_KEA_SPACE)
    if len(trimmed) > 1 and trimmed[0] == trimmed[-1] == "'":
        inner = trimmed[1:-1].strip(_KEA_SPACE)
        if inner:
            return inner.encode()
    separator = ":" if ":" in text else " " if " " in text else None
    if separator is not None:
        tokens = text.split(separator)
        data = bytearray()
        for token in tokens:
            if not token:
                if len(tokens) > 1:
                    return None
                continue
            if len(token) > 2 or any(char not in string.hexdigits for char in token):
                return None
            data.append(int(token, 16))
        return bytes(data)
    digits = text[2:] if len(text) > 2 and text.startswith("0x") else text
    digits = ("0" if len(text) % 2 else "") + digits
    if not digits or any(char not in string.hexdigits for char in digits) or len(digits) % 2:
        return None
    return bytes.fromhex(digits)


def _hex_colons(data: bytes) -> str:
    return ":".join(f"{byte:02x}" for byte in data)


@dataclass
class _KeaHost:
    """What Kea's host reservation parser makes of one reservation (only what its checks use)."""

    kind: str  # the identifier's name
    identifier: bytes
    hostname: str = ""
    address: Any = None  # the IPv4 reservation
    next_server: Any = None
    resources: bool = False  # a server hostname, boot file name, options or client classes
    reservations: list[tuple[bool, Any, int]] = field(default_factory=list)  # (prefix?, address, length)


def _kea_host(entry: dict[str, Any], family: int, *, from_file: bool, raw_utf8: bool,
              options: OptionDefinitions | None = None) -> _KeaHost:
    """Kea's HostReservationParser4/6: the keys in key order (known, one identifier, strings),
    the identifier, then the family's own values in key order."""
    identifiers = sorted(_HOST_IDENTIFIERS[family])
    allowed = _kea_known_keys(_RESERVATION_KEYS[family], from_file=from_file)
    identifier, name, hostname = "", "", ""
    for key in sorted(entry):
        value = entry[key]
        if key not in allowed:
            raise KeaRefusal(f"unsupported configuration parameter '{key}'", at=(entry, None))
        if key in identifiers or key == "hostname":
            if key != "hostname" and identifier:
                raise KeaRefusal(f"the '{key}' and '{name}' are mutually exclusive", at=(entry, None))
            if not isinstance(value, str):
                raise KeaRefusal(NOT_A_STRING, at=(entry, key), also_at=(entry, None))
            if key == "hostname":
                hostname = value
            else:
                identifier, name = value, key
    if not name:
        raise KeaRefusal("one of the supported identifiers must be specified for host reservation: "
                         + ", ".join(identifiers), at=(entry, None))
    if not identifier:
        raise KeaRefusal("empty host identifier used", at=(entry, None))
    data = _kea_identifier(identifier)
    if data is None:
        raise KeaRefusal(f"invalid host identifier value '{identifier}'", at=(entry, None))
    host = _KeaHost(name, data, hostname)
    for key in sorted(entry):
        value = entry[key]
        if key == "option-data":
            if options is not None:
                _kea_option_data(entry, family, options)
            host.resources = host.resources or bool(value)
        elif key == "client-classes":
            if not isinstance(value, list):
                raise KeaRefusal(NOT_A_LIST, at=(entry, key), also_at=(entry, key))
            for index, item in enumerate(value):
                if not isinstance(item, str):
                    raise KeaRefusal(NOT_A_STRING, at=(value, index), also_at=(entry, key))
            host.resources = host.resources or bool(value)
        elif family == 4 and key in ("ip-address", "next-server", "server-hostname", "boot-file-name"):
            _kea_host4_value(host, entry, key, raw_utf8)
        elif family == 6 and key in ("ip-addresses", "prefixes"):
            if not isinstance(value, list):
                raise KeaRefusal(NOT_A_LIST, at=(entry, key))
            for index, item in enumerate(value):
                try:
                    _kea_host6_reservation(host, item, prefix=key == "prefixes")
                except KeaRefusal as exc:
                    # the entry's position; a type error carries its own before it
                    exc.at = (value, index)
                    exc.also_at = (value, index) if exc.text == NOT_A_STRING else None
                    raise
    return host


def _kea_ioaddress(text: str) -> Any:
    address = _c_address(text)
    if address is None:
        raise KeaRefusal(_convert_failed(text))
    return address


def _kea_host4_value(host: _KeaHost, entry: dict[str, Any], key: str, raw_utf8: bool) -> None:
    """One v4 reservation value; an error names the value's position."""
    value = entry[key]
    try:
        if not isinstance(value, str):
            raise KeaRefusal(NOT_A_STRING, at=(entry, key))
        if key == "ip-address":
            address = _kea_ioaddress(value)
            if address.version != 4:
                raise KeaRefusal(f"address '{_c_text(address)}' is not a valid IPv4 address")
            if int(address) in (0, 0xFFFFFFFF):
                raise KeaRefusal(f"must not make reservation for the '{_c_text(address)}' address")
            host.address = address
        elif key == "next-server":
            address = _kea_ioaddress(value)
            if address.version != 4:
                raise KeaRefusal(f"next server address '{_c_text(address)}' is not a valid IPv4 address")
            if int(address) == 0xFFFFFFFF:
                raise KeaRefusal(f"invalid next server address '{_c_text(address)}'")
            host.next_server = address if int(address) else None
        else:
            limit, text = (63, "server hostname length") if key == "server-hostname" else (127, "boot file length")
            if _kea_bytes(value, raw_utf8) > limit:
                raise KeaRefusal(f"{text} must not exceed {limit}")
            host.resources = host.resources or bool(value)
    except KeaRefusal as exc:
        exc.also_at = exc.at  # a type error names the value twice, as Kea
        exc.at = (entry, key)
        raise


def _kea_host6_reservation(host: _KeaHost, item: Any, *, prefix: bool) -> None:
    if not isinstance(item, str):
        raise KeaRefusal(NOT_A_STRING)
    text, length = item, 128
    if prefix:
        slash = item.find("/")
        if slash < 0:
            raise KeaRefusal(f"prefix reservation requires prefix length be specified in '{item}'")
        if slash >= len(item) - 1:
            raise KeaRefusal(f"prefix '{item}' requires length after '/'")
        digits = item[slash + 1:]
        number = _lexical_unsigned(digits)
        if number is None:
            raise KeaRefusal(f"prefix length value '{digits}' is invalid")
        length = number & 0xFF  # Kea keeps 8 bits
        text = item[:slash]
    address = _kea_ioaddress(text)
    if address.version != 6 or address.is_multicast:
        raise KeaRefusal(f"invalid prefix '{_c_text(address)}' for new IPv6 reservation")
    if length > 128:
        raise KeaRefusal(f"invalid prefix length '{length}' for new IPv6 reservation")
    if (prefix, address, length) in host.reservations:
        shown = _c_text(address) + (f"/{length}" if prefix else "")
        raise KeaRefusal(f"failed on attempt to add a duplicated host reservation for {shown}")
    host.reservations.append((prefix, address, length))


class _KeaHosts:
    """Kea's table of host reservations (CfgHosts): what it refuses to add."""

    def __init__(self, family: int, unique_addresses: bool, options: OptionDefinitions | None = None) -> None:
        self.family = family
        self.unique = unique_addresses
        self.options = options  # the definitions reservations' option data is read with
        self.identifiers: set[tuple[int, str, bytes]] = set()
        self.addresses: set[tuple[int, Any]] = set()

    def add(self, host: _KeaHost, subnet_id: int) -> None:
        hwaddr = duid = None
        if host.kind == "hw-address":
            if len(host.identifier) > _MAX_HWADDR_LEN:
                raise _NotAConfigError("address vector size exceeds MAX_HWADDR_LEN")
            hwaddr = _hex_colons(host.identifier)
        elif host.kind == "duid":
            if len(host.identifier) > _MAX_DUID_LEN:
                raise _NotAConfigError(f"DUID size is {len(host.identifier)} bytes, exceeds maximum of {_MAX_DUID_LEN}")
            duid = _hex_colons(host.identifier)
        if not (host.hostname or host.address or host.reservations or host.next_server or host.resources):
            # Kea's text swaps the two names
            which = f"for DUID: hwtype=1 {hwaddr}" if hwaddr else f"for HW address: {duid}" if duid else ""
            raise _NotAConfigError(f"specified reservation {which} must include at least one resource, i.e. "
                                   "hostname, IPv4 address, IPv6 address/prefix, options")
        v = self.family
        key = (subnet_id, host.kind, host.identifier)
        if key in self.identifiers and host.kind in ("hw-address", "duid"):
            named = f"HW address '{hwaddr}'" if hwaddr else f"DUID '{duid}'"
            raise _NotAConfigError(f"failed to add new host using the {named} to the IPv{v} subnet id '{subnet_id}' "
                                   "as this host has already been added")
        who = f"HW address '{hwaddr or '(null)'} and DUID '{duid or '(null)'}' to the IPv{v} subnet id '{subnet_id}'"
        if v == 4:
            if self.unique and host.address is not None and (subnet_id, host.address) in self.addresses:
                raise _NotAConfigError(f"failed to add new host using the {who} for the address {host.address}: "
                                       "There's already a reservation for this address")
            if key in self.identifiers:
                raise _NotAConfigError("failed to add duplicate IPv4 host using identifier: "
                                       f"{_HOST_IDENTIFIER_TEXT[host.kind]}={host.identifier.hex().upper()}")
            if host.address is not None:
                self.addresses.add((subnet_id, host.address))
        else:
            for _, address, _ in host.reservations:
                if self.unique and (subnet_id, address) in self.addresses:
                    raise _NotAConfigError(f"failed to add address reservation for host using the {who} for "
                                           f"address/prefix {_c_text(address)}: There's already reservation for this "
                                           "address/prefix")
                self.addresses.add((subnet_id, address))
        self.identifiers.add(key)


def _kea_reservations(hosts: Any, family: int, *, from_file: bool, raw_utf8: bool = False,
                      table: _KeaHosts | None = None, subnet_id: int = 0, prefix: Any = None) -> None:
    """A reservations list as Kea reads it: every reservation parsed, then one after the other
    checked against its subnet (`prefix`; none for global ones) and added to Kea's table."""
    if not isinstance(hosts, list):
        return
    parsed = []
    for index, entry in enumerate(hosts):
        if not isinstance(entry, dict):
            raise KeaRefusal(NOT_A_MAP_VALUE, at=(hosts, index), also_at=(hosts, index))
        parsed.append(_kea_host(entry, family, from_file=from_file, raw_utf8=raw_utf8,
                                options=table.options if table is not None else None))
    for host in parsed:
        if prefix is not None:
            addresses = [host.address] if family == 4 else [a for is_prefix, a, _ in host.reservations if not is_prefix]
            for address in addresses:
                if address is not None and address not in prefix:
                    raise KeaRefusal(f"specified reservation '{_c_text(address)}' is not within the IPv{family} subnet "
                                     f"'{prefix}'")
        if table is not None:
            table.add(host, subnet_id)


def _kea_interfaces_config(value: Any, family: int, *, from_file: bool) -> None:
    """Kea's interfaces-config parser: `re-detect` first, then every key in key order, the
    interface list selected as Kea's interface configuration selects it."""
    if "re-detect" in value and not isinstance(value["re-detect"], bool):
        raise _invalid_type(value, "re-detect")
    allowed = _kea_known_keys(_INTERFACES_CONFIG_KEYS[family], from_file=from_file)
    for key in sorted(value):
        item = value[key]
        # an accessor's error names the element, and the parser names it once more
        twice: dict[str, Any] = {"at": (value, key), "also_at": (value, key)}
        if key == "interfaces":
            _kea_select_interfaces(value, family, from_file=from_file)
        elif key in ("dhcp-socket-type", "outbound-interface"):
            if family == 6:
                raise KeaRefusal(f"{key} is not supported in DHCPv6", at=(value, key))
            if not isinstance(item, str):
                raise KeaRefusal(NOT_A_STRING, **twice)
            if key == "dhcp-socket-type" and item not in ("raw", "udp"):
                raise KeaRefusal(f"unsupported socket type '{item}'", at=(value, key))
            if key == "outbound-interface" and item not in ("same-as-inbound", "use-routing"):
                raise KeaRefusal(f"unsupported outbound interface type '{item}'", at=(value, key))
        elif key == "service-sockets-require-all":
            if not isinstance(item, bool):
                raise KeaRefusal(NOT_A_BOOL, **twice)
        elif key in ("service-sockets-max-retries", "service-sockets-retry-wait-time"):
            if not _is_kind(item, _INT):
                raise KeaRefusal(NOT_AN_INTEGER, **twice)
        elif key not in allowed:
            raise KeaRefusal(f"unsupported parameter '{key}'", at=(value, key))


def _kea_select_interfaces(config: dict[str, Any], family: int, *, from_file: bool) -> None:
    """Select `interfaces` as Kea does: `name`, `*` or `name/address` (a v4 address to listen on,
    a v6 unicast address), each once. Over the control channel the names and addresses must exist
    on this host, as for Kea's config-test; from a file leasesync does not ask the host (it opens
    no DHCP socket, and a configuration pasted from another host must still start)."""
    entries = config["interfaces"]
    if not isinstance(entries, list):
        raise KeaRefusal(NOT_A_LIST, at=(config, "interfaces"), also_at=(config, "interfaces"))
    host = None if from_file else host_interfaces()
    names: set[str] = set()
    selected: set[tuple[str, Any]] = set()
    wildcard = False
    for index, entry in enumerate(entries):
        def refuse(text: str, index: int = index) -> KeaRefusal:
            return KeaRefusal(f"Failed to select interface: {text}", at=(entries, index), also_at=(entries, None))

        if not isinstance(entry, str):
            raise KeaRefusal(NOT_A_STRING, at=(entries, index), also_at=(entries, None))
        name, slash, address_text = entry.partition("/")
        name = name.strip()
        if not slash:
            if not name:
                raise refuse("empty interface name used in configuration")
            if name == "*":
                if wildcard:
                    raise refuse("the wildcard interface '*' can only be specified once")
                wildcard = True
                continue
            if host is not None and name not in host:
                raise refuse(f"interface '{name}' doesn't exist in the system")
            if name in names or (family == 4 and any(name == other for other, _ in selected)):
                raise refuse(f"interface '{name}' has already been specified")
            names.add(name)
            continue
        address_text = address_text.strip()
        if not name:
            raise refuse("empty interface name specified in the interface configuration")
        if not address_text:
            raise refuse("empty address specified in the interface configuration")
        if name == "*":
            raise refuse("wildcard interface name '*' must not be used in conjunction with an address")
        if host is not None and name not in host:
            raise refuse(f"interface '{name}' doesn't exist in the system")
        address, zoned = _interface_address(address_text)
        if address is None:
            raise refuse(_convert_failed(address_text))
        shown = _c_text(address) + (f"%{zoned}" if zoned else "")
        if family == 4 and address.version != 4:
            raise refuse(f"address '{shown}' is not a valid IPv4 address")
        if family == 6 and (address.version != 6 or address.is_multicast):
            raise refuse(f"address '{shown}' is not a valid IPv6 unicast address")
        # a zone is kept only on a link-local address, and the host's addresses carry none
        if host is not None and (zoned or address not in host[name]):
            raise refuse(f"interface '{name}' doesn't have address '{shown}' assigned")
        if family == 4 and name in names:
            raise refuse(f"interface '{name}' has already been selected")
        if (name, address) in selected:
            raise refuse(f"must not select address '{shown}' for interface '{name}' because this address is "
                         "already selected")
        selected.add((name, address))


def _interface_address(text: str) -> tuple[Any, str]:
    """An `interfaces` entry's address as the C library reads it, and its zone when the address is
    link-local (elsewhere a zone is dropped); (None, "") when it is no address."""
    address_part, _, zone = text.partition("%")
    for family in (socket.AF_INET, socket.AF_INET6):
        try:
            packed = socket.inet_pton(family, address_part if family == socket.AF_INET6 else text)
        except OSError:
            continue
        address = ipaddress.ip_address(packed)
        return address, zone if address.version == 6 and address.is_link_local else ""
    return None, ""


def _kea_multi_threading(section: dict[str, Any]) -> None:
    """Kea's multi-threading parser: the switch, then each size's type and bounds."""
    config = section["multi-threading"]
    if not isinstance(config, dict):
        raise KeaRefusal(NOT_A_MAP_GET, at=(section, "multi-threading"))
    if "enable-multi-threading" in config and not isinstance(config["enable-multi-threading"], bool):
        raise _invalid_type(config, "enable-multi-threading")
    for key, what in (("thread-pool-size", "thread pool size"), ("packet-queue-size", "packet queue size")):
        value = _kea_integer(config, key)
        if value is None:
            continue
        if value < 0:
            raise KeaRefusal(f"{what} code must not be negative", at=(config, key))
        if value > 0xFFFF:
            raise KeaRefusal(f"invalid {what} '{value}', it must not be greater than '65535'", at=(config, key))


def _kea_host_identifiers(section: dict[str, Any], family: int) -> None:
    """Kea's host-reservation-identifiers parser: known names of the family, each once, at least one."""
    names = section["host-reservation-identifiers"]
    if not isinstance(names, list):
        raise KeaRefusal(NOT_A_LIST, at=(section, "host-reservation-identifiers"))
    for index, name in enumerate(names):
        if not isinstance(name, str):
            raise KeaRefusal(NOT_A_STRING, at=(names, index))
        if name not in _HOST_IDENTIFIERS[family]:
            raise KeaRefusal(f"unsupported identifier '{name}'", at=(names, index))
        if name in names[:index]:
            raise KeaRefusal(f"duplicate host identifier '{name}'", at=(names, index))
    if not names:
        raise KeaRefusal("'host-reservation-identifiers' list must not be empty",
                         at=(section, "host-reservation-identifiers"))


def _kea_db_access(value: dict[str, Any], types: tuple[str, ...], *, from_file: bool) -> None:
    """Kea's database access parser (lease and host databases): every key's type in key order,
    then `type` present and known, then the ranges in Kea's order."""
    for key in sorted(set(value) - _DB_OWN_KEYS):
        kind = _INT if key in _DB_INTEGERS else _BOOL if key in _DB_BOOLEANS else _STR
        later = _INT if key in _DB_INTEGERS_LATER else _BOOL if key in _DB_BOOLEANS_LATER else None
        if not _is_kind(value[key], kind) and not (from_file and later and _is_kind(value[key], later)):
            raise KeaRefusal(f"invalid value type specified for parameter '{key}'", at=(value, key))
    if "type" not in value:
        raise KeaRefusal("database access parameters must include the keyword 'type' to determine type of "
                         "database to be accessed", at=(value, None))
    if value["type"] not in types:
        raise KeaRefusal(f"unknown backend database type: {value['type']}", at=(value, "type"))
    for key, lowest, highest, text in _DB_RANGES:
        number = value.get(key)
        if number is not None and (number < lowest or (highest is not None and number > highest)):
            raise KeaRefusal(text.format(value=number), at=(value, key))


# Kea 2.2's expired-leases-processing keys, in the order its parser reads them, with their maxima
_EXPIRATION_LIMITS = (("reclaim-timer-wait-time", 0xFFFF), ("flush-reclaimed-timer-wait-time", 0xFFFF),
                      ("hold-reclaimed-time", _UINT32_MAX), ("max-reclaim-leases", _UINT32_MAX),
                      ("max-reclaim-time", 10000), ("unwarned-reclaim-cycles", 0xFFFF))


def _kea_expiration(value: dict[str, Any]) -> None:
    """Kea's expired-leases-processing parser: each known key an integer within its limits (other
    keys are not read)."""
    for key, highest in _EXPIRATION_LIMITS:
        number = _kea_integer(value, key)
        if number is None:
            continue
        if number < 0:
            raise KeaRefusal(f"value for configuration parameter '{key}' must not be negative", at=(value, key))
        if number > highest:
            raise KeaRefusal(f"out range value '{number}' for configuration parameter '{key}', expected maximum "
                             f"value of '{highest}'", at=(value, key))


def _kea_queue_control(value: dict[str, Any]) -> None:
    """Kea's dhcp-queue-control parser, after its defaults (enable-queue false, queue-type the
    family's ring): enable-queue a boolean and, when true, queue-type a string."""
    enabled = value.get("enable-queue", False)
    if not isinstance(enabled, bool):
        raise _invalid_type(value, "enable-queue")
    if enabled and "queue-type" in value and not isinstance(value["queue-type"], str):
        raise KeaRefusal("queue-type must be a string")


def _db_access_string(entry: dict[str, Any]) -> str:
    """Kea's database access string of a database map: `key=value` in key order, empty values left
    out, a value with a blank in apostrophes."""
    pairs = []
    for key, value in sorted(entry.items()):
        text = ("true" if value else "false") if isinstance(value, bool) else str(value)
        if text:
            pairs.append(f"{key}='{text}'" if any(c in text for c in " \t") else f"{key}={text}")
    return " ".join(pairs)


def _parse_db_access_string(access: str) -> dict[str, str]:
    """The parameters Kea 2.2 reads back from an access string (DatabaseConnection::parse): only a
    password may hold blanks; every other blank separates two `name=value` tokens."""
    params: dict[str, str] = {}
    prefix = "password='"
    start = access.find(prefix)
    if start >= 0:
        end = access.find("'", start + len(prefix))
        if end < 0:
            raise KeaRefusal("Apostrophe (') expected at the end of password")
        params["password"] = access[start + len(prefix):end]
        access = (access[:start] + access[end + 2:]).strip()  # Kea erases the blank after it too
        if not access:
            return params
    for token in access.replace("\t", " ").split(" "):  # two blanks in a row make an empty token
        name, equals, value = token.partition("=")
        if not equals:
            raise KeaRefusal(f"Cannot parse {token}, expected format is name=value")
        params.setdefault(name, value)
    return params


def _kea_config_control(value: dict[str, Any]) -> None:
    """Kea's config-control parser: config-databases a list of distinct database access maps, then
    config-fetch-wait-time within 0..65535. Other than its own refusals, an error also names the
    config-control map's position."""
    if "config-databases" in value:
        databases = value["config-databases"]
        if not isinstance(databases, list):
            raise KeaRefusal("config-databases must be a list", at=(value, "config-databases"))
        seen: list[dict[str, str]] = []
        for index, entry in enumerate(databases):
            if not isinstance(entry, dict):
                raise KeaRefusal(NOT_A_MAP_VALUE, at=(databases, index), also_at=(value, None))
            try:
                _kea_db_access(entry, _HOST_DB_TYPES, from_file=False)
                access = _db_access_string(entry)
                params = _parse_db_access_string(access)
            except KeaRefusal as exc:
                if exc.at is None:
                    exc.at = (value, None)
                else:
                    exc.also_at = (value, None)
                raise
            if params in seen:
                raise KeaRefusal(f"database with access parameters: {access} already exists", at=(value, None))
            seen.append(params)
    if "config-fetch-wait-time" in value:
        wait = value["config-fetch-wait-time"]
        if not _is_kind(wait, _INT):
            refusal = _invalid_type(value, "config-fetch-wait-time")
            refusal.also_at = (value, None)
            raise refusal
        if not 0 <= wait <= 0xFFFF:
            raise KeaRefusal(f"The 'config-fetch-wait-time' value ({wait}) is not within expected range: "
                             "(0 - 65535)", at=(value, None))


def _kea_dhcp_ddns(ddns: dict[str, Any]) -> None:
    """Kea's D2 client parser: `enable-updates` required; then server-ip, server-port, sender-ip
    (its type), sender-port, max-queue-size, ncr-protocol, ncr-format, in that order; then the
    sender's address, and the combination as Kea's D2 client configuration checks it. Other keys
    are not read here (the file grammar refuses unknown ones; over the channel they pass)."""
    if "enable-updates" not in ddns:
        raise KeaRefusal("missing parameter 'enable-updates'", at=(ddns, None))

    if not isinstance(ddns["enable-updates"], bool):
        raise _invalid_type(ddns, "enable-updates")
    server_ip: Any = ipaddress.IPv4Address("127.0.0.1")
    if "server-ip" in ddns:
        if not isinstance(ddns["server-ip"], str):
            raise _invalid_type(ddns, "server-ip")
        server_ip = _c_address(ddns["server-ip"])
        if server_ip is None:
            text = ddns["server-ip"]
            raise KeaRefusal(f"Failed to convert '{text}' to address: {_convert_failed(text)}", at=(ddns, "server-ip"),
                             separator="")
    numbers: dict[str, int | None] = {"server-port": 53001, "sender-port": 0, "max-queue-size": 1024}
    for key in ("server-port", "sender-ip", "sender-port", "max-queue-size", "ncr-protocol", "ncr-format"):
        if key not in ddns:
            continue
        value = ddns[key]
        if key in numbers:
            numbers[key] = _kea_unsigned(ddns, key, _UINT32_MAX)  # present: never None
        elif not isinstance(value, str):
            raise _invalid_type(ddns, key)
        elif key == "ncr-protocol" and value.upper() not in ("UDP", "TCP"):
            raise KeaRefusal(f"invalid NameChangeRequest protocol ({value}) specified for parameter 'ncr-protocol'",
                             at=(ddns, key))
        elif key == "ncr-format" and value.upper() != "JSON":
            raise KeaRefusal(f"invalid NameChangeRequest format ({value}) specified for parameter 'ncr-format'",
                             at=(ddns, key))
    sender_text = ddns.get("sender-ip", "")
    if sender_text:
        sender_ip = _c_address(sender_text)
        if sender_ip is None:
            raise KeaRefusal(f"invalid address ({sender_text}) specified for parameter 'sender-ip'",
                             at=(ddns, "sender-ip"))
    else:
        sender_ip = ipaddress.ip_address("0.0.0.0" if server_ip.version == 4 else "::")

    def d2_error(text: str, key: str) -> KeaRefusal:
        # Kea names the element; a value it filled in itself is at "<default-value>:0:0"
        if key in ddns:
            return KeaRefusal(f"D2ClientConfig error: {text}", at=(ddns, key))
        return KeaRefusal(f"D2ClientConfig error: {text} (<default-value>:0:0)")

    if str(ddns.get("ncr-protocol", "UDP")).upper() == "TCP":
        raise d2_error("NCR Protocol: TCP is not supported.", "ncr-protocol")
    if server_ip.version != sender_ip.version:
        raise d2_error(f"address family mismatch: server-ip: {_c_text(server_ip)} is: IPv{server_ip.version} "
                       f"while sender-ip: {_c_text(sender_ip)} is: IPv{sender_ip.version}", "sender-ip")
    if server_ip == sender_ip and numbers["server-port"] == numbers["sender-port"]:
        raise d2_error(f"server and sender cannot share the exact same IP address/port: "
                       f"{_c_text(server_ip)}/{numbers['server-port']}", "sender-ip")


def _c_address(text: str) -> Any:
    """`text` as an address the way the C library reads it (an IPv6 zone is accepted and
    dropped); None when it is none."""
    address, _ = _interface_address(text)
    return address


def _c_text(address: Any) -> str:
    """`address` as the C library prints it (inet_ntop: "::ffff:127.0.0.1", not "::ffff:7f00:1")."""
    return socket.inet_ntop(socket.AF_INET6 if address.version == 6 else socket.AF_INET, address.packed)


def _hook_library_usable(library: str) -> bool:
    name = os.path.basename(library)
    return name in _OWN_HOOKS or (os.path.isfile(library) and name.startswith("lib") and ".so" in name)


def _kea_hooks(section: dict[str, Any], *, installed: bool = True) -> None:
    hooks = section["hooks-libraries"]
    if not isinstance(hooks, list):
        raise KeaRefusal(NOT_A_LIST, at=(section, "hooks-libraries"))
    libraries: list[str] = []
    for index, hook in enumerate(hooks):
        if not isinstance(hook, dict):
            raise KeaRefusal(NOT_A_MAP_VALUE, at=(hooks, index))
        for key in sorted(hook):
            if key == "library":
                if not isinstance(hook[key], str):
                    raise KeaRefusal("hooks library configuration error: value of 'library' element is not a string "
                                      "giving the path to a hooks library", at=(hook, key))
                if not hook[key].strip():
                    raise KeaRefusal("hooks library configuration error: value of 'library' element must not be blank",
                                      at=(hook, key))
            elif key != "parameters":  # Kea 2.2 takes no comment or user-context here, from a file neither
                raise KeaRefusal(f"unknown hooks library parameter: {key}", at=(hook, None), separator="")
        if "library" not in hook:
            raise KeaRefusal("hooks library configuration error: one or more hooks-libraries elements are missing "
                              "the name of the library", at=(hook, None))
        libraries.append(hook["library"].strip())
    failed = [library for library in libraries if not _hook_library_usable(library)]
    if failed and installed:
        raise KeaRefusal(f"hooks libraries failed to validate - library or libraries in error are: {', '.join(failed)}",
                          at=(hooks, None))


def _kea_shared_network(raw: dict[str, Any], section: dict[str, Any], family: int, subnets: _KeaSubnets,
                        where: str, *, from_file: bool) -> tuple[str, list[tuple[int, str, str]]]:
    """Kea's shared-network parser: the network's name and its subnets (id, prefix, path)."""
    key = f"subnet{family}"
    network = _inherit(raw, section, _NETWORK_KEYWORDS[family])
    _check_keys(network, _NETWORK_KEYWORDS[family])
    if "name" not in network:
        raise KeaRefusal("missing parameter 'name'", at=(raw, None))
    if not network["name"]:
        raise KeaRefusal("Shared-network with subnets  is missing mandatory 'name' parameter")
    # before the subnets: the timers and the valid lifetime (parseCommon), v6 the preferred one,
    # the interface; v6 the required classes
    _kea_timers(network)
    _lifetime_bounds(network, family, ("valid-lifetime",))
    what = f"shared network {network['name']}"
    if family == 6:
        _lifetime_bounds(network, family, ("preferred-lifetime",))
        if raw.get("interface") and raw.get("interface-id"):
            raise KeaRefusal("parser error: interface (defined for locally reachable subnets) and interface-id "
                             f"(defined for subnets reachable via relays) cannot be defined at the same time for {what}",
                             at=(raw, None), separator="")
    _kea_interface_present(raw, what, from_file=from_file)
    _kea_option_data(raw, family, subnets.options, not_a_map_wrap=(raw, None) if family == 4 else None)
    if family == 6:
        _kea_required_classes(raw)
    parsed: list[tuple[int, str, str]] = []
    for index, sub in enumerate(network.get(key, [])):
        at = f"{where}.{key}[{index}]"
        try:
            subnet_id, prefix = subnets.parse(sub, network, at)
        except KeaRefusal as exc:
            # an Element accessor's error inside a network's subnet goes out through the network's
            # parser, which adds the network's position (measured), as to a reservation the
            # table of reservations refuses
            if exc.at is not None and str(exc).endswith(" Element in"):
                exc.also_at = (raw, None)
            elif isinstance(exc, _NotAConfigError) and family == 4:
                exc.at = (raw, None)
            raise
        # the network itself refuses a second subnet with the same id or prefix
        if any(subnet_id == other_id or prefix == other for other_id, other, _ in parsed):
            raise KeaRefusal("can't store subnet because of conflict", at, at=(sub, None))
        parsed.append((subnet_id, prefix, at))
    # after its subnets: v4 its own boot fields and required classes, the relay, the tee times,
    # DDNS and caching; what Kea raises as another error than a configuration error gets the
    # network's position
    try:
        if family == 4:
            _kea_boot_fields(raw, subnets.raw_utf8)
            _kea_required_classes(raw)
        if "relay" in network:
            _kea_relay(network["relay"], family)
        _kea_network_tail(network, raw, family)
    except _NotAConfigError as exc:
        if family == 4:  # v6: every error of the network gets it (_kea_check_family)
            exc.at = (raw, None)
        raise
    return network["name"], parsed


def _kea_check_family(section: dict[str, Any], family: int, *, from_file: bool = False,
                      raw_utf8: bool = False) -> None:
    """Raise KeaRefusal with the text Kea 2.2's kea-dhcp<family> answers config-test with.

    `from_file`: the checks of Kea's start-up from a file instead: a global `comment` is accepted
    (Kea's file parser turns it into user-context) and a hook library need not be installed here
    (leasesync implements lease_cmds and HA itself and loads no other library)."""
    key = f"subnet{family}"
    # the structure Kea walks before parsing anything (defaults, inheritance)
    for name in (key, "shared-networks"):
        if name in section and not isinstance(section[name], list):
            raise KeaRefusal(NOT_A_LIST, at=(section, name))
    for index, network in enumerate(section.get("shared-networks", [])):
        if not isinstance(network, dict):
            raise KeaRefusal(NOT_A_MAP_GET, at=(section["shared-networks"], index))
        if key in network and not isinstance(network[key], list):
            raise KeaRefusal(NOT_A_LIST, at=(network, key))
    subnet_lists = [section.get(key, [])] + [n.get(key, []) for n in section.get("shared-networks", [])]
    for subnets_list in subnet_lists:
        for index, sub in enumerate(subnets_list):
            if not isinstance(sub, dict):
                raise KeaRefusal(NOT_A_MAP_GET, at=(subnets_list, index))
    if "dhcp-ddns" in section and not isinstance(section["dhcp-ddns"], dict):
        raise KeaRefusal("moveDdnsParams dhcp-ddns is not a map")
    containers = {**_GLOBAL_CONTAINERS, **(_V6_GLOBAL_CONTAINERS if family == 6 else {})}

    def wrong_kind(name: str) -> None:
        """`name` of the wrong kind: the text of the Element accessor Kea's parser calls first."""
        if name in section and not isinstance(section[name], containers[name][0]):
            text = containers[name][1]
            # an Element accessor's error names the element; control-socket's own text does not.
            # The config-control and relay-supplied-options parsers add the element's position
            # to any error once more
            again = (section, name) if name in ("config-control", "relay-supplied-options") else None
            raise KeaRefusal(text, at=(section, name) if text.endswith(" in") else None, also_at=again)

    # the containers Kea's defaults walk into (setAllDefaults), in its order
    for name in ("option-def", "option-data", "interfaces-config", "dhcp-queue-control", "multi-threading",
                 "sanity-checks"):
        wrong_kind(name)
    # parseEarly
    if "ip-reservations-unique" in section and not _is_kind(section["ip-reservations-unique"], _BOOL):
        raise _invalid_type(section, "ip-reservations-unique")
    # then one parser after the other, in the order of Kea 2.2's configuration parser
    # (src/bin/dhcp<family>/json_config_parser.cc): option definitions first, then the global
    # option data, which Kea's defaults gave csv-format true
    subnets = _KeaSubnets(family, from_file=from_file, raw_utf8=raw_utf8,
                          unique_addresses=section.get("ip-reservations-unique", True) is not False)
    subnets.options.custom += _kea_option_defs(section.get("option-def", []), family)
    _kea_option_data(section, family, subnets.options, csv_default=True, not_a_map=NOT_A_MAP_GET)
    for name in ("data-directory", "mac-sources", "control-socket"):
        wrong_kind(name)
        if name == "mac-sources" and family == 6 and name in section:
            _kea_mac_sources(section, name)
    if "multi-threading" in section:
        _kea_multi_threading(section)
    if "dhcp-queue-control" in section:
        _kea_queue_control(section["dhcp-queue-control"])
    if "reservations-lookup-first" in section and not isinstance(section["reservations-lookup-first"], bool):
        raise KeaRefusal(NOT_A_BOOL, at=(section, "reservations-lookup-first"))
    wrong_kind("host-reservation-identifiers")
    if "host-reservation-identifiers" in section:
        _kea_host_identifiers(section, family)
    wrong_kind("server-id")
    if family == 6 and "server-id" in section:
        _kea_server_id(section["server-id"])
    if "interfaces-config" in section:
        _kea_interfaces_config(section["interfaces-config"], family, from_file=from_file)
    sanity = section.get("sanity-checks", {})
    if "lease-checks" in sanity:  # Kea names no element here
        if not isinstance(sanity["lease-checks"], str):
            raise KeaRefusal("lease-checks must be a string")
        if sanity["lease-checks"] not in _LEASE_CHECKS:
            raise KeaRefusal(f"Unsupported lease-checks value: {sanity['lease-checks']}, supported values are: "
                             f"{', '.join(_LEASE_CHECKS)}")
    wrong_kind("expired-leases-processing")
    if "expired-leases-processing" in section:
        _kea_expiration(section["expired-leases-processing"])
    if "hooks-libraries" in section:
        _kea_hooks(section, installed=not from_file)
    if "dhcp-ddns" in section:
        _kea_dhcp_ddns(section["dhcp-ddns"])
    wrong_kind("client-classes")
    if "client-classes" in section:
        _kea_client_classes(section["client-classes"], family, subnets.options, raw_utf8=raw_utf8)
    if "lease-database" in section:
        if not isinstance(section["lease-database"], dict):
            raise KeaRefusal(NOT_A_MAP_VALUE, at=(section, "lease-database"))
        # memfile is refused later, in leasesync's words
        _kea_db_access(section["lease-database"], _LEASE_DB_TYPES, from_file=from_file)
    wrong_kind("hosts-database")
    if "hosts-database" in section:
        _kea_db_access(section["hosts-database"], _HOST_DB_TYPES, from_file=from_file)
    wrong_kind("hosts-databases")
    for index, entry in enumerate(section.get("hosts-databases", [])):
        if not isinstance(entry, dict):
            raise KeaRefusal(NOT_A_MAP_VALUE, at=(section["hosts-databases"], index))
        _kea_db_access(entry, _HOST_DB_TYPES, from_file=from_file)
    networks: set[str] = set()
    network_subnets: list[tuple[int, str, str]] = []
    for index, raw in enumerate(section.get("shared-networks", [])):
        where = f"shared-networks[{index}]"
        try:
            name, parsed = _kea_shared_network(raw, section, family, subnets, where, from_file=from_file)
        except KeaRefusal as exc:
            if family == 6:
                # Kea's v6 network parser adds the network's position to whatever fails in it
                if exc.at is None:
                    exc.at = (raw, None)
                elif exc.also_at is None:
                    exc.also_at = (raw, None)
            exc.where = exc.where or where
            raise
        if name in networks:
            raise KeaRefusal(f"duplicate network '{name}' found in the configuration", where,
                              at=(section, "shared-networks"))
        networks.add(name)
        network_subnets += parsed
    # Kea copies the networks' subnets among the server's once every network is parsed: an id or
    # prefix that two networks share names no element
    for subnet_id, prefix, at in network_subnets:
        subnets.add(subnet_id, prefix, at)
    for index, raw in enumerate(section.get(key, [])):
        at = f"{key}[{index}]"
        subnets.add(*subnets.parse(raw, section, at), at, raw)
    wrong_kind("reservations")
    if "reservations" in section:
        _kea_reservations(section["reservations"], family, from_file=from_file, raw_utf8=raw_utf8,
                          table=subnets.hosts, subnet_id=0)
    wrong_kind("config-control")
    if "config-control" in section:
        _kea_config_control(section["config-control"])
    wrong_kind("relay-supplied-options")
    if family == 6 and "relay-supplied-options" in section:
        _kea_relay_supplied_options(section, "relay-supplied-options")
    wrong_kind("compatibility")
    for name, value in sorted(section.get("compatibility", {}).items()):
        if name == "lenient-option-parsing" and not isinstance(value, bool):
            raise KeaRefusal(NOT_A_BOOL, at=(section["compatibility"], name))
    not_global = _NOT_GLOBAL[family] - ({"comment"} if from_file else set())
    for name in sorted(section):
        if name in not_global or name not in _FAMILY_KEYS:
            raise KeaRefusal(f"unsupported global configuration parameter: {name}", at=(section, name))
    # what Kea checks once everything is parsed
    scalars = {**_GLOBAL_SCALARS, **(_V4_GLOBAL_SCALARS if family == 4 else {})}
    for name in sorted(set(section) & set(scalars)):
        if not _is_kind(section[name], scalars[name]):
            raise _invalid_type(section, name)
        highest = _GLOBAL_SCALAR_RANGES.get(name)
        if highest is not None and not 0 <= section[name] <= highest:
            raise KeaRefusal(f"out of range value ({section[name]}) specified for parameter '{name}'", at=(section, name))
    for name in _GLOBAL_LIFETIMES[family]:
        if name in section and not _is_kind(section[name], _INT):
            raise KeaRefusal(NOT_AN_INTEGER, at=(section, name))
    _lifetime_bounds(section, family)


def kea_config_test(arguments: dict[str, Any], family: int, *, raw_utf8: bool = False) -> KeaRefusal | None:
    """Kea 2.2's kea-dhcp<family> refusal of config-test with these arguments (its text, and the
    element Kea names), None when it accepts them.

    Only the checks leasesync reproduces (see README); leasesync's own parser runs afterwards."""
    name = f"Dhcp{family}"
    if name not in arguments:
        return KeaRefusal(f"Missing mandatory '{name}' parameter.")
    if not isinstance(arguments[name], dict):
        return KeaRefusal(f"'{name}' parameter expected to be a map.")
    others = sorted(key for key in arguments if key != name)
    if others:
        return KeaRefusal(f"Unsupported '{others[0]}' parameter" + "".join(f" (and '{k}')" for k in others[1:]) + ".")
    try:
        _kea_check_family(arguments[name], family, raw_utf8=raw_utf8)
    except KeaRefusal as exc:
        return exc
    return None


# --- whole file ----------------------------------------------------------------------------

@dataclass
class Config:
    agent: AgentConfig
    dhcp4: FamilyConfig | None
    dhcp6: FamilyConfig | None
    raw: dict[str, Any]
    path: Path | None = None
    # the section the agent's settings come from: "LeaseSync", or a kea-ctrl-agent file's
    # "Control-agent" when there is no LeaseSync section (same keys); config-get/-set/-test of
    # the agent are about this one
    agent_section: str = "LeaseSync"

    def family(self, family: int) -> FamilyConfig | None:
        return self.dhcp4 if family == 4 else self.dhcp6


_TOP_KEYS = {"LeaseSync", "Dhcp4", "Dhcp6", "Control-agent", "DhcpDdns", "Logging"}


def parse_config(obj: Any, path: Path | None = None) -> Config:
    base_dir = path.parent if path else Path.cwd()
    obj = _require_map(obj, "")
    _reject_unknown(obj, _TOP_KEYS, "")
    section = agent_section_of(obj)
    agent = parse_agent(obj.get(section, {}), section)
    dhcp4 = parse_family(obj["Dhcp4"], 4, "Dhcp4", base_dir) if "Dhcp4" in obj else None
    dhcp6 = parse_family(obj["Dhcp6"], 6, "Dhcp6", base_dir) if "Dhcp6" in obj else None
    return Config(agent=agent, dhcp4=dhcp4, dhcp6=dhcp6, raw=obj, path=path, agent_section=section)


def agent_section_of(obj: dict[str, Any]) -> str:
    """A kea-ctrl-agent file works as it is: leasesync stands where kea-ctrl-agent stood, on its
    address, with its authentication, TLS and control sockets. A LeaseSync section, when there is
    one, is leasesync's own and wins."""
    return "Control-agent" if "LeaseSync" not in obj and "Control-agent" in obj else "LeaseSync"


def load_config(path: str | Path) -> Config:
    path = Path(path).resolve()
    try:
        text = path.read_text()
    except OSError as exc:
        raise ConfigError(f"cannot read configuration file: {exc.strerror}", str(path)) from None
    try:
        obj, warnings = config_text.parse(text, str(path))
    except config_text.ConfigSyntaxError as exc:
        raise ConfigError(f"configuration syntax error: {exc}") from None
    for warning in warnings:
        log.warning("configuration syntax warning: %s", warning)
    config = parse_config(obj, path)
    if config.agent_section == "LeaseSync" and "Control-agent" in obj:
        log.warning("the Control-agent section is not used: the LeaseSync section configures the agent")
    return config


def default_config(data_dir: Path | None = None) -> Config:
    """The zero-setup configuration of `leasesync serve` without a file."""
    data_dir = data_dir or Path.cwd()
    database = {"type": "sqlite", "name": str(data_dir / "leasesync.db")}
    return parse_config(
        {
            "LeaseSync": {"http-host": "127.0.0.1", "http-port": 8000},
            "Dhcp4": {
                "lease-database": database,
                "valid-lifetime": 4000,
                "subnet4": [{"id": 1, "subnet": "192.0.2.0/24", "pools": [{"pool": "192.0.2.10 - 192.0.2.200"}]}],
            },
            "Dhcp6": {
                "lease-database": database,
                "preferred-lifetime": 3000,
                "valid-lifetime": 4000,
                "subnet6": [{"id": 1, "subnet": "2001:db8:1::/64", "pools": [{"pool": "2001:db8:1::/80"}]}],
            },
        },
        data_dir / "leasesync.json",
    )


REDACTED = "*****"
SECRET_KEYS = {"password", "basic-auth-password", "key-password"}


def redact(value: Any) -> Any:
    """A copy of a config tree with every secret replaced, for config-get and logs."""
    if isinstance(value, dict):
        return {k: (REDACTED if k in SECRET_KEYS and v else redact(v)) for k, v in value.items()}
    if isinstance(value, list):
        return [redact(v) for v in value]
    return value
