"""What `capture-changes` costs the local Kea: its DHCP rate on the shared database, capture off and on.

    python bench/capture_cost.py                                  # PostgreSQL and MariaDB, 10 s x 2 rounds
    python bench/capture_cost.py --db postgresql --kea-threads 4 --notify-every

The deployment of README "Local change capture": kea-dhcp4 writes its leases straight into the
database leasesync shares. With capture on, each lease Kea writes also fires leasesync's trigger:
an INSERT into `ls_lease_changes` and, on PostgreSQL, a `NOTIFY` (whose commit PostgreSQL
serialises across sessions); and leasesync's drain reads and deletes those rows beside Kea. This
measures what that costs Kea, side by side in one run.

For each database kind: one database, a leasesync on it (no HA hook: its capture drains the queue
and hands the changes to nobody), and kea-dhcp4 on it (no HA hook either) in a private network
namespace (tests/netns.py; needs root, Kea 2.2 and perfdhcp). Each round measures both conditions,
off then on in odd rounds and on then off in even ones: leasesync is restarted with
`capture-changes` false or true (which removes or installs the triggers), the lease table is
emptied, and perfdhcp, as a relay, offers `--rate` DORA/s from `--clients` clients for
`--seconds`. Printed: perfdhcp's achieved exchanges/s per condition (median of the rounds, with
the rounds' range) and its ratio to capture off. `--notify-every` adds, on PostgreSQL, capture
with the triggers leasesync had before session 35, which sent a NOTIFY from every change. Kea's own rate on these databases is bound by its SQL (and the
statistics triggers of its schema), so offer more than it can do.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

from sqlalchemy import text

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from app.config import parse_lease_database  # noqa: E402
from app.store.repository import make_engine  # noqa: E402
from bench.capture_soak import SiteKea, kea_database  # noqa: E402
from bench.kea_soak import RELAY, leasesync_config, socket_host  # noqa: E402
from bench.soak import Databases, wait_until  # noqa: E402
from tests.conftest import ServerProcess, free_port  # noqa: E402
from tests.ha_helpers import metric  # noqa: E402
from tests.kea_harness import kea_available  # noqa: E402
from tests.netns import Namespace, netns_unavailable  # noqa: E402


def perfdhcp_rate(rate: int, clients: int, seconds: float) -> float:
    """4-way exchanges/s that perfdhcp completed against the namespace's kea-dhcp4."""
    argv = ["perfdhcp", "-4", "-l", RELAY, "-L", "67", "-o", "82,1300", "-r", str(rate), "-R", str(clients),
            "-p", str(int(seconds)), "127.0.0.1"]
    done = subprocess.run(argv, capture_output=True, text=True, timeout=seconds + 60)
    line = next((line for line in done.stdout.splitlines() if line.startswith("Rate:")), None)
    if line is None:
        raise SystemExit(f"perfdhcp printed no rate: {done.stdout[-2000:]} {done.stderr[-2000:]}")
    return float(line.split()[1])


def measure(args: argparse.Namespace, kind: str, shared: dict[str, Any], workdir: Path) -> dict[str, list[float]]:
    """perfdhcp's rate per round, capture off and on, on the new database `shared` of `kind`."""
    port = free_port()
    engine = make_engine(parse_lease_database(shared, "lease-database", workdir))
    conditions = ["off", "on"] + (["every"] if args.notify_every and kind == "postgresql" else [])
    rates: dict[str, list[float]] = {condition: [] for condition in conditions}
    kea = SiteKea(kea_database(shared), threads=args.kea_threads)
    leasesync: ServerProcess | None = None

    def restart_leasesync(capture: bool) -> ServerProcess:
        nonlocal leasesync
        if leasesync is not None:
            leasesync.stop()
        leasesync = ServerProcess(leasesync_config({**shared, "capture-changes": capture}, port, {}), workdir,
                                  f"leasesync-{kind}")
        leasesync.start()
        return leasesync

    try:
        restart_leasesync(False)  # the lease schema, before Kea opens the database
        kea.start()
        for round_ in range(args.rounds):
            for condition in (conditions if round_ % 2 == 0 else conditions[::-1]):
                restart_leasesync(False)
                with engine.begin() as conn:  # not captured: the triggers are gone
                    conn.execute(text("DELETE FROM lease4"))
                    conn.execute(text("DELETE FROM ls_lease_changes"))
                if condition != "off":
                    restart_leasesync(True)
                if condition == "every":
                    notify_every_change(engine)
                rate = perfdhcp_rate(args.rate, args.clients, args.seconds)
                rates[condition].append(rate)
                drained = condition == "off" or wait_until(lambda: drained_all(leasesync, engine), 60)
                print(f"{kind:10} round {round_ + 1} capture {condition:3}: {rate:8.1f} exchanges/s"
                      + ("" if drained else " (the change queue did not drain within 60 s)"), flush=True)
    finally:
        if leasesync is not None:
            leasesync.stop()
        kea.stop()
        engine.dispose()
    return rates


