"""`leasesync ctl`: the administrator's client for a running leasesync (or kea-ctrl-agent).

Two ways to use it:

* kea-shell mode: `leasesync ctl [--service dhcp4] COMMAND` reads the command's arguments from
  stdin and prints the server's answer as kea-shell does (the body, unchanged). Like kea-shell,
  stdin may hold the *inside* of the arguments map (`"ip-address": "192.0.2.1"`); leasesync also
  takes a whole JSON object (`{"ip-address": "192.0.2.1"}`).
* friendly subcommands: `leases list`, `lease add|get|del`, `ha status`, `ha sync`, printing
  tables for people or JSON (`--json`) for scripts.

Credentials come from `--user`/`--password`, else `LEASESYNC_USER`/`LEASESYNC_PASSWORD`, else the
first client of `LeaseSync.authentication` in the `-c` file (which also gives host and port).
"""

from __future__ import annotations

import argparse
import ipaddress
import json
import os
import ssl
import sys
import threading
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, TextIO

import httpx

from app import __version__

EXIT_OK = 0
EXIT_FAILED = 1  # the server answered with an error (result 1 or 2, or an HTTP error)
EXIT_USAGE = 2  # bad command line (argparse's own code)
EXIT_EMPTY = 3  # nothing found (result 3) where one item was asked for
EXIT_UNREACHABLE = 4  # no answer: connection, TLS or timeout failure

_UNSET: Any = object()

STATE_NAMES = {0: "default", 1: "declined", 2: "expired-reclaimed"}

_COMMON_HELP = """\
CONNECTION
  The server is http://HOST:PORT/ (https when --ca is given). Without --host/--port, the
  LeaseSync.http-host/http-port of the -c file are used, else 127.0.0.1:8000.

CREDENTIALS
  HTTP basic authentication: --user/--password, else the environment variables
  LEASESYNC_USER and LEASESYNC_PASSWORD, else the first client of LeaseSync.authentication
  in the -c file.

EXIT STATUS
  0 success; 1 the server answered with an error; 2 bad usage; 3 not found;
  4 the server could not be reached (connection, TLS, timeout).
"""


class CtlError(Exception):
    def __init__(self, message: str, code: int = EXIT_FAILED) -> None:
        super().__init__(message)
        self.code = code


# --- connection -------------------------------------------------------------------------------

@dataclass
class Connection:
    url: str
    auth: tuple[str, str] | None
    verify: ssl.SSLContext | bool
    timeout: float

    def post(self, body: dict[str, Any], timeout: float | None = None) -> httpx.Response:
        headers = {"Content-Type": "application/json", "User-Agent": f"leasesync-ctl/{__version__}"}
        try:
            return httpx.post(self.url, content=json.dumps(body).encode(), headers=headers, auth=self.auth,
                              verify=self.verify, timeout=timeout if timeout is not None else self.timeout)
        except httpx.TimeoutException as exc:
            raise CtlError(f"no answer from {self.url} in time: {exc}", EXIT_UNREACHABLE) from None
        except (httpx.HTTPError, ssl.SSLError, OSError) as exc:
            raise CtlError(f"cannot reach {self.url}: {exc}", EXIT_UNREACHABLE) from None

    def command(self, command: str, service: str | None = None, arguments: Any = _UNSET,
                timeout: float | None = None) -> dict[str, Any]:
        """Send one command; return the (first) answer map."""
        body: dict[str, Any] = {"command": command}
        if service:
            body["service"] = [service]
        if arguments is not _UNSET:
            body["arguments"] = arguments
        response = self.post(body, timeout)
        try:
            decoded = response.json()
        except ValueError:
            raise CtlError(f"HTTP {response.status_code}: {response.text[:200]}") from None
        if isinstance(decoded, list) and decoded and isinstance(decoded[0], dict):
            return decoded[0]
        if isinstance(decoded, dict):  # transport errors (401, 403, 413...) are a bare map
            return decoded
        raise CtlError(f"unexpected answer: {response.text[:200]}")


