"""Soak with a real Kea 2.2 as leasesync's HA partner: DHCP load, crashes, pauses, then a full check.

    python bench/kea_soak.py                      # 60 s, Kea primary + leasesync standby, SQLite
    python bench/kea_soak.py --seconds 120 --db postgresql --rate 150
    python bench/kea_soak.py --leasesync-primary  # leasesync primary, Kea standby
    python bench/kea_soak.py --mode load-balancing  # Kea primary, leasesync secondary
    python bench/kea_soak.py --family 6           # kea-dhcp6 and IPv6 leases
    python bench/kea_soak.py --kea-threads 4      # Kea multi-threaded (HA+MT, dedicated listener)

Everything runs in a private network namespace (tests/netns.py; needs root, Kea 2.2 and
perfdhcp). A kea-dhcp4 (memfile with `persist: true` in the run's directory, so a restarted Kea
keeps its leases, as Kea ships; single-threaded; its control agent in front) and a
`leasesync serve` (SQLite durable by default, `--db postgresql|mysql` for a new database of
its own) form a hot-standby pair (or `--mode load-balancing`) with `send-lease-updates` on, Kea-like timing (heartbeats every
second, partner-down 3 s after the last contact).

Two loads run at once for `--seconds`:

* perfdhcp, as a relay, asks Kea for leases at `--rate` DORA/s from `--clients` clients (fewer
  clients than exchanges: the same clients come back and renew), so Kea sends leasesync a
  `lease4-update` for each lease it hands out or renews;
* `--writers` administrator threads send `lease4-update` (force-create, no `expire`) to
  leasesync, which commits each and sends it to Kea (bench/soak.py's writer: its own
  addresses 10.<n>.x.y outside the DHCP pool, rewrites of acknowledged ones, every attempt kept).

Every `--chaos-every` seconds leasesync is alternately SIGKILLed (restarted after `--down`
seconds) and SIGSTOPped (SIGCONT after `--down` seconds); at `--kea-kill-at` of the run Kea
(kea-dhcp4 and its agent) is SIGKILLed once and restarted on its lease file after `--down`
seconds, and at `--kea-pause-at` SIGSTOPped once for `--down` seconds. A kill longer than
max-response-delay (3 s) sends the survivor to partner-down, and the returning server syncs from
it; a pause tests what Kea's and leasesync's clients must ride out.

With `--leasesync-primary` Kea is the standby and, as a hot-standby standby does, answers DHCP
only while leasesync is down (partner-down): the lease updates then go mostly from leasesync to Kea.
`--mode load-balancing` makes the pair a load-balancing one (primary and secondary): Kea answers
the clients of its own scope, and all of them while leasesync is down.

After the load stops, both servers must be back in their normal state with leasesync's backlog drained
(bounded by `--settle`), the two lease stores must be equal field for field (Kea's
`lease4-get-all` over its control socket against leasesync's), and every acknowledged
administrator write must be on both with its acknowledged fields. Exits 1 otherwise.

Kea's own limit: while leasesync is paused, Kea (primary) parks each DHCP query until leasesync
answers its lease update; beyond its `parked-packet-limit` (256) it drops the query after the
lease was committed and never sends that lease, which then stays on Kea only. A pause longer than
about 256 / --rate seconds shows that (the run prints Kea's dropped queries and the one-sided
leases by second); `--parked-packet-limit 0` lifts the limit to see leasesync's own faults only.
"""

from __future__ import annotations

import argparse
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import bench.soak as soak  # noqa: E402
from bench.soak import Databases, Stats, check_leases, kill_or_pause, wait_until, writer  # noqa: E402
from tests.conftest import ServerProcess, database_socket, free_port, service_config  # noqa: E402
from tests.ha_helpers import dump, ha_state, metric  # noqa: E402
from tests.kea_harness import HA_HOOK, KeaServer, kea_available  # noqa: E402
from tests.netns import Namespace, netns_unavailable  # noqa: E402

RELAY = "127.0.0.2"
# DHCP clients get 10.100.x.y; the administrator writers own 10.1.x.y .. 10.<writers>.x.y
SUBNET4 = [{"id": 1, "subnet": "10.0.0.0/8", "pools": [{"pool": "10.100.0.0 - 10.100.255.255"}],
            "relay": {"ip-addresses": [RELAY]}}]
# v6: DHCP clients on the veth pair's far end get 2001:db8:ff::/64 addresses; the writers own
# 2001:db8:<n>::x:y (bench/soak.py's Family)
SUBNET6 = [{"id": 1, "subnet": "2001:db8::/32", "interface": "v6a",
            "pools": [{"pool": "2001:db8:ff::1 - 2001:db8:ff::ffff:ffff"}]}]
