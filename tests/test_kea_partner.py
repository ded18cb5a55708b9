"""A real ISC Kea 2.2 server as leasesync's HA partner (issue "A real Kea 2.2 server as
leasesync's HA partner").

DHCP traffic runs in a private network namespace (tests/netns.py): the test thread enters it, so
Kea (kea_harness.KeaServer), its control agent, leasesync (the `spawn` fixture) and perfdhcp all
run inside and reach each other on the namespace's loopback. Kea's peer `url` points at
leasesync; leasesync's points at Kea's control agent (or, in one test, at Kea's HA dedicated
listener). Kea only sends lease updates for DHCP traffic (admin lease commands through lease_cmds
do not generate HA updates), so Kea → leasesync updates are driven by perfdhcp acting as a relay.
"""

from __future__ import annotations

import contextlib
import re
import shutil
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import ServerProcess, free_port, make_database, service_config, unavailable
from tests.ha_helpers import dump, ha_state, metric, wait_for
from tests.kea_harness import HA_HOOK, KeaServer, require_kea
from tests.netns import Namespace, require_netns

pytestmark = [pytest.mark.slow, pytest.mark.kea, pytest.mark.timeout(120)]

RELAY = "127.0.0.2"
SUBNET4 = [{"id": 1, "subnet": "10.10.0.0/16", "pools": [{"pool": "10.10.0.10 - 10.10.3.250"}],
            "relay": {"ip-addresses": [RELAY]}}]
SUBNET6 = [{"id": 1, "subnet": "2001:db8:1::/64", "pools": [{"pool": "2001:db8:1::1000 - 2001:db8:1::ffff"}],
            "interface": "v6a"}]
# Kea-like timing, short enough for tests: partner-down 3 s after the last contact.
TIMING: dict[str, Any] = {"heartbeat-delay": 1000, "max-response-delay": 3000, "max-ack-delay": 1000,
                          "max-unacked-clients": 0, "sync-timeout": 10000, "sync-page-limit": 50}
NORMAL = {"hot-standby", "load-balancing"}


# --- configuration -----------------------------------------------------------------------------

def peer(name: str, port: int, role: str) -> dict[str, Any]:
    return {"name": name, "url": f"http://127.0.0.1:{port}/", "role": role, "auto-failover": True}


def ha_lib(this: str, mode: str, peers: list[dict[str, Any]], **extra: Any) -> dict[str, Any]:
    """The libdhcp_ha.so entry, identical for Kea and leasesync except this-server-name."""
    relationship: dict[str, Any] = {"this-server-name": this, "mode": mode, "peers": peers}
    if mode != "passive-backup":
        relationship.update(TIMING)
    relationship.update(extra)
    return {"library": str(HA_HOOK), "parameters": {"high-availability": [relationship]}}


