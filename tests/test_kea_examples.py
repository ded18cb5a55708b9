"""Kea's own example configurations, run by real Kea 2.2 and by leasesync: the lease commands an
administrator sends without a `subnet-id` land in the same subnets, with the same lifetimes, and
the subnets' statistics agree.

Kea's examples (package kea-doc) have shared networks, client classes, subnets without ids,
nested prefixes, lifetimes at every level: the shapes the differential topologies of
tests/kea_cases.py only sample. What is local to a DHCP server (interfaces, hooks, host and
lease back-ends, loggers) is left out on both sides; the memfile lease database becomes SQLite
for leasesync.
"""

from __future__ import annotations

import ipaddress
from pathlib import Path
from typing import Any

import pytest

from app.config_text import parse
from tests import kea_cases
from tests.conftest import KeaClient
from tests.kea_harness import OMIT, KeaServer, require_kea, unavailable

EXAMPLES = Path("/usr/share/doc/kea/examples")
# the examples whose subnets differ in shape (the others repeat one subnet with other options)
CHOSEN = ["kea4/advanced.json", "kea4/all-keys.json", "kea4/classify.json", "kea4/several-subnets.json",
          "kea4/shared-network.json", "kea6/advanced.json", "kea6/all-keys.json", "kea6/classify.json",
          "kea6/classify2.json", "kea6/shared-network.json", "kea6/tee-times.json", "kea6/several-subnets.json"]
# what a DHCP server keeps for itself; neither side needs it to answer lease commands
LOCAL_ONLY = {"interfaces-config", "lease-database", "hosts-database", "hosts-databases", "hooks-libraries",
              "control-socket", "loggers", "config-control", "dhcp-ddns", "dhcp4o6-port", "server-id",
              "multi-threading", "expired-leases-processing", "sanity-checks"}
TIMERS_OFF = {"reclaim-timer-wait-time": 0, "flush-reclaimed-timer-wait-time": 0}


def _without_interfaces(value: Any) -> None:
    """Subnets and networks bound to an interface this machine lacks would stop Kea."""
    if isinstance(value, dict):
        value.pop("interface", None)
        for inner in value.values():
            _without_interfaces(inner)
    elif isinstance(value, list):
        for inner in value:
            _without_interfaces(inner)


def _section(name: str, left_out: set[str] = LOCAL_ONLY) -> tuple[int, dict[str, Any]]:
    """The example's family and its section without the keys `left_out` (and, when those are
    the ones local to a DHCP server, without interfaces)."""
    path = EXAMPLES / name
    if not path.is_file():
        unavailable("Kea's example configurations (apt-get install kea-doc)")
    family = 4 if name.startswith("kea4") else 6
    document, _ = parse(path.read_text(), str(path))
    section = {k: v for k, v in document[f"Dhcp{family}"].items() if k not in left_out}
    if left_out is LOCAL_ONLY:
        _without_interfaces(section)
    return family, section


def _kea(family: int, section: dict[str, Any], **more: Any) -> KeaServer:
    """Real Kea configured with the example's section (the harness adds its sockets and hooks)."""
    return KeaServer(family, subnets=section.get(f"subnet{family}", []),
                     valid_lifetime=section.get("valid-lifetime", 7200),
                     preferred_lifetime=section.get("preferred-lifetime") if family == 6 else None,
                     extra_config={k: v for k, v in section.items() if k != f"subnet{family}"}, **more)


def _subnets(section: dict[str, Any], family: int) -> list[dict[str, Any]]:
    subnets = list(section.get(f"subnet{family}", []))
    for network in section.get("shared-networks", []):
        subnets += network.get(f"subnet{family}", [])
    return subnets


def _probes(subnet: dict[str, Any]) -> list[str]:
    """An address near the start of the subnet and one in each of its first two pools."""
    network = ipaddress.ip_network(subnet["subnet"], strict=False)
    addresses = [str(network.network_address + 5)]
    for pool in subnet.get("pools", [])[:2]:
        text = pool["pool"].replace(" ", "")
        first = text.split("-")[0] if "-" in text else str(ipaddress.ip_network(text, strict=False).network_address)
        addresses.append(str(ipaddress.ip_address(first) + 1))
    return addresses


