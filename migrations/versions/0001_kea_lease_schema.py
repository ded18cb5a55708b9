"""Kea 2.2's lease tables (PostgreSQL schema 13.0 / MySQL schema 14.0) and leasesync's own tables.

The DDL is leasesync's own, written per dialect to give the same tables, column types, keys,
index and constraint names as Kea 2.2's `dhcpdb_create` scripts, so that kea-dhcp4/kea-dhcp6 2.2
accept the database (and Kea's upgrade scripts find the names they expect). The statistics
tables, functions and triggers Kea also needs come in revision 0003.

A database that Kea's `kea-admin db-init` already created is recognised by its `schema_version`
table: its version must be the one Kea 2.2 uses (else the migration fails naming both), and none
of its objects is touched — only leasesync's `ls_*` tables are added. Which of the two created
the Kea objects is recorded in `ls_agent_state` (key `kea-schema-origin`), so later revisions
know whether they may complete the Kea schema.

Revision ID: 0001
Revises:
Create Date: 2026-11-25
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from app.store import schema
from app.store.migrate import KEA_SCHEMA_ORIGIN_KEY, check_kea_schema_version, expected_kea_version

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

_OWN_TABLES = [schema.ha_backlog, schema.agent_state]

# --- PostgreSQL (as Kea's schema 13.0) --------------------------------------------------------

_PG = [
    """CREATE TABLE IF NOT EXISTS lease_state (
        state BIGINT NOT NULL PRIMARY KEY,
        name VARCHAR(64) NOT NULL)""",
    """CREATE TABLE IF NOT EXISTS lease6_types (
        lease_type SMALLINT NOT NULL PRIMARY KEY,
        name VARCHAR(5))""",
    """CREATE TABLE IF NOT EXISTS lease_hwaddr_source (
        hwaddr_source INTEGER NOT NULL PRIMARY KEY,
        name VARCHAR(40) DEFAULT NULL)""",
    """CREATE TABLE IF NOT EXISTS lease4 (
        address BIGINT NOT NULL PRIMARY KEY,
        hwaddr BYTEA,
        client_id BYTEA,
        valid_lifetime BIGINT,
        expire TIMESTAMP WITH TIME ZONE,
        subnet_id BIGINT,
        fqdn_fwd BOOLEAN,
        fqdn_rev BOOLEAN,
        hostname VARCHAR(255),
        state BIGINT DEFAULT 0,
        user_context TEXT,
        CONSTRAINT fk_lease4_state FOREIGN KEY (state) REFERENCES lease_state (state))""",
    "CREATE INDEX IF NOT EXISTS lease4_by_hwaddr_subnet_id ON lease4 (hwaddr, subnet_id)",
    "CREATE INDEX IF NOT EXISTS lease4_by_client_id_subnet_id ON lease4 (client_id, subnet_id)",
    "CREATE INDEX IF NOT EXISTS lease4_by_subnet_id ON lease4 (subnet_id)",
    "CREATE INDEX IF NOT EXISTS lease4_by_state_expire ON lease4 (state ASC, expire ASC)",
    "CREATE INDEX IF NOT EXISTS lease4_by_hostname ON lease4 (lower(hostname)) WHERE hostname IS NOT NULL",
    """CREATE TABLE IF NOT EXISTS lease6 (
        address VARCHAR(39) NOT NULL PRIMARY KEY,
        duid BYTEA,
        valid_lifetime BIGINT,
        expire TIMESTAMP WITH TIME ZONE,
        subnet_id BIGINT,
        pref_lifetime BIGINT,
        lease_type SMALLINT,
        iaid INTEGER,
        prefix_len SMALLINT,
        fqdn_fwd BOOLEAN,
        fqdn_rev BOOLEAN,
        hostname VARCHAR(255),
        state BIGINT DEFAULT 0,
        hwaddr BYTEA,
        hwtype SMALLINT,
        hwaddr_source SMALLINT,
        user_context TEXT,
        CONSTRAINT fk_lease6_type FOREIGN KEY (lease_type) REFERENCES lease6_types (lease_type),
        CONSTRAINT fk_lease6_state FOREIGN KEY (state) REFERENCES lease_state (state))""",
    "CREATE INDEX IF NOT EXISTS lease6_by_duid_iaid_subnet_id ON lease6 (duid, iaid, subnet_id)",
    "CREATE INDEX IF NOT EXISTS lease6_by_subnet_id_lease_type ON lease6 (subnet_id, lease_type)",
    "CREATE INDEX IF NOT EXISTS lease6_by_state_expire ON lease6 (state ASC, expire ASC)",
    "CREATE INDEX IF NOT EXISTS lease6_by_hostname ON lease6 (lower(hostname)) WHERE hostname IS NOT NULL",
]

# --- MySQL / MariaDB (as Kea's schema 14.0) ---------------------------------------------------
# expire is spelled `TIMESTAMP NULL DEFAULT NULL`: without it a server with
# explicit_defaults_for_timestamp=OFF makes it NOT NULL ... ON UPDATE CURRENT_TIMESTAMP.

_MYSQL = [
    """CREATE TABLE IF NOT EXISTS lease_state (
        state INT UNSIGNED NOT NULL PRIMARY KEY,
        name VARCHAR(64) NOT NULL
    ) ENGINE = InnoDB""",
    """CREATE TABLE IF NOT EXISTS lease6_types (
        lease_type TINYINT NOT NULL PRIMARY KEY,
        name VARCHAR(5)
    ) ENGINE = InnoDB""",
    """CREATE TABLE IF NOT EXISTS lease_hwaddr_source (
        hwaddr_source INT UNSIGNED NOT NULL PRIMARY KEY,
        name VARCHAR(40)
    ) ENGINE = InnoDB""",
    """CREATE TABLE IF NOT EXISTS lease4 (
        address INT UNSIGNED NOT NULL PRIMARY KEY,
        hwaddr VARBINARY(20),
        client_id VARBINARY(128),
        valid_lifetime INT UNSIGNED,
        expire TIMESTAMP NULL DEFAULT NULL,
        subnet_id INT UNSIGNED,
        fqdn_fwd BOOL,
        fqdn_rev BOOL,
        hostname VARCHAR(255),
        state INT UNSIGNED DEFAULT 0,
        user_context TEXT NULL,
        INDEX lease4_by_hwaddr_subnet_id (hwaddr, subnet_id),
        INDEX lease4_by_client_id_subnet_id (client_id, subnet_id),
        INDEX lease4_by_subnet_id (subnet_id),
        INDEX lease4_by_hostname (hostname),
        INDEX lease4_by_expire_state (expire, state),
        CONSTRAINT fk_lease4_state FOREIGN KEY (state) REFERENCES lease_state (state)
    ) ENGINE = InnoDB""",
    """CREATE TABLE IF NOT EXISTS lease6 (
        address VARCHAR(39) NOT NULL PRIMARY KEY,
        duid VARBINARY(128),
        valid_lifetime INT UNSIGNED,
        expire TIMESTAMP NULL DEFAULT NULL,
        subnet_id INT UNSIGNED,
        pref_lifetime INT UNSIGNED,
        lease_type TINYINT,
        iaid INT UNSIGNED,
        prefix_len TINYINT UNSIGNED,
        fqdn_fwd BOOL,
        fqdn_rev BOOL,
        hostname VARCHAR(255),
        hwaddr VARBINARY(20),
        hwtype SMALLINT UNSIGNED,
        hwaddr_source INT UNSIGNED,
        state INT UNSIGNED DEFAULT 0,
        user_context TEXT NULL,
        INDEX lease6_by_subnet_id_lease_type (subnet_id, lease_type),
        INDEX lease6_by_duid_iaid_subnet_id (duid, iaid, subnet_id),
        INDEX lease6_by_hostname (hostname),
        INDEX lease6_by_expire_state (expire, state),
        CONSTRAINT fk_lease6_type FOREIGN KEY (lease_type) REFERENCES lease6_types (lease_type),
        CONSTRAINT fk_lease6_hwaddr_source FOREIGN KEY (hwaddr_source)
            REFERENCES lease_hwaddr_source (hwaddr_source),
        CONSTRAINT fk_lease6_state FOREIGN KEY (state) REFERENCES lease_state (state)
    ) ENGINE = InnoDB""",
]

# --- SQLite (no Kea; same tables, expire as Unix seconds) -------------------------------------

_SQLITE = [
    "CREATE TABLE IF NOT EXISTS lease_state (state INTEGER NOT NULL PRIMARY KEY, name VARCHAR(64) NOT NULL)",
    "CREATE TABLE IF NOT EXISTS lease6_types (lease_type SMALLINT NOT NULL PRIMARY KEY, name VARCHAR(5))",
    "CREATE TABLE IF NOT EXISTS lease_hwaddr_source (hwaddr_source INTEGER NOT NULL PRIMARY KEY, name VARCHAR(40))",
    """CREATE TABLE IF NOT EXISTS lease4 (
        address INTEGER NOT NULL PRIMARY KEY,
        hwaddr BLOB,
        client_id BLOB,
        valid_lifetime INTEGER,
        expire INTEGER,
        subnet_id INTEGER,
        fqdn_fwd BOOLEAN,
        fqdn_rev BOOLEAN,
        hostname VARCHAR(255),
        state INTEGER DEFAULT 0 REFERENCES lease_state (state),
        user_context TEXT)""",
    "CREATE INDEX IF NOT EXISTS lease4_by_hwaddr_subnet_id ON lease4 (hwaddr, subnet_id)",
    "CREATE INDEX IF NOT EXISTS lease4_by_client_id_subnet_id ON lease4 (client_id, subnet_id)",
    "CREATE INDEX IF NOT EXISTS lease4_by_subnet_id ON lease4 (subnet_id)",
    "CREATE INDEX IF NOT EXISTS lease4_by_state_expire ON lease4 (state, expire)",
    "CREATE INDEX IF NOT EXISTS lease4_by_hostname ON lease4 (lower(hostname)) WHERE hostname IS NOT NULL",
    """CREATE TABLE IF NOT EXISTS lease6 (
        address VARCHAR(39) NOT NULL PRIMARY KEY,
        duid BLOB,
        valid_lifetime INTEGER,
        expire INTEGER,
        subnet_id INTEGER,
        pref_lifetime INTEGER,
        lease_type SMALLINT REFERENCES lease6_types (lease_type),
        iaid INTEGER,
        prefix_len SMALLINT,
        fqdn_fwd BOOLEAN,
        fqdn_rev BOOLEAN,
        hostname VARCHAR(255),
        state INTEGER DEFAULT 0 REFERENCES lease_state (state),
        hwaddr BLOB,
        hwtype SMALLINT,
        hwaddr_source INTEGER,
        user_context TEXT)""",
    "CREATE INDEX IF NOT EXISTS lease6_by_duid_iaid_subnet_id ON lease6 (duid, iaid, subnet_id)",
    "CREATE INDEX IF NOT EXISTS lease6_by_subnet_id_lease_type ON lease6 (subnet_id, lease_type)",
    "CREATE INDEX IF NOT EXISTS lease6_by_state_expire ON lease6 (state, expire)",
    "CREATE INDEX IF NOT EXISTS lease6_by_hostname ON lease6 (lower(hostname)) WHERE hostname IS NOT NULL",
]

_DDL = {"postgresql": _PG, "mysql": _MYSQL, "sqlite": _SQLITE}

# Created last: its presence is what marks a database as holding a complete Kea lease schema, so
# a run interrupted before it (MySQL commits each DDL statement) is simply completed next time.
_SCHEMA_VERSION_DDL = {
    "postgresql": "CREATE TABLE schema_version (version INTEGER NOT NULL PRIMARY KEY, minor INTEGER)",
    "mysql": "CREATE TABLE schema_version (version INT NOT NULL PRIMARY KEY, minor INT) ENGINE = InnoDB",
    "sqlite": "CREATE TABLE schema_version (version INTEGER NOT NULL PRIMARY KEY, minor INTEGER)",
}


def _insert_missing(bind: sa.Connection, table: sa.Table, rows: list[dict[str, object]]) -> None:
    key = next(iter(table.primary_key.columns))
    present = set(bind.execute(sa.select(key)).scalars())
    missing = [row for row in rows if row[key.name] not in present]
    if missing:
        bind.execute(table.insert(), missing)


def _create_kea_lease_schema(bind: sa.Connection) -> None:
    dialect = bind.dialect.name
    if dialect not in _DDL:
        raise RuntimeError(f"leasesync has no lease schema for the {dialect} database")
    for statement in _DDL[dialect]:
        bind.exec_driver_sql(statement)
    _insert_missing(bind, schema.lease_state, [{"state": s, "name": n} for s, n in schema.LEASE_STATES])
    _insert_missing(bind, schema.lease6_types, [{"lease_type": t, "name": n} for t, n in schema.LEASE6_TYPES])
    _insert_missing(bind, schema.lease_hwaddr_source,
                    [{"hwaddr_source": s, "name": n} for s, n in schema.HWADDR_SOURCES])
    bind.exec_driver_sql(_SCHEMA_VERSION_DDL[dialect])
    version, minor = expected_kea_version(dialect)
    bind.execute(schema.schema_version.insert(), [{"version": version, "minor": minor}])


def upgrade() -> None:
    bind = op.get_bind()
    if sa.inspect(bind).has_table("schema_version"):
        # Kea (kea-admin db-init) made this database: check, then leave all of it alone.
        check_kea_schema_version(bind)
        origin = "kea"
    else:
        _create_kea_lease_schema(bind)
        origin = "leasesync"
    schema.metadata.create_all(bind, tables=_OWN_TABLES)
    bind.execute(schema.agent_state.delete().where(schema.agent_state.c.key == KEA_SCHEMA_ORIGIN_KEY))
    bind.execute(schema.agent_state.insert(), [{"key": KEA_SCHEMA_ORIGIN_KEY, "value": origin}])


def downgrade() -> None:
    # Never drop Kea's tables: they may hold a live server's leases.
    bind = op.get_bind()
    schema.metadata.drop_all(bind, tables=_OWN_TABLES)
