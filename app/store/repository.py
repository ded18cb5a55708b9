"""The lease repository: the only place that runs SQL against lease tables.

Writes go through one writer thread that practises *group commit*: every write queued while
the previous transaction was committing is applied in the next single transaction, and each
caller's future is resolved only after that commit returned. Concurrent requests therefore
share one fsync instead of paying one each, and no answer is ever sent for an uncommitted
change. Reads run on a small thread pool with their own connections.

Every write is keyed by the lease address, and all of them go through the single writer, so two
updates of the same lease can never interleave into a half-written row.
"""

from __future__ import annotations

import asyncio
import ipaddress
import logging
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import and_, create_engine, delete, event, func, insert, select, text, update
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import DBAPIError, IntegrityError, SQLAlchemyError

from app.config import DatabaseConfig
from app.errors import StoreUnavailable
from app.store import schema
from app.store.leases import (
    Lease4,
    Lease6,
    lease4_from_row,
    lease4_to_row,
    lease6_from_row,
    lease6_to_row,
    v6_sort_key,
)

log = logging.getLogger("leasesync.store")


# --- write operations ----------------------------------------------------------------------
# Each op is applied inside the writer's transaction and returns its outcome; an op never
# commits by itself.

class WriteOp:
    def apply(self, conn: Connection, dialect: str) -> Any:  # pragma: no cover - interface
        raise NotImplementedError


def _insert_ignore(table: Any, dialect: str) -> Any:
    if dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as pg_insert

        return pg_insert(table).on_conflict_do_nothing()
    if dialect == "sqlite":
        from sqlalchemy.dialects.sqlite import insert as sqlite_insert

        return sqlite_insert(table).on_conflict_do_nothing()
    return insert(table).prefix_with("IGNORE")


def _inserted(conn: Connection, table: Any, dialect: str, row: dict[str, Any]) -> bool:
    """Insert unless the address exists; True when a row was inserted."""
    stmt = _insert_ignore(table, dialect)
    if dialect == "mysql":
        return bool(conn.execute(stmt, row).rowcount)
    # psycopg reports no rowcount for ON CONFLICT DO NOTHING: ask for the inserted key instead
    return conn.execute(stmt.returning(table.c.address), row).first() is not None


@dataclass
class AddLease(WriteOp):
    """Create a lease; the outcome is False when one already exists for the address."""

    lease: Lease4 | Lease6

    def apply(self, conn: Connection, dialect: str) -> bool:
        if isinstance(self.lease, Lease4):
            table, row = schema.lease4, lease4_to_row(self.lease, dialect)
        else:
            table, row = schema.lease6, lease6_to_row(self.lease, dialect)
        return _inserted(conn, table, dialect, row)


@dataclass
class UpdateLease(WriteOp):
    """Replace a lease; with force_create add it when absent. Outcome: 'updated', 'added' or None."""

    lease: Lease4 | Lease6
    force_create: bool = False
    # v6 only: the stored lease must be of this type to be replaced (Kea looks up (address, type))
    match_type: bool = True

    def apply(self, conn: Connection, dialect: str) -> str | None:
        if isinstance(self.lease, Lease4):
            table, row = schema.lease4, lease4_to_row(self.lease, dialect)
            where = table.c.address == row["address"]
        else:
            table, row = schema.lease6, lease6_to_row(self.lease, dialect)
            where = table.c.address == row["address"]
            if self.match_type:
                where = and_(where, table.c.lease_type == row["lease_type"])
        values = {k: v for k, v in row.items() if k != "address"}
        if conn.execute(update(table).where(where).values(values)).rowcount:
            return "updated"
        if not self.force_create:
            return None
        if _inserted(conn, table, dialect, row):
            return "added"
        # an address of another v6 type is in the way: the lease replaces it
        conn.execute(update(table).where(table.c.address == row["address"]).values(values))
        return "updated"


@dataclass
class DeleteLease(WriteOp):
    """Delete one lease; the outcome is the deleted lease, or None when there was none."""

    family: int
    address: int | str
    lease_type: int | None = None  # v6: only a lease of this type

    def apply(self, conn: Connection, dialect: str) -> Lease4 | Lease6 | None:
        if self.family == 4:
            table = schema.lease4
            row = conn.execute(select(table).where(table.c.address == self.address)).first()
            if row is None:
                return None
            conn.execute(delete(table).where(table.c.address == self.address))
            return lease4_from_row(row)
        table = schema.lease6
        cond = table.c.address == self.address
        if self.lease_type is not None:
            cond = and_(cond, table.c.lease_type == self.lease_type)
        row = conn.execute(select(table).where(cond)).first()
        if row is None:
            return None
        conn.execute(delete(table).where(cond))
        return lease6_from_row(row)


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


