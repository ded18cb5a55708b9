"""A lease database reached over the server's unix socket: `host` set to PostgreSQL's socket
directory (libpq's meaning, which Kea's `lease-database` passes on) or to MySQL/MariaDB's socket
file. A site whose database listens on no TCP port, or an agent in a network namespace of its own,
connects this way."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.conftest import (
    MYSQL_SOCKETS,
    PG_SOCKET_DIRS,
    SHARED_KINDS,
    database_socket,
    free_port,
    make_database,
    service_config,
    unavailable,
)


def _socket(kind: str) -> str:
    socket = database_socket(kind)
    if socket is None:
        where = PG_SOCKET_DIRS if kind == "postgresql" else MYSQL_SOCKETS
        unavailable(f"no {kind} unix socket in {list(where)}")
        raise AssertionError  # unreachable: unavailable() skips or fails
    return socket


@pytest.mark.parametrize("kind", SHARED_KINDS)
def test_a_lease_database_on_a_unix_socket_stores_and_answers_leases(kind: str, spawn: Any, tmp_path: Path) -> None:
    database, drop = make_database(kind, tmp_path)
    try:
        database["host"] = _socket(kind)
        server = spawn(service_config(database, port=free_port()))
        added = server.command("lease4-add", "dhcp4", {"ip-address": "192.0.2.20", "hw-address": "1a:1b:1c:1d:1e:1f"})
        assert added == [{"result": 0, "text": "Lease for address 192.0.2.20, subnet-id 1 added."}]
        found = server.command("lease4-get", "dhcp4", {"ip-address": "192.0.2.20"})[0]
        assert (found["result"], found["arguments"]["hw-address"]) == (0, "1a:1b:1c:1d:1e:1f")
    finally:
        drop()


def test_a_socket_host_is_kept_out_of_the_url_authority() -> None:
    from app.config import DatabaseConfig

    pg = DatabaseConfig(type="postgresql", name="kea", host="/var/run/postgresql", user="kea", password="p@ss")
    assert pg.url() == "postgresql+psycopg://kea:p%40ss@/kea?host=%2Fvar%2Frun%2Fpostgresql&port=5432"
    assert "p%40ss" not in pg.redacted_url()
    mysql = DatabaseConfig(type="mysql", name="kea", host="/run/mysqld/mysqld.sock", user="kea")
    assert mysql.url() == "mysql+pymysql://kea:@/kea?unix_socket=%2Frun%2Fmysqld%2Fmysqld.sock&charset=utf8mb4"
    assert DatabaseConfig(type="mysql", name="kea", host="db.example.org").url().startswith(
        "mysql+pymysql://db.example.org:3306/kea")
