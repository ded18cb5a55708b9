"""The lease repository: the only place that runs SQL against lease tables.

Writes practise *group commit*: every write queued while the previous transaction was
committing is applied in the next single transaction, and each caller's future is resolved only
after that commit returned. Concurrent requests therefore share one fsync instead of paying one
each, and no answer is ever sent for an uncommitted change. The writer is a thread of its own
(PostgreSQL has two: LeaseStore._claim_batch); on SQLite, light writes from the serving event
loop are applied by the loop itself and only their COMMIT waits on a thread (_InlineWriter: it
keeps the batch's statements off the GIL tug-of-war between two threads). Reads run on a small
thread pool with their own connections; SQLite point lookups run on the loop (read_point), and
so do PostgreSQL's lookups of leases by address, identifier or hostname, over asyncpg
connections (_pg_leases, pg_lookups.py).

Two updates of the same lease can never interleave into a half-written row: on SQLite and MySQL
one writer applies every write in turn; on PostgreSQL a write is taken beside an open transaction
only if it names none of that transaction's leases (by family and address, WriteOp.lease_keys).
"""

from __future__ import annotations

import asyncio
import ipaddress
import itertools
import logging
import os
import re
import socket
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass, field
from operator import itemgetter
from queue import SimpleQueue
from typing import Any

import orjson
from sqlalchemy import (
    and_,
    bindparam,
    cast,
    create_engine,
    delete,
    event,
    func,
    insert,
    literal,
    select,
    text,
    update,
)
from sqlalchemy.dialects.postgresql import INET
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import DataError, DBAPIError, IntegrityError, SQLAlchemyError
from sqlalchemy.sql.elements import ColumnElement

from app.config import DatabaseConfig
from app.errors import StoreOutcomeUnknown, StoreRejected, StoreUnavailable
from app.store import db_tls, schema
from app.store.leases import (
    INFINITE,
    STATE_DECLINED,
    STATE_RECLAIMED,
    Lease4,
    Lease6,
    ascii_lower,
    encode_time,
    lease4_from_row,
    lease4_to_row,
    lease6_from_row,
    lease6_to_row,
    v6_order_bytes,
)
from app.store.pg_lookups import PgLookupConnections, PgLookupsUnavailable
from app.store.stall_guard import StallGuard

log = logging.getLogger("leasesync.store")


# --- write operations ----------------------------------------------------------------------
# Each op is applied inside the writer's transaction and returns its outcome; an op never
# commits by itself.

class WriteOp:
    # A light op is a few indexed statements (one lease, a small bulk): on SQLite it may be applied
    # on the event loop itself (see _InlineWriter); anything larger or arbitrary runs on the writer thread.

    # Set by whoever hands this op's changes to the HA peers afterwards (app/commands/leases.py):
    # the changes are then recorded in ls_ha_handoff under this token, in the op's own transaction
    # (see LeaseStore._apply and app/ha/service.py).
    handoff: int | None = None

    # An op that changes exactly one lease (add, update, delete): see _InlineWriter._may_commit.
    # A property, not a ClassVar that subclasses override: mypyc (bench/compiled.py) would take
    # the override for a field of the dataclass subclasses.
    @property
    def one_lease(self) -> bool:
        return False

    @property
    def light(self) -> bool:
        return False

    def apply(self, conn: Connection, dialect: str) -> Any:  # pragma: no cover - interface
        raise NotImplementedError

    def sendable(self, dialect: str) -> bool:
        """Whether `send` can split this op (PostgreSQL pipeline mode)."""
        return False

    def send(self, conn: Connection, dialect: str) -> Callable[[], Any]:
        """Send this op's statement without waiting for it, and return what reads its outcome
        once the results are in (only when `sendable`)."""
        raise NotImplementedError

    def lease_keys(self) -> frozenset[LeaseKey] | None:
        """The leases this op may change, by family and address; None when that is not known
        beforehand (a wipe, a reclamation, any FuncOp): such an op has the database to itself
        (see LeaseStore._claim_batch)."""
        return None

    def changed(self, outcome: Any) -> list[tuple[Lease4 | Lease6, bool]]:
        """The leases this op's outcome says it changed, each with True when it was deleted (the
        HA hand-off journal's rows); only for ops that may carry `handoff`."""
        raise NotImplementedError


def _handoff_row(token: int, lease: Lease4 | Lease6, deleted: bool) -> dict[str, Any]:
    return {"token": token, "family": 4 if isinstance(lease, Lease4) else 6, "address": lease.ip,
            "lease_type": lease.type if isinstance(lease, Lease6) else 0,
            "deleted": orjson.dumps(lease.to_kea()).decode() if deleted else None}


LeaseKey = tuple[int, int | bytes]


def lease_key(family: int, address: int | str) -> LeaseKey:
    """A lease's row by family and address, whatever spelling of a v6 address names it."""
    if family == 4:
        return (4, int(address))
    return (6, socket.inet_pton(socket.AF_INET6, str(address)))


def _key_of(lease: Lease4 | Lease6) -> LeaseKey:
    return lease_key(4, lease.address) if isinstance(lease, Lease4) else lease_key(6, lease.address)


def _insert_if_absent(table: Any, dialect: str) -> Any:
    if dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as pg_insert

        return pg_insert(table).on_conflict_do_nothing()
    if dialect == "sqlite":
        from sqlalchemy.dialects.sqlite import insert as sqlite_insert

        return sqlite_insert(table).on_conflict_do_nothing()
    # not INSERT IGNORE: besides the duplicate key it ignores every error of the row, storing a
    # time beyond TIMESTAMP's range as 0000-00-00 and cutting a long hostname to the column's
    # length; a plain INSERT fails on both, and _inserted_fast tells the duplicate key (1062)
    return insert(table)


_MYSQL_DUPLICATE_KEY = 1062


# --- pre-compiled statements for the hot path -------------------------------------------------
# Building and compiling a SQLAlchemy construct per statement (cache-key generation, coercions,
# bind processing, result objects) cost ~4x the SQL itself on the lease-update path. The few
# statements every lease write and lease4-get run are compiled once per dialect here and executed
# on the raw DB-API cursor of the same connection and transaction; DB-API errors are wrapped back
# into SQLAlchemy's exception classes so the writer's error handling is unchanged.
# Bind parameters are named `p_<column>` (`w_lease_type` for the v6 type condition).

def _binds(table: Any, skip: str = "") -> dict[str, Any]:
    return {c.name: bindparam(f"p_{c.name}") for c in table.c if c.name != skip}


def _replace_at_address(ins: Any, table: Any, where: Any = None) -> Any:
    """`ins` (a PostgreSQL/SQLite INSERT), replacing every other column of the row already at the
    address (only where `where` holds)."""
    return ins.on_conflict_do_update(
        index_elements=[table.c.address],
        set_={c.name: ins.excluded[c.name] for c in table.c if c.name != "address"},
        where=where,
    )


_RowParams = Callable[[dict[str, Any]], tuple[Any, ...]]


def _row_params(compiled: Any) -> _RowParams | None:
    """A positional paramstyle's parameters taken from a lease row in the statement's order, by
    one C call (itemgetter): bind `p_x` (or `w_x`) takes row["x"]. None: named style."""
    if not compiled.positional:
        return None
    keys = [name[2:] for name in compiled.positiontup]
    if len(keys) > 1:
        return itemgetter(*keys)
    key = keys[0]
    return lambda row: (row[key],)


def _build_statements(dialect: Any) -> dict[str, tuple[str, _RowParams | None]]:
    name = dialect.name
    stmts: dict[str, Any] = {}
    for key, table in (("4", schema.lease4), ("6", schema.lease6)):
        by_address = table.c.address == bindparam("p_address")
        stmts["update" + key] = update(table).where(by_address).values(_binds(table, "address"))
        stmts["insert" + key] = _insert_if_absent(table, name).values(_binds(table))
        if name != "mysql":
            stmts["insert" + key] = stmts["insert" + key].returning(table.c.address)
        stmts["get" + key] = _by_address(int(key))
        stmts["delete" + key] = delete(table).where(by_address)
        # reclamation: an expired lease kept as expired-reclaimed, without its name
        stmts["reclaim" + key] = update(table).where(by_address).values(
            state=bindparam("p_state"), hostname=bindparam("p_hostname"),
            fqdn_fwd=bindparam("p_fqdn_fwd"), fqdn_rev=bindparam("p_fqdn_rev"))
    stmts["update6_type"] = update(schema.lease6).where(
        and_(schema.lease6.c.address == bindparam("p_address"), schema.lease6.c.lease_type == bindparam("w_lease_type"))
    ).values(_binds(schema.lease6, "address"))
    if name in ("sqlite", "postgresql"):
        from sqlalchemy import literal_column
        from sqlalchemy.dialects.postgresql import insert as pg_insert
        from sqlalchemy.dialects.sqlite import insert as sqlite_insert

        insert_for = pg_insert if name == "postgresql" else sqlite_insert
        for key, table in (("4", schema.lease4), ("6", schema.lease6)):
            stmts["upsert" + key] = _replace_at_address(insert_for(table).values(_binds(table)), table)
        if name == "postgresql":
            # force-create in one round trip (UpdateLease): the upsert, telling "added" from
            # "updated" by `xmax = 0`, which holds for a row the statement inserted, not for one it
            # updated; v6 type-matched: only a lease of the same type is replaced
            inserted: Any = literal_column("(xmax = 0)")
            stmts["force4"] = stmts["upsert4"].returning(inserted)
            ins6 = pg_insert(schema.lease6).values(_binds(schema.lease6))
            stmts["force6_type"] = _replace_at_address(
                ins6, schema.lease6, where=schema.lease6.c.lease_type == ins6.excluded.lease_type).returning(inserted)
    out: dict[str, tuple[str, _RowParams | None]] = {}
    for key, stmt in stmts.items():
        compiled = stmt.compile(dialect=dialect)
        out[key] = (compiled.string, _row_params(compiled))
    return out


_STATEMENTS: dict[str, dict[str, tuple[str, _RowParams | None]]] = {}
_ROW_TYPES: dict[str, Any] = {}


def _statements(dialect: Any) -> dict[str, tuple[str, _RowParams | None]]:
    """The pre-compiled statements of `dialect`, built at first use."""
    statements = _STATEMENTS.get(dialect.name)
    if statements is None:
        statements = _STATEMENTS[dialect.name] = _build_statements(dialect)
    return statements


def _run(conn: Connection, sql: str, params: Any, *, many: bool = False) -> Any:
    """Run `sql` on `conn`'s DB-API cursor and return the cursor. A driver error comes out as
    SQLAlchemy would raise it: callers tell IntegrityError and lost connections by its classes."""
    dialect = conn.dialect
    cursor = conn.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
    try:
        if many:
            cursor.executemany(sql, params)
        else:
            cursor.execute(sql, params)
    except dialect.loaded_dbapi.Error as exc:
        raise DBAPIError.instance(sql, params, exc, dialect.loaded_dbapi.Error, dialect=dialect) from exc
    return cursor


def _execute(conn: Connection, key: str, row: dict[str, Any]) -> Any:
    """Run pre-compiled statement `key` with a lease row on `conn`'s DB-API cursor."""
    sql, row_params = _statements(conn.dialect)[key]
    if row_params is not None:
        params: Any = row_params(row)
    else:
        params = {f"p_{k}": v for k, v in row.items()}
        if key == "update6_type":
            params["w_lease_type"] = row["lease_type"]
    return _run(conn, sql, params)


def _execute_many(conn: Connection, key: str, rows: list[dict[str, Any]]) -> None:
    sql, row_params = _statements(conn.dialect)[key]
    if row_params is not None:
        params: Any = list(map(row_params, rows))
    else:
        params = [{f"p_{k}": v for k, v in row.items()} for row in rows]
    _run(conn, sql, params, many=True)


_UNNEST_UPSERTS: dict[int, tuple[str, list[str]]] = {}


def _array_type(column: Any, dialect: Any) -> str:
    """`column`'s PostgreSQL type as an array cast, without a length: a cast to varchar(n) would cut
    a longer value silently, while storing a plain varchar into the column raises the error."""
    return re.sub(r"\(\d+\)", "", column.type.compile(dialect=dialect)) + "[]"


def _unnest_upsert(dialect: Any, family: int) -> tuple[str, list[str]]:
    """The PostgreSQL upsert of `family` for many rows, built once: `INSERT .. SELECT * FROM
    unnest(%b::type[], ..) ON CONFLICT (address) DO UPDATE ..`, and the row keys in array order."""
    cached = _UNNEST_UPSERTS.get(family)
    if cached is None:
        sql, _ = _statements(dialect)[f"upsert{family}"]
        head, _, rest = sql.partition(" VALUES (")
        values, _, conflict = rest.partition(") ON CONFLICT ")
        keys = [name[2:] for name in re.findall(r"%\((\w+)\)s", values)]  # p_address -> address
        table = schema.lease4 if family == 4 else schema.lease6
        arrays = ", ".join(f"%b::{_array_type(table.c[key], dialect)}" for key in keys)
        cached = _UNNEST_UPSERTS[family] = (f"{head} SELECT * FROM unnest({arrays}) ON CONFLICT {conflict}", keys)
    return cached