def _connect_host(host: str) -> str:
    if host in ("0.0.0.0", ""):
        return "127.0.0.1"
    if host == "::":
        return "::1"
    return host


def _ssl_context(ca: str, cert: str, key: str) -> ssl.SSLContext:
    if bool(cert) != bool(key):
        raise CtlError("--cert and --key must be used together", EXIT_USAGE)
    try:
        if os.path.isdir(ca):
            context = ssl.create_default_context(capath=ca)
        else:
            context = ssl.create_default_context(cafile=ca)
        if cert:
            context.load_cert_chain(cert, key)
    except (OSError, ssl.SSLError) as exc:
        raise CtlError(f"cannot load TLS files: {exc}", EXIT_USAGE) from None
    return context


def connection_from_args(args: argparse.Namespace) -> Connection:
    host, port = args.host, args.port
    user = args.user if args.user is not None else os.environ.get("LEASESYNC_USER")
    password = args.password if args.password is not None else os.environ.get("LEASESYNC_PASSWORD")
    ca = args.ca or ""
    if args.config:
        from app.config import load_config

        agent = load_config(args.config).agent
        host = host or _connect_host(agent.http_host)
        port = port or agent.http_port
        if user is None and agent.authentication is not None and agent.authentication.clients:
            first = agent.authentication.clients[0]
            user, password = first.user, first.password if password is None else password
        if not ca and agent.tls is not None:
            ca = agent.tls.trust_anchor
    host = host or "127.0.0.1"
    port = port or 8000
    if args.cert and not ca:
        raise CtlError("--cert and --key with HTTPS disabled (no --ca)", EXIT_USAGE)
    scheme = "https" if ca else "http"
    try:
        literal = f"[{host}]" if ipaddress.ip_address(host).version == 6 else host
    except ValueError:
        literal = host
    path = args.path or "/"
    url = f"{scheme}://{literal}:{port}/{path.lstrip('/')}"
    verify: ssl.SSLContext | bool = _ssl_context(ca, args.cert or "", args.key or "") if ca else True
    auth = (user, password or "") if user else None
    return Connection(url, auth, verify, float(args.timeout))


# --- output -----------------------------------------------------------------------------------

def table(headers: list[str], rows: list[list[str]], out: TextIO) -> None:
    widths = [len(h) for h in headers]
    for row in rows:
        widths = [max(w, len(cell)) for w, cell in zip(widths, row, strict=True)]
    for line in [headers, *rows]:
        out.write("  ".join(cell.ljust(w) for cell, w in zip(line, widths, strict=True)).rstrip() + "\n")


def print_json(value: Any, out: TextIO) -> None:
    out.write(json.dumps(value, indent=2, sort_keys=True) + "\n")


def _expires(lease: dict[str, Any]) -> str:
    cltt, valid = lease.get("cltt"), lease.get("valid-lft")
    if not isinstance(cltt, int) or not isinstance(valid, int):
        return ""
    if valid == 0xFFFFFFFF:
        return "never"
    return datetime.fromtimestamp(cltt + valid, UTC).strftime("%Y-%m-%d %H:%M:%S")


def _lease_rows(leases: list[dict[str, Any]], family: int) -> tuple[list[str], list[list[str]]]:
    if family == 4:
        headers = ["ADDRESS", "HW-ADDRESS", "SUBNET", "STATE", "EXPIRES (UTC)", "HOSTNAME"]
        rows = [[str(lease.get("ip-address", "")), str(lease.get("hw-address", "")), str(lease.get("subnet-id", "")),
                 STATE_NAMES.get(lease.get("state", 0), str(lease.get("state"))), _expires(lease),
                 str(lease.get("hostname", ""))] for lease in leases]
        return headers, rows
    headers = ["ADDRESS", "TYPE", "DUID", "IAID", "SUBNET", "STATE", "EXPIRES (UTC)", "HOSTNAME"]
    rows = []
    for lease in leases:
        address = str(lease.get("ip-address", ""))
        if lease.get("type") == "IA_PD":
            address += f"/{lease.get('prefix-len', '')}"
        rows.append([address, str(lease.get("type", "")), str(lease.get("duid", "")), str(lease.get("iaid", "")),
                     str(lease.get("subnet-id", "")), STATE_NAMES.get(lease.get("state", 0), str(lease.get("state"))),
                     _expires(lease), str(lease.get("hostname", ""))])
    return headers, rows


