"""HTTP front-end processes (LeaseSync.http-workers): the edge and lease reads in more processes,
every other command in the main process.

The first tests run a front-end's app in this process against a main process's runtime over the
real unix-socket link (deterministic: we choose which side gets each request); the last ones run
`leasesync serve` with front-ends as real processes.
"""

from __future__ import annotations

import asyncio
import os
import signal
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from app.api.frontends import READY, FrontendApp, OwnerEnd
from app.config import parse_config
from app.main import build_app, build_runtime
from tests.conftest import KeaClient, service_config

LEASE = {"ip-address": "192.0.2.77", "hw-address": "1a:1b:1c:1d:1e:1f"}


@dataclass
class Pair:
    main: KeaClient  # the main process's own HTTP edge
    front: KeaClient  # a front-end's HTTP edge, linked to the main process
    link: OwnerEnd  # the main process's end of the front-end's link
    frontend: FrontendApp
    lost: asyncio.Event  # set when the front-end learns the main process closed the link


async def _pair(tmp_path: Path, config: dict[str, Any]) -> AsyncIterator[Pair]:
    parsed = parse_config(config, tmp_path / "leasesync.json")
    runtime = build_runtime(parsed)
    await runtime.start()
    main_app = build_app(runtime)
    links: list[OwnerEnd] = []

    def hello(pid: int, end: OwnerEnd) -> None:
        end.send_frame(0, READY)  # the main process has started: the front-end may accept

    def accept() -> OwnerEnd:
        links.append(OwnerEnd(main_app, hello))
        return links[-1]

    path = str(tmp_path / "main.sock")
    server = await asyncio.get_running_loop().create_unix_server(accept, path)
    lost = asyncio.Event()
    frontend = FrontendApp(parse_config(config, tmp_path / "leasesync.json"), path, lost.set)
    await frontend.start()  # returns once the main process said READY
    main_http = httpx.AsyncClient(transport=httpx.ASGITransport(app=main_app, client=("127.0.0.1", 40000)),
                                  base_url="http://leasesync")
    front_http = httpx.AsyncClient(transport=httpx.ASGITransport(app=frontend, client=("127.0.0.1", 40001)),
                                   base_url="http://leasesync")
    try:
        yield Pair(KeaClient(main_http, runtime), KeaClient(front_http), links[0], frontend, lost)
    finally:
        await frontend.stop()
        server.close()
        await runtime.stop()


@pytest.fixture
async def pair(tmp_path: Path, lease_database: dict[str, Any]) -> AsyncIterator[Pair]:
    async for made in _pair(tmp_path, service_config(lease_database)):
        yield made


@pytest.fixture
async def sqlite_pair(tmp_path: Path, sqlite_database: dict[str, Any]) -> AsyncIterator[Pair]:
    async for made in _pair(tmp_path, service_config(sqlite_database)):
        yield made


async def test_front_end_answers_a_lease_read_itself_from_the_database(pair: Pair) -> None:
    assert (await pair.main.one("lease4-add", "dhcp4", LEASE))["result"] == 0
    found = await pair.front.one("lease4-get", "dhcp4", {"ip-address": "192.0.2.77"})
    assert found["result"] == 0 and found["arguments"]["hw-address"] == "1a:1b:1c:1d:1e:1f"
    assert pair.link.commands_run == 0


async def test_front_end_read_answers_exactly_as_the_main_process(pair: Pair) -> None:
    await pair.main.one("lease4-add", "dhcp4", LEASE)
    for request in ({"ip-address": "192.0.2.77"}, {"ip-address": "192.0.2.78"}, {"identifier-type": "hw-address"}):
        assert await pair.front.command("lease4-get", ["dhcp4"], request) == \
            await pair.main.command("lease4-get", ["dhcp4"], request)
    assert await pair.front.command("lease4-get-all") == await pair.main.command("lease4-get-all")
    assert pair.link.commands_run == 0


async def test_front_end_hands_a_lease_write_to_the_main_process(pair: Pair) -> None:
    added = await pair.front.one("lease4-add", "dhcp4", LEASE)
    assert added == {"result": 0, "text": "Lease for address 192.0.2.77, subnet-id 1 added."}
    assert pair.link.commands_run == 1
    assert (await pair.main.one("lease4-get", "dhcp4", {"ip-address": "192.0.2.77"}))["result"] == 0


async def test_front_end_reads_what_the_main_process_committed_for_it(pair: Pair) -> None:
    await pair.front.one("lease4-add", "dhcp4", LEASE)
    await pair.front.one("lease4-update", "dhcp4", {**LEASE, "hostname": "renamed"})
    found = await pair.front.one("lease4-get", "dhcp4", {"ip-address": "192.0.2.77"})
    assert found["arguments"]["hostname"] == "renamed"


