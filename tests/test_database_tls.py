"""TLS to the lease database server, with Kea's keys (`trust-anchor`, `cert-file`, `key-file`,
`key-password`, `cipher-list`, and Kea 3.1's `ssl-mode`): against private PostgreSQL and MariaDB
servers that refuse every connection without TLS, driven through a real `leasesync serve`."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives import serialization

from app.config import DatabaseTls, parse_config
from app.errors import ConfigError
from tests.conftest import free_port, lease_store, service_config
from tests.pki import Ca
from tests.private_db import PrivateCluster, PrivateMariaDB, running_mariadb

MYSQL_USER = "leasesync"
KEY_PASSWORD = "k3y-pa55"
LEASE = {"ip-address": "192.0.2.20", "hw-address": "1a:1b:1c:1d:1e:1f"}


class Pki:
    """The database server's CA and certificate, a client certificate of the same CA, and a
    second CA that signed nothing the server shows."""

    def __init__(self, directory: Path) -> None:
        directory.mkdir(exist_ok=True)
        self.ca = Ca.create(directory, "db-ca")
        self.server_cert, self.server_key = self.ca.issue(directory, "db-server", server=True)
        self.client_cert, self.client_key = self.ca.issue(directory, "db-client", server=False, client=True)
        self.client_key.chmod(0o600)  # libpq refuses a key that others can read
        self.locked_client_key = directory / "db-client-locked.key"  # the same key, under KEY_PASSWORD
        key = serialization.load_pem_private_key(self.client_key.read_bytes(), password=None)
        self.locked_client_key.write_bytes(key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
            serialization.BestAvailableEncryption(KEY_PASSWORD.encode())))
        self.locked_client_key.chmod(0o600)
        self.other_ca = Ca.create(directory, "other-ca")


@pytest.fixture
def pki(tmp_path: Path) -> Pki:
    return Pki(tmp_path / "pki")


@pytest.fixture
def tls_pg(pki: Pki) -> Iterator[PrivateCluster]:
    """A PostgreSQL cluster that takes TCP connections (127.0.0.1, ::1) only over TLS, with a client
    certificate."""
    cluster = PrivateCluster()
    try:
        cluster.require_tls(pki.server_cert, pki.server_key, pki.ca.path, client_certificate=True)
        cluster.start(listen="127.0.0.1,::1")
        cluster.admin_sql("CREATE DATABASE leasesync")
        yield cluster
    finally:
        cluster.destroy()


def _mariadb(pki: Pki | None) -> Iterator[PrivateMariaDB]:
    if pki is None:
        yield from running_mariadb()
        return
    for server in running_mariadb(lambda server: server.require_tls(pki.server_cert, pki.server_key, pki.ca.path)):
        # the server runs with grant tables then: an account for TCP clients, with a client certificate
        server.admin_sql(f"CREATE USER '{MYSQL_USER}'@'%' REQUIRE X509")
        server.admin_sql(f"GRANT ALL ON *.* TO '{MYSQL_USER}'@'%'")
        yield server


@pytest.fixture
def tls_mariadb(pki: Pki) -> Iterator[PrivateMariaDB]:
    """A MariaDB server that takes TCP connections only over TLS."""
    yield from _mariadb(pki)


@pytest.fixture
def plain_mariadb() -> Iterator[PrivateMariaDB]:
    """A MariaDB server with no TLS at all."""
    yield from _mariadb(None)


def pg_db(cluster: PrivateCluster, **tls: Any) -> dict[str, Any]:
    return {"type": "postgresql", "name": "leasesync", "host": "127.0.0.1", "port": cluster.port,
            "user": "postgres", "connect-timeout": 3, **tls}


def mysql_db(server: PrivateMariaDB, **tls: Any) -> dict[str, Any]:
    return {"type": "mysql", "name": "leasesync", "host": "127.0.0.1", "port": server.port, "user": MYSQL_USER,
            "connect-timeout": 3, **tls}


def start(spawn: Any, db: dict[str, Any]) -> Any:
    return spawn(service_config(db, port=free_port(), dhcp6=False))


def refused_at_start(spawn: Any, db: dict[str, Any]) -> str:
    """The text `leasesync serve` exits with when it cannot reach its database."""
    with pytest.raises(RuntimeError, match="exited at start-up") as failed:
        start(spawn, db)
    return str(failed.value)


def added_and_found(server: Any) -> None:
    assert server.command("lease4-add", "dhcp4", LEASE)[0]["result"] == 0
    found = server.command("lease4-get", "dhcp4", {"ip-address": LEASE["ip-address"]})[0]
    assert found["result"] == 0 and found["arguments"]["hw-address"] == LEASE["hw-address"]


# --- configuration -----------------------------------------------------------------------------

def refusal(db: dict[str, Any]) -> str:
    with pytest.raises(ConfigError) as caught:
        parse_config({"Dhcp4": {"lease-database": db}})
    return str(caught.value)


def tls_of(db: dict[str, Any]) -> DatabaseTls | None:
    config = parse_config({"Dhcp4": {"lease-database": db}})
    assert config.dhcp4 is not None
    return config.dhcp4.lease_database.tls


PG = {"type": "postgresql", "name": "leasesync"}
MYSQL = {"type": "mysql", "name": "leasesync"}


def test_without_tls_keys_the_drivers_defaults_stay() -> None:
    assert tls_of(PG) is None


def test_a_trust_anchor_means_verify_ca_and_another_tls_key_require_as_in_kea(pki: Pki) -> None:
    anchored = tls_of({**PG, "trust-anchor": str(pki.ca.path)})
    certified = tls_of({**PG, "cert-file": str(pki.client_cert), "key-file": str(pki.client_key)})

    assert anchored is not None and anchored.mode == "verify-ca"
    assert anchored.libpq_parameters() == {"sslmode": "verify-ca", "sslrootcert": str(pki.ca.path)}
    assert certified is not None and certified.mode == "require" and not certified.verified


def test_ssl_mode_overrides_the_mode_the_keys_imply(pki: Pki) -> None:
    tls = tls_of({**MYSQL, "trust-anchor": str(pki.ca.path), "ssl-mode": "verify-full"})
    assert tls is not None and tls.mode == "verify-full" and tls.verified


def test_an_unknown_ssl_mode_fails_start_up_naming_the_key() -> None:
    assert refusal({**PG, "ssl-mode": "always"}) == (
        "Dhcp4.lease-database.ssl-mode: 'ssl-mode' must be one of disable, prefer, require, verify-ca, verify-full, "
        "not 'always'")


def test_a_trust_anchor_that_does_not_exist_fails_start_up_naming_the_key(tmp_path: Path) -> None:
    missing = tmp_path / "ca.pem"
    assert refusal({**PG, "trust-anchor": str(missing)}) == \
        f"Dhcp4.lease-database.trust-anchor: 'trust-anchor' {missing} does not exist"


def test_a_trust_anchor_that_is_not_a_certificate_fails_start_up(tmp_path: Path) -> None:
    junk = tmp_path / "junk.pem"
    junk.write_text("not a certificate")
    assert refusal({**MYSQL, "trust-anchor": str(junk)}).startswith(
        f"Dhcp4.lease-database.trust-anchor: cannot load the trust anchor {junk}:")


def test_a_key_file_without_a_cert_file_fails_start_up(pki: Pki) -> None:
    assert refusal({**PG, "key-file": str(pki.client_key)}) == \
        "Dhcp4.lease-database.key-file: 'key-file' is given without 'cert-file'"


def test_a_client_key_that_does_not_match_its_certificate_fails_start_up(pki: Pki) -> None:
    text = refusal({**MYSQL, "cert-file": str(pki.client_cert), "key-file": str(pki.server_key)})
    assert text.startswith(f"Dhcp4.lease-database.cert-file: cannot load the client certificate {pki.client_cert}:")


def test_a_wrong_key_password_fails_start_up(pki: Pki) -> None:
    text = refusal({**PG, "cert-file": str(pki.client_cert), "key-file": str(pki.locked_client_key),
                    "key-password": "wrong"})
    assert text.startswith(f"Dhcp4.lease-database.cert-file: cannot load the client certificate {pki.client_cert}:")


def test_a_cipher_list_that_selects_nothing_fails_start_up_for_mysql(pki: Pki) -> None:
    assert refusal({**MYSQL, "trust-anchor": str(pki.ca.path), "cipher-list": "NO-SUCH-CIPHER"}) == \
        "Dhcp4.lease-database.cipher-list: no cipher can be selected from 'NO-SUCH-CIPHER'"


def test_a_cipher_list_is_not_used_for_postgresql_and_says_so(pki: Pki, caplog: pytest.LogCaptureFixture) -> None:
    tls = tls_of({**PG, "trust-anchor": str(pki.ca.path), "cipher-list": "NO-SUCH-CIPHER"})
    assert tls is not None and "sslcipher" not in str(tls.libpq_parameters())
    assert "Dhcp4.lease-database.cipher-list is not used for postgresql" in caplog.text


def test_a_trust_anchor_directory_is_refused_for_postgresql(tmp_path: Path) -> None:
    assert refusal({**PG, "trust-anchor": str(tmp_path)}).startswith(
        f"Dhcp4.lease-database.trust-anchor: 'trust-anchor' {tmp_path} is a directory")


def test_the_key_password_is_redacted_in_config_get_answers(pki: Pki) -> None:
    from app.config import redact

    redacted = redact({"Dhcp4": {"lease-database": {**PG, "key-password": "s3cret"}}})
    assert "s3cret" not in str(redacted)


# --- PostgreSQL ---------------------------------------------------------------------------------

@pytest.mark.postgres
def test_postgresql_connections_all_use_tls_with_the_servers_ca_and_a_client_certificate(
        spawn: Any, tls_pg: PrivateCluster, pki: Pki) -> None:
    db = pg_db(tls_pg, **{"trust-anchor": str(pki.ca.path), "cert-file": str(pki.client_cert),
                          "key-file": str(pki.locked_client_key), "key-password": KEY_PASSWORD,
                          "capture-changes": True})
    server = start(spawn, db)

    added_and_found(server)  # writes over psycopg, the lookup over the loop's asyncpg connection

    sessions = tls_pg.admin_sql(
        "SELECT s.ssl, a.query FROM pg_stat_activity a JOIN pg_stat_ssl s USING (pid) "
        "WHERE a.datname = 'leasesync' AND a.client_addr IS NOT NULL")
    assert sessions and all(ssl for ssl, _ in sessions), sessions
    assert any(str(query).startswith("LISTEN") for _, query in sessions), "the capture's LISTEN connection"


@pytest.mark.postgres
async def test_postgresql_lookups_on_the_serving_loop_connect_with_the_same_tls_keys(
        make_client: Any, tls_pg: PrivateCluster, pki: Pki) -> None:
    # verify-full: libpq and asyncpg both check the server certificate's name (SAN 127.0.0.1) too
    db = pg_db(tls_pg, **{"trust-anchor": str(pki.ca.path), "cert-file": str(pki.client_cert),
                          "key-file": str(pki.locked_client_key), "key-password": KEY_PASSWORD,
                          "ssl-mode": "verify-full"})
    client = await make_client(service_config(db, dhcp6=False))
    assert (await client.one("lease4-add", "dhcp4", LEASE))["result"] == 0

    assert (await client.one("lease4-get", "dhcp4", {"ip-address": LEASE["ip-address"]}))["result"] == 0

    [lookup_pid] = [conn.get_server_pid() for conn in lease_store(client)._pg_lookups.connections()]
    assert tls_pg.admin_sql(f"SELECT ssl FROM pg_stat_ssl WHERE pid = {lookup_pid}") == [(True,)]


@pytest.mark.postgres
def test_postgresql_server_certificate_not_signed_by_the_trust_anchor_is_refused(
        spawn: Any, tls_pg: PrivateCluster, pki: Pki) -> None:
    db = pg_db(tls_pg, **{"trust-anchor": str(pki.other_ca.path), "cert-file": str(pki.client_cert),
                          "key-file": str(pki.client_key)})

    assert "certificate verify failed" in refused_at_start(spawn, db)


@pytest.mark.postgres
def test_postgresql_verify_full_refuses_a_server_certificate_for_another_name(
        spawn: Any, tls_pg: PrivateCluster, pki: Pki) -> None:
    # the server's certificate names 127.0.0.1 and localhost; the cluster listens on ::1 too
    db = pg_db(tls_pg, **{"trust-anchor": str(pki.ca.path), "cert-file": str(pki.client_cert),
                          "key-file": str(pki.client_key), "ssl-mode": "verify-full"})
    db["host"] = "::1"

    assert "does not match host name" in refused_at_start(spawn, db)


@pytest.mark.postgres
def test_postgresql_server_that_wants_a_client_certificate_refuses_one_without(
        spawn: Any, tls_pg: PrivateCluster, pki: Pki) -> None:
    text = refused_at_start(spawn, pg_db(tls_pg, **{"trust-anchor": str(pki.ca.path)}))

    assert "connection requires a valid client certificate" in text


@pytest.mark.postgres
def test_postgresql_without_tls_keys_is_refused_by_a_server_that_requires_tls(
        spawn: Any, tls_pg: PrivateCluster) -> None:
    # the cluster's pg_hba refuses TCP without TLS: the tests above pass because TLS was used
    assert "no encryption" in refused_at_start(spawn, pg_db(tls_pg, **{"ssl-mode": "disable"}))


# --- MySQL / MariaDB ----------------------------------------------------------------------------

@pytest.mark.mysql
def test_mysql_lease_commands_run_over_tls_verified_with_the_trust_anchor_and_a_locked_client_key(
        spawn: Any, tls_mariadb: PrivateMariaDB, pki: Pki) -> None:
    db = mysql_db(tls_mariadb, **{"trust-anchor": str(pki.ca.path), "cert-file": str(pki.client_cert),
                                  "key-file": str(pki.locked_client_key), "key-password": KEY_PASSWORD,
                                  "cipher-list": "ECDHE+AESGCM", "ssl-mode": "verify-full"})
    server = start(spawn, db)

    added_and_found(server)


@pytest.mark.mysql
def test_mysql_server_certificate_not_signed_by_the_trust_anchor_is_refused(
        spawn: Any, tls_mariadb: PrivateMariaDB, pki: Pki) -> None:
    text = refused_at_start(spawn, mysql_db(tls_mariadb, **{"trust-anchor": str(pki.other_ca.path)}))

    assert "certificate verify failed" in text


@pytest.mark.mysql
def test_mysql_with_ssl_mode_disable_is_refused_by_a_server_that_requires_tls(
        spawn: Any, tls_mariadb: PrivateMariaDB) -> None:
    # MariaDB words a refusal under require-secure-transport as a denied access: the test above, with
    # the same account, passes because TLS was used
    assert "Access denied" in refused_at_start(spawn, mysql_db(tls_mariadb, **{"ssl-mode": "disable"}))


@pytest.mark.mysql
def test_mysql_tls_required_but_not_offered_by_the_server_is_refused(
        spawn: Any, plain_mariadb: PrivateMariaDB) -> None:
    # Kea only logs DHCPSRV_MYSQL_NO_TLS and goes on in clear text; leasesync does not connect
    text = refused_at_start(spawn, mysql_db(plain_mariadb, **{"ssl-mode": "require"}))

    assert "SSL is required" in text or "not encrypted" in text


def test_mysql_connection_without_tls_is_refused_in_a_required_mode() -> None:
    # the check every new connection goes through, for a PyMySQL that falls back to clear text
    from app.store.db_tls import require_mysql_tls

    class Cursor:
        def execute(self, sql: str) -> None:
            assert sql == "SHOW SESSION STATUS LIKE 'Ssl_cipher'"

        def fetchone(self) -> tuple[str, str]:
            return ("Ssl_cipher", "")

        def close(self) -> None:
            pass

    class Connection:
        def cursor(self) -> Cursor:
            return Cursor()

    import pymysql

    with pytest.raises(pymysql.err.OperationalError, match="not encrypted"):
        require_mysql_tls(Connection())


@pytest.mark.mysql
def test_mysql_account_that_requires_a_client_certificate_refuses_one_without(
        spawn: Any, tls_mariadb: PrivateMariaDB, pki: Pki) -> None:
    assert "Access denied" in refused_at_start(spawn, mysql_db(tls_mariadb, **{"trust-anchor": str(pki.ca.path)}))


async def test_config_test_refuses_a_database_tls_file_that_kea_22_would_not_look_at(
        sqlite_client: Any, tmp_path: Path) -> None:
    # Kea 2.2 answers "Configuration seems sane" (checked live); its config-set would then fail to
    # connect. leasesync names the key, as at start-up
    missing = tmp_path / "ca.pem"
    db = {"type": "postgresql", "name": "kea", "trust-anchor": str(missing)}
    answer = await sqlite_client.one("config-test", "dhcp4", {"Dhcp4": {"lease-database": db}})
    assert answer["result"] == 1
    assert f"Dhcp4.lease-database.trust-anchor: 'trust-anchor' {missing} does not exist" in answer["text"]
