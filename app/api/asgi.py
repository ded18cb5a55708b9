"""The control channel's application: what a request is answered, whatever carries it.

A served socket speaks HTTP through app/api/protocol.py, which hands a `POST` (any path, as
Kea) straight to `head_refusal` and `control_answer`: no framework routing, validation or
response classes on the hot path. The same object is an ASGI app (the in-process test client,
uvicorn's lifespan, and every non-`POST` request); `GET /metrics`, `/healthz`, `/readyz`,
`/docs` and `/openapi.json` go on to a small FastAPI app. Transport errors
are answered as kea-ctrl-agent answers them: a bare map with `result` = the HTTP status.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import hmac
import json
import logging
import time
from collections.abc import Iterable
from email.utils import formatdate
from typing import Any

import orjson

from app import kea_json
from app.api.dispatch import EMPTY_BODY, dispatch
from app.commands.context import RequestOrigin
from app.commands.registry import registry
from app.config import AuthConfig
from app.runtime import Runtime

log = logging.getLogger("leasesync.http")

Scope = dict[str, Any]
Receive = Any
Send = Any

BAD_REQUEST = (400, kea_json.dumps({"result": 400, "text": "Bad Request"}))
UNAUTHORIZED = (401, kea_json.dumps({"result": 401, "text": "Unauthorized"}))
FORBIDDEN = (403, kea_json.dumps({"result": 403, "text": "Forbidden"}))
TOO_LARGE = (413, kea_json.dumps({"result": 413, "text": "Payload Too Large"}))
TIMEOUT = (408, kea_json.dumps({"result": 408, "text": "Request Timeout"}))
UNAVAILABLE = (503, kea_json.dumps({"result": 503, "text": "Service Unavailable"}))

# liveness and readiness answer without credentials (orchestrators' probes carry none); they
# reveal no count, only "ok"/"ready" or what is wrong with redacted database URLs
_PROBE_PATHS = frozenset({"/healthz", "/readyz"})

_date_cache: tuple[int, bytes] = (0, b"")


# spelt as Kea spells them (a served socket's answers are written by app/api/protocol.py)
CONTENT_LENGTH = b"Content-Length"
CONTENT_TYPE = b"Content-Type"
DATE = b"Date"
WWW_AUTHENTICATE = b"WWW-Authenticate"
CONNECTION = b"Connection"


def _remote(scope: Scope) -> str:
    client = scope.get("client")
    return f"{client[0]}:{client[1]}" if client else ""


def http_date() -> bytes:
    global _date_cache
    now = int(time.time())
    if _date_cache[0] != now:
        _date_cache = (now, formatdate(now, usegmt=True).encode())
    return _date_cache[1]


_INT64_MIN, _INT64_MAX = -(1 << 63), (1 << 63) - 1
# 19 digits in a row: the shortest spelling of an integer outside int64 (2^63 has 19 digits).
# Found by mapping every digit to "0" and everything else to " ", then one substring search:
# 8x faster than the regex [0-9]{19} (200 us on a 50-lease bulk, a twelfth of its CPU).
_DIGITS_ONLY = bytes(0x30 if 0x30 <= c <= 0x39 else 0x20 for c in range(256))
_LONG_DIGIT_RUN = b"0" * 19


def has_long_digit_run(body: bytes) -> bool:
    return body.translate(_DIGITS_ONLY).find(_LONG_DIGIT_RUN) >= 0


def has_int_beyond_int64(body: bytes) -> bool:
    """Kea's JSON parser holds integers in 64 signed bits and refuses the whole request (HTTP 400)
    when one does not fit. orjson reads them up to 2^64 - 1 as int and beyond as float, so the body
    (already valid JSON) is read again with the json module, which keeps every integer exact."""
    try:
        stack = [json.loads(body)]
    except ValueError:  # not expected after orjson took it; refuse rather than guess
        return True
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
        elif type(item) is int and not _INT64_MIN <= item <= _INT64_MAX:
            return True
    return False


def json_depth_exceeds(value: Any, limit: int) -> bool:
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict):
            if depth > limit:
                return True
            stack.extend((v, depth + 1) for v in item.values())
        elif isinstance(item, list):
            if depth > limit:
                return True
            stack.extend((v, depth + 1) for v in item)
    return False


def control_headers(headers: Iterable[tuple[bytes, bytes]]) -> tuple[bytes | None, bytes | None, bytes | None, bool]:
    """(Content-Type, Content-Length, Authorization, chunked) of a POST's headers (names lower-case)."""
    content_type = content_length = authorization = None
    chunked = False
    for name, value in headers:
        if name == b"content-type":
            content_type = value
        elif name == b"content-length":
            content_length = value
        elif name == b"authorization":
            authorization = value
        elif name == b"transfer-encoding":
            chunked = True
    return content_type, content_length, authorization, chunked