def leasesync_config(tmp_path: Path, name: str, port: int, hook: dict[str, Any], family: int = 4,
                     subnets: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    db = make_database("sqlite", tmp_path)[0]
    if family == 4:
        return service_config(db, port=port, dhcp6=False,
                              dhcp4_extra={"subnet4": subnets or SUBNET4, "hooks-libraries": [hook]})
    config = service_config(db, port=port, dhcp6=True, dhcp6_extra={"subnet6": subnets or SUBNET6,
                                                                     "hooks-libraries": [hook]})
    config["Dhcp4"]["subnet4"] = SUBNET4
    return config


def kea4(port: int, hook: dict[str, Any], *, interface: str | None = "lo/127.0.0.1", start_agent: bool = True,
         extra: dict[str, Any] | None = None, name: str = "kea", lease_file: Path | None = None) -> KeaServer:
    """kea-dhcp4 on the namespace's standard port 67 (perfdhcp relays to it), its control agent
    on `port`; memfile without persistence (a restarted Kea starts empty) unless `lease_file`."""
    database = ({"type": "memfile", "persist": True, "lfc-interval": 0, "name": str(lease_file)}
                if lease_file else None)
    return KeaServer(
        4, SUBNET4, hooks_libraries=[hook], http_port=port if start_agent else None, start_agent=start_agent,
        interfaces=[interface] if interface else [], dhcp_socket="udp", dhcp_port=67, valid_lifetime=3600,
        extra_config={"multi-threading": {"enable-multi-threading": False}, **(extra or {})}, name=name,
        lease_database=database,
    )


# --- observation -------------------------------------------------------------------------------

def states(kea: KeaServer, ls: ServerProcess, service: str = "dhcp4") -> list[str]:
    return [kea.ha_state(), ha_state(ls, service)]


def wait_pair(kea: KeaServer, ls: ServerProcess, expected: list[str], timeout: float = 30.0,
              service: str = "dhcp4") -> None:
    wait_for(lambda: states(kea, ls, service) == expected, timeout, interval=0.2,
             what=f"states [kea, leasesync] == {expected}, now {states(kea, ls, service)}")


def addresses(leases: list[dict[str, Any]]) -> set[str]:
    return {lease["ip-address"] for lease in leases}


def perfdhcp(*args: str, timeout: float = 60.0) -> dict[str, dict[str, float]]:
    """Run perfdhcp (in the caller's namespace); return its per-exchange statistics."""
    argv = ["perfdhcp", *args]
    done = subprocess.run(argv, capture_output=True, text=True, timeout=timeout)
    if done.returncode not in (0, 3):  # 3: some packets dropped
        raise AssertionError(f"{argv} exited {done.returncode}:\n{done.stdout[-2000:]}\n{done.stderr[-2000:]}")
    return parse_perfdhcp(done.stdout)


def parse_perfdhcp(text: str) -> dict[str, dict[str, float]]:
    stats: dict[str, dict[str, float]] = {}
    current: dict[str, float] | None = None
    for line in text.splitlines():
        header = re.match(r"\*\*\*Statistics for: (\S+)\*\*\*", line)
        if header:
            current = stats.setdefault(header.group(1), {})
            continue
        rate = re.match(r"Rate: ([\d.]+)", line)
        if rate:
            stats.setdefault("rate", {})["value"] = float(rate.group(1))
        field = re.match(r"(sent packets|received packets|drops): (\d+)", line)
        if field and current is not None:
            current[field.group(1)] = float(field.group(2))
    return stats


def dora(count: int, rate: int = 200, clients: int = 100000, seconds: int | None = None) -> dict[str, Any]:
    """`count` DORA exchanges relayed (giaddr 127.0.0.2) to the Kea on 127.0.0.1:67."""
    period = seconds if seconds is not None else max(5, count // rate + 10)
    return perfdhcp("-4", "-l", RELAY, "-L", "67", "-o", "82,1300", "-r", str(rate), "-R", str(clients),
                    "-n", str(count), "-p", str(period), "-W", "2000000", "127.0.0.1", timeout=period + 30)


# --- fixtures ----------------------------------------------------------------------------------

def require_dhcp_tools() -> None:
    require_kea()
    require_netns()
    if shutil.which("perfdhcp") is None and not Path("/usr/sbin/perfdhcp").exists():
        unavailable("perfdhcp not installed (it comes with the kea-admin / kea-common packages)")


@pytest.fixture
def ns() -> Iterator[Namespace]:
    """A fresh network namespace that the test thread runs in (Kea, leasesync and perfdhcp too)."""
    require_dhcp_tools()
    with Namespace(addresses=["127.0.0.2/8", "127.0.0.3/8"]) as namespace, namespace.entered():
        yield namespace


@pytest.fixture
def ns6() -> Iterator[Namespace]:
    require_dhcp_tools()
    with Namespace(addresses=[], veth=("v6a", "v6b")) as namespace, namespace.entered():
        yield namespace


# --- 1. Kea primary, leasesync standby ----------------------------------------------------------

@pytest.mark.parametrize("threads", ["single-threaded", "multi-threaded"])
def test_kea_primary_leasesync_standby_receives_every_lease(ns: Namespace, spawn: Any, tmp_path: Path,
                                                           threads: str) -> None:
    # multi-threaded: Kea's HA sends its updates from client threads over several connections at
    # once and serves its peer url from its own dedicated listener (no control agent on that path)
    kea_port, ls_port = free_port(), free_port()
    peers = [peer("server1", kea_port, "primary"), peer("server2", ls_port, "standby")]
    mt = threads == "multi-threaded"
    ha_mt = {"multi-threading": {"enable-multi-threading": True, "http-dedicated-listener": True,
                                 "http-listener-threads": 2, "http-client-threads": 4}} if mt else {}
    kea_mt = {"multi-threading": {"enable-multi-threading": True, "thread-pool-size": 4,
                                  "packet-queue-size": 64}} if mt else None
    with kea4(kea_port, ha_lib("server1", "hot-standby", peers, **ha_mt), start_agent=not mt, extra=kea_mt) as kea:
        ls = spawn(leasesync_config(tmp_path, "server2", ls_port, ha_lib("server2", "hot-standby", peers)),
                   "server2")
        wait_pair(kea, ls, ["hot-standby", "hot-standby"])
        stats = dora(650, rate=150)
        assert stats["REQUEST-ACK"]["received packets"] >= 500, stats
        theirs = kea.leases()
        assert len(theirs) >= 500
        wait_for(lambda: len(dump(ls)) >= len(theirs), 20, what="leasesync to hold Kea's leases")
        assert dump(ls) == kea.leases()
        assert states(kea, ls) == ["hot-standby", "hot-standby"]
        assert metric(ls, "leasesync_commands_total", command="lease4-update") >= len(theirs)
        # releases: Kea sends lease4-del
        perfdhcp("-4", "-l", RELAY, "-L", "67", "-o", "82,1300", "-r", "40", "-F", "20", "-R", "60",
                 "-b", "mac=00:0c:01:02:03:04", "-p", "4", "-W", "2000000", "127.0.0.1")
        assert metric(ls, "leasesync_commands_total", command="lease4-del") > 0
        wait_for(lambda: dump(ls) == kea.leases(), 15, what="identical leases after releases")


# --- 2. leasesync primary, Kea standby (no DHCP traffic: HTTP only) ----------------------------

def admin_add(ls: ServerProcess, i: int, hostname: str = "") -> None:
    arguments = {"ip-address": f"10.10.{100 + i // 250}.{i % 250 + 1}", "hw-address": f"02:00:00:00:{i // 256:02x}:{i % 256:02x}",
                 "hostname": hostname or f"host{i}.example.org", "subnet-id": 1}
    answer = ls.command("lease4-add", "dhcp4", arguments)[0]
    assert answer["result"] == 0, answer


@pytest.mark.parametrize("endpoint", ["control-agent", "dedicated-listener"])
def test_leasesync_primary_kea_standby_syncs_and_receives_admin_leases(
        ns: Namespace, spawn: Any, tmp_path: Path, endpoint: str) -> None:
    kea_port, ls_port = free_port(), free_port()
    peers = [peer("server1", ls_port, "primary"), peer("server2", kea_port, "standby")]
    extra: dict[str, Any] = {}
    kea_extra: dict[str, Any] = {}
    if endpoint == "dedicated-listener":
        # Kea's own peer url is then served by kea-dhcp4 itself; no control agent on the HA path.
        extra = {"multi-threading": {"enable-multi-threading": True, "http-dedicated-listener": True,
                                     "http-listener-threads": 2, "http-client-threads": 2}}
        kea_extra = {"multi-threading": {"enable-multi-threading": True, "thread-pool-size": 2,
                                         "packet-queue-size": 64}}
    ls = spawn(leasesync_config(tmp_path, "server1", ls_port, ha_lib("server1", "hot-standby", peers, **extra)),
               "server1")
    for i in range(120):  # three pages of 50 for Kea's start-up sync
        admin_add(ls, i)
    # alone, the primary declares its partner down and serves
    wait_for(lambda: ha_state(ls) == "partner-down", 15, what="leasesync alone in partner-down")
    with kea4(kea_port, ha_lib("server2", "hot-standby", peers, **extra), interface=None,
              start_agent=endpoint == "control-agent", extra=kea_extra) as kea:
        wait_pair(kea, ls, ["hot-standby", "hot-standby"])
        assert "HA_SYNC_SUCCESSFUL" in kea.read_log()
        assert len(kea.leases()) == 120
        for i in range(120, 150):
            admin_add(ls, i)
        answer = ls.command("lease4-del", "dhcp4", {"ip-address": "10.10.100.1"})[0]
        assert answer["result"] == 0, answer
        wait_for(lambda: len(kea.leases()) == 149, 15, what="Kea to receive the administrator's changes")
        wait_for(lambda: kea.leases() == dump(ls), 10, what="identical leases")
        assert states(kea, ls) == ["hot-standby", "hot-standby"]


def test_kea_and_leasesync_talk_ha_over_mutual_tls(ns: Namespace, tmp_path: Path) -> None:
    # Kea 2.2's HA over HTTPS: each peer's url is https, the relationship's trust-anchor,
    # cert-file and key-file are the client side of its requests, and both HTTP servers (Kea's
    # control agent, leasesync) require a client certificate from the same CA.
    import ssl

    from tests.pki import Ca, TlsServer

    ca = Ca.create(tmp_path, "ha-ca")
    kea_cert, ls_cert = (ca.issue(tmp_path, name, server=True, client=True) for name in ("kea", "leasesync"))
    kea_port, ls_port = free_port(), free_port()
    peers = [{**peer("server1", kea_port, "primary"), "url": f"https://127.0.0.1:{kea_port}/"},
             {**peer("server2", ls_port, "standby"), "url": f"https://127.0.0.1:{ls_port}/"}]

    def tls(cert: tuple[Path, Path]) -> dict[str, Any]:
        return {"trust-anchor": str(ca.path), "cert-file": str(cert[0]), "key-file": str(cert[1])}

    probe = ssl.create_default_context(cafile=str(ca.path))
    probe.load_cert_chain(str(ls_cert[0]), str(ls_cert[1]))
    kea = KeaServer(4, SUBNET4, hooks_libraries=[ha_lib("server1", "hot-standby", peers, **tls(kea_cert))],
                    http_port=kea_port, interfaces=["lo/127.0.0.1"], dhcp_socket="udp", dhcp_port=67,
                    valid_lifetime=3600, name="kea-tls", agent_tls=probe,
                    agent_extra={**tls(kea_cert), "cert-required": True},
                    extra_config={"multi-threading": {"enable-multi-threading": False}})
    config = leasesync_config(tmp_path, "server2", ls_port, ha_lib("server2", "hot-standby", peers, **tls(ls_cert)))
    config["LeaseSync"].update({**tls(ls_cert), "cert-required": True})
    ls = TlsServer(config, tmp_path, "server2")
    ls.probe = probe
    with kea:
        ls.start()
        try:
            wait_pair(kea, ls, ["hot-standby", "hot-standby"])
            stats = dora(120, rate=100)
            assert stats["REQUEST-ACK"]["received packets"] >= 100, stats
            wait_for(lambda: dump(ls) == kea.leases(), 15, what="Kea's leases on leasesync, over TLS")
            for i in range(5):  # and back: leasesync's administrator changes reach Kea over TLS
                admin_add(ls, i)
            wait_for(lambda: dump(ls) == kea.leases(), 15, what="leasesync's leases on Kea, over TLS")
            assert len(kea.leases()) >= 105
            assert states(kea, ls) == ["hot-standby", "hot-standby"]
        finally:
            ls.stop()


def test_kea_and_leasesync_authenticate_to_each_other_with_restricted_peer_users(
        ns: Namespace, spawn: Any, tmp_path: Path) -> None:
    # Kea 2.2's basic authentication between HA peers: each peer entry's basic-auth-user and
    # -password are what the others send to that peer; Kea's control agent and leasesync each
    # accept their own peer user (and leasesync, with restrict-commands, only the HA commands
    # from it), and refuse anyone else.
    import httpx

    kea_port, ls_port = free_port(), free_port()
    peers = [{**peer("server1", kea_port, "primary"), "basic-auth-user": "to-kea", "basic-auth-password": "k-s3cret"},
             {**peer("server2", ls_port, "standby"), "basic-auth-user": "to-ls", "basic-auth-password": "l-s3cret"}]
    kea = KeaServer(4, SUBNET4, hooks_libraries=[ha_lib("server1", "hot-standby", peers)], http_port=kea_port,
                    interfaces=["lo/127.0.0.1"], dhcp_socket="udp", dhcp_port=67, valid_lifetime=3600,
                    name="kea-auth", agent_auth=("to-kea", "k-s3cret"),
                    agent_extra={"authentication": {"type": "basic", "realm": "kea-control-agent",
                                                    "clients": [{"user": "to-kea", "password": "k-s3cret"}]}},
                    extra_config={"multi-threading": {"enable-multi-threading": False}})
    config = leasesync_config(tmp_path, "server2", ls_port,
                              ha_lib("server2", "hot-standby", peers, **{"restrict-commands": True}))
    config["LeaseSync"]["authentication"] = {"type": "basic", "realm": "leasesync", "clients": [
        {"user": "to-ls", "password": "l-s3cret"}, {"user": "admin", "password": "a-s3cret"}]}
    with kea:
        ls = spawn(config, "server2")
        admin = httpx.Client(auth=("admin", "a-s3cret"), timeout=10)

        def ls_command(command: str, arguments: Any = None) -> Any:
            body = {"command": command, "service": ["dhcp4"], **({"arguments": arguments} if arguments else {})}
            return admin.post(ls.url, json=body).json()[0]

        def ls_now() -> tuple[str, list[dict[str, Any]]]:
            status = ls_command("status-get")["arguments"]["high-availability"][0]["ha-servers"]["local"]["state"]
            leases = sorted(ls_command("lease4-get-all").get("arguments", {}).get("leases", []),
                            key=lambda lease: lease["ip-address"])
            return str(status), leases

        wait_for(lambda: kea.ha_state() == "hot-standby" and ls_now()[0] == "hot-standby", 30,
                 what="both in hot-standby, authenticated")
        stats = dora(120, rate=100)
        assert stats["REQUEST-ACK"]["received packets"] >= 100, stats
        wait_for(lambda: ls_now()[1] == kea.leases(), 15, what="Kea's leases on leasesync")
        for i in range(5):
            answer = ls_command("lease4-add", {"ip-address": f"10.10.100.{i + 1}", "hw-address": f"02:00:00:00:00:{i:02x}"})
            assert answer["result"] == 0, answer
        wait_for(lambda: ls_now()[1] == kea.leases(), 15, what="leasesync's leases on Kea")
        # the peer user may not do an administrator's work; no credentials, no answer
        as_peer = httpx.post(ls.url, json={"command": "lease4-wipe", "service": ["dhcp4"]},
                             auth=("to-ls", "l-s3cret"), timeout=10)
        assert (as_peer.status_code, as_peer.json()) == (403, {"result": 403, "text": "Forbidden"})
        assert httpx.post(ls.url, json={"command": "list-commands"}, timeout=10).status_code == 401
        admin.close()


# --- 3. send-lease-updates false on both -------------------------------------------------------

@contextlib.contextmanager
def kea_pair_without_updates(spawn: Any, tmp_path: Path, exchanges: int) -> Iterator[tuple[KeaServer, ServerProcess]]:
    """Kea primary and leasesync standby with send-lease-updates false on both, in hot-standby,
    after `exchanges` DORA exchanges with Kea (three quarters of them answered at least)."""
    kea_port, ls_port = free_port(), free_port()
    peers = [peer("server1", kea_port, "primary"), peer("server2", ls_port, "standby")]
    off = {"send-lease-updates": False}
    with kea4(kea_port, ha_lib("server1", "hot-standby", peers, **off)) as kea:
        ls = spawn(leasesync_config(tmp_path, "server2", ls_port, ha_lib("server2", "hot-standby", peers, **off)),
                   "server2")
        wait_pair(kea, ls, ["hot-standby", "hot-standby"])
        stats = dora(exchanges, rate=100)
        assert stats["REQUEST-ACK"]["received packets"] >= exchanges * 3 // 4, stats
        yield kea, ls


def test_send_lease_updates_false_on_both_sends_no_update(ns: Namespace, spawn: Any, tmp_path: Path) -> None:
    with kea_pair_without_updates(spawn, tmp_path, 200) as (kea, ls):
        served = kea.leases()
        for i in range(10):  # leasesync's own changes are not sent either
            admin_add(ls, i)
        beats = metric(ls, "leasesync_commands_total", command="ha-heartbeat")
        wait_for(lambda: metric(ls, "leasesync_commands_total", command="ha-heartbeat") >= beats + 3, 10,
                 what="heartbeats to keep flowing")
        assert states(kea, ls) == ["hot-standby", "hot-standby"]
        for command in ("lease4-update", "lease4-del"):
            assert metric(ls, "leasesync_commands_total", command=command) == 0
        assert metric(ls, "leasesync_ha_lease_updates_sent_total") == 0
        assert kea.leases() == served  # nothing of leasesync's arrived
        assert addresses(dump(ls)).isdisjoint(addresses(served))
        assert "HA_CONFIG_LEASE_UPDATES_DISABLED" in kea.read_log()


def test_ha_sync_by_hand_both_ways_with_kea(ns: Namespace, spawn: Any, tmp_path: Path) -> None:
    # The operator's ha-sync: leasesync fetches Kea's leases (Kea disabled meanwhile and enabled
    # after), and Kea fetches leasesync's, each walking the other's lease4-get-page. No lease
    # updates flow (send-lease-updates false), so each side holds what only the sync brought.
    with kea_pair_without_updates(spawn, tmp_path, 160) as (kea, ls):
        assert addresses(kea.leases()).isdisjoint(addresses(dump(ls)))
        answer = ls.command("ha-sync", "dhcp4", {"server-name": "server1", "max-period": 30}, timeout=60)[0]
        assert answer == {"result": 0, "text": "Lease database synchronization complete."}
        assert dump(ls) == kea.leases()  # more than three of Kea's pages of 50
        for i in range(60):
            admin_add(ls, i)
        answer = kea.socket_command({"command": "ha-sync", "arguments": {"server-name": "server2"}}, timeout=60)
        assert answer == {"result": 0, "text": "Lease database synchronization complete."}
        assert kea.leases() == dump(ls)
        wait_pair(kea, ls, ["hot-standby", "hot-standby"])
        assert "HA_SYNC_SUCCESSFUL" in kea.read_log()


# --- 4. failover: Kea killed and restarted ------------------------------------------------------

def test_kea_killed_leasesync_takes_over_and_kea_resyncs(ns: Namespace, spawn: Any, tmp_path: Path) -> None:
    kea_port, ls_port = free_port(), free_port()
    peers = [peer("server1", kea_port, "primary"), peer("server2", ls_port, "standby")]
    hook = ha_lib("server1", "hot-standby", peers)
    ls = None
    with kea4(kea_port, hook) as kea:
        ls = spawn(leasesync_config(tmp_path, "server2", ls_port, ha_lib("server2", "hot-standby", peers)),
                   "server2")
        wait_pair(kea, ls, ["hot-standby", "hot-standby"])
        stats = dora(150, rate=100)
        assert stats["REQUEST-ACK"]["received packets"] >= 120, stats
        before = kea.leases()
        wait_for(lambda: dump(ls) == before, 15, what="leasesync to hold Kea's leases")
        killed = time.monotonic()
    # KeaServer.__exit__ killed kea-dhcp4 and its control agent (SIGTERM, then SIGKILL)
    assert ls is not None
    wait_for(lambda: ha_state(ls) == "partner-down", 15, interval=0.1, what="leasesync in partner-down")
    took = time.monotonic() - killed
    # Kea's rule with max-unacked-clients 0: partner-down once max-response-delay has passed since
    # the last successful contact; heartbeats go every heartbeat-delay.
    limit = (TIMING["max-response-delay"] + 2 * TIMING["heartbeat-delay"]) / 1000 + 1.0
    assert took <= limit, f"partner-down after {took:.1f} s (limit {limit:.1f} s)"
    for i in range(20):  # the standby serves alone meanwhile
        admin_add(ls, i)
    with kea4(kea_port, hook) as kea:  # empty memfile: must resync from leasesync
        wait_pair(kea, ls, ["hot-standby", "hot-standby"], timeout=40)
        assert "HA_SYNC_SUCCESSFUL" in kea.read_log()
        wait_for(lambda: kea.leases() == dump(ls), 15, what="identical leases")
        assert len(kea.leases()) == len(before) + 20


def test_leasesync_started_while_kea_was_down_fetches_kea_leases_when_kea_returns(
        ns: Namespace, spawn: Any, tmp_path: Path) -> None:
    # Kea (primary) handed out leases while leasesync was down, then went down itself before
    # leasesync, restarted, could sync: leasesync went to partner-down with a database that lacks
    # them. Kea comes back on its lease file and syncs from leasesync; Kea-Kea would now go to
    # hot-standby with the leases on Kea only (README, differences from Kea 2.2). leasesync
    # resyncs first.
    kea_port, ls_port = free_port(), free_port()
    peers = [peer("server1", kea_port, "primary"), peer("server2", ls_port, "standby")]
    hook = ha_lib("server1", "hot-standby", peers)
    lease_file = tmp_path / "kea-leases4.csv"
    with kea4(kea_port, hook, lease_file=lease_file) as kea:
        wait_for(lambda: kea.ha_state() == "partner-down", 20, interval=0.2, what="Kea alone in partner-down")
        stats = dora(60, rate=100)  # no updates sent: leasesync is not there
        assert stats["REQUEST-ACK"]["received packets"] >= 50, stats
        handed_out = addresses(kea.leases())
    ls = spawn(leasesync_config(tmp_path, "server2", ls_port, ha_lib("server2", "hot-standby", peers)), "server2")
    wait_for(lambda: ha_state(ls) == "partner-down", 20, interval=0.2, what="leasesync in partner-down")
    for i in range(5):  # served alone meanwhile
        admin_add(ls, i)
    with kea4(kea_port, hook, lease_file=lease_file) as kea:
        wait_pair(kea, ls, ["hot-standby", "hot-standby"], timeout=40)
        assert handed_out <= addresses(dump(ls))
        wait_for(lambda: kea.leases() == dump(ls), 15, what="identical leases")
        assert "we have not synced with it since we started: resync" in ls.log_path.read_text()


def test_two_kea_servers_leave_a_standby_that_went_partner_down_at_start_without_the_primarys_lease(
        ns: Namespace, tmp_path: Path) -> None:
    # The oracle behind the test above and README's "Partner-down straight from start-up": Kea
    # 2.2 itself does not fetch the returning primary's leases here. If a Kea release starts
    # doing so, this fails, and the README's difference from Kea is out of date.
    primary_port, standby_port = free_port(), free_port()
    peers = [peer("server1", primary_port, "primary"), peer("server2", standby_port, "standby")]
    lease_file = tmp_path / "primary-leases4.csv"
    with kea4(primary_port, ha_lib("server1", "hot-standby", peers), lease_file=lease_file) as primary:
        answer = primary.socket_command({"command": "lease4-add", "arguments": {
            "ip-address": "10.10.0.50", "hw-address": "00:01:02:03:04:05"}})
        assert answer["result"] == 0, answer
    standby_hook = ha_lib("server2", "hot-standby", peers)
    with kea4(standby_port, standby_hook, interface=None, name="kea-standby",
              lease_file=tmp_path / "standby-leases4.csv") as standby:
        wait_for(lambda: standby.ha_state() == "partner-down", 20, interval=0.2, what="the standby in partner-down")
        with kea4(primary_port, ha_lib("server1", "hot-standby", peers), lease_file=lease_file) as primary:
            wait_for(lambda: [primary.ha_state(), standby.ha_state()] == ["hot-standby", "hot-standby"], 40,
                     interval=0.2, what="both Kea servers in hot-standby")
            assert addresses(primary.leases()) == {"10.10.0.50"}
            assert addresses(standby.leases()) == set()
            assert "from PARTNER-DOWN to HOT-STANDBY" in standby.read_log()


# --- 5. load-balancing --------------------------------------------------------------------------

def kea_remote(kea: KeaServer) -> dict[str, Any]:
    answer = kea.socket_command({"command": "status-get"})
    return dict(answer["arguments"]["high-availability"][0]["ha-servers"]["remote"])


def test_load_balancing_with_kea(ns: Namespace, spawn: Any, tmp_path: Path) -> None:
    kea_port, ls_port = free_port(), free_port()
    peers = [peer("server1", kea_port, "primary"), peer("server2", ls_port, "secondary")]
    with kea4(kea_port, ha_lib("server1", "load-balancing", peers)) as kea:
        ls = spawn(leasesync_config(tmp_path, "server2", ls_port, ha_lib("server2", "load-balancing", peers)),
                   "server2")
        wait_pair(kea, ls, ["load-balancing", "load-balancing"])
        # Kea answers only the clients of its own scope (about half)
        half = dora(200, rate=100)["REQUEST-ACK"]["received packets"]
        assert 40 <= half <= 160, half
        for i in range(10):  # leasesync → Kea
            admin_add(ls, i)
        wait_for(lambda: kea.leases() == dump(ls), 15, what="updates both ways")
        assert len(kea.leases()) == half + 10

        # ha-scopes on Kea: it serves both scopes, so every client gets an answer
        answer = kea.socket_command({"command": "ha-scopes", "arguments": {"scopes": ["server1", "server2"]}})
        assert answer["result"] == 0, answer
        full = dora(100, rate=100)["REQUEST-ACK"]["received packets"]
        assert full >= 95, full
        answer = kea.socket_command({"command": "ha-scopes", "arguments": {"scopes": ["server1"]}})
        assert answer["result"] == 0, answer
        # ha-scopes on leasesync: Kea sees the new scopes in leasesync's heartbeats
        answer = ls.command("ha-scopes", "dhcp4", {"scopes": ["server1", "server2"]})[0]
        assert answer["result"] == 0, answer
        wait_for(lambda: kea_remote(kea).get("last-scopes") == ["server1", "server2"], 10,
                 what=f"Kea to see leasesync's scopes: {kea_remote(kea)}")
        answer = ls.command("ha-scopes", "dhcp4", {"scopes": ["server2"]})[0]
        assert answer["result"] == 0, answer
        wait_for(lambda: kea_remote(kea).get("last-scopes") == ["server2"], 10, what="scopes back")
        wait_for(lambda: kea.leases() == dump(ls), 15, what="identical leases")

        # maintenance started on Kea: leasesync goes in-maintenance
        answer = kea.socket_command({"command": "ha-maintenance-start"})
        assert answer["result"] == 0, answer
        wait_pair(kea, ls, ["partner-in-maintenance", "in-maintenance"], timeout=10)
        answer = kea.socket_command({"command": "ha-maintenance-cancel"})
        assert answer["result"] == 0, answer
        wait_pair(kea, ls, ["load-balancing", "load-balancing"], timeout=15)
        # and the other way round
        answer = ls.command("ha-maintenance-start", "dhcp4")[0]
        assert answer["result"] == 0, answer
        wait_pair(kea, ls, ["in-maintenance", "partner-in-maintenance"], timeout=10)
        admin_add(ls, 50)  # a server in partner-in-maintenance still sends its updates
        wait_for(lambda: "10.10.100.51" in addresses(kea.leases()), 10, what="update during maintenance")
        answer = ls.command("ha-maintenance-cancel", "dhcp4")[0]
        assert answer["result"] == 0, answer
        wait_pair(kea, ls, ["load-balancing", "load-balancing"], timeout=15)
        wait_for(lambda: kea.leases() == dump(ls), 15, what="identical leases at the end")


# --- 6. leasesync as a backup ------------------------------------------------------------------

def test_leasesync_as_backup_of_a_kea_hot_standby_pair(ns: Namespace, spawn: Any, tmp_path: Path) -> None:
    p1, p2, p3 = free_port(), free_port(), free_port()
    peers = [peer("server1", p1, "primary"), peer("server2", p2, "standby"), peer("server3", p3, "backup")]
    with kea4(p1, ha_lib("server1", "hot-standby", peers), name="kea1") as kea1, \
         kea4(p2, ha_lib("server2", "hot-standby", peers), interface=None, name="kea2") as kea2:
        ls = spawn(leasesync_config(tmp_path, "server3", p3, ha_lib("server3", "hot-standby", peers)), "server3")
        wait_for(lambda: [kea1.ha_state(), kea2.ha_state(), ha_state(ls)] == ["hot-standby", "hot-standby", "backup"],
                 30, what="kea1, kea2 in hot-standby, leasesync in backup")
        stats = dora(200, rate=100)
        assert stats["REQUEST-ACK"]["received packets"] >= 150, stats
        wait_for(lambda: dump(ls) == kea1.leases(), 15, what="the backup to hold the primary's leases")
        assert kea2.leases() == kea1.leases()
        assert metric(ls, "leasesync_commands_total", command="ha-heartbeat") == 0  # a backup gets none
        assert ha_state(ls) == "backup"


def test_leasesync_as_backup_of_a_passive_backup_kea(ns: Namespace, spawn: Any, tmp_path: Path) -> None:
    kea_port, ls_port = free_port(), free_port()
    peers = [peer("server1", kea_port, "primary"), peer("server2", ls_port, "backup")]
    extra = {"wait-backup-ack": True}  # each ACK waits for leasesync's answer
    with kea4(kea_port, ha_lib("server1", "passive-backup", peers, **extra)) as kea:
        ls = spawn(leasesync_config(tmp_path, "server2", ls_port, ha_lib("server2", "passive-backup", peers,
                                                                            **extra)), "server2")
        wait_pair(kea, ls, ["passive-backup", "backup"], timeout=15)
        stats = dora(200, rate=100)
        assert stats["REQUEST-ACK"]["received packets"] >= 150, stats
        wait_for(lambda: dump(ls) == kea.leases(), 15, what="the backup to hold the primary's leases")
        assert len(dump(ls)) >= 150


# --- 7. DHCPv6 ------------------------------------------------------------------------------------

def test_dhcp6_pair_bulk_apply_both_ways(ns6: Namespace, spawn: Any, tmp_path: Path) -> None:
    kea_port, ls_port = free_port(), free_port()
    peers = [peer("server1", kea_port, "primary"), peer("server2", ls_port, "standby")]
    with KeaServer(6, SUBNET6, hooks_libraries=[ha_lib("server1", "hot-standby", peers)], http_port=kea_port,
                   interfaces=["v6a"], dhcp_port=547, name="kea6",
                   extra_config={"multi-threading": {"enable-multi-threading": False}}) as kea:
        ls = spawn(leasesync_config(tmp_path, "server2", ls_port, ha_lib("server2", "hot-standby", peers), family=6),
                   "server2")
        wait_pair(kea, ls, ["hot-standby", "hot-standby"], service="dhcp6")
        stats = perfdhcp("-6", "-l", "v6b", "-r", "50", "-R", "100000", "-n", "150", "-p", "15", "-W", "2000000",
                         timeout=60)
        assert stats["REQUEST-REPLY"]["received packets"] >= 100, stats
        wait_for(lambda: dump(ls, 6) == kea.leases(), 15, what="Kea's v6 leases on leasesync")
        assert metric(ls, "leasesync_commands_total", command="lease6-bulk-apply") >= 100
        # leasesync → Kea: an administrator's lease6-add goes out as lease6-bulk-apply
        for i in range(5):
            answer = ls.command("lease6-add", "dhcp6", {
                "ip-address": f"2001:db8:1::a:{i + 1}", "duid": f"00:03:00:01:02:00:00:00:00:{i:02x}",
                "iaid": 1000 + i, "subnet-id": 1, "hostname": f"v6-{i}.example.org"})[0]
            assert answer["result"] == 0, answer
        wait_for(lambda: {f"2001:db8:1::a:{i + 1}" for i in range(5)} <= addresses(kea.leases()), 15,
                 what="leasesync's v6 leases on Kea")
        wait_for(lambda: dump(ls, 6) == kea.leases(), 15, what="identical v6 leases")
        assert states(kea, ls, "dhcp6") == ["hot-standby", "hot-standby"]
