"""PostgreSQL: concurrent lease6-bulk-apply requests that the writer takes as one batch are sent as
one statement (LeaseStore._apply, _merged_bulk_upserts), and each request still gets the outcomes
of its own leases, in order, as if the bulks had been applied one after the other."""

from __future__ import annotations

import asyncio
import threading
from pathlib import Path
from typing import Any

import pytest

from app.store import repository
from app.store.repository import FuncOp
from tests.conftest import make_database, service_config

pytestmark = pytest.mark.postgres

DUID = "01:02:03:04:05:06:07:08"


@pytest.fixture
def pg_database(tmp_path: Path) -> Any:
    db, drop = make_database("postgresql", tmp_path)
    yield db
    drop()


def _bulk(*leases: tuple[str, int]) -> dict[str, Any]:
    return {"leases": [{"subnet-id": 1, "ip-address": address, "duid": DUID, "iaid": iaid} for address, iaid in leases]}


async def test_bulks_committed_in_one_batch_each_get_their_own_outcomes(make_client: Any, pg_database: Any,
                                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    statements: list[int] = []  # the rows of every multi-row upsert sent
    upsert = repository._upsert_rows_postgresql

    def counted(conn: Any, family: int, rows: list[dict[str, Any]], returning: str = "") -> list[Any]:
        statements.append(len(rows))
        return upsert(conn, family, rows, returning)

    monkeypatch.setattr(repository, "_upsert_rows_postgresql", counted)
    client = await make_client(service_config(pg_database))
    await client.one("lease6-add", "dhcp6", {"ip-address": "2001:db8:1::700", "duid": DUID, "iaid": 1})
    store = client.runtime.families[6].store
    # hold the writer in a transaction of its own, so that both bulks queue behind it
    started, release = threading.Event(), threading.Event()

    def hold(_conn: Any, _dialect: str) -> None:
        started.set()
        release.wait(10)

    held = asyncio.ensure_future(store.write(FuncOp(hold)))
    assert await asyncio.get_running_loop().run_in_executor(None, started.wait, 10)
    first = asyncio.ensure_future(client.one("lease6-bulk-apply", "dhcp6", _bulk(
        ("2001:db8:1::700", 2), ("2001:db8:1::701", 3), ("2001:db8:1::703", 4))))
    second = asyncio.ensure_future(client.one("lease6-bulk-apply", "dhcp6", _bulk(("2001:db8:1::701", 5))))
    for _ in range(1000):  # both requests parsed and queued: at most ~10 s
        if len(store._queue) == 2:
            break
        await asyncio.sleep(0.01)
    assert len(store._queue) == 2
    commits = store.commits
    release.set()
    await held

    assert await first == {"result": 0, "text": "Bulk apply of 3 IPv6 leases completed."}
    assert await second == {"result": 0, "text": "Bulk apply of 1 IPv6 leases completed."}
    assert store.commits == commits + 2  # the held transaction, then both bulks in one
    assert statements == [4]  # ... as one statement
    stored = await client.one("lease6-get", "dhcp6", {"ip-address": "2001:db8:1::701"})
    assert stored["arguments"]["iaid"] == 5  # the later bulk's lease
    # ::700 was there (updated), ::701 and ::703 new (added), ::701 again (updated): 3 assigned
    assigned = await client.one("statistic-get", "dhcp6", {"name": "subnet[1].assigned-nas"})
    assert assigned["arguments"]["subnet[1].assigned-nas"][0][0] == 3