def _fail_on_error(ans: dict[str, Any], args: argparse.Namespace, out: TextIO) -> int | None:
    """Print an error answer and return the exit code; None when the answer is a success."""
    result = ans.get("result")
    if result in (0, 3):
        return None
    if args.json:
        print_json(ans, out)
    else:
        sys.stderr.write(f"error (result {result}): {ans.get('text', '')}\n")
    return EXIT_FAILED


def _report_done(ans: dict[str, Any], args: argparse.Namespace, out: TextIO, suffix: str = "") -> int:
    """The exit code of a change's answer, printed as JSON or as its text (and `suffix`)."""
    code = _fail_on_error(ans, args, out)
    if code is not None:
        return code
    if args.json:
        print_json(ans, out)
    else:
        out.write(f"{ans.get('text', 'done')}{suffix}\n")
    return EXIT_OK


# --- kea-shell mode ---------------------------------------------------------------------------

def parse_stdin_arguments(text: str) -> Any:
    """kea-shell's stdin: the inside of the arguments map, or (leasesync) a whole JSON value."""
    stripped = text.strip()
    if not stripped:
        return _UNSET
    try:
        if stripped.startswith(("{", "[")):
            return json.loads(stripped)
        return json.loads("{" + stripped + "}")
    except ValueError as exc:
        raise CtlError(f"the arguments on stdin are not JSON: {exc}", EXIT_USAGE) from None


def run_raw(args: argparse.Namespace, out: TextIO) -> int:
    conn = connection_from_args(args)
    stdin_text = "" if sys.stdin is None or sys.stdin.isatty() else sys.stdin.read()
    arguments = parse_stdin_arguments(stdin_text)
    body: dict[str, Any] = {"command": args.command}
    services = [s for s in (args.service or []) if s]
    if services:
        body["service"] = services
    if arguments is not _UNSET:
        body["arguments"] = arguments
    response = conn.post(body)
    out.write(response.text.rstrip("\n") + "\n")
    return EXIT_OK


# --- friendly subcommands ---------------------------------------------------------------------

def _family_of(ip: str) -> int:
    try:
        return ipaddress.ip_address(ip).version
    except ValueError:
        raise CtlError(f"'{ip}' is not an IP address", EXIT_USAGE) from None


def run_leases_list(args: argparse.Namespace, out: TextIO) -> int:
    conn = connection_from_args(args)
    family = args.family
    service = f"dhcp{family}"
    leases: list[dict[str, Any]] = []
    cursor = "start"
    while True:
        ans = conn.command(f"lease{family}-get-page", service, {"from": cursor, "limit": args.page_size})
        code = _fail_on_error(ans, args, out)
        if code is not None:
            return code
        page = (ans.get("arguments") or {}).get("leases", []) if ans.get("result") == 0 else []
        leases.extend(lease for lease in page if args.subnet is None or lease.get("subnet-id") == args.subnet)
        if len(page) < args.page_size:
            break
        cursor = page[-1]["ip-address"]
    if args.json:
        print_json(leases, out)
    elif not leases:
        out.write("no leases\n")
    else:
        headers, rows = _lease_rows(leases, family)
        table(headers, rows, out)
        out.write(f"{len(leases)} lease(s)\n")
    return EXIT_OK


