"""How leasesync reaches its lease database: the password from a file (Kea 3.3's
`password-file`: the first line of the file, instead of `password`, never both), a password with
characters a URL reserves, a server at an IPv6 address, retry-on-startup; and how it lets go of
one: a server that stops acknowledging (tcp-user-timeout), or that still accepts but no longer
answers (MySQL's read-timeout, PostgreSQL's stall guard); PostgreSQL behind pgbouncer."""

from __future__ import annotations

import asyncio
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from app.config import parse_config
from app.errors import ConfigError, DatabaseOpenError
from app.main import build_runtime
from app.store.stall_guard import StallGuard
from tests.conftest import _mysql_admin, free_port, lease_store, make_database, service_config
from tests.ha_helpers import wait_for
from tests.private_db import Pgbouncer, PrivateCluster, PrivateMariaDB, running_mariadb

LEASE = {"ip-address": "192.0.2.20", "hw-address": "1a:1b:1c:1d:1e:1f"}
PASSWORD = "c0rrect horse+b@ttery:st/aple"  # a space and what a URL reserves


@pytest.fixture
def mysql_account(tmp_path: Path) -> Iterator[dict[str, Any]]:
    """A fresh MariaDB database and an account with a password that may use only it."""
    db, drop = make_database("mysql", tmp_path)
    user = f"ls_pw_{uuid.uuid4().hex[:8]}"
    admin = _mysql_admin()
    with admin.cursor() as cursor:
        for host in ("localhost", "%"):
            cursor.execute(f"CREATE USER '{user}'@'{host}' IDENTIFIED BY '{PASSWORD}'")
            cursor.execute(f"GRANT ALL ON `{db['name']}`.* TO '{user}'@'{host}'")
    try:
        yield {**db, "user": user}
    finally:
        with admin.cursor() as cursor:
            for host in ("localhost", "%"):
                cursor.execute(f"DROP USER IF EXISTS '{user}'@'{host}'")
        admin.close()
        drop()


def secret_file(tmp_path: Path, text: str) -> str:
    path = tmp_path / "db-password"
    path.write_text(text)
    path.chmod(0o600)
    return str(path)


@pytest.mark.mysql
async def test_the_password_is_the_first_line_of_the_password_file(
        make_client: Any, tmp_path: Path, mysql_account: dict[str, Any]) -> None:
    db = {**mysql_account, "password-file": secret_file(tmp_path, PASSWORD + "\nnot part of it\n")}
    client = await make_client(service_config(db, dhcp6=False))

    added = await client.one("lease4-add", "dhcp4", LEASE)

    assert added["result"] == 0
    shown = (await client.one("config-get", "dhcp4"))["arguments"]["Dhcp4"]["lease-database"]
    assert shown["password-file"] == db["password-file"] and PASSWORD not in str(shown)


@pytest.mark.mysql
def test_a_wrong_password_in_the_file_stops_start_up_naming_the_database(
        tmp_path: Path, mysql_account: dict[str, Any]) -> None:
    db = {**mysql_account, "password-file": secret_file(tmp_path, "wrong\n")}

    with pytest.raises(DatabaseOpenError, match=r"Access denied") as failed:
        build_runtime(parse_config(service_config(db, dhcp6=False)))

    assert f"mysql+pymysql://{db['user']}:*****@" in str(failed.value) and "wrong" not in str(failed.value)


def test_password_and_password_file_together_fail_start_up(tmp_path: Path) -> None:
    db = {"type": "postgresql", "name": "kea", "password": "x", "password-file": secret_file(tmp_path, "y")}
    with pytest.raises(ConfigError) as caught:
        parse_config({"Dhcp4": {"lease-database": db}})
    assert str(caught.value) == \
        "Dhcp4.lease-database.password-file: can't specify both 'password' and 'password-file'"


def test_a_password_file_that_cannot_be_read_fails_start_up_naming_the_key(tmp_path: Path) -> None:
    missing = tmp_path / "nowhere"
    with pytest.raises(ConfigError) as caught:
        parse_config({"Dhcp4": {"lease-database": {"type": "mysql", "name": "kea", "password-file": str(missing)}}})
    assert str(caught.value) == \
        f"Dhcp4.lease-database.password-file: cannot read secret file '{missing}': No such file or directory"