def _upsert_rows_postgresql(conn: Connection, family: int, rows: list[dict[str, Any]],
                            returning: str = "") -> list[Any]:
    """Upsert `rows` as one `INSERT .. ON CONFLICT (address) DO UPDATE` that takes one array per
    column, sent in binary (psycopg builds an array's text form in Python: 4x the CPU); the rows
    of the `returning` clause (e.g. " RETURNING address"), if any.

    One statement per row, PostgreSQL parsed and planned every row again (no prepared statements,
    see make_engine): 50 leases took ~14 ms. One multi-row VALUES list took ~4.5 ms, but its text
    changed with the row count and was too long for psycopg's cache of converted queries, so
    psycopg's client-side placeholder scan took two thirds of the process's CPU under a
    lease6-bulk-apply load; this statement's text never changes. One statement may not touch a row
    twice, so of repeated addresses only the last row is sent, which leaves the table (and Kea's
    lease-statistics triggers) as applying them in turn would."""
    sql, keys = _unnest_upsert(conn.dialect, family)
    # in the order of Kea's statistics rows, whose locks the triggers take row by row: two
    # writers' transactions (see _claim_batch) then take the ones they share in the same order
    last = sorted({row["address"]: row for row in rows}.values(), key=_stat_order)
    cursor = _run(conn, sql + returning, [[row[key] for row in last] for key in keys])
    return cursor.fetchall() if returning else []


def _stat_order(row: dict[str, Any]) -> tuple[int, int, int]:
    return row["subnet_id"], row.get("lease_type", 0), row["state"]


def _distinct_force4_rows(batch: list[_Pending], dialect: str) -> list[dict[str, Any]] | None:
    """The rows of a batch of v4 force-create updates of distinct addresses (an HA partner's or a
    script's lease4-update stream); None for any other batch."""
    rows = []
    for pending in batch:
        op = pending.op
        if not (isinstance(op, UpdateLease) and op.force_create and isinstance(op.lease, Lease4)):
            return None
        rows.append(lease4_to_row(op.lease, dialect))
    return rows if len({row["address"] for row in rows}) == len(rows) else None


def _merged_bulk_outcomes(conn: Connection, batch: list[_Pending]) -> list[Any] | None:
    """A batch of bulks that only upsert leases of one family (concurrent lease6-bulk-apply
    requests, a partner's stream of them) applied as one BulkApply, so that PostgreSQL gets one
    statement per batch instead of one per bulk; each bulk's outcome (deleted, upserted) as its own
    `apply` would have returned it. None for any other batch: bulks with deletes stay apart, as
    their deletes run before their own upserts."""
    bulks: list[BulkApply] = []
    for pending in batch:
        op = pending.op
        if not (isinstance(op, BulkApply) and not op.deletes and op.upserts):
            return None
        bulks.append(op)
    merged = BulkApply(upserts=[upsert for op in bulks for upsert in op.upserts])
    if not merged._plain_upserts():
        return None
    outcomes = iter(merged._upsert_many(conn, "postgresql"))
    return [([], list(itertools.islice(outcomes, len(op.upserts)))) for op in bulks]


def _force4_rows_postgresql(conn: Connection, rows: list[dict[str, Any]]) -> list[str]:
    """Force-create updates of distinct v4 addresses as one multi-row upsert, each told "added" or
    "updated" by `xmax = 0` as the one-row statement does (sent one by one, pipelined, PostgreSQL
    parsed and planned each statement anew)."""
    returned = _upsert_rows_postgresql(conn, 4, rows, " RETURNING address, (xmax = 0)")
    added = {int(address): bool(flag) for address, flag in returned}
    return ["added" if added[row["address"]] else "updated" for row in rows]


def _force4_rows_sqlite(conn: Connection, rows: list[dict[str, Any]]) -> list[str]:
    """The same on SQLite (_upsert_changed_sqlite): one query, then one executemany per kind of
    change, instead of an UPDATE and, for a new lease, an INSERT per lease (two statements' worth
    of sqlite3 and Python work each: a quarter of a lease4-update's CPU at 8 clients)."""
    present = _upsert_changed_sqlite(conn, 4, rows)
    return ["updated" if row["address"] in present else "added" for row in rows]


# the columns of a lease row after its address, in table order
_VALUE_COLUMNS = {family: tuple(c.name for c in table.c if c.name != "address")
                  for family, table in ((4, schema.lease4), (6, schema.lease6))}
_VALUES_OF = {family: itemgetter(*names) for family, names in _VALUE_COLUMNS.items()}
_WHOLE_ROW = {family: ", ".join(("address", *names)) for family, names in _VALUE_COLUMNS.items()}
_CHANGED_UPDATES: dict[tuple[int, tuple[int, ...]], str] = {}


def _upsert_changed_sqlite(conn: Connection, family: int, rows: list[dict[str, Any]]) -> set[Any]:
    """SQLite: store `rows` (distinct addresses), each replacing the whole lease at its address;
    return the addresses that held a lease before.

    The rows at those addresses are read in one query. New leases are inserted by one
    executemany; a lease already there gets an UPDATE of only the columns whose values differ
    (one executemany per set of columns), and a lease sent again unchanged no statement at all.
    Why: SQLite rewrites an index's entry whenever the UPDATE sets one of the index's columns,
    to the same value or not, and an upsert sets them all, so a renewal (a new expiry, nothing
    else: most of an HA partner's updates) rewrote the entries of all five indexes, each a page
    to write to the WAL. The row ends the same either way."""
    current = {found[0]: found[1:]
               for found in _rows_at(conn, family, _WHOLE_ROW[family], [row["address"] for row in rows])}
    values_of = _VALUES_OF[family]
    added: list[dict[str, Any]] = []
    changes: dict[tuple[int, ...], list[tuple[Any, ...]]] = {}
    for row in rows:
        old = current.get(row["address"])
        if old is None:
            added.append(row)
            continue
        new = values_of(row)
        if new != old:
            changed = tuple(i for i, value in enumerate(new) if value != old[i])
            changes.setdefault(changed, []).append((*(new[i] for i in changed), row["address"]))
    if added:
        _execute_many(conn, f"upsert{family}", added)
    for changed, params in changes.items():
        sql = _CHANGED_UPDATES.get((family, changed))
        if sql is None:
            names = _VALUE_COLUMNS[family]
            sql = _CHANGED_UPDATES[(family, changed)] = (
                f"UPDATE lease{family} SET {', '.join(f'{names[i]} = ?' for i in changed)} WHERE address = ?")
        _run(conn, sql, params, many=True)
    return set(current)


_PRESENT_CHUNK = 500  # addresses per query: far below SQLite's bound-variable limit (32766)


def _rows_at(conn: Connection, family: int, columns: str, addresses: list[Any]) -> list[Any]:
    """SQLite: `columns` of the lease rows at `addresses` (in their row form), as DB-API tuples.
    Straight on the DB-API cursor: through SQLAlchemy the expanding `IN` was compiled again on
    every call (a tenth of a bulk's CPU)."""
    found: list[Any] = []
    for start in range(0, len(addresses), _PRESENT_CHUNK):
        chunk = addresses[start:start + _PRESENT_CHUNK]
        cursor = _run(conn, f"SELECT {columns} FROM lease{family} WHERE address IN ({', '.join(['?'] * len(chunk))})",
                      tuple(chunk))
        found += cursor.fetchall()
    return found


def _present_addresses(conn: Connection, family: int, addresses: list[Any]) -> set[Any]:
    """SQLite: which of `addresses` have a lease row (PostgreSQL's upsert tells it itself)."""
    return {row[0] for row in _rows_at(conn, family, "address", addresses)}


def _fetch_one(conn: Connection, family: int, address: Any) -> Any:
    """The lease row at `address` (attribute access, as SQLAlchemy rows), or None."""
    cursor = _execute(conn, f"get{family}", {"address": address})
    raw = cursor.fetchone()
    if raw is None:
        return None
    return _row_type(family)._make(raw)


def _row_type(family: int) -> Any:
    """A lease table's rows as named tuples (attribute access, as SQLAlchemy rows)."""
    row_type: Any = _ROW_TYPES.get(f"{family}")
    if row_type is None:
        from collections import namedtuple

        table = schema.lease4 if family == 4 else schema.lease6
        row_type = _ROW_TYPES[f"{family}"] = namedtuple(f"Lease{family}Row", [c.name for c in table.c])  # type: ignore[misc]
    return row_type


_COMPILED_READS: dict[tuple[str, str], tuple[str, _RowParams | None]] = {}


def _compiled_rows(conn: Connection, family: int, key: str, build: Callable[[], Any],
                   params: dict[str, Any]) -> list[Any]:
    """The lease rows of `build()`, a SELECT of a whole lease table whose bind parameters are
    named `p_<key of params>`: compiled once per dialect under `key`, then run on the DB-API
    cursor. Built through SQLAlchemy Core on every call, a lookup cost about 300 µs of the
    serving loop before SQLite did anything (bench/RESULTS.md, session 19)."""
    cached = _COMPILED_READS.get((conn.dialect.name, key))
    if cached is None:
        compiled = build().compile(dialect=conn.dialect)
        cached = _COMPILED_READS[(conn.dialect.name, key)] = (compiled.string, _row_params(compiled))
    sql, row_params = cached
    cursor = _run(conn, sql, row_params(params) if row_params is not None else {f"p_{k}": v for k, v in params.items()})
    row_type = _row_type(family)
    return [row_type._make(raw) for raw in cursor.fetchall()]


def _by_address(family: int) -> Any:
    table = schema.lease4 if family == 4 else schema.lease6
    return select(table).where(table.c.address == bindparam("p_address"))


def _pg_loop_sql(key: str, build: Callable[[], Any]) -> str:
    """The statement `build()` makes, in asyncpg's dialect ($1 parameters with casts, in the
    order of the statement's bind parameters), compiled at first use and kept under `key`."""
    sql: str | None = _LOOP_STATEMENTS.get(key)
    if sql is None:
        from sqlalchemy.dialects.postgresql.asyncpg import PGDialect_asyncpg

        sql = _LOOP_STATEMENTS[key] = str(build().compile(dialect=PGDialect_asyncpg()))
    return sql


_LOOP_STATEMENTS: dict[str, str] = {}


def _inserted_fast(conn: Connection, family: int, row: dict[str, Any]) -> bool:
    """Insert `row` unless a lease holds its address (pre-compiled statement); True when inserted."""
    if conn.dialect.name == "mysql":
        try:
            _execute(conn, f"insert{family}", row)
        except IntegrityError as exc:
            # InnoDB undoes only the failed statement: the batch's transaction goes on
            if exc.orig is not None and exc.orig.args and exc.orig.args[0] == _MYSQL_DUPLICATE_KEY:
                return False
            raise
        return True
    # psycopg reports no rowcount for ON CONFLICT DO NOTHING: the statement returns the inserted key
    return _execute(conn, f"insert{family}", row).fetchone() is not None


@dataclass
class AddLease(WriteOp):
    """Create a lease; the outcome is False when one already exists for the address."""

    @property
    def one_lease(self) -> bool:
        return True

    lease: Lease4 | Lease6

    @property
    def light(self) -> bool:
        return True

    def lease_keys(self) -> frozenset[LeaseKey]:
        return frozenset((_key_of(self.lease),))

    def apply(self, conn: Connection, dialect: str) -> bool:
        if isinstance(self.lease, Lease4):
            return _inserted_fast(conn, 4, lease4_to_row(self.lease, dialect))
        return _inserted_fast(conn, 6, lease6_to_row(self.lease, dialect))

    def changed(self, outcome: Any) -> list[tuple[Lease4 | Lease6, bool]]:
        return [(self.lease, False)] if outcome is True else []

    def sendable(self, dialect: str) -> bool:
        return dialect == "postgresql"

    def send(self, conn: Connection, dialect: str) -> Callable[[], Any]:
        if isinstance(self.lease, Lease4):
            cursor = _execute(conn, "insert4", lease4_to_row(self.lease, dialect))
        else:
            cursor = _execute(conn, "insert6", lease6_to_row(self.lease, dialect))
        return lambda: cursor.fetchone() is not None


@dataclass
class UpdateLease(WriteOp):
    """Replace a lease; with force_create add it when absent. Outcome: 'updated', 'added', None
    (absent, or of another type), or 'exists' (see replace_other_type). v6: only a stored lease of
    the same type is replaced (Kea looks up (address, type))."""

    @property
    def one_lease(self) -> bool:
        return True

    lease: Lease4 | Lease6
    force_create: bool = False
    # v6 force-create only: a lease of another type at the address is replaced (an HA partner's
    # bulk apply), or left alone with the outcome 'exists' (lease6-update, as Kea's SQL backends)
    replace_other_type: bool = True

    @property
    def light(self) -> bool:
        return True

    def lease_keys(self) -> frozenset[LeaseKey]:
        return frozenset((_key_of(self.lease),))

    def apply(self, conn: Connection, dialect: str) -> str | None:
        if self.sendable(dialect):  # PostgreSQL force-create: one statement, one round trip
            return self.send(conn, dialect)()  # type: ignore[no-any-return]
        if isinstance(self.lease, Lease4):
            family, row, by_key = 4, lease4_to_row(self.lease, dialect), "update4"
        else:
            family, row = 6, lease6_to_row(self.lease, dialect)
            by_key = "update6_type"
        if _execute(conn, by_key, row).rowcount:
            return "updated"
        if not self.force_create:
            return None
        if _inserted_fast(conn, family, row):
            return "added"
        if not self.replace_other_type:
            return "exists"
        # an address of another v6 type is in the way: the lease replaces it
        _execute(conn, f"update{family}", row)
        return "updated"

    def sendable(self, dialect: str) -> bool:
        return dialect == "postgresql" and self.force_create

    def send(self, conn: Connection, dialect: str) -> Callable[[], Any]:
        # insert, or replace the row at the address (v6 type-matched: only a lease of its type);
        # an UPDATE and then an INSERT would cost the writer two round trips
        if isinstance(self.lease, Lease4):
            row, key = lease4_to_row(self.lease, dialect), "force4"
        else:
            row, key = lease6_to_row(self.lease, dialect), "force6_type"
        cursor = _execute(conn, key, row)

        def outcome() -> str:
            first = cursor.fetchone()
            if first is not None:
                return "added" if first[0] else "updated"
            if not self.replace_other_type:
                return "exists"
            # an address of another v6 type is in the way: the lease replaces it
            _execute(conn, "update6", row)
            return "updated"

        return outcome

    def changed(self, outcome: Any) -> list[tuple[Lease4 | Lease6, bool]]:
        return [(self.lease, False)] if outcome in ("added", "updated") else []


