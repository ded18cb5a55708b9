"""Local change capture: leases that the local Kea writes straight into the shared database.

When kea-dhcp4/kea-dhcp6 and leasesync share one lease database, Kea's own lease writes never go
through leasesync's command layer, so the HA layer would not hear of them. With
`lease-database.capture-changes: true` leasesync installs AFTER INSERT/UPDATE/DELETE triggers on
the family's lease table that append one row per change to `ls_lease_changes`; this module
drains that table and hands the changes to `FamilyRuntime.committed(changes, from_partner=False)`
(the HA service then sends them to partners unless `send-lease-updates` is false).

* leasesync's own writes are not captured (the command layer already reports them): the
  writer connection marks itself (`mark_writer`) and the triggers skip what is marked —
  PostgreSQL each transaction with a transaction-local GUC `leasesync.writer` (a session one
  would outlive the transaction on a pooler's shared session), MySQL/MariaDB a session variable
  `@leasesync_writer`, SQLite a SQL function `leasesync_writer()` registered on that connection
  only (the trigger looks for it in `pragma_function_list`).
* The change table is the durable queue: rows are deleted only after every listener returned,
  so changes made while leasesync was down are delivered at the next start (at-least-once).
* Wake-up: on PostgreSQL a change that finds the queue empty sends
  `pg_notify('leasesync_changes')` to a LISTEN connection (one from every change would serialise
  Kea's commits, see `_pg_ddl`); after a round that found changes the queue is polled at
  `POLL_INTERVAL` for `BUSY_TAIL`, and slowly after that, as a safety net. MySQL and SQLite are
  polled (`POLL_INTERVAL`), and so is PostgreSQL when the LISTEN connection does not hear a probe
  notification (a pooler in transaction mode gives it no session of its own).
* Coalescing: several changes of one address in a batch become one; an insert/update is sent
  with the lease as it is *now* in the table, a delete with the row the trigger saved.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from types import SimpleNamespace
from typing import TYPE_CHECKING, Any

from sqlalchemy import (
    BigInteger,
    Column,
    Double,
    Integer,
    MetaData,
    SmallInteger,
    String,
    Table,
    Text,
    delete,
    event,
    select,
    text,
)
from sqlalchemy.dialects import mysql
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import DBAPIError

from app.errors import DatabaseOpenError
from app.store import db_tls, schema
from app.store.ddl_locks import brief_lock_waits, reporting_while_slow, with_brief_lock_waits
from app.store.leases import Lease4, Lease6, lease4_from_row, lease6_from_row

if TYPE_CHECKING:
    from app.runtime import FamilyRuntime, LeaseChange, Runtime
    from app.store.repository import LeaseStore

log = logging.getLogger("leasesync.capture")

CHANNEL = "leasesync_changes"
POLL_INTERVAL = 0.2  # seconds between polls (MySQL, SQLite)
PG_SAFETY_POLL = 5.0  # PostgreSQL: poll this often even without a notification
PG_PROBE_WAIT = 5.0  # PostgreSQL: how long the LISTEN connection waits for a probe notification
BATCH = 1000  # change rows per drain round
_VERSION = "v2"  # part of every trigger/function name; bump when their SQL changes
# after a round that found changes, poll this long at POLL_INTERVAL on PostgreSQL too: a change
# queued behind others sent no notification (the PostgreSQL trigger's text says why)
BUSY_TAIL = 1.0

_metadata = MetaData()

# One row per captured change. `at` is the Unix time (seconds, fractional) of the change, for
# the capture-lag metric; `old` is the deleted row as JSON (binary columns in hex, expire in
# Unix seconds), because after a delete there is nothing left to read.
lease_changes = Table(
    "ls_lease_changes",
    _metadata,
    Column("id", BigInteger().with_variant(Integer(), "sqlite"), primary_key=True, autoincrement=True),
    Column("family", SmallInteger, nullable=False),
    Column("address", String(39), nullable=False),
    Column("op", String(6), nullable=False),
    Column("at", Double, nullable=False),
    Column("old", Text().with_variant(mysql.LONGTEXT(), "mysql")),  # a row whose user_context nears 64 KiB
)

_FIELDS = {
    4: ["address", "hwaddr", "client_id", "valid_lifetime", "expire", "subnet_id", "fqdn_fwd", "fqdn_rev",
        "hostname", "state", "user_context"],
    6: ["address", "duid", "valid_lifetime", "expire", "subnet_id", "pref_lifetime", "lease_type", "iaid",
        "prefix_len", "fqdn_fwd", "fqdn_rev", "hostname", "state", "hwaddr", "hwtype", "hwaddr_source",
        "user_context"],
}
_BINARY = {"hwaddr", "client_id", "duid"}


# --- marking leasesync's own writer ---------------------------------------------------------

def _is_writer() -> int:
    return 1


def mark_writer(conn: Connection) -> None:
    """Run on the lease store's writer connection right after it connected: its changes are
    leasesync's own and must not be captured."""
    dialect = conn.dialect.name
    if dialect == "sqlite":
        conn.connection.driver_connection.create_function(  # type: ignore[union-attr]
            "leasesync_writer", 0, _is_writer, deterministic=True)
        return
    if dialect == "postgresql":
        # per transaction, not per session: a pooler in transaction mode (pgbouncer) hands the
        # server session on to another client (Kea), whose changes a session mark would hide
        event.listen(conn, "begin", _mark_transaction)
        return
    conn.exec_driver_sql("SET @leasesync_writer = 1")  # ProxySQL pins a session that sets one
    conn.commit()


