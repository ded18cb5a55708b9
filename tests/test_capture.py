"""Local change capture (app/capture.py): leases another writer (Kea) puts straight into the
database reach the HA listeners as LeaseChanges; leasesync's own writes do not."""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import time
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import delete, func, insert, select, update
from sqlalchemy.engine import Engine

from app import capture as capture_module
from app.capture import (
    CHANNEL,
    PG_SAFETY_POLL,
    POLL_INTERVAL,
    ChangeCapture,
    _existing_triggers,
    _trigger_names,
    lease_changes,
)
from app.config import parse_config
from app.errors import DatabaseOpenError
from app.main import build_runtime
from app.runtime import LeaseChange, Runtime
from app.store import ddl_locks, schema
from app.store.leases import Lease4, Lease6, lease4_to_row, lease6_to_row
from app.store.repository import make_engine
from tests.conftest import kea_insert4, lease_table_held, make_database, service_config
from tests.ha_helpers import metric_values

NOW = int(time.time())
WAIT = 15.0  # seconds any single expected delivery may take


def v4(text: str, **changes: Any) -> Lease4:
    lease = Lease4(address=int(ipaddress.IPv4Address(text)), hwaddr=bytes.fromhex("1a1b1c1d1e1f"), client_id=None,
                   valid_lft=4000, cltt=NOW, subnet_id=1, fqdn_fwd=True, hostname="kea.example.org",
                   user_context={"origin": "kea"})
    return lease.with_changes(**changes)


def v6(text: str) -> Lease6:
    return Lease6(address=text, duid=bytes.fromhex("000102030405"), iaid=7, type=0, prefix_len=128, valid_lft=4000,
                  preferred_lft=3000, cltt=NOW, subnet_id=1, hostname="six.example.org")


class Recorder:
    """A stand-in for the HA service: records what it is told."""

    def __init__(self) -> None:
        self.calls: list[tuple[int, list[LeaseChange], bool]] = []
        self.fail_next = 0
        self._changed = asyncio.Event()

    async def on_local_changes(self, family: int, changes: list[LeaseChange], from_partner: bool,
                               handoff: int | None = None) -> None:
        if self.fail_next:
            self.fail_next -= 1
            raise RuntimeError("listener failed")
        self.calls.append((family, changes, from_partner))
        self._changed.set()

    @property
    def changes(self) -> list[tuple[int, LeaseChange]]:
        return [(family, change) for family, changes, _ in self.calls for change in changes]

    async def wait_for(self, predicate: Callable[[], bool], within: float = WAIT) -> None:
        try:
            async with asyncio.timeout(within):
                while not predicate():
                    self._changed.clear()
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(self._changed.wait(), 0.5)
        except TimeoutError:
            pytest.fail(f"not delivered within {within} s; got {self.changes}")


