"""Talking to one HA peer over HTTP: a pool of keep-alive connections per peer (http_transport).

Every call has a timeout; every failure is raised as `PeerError` with the kind Kea
distinguishes (communication failure vs. an error answer), so the caller can log, count and
recover as the HA spec says.
"""

from __future__ import annotations

import base64
import logging
import ssl
import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import httpx
import orjson

from app import __version__
from app.ha.http_transport import MAX_ANSWER_BYTES, PeerConnections

log = logging.getLogger("leasesync.ha")

# Kea's HA HTTP client gives up on a request after 10 s (its default request timeout).
DEFAULT_TIMEOUT = 10.0


class PeerError(Exception):
    """A request to a peer failed.

    kind: "communication" (no usable HTTP answer: refused, reset, timeout, not JSON) or
    "answer" (the peer answered, but not with result 0/3, or not as a Kea list).
    """

    def __init__(self, kind: str, text: str, result: int | None = None) -> None:
        super().__init__(text)
        self.kind = kind
        self.text = text
        self.result = result


@dataclass(frozen=True)
class PeerEndpoint:
    name: str
    url: str
    basic_auth_user: str | None = None
    basic_auth_password: str = ""
    trust_anchor: str | None = None
    cert_file: str | None = None
    key_file: str | None = None


def _ssl_context(peer: PeerEndpoint) -> ssl.SSLContext | None:
    if not peer.url.startswith("https"):
        return None
    ctx = ssl.create_default_context(cafile=peer.trust_anchor or None)
    # Kea peers are addressed by IP literal, and Kea checks the chain, not the host name.
    ctx.check_hostname = False
    if peer.cert_file and peer.key_file:
        ctx.load_cert_chain(peer.cert_file, peer.key_file)
    return ctx


class PeerClient:
    def __init__(self, peer: PeerEndpoint, timeout: float = DEFAULT_TIMEOUT, max_connections: int = 8,
                 max_answer_bytes: int = MAX_ANSWER_BYTES) -> None:
        self.peer = peer
        self.timeout = timeout
        headers = {"Host": urlsplit(peer.url).hostname or "", "User-Agent": f"leasesync/{__version__}",
                   "Content-Type": "application/json", "Accept": "application/json"}
        if peer.basic_auth_user:
            token = base64.b64encode(f"{peer.basic_auth_user}:{peer.basic_auth_password}".encode()).decode()
            headers["Authorization"] = f"Basic {token}"
        self._connections = PeerConnections(peer.url, headers, _ssl_context(peer), max_connections=max_connections,
                                            keepalive_expiry=25.0, max_answer_bytes=max_answer_bytes)
        self.requests = 0
        self.failures = 0
        self.last_rtt: float | None = None

    async def close(self) -> None:
        self._connections.close()

    async def post(self, body: dict[str, Any], request_timeout: float | None = None) -> Any:
        """POST one command and return the parsed JSON body, whatever it is (the HA core checks
        heartbeat answers itself, exactly as Kea does). Transport failures raise PeerError."""
        self.requests += 1
        started = time.monotonic()
        timeout = request_timeout if request_timeout is not None else self.timeout
        try:
            status, content = await self._connections.post(
                orjson.dumps(body, option=orjson.OPT_SORT_KEYS), timeout,
                connect_timeout=timeout if request_timeout is not None else min(timeout, 5.0))
        except httpx.TimeoutException:
            self.failures += 1
            raise PeerError("communication", "Connection timed out") from None
        except httpx.HTTPError as exc:
            self.failures += 1
            raise PeerError("communication", str(exc) or type(exc).__name__) from None
        except Exception as exc:  # noqa: BLE001 - whatever the connection did, the command that sent it must not fail
            self.failures += 1
            log.warning("unexpected failure talking to %s (%s): %r", self.peer.name, self.peer.url, exc)
            raise PeerError("communication", f"{type(exc).__name__}: {exc}") from None
        self.last_rtt = time.monotonic() - started
        try:
            return orjson.loads(content)
        except orjson.JSONDecodeError:
            self.failures += 1
            raise PeerError("communication", f"invalid JSON answer (HTTP {status})") from None

    async def send(
        self, body: dict[str, Any], request_timeout: float | None = None, accept: tuple[int, ...] = (0, 3)
    ) -> dict[str, Any]:
        """POST one command; return the first answer map when its result is in `accept`."""
        parsed = await self.post(body, request_timeout)
        if isinstance(parsed, dict) and parsed.get("result") == 401:
            self.failures += 1
            raise PeerError("answer", "Unauthorized", 401)
        if not isinstance(parsed, list):
            self.failures += 1
            raise PeerError(
                "answer",
                "the answer is not a list of responses",
                parsed.get("result") if isinstance(parsed, dict) else None,
            )
        if not parsed:
            self.failures += 1
            raise PeerError("answer", "list of responses must not be empty")
        first = parsed[0]
        if not isinstance(first, dict) or not isinstance(first.get("result"), int):
            self.failures += 1
            raise PeerError("answer", "invalid answer: no integer result")
        if first["result"] not in accept:
            self.failures += 1
            raise PeerError(
                "answer", f"{first.get('text', '')}, error code {first['result']}", first["result"]
            )
        return first
