"""The `high-availability` hook parameter of Kea 2.2, parsed and validated like Kea does.

`parse_ha_parameters` walks the keys in the same order as Kea's HA config parser, so that the
first error reported for a broken configuration is the one Kea would report, with Kea's text.
Unknown keys are ignored (Kea 2.2 does the same). Errors carry the JSON path of the culprit.
"""

from __future__ import annotations

import base64
import ipaddress
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Any

from app.errors import ConfigError
from app.ha.states import HaState, parse_state
from app.sentinels import MISSING

UINT16_MAX = 0xFFFF
UINT32_MAX = 0xFFFFFFFF


class HaMode(StrEnum):
    LOAD_BALANCING = "load-balancing"
    HOT_STANDBY = "hot-standby"
    PASSIVE_BACKUP = "passive-backup"


class Role(StrEnum):
    PRIMARY = "primary"
    SECONDARY = "secondary"
    STANDBY = "standby"
    BACKUP = "backup"


class PauseMode(StrEnum):
    ALWAYS = "always"
    NEVER = "never"
    ONCE = "once"


@dataclass(frozen=True)
class PeerUrl:
    """A peer URL split like Kea's `Url` class (host is an IP literal, checked in validation)."""

    text: str
    scheme: str  # "http" or "https"
    hostname: str  # as written, IPv6 still in brackets
    port: int  # 0 when absent
    path: str

    @property
    def stripped_hostname(self) -> str:
        """Host without IPv6 brackets: what Kea puts in the `Host:` header (no port)."""
        return self.hostname[1:-1] if self.hostname.startswith("[") else self.hostname

    def __str__(self) -> str:
        port = f":{self.port}" if self.port else ""
        return f"{self.scheme}://{self.hostname}{port}{self.path}"


@dataclass(frozen=True)
class PeerConfig:
    name: str
    url: PeerUrl
    role: Role
    auto_failover: bool = True
    basic_auth_user: str | None = None
    # Effective password (from `basic-auth-password` or read from the password file).
    basic_auth_password: str | None = None
    basic_auth_password_file: str | None = None
    # Per-peer TLS overrides exactly as configured (None = inherit the relationship value).
    trust_anchor: str | None = None
    cert_file: str | None = None
    key_file: str | None = None

    @property
    def is_backup(self) -> bool:
        return self.role is Role.BACKUP

    @property
    def basic_auth_header(self) -> str | None:
        """`Authorization` header value Kea sends to this peer, or None (empty user = no auth)."""
        if not self.basic_auth_user:
            return None
        secret = f"{self.basic_auth_user}:{self.basic_auth_password or ''}"
        return "Basic " + base64.b64encode(secret.encode()).decode("ascii")

    @property
    def log_label(self) -> str:
        """`server2 (http://127.0.0.1:8001/)`, as in Kea's HA log messages."""
        return f"{self.name} ({self.url})"


@dataclass(frozen=True)
class TlsSettings:
    trust_anchor: str
    cert_file: str
    key_file: str


@dataclass(frozen=True)
class MultiThreadingConfig:
    enable_multi_threading: bool = False
    http_dedicated_listener: bool = False
    http_listener_threads: int = 0
    http_client_threads: int = 0