class Site:
    """An in-process leasesync with capture on, plus a plain connection that plays Kea."""

    def __init__(self, db: dict[str, Any], tmp_path: Path) -> None:
        self.db = {**db, "capture-changes": True}
        self.tmp_path = tmp_path
        self.runtime: Runtime | None = None
        self.recorder = Recorder()
        self._kea: Engine | None = None

    async def start(self) -> Site:
        runtime = build_runtime(parse_config(service_config(self.db), self.tmp_path / "leasesync.json"))
        for family in runtime.families.values():
            family.listeners.append(self.recorder)
        await runtime.start()
        self.runtime = runtime
        return self

    async def stop(self) -> None:
        if self.runtime is not None:
            await self.runtime.stop()
            self.runtime = None
        if self._kea is not None:
            self._kea.dispose()
            self._kea = None

    @property
    def kea(self) -> Engine:
        """A connection pool that is not leasesync's writer: its changes are 'Kea's'."""
        if self._kea is None:
            cfg = parse_config(service_config(self.db), self.tmp_path / "leasesync.json").dhcp4
            assert cfg is not None
            self._kea = make_engine(cfg.lease_database)
        return self._kea

    @property
    def dialect(self) -> str:
        return self.kea.dialect.name

    async def sql(self, statement: Any) -> None:
        def run() -> None:
            with self.kea.begin() as conn:
                conn.execute(statement)

        await asyncio.to_thread(run)

    async def queued(self) -> int:
        def run() -> int:
            with self.kea.connect() as conn:
                return int(conn.execute(select(func.count()).select_from(lease_changes)).scalar_one())

        return await asyncio.to_thread(run)

    @contextlib.asynccontextmanager
    async def http(self) -> AsyncIterator[Any]:
        """An HTTP client of this site's leasesync, in process."""
        import httpx

        from app.main import build_app

        assert self.runtime is not None
        transport = httpx.ASGITransport(app=build_app(self.runtime), client=("127.0.0.1", 40000))
        async with httpx.AsyncClient(transport=transport, base_url="http://leasesync") as http:
            yield http

    async def command(self, command: str, arguments: dict[str, Any]) -> dict[str, Any]:
        async with self.http() as http:
            answer = (await http.post("/", json={"command": command, "arguments": arguments})).json()
        return dict(answer[0])

    async def metric(self, name: str) -> float | None:
        """A capture metric's value for this site's database (None when it has none)."""
        async with self.http() as http:
            text = (await http.get("/metrics")).text
        values = metric_values(text, name, database=self.capture().store.config.redacted_url())
        assert len(values) <= 1, values
        return values[0] if values else None

    def capture(self) -> ChangeCapture:
        assert self.runtime is not None
        return next(s for s in self.runtime.services if isinstance(s, ChangeCapture))


@pytest.fixture
async def site(lease_database: dict[str, Any], tmp_path: Path) -> AsyncIterator[Site]:
    s = await Site(lease_database, tmp_path).start()
    try:
        yield s
    finally:
        await s.stop()


def insert4(site: Site, lease: Lease4) -> Any:
    return insert(schema.lease4).values(lease4_to_row(lease, site.dialect))


# --- captured changes -------------------------------------------------------------------------

async def test_lease_inserted_by_another_writer_is_an_update(site: Site) -> None:
    lease = v4("192.0.2.50")
    await site.sql(insert4(site, lease))
    await site.recorder.wait_for(lambda: bool(site.recorder.changes))
    assert site.recorder.changes == [(4, LeaseChange("update", lease))]
    assert site.recorder.calls[0][2] is False  # from_partner


async def test_lease_updated_by_another_writer_carries_the_new_values(site: Site) -> None:
    await site.sql(insert4(site, v4("192.0.2.51")))
    await site.recorder.wait_for(lambda: len(site.recorder.changes) == 1)
    renewed = v4("192.0.2.51", cltt=NOW + 60, hostname="renewed.example.org")
    row = lease4_to_row(renewed, site.dialect)
    await site.sql(update(schema.lease4).where(schema.lease4.c.address == renewed.address).values(row))
    await site.recorder.wait_for(lambda: len(site.recorder.changes) == 2)
    assert site.recorder.changes[1] == (4, LeaseChange("update", renewed))


async def test_lease_deleted_by_another_writer_is_a_delete_with_the_old_lease(site: Site) -> None:
    lease = v4("192.0.2.52")
    await site.sql(insert4(site, lease))
    await site.recorder.wait_for(lambda: len(site.recorder.changes) == 1)
    await site.sql(delete(schema.lease4).where(schema.lease4.c.address == lease.address))
    await site.recorder.wait_for(lambda: len(site.recorder.changes) == 2)
    assert site.recorder.changes[1] == (4, LeaseChange("delete", lease))


async def test_a_deleted_lease_with_a_64_kib_user_context_is_captured_whole(site: Site) -> None:
    # the captured row is JSON of the whole lease, more than the user_context itself: on MySQL it
    # needs LONGTEXT, or the trigger's insert fails under the strict mode and so does the delete
    lease = v4("192.0.2.53", user_context={"note": "n" * 65_400})  # 65,412 bytes of JSON: TEXT holds it
    await site.sql(insert4(site, lease))
    await site.recorder.wait_for(lambda: len(site.recorder.changes) == 1)
    await site.sql(delete(schema.lease4).where(schema.lease4.c.address == lease.address))
    await site.recorder.wait_for(lambda: len(site.recorder.changes) == 2)
    assert site.recorder.changes[1] == (4, LeaseChange("delete", lease))


