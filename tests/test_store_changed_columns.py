"""On SQLite a batch of force-create updates (an HA partner's stream of lease4-updates, a
lease6-bulk-apply) rewrites, for a lease already there, only the columns whose values changed
(app/store/repository.py, _upsert_changed_sqlite): a renewal must not rewrite the hardware
address's or hostname's index entries, a lease sent again unchanged must not be written at all,
and the row must end up exactly as a full replacement would leave it."""

from __future__ import annotations

import asyncio
import sqlite3
from typing import Any

import pytest

from app.store import repository
from tests.conftest import KeaClient

V4_COLUMNS = ("hwaddr", "client_id", "valid_lifetime", "expire", "subnet_id", "fqdn_fwd", "fqdn_rev", "hostname",
              "state", "user_context")
V6_COLUMNS = ("duid", "valid_lifetime", "expire", "pref_lifetime", "iaid", "hostname", "hwaddr")


def _watch_updates(path: str, table: str, columns: tuple[str, ...]) -> sqlite3.Connection:
    """Record which columns each UPDATE of `table` sets (SQLite fires `AFTER UPDATE OF c` exactly
    when the statement's SET names c), and every UPDATE at all (`*`)."""
    watcher = sqlite3.connect(path, isolation_level=None)
    watcher.execute("CREATE TABLE IF NOT EXISTS test_set_columns (tbl TEXT, col TEXT)")
    for column in columns:
        watcher.execute(f"CREATE TRIGGER test_{table}_{column} AFTER UPDATE OF {column} ON {table} "
                        f"BEGIN INSERT INTO test_set_columns VALUES ('{table}', '{column}'); END")
    watcher.execute(f"CREATE TRIGGER test_{table}_any AFTER UPDATE ON {table} "
                    f"BEGIN INSERT INTO test_set_columns VALUES ('{table}', '*'); END")
    return watcher


def _set_columns(watcher: sqlite3.Connection, table: str) -> dict[str, int]:
    rows = watcher.execute("SELECT col, COUNT(*) FROM test_set_columns WHERE tbl = ? GROUP BY col", (table,))
    return dict(rows.fetchall())


