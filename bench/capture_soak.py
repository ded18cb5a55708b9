"""Soak of a site whose Kea writes straight into the database leasesync shares (`capture-changes`).

    python bench/capture_soak.py                      # 60 s, PostgreSQL
    python bench/capture_soak.py --db mysql --seconds 120 --rate 150
    python bench/capture_soak.py --family 6            # kea-dhcp6 on a veth pair, perfdhcp -6
    python bench/capture_soak.py --pgbouncer           # leasesync through pgbouncer, transaction mode

The deployment shape of README "Local change capture": at the site, kea-dhcp4 (no HA hook) and
leasesync `site` share one lease database, with `"capture-changes": true` in leasesync's
`lease-database`; `site` is the hot-standby primary of a second leasesync, `partner`, on a database
of its own (the same kind). Kea's lease writes reach `site` only through the capture triggers and
`ls_lease_changes`; `site` sends each to `partner` as a lease update. Everything runs in a private
network namespace (tests/netns.py; needs root, Kea 2.2 and perfdhcp); the databases are reached
over their unix sockets. With `--pgbouncer`, `site` reaches the shared PostgreSQL database through a
private pgbouncer in transaction mode (4 server connections; Kea directly): its capture cannot
`LISTEN` there and polls, and it marks each of its writer transactions rather than its session.

Two loads run at once for `--seconds`:

* perfdhcp, as a relay, asks Kea for leases at `--rate` DORA/s from `--clients` clients (the same
  clients come back and renew): every lease Kea hands out or renews is a captured change;
* `--writers` administrator threads send `lease4-update` (`lease6-update` with `--family 6`) to
  `site` (to `partner` while `site` refuses connections), as bench/soak.py's writer does;
  leasesync's own writes must not be captured (they would be sent twice).

Every `--chaos-every` seconds `site` and `partner` take turns at being SIGKILLed (restarted after
`--down` seconds) or SIGSTOPped (SIGCONT after `--down` seconds), and at `--kea-kill-at` of the run
kea-dhcp4 is SIGKILLed once and restarted. While `site` is down Kea goes on writing and the
triggers queue its changes durably; a kill longer than max-response-delay (3 s) sends the other
server to partner-down, and the returning one syncs from it.

After the load stops, both servers must be back in hot-standby with no HA backlog and the change
queue drained (bounded by `--settle`); `site`'s leases (the shared database: what Kea wrote, and the
administrators) must equal `partner`'s field for field, and every acknowledged administrator write
must be on both with its acknowledged fields. Exits 1 otherwise.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path
from typing import Any

from sqlalchemy import text
from sqlalchemy.engine import Engine

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import bench.kea_soak as kea_soak  # noqa: E402
import bench.soak as soak  # noqa: E402
from app.config import parse_lease_database  # noqa: E402
from app.store.repository import make_engine  # noqa: E402
from bench.kea_soak import (  # noqa: E402
    RELAY,
    SUBNET4,
    SUBNET6,
    Load,
    RunClock,
    add_load_arguments,
    dhcp_where,
    difference,
    ha_lib,
    leasesync_config,
    socket_host,
)
from bench.soak import Databases, check_leases, kill_or_pause, wait_until  # noqa: E402
from tests.conftest import ServerProcess, free_port  # noqa: E402
from tests.ha_helpers import dump, ha_state, metric  # noqa: E402
from tests.kea_harness import KeaServer, kea_available  # noqa: E402
from tests.netns import Namespace, netns_unavailable  # noqa: E402
from tests.private_db import Pgbouncer  # noqa: E402

NORMAL = "hot-standby"
FAMILY = 4  # set by --family
POOL_PREFIX = {4: "10.100.", 6: "2001:db8:ff::"}  # the DHCP pools' addresses (bench/kea_soak.py)


class SiteKea(kea_soak.Kea):
    """kea-dhcp4 (or kea-dhcp6) on the shared lease database, no HA hook: it answers every client.
    Killed and stopped as bench/kea_soak.py's Kea is."""

    def __init__(self, database: dict[str, Any], threads: int = 0) -> None:
        self.database = database
        self.threads = threads  # Kea's thread-pool-size; 0: single-threaded
        self.server: KeaServer | None = None

    def start(self) -> None:
        threading_ = ({"enable-multi-threading": True, "thread-pool-size": self.threads, "packet-queue-size": 64}
                      if self.threads else {"enable-multi-threading": False})
        self.server = KeaServer(FAMILY, SUBNET4 if FAMILY == 4 else SUBNET6, valid_lifetime=36000,
                                lease_database=self.database, name="site-kea", start_agent=False,
                                extra_config={"multi-threading": threading_}, **dhcp_where()).start()