async def test_v6_lease_goes_to_the_v6_family(site: Site) -> None:
    lease = v6("2001:db8:1::77")
    await site.sql(insert(schema.lease6).values(lease6_to_row(lease, site.dialect)))
    await site.recorder.wait_for(lambda: bool(site.recorder.changes))
    assert site.recorder.changes == [(6, LeaseChange("update", lease))]


async def test_delivered_changes_leave_the_queue(site: Site) -> None:
    await site.sql(insert4(site, v4("192.0.2.53")))
    await site.recorder.wait_for(lambda: bool(site.recorder.changes))
    for _ in range(50):
        if await site.queued() == 0:
            return
        await asyncio.sleep(0.1)
    pytest.fail("the delivered change is still queued")


async def test_failed_delivery_is_retried(site: Site) -> None:
    site.recorder.fail_next = 1
    lease = v4("192.0.2.54")
    await site.sql(insert4(site, lease))
    await site.recorder.wait_for(lambda: bool(site.recorder.changes))
    assert site.recorder.changes == [(4, LeaseChange("update", lease))]


async def test_captured_changes_and_failed_rounds_are_counted(site: Site) -> None:
    site.recorder.fail_next = 1
    await site.sql(insert4(site, v4("192.0.2.55")))
    await site.recorder.wait_for(lambda: bool(site.recorder.changes))
    assert await site.metric("leasesync_capture_failures_total") == 1
    lag = await site.metric("leasesync_capture_lag_seconds")  # taken as the batch was read
    assert lag is not None and 0 <= lag < WAIT
    barrier = v4("192.0.2.56")  # delivered in a later round: the first one has finished by then
    await site.sql(insert4(site, barrier))
    await site.recorder.wait_for(lambda: len(site.recorder.changes) >= 2)
    assert await site.metric("leasesync_capture_changes_total") in (1, 2)  # the barrier's may be counted yet


# --- not captured -----------------------------------------------------------------------------

async def test_own_lease4_add_is_not_captured(site: Site) -> None:
    answer = await site.command("lease4-add", {"ip-address": "192.0.2.60", "hw-address": "1a:1b:1c:1d:1e:1f"})
    assert answer["result"] == 0, answer
    barrier = v4("192.0.2.61")  # written after the add: once it is delivered, the add would have been too
    await site.sql(insert4(site, barrier))
    await site.recorder.wait_for(lambda: len(site.recorder.changes) >= 2)
    # the command layer itself reported the add (once); capture delivered only the barrier
    heard = [(family, change.kind, change.lease.ip) for family, change in site.recorder.changes]
    assert heard == [(4, "update", "192.0.2.60"), (4, "update", "192.0.2.61")]
    assert site.capture().delivered == 1


async def test_nothing_is_queued_when_capture_is_off(lease_database: dict[str, Any], tmp_path: Path) -> None:
    on = await Site(lease_database, tmp_path).start()
    await on.stop()  # the triggers exist now
    off = Site(lease_database, tmp_path)
    off.db["capture-changes"] = False
    await off.start()
    try:
        await off.sql(insert4(off, v4("192.0.2.62")))
        assert await off.queued() == 0
        assert not any(isinstance(s, ChangeCapture) for s in off.runtime.services)  # type: ignore[union-attr]
    finally:
        await off.stop()


@pytest.mark.postgres
async def test_own_writes_behind_a_transaction_pooler_leave_another_client_s_changes_captured(
        pg_database: dict[str, Any], tmp_path: Path) -> None:
    """leasesync and Kea reach PostgreSQL through one pgbouncer in transaction mode, sharing its
    single server connection: leasesync's mark of its own writes must not stay on that session."""
    from tests.private_db import Pgbouncer

    bouncer = Pgbouncer("transaction", pool_size=1)
    site = Site({**pg_database, "port": bouncer.port}, tmp_path)
    try:
        await site.start()
        answer = await site.command("lease4-add", {"ip-address": "192.0.2.63", "hw-address": "1a:1b:1c:1d:1e:1f"})
        assert answer["result"] == 0, answer
        await site.sql(insert4(site, v4("192.0.2.64")))  # Kea's, on the server session leasesync wrote on
        await site.recorder.wait_for(lambda: len(site.recorder.changes) >= 2)
        heard = [(family, change.kind, change.lease.ip) for family, change in site.recorder.changes]
        assert heard == [(4, "update", "192.0.2.63"), (4, "update", "192.0.2.64")]
        assert site.capture().delivered == 1
    finally:
        await site.stop()
        bouncer.destroy()