@dataclass
class BulkApply(WriteOp):
    """Deletes then upserts, each with its own outcome (lease6-bulk-apply, sync pages)."""

    deletes: list[DeleteLease] = field(default_factory=list)
    upserts: list[UpdateLease] = field(default_factory=list)

    def apply(self, conn: Connection, dialect: str) -> tuple[list[Any], list[Any]]:
        return [d.apply(conn, dialect) for d in self.deletes], [u.apply(conn, dialect) for u in self.upserts]


@dataclass
class FuncOp(WriteOp):
    """Any other transactional change (backlog, agent state): `fn(conn, dialect)`."""

    fn: Callable[[Connection, str], Any]

    def apply(self, conn: Connection, dialect: str) -> Any:
        return self.fn(conn, dialect)


# --- the store -----------------------------------------------------------------------------

def _on_sqlite_connect(synchronous: str) -> Callable[[Any, Any], None]:
    def setup(dbapi_conn: Any, _record: Any) -> None:
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute(f"PRAGMA synchronous={synchronous}")
        cur.execute("PRAGMA busy_timeout=10000")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.close()

    return setup


def make_engine(db: DatabaseConfig) -> Engine:
    kwargs: dict[str, Any] = {"pool_pre_ping": db.type != "sqlite"}
    if db.type == "sqlite":
        # the writer and the readers each keep their own connection
        kwargs["connect_args"] = {"check_same_thread": False, "timeout": db.query_timeout, "isolation_level": None}
        kwargs["pool_size"] = db.pool_size + 2
    elif db.type == "postgresql":
        kwargs["connect_args"] = {"connect_timeout": db.connect_timeout}
        kwargs["pool_size"] = db.pool_size + 1
    else:
        kwargs["connect_args"] = {
            "connect_timeout": db.connect_timeout,
            "read_timeout": max(1, int(db.query_timeout)),
            "write_timeout": max(1, int(db.query_timeout)),
            "init_command": "SET time_zone = '+00:00'",
        }
        kwargs["pool_size"] = db.pool_size + 1
    engine = create_engine(db.url(), **kwargs)
    if db.type == "sqlite":
        event.listen(engine, "connect", _on_sqlite_connect(db.synchronous))

        # pysqlite's own transaction handling is off (isolation_level None); begin explicitly
        @event.listens_for(engine, "begin")
        def _begin(conn: Connection) -> None:
            conn.exec_driver_sql("BEGIN IMMEDIATE")

    return engine


@dataclass
class _Pending:
    op: WriteOp
    loop: asyncio.AbstractEventLoop
    future: asyncio.Future[Any]


