"""Private database servers with replication between them, for tests and bench/replication.py.

The shared PostgreSQL/MariaDB servers other tests use are never touched: every server here is a
new cluster in its own tmp dir under /tmp, on its own free port, stopped and deleted on exit
(also when the test fails)::

    with pg_logical_pair() as (a, b, replication):     # PostgreSQL A → B, logical replication
        a_db, b_db = a.lease_database(), b.lease_database()   # Kea `lease-database` maps
        ...
        replication.pause(); replication.resume()

    with mariadb_binlog_pair() as (a, b, replication):  # MariaDB A → B, binlog (ROW) replication

* PostgreSQL: `initdb`/`pg_ctl` run as the `postgres` OS user (`runuser`), `wal_level=logical`,
  fsync off. Both sites' databases are migrated by leasesync; a publication on A covers
  `lease4`/`lease6`, a subscription on B (`copy_data`) applies them. Only the lease tables are
  replicated: each site keeps its own `ls_*` tables (HA state, backlog).
* MariaDB: `mariadb-install-db` + `mariadbd` (user `mysql`), A with `log-bin`, ROW format; both
  migrated; B replicates from A's current binlog position with `replicate_wild_do_table`
  `%.lease4`/`%.lease6` (`CHANGE MASTER TO` … `START SLAVE`).

`pause()`/`resume()` stop and restart applying on B (`ALTER SUBSCRIPTION … DISABLE/ENABLE`,
`STOP SLAVE`/`START SLAVE`). `tools_missing()` names what is missing, for skips.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from tests.kea_harness import free_port, release_port

PG_BIN = Path(os.environ.get("LEASESYNC_PG_BIN", "/usr/lib/postgresql/15/bin"))
MARIADBD = os.environ.get("LEASESYNC_MARIADBD", "/usr/sbin/mariadbd")
MARIADB_INSTALL_DB = shutil.which("mariadb-install-db") or "/usr/bin/mariadb-install-db"
DB_NAME = "kea"
START_TIMEOUT = 30.0


def tools_missing(kind: str) -> str | None:
    """None when the binaries and OS users for `kind` ('postgresql'/'mysql') exist; else why not."""
    import pwd

    if os.geteuid() != 0:
        return "replication harness needs root (it runs the servers as their own OS users)"
    needed = ([PG_BIN / "initdb", PG_BIN / "pg_ctl"] if kind == "postgresql"
              else [Path(MARIADBD), Path(MARIADB_INSTALL_DB)])
    for path in needed:
        if not path.exists():
            return f"{path} is not installed"
    user = "postgres" if kind == "postgresql" else "mysql"
    try:
        pwd.getpwnam(user)
    except KeyError:
        return f"OS user {user!r} does not exist"
    if shutil.which("runuser") is None and kind == "postgresql":
        return "runuser is not installed"
    return None


def migrate(lease_database: dict[str, Any]) -> None:
    """Apply leasesync's migrations to a database given as a Kea `lease-database` map."""
    from app.config import parse_lease_database
    from app.store.migrate import upgrade
    from app.store.repository import make_engine

    engine = make_engine(parse_lease_database(lease_database, "lease-database", Path("/")))
    try:
        upgrade(engine)
    finally:
        engine.dispose()


def _tmpdir(prefix: str, owner: str) -> Path:
    path = Path(tempfile.mkdtemp(prefix=prefix, dir="/tmp"))  # short: unix socket paths ≤ 107 bytes
    shutil.chown(path, owner, owner)
    return path


def _wait(check: Any, timeout: float, what: str, diagnostics: Any = lambda: "") -> None:
    deadline = time.monotonic() + timeout
    last: Exception | None = None
    while time.monotonic() < deadline:
        try:
            if check():
                return
        except Exception as exc:  # noqa: BLE001 - retried until the deadline
            last = exc
        time.sleep(0.1)
    raise RuntimeError(f"{what} within {timeout} s (last error: {last})\n{diagnostics()}")


# --- PostgreSQL -----------------------------------------------------------------------------