@pytest.mark.postgres
async def test_a_database_server_at_an_ipv6_address_is_reached(make_client: Any) -> None:
    cluster = PrivateCluster()
    try:
        cluster.start(listen="::1")
        cluster.admin_sql("CREATE DATABASE leasesync")
        db = {"type": "postgresql", "name": "leasesync", "host": "::1", "port": cluster.port, "user": "postgres"}
        client = await make_client(service_config(db, dhcp6=False))

        added = await client.one("lease4-add", "dhcp4", LEASE)
        found = await client.one("lease4-get", "dhcp4", {"ip-address": "192.0.2.20"})

        assert added["result"] == 0 and found["result"] == 0
        assert cluster.admin_sql("SELECT count(*) FROM pg_stat_activity WHERE client_addr = '::1'") != [(0,)]
    finally:
        cluster.destroy()


# --- retry-on-startup (Kea 2.6), max-reconnect-tries, reconnect-wait-time, on-fail ---------------

def lease_database(**keys: Any) -> Any:
    config = parse_config({"Dhcp4": {"lease-database": {"type": "postgresql", "name": "kea", **keys}}})
    assert config.dhcp4 is not None
    return config.dhcp4.lease_database


@pytest.mark.parametrize(("keys", "retries"), [
    ({}, 0),
    ({"max-reconnect-tries": 5, "reconnect-wait-time": 1000}, 0),  # Kea: without retry-on-startup, fatal
    ({"retry-on-startup": True, "max-reconnect-tries": 5, "reconnect-wait-time": 1000}, 5),
    ({"retry-on-startup": True, "max-reconnect-tries": 5}, 0),  # Kea: a wait of 0 disables reconnecting
    ({"retry-on-startup": True, "reconnect-wait-time": 1000, "on-fail": "serve-retry-continue"}, None),
])
def test_retry_on_startup_takes_kea_s_reconnect_parameters(keys: dict[str, Any], retries: int | None) -> None:
    assert lease_database(**keys).startup_retries() == retries


def test_an_unknown_on_fail_action_fails_start_up_in_kea_s_words() -> None:
    with pytest.raises(ConfigError) as caught:
        lease_database(**{"on-fail": "retry-forever"})
    assert str(caught.value) == "Dhcp4.lease-database.on-fail: Invalid action on connection loss: retry-forever"


@pytest.mark.postgres
def test_a_database_that_stays_away_is_tried_again_then_start_up_fails(caplog: pytest.LogCaptureFixture) -> None:
    from app.config import DatabaseConfig
    from app.store.migrate import open_and_upgrade
    from app.store.repository import make_engine

    db = DatabaseConfig(type="postgresql", name="kea", host="127.0.0.1", port=free_port(), user="postgres")
    engine = make_engine(db)
    waits: list[float] = []
    try:
        with pytest.raises(DatabaseOpenError, match="Connection refused"):
            open_and_upgrade(engine, db.redacted_url(), retries=3, wait=0.25, sleep=waits.append)
    finally:
        engine.dispose()

    assert waits == [0.25, 0.25, 0.25]
    assert [r.getMessage().rsplit("(", 1)[1] for r in caplog.records if "retry-on-startup" in r.getMessage()] == \
        ["1 of 3)", "2 of 3)", "3 of 3)"]


@pytest.mark.postgres
def test_serve_started_before_its_database_waits_for_it_with_retry_on_startup(spawn: Any, tmp_path: Path) -> None:
    cluster = PrivateCluster()
    try:
        cluster.start()
        cluster.admin_sql("CREATE DATABASE leasesync")
        cluster.stop()
        db = {"type": "postgresql", "name": "leasesync", "host": "127.0.0.1", "port": cluster.port,
              "user": "postgres", "connect-timeout": 2, "retry-on-startup": True, "max-reconnect-tries": 100,
              "reconnect-wait-time": 200}
        log = tmp_path / "leasesync.log"  # where spawn's process writes

        def start_once_retrying() -> None:  # the database comes up only after leasesync found it down
            deadline = time.monotonic() + 30
            while time.monotonic() < deadline and "retry-on-startup" not in (log.read_text() if log.exists() else ""):
                time.sleep(0.05)
            cluster.start()

        starting = threading.Thread(target=start_once_retrying)
        starting.start()
        try:
            server = spawn(service_config(db, port=free_port(), dhcp6=False))
        finally:
            starting.join()

        added = server.command("lease4-add", "dhcp4", LEASE)
        assert added[0]["result"] == 0
        assert "retry-on-startup: trying again in 0.2 s (1 of 100)" in server.log_path.read_text()
    finally:
        cluster.destroy()


