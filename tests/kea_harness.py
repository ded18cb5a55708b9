"""Run real ISC Kea 2.2 on loopback for tests and benchmarks.

Typical use::

    from tests.kea_harness import KeaServer, require_kea

    def test_something():
        require_kea()                      # skip (or fail under CI=true) without Kea
        with KeaServer(4) as kea:          # kea-dhcp4 + kea-ctrl-agent, spec subnets
            ans = kea.command("lease4-get-all")          # -> list (CA answer)
            one = kea.socket_command({"command": "list-commands"})  # -> dict (daemon)

API summary
-----------
* ``kea_available() -> str | None``: None if Kea 2.2 (dhcp4, dhcp6, ctrl-agent, lease_cmds hook) is
  installed, else a human-readable reason.
* ``require_kea()``: skips the test with the reason ``not available on this machine: Kea 2.2: <why>``
  (from ``kea_available()``) when Kea is missing, but fails it when the environment variable
  ``CI`` is true (a skipped oracle in CI is a silent hole).
* ``free_port(udp=False) -> int``: a free 127.0.0.1 port below the kernel's ephemeral range,
  reserved for the lifetime of this process with an flock()ed file under
  ``/tmp/kea-harness-ports/`` so parallel processes (pytest-xdist, benchmarks) never get the same
  port. ``release_port(port)`` gives it back early.
* ``KeaServer(family, subnets=None, *, ...)``: context manager; starts kea-dhcp4/kea-dhcp6 (each in
  its own process group, own ``KEA_PIDFILE_DIR``/``KEA_LOCKFILE_DIR``, unix control socket in its
  own short tmp dir, ``-p`` DHCP port off 67/547, no interfaces by default) and, unless
  ``start_agent=False``, a kea-ctrl-agent on ``http_port`` forwarding to it. ``__enter__`` returns
  only when the agent answers ``list-commands`` for the service (or, without agent, the unix socket
  does). ``__exit__``/``stop()`` kill both process groups (SIGTERM, then SIGKILL) and remove the
  tmp dir (kept when ``keep_tmpdir=True`` or ``KEA_HARNESS_KEEP=1``).

  Attributes: ``url``, ``http_port``, ``socket_path``, ``service`` (``"dhcp4"``/``"dhcp6"``),
  ``tmpdir``, ``log_path`` (daemon log), ``agent_log_path``, ``dhcp_config`` / ``agent_config``
  (the dicts written), ``pid`` / ``agent_pid``.

  Methods: ``command(cmd, service=DEFAULT, arguments=OMIT) -> list`` (via httpx; ``service``
  defaults to ``[self.service]``, ``service=None`` omits the key); ``raw_post(body, headers=None,
  method="POST", path="/") -> (status, headers, body_bytes)``; ``raw_http(request_bytes) ->
  (status, headers, body_bytes)`` for byte-exact requests (no Content-Length, bad request line …);
  ``socket_command(dict) -> dict`` and ``socket_raw(bytes) -> bytes`` straight to the daemon's
  unix socket; ``read_log()``.

Two KeaServers can run at once. To put one control agent in front of several daemons, start the
others with ``start_agent=False`` and pass their sockets via ``extra_control_sockets``::

    with KeaServer(6, start_agent=False) as k6, \
         KeaServer(4, extra_control_sockets={"dhcp6": k6.socket_path}) as k4:
        k4.command("list-commands", service=["dhcp4", "dhcp6"])

Facts learnt on the way (Debian's kea 2.2.0):
* kea-dhcp6 generates a DUID-LLT server-id at start-up and wants to write it to its data directory
  (/var/lib/kea by default, absent here): the harness sets ``"data-directory"`` to the tmp dir
  and ``"server-id": {"type": "LLT", "persist": false}``.
* Unix socket paths are limited to 107 bytes, so tmp dirs are created directly under /tmp with a
  short name, not under pytest's long tmp_path.
"""

from __future__ import annotations

import contextlib
import copy
import ctypes
import fcntl
import json
import os
import random
import shutil
import signal
import socket
import ssl
import subprocess
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import httpx

HOOKS_DIR = Path(os.environ.get("KEA_HOOKS_DIR", "/usr/lib/x86_64-linux-gnu/kea/hooks"))
LEASE_CMDS_HOOK = HOOKS_DIR / "libdhcp_lease_cmds.so"
HA_HOOK = HOOKS_DIR / "libdhcp_ha.so"
_PORT_LOCK_DIR = Path(os.environ.get("KEA_HARNESS_PORT_DIR", "/tmp/kea-harness-ports"))