@dataclass(frozen=True)
class HaConfig:
    """One HA relationship (Kea 2.2 allows exactly one). Durations are milliseconds."""

    this_server_name: str
    mode: HaMode
    peers: tuple[PeerConfig, ...]  # sorted by name, the order Kea iterates peers in
    heartbeat_delay: int = 10000
    max_response_delay: int = 60000
    max_ack_delay: int = 10000
    max_unacked_clients: int = 10
    delayed_updates_limit: int = 0
    send_lease_updates: bool = True
    sync_leases: bool = True
    sync_timeout: int = 60000
    sync_page_limit: int = 10000
    wait_backup_ack: bool = False
    require_client_certs: bool = True
    restrict_commands: bool = False
    trust_anchor: str | None = None
    cert_file: str | None = None
    key_file: str | None = None
    multi_threading: MultiThreadingConfig = field(default_factory=MultiThreadingConfig)
    state_pauses: Mapping[HaState, PauseMode] = field(default_factory=dict)

    # --- peers and roles -------------------------------------------------------------
    def peer(self, name: str) -> PeerConfig:
        for peer in self.peers:
            if peer.name == name:
                return peer
        raise KeyError(f"no configuration specified for server {name}")

    def peer_users(self) -> dict[str, str]:
        """The users HA peers authenticate as, each with the peer it stands for. Kea sends a peer
        the `basic-auth-user` of that peer's own entry, so what this server receives carries the
        user of *this* server's entry (attributed to the partner); leasesync peers, and sites
        that use one set of credentials both ways, send their own entry's user."""
        users = {p.basic_auth_user: p.name for p in self.other_peers if p.basic_auth_user}
        this = self.this_peer
        if this.basic_auth_user and this.basic_auth_user not in users:
            sender = self.partner or (self.other_peers[0] if self.other_peers else None)
            if sender is not None:
                users[this.basic_auth_user] = sender.name
        return users

    @property
    def this_peer(self) -> PeerConfig:
        return self.peer(self.this_server_name)

    @property
    def role(self) -> Role:
        return self.this_peer.role

    @property
    def other_peers(self) -> tuple[PeerConfig, ...]:
        return tuple(p for p in self.peers if p.name != self.this_server_name)

    @property
    def partner(self) -> PeerConfig | None:
        """The failover partner: first non-backup peer other than us (None in passive-backup)."""
        for peer in self.other_peers:
            if not peer.is_backup:
                return peer
        return None

    @property
    def backups(self) -> tuple[PeerConfig, ...]:
        return tuple(p for p in self.other_peers if p.is_backup)

    @property
    def primary(self) -> PeerConfig | None:
        return next((p for p in self.peers if p.role is Role.PRIMARY), None)

    @property
    def secondary(self) -> PeerConfig | None:
        return next((p for p in self.peers if p.role is Role.SECONDARY), None)

    @property
    def is_backup(self) -> bool:
        return self.role is Role.BACKUP

    @property
    def is_primary(self) -> bool:
        return self.role is Role.PRIMARY

    @property
    def is_standby(self) -> bool:
        return self.role is Role.STANDBY

    @property
    def sends_heartbeats(self) -> bool:
        """Only non-backup servers in LB/HS mode talk to a partner (heartbeat-delay 0 = never)."""
        return self.mode is not HaMode.PASSIVE_BACKUP and not self.is_backup and self.heartbeat_delay > 0

    @property
    def allows_communication_recovery(self) -> bool:
        return self.mode is HaMode.LOAD_BALANCING and self.delayed_updates_limit > 0

    @property
    def normal_state(self) -> HaState:
        if self.is_backup:
            return HaState.BACKUP
        return {
            HaMode.LOAD_BALANCING: HaState.LOAD_BALANCING,
            HaMode.HOT_STANDBY: HaState.HOT_STANDBY,
            HaMode.PASSIVE_BACKUP: HaState.PASSIVE_BACKUP,
        }[self.mode]

    def pause_for(self, state: HaState) -> PauseMode:
        return self.state_pauses.get(state, PauseMode.NEVER)

    def tls_for(self, peer: PeerConfig) -> TlsSettings | None:
        """Effective TLS settings of a peer (per-peer values override the relationship ones)."""
        ca = peer.trust_anchor if peer.trust_anchor is not None else self.trust_anchor
        cert = peer.cert_file if peer.cert_file is not None else self.cert_file
        key = peer.key_file if peer.key_file is not None else self.key_file
        if not (ca or cert or key):
            return None
        return TlsSettings(ca or "", cert or "", key or "")

    def startup_warnings(self) -> list[tuple[str, str]]:
        """(Kea message id, text) of the warnings Kea logs after a successful configuration."""
        out: list[tuple[str, str]] = []
        if not self.send_lease_updates:
            out.append(("HA_CONFIG_LEASE_UPDATES_DISABLED", "lease updates will not be generated"))
        if not self.sync_leases:
            out.append(
                (
                    "HA_CONFIG_LEASE_SYNCING_DISABLED",
                    "lease database synchronization between HA servers is disabled",
                )
            )
        if self.send_lease_updates != self.sync_leases:
            out.append(
                (
                    "HA_CONFIG_LEASE_UPDATES_AND_SYNCING_DIFFER",
                    f'unusual configuration where "send-lease-updates": {str(self.send_lease_updates).lower()}'
                    f' and "sync-leases": {str(self.sync_leases).lower()}',
                )
            )
        if not self.this_peer.auto_failover:
            out.append(
                (
                    "HA_CONFIG_AUTO_FAILOVER_DISABLED",
                    f"auto-failover disabled for {self.this_server_name}",
                )
            )
        return out


