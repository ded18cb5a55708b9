"""TLS and mutual TLS on a real `leasesync serve` process (spec §9).

The CA, server and client certificates are made with `cryptography` (tests/pki.py); nothing is read from
the host. Every process is stopped at the end of its test.
"""

from __future__ import annotations

import asyncio
import json
import shutil
import socket
import ssl
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.conftest import free_port, make_database, service_config
from tests.kea_harness import unavailable
from tests.pki import Ca, TlsServer

pytestmark = pytest.mark.slow

LIST_COMMANDS = {"command": "list-commands"}


@dataclass
class Pki:
    ca: Ca
    server: tuple[Path, Path]
    client: tuple[Path, Path]
    rogue_client: tuple[Path, Path]  # signed by a CA the server does not trust


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> Pki:
    directory = tmp_path_factory.mktemp("pki")
    ca = Ca.create(directory, "leasesync-test-ca")
    rogue = Ca.create(directory, "rogue-ca")
    return Pki(ca, ca.issue(directory, "server", server=True), ca.issue(directory, "client", server=False),
               rogue.issue(directory, "rogue-client", server=False))


# --- a TLS server process ---------------------------------------------------------------------

def client_context(pki: Pki, cert: tuple[Path, Path] | None) -> ssl.SSLContext:
    ctx = ssl.create_default_context(cafile=str(pki.ca.path))
    if cert is not None:
        ctx.load_cert_chain(str(cert[0]), str(cert[1]))
    return ctx


@pytest.fixture
def tls_server(tmp_path: Path, pki: Pki) -> Iterator[Any]:
    """Factory: start a TLS leasesync with the given trust anchor and cert-required."""
    started: list[TlsServer] = []

    def start(cert_required: bool, trust_anchor: Path | None = None, http_workers: int = 0) -> TlsServer:
        db, _ = make_database("sqlite", tmp_path)
        tls = {"trust-anchor": str(trust_anchor or pki.ca.path), "cert-file": str(pki.server[0]),
               "key-file": str(pki.server[1]), "cert-required": cert_required, "http-workers": http_workers}
        server = TlsServer(service_config(db, port=free_port(), extra_agent=tls), tmp_path, f"tls{len(started)}")
        server.probe = client_context(pki, pki.client)
        started.append(server)
        return server.start()

    yield start
    for server in started:
        server.stop()


def post(server: TlsServer, ctx: ssl.SSLContext) -> Any:
    response = httpx.post(server.url, json=LIST_COMMANDS, verify=ctx, timeout=5)
    assert response.status_code == 200
    return response.json()