async def test_front_end_hands_over_a_read_for_a_service_it_does_not_run(sqlite_pair: Pair) -> None:
    answers = await sqlite_pair.front.command("lease4-get", ["dhcp4", "d2"], {"ip-address": "192.0.2.77"})
    assert answers == await sqlite_pair.main.command("lease4-get", ["dhcp4", "d2"], {"ip-address": "192.0.2.77"})
    assert answers[1]["text"] == "forwarding socket is not configured for the server type d2"
    assert sqlite_pair.link.commands_run == 1


async def test_front_end_hands_over_agent_and_state_commands(sqlite_pair: Pair) -> None:
    await sqlite_pair.front.one("dhcp-disable", "dhcp4")
    status = await sqlite_pair.main.one("status-get", "dhcp4")
    assert status["arguments"]["pid"] == os.getpid()
    assert not sqlite_pair.main.runtime.families[4].dhcp.enabled  # the state lives in the main process


async def test_front_end_edge_errors_are_the_main_process_edge_errors(sqlite_pair: Pair) -> None:
    for body in (b"{not json", b'{"command": "lease4-get", "arguments": {"x": 1}} trailing'):
        front = await sqlite_pair.front.raw(body, {"Content-Type": "application/json"})
        main = await sqlite_pair.main.raw(body, {"Content-Type": "application/json"})
        assert (front.status_code, front.content) == (main.status_code, main.content)
    assert sqlite_pair.link.commands_run == 0


async def test_front_end_passes_metrics_through_from_the_main_process(sqlite_pair: Pair) -> None:
    await sqlite_pair.front.one("lease4-add", "dhcp4", LEASE)
    response = await sqlite_pair.front.http.get("/metrics")
    assert response.status_code == 200
    assert 'leasesync_commands_total{command="lease4-add",result="0"} 1.0' in response.text


async def test_front_end_reports_the_reads_it_answered_to_the_main_process_metrics(sqlite_pair: Pair) -> None:
    for _ in range(3):
        await sqlite_pair.front.one("lease4-get", "dhcp4", {"ip-address": "192.0.2.9"})
    sqlite_pair.frontend.relay.flush()
    await sqlite_pair.front.one("list-commands")  # handed over after the metrics frame: the link keeps order
    text = (await sqlite_pair.main.http.get("/metrics")).text
    assert 'leasesync_commands_total{command="lease4-get",result="3"} 3.0' in text


async def test_front_end_answers_an_error_when_the_main_process_is_gone(sqlite_pair: Pair) -> None:
    assert sqlite_pair.link.transport is not None
    sqlite_pair.link.transport.close()
    await asyncio.wait_for(sqlite_pair.lost.wait(), 5)  # the front-end is told to stop
    answer = await sqlite_pair.front.one("lease4-add", "dhcp4", LEASE)
    assert answer["result"] == 1 and "main process is not reachable" in answer["text"]
    assert (await sqlite_pair.front.http.get("/healthz")).status_code == 503


async def test_front_end_checks_credentials_and_the_main_process_counts_failures(tmp_path: Path,
                                                                                sqlite_database: dict[str, Any]) -> None:
    auth = {"authentication": {"type": "basic", "realm": "kea", "clients": [{"user": "admin", "password": "s3cret"}]}}
    async for made in _pair(tmp_path, service_config(sqlite_database, extra_agent=auth)):
        refused = await made.front.http.post("/", json={"command": "list-commands"}, auth=("admin", "wrong"))
        assert refused.status_code == 401
        assert refused.headers["WWW-Authenticate"] == 'Basic realm="kea"'
        # handed over after the failure's counter tick: the link keeps order
        accepted = await made.front.http.post("/", json={"command": "list-commands"}, auth=("admin", "s3cret"))
        assert accepted.status_code == 200 and accepted.json()[0]["result"] == 0
        assert made.main.runtime.metrics.auth_failures._value.get() == 1


async def test_front_end_asks_credentials_for_metrics_before_passing_the_scrape_on(
        tmp_path: Path, sqlite_database: dict[str, Any]) -> None:
    auth = {"authentication": {"type": "basic", "realm": "kea", "clients": [{"user": "admin", "password": "s3cret"}]}}
    async for made in _pair(tmp_path, service_config(sqlite_database, extra_agent=auth)):
        assert (await made.front.http.get("/metrics")).status_code == 401
        scrape = await made.front.http.get("/metrics", auth=("admin", "s3cret"))
        assert scrape.status_code == 200 and "leasesync_auth_failures_total 1.0" in scrape.text


