#!/usr/bin/env python3
"""Differential fuzz: generated request variants against a real Kea 2.2 and a real leasesync.

    cd /work/main && python tests/kea_fuzz.py [--only SUBSTR] [--family lease|agent|http|expression|option-hex|all|none] [--out results.json]

A tool to find new differences, not a test: pytest does not collect it (the file name does not
start with ``test_`` and it defines no ``test_*`` functions), and it needs ISC Kea 2.2 installed
(kea-dhcp4, kea-dhcp6, kea-ctrl-agent and the lease_cmds hook, see tests/kea_harness.py).

It starts Kea's "stats" topology of tests/kea_cases.py (the default one plus Kea's stat_cmds hook;
tests/record_kea_golden.start_topology)
and one ``leasesync serve`` configured the same way, on SQLite or ``--database`` postgresql/mysql (as tests/test_differential_kea.py
does), sends every variant to both after ``RESET_STEPS``, normalises both answers with
``kea_cases.normalise`` and compares status, body, body text and headers. Families:

* ``lease``: the lease commands -- every argument with values of the wrong type, odd but valid
  values, odd identifiers, pages, envelopes, raw JSON spellings, sequences of changes;
* ``agent``: the agent and daemon commands -- every ``service`` shape, odd ``arguments``,
  ``dhcp-disable``/``dhcp-enable``, ``config-test``/``config-write``/``config-reload``, the
  ``statistic-*`` commands, odd envelopes;
* ``expression``: ``config-test`` of a client class whose ``test`` is a valid expression broken by
  a few random token edits (``--seed`` picks them);
* ``option-hex``: ``config-test`` of every standard option given random bytes in hex.

Kea runs on a non-persistent memfile, the truth the recorded cases use. ``--kea-database
postgresql|mysql`` puts it on a fresh database of that kind made by ``kea-admin db-init`` instead
(its leases deleted with SQL before each variant, since Kea's SQL backends do not implement
``leaseX-wipe``): with ``--database`` of the same kind, it asks how leasesync and Kea's own SQL
backend answer on the same schema, which is where a value the SQL columns cannot hold, or an order
the SQL backend gives, shows (Kea's SQL backends differ from its memfile, and leasesync follows
memfile where the README says so).

A variant whose steps equal those of a case in tests/kea_cases.py is skipped (the differential
sweep covers it). The deliberate differences of README "Where leasesync deliberately differs from
Kea 2.2" (asserted case by case in ``EXPECTED_DIFFERENCES`` of tests/test_differential_kea.py) are
normalised away before comparing: the order of leases in a list, the ``list-commands`` list, the
``connection: close`` header, ``version-get``'s ``extended`` text, and the statistics leasesync
does not keep. Fields that differ on every run (pids, uptimes, sample times, build report, file
sizes) are masked. A variant that kills a Kea daemon is reported as such and the topology is
restarted, and leasesync with it (the statistics' samples start again at start-up on both sides);
leasesync is restarted when it dies or reports a stuck database.

Mismatches that match one of the differences the README lists after that table (Kea's JSON
parser, ``config-test``, statistics leasesync does not keep, ...; ``README_DIFFERENCES``) are only counted. The
summary groups the other mismatches into classes (command, the shape of both answers' texts, what
differs) with a minimal request for each. A finding that is a leasesync bug becomes a case in
tests/kea_cases.py, whose Kea answer is then recorded with tests/record_kea_golden.py; one that is
a deliberate difference is documented in the README and ``EXPECTED_DIFFERENCES``.
"""

from __future__ import annotations

import argparse
import concurrent.futures
import copy
import json
import re
import shutil
import signal
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import FrameType
from typing import Any

REPO_ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO_ROOT))

from tests import kea_cases as kc  # noqa: E402
from tests.conftest import ServerProcess, make_database  # noqa: E402
from tests.kea_cases import (  # noqa: E402
    DUID,
    HW,
    L4,
    L4_FULL,
    L6,
    L6_FULL,
    L6_PD,
    L6_TA,
    D,
    add4,
    add6,
    c4,
    c6,
    cmd,
    get4,
    get6,
    w,
)
from tests.kea_harness import free_port, kea_available, release_port  # noqa: E402
from tests.record_kea_golden import start_topology  # noqa: E402
from tests.test_differential_kea import leasesync_config  # noqa: E402

Step = dict[str, Any]
OMIT = kc._OMIT  # an argument that cmd() leaves out of the envelope

# every variant starts from no leases and DHCP enabled for both origins on both families
RESET_STEPS: list[Step] = kc.RESET_STEPS + [
    cmd("dhcp-enable", {"origin": origin}, [service]) for service in ("dhcp4", "dhcp6")
    for origin in ("user", "ha-partner")
]
# "@TMP@" in a request is a directory of each side's own (config-write targets)
FILES_MARK = "@TMP@"


@dataclass
class Variant:
    family: str
    name: str
    steps: list[Step]


class Variants:
    """Collects the variants of one family, skipping any that repeats a kea_cases case or an
    earlier variant (``seen`` is shared between families)."""

    def __init__(self, family: str, seen: set[str], seed: int = 1) -> None:
        self.family = family
        self.seen = seen
        self.seed = seed  # for the families that draw at random (expression)
        self.items: list[Variant] = []

    def add(self, name: str, *steps: Step) -> None:
        key = steps_key(list(steps))
        if key not in self.seen:
            self.seen.add(key)
            self.items.append(Variant(self.family, name, list(steps)))


def steps_key(steps: list[Step]) -> str:
    return json.dumps(steps, sort_keys=True)


def raw_json(text: str) -> Step:
    return kc.raw(text, kc.JSON_CT)


# =============================================================================================
# lease commands

WRONG_TYPES: list[tuple[str, Any]] = [
    ("str", "x"), ("empty", ""), ("float1.5", 1.5), ("float1.0", 1.0), ("neg", -1), ("zero", 0),
    ("2^32", 2 ** 32), ("2^63", 2 ** 63), ("2^64", 2 ** 64), ("-2^63", -(2 ** 63)), ("true", True),
    ("false", False), ("null", None), ("map", {"a": 1}), ("list", [1]), ("emptylist", []),
]
# a few leases that the identifier look-ups below can find (or not)
IDENT_SETUP4 = [c4("lease4-add", L4_FULL), add4(ip_address="192.0.2.50", client_id="0a:0b:0c", hw_address="01")]
IDENT_SETUP6 = [c6("lease6-add", L6_FULL), add6(ip_address="2001:db8:1::50", duid="01", iaid=77)]
ODD_HW = ["1A:1B:1C:1D:1E:1F", "1a:1b:1c:1d:1e:1f:", "1a::1b", "1", "1a 1b 1c 1d 1e 1f", "0x1a1b1c1d1e1f",
          "1a-1b-1c-1d-1e-1f", ":", " 1a:1b:1c:1d:1e:1f", "1a:1b:1c:1d:1e:1f ", "01:1a:1b:1c:1d:1e:1f"]
ODD_CLIENT_ID = ["0x010203", "0x10203", "10203", "01 02 03", "1:2:3", "AB:CD:EF", "01:02:", "'abc'", "0X0102",
                 "01:02 03", "0x", "0", "1", " 010203", "010203 "]
ODD_DUID = ["0x0102030405060708", "1020304050607081", "01 02 03 04 05 06 07 08", "1:2:3:4:5:6:7:8", "01:02:",
            "0x", "0", "0102030405060708090", "'abc'", "010203040506070"]


def lease_wrong_type_variants(out: Variants) -> None:
    """Every field of add/update with every wrong JSON type."""
    for command, pre in (("lease4-add", []), ("lease4-update", [c4("lease4-add", L4_FULL)])):
        keys = list(L4_FULL) + (["force-create"] if command == "lease4-update" else [])
        for key in keys:
            for type_name, value in WRONG_TYPES:
                out.add(f"{command}/type/{key}={type_name}", *pre, c4(command, {**L4_FULL, key: value}),
                        get4("192.0.2.31"))
    for command, pre in (("lease6-add", []), ("lease6-update", [c6("lease6-add", L6_FULL)])):
        for key in list(L6_FULL) + ["type", "prefix-len", "state"]:
            for type_name, value in WRONG_TYPES:
                out.add(f"{command}/type/{key}={type_name}", *pre, c6(command, {**L6_FULL, key: value}),
                        get6("2001:db8:1::106"))


def lease4_add_value_variants(out: Variants) -> None:
    """lease4-add with unusual but possibly valid values, then read back."""
    for name, fields in [
        ("hw-dash-upper", {"hw_address": "1A-1B-1C-1D-1E-1F"}),
        ("hw-trailing-colon", {"hw_address": "1a:1b:1c:1d:1e:1f:"}),
        ("hw-double-colon", {"hw_address": "1a::1b"}),
        ("hw-single-byte", {"hw_address": "1"}),
        ("hw-spaces", {"hw_address": "1a 1b 1c 1d 1e 1f"}),
        ("hw-0x", {"hw_address": "0x1a1b1c1d1e1f"}),
        ("hw-leading-space", {"hw_address": " 1a:1b:1c:1d:1e:1f"}),
        ("hw-single-colon", {"hw_address": ":"}),
        ("cid-0x", {"client_id": "0x010203"}),
        ("cid-0x-odd", {"client_id": "0x10203"}),
        ("cid-odd", {"client_id": "10203"}),
        ("cid-spaces", {"client_id": "01 02 03"}),
        ("cid-short-groups", {"client_id": "1:2:3"}),
        ("cid-upper", {"client_id": "AB:CD:EF"}),
        ("cid-trailing-colon", {"client_id": "01:02:"}),
        ("cid-double-space", {"client_id": "01  02"}),
        ("cid-quoted", {"client_id": "'abc'"}),
        ("cid-0X", {"client_id": "0X0102"}),
        ("cid-mixed-sep", {"client_id": "01:02 03"}),
        ("ip-leading-zero", {"ip_address": "192.0.2.020"}),
        ("ip-3-octets", {"ip_address": "192.0.2"}),
        ("ip-space", {"ip_address": " 192.0.2.20"}),
        ("ip-trailing-space", {"ip_address": "192.0.2.20 "}),
        ("ip-mapped-v6", {"ip_address": "::ffff:192.0.2.20"}),
        ("ip-broadcast-subnet", {"ip_address": "192.0.2.255"}),
        ("ip-network-addr", {"ip_address": "192.0.2.0"}),
        ("ip-255", {"ip_address": "255.255.255.255"}),
        ("ip-int-string", {"ip_address": "3221225492"}),
        ("ip-hex", {"ip_address": "0xc0.0.2.20"}),
        ("ip-subnet2-with-sid0", {"ip_address": "198.51.100.5", "subnet_id": 0}),
        ("outside-with-subnet-1", {"ip_address": "10.0.0.1", "subnet_id": 1}),
        ("sid-2^32-1", {"subnet_id": 4294967295}),
        ("valid-lft-1", {"valid_lft": 1}),
        ("valid-lft-2^32-2", {"valid_lft": 4294967294}),
        ("expire-huge", {"expire": 2 ** 40}),
        ("expire-2^32", {"expire": 2 ** 32}),
        ("expire-2^31", {"expire": 2 ** 31}),
        ("expire-2^63-1", {"expire": 2 ** 63 - 1}),
        ("expire-2^62", {"expire": 2 ** 62}),
        ("expire-2^53", {"expire": 2 ** 53}),
        ("expire-2^63-1-lft-inf", {"expire": 2 ** 63 - 1, "valid_lft": 4294967295}),
        ("expire-1", {"expire": 1, "valid_lft": 1}),
        ("expire-with-infinite-lft", {"valid_lft": 4294967295, "expire": 2000000000}),
        ("expire-valid-0", {"valid_lft": 0, "expire": 1000}),
        ("state-1", {"state": 1}),
        ("state-1-hostname", {"state": 1, "hostname": "x.example"}),
        ("state-2-no-hw", {"state": 1, "hw_address": ""}),
        ("state-4", {"state": 4}),
        ("state-2^32", {"state": 2 ** 32}),
        ("hostname-trailing-dot", {"hostname": "host.example.org."}),
        ("hostname-only-dot", {"hostname": "."}),
        ("hostname-long", {"hostname": "a" * 300}),
        ("hostname-label-64", {"hostname": "a" * 64 + ".example"}),
        ("hostname-spaces", {"hostname": " host "}),
        ("hostname-underscore", {"hostname": "my_host"}),
        ("hostname-fwd-trailing-dot", {"hostname": "Host.Example.", "fqdn_fwd": True}),
        ("hostname-control-char", {"hostname": "a\tb\nc"}),
        ("hostname-nul", {"hostname": "a\u0000b"}),
        ("hostname-u0100", {"hostname": "\u0100"}),
        ("hostname-quote-backslash", {"hostname": "a\"b\\c/d"}),
        ("hostname-del-char", {"hostname": "a\u007fb"}),
        ("hostname-latin1", {"hostname": "\u00ff"}),
        ("hostname-latin1-upper", {"hostname": "\u00c0\u00c9.Example"}),  # Kea lower-cases A-Z only
        ("fqdn-fwd-false-hostname-empty", {"fqdn_fwd": False, "hostname": ""}),
        ("fqdn-both-false", {"fqdn_fwd": False, "fqdn_rev": False, "hostname": "h"}),
        ("uc-nested", {"user_context": {"b": {"z": 1, "a": [1, {"y": 2, "x": None}]}, "a": 1.5}}),
        ("uc-keys-unsorted", {"user_context": {"zz": 1, "aa": 2, "mm": {"q": 1, "b": 2}}}),
        ("uc-float-values", {"user_context": {"f": 1.0, "g": 0.1, "h": 1e20, "i": 100000000.0, "j": -0.0,
                                              "k": 1e-7}}),
        ("uc-big-int", {"user_context": {"n": 2 ** 63 - 1, "m": -(2 ** 63)}}),
        ("uc-strings", {"user_context": {"s": "a\"b\\c\n\t\u0001/\u00e9"}}),
        ("uc-comment", {"user_context": {"comment": "c"}}),
        ("uc-bool", {"user_context": True}),
        ("uc-int", {"user_context": 5}),
        ("uc-float", {"user_context": 1.5}),
        ("uc-float-whole", {"user_context": 2.0}),
        ("uc-nested-list", {"user_context": [{"a": 1}, "x"]}),
        ("uc-string-quote", {"user_context": "a\"b"}),
        ("comment-key", {"comment": "hello"}),
        ("comment-key-with-uc", {"comment": "hello", "user_context": {"x": 1}}),
        ("comment-dup", {"comment": "hello", "user_context": {"comment": "x"}}),
        ("comment-int", {"comment": 5}),
        ("pool-id-key", {"pool-id": 3}),
        ("cltt-key", {"cltt": 5}),
        ("extra-null-key", {"foo": None}),
    ]:
        out.add(f"lease4-add/val/{name}", add4(**fields), get4(fields.get("ip_address", "192.0.2.20")),
                c4("lease4-get-all"))