FAMILY = 4  # set by --family
TIMING: dict[str, Any] = {"heartbeat-delay": 1000, "max-response-delay": 3000, "max-ack-delay": 1000,
                          "max-unacked-clients": 0, "sync-timeout": 30000, "sync-page-limit": 500}


def ha_lib(this: str, peers: list[dict[str, Any]], mode: str, threads: int = 0) -> dict[str, Any]:
    relationship = {"this-server-name": this, "mode": mode, "peers": peers, **TIMING}
    if threads:  # Kea's HA+MT: updates from client threads over several connections
        relationship["multi-threading"] = {"enable-multi-threading": True, "http-dedicated-listener": True,
                                           "http-listener-threads": 2, "http-client-threads": threads}
    return {"library": str(HA_HOOK), "parameters": {"high-availability": [relationship]}}


def dhcp_where() -> dict[str, Any]:
    """Where the soak's Kea answers DHCP: v4 on the namespace's loopback, behind perfdhcp's relay;
    v6 on the veth pair's near end."""
    if FAMILY == 4:
        return {"interfaces": ["lo/127.0.0.1"], "dhcp_socket": "udp", "dhcp_port": 67}
    return {"interfaces": ["v6a"], "dhcp_port": 547}


class Kea:
    """kea-dhcp4 + kea-ctrl-agent that can be killed and restarted on the same lease file."""

    def __init__(self, port: int, hook: dict[str, Any], lease_file: Path, extra: dict[str, Any],
                 threads: int = 0) -> None:
        self.port, self.hook, self.lease_file, self.extra, self.threads = port, hook, lease_file, extra, threads
        self.server: KeaServer | None = None

    def start(self) -> None:
        database = {"type": "memfile", "persist": True, "lfc-interval": 0, "name": str(self.lease_file)}
        # multi-threaded: Kea serves its peer url from the HA hook's dedicated listener (no agent)
        threading_ = ({"enable-multi-threading": True, "thread-pool-size": self.threads, "packet-queue-size": 64}
                      if self.threads else {"enable-multi-threading": False})
        self.server = KeaServer(FAMILY, SUBNET4 if FAMILY == 4 else SUBNET6, hooks_libraries=[self.hook],
                                http_port=self.port, valid_lifetime=36000, lease_database=database,
                                name="soak-kea", extra_config={"multi-threading": threading_, **self.extra},
                                start_agent=not self.threads, **dhcp_where()).start()

    def kill(self) -> None:
        assert self.server is not None
        self.server.signal(signal.SIGKILL)  # a crash: no SIGTERM first, as KeaServer.stop would send
        self.stop()

    def signal(self, sig: int) -> None:
        assert self.server is not None
        self.server.signal(sig)

    def stop(self) -> None:
        if self.server is not None:
            self.server.signal(signal.SIGCONT)
            self.server.stop()
            self.server = None

    def state(self) -> str:
        return self.server.ha_state() if self.server is not None else "unreachable"

    def leases(self) -> list[dict[str, Any]]:
        assert self.server is not None
        return self.server.leases(timeout=60)

    def dropped_queries(self) -> int | None:
        """Kea's pkt4/pkt6-receive-drop since its last start: with Kea the primary, mostly the
        queries it could not park while waiting for leasesync (parked-packet-limit)."""
        name = f"pkt{FAMILY}-receive-drop"
        if self.server is None:
            return None
        try:
            answer = self.server.socket_command({"command": "statistic-get", "arguments": {"name": name}})
            return int(answer["arguments"][name][0][0])
        except (KeyError, IndexError, TypeError, ValueError, OSError):
            return None


def ls_state(ls: ServerProcess) -> str:
    return ha_state(ls, f"dhcp{FAMILY}")


def ls_leases(ls: ServerProcess) -> list[dict[str, Any]]:
    return dump(ls, FAMILY, timeout=60)


def perfdhcp(rate: int, clients: int, seconds: float, out: dict[str, str]) -> None:
    where = ["-4", "-l", RELAY, "-L", "67", "-o", "82,1300"] if FAMILY == 4 else ["-6", "-l", "v6b"]
    argv = ["perfdhcp", *where, "-r", str(rate), "-R", str(clients), "-p", str(int(seconds)), "-W", "2000000"]
    if FAMILY == 4:
        argv.append("127.0.0.1")
    done = subprocess.run(argv, capture_output=True, text=True, timeout=seconds + 60)
    out["text"] = done.stdout + done.stderr