@dataclass
class DeleteLease(WriteOp):
    """Delete one lease; the outcome is the deleted lease, or None when there was none."""

    @property
    def one_lease(self) -> bool:
        return True

    family: int
    address: int | str
    lease_type: int | None = None  # v6: only a lease of this type

    @property
    def light(self) -> bool:
        return True

    def lease_keys(self) -> frozenset[LeaseKey]:
        return frozenset((lease_key(self.family, self.address),))

    def apply(self, conn: Connection, dialect: str) -> Lease4 | Lease6 | None:
        # pre-compiled statements: an HA partner's releases arrive as a stream of these
        row = _fetch_one(conn, self.family, self.address)
        if row is None or (self.family == 6 and self.lease_type is not None and row.lease_type != self.lease_type):
            return None  # (one row per address: a lease of another type there is not this lease)
        _execute(conn, f"delete{self.family}", {"address": self.address})
        return lease4_from_row(row) if self.family == 4 else lease6_from_row(row)

    def changed(self, outcome: Any) -> list[tuple[Lease4 | Lease6, bool]]:
        return [(outcome, True)] if isinstance(outcome, (Lease4, Lease6)) else []


@dataclass
class WipeLeases(WriteOp):
    """Delete all leases of the given subnets; the outcome is the list of deleted leases."""

    family: int
    subnet_ids: Sequence[int]

    def apply(self, conn: Connection, dialect: str) -> list[Lease4 | Lease6]:
        table = schema.lease4 if self.family == 4 else schema.lease6
        decode = lease4_from_row if self.family == 4 else lease6_from_row
        cond = table.c.subnet_id.in_(list(self.subnet_ids))
        rows = conn.execute(select(table).where(cond)).all()
        if rows:
            conn.execute(delete(table).where(cond))
        return [decode(r) for r in rows]

    def changed(self, outcome: Any) -> list[tuple[Lease4 | Lease6, bool]]:
        return [(lease, True) for lease in outcome]


@dataclass
class ReclaimExpired(WriteOp):
    """Kea's reclamation of expired leases (`leases-reclaim`, and the periodic one of
    `expired-leases-processing`): every lease whose expiry is before `now` and that is not
    already expired-reclaimed, infinite leases excepted, soonest expired first. A declined lease
    is deleted (its address goes back to the pool), any other one is deleted with `remove`, else
    set to expired-reclaimed with its hostname and FQDN flags cleared, as Kea does. The outcome
    is the list of (lease as it was, deleted)."""

    family: int
    now: int
    remove: bool
    limit: int = 0  # at most this many leases (0: all)

    def apply(self, conn: Connection, dialect: str) -> list[tuple[Lease4 | Lease6, bool]]:
        table = schema.lease4 if self.family == 4 else schema.lease6
        decode = lease4_from_row if self.family == 4 else lease6_from_row
        stmt = select(table).where(
            table.c.state != STATE_RECLAIMED, table.c.valid_lifetime != INFINITE,
            table.c.expire < encode_time(self.now, dialect),
        ).order_by(table.c.expire, table.c.address)
        if self.limit > 0:
            stmt = stmt.limit(self.limit)
        outcome: list[tuple[Lease4 | Lease6, bool]] = []
        deleted: list[dict[str, Any]] = []
        reclaimed: list[dict[str, Any]] = []
        for row in conn.execute(stmt).all():
            lease = decode(row)
            removed = self.remove or lease.state == STATE_DECLINED
            # by address alone: it is the table's key, and the row was read in this transaction
            if removed:
                deleted.append({"address": row.address})
            else:
                reclaimed.append({"address": row.address, "state": STATE_RECLAIMED, "hostname": "",
                                  "fqdn_fwd": False, "fqdn_rev": False})
            outcome.append((lease, removed))
        # pre-compiled, one executemany each: built through SQLAlchemy Core per lease, a chunk of
        # 500 held the writer (and every write queued behind it) for about 150 ms
        if deleted:
            _execute_many(conn, f"delete{self.family}", deleted)
        if reclaimed:
            _execute_many(conn, f"reclaim{self.family}", reclaimed)
        return outcome


@dataclass
class FlushReclaimed(WriteOp):
    """Delete the expired-reclaimed leases whose expiry is before `before` (Kea's flush of
    reclaimed leases after hold-reclaimed-time); the outcome is their addresses."""

    family: int
    before: int

    def apply(self, conn: Connection, dialect: str) -> list[Any]:
        table = schema.lease4 if self.family == 4 else schema.lease6
        cond = and_(table.c.state == STATE_RECLAIMED, table.c.expire < encode_time(self.before, dialect))
        addresses = [row[0] for row in conn.execute(select(table.c.address).where(cond)).all()]
        if addresses:
            conn.execute(delete(table).where(cond))
        return [int(a) for a in addresses] if self.family == 4 else addresses


@dataclass
class BulkApply(WriteOp):
    """Deletes then upserts, each with its own outcome (lease6-bulk-apply, sync pages)."""

    deletes: list[DeleteLease] = field(default_factory=list)
    upserts: list[UpdateLease] = field(default_factory=list)

    @property
    def light(self) -> bool:
        return len(self.deletes) + len(self.upserts) <= _LIGHT_BULK

    def lease_keys(self) -> frozenset[LeaseKey]:
        return frozenset([lease_key(d.family, d.address) for d in self.deletes]
                         + [_key_of(u.lease) for u in self.upserts])

    def changed(self, outcome: Any) -> list[tuple[Lease4 | Lease6, bool]]:
        deleted, upserted = outcome
        return ([change for d, result in zip(self.deletes, deleted, strict=True) for change in d.changed(result)]
                + [change for u, result in zip(self.upserts, upserted, strict=True) for change in u.changed(result)])

    def apply(self, conn: Connection, dialect: str) -> tuple[list[Any], list[Any]]:
        deleted = [d.apply(conn, dialect) for d in self.deletes]
        if dialect in ("sqlite", "postgresql") and len(self.upserts) > 1 and self._plain_upserts():
            return deleted, self._upsert_many(conn, dialect)
        return deleted, [u.apply(conn, dialect) for u in self.upserts]

    def _plain_upserts(self) -> bool:
        """Every upsert is a force-create of one family: then, whatever type a v6 lease already at the
        address has, UpdateLease ends with the new row at that address, i.e. an upsert by address."""
        kind = type(self.upserts[0].lease)
        return all(u.force_create and type(u.lease) is kind for u in self.upserts)

    def _upsert_many(self, conn: Connection, dialect: str) -> list[Any]:
        # One INSERT .. ON CONFLICT (address) DO UPDATE for all leases instead of 2 statements per
        # lease (an executemany; on PostgreSQL one statement). Outcomes stay UpdateLease's:
        # "updated" when a row was at the address before, else "added"; a later duplicate of an
        # address in the same batch finds the earlier one.
        v4 = isinstance(self.upserts[0].lease, Lease4)
        family = 4 if v4 else 6
        rows = [lease4_to_row(u.lease, dialect) if v4 else lease6_to_row(u.lease, dialect)  # type: ignore[arg-type]
                for u in self.upserts]
        if dialect == "postgresql":
            # which rows were there before, from the upsert itself: `xmax = 0` holds for a row the
            # statement inserted (one round trip and one index probe per lease less than asking)
            returned = _upsert_rows_postgresql(conn, family, rows, " RETURNING address, (xmax = 0)")
            present = {address for address, inserted in returned if not inserted}
        else:
            addresses = {r["address"] for r in rows}
            if len(addresses) == len(rows):
                present = _upsert_changed_sqlite(conn, family, rows)
            else:  # an address twice: the upsert applies them in order
                present = _present_addresses(conn, family, list(addresses))
                _execute_many(conn, f"upsert{family}", rows)
        outcomes: list[Any] = []
        for row in rows:
            outcomes.append("updated" if row["address"] in present else "added")
            present.add(row["address"])
        return outcomes


@dataclass
class FuncOp(WriteOp):
    """Any other transactional change (backlog, agent state): `fn(conn, dialect)`."""

    fn: Callable[[Connection, str], Any]
    is_light: bool = False  # a few indexed statements: may be applied on the event loop (WriteOp.light)

    @property
    def light(self) -> bool:
        return self.is_light

    def apply(self, conn: Connection, dialect: str) -> Any:
        return self.fn(conn, dialect)


# --- the store -----------------------------------------------------------------------------

# the largest bulk (deletes + upserts) applied on the event loop: about a millisecond of SQLite work
_LIGHT_BULK = 64
# PostgreSQL/MySQL: the longest the writer waits to gather a batch as large as the last one
_GATHER_SECONDS = 0.0005
_GATHER_AT_MOST = 16  # ... and only for batches up to this size
# PostgreSQL: writer connections. With two, one batch's statement runs while the other batch's
# Kea statistics triggers and COMMIT finish (bench/pg_ceiling.py: 1.9x the bulks of one
# connection, and eight commit no more than two; bench/RESULTS.md, session 18)
_PG_WRITE_CONNECTIONS = 2
# StallGuard: how long past query-timeout a slow PostgreSQL server may still finish an operation
# whose requests were answered, before its connection is given up
_STALL_GRACE_SECONDS = 2.0
# asyncpg errors of a named prepared statement missing or already there on the server connection:
# a pooler in transaction mode between leasesync and PostgreSQL (see _pg_fetch)
_POOLER_STATEMENT_ERRORS = ("26000", "42P05")
_ASYNCPG_STATEMENT_CACHE = 100  # asyncpg's default
_PG_LOOKUP_FAILURES_REPORTED = 3  # loop lookups failed in a row (each a second apart) before a warning
# how long a transaction begun beside another writer's waits for a row lock before it is rolled
# back and redone alone: two batches taking Kea's statistics rows in opposite orders would
# otherwise wait for PostgreSQL's deadlock check (deadlock_timeout, 1 s by default) and fail
_LOCK_TIMEOUT_BESIDE = "100ms"
_LOCK_CONFLICTS = frozenset({"55P03", "40P01"})  # lock_not_available (lock_timeout), deadlock_detected


def _gathered(pendings: Iterable[_Pending]) -> int:
    """How many of `pendings` are single-lease writes, the kind the writer gathers (see
    LeaseStore._gather): a client's leaseX-update, -add or -del."""
    return sum(isinstance(p.op, (UpdateLease, AddLease, DeleteLease)) for p in pendings)


def _on_sqlite_connect(synchronous: str) -> Callable[[Any, Any], None]:
    def setup(dbapi_conn: Any, _record: Any) -> None:
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute(f"PRAGMA synchronous={synchronous}")
        cur.execute("PRAGMA busy_timeout=10000")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.close()
        # lease6-get-page orders Kea's text addresses by value (LeaseStore.page6)
        dbapi_conn.create_function("ls_v6key", 1, v6_order_bytes, deterministic=True)

    return setup


def make_engine(db: DatabaseConfig) -> Engine:
    kwargs: dict[str, Any] = {"pool_pre_ping": db.type != "sqlite"}
    if db.type == "sqlite":
        # the writer and the readers each keep their own connection
        kwargs["connect_args"] = {"check_same_thread": False, "timeout": db.query_timeout, "isolation_level": None}
        kwargs["pool_size"] = db.pool_size + 4  # readers, writer, the loop's writer and reader, checkpointer
    elif db.type == "postgresql":
        # prepare_threshold None: no server-side prepared statements. psycopg prepares a query after 5
        # runs, and PostgreSQL then keeps a generic plan made while the lease table was small (with
        # autovacuum slow or off nothing invalidates it): the bulk upsert's `address IN (...)` stayed a
        # sequential scan and lease6-bulk-apply slowed in step with the table (4.6 -> 67 ms per 50
        # leases over 60,000 rows). Unprepared, each query is planned for the table as it is.
        kwargs["connect_args"] = {"connect_timeout": db.connect_timeout, "prepare_threshold": None,
                                  **db_tls.postgresql_parameters(db)}
        kwargs["pool_size"] = db.pool_size + _PG_WRITE_CONNECTIONS
    else:
        read_timeout, write_timeout = db.mysql_socket_timeouts()
        kwargs["connect_args"] = {
            "connect_timeout": db.connect_timeout,
            "read_timeout": read_timeout,
            "write_timeout": write_timeout,
            # strict, as Kea's own connections: a value the column cannot hold is an error, never
            # a silently clipped or zeroed one
            "init_command": "SET time_zone = '+00:00', sql_mode = 'STRICT_ALL_TABLES'",
            **db_tls.mysql_connect_args(db),
        }
        kwargs["pool_size"] = db.pool_size + 1
    engine = create_engine(db.url(), **kwargs)
    if db.type == "mysql" and db.tls is not None and db.tls.required:
        event.listen(engine, "connect", lambda dbapi_connection, _record: db_tls.require_mysql_tls(dbapi_connection))
    if db.type == "sqlite":
        event.listen(engine, "connect", _on_sqlite_connect(db.synchronous))

        # pysqlite's own transaction handling is off (isolation_level None); begin explicitly
        @event.listens_for(engine, "begin")
        def _begin(conn: Connection) -> None:
            # reads (LeaseStore.read marks them) need only a WAL snapshot: with BEGIN IMMEDIATE
            # they took the database's single write lock, queueing behind the writer's commit
            # (fsync) and behind each other
            sql = "BEGIN" if conn.info.get(_READ_ONLY) else "BEGIN IMMEDIATE"
            # on the DB-API connection: through exec_driver_sql this one statement cost as much as
            # a lease update's own SQL (6 % of the serving loop's time in a profile)
            dbapi = engine.dialect.loaded_dbapi
            try:
                conn.connection.dbapi_connection.execute(sql)  # type: ignore[union-attr]
            except dbapi.Error as exc:
                # as exec_driver_sql raised it: callers tell "database is locked" by SQLAlchemy's class
                raise DBAPIError.instance(sql, (), exc, dbapi.Error, dialect=engine.dialect) from exc

    return engine


