"""HTTP front-end processes: more processes for the HTTP edge and for lease reads.

With `LeaseSync.http-workers` = N > 0 the main process starts N front-end processes that accept
on the same listening socket as itself (the kernel hands each new connection to whichever
process takes it first, so a busy process takes fewer). The main process keeps everything with
state: lease writes and their group commit, the HA service, `dhcp-disable` state, statistics,
metrics. A front-end does the whole HTTP edge (TLS, keep-alive, size and depth limits, JSON
checks, authentication, `restrict-commands`), answers the lease *reads* itself from its own
read-only connection to the lease database (they touch no state but the database, whose
committed rows every process sees), and hands every other command body to the main process over
a private unix socket; the main process runs it exactly as a request it had received itself and
returns the answer body. GETs (`/metrics`, `/readyz`, docs) are passed through the same way.

Why: one Python process runs HTTP, JSON and SQL on one core; with front-ends, reads and the HTTP
edge of writes run on the other cores, and the single writer keeps SQLite's one write lock
uncontended and the group commit whole.

The link is a stream of frames, each `!IIB` (payload length, request id, kind) + payload:

    front-end -> main: HELLO (pid), COMMAND (remote, user, body), GET (JSON request line),
                       AUTH_FAILED (a counter tick), METRICS (reads answered locally)
    main -> front-end: READY (the service has started: accept connections), ANSWER (answer
                       body), GET_ANSWER (status, JSON headers, body)

Requests are answered out of order, by id; each side writes what one loop turn produced in
one `write`.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import shutil
import signal
import socket
import struct
import sys
import tempfile
import time
from collections.abc import Callable
from typing import Any, cast

import orjson

from app import kea_json
from app.api.asgi import UNAVAILABLE, ControlChannelApp, Receive, Scope, Send
from app.api.dispatch import EMPTY_BODY
from app.commands.context import RequestOrigin
from app.config import Config
from app.errors import RESULT_ERROR, answer
from app.runtime import Runtime

log = logging.getLogger("leasesync.frontends")

HEADER = struct.Struct("!IIB")
_ORIGIN = struct.Struct("!HH")  # lengths of remote and user (user absent: 0xFFFF)
_NO_USER = 0xFFFF
_GET_ANSWER = struct.Struct("!HI")  # status, length of the JSON headers

HELLO, COMMAND, GET, AUTH_FAILED, METRICS = 0, 1, 2, 3, 4
ANSWER, GET_ANSWER, READY = 1, 2, 3

# commands a front-end answers itself: they only read the lease database
LOCAL_READS = frozenset({
    "lease4-get", "lease6-get", "lease4-get-all", "lease6-get-all", "lease4-get-page", "lease6-get-page",
    "lease4-get-by-hw-address", "lease4-get-by-client-id", "lease4-get-by-hostname",
    "lease6-get-by-duid", "lease6-get-by-hostname",
})
METRICS_FLUSH = 1.0  # seconds between a front-end's METRICS frames

# how long stopping waits for front-ends to finish their requests before killing them
STOP_GRACE = 15.0
START_TIMEOUT = 30.0


class FramedLink(asyncio.Protocol):
    """Either end of the owner <-> front-end link: frame parsing and batched writes."""

    def __init__(self, max_payload: int) -> None:
        self.max_payload = max_payload
        self.transport: asyncio.Transport | None = None
        self._buffer = bytearray()
        self._out: list[bytes] = []
        self._flush_scheduled = False

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.Transport, transport)

    def data_received(self, data: bytes) -> None:
        buffer = self._buffer
        buffer += data
        size = len(buffer)
        offset = 0
        while size - offset >= HEADER.size:
            length, ident, kind = HEADER.unpack_from(buffer, offset)
            if length > self.max_payload:
                log.error("front-end link: frame of %d bytes over the limit, closing the link", length)
                if self.transport is not None:
                    self.transport.close()
                return
            end = offset + HEADER.size + length
            if end > size:
                break
            self.frame_received(ident, kind, bytes(buffer[offset + HEADER.size:end]))
            offset = end
        if offset:
            del buffer[:offset]

    def frame_received(self, ident: int, kind: int, payload: bytes) -> None:
        raise NotImplementedError

    def send_frame(self, ident: int, kind: int, *parts: bytes) -> None:
        self._out.append(HEADER.pack(sum(len(part) for part in parts), ident, kind))
        self._out.extend(parts)
        if not self._flush_scheduled:
            self._flush_scheduled = True
            asyncio.get_running_loop().call_soon(self._flush)

    def _flush(self) -> None:
        self._flush_scheduled = False
        transport = self.transport
        if transport is not None and not transport.is_closing():
            transport.write(b"".join(self._out))
        self._out.clear()


# --- the owner's end ---------------------------------------------------------------------------

class OwnerEnd(FramedLink):
    """One front-end's link, in the owner: hands its commands to the main process's own edge
    (`ControlChannelApp.answer`), past the HTTP checks the front-end already made."""

    def __init__(self, app: ControlChannelApp, on_hello: Callable[[int, OwnerEnd], None]) -> None:
        super().__init__(app.runtime.config.agent.max_request_size + 64 * 1024)
        self.app = app
        self.on_hello = on_hello
        self.tasks: set[asyncio.Task[None]] = set()
        self.commands_run = 0  # commands this front-end handed over

    def frame_received(self, ident: int, kind: int, payload: bytes) -> None:
        if kind == COMMAND:
            self._track(self._command(ident, payload))
        elif kind == GET:
            self._track(self._get(ident, payload))
        elif kind == AUTH_FAILED:
            self.app.count_auth_failure()
        elif kind == METRICS:
            metrics = self.app.runtime.metrics
            if metrics is not None:
                for command, result, seconds in orjson.loads(payload):
                    metrics.observe_command(command, result, seconds)
        elif kind == HELLO:
            self.on_hello(int(payload or b"0"), self)

    def _track(self, coro: Any) -> None:
        task = asyncio.get_running_loop().create_task(coro)
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)

    async def _command(self, ident: int, payload: bytes) -> None:
        self.commands_run += 1
        try:
            remote_size, user_size = _ORIGIN.unpack_from(payload)
            at = _ORIGIN.size
            remote = payload[at:at + remote_size].decode()
            at += remote_size
            user = None
            if user_size != _NO_USER:
                user = payload[at:at + user_size].decode()
                at += user_size
            body = payload[at:]
            envelope = orjson.loads(body) if body else EMPTY_BODY
            answers = await self.app.answer(envelope, body, RequestOrigin(remote=remote, user=user))
        except Exception:  # noqa: BLE001 - the front-end must get an answer, never a hang or a 500
            log.exception("internal error while running a command from a front-end process")
            answers = kea_json.dumps([answer(RESULT_ERROR, "internal error while processing the command, see the server log")])
        self.send_frame(ident, ANSWER, answers)

    async def _get(self, ident: int, payload: bytes) -> None:
        try:
            request = orjson.loads(payload)
            status, headers, body = await call_asgi(self.app.fallback, request)
        except Exception:  # noqa: BLE001 - same as above
            log.exception("internal error while answering a GET from a front-end process")
            status, headers, body = 500, [], b""
        head = orjson.dumps(headers)
        self.send_frame(ident, GET_ANSWER, _GET_ANSWER.pack(status, len(head)), head, body)


def _closed(link: FramedLink) -> bool:
    return link.transport is not None and link.transport.is_closing()


async def call_asgi(app: Any, request: dict[str, Any]) -> tuple[int, list[list[str]], bytes]:
    """Run one body-less HTTP request through an ASGI app in this process; collect its answer."""
    scope = {
        "type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1",
        "method": request["method"], "scheme": "http", "path": request["path"],
        "raw_path": request["path"].encode(), "root_path": "",
        "query_string": request["query"].encode("latin-1"),
        "headers": [(k.encode("latin-1"), v.encode("latin-1")) for k, v in request["headers"]],
        "client": None, "server": None,
    }
    status = 500
    headers: list[list[str]] = []
    chunks: list[bytes] = []

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        nonlocal status, headers
        if message["type"] == "http.response.start":
            status = message["status"]
            headers = [[bytes(k).decode("latin-1"), bytes(v).decode("latin-1")] for k, v in message.get("headers", [])]
        elif message["type"] == "http.response.body":
            chunks.append(message.get("body", b""))

    await app(scope, receive, send)
    return status, headers, b"".join(chunks)


class FrontendSupervisor:
    """In the main process: starts the front-ends on the listening socket, restarts one that
    dies, and at shutdown lets them finish their requests before HA and the stores stop."""

    def __init__(self, app: ControlChannelApp, count: int, listener: socket.socket, frontend_args: list[str]) -> None:
        self.app = app  # the main process's control channel, which runs the front-ends' commands
        self.count = count
        self.listener = listener
        self.frontend_args = frontend_args  # the -c/-p arguments the main process was started with
        self._dir = ""
        self._ipc: asyncio.AbstractServer | None = None
        self._links: list[OwnerEnd] = []
        self._procs: dict[int, asyncio.subprocess.Process] = {}
        self._watchers: list[asyncio.Task[None]] = []
        self._hello: dict[int, asyncio.Event] = {}
        self._stopping = False
        self._started = False

    @property
    def socket_path(self) -> str:
        return os.path.join(self._dir, "main.sock")

    @property
    def pids(self) -> list[int]:
        return [proc.pid for proc in self._procs.values() if proc.returncode is None]

    async def start(self) -> None:
        self._dir = tempfile.mkdtemp(prefix="leasesync-")  # 0700: only this user reaches the link
        loop = asyncio.get_running_loop()

        def link() -> OwnerEnd:
            end = OwnerEnd(self.app, self._hello_from)
            # forget the links of front-ends that died (their unfinished tasks stay tracked)
            self._links = [old for old in self._links if old.tasks or not _closed(old)]
            self._links.append(end)
            return end

        self._ipc = await loop.create_unix_server(link, self.socket_path)
        self.listener.set_inheritable(True)
        for slot in range(self.count):
            await self._spawn(slot)
        try:
            await asyncio.wait_for(asyncio.gather(*(self._wait_started(slot) for slot in range(self.count))),
                                   START_TIMEOUT)
        except (TimeoutError, RuntimeError) as exc:
            await self.stop()
            raise RuntimeError(f"an HTTP front-end process did not start: {exc or 'timed out'}") from None
        self._watchers = [asyncio.create_task(self._watch(slot)) for slot in range(self.count)]
        # only now may the front-ends accept: before, a /healthz through one would say ready
        # while the service could still fail to start
        self._started = True
        for end in self._links:
            end.send_frame(0, READY)
        log.info("%d HTTP front-end process(es) started: %s", self.count, ", ".join(map(str, self.pids)))

    def _hello_from(self, pid: int, end: OwnerEnd) -> None:
        for slot, proc in self._procs.items():
            if proc.pid == pid:
                self._hello[slot].set()
        if self._started:  # a front-end started in place of one that died
            end.send_frame(0, READY)

    async def _spawn(self, slot: int) -> None:
        fd = self.listener.fileno()
        self._hello[slot] = asyncio.Event()
        self._procs[slot] = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "app.cli", "frontend", "--listen-fd", str(fd), "--main-socket", self.socket_path,
            *self.frontend_args, pass_fds=(fd,), stdin=asyncio.subprocess.DEVNULL)

    async def _wait_started(self, slot: int) -> None:
        proc = self._procs[slot]
        hello = asyncio.create_task(self._hello[slot].wait())
        exited = asyncio.create_task(proc.wait())
        done, _ = await asyncio.wait({hello, exited}, return_when=asyncio.FIRST_COMPLETED)
        hello.cancel()
        exited.cancel()
        if exited in done:
            raise RuntimeError(f"front-end process {proc.pid} exited with status {proc.returncode}")

    async def _watch(self, slot: int) -> None:
        backoff = 0.5
        while not self._stopping:
            proc = self._procs[slot]
            started = time.monotonic()
            code = await proc.wait()
            if self._stopping:
                return
            log.error("HTTP front-end process %d exited with status %s; starting another", proc.pid, code)
            # a front-end that dies at once (bad environment) is not restarted in a tight loop
            backoff = 0.5 if time.monotonic() - started > 60 else min(backoff * 2, 30.0)
            await asyncio.sleep(backoff)
            if not self._stopping:
                await self._spawn(slot)

    async def stop(self) -> None:
        """Front-ends first (they finish their requests, which may still need this process), then
        the link."""
        self._stopping = True
        for watcher in self._watchers:
            watcher.cancel()
        procs = [proc for proc in self._procs.values() if proc.returncode is None]
        for proc in procs:
            with contextlib.suppress(ProcessLookupError):
                proc.send_signal(signal.SIGTERM)
        if procs:
            try:
                await asyncio.wait_for(asyncio.gather(*(proc.wait() for proc in procs)), STOP_GRACE)
            except TimeoutError:
                for proc in procs:
                    if proc.returncode is None:
                        log.warning("front-end process %d did not stop in %.0f s; killing it", proc.pid, STOP_GRACE)
                        with contextlib.suppress(ProcessLookupError):
                            proc.kill()
                await asyncio.gather(*(proc.wait() for proc in procs))
        if self._ipc is not None:
            self._ipc.close()
        pending = [task for end in self._links for task in end.tasks]
        if pending:
            await asyncio.wait(pending, timeout=STOP_GRACE)
        if self._dir:
            shutil.rmtree(self._dir, ignore_errors=True)


# --- a front-end process -----------------------------------------------------------------------

class OwnerGone(ConnectionError):
    pass


class FrontendEnd(FramedLink):
    """A front-end's link to the owner: numbered requests, answers matched by id."""

    def __init__(self, max_payload: int, on_lost: Callable[[], None]) -> None:
        super().__init__(max_payload)
        self.on_lost = on_lost
        self._pending: dict[int, asyncio.Future[tuple[int, bytes]]] = {}
        self._next = 0
        self.ready = asyncio.Event()
        self.closed = asyncio.Event()

    def frame_received(self, ident: int, kind: int, payload: bytes) -> None:
        if ident == 0:
            if kind == READY:
                self.ready.set()
            return
        future = self._pending.pop(ident, None)
        if future is not None and not future.done():
            future.set_result((kind, payload))

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed.set()
        for future in self._pending.values():
            if not future.done():
                future.set_exception(OwnerGone("the main process closed the link"))
        self._pending.clear()
        self.on_lost()

    def notify(self, kind: int, *parts: bytes) -> None:
        if not self.closed.is_set():
            self.send_frame(0, kind, *parts)

    async def request(self, kind: int, *parts: bytes) -> tuple[int, bytes]:
        if self.closed.is_set():
            raise OwnerGone("the main process is not reachable")
        self._next = (self._next + 1) & 0xFFFFFFFF
        ident = self._next
        future: asyncio.Future[tuple[int, bytes]] = asyncio.get_running_loop().create_future()
        self._pending[ident] = future
        self.send_frame(ident, kind, *parts)
        return await future