class PgCluster:
    """A private PostgreSQL cluster (wal_level=logical) on 127.0.0.1:<free port>."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.dir: Path | None = None
        self.port = 0

    @property
    def data(self) -> Path:
        assert self.dir is not None
        return self.dir / "data"

    def _as_postgres(self, *argv: str, timeout: float = 60) -> None:
        subprocess.run(["runuser", "-u", "postgres", "--", *argv], check=True, timeout=timeout,
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT)

    def start(self) -> PgCluster:
        self.dir = _tmpdir(f"lspg-{self.name}-", "postgres")
        self.port = free_port()
        self._as_postgres(str(PG_BIN / "initdb"), "-D", str(self.data), "-A", "trust", "-U", "postgres",
                          "--no-sync", "-E", "UTF8")
        options = (f"-p {self.port} -k {self.dir} -c listen_addresses=127.0.0.1 -c wal_level=logical "
                   "-c fsync=off -c full_page_writes=off -c max_wal_senders=10 "
                   "-c max_replication_slots=10 -c max_logical_replication_workers=8 -c shared_buffers=32MB -c wal_retrieve_retry_interval=200ms")
        self._as_postgres(str(PG_BIN / "pg_ctl"), "-D", str(self.data), "-o", options, "-l",
                          str(self.dir / "postgres.log"), "-w", "-t", str(int(START_TIMEOUT)), "start")
        self.execute(f'CREATE DATABASE "{DB_NAME}"')
        return self

    def stop(self) -> None:
        if self.dir is None:
            return
        if (self.data / "postmaster.pid").exists():
            with contextlib.suppress(Exception):
                self._as_postgres(str(PG_BIN / "pg_ctl"), "-D", str(self.data), "-m", "immediate", "-w", "stop",
                                  timeout=30)
            self._kill_leftover()
        shutil.rmtree(self.dir, ignore_errors=True)
        release_port(self.port)
        self.dir = None

    def _kill_leftover(self) -> None:
        pid_file = self.data / "postmaster.pid"
        with contextlib.suppress(Exception):
            pid = int(pid_file.read_text().split()[0])
            os.kill(pid, signal.SIGKILL)

    def log(self) -> str:
        assert self.dir is not None
        with contextlib.suppress(OSError):
            return (self.dir / "postgres.log").read_text()[-3000:]
        return ""

    def conninfo(self, dbname: str = DB_NAME) -> str:
        return f"host=127.0.0.1 port={self.port} dbname={dbname} user=postgres"

    def execute(self, sql: str, dbname: str = "postgres") -> list[tuple[Any, ...]]:
        import psycopg

        with psycopg.connect(self.conninfo(dbname), autocommit=True, connect_timeout=5) as conn:
            cur = conn.execute(sql)  # type: ignore[arg-type]
            return list(cur.fetchall()) if cur.description else []

    def lease_database(self) -> dict[str, Any]:
        return {"type": "postgresql", "name": DB_NAME, "host": "127.0.0.1", "port": self.port, "user": "postgres"}


class PgLogicalReplication:
    """Publication of lease4/lease6 on A, subscription on B."""

    def __init__(self, a: PgCluster, b: PgCluster) -> None:
        self.a, self.b = a, b

    def setup(self) -> None:
        self.a.execute("CREATE PUBLICATION ls_leases FOR TABLE lease4, lease6", DB_NAME)
        self.b.execute(f"CREATE SUBSCRIPTION ls_leases CONNECTION '{self.a.conninfo()}' PUBLICATION ls_leases",
                       DB_NAME)
        _wait(self._ready, START_TIMEOUT, "the subscription did not become ready", self.b.log)

    def _ready(self) -> bool:
        states = self.b.execute("SELECT srsubstate FROM pg_subscription_rel", DB_NAME)
        return bool(states) and all(s == "r" for (s,) in states)

    def pause(self) -> None:
        self.b.execute("ALTER SUBSCRIPTION ls_leases DISABLE", DB_NAME)
        # DISABLE returns before the apply worker exits: wait until it is gone
        _wait(lambda: not self.b.execute("SELECT 1 FROM pg_stat_subscription WHERE pid IS NOT NULL", DB_NAME),
              START_TIMEOUT, "the apply worker did not stop")

    def resume(self) -> None:
        self.b.execute("ALTER SUBSCRIPTION ls_leases ENABLE", DB_NAME)

    def teardown(self) -> None:
        # drop the subscription (and A's slot) before the clusters go, so nothing waits on a peer
        with contextlib.suppress(Exception):
            self.b.execute("ALTER SUBSCRIPTION ls_leases DISABLE", DB_NAME)
            self.b.execute("ALTER SUBSCRIPTION ls_leases SET (slot_name = NONE)", DB_NAME)
            self.b.execute("DROP SUBSCRIPTION ls_leases", DB_NAME)


@contextlib.contextmanager
def _running_pair(a: Any, b: Any, replication: Any) -> Iterator[tuple[Any, Any, Any]]:
    """Start both servers, give each leasesync's schema, replicate A → B; undo it all on exit."""
    try:
        a.start()
        b.start()
        migrate(a.lease_database())
        migrate(b.lease_database())
        replication.setup()
        yield a, b, replication
    finally:
        replication.teardown()
        b.stop()
        a.stop()


def pg_logical_pair() -> contextlib.AbstractContextManager[tuple[PgCluster, PgCluster, PgLogicalReplication]]:
    a, b = PgCluster("a"), PgCluster("b")
    return _running_pair(a, b, PgLogicalReplication(a, b))


# --- MariaDB --------------------------------------------------------------------------------

