"""A value the lease database (or its driver) cannot hold fails that one change with result 1;
the writer goes on serving every later write. Before, sqlite3's OverflowError killed the writer
thread and every later write timed out until a restart. Integers beyond int64 never get that far:
Kea's JSON parser refuses the whole request (HTTP 400), and so does leasesync's edge."""

from __future__ import annotations

import asyncio
import dataclasses
from typing import Any

import pytest

from app.errors import StoreRejected
from app.store.repository import AddLease, FuncOp
from tests.conftest import KeaClient, lease_store, v4_lease

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
