"""Two sites, each a real leasesync on its own database, with `send-lease-updates: false`: leases
reach the partner site through database replication alone (tests/replication_harness.py)."""

from __future__ import annotations

import json
import shutil
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from app.config import parse_config
from tests.conftest import SHARED_KINDS, ServerProcess, make_database, service_config, unavailable
from tests.ha_helpers import ha_state, metric, wait_for, wait_states
from tests.kea_harness import HA_HOOK, free_port
from tests.replication_harness import replicated_pair, tools_missing

APPEAR_WITHIN = 15.0  # seconds a replicated lease may take to show at B
ABSENT_FOR = 3.0  # seconds a lease must stay invisible at B while replication is paused


def ha_hooks(this: str, ports: dict[str, int]) -> list[dict[str, Any]]:
    """libdhcp_ha.so in database-replication mode: no lease updates, no lease syncing."""
    peers = [{"name": "site-a", "url": f"http://127.0.0.1:{ports['site-a']}/", "role": "primary"},
             {"name": "site-b", "url": f"http://127.0.0.1:{ports['site-b']}/", "role": "standby"}]
    return [{"library": str(HA_HOOK), "parameters": {"high-availability": [{
        "this-server-name": this, "mode": "hot-standby", "send-lease-updates": False, "sync-leases": False,
        "heartbeat-delay": 1000, "max-response-delay": 5000, "peers": peers}]}}]


def site_config(lease_database: dict[str, Any], this: str, ports: dict[str, int]) -> dict[str, Any]:
    return service_config(lease_database, port=ports[this], dhcp6=False,
                          dhcp4_extra={"hooks-libraries": ha_hooks(this, ports)})


class Sites:
    def __init__(self, a: ServerProcess, b: ServerProcess, replication: Any) -> None:
        self.a, self.b, self.replication = a, b, replication


@pytest.fixture(params=SHARED_KINDS)
def sites(request: pytest.FixtureRequest, spawn: Any) -> Iterator[Sites]:
    missing = tools_missing(request.param)
    if missing:
        unavailable(missing)
    ports = {"site-a": free_port(), "site-b": free_port()}
    with replicated_pair(request.param) as (db_a, db_b, replication):
        a = spawn(site_config(db_a.lease_database(), "site-a", ports), name="site-a")
        b = spawn(site_config(db_b.lease_database(), "site-b", ports), name="site-b")
        yield Sites(a, b, replication)
        # the spawn fixture stops both processes after this; the databases go with the `with`
        a.stop()
        b.stop()


def add(site: ServerProcess, address: str) -> None:
    answer = site.command("lease4-add", "dhcp4", {"ip-address": address, "hw-address": "1a:1b:1c:1d:1e:1f",
                                                  "hostname": "replicated.example.org"})
    assert answer[0]["result"] == 0, answer


def visible(site: ServerProcess, address: str) -> dict[str, Any] | None:
    answer = site.command("lease4-get", "dhcp4", {"ip-address": address})[0]
    assert answer["result"] in (0, 3), answer
    return answer.get("arguments") if answer["result"] == 0 else None


def wait_visible(site: ServerProcess, address: str, timeout: float = APPEAR_WITHIN) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        lease = visible(site, address)
        if lease is not None:
            return lease
        time.sleep(0.1)
    pytest.fail(f"{address} did not appear at {site.name} within {timeout} s")


@pytest.mark.slow
def test_lease_written_at_a_appears_at_b(sites: Sites) -> None:
    add(sites.a, "192.0.2.100")
    lease = wait_visible(sites.b, "192.0.2.100")
    assert (lease["hw-address"], lease["hostname"]) == ("1a:1b:1c:1d:1e:1f", "replicated.example.org")


@pytest.mark.slow
def test_paused_replication_keeps_the_lease_from_b(sites: Sites) -> None:
    """With replication paused nothing else carries the lease: send-lease-updates is false."""
    add(sites.a, "192.0.2.101")
    wait_visible(sites.b, "192.0.2.101")  # replication works ...
    sites.replication.pause()
    add(sites.a, "192.0.2.102")
    deadline = time.monotonic() + ABSENT_FOR
    while time.monotonic() < deadline:
        assert visible(sites.b, "192.0.2.102") is None, "the lease reached B with replication paused"
        time.sleep(0.2)


@pytest.mark.slow
def test_resumed_replication_catches_up(sites: Sites) -> None:
    sites.replication.pause()
    add(sites.a, "192.0.2.103")
    sites.replication.resume()
    wait_visible(sites.b, "192.0.2.103")


@pytest.mark.slow
def test_ha_pair_runs_without_lease_updates(sites: Sites) -> None:
    """The HA relationship is up (hot-standby on both) while no lease update crosses HTTP."""
    wait_states([sites.a, sites.b], ["hot-standby", "hot-standby"])
    add(sites.a, "192.0.2.104")
    wait_visible(sites.b, "192.0.2.104")
    assert metric(sites.b, "leasesync_commands_total", command="lease4-update") == 0


def replication_report(site: ServerProcess) -> dict[str, Any]:
    status = site.command("status-get", "dhcp4")[0]["arguments"]["high-availability"][0]
    return dict(status["leasesync"]["replication"])


