"""The HA hook's commands, asked of a real Kea 2.2 and of leasesync configured alike.

A kea-dhcp4/kea-dhcp6 with libdhcp_ha.so behind kea-ctrl-agent and a `leasesync serve` get the
same `high-availability` relationship (this server `server1`, its partner and a backup on ports
where nothing listens) and then the same sequence of HA commands, in the same order: every
argument shape an administrator's script or a newer Kea peer might send, and the state changes
they cause (maintenance, reset, scopes). Each answer must equal Kea's; heartbeat answers are
compared without their `date-time` and without the `leasesync` key leasesync adds (README, High
Availability: Kea ignores it).

Where Kea 2.2's hook throws out of its command handler (kea-ctrl-agent then answers `unable to
forward command ... End of file`, and the daemon has sent nothing), leasesync answers result 1
with the text of the exception Kea throws (README, "Where leasesync deliberately differs").
`ha-sync` naming this server is not sent to Kea: Kea sends the sync's commands to its own URL and
answers when they time out; leasesync refuses it at once.
"""

from __future__ import annotations

import contextlib
import copy
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest

from tests.conftest import ServerProcess, free_port, make_database, service_config
from tests.kea_harness import HA_HOOK, KeaServer, require_kea

pytestmark = [pytest.mark.slow, pytest.mark.kea, pytest.mark.timeout(180)]

SUBNET4 = [{"id": 1, "subnet": "192.0.2.0/24", "pools": [{"pool": "192.0.2.10 - 192.0.2.200"}]}]
SUBNET6 = [{"id": 1, "subnet": "2001:db8:1::/64", "pools": [{"pool": "2001:db8:1::100 - 2001:db8:1::1ff"}]}]
PARTNER_ROLE = {"hot-standby": "standby", "load-balancing": "secondary", "passive-backup": "backup"}
KEA_THREW = "unable to forward command to the dhcp{family} service: End of file. The server is likely to be offline"
WRONG_SHAPES: list[Any] = [None, 1, "x", [], True, 1.5, {}, {"server-name": "server1"}, {"server-name": 5},
                           {"foo": 1}]
OMIT = object()


def ha_hook(mode: str, own_url: str, **extra: Any) -> dict[str, Any]:
    peers = [{"name": "server1", "url": own_url, "role": "primary", "auto-failover": True},
             {"name": "server2", "url": f"http://127.0.0.1:{free_port()}/", "role": PARTNER_ROLE[mode],
              "auto-failover": True},
             {"name": "server3", "url": f"http://127.0.0.1:{free_port()}/", "role": "backup"}]
    # long timers: no state changes on their own while the sequence runs
    relationship = {"this-server-name": "server1", "mode": mode, "peers": peers, "heartbeat-delay": 10000,
                    "max-response-delay": 60000, "max-ack-delay": 5000, "max-unacked-clients": 0, **extra}
    return {"library": str(HA_HOOK), "parameters": {"high-availability": [relationship]}}


def sequence(family: int) -> list[dict[str, Any]]:
    """The envelopes both servers get, in order."""
    service = [f"dhcp{family}"]
    out: list[dict[str, Any]] = []

    def add(command: str, arguments: Any = OMIT) -> None:
        out.append({"command": command, "service": service,
                    **({} if arguments is OMIT else {"arguments": arguments})})

    for command in ("ha-heartbeat", "ha-continue", "ha-scopes", "ha-sync", "ha-maintenance-notify",
                    "ha-maintenance-start", "ha-maintenance-cancel", "ha-reset", "ha-sync-complete-notify"):
        add(command)
        for shape in WRONG_SHAPES:
            if not (command == "ha-sync" and shape == {"server-name": "server1"}):  # this server: see below
                add(command, shape)
        add("ha-heartbeat")
    for scopes in (None, 1, "server1", [], ["server1"], ["server2"], ["server1", "server2"], ["nope"], [1],
                   [None], ["server1", "server1"], ["server3"], [["server1"]], {"a": 1}):
        add("ha-scopes", {"scopes": scopes})
        add("ha-heartbeat")
    for name in (None, 1, "server2", "server3", "nope", "", True, ["server2"]):
        add("ha-sync", {"server-name": name})
    for period in (None, 0, -1, 1, 1.5, "10", True, 4294967296, {}):
        add("ha-sync", {"server-name": "server2", "max-period": period})
    for cancel in (None, 1, 0, "true", True, False, [], {}, True, False):
        add("ha-maintenance-notify", {"cancel": cancel})
        add("ha-heartbeat")
    for command in ("ha-maintenance-cancel", "ha-continue", "ha-reset", "ha-heartbeat", "status-get",
                    "ha-maintenance-start", "ha-heartbeat", "status-get", "ha-maintenance-cancel", "ha-heartbeat"):
        add(command)
    return out


