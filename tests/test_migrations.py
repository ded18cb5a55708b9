"""leasesync's migrations on SQLite, PostgreSQL and MariaDB: empty → head, re-runs, the Kea
schema-version check, completing an older leasesync database, and the stat triggers.

Databases are created as `ls_mig_<random>` and dropped afterwards. A missing PostgreSQL/MariaDB
skips its tests with the reason — but fails them under `CI=true`.
"""

from __future__ import annotations

import asyncio
import ipaddress
import os
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, NamedTuple

import pytest
from alembic import command
from sqlalchemy import create_engine, select, text
from sqlalchemy.engine import Connection, Engine

from app.config import DatabaseConfig
from app.errors import DatabaseOpenError
from app.store import ddl_locks, schema
from app.store import migrate as migrate_module
from app.store.leases import Lease4, Lease6
from app.store.migrate import (
    KEA_SCHEMA_ORIGIN_KEY,
    KeaSchemaMismatch,
    _alembic_config,
    expected_kea_version,
    head_revision,
    is_current,
    open_and_upgrade,
    upgrade,
)
from app.store.repository import AddLease, DeleteLease, LeaseStore, UpdateLease
from tests.conftest import SHARED_KINDS, _mysql_admin, _pg_admin, kea_insert4, lease_table_held

pytestmark = pytest.mark.timeout(120)

PG_HOST = os.environ.get("LEASESYNC_TEST_PG_HOST", "127.0.0.1")
MYSQL_HOST = os.environ.get("LEASESYNC_TEST_MYSQL_HOST", "127.0.0.1")
NOW = int(time.time())
KINDS = ["sqlite", *SHARED_KINDS]
KEA_TRIGGERS = {f"lease{f}_{e}" for f in (4, 6) for e in ("ains", "aupd", "adel")}
STAT_TABLES = {"lease4_stat", "lease6_stat", "lease4_stat_by_client_class", "lease6_stat_by_client_class"}


# --- databases ----------------------------------------------------------------------------------

class ScratchDb(NamedTuple):
    kind: str  # sqlite | postgresql | mysql
    name: str
    config: DatabaseConfig

    @property
    def url(self) -> str:
        return self.config.url()

    def engine(self) -> Engine:
        return create_engine(self.url)


def create_database(kind: str, tmp_path: Path) -> tuple[ScratchDb, Callable[[], None]]:
    """An empty database `ls_mig_<random>` of `kind` and the callback dropping it."""
    name = f"ls_mig_{uuid.uuid4().hex[:12]}"
    if kind == "sqlite":
        path = tmp_path / f"{name}.db"
        return ScratchDb(kind, name, DatabaseConfig(type="sqlite", name=str(path))), lambda: None
    if kind == "postgresql":
        admin = _pg_admin()
        admin.execute(f'CREATE DATABASE "{name}"')

        def drop_pg() -> None:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            admin.close()

        return ScratchDb(kind, name, DatabaseConfig(type="postgresql", name=name, host=PG_HOST,
                                                       user="postgres")), drop_pg
    admin = _mysql_admin()
    with admin.cursor() as cur:
        cur.execute(f"CREATE DATABASE `{name}`")

    def drop_mysql() -> None:
        with admin.cursor() as cur:
            cur.execute(f"DROP DATABASE IF EXISTS `{name}`")
        admin.close()

    return ScratchDb(kind, name, DatabaseConfig(type="mysql", name=name, host=MYSQL_HOST, user="root")), drop_mysql