class MetricsRelay:
    """A front-end's `runtime.metrics`: what it answered itself, sent to the main process's
    metrics once a second (one frame, not one per request)."""

    def __init__(self, link: FrontendEnd) -> None:
        self.link = link
        self.samples: list[tuple[str, int, float]] = []
        self._timer: asyncio.TimerHandle | None = None

    def observe_command(self, command: str, result: int, seconds: float) -> None:
        self.samples.append((command, result, seconds))
        if self._timer is None:
            self._timer = asyncio.get_running_loop().call_later(METRICS_FLUSH, self.flush)

    def flush(self) -> None:
        self._timer = None
        if self.samples:
            self.link.notify(METRICS, orjson.dumps(self.samples))
            self.samples = []


class FrontendApp(ControlChannelApp):
    """The control channel's ASGI app in a front-end process."""

    def __init__(self, config: Config, main_socket: str, on_main_lost: Callable[[], None]) -> None:
        self.main_socket = main_socket
        self.link = FrontendEnd(config.agent.max_request_size + 64 * 1024, on_main_lost)
        runtime = Runtime(config)  # its stores only read (started read-only below); no HA, no forwarder
        self.relay = MetricsRelay(self.link)
        runtime.metrics = self.relay
        super().__init__(runtime, self._proxy_get)

    def _local(self, envelope: Any) -> bool:
        """A lease read this process answers exactly as the main process would: only when its
        routing stays within this process (no `service` but the served families)."""
        if not isinstance(envelope, dict) or envelope.get("command") not in LOCAL_READS:
            return False
        services = envelope.get("service")
        if services is None:
            return "service" not in envelope
        families = self.runtime.families
        return isinstance(services, list) and all(s in ("dhcp4", "dhcp6") and int(s[-1]) in families for s in services)

    async def answer(self, envelope: Any, body: bytes, origin: RequestOrigin) -> bytes:
        if self._local(envelope):
            return await super().answer(envelope, body, origin)
        remote = origin.remote.encode()
        user = origin.user.encode() if origin.user is not None else b""
        head = _ORIGIN.pack(len(remote), len(user) if origin.user is not None else _NO_USER) + remote + user
        try:
            _, payload = await self.link.request(COMMAND, head, body)
        except OwnerGone:
            log.warning("a command arrived while the main process was unreachable; not run")
            return kea_json.dumps([answer(RESULT_ERROR, "leasesync's main process is not reachable (stopping or "
                                          "restarting); the command may not have been run")])
        return payload

    def count_auth_failure(self) -> None:
        self.link.notify(AUTH_FAILED)

    async def _proxy_get(self, scope: Scope, receive: Receive, send: Send) -> None:
        request = {
            "method": scope["method"], "path": scope["path"],
            "query": scope.get("query_string", b"").decode("latin-1"),
            "headers": [[k.decode("latin-1"), v.decode("latin-1")] for k, v in scope["headers"]],
        }
        try:
            _, payload = await self.link.request(GET, orjson.dumps(request))
        except OwnerGone:
            await self._respond(send, *UNAVAILABLE)
            return
        status, head_size = _GET_ANSWER.unpack_from(payload)
        at = _GET_ANSWER.size
        headers = [(k.encode("latin-1"), v.encode("latin-1")) for k, v in orjson.loads(payload[at:at + head_size])]
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": payload[at + head_size:]})

    async def start(self) -> None:
        """Connect to the main process, open the read-only stores, wait for READY."""
        try:
            await asyncio.get_running_loop().create_unix_connection(lambda: self.link, self.main_socket)
            for store in self.runtime.stores.values():
                store.start(read_only=True)
            self.link.notify(HELLO, str(os.getpid()).encode())
            lost = asyncio.ensure_future(self.link.closed.wait())
            ready = asyncio.ensure_future(self.link.ready.wait())
            try:
                await asyncio.wait({ready, lost}, timeout=START_TIMEOUT + 5, return_when=asyncio.FIRST_COMPLETED)
            finally:
                lost.cancel()
                ready.cancel()
            if not self.link.ready.is_set():
                raise OSError("the main process did not finish starting")
        except OSError as exc:
            raise OSError(f"cannot reach the main process: {exc}") from None

    async def stop(self) -> None:
        self.relay.flush()
        loop = asyncio.get_running_loop()
        for store in self.runtime.stores.values():
            await loop.run_in_executor(None, store.close)
        if self.link.transport is not None:
            self.link.transport.close()