# --------------------------------------------------------------------------------------
# Parsing
# --------------------------------------------------------------------------------------

PasswordFileReader = Callable[[str], str]


def _read_password_file(file_name: str) -> str:
    try:
        return Path(file_name).read_text()
    except OSError as exc:
        raise ValueError(f"Expected a file at path '{file_name}'") from exc


class _Scope:
    """A JSON map being parsed plus its path, with Kea's SimpleParser getters."""

    def __init__(self, data: dict[str, Any], path: str) -> None:
        self.data = data
        self.path = path

    def at(self, key: str) -> str:
        return f"{self.path}/{key}"

    def error(self, message: str, key: str | None = None) -> ConfigError:
        return ConfigError(message, self.at(key) if key else self.path)

    def get(self, key: str, default: object = MISSING) -> object:
        value = self.data.get(key, default)
        if value is MISSING:
            raise self.error(f"missing parameter '{key}'")
        return value

    def string(self, key: str, default: object = MISSING) -> str:
        value = self.get(key, default)
        if not isinstance(value, str):
            raise self.error(f"invalid type specified for parameter '{key}'", key)
        return value

    def boolean(self, key: str, default: object = MISSING) -> bool:
        value = self.get(key, default)
        if not isinstance(value, bool):
            raise self.error(f"invalid type specified for parameter '{key}'", key)
        return value

    def unsigned(self, key: str, maximum: int, default: object = MISSING) -> int:
        value = self.get(key, default)
        # JSON true/false are not integers for Kea (Python's bool is an int subclass).
        if not isinstance(value, int) or isinstance(value, bool):
            raise self.error(f"invalid type specified for parameter '{key}'", key)
        if value < 0:
            raise self.error(f"'{key}' must not be negative", key)
        if value > maximum:
            raise self.error(f"'{key}' must not be greater than {maximum}", key)
        return value

    def optional_string(self, key: str) -> str | None:
        return self.string(key) if key in self.data else None


def parse_peer_url(text: str) -> PeerUrl | str:
    """Split a URL like Kea's `Url::parse`; returns the error message when it is invalid."""
    colon = text.find(":")
    if colon <= 0:
        return f"url {text} lacks http or https scheme"
    scheme = text[:colon]
    if scheme not in ("http", "https"):
        return f"invalid scheme {scheme} in {text}"
    if text[colon : colon + 3] != "://":
        return f"expected :// after scheme in {text}"
    start = colon + 3
    if start >= len(text):
        return f"hostname missing in {text}"
    if text[start] == "[":
        close = text.find("]", start)
        if close < 0:
            return f"expected ] after IPv6 address in {text}"
        if close == start + 1:
            return f"expected IPv6 address within [] in {text}"
        end = close + 1
    else:
        end = text.find(":", start)
        if end < 0:
            end = text.find("/", start)
            if end < 0:
                end = len(text)
    hostname = text[start:end]
    port = 0
    rest = text[end:]
    if rest.startswith(":"):
        if end == len(text) - 1:
            return f"expected port number after : in {text}"
        slash = text.find("/", end + 1)
        port_text = text[end + 1 :] if slash < 0 else text[end + 1 : slash]
        if not port_text.isdigit() or int(port_text) > UINT32_MAX:
            return f"invalid port number {port_text} in {text}"
        port = int(port_text)
        rest = "" if slash < 0 else text[slash:]
    return PeerUrl(text=text, scheme=scheme, hostname=hostname, port=port, path=rest)


