"""What PostgreSQL itself allows a lease writer on Kea's schema: bulks of new v6 leases (or single
v4 force-create upserts) committed with nothing but SQL, from 1..N connections at once, with Kea's
lease-statistics triggers as `kea-admin` / `leasesync db upgrade` create them and with them off.

    python bench/pg_ceiling.py                        # lease6 bulks of 50, 1 and 8 connections
    python bench/pg_ceiling.py --kind lease4 --rows 1 --conns 1,8,32

No HTTP, no JSON, no lease checks: each connection runs, in a loop, one transaction holding one
`INSERT .. SELECT * FROM unnest(..) ON CONFLICT (address) DO UPDATE` of `--rows` new leases (the
statement and row encoding of leasesync's store, arrays in binary) and a durable COMMIT. The database is a new
one, upgraded by `leasesync db upgrade` and dropped at the end. Kea's triggers keep one
lease*_stat row per (subnet, type, state) and take that row's lock until COMMIT, so concurrent
writers of one subnet queue behind each other's commits: more connections do not add throughput
the way they do with the triggers off. Whatever leasesync does, its rate on PostgreSQL is
bounded by this one. Needs PostgreSQL at 127.0.0.1:5432 (user postgres, trust).
"""

from __future__ import annotations

import argparse
import ipaddress
import itertools
import json
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path

import psycopg
from sqlalchemy.dialects import postgresql

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from app.store.leases import Lease4, Lease6, lease4_to_row, lease6_to_row  # noqa: E402
from app.store.repository import _unnest_upsert  # noqa: E402

V6_BASE = int(ipaddress.IPv6Address("2001:db8:1::"))


def _statement(kind: str) -> tuple[str, list[str]]:
    """The store's own many-row upsert of `kind` (app/store/repository.py) and its row keys."""
    return _unnest_upsert(postgresql.dialect(), 6 if kind == "lease6" else 4)


def _params(kind: str, keys: list[str], first: int, rows: int) -> list[list[object]]:
    """One array per column, of `rows` leases encoded as the store encodes them."""
    now = int(time.time())
    n = range(first, first + rows)
    if kind == "lease6":
        encoded = [lease6_to_row(Lease6(address=str(ipaddress.IPv6Address(V6_BASE + 1 + i)),
                                        duid=b"\x00\x03\x00\x01" + i.to_bytes(6, "big"), iaid=i & 0x7FFFFFFF,
                                        type=0, prefix_len=128, valid_lft=3600, preferred_lft=1800, cltt=now,
                                        subnet_id=1), "postgresql") for i in n]
    else:
        encoded = [lease4_to_row(Lease4(address=0xC0000200 + (i % 250), hwaddr=i.to_bytes(6, "big"), client_id=None,
                                        valid_lft=3600, cltt=now, subnet_id=1, hostname=f"h{i}.example.org"),
                                 "postgresql") for i in n]
    return [[row[key] for row in encoded] for key in keys]


def measure(dsn: str, kind: str, rows: int, conns: int, seconds: float) -> float:
    """Transactions per second over `conns` connections for `seconds`."""
    sql, keys = _statement(kind)
    counter = itertools.count()
    done = [0] * conns
    stop = time.monotonic() + seconds

    def worker(slot: int) -> None:
        with psycopg.connect(dsn) as conn:
            while time.monotonic() < stop:
                # lease6: a new range of addresses per bulk (inserts); lease4: 250 addresses in turn
                conn.execute(sql, _params(kind, keys, next(counter) * rows, rows))
                conn.commit()
                done[slot] += 1

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(conns)]
    started = time.monotonic()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return sum(done) / (time.monotonic() - started)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--kind", choices=("lease6", "lease4"), default="lease6")
    parser.add_argument("--rows", type=int, default=50, help="leases per transaction (default 50)")
    parser.add_argument("--conns", default="1,8", help="connection counts, comma-separated")
    parser.add_argument("--seconds", type=float, default=4.0)
    args = parser.parse_args()
    name = f"ls_ceiling_{uuid.uuid4().hex[:8]}"
    admin = psycopg.connect("host=127.0.0.1 user=postgres dbname=postgres", autocommit=True)
    admin.execute(f'CREATE DATABASE "{name}"')
    try:
        db = {"type": "postgresql", "name": name, "host": "127.0.0.1", "user": "postgres"}
        with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as config:
            json.dump({"Dhcp4": {"lease-database": db}, "Dhcp6": {"lease-database": db}}, config)
        subprocess.run([sys.executable, "-m", "app.cli", "db", "upgrade", "-c", config.name], cwd=ROOT, check=True,
                       stdout=subprocess.DEVNULL)
        dsn = f"host=127.0.0.1 user=postgres dbname={name}"
        table = args.kind
        print(f"| {table} rows per commit | conns | Kea's triggers | commits/s | rows/s |")
        print("|---:|---:|---|---:|---:|")
        with psycopg.connect(dsn, autocommit=True) as conn:
            for triggers in ("on", "off"):
                conn.execute(f"ALTER TABLE {table} {'ENABLE' if triggers == 'on' else 'DISABLE'} TRIGGER USER")
                for conns in (int(c) for c in args.conns.split(",")):
                    rate = measure(dsn, args.kind, args.rows, conns, args.seconds)
                    print(f"| {args.rows} | {conns} | {triggers} | {rate:,.0f} | {rate * args.rows:,.0f} |", flush=True)
            conn.execute(f"ALTER TABLE {table} ENABLE TRIGGER USER")
        Path(config.name).unlink()
    finally:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.close()


if __name__ == "__main__":
    main()