def difference(kea: list[dict[str, Any]], ls: list[dict[str, Any]], load_start: float,
               names: tuple[str, str] = ("Kea", "leasesync")) -> tuple[int, int, list[str]]:
    """(on one side only, differing, a few examples); the one-sided leases are also counted by
    the second of the run their cltt falls in, to line them up with the chaos events. `names`
    name the two sides in the examples."""
    kmap = {lease["ip-address"]: lease for lease in kea}
    lmap = {lease["ip-address"]: lease for lease in ls}
    only = sorted(set(kmap) ^ set(lmap))
    differing = [a for a in sorted(set(kmap) & set(lmap)) if kmap[a] != lmap[a]]
    examples = [f"only on {names[0] if a in kmap else names[1]}: {kmap.get(a) or lmap.get(a)}" for a in only[:3]]
    if only:
        seconds = Counter(int((kmap.get(a) or lmap[a])["cltt"] - load_start) for a in only)
        examples.append("one-sided leases by cltt (s into the run: count): "
                        + ", ".join(f"{second}: {count}" for second, count in sorted(seconds.items())))
    for a in differing[:3]:
        fields = {k: (kmap[a].get(k), lmap[a].get(k)) for k in set(kmap[a]) | set(lmap[a])
                  if kmap[a].get(k) != lmap[a].get(k)}
        examples.append(f"{a} differs ({names[0]}, {names[1]}): {fields}")
    return len(only), len(differing), examples


def leasesync_config(database: dict[str, Any], port: int, hook: dict[str, Any]) -> dict[str, Any]:
    """A leasesync serving the run's family: the soak's subnet and `hook` (lifetime, HA) in its Dhcp4,
    or Dhcp6 with --family 6."""
    if FAMILY == 4:
        return service_config(database, port=port, dhcp6=False, dhcp4_extra={"subnet4": SUBNET4, **hook})
    config = service_config(database, port=port, dhcp6=True, dhcp6_extra={"subnet6": SUBNET6, **hook})
    config["Dhcp4"]["subnet4"] = SUBNET4
    return config


class RunClock:
    """Seconds into the run (from `restart`, when the load starts): notes stamped with them, and
    sleeps until one."""

    def __init__(self) -> None:
        self.started = time.monotonic()
        self.started_wall = time.time()

    def restart(self) -> None:
        self.started, self.started_wall = time.monotonic(), time.time()

    def now(self) -> float:
        return time.monotonic() - self.started

    def note(self, text: str) -> None:
        print(f"{self.now():6.1f} s  {text}", flush=True)

    def sleep_until(self, at: float) -> None:
        time.sleep(max(0.0, at - self.now()))


class Load:
    """The run's two loads: perfdhcp asking Kea for leases, and `--writers` administrator writers
    (bench/soak.py's) whose every attempt is kept in `histories`."""

    def __init__(self, args: argparse.Namespace, clock: RunClock) -> None:
        self.args, self.clock = args, clock
        self.stop = threading.Event()
        self.stats = Stats()
        self.histories: list[dict[str, list[Any]]] = [{} for _ in range(args.writers)]
        self.perf_out: dict[str, str] = {}
        self.threads: list[threading.Thread] = []

    def start(self, urls: list[str], names: tuple[str, str]) -> None:
        """Writers write to urls[0] (`names[0]`), to urls[1] while that refuses connections."""
        args = self.args
        self.threads = [threading.Thread(target=perfdhcp, args=(args.rate, args.clients, args.seconds, self.perf_out))]
        self.threads += [threading.Thread(target=writer, args=(i + 1, urls, self.stop, self.stats, self.histories[i],
                                                               args.seed, True, False, names))
                         for i in range(args.writers)]
        self.clock.restart()
        for t in self.threads:
            t.start()
        self.clock.note(f"load started: perfdhcp {args.rate} DORA/s from {args.clients} clients to Kea, "
                        f"{args.writers} administrator writers to leasesync")

    def finish(self) -> None:
        self.stop.set()
        for t in self.threads:
            t.join(timeout=self.args.seconds + 90)
        self.clock.note(f"load stopped: {self.stats.acked} administrator writes acknowledged")

    def perfdhcp_rate(self) -> str:
        """perfdhcp's own line on the exchanges it completed."""
        return next((line.strip() for line in self.perf_out.get("text", "").splitlines()
                     if line.startswith("Rate:")), "Rate: ?")


