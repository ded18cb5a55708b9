"""Differential sweep: every case of tests/kea_cases.py against a real `leasesync serve`, compared
with Kea 2.2's recorded answers (tests/golden/kea22_answers.json).

One test per case (ids = case names). Both sides go through ``kea_cases.normalise``; a step must
then agree on status, status line (raw-socket steps), parsed body, exact body text and header
names/values in order. The few places where leasesync deliberately answers otherwise (README,
"Where leasesync deliberately differs from Kea 2.2") are listed in ``EXPECTED_DIFFERENCES``: for
those steps the test asserts leasesync's documented answer *and* that Kea's golden answer differs
from it, so a difference can neither pass silently nor outlive its reason.

The sweep runs on SQLite; a sample covering every command runs on PostgreSQL and MariaDB too.
The golden file is enough: Kea itself is not needed here (``test_kea_harness`` re-records it).
"""

from __future__ import annotations

import copy
import ipaddress
import json
import shutil
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

import app.commands  # noqa: F401 - importing the package fills the command registry
from app import kea_json
from app.commands.registry import DAEMON, registry
from tests import kea_cases
from tests.conftest import ServerProcess, make_database, service_config
from tests.kea_harness import free_port, release_port

GOLDEN_PATH = Path(__file__).parent / "golden" / "kea22_answers.json"
GOLDEN: dict[str, Any] = json.loads(GOLDEN_PATH.read_text())
RECORDED: dict[str, dict[str, Any]] = {c["name"]: c for c in GOLDEN["cases"]}
CASES: dict[str, dict[str, Any]] = {c["name"]: c for c in kea_cases.CASES}


# ---------------------------------------------------------------------------------------------
# deliberate differences (README: "Where leasesync deliberately differs from Kea 2.2")

Record = dict[str, Any]
Transform = Callable[[Record], Record]


@dataclass(frozen=True)
class Expected:
    """leasesync's documented answer for some steps of a case; the other steps must equal Kea's.

    ``steps`` maps a step index to a transformation of Kea's *normalised* record into the record
    leasesync must send (status, status line, body, body text, headers). The transformation must
    change Kea's record: a listed difference that Kea does not have is an error too.
    """

    reason: str
    steps: dict[int, Transform] = field(default_factory=dict)


def _with_body(rec: Record, body: Any) -> Record:
    out = copy.deepcopy(rec)
    out["body"] = body
    out["body_text"] = kea_json.dumps(body).decode()
    return out


def answer_is(*answers: dict[str, Any]) -> Transform:
    return lambda rec: _with_body(rec, list(answers))


def chain(*transforms: Transform) -> Transform:
    def run(rec: Record) -> Record:
        for t in transforms:
            rec = t(rec)
        return rec

    return run


def connection_close(rec: Record) -> Record:
    """leasesync announces that it closes the connection (RFC 9112 section 9.6); Kea closes silently."""
    out = copy.deepcopy(rec)
    out["headers"] = out["headers"] + [["Connection", "close"]]
    return out


def list_commands(where: str) -> Transform:
    """leasesync lists the commands it implements (no libreload; plus lease4-bulk-apply and the
    ha-* commands)."""

    def run(rec: Record) -> Record:
        names = registry.names(where)
        assert rec["body"][0]["result"] == 0
        return _with_body(rec, [{"arguments": names, "result": 0}])

    return run


def _ip_key(lease: dict[str, Any]) -> int:
    return int(ipaddress.ip_address(lease["ip-address"]))


def leases_by_address(subnets: list[int] | None = None) -> Transform:
    """leasesync orders leases by address (within each requested subnet, in the requested order);
    Kea's memfile by insertion order, which the SQL lease tables do not record."""

    def run(rec: Record) -> Record:
        out = copy.deepcopy(rec)
        args = out["body"][0]["arguments"]
        distinct = {(x["ip-address"], x.get("type")): x for x in args["leases"]}.values()
        if subnets is None:
            args["leases"] = sorted(distinct, key=_ip_key)
        else:
            args["leases"] = [x for sid in subnets for x in sorted(distinct, key=_ip_key) if x["subnet-id"] == sid]
        return _with_body(out, out["body"])

    return run


def fix_mojibake(rec: Record) -> Record:
    """Kea reads raw UTF-8 in JSON strings byte by byte ("h\u00e9" sent as C3 A9 comes back as
    "h\u00c3\u00a9"); leasesync decodes UTF-8 as JSON requires (RFC 8259 section 8.1)."""
    out = copy.deepcopy(rec)
    lease = out["body"][0]["arguments"]
    lease["hostname"] = lease["hostname"].encode("latin-1").decode("utf-8")
    return _with_body(out, out["body"])


