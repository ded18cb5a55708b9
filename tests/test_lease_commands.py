"""Kea's lease commands over HTTP, on SQLite, PostgreSQL and MariaDB."""

from __future__ import annotations

import ipaddress
from typing import Any

import pytest

from tests.conftest import KeaClient

HW = "1a:1b:1c:1d:1e:1f"
DUID = "01:02:03:04:05:06:07:08"


async def test_lease4_add_then_get_returns_the_lease_with_subnet_defaults(client: KeaClient) -> None:
    added = await client.one("lease4-add", "dhcp4", {"ip-address": "192.0.2.20", "hw-address": HW})
    assert added == {"result": 0, "text": "Lease for address 192.0.2.20, subnet-id 1 added."}
    got = await client.one("lease4-get", "dhcp4", {"ip-address": "192.0.2.20"})
    assert got["result"] == 0 and got["text"] == "IPv4 lease found."
    lease = got["arguments"]
    assert lease["hw-address"] == HW and lease["valid-lft"] == 4000 and lease["subnet-id"] == 1
    assert lease["hostname"] == "" and lease["state"] == 0 and "client-id" not in lease


async def test_lease4_add_keeps_every_field_and_lowercases_hostname(client: KeaClient) -> None:
    args = {"ip-address": "192.0.2.31", "hw-address": HW, "client-id": "01:02:03", "subnet-id": 1,
            "valid-lft": 1000, "expire": 2000000000, "fqdn-fwd": True, "fqdn-rev": True,
            "hostname": "Host.Example.ORG", "state": 0, "user-context": {"version": 1, "x": [1, 2]}}
    assert (await client.one("lease4-add", "dhcp4", args))["result"] == 0
    lease = (await client.one("lease4-get", "dhcp4", {"ip-address": "192.0.2.31"}))["arguments"]
    assert lease == {"client-id": "01:02:03", "cltt": 1999999000, "fqdn-fwd": True, "fqdn-rev": True,
                     "hostname": "host.example.org", "hw-address": HW, "ip-address": "192.0.2.31", "state": 0,
                     "subnet-id": 1, "user-context": {"version": 1, "x": [1, 2]}, "valid-lft": 1000}


async def test_lease4_add_of_an_existing_address_fails_and_changes_nothing(client: KeaClient) -> None:
    await client.one("lease4-add", "dhcp4", {"ip-address": "192.0.2.20", "hw-address": HW})
    again = await client.one("lease4-add", "dhcp4", {"ip-address": "192.0.2.20", "hw-address": "aa:bb:cc:dd:ee:ff"})
    assert again == {"result": 1, "text": "IPv4 lease already exists."}
    lease = (await client.one("lease4-get", "dhcp4", {"ip-address": "192.0.2.20"}))["arguments"]
    assert lease["hw-address"] == HW


async def test_lease4_add_takes_the_subnet_valid_lifetime(client: KeaClient) -> None:
    await client.one("lease4-add", "dhcp4", {"ip-address": "198.51.100.10", "hw-address": HW, "state": 1})
    lease = (await client.one("lease4-get", "dhcp4", {"ip-address": "198.51.100.10"}))["arguments"]
    assert lease["valid-lft"] == 7200 and lease["subnet-id"] == 2 and lease["state"] == 1


async def test_lease4_update_is_a_full_replacement(client: KeaClient) -> None:
    await client.one("lease4-add", "dhcp4", {"ip-address": "192.0.2.20", "hw-address": HW, "hostname": "a.example",
                                             "valid-lft": 500, "user-context": {"a": 1}})
    updated = await client.one("lease4-update", "dhcp4", {"ip-address": "192.0.2.20", "hw-address": HW})
    assert updated == {"result": 0, "text": "IPv4 lease updated."}
    lease = (await client.one("lease4-get", "dhcp4", {"ip-address": "192.0.2.20"}))["arguments"]
    assert lease["hostname"] == "" and lease["valid-lft"] == 4000 and "user-context" not in lease


