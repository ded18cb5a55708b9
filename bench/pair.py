"""perfdhcp's sustained DORA rate against a Kea 2.2 primary, by kind of HA partner, side by side.

    python bench/pair.py [--seconds 10] [--rate 4000] [--no-record]

Each configuration runs in its own network namespace (tests/netns.py): a kea-dhcp4 primary
(memfile, single-threaded, HA hot-standby, its control agent) listening on lo/127.0.0.1:67, a
partner, and perfdhcp acting as a relay (giaddr 127.0.0.2) asking for more than the pair can do:

* kea-partner: the standby is another kea-dhcp4 behind its kea-ctrl-agent (memfile, `persist: false`);
* kea-partner-persist: the same with memfile as Kea ships it (`persist: true`: each change appended
  to a CSV file, without fsync);
* leasesync-updates: the standby is leasesync (SQLite, `synchronous: FULL`, the durable default),
  `send-lease-updates: true`;
* leasesync-updates-normal: the same with SQLite `synchronous: NORMAL` (a commit survives a crash
  of the process but not of the machine; the Kea partner here, memfile with `persist: false`,
  survives neither);
* leasesync-no-updates: `send-lease-updates: false` on both.

With lease updates on, Kea holds each DHCPACK until its partner answered the lease4-update, so
the partner's update path sets the pace. The table goes to stdout and, unless --no-record, to
bench/RESULTS.md under the "## pair" heading (that section only is replaced; the rest of the
file is kept). Needs root (ip netns) and Kea 2.2 with perfdhcp. Only ratios within one run mean
much on a small, noisy machine.
"""

from __future__ import annotations

import argparse
import os
import platform
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.conftest import ServerProcess, free_port, make_database, service_config  # noqa: E402
from tests.ha_helpers import ha_state  # noqa: E402
from tests.kea_harness import HA_HOOK, KeaServer, kea_available  # noqa: E402
from tests.netns import Namespace, netns_unavailable  # noqa: E402

RESULTS = ROOT / "bench" / "RESULTS.md"
KINDS = ["kea-partner", "kea-partner-persist", "leasesync-updates", "leasesync-updates-normal", "leasesync-no-updates"]
SUBNET4 = [{"id": 1, "subnet": "10.0.0.0/8", "pools": [{"pool": "10.1.0.0 - 10.250.255.255"}],
            "relay": {"ip-addresses": ["127.0.0.2"]}}]
TIMING = {"heartbeat-delay": 3000, "max-response-delay": 10000, "max-ack-delay": 5000, "max-unacked-clients": 0,
          "sync-timeout": 60000, "sync-page-limit": 10000}


def ha_lib(this: str, peers: list[dict[str, Any]], updates: bool) -> dict[str, Any]:
    relationship = {"this-server-name": this, "mode": "hot-standby", "peers": peers,
                    "send-lease-updates": updates, **TIMING}
    return {"library": str(HA_HOOK), "parameters": {"high-availability": [relationship]}}


def kea(port: int, hook: dict[str, Any], interface: str | None, name: str,
        lease_database: dict[str, Any] | None = None) -> KeaServer:
    return KeaServer(4, SUBNET4, hooks_libraries=[hook], http_port=port, interfaces=[interface] if interface else [],
                     dhcp_socket="udp", dhcp_port=67, valid_lifetime=36000, name=name, lease_database=lease_database,
                     extra_config={"multi-threading": {"enable-multi-threading": False}})


def wait(predicate: Any, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.2)
    raise RuntimeError(f"timed out waiting for {what}")


def perfdhcp(rate: int, seconds: int) -> dict[str, float]:
    argv = ["perfdhcp", "-4", "-l", "127.0.0.2", "-L", "67", "-o", "82,1300", "-r", str(rate), "-R", "10000000",
            "-p", str(seconds), "-W", "2000000", "127.0.0.1"]
    out = subprocess.run(argv, capture_output=True, text=True, timeout=seconds + 60).stdout
    stats: dict[str, float] = {}
    section = ""
    for line in out.splitlines():
        m = re.match(r"\*\*\*Statistics for: (\S+)\*\*\*", line)
        if m:
            section = m.group(1)
        m = re.match(r"Rate: ([\d.]+)", line)
        if m:
            stats["rate"] = float(m.group(1))
        m = re.match(r"(sent packets|received packets|drops): (\d+)", line)
        if m and section:
            stats[f"{section} {m.group(1)}"] = float(m.group(2))
    return stats


