"""Throw-away PostgreSQL and MariaDB servers of the tests' own, on their own ports and data
directories: for what the machine's shared servers must not be put through (being stopped,
requiring TLS). Both need root (they run as the `postgres`/`mysql` OS users) and the servers'
binaries; without them the test is unavailable (a skip, a failure under CI)."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import tempfile
from collections.abc import Callable, Iterator
from glob import glob
from pathlib import Path

from tests.conftest import free_port, unavailable
from tests.ha_helpers import wait_for


def _owned_copy(source: Path, directory: Path, owner: str, mode: int = 0o600) -> Path:
    """`source` copied into `directory`, owned by `owner` (servers refuse a key others can read)."""
    target = directory / source.name
    shutil.copyfile(source, target)
    shutil.chown(target, owner, owner)
    target.chmod(mode)
    return target


class PrivateCluster:
    """A throw-away PostgreSQL cluster owned by the `postgres` OS user, on its own port."""

    def __init__(self) -> None:
        bins = sorted(glob("/usr/lib/postgresql/*/bin/pg_ctl"))
        if not bins:
            unavailable("PostgreSQL server binaries (initdb, pg_ctl) not installed")
        if os.geteuid() != 0 or shutil.which("runuser") is None:
            unavailable("a private PostgreSQL cluster needs root and runuser")
        try:
            subprocess.run(["id", "postgres"], check=True, capture_output=True, timeout=10)
        except subprocess.CalledProcessError:
            unavailable("no 'postgres' OS user to run a private cluster")
        self.bin = Path(bins[-1]).parent
        self.dir = Path(tempfile.mkdtemp(prefix="leasesync-pg-"))
        shutil.chown(self.dir, "postgres", "postgres")
        self.data = self.dir / "data"
        self.port = free_port()
        self._as_postgres([str(self.bin / "initdb"), "-D", str(self.data), "-A", "trust", "-U", "postgres",
                           "--no-sync", "-E", "UTF8"], timeout=120)

    def _as_postgres(self, argv: list[str], timeout: float = 60) -> None:
        done = subprocess.run(["runuser", "-u", "postgres", "--", *argv], capture_output=True, text=True,
                              timeout=timeout)
        assert done.returncode == 0, f"{argv[0]} failed: {done.stdout}{done.stderr}"

    def require_tls(self, cert: Path, key: Path, ca: Path, *, client_certificate: bool = False) -> None:
        """Serve TLS with `cert`/`key`, and refuse every TCP connection that does not use it (with
        `client_certificate`, also every one without a certificate that `ca` signed)."""
        files = [_owned_copy(path, self.dir, "postgres") for path in (cert, key, ca)]
        with open(self.data / "postgresql.conf", "a") as conf:
            conf.write(f"ssl = on\nssl_cert_file = '{files[0]}'\nssl_key_file = '{files[1]}'\n"
                       f"ssl_ca_file = '{files[2]}'\n")
        client = " clientcert=verify-ca" if client_certificate else ""
        (self.data / "pg_hba.conf").write_text(
            "local all all trust\n"
            f"hostssl all all 127.0.0.1/32 trust{client}\nhostssl all all ::1/128 trust{client}\n"
            "hostnossl all all 127.0.0.1/32 reject\nhostnossl all all ::1/128 reject\n")

    def start(self, listen: str = "127.0.0.1") -> None:
        options = f"-p {self.port} -k {self.dir} -c listen_addresses={listen}"
        self._as_postgres([str(self.bin / "pg_ctl"), "-D", str(self.data), "-l", str(self.dir / "log"), "-w",
                           "-t", "60", "-o", options, "start"], timeout=90)

    def stop(self, mode: str = "fast") -> None:
        self._as_postgres([str(self.bin / "pg_ctl"), "-D", str(self.data), "-w", "-t", "60", "-m", mode, "stop"],
                          timeout=90)

    def admin_sql(self, sql: str) -> list[tuple[object, ...]]:
        """Run `sql` as postgres over the cluster's unix socket (no TLS needed there)."""
        import psycopg

        with psycopg.connect(host=str(self.dir), port=self.port, user="postgres", dbname="postgres",
                             autocommit=True, connect_timeout=5) as admin:
            cursor = admin.execute(sql)  # type: ignore[arg-type]
            return cursor.fetchall() if cursor.description else []

    def destroy(self) -> None:
        if (self.data / "postmaster.pid").exists():
            try:
                self.stop("immediate")
            except AssertionError:
                pass
        shutil.rmtree(self.dir, ignore_errors=True)