def _requests(section: dict[str, Any], family: int) -> list[tuple[str, Any]]:
    requests: list[tuple[str, Any]] = []
    for number, address in enumerate((a for s in _subnets(section, family) for a in _probes(s)), start=1):
        lease = ({"ip-address": address, "hw-address": f"1a:1b:1c:1d:{number >> 8:02x}:{number & 255:02x}"}
                 if family == 4 else {"ip-address": address, "duid": f"01:02:03:04:{number:02x}", "iaid": number})
        requests += [(f"lease{family}-add", lease), (f"lease{family}-get", {"ip-address": address})]
    outside = "203.0.113.77" if family == 4 else "3fff:ffff::7"
    requests += [(f"lease{family}-get", {"ip-address": outside}), (f"lease{family}-get-all", None)]
    return requests


def _changes(added: list[Any], subnet_ids: list[int], family: int) -> list[tuple[str, Any]]:
    """After the adds: a rename (the subnet inferred again), a delete, a wipe of the first
    subnet, the stat_cmds view of every subnet."""
    requests: list[tuple[str, Any]] = []
    if added:
        requests.append((f"lease{family}-update", {**added[0], "hostname": "renamed.example.org"}))
        requests.append((f"lease{family}-get", {"ip-address": added[0]["ip-address"]}))
    if len(added) > 1:
        requests.append((f"lease{family}-del", {"ip-address": added[-1]["ip-address"]}))
    requests.append((f"stat-lease{family}-get", None))
    if subnet_ids:
        requests.append((f"lease{family}-wipe", {"subnet-id": subnet_ids[0]}))
        requests.append((f"stat-lease{family}-get", {"subnet-id": subnet_ids[0]}))
    requests.append((f"lease{family}-get-all", None))
    return requests


def _subnet_statistics(answer: Any) -> dict[str, Any]:
    """The per-subnet totals and assigned counts, latest sample (both sides keep them)."""
    statistics = answer[0].get("arguments", {})
    return {name: samples[0][0] for name, samples in statistics.items()
            if name.startswith("subnet[") and ("total" in name or "assigned" in name)}


@pytest.mark.parametrize("name", CHOSEN)
async def test_kea_s_example_gives_the_same_answers(name: str, make_client: Any, tmp_path: Path) -> None:
    require_kea()
    family, section = _section(name)
    service = f"dhcp{family}"
    kea = _kea(family, section, hooks_libraries=["libdhcp_stat_cmds.so"], name="example").start()
    try:
        client: KeaClient = await make_client({f"Dhcp{family}": {
            **section, "lease-database": {"type": "sqlite", "name": str(tmp_path / "leases.db")},
            "expired-leases-processing": TIMERS_OFF}})

        async def both(command: str, arguments: Any) -> Any:
            expected = kea.command(command, [service], OMIT if arguments is None else arguments)
            got = await client.command(command, service, arguments)
            if command == "statistic-get-all":
                expected, got = _subnet_statistics(expected), _subnet_statistics(got)
            assert kea_cases.normalise(got) == kea_cases.normalise(expected), (command, arguments)
            return expected

        requests = _requests(section, family)
        added = [arguments for command, arguments in requests if command.endswith("-add")]
        for command, arguments in requests:
            await both(command, arguments)
        running = kea.command("config-get", [service])[0]["arguments"][f"Dhcp{family}"]
        subnet_ids = sorted(s["id"] for s in [*running[f"subnet{family}"], *(
            s for network in running["shared-networks"] for s in network[f"subnet{family}"])])
        kept = [a for a in added if (await client.one(f"lease{family}-get", service, {"ip-address": a["ip-address"]}))
                ["result"] == 0]
        for command, arguments in [*_changes(kept, subnet_ids, family), ("statistic-get-all", None)]:
            await both(command, arguments)
    finally:
        kea.stop()