@dataclass
class _Pending:
    op: WriteOp
    loop: asyncio.AbstractEventLoop
    future: asyncio.Future[Any]
    # QUEUED → TAKEN (in the writer's open transaction) → COMMITTING; a request whose
    # query-timeout fires before COMMITTING is ABANDONED and the writer leaves it out.
    state: int = 0
    keys: frozenset[LeaseKey] | None = None  # op.lease_keys(), once `keyed` (LeaseStore._keys_of)
    keyed: bool = False
    alone: bool = False  # rolled back after a lock conflict: redone with no other batch in flight


_QUEUED, _TAKEN, _COMMITTING, _ABANDONED = range(4)


class _Deadlines:
    """The query-timeout of the writes awaited on one event loop, with one timer for them all.

    A timer per write (call_later, then cancel) cost about 5 % of a lease update. All writes of a
    store share one timeout, so their deadlines come in the order the writes came: the timer
    only ever waits for the oldest write still unanswered, and answered writes are dropped from
    the front as new ones arrive. A write is withdrawn at its own deadline, as with its own timer."""

    def __init__(self, store: LeaseStore, loop: asyncio.AbstractEventLoop) -> None:
        self.store = store
        self.loop = loop
        self.timeout = store.config.query_timeout
        self.waiting: deque[tuple[float, _Pending]] = deque()
        self.timer: asyncio.TimerHandle | None = None

    def watch(self, pending: _Pending) -> None:
        waiting = self.waiting
        while waiting and waiting[0][1].future.done():
            waiting.popleft()
        waiting.append((self.loop.time() + self.timeout, pending))
        if self.timer is None:
            self.timer = self.loop.call_at(waiting[0][0], self._expire)

    def _expire(self) -> None:
        self.timer = None
        waiting = self.waiting
        now = self.loop.time()
        while waiting:
            deadline, pending = waiting[0]
            if not pending.future.done():
                if deadline > now:
                    self.timer = self.loop.call_at(deadline, self._expire)
                    return
                self.store._abandon(pending)
            waiting.popleft()
        # nothing left to watch: forget this loop (a test's short-lived loop, say) until it writes again
        if self.store._deadlines.get(self.loop) is self:
            del self.store._deadlines[self.loop]


