"""MySQL: LONGTEXT for the durable HA backlog's arguments and the captured rows' JSON.

MySQL's TEXT holds 64 KiB. A backlog row carries a whole lease update (a lease6-bulk-apply of up
to 1,000 leases, each with its user-context), and a captured delete carries the whole deleted row;
either can pass 64 KiB, and under the strict SQL mode leasesync and Kea run with, an insert that
does not fit fails (before, a lenient server cut it short). PostgreSQL's and SQLite's TEXT have no
such limit; this revision changes nothing there.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-27
"""

from __future__ import annotations

from alembic import op
from sqlalchemy import Text, inspect
from sqlalchemy.dialects import mysql

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

_COLUMNS = [("ls_ha_backlog", "arguments", False), ("ls_lease_changes", "old", True)]


def _alter(long: bool) -> None:
    bind = op.get_bind()
    if bind.dialect.name != "mysql":
        return
    tables = set(inspect(bind).get_table_names())
    for table, column, nullable in _COLUMNS:
        if table in tables:
            op.alter_column(table, column, type_=mysql.LONGTEXT() if long else Text(),
                            existing_nullable=nullable)


def upgrade() -> None:
    _alter(long=True)


def downgrade() -> None:
    _alter(long=False)
