"""Store operations used by HA: applying a partner's lease pages (newer cltt wins) and the
durable lease-update backlog."""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import orjson
from sqlalchemy import delete, func, insert, select, update
from sqlalchemy.engine import Connection

from app.store import schema
from app.store.leases import Lease4, Lease6, lease4_from_row, lease4_to_row, lease6_from_row, lease6_to_row
from app.store.repository import WriteOp


@dataclass
class ApplyIfNewer(WriteOp):
    """Store each lease unless the local copy is as new or newer (Kea's sync rule: the local
    lease is replaced only when its cltt is older). Outcome: (stored, skipped_stale)."""

    leases: Sequence[Lease4 | Lease6]

    def apply(self, conn: Connection, dialect: str) -> tuple[int, int]:
        if not self.leases:
            return 0, 0
        v4 = isinstance(self.leases[0], Lease4)
        table = schema.lease4 if v4 else schema.lease6
        encode = lease4_to_row if v4 else lease6_to_row
        decode = lease4_from_row if v4 else lease6_from_row
        keys = [lease.address for lease in self.leases]
        existing: dict[Any, Any] = {}
        for start in range(0, len(keys), 500):
            chunk = keys[start:start + 500]
            for row in conn.execute(select(table).where(table.c.address.in_(chunk))):
                existing[row.address] = decode(row)
        fresh: dict[Any, Lease4 | Lease6] = {}
        updates: list[dict[str, Any]] = []
        stale = 0
        for lease in self.leases:
            local = existing.get(lease.address)
            if local is None:
                seen = fresh.get(lease.address)
                if seen is None or seen.cltt < lease.cltt:
                    fresh[lease.address] = lease
            elif local.cltt < lease.cltt:
                updates.append(encode(lease, dialect))  # type: ignore[arg-type]
            else:
                stale += 1
        new_rows = [encode(lease, dialect) for lease in fresh.values()]  # type: ignore[arg-type]
        if new_rows:
            conn.execute(insert(table), new_rows)
        for values in updates:
            conn.execute(update(table).where(table.c.address == values["address"]).values(values))
        return len(new_rows) + len(updates), stale


# --- durable backlog -------------------------------------------------------------------------

@dataclass
class BacklogEntry:
    id: int
    peer: str
    family: int
    command: str
    arguments: dict[str, Any]
    created: int


def _enqueue(conn: Connection, peers: Sequence[str], family: int, items: Sequence[tuple[str, dict[str, Any]]]) -> int:
    """Append `items` (command, arguments) to each peer's backlog; the number of rows written."""
    now = int(time.time())
    rows = [{"peer": peer, "family": family, "command": command, "arguments": orjson.dumps(args).decode(),
             "created": now} for peer in peers for command, args in items]
    if rows:
        conn.execute(insert(schema.ha_backlog), rows)
    return len(rows)


def enqueue_tail_op(peer: str, family: int, items: Sequence[tuple[str, dict[str, Any]]]) -> WriteOp:
    """Append `items` to the peer's backlog; returns the highest entry id of the peer's backlog
    after the insert, read in the same transaction: at least the id of every entry it queued."""
    from app.store.repository import FuncOp

    def run(conn: Connection, dialect: str) -> int:
        _enqueue(conn, [peer], family, items)
        t = schema.ha_backlog
        return int(conn.execute(select(func.max(t.c.id)).where(t.c.peer == peer, t.c.family == family)).scalar() or 0)

    return FuncOp(run)


def delete_entries_op(ids: Sequence[int]) -> WriteOp:
    from app.store.repository import FuncOp

    def run(conn: Connection, dialect: str) -> int:
        if not ids:
            return 0
        return int(conn.execute(delete(schema.ha_backlog).where(schema.ha_backlog.c.id.in_(list(ids)))).rowcount or 0)

    return FuncOp(run)


def read_backlog(peer: str, family: int, limit: int) -> Any:
    def run(conn: Connection, dialect: str) -> list[BacklogEntry]:
        t = schema.ha_backlog
        rows = conn.execute(select(t).where(t.c.peer == peer, t.c.family == family).order_by(t.c.id).limit(limit))
        return [BacklogEntry(r.id, r.peer, r.family, r.command, orjson.loads(r.arguments), r.created) for r in rows]

    return run


def backlog_stats(peer: str, family: int) -> Any:
    def run(conn: Connection, dialect: str) -> tuple[int, int | None]:
        t = schema.ha_backlog
        count, oldest = conn.execute(
            select(func.count(), func.min(t.c.created)).where(t.c.peer == peer, t.c.family == family)).one()
        return int(count), (int(oldest) if oldest is not None else None)

    return run


# --- HA hand-off journal (ls_ha_handoff, see app/store/schema.py) --------------------------------

@dataclass
class Handoff:
    id: int
    family: int
    address: str
    lease_type: int
    deleted: dict[str, Any] | None  # the deleted lease's last state (Kea's map), for a delete


# the most journal rows forgotten on the serving event loop (an indexed delete of each)
_LIGHT_HANDOFFS = 256


def handoffs_done_op(tokens: Sequence[int]) -> WriteOp:
    """Forget the journal rows of changes handed to every peer. A few rows are light: on
    SQLite the serving loop deletes them in its own batches. On the writer thread, the delete and
    its commit held the write lock that the loop's next lease batches then could not take: they
    went to the writer thread too, where each lease costs several times the CPU."""
    from app.store.repository import FuncOp

    def run(conn: Connection, dialect: str) -> int:
        t = schema.ha_handoff
        return int(conn.execute(delete(t).where(t.c.token.in_(list(tokens)))).rowcount or 0)

    return FuncOp(run, is_light=len(tokens) <= _LIGHT_HANDOFFS)


def read_handoffs(family: int) -> Any:
    def run(conn: Connection, dialect: str) -> list[Handoff]:
        t = schema.ha_handoff
        rows = conn.execute(select(t).where(t.c.family == family).order_by(t.c.id))
        return [Handoff(r.id, r.family, r.address, r.lease_type, None if r.deleted is None else orjson.loads(r.deleted))
                for r in rows]

    return run


def handoffs_to_backlog_op(ids: Sequence[int], peers: Sequence[str], family: int,
                           items: Sequence[tuple[str, dict[str, Any]]]) -> WriteOp:
    """Queue `items` for each peer and forget the journal rows `ids`, in one transaction."""
    from app.store.repository import FuncOp

    def run(conn: Connection, dialect: str) -> int:
        queued = _enqueue(conn, peers, family, items)
        t = schema.ha_handoff
        for start in range(0, len(ids), 500):  # (bind-parameter limits)
            conn.execute(delete(t).where(t.c.id.in_(list(ids[start:start + 500]))))
        return queued

    return FuncOp(run)