class LeaseStore:
    """Async facade over one lease database: group-committed writes, pooled reads."""

    def __init__(self, db: DatabaseConfig) -> None:
        self.config = db
        self.engine = make_engine(db)
        self.dialect = self.engine.dialect.name
        self._queue: deque[_Pending] = deque()
        self._cond = threading.Condition()
        self._stopping = False
        self._writer: threading.Thread | None = None
        self._readers = ThreadPoolExecutor(max_workers=db.pool_size, thread_name_prefix="leasesync-read")
        self.commits = 0
        self.committed_ops = 0
        self.failed_commits = 0
        # run on every new writer connection (change capture marks leasesync's own writes there)
        self.on_writer_connect: Callable[[Connection], None] | None = None

    # lifecycle
    def start(self) -> None:
        if self._writer is None:
            self._writer = threading.Thread(target=self._writer_loop, name="leasesync-writer", daemon=True)
            self._writer.start()

    def close(self) -> None:
        with self._cond:
            self._stopping = True
            self._cond.notify_all()
        if self._writer is not None:
            self._writer.join(timeout=10)
        self._readers.shutdown(wait=True)
        self.engine.dispose()

    # writes
    async def write(self, op: WriteOp) -> Any:
        """Queue `op`; return its outcome once the transaction holding it has committed."""
        loop = asyncio.get_running_loop()
        future: asyncio.Future[Any] = loop.create_future()
        with self._cond:
            if self._stopping:
                raise StoreUnavailable("the lease store is shutting down")
            self._queue.append(_Pending(op, loop, future))
            self._cond.notify()
        try:
            return await asyncio.wait_for(asyncio.shield(future), self.config.query_timeout)
        except TimeoutError:
            raise StoreUnavailable(
                f"the lease database did not commit within {self.config.query_timeout:g} s"
            ) from None

    def _writer_loop(self) -> None:
        conn: Connection | None = None
        while True:
            with self._cond:
                while not self._queue and not self._stopping:
                    self._cond.wait()
                if not self._queue and self._stopping:
                    break
                batch = list(self._queue)
                self._queue.clear()
            try:
                if conn is None or conn.closed:
                    conn = self._connect_writer()
                results = self._commit_batch(conn, batch)
            except SQLAlchemyError as exc:
                log.warning("lease database write failed (%s); retrying the %d queued change(s) one by one",
                            _short(exc), len(batch))
                self.failed_commits += 1
                conn = self._reset(conn)
                results = self._commit_one_by_one(conn, batch)
                if conn is not None and conn.invalidated:
                    conn = self._reset(conn)
            for pending, outcome in zip(batch, results, strict=True):
                pending.loop.call_soon_threadsafe(_resolve, pending.future, outcome)
        if conn is not None:
            conn.close()

    def _commit_batch(self, conn: Connection, batch: list[_Pending]) -> list[Any]:
        with conn.begin():
            results = [p.op.apply(conn, self.dialect) for p in batch]
        self.commits += 1
        self.committed_ops += len(batch)
        return results

    def _commit_one_by_one(self, conn: Connection | None, batch: list[_Pending]) -> list[Any]:
        results: list[Any] = []
        for pending in batch:
            try:
                if conn is None or conn.closed or conn.invalidated:
                    conn = self._reset(conn) or self._connect_writer()
                results.append(self._commit_batch(conn, [pending])[0])
            except IntegrityError as exc:
                results.append(StoreConflict(_short(exc)))
            except (SQLAlchemyError, OSError) as exc:
                results.append(StoreUnavailable(f"lease database error: {_short(exc)}"))
                conn = self._reset(conn)
        return results

    def _connect_writer(self) -> Connection:
        conn = self.engine.connect()
        if self.on_writer_connect is not None:
            try:
                self.on_writer_connect(conn)
            except Exception:
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
            with self.engine.connect() as conn:
                return fn(conn, self.dialect)

        try:
            return await asyncio.wait_for(loop.run_in_executor(self._readers, run), self.config.query_timeout)
        except TimeoutError:
            raise StoreUnavailable(f"the lease database did not answer within {self.config.query_timeout:g} s") from None
        except (SQLAlchemyError, OSError) as exc:
            raise StoreUnavailable(f"lease database error: {_short(exc)}") from None

    # --- queries (v4) ---
    async def get4(self, address: int) -> Lease4 | None:
        return await self.read(lambda c, d: _one(c, select(schema.lease4).where(schema.lease4.c.address == address), lease4_from_row))

    async def get4_by(self, column: str, value: Any, subnet_id: int | None = None) -> list[Lease4]:
        t = schema.lease4
        cond = t.c[column] == value
        if subnet_id is not None:
            cond = and_(cond, t.c.subnet_id == subnet_id)
        return await self.read(lambda c, d: _many(c, select(t).where(cond).order_by(t.c.address), lease4_from_row))

    async def get4_by_hostname(self, hostname: str) -> list[Lease4]:
        t = schema.lease4
        stmt = select(t).where(func.lower(t.c.hostname) == hostname.lower()).order_by(t.c.address)
        return await self.read(lambda c, d: _many(c, stmt, lease4_from_row))

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
        t = schema.lease6
        cond = t.c.address == address
        if lease_type is not None:
            cond = and_(cond, t.c.lease_type == lease_type)
        return await self.read(lambda c, d: _one(c, select(t).where(cond), lease6_from_row))

    async def get6_by_duid(self, duid: bytes, iaid: int | None = None, subnet_id: int | None = None,
                           lease_type: int | None = None) -> list[Lease6]:
        t = schema.lease6

        def run(c: Connection, d: str) -> list[Lease6]:
            cond = t.c.duid == duid
            if iaid is not None:
                stored_iaid = iaid - 2**32 if d == "postgresql" and iaid >= 2**31 else iaid
                cond = and_(cond, t.c.iaid == stored_iaid)
            if subnet_id is not None:
                cond = and_(cond, t.c.subnet_id == subnet_id)
            if lease_type is not None:
                cond = and_(cond, t.c.lease_type == lease_type)
            return _sorted6(_many(c, select(t).where(cond), lease6_from_row))

        return await self.read(run)

    async def get6_by_hostname(self, hostname: str) -> list[Lease6]:
        t = schema.lease6
        stmt = select(t).where(func.lower(t.c.hostname) == hostname.lower())
        return await self.read(lambda c, d: _sorted6(_many(c, stmt, lease6_from_row)))

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

        Kea stores v6 addresses as text, whose order is not address order, so the page is
        chosen from the address column in Python and then read row by row."""
        t = schema.lease6

        def run(c: Connection, d: str) -> list[Lease6]:
            keyed = sorted(
                (k, a) for a in c.execute(select(t.c.address)).scalars() if (k := v6_sort_key(a)) > after
            )[:limit]
            if not keyed:
                return []
            addresses = [a for _, a in keyed]
            rows = {r.address: r for r in c.execute(select(t).where(t.c.address.in_(addresses)))}
            return [lease6_from_row(rows[a]) for a in addresses if a in rows]

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


class StoreConflict(Exception):
    """A write collided with a concurrent writer of the same database (e.g. Kea itself)."""


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
