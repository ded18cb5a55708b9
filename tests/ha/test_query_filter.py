"""Spec §2.2: scope assignment and Kea's load-balancing hash (vectors verified live)."""

from __future__ import annotations

import pytest

from app.ha.query_filter import (
    load_balance_hash,
    scope_for_key,
    scope_for_v4_query,
    scope_for_v6_query,
    v4_load_balancing_key,
)
from tests.ha.conftest import make_config


@pytest.mark.parametrize(
    ("key_hex", "expected_hash", "scope"),
    [
        ("00:00:00:00:00:00", 254, "server1"),
        ("01:02:03:04:05:06", 179, "server2"),
        ("aa:bb:cc:dd:ee:ff", 57, "server2"),
        ("01:aa:bb:cc:dd:ee:ff", 102, "server1"),
        ("00:01:00:01:00:00:00:01:00:11:22:33:44:55", 108, "server1"),
        ("00:01:02", 153, "server2"),
        ("1a:1b:1c:1d:1e:1f", 169, "server2"),
    ],
)
def test_load_balancing_hash_vectors(key_hex: str, expected_hash: int, scope: str) -> None:
    key = bytes.fromhex(key_hex.replace(":", ""))
    assert load_balance_hash(key) == expected_hash
    assert scope_for_key(make_config(mode="load-balancing"), key) == scope


def test_client_id_takes_precedence_over_chaddr() -> None:
    client_id = bytes.fromhex("01aabbccddeeff")
    assert v4_load_balancing_key(client_id, bytes(6)) == client_id
    assert v4_load_balancing_key(b"", bytes(6)) == bytes(6)


def test_query_without_identifier_is_dropped_by_every_server_in_load_balancing() -> None:
    assert scope_for_v4_query(make_config(mode="load-balancing"), 1, None, None) == (None, True)


def test_hot_standby_scope_is_always_the_primary() -> None:
    assert scope_for_key(make_config(this="server2"), bytes.fromhex("010203040506")) == "server1"


def test_non_ha_message_types_go_to_every_server() -> None:
    # DHCPv6 INFORMATION-REQUEST (11) is classified to the primary but processed everywhere.
    assert scope_for_v6_query(make_config(mode="load-balancing"), 11, b"\x00\x01") == ("server1", False)