def _mark_transaction(conn: Connection) -> None:
    """PostgreSQL: mark the writer's transaction as it begins (one more round trip per batch)."""
    conn.connection.dbapi_connection.execute(  # type: ignore[union-attr]
        "SELECT set_config('leasesync.writer', 'on', true)")


# --- triggers -------------------------------------------------------------------------------

def _table(family: int) -> str:
    return "lease4" if family == 4 else "lease6"


def _json_old(dialect: str, family: int) -> str:
    parts = []
    for name in _FIELDS[family]:
        col = f"OLD.{name}"
        if name in _BINARY:
            col = {"postgresql": f"encode({col}, 'hex')", "mysql": f"HEX({col})"}.get(dialect, f"hex({col})")
        elif name == "expire":
            col = {"postgresql": f"extract(epoch from {col})::bigint", "mysql": f"UNIX_TIMESTAMP({col})"}.get(dialect, col)
        parts.append(f"'{name}', {col}")
    func = {"postgresql": "json_build_object", "mysql": "JSON_OBJECT"}.get(dialect, "json_object")
    return f"{func}({', '.join(parts)})" + ("::text" if dialect == "postgresql" else "")


def _trigger_names(dialect: str, family: int) -> list[str]:
    base = f"ls_capture_{_table(family)}"
    if dialect == "postgresql":
        return [f"{base}_{_VERSION}"]
    return [f"{base}_{op}_{_VERSION}" for op in ("ins", "upd", "del")]


# The trigger notifies only a change that finds the queue empty. PostgreSQL commits the
# transactions that notified one at a time (the notification queue's lock is held through the
# commit and its WAL flush), so a NOTIFY from every Kea write halved a multi-threaded Kea's DHCP
# rate (bench/capture_cost.py). A change queued behind others is found by the drain that takes
# those (and by ChangeCapture's BUSY_TAIL polls, if it commits a little later).
def _pg_ddl(family: int) -> list[str]:
    name = f"ls_capture_{_table(family)}_{_VERSION}"
    now = "extract(epoch from clock_timestamp())"
    return [
        f"""CREATE OR REPLACE FUNCTION {name}() RETURNS trigger LANGUAGE plpgsql AS $fn$
DECLARE
  queued boolean;
BEGIN
  IF current_setting('leasesync.writer', true) = 'on' THEN
    RETURN NULL;
  END IF;
  queued := EXISTS (SELECT 1 FROM ls_lease_changes ORDER BY id LIMIT 1);
  IF TG_OP = 'DELETE' OR (TG_OP = 'UPDATE' AND OLD.address <> NEW.address) THEN
    INSERT INTO ls_lease_changes (family, address, op, at, old)
    VALUES ({family}, OLD.address::text, 'delete', {now}, {_json_old("postgresql", family)});
  END IF;
  IF TG_OP <> 'DELETE' THEN
    INSERT INTO ls_lease_changes (family, address, op, at) VALUES ({family}, NEW.address::text, lower(TG_OP), {now});
  END IF;
  IF NOT queued THEN
    PERFORM pg_notify('{CHANNEL}', '');
  END IF;
  RETURN NULL;
END
$fn$""",
        f"CREATE TRIGGER {name} AFTER INSERT OR UPDATE OR DELETE ON {_table(family)} "
        f"FOR EACH ROW EXECUTE PROCEDURE {name}()",
    ]


