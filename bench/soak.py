"""Soak: a bounded mixed load with injected crashes, then a full store check.

    python bench/soak.py                          # 60 s, one process, SQLite
    python bench/soak.py --seconds 20 --processes 2 --db postgresql
    python bench/soak.py --ha --seconds 60        # a hot-standby pair, partner killed/paused every 8 s
    python bench/soak.py --ha --seconds 60 --db mysql   # the same pair, each server on a MariaDB database
    python bench/soak.py --ha --mode load-balancing     # a load-balancing pair, writes to both servers
    python bench/soak.py --ha --family 6                # the same with IPv6 leases (lease6-update)

Single-process mode starts one or two ``leasesync serve`` processes on one lease database (two
agents over a shared SQL store), runs writer threads (``lease4-update`` with ``force-create``:
new addresses and rewrites of acknowledged ones) and reader threads (``lease4-get``,
``lease4-get-page``) spread over the processes, SIGKILLs the first process once at ``--kill-at``
of the run and restarts it. At the end every acknowledged write must be stored with its
acknowledged fields (or those of a later write whose answer never arrived). Prints acknowledged
writes, lost writes (must be 0) and the store check; exits 1 when anything was lost or wrong.

HA mode (``--ha``) starts a hot-standby pair (server1 primary, server2 standby, each on its own
database of ``--db``: a SQLite file, or a new PostgreSQL or MySQL/MariaDB database dropped at the
end; ``send-lease-updates`` true). Writers send administrator writes
(``lease4-update`` with ``force-create`` but without ``expire``, so they are not taken for a
partner's update) to the primary; when the primary cannot be connected to, the same write goes
to the standby (as DHCP traffic would, with ``--no-failover`` it is counted as unanswered).
Every ``--chaos-every`` seconds the standby is alternately SIGKILLed (restarted after
``--down`` seconds) and SIGSTOPped (SIGCONT after ``--down`` seconds); at ``--kill-at`` the
primary is SIGKILLed once and restarted. After the load stops, the pair must be back in
hot-standby with both durable backlogs drained (bounded by ``--settle``); then every
acknowledged write must be present, with acknowledged fields, on the primary *and* on the
standby, and both stores must be equal. ``--mode load-balancing`` runs a load-balancing pair
(server1 primary, server2 secondary) the same way, except that half the writers write to server2
first (failing over to server1), and the pair must end in load-balancing.

``--family 6`` runs either mode with IPv6 leases: ``lease6-update`` (IA_NA, DUID in place of the
hardware address), ``lease6-get``/``-get-page``/``-get-all``, a Dhcp6 configuration; a v6 change
reaches the partner as a one-lease ``lease6-bulk-apply``.
"""

from __future__ import annotations

import argparse
import ipaddress
import json
import os
import random
import signal
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parent.parent
PG_DSN = os.environ.get("LEASESYNC_TEST_PG", "postgresql://postgres@127.0.0.1:5432/postgres")
MYSQL_HOST = os.environ.get("LEASESYNC_TEST_MYSQL_HOST", "127.0.0.1")


