"""PostgreSQL must plan leasesync's lease queries for the table as it is now.

A server-side prepared statement makes PostgreSQL settle on a generic plan after a few runs;
one made while the lease table was nearly empty stays a sequential scan as the table grows
(nothing invalidates it unless autovacuum analyses the table), so lease6-bulk-apply slowed in
step with the table. The store's connections must therefore not prepare statements."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from app.store.repository import FuncOp
from tests.conftest import KeaClient, _pg_admin, service_config

pytestmark = pytest.mark.postgres


def _bulk(first: int) -> dict[str, Any]:
    return {"leases": [{"ip-address": f"2001:db8:1::{first + i:x}", "duid": "00:03:00:01:0a:0b:0c:0d",
                        "iaid": first + i, "subnet-id": 1} for i in range(20)]}


async def test_repeated_bulk_applies_leave_no_generic_plan_behind(make_client: Any, pg_database: dict[str, Any]) -> None:
    client: KeaClient = await make_client(service_config(pg_database))
    for n in range(12):  # psycopg would prepare after 5 runs of the same query
        answer = await client.one("lease6-bulk-apply", "dhcp6", _bulk(1 + 20 * n))
        assert answer["result"] == 0, answer
    store = client.runtime.families[6].store
    # run on the writer's own connection, i.e. in the server session the bulk applies ran in
    prepared = await store.write(FuncOp(
        lambda conn, dialect: [tuple(r) for r in conn.exec_driver_sql("SELECT name, statement FROM pg_prepared_statements")]))
    assert prepared == [], prepared


async def test_closing_the_store_closes_every_connection_it_opened(make_client: Any, pg_database: dict[str, Any]) -> None:
    client: KeaClient = await make_client(service_config(pg_database))
    for n in range(8):  # reads on several reader threads, each keeping a connection
        await client.one("lease4-get-by-hostname", "dhcp4", {"hostname": f"host{n}.example.org"})
    store = client.runtime.families[4].store
    await asyncio.get_running_loop().run_in_executor(None, store.close)
    with _pg_admin() as admin:
        open_sessions = admin.execute("SELECT count(*) FROM pg_stat_activity WHERE datname = %s",
                                      (pg_database["name"],)).fetchone()
    assert open_sessions is not None and open_sessions[0] == 0, open_sessions