def _mysql_ddl(family: int) -> list[str]:
    ins, upd, dele = _trigger_names("mysql", family)
    table, now = _table(family), "UNIX_TIMESTAMP(NOW(6))"
    put_new = f"INSERT INTO ls_lease_changes (family, address, op, at) VALUES ({family}, NEW.address, '%s', {now});"
    put_old = (f"INSERT INTO ls_lease_changes (family, address, op, at, old) "
               f"VALUES ({family}, OLD.address, 'delete', {now}, {_json_old('mysql', family)});")
    return [
        f"CREATE TRIGGER {ins} AFTER INSERT ON {table} FOR EACH ROW "
        f"BEGIN IF @leasesync_writer IS NULL THEN {put_new % 'insert'} END IF; END",
        f"CREATE TRIGGER {upd} AFTER UPDATE ON {table} FOR EACH ROW "
        f"BEGIN IF @leasesync_writer IS NULL THEN IF OLD.address <> NEW.address THEN {put_old} END IF; "
        f"{put_new % 'update'} END IF; END",
        f"CREATE TRIGGER {dele} AFTER DELETE ON {table} FOR EACH ROW "
        f"BEGIN IF @leasesync_writer IS NULL THEN {put_old} END IF; END",
    ]


def _sqlite_ddl(family: int) -> list[str]:
    ins, upd, dele = _trigger_names("sqlite", family)
    table = _table(family)
    now = "((julianday('now') - 2440587.5) * 86400.0)"
    when = "NOT EXISTS (SELECT 1 FROM pragma_function_list WHERE name = 'leasesync_writer')"
    put_new = f"INSERT INTO ls_lease_changes (family, address, op, at) VALUES ({family}, NEW.address, '%s', {now});"
    put_old = (f"INSERT INTO ls_lease_changes (family, address, op, at, old) "
               f"SELECT {family}, OLD.address, 'delete', {now}, {_json_old('sqlite', family)}")
    return [
        f"CREATE TRIGGER {ins} AFTER INSERT ON {table} WHEN {when} BEGIN {put_new % 'insert'} END",
        f"CREATE TRIGGER {upd} AFTER UPDATE ON {table} WHEN {when} BEGIN "
        f"{put_old} WHERE OLD.address <> NEW.address; {put_new % 'update'} END",
        f"CREATE TRIGGER {dele} AFTER DELETE ON {table} WHEN {when} BEGIN {put_old}; END",
    ]


def _existing_triggers(conn: Connection, dialect: str) -> set[str]:
    if dialect == "postgresql":
        rows = conn.execute(text("SELECT tgname FROM pg_trigger WHERE NOT tgisinternal AND tgname LIKE 'ls_capture_%'"))
    elif dialect == "mysql":
        rows = conn.execute(text("SELECT trigger_name FROM information_schema.triggers "
                                 "WHERE trigger_schema = DATABASE() AND trigger_name LIKE 'ls\\_capture\\_%'"))
    else:
        rows = conn.execute(text("SELECT name FROM sqlite_master WHERE type = 'trigger' AND name LIKE 'ls_capture_%'"))
    return {r[0] for r in rows}