async def test_lease4_update_of_a_missing_lease_is_result_1_unless_force_create(client: KeaClient) -> None:
    missing = await client.one("lease4-update", "dhcp4", {"ip-address": "192.0.2.40", "hw-address": HW})
    assert missing["result"] == 1
    assert missing["text"].startswith("failed to update the lease with address 192.0.2.40 either because")
    created = await client.one("lease4-update", "dhcp4", {"ip-address": "192.0.2.40", "hw-address": HW,
                                                          "force-create": True})
    assert created == {"result": 0, "text": "IPv4 lease added."}


async def test_lease4_update_with_force_create_of_an_existing_lease_replaces_it(client: KeaClient) -> None:
    await client.one("lease4-add", "dhcp4", {"ip-address": "192.0.2.41", "hw-address": HW, "hostname": "old.example.org."})
    replaced = await client.one("lease4-update", "dhcp4", {"ip-address": "192.0.2.41", "hw-address": "0a:0b:0c:0d:0e:0f",
                                                           "force-create": True})
    assert replaced == {"result": 0, "text": "IPv4 lease updated."}
    lease = (await client.one("lease4-get", "dhcp4", {"ip-address": "192.0.2.41"}))["arguments"]
    assert lease["hw-address"] == "0a:0b:0c:0d:0e:0f" and lease["hostname"] == ""


async def test_lease6_update_with_force_create_adds_then_updates(client: KeaClient) -> None:
    lease = {"ip-address": "2001:db8:1::41", "duid": DUID, "iaid": 1, "force-create": True}
    assert await client.one("lease6-update", "dhcp6", lease) == {"result": 0, "text": "IPv6 lease added."}
    assert await client.one("lease6-update", "dhcp6", {**lease, "iaid": 2}) == {"result": 0, "text": "IPv6 lease updated."}
    stored = (await client.one("lease6-get", "dhcp6", {"ip-address": "2001:db8:1::41"}))["arguments"]
    assert stored["iaid"] == 2 and stored["type"] == "IA_NA"


async def _ta_lease_at_42(client: KeaClient) -> None:
    ta = await client.one("lease6-add", "dhcp6", {"subnet-id": 1, "ip-address": "2001:db8:1::42", "duid": DUID, "iaid": 1,
                                                  "type": "IA_TA"})
    assert ta["result"] == 0, ta


async def _the_ta_lease_is_unchanged(client: KeaClient) -> None:
    stored = await client.one("lease6-get", "dhcp6", {"ip-address": "2001:db8:1::42", "type": "IA_TA"})
    assert stored["result"] == 0 and stored["arguments"]["iaid"] == 1


async def test_lease6_get_by_address_finds_the_lease_only_with_its_own_type(client: KeaClient) -> None:
    # Kea looks a lease up by (type, address), IA_NA when no type is given
    await _ta_lease_at_42(client)
    for asked, found in ((None, 3), ("IA_NA", 3), ("IA_PD", 3), ("IA_TA", 0)):
        arguments = {"ip-address": "2001:db8:1::42", **({"type": asked} if asked else {})}
        got = await client.one("lease6-get", "dhcp6", arguments)
        assert got["result"] == found, (asked, got)
    assert await client.one("lease6-get", "dhcp6", {"ip-address": "2001:db8:1::43", "type": "IA_TA"}) == {
        "result": 3, "text": "Lease not found."}


async def test_lease6_update_of_another_type_than_the_stored_lease_fails_as_in_kea(client: KeaClient) -> None:
    # Kea looks the lease up by (type, address): an IA_NA update of an IA_TA lease finds none
    await _ta_lease_at_42(client)
    update = {"ip-address": "2001:db8:1::42", "duid": DUID, "iaid": 3, "type": "IA_NA"}
    assert await client.one("lease6-update", "dhcp6", update) == {"result": 1, "text": (
        "failed to update the lease with address 2001:db8:1::42 either because the lease has been deleted or it has "
        "changed in the database, in both cases a retry might succeed")}
    await _the_ta_lease_is_unchanged(client)


