"""Kea 2.2's lease tables as SQLAlchemy Core metadata.

Table and column names, types and encodings are Kea's own (PostgreSQL schema 13.0, MySQL
schema 14.0), so leasesync can share a database with kea-dhcp4/kea-dhcp6. SQLite gets the same
columns with SQLite types (expire as Unix seconds). leasesync's own tables are prefixed `ls_`
so they can never collide with Kea's.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    SmallInteger,
    String,
    Table,
    Text,
    func,
)
from sqlalchemy.dialects import mysql

KEA_PGSQL_SCHEMA_VERSION = (13, 0)
KEA_MYSQL_SCHEMA_VERSION = (14, 0)

metadata = MetaData()

_UINT = mysql.INTEGER(unsigned=True)


def _uint32() -> BigInteger:
    return BigInteger().with_variant(_UINT, "mysql").with_variant(Integer(), "sqlite")  # type: ignore[return-value]


def _bytes(length: int) -> LargeBinary:
    return LargeBinary().with_variant(mysql.VARBINARY(length), "mysql")  # type: ignore[return-value]


def _expire() -> DateTime:
    # PostgreSQL: timestamptz; MySQL: TIMESTAMP; SQLite: Unix seconds.
    return DateTime(timezone=True).with_variant(mysql.TIMESTAMP(), "mysql").with_variant(Integer(), "sqlite")  # type: ignore[return-value]


schema_version = Table(
    "schema_version",
    metadata,
    Column("version", Integer, primary_key=True, autoincrement=False),
    Column("minor", Integer),
)

lease_state = Table(
    "lease_state",
    metadata,
    Column("state", _uint32(), primary_key=True, autoincrement=False),
    Column("name", String(64), nullable=False),
)

lease6_types = Table(
    "lease6_types",
    metadata,
    Column("lease_type", SmallInteger().with_variant(mysql.TINYINT(), "mysql"), primary_key=True, autoincrement=False),
    Column("name", String(5)),
)

lease_hwaddr_source = Table(
    "lease_hwaddr_source",
    metadata,
    Column("hwaddr_source", Integer().with_variant(_UINT, "mysql"), primary_key=True, autoincrement=False),
    Column("name", String(40)),
)

lease4 = Table(
    "lease4",
    metadata,
    Column("address", _uint32(), primary_key=True, autoincrement=False),
    Column("hwaddr", _bytes(20)),
    Column("client_id", _bytes(128)),
    Column("valid_lifetime", _uint32()),
    Column("expire", _expire()),
    Column("subnet_id", _uint32()),
    Column("fqdn_fwd", Boolean),
    Column("fqdn_rev", Boolean),
    Column("hostname", String(255)),
    Column("state", _uint32(), ForeignKey("lease_state.state"), server_default="0"),
    Column("user_context", Text),
)
Index("lease4_by_hwaddr_subnet_id", lease4.c.hwaddr, lease4.c.subnet_id)
Index("lease4_by_client_id_subnet_id", lease4.c.client_id, lease4.c.subnet_id)
Index("lease4_by_subnet_id", lease4.c.subnet_id)
Index("lease4_by_state_expire", lease4.c.state, lease4.c.expire)
Index(
    "lease4_by_hostname",
    func.lower(lease4.c.hostname),
    postgresql_where=lease4.c.hostname.isnot(None),
).ddl_if(dialect=("postgresql", "sqlite"))  # type: ignore[arg-type]
Index("lease4_by_hostname_mysql", lease4.c.hostname).ddl_if(dialect="mysql")

lease6 = Table(
    "lease6",
    metadata,
    Column("address", String(39), primary_key=True),
    Column("duid", _bytes(128)),
    Column("valid_lifetime", _uint32()),
    Column("expire", _expire()),
    Column("subnet_id", _uint32()),
    Column("pref_lifetime", _uint32()),
    Column("lease_type", SmallInteger().with_variant(mysql.TINYINT(), "mysql"), ForeignKey("lease6_types.lease_type")),
    # PostgreSQL stores iaid as signed int32 (Kea converts); MySQL as INT UNSIGNED.
    Column("iaid", Integer().with_variant(_UINT, "mysql")),
    Column("prefix_len", SmallInteger().with_variant(mysql.TINYINT(unsigned=True), "mysql")),
    Column("fqdn_fwd", Boolean),
    Column("fqdn_rev", Boolean),
    Column("hostname", String(255)),
    Column("state", _uint32(), ForeignKey("lease_state.state"), server_default="0"),
    Column("hwaddr", _bytes(20)),
    Column("hwtype", SmallInteger().with_variant(mysql.SMALLINT(unsigned=True), "mysql")),
    Column("hwaddr_source", Integer().with_variant(_UINT, "mysql")),
    Column("user_context", Text),
)
Index("lease6_by_duid_iaid_subnet_id", lease6.c.duid, lease6.c.iaid, lease6.c.subnet_id)
Index("lease6_by_subnet_id_lease_type", lease6.c.subnet_id, lease6.c.lease_type)
Index("lease6_by_state_expire", lease6.c.state, lease6.c.expire)
Index(
    "lease6_by_hostname",
    func.lower(lease6.c.hostname),
    postgresql_where=lease6.c.hostname.isnot(None),
).ddl_if(dialect=("postgresql", "sqlite"))  # type: ignore[arg-type]
Index("lease6_by_hostname_mysql", lease6.c.hostname).ddl_if(dialect="mysql")

# Kea's statistics tables, kept current by the triggers on lease4/lease6 (revision 0003 or Kea's
# own schema): leases in states 0 and 1 per subnet [and type], state-0 leases per client class.
lease4_stat = Table(
    "lease4_stat",
    metadata,
    Column("subnet_id", _uint32(), primary_key=True, autoincrement=False),
    Column("state", _uint32(), primary_key=True, autoincrement=False),
    Column("leases", BigInteger().with_variant(Integer(), "sqlite")),
)

lease6_stat = Table(
    "lease6_stat",
    metadata,
    Column("subnet_id", _uint32(), primary_key=True, autoincrement=False),
    Column("lease_type", SmallInteger().with_variant(_UINT, "mysql"), primary_key=True, autoincrement=False),
    Column("state", _uint32(), primary_key=True, autoincrement=False),
    Column("leases", BigInteger().with_variant(Integer(), "sqlite")),
)

lease4_stat_by_client_class = Table(
    "lease4_stat_by_client_class",
    metadata,
    Column("client_class", String(128), primary_key=True),
    Column("leases", BigInteger().with_variant(mysql.BIGINT(unsigned=True), "mysql")
           .with_variant(Integer(), "sqlite"), nullable=False),
)

lease6_stat_by_client_class = Table(
    "lease6_stat_by_client_class",
    metadata,
    Column("client_class", String(128), primary_key=True),
    Column("lease_type", SmallInteger().with_variant(mysql.TINYINT(), "mysql"),
           ForeignKey("lease6_types.lease_type"), primary_key=True, autoincrement=False),
    Column("leases", BigInteger().with_variant(mysql.BIGINT(unsigned=True), "mysql")
           .with_variant(Integer(), "sqlite"), nullable=False),
)

# --- leasesync's own tables ----------------------------------------------------------------

# Lease updates that could not be delivered to a peer yet, in order. Durable so that a restart
# of leasesync loses none of them.
ha_backlog = Table(
    "ls_ha_backlog",
    metadata,
    Column("id", BigInteger().with_variant(Integer(), "sqlite"), primary_key=True, autoincrement=True),
    Column("peer", String(255), nullable=False),
    Column("family", SmallInteger, nullable=False),
    Column("command", String(64), nullable=False),
    # a whole lease update (a bulk of up to 1,000 leases): TEXT ends at 64 KiB on MySQL
    Column("arguments", Text().with_variant(mysql.LONGTEXT(), "mysql"), nullable=False),
    Column("created", BigInteger, nullable=False),
)
Index("ls_ha_backlog_by_peer", ha_backlog.c.peer, ha_backlog.c.id)

# HA hand-off journal: a lease change made here is recorded in the transaction that makes it,
# and the record is deleted once the change was handed to every peer (delivered, or written to
# ls_ha_backlog). What a restart finds here was committed but may never have left: it goes to the
# backlog (app/ha/service.py). `deleted` holds a deleted lease's last state (Kea's map, JSON),
# which a delete sent to a peer carries; a change that left a lease is sent as the lease is now.
ha_handoff = Table(
    "ls_ha_handoff",
    metadata,
    Column("id", BigInteger().with_variant(Integer(), "sqlite"), primary_key=True, autoincrement=True),
    Column("token", BigInteger, nullable=False),
    Column("family", SmallInteger, nullable=False),
    Column("address", String(39), nullable=False),
    Column("lease_type", SmallInteger, nullable=False),
    Column("deleted", Text().with_variant(mysql.LONGTEXT(), "mysql")),
)
Index("ls_ha_handoff_by_token", ha_handoff.c.token)

# Key/value facts leasesync keeps about itself (e.g. the HA state before a restart).
agent_state = Table(
    "ls_agent_state",
    metadata,
    Column("key", String(128), primary_key=True),
    Column("value", Text),
)

LEASE_STATES = [(0, "default"), (1, "declined"), (2, "expired-reclaimed")]
LEASE6_TYPES = [(0, "IA_NA"), (1, "IA_TA"), (2, "IA_PD")]
HWADDR_SOURCES = [
    (0, "HWADDR_SOURCE_UNKNOWN"),
    (1, "HWADDR_SOURCE_RAW"),
    (2, "HWADDR_SOURCE_IPV6_LINK_LOCAL"),
    (4, "HWADDR_SOURCE_DUID"),
    (8, "HWADDR_SOURCE_CLIENT_ADDR_RELAY_OPTION"),
    (16, "HWADDR_SOURCE_REMOTE_ID"),
    (32, "HWADDR_SOURCE_SUBSCRIBER_ID"),
    (64, "HWADDR_SOURCE_DOCSIS_CMTS"),
    (128, "HWADDR_SOURCE_DOCSIS_MODEM"),
]