async def _probed(capture: ChangeCapture) -> bool:
    await asyncio.wait_for(capture.probed.wait(), WAIT)
    assert capture.listening is not None
    return capture.listening


@pytest.mark.postgres
async def test_postgresql_changes_wake_the_capture_through_listen(pg_database: dict[str, Any], tmp_path: Path) -> None:
    site = await Site(pg_database, tmp_path).start()
    try:
        assert await _probed(site.capture()) is True
        assert site.capture().poll_interval == PG_SAFETY_POLL
        assert await site.metric("leasesync_capture_listening") == 1
    finally:
        await site.stop()


@pytest.mark.postgres
async def test_postgresql_notifies_only_a_change_that_finds_the_queue_empty(pg_database: dict[str, Any],
                                                                              tmp_path: Path) -> None:
    """PostgreSQL commits notifying transactions one at a time: a NOTIFY from every Kea write
    would serialise a multi-threaded Kea's commits."""
    import psycopg

    site = await Site(pg_database, tmp_path).start()
    await site.stop()  # the triggers stay; nothing drains the queue now
    kea = site.kea
    listener = psycopg.connect(host=pg_database["host"], dbname=pg_database["name"], user="postgres",
                               autocommit=True)
    try:
        listener.execute(f"LISTEN {CHANNEL}")

        def notifications() -> int:
            return sum(1 for _ in listener.notifies(timeout=0.5))

        for last in range(70, 73):  # three of Kea's transactions, one after another
            await site.sql(insert4(site, v4(f"192.0.2.{last}")))
        assert notifications() == 1
        await site.sql(delete(lease_changes))  # drained
        await site.sql(insert4(site, v4("192.0.2.73")))
        assert notifications() == 1
    finally:
        listener.close()
        kea.dispose()