async def test_lease6_update_force_create_at_an_address_held_by_another_type_adds_nothing(client: KeaClient) -> None:
    # Kea tries to add it and the address is taken (its SQL backends refuse, memfile drops it)
    await _ta_lease_at_42(client)
    update = {"ip-address": "2001:db8:1::42", "duid": DUID, "iaid": 3, "type": "IA_NA", "force-create": True}
    assert await client.one("lease6-update", "dhcp6", update) == {"result": 1, "text": "IPv6 lease already exists."}
    await _the_ta_lease_is_unchanged(client)


async def test_a_type_matched_force_create_replaces_a_lease_of_another_type_at_the_address(client: KeaClient) -> None:
    # the HA service's write of a newer lease (UpdateLease with force_create)
    from app.store.leases import Lease6
    from app.store.repository import UpdateLease

    store = client.runtime.families[6].store
    ta = await client.one("lease6-add", "dhcp6", {"subnet-id": 1, "ip-address": "2001:db8:1::43", "duid": DUID, "iaid": 1,
                                                  "type": "IA_TA"})
    assert ta["result"] == 0, ta

    def na(address: str, iaid: int) -> Lease6:
        return Lease6(address=address, duid=bytes.fromhex("0102030405060708"), iaid=iaid, type=0, prefix_len=128,
                      valid_lft=4000, preferred_lft=3000, cltt=1_700_000_000, subnet_id=1)

    assert await store.write(UpdateLease(na("2001:db8:1::43", 5), force_create=True)) == "updated"
    assert await store.write(UpdateLease(na("2001:db8:1::44", 6), force_create=True)) == "added"
    assert await store.write(UpdateLease(na("2001:db8:1::44", 7), force_create=True)) == "updated"
    for address, iaid in (("2001:db8:1::43", 5), ("2001:db8:1::44", 7)):
        stored = (await client.one("lease6-get", "dhcp6", {"ip-address": address}))["arguments"]
        assert (stored["type"], stored["iaid"]) == ("IA_NA", iaid)


async def test_concurrent_writes_committed_together_each_get_their_own_answer(client: KeaClient) -> None:
    # group commits (PostgreSQL: one pipelined round trip each) holding adds, duplicate adds and
    # force-create updates of new and existing leases; every answer must still be its own
    import asyncio

    store = client.runtime.families[4].store
    for i in range(10):
        await client.one("lease4-add", "dhcp4", {"ip-address": f"192.0.2.{100 + i}", "hw-address": HW})
    commits_before = store.commits
    requests = []
    for i in range(20):
        requests.append(("lease4-update", {"ip-address": f"192.0.2.{100 + i}", "hw-address": HW,
                                           "hostname": f"h{i}.example.org", "force-create": True}))
        requests.append(("lease4-add", {"ip-address": f"192.0.2.{100 + i}", "hw-address": HW}))
    answers = await asyncio.gather(*(client.one(command, "dhcp4", args) for command, args in requests))
    assert store.commits - commits_before < len(requests), "no two writes shared a commit"
    for i in range(20):
        update, add = answers[2 * i], answers[2 * i + 1]
        if i < 10:  # existed before
            assert update == {"result": 0, "text": "IPv4 lease updated."}, update
            assert add == {"result": 1, "text": "IPv4 lease already exists."}, add
        else:  # whichever came first created it
            assert (update["text"] == "IPv4 lease added.") != (add["result"] == 0), (update, add)
        lease = (await client.one("lease4-get", "dhcp4", {"ip-address": f"192.0.2.{100 + i}"}))["arguments"]
        assert lease["hostname"] == f"h{i}.example.org", lease