class Databases:
    """A new lease database per server of the run (`lease-database` maps), dropped at the end."""

    def __init__(self, kind: str, workdir: Path) -> None:
        self.kind = kind
        self.workdir = workdir
        self.dropped: list[Any] = []

    def new(self, label: str) -> dict[str, Any]:
        if self.kind == "sqlite":
            return {"type": "sqlite", "name": str(self.workdir / f"{label}.db")}
        name = f"ls_soak_{label}_{uuid.uuid4().hex[:8]}"
        if self.kind == "postgresql":
            import psycopg

            admin = psycopg.connect(PG_DSN, autocommit=True)
            admin.execute(f'CREATE DATABASE "{name}"')
            self.dropped.append(lambda: admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            return {"type": "postgresql", "name": name, "host": "127.0.0.1", "user": "postgres"}
        import pymysql

        mysql = pymysql.connect(host=MYSQL_HOST, user="root", password="", autocommit=True)
        with mysql.cursor() as cursor:
            cursor.execute(f"CREATE DATABASE `{name}`")

        def drop() -> None:
            with mysql.cursor() as cursor:
                cursor.execute(f"DROP DATABASE IF EXISTS `{name}`")

        self.dropped.append(drop)
        return {"type": "mysql", "name": name, "host": MYSQL_HOST, "user": "root"}

    def drop(self) -> None:
        for drop in self.dropped:
            try:
                drop()
            except Exception as exc:  # noqa: BLE001 - clean-up: say so, keep going
                print(f"could not drop a soak database: {exc}", file=sys.stderr)


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Family:
    """What differs between a v4 and a v6 soak: commands, addresses, the client identifier."""

    def __init__(self, v: int) -> None:
        self.v = v
        self.service = f"dhcp{v}"
        self.identifier = "hw-address" if v == 4 else "duid"

    def command(self, verb: str) -> str:
        return f"lease{self.v}-{verb}"

    def address(self, index: int, n: int) -> str:
        """The n-th address of writer `index` (n < 62,500)."""
        if self.v == 4:
            return f"10.{index}.{n // 250 % 250}.{n % 250 + 1}"
        # canonical, as the server answers it (the check compares the two spellings)
        return str(ipaddress.IPv6Address(f"2001:db8:{index:x}::{n // 250 % 250:x}:{n % 250 + 1:x}"))

    def daemon(self, database: dict[str, Any]) -> dict[str, Any]:
        subnet = {"id": 1, "subnet": "10.0.0.0/8" if self.v == 4 else "2001:db8::/32"}
        return {f"Dhcp{self.v}": {"lease-database": database, f"subnet{self.v}": [subnet]}}


FAMILY = Family(4)  # set by --family


class Server:
    def __init__(self, config: dict[str, Any], workdir: Path, name: str) -> None:
        self.config, self.name = config, name
        self.port = config["LeaseSync"]["http-port"]
        self.url = f"http://127.0.0.1:{self.port}/"
        self.config_path, self.log_path = workdir / f"{name}.json", workdir / f"{name}.log"
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self, wait: float = 30) -> None:
        self.config_path.write_text(json.dumps(self.config))
        with open(self.log_path, "ab") as log:
            self.proc = subprocess.Popen([sys.executable, "-m", "app.cli", "serve", "-c", str(self.config_path)],
                                         stdout=log, stderr=subprocess.STDOUT, cwd=ROOT, start_new_session=True)
        deadline = time.monotonic() + wait
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise SystemExit(f"{self.name} exited at start-up, see {self.log_path}")
            try:
                if httpx.get(self.url + "healthz", timeout=1).status_code == 200:
                    return
            except httpx.HTTPError:
                time.sleep(0.1)
        raise SystemExit(f"{self.name} did not start in {wait} s, see {self.log_path}")

    def kill(self) -> None:
        if self.proc and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(timeout=10)

    def signal(self, sig: int) -> None:
        if self.proc and self.proc.poll() is None:
            os.killpg(self.proc.pid, sig)

    def get(self, command: str, timeout: float = 5) -> Any:
        return httpx.post(self.url, json={"command": command, "service": [FAMILY.service]},
                          timeout=timeout).json()[0]

    def state(self) -> str:
        try:
            return str(self.get("status-get")["arguments"]["high-availability"][0]["ha-servers"]["local"]["state"])
        except Exception:  # noqa: BLE001 - a server that does not answer has no state
            return "unreachable"

    def metric(self, name: str) -> float:
        text = httpx.get(self.url + "metrics", timeout=5).text
        return sum(float(line.rsplit(" ", 1)[1]) for line in text.splitlines() if line.startswith(name + "{"))

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGCONT)
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.kill()


class Stats:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.acked = self.rejected = self.unanswered = self.reads = self.read_errors = self.failovers = 0


