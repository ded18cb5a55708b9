"""config-test sent to dhcp4/dhcp6 checks a configuration as Kea 2.2's daemon does (in-process, SQLite).

Kea's texts come from its recorded answers (tests/kea_cases.py "config-test/*" cases). Kea ends
most of them with " (<wire>:0:N)", the position of the element in the command its daemon
received; leasesync gives the same (the differential sweep compares them, tests/test_wire_positions
pins how they are counted), and these tests, about which check refuses what, leave it out. After
Kea's checks, leasesync's own parser still refuses what leasesync cannot run (memfile).
"""

from __future__ import annotations

import re
from typing import Any

from tests.conftest import KeaClient

SANE = ("Configuration seems sane. Control-socket, hook-libraries, and D2 configuration were sanity checked, "
        "but not applied.")
NET = "10.0.0.0/24"


def _without_position(answer: dict[str, Any]) -> dict[str, Any]:
    return {**answer, "text": re.sub(r" ?\(<wire>:0:\d+\)$", "", answer["text"])}


async def check4(client: KeaClient, dhcp4: Any, **more: Any) -> dict[str, Any]:
    return _without_position(await client.one("config-test", "dhcp4", {"Dhcp4": dhcp4, **more}))


async def check6(client: KeaClient, dhcp6: Any) -> dict[str, Any]:
    return _without_position(await client.one("config-test", "dhcp6", {"Dhcp6": dhcp6}))


async def test_a_sane_configuration_passes(sqlite_client: KeaClient) -> None:
    answer = await check4(sqlite_client, {"subnet4": [{"id": 1, "subnet": NET, "pools": [{"pool": "10.0.0.10 - 10.0.0.20"}]}],
                                          "valid-lifetime": 4000})
    assert answer == {"result": 0, "text": SANE}


async def test_a_section_that_is_not_a_map_is_refused(sqlite_client: KeaClient) -> None:
    answer = await check4(sqlite_client, [])
    assert answer == {"result": 1, "text": "'Dhcp4' parameter expected to be a map."}


async def test_other_top_level_sections_are_named_in_key_order(sqlite_client: KeaClient) -> None:
    answer = await check4(sqlite_client, {}, b=1, a=2)
    assert answer == {"result": 1, "text": "Unsupported 'a' parameter (and 'b')."}


async def test_duplicate_subnet_ids_are_refused(sqlite_client: KeaClient) -> None:
    answer = await check4(sqlite_client, {"subnet4": [{"id": 1, "subnet": NET}, {"id": 1, "subnet": "10.0.1.0/24"}]})
    assert answer == {"result": 1, "text": "ID of the new IPv4 subnet '1' is already in use"}


async def test_a_subnet_without_id_takes_the_next_counter_value_not_the_next_free_id(sqlite_client: KeaClient) -> None:
    answer = await check4(sqlite_client, {"subnet4": [{"id": 1, "subnet": NET}, {"subnet": "10.0.1.0/24"}]})
    assert answer == {"result": 1, "text": "ID of the new IPv4 subnet '1' is already in use"}


async def test_duplicate_subnet_prefixes_are_refused(sqlite_client: KeaClient) -> None:
    answer = await check6(sqlite_client, {"subnet6": [{"id": 1, "subnet": "2001:db8:1::/64"},
                                                      {"id": 2, "subnet": "2001:db8:1::/64"}]})
    assert answer == {"result": 1, "text": "subnet with the prefix of '2001:db8:1::/64' already exists"}


async def test_a_pool_outside_its_subnet_is_refused(sqlite_client: KeaClient) -> None:
    answer = await check4(sqlite_client, {"subnet4": [{"id": 1, "subnet": NET, "pools": [{"pool": "10.0.1.0/25"}]}]})
    assert answer == {"result": 1, "text": "subnet configuration failed: a pool of type V4, with the following address "
                      "range: 10.0.1.0-10.0.1.127 does not match the prefix of a subnet: 10.0.0.0/24 to which it is "
                      "being added"}


