"""Crash safety on real processes: an acknowledged lease write is never lost.

Writer threads stream `lease4-update` (force-create) requests over several keep-alive
connections while the test SIGKILLs `leasesync serve` at seeded random points and restarts it;
in the end every acknowledged lease must be stored with exactly the acknowledged fields. A second
test stops a private PostgreSQL cluster under load: requests must fail fast with a clear text and
the service must resume by itself when the database is back.
"""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest

from tests.conftest import ServerProcess, free_port, service_config
from tests.private_db import PrivateCluster, PrivateMariaDB, running_mariadb

pytestmark = pytest.mark.slow

SEED = 20261125
BASE_EXPIRE = 2_000_000_000
QUERY_TIMEOUT = 2.0


def crash_config(db: dict[str, Any], **lease_db: Any) -> dict[str, Any]:
    """One big v4 subnet so the writers never run out of addresses."""
    config = service_config({**db, **lease_db}, port=free_port(), dhcp6=False)
    config["Dhcp4"]["subnet4"] = [{"id": 1, "subnet": "10.0.0.0/8"}]
    return config


def wait_for(condition: Callable[[], bool], timeout: float, what: str, interval: float = 0.05) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        time.sleep(interval)


# --- the load -------------------------------------------------------------------------------

@dataclass
class Attempt:
    arguments: dict[str, Any]
    outcome: str  # "ack" (result 0), "rejected" (answered "nothing was changed" or any other error) or
    # "unknown" (no answer, or "it may have been applied")
    text: str = ""


@dataclass
class Writer:
    """One client thread with its own connection and its own addresses (10.<index>.x.y)."""

    index: int
    url: str
    stop: threading.Event
    rng: random.Random
    attempts: dict[str, list[Attempt]] = field(default_factory=dict)
    acks: int = 0
    thread: threading.Thread | None = None
    error: BaseException | None = None

    def start(self) -> None:
        self.thread = threading.Thread(target=self._run, name=f"writer-{self.index}", daemon=True)
        self.thread.start()

    def join(self) -> None:
        assert self.thread is not None
        self.thread.join(timeout=60)
        assert not self.thread.is_alive(), "writer thread did not stop"
        if self.error is not None:
            raise self.error

    def _arguments(self, serial: int) -> dict[str, Any]:
        acked = [a for a, tries in self.attempts.items() if any(t.outcome == "ack" for t in tries)]
        if acked and self.rng.random() < 0.25:  # rewrite an existing lease with new values
            address = self.rng.choice(acked)
        else:
            n = len(self.attempts)
            address = f"10.{self.index}.{n // 250}.{n % 250 + 1}"
        return {"ip-address": address, "hw-address": f"02:00:00:{self.index:02x}:{serial >> 8 & 255:02x}:{serial & 255:02x}",
                "hostname": f"w{self.index}-{serial}.example.org", "valid-lft": 3600 + serial % 97,
                "expire": BASE_EXPIRE + serial, "subnet-id": 1, "state": serial % 2,
                "user-context": {"writer": self.index, "serial": serial}, "force-create": True}

    def _run(self) -> None:
        try:
            with httpx.Client(timeout=15) as http:
                serial = 0
                while not self.stop.is_set():
                    serial += 1
                    arguments = self._arguments(serial)
                    attempt = Attempt(arguments, "unknown")
                    self.attempts.setdefault(arguments["ip-address"], []).append(attempt)
                    body = {"command": "lease4-update", "service": ["dhcp4"], "arguments": arguments}
                    try:
                        response = http.post(self.url, json=body)
                    except httpx.TransportError:
                        self._wait_for_server(http)
                        continue
                    assert response.status_code == 200, response.content
                    answer = response.json()[0]
                    if answer["result"] == 0:
                        attempt.outcome = "ack"
                        self.acks += 1
                    elif "it may have been applied" in answer.get("text", ""):
                        # its COMMIT was under way when the database went: as unknown as no answer
                        attempt.text = answer["text"]
                        time.sleep(0.01)
                    else:
                        attempt.outcome, attempt.text = "rejected", answer.get("text", "")
                        time.sleep(0.01)  # the database is away; do not spin
        except BaseException as exc:  # noqa: BLE001 - re-raised in the test thread by join()
            self.error = exc

    def _wait_for_server(self, http: httpx.Client) -> None:
        while not self.stop.is_set():
            try:
                if http.get(self.url + "healthz", timeout=1).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.05)