def identifier_variants(out: Variants) -> None:
    """Odd hardware addresses, client-ids and DUIDs as look-up keys and stored values; the
    identifier arguments of get/del with wrong types."""
    for hw in ODD_HW:
        ident = {"identifier-type": "hw-address", "identifier": hw, "subnet-id": 1}
        out.add(f"lease4-get-by-hw-address/odd/{hw}", *IDENT_SETUP4, c4("lease4-get-by-hw-address", {"hw-address": hw}))
        out.add(f"lease4-get/ident-hw/{hw}", *IDENT_SETUP4, c4("lease4-get", ident))
        out.add(f"lease4-del/ident-hw/{hw}", *IDENT_SETUP4, c4("lease4-del", ident))
    for client_id in ODD_CLIENT_ID:
        out.add(f"lease4-get-by-client-id/odd/{client_id}", *IDENT_SETUP4,
                c4("lease4-get-by-client-id", {"client-id": client_id}))
        out.add(f"lease4-get/ident-cid/{client_id}", *IDENT_SETUP4,
                c4("lease4-get", {"identifier-type": "client-id", "identifier": client_id, "subnet-id": 1}))
        out.add(f"lease4-add/cid-odd2/{client_id}", add4(client_id=client_id), get4("192.0.2.20"))
    for duid in ODD_DUID:
        ident = {"identifier-type": "duid", "identifier": duid, "iaid": 5, "subnet-id": 1}
        out.add(f"lease6-get-by-duid/odd/{duid}", *IDENT_SETUP6, c6("lease6-get-by-duid", {"duid": duid}))
        out.add(f"lease6-get/ident-duid/{duid}", *IDENT_SETUP6, c6("lease6-get", ident))
        out.add(f"lease6-add/duid-odd/{duid}", add6(duid=duid), get6("2001:db8:1::100"))
        out.add(f"lease6-del/ident-duid/{duid}", *IDENT_SETUP6, c6("lease6-del", ident))

    for command, arguments, setup, send in (
        ("lease4-get", {"identifier-type": "hw-address", "identifier": HW, "subnet-id": 1}, IDENT_SETUP4, c4),
        ("lease4-del", {"identifier-type": "hw-address", "identifier": HW, "subnet-id": 1}, IDENT_SETUP4, c4),
        ("lease6-get", {"identifier-type": "duid", "identifier": DUID, "iaid": 5, "subnet-id": 1}, IDENT_SETUP6, c6),
        ("lease6-del", {"identifier-type": "duid", "identifier": DUID, "iaid": 5, "subnet-id": 1}, IDENT_SETUP6, c6),
        ("lease6-get", {"ip-address": "2001:db8:1::106", "type": "IA_NA"}, IDENT_SETUP6, c6),
        ("lease6-del", {"ip-address": "2001:db8:1::106", "type": "IA_NA"}, IDENT_SETUP6, c6),
        ("lease4-get", {"ip-address": "192.0.2.31"}, IDENT_SETUP4, c4),
        ("lease4-del", {"ip-address": "192.0.2.31"}, IDENT_SETUP4, c4),
    ):
        keys = "+".join(arguments)
        for key in arguments:
            for type_name, value in WRONG_TYPES:
                out.add(f"{command}/type/{keys}/{key}={type_name}", *setup, send(command, {**arguments, key: value}))
        out.add(f"{command}/extra-key/{keys}", *setup, send(command, {**arguments, "foo": 1}))
        if "identifier-type" in arguments:
            for ident_type in ("HW-ADDRESS", "hw_address", "duid", "client-id", "circuit-id", "flex-id",
                               "remote-id", "hwaddr", "", "DUID"):
                out.add(f"{command}/ident-type/{ident_type}", *setup,
                        send(command, {**arguments, "identifier-type": ident_type}))
            out.add(f"{command}/ident+ip-bad", *setup, send(command, {**arguments, "ip-address": "bogus"}))
            out.add(f"{command}/ident-sid-0", *setup, send(command, {**arguments, "subnet-id": 0}))
            out.add(f"{command}/ident-sid-99", *setup, send(command, {**arguments, "subnet-id": 99}))


def lease6_variants(out: Variants) -> None:
    """v6 lease types, prefix lengths, address spellings and field values."""
    by_duid = {"identifier-type": "duid", "identifier": DUID, "iaid": 5, "subnet-id": 1}
    for lease_type in ("IA_NA", "IA_PD", "IA_TA", "ia_na", "ia_pd", "IA_PD ", "0", "2", "PD", "NA", "TA", "V4",
                       "IA_NA\u0000", ""):
        by_address = {"ip-address": "2001:db8:1::106", "type": lease_type}
        out.add(f"lease6-get/type-str/{lease_type!r}", *IDENT_SETUP6, c6("lease6-get", by_address))
        out.add(f"lease6-del/type-str/{lease_type!r}", *IDENT_SETUP6, c6("lease6-del", by_address))
        out.add(f"lease6-add/type-str/{lease_type!r}", c6("lease6-add", w(L6_PD, type=lease_type)),
                c6("lease6-get-all"))
        out.add(f"lease6-get/ident-type-str/{lease_type!r}", *IDENT_SETUP6,
                c6("lease6-get", {**by_duid, "type": lease_type}))
    for lease_type in (0, 1, 2, 3, True, None, ["IA_NA"], {"a": 1}, 1.0):
        out.add(f"lease6-get/ident-type-val/{lease_type!r}", *IDENT_SETUP6,
                c6("lease6-get", {**by_duid, "type": lease_type}))

    for prefix_len in (0, 1, 48, 63, 64, 65, 127, 128, 129, 255, 256, 1000, -5, 2 ** 32, 64.0, 1.5, "64", None, True):
        out.add(f"lease6-add/pd-prefix-len/{prefix_len!r}", c6("lease6-add", w(L6_PD, prefix_len=prefix_len)),
                c6("lease6-get-all"))
    out.add("lease6-add/pd-not-prefix-aligned", c6("lease6-add", w(L6_PD, ip_address="3000:1:0:1::5")),
            c6("lease6-get-all"))
    out.add("lease6-add/ta-prefix-len-64", c6("lease6-add", w(L6_TA, prefix_len=64)), c6("lease6-get-all"))
    out.add("lease6-add/ta-prefix-len-bogus", c6("lease6-add", w(L6_TA, prefix_len=300)), c6("lease6-get-all"))
    out.add("lease6-add/na-prefix-len-200", add6(prefix_len=200), get6("2001:db8:1::100"))
    out.add("lease6-add/na-prefix-len-string", add6(prefix_len="x"), get6("2001:db8:1::100"))

    for name, address in [
        ("mapped", "::ffff:192.0.2.1"), ("compat", "::192.0.2.1"), ("zone", "2001:db8:1::100%eth0"),
        ("zone-num", "2001:db8:1::100%1"), ("upper-full", "2001:0DB8:0001:0000:0000:0000:0000:0100"),
        ("leading-zeros-5", "2001:0db8:1::00100"), ("embedded-v4-in-subnet", "2001:db8:1::192.0.2.1"),
        ("space", " 2001:db8:1::100"), ("brackets", "[2001:db8:1::100]"), ("unspecified", "::"),
        ("loopback", "::1"), ("multicast", "ff02::1"), ("subnet-anycast", "2001:db8:1::"),
        ("last", "2001:db8:1:0:ffff:ffff:ffff:ffff"), ("triple-colon", "2001:db8:1:::100"),
        ("two-double", "2001::db8::1"), ("with-prefix", "2001:db8:1::100/64"),
    ]:
        out.add(f"lease6-add/ip/{name}", add6(ip_address=address), c6("lease6-get-all"))
        out.add(f"lease6-get/ip/{name}", *IDENT_SETUP6, c6("lease6-get", {"ip-address": address}))
        out.add(f"lease6-del/ip/{name}", *IDENT_SETUP6, c6("lease6-del", {"ip-address": address}))
        out.add(f"lease6-add/ip-sid1/{name}", add6(ip_address=address, subnet_id=1), c6("lease6-get-all"))

    for name, fields in [
        ("iaid-2^32-1-str-duid", {"duid": "0x01"}),
        ("hw-dash", {"hw_address": "1a-1b-1c-1d-1e-1f"}),
        ("hw-empty", {"hw_address": ""}),
        ("hw-21-bytes", {"hw_address": ":".join(["ab"] * 21)}),
        ("hw-trailing-colon", {"hw_address": "1a:1b:"}),
        ("preferred-0", {"preferred_lft": 0}),
        ("preferred-only", {"preferred_lft": 100}),
        ("valid-0", {"valid_lft": 0}),
        ("preferred-2^32-1", {"preferred_lft": 4294967295}),
        ("preferred-2^32", {"preferred_lft": 2 ** 32}),
        ("expire-past", {"expire": 1000000000, "valid_lft": 100}),
        ("expire-2^32", {"expire": 2 ** 32}),
        ("expire-2^63-1", {"expire": 2 ** 63 - 1}),
        ("expire-2^62", {"expire": 2 ** 62}),
        ("expire-equals-valid-0", {"expire": 0, "valid_lft": 0}),
        ("state-2", {"state": 2}),
        ("state-4", {"state": 4}),
        ("hostname-trailing-dot", {"hostname": "h.example.", "fqdn_fwd": True}),
        ("hostname-long", {"hostname": "b" * 300}),
        ("fqdn-rev-empty-host", {"fqdn_rev": False, "hostname": ""}),
        ("uc-keys-unsorted", {"user_context": {"zz": 1, "aa": {"d": 1, "c": 2}}}),
        ("uc-floats", {"user_context": {"f": 1.0, "h": 1e20, "i": 1e-7}}),
        ("comment", {"comment": "hi"}),
        ("comment-dup", {"comment": "hi", "user_context": {"comment": "x"}}),
        ("sid-2", {"ip_address": "2001:db8:2::7", "subnet_id": 2}),
        ("sid-0", {"subnet_id": 0}),
        ("sid-huge", {"subnet_id": 4294967295}),
        ("outside-sid-1", {"ip_address": "2001:db8:99::1", "subnet_id": 1}),
        ("iaid-str-num", {"iaid": "12"}),
        ("pool-id", {"pool-id": 1}),
        ("type-na-explicit-pl", {"type": "IA_NA", "prefix_len": 64}),
        ("duid-130-bytes-0x", {"duid": "0x" + "22" * 129}),
        ("duid-1-byte-0x-odd", {"duid": "0x1"}),
    ]:
        out.add(f"lease6-add/val/{name}", add6(**fields), c6("lease6-get-all"))


def listing_variants(out: Variants) -> None:
    """get-page, get-all and get-by-* with odd arguments."""
    for start in ("start", "START", "Start", "", "0.0.0.0", "192.0.2.20", "255.255.255.255", "::", "start ", 0,
                  None, True, ["start"], {"a": 1}, 1.5):
        for limit in (1, 2, 0, -1, "1", 1.0, 2.5, None, True, 2 ** 32, 2 ** 31, 2 ** 63, 4294967295, [1]):
            out.add(f"lease4-get-page/{start!r}/{limit!r}", add4(), add4(ip_address="192.0.2.30", hw_address="01:02"),
                    c4("lease4-get-page", {"from": start, "limit": limit}))
    for start in ("start", "START", "", "::", "2001:db8:1::100", "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff",
                  "0.0.0.0", "::ffff:0.0.0.0", 0, None, "3000:1:0:1::"):
        for limit in (1, 3, 0, 1.0, "1", 2 ** 32, None, 100):
            out.add(f"lease6-get-page/{start!r}/{limit!r}", add6(), c6("lease6-add", L6_PD), c6("lease6-add", L6_TA),
                    c6("lease6-get-page", {"from": start, "limit": limit}))
    out.add("lease4-get-page/extra-key", add4(), c4("lease4-get-page", {"from": "start", "limit": 5, "foo": 1}))
    out.add("lease4-get-page/list-args", c4("lease4-get-page", ["start", 5]))
    out.add("lease4-get-page/empty-map", c4("lease4-get-page", {}))
    out.add("lease6-get-page/empty-map", c6("lease6-get-page", {}))
    out.add("lease6-get-page/no-from", c6("lease6-get-page", {"limit": 1}))

    for subnets in ([1.0], [0], [-1], [2 ** 32], [True], [None], [[1]], [1, "2"], "1", {"1": 1}, None, [], [1, 1, 2]):
        out.add(f"lease4-get-all/subnets/{subnets!r}", add4(), c4("lease4-add", kc.L4_S2),
                c4("lease4-get-all", {"subnets": subnets}))
        out.add(f"lease6-get-all/subnets/{subnets!r}", add6(), c6("lease6-get-all", {"subnets": subnets}))
    out.add("lease4-get-all/extra-key", add4(), c4("lease4-get-all", {"foo": 1}))
    out.add("lease6-get-all/extra-key", add6(), c6("lease6-get-all", {"foo": 1}))
    out.add("lease4-get-all/args-null", c4("lease4-get-all", None))
    out.add("lease4-get-all/args-string", c4("lease4-get-all", "x"))

    for command, key, send, setup in (("lease4-get-by-hostname", "hostname", c4, IDENT_SETUP4),
                                      ("lease6-get-by-hostname", "hostname", c6, IDENT_SETUP6),
                                      ("lease4-get-by-hw-address", "hw-address", c4, IDENT_SETUP4),
                                      ("lease4-get-by-client-id", "client-id", c4, IDENT_SETUP4),
                                      ("lease6-get-by-duid", "duid", c6, IDENT_SETUP6)):
        for type_name, value in WRONG_TYPES:
            out.add(f"{command}/type/{type_name}", *setup, send(command, {key: value}))
        out.add(f"{command}/extra-key", *setup, send(command, {key: "x", "foo": 1}))
        out.add(f"{command}/args-list", send(command, [key]))
        out.add(f"{command}/args-string", send(command, "x"))
    for hostname in ("host.example.org.", "HOST.EXAMPLE.ORG", " host.example.org", "host", "urania.example.org.",
                     "Urania.Example.ORG", "host.example.org ", "h\u00d6st.example.org"):
        out.add(f"lease4-get-by-hostname/val/{hostname}", *IDENT_SETUP4,
                c4("lease4-get-by-hostname", {"hostname": hostname}))
        out.add(f"lease6-get-by-hostname/val/{hostname}", *IDENT_SETUP6,
                c6("lease6-get-by-hostname", {"hostname": hostname}))
    out.add("lease4-get-by-hostname/latin1-upper-stored", add4(hostname="\u00c4.Example"),
            c4("lease4-get-by-hostname", {"hostname": "\u00c4.example"}),
            c4("lease4-get-by-hostname", {"hostname": "\u00e4.example"}))
    out.add("lease4-get-by-hostname/trailing-space-stored", add4(hostname="a.example "),
            c4("lease4-get-by-hostname", {"hostname": "a.example"}),
            c4("lease4-get-by-hostname", {"hostname": "A.example "}))
    out.add("lease4-get-by-hostname/trailing-dot-stored", add4(hostname="a.example."),
            c4("lease4-get-by-hostname", {"hostname": "a.example"}),
            c4("lease4-get-by-hostname", {"hostname": "A.EXAMPLE."}))