async def test_overlapping_pools_are_refused(sqlite_client: KeaClient) -> None:
    answer = await check4(sqlite_client, {"subnet4": [{"id": 1, "subnet": NET, "pools": [
        {"pool": "10.0.0.0/25"}, {"pool": "10.0.0.100-10.0.0.200"}]}]})
    assert answer == {"result": 1, "text": "subnet configuration failed: a pool of type V4, with the following address "
                      "range: 10.0.0.100-10.0.0.200 overlaps with an existing pool in the subnet: 10.0.0.0/24 to "
                      "which it is being added"}


async def test_a_bad_prefix_length_is_refused(sqlite_client: KeaClient) -> None:
    answer = await check4(sqlite_client, {"subnet4": [{"id": 1, "subnet": "10.0.0.0/33"}]})
    assert answer == {"result": 1, "text": "subnet configuration failed: Invalid prefix length specified for subnet: 33"}


async def test_a_wrong_type_in_a_subnet_names_the_key(sqlite_client: KeaClient) -> None:
    answer = await check4(sqlite_client, {"subnet4": [{"id": 1, "subnet": NET, "valid-lifetime": "x", "foo": 1}]})
    assert answer == {"result": 1, "text": "'valid-lifetime' parameter is not an integer"}


async def test_a_global_value_of_the_wrong_type_is_refused_in_the_subnets_that_inherit_it(sqlite_client: KeaClient) -> None:
    answer = await check4(sqlite_client, {"renew-timer": "x", "subnet4": [{"subnet": NET}]})
    assert answer == {"result": 1, "text": "'renew-timer' parameter is not an integer"}


async def test_a_global_lifetime_of_the_wrong_type_is_refused_without_kea_position(sqlite_client: KeaClient) -> None:
    answer = await check4(sqlite_client, {"valid-lifetime": "x"})
    assert answer == {"result": 1, "text": "intValue() called on non-integer Element in"}


async def test_an_unknown_key_in_a_subnet_is_spurious(sqlite_client: KeaClient) -> None:
    answer = await check4(sqlite_client, {"subnet4": [{"id": 1, "subnet": NET, "foo": 1}]})
    assert answer == {"result": 1, "text": "spurious 'foo' parameter"}


async def test_an_unknown_global_key_is_named_in_keas_words(sqlite_client: KeaClient) -> None:
    answer = await check4(sqlite_client, {"valid-lifetime": 10, "foo-bar": 1})
    assert answer == {"result": 1, "text": "unsupported global configuration parameter: foo-bar"}


async def test_a_key_of_the_other_family_is_an_unknown_global_key(sqlite_client: KeaClient) -> None:
    answer = await check4(sqlite_client, {"preferred-lifetime": 3000})
    assert answer == {"result": 1, "text": "unsupported global configuration parameter: preferred-lifetime"}


async def test_subnets_are_checked_before_unknown_global_keys(sqlite_client: KeaClient) -> None:
    answer = await check4(sqlite_client, {"aaa": 1, "subnet4": [{"id": 1, "subnet": NET}, {"id": 1, "subnet": "10.0.1.0/24"}]})
    assert answer == {"result": 1, "text": "ID of the new IPv4 subnet '1' is already in use"}


async def test_unknown_hook_libraries_are_refused_first(sqlite_client: KeaClient) -> None:
    answer = await check4(sqlite_client, {"foo": 1, "hooks-libraries": [{"library": "/nope.so"}, {"library": "/bin/sh"}]})
    assert answer == {"result": 1, "text": "hooks libraries failed to validate - library or libraries in error are: "
                      "/nope.so, /bin/sh"}


async def test_hook_libraries_leasesync_implements_pass_wherever_they_are(sqlite_client: KeaClient) -> None:
    answer = await check4(sqlite_client, {"hooks-libraries": [{"library": "/nonexistent/libdhcp_lease_cmds.so"}]})
    assert answer == {"result": 0, "text": SANE}