async def test_concurrent_force_create_updates_each_say_added_or_updated(client: KeaClient) -> None:
    # an HA partner's stream of lease4-updates: on PostgreSQL a batch of distinct addresses is one
    # multi-row upsert, which must still tell each lease's outcome, and count it, as one by one
    import asyncio

    store = client.runtime.families[4].store
    for i in range(10):
        await client.one("lease4-add", "dhcp4", {"ip-address": f"192.0.2.{100 + i}", "hw-address": HW})
    commits_before = store.commits
    answers = await asyncio.gather(*(
        client.one("lease4-update", "dhcp4", {"ip-address": f"192.0.2.{100 + i}", "hw-address": HW,
                                              "hostname": f"h{i}.example.org", "force-create": True})
        for i in range(20)))
    assert store.commits - commits_before < 20, "no two updates shared a commit"
    assert [a["text"] for a in answers] == ["IPv4 lease updated."] * 10 + ["IPv4 lease added."] * 10
    assigned = await client.one("statistic-get", "dhcp4", {"name": "subnet[1].assigned-addresses"})
    assert assigned["arguments"]["subnet[1].assigned-addresses"][0][0] == 20, assigned
    counted = await client.one("stat-lease4-get", "dhcp4", {"subnet-id": 1})
    result_set = counted["arguments"]["result-set"]
    row = dict(zip(result_set["columns"], result_set["rows"][0], strict=True))
    assert row["assigned-addresses"] == 20, counted  # the database's own count
    for i in (0, 19):
        lease = (await client.one("lease4-get", "dhcp4", {"ip-address": f"192.0.2.{100 + i}"}))["arguments"]
        assert lease["hostname"] == f"h{i}.example.org", lease


async def test_lease4_del_then_get_says_not_found(client: KeaClient) -> None:
    await client.one("lease4-add", "dhcp4", {"ip-address": "192.0.2.20", "hw-address": HW})
    assert await client.one("lease4-del", "dhcp4", {"ip-address": "192.0.2.20"}) == {"result": 0, "text": "IPv4 lease deleted."}
    assert await client.one("lease4-del", "dhcp4", {"ip-address": "192.0.2.20"}) == {"result": 3, "text": "IPv4 lease not found."}
    assert await client.one("lease4-get", "dhcp4", {"ip-address": "192.0.2.20"}) == {"result": 3, "text": "Lease not found."}


async def test_lease4_get_by_identifier_needs_subnet_id(client: KeaClient) -> None:
    await client.one("lease4-add", "dhcp4", {"ip-address": "192.0.2.20", "hw-address": HW})
    found = await client.one("lease4-get", "dhcp4", {"identifier-type": "hw-address", "identifier": HW, "subnet-id": 1})
    assert found["arguments"]["ip-address"] == "192.0.2.20"
    assert await client.one("lease4-get", "dhcp4", {}) == {"result": 1, "text": "Mandatory 'subnet-id' parameter missing."}


async def test_lease4_get_page_walks_all_leases_in_address_order(client: KeaClient) -> None:
    for last in (25, 1, 20, 200, 100):
        await client.one("lease4-add", "dhcp4", {"ip-address": f"192.0.2.{last}", "hw-address": HW})
    seen: list[str] = []
    start = "start"
    while True:
        page = await client.one("lease4-get-page", "dhcp4", {"from": start, "limit": 2})
        if page["result"] == 3:
            assert page["arguments"] == {"count": 0, "leases": []}
            break
        addresses = [lease["ip-address"] for lease in page["arguments"]["leases"]]
        assert page["arguments"]["count"] == len(addresses)
        seen += addresses
        start = addresses[-1]
    assert seen == ["192.0.2.1", "192.0.2.20", "192.0.2.25", "192.0.2.100", "192.0.2.200"]


async def test_lease4_get_all_is_result_3_with_an_empty_list_when_empty(client: KeaClient) -> None:
    assert await client.one("lease4-get-all", "dhcp4") == {
        "arguments": {"leases": []}, "result": 3, "text": "0 IPv4 lease(s) found."}


async def test_lease4_get_by_hostname_ignores_case(client: KeaClient) -> None:
    await client.one("lease4-add", "dhcp4", {"ip-address": "192.0.2.31", "hw-address": HW, "hostname": "Host.Example.org"})
    found = await client.one("lease4-get-by-hostname", "dhcp4", {"hostname": "HOST.example.org"})
    assert found["result"] == 0 and found["text"] == "1 IPv4 lease(s) found."


