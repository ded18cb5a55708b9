"""Differential test cases: lease_cmds commands and control-channel errors, Kea 2.2 as oracle.

Data model
----------
``CASES`` is a list of cases. A case is::

    {"name": "lease4-add/full", "topology": "default" | "ddns", "tags": [...], "steps": [step, ...]}

and every case assumes an **empty lease database** at its start: run ``RESET_STEPS`` (answers are
not recorded) before each case. A step is one request to the control agent (leasesync or Kea's
kea-ctrl-agent), one of::

    {"kind": "cmd", "body": {...envelope...}}
        POST / with Content-Type: application/json, body = json.dumps(envelope)
    {"kind": "raw", "method": "POST", "path": "/", "headers": {...}, "body": "<text>"}
        sent with httpx (which adds Host, Accept, Accept-Encoding, Connection, User-Agent,
        Content-Length); "headers" are exactly the extra ones
    {"kind": "http", "request": "<request text, \\r\\n line ends>"}
        sent byte-for-byte on a fresh TCP connection (no Content-Length, bad request line …)

Topologies (see ``TOPOLOGIES``): one control agent with ``dhcp4`` and ``dhcp6`` sockets and a
``d2`` socket configured whose daemon is not running. dhcp4: subnet 1 192.0.2.0/24 (pool
.10-.200, global valid-lifetime 4000), subnet 2 198.51.100.0/24 (valid-lifetime 7200). dhcp6:
preferred 3000 / valid 4000, subnet 1 2001:db8:1::/64 (+ pd-pool 3000:1::/48 len 64), subnet 2
2001:db8:2::/64. Topology "ddns" is the same with ``dhcp-ddns.enable-updates: true`` in both
daemons (only used by the resend-ddns cases).

Tags: "d2" = needs the configured-but-offline d2 socket; "ca" = answered by the control agent
itself; "http" = transport-level; "order" = the answer contains several leases whose order is
Kea's memfile order (spec says clients must not rely on it).

Normalisation (``normalise``), applied to both sides before comparing:
* ``cltt`` values within ``TIME_WINDOW`` seconds of the request's send time -> ``"<now>"``
  (cases otherwise use fixed absolute ``expire`` values so that cltt arithmetic is compared
  exactly);
* the ``Date`` header -> ``"<date>"``, ``Content-Length`` -> ``"<len>"`` (the body text is
  compared instead);
* statistics' sample times (``"YYYY-MM-DD HH:MM:SS.ffffff"`` strings) -> ``"<time>"``: the values
  and the number and order of samples are compared, not when they were taken;
* position suffixes are compared as they are: Kea's daemon ends many error texts with the
  position of the element in the command kea-ctrl-agent forwarded (`` (<wire>:0:N)``), and the
  agent's own parser with a line and column of the client's bytes (`` (<string>:L:C)``);
  leasesync computes both (``app.kea_json.wire_position``, ``client_position``).

* in a family's ``config-get`` answer, the keys that set up each side's own daemon
  (``OWN_SETUP_KEYS``: lease-database, control-socket, loggers, ...) are left out of the body and
  of the body text; every other key, Kea's defaults included, is compared.

Observed (see golden): raw UTF-8 bytes in a JSON string are taken byte by byte by Kea ("h\u00e9"
sent as the two bytes C3 A9 comes back as "h\u00c3\u00a9"); the \u00e9 escape round-trips.

Memfile quirk (see "lease6-add/same-address-na-and-pd"): adding a PD/TA lease at an address that
already has a lease of another type answers "... added." (result 0) but stores nothing.

Not included on purpose: lease4/lease6-resend-ddns **without arguments** (kea-dhcp4 2.2 aborts
on it; the spec asks leasesync to answer result 1 instead), and the 408/idle timeouts (slow).
"""

from __future__ import annotations

import copy
import json
import re
import socket
import time
from typing import Any

from tests.kea_harness import SPEC_SUBNETS4, SPEC_SUBNETS6

TIME_WINDOW = 300

# ---------------------------------------------------------------------------------------------
# topologies

# the spec's reference topology (lease-commands.md), shared with the harness and the fixtures
SUBNETS4: list[dict[str, Any]] = SPEC_SUBNETS4
SUBNETS6: list[dict[str, Any]] = SPEC_SUBNETS6
DDNS_EXTRA: dict[str, Any] = {
    "dhcp-ddns": {"enable-updates": True, "server-ip": "127.0.0.1", "server-port": 53001},
}
# a richer family configuration, for config-get: Kea's defaults at every level, its normalisations
# (comments, pools, options) and inheritance (global -> shared network -> subnet)
CONFIG4_EXTRA: dict[str, Any] = {
    "comment": "differential", "user-context": {"site": "lab"}, "min-valid-lifetime": 1000,
    "max-valid-lifetime": 8000, "renew-timer": 1000, "rebind-timer": 2000, "t1-percent": 0.4,
    "option-data": [{"name": "domain-name-servers", "data": "192.0.2.1, 192.0.2.2"}, {"code": 15, "data": "example.org"},
                    {"code": 12, "csv-format": False, "data": "6c 73"}],
    "expired-leases-processing": {"max-reclaim-leases": 50}, "dhcp-ddns": {"enable-updates": False, "server-port": 53009},
    "client-classes": [{"name": "lab", "test": "member('ALL')", "comment": "c"}],
    "shared-networks": [{"name": "net", "comment": "n", "valid-lifetime": 3000, "subnet4": [
        {"id": 3, "subnet": "203.0.113.0/24", "option-data": [{"name": "routers", "data": "203.0.113.1"}],
         "pools": [{"pool": "203.0.113.0 - 203.0.113.127"}, {"pool": "203.0.113.130-203.0.113.140", "comment": "small"}]},
    ]}],
}
CONFIG6_EXTRA: dict[str, Any] = {
    "comment": "differential", "min-preferred-lifetime": 2000, "calculate-tee-times": False,
    "option-data": [{"name": "dns-servers", "data": "2001:db8::1"}, {"code": 24, "data": "example.org"}],
    "multi-threading": {"enable-multi-threading": False},
    "shared-networks": [{"name": "net6", "valid-lifetime": 5000, "subnet6": [
        {"id": 3, "subnet": "2001:db8:3::/64", "user-context": {"u": 1}, "comment": "three",
         "pools": [{"pool": "2001:db8:3::10 - 2001:db8:3::20"}, {"pool": "2001:db8:3:0:1:: - 2001:db8:3:0:1:ffff:ffff:ffff"}],
         "pd-pools": [{"prefix": "3000:3::", "prefix-len": 48, "delegated-len": 56, "comment": "pd"}]},
    ]}],
}
# Both sides' reclamation timers are off: a timer run between two steps of a case would reclaim
# the expired leases some cases store (leases-reclaim cases reclaim them on purpose).
TIMERS_OFF = {"reclaim-timer-wait-time": 0, "flush-reclaimed-timer-wait-time": 0}
NO_TIMERS: dict[str, Any] = {"expired-leases-processing": TIMERS_OFF}
CONFIG4_EXTRA["expired-leases-processing"] = {**CONFIG4_EXTRA["expired-leases-processing"], **TIMERS_OFF}
SELECTION_SUBNETS4: list[dict[str, Any]] = [
    {"id": 12, "subnet": "10.1.0.0/16"},
    {"id": 10, "subnet": "10.0.0.0/8", "pools": [{"pool": "10.1.0.0/24"}]},
    {"id": 7, "subnet": "192.0.2.0/24", "client-class": "lab"},
    {"subnet": "198.51.100.0/24"},
]
SELECTION_SUBNETS6: list[dict[str, Any]] = [
    {"id": 12, "subnet": "2001:db8:1::/64"},
    {"id": 10, "subnet": "2001:db8::/32", "pd-pools": [{"prefix": "2001:db8:8::", "prefix-len": 48, "delegated-len": 56}]},
    {"id": 7, "subnet": "2001:db9::/64", "client-class": "lab"},
    {"subnet": "2001:dba::/64"},
]
TOPOLOGIES: dict[str, dict[str, Any]] = {
    "default": {
        "dhcp4": {"subnet4": SUBNETS4, "valid-lifetime": 4000, **NO_TIMERS},
        "dhcp6": {"subnet6": SUBNETS6, "preferred-lifetime": 3000, "valid-lifetime": 4000, **NO_TIMERS},
        "agent-services": ["dhcp4", "dhcp6", "d2 (socket configured, daemon not running)"],
    },
    "config": {
        "dhcp4": {"subnet4": SUBNETS4, "valid-lifetime": 4000, **CONFIG4_EXTRA},
        "dhcp6": {"subnet6": SUBNETS6, "preferred-lifetime": 3000, "valid-lifetime": 4000, **CONFIG6_EXTRA, **NO_TIMERS},
        "agent-services": ["dhcp4", "dhcp6", "d2 (socket configured, daemon not running)"],
    },
    # Kea's stat_cmds hook loaded beside lease_cmds (leasesync answers stat-leaseX-get without it)
    "stats": {
        "dhcp4": {"subnet4": SUBNETS4, "valid-lifetime": 4000, **NO_TIMERS},
        "dhcp6": {"subnet6": SUBNETS6, "preferred-lifetime": 3000, "valid-lifetime": 4000, **NO_TIMERS},
        "agent-services": ["dhcp4", "dhcp6", "d2 (socket configured, daemon not running)"],
        "hooks": ["libdhcp_stat_cmds.so"],
    },
    # which subnet a command that names none lands in: nested prefixes (the lowest id wins),
    # client-class on a subnet or its shared network (never picked), automatic ids (shared
    # networks numbered first)
    "selection": {
        "dhcp4": {"subnet4": SELECTION_SUBNETS4, "valid-lifetime": 4000, "client-classes": [{"name": "lab"}],
                  "shared-networks": [
                      {"name": "classed", "client-class": "lab", "subnet4": [{"subnet": "203.0.113.0/25"}]},
                      {"name": "open", "valid-lifetime": 600, "subnet4": [
                          {"id": 30, "subnet": "203.0.113.192/26"},
                          {"subnet": "203.0.113.128/26", "valid-lifetime": 500}]}],
                  **NO_TIMERS},
        "dhcp6": {"subnet6": SELECTION_SUBNETS6, "preferred-lifetime": 3000, "valid-lifetime": 4000,
                  "client-classes": [{"name": "lab"}],
                  "shared-networks": [
                      {"name": "classed", "client-class": "lab", "subnet6": [{"subnet": "2001:dbb::/64"}]},
                      {"name": "open", "subnet6": [{"subnet": "2001:dbc::/64", "preferred-lifetime": 300,
                                                    "valid-lifetime": 500}]}],
                  **NO_TIMERS},
        "agent-services": ["dhcp4", "dhcp6", "d2 (socket configured, daemon not running)"],
        "hooks": ["libdhcp_stat_cmds.so"],  # so that tests/kea_fuzz.py --topology selection compares stat-leaseX-get
    },
    "ddns": {
        "dhcp4": {"subnet4": SUBNETS4, "valid-lifetime": 4000, **DDNS_EXTRA, **NO_TIMERS},
        "dhcp6": {"subnet6": SUBNETS6, "preferred-lifetime": 3000, "valid-lifetime": 4000, **DDNS_EXTRA, **NO_TIMERS},
        "agent-services": ["dhcp4", "dhcp6", "d2 (socket configured, daemon not running)"],
    },
}

# ---------------------------------------------------------------------------------------------
# step builders

_OMIT: Any = object()


def cmd(command: Any, arguments: Any = _OMIT, service: Any = _OMIT, **extra: Any) -> dict[str, Any]:
    body: dict[str, Any] = {"command": command}
    if service is not _OMIT:
        body["service"] = service
    if arguments is not _OMIT:
        body["arguments"] = arguments
    body.update(extra)
    return {"kind": "cmd", "body": body}


def c4(command: str, arguments: Any = _OMIT) -> dict[str, Any]:
    return cmd(command, arguments, ["dhcp4"])


def c6(command: str, arguments: Any = _OMIT) -> dict[str, Any]:
    return cmd(command, arguments, ["dhcp6"])


def body(obj: Any) -> dict[str, Any]:
    """A 'cmd' step whose body is any JSON value (not necessarily an envelope)."""
    return {"kind": "cmd", "body": obj}


def raw(text: str, headers: dict[str, str] | None = None, method: str = "POST", path: str = "/") -> dict[str, Any]:
    return {"kind": "raw", "method": method, "path": path, "headers": headers or {}, "body": text}


def http(request: str) -> dict[str, Any]:
    return {"kind": "http", "request": request}


JSON_CT = {"Content-Type": "application/json"}

RESET_STEPS: list[dict[str, Any]] = [c4("lease4-wipe"), c6("lease6-wipe")]

CASES: list[dict[str, Any]] = []


def case(name: str, *steps: dict[str, Any], topology: str = "default", tags: tuple[str, ...] = ()) -> None:
    if any(c["name"] == name for c in CASES):
        raise ValueError(f"duplicate case name {name}")
    CASES.append({"name": name, "topology": topology, "tags": list(tags), "steps": list(steps)})


def err4(name: str, command: str, arguments: Any = _OMIT, *pre: dict[str, Any]) -> None:
    case(name, *pre, c4(command, arguments))


def err6(name: str, command: str, arguments: Any = _OMIT, *pre: dict[str, Any]) -> None:
    case(name, *pre, c6(command, arguments))


# ---------------------------------------------------------------------------------------------
# common lease fixtures

HW = "1a:1b:1c:1d:1e:1f"
DUID = "01:02:03:04:05:06:07:08"
L4 = {"ip-address": "192.0.2.20", "hw-address": HW}
L4_FULL = {
    "ip-address": "192.0.2.31",
    "hw-address": HW,
    "client-id": "01:02:03",
    "subnet-id": 1,
    "valid-lft": 1000,
    "expire": 2000000000,
    "fqdn-fwd": True,
    "fqdn-rev": True,
    "hostname": "Host.Example.ORG",
    "state": 0,
    "user-context": {"version": 1, "x": [1, 2]},
}
L4_S2 = {"ip-address": "198.51.100.10", "hw-address": "aa:bb:cc:dd:ee:ff", "state": 1}
L6 = {"ip-address": "2001:db8:1::100", "duid": DUID, "iaid": 1234}
L6_PD = {"subnet-id": 1, "type": "IA_PD", "ip-address": "3000:1:0:1::", "prefix-len": 64, "duid": DUID, "iaid": 7}
L6_TA = {"subnet-id": 1, "ip-address": "2001:db8:1::109", "duid": DUID, "iaid": 1, "type": "IA_TA"}
L6_FULL = {
    "ip-address": "2001:db8:1::106",
    "duid": DUID,
    "iaid": 5,
    "hw-address": HW,
    "subnet-id": 1,
    "preferred-lft": 500,
    "valid-lft": 1000,
    "expire": 2000000000,
    "fqdn-fwd": True,
    "fqdn-rev": True,
    "hostname": "Urania.Example.ORG",
    "user-context": {"version": 1},
}


def w(d: dict[str, Any], **kw: Any) -> dict[str, Any]:
    """copy of d with keys replaced (underscores -> dashes); value _OMIT deletes the key."""
    out = copy.deepcopy(d)
    for k, v in kw.items():
        k = k.replace("_", "-")
        if v is _OMIT:
            out.pop(k, None)
        else:
            out[k] = v
    return out


D = _OMIT  # w(L4, hw_address=D) deletes hw-address


def add4(**kw: Any) -> dict[str, Any]:
    return c4("lease4-add", w(L4, **kw))


def add6(**kw: Any) -> dict[str, Any]:
    return c6("lease6-add", w(L6, **kw))


def get4(ip: str) -> dict[str, Any]:
    return c4("lease4-get", {"ip-address": ip})


def get6(ip: str, type_: str | None = None) -> dict[str, Any]:
    a: dict[str, Any] = {"ip-address": ip}
    if type_:
        a["type"] = type_
    return c6("lease6-get", a)


# ---------------------------------------------------------------------------------------------
# lease4-add

case("lease4-add/basic", add4(), get4("192.0.2.20"))
case("lease4-add/full", c4("lease4-add", L4_FULL), get4("192.0.2.31"))
case("lease4-add/subnet2-inherits-lifetime-state1", c4("lease4-add", L4_S2), get4("198.51.100.10"))
case("lease4-add/subnet-id-0-resolves", add4(subnet_id=0), get4("192.0.2.20"))
case("lease4-add/explicit-subnet-id", add4(ip_address="198.51.100.20", subnet_id=2), get4("198.51.100.20"))
case("lease4-add/outside-pool-inside-subnet", add4(ip_address="192.0.2.1"), get4("192.0.2.1"))
case("lease4-add/valid-lft-0", add4(valid_lft=0), get4("192.0.2.20"))
case("lease4-add/valid-lft-infinite", add4(valid_lft=4294967295), get4("192.0.2.20"))
case("lease4-add/expire-in-past", add4(valid_lft=5, expire=1000000000), get4("192.0.2.20"))
case("lease4-add/expire-valid-lft-plus-1", add4(valid_lft=100, expire=101), get4("192.0.2.20"))
case("lease4-add/state-2", add4(state=2), get4("192.0.2.20"))
case("lease4-add/hw-short-groups-uppercase", add4(hw_address="1:2:3:A:B:CD"), get4("192.0.2.20"))
case("lease4-add/hw-20-bytes", add4(hw_address=":".join(["ab"] * 20)), get4("192.0.2.20"))
case("lease4-add/client-id-no-colons", add4(client_id="0102AB"), get4("192.0.2.20"))
case("lease4-add/client-id-128-bytes", add4(client_id="11" * 128), get4("192.0.2.20"))
case("lease4-add/client-id-only-hw-empty", add4(hw_address="", client_id="01:02"), get4("192.0.2.20"))
case("lease4-add/hostname-non-ascii", add4(hostname="H\u00f4st.Example"), get4("192.0.2.20"))
case("lease4-add/hostname-without-fqdn-flags", add4(hostname="Plain"), get4("192.0.2.20"))
case("lease4-add/unknown-keys-ignored", add4(foo="bar", pool_id=5), get4("192.0.2.20"))
case("lease4-add/user-context-empty-map", add4(user_context={}), get4("192.0.2.20"))
case("lease4-add/fqdn-fwd-only", add4(fqdn_fwd=True, hostname="a.example"), get4("192.0.2.20"))
case("lease4-add/duplicate", add4(), add4(), add4(hw_address="aa:aa:aa:aa:aa:aa", state=5))
case("lease4-add/duplicate-expired", add4(valid_lft=5, expire=1000000000), add4())
err4("lease4-add/err-no-arguments", "lease4-add")
err4("lease4-add/err-arguments-list", "lease4-add", [1])
err4("lease4-add/err-arguments-string", "lease4-add", "x")
err4("lease4-add/err-arguments-null", "lease4-add", None)
err4("lease4-add/err-arguments-empty-map", "lease4-add", {})
err4("lease4-add/err-missing-ip", "lease4-add", w(L4, ip_address=D))
err4("lease4-add/err-missing-hw", "lease4-add", w(L4, hw_address=D))
err4("lease4-add/err-missing-hw-with-client-id", "lease4-add", w(L4, hw_address=D, client_id="01:02"))
err4("lease4-add/err-ip-int", "lease4-add", w(L4, ip_address=192))
err4("lease4-add/err-hw-int", "lease4-add", w(L4, hw_address=5))
err4("lease4-add/err-valid-lft-string", "lease4-add", w(L4, valid_lft="100"))
err4("lease4-add/err-valid-lft-float", "lease4-add", w(L4, valid_lft=1.5))
err4("lease4-add/err-fqdn-fwd-string", "lease4-add", w(L4, fqdn_fwd="true"))
err4("lease4-add/err-fqdn-rev-int", "lease4-add", w(L4, fqdn_rev=1))
err4("lease4-add/err-hostname-int", "lease4-add", w(L4, hostname=5))
err4("lease4-add/err-client-id-int", "lease4-add", w(L4, client_id=5))
err4("lease4-add/err-subnet-id-string", "lease4-add", w(L4, subnet_id="1"))
err4("lease4-add/err-state-string", "lease4-add", w(L4, state="0"))
err4("lease4-add/err-expire-string", "lease4-add", w(L4, expire="2000000000"))
err4("lease4-add/err-state-negative", "lease4-add", w(L4, state=-1))
err4("lease4-add/err-state-3", "lease4-add", w(L4, state=3))
err4("lease4-add/err-subnet-id-negative", "lease4-add", w(L4, subnet_id=-1))
err4("lease4-add/err-subnet-id-too-big", "lease4-add", w(L4, subnet_id=4294967296))
err4("lease4-add/err-valid-lft-negative", "lease4-add", w(L4, valid_lft=-1))
err4("lease4-add/err-valid-lft-too-big", "lease4-add", w(L4, valid_lft=4294967296))
err4("lease4-add/err-ip-unparsable", "lease4-add", w(L4, ip_address="192.0.2.300"))
err4("lease4-add/err-ip-garbage", "lease4-add", w(L4, ip_address="bogus"))
err4("lease4-add/err-ip-empty", "lease4-add", w(L4, ip_address=""))
err4("lease4-add/err-ipv6-address", "lease4-add", w(L4, ip_address="2001:db8::1"))
err4("lease4-add/err-no-subnet-for-address", "lease4-add", w(L4, ip_address="10.9.9.9"))
err4("lease4-add/err-zero-address", "lease4-add", w(L4, ip_address="0.0.0.0"))
err4("lease4-add/err-subnet-id-unknown", "lease4-add", w(L4, subnet_id=99))
err4("lease4-add/err-address-not-in-subnet", "lease4-add", w(L4, ip_address="192.0.2.22", subnet_id=2))
err4("lease4-add/err-hw-bad-hex", "lease4-add", w(L4, hw_address="zz:1b"))
err4("lease4-add/err-hw-no-colons", "lease4-add", w(L4, hw_address="1a1b1c1d1e1f"))
err4("lease4-add/err-hw-dashes", "lease4-add", w(L4, hw_address="1a-1b-1c-1d-1e-1f"))
case("lease4-add/hw-empty-accepted", add4(ip_address="192.0.2.23", hw_address=""), get4("192.0.2.23"))
err4("lease4-add/err-hw-21-bytes", "lease4-add", w(L4, hw_address=":".join(["ab"] * 21)))
err4("lease4-add/err-client-id-empty", "lease4-add", w(L4, client_id=""))
err4("lease4-add/err-client-id-1-byte", "lease4-add", w(L4, client_id="01"))
err4("lease4-add/err-client-id-129-bytes", "lease4-add", w(L4, client_id="11" * 129))
err4("lease4-add/err-client-id-bad-hex", "lease4-add", w(L4, client_id="01:zz"))
err4("lease4-add/err-fqdn-fwd-no-hostname", "lease4-add", w(L4, fqdn_fwd=True))
err4("lease4-add/err-fqdn-rev-empty-hostname", "lease4-add", w(L4, fqdn_rev=True, hostname=""))
err4("lease4-add/err-user-context-list", "lease4-add", w(L4, user_context=[1]))
err4("lease4-add/err-user-context-string", "lease4-add", w(L4, user_context="x"))
err4("lease4-add/err-user-context-null", "lease4-add", w(L4, user_context=None))
err4("lease4-add/err-expire-zero", "lease4-add", w(L4, ip_address="192.0.2.35", expire=0))
err4("lease4-add/err-expire-negative", "lease4-add", w(L4, ip_address="192.0.2.35", expire=-5))
case("lease4-add/expire-equals-valid-accepted", add4(ip_address="192.0.2.34", valid_lft=100, expire=100), get4("192.0.2.34"))
err4("lease4-add/err-expire-below-valid", "lease4-add", w(L4, ip_address="192.0.2.34", valid_lft=100, expire=50))
# validation order probes
err4("lease4-add/order-bad-ip-and-bad-state", "lease4-add", w(L4, ip_address="bogus", state=7))
err4("lease4-add/order-missing-hw-and-bad-ip", "lease4-add", {"ip-address": "bogus"})
err4("lease4-add/order-type-error-and-missing", "lease4-add", {"ip-address": "192.0.2.20", "valid-lft": "x"})
err4("lease4-add/order-subnet-mismatch-and-bad-state", "lease4-add", w(L4, subnet_id=2, state=7))
err4("lease4-add/order-bad-state-and-fqdn", "lease4-add", w(L4, state=7, fqdn_fwd=True))
err4("lease4-add/order-fqdn-and-bad-expire", "lease4-add", w(L4, fqdn_fwd=True, expire=0))
err4("lease4-add/order-bad-hw-and-bad-state", "lease4-add", w(L4, hw_address="zz", state=7))
err4("lease4-add/order-user-context-and-state", "lease4-add", w(L4, user_context=[1], state=7))
case("lease4-add/order-exists-and-bad-state", add4(), add4(state=7))
case("lease4-add/order-exists-and-fqdn", add4(), add4(fqdn_fwd=True))

