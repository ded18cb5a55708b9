"""Bring a lease database up to date with leasesync's Alembic migrations.

The lease tables are Kea 2.2's own, so before any migration runs the Kea schema version found in
the database (if any) is checked against the one Kea 2.2 uses; a mismatch stops with
`KeaSchemaMismatch` naming both versions, and nothing is changed.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from alembic import command
from alembic.config import Config as AlembicConfig
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import inspect, text
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError

from app.errors import DatabaseOpenError
from app.store.ddl_locks import brief_lock_waits, is_lock_timeout, reporting_while_slow, with_brief_lock_waits
from app.store.schema import KEA_MYSQL_SCHEMA_VERSION, KEA_PGSQL_SCHEMA_VERSION

log = logging.getLogger("leasesync.store")
MIGRATIONS_DIR = Path(__file__).resolve().parent.parent.parent / "migrations"
VERSION_TABLE = "ls_alembic_version"

# ls_agent_state key recording who created the Kea lease schema: "kea" (kea-admin db-init; left
# alone) or "leasesync" (our migrations; they may complete it).
KEA_SCHEMA_ORIGIN_KEY = "kea-schema-origin"

_LOCK_NAME = "leasesync_migrate"
_PG_LOCK_KEY = 0x6C73_6D69  # "lsmi": pg_advisory_xact_lock key serialising concurrent upgrades
_LOCK_TIMEOUT = 60  # seconds to wait for another process's migration (MySQL GET_LOCK, PostgreSQL lock_timeout)


class KeaSchemaMismatch(RuntimeError):
    """The database holds a Kea lease schema of another version than Kea 2.2's."""


def expected_kea_version(dialect: str) -> tuple[int, int]:
    """The (version, minor) Kea 2.2 needs in `schema_version` (SQLite: PostgreSQL's numbering)."""
    return KEA_MYSQL_SCHEMA_VERSION if dialect == "mysql" else KEA_PGSQL_SCHEMA_VERSION


def kea_schema_version(conn: Connection) -> tuple[int, int] | None:
    """The (version, minor) in `schema_version`, or None when there is no such table (or row)."""
    if not inspect(conn).has_table("schema_version"):
        return None
    row = conn.execute(text("SELECT version, minor FROM schema_version ORDER BY version DESC")).first()
    if row is None:
        return None
    return int(row[0]), int(row[1] or 0)


def check_kea_schema_version(conn: Connection) -> None:
    """Raise KeaSchemaMismatch when a Kea schema of a version Kea 2.2 would refuse is present."""
    found = kea_schema_version(conn)
    if found is None:
        if inspect(conn).has_table("schema_version"):
            raise KeaSchemaMismatch("the Kea lease schema's schema_version table is empty")
        return
    need = expected_kea_version(conn.dialect.name)
    if found != need:
        backend = "MySQL" if conn.dialect.name == "mysql" else "PostgreSQL"
        raise KeaSchemaMismatch(
            f"the lease database holds Kea {backend} schema version {found[0]}.{found[1]}, but leasesync "
            f"(like Kea 2.2) needs version {need[0]}.{need[1]}; use a database at {need[0]}.{need[1]} "
            f"(kea-admin db-init/db-upgrade of Kea 2.2) or an empty one"
        )


def _alembic_config() -> AlembicConfig:
    cfg = AlembicConfig()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    return cfg


@contextmanager
def _migration_lock(conn: Connection) -> Iterator[None]:
    """Serialise migrations of one database by several processes (e.g. two HA peers)."""
    dialect = conn.dialect.name
    if dialect == "postgresql":
        conn.exec_driver_sql(f"SET LOCAL lock_timeout = '{_LOCK_TIMEOUT}s'")
        try:
            conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _PG_LOCK_KEY})
        except DBAPIError as exc:
            if is_lock_timeout(exc):
                raise TimeoutError(f"another process kept migrating this database for {_LOCK_TIMEOUT} s") from None
            raise
        yield
    elif dialect == "mysql":
        got = conn.execute(text("SELECT GET_LOCK(:name, :timeout)"),
                           {"name": _LOCK_NAME, "timeout": _LOCK_TIMEOUT}).scalar()
        if got != 1:
            raise TimeoutError(f"another process kept migrating this database for {_LOCK_TIMEOUT} s")
        try:
            yield
        finally:
            conn.execute(text("SELECT RELEASE_LOCK(:name)"), {"name": _LOCK_NAME})
    else:
        yield  # SQLite: the first write locks the whole database


def upgrade(engine: Engine) -> None:
    """Apply every pending migration. Their DDL waits for a lease table's lock only briefly
    (app/store/ddl_locks.py): Kea may be writing to this database."""
    logging.getLogger("alembic").setLevel(logging.WARNING)
    cfg = _alembic_config()

    def attempt() -> None:
        with engine.begin() as conn, _migration_lock(conn), brief_lock_waits(conn):
            check_kea_schema_version(conn)
            cfg.attributes["connection"] = conn
            command.upgrade(cfg, "head")

    with_brief_lock_waits(engine, "migrating the lease database", ("lease4", "lease6"), attempt)


def open_and_upgrade(engine: Engine, name: str, *, retries: int | None = 0, wait: float = 0.0,
                     sleep: Callable[[float], None] = time.sleep) -> None:
    """`upgrade`, with a failure to reach the database or to migrate it raised as one
    DatabaseOpenError naming the database `name` and the reason, not a driver's traceback. A
    database that cannot be reached is tried again `retries` times (None: until it answers),
    `wait` seconds apart (Kea's retry-on-startup)."""
    tried = 0
    while True:
        try:
            with reporting_while_slow(f"migrating the lease database {name}"):
                upgrade(engine)
            return
        except (KeaSchemaMismatch, TimeoutError) as exc:
            raise DatabaseOpenError(f"{name}: {exc}") from None
        except (OperationalError, InterfaceError) as exc:
            reason = db_error_reason(exc)
            if retries is not None and tried >= retries:
                raise DatabaseOpenError(f"{name}: {reason}") from None
            tried += 1
            of = f"{tried} of {retries}" if retries is not None else f"{tried}, on-fail serve-retry-continue"
            log.warning("lease database %s cannot be opened (%s); retry-on-startup: trying again in %g s (%s)",
                        name, reason, wait, of)
            sleep(wait)
        except DBAPIError as exc:
            raise DatabaseOpenError(f"{name}: {db_error_reason(exc)}") from None


def db_error_reason(exc: DBAPIError) -> str:
    """What the server or driver said, without SQLAlchemy's statement and background link."""
    return str(exc.orig if exc.orig is not None else exc).strip()


def current_revision(engine: Engine) -> str | None:
    with engine.connect() as conn:
        return MigrationContext.configure(conn, opts={"version_table": VERSION_TABLE}).get_current_revision()


def head_revision() -> str | None:
    return ScriptDirectory.from_config(_alembic_config()).get_current_head()


def is_current(engine: Engine) -> bool:
    return current_revision(engine) == head_revision()