@pytest.mark.parametrize("v", [4, 6])
async def test_get_by_hostname_matches_exactly_on_every_database(client: KeaClient, v: int) -> None:
    # MySQL's collation also ignores accents and trailing spaces: leasesync answers as memfile
    # and PostgreSQL do on it too
    service = f"dhcp{v}"
    for i, hostname in enumerate(["h ", "cafe.example", "\u00c4x.Example"], start=40):
        lease = ({"ip-address": f"192.0.2.{i}", "hw-address": HW} if v == 4
                 else {"ip-address": f"2001:db8:1::{i}", "duid": "01:02:03:04", "iaid": i})
        assert (await client.one(f"lease{v}-add", service, {**lease, "hostname": hostname}))["result"] == 0

    async def count(hostname: str) -> int:
        found = await client.one(f"lease{v}-get-by-hostname", service, {"hostname": hostname})
        return len(found["arguments"]["leases"])

    assert await count("h") == 0
    assert await count("h ") == 1
    assert await count("h  ") == 0
    assert await count("caf\u00e9.example") == 0
    assert await count("CAFE.example") == 1
    assert await count("\u00c4X.example") == 1  # Kea lower-cases A-Z only (the C locale)
    assert await count("\u00e4x.example") == 0
    assert await client.one(f"lease{v}-get-by-hostname", service, {"hostname": "a\u0000b"}) == {
        "arguments": {"leases": []}, "result": 3, "text": f"0 IPv{v} lease(s) found."}


async def test_lease4_wipe_deletes_the_subnet_and_reports_it(client: KeaClient) -> None:
    await client.one("lease4-add", "dhcp4", {"ip-address": "198.51.100.10", "hw-address": HW})
    await client.one("lease4-add", "dhcp4", {"ip-address": "198.51.100.11", "hw-address": HW})
    await client.one("lease4-add", "dhcp4", {"ip-address": "192.0.2.11", "hw-address": HW})
    assert await client.one("lease4-wipe", "dhcp4", {"subnet-id": 2}) == {
        "result": 0, "text": "Deleted 2 IPv4 lease(s) from subnet(s) 2"}
    assert await client.one("lease4-wipe", "dhcp4", {"subnet-id": 2}) == {
        "result": 3, "text": "Deleted 0 IPv4 lease(s) from subnet(s) 2"}
    remaining = await client.one("lease4-get-all", "dhcp4")
    assert [lease["ip-address"] for lease in remaining["arguments"]["leases"]] == ["192.0.2.11"]


async def test_lease6_add_get_na_and_pd(client: KeaClient) -> None:
    na = await client.one("lease6-add", "dhcp6", {"ip-address": "2001:db8:1::100", "duid": DUID, "iaid": 4294967295})
    assert na == {"result": 0, "text": "Lease for address 2001:db8:1::100, subnet-id 1 added."}
    pd = await client.one("lease6-add", "dhcp6", {"subnet-id": 1, "type": "IA_PD", "ip-address": "3000:1:0:1::",
                                                  "prefix-len": 64, "duid": DUID, "iaid": 7})
    assert pd == {"result": 0, "text": "Lease for prefix 3000:1:0:1::/64, subnet-id 1 added."}
    lease = (await client.one("lease6-get", "dhcp6", {"ip-address": "2001:db8:1::100"}))["arguments"]
    assert lease["iaid"] == 4294967295 and lease["type"] == "IA_NA" and lease["preferred-lft"] == 4000
    assert await client.one("lease6-get", "dhcp6", {"ip-address": "3000:1:0:1::"}) == {"result": 3, "text": "Lease not found."}
    prefix = (await client.one("lease6-get", "dhcp6", {"ip-address": "3000:1:0:1::", "type": "IA_PD"}))["arguments"]
    assert prefix["prefix-len"] == 64 and prefix["type"] == "IA_PD"