# ---------------------------------------------------------------------------------------------
# lease6-add

case("lease6-add/basic", add6(), get6("2001:db8:1::100"))
case("lease6-add/full", c6("lease6-add", L6_FULL), get6("2001:db8:1::106"))
case("lease6-add/pd", c6("lease6-add", L6_PD), get6("3000:1:0:1::", "IA_PD"))
case("lease6-add/ta", c6("lease6-add", L6_TA), get6("2001:db8:1::109", "IA_TA"))
case("lease6-add/na-explicit-type", add6(type="IA_NA", subnet_id=1), get6("2001:db8:1::100"))
case("lease6-add/subnet2-preferred-quirk", add6(ip_address="2001:db8:2::1"), get6("2001:db8:2::1"))
case("lease6-add/preferred-explicit", add6(preferred_lft=1000), get6("2001:db8:1::100"))
case("lease6-add/preferred-gt-valid", add6(preferred_lft=9000, valid_lft=100), get6("2001:db8:1::100"))
case("lease6-add/valid-only", add6(valid_lft=1234), get6("2001:db8:1::100"))
case("lease6-add/uncompressed-address", add6(ip_address="2001:db8:1:0:0:0:0:100"), get6("2001:db8:1::100"))
case("lease6-add/uppercase-address", add6(ip_address="2001:DB8:1::ABC"), get6("2001:db8:1::abc"))
case("lease6-add/pd-prefix-len-200", c6("lease6-add", w(L6_PD, prefix_len=200)), get6("3000:1:0:1::", "IA_PD"))
case("lease6-add/pd-prefix-len-56", c6("lease6-add", w(L6_PD, prefix_len=56)), get6("3000:1:0:1::", "IA_PD"))
case("lease6-add/pd-outside-pool-subnet2", c6("lease6-add", w(L6_PD, ip_address="4000::", prefix_len=48, subnet_id=2)),
     get6("4000::", "IA_PD"))
case("lease6-add/pd-state-2", c6("lease6-add", w(L6_PD, state=2)), get6("3000:1:0:1::", "IA_PD"))
case("lease6-add/na-prefix-len-ignored", add6(prefix_len=64), get6("2001:db8:1::100"))
case("lease6-add/na-state-1", add6(state=1), get6("2001:db8:1::100"))
case("lease6-add/duid-1-byte", add6(duid="01"), get6("2001:db8:1::100"))
case("lease6-add/duid-no-colons-upper", add6(duid="0A0B0C"), get6("2001:db8:1::100"))
case("lease6-add/duid-128-bytes", add6(duid="22" * 128), get6("2001:db8:1::100"))
case("lease6-add/iaid-0", add6(iaid=0), get6("2001:db8:1::100"))
case("lease6-add/iaid-max", add6(iaid=4294967295), get6("2001:db8:1::100"))
case("lease6-add/hw-address", add6(hw_address="1:2:3:4:5:6"), get6("2001:db8:1::100"))
case("lease6-add/valid-infinite", add6(valid_lft=4294967295), get6("2001:db8:1::100"))
case("lease6-add/expire-in-past", add6(valid_lft=5, expire=1000000000), get6("2001:db8:1::100"))
case("lease6-add/hostname-case", add6(hostname="MiXeD.Example"), get6("2001:db8:1::100"))
case("lease6-add/unknown-keys-ignored", add6(foo=[1]), get6("2001:db8:1::100"))
case("lease6-add/duplicate", add6(), add6(), add6(duid="02"))
case("lease6-add/same-address-na-and-pd", add6(),
     c6("lease6-add", w(L6_PD, ip_address="2001:db8:1::100")), get6("2001:db8:1::100"),
     get6("2001:db8:1::100", "IA_PD"), c6("lease6-get-all"))
case("lease6-add/pd-prefix-not-in-subnet-accepted", add6(ip_address="3000:1:0:2::"),
     c6("lease6-add", w(L6_PD, ip_address="3000:1:0:2::")), get6("3000:1:0:2::", "IA_PD"))
case("lease6-add/na-and-ta-same-address", add6(), c6("lease6-add", w(L6_TA, ip_address="2001:db8:1::100")),
     c6("lease6-get-all"))
err6("lease6-add/err-no-arguments", "lease6-add")
err6("lease6-add/err-arguments-list", "lease6-add", [1])
err6("lease6-add/err-arguments-empty-map", "lease6-add", {})
err6("lease6-add/err-missing-ip", "lease6-add", w(L6, ip_address=D))
err6("lease6-add/err-missing-duid", "lease6-add", w(L6, duid=D))
err6("lease6-add/err-missing-iaid", "lease6-add", w(L6, iaid=D))
err6("lease6-add/err-pd-missing-prefix-len", "lease6-add", w(L6_PD, prefix_len=D))
err6("lease6-add/err-pd-no-subnet-id", "lease6-add", w(L6_PD, subnet_id=D))
err6("lease6-add/err-pd-subnet-id-0", "lease6-add", w(L6_PD, subnet_id=0))
err6("lease6-add/err-ta-no-subnet-id", "lease6-add", w(L6_TA, subnet_id=D))
err6("lease6-add/err-iaid-negative", "lease6-add", w(L6, iaid=-1))
err6("lease6-add/err-iaid-too-big", "lease6-add", w(L6, iaid=4294967296))
err6("lease6-add/err-iaid-string", "lease6-add", w(L6, iaid="5"))
err6("lease6-add/err-prefix-len-string", "lease6-add", w(L6_PD, prefix_len="64"))
err6("lease6-add/err-prefix-len-negative", "lease6-add", w(L6_PD, prefix_len=-1))
err6("lease6-add/err-preferred-string", "lease6-add", w(L6, preferred_lft="x"))
err6("lease6-add/err-preferred-negative", "lease6-add", w(L6, preferred_lft=-1))
err6("lease6-add/err-type-lowercase-na", "lease6-add", w(L6, type="na"))
err6("lease6-add/err-type-bogus", "lease6-add", w(L6, type="bogus"))
err6("lease6-add/err-type-int", "lease6-add", w(L6, type=3))
err6("lease6-add/err-ipv4-address", "lease6-add", w(L6, ip_address="192.0.2.1"))
err6("lease6-add/err-ip-unparsable", "lease6-add", w(L6, ip_address="2001:db8:1::zz"))
err6("lease6-add/err-no-subnet-for-address", "lease6-add", w(L6, ip_address="2001:db8:9::1"))
err6("lease6-add/err-subnet-id-unknown", "lease6-add", w(L6, subnet_id=99))
err6("lease6-add/err-address-not-in-subnet", "lease6-add", w(L6, subnet_id=2))
err6("lease6-add/err-duid-empty", "lease6-add", w(L6, duid=""))
err6("lease6-add/err-duid-bad-hex", "lease6-add", w(L6, duid="zz:1b"))
err6("lease6-add/err-duid-129-bytes", "lease6-add", w(L6, duid="22" * 129))
err6("lease6-add/err-duid-int", "lease6-add", w(L6, duid=5))
err6("lease6-add/err-hw-bad", "lease6-add", w(L6, hw_address="1a1b1c1d1e1f"))
err6("lease6-add/err-pd-state-1", "lease6-add", w(L6_PD, state=1))
err6("lease6-add/err-state-3", "lease6-add", w(L6, state=3))
err6("lease6-add/err-fqdn-no-hostname", "lease6-add", w(L6, fqdn_rev=True))
err6("lease6-add/err-user-context-list", "lease6-add", w(L6, user_context=[1]))
err6("lease6-add/err-expire-zero", "lease6-add", w(L6, expire=0))
err6("lease6-add/err-expire-below-valid", "lease6-add", w(L6, valid_lft=100, expire=99))
case("lease6-add/expire-equals-valid-accepted", add6(valid_lft=100, expire=100), get6("2001:db8:1::100"))
err6("lease6-add/order-pd-no-subnet-and-bad-state", "lease6-add", w(L6_PD, subnet_id=D, state=1))
err6("lease6-add/order-bad-type-and-missing-duid", "lease6-add", w(L6, type="bogus", duid=D))
# Kea's v6 order: subnet before iaid, then hw-address before the lifetimes, expire and fqdn
# flags, the PD declined check before user-context (found by kea_fuzz.py --random)
err6("lease6-add/order-unknown-subnet-and-bad-iaid", "lease6-add", w(L6, subnet_id=77, iaid=-1))
err6("lease6-add/order-address-outside-subnet-and-big-iaid", "lease6-add", w(L6, ip_address="::", subnet_id=1,
                                                                             iaid=2 ** 32))
err6("lease6-add/order-bad-hw-and-bad-fqdn", "lease6-add", w(L6, hw_address="zz:1b", fqdn_rev="yes"))
err6("lease6-add/order-hw-int-and-bad-valid-lft", "lease6-add", w(L6, hw_address=5, valid_lft=-1))
err6("lease6-add/order-hw-21-bytes-and-bad-expire", "lease6-add", w(L6, hw_address="01" * 21, expire=999,
                                                                    valid_lft=1000))
err6("lease6-add/order-pd-declined-and-bad-user-context", "lease6-add", w(L6_PD, state=1, user_context="x"))

# ---------------------------------------------------------------------------------------------
# lease4-update / lease6-update

case(
    "lease4-update/full-replacement",
    c4("lease4-add", L4_FULL),
    c4("lease4-update", {"ip-address": "192.0.2.31", "hw-address": "1a:1b:1c:1d:1e:20",
                         "hostname": "NewName.example.org", "valid-lft": 500}),
    get4("192.0.2.31"),
    c4("lease4-update", {"ip-address": "192.0.2.31", "hw-address": "1a:1b:1c:1d:1e:20"}),
    get4("192.0.2.31"),
)
case("lease4-update/all-fields", add4(), c4("lease4-update", w(L4_FULL, ip_address="192.0.2.20")), get4("192.0.2.20"))
case("lease4-update/force-create-absent", c4("lease4-update", w(L4, force_create=True)), get4("192.0.2.20"))
case("lease4-update/force-create-present", add4(), c4("lease4-update", w(L4, force_create=True, valid_lft=9)),
     get4("192.0.2.20"))
case("lease4-update/force-create-false-absent", c4("lease4-update", w(L4, force_create=False)))
case("lease4-update/absent", c4("lease4-update", w(L4, ip_address="192.0.2.40")))
case("lease4-update/move-to-subnet2-mismatch", add4(), c4("lease4-update", w(L4, subnet_id=2)), get4("192.0.2.20"))
case("lease4-update/subnet-id-0", c4("lease4-add", L4_S2), c4("lease4-update", w(L4_S2, subnet_id=0, state=0)),
     get4("198.51.100.10"))
case("lease4-update/state-and-expire", add4(), c4("lease4-update", w(L4, state=2, valid_lft=10, expire=1000000000)),
     get4("192.0.2.20"))
case("lease4-update/hostname-case", add4(), c4("lease4-update", w(L4, hostname="UPPER.Example", fqdn_rev=True)),
     c4("lease4-get-by-hostname", {"hostname": "upper.EXAMPLE"}))
case("lease4-update/error-keeps-lease", add4(hostname="keep"), c4("lease4-update", w(L4, state=9)), get4("192.0.2.20"))
err4("lease4-update/err-no-arguments", "lease4-update")
err4("lease4-update/err-arguments-list", "lease4-update", [1])
err4("lease4-update/err-arguments-empty", "lease4-update", {})
err4("lease4-update/err-force-create-string", "lease4-update", w(L4, force_create="yes"))
err4("lease4-update/err-missing-hw", "lease4-update", {"ip-address": "192.0.2.20"})
err4("lease4-update/err-bad-ip", "lease4-update", w(L4, ip_address="192.0.2.300"))
err4("lease4-update/err-ipv6", "lease4-update", w(L4, ip_address="2001:db8::1"))
err4("lease4-update/err-subnet-unknown", "lease4-update", w(L4, subnet_id=99))
err4("lease4-update/err-user-context", "lease4-update", w(L4, user_context=[1]), add4())
err4("lease4-update/err-expire", "lease4-update", w(L4, expire=5, valid_lft=10), add4())

case(
    "lease6-update/full-replacement",
    c6("lease6-add", L6_FULL),
    c6("lease6-update", {"ip-address": "2001:db8:1::106", "duid": "0a:0b", "iaid": 6, "hostname": "New.Example"}),
    get6("2001:db8:1::106"),
    c6("lease6-update", {"ip-address": "2001:db8:1::106", "duid": "0a:0b", "iaid": 6}),
    get6("2001:db8:1::106"),
)
case("lease6-update/pd-prefix-len-change", c6("lease6-add", L6_PD), c6("lease6-update", w(L6_PD, prefix_len=56)),
     get6("3000:1:0:1::", "IA_PD"))
case("lease6-bulk-apply/delete-zero-address-not-found", c6("lease6-bulk-apply", {
    "leases": [L6], "deleted-leases": [{"ip-address": "::", "duid": DUID, "subnet-id": 1}]}), c6("lease6-get-all"))
case("lease6-update/na-to-ta-other-type", c6("lease6-add", w(L6, expire=2000000000, valid_lft=1000)),
     c6("lease6-update", w(L6, type="IA_TA", subnet_id=1, expire=2000000000, valid_lft=1000)), c6("lease6-get-all"))
case("lease6-update/na-to-pd-other-type", c6("lease6-add", w(L6, expire=2000000000, valid_lft=1000)),
     c6("lease6-update", w(L6, type="IA_PD", prefix_len=0, subnet_id=1, expire=2000000000, valid_lft=1000)),
     c6("lease6-get-all"))
case("lease6-update/pd-without-type", c6("lease6-add", L6_PD), c6("lease6-update", w(L6_PD, type=D)),
     get6("3000:1:0:1::", "IA_PD"), get6("3000:1:0:1::"))
case("lease6-update/force-create-absent", c6("lease6-update", w(L6, force_create=True)), get6("2001:db8:1::100"))
case("lease6-update/force-create-pd", c6("lease6-update", w(L6_PD, force_create=True)), get6("3000:1:0:1::", "IA_PD"))
case("lease6-update/absent", c6("lease6-update", L6))
case("lease6-update/preferred-and-expire", add6(),
     c6("lease6-update", w(L6, preferred_lft=10, valid_lft=20, expire=1000000000, state=2)), get6("2001:db8:1::100"))
case("lease6-update/subnet2-mismatch", add6(), c6("lease6-update", w(L6, subnet_id=2)))
err6("lease6-update/err-no-arguments", "lease6-update")
err6("lease6-update/err-arguments-list", "lease6-update", [1])
err6("lease6-update/err-force-create-int", "lease6-update", w(L6, force_create=1))
err6("lease6-update/err-missing-iaid", "lease6-update", w(L6, iaid=D), add6())
err6("lease6-update/err-pd-state-1", "lease6-update", w(L6_PD, state=1), c6("lease6-add", L6_PD))

# ---------------------------------------------------------------------------------------------
# lease4-get / lease6-get

SETUP4 = [c4("lease4-add", L4_FULL), c4("lease4-add", L4_S2), add4()]
SETUP6 = [c6("lease6-add", L6_FULL), c6("lease6-add", L6_PD), c6("lease6-add", L6_TA), add6()]

case("lease4-get/by-address", *SETUP4, get4("192.0.2.31"), get4("198.51.100.10"))
case("lease4-get/not-found", *SETUP4, get4("192.0.2.99"))
case("lease4-get/outside-subnets", get4("10.0.0.1"))
case("lease4-get/by-hw-address", *SETUP4,
     c4("lease4-get", {"identifier-type": "hw-address", "identifier": HW, "subnet-id": 1}))
case("lease4-get/by-hw-address-other-subnet", *SETUP4,
     c4("lease4-get", {"identifier-type": "hw-address", "identifier": HW, "subnet-id": 2}))
case("lease4-get/by-hw-address-no-colon-form", *SETUP4,
     c4("lease4-get", {"identifier-type": "hw-address", "identifier": "1a1b1c1d1e1f", "subnet-id": 1}))
case("lease4-get/by-client-id", *SETUP4,
     c4("lease4-get", {"identifier-type": "client-id", "identifier": "010203", "subnet-id": 1}))
case("lease4-get/by-client-id-not-found", *SETUP4,
     c4("lease4-get", {"identifier-type": "client-id", "identifier": "01:02:04", "subnet-id": 1}))
case("lease4-get/ip-wins-over-identifier", *SETUP4,
     c4("lease4-get", {"ip-address": "198.51.100.10", "identifier-type": "hw-address", "identifier": HW, "subnet-id": 1}))
err4("lease4-get/err-empty-map", "lease4-get", {})
err4("lease4-get/err-no-arguments", "lease4-get")
err4("lease4-get/err-arguments-list", "lease4-get", [1])
err4("lease4-get/err-identifier-no-subnet", "lease4-get", {"identifier-type": "hw-address", "identifier": HW})
err4("lease4-get/err-identifier-missing", "lease4-get", {"identifier-type": "hw-address", "subnet-id": 1})
err4("lease4-get/err-identifier-type-missing", "lease4-get", {"identifier": HW, "subnet-id": 1})
err4("lease4-get/err-bad-address", "lease4-get", {"ip-address": "bogus"})
err4("lease4-get/err-ip-int", "lease4-get", {"ip-address": 5})
err4("lease4-get/err-ipv6", "lease4-get", {"ip-address": "2001:db8::1"})
err4("lease4-get/err-duid-on-v4", "lease4-get", {"identifier-type": "duid", "identifier": DUID, "subnet-id": 1})
err4("lease4-get/err-unknown-identifier-type", "lease4-get", {"identifier-type": "foo", "identifier": HW, "subnet-id": 1})
err4("lease4-get/err-identifier-bad-hex", "lease4-get", {"identifier-type": "hw-address", "identifier": "zz", "subnet-id": 1})
err4("lease4-get/err-subnet-id-string", "lease4-get", {"identifier-type": "hw-address", "identifier": HW, "subnet-id": "1"})

case("lease6-get/by-address", *SETUP6, get6("2001:db8:1::106"), get6("2001:db8:1::100", "IA_NA"))
case("lease6-get/pd-needs-type", *SETUP6, get6("3000:1:0:1::"), get6("3000:1:0:1::", "IA_PD"))
case("lease6-get/na-with-pd-type", *SETUP6, get6("2001:db8:1::100", "IA_PD"))
case("lease6-get/ta", *SETUP6, get6("2001:db8:1::109"), get6("2001:db8:1::109", "IA_TA"))
case("lease6-get/not-found", *SETUP6, get6("2001:db8:1::99"))
case("lease6-get/by-duid", *SETUP6,
     c6("lease6-get", {"identifier-type": "duid", "identifier": DUID, "iaid": 1234, "subnet-id": 1}))
case("lease6-get/by-duid-pd", *SETUP6,
     c6("lease6-get", {"identifier-type": "duid", "identifier": DUID, "iaid": 7, "subnet-id": 1, "type": "IA_PD"}))
case("lease6-get/by-duid-pd-no-type", *SETUP6,
     c6("lease6-get", {"identifier-type": "duid", "identifier": DUID, "iaid": 7, "subnet-id": 1}))
case("lease6-get/by-duid-no-iaid", *SETUP6,
     c6("lease6-get", {"identifier-type": "duid", "identifier": DUID, "subnet-id": 1}))
case("lease6-get/by-duid-wrong-iaid", *SETUP6,
     c6("lease6-get", {"identifier-type": "duid", "identifier": DUID, "iaid": 1, "subnet-id": 1}))
err6("lease6-get/err-empty-map", "lease6-get", {})
err6("lease6-get/err-no-arguments", "lease6-get")
err6("lease6-get/err-bad-address", "lease6-get", {"ip-address": "bogus"})
err6("lease6-get/err-ipv4", "lease6-get", {"ip-address": "192.0.2.1"})
err6("lease6-get/err-bad-type", "lease6-get", {"ip-address": "2001:db8:1::100", "type": "IA_XX"})
err6("lease6-get/err-type-v4", "lease6-get", {"ip-address": "2001:db8:1::100", "type": "V4"})
err6("lease6-get/err-hw-address-on-v6", "lease6-get", {"identifier-type": "hw-address", "identifier": HW, "subnet-id": 1})
err6("lease6-get/err-client-id-on-v6", "lease6-get", {"identifier-type": "client-id", "identifier": "0102", "subnet-id": 1})
err6("lease6-get/err-iaid-string", "lease6-get",
     {"identifier-type": "duid", "identifier": DUID, "iaid": "1", "subnet-id": 1})

# ---------------------------------------------------------------------------------------------
# get-all