def _drop(conn: Connection, dialect: str, name: str) -> None:
    table = "lease4" if "_lease4_" in name else "lease6"
    if dialect == "postgresql":
        conn.exec_driver_sql(f"DROP TRIGGER IF EXISTS {name} ON {table}")
        conn.exec_driver_sql(f"DROP FUNCTION IF EXISTS {name}()")
    else:
        conn.exec_driver_sql(f"DROP TRIGGER IF EXISTS {name}")


def set_capture(conn: Connection, family: int, enabled: bool) -> bool:
    """Install (or remove) the capture triggers of one family's lease table; True if changed.

    Triggers of an older `_VERSION` are replaced. Idempotent."""
    dialect = conn.dialect.name
    existing = {n for n in _existing_triggers(conn, dialect) if f"_{_table(family)}_" in n}
    wanted = set(_trigger_names(dialect, family)) if enabled else set()
    for name in sorted(existing - wanted):
        _drop(conn, dialect, name)
    if wanted and not wanted <= existing:
        if dialect == "sqlite":
            conn.exec_driver_sql("SELECT count(*) FROM pragma_function_list")  # fails without introspection
        for name in sorted(wanted & existing):
            _drop(conn, dialect, name)
        ddl = {"postgresql": _pg_ddl, "mysql": _mysql_ddl}.get(dialect, _sqlite_ddl)(family)
        for statement in ddl:
            conn.exec_driver_sql(statement)
    return existing != wanted


def remove_all_triggers(conn: Connection) -> None:
    for family in (4, 6):
        set_capture(conn, family, False)


def configure_triggers(engine: Engine, families: dict[int, bool]) -> None:
    """Bring the triggers of `engine`'s database in line with `{family: capture enabled}`. Their
    DDL waits for the lease table only briefly, and is tried again (app/store/ddl_locks.py):
    Kea's lease writes would otherwise queue behind it."""

    def attempt() -> list[int]:
        with engine.begin() as conn, brief_lock_waits(conn):
            return [family for family, enabled in families.items() if set_capture(conn, family, enabled)]

    tables = tuple(_table(family) for family in families)
    for family in with_brief_lock_waits(engine, "setting up lease change capture", tables, attempt):
        log.info("lease change capture %s for the %s table", "enabled" if families[family] else "disabled",
                 _table(family))


# --- draining -------------------------------------------------------------------------------

@dataclass(frozen=True)
class _Captured:
    id: int
    family: int
    address: str
    op: str
    at: float
    old: str | None


def _decode_old(family: int, old: str) -> Lease4 | Lease6 | None:
    try:
        values = json.loads(old)
    except ValueError:
        return None
    for name in _BINARY:
        if name in values:
            values[name] = bytes.fromhex(values[name]) if values[name] else None
    row = SimpleNamespace(**values)
    return lease4_from_row(row) if family == 4 else lease6_from_row(row)


def _fetch(conn: Connection, _dialect: str) -> tuple[list[_Captured], dict[tuple[int, str], Lease4 | Lease6]]:
    """The oldest captured changes and the current rows of the addresses they touch."""
    t = lease_changes
    captured = [_Captured(int(r.id), int(r.family), str(r.address), r.op, float(r.at), r.old)
                for r in conn.execute(select(t).order_by(t.c.id).limit(BATCH))]
    current: dict[tuple[int, str], Lease4 | Lease6] = {}
    v4 = sorted({int(c.address) for c in captured if c.family == 4 and c.op != "delete"})
    v6 = sorted({c.address for c in captured if c.family == 6 and c.op != "delete"})
    for chunk in _chunks(v4):
        for row in conn.execute(select(schema.lease4).where(schema.lease4.c.address.in_(chunk))):
            lease4 = lease4_from_row(row)
            current[(4, str(lease4.address))] = lease4
    for chunk6 in _chunks(v6):
        for row in conn.execute(select(schema.lease6).where(schema.lease6.c.address.in_(chunk6))):
            lease6 = lease6_from_row(row)
            current[(6, lease6.address)] = lease6
    return captured, current


def _chunks(values: list[Any], size: int = 500) -> list[list[Any]]:
    return [values[i:i + size] for i in range(0, len(values), size)]