class Load:
    def __init__(self, url: str, writers: int, seed: int) -> None:
        self.stop = threading.Event()
        self.writers = [Writer(i + 1, url, self.stop, random.Random(seed + i)) for i in range(writers)]

    def __enter__(self) -> Load:
        for writer in self.writers:
            writer.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.stop.set()
        for writer in self.writers:
            writer.join()

    @property
    def acks(self) -> int:
        return sum(w.acks for w in self.writers)

    def wait_acks(self, more: int, timeout: float = 60) -> None:
        target = self.acks + more
        wait_for(lambda: self.acks >= target, timeout, f"{more} more acknowledged writes")


def expected_fields(arguments: dict[str, Any]) -> dict[str, Any]:
    return {"hw-address": arguments["hw-address"], "hostname": arguments["hostname"],
            "valid-lft": arguments["valid-lft"], "cltt": arguments["expire"] - arguments["valid-lft"],
            "subnet-id": 1, "state": arguments["state"], "user-context": arguments["user-context"]}


def check_store(server: ServerProcess, writers: list[Writer]) -> int:
    """Every acknowledged write is stored intact; no write answered with an error was applied."""
    answer = server.command("lease4-get-all", "dhcp4", timeout=60)[0]
    stored = {lease["ip-address"]: {k: lease.get(k) for k in ("hw-address", "hostname", "valid-lft", "cltt",
                                                               "subnet-id", "state", "user-context")}
              for lease in answer.get("arguments", {}).get("leases", [])}
    lost, wrong, applied_rejected, acknowledged = [], [], [], 0
    for writer in writers:
        for address, attempts in writer.attempts.items():
            acked_at = max((i for i, a in enumerate(attempts) if a.outcome == "ack"), default=None)
            acknowledged += sum(a.outcome == "ack" for a in attempts)
            value = stored.get(address)
            if acked_at is not None and value is None:
                lost.append(address)
                continue
            if value is None:
                continue
            allowed = [expected_fields(a.arguments) for a in attempts[acked_at or 0:] if a.outcome != "rejected"]
            if value not in allowed:
                rejected = [expected_fields(a.arguments) for a in attempts if a.outcome == "rejected"]
                (applied_rejected if value in rejected else wrong).append((address, value))
    assert not lost, f"{len(lost)} acknowledged lease(s) lost, e.g. {lost[:5]}"
    assert not wrong, f"{len(wrong)} lease(s) not as acknowledged, e.g. {wrong[:3]}"
    assert not applied_rejected, f"{len(applied_rejected)} write(s) answered as failed were applied: {applied_rejected[:3]}"
    return acknowledged


# --- SIGKILL under load -------------------------------------------------------------------------

def test_acknowledged_writes_survive_repeated_sigkill(spawn: Any, lease_database: dict[str, Any]) -> None:
    rng = random.Random(SEED)
    server = spawn(crash_config(lease_database))
    with Load(server.url, writers=4, seed=SEED) as load:
        for _ in range(5):
            load.wait_acks(rng.randint(20, 150))
            time.sleep(rng.uniform(0, 0.03))  # a random point between acknowledgements
            server.kill()
            server.start()
        load.wait_acks(50)
    acknowledged = check_store(server, load.writers)
    assert acknowledged >= 5 * 20 + 50
    assert sum(a.outcome == "unknown" for w in load.writers for t in w.attempts.values() for a in t) >= 1, \
        "no write was in flight at a kill: the test proved nothing"


# --- database outage (a private PostgreSQL cluster) ---------------------------------------------

@pytest.fixture
def private_pg() -> Iterator[PrivateCluster]:
    cluster = PrivateCluster()
    try:
        cluster.start()
        cluster.admin_sql("CREATE DATABASE leasesync")
        yield cluster
    finally:
        cluster.destroy()


@pytest.fixture
def private_mariadb() -> Iterator[PrivateMariaDB]:
    yield from running_mariadb()


def timed_update(server: ServerProcess, address: str) -> tuple[dict[str, Any], float]:
    arguments = {"ip-address": address, "hw-address": "02:ff:00:00:00:01", "subnet-id": 1, "force-create": True}
    started = time.monotonic()
    answer = server.command("lease4-update", "dhcp4", arguments, timeout=QUERY_TIMEOUT + 10)[0]
    return answer, time.monotonic() - started