def run_lease_add(args: argparse.Namespace, out: TextIO) -> int:
    conn = connection_from_args(args)
    family = _family_of(args.ip)
    arguments: dict[str, Any] = {"ip-address": args.ip}
    if family == 4:
        if not args.hw:
            raise CtlError("--hw is required for an IPv4 lease", EXIT_USAGE)
        arguments["hw-address"] = args.hw
        if args.client_id:
            arguments["client-id"] = args.client_id
    else:
        if not args.duid or args.iaid is None:
            raise CtlError("--duid and --iaid are required for an IPv6 lease", EXIT_USAGE)
        arguments.update({"duid": args.duid, "iaid": args.iaid})
        if args.hw:
            arguments["hw-address"] = args.hw
        if args.prefix_len is not None:
            arguments.update({"type": "IA_PD", "prefix-len": args.prefix_len})
    for key, value in (("subnet-id", args.subnet_id), ("valid-lft", args.valid_lft), ("hostname", args.hostname),
                       ("state", args.state)):
        if value is not None:
            arguments[key] = value
    ans = conn.command(f"lease{family}-add", f"dhcp{family}", arguments)
    return _report_done(ans, args, out)


def run_lease_get(args: argparse.Namespace, out: TextIO) -> int:
    conn = connection_from_args(args)
    family = _family_of(args.ip)
    ans = conn.command(f"lease{family}-get", f"dhcp{family}", {"ip-address": args.ip})
    code = _fail_on_error(ans, args, out)
    if code is not None:
        return code
    if ans.get("result") == 3:
        if args.json:
            print_json(ans, out)
        else:
            sys.stderr.write(f"{ans.get('text', 'Lease not found.')}\n")
        return EXIT_EMPTY
    lease = ans.get("arguments") or {}
    if args.json:
        print_json(lease, out)
    else:
        width = max((len(k) for k in lease), default=0)
        for key in sorted(lease):
            out.write(f"{key.ljust(width)}  {json.dumps(lease[key]) if not isinstance(lease[key], str) else lease[key]}\n")
    return EXIT_OK


def run_lease_del(args: argparse.Namespace, out: TextIO) -> int:
    conn = connection_from_args(args)
    family = _family_of(args.ip)
    ans = conn.command(f"lease{family}-del", f"dhcp{family}", {"ip-address": args.ip})
    code = _fail_on_error(ans, args, out)
    if code is not None:
        return code
    if args.json:
        print_json(ans, out)
    elif ans.get("result") == 3:
        sys.stderr.write(f"{ans.get('text', 'Lease not found.')}\n")
    else:
        out.write(f"{ans.get('text', 'deleted')}\n")
    return EXIT_EMPTY if ans.get("result") == 3 else EXIT_OK


def _ha_relationships(ans: dict[str, Any]) -> list[dict[str, Any]]:
    value = (ans.get("arguments") or {}).get("high-availability")
    return value if isinstance(value, list) else []


def run_ha_status(args: argparse.Namespace, out: TextIO) -> int:
    conn = connection_from_args(args)
    ans = conn.command("status-get", f"dhcp{args.family}")
    code = _fail_on_error(ans, args, out)
    if code is not None:
        return code
    relationships = _ha_relationships(ans)
    if args.json:
        print_json(relationships, out)
        return EXIT_OK
    if not relationships:
        out.write(f"HA is not configured for dhcp{args.family}\n")
        return EXIT_OK
    for rel in relationships:
        servers = rel.get("ha-servers", {})
        out.write(f"mode: {rel.get('ha-mode', '?')}\n")
        rows = []
        for which in ("local", "remote"):
            server = servers.get(which)
            if not isinstance(server, dict):
                continue
            state = server.get("state", server.get("last-state", ""))
            scopes = server.get("scopes", server.get("last-scopes")) or []
            reach = "" if which == "local" else ("yes" if server.get("in-touch") else "no")
            rows.append([which, str(server.get("role", "")), str(state), ",".join(map(str, scopes)), reach,
                         str(server.get("age", "")) if which == "remote" else ""])
        table(["SERVER", "ROLE", "STATE", "SCOPES", "IN-TOUCH", "AGE (s)"], rows, out)
        explanation = rel.get("leasesync")
        if isinstance(explanation, dict):
            for key in sorted(explanation):
                out.write(f"{key}: {explanation[key]}\n")
    return EXIT_OK