NO_SERVICE = ("lease4-*/lease6-*/stat-lease4-get/stat-lease6-get/ha-* commands without `service` (or with an "
              "empty list) go to their family "
              "instead of the agent's 'command not supported' answer (as Kea 3.x daemons do)")
LIST_COMMANDS = ("a family's list-commands lists what leasesync implements: Kea's libreload is not "
                 "implemented; lease4-bulk-apply and ha-* are added")
CONN_CLOSE = ("leasesync sends `Connection: close` when it will close the connection (HTTP/1.0, a "
              "`Connection: close` request, an unparsable request), as RFC 9112 section 9.6 asks; Kea closes "
              "without the header")
ORDER = ("leases in a list are ordered by address (per requested subnet, in the requested order): Kea's memfile "
         "uses insertion order, which Kea's SQL lease tables (leasesync's store) do not record")
SAME_ADDRESS = ("a v6 lease of another type at an existing address: Kea's memfile answers 'added' and stores nothing; "
                "leasesync answers as Kea's SQL backends do, result 1 'IPv6 lease already exists.'")
NO_D2 = ("leasesync has no DHCP-DDNS client: with updates enabled, resend-ddns forwards to the local Kea daemon "
         "when a control socket for it is configured, otherwise it answers result 1 (nothing sent), never 'NCR generated'")

EXPECTED_DIFFERENCES: dict[str, Expected] = {
    "envelope/lease-command-no-service": Expected(NO_SERVICE, {0: answer_is({"result": 3, "text": "Lease not found."})}),
    "envelope/lease-command-empty-service": Expected(NO_SERVICE, {0: answer_is({"result": 3, "text": "Lease not found."})}),
    "stat-lease/routing": Expected(NO_SERVICE, {0: answer_is({
        "arguments": {"result-set": {
            "columns": ["subnet-id", "total-addresses", "cumulative-assigned-addresses", "assigned-addresses",
                        "declined-addresses"],
            "rows": [[1, 191, 0, 0, 0], [2, 0, 0, 0, 0]], "timestamp": "<time>"}},
        "result": 0, "text": "stat-lease4-get[all subnets]: 2 rows found"})}),
    "envelope/list-commands-dhcp4": Expected(LIST_COMMANDS, {0: list_commands(DAEMON)}),
    "envelope/list-commands-dhcp6": Expected(LIST_COMMANDS, {0: list_commands(DAEMON)}),
    "envelope/list-commands-args-not-map": Expected(LIST_COMMANDS, {0: list_commands(DAEMON)}),
    "http/no-host-header": Expected(CONN_CLOSE, {0: connection_close}),
    "http/lowercase-header-names": Expected(CONN_CLOSE, {0: connection_close}),
    "http/http10": Expected(CONN_CLOSE, {0: connection_close}),
    "http/http20-request-line": Expected(CONN_CLOSE, {0: connection_close}),
    "http/no-content-length": Expected(CONN_CLOSE, {0: connection_close}),
    "http/chunked": Expected(CONN_CLOSE, {0: connection_close}),
    "http/get-raw": Expected(CONN_CLOSE, {0: connection_close}),
    "http/bad-request-line": Expected(CONN_CLOSE, {0: connection_close}),
    **{f"http/{name}": Expected(CONN_CLOSE, {0: connection_close})
       for name in ("version-1-2", "no-version", "unknown-method", "bare-lf", "content-length-twice-differing",
                    "expect-100-with-the-body")},
    "http/raw-utf8-hostname": Expected("raw UTF-8 in JSON strings is decoded as UTF-8 (Kea: byte by byte)",
                                       {1: fix_mojibake}),
    "lease4-add/hw-empty-accepted": Expected(
        "a v4 lease with neither hardware address nor client-id (state not declined) is refused as Kea's default "
        "persistent memfile refuses it; the golden's non-persistent memfile skips that check",
        {0: answer_is({"result": 1, "text": "Lease4: 192.0.2.23, state: default has neither hardware address or "
                                            "client id"}),
         1: answer_is({"result": 3, "text": "Lease not found."})}),
    "lease6-add/same-address-na-and-pd": Expected(SAME_ADDRESS, {1: answer_is({"result": 1, "text": "IPv6 lease already exists."})}),
    "lease6-add/na-and-ta-same-address": Expected(SAME_ADDRESS, {1: answer_is({"result": 1, "text": "IPv6 lease already exists."})}),
    "lease4-get/by-hw-address": Expected(
        ORDER + " (of several leases matching hw-address and subnet-id the lowest address is returned)",
        {3: answer_is({"arguments": {"cltt": "<now>", "fqdn-fwd": False, "fqdn-rev": False, "hostname": "",
                                     "hw-address": "1a:1b:1c:1d:1e:1f", "ip-address": "192.0.2.20", "state": 0,
                                     "subnet-id": 1, "valid-lft": 4000},
                       "result": 0, "text": "IPv4 lease found."})}),
    "lease4-get-all/subnet-2": Expected(ORDER, {5: leases_by_address([2])}),
    "lease4-get-all/subnets-2-1": Expected(ORDER, {5: leases_by_address([2, 1])}),
    "lease4-get-all/subnets-repeated": Expected(ORDER, {5: leases_by_address([2, 2])}),
    "lease6-get-all/subnet-2": Expected(ORDER, {6: leases_by_address([2])}),
    "lease6-get-all/subnets-1-2": Expected(ORDER, {6: leases_by_address([1, 2])}),
    "lease4-get-by-hw-address/found": Expected(ORDER, {4: leases_by_address()}),
    "lease6-get-by-duid/found": Expected(ORDER, {4: leases_by_address()}),
    "lease4-resend-ddns/success": Expected(NO_D2, {1: answer_is({"result": 1, "text": (
        "NCR not generated for: 192.0.2.90, hostname: ddns.example.org: leasesync has no DHCP-DDNS client and "
        "no control socket for dhcp4 is configured to send it")})}),
    "lease4-resend-ddns/rev-only": Expected(NO_D2, {1: answer_is({"result": 1, "text": (
        "NCR not generated for: 192.0.2.90, hostname: r.example.org: leasesync has no DHCP-DDNS client and "
        "no control socket for dhcp4 is configured to send it")})}),
    "lease6-resend-ddns/success": Expected(NO_D2, {1: answer_is({"result": 1, "text": (
        "NCR not generated for: 2001:db8:1::100, hostname: ddns6.example.org: leasesync has no DHCP-DDNS client "
        "and no control socket for dhcp6 is configured to send it")})}),
}