# config-get: Kea computes option 43's data from the sub-options of vendor-specific.json's
# classes (README: option 43 is shown as given); kea6/all-options.json stops kea-dhcp6 2.2
# at its config-get
NOT_COMPARED = {"kea4/vendor-specific.json", "kea6/all-options.json"}
SHOWN_BY_KEA_ONLY = {"data-directory"}  # the test harness's directory for Kea's own files


def _all_examples() -> list[str]:
    names = [f"{p.parent.name}/{p.name}" for p in sorted(EXAMPLES.glob("kea[46]/*.json"))]
    return [n for n in names if n not in NOT_COMPARED] or ["(kea-doc missing)"]


@pytest.mark.parametrize("name", _all_examples())
async def test_config_get_of_kea_s_example_shows_what_kea_shows(name: str, make_client: Any, tmp_path: Path) -> None:
    """Defaults, normalisations and order (subnets by id, hosts by identifier, options by space)
    of the running configuration; what a DHCP server keeps for itself is left out on both sides."""
    require_kea()
    family, section = _section(name)
    service = f"dhcp{family}"
    with _kea(family, section, name="example-config") as kea:
        expected = kea.command("config-get", [service])[0]["arguments"][f"Dhcp{family}"]
    client: KeaClient = await make_client({f"Dhcp{family}": {
        **section, "lease-database": {"type": "sqlite", "name": str(tmp_path / "leases.db")}}})
    got = (await client.one("config-get", service))["arguments"][f"Dhcp{family}"]
    for key in LOCAL_ONLY | SHOWN_BY_KEA_ONLY:
        expected.pop(key, None)
        got.pop(key, None)
    assert got == expected


# config-test: Kea's examples as an administrator would test them before a config-set; the lease
# and host back-ends and hook libraries are left out on both sides (README: leasesync refuses
# memfile and takes its own hooks under any path), everything else is checked as Kea checks it
CONFIG_TEST_LEFT_OUT = {"lease-database", "hosts-database", "hosts-databases", "hooks-libraries"}


@pytest.fixture(scope="module")
def kea_daemons() -> Any:
    """One kea-dhcp4 and one kea-dhcp6 (each with its agent), for config-test only."""
    require_kea()
    daemons = {4: KeaServer(4, subnets=[{"id": 1, "subnet": "192.0.2.0/24"}], name="ct4").start(),
               6: KeaServer(6, subnets=[{"id": 1, "subnet": "2001:db8:1::/64"}], name="ct6").start()}
    yield daemons
    for daemon in daemons.values():
        daemon.stop()


def _verdict(answer: Any) -> tuple[Any, Any]:
    first = answer[0] if isinstance(answer, list) else answer
    return first.get("result"), first.get("text")


def _all_example_names() -> list[str]:
    return [f"{p.parent.name}/{p.name}" for p in sorted(EXAMPLES.glob("kea[46]/*.json"))] or ["(kea-doc missing)"]


@pytest.mark.parametrize("name", _all_example_names())
async def test_config_test_of_kea_s_example_answers_as_kea(name: str, kea_daemons: Any, make_client: Any,
                                                          sqlite_database: dict[str, Any]) -> None:
    family, section = _section(name, CONFIG_TEST_LEFT_OUT)
    client: KeaClient = await make_client({f"Dhcp{family}": {"lease-database": sqlite_database}})
    arguments = {f"Dhcp{family}": section}
    expected = kea_daemons[family].command("config-test", [f"dhcp{family}"], arguments)
    got = await client.command("config-test", f"dhcp{family}", arguments)
    assert _verdict(got) == _verdict(expected)


