"""Schema changes on a database Kea writes to: wait for a table's lock briefly, never for long.

Installing the change-capture triggers (and a migration's DDL) needs a lock on `lease4`/`lease6`
that conflicts with Kea's own lease writes. PostgreSQL and MySQL/MariaDB both queue lock
requests: while that DDL waits for a transaction that holds the table (an administrator's open
psql session, a report, a nightly `mysqldump --single-transaction`), every Kea write that comes
after it waits behind it, and Kea stops handing out leases for as long as the other transaction
lasts. So each attempt waits at most `LOCK_WAIT_*`, is rolled back (nothing changed) when it
cannot have its lock, and is tried again `RETRY_PAUSE` later, for `PATIENCE` seconds in all; the
warning in between names the transactions that hold the tables. SQLite needs none of this: Kea
has no SQLite backend, and SQLite's writer waits under its own busy timeout.
"""

from __future__ import annotations

import contextlib
import logging
import threading
import time
from collections.abc import Callable, Iterator
from typing import TypeVar

from sqlalchemy import bindparam, text
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import DBAPIError

log = logging.getLogger("leasesync.store")

LOCK_WAIT_PG = 0.5  # seconds one attempt may wait for a lock (PostgreSQL's lock_timeout)
LOCK_WAIT_MYSQL = 1  # the same for MySQL/MariaDB, whose lock_wait_timeout takes whole seconds
RETRY_PAUSE = 2.0  # seconds between attempts: Kea's writes go on meanwhile
PATIENCE = 60.0  # seconds of attempts before start-up gives up
SLOW_REPORT_EVERY = 10.0  # seconds between the warnings of a start-up step that is not done

_PG_LOCK_NOT_AVAILABLE = "55P03"
_MYSQL_LOCK_WAIT_TIMEOUT = 1205

T = TypeVar("T")


class TablesBusy(TimeoutError):
    """The tables stayed held by other transactions for PATIENCE seconds; nothing was changed."""


def is_lock_timeout(exc: BaseException) -> bool:
    """`exc` ended a wait for a lock (lock_timeout / lock_wait_timeout), not some other failure."""
    orig = exc.orig if isinstance(exc, DBAPIError) else exc
    if getattr(orig, "sqlstate", None) == _PG_LOCK_NOT_AVAILABLE:
        return True
    args: tuple[object, ...] = getattr(orig, "args", ())
    return bool(args) and args[0] == _MYSQL_LOCK_WAIT_TIMEOUT


@contextlib.contextmanager
def brief_lock_waits(conn: Connection) -> Iterator[None]:
    """Within this block (inside a transaction of `conn`), a wait for a lock ends after LOCK_WAIT_*."""
    dialect = conn.dialect.name
    if dialect == "postgresql":
        conn.exec_driver_sql(f"SET LOCAL lock_timeout = '{int(LOCK_WAIT_PG * 1000)}ms'")  # ends with the transaction
        yield
    elif dialect == "mysql":
        conn.exec_driver_sql(f"SET SESSION lock_wait_timeout = {LOCK_WAIT_MYSQL}")
        try:
            yield
        finally:
            # the connection goes back to the pool and may become a writer: its waits are the
            # server's again. A reset fails only on a broken connection, which the pool discards;
            # the error that broke it is the one to raise
            with contextlib.suppress(DBAPIError):
                conn.exec_driver_sql("SET SESSION lock_wait_timeout = DEFAULT")
    else:
        yield


def holders(engine: Engine, tables: tuple[str, ...]) -> str:
    """Who holds `tables` now, for the log: 'pid 42 (psql, postgres, idle in transaction, for 35 s)';
    empty when that cannot be told."""
    try:
        with engine.connect() as conn:
            if conn.dialect.name == "postgresql":
                rows = conn.execute(text(
                    "SELECT DISTINCT a.pid, a.application_name, a.usename, a.state, "
                    "EXTRACT(EPOCH FROM now() - a.xact_start) "
                    "FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid "
                    "WHERE l.granted AND l.pid <> pg_backend_pid() AND l.relation IN "
                    "(SELECT to_regclass(t)::oid FROM unnest(CAST(:tables AS text[])) AS t) "
                    "ORDER BY 5 DESC NULLS LAST LIMIT 3"), {"tables": list(tables)}).all()
                return ", ".join(f"pid {pid} ({app or 'no application name'}, {user}, {state}"
                                 + (f", for {age:.0f} s)" if age is not None else ")")
                                 for pid, app, user, state, age in rows)
            if conn.dialect.name == "mysql":
                return _mysql_holders(conn, tables)
    except Exception as exc:  # noqa: BLE001 - only a log line's detail
        log.debug("could not tell who holds %s: %s", "/".join(tables), exc)
    return ""