# Subnets of the reference configuration used throughout the spec (lease-commands.md).
SPEC_SUBNETS4: list[dict[str, Any]] = [
    {"id": 1, "subnet": "192.0.2.0/24", "pools": [{"pool": "192.0.2.10 - 192.0.2.200"}]},
    {"id": 2, "subnet": "198.51.100.0/24", "valid-lifetime": 7200},
]
SPEC_SUBNETS6: list[dict[str, Any]] = [
    {
        "id": 1,
        "subnet": "2001:db8:1::/64",
        "pd-pools": [{"prefix": "3000:1::", "prefix-len": 48, "delegated-len": 64}],
    },
    {"id": 2, "subnet": "2001:db8:2::/64"},
]


class _Default:
    def __repr__(self) -> str:
        return "DEFAULT"


class _Omit:
    def __repr__(self) -> str:
        return "OMIT"


DEFAULT: Any = _Default()
OMIT: Any = _Omit()


class KeaStartError(RuntimeError):
    """Kea did not come up; the message carries the tail of its logs."""


# ---------------------------------------------------------------------------------------------
# availability


def _which(name: str) -> str | None:
    found = shutil.which(name)
    if found:
        return found
    for d in ("/usr/sbin", "/usr/local/sbin", "/sbin"):
        p = Path(d) / name
        if p.is_file() and os.access(p, os.X_OK):
            return str(p)
    return None


_available_cache: list[str | None] = []


def kea_available() -> str | None:
    """None if Kea 2.2 with lease_cmds is usable here, else why not (for pytest.skip)."""
    if _available_cache:
        return _available_cache[0]
    reason: str | None = None
    for binary in ("kea-dhcp4", "kea-dhcp6", "kea-ctrl-agent"):
        if _which(binary) is None:
            reason = f"{binary} not installed (apt-get install kea-dhcp4-server kea-dhcp6-server kea-ctrl-agent)"
            break
    if reason is None and not LEASE_CMDS_HOOK.is_file():
        reason = f"lease_cmds hook not found at {LEASE_CMDS_HOOK}"
    if reason is None:
        try:
            out = subprocess.run(
                [_which("kea-dhcp4") or "kea-dhcp4", "-v"], capture_output=True, text=True, timeout=10
            ).stdout.strip()
        except (OSError, subprocess.SubprocessError) as exc:
            out = ""
            reason = f"kea-dhcp4 -v failed: {exc}"
        if reason is None and not out.startswith("2.2."):
            reason = f"Kea 2.2 required, found {out or 'unknown version'}"
    _available_cache.append(reason)
    return reason


def in_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() in ("1", "true", "yes", "on")


def unavailable(reason: str) -> None:
    """Skip a test whose external service or tool is missing; under CI that is a failure.
    The one place this policy lives: every test helper that needs PostgreSQL, MariaDB, Kea,
    kea-shell, openssl or network namespaces calls it."""
    import pytest

    if in_ci():
        pytest.fail(f"required under CI=true: {reason}", pytrace=False)
    pytest.skip(f"not available on this machine: {reason}")


def require_kea() -> None:
    """Skip the calling test when Kea is missing; under CI=true fail instead of skipping."""
    reason = kea_available()
    if reason is not None:
        unavailable(f"Kea 2.2: {reason}")


# ---------------------------------------------------------------------------------------------
# ports

_port_lock = threading.Lock()
_reserved: dict[int, int] = {}  # port -> fd holding the flock


def _ephemeral_range() -> tuple[int, int]:
    try:
        lo, hi = Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()
        return int(lo), int(hi)
    except (OSError, ValueError):
        return 32768, 60999


def _bindable(port: int) -> bool:
    for kind in (socket.SOCK_STREAM, socket.SOCK_DGRAM):
        s = socket.socket(socket.AF_INET, kind)
        try:
            if kind == socket.SOCK_STREAM:
                s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            s.bind(("127.0.0.1", port))
        except OSError:
            return False
        finally:
            s.close()
    return True