def wipe_resend_bulk_variants(out: Variants) -> None:
    """wipe, resend-ddns (DDNS is disabled in this topology) and lease6-bulk-apply."""
    for type_name, value in WRONG_TYPES:
        out.add(f"lease4-wipe/type/{type_name}", add4(), c4("lease4-wipe", {"subnet-id": value}), c4("lease4-get-all"))
        out.add(f"lease6-wipe/type/{type_name}", add6(), c6("lease6-wipe", {"subnet-id": value}), c6("lease6-get-all"))
        out.add(f"lease4-resend-ddns/type/{type_name}", add4(hostname="a.example", fqdn_fwd=True),
                c4("lease4-resend-ddns", {"ip-address": value}))
        out.add(f"lease6-resend-ddns/type/{type_name}", add6(hostname="a.example", fqdn_fwd=True),
                c6("lease6-resend-ddns", {"ip-address": value}))
    out.add("lease4-wipe/extra-key", add4(), c4("lease4-wipe", {"foo": 1}), c4("lease4-get-all"))
    out.add("lease6-wipe/extra-key", add6(), c6("lease6-wipe", {"foo": 1}), c6("lease6-get-all"))
    out.add("lease4-wipe/args-null", add4(), c4("lease4-wipe", None))
    out.add("lease6-wipe/args-string", add6(), c6("lease6-wipe", "x"))
    out.add("lease4-resend-ddns/args-list", c4("lease4-resend-ddns", [1]))
    out.add("lease6-resend-ddns/args-list", c6("lease6-resend-ddns", [1]))
    out.add("lease6-resend-ddns/args-string", c6("lease6-resend-ddns", "x"))

    for name, arguments in [
        ("leases-null", {"leases": None}),
        ("deleted-null", {"deleted-leases": None}),
        ("leases-string", {"leases": "x"}),
        ("deleted-map", {"deleted-leases": {}}),
        ("deleted-type-int", {"deleted-leases": [{"ip-address": "2001:db8:1::100", "type": 1}]}),
        ("deleted-ip-int", {"deleted-leases": [{"ip-address": 1}]}),
        ("deleted-extra", {"deleted-leases": [{"ip-address": "2001:db8:1::100", "foo": 1}]}),
        ("deleted-pd", {"deleted-leases": [{"ip-address": "3000:1:0:1::", "type": "IA_PD"}]}),
        ("deleted-pd-no-type", {"deleted-leases": [{"ip-address": "3000:1:0:1::"}]}),
        ("deleted-duid-ident", {"deleted-leases": [{"identifier-type": "duid", "identifier": DUID, "iaid": 1234,
                                                    "subnet-id": 1}]}),
        ("lease-bad-state", {"leases": [w(L6, state=9)]}),
        ("lease-bad-type", {"leases": [w(L6, type="X")]}),
        ("lease-missing-duid", {"leases": [w(L6, duid=D)]}),
        ("lease-sid-99", {"leases": [w(L6, subnet_id=99)]}),
        ("lease-outside", {"leases": [w(L6, ip_address="2001:db8:99::1")]}),
        ("lease-ipv4", {"leases": [w(L6, ip_address="192.0.2.1")]}),
        ("lease-uc-list", {"leases": [w(L6, user_context=[1])]}),
        ("lease-fqdn-no-host", {"leases": [w(L6, fqdn_fwd=True)]}),
        ("lease-expire-bad", {"leases": [w(L6, expire=1, valid_lft=5)]}),
        ("lease-and-deleted-same", {"deleted-leases": [{"ip-address": "2001:db8:1::100"}], "leases": [L6]}),
        ("two-bad", {"leases": [w(L6, state=9), w(L6, ip_address="2001:db8:1::101", duid="")]}),
        ("good-then-bad", {"leases": [w(L6, ip_address="2001:db8:1::101"), w(L6, ip_address="bogus")]}),
        ("pd-and-na", {"leases": [L6_PD, L6]}),
        ("extra-key", {"leases": [L6], "foo": 1}),
        ("deleted-dup", {"deleted-leases": [{"ip-address": "2001:db8:1::100"}, {"ip-address": "2001:db8:1::100"}]}),
        ("leases-with-force-create", {"leases": [w(L6, force_create=True)]}),
        ("lease-not-map-int", {"leases": [5]}),
        ("lease-empty-map", {"leases": [{}]}),
        ("deleted-empty-map", {"deleted-leases": [{}]}),
    ]:
        out.add(f"lease6-bulk-apply/{name}", add6(), c6("lease6-bulk-apply", arguments), c6("lease6-get-all"))
    out.add("lease4-bulk-apply/to-dhcp4", add4(), c4("lease4-bulk-apply", {"leases": [L4]}))


def sequence_variants(out: Variants) -> None:
    """Updates, deletes and re-adds in sequence."""
    out.add("lease4-update/change-ip-family", add4(), c4("lease4-update", w(L4, ip_address="198.51.100.20")),
            c4("lease4-get-all"))
    out.add("lease4-update/clear-hostname-keep-flags", c4("lease4-add", L4_FULL),
            c4("lease4-update", w(L4_FULL, hostname="")))
    out.add("lease4-update/drop-user-context", c4("lease4-add", L4_FULL),
            c4("lease4-update", w(L4_FULL, user_context=D)), get4("192.0.2.31"))
    out.add("lease4-update/uc-null", c4("lease4-add", L4_FULL), c4("lease4-update", w(L4_FULL, user_context=None)),
            get4("192.0.2.31"))
    out.add("lease4-update/declined-clears", c4("lease4-add", L4_FULL), c4("lease4-update", w(L4_FULL, state=1)),
            get4("192.0.2.31"))
    out.add("lease4-update/hw-empty-with-cid", c4("lease4-add", L4_FULL),
            c4("lease4-update", w(L4_FULL, hw_address="")), get4("192.0.2.31"))
    out.add("lease4-update/hw-empty-no-cid", add4(), c4("lease4-update", w(L4, hw_address="")), get4("192.0.2.20"))
    out.add("lease4-update/force-create-outside-subnet",
            c4("lease4-update", w(L4, ip_address="10.1.1.1", force_create=True)))
    out.add("lease4-update/force-create-null", c4("lease4-update", w(L4, force_create=None)))
    out.add("lease4-update/sid-0-outside", add4(), c4("lease4-update", w(L4, subnet_id=0, ip_address="10.0.0.5")))
    out.add("lease4-update/expired-existing", add4(valid_lft=5, expire=1000000000),
            c4("lease4-update", w(L4, hostname="x")), get4("192.0.2.20"))
    out.add("lease4-update/valid-lft-only-change", add4(valid_lft=100, expire=2000000000),
            c4("lease4-update", w(L4, valid_lft=200)), get4("192.0.2.20"))
    out.add("lease4-update/expire-only", add4(), c4("lease4-update", w(L4, expire=2000000000)), get4("192.0.2.20"))
    out.add("lease6-update/change-type-na-to-pd", add6(),
            c6("lease6-update", w(L6, type="IA_PD", prefix_len=64, subnet_id=1)), c6("lease6-get-all"))
    out.add("lease6-update/ta", c6("lease6-add", L6_TA), c6("lease6-update", w(L6_TA, hostname="t.example")),
            c6("lease6-get-all"))
    out.add("lease6-update/ta-no-type", c6("lease6-add", L6_TA), c6("lease6-update", w(L6_TA, type=D)),
            c6("lease6-get-all"))
    out.add("lease6-update/declined", add6(), c6("lease6-update", w(L6, state=1)), get6("2001:db8:1::100"))
    out.add("lease6-update/hw-empty", c6("lease6-add", L6_FULL), c6("lease6-update", w(L6_FULL, hw_address="")),
            get6("2001:db8:1::106"))
    out.add("lease6-update/force-create-outside",
            c6("lease6-update", w(L6, ip_address="2001:db8:99::1", force_create=True)))
    out.add("lease6-update/pd-force-create-no-sid", c6("lease6-update", w(L6_PD, subnet_id=D, force_create=True)))
    out.add("lease6-update/expired-existing", add6(valid_lft=5, expire=1000000000),
            c6("lease6-update", w(L6, hostname="x")), get6("2001:db8:1::100"))
    out.add("lease6-update/err-empty-map", c6("lease6-update", {}))
    out.add("lease6-update/err-bad-ip", c6("lease6-update", w(L6, ip_address="bogus")))
    out.add("lease6-update/err-ipv4", c6("lease6-update", w(L6, ip_address="192.0.2.1")))
    out.add("lease6-update/err-sid-99", c6("lease6-update", w(L6, subnet_id=99)))

    out.add("seq/add-del-add4", add4(), c4("lease4-del", {"ip-address": "192.0.2.20"}), add4(hostname="x"),
            get4("192.0.2.20"))
    out.add("seq/add-del-add6", add6(), c6("lease6-del", {"ip-address": "2001:db8:1::100"}), add6(hostname="x"),
            get6("2001:db8:1::100"))
    out.add("seq/del-by-cid-after-update", c4("lease4-add", L4_FULL),
            c4("lease4-update", w(L4_FULL, client_id="09:09")),
            c4("lease4-del", {"identifier-type": "client-id", "identifier": "01:02:03", "subnet-id": 1}),
            c4("lease4-del", {"identifier-type": "client-id", "identifier": "09:09", "subnet-id": 1}))
    pd_by_duid = {"identifier-type": "duid", "identifier": DUID, "iaid": 7, "subnet-id": 1}
    out.add("seq/del-pd-by-duid", c6("lease6-add", L6_PD), c6("lease6-del", pd_by_duid),
            c6("lease6-del", {**pd_by_duid, "type": "IA_PD"}), c6("lease6-get-all"))
    out.add("seq/del-ta-by-addr-type", c6("lease6-add", L6_TA), c6("lease6-del", {"ip-address": "2001:db8:1::109"}),
            c6("lease6-del", {"ip-address": "2001:db8:1::109", "type": "IA_TA"}))
    out.add("seq/get-page-after-wipe", add4(), c4("lease4-wipe", {"subnet-id": 1}),
            c4("lease4-get-page", {"from": "start", "limit": 1}))
    out.add("seq/wipe6-subnet-2-keeps-1", add6(), add6(ip_address="2001:db8:2::1"),
            c6("lease6-wipe", {"subnet-id": 1}), c6("lease6-get-all"))
    out.add("seq/get-by-hw-after-update", add4(), c4("lease4-update", w(L4, hw_address="02:02:02:02:02:02")),
            c4("lease4-get-by-hw-address", {"hw-address": HW}),
            c4("lease4-get-by-hw-address", {"hw-address": "02:02:02:02:02:02"}))
    out.add("seq/v4-update-to-subnet2-with-sid2", add4(ip_address="198.51.100.9"),
            c4("lease4-update", w(L4, ip_address="198.51.100.9", subnet_id=2, valid_lft=D)), get4("198.51.100.9"))


def lease_envelope_variants(out: Variants) -> None:
    """Lease commands in odd envelopes and routed to the wrong family."""
    for name, envelope in [
        ("service-str-dhcp6", {"command": "lease6-get-all", "service": "dhcp6"}),
        ("service-dhcp6-dhcp4", {"command": "lease4-get-all", "service": ["dhcp6", "dhcp4"]}),
        ("service-unknown-list", {"command": "lease4-get-all", "service": ["ctrl-agent"]}),
        ("service-d2-lease", {"command": "lease4-get-all", "service": ["d2"]}),
        ("service-DHCP4", {"command": "lease4-get-all", "service": ["DHCP4"]}),
        ("service-empty-str", {"command": "lease4-get-all", "service": [""]}),
        ("service-nested-list", {"command": "lease4-get-all", "service": [["dhcp4"]]}),
        ("service-null-entry", {"command": "lease4-get-all", "service": [None]}),
        ("service-true", {"command": "lease4-get-all", "service": True}),
        ("service-int", {"command": "lease4-get-all", "service": 4}),
        ("service-empty-str-scalar", {"command": "lease4-get-all", "service": ""}),
        ("service-dhcp4-d2", {"command": "lease4-get-all", "service": ["dhcp4", "d2"]}),
        ("args-list-to-dhcp4", {"command": "lease4-get-all", "service": ["dhcp4"], "arguments": []}),
        ("args-int", {"command": "lease4-get-all", "service": ["dhcp4"], "arguments": 5}),
        ("args-float-get", {"command": "lease4-get", "service": ["dhcp4"], "arguments": 1.0}),
        ("args-true", {"command": "lease4-get", "service": ["dhcp4"], "arguments": True}),
        ("command-whitespace", {"command": " lease4-get-all", "service": ["dhcp4"]}),
        ("command-trailing-ws", {"command": "lease4-get-all ", "service": ["dhcp4"]}),
        ("command-map", {"command": {"x": 1}, "service": ["dhcp4"]}),
        ("command-bool", {"command": True, "service": ["dhcp4"]}),
        ("command-float", {"command": 1.5, "service": ["dhcp4"]}),
        ("unknown-lease-cmd", {"command": "lease4-get-everything", "service": ["dhcp4"]}),
        ("lease7-add", {"command": "lease7-add", "service": ["dhcp4"], "arguments": {}}),
        ("status-get", {"command": "status-get", "service": ["dhcp4"]}),
        ("version-get-dhcp6", {"command": "version-get", "service": ["dhcp6"]}),
        ("build-report-ca", {"command": "build-report"}),
        ("extra-top-level-key", {"command": "lease4-get-all", "service": ["dhcp4"], "arguments": {"subnets": [1]},
                                 "extra": {"x": 1}}),
        ("args-null-get-all6", {"command": "lease6-get-all", "service": ["dhcp6"], "arguments": None}),
        ("lease6-bulk-to-dhcp4", {"command": "lease6-bulk-apply", "service": ["dhcp4"], "arguments": {"leases": []}}),
        ("lease4-get-to-dhcp6-args", {"command": "lease4-get", "service": ["dhcp6"],
                                      "arguments": {"ip-address": "1.2.3.4"}}),
        ("lease4-wipe-to-dhcp6", {"command": "lease4-wipe", "service": ["dhcp6"]}),
        ("lease6-get-page-to-dhcp4", {"command": "lease6-get-page", "service": ["dhcp4"],
                                      "arguments": {"from": "start", "limit": 1}}),
        ("lease4-get-page-to-dhcp6", {"command": "lease4-get-page", "service": ["dhcp6"],
                                      "arguments": {"from": "start", "limit": 1}}),
        ("lease4-del-to-dhcp6", {"command": "lease4-del", "service": ["dhcp6"],
                                 "arguments": {"ip-address": "192.0.2.20"}}),
        ("lease6-get-by-duid-to-dhcp4", {"command": "lease6-get-by-duid", "service": ["dhcp4"],
                                         "arguments": {"duid": "01"}}),
        ("lease4-get-by-hw-to-dhcp6", {"command": "lease4-get-by-hw-address", "service": ["dhcp6"],
                                       "arguments": {"hw-address": HW}}),
        ("lease6-update-to-dhcp4", {"command": "lease6-update", "service": ["dhcp4"], "arguments": L6}),
        ("lease4-resend-to-dhcp6", {"command": "lease4-resend-ddns", "service": ["dhcp6"],
                                    "arguments": {"ip-address": "192.0.2.20"}}),
    ]:
        out.add(f"envelope/{name}", kc.body(envelope))