MANY4 = [
    add4(ip_address="198.51.100.11", hw_address="aa:bb:cc:dd:ee:01", state=2, valid_lft=0),
    add4(ip_address="192.0.2.25", hw_address="01:02:03:04:05:06"),
    add4(ip_address="198.51.100.10", hw_address="aa:bb:cc:dd:ee:ff", state=1),
    add4(ip_address="192.0.2.1", hw_address="aa:bb:cc:dd:ee:02"),
    add4(ip_address="192.0.2.20"),
]
MANY6 = [
    c6("lease6-add", w(L6_PD, ip_address="4000::", prefix_len=48, subnet_id=2)),
    add6(ip_address="2001:db8:2::1", duid="02"),
    add6(ip_address="2001:db8:1::200", iaid=2),
    c6("lease6-add", L6_PD),
    c6("lease6-add", L6_TA),
    add6(),
]
case("lease4-get-all/empty", c4("lease4-get-all"))
case("lease4-get-all/all", *MANY4, c4("lease4-get-all"), tags=("order",))
case("lease4-get-all/subnet-2", *MANY4, c4("lease4-get-all", {"subnets": [2]}), tags=("order",))
case("lease4-get-all/subnets-2-1", *MANY4, c4("lease4-get-all", {"subnets": [2, 1]}), tags=("order",))
case("lease4-get-all/subnets-empty-list", *MANY4, c4("lease4-get-all", {"subnets": []}))
case("lease4-get-all/subnets-repeated", *MANY4, c4("lease4-get-all", {"subnets": [2, 2]}), tags=("order",))
case("lease4-get-all/subnets-unknown", *MANY4, c4("lease4-get-all", {"subnets": [99]}))
err4("lease4-get-all/err-empty-map", "lease4-get-all", {})
err4("lease4-get-all/err-subnets-not-list", "lease4-get-all", {"subnets": 1})
err4("lease4-get-all/err-subnets-strings", "lease4-get-all", {"subnets": ["1"]})
err4("lease4-get-all/err-arguments-list", "lease4-get-all", [1])
case("lease6-get-all/empty", c6("lease6-get-all"))
case("lease6-get-all/all", *MANY6, c6("lease6-get-all"), tags=("order",))
case("lease6-get-all/subnet-2", *MANY6, c6("lease6-get-all", {"subnets": [2]}), tags=("order",))
case("lease6-get-all/subnets-1-2", *MANY6, c6("lease6-get-all", {"subnets": [1, 2]}), tags=("order",))
err6("lease6-get-all/err-empty-map", "lease6-get-all", {})
err6("lease6-get-all/err-subnets-not-list", "lease6-get-all", {"subnets": "1"})
err6("lease6-get-all/err-arguments-list", "lease6-get-all", [1])

# ---------------------------------------------------------------------------------------------
# get-page


def page4(frm: Any, limit: Any) -> dict[str, Any]:
    return c4("lease4-get-page", {"from": frm, "limit": limit})


def page6(frm: Any, limit: Any) -> dict[str, Any]:
    return c6("lease6-get-page", {"from": frm, "limit": limit})


case("lease4-get-page/walk", *MANY4, page4("start", 3), page4("192.0.2.25", 3), page4("198.51.100.11", 3))
case("lease4-get-page/from-zero-address", *MANY4, page4("0.0.0.0", 2))
case("lease4-get-page/from-non-lease-address", *MANY4, page4("192.0.2.21", 10))
case("lease4-get-page/limit-max", *MANY4, page4("start", 4294967295))
case("lease4-get-page/empty", page4("start", 10))
err4("lease4-get-page/err-no-arguments", "lease4-get-page")
err4("lease4-get-page/err-arguments-list", "lease4-get-page", [1])
err4("lease4-get-page/err-no-limit", "lease4-get-page", {"from": "start"})
err4("lease4-get-page/err-no-from", "lease4-get-page", {"limit": 3})
err4("lease4-get-page/err-limit-0", "lease4-get-page", {"from": "start", "limit": 0})
err4("lease4-get-page/err-limit-negative", "lease4-get-page", {"from": "start", "limit": -1})
err4("lease4-get-page/err-limit-too-big", "lease4-get-page", {"from": "start", "limit": 4294967296})
err4("lease4-get-page/err-limit-string", "lease4-get-page", {"from": "start", "limit": "3"})
err4("lease4-get-page/err-from-int", "lease4-get-page", {"from": 5, "limit": 3})
err4("lease4-get-page/err-from-bogus", "lease4-get-page", {"from": "bogus", "limit": 3})
err4("lease4-get-page/err-from-START", "lease4-get-page", {"from": "START", "limit": 3})
err4("lease4-get-page/err-from-ipv6", "lease4-get-page", {"from": "2001:db8::", "limit": 3})
case("lease6-get-page/walk", *MANY6, page6("start", 2), page6("2001:db8:1::109", 2), page6("3000:1:0:1::", 2),
     page6("4000::", 2))
case("lease6-get-page/from-zero", *MANY6, page6("::", 3))
case("lease6-get-page/empty", page6("start", 1))
err6("lease6-get-page/err-no-arguments", "lease6-get-page")
err6("lease6-get-page/err-no-limit", "lease6-get-page", {"from": "start"})
err6("lease6-get-page/err-limit-0", "lease6-get-page", {"from": "start", "limit": 0})
err6("lease6-get-page/err-from-ipv4", "lease6-get-page", {"from": "192.0.2.1", "limit": 3})
err6("lease6-get-page/err-from-bogus", "lease6-get-page", {"from": "bogus", "limit": 3})

# ---------------------------------------------------------------------------------------------
# get-by-*

BY4 = [
    c4("lease4-add", L4_FULL),
    add4(ip_address="198.51.100.30", client_id="01:02:03", hostname="HOST.example.org"),
    add4(ip_address="192.0.2.40", hw_address="aa:aa:aa:aa:aa:aa"),
    add4(),
]
case("lease4-get-by-hw-address/found", *BY4, c4("lease4-get-by-hw-address", {"hw-address": HW}), tags=("order",))
case("lease4-get-by-hw-address/upper-short", *BY4, c4("lease4-get-by-hw-address", {"hw-address": "AA:AA:AA:AA:AA:AA"}))
case("lease4-get-by-hw-address/not-found", c4("lease4-get-by-hw-address", {"hw-address": "99:99:99:99:99:99"}))
err4("lease4-get-by-hw-address/err-missing", "lease4-get-by-hw-address", {})
err4("lease4-get-by-hw-address/err-no-arguments", "lease4-get-by-hw-address")
err4("lease4-get-by-hw-address/err-arguments-list", "lease4-get-by-hw-address", [1])
err4("lease4-get-by-hw-address/err-bad-hex", "lease4-get-by-hw-address", {"hw-address": "zz"})
err4("lease4-get-by-hw-address/err-no-colons", "lease4-get-by-hw-address", {"hw-address": "1a1b1c1d1e1f"})
err4("lease4-get-by-hw-address/err-int", "lease4-get-by-hw-address", {"hw-address": 5})
err4("lease4-get-by-hw-address/err-empty", "lease4-get-by-hw-address", {"hw-address": ""})
case("lease4-get-by-client-id/found", *BY4, c4("lease4-get-by-client-id", {"client-id": "010203"}), tags=("order",))
case("lease4-get-by-client-id/not-found", *BY4, c4("lease4-get-by-client-id", {"client-id": "01:02:09"}))
err4("lease4-get-by-client-id/err-missing", "lease4-get-by-client-id", {})
err4("lease4-get-by-client-id/err-no-arguments", "lease4-get-by-client-id")
err4("lease4-get-by-client-id/err-bad-hex", "lease4-get-by-client-id", {"client-id": "zz"})
err4("lease4-get-by-client-id/err-int", "lease4-get-by-client-id", {"client-id": 1})
err4("lease4-get-by-client-id/err-empty", "lease4-get-by-client-id", {"client-id": ""})
case("lease4-get-by-hostname/case-insensitive", *BY4, c4("lease4-get-by-hostname", {"hostname": "HOST.example.org"}),
     tags=("order",))
case("lease4-get-by-hostname/not-found", *BY4, c4("lease4-get-by-hostname", {"hostname": "nohost"}))
# Kea lower-cases hostnames in the C locale: only A-Z, "\u00c4" stays (sent escaped, one character)
case("lease4-get-by-hostname/only-ascii-letters-lower-cased",
     c4("lease4-add", {"ip-address": "192.0.2.77", "hw-address": "1a:1b:1c:1d:1e:1f", "hostname": "\u00c4x.Example"}),
     c4("lease4-get", {"ip-address": "192.0.2.77"}),
     c4("lease4-get-by-hostname", {"hostname": "\u00c4X.EXAMPLE"}),
     c4("lease4-get-by-hostname", {"hostname": "\u00e4x.example"}))
err4("lease4-get-by-hostname/err-missing", "lease4-get-by-hostname", {})
err4("lease4-get-by-hostname/err-empty", "lease4-get-by-hostname", {"hostname": ""})
err4("lease4-get-by-hostname/err-int", "lease4-get-by-hostname", {"hostname": 1})
err4("lease4-get-by-hostname/err-no-arguments", "lease4-get-by-hostname")

BY6 = [c6("lease6-add", L6_FULL), c6("lease6-add", L6_PD), add6(ip_address="2001:db8:2::5", duid="aa:bb", hostname="URANIA.example.org"), add6()]
case("lease6-get-by-duid/found", *BY6, c6("lease6-get-by-duid", {"duid": DUID}), tags=("order",))
case("lease6-get-by-duid/no-colons", *BY6, c6("lease6-get-by-duid", {"duid": "AABB"}))
case("lease6-get-by-duid/not-found", *BY6, c6("lease6-get-by-duid", {"duid": "09:09"}))
err6("lease6-get-by-duid/err-missing", "lease6-get-by-duid", {})
err6("lease6-get-by-duid/err-no-arguments", "lease6-get-by-duid")
err6("lease6-get-by-duid/err-arguments-list", "lease6-get-by-duid", [1])
err6("lease6-get-by-duid/err-bad-hex", "lease6-get-by-duid", {"duid": "zz"})
err6("lease6-get-by-duid/err-int", "lease6-get-by-duid", {"duid": 5})
err6("lease6-get-by-duid/err-empty", "lease6-get-by-duid", {"duid": ""})
case("lease6-get-by-hostname/case-insensitive", *BY6, c6("lease6-get-by-hostname", {"hostname": "urania.EXAMPLE.org"}),
     tags=("order",))
case("lease6-get-by-hostname/not-found", c6("lease6-get-by-hostname", {"hostname": "x"}))
case("lease6-get-by-hostname/only-ascii-letters-lower-cased",
     c6("lease6-add", {"ip-address": "2001:db8:1::77", "duid": "01:02:03:04", "iaid": 7, "hostname": "\u00d6Y.Example"}),
     c6("lease6-get-by-hostname", {"hostname": "\u00d6y.example"}),
     c6("lease6-get-by-hostname", {"hostname": "\u00f6y.example"}))
err6("lease6-get-by-hostname/err-missing", "lease6-get-by-hostname", {})
err6("lease6-get-by-hostname/err-empty", "lease6-get-by-hostname", {"hostname": ""})
err6("lease6-get-by-hostname/err-no-arguments", "lease6-get-by-hostname")

# ---------------------------------------------------------------------------------------------
# del

case("lease4-del/by-address", *SETUP4, c4("lease4-del", {"ip-address": "192.0.2.31"}), get4("192.0.2.31"),
     c4("lease4-del", {"ip-address": "192.0.2.31"}))
case("lease4-del/by-hw-address", *SETUP4,
     c4("lease4-del", {"identifier-type": "hw-address", "identifier": "aa:bb:cc:dd:ee:ff", "subnet-id": 2}),
     c4("lease4-get-all"))
case("lease4-del/by-client-id", *SETUP4,
     c4("lease4-del", {"identifier-type": "client-id", "identifier": "01:02:03", "subnet-id": 1}), get4("192.0.2.31"))
case("lease4-del/by-hw-address-wrong-subnet", *SETUP4,
     c4("lease4-del", {"identifier-type": "hw-address", "identifier": "aa:bb:cc:dd:ee:ff", "subnet-id": 1}))
case("lease4-del/outside-subnets", c4("lease4-del", {"ip-address": "10.0.0.1"}))
err4("lease4-del/err-empty-map", "lease4-del", {})
err4("lease4-del/err-no-arguments", "lease4-del")
err4("lease4-del/err-arguments-list", "lease4-del", [1])
err4("lease4-del/err-bad-address", "lease4-del", {"ip-address": "bad"})
err4("lease4-del/err-ipv6", "lease4-del", {"ip-address": "2001:db8::1"})
err4("lease4-del/err-duid-on-v4", "lease4-del", {"identifier-type": "duid", "identifier": DUID, "subnet-id": 1})
err4("lease4-del/err-identifier-no-subnet", "lease4-del", {"identifier-type": "hw-address", "identifier": HW})

case("lease6-del/by-address", *SETUP6, c6("lease6-del", {"ip-address": "2001:db8:1::100"}), get6("2001:db8:1::100"),
     c6("lease6-del", {"ip-address": "2001:db8:1::100"}))
case("lease6-del/pd-needs-type", *SETUP6, c6("lease6-del", {"ip-address": "3000:1:0:1::"}),
     c6("lease6-del", {"ip-address": "3000:1:0:1::", "type": "IA_PD"}), get6("3000:1:0:1::", "IA_PD"))
case("lease6-del/by-duid", *SETUP6,
     c6("lease6-del", {"identifier-type": "duid", "identifier": DUID, "iaid": 5, "subnet-id": 1}), c6("lease6-get-all"))
case("lease6-del/by-duid-no-iaid", *SETUP6,
     c6("lease6-del", {"identifier-type": "duid", "identifier": DUID, "subnet-id": 1}))
case("lease6-del/not-found", c6("lease6-del", {"ip-address": "2001:db8:1::dead"}))
err6("lease6-del/err-empty-map", "lease6-del", {})
err6("lease6-del/err-no-arguments", "lease6-del")
err6("lease6-del/err-bad-address", "lease6-del", {"ip-address": "bad"})
err6("lease6-del/err-ipv4", "lease6-del", {"ip-address": "192.0.2.1"})
err6("lease6-del/err-bad-type", "lease6-del", {"ip-address": "2001:db8:1::100", "type": "IA_XX"})
err6("lease6-del/err-hw-address-on-v6", "lease6-del", {"identifier-type": "hw-address", "identifier": HW, "subnet-id": 1})

# ---------------------------------------------------------------------------------------------
# wipe

case("lease4-wipe/subnet-2-twice", *MANY4, c4("lease4-wipe", {"subnet-id": 2}), c4("lease4-wipe", {"subnet-id": 2}),
     c4("lease4-get-all"))
case("lease4-wipe/all", *MANY4, c4("lease4-wipe"), c4("lease4-get-all"))
case("lease4-wipe/all-empty-map", *MANY4, c4("lease4-wipe", {}))
case("lease4-wipe/subnet-id-0", *MANY4, c4("lease4-wipe", {"subnet-id": 0}))
case("lease4-wipe/unknown-subnet", *MANY4, c4("lease4-wipe", {"subnet-id": 99}))
case("lease4-wipe/nothing", c4("lease4-wipe"))
err4("lease4-wipe/err-arguments-list", "lease4-wipe", [1])
err4("lease4-wipe/err-subnet-id-string", "lease4-wipe", {"subnet-id": "1"})
err4("lease4-wipe/err-subnet-id-negative", "lease4-wipe", {"subnet-id": -1})
case("lease6-wipe/subnet-1-with-pd-ta", *MANY6, c6("lease6-wipe", {"subnet-id": 1}), c6("lease6-get-all"))
case("lease6-wipe/all", *MANY6, c6("lease6-wipe"))
case("lease6-wipe/nothing", c6("lease6-wipe", {"subnet-id": 2}))
err6("lease6-wipe/err-arguments-list", "lease6-wipe", [1])

# ---------------------------------------------------------------------------------------------
# resend-ddns (default topology: DDNS disabled; "ddns" topology: enabled)

case("lease4-resend-ddns/ddns-disabled", add4(hostname="a.example", fqdn_fwd=True),
     c4("lease4-resend-ddns", {"ip-address": "192.0.2.20"}))
case("lease4-resend-ddns/ddns-disabled-bad-args", c4("lease4-resend-ddns", {}),
     c4("lease4-resend-ddns", {"ip-address": "bad"}), c4("lease4-resend-ddns", {"ip-address": "192.0.2.199"}))
case("lease6-resend-ddns/ddns-disabled", add6(hostname="a.example", fqdn_fwd=True),
     c6("lease6-resend-ddns", {"ip-address": "2001:db8:1::100"}), c6("lease6-resend-ddns", {}))
case("lease4-resend-ddns/success", add4(ip_address="192.0.2.90", hostname="DDNS.example.org", fqdn_fwd=True),
     c4("lease4-resend-ddns", {"ip-address": "192.0.2.90"}), topology="ddns")
case("lease4-resend-ddns/rev-only", add4(ip_address="192.0.2.90", hostname="r.example.org", fqdn_rev=True),
     c4("lease4-resend-ddns", {"ip-address": "192.0.2.90"}), topology="ddns")
case("lease4-resend-ddns/errors",
     add4(ip_address="192.0.2.91"), add4(ip_address="192.0.2.92", hw_address="01:01:01:01:01:01", hostname="x.example"),
     c4("lease4-resend-ddns", {"ip-address": "192.0.2.199"}),
     c4("lease4-resend-ddns", {"ip-address": "192.0.2.91"}),
     c4("lease4-resend-ddns", {"ip-address": "192.0.2.92"}),
     c4("lease4-resend-ddns", {}),
     c4("lease4-resend-ddns", {"ip-address": "bad"}),
     c4("lease4-resend-ddns", {"ip-address": 5}),
     c4("lease4-resend-ddns", {"ip-address": "2001:db8::1"}),
     c4("lease4-resend-ddns", [1]),
     topology="ddns")
case("lease6-resend-ddns/success", add6(hostname="DDNS6.example.org", fqdn_fwd=True, fqdn_rev=True),
     c6("lease6-resend-ddns", {"ip-address": "2001:db8:1::100"}), topology="ddns")
case("lease6-resend-ddns/errors", add6(),
     c6("lease6-resend-ddns", {"ip-address": "2001:db8:1::199"}),
     c6("lease6-resend-ddns", {"ip-address": "2001:db8:1::100"}),
     c6("lease6-resend-ddns", {}),
     c6("lease6-resend-ddns", {"ip-address": "bad"}),
     c6("lease6-resend-ddns", {"ip-address": "192.0.2.1"}),
     topology="ddns")

case("lease4-resend-ddns/to-the-dhcp6-daemon", add4(ip_address="192.0.2.90", hostname="x.example", fqdn_fwd=True),
     c6("lease4-resend-ddns", {"ip-address": "192.0.2.90"}),
     c6("lease4-resend-ddns", {"ip-address": "2001:db8:1::100"}), topology="ddns")
case("lease6-resend-ddns/to-the-dhcp4-daemon", add6(hostname="x.example", fqdn_fwd=True),
     c4("lease6-resend-ddns", {"ip-address": "2001:db8:1::100"}), topology="ddns")

# ---------------------------------------------------------------------------------------------
# subnet selection ("selection" topology)

def _hw(n: int) -> str:
    return f"1a:1b:1c:1d:1e:{n:02x}"


case("selection/v4-address-in-nested-prefixes-goes-to-the-lowest-id",
     c4("lease4-add", {"ip-address": "10.1.0.5", "hw-address": _hw(1)}),
     c4("lease4-add", {"ip-address": "10.2.0.5", "hw-address": _hw(2)}),
     c4("lease4-add", {"ip-address": "10.1.0.6", "hw-address": _hw(3), "subnet-id": 12}),
     c4("lease4-get-all", {"subnets": [10, 12]}), topology="selection")
case("selection/v4-a-subnet-with-a-client-class-is-never-picked",
     c4("lease4-add", {"ip-address": "192.0.2.5", "hw-address": _hw(1)}),
     c4("lease4-add", {"ip-address": "203.0.113.5", "hw-address": _hw(2)}),
     c4("lease4-add", {"ip-address": "192.0.2.5", "hw-address": _hw(1), "subnet-id": 7}),
     c4("lease4-add", {"ip-address": "203.0.113.5", "hw-address": _hw(2), "subnet-id": 1}),
     c4("lease4-get-all"), topology="selection")
case("selection/v4-automatic-ids-number-shared-networks-first",
     c4("lease4-add", {"ip-address": "203.0.113.130", "hw-address": _hw(1)}),
     c4("lease4-add", {"ip-address": "198.51.100.5", "hw-address": _hw(2)}),
     c4("lease4-get", {"ip-address": "203.0.113.130"}), c4("lease4-get", {"ip-address": "198.51.100.5"}),
     c4("statistic-get", {"name": "subnet[3].total-addresses"}),
     c4("statistic-get", {"name": "subnet[10].total-addresses"}),
     c4("statistic-get", {"name": "subnet[2].assigned-addresses"}), topology="selection")
case("selection/v4-config-get-shows-the-automatic-ids", c4("config-get"), topology="selection")
case("selection/v6-address-in-nested-prefixes-goes-to-the-lowest-id",
     c6("lease6-add", {"ip-address": "2001:db8:1::5", "duid": DUID, "iaid": 1}),
     c6("lease6-add", {"ip-address": "2001:db8:2::5", "duid": DUID, "iaid": 2}),
     c6("lease6-add", {"ip-address": "2001:db8:8:100::", "prefix-len": 56, "type": "IA_PD", "duid": DUID, "iaid": 3,
                       "subnet-id": 10}),
     c6("lease6-get-all", {"subnets": [10, 12]}), topology="selection")
case("selection/v6-a-subnet-with-a-client-class-is-never-picked",
     c6("lease6-add", {"ip-address": "2001:db9::5", "duid": DUID, "iaid": 1}),
     c6("lease6-add", {"ip-address": "2001:dbb::5", "duid": DUID, "iaid": 2}),
     c6("lease6-add", {"ip-address": "2001:db9::5", "duid": DUID, "iaid": 1, "subnet-id": 7}),
     c6("lease6-get-all"), topology="selection")
case("selection/v6-automatic-ids-number-shared-networks-first",
     c6("lease6-add", {"ip-address": "2001:dbc::5", "duid": DUID, "iaid": 1}),
     c6("lease6-add", {"ip-address": "2001:dba::5", "duid": DUID, "iaid": 2}),
     c6("lease6-get", {"ip-address": "2001:dbc::5"}), c6("lease6-get", {"ip-address": "2001:dba::5"}),
     c6("statistic-get", {"name": "subnet[10].total-pds"}),
     c6("statistic-get", {"name": "subnet[3].assigned-nas"}), topology="selection")
case("selection/v6-config-get-shows-the-automatic-ids", c6("config-get"), topology="selection")

# ---------------------------------------------------------------------------------------------
# lease6-bulk-apply

case(
    "lease6-bulk-apply/spec-example",
    add6(),
    c6("lease6-bulk-apply", {
        "deleted-leases": [{"ip-address": "2001:db8:1::100"}, {"ip-address": "2001:db8:1::dead"}],
        "leases": [{"subnet-id": 1, "ip-address": "2001:db8:1::300", "duid": DUID, "iaid": 30},
                   {"subnet-id": 1, "ip-address": "2001:db8:1::103", "duid": "01", "iaid": 1, "hostname": "bulk.example.org"}],
    }),
    c6("lease6-get-all"),
)
case("lease6-bulk-apply/replace-existing", c6("lease6-add", L6_FULL),
     c6("lease6-bulk-apply", {"leases": [{"ip-address": "2001:db8:1::106", "duid": "0a", "iaid": 9}]}),
     get6("2001:db8:1::106"))