async def test_a_duplicate_shared_network_name_is_refused(sqlite_client: KeaClient) -> None:
    answer = await check4(sqlite_client, {"shared-networks": [{"name": "a"}, {"name": "a"}]})
    assert answer == {"result": 1, "text": "duplicate network 'a' found in the configuration"}


async def test_an_unknown_lease_database_type_is_refused(sqlite_client: KeaClient) -> None:
    answer = await check4(sqlite_client, {"lease-database": {"type": "bogus"}})
    assert answer == {"result": 1, "text": "unknown backend database type: bogus"}


async def test_memfile_is_refused_in_leasesyncs_words_after_keas_checks(sqlite_client: KeaClient) -> None:
    answer = await check4(sqlite_client, {"lease-database": {"type": "memfile"}})
    assert answer["result"] == 1
    assert answer["text"].startswith("Dhcp4.lease-database.type: lease database type 'memfile' is not supported by leasesync")


async def test_a_bad_delegated_length_is_refused(sqlite_client: KeaClient) -> None:
    answer = await check6(sqlite_client, {"subnet6": [{"id": 1, "subnet": "2001:db8::/64", "pd-pools": [
        {"prefix": "3000::", "prefix-len": 64, "delegated-len": 48}]}]})
    assert answer == {"result": 1, "text": "Delegated length (48) must be longer than or equal to prefix length (64)"}


async def test_a_lifetime_above_its_maximum_is_refused(sqlite_client: KeaClient) -> None:
    answer = await check4(sqlite_client, {"max-valid-lifetime": 50, "subnet4": [{"subnet": NET, "valid-lifetime": 100}]})
    assert answer == {"result": 1, "text": "subnet configuration failed: the value of (default) valid-lifetime (100) is "
                      "not less than max-valid-lifetime (50)"}


async def test_the_agent_still_checks_its_leasesync_section(sqlite_client: KeaClient) -> None:
    answer = await sqlite_client.one("config-test", None, {"LeaseSync": {"http-port": 8000, "foo": 1}})
    assert answer == {"result": 1, "text": "LeaseSync.foo: unsupported parameter 'foo'"}


async def test_a_refusal_ends_with_the_position_of_the_element_kea_names(sqlite_client: KeaClient) -> None:
    # { "arguments": { "Dhcp4": { "subnet4": [ { "id": 1, "pools": [ { "pool": "x" } ], ...
    answer = await sqlite_client.one("config-test", "dhcp4", {"Dhcp4": {"subnet4": [
        {"id": 1, "subnet": NET, "pools": [{"pool": "x"}]}]}})
    assert answer["text"].endswith("There are two acceptable formats <min address-max address> or <prefix/len> "
                                   "(<wire>:0:73)")
    # some texts name the element without a space, as Kea prints them
    answer = await sqlite_client.one("config-test", "dhcp4", {"Dhcp4": {"hooks-libraries": [{"foo": 1}]}})
    assert answer["text"] == "unknown hooks library parameter: foo(<wire>:0:50)"


async def test_an_interface_this_host_lacks_is_refused_as_by_kea_s_config_test(sqlite_client: KeaClient) -> None:
    dhcp4 = {"subnet4": [{"id": 1, "subnet": NET}], "interfaces-config": {"interfaces": ["lo", "leasesync-none0"]}}
    assert await sqlite_client.one("config-test", "dhcp4", {"Dhcp4": dhcp4}) == {
        "result": 1, "text": "Failed to select interface: interface 'leasesync-none0' doesn't exist in the system "
                             "(<wire>:0:73) (<wire>:0:66)"}