async def test_lease6_get_page_orders_by_address_value_not_text(client: KeaClient) -> None:
    for address in ("2001:db8:1::a", "2001:db8:1::1:0", "2001:db8:1::9", "2001:db8:2::1"):
        await client.one("lease6-add", "dhcp6", {"ip-address": address, "duid": DUID, "iaid": 1})
    page = await client.one("lease6-get-page", "dhcp6", {"from": "start", "limit": 10})
    assert [lease["ip-address"] for lease in page["arguments"]["leases"]] == [
        "2001:db8:1::9", "2001:db8:1::a", "2001:db8:1::1:0", "2001:db8:2::1"]


async def test_a_lease6_get_page_walk_visits_every_lease_once_in_address_order(client: KeaClient) -> None:
    # text order and value order disagree inside each /64 and between the two subnets
    added = ["2001:db8:1::ffff", "2001:db8:1::1:0", "2001:db8:1::a", "2001:db8:1::9", "2001:db8:1:0:1::",
             "2001:db8:2::1", "2001:db8:1::10", "2001:db8:1::2"]
    for address in added:
        await client.one("lease6-add", "dhcp6", {"ip-address": address, "duid": DUID, "iaid": 1})
    walked, start = [], "start"
    for _ in range(len(added)):
        page = await client.one("lease6-get-page", "dhcp6", {"from": start, "limit": 3})
        if page["result"] == 3:
            break
        walked += [lease["ip-address"] for lease in page["arguments"]["leases"]]
        start = walked[-1]
    assert walked == sorted(added, key=lambda a: int(ipaddress.IPv6Address(a)))


async def test_lease6_bulk_apply_deletes_then_upserts_and_reports_failures(client: KeaClient) -> None:
    await client.one("lease6-add", "dhcp6", {"ip-address": "2001:db8:1::100", "duid": DUID, "iaid": 1})
    result = await client.one("lease6-bulk-apply", "dhcp6", {
        "deleted-leases": [{"ip-address": "2001:db8:1::100"}, {"ip-address": "2001:db8:1::dead"}],
        "leases": [{"subnet-id": 1, "ip-address": "2001:db8:1::300", "duid": DUID, "iaid": 30},
                   {"subnet-id": 1, "ip-address": "2001:db8:1::103", "duid": "01", "iaid": 1, "hostname": "bulk.example.org"}]})
    assert result == {"arguments": {"failed-deleted-leases": [{"error-message": "lease not found",
                                                               "ip-address": "2001:db8:1::dead", "result": 3,
                                                               "type": "IA_NA"}]},
                      "result": 0, "text": "Bulk apply of 3 IPv6 leases completed."}


async def test_lease6_bulk_apply_with_an_address_twice_stores_the_last_and_counts_it_once(client: KeaClient) -> None:
    await client.one("lease6-add", "dhcp6", {"ip-address": "2001:db8:1::500", "duid": DUID, "iaid": 1})
    result = await client.one("lease6-bulk-apply", "dhcp6", {"leases": [
        {"subnet-id": 1, "ip-address": "2001:db8:1::501", "duid": DUID, "iaid": 1, "hostname": "first.example.org"},
        {"subnet-id": 1, "ip-address": "2001:db8:1::500", "duid": DUID, "iaid": 2, "hostname": "b.example.org"},
        {"subnet-id": 1, "ip-address": "2001:db8:1::501", "duid": DUID, "iaid": 3, "hostname": "last.example.org"}]})
    assert result == {"result": 0, "text": "Bulk apply of 3 IPv6 leases completed."}
    stored = [(await client.one("lease6-get", "dhcp6", {"ip-address": a}))["arguments"] for a in ("2001:db8:1::500",
                                                                                              "2001:db8:1::501")]
    assert [(x["iaid"], x["hostname"]) for x in stored] == [(2, "b.example.org"), (3, "last.example.org")]
    assigned = await client.one("statistic-get", "dhcp6", {"name": "subnet[1].assigned-nas"})
    assert assigned["arguments"]["subnet[1].assigned-nas"][0][0] == 2