class LeaseStore:
    """Async facade over one lease database: group-committed writes, pooled reads."""

    def __init__(self, db: DatabaseConfig) -> None:
        self.config = db
        self.engine = make_engine(db)
        self.dialect = self.engine.dialect.name
        self._queue: deque[_Pending] = deque()
        self._cond = threading.Condition()
        self._stopping = False
        self._writers: list[threading.Thread] = []
        # PostgreSQL: two writer threads, each with its connection, so that one transaction's
        # statement runs while the other one commits (see _claim_batch); elsewhere one
        self._write_connections = _PG_WRITE_CONNECTIONS if self.dialect == "postgresql" else 1
        self._readers = ThreadPoolExecutor(max_workers=db.pool_size, thread_name_prefix="leasesync-read")
        self._reader_local = threading.local()  # each reader thread's own connection
        self._reader_conns: list[Connection] = []
        self._reader_conns_lock = threading.Lock()
        self.commits = 0
        self.committed_ops = 0
        self.failed_commits = 0
        # called with each new writer connection right after it connected (app/capture.py marks
        # leasesync's own writes there so that change-capture triggers skip them)
        self.on_writer_connect: Callable[[Connection], None] | None = None
        # SQLite: WAL checkpoints run on their own thread and connection (see _checkpoint_loop)
        self._checkpointer: threading.Thread | None = None
        self._checkpoint_due = threading.Event()
        self._wal_restart_wanted = False
        # SQLite: light writes and point reads from the serving event loop run on that loop (below)
        self._inline_writer: _InlineWriter | None = None
        self._inline_reader: Connection | None = None
        # guarded by _cond: writer threads holding a batch, the leases those batches may change,
        # whether one of them is an op of unknown reach, whether a writer is taking a batch
        self._busy_writers = 0
        self._in_flight: dict[LeaseKey, int] = {}
        self._exclusive_in_flight = False
        self._claiming = False
        self.lock_conflicts = 0  # concurrent transactions redone alone (_commit_batch)
        # PostgreSQL/MySQL: how many lease writes the last transaction saw (in its batch and queued
        # while it ran), and how long the writer may wait for that many (see _gather)
        self._expected_batch = 1
        self._gather_for = 0.0 if self.dialect == "sqlite" else _GATHER_SECONDS
        self._gathering = False
        self._deadlines: dict[asyncio.AbstractEventLoop, _Deadlines] = {}  # query-timeout, per waiting loop
        self.read_only = False
        self._inline_seq_before = 0  # writer thread: the inline commits its last commit came after
        self._read_loop: asyncio.AbstractEventLoop | None = None  # SQLite: read_point runs on this loop
        # PostgreSQL: lease lookups on the serving loop, over asyncpg connections of its own, up
        # to twice pool-size: a lookup holds one for a round trip only, and on 2 cores 8 of them
        # served 8 and 32 clients 11-16 % faster than 4 (bench/RESULTS.md, session 17)
        self._pg_lookups = PgLookupConnections(self._connect_pg_lookup, 2 * db.pool_size)
        # PostgreSQL: a connection whose server stopped answering (hung, or behind a proxy that
        # still acknowledges) is given up once an operation outlives query-timeout and a grace
        # period, so the writers and readers get their threads back (app/store/stall_guard.py)
        self.stall_guard: StallGuard | None = None
        if self.dialect == "postgresql":
            self.stall_guard = StallGuard(db.query_timeout + _STALL_GRACE_SECONDS)
            self.stall_guard.install(self.engine)

    # lifecycle
    def start(self, *, read_only: bool = False) -> None:
        """Start the writer and checkpoint threads; `read_only` (an HTTP front-end process, which
        only reads: app/api/frontends.py) starts neither, and `write` refuses."""
        self.read_only = read_only
        if self.stall_guard is not None:
            self.stall_guard.start()
        if read_only:
            if self.dialect == "sqlite":
                self._read_loop = asyncio.get_running_loop()
            return
        if not self._writers:
            for number in range(self._write_connections):
                name = "leasesync-writer" + (f"-{number + 1}" if number else "")
                self._writers.append(threading.Thread(target=self._writer_loop, name=name, daemon=True))
            for thread in self._writers:
                thread.start()
        if self.dialect == "sqlite" and self._inline_writer is None:
            try:
                home = asyncio.get_running_loop()
            except RuntimeError:
                home = None  # started outside an event loop (tools): everything goes through the threads
            if home is not None:
                self._inline_writer = _InlineWriter(self, home)
                self._read_loop = home
        if self.dialect == "sqlite" and self._checkpointer is None:
            self._checkpointer = threading.Thread(target=self._checkpoint_loop, name="leasesync-checkpoint", daemon=True)
            self._checkpointer.start()

    def close(self) -> None:
        with self._cond:
            self._stopping = True
            self._cond.notify_all()
        if self._inline_writer is not None:
            self._inline_writer.close()
        if self._inline_reader is not None:
            self._inline_reader.info.pop(_READ_ONLY, None)
            self._inline_reader.close()
            self._inline_reader = None
        self._pg_lookups.close()
        for thread in self._writers:
            thread.join(timeout=10)
        self._checkpoint_due.set()
        if self._checkpointer is not None:
            self._checkpointer.join(timeout=10)
        self._readers.shutdown(wait=True)
        if self.stall_guard is not None:
            self.stall_guard.close()
        for conn in self._reader_conns:
            try:
                conn.info.pop(_READ_ONLY, None)
                conn.close()
            except Exception:  # noqa: BLE001 - closing at shutdown
                pass
        self._reader_conns.clear()
        self.engine.dispose()

    # writes
    async def write(self, op: WriteOp) -> Any:
        """Queue `op`; return its outcome once the transaction holding it has committed."""
        if self.read_only:
            raise StoreUnavailable("this process only reads the lease database")
        loop = asyncio.get_running_loop()
        future: asyncio.Future[Any] = loop.create_future()
        pending = _Pending(op, loop, future)
        inline = self._inline_writer
        with self._cond:
            if self._stopping:
                raise StoreUnavailable("the lease store is shutting down")
            if (inline is not None and loop is inline.loop and op.light and inline.usable
                    and not self._queue and not self._busy_writers):
                inline.queue.append(pending)
                inline.kick()
            else:
                if inline is not None and inline.queue:
                    # first come, first committed: what waits for the loop goes ahead of this op
                    self._queue.extend(inline.queue)
                    inline.queue.clear()
                self._queue.append(pending)
                if len(self._queue) == 1 or len(self._queue) >= self._expected_batch or not self._gathering:
                    # (a writer gathering a batch sleeps until it is complete: each wake-up in
                    # between would take the GIL from this loop for nothing; while one gathers,
                    # the other writer waits on the same condition and must not take its wake-up)
                    self._cond.notify(self._write_connections if self._gathering else 1)
        # query-timeout: on expiry the request is withdrawn if its transaction has not begun to
        # commit, so "nothing was changed" stays true (see _abandon)
        deadlines = self._deadlines.get(loop)
        if deadlines is None:
            deadlines = self._deadlines[loop] = _Deadlines(self, loop)
        deadlines.watch(pending)
        return await future

    def _abandon(self, pending: _Pending) -> None:
        """query-timeout of one write (event-loop thread): withdraw it unless it is committing."""
        if pending.future.done():
            return
        timeout = self.config.query_timeout
        with self._cond:
            if pending.state == _QUEUED:
                if pending in self._queue:
                    self._queue.remove(pending)
                elif self._inline_writer is not None and pending in self._inline_writer.queue:
                    self._inline_writer.queue.remove(pending)
                pending.state = _ABANDONED
            elif pending.state == _TAKEN:
                pending.state = _ABANDONED  # the writer rolls back and commits the rest without it
        if pending.state == _ABANDONED:
            pending.future.set_exception(
                StoreUnavailable(f"the lease database did not commit within {timeout:g} s"))
        else:
            pending.future.set_exception(StoreOutcomeUnknown(
                f"the lease database did not confirm the commit within {timeout:g} s"))

    def _writer_loop(self) -> None:
        conn: Connection | None = None
        while True:
            with self._cond:
                claimed = self._claim_batch()
            if claimed is None:
                break
            batch, keys = claimed
            try:
                if conn is None or conn.closed:
                    conn = self._connect_writer()
                batch, results = self._commit_batch(conn, batch)
            except _LockConflict as conflict:
                log.debug("a lease write waited too long for a lock held beside it (%s); redoing %d "
                          "change(s) alone", _short(conflict.error), len(conflict.batch))
                self._count(conflicts=1)
                with self._cond:
                    self._requeue_alone(conflict.batch)
                    self._release(keys)
                continue
            except _CommitUnconfirmed as unconfirmed:
                log.warning("lease database COMMIT of %d change(s) failed (%s): they may have been applied",
                            len(unconfirmed.batch), _short(unconfirmed.error))
                self._count(failed=1)
                conn = self._reset(conn)
                batch, results = unconfirmed.batch, [unconfirmed.outcome()] * len(unconfirmed.batch)
            except Exception as exc:  # noqa: BLE001 - also a driver's own error (OverflowError): this thread must live on
                log.warning("lease database write failed (%s); retrying the %d queued change(s) one by one",
                            _short(exc), len(batch))
                self._count(failed=1)
                conn = self._reset(conn)
                batch, results = self._commit_one_by_one(conn, batch)
                if conn is not None and conn.invalidated:
                    conn = self._reset(conn)
            with self._cond:
                # before the answers go out: a client they answer may write again at once, and
                # would be counted as one more that wrote during this transaction
                self._expected_batch = _gathered(batch) + _gathered(self._queue)
            # one wake-up of each event loop per batch, not one per write
            by_loop: dict[asyncio.AbstractEventLoop, list[tuple[asyncio.Future[Any], Any]]] = {}
            for pending, outcome in zip(batch, results, strict=True):
                by_loop.setdefault(pending.loop, []).append((pending.future, outcome))
            inline = self._inline_writer
            for loop, resolved in by_loop.items():
                try:
                    if inline is not None and loop is inline.loop:
                        # after the loop's own earlier batches, which may still wait for their fsync
                        # (one by one, the last commit's place stands for all of them)
                        loop.call_soon_threadsafe(inline.resolve_in_order, self._inline_seq_before, resolved)
                    else:
                        loop.call_soon_threadsafe(_resolve_all, resolved)
                except RuntimeError:  # that loop is closed: nobody waits any more
                    pass
            with self._cond:
                self._release(keys)
            if self._wal_restart_wanted and conn is not None and not conn.invalidated:
                # after the answers went out: the checkpointer found the WAL long; copying the
                # few frames it could not catch up with, here between transactions, lets the
                # next transaction start the WAL over (see _checkpoint_loop)
                self._wal_restart_wanted = False
                try:
                    conn.connection.dbapi_connection.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()  # type: ignore[union-attr]
                except Exception as exc:  # noqa: BLE001 - only an optimisation; the next commit reports real trouble
                    log.debug("WAL checkpoint in the writer failed: %s", exc)
        if conn is not None:
            conn.close()

    def _claim_batch(self) -> tuple[list[_Pending], frozenset[LeaseKey] | None] | None:
        """Under `_cond`: wait for writes this writer may take, take them and mark them in flight;
        None once the store stops and nothing is left.

        With two writers (PostgreSQL) a batch is taken while the other one's transaction runs
        only if no lease of it is in that transaction: then the row locks cannot reorder two
        changes of one lease, and both commit as if one after the other. It is the longest run
        of such writes from the head of the queue, so writes are still taken in the order they
        came. An op whose leases are not known beforehand (a wipe, a reclamation, the HA backlog)
        waits until no other batch is in flight and is in flight alone."""
        while True:
            if self._queue and self._claimable():
                self._claiming = True  # the other writer waits while this one gathers
                try:
                    self._gather()
                finally:
                    self._claiming = False
                batch, keys = self._take()
                if batch:
                    break
                continue  # what was queued was withdrawn (query-timeout) meanwhile
            if self._stopping and not self._queue:
                return None
            self._cond.wait()
        for pending in batch:
            pending.state = _TAKEN
        if self._queue and self._write_connections > 1:
            self._cond.notify()  # what is left may be the other writer's to take
        self._busy_writers += 1
        if keys is None:
            self._exclusive_in_flight = True
        else:
            for key in keys:
                self._in_flight[key] = self._in_flight.get(key, 0) + 1
        return batch, keys

    def _claimable(self) -> bool:
        if self._claiming:
            return False
        if not self._busy_writers:
            return True
        if self._exclusive_in_flight or not isinstance(self._queue[0].op, BulkApply):
            # single-lease writes are cheaper gathered into the next transaction than run in a
            # small one beside the open one (lease4-update at 8 clients: 12 % slower so)
            return False
        keys = self._keys_of(self._queue[0])
        return keys is not None and all(key not in self._in_flight for key in keys)

    def _take(self) -> tuple[list[_Pending], frozenset[LeaseKey] | None]:
        """The batch _claim_batch takes (see there) and the leases it may change (None: unknown)."""
        if not self._busy_writers:
            # alone: everything queued, as one writer would (a FuncOp rides along); in flight
            # alone too if it holds an op of unknown reach
            batch = list(self._queue)
            self._queue.clear()
            if self._write_connections == 1:
                return batch, None  # nothing ever runs beside the one writer: no keys to work out
            union: set[LeaseKey] = set()
            for pending in batch:
                more = self._keys_of(pending)
                if more is None:
                    return batch, None
                union |= more
            return batch, frozenset(union)
        taken: list[_Pending] = []
        keys: set[LeaseKey] = set()
        for pending in self._queue:
            more = self._keys_of(pending)
            if more is None or any(key in self._in_flight for key in more):
                break
            taken.append(pending)
            keys |= more
        for _ in taken:
            self._queue.popleft()
        return taken, frozenset(keys)

    @staticmethod
    def _keys_of(pending: _Pending) -> frozenset[LeaseKey] | None:
        if pending.alone:
            return None
        if not pending.keyed:
            try:
                pending.keys = pending.op.lease_keys()
            except (OSError, ValueError, TypeError):
                # an address that does not parse (a row some other writer stored): unknown reach,
                # never an exception on the writer thread, which would then stop writing
                pending.keys = None
            pending.keyed = True
        return pending.keys

    def _release(self, keys: frozenset[LeaseKey] | None) -> None:
        """Under `_cond`: a writer's batch is done (answered, or queued again)."""
        self._busy_writers -= 1
        if keys is None:
            self._exclusive_in_flight = False
        else:
            for key in keys:
                left = self._in_flight[key] - 1
                if left:
                    self._in_flight[key] = left
                else:
                    del self._in_flight[key]
        if self._queue:
            self._cond.notify()  # the other writer may take what this batch held back

    def _requeue_alone(self, batch: list[_Pending]) -> None:
        """Under `_cond`: a batch rolled back after a lock conflict goes back to the head of the
        queue, to be taken when no other batch is in flight (it cannot conflict then)."""
        waiting = [p for p in batch if p.state != _ABANDONED]
        for pending in waiting:
            pending.state = _QUEUED
            pending.alone = True
        self._queue.extendleft(reversed(waiting))

    def _gather(self) -> None:
        """Wait (under `_cond`, briefly) until as many writes are queued as the last transaction
        saw, so that one commit serves them all.

        On PostgreSQL and MySQL a transaction costs about a millisecond whatever its size (the
        server's fsync and round trips: bench/pg_ceiling.py), and under load the writer is busy
        with one almost all the time. Taken at once, a batch holds only the requests that arrived
        during the previous transaction; the clients that transaction answered come back a moment
        later and wait for the whole next one. Waiting up to _GATHER_SECONDS for them makes one
        batch of all the writers (the idea of PostgreSQL's commit_delay). With one writer, or as
        many queued as last time, nothing waits; nor when the last transaction saw more than
        _GATHER_AT_MOST (with that many clients the batches are large by themselves, and the loop
        could not bring the rest within the wait); nor for bulks, whose transaction is long."""
        if self._gather_for <= 0 or not len(self._queue) < self._expected_batch <= _GATHER_AT_MOST:
            return
        if _gathered(self._queue) < len(self._queue):
            return
        deadline = time.monotonic() + self._gather_for
        self._gathering = True
        try:
            # a write of another kind queued meanwhile (a reclamation, the HA backlog) rides along
            # but does not count: only lease writes say how many clients are writing
            while _gathered(self._queue) < self._expected_batch and not self._stopping:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return
                self._cond.wait(remaining)
        finally:
            self._gathering = False

    def _commit_batch(self, conn: Connection, batch: list[_Pending], *,
                      may_yield: bool = True) -> tuple[list[_Pending], list[Any]]:
        """Apply and commit `batch`; returns the requests that committed and their outcomes.

        With `may_yield`, a batch begun while another writer's transaction is open gives way on a
        lock conflict (_LockConflict) rather than waiting long for the lock.

        Requests abandoned (query-timeout) while their transaction was open are left out: the
        transaction is rolled back and redone without them, so an answer saying that nothing
        was changed is true."""
        with self._bounded(conn, "write"):
            return self._commit_batch_on(conn, batch, may_yield)

    def _bounded(self, conn: Connection, what: str) -> AbstractContextManager[None]:
        """The stall guard's watch over an operation on `conn` (PostgreSQL), else nothing."""
        return nullcontext() if self.stall_guard is None else self.stall_guard.watching(conn, what)

    def _commit_batch_on(self, conn: Connection, batch: list[_Pending],
                         may_yield: bool) -> tuple[list[_Pending], list[Any]]:
        while batch:
            trans = conn.begin()
            beside = False  # another writer's transaction may be open meanwhile
            try:
                if may_yield and self._write_connections > 1:
                    with self._cond:
                        beside = self._busy_writers > 1
                    if beside:
                        _run(conn, f"SET LOCAL lock_timeout = '{_LOCK_TIMEOUT_BESIDE}'", None)
                results = self._apply(conn, batch)
            except BaseException as exc:
                trans.rollback()
                if beside and _lock_conflict(exc):
                    raise _LockConflict(batch, exc) from exc
                raise
            with self._cond:
                live = [p for p in batch if p.state != _ABANDONED]
                if len(live) == len(batch):
                    for pending in batch:
                        pending.state = _COMMITTING
            if len(live) != len(batch):
                trans.rollback()
                batch = live
                continue
            # no inline commit can happen while this transaction holds SQLite's write lock: the
            # inline batches this one follows are exactly those committed so far
            self._inline_seq_before = self._inline_writer.committed_seq if self._inline_writer is not None else 0
            try:
                trans.commit()
            except DBAPIError as exc:
                if self.dialect != "sqlite":
                    # the server may have committed and the reply been what was lost (a restart,
                    # a dropped connection): neither "nothing was changed" nor a retry is true
                    raise _CommitUnconfirmed(batch, exc) from exc
                self._retryable(batch)
                raise
            except BaseException:
                self._retryable(batch)
                raise
            self._count(commits=1, ops=len(batch))
            if self._checkpointer is not None:
                self._checkpoint_due.set()
            return batch, results
        return [], []

    def _count(self, *, commits: int = 0, ops: int = 0, failed: int = 0, conflicts: int = 0) -> None:
        """Add to the counters, which the writer threads and the serving loop all update."""
        with self._cond:
            self.commits += commits
            self.committed_ops += ops
            self.failed_commits += failed
            self.lock_conflicts += conflicts

    def _retryable(self, batch: list[_Pending]) -> None:
        with self._cond:  # not committed: they may be retried one by one
            for pending in batch:
                pending.state = _TAKEN

    def _apply(self, conn: Connection, batch: list[_Pending]) -> list[Any]:
        """Apply a batch in order (`_apply_ops`), and record in the HA hand-off journal, in the
        same transaction, what the ops carrying a `handoff` token changed."""
        results = self._apply_ops(conn, batch)
        rows = [_handoff_row(p.op.handoff, lease, deleted)
                for p, result in zip(batch, results, strict=True) if p.op.handoff is not None
                for lease, deleted in p.op.changed(result)]
        if rows:
            conn.execute(insert(schema.ha_handoff), rows)
        return results

    def _apply_ops(self, conn: Connection, batch: list[_Pending]) -> list[Any]:
        """Apply a batch in order. A batch of v4 force-creates of distinct addresses is one
        upsert (PostgreSQL: one statement; SQLite: one executemany). Otherwise, on PostgreSQL a
        batch of single-statement ops goes out in pipeline mode: every statement is sent before
        the first result is read, so the batch costs the writer one round trip, not one per lease
        (the server runs them in order)."""
        dialect = self.dialect
        if dialect == "sqlite" and len(batch) > 1:
            rows = _distinct_force4_rows(batch, dialect)
            if rows is not None:
                return _force4_rows_sqlite(conn, rows)
        if dialect == "postgresql" and len(batch) > 1:
            rows = _distinct_force4_rows(batch, dialect)
            if rows is not None:
                return _force4_rows_postgresql(conn, rows)
            outcomes = _merged_bulk_outcomes(conn, batch)
            if outcomes is not None:
                return outcomes
        if len(batch) > 1 and all(p.op.sendable(dialect) for p in batch):
            raw: Any = conn.connection.dbapi_connection
            with raw.pipeline() as pipeline:
                outcomes = [p.op.send(conn, dialect) for p in batch]
                pipeline.sync()
                return [outcome() for outcome in outcomes]
        return [p.op.apply(conn, dialect) for p in batch]

    def _checkpoint_loop(self) -> None:
        """SQLite: copy committed WAL frames into the database file off the commit path.

        A PASSIVE checkpoint never blocks the writer or readers; it syncs the WAL and the
        database as `synchronous` says. Durability is unchanged: a transaction is durable once
        its WAL commit returned (synchronous FULL), before and after this copy. Runs at most
        every 50 ms while there are commits, so the WAL stays small."""
        raw: Any = None  # the DB-API connection: through SQLAlchemy a statement would autobegin a write lock
        # `_stopping` is checked at the top of every round: close() may set the wake-up event while
        # this thread sleeps below, and the clear() would then swallow it (close() waited 10 s)
        while not self._stopping:
            self._checkpoint_due.wait()
            if self._stopping:
                break
            time.sleep(0.05)  # let a few commits accumulate: one checkpoint for all of them
            self._checkpoint_due.clear()
            try:
                if raw is None:
                    raw = self.engine.raw_connection()
                _busy, frames, _done = raw.driver_connection.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
                if frames > _WAL_RESTART_FRAMES:
                    # Under continuous writes a PASSIVE checkpoint here never catches up with the
                    # last frames, so SQLite would never start the WAL over and it would grow
                    # without end: the writer finishes the copy between two transactions.
                    self._wal_restart_wanted = True
            except Exception as exc:  # noqa: BLE001 - sqlite3/pool errors: retry later with a new connection
                log.warning("WAL checkpoint failed: %s", _short(exc))
                if raw is not None:
                    raw.invalidate()
                raw = None
                time.sleep(1)
        if raw is not None:
            try:
                raw.driver_connection.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()
            except Exception:  # noqa: BLE001 - best effort at shutdown; SQLite checkpoints on open anyway
                pass
            raw.close()

    def _commit_one_by_one(self, conn: Connection | None,
                           batch: list[_Pending]) -> tuple[list[_Pending], list[Any]]:
        answered: list[_Pending] = []
        results: list[Any] = []
        for pending in batch:
            if pending.state == _ABANDONED:
                continue
            try:
                if conn is None or conn.closed or conn.invalidated:
                    conn = self._reset(conn) or self._connect_writer()
                # no giving way here: a conflict would leave PostgreSQL's deadlock check to settle
                done, outcome = self._commit_batch(conn, [pending], may_yield=False)
                if not done:
                    continue
                results.append(outcome[0])
            except _CommitUnconfirmed as unconfirmed:
                results.append(unconfirmed.outcome())
                conn = self._reset(conn)
            except IntegrityError as exc:
                results.append(StoreConflict(_short(exc)))
            except DataError as exc:  # a value the column cannot hold; the transaction was rolled back
                log.warning("the lease database refused a change: %s", _short(exc))
                results.append(StoreRejected(_short(exc)))
            except (SQLAlchemyError, OSError) as exc:
                results.append(StoreUnavailable(f"lease database error: {_short(exc)}"))
                conn = self._reset(conn)
            except Exception as exc:  # noqa: BLE001 - the driver refused a value (sqlite3: OverflowError)
                log.warning("the lease database refused a change: %s", _short(exc))
                results.append(StoreRejected(_short(exc)))
                conn = self._reset(conn)
            answered.append(pending)
        return answered, results

    def _connect_writer(self) -> Connection:
        conn = self.engine.connect()
        if self.dialect == "sqlite":
            # the commit that crosses SQLite's auto-checkpoint threshold (1000 pages, i.e. every
            # few batches here) would copy the WAL into the database and fsync it too, inside the
            # writer's commit, while every queued request waits: _checkpoint_loop does it instead
            # (on the DB-API connection: through SQLAlchemy it would autobegin BEGIN IMMEDIATE)
            conn.connection.dbapi_connection.execute("PRAGMA wal_autocheckpoint=0")  # type: ignore[union-attr]
            # and a WAL that grew in a burst is cut back to 64 MiB when it starts over
            conn.connection.dbapi_connection.execute("PRAGMA journal_size_limit=67108864")  # type: ignore[union-attr]
        if self.on_writer_connect is not None:
            try:
                self.on_writer_connect(conn)
            except BaseException:
                self._reset(conn)
                raise
        return conn

    def _reset(self, conn: Connection | None) -> Connection | None:
        if conn is not None:
            try:
                conn.invalidate()
                conn.close()
            except Exception:  # noqa: BLE001 - the connection is being thrown away anyway
                pass
        return None

    # reads
    async def read(self, fn: Callable[[Connection, str], Any]) -> Any:
        loop = asyncio.get_running_loop()

        def run() -> Any:
            try:
                return self._read_on_thread_connection(fn)
            except DBAPIError as exc:
                if not exc.connection_invalidated:
                    raise
                # the server went away since this thread's last read (restart, failover): once more
                # on a new connection, as the pool's pre-ping would have done at checkout
                return self._read_on_thread_connection(fn)

        # a timer that cancels the executor future: cheaper than wait_for's extra task per read
        future = loop.run_in_executor(self._readers, run)
        expired: list[bool] = []

        def expire() -> None:
            expired.append(True)
            future.cancel()

        timer = loop.call_later(self.config.query_timeout, expire)
        try:
            return await future
        except asyncio.CancelledError:
            if expired:
                raise self._read_timed_out() from None
            raise
        except (SQLAlchemyError, OSError) as exc:
            raise StoreUnavailable(f"lease database error: {_short(exc)}") from None
        finally:
            timer.cancel()

    def _read_timed_out(self) -> StoreUnavailable:
        """A read's refusal once query-timeout has passed without an answer."""
        return StoreUnavailable(f"the lease database did not answer within {self.config.query_timeout:g} s")

    def _read_on_thread_connection(self, fn: Callable[[Connection, str], Any]) -> Any:
        """Run `fn` on this reader thread's own connection, kept between reads: a pool checkout
        per read cost a pre-ping round trip and the pool's locking on every lease4-get."""
        conn: Connection | None = getattr(self._reader_local, "conn", None)
        if conn is None or conn.closed or conn.invalidated:
            stale = conn
            conn = self._reader_local.conn = self.engine.connect()
            conn.info[_READ_ONLY] = True  # SQLite: BEGIN, not BEGIN IMMEDIATE
            if self.dialect == "postgresql":
                # each read is one statement, which under READ COMMITTED has a snapshot of its own
                # anyway: without a transaction around it a read costs one round trip, not three
                # (BEGIN, the query, ROLLBACK), and about a third of a lease4-get's CPU
                conn.execution_options(isolation_level="AUTOCOMMIT")
            with self._reader_conns_lock:
                if stale is not None and stale in self._reader_conns:
                    self._reader_conns.remove(stale)
                self._reader_conns.append(conn)
            if stale is not None:
                try:
                    stale.close()  # give its pool slot back
                except Exception:  # noqa: BLE001 - it was broken already
                    pass
        try:
            with self._bounded(conn, "read"):
                return fn(conn, self.dialect)
        finally:
            # End the read transaction, also one that a statement on the raw DB-API cursor began
            # behind SQLAlchemy's back (MySQL's REPEATABLE READ would otherwise keep serving the
            # same snapshot to every later read on this thread; PostgreSQL would sit idle in
            # transaction). Nothing was written.
            try:
                if conn.in_transaction():
                    conn.rollback()
                else:
                    conn.connection.dbapi_connection.rollback()  # type: ignore[union-attr]
            except Exception:  # noqa: BLE001 - a connection that cannot roll back is not reused
                conn.invalidate()

    # --- queries (v4) ---
    async def read_point(self, fn: Callable[[Connection, str], Any]) -> Any:
        """A lookup by primary key or an indexed column: `read`, but on SQLite run right on the
        serving loop (a WAL reader never waits for the writer; a few microseconds of SQLite
        cost less than the hand-off to a reader thread and back). Anything unusual (a lock
        held by a checkpoint being recovered, an I/O error) goes the `read` way."""
        home = self._read_loop
        if home is None or asyncio.get_running_loop() is not home or self._stopping:
            return await self.read(fn)
        conn = self._inline_reader
        try:
            if conn is None or conn.closed or conn.invalidated:
                conn = self._inline_reader = self.engine.connect()
                conn.info[_READ_ONLY] = True  # for statements through SQLAlchemy: BEGIN, not BEGIN IMMEDIATE
                conn.connection.dbapi_connection.execute("PRAGMA busy_timeout=0")  # type: ignore[union-attr]
            try:
                return fn(conn, self.dialect)
            finally:
                if conn.in_transaction():
                    conn.rollback()
        except Exception as exc:  # noqa: BLE001 - whatever broke, a reader thread's own connection answers
            log.debug("inline read failed (%s): using a reader thread", _short(exc))
            if conn is not None:
                self._inline_reader = self._reset(conn)
            return await self.read(fn)

    async def get4(self, address: int) -> Lease4 | None:
        def run(c: Connection, d: str) -> Lease4 | None:
            row = _fetch_one(c, 4, address)  # pre-compiled: lease4-get is a hot path
            return lease4_from_row(row) if row is not None else None

        if self.dialect == "postgresql":
            found = await self._pg_leases(4, _pg_loop_sql("get4", lambda: _by_address(4)), address)
            if found is not _PG_UNAVAILABLE:
                return found[0] if found else None
        return await self.read_point(run)

    async def _pg_leases(self, family: int, sql: str, *args: Any) -> Any:
        """PostgreSQL: the leases `sql` selects (whole rows of `family`'s table), looked up on the
        serving loop (`_pg_fetch`), or _PG_UNAVAILABLE."""
        rows = await self._pg_fetch(sql, *args)
        if rows is _PG_UNAVAILABLE:
            return rows
        row_type, decode = _row_type(family), lease4_from_row if family == 4 else lease6_from_row
        return [decode(row_type._make(row.values())) for row in rows]

    async def _pg_fetch(self, sql: str, *args: Any) -> Any:
        """PostgreSQL: the rows of `sql` (asyncpg's dialect), queried on the serving loop over
        asyncpg connections of its own (autocommit, prepared statements: one round trip;
        app/store/pg_lookups.py). A reader thread costs a lease4-get about 250 us of CPU in
        hand-offs between threads, psycopg's async connection about 40 us of Python around the
        query; asyncpg, about 12. Returns _PG_UNAVAILABLE when those connections cannot serve it
        (another loop, shutting down, a failure), and the caller takes the reader-thread way; a
        lookup that outlives the query-timeout is answered as `read` answers it."""
        lookups = self._pg_lookups
        if self._stopping:
            return _PG_UNAVAILABLE
        try:
            async with asyncio.timeout(self.config.query_timeout):
                return await lookups.fetch(sql, *args)
        except PgLookupsUnavailable:
            return _PG_UNAVAILABLE
        except TimeoutError:
            lookups.failed()
            raise self._read_timed_out() from None
        except Exception as exc:  # noqa: BLE001 - a reader thread's connection answers instead
            if getattr(exc, "sqlstate", None) in _POOLER_STATEMENT_ERRORS:
                # asyncpg's named prepared statements live on one server connection; a pooler in
                # transaction mode (pgbouncer) runs the next query on another. Unnamed ones are
                # parsed with each query, in the same exchange: new connections use those (this
                # one was closed by `fetch`, the others are replaced as their lookups end)
                if lookups.stop_preparing():
                    log.warning("PostgreSQL lookups on the loop lost a prepared statement (%s): the database is "
                                "reached through a pooler in transaction mode; they go on without prepared "
                                "statements", _short(exc))
                return _PG_UNAVAILABLE
            lookups.failed()
            # one failure is a restarting server; failing on and on (a TLS or authentication setting
            # that only asyncpg trips over) costs every lookup a thread hand-off: say so, once
            log.log(logging.WARNING if lookups.failures == _PG_LOOKUP_FAILURES_REPORTED else logging.DEBUG,
                    "PostgreSQL lookup on the loop failed (%s, %d in a row): using a reader thread",
                    _short(exc), lookups.failures)
            return _PG_UNAVAILABLE

    async def _connect_pg_lookup(self) -> Any:
        import asyncpg

        db = self.config  # asyncpg, like libpq, takes a socket directory as host
        return await asyncpg.connect(
            db_tls.asyncpg_dsn(db), host=db.host, port=db.port or 5432, user=db.user or None,
            password=db.password or None, database=db.name, timeout=db.connect_timeout,
            statement_cache_size=_ASYNCPG_STATEMENT_CACHE if self._pg_lookups.prepared else 0)

    async def get4_by(self, column: str, value: Any, subnet_id: int | None = None) -> list[Lease4]:
        t = schema.lease4
        key = f"get4_by/{column}/{subnet_id is not None}"

        def build() -> Any:
            cond = t.c[column] == bindparam("p_value")
            if subnet_id is not None:
                cond = and_(cond, t.c.subnet_id == bindparam("p_subnet_id"))
            return select(t).where(cond).order_by(t.c.address)

        if self.dialect == "postgresql":
            found = await self._pg_leases(4, _pg_loop_sql(key, build), value,
                                          *(() if subnet_id is None else (subnet_id,)))
            if found is not _PG_UNAVAILABLE:
                return found  # type: ignore[no-any-return]
        params = {"value": value} if subnet_id is None else {"value": value, "subnet_id": subnet_id}
        # hwaddr and client_id are indexed (Kea's lease4_by_hwaddr_subnet_id, lease4_by_client_id_subnet_id)
        return await self.read_point(
            lambda c, d: [lease4_from_row(row) for row in _compiled_rows(c, 4, key, build, params)])

    async def get4_by_hostname(self, hostname: str) -> list[Lease4]:
        found: list[Lease4] = await self._by_hostname(4, hostname)
        return sorted(found, key=lambda lease: lease.address)

    async def _by_hostname(self, family: int, hostname: str) -> list[Any]:
        """The leases whose hostname is `hostname`, both with A-Z lower-cased (Kea's lookup: it
        lower-cases in the C locale, and memfile compares with the stored hostname, which Kea's
        parser lower-cased so too).

        The SQL finds a superset, on an index: lower() on both sides (PostgreSQL's lower-cases
        beyond ASCII, SQLite's only ASCII), MySQL's column collation (which also ignores accents
        and trailing spaces); the exact matches are kept here."""
        t = schema.lease4 if family == 4 else schema.lease6
        decode = lease4_from_row if family == 4 else lease6_from_row
        wanted = ascii_lower(hostname)
        found: Any = _PG_UNAVAILABLE
        if self.dialect == "postgresql":
            if "\x00" in wanted:
                return []  # PostgreSQL text holds no NUL: no stored hostname has one
            sql = _pg_loop_sql(f"get{family}_by_hostname", lambda: select(t).where(
                func.lower(t.c.hostname) == func.lower(bindparam("p_hostname"))))
            found = await self._pg_leases(family, sql, wanted)
        if found is _PG_UNAVAILABLE:
            def build() -> Any:
                if self.dialect == "mysql":
                    return select(t).where(t.c.hostname == bindparam("p_hostname"))  # Kea's MySQL query
                return select(t).where(func.lower(t.c.hostname) == func.lower(bindparam("p_hostname")))

            found = await self.read(lambda c, d: [decode(row) for row in _compiled_rows(
                c, family, f"get{family}_by_hostname", build, {"hostname": wanted})])
        return [lease for lease in found if ascii_lower(lease.hostname) == wanted]

    async def all4(self, subnet_ids: Sequence[int] | None = None) -> list[Lease4]:
        t = schema.lease4
        if subnet_ids is None:
            stmt = select(t).order_by(t.c.address)
            return await self.read(lambda c, d: _many(c, stmt, lease4_from_row))

        def run(c: Connection, d: str) -> list[Lease4]:
            out: list[Lease4] = []
            for sid in subnet_ids:  # Kea: subnet by subnet, in the listed order (repeats repeat)
                out.extend(_many(c, select(t).where(t.c.subnet_id == sid).order_by(t.c.address), lease4_from_row))
            return out

        return await self.read(run)

    async def page4(self, after: int, limit: int) -> list[Lease4]:
        t = schema.lease4
        stmt = select(t).where(t.c.address > after).order_by(t.c.address).limit(limit)
        return await self.read(lambda c, d: _many(c, stmt, lease4_from_row))

    # --- queries (v6) ---
    async def get6(self, address: str, lease_type: int | None) -> Lease6 | None:
        if self.dialect == "postgresql":
            # one lease row per address (the table's key): the type is compared here
            found = await self._pg_leases(6, _pg_loop_sql("get6", lambda: _by_address(6)), address)
            if found is not _PG_UNAVAILABLE:
                return found[0] if found and (lease_type is None or found[0].type == lease_type) else None

        def run(c: Connection, d: str) -> Lease6 | None:
            # pre-compiled, as get4: lease6-get is a hot path (an HA backlog's replay asks one per
            # entry, here and at the peer); one row per address, so the type is compared here
            row = _fetch_one(c, 6, address)
            if row is None or (lease_type is not None and row.lease_type != lease_type):
                return None
            return lease6_from_row(row)

        return await self.read_point(run)

    async def get6_by_duid(self, duid: bytes, iaid: int | None = None, subnet_id: int | None = None,
                           lease_type: int | None = None) -> list[Lease6]:
        t = schema.lease6
        if self.dialect == "postgresql":
            given = {"iaid": iaid if iaid is None or iaid < 2**31 else iaid - 2**32,
                     "subnet_id": subnet_id, "lease_type": lease_type}
            given = {column: value for column, value in given.items() if value is not None}

            def build() -> Any:
                cond = t.c.duid == bindparam("p_duid")
                for column in given:
                    cond = and_(cond, t.c[column] == bindparam(f"p_{column}"))
                return select(t).where(cond)

            found = await self._pg_leases(6, _pg_loop_sql("get6_by_duid/" + "/".join(given), build), duid,
                                          *given.values())
            if found is not _PG_UNAVAILABLE:
                return _sorted6(found)

        def run(c: Connection, d: str) -> list[Lease6]:
            stored_iaid = iaid - 2**32 if iaid is not None and d == "postgresql" and iaid >= 2**31 else iaid
            given = {column: value for column, value in
                     (("iaid", stored_iaid), ("subnet_id", subnet_id), ("lease_type", lease_type)) if value is not None}

            def build() -> Any:
                cond = t.c.duid == bindparam("p_duid")
                for column in given:
                    cond = and_(cond, t.c[column] == bindparam(f"p_{column}"))
                return select(t).where(cond)

            rows = _compiled_rows(c, 6, "get6_by_duid/" + "/".join(given), build, {"duid": duid, **given})
            return _sorted6(lease6_from_row(row) for row in rows)

        return await self.read_point(run)  # indexed (duid, iaid, subnet_id)

    async def get6_by_hostname(self, hostname: str) -> list[Lease6]:
        return _sorted6(await self._by_hostname(6, hostname))

    async def all6(self, subnet_ids: Sequence[int] | None = None) -> list[Lease6]:
        t = schema.lease6
        if subnet_ids is None:
            return await self.read(lambda c, d: _sorted6(_many(c, select(t), lease6_from_row)))

        def run(c: Connection, d: str) -> list[Lease6]:
            out: list[Lease6] = []
            for sid in subnet_ids:
                out.extend(_sorted6(_many(c, select(t).where(t.c.subnet_id == sid), lease6_from_row)))
            return out

        return await self.read(run)

    async def page6(self, after: int, limit: int) -> list[Lease6]:
        """Leases with address numerically greater than `after`, ascending (as Kea's memfile).

        Kea stores v6 addresses as text, whose order is not address order, and its tables are
        not leasesync's to index: the server orders the rows by the address's value (`::inet`,
        INET6_ATON, SQLite's `ls_v6key`) and keeps the first `limit`, one pass over the table in
        C. (Before, every address came to Python to be sorted: 0.4-0.6 s a page at 100,000
        leases, a sync with a small sync-page-limit quadratic in the table's size.)"""
        t = schema.lease6
        start = str(ipaddress.IPv6Address(after))

        def run(c: Connection, d: str) -> list[Lease6]:
            key: ColumnElement[Any]
            bound: ColumnElement[Any]
            if d == "postgresql":
                key, bound = cast(t.c.address, INET), cast(literal(start), INET)
            elif d == "mysql":
                key, bound = func.inet6_aton(t.c.address), func.inet6_aton(literal(start))
            else:
                key, bound = func.ls_v6key(t.c.address), literal(v6_order_bytes(start))
            stmt = select(t).where(key > bound).order_by(key, t.c.address).limit(limit)
            return _many(c, stmt, lease6_from_row)

        return await self.read(run)

    async def count(self, family: int) -> int:
        t = schema.lease4 if family == 4 else schema.lease6
        return await self.read(lambda c, d: c.execute(select(func.count()).select_from(t)).scalar_one())

    async def stats(self, family: int) -> list[tuple[int, int, int, int]]:
        """(subnet_id, lease_type, state, count) for statistics and metrics."""
        t = schema.lease4 if family == 4 else schema.lease6
        lease_type = t.c.lease_type if family == 6 else text("0")

        def run(c: Connection, d: str) -> list[tuple[int, int, int, int]]:
            stmt = select(t.c.subnet_id, lease_type, t.c.state, func.count()).group_by(t.c.subnet_id, lease_type, t.c.state) \
                if family == 6 else select(t.c.subnet_id, text("0"), t.c.state, func.count()).group_by(t.c.subnet_id, t.c.state)
            return [(int(a or 0), int(b or 0), int(s or 0), int(n)) for a, b, s, n in c.execute(stmt)]

        return await self.read(run)

    async def ping(self) -> None:
        await self.read(lambda c, d: c.execute(text("SELECT 1")).scalar_one())