class Authenticator:
    """HTTP basic authentication as Kea's control agent does it: exact match of base64(user:password)."""

    def __init__(self, config: AuthConfig | None) -> None:
        self.realm = config.realm if config else "kea-control-agent"
        self._tokens: dict[bytes, tuple[str, frozenset[str] | None]] = {}
        if config:
            for client in config.clients:
                token = base64.b64encode(f"{client.user}:{client.password}".encode())
                self._tokens[token] = (client.user, client.commands)

    @property
    def enabled(self) -> bool:
        return bool(self._tokens)

    def restrict(self, user: str, commands: frozenset[str]) -> None:
        """Narrow what `user` may run (HA `restrict-commands` for a peer's user)."""
        for token, (name, allowed) in list(self._tokens.items()):
            if name == user:
                self._tokens[token] = (name, commands if allowed is None else allowed & commands)

    def check(self, header: bytes | None) -> tuple[str, frozenset[str] | None] | None:
        if header is None:
            return None
        scheme, _, token = header.strip().partition(b" ")
        if scheme.lower() != b"basic":
            return None
        token = token.strip()
        for known, client in self._tokens.items():
            if hmac.compare_digest(known, token):
                return client
        return None

    @staticmethod
    def user_of(header: bytes | None) -> str | None:
        if not header or not header.lower().startswith(b"basic "):
            return None
        try:
            user, colon, _ = base64.b64decode(header[6:].strip()).decode().partition(":")
        except (binascii.Error, UnicodeDecodeError):
            return None
        return user if colon else None  # without "user:" the whole token may be a password: never log it