def _option_entries(value: Any) -> list[dict[str, Any]]:
    """Every option-data entry of a configuration, at any depth."""
    found: list[dict[str, Any]] = []
    if isinstance(value, dict):
        for key, inner in value.items():
            if key == "option-data" and isinstance(inner, list):
                found += [entry for entry in inner if isinstance(entry, dict)]
            else:
                found += _option_entries(inner)
    elif isinstance(value, list):
        for inner in value:
            found += _option_entries(inner)
    return found


@pytest.mark.parametrize("name", ["kea4/all-options.json", "kea6/all-options.json"])
async def test_config_test_of_each_option_given_a_bad_value_answers_as_kea(
        name: str, kea_daemons: Any, make_client: Any, sqlite_database: dict[str, Any]) -> None:
    """Every option of Kea's all-options example, in turn given values of other types, none, one
    too many, out of range, escaped: the refusals name the option, its space and code, the value's
    problem and the position as Kea does."""
    family, section = _section(name, CONFIG_TEST_LEFT_OUT)
    client: KeaClient = await make_client({f"Dhcp{family}": {"lease-database": sqlite_database}})
    mismatches = []
    for number, entry in enumerate(_option_entries(section)):
        original = entry.get("data")
        for bad in ("x", f"{original}, 1.5", "", "-1", "256", "70000", "::1", "192.0.2.1", "a..b", "0x1F", "true",
                    f"{original},", f"\\,{original}", "2001:db8::/200", "5/3", "1A B"):
            entry["data"] = bad
            arguments = {f"Dhcp{family}": section}
            expected = _verdict(kea_daemons[family].command("config-test", [f"dhcp{family}"], arguments))
            got = _verdict(await client.command("config-test", f"dhcp{family}", arguments))
            if got != expected:
                mismatches.append((number, entry.get("name"), bad, expected, got))
        entry["data"] = original
    assert not mismatches, "\n".join(map(repr, mismatches))


# a value of each field type that Kea's definitions accept in CSV format
_VALID = {"ipv4-address": "192.0.2.1", "ipv6-address": "2001:db8::1", "uint8": "1", "uint16": "2", "uint32": "3",
          "int8": "-1", "int16": "-2", "int32": "-3", "boolean": "true", "string": "abc", "fqdn": "example.org",
          "binary": "0102", "psid": "1/8", "ipv6-prefix": "2001:db8::/64", "tuple": "abc", "empty": ""}


@pytest.mark.parametrize("family", [4, 6])
async def test_config_test_of_each_standard_option_with_a_value_of_its_type_answers_as_kea(
        family: int, kea_daemons: Any, make_client: Any, sqlite_database: dict[str, Any]) -> None:
    """Every standard definition (its space named when it is not the family's own), given a value
    of each of its fields: what Kea accepts leasesync must accept too, or it would refuse to start
    on a configuration Kea runs (and what Kea refuses, such as v6 vendor-class's "0102", which its
    class reads as a tuple longer than the option, leasesync refuses)."""
    from app.kea_options import STANDARD

    client: KeaClient = await make_client({f"Dhcp{family}": {"lease-database": sqlite_database}})
    subnet = {"id": 1, "subnet": "192.0.2.0/24" if family == 4 else "2001:db8:1::/64"}
    own = {"dhcp4", "docsis3-v4"} if family == 4 else {space for space in STANDARD if space not in ("dhcp4", "docsis3-v4")}
    mismatches = []
    for space in sorted(own):
        for definition in STANDARD[space]:
            fields = definition.records or (definition.type,)
            data = ", ".join(_VALID[t] for t in fields)
            if definition.array and definition.type != "empty":
                data += ", " + data
            option = {"name": definition.name, "data": data, **({"space": space} if space != f"dhcp{family}" else {})}
            arguments = {f"Dhcp{family}": {f"subnet{family}": [subnet], "option-data": [option]}}
            expected = _verdict(kea_daemons[family].command("config-test", [f"dhcp{family}"], arguments))
            got = _verdict(await client.command("config-test", f"dhcp{family}", arguments))
            if got != expected:
                mismatches.append((space, definition.name, data, expected, got))
    assert not mismatches, "\n".join(map(repr, mismatches))