async def test_lease6_bulk_apply_with_one_bad_entry_applies_nothing(client: KeaClient) -> None:
    result = await client.one("lease6-bulk-apply", "dhcp6", {"leases": [
        {"subnet-id": 1, "ip-address": "2001:db8:1::301", "duid": DUID, "iaid": 30},
        {"ip-address": "2001:db8:1::302", "iaid": 30}]})
    assert result == {"result": 1, "text": "missing parameter 'duid' (<wire>:0:130)"}
    assert (await client.one("lease6-get", "dhcp6", {"ip-address": "2001:db8:1::301"}))["result"] == 3


async def test_lease4_bulk_apply_is_lease6_bulk_apply_for_v4(client: KeaClient) -> None:
    result = await client.one("lease4-bulk-apply", "dhcp4", {
        "leases": [{"ip-address": "192.0.2.50", "hw-address": HW}, {"ip-address": "192.0.2.51", "hw-address": HW}],
        "deleted-leases": []})
    assert result == {"result": 0, "text": "Bulk apply of 2 IPv4 leases completed."}


async def test_bad_argument_names_the_field_and_changes_nothing(client: KeaClient) -> None:
    bad: list[tuple[dict[str, Any], str]] = [
        ({"ip-address": "192.0.2.20", "hw-address": HW, "valid-lft": "100"},
         "invalid type specified for parameter 'valid-lft' (<wire>:0:93)"),
        ({"ip-address": "192.0.2.20", "hw-address": HW, "state": -1},
         "out of range value (-1) specified for parameter 'state' (<wire>:0:89)"),
        ({"ip-address": "192.0.2.20"}, "missing parameter 'hw-address' (<wire>:0:16)"),
        ({"ip-address": "192.0.2.300", "hw-address": HW},
         "Failed to convert '192.0.2.300' to address: Failed to convert string to address '192.0.2.300': "
         "Invalid argument(<wire>:0:66)"),
        ({"ip-address": "10.9.9.9", "hw-address": HW}, "subnet-id not specified and failed to find a subnet for address 10.9.9.9"),
        ({"ip-address": "192.0.2.22", "hw-address": HW, "subnet-id": 2},
         "The address 192.0.2.22 does not belong to subnet 198.51.100.0/24, subnet-id=2"),
        ({"ip-address": "192.0.2.20", "hw-address": "zz:1b"}, "'z' is not a valid hexadecimal digit in decoded string 'zz:1b'"),
        ({"ip-address": "192.0.2.20", "hw-address": HW, "state": 3},
         "Invalid state value: 3, supported values are: 0 (default), 1 (declined) and 2 (expired-reclaimed)"),
        ({"ip-address": "192.0.2.20", "hw-address": HW, "user-context": [1]}, "Invalid user context '[ 1 ]' is not a JSON map."),
    ]
    for args, text in bad:
        assert await client.one("lease4-add", "dhcp4", args) == {"result": 1, "text": text}, args
    assert (await client.one("lease4-get-all", "dhcp4"))["result"] == 3


async def test_lease_commands_without_service_go_to_their_family(client: KeaClient) -> None:
    added = await client.one("lease4-add", None, {"ip-address": "192.0.2.20", "hw-address": HW})
    assert added["result"] == 0
    assert (await client.one("lease4-get", None, {"ip-address": "192.0.2.20"}))["result"] == 0


async def test_wrong_family_lease_command_sees_an_empty_view_as_kea_does(client: KeaClient) -> None:
    assert await client.one("lease6-get", "dhcp4", {"ip-address": "2001:db8:1::1"}) == {"result": 3, "text": "Lease not found."}
    assert await client.one("lease4-add", "dhcp6", {"ip-address": "192.0.2.60", "hw-address": HW}) == {
        "result": 1, "text": "subnet-id not specified and failed to find a subnet for address 192.0.2.60"}