case("lease6-bulk-apply/pd-delete-missing",
     c6("lease6-bulk-apply", {"deleted-leases": [{"ip-address": "2001:db8:1::dead", "type": "IA_PD"}]}))
case("lease6-bulk-apply/pd-delete-and-add", c6("lease6-add", L6_PD),
     c6("lease6-bulk-apply", {"deleted-leases": [{"ip-address": "3000:1:0:1::", "type": "IA_PD", "iaid": 99}],
                              "leases": [w(L6_PD, ip_address="3000:1:0:2::")]}),
     c6("lease6-get-all"))
case("lease6-bulk-apply/empty-leases", c6("lease6-bulk-apply", {"leases": []}))
case("lease6-bulk-apply/empty-deleted", c6("lease6-bulk-apply", {"deleted-leases": []}))
case("lease6-bulk-apply/both-empty", c6("lease6-bulk-apply", {"deleted-leases": [], "leases": []}))
case("lease6-bulk-apply/all-or-nothing",
     c6("lease6-bulk-apply", {"leases": [{"subnet-id": 1, "ip-address": "2001:db8:1::301", "duid": DUID, "iaid": 30},
                                         {"ip-address": "2001:db8:1::302", "iaid": 30}]}),
     get6("2001:db8:1::301"))
case("lease6-bulk-apply/all-or-nothing-deleted", add6(),
     c6("lease6-bulk-apply", {"deleted-leases": [{"ip-address": "2001:db8:1::100"}, {"ip-address": "bad"}]}),
     get6("2001:db8:1::100"))
case("lease6-bulk-apply/subnet-mismatch",
     c6("lease6-bulk-apply", {"leases": [{"subnet-id": 2, "ip-address": "2001:db8:1::303", "duid": DUID, "iaid": 1}]}))
case("lease6-bulk-apply/same-address-twice",
     c6("lease6-bulk-apply", {"leases": [w(L6, iaid=1), w(L6, iaid=2)]}), get6("2001:db8:1::100"))
case("lease6-bulk-apply/delete-then-readd", add6(hostname="old"),
     c6("lease6-bulk-apply", {"deleted-leases": [{"ip-address": "2001:db8:1::100"}], "leases": [w(L6, hostname="new")]}),
     get6("2001:db8:1::100"))
err6("lease6-bulk-apply/err-empty-map", "lease6-bulk-apply", {})
err6("lease6-bulk-apply/err-no-arguments", "lease6-bulk-apply")
err6("lease6-bulk-apply/err-arguments-list", "lease6-bulk-apply", [1])
err6("lease6-bulk-apply/err-leases-not-list", "lease6-bulk-apply", {"leases": {}})
err6("lease6-bulk-apply/err-deleted-not-list", "lease6-bulk-apply", {"deleted-leases": "x"})
err6("lease6-bulk-apply/err-deleted-missing-ip", "lease6-bulk-apply", {"deleted-leases": [{"type": "IA_NA"}]})
err6("lease6-bulk-apply/err-deleted-bad-type", "lease6-bulk-apply", {"deleted-leases": [{"ip-address": "2001:db8:1::1", "type": "X"}]})
err6("lease6-bulk-apply/err-deleted-ipv4", "lease6-bulk-apply", {"deleted-leases": [{"ip-address": "192.0.2.1"}]})
err6("lease6-bulk-apply/err-deleted-entry-not-map", "lease6-bulk-apply", {"deleted-leases": [5]})
err6("lease6-bulk-apply/err-lease-entry-not-map", "lease6-bulk-apply", {"leases": ["x"]})

# ---------------------------------------------------------------------------------------------
# positions: Kea's daemon names the element an error is about by its column in the command as
# kea-ctrl-agent re-prints it; what comes before the element moves it (app.kea_json.wire_position)

_BEFORE = {"a": [], "b": {}, "c": [1, {"d": None}, False], "e": True, "f": "x\ny/\u00e9\u0001\u007f\"\\",
           "g": [1.5, 0.0001, 123456.7, 1234567.0, -0.0, 1000.0, 0.5, 3.14159265, 12345.0, 1e-4],
           "h": {"i": {}, "j": [[], [{}]]}, "k": -42, "l": "", "m": 9007199254740993}
err4("position/after-every-kind-of-value", "lease4-add", w(L4, user_context=_BEFORE, valid_lft="x"))
err4("position/missing-parameter-names-the-map", "lease4-add", {"user-context": _BEFORE, "hw-address": "01:02"})
err4("position/address-without-space", "lease4-add", w(L4, user_context=_BEFORE, ip_address="192.0.2.999"))
err6("position/out-of-range-in-v6", "lease6-add", w(L6, user_context=_BEFORE, iaid=-1))
err6("position/bulk-entry-not-a-map", "lease6-bulk-apply",
     {"deleted-leases": [{"ip-address": "2001:db8:1::1"}], "leases": [w(L6, user_context=_BEFORE), 7]})
err6("position/bulk-entry-error-inside-the-second-lease", "lease6-bulk-apply",
     {"leases": [w(L6, user_context=_BEFORE), w(L6, ip_address="2001:db8:1::101", valid_lft={})]})
err4("position/wipe-subnet-id", "lease4-wipe", {"comment": _BEFORE, "subnet-id": "1"})
case("position/raw-utf-8-counts-its-bytes",
     raw('{"command": "lease4-add", "service": ["dhcp4"], "arguments": {"hostname": "caf\u00e9-\u00fc", '
         '"hw-address": "01:02", "ip-address": "192.0.2.20", "valid-lft": "x", "user-context": {"a": "\u20ac"}}}',
         JSON_CT),
     raw('{"command": "lease4-add", "service": ["dhcp4"], "arguments": {"hostname": "caf\\u00e9", '
         '"hw-address": "01:02", "ip-address": "192.0.2.20", "valid-lft": "x"}}', JSON_CT))
case("position/raw-spellings-are-re-printed",
     raw('{"service":["dhcp4"],"arguments":{"a":1E3,"b":0.10,"c":"\\u0041","hw-address":"01:02",'
         '"ip-address":"192.0.2.20","valid-lft":"x"},"command":"lease4-add"}', JSON_CT))

# ---------------------------------------------------------------------------------------------
# wrong family (both daemons register all lease commands)

case("wrong-family/lease6-get-to-dhcp4", c4("lease6-get", {"ip-address": "2001:db8:1::100"}))
case("wrong-family/lease4-add-to-dhcp6", c6("lease4-add", w(L4, ip_address="192.0.2.60")))
case("wrong-family/lease4-get-all-to-dhcp6", c6("lease4-get-all"))
case("wrong-family/lease6-add-to-dhcp4", c4("lease6-add", L6))

# ---------------------------------------------------------------------------------------------
# control channel: envelope and routing

LONG_CA = "foo-bar"
case("envelope/unknown-command-dhcp4", cmd("foo-bar", service=["dhcp4"]))
case("envelope/unknown-command-dhcp6", cmd("foo-bar", service=["dhcp6"]))
case("envelope/unknown-command-no-service", cmd("foo-bar"), tags=("ca",))
case("envelope/lease-command-no-service", cmd("lease4-get", {"ip-address": "192.0.2.1"}), tags=("ca",))
case("envelope/lease-command-empty-service", cmd("lease4-get", {"ip-address": "192.0.2.1"}, []), tags=("ca",))
case("envelope/service-string", cmd("lease4-get-all", service="dhcp4"))
case("envelope/service-map", cmd("lease4-get-all", service={"dhcp4": 1}))
case("envelope/service-int-entry", cmd("lease4-get-all", service=[4]))
case("envelope/service-dhcp5", cmd("lease4-get-all", service=["dhcp5"]))
case("envelope/service-d2-offline", cmd("list-commands", service=["d2"]), tags=("d2",))
case("envelope/service-dhcp4-dhcp6", cmd("lease4-get-all", service=["dhcp4", "dhcp6"]))
case("envelope/service-dhcp4-twice", cmd("lease4-get-all", service=["dhcp4", "dhcp4"]))
case("envelope/service-dhcp4-dhcp5", cmd("lease4-get-all", service=["dhcp4", "dhcp5"]))
case("envelope/service-dhcp5-dhcp4", cmd("lease4-get-all", service=["dhcp5", "dhcp4"]))
case("envelope/service-null", cmd("lease4-get-all", service=None))
case("envelope/multi-service-add", cmd("lease4-add", L4, ["dhcp4", "dhcp4"]), get4("192.0.2.20"))
case("envelope/command-missing", body({"arguments": {}}), tags=("ca",))
case("envelope/command-missing-with-service", body({"service": ["dhcp4"], "arguments": {}}))
case("envelope/command-int", body({"command": 5, "service": ["dhcp4"]}))
case("envelope/command-int-no-service", body({"command": 5}), tags=("ca",))
case("envelope/command-null", body({"command": None, "service": ["dhcp4"]}))
case("envelope/command-list", body({"command": ["lease4-get"], "service": ["dhcp4"]}))
case("envelope/command-empty-string", body({"command": "", "service": ["dhcp4"]}))
case("envelope/body-list", body(["x"]))
case("envelope/body-string", body("x"))
case("envelope/body-int", body(5))
case("envelope/body-null", body(None))
case("envelope/body-true", body(True))
case("envelope/empty-map", body({}))
case("envelope/extra-key", body({"command": "lease4-get-all", "service": ["dhcp4"], "foo": 1}))
case("envelope/extra-key-no-service", body({"command": "list-commands", "foo": 1}), tags=("ca",))
case("envelope/remote-address-accepted", cmd("lease4-get-all", service=["dhcp4"], **{"remote-address": "127.0.0.1"}))
case("envelope/command-case-sensitive", cmd("LEASE4-GET-ALL", service=["dhcp4"]))
case("envelope/key-case-sensitive", body({"Command": "lease4-get-all", "service": ["dhcp4"]}))
case("envelope/list-commands-ca", cmd("list-commands"), tags=("ca",))
case("envelope/list-commands-dhcp4", cmd("list-commands", service=["dhcp4"]))
case("envelope/list-commands-dhcp6", cmd("list-commands", service=["dhcp6"]))
case("envelope/list-commands-args-not-map", cmd("list-commands", [1], ["dhcp4"]))

# ---------------------------------------------------------------------------------------------
# control channel: HTTP transport

case("http/bad-json", raw('{"command": "lease4-get-all", ', JSON_CT), tags=("http",))
case("http/json-with-comment", raw('{"command": "lease4-get-all", // c\n "service": ["dhcp4"]}', JSON_CT), tags=("http",))
case("http/json-with-c-comment", raw('{"command": /* c */ "list-commands"}', JSON_CT), tags=("http",))
case("http/json-with-hash-comment", raw('# c\n{"command": "list-commands"}', JSON_CT), tags=("http",))
case("http/trailing-garbage", raw('{"command": "list-commands"} x', JSON_CT), tags=("http",))
case("http/two-objects", raw('{"command": "list-commands"}{"command": "list-commands"}', JSON_CT), tags=("http",))
case("http/missing-content-type", raw('{"command": "list-commands"}', {}), tags=("http",))
case("http/content-type-charset", raw('{"command": "list-commands"}', {"Content-Type": "application/json; charset=utf-8"}),
     tags=("http",))
case("http/content-type-text-plain", raw('{"command": "list-commands"}', {"Content-Type": "text/plain"}), tags=("http",))
case("http/content-type-form", raw('{"command": "list-commands"}', {"Content-Type": "application/x-www-form-urlencoded"}),
     tags=("http",))
case("http/content-type-uppercase", raw('{"command": "list-commands"}', {"Content-Type": "APPLICATION/JSON"}),
     tags=("http",))
case("http/get", raw("", JSON_CT, method="GET"), tags=("http",))
case("http/get-with-body", raw('{"command": "list-commands"}', JSON_CT, method="GET"), tags=("http",))
case("http/put", raw('{"command": "list-commands"}', JSON_CT, method="PUT"), tags=("http",))
case("http/other-path", raw('{"command": "lease4-get-all", "service": ["dhcp4"]}', JSON_CT, path="/foo/bar"),
     tags=("http",))
case("http/empty-body", raw("", JSON_CT), tags=("http",))
case("http/whitespace-body", raw("  \n", JSON_CT), tags=("http",))
case("http/raw-utf8-hostname", raw('{"command": "lease4-add", "service": ["dhcp4"], "arguments": '
                                    '{"ip-address": "192.0.2.20", "hw-address": "1a:1b:1c:1d:1e:1f", "hostname": "h\u00e9"}}',
                                    JSON_CT),
     get4("192.0.2.20"), tags=("http",))
case("http/no-content-length",
     http('POST / HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nConnection: close\r\n\r\n'
          '{"command": "list-commands"}'), tags=("http",))
case("http/chunked",
     http('POST / HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n'
          'Connection: close\r\n\r\n1c\r\n{"command": "list-commands"}\r\n0\r\n\r\n'), tags=("http",))
case("http/no-host-header",
     http('POST / HTTP/1.1\r\nContent-Type: application/json\r\nContent-Length: 28\r\nConnection: close\r\n\r\n'
          '{"command": "list-commands"}'), tags=("http",))
case("http/http10",
     http('POST / HTTP/1.0\r\nContent-Type: application/json\r\nContent-Length: 28\r\n\r\n'
          '{"command": "list-commands"}'), tags=("http",))
case("http/http20-request-line",
     http('POST / HTTP/2.0\r\nContent-Type: application/json\r\nContent-Length: 28\r\n\r\n'
          '{"command": "list-commands"}'), tags=("http",))
case("http/lowercase-header-names",
     http('POST / HTTP/1.1\r\ncontent-type: application/json\r\ncontent-length: 28\r\nconnection: close\r\n\r\n'
          '{"command": "list-commands"}'), tags=("http",))
case("http/bad-request-line", http("HELLO\r\n\r\n"), tags=("http",))
case("http/get-raw", http("GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"), tags=("http",))
# raw HTTP where leasesync's own protocol answers as Kea does (a fuzz of the transport, 2026-11-26)
_GET99 = '{"command": "lease4-get", "service": ["dhcp4"], "arguments": {"ip-address": "192.0.2.99"}}'
_HEAD99 = f"Content-Type: application/json\r\nContent-Length: {len(_GET99)}\r\nConnection: close\r\n"
case("http/version-1-2", http(f"POST / HTTP/1.2\r\n{_HEAD99}\r\n{_GET99}"), tags=("http",))
case("http/no-version", http(f"POST /\r\n{_HEAD99}\r\n{_GET99}"), tags=("http",))
case("http/unknown-method", http(f"FROB / HTTP/1.1\r\n{_HEAD99}\r\n{_GET99}"), tags=("http",))
case("http/bare-lf", http(f"POST / HTTP/1.1\n{_HEAD99.replace(chr(13), '')}\n{_GET99}"), tags=("http",))
case("http/content-length-twice-differing",
     http(f"POST / HTTP/1.1\r\n{_HEAD99}Content-Length: 5\r\n\r\n{_GET99}"), tags=("http",))
case("http/expect-100-with-the-body", http(f"POST / HTTP/1.1\r\n{_HEAD99}Expect: 100-continue\r\n\r\n{_GET99}"),
     tags=("http",))


# ---------------------------------------------------------------------------------------------
# found by a differential fuzz against Kea 2.2 (2026-11-26)

case("lease4-add/hw-address-trailing-separator", add4(hw_address="1a:1b:1c:1d:1e:1f:"))
case("lease4-add/hw-address-double-separator", add4(hw_address="1a::1b"))
case("lease4-add/hw-address-long-group-before-empty", add4(hw_address="1ab::1b"))
case("lease4-add/client-id-trailing-separator", add4(client_id="01:02:"))
case("lease4-add/client-id-leading-space", add4(client_id=" 010203"))
case("lease6-add/duid-trailing-separator", add6(duid="01:02:"))
case("lease4-get-page/from-wrong-type-before-limit-type", c4("lease4-get-page", {"from": 0, "limit": "1"}))
case("lease4-get-page/from-v6-before-limit-type", c4("lease4-get-page", {"from": "::", "limit": "1"}))
case("lease6-get-page/from-bad-before-limit-type", c6("lease6-get-page", {"from": "START", "limit": "1"}))
case("lease6-bulk-apply/leases-null", c6("lease6-bulk-apply", {"leases": None}))
case("lease6-bulk-apply/deleted-leases-null", c6("lease6-bulk-apply", {"deleted-leases": None}))
case("lease6-bulk-apply/deleted-leases-not-a-list-before-leases-null",
     c6("lease6-bulk-apply", {"deleted-leases": "x", "leases": None}))
case("lease6-del/by-client-id", add6(),
     c6("lease6-del", {"identifier-type": "client-id", "identifier": "01:02", "iaid": 5, "subnet-id": 1}))
case("lease4-add/comment", add4(comment="hello"), get4("192.0.2.20"))
case("lease4-add/comment-merged-into-user-context", add4(comment="hello", user_context={"a": 1}), get4("192.0.2.20"))
case("lease4-add/comment-duplicated-in-user-context", add4(comment="hello", user_context={"comment": "x"}))
case("lease6-add/comment-not-a-string", add6(comment={"k": [1]}), get6("2001:db8:1::100"))
case("lease4-update/comment", add4(), c4("lease4-update", w(L4, comment="c")), get4("192.0.2.20"))
case("lease4-add/v4-mapped-v6-address", add4(ip_address="::ffff:192.0.2.20"))
case("lease6-add/v4-mapped-address-no-subnet", add6(ip_address="::ffff:192.0.2.1"))
case("lease6-add/v4-compatible-address-wrong-subnet", add6(ip_address="::192.0.2.1", subnet_id=1))
BY_DUID = {"identifier-type": "duid", "identifier": DUID, "iaid": 1234, "subnet-id": 1}
case("lease6-bulk-apply/delete-by-duid", add6(), add6(ip_address="2001:db8:1::101", iaid=77),
     c6("lease6-bulk-apply", {"deleted-leases": [BY_DUID]}), get6("2001:db8:1::100"), get6("2001:db8:1::101"))
case("lease6-bulk-apply/delete-by-duid-missing", add6(iaid=77), c6("lease6-bulk-apply", {"deleted-leases": [BY_DUID]}))
case("lease6-bulk-apply/delete-by-duid-and-missing-address", add6(),
     c6("lease6-bulk-apply", {"deleted-leases": [BY_DUID, {"ip-address": "2001:db8:1::1ff"}]}))
case("lease6-bulk-apply/delete-by-duid-ambiguous", add6(), add6(ip_address="2001:db8:1::101"),
     c6("lease6-bulk-apply", {"deleted-leases": [BY_DUID]}), c6("lease6-get-by-duid", {"duid": DUID}))
case("lease6-bulk-apply/delete-by-duid-of-another-type", add6(),
     c6("lease6-bulk-apply", {"deleted-leases": [{**BY_DUID, "type": "IA_PD"}]}), get6("2001:db8:1::100"))
case("lease6-bulk-apply/delete-by-hw-address", c6("lease6-bulk-apply", {"deleted-leases": [
    {"identifier-type": "hw-address", "identifier": "01:02:03:04:05:06", "subnet-id": 1}]}))
case("lease6-bulk-apply/delete-by-client-id", c6("lease6-bulk-apply", {"deleted-leases": [
    {"identifier-type": "client-id", "identifier": "01:02", "iaid": 5, "subnet-id": 1}]}))
case("lease6-bulk-apply/delete-entry-without-address-or-identifier",
     c6("lease6-bulk-apply", {"deleted-leases": [{"hostname": "x"}]}))
case("lease6-get/by-duid-ambiguous", add6(), add6(ip_address="2001:db8:1::101"), c6("lease6-get", BY_DUID))
case("lease6-del/by-duid-ambiguous", add6(), add6(ip_address="2001:db8:1::101"), c6("lease6-del", BY_DUID),
     c6("lease6-get-by-duid", {"duid": DUID}))
# get-page without 'limit': 'from' is checked through first (a random fuzz, seed 31)
err4("lease4-get-page/err-from-int-no-limit", "lease4-get-page", {"from": 5})
err4("lease4-get-page/err-from-null-no-limit", "lease4-get-page", {"from": None})
err4("lease4-get-page/err-from-empty-no-limit", "lease4-get-page", {"from": ""})
err6("lease6-get-page/err-from-ipv4-no-limit", "lease6-get-page", {"from": "192.0.2.1"})
err6("lease6-get-page/err-from-int-no-limit", "lease6-get-page", {"from": 5})
# agent and daemon commands (a second fuzz, 2026-11-26)
case("dhcp-disable/arguments-not-a-map", c4("dhcp-disable", "x"), c4("dhcp-disable", None), c4("dhcp-enable", [5]))
case("dhcp-disable/every-argument-error-at-once", c4("dhcp-disable", {"max-period": -5, "origin": "foo"}),
     c4("dhcp-disable", {"max-period": "5", "origin": 7}))
case("dhcp-enable/empty-origin", c4("dhcp-enable", {"origin": ""}), c6("dhcp-disable", {"origin": ""}))
case("statistic-get/arguments-not-a-map", c4("statistic-get", [1]), c4("statistic-reset", "x"))
case("config-test/arguments-not-a-map", c4("config-test", "x"), c4("config-test", None))
# config-test sent to a family answers with the daemon's own checks, in its order and words
_NET4 = "10.0.0.0/24"


def _ct4(dhcp4: Any, **more: Any) -> dict[str, Any]:
    return c4("config-test", {"Dhcp4": dhcp4, **more})


def _ct6(dhcp6: Any) -> dict[str, Any]:
    return c6("config-test", {"Dhcp6": dhcp6})


# interfaces-config as Kea's parser reads it: re-detect first, then key by key; the interfaces are
# selected against this host (lo with 127.0.0.1 and ::1 is on every host; the other name on none)
_NO_IFACE = "leasesync-none0"
_S4 = {"id": 1, "subnet": "192.0.2.0/24"}
_S6 = {"id": 1, "subnet": "2001:db8:1::/64"}
_SUB4 = {"subnet4": [_S4]}
_SUB6 = {"subnet6": [_S6]}
case("config-test/interfaces-selected-as-kea-selects-them",
     *[_ct4({**_SUB4, "interfaces-config": {"interfaces": entries}}) for entries in (
         [_NO_IFACE], ["lo", "lo"], ["lo", "lo/127.0.0.1"], ["lo/127.0.0.1", "lo"], ["lo/127.0.0.1", "lo/127.0.0.1"],
         ["*", "*"], ["*", "lo"], [" lo\t"], [""], ["/127.0.0.1"], ["lo/"], [f"{_NO_IFACE}/"], [f"{_NO_IFACE}/x"],
         ["lo/x"], ["lo/127.0.0.1/8"], ["lo//"], ["lo/::1"], ["lo/127.0.0.2"], ["lo/ 127.0.0.1 "], ["*/127.0.0.1"],
         ["lo", 5], 5, ["LO"])],
     *[_ct6({**_SUB6, "interfaces-config": {"interfaces": entries}}) for entries in (
         [_NO_IFACE], ["lo", "lo"], ["lo", "lo/::1"], ["lo/::1", "lo/0:0:0:0:0:0:0:1"], ["lo/127.0.0.1"],
         ["lo/ff02::1"], ["lo/::ffff:127.0.0.1"], ["lo/fe80::1"], ["lo/fe80::1%lo"], ["lo/::1%lo"], ["*/"],
         ["*/::1"])])
