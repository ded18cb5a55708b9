"""Replication lag: from a committed lease write at site A to its visibility at site B.

    python bench/replication.py                       # both backends, 200 samples each
    python bench/replication.py --samples 500 --backends postgresql --max-seconds 60

Backends, each a private pair of servers started and removed here (tests/replication_harness.py):

* ``postgresql``  two PostgreSQL 15 clusters, logical replication (publication of lease4/lease6
                  on A, subscription on B), fsync off (synchronous_commit stays on: the
                  walsender ships only flushed WAL, so "off" would add up to wal_writer_delay)
* ``mysql``       two MariaDB servers, binlog ROW replication of lease4/lease6,
                  innodb_flush_log_at_trx_commit=2

One sample: insert a lease at A in its own transaction (as kea-dhcp4 or leasesync's writer does),
then poll B for the address every ``--poll-ms`` until it is there. The lag is the time from A's
commit returning to the first successful read at B, so it includes up to one poll interval.
Samples are sequential (one write in flight). Everything is bounded: ``--timeout`` per sample (a
sample that times out counts as lost), ``--max-seconds`` per backend. Prints one table row per
backend.

* ``leasesync``   leasesync's own HTTP lease updates: a hot-standby pair of ``leasesync serve``
                  processes (send-lease-updates true), each on its own SQLite database
                  (synchronous FULL). One sample: an administrator's ``lease4-update``
                  (force-create, a new hostname) is sent to A while another thread polls B with
                  ``lease4-get`` every ``--poll-ms`` until B returns that hostname. The lag is from
                  *sending* the command to A (so it includes A's own commit, which the database
                  rows exclude) to the first read at B that shows it. A answers only after B
                  acknowledged the update, so the write is always at B when A acknowledges it;
                  the "ack ms" column is A's answer time.
"""

from __future__ import annotations

import argparse
import ipaddress
import statistics
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from app.config import parse_lease_database  # noqa: E402
from app.store import schema  # noqa: E402
from app.store.leases import Lease4, lease4_to_row  # noqa: E402
from app.store.repository import make_engine  # noqa: E402
from tests.replication_harness import replicated_pair, tools_missing  # noqa: E402


def _engine(lease_database: dict[str, Any]) -> Any:
    return make_engine(parse_lease_database(lease_database, "lease-database", Path("/")))


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))]


def measure(kind: str, samples: int, timeout: float, max_seconds: float, poll: float) -> dict[str, Any]:
    from sqlalchemy import insert, select

    lags: list[float] = []
    lost = 0
    with replicated_pair(kind) as (a, b, _replication):
        writer, reader = _engine(a.lease_database()), _engine(b.lease_database())
        try:
            dialect = writer.dialect.name
            table = schema.lease4
            base = int(ipaddress.IPv4Address("10.0.0.0"))
            stop_at = time.monotonic() + max_seconds
            with writer.connect() as wconn, reader.connect() as rconn:
                for i in range(samples):
                    if time.monotonic() > stop_at:
                        break
                    lease = Lease4(address=base + i, hwaddr=bytes([1, 2, 3, 4, i >> 8 & 255, i & 255]),
                                   client_id=None, valid_lft=4000, cltt=int(time.time()), subnet_id=1)
                    with wconn.begin():
                        wconn.execute(insert(table).values(lease4_to_row(lease, dialect)))
                    committed = time.perf_counter()
                    deadline = committed + timeout
                    query = select(table.c.address).where(table.c.address == lease.address)
                    while True:
                        seen = rconn.execute(query).first() is not None
                        rconn.rollback()  # end the read snapshot (MySQL REPEATABLE READ) before the next poll
                        if seen:
                            lags.append(time.perf_counter() - committed)
                            break
                        if time.perf_counter() > deadline:
                            lost += 1
                            break
                        time.sleep(poll)
        finally:
            writer.dispose()
            reader.dispose()
    return {"kind": kind, "samples": len(lags), "lost": lost, "lags": lags}