def _lease_count(conn: Connection, service: str) -> int | None:
    try:
        ans = conn.command("statistic-get-all", service, timeout=5)
    except CtlError:
        return None
    stats = ans.get("arguments") if ans.get("result") == 0 else None
    if not isinstance(stats, dict):
        return None
    return sum(samples[0][0] for name, samples in stats.items()
               if name.endswith(("assigned-addresses", "assigned-nas", "assigned-pds")) and samples)


def _ha_state(conn: Connection, service: str) -> str:
    try:
        rels = _ha_relationships(conn.command("status-get", service, timeout=5))
    except CtlError:
        return "?"
    local = rels[0].get("ha-servers", {}).get("local", {}) if rels else {}
    return str(local.get("state", "?"))


def run_ha_sync(args: argparse.Namespace, out: TextIO) -> int:
    conn = connection_from_args(args)
    service = f"dhcp{args.family}"
    arguments: dict[str, Any] = {"server-name": args.server_name}
    if args.max_period is not None:
        arguments["max-period"] = args.max_period
    outcome: dict[str, Any] = {}

    def send() -> None:
        try:
            outcome["answer"] = conn.command("ha-sync", service, arguments, timeout=args.sync_timeout)
        except CtlError as exc:
            outcome["error"] = exc

    worker = threading.Thread(target=send, name="ha-sync", daemon=True)
    started = time.monotonic()
    worker.start()
    progress = sys.stderr.isatty() and not args.json and not args.quiet
    spinner = "|/-\\"
    tick = 0

    def draw() -> None:
        nonlocal tick
        count = _lease_count(conn, service)
        leases = f"{count} leases" if count is not None else "leases: ?"
        sys.stderr.write(f"\r{spinner[tick % 4]} syncing from {args.server_name}: {time.monotonic() - started:6.1f}s  "
                         f"state {_ha_state(conn, service)}  {leases}   ")
        sys.stderr.flush()
        tick += 1

    # the first line is drawn at once: a sync that ends within the first refresh interval
    # (a few hundred leases take ~0.1 s) still shows that it ran
    if progress:
        draw()
    worker.join(timeout=0.5)
    while worker.is_alive():
        if progress:
            draw()
        worker.join(timeout=0.5)
    if progress:
        sys.stderr.write("\r" + " " * 78 + "\r")
    if "error" in outcome:
        raise outcome["error"]
    ans = outcome["answer"]
    return _report_done(ans, args, out, f" ({time.monotonic() - started:.1f}s)")


# --- parsers ----------------------------------------------------------------------------------

def _connection_options(parser: argparse.ArgumentParser, suppress: bool) -> None:
    """The options every ctl command takes; in subcommands they only override when given."""

    def default(value: Any) -> Any:
        return argparse.SUPPRESS if suppress else value

    group = parser.add_argument_group("connection")
    group.add_argument("--host", default=default(None), help="server address (default: from -c, else 127.0.0.1)")
    group.add_argument("--port", type=int, default=default(None), help="server port (default: from -c, else 8000)")
    group.add_argument("--path", default=default(""), help="URL path (default: /)")
    group.add_argument("-c", "--config", default=default(None), metavar="FILE",
                       help="leasesync configuration file: host, port, first authentication client, trust anchor")
    group.add_argument("--user", "--auth-user", dest="user", default=default(None),
                       help="HTTP basic user (env LEASESYNC_USER)")
    group.add_argument("--password", "--auth-password", dest="password", default=default(None),
                       help="HTTP basic password (env LEASESYNC_PASSWORD)")
    group.add_argument("--ca", default=default(""), help="CA file or directory: use HTTPS and verify the server")
    group.add_argument("--cert", default=default(""), help="client certificate file (with --key and --ca)")
    group.add_argument("--key", default=default(""), help="client private key file")
    group.add_argument("--timeout", type=float, default=default(10.0), help="seconds to wait for an answer (default 10)")
    group.add_argument("--json", action="store_true", default=default(False),
                       help="print JSON for scripts instead of tables")


