"""A value the lease database (or its driver) cannot hold fails that one change with result 1;
the writer goes on serving every later write. Before, sqlite3's OverflowError killed the writer
thread and every later write timed out until a restart. Integers beyond int64 never get that far:
Kea's JSON parser refuses the whole request (HTTP 400), and so does leasesync's edge."""

from __future__ import annotations

import asyncio
import dataclasses
from typing import Any

import pytest
from sqlalchemy import text

from app.errors import StoreRejected
from app.store.repository import AddLease, FuncOp
from app.store.sync_ops import enqueue_tail_op, read_backlog
from tests.conftest import KeaClient, lease_store, make_database, service_config, v4_lease

HW = "1a:1b:1c:1d:1e:1f"


@pytest.mark.parametrize("arguments", [
    {"ip-address": "192.0.2.20", "hw-address": HW, "expire": 2**63},
    {"ip-address": "192.0.2.20", "hw-address": HW, "user-context": {"deep": [1, 2, {"n": 2**64 - 1}]}},
    {"ip-address": "192.0.2.20", "hw-address": HW, "subnet-id": 9223372036854775808},
    {"ip-address": "192.0.2.20", "hw-address": HW, "valid-lft": 2**64},  # orjson: a float from here on
    {"ip-address": "192.0.2.20", "hw-address": HW, "user-context": {"n": -(2**63) - 1}},
])
async def test_an_integer_beyond_int64_is_a_bad_request_and_changes_nothing(client: KeaClient,
                                                                           arguments: dict[str, Any]) -> None:
    response = await client.raw(b'{"command": "lease4-add", "service": ["dhcp4"], "arguments": '
                                + _json(arguments) + b"}", headers={"Content-Type": "application/json"})
    assert response.status_code == 400
    assert response.content == b'{ "result": 400, "text": "Bad Request" }'
    assert await client.one("lease4-get", "dhcp4", {"ip-address": "192.0.2.20"}) == {"result": 3, "text": "Lease not found."}


async def test_the_largest_int64_is_not_a_bad_request(client: KeaClient) -> None:
    answer = await client.one("lease4-get-page", "dhcp4", {"from": "start", "limit": 2**63 - 1})
    assert answer["result"] in (1, 3), answer  # Kea's own answer about the limit, not a transport error


async def test_a_light_write_the_database_refuses_fails_alone_and_the_writer_goes_on(client: KeaClient) -> None:
    store = lease_store(client)
    # beyond the database's range for a time (PostgreSQL, MySQL) or an integer (SQLite's driver)
    refused = dataclasses.replace(v4_lease("192.0.2.30"), cltt=2**63)
    outcomes = await asyncio.gather(
        store.write(AddLease(v4_lease("192.0.2.31"))),
        store.write(AddLease(refused)),
        store.write(AddLease(v4_lease("192.0.2.32"))),
        return_exceptions=True)
    assert outcomes[0] is True and outcomes[2] is True, outcomes
    assert isinstance(outcomes[1], StoreRejected), outcomes
    answer = await client.one("lease4-add", "dhcp4", {"ip-address": "192.0.2.33", "hw-address": HW})
    assert answer["result"] == 0, answer
    assert await client.one("lease4-get", "dhcp4", {"ip-address": "192.0.2.30"}) == {"result": 3, "text": "Lease not found."}


async def test_a_heavy_write_failing_in_the_driver_does_not_stop_the_writer_thread(client: KeaClient) -> None:
    store = lease_store(client)

    def overflow(_conn: Any, _dialect: str) -> None:
        raise OverflowError("Python int too large to convert to SQLite INTEGER")

    with pytest.raises(StoreRejected, match="too large"):
        await asyncio.wait_for(store.write(FuncOp(overflow)), 10)
    assert await asyncio.wait_for(store.write(AddLease(v4_lease("192.0.2.40"))), 10) is True


def _json(value: Any) -> bytes:
    import json

    return json.dumps(value).encode()


# --- values Kea's SQL schema cannot hold ------------------------------------------------------
# PostgreSQL and MySQL hold what Kea's schema holds (hostname VARCHAR(255); on MySQL expire is a
# TIMESTAMP, which ends in January 2038, and user_context a TEXT of 65,535 bytes), and what Kea's SQL
# backends write (no expire after 2038 on PostgreSQL either). Such a lease is refused with a text
# naming the field, and nothing changes; SQLite holds it, as Kea's memfile does.
# Before, MySQL's INSERT IGNORE stored a clipped hostname, and an expire of 0000-00-00 that made
# every later read of the lease an internal error.

