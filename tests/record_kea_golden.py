#!/usr/bin/env python3
"""Record Kea 2.2's answers to every case in tests/kea_cases.py into tests/golden/kea22_answers.json.

    cd /work/main && python tests/record_kea_golden.py [--only SUBSTRING] [--out PATH]

For each topology in kea_cases.TOPOLOGIES it starts kea-dhcp6 (no agent) and kea-dhcp4 with a
kea-ctrl-agent that forwards to dhcp4, dhcp6 and a d2 socket whose daemon is not running, then
runs each case (after kea_cases.RESET_STEPS) and stores, per step: the request, the send time,
HTTP status (and status line for raw-socket steps), response headers in order, parsed body and
exact body text. Answers are stored raw (un-normalised); apply kea_cases.normalise() to both
sides when comparing. Kea's processes are checked after every case; a case that killed a daemon
aborts the recording.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from tests import kea_cases  # noqa: E402
from tests.kea_harness import KeaServer, kea_available  # noqa: E402

DEFAULT_OUT = HERE / "golden" / "kea22_answers.json"


def start_topology(topology: str, lease_database: dict | None = None) -> tuple[KeaServer, KeaServer, str]:
    """Start (k4 with agent, k6 without) for a kea_cases topology, on `lease_database` (Kea's
    keys; a non-persistent memfile by default); caller stops both."""
    topo = kea_cases.TOPOLOGIES[topology]
    d6 = dict(topo["dhcp6"])
    d4 = dict(topo["dhcp4"])
    hooks = topo.get("hooks", [])
    k6 = KeaServer(
        6,
        subnets=d6.pop("subnet6"),
        hooks_libraries=hooks,
        valid_lifetime=d6.pop("valid-lifetime"),
        preferred_lifetime=d6.pop("preferred-lifetime"),
        extra_config=d6,
        start_agent=False,
        name=f"gold6-{topology}",
        lease_database=lease_database,
    )
    k6.start()
    d2_sock = str(Path(k6.tmpdir) / "d2-not-running.sock")
    k4 = KeaServer(
        4,
        subnets=d4.pop("subnet4"),
        hooks_libraries=hooks,
        valid_lifetime=d4.pop("valid-lifetime"),
        preferred_lifetime=None,
        extra_config=d4,
        extra_control_sockets={"dhcp6": k6.socket_path, "d2": d2_sock},
        name=f"gold4-{topology}",
        lease_database=lease_database,
    )
    try:
        k4.start()
    except BaseException:
        k6.stop()
        raise
    return k4, k6, d2_sock


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", type=Path, default=DEFAULT_OUT)
    ap.add_argument("--only", help="record only cases whose name contains this (prints, does not write)")
    args = ap.parse_args()

    reason = kea_available()
    if reason:
        print(f"Kea not available: {reason}", file=sys.stderr)
        return 2
    version = os.popen("kea-dhcp4 -v").read().strip()

    results: list[dict] = []
    configs: dict[str, dict] = {}
    for topology in kea_cases.TOPOLOGIES:
        cases = [c for c in kea_cases.cases_for(topology) if not args.only or args.only in c["name"]]
        if not cases:
            continue
        k4, k6, _ = start_topology(topology)
        try:
            configs[topology] = {
                "dhcp4": k4.dhcp_config,
                "dhcp6": k6.dhcp_config,
                "control-agent": k4.agent_config,
            }
            for c in cases:
                recs = kea_cases.run_case(c, k4.http_host, k4.http_port)
                if not (k4.alive() and k6.alive()):
                    raise RuntimeError(f"case {c['name']} killed a Kea process:\n{k4.read_log()[-3000:]}")
                results.append({"name": c["name"], "topology": topology, "tags": c["tags"], "steps": recs})
        finally:
            k4.stop()
            k6.stop()

    if args.only:
        for r in results:
            print(f"== {r['name']}")
            for s in r["steps"]:
                req = s["request"].get("body", s["request"].get("request"))
                print(f">>> {json.dumps(req) if not isinstance(req, str) else req!r}")
                print(f"<<< {s['status']} {s['body_text']}")
        return 0

    golden = {
        "kea_version": version,
        "recorded_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "generator": "tests/record_kea_golden.py",
        "note": "raw answers; compare with kea_cases.normalise() applied to both sides",
        "topologies": configs,
        "cases": results,
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    tmp = args.out.with_suffix(".tmp")
    tmp.write_text(json.dumps(golden, indent=1, ensure_ascii=False, sort_keys=False) + "\n")
    tmp.replace(args.out)
    n = sum(len(r["steps"]) for r in results)
    print(f"wrote {args.out}: {len(results)} cases, {n} requests")
    return 0


if __name__ == "__main__":
    sys.exit(main())