def raw_json_variants(out: Variants) -> None:
    """JSON spellings that the CA re-serialises before the daemon sees them."""
    add4_with = ('{"command": "lease4-add", "service": ["dhcp4"], "arguments": {"ip-address": "192.0.2.20", '
                 '"hw-address": "1a:1b:1c:1d:1e:1f", %s}}')
    for name, fragment in [
        ("valid-lft-1e3", '"valid-lft": 1e3'), ("valid-lft-1E3", '"valid-lft": 1E3'),
        ("valid-lft-1000.0", '"valid-lft": 1000.0'), ("valid-lft-neg0", '"valid-lft": -0'),
        ("valid-lft-1e+3", '"valid-lft": 1e+3'), ("valid-lft-0.5e1", '"valid-lft": 0.5e1'),
        ("valid-lft-1e20", '"valid-lft": 1e20'), ("valid-lft-leading-zero", '"valid-lft": 0100'),
        ("valid-lft-plus", '"valid-lft": +100'), ("valid-lft-hex", '"valid-lft": 0x10'),
        ("valid-lft-2^63", '"valid-lft": 9223372036854775808'),
        ("valid-lft-big", '"valid-lft": 99999999999999999999999'),
        ("subnet-id-1.0", '"subnet-id": 1.0'), ("subnet-id-1e0", '"subnet-id": 1e0'), ("state-1.0", '"state": 1.0'),
        ("expire-2e9", '"expire": 2e9'), ("expire-2000000000.0", '"expire": 2000000000.0'),
        ("fqdn-True", '"fqdn-fwd": True'), ("fqdn-TRUE", '"fqdn-fwd": TRUE'),
        ("hostname-u0100", '"hostname": "\\u0100"'), ("hostname-u00e9-upper", '"hostname": "\\u00E9"'),
        ("hostname-u0000", '"hostname": "a\\u0000b"'), ("hostname-surrogate", '"hostname": "\\ud83d\\ude00"'),
        ("hostname-slash-escape", '"hostname": "a\\/b"'), ("hostname-single-quotes", "\"hostname\": 'x'"),
        ("hostname-raw-tab", '"hostname": "a\tb"'), ("hostname-bad-escape", '"hostname": "a\\qb"'),
        ("dup-key", '"hostname": "first", "hostname": "second"'),
        ("dup-ip-key", '"ip-address": "192.0.2.99"'),
        ("uc-float-forms", '"user-context": {"a": 1e3, "b": 1.50, "c": 0.1, "d": 1E-2, "e": 123456789012.0}'),
        ("uc-neg0", '"user-context": {"a": -0, "b": -0.0}'),
        ("uc-big", '"user-context": {"a": 9223372036854775808}'),
        ("uc-nested-dup", '"user-context": {"a": 1, "a": 2}'),
        ("uc-empty-key", '"user-context": {"": 1}'),
        ("trailing-comma", '"hostname": "x",'),
        ("null-literal-upper", '"hostname": NULL'),
    ]:
        out.add(f"raw/lease4-add/{name}", raw_json(add4_with % fragment), get4("192.0.2.20"))
    for name, text in [
        ("limit-1.0", '{"command": "lease4-get-page", "service": ["dhcp4"], "arguments": {"from": "start", "limit": 1.0}}'),
        ("limit-1e0", '{"command": "lease4-get-page", "service": ["dhcp4"], "arguments": {"from": "start", "limit": 1e0}}'),
        ("subnets-1.0", '{"command": "lease4-get-all", "service": ["dhcp4"], "arguments": {"subnets": [1.0]}}'),
        ("iaid-1234.0", '{"command": "lease6-add", "service": ["dhcp6"], "arguments": {"ip-address": "2001:db8:1::100", '
                        '"duid": "01:02", "iaid": 1234.0}}'),
        ("prefix-len-64.0", '{"command": "lease6-add", "service": ["dhcp6"], "arguments": {"ip-address": '
                            '"3000:1:0:1::", "duid": "01:02", "iaid": 1, "type": "IA_PD", "subnet-id": 1, '
                            '"prefix-len": 64.0}}'),
        ("wipe-sid-2.0", '{"command": "lease4-wipe", "service": ["dhcp4"], "arguments": {"subnet-id": 2.0}}'),
        ("service-dup-key", '{"command": "lease4-get-all", "service": ["dhcp5"], "service": ["dhcp4"]}'),
        ("command-dup-key", '{"command": "foo", "command": "lease4-get-all", "service": ["dhcp4"]}'),
        ("args-dup-key", '{"command": "lease4-get", "service": ["dhcp4"], "arguments": {"ip-address": "bogus"}, '
                         '"arguments": {"ip-address": "192.0.2.1"}}'),
        ("command-u-escape", '{"command": "lease4-get-al\\u006c", "service": ["dhcp4"]}'),
        ("bom", '\ufeff{"command": "lease4-get-all", "service": ["dhcp4"]}'),
        ("nested-deep-uc", '{"command": "lease4-add", "service": ["dhcp4"], "arguments": {"ip-address": '
                           '"192.0.2.20", "hw-address": "01", "user-context": ' + '{"a": ' * 30 + '1' + '}' * 30 + '}}'),
    ]:
        out.add(f"raw/{name}", raw_json(text), c4("lease4-get-all"), c6("lease6-get-all"))


# =============================================================================================
# agent and daemon commands

SERVICE_SHAPES: list[tuple[str, Any]] = [
    ("nosvc", OMIT), ("d4", ["dhcp4"]), ("d6", ["dhcp6"]), ("d4d6", ["dhcp4", "dhcp6"]), ("empty", []),
    ("str", "dhcp4"), ("d2", ["d2"]), ("unknown", ["unknown"]),
]
# =============================================================================================
# seeded random combinations (--random N): several fields odd at once, so the order in which
# Kea checks them shows

# values per field: the valid one first, then odd or wrong ones
FIELD_VALUES: dict[str, list[Any]] = {
    "ip-address": ["192.0.2.31", "198.51.100.9", "10.0.0.1", "192.0.2", "", 5, "2001:db8:1::1", None, "0.0.0.0"],
    "ip6-address": ["2001:db8:1::106", "2001:db8:2::1", "3000:1:0:1::", "::", "2001:db8:1::zz", 7, "", None,
                    "192.0.2.1"],
    "hw-address": [HW, "", "1a:1b", "zz:1b", "1a-1b-1c-1d-1e-1f", 5, None, "01" * 21],
    "client-id": ["01:02:03", "", "01", "zz", 7, None, "0x0102"],
    "duid": [DUID, "", "01", "zz:01", 3, None, "00:" * 129],
    "iaid": [5, 0, -1, 2 ** 32, "5", None, 4294967295],
    "subnet-id": [1, 0, 2, 77, -1, 2 ** 32, "1", None],
    "valid-lft": [1000, 0, -1, 2 ** 32, "x", 4294967295, 1.5],
    "preferred-lft": [500, 0, 2000, -1, "x", 2 ** 32],
    "expire": [2000000000, 0, -5, 1, "x", 2 ** 40, 999],
    "fqdn-fwd": [True, False, "true", 1, None],
    "fqdn-rev": [True, False, "yes", 0],
    "hostname": ["Host.Example.ORG", "", 5, "a" * 260, None, "x."],
    "state": [0, 1, 2, 3, -1, "0", 2 ** 32],
    "user-context": [{"version": 1}, [], "x", None, 5, {}],
    "type": ["IA_NA", "IA_PD", "IA_TA", "ia_na", "IA_XX", 0, None],
    "prefix-len": [64, 0, 128, 129, -1, "64", None],
    "force-create": [True, False, "true", 1, None],
}
V4_FIELDS = ["ip-address", "hw-address", "client-id", "subnet-id", "valid-lft", "expire", "fqdn-fwd", "fqdn-rev",
             "hostname", "state", "user-context"]
V6_FIELDS = ["ip6-address", "duid", "iaid", "hw-address", "subnet-id", "preferred-lft", "valid-lft", "expire",
             "fqdn-fwd", "fqdn-rev", "hostname", "state", "user-context", "type", "prefix-len"]


def _random_lease(rng: Any, fields: list[str], base: dict[str, Any], extra: list[str]) -> dict[str, Any]:
    """`base` with 1-4 of `fields` + `extra` changed to a random value (absent now and then)."""
    lease = dict(base)
    for field_name in rng.sample(fields + extra, rng.randint(1, 4)):
        key = "ip-address" if field_name == "ip6-address" else field_name
        if rng.random() < 0.15:
            lease.pop(key, None)
        else:
            lease[key] = rng.choice(FIELD_VALUES[field_name])
    return lease


def random_variants(out: Variants, count: int, seed: int) -> None:
    import random

    rng = random.Random(seed)
    for index in range(count):
        kind = rng.choice(["add4", "update4", "add6", "update6", "bulk6", "del4", "del6", "get4", "get6",
                           "getby4", "getby6", "page4", "page6", "getall4", "getall6"])
        name = f"random/{seed}/{index}/{kind}"
        if kind in ("add4", "update4"):
            lease = _random_lease(rng, V4_FIELDS, L4_FULL, ["force-create"] if kind == "update4" else [])
            pre = [c4("lease4-add", L4_FULL)] if kind == "update4" and rng.random() < 0.7 else []
            out.add(name, *pre, c4(f"lease4-{kind[:-1]}", lease), c4("lease4-get-all"))
        elif kind in ("add6", "update6"):
            lease = _random_lease(rng, V6_FIELDS, L6_FULL, ["force-create"] if kind == "update6" else [])
            pre = [c6("lease6-add", L6_FULL)] if kind == "update6" and rng.random() < 0.7 else []
            out.add(name, *pre, c6(f"lease6-{kind[:-1]}", lease), c6("lease6-get-all"))
        elif kind == "bulk6":
            leases = [_random_lease(rng, V6_FIELDS, L6_FULL, []) for _ in range(rng.randint(1, 3))]
            deleted = [_random_lease(rng, ["ip6-address", "type", "duid", "iaid", "subnet-id"], L6, [])
                       for _ in range(rng.randint(0, 2))]
            arguments: dict[str, Any] = {"leases": leases}
            if deleted or rng.random() < 0.5:
                arguments["deleted-leases"] = deleted
            out.add(name, c6("lease6-add", L6), c6("lease6-bulk-apply", arguments), c6("lease6-get-all"))
        elif kind in ("getby4", "getby6", "page4", "page6", "getall4", "getall6"):
            out.add(name, *_random_read(rng, kind))
        else:
            v = kind[-1]
            query_fields = (["ip-address", "hw-address", "client-id", "subnet-id"] if v == "4"
                            else ["ip6-address", "duid", "iaid", "subnet-id", "type"])
            query: dict[str, Any] = {}
            for field_name in rng.sample(query_fields, rng.randint(1, len(query_fields))):
                query["ip-address" if field_name == "ip6-address" else field_name] = rng.choice(FIELD_VALUES[field_name])
            if rng.random() < 0.4:
                query["identifier-type"] = rng.choice(["hw-address", "client-id", "duid", "flex-id", 5])
                query["identifier"] = rng.choice([HW, DUID, "01:02:03", "", 5])
            verb = "del" if kind.startswith("del") else "get"
            if v == "4":
                out.add(name, c4("lease4-add", L4_FULL), c4(f"lease4-{verb}", query), c4("lease4-get-all"))
            else:
                out.add(name, c6("lease6-add", L6_FULL), c6(f"lease6-{verb}", query), c6("lease6-get-all"))


# odd values for the read commands' own arguments
READ_VALUES: dict[str, list[Any]] = {
    "hostname": ["Host.Example.ORG", "host.example.org", "", 5, None, "a" * 300, ["x"]],
    "limit": [1, 2, 0, -1, 2 ** 32, "2", None, 1.5, True],
    "from4": ["start", "192.0.2.0", "192.0.2.31", "0.0.0.0", "2001:db8::1", "", "START", 5, None],
    "from6": ["start", "2001:db8:1::", "2001:db8:1::106", "::", "192.0.2.1", "", 5, None],
    "subnets": [[1], [1, 2], [], [77], [-1], ["1"], [2 ** 32], 1, None, {"a": 1}],
}


def _random_read(rng: Any, kind: str) -> list[Step]:
    """Two stored leases, then one read with 1-3 odd arguments, several checks of which may fail."""
    v4 = kind.endswith("4")
    cmd_, full, second = (c4, L4_FULL, dict(L4_FULL, **{"ip-address": "192.0.2.32"})) if v4 else \
        (c6, L6_FULL, dict(L6_FULL, **{"ip-address": "2001:db8:1::107"}))
    family = "4" if v4 else "6"
    arguments: dict[str, Any] = {}
    if kind.startswith("getby"):
        choices = ["hw-address", "client-id", "hostname"] if v4 else ["duid", "hostname"]
        key = rng.choice(choices)
        command = f"lease{family}-get-by-{key}"
        pool = READ_VALUES["hostname"] if key == "hostname" else FIELD_VALUES[key]
        if rng.random() > 0.1:
            arguments[key] = rng.choice(pool)
        if rng.random() < 0.3:
            arguments[rng.choice(["subnet-id", "foo", "ip-address"])] = rng.choice([1, "x", None])
    elif kind.startswith("page"):
        command = f"lease{family}-get-page"
        if rng.random() > 0.1:
            arguments["from"] = rng.choice(READ_VALUES["from" + family])
        if rng.random() > 0.1:
            arguments["limit"] = rng.choice(READ_VALUES["limit"])
    else:
        command = f"lease{family}-get-all"
        arguments["subnets"] = rng.choice(READ_VALUES["subnets"])
    payload: Any = arguments if arguments or rng.random() < 0.5 else OMIT
    return [cmd_(f"lease{family}-add", full), cmd_(f"lease{family}-add", second), cmd_(command, payload)]


AGENT_AND_FAMILIES: list[tuple[str, Any]] = [("nosvc", OMIT), ("d4", ["dhcp4"]), ("d6", ["dhcp6"])]
ODD_ARGUMENTS: list[tuple[str, Any]] = [("null", None), ("list", []), ("str", "x"), ("int", 5), ("emptymap", {}),
                                        ("junkmap", {"foo": 1})]
MAX_PERIODS: list[tuple[str, Any]] = [("0", 0), ("neg", -1), ("float", 1.5), ("float-whole", 10.0), ("str", "10"),
                                      ("huge", 2 ** 31), ("2^32", 2 ** 32), ("2^63-1", 2 ** 63 - 1), ("10", 10),
                                      ("true", True), ("null", None), ("list", [10]), ("map", {"a": 1})]
ORIGINS: list[tuple[str, Any]] = [("user", "user"), ("ha-partner", "ha-partner"), ("HA-partner", "HA-partner"),
                                  ("empty", ""), ("foo", "foo"), ("int", 5), ("int0", 0), ("int1", 1), ("null", None),
                                  ("true", True), ("list", ["user"]), ("db", "db-connection"), ("ha", "ha"),
                                  ("user-space", "user ")]
GOOD_DHCP4 = {"subnet4": kc.SUBNETS4, "valid-lifetime": 4000}
GOOD_DHCP6 = {"subnet6": kc.SUBNETS6, "valid-lifetime": 4000, "preferred-lifetime": 3000}


def plain_command_variants(out: Variants) -> None:
    """Commands without arguments, and with arguments of odd shapes, to every service shape."""
    for command in ("status-get", "version-get", "build-report", "list-commands", "config-get", "server-tag-get",
                    "statistic-get-all", "config-reload", "config-write", "config-set", "leases-reclaim",
                    "libreload", "config-backend-pull", "dhcp-enable", "statistic-reset-all"):
        for service_name, service in SERVICE_SHAPES:
            out.add(f"plain/{command}/{service_name}", cmd(command, service=service))
    for command in ("status-get", "version-get", "build-report", "list-commands", "config-get", "server-tag-get",
                    "statistic-get-all", "dhcp-disable", "dhcp-enable", "config-reload", "statistic-reset-all",
                    "statistic-get", "config-test", "config-write", "config-set", "config-backend-pull",
                    "leases-reclaim", "stat-lease4-get", "stat-lease6-get"):
        for service_name, service in AGENT_AND_FAMILIES:
            for arguments_name, arguments in ODD_ARGUMENTS:
                steps = [cmd(command, arguments, service)]
                if command == "dhcp-disable":
                    steps.append(cmd("dhcp-enable", service=service))
                out.add(f"args/{command}/{service_name}/{arguments_name}", *steps)