def to_changes(captured: list[_Captured], current: dict[tuple[int, str], Lease4 | Lease6]
               ) -> dict[int, list[LeaseChange]]:
    """Coalesce captured rows into one LeaseChange per address (in the order of last change)."""
    from app.runtime import LeaseChange

    last: dict[tuple[int, str], _Captured] = {}
    for change in captured:
        last.pop((change.family, change.address), None)
        last[(change.family, change.address)] = change
    out: dict[int, list[LeaseChange]] = {}
    for key, change in last.items():
        if change.op == "delete":
            lease = _decode_old(change.family, change.old) if change.old else None
            if lease is None:
                log.warning("captured delete of %s without a readable row; skipped", change.address)
                continue
            out.setdefault(change.family, []).append(LeaseChange("delete", lease))
        elif key in current:
            out.setdefault(change.family, []).append(LeaseChange("update", current[key]))
        # else: gone again — its delete is further on in the queue (or was leasesync's own)
    return out


class ChangeCapture:
    """The service that drains `ls_lease_changes` of one lease database."""

    def __init__(self, store: LeaseStore, families: list[FamilyRuntime], *,
                 poll_interval: float | None = None) -> None:
        self.store = store
        self.families = {f.family: f for f in families}
        self.dialect = store.dialect
        default = PG_SAFETY_POLL if self.dialect == "postgresql" else POLL_INTERVAL
        self.poll_interval = poll_interval if poll_interval is not None else default
        self.delivered = 0  # changes handed to the listeners
        self.failures = 0  # drain rounds that failed (retried)
        self.last_lag: float | None = None  # seconds the last batch's newest change waited to be read
        # PostgreSQL: True once the LISTEN connection heard the probe, False when it did not
        # (then the changes are polled for at POLL_INTERVAL); None before the probe, or elsewhere
        self.listening: bool | None = None
        self.probed = asyncio.Event()  # set once `listening` is known
        self._wake = asyncio.Event()
        self._tasks: list[asyncio.Task[None]] = []
        self._stopping = False

    def __repr__(self) -> str:
        return f"ChangeCapture({self.store.config.redacted_url()}, families={sorted(self.families)})"

    async def start(self) -> None:
        self._stopping = False
        if self.dialect == "postgresql":
            self._tasks.append(asyncio.create_task(self._listen(), name="leasesync-capture-listen"))
        self._tasks.append(asyncio.create_task(self._run(), name="leasesync-capture"))

    async def stop(self) -> None:
        self._stopping = True
        self._wake.set()
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        self._tasks.clear()

    def wake(self) -> None:
        self._wake.set()

    async def drain_once(self) -> int:
        """Deliver the oldest batch of captured changes; the number of rows consumed."""
        from app.store.repository import FuncOp

        captured, current = await self.store.read(_fetch)
        if not captured:
            return 0
        # how late the batch is picked up: the time its newest change waited in the table
        self.last_lag = max(0.0, time.time() - captured[-1].at)
        for family, changes in to_changes(captured, current).items():
            runtime = self.families.get(family)
            if runtime is not None:
                # the lease statistics learn the net effect from the store when next used
                from app.commands.stats import CAPTURED, changed_behind

                changed_behind(runtime, CAPTURED)
                await runtime.committed(changes, from_partner=False)
                self.delivered += len(changes)
        ids = [c.id for c in captured]

        def consume(conn: Connection, _dialect: str) -> None:
            for chunk in _chunks(ids):
                conn.execute(delete(lease_changes).where(lease_changes.c.id.in_(chunk)))

        await self.store.write(FuncOp(consume))
        return len(captured)

    async def _run(self) -> None:
        backoff = 0.5
        busy_until = 0.0  # monotonic time until which changes are polled for at POLL_INTERVAL
        while not self._stopping:
            self._wake.clear()
            try:
                consumed = await self.drain_once()
                backoff = 0.5
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # noqa: BLE001 - keep the rows, try again later
                self.failures += 1
                log.warning("lease change capture: delivery failed (%s); retrying in %.1f s", exc, backoff)
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, 10.0)
                continue
            if consumed >= BATCH:
                continue
            now = time.monotonic()
            if consumed:
                busy_until = now + BUSY_TAIL
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), POLL_INTERVAL if now < busy_until else self.poll_interval)

    async def _listen(self) -> None:
        """PostgreSQL: LISTEN on the trigger's channel and wake the drainer on each notification."""
        import psycopg
        from psycopg.conninfo import make_conninfo

        db = self.store.config
        conninfo = make_conninfo(host=db.host, port=db.port or 5432, dbname=db.name, user=db.user or None,
                                 password=db.password or None, connect_timeout=db.connect_timeout,
                                 **db_tls.postgresql_parameters(db))
        while not self._stopping:
            try:
                conn = await psycopg.AsyncConnection.connect(conninfo, autocommit=True)
                try:
                    await conn.execute(f"LISTEN {CHANNEL}")
                    self._wake.set()  # anything committed before LISTEN took effect
                    self.listening = await self._hears_probe(conn, conninfo)
                    self.probed.set()
                    if not self.listening:
                        # a pooler in transaction mode (pgbouncer) keeps no session for the
                        # LISTEN: notifications go to whichever client holds that server
                        # session, or to none. Poll as for MySQL instead
                        self.poll_interval = min(self.poll_interval, POLL_INTERVAL)
                        log.warning("lease change capture: the LISTEN connection did not hear a probe "
                                    "notification within %g s (a pooler in transaction mode?); polling "
                                    "for changes every %g s instead", PG_PROBE_WAIT, self.poll_interval)
                        self._wake.set()
                        return
                    async for _ in conn.notifies():
                        self._wake.set()
                finally:
                    await conn.close()
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # noqa: BLE001 - the safety poll covers the gap
                log.warning("lease change capture: LISTEN connection lost (%s); reconnecting", exc)
                await asyncio.sleep(1.0)

    async def _hears_probe(self, conn: Any, conninfo: str) -> bool:
        """Notify the channel from a second connection: a LISTEN connection of its own session
        hears it at once; behind a pooler in transaction mode the LISTEN connection holds no
        server session between its statements, so it hears nothing, ever."""
        import psycopg

        token = f"probe-{os.getpid()}-{time.monotonic_ns()}"
        async with await psycopg.AsyncConnection.connect(conninfo, autocommit=True) as sender:
            await sender.execute("SELECT pg_notify(%s, %s)", (CHANNEL, token))
        heard = conn.notifies(timeout=PG_PROBE_WAIT)
        try:
            async for note in heard:
                self._wake.set()  # a change's notification may come first
                if note.payload == token:
                    return True
            return False
        finally:
            await heard.aclose()