def _mysql_holders(conn: Connection, tables: tuple[str, ...]) -> str:
    """MySQL 8 shows its metadata locks in performance_schema (on by default there); MariaDB,
    whose performance_schema is off by default, does not: there the open transactions, oldest
    first, are where such a lock is held."""
    try:
        rows = conn.execute(text(
            "SELECT DISTINCT t.PROCESSLIST_ID, t.PROCESSLIST_USER, t.PROCESSLIST_HOST, t.PROCESSLIST_TIME "
            "FROM performance_schema.metadata_locks m "
            "JOIN performance_schema.threads t ON t.THREAD_ID = m.OWNER_THREAD_ID "
            "WHERE m.OBJECT_SCHEMA = DATABASE() AND m.OBJECT_NAME IN :tables AND m.LOCK_STATUS = 'GRANTED' "
            "AND t.PROCESSLIST_ID <> CONNECTION_ID() LIMIT 3").bindparams(bindparam("tables", expanding=True)),
            {"tables": list(tables)}).all()
    except DBAPIError:
        rows = []
    if not rows:
        rows = conn.execute(text(
            "SELECT t.trx_mysql_thread_id, p.USER, p.HOST, TIMESTAMPDIFF(SECOND, t.trx_started, NOW()) "
            "FROM information_schema.INNODB_TRX t "
            "LEFT JOIN information_schema.PROCESSLIST p ON p.ID = t.trx_mysql_thread_id "
            "WHERE t.trx_mysql_thread_id <> CONNECTION_ID() ORDER BY t.trx_started LIMIT 3")).all()
    return ", ".join(f"thread {thread} ({user}@{host}, for {age} s)" for thread, user, host, age in rows)


def with_brief_lock_waits(engine: Engine, what: str, tables: tuple[str, ...], attempt: Callable[[], T]) -> T:
    """Run `attempt` (one transaction, inside which the caller uses `brief_lock_waits`) until it
    does not end on a lock wait; raise TablesBusy once PATIENCE has passed. `what` says what is
    being done, for the log ('setting up lease change capture')."""
    started = time.monotonic()
    while True:
        try:
            return attempt()
        except DBAPIError as exc:
            if not is_lock_timeout(exc):
                raise
        held_by = holders(engine, tables) or "another transaction"
        names = "/".join(tables)
        waited = time.monotonic() - started
        if waited + RETRY_PAUSE > PATIENCE:
            raise TablesBusy(f"{what}: {names} stayed held by {held_by} for {waited:.0f} s; leasesync gave up "
                             "rather than hold Kea's lease writes behind its wait") from None
        log.warning("%s: %s is held by %s; not waiting for it, so as not to hold Kea's lease writes behind "
                    "the wait; trying again in %g s (giving up after %g s)", what, names, held_by, RETRY_PAUSE,
                    PATIENCE)
        time.sleep(RETRY_PAUSE)


@contextlib.contextmanager
def reporting_while_slow(what: str) -> Iterator[None]:
    """Warn every SLOW_REPORT_EVERY seconds while the block runs. A long migration, or a database
    server that accepts but does not answer (hung on its disk, a proxy left in front of a dead
    one), would otherwise hold start-up without a word."""
    every = SLOW_REPORT_EVERY
    done = threading.Event()
    started = time.monotonic()

    def report() -> None:
        while not done.wait(every):
            log.warning("%s: not done after %.0f s, waiting for the database server (a long migration, "
                        "or a server that does not answer)", what, time.monotonic() - started)

    reporter = threading.Thread(target=report, name="leasesync-slow-step", daemon=True)
    reporter.start()
    try:
        yield
    finally:
        done.set()
        reporter.join()