def _dialect(client: KeaClient) -> str:
    return str(lease_store(client).dialect)


async def test_a_hostname_longer_than_the_column_is_refused_by_the_sql_servers_and_changes_nothing(
        client: KeaClient) -> None:
    hostname = "h" * 256
    answer = await client.one("lease4-add", "dhcp4", {"ip-address": "192.0.2.50", "hw-address": HW, "hostname": hostname})
    stored = await client.one("lease4-get", "dhcp4", {"ip-address": "192.0.2.50"})
    if _dialect(client) == "sqlite":
        assert answer["result"] == 0, answer
        assert stored["arguments"]["hostname"] == hostname
        return
    assert answer == {"result": 1, "text": "the lease database cannot store this lease, nothing was changed: "
                                            "hostname is 256 characters long, the lease database holds at most 255"}
    assert stored == {"result": 3, "text": "Lease not found."}


async def test_a_hostname_of_255_characters_is_stored_whole(client: KeaClient) -> None:
    hostname = "h" * 255
    answer = await client.one("lease4-update", "dhcp4", {"ip-address": "192.0.2.51", "hw-address": HW,
                                                         "hostname": hostname, "force-create": True})
    assert answer == {"result": 0, "text": "IPv4 lease added."}
    stored = await client.one("lease4-get", "dhcp4", {"ip-address": "192.0.2.51"})
    assert stored["arguments"]["hostname"] == hostname


async def test_an_update_to_an_unstorable_hostname_leaves_the_lease_as_it_was(client: KeaClient) -> None:
    await client.one("lease4-add", "dhcp4", {"ip-address": "192.0.2.52", "hw-address": HW, "hostname": "before.example"})
    answer = await client.one("lease4-update", "dhcp4", {"ip-address": "192.0.2.52", "hw-address": HW,
                                                         "hostname": "x" * 300})
    stored = await client.one("lease4-get", "dhcp4", {"ip-address": "192.0.2.52"})
    if _dialect(client) == "sqlite":
        assert answer["result"] == 0, answer
        return
    assert answer["result"] == 1 and "hostname is 300 characters long" in answer["text"], answer
    assert stored["arguments"]["hostname"] == "before.example"


async def test_an_expire_beyond_2038_is_refused_by_the_sql_servers_and_kept_on_sqlite(client: KeaClient) -> None:
    answer = await client.one("lease4-update", "dhcp4", {"ip-address": "192.0.2.53", "hw-address": HW,
                                                         "expire": 2**32, "force-create": True})
    stored = await client.one("lease4-get", "dhcp4", {"ip-address": "192.0.2.53"})
    if _dialect(client) == "sqlite":
        assert answer == {"result": 0, "text": "IPv4 lease added."}
        assert stored["arguments"]["cltt"] == 2**32 - 4000
        return
    assert answer == {"result": 1, "text": "the lease database cannot store this lease, nothing was changed: "
                                            "expire 4294967296 is beyond the lease database's time range "
                                            "(at most 2147483647)"}
    assert stored == {"result": 3, "text": "Lease not found."}


async def test_the_last_second_kea_s_sql_backends_hold_is_stored(client: KeaClient) -> None:
    answer = await client.one("lease4-add", "dhcp4", {"ip-address": "192.0.2.54", "hw-address": HW,
                                                      "expire": 2**31 - 1})
    assert answer["result"] == 0, answer
    stored = await client.one("lease4-get", "dhcp4", {"ip-address": "192.0.2.54"})
    assert stored["arguments"]["cltt"] == 2**31 - 1 - 4000


async def test_a_user_context_beyond_mysqls_text_column_is_refused_there(client: KeaClient) -> None:
    context = {"note": "n" * 70_000}
    answer = await client.one("lease6-add", "dhcp6", {"ip-address": "2001:db8:1::50", "duid": "01:02:03:04",
                                                      "iaid": 5, "user-context": context})
    stored = await client.one("lease6-get", "dhcp6", {"ip-address": "2001:db8:1::50"})
    if _dialect(client) != "mysql":
        assert answer["result"] == 0, answer
        assert stored["arguments"]["user-context"] == context
        return
    assert answer["result"] == 1 and "user-context is 70011 bytes as JSON" in answer["text"], answer
    assert stored == {"result": 3, "text": "Lease not found."}


