"""Private network namespaces for tests that need real DHCP traffic (perfdhcp → Kea).

Processes inside a namespace reach only the namespace's own loopback, so every peer of a DHCP
test (Kea, its control agent, leasesync, perfdhcp) must run in the same namespace. Two ways in:

* ``ns.popen(argv)`` / ``ns.run(argv)``: ``ip netns exec NAME argv`` (own process group, killed
  at ``close()``);
* ``with ns.entered():``: moves the *calling thread* into the namespace with ``setns(2)`` and back
  on exit. Everything the thread does meanwhile — sockets (httpx), ``subprocess.Popen`` (children
  inherit the thread's namespace), hence ``KeaServer`` and the ``spawn`` fixture — happens inside.
  This lets the ordinary fixtures run unchanged in the namespace.

Usage::

    with Namespace(addresses=["127.0.0.2/8", "127.0.0.3/8"]) as ns, ns.entered():
        with KeaServer(4, ...) as kea: ...

``require_netns()`` skips (fails under CI=true) when ``ip netns add`` is not permitted.
"""

from __future__ import annotations

import contextlib
import ctypes
import itertools
import os
import signal
import subprocess
from collections.abc import Iterator, Sequence
from typing import Any

CLONE_NEWNET = 0x40000000
_counter = itertools.count()
_libc: Any = None
_netns_ok: list[str | None] = []


def _setns(fd: int) -> None:
    global _libc
    if _libc is None:
        _libc = ctypes.CDLL("libc.so.6", use_errno=True)
    if _libc.setns(fd, CLONE_NEWNET) != 0:
        err = ctypes.get_errno()
        raise OSError(err, f"setns: {os.strerror(err)}")


def _ip(*args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["ip", *args], capture_output=True, text=True, timeout=20, check=check)


def netns_unavailable() -> str | None:
    """None when this process may create, enter and delete network namespaces, else why not."""
    if _netns_ok:
        return _netns_ok[0]
    reason: str | None = None
    name = f"lsprobe{os.getpid()}"
    try:
        done = _ip("netns", "add", name, check=False)
        if done.returncode != 0:
            reason = f"'ip netns add' not permitted: {done.stderr.strip() or done.returncode}"
        else:
            try:
                fd = os.open(f"/var/run/netns/{name}", os.O_RDONLY)
                try:
                    own = os.open("/proc/thread-self/ns/net", os.O_RDONLY)
                    try:
                        _setns(fd)
                        _setns(own)
                    finally:
                        os.close(own)
                finally:
                    os.close(fd)
            except OSError as exc:
                reason = f"setns() into a network namespace not permitted: {exc}"
            _ip("netns", "del", name, check=False)
    except (OSError, subprocess.SubprocessError) as exc:
        reason = f"'ip netns' unusable: {exc}"
    _netns_ok.append(reason)
    return reason


def require_netns() -> None:
    reason = netns_unavailable()
    if reason is not None:
        from tests.kea_harness import unavailable

        unavailable(f"network namespaces: {reason}")


class Namespace:
    """A fresh network namespace with lo up and extra loopback addresses (and optionally a veth
    pair for DHCPv6 multicast); deleted, with every process started by popen(), at close()."""

    def __init__(self, addresses: Sequence[str] = ("127.0.0.2/8", "127.0.0.3/8"),
                 veth: tuple[str, str] | None = None, prefix: str = "ls") -> None:
        self.name = f"{prefix}{os.getpid()}n{next(_counter)}"
        self.addresses = list(addresses)
        self.veth = veth
        self._procs: list[subprocess.Popen[bytes]] = []
        self._created = False

    # -- lifecycle ------------------------------------------------------------------------
    def create(self) -> Namespace:
        _ip("netns", "add", self.name)
        self._created = True
        try:
            _ip("-n", self.name, "link", "set", "lo", "up")
            for address in self.addresses:
                _ip("-n", self.name, "addr", "add", address, "dev", "lo")
            if self.veth is not None:
                a, b = self.veth
                for key in ("all", "default"):
                    self.run(["sysctl", "-q", "-w", f"net.ipv6.conf.{key}.accept_dad=0"], check=True)
                _ip("-n", self.name, "link", "add", a, "type", "veth", "peer", "name", b)
                _ip("-n", self.name, "link", "set", a, "up")
                _ip("-n", self.name, "link", "set", b, "up")
        except BaseException:
            self.close()
            raise
        return self

    def close(self) -> None:
        for proc in self._procs:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(proc.pid, signal.SIGKILL)
            with contextlib.suppress(subprocess.TimeoutExpired):
                proc.wait(timeout=5)
        self._procs.clear()
        if self._created:
            # Any process still inside (a stray child) keeps the namespace alive but unnamed.
            _ip("netns", "del", self.name, check=False)
            self._created = False

    def __enter__(self) -> Namespace:
        return self.create()

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- entering -------------------------------------------------------------------------
    @contextlib.contextmanager
    def entered(self) -> Iterator[Namespace]:
        """Run the calling thread (and the processes it starts) inside the namespace."""
        own = os.open("/proc/thread-self/ns/net", os.O_RDONLY)
        target = os.open(f"/var/run/netns/{self.name}", os.O_RDONLY)
        try:
            _setns(target)
            try:
                yield self
            finally:
                _setns(own)
        finally:
            os.close(target)
            os.close(own)

    # -- processes ------------------------------------------------------------------------
    def argv(self, argv: Sequence[str]) -> list[str]:
        return ["ip", "netns", "exec", self.name, *argv]

    def popen(self, argv: Sequence[str], **kwargs: Any) -> subprocess.Popen[bytes]:
        kwargs.setdefault("start_new_session", True)
        kwargs.setdefault("stdin", subprocess.DEVNULL)
        proc: subprocess.Popen[bytes] = subprocess.Popen(self.argv(argv), **kwargs)
        self._procs.append(proc)
        return proc

    def run(self, argv: Sequence[str], timeout: float = 60.0, check: bool = False) -> subprocess.CompletedProcess[str]:
        return subprocess.run(self.argv(argv), capture_output=True, text=True, timeout=timeout, check=check)
