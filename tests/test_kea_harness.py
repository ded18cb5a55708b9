"""The Kea harness really starts Kea 2.2 and gets the answers documented in the spec."""

from __future__ import annotations

import fcntl
import os
import subprocess
import sys
from typing import Any

import pytest

from app import kea_json

try:
    from tests import kea_harness
    from tests.kea_harness import KeaServer, free_port, kea_available, require_kea
except ImportError:  # tests/ itself on sys.path
    import kea_harness  # type: ignore[no-redef]
    from kea_harness import KeaServer, free_port, kea_available, require_kea  # type: ignore[no-redef]


# -- policy helpers (no Kea needed) -----------------------------------------------------------


def test_require_kea_skips_or_fails_under_ci(monkeypatch):
    monkeypatch.setattr(kea_harness, "_available_cache", ["kea-dhcp4 not installed"])
    monkeypatch.delenv("CI", raising=False)
    with pytest.raises(pytest.skip.Exception, match="not installed"):
        require_kea()
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception, match="CI=true"):
        require_kea()
    monkeypatch.setattr(kea_harness, "_available_cache", [None])
    require_kea()  # no exception when available, CI or not


def test_free_port_unique_and_locked_across_processes():
    ports = [free_port() for _ in range(20)]
    assert len(set(ports)) == 20
    lockfile = kea_harness._PORT_LOCK_DIR / str(ports[0])
    # Another process must not be able to take the reservation.
    code = (
        "import fcntl,os,sys\n"
        f"fd=os.open({str(lockfile)!r},os.O_RDWR)\n"
        "try:\n fcntl.flock(fd,fcntl.LOCK_EX|fcntl.LOCK_NB)\nexcept OSError:\n sys.exit(7)\n"
        "sys.exit(0)\n"
    )
    assert subprocess.run([sys.executable, "-c", code]).returncode == 7
    for p in ports:
        kea_harness.release_port(p)
    fd = os.open(lockfile, os.O_RDWR)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)  # free again
    finally:
        os.close(fd)


# -- real Kea ---------------------------------------------------------------------------------


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # a zombie is dead for our purposes
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().split()[2] != "Z"
    except OSError:
        return False


@pytest.mark.kea
def test_lease4_add_get_through_agent():
    require_kea()
    with KeaServer(4) as kea:
        assert kea.command("lease4-add", arguments={"ip-address": "192.0.2.20", "hw-address": "1a:1b:1c:1d:1e:1f"}) == [
            {"result": 0, "text": "Lease for address 192.0.2.20, subnet-id 1 added."}
        ]
        ans = kea.command("lease4-get", arguments={"ip-address": "192.0.2.20"})
        assert isinstance(ans, list) and len(ans) == 1
        lease = ans[0]["arguments"]
        assert ans[0]["result"] == 0 and ans[0]["text"] == "IPv4 lease found."
        assert lease["hw-address"] == "1a:1b:1c:1d:1e:1f" and lease["valid-lft"] == 4000
        assert lease["subnet-id"] == 1 and "expire" not in lease
        # subnet 2 inherits its own valid-lifetime
        kea.command("lease4-add", arguments={"ip-address": "198.51.100.10", "hw-address": "aa:bb:cc:dd:ee:ff"})
        assert kea.command("lease4-get", arguments={"ip-address": "198.51.100.10"})[0]["arguments"]["valid-lft"] == 7200
        # Kea's own byte format
        status, headers, body = kea.raw_post(
            b'{"command": "lease4-get", "service": ["dhcp4"], "arguments": {"ip-address": "192.0.2.99"}}',
            {"Content-Type": "application/json"},
        )
        assert status == 200 and body == b'[ { "result": 3, "text": "Lease not found." } ]'
        assert headers["content-type"] == "application/json"