def enable_disable_variants(out: Variants) -> None:
    """dhcp-disable/dhcp-enable: max-period, origin, and their interplay."""
    for family, service in [("d4", ["dhcp4"]), ("d6", ["dhcp6"]), ("d4d6", ["dhcp4", "dhcp6"])]:
        status = cmd("status-get", service=service)
        enable = cmd("dhcp-enable", service=service)
        for period_name, period in MAX_PERIODS:
            out.add(f"disable/max-period={period_name}/{family}", cmd("dhcp-disable", {"max-period": period}, service),
                    status, enable)
        for origin_name, origin in ORIGINS:
            out.add(f"disable/origin={origin_name}/{family}", cmd("dhcp-disable", {"origin": origin}, service), status,
                    cmd("dhcp-enable", {"origin": origin}, service), enable)
            out.add(f"enable/origin={origin_name}/{family}", cmd("dhcp-enable", {"origin": origin}, service))
        out.add(f"disable/both/{family}", cmd("dhcp-disable", {"origin": "user", "max-period": 5}, service),
                cmd("dhcp-enable", {"origin": "user"}, service))
        out.add(f"disable/bad-origin-good-period/{family}",
                cmd("dhcp-disable", {"origin": "foo", "max-period": 5}, service))
        out.add(f"disable/bad-period-bad-origin/{family}",
                cmd("dhcp-disable", {"origin": "foo", "max-period": -5}, service))
        out.add(f"disable/extra-key/{family}", cmd("dhcp-disable", {"foo": 1, "origin": "user"}, service), enable)
        out.add(f"enable/extra-key/{family}", cmd("dhcp-enable", {"max-period": 5}, service))
        out.add(f"disable/user-enable-ha/{family}", cmd("dhcp-disable", {"origin": "user"}, service),
                cmd("dhcp-enable", {"origin": "ha-partner"}, service), status, enable)
        out.add(f"disable/ha-enable-user/{family}", cmd("dhcp-disable", {"origin": "ha-partner"}, service),
                cmd("dhcp-enable", {"origin": "user"}, service), status,
                cmd("dhcp-enable", {"origin": "ha-partner"}, service))
        out.add(f"disable/twice/{family}", cmd("dhcp-disable", service=service),
                cmd("dhcp-disable", {"max-period": 3}, service), enable, enable)
    for service_name, service in [("nosvc", OMIT), ("empty", []), ("str", "dhcp4"), ("d2", ["d2"]),
                                  ("unknown", ["unknown"])]:
        out.add(f"disable/svc/{service_name}", cmd("dhcp-disable", {"max-period": 5}, service))
        out.add(f"disable/svc-bad/{service_name}", cmd("dhcp-disable", {"max-period": -5}, service))


# What comes before an element moves the position Kea gives it: a rich configuration in front.
_BEFORE4 = {"boot-file-name": "b\u00e9\n", "client-classes": [], "option-data": [{"name": "routers", "data": "10.0.0.1"}],
            "user-context": {"a": {}, "b": [1.5, 0.0001, {}, [], None, False]}, "valid-lifetime": 4000}
_SUB4 = {"id": 7, "subnet": "10.7.0.0/24", "pools": [{"pool": "10.7.0.10 - 10.7.0.20"}],
         "reservations": [{"hw-address": "01:02:03:04:05:06", "ip-address": "10.7.0.5"}]}
_SUB6 = {"id": 7, "subnet": "2001:db8:7::/64", "pools": [{"pool": "2001:db8:7::10 - 2001:db8:7::20"}],
         "pd-pools": [{"prefix": "3000:7::", "prefix-len": 48, "delegated-len": 64}]}


def config_position_variants(out: Variants) -> None:
    """Refusals deep in a configuration with content before them (Kea's (<wire>:0:N) positions)."""
    bad_subnets4 = {
        "pool-text": {"pools": [{"pool": "10.7.0.1 - 10.7.0.2"}, {"pool": "nonsense"}]},
        "pool-not-map": {"pools": [{"pool": "10.7.0.1 - 10.7.0.2"}, 3]},
        "pool-empty": {"pools": [{"pool": "10.7.0.1 - 10.7.0.2"}, {}]},
        "pool-outside": {"pools": [{"pool": "10.8.0.1 - 10.8.0.2"}]},
        "pool-overlap": {"pools": [{"pool": "10.7.0.1 - 10.7.0.9"}, {"pool": "10.7.0.5 - 10.7.0.6"}]},
        "prefix-len": {"subnet": "10.7.0.0/40"},
        "prefix-text": {"subnet": "10.7.0.0/x"},
        "prefix-missing": {"subnet": None},
        "reservation-key": {"reservations": [{"hw-address": "01:02:03:04:05:06"}, {"zz": 1, "hw-address": "01:02"}]},
    }
    for name, change in bad_subnets4.items():
        sub = {**_SUB4, **change}
        if sub.get("subnet") is None:
            del sub["subnet"]
        out.add(f"config-test/position/d4/{name}",
                cmd("config-test", {"Dhcp4": {**_BEFORE4, "subnet4": [{**_SUB4, "id": 8, "subnet": "10.9.0.0/24"},
                                                                     sub]}}, ["dhcp4"]))
        out.add(f"config-test/position/d4/network-{name}",
                cmd("config-test", {"Dhcp4": {**_BEFORE4, "shared-networks": [
                    {"name": "a", "subnet4": [{"id": 9, "subnet": "10.9.0.0/24"}]},
                    {"name": "b", "user-context": {"x": {}}, "subnet4": [sub]}]}}, ["dhcp4"]))
    for name, change in {
        "dup-id": {"subnet4": [_SUB4, {"id": 7, "subnet": "10.8.0.0/24"}]},
        "dup-prefix": {"subnet4": [_SUB4, {"id": 8, "subnet": "10.7.0.0/24"}]},
        "network-conflict": {"shared-networks": [{"name": "n", "subnet4": [_SUB4, {"id": 7, "subnet": "10.8.0.0/24"}]}]},
        "network-dup-name": {"shared-networks": [{"name": "n"}, {"name": "n"}]},
        "network-no-name": {"shared-networks": [{"name": "m"}, {"subnet4": []}]},
        "network-not-map": {"shared-networks": [{"name": "m"}, 5]},
        "subnet-not-map": {"subnet4": [_SUB4, "x"]},
        "hook-key": {"hooks-libraries": [{"library": "libdhcp_lease_cmds.so"}, {"library": "x.so", "zz": 1}]},
        "hook-library-int": {"hooks-libraries": [{"library": 5}]},
        "hook-missing": {"hooks-libraries": [{"library": "/nope.so"}]},
        "db-type": {"lease-database": {"name": "x", "type": "bogus"}},
        "db-value": {"lease-database": {"name": 5, "type": "mysql"}},
        "db-no-type": {"lease-database": {"name": "x"}},
        "interfaces-key": {"interfaces-config": {"interfaces": [], "zz": {}}},
        "global-key": {"zz-top": [1, {}]},
        "global-type": {"server-tag": {}},
        "lifetime-type": {"valid-lifetime": "4000"},
        "container-type": {"option-def": {}},
        "ddns-type": {"dhcp-ddns": {"enable-updates": 1}},
    }.items():
        out.add(f"config-test/position/d4/{name}", cmd("config-test", {"Dhcp4": {**_BEFORE4, **change}}, ["dhcp4"]))
    bad_subnets6 = {
        "pd-missing": {"pd-pools": [_SUB6["pd-pools"][0], {"prefix": "3000:8::", "prefix-len": 48}]},
        "pd-address": {"pd-pools": [{"prefix": "bogus", "prefix-len": 48, "delegated-len": 64}]},
        "pd-v4": {"pd-pools": [{"prefix": "10.0.0.0", "prefix-len": 8, "delegated-len": 16}]},
        "pd-len": {"pd-pools": [{"prefix": "3000:8::", "prefix-len": 0, "delegated-len": 64}]},
        "pd-delegated": {"pd-pools": [{"prefix": "3000:8::", "prefix-len": 64, "delegated-len": 48}]},
        "pd-not-map": {"pd-pools": [[]]},
        "pd-overlap": {"pd-pools": [_SUB6["pd-pools"][0], {"prefix": "3000:7::", "prefix-len": 56, "delegated-len": 64}]},
        "interface-and-id": {"interface": "eth0", "interface-id": "x"},
    }
    for name, change in bad_subnets6.items():
        out.add(f"config-test/position/d6/{name}",
                cmd("config-test", {"Dhcp6": {"option-data": [], "preferred-lifetime": 3000, "subnet6": [
                    {**_SUB6, "id": 8, "subnet": "2001:db8:8::/64", "pd-pools": []}, {**_SUB6, **change}]}},
                    ["dhcp6"]))


def config_command_variants(out: Variants) -> None:
    """config-test, config-write and config-reload."""
    for name, arguments in [
        ("missing-key", {}), ("wrong-key", {"Dhcp6": GOOD_DHCP6}), ("good", {"Dhcp4": GOOD_DHCP4}),
        ("good-plus-extra", {"Dhcp4": GOOD_DHCP4, "foo": 1}), ("empty", {"Dhcp4": {}}), ("str", {"Dhcp4": "x"}),
        ("list", {"Dhcp4": []}), ("null", {"Dhcp4": None}),
        ("subnet4-str", {"Dhcp4": {"subnet4": "x"}}), ("vl-str", {"Dhcp4": {"valid-lifetime": "x"}}),
        ("vl-neg", {"Dhcp4": {"valid-lifetime": -1}}),
        ("unknown-key", {"Dhcp4": {"foo-bar": 1}}),
        ("bad-subnet", {"Dhcp4": {"subnet4": [{"id": 1, "subnet": "bogus"}]}}),
        ("no-subnet", {"Dhcp4": {"subnet4": [{"id": 1}]}}),
        ("dup-id", {"Dhcp4": {"subnet4": [{"id": 1, "subnet": "10.0.0.0/8"}, {"id": 1, "subnet": "11.0.0.0/8"}]}}),
        ("dup-subnet", {"Dhcp4": {"subnet4": [{"id": 1, "subnet": "10.0.0.0/8"}, {"id": 2, "subnet": "10.0.0.0/8"}]}}),
        ("pool-outside", {"Dhcp4": {"subnet4": [{"id": 1, "subnet": "10.0.0.0/24",
                                                 "pools": [{"pool": "11.0.0.1-11.0.0.5"}]}]}}),
        ("pool-bad", {"Dhcp4": {"subnet4": [{"id": 1, "subnet": "10.0.0.0/24", "pools": [{"pool": "x"}]}]}}),
        ("v6-subnet-in-v4", {"Dhcp4": {"subnet4": [{"id": 1, "subnet": "2001:db8::/64"}]}}),
        ("id-str", {"Dhcp4": {"subnet4": [{"id": "1", "subnet": "10.0.0.0/8"}]}}),
        ("id-0", {"Dhcp4": {"subnet4": [{"id": 0, "subnet": "10.0.0.0/8"}]}}),
        ("memfile", {"Dhcp4": {"lease-database": {"type": "memfile", "persist": False}}}),
        ("lease-db-bogus", {"Dhcp4": {"lease-database": {"type": "bogus"}}}),
        ("comment", {"Dhcp4": {"comment": "x"}}),
        ("user-context", {"Dhcp4": {"user-context": {"a": 1}}}),
        ("interfaces", {"Dhcp4": {"interfaces-config": {"interfaces": []}}}),
        ("ctrl-socket", {"Dhcp4": {"control-socket": {"socket-type": "unix", "socket-name": "/tmp/x.sock"}}}),
        ("hooks", {"Dhcp4": {"hooks-libraries": [{"library": "/nonexistent.so"}]}}),
        ("loggers", {"Dhcp4": {"loggers": [{"name": "kea-dhcp4", "severity": "BOGUS"}]}}),
        ("dhcp6-keys-in-dhcp4", {"Dhcp4": {"preferred-lifetime": 3000}}),
        ("ddns-bad", {"Dhcp4": {"dhcp-ddns": {"enable-updates": "yes"}}}),
        ("args-Dhcp4-lower", {"dhcp4": GOOD_DHCP4}),
    ]:
        out.add(f"config-test/d4/{name}", cmd("config-test", arguments, ["dhcp4"]))
    for name, arguments in [
        ("missing-key", {}), ("wrong-key", {"Dhcp4": GOOD_DHCP4}), ("good", {"Dhcp6": GOOD_DHCP6}),
        ("empty", {"Dhcp6": {}}), ("str", {"Dhcp6": "x"}), ("subnet6-str", {"Dhcp6": {"subnet6": "x"}}),
        ("bad-subnet", {"Dhcp6": {"subnet6": [{"id": 1, "subnet": "10.0.0.0/8"}]}}),
        ("unknown-key", {"Dhcp6": {"foo-bar": 1}}),
        ("pd-bad", {"Dhcp6": {"subnet6": [{"id": 1, "subnet": "2001:db8::/64", "pd-pools": [
            {"prefix": "3000::", "prefix-len": 64, "delegated-len": 48}]}]}}),
        ("pl-gt-vl", {"Dhcp6": {"preferred-lifetime": 5000, "valid-lifetime": 4000}}),
    ]:
        out.add(f"config-test/d6/{name}", cmd("config-test", arguments, ["dhcp6"]))
    for name, arguments in [
        ("missing-key", {}), ("ca-key", {"Control-agent": {"http-host": "127.0.0.1", "http-port": 8000}}),
        ("ca-key-empty", {"Control-agent": {}}), ("dhcp4-key", {"Dhcp4": GOOD_DHCP4}),
        ("leasesync-key", {"LeaseSync": {"http-host": "127.0.0.1", "http-port": 8000}}),
    ]:
        out.add(f"config-test/ca/{name}", cmd("config-test", arguments))
    config_position_variants(out)
    out.add("config-test/d4d6/good4", cmd("config-test", {"Dhcp4": GOOD_DHCP4}, ["dhcp4", "dhcp6"]))
    out.add("config-test/d4/no-args", cmd("config-test", service=["dhcp4"]))

    for service_name, service in AGENT_AND_FAMILIES:
        for name, arguments in [
            ("missing", OMIT), ("emptymap", {}), ("abs", {"filename": f"{FILES_MARK}/out.json"}),
            ("rel", {"filename": "rel-out.json"}), ("int", {"filename": 5}), ("empty", {"filename": ""}),
            ("null", {"filename": None}), ("nodir", {"filename": "/nonexistent-dir-xyz/x.json"}),
            ("isdir", {"filename": FILES_MARK}), ("list", {"filename": ["a"]}),
            ("extra", {"filename": f"{FILES_MARK}/o2.json", "foo": 1}),
        ]:
            out.add(f"config-write/{service_name}/{name}", cmd("config-write", arguments, service))
        for name, arguments in [("map", {"x": 1}), ("filename", {"filename": "/nonexistent.json"})]:
            out.add(f"config-reload/{service_name}/{name}", cmd("config-reload", arguments, service),
                    cmd("status-get", service=service))


