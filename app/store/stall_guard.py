"""PostgreSQL: give a writer or reader thread back from a connection that stopped answering.

libpq has no client-side bound on a query. A server that vanished is covered by
`tcp_user_timeout` (sent data unacknowledged ends the connection), but a peer that still
acknowledges and never answers is not: a server hung on its disk, or pgbouncer / HAProxy in front
of one (the proxy acknowledges; after a failover it sends new connections to the new primary and
may leave the old ones open). A thread waiting there would wait until that peer gives up, which
may be never, and every later write would wait behind it.

`StallGuard` watches each database operation of the store's threads. Once one has outlived its
bound (query-timeout, by which its requests were answered already, plus a grace period for a
server that is only slow), the guard shuts the connection's socket down: the thread's wait ends
with a connection error, the connection is discarded, and the next operation connects again.
MySQL needs none of this: PyMySQL's read and write timeouts bound every wait on its socket.

The guard shuts a duplicate of the connection's descriptor, made when the connection opened and
closed with it under the guard's lock, so a descriptor number the system has reused is never
touched."""

from __future__ import annotations

import itertools
import logging
import os
import socket
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import Connection, Engine

log = logging.getLogger("leasesync.store")


def _shut(fd: int) -> None:
    sock = socket.socket(fileno=fd)
    try:
        sock.shutdown(socket.SHUT_RDWR)
    finally:
        sock.detach()  # the descriptor stays the connection's, closed with it


class StallGuard:
    """Bounds the operations of the store's threads on PostgreSQL (see the module's text)."""

    def __init__(self, bound: float, *, clock: Callable[[], float] = time.monotonic, period: float = 0.5) -> None:
        self.bound = bound
        self.shut_connections = 0  # how many connections the guard gave up on
        self._clock = clock
        self._period = period
        self._lock = threading.Lock()
        # token -> [deadline, duplicate descriptor, what the operation was]
        self._watched: dict[int, list[Any]] = {}
        # id of a DB-API connection -> the duplicate of its socket's descriptor
        self._sockets: dict[int, int] = {}
        self._tokens = itertools.count()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def install(self, engine: Engine) -> None:
        """Give every connection of `engine` a duplicate of its socket's descriptor, closed when
        the connection closes (under the guard's lock: never while the guard may shut it), and
        bound the pool's check of a pooled connection (pre-ping) as the operations are."""

        def opened(dbapi_connection: Any, _record: Any) -> None:
            try:
                fd = os.dup(dbapi_connection.pgconn.socket)
            except Exception as exc:  # noqa: BLE001 - without one, this connection is just not guarded
                log.debug("no socket duplicate for the stall guard: %s", exc)
                fd = None
            with self._lock:
                # an id is unique among living objects only: one left by a connection that
                # went without a close event is replaced here
                self._close_locked(id(dbapi_connection))
                if fd is not None:
                    self._sockets[id(dbapi_connection)] = fd

        def closed(dbapi_connection: Any, _record: Any) -> None:
            with self._lock:
                self._close_locked(id(dbapi_connection))

        event.listen(engine, "connect", opened)
        event.listen(engine, "close", closed)
        event.listen(engine, "close_detached", lambda dbapi_connection: closed(dbapi_connection, None))
        ping = engine.dialect.do_ping

        def guarded_ping(dbapi_connection: Any) -> bool:
            with self.watching_dbapi(dbapi_connection, "connection check"):
                return ping(dbapi_connection)

        setattr(engine.dialect, "do_ping", guarded_ping)  # noqa: B010 - an instance's own method

    def _close_locked(self, key: int) -> None:
        fd = self._sockets.pop(key, None)
        if fd is None:
            return
        for token, entry in list(self._watched.items()):
            if entry[1] == fd:
                del self._watched[token]
        try:
            os.close(fd)
        except OSError:
            pass

    def start(self) -> None:
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name="leasesync-stall-guard", daemon=True)
            self._thread.start()

    def close(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def watching(self, conn: Connection, what: str) -> AbstractContextManager[None]:
        """Bound what the caller does on `conn` inside this block."""
        return self.watching_dbapi(conn.connection.dbapi_connection, what)

    @contextmanager
    def watching_dbapi(self, dbapi_connection: Any, what: str) -> Iterator[None]:
        token = next(self._tokens)
        with self._lock:
            fd = self._sockets.get(id(dbapi_connection))
            if fd is not None:
                self._watched[token] = [self._clock() + self.bound, fd, what]
        if fd is None:
            yield
            return
        try:
            yield
        finally:
            with self._lock:
                self._watched.pop(token, None)

    def check(self) -> int:
        """Shut the connections of the operations past their bound; how many were shut."""
        now = self._clock()
        shut = 0
        with self._lock:  # held while shutting: a watched connection is not closed meanwhile
            for token, (deadline, fd, what) in list(self._watched.items()):
                if deadline > now:
                    continue
                del self._watched[token]  # once: the thread's error path may close it next
                try:
                    _shut(fd)
                except OSError as exc:
                    log.debug("stall guard: shutting a connection failed: %s", exc)
                    continue
                shut += 1
                log.warning("the lease database did not answer a %s within %g s: connection given up, "
                            "the next operation connects again", what, self.bound)
            self.shut_connections += shut
        return shut

    def _run(self) -> None:
        while not self._stop.wait(self._period):
            try:
                self.check()
            except Exception:  # noqa: BLE001 - this thread must live on
                log.exception("stall guard")