def parse_ha_parameters(
    params: object,
    path: str,
    read_password_file: PasswordFileReader = _read_password_file,
) -> HaConfig:
    """Parse the `high-availability` list into an `HaConfig`, raising `ConfigError` like Kea.

    `path` is the JSON path of the list itself (e.g. `Dhcp4/hooks-libraries[1]/parameters/
    high-availability`); errors point below it.
    """
    if params is None:
        raise ConfigError("HA configuration must not be null", path)
    if not isinstance(params, list):
        raise ConfigError("HA configuration must be a list", path)
    if len(params) != 1:
        raise ConfigError(
            "invalid number of configurations in the HA configuration list. Expected exactly one configuration",
            path,
        )
    raw = params[0]
    rel_path = f"{path}[0]"
    if not isinstance(raw, dict):
        raise ConfigError("expected list of maps in the HA configuration", rel_path)
    c = _Scope(raw, rel_path)

    mode_text = c.string("mode")
    try:
        mode = HaMode(mode_text)
    except ValueError:
        raise c.error(f"unsupported value '{mode_text}' for mode parameter", "mode") from None
    # The only mode-dependent default: load-balancing queues up to 100 updates.
    delayed_default = 100 if mode is HaMode.LOAD_BALANCING else 0

    if "peers" not in raw:
        raise c.error("'peers' parameter missing in HA configuration")
    peers_raw = raw["peers"]
    if not isinstance(peers_raw, list):
        raise c.error("'peers' parameter must be a list", "peers")

    states_raw: list[Any] | None = None
    if "state-machine" in raw:
        sm = raw["state-machine"]
        if not isinstance(sm, dict):
            raise c.error("'state-machine' parameter must be a map", "state-machine")
        if "states" in sm:
            if not isinstance(sm["states"], list):
                raise c.error("'states' parameter must be a list", "state-machine/states")
            states_raw = sm["states"]

    this_name = c.string("this-server-name").strip()
    if not this_name:
        raise c.error("'this-server-name' value must not be empty", "this-server-name")

    send_lease_updates = c.boolean("send-lease-updates", True)
    sync_leases = c.boolean("sync-leases", True)
    sync_timeout = c.unsigned("sync-timeout", UINT32_MAX, 60000)
    sync_page_limit = c.unsigned("sync-page-limit", UINT32_MAX, 10000)
    delayed_updates_limit = c.unsigned("delayed-updates-limit", UINT32_MAX, delayed_default)
    heartbeat_delay = c.unsigned("heartbeat-delay", UINT16_MAX, 10000)
    max_response_delay = c.unsigned("max-response-delay", UINT16_MAX, 60000)
    max_ack_delay = c.unsigned("max-ack-delay", UINT16_MAX, 10000)
    max_unacked_clients = c.unsigned("max-unacked-clients", UINT32_MAX, 10)
    wait_backup_ack = c.boolean("wait-backup-ack", False)

    mt_raw = raw.get("multi-threading", {})
    if not isinstance(mt_raw, dict):
        raise c.error("multi-threading configuration must be a map", "multi-threading")
    mt = _Scope(mt_raw, c.at("multi-threading"))
    multi_threading = MultiThreadingConfig(
        enable_multi_threading=mt.boolean("enable-multi-threading", False),
        http_dedicated_listener=mt.boolean("http-dedicated-listener", False),
        http_listener_threads=mt.unsigned("http-listener-threads", UINT32_MAX, 0),
        http_client_threads=mt.unsigned("http-client-threads", UINT32_MAX, 0),
    )

    trust_anchor = c.optional_string("trust-anchor")
    cert_file = c.optional_string("cert-file")
    key_file = c.optional_string("key-file")
    require_client_certs = c.boolean("require-client-certs", True)
    restrict_commands = c.boolean("restrict-commands", False)

    peers: dict[str, PeerConfig] = {}
    peer_paths: dict[str, str] = {}
    # Kea's Url parses lazily: a bad URL is reported by validation, in peer-name order.
    url_errors: dict[str, str] = {}
    for index, peer_raw in enumerate(peers_raw):
        peer_path = c.at(f"peers[{index}]")
        if not isinstance(peer_raw, dict):
            raise ConfigError("peer configuration must be a map", peer_path)
        peer, url_error = _parse_peer(_Scope(peer_raw, peer_path), peers, read_password_file)
        peers[peer.name] = peer
        if url_error is not None:
            url_errors[peer.name] = url_error
        peer_paths[peer.name] = peer_path

    pauses: dict[HaState, PauseMode] = {}
    for index, state_raw in enumerate(states_raw or []):
        state_path = c.at(f"state-machine/states[{index}]")
        if not isinstance(state_raw, dict):
            raise ConfigError("state configuration must be a map", state_path)
        s = _Scope(state_raw, state_path)
        state_name = s.string("state")
        try:
            state = parse_state(state_name)
        except ValueError as exc:
            raise s.error(str(exc), "state") from None
        if state in pauses:
            raise s.error(f"duplicated configuration for the '{state_name}' state", "state")
        pause_text = s.string("pause", "never")
        try:
            pauses[state] = PauseMode(pause_text)
        except ValueError:
            raise s.error(f"unsupported value {pause_text} of 'pause' parameter", "pause") from None

    config = HaConfig(
        this_server_name=this_name,
        mode=mode,
        peers=tuple(peers[name] for name in sorted(peers)),
        heartbeat_delay=heartbeat_delay,
        max_response_delay=max_response_delay,
        max_ack_delay=max_ack_delay,
        max_unacked_clients=max_unacked_clients,
        delayed_updates_limit=delayed_updates_limit,
        send_lease_updates=send_lease_updates,
        sync_leases=sync_leases,
        sync_timeout=sync_timeout,
        sync_page_limit=sync_page_limit,
        wait_backup_ack=wait_backup_ack,
        require_client_certs=require_client_certs,
        restrict_commands=restrict_commands,
        trust_anchor=trust_anchor,
        cert_file=cert_file,
        key_file=key_file,
        multi_threading=multi_threading,
        state_pauses=pauses,
    )
    _validate(config, rel_path, peer_paths, url_errors)
    return config