# ---------------------------------------------------------------------------------------------
# the servers


def leasesync_config(db: dict[str, Any], topology: str, port: int, d2_socket: str) -> dict[str, Any]:
    """leasesync configured like the golden topology: same subnets and lifetimes, a d2 socket
    whose daemon is not running, dhcp-ddns updates on for the "ddns" topology."""
    topo = kea_cases.TOPOLOGIES[topology]
    d4 = dict(topo["dhcp4"])
    d6 = dict(topo["dhcp6"])
    config = service_config(
        db, port=port,
        extra_agent={"control-sockets": {"d2": {"socket-type": "unix", "socket-name": d2_socket}}},
        dhcp4_extra=d4, dhcp6_extra=d6,
    )
    assert config["Dhcp4"]["subnet4"] == topo["dhcp4"]["subnet4"]
    assert config["Dhcp4"]["valid-lifetime"] == topo["dhcp4"]["valid-lifetime"]
    assert config["Dhcp6"]["subnet6"] == topo["dhcp6"]["subnet6"]
    assert config["Dhcp6"]["valid-lifetime"] == topo["dhcp6"]["valid-lifetime"]
    assert config["Dhcp6"]["preferred-lifetime"] == topo["dhcp6"]["preferred-lifetime"]
    return config


class Servers:
    """One leasesync process per (database kind, topology), started on first use."""

    def __init__(self, tmp: Path) -> None:
        self.tmp = tmp
        self.procs: dict[tuple[str, str], ServerProcess] = {}
        self.drops: list[Callable[[], None]] = []
        self.ports: list[int] = []
        self.failed: dict[tuple[str, str], str] = {}
        # a short path (unix sockets are limited to 107 bytes) that never exists
        self.d2_socket = str(Path(tempfile.mkdtemp(prefix="lsd2-", dir="/tmp")) / "d2-not-running.sock")

    def get(self, kind: str, topology: str) -> ServerProcess:
        key = (kind, topology)
        if key in self.failed:
            pytest.fail(f"leasesync ({kind}, {topology}) did not start: {self.failed[key]}", pytrace=False)
        if key not in self.procs:
            workdir = self.tmp / f"{kind}-{topology}"
            workdir.mkdir(parents=True, exist_ok=True)
            db, drop = make_database(kind, workdir)
            self.drops.append(drop)
            port = free_port()
            self.ports.append(port)
            proc = ServerProcess(leasesync_config(db, topology, port, self.d2_socket), workdir, f"ls-{kind}-{topology}")
            self.procs[key] = proc
            try:
                proc.start()
            except RuntimeError as exc:
                del self.procs[key]
                self.failed[key] = str(exc)[-1500:]
                raise
        return self.procs[key]

    def close(self) -> None:
        for proc in self.procs.values():
            proc.stop()
        for drop in self.drops:
            drop()
        for port in self.ports:
            release_port(port)
        shutil.rmtree(Path(self.d2_socket).parent, ignore_errors=True)