def attach_capture(runtime: Runtime, *, install: bool = True,
                   mark: Callable[[Connection], None] = mark_writer) -> list[ChangeCapture]:
    """Mark every store's writer connection, bring the triggers in line with each family's
    `capture-changes` (when `install`, i.e. when migrations ran) and add one ChangeCapture
    service per database that has a capturing family."""
    services: list[ChangeCapture] = []
    for store in runtime.stores.values():
        families = [f for f in runtime.families.values() if f.store is store]
        if install:
            wanted = {f.family: f.config.lease_database.capture_changes for f in families}
            try:
                with reporting_while_slow(f"setting up lease change capture on {store.config.redacted_url()}"):
                    configure_triggers(store.engine, wanted)
            except (TimeoutError, DBAPIError) as exc:  # start-up ends with the reason, not a traceback
                from app.store.migrate import db_error_reason  # as elsewhere, not at import: it loads Alembic

                reason = db_error_reason(exc) if isinstance(exc, DBAPIError) else str(exc)
                raise DatabaseOpenError(f"{store.config.redacted_url()}: {reason}") from None
        capturing = [f for f in families if f.config.lease_database.capture_changes]
        if capturing or not install:
            # without capture the triggers are gone (config-reload cannot bring them back): the
            # mark, a round trip per writer transaction on PostgreSQL, would buy nothing
            store.on_writer_connect = mark
        if capturing:
            service = ChangeCapture(store, capturing)
            services.append(service)
            runtime.services.append(service)
    return services
