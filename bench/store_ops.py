"""The store's write ops alone: microseconds per `apply` of AddLease, UpdateLease (force-create,
over an existing lease), ReclaimExpired (per lease reclaimed) and DeleteLease, v4, on an in-memory
SQLite table in Kea's schema, inside one transaction (no commit, no fsync, no HTTP): what each op's
SQL path costs in Python and SQLite. Then a lookup by hardware address (`LeaseStore.get4_by`,
what lease4-get-by-hw-address runs) on a running store over a SQLite file of 200 leases.

    python bench/store_ops.py [--tree PATH] [--leases 3000] [--rounds 3]

`--tree` runs another source tree (`git archive REV | tar -x -C /tmp/before`) for before/after
comparisons. The best of the rounds is printed.
"""

from __future__ import annotations

import argparse
import asyncio
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Any


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--tree", default=str(Path(__file__).resolve().parent.parent), help="source tree to run")
    parser.add_argument("--leases", type=int, default=3000)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    sys.path.insert(0, str(Path(args.tree).resolve()))
    from sqlalchemy import create_engine

    from app.store import schema
    from app.store.leases import Lease4
    from app.store.repository import AddLease, DeleteLease, ReclaimExpired, UpdateLease

    def lease(i: int, hostname: str = "") -> Any:
        return Lease4(0x0A000000 + i, b"\x01\x02\x03\x04\x05\x06", None, 3600, 1_700_000_000, 1, hostname=hostname)

    # in this order on one table: each op finds the leases the one before left
    steps: list[tuple[str, Any]] = [
        ("AddLease", lambda n: [AddLease(lease(i)) for i in range(n)]),
        ("UpdateLease force-create", lambda n: [UpdateLease(lease(i, "h"), force_create=True) for i in range(n)]),
        # one op that reclaims every lease (all expired by then), timed per lease
        ("ReclaimExpired, per lease", lambda n: [ReclaimExpired(4, now=2_000_000_000, remove=False)]),
        ("DeleteLease", lambda n: [DeleteLease(4, 0x0A000000 + i) for i in range(n)]),
    ]
    best = {name: float("inf") for name, _ in steps}
    for _ in range(args.rounds):
        engine = create_engine("sqlite://")
        schema.metadata.create_all(engine)
        with engine.begin() as conn:
            for name, make in steps:
                batch = make(args.leases)
                started = time.perf_counter()
                for op in batch:
                    op.apply(conn, "sqlite")
                best[name] = min(best[name], (time.perf_counter() - started) / args.leases)
        engine.dispose()
    for name, seconds in best.items():
        print(f"{name:28} {seconds * 1e6:7.1f} us per apply")
    print(f"{'get4_by hw-address':28} {asyncio.run(_lookups(args.rounds)) * 1e6:7.1f} us per lookup")
    return 0


async def _lookups(rounds: int) -> float:
    from app.config import parse_config
    from app.main import build_runtime
    from app.store.leases import Lease4
    from app.store.repository import AddLease

    tmp = Path(tempfile.mkdtemp(prefix="ls-store-ops-"))
    config = parse_config({"LeaseSync": {}, "Dhcp4": {
        "lease-database": {"type": "sqlite", "name": str(tmp / "leases.db")},
        "subnet4": [{"id": 1, "subnet": "10.0.0.0/16"}]}}, tmp / "leasesync.json")
    store = build_runtime(config).families[4].store
    store.start()
    try:
        for i in range(200):
            await store.write(AddLease(Lease4(0x0A000000 + i, bytes([1, 2, 3, 4, 5, i]), None, 3600, 1_700_000_000, 1)))
        best = float("inf")
        for _ in range(rounds):
            started = time.perf_counter()
            for i in range(2000):
                assert len(await store.get4_by("hwaddr", bytes([1, 2, 3, 4, 5, i % 200]), 1)) == 1
            best = min(best, (time.perf_counter() - started) / 2000)
        return best
    finally:
        store.close()
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