case("config-test/interfaces-config-keys-in-kea-s-order",
     *[_ct4({**_SUB4, "interfaces-config": config}) for config in (
         {"interfaces": [_NO_IFACE], "zzz": 1}, {"aaa": 1, "interfaces": [_NO_IFACE]},
         {"interfaces": [_NO_IFACE], "re-detect": "x"}, {"interfaces": [], "re-detect": None},
         {"dhcp-socket-type": 5, "interfaces": [_NO_IFACE]}, {"dhcp-socket-type": "UDP"},
         {"dhcp-socket-type": "raw", "outbound-interface": "use-routing"}, {"outbound-interface": 5},
         {"outbound-interface": "x", "interfaces": ["lo"]}, {"service-sockets-require-all": 5},
         {"service-sockets-max-retries": 3.5}, {"service-sockets-max-retries": -1},
         {"service-sockets-retry-wait-time": True}, {"user-context": 5})],
     *[_ct6({**_SUB6, "interfaces-config": config}) for config in (
         {"outbound-interface": "use-routing"}, {"service-sockets-require-all": "x"},
         {"interfaces": [_NO_IFACE], "re-detect": 1})])
# dhcp-ddns as Kea's D2 client parser reads it: enable-updates required, the other keys in its
# order, then the sender's address and the combination (a default value is "<default-value>:0:0")
_OFF = {"enable-updates": False}
case("config-test/dhcp-ddns-as-kea-s-d2-client-parser-reads-it",
     *[_ct4({**_SUB4, "dhcp-ddns": ddns}) for ddns in (
         {"server-ip": "127.0.0.1"}, {"enable-updates": None}, {**_OFF, "server-ip": "x"}, {**_OFF, "server-ip": 5},
         {**_OFF, "server-ip": " 127.0.0.1"}, {**_OFF, "server-ip": "fe80::1%lo"}, {**_OFF, "server-port": "x"},
         {**_OFF, "server-port": -1}, {**_OFF, "server-port": 4294967296}, {**_OFF, "server-port": 70000},
         {**_OFF, "sender-ip": "x"}, {**_OFF, "sender-ip": ""}, {**_OFF, "sender-ip": 5},
         {**_OFF, "sender-ip": "x", "sender-port": "x"}, {**_OFF, "max-queue-size": 1.5},
         {**_OFF, "ncr-protocol": "udp"}, {**_OFF, "ncr-protocol": "X"}, {**_OFF, "ncr-protocol": "TCP", "ncr-format": "x"},
         {**_OFF, "ncr-format": "XML"}, {**_OFF, "ncr-protocol": "TCP", "sender-ip": "::1"},
         {**_OFF, "bogus": 1, "sender-ip": "::1"}, {"enable-updates": True, "server-ip": "::1", "sender-ip": "0.0.0.0"},
         {**_OFF, "server-ip": "::1", "sender-ip": "::1", "sender-port": 53001},
         {**_OFF, "server-ip": "0.0.0.0", "server-port": 0},
         {**_OFF, "server-ip": "127.0.0.1", "server-port": 65541, "sender-ip": "127.0.0.1", "sender-port": 5},
         {**_OFF, "qualifying-suffix": 5, "user-context": 5})],
     _ct4({"subnet4": [{"id": 1, "subnet": "192.0.2.0/24", "pools": [{"pool": "10.0.0.1 - 10.0.0.5"}]}],
           "valid-lifetime": "x", "dhcp-ddns": {**_OFF, "server-ip": "x"}}),
     _ct6({**_SUB6, "dhcp-ddns": {**_OFF, "sender-ip": "::1"}}))
# lease and host databases as Kea's database access parser reads them: types key by key (Kea 2.2
# reads read-timeout & co. as strings), type present and known, then the ranges in Kea's order;
# the lease database before the host databases, both before the subnets
_MY = {"type": "mysql", "name": "x"}
case("config-test/databases-as-kea-s-database-access-parser-reads-them",
     *[_ct4({**_SUB4, "lease-database": db}) for db in (
         {**_MY, "read-timeout": 5}, {**_MY, "read-timeout": "5"}, {**_MY, "retry-on-startup": True},
         {**_MY, "port": 70000}, {**_MY, "lfc-interval": -1, "connect-timeout": -1},
         {**_MY, "max-reconnect-tries": -1, "reconnect-wait-time": -1}, {**_MY, "reconnect-wait-time": 4294967296},
         {**_MY, "max-row-errors": -1, "port": -1}, {**_MY, "max-reconnect-tries": 4294967296},
         {"type": "x", "port": -1}, {"port": 70000}, {"type": "cql"})],
     *[_ct4({**_SUB4, "hosts-database": db}) for db in (
         {}, {"type": "x"}, {"type": "sqlite"}, {"type": "memfile"}, {"type": "mysql", "bogus": 1},
         {"type": "mysql", "connect-timeout": 4294967296}, {"type": "postgresql", "on-fail": "x"})],
     _ct4({**_SUB4, "hosts-databases": [{"type": "mysql"}, {"type": "z"}]}), _ct4({**_SUB4, "hosts-databases": [5]}),
     _ct4({**_SUB4, "hosts-database": {"type": "x"}, "lease-database": {"type": "y"}}),
     _ct4({"subnet4": [{"id": 1, "subnet": "192.0.2.0/24", "pools": [{"pool": "10.0.0.1 - 10.0.0.5"}]}],
           "aaa": 1, "hosts-database": {"type": "x"}}),
     _ct6({**_SUB6, "hosts-database": {"type": "mysql", "port": -1}}))
# control-socket, multi-threading and host-reservation-identifiers before the other containers;
# sanity-checks after interfaces-config, before the hooks; global ranges; the globals Kea 2.2
# copies into subnets at parse time (the others it looks up at run time: a wrong type passes);
# a v6 shared network's key errors carry the network's position
_BAD_POOL4 = [{"id": 1, "subnet": "192.0.2.0/24", "pools": [{"pool": "10.0.0.1 - 10.0.0.2"}]}]
_NET6 = [{"name": "n", "subnet6": [{"id": 1, "subnet": "2001:db8:1::/64"}]}]
case("config-test/global-parsers-in-kea-s-order",
     *[_ct4({**_SUB4, **extra}) for extra in (
         {"multi-threading": {"thread-pool-size": -1}, "control-socket": 5},
         {"multi-threading": {"thread-pool-size": -1, "enable-multi-threading": "x"}},
         {"multi-threading": {"thread-pool-size": 70000}}, {"multi-threading": {"packet-queue-size": -1}},
         {"multi-threading": {"packet-queue-size": "x", "thread-pool-size": "x"}},
         {"multi-threading": 5, "client-classes": 5}, {"multi-threading": {"thread-pool-size": -1}, "hooks-libraries": 5},
         {"host-reservation-identifiers": ["x"], "client-classes": 5}, {"host-reservation-identifiers": [5]},
         {"host-reservation-identifiers": ["hw-address", "hw-address"]}, {"host-reservation-identifiers": []},
         {"host-reservation-identifiers": ["circuit-id", "client-id", "duid", "flex-id", "hw-address"]},
         {"sanity-checks": {"lease-checks": "x"}, "interfaces-config": {"interfaces": [_NO_IFACE]}},
         {"sanity-checks": {"lease-checks": "x"}, "dhcp-ddns": {"enable-updates": "x"}},
         {"sanity-checks": {"lease-checks": 5}}, {"sanity-checks": {"lease-checks": "fix-del", "bogus": 1}},
         {"dhcp4o6-port": 70000}, {"dhcp4o6-port": -1, "decline-probation-period": -1},
         {"decline-probation-period": 4294967296}, {"authoritative": 5, "match-client-id": "x", "next-server": 5},
         {"ddns-send-updates": "x", "hostname-char-set": 5, "reservations-global": "x"},
         {"renew-timer": "x"}, {"store-extended-info": "x"}, {"4o6-subnet": 5}, {"reservation-mode": 5}, {"relay": 5})],
     _ct4({"subnet4": _BAD_POOL4, "multi-threading": {"thread-pool-size": -1}}),
     _ct4({"subnet4": _BAD_POOL4, "sanity-checks": {"lease-checks": "x"}}),
     _ct6({**_SUB6, "host-reservation-identifiers": ["circuit-id"]}), _ct6({**_SUB6, "rapid-commit": 5}),
     _ct6({"shared-networks": _NET6, "valid-lifetime": "x"}), _ct6({"shared-networks": _NET6, "relay": 5}),
     _ct6({"shared-networks": [{"name": "n", "bogus": 1}]}), _ct6({"shared-networks": [{"name": 5}]}))
# the global parsers one after the other, as Kea 2.2's configuration parser calls them (the
# containers its defaults walk into are type-checked before all of them): expired-leases-processing
# (integers, each within its maximum), dhcp-queue-control, reservations-lookup-first, client-classes,
# the host databases, shared networks before subnets before global reservations, config-control
# (its databases, then config-fetch-wait-time; errors name the map again), relay-supplied-options,
# compatibility
_ELP = {"expired-leases-processing": {"max-reclaim-time": 20000}}
case("config-test/global-parsers-one-after-the-other",
     *[_ct4({**_SUB4, "expired-leases-processing": elp}) for elp in (
         {"reclaim-timer-wait-time": -1}, {"flush-reclaimed-timer-wait-time": 65536},
         {"hold-reclaimed-time": 4294967296}, {"max-reclaim-leases": "5"}, {"max-reclaim-time": 10001},
         {"max-reclaim-time": 10000, "unwarned-reclaim-cycles": 65536}, {"unwarned-reclaim-cycles": True},
         {"reclaim-timer-wait-time": [], "flush-reclaimed-timer-wait-time": -1},
         {"unwarned-reclaim-cycles": -1, "hold-reclaimed-time": -1}, {"bogus": "x"})],
     *[_ct4({**_SUB4, "dhcp-queue-control": dqc}) for dqc in (
         {"enable-queue": "x"}, {"enable-queue": True}, {"enable-queue": True, "queue-type": 5},
         {"enable-queue": False, "queue-type": 5}, {"enable-queue": True, "queue-type": "x", "capacity": -1})],
     *[_ct4({**_SUB4, **extra}) for extra in (
         {**_ELP, "interfaces-config": {"interfaces": "x"}}, {**_ELP, "sanity-checks": {"lease-checks": "x"}},
         {**_ELP, "hooks-libraries": [{"library": "/nonexistent.so"}]}, {**_ELP, "dhcp-ddns": {"enable-updates": "x"}},
         {**_ELP, "client-classes": "x"}, {**_ELP, "hosts-database": "x"}, {**_ELP, "reservations": "x"},
         {**_ELP, "config-control": "x"}, {**_ELP, "compatibility": "x"}, {**_ELP, "option-data": "x"},
         {"dhcp-queue-control": {"enable-queue": "x"}, "host-reservation-identifiers": ["x"]},
         {"dhcp-queue-control": {"enable-queue": "x"}, "sanity-checks": "x"},
         {"control-socket": "x", "option-def": "x"}, {"ip-reservations-unique": "x", "control-socket": "x"},
         {"reservations-lookup-first": 5, "host-reservation-identifiers": ["x"]},
         {"reservations": "x", "aaa": 1}, {"compatibility": {"lenient-option-parsing": 1, "bogus": "x"}},
         {"config-control": {"config-databases": "x"}}, {"config-control": {"config-databases": [5]}},
         {"config-control": {"config-databases": [{"type": "x"}], "config-fetch-wait-time": -1}},
         {"config-control": {"config-databases": [{"name": "kea"}]}},
         {"config-control": {"config-databases": [{**_MY, "port": 70000}]}},
         {"config-control": {"config-databases": [{**_MY, "user": "a b"}]}},
         {"config-control": {"config-databases": [{**_MY, "password": "a b", "user": "u"}] * 2}},
         {"config-control": {"config-databases": [{**_MY, "port": 5}, {**_MY, "port": 6}, {**_MY, "port": 5}]}},
         {"config-control": {"config-databases": [{"type": "memfile"}], "config-fetch-wait-time": 65536}},
         {"config-control": {"config-fetch-wait-time": "x"}}, {"config-control": {"bogus": 1}})],
     _ct4({"subnet4": [{"id": 1, "subnet": "x"}], "reservations": "x"}),
     _ct6({**_SUB6, **_ELP}), _ct6({**_SUB6, "relay-supplied-options": "x", "aaa": 1}),
     _ct6({**_SUB6, "server-id": 5, "interfaces-config": {"interfaces": "x"}}),
     _ct6({**_SUB6, "mac-sources": 5, "control-socket": 5}))
# a subnet's and a shared network's values as Kea's parsers read them, in their order: the relay
# (before the prefix), the prefix length before the id, timers, v6 the preferred lifetime first,
# v4 next-server and the boot fields, the interface (it must exist on the host), required
# classes, 4o6-subnet, then the tee times (only when calculated, Kea's defaults otherwise), DDNS
# (replace-client-name mode, hostname-char-set a regular expression) and the cache threshold; a
# shared network checks its own after its subnets, which inherit from it
_TEE = {"calculate-tee-times": True}
case("config-test/subnet-and-network-values-as-kea-reads-them",
     *[_ct4({"subnet4": [{**_S4, **sub}]}) for sub in (
         {"renew-timer": -1}, {"renew-timer": 100, "rebind-timer": 50}, {"rebind-timer": -1, "valid-lifetime": 1,
                                                                         "min-valid-lifetime": 2},
         {**_TEE, "t1-percent": 1.5}, {"t1-percent": 1.5}, {**_TEE, "t2-percent": 0.0}, {**_TEE, "t1-percent": 0.9},
         {**_TEE, "t1-percent": 0.7, "t2-percent": 0.7}, {**_TEE, "t1-percent": 2.0, "t2-percent": 3.0},
         {"cache-threshold": 1.0}, {"cache-threshold": 1.0, **_TEE, "t1-percent": 1.5},
         {"cache-threshold": 1.0, "pools": [{"pool": "10.0.0.1-10.0.0.2"}]},
         {"relay": {"ip-address": "10.0.0.1", "ip-addresses": ["10.0.0.2"]}}, {"relay": {}},
         {"relay": {"ip-addresses": ["x"]}, "subnet": "x"}, {"relay": {"ip-addresses": ["2001:db8::1"]}},
         {"relay": {"ip-addresses": ["10.0.0.1", "10.0.0.1"]}}, {"relay": {"ip-addresses": [5]}},
         {"relay": {"ip-addresses": "x"}}, {"relay": {"ip-address": 5}}, {"relay": {"ip-addresses": [], "x": 1}},
         {"relay": {"ip-addresses": ["x"]}, "pools": [{"pool": "x"}]},
         {"require-client-classes": [""], **_TEE, "t1-percent": 1.5}, {"require-client-classes": [5]},
         {"interface": "eth9", **_TEE, "t1-percent": 1.5}, {"interface": "lo"},
         {"subnet": "10.0.0.0/33", "id": -1}, {"subnet": "2001:db8::/129"},
         {"next-server": "x", **_TEE, "t1-percent": 1.5}, {"next-server": "2001:db8::1"}, {"next-server": ""},
         {"renew-timer": -1, "next-server": "x"}, {"server-hostname": "a" * 64, "boot-file-name": "a" * 200},
         {"server-hostname": "\u00e9" * 32}, {"boot-file-name": "a" * 128}, {"boot-file-name": "a" * 129},
         {"4o6-subnet": "2001:db8::"}, {"4o6-subnet": "2001:db8::/x"}, {"4o6-subnet": "x/64"},
         {"4o6-subnet": "2001:db8::/300"}, {"4o6-subnet": "2001:db8::/-1"},
         {"ddns-replace-client-name": "bogus"}, {"hostname-char-set": "[a-z", "cache-threshold": 1.0},
         {"hostname-char-set": ")"}, {"hostname-char-set": "[^A-Za-z0-9.-]"}, {"hostname-char-set": "a**"})],
     _ct4({**_SUB4, "renew-timer": 100, "rebind-timer": 50}), _ct4({**_SUB4, **_TEE, "t1-percent": 0.95}),
     _ct4({**_SUB4, "relay": {"ip-addresses": ["x"]}}), _ct4({"renew-timer": 100, "rebind-timer": 50}),
     *[_ct6({"subnet6": [{**_S6, **sub}]}) for sub in (
         {"renew-timer": 100, "rebind-timer": 50}, {"t1-percent": 1.5}, {**_TEE, "t1-percent": 0.9},
         {"cache-threshold": 0.0}, {"relay": {"ip-addresses": ["10.0.0.1"]}},
         {"relay": {"ip-addresses": ["2001:db8::1", "2001:db8::1"]}}, {"interface": "eth9"},
         {"require-client-classes": [""]}, {"subnet": "10.0.0.0/33"},
         {"preferred-lifetime": 1, "min-preferred-lifetime": 2, "subnet": "10.0.0.0/8"},
         {"preferred-lifetime": 1, "min-preferred-lifetime": 2, "renew-timer": -1})],
     *[_ct4({"shared-networks": [{"name": "n", **net, "subnet4": [{**_S4, **sub}]}]}) for net, sub in (
         ({"renew-timer": 100, "rebind-timer": 50}, {}), ({"renew-timer": -1}, {"subnet": "x"}),
         ({**_TEE, "t1-percent": 1.5}, {}), ({"cache-threshold": 1.0}, {}), ({"next-server": "x"}, {}),
         ({"relay": {"ip-addresses": ["x"]}}, {"subnet": "x"}), ({"require-client-classes": [""]}, {}),
         ({"interface": "eth9"}, {"subnet": "x"}), ({"server-hostname": "a" * 64}, {}),
         ({"cache-threshold": 1.0}, {**_TEE, "t1-percent": 1.5}), ({"hostname-char-set": "[a-z"}, {}),
         ({"ddns-replace-client-name": "x", "next-server": "x"}, {}))],
     *[_ct6({"shared-networks": [{"name": "n", **net, "subnet6": [{**_S6, **sub}]}]}) for net, sub in (
         ({"preferred-lifetime": 1, "min-preferred-lifetime": 2, "valid-lifetime": 1, "min-valid-lifetime": 2}, {}),
         ({"interface": "lo", "interface-id": "x"}, {}), ({"interface": "eth9"}, {}),
         ({"require-client-classes": [""]}, {"subnet": "x"}), ({"hostname-char-set": "("}, {}))])
# host reservations as Kea's reservation parser and its table of hosts read them: keys in key order
# (known, one identifier, strings), the identifier ('quoted' or hex), v4 addresses and boot fields,
# v6 addresses and prefixes; then, reservation by reservation, inside the subnet and added to the
# table (at least one resource, no identifier or address twice in a subnet; Kea's texts as they are)


def _res4(*hosts: Any, **subnet: Any) -> dict[str, Any]:
    return _ct4({"subnet4": [{**_S4, **subnet, "reservations": list(hosts)}]})


def _res6(*hosts: Any) -> dict[str, Any]:
    return _ct6({"subnet6": [{**_S6, "reservations": list(hosts)}]})


case("config-test/reservations-as-kea-reads-them",
     _res4({"ip-address": "192.0.2.10"}), _res4({"hw-address": HW, "duid": "01:02"}),
     _res4({"duid": 5, "zzz": 1}), _res4({"aaa": 1, "hw-address": 5}), _res4({"hw-address": ""}),
     _res4({"hw-address": "1a::1b"}), _res4({"hw-address": "1a:1bc"}), _res4({"duid": "abc"}), _res4({"duid": "0x"}),
     _res4({"flex-id": "'abc'"}), _res4({"flex-id": "''"}), _res4({"duid": "01 02:03"}),
     _res4({"hw-address": ":".join(["aa"] * 21), "hostname": "x"}), _res4({"duid": ":".join(["aa"] * 129), "hostname": "x"}),
     _res4({"hw-address": HW, "hostname": 5}), _res4({"hw-address": HW, "ip-address": "x", "next-server": "x"}),
     _res4({"hw-address": HW, "ip-address": "2001:db8::1"}), _res4({"hw-address": HW, "ip-address": "0.0.0.0"}),
     _res4({"hw-address": HW, "ip-address": 5}), _res4({"hw-address": HW, "ip-address": "10.0.0.1"}),
     _res4({"hw-address": HW, "next-server": "255.255.255.255"}), _res4({"hw-address": HW, "next-server": "0.0.0.0"}),
     _res4({"hw-address": HW, "server-hostname": "a" * 64}), _res4({"hw-address": HW, "boot-file-name": "a" * 128}),
     _res4({"hw-address": HW, "client-classes": "x"}), _res4({"hw-address": HW, "client-classes": [5]}),
     _res4({"hw-address": HW, "ip-address": "10.0.0.1"}, {"hw-address": "xyz"}), _res4(5),
     _res4({"hw-address": HW}, {"hw-address": HW}), _res4({"client-id": "01:02"}),
     _res4({"hw-address": HW, "hostname": "a"}, {"hw-address": HW.upper(), "hostname": "b"}),
     _res4({"duid": "01:02", "hostname": "a"}, {"duid": "1:2", "hostname": "b"}),
     _res4({"circuit-id": "'x'", "hostname": "a"}, {"circuit-id": "'x'", "hostname": "b"}),
     _res4({"hw-address": HW, "ip-address": "192.0.2.5"}, {"duid": "01:02", "ip-address": "192.0.2.5"}),
     _res4({"hw-address": "zz"}, pools=[{"pool": "10.0.0.1-10.0.0.2"}]),
     _res4({"hw-address": HW, "client-classes": ["x"]}, {"duid": "01", "next-server": "10.0.0.1"},
           {"flex-id": "01", "option-data": [{"name": "routers", "data": "10.0.0.1"}]}),
     _ct4({"ip-reservations-unique": False, "subnet4": [{**_S4, "reservations": [
         {"hw-address": HW, "ip-address": "192.0.2.5"}, {"duid": "01", "ip-address": "192.0.2.5"}]}]}),
     _ct4({"subnet4": [{**_S4, "reservations": [{"hw-address": HW, "hostname": "a"}]}],
           "reservations": [{"hw-address": HW, "hostname": "b"}, {"hw-address": HW, "hostname": "c"}]}),
     _ct4({"subnet4": [{"id": 1, "subnet": "x"}], "reservations": [{"hw-address": "zz"}]}),
     _ct4({"shared-networks": [{"name": "n", "subnet4": [{**_S4, "reservations": [
         {"hw-address": HW, "ip-address": "192.0.2.5"}, {"hw-address": "01", "ip-address": "192.0.2.5"}]}]}]}),
     _res6({"ip-addresses": ["2001:db8:1::10"]}), _res6({"duid": "01:02", "ip-addresses": ["x"], "prefixes": ["y"]}),
     _res6({"duid": "01:02", "ip-addresses": ["ff02::1"]}), _res6({"duid": "01:02", "ip-addresses": [5]}),
     _res6({"duid": "01:02", "ip-addresses": "x"}), _res6({"duid": "01:02", "ip-addresses": ["2001:db8:1::1"] * 2}),
     _res6({"duid": "01:02", "ip-addresses": ["2001:db8:9::1"]}), _res6({"duid": "01:02", "prefixes": ["2001:db8:2::"]}),
     _res6({"duid": "01:02", "prefixes": ["2001:db8:2::/"]}), _res6({"duid": "01:02", "prefixes": ["2001:db8:2::/x"]}),
     _res6({"duid": "01:02", "prefixes": ["2001:db8:2::/-1"]}), _res6({"duid": "01:02", "prefixes": ["2001:db8:2::/64"] * 2}),
     _res6({"duid": "01:02", "ip-addresses": ["2001:db8:1::1"], "prefixes": ["2001:db8:1::1/128"]}),
     _res6({"circuit-id": "01:02"}), _res6({"duid": "01"}), _res6({"duid": "01", "prefixes": ["2001:db8:9::/64"]}),
     _res6({"duid": "01", "ip-addresses": ["2001:db8:1::"]}, {"duid": "02", "prefixes": ["2001:db8:1::/64"]}),
     _res6({"hw-address": "0x0102", "hostname": "a"}, {"hw-address": "1:2", "hostname": "b"}),
     _ct6({"shared-networks": [{"name": "n", "subnet6": [{**_S6, "reservations": [
         {"duid": "01", "ip-addresses": ["2001:db8:9::1"]}]}]}]}))