def notify_every_change(engine: Any) -> None:
    """Make the installed PostgreSQL capture triggers NOTIFY on every change, as leasesync's did
    before session 35, to compare with in the same run."""
    with engine.begin() as conn:
        functions = conn.execute(text("SELECT pg_get_functiondef(oid) FROM pg_proc "
                                      "WHERE proname LIKE 'ls_capture_lease%'")).scalars().all()
        for definition in functions:
            assert "IF NOT queued THEN" in definition, definition
            conn.exec_driver_sql(definition.replace("IF NOT queued THEN", "IF true THEN"))


def drained_all(leasesync: ServerProcess | None, engine: Any) -> bool:
    """leasesync has captured changes, and none is left in the queue."""
    with engine.connect() as conn:
        queued = int(conn.execute(text("SELECT count(*) FROM ls_lease_changes")).scalar_one())
    return leasesync is not None and metric(leasesync, "leasesync_capture_changes_total") > 0 and queued == 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--db", default="postgresql,mysql", help="database kinds, comma-separated")
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--rate", type=int, default=4000, help="DORA/s perfdhcp offers (more than Kea can do)")
    parser.add_argument("--clients", type=int, default=60000, help="perfdhcp's clients (the pool holds 65,536)")
    parser.add_argument("--notify-every", action="store_true", help="PostgreSQL: also measure capture with a "
                        "NOTIFY from every change (leasesync's triggers before session 35)")
    parser.add_argument("--kea-threads", type=int, default=0, help="Kea's multi-threading thread-pool-size "
                        "(0: single-threaded, as Kea 2.2's default)")
    args = parser.parse_args()
    kinds = [k for k in args.db.split(",") if k]
    if any(k not in ("postgresql", "mysql") for k in kinds):
        parser.error("--db takes postgresql and/or mysql")
    for reason in (kea_available(), netns_unavailable()):
        if reason:
            sys.exit(f"bench/capture_cost.py: {reason}")
    workdir = Path(tempfile.mkdtemp(prefix="leasesync-capture-cost-"))
    results: dict[str, dict[str, list[float]]] = {}
    databases = {kind: Databases(kind, workdir) for kind in kinds}  # created from outside the namespace
    shared = {kind: socket_host(databases[kind].new("capture-cost")) for kind in kinds}
    try:
        with Namespace(addresses=[f"{RELAY}/8"]) as ns, ns.entered():
            for kind in kinds:
                results[kind] = measure(args, kind, shared[kind], workdir)
    finally:
        for each in databases.values():
            each.drop()
    threads = f"{args.kea_threads} threads" if args.kea_threads else "single-threaded"
    print(f"\nkea-dhcp4 ({threads}), perfdhcp offering {args.rate} DORA/s for {args.seconds:g} s, "
          f"{args.rounds} rounds (median, range)")
    print("| database | capture | exchanges/s | × off |")
    print("|---|---|---|---|")
    for kind, rates in results.items():
        off = statistics.median(rates["off"])
        for condition, each in rates.items():
            median = statistics.median(each)
            label = {"off": "off", "on": "on", "every": "on, NOTIFY from every change"}[condition]
            print(f"| {kind} | {label} | {median:,.0f} ({min(each):,.0f}-{max(each):,.0f}) | {median / off:.2f}× |")
    print(f"logs: {workdir}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