# --- tcp-user-timeout (PostgreSQL): a server that vanishes without a reset ----------------------

def _socket_user_timeout(store: Any) -> int:
    import os
    import socket

    with store.engine.connect() as conn:  # the writers' and readers' pool
        fd = conn.connection.dbapi_connection.pgconn.socket
        sock = socket.socket(fileno=os.dup(fd))
        try:
            return int(sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_USER_TIMEOUT))
        finally:
            sock.close()


@pytest.mark.postgres
@pytest.mark.parametrize(("keys", "milliseconds"), [
    ({"query-timeout": 3}, 3000),  # by default: sent data unacknowledged for query-timeout ends it
    ({"query-timeout": 3, "tcp-user-timeout": 7}, 7000),  # Kea's key, in seconds
    ({"tcp-user-timeout": "5"}, 5000),  # as Kea 2.2's control channel types it
])
async def test_postgresql_connections_give_up_on_a_server_that_stops_acknowledging(
        make_client: Any, pg_database: dict[str, Any], keys: dict[str, Any], milliseconds: int) -> None:
    # A failover behind a virtual address leaves the old connections waiting for TCP to give up
    # (about 15 minutes on Linux) unless the socket says otherwise. This sandbox cannot drop one
    # connection's packets (no tc qdiscs), so the test reads the option the kernel was given.
    client = await make_client(service_config({**pg_database, **keys}, dhcp6=False))
    assert (await client.one("lease4-add", "dhcp4", LEASE))["result"] == 0

    assert _socket_user_timeout(lease_store(client)) == milliseconds


def test_a_tcp_user_timeout_that_is_not_a_number_of_seconds_fails_start_up() -> None:
    with pytest.raises(ConfigError) as caught:
        lease_database(**{"tcp-user-timeout": "soon"})
    assert str(caught.value) == "Dhcp4.lease-database.tcp-user-timeout: 'tcp-user-timeout' must be a number of " \
                                "seconds, not 'soon'"


# --- read-timeout / write-timeout (MySQL): a server that stops answering -------------------------

def _mysql_socket_timeouts(store: Any) -> tuple[float, float]:
    with store.engine.connect() as conn:  # the writers' and readers' pool
        driver = conn.connection.dbapi_connection
        return driver._read_timeout, driver._write_timeout


@pytest.fixture
def mysql_database(tmp_path: Path) -> Iterator[dict[str, Any]]:
    db, drop = make_database("mysql", tmp_path)
    yield db
    drop()


@pytest.mark.mysql
@pytest.mark.parametrize(("keys", "timeouts"), [
    ({"query-timeout": 3}, (3, 3)),  # by default: one read or write of the socket waits query-timeout at most
    ({"query-timeout": 3, "read-timeout": 7, "write-timeout": 8}, (7, 8)),  # Kea's keys, in seconds
    ({"query-timeout": 3, "read-timeout": "5"}, (5, 3)),  # as Kea 2.2's control channel types it
])
async def test_mysql_connections_read_and_write_within_kea_s_timeouts(
        make_client: Any, mysql_database: dict[str, Any], keys: dict[str, Any], timeouts: tuple[int, int]) -> None:
    client = await make_client(service_config({**mysql_database, **keys}, dhcp6=False))
    assert (await client.one("lease4-add", "dhcp4", LEASE))["result"] == 0

    assert _mysql_socket_timeouts(lease_store(client)) == timeouts


@pytest.fixture
def hanging_mariadb() -> Iterator[PrivateMariaDB]:
    yield from running_mariadb()