def measure_leasesync(samples: int, timeout: float, max_seconds: float, poll: float) -> dict[str, Any]:
    import tempfile
    import threading

    import httpx

    from tests.conftest import ServerProcess, make_database
    from tests.ha_helpers import ha_state, pair_configs

    lags: list[float] = []
    acks: list[float] = []
    lost = 0
    with tempfile.TemporaryDirectory(prefix="ls-bench-repl-") as tmp:
        workdir = Path(tmp)
        dbs = [make_database("sqlite", workdir)[0] for _ in range(2)]
        configs = pair_configs(dbs)  # hot-standby, send-lease-updates true (Kea's default)
        a, b = ServerProcess(configs[0], workdir, "server1"), ServerProcess(configs[1], workdir, "server2")
        try:
            a.start()
            b.start()
            deadline = time.monotonic() + 60
            while [ha_state(a), ha_state(b)] != ["hot-standby", "hot-standby"]:
                if time.monotonic() > deadline:
                    raise RuntimeError(f"the pair did not reach hot-standby: {ha_state(a)}/{ha_state(b)}")
                time.sleep(0.2)
            addresses = [f"192.0.2.{i}" for i in range(1, 255)] + [f"198.51.100.{i}" for i in range(1, 255)]
            stop_at = time.monotonic() + max_seconds
            with httpx.Client(timeout=10) as writer, httpx.Client(timeout=10) as reader:
                for i in range(samples):
                    if time.monotonic() > stop_at:
                        break
                    address, hostname = addresses[i % len(addresses)], f"sample-{i}.example.org"
                    seen: list[float] = []
                    started = time.perf_counter()
                    give_up = started + timeout

                    def poll_b(address: str = address, hostname: str = hostname, seen: list[float] = seen,
                               give_up: float = give_up) -> None:
                        body = {"command": "lease4-get", "service": ["dhcp4"], "arguments": {"ip-address": address}}
                        while time.perf_counter() < give_up:
                            answer = reader.post(b.url, json=body).json()[0]
                            if answer.get("result") == 0 and answer["arguments"].get("hostname") == hostname:
                                seen.append(time.perf_counter())
                                return
                            time.sleep(poll)

                    poller = threading.Thread(target=poll_b)
                    poller.start()
                    answer = writer.post(a.url, json={"command": "lease4-update", "service": ["dhcp4"], "arguments": {
                        "ip-address": address, "hw-address": "1a:1b:1c:1d:1e:1f", "hostname": hostname,
                        "force-create": True}}).json()[0]
                    acked = time.perf_counter()
                    poller.join()
                    if answer.get("result") != 0 or not seen:
                        lost += 1
                        continue
                    lags.append(seen[0] - started)
                    acks.append(acked - started)
        finally:
            a.stop()
            b.stop()
    return {"kind": "leasesync", "samples": len(lags), "lost": lost, "lags": lags, "acks": acks}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--backends", default="leasesync,postgresql,mysql")
    parser.add_argument("--samples", type=int, default=200)
    parser.add_argument("--timeout", type=float, default=5.0, help="seconds before a sample counts as lost")
    parser.add_argument("--max-seconds", type=float, default=60.0, help="time budget per backend")
    parser.add_argument("--poll-ms", type=float, default=1.0)
    args = parser.parse_args(argv)
    names = {"postgresql": "PostgreSQL logical", "mysql": "MariaDB binlog (ROW)",
             "leasesync": "leasesync HTTP updates"}
    rows = []
    for kind in [k.strip() for k in args.backends.split(",") if k.strip()]:
        if kind == "leasesync":
            rows.append(measure_leasesync(args.samples, args.timeout, args.max_seconds, args.poll_ms / 1000))
            continue
        missing = tools_missing(kind)
        if missing:
            print(f"{kind}: skipped ({missing})", file=sys.stderr)
            continue
        rows.append(measure(kind, args.samples, args.timeout, args.max_seconds, args.poll_ms / 1000))
    print(f"{'replication':<24} {'samples':>7} {'lost':>5} {'p50 ms':>8} {'p99 ms':>8} {'max ms':>8} {'mean ms':>8} "
          f"{'ack p50 ms':>10}")
    for row in rows:
        lags = [lag * 1000 for lag in row["lags"]]
        if not lags:
            print(f"{names[row['kind']]:<24} {0:>7} {row['lost']:>5}")
            continue
        ack = f"{_percentile([x * 1000 for x in row['acks']], 0.5):>10.2f}" if row.get("acks") else f"{'-':>10}"
        print(f"{names[row['kind']]:<24} {len(lags):>7} {row['lost']:>5} {_percentile(lags, 0.5):>8.2f} "
              f"{_percentile(lags, 0.99):>8.2f} {max(lags):>8.2f} {statistics.fmean(lags):>8.2f} {ack}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
