"""Start-up and config-reload refuse what Kea's daemon refuses, naming the path of the scope."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from app.config import parse_config
from app.errors import ConfigError
from tests.conftest import KeaClient, free_port, service_config

NET4 = "192.0.2.0/24"


def refusal(dhcp4: dict[str, Any]) -> str:
    with pytest.raises(ConfigError) as caught:
        parse_config({"Dhcp4": dhcp4})
    return str(caught.value)


def test_a_pool_outside_its_subnet_fails_start_up_naming_the_subnet() -> None:
    text = refusal({"subnet4": [{"id": 1, "subnet": NET4, "pools": [{"pool": "10.0.0.1 - 10.0.0.9"}]}]})
    assert text == ("Dhcp4.subnet4[0]: subnet configuration failed: a pool of type V4, with the following address "
                    "range: 10.0.0.1-10.0.0.9 does not match the prefix of a subnet: 192.0.2.0/24 to which it is being added")


def test_overlapping_pools_fail_start_up() -> None:
    text = refusal({"subnet4": [{"id": 1, "subnet": NET4, "pools": [{"pool": "192.0.2.10-192.0.2.20"},
                                                                     {"pool": "192.0.2.0/28"}]}]})
    assert text.startswith("Dhcp4.subnet4[0]: subnet configuration failed: a pool of type V4")
    assert "overlaps with an existing pool" in text


def test_the_same_prefix_twice_fails_start_up_naming_the_second() -> None:
    text = refusal({"subnet4": [{"id": 1, "subnet": NET4}, {"id": 2, "subnet": NET4}]})
    assert text == "Dhcp4.subnet4[1]: subnet with the prefix of '192.0.2.0/24' already exists"


def test_the_same_network_with_other_host_bits_is_accepted_as_kea_does() -> None:
    # Kea compares the prefixes as written (kea-dhcp4 -t accepts this file)
    config = parse_config({"Dhcp4": {"subnet4": [{"id": 1, "subnet": NET4}, {"id": 2, "subnet": "192.0.2.77/24"}]}})
    assert config.dhcp4 is not None and sorted(config.dhcp4.subnets) == [1, 2]


def test_a_subnet_in_a_shared_network_is_named_by_its_path() -> None:
    text = refusal({"shared-networks": [{"name": "a", "subnet4": [{"id": 1, "subnet": NET4}]},
                                        {"name": "b", "subnet4": [{"id": 2, "subnet": NET4}]}]})
    assert text == "Dhcp4.shared-networks[1].subnet4[0]: subnet with the prefix of '192.0.2.0/24' already exists"


def test_kea_reads_shared_networks_before_subnet4_so_the_top_level_subnet_is_the_duplicate() -> None:
    text = refusal({"subnet4": [{"id": 1, "subnet": NET4}],
                    "shared-networks": [{"name": "lab", "subnet4": [{"id": 2, "subnet": NET4}]}]})
    assert text == "Dhcp4.subnet4[0]: subnet with the prefix of '192.0.2.0/24' already exists"


def test_an_unknown_key_in_a_pool_fails_start_up() -> None:
    text = refusal({"subnet4": [{"id": 1, "subnet": NET4, "pools": [{"pool": "192.0.2.10-192.0.2.20", "pol": 1}]}]})
    assert text == "Dhcp4.subnet4[0].pools[0]: spurious 'pol' parameter"


def test_a_subnet_value_of_the_wrong_type_fails_start_up() -> None:
    assert refusal({"subnet4": [{"id": 1, "subnet": NET4, "t1-percent": "half"}]}) == \
        "Dhcp4.subnet4[0]: 't1-percent' parameter is not a real"


def test_lifetime_bounds_fail_start_up() -> None:
    assert refusal({"valid-lifetime": 10, "min-valid-lifetime": 20}) == \
        "Dhcp4: the value of min-valid-lifetime (20) is not less than (default) valid-lifetime (10)"


def test_a_global_comment_and_an_uninstalled_hook_library_are_accepted_from_a_file() -> None:
    # Kea's file parser keeps a global comment; leasesync loads no library but its own two
    config = parse_config({"Dhcp4": {"comment": "site A", "subnet4": [{"id": 1, "subnet": NET4}],
                                     "hooks-libraries": [{"library": "/opt/kea/lib/libdhcp_stat_cmds.so"}]}})
    assert config.dhcp4 is not None and list(config.dhcp4.subnets) == [1]


def test_serve_exits_1_with_the_refusal_and_its_path(tmp_path: Path, sqlite_database: dict[str, Any]) -> None:
    config = service_config(sqlite_database, dhcp6=False)
    config["Dhcp4"]["subnet4"] = [{"id": 1, "subnet": NET4, "pools": [{"pool": "192.0.3.1-192.0.3.9"}]}]
    path = tmp_path / "leasesync.json"
    path.write_text(json.dumps(config))
    done = subprocess.run([sys.executable, "-m", "app.cli", "serve", "-c", str(path)], capture_output=True,
                          text=True, timeout=60)
    assert done.returncode == 1
    assert "configuration error: Dhcp4.subnet4[0]: subnet configuration failed: a pool of type V4" in done.stderr


@pytest.mark.postgres
@pytest.mark.parametrize("command", [["serve"], ["db", "upgrade"]])
def test_serve_exits_1_naming_a_database_it_cannot_reach_without_a_traceback(tmp_path: Path, command: list[str]) -> None:
    db = {"type": "postgresql", "name": "leasesync", "host": "127.0.0.1", "port": free_port(), "user": "postgres",
          "password": "hunter2", "connect-timeout": 2}
    path = tmp_path / "leasesync.json"
    path.write_text(json.dumps(service_config(db, dhcp6=False)))
    done = subprocess.run([sys.executable, "-m", "app.cli", *command, "-c", str(path)], capture_output=True,
                          text=True, timeout=60)
    assert done.returncode == 1
    assert f"cannot open the lease database postgresql+psycopg://postgres:*****@127.0.0.1:{db['port']}/leasesync: " \
           "connection failed:" in done.stderr
    assert "Connection refused" in done.stderr
    assert "Traceback" not in done.stderr and "hunter2" not in done.stderr


async def test_config_reload_of_a_refused_file_keeps_the_running_subnets(make_client: Any, tmp_path: Path,
                                                                         sqlite_database: dict[str, Any]) -> None:
    client: KeaClient = await make_client(service_config(sqlite_database, dhcp6=False))
    path = tmp_path / "leasesync.json"  # the file make_client's runtime was started from
    bad = service_config(sqlite_database, dhcp6=False)
    bad["Dhcp4"]["subnet4"] = [{"id": 1, "subnet": NET4}, {"id": 2, "subnet": NET4}]
    path.write_text(json.dumps(bad))
    answer = await client.one("config-reload", "dhcp4")
    assert answer == {"result": 1, "text": "Config reload failed: Dhcp4.subnet4[1]: subnet with the prefix of "
                                           "'192.0.2.0/24' already exists"}
    added = await client.one("lease4-add", "dhcp4", {"ip-address": "192.0.2.50", "hw-address": "1a:1b:1c:1d:1e:1f"})
    assert added["result"] == 0


async def _valid_lft(client: KeaClient, family: int, address: str) -> int:
    args = ({"ip-address": address, "hw-address": "1a:1b:1c:1d:1e:1f"} if family == 4
            else {"ip-address": address, "duid": "01:02:03:04", "iaid": 1})
    assert (await client.one(f"lease{family}-add", f"dhcp{family}", args))["result"] == 0
    got = await client.one(f"lease{family}-get", f"dhcp{family}", {"ip-address": address})
    return int(got["arguments"]["valid-lft"])


async def test_config_reload_applies_only_the_section_of_the_daemon_it_was_sent_to(
        make_client: Any, tmp_path: Path, sqlite_database: dict[str, Any]) -> None:
    # as with Kea, where each daemon reloads its own configuration
    client: KeaClient = await make_client(service_config(sqlite_database))
    changed = service_config(sqlite_database, dhcp4_extra={"valid-lifetime": 5000},
                             dhcp6_extra={"valid-lifetime": 5000})
    (tmp_path / "leasesync.json").write_text(json.dumps(changed))
    assert (await client.one("config-reload"))["result"] == 0  # the agent's: no family changes
    assert (await _valid_lft(client, 4, "192.0.2.50"), await _valid_lft(client, 6, "2001:db8:1::50")) == (4000, 4000)
    assert (await client.one("config-reload", "dhcp4"))["result"] == 0
    assert (await _valid_lft(client, 4, "192.0.2.51"), await _valid_lft(client, 6, "2001:db8:1::51")) == (5000, 4000)
    assert (await client.one("config-reload", "dhcp6"))["result"] == 0
    assert await _valid_lft(client, 6, "2001:db8:1::52") == 5000
    running = await client.one("config-get", "dhcp6")
    assert running["arguments"]["Dhcp6"]["valid-lifetime"] == 5000


async def test_config_reload_of_one_family_leaves_the_others_statistics_alone(
        make_client: Any, tmp_path: Path, sqlite_database: dict[str, Any]) -> None:
    # found by tests/kea_fuzz.py: a reload sent to dhcp6 or to the agent restarted dhcp4's samples
    config = service_config(sqlite_database)
    (tmp_path / "leasesync.json").write_text(json.dumps(config))
    client: KeaClient = await make_client(config)
    await _valid_lft(client, 4, "192.0.2.60")
    await _valid_lft(client, 4, "192.0.2.61")
    assert (await client.one("lease4-del", "dhcp4", {"ip-address": "192.0.2.61"}))["result"] == 0
    name = "subnet[1].assigned-addresses"
    assert (await client.one("config-reload", "dhcp6"))["result"] == 0
    assert (await client.one("config-reload"))["result"] == 0
    samples = (await client.one("statistic-get", "dhcp4", {"name": name}))["arguments"][name]
    assert [value for value, _ in samples] == [1, 2, 1, 0]  # a dhcp4 reload would leave [1, 0]


# Kea 2.2 numbers subnets without an id 1, 2, 3, ... (shared networks first) and refuses an id
# two subnets end up with; each text below is kea-dhcp4's for the same subnets.

def test_an_automatic_id_that_an_explicit_one_already_has_fails_start_up() -> None:
    text = refusal({"subnet4": [{"id": 1, "subnet": "10.1.0.0/24"}, {"subnet": "10.0.0.0/24"}]})
    assert text == "Dhcp4.subnet4[1]: ID of the new IPv4 subnet '1' is already in use"


def test_automatic_ids_skip_no_explicit_id_and_collide_with_it() -> None:
    text = refusal({"subnet4": [{"id": 2, "subnet": "10.1.0.0/24"}, {"subnet": "10.0.0.0/24"},
                                {"subnet": "10.3.0.0/24"}]})
    assert text == "Dhcp4.subnet4[2]: ID of the new IPv4 subnet '2' is already in use"


def test_two_explicit_ids_alike_fail_start_up_in_kea_s_words() -> None:
    text = refusal({"subnet4": [{"id": 5, "subnet": "10.0.0.0/24"}, {"id": 5, "subnet": "10.1.0.0/24"}]})
    assert text == "Dhcp4.subnet4[1]: ID of the new IPv4 subnet '5' is already in use"


def test_two_subnets_alike_in_one_shared_network_are_a_conflict_of_the_network() -> None:
    text = refusal({"shared-networks": [{"name": "n", "subnet4": [{"id": 5, "subnet": "10.1.0.0/24"},
                                                                  {"id": 5, "subnet": "10.2.0.0/24"}]}]})
    assert text == "Dhcp4.shared-networks[0].subnet4[1]: can't store subnet because of conflict"


def test_shared_networks_subnets_get_the_first_automatic_ids() -> None:
    config = parse_config({"Dhcp4": {"subnet4": [{"id": 7, "subnet": "10.0.0.0/24"}, {"subnet": "10.3.0.0/24"}],
                                     "shared-networks": [{"name": "n", "subnet4": [{"subnet": "10.1.0.0/24"}]}]}})
    assert config.dhcp4 is not None
    assert {str(s.prefix): s.id for s in config.dhcp4.subnets.values()} == {
        "10.1.0.0/24": 1, "10.3.0.0/24": 2, "10.0.0.0/24": 7}


def test_a_reservation_with_a_key_kea_does_not_know_fails_start_up() -> None:
    text = refusal({"subnet4": [{"id": 1, "subnet": NET4, "reservations": [
        {"hw-address": "aa:bb:cc:dd:ee:ff", "ip-address": "192.0.2.5", "addresss": "x"}]}]})
    assert text == "Dhcp4.subnet4[0]: unsupported configuration parameter 'addresss'"


def test_a_comment_in_a_reservation_is_accepted_from_a_file_as_kea_s_file_parser_does() -> None:
    config = parse_config({"Dhcp4": {"subnet4": [{"id": 1, "subnet": NET4, "reservations": [
        {"hw-address": "aa:bb:cc:dd:ee:ff", "ip-address": "192.0.2.5", "comment": "printer"}]}]}})
    assert config.dhcp4 is not None


def test_a_hook_library_entry_takes_only_library_and_parameters_as_in_kea_2_2() -> None:
    with pytest.raises(ConfigError) as caught:
        parse_config({"Dhcp4": {"hooks-libraries": [{"library": "libdhcp_lease_cmds.so", "comment": "lease commands"}]}})
    assert str(caught.value) == "Dhcp4.hooks-libraries[0].comment: unsupported parameter 'comment'"


def test_an_empty_client_class_in_a_subnet_leaves_its_network_s_class_in_force() -> None:
    # kea-dhcp4 2.2 answers lease4-add without subnet-id for 10.0.0.5 here: failed to find a subnet
    import ipaddress

    config = parse_config({"Dhcp4": {"client-classes": [{"name": "x"}], "shared-networks": [
        {"name": "n", "client-class": "x", "subnet4": [{"id": 1, "subnet": "10.0.0.0/24", "client-class": ""}]}]}})
    assert config.dhcp4 is not None
    assert config.dhcp4.subnet_for(ipaddress.ip_address("10.0.0.5")) is None


def test_an_interface_this_host_lacks_does_not_stop_start_up() -> None:
    # Kea's file start-up would refuse it; leasesync opens no DHCP socket and may run elsewhere
    config = parse_config({"Dhcp4": {"subnet4": [{"id": 1, "subnet": NET4}],
                                     "interfaces-config": {"interfaces": ["leasesync-none0", "lo/127.0.0.9"]}}})
    assert config.dhcp4 is not None


def test_an_interface_named_twice_fails_start_up_as_in_kea() -> None:
    text = refusal({"subnet4": [{"id": 1, "subnet": NET4}], "interfaces-config": {"interfaces": ["eth1", "eth1"]}})
    assert text.endswith("Failed to select interface: interface 'eth1' has already been specified")


def test_dhcp_ddns_without_enable_updates_fails_start_up_as_kea_s_grammar_does() -> None:
    text = refusal({"subnet4": [{"id": 1, "subnet": NET4}], "dhcp-ddns": {"server-ip": "127.0.0.1"}})
    assert text.endswith("missing parameter 'enable-updates'")


def test_a_d2_sender_of_the_other_family_fails_start_up() -> None:
    text = refusal({"subnet4": [{"id": 1, "subnet": NET4}], "dhcp-ddns": {"enable-updates": True, "sender-ip": "::1"}})
    assert text.endswith("D2ClientConfig error: address family mismatch: server-ip: 127.0.0.1 is: IPv4 while "
                         "sender-ip: ::1 is: IPv6")


def test_a_later_kea_s_integer_read_timeout_starts_from_a_file() -> None:
    config = parse_config({"Dhcp4": {"subnet4": [{"id": 1, "subnet": NET4}],
                                     "lease-database": {"type": "sqlite", "name": "x.db", "read-timeout": 5}}})
    assert config.dhcp4 is not None


def test_an_expiration_limit_above_kea_s_maximum_fails_start_up() -> None:
    text = refusal({"subnet4": [{"id": 1, "subnet": NET4}], "expired-leases-processing": {"max-reclaim-time": 20000}})
    assert "out range value '20000' for configuration parameter 'max-reclaim-time', expected maximum value of " \
           "'10000'" in text


def test_two_config_databases_alike_fail_start_up() -> None:
    database = {"type": "mysql", "name": "kea"}
    text = refusal({"subnet4": [{"id": 1, "subnet": NET4}], "config-control": {"config-databases": [database, database]}})
    assert "database with access parameters: name=kea type=mysql already exists" in text


def test_a_subnet_s_interface_this_host_lacks_does_not_stop_start_up() -> None:
    config = parse_config({"Dhcp4": {"subnet4": [{"id": 1, "subnet": NET4, "interface": "eth9-not-here"}]}})
    assert config.dhcp4 is not None


def test_tee_times_kea_refuses_stop_start_up_with_the_subnet_s_path() -> None:
    text = refusal({"subnet4": [{"id": 1, "subnet": NET4}], "calculate-tee-times": True, "t1-percent": 0.9})
    assert text.endswith("Dhcp4.subnet4[0]: subnet configuration failed: t1-percent:  0.9 is invalid, it must be "
                         "less than t2-percent: 0.875")


def test_a_reservation_without_a_resource_fails_start_up_as_in_kea() -> None:
    text = refusal({"subnet4": [{"id": 1, "subnet": NET4, "reservations": [{"hw-address": "1a:1b:1c:1d:1e:1f"}]}]})
    assert text.endswith("specified reservation for DUID: hwtype=1 1a:1b:1c:1d:1e:1f must include at least one "
                         "resource, i.e. hostname, IPv4 address, IPv6 address/prefix, options")


def test_a_reservation_outside_its_subnet_fails_start_up_with_the_subnet_s_path() -> None:
    text = refusal({"subnet4": [{"id": 1, "subnet": NET4, "reservations": [
        {"hw-address": "1a:1b:1c:1d:1e:1f", "ip-address": "10.0.0.1"}]}]})
    assert text.endswith(f"Dhcp4.subnet4[0]: specified reservation '10.0.0.1' is not within the IPv4 subnet '{NET4}'")


async def test_a_serving_process_hides_what_start_up_made_from_the_collector(sqlite_database: dict[str, Any]) -> None:
    """Once `serve` listens, start-up's objects are frozen (cli.settle_heap): a full collection under
    load then walks only what came later instead of stopping the loop for tens of milliseconds."""
    import asyncio
    import gc
    import socket

    from app.cli import _uvicorn_server
    from app.main import build_app, build_runtime

    config = parse_config(service_config(sqlite_database))
    server = _uvicorn_server(build_app(build_runtime(config)), config)
    listener = socket.create_server(("127.0.0.1", 0))
    assert gc.get_freeze_count() == 0
    serving = asyncio.create_task(server.serve(sockets=[listener]))
    try:
        for _ in range(500):
            if server.started or serving.done():
                break
            await asyncio.sleep(0.01)
        assert server.started
        assert gc.get_freeze_count() > 10_000
    finally:
        server.should_exit = True
        await asyncio.wait_for(serving, 30)
        listener.close()
        gc.unfreeze()
