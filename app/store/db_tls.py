"""TLS to the lease database server, as each driver takes it (and libpq's other connection
parameters leasesync sets: `postgresql_parameters`).

PostgreSQL: psycopg (the SQLAlchemy engine, the change capture's LISTEN connection) and asyncpg
(lookups on the serving loop) both read libpq's parameters (`sslmode`, `sslrootcert`, ...), so
one set of names drives all three kinds of connection. MySQL/MariaDB: PyMySQL takes an
`ssl.SSLContext` built here; in a mode that requires TLS every new connection is then checked for a
cipher, as Kea checks its own, and refused without one (Kea only logs `DHCPSRV_MYSQL_NO_TLS`).
"""

from __future__ import annotations

import logging
import os
import ssl
from dataclasses import replace
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode

from app.errors import ConfigError

if TYPE_CHECKING:  # app.config calls check() while it parses
    from app.config import DatabaseConfig, DatabaseTls

log = logging.getLogger("leasesync.store")


def _context(tls: DatabaseTls, path: str) -> ssl.SSLContext:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    context.check_hostname = tls.mode == "verify-full"
    try:
        if tls.verified:
            if os.path.isdir(tls.trust_anchor):
                context.load_verify_locations(capath=tls.trust_anchor)
            elif tls.trust_anchor:
                context.load_verify_locations(cafile=tls.trust_anchor)
            else:
                context.load_default_certs()
        else:
            context.verify_mode = ssl.CERT_NONE
    except (OSError, ssl.SSLError) as exc:
        raise ConfigError(f"cannot load the trust anchor {tls.trust_anchor}: {exc}", f"{path}.trust-anchor") from None
    if tls.cert_file:
        try:
            context.load_cert_chain(tls.cert_file, tls.key_file or None, password=tls.key_password or None)
        except (OSError, ssl.SSLError) as exc:
            raise ConfigError(f"cannot load the client certificate {tls.cert_file}: {exc}",
                              f"{path}.cert-file") from None
    if tls.cipher_list:
        try:
            context.set_ciphers(tls.cipher_list)
        except ssl.SSLError:
            raise ConfigError(f"no cipher can be selected from '{tls.cipher_list}'", f"{path}.cipher-list") from None
    return context


def mysql_connect_args(db: DatabaseConfig, path: str = "lease-database") -> dict[str, Any]:
    """PyMySQL's TLS arguments. Without any TLS key PyMySQL's default stays (TLS when the server
    offers it, nothing verified); `prefer` is that default too, with no client certificate."""
    tls = db.tls
    if tls is None or tls.mode == "prefer":
        return {}
    if tls.mode == "disable":
        return {"ssl_disabled": True}
    return {"ssl": _context(tls, path)}


def require_mysql_tls(dbapi_connection: Any) -> None:
    """Refuse a MySQL connection that is not encrypted although TLS is required (an old PyMySQL
    falls back to clear text when the server offers no TLS)."""
    cursor = dbapi_connection.cursor()
    try:
        cursor.execute("SHOW SESSION STATUS LIKE 'Ssl_cipher'")
        row = cursor.fetchone()
    finally:
        cursor.close()
    if not row or not row[1]:
        import pymysql

        raise pymysql.err.OperationalError(2026, "TLS is required (lease-database ssl-mode or a TLS key) "
                                                 "but the connection to the database server is not encrypted")


def postgresql_parameters(db: DatabaseConfig) -> dict[str, Any]:
    """The libpq parameters leasesync sets for psycopg's connections: the TLS ones (none without
    TLS keys: libpq's default, prefer) and `tcp_user_timeout` (DatabaseConfig.tcp_user_timeout_ms).
    asyncpg has no such socket option; its lookups are bounded by query-timeout and discarded."""
    parameters: dict[str, Any] = {"tcp_user_timeout": db.tcp_user_timeout_ms()}
    if db.tls is not None:
        # as Kea: with TLS configured, no GSSAPI encryption attempt first
        parameters.update(db.tls.libpq_parameters(), gssencmode="disable")
    return parameters


def asyncpg_dsn(db: DatabaseConfig) -> str | None:
    """A DSN carrying only the TLS parameters, for asyncpg.connect beside its keyword arguments
    (asyncpg takes libpq's `ssl*` names from a DSN; any other name would become a server setting)."""
    if db.tls is None:
        return None
    return "postgresql://?" + urlencode(db.tls.libpq_parameters())


def check(db_type: str, tls: DatabaseTls, path: str) -> None:
    """Load what the connections will load, so that a bad file, key password or cipher list stops
    start-up with the key's path instead of failing every connection later; warn about what is
    not used."""
    if tls.mode == "disable":
        return
    if db_type == "postgresql" and tls.cipher_list:
        log.warning("%s.cipher-list is not used for postgresql (libpq has no such setting; Kea ignores it "
                    "too): the server's ssl_ciphers decide", path)
        tls = replace(tls, cipher_list="")
    _context(tls, path)