@pytest.mark.slow
def test_stopped_replication_shows_as_divergence_in_status_and_metrics(sites: Sites) -> None:
    wait_states([sites.a, sites.b], ["hot-standby", "hot-standby"])
    sites.replication.pause()
    add(sites.a, "192.0.2.105")
    report = wait_for(lambda: (r := replication_report(sites.a))["diverged"] >= 1 and r, 30,
                      what="site A to report the lease site B lacks")
    assert report["oldest-missing"]["ip-address"] == "192.0.2.105"
    wait_for(lambda: metric(sites.a, "leasesync_replication_diverged_leases") >= 1, 15,
             what="the divergence metric")
    sites.replication.resume()
    wait_for(lambda: replication_report(sites.a)["diverged"] == 0, 30, what="the divergence to clear")
    assert replication_report(sites.a)["lag-max"] is not None


@pytest.mark.slow
def test_failover_still_works_with_updates_off(sites: Sites) -> None:
    wait_states([sites.a, sites.b], ["hot-standby", "hot-standby"])
    sites.b.kill()
    wait_for(lambda: ha_state(sites.a) == "partner-down", 20, what="site A to take over (partner-down)")
    add(sites.a, "192.0.2.106")  # served alone; the database carries the lease to B's site
    sites.b.start()
    wait_states([sites.a, sites.b], ["hot-standby", "hot-standby"], timeout=40)
    wait_visible(sites.b, "192.0.2.106")


# --- docker-compose.yml and its topology as plain processes ----------------------------------

ROOT = Path(__file__).resolve().parent.parent
COMPOSE = ROOT / "docker-compose.yml"


def compose() -> dict[str, Any]:
    return dict(yaml.safe_load(COMPOSE.read_text()))


def leasesync_services() -> dict[str, Path]:
    """leasesync service name → the example config file mounted as its leasesync.json."""
    out = {}
    for name, service in compose()["services"].items():
        if "leasesync" not in " ".join(service.get("command", [])):
            continue
        mount = next(v for v in service["volumes"] if v.endswith(":/etc/leasesync/leasesync.json:ro"))
        out[name] = ROOT / mount.split(":", 1)[0]
    return out


def test_compose_file_defines_an_ha_pair_with_postgresql() -> None:
    services = compose()["services"]
    assert set(leasesync_services()) == {"leasesync-a", "leasesync-b"}
    for name, config_path in leasesync_services().items():
        config = json.loads(config_path.read_text())
        host = config["Dhcp4"]["lease-database"]["host"]
        assert services[host]["image"].startswith("postgres:")
        assert host in services[name]["depends_on"]


@pytest.mark.parametrize("example", sorted(p.name for p in (ROOT / "examples").glob("*.json")))
def test_example_config_is_valid(example: str, tmp_path: Path) -> None:
    config = json.loads((ROOT / "examples" / example).read_text())
    if "LeaseSync" in config:
        parse_config(config, tmp_path / example)
        return
    if shutil.which("kea-dhcp4") is None:
        unavailable("kea-dhcp4 is not installed (needed to check the Kea example)")
    check = subprocess.run(["kea-dhcp4", "-t", str(ROOT / "examples" / example)], capture_output=True, timeout=30)
    assert check.returncode == 0, check.stdout.decode()[-2000:]


def test_docker_compose_accepts_the_file() -> None:
    docker = shutil.which("docker")
    if docker is None or subprocess.run([docker, "compose", "version"], capture_output=True, timeout=30).returncode:
        pytest.skip("docker compose is not available")  # optional tooling: not required under CI
    check = subprocess.run([docker, "compose", "-f", str(COMPOSE), "config", "-q"], capture_output=True, timeout=60)
    assert check.returncode == 0, check.stderr.decode()


@pytest.mark.postgres
@pytest.mark.slow
def test_compose_topology_as_processes(spawn: Any, tmp_path: Path) -> None:
    """The compose pair with loopback ports and fresh databases: a lease added at A reaches B."""
    ports = {name: free_port() for name in leasesync_services()}
    servers: list[ServerProcess] = []
    drops: list[Any] = []
    try:
        for name, config_path in leasesync_services().items():
            config = json.loads(config_path.read_text())
            db, drop = make_database("postgresql", tmp_path)
            drops.append(drop)
            config["Dhcp4"]["lease-database"] = db
            config["LeaseSync"].update({"http-host": "127.0.0.1", "http-port": ports[name]})
            ha = config["Dhcp4"]["hooks-libraries"][0]["parameters"]["high-availability"][0]
            ha.update({"heartbeat-delay": 1000, "max-response-delay": 5000})  # timers only: a faster test
            for peer in ha["peers"]:
                peer["url"] = f"http://127.0.0.1:{ports[peer['name']]}/"
            servers.append(spawn(config, name=name))
        wait_states(servers, ["hot-standby", "hot-standby"])
        add(servers[0], "192.0.2.20")
        wait_visible(servers[1], "192.0.2.20")
    finally:
        for server in servers:
            server.stop()
        for drop in drops:
            drop()