@pytest.mark.postgres
def test_database_outage_fails_fast_and_service_resumes_without_losing_acknowledged_writes(
        spawn: Any, private_pg: PrivateCluster) -> None:
    db = {"type": "postgresql", "name": "leasesync", "host": "127.0.0.1", "port": private_pg.port, "user": "postgres",
          "query-timeout": QUERY_TIMEOUT, "connect-timeout": 2}
    check_outage(spawn, db, lambda: private_pg.stop("fast"), private_pg.start)


@pytest.mark.mysql
def test_mariadb_outage_fails_fast_and_service_resumes_without_losing_acknowledged_writes(
        spawn: Any, private_mariadb: PrivateMariaDB) -> None:
    db = {"type": "mysql", "name": "leasesync", "host": "127.0.0.1", "port": private_mariadb.port, "user": "root",
          "query-timeout": QUERY_TIMEOUT, "connect-timeout": 2}
    check_outage(spawn, db, private_mariadb.stop, private_mariadb.start)


def check_outage(spawn: Any, db: dict[str, Any], stop: Callable[[], None], start: Callable[[], None]) -> None:
    """Writes and reads fail fast while the database is down, resume by themselves when it is
    back, and nothing acknowledged is lost nor anything answered as failed applied."""
    server = spawn(crash_config(db))
    with Load(server.url, writers=3, seed=SEED) as load:
        load.wait_acks(60)
        stop()
        answer, elapsed = timed_update(server, "10.200.0.1")
        assert answer["result"] == 1
        assert answer["text"].startswith("lease database unavailable, nothing was changed"), answer
        assert elapsed < QUERY_TIMEOUT + 1.5, f"answered after {elapsed:.1f} s"
        read = server.command("lease4-get", "dhcp4", {"ip-address": "10.1.0.1"}, timeout=QUERY_TIMEOUT + 10)[0]
        assert read["result"] == 1 and "lease database" in read["text"], read
        start()
        wait_for(lambda: timed_update(server, "10.200.0.2")[0]["result"] == 0, 30, "writes to resume", interval=0.2)
        load.wait_acks(60)
    check_store(server, load.writers)
    assert server.command("lease4-get", "dhcp4", {"ip-address": "10.200.0.1"})[0]["result"] == 3, \
        "the write answered with 'nothing was changed' was applied"


# --- a stalled database -----------------------------------------------------------------------

class TableLock:
    """Holds the lease4 table (PostgreSQL, MySQL) or the database write lock (SQLite) from outside."""

    def __init__(self, db: dict[str, Any]) -> None:
        if db["type"] == "sqlite":
            import sqlite3

            self.conn: Any = sqlite3.connect(db["name"], isolation_level=None)
            self.conn.execute("BEGIN IMMEDIATE")
        elif db["type"] == "mysql":
            import pymysql

            self.conn = pymysql.connect(host=db["host"], user=db["user"], database=db["name"], connect_timeout=5)
            with self.conn.cursor() as cursor:
                cursor.execute("LOCK TABLES lease4 WRITE")
        else:
            import psycopg

            self.conn = psycopg.connect(host=db["host"], user=db["user"], dbname=db["name"], connect_timeout=5)
            self.conn.execute("LOCK TABLE lease4 IN ACCESS EXCLUSIVE MODE")

    def release(self) -> None:
        self.conn.rollback()
        self.conn.close()


def test_write_answered_as_timed_out_is_not_applied_later(spawn: Any, lease_database: dict[str, Any]) -> None:
    server = spawn(crash_config(lease_database, **{"query-timeout": QUERY_TIMEOUT}))
    assert timed_update(server, "10.100.0.1")[0]["result"] == 0  # tables exist, connections warm
    lock = TableLock(lease_database)
    try:
        answer, elapsed = timed_update(server, "10.100.0.2")
    finally:
        lock.release()
    assert answer["result"] == 1 and "nothing was changed" in answer["text"], answer
    assert elapsed < QUERY_TIMEOUT + 1.5
    wait_for(lambda: timed_update(server, "10.100.0.3")[0]["result"] == 0, 30, "writes to resume", interval=0.2)
    assert server.command("lease4-get", "dhcp4", {"ip-address": "10.100.0.2"})[0]["result"] == 3, \
        "a write answered 'nothing was changed' was committed once the database was free again"
