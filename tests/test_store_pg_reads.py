"""PostgreSQL lease lookups on the serving loop (LeaseStore._pg_leases): answered over
the loop's own connections, and by a reader thread whenever they are lost."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from tests.conftest import _pg_admin, lease_store, service_config

pytestmark = pytest.mark.postgres

ADD = {"ip-address": "192.0.2.20", "hw-address": "1a:1b:1c:1d:1e:1f"}


async def test_lease4_get_is_answered_over_the_loops_own_connection(make_client: Any, pg_database: Any) -> None:
    client = await make_client(service_config(pg_database))
    assert (await client.one("lease4-add", "dhcp4", ADD))["result"] == 0
    got = await client.one("lease4-get", "dhcp4", {"ip-address": "192.0.2.20"})
    assert got["result"] == 0 and got["arguments"]["hw-address"] == ADD["hw-address"]
    assert len(lease_store(client)._pg_lookups.connections()) == 1  # the lookup went over the loop's connection
    missing = await client.one("lease4-get", "dhcp4", {"ip-address": "192.0.2.21"})
    assert missing == {"result": 3, "text": "Lease not found."}


def _server_pids(store: Any) -> list[int]:
    return [conn.get_server_pid() for conn in store._pg_lookups.connections()]


async def _looked_up_once(make_client: Any, pg_database: Any) -> tuple[Any, Any]:
    """A client with one lease, looked up once (the loop's connection is open), and its v4 store."""
    client = await make_client(service_config(pg_database))
    await client.one("lease4-add", "dhcp4", ADD)
    await client.one("lease4-get", "dhcp4", {"ip-address": "192.0.2.20"})
    return client, lease_store(client)


async def test_lease4_get_still_answers_when_the_server_drops_the_loops_connection(
        make_client: Any, pg_database: Any) -> None:
    client, store = await _looked_up_once(make_client, pg_database)
    [dropped] = _server_pids(store)
    with _pg_admin() as admin:
        admin.execute("SELECT pg_terminate_backend(%s)", (dropped,))

    got = await client.one("lease4-get", "dhcp4", {"ip-address": "192.0.2.20"})

    assert got["result"] == 0 and got["arguments"]["ip-address"] == "192.0.2.20"  # a reader thread answered
    assert _server_pids(store) == []
    store._pg_lookups.retry_at = 0.0  # the pause after a failure is over
    again = await client.one("lease4-get", "dhcp4", {"ip-address": "192.0.2.20"})
    assert again["result"] == 0
    assert len(_server_pids(store)) == 1 and dropped not in _server_pids(store)


async def test_concurrent_lookups_all_answer_when_the_server_drops_every_lookup_connection(
        make_client: Any, pg_database: Any) -> None:
    client = await make_client(service_config({**pg_database, "pool-size": 2}))
    await client.one("lease4-add", "dhcp4", ADD)
    store = lease_store(client)
    await asyncio.gather(*(client.one("lease4-get", "dhcp4", {"ip-address": "192.0.2.20"}) for _ in range(8)))
    dropped = _server_pids(store)
    assert len(dropped) == 4
    with _pg_admin() as admin:
        for pid in dropped:
            admin.execute("SELECT pg_terminate_backend(%s)", (pid,))

    answers = await asyncio.gather(*(client.one("lease4-get", "dhcp4", {"ip-address": "192.0.2.20"})
                                     for _ in range(16)))

    # the first to find its connection dead falls back, and so does every lookup waiting behind it
    assert all(a["result"] == 0 and a["arguments"]["hw-address"] == ADD["hw-address"] for a in answers)
    assert not set(_server_pids(store)) & set(dropped)


async def test_lease6_get_by_address_and_type_is_answered_over_the_loops_connection(
        make_client: Any, pg_database: Any) -> None:
    client = await make_client(service_config(pg_database))
    lease = {"ip-address": "2001:db8:1::20", "duid": "01:02:03:04:05:06", "iaid": 7}
    assert (await client.one("lease6-add", "dhcp6", lease))["result"] == 0

    got = await client.one("lease6-get", "dhcp6", {"ip-address": "2001:db8:1::20"})
    of_its_type = await client.one("lease6-get", "dhcp6", {"ip-address": "2001:db8:1::20", "type": "IA_NA"})
    of_another_type = await client.one("lease6-get", "dhcp6", {"ip-address": "2001:db8:1::20", "type": "IA_TA"})

    assert got["result"] == 0 and got["arguments"]["duid"] == "01:02:03:04:05:06"
    assert of_its_type == got
    assert of_another_type == {"result": 3, "text": "Lease not found."}
    assert client.runtime.families[6].store._pg_lookups.connections()


async def test_concurrent_lookups_share_at_most_twice_pool_size_connections_without_dropping_any(
        make_client: Any, pg_database: Any) -> None:
    client = await make_client(service_config({**pg_database, "pool-size": 2}))
    await client.one("lease4-add", "dhcp4", ADD)
    store = lease_store(client)

    answers = await asyncio.gather(*(client.one("lease4-get", "dhcp4", {"ip-address": "192.0.2.20"})
                                     for _ in range(32)))

    assert all(a["result"] == 0 and a["arguments"]["hw-address"] == ADD["hw-address"] for a in answers)
    # one query at a time on each: a second one sent meanwhile would have failed a connection
    assert store._pg_lookups.retry_at == 0.0
    assert len(_server_pids(store)) == 4  # opened as the lookups overlapped, no more than 2 x pool-size


async def test_lookups_by_identifier_and_hostname_are_answered_over_the_loops_connection(
        make_client: Any, pg_database: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    client = await make_client(service_config(pg_database))
    lease4 = {**ADD, "client-id": "01:02:03", "hostname": "Host.Example.org"}
    lease6 = {"ip-address": "2001:db8:1::20", "duid": "01:02:03:04:05:06", "iaid": 3_000_000_000,
              "hostname": "host6.example.org"}
    assert (await client.one("lease4-add", "dhcp4", lease4))["result"] == 0
    assert (await client.one("lease6-add", "dhcp6", lease6))["result"] == 0

    async def no_reader_threads(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("answered by a reader thread, not over the loop's connection")

    for store in (lease_store(client), client.runtime.families[6].store):
        monkeypatch.setattr(store, "read", no_reader_threads)
        monkeypatch.setattr(store, "read_point", no_reader_threads)

    by_hw = await client.one("lease4-get-by-hw-address", "dhcp4", {"hw-address": ADD["hw-address"]})
    by_client_id = await client.one("lease4-get-by-client-id", "dhcp4", {"client-id": "01:02:03"})
    by_hostname4 = await client.one("lease4-get-by-hostname", "dhcp4", {"hostname": "host.example.ORG"})
    by_identifier = await client.one("lease4-get", "dhcp4", {"identifier-type": "hw-address",
                                                              "identifier": ADD["hw-address"], "subnet-id": 1})
    by_duid = await client.one("lease6-get-by-duid", "dhcp6", {"duid": "01:02:03:04:05:06"})
    by_duid_iaid = await client.one("lease6-get", "dhcp6", {"identifier-type": "duid", "identifier": "01:02:03:04:05:06",
                                                             "iaid": 3_000_000_000, "subnet-id": 1})
    by_hostname6 = await client.one("lease6-get-by-hostname", "dhcp6", {"hostname": "HOST6.example.org"})

    for answer in (by_hw, by_client_id, by_hostname4):
        assert answer["result"] == 0 and [lease["ip-address"] for lease in answer["arguments"]["leases"]] == ["192.0.2.20"]
    assert by_identifier["result"] == 0 and by_identifier["arguments"]["ip-address"] == "192.0.2.20"
    for answer in (by_duid, by_hostname6):
        assert answer["result"] == 0 and [lease["iaid"] for lease in answer["arguments"]["leases"]] == [3_000_000_000]
    assert by_duid_iaid["result"] == 0 and by_duid_iaid["arguments"]["iaid"] == 3_000_000_000


async def test_loop_lookups_that_keep_failing_to_connect_are_reported_once_and_still_answered(
        make_client: Any, pg_database: Any, caplog: pytest.LogCaptureFixture) -> None:
    client = await make_client(service_config(pg_database))
    await client.one("lease4-add", "dhcp4", ADD)
    store = lease_store(client)

    async def refused() -> Any:
        raise OSError("connection refused by a setting only asyncpg reads")

    store._pg_lookups._connect = refused
    answers = []
    for _ in range(5):
        store._pg_lookups.retry_at = 0.0  # the pause after each failure is over
        answers.append(await client.one("lease4-get", "dhcp4", {"ip-address": "192.0.2.20"}))

    assert all(a["result"] == 0 for a in answers)  # reader threads answered
    warned = [r.getMessage() for r in caplog.records if r.levelname == "WARNING" and "lookup on the loop" in r.getMessage()]
    assert warned == ["PostgreSQL lookup on the loop failed (connection refused by a setting only asyncpg reads, "
                      "3 in a row): using a reader thread"]