@pytest.mark.mysql
async def test_a_mysql_server_that_stops_answering_gives_the_writer_back_after_the_read_timeout(
        make_client: Any, hanging_mariadb: PrivateMariaDB) -> None:
    # A server hung on its disk still accepts and acknowledges, so TCP never gives up on it: only
    # the driver's read timeout (Kea's read-timeout, 1 s here) returns the writer. With the
    # request's own query-timeout at 60 s, an answer within 30 s comes from the read timeout.
    db = {"type": "mysql", "name": "leasesync", "host": "127.0.0.1", "port": hanging_mariadb.port,
          "user": "leasesync", "connect-timeout": 2, "query-timeout": 60, "read-timeout": 1}
    client = await make_client(service_config(db, dhcp6=False))
    assert (await client.one("lease4-add", "dhcp4", LEASE))["result"] == 0

    hanging_mariadb.pause()
    try:
        failed = await asyncio.wait_for(
            client.one("lease4-add", "dhcp4", {"ip-address": "192.0.2.21", "hw-address": "1a:1b:1c:1d:1e:20"}), 30)
    finally:
        hanging_mariadb.resume()

    assert failed["result"] == 1
    assert "nothing was changed" in failed["text"]
    added = await client.one("lease4-add", "dhcp4", {"ip-address": "192.0.2.22", "hw-address": "1a:1b:1c:1d:1e:21"})
    assert added["result"] == 0  # the writer reconnected once the server answered again
    assert (await client.one("lease4-get", "dhcp4", {"ip-address": "192.0.2.21"}))["result"] == 3  # nothing half-written


@pytest.mark.parametrize(("db_type", "key", "backend"), [
    ("postgresql", "read-timeout", "mysql"), ("sqlite", "write-timeout", "mysql"),
    ("mysql", "tcp-user-timeout", "postgresql"),
])
def test_a_timeout_of_another_backend_s_driver_is_ignored_and_says_so(
        caplog: pytest.LogCaptureFixture, db_type: str, key: str, backend: str) -> None:
    # Kea 2.4 and later refuse it; Kea 2.2's control channel takes it, and a SQLite store has none
    database = lease_database(type=db_type, **{key: 5})

    assert (database.tcp_user_timeout, database.read_timeout, database.write_timeout) == (None, None, None)
    assert f"Dhcp4.lease-database.{key} is only used with {backend}, not {db_type}: ignored" in caplog.text


def test_a_read_timeout_beyond_kea_s_range_fails_start_up() -> None:
    with pytest.raises(ConfigError) as caught:
        lease_database(type="mysql", **{"read-timeout": 4294967296})
    assert str(caught.value) == "Dhcp4.lease-database.read-timeout: out of range value (4294967296) specified for " \
                                "parameter 'read-timeout'"


# --- a PostgreSQL connection that stops answering (a hung server, or a proxy in front of one) ----

class FreezingProxy:
    """A TCP relay to a database server that can freeze: from then on its connections stay open
    and acknowledged and nothing passes either way (pgbouncer or HAProxy in front of a server hung
    on its disk). After `fail_over` it relays new connections again (to the new primary) and
    keeps the frozen ones open, as a proxy that leaves the old primary's sessions behind."""

    def __init__(self, upstream: tuple[str, int]) -> None:
        import socket

        self.upstream = upstream
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.frozen: set[int] = set()  # ids of the connection pairs that pass nothing any more
        self.freezing = False  # new connections are frozen from the start
        self.pairs: dict[int, tuple[Any, Any]] = {}
        self.lock = threading.Lock()
        self.ids = iter(range(1 << 30))
        threading.Thread(target=self._accept, daemon=True).start()

    def freeze(self) -> int:
        with self.lock:
            self.freezing = True
            self.frozen.update(self.pairs)
            return len(self.pairs)

    def fail_over(self) -> None:
        with self.lock:
            self.freezing = False

    def close(self) -> None:
        self.listener.close()
        with self.lock:
            for pair in self.pairs.values():
                for sock in pair:
                    sock.close()

    def _accept(self) -> None:
        import socket

        while True:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            server = socket.create_connection(self.upstream)
            with self.lock:
                pair_id = next(self.ids)
                self.pairs[pair_id] = (client, server)
                if self.freezing:
                    self.frozen.add(pair_id)
            for source, target in ((client, server), (server, client)):
                threading.Thread(target=self._relay, args=(pair_id, source, target), daemon=True).start()

    def _relay(self, pair_id: int, source: Any, target: Any) -> None:
        while True:
            try:
                data = source.recv(65536)
                if not data:
                    break
                if pair_id in self.frozen:
                    continue  # read and swallowed: acknowledged, never answered
                target.sendall(data)
            except OSError:
                break
        if pair_id not in self.frozen:
            for sock in (source, target):
                try:
                    sock.shutdown(2)
                except OSError:
                    pass


