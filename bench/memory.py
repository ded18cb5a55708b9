"""Memory of the serving processes through a day in their life, leasesync and Kea 2.2 side by side.

    python bench/memory.py [--targets sqlite,kea-ca,kea-ha] [--leases 50000] [--seconds 4]

Every target is one of bench/control.py's (``sqlite``, ``postgresql``, ``kea-ca``, ``kea-ha``;
``KIND+wN`` with HTTP front-end processes; ``KIND@TREE`` with ``--tree``) and goes through the
same phases, one target at a time:

1. **idle**: started, answered one ``version-get``;
2. **filled**: ``--leases`` leases created by ``lease4-update`` (force-create) from 16 connections;
3. **load**: ``lease4-update`` (the same addresses again: renewals-sized churn) and then
   ``lease4-get``, each from 32 connections for ``--seconds``;
4. **bulks**: ``lease6-bulk-apply`` of 50 leases from 8 connections for ``--seconds``;
5. **get-all**: one ``lease4-get-all`` of every lease (the largest answer an administrator can
   ask for), then the resident size after it.

Printed per phase: the resident set (VmRSS) summed over the target's processes; at the end the
peak (VmHWM, each process's own peak, summed: an upper bound of what was resident at once) and
the growth per 10,000 leases between idle and filled. Kea's memfile keeps its leases in memory
(and appends to a CSV file); leasesync keeps them in the SQL store, so its growth per lease is
its caches', not the leases'. Only figures of one run compare; RSS depends on the allocator's
history, so a second run differs by a few MiB.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import control  # noqa: E402 - bench/control.py: targets, load generator, request builders

PHASES = ("idle", "filled", "load", "bulks", "get-all")


def resident_kib(pids: list[int], field: str) -> int:
    """`field` (VmRSS, VmHWM) of /proc/PID/status, in KiB, summed over `pids` that still run."""
    total = 0
    for pid in pids:
        try:
            with open(f"/proc/{pid}/status") as status:
                for line in status:
                    if line.startswith(field + ":"):
                        total += int(line.split()[1])
        except FileNotFoundError:
            continue
    return total


def measure(target: control.Target, leases: int, seconds: float, procs: int) -> dict[str, float]:
    """The resident sizes (MiB) of `target` after each phase, its peak, and the get-all answer's size."""
    mib: dict[str, float] = {}

    def note(phase: str) -> None:
        time.sleep(0.5)  # let the last answers' buffers go before reading
        mib[phase] = resident_kib(target.pids, "VmRSS") / 1024
        print(f"  {target.name:12s} {phase:8s} {mib[phase]:8.1f} MiB", flush=True)

    def load(command: str, conns: int, start: int, *, count: int | None = None, host_port: tuple[str, int] | None = None) -> None:
        cell, _ = control.run_clients(*(host_port or target.v4), command, conns, procs, start,
                                      seconds=0.0 if count is not None else seconds, count=count)
        if cell.errors:
            raise RuntimeError(f"{target.name}: {command} failed: {cell.error_sample}")

    note("idle")
    load("lease4-update", 16, 0, count=leases)
    note("filled")
    load("lease4-update", 32, 0)
    load("lease4-get", 32, 0)
    note("load")
    load("lease6-bulk-apply", 8, 0, host_port=target.v6)
    note("bulks")
    status, answer = control.http_post(*target.v4, {"command": "lease4-get-all", "service": ["dhcp4"]}, timeout=300)
    parsed = json.loads(answer) if status == 200 else None
    first = parsed[0] if isinstance(parsed, list) and parsed else parsed
    if not isinstance(first, dict) or first.get("result") != 0 or len(first["arguments"]["leases"]) < leases:
        raise RuntimeError(f"{target.name}: lease4-get-all failed: {status} {answer[:300]!r}")
    mib["answer"] = len(answer) / 2**20
    del answer, parsed, first
    note("get-all")
    mib["peak"] = resident_kib(target.pids, "VmHWM") / 1024
    return mib


def render(results: dict[str, dict[str, float]]) -> str:
    lines = [
        "| target | processes | " + " | ".join(f"{p} MiB" for p in PHASES)
        + " | peak MiB | MiB per 10k leases | get-all answer MiB |",
        "|---|---:|" + "---:|" * (len(PHASES) + 3),
    ]
    for name, mib in results.items():
        growth = (mib["filled"] - mib["idle"]) / mib["leases"] * 10_000
        cells = " | ".join(f"{mib[p]:,.1f}" for p in PHASES)
        lines.append(f"| {control.title(name)} | {int(mib['processes'])} | {cells} | {mib['peak']:,.1f} | "
                     f"{growth:.2f} | {mib['answer']:.1f} |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--targets", type=control._csv, default=["sqlite", "kea-ca", "kea-ha"],
                        help="comma list of bench/control.py targets (default sqlite,kea-ca,kea-ha)")
    parser.add_argument("--leases", type=int, default=50_000,
                        help=f"leases to create (at most {control.V4_HOSTS:,}, the benchmark's /16; default 50,000)")
    parser.add_argument("--seconds", type=float, default=4.0, help="seconds of each load phase (default 4)")
    parser.add_argument("--client-procs", type=int, default=2, help="load generator processes (default 2)")
    parser.add_argument("--tree", action="append", default=[], metavar="NAME=PATH",
                        help="another leasesync source tree, as target sqlite@NAME")
    parser.add_argument("--markdown", help="also write the table to this file")
    args = parser.parse_args(argv)
    if not 0 < args.leases <= control.V4_HOSTS:
        parser.error(f"--leases must be between 1 and {control.V4_HOSTS}")
    for spec in args.tree:
        tree_name, _, tree_path = spec.partition("=")
        control.TREES[tree_name] = Path(tree_path).resolve()
    for name in args.targets:
        kind, _, tree = control.parse_target(name)
        if kind not in control.DEFAULT_TARGETS or (tree and tree not in control.TREES):
            parser.error(f"unknown target {name}")
    results: dict[str, dict[str, float]] = {}
    for name in args.targets:
        with contextlib.ExitStack() as stack:
            target = stack.enter_context(control.make_target(name))
            print(f"== {control.title(name)}", flush=True)
            results[name] = measure(target, args.leases, args.seconds, args.client_procs)
            results[name].update(processes=len(target.pids), leases=args.leases)
    table = render(results)
    print()
    print(table)
    if args.markdown:
        cmdline = "python bench/memory.py " + " ".join(sys.argv[1:] if argv is None else argv)
        Path(args.markdown).write_text(f"`{cmdline}`\n\n{table}\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