@pytest.fixture(scope="module")
def servers(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Servers]:
    s = Servers(tmp_path_factory.mktemp("differential"))
    yield s
    s.close()


# ---------------------------------------------------------------------------------------------
# comparison


_COMPARED = ("status", "status_line", "body", "body_text", "headers")


def compare_case(name: str, server: ServerProcess) -> list[str]:
    case = CASES[name]
    recorded = RECORDED[name]
    assert [s["request"] for s in recorded["steps"]] == case["steps"], f"stale golden for {name}"
    live = kea_cases.run_case(case, "127.0.0.1", server.port)
    expected = EXPECTED_DIFFERENCES.get(name)
    problems: list[str] = []
    for i, (kea, ours) in enumerate(zip(recorded["steps"], live, strict=True)):
        transform = expected.steps.get(i) if expected else None
        if transform is None:
            problems.extend(f"step {i}: {d}" for d in kea_cases.diff_records(kea, ours))
            continue
        assert expected is not None
        kea_n, ours_n = kea_cases.normalise(kea), kea_cases.normalise(ours)
        want = transform(kea_n)
        if all(want.get(k) == kea_n.get(k) for k in _COMPARED):
            problems.append(f"step {i}: listed in EXPECTED_DIFFERENCES but Kea answers the same; remove the entry")
        for k in _COMPARED:
            if want.get(k) != ours_n.get(k):
                problems.append(f"step {i} {k} (deliberate difference: {expected.reason}): "
                                f"expected {want.get(k)!r}, got {ours_n.get(k)!r}")
    if problems:
        problems.append(f"log: {server.log_path}")
    return problems


def test_expected_differences_name_real_cases() -> None:
    for name, exp in EXPECTED_DIFFERENCES.items():
        assert name in CASES, name
        assert exp.reason and exp.steps, name
        assert all(0 <= i < len(CASES[name]["steps"]) for i in exp.steps), name


@pytest.mark.parametrize("name", list(CASES), ids=list(CASES))
def test_sqlite_matches_kea(name: str, servers: Servers) -> None:
    problems = compare_case(name, servers.get("sqlite", CASES[name]["topology"]))
    assert not problems, "\n".join(problems)


# --- a sample covering every command, on the SQL servers ---------------------------------------

def _sample() -> list[str]:
    """Per lease-command group (the case-name prefix), its first success case and first error
    case; plus a few envelope cases that touch the database (ordering, multi-service)."""
    picked: dict[tuple[str, bool], str] = {}
    for name in CASES:
        group, _, rest = name.partition("/")
        if group in ("http", "envelope", "position", "shutdown"):  # nothing of these reaches the store
            continue
        picked.setdefault((group, rest.startswith("err")), name)
    extra = ["envelope/multi-service-add", "lease4-get-by-hw-address/found", "lease6-get-by-duid/found",
             "lease6-get-page/walk", "lease4-get-page/walk"]
    return sorted(set(picked.values()) | set(extra))


SAMPLE = _sample()


@pytest.mark.postgres
@pytest.mark.parametrize("name", SAMPLE, ids=SAMPLE)
def test_postgresql_matches_kea(name: str, servers: Servers) -> None:
    problems = compare_case(name, servers.get("postgresql", CASES[name]["topology"]))
    assert not problems, "\n".join(problems)


@pytest.mark.mysql
@pytest.mark.parametrize("name", SAMPLE, ids=SAMPLE)
def test_mysql_matches_kea(name: str, servers: Servers) -> None:
    problems = compare_case(name, servers.get("mysql", CASES[name]["topology"]))
    assert not problems, "\n".join(problems)


def test_sample_covers_every_command() -> None:
    def commands(names: list[str]) -> set[str]:
        out = set()
        for n in names:
            for st in CASES[n]["steps"]:
                b = st.get("body")
                if st["kind"] == "cmd" and isinstance(b, dict) and isinstance(b.get("command"), str):
                    out.add(b["command"])
        return {c for c in out if c.startswith("lease")}

    assert commands(list(CASES)) <= commands(SAMPLE)
    assert 30 <= len(SAMPLE) <= 60


def test_d2_socket_really_absent(servers: Servers) -> None:
    assert not Path(servers.d2_socket).exists()
