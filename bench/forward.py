"""Forwarding to a local Kea daemon, side by side with kea-ctrl-agent in one run.

kea-dhcp4 (memfile, a lease file of --leases generated leases) with its unix control socket; its
kea-ctrl-agent, and a `leasesync serve` with only a `LeaseSync` section whose `control-sockets`
name the same socket (leasesync standing where kea-ctrl-agent stands). Both are asked
`lease4-get-all` (the largest answer a daemon gives) --rounds times; the table has the seconds
per answer, its size and the ratio. Needs Kea 2.2 (see tests/kea_harness.py).

    python bench/forward.py [--leases 80000] [--rounds 3] [--tree DIR]
"""

from __future__ import annotations

import argparse
import ipaddress
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from tests.conftest import free_port  # noqa: E402
from tests.kea_harness import KeaServer  # noqa: E402

SUBNETS = [{"id": 1, "subnet": "10.0.0.0/8", "pools": [{"pool": "10.0.0.10 - 10.255.255.200"}]}]
GET_ALL = {"command": "lease4-get-all", "service": ["dhcp4"]}


def write_lease_file(path: Path, count: int) -> None:
    expire = int(time.time()) + 4000
    first = int(ipaddress.IPv4Address("10.0.0.10"))
    with path.open("w") as out:
        out.write("address,hwaddr,client_id,valid_lifetime,expire,subnet_id,fqdn_fwd,fqdn_rev,hostname,state,"
                  "user_context\n")
        for n in range(count):
            out.write(f"{ipaddress.IPv4Address(first + n)},1a:1b:1c:{(n >> 16) & 255:02x}:{(n >> 8) & 255:02x}:"
                      f"{n & 255:02x},,4000,{expire},1,0,0,host-{n}.example.com,0,\n")


def timed_get_all(url: str, leases: int) -> tuple[float, int]:
    started = time.monotonic()
    response = httpx.post(url, json=GET_ALL, timeout=600)
    seconds = time.monotonic() - started
    answer = response.json()[0]
    if answer.get("result") != 0 or len(answer["arguments"]["leases"]) != leases:
        raise SystemExit(f"{url}: unexpected answer {response.text[:300]}")
    return seconds, len(response.content)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--leases", type=int, default=80000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--tree", default=str(REPO), help="the leasesync source tree to run")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="leasesync-forward-"))
    lease_file = work / "leases4.csv"
    write_lease_file(lease_file, args.leases)
    database = {"type": "memfile", "persist": True, "lfc-interval": 0, "name": str(lease_file)}
    with KeaServer(4, SUBNETS, lease_database=database) as kea:
        port = free_port()
        config = {"LeaseSync": {"http-host": "127.0.0.1", "http-port": port, "control-sockets": {
            "dhcp4": {"socket-type": "unix", "socket-name": kea.socket_path}}}}
        (work / "leasesync.json").write_text(json.dumps(config))
        log = (work / "leasesync.log").open("w")
        leasesync = subprocess.Popen([sys.executable, "-m", "app.cli", "serve", "-c", str(work / "leasesync.json")],
                                     cwd=args.tree, env={"PYTHONPATH": args.tree, "PATH": "/usr/bin:/bin"},
                                     stdout=log, stderr=subprocess.STDOUT)
        url = f"http://127.0.0.1:{port}/"
        try:
            for _ in range(200):
                try:
                    httpx.get(url + "healthz", timeout=1)
                    break
                except httpx.HTTPError:
                    time.sleep(0.1)
            times: dict[str, list[float]] = {"leasesync": [], "kea-ctrl-agent": []}
            size = 0
            for _ in range(args.rounds):  # alternate, so that both see the same machine
                for name, target in (("leasesync", url), ("kea-ctrl-agent", kea.url)):
                    seconds, size = timed_get_all(target, args.leases)
                    times[name].append(seconds)
        finally:
            leasesync.terminate()
            leasesync.wait()
    print(f"lease4-get-all of {args.leases:,} leases ({size / 1e6:.1f} MB), {args.rounds} rounds")
    print("| agent | seconds per answer (median) | all rounds |")
    print("|---|---:|---|")
    for name, values in times.items():
        print(f"| {name} | {statistics.median(values):.2f} | {' / '.join(f'{v:.2f}' for v in values)} |")
    ratio = statistics.median(times["kea-ctrl-agent"]) / statistics.median(times["leasesync"])
    print(f"leasesync is {ratio:.2f}x kea-ctrl-agent's speed")


if __name__ == "__main__":
    main()
