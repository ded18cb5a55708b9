"""`config-get` sent to a family answers like Kea 2.2's daemon: the running configuration, i.e. the
given keys with Kea's normalisations plus every key Kea fills with a default.

The values below were established by asking kea-dhcp4/kea-dhcp6 2.2 (config-get on the control
socket); tests/kea_cases.py's "config-get/*" cases prove the differential topologies against the
recorded answers.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from tests.conftest import KeaClient, service_config


async def _dhcp(make_client: Any, db: dict[str, Any], family: int, **extra: Any) -> dict[str, Any]:
    client: KeaClient = await make_client(service_config(db, **{f"dhcp{family}_extra": extra}))
    answer = await client.one("config-get", f"dhcp{family}")
    assert answer["result"] == 0
    config: dict[str, Any] = answer["arguments"][f"Dhcp{family}"]
    return config


async def test_dhcp4_config_get_fills_keas_global_defaults(make_client: Any, sqlite_database: dict[str, Any]) -> None:
    config = await _dhcp(make_client, sqlite_database, 4)
    assert config["decline-probation-period"] == 86400
    assert config["t1-percent"] == 0.5 and config["t2-percent"] == 0.875 and config["calculate-tee-times"] is False
    assert config["match-client-id"] is True and config["authoritative"] is False
    assert config["next-server"] == "0.0.0.0" and config["hooks-libraries"] == [] and config["shared-networks"] == []
    assert config["interfaces-config"] == {"interfaces": [], "re-detect": False}
    assert config["dhcp-queue-control"] == {"capacity": 64, "enable-queue": False, "queue-type": "kea-ring4"}
    assert config["host-reservation-identifiers"] == ["hw-address", "duid", "circuit-id", "client-id"]
    assert "preferred-lifetime" not in config and "server-id" not in config


async def test_dhcp6_config_get_fills_keas_global_defaults(make_client: Any, sqlite_database: dict[str, Any]) -> None:
    config = await _dhcp(make_client, sqlite_database, 6)
    assert config["t2-percent"] == 0.8 and config["calculate-tee-times"] is True
    assert config["mac-sources"] == ["any"] and config["relay-supplied-options"] == ["65"]
    assert config["server-id"] == {"enterprise-id": 0, "htype": 0, "identifier": "", "persist": True, "time": 0,
                                   "type": "LLT"}
    assert "authoritative" not in config and "next-server" not in config


async def test_given_maps_are_merged_over_keas_defaults(make_client: Any, sqlite_database: dict[str, Any]) -> None:
    config = await _dhcp(make_client, sqlite_database, 4, **{"expired-leases-processing": {"max-reclaim-leases": 50},
                                                             "interfaces-config": {"interfaces": []}})
    assert config["expired-leases-processing"] == {
        "flush-reclaimed-timer-wait-time": 25, "hold-reclaimed-time": 3600, "max-reclaim-leases": 50,
        "max-reclaim-time": 250, "reclaim-timer-wait-time": 10, "unwarned-reclaim-cycles": 5}
    assert config["interfaces-config"] == {"interfaces": [], "re-detect": True}


async def test_subnet_shows_inherited_lifetimes_and_their_bounds(make_client: Any, sqlite_database: dict[str, Any]) -> None:
    config = await _dhcp(make_client, sqlite_database, 4, **{"min-valid-lifetime": 1000})
    first, second = config["subnet4"]
    assert (first["min-valid-lifetime"], first["valid-lifetime"], first["max-valid-lifetime"]) == (1000, 4000, 4000)
    assert (second["min-valid-lifetime"], second["valid-lifetime"], second["max-valid-lifetime"]) == (1000, 7200, 7200)
    assert "max-valid-lifetime" not in config


async def test_subnet_gets_keas_subnet_defaults(make_client: Any, sqlite_database: dict[str, Any]) -> None:
    subnet = (await _dhcp(make_client, sqlite_database, 6))["subnet6"][1]
    assert subnet == {"calculate-tee-times": True, "id": 2, "max-preferred-lifetime": 3000, "max-valid-lifetime": 4000,
                      "min-preferred-lifetime": 3000, "min-valid-lifetime": 4000, "option-data": [], "pd-pools": [],
                      "pools": [], "preferred-lifetime": 3000, "rapid-commit": False, "relay": {"ip-addresses": []},
                      "reservations": [], "store-extended-info": False, "subnet": "2001:db8:2::/64",
                      "t1-percent": 0.5, "t2-percent": 0.8, "valid-lifetime": 4000}


async def test_subnet_of_a_shared_network_inherits_from_the_network(make_client: Any,
                                                                    sqlite_database: dict[str, Any]) -> None:
    network = {"name": "net", "valid-lifetime": 1600, "subnet4": [{"id": 10, "subnet": "10.0.0.0/24"}]}
    config = await _dhcp(make_client, sqlite_database, 4, **{"shared-networks": [network]})
    shown = config["shared-networks"][0]
    assert shown["valid-lifetime"] == 1600 and shown["relay"] == {"ip-addresses": []} and shown["option-data"] == []
    assert shown["subnet4"][0]["valid-lifetime"] == 1600 and shown["subnet4"][0]["4o6-subnet"] == ""


async def test_comment_is_shown_inside_user_context(make_client: Any, sqlite_database: dict[str, Any]) -> None:
    config = await _dhcp(make_client, sqlite_database, 4, comment="top", **{"user-context": {"a": 1}})
    assert config["user-context"] == {"a": 1, "comment": "top"} and "comment" not in config


async def test_pool_that_is_one_prefix_is_shown_as_the_prefix(make_client: Any, sqlite_database: dict[str, Any]) -> None:
    subnet = {"id": 3, "subnet": "203.0.113.0/24", "pools": [{"pool": "203.0.113.0 - 203.0.113.127"},
                                                              {"pool": "203.0.113.130 - 203.0.113.140"}]}
    config = await _dhcp(make_client, sqlite_database, 4, **{"shared-networks": [{"name": "n", "subnet4": [subnet]}]})
    pools = config["shared-networks"][0]["subnet4"][0]["pools"]
    assert pools == [{"option-data": [], "pool": "203.0.113.0/25"}, {"option-data": [], "pool": "203.0.113.130-203.0.113.140"}]


async def test_option_data_is_shown_with_code_name_space_and_flags(make_client: Any,
                                                                  sqlite_database: dict[str, Any]) -> None:
    config = await _dhcp(make_client, sqlite_database, 4, **{"option-data": [{"name": "domain-name-servers",
                                                                              "data": "192.0.2.1"}]})
    assert config["option-data"] == [{"always-send": False, "code": 6, "csv-format": True, "data": "192.0.2.1",
                                      "name": "domain-name-servers", "space": "dhcp4"}]


async def test_hex_option_data_is_shown_upper_case_without_separators(make_client: Any,
                                                                      sqlite_database: dict[str, Any]) -> None:
    config = await _dhcp(make_client, sqlite_database, 6, **{"option-data": [{"code": 65000, "csv-format": False,
                                                                              "data": "0a 0B"}]})
    assert config["option-data"] == [{"always-send": False, "code": 65000, "csv-format": False, "data": "0A0B",
                                      "space": "dhcp6"}]


async def test_reservation_gets_keas_host_defaults(make_client: Any, sqlite_database: dict[str, Any]) -> None:
    subnet = {"id": 3, "subnet": "203.0.113.0/24", "reservations": [{"hw-address": "AA:BB:CC:DD:EE:FF",
                                                                      "ip-address": "203.0.113.5"}]}
    config = await _dhcp(make_client, sqlite_database, 4, **{"shared-networks": [{"name": "n", "subnet4": [subnet]}]})
    assert config["shared-networks"][0]["subnet4"][0]["reservations"] == [{
        "boot-file-name": "", "client-classes": [], "hostname": "", "hw-address": "aa:bb:cc:dd:ee:ff",
        "ip-address": "203.0.113.5", "next-server": "0.0.0.0", "option-data": [], "server-hostname": ""}]


async def test_logger_outputs_get_keas_defaults(make_client: Any, sqlite_database: dict[str, Any], tmp_path: Path) -> None:
    logger = {"name": "kea-dhcp4", "severity": "INFO",
              "output_options": [{"output": str(tmp_path / "x.log")}, {"output": "stdout", "maxver": 2}]}
    config = await _dhcp(make_client, sqlite_database, 4, loggers=[logger])
    assert config["loggers"] == [{"debuglevel": 0, "name": "kea-dhcp4", "severity": "INFO", "output_options": [
        {"flush": True, "maxsize": 10240000, "maxver": 1, "output": str(tmp_path / "x.log"), "pattern": ""},
        {"flush": True, "output": "stdout", "pattern": ""}]}]


async def test_lease_database_is_shown_as_given_with_the_password_redacted(make_client: Any,
                                                                         sqlite_database: dict[str, Any]) -> None:
    db = {**sqlite_database, "password": "Db-Secret-7"}
    client = await make_client(service_config(db))
    answer = await client.one("config-get", "dhcp4")
    assert answer["arguments"]["Dhcp4"]["lease-database"] == {**sqlite_database, "password": "*****"}
    assert "Db-Secret-7" not in json.dumps(answer)


async def test_agent_config_get_still_answers_the_leasesync_section(sqlite_client: KeaClient) -> None:
    answer = await sqlite_client.one("config-get")
    assert list(answer["arguments"]) == ["LeaseSync"]
    assert "decline-probation-period" not in json.dumps(answer)


async def test_config_write_writes_the_configuration_as_given(sqlite_client: KeaClient, tmp_path: Path) -> None:
    target = tmp_path / "written.json"
    answer = await sqlite_client.one("config-write", "dhcp4", {"filename": str(target)})
    assert answer["result"] == 0
    written = json.loads(target.read_text())
    assert written == sqlite_client.runtime.config.raw
    assert "decline-probation-period" not in written["Dhcp4"]


async def test_config_reload_after_config_write_succeeds(sqlite_client: KeaClient) -> None:
    assert (await sqlite_client.one("config-write", "dhcp4"))["result"] == 0
    answer = await sqlite_client.one("config-reload", "dhcp4")
    assert answer == {"result": 0, "text": "Configuration successful."}


async def test_config_get_shows_the_sample_defaults_the_set_all_commands_left(make_client: Any,
                                                                               sqlite_database: dict[str, Any]) -> None:
    # Kea 2.2, asked: each *-set-all replaces its own default in the running configuration,
    # the count as the uint32 Kea keeps (2^32 + 1 reads 1)
    client: KeaClient = await make_client(service_config(sqlite_database))

    async def defaults() -> tuple[int, int]:
        config = (await client.one("config-get", "dhcp4"))["arguments"]["Dhcp4"]
        return config["statistic-default-sample-count"], config["statistic-default-sample-age"]

    assert await defaults() == (20, 0)
    await client.one("statistic-sample-age-set-all", "dhcp4", {"duration": 5})
    assert await defaults() == (20, 5)
    await client.one("statistic-sample-count-set-all", "dhcp4", {"max-samples": 7})
    assert await defaults() == (7, 5)
    await client.one("statistic-sample-count-set-all", "dhcp4", {"max-samples": 2**32 + 1})
    assert await defaults() == (1, 5)