class ControlChannelApp:
    """The ASGI callable uvicorn serves."""

    def __init__(self, runtime: Runtime, fallback: Any = None) -> None:
        self.runtime = runtime
        self.fallback = fallback  # FastAPI app for GET endpoints
        agent = runtime.config.agent
        self.max_size = agent.max_request_size
        self.max_depth = agent.max_json_depth
        self.body_timeout = agent.request_timeout
        self.auth = Authenticator(agent.authentication)
        for user, commands in ha_peer_restrictions(runtime).items():
            self.auth.restrict(user, commands)
        self.realm_header = f'Basic realm="{self.auth.realm}"'.encode()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        kind = scope["type"]
        if kind == "http":
            if scope["method"] == "POST":
                await self._control(scope, receive, send)
            elif self.fallback is not None and scope["method"] in ("GET", "HEAD") and self._fallback_path(scope["path"]):
                # /metrics and the API docs reveal lease and command counts: any configured client's
                # credentials (its `commands` list is about commands)
                if self.auth.enabled and scope["path"] not in _PROBE_PATHS:
                    authorization = next((v for n, v in scope["headers"] if n == b"authorization"), None)
                    if self.auth.check(authorization) is None:
                        status, body, extra = self._unauthorized(authorization, _remote(scope), f" (GET {scope['path']})")
                        await self._respond(send, status, body, extra=extra)
                        return
                await self.fallback(scope, receive, send)
            else:
                await self._drain(receive)
                await self._respond(send, *BAD_REQUEST)
        elif kind == "lifespan":
            await self._lifespan(receive, send)

    def _unauthorized(self, authorization: bytes | None, remote: str,
                      what: str = "") -> tuple[int, bytes, list[tuple[bytes, bytes]]]:
        """Kea's 401, logged (the user name, never the password) and counted."""
        log.info("authentication failed for user %r from %s%s", Authenticator.user_of(authorization), remote, what)
        self.count_auth_failure()
        return (*UNAUTHORIZED, [(WWW_AUTHENTICATE, self.realm_header)])

    @staticmethod
    def _fallback_path(path: str) -> bool:
        return path in ("/metrics", "/healthz", "/readyz", "/openapi.json", "/docs", "/redoc") or path.startswith("/docs")

    async def _lifespan(self, receive: Receive, send: Send) -> None:
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                try:
                    await self.start()
                except Exception as exc:  # noqa: BLE001 - reported to uvicorn, which exits
                    log.exception("start-up failed")
                    await send({"type": "lifespan.startup.failed", "message": str(exc)})
                    return
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await self.stop()
                await send({"type": "lifespan.shutdown.complete"})
                return

    async def start(self) -> None:
        await self.runtime.start()
        if self.runtime.frontends is not None:
            await self.runtime.frontends.start()

    async def stop(self) -> None:
        if self.runtime.frontends is not None:
            await self.runtime.frontends.stop()  # they finish their requests while HA and stores still run
        await self.runtime.stop()

    async def _drain(self, receive: Receive) -> None:
        more = True
        while more:
            message = await receive()
            more = message.get("more_body", False) and message["type"] == "http.request"

    async def _read_body(self, receive: Receive, expected: int) -> bytes | None:
        chunks: list[bytes] = []
        size = 0
        more = True
        while more:
            message = await receive()
            if message["type"] != "http.request":
                return None
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.max_size:
                return None
            chunks.append(chunk)
            more = message.get("more_body", False)
        body = b"".join(chunks) if len(chunks) != 1 else chunks[0]
        return body if len(body) == expected else None

    def head_refusal(self, content_type: bytes | None, content_length: bytes | None,
                     chunked: bool) -> tuple[int, bytes, bool] | None:
        """The answer (status, body, close) for a POST whose headers alone refuse it, as Kea refuses
        it: JSON only, with a length and no chunks; a declared body over the limit is refused
        before it is read, and the connection closed (the rest of it is not worth reading)."""
        if content_type is None or content_type.strip().lower() != b"application/json" or content_length is None or chunked:
            return (*BAD_REQUEST, False)
        try:
            expected = int(content_length)
        except ValueError:
            return (*BAD_REQUEST, False)
        if expected > self.max_size:
            return (*TOO_LARGE, True)
        return None

    async def control_answer(self, body: bytes, authorization: bytes | None,
                             remote: str) -> tuple[int, bytes, list[tuple[bytes, bytes]] | None]:
        """The answer (status, body, extra headers) for a POST's whole body: Kea's transport
        refusals (bad JSON, too deep, an integer beyond int64, credentials), else the command's."""
        if body:
            try:
                envelope = orjson.loads(body)
            except orjson.JSONDecodeError:
                return (*BAD_REQUEST, None)
            # a body with no more brackets than the limit cannot nest deeper: skip the walk
            if (body.count(b"{") + body.count(b"[") > self.max_depth
                    and json_depth_exceeds(envelope, self.max_depth)):
                return (*BAD_REQUEST, None)
            # a body without 19 digits in a row has no integer beyond int64: skip the walk
            if has_long_digit_run(body) and has_int_beyond_int64(body):
                return (*BAD_REQUEST, None)
        else:
            envelope = EMPTY_BODY
        origin = RequestOrigin(remote=remote)
        if self.auth.enabled:
            identity = self.auth.check(authorization)
            if identity is None:
                return self._unauthorized(authorization, remote)
            origin.user, allowed = identity
            if allowed is not None and isinstance(envelope, dict):
                command = envelope.get("command")
                if not isinstance(command, str) or command not in allowed:
                    log.info("user %s may not run %r", origin.user, command)
                    return (*FORBIDDEN, None)
        return 200, await self.answer(envelope, body, origin), None

    async def _control(self, scope: Scope, receive: Receive, send: Send) -> None:
        """A POST through ASGI (the in-process test client; a served socket takes ControlChannelProtocol)."""
        content_type, content_length, authorization, chunked = control_headers(scope["headers"])
        refusal = self.head_refusal(content_type, content_length, chunked)
        if refusal is not None:
            status, answer, close = refusal
            if not close:
                await self._drain(receive)
            await self._respond(send, status, answer, close=close)
            return
        assert content_length is not None
        try:
            async with asyncio.timeout(self.body_timeout):
                body = await self._read_body(receive, int(content_length))
        except TimeoutError:
            await self._respond(send, *TIMEOUT, close=True)
            return
        if body is None:
            await self._respond(send, *BAD_REQUEST)
            return
        status, answer, extra = await self.control_answer(body, authorization, _remote(scope))
        await self._respond(send, status, answer, extra=extra)

    async def answer(self, envelope: Any, body: bytes, origin: RequestOrigin) -> bytes:
        """The answer body for an accepted request: run here (a front-end process forwards it)."""
        return kea_json.dumps(await dispatch(self.runtime, envelope, origin, body))

    def count_auth_failure(self) -> None:
        metrics = self.runtime.metrics
        if metrics is not None:
            metrics.auth_failures.inc()

    async def _respond(self, send: Send, status: int, body: bytes, *, extra: list[tuple[bytes, bytes]] | None = None,
                       close: bool = False) -> None:
        headers: list[tuple[bytes, bytes]] = [
            (CONTENT_LENGTH, str(len(body)).encode()),
            (CONTENT_TYPE, b"application/json"),
            (DATE, http_date()),
        ]
        if extra:
            headers.extend(extra)
        if close:
            headers.append((CONNECTION, b"close"))
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": body})