def exchange_without_answer(server: TlsServer, ctx: ssl.SSLContext) -> bytes:
    """Handshake and send one request; return whatever came back before the server closed.

    With TLS 1.3 the client's handshake may complete before the server has checked the client's
    certificate, so the refusal shows up as an alert or EOF on the first read."""
    with socket.create_connection(("127.0.0.1", server.port), timeout=5) as raw:
        try:
            with ctx.wrap_socket(raw, server_hostname="127.0.0.1") as tls:
                body = json.dumps(LIST_COMMANDS).encode()
                tls.sendall(b"POST / HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                            b"Content-Length: %d\r\n\r\n%s" % (len(body), body))
                received = b""
                while chunk := tls.recv(4096):
                    received += chunk
                return received
        except (ssl.SSLError, ConnectionResetError, BrokenPipeError):
            return b""


# --- mutual TLS -----------------------------------------------------------------------------

def test_cert_required_accepts_a_client_certificate_signed_by_the_trust_anchor(tls_server: Any, pki: Pki) -> None:
    server = tls_server(cert_required=True)
    answers = post(server, client_context(pki, pki.client))
    assert answers[0]["result"] == 0 and "list-commands" in answers[0]["arguments"]


def test_http_front_ends_serve_the_same_mutual_tls(tls_server: Any, pki: Pki) -> None:
    server = tls_server(cert_required=True, http_workers=2)
    for _ in range(12):  # a new connection each time: the three processes all take some
        assert post(server, client_context(pki, pki.client))[0]["result"] == 0
        assert exchange_without_answer(server, client_context(pki, None)) == b""


def test_cert_required_refuses_a_client_without_certificate(tls_server: Any, pki: Pki) -> None:
    server = tls_server(cert_required=True)
    assert b"HTTP/" not in exchange_without_answer(server, client_context(pki, None))
    with pytest.raises(httpx.TransportError):
        post(server, client_context(pki, None))


def test_cert_required_refuses_a_certificate_from_an_untrusted_ca(tls_server: Any, pki: Pki) -> None:
    server = tls_server(cert_required=True)
    assert b"HTTP/" not in exchange_without_answer(server, client_context(pki, pki.rogue_client))


def test_cert_not_required_accepts_a_client_without_certificate(tls_server: Any, pki: Pki) -> None:
    server = tls_server(cert_required=False)
    assert post(server, client_context(pki, None))[0]["result"] == 0


def test_cert_not_required_still_refuses_a_certificate_from_an_untrusted_ca(tls_server: Any, pki: Pki) -> None:
    server = tls_server(cert_required=False)
    assert b"HTTP/" not in exchange_without_answer(server, client_context(pki, pki.rogue_client))


def test_plain_http_to_the_tls_port_gets_no_answer(tls_server: Any) -> None:
    server = tls_server(cert_required=True)
    body = json.dumps(LIST_COMMANDS).encode()
    with socket.create_connection(("127.0.0.1", server.port), timeout=5) as raw:
        raw.sendall(b"POST / HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                    b"Content-Length: %d\r\n\r\n%s" % (len(body), body))
        received = b""
        try:
            while chunk := raw.recv(4096):
                received += chunk
        except ConnectionResetError:
            pass
    assert not received.startswith(b"HTTP/")
    assert b'"result"' not in received


def test_trust_anchor_may_be_a_hashed_certificate_directory(tls_server: Any, pki: Pki, tmp_path: Path) -> None:
    if shutil.which("openssl") is None:
        unavailable("the openssl command is needed to hash a CA directory (Debian package openssl)")
    directory = tmp_path / "cadir"
    directory.mkdir()
    shutil.copy(pki.ca.path, directory / "ca.pem")
    subprocess.run(["openssl", "rehash", str(directory)], check=True, capture_output=True, timeout=30)
    server = tls_server(cert_required=True, trust_anchor=directory)
    assert post(server, client_context(pki, pki.client))[0]["result"] == 0
    assert b"HTTP/" not in exchange_without_answer(server, client_context(pki, pki.rogue_client))


# --- configuration --------------------------------------------------------------------------

@pytest.mark.parametrize("missing", ["trust-anchor", "cert-file", "key-file"])
def test_config_test_fails_naming_the_missing_tls_key(missing: str, tmp_path: Path, pki: Pki) -> None:
    tls = {"trust-anchor": str(pki.ca.path), "cert-file": str(pki.server[0]), "key-file": str(pki.server[1])}
    del tls[missing]
    config = tmp_path / "leasesync.json"
    config.write_text(json.dumps(service_config(make_database("sqlite", tmp_path)[0], extra_agent=tls)))
    done = subprocess.run([sys.executable, "-m", "app.cli", "config-test", "-c", str(config)],
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 1
    assert f"LeaseSync.{missing}: {missing} parameter is missing or empty: all or none of TLS parameters must be set" \
        in done.stderr


def test_unreadable_key_file_stops_serve_with_a_configuration_error(tmp_path: Path, pki: Pki) -> None:
    tls = {"trust-anchor": str(pki.ca.path), "cert-file": str(pki.server[0]), "key-file": str(tmp_path / "absent.key")}
    config = tmp_path / "leasesync.json"
    config.write_text(json.dumps(service_config(make_database("sqlite", tmp_path)[0], port=free_port(), extra_agent=tls)))
    done = subprocess.run([sys.executable, "-m", "app.cli", "serve", "-c", str(config)],
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 1
    assert "configuration error: LeaseSync.cert-file: cannot load cert-file/key-file" in done.stderr
    assert "Traceback" not in done.stderr


# --- the HA peer client over TLS --------------------------------------------------------------

def _peer_send(server: TlsServer, pki: Pki, cert: tuple[Path, Path]) -> Any:
    from app.ha.peer_client import PeerClient, PeerEndpoint

    async def send() -> Any:
        client = PeerClient(PeerEndpoint("server2", server.url, trust_anchor=str(pki.ca.path),
                                         cert_file=str(cert[0]), key_file=str(cert[1])), timeout=5)
        try:
            return [await client.send({"command": "list-commands"}) for _ in range(2)]
        finally:
            await client.close()

    return asyncio.run(send())


def test_an_ha_peer_client_talks_mutual_tls_to_a_partner(tls_server: Any, pki: Pki) -> None:
    server = tls_server(cert_required=True)
    answers = _peer_send(server, pki, pki.client)
    assert [a["result"] for a in answers] == [0, 0]
    assert "list-commands" in answers[0]["arguments"]


def test_an_ha_peer_client_with_an_untrusted_certificate_gets_a_communication_failure(tls_server: Any,
                                                                                      pki: Pki) -> None:
    from app.ha.peer_client import PeerError

    server = tls_server(cert_required=True)
    with pytest.raises(PeerError) as raised:
        _peer_send(server, pki, pki.rogue_client)
    assert raised.value.kind == "communication"