def socket_host(database: dict[str, Any]) -> dict[str, Any]:
    """The database over its unix socket: the namespace's loopback has no database server."""
    if database["type"] != "sqlite":
        socket = database_socket(database["type"])
        if socket is None:
            raise SystemExit(f"bench/kea_soak.py: no unix socket of the {database['type']} server found")
        database["host"] = socket
    return database


def run(args: argparse.Namespace, workdir: Path, databases: Databases, database: dict[str, Any]) -> int:
    kea_port, ls_port = free_port(), free_port()
    second = "standby" if args.mode == "hot-standby" else "secondary"
    kea_role, ls_role = (second, "primary") if args.leasesync_primary else ("primary", second)
    normal = args.mode  # the state both end in
    peers = [{"name": "kea", "url": f"http://127.0.0.1:{kea_port}/", "role": kea_role},
             {"name": "leasesync", "url": f"http://127.0.0.1:{ls_port}/", "role": ls_role}]
    hook = {"valid-lifetime": 36000, "hooks-libraries": [ha_lib("leasesync", peers, args.mode)]}
    config = leasesync_config(database, ls_port, hook)
    kea_extra = {} if args.parked_packet_limit is None else {"parked-packet-limit": args.parked_packet_limit}
    kea = Kea(kea_port, ha_lib("kea", peers, args.mode, args.kea_threads), workdir / f"kea-leases{FAMILY}.csv",
              kea_extra, args.kea_threads)
    ls = ServerProcess(config, workdir, "leasesync")
    clock = RunClock()
    note, sleep_until = clock.note, clock.sleep_until
    load = Load(args, clock)
    stats = load.stats
    result: dict[str, Any] = {}
    try:
        kea.start()
        ls.start()
        if not wait_until(lambda: kea.state() == ls_state(ls) == normal, 60):
            raise SystemExit(f"the pair did not reach {normal}: {kea.state()}/{ls_state(ls)}")
        load.start([ls.url], ("leasesync", "-"))
        # Kea's own chaos, each once, in a slot of its own (never while leasesync is down)
        kea_events = sorted((args.seconds * fraction, what) for fraction, what in
                            ((args.kea_kill_at, "kill"), (args.kea_pause_at, "pause")) if fraction > 0)
        at, n = args.chaos_every, 0
        while at + args.down < args.seconds:
            if kea_events and at + args.down > kea_events[0][0]:
                when, what = kea_events.pop(0)
                sleep_until(max(when, at - args.chaos_every + args.down + 1))
                note(f"{stats.acked} administrator writes acknowledged so far")
                kill_or_pause(kea, "Kea (kea-dhcp and its control agent)", 0 if what == "kill" else 1,
                              clock.now() + args.down, sleep_until, note,
                              lambda: f"{kea.state()}/{ls_state(ls)}")
                at = max(at, clock.now() + args.chaos_every / 2)
                continue
            sleep_until(at)
            kill_or_pause(ls, "leasesync", n, at + args.down, sleep_until, note,
                          lambda: f"{kea.state()}/{ls_state(ls)}")
            n += 1
            at += args.chaos_every
        sleep_until(args.seconds)
        load.finish()

        def settled() -> bool:
            return kea.state() == ls_state(ls) == normal and metric(ls, "leasesync_ha_backlog_depth") == 0

        result["settled"] = wait_until(settled, args.settle)
        note(f"pair {'settled' if result['settled'] else 'NOT settled'}: states {kea.state()}/{ls_state(ls)}")
        # a replay of leasesync's backlog may still be in flight: a bounded moment to agree
        result["equal"] = wait_until(lambda: kea.leases() == ls_leases(ls), 20)
        kea_now, ls_now = kea.leases(), ls_leases(ls)
        result["sizes"] = (len(kea_now), len(ls_now))
        result["only"], result["different"], result["examples"] = difference(kea_now, ls_now, clock.started_wall)
        # as the single-threaded hot-standby primary Kea drops no query but those it cannot park; a
        # standby or a load-balancing peer also drops (and counts) every query outside its scope,
        # and a multi-threaded Kea those its full packet queue turns away before any lease is made
        parking_only = kea_role == "primary" and args.mode == "hot-standby" and not args.kea_threads
        result["kea_drops"] = kea.dropped_queries() if parking_only else None
        result["kea"] = check_leases(kea_now, load.histories, "Kea")
        result["leasesync"] = check_leases(ls_now, load.histories, "leasesync")
    finally:
        load.stop.set()
        ls.stop()
        kea.stop()
        databases.drop()
    print(f"perfdhcp            : {load.perfdhcp_rate()}")
    print(f"admin writes        : {stats.acked} acknowledged, {stats.rejected} rejected, "
          f"{stats.unanswered} unanswered (leasesync down)")
    print(f"lost writes         : Kea {result['kea'][0]}, leasesync {result['leasesync'][0]}")
    print(f"wrong fields        : Kea {result['kea'][1]}, leasesync {result['leasesync'][1]} (same-second cltt ties "
          f"{result['kea'][2]}, {result['leasesync'][2]})")
    print(f"pair settled        : {'yes' if result['settled'] else 'NO'} ({args.mode}/{args.mode}, backlog 0)")
    print(f"store equality      : {'equal' if result['equal'] else 'DIFFERENT'} ({result['sizes'][0]} leases on Kea, "
          f"{result['sizes'][1]} on leasesync; {result['only']} on one side only, {result['different']} differ)")
    for example in result["examples"]:
        print(f"  {example}")
    if result["kea_drops"] is not None:
        print(f"Kea's dropped queries: {result['kea_drops']} since its last start (pkt{FAMILY}-receive-drop: queries it "
              "could not park while waiting for leasesync; each dropped after its lease was committed, which then "
              "stays on Kea only)")
    print(f"logs                : {workdir}")
    failed = (result["kea"][0] or result["leasesync"][0] or result["kea"][1] or result["leasesync"][1]
              or not result["settled"] or not result["equal"])
    return 1 if failed else 0


