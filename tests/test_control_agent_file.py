"""leasesync started on a kea-ctrl-agent configuration file stands where kea-ctrl-agent stood: its
address, its authentication, its control sockets (commands for the families go to the local Kea),
and config-get/config-set/config-test of the agent are about that `Control-agent` section."""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

import httpx
import pytest

from app.config import load_config, parse_config
from tests import kea_cases
from tests.conftest import KeaClient, ServerProcess, free_port, service_config
from tests.kea_harness import KeaServer, require_kea

CREDENTIALS = ("admin", "s3cret")


def _control_agent_file(port: int, socket_path: str) -> str:
    """A kea-ctrl-agent.conf as an administrator has it: Kea's dialect, comments included."""
    return f"""
// the control agent of this site
{{ "Control-agent": {{
    "http-host": "127.0.0.1",
    "http-port": {port},
    "authentication": {{ "type": "basic", "realm": "kea-control-agent",
                        "clients": [ {{ "user": "{CREDENTIALS[0]}", "password": "{CREDENTIALS[1]}" }} ] }},
    "control-sockets": {{ "dhcp4": {{ "socket-type": "unix", "socket-name": "{socket_path}" }} }},
    "loggers": [ {{ "name": "kea-ctrl-agent", "severity": "INFO",
                   "output_options": [ {{ "output": "stdout" }} ] }} ],  # as Kea ships it
}} }}
"""


def test_a_control_agent_section_configures_the_agent_when_there_is_no_leasesync_section() -> None:
    config = parse_config({"Control-agent": {"http-host": "127.0.0.2", "http-port": 8001}})
    assert (config.agent_section, config.agent.http_host, config.agent.http_port) == ("Control-agent", "127.0.0.2", 8001)


def test_a_leasesync_section_wins_over_a_control_agent_section(tmp_path: Path,
                                                              caplog: pytest.LogCaptureFixture) -> None:
    path = tmp_path / "leasesync.json"
    path.write_text(json.dumps({"LeaseSync": {"http-port": 8002}, "Control-agent": {"http-port": 8001}}))
    with caplog.at_level(logging.WARNING, logger="leasesync.config"):
        config = load_config(path)
    assert (config.agent_section, config.agent.http_port) == ("LeaseSync", 8002)
    assert "the Control-agent section is not used" in caplog.text


async def test_config_get_set_and_test_of_the_agent_are_about_the_control_agent_section(
        make_client: Any, sqlite_database: dict[str, Any]) -> None:
    config = service_config(sqlite_database)
    config["Control-agent"] = config.pop("LeaseSync")
    client: KeaClient = await make_client(config)
    got = await client.one("config-get")
    assert list(got["arguments"]) == ["Control-agent"]
    section = {**got["arguments"]["Control-agent"], "max-request-size": 4096}
    assert (await client.one("config-test", None, {"Control-agent": section}))["result"] == 0
    assert await client.one("config-set", None, {"Control-agent": section}) == {
        "result": 0, "text": "Configuration applied successfully."}
    assert (await client.one("config-get"))["arguments"]["Control-agent"]["max-request-size"] == 4096
    assert await client.one("config-set", None, {"LeaseSync": section}) == {
        "result": 1, "text": "Missing mandatory 'Control-agent' parameter."}


def test_serve_on_a_kea_ctrl_agent_file_listens_authenticates_and_forwards_as_the_agent_did(tmp_path: Path) -> None:
    require_kea()
    with KeaServer(4, start_agent=False) as kea:
        port = free_port()
        proc = ServerProcess({"LeaseSync": {"http-port": port}}, tmp_path, "ctrl-agent")
        try:
            proc.start(text=_control_agent_file(port, kea.socket_path))
            body = {"command": "lease4-add", "service": ["dhcp4"],
                    "arguments": {"ip-address": "192.0.2.50", "hw-address": "1a:1b:1c:1d:1e:1f"}}
            assert httpx.post(proc.url, json=body, timeout=10).status_code == 401
            added = httpx.post(proc.url, json=body, auth=CREDENTIALS, timeout=10).json()
            assert added == [{"result": 0, "text": "Lease for address 192.0.2.50, subnet-id 1 added."}]
            # the lease is in Kea's own lease database: leasesync serves no Dhcp4 of its own here
            in_kea = kea.socket_command({"command": "lease4-get", "arguments": {"ip-address": "192.0.2.50"}})
            assert in_kea["result"] == 0 and in_kea["arguments"]["hw-address"] == "1a:1b:1c:1d:1e:1f"
        finally:
            proc.stop()