def free_port(udp: bool = False) -> int:
    """Return a currently free 127.0.0.1 port (TCP and UDP), reserved for this process.

    Ports come from below the ephemeral range (so outgoing connections cannot steal them) and are
    reserved across processes with an flock on /tmp/kea-harness-ports/<port>; the lock is dropped
    automatically when this process exits. ``udp`` is accepted for readability; both protocols are
    always checked.
    """
    del udp
    lo_eph, _ = _ephemeral_range()
    high = min(lo_eph - 1, 32000)
    low = 20000 if high > 21000 else 1024
    _PORT_LOCK_DIR.mkdir(parents=True, exist_ok=True)
    with contextlib.suppress(OSError):
        os.chmod(_PORT_LOCK_DIR, 0o1777)
    rng = random.SystemRandom()
    with _port_lock:
        for _ in range(2000):
            port = rng.randint(low, high)
            if port in _reserved:
                continue
            fd = os.open(_PORT_LOCK_DIR / str(port), os.O_RDWR | os.O_CREAT, 0o666)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError:
                os.close(fd)
                continue
            if not _bindable(port):
                fcntl.flock(fd, fcntl.LOCK_UN)
                os.close(fd)
                continue
            _reserved[port] = fd
            return port
    raise RuntimeError("no free port found")


def release_port(port: int) -> None:
    with _port_lock:
        fd = _reserved.pop(port, None)
    if fd is not None:
        with contextlib.suppress(OSError):
            fcntl.flock(fd, fcntl.LOCK_UN)
        os.close(fd)


# ---------------------------------------------------------------------------------------------
# process helpers

_PR_SET_PDEATHSIG = 1
_live_groups: set[int] = set()
_live_lock = threading.Lock()


def _preexec_pdeathsig() -> None:  # runs in the child between fork and exec
    try:
        libc = ctypes.CDLL("libc.so.6", use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    except Exception:  # pragma: no cover - best effort
        pass


def _kill_group(proc: subprocess.Popen[bytes], timeout: float = 5.0) -> None:
    pgid = proc.pid  # start_new_session=True: pgid == pid
    for sig, wait in ((signal.SIGTERM, timeout), (signal.SIGKILL, 5.0)):
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(pgid, sig)
        try:
            proc.wait(timeout=wait)
            break
        except subprocess.TimeoutExpired:
            continue
    # Any straggler in the group (e.g. kea-lfc) gets SIGKILL too.
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, signal.SIGKILL)
    with _live_lock:
        _live_groups.discard(pgid)


def _atexit_kill() -> None:
    with _live_lock:
        groups = list(_live_groups)
    for pgid in groups:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(pgid, signal.SIGKILL)


import atexit  # noqa: E402

atexit.register(_atexit_kill)


def _tail(path: Path, n: int = 40) -> str:
    try:
        lines = path.read_text(errors="replace").splitlines()
    except OSError:
        return f"({path} unreadable)"
    return "\n".join(lines[-n:])


def _read_http_response(sock: socket.socket, deadline: float) -> tuple[int, dict[str, str], bytes]:
    """Read one HTTP/1.x response with Content-Length (or until close)."""
    buf = b""
    while b"\r\n\r\n" not in buf:
        sock.settimeout(max(0.01, deadline - time.monotonic()))
        chunk = sock.recv(65536)
        if not chunk:
            if not buf:
                raise ConnectionError("connection closed without an answer")
            break
        buf += chunk
    head, _, body = buf.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split()[1])
    headers: dict[str, str] = {":status-line": lines[0]}
    for line in lines[1:]:
        k, _, v = line.partition(":")
        headers[k.strip()] = v.strip()
    length = next((int(v) for k, v in headers.items() if k.lower() == "content-length"), None)
    while length is None or len(body) < length:
        sock.settimeout(max(0.01, deadline - time.monotonic()))
        try:
            chunk = sock.recv(65536)
        except TimeoutError:
            if length is None:
                break
            raise
        if not chunk:
            break
        body += chunk
    return status, headers, body


# ---------------------------------------------------------------------------------------------
# the server