# Kea 2.2's restrict-commands accept list for the HA listener (HA spec §7.12), plus the
# lease-get commands a leasesync peer uses to verify replication and reconcile refused updates.
HA_PEER_COMMANDS = {
    4: frozenset({"list-commands", "status-get", "dhcp-disable", "dhcp-enable", "ha-reset", "ha-heartbeat",
                  "lease4-update", "lease4-del", "lease4-get-all", "lease4-get-page", "ha-maintenance-notify",
                  "ha-sync-complete-notify", "lease4-get", "lease4-bulk-apply"}),
    6: frozenset({"list-commands", "status-get", "dhcp-disable", "dhcp-enable", "ha-reset", "ha-heartbeat",
                  "lease6-bulk-apply", "lease6-update", "lease6-del", "lease6-get-all", "lease6-get-page",
                  "ha-maintenance-notify", "ha-sync-complete-notify", "lease6-get"}),
}


def ha_peer_restrictions(runtime: Runtime) -> dict[str, frozenset[str]]:
    """With `restrict-commands: true`, a peer's user (HaConfig.peer_users: the user of this
    server's own peer entry, which Kea peers send, and the other peers' users, which leasesync
    peers send) may run only the HA commands; any other command gets Kea's 403."""
    out: dict[str, frozenset[str]] = {}
    for family, fam in runtime.families.items():
        ha = fam.config.ha
        if ha is None or not ha.restrict_commands:
            continue
        for user in ha.peer_users():
            out[user] = out.get(user, frozenset()) | HA_PEER_COMMANDS[family]
    return out


def command_names() -> list[str]:
    return [spec.name for spec in registry.all()]