def add_load_arguments(parser: argparse.ArgumentParser) -> None:
    """The options of the load and the chaos that this soak and bench/capture_soak.py share."""
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--rate", type=int, default=100, help="perfdhcp DORA/s offered to Kea (default 100)")
    parser.add_argument("--clients", type=int, default=2000, help="distinct DHCP clients (default 2000)")
    parser.add_argument("--writers", type=int, default=2, help="administrator writer threads (default 2)")
    parser.add_argument("--chaos-every", type=float, default=8.0, help="seconds between leasesync kills/pauses")
    parser.add_argument("--down", type=float, default=4.0, help="seconds a killed/paused server stays down")
    parser.add_argument("--kea-kill-at", type=float, default=0.5, help="fraction of the run at which Kea is "
                        "SIGKILLed once (0: never)")
    parser.add_argument("--settle", type=float, default=90.0)
    parser.add_argument("--family", type=int, choices=(4, 6), default=4, help="IPv6: Kea's kea-dhcp6 on a veth "
                        "pair, perfdhcp -6, lease6-update writers (updates travel as lease6-bulk-apply)")
    parser.add_argument("--seed", type=int, default=1)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    add_load_arguments(parser)
    parser.add_argument("--kea-pause-at", type=float, default=0.75, help="fraction of the run at which Kea is "
                        "SIGSTOPped once for --down seconds (0: never)")
    parser.add_argument("--kea-threads", type=int, default=0,
                        help="run Kea multi-threaded with this many packet and HA client threads (HA+MT, "
                        "dedicated listener; default 0: single-threaded, one connection for its updates)")
    parser.add_argument("--parked-packet-limit", type=int, default=None,
                        help="Kea's parked-packet-limit (Kea's default 256; 0: no limit). A DHCP query Kea "
                        "cannot park while it waits for leasesync's answer is dropped after its lease was "
                        "committed, and that lease is never sent: it stays on Kea only")
    parser.add_argument("--db", choices=("sqlite", "postgresql", "mysql"), default="sqlite")
    parser.add_argument("--leasesync-primary", action="store_true", help="leasesync primary, Kea standby")
    parser.add_argument("--mode", choices=("hot-standby", "load-balancing"), default="hot-standby")
    args = parser.parse_args()
    global FAMILY
    FAMILY = args.family
    soak.FAMILY = soak.Family(args.family)  # the writers' addresses, identifiers and commands
    for reason in (kea_available(), netns_unavailable()):
        if reason:
            sys.exit(f"bench/kea_soak.py: {reason}")
    workdir = Path(tempfile.mkdtemp(prefix="leasesync-kea-soak-"))
    databases = Databases(args.db, workdir)  # created from outside the namespace
    database = socket_host(databases.new("leasesync"))
    veth = ("v6a", "v6b") if FAMILY == 6 else None
    with Namespace(addresses=[f"{RELAY}/8"], veth=veth) as ns, ns.entered():
        return run(args, workdir, databases, database)


if __name__ == "__main__":
    sys.exit(main())