# positions deep in a configuration: what comes before moves them; an Element accessor's error in
# a shared network's subnet also names the network
_BEFORE_CONFIG = {"boot-file-name": "b\u00e9\n", "option-data": [{"name": "routers", "data": "10.0.0.1"}],
                  "user-context": {"a": {}, "b": [1.5, 0.0001, {}, [], None, False]}}
# option data as Kea's option data parser reads it (app/kea_options.py): the keys, the code and
# name, the space, the definition found (standard, vendor, the configuration's option-def) and
# each CSV value written as the definition's type says, or the hex when csv-format is false;
# Kea's defaults give global option data csv-format true, other scopes' none
def _opt4(*options: Any, **section: Any) -> dict[str, Any]:
    return _ct4({**_SUB4, "option-data": list(options), **section})


def _opt6(*options: Any) -> dict[str, Any]:
    return _ct6({**_SUB6, "option-data": list(options)})


_MY_DEFS = {"option-def": [{"name": "my-opt", "code": 222, "type": "uint8"},
                           {"name": "my-rec", "code": 223, "type": "record", "record-types": "uint16, ipv4-address"},
                           {"name": "ports", "code": 224, "type": "uint16", "array": True}]}
case("config-test/option-data-keys-codes-names-and-spaces",
     _opt4({"name": "routers", "data": "192.0.2.1"}), _opt4({"data": "192.0.2.1"}), _opt4({"name": 5, "data": "1"}),
     _opt4({"name": "routers", "data": 5}), _opt4({"name": "routers", "data": "192.0.2.1", "foo": 1}),
     _opt4({"name": "routers", "data": "192.0.2.1", "always-send": "yes"}), _opt4("routers"),
     _opt4({"name": "routerz", "data": "1"}), _opt4({"name": "rou ters", "data": "1"}),
     _opt4({"code": 300, "data": "1"}), _opt4({"code": -1, "data": "01"}), _opt4({"code": 0, "data": "1"}),
     _opt4({"code": 222, "data": "01"}), _opt4({"code": 222, "csv-format": False, "data": "01"}),
     _opt4({"name": "foo", "csv-format": False, "data": "01"}), _opt4({"code": 0, "csv-format": False, "data": "01"}),
     _opt4({"code": 255, "csv-format": False, "data": "01"}), _opt4({"name": "routers", "code": 6, "data": "192.0.2.1"}),
     _opt4({"name": "routers", "space": "1bad", "data": "1"}), _opt4({"name": "routers", "space": "dhcp6", "data": "1"}),
     _opt4({"name": "tftp-servers", "space": "vendor-4491", "data": "x"}),
     _opt6({"code": 65536, "data": "01"}), _opt6({"code": 0, "csv-format": False, "data": "01"}),
     _opt6({"name": "dns-servers", "space": "dhcp4", "data": "x"}))
case("config-test/option-data-values-as-their-definitions-say",
     _opt4({"name": "routers", "data": "192.0.2.x"}), _opt4({"name": "domain-name-servers", "data": "192.0.2.1, foo"}),
     _opt4({"name": "routers", "data": " 192.0.2.1 ,192.0.2.2 "}), _opt4({"name": "subnet-mask", "data": ""}),
     _opt4({"name": "domain-name", "data": ""}), _opt4({"name": "domain-name", "data": "a\\,b"}),
     _opt4({"name": "default-ip-ttl", "data": "300"}), _opt4({"name": "default-ip-ttl", "data": "abc"}),
     _opt4({"name": "default-ip-ttl", "data": "0x1F"}), _opt4({"name": "time-offset", "data": "zz"}),
     _opt4({"name": "time-offset", "data": "3000000000"}), _opt4({"name": "dhcp-lease-time", "data": "1.5"}),
     _opt4({"name": "path-mtu-plateau-table", "data": "68, 70000"}), _opt4({"name": "ip-forwarding", "data": "maybe"}),
     _opt4({"name": "ip-forwarding", "data": "2"}), _opt4({"name": "ip-forwarding", "data": "TRUE"}),
     _opt4({"name": "uuid-guid", "data": "1, zz"}), _opt4({"name": "client-ndi", "data": "1, 2"}),
     _opt4({"name": "domain-search", "data": "exa..mple.org"}), _opt4({"name": "domain-search", "data": ".example.org"}),
     _opt4({"name": "slp-directory-agent", "data": "true, 192.0.2.1, maybe, 1.2.3.4"}),
     _opt4({"name": "routers", "csv-format": False, "data": "C00002"}),
     _opt4({"code": 222, "csv-format": False, "data": "01 02 zz"}), _opt4({"code": 222, "csv-format": False, "data": "''"}),
     _opt6({"name": "dns-servers", "data": "192.0.2.1"}), _opt6({"name": "unicast", "data": "192.0.2.1"}),
     _opt6({"name": "domain-search", "data": "a" * 70 + ".org"}), _opt6({"name": "rapid-commit", "data": "x"}),
     _opt6({"name": "s46-portparams", "space": "s46-rule-options", "data": "1, 5"}),
     _opt6({"name": "bootfile-param", "data": "a, b"}))
case("config-test/option-data-in-every-scope-and-with-own-definitions",
     _ct4({"subnet4": [{**_S4, "option-data": [{"code": 222, "data": "01"}]}]}),
     _ct4({"subnet4": [{**_S4, "option-data": [{"name": "routers", "data": "x"}]}]}),
     _ct4({"subnet4": [{**_S4, "option-data": ["x"]}]}),
     _ct4({"subnet4": [{**_S4, "pools": [{"pool": "192.0.2.10 - 192.0.2.20", "option-data": [{"name": "routers", "data": "x"}]}]}]}),
     _ct4({"subnet4": [{**_S4, "pools": [{"pool": "192.0.2.10 - 192.0.2.20", "option-data": [{"name": "routers", "bogus": 1}]}]}]}),
     _ct4({"shared-networks": [{"name": "n", "option-data": [{"name": "routers", "data": "x"}], "subnet4": [_S4]}]}),
     _ct4({"shared-networks": [{"name": "n", "option-data": ["x"], "subnet4": [_S4]}]}),
     _res4({"hw-address": HW, "option-data": [{"name": "routers", "data": "x"}]}),
     _ct6({"subnet6": [{**_S6, "pd-pools": [{"prefix": "2001:db8:2::", "prefix-len": 48, "delegated-len": 64,
                                             "option-data": [{"name": "dns-servers", "data": "x"}]}]}]}),
     _opt4({"name": "my-opt", "data": "5"}, **_MY_DEFS), _opt4({"name": "my-opt", "data": "500"}, **_MY_DEFS),
     _opt4({"name": "my-rec", "data": "1, x"}, **_MY_DEFS), _opt4({"name": "ports", "code": 224, "data": "1, 70000"}, **_MY_DEFS))
def _hex4(name: str, data: str, **section: Any) -> dict[str, Any]:
    return _opt4({"name": name, "csv-format": False, "data": data}, **section)


def _hex6(name: str, data: str) -> dict[str, Any]:
    return _opt6({"name": name, "csv-format": False, "data": data})


_DNS = "076578616d706c6503636f6d00"  # example.com. in DNS wire format
_MY_HEX_DEFS = {"option-def": [{"name": "my-rec", "code": 222, "type": "record", "record-types": "uint8, fqdn"},
                               {"name": "my-pfx", "code": 223, "type": "ipv6-prefix"},
                               {"name": "my-tup", "code": 224, "type": "tuple", "array": True},
                               {"name": "my-names", "code": 225, "type": "fqdn", "array": True}]}
case("config-test/option-data-in-hex-as-kea-builds-it",
     _hex4("subnet-mask", ""), _hex4("subnet-mask", "FFFFFF"), _hex4("subnet-mask", "FFFFFF00"),
     _hex4("time-offset", "0000"), _hex4("default-ip-ttl", ""), _hex4("path-mtu-plateau-table", ""),
     _hex4("path-mtu-plateau-table", "004400"), _hex4("routers", "C000020"), _hex4("host-name", ""),
     _hex4("host-name", "0000"), _hex4("host-name", "6800"), _hex4("domain-search", ""), _hex4("domain-search", _DNS),
     _hex4("domain-search", "03616263c000"), _hex4("domain-search", _DNS + "0161c000"), _hex4("domain-search", "ff"),
     _hex4("domain-search", "c00c"), _hex4("slp-service-scope", ""), _hex4("slp-service-scope", "02"),
     _hex4("slp-service-scope", "0161"), _hex4("client-ndi", "01"), _hex4("uuid-guid", "00"),
     _hex4("my-rec", "01", **_MY_HEX_DEFS), _hex4("my-rec", "01" + _DNS, **_MY_HEX_DEFS),
     _hex4("my-rec", "010362", **_MY_HEX_DEFS), _hex4("my-rec", "0140", **_MY_HEX_DEFS),
     _hex4("my-pfx", "", **_MY_HEX_DEFS), _hex4("my-pfx", "40", **_MY_HEX_DEFS), _hex4("my-pfx", "0820", **_MY_HEX_DEFS),
     _hex4("my-tup", "00", **_MY_HEX_DEFS), _hex4("my-tup", "0261", **_MY_HEX_DEFS), _hex4("my-tup", "0161", **_MY_HEX_DEFS),
     _hex4("my-names", "", **_MY_HEX_DEFS), _hex4("my-names", "0003616263", **_MY_HEX_DEFS),
     _hex6("ia-na", "00" * 11), _hex6("ia-na", "00" * 12), _hex6("iaaddr", "00" * 23), _hex6("iaprefix", "00" * 24),
     _hex6("status-code", "00"), _hex6("status-code", "0000"), _hex6("pd-exclude", "00"), _hex6("pd-exclude", "0040"),
     _hex6("pd-exclude", "4000"), _hex6("bootfile-param", "0001"), _hex6("bootfile-param", "000161"),
     _hex6("dns-servers", "00" * 17), _hex6("domain-search", _DNS), _hex6("domain-search", "c00c"),
     _hex6("preference", ""), _hex6("unicast", "00" * 15), _hex6("new-posix-timezone", ""),
     _hex4("fqdn", "0000"), _hex4("fqdn", "090000"), _hex4("fqdn", "040000036162"), _hex4("fqdn", "040000c000"),
     _hex4("fqdn", "000000612e2e62"), _hex4("vivco-suboptions", "0000118b"), _hex4("vivco-suboptions", "0000118b0161"),
     _hex4("vivco-suboptions", "0000118b016100"), _hex4("vivso-suboptions", "0000118b"),
     _hex4("vivso-suboptions", "0000118b050203c00002"), _hex4("vivso-suboptions", "0000118b0602040a000001"),
     _hex4("vivso-suboptions", "0000118b0301"), _hex4("domain-search", "00015c00"),
     _hex6("client-fqdn", ""), _hex6("client-fqdn", "05"), _hex6("client-fqdn", "000161"), _hex6("client-fqdn", "00c000"),
     _hex6("vendor-class", "0000118b00"), _hex6("vendor-class", "0000118b00020061"),
     _hex6("vendor-opts", "0000118b000100"), _hex6("vendor-opts", "0000118b0020000300000a"),
     _hex6("vendor-opts", "0000118b000100020001"),
     _hex6("ia-na", "00" * 12 + "0005000100"), _hex6("ia-na", "00" * 12 + "000500"), _hex6("ia-pd", "00" * 12 + "001a0000"),
     _hex6("s46-cont-mape", "0059000100"), _hex6("s46-cont-mape", "005a000400000000"), _hex6("s46-cont-mape", "005900"),
     _hex4("dhcp-agent-options", "0500"), _hex4("vendor-encapsulated-options", "0105c0a80001"),
     # CSV data of the options Kea builds with classes of their own: their bytes are read back the same way
     _opt4({"name": "fqdn", "data": "9, 0, 0, example.com"}), _opt4({"name": "fqdn", "data": "5, 0, 0, a.b"}),
     _opt4({"name": "vivco-suboptions", "data": "4491, 010203"}), _opt4({"name": "vivco-suboptions", "data": "4491, 0102"}),
     _opt6({"name": "vendor-class", "data": "4491, 0102"}), _opt6({"name": "vendor-class", "data": "4491, 000161"}),
     _opt6({"name": "client-fqdn", "data": "5, example.com"}), _opt6({"name": "pd-exclude", "data": "::/0"}),
     _opt6({"name": "pd-exclude", "data": "2001:db8::/64"}))
# option definitions as Kea's option definition parser and its table read them
def _def4(*definitions: Any) -> dict[str, Any]:
    return _ct4({**_SUB4, "option-def": list(definitions)})


def _my(**more: Any) -> dict[str, Any]:
    return {"name": "my-opt", "code": 222, "type": "uint8", **more}


case("config-test/option-definitions-as-kea-reads-them",
     _def4(_my()), _def4({"code": 222, "type": "uint8"}), _def4({"name": "x", "code": 222}), _def4(_my(foo=1)),
     _def4("x"), _def4(_my(code=-1)), _def4(_my(code=256)), _def4(_my(code=255)), _def4(_my(space="-x")),
     _def4(_my(name="my opt")), _def4(_my(name="")), _def4(_my(type="int64")), _def4(_my(type="record")),
     _def4(_my(type="record", **{"record-types": "uint8, foo"})), _def4(_my(type="record", **{"record-types": "string, uint8"})),
     _def4(_my(type="record", array=True, **{"record-types": "uint8, binary"})), _def4(_my(**{"record-types": "uint8, uint16"})),
     _def4(_my(type="string", array=True)), _def4(_my(type="empty", array=True)), _def4(_my(array=True, encapsulate="foo")),
     _def4(_my(space="sp", encapsulate="sp")), _def4(_my(encapsulate="-bad")), _def4(_my(), _my(name="other")),
     _def4(_my(), _my(code=223)), _def4(_my(code=3)), _def4(_my(name="routers")), _def4(_my(name="routers", space="mine")),
     _ct6({**_SUB6, "option-def": [{"name": "x6", "code": 70000, "type": "ipv6-address"}]}),
     _ct6({**_SUB6, "option-def": [{"name": "x6", "code": 23, "type": "ipv6-address"}]}))
# v6 only: the MAC sources, the server's own DUID and the options a relay may supply
def _g6(**section: Any) -> dict[str, Any]:
    return _ct6({**_SUB6, **section})


case("config-test/mac-sources-server-id-and-relay-supplied-options",
     _g6(**{"mac-sources": ["duid", "raw"]}), _g6(**{"mac-sources": ["duid", "foo"]}),
     _g6(**{"mac-sources": ["rfc6939", "client-link-addr-option"]}), _g6(**{"mac-sources": []}),
     _g6(**{"mac-sources": [5]}), _g6(**{"server-id": {"type": "EN", "enterprise-id": 2495, "identifier": "0102"}}),
     _g6(**{"server-id": {}}), _g6(**{"server-id": {"type": "XX"}}), _g6(**{"server-id": {"type": 1}}),
     _g6(**{"server-id": {"type": "LL", "identifier": "abc"}}), _g6(**{"server-id": {"type": "LL", "htype": 70000}}),
     _g6(**{"server-id": {"type": "LLT", "time": "1"}}), _g6(**{"server-id": {"type": "LLT", "persist": "yes"}}),
     _g6(**{"relay-supplied-options": ["65", "dns-servers", "+7"]}), _g6(**{"relay-supplied-options": ["-1"]}),
     _g6(**{"relay-supplied-options": ["70000"]}), _g6(**{"relay-supplied-options": ["0"]}),
     _g6(**{"relay-supplied-options": ["foo"]}), _g6(**{"relay-supplied-options": [5]}))
# client classes as Kea's class parser reads them
def _cls4(*classes: Any, **section: Any) -> dict[str, Any]:
    return _ct4({**_SUB4, "client-classes": list(classes), **section})


_MY224 = {"name": "my", "code": 224, "type": "uint8"}
case("config-test/client-classes-as-kea-reads-them",
     _cls4({"name": "pxe", "test": "option[93].hex == 0x0007", "boot-file-name": "ipxe.efi", "next-server": "192.0.2.5"}),
     _cls4("x"), _cls4({"test": "member('ALL')"}), _cls4({"name": 5}), _cls4({"name": ""}), _cls4({"name": "a", "test": 5}),
     _cls4({"name": "a"}, {"name": "a"}), _cls4({"name": "KNOWN", "test": "member('ALL')"}),
     _cls4({"name": "ALL", "only-if-required": True}), _cls4({"name": "DROP", "only-if-required": True}),
     _cls4({"name": "a", "user-context": []}), _cls4({"name": "a", "next-server": "x"}),
     _cls4({"name": "a", "next-server": "2001:db8::1"}), _cls4({"name": "a", "next-server": "255.255.255.255"}),
     _cls4({"name": "a", "server-hostname": "s" * 64}), _cls4({"name": "a", "boot-file-name": "f" * 129}),
     _cls4({"name": "a", "min-valid-lifetime": 5, "max-valid-lifetime": 10}),
     _cls4({"name": "a", "min-valid-lifetime": 50, "valid-lifetime": 20}),
     _cls4({"name": "a", "min-valid-lifetime": 5, "max-valid-lifetime": 10, "valid-lifetime": 20}),
     _cls4({"name": "a", "option-data": [{"name": "routers", "data": "x"}]}),
     _cls4({"name": "a", "option-data": [{"code": 222, "data": "01"}]}),
     _cls4({"name": "a", "option-def": [_MY224], "option-data": [{"name": "my", "data": "500"}]}),
     _cls4({"name": "a", "option-def": [{**_MY224, "code": 200}]}),
     _cls4({"name": "a", "option-def": [_MY224, {**_MY224, "name": "my2"}]}),
     _cls4({"name": "a", "option-data": [{"name": "g", "data": "500"}]}, **{"option-def": [{"name": "g", "code": 222, "type": "uint8"}]}),
     _ct6({**_SUB6, "client-classes": [{"name": "a", "preferred-lifetime": 10, "min-preferred-lifetime": 50}]}),
     _ct6({**_SUB6, "client-classes": [{"name": "a", "option-def": [{"name": "my", "code": 1000, "type": "uint8"}]}]}))
case("config-test/client-class-tests-name-classes-defined-before-them",
     _cls4({"name": "a", "test": "member('foo')"}), _cls4({"name": "a", "test": "member('b')"}, {"name": "b"}),
     _cls4({"name": "b"}, {"name": "a", "test": "member('b')"}), _cls4({"name": "a", "test": "member('KNOWN')"}),
     _cls4({"name": "a", "test": "member('VENDOR_CLASS_foo')"}), _cls4({"name": "a", "test": "not  member( 'foo' )"}),
     _cls4({"name": "a", "test": "member('DROP')"}), _cls4({"name": "b"}, {"name": "a", "test": "member('b') or member('zz')"}))
def _test4(*tests: str, **section: Any) -> list[dict[str, Any]]:
    return [_cls4({"name": "b"}, {"name": "a", "test": test}, **section) for test in tests]


def _test6(*tests: str) -> list[dict[str, Any]]:
    return [_ct6({**_SUB6, "client-classes": [{"name": "b"}, {"name": "a", "test": test}]}) for test in tests]


case("config-test/client-class-test-expressions-as-kea-parses-them",
     *_test4("option[60].text == 'PXE' and not member('b')", "pkt4.mac == 0x010203 or pkt4.hlen == 6",
             "substring(option[61].hex, 0, all) == 'x' and split('a.b', '.', 1) == 'a'",
             "ifelse(member('b'), 'x', 'y') + concat('a', 'b') == hexstring(pkt4.mac, ':')",
             "addrtotext(pkt4.giaddr) == '0.0.0.0' and uint8totext(0x01) == int32totext(pkt4.htype)",
             "vendor[4491].option[1].exists or vendor-class[*].exists or vendor.enterprise == 0x0",
             "vendor-class[4491].data[1] == 'x' and relay4[82].hex == 'y' and pkt.iface == 'eth0'",
             "option[vendor-class-identifier ].exists and option[host-name\n].text == 'h'",
             "10.0.0.1 == pkt4.giaddr and ::1 == 'a' and ('a') == 'a' and 1 == 'b'",
             "", " ", "option[60].text = 'foo'", "option[60].text == foo", "option[60].text == \"foo\"",
             "'abc", "true", "lcase('A') == 'a'", "'a'", "not 'a'", "member('b') and", "(member('b')",
             "member('b'))", "'a' == 'a' == 'a'", "== 'a'", "'a' + == 'a'", "('a' + 'b'", "('a' == 'b') + 'c'",
             "substring(option[60].hex,0) == 'x'", "split('a', 'b') == 'a'", "ifelse('a', 'x', 'y') == 'x'",
             "ifelse(member('b'), 'x') == 'x'", "member('b', 'c')", "member(", "option[60].", "option[60]",
             "option[60", "pkt", "pkt4.", "pkt4.foo == 'a'", "option[60].text == 'a' ,",
             "option[60].text == 'a' ]", "member('b') &&  member('b')", "option[no-such-option].exists",
             "option[text].exists", "option[dhcp6-only].exists", "option[300].exists", "option[-1].exists",
             "option[4294967296].exists", "option[60].option[300].exists", "relay4[256].exists",
             "vendor[4294967296].exists", "vendor[-1].exists", "vendor-class[4491].data[256] == 'x'",
             "4294967296 == 'a'", "-1 == 'a'", "99999999999999999999 == 'a'", "1.2.3.999 == 'a'",
             "01.2.3.4 == 'a'", "1::2::3 == 'a'", "0x == 'a'", "relay6[0].option[1].exists",
             "relay6[200].option[1].exists", "pkt6.msgtype == 'x'", "member('a')", "member('DROP')",
             "member('b')\n and member('c')", "member('b') and\n\n  'x' == x", "'\u00e9' == x", "\u00e9"),
     *_test4("option[my-opt].exists and option[my-opt].text == 'x'",
             **{"option-def": [{"name": "my-opt", "code": 222, "type": "string"}]}),
     *_test6("option[23].exists and relay6[0].option[1].hex == 'x' and pkt6.msgtype == 0x01",
             "relay6[-32].peeraddr == ::1 and relay6[31].linkaddr == ::", "option[dns-servers].exists",
             "option[65535].exists", "option[65536].exists", "relay6[32].option[1].exists",
             "relay6[-33].option[1].exists", "relay4[1].exists", "pkt4.mac == 'x'", "relay6[0].option[70000].exists",
             "option[routers].exists"))
