"""Profile a leasesync server under load with py-spy (pip install py-spy).

    python bench/profile_server.py --command lease4-update --conns 32 --seconds 8

Starts leasesync (SQLite by default) like bench/control.py does, drives it with the same load
generator, records it with `py-spy record --format raw --gil` (only the thread holding the GIL: where the
CPU of the one Python core goes), and prints the functions with the most samples, "self"
(the frame on top) and "total" (anywhere on the stack). `--wall` records every thread at every
sample instead (`--idle`), waiting or not: where a thread's time goes when the process is not
CPU-bound, e.g. PostgreSQL's writer thread waiting for its statements and commits.
"""

from __future__ import annotations

import argparse
import collections
import subprocess
import sys
import threading
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import control  # noqa: E402


def summarize(raw: Path, top: int, wall: bool = False) -> None:
    """Print the functions with most samples from py-spy's raw (collapsed stacks) output."""
    total: collections.Counter[str] = collections.Counter()
    self_time: collections.Counter[str] = collections.Counter()
    samples = 0
    for line in raw.read_text().splitlines():
        stack, _, count_text = line.rpartition(" ")
        count = int(count_text)
        frames = [f.rsplit(":", 1)[0] for f in stack.split(";")]  # drop line numbers
        samples += count
        for name in set(frames):
            total[name] += count
        if frames:
            self_time[frames[-1]] += count
    print(f"\n{samples} samples ({'every thread, waiting or not' if wall else 'GIL holder only'})")
    for title, counter in (("self", self_time), ("total", total)):
        print(f"-- {title}")
        for name, n in counter.most_common(top):
            print(f"{n / max(samples, 1):6.1%}  {name}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--target", default="sqlite", help="a bench/control.py target: sqlite, postgresql, sqlite+w1, ...")
    parser.add_argument("--process", type=int, default=0,
                        help="which server process to record: 0 the main one, 1.. its HTTP front-ends (default 0)")
    parser.add_argument("--command", default="lease4-update", choices=control.COMMANDS)
    parser.add_argument("--conns", type=int, default=32)
    parser.add_argument("--seconds", type=float, default=8.0)
    parser.add_argument("--rate", type=int, default=250, help="py-spy samples per second")
    parser.add_argument("--top", type=int, default=30)
    parser.add_argument("--out", default="/tmp/leasesync-profile.txt")
    parser.add_argument("--native", action="store_true", help="also C frames (py-spy --native)")
    parser.add_argument("--wall", action="store_true",
                        help="every thread at every sample, waiting or not (py-spy --idle instead of --gil): where "
                             "a thread's wall-clock time goes, e.g. the writer's wait for the database")
    args = parser.parse_args()
    with control.make_target(args.target) as target:
        if args.command == "lease4-get":
            control.prefill(target, 2)
        host, port = target.v6 if args.command.startswith("lease6") else target.v4
        cmd = ["py-spy", "record", "--pid", str(target.pids[args.process]), "--format", "raw", "--threads",
               "--idle" if args.wall else "--gil", "--rate", str(args.rate), "--duration", str(int(args.seconds)), "--output", args.out]
        if args.native:
            cmd.append("--native")
        spy = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        result: list[control.Cell] = []
        load = threading.Thread(target=lambda: result.append(control.run_clients(
            host, port, args.command, args.conns, 2, control.PREFILL, seconds=args.seconds, warmup=0.5,
            server_pids=target.pids)[0]))
        cpu0 = [control.proc_cpu([pid]) for pid in target.pids]
        load.start()
        spy.wait()
        load.join()
        print("CPU seconds per server process (main first):",
              ", ".join(f"{control.proc_cpu([pid]) - c:.1f}" for pid, c in zip(target.pids, cpu0, strict=True)))
        cell = result[0]
        print(f"{args.command} c={args.conns}: {cell.rps:.0f} req/s p50 {cell.p50:.2f} ms p99 {cell.p99:.2f} ms "
              f"errors {cell.errors} srv {cell.srv_cpu:.0%} (under py-spy)")
    summarize(Path(args.out), args.top, args.wall)
    return 0


if __name__ == "__main__":
    sys.exit(main())