def writer(index: int, urls: list[str], stop: threading.Event, stats: Stats,
           history: dict[str, list[tuple[str, dict[str, Any]]]], seed: int, ha: bool = False,
           failover: bool = True, names: tuple[str, str] = ("primary", "standby")) -> None:
    """Owns addresses 10.<index>.x.y (v6: 2001:db8:<index>::x:y); records (outcome, fields) per
    address in order.

    Single mode spreads writes over `urls`; HA mode writes to urls[0] (the server `names[0]`) and,
    when it refuses the connection (the request was never sent), to urls[1] (`names[1]`)."""
    rng = random.Random(seed + index)
    acked: list[str] = []
    serial = 0
    with httpx.Client(timeout=15) as http:
        while not stop.is_set():
            serial += 1
            if acked and rng.random() < 0.25:
                address = rng.choice(acked)
            else:
                address = FAMILY.address(index, len(history))
            args = {"ip-address": address, FAMILY.identifier: f"02:00:{index:02x}:{serial >> 16 & 255:02x}:"
                    f"{serial >> 8 & 255:02x}:{serial & 255:02x}", "hostname": f"s{index}-{serial}.example.org",
                    "valid-lft": 3600, "expire": 2_000_000_000 + serial, "subnet-id": 1, "force-create": True}
            if FAMILY.v == 6:
                args["iaid"] = index
            if ha:
                # an administrator's shape: with `expire` and force-create it would be a partner's update
                # (stored, never propagated)
                del args["expire"]
            entry = ["unknown", args]
            history.setdefault(address, []).append(entry)  # type: ignore[arg-type]
            body = {"command": FAMILY.command("update"), "service": [FAMILY.service], "arguments": args}
            try:
                if ha:
                    try:
                        entry.append((names[0], time.time()))
                        answer = http.post(urls[0], json=body)
                    except httpx.ConnectError:
                        if not failover:
                            raise
                        with stats.lock:
                            stats.failovers += 1
                        entry[2] = (names[1], time.time())
                        answer = http.post(urls[1], json=body)
                else:
                    answer = http.post(urls[serial % len(urls)], json=body)
                result = answer.json()[0]["result"]
            except (httpx.HTTPError, ValueError, KeyError, IndexError):
                with stats.lock:
                    stats.unanswered += 1
                time.sleep(0.05)
                continue
            entry[0] = "ack" if result == 0 else "rejected"
            with stats.lock:
                if result == 0:
                    stats.acked += 1
                else:
                    stats.rejected += 1
            if result == 0 and address not in acked:
                acked.append(address)


def reader(index: int, urls: list[str], stop: threading.Event, stats: Stats, seed: int) -> None:
    rng = random.Random(seed * 7 + index)
    with httpx.Client(timeout=15) as http:
        while not stop.is_set():
            if rng.random() < 0.8:
                body = {"command": FAMILY.command("get"), "service": [FAMILY.service],
                        "arguments": {"ip-address": FAMILY.address(rng.randint(1, 4), rng.randint(0, 249))}}
            else:
                body = {"command": FAMILY.command("get-page"), "service": [FAMILY.service],
                        "arguments": {"from": "start", "limit": 100}}
            try:
                ok = http.post(rng.choice(urls), json=body).json()[0]["result"] in (0, 3)
            except (httpx.HTTPError, ValueError, KeyError, IndexError):
                ok = False
                time.sleep(0.05)
            with stats.lock:
                stats.reads += 1
                stats.read_errors += not ok


def dump(url: str) -> list[dict[str, Any]]:
    leases = httpx.post(url, json={"command": FAMILY.command("get-all"), "service": [FAMILY.service]},
                        timeout=120).json()[0]
    return sorted(leases.get("arguments", {}).get("leases", []), key=lambda lease: lease["ip-address"])


def check(url: str, histories: list[dict[str, list[Any]]]) -> tuple[int, int, int]:
    """(lost, wrong, ties): acknowledged leases missing, or stored with fields nobody may have
    written; `ties` counts the wrong ones (HA mode) holding an older acknowledged write with the
    same cltt second as the last acknowledged one: cltt has one-second resolution (Kea's), so the
    "newer lease wins" rule of syncs and replays cannot order two writes of one second.
    Writes without `expire` (HA mode) are checked on hw-address (v6: DUID) and hostname."""
    return check_leases(dump(url), histories, url)