def statistic_variants(out: Variants) -> None:
    """statistic-* commands: names, arguments, sample limits, and statistics after lease changes."""
    def stat(command: str, arguments: Any = OMIT) -> Step:
        return cmd(command, arguments, ["dhcp4"])

    add_v4 = c4("lease4-add", {"ip-address": "192.0.2.20", "hw-address": HW})
    add_v4_declined = c4("lease4-add", {"ip-address": "192.0.2.21", "hw-address": HW, "state": 1})
    add_another_v4 = c4("lease4-add", {"ip-address": "192.0.2.22", "hw-address": HW})
    add_v6 = c6("lease6-add", {"ip-address": "2001:db8:1::100", "duid": DUID, "iaid": 1})
    assigned = "subnet[1].assigned-addresses"
    for name in [assigned, "subnet[1].total-addresses", "subnet[1].declined-addresses", "declined-addresses",
                 "subnet[2].total-addresses", "subnet[9].total-addresses", "pkt4-received",
                 "subnet[1].cumulative-assigned-addresses", "reclaimed-leases", "nope", "",
                 "SUBNET[1].total-addresses"]:
        out.add(f"stat/get4/{name}", add_v4, add_v4_declined, stat("statistic-get", {"name": name}))
    for name in ["subnet[1].assigned-nas", "subnet[1].total-nas", "subnet[1].total-pds", "subnet[1].assigned-pds",
                 "declined-addresses", "subnet[2].total-nas", "pkt6-received", "nope"]:
        out.add(f"stat/get6/{name}", add_v6, c6("lease6-add", L6_PD), c6("statistic-get", {"name": name}))
    for name in [assigned, "subnet[1].total-addresses", "nope", "pkt4-received"]:
        get = stat("statistic-get", {"name": name})
        out.add(f"stat/reset4/{name}", add_v4, stat("statistic-reset", {"name": name}), get, add_another_v4, get)
        out.add(f"stat/remove4/{name}", add_v4, stat("statistic-remove", {"name": name}), get, add_another_v4, get)
    for command in ("statistic-get", "statistic-reset", "statistic-remove", "statistic-sample-count-set",
                    "statistic-sample-age-set"):
        for arguments_name, arguments in [("missing", OMIT), ("null", None), ("emptymap", {}), ("name-int", {"name": 5}),
                                          ("name-null", {"name": None}), ("name-list", {"name": ["x"]}),
                                          ("str", "x"), ("list", [])]:
            out.add(f"stat/args/{command}/{arguments_name}", stat(command, arguments))
        for service_name, service in [("nosvc", OMIT), ("d4d6", ["dhcp4", "dhcp6"]), ("d2", ["d2"])]:
            out.add(f"stat/svc/{command}/{service_name}", cmd(command, {"name": "declined-addresses"}, service))
    for command, key in (("statistic-sample-count-set", "max-samples"), ("statistic-sample-age-set", "duration"),
                         ("statistic-sample-count-set-all", "max-samples"),
                         ("statistic-sample-age-set-all", "duration")):
        named = {} if command.endswith("-all") else {"name": assigned}
        for value_name, value in [("missing", OMIT), ("str", "5"), ("float", 1.5), ("neg", -1), ("zero", 0),
                                  ("true", True), ("null", None), ("big", 2 ** 40)]:
            arguments = named if value is OMIT else {**named, key: value}
            out.add(f"stat/limit/{command}/{key}={value_name}", stat(command, arguments))
        unknown = {} if command.endswith("-all") else {"name": "nope"}
        out.add(f"stat/limit/{command}/nope", stat(command, {**unknown, key: 5}))
    out.add("stat/count-set-then-get", add_v4,
            stat("statistic-sample-count-set", {"name": assigned, "max-samples": 2}), add_another_v4,
            c4("lease4-add", {"ip-address": "192.0.2.23", "hw-address": HW}), stat("statistic-get", {"name": assigned}),
            stat("statistic-sample-count-set", {"name": assigned, "max-samples": 20}))
    out.add("stat/get-all-after-add4", add_v4, add_v4_declined, stat("statistic-get-all"))
    out.add("stat/get-all-after-add6", add_v6, c6("lease6-add", L6_PD), c6("statistic-get-all"))
    out.add("stat/get-all-args-name", stat("statistic-get-all", {"name": "x"}))
    out.add("stat/get-v6-name-on-dhcp4", stat("statistic-get", {"name": "subnet[1].total-nas"}))
    out.add("stat/lease-del-then-get", add_v4, c4("lease4-del", {"ip-address": "192.0.2.20"}),
            stat("statistic-get", {"name": assigned}))
    out.add("stat/wipe-then-get", add_v4, c4("lease4-wipe", {"subnet-id": 1}), stat("statistic-get", {"name": assigned}))
    out.add("stat/update-declined-then-get", add_v4,
            c4("lease4-update", {"ip-address": "192.0.2.20", "hw-address": HW, "state": 1}),
            stat("statistic-get", {"name": "declined-addresses"}),
            stat("statistic-get", {"name": "subnet[1].declined-addresses"}))


def agent_envelope_variants(out: Variants) -> None:
    """Odd command names, service lists and top-level keys."""
    for command_name, command in [
        ("float", 1.5), ("bool", True), ("map", {"a": 1}), ("list", ["status-get"]), ("null", None), ("empty", ""),
        ("space", " "), ("unknown", "foo-bar"), ("Status-Get", "Status-Get"), ("STATUS-GET", "STATUS-GET"),
        ("list-Commands", "list-Commands"), ("version_get", "version_get"), ("ha-heartbeat", "ha-heartbeat"),
        ("ha-sync", "ha-sync"), ("ha-unknown", "ha-foo"), ("lease4", "lease4"), ("stat-dhcp-ish", "statistic-get-every"),
        ("trailing-nl", "status-get\n"), ("nul", "status-get\u0000"), ("long", "x" * 2000),
        ("unicode", "st\u00e4tus-get"),
    ]:
        for service_name, service in SERVICE_SHAPES:
            # a command that is not a string is refused before routing: a few services are enough
            if isinstance(command, str) or service_name in ("nosvc", "d4", "d2", "unknown"):
                out.add(f"env/command={command_name}/{service_name}", cmd(command, service=service))
    for service_name, service in SERVICE_SHAPES:
        out.add(f"env/extra-key/{service_name}", cmd("status-get", service=service, foo=1))
        out.add(f"env/remote-address-int/{service_name}", cmd("version-get", service=service, **{"remote-address": 5}))
        out.add(f"env/args-and-extra/{service_name}", cmd("version-get", {}, service, extra=None))
    for service_name, service in [
        ("svc-map", {"dhcp4": 1}), ("svc-int-list", [4]), ("svc-null", None), ("svc-dhcp5", ["dhcp5"]),
        ("svc-d4-unknown", ["dhcp4", "unknown"]), ("svc-unknown-d4", ["unknown", "dhcp4"]),
        ("svc-d4-d2", ["dhcp4", "d2"]), ("svc-ca", ["ca"]), ("svc-ctrl-agent", ["ctrl-agent"]),
        ("svc-DHCP4", ["DHCP4"]), ("svc-d6-d4", ["dhcp6", "dhcp4"]), ("svc-str-empty", ""),
        ("svc-list-empty-str", [""]), ("svc-list-null", [None]), ("svc-true", True),
    ]:
        for command in ("status-get", "list-commands", "config-get", "foo-bar", "version-get"):
            out.add(f"env/{service_name}/{command}", cmd(command, service=service))
    for name, envelope in [("only-service", {"service": ["dhcp4"]}), ("only-args", {"arguments": {}}),
                           ("command-and-junk-svc", {"command": "status-get", "service": ["dhcp4"], "Service": ["x"]}),
                           ("command-upper-key", {"COMMAND": "status-get"}),
                           ("args-before", {"arguments": None, "command": "status-get"})]:
        out.add(f"env/body/{name}", kc.body(envelope))


def http_transport_variants(out: Variants) -> None:
    """Raw HTTP on a fresh connection: request lines, header spellings, lengths, methods."""
    body = '{"command": "lease4-get", "service": ["dhcp4"], "arguments": {"ip-address": "192.0.2.99"}}'
    cl = f"Content-Length: {len(body)}\r\n"
    ct = "Content-Type: application/json\r\n"
    close = "Connection: close\r\n"

    def post(head: str, payload: str = body, line: str = "POST / HTTP/1.1") -> Step:
        return kc.http(f"{line}\r\n{head}\r\n{payload}")

    out.add("http/lowercase-method", post(ct + cl + close, line="post / HTTP/1.1"))
    out.add("http/absolute-uri", post(ct + cl + close, line="POST http://127.0.0.1/ HTTP/1.1"))
    out.add("http/path-with-query", post(ct + cl + close, line="POST /?a=b HTTP/1.1"))
    out.add("http/asterisk-path", post(ct + cl + close, line="POST * HTTP/1.1"))
    out.add("http/version-1-2", post(ct + cl + close, line="POST / HTTP/1.2"))
    out.add("http/version-0-9", post(ct + cl + close, line="POST / HTTP/0.9"))
    out.add("http/no-version", post(ct + cl + close, line="POST /"))
    out.add("http/double-space", post(ct + cl + close, line="POST  / HTTP/1.1"))
    out.add("http/content-type-params", post("Content-Type: application/json;charset=utf-8\r\n" + cl + close))
    out.add("http/content-type-spaces", post("Content-Type:   application/json   \r\n" + cl + close))
    out.add("http/content-length-spaces", post(ct + f"Content-Length:  {len(body)} \r\n" + close))
    out.add("http/content-length-duplicate-same", post(ct + cl + cl + close))
    out.add("http/content-length-duplicate-differ", post(ct + cl + "Content-Length: 5\r\n" + close))
    out.add("http/content-length-negative", post(ct + "Content-Length: -1\r\n" + close))
    out.add("http/content-length-plus", post(ct + f"Content-Length: +{len(body)}\r\n" + close))
    out.add("http/content-length-hex", post(ct + f"Content-Length: {len(body):#x}\r\n" + close))
    out.add("http/content-length-zero", post(ct + "Content-Length: 0\r\n" + close, payload=""))
    out.add("http/content-length-shorter", post(ct + "Content-Length: 10\r\n" + close))
    out.add("http/transfer-encoding-identity", post(ct + cl + "Transfer-Encoding: identity\r\n" + close))
    out.add("http/header-no-colon", post(ct + cl + "Bogus header line\r\n" + close))
    out.add("http/header-space-before-colon", post(ct + cl + "X-Foo : bar\r\n" + close))
    out.add("http/header-folding", post(ct + cl + "X-Foo: bar\r\n baz\r\n" + close))
    out.add("http/header-empty-value", post(ct + cl + "X-Foo:\r\n" + close))
    out.add("http/bare-lf", kc.http(f"POST / HTTP/1.1\n{ct.strip()}\n{cl.strip()}\n{close.strip()}\n\n{body}"))
    out.add("http/connection-keep-alive-1-0", post(ct + cl + "Connection: keep-alive\r\n", line="POST / HTTP/1.0"))
    out.add("http/expect-100", post(ct + cl + "Expect: 100-continue\r\n" + close))
    out.add("http/head", post(close, payload="", line="HEAD / HTTP/1.1"))
    out.add("http/options", post(close, payload="", line="OPTIONS / HTTP/1.1"))
    out.add("http/delete-with-body", post(ct + cl + close, line="DELETE / HTTP/1.1"))
    out.add("http/unknown-method", post(ct + cl + close, line="FROB / HTTP/1.1"))
    out.add("http/body-after-get", post(ct + cl + close, line="GET / HTTP/1.1"))
    longer = f"Content-Length: {len(body) + 1}\r\n"
    out.add("http/nul-in-body", post(ct + longer + close, payload=body + "\x00"))
    out.add("http/latin1-in-body", post(ct + longer + close, payload=body[:-1] + "\xe9}"))


EXPIRED = {"valid-lft": 100, "expire": 1000000, "hostname": "h.example.org", "fqdn-fwd": True, "fqdn-rev": True}
SUBNET_IDS: list[tuple[str, Any]] = [*WRONG_TYPES, ("1", 1), ("2", 2), ("3", 3), ("2^32+1", 2 ** 32 + 1),
                                     ("2^31", 2 ** 31)]


def stat_lease_variants(out: Variants) -> None:
    """stat-lease4-get / stat-lease6-get (the fuzz topology loads Kea's stat_cmds): every shape of
    subnet-id and subnet-range, after leases in each state."""
    setup4 = [kc.add4(), kc.add4(ip_address="192.0.2.21", state=1), kc.add4(ip_address="198.51.100.9", state=2),
              kc.add4(ip_address="192.0.2.22", **{k.replace("-", "_"): v for k, v in EXPIRED.items()})]
    setup6 = [kc.add6(), kc.add6(ip_address="2001:db8:1::101", state=1), c6("lease6-add", kc.L6_PD),
              c6("lease6-add", kc.L6_TA), kc.add6(ip_address="2001:db8:2::9")]
    for v, setup in ((4, setup4), (6, setup6)):
        send = c4 if v == 4 else c6
        command = f"stat-lease{v}-get"
        out.add(f"{command}/all", *setup, send(command))
        for name, value in SUBNET_IDS:
            out.add(f"{command}/subnet-id={name}", *setup, send(command, {"subnet-id": value}))
            out.add(f"{command}/first={name}", send(command, {"subnet-range": {"first-subnet-id": value,
                                                                                "last-subnet-id": 2}}))
            out.add(f"{command}/last={name}", send(command, {"subnet-range": {"first-subnet-id": 1,
                                                                               "last-subnet-id": value}}))
        for first, last in ((1, 1), (1, 2), (2, 1), (2, 2), (2, 9), (3, 9), (1, 2 ** 32 + 2)):
            out.add(f"{command}/range={first}-{last}", *setup, send(command, {"subnet-range": {
                "first-subnet-id": first, "last-subnet-id": last}}))
        for name, value in [("range-null", None), ("range-list", []), ("range-empty", {}), ("both-null",
                            {"subnet-id": None, "subnet-range": None})]:
            arguments = value if isinstance(value, dict) and "subnet-id" in value else {"subnet-range": value}
            out.add(f"{command}/{name}", send(command, arguments))
        out.add(f"{command}/to-other-family", send(f"stat-lease{10 - v}-get", {"subnet-id": 1}))


def reclaim_variants(out: Variants) -> None:
    """leases-reclaim after expired leases of every state and type, kept or removed."""
    expired = {k.replace("-", "_"): v for k, v in EXPIRED.items()}
    for remove in (False, True):
        for state in (0, 1, 2):
            out.add(f"leases-reclaim/v4/state={state}/remove={remove}", kc.add4(state=state, **expired),
                    c4("leases-reclaim", {"remove": remove}), c4("lease4-get-all"))
            out.add(f"leases-reclaim/v6/state={state}/remove={remove}", kc.add6(state=state, **expired),
                    c6("leases-reclaim", {"remove": remove}), c6("lease6-get-all"))
        out.add(f"leases-reclaim/v6/pd/remove={remove}", c6("lease6-add", {**kc.L6_PD, **EXPIRED}),
                c6("leases-reclaim", {"remove": remove}), c6("lease6-get-all"))
        out.add(f"leases-reclaim/v6/ta/remove={remove}", c6("lease6-add", {**kc.L6_TA, **EXPIRED}),
                c6("leases-reclaim", {"remove": remove}), c6("lease6-get-all"))
        out.add(f"leases-reclaim/v4/infinite/remove={remove}",
                kc.add4(valid_lft=0xFFFFFFFF, expire=5000000000), c4("leases-reclaim", {"remove": remove}),
                c4("lease4-get-all"))
        out.add(f"leases-reclaim/v4/current/remove={remove}", kc.add4(),
                c4("leases-reclaim", {"remove": remove}), c4("lease4-get-all"))
    for type_name, value in WRONG_TYPES:
        out.add(f"leases-reclaim/remove={type_name}", kc.add4(**expired), c4("leases-reclaim", {"remove": value}),
                c4("lease4-get-all"))


# client-class test expressions: valid ones of every kind of term, and tokens to break them with
_EXPRESSIONS = [
    "option[60].text == 'PXE' and not member('b')", "pkt4.mac == 0x010203 or pkt4.hlen == 6",
    "substring(option[61].hex, 0, all) == 'x' and split('a.b', '.', 1) == 'a'",
    "ifelse(member('b'), 'x', 'y') + concat('a', 'b') == hexstring(pkt4.mac, ':')",
    "addrtotext(pkt4.giaddr) == '0.0.0.0' and uint8totext(0x01) == int32totext(pkt4.htype)",
    "vendor[4491].option[1].exists or vendor-class[*].exists or vendor.enterprise == 0x0",
    "vendor-class[4491].data[1] == 'x' and relay4[82].hex == 'y' and pkt.iface == 'eth0'",
    "option[host-name].exists and option[dhcp-client-identifier].text == 'h'",
    "relay6[0].option[1].hex == 'x' and pkt6.msgtype == 0x01 or relay6[-1].peeraddr == ::1",
    "(option[60].exists) and ('a' + 'b' == ('ab')) or not (member('KNOWN'))",
    "vendor[*].option[2].text == 'x' and vendor-class[10].data == 'y' and pkt.len == 0x0",
    "option[60].option[1].exists and relay4[1].exists and pkt4.transid == 1 and pkt6.transid == 2",
]
_EXPRESSION_TOKENS = [
    "(", ")", "not", "and", "or", "==", "option", "relay4", "relay6", "member", "peeraddr", "linkaddr", "[", "]",
    ".", "text", "hex", "exists", "pkt", "iface", "src", "dst", "len", "pkt4", "mac", "hlen", "ciaddr", "substring",
    "split", "all", ",", "concat", "+", "ifelse", "hexstring", "addrtotext", "uint16totext", "int8totext", "pkt6",
    "msgtype", "transid", "vendor-class", "vendor", "*", "data", "enterprise", "'s'", "''", "0x1f", "1", "-1", "300",
    "70000", "4294967296", "10.0.0.1", "::1", "1::2::3", "host-name", "foo", "'b'", "'zz'", "@", "\n", "  ", "=",
    "\u00e9"]