def kea_database(database: dict[str, Any]) -> dict[str, Any]:
    """The shared database as Kea's `lease-database` (leasesync's own keys left out): Kea's MySQL
    client finds the server's socket by itself through `localhost`."""
    kea = {k: v for k, v in database.items() if k in ("type", "name", "host", "user", "password")}
    if kea["type"] == "mysql":
        kea["host"] = "localhost"
    return kea


def queued_changes(engine: Engine) -> int:
    """Rows still in the shared database's change queue."""
    with engine.connect() as conn:
        return int(conn.execute(text("SELECT count(*) FROM ls_lease_changes")).scalar_one())


def run(args: argparse.Namespace, workdir: Path, databases: Databases, shared: dict[str, Any],
        own: dict[str, Any], bouncer: Pgbouncer | None) -> int:
    site_port, partner_port = free_port(), free_port()
    peers = [{"name": "site", "url": f"http://127.0.0.1:{site_port}/", "role": "primary"},
             {"name": "partner", "url": f"http://127.0.0.1:{partner_port}/", "role": "standby"}]

    def config(database: dict[str, Any], this: str, port: int) -> dict[str, Any]:
        return leasesync_config(database, port, {"valid-lifetime": 36000,
                                                 "hooks-libraries": [ha_lib(this, peers, NORMAL)]})

    site_db = {**shared, "capture-changes": True}
    if bouncer is not None:
        site_db.update(host="127.0.0.1", port=bouncer.port)
    site = ServerProcess(config(site_db, "site", site_port), workdir, "site")
    partner = ServerProcess(config(own, "partner", partner_port), workdir, "partner")
    kea = SiteKea(kea_database(shared))
    queue = make_engine(parse_lease_database(shared, "lease-database", workdir))  # what counts the queue
    clock = RunClock()
    note, sleep_until = clock.note, clock.sleep_until
    load = Load(args, clock)
    stats = load.stats
    result: dict[str, Any] = {}
    service = f"dhcp{FAMILY}"

    def states() -> str:
        return f"{ha_state(site, service)}/{ha_state(partner, service)}"

    try:
        site.start()  # migrates the shared database (and installs the triggers) before Kea opens it
        partner.start()
        kea.start()
        if not wait_until(lambda: ha_state(site, service) == ha_state(partner, service) == NORMAL, 60):
            raise SystemExit(f"the pair did not reach {NORMAL}: {states()}")
        load.start([site.url, partner.url], ("site", "partner"))
        kea_kill = args.seconds * args.kea_kill_at if args.kea_kill_at > 0 else None
        at, n = args.chaos_every, 0
        while at + args.down < args.seconds:
            if kea_kill is not None and at + args.down > kea_kill:
                sleep_until(max(kea_kill, at - args.chaos_every + args.down + 1))
                kill_or_pause(kea, "kea-dhcp4", 0, clock.now() + args.down, sleep_until, note, states)
                kea_kill = None
                at = max(at, clock.now() + args.chaos_every / 2)
                continue
            sleep_until(at)
            # site, partner, site, partner, ...; each of them killed, then paused, in turn
            target, name = (site, "site") if n % 2 == 0 else (partner, "partner")
            kill_or_pause(target, f"leasesync {name}", n // 2, at + args.down, sleep_until, note, states)
            n += 1
            at += args.chaos_every
        sleep_until(args.seconds)
        load.finish()

        def settled() -> bool:
            return (ha_state(site, service) == ha_state(partner, service) == NORMAL
                    and metric(site, "leasesync_ha_backlog_depth") == 0
                    and metric(partner, "leasesync_ha_backlog_depth") == 0 and queued_changes(queue) == 0)

        result["settled"] = wait_until(settled, args.settle)
        note(f"pair {'settled' if result['settled'] else 'NOT settled'}: states {states()}, "
             f"{queued_changes(queue)} captured changes queued")
        # the last delivery may still be in flight: a bounded moment to agree
        result["equal"] = wait_until(lambda: dump(site, FAMILY, timeout=60) == dump(partner, FAMILY, timeout=60), 20)
        site_now, partner_now = dump(site, FAMILY, timeout=60), dump(partner, FAMILY, timeout=60)
        result["sizes"] = (len(site_now), len(partner_now))
        result["kea_leases"] = sum(lease["ip-address"].startswith(POOL_PREFIX[FAMILY]) for lease in partner_now)
        result["only"], result["different"], result["examples"] = difference(site_now, partner_now, clock.started_wall,
                                                                             ("site", "partner"))
        result["site"] = check_leases(site_now, load.histories, "site")
        result["partner"] = check_leases(partner_now, load.histories, "partner")
    finally:
        load.stop.set()
        site.stop()
        partner.stop()
        kea.stop()
        queue.dispose()
        databases.drop()
    print(f"perfdhcp            : {load.perfdhcp_rate()}")
    print(f"admin writes        : {stats.acked} acknowledged, {stats.rejected} rejected, "
          f"{stats.unanswered} unanswered (a server paused, or both down)")
    print(f"lost writes         : site {result['site'][0]}, partner {result['partner'][0]}")
    print(f"wrong fields        : site {result['site'][1]}, partner {result['partner'][1]} (same-second cltt ties "
          f"{result['site'][2]}, {result['partner'][2]})")
    print(f"pair settled        : {'yes' if result['settled'] else 'NO'} ({NORMAL}, backlogs 0, change queue 0)")
    print(f"store equality      : {'equal' if result['equal'] else 'DIFFERENT'} ({result['sizes'][0]} leases at the "
          f"site, {result['sizes'][1]} on the partner; {result['only']} on one side only, "
          f"{result['different']} differ)")
    print(f"Kea's leases        : {result['kea_leases']} of the partner's are in Kea's pool "
          f"({POOL_PREFIX[FAMILY]}...): they reached it only through the capture")
    for example in result["examples"]:
        print(f"  {example}")
    print(f"logs                : {workdir}")
    failed = (result["site"][0] or result["partner"][0] or result["site"][1] or result["partner"][1]
              or not result["settled"] or not result["equal"])
    return 1 if failed else 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    add_load_arguments(parser)
    parser.add_argument("--db", choices=("postgresql", "mysql"), default="postgresql")
    parser.add_argument("--pgbouncer", action="store_true", help="site reaches PostgreSQL through pgbouncer in "
                        "transaction mode")
    args = parser.parse_args()
    if args.pgbouncer and args.db != "postgresql":
        parser.error("--pgbouncer is for --db postgresql")
    global FAMILY
    FAMILY = kea_soak.FAMILY = args.family  # kea_soak's perfdhcp reads its own
    soak.FAMILY = soak.Family(args.family)  # the writers' addresses, identifiers and commands
    for reason in (kea_available(), netns_unavailable()):
        if reason:
            sys.exit(f"bench/capture_soak.py: {reason}")
    workdir = Path(tempfile.mkdtemp(prefix="leasesync-capture-soak-"))
    databases = Databases(args.db, workdir)  # created from outside the namespace
    shared, own = socket_host(databases.new("site")), socket_host(databases.new("partner"))
    veth = ("v6a", "v6b") if FAMILY == 6 else None
    with Namespace(addresses=[f"{RELAY}/8"], veth=veth) as ns, ns.entered():
        bouncer = Pgbouncer("transaction", pool_size=4, server_host=shared["host"]) if args.pgbouncer else None
        try:
            return run(args, workdir, databases, shared, own, bouncer)
        finally:
            if bouncer is not None:
                bouncer.destroy()


if __name__ == "__main__":
    sys.exit(main())