def check_leases(leases: list[dict[str, Any]], histories: list[dict[str, list[Any]]],
                 where: str) -> tuple[int, int, int]:
    """check() on a list of leases in the server's answer shape (`where` names it in debug output)."""
    key = FAMILY.identifier
    stored = {lease["ip-address"]: (lease.get(key), lease["hostname"], lease["cltt"] + lease["valid-lft"])
              for lease in leases}
    lost = wrong = ties = 0
    for history in histories:
        for address, attempts in history.items():
            last_ack = max((i for i, (outcome, *_) in enumerate(attempts) if outcome == "ack"), default=None)
            value = stored.get(address)
            if value is None:
                lost += last_ack is not None
                continue
            allowed = {(a[key], a["hostname"], a.get("expire")) for outcome, a, *_ in attempts[last_ack or 0:]
                       if outcome != "rejected"}
            if value[:2] + (None,) in allowed or value in allowed:
                continue  # (written without expire: any cltt)
            wrong += 1
            acked = attempts[last_ack] if last_ack is not None else None
            if acked is not None and len(acked) > 2 and value[2] - 3600 >= int(acked[2][1]):
                ties += 1
            if os.environ.get("SOAK_DEBUG") and wrong <= 5:
                print("WRONG", where, address, value, [(o, a["hostname"], *rest) for o, a, *rest in attempts])
    return lost, wrong, ties


def ha_config(database: dict[str, Any], name: str, port: int, peers: list[dict[str, Any]],
              mode: str) -> dict[str, Any]:
    sys.path.insert(0, str(ROOT))
    from tests.ha_helpers import ha_hook

    config: dict[str, Any] = {"LeaseSync": {"http-host": "127.0.0.1", "http-port": port}, **FAMILY.daemon(database)}
    config[f"Dhcp{FAMILY.v}"]["hooks-libraries"] = [ha_hook(name, mode, peers)]
    return config


def kill_or_pause(server: Any, name: str, n: int, back_at: float, sleep_until: Callable[[float], None],
                  note: Callable[[str], None], states: Callable[[], str]) -> None:
    """Chaos slot `n` of a soak: even slots SIGKILL `server` and start it again at `back_at`
    (seconds into the run), odd ones SIGSTOP it and SIGCONT it then."""
    if n % 2 == 0:
        note(f"SIGKILL {name}")
        server.kill()
        sleep_until(back_at)
        server.start()
        note(f"{name} restarted (states {states()})")
    else:
        note(f"SIGSTOP {name}")
        server.signal(signal.SIGSTOP)
        sleep_until(back_at)
        server.signal(signal.SIGCONT)
        note(f"SIGCONT {name} (states {states()})")