def run(kind: str, rate: int, seconds: int, workdir: Path) -> dict[str, Any]:
    synchronous = "NORMAL" if kind == "leasesync-updates-normal" else None
    with Namespace() as ns, ns.entered():
        p1, p2 = free_port(), free_port()
        peers = [{"name": "server1", "url": f"http://127.0.0.1:{p1}/", "role": "primary"},
                 {"name": "server2", "url": f"http://127.0.0.1:{p2}/", "role": "standby"}]
        updates = kind != "leasesync-no-updates"
        partner_kea: KeaServer | None = None
        partner_ls: ServerProcess | None = None
        with kea(p1, ha_lib("server1", peers, updates), "lo/127.0.0.1", "bench-kea1") as primary:
            try:
                if kind.startswith("kea-partner"):
                    # kea-partner-persist: memfile as Kea ships it (persist true: appended to a CSV, no fsync)
                    leases = ({"type": "memfile", "persist": True, "lfc-interval": 0,
                               "name": str(workdir / f"kea2-leases4-{p2}.csv")} if kind == "kea-partner-persist" else None)
                    partner_kea = kea(p2, ha_lib("server2", peers, updates), None, "bench-kea2", leases).start()
                    partner_state = lambda: partner_kea.ha_state()  # type: ignore[union-attr]  # noqa: E731
                else:
                    db = make_database("sqlite", workdir)[0]
                    if synchronous:
                        db["synchronous"] = synchronous
                    config = service_config(db, port=p2, dhcp6=False, dhcp4_extra={
                        "subnet4": SUBNET4, "valid-lifetime": 36000, "hooks-libraries": [ha_lib("server2", peers, updates)]})
                    config["LeaseSync"]["loggers"] = [{"name": "leasesync", "severity": "WARN"}]
                    partner_ls = ServerProcess(config, workdir, kind).start()
                    partner_state = lambda: ha_state(partner_ls)  # type: ignore[arg-type]  # noqa: E731
                wait(lambda: primary.ha_state() == "hot-standby" and partner_state() == "hot-standby", 60,
                     f"{kind}: both in hot-standby")
                stats = perfdhcp(rate, seconds)
                acked = stats.get("REQUEST-ACK received packets", 0.0)
                leases = len(primary.socket_command({"command": "lease4-get-all"}, timeout=60)
                             .get("arguments", {}).get("leases", []))
                return {
                    "kind": kind,
                    "rate": stats.get("rate", 0.0),
                    "acks": acked,
                    "discovers": stats.get("DISCOVER-OFFER sent packets", 0.0),
                    "offer_drops": stats.get("DISCOVER-OFFER drops", 0.0),
                    "ack_drops": stats.get("REQUEST-ACK drops", 0.0),
                    "leases": leases,
                    "state": f"{primary.ha_state()}/{partner_state()}",
                }
            finally:
                if partner_kea is not None:
                    partner_kea.stop()
                if partner_ls is not None:
                    partner_ls.stop()


def table(rows: list[dict[str, Any]]) -> str:
    head = ("| partner of the Kea primary | DORA/s (perfdhcp) | × kea-partner | DISCOVERs sent | ACKs received "
            "| OFFER drops | ACK drops | leases on primary | states after |")
    lines = [head, "|---|---:|---:|---:|---:|---:|---:|---:|---|"]
    base = next((r["rate"] for r in rows if r["kind"] == "kea-partner"), 0.0)
    for r in rows:
        ratio = f"{r['rate'] / base:.2f}×" if base else "–"
        lines.append(f"| {r['kind']} | {r['rate']:.0f} | {ratio} | {r['discovers']:.0f} | {r['acks']:.0f} "
                     f"| {r['offer_drops']:.0f} | {r['ack_drops']:.0f} | {r['leases']} | {r['state']} |")
    return "\n".join(lines)


def record(text: str) -> None:
    """Replace the "## pair" section of RESULTS.md (or append it), keeping everything else."""
    old = RESULTS.read_text() if RESULTS.exists() else "# Benchmark results\n"
    section = f"## pair\n\n{text.rstrip()}\n"
    match = re.search(r"^## pair\n.*?(?=^## |\Z)", old, flags=re.S | re.M)
    if match:
        new = old[: match.start()] + section + ("\n" if old[match.end():] else "") + old[match.end():]
    else:
        new = old.rstrip("\n") + "\n\n" + section
    RESULTS.write_text(new)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=int, default=10, help="perfdhcp run per configuration (default 10)")
    parser.add_argument("--rate", type=int, default=4000, help="offered DORA/s, above what the pair does (4000)")
    parser.add_argument("--only", action="append", choices=KINDS)
    parser.add_argument("--no-record", action="store_true", help="do not write bench/RESULTS.md")
    args = parser.parse_args()
    for reason in (kea_available(), netns_unavailable()):
        if reason:
            sys.exit(f"bench/pair.py: {reason}")
    if subprocess.run(["which", "perfdhcp"], capture_output=True).returncode != 0 and not Path("/usr/sbin/perfdhcp").exists():
        sys.exit("bench/pair.py: perfdhcp not installed")
    kinds = args.only or list(KINDS)
    rows = []
    with tempfile.TemporaryDirectory(prefix="bench-pair-") as tmp:
        for kind in kinds:
            started = time.monotonic()
            rows.append(run(kind, args.rate, args.seconds, Path(tmp)))
            print(f"{kind}: {rows[-1]['rate']:.0f} DORA/s ({time.monotonic() - started:.0f} s)", file=sys.stderr)
    out = table(rows)
    print(out)
    if not args.no_record:
        note = (f"`python bench/pair.py --seconds {args.seconds} --rate {args.rate}` on {os.cpu_count()} CPUs, "
                f"{platform.platform()}, {time.strftime('%Y-%m-%d')}. Kea 2.2 primary (memfile, single-threaded, "
                "hot-standby, heartbeat 3 s) fed by perfdhcp as a relay, offered rate above capacity; "
                "DORA/s is perfdhcp's completed 4-way exchanges per second. The partner is the standby: "
                "with lease updates on, every DHCPACK waits for its answer to lease4-update.\n\n")
        record(note + out + "\n")


if __name__ == "__main__":
    main()