async def test_bulk_apply_fails_only_the_lease_the_database_cannot_hold(client: KeaClient) -> None:
    answer = await client.one("lease6-bulk-apply", "dhcp6", {"leases": [
        {"ip-address": "2001:db8:1::51", "duid": "01:02:03:04", "iaid": 6},
        {"ip-address": "2001:db8:1::52", "duid": "01:02:03:04", "iaid": 7, "hostname": "y" * 256},
    ]})
    second = await client.one("lease6-get", "dhcp6", {"ip-address": "2001:db8:1::52"})
    assert (await client.one("lease6-get", "dhcp6", {"ip-address": "2001:db8:1::51"}))["result"] == 0
    if _dialect(client) == "sqlite":
        assert answer == {"result": 0, "text": "Bulk apply of 2 IPv6 leases completed."}
        assert second["result"] == 0
        return
    assert answer == {"result": 0, "text": "Bulk apply of 1 IPv6 leases completed.", "arguments": {"failed-leases": [
        {"error-message": "hostname is 256 characters long, the lease database holds at most 255",
         "ip-address": "2001:db8:1::52", "result": 1, "type": "IA_NA"}]}}
    assert second == {"result": 3, "text": "Lease not found."}


@pytest.mark.mysql
async def test_mysql_sessions_are_strict_as_keas(make_client: Any, tmp_path: Any) -> None:
    db, drop = make_database("mysql", tmp_path)
    try:
        client = await make_client(service_config(db))
        with lease_store(client).engine.connect() as conn:
            assert conn.execute(text("SELECT @@SESSION.sql_mode")).scalar() == "STRICT_ALL_TABLES"
    finally:
        drop()


@pytest.mark.mysql
async def test_a_mysql_zero_date_written_by_another_tool_reads_without_an_internal_error(
        make_client: Any, tmp_path: Any) -> None:
    db, drop = make_database("mysql", tmp_path)
    try:
        client = await make_client(service_config(db))
        with lease_store(client).engine.begin() as conn:
            conn.execute(text("SET SESSION sql_mode = ''"))
            conn.execute(text("INSERT INTO lease4 (address, hwaddr, valid_lifetime, expire, subnet_id, fqdn_fwd, "
                              "fqdn_rev, hostname, state) VALUES (3221226039, x'010203040506', 4000, "
                              "'0000-00-00 00:00:00', 1, 0, 0, '', 0)"))  # 192.0.2.55
        found = await client.one("lease4-get", "dhcp4", {"ip-address": "192.0.2.55"})
        assert found["result"] == 0, found
        assert found["arguments"]["ip-address"] == "192.0.2.55"
    finally:
        drop()


@pytest.mark.parametrize(("field", "value", "refusal"), [
    ("hostname", "a\x00b", "hostname contains a NUL character, which PostgreSQL text cannot hold"),
    ("user-context", {"note": "x\x00y"},
     "user-context contains a NUL character, which PostgreSQL's JSON functions cannot read"),
])
async def test_a_nul_character_is_refused_by_postgresql_alone_and_in_a_bulk(
        client: KeaClient, field: str, value: Any, refusal: str) -> None:
    answer = await client.one("lease4-bulk-apply", "dhcp4", {"leases": [
        {"ip-address": "192.0.2.60", "hw-address": HW, field: value},
        {"ip-address": "192.0.2.61", "hw-address": HW},
    ]})
    alone = await client.one("lease4-add", "dhcp4", {"ip-address": "192.0.2.62", "hw-address": HW, field: value})
    if _dialect(client) != "postgresql":
        assert answer == {"result": 0, "text": "Bulk apply of 2 IPv4 leases completed."}
        assert alone["result"] == 0, alone
        return
    assert answer == {"result": 0, "text": "Bulk apply of 1 IPv4 leases completed.", "arguments": {"failed-leases": [
        {"error-message": refusal, "ip-address": "192.0.2.60", "result": 1, "type": "V4"}]}}
    assert alone == {"result": 1, "text": f"the lease database cannot store this lease, nothing was changed: {refusal}"}


async def test_a_durable_backlog_row_beyond_64_kib_is_kept_whole(client: KeaClient) -> None:
    # a lease6-bulk-apply of 1,000 leases with user contexts: MySQL's TEXT ended at 64 KiB
    store = lease_store(client)
    arguments = {"deleted-leases": [], "leases": [{"ip-address": f"2001:db8:1::{i:x}", "user-context": {"n": "x" * 200}}
                                                  for i in range(1, 1001)]}
    tail = await store.write(enqueue_tail_op("server2", 6, [("lease6-bulk-apply", arguments)]))
    [entry] = await store.read(read_backlog("server2", 6, 10))  # one row written
    assert entry.id == tail
    assert entry.command == "lease6-bulk-apply"
    assert entry.arguments == arguments