def test_http_workers_out_of_range_is_refused_naming_the_key(sqlite_database: dict[str, Any], tmp_path: Path) -> None:
    from app.errors import ConfigError

    with pytest.raises(ConfigError) as refused:
        parse_config(service_config(sqlite_database, extra_agent={"http-workers": 65}), tmp_path / "x.json")
    assert "http-workers" in str(refused.value)


# --- real processes --------------------------------------------------------------------------

def _children(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                found.append(int(entry.name))
    return sorted(found)


def _wait(predicate: Any, seconds: float = 15.0) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.05)
    return False


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    stat = Path(f"/proc/{pid}/stat").read_text() if Path(f"/proc/{pid}/stat").exists() else ""
    return bool(stat) and stat.rsplit(")", 1)[1].split()[0] != "Z"


@pytest.fixture
def workers_server(spawn: Any, sqlite_database: dict[str, Any]) -> Any:
    from tests.conftest import free_port

    return spawn(service_config(sqlite_database, port=free_port(), extra_agent={"http-workers": 2}))


def test_serve_with_http_workers_runs_that_many_front_end_processes(workers_server: Any) -> None:
    children = _children(workers_server.proc.pid)
    assert len(children) == 2
    for pid in children:
        assert b"frontend" in Path(f"/proc/{pid}/cmdline").read_bytes()


def test_every_connection_sees_the_leases_written_through_any_other(workers_server: Any) -> None:
    # a new connection each time: the kernel hands connections to all three processes
    for n in range(1, 31):
        address = f"192.0.2.{n}"
        with httpx.Client() as http:
            added = http.post(workers_server.url, json={"command": "lease4-add", "service": ["dhcp4"],
                                                        "arguments": {"ip-address": address, "hw-address": "1a:1b:1c:1d:1e:1f"}})
        assert added.json()[0]["result"] == 0, added.text
        with httpx.Client() as http:
            found = http.post(workers_server.url, json={"command": "lease4-get", "service": ["dhcp4"],
                                                        "arguments": {"ip-address": address}})
        assert found.json()[0]["arguments"]["ip-address"] == address


def test_shutdown_command_stops_the_main_process_and_its_front_ends(workers_server: Any) -> None:
    children = _children(workers_server.proc.pid)
    assert workers_server.command("shutdown")[0]["result"] == 0
    workers_server.proc.wait(timeout=30)
    assert _wait(lambda: not any(_alive(pid) for pid in children))


def test_sigterm_to_the_main_process_stops_its_front_ends_too(workers_server: Any) -> None:
    children = _children(workers_server.proc.pid)
    os.kill(workers_server.proc.pid, signal.SIGTERM)  # the main process only, not the group
    workers_server.proc.wait(timeout=30)
    assert _wait(lambda: not any(_alive(pid) for pid in children))


def test_front_ends_accept_only_once_the_service_has_started(tmp_path: Path, sqlite_database: dict[str, Any]) -> None:
    # a front-end that answered /healthz before the main process had finished starting would
    # report ready a service that may still fail (here: its HA config is fine, but the main
    # process waits for every front-end's HELLO first)
    from tests.conftest import ServerProcess, free_port

    server = ServerProcess(service_config(sqlite_database, port=free_port(), extra_agent={"http-workers": 2}), tmp_path)
    try:
        server.start()
        assert "front-end process(es) started" in server.log_path.read_text()
    finally:
        server.stop()


def test_a_front_end_that_dies_is_replaced(workers_server: Any) -> None:
    victim = _children(workers_server.proc.pid)[0]
    os.kill(victim, signal.SIGKILL)
    assert _wait(lambda: len(_children(workers_server.proc.pid)) == 2 and victim not in _children(workers_server.proc.pid))
    assert workers_server.command("lease4-get", "dhcp4", {"ip-address": "192.0.2.1"})[0]["result"] == 3
    assert "exited with status -9; starting another" in workers_server.log_path.read_text()


def test_the_link_to_the_main_process_is_reachable_by_its_user_only(workers_server: Any) -> None:
    # commands on the link are already authenticated: nobody else may connect to it
    args = Path(f"/proc/{_children(workers_server.proc.pid)[0]}/cmdline").read_bytes().split(b"\0")
    socket_path = Path(args[args.index(b"--main-socket") + 1].decode())
    assert socket_path.is_socket()
    directory = socket_path.parent.stat()
    assert directory.st_mode & 0o777 == 0o700 and directory.st_uid == os.getuid()
