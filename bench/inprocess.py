"""The serving loop's own CPU per lease4-update (or lease6-bulk-apply), without sockets: the real HTTP protocol class,
command path and SQLite store (WAL, synchronous FULL), driven in-process by N fake connections.

    python bench/inprocess.py [--tree PATH] [--command lease4-update|lease6-bulk-apply] [--conns 8]
                              [--requests 20000] [--rounds 2] [--random-hw] [--renew] [--addresses N]

Each fake connection hands the protocol its next request as soon as the previous answer was
written (one loop turn later), as a closed-loop client on a keep-alive connection would. Printed
per round: requests/s, the loop thread's CPU per request (what limits one Python process), the
whole process's CPU per request (the fsync thread included), the time the store's op took per
request (`UpdateLease.apply`, `BulkApply.apply`: its SQL), requests per commit and the WAL fsync's duration. With no kernel socket work
in the way the figures vary less than bench/control.py's, which makes small A/B comparisons of
the command path possible (`--tree` runs another source tree, e.g. `git archive REV | tar -x -C
/tmp/before`).
Not a substitute for bench/control.py: the targets are measured there, over loopback, against Kea.

`--sample` also profiles the loop thread: a timer on that thread's own CPU clock raises SIGPROF
every N µs of its CPU, and the handler (run by the thread at its next bytecode) counts the Python
stack, so C work such as SQLite's COMMIT is charged to the line that called it. Why not py-spy:
on the VMs these benchmarks run on, its samples land where the process next enters the kernel
(a stop is only delivered there), so cheap syscalls collect the time of the Python code before
them: it put 14 % of a lease4-update in `asyncio.get_running_loop`'s getpid, which costs 0.1 µs.
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import ctypes
import os
import signal
import sys
import tempfile
import threading
import time
import types
from pathlib import Path
from types import FrameType
from typing import Any


class ThreadCpuSampler:
    """Count the calling thread's Python stacks every `interval_us` of that thread's CPU time
    (a POSIX timer on its CPU clock raising SIGPROF; Linux, glibc)."""

    class _SigEvent(ctypes.Structure):
        _fields_ = [("value", ctypes.c_void_p), ("signo", ctypes.c_int), ("notify", ctypes.c_int),
                    ("_rest", ctypes.c_byte * 48)]

    class _ITimerSpec(ctypes.Structure):  # two struct timespec: (seconds, nanoseconds) each
        _fields_ = [("interval", ctypes.c_long * 2), ("value", ctypes.c_long * 2)]

    def __init__(self, interval_us: int) -> None:
        self.stacks: collections.Counter[tuple[str, ...]] = collections.Counter()
        self.interval_ns = interval_us * 1000
        self.libc = ctypes.CDLL(None, use_errno=True)
        event = self._SigEvent(signo=signal.SIGPROF, notify=0)  # SIGEV_SIGNAL
        self.timer = ctypes.c_void_p()
        clock = time.pthread_getcpuclockid(threading.get_ident())
        if self.libc.timer_create(ctypes.c_int(clock), ctypes.byref(event), ctypes.byref(self.timer)) != 0:
            raise OSError(ctypes.get_errno(), "timer_create")
        self.recording = False
        signal.signal(signal.SIGPROF, self._sample)

    def _arm(self, nanoseconds: int) -> None:
        period = (nanoseconds // 1_000_000_000, nanoseconds % 1_000_000_000)
        spec = self._ITimerSpec(period, period)
        if self.libc.timer_settime(self.timer, 0, ctypes.byref(spec), None) != 0:
            raise OSError(ctypes.get_errno(), "timer_settime")

    def start(self) -> None:
        self.recording = True
        self._arm(self.interval_ns)

    def stop(self) -> None:
        self.recording = False
        self._arm(0)

    def _sample(self, signum: int, frame: FrameType | None) -> None:
        if not self.recording:
            return
        stack = []
        while frame is not None:
            code = frame.f_code
            where = "/".join(code.co_filename.split("/")[-2:])
            stack.append(f"{code.co_qualname}  {where}:{frame.f_lineno if not stack else code.co_firstlineno}")
            frame = frame.f_back
        self.stacks[tuple(stack)] += 1

    def report(self, top: int) -> None:
        total = sum(self.stacks.values())
        if not total:
            return
        own: collections.Counter[str] = collections.Counter()
        lines: collections.Counter[str] = collections.Counter()
        anywhere: collections.Counter[str] = collections.Counter()
        for stack, count in self.stacks.items():
            lines[stack[0]] += count
            own[stack[0].rsplit(":", 1)[0]] += count
            for function in {entry.rsplit(":", 1)[0] for entry in stack}:
                anywhere[function] += count
        for title, counter in (("self", own), ("self, by line", lines), ("total", anywhere)):
            print(f"-- {title} ({total} samples of the loop thread's CPU)")
            for name, count in counter.most_common(top):
                print(f"{100 * count / total:5.1f}%  {name}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--tree", default=str(Path(__file__).resolve().parent.parent), help="source tree to run")
    parser.add_argument("--command", choices=["lease4-update", "lease6-bulk-apply"], default="lease4-update")
    parser.add_argument("--conns", type=int, default=8)
    parser.add_argument("--requests", type=int, default=20000, help="per round")
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--random-hw", action="store_true",
                        help="hardware addresses (and DUIDs) drawn at random, as a site's are: its index pages "
                             "are written all over instead of at the end of the index")
    parser.add_argument("--renew", action="store_true",
                        help="lease4-update as renewals: each address keeps its hardware address and hostname "
                             "from one request to the next, only the expiry moves: now + valid-lft (run "
                             "--requests 65534, every address of the subnet, and read the second round)")
    parser.add_argument("--sample", type=int, default=0, metavar="US",
                        help="profile the loop thread: a sample every US microseconds of its CPU (e.g. 200)")
    parser.add_argument("--top", type=int, default=30, help="--sample: lines per table")
    parser.add_argument("--addresses", type=int, default=0,
                        help="lease4-update cycles over this many addresses (default: the /16 of bench/control.py)")
    args = parser.parse_args()
    tree = Path(args.tree).resolve()
    os.chdir(tree)
    sys.path[:0] = [str(tree), str(Path(__file__).resolve().parent)]
    import control  # bench/control.py: the same requests as the loopback benchmark
    if args.addresses:
        control.V4_HOSTS = args.addresses
    if args.renew:
        def renewal(command: str, index: int) -> bytes:
            slot = (index * control.V4_STRIDE) % control.V4_HOSTS
            return control.lease4_update(control.v4_address(index), f"02:00:{slot >> 8:02x}:{slot & 255:02x}:17:42",
                                         f"h{slot}.example.org")

        control.build_request = renewal
    if args.random_hw:
        import random
        draw = random.Random(1)
        control._hw = lambda index: "02:00:" + ":".join(f"{draw.randrange(256):02x}" for _ in range(4))
    import uvloop

    import app.store.repository as repository
    from app.api.protocol import ControlChannelProtocol
    from app.config import parse_config
    from app.main import build_app, build_runtime

    applied = [0.0, 0]  # seconds in the op's apply (its SQL), ops applied
    op_class = repository.UpdateLease if args.command == "lease4-update" else repository.BulkApply
    original_apply = op_class.apply

    def timed_apply(self: Any, conn: Any, dialect: str) -> Any:
        started = time.perf_counter()
        try:
            return original_apply(self, conn, dialect)
        finally:
            applied[0] += time.perf_counter() - started
            applied[1] += 1

    op_class.apply = timed_apply  # type: ignore[method-assign]
    synced = [0.0, 0]  # seconds in the WAL's fsync (the committer thread), fsyncs
    original_sync = repository._InlineWriter._sync_wal

    def timed_sync(self: Any) -> None:
        started = time.perf_counter()
        try:
            original_sync(self)
        finally:
            synced[0] += time.perf_counter() - started
            synced[1] += 1

    repository._InlineWriter._sync_wal = timed_sync  # type: ignore[method-assign]
    tmp = Path(tempfile.mkdtemp(prefix="ls-inprocess-"))
    database = {"type": "sqlite", "name": str(tmp / "leases.db")}
    config = parse_config({
        "LeaseSync": {"http-host": "127.0.0.1", "http-port": 1},
        "Dhcp4": {"lease-database": database, "valid-lifetime": 4000, "subnet4": [{"id": 1, "subnet": control.SUBNET4}]},
        "Dhcp6": {"lease-database": {**database, "name": str(tmp / "leases6.db")}, "valid-lifetime": 4000,
                  "subnet6": [{"id": 1, "subnet": control.SUBNET6}]},
    }, tmp / "leasesync.json")
    runtime = build_runtime(config)
    app = build_app(runtime)
    protocol_config = types.SimpleNamespace(app=app, limit_concurrency=None, timeout_keep_alive=30, root_path="")

    class Run:
        def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
            first = control.PREFILL if args.command == "lease4-update" else 0
            self.index, self.left, self.errors, self.active = first, args.requests, 0, args.conns
            self.done: asyncio.Future[None] = loop.create_future()
            self.server_state = types.SimpleNamespace(connections=set(), tasks=set(), total_requests=0,
                                                      default_headers=[])

        def next_request(self) -> bytes | None:
            if self.left <= 0:
                return None
            self.left -= 1
            self.index += 1
            return control.build_request(args.command, self.index)

        def finished(self) -> None:
            self.active -= 1
            if self.active == 0:
                self.done.set_result(None)

    class Connection:
        """A keep-alive client and the transport the protocol writes its answers to."""

        def __init__(self, run: Run, loop: asyncio.AbstractEventLoop) -> None:
            self.run, self.loop = run, loop
            self.protocol = ControlChannelProtocol(protocol_config, run.server_state, {}, _loop=loop)
            self.protocol.connection_made(self)  # type: ignore[arg-type]

        def send(self) -> None:
            request = self.run.next_request()
            if request is None:
                self.run.finished()
            else:
                self.loop.call_soon(self.protocol.data_received, request)

        # the transport side
        def write(self, data: bytes) -> None:
            if not control.answer_ok(data.partition(b"\r\n\r\n")[2]):
                self.run.errors += 1
            self.send()

        def is_closing(self) -> bool:
            return False

        def close(self) -> None:
            pass

        def get_extra_info(self, name: str, default: Any = None) -> Any:
            return {"peername": ("127.0.0.1", 40000), "sockname": ("127.0.0.1", 1)}.get(name, default)

        def pause_reading(self) -> None:
            pass

        def resume_reading(self) -> None:
            pass

    async def bench() -> None:
        await app.start()
        loop = asyncio.get_running_loop()
        store = runtime.families[4 if args.command == "lease4-update" else 6].store
        try:
            for round_number in range(args.rounds):
                run = Run(loop)
                connections = [Connection(run, loop) for _ in range(args.conns)]
                applied[:] = [0.0, 0]
                synced[:] = [0.0, 0]
                commits, ops = store.commits, store.committed_ops
                wall, cpu, thread = time.perf_counter(), time.process_time(), time.thread_time()
                if sampler is not None:
                    sampler.start()
                for connection in connections:
                    connection.send()
                await run.done
                if sampler is not None:
                    sampler.stop()
                wall, cpu, thread = time.perf_counter() - wall, time.process_time() - cpu, time.thread_time() - thread
                n = args.requests
                print(f"round {round_number}: {n / wall:8,.0f} req/s  loop thread {thread / n * 1e6:6.1f} us/req  "
                      f"process {cpu / n * 1e6:6.1f} us/req  SQL {applied[0] / max(applied[1], 1) * 1e6:5.1f} us/req  "
                      f"{(store.committed_ops - ops) / max(store.commits - commits, 1):4.1f} reqs/commit  "
                      f"fsync {synced[0] / max(synced[1], 1) * 1e3:4.2f} ms  "
                      f"errors {run.errors}")
        finally:
            await app.stop()
        if sampler is not None:
            sampler.report(args.top)

    sampler = ThreadCpuSampler(args.sample) if args.sample else None
    uvloop.run(bench())
    return 0


if __name__ == "__main__":
    sys.exit(main())
