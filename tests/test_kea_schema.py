"""Real kea-dhcp4/kea-dhcp6 2.2 against leasesync's lease schema, on PostgreSQL and MariaDB.

(a) A database made by leasesync's migrations is accepted by Kea; leases Kea writes read back
    through LeaseStore with identical fields and vice versa; the stat tables stay right.
(b) A database made by `kea-admin db-init`: the migration touches none of Kea's objects (catalog
    compared before/after) and leasesync and Kea read each other's rows.
Plus: leasesync's stat triggers and limit functions behave as Kea's own (run side by side).

Kea is started as a plain subprocess (own process group, temp config, unix control socket in a
short tmp dir, KEA_PIDFILE_DIR/KEA_LOCKFILE_DIR in that dir, no interfaces) and always killed.
Missing Kea/PostgreSQL/MariaDB skips with the reason, or fails under CI=true.
"""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import json
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import DBAPIError

from app.errors import StoreRejected
from app.store import schema
from app.store.leases import INFINITE, Lease4, Lease6, lease4_to_row
from app.store.migrate import KEA_SCHEMA_ORIGIN_KEY, KeaSchemaMismatch, is_current, upgrade
from app.store.repository import AddLease, DeleteLease, LeaseStore, UpdateLease
from tests.conftest import SHARED_KINDS
from tests.kea_harness import unavailable
from tests.test_migrations import (
    NOW,
    STAT_SCENARIO,
    ScratchDb,
    actual_stats,
    assert_stats_consistent,
    create_database,
    kea_entries,
    migrate,
    run_ops,
    snapshot,
)

pytestmark = [pytest.mark.kea, pytest.mark.timeout(180)]

HOOKS_DIR = Path(os.environ.get("KEA_HOOKS_DIR", "/usr/lib/x86_64-linux-gnu/kea/hooks"))

# Kea's MySQL backend writes NULL (not empty values) for an absent hwaddr/client_id/user_context
# (and NULL hwtype/hwaddr_source without hwaddr). A row with hwaddr '' makes Kea report
# "hw-address": "", and user_context '' makes Kea's own AFTER UPDATE trigger fail (MariaDB error
# 4037 from JSON_EXTRACT). Until the row codec (app/store/leases.py) writes NULL on MySQL, the
# leasesync→Kea direction on MySQL is an expected failure; it runs for real once that is fixed.
_MYSQL_CODEC_WRITES_NULL = lease4_to_row(Lease4(address=1, hwaddr=None, client_id=None, valid_lft=1, cltt=0,
                                                subnet_id=1), "mysql")["user_context"] is None
_MYSQL_CODEC_XFAIL = pytest.mark.xfail(
    not _MYSQL_CODEC_WRITES_NULL, strict=True,
    reason="row codec writes ''/empty bytes on MySQL where Kea's MySQL backend needs NULL (see module comment)")
SQL_KINDS_STORE_TO_KEA = [pytest.param("postgresql", marks=pytest.mark.postgres),
                          pytest.param("mysql", marks=[pytest.mark.mysql, _MYSQL_CODEC_XFAIL])]
START_TIMEOUT = 20.0
COMMAND_TIMEOUT = 10.0


def _binary(name: str) -> str | None:
    found = shutil.which(name)
    if found:
        return found
    for d in ("/usr/sbin", "/usr/local/sbin", "/sbin"):
        if os.access(Path(d) / name, os.X_OK):
            return str(Path(d) / name)
    return None


def require_kea() -> None:
    for name in ("kea-dhcp4", "kea-dhcp6", "kea-admin"):
        if _binary(name) is None:
            unavailable(f"{name} not installed (ISC Kea 2.2 packages)")
    if not (HOOKS_DIR / "libdhcp_lease_cmds.so").is_file():
        unavailable(f"Kea's lease_cmds hook not found in {HOOKS_DIR}")
    version = subprocess.run([_binary("kea-dhcp4") or "kea-dhcp4", "-v"], capture_output=True, text=True,
                             timeout=10).stdout.strip()
    if not version.startswith("2.2."):
        unavailable(f"Kea 2.2 required, found {version or 'an unknown version'}")


# --- Kea as a subprocess ----------------------------------------------------------------------