_EXPRESSION_TOKEN_RE = re.compile(r"'[^']*'|[A-Za-z][-A-Za-z0-9]*|0x[0-9a-fA-F]+|-?\d+(?:\.\d+\.\d+\.\d+)?|::1|==|\S")


def expression_variants(out: Variants, count: int = 1500) -> None:
    """config-test of a client class whose `test` is a valid expression broken by one to three
    token edits (deleted, inserted, replaced, cut short), spaced in one of four ways; 70 % v4."""
    import random

    rng = random.Random(out.seed)
    for index in range(count):
        tokens = _EXPRESSION_TOKEN_RE.findall(rng.choice(_EXPRESSIONS))
        for _ in range(rng.randint(1, 3)):
            at = rng.randrange(len(tokens) + 1)
            edit = rng.random()
            if edit < 0.3 and tokens:
                del tokens[min(at, len(tokens) - 1)]
            elif edit < 0.6:
                tokens.insert(at, rng.choice(_EXPRESSION_TOKENS))
            elif edit < 0.8 and tokens:
                tokens[min(at, len(tokens) - 1)] = rng.choice(_EXPRESSION_TOKENS)
            else:
                tokens = tokens[:at]
        space = rng.choice([" ", " ", "  ", ""])
        test = space.join(tokens) if space else "".join(
            (" " + t if i and t[:1].isalnum() and tokens[i - 1][-1:].isalnum() else t) for i, t in enumerate(tokens))
        family = 4 if rng.random() < 0.7 else 6
        section = {f"subnet{family}": [{"id": 1, "subnet": "10.0.0.0/24" if family == 4 else "2001:db8:1::/64"}],
                   "client-classes": [{"name": "b"}, {"name": "a", "test": test}]}
        out.add(f"expression/{out.seed}/{index}/v{family}", cmd("config-test", {f"Dhcp{family}": section},
                                                                 [f"dhcp{family}"]))


def option_hex_variants(out: Variants, per_definition: int = 4) -> None:
    """config-test of every standard option given random bytes in hex (csv-format false): runs
    of random bytes, small values, a vendor id with type-length-values, DNS names in wire format
    (escapes, compression pointers); the bytes Kea's option classes read and refuse."""
    import random

    from app.kea_options import STANDARD

    rng = random.Random(out.seed)

    def some_bytes() -> bytes:
        draw = rng.random()
        if draw < 0.3:
            return bytes(rng.randrange(256) for _ in range(rng.randrange(12)))
        if draw < 0.6:
            return bytes(rng.choice([0, 1, 2, 3, 4, 5, 0x11, 0x8B, 0xC0, 0x40, 0x61]) for _ in range(rng.randrange(30)))
        if draw < 0.8:
            return bytes([0, 0, 0x11, 0x8B]) + bytes(rng.choice([0, 1, 2, 3, 4, 5, 6, 0x61]) for _ in range(rng.randrange(20)))
        name = b""
        for _ in range(rng.randrange(1, 4)):
            label = bytes(rng.choice(b"abc-.\x00\\") for _ in range(rng.randrange(5)))
            name += bytes([len(label)]) + label
        return name + rng.choice([b"\x00", b"", b"\xc0\x00", b"\x00\x00"])

    for family in (4, 6):
        spaces = ["dhcp4", "docsis3-v4"] if family == 4 else sorted(s for s in STANDARD if s not in ("dhcp4", "docsis3-v4"))
        subnet = {"id": 1, "subnet": "10.0.0.0/24" if family == 4 else "2001:db8:1::/64"}
        for space in spaces:
            for definition in STANDARD[space]:
                for index in range(per_definition):
                    option = {"name": definition.name, "csv-format": False, "data": some_bytes().hex(),
                              **({"space": space} if space != f"dhcp{family}" else {})}
                    out.add(f"option-hex/{out.seed}/{space}/{definition.name}/{index}",
                            cmd("config-test", {f"Dhcp{family}": {f"subnet{family}": [subnet], "option-data": [option]}},
                                [f"dhcp{family}"]))


FAMILIES: dict[str, list[Callable[[Variants], None]]] = {
    "lease": [lease_wrong_type_variants, lease4_add_value_variants, identifier_variants, lease6_variants,
              listing_variants, wipe_resend_bulk_variants, sequence_variants, lease_envelope_variants,
              raw_json_variants, stat_lease_variants, reclaim_variants],
    "agent": [plain_command_variants, enable_disable_variants, config_command_variants, statistic_variants,
              agent_envelope_variants],
    "http": [http_transport_variants],
    "expression": [expression_variants],
    "option-hex": [option_hex_variants],
}


def collect(families: list[str], only: str | None, random_count: int = 0, seed: int = 1) -> list[Variant]:
    seen = {steps_key(c["steps"]) for c in kc.CASES}
    variants: list[Variant] = []
    for family in families:
        found = Variants(family, seen, seed)
        for build in FAMILIES[family]:
            build(found)
        variants += found.items
    if random_count:
        found = Variants("random", seen)
        random_variants(found, random_count, seed)
        variants += found.items
    return [v for v in variants if only is None or only in v.name]


# =============================================================================================
# comparing

_SAMPLE_TIME_RE = re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{6}$")
# the statistics leasesync keeps itself (README: packet counters etc. only via the local Kea)
_LEASE_STATISTIC_RE = re.compile(r"^(declined-addresses|subnet\[\d+\]\.(total-addresses|assigned-addresses|"
                                 r"declined-addresses|total-nas|assigned-nas|total-pds|assigned-pds))$")


def _mask_sample_times(value: Any) -> Any:
    if isinstance(value, str) and _SAMPLE_TIME_RE.match(value):
        return "<time>"
    if isinstance(value, list):
        return [_mask_sample_times(x) for x in value]
    if isinstance(value, dict):
        return {k: _mask_sample_times(x) for k, x in value.items()}
    return value


def _lease_order_key(lease: Any) -> tuple[str, str, str]:
    if isinstance(lease, dict):
        return str(lease.get("ip-address")), str(lease.get("type")), json.dumps(lease, sort_keys=True)
    return "", "", json.dumps(lease, sort_keys=True)


def _sort_leases(value: Any) -> Any:
    """Lease lists in address order: their order is a documented difference."""
    if isinstance(value, dict):
        out = {k: _sort_leases(x) for k, x in value.items()}
        if isinstance(out.get("leases"), list):
            out["leases"] = sorted(out["leases"], key=_lease_order_key)
        return out
    if isinstance(value, list):
        return [_sort_leases(x) for x in value]
    return value


def command_of(step: Step) -> str:
    """The command a step sends, "raw" when its body does not parse as an envelope."""
    envelope = step.get("body")
    if step["kind"] == "raw":
        try:
            envelope = json.loads(envelope)
        except ValueError:
            return "raw"
    command = envelope.get("command") if isinstance(envelope, dict) else None
    return command if isinstance(command, str) else "raw"


def _mask_answer(command: str, answer: Any) -> Any:
    """Mask what differs on every run, and the documented differences, in one answer map."""
    if not isinstance(answer, dict) or answer.get("result") != 0:
        return answer
    answer = copy.deepcopy(answer)
    arguments = answer.get("arguments")
    if command == "build-report" and "text" in answer:
        answer["text"] = "<report>"
    if command == "list-commands" and isinstance(arguments, list):
        answer["arguments"] = "<documented: leasesync lists what it implements>"
    if not isinstance(arguments, dict):
        return answer
    if command == "status-get":
        for key in ("pid", "uptime", "reload"):
            if key in arguments:
                arguments[key] = "<varies>"
    elif command == "version-get" and "extended" in arguments:
        arguments["extended"] = "<documented: names leasesync>"
    elif command == "config-get":
        # a family's running configuration is compared whole (kea_cases.normalise masks the keys
        # that set up each side's own daemon); the agent's own section is leasesync's
        # (documented): its keys only
        answer["arguments"] = {k: sorted(v) if isinstance(v, dict) and k not in ("Dhcp4", "Dhcp6") else v
                               for k, v in arguments.items()}
    elif command == "config-write":
        arguments["size"] = "<size>"
        written = arguments.get("filename")
        if isinstance(written, str) and not written.startswith(FILES_MARK):
            # no filename given: each server writes its own configuration file
            arguments["filename"] = "<own config file>"
            answer["text"] = str(answer.get("text", "")).replace(written, "<own config file>")
    elif command.startswith("statistic-"):
        arguments = answer["arguments"] = _mask_sample_times(arguments)
        if command == "statistic-get-all":
            answer["arguments"] = {k: v for k, v in arguments.items() if _LEASE_STATISTIC_RE.match(k)}
    return answer


def comparable(step: Step, record: dict[str, Any], files_dir: Path) -> dict[str, Any]:
    """A step's record normalised (kea_cases.normalise), with the side's files directory written
    back as FILES_MARK, masked answers and sorted lease lists."""
    record = kc.normalise(record)
    record = json.loads(json.dumps(record).replace(str(files_dir), FILES_MARK))
    body = record.get("body")
    command = command_of(step)
    if isinstance(body, list):
        body = [_mask_answer(command, answer) for answer in body]
    record["compared_body"] = _sort_leases(body)
    record["headers"] = [h for h in record.get("headers") or [] if h[0].lower() != "connection"]
    return record


def differences(step: Step, kea: dict[str, Any], ours: dict[str, Any], kea_files: Path, ls_files: Path) -> list[str]:
    """What differs in one step; empty when the answers agree."""
    expected, actual = comparable(step, kea, kea_files), comparable(step, ours, ls_files)
    found = []
    if expected.get("status") != actual.get("status"):
        found.append(f"status: kea {expected.get('status')!r} leasesync {actual.get('status')!r}")
    elif expected.get("status_line") != actual.get("status_line"):
        found.append(f"status line: kea {expected.get('status_line')!r} leasesync {actual.get('status_line')!r}")
    if expected["compared_body"] != actual["compared_body"]:
        found.append(f"body: kea {json.dumps(expected['compared_body'])[:1500]} | "
                     f"leasesync {json.dumps(actual['compared_body'])[:1500]}")
    elif expected.get("body") == actual.get("body") and expected.get("body_text") != actual.get("body_text"):
        # the exact text only matters when nothing was masked or reordered
        found.append(f"body_text: kea {expected.get('body_text')!r} | leasesync {actual.get('body_text')!r}")
    if expected["headers"] != actual["headers"]:
        found.append(f"headers: kea {expected['headers']!r} leasesync {actual['headers']!r}")
    return found


# =============================================================================================
# running

# in a leasesync answer: its database is stuck, later variants would all fail
_STUCK_DATABASE_MARKERS = ("did not commit within", "lease database unavailable")
# kea-ctrl-agent's answer when a daemon's socket closed under it (the daemon aborted)
_DAEMON_GONE = "unable to forward command to the dhcp"


# the "default" topology with Kea's stat_cmds hook loaded, so that stat-leaseX-get can be compared
TOPOLOGY = "stats"


class Servers:
    """Kea 2.2 (the "stats" topology) and one leasesync configured alike, on `database` (SQLite
    unless --database says otherwise, in a fresh database at each start); each can be
    restarted. Everything lives under ``workdir`` (Kea's own temp dirs are removed by its stop())."""

    def __init__(self, workdir: Path, topology: str = TOPOLOGY, database: str = "sqlite",
                 kea_database: str = "memfile") -> None:
        self.workdir = workdir
        self.topology = topology
        self.database = database  # leasesync's lease database: sqlite, postgresql or mysql
        self.kea_database = kea_database  # Kea's: memfile, or postgresql/mysql with Kea's own schema
        self._kea_engine: Any = None
        self._drop_kea_database: Callable[[], None] = lambda: None
        self._drop_database: Callable[[], None] = lambda: None
        # a short path (unix sockets are limited to 107 bytes) that never exists, like Kea's offline d2
        self.d2_socket = str(workdir / "d2-not-running.sock")
        self.kea_files = workdir / "kea-files"
        self.ls_files = workdir / "leasesync-files"
        self.kea_files.mkdir()
        self.ls_files.mkdir()
        self.kea4: Any = None
        self.kea6: Any = None
        self.leasesync: ServerProcess | None = None
        self._leasesync_starts = 0

    def start_kea(self) -> None:
        if self.kea_database == "memfile":
            self.kea4, self.kea6, _ = start_topology(self.topology)
            return
        # imported here: the memfile runs need neither pytest's fixtures modules nor kea-admin
        from tests.test_kea_schema import kea_admin_init, kea_lease_database
        from tests.test_migrations import create_database

        db, self._drop_kea_database = create_database(self.kea_database, self.workdir)
        kea_admin_init(db)
        self._kea_engine = db.engine()
        self.kea4, self.kea6, _ = start_topology(self.topology, kea_lease_database(db))

    def reset_kea_leases(self) -> None:
        """Kea's SQL backends do not implement leaseX-wipe: empty its tables directly."""
        if self._kea_engine is not None:
            with self._kea_engine.begin() as conn:
                for table in ("lease4", "lease6"):
                    conn.exec_driver_sql(f"DELETE FROM {table}")

    def stop_kea(self) -> None:
        for kea in (self.kea4, self.kea6):
            if kea is not None:
                kea.stop()
        self.kea4 = self.kea6 = None
        if self._kea_engine is not None:
            self._kea_engine.dispose()
            self._kea_engine = None
        self._drop_kea_database()
        self._drop_kea_database = lambda: None

    def kea_alive(self, records: Sequence[dict[str, Any]] = ()) -> bool:
        """Whether both Kea daemons still run. A daemon that aborts while answering closes the
        agent's socket first and exits a moment later: when the agent says it could not reach a
        daemon, wait for that exit, or the next variant would be blamed for the crash."""
        if any(_DAEMON_GONE in r.get("body_text", "") for r in records):
            deadline = time.monotonic() + 3.0
            while time.monotonic() < deadline and self.kea4.alive() and self.kea6.alive():
                time.sleep(0.02)
        return bool(self.kea4 and self.kea6 and self.kea4.alive() and self.kea6.alive())

    def restart_kea(self) -> None:
        self.stop_kea()
        self.start_kea()

    def start_leasesync(self) -> None:
        self._leasesync_starts += 1
        rundir = self.workdir / f"leasesync-{self._leasesync_starts}"
        rundir.mkdir()
        database, self._drop_database = make_database(self.database, rundir)
        config = leasesync_config(database, self.topology, free_port(), self.d2_socket)
        self.leasesync = ServerProcess(config, rundir, "leasesync")
        self.leasesync.start()

    def stop_leasesync(self) -> None:
        if self.leasesync is not None:
            self.leasesync.stop()
            release_port(self.leasesync.port)
            shutil.rmtree(self.leasesync.workdir, ignore_errors=True)
        self.leasesync = None
        self._drop_database()
        self._drop_database = lambda: None

    def leasesync_log(self) -> str:
        assert self.leasesync is not None
        return self.leasesync.log_path.read_text(errors="replace")[-2500:]

    def leasesync_broken(self, records: list[dict[str, Any]]) -> bool:
        proc = self.leasesync.proc if self.leasesync else None
        if proc is None or proc.poll() is not None:
            return True
        return any(marker in r.get("body_text", "") for r in records for marker in _STUCK_DATABASE_MARKERS)

    def close(self) -> None:
        self.stop_leasesync()
        self.stop_kea()
        shutil.rmtree(self.workdir, ignore_errors=True)