async def test_an_address_the_interface_lacks_is_refused(sqlite_client: KeaClient) -> None:
    dhcp6 = {"subnet6": [{"id": 1, "subnet": "2001:db8:1::/64"}], "interfaces-config": {"interfaces": ["lo/fe80::1"]}}
    answer = await sqlite_client.one("config-test", "dhcp6", {"Dhcp6": dhcp6})
    assert answer["text"].startswith("Failed to select interface: interface 'lo' doesn't have address 'fe80::1' assigned")


async def test_the_loopback_interface_and_its_address_are_selected(sqlite_client: KeaClient) -> None:
    dhcp4 = {"subnet4": [{"id": 1, "subnet": NET}], "interfaces-config": {"interfaces": ["lo/127.0.0.1", "*"]}}
    assert await check4(sqlite_client, dhcp4) == {"result": 0, "text": SANE}


async def test_dhcp_ddns_is_checked_before_the_subnets_as_kea_does(sqlite_client: KeaClient) -> None:
    dhcp4 = {"subnet4": [{"id": 1, "subnet": NET, "pools": [{"pool": "192.0.2.1 - 192.0.2.5"}]}],
             "dhcp-ddns": {"enable-updates": False, "server-ip": "x"}}
    assert await sqlite_client.one("config-test", "dhcp4", {"Dhcp4": dhcp4}) == {
        "result": 1, "text": "Failed to convert 'x' to address: Failed to convert string to address 'x': Invalid "
                             "argument(<wire>:0:81)"}


async def test_a_default_value_is_named_as_kea_names_it(sqlite_client: KeaClient) -> None:
    dhcp4 = {"subnet4": [{"id": 1, "subnet": NET}],
             "dhcp-ddns": {"enable-updates": False, "server-ip": "0.0.0.0", "server-port": 0}}
    assert await sqlite_client.one("config-test", "dhcp4", {"Dhcp4": dhcp4}) == {
        "result": 1, "text": "D2ClientConfig error: server and sender cannot share the exact same IP address/port: "
                             "0.0.0.0/0 (<default-value>:0:0)"}


async def test_a_host_database_is_checked_as_the_lease_database_is(sqlite_client: KeaClient) -> None:
    dhcp4 = {"subnet4": [{"id": 1, "subnet": NET}], "hosts-database": {"type": "mysql", "port": 70000}}
    assert await sqlite_client.one("config-test", "dhcp4", {"Dhcp4": dhcp4}) == {
        "result": 1, "text": "port value: 70000 is out of range, expected value: 0..65535 (<wire>:0:56)"}


async def test_kea_2_2_reads_read_timeout_as_a_string(sqlite_client: KeaClient) -> None:
    database = {"type": "postgresql", "name": "kea", "read-timeout": 5}
    answer = await sqlite_client.one("config-test", "dhcp4", {"Dhcp4": {"subnet4": [{"id": 1, "subnet": NET}],
                                                                        "lease-database": database}})
    assert answer["text"] == "invalid value type specified for parameter 'read-timeout' (<wire>:0:79)"


async def test_a_global_kea_reads_at_run_time_is_not_checked_as_a_subnet_s(sqlite_client: KeaClient) -> None:
    # Kea 2.2 copies only some globals into its subnets when it parses them (renew-timer, ...)
    assert await check4(sqlite_client, {"subnet4": [{"id": 1, "subnet": NET}], "authoritative": 5}) == {
        "result": 0, "text": SANE}
    assert await check4(sqlite_client, {"subnet4": [{"id": 1, "subnet": NET}], "renew-timer": "x"}) == {
        "result": 1, "text": "'renew-timer' parameter is not an integer"}


async def test_multi_threading_is_checked_before_the_other_containers(sqlite_client: KeaClient) -> None:
    dhcp4 = {"subnet4": [{"id": 1, "subnet": NET}], "client-classes": 5, "multi-threading": {"thread-pool-size": -1}}
    assert await sqlite_client.one("config-test", "dhcp4", {"Dhcp4": dhcp4}) == {
        "result": 1, "text": "thread pool size code must not be negative (<wire>:0:90)"}
