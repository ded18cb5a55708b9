"""The control channel's ASGI application.

`POST` (any path, as Kea) takes the lean path straight to the dispatcher: no framework
routing, validation or response classes on the hot path. Everything else (`GET /metrics`,
`/healthz`, `/readyz`, `/docs`, `/openapi.json`) goes to a small FastAPI app. Transport errors
are answered as kea-ctrl-agent answers them: a bare map with `result` = the HTTP status.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import hmac
import json
import logging
import re
import time
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

_BAD_REQUEST = (400, kea_json.dumps({"result": 400, "text": "Bad Request"}))
_UNAUTHORIZED = (401, kea_json.dumps({"result": 401, "text": "Unauthorized"}))
_FORBIDDEN = (403, kea_json.dumps({"result": 403, "text": "Forbidden"}))
_TOO_LARGE = (413, kea_json.dumps({"result": 413, "text": "Payload Too Large"}))
_TIMEOUT = (408, kea_json.dumps({"result": 408, "text": "Request Timeout"}))

# liveness and readiness answer without credentials (orchestrators' probes carry none); they
# reveal no count, only "ok"/"ready" or what is wrong with redacted database URLs
_PROBE_PATHS = frozenset({"/healthz", "/readyz"})

_date_cache: tuple[int, bytes] = (0, b"")


class HeaderName(bytes):
    """A response header name that uvicorn writes as spelt here, e.g. `Content-Length` as Kea does.

    uvicorn lower-cases every name before writing it (``name = name.lower()``) and then compares
    it with lower-case literals; this name's ``lower()`` keeps the spelling and its equality and
    hash ignore case, so uvicorn's checks still see `content-length`/`connection`. Built once:
    no cost per request.
    """

    __slots__ = ()

    def lower(self) -> bytes:  # type: ignore[override]
        return self

    def __eq__(self, other: object) -> bool:
        return isinstance(other, bytes) and bytes.lower(self) == bytes.lower(other)

    def __ne__(self, other: object) -> bool:
        return not self.__eq__(other)

    def __hash__(self) -> int:
        return hash(bytes.lower(self))


CONTENT_LENGTH = HeaderName(b"Content-Length")
CONTENT_TYPE = HeaderName(b"Content-Type")
DATE = HeaderName(b"Date")
WWW_AUTHENTICATE = HeaderName(b"WWW-Authenticate")
CONNECTION = HeaderName(b"Connection")


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
# 19 digits in a row: the shortest spelling of an integer outside int64 (2^63 has 19 digits)
_LONG_DIGITS = re.compile(rb"[0-9]{19}")


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
                        await self._unauthorized(send, authorization, _remote(scope), f" (GET {scope['path']})")
                        return
                await self.fallback(scope, receive, send)
            else:
                await self._drain(receive)
                await self._respond(send, *_BAD_REQUEST)
        elif kind == "lifespan":
            await self._lifespan(receive, send)

    async def _unauthorized(self, send: Send, authorization: bytes | None, remote: str, what: str = "") -> None:
        """Kea's 401, logged (the user name, never the password) and counted."""
        log.info("authentication failed for user %r from %s%s", Authenticator.user_of(authorization), remote, what)
        self.count_auth_failure()
        await self._respond(send, *_UNAUTHORIZED, extra=[(WWW_AUTHENTICATE, self.realm_header)])

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

    async def _control(self, scope: Scope, receive: Receive, send: Send) -> None:
        content_type = content_length = authorization = None
        chunked = False
        for name, value in scope["headers"]:
            if name == b"content-type":
                content_type = value
            elif name == b"content-length":
                content_length = value
            elif name == b"authorization":
                authorization = value
            elif name == b"transfer-encoding":
                chunked = True
        if content_type is None or content_type.strip().lower() != b"application/json" or content_length is None or chunked:
            await self._drain(receive)
            await self._respond(send, *_BAD_REQUEST)
            return
        try:
            expected = int(content_length)
        except ValueError:
            await self._respond(send, *_BAD_REQUEST)
            return
        if expected > self.max_size:
            await self._respond(send, *_TOO_LARGE, close=True)
            return
        if getattr(getattr(receive, "__self__", None), "more_body", True) is False:
            # uvicorn already holds the whole body (the usual case for a small request): reading it
            # cannot wait, so no timer (asyncio.timeout costs as much as the rest of the read)
            body = await self._read_body(receive, expected)
        else:
            try:
                # asyncio.timeout (a timer on this task), not wait_for: no extra task per request
                async with asyncio.timeout(self.body_timeout):
                    body = await self._read_body(receive, expected)
            except TimeoutError:
                await self._respond(send, *_TIMEOUT, close=True)
                return
        if body is None:
            await self._respond(send, *_BAD_REQUEST)
            return
        if body:
            try:
                envelope = orjson.loads(body)
            except orjson.JSONDecodeError:
                await self._respond(send, *_BAD_REQUEST)
                return
            # a body with no more brackets than the limit cannot nest deeper: skip the walk
            if (body.count(b"{") + body.count(b"[") > self.max_depth
                    and json_depth_exceeds(envelope, self.max_depth)):
                await self._respond(send, *_BAD_REQUEST)
                return
            # a body without 19 digits in a row has no integer beyond int64: skip the walk
            if _LONG_DIGITS.search(body) is not None and has_int_beyond_int64(body):
                await self._respond(send, *_BAD_REQUEST)
                return
        else:
            envelope = EMPTY_BODY
        origin = RequestOrigin(remote=_remote(scope))
        if self.auth.enabled:
            identity = self.auth.check(authorization)
            if identity is None:
                await self._unauthorized(send, authorization, origin.remote)
                return
            origin.user, allowed = identity
            if allowed is not None and isinstance(envelope, dict):
                command = envelope.get("command")
                if not isinstance(command, str) or command not in allowed:
                    log.info("user %s may not run %r", origin.user, command)
                    await self._respond(send, *_FORBIDDEN)
                    return
        await self._respond(send, 200, await self.answer(envelope, body, origin))

    async def answer(self, envelope: Any, body: bytes, origin: RequestOrigin) -> bytes:
        """The answer body for an accepted request: run here (a front-end process forwards it)."""
        return kea_json.dumps(await dispatch(self.runtime, envelope, origin))

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
        cycle = getattr(send, "__self__", None)
        transport = getattr(cycle, "transport", None)
        if transport is None or not type(cycle).__module__.startswith("uvicorn."):  # e.g. the in-process test client
            await send({"type": "http.response.start", "status": status, "headers": headers})
            await send({"type": "http.response.body", "body": body})
            return
        # uvicorn writes the status line and headers, then the body: two syscalls and two TCP
        # segments per answer, the socket write being a fifth of the loop's time (py-spy). Its
        # request cycle writes through `cycle.transport`, so for these two sends that is a buffer,
        # written out in one go; uvicorn still does all of HTTP (keep-alive, connection close).
        buffer = _ResponseBuffer()
        cycle.transport = buffer  # type: ignore[union-attr]
        try:
            await send({"type": "http.response.start", "status": status, "headers": headers})
            await send({"type": "http.response.body", "body": body})
        finally:
            cycle.transport = transport  # type: ignore[union-attr]
            if buffer.chunks and not transport.is_closing():
                transport.write(b"".join(buffer.chunks))
            if buffer.closing:
                transport.close()


class _ResponseBuffer:
    """Stands in for uvicorn's transport while one answer is sent (see ControlChannelApp._respond)."""

    __slots__ = ("chunks", "closing")

    def __init__(self) -> None:
        self.chunks: list[bytes] = []
        self.closing = False

    def write(self, data: bytes) -> None:
        self.chunks.append(data)

    def close(self) -> None:
        self.closing = True

    def is_closing(self) -> bool:
        return self.closing


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
    """With `restrict-commands: true`, a peer's user (its `basic-auth-user`, which the peers use
    both ways) may run only the HA commands; any other command gets Kea's 403."""
    out: dict[str, frozenset[str]] = {}
    for family, fam in runtime.families.items():
        ha = fam.config.ha
        if ha is None or not ha.restrict_commands:
            continue
        for peer in ha.peers:
            if peer.basic_auth_user and peer.name != ha.this_server_name:
                out[peer.basic_auth_user] = out.get(peer.basic_auth_user, frozenset()) | HA_PEER_COMMANDS[family]
    return out


def command_names() -> list[str]:
    return [spec.name for spec in registry.all()]
