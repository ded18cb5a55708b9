"""Spec §1: the high-availability parameter, Kea's defaults and Kea's exact error texts."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from app.errors import ConfigError
from app.ha.config import HaMode, PauseMode, Role, parse_ha_parameters
from app.ha.states import HaState
from tests.ha.conftest import CAPTURES, capture_ha_params, make_config, relationship


def error_of(rel: dict[str, Any] | list[Any] | object, path: str = "ha") -> ConfigError:
    params = rel if not isinstance(rel, dict) else [rel]
    with pytest.raises(ConfigError) as info:
        parse_ha_parameters(params, path)
    return info.value


def test_defaults_match_kea_2_2() -> None:
    config = parse_ha_parameters(
        [
            {
                "this-server-name": "s1",
                "mode": "hot-standby",
                "peers": [
                    {"name": "s1", "url": "http://127.0.0.1:8001/", "role": "primary"},
                    {"name": "s2", "url": "http://127.0.0.1:8002/", "role": "standby"},
                ],
            }
        ],
        "ha",
    )
    assert (config.heartbeat_delay, config.max_response_delay, config.max_ack_delay) == (10000, 60000, 10000)
    assert (config.max_unacked_clients, config.delayed_updates_limit) == (10, 0)
    assert config.send_lease_updates and config.sync_leases and config.require_client_certs
    assert (config.sync_timeout, config.sync_page_limit) == (60000, 10000)
    assert not config.wait_backup_ack and not config.restrict_commands
    assert (
        not config.multi_threading.enable_multi_threading
        and not config.multi_threading.http_dedicated_listener
    )
    assert config.this_peer.auto_failover


def test_delayed_updates_limit_defaults_to_100_in_load_balancing() -> None:
    assert make_config(mode="load-balancing").delayed_updates_limit == 100


def test_delayed_updates_limit_must_be_zero_in_hot_standby() -> None:
    err = error_of(relationship(**{"delayed-updates-limit": 5}))
    assert err.message == "'delayed-updates-limit' must be set to 0 in the hot standby configuration"


def test_uint16_range_of_heartbeat_delay() -> None:
    err = error_of(relationship(**{"heartbeat-delay": 65536}))
    assert err.message == "'heartbeat-delay' must not be greater than 65535"
    assert err.path == "ha[0]/heartbeat-delay"


def test_negative_integer_rejected() -> None:
    assert error_of(relationship(**{"sync-timeout": -1})).message == "'sync-timeout' must not be negative"


def test_exactly_one_relationship() -> None:
    err = error_of([relationship(), relationship()])
    assert err.message == (
        "invalid number of configurations in the HA configuration list. Expected exactly one configuration"
    )
    assert str(err) == f"ha: {err.message}"


def test_this_server_name_must_be_among_peers() -> None:
    err = error_of(relationship(this="server9"))
    assert err.message == "no peer configuration specified for the 'server9'"


def test_empty_this_server_name() -> None:
    assert error_of(relationship(this="  ")).message == "'this-server-name' value must not be empty"


def test_unsupported_mode() -> None:
    assert (
        error_of(relationship() | {"mode": "active"}).message
        == "unsupported value 'active' for mode parameter"
    )


def test_peers_missing_and_not_a_list() -> None:
    rel = relationship()
    del rel["peers"]
    assert error_of(rel).message == "'peers' parameter missing in HA configuration"
    assert error_of(relationship(peers={})).message == "'peers' parameter must be a list"


def test_peer_url_host_must_be_an_ip_literal() -> None:
    rel = relationship()
    rel["peers"][1]["url"] = "http://kea2.example.org:8000/"
    err = error_of(rel)
    assert err.message.startswith(
        "bad url 'http://kea2.example.org:8000/': Failed to convert string to address"
    )
    assert err.message.endswith("for server server2")
    assert err.path == "ha[0]/peers[1]/url"


def test_ipv6_peer_url_in_brackets_is_accepted() -> None:
    rel = relationship()
    rel["peers"][1]["url"] = "http://[2001:db8::2]:8000/"
    config = parse_ha_parameters([rel], "ha")
    assert config.peer("server2").url.stripped_hostname == "2001:db8::2"


def test_https_needs_tls() -> None:
    rel = relationship()
    rel["peers"][1]["url"] = "https://127.0.0.1:8000/"
    assert "https scheme is not supported for server server2 where TLS is disabled" in error_of(rel).message


def test_tls_all_or_none() -> None:
    err = error_of(relationship(**{"trust-anchor": "/ca.pem"}))
    assert err.message.endswith(
        "cert-file parameter is missing or empty: all or none of TLS parameters must be set"
    )


def test_tls_inherited_per_peer() -> None:
    config = make_config(**{"trust-anchor": "/ca", "cert-file": "/c", "key-file": "/k"})
    tls = config.tls_for(config.peer("server2"))
    assert tls is not None and tls.key_file == "/k"


def test_wait_backup_ack_only_in_passive_backup() -> None:
    err = error_of(relationship(**{"wait-backup-ack": True}))
    assert err.message == "'wait-backup-ack' must be set to false in the hot standby configuration"
    assert make_config(mode="passive-backup", **{"wait-backup-ack": True}).wait_backup_ack


def test_role_counts_and_mode_roles() -> None:
    rel = relationship()
    rel["peers"][1]["role"] = "primary"
    assert error_of(rel).message == "multiple primary servers specified"
    rel = relationship(mode="load-balancing")
    rel["peers"][1]["role"] = "backup"
    assert error_of(rel).message == "secondary server required in the load balancing configuration"
    rel = relationship(mode="load-balancing")
    rel["peers"].append({"name": "server3", "url": "http://127.0.0.1:1/", "role": "standby"})
    assert error_of(rel).message == "standby servers not allowed in the load balancing configuration"


def test_unsupported_role_and_duplicate_peer() -> None:
    rel = relationship()
    rel["peers"][1]["role"] = "tertiary"
    assert error_of(rel).message == "unsupported value 'tertiary' for role parameter"
    rel = relationship()
    rel["peers"][1]["name"] = "server1"
    assert error_of(rel).message == "peer with name 'server1' already specified"


def test_unknown_keys_are_ignored() -> None:
    assert make_config(**{"bogus-key": 1}).mode is HaMode.HOT_STANDBY


def test_state_machine_pauses() -> None:
    config = make_config(
        **{"state-machine": {"states": [{"state": "waiting", "pause": "once"}, {"state": "ready"}]}}
    )
    assert config.pause_for(HaState.WAITING) is PauseMode.ONCE
    assert config.pause_for(HaState.READY) is PauseMode.NEVER
    sm = {"states": [{"state": "bogus", "pause": "once"}]}
    assert error_of(relationship(**{"state-machine": sm})).message == "unknown state bogus"
    sm = {"states": [{"state": "ready"}, {"state": "ready", "pause": "always"}]}
    assert (
        error_of(relationship(**{"state-machine": sm})).message
        == "duplicated configuration for the 'ready' state"
    )


def test_basic_auth_header_matches_capture_03() -> None:
    rel = relationship()
    rel["peers"][1] |= {"basic-auth-user": "kea-ha", "basic-auth-password": "s3cret-ha"}
    assert (
        make_config(peers=rel["peers"]).peer("server2").basic_auth_header == "Basic a2VhLWhhOnMzY3JldC1oYQ=="
    )


def test_basic_auth_password_file(tmp_path: Path) -> None:
    secret = tmp_path / "pw"
    secret.write_text("s3cret-ha")
    rel = relationship()
    rel["peers"][1] |= {"basic-auth-user": "kea-ha", "basic-auth-password-file": str(secret)}
    assert make_config(peers=rel["peers"]).peer("server2").basic_auth_password == "s3cret-ha"
    rel["peers"][1]["basic-auth-password"] = "x"
    assert error_of(rel).message == (
        "only one of basic-auth-password and basic-auth-password-file parameter can be configured in peer 'server2'"
    )


def test_peer_helpers() -> None:
    peers = relationship()["peers"] + [
        {"name": "server3", "url": "http://127.0.0.1:19103/", "role": "backup"}
    ]
    config = make_config(peers=peers)
    assert config.partner is not None and config.partner.name == "server2"
    assert [p.name for p in config.backups] == ["server3"]
    assert config.role is Role.PRIMARY and config.is_primary
    assert make_config(mode="passive-backup").partner is None


@pytest.mark.parametrize(
    "folder", sorted(p.name for p in CAPTURES.iterdir() if (p / "server1-kea-dhcp4.json").exists())
)
def test_every_captured_kea_config_parses(folder: str) -> None:
    config = parse_ha_parameters(capture_ha_params(folder), "high-availability")
    assert config.this_server_name == "server1"


def test_peer_users_are_this_servers_entry_user_as_kea_sends_it_and_the_other_peers_users() -> None:
    # Kea sends each peer the basic-auth-user of that peer's own entry: what server2 receives
    # from its Kea partner carries "to-server2"; a leasesync peer, or a site with one set of
    # credentials both ways, sends its own entry's "to-server1"
    peers = [{"name": "server1", "url": "http://127.0.0.1:19101/", "role": "primary",
              "basic-auth-user": "to-server1", "basic-auth-password": "a"},
             {"name": "server2", "url": "http://127.0.0.1:19102/", "role": "standby",
              "basic-auth-user": "to-server2", "basic-auth-password": "b"},
             {"name": "server3", "url": "http://127.0.0.1:19103/", "role": "backup"}]
    config = make_config("server2", peers=peers)
    assert config.peer_users() == {"to-server1": "server1", "to-server2": "server1"}