@pytest.mark.kea
def test_lease6_add_get_and_preferred_quirk():
    require_kea()
    with KeaServer(6) as kea:
        assert kea.command(
            "lease6-add", arguments={"ip-address": "2001:db8:1::100", "duid": "01:02:03:04:05:06:07:08", "iaid": 1234}
        ) == [{"result": 0, "text": "Lease for address 2001:db8:1::100, subnet-id 1 added."}]
        lease = kea.command(
            "lease6-get",
            arguments={"identifier-type": "duid", "identifier": "01:02:03:04:05:06:07:08", "iaid": 1234, "subnet-id": 1},
        )[0]["arguments"]
        assert lease["type"] == "IA_NA" and lease["valid-lft"] == 4000
        assert lease["preferred-lft"] == 4000  # spec: valid lifetime used when preferred-lft omitted
        pd = {"subnet-id": 1, "type": "IA_PD", "ip-address": "3000:1:0:1::", "prefix-len": 64,
              "duid": "01:02:03:04:05:06:07:08", "iaid": 7}
        assert kea.command("lease6-add", arguments=pd)[0]["text"] == "Lease for prefix 3000:1:0:1::/64, subnet-id 1 added."
        assert kea.command("lease6-get", arguments={"ip-address": "3000:1:0:1::"}) == [
            {"result": 3, "text": "Lease not found."}
        ]


@pytest.mark.kea
def test_socket_direct_answers_a_map_and_agentless_mode():
    require_kea()
    with KeaServer(4, start_agent=False) as kea:
        assert kea.agent_pid is None
        with pytest.raises(RuntimeError):
            _ = kea.url
        ans = kea.socket_command({"command": "lease4-get-all", "arguments": {"subnets": [1]}})
        assert ans == {"arguments": {"leases": []}, "result": 3, "text": "0 IPv4 lease(s) found."}
        assert kea.socket_raw(b'{"command": "foo-bar"}') == b'{ "result": 2, "text": "\'foo-bar\' command not supported." }'


@pytest.mark.kea
def test_two_servers_one_agent_and_clean_teardown():
    require_kea()
    with KeaServer(6, start_agent=False) as k6, KeaServer(4, extra_control_sockets={"dhcp6": k6.socket_path}) as k4:
        pids = [k4.pid, k4.agent_pid, k6.pid]
        assert k4.socket_path != k6.socket_path and k4.tmpdir != k6.tmpdir
        ans = k4.command("lease4-get-all", service=["dhcp4", "dhcp6"])
        assert [a["text"] for a in ans] == ["0 IPv4 lease(s) found.", "0 IPv4 lease(s) found."]
        assert k4.command("foo", service=["dhcp5"]) == [
            {"result": 1, "text": "forwarding socket is not configured for the server type dhcp5"}
        ]
        # HTTP-level errors are a bare map
        assert k4.raw_post(b"{", {"Content-Type": "application/json"})[0] == 400
        status, _, body = k4.raw_http(
            b"POST / HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n\r\n{}"
        )
        assert status == 400 and body == b'{ "result": 400, "text": "Bad Request" }'
        tmpdirs = [k4.tmpdir, k6.tmpdir]
    assert not any(_pid_alive(p) for p in pids)
    assert not any(d.exists() for d in tmpdirs)


@pytest.mark.kea
def test_start_failure_is_reported_and_cleaned_up():
    require_kea()
    bad = KeaServer(4, subnets=[{"id": 1, "subnet": "bad"}])
    with pytest.raises(kea_harness.KeaStartError, match="subnet"):
        bad.start()
    assert bad.pid is None and not bad.tmpdir.exists()


def test_kea_available_reason_is_string_or_none():
    r = kea_available()
    assert r is None or (isinstance(r, str) and r)


# -- golden file / cases ----------------------------------------------------------------------

try:
    from tests import kea_cases
except ImportError:  # pragma: no cover
    import kea_cases  # type: ignore[no-redef]

GOLDEN = os.path.join(os.path.dirname(__file__), "golden", "kea22_answers.json")


