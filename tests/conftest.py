"""Shared fixtures: real databases (SQLite, PostgreSQL, MariaDB), in-process and real-process servers.

Database and Kea tests skip with a reason when the service is missing — except under CI
(`CI=true`), where a skip of them is a failure, so a green CI run proves they ran.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import closing, contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest

from app.config import parse_config
from app.main import build_app, build_runtime
from tests.fake_peer import FakePeer
from tests.kea_harness import SPEC_SUBNETS4 as SUBNETS4  # noqa: F401 - re-exported to the tests
from tests.kea_harness import SPEC_SUBNETS6 as SUBNETS6  # noqa: F401
from tests.kea_harness import unavailable  # noqa: F401 - the skip-or-fail-under-CI policy

PG_DSN = os.environ.get("LEASESYNC_TEST_PG", "postgresql://postgres@127.0.0.1:5432/postgres")
MYSQL_HOST = os.environ.get("LEASESYNC_TEST_MYSQL_HOST", "127.0.0.1")
REPO_ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with closing(socket.socket(socket.AF_INET, socket.SOCK_STREAM)) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


# --- databases ------------------------------------------------------------------------------

def _pg_admin() -> Any:
    import psycopg

    try:
        return psycopg.connect(PG_DSN, autocommit=True, connect_timeout=3)
    except psycopg.OperationalError as exc:
        unavailable(f"PostgreSQL not reachable at {PG_DSN}: {exc}")


def _mysql_admin() -> Any:
    import pymysql

    try:
        return pymysql.connect(host=MYSQL_HOST, user="root", password="", autocommit=True, connect_timeout=3)
    except pymysql.err.OperationalError as exc:
        unavailable(f"MariaDB/MySQL not reachable at {MYSQL_HOST}:3306: {exc}")


def make_database(kind: str, tmp_path: Path) -> tuple[dict[str, Any], Any]:
    """Create an empty lease database; return its Kea `lease-database` map and a drop callback."""
    name = f"ls_test_{uuid.uuid4().hex[:10]}"
    if kind == "sqlite":
        return {"type": "sqlite", "name": str(tmp_path / f"{name}.db")}, lambda: None
    if kind == "postgresql":
        admin = _pg_admin()
        admin.execute(f'CREATE DATABASE "{name}"')

        def drop_pg() -> None:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            admin.close()

        return {"type": "postgresql", "name": name, "host": "127.0.0.1", "user": "postgres"}, drop_pg
    admin = _mysql_admin()
    with admin.cursor() as cur:
        cur.execute(f"CREATE DATABASE `{name}`")

    def drop_mysql() -> None:
        with admin.cursor() as cur:
            cur.execute(f"DROP DATABASE IF EXISTS `{name}`")
        admin.close()

    return {"type": "mysql", "name": name, "host": "127.0.0.1", "user": "root"}, drop_mysql


# where Debian, Red Hat and upstream builds put the database servers' unix sockets
PG_SOCKET_DIRS = ("/var/run/postgresql", "/run/postgresql", "/tmp")
MYSQL_SOCKETS = ("/run/mysqld/mysqld.sock", "/var/run/mysqld/mysqld.sock", "/var/lib/mysql/mysql.sock",
                 "/tmp/mysql.sock")


def database_socket(kind: str) -> str | None:
    """The local server's unix socket as a `lease-database` host: PostgreSQL's socket directory,
    MySQL/MariaDB's socket file; None when there is none."""
    if kind == "postgresql":
        return next((d for d in PG_SOCKET_DIRS if os.path.exists(os.path.join(d, ".s.PGSQL.5432"))), None)
    return next((path for path in MYSQL_SOCKETS if os.path.exists(path)), None)


# the databases Kea itself can share with leasesync
SHARED_KINDS = [pytest.param("postgresql", marks=pytest.mark.postgres), pytest.param("mysql", marks=pytest.mark.mysql)]