# a batch this large that queued during an fsync is committed at once, not at the fsync's end:
# at 32 connections waiting cost a fifth of lease4-update's throughput (the loop idled during the
# fsync; bench/control.py --tree A/B: 8 beat 16 at both 8 and 32 connections)
_COMMIT_DURING_FSYNC = 8
# ... and, while few writes are in flight (queued, committing or waiting for an fsync: at most
# _FEW_IN_FLIGHT), a batch of this many one-lease changes. With 8 clients the 8 updates otherwise
# moved as one group (parsed, committed, then the loop idle through the fsync and the clients'
# turn): the loop was busy 70 % of the time; in two groups that alternate around the fsync, 85-90 %.
# Not with many in flight, where the loop is busy anyway and each extra commit costs CPU (renewals
# at 32 connections lost 8-11 %), nor for bulks (3-13 % lost).
_COMMIT_DURING_FSYNC_ONE_LEASE = 4
_FEW_IN_FLIGHT = 8


class _InlineWriter:
    """SQLite group commit driven by the serving event loop.

    On the writer thread, a batch's statements compete for the GIL with the loop that parses the
    requests: measured under load, applying one lease took ~140 us there against ~25 us here.
    So light ops (one lease, a small bulk) from the loop are applied by the loop itself, on a
    connection of its own, in one transaction per batch, committed inline.

    Durability (synchronous FULL/EXTRA) without holding the write lock through the disk wait:
    SQLite's WAL FULL is NORMAL plus one fsync of the WAL after each commit, done while the
    write lock is held, so the next batch could not even start its statements. This connection
    runs NORMAL (the commit only writes the WAL) and a thread fsyncs the WAL file after the
    commit; a batch is answered only once an fsync that began after its commit has returned.
    What arrives while an fsync runs waits for its end and is committed then, as one batch: it
    could not be answered before the next fsync anyway, and one commit of many leases writes each
    changed page (the table's, five indexes', the statistics') to the WAL once; committed batch by
    batch during the fsync, a lease update cost a third more CPU. Only a batch of
    _COMMIT_DURING_FSYNC or more is committed during the fsync, which keeps the loop busy under
    many connections, or with few writes in flight a smaller one of one-lease changes, which
    keeps the loop from idling through the fsync (_may_commit). Acknowledged changes are as
    durable as under FULL (NORMAL still syncs the WAL header on restart and everything around
    checkpoints); the one difference is that a committed change is visible to readers up to
    one fsync before its writer is answered, as with InnoDB's commit. With NORMAL or OFF
    configured there is no fsync to wait for.

    The connection never waits for a lock (busy_timeout 0): when another writer holds the
    database (the writer thread, another process), the batch is handed to the writer thread,
    which waits as usual. Answers still go out only after the commit returned, and a write is
    answered exactly as on the writer thread, including query-timeout."""

    def __init__(self, store: LeaseStore, loop: asyncio.AbstractEventLoop) -> None:
        self.store = store
        self.loop = loop
        self.queue: deque[_Pending] = deque()
        self.conn: Connection | None = None
        self.sync_after_commit = store.config.synchronous in ("FULL", "EXTRA")
        self.committer = _BlockingCalls(loop, "leasesync-commit")  # the WAL fsyncs and checkpoints
        self._unsynced: list[tuple[int, list[_Pending], list[Any]]] = []  # committed, waiting for an fsync
        self._syncing: asyncio.Future[None] | None = None  # the fsync thread's rounds, while under way
        self._wal: tuple[int, int] | None = None  # (fd, inode) of the WAL file
        self._wal_path = ""
        # answers leave in commit order across both paths: a writer-thread batch that committed
        # after inline batch N waits until N is answered (N may still wait for its fsync)
        self.committed_seq = 0  # inline commits so far (read by the writer thread under the write lock)
        self.answered_seq = 0
        self._held: deque[tuple[int, list[tuple[asyncio.Future[Any], Any]]]] = deque()
        self._retry_at = 0.0  # after a connection failure the writer thread does all for a while
        self._task: asyncio.Task[None] | None = None  # the drain task, while a batch is applied or committed
        self._loop_thread = threading.get_ident()  # built by start(), on the loop's thread

    @property
    def usable(self) -> bool:
        return self._retry_at == 0.0 or time.monotonic() >= self._retry_at

    def kick(self) -> None:
        """A write was queued (under the store's lock): start draining unless already at it, or
        unless an fsync runs and too few wait for a commit of their own (_may_commit; the fsync's
        end drains the rest)."""
        if self._may_commit() and (self._task is None or self._task.done()):
            # the task's first step runs later in this loop iteration: requests read meanwhile join the batch
            self._task = self.loop.create_task(self._drain())

    def _may_commit(self) -> bool:
        """Not while an fsync runs, unless a batch worth a commit of its own has queued meanwhile
        (many connections: committing it now keeps the loop busy while the disk works), or a few
        one-lease changes while few writes are in flight (a handful of clients: they would all
        wait for this fsync, then move as one group, and the loop would idle through each fsync)."""
        if self._syncing is None:
            return True
        queued = len(self.queue)
        if queued >= _COMMIT_DURING_FSYNC:
            return True
        if queued < _COMMIT_DURING_FSYNC_ONE_LEASE:
            return False
        in_flight = queued + sum(len(batch) for _, batch, _ in self._unsynced)
        return in_flight <= _FEW_IN_FLIGHT and all(pending.op.one_lease for pending in self.queue)

    async def _drain(self) -> None:
        store = self.store
        while True:
            if not self._may_commit():
                # what arrives while an fsync runs could only be answered after the next one:
                # it is committed when this one returns (_synced), all in one commit, which
                # writes each page it changed to the WAL once instead of once per batch
                return
            with store._cond:
                batch = [p for p in self.queue if p.state == _QUEUED]
                self.queue.clear()
                for pending in batch:
                    pending.state = _TAKEN
            if not batch:
                return
            try:
                await self._commit(batch)
            except Exception as exc:  # noqa: BLE001 - e.g. shutting down: the writer thread answers them
                log.debug("inline write path failed (%s): using the writer thread", _short(exc))
                self._drop_connection(failed=True)
                self._hand_over(_not_committing(batch))
            except BaseException:
                # cancelled: a committed batch is still answered when its fsync returns (_synced)
                self._hand_over(_not_committing(batch))
                raise

    async def _commit(self, batch: list[_Pending]) -> None:
        store = self.store
        try:
            conn = self._connection()
            trans = conn.begin()  # BEGIN IMMEDIATE: fails at once if another writer holds the lock
        except SQLAlchemyError as exc:
            log.debug("inline write path unavailable (%s): using the writer thread", _short(exc))
            self._drop_connection(failed=not _is_busy(exc))
            self._hand_over(batch)
            return
        try:
            results = store._apply(conn, batch)
        except Exception as exc:  # noqa: BLE001 - the writer thread redoes them one by one and answers each
            log.debug("inline batch failed (%s): the writer thread retries it", _short(exc))
            self._rollback(trans)
            self._hand_over(batch)
            return
        with store._cond:  # nothing can abandon them meanwhile: _abandon runs on this loop too
            for pending in batch:
                pending.state = _COMMITTING
        try:
            trans.commit()
        except Exception as exc:  # noqa: BLE001 - answered below: the writer thread retries them
            self._commit_failed(trans, batch, exc)
        else:
            self.committed_seq += 1
            if self.sync_after_commit:
                self._unsynced.append((self.committed_seq, batch, results))
                self._start_sync()
            else:
                self._answer(self.committed_seq, batch, results)
        if store._wal_restart_wanted and self.conn is conn:
            store._wal_restart_wanted = False
            raw: Any = conn.connection.dbapi_connection
            await self.committer.run(lambda: _checkpoint_quietly(raw))

    def _commit_failed(self, trans: Any, batch: list[_Pending], error: BaseException) -> None:
        """The inline COMMIT failed: nothing of the batch is committed; the writer thread retries it."""
        log.warning("lease database commit failed (%s); retrying the %d change(s) on the writer thread",
                    _short(error), len(batch))
        self.store._count(failed=1)
        self._rollback(trans)
        self._drop_connection(failed=True)
        self._hand_over(batch)

    async def _settled(self) -> None:
        """Until no batch is being applied and none waits for an fsync."""
        while True:
            if self._task is not None and not self._task.done():
                await asyncio.wait({self._task})
            elif self._syncing is not None:
                await asyncio.wait({self._syncing})
            else:
                return

    def _answer(self, seq: int, batch: list[_Pending], results: list[Any]) -> None:
        """Answer inline batch number `seq` (in order), with the writer-thread batches around it."""
        self._release_held(seq - 1)
        store = self.store
        store._count(commits=1, ops=len(batch))
        if store._checkpointer is not None:
            store._checkpoint_due.set()
        for pending, outcome in zip(batch, results, strict=True):
            _resolve(pending.future, outcome)
        self.answered_seq = seq
        self._release_held(seq)

    def resolve_in_order(self, after_seq: int, resolved: list[tuple[asyncio.Future[Any], Any]]) -> None:
        """On the loop: a writer-thread batch that committed after inline batch `after_seq`."""
        if after_seq <= self.answered_seq and not self._held:
            _resolve_all(resolved)
        else:
            self._held.append((after_seq, resolved))

    def _release_held(self, upto: int) -> None:
        while self._held and self._held[0][0] <= upto:
            _resolve_all(self._held.popleft()[1])

    def _start_sync(self) -> None:
        """fsync the WAL for every batch committed so far, unless the committer thread is at it
        (a batch committed after an fsync began waits for a later one: _sync_rounds)."""
        if self._syncing is not None or not self._unsynced:
            return
        self._syncing = self.committer.run(self._sync_rounds, self._sync_rounds_ended)

    def _sync_rounds(self) -> None:
        """On the committer thread: fsync the WAL, and again while batches were committed during
        the fsync before; each fsync's batches are answered as soon as it returns. So a batch
        committed during an fsync is synced without the loop having to wake this thread again: a
        wake-up took ~50 us of the loop's CPU per commit on a VM (bench/RESULTS.md, "Session 26")."""
        synced = -1
        while True:
            target = self.committed_seq  # every batch up to here has committed: this fsync covers it
            if target == synced:
                return
            try:
                self._sync_wal()
            except Exception as exc:  # noqa: BLE001 - answered on the loop; no more rounds
                self.loop.call_soon_threadsafe(self._synced, target, exc)
                return
            self.loop.call_soon_threadsafe(self._synced, target, None)
            synced = target

    def _sync_rounds_ended(self, error: BaseException | None) -> None:
        self._syncing = None
        if error is not None:  # not the fsync's own failure (_synced answers that): a bug
            log.error("lease database: the WAL fsync thread failed: %s", _short(error))
        self._start_sync()  # batches committed after the thread's last look
        if self.queue:
            self.kick()

    def _synced(self, upto: int, error: BaseException | None) -> None:
        """An fsync that began after batch `upto` committed has returned: answer the batches
        up to it (in order), or with `error` say they may not survive a power loss."""
        waiting = [entry for entry in self._unsynced if entry[0] <= upto]
        if not waiting:
            return
        self._unsynced = self._unsynced[len(waiting):]
        if error is not None:
            # committed and visible, but not known to be on disk: say so, as for a commit that timed out
            log.error("lease database: fsync of the SQLite WAL failed (%s); %d change(s) may not survive "
                      "a power loss", _short(error), sum(len(batch) for _, batch, _ in waiting))
            self.store._count(failed=1)
            self._wal = None
        for seq, batch, results in waiting:
            if error is None:
                self._answer(seq, batch, results)
            else:
                self._answer(seq, batch, [StoreOutcomeUnknown(f"the WAL could not be synced to disk: {_short(error)}")
                                          for _ in batch])
        if self.queue:
            # what waited for this fsync (_drain); kicked after the answers, so that requests
            # their clients send at once still join the batch
            self.kick()

    def _sync_wal(self) -> None:
        """On the committer thread. The WAL is found by name and kept open; its inode is checked
        each time, so a WAL that SQLite deleted and created again is never missed."""
        path = self._wal_path
        current = os.stat(path).st_ino
        if self._wal is None or self._wal[1] != current:
            if self._wal is not None:
                os.close(self._wal[0])
            fd = os.open(path, os.O_RDONLY)
            self._wal = (fd, os.fstat(fd).st_ino)
        os.fsync(self._wal[0])

    def _connection(self) -> Connection:
        if self.conn is None or self.conn.closed or self.conn.invalidated:
            conn = self.store._connect_writer()
            raw: Any = conn.connection.dbapi_connection
            raw.execute("PRAGMA busy_timeout=0")
            if self.sync_after_commit:
                raw.execute("PRAGMA synchronous=NORMAL")  # the WAL fsync is _sync_wal's, after the commit
                self._wal_path = raw.execute("PRAGMA database_list").fetchone()[2] + "-wal"
            self.conn = conn
        return self.conn

    def _drop_connection(self, failed: bool) -> None:
        if failed:
            self.conn = self.store._reset(self.conn)
            self._retry_at = time.monotonic() + 1.0

    @staticmethod
    def _rollback(trans: Any) -> None:
        try:
            trans.rollback()
        except Exception:  # noqa: BLE001 - a failed rollback leaves nothing to keep: SQLite drops the transaction
            pass

    def _hand_over(self, batch: list[_Pending]) -> None:
        """Give `batch` (and whatever queued behind it) to the writer thread, in order."""
        store = self.store
        with store._cond:
            waiting = [p for p in batch if p.state != _ABANDONED] + list(self.queue)
            self.queue.clear()
            for pending in waiting:
                pending.state = _QUEUED
            store._queue.extendleft(reversed(waiting))
            store._cond.notify()

    def close(self) -> None:
        """After the store stopped taking writes: let the batch in hand commit, then let go."""
        if threading.get_ident() != self._loop_thread and self.loop.is_running():
            # the drain task finishes its batch (and whatever was queued before the store stopped)
            # on the loop, and the last fsyncs answer theirs; only then may the connection and
            # committer go
            waiting = asyncio.run_coroutine_threadsafe(asyncio.wait_for(self._settled(), 10), self.loop)
            try:
                waiting.result(timeout=11)
            except Exception:  # noqa: BLE001 - shutting down: what did not finish is answered below or by its timer
                pass
        self.committer.close()
        if self._held:
            # writer-thread batches still held behind inline ones that will never be answered
            # here: they are committed (with synchronous FULL, durable), so their outcomes stand
            held = [item for _, resolved in self._held for item in resolved]
            self._held.clear()
            try:
                self.loop.call_soon_threadsafe(_resolve_all, held)
            except RuntimeError:  # the loop is closed: nobody waits any more
                pass
        if self._wal is not None:
            os.close(self._wal[0])
            self._wal = None
        with self.store._cond:
            left = list(self.queue)
            self.queue.clear()
        for pending in left:
            if not pending.future.done():
                pending.loop.call_soon_threadsafe(
                    _resolve, pending.future, StoreUnavailable("the lease store is shutting down"))
        if self.conn is not None:
            try:
                self.conn.close()
            except Exception:  # noqa: BLE001 - closing at shutdown
                pass
            self.conn = None