def _golden():
    import json

    with open(GOLDEN) as f:
        return json.load(f)


def test_normalise_rules():
    now = 1795640000
    rec = {
        "request": {"kind": "cmd", "body": {"command": "lease4-add", "service": ["dhcp4"], "arguments": {}}},
        "status": 200,
        "sent_at": now,
        "headers": [["Content-Length", "99"], ["Content-Type", "application/json"], ["Date", "Wed, 25 Nov 2026"]],
        "body": [{"arguments": {"cltt": now + 3, "leases": [{"cltt": 1999999000}]}, "result": 1,
                  "text": "missing parameter 'ip-address' (<wire>:0:16)"}],
        "body_text": '[ { "arguments": { "cltt": 1795640003 }, "text": "Invalid argument(<wire>:0:66)" } ]',
    }
    n = kea_cases.normalise(rec)
    assert n["body"][0]["arguments"] == {"cltt": "<now>", "leases": [{"cltt": 1999999000}]}
    assert n["headers"] == [["Content-Length", "<len>"], ["Content-Type", "application/json"], ["Date", "<date>"]]
    assert rec["body"][0]["arguments"]["cltt"] == now + 3  # input untouched


def _answer_record(text: str) -> dict[str, Any]:
    return {"request": {"kind": "cmd", "body": {"command": "lease4-add", "service": ["dhcp4"], "arguments": {}}},
            "status": 200, "sent_at": 0, "headers": [],
            "body": [{"result": 1, "text": text}], "body_text": kea_json.dumps([{"text": text}]).decode()}


def test_normalise_keeps_the_daemons_positions():
    n = kea_cases.normalise(_answer_record("missing parameter 'ip-address' (<wire>:0:16)"))
    assert n["body"][0]["text"] == "missing parameter 'ip-address' (<wire>:0:16)"
    assert n["body_text"] == '[ { "text": "missing parameter \'ip-address\' (<wire>:0:16)" } ]'
    assert kea_cases.normalise(_answer_record("Invalid argument(<wire>:0:66)"))["body"][0]["text"] == (
        "Invalid argument(<wire>:0:66)")


def test_normalise_keeps_the_agents_own_positions():
    # kea-ctrl-agent's parser names a line and column of the client's bytes; leasesync does too
    n = kea_cases.normalise(_answer_record("x in (<string>:1:43)"))
    assert n["body"][0]["text"] == "x in (<string>:1:43)"


def test_golden_covers_every_case():
    g = _golden()
    assert g["kea_version"].startswith("2.2.")
    recorded = {c["name"]: c for c in g["cases"]}
    for c in kea_cases.CASES:
        assert c["name"] in recorded, f"golden lacks {c['name']}: run tests/record_kea_golden.py"
        assert [s["request"] for s in recorded[c["name"]]["steps"]] == c["steps"], f"stale golden for {c['name']}"
    assert len(recorded) == len(kea_cases.CASES)


@pytest.mark.kea
@pytest.mark.slow
def test_golden_replays_identically_against_live_kea():
    """The golden file is reproducible: live Kea == golden after normalise() for every step."""
    require_kea()
    try:
        from tests.record_kea_golden import start_topology
    except ImportError:  # pragma: no cover
        from record_kea_golden import start_topology  # type: ignore[no-redef]

    recorded = {c["name"]: c for c in _golden()["cases"]}
    problems = []
    for topology in kea_cases.TOPOLOGIES:
        k4, k6, _ = start_topology(topology)
        try:
            for c in kea_cases.cases_for(topology):
                live = kea_cases.run_case(c, k4.http_host, k4.http_port)
                for i, (exp, got) in enumerate(zip(recorded[c["name"]]["steps"], live, strict=True)):
                    for d in kea_cases.diff_records(exp, got):
                        problems.append(f"{c['name']} step {i}: {d}")
        finally:
            k4.stop()
            k6.stop()
    assert not problems, "\n".join(problems[:20])