@pytest.fixture(params=["sqlite", *SHARED_KINDS])
def lease_database(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[dict[str, Any]]:
    """A fresh lease database of each kind in turn."""
    db, drop = make_database(request.param, tmp_path)
    yield db
    drop()


@pytest.fixture
def sqlite_database(tmp_path: Path) -> dict[str, Any]:
    return make_database("sqlite", tmp_path)[0]


@pytest.fixture
def pg_database(tmp_path: Path) -> Iterator[dict[str, Any]]:
    """A fresh PostgreSQL lease database (for tests of PostgreSQL's own paths)."""
    db, drop = make_database("postgresql", tmp_path)
    yield db
    drop()


@pytest.fixture(params=SHARED_KINDS)
def shared_database(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[dict[str, Any]]:
    """A fresh lease database of each kind that Kea itself can share (PostgreSQL, MariaDB)."""
    db, drop = make_database(request.param, tmp_path)
    yield db
    drop()


def kea_insert4(conn: Any, address: int, subnet_id: int = 1) -> None:
    """A lease4 row written as Kea writes it: plain SQL on a connection that is not leasesync's."""
    from sqlalchemy import text

    conn.execute(text("INSERT INTO lease4 (address, valid_lifetime, expire, subnet_id, fqdn_fwd, fqdn_rev, state) "
                      "VALUES (:address, 4000, now(), :subnet_id, false, false, 0)"),
                 {"address": address, "subnet_id": subnet_id})


@contextmanager
def lease_table_held(engine: Any, table: str) -> Iterator[None]:
    """Another client's open transaction that has read and written `table` (an administrator's
    psql session, a report, a backup): it holds the table until the block ends. Its write changes
    no row."""
    from sqlalchemy import text

    with engine.connect() as conn:
        transaction = conn.begin()
        conn.execute(text(f"SELECT count(*) FROM {table}"))
        conn.execute(text(f"UPDATE {table} SET state = state WHERE 1 = 0"))
        try:
            yield
        finally:
            transaction.rollback()


def service_config(db: dict[str, Any], *, port: int = 8000, extra_agent: dict[str, Any] | None = None,
                   dhcp4_extra: dict[str, Any] | None = None, dhcp6_extra: dict[str, Any] | None = None,
                   dhcp6: bool = True) -> dict[str, Any]:
    """The Kea-shaped configuration the tests run with (subnets as in the spec's examples)."""
    config: dict[str, Any] = {
        "LeaseSync": {"http-host": "127.0.0.1", "http-port": port, **(extra_agent or {})},
        "Dhcp4": {"lease-database": db, "valid-lifetime": 4000, "subnet4": SUBNETS4, **(dhcp4_extra or {})},
    }
    if dhcp6:
        config["Dhcp6"] = {"lease-database": db, "preferred-lifetime": 3000, "valid-lifetime": 4000,
                           "subnet6": SUBNETS6, **(dhcp6_extra or {})}
    return config


# --- in-process service -------------------------------------------------------------------

class KeaClient:
    """Sends Kea envelopes to a leasesync app (in-process or over the network)."""

    def __init__(self, http: httpx.AsyncClient, runtime: Any = None) -> None:
        self.http = http
        self.runtime = runtime

    async def command(self, command: str, service: str | list[str] | None = None, arguments: Any = None,
                      **extra: Any) -> Any:
        body: dict[str, Any] = {"command": command, **extra}
        if service is not None:
            body["service"] = [service] if isinstance(service, str) else service
        if arguments is not None:
            body["arguments"] = arguments
        response = await self.http.post("/", json=body)
        return response.json()

    async def one(self, command: str, service: str | None = None, arguments: Any = None) -> dict[str, Any]:
        answers = await self.command(command, service, arguments)
        assert isinstance(answers, list) and len(answers) == 1, answers
        return answers[0]

    async def raw(self, content: bytes, headers: dict[str, str] | None = None, method: str = "POST") -> httpx.Response:
        return await self.http.request(method, "/", content=content, headers=headers or {})


# --- store-level helpers -------------------------------------------------------------------

def v4_lease(address: str, hostname: str = "", state: int = 0) -> Any:
    """A Lease4 in subnet 1 for tests that write to the store directly."""
    import ipaddress

    from app.store.leases import Lease4

    return Lease4(address=int(ipaddress.IPv4Address(address)), hwaddr=b"\x01\x02\x03\x04\x05\x06", client_id=None,
                  valid_lft=4000, cltt=1_700_000_000, subnet_id=1, hostname=hostname, state=state)


def lease_store(client: KeaClient) -> Any:
    """The in-process service's v4 LeaseStore."""
    from app.store.repository import LeaseStore

    store = client.runtime.families[4].store
    assert isinstance(store, LeaseStore)
    return store


@pytest.fixture
async def make_client(tmp_path: Path) -> AsyncIterator[Any]:
    """Factory: an in-process leasesync on a given config, driven over ASGI."""
    runtimes: list[Any] = []

    async def make(config: dict[str, Any]) -> KeaClient:
        runtime = build_runtime(parse_config(config, tmp_path / "leasesync.json"))
        await runtime.start()
        runtimes.append(runtime)
        transport = httpx.ASGITransport(app=build_app(runtime), client=("127.0.0.1", 40000))
        http = httpx.AsyncClient(transport=transport, base_url="http://leasesync")
        return KeaClient(http, runtime)

    yield make
    for runtime in runtimes:
        await runtime.stop()


@pytest.fixture
async def fake_peer() -> AsyncIterator[Callable[..., Any]]:
    """Factory: a FakePeer (tests/fake_peer.py) listening on loopback, answering with `behave`."""
    servers: list[asyncio.Server] = []

    async def start(behave: Callable[[FakePeer, asyncio.StreamWriter, bytes], object]) -> FakePeer:
        peer = FakePeer(behave)
        server = await asyncio.start_server(peer.serve, "127.0.0.1", 0)
        servers.append(server)
        peer.port = server.sockets[0].getsockname()[1]
        return peer

    yield start
    for server in servers:
        server.close()


@pytest.fixture
async def client(make_client: Any, lease_database: dict[str, Any]) -> KeaClient:
    """leasesync on each database kind, with the spec's example subnets."""
    return await make_client(service_config(lease_database))


@pytest.fixture
async def sqlite_client(make_client: Any, sqlite_database: dict[str, Any]) -> KeaClient:
    return await make_client(service_config(sqlite_database))


# --- real processes -------------------------------------------------------------------------

class ServerProcess:
    """A real `leasesync serve` process on its own port and config file."""

    def __init__(self, config: dict[str, Any], workdir: Path, name: str = "leasesync") -> None:
        self.config = config
        self.workdir = workdir
        self.name = name
        self.port = int(config["LeaseSync"]["http-port"])
        self.config_path = workdir / f"{name}.json"
        self.log_path = workdir / f"{name}.log"
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/"

    @property
    def verify(self) -> Any:
        """What command() checks the server's certificate with (a TLS server overrides it)."""
        return True

    def start(self, wait: float = 20.0, *, text: str | None = None) -> ServerProcess:
        """Start on `self.config`, or on the configuration file text given."""
        self.config_path.write_text(json.dumps(self.config, indent=2) if text is None else text)
        log = open(self.log_path, "ab")  # noqa: SIM115 - kept open for the child's lifetime
        # run this checkout's code, whatever copy of leasesync is installed
        env = {**os.environ, "PYTHONPATH": str(REPO_ROOT)}
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "app.cli", "serve", "-c", str(self.config_path)],
            stdout=log, stderr=subprocess.STDOUT, cwd=self.workdir, start_new_session=True, env=env,
        )
        deadline = time.monotonic() + wait
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"{self.name} exited at start-up:\n{self.log_path.read_text()[-3000:]}")
            try:
                if httpx.get(self.url + "healthz", timeout=1, verify=self.verify).status_code == 200:
                    return self
            except httpx.HTTPError:
                time.sleep(0.1)
        raise RuntimeError(f"{self.name} did not start in {wait} s:\n{self.log_path.read_text()[-3000:]}")

    def command(self, command: str, service: str | None = None, arguments: Any = None, timeout: float = 10) -> Any:
        body: dict[str, Any] = {"command": command}
        if service:
            body["service"] = [service]
        if arguments is not None:
            body["arguments"] = arguments
        return httpx.post(self.url, json=body, timeout=timeout, verify=self.verify).json()

    def signal(self, sig: int) -> None:
        if self.proc and self.proc.poll() is None:
            os.killpg(self.proc.pid, sig)

    def kill(self) -> None:
        self.signal(signal.SIGKILL)
        if self.proc:
            self.proc.wait(timeout=10)

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.signal(signal.SIGCONT)
            self.signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.kill()


@pytest.fixture
def spawn(tmp_path: Path) -> Iterator[Any]:
    """Factory for real leasesync processes; all are stopped at the end, also on failure."""
    procs: list[ServerProcess] = []

    def start(config: dict[str, Any], name: str = "leasesync") -> ServerProcess:
        proc = ServerProcess(config, tmp_path, name)
        procs.append(proc)
        return proc.start()

    yield start
    for proc in procs:
        proc.stop()


# one administrator (admin / s3cret), for the tests that drive a real process with credentials
ADMIN_AUTH = {"authentication": {"type": "basic", "realm": "leasesync",
                                 "clients": [{"user": "admin", "password": "s3cret"}]}}


@pytest.fixture
def server(spawn: Any, sqlite_database: dict[str, Any]) -> ServerProcess:
    """A real `leasesync serve` on SQLite with the spec's subnets."""
    return spawn(service_config(sqlite_database, port=free_port()))


@pytest.fixture
def auth_server(spawn: Any, sqlite_database: dict[str, Any]) -> ServerProcess:
    """The same, with basic authentication (ADMIN_AUTH)."""
    return spawn(service_config(sqlite_database, port=free_port(), extra_agent=ADMIN_AUTH))