class _BlockingCalls:
    """One thread that runs blocking calls for an event loop, in order: the inline writer's COMMIT
    (under synchronous FULL/EXTRA it waits for the disk) and its WAL checkpoint.

    A plain queue and thread, not a ThreadPoolExecutor: submit, the concurrent future and its
    chaining back to the loop cost about 7 % of a lease update (py-spy, 8 connections)."""

    def __init__(self, loop: asyncio.AbstractEventLoop, name: str) -> None:
        self.loop = loop
        self._calls: SimpleQueue[tuple[Callable[[], Any], Callable[[BaseException | None], None]] | None] = SimpleQueue()
        self._worker = threading.Thread(target=self._serve, name=name, daemon=True)
        self._worker.start()

    def run(self, call: Callable[[], Any],
            then: Callable[[BaseException | None], None] | None = None) -> asyncio.Future[None]:
        """Run `call` on the thread; then `then(error or None)` on the loop, and the returned
        future resolves. `then` runs even if nobody awaits the future any more."""
        finished: asyncio.Future[None] = self.loop.create_future()

        def settle(error: BaseException | None) -> None:
            try:
                if then is not None:
                    then(error)
            finally:
                if not finished.done():
                    if error is not None and then is None:
                        finished.set_exception(error)
                    else:
                        finished.set_result(None)

        self._calls.put((call, settle))
        return finished

    def _serve(self) -> None:
        while (item := self._calls.get()) is not None:
            call, settle = item
            error: BaseException | None = None
            try:
                call()
            except BaseException as exc:  # noqa: BLE001 - handed to the loop, which answers for it
                error = exc
            try:
                self.loop.call_soon_threadsafe(settle, error)
            except RuntimeError:  # the loop is closed: nobody waits any more
                pass

    def close(self) -> None:
        self._calls.put(None)
        self._worker.join(timeout=10)