def _parse_peer(
    p: _Scope, seen: Mapping[str, PeerConfig], read_password_file: PasswordFileReader
) -> tuple[PeerConfig, str | None]:
    """One `peers[]` entry; also returns the URL error (reported later, in validation)."""
    name = p.string("name").strip()
    if name in seen:
        raise p.error(f"peer with name '{name}' already specified", "name")
    if not name:
        raise p.error("peer name must not be empty", "name")
    url_text = p.string("url")
    url = parse_peer_url(url_text)
    trust_anchor = p.optional_string("trust-anchor")
    cert_file = p.optional_string("cert-file")
    key_file = p.optional_string("key-file")
    role_text = p.string("role")
    try:
        role = Role(role_text)
    except ValueError:
        raise p.error(f"unsupported value '{role_text}' for role parameter", "role") from None
    auto_failover = p.boolean("auto-failover", True)

    password: str | None = None
    password_file: str | None = None
    if "basic-auth-password" in p.data:
        if "basic-auth-password-file" in p.data:
            raise p.error(
                "only one of basic-auth-password and basic-auth-password-file parameter can be "
                f"configured in peer '{name}'"
            )
        password = p.string("basic-auth-password")
    if "basic-auth-password-file" in p.data:
        password_file = p.string("basic-auth-password-file")
        try:
            password = read_password_file(password_file)
        except (OSError, ValueError) as exc:
            raise p.error(f"bad password file in peer '{name}': {exc}", "basic-auth-password-file") from None
    user: str | None = None
    if "basic-auth-user" in p.data:
        user = p.string("basic-auth-user")
        if ":" in user:
            raise p.error(f"user '{user}' must not contain a ':' in peer '{name}'", "basic-auth-user")

    parsed_url = url if isinstance(url, PeerUrl) else PeerUrl(url_text, "", "", 0, "")
    peer = PeerConfig(
        name=name,
        url=parsed_url,
        role=role,
        auto_failover=auto_failover,
        basic_auth_user=user,
        basic_auth_password=password,
        basic_auth_password_file=password_file,
        trust_anchor=trust_anchor,
        cert_file=cert_file,
        key_file=key_file,
    )
    return peer, (url if isinstance(url, str) else None)