class MariaDBServer:
    """A private mariadbd (own datadir, port, socket) with binary logging."""

    def __init__(self, name: str, server_id: int) -> None:
        self.name = name
        self.server_id = server_id
        self.dir: Path | None = None
        self.port = 0
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> MariaDBServer:
        self.dir = _tmpdir(f"lsmy-{self.name}-", "mysql")
        self.port = free_port()
        subprocess.run([MARIADB_INSTALL_DB, "--no-defaults", f"--datadir={self.dir / 'data'}", "--user=mysql",
                        "--auth-root-authentication-method=normal", "--skip-test-db"],
                       check=True, timeout=120, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        argv = [MARIADBD, "--no-defaults", f"--datadir={self.dir / 'data'}", f"--port={self.port}",
                f"--socket={self.dir / 'sock'}", "--bind-address=127.0.0.1", f"--pid-file={self.dir / 'pid'}",
                f"--log-error={self.dir / 'error.log'}", "--user=mysql", f"--server-id={self.server_id}",
                f"--log-bin={self.dir / 'binlog'}", "--binlog-format=ROW", "--innodb-buffer-pool-size=32M",
                "--innodb-flush-log-at-trx-commit=2", "--sync-binlog=0", "--skip-name-resolve",
                "--log-slave-updates=OFF", "--character-set-server=utf8mb4"]
        self.proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                     start_new_session=True)
        _wait(self._up, START_TIMEOUT, f"mariadbd {self.name} did not accept connections", self.log)
        self.execute(f"CREATE DATABASE `{DB_NAME}`")
        return self

    def _up(self) -> bool:
        if self.proc is not None and self.proc.poll() is not None:
            raise RuntimeError(f"mariadbd {self.name} exited:\n{self.log()}")
        self.execute("SELECT 1")
        return True

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.proc.pid, signal.SIGKILL)  # a throw-away server: no clean shutdown needed
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.proc.wait(timeout=10)
        self.proc = None
        if self.dir is not None:
            shutil.rmtree(self.dir, ignore_errors=True)
            release_port(self.port)
            self.dir = None

    def log(self) -> str:
        if self.dir is None:
            return ""
        with contextlib.suppress(OSError):
            return (self.dir / "error.log").read_text()[-3000:]
        return ""

    def execute(self, sql: str, database: str | None = None) -> list[tuple[Any, ...]]:
        import pymysql

        conn = pymysql.connect(host="127.0.0.1", port=self.port, user="root", password="", database=database,
                               autocommit=True, connect_timeout=3)
        try:
            with conn.cursor() as cur:
                cur.execute(sql)
                return list(cur.fetchall())
        finally:
            conn.close()

    def lease_database(self) -> dict[str, Any]:
        return {"type": "mysql", "name": DB_NAME, "host": "127.0.0.1", "port": self.port, "user": "root"}


class MariaDBReplication:
    """B replicates A's lease4/lease6 from A's binlog (ROW events)."""

    def __init__(self, a: MariaDBServer, b: MariaDBServer) -> None:
        self.a, self.b = a, b

    def setup(self) -> None:
        self.a.execute("CREATE USER 'repl'@'127.0.0.1' IDENTIFIED BY 'repl'")
        self.a.execute("GRANT REPLICATION SLAVE ON *.* TO 'repl'@'127.0.0.1'")
        file, position = self.a.execute("SHOW MASTER STATUS")[0][:2]
        self.b.execute(f"SET GLOBAL replicate_wild_do_table = '{DB_NAME}.lease4,{DB_NAME}.lease6'")
        self.b.execute(f"CHANGE MASTER TO MASTER_HOST='127.0.0.1', MASTER_PORT={self.a.port}, MASTER_USER='repl', "
                       f"MASTER_PASSWORD='repl', MASTER_LOG_FILE='{file}', MASTER_LOG_POS={position}, "
                       "MASTER_CONNECT_RETRY=1")
        self.resume()
        _wait(self._running, START_TIMEOUT, "replication did not start", self.b.log)

    def _status(self) -> dict[str, Any]:
        import pymysql

        conn = pymysql.connect(host="127.0.0.1", port=self.b.port, user="root", password="", autocommit=True,
                               connect_timeout=3, cursorclass=pymysql.cursors.DictCursor)
        try:
            with conn.cursor() as cur:
                cur.execute("SHOW SLAVE STATUS")
                return dict(cur.fetchone() or {})
        finally:
            conn.close()

    def _running(self) -> bool:
        status = self._status()
        if status.get("Last_Error") or status.get("Last_IO_Error"):
            raise RuntimeError(f"replication error: {status.get('Last_Error') or status.get('Last_IO_Error')}")
        return status.get("Slave_IO_Running") == "Yes" and status.get("Slave_SQL_Running") == "Yes"

    def pause(self) -> None:
        self.b.execute("STOP SLAVE")

    def resume(self) -> None:
        self.b.execute("START SLAVE")

    def teardown(self) -> None:
        with contextlib.suppress(Exception):
            self.pause()


def mariadb_binlog_pair() -> contextlib.AbstractContextManager[tuple[MariaDBServer, MariaDBServer, MariaDBReplication]]:
    a, b = MariaDBServer("a", 1), MariaDBServer("b", 2)
    return _running_pair(a, b, MariaDBReplication(a, b))


@contextlib.contextmanager
def replicated_pair(kind: str) -> Iterator[tuple[Any, Any, Any]]:
    """`pg_logical_pair()` for 'postgresql', `mariadb_binlog_pair()` for 'mysql'."""
    pair = pg_logical_pair() if kind == "postgresql" else mariadb_binlog_pair()
    with pair as servers:
        yield servers