def wait_until(predicate: Any, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if predicate():
                return True
        except (httpx.HTTPError, OSError, ValueError):  # a server in the middle of a restart
            pass
        time.sleep(0.2)
    return False


def run_ha(args: argparse.Namespace) -> int:
    workdir = Path(tempfile.mkdtemp(prefix="leasesync-soak-ha-"))
    ports = [free_port(), free_port()]
    normal = args.mode  # the state both servers end in
    second_role = "standby" if normal == "hot-standby" else "secondary"
    peers = [{"name": "server1", "url": f"http://127.0.0.1:{ports[0]}/", "role": "primary"},
             {"name": "server2", "url": f"http://127.0.0.1:{ports[1]}/", "role": second_role}]
    databases = Databases(args.db, workdir)
    primary = Server(ha_config(databases.new("server1"), "server1", ports[0], peers, normal), workdir, "server1")
    standby = Server(ha_config(databases.new("server2"), "server2", ports[1], peers, normal), workdir, "server2")
    stop = threading.Event()
    stats = Stats()
    histories: list[dict[str, list[Any]]] = [{} for _ in range(args.writers)]
    threads: list[threading.Thread] = []
    events: list[str] = []
    started = time.monotonic()

    def note(text: str) -> None:
        line = f"{time.monotonic() - started:6.1f} s  {text}"
        events.append(line)
        print(line, flush=True)

    def sleep_until(at: float) -> None:
        time.sleep(max(0.0, at - (time.monotonic() - started)))

    result: dict[str, Any] = {}
    try:
        primary.start()
        standby.start()
        if not wait_until(lambda: primary.state() == standby.state() == normal, 60):
            raise SystemExit(f"the pair did not reach {normal}: {primary.state()}/{standby.state()}")
        urls = [primary.url, standby.url]

        def order(i: int) -> tuple[list[str], tuple[str, str]]:
            """The servers writer i writes to, first choice first (load-balancing: every other one
            writes to server2 first)."""
            if normal == "load-balancing" and i % 2:
                return [standby.url, primary.url], ("server2", "server1")
            return urls, ("primary", "standby") if normal == "hot-standby" else ("server1", "server2")

        threads = []
        for i in range(args.writers):
            servers, names = order(i)
            threads.append(threading.Thread(target=writer, args=(i + 1, servers, stop, stats, histories[i], args.seed,
                                                                 True, args.failover, names)))
        threads += [threading.Thread(target=reader, args=(i, urls, stop, stats, args.seed)) for i in range(args.readers)]
        started = time.monotonic()
        for t in threads:
            t.start()
        note(f"load started: {args.writers} writers to the primary, {args.readers} readers on both")
        # the schedule: standby chaos every --chaos-every s, alternating SIGKILL and SIGSTOP, and the
        # primary killed once in a slot of its own (never while the standby is down)
        primary_kill_at = args.seconds * args.kill_at
        at, n, primary_done = args.chaos_every, 0, False
        while at + args.down < args.seconds:
            if not primary_done and at + args.down > primary_kill_at:
                sleep_until(max(primary_kill_at, at - args.chaos_every + args.down + 1))
                note(f"SIGKILL primary ({stats.acked} writes acknowledged so far)")
                primary.kill()
                sleep_until(time.monotonic() - started + args.down)
                primary.start()
                note(f"primary restarted (states {primary.state()}/{standby.state()})")
                primary_done = True
                at = max(at, time.monotonic() - started + args.chaos_every / 2)
                continue
            sleep_until(at)
            kill_or_pause(standby, "standby", n, at + args.down, sleep_until, note,
                          lambda: f"{primary.state()}/{standby.state()}")
            n += 1
            at += args.chaos_every
        if not primary_done:
            note("SIGKILL primary")
            primary.kill()
            primary.start()
            note("primary restarted")
        sleep_until(args.seconds)
        stop.set()
        for t in threads:
            t.join(timeout=60)
        note(f"load stopped: {stats.acked} writes acknowledged")

        def settled() -> bool:
            return (primary.state() == standby.state() == normal
                    and primary.metric("leasesync_ha_backlog_depth") == 0
                    and standby.metric("leasesync_ha_backlog_depth") == 0)

        result["settled"] = wait_until(settled, args.settle)
        note(f"pair {'settled' if result['settled'] else 'NOT settled'}: states {primary.state()}/"
             f"{standby.state()}, backlogs {primary.metric('leasesync_ha_backlog_depth'):.0f}/"
             f"{standby.metric('leasesync_ha_backlog_depth'):.0f}")
        # lease updates are acknowledged before the answer, but a replay may still be in flight:
        # give the stores a bounded moment to become equal before judging them
        result["equal"] = wait_until(lambda: dump(primary.url) == dump(standby.url), 15)
        a, b = dump(primary.url), dump(standby.url)
        result["sizes"] = (len(a), len(b))
        only = {x["ip-address"] for x in a} ^ {x["ip-address"] for x in b}
        differing = {x["ip-address"] for x in a} & {x["ip-address"] for x in b}
        bmap = {x["ip-address"]: x for x in b}
        result["only_one_side"] = len(only)
        result["different"] = sum(1 for x in a if x["ip-address"] in differing and bmap[x["ip-address"]] != x)
        result["primary"] = check(primary.url, histories)
        result["standby"] = check(standby.url, histories)
    finally:
        stop.set()
        for server in (primary, standby):
            server.stop()
        databases.drop()
    lost_p, wrong_p, ties_p = result["primary"]
    lost_s, wrong_s, ties_s = result["standby"]
    print(f"acknowledged writes : {stats.acked} ({stats.failovers} failed over to the standby)")
    print(f"rejected writes     : {stats.rejected} (answered with result != 0)")
    print(f"unanswered writes   : {stats.unanswered} (no answer; may or may not be stored)")
    print(f"reads               : {stats.reads} ({stats.read_errors} failed, mostly while a server was down)")
    print(f"lost writes         : primary {lost_p}, standby {lost_s}")
    print(f"wrong fields        : primary {wrong_p}, standby {wrong_s} (of which same-second cltt ties: "
          f"{ties_p}, {ties_s}; an older acknowledged write of the same second kept)")
    print(f"pair settled        : {'yes' if result['settled'] else 'NO'} ({normal}/{normal}, backlogs 0)")
    print(f"store equality      : {'equal' if result['equal'] else 'DIFFERENT'} ({result['sizes'][0]}/"
          f"{result['sizes'][1]} leases; {result['only_one_side']} on one side only, {result['different']} differ)")
    print(f"logs                : {workdir}")
    failed = lost_p or lost_s or wrong_p or wrong_s or not result["settled"] or not result["equal"]
    return 1 if failed else 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--processes", type=int, choices=(1, 2), default=1)
    parser.add_argument("--db", choices=("sqlite", "postgresql", "mysql"), default="sqlite")
    parser.add_argument("--writers", type=int, default=4)
    parser.add_argument("--readers", type=int, default=2)
    parser.add_argument("--kill-at", type=float, default=0.5, help="fraction of the run at which to SIGKILL "
                        "(the primary, in HA mode)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--ha", action="store_true", help="HA mode: a hot-standby pair with partner chaos")
    parser.add_argument("--mode", choices=("hot-standby", "load-balancing"), default="hot-standby",
                        help="HA: the pair's mode (load-balancing: half the writers write to server2 first)")
    parser.add_argument("--chaos-every", type=float, default=8.0, help="HA: seconds between standby kills/pauses")
    parser.add_argument("--down", type=float, default=3.0, help="HA: seconds a killed/paused server stays down")
    parser.add_argument("--settle", type=float, default=90.0, help="HA: seconds to wait for hot-standby and "
                        "drained backlogs after the load")
    parser.add_argument("--no-failover", dest="failover", action="store_false",
                        help="HA: never send a write to the standby")
    parser.add_argument("--family", type=int, choices=(4, 6), default=4, help="IPv4 or IPv6 leases")
    args = parser.parse_args()
    global FAMILY
    FAMILY = Family(args.family)
    if args.ha:
        return run_ha(args)

    workdir = Path(tempfile.mkdtemp(prefix="leasesync-soak-"))
    databases = Databases(args.db, workdir)
    db = databases.new("soak")
    servers = [Server({"LeaseSync": {"http-host": "127.0.0.1", "http-port": free_port()}, **FAMILY.daemon(db)},
                      workdir, f"soak{i}") for i in range(args.processes)]
    stop = threading.Event()
    stats = Stats()
    histories: list[dict[str, list[Any]]] = [{} for _ in range(args.writers)]
    threads: list[threading.Thread] = []
    try:
        for server in servers:
            server.start()
        urls = [s.url for s in servers]
        threads = [threading.Thread(target=writer, args=(i + 1, urls, stop, stats, histories[i], args.seed))
                   for i in range(args.writers)]
        threads += [threading.Thread(target=reader, args=(i, urls, stop, stats, args.seed)) for i in range(args.readers)]
        for t in threads:
            t.start()
        started = time.monotonic()
        time.sleep(args.seconds * args.kill_at)
        print(f"{time.monotonic() - started:6.1f} s  SIGKILL {servers[0].name} ({stats.acked} writes acknowledged so far)")
        servers[0].kill()
        servers[0].start()
        print(f"{time.monotonic() - started:6.1f} s  {servers[0].name} restarted")
        time.sleep(max(0.0, args.seconds - (time.monotonic() - started)))
        stop.set()
        for t in threads:
            t.join(timeout=60)
        lost, wrong, _ties = check(servers[0].url, histories)
    finally:
        stop.set()
        for server in servers:
            server.stop()
        databases.drop()
    print(f"acknowledged writes : {stats.acked}")
    print(f"rejected writes     : {stats.rejected} (answered with result != 0)")
    print(f"unanswered writes   : {stats.unanswered} (connection lost; may or may not be stored)")
    print(f"reads               : {stats.reads} ({stats.read_errors} failed)")
    print(f"lost writes         : {lost}")
    print(f"store check         : {'OK' if not lost and not wrong else f'FAILED ({wrong} lease(s) with unexpected fields)'}")
    return 1 if lost or wrong else 0


if __name__ == "__main__":
    sys.exit(main())