def kea_thrown_text(envelope: dict[str, Any], mode: str) -> str:
    """What Kea 2.2's hook throws for a request it gives no answer to (from its source)."""
    command, arguments = envelope["command"], envelope.get("arguments")
    if command == "ha-maintenance-notify":
        if not isinstance(arguments, dict) or "cancel" not in arguments:
            return "'cancel' is mandatory for the 'ha-maintenance-notify' command"
        return "'cancel' must be a boolean in the 'ha-maintenance-notify' command"
    if command == "ha-sync":
        return f"no configuration specified for server {arguments['server-name']}"
    if command == "ha-maintenance-start" and mode == "passive-backup":
        return "no failover partner server found for this server server1"
    raise AssertionError(f"Kea 2.2 was not expected to throw on {envelope}")


def comparable(body: Any, command: str) -> Any:
    """`body` without what moves with time or is leasesync's own: a heartbeat's `date-time` and
    `leasesync` key; status-get's pid, uptime, reload and the partner's `age` (kept as keys, their
    values zeroed) and each relationship's `leasesync` key."""
    if command not in ("ha-heartbeat", "status-get") or not isinstance(body, list):
        return body
    out = copy.deepcopy(body)
    for item in out:
        arguments = item.get("arguments") if isinstance(item, dict) else None
        if not isinstance(arguments, dict):
            continue
        if command == "ha-heartbeat":
            arguments.pop("date-time", None)
            arguments.pop("leasesync", None)
            continue
        zero(arguments, "pid", "uptime", "reload")
        for relationship in arguments.get("high-availability", []):
            relationship.pop("leasesync", None)
            zero(relationship.get("ha-servers", {}).get("remote", {}), "age")
    return out


def zero(values: dict[str, Any], *keys: str) -> None:
    for key in keys:
        if key in values:
            values[key] = 0


def post(url: str, envelope: dict[str, Any]) -> tuple[int, Any]:
    response = httpx.post(url, content=orjson.dumps(envelope), headers={"Content-Type": "application/json"},
                          timeout=15)
    return response.status_code, response.json()


@contextlib.contextmanager
def kea_and_leasesync(mode: str, family: int, tmp_path: Path,
                      **extra: Any) -> Iterator[tuple[KeaServer, ServerProcess]]:
    kea_port, ls_port = free_port(), free_port()
    subnets = SUBNET4 if family == 4 else SUBNET6
    kea = KeaServer(family, subnets, http_port=kea_port, extra_config={
        "multi-threading": {"enable-multi-threading": False}},
        hooks_libraries=[ha_hook(mode, f"http://127.0.0.1:{kea_port}/", **extra)])
    db = make_database("sqlite", tmp_path)[0]
    hook = ha_hook(mode, f"http://127.0.0.1:{ls_port}/", **extra)
    if family == 4:
        config = service_config(db, port=ls_port, dhcp6=False,
                                dhcp4_extra={"subnet4": SUBNET4, "hooks-libraries": [hook]})
    else:
        config = service_config(db, port=ls_port, dhcp6_extra={"subnet6": SUBNET6, "hooks-libraries": [hook]})
    leasesync = ServerProcess(config, tmp_path)
    with kea:
        try:
            yield kea, leasesync.start()
        finally:
            leasesync.stop()


@pytest.mark.parametrize(("mode", "family"), [("hot-standby", 4), ("load-balancing", 4), ("passive-backup", 4),
                                              ("hot-standby", 6)])