def _sub(subparsers: Any, name: str, summary: str, description: str, examples: str) -> argparse.ArgumentParser:
    parser: argparse.ArgumentParser = subparsers.add_parser(
        name, help=summary, description=description, formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog=f"EXAMPLES\n{examples}\n{_COMMON_HELP}")
    return parser


def _family_option(parser: argparse.ArgumentParser, what: str) -> None:
    parser.add_argument("--family", "-f", type=int, choices=(4, 6), default=4, help=f"{what} (default 4)")


def build_group_parser(group: str) -> argparse.ArgumentParser:
    """The parser of one friendly group (`leases`, `lease`, `ha`) with its subcommands."""
    parser = argparse.ArgumentParser(prog=f"leasesync ctl {group}", formatter_class=argparse.RawDescriptionHelpFormatter,
                                     description=GROUPS[group], epilog=_COMMON_HELP)
    sub = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
    if group == "leases":
        p = _sub(sub, "list", "list leases (paged)",
                 "List the leases of a family, fetched page by page with lease4-get-page/lease6-get-page,\n"
                 "optionally only those of one subnet.",
                 "  leasesync ctl leases list --subnet 1\n  leasesync ctl leases list --family 6 --json | jq length\n")
        p.add_argument("--subnet", type=int, help="only leases of this subnet-id")
        _family_option(p, "address family")
        p.add_argument("--page-size", type=int, default=1000, help="leases per request (default 1000)")
        p.set_defaults(func=run_leases_list)
    elif group == "lease":
        p = _sub(sub, "add", "add a lease (lease4-add / lease6-add)",
                 "Add one lease. The family follows from --ip. IPv4 needs --hw; IPv6 needs --duid and --iaid\n"
                 "(--prefix-len makes it a delegated prefix, IA_PD).",
                 "  leasesync ctl lease add --ip 192.0.2.20 --hw 1a:1b:1c:1d:1e:1f\n"
                 "  leasesync ctl lease add --ip 2001:db8:1::20 --duid 01:02:03:04:05:06 --iaid 1\n")
        p.add_argument("--ip", required=True, help="the address (or prefix, with --prefix-len)")
        p.add_argument("--hw", help="hardware address, e.g. 1a:1b:1c:1d:1e:1f")
        p.add_argument("--client-id", help="DHCPv4 client identifier")
        p.add_argument("--duid", help="DHCPv6 DUID")
        p.add_argument("--iaid", type=int, help="DHCPv6 IAID")
        p.add_argument("--prefix-len", type=int, help="delegated prefix length (IA_PD)")
        p.add_argument("--subnet-id", type=int, help="subnet-id (default: the subnet that contains the address)")
        p.add_argument("--valid-lft", type=int, help="valid lifetime in seconds (default: the subnet's)")
        p.add_argument("--hostname", help="client hostname")
        p.add_argument("--state", type=int, choices=(0, 1, 2), help="0 default, 1 declined, 2 expired-reclaimed")
        p.set_defaults(func=run_lease_add)
        p = _sub(sub, "get", "show one lease", "Show the lease of an address (lease4-get / lease6-get).",
                 "  leasesync ctl lease get --ip 192.0.2.20\n")
        p.add_argument("--ip", required=True, help="the address")
        p.set_defaults(func=run_lease_get)
        p = _sub(sub, "del", "delete a lease", "Delete the lease of an address (lease4-del / lease6-del).",
                 "  leasesync ctl lease del --ip 192.0.2.20\n")
        p.add_argument("--ip", required=True, help="the address")
        p.set_defaults(func=run_lease_del)
    else:
        p = _sub(sub, "status", "show the HA state",
                 "Show the high-availability relationship of a family from status-get: mode, local and\n"
                 "partner role and state, scopes, whether the partner is in touch, and leasesync's\n"
                 "explanation of the current state.",
                 "  leasesync ctl ha status\n  leasesync ctl ha status --json | jq '.[0][\"ha-servers\"].local.state'\n")
        _family_option(p, "the family whose HA relationship to show")
        p.set_defaults(func=run_ha_status)
        p = _sub(sub, "sync", "fetch all leases from a partner now (ha-sync)",
                 "Send ha-sync: the server disables the partner's DHCP service, fetches all its leases and\n"
                 "enables it again. While it runs, a progress line (elapsed time, HA state, leases in the\n"
                 "store) is shown on a terminal. Prints the server's answer; an error answer exits 1.",
                 "  leasesync ctl ha sync --server-name server2\n"
                 "  leasesync ctl ha sync --server-name server2 --max-period 60 --json\n")
        p.add_argument("--server-name", required=True, help="the partner to fetch the leases from")
        p.add_argument("--max-period", type=int, help="seconds the partner's DHCP service may stay disabled")
        _family_option(p, "the family to sync")
        p.add_argument("--sync-timeout", type=float, default=3600.0, help="seconds to wait for the sync (default 3600)")
        p.add_argument("--quiet", "-q", action="store_true", help="no progress line")
        p.set_defaults(func=run_ha_sync)
    for action_parser in sub.choices.values():  # after the specific options, so --help lists those first
        _connection_options(action_parser, suppress=True)
    return parser