@pytest.fixture
def freezing_proxy() -> Iterator[FreezingProxy]:
    proxy = FreezingProxy(("127.0.0.1", 5432))
    yield proxy
    proxy.close()


async def eventually(client: Any, command: str, arguments: dict[str, Any], seconds: float = 15) -> dict[str, Any]:
    """The first answer of `command` that is not an error, or the last error after `seconds`."""
    deadline = time.monotonic() + seconds
    while True:
        answer: dict[str, Any] = await client.one(command, "dhcp4", arguments)
        if answer["result"] != 1 or time.monotonic() > deadline:
            return answer
        await asyncio.sleep(0.5)


@pytest.mark.postgres
async def test_writes_resume_after_a_postgresql_connection_that_stops_answering_is_given_up(
        make_client: Any, pg_database: dict[str, Any], freezing_proxy: FreezingProxy) -> None:
    # tcp_user_timeout cannot see this (the proxy acknowledges): without the stall guard the
    # writer would wait on its frozen connection for ever, and every later write behind it
    db = {**pg_database, "port": freezing_proxy.port, "query-timeout": 1, "connect-timeout": 1}
    client = await make_client(service_config(db, dhcp6=False))
    assert (await client.one("lease4-add", "dhcp4", LEASE))["result"] == 0
    assert freezing_proxy.freeze() > 0

    failed = await client.one("lease4-add", "dhcp4", {"ip-address": "192.0.2.21", "hw-address": "1a:1b:1c:1d:1e:20"})
    assert failed["result"] == 1
    freezing_proxy.fail_over()

    # the guard gives each frozen connection up at query-timeout + 2 s; the writers and the
    # readers connect again (a reader thread's own connection fails one read first)
    added = await eventually(client, "lease4-add", {"ip-address": "192.0.2.22", "hw-address": "1a:1b:1c:1d:1e:21"})
    assert added["result"] == 0, added
    got = await eventually(client, "lease4-get-all", {"subnets": [1]})
    assert got["result"] == 0, got
    store = lease_store(client)
    assert store.stall_guard is not None and store.stall_guard.shut_connections >= 1
    metrics = (await client.http.get("/metrics")).text
    assert f'leasesync_store_stalled_connections_total{{database="{store.config.redacted_url()}"}} ' \
           f'{float(store.stall_guard.shut_connections)}' in metrics
    assert {lease["ip-address"] for lease in got["arguments"]["leases"]} >= {"192.0.2.20", "192.0.2.22"}


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def guarded_engine(freezing_proxy: FreezingProxy) -> Iterator[tuple[Any, StallGuard, FakeClock]]:
    from sqlalchemy import create_engine

    clock = FakeClock()
    engine = create_engine(f"postgresql+psycopg://postgres@127.0.0.1:{freezing_proxy.port}/postgres",
                           pool_pre_ping=True, connect_args={"connect_timeout": 2})
    guard = StallGuard(5.0, clock=clock)
    guard.install(engine)
    yield engine, guard, clock
    engine.dispose()


@pytest.mark.postgres
def test_the_stall_guard_shuts_a_connection_only_once_its_operation_has_outlived_the_bound(
        guarded_engine: tuple[Any, StallGuard, FakeClock]) -> None:
    from sqlalchemy import text
    from sqlalchemy.exc import OperationalError

    engine, guard, clock = guarded_engine
    with engine.connect() as conn:
        with guard.watching(conn, "read"):
            clock.now += 4.9
            assert guard.check() == 0
            assert conn.execute(text("SELECT 1")).scalar() == 1  # within the bound: untouched
            clock.now += 0.2
            assert guard.check() == 1
            with pytest.raises(OperationalError):
                conn.execute(text("SELECT 1"))  # the wait on the server ends with an error
        assert guard.check() == 0  # once only
    assert guard.shut_connections == 1
    with engine.connect() as conn:  # the pool opens a new connection in its place
        assert conn.execute(text("SELECT 2")).scalar() == 2


