"""The lease parsers' fast path: it takes Kea's usual lease arguments, and whatever it builds is
exactly what the checked parser builds for the same arguments; everything else is left to the
checked parser (which words the errors)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from app.commands.lease_parse import _checked_lease4, _checked_lease6, _fast_lease4, _fast_lease6
from app.config import FamilyConfig, parse_family

# Kea 2.2's wire traffic as an HA partner, where tests/ha finds it too
CAPTURES = Path("/work/shared/kea-captures")
NOW = 1_790_000_000

FAMILY4 = parse_family({"valid-lifetime": 4000, "subnet4": [
    {"id": 1, "subnet": "10.10.0.0/16"}, {"id": 7, "subnet": "192.0.2.0/24", "valid-lifetime": 600},
]}, 4, "Dhcp4", Path("."))
FAMILY6 = parse_family({"valid-lifetime": 4000, "preferred-lifetime": 3000, "subnet6": [
    {"id": 1, "subnet": "2001:db8:1::/64"}, {"id": 7, "subnet": "2001:db8:7::/48", "valid-lifetime": 900},
]}, 6, "Dhcp6", Path("."))


def _captured_leases(command: str) -> list[dict[str, Any]]:
    found = []
    for capture in sorted(CAPTURES.glob("*/capture.jsonl")):
        for line in capture.read_text().splitlines():
            body = json.loads(line).get("request", {}).get("body")
            if isinstance(body, dict) and body.get("command") == command:
                arguments = body["arguments"]
                found.extend(arguments["leases"] if command.endswith("bulk-apply") else [arguments])
    return found


@pytest.mark.skipif(not CAPTURES.is_dir(), reason=f"no Kea captures at {CAPTURES}")
@pytest.mark.parametrize(("command", "fast", "checked", "family"), [
    ("lease4-update", _fast_lease4, _checked_lease4, FAMILY4),
    ("lease6-bulk-apply", _fast_lease6, _checked_lease6, FAMILY6),
])
def test_kea_partner_lease_updates_take_the_fast_path(command: str, fast: Any, checked: Any,
                                                      family: FamilyConfig) -> None:
    leases = _captured_leases(command)
    assert leases, f"no {command} in the captures"
    for args in leases:
        parsed = fast(args, family, NOW)
        assert parsed is not None, args
        assert parsed == checked(args, family, NOW)


# one lease of each, as Kea 2.2 sent it to its partner (tests pass without the captures too)
KEA_LEASE4_UPDATE = {"ip-address": "10.10.0.10", "hw-address": "00:0c:01:02:03:04", "client-id": "01:00:0c:01:02:03:04",
                     "subnet-id": 1, "valid-lft": 3600, "expire": 1795639381, "state": 0, "hostname": "",
                     "fqdn-fwd": False, "fqdn-rev": False, "force-create": True}
KEA_BULK_LEASE6 = {"duid": "00:01:00:01:32:99:f6:71:00:0c:01:02:03:04", "expire": 1795639697, "fqdn-fwd": False,
                   "fqdn-rev": False, "hostname": "", "hw-address": "00:0c:01:02:03:04", "iaid": 1,
                   "ip-address": "2001:db8:1::1000", "preferred-lft": 3000, "state": 0, "subnet-id": 1,
                   "type": "IA_NA", "valid-lft": 4000}


def test_a_kea_partners_lease_shapes_take_the_fast_path() -> None:
    parsed4 = _fast_lease4(KEA_LEASE4_UPDATE, FAMILY4, NOW)
    parsed6 = _fast_lease6(KEA_BULK_LEASE6, FAMILY6, NOW)
    assert parsed4 is not None and parsed4 == _checked_lease4(KEA_LEASE4_UPDATE, FAMILY4, NOW)
    assert parsed6 is not None and parsed6 == _checked_lease6(KEA_BULK_LEASE6, FAMILY6, NOW)


@pytest.mark.parametrize("args", [
    {"ip-address": "2001:db8:1::5", "duid": "01:02:03", "iaid": 1, "subnet-id": 1},
    {"ip-address": "2001:db8:7::", "duid": "0a", "iaid": 0, "subnet-id": 7, "type": "IA_PD", "prefix-len": 56,
     "hw-address": "", "hostname": "Host.Example.ORG", "fqdn-fwd": True, "user-context": {"a": [1]}},
    {"ip-address": "2001:db8:1::6", "duid": "01:02", "iaid": 4294967295, "subnet-id": 1, "type": "IA_TA",
     "expire": NOW + 10, "valid-lft": 10, "preferred-lft": 0, "state": 2, "force-create": True},
])
def test_usual_v6_spellings_take_the_fast_path(args: dict[str, Any]) -> None:
    parsed = _fast_lease6(args, FAMILY6, NOW)
    assert parsed is not None
    assert parsed == _checked_lease6(args, FAMILY6, NOW)


@pytest.mark.parametrize("args", [
    {"ip-address": "2001:db8:1::5", "duid": "0102", "iaid": 1, "subnet-id": 1},  # hex without colons
    {"ip-address": "2001:db8:1::5", "duid": "01:02", "iaid": 1},  # subnet found by address
    {"ip-address": "::ffff:1.2.3.4", "duid": "01:02", "iaid": 1, "subnet-id": 1},  # str() spelling
    {"ip-address": "2001:db8:1::5", "duid": "01:02", "iaid": 1, "subnet-id": 1, "comment": "x"},
    {"ip-address": "2001:db8:9::5", "duid": "01:02", "iaid": 1, "subnet-id": 1},  # not in the subnet
    {"ip-address": "2001:db8:1::5", "duid": "01:02", "iaid": True, "subnet-id": 1},
    {"ip-address": "2001:db8:1::5", "duid": "01:02", "iaid": 1, "subnet-id": 1, "state": 3},
    {"ip-address": "2001:db8:1::5", "duid": "01:02", "iaid": 1, "subnet-id": 1, "user-context": None},
])
def test_anything_else_is_left_to_the_checked_parser(args: dict[str, Any]) -> None:
    assert _fast_lease6(args, FAMILY6, NOW) is None


def test_v4_usual_spelling_takes_the_fast_path() -> None:
    args = {"ip-address": "192.0.2.9", "hw-address": "aa:bb:cc:dd:ee:ff", "client-id": "01:aa:bb", "subnet-id": 7,
            "hostname": "A.example", "force-create": True}
    parsed = _fast_lease4(args, FAMILY4, NOW)
    assert parsed is not None
    assert parsed == _checked_lease4(args, FAMILY4, NOW)
    assert parsed.lease.valid_lft == 600 and parsed.lease.hostname == "a.example"


# --- any arguments: the fast path never disagrees with the checked parser ----------------------

_HEX_IDS = ["01:02:03", "0a", "aa:BB:cc:dd:ee:ff", "0102", "0x0102", "01 02", "1:2", "01::02", ":01", "zz:01",
            "01:02:0g", "", "é1:02", ":".join(["ab"] * 21), ":".join(["ab"] * 129), "01:02:03:04:05:06:07"]
_INTS = [0, 1, 7, 2, 3, 255, 256, 4000, -1, 4294967295, 4294967296, NOW, NOW + 5000, True, False, 1.0, "1", None]
_VALUES: dict[str, list[Any]] = {
    "duid": _HEX_IDS + [1, None],
    "hw-address": _HEX_IDS + [None, 5],
    "client-id": _HEX_IDS + [None],
    "iaid": _INTS, "subnet-id": _INTS, "valid-lft": _INTS, "preferred-lft": _INTS, "expire": _INTS,
    "prefix-len": _INTS, "state": _INTS,
    "type": ["IA_NA", "IA_TA", "IA_PD", "na", "pd", "IA_PD ", 2, None],
    "fqdn-fwd": [True, False, 0, 1, "true", None], "fqdn-rev": [True, False, 0, None],
    "hostname": ["", "host.example.org", "HOST.Example", "Ä.example", 5, None],
    "user-context": [{}, {"a": 1}, {"comment": "c"}, [], "x", None],
    "comment": ["c", 5],
    "force-create": [True, False, 1, None],
}
_ADDRESSES4 = ["10.10.0.5", "192.0.2.9", "192.0.3.1", "10.10.255.255", "0.0.0.0", "1.2.3", "01.2.3.4",
               "2001:db8:1::5", "10.10.0.5 ", None, 5]
_ADDRESSES6 = ["2001:db8:1::5", "2001:DB8:1:0:0:0:0:5", "2001:db8:7:ff::1", "2001:db8:2::1", "::",
               "::ffff:10.10.0.5", "::1", "fe80::1%eth0", "10.10.0.5", "2001:db8:1::5::", None, 5]


def _arguments(bases: list[dict[str, Any]], addresses: list[Any], keys: list[str]) -> st.SearchStrategy[dict[str, Any]]:
    """A lease the fast path takes, with a few of its keys changed or dropped: most draws sit on
    the edge between what the fast path takes and what it leaves to the checked parser."""
    def build(base: dict[str, Any], address: Any, changed: dict[str, Any], dropped: list[str]) -> dict[str, Any]:
        args = {**base, "ip-address": address, **changed}
        for key in dropped:
            args.pop(key, None)
        return args
    changed = st.dictionaries(st.sampled_from(keys), st.none(), max_size=3).flatmap(
        lambda chosen: st.fixed_dictionaries({key: st.sampled_from(_VALUES[key]) for key in chosen}))
    return st.builds(build, st.sampled_from(bases), st.sampled_from(addresses), changed,
                     st.lists(st.sampled_from(["ip-address", *keys]), max_size=2))


_KEYS4 = ["hw-address", "client-id", "subnet-id", "valid-lft", "expire", "fqdn-fwd", "fqdn-rev", "hostname",
          "state", "user-context", "comment", "force-create"]
BASES4 = [{"hw-address": "aa:bb:cc:dd:ee:ff", "subnet-id": 1, "valid-lft": 3600},
          {"hw-address": "", "client-id": "01:02", "subnet-id": 7, "hostname": "h", "fqdn-rev": True}]
BASES6 = [{"duid": "01:02:03", "iaid": 1, "subnet-id": 1, "preferred-lft": 1800},
          {"duid": "01:02:03", "iaid": 1, "subnet-id": 7, "type": "IA_PD", "prefix-len": 56, "state": 0}]
_KEYS6 = ["duid", "iaid", "type", "prefix-len", "subnet-id", "hw-address", "valid-lft", "preferred-lft", "expire",
          "fqdn-fwd", "fqdn-rev", "hostname", "state", "user-context", "comment", "force-create"]


@settings(max_examples=2000, deadline=None)
@given(_arguments(BASES4, _ADDRESSES4, _KEYS4))
def test_v4_fast_path_agrees_with_the_checked_parser(args: dict[str, Any]) -> None:
    fast = _fast_lease4(args, FAMILY4, NOW)
    if fast is not None:
        assert fast == _checked_lease4(args, FAMILY4, NOW)


@settings(max_examples=2000, deadline=None)
@given(_arguments(BASES6, _ADDRESSES6, _KEYS6))
def test_v6_fast_path_agrees_with_the_checked_parser(args: dict[str, Any]) -> None:
    fast = _fast_lease6(args, FAMILY6, NOW)
    if fast is not None:
        assert fast == _checked_lease6(args, FAMILY6, NOW)