def send_steps(steps: list[Step], host: str, port: int,
               reset: Callable[[], None] = lambda: None) -> list[dict[str, Any]]:
    """`reset` and this tool's RESET_STEPS (not recorded), then the steps; the step records."""
    reset()
    return kc.run_case({"steps": steps}, host, port, reset_steps=RESET_STEPS)


def with_files_dir(steps: list[Step], files_dir: Path) -> list[Step]:
    return json.loads(json.dumps(steps).replace(FILES_MARK, str(files_dir)))


@dataclass
class Results:
    ran: int = 0
    matched: int = 0
    mismatches: list[dict[str, Any]] = field(default_factory=list)
    kills_kea: list[dict[str, Any]] = field(default_factory=list)
    breaks_leasesync: list[dict[str, Any]] = field(default_factory=list)
    errors: list[dict[str, Any]] = field(default_factory=list)


def run(variants: list[Variant], servers: Servers) -> Results:
    results = Results()
    started = time.monotonic()
    # Kea and leasesync answer each variant at the same time
    with concurrent.futures.ThreadPoolExecutor(2) as pool:
        for number, variant in enumerate(variants, 1):
            results.ran += 1
            kea_steps = with_files_dir(variant.steps, servers.kea_files)
            ls_steps = with_files_dir(variant.steps, servers.ls_files)
            assert servers.leasesync is not None
            on_kea = pool.submit(send_steps, kea_steps, servers.kea4.http_host, servers.kea4.http_port,
                                 servers.reset_kea_leases)
            on_leasesync = pool.submit(send_steps, ls_steps, "127.0.0.1", servers.leasesync.port)
            kea_error = on_kea.exception()
            ls_error = on_leasesync.exception()
            entry: dict[str, Any] = {"family": variant.family, "name": variant.name, "steps": variant.steps}
            if not servers.kea_alive([] if kea_error else on_kea.result()):
                print(f"!! kills Kea: {variant.name}", flush=True)
                results.kills_kea.append(entry)
                servers.restart_kea()
                # both start afresh: the statistics' sample histories start again at start-up
                servers.stop_leasesync()
                servers.start_leasesync()
                continue
            if ls_error is None and servers.leasesync_broken(on_leasesync.result()):
                print(f"!! breaks leasesync: {variant.name}", flush=True)
                results.breaks_leasesync.append({**entry, "log": servers.leasesync_log()})
                servers.stop_leasesync()
                servers.start_leasesync()
                continue
            if kea_error or ls_error:
                print(f"?? error {variant.name}: kea={kea_error!r} leasesync={ls_error!r}", flush=True)
                results.errors.append({**entry, "kea": repr(kea_error), "leasesync": repr(ls_error)})
                continue
            diffs = []
            for index, (step, kea, ours) in enumerate(zip(variant.steps, on_kea.result(), on_leasesync.result(),
                                                          strict=True)):
                found = differences(step, kea, ours, servers.kea_files, servers.ls_files)
                if found:
                    diffs.append({"step": index, "request": step, "diffs": found,
                                  "kea": comparable(step, kea, servers.kea_files)["compared_body"],
                                  "leasesync": comparable(step, ours, servers.ls_files)["compared_body"]})
            if diffs:
                results.mismatches.append({**entry, "diffs": diffs})
            else:
                results.matched += 1
            if number % 250 == 0:
                print(f"-- {number}/{len(variants)} in {time.monotonic() - started:.0f}s", flush=True)
    return results


# =============================================================================================
# reporting

def _text_shape(body: Any) -> str:
    """An answer's result and text with quoted values and numbers blanked, so that variants
    failing the same way fall into one class."""
    answer = body[0] if isinstance(body, list) and body and isinstance(body[0], dict) else body
    if not isinstance(answer, dict):
        return str(body)[:50]
    text = re.sub(r"\d+", "N", re.sub(r"'[^']*'", "'X'", str(answer.get("text", ""))))
    return f"{answer.get('result')}:{text[:80]}"


def mismatch_class(mismatch: dict[str, Any]) -> tuple[str, str, str, str]:
    """(command, Kea's answer shape, leasesync's answer shape, what differs) of the first differing step."""
    first = mismatch["diffs"][0]
    return (command_of(first["request"]), _text_shape(first["kea"]), _text_shape(first["leasesync"]),
            first["diffs"][0].split(":", 1)[0])


def _first_diff_text(mismatch: dict[str, Any]) -> str:
    first = mismatch["diffs"][0]
    return json.dumps([first["request"], first["kea"], first["leasesync"]])


def _is(command: str, kea: str = "", leasesync: str = "", anywhere: str = "") -> Callable[[dict[str, Any]], bool]:
    """A mismatch whose first differing step sends ``command`` ("*": any), whose answer shapes
    (see _text_shape) start with ``kea``/``leasesync`` and whose request or answers contain ``anywhere``."""
    def matches(mismatch: dict[str, Any]) -> bool:
        cls_command, kea_shape, ls_shape, _ = mismatch_class(mismatch)
        return (command in ("*", cls_command) and kea_shape.startswith(kea) and ls_shape.startswith(leasesync)
                and anywhere in _first_diff_text(mismatch))
    return matches


# differences the README documents after its "Where leasesync deliberately differs" table: counted
# apart, so that the summary lists what is new
README_DIFFERENCES: list[tuple[str, Callable[[dict[str, Any]], bool]]] = [
    ("config-test to the agent checks its LeaseSync section", _is("config-test", anywhere="Control-agent")),
    ("config-set to the agent takes its LeaseSync section", _is("config-set", anywhere="Control-agent")),
    # the table's first row: a command that can mean one family needs no service
    ("stat-leaseX-get without service goes to its family", _is("stat-lease4-get", kea="2:")),
    ("stat-leaseX-get without service goes to its family", _is("stat-lease6-get", kea="2:")),
    ("config-test refuses memfile, which leasesync cannot run", _is("config-test", anywhere="is not supported by leasesync")),
    ("config-test: leasesync's parser refuses lifetimes and lengths out of range",
     _is("config-test", anywhere="out of range value")),
    ("the agent's own config-get answers its LeaseSync section", _is("config-get", anywhere='"LeaseSync"')),
    ("commands leasesync does not implement", _is("*", leasesync="2:'X' command not supported")),
    ("lease4-bulk-apply is leasesync's own", _is("lease4-bulk-apply")),
    ("the CA re-prints floats (Number overflow, user-context)", _is("*", kea="1:Number overflow")),
    ("the CA re-prints floats (Number overflow, user-context)", _is("lease4-get", anywhere="123457000000.0")),
    ("JSON as RFC 8259: leading zeros, '+', raw tabs", _is("*", kea="0:", leasesync="400:Bad Request")),
    ("JSON as RFC 8259: \\u escapes above \\u00ff", _is("*", kea="400:Bad Request", leasesync="0:")),
    # the same two where the command itself fails once the JSON is read (e.g. an address in no
    # subnet a command may pick: --topology selection)
    ("JSON as RFC 8259: leading zeros, '+', raw tabs", _is("*", kea="1:", leasesync="400:Bad Request")),
    ("JSON as RFC 8259: \\u escapes above \\u00ff", _is("*", kea="400:Bad Request", leasesync="1:")),
    ("IPv6 address with a zone", _is("*", anywhere="::100%")),
    ("a NUL character cuts Kea's error text", _is("*", anywhere="\\u0000")),
    ("\"hw-address\": \"\" on a v6 lease", _is("*", anywhere='"hw-address": "", "iaid"')),
    ("lease4-update with no hw-address nor client-id", _is("lease4-update", leasesync="1:LeaseN: N.N.N.N, state")),
    ("lease4-add/update with no hw-address nor client-id", _is("lease4-add", leasesync="1:LeaseN: N.N.N.N, state")),
    ("statistics: packet counters only via the local Kea", _is("*", anywhere="pkt4-received")),
    ("statistics: packet counters only via the local Kea", _is("*", anywhere="pkt6-received")),
    # --database postgresql/mysql: what Kea's SQL columns cannot hold, as Kea's SQL backends
    ("PostgreSQL/MySQL columns hold what Kea's SQL schema holds",
     _is("*", leasesync="1:the lease database cannot store this lease")),
    ("PostgreSQL/MySQL columns hold what Kea's SQL schema holds", _is("*", anywhere="the lease database holds at most")),
    ("PostgreSQL/MySQL columns hold what Kea's SQL schema holds",
     _is("*", anywhere="is beyond the lease database's time range")),
]


# raw HTTP that Kea reads leniently (or not at all) and leasesync as RFC 9112 asks: by variant name
_STRICT_HTTP = ("HTTP as RFC 9112 asks: HTTP/0.9, lengths, header lines, TE, HEAD",
                frozenset({"http/version-0-9", "http/content-length-spaces",
                           "http/content-length-duplicate-same", "http/content-length-negative",
                           "http/content-length-plus", "http/content-length-hex", "http/transfer-encoding-identity",
                           "http/header-no-colon", "http/header-space-before-colon", "http/header-folding",
                           "http/head", "http/double-space", "http/content-type-spaces"}))
README_DIFFERENCES.append((_STRICT_HTTP[0], lambda mismatch: mismatch["name"] in _STRICT_HTTP[1]))


def _bulk_replaced_another_type(mismatch: dict[str, Any]) -> bool:
    """A lease6-bulk-apply lease at an address that held a lease of another type: leasesync keeps
    the bulk's lease, Kea's memfile the stored one (README, lease6-bulk-apply)."""
    if not any(command_of(step) == "lease6-bulk-apply" for step in mismatch.get("steps", [])):
        return False
    first = mismatch["diffs"][0]

    def types(body: Any) -> dict[str, str]:
        answer = body[0] if isinstance(body, list) and body and isinstance(body[0], dict) else {}
        leases = (answer.get("arguments") or {}).get("leases", []) if isinstance(answer, dict) else []
        return {lease.get("ip-address"): lease.get("type") for lease in leases if isinstance(lease, dict)}

    kea, ours = types(first["kea"]), types(first["leasesync"])
    return any(address in ours and ours[address] != kind for address, kind in kea.items())


README_DIFFERENCES.append(("lease6-bulk-apply replaces a lease of another type at its address",
                           _bulk_replaced_another_type))


# --kea-database postgresql/mysql: where Kea's SQL backend answers otherwise than its memfile, and
# leasesync answers as memfile (README, "Where leasesync deliberately differs from Kea 2.2")
SQL_BACKEND_DIFFERENCES: list[tuple[str, Callable[[dict[str, Any]], bool]]] = [
    ("Kea's SQL backends do not implement leaseX-wipe", _is("*", kea="1:wipeLeasesN is not implemented for")),
    # Kea reads "\u00e9" as the byte 0xe9 (README: raw UTF-8 and \u00XX), which the SQL servers refuse
    ("Kea's \\u00XX bytes are not UTF-8 to the SQL servers", _is("*", anywhere="invalid byte sequence for encoding")),
    ("Kea's \\u00XX bytes are not UTF-8 to the SQL servers", _is("*", anywhere="Incorrect string value")),
    ("Kea on MySQL finds hostnames through the column's collation",
     _is("*", kea="0:N IPvN lease(s) found.", leasesync="3:", anywhere="get-by-hostname")),
    ("a v6 page on PostgreSQL/MySQL is ordered by address text", _is("lease6-get-page", kea="3:N IPvN lease(s)")),
]


def readme_difference(mismatch: dict[str, Any], kea_sql: bool = False) -> str | None:
    known = README_DIFFERENCES + SQL_BACKEND_DIFFERENCES if kea_sql else README_DIFFERENCES
    return next((reason for reason, matches in known if matches(mismatch)), None)


def _shown_request(step: Step) -> str:
    return json.dumps(step.get("body", step))


def print_summary(results: Results, kea_sql: bool = False) -> None:
    classes: dict[tuple[str, str, str, str], list[dict[str, Any]]] = {}
    documented: dict[str, int] = {}
    for mismatch in results.mismatches:
        reason = readme_difference(mismatch, kea_sql)
        if reason:
            documented[reason] = documented.get(reason, 0) + 1
        else:
            classes.setdefault(mismatch_class(mismatch), []).append(mismatch)
    print("\nmismatches the README documents:")
    for reason, count in sorted(documented.items(), key=lambda kv: -kv[1]):
        print(f"   {count:4}x {reason}")
    print(f"\n{len(classes)} other mismatch classes")
    for (command, kea_shape, ls_shape, what), members in sorted(classes.items(), key=lambda kv: -len(kv[1])):
        smallest = min(members, key=lambda m: (len(m["steps"]), len(json.dumps(m["steps"]))))
        first = smallest["diffs"][0]
        print(f"\n### {len(members)}x {command}: {what} differs; kea {kea_shape!r}, leasesync {ls_shape!r}")
        print(f"   e.g. {', '.join(m['name'] for m in members[:3])}")
        print(f"   minimal: {smallest['name']} (step {first['step']} of {len(smallest['steps'])})")
        print(f"   request:   {_shown_request(first['request'])[:300]}")
        for line in first["diffs"]:
            print(f"   {line[:600]}")
    for title, entries in (("kills Kea", results.kills_kea), ("breaks leasesync", results.breaks_leasesync),
                           ("error", results.errors)):
        for entry in entries:
            print(f"{title}: {entry['name']}: {_shown_request(entry['steps'][-1])[:300]}")
    print(f"\nran {results.ran}, matched {results.matched}, mismatched {len(results.mismatches)} "
          f"({sum(documented.values())} documented in the README), "
          f"killed Kea {len(results.kills_kea)}, broke leasesync {len(results.breaks_leasesync)}, "
          f"errors {len(results.errors)}")


def _exit_on_sigterm(signum: int, frame: FrameType | None) -> None:
    raise SystemExit(128 + signum)  # unwinds through the clean-up below, like Ctrl-C


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--only", help="run only the variants whose name contains this")
    parser.add_argument("--family", choices=[*FAMILIES, "all", "none"], default="all")
    parser.add_argument("--out", type=Path, help="write the raw results as JSON to this file")
    parser.add_argument("--random", type=int, default=0, metavar="N",
                        help="also N seeded random combinations of odd lease fields (--family none: only them)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--topology", default=TOPOLOGY, choices=sorted(kc.TOPOLOGIES),
                        help=f"the tests/kea_cases.py topology both servers run (default {TOPOLOGY}; "
                             "'selection': nested prefixes, client classes, automatic ids)")
    parser.add_argument("--database", default="sqlite", choices=["sqlite", "postgresql", "mysql"],
                        help="leasesync's lease database (default sqlite; the others as in tests/conftest.py)")
    parser.add_argument("--kea-database", default="memfile", choices=["memfile", "postgresql", "mysql"],
                        help="Kea's lease database (default a non-persistent memfile; the others a fresh "
                             "database with Kea's own schema, made by kea-admin)")
    args = parser.parse_args()

    unavailable = kea_available()
    if unavailable:
        print(f"Kea 2.2 not available: {unavailable}", file=sys.stderr)
        return 2
    families = list(FAMILIES) if args.family == "all" else [] if args.family == "none" else [args.family]
    variants = collect(families, args.only, args.random, args.seed)
    print(f"{len(variants)} variants ({', '.join(families)})", flush=True)

    signal.signal(signal.SIGTERM, _exit_on_sigterm)
    started = time.monotonic()
    servers = Servers(Path(tempfile.mkdtemp(prefix="kea-fuzz-", dir="/tmp")), args.topology, args.database,
                      args.kea_database)
    try:
        servers.start_kea()
        servers.start_leasesync()
        results = run(variants, servers)
    finally:
        servers.close()
    print_summary(results, kea_sql=args.kea_database != "memfile")
    print(f"{time.monotonic() - started:.0f}s")
    if args.out:
        args.out.write_text(json.dumps(results.__dict__, indent=1, default=repr))
    return 0


if __name__ == "__main__":
    sys.exit(main())