def _not_committing(batch: list[_Pending]) -> list[_Pending]:
    return [p for p in batch if p.state != _COMMITTING]


def _is_busy(exc: BaseException) -> bool:
    return "locked" in str(exc) or "busy" in str(exc)


def _checkpoint_quietly(raw: Any) -> None:
    try:
        raw.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()
    except Exception as exc:  # noqa: BLE001 - only an optimisation; the next commit reports real trouble
        log.debug("WAL checkpoint after an inline commit failed: %s", exc)


def _lock_conflict(exc: BaseException) -> bool:
    """`exc` (a driver error, or SQLAlchemy's wrapping of one) is a lock timeout or a deadlock."""
    for error in (exc, getattr(exc, "orig", None), exc.__cause__):
        if getattr(error, "sqlstate", None) in _LOCK_CONFLICTS:
            return True
    return False


class _LockConflict(Exception):
    """A batch begun beside another writer's was rolled back on a lock conflict (_commit_batch)."""

    def __init__(self, batch: list[_Pending], error: BaseException) -> None:
        super().__init__(str(error))
        self.batch = batch
        self.error = error


class StoreConflict(Exception):
    """A write collided with a concurrent writer of the same database (e.g. Kea itself)."""


class _CommitUnconfirmed(Exception):
    """The COMMIT of `batch` failed on a client/server database: it may have been applied."""

    def __init__(self, batch: list[_Pending], error: BaseException) -> None:
        super().__init__(_short(error))
        self.batch = batch
        self.error = error

    def outcome(self) -> StoreOutcomeUnknown:
        return StoreOutcomeUnknown(f"the COMMIT failed ({_short(self.error)})")


# Connection.info key of a connection running LeaseStore.read (SQLite: BEGIN, not BEGIN IMMEDIATE)
_READ_ONLY = "leasesync_read_only"
_PG_UNAVAILABLE: Any = object()  # _pg_fetch: the loop's connection cannot serve this lookup

# SQLite: WAL size (in pages) beyond which the checkpointer restarts the WAL (about 16 MiB)
_WAL_RESTART_FRAMES = 4000


def _resolve_all(resolved: list[tuple[asyncio.Future[Any], Any]]) -> None:
    for future, outcome in resolved:
        _resolve(future, outcome)


def _resolve(future: asyncio.Future[Any], outcome: Any) -> None:
    if future.done():
        return
    if isinstance(outcome, Exception):
        future.set_exception(outcome)
    else:
        future.set_result(outcome)


def _one(conn: Connection, stmt: Any, decode: Callable[[Any], Any]) -> Any:
    row = conn.execute(stmt).first()
    return decode(row) if row is not None else None


def _many(conn: Connection, stmt: Any, decode: Callable[[Any], Any]) -> list[Any]:
    return [decode(r) for r in conn.execute(stmt)]


def _sorted6(leases: Iterable[Lease6]) -> list[Lease6]:
    return sorted(leases, key=lambda lease: int(ipaddress.IPv6Address(lease.address)))


def _short(exc: BaseException) -> str:
    if isinstance(exc, DBAPIError) and exc.orig is not None:
        return str(exc.orig).strip().splitlines()[0][:300]
    return str(exc).strip().splitlines()[0][:300] if str(exc).strip() else type(exc).__name__


def monotonic() -> float:
    return time.monotonic()