@pytest.fixture
def batches(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """The sizes of the batches that went through the changed-columns path."""
    sizes: list[int] = []
    original = repository._upsert_changed_sqlite

    def counted(conn: Any, family: int, rows: list[dict[str, Any]]) -> set[Any]:
        sizes.append(len(rows))
        return original(conn, family, rows)

    monkeypatch.setattr(repository, "_upsert_changed_sqlite", counted)
    return sizes


def _v4(i: int, **changes: Any) -> dict[str, Any]:
    return {"ip-address": f"192.0.2.{10 + i}", "hw-address": f"1a:1b:1c:1d:1e:{i:02x}", "hostname": f"host{i}.example.org",
            "valid-lft": 4000, "expire": 1_700_004_000, "force-create": True, **changes}


async def _update_all(client: KeaClient, leases: list[dict[str, Any]]) -> list[str]:
    answers = await asyncio.gather(*(client.one("lease4-update", "dhcp4", lease) for lease in leases))
    return [answer["text"] for answer in answers]


async def test_a_renewal_rewrites_only_the_columns_that_changed(sqlite_client: KeaClient, sqlite_database: dict[str, Any],
                                                                batches: list[int]) -> None:
    await _update_all(sqlite_client, [_v4(i) for i in range(20)])
    watcher = _watch_updates(sqlite_database["name"], "lease4", V4_COLUMNS)
    texts = await _update_all(sqlite_client, [_v4(i, expire=1_700_004_600) for i in range(20)])
    assert texts == ["IPv4 lease updated."] * 20
    assert max(batches) > 1, "no batch of force-creates went through the changed-columns path"
    assert _set_columns(watcher, "lease4") == {"*": 20, "expire": 20}
    lease = (await sqlite_client.one("lease4-get", "dhcp4", {"ip-address": "192.0.2.15"}))["arguments"]
    assert (lease["cltt"], lease["hw-address"], lease["hostname"]) == (1_700_000_600, "1a:1b:1c:1d:1e:05",
                                                                      "host5.example.org")


async def test_a_lease_sent_again_unchanged_is_not_written(sqlite_client: KeaClient, sqlite_database: dict[str, Any],
                                                           batches: list[int]) -> None:
    await _update_all(sqlite_client, [_v4(i) for i in range(20)])
    watcher = _watch_updates(sqlite_database["name"], "lease4", V4_COLUMNS)
    texts = await _update_all(sqlite_client, [_v4(i) for i in range(20)])
    assert texts == ["IPv4 lease updated."] * 20
    assert max(batches) > 1
    assert _set_columns(watcher, "lease4") == {}


async def test_a_batched_update_writes_every_changed_column_as_a_replacement_would(
        sqlite_client: KeaClient, batches: list[int]) -> None:
    first = [_v4(i, **{"fqdn-fwd": True, "user-context": {"a": i}}) for i in range(20)]
    await _update_all(sqlite_client, first)
    # even leases change name, flags and context and lose their context; odd ones change nothing
    second = [_v4(i, hostname=f"renamed{i}.example.org", **{"fqdn-fwd": False, "fqdn-rev": True})
              if i % 2 == 0 else lease for i, lease in enumerate(first)]
    await _update_all(sqlite_client, second)
    assert max(batches) > 1
    for i, sent in enumerate(second):
        got = (await sqlite_client.one("lease4-get", "dhcp4", {"ip-address": sent["ip-address"]}))["arguments"]
        assert got["hostname"] == sent["hostname"]
        assert (got["fqdn-fwd"], got["fqdn-rev"]) == (sent.get("fqdn-fwd", False), sent.get("fqdn-rev", False))
        assert got.get("user-context") == sent.get("user-context"), i


async def test_a_batched_update_that_declines_leases_moves_their_statistics(
        sqlite_client: KeaClient, sqlite_database: dict[str, Any], batches: list[int]) -> None:
    await _update_all(sqlite_client, [_v4(i) for i in range(20)])
    await _update_all(sqlite_client, [_v4(i, state=1) if i < 5 else _v4(i) for i in range(20)])
    assert max(batches) > 1
    counts = dict(sqlite3.connect(sqlite_database["name"]).execute(
        "SELECT state, leases FROM lease4_stat WHERE subnet_id = 1").fetchall())
    assert counts == {0: 15, 1: 5}
    declined = await sqlite_client.one("statistic-get", "dhcp4", {"name": "subnet[1].declined-addresses"})
    assert declined["arguments"]["subnet[1].declined-addresses"][0][0] == 5


async def test_a_bulk_that_renews_its_leases_rewrites_only_what_changed(
        sqlite_client: KeaClient, sqlite_database: dict[str, Any], batches: list[int]) -> None:
    def v6(i: int, valid: int) -> dict[str, Any]:
        return {"ip-address": f"2001:db8:1::{i + 1:x}", "duid": f"00:03:00:01:1a:1b:1c:1d:1e:{i:02x}", "iaid": i,
                "subnet-id": 1, "valid-lft": valid, "preferred-lft": 1800, "expire": 1_700_000_000 + valid}

    first = await sqlite_client.one("lease6-bulk-apply", "dhcp6", {"leases": [v6(i, 4000) for i in range(10)]})
    assert first["result"] == 0, first
    watcher = _watch_updates(sqlite_database["name"], "lease6", V6_COLUMNS)
    renewed = await sqlite_client.one("lease6-bulk-apply", "dhcp6", {"leases": [v6(i, 5000) for i in range(10)]})
    assert renewed["result"] == 0, renewed
    assert 10 in batches
    assert _set_columns(watcher, "lease6") == {"*": 10, "valid_lifetime": 10, "expire": 10}
    got = (await sqlite_client.one("lease6-get", "dhcp6", {"ip-address": "2001:db8:1::3"}))["arguments"]
    assert (got["valid-lft"], got["duid"], got["iaid"]) == (5000, "00:03:00:01:1a:1b:1c:1d:1e:02", 2)