@pytest.mark.postgres
def test_the_pools_check_of_a_pooled_connection_is_bounded_too(
        guarded_engine: tuple[Any, StallGuard, FakeClock], freezing_proxy: FreezingProxy) -> None:
    from sqlalchemy import text

    engine, guard, clock = guarded_engine
    with engine.connect() as conn:
        conn.execute(text("SELECT 1"))  # now in the pool, checked (pre-ping) at its next checkout
    freezing_proxy.freeze()
    checked_out: list[Any] = []
    worker = threading.Thread(target=lambda: checked_out.append(engine.connect()), daemon=True)
    worker.start()
    wait_for(lambda: guard._watched, 10, interval=0.01, what="the pre-ping to wait on the frozen connection")
    freezing_proxy.fail_over()
    clock.now += 6
    assert guard.check() == 1
    worker.join(timeout=10)

    assert checked_out, "the checkout still waits on the frozen connection"
    assert checked_out[0].execute(text("SELECT 3")).scalar() == 3  # a new connection, from after the failover
    checked_out[0].close()


# --- PostgreSQL behind pgbouncer ------------------------------------------------------------------

@pytest.fixture(params=[("session", 20), ("transaction", 2)], ids=["session", "transaction"])
def pgbouncer(request: pytest.FixtureRequest) -> Iterator[Pgbouncer]:
    # session mode holds a server connection per client connection: a pool as large as what
    # leasesync opens (writers, readers, lookups); transaction mode shares two among them all
    bouncer = Pgbouncer(*request.param)
    yield bouncer
    bouncer.destroy()


@pytest.mark.postgres
async def test_lease_commands_work_through_pgbouncer_with_clients_sharing_server_connections(
        make_client: Any, pg_database: dict[str, Any], pgbouncer: Pgbouncer) -> None:
    # in transaction mode each query may run on a server connection other than the one its
    # asyncpg connection prepared the statement on
    client = await make_client(service_config({**pg_database, "port": pgbouncer.port}, dhcp6=False))

    async def one_client(number: int) -> list[int]:
        address, mac = f"192.0.2.{20 + number}", f"1a:1b:1c:1d:1e:{number:02x}"
        results = []
        for command, arguments in [("lease4-add", {"ip-address": address, "hw-address": mac}),
                                   ("lease4-get", {"ip-address": address}),
                                   ("lease4-update", {"ip-address": address, "hw-address": mac, "hostname": "h"}),
                                   ("lease4-get-by-hw-address", {"hw-address": mac}),
                                   ("lease4-get", {"ip-address": address})] * 3:
            results.append((await client.one(command, "dhcp4", arguments))["result"])
        return results

    answers = await asyncio.gather(*(one_client(number) for number in range(16)))

    assert all(results == [0, 0, 0, 0, 0] + [1, 0, 0, 0, 0] * 2 for results in answers), answers  # add again: 1
    got = await client.one("lease4-get-all", "dhcp4", {"subnets": [1]})
    assert len(got["arguments"]["leases"]) == 16 and {lease["hostname"] for lease in got["arguments"]["leases"]} == {"h"}
    store = lease_store(client)
    assert store._pg_lookups.failures == 0  # the loop's lookups go on there
    if pgbouncer.pool_mode == "session":
        assert store._pg_lookups.prepared  # a session keeps its prepared statements


@pytest.mark.postgres
async def test_lookups_behind_a_transaction_pooler_go_on_without_named_prepared_statements(
        make_client: Any, pg_database: dict[str, Any]) -> None:
    # every server connection serves one transaction: a statement asyncpg prepared by name is
    # gone at its next use ("prepared statement ... does not exist")
    bouncer = Pgbouncer("transaction", single_use=True)
    try:
        client = await make_client(service_config({**pg_database, "port": bouncer.port}, dhcp6=False))
        assert (await client.one("lease4-add", "dhcp4", LEASE))["result"] == 0
        store = lease_store(client)

        answers = [await client.one("lease4-get", "dhcp4", {"ip-address": LEASE["ip-address"]}) for _ in range(2)]
        assert not store._pg_lookups.prepared  # the second lookup's statement was gone: seen and switched
        later = [await client.one("lease4-get", "dhcp4", {"ip-address": LEASE["ip-address"]}) for _ in range(5)]
        failures_after, lookup_connections = store._pg_lookups.failures, store._pg_lookups.connections()
    finally:
        bouncer.destroy()

    assert all(answer["result"] == 0 for answer in answers + later)  # a reader thread answered meanwhile
    assert failures_after == 0 and lookup_connections  # ... and the loop's lookups since