class PrivateMariaDB:
    """A throw-away MariaDB server run as the `mysql` OS user, on its own port and data directory
    (no grant tables unless TLS is required: MariaDB enforces require-secure-transport while it
    authenticates, which it skips without them)."""

    def __init__(self) -> None:
        install, server = shutil.which("mariadb-install-db"), shutil.which("mariadbd") or "/usr/sbin/mariadbd"
        if install is None or not os.access(server, os.X_OK):
            unavailable("MariaDB server binaries (mariadb-install-db, mariadbd) not installed")
        if os.geteuid() != 0:
            unavailable("a private MariaDB server needs root (it runs as the mysql user)")
        self.server = server
        self.dir = Path(tempfile.mkdtemp(prefix="leasesync-my-"))
        shutil.chown(self.dir, "mysql", "mysql")
        self.data = self.dir / "data"
        self.port = free_port()
        self.proc: subprocess.Popen[bytes] | None = None
        self.options: list[str] = []
        self.grant_tables = False
        done = subprocess.run([install, "--no-defaults", f"--datadir={self.data}", "--user=mysql", "--skip-test-db",
                               "--auth-root-authentication-method=normal"], capture_output=True, text=True,
                              timeout=180)
        assert done.returncode == 0, f"mariadb-install-db failed: {done.stdout}{done.stderr}"

    def require_tls(self, cert: Path, key: Path, ca: Path) -> None:
        """Serve TLS with `cert`/`key` and refuse every TCP connection that does not use it."""
        files = [_owned_copy(path, self.dir, "mysql") for path in (cert, key, ca)]
        self.options = [f"--ssl-cert={files[0]}", f"--ssl-key={files[1]}", f"--ssl-ca={files[2]}",
                        "--require-secure-transport=ON"]
        self.grant_tables = True

    def start(self) -> None:
        self.proc = subprocess.Popen(
            [self.server, "--no-defaults", f"--datadir={self.data}", f"--socket={self.socket}",
             f"--port={self.port}", "--bind-address=127.0.0.1", "--user=mysql",
             *([] if self.grant_tables else ["--skip-grant-tables"]),
             f"--pid-file={self.dir / 'pid'}", f"--log-error={self.dir / 'err'}", "--innodb-buffer-pool-size=16M",
             "--skip-log-bin", *self.options],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        import pymysql

        def ready() -> bool:
            try:
                pymysql.connect(unix_socket=str(self.socket), user="root", connect_timeout=1).close()
            except pymysql.err.OperationalError:
                assert self.proc is not None and self.proc.poll() is None, \
                    f"the private MariaDB server exited: {(self.dir / 'err').read_text(errors='replace')}"
                return False
            return True

        wait_for(ready, 60, interval=0.2, what="the private MariaDB server to accept connections")

    @property
    def socket(self) -> Path:
        return self.dir / "sock"

    def admin_sql(self, sql: str) -> list[tuple[object, ...]]:
        """Run `sql` as root over the server's unix socket (no TLS needed there)."""
        import pymysql

        with pymysql.connect(unix_socket=str(self.socket), user="root", connect_timeout=5, autocommit=True) as admin:
            with admin.cursor() as cursor:
                cursor.execute(sql)
                return list(cursor.fetchall())

    def pause(self) -> None:
        """Freeze the server (SIGSTOP): the kernel still accepts and acknowledges on its sockets,
        nothing answers, as a server hung on its disk."""
        assert self.proc is not None and self.proc.poll() is None
        self.proc.send_signal(signal.SIGSTOP)

    def resume(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGCONT)

    def stop(self) -> None:
        """A normal shutdown (SIGTERM): open connections are closed, as a restart does."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(timeout=60)
        self.proc = None

    def destroy(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.resume()
            self.proc.kill()
            self.proc.wait(timeout=30)
        shutil.rmtree(self.dir, ignore_errors=True)


def running_mariadb(prepare: Callable[[PrivateMariaDB], None] = lambda server: None) -> Iterator[PrivateMariaDB]:
    """A started private MariaDB server with an empty database `leasesync`, destroyed afterwards
    (for a fixture: `yield from`); `prepare` runs before the start (TLS, say)."""
    server = PrivateMariaDB()
    try:
        prepare(server)
        server.start()
        server.admin_sql("CREATE DATABASE leasesync")
        yield server
    finally:
        server.destroy()


class Pgbouncer:
    """A private pgbouncer in front of the machine's PostgreSQL (127.0.0.1:5432, trust), run as
    the `postgres` OS user (it refuses root) on its own port; `pool_mode` session or transaction,
    `pool_size` server connections per database and user (few: clients then share them);
    `single_use`: each server connection serves one transaction and is closed (server_lifetime 0),
    so no client sees the same server session twice; `server_host`: where PostgreSQL is (its
    socket directory from inside a network namespace)."""

    def __init__(self, pool_mode: str, pool_size: int = 2, *, single_use: bool = False,
                 server_host: str = "127.0.0.1") -> None:
        binary = shutil.which("pgbouncer") or "/usr/sbin/pgbouncer"
        if not os.access(binary, os.X_OK):
            unavailable("pgbouncer not installed (Debian package pgbouncer)")
        if os.geteuid() != 0:
            unavailable("a private pgbouncer needs root (it runs as the postgres user)")
        self.pool_mode = pool_mode
        self.dir = Path(tempfile.mkdtemp(prefix="leasesync-pgbouncer-"))
        self.port = free_port()
        (self.dir / "users.txt").write_text('"postgres" ""\n')
        (self.dir / "pgbouncer.ini").write_text(
            f"[databases]\n* = host={server_host} port=5432\n[pgbouncer]\n"
            f"listen_addr = 127.0.0.1\nlisten_port = {self.port}\nunix_socket_dir =\n"
            f"auth_type = trust\nauth_file = {self.dir / 'users.txt'}\n"
            f"pool_mode = {pool_mode}\ndefault_pool_size = {pool_size}\n"
            + ("server_lifetime = 0\n" if single_use else "") +
            f"logfile = {self.dir / 'pgbouncer.log'}\n"
            # libpq and asyncpg send these at start-up; pgbouncer refuses what it does not know
            "ignore_startup_parameters = extra_float_digits,options\n")
        shutil.chown(self.dir, "postgres")
        for name in ("users.txt", "pgbouncer.ini"):
            shutil.chown(self.dir / name, "postgres")
        self.proc = subprocess.Popen(["runuser", "-u", "postgres", "--", binary, str(self.dir / "pgbouncer.ini")],
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)

        def ready() -> bool:
            import psycopg

            assert self.proc.poll() is None, f"pgbouncer exited: {self.log()}"
            try:
                psycopg.connect(host="127.0.0.1", port=self.port, user="postgres", dbname="postgres",
                                connect_timeout=1).close()
            except psycopg.OperationalError:
                return False
            return True

        wait_for(ready, 30, interval=0.1, what="pgbouncer to accept connections")

    def log(self) -> str:
        path = self.dir / "pgbouncer.log"
        return path.read_text(errors="replace") if path.exists() else ""

    def destroy(self) -> None:
        for sig in (signal.SIGTERM, signal.SIGKILL):  # runuser and pgbouncer: their own process group
            if self.proc.poll() is not None:
                break
            try:
                os.killpg(self.proc.pid, sig)
                self.proc.wait(timeout=10)
            except (ProcessLookupError, subprocess.TimeoutExpired):
                pass
        shutil.rmtree(self.dir, ignore_errors=True)
