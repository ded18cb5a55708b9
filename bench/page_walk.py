"""lease6-get-page on a large table: milliseconds per page of `LeaseStore.page6` (what
lease6-get-page and a partner's HA sync walk run) and, for reference, `page4`, over N leases in
Kea's schema on each database, on a running store (no HTTP).

    python bench/page_walk.py [--db sqlite,postgresql,mysql] [--leases 100000] [--limit 100] [--pages 10]
    git archive HEAD~1 | tar -x -C /tmp/before && python bench/page_walk.py --tree /tmp/before

Kea keeps v6 addresses as text, whose order is not the addresses'; a page must still come in
address order (as Kea's memfile gives it). The leases are random addresses in one /44, so text
and value order disagree throughout. Each page starts after the last address of the one before,
from the middle of the table; the mean over `--pages` pages is printed. `--tree` runs another
source tree's store (`git archive REV | tar -x -C DIR`) for before/after comparisons.
"""

from __future__ import annotations

import argparse
import asyncio
import ipaddress
import random
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--tree", default=str(ROOT), help="source tree whose store runs")
    parser.add_argument("--db", default="sqlite,postgresql,mysql")
    parser.add_argument("--leases", type=int, default=100_000)
    parser.add_argument("--limit", type=int, default=100)
    parser.add_argument("--pages", type=int, default=10)
    args = parser.parse_args()
    sys.path.insert(0, str(Path(args.tree).resolve()))
    sys.path.insert(1, str(ROOT))  # the tests' database helpers come from this tree
    from app.store import schema
    from app.store.leases import Lease4, Lease6, lease4_to_row, lease6_to_row
    from app.store.repository import LeaseStore
    from tests.test_kea_schema import migrate
    from tests.test_migrations import create_database

    rnd = random.Random(1)
    v6_base = int(ipaddress.IPv6Address("2001:db8::"))
    offsets = rnd.sample(range(1, 2**20), args.leases)
    for kind in args.db.split(","):
        db, drop = create_database(kind, Path(tempfile.mkdtemp(prefix="page-walk-")))
        try:
            migrate(db)
            engine = db.engine()
            dialect = engine.dialect.name
            rows6 = [lease6_to_row(Lease6(address=str(ipaddress.IPv6Address(v6_base + o)), duid=b"\x01\x02\x03\x04",
                                          iaid=1, type=0, prefix_len=128, valid_lft=4000, preferred_lft=3000,
                                          cltt=1_700_000_000, subnet_id=1), dialect) for o in offsets]
            rows4 = [lease4_to_row(Lease4(0x0A000000 + o, b"\x01\x02\x03\x04\x05\x06", None, 4000, 1_700_000_000, 1),
                                   dialect) for o in offsets]
            with engine.begin() as conn:
                for i in range(0, args.leases, 5000):
                    conn.execute(schema.lease6.insert(), rows6[i:i + 5000])
                    conn.execute(schema.lease4.insert(), rows4[i:i + 5000])
            engine.dispose()
            store = LeaseStore(db.config)
            store.start()
            try:
                v6 = asyncio.run(_walk(store.page6, v6_base + 2**19, args.limit, args.pages, lambda x: x.address))
                v4 = asyncio.run(_walk(store.page4, 0x0A000000 + 2**19, args.limit, args.pages, lambda x: x.address))
            finally:
                store.close()
            print(f"{kind:10} {args.leases:,} leases, limit {args.limit}: page6 {v6 * 1000:8.1f} ms/page   "
                  f"page4 {v4 * 1000:6.1f} ms/page", flush=True)
        finally:
            drop()
    return 0


async def _walk(page: Any, after: int, limit: int, pages: int, address: Any) -> float:
    await page(after, limit)  # warm the connection and the server's caches
    started = time.perf_counter()
    for _ in range(pages):
        found = await page(after, limit)
        if not found:
            break
        after = int(ipaddress.ip_address(address(found[-1])))
    return (time.perf_counter() - started) / pages


if __name__ == "__main__":
    sys.exit(main())