def test_ha_commands_answer_as_kea_22_does(mode: str, family: int, tmp_path: Path) -> None:
    require_kea()
    mismatches: list[str] = []
    kea_threw = 0
    with kea_and_leasesync(mode, family, tmp_path) as (kea, leasesync):
        for envelope in sequence(family):
            kea_status, kea_body = post(kea.url, envelope)
            ls_status, ls_body = post(leasesync.url, envelope)
            if kea_body == [{"result": 1, "text": KEA_THREW.format(family=family)}]:
                kea_threw += 1
                kea_body = [{"result": 1, "text": kea_thrown_text(envelope, mode)}]
            command = envelope["command"]
            if (kea_status, comparable(kea_body, command)) != (ls_status, comparable(ls_body, command)):
                mismatches.append(f"{orjson.dumps(envelope).decode()}\n  Kea:       {kea_status} {kea_body}"
                                  f"\n  leasesync: {ls_status} {ls_body}")
        own = post(leasesync.url, {"command": "ha-sync", "service": [f"dhcp{family}"],
                                   "arguments": {"server-name": "server1"}})
    assert not mismatches, "\n".join(mismatches)
    assert kea_threw >= 12  # the sequence does reach the places where Kea 2.2 gives no answer
    assert own == (200, [{"result": 1, "text": "'server-name' server1 is this server: "
                                              "name the server to fetch the leases from"}])


def test_a_paused_state_machine_answers_as_kea_22s_does(tmp_path: Path) -> None:
    """`state-machine` pauses: `once` in waiting and in-maintenance, `always` in partner-down."""
    require_kea()
    pauses = {"states": [{"state": "waiting", "pause": "once"}, {"state": "partner-down", "pause": "always"},
                         {"state": "in-maintenance", "pause": "once"}]}
    steps: list[tuple[str, Any]] = [
        ("ha-continue", OMIT), ("ha-continue", OMIT), ("ha-maintenance-start", OMIT), ("ha-continue", OMIT),
        ("ha-reset", OMIT), ("ha-continue", OMIT), ("ha-maintenance-notify", {"cancel": False}),
        ("ha-continue", OMIT), ("ha-maintenance-notify", {"cancel": True}), ("ha-continue", OMIT)]
    mismatches: list[str] = []
    with kea_and_leasesync("hot-standby", 4, tmp_path, **{"state-machine": pauses}) as (kea, leasesync):
        for command, arguments in steps:
            for envelope in ({"command": command, "service": ["dhcp4"],
                              **({} if arguments is OMIT else {"arguments": arguments})},
                             {"command": "ha-heartbeat", "service": ["dhcp4"]}):
                kea_answer, ls_answer = post(kea.url, envelope), post(leasesync.url, envelope)
                if (kea_answer[0], comparable(kea_answer[1], envelope["command"])) != (
                        ls_answer[0], comparable(ls_answer[1], envelope["command"])):
                    mismatches.append(f"{envelope}\n  Kea:       {kea_answer}\n  leasesync: {ls_answer}")
    assert not mismatches, "\n".join(mismatches)


def test_config_test_refuses_an_ha_block_without_peers_where_kea_22_calls_it_sane(tmp_path: Path) -> None:
    """A deliberate difference (README, config-test): Kea 2.2 does not look inside a hook's
    parameters before its config-set fails on them."""
    require_kea()
    with kea_and_leasesync("hot-standby", 4, tmp_path) as (kea, leasesync):
        answers = []
        for target in (kea.url, leasesync.url):
            config = post(target, {"command": "config-get", "service": ["dhcp4"]})[1][0]["arguments"]
            ha = next(hook for hook in config["Dhcp4"]["hooks-libraries"] if "ha" in hook["library"])
            del ha["parameters"]["high-availability"][0]["peers"]
            answers.append(post(target, {"command": "config-test", "service": ["dhcp4"], "arguments": config})[1])
    assert answers[0] == [{"result": 0, "text": "Configuration seems sane. Control-socket, hook-libraries, and D2 "
                                                "configuration were sanity checked, but not applied."}]
    assert answers[1] == [{"result": 1, "text": "Dhcp4.hooks-libraries[0].parameters.high-availability[0]: "
                                                "'peers' parameter missing in HA configuration"}]
