"""config-set: a configuration in the command's arguments, checked as config-test checks it and
applied as config-reload applies the file's section (Kea's config-set)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import KeaClient, make_database, service_config

HW = "1a:1b:1c:1d:1e:1f"


async def running(client: KeaClient, section: str = "Dhcp4") -> dict[str, Any]:
    ans = await client.one("config-get", "dhcp4" if section == "Dhcp4" else ("dhcp6" if section == "Dhcp6" else None))
    return ans["arguments"][section]  # type: ignore[no-any-return]


async def test_config_get_edit_config_set_applies_the_edit(sqlite_client: KeaClient) -> None:
    dhcp4 = await running(sqlite_client)
    for level in (dhcp4, dhcp4["subnet4"][0]):  # config-get shows Kea's bounds at both levels
        level.update({"valid-lifetime": 1234, "min-valid-lifetime": 1234, "max-valid-lifetime": 1234})
    assert await sqlite_client.one("config-set", "dhcp4", {"Dhcp4": dhcp4}) == {
        "result": 0, "text": "Configuration successful."}
    assert await sqlite_client.one("lease4-add", "dhcp4", {"ip-address": "192.0.2.20", "hw-address": HW}) == {
        "result": 0, "text": "Lease for address 192.0.2.20, subnet-id 1 added."}
    lease = (await sqlite_client.one("lease4-get", "dhcp4", {"ip-address": "192.0.2.20"}))["arguments"]
    assert lease["valid-lft"] == 1234
    assert (await running(sqlite_client))["subnet4"][0]["valid-lifetime"] == 1234


async def test_a_new_subnet_is_served_and_counted(sqlite_client: KeaClient) -> None:
    dhcp4 = await running(sqlite_client)
    dhcp4["subnet4"].append({"id": 9, "subnet": "203.0.113.0/24", "pools": [{"pool": "203.0.113.10 - 203.0.113.19"}]})
    assert (await sqlite_client.one("config-set", "dhcp4", {"Dhcp4": dhcp4}))["result"] == 0
    added = await sqlite_client.one("lease4-add", "dhcp4", {"ip-address": "203.0.113.10", "hw-address": HW})
    assert added["text"] == "Lease for address 203.0.113.10, subnet-id 9 added."
    total = await sqlite_client.one("statistic-get", "dhcp4", {"name": "subnet[9].total-addresses"})
    assert total["arguments"]["subnet[9].total-addresses"][0][0] == 10


@pytest.mark.postgres
async def test_a_redacted_password_keeps_the_running_one(make_client: Any, tmp_path: Path) -> None:
    db, drop = make_database("postgresql", tmp_path)
    try:
        client = await make_client(service_config({**db, "password": "s3cret"}))
        dhcp4 = await running(client)
        assert dhcp4["lease-database"]["password"] == "*****"
        assert (await client.one("config-set", "dhcp4", {"Dhcp4": dhcp4}))["result"] == 0
        assert client.runtime.families[4].config.lease_database.password == "s3cret"
        assert client.runtime.config.raw["Dhcp4"]["lease-database"]["password"] == "s3cret"
    finally:
        await client.runtime.stop()
        drop()


async def test_a_changed_lease_database_needs_a_restart(sqlite_client: KeaClient, tmp_path: Path) -> None:
    dhcp4 = await running(sqlite_client)
    dhcp4["lease-database"] = {"type": "sqlite", "name": str(tmp_path / "other.db")}
    assert await sqlite_client.one("config-set", "dhcp4", {"Dhcp4": dhcp4}) == {
        "result": 1,
        "text": "Config set failed: changing the Dhcp4 lease-database or removing the family needs a restart"}


@pytest.mark.parametrize(("arguments", "text"), [
    (None, "Missing mandatory 'arguments' parameter."),
    ([], "Error during command processing: get(string) called on a non-map Element in (<wire>:0:16)"),
    ({}, "Missing mandatory 'Dhcp4' parameter."),
    ({"Dhcp6": {}}, "Missing mandatory 'Dhcp4' parameter."),
    ({"Dhcp4": []}, "'Dhcp4' parameter expected to be a map."),
    ({"Dhcp4": {"foo": 1}}, "unsupported global configuration parameter: foo (<wire>:0:35)"),
    ({"Dhcp4": {"valid-lifetime": 4000}, "foo": 1}, "Unsupported 'foo' parameter."),
    ({"Dhcp4": {"subnet4": [{"id": 1, "subnet": "10.0.0.0/8", "pools": [{"pool": "11.0.0.1-11.0.0.5"}]}]}},
     "subnet configuration failed: a pool of type V4, with the following address range: 11.0.0.1-11.0.0.5 does not "
     "match the prefix of a subnet: 10.0.0.0/8 to which it is being added (<wire>:0:42)"),
])
async def test_a_refused_configuration_is_keas_error_and_changes_nothing(sqlite_client: KeaClient, arguments: Any,
                                                                        text: str) -> None:
    before = await running(sqlite_client)
    assert await sqlite_client.one("config-set", "dhcp4", arguments) == {"result": 1, "text": text}
    assert await running(sqlite_client) == before


async def test_config_write_saves_what_config_set_applied(make_client: Any, sqlite_database: dict[str, Any],
                                                          tmp_path: Path) -> None:
    client = await make_client(service_config(sqlite_database))
    dhcp4 = await running(client)
    dhcp4["user-context"] = {"note": "set at run time"}
    assert (await client.one("config-set", "dhcp4", {"Dhcp4": dhcp4}))["result"] == 0
    target = tmp_path / "written.json"
    assert (await client.one("config-write", "dhcp4", {"filename": str(target)}))["result"] == 0
    assert json.loads(target.read_text())["Dhcp4"]["user-context"] == {"note": "set at run time"}


async def test_the_agent_sets_its_leasesync_section(sqlite_client: KeaClient) -> None:
    section = {"http-host": "127.0.0.1", "http-port": 8000, "max-request-size": 123456}
    assert await sqlite_client.one("config-set", None, {"LeaseSync": section}) == {
        "result": 0, "text": "Configuration applied successfully."}
    assert (await sqlite_client.one("config-get"))["arguments"]["LeaseSync"]["max-request-size"] == 123456
    assert await sqlite_client.one("config-set", None, {"Control-agent": {}}) == {
        "result": 1, "text": "Missing mandatory 'LeaseSync' parameter."}
    assert (await sqlite_client.one("config-set", None, {"LeaseSync": {"http-port": "x"}}))["result"] == 1


async def test_the_agent_s_config_test_answers_in_kea_ctrl_agent_s_words(sqlite_client: KeaClient) -> None:
    section = {"http-host": "127.0.0.1", "http-port": 8000}
    assert await sqlite_client.one("config-test", None, {"LeaseSync": section}) == {
        "result": 0, "text": "Configuration check successful"}
    for command in ("config-test", "config-set"):
        assert await sqlite_client.one(command, None, {"LeaseSync": [section]}) == {
            "result": 1, "text": "'LeaseSync' parameter expected to be a map."}


async def test_the_agent_names_arguments_that_are_not_a_map_by_line_and_column(sqlite_client: KeaClient) -> None:
    body = b'{"command": "config-set",\n "arguments": [\n  1]}'
    answer = (await sqlite_client.raw(body, {"Content-Type": "application/json"})).json()
    assert answer == [{"result": 1, "text": "Error during command processing: get(string) called on a non-map "
                                           "Element in (<string>:2:16)"}]


async def test_with_a_control_socket_the_local_kea_is_reconfigured(make_client: Any, sqlite_database: dict[str, Any]) -> None:
    from tests.kea_harness import KeaServer, require_kea

    require_kea()
    with KeaServer(4, start_agent=False) as kea:
        sockets = {"control-sockets": {"dhcp4": {"socket-type": "unix", "socket-name": kea.socket_path}}}
        client = await make_client(service_config(sqlite_database, extra_agent=sockets))
        ours = await running(client)
        # Kea's own configuration with another global lifetime: Kea takes it, leasesync's stays
        answer = await client.one("config-set", "dhcp4", {"Dhcp4": {**kea.dhcp_config["Dhcp4"], "valid-lifetime": 777}})
        assert answer == {"result": 0, "text": "Configuration successful."}
        keas = await client.runtime.forwarder.forward("dhcp4", {"command": "config-get", "service": ["dhcp4"]})
        assert keas["arguments"]["Dhcp4"]["valid-lifetime"] == 777
        assert await running(client) == ours