@pytest.fixture(params=KINDS)
def empty_db(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[ScratchDb]:
    db, drop = create_database(request.param, tmp_path)
    try:
        yield db
    finally:
        drop()


# --- catalog snapshots ------------------------------------------------------------------------

class CatalogEntry(NamedTuple):
    owner: str  # the table (or routine) the entry belongs to, for filtering leasesync's ls_* objects
    kind: str
    detail: str


def catalog(conn: Connection) -> set[CatalogEntry]:
    """Tables/columns, indexes, constraints, triggers and routines with their definitions."""
    dialect = conn.dialect.name
    out: set[CatalogEntry] = set()

    def add(kind: str, query: str) -> None:
        for row in conn.execute(text(query)):
            out.add(CatalogEntry(str(row[0]), kind, " | ".join(str(v) for v in row[1:])))

    if dialect == "postgresql":
        add("column", "SELECT table_name, column_name, data_type, character_maximum_length, is_nullable, "
                      "column_default FROM information_schema.columns WHERE table_schema = 'public'")
        add("index", "SELECT tablename, indexname, indexdef FROM pg_indexes WHERE schemaname = 'public'")
        add("constraint", "SELECT conrelid::regclass::text, conname, pg_get_constraintdef(oid) FROM pg_constraint "
                          "WHERE connamespace = 'public'::regnamespace")
        add("trigger", "SELECT tgrelid::regclass::text, tgname, pg_get_triggerdef(oid) FROM pg_trigger "
                       "WHERE NOT tgisinternal")
        add("routine", "SELECT proname, pg_get_function_identity_arguments(oid), md5(prosrc) FROM pg_proc "
                       "WHERE pronamespace = 'public'::regnamespace")
    elif dialect == "mysql":
        add("column", "SELECT table_name, column_name, column_type, is_nullable, column_default "
                      "FROM information_schema.columns WHERE table_schema = DATABASE()")
        add("index", "SELECT table_name, index_name, seq_in_index, column_name, non_unique "
                     "FROM information_schema.statistics WHERE table_schema = DATABASE()")
        add("constraint", "SELECT table_name, constraint_name, referenced_table_name, update_rule, delete_rule "
                          "FROM information_schema.referential_constraints "
                          "WHERE constraint_schema = DATABASE()")
        add("trigger", "SELECT event_object_table, trigger_name, action_timing, event_manipulation, "
                       "MD5(action_statement) FROM information_schema.triggers WHERE trigger_schema = DATABASE()")
        add("routine", "SELECT routine_name, routine_type, MD5(routine_definition) "
                       "FROM information_schema.routines WHERE routine_schema = DATABASE()")
    else:
        add("object", "SELECT tbl_name, type, name, sql FROM sqlite_master")
    return out


def kea_entries(entries: set[CatalogEntry]) -> set[CatalogEntry]:
    """Everything except leasesync's own objects (ls_* tables and what belongs to them)."""
    return {e for e in entries if not e.owner.startswith("ls_")}


def snapshot(db: ScratchDb) -> set[CatalogEntry]:
    engine = db.engine()
    try:
        with engine.connect() as conn:
            return catalog(conn)
    finally:
        engine.dispose()


def migrate(db: ScratchDb) -> None:
    engine = db.engine()
    try:
        upgrade(engine)
    finally:
        engine.dispose()


def table_names(db: ScratchDb) -> set[str]:
    return {e.owner for e in snapshot(db) if e.kind in ("column", "object")}


def trigger_names(conn: Connection) -> set[str]:
    dialect = conn.dialect.name
    if dialect == "postgresql":
        q = "SELECT tgname FROM pg_trigger WHERE NOT tgisinternal"
    elif dialect == "mysql":
        q = "SELECT LOWER(trigger_name) FROM information_schema.triggers WHERE trigger_schema = DATABASE()"
    else:
        q = "SELECT name FROM sqlite_master WHERE type = 'trigger'"
    return {str(r[0]) for r in conn.execute(text(q))}


# --- statistics -------------------------------------------------------------------------------

def _classes(user_context: str | None) -> list[str]:
    import json

    try:
        ctx = json.loads(user_context) if user_context else None
    except ValueError:
        return []
    classes = ctx.get("ISC", {}).get("client-classes") if isinstance(ctx, dict) else None
    return [c for c in classes if isinstance(c, str)] if isinstance(classes, list) else []


def expected_stats(conn: Connection) -> dict[str, Counter[tuple[Any, ...]]]:
    """What the stat tables must hold, computed from the lease tables."""
    out: dict[str, Counter[tuple[Any, ...]]] = {t: Counter() for t in STAT_TABLES}
    for r in conn.execute(select(schema.lease4.c.subnet_id, schema.lease4.c.state, schema.lease4.c.user_context)):
        if r.state in (0, 1):
            out["lease4_stat"][(int(r.subnet_id), int(r.state))] += 1
        if r.state == 0:
            for c in _classes(r.user_context):
                out["lease4_stat_by_client_class"][(c,)] += 1
    t6 = schema.lease6
    for r in conn.execute(select(t6.c.subnet_id, t6.c.lease_type, t6.c.state, t6.c.user_context)):
        if r.state in (0, 1):
            out["lease6_stat"][(int(r.subnet_id), int(r.lease_type), int(r.state))] += 1
        if r.state == 0:
            for c in _classes(r.user_context):
                out["lease6_stat_by_client_class"][(c, int(r.lease_type))] += 1
    return out


def actual_stats(conn: Connection) -> dict[str, Counter[tuple[Any, ...]]]:
    """The stat tables' non-zero counters (rows with 0 may stay, as in Kea)."""
    queries = {
        "lease4_stat": "SELECT subnet_id, state, leases FROM lease4_stat",
        "lease6_stat": "SELECT subnet_id, lease_type, state, leases FROM lease6_stat",
        "lease4_stat_by_client_class": "SELECT client_class, leases FROM lease4_stat_by_client_class",
        "lease6_stat_by_client_class": "SELECT client_class, lease_type, leases FROM lease6_stat_by_client_class",
    }
    out: dict[str, Counter[tuple[Any, ...]]] = {}
    for table, query in queries.items():
        counter: Counter[tuple[Any, ...]] = Counter()
        for row in conn.execute(text(query)):
            *key, leases = row
            if leases:
                counter[tuple(int(k) if not isinstance(k, str) else k for k in key)] = int(leases)
        out[table] = counter
    return out


def assert_stats_consistent(engine: Engine) -> None:
    with engine.connect() as conn:
        assert actual_stats(conn) == expected_stats(conn)


# --- leases -----------------------------------------------------------------------------------

def v4(addr: str, **changes: Any) -> Lease4:
    lease = Lease4(address=int(ipaddress.IPv4Address(addr)), hwaddr=bytes.fromhex("1a1b1c1d1e1f"),
                   client_id=b"\x01\x02\x03", valid_lft=4000, cltt=NOW, subnet_id=1, hostname="a.example.org")
    return lease.with_changes(**changes)


def v6(addr: str, **changes: Any) -> Lease6:
    lease = Lease6(address=addr, duid=bytes.fromhex("0102030405060708"), iaid=7, type=0, prefix_len=128,
                   valid_lft=4000, preferred_lft=3000, cltt=NOW, subnet_id=1)
    return lease.with_changes(**changes)


def classes(*names: str) -> dict[str, Any]:
    return {"ISC": {"client-classes": list(names)}}


async def run_ops(store: LeaseStore, ops: list[Any]) -> list[Any]:
    return [await store.write(op) for op in ops]


def write_with_a_store(db: ScratchDb, ops: list[Any]) -> None:
    """`ops` through a LeaseStore of its own, started and closed around them."""
    store = LeaseStore(db.config)
    store.start()
    try:
        asyncio.run(run_ops(store, ops))
    finally:
        store.close()


STAT_SCENARIO: list[Any] = [
    AddLease(v4("192.0.2.10")),
    AddLease(v4("192.0.2.11", user_context=classes("foo", "bar"))),
    AddLease(v4("192.0.2.12", state=1, user_context=classes("foo"))),
    AddLease(v4("198.51.100.5", subnet_id=2, state=2)),
    AddLease(v4("198.51.100.6", subnet_id=2, user_context=classes("foo"))),
    UpdateLease(v4("192.0.2.12", state=0, user_context=classes("foo"))),  # declined -> default
    UpdateLease(v4("192.0.2.11", subnet_id=2, user_context=classes("bar", "baz"))),  # subnet + classes
    UpdateLease(v4("198.51.100.5", subnet_id=2, state=0)),  # reclaimed -> default
    UpdateLease(v4("192.0.2.10", hostname="other.example.org")),  # no counted change
    UpdateLease(v4("192.0.2.11", subnet_id=2, user_context=classes("bar", "qux"))),  # classes alone
    DeleteLease(4, int(ipaddress.IPv4Address("198.51.100.6"))),
    AddLease(v6("2001:db8:1::10", user_context=classes("six"))),
    AddLease(v6("2001:db8:1::11", iaid=2**32 - 1)),
    AddLease(v6("3000:1:0:1::", type=2, prefix_len=64, user_context=classes("six"))),
    AddLease(v6("2001:db8:2::5", subnet_id=2, state=1)),
    UpdateLease(v6("2001:db8:2::5", subnet_id=2, state=0, user_context=classes("six", "seven"))),
    UpdateLease(v6("2001:db8:1::10", state=1, user_context=classes("six"))),
    UpdateLease(v6("2001:db8:1::11", type=1), force_create=True),  # type change (as an HA bulk apply makes it)
    DeleteLease(6, "3000:1:0:1::"),
]


# === tests =====================================================================================

def test_upgrade_from_empty_to_head(empty_db: ScratchDb) -> None:
    engine = empty_db.engine()
    try:
        assert not is_current(engine)
        upgrade(engine)
        assert is_current(engine)
        with engine.connect() as conn:
            assert conn.execute(text("SELECT version, minor FROM schema_version")).all() == \
                [expected_kea_version(empty_db.kind)]
            assert sorted(conn.execute(select(schema.lease_state)).all()) == schema.LEASE_STATES
            assert sorted(conn.execute(select(schema.lease6_types)).all()) == schema.LEASE6_TYPES
            assert sorted(conn.execute(select(schema.lease_hwaddr_source)).all()) == schema.HWADDR_SOURCES
            origin = conn.execute(select(schema.agent_state.c.value)
                                  .where(schema.agent_state.c.key == KEA_SCHEMA_ORIGIN_KEY)).scalar()
            assert origin == "leasesync"
            assert KEA_TRIGGERS <= trigger_names(conn)
            if empty_db.kind == "postgresql":
                for signature in ("isjsonsupported()", "json_cast(text)", "checklease4limits(text)",
                                  "checklease6limits(text)"):
                    assert conn.execute(text("SELECT to_regprocedure(:s) IS NOT NULL"), {"s": signature}).scalar()
            if empty_db.kind == "mysql":
                routines = set(conn.execute(text(
                    "SELECT routine_name FROM information_schema.routines WHERE routine_schema = DATABASE() "
                    "AND routine_type = 'FUNCTION'")).scalars())
                assert {"isJsonSupported", "checkLease4Limits", "checkLease6Limits"} <= routines
        names = table_names(empty_db)
        assert {"lease4", "lease6", "lease_state", "lease6_types", "lease_hwaddr_source", "schema_version",
                "ls_ha_backlog", "ls_agent_state", "ls_alembic_version"} | STAT_TABLES <= names
    finally:
        engine.dispose()


def test_rerun_is_idempotent(empty_db: ScratchDb) -> None:
    migrate(empty_db)
    first = snapshot(empty_db)
    migrate(empty_db)
    migrate(empty_db)
    assert snapshot(empty_db) == first
    engine = empty_db.engine()
    try:
        assert is_current(engine)
    finally:
        engine.dispose()


def test_tables_match_the_metadata_the_store_uses(empty_db: ScratchDb) -> None:
    """schema.py (what LeaseStore reads and writes) and the migrations' DDL agree on columns."""
    from sqlalchemy import inspect

    migrate(empty_db)
    engine = empty_db.engine()
    try:
        inspector = inspect(engine)
        for table in schema.metadata.sorted_tables:
            if inspector.has_table(table.name):
                reflected = [c["name"] for c in inspector.get_columns(table.name)]
                assert sorted(reflected) == sorted(c.name for c in table.columns), table.name
    finally:
        engine.dispose()


def test_stat_triggers_keep_the_stat_tables_right(empty_db: ScratchDb) -> None:
    migrate(empty_db)
    store = LeaseStore(empty_db.config)
    store.start()
    try:
        asyncio.run(run_ops(store, STAT_SCENARIO))
        assert_stats_consistent(store.engine)
        with store.engine.connect() as conn:
            stats = actual_stats(conn)
        assert stats["lease4_stat"] == Counter({(1, 0): 2, (2, 0): 2})
        assert stats["lease4_stat_by_client_class"] == Counter({("foo",): 1, ("bar",): 1, ("qux",): 1})
        assert stats["lease6_stat"] == Counter({(1, 0, 1): 1, (1, 1, 0): 1, (2, 0, 0): 1})
        assert stats["lease6_stat_by_client_class"] == Counter({("six", 0): 1, ("seven", 0): 1})
    finally:
        store.close()


def test_kea_schema_of_another_version_is_refused(empty_db: ScratchDb) -> None:
    engine = empty_db.engine()
    need = expected_kea_version(empty_db.kind)
    try:
        with engine.begin() as conn:
            conn.execute(text("CREATE TABLE schema_version (version INTEGER NOT NULL PRIMARY KEY, minor INTEGER)"))
            conn.execute(text("INSERT INTO schema_version VALUES (:v, 0)"), {"v": need[0] - 1})
        with pytest.raises(KeaSchemaMismatch) as failure:
            upgrade(engine)
        message = str(failure.value)
        assert f"{need[0] - 1}.0" in message and f"{need[0]}.{need[1]}" in message
        assert "ls_agent_state" not in table_names(empty_db)  # nothing was done
        assert not is_current(engine)
    finally:
        engine.dispose()


def test_database_of_an_older_leasesync_is_completed(empty_db: ScratchDb) -> None:
    """A database migrated before revision 0003 (no stat tables/triggers, no origin marker) with
    leases in it gets the Kea objects it lacks and correct statistics."""
    engine = empty_db.engine()
    cfg = _alembic_config()
    try:
        with engine.begin() as conn:
            cfg.attributes["connection"] = conn
            command.upgrade(cfg, "0002")
            conn.execute(schema.agent_state.delete())
        write_with_a_store(empty_db, STAT_SCENARIO)
        assert not STAT_TABLES & table_names(empty_db)
        upgrade(engine)
        assert is_current(engine)
        with engine.connect() as conn:
            assert KEA_TRIGGERS <= trigger_names(conn)
        assert_stats_consistent(engine)
    finally:
        engine.dispose()


def test_a_database_of_revision_0003_gets_room_for_large_backlog_rows(empty_db: ScratchDb) -> None:
    """MySQL's TEXT ends at 64 KiB: revision 0004 makes the backlog's arguments and the captured
    rows' JSON LONGTEXT there, and a backlog row of 200 KB then fits (elsewhere TEXT always did)."""
    engine = empty_db.engine()
    cfg = _alembic_config()

    def column_types() -> dict[str, str]:
        with engine.connect() as conn:
            return dict(conn.execute(text(
                "SELECT CONCAT(table_name, '.', column_name), data_type FROM information_schema.columns "
                "WHERE table_schema = DATABASE() AND column_name IN ('arguments', 'old')")).all())

    try:
        with engine.begin() as conn:
            cfg.attributes["connection"] = conn
            command.upgrade(cfg, "0003")
            if empty_db.kind == "mysql":  # as 0001/0002 made them before schema.py asked for LONGTEXT
                conn.execute(text("ALTER TABLE ls_ha_backlog MODIFY arguments TEXT NOT NULL"))
                conn.execute(text("ALTER TABLE ls_lease_changes MODIFY old TEXT"))
        if empty_db.kind == "mysql":
            assert column_types() == {"ls_ha_backlog.arguments": "text", "ls_lease_changes.old": "text"}
        upgrade(engine)
        assert is_current(engine)
        if empty_db.kind == "mysql":
            assert column_types() == {"ls_ha_backlog.arguments": "longtext", "ls_lease_changes.old": "longtext"}
        with engine.begin() as conn:
            conn.execute(schema.ha_backlog.insert().values(peer="server2", family=6, command="lease6-bulk-apply",
                                                          arguments="x" * 200_000, created=0))
            stored = conn.execute(select(schema.ha_backlog.c.arguments)).scalar()
        assert stored is not None and len(stored) == 200_000
    finally:
        engine.dispose()


def test_a_database_of_revision_0004_keeps_right_statistics_with_narrowed_update_triggers(
        empty_db: ScratchDb) -> None:
    """Revision 0005 starts SQLite's statistics UPDATE triggers only when a counted column
    changes; leases written before it and changed after it are still counted right."""
    engine = empty_db.engine()
    try:
        with engine.begin() as conn:
            cfg = _alembic_config()
            cfg.attributes["connection"] = conn
            command.upgrade(cfg, "0004")
        write_with_a_store(empty_db, STAT_SCENARIO[:5])
        upgrade(engine)
        assert is_current(engine)
        if empty_db.kind == "sqlite":
            with engine.connect() as conn:
                update_triggers = conn.execute(text(
                    "SELECT sql FROM sqlite_master WHERE type = 'trigger' AND name LIKE 'lease%_aupd'")).scalars().all()
            assert len(update_triggers) == 2
            assert all("AFTER UPDATE OF subnet_id, state, user_context" in sql and " WHEN OLD.subnet_id IS NOT"
                       in sql for sql in update_triggers)
        write_with_a_store(empty_db, STAT_SCENARIO[5:])
        assert_stats_consistent(engine)
    finally:
        engine.dispose()


def test_interrupted_run_is_completed(empty_db: ScratchDb) -> None:
    """MySQL cannot roll DDL back: a run that stopped half-way through 0003 is finished next time."""
    migrate(empty_db)
    engine = empty_db.engine()
    try:
        write_with_a_store(empty_db, STAT_SCENARIO[:5])
        with engine.begin() as conn:
            # leasesync's own objects in a leasesync-made test database: simulate the half-done run
            drop = {"postgresql": "DROP TRIGGER lease4_aupd ON lease4", "mysql": "DROP TRIGGER lease4_AUPD"}
            conn.execute(text(drop.get(empty_db.kind, "DROP TRIGGER lease4_aupd")))
            conn.execute(text("UPDATE lease4_stat SET leases = 99"))
            conn.execute(text("UPDATE ls_alembic_version SET version_num = '0002'"))
        upgrade(engine)
        assert is_current(engine)
        with engine.connect() as conn:
            assert KEA_TRIGGERS <= trigger_names(conn)
        assert_stats_consistent(engine)
    finally:
        engine.dispose()


def test_downgrade_keeps_kea_objects(empty_db: ScratchDb) -> None:
    migrate(empty_db)
    before = kea_entries(snapshot(empty_db))
    engine = empty_db.engine()
    cfg = _alembic_config()
    try:
        with engine.begin() as conn:
            cfg.attributes["connection"] = conn
            command.downgrade(cfg, "base")
        assert kea_entries(snapshot(empty_db)) == before
        assert not {n for n in table_names(empty_db) if n.startswith("ls_") and n != "ls_alembic_version"}
        upgrade(engine)  # and back up: nothing of Kea's is re-created twice
        assert is_current(engine)
    finally:
        engine.dispose()


# --- beside Kea's writes ----------------------------------------------------------------------

@pytest.fixture(params=SHARED_KINDS)
def shared_db(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[ScratchDb]:
    """An empty database of a kind Kea itself can write to."""
    db, drop = create_database(request.param, tmp_path)
    try:
        yield db
    finally:
        drop()


def test_a_migration_steps_back_from_a_held_lease_table_and_completes_after(
        shared_db: ScratchDb, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture) -> None:
    """Revision 0003 creates triggers on lease4 and lease6: while another transaction holds lease6,
    the migration waits only briefly each time (Kea's writes would queue behind it), and completes
    once it ends, with right statistics (MySQL keeps what an attempt created before it stepped back)."""
    monkeypatch.setattr(ddl_locks, "RETRY_PAUSE", 0.2)
    engine = shared_db.engine()
    cfg = _alembic_config()
    failures: list[BaseException] = []

    def migrate_in_background() -> None:
        try:
            upgrade(engine)
        except BaseException as exc:  # noqa: BLE001 - reported by the test
            failures.append(exc)

    migrating = threading.Thread(target=migrate_in_background)
    try:
        with engine.begin() as conn:
            cfg.attributes["connection"] = conn
            command.upgrade(cfg, "0002")
            conn.execute(schema.agent_state.delete())
        write_with_a_store(shared_db, STAT_SCENARIO)
        with lease_table_held(engine, "lease6"):
            migrating.start()
            deadline = time.monotonic() + 30
            while "migrating the lease database: lease4/lease6 is held by " not in caplog.text:
                assert time.monotonic() < deadline, caplog.text
                time.sleep(0.05)
            kea = threading.Thread(target=lambda: _kea_write(engine))
            kea.start()
            kea.join(5)
            assert not kea.is_alive(), "Kea's write waited behind the migration"
            assert migrating.is_alive()
        migrating.join(60)
        assert not migrating.is_alive() and not failures, failures
        assert is_current(engine)
        with engine.connect() as conn:
            assert KEA_TRIGGERS <= trigger_names(conn)
        assert_stats_consistent(engine)
    finally:
        if migrating.ident is not None:
            migrating.join(60)
        engine.dispose()


def _kea_write(engine: Engine) -> None:
    with engine.begin() as conn:
        kea_insert4(conn, int(ipaddress.IPv4Address("192.0.2.91")))


def test_a_migration_waits_for_another_process_s_migration_only_so_long(
        shared_db: ScratchDb, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture) -> None:
    """...and says so while it waits: start-up does not stop without a word."""
    monkeypatch.setattr(migrate_module, "_LOCK_TIMEOUT", 2)
    monkeypatch.setattr(ddl_locks, "SLOW_REPORT_EVERY", 0.5)
    engine = shared_db.engine()
    try:
        with engine.connect() as other:  # another leasesync, stuck in its migration
            if shared_db.kind == "postgresql":
                other.execute(text("SELECT pg_advisory_lock(:key)"), {"key": migrate_module._PG_LOCK_KEY})
            else:
                other.execute(text("SELECT GET_LOCK(:name, 0)"), {"name": migrate_module._LOCK_NAME})
            with pytest.raises(DatabaseOpenError, match="another process kept migrating this database for 2 s"):
                open_and_upgrade(engine, shared_db.name)
        assert not is_current(engine)
        assert f"migrating the lease database {shared_db.name}: not done after 1 s, waiting for the database" \
            in caplog.text
    finally:
        engine.dispose()


def test_single_head() -> None:
    assert head_revision() is not None  # raises on several heads