GROUPS = {
    "leases": "Work with many leases: list.",
    "lease": "Work with one lease: add, get, del.",
    "ha": "High availability: status, sync.",
}

CTL_DESCRIPTION = """\
Talk to a running leasesync (or any Kea control agent) over its control channel.

kea-shell mode
  leasesync ctl [--service SERVICE] COMMAND < ARGUMENTS
  Sends COMMAND (default list-commands) with the arguments read from stdin and prints the
  answer exactly as received, like kea-shell. stdin holds the inside of the arguments map,
  as for kea-shell ('"ip-address": "192.0.2.1"'), or a whole JSON object. The exit status is
  0 whenever an answer was printed, as kea-shell's.

subcommands
  leases list   list leases, paged            (leasesync ctl leases list --help)
  lease add     add a lease                   (leasesync ctl lease add --help)
  lease get     show a lease
  lease del     delete a lease
  ha status     show the HA state
  ha sync       fetch all leases from a partner now, with progress
"""

CTL_EXAMPLES = """\
EXAMPLES
  leasesync ctl --service dhcp4 lease4-get <<< '"ip-address": "192.0.2.20"'
  echo '{"name": "subnet[1].assigned-addresses"}' | leasesync ctl --service dhcp4 statistic-get
  leasesync ctl -c /etc/leasesync/leasesync.json leases list --subnet 1
  LEASESYNC_USER=admin LEASESYNC_PASSWORD=secret leasesync ctl ha status --json

"""


def add_ctl_parser(subparsers: Any) -> None:
    ctl = subparsers.add_parser("ctl", help="send commands to a running server (kea-shell and more)",
                                description=CTL_DESCRIPTION, epilog=CTL_EXAMPLES + _COMMON_HELP,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    _connection_options(ctl, suppress=False)
    ctl.add_argument("--service", action="append", metavar="SERVICE",
                     help="kea-shell mode: the service to address (dhcp4, dhcp6); may repeat; none = the agent")
    ctl.add_argument("command", nargs="?", default="list-commands",
                     help="a Kea command (kea-shell mode) or one of: leases, lease, ha")
    ctl.add_argument("rest", nargs=argparse.REMAINDER, help=argparse.SUPPRESS)
    ctl.set_defaults(func=run_ctl)


def run_ctl(args: argparse.Namespace, out: TextIO | None = None) -> int:
    out = out or sys.stdout
    try:
        if args.command in GROUPS:
            sub_args = build_group_parser(args.command).parse_args(args.rest)
            merged = argparse.Namespace(**{**vars(args), **vars(sub_args)})
            return int(merged.func(merged, out))
        if args.rest:
            sys.stderr.write(f"leasesync ctl: unexpected arguments after {args.command}: {' '.join(args.rest)}\n"
                             "(the command's arguments are read from stdin)\n")
            return EXIT_USAGE
        return run_raw(args, out)
    except CtlError as exc:
        sys.stderr.write(f"leasesync ctl: {exc}\n")
        return exc.code