async def test_after_a_round_that_found_changes_the_capture_polls_again_soon(
        sqlite_database: dict[str, Any], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A change that found others queued sent no notification (PostgreSQL); if it commits just
    after the round that took those, the next rounds (BUSY_TAIL, at POLL_INTERVAL) find it, long
    before the safety poll, with no wake-up."""
    site = await Site(sqlite_database, tmp_path).start()
    assert site.runtime is not None
    capture = ChangeCapture(site.runtime.families[4].store, [site.runtime.families[4]], poll_interval=600.0)
    found = [1, 0]  # rows each round consumes
    rounds: asyncio.Queue[None] = asyncio.Queue()

    async def drain_once() -> int:
        rounds.put_nowait(None)
        return found.pop(0) if found else 0

    monkeypatch.setattr(capture, "drain_once", drain_once)
    running = asyncio.create_task(capture._run())
    try:
        await asyncio.wait_for(rounds.get(), WAIT)  # finds a change
        await asyncio.wait_for(rounds.get(), WAIT)  # the next round, with nothing to wake it
        await asyncio.wait_for(rounds.get(), WAIT)  # and one more after an empty round, within the tail
    finally:
        running.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await running
        await site.stop()


@pytest.mark.postgres
async def test_behind_a_transaction_pooler_the_capture_polls_instead_of_listening(
        pg_database: dict[str, Any], tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    """In transaction mode the LISTEN connection holds no server session between statements, so
    no notification can reach it: the capture notices and polls as it does on MySQL."""
    from tests.private_db import Pgbouncer

    bouncer = Pgbouncer("transaction", pool_size=2)
    site = Site({**pg_database, "port": bouncer.port}, tmp_path)
    try:
        await site.start()
        assert await _probed(site.capture()) is False
        assert site.capture().poll_interval == POLL_INTERVAL
        assert "did not hear a probe notification" in caplog.text
        assert await site.metric("leasesync_capture_listening") == 0
        await site.sql(insert4(site, v4("192.0.2.65")))
        await site.recorder.wait_for(lambda: len(site.recorder.changes) >= 1)
        assert [change.lease.ip for _, change in site.recorder.changes] == ["192.0.2.65"]
    finally:
        await site.stop()
        bouncer.destroy()


async def test_writers_are_marked_only_where_changes_are_captured(lease_database: dict[str, Any],
                                                                   tmp_path: Path) -> None:
    """The mark costs a round trip per writer transaction on PostgreSQL: a database without
    capture-changes (no triggers) goes without it."""
    on = await Site(lease_database, tmp_path).start()
    try:
        assert on.runtime is not None
        assert all(store.on_writer_connect is not None for store in on.runtime.stores.values())
    finally:
        await on.stop()
    off = Site(lease_database, tmp_path)
    off.db["capture-changes"] = False
    await off.start()
    try:
        assert off.runtime is not None
        assert all(store.on_writer_connect is None for store in off.runtime.stores.values())
        answer = await off.command("lease4-add", {"ip-address": "192.0.2.66", "hw-address": "1a:1b:1c:1d:1e:1f"})
        assert answer["result"] == 0, answer
    finally:
        await off.stop()


# --- durability -------------------------------------------------------------------------------

async def test_changes_made_while_down_are_delivered_at_start(lease_database: dict[str, Any],
                                                             tmp_path: Path) -> None:
    first = await Site(lease_database, tmp_path).start()
    await first.stop()
    offline = Site(lease_database, tmp_path)  # leasesync is down; Kea goes on writing
    lease, gone = v4("192.0.2.70"), v4("192.0.2.71")
    try:
        await offline.sql(insert4(offline, lease))
        await offline.sql(insert4(offline, gone))
        await offline.sql(delete(schema.lease4).where(schema.lease4.c.address == gone.address))
        assert await offline.queued() == 3
    finally:
        await offline.stop()
    second = await Site(lease_database, tmp_path).start()
    try:
        await second.recorder.wait_for(lambda: len(second.recorder.changes) >= 2)
        assert sorted(second.recorder.changes, key=lambda c: c[1].kind) == [
            (4, LeaseChange("delete", gone)), (4, LeaseChange("update", lease))]
    finally:
        await second.stop()


# --- turning capture on while Kea writes to the database ------------------------------------

def _capture_config(db: dict[str, Any], tmp_path: Path, *, capture: bool = True) -> Any:
    return parse_config(service_config({**db, "capture-changes": capture}), tmp_path / "leasesync.json")


def _kea_engine(db: dict[str, Any], tmp_path: Path) -> Engine:
    """Runs leasesync once without capture (the lease schema exists, as when capture is turned on
    later); a pool for 'Kea' and for the other client's transaction."""
    runtime = build_runtime(_capture_config(db, tmp_path, capture=False))
    for store in runtime.stores.values():
        store.close()
    config = _capture_config(db, tmp_path).dhcp4
    return make_engine(config.lease_database)


def _capture_triggers(engine: Engine) -> set[str]:
    with engine.connect() as conn:
        return _existing_triggers(conn, engine.dialect.name)


async def _logged(caplog: pytest.LogCaptureFixture, fragment: str) -> None:
    deadline = time.monotonic() + WAIT
    while fragment not in caplog.text:
        if time.monotonic() > deadline:
            pytest.fail(f"{fragment!r} not logged within {WAIT} s: {caplog.text}")
        await asyncio.sleep(0.05)


async def test_triggers_of_an_earlier_leasesync_are_replaced_at_start(lease_database: dict[str, Any],
                                                                      tmp_path: Path,
                                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    with monkeypatch.context() as earlier:
        earlier.setattr(capture_module, "_VERSION", "v1")
        old = await Site(lease_database, tmp_path).start()
        await old.stop()
    site = await Site(lease_database, tmp_path).start()
    try:
        dialect = site.dialect
        assert _capture_triggers(site.kea) == set(_trigger_names(dialect, 4) + _trigger_names(dialect, 6))
        assert all(name.endswith(capture_module._VERSION) for name in _capture_triggers(site.kea))
        await site.sql(insert4(site, v4("192.0.2.76")))
        await site.recorder.wait_for(lambda: len(site.recorder.changes) == 1)
    finally:
        await site.stop()


async def test_turning_capture_on_does_not_hold_kea_writes_behind_another_transaction(
        shared_database: dict[str, Any], tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        caplog: pytest.LogCaptureFixture) -> None:
    """CREATE TRIGGER waits for a transaction that holds lease4; a wait without end would queue
    every later Kea write behind it. leasesync waits briefly, steps back, and tries again."""
    monkeypatch.setattr(ddl_locks, "RETRY_PAUSE", 0.2)
    kea = _kea_engine(shared_database, tmp_path)

    def kea_writes() -> None:
        with kea.begin() as conn:
            kea_insert4(conn, int(ipaddress.IPv4Address("192.0.2.90")))

    starting = None
    try:
        with lease_table_held(kea, "lease4"):
            starting = asyncio.ensure_future(asyncio.to_thread(build_runtime, _capture_config(shared_database, tmp_path)))
            await _logged(caplog, "setting up lease change capture: lease4/lease6 is held by ")
            holder = "idle in transaction" if kea.dialect.name == "postgresql" else "held by thread "
            assert holder in caplog.text
            # leasesync is still trying, and Kea's write goes through meanwhile
            await asyncio.wait_for(asyncio.to_thread(kea_writes), 5)
            assert not starting.done()
            assert not _capture_triggers(kea)
        runtime = await asyncio.wait_for(starting, WAIT)
        await runtime.stop()
        assert _capture_triggers(kea) == set(_trigger_names(kea.dialect.name, 4) + _trigger_names(kea.dialect.name, 6))
    finally:
        if starting is not None and not starting.done():
            await asyncio.wait_for(starting, WAIT)
        kea.dispose()


async def test_turning_capture_on_gives_up_naming_the_holder_once_its_patience_runs_out(
        shared_database: dict[str, Any], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(ddl_locks, "RETRY_PAUSE", 0.1)
    monkeypatch.setattr(ddl_locks, "PATIENCE", 1.0)
    kea = _kea_engine(shared_database, tmp_path)
    try:
        with lease_table_held(kea, "lease4"), pytest.raises(DatabaseOpenError) as failed:
            await asyncio.to_thread(build_runtime, _capture_config(shared_database, tmp_path))
        message = str(failed.value)
        assert shared_database["name"] in message
        assert "setting up lease change capture: lease4/lease6 stayed held by " in message
        assert "leasesync gave up rather than hold Kea's lease writes behind its wait" in message
        assert not _capture_triggers(kea)
    finally:
        kea.dispose()


# --- with real Kea --------------------------------------------------------------------------

@pytest.mark.postgres
@pytest.mark.kea
async def test_kea_dhcp4_lease4_add_is_captured(tmp_path: Path) -> None:
    """kea-dhcp4 writes into the PostgreSQL database leasesync migrated; the change is captured.

    Needs a Kea-compatible 0001 migration (kea-dhcp4 checks schema_version and its stat tables)."""
    from tests.kea_harness import KeaServer, require_kea

    require_kea()
    db, drop = make_database("postgresql", tmp_path)
    site = await Site(db, tmp_path).start()
    try:
        kea_db = {k: v for k, v in db.items() if k != "capture-changes"}
        with KeaServer(4, lease_database=kea_db, start_agent=False) as kea:
            answer = await asyncio.to_thread(kea.socket_command, {"command": "lease4-add", "arguments": {
                "ip-address": "192.0.2.80", "hw-address": "1a:1b:1c:1d:1e:1f", "hostname": "kea.example.org"}})
            assert answer["result"] == 0, answer
            await site.recorder.wait_for(lambda: bool(site.recorder.changes))
        family, change = site.recorder.changes[0]
        assert (family, change.kind, change.lease.ip, change.lease.hostname, change.lease.hwaddr) == \
            (4, "update", "192.0.2.80", "kea.example.org", bytes.fromhex("1a1b1c1d1e1f"))
    finally:
        await site.stop()
        drop()