class KeaDaemon:
    """kea-dhcp4 or kea-dhcp6 on a lease database, driven over its unix control socket."""

    def __init__(self, family: int, lease_database: dict[str, Any]) -> None:
        self.family = family
        # unix socket paths are limited to 107 bytes: a short dir straight under /tmp
        self.dir = Path(tempfile.mkdtemp(prefix=f"lsk{family}-", dir="/tmp"))
        self.socket_path = str(self.dir / "ctrl")
        self.log_path = self.dir / "kea.log"
        self.proc: subprocess.Popen[bytes] | None = None
        hooks = [{"library": str(HOOKS_DIR / "libdhcp_lease_cmds.so")}]
        if (HOOKS_DIR / "libdhcp_stat_cmds.so").is_file():
            hooks.append({"library": str(HOOKS_DIR / "libdhcp_stat_cmds.so")})
        config: dict[str, Any] = {
            "interfaces-config": {"interfaces": []},
            "lease-database": lease_database,
            "control-socket": {"socket-type": "unix", "socket-name": self.socket_path},
            "hooks-libraries": hooks,
            "valid-lifetime": 4000,
            "loggers": [{"name": f"kea-dhcp{family}", "severity": "INFO",
                         "output_options": [{"output": str(self.log_path)}]}],
        }
        if family == 4:
            config["subnet4"] = [{"id": 1, "subnet": "192.0.2.0/24"}, {"id": 2, "subnet": "198.51.100.0/24"}]
        else:
            config["data-directory"] = str(self.dir)
            config["server-id"] = {"type": "LLT", "persist": False}
            config["preferred-lifetime"] = 3000
            config["subnet6"] = [{"id": 1, "subnet": "2001:db8:1::/64",
                                  "pd-pools": [{"prefix": "3000:1::", "prefix-len": 48, "delegated-len": 64}]},
                                 {"id": 2, "subnet": "2001:db8:2::/64"}]
        self.config_path = self.dir / "kea.json"
        self.config_path.write_text(json.dumps({f"Dhcp{family}": config}, indent=2))

    def start(self) -> KeaDaemon:
        env = {**os.environ, "KEA_PIDFILE_DIR": str(self.dir), "KEA_LOCKFILE_DIR": str(self.dir)}
        out = open(self.dir / "stdout.log", "wb")  # noqa: SIM115 - kept open for the child's lifetime
        self.proc = subprocess.Popen([_binary(f"kea-dhcp{self.family}") or "kea-dhcp", "-c", str(self.config_path)],
                                     stdout=out, stderr=subprocess.STDOUT, env=env, start_new_session=True)
        out.close()
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"kea-dhcp{self.family} exited at start-up:\n{self.logs()}")
            if os.path.exists(self.socket_path):
                with contextlib.suppress(OSError, ValueError):
                    if self.command("list-commands")["result"] == 0:
                        return self
            time.sleep(0.1)
        raise RuntimeError(f"kea-dhcp{self.family} did not answer in {START_TIMEOUT} s:\n{self.logs()}")

    def logs(self) -> str:
        parts = [p.read_text(errors="replace")[-4000:] for p in (self.dir / "stdout.log", self.log_path) if p.exists()]
        return "\n".join(parts)

    def command(self, command: str, arguments: dict[str, Any] | None = None) -> dict[str, Any]:
        body: dict[str, Any] = {"command": command}
        if arguments is not None:
            body["arguments"] = arguments
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
            sock.settimeout(COMMAND_TIMEOUT)
            sock.connect(self.socket_path)
            sock.sendall(json.dumps(body).encode())
            data = b""
            while True:
                chunk = sock.recv(65536)
                if not chunk:
                    break
                data += chunk
                try:
                    answer = json.loads(data)
                except ValueError:
                    continue
                return answer[0] if isinstance(answer, list) else answer
        return json.loads(data)

    def ok(self, command: str, arguments: dict[str, Any] | None = None) -> dict[str, Any]:
        answer = self.command(command, arguments)
        assert answer["result"] == 0, (command, arguments, answer)
        return answer.get("arguments") or {}

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(timeout=5)
        shutil.rmtree(self.dir, ignore_errors=True)


def kea_lease_database(db: ScratchDb) -> dict[str, Any]:
    """Kea's `lease-database` map for a scratch database."""
    c = db.config
    return {"type": c.type, "name": c.name, "host": c.host, "user": c.user, "password": c.password}


@pytest.fixture
def kea() -> Iterator[Callable[[int, ScratchDb], KeaDaemon]]:
    """Factory starting Kea daemons on a database; every one is killed at the end."""
    require_kea()
    daemons: list[KeaDaemon] = []

    def start(family: int, db: ScratchDb) -> KeaDaemon:
        daemon = KeaDaemon(family, kea_lease_database(db))
        daemons.append(daemon)
        return daemon.start()

    yield start
    for daemon in daemons:
        daemon.stop()