case("config-test/positions-deep-in-a-configuration",
     _ct4({**_BEFORE_CONFIG, "shared-networks": [{"name": "a"}, {"name": "b", "subnet4": [
         {"id": 1, "subnet": _NET4, "pools": [{"pool": "10.0.0.1 - 10.0.0.2"}, 3]}]}]}),
     _ct4({**_BEFORE_CONFIG, "shared-networks": [{"name": "a"}, {"name": "b", "subnet4": [
         {"id": 1, "subnet": _NET4, "pools": [{"pool": "nonsense"}]}]}]}),
     _ct4({**_BEFORE_CONFIG, "subnet4": [{"id": 1, "subnet": _NET4, "reservations": [
         {"hw-address": "01:02:03:04:05:06"}, {"zz": 1, "hw-address": "01:02"}]}]}),
     _ct4({**_BEFORE_CONFIG, "hooks-libraries": [{"library": "libdhcp_lease_cmds.so"}, {"library": "x.so", "zz": 1}]}),
     _ct4({**_BEFORE_CONFIG, "lease-database": {"name": "x", "type": "bogus"}}),
     _ct6({"option-data": [], "subnet6": [{"id": 1, "subnet": "2001:db8:1::/64", "pd-pools": [
         {"prefix": "3000:7::", "prefix-len": 48, "delegated-len": 64}, {"prefix": "3000:8::", "prefix-len": 48}]}]}))

case("config-test/dhcp4-section-missing-or-not-a-map", c4("config-test", {}), c4("config-test", {"dhcp4": {}}),
     _ct4("x"), _ct4([]), _ct4(None), c6("config-test", {"Dhcp6": 5}))
case("config-test/dhcp4-beside-other-sections", _ct4({}, foo=1), _ct4({}, b=1, a=2, Dhcp6={}))
case("config-test/duplicate-subnet-ids", _ct4({"subnet4": [{"id": 1, "subnet": _NET4}, {"id": 1, "subnet": "10.0.1.0/24"}]}),
     _ct4({"subnet4": [{"subnet": _NET4}, {"id": 1, "subnet": "10.0.1.0/24"}]}),
     _ct4({"subnet4": [{"id": 5, "subnet": _NET4}, {"subnet": "10.0.1.0/24"}, {"id": 2, "subnet": "10.0.2.0/24"}]}),
     _ct4({"subnet4": [{"id": 1, "subnet": _NET4}],
           "shared-networks": [{"name": "n", "subnet4": [{"id": 1, "subnet": "10.0.1.0/24"}]}]}),
     _ct6({"subnet6": [{"id": 1, "subnet": "2001:db8:1::/64"}, {"id": 1, "subnet": "2001:db8:2::/64"}]}))
_LEASE_CMDS = "/usr/lib/x86_64-linux-gnu/kea/hooks/libdhcp_lease_cmds.so"
_HOST = {"hw-address": "aa:bb:cc:dd:ee:ff", "ip-address": "10.0.0.5"}
case("config-test/automatic-ids-and-conflicts-in-a-shared-network",
     _ct4({"subnet4": [{"id": 2, "subnet": _NET4}, {"subnet": "10.0.1.0/24"}, {"subnet": "10.0.2.0/24"}]}),
     _ct4({"shared-networks": [{"name": "n", "subnet4": [{"id": 5, "subnet": "10.0.1.0/24"},
                                                         {"id": 5, "subnet": "10.0.2.0/24"}]}]}),
     _ct4({"shared-networks": [{"name": "n", "subnet4": [{"id": 5, "subnet": "10.0.1.0/24"},
                                                         {"id": 6, "subnet": "10.0.1.0/24"}]}]}),
     _ct4({"subnet4": [{"id": 1, "subnet": _NET4}], "shared-networks": [{"name": "n", "subnet4": [{"subnet": "10.0.1.0/24"}]}]}))
# a `comment` is Kea's file syntax: over the control channel some parsers refuse it, others let it through
case("config-test/comments-over-the-control-channel",
     _ct4({"subnet4": [{"id": 1, "subnet": _NET4, "reservations": [{**_HOST, "comment": "c"}]}]}),
     _ct4({"subnet4": [{"id": 1, "subnet": _NET4}], "reservations": [{**_HOST, "comment": "c"}]}),
     _ct4({"subnet4": [{"id": 1, "subnet": _NET4, "reservations": [{**_HOST, "foo": 1}]}]}),
     _ct4({"subnet4": [{"id": 1, "subnet": _NET4, "pools": [{"pool": "10.9.0.1-10.9.0.2"}],
                        "reservations": [{**_HOST, "comment": "c"}]}]}),
     _ct4({"subnet4": [{"id": 1, "subnet": _NET4, "reservations": [{**_HOST, "comment": "c"}]}], "comment": "c"}),
     _ct4({"interfaces-config": {"interfaces": [], "comment": "c"},
           "hooks-libraries": [{"library": _LEASE_CMDS, "comment": "c"}]}),
     _ct4({"interfaces-config": {"interfaces": [], "foo": 1}}),
     _ct4({"interfaces-config": {"interfaces": [], "user-context": {}}}),
     _ct4({"hooks-libraries": [{"library": _LEASE_CMDS, "user-context": {}}]}),
     _ct4({"subnet4": [{"id": 1, "subnet": _NET4, "comment": "c", "pools": [{"pool": "10.0.0.9-10.0.0.20", "comment": "c"}],
                        "relay": {"ip-addresses": ["10.1.1.1"], "comment": "c"}}],
           "option-data": [{"name": "routers", "data": "10.0.0.1", "comment": "c"}],
           "client-classes": [{"name": "k", "comment": "c"}], "control-socket": {"socket-type": "unix",
           "socket-name": "/tmp/never.sock", "comment": "c"}, "dhcp-ddns": {"enable-updates": False, "comment": "c"}}),
     _ct6({"subnet6": [{"id": 1, "subnet": "2001:db8:1::/64",
                        "reservations": [{"duid": "01:02", "ip-addresses": ["2001:db8:1::5"], "comment": "c"}]}]}),
     _ct6({"interfaces-config": {"interfaces": [], "dhcp-socket-type": "raw"}}))
case("config-test/duplicate-subnet-prefixes", _ct4({"subnet4": [{"id": 1, "subnet": _NET4}, {"id": 2, "subnet": _NET4}]}),
     _ct4({"subnet4": [{"id": 1, "subnet": _NET4}, {"id": 2, "subnet": "10.0.0.1/24"}]}),
     _ct6({"subnet6": [{"id": 1, "subnet": "2001:db8:1::/64"}, {"id": 2, "subnet": "2001:db8:1::/64"}]}))
case("config-test/pool-outside-its-subnet",
     _ct4({"subnet4": [{"id": 1, "subnet": _NET4, "pools": [{"pool": "10.0.1.1 - 10.0.1.5"}]}]}),
     _ct4({"subnet4": [{"id": 1, "subnet": _NET4, "pools": [{"pool": "10.0.0.200-10.0.1.5"}]}]}),
     _ct4({"subnet4": [{"id": 1, "subnet": _NET4, "pools": [{"pool": "10.0.1.0/25"}]}]}),
     _ct6({"subnet6": [{"id": 1, "subnet": "2001:db8:1::/64", "pools": [{"pool": "2001:db8:2::/80"}]}]}))
case("config-test/overlapping-pools",
     _ct4({"subnet4": [{"id": 1, "subnet": _NET4, "pools": [{"pool": "10.0.0.0/25"}, {"pool": "10.0.0.100-10.0.0.200"}]}]}),
     _ct6({"subnet6": [{"id": 1, "subnet": "2001:db8:1::/64", "pd-pools": [
         {"prefix": "3000::", "prefix-len": 48, "delegated-len": 64},
         {"prefix": "3000::", "prefix-len": 56, "delegated-len": 64}]}]}))
case("config-test/bad-pools",
     *(_ct4({"subnet4": [{"id": 1, "subnet": _NET4, "pools": [pool]}]}) for pool in (
         {"pool": "x"}, {"pool": "10.0.0.9 - 10.0.0.1"}, {"pool": "10.0.0.1-10.0.0.x"}, {"pool": "10.0.0.0/40"},
         {"pool": "2001:db8::1-2001:db8::5"}, {}, {"pool": 5}, {"pool": "10.0.0.1-10.0.0.5", "foo": 1}, "x")))
case("config-test/bad-pd-pools",
     *(_ct6({"subnet6": [{"id": 1, "subnet": "2001:db8:1::/64", "pd-pools": [pool]}]}) for pool in (
         {"prefix": "3000::", "prefix-len": 64, "delegated-len": 48}, {"prefix-len": 48, "delegated-len": 64},
         {"prefix": "3000::", "delegated-len": 64}, {"prefix": "x", "prefix-len": 48, "delegated-len": 64},
         {"prefix": "10.0.0.0", "prefix-len": 8, "delegated-len": 16},
         {"prefix": "3000::", "prefix-len": 0, "delegated-len": 64},
         {"prefix": "3000::", "prefix-len": "48", "delegated-len": 64})))
case("config-test/bad-subnet-prefixes",
     *(_ct4({"subnet4": [sub]}) for sub in (
         {"id": 1, "subnet": "bogus"}, {"id": 1, "subnet": "10.0.0.0/33"}, {"id": 1, "subnet": "10.0.0.0/x"},
         {"id": 1, "subnet": "999.0.0.0/8"}, {"id": 1, "subnet": "2001:db8::/64"}, {"id": 1},
         {"id": -1, "subnet": "bogus"}, {"id": -1, "subnet": "2001:db8::/64"})),
     _ct6({"subnet6": [{"id": 1, "subnet": "10.0.0.0/8"}]}), _ct6({"subnet6": [{"id": 1, "subnet": "2001:db8::/129"}]}))
case("config-test/wrong-types-in-subnets",
     *(_ct4({"subnet4": [{"id": 1, "subnet": _NET4, **extra}]}) for extra in (
         {"id": "1"}, {"valid-lifetime": "x"}, {"valid-lifetime": 1.0}, {"t1-percent": 1}, {"pools": "x"},
         {"authoritative": "yes"}, {"valid-lifetime": "x", "foo": 1}, {"foo": 1}, {"comment": 5})),
     _ct4({"renew-timer": "x", "subnet4": [{"subnet": _NET4}]}),
     _ct4({"renew-timer": "x", "subnet4": [{"subnet": _NET4, "renew-timer": 5}]}),
     _ct6({"subnet6": [{"subnet": "2001:db8::/64", "preferred-lifetime": "x"}]}),
     _ct6({"subnet6": [{"subnet": "2001:db8::/64", "authoritative": True}]}),
     _ct6({"subnet6": [{"subnet": "2001:db8::/64", "interface": "eth0", "interface-id": "x"}]}))
case("config-test/wrong-types-of-global-keys",
     *(_ct4({key: value}) for key, value in (
         ("subnet4", "x"), ("valid-lifetime", "x"), ("valid-lifetime", 1.5), ("renew-timer", "x"),
         ("interfaces-config", "x"), ("option-data", {}), ("control-socket", "x"), ("dhcp-ddns", "x"),
         ("dhcp-ddns", {"enable-updates": "yes"}), ("server-tag", 5), ("decline-probation-period", "x"),
         ("reservations-lookup-first", "x"), ("lease-database", "x"), ("hooks-libraries", {}))),
     _ct6({"preferred-lifetime": "x"}), _ct6({"subnet6": "x"}))
case("config-test/unknown-global-keys",
     _ct4({"foo-bar": 1}), _ct4({"valid-lifetime": 10, "foo-bar": 1}), _ct4({"comment": "x"}),
     _ct4({"preferred-lifetime": 3000}), _ct4({"subnet6": []}), _ct6({"authoritative": True}), _ct6({"foo": 1}),
     _ct4({"aaa": 1, "subnet4": [{"id": 1, "subnet": _NET4}, {"id": 1, "subnet": "10.0.1.0/24"}]}),
     _ct4({"zzz": 1, "valid-lifetime": "x"}), _ct4({"aaa": 1, "server-tag": 5}))
case("config-test/hook-libraries",
     _ct4({"hooks-libraries": [{"library": "/nonexistent/libdhcp_foo.so"}]}),
     _ct4({"hooks-libraries": [{"library": "/nope.so"}, {"library": "/nope2.so"}]}),
     _ct4({"hooks-libraries": [{"library": "/bin/sh"}]}),
     _ct4({"hooks-libraries": [{"library": "libdhcp_lease_cmds.so"}]}),
     _ct4({"hooks-libraries": [{"parameters": {}}]}), _ct4({"hooks-libraries": [{"library": 5}]}),
     _ct4({"hooks-libraries": [{"library": " "}]}), _ct4({"hooks-libraries": [{"library": "/nope.so", "foo": 1}]}),
     _ct4({"foo": 1, "subnet4": [{"id": 1, "subnet": _NET4}, {"id": 1, "subnet": _NET4}],
           "hooks-libraries": [{"library": "/nope.so"}]}),
     _ct6({"hooks-libraries": [{"library": "/nope.so"}]}))
case("config-test/shared-networks",
     _ct4({"shared-networks": [{"subnet4": []}]}), _ct4({"shared-networks": [{"name": "a"}, {"name": "a"}]}),
     _ct4({"shared-networks": [{"name": "a", "foo": 1}]}), _ct4({"shared-networks": [{"name": 5}]}),
     _ct4({"shared-networks": [{"name": ""}]}), _ct4({"shared-networks": ["x"]}),
     _ct4({"shared-networks": [{"name": "a", "subnet4": "x"}]}),
     _ct4({"valid-lifetime": "x", "shared-networks": [{"name": "a"}]}),
     _ct4({"subnet4": [{"id": 1, "subnet": _NET4}], "shared-networks": [{"name": "a", "subnet4": [{"id": 2, "subnet": _NET4}]}]}))
case("config-test/lease-database",
     _ct4({"lease-database": {"type": "bogus"}}), _ct4({"lease-database": {"name": "x"}}),
     _ct4({"lease-database": {"type": 5}}), _ct4({"lease-database": {"type": "mysql", "name": 5}}),
     _ct4({"lease-database": {"type": "memfile", "foo": 1}}),
     _ct4({"lease-database": {"type": "bogus"}, "subnet4": [{"id": 1, "subnet": _NET4}, {"id": 1, "subnet": _NET4}]}),
     _ct4({"lease-database": {"type": "memfile"}, "subnet4": [{"id": 1, "subnet": _NET4}, {"id": 1, "subnet": _NET4}]}))
case("config-test/lifetime-bounds",
     *(_ct4(dhcp4) for dhcp4 in (
         {"valid-lifetime": 100, "max-valid-lifetime": 50}, {"valid-lifetime": 10, "min-valid-lifetime": 50},
         {"valid-lifetime": 10, "min-valid-lifetime": 50, "max-valid-lifetime": 100},
         {"valid-lifetime": 150, "min-valid-lifetime": 200, "max-valid-lifetime": 100},
         {"valid-lifetime": 50, "max-valid-lifetime": 50},
         {"max-valid-lifetime": 50, "subnet4": [{"subnet": _NET4, "valid-lifetime": 100}]},
         {"subnet4": [{"subnet": _NET4, "valid-lifetime": 10, "min-valid-lifetime": 50}]},
         {"shared-networks": [{"name": "a", "valid-lifetime": 100, "max-valid-lifetime": 50}]},
         {"valid-lifetime": 100, "max-valid-lifetime": 50, "zzz": 1})),
     _ct6({"preferred-lifetime": 100, "max-preferred-lifetime": 50, "valid-lifetime": 100, "max-valid-lifetime": 50}))
case("config-test/sane-configurations",
     _ct4({"subnet4": [{"id": 1, "subnet": "192.0.2.0/24", "pools": [{"pool": "192.0.2.10 - 192.0.2.200"}]}],
           "valid-lifetime": 4000, "renew-timer": 1000, "authoritative": True,
           "interfaces-config": {"interfaces": []}, "user-context": {"a": 1}}),
     _ct4({"subnet4": [{"subnet": "10.0.0.1/24"}, {"subnet": "10.0.0.0/8"}, {"subnet": "0.0.0.0/0", "id": 0}]}),
     _ct6({"subnet6": [{"id": 1, "subnet": "2001:db8:1::/64", "pools": [{"pool": "2001:db8:1::/80"}],
                        "pd-pools": [{"prefix": "3000::1", "prefix-len": 48, "delegated-len": 64}]}],
           "preferred-lifetime": 5000, "valid-lifetime": 4000}))
case("config-write/arguments-not-a-map", c4("config-write", None), c4("config-write", [1]))
case("config-write/filename-not-a-string", c4("config-write", {"filename": None}), c4("config-write", {"filename": 5}))
case("config-reload/dhcp4", c4("config-reload"))
# a family's config-get: its running configuration, Kea's defaults filled in (the keys that set up
# each side's own daemon are masked by normalise, see OWN_SETUP_KEYS)
case("config-get/dhcp4", c4("config-get"))
case("config-get/dhcp6", c6("config-get"))
case("config-get/dhcp4-and-dhcp6", cmd("config-get", service=["dhcp4", "dhcp6"]))
case("config-get/dhcp4-inheritance-options-pools", c4("config-get"), topology="config")
case("config-get/dhcp6-inheritance-options-pools", c6("config-get"), topology="config")
case("statistic-sample-count-set-all/max-samples-of-2-to-the-40",
     c4("statistic-sample-count-set-all", {"max-samples": 1099511627776}))
# Statistics' samples: Kea keeps one per change of a value. A case starts by trimming every
# statistic to its newest sample (the server's history before the case is not the case's).
def stats_pin(service: str) -> list[dict[str, Any]]:
    return [cmd("statistic-sample-count-set-all", {"max-samples": n}, [service]) for n in (1, 20)]


def stats_get(service: str, *names: str) -> list[dict[str, Any]]:
    """statistic-get of each name (statistic-get-all would list Kea's packet counters too)."""
    return [cmd("statistic-get", {"name": name}, [service]) for name in names]


ALL4 = ("declined-addresses", "subnet[1].assigned-addresses", "subnet[1].declined-addresses",
        "subnet[1].total-addresses", "subnet[2].assigned-addresses", "subnet[2].declined-addresses")
ALL6 = ("declined-addresses", "subnet[1].assigned-nas", "subnet[1].assigned-pds", "subnet[1].declined-addresses",
        "subnet[1].total-pds", "subnet[2].assigned-nas", "subnet[2].declined-addresses")
ASSIGNED4 = {"name": "subnet[1].assigned-addresses"}
DECLINED1 = {"name": "subnet[1].declined-addresses"}
DECLINED = {"name": "declined-addresses"}
L4_B = w(L4, ip_address="192.0.2.21")
case("statistics/lease4-add-takes-a-sample-per-lease", *stats_pin("dhcp4"), add4(), c4("lease4-add", L4_B),
     c4("statistic-get", ASSIGNED4))
case("statistics/lease4-update-of-declined-takes-two-samples", *stats_pin("dhcp4"), add4(),
     c4("lease4-update", w(L4, state=1)), c4("lease4-update", w(L4, state=1)), c4("lease4-update", w(L4, state=0)),
     c4("statistic-get", DECLINED), c4("statistic-get", DECLINED1), c4("statistic-get", ASSIGNED4))
case("statistics/lease4-update-to-and-from-expired-reclaimed", *stats_pin("dhcp4"), add4(),
     c4("lease4-update", w(L4, state=2)), c4("statistic-get", ASSIGNED4), c4("lease4-update", w(L4, state=0)),
     c4("lease4-del", {"ip-address": "192.0.2.20"}), c4("statistic-get", ASSIGNED4))
case("statistics/lease4-add-expired-reclaimed-and-declined", *stats_pin("dhcp4"), add4(state=2),
     c4("lease4-add", w(L4_B, state=1)), *stats_get("dhcp4", *ALL4))
case("statistics/lease4-update-force-create-then-plain-updates", *stats_pin("dhcp4"),
     c4("lease4-update", w(L4, force_create=True)), c4("lease4-update", w(L4, force_create=True)),
     c4("lease4-update", w(L4, hostname="h")), c4("statistic-get", ASSIGNED4))
case("statistics/refused-lease-changes-take-no-sample", *stats_pin("dhcp4"), c4("lease4-update", L4), add4(), add4(),
     c4("lease4-del", {"ip-address": "192.0.2.99"}), c4("lease4-update", w(L4, subnet_id=2)), *stats_get("dhcp4", *ALL4))
case("statistics/lease4-wipe-of-a-subnet-sets-zero", *stats_pin("dhcp4"), add4(state=1), c4("lease4-add", L4_B),
     c4("lease4-wipe", {"subnet-id": 1}), *stats_get("dhcp4", *ALL4), c4("lease4-wipe", {"subnet-id": 2}),
     c4("lease4-wipe"), *stats_get("dhcp4", *ALL4))
case("statistics/lease4-changes-after-statistic-reset", *stats_pin("dhcp4"), add4(), c4("statistic-reset", ASSIGNED4),
     c4("lease4-add", L4_B), c4("statistic-get", ASSIGNED4), c4("lease4-wipe"), c4("statistic-get", ASSIGNED4))
case("statistics/lease4-changes-after-statistic-remove", *stats_pin("dhcp4"), c4("statistic-remove", ASSIGNED4),
     add4(), c4("statistic-get", ASSIGNED4), c4("statistic-remove", ASSIGNED4),
     c4("lease4-del", {"ip-address": "192.0.2.20"}), c4("statistic-get", ASSIGNED4), c4("config-reload"),
     c4("statistic-get", ASSIGNED4))
case("statistics/lease4-add-after-statistic-remove-all", *stats_pin("dhcp4"), add4(), c4("statistic-remove-all"),
     *stats_get("dhcp4", *ALL4), c4("lease4-add", L4_B), *stats_get("dhcp4", *ALL4), c4("lease4-wipe"),
     *stats_get("dhcp4", *ALL4), c4("config-reload"), *stats_get("dhcp4", *ALL4))