class KeaServer:
    """kea-dhcp4/kea-dhcp6 (+ kea-ctrl-agent) on loopback; see the module docstring."""

    def __init__(
        self,
        family: int = 4,
        subnets: list[dict[str, Any]] | None = None,
        *,
        valid_lifetime: int = 4000,
        preferred_lifetime: int | None = 3000,
        renew_timer: int | None = None,
        rebind_timer: int | None = None,
        http_port: int | None = None,
        http_host: str = "127.0.0.1",
        hooks_libraries: list[dict[str, Any] | str] | None = None,
        lease_cmds: bool = True,
        lease_database: dict[str, Any] | None = None,
        interfaces: list[str] | None = None,
        dhcp_socket: str | None = None,
        dhcp_port: int | None = None,
        extra_config: dict[str, Any] | None = None,
        start_agent: bool = True,
        agent_extra: dict[str, Any] | None = None,
        extra_control_sockets: dict[str, str] | None = None,
        log_severity: str = "INFO",
        debuglevel: int = 0,
        startup_timeout: float = 20.0,
        keep_tmpdir: bool | None = None,
        pdeathsig: bool = True,
        name: str | None = None,
        agent_tls: ssl.SSLContext | None = None,
        agent_auth: tuple[str, str] | None = None,
    ) -> None:
        """
        family: 4 or 6.
        subnets: Kea JSON list for "subnet4"/"subnet6" (default: the spec's reference subnets).
        valid_lifetime / preferred_lifetime (v6 only) / renew_timer / rebind_timer: global values.
        http_port: control-agent port (default: free_port()).
        hooks_libraries: extra hooks after lease_cmds; a string is a library name or path, a dict
            is a Kea hooks-libraries entry ({"library": "libdhcp_ha.so", "parameters": {...}});
            relative library names are resolved in HOOKS_DIR.
        lease_database: default {"type": "memfile", "persist": False}.
        interfaces / dhcp_socket: "interfaces-config" interfaces (default []) and
            "dhcp-socket-type" ("udp"/"raw"; omitted by default).
        dhcp_port: value for -p (default: a free port, so the daemon never binds 67/547).
        extra_config: merged (shallow) into the Dhcp4/Dhcp6 map last, e.g. {"dhcp-ddns": {...}}.
        start_agent: False -> no kea-ctrl-agent (leasesync can stand in, forwarding to
            socket_path); url/command()/raw_post() are then unavailable.
        agent_extra: merged into the Control-agent map (e.g. "authentication", or its TLS keys
            "trust-anchor"/"cert-file"/"key-file"/"cert-required").
        agent_tls: the client side of the agent's TLS (the harness then speaks https to it).
        agent_auth: (user, password) the harness sends to an agent with "authentication".
        extra_control_sockets: more {"service": "socket path"} entries for the agent.
        """
        if family not in (4, 6):
            raise ValueError("family must be 4 or 6")
        self.family = family
        self.service = f"dhcp{family}"
        self.subnets = copy.deepcopy(
            subnets if subnets is not None else (SPEC_SUBNETS4 if family == 4 else SPEC_SUBNETS6)
        )
        self.valid_lifetime = valid_lifetime
        self.preferred_lifetime = preferred_lifetime
        self.renew_timer = renew_timer
        self.rebind_timer = rebind_timer
        self.http_host = http_host
        self._http_port_arg = http_port
        self.hooks_libraries = list(hooks_libraries or [])
        self.lease_cmds = lease_cmds
        self.lease_database = lease_database or {"type": "memfile", "persist": False}
        self.interfaces = list(interfaces or [])
        self.dhcp_socket = dhcp_socket
        self._dhcp_port_arg = dhcp_port
        self.extra_config = extra_config or {}
        self.start_agent = start_agent
        self.agent_extra = agent_extra or {}
        self.extra_control_sockets = dict(extra_control_sockets or {})
        self.log_severity = log_severity
        self.debuglevel = debuglevel
        self.startup_timeout = startup_timeout
        if keep_tmpdir is None:
            keep_tmpdir = os.environ.get("KEA_HARNESS_KEEP", "") not in ("", "0")
        self.keep_tmpdir = keep_tmpdir
        self.pdeathsig = pdeathsig
        self.name = name or f"kea{family}"
        self.agent_tls = agent_tls
        self.agent_auth = agent_auth

        self.tmpdir: Path | None = None
        self.http_port: int | None = None
        self.dhcp_port: int | None = None
        self.socket_path: str = ""
        self.log_path: Path | None = None
        self.agent_log_path: Path | None = None
        self.dhcp_config: dict[str, Any] = {}
        self.agent_config: dict[str, Any] = {}
        self._proc: subprocess.Popen[bytes] | None = None
        self._agent: subprocess.Popen[bytes] | None = None
        self._client: httpx.Client | None = None
        self._ports: list[int] = []

    # -- properties -----------------------------------------------------------------------
    @property
    def url(self) -> str:
        if not self.start_agent or self.http_port is None:
            raise RuntimeError("no control agent started (start_agent=False)")
        return f"{'https' if self.agent_tls else 'http'}://{self.http_host}:{self.http_port}/"

    @property
    def pid(self) -> int | None:
        return self._proc.pid if self._proc else None

    @property
    def agent_pid(self) -> int | None:
        return self._agent.pid if self._agent else None

    # -- config -----------------------------------------------------------------------------
    @staticmethod
    def _hook_entry(h: dict[str, Any] | str) -> dict[str, Any]:
        entry = {"library": h} if isinstance(h, str) else copy.deepcopy(h)
        lib = entry["library"]
        if not os.path.isabs(lib):
            entry["library"] = str(HOOKS_DIR / lib)
        return entry

    def _build_configs(self) -> None:
        assert self.tmpdir is not None
        top = f"Dhcp{self.family}"
        hooks = [{"library": str(LEASE_CMDS_HOOK)}] if self.lease_cmds else []
        hooks += [self._hook_entry(h) for h in self.hooks_libraries]
        iface: dict[str, Any] = {"interfaces": self.interfaces}
        if self.dhcp_socket and self.family == 4:
            iface["dhcp-socket-type"] = self.dhcp_socket
        daemon: dict[str, Any] = {
            "interfaces-config": iface,
            "control-socket": {"socket-type": "unix", "socket-name": self.socket_path},
            "lease-database": copy.deepcopy(self.lease_database),
            "valid-lifetime": self.valid_lifetime,
            "hooks-libraries": hooks,
            f"subnet{self.family}": copy.deepcopy(self.subnets),
            "loggers": [
                {
                    "name": f"kea-dhcp{self.family}",
                    "output_options": [{"output": str(self.log_path)}],
                    "severity": self.log_severity,
                    "debuglevel": self.debuglevel,
                }
            ],
        }
        if self.renew_timer is not None:
            daemon["renew-timer"] = self.renew_timer
        if self.rebind_timer is not None:
            daemon["rebind-timer"] = self.rebind_timer
        if self.family == 6:
            if self.preferred_lifetime is not None:
                daemon["preferred-lifetime"] = self.preferred_lifetime
            # kea-dhcp6 writes its DUID to the data directory at start-up (default /var/lib/kea).
            daemon["data-directory"] = str(self.tmpdir)
            daemon["server-id"] = {"type": "LLT", "persist": False}
        daemon.update(copy.deepcopy(self.extra_config))
        self.dhcp_config = {top: daemon}

        sockets = {self.service: {"socket-type": "unix", "socket-name": self.socket_path}}
        for svc, path in self.extra_control_sockets.items():
            sockets[svc] = {"socket-type": "unix", "socket-name": path}
        agent: dict[str, Any] = {
            "http-host": self.http_host,
            "http-port": self.http_port,
            "control-sockets": sockets,
            "loggers": [
                {
                    "name": "kea-ctrl-agent",
                    "output_options": [{"output": str(self.agent_log_path)}],
                    "severity": self.log_severity,
                    "debuglevel": self.debuglevel,
                }
            ],
        }
        agent.update(copy.deepcopy(self.agent_extra))
        self.agent_config = {"Control-agent": agent}

    # -- lifecycle --------------------------------------------------------------------------
    def _spawn(self, argv: list[str], out_name: str) -> subprocess.Popen[bytes]:
        assert self.tmpdir is not None
        env = dict(os.environ)
        env["KEA_PIDFILE_DIR"] = str(self.tmpdir / "run")
        env["KEA_LOCKFILE_DIR"] = str(self.tmpdir / "lock")
        env["KEA_LOGGER_DESTINATION"] = str(self.tmpdir / f"{out_name}.early.log")
        out = open(self.tmpdir / f"{out_name}.out", "wb")  # noqa: SIM115
        use_pdeath = self.pdeathsig and threading.current_thread() is threading.main_thread()
        try:
            proc = subprocess.Popen(
                argv,
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
                env=env,
                cwd=self.tmpdir,
                start_new_session=True,
                preexec_fn=_preexec_pdeathsig if use_pdeath else None,
            )
        finally:
            out.close()
        with _live_lock:
            _live_groups.add(proc.pid)
        return proc

    def _diagnostics(self) -> str:
        assert self.tmpdir is not None
        parts = []
        for p in sorted(self.tmpdir.glob("*.log")) + sorted(self.tmpdir.glob("*.out")):
            parts.append(f"--- {p.name} ---\n{_tail(p)}")
        return "\n".join(parts)

    def start(self) -> KeaServer:
        reason = kea_available()
        if reason:
            raise KeaStartError(reason)
        self.tmpdir = Path(tempfile.mkdtemp(prefix=f"{self.name}-", dir="/tmp"))
        try:
            (self.tmpdir / "run").mkdir()
            (self.tmpdir / "lock").mkdir()
            self.socket_path = str(self.tmpdir / f"ctrl{self.family}.sock")
            self.log_path = self.tmpdir / f"kea-dhcp{self.family}.log"
            self.agent_log_path = self.tmpdir / "kea-ctrl-agent.log"
            if self.start_agent:
                if self._http_port_arg is None:
                    self.http_port = free_port()
                    self._ports.append(self.http_port)
                else:
                    self.http_port = self._http_port_arg
            if self._dhcp_port_arg is None:
                self.dhcp_port = free_port(udp=True)
                self._ports.append(self.dhcp_port)
            else:
                self.dhcp_port = self._dhcp_port_arg
            self._build_configs()
            dcfg = self.tmpdir / f"kea-dhcp{self.family}.json"
            dcfg.write_text(json.dumps(self.dhcp_config, indent=2))
            binary = _which(f"kea-dhcp{self.family}")
            assert binary
            self._proc = self._spawn([binary, "-c", str(dcfg), "-p", str(self.dhcp_port)], f"dhcp{self.family}")
            self._wait_socket()
            if self.start_agent:
                acfg = self.tmpdir / "kea-ctrl-agent.json"
                acfg.write_text(json.dumps(self.agent_config, indent=2))
                agent_bin = _which("kea-ctrl-agent")
                assert agent_bin
                self._agent = self._spawn([agent_bin, "-c", str(acfg)], "ctrl-agent")
                self._client = httpx.Client(timeout=30.0, verify=self.agent_tls or True, auth=self.agent_auth)
                self._wait_agent()
        except BaseException as exc:
            diag = self._diagnostics() if self.tmpdir else ""
            self.stop()
            if isinstance(exc, KeaStartError):
                raise KeaStartError(f"{exc}\n{diag}") from None
            raise
        return self

    def _check_alive(self) -> None:
        for proc, what in ((self._proc, f"kea-dhcp{self.family}"), (self._agent, "kea-ctrl-agent")):
            if proc is not None and proc.poll() is not None:
                raise KeaStartError(f"{what} exited with status {proc.returncode} during start-up")

    def _wait_socket(self) -> None:
        deadline = time.monotonic() + self.startup_timeout
        last: Exception | None = None
        while time.monotonic() < deadline:
            self._check_alive()
            if os.path.exists(self.socket_path):
                try:
                    ans = self.socket_command({"command": "list-commands"}, timeout=2.0)
                    if ans.get("result") == 0:
                        return
                except (OSError, ValueError) as exc:
                    last = exc
            time.sleep(0.05)
        raise KeaStartError(f"kea-dhcp{self.family} control socket not ready ({last})")

    def _wait_agent(self) -> None:
        assert self._client is not None
        deadline = time.monotonic() + self.startup_timeout
        last: Any = None
        while time.monotonic() < deadline:
            self._check_alive()
            try:
                r = self._client.post(
                    self.url,
                    json={"command": "list-commands", "service": [self.service]},
                    timeout=2.0,
                )
                body = r.json()
                if r.status_code == 200 and isinstance(body, list) and body and body[0].get("result") == 0:
                    return
                last = body
            except (httpx.HTTPError, ValueError) as exc:
                last = exc
            time.sleep(0.05)
        raise KeaStartError(f"kea-ctrl-agent not answering on {self.url} ({last})")

    def stop(self) -> None:
        if self._client is not None:
            with contextlib.suppress(Exception):
                self._client.close()
            self._client = None
        for attr in ("_agent", "_proc"):
            proc = getattr(self, attr)
            if proc is not None:
                _kill_group(proc)
                setattr(self, attr, None)
        for p in self._ports:
            release_port(p)
        self._ports.clear()
        if self.tmpdir is not None and not self.keep_tmpdir:
            shutil.rmtree(self.tmpdir, ignore_errors=True)

    def __enter__(self) -> KeaServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def alive(self) -> bool:
        procs = [self._proc] + ([self._agent] if self.start_agent else [])
        return all(p is not None and p.poll() is None for p in procs)

    # -- talking to it ----------------------------------------------------------------------
    def envelope(self, cmd: str, service: Any = DEFAULT, arguments: Any = OMIT) -> dict[str, Any]:
        env: dict[str, Any] = {"command": cmd}
        if service is DEFAULT:
            env["service"] = [self.service]
        elif service is not None and service is not OMIT:
            env["service"] = service
        if arguments is not OMIT:
            env["arguments"] = arguments
        return env

    def command(self, cmd: str, service: Any = DEFAULT, arguments: Any = OMIT) -> Any:
        """POST a command to the control agent; returns the parsed answer (normally a list).

        service: DEFAULT -> [self.service]; None -> key omitted (the CA answers itself);
        anything else is sent verbatim. arguments: omitted unless given (None sends null).
        """
        if self._client is None:
            raise RuntimeError("no control agent started (start_agent=False)")
        r = self._client.post(self.url, json=self.envelope(cmd, service, arguments))
        return r.json()

    def raw_post(
        self,
        body: bytes | str,
        headers: dict[str, str] | None = None,
        method: str = "POST",
        path: str = "/",
    ) -> tuple[int, dict[str, str], bytes]:
        """Send body with exactly the given extra headers (httpx still adds Host, Accept,
        Accept-Encoding, Connection, User-Agent and Content-Length). Returns (status, headers,
        body bytes)."""
        if self._client is None:
            raise RuntimeError("no control agent started (start_agent=False)")
        if isinstance(body, str):
            body = body.encode()
        url = f"{self.url.rstrip('/')}{path}"
        r = self._client.request(method, url, content=body, headers=headers or {})
        return r.status_code, dict(r.headers), r.content

    def raw_http(self, request: bytes, timeout: float = 15.0) -> tuple[int, dict[str, str], bytes]:
        """Send request bytes verbatim on a fresh TCP connection; read one response.

        The returned headers dict keeps the server's order and has an extra first key
        ":status-line" (e.g. "HTTP/1.0 400 Bad Request")."""
        if self.http_port is None:
            raise RuntimeError("no control agent started (start_agent=False)")
        with socket.create_connection((self.http_host, self.http_port), timeout=timeout) as s:
            s.sendall(request)
            return _read_http_response(s, time.monotonic() + timeout)

    def socket_raw(self, data: bytes, timeout: float = 10.0) -> bytes:
        """Send bytes to the daemon's unix control socket; return the complete answer bytes."""
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
            s.settimeout(timeout)
            s.connect(self.socket_path)
            s.sendall(data)
            buf = b""
            deadline = time.monotonic() + timeout
            while time.monotonic() < deadline:
                try:
                    chunk = s.recv(65536)
                except TimeoutError:
                    break
                if not chunk:
                    break
                buf += chunk
                try:
                    json.loads(buf)
                    break  # complete JSON document
                except ValueError:
                    continue
            return buf

    def socket_command(self, cmd: dict[str, Any], timeout: float = 10.0) -> dict[str, Any]:
        """Send an envelope straight to the daemon's unix socket; returns its answer map."""
        raw = self.socket_raw(json.dumps(cmd).encode(), timeout=timeout)
        return json.loads(raw)

    def ha_state(self) -> str:
        """The daemon's HA state (its answer to ha-heartbeat), or "unreachable"."""
        try:
            return str(self.socket_command({"command": "ha-heartbeat"}, timeout=5)["arguments"]["state"])
        except Exception:  # noqa: BLE001 - a Kea that does not answer has no state
            return "unreachable"

    def leases(self, timeout: float = 30.0) -> list[dict[str, Any]]:
        """Every lease of the daemon's family (leaseX-get-all over its socket), by address."""
        answer = self.socket_command({"command": f"lease{self.family}-get-all"}, timeout=timeout)
        return sorted(answer.get("arguments", {}).get("leases", []), key=lambda lease: lease["ip-address"])

    def signal(self, sig: int) -> None:
        """Send `sig` to the daemon and its control agent (SIGSTOP/SIGCONT, or SIGKILL for a crash)."""
        for proc in (self._proc, self._agent):
            if proc is not None and proc.poll() is None:
                os.killpg(proc.pid, sig)

    def read_log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path and self.log_path.exists() else ""
