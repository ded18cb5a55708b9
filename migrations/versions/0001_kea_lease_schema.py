"""Kea 2.2's lease schema (PostgreSQL 13.0 / MySQL 14.0) and leasesync's own tables.

A database that Kea's `kea-admin db-init` already created is detected by its
`schema_version` table and left as it is: only leasesync's `ls_*` tables are added.

Revision ID: 0001
Revises:
Create Date: 2026-11-25
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from app.store import schema

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

_KEA_TABLES = [schema.schema_version, schema.lease_state, schema.lease6_types, schema.lease_hwaddr_source,
               schema.lease4, schema.lease6]
_OWN_TABLES = [schema.ha_backlog, schema.agent_state]


def upgrade() -> None:
    bind = op.get_bind()
    inspector = sa.inspect(bind)
    kea_schema_present = inspector.has_table("schema_version")
    if not kea_schema_present:
        schema.metadata.create_all(bind, tables=_KEA_TABLES)
        dialect = bind.dialect.name
        version = schema.KEA_MYSQL_SCHEMA_VERSION if dialect == "mysql" else schema.KEA_PGSQL_SCHEMA_VERSION
        bind.execute(schema.schema_version.insert(), [{"version": version[0], "minor": version[1]}])
        bind.execute(schema.lease_state.insert(), [{"state": s, "name": n} for s, n in schema.LEASE_STATES])
        bind.execute(schema.lease6_types.insert(), [{"lease_type": t, "name": n} for t, n in schema.LEASE6_TYPES])
        bind.execute(schema.lease_hwaddr_source.insert(),
                     [{"hwaddr_source": s, "name": n} for s, n in schema.HWADDR_SOURCES])
    schema.metadata.create_all(bind, tables=_OWN_TABLES)


def downgrade() -> None:
    # Never drop Kea's tables: they may hold a live server's leases.
    bind = op.get_bind()
    schema.metadata.drop_all(bind, tables=_OWN_TABLES)