def _validate(
    config: HaConfig, rel_path: str, peer_paths: Mapping[str, str], url_errors: Mapping[str, str]
) -> None:
    """Kea's HAConfig::validate(): the checks that run after the whole map was parsed."""
    names = {p.name for p in config.peers}
    if config.this_server_name not in names:
        raise ConfigError(
            f"no peer configuration specified for the '{config.this_server_name}'",
            f"{rel_path}/this-server-name",
        )

    counts: dict[Role, int] = dict.fromkeys(Role, 0)
    for peer in config.peers:
        url_path = f"{peer_paths[peer.name]}/url"
        url_error = url_errors.get(peer.name)
        if url_error is not None:
            raise ConfigError(f"invalid URL: {url_error} for server {peer.name}", url_path)
        try:
            ipaddress.ip_address(peer.url.stripped_hostname)
        except ValueError:
            raise ConfigError(
                f"bad url '{peer.url}': Failed to convert string to address "
                f"'{peer.url.stripped_hostname}': Invalid argument for server {peer.name}",
                url_path,
            ) from None
        tls = config.tls_for(peer)
        if tls is not None:
            for key, value in (
                ("trust-anchor", tls.trust_anchor),
                ("cert-file", tls.cert_file),
                ("key-file", tls.key_file),
            ):
                if not value:
                    raise ConfigError(
                        f"bad TLS config for server {peer.name}: {key} parameter is missing or empty: "
                        "all or none of TLS parameters must be set",
                        peer_paths[peer.name],
                    )
        elif peer.url.scheme == "https":
            raise ConfigError(
                f"bad url '{peer.url}': https scheme is not supported for server {peer.name} where TLS is disabled",
                url_path,
            )
        counts[peer.role] += 1

    if counts[Role.PRIMARY] > 1:
        raise ConfigError("multiple primary servers specified", f"{rel_path}/peers")
    if counts[Role.SECONDARY] > 1:
        raise ConfigError("multiple secondary servers specified", f"{rel_path}/peers")
    if counts[Role.STANDBY] > 1:
        raise ConfigError("multiple standby servers specified", f"{rel_path}/peers")

    def fail(message: str, key: str = "peers") -> None:
        raise ConfigError(message, f"{rel_path}/{key}")

    if config.mode is HaMode.LOAD_BALANCING:
        if counts[Role.STANDBY]:
            fail("standby servers not allowed in the load balancing configuration")
        if not counts[Role.SECONDARY]:
            fail("secondary server required in the load balancing configuration")
        if not counts[Role.PRIMARY]:
            fail("primary server required in the load balancing configuration")
        if config.wait_backup_ack:
            fail(
                "'wait-backup-ack' must be set to false in the load balancing configuration",
                "wait-backup-ack",
            )
    elif config.mode is HaMode.HOT_STANDBY:
        if counts[Role.SECONDARY]:
            fail("secondary servers not allowed in the hot standby configuration")
        if not counts[Role.STANDBY]:
            fail("standby server required in the hot standby configuration")
        if not counts[Role.PRIMARY]:
            fail("primary server required in the hot standby configuration")
        if config.wait_backup_ack:
            fail("'wait-backup-ack' must be set to false in the hot standby configuration", "wait-backup-ack")
        if config.delayed_updates_limit:
            fail(
                "'delayed-updates-limit' must be set to 0 in the hot standby configuration",
                "delayed-updates-limit",
            )
    else:
        if counts[Role.SECONDARY]:
            fail("secondary servers not allowed in the passive backup configuration")
        if counts[Role.STANDBY]:
            fail("standby servers not allowed in the passive backup configuration")
        if not counts[Role.PRIMARY]:
            fail("primary server required in the passive backup configuration")
        if config.delayed_updates_limit:
            fail(
                "'delayed-updates-limit' must be set to 0 in the passive backup configuration",
                "delayed-updates-limit",
            )