case("statistics/statistic-reset-all-then-config-reload", *stats_pin("dhcp4"), add4(), c4("statistic-reset-all"),
     *stats_get("dhcp4", *ALL4), c4("lease4-del", {"ip-address": "192.0.2.20"}), c4("config-reload"),
     *stats_get("dhcp4", *ALL4))
case("statistics/sample-count-limit-with-lease-changes", *stats_pin("dhcp4"),
     c4("statistic-sample-count-set", {**ASSIGNED4, "max-samples": 2}), add4(), c4("lease4-add", L4_B),
     c4("statistic-get", ASSIGNED4), c4("statistic-sample-count-set", {**ASSIGNED4, "max-samples": 20}),
     c4("lease4-del", {"ip-address": "192.0.2.21"}), c4("statistic-get", ASSIGNED4))
L6_B = w(L6, ip_address="2001:db8:1::101", iaid=5)
case("statistics/lease6-add-na-pd-ta", *stats_pin("dhcp6"), add6(), c6("lease6-add", L6_PD), c6("lease6-add", L6_TA),
     *stats_get("dhcp6", *ALL6), c6("lease6-del", {"ip-address": "2001:db8:1::109", "type": "IA_TA"}),
     *stats_get("dhcp6", *ALL6))
case("statistics/lease6-update-declined-and-delete", *stats_pin("dhcp6"), add6(), c6("lease6-update", w(L6, state=1)),
     *stats_get("dhcp6", *ALL6), c6("lease6-update", w(L6, state=1)), c6("lease6-del", {"ip-address": "2001:db8:1::100"}),
     *stats_get("dhcp6", *ALL6))
case("statistics/lease6-pd-declined-and-reclaimed", *stats_pin("dhcp6"), c6("lease6-add", w(L6_PD, state=1)),
     c6("lease6-update", w(L6_PD, state=2)), c6("lease6-update", w(L6_PD, state=0)), *stats_get("dhcp6", *ALL6))
case("statistics/lease6-bulk-apply", *stats_pin("dhcp6"), add6(), c6("lease6-add", L6_PD),
     c6("lease6-bulk-apply", {"deleted-leases": [{"ip-address": "2001:db8:1::100"}, {"ip-address": "2001:db8:1::1ff"}],
                              "leases": [L6_B, w(L6_PD, state=1), w(L6, iaid=9)]}),
     *stats_get("dhcp6", *ALL6))
case("statistics/lease6-wipe-of-a-subnet-sets-zero", *stats_pin("dhcp6"), add6(state=1), c6("lease6-add", L6_PD),
     c6("lease6-wipe", {"subnet-id": 1}), *stats_get("dhcp6", *ALL6))


# Kea's stat_cmds: stat-lease4-get / stat-lease6-get (the "stats" topology loads the hook)
def stat_case(name: str, *steps: dict[str, Any]) -> None:
    case(f"stat-lease/{name}", *steps, topology="stats")


stat_case("v4-empty-and-counted", c4("stat-lease4-get"), add4(), c4("lease4-add", w(L4_B, state=1)),
          c4("lease4-add", w(L4, ip_address="192.0.2.22", state=2)),
          c4("lease4-add", w(L4, ip_address="198.51.100.9", state=1)),
          c4("lease4-add", w(L4, ip_address="192.0.2.23", valid_lft=10, expire=1000000)),
          c4("stat-lease4-get"), c4("stat-lease4-get", {}), c4("stat-lease4-get", {"subnet-id": 2}),
          c4("stat-lease4-get", {"subnet-range": {"first-subnet-id": 1, "last-subnet-id": 2}}))
stat_case("v6-addresses-prefixes-temporary", c6("stat-lease6-get"), add6(), c6("lease6-add", w(L6_B, state=1)),
          c6("lease6-add", L6_PD), c6("lease6-add", w(L6_PD, ip_address="3000:1:0:2::", state=2)), c6("lease6-add", L6_TA),
          c6("lease6-add", w(L6, ip_address="2001:db8:2::5")), c6("stat-lease6-get"),
          c6("stat-lease6-get", {"subnet-id": 1}), c6("stat-lease6-get", {"subnet-range": {"first-subnet-id": 2, "last-subnet-id": 7}}))
stat_case("totals-follow-statistic-remove-and-reset", c4("statistic-remove", {"name": "subnet[1].total-addresses"}),
          c4("stat-lease4-get"), c4("config-reload"), c4("stat-lease4-get"), c6("statistic-reset-all"), c6("stat-lease6-get"),
          c6("config-reload"))
stat_case("empty-selections", c4("stat-lease4-get", {"subnet-id": 3}), c6("stat-lease6-get", {"subnet-id": 9}),
          c4("stat-lease4-get", {"subnet-range": {"first-subnet-id": 3, "last-subnet-id": 9}}),
          c4("stat-lease4-get", {"subnet-range": {"first-subnet-id": 4, "last-subnet-id": 4}}),
          c4("stat-lease4-get", {"subnet-id": 4294967296}), c4("stat-lease4-get", {"subnet-id": 4294967298}),
          c4("stat-lease4-get", {"subnet-range": {"first-subnet-id": 4294967297, "last-subnet-id": 4294967298}}),
          c4("stat-lease4-get", {"subnet-range": {"first-subnet-id": 4294967296, "last-subnet-id": 2}}),
          c6("stat-lease6-get", {"subnet-range": {"first-subnet-id": 4294967296, "last-subnet-id": 1}}),
          c4("stat-lease6-get"), c6("stat-lease4-get", {"subnet-id": 1}))
stat_case("argument-errors", *[c4("stat-lease4-get", a) for a in (
    [], "x", 5, None, {"subnet-id": "1"}, {"subnet-id": 1.0}, {"subnet-id": True}, {"subnet-id": None}, {"subnet-id": 0},
    {"subnet-id": -1}, {"subnet-id": 1, "subnet-range": None}, {"subnet-range": []}, {"subnet-range": {"last-subnet-id": 3}},
    {"subnet-range": {"first-subnet-id": 1.0, "last-subnet-id": 3}}, {"subnet-range": {"first-subnet-id": 1}},
    {"subnet-range": {"first-subnet-id": 0, "last-subnet-id": 3}}, {"subnet-range": {"first-subnet-id": 1, "last-subnet-id": 0}},
    {"subnet-range": {"first-subnet-id": 3, "last-subnet-id": 1}}, {"subnet-range": {"first-subnet-id": 1, "last-subnet-id": 1}},
    {"foo": 1})])
stat_case("routing", cmd("stat-lease4-get"), cmd("stat-lease6-get", {}, ["dhcp4", "dhcp6"]))

# config-set: only refusals are compared (the two sides' lease-database and control-socket differ,
# so a whole configuration cannot be the same for both); a reload restores each side's file
case("config-set/refusals", *[c4("config-set", a) for a in (
    _OMIT, None, [], "x", {}, {"Dhcp6": {}}, {"Dhcp4": []}, {"Dhcp4": {"foo": 1}}, {"Dhcp4": {"valid-lifetime": "x"}},
    {"Dhcp4": {"valid-lifetime": 4000}, "foo": 1}, {"Dhcp4": {"valid-lifetime": 4000}, "Control-agent": {}},
    {"Dhcp4": {"subnet4": [{"id": 1, "subnet": "10.0.0.0/8", "pools": [{"pool": "11.0.0.1-11.0.0.5"}]}]}},
    {"Dhcp4": {"subnet4": [{"id": 1, "subnet": "10.0.0.0/8"}, {"id": 1, "subnet": "10.1.0.0/16"}]}})],
     *[c6("config-set", a) for a in ({"Dhcp4": {}}, {"Dhcp6": {"subnet6": [{"subnet": "2001:db8::/64",
                                                                             "pd-pools": [{"prefix": "3000::"}]}]}})],
     c4("config-reload"), c6("config-reload"), c4("lease4-add", L4))

case("config-backend-pull/no-backend", c4("config-backend-pull"), c6("config-backend-pull", {"x": 1}),
     cmd("config-backend-pull", service=["dhcp4", "dhcp6"]))

# leases-reclaim: Kea's reclamation of expired leases (declined ones are deleted; others kept as
# expired-reclaimed without hostname and FQDN flags, or deleted with remove)
EXPIRED = {"valid-lft": 100, "expire": 1000000, "hostname": "h.example.org", "fqdn-fwd": True, "fqdn-rev": True,
           "user-context": {"a": 1}}
case("leases-reclaim/v4-keep", *stats_pin("dhcp4"), add4(**EXPIRED), c4("lease4-add", w(L4_B, state=1, **EXPIRED)),
     c4("lease4-add", w(L4, ip_address="192.0.2.22", state=2, **EXPIRED)), c4("lease4-add", L4_FULL),
     c4("lease4-add", w(L4, ip_address="198.51.100.5", client_id="01:02:03", **EXPIRED)),
     c4("leases-reclaim", {"remove": False}), c4("lease4-get-all"), *stats_get("dhcp4", *ALL4),
     c4("leases-reclaim", {"remove": False}), *stats_get("dhcp4", *ALL4))
case("leases-reclaim/v4-remove", *stats_pin("dhcp4"), add4(**EXPIRED), c4("lease4-add", w(L4_B, state=1, **EXPIRED)),
     c4("lease4-add", w(L4, ip_address="192.0.2.22", state=2, **EXPIRED)), c4("lease4-add", L4_FULL),
     c4("leases-reclaim", {"remove": True, "x": 1}), c4("lease4-get-all"), *stats_get("dhcp4", *ALL4))
case("leases-reclaim/v6-keep-and-remove", *stats_pin("dhcp6"), add6(**EXPIRED), c6("lease6-add", w(L6_B, state=1, **EXPIRED)),
     c6("lease6-add", w(L6_PD, **EXPIRED)), c6("lease6-add", w(L6_TA, **EXPIRED)),
     c6("lease6-add", w(L6_TA, ip_address="2001:db8:1::10a", state=1, **EXPIRED)),
     c6("lease6-add", w(L6, ip_address="2001:db8:2::5")),
     c6("leases-reclaim", {"remove": False}), c6("lease6-get-all"), *stats_get("dhcp6", *ALL6),
     c6("lease6-update", w(L6_PD, expire=1000000, valid_lft=100)), c6("leases-reclaim", {"remove": True}),
     c6("lease6-get-all"), *stats_get("dhcp6", *ALL6))
case("leases-reclaim/only-its-family", add4(**EXPIRED), add6(**EXPIRED), c6("leases-reclaim", {"remove": True}),
     c4("lease4-get-all"), c6("lease6-get-all"), cmd("leases-reclaim", {"remove": True}, ["dhcp4", "dhcp6"]),
     c4("lease4-get-all"))
RECLAIM4 = ("reclaimed-leases", "reclaimed-declined-addresses", "cumulative-assigned-addresses",
            *(f"subnet[{i}].{n}" for i in (1, 2)
              for n in ("reclaimed-leases", "reclaimed-declined-addresses", "cumulative-assigned-addresses")))
RECLAIM6 = ("reclaimed-leases", "reclaimed-declined-addresses", "cumulative-assigned-nas", "cumulative-assigned-pds",
            *(f"subnet[{i}].{n}" for i in (1, 2) for n in ("reclaimed-leases", "reclaimed-declined-addresses",
                                                           "cumulative-assigned-nas", "cumulative-assigned-pds")))
case("leases-reclaim/v4-reclamation-statistics", *stats_pin("dhcp4"), add4(**EXPIRED),
     c4("lease4-add", w(L4_B, state=1, **EXPIRED)), c4("lease4-add", w(L4, ip_address="198.51.100.5", state=1, **EXPIRED)),
     c4("leases-reclaim", {"remove": False}), *stats_get("dhcp4", *RECLAIM4), c4("config-reload"),
     *stats_get("dhcp4", *RECLAIM4), c4("statistic-reset-all"), *stats_get("dhcp4", *RECLAIM4))
case("leases-reclaim/v6-reclamation-statistics", *stats_pin("dhcp6"), add6(**EXPIRED),
     c6("lease6-add", w(L6_B, state=1, **EXPIRED)), c6("lease6-add", w(L6_PD, **EXPIRED)), c6("lease6-add", w(L6_TA, **EXPIRED)),
     c6("leases-reclaim", {"remove": True}), *stats_get("dhcp6", *RECLAIM6), c6("config-reload"),
     *stats_get("dhcp6", *RECLAIM6))
case("leases-reclaim/argument-errors", *[c4("leases-reclaim", a) for a in (
    _OMIT, None, [], "x", {}, {"remove": 1}, {"remove": "true"}, {"remove": None}, {"Remove": True})],
     cmd("leases-reclaim", {"remove": True}))

case("http/integer-beyond-int64",
     raw('{"command": "lease4-add", "service": ["dhcp4"], "arguments": '
         '{"ip-address": "192.0.2.20", "hw-address": "01:02", "expire": 9223372036854775808}}', JSON_CT),
     get4("192.0.2.20"), tags=("http",))
case("envelope/service-entry-positions-in-the-clients-bytes",
     raw('{"arguments": {"a": {}},\n  "service": ["dhcp4", {}], "command": "list-commands"}', JSON_CT),
     raw('{"command": "list-commands",\r\n\t"service": [\n null]}', JSON_CT),
     raw('{"service": [5], "arguments": {"x": "\\u00e9"}, "service": ["dhcp4", 4], "command": "list-commands"}',
         JSON_CT), tags=("http",))
# the agent answers config-test/config-set itself: an accessor's error names the arguments by
# their line and byte column in the client's text, as kea-ctrl-agent's own parser saw them
case("envelope/agent-config-test-arguments-positions-in-the-clients-bytes",
     raw('{"command": "config-test", "arguments": 5}', JSON_CT),
     raw('{"command": "config-test", "arguments": null}', JSON_CT),
     raw('{"command": "config-test", "arguments": [1, 2]}', JSON_CT),
     raw('{"command": "config-set",\n  "arguments":\n    "str"}', JSON_CT),
     raw('{"arguments": {"a": {}}, "command": "config-set", "arguments": []}', JSON_CT),
     raw('{"command": "config-test"}', JSON_CT), tags=("http",))
# shutdown refuses bad arguments, agent and daemon alike, and nothing stops (the last steps answer)
case("shutdown/refused-arguments-stop-nothing",
     cmd("shutdown", 5), cmd("shutdown", None), cmd("shutdown", {"exit-value": "3"}),
     cmd("shutdown", {"exit-value": 3.0}), c4("shutdown", [0]), c4("shutdown", {"exit-value": True}),
     c6("shutdown", {"exit-value": None}), cmd("config-test", 5), c4("lease4-get-all"), c6("lease6-get-all"))
case("http/integer-int64-max",
     raw('{"command": "lease4-get-page", "service": ["dhcp4"], "arguments": '
         '{"from": "start", "limit": 9223372036854775807}}', JSON_CT), tags=("http",))


# ---------------------------------------------------------------------------------------------
# sending and normalising

_CLTT_TEXT_RE = re.compile(r'"cltt": (\d+)')
_SAMPLE_TIME_RE = re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{6}$")
_SAMPLE_TIME_TEXT_RE = re.compile(r'"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{6}"')



def _norm_value(v: Any, now: float) -> Any:
    if isinstance(v, dict):
        out = {}
        for k, x in v.items():
            if k == "cltt" and isinstance(x, int) and not isinstance(x, bool) and abs(x - now) <= TIME_WINDOW:
                out[k] = "<now>"
            elif k in ("text", "error-message") and isinstance(x, str):
                out[k] = x
            else:
                out[k] = _norm_value(x, now)
        return out
    if isinstance(v, list):
        return [_norm_value(x, now) for x in v]
    if isinstance(v, str) and _SAMPLE_TIME_RE.match(v):
        return "<time>"
    return v


# The Dhcp4/Dhcp6 keys of a config-get answer that set up each side's own daemon: Kea's harness
# gives its daemons a memfile, a control socket, log files, the lease_cmds hook, an interface list
# (and kea-dhcp6 a data directory and server-id); leasesync is given its SQL database. They are
# left out on both sides; every other key is compared, the defaults Kea fills in included.
OWN_SETUP_KEYS = ("lease-database", "control-socket", "loggers", "hooks-libraries", "interfaces-config",
                  "data-directory", "server-id")
def _family_configs(body: Any) -> list[dict[str, Any]]:
    if not isinstance(body, list):
        return []
    return [a["arguments"][name] for a in body if isinstance(a, dict) and isinstance(a.get("arguments"), dict)
            for name in ("Dhcp4", "Dhcp6") if isinstance(a["arguments"].get(name), dict)]


def _skip_json_value(text: str, i: int) -> int:
    """The index just past the JSON value starting at text[i]."""
    depth, in_string = 0, False
    while i < len(text):
        ch = text[i]
        if in_string:
            if ch == "\\":
                i += 1
            elif ch == '"':
                in_string = False
                if depth == 0:
                    return i + 1
        elif ch == '"':
            in_string = True
        elif ch in "[{":
            depth += 1
        elif ch in "]}":
            depth -= 1
            if depth == 0:
                return i + 1
        elif depth == 0 and ch in ",":
            return i
        i += 1
    return i


def _mask_own_setup(body: Any, text: Any) -> tuple[Any, Any]:
    configs = _family_configs(body)
    if not configs:
        return body, text
    for config in configs:
        for key in OWN_SETUP_KEYS:
            config.pop(key, None)
    if isinstance(text, str):
        for key in OWN_SETUP_KEYS:
            while (at := text.find(f'"{key}": ')) >= 0:
                end = _skip_json_value(text, at + len(key) + 4)
                if text.startswith(", ", end):
                    end += 2
                elif text[:at].endswith(", "):
                    at -= 2
                text = text[:at] + text[end:]
    return body, text


def normalise(answer: Any, now: float | None = None) -> Any:
    """Normalise an answer for comparison (see the module docstring).

    ``answer`` is either a recorded step result (a dict with "status" and "body", as produced
    by ``send_step`` and stored in the golden file; its "sent_at" is used as "now") or a bare
    parsed body (list/map). Returns a new object; the input is not modified.
    """
    if isinstance(answer, dict) and "status" in answer and "body" in answer:
        if now is None:
            now = answer.get("sent_at")
        if now is None:
            now = time.time()
        out = {k: copy.deepcopy(v) for k, v in answer.items() if k not in ("sent_at", "request", "elapsed")}
        out["body"] = _norm_value(out["body"], now)
        out["body"], out["body_text"] = _mask_own_setup(out["body"], out.get("body_text"))
        if isinstance(out.get("body_text"), str):
            t = _SAMPLE_TIME_TEXT_RE.sub('"<time>"', out["body_text"])
            out["body_text"] = _CLTT_TEXT_RE.sub(
                lambda m: '"cltt": "<now>"' if abs(int(m.group(1)) - now) <= TIME_WINDOW else m.group(0), t
            )
        if isinstance(out.get("headers"), list):
            hs = []
            for name, value in out["headers"]:
                low = name.lower()
                if low == "date":
                    value = "<date>"
                elif low == "content-length":
                    value = "<len>"
                hs.append([name, value])
            out["headers"] = hs
        return out
    return _norm_value(copy.deepcopy(answer), time.time() if now is None else now)


def _parse_body(data: bytes) -> Any:
    try:
        return json.loads(data)
    except ValueError:
        return {"<unparsable>": data.decode("utf-8", "replace")}


def send_step(step: dict[str, Any], host: str, port: int, client: Any = None, timeout: float = 15.0) -> dict[str, Any]:
    """Send one step to an HTTP control agent (Kea's or leasesync's); return the record:
    {"request", "sent_at", "status", "status_line" (http kind only), "headers": [[name, value], ...],
     "body" (parsed JSON or {"<unparsable>": text}), "body_text"}."""
    import httpx

    from_client = client is not None
    client = client or httpx.Client(timeout=timeout)
    sent_at = time.time()
    rec: dict[str, Any] = {"request": step, "sent_at": sent_at}
    try:
        if step["kind"] in ("cmd", "raw"):
            if step["kind"] == "cmd":
                method, path = "POST", "/"
                content = json.dumps(step["body"]).encode()
                headers = dict(JSON_CT)
            else:
                method, path = step["method"], step["path"]
                content = step["body"].encode()
                headers = dict(step["headers"])
            r = client.request(method, f"http://{host}:{port}{path}", content=content, headers=headers)
            rec["status"] = r.status_code
            rec["headers"] = [[k.decode("latin-1"), v.decode("latin-1")] for k, v in r.headers.raw]
            data = r.content
        elif step["kind"] == "http":
            with socket.create_connection((host, port), timeout=timeout) as s:
                s.sendall(step["request"].encode("latin-1"))
                from_harness = _read_http(s, time.monotonic() + timeout)
            status_line, hdrs, data = from_harness
            rec["status"] = int(status_line.split()[1])
            rec["status_line"] = status_line
            rec["headers"] = hdrs
        else:
            raise ValueError(f"unknown step kind {step['kind']!r}")
    finally:
        if not from_client:
            client.close()
    rec["body"] = _parse_body(data)
    rec["body_text"] = data.decode("utf-8", "replace")
    return rec


def _read_http(sock: socket.socket, deadline: float) -> tuple[str, list[list[str]], bytes]:
    buf = b""
    while b"\r\n\r\n" not in buf:
        sock.settimeout(max(0.01, deadline - time.monotonic()))
        chunk = sock.recv(65536)
        if not chunk:
            if not buf:
                raise ConnectionError("connection closed without an answer")
            break
        buf += chunk
    head, _, body = buf.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    headers = [[k.strip(), v.strip()] for k, _, v in (ln.partition(":") for ln in lines[1:])]
    length = next((int(v) for k, v in headers if k.lower() == "content-length"), None)
    while length is None or len(body) < length:
        sock.settimeout(max(0.01, deadline - time.monotonic()))
        try:
            chunk = sock.recv(65536)
        except TimeoutError:
            break
        if not chunk:
            break
        body += chunk
    return lines[0], headers, body


def run_case(c: dict[str, Any], host: str, port: int, reset: bool = True,
             reset_steps: list[dict[str, Any]] | None = None) -> list[dict[str, Any]]:
    """Run RESET_STEPS (or `reset_steps`; unrecorded) then every step of case ``c``; return the
    step records."""
    import httpx

    with httpx.Client(timeout=15.0) as client:
        if reset:
            for st in RESET_STEPS if reset_steps is None else reset_steps:
                send_step(st, host, port, client)
        return [send_step(st, host, port, client) for st in c["steps"]]


def diff_records(expected: dict[str, Any], actual: dict[str, Any]) -> list[str]:
    """Differences between two step records after normalise(): status, status line (raw-socket
    steps), parsed body, exact body text, header names/values in order. Empty list = equal."""
    e, a = normalise(expected), normalise(actual)
    out = []
    for key in ("status", "status_line", "body", "body_text", "headers"):
        if e.get(key) != a.get(key):
            out.append(f"{key}: expected {e.get(key)!r}, got {a.get(key)!r}")
    return out


def cases_for(topology: str) -> list[dict[str, Any]]:
    return [c for c in CASES if c["topology"] == topology]
