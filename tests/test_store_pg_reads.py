"""PostgreSQL lease lookups by address on the serving loop (LeaseStore._pg_point): answered over
the loop's own connection, and by a reader thread whenever that connection is lost."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import _pg_admin, lease_store, make_database, service_config

pytestmark = pytest.mark.postgres

ADD = {"ip-address": "192.0.2.20", "hw-address": "1a:1b:1c:1d:1e:1f"}


@pytest.fixture
def pg_database(tmp_path: Path) -> Any:
    db, drop = make_database("postgresql", tmp_path)
    yield db
    drop()


async def test_lease4_get_is_answered_over_the_loops_own_connection(make_client: Any, pg_database: Any) -> None:
    client = await make_client(service_config(pg_database))
    assert (await client.one("lease4-add", "dhcp4", ADD))["result"] == 0
    got = await client.one("lease4-get", "dhcp4", {"ip-address": "192.0.2.20"})
    assert got["result"] == 0 and got["arguments"]["hw-address"] == ADD["hw-address"]
    assert lease_store(client)._pg_reader is not None  # the lookup went over the loop's connection
    missing = await client.one("lease4-get", "dhcp4", {"ip-address": "192.0.2.21"})
    assert missing == {"result": 3, "text": "Lease not found."}


async def test_lease4_get_still_answers_when_the_server_drops_the_loops_connection(
        make_client: Any, pg_database: Any) -> None:
    client = await make_client(service_config(pg_database))
    await client.one("lease4-add", "dhcp4", ADD)
    await client.one("lease4-get", "dhcp4", {"ip-address": "192.0.2.20"})
    store = lease_store(client)
    dropped = store._pg_reader.get_server_pid()
    with _pg_admin() as admin:
        admin.execute("SELECT pg_terminate_backend(%s)", (dropped,))

    got = await client.one("lease4-get", "dhcp4", {"ip-address": "192.0.2.20"})

    assert got["result"] == 0 and got["arguments"]["ip-address"] == "192.0.2.20"  # a reader thread answered
    assert store._pg_reader is None
    store._pg_retry_at = 0.0  # the pause after a failure is over
    again = await client.one("lease4-get", "dhcp4", {"ip-address": "192.0.2.20"})
    assert again["result"] == 0
    assert store._pg_reader is not None and store._pg_reader.get_server_pid() != dropped


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
    assert client.runtime.families[6].store._pg_reader is not None


async def test_concurrent_lookups_queue_on_the_loops_connection_without_dropping_it(
        make_client: Any, pg_database: Any) -> None:
    client = await make_client(service_config(pg_database))
    await client.one("lease4-add", "dhcp4", ADD)
    await client.one("lease4-get", "dhcp4", {"ip-address": "192.0.2.20"})
    store = lease_store(client)
    first_pid = store._pg_reader.get_server_pid()

    answers = await asyncio.gather(*(client.one("lease4-get", "dhcp4", {"ip-address": "192.0.2.20"})
                                     for _ in range(16)))

    assert all(a["result"] == 0 and a["arguments"]["hw-address"] == ADD["hw-address"] for a in answers)
    # one query at a time: a second one sent meanwhile would have failed the connection
    assert store._pg_reader is not None and store._pg_reader.get_server_pid() == first_pid
    assert store._pg_retry_at == 0.0