# --- databases ----------------------------------------------------------------------------------

@pytest.fixture(params=SHARED_KINDS)
def sql_db(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[ScratchDb]:
    db, drop = create_database(request.param, tmp_path)
    try:
        yield db
    finally:
        drop()


def kea_admin_init(db: ScratchDb) -> None:
    """`kea-admin db-init` on the (empty) database: Kea's own schema."""
    require_kea()
    backend = "pgsql" if db.kind == "postgresql" else "mysql"
    c = db.config
    result = subprocess.run([_binary("kea-admin") or "kea-admin", "db-init", backend, "-h", c.host, "-u", c.user,
                             "-p", c.password, "-n", c.name], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr


@contextlib.contextmanager
def lease_store(db: ScratchDb) -> Iterator[LeaseStore]:
    store = LeaseStore(db.config)
    store.start()
    try:
        yield store
    finally:
        store.close()


def run(coro: Any) -> Any:
    return asyncio.run(coro)


async def _get4(store: LeaseStore, address: str) -> Lease4 | None:
    return await store.get4(int(ipaddress.IPv4Address(address)))


def as_kea_reads_it(lease: Lease4 | Lease6) -> dict[str, Any]:
    """The lease as Kea reports it after reading its row: Kea's Lease lowercases the hostname
    whenever it builds a lease, also from a database row (a mixed-case hostname written straight
    into the table comes back lowercased)."""
    out = lease.to_kea()
    out["hostname"] = out["hostname"].lower()
    return out


# --- the round trips ----------------------------------------------------------------------------

def check_kea_to_store(db: ScratchDb, kea4: KeaDaemon, kea6: KeaDaemon) -> None:
    """Leases Kea writes read back through LeaseStore with identical fields (v4 and v6)."""
    with lease_store(db) as store:
        kea4.ok("lease4-add", {"ip-address": "192.0.2.31", "hw-address": "1a:1b:1c:1d:1e:1f",
                               "client-id": "01:02:03", "valid-lft": 1000, "expire": 2000000000, "subnet-id": 1,
                               "fqdn-fwd": True, "fqdn-rev": False, "hostname": "Host.Example.ORG",
                               "user-context": {"version": 1, "x": [1, 2], "ISC": {"client-classes": ["k"]}}})
        kea4.ok("lease4-add", {"ip-address": "192.0.2.32", "hw-address": "aa:bb:cc:dd:ee:03",
                               "valid-lft": INFINITE, "subnet-id": 1})
        kea4.ok("lease4-add", {"ip-address": "198.51.100.10", "hw-address": "aa:bb:cc:dd:ee:ff",
                               "valid-lft": 7200, "subnet-id": 2, "state": 1})
        for address in ("192.0.2.31", "192.0.2.32", "198.51.100.10"):
            mine = run(_get4(store, address))
            assert mine is not None, address
            assert mine.to_kea() == kea4.ok("lease4-get", {"ip-address": address}), address
        assert run(_get4(store, "192.0.2.31")).hostname == "host.example.org"  # Kea lowercased it
        assert run(_get4(store, "192.0.2.32")).valid_lft == INFINITE

        kea6.ok("lease6-add", {"ip-address": "2001:db8:1::106", "duid": "01:02:03:04:05:06:07:08",
                               "iaid": 3000000000, "valid-lft": 1000, "preferred-lft": 500, "expire": 2000000000,
                               "subnet-id": 1, "fqdn-fwd": True, "fqdn-rev": True, "hostname": "Urania.Example.ORG",
                               "hw-address": "1a:1b:1c:1d:1e:1f", "user-context": {"version": 1}})
        kea6.ok("lease6-add", {"ip-address": "3000:1:0:1::", "type": "IA_PD", "prefix-len": 64,
                               "duid": "01:02:03:04:05:06:07:08", "iaid": 7, "valid-lft": INFINITE,
                               "preferred-lft": INFINITE, "subnet-id": 1})
        for address, ltype in (("2001:db8:1::106", 0), ("3000:1:0:1::", 2)):
            mine6 = run(store.get6(address, ltype))
            assert mine6 is not None, address
            assert mine6.to_kea() == kea6.ok("lease6-get", {"ip-address": address, "type": mine6.type_name})
        assert run(store.get6("2001:db8:1::106", 0)).iaid == 3000000000
        kea4.ok("lease4-del", {"ip-address": "192.0.2.32"})
        assert run(_get4(store, "192.0.2.32")) is None
        assert_stats_consistent(store.engine)
        check_kea_statistics(store, kea4, kea6)


def check_store_to_kea(db: ScratchDb, kea4: KeaDaemon, kea6: KeaDaemon) -> None:
    """Leases LeaseStore adds/updates/deletes are what Kea's lease4-get/lease6-get return."""
    with lease_store(db) as store:
        mine4 = Lease4(address=int(ipaddress.IPv4Address("192.0.2.40")), hwaddr=bytes.fromhex("0a0b0c0d0e0f"),
                       client_id=bytes.fromhex("ff01"), valid_lft=INFINITE, cltt=NOW - 100, subnet_id=1,
                       fqdn_fwd=True, fqdn_rev=True, hostname="Mixed.Case.Example",
                       user_context={"a": {"b": [1, "two", None, True]}, "ISC": {"client-classes": ["k", "m"]}})
        assert run(store.write(AddLease(mine4))) is True
        assert kea4.ok("lease4-get", {"ip-address": "192.0.2.40"}) == as_kea_reads_it(mine4)
        assert mine4.hostname != as_kea_reads_it(mine4)["hostname"]
        updated4 = mine4.with_changes(valid_lft=3600, cltt=NOW, state=1, hostname="", user_context=None,
                                      client_id=None, subnet_id=2, address=int(ipaddress.IPv4Address("192.0.2.40")))
        assert run(store.write(UpdateLease(updated4))) == "updated"
        assert kea4.ok("lease4-get", {"ip-address": "192.0.2.40"}) == as_kea_reads_it(updated4)
        assert run(store.write(DeleteLease(4, updated4.address))) is not None
        assert kea4.command("lease4-get", {"ip-address": "192.0.2.40"})["result"] == 3

        mine6a = Lease6(address="2001:db8:1::200", duid=bytes.fromhex("000100011a2b3c4d"), iaid=2**32 - 1, type=0,
                        prefix_len=128, valid_lft=INFINITE, preferred_lft=INFINITE, cltt=NOW - 50, subnet_id=1,
                        hostname="Six.Example", hwaddr=bytes.fromhex("1a1b1c1d1e1f"), hwtype=1, hwaddr_source=0,
                        user_context={"ISC": {"client-classes": ["six"]}})
        mine6b = Lease6(address="3000:1:0:2::", duid=bytes.fromhex("0a0b"), iaid=2**31, type=2, prefix_len=56,
                        valid_lft=4000, preferred_lft=3000, cltt=NOW, subnet_id=1)
        for lease in (mine6a, mine6b):
            assert run(store.write(AddLease(lease))) is True
            assert kea6.ok("lease6-get", {"ip-address": lease.address, "type": lease.type_name}) == as_kea_reads_it(lease)
        by_duid = kea6.ok("lease6-get-by-duid", {"duid": "00:01:00:01:1a:2b:3c:4d"})
        assert [le["iaid"] for le in by_duid["leases"]] == [2**32 - 1]
        updated6 = mine6a.with_changes(valid_lft=1000, preferred_lft=500, state=1, iaid=2**31 + 5)
        assert run(store.write(UpdateLease(updated6))) == "updated"
        assert kea6.ok("lease6-get", {"ip-address": mine6a.address, "type": "IA_NA"}) == as_kea_reads_it(updated6)
        assert run(store.write(DeleteLease(6, mine6b.address, 2))) is not None
        assert kea6.command("lease6-get", {"ip-address": mine6b.address, "type": "IA_PD"})["result"] == 3

        # Kea updates/deletes what leasesync wrote, and the store sees it
        kea6.ok("lease6-update", {**updated6.to_kea(), "hostname": "kea.example", "valid-lft": 2000})
        seen = run(store.get6(mine6a.address, 0))
        assert seen is not None and seen.hostname == "kea.example" and seen.valid_lft == 2000
        assert_stats_consistent(store.engine)
        check_kea_statistics(store, kea4, kea6)


def check_kea_statistics(store: LeaseStore, kea4: KeaDaemon, kea6: KeaDaemon) -> None:
    """Kea's stat-lease4-get / stat-lease6-get (read from the stat tables) match the leases
    (observed: "assigned" is state 0 only, "declined" state 1)."""
    if not (HOOKS_DIR / "libdhcp_stat_cmds.so").is_file():
        return
    with store.engine.connect() as conn:
        rows4 = conn.execute(select(schema.lease4.c.subnet_id, schema.lease4.c.state)).all()
        rows6 = conn.execute(select(schema.lease6.c.subnet_id, schema.lease6.c.lease_type,
                                    schema.lease6.c.state)).all()
    answer4 = kea4.ok("stat-lease4-get")["result-set"]
    cols = answer4["columns"]
    for row in answer4["rows"]:
        got = dict(zip(cols, row, strict=True))
        sid = got["subnet-id"]
        assert got["assigned-addresses"] == sum(1 for s, st in rows4 if s == sid and st == 0), got
        assert got["declined-addresses"] == sum(1 for s, st in rows4 if s == sid and st == 1), got
    answer6 = kea6.ok("stat-lease6-get")["result-set"]
    cols6 = answer6["columns"]
    for row in answer6["rows"]:
        got = dict(zip(cols6, row, strict=True))
        sid = got["subnet-id"]
        assert got["assigned-nas"] == sum(1 for s, t, st in rows6 if s == sid and t == 0 and st == 0), got
        assert got["declined-nas"] == sum(1 for s, t, st in rows6 if s == sid and t == 0 and st == 1), got
        assert got["assigned-pds"] == sum(1 for s, t, st in rows6 if s == sid and t == 2 and st == 0), got


# === tests =====================================================================================

def test_leasesync_database_is_accepted_by_kea(sql_db: ScratchDb, kea: Callable[[int, ScratchDb], KeaDaemon]) -> None:
    migrate(sql_db)
    kea4, kea6 = kea(4, sql_db), kea(6, sql_db)  # both start on it (else RuntimeError with Kea's log)
    check_kea_to_store(sql_db, kea4, kea6)


@pytest.fixture(params=SQL_KINDS_STORE_TO_KEA)
def sql_db_store_to_kea(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[ScratchDb]:
    db, drop = create_database(request.param, tmp_path)
    try:
        yield db
    finally:
        drop()


@pytest.mark.parametrize("made_by", ["leasesync", "kea-admin"])
def test_leasesync_writes_kea_reads(sql_db_store_to_kea: ScratchDb, made_by: str,
                                    kea: Callable[[int, ScratchDb], KeaDaemon]) -> None:
    db = sql_db_store_to_kea
    if made_by == "kea-admin":
        kea_admin_init(db)
    migrate(db)
    check_store_to_kea(db, kea(4, db), kea(6, db))


def test_an_expiry_after_2038_is_refused_by_kea_and_by_leasesync_on_the_same_database(
        sql_db: ScratchDb, kea: Callable[[int, ScratchDb], KeaDaemon]) -> None:
    """Kea's SQL backends write no expiry after MAX_DB_TIME, PostgreSQL's included, though its
    column could hold one: leasesync refuses the same leases there, and stores the last second."""
    migrate(sql_db)
    kea4 = kea(4, sql_db)
    last, beyond = 2**31 - 1, 2**31
    for address, expire in (("192.0.2.60", last), ("192.0.2.61", beyond)):
        answer = kea4.command("lease4-add", {"ip-address": address, "hw-address": "1a:1b:1c:1d:1e:1f",
                                             "valid-lft": 1000, "expire": expire, "subnet-id": 1})
        assert answer["result"] == (0 if expire == last else 1), (expire, answer)
    with lease_store(sql_db) as store:
        mine = Lease4(address=int(ipaddress.IPv4Address("192.0.2.62")), hwaddr=bytes.fromhex("0a0b0c0d0e0f"), client_id=None,
                      valid_lft=1000, cltt=last - 1000, subnet_id=1)
        assert run(store.write(AddLease(mine))) is True
        with pytest.raises(StoreRejected, match="beyond the lease database's time range"):
            run(store.write(AddLease(mine.with_changes(address=int(ipaddress.IPv4Address("192.0.2.63")),
                                                        cltt=beyond - 1000))))
        assert run(_get4(store, "192.0.2.63")) is None
    assert kea4.ok("lease4-get", {"ip-address": "192.0.2.62"})["cltt"] == last - 1000


def test_kea_admin_database_is_left_alone(sql_db: ScratchDb, kea: Callable[[int, ScratchDb], KeaDaemon]) -> None:
    kea_admin_init(sql_db)
    before = snapshot(sql_db)
    migrate(sql_db)
    after = snapshot(sql_db)
    assert kea_entries(after) == before  # no Kea table, column, index, trigger or function changed
    assert {e.owner for e in after - before} >= {"ls_agent_state", "ls_ha_backlog", "ls_alembic_version"}
    migrate(sql_db)
    assert snapshot(sql_db) == after
    engine = sql_db.engine()
    try:
        assert is_current(engine)
        with engine.connect() as conn:
            origin = conn.execute(select(schema.agent_state.c.value)
                                  .where(schema.agent_state.c.key == KEA_SCHEMA_ORIGIN_KEY)).scalar()
            assert origin == "kea"
    finally:
        engine.dispose()
    check_kea_to_store(sql_db, kea(4, sql_db), kea(6, sql_db))


def test_kea_admin_database_of_another_version_is_refused(sql_db: ScratchDb) -> None:
    kea_admin_init(sql_db)
    engine = sql_db.engine()
    try:
        with engine.begin() as conn:
            conn.execute(text("UPDATE schema_version SET version = version - 1"))
        before = snapshot(sql_db)
        with pytest.raises(KeaSchemaMismatch, match=r"schema version (12\.0|13\.0).*needs version (13\.0|14\.0)"):
            upgrade(engine)
        assert snapshot(sql_db) == before
    finally:
        engine.dispose()


LIMIT_CONTEXTS = [
    None, "", "not json", "{}", "[1, 2]",
    {"ISC": {"limits": {"client-classes": [{"name": "foo", "address-limit": 1}]}}},
    {"ISC": {"limits": {"client-classes": [{"name": "foo", "address-limit": 5}, {"name": "bar", "address-limit": 1}]}}},
    {"ISC": {"limits": {"client-classes": [{"name": "nope", "address-limit": 1}]}}},
    {"ISC": {"limits": {"subnet": {"id": 1, "address-limit": 2}}}},
    {"ISC": {"limits": {"subnet": {"id": 2, "address-limit": 9}}}},
    {"ISC": {"limits": {"subnet": {"id": 2, "address-limit": 1}}}},
]
LIMIT6_CONTEXTS = [
    {"ISC": {"limits": {"client-classes": [{"name": "six", "address-limit": 1}]}}},
    {"ISC": {"limits": {"client-classes": [{"name": "six", "prefix-limit": 1}]}}},
    {"ISC": {"limits": {"subnet": {"id": 1, "prefix-limit": 1}}}},
    {"ISC": {"limits": {"subnet": {"id": 2, "address-limit": 1, "prefix-limit": 1}}}},
    {"ISC": {"limits": {"subnet": {"id": 1, "address-limit": 1}}}},
]


def test_stat_triggers_and_limit_functions_behave_as_keas(sql_db_store_to_kea: ScratchDb, tmp_path: Path) -> None:
    """The same lease changes on a leasesync-made and a kea-admin-made database give the same
    stat tables, and checkLease4Limits/checkLease6Limits the same answers."""
    require_kea()
    sql_db = sql_db_store_to_kea
    theirs, drop = create_database(sql_db.kind, tmp_path)
    try:
        kea_admin_init(theirs)
        migrate(theirs)
        migrate(sql_db)
        results: list[Any] = []
        for db in (sql_db, theirs):
            with lease_store(db) as store:
                run(run_ops(store, STAT_SCENARIO))
                run(store.write(AddLease(Lease6(address="3000:1:0:9::", duid=b"\x01", iaid=1, type=2, prefix_len=64,
                                                valid_lft=4000, preferred_lft=3000, cltt=NOW, subnet_id=1,
                                                user_context={"ISC": {"client-classes": ["six"]}}))))
                with store.engine.connect() as conn:
                    stats = actual_stats(conn)
                answers = []
                for fn, contexts in (("checkLease4Limits", LIMIT_CONTEXTS),
                                     ("checkLease6Limits", LIMIT_CONTEXTS + LIMIT6_CONTEXTS)):
                    for ctx in contexts:
                        arg = json.dumps(ctx) if isinstance(ctx, dict) else ctx
                        try:
                            with store.engine.connect() as conn:
                                answer = conn.execute(text(f"SELECT {fn}(:c)"), {"c": arg}).scalar()
                        except DBAPIError:
                            answer = "<error>"
                        answers.append((fn, arg, answer))
                results.append((stats, answers))
                assert_stats_consistent(store.engine)
        (our_stats, our_answers), (kea_stats, kea_answers) = results
        assert our_stats == kea_stats
        assert "<error>" not in {a for _, _, a in our_answers}
        # Kea's functions raise on malformed or empty user-context text, ours answer '' (no limit)
        assert [(f, c, "" if a == "<error>" else a) for f, c, a in kea_answers] == our_answers
        assert any(a for _, _, a in our_answers)  # some limit was reached
    finally:
        drop()