async def test_config_get_of_the_agent_shows_the_section_as_kea_ctrl_agent_does(make_client: Any) -> None:
    require_kea()
    with KeaServer(4) as kea:  # kea-ctrl-agent with a control socket and a file logger
        expected = kea.command("config-get", None)
        client: KeaClient = await make_client(kea.agent_config)
    assert await client.command("config-get") == expected


# what an administrator asks the agent about the daemon behind it; each leaves the daemon as it was
FORWARDED = [
    {"command": "list-commands"}, {"command": "list-commands", "service": ["dhcp4"]},
    {"command": "version-get", "service": ["dhcp4"]}, {"command": "status-get", "service": ["dhcp4"]},
    {"command": "lease4-get", "service": ["dhcp4"], "arguments": {"ip-address": "192.0.2.50"}},
    {"command": "lease4-get", "arguments": {"ip-address": "192.0.2.50"}},
    {"command": "lease4-get-all", "service": ["dhcp4"]},
    {"command": "lease4-get-all", "service": ["dhcp4", "dhcp6"]},
    {"command": "lease6-get-all", "service": ["dhcp6"]},
    {"command": "statistic-get", "service": ["dhcp4"], "arguments": {"name": "pkt4-received"}},
    {"command": "dhcp-disable", "service": ["dhcp4"]}, {"command": "dhcp-enable", "service": ["dhcp4"]},
    {"command": "subnet4-list", "service": ["dhcp4"]}, {"command": "nope", "service": ["dhcp4"]},
    {"command": "config-test", "service": ["dhcp4"], "arguments": {"Dhcp4": {}}},
    {"command": "ha-heartbeat", "service": ["dhcp4"]}, {"command": "config-get", "service": ["d2"]},
]


def test_forwarded_commands_answer_as_kea_ctrl_agent_does(tmp_path: Path) -> None:
    """leasesync with only `control-sockets` beside kea-ctrl-agent, both in front of one kea-dhcp4
    (a lease in it): the same answers, process ids and times aside."""
    require_kea()

    def comparable(response: httpx.Response) -> tuple[int, Any]:
        body = kea_cases.normalise(response.json())  # a recent cltt, statistics' sample times
        for answer in body if isinstance(body, list) else [body]:
            arguments = answer.get("arguments") if isinstance(answer, dict) else None
            for key in ("pid", "uptime", "reload"):  # status-get: the process and its clock
                if isinstance(arguments, dict) and key in arguments:
                    arguments[key] = 0
        return response.status_code, body

    with KeaServer(4) as kea:
        kea.socket_command({"command": "lease4-add", "arguments": {"ip-address": "192.0.2.50",
                                                                   "hw-address": "1a:1b:1c:1d:1e:1f"}})
        port = free_port()
        proc = ServerProcess({"LeaseSync": {"http-host": "127.0.0.1", "http-port": port, "control-sockets": {
            "dhcp4": {"socket-type": "unix", "socket-name": kea.socket_path}}}}, tmp_path, "agent")
        try:
            proc.start()
            mismatches = []
            for envelope in FORWARDED:
                theirs = comparable(httpx.post(kea.url, json=envelope, timeout=10))
                ours = comparable(httpx.post(proc.url, json=envelope, timeout=10))
                if theirs != ours:
                    mismatches.append(f"{envelope}\n  kea-ctrl-agent: {theirs}\n  leasesync:      {ours}")
        finally:
            proc.stop()
    assert not mismatches, "\n".join(mismatches)
