"""Two (and three) real leasesync processes as a Kea HA relationship, on loopback."""

from __future__ import annotations

import re
import signal
import threading
import time
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from app.config import parse_lease_database
from app.store import schema
from app.store.repository import make_engine
from tests.conftest import make_database
from tests.ha_helpers import dump4, ha_state, metric, pair_configs, proxy_to_server2, wait_for, wait_states

pytestmark = pytest.mark.slow

HW = "1a:1b:1c:1d:1e:1f"


def add(server: Any, i: int) -> dict[str, Any]:
    return server.command("lease4-add", "dhcp4", {"ip-address": f"192.0.2.{i}", "hw-address": HW})[0]


def hot_standby_pair(spawn: Any, tmp_path: Path, **extra: Any) -> tuple[Any, Any]:
    """A primary and a standby on SQLite, started and in hot-standby."""
    dbs = [make_database("sqlite", tmp_path)[0] for _ in range(2)]
    c1, c2 = pair_configs(dbs, **extra)
    primary, standby = spawn(c1, "server1"), spawn(c2, "server2")
    wait_states([primary, standby], ["hot-standby", "hot-standby"])
    return primary, standby


def test_hot_standby_pair_reaches_hot_standby_and_replicates_admin_leases(spawn: Any, tmp_path: Path) -> None:
    primary, standby = hot_standby_pair(spawn, tmp_path)
    for i in range(10, 30):
        assert add(primary, i)["result"] == 0
    assert primary.command("lease4-del", "dhcp4", {"ip-address": "192.0.2.10"})[0]["result"] == 0
    wait_for(lambda: dump4(standby) == dump4(primary), 10, what="standby to hold the primary's leases")
    assert len(dump4(standby)) == 19


def test_a_pair_at_work_does_not_log_every_request_it_sends(spawn: Any, tmp_path: Path) -> None:
    """Heartbeats and lease updates are not logged one line each at the default severity (INFO):
    httpx would, and a busy pair would fill its log with them."""
    primary, standby = hot_standby_pair(spawn, tmp_path)
    for i in range(10, 15):
        assert add(primary, i)["result"] == 0
    wait_for(lambda: len(dump4(standby)) == 5, 10, what="the standby to hold the 5 leases")
    log = primary.log_path.read_text()
    assert "HA_STATE_TRANSITION" in log  # the log is the one the HA service writes to
    assert "HTTP Request" not in log


def test_standby_syncs_the_primarys_leases_at_start_up(spawn: Any, tmp_path: Path) -> None:
    dbs = [make_database("sqlite", tmp_path)[0] for _ in range(2)]
    c1, c2 = pair_configs(dbs)
    primary = spawn(c1, "server1")
    for i in range(1, 121):  # three pages of 50
        assert add(primary, i % 254 + 1 if i > 253 else i)["result"] == 0
    standby = spawn(c2, "server2")
    wait_states([primary, standby], ["hot-standby", "hot-standby"])
    assert dump4(standby) == dump4(primary)


def test_send_lease_updates_false_sends_nothing_while_states_stay_normal(spawn: Any, tmp_path: Path) -> None:
    dbs = [make_database("sqlite", tmp_path)[0] for _ in range(2)]
    c1, c2 = pair_configs(dbs, **{"send-lease-updates": False, "sync-leases": False})
    primary, standby = spawn(c1, "server1"), spawn(c2, "server2")
    wait_states([primary, standby], ["hot-standby", "hot-standby"])
    for i in range(10, 20):
        assert add(primary, i)["result"] == 0
    # heartbeats keep flowing, the states stay normal, and the standby received no update at all
    wait_for(lambda: metric(standby, "leasesync_commands_total", command="ha-heartbeat") >= 5, 10,
             what="heartbeats to continue")
    assert metric(standby, "leasesync_commands_total", command="lease4-update") == 0
    assert dump4(standby) == []
    wait_states([primary, standby], ["hot-standby", "hot-standby"], timeout=2)


def test_load_balancing_pair_sends_updates_both_ways(spawn: Any, tmp_path: Path) -> None:
    dbs = [make_database("sqlite", tmp_path)[0] for _ in range(2)]
    c1, c2 = pair_configs(dbs, mode="load-balancing", roles=("primary", "secondary"))
    s1, s2 = spawn(c1, "server1"), spawn(c2, "server2")
    wait_states([s1, s2], ["load-balancing", "load-balancing"])
    assert add(s1, 50)["result"] == 0
    assert add(s2, 51)["result"] == 0
    wait_for(lambda: dump4(s1) == dump4(s2) and len(dump4(s1)) == 2, 10, what="both leases on both servers")


def test_standby_killed_during_a_stream_of_admin_changes_ends_with_identical_stores(spawn: Any, tmp_path: Path) -> None:
    primary, standby = hot_standby_pair(spawn, tmp_path)
    acknowledged: list[str] = []
    stop = threading.Event()

    def stream() -> None:  # an administrator's changes keep coming while the standby dies
        i = 10
        while not stop.is_set() and i < 250:
            if add(primary, i)["result"] == 0:
                acknowledged.append(f"192.0.2.{i}")
            i += 1

    writer = threading.Thread(target=stream)
    writer.start()
    try:
        wait_for(lambda: len(acknowledged) >= 20, 20, what="the stream to start")
        standby.kill()
        wait_for(lambda: ha_state(primary) == "partner-down", 15, what="primary in partner-down")
        count_at_restart = len(acknowledged)
        standby.start()
        wait_for(lambda: len(acknowledged) >= count_at_restart + 10, 20, what="more changes after the restart")
    finally:
        stop.set()
        writer.join(timeout=30)
    wait_states([primary, standby], ["hot-standby", "hot-standby"])
    wait_for(lambda: dump4(standby) == dump4(primary), 20, what="identical stores")
    assert sorted(lease["ip-address"] for lease in dump4(standby)) == sorted(acknowledged)


def test_a_restarted_standby_returns_to_hot_standby_while_the_primarys_changes_go_on(spawn: Any,
                                                                                     tmp_path: Path) -> None:
    """A primary in partner-down that keeps changing leases does not ask its synced standby to
    sync again and again (ha-reset): what it could not send waits in its durable backlog."""
    primary, standby = hot_standby_pair(spawn, tmp_path)
    standby.kill()
    wait_for(lambda: ha_state(primary) == "partner-down", 15, what="primary in partner-down")
    stop = threading.Event()
    written: list[int] = []

    def stream() -> None:  # an administrator rewriting 100 leases, round after round, for at most 60 s
        deadline = time.monotonic() + 60
        i = 0
        while not stop.is_set() and time.monotonic() < deadline:
            arguments = {"ip-address": f"192.0.2.{10 + i % 100}", "hw-address": HW, "hostname": f"h{i}.example.org",
                         "force-create": True}
            assert primary.command("lease4-update", "dhcp4", arguments)[0]["result"] == 0
            written.append(i)
            i += 1

    writer = threading.Thread(target=stream)
    writer.start()
    try:
        wait_for(lambda: len(written) >= 50, 20, what="the stream to start")
        standby.start()
        wait_states([primary, standby], ["hot-standby", "hot-standby"], timeout=30)
        assert writer.is_alive(), "the stream ended before the pair was back: the test proves nothing"
    finally:
        stop.set()
        writer.join(timeout=30)
    # (the resync loop ends by chance, in a moment without a change: count the resyncs asked)
    resyncs = standby.log_path.read_text().count("to WAITING state, partner state is PARTNER-DOWN (ha-reset)")
    assert resyncs == 0, f"the primary asked its synced standby to sync again {resyncs} times"
    wait_for(lambda: dump4(standby) == dump4(primary), 30, what="identical stores")
    assert len(dump4(standby)) == min(len(written), 100)


def test_a_change_committed_by_a_primary_killed_before_sending_it_reaches_the_standby(spawn: Any,
                                                                                     tmp_path: Path) -> None:
    """The crash window: a change committed, its update not applied by the standby (sent into a
    stopped standby that is then killed too) and the primary killed before it could queue it.
    The change was journaled in its own transaction; the restarted primary queues it again."""
    dbs = [make_database("sqlite", tmp_path)[0] for _ in range(2)]
    c1, c2 = pair_configs(dbs)
    # the primary reaches the standby through a proxy that can swallow what it sends
    proxy = proxy_to_server2([c1, c2])
    primary, standby = spawn(c1, "server1"), spawn(c2, "server2")
    try:
        wait_states([primary, standby], ["hot-standby", "hot-standby"])
        proxy.swallowing.set()
        update = threading.Thread(target=lambda: _quietly(lambda: add(primary, 77)))
        update.start()
        # committed on the primary (its answer waits for an acknowledgement that cannot come)
        wait_for(lambda: primary.command("lease4-get", "dhcp4", {"ip-address": "192.0.2.77"})[0]["result"] == 0,
                 10, what="the change committed on the primary")
        primary.kill()
        update.join(timeout=15)
        proxy.swallowing.clear()
        wait_for(lambda: ha_state(standby) == "partner-down", 15, what="standby in partner-down")
        primary.start()
        wait_states([primary, standby], ["hot-standby", "hot-standby"], timeout=40)
    finally:
        proxy.close()
    wait_for(lambda: any(lease["ip-address"] == "192.0.2.77" for lease in dump4(standby)), 20,
             what="the standby to get the change the killed primary had committed")
    assert "HA_HANDOFF_RECOVERED 1 lease changes" in primary.log_path.read_text()


def _quietly(call: Any) -> None:
    """Run `call`; its connection dies with the server it talks to."""
    try:
        call()
    except Exception:  # noqa: BLE001 - the server was killed under it, on purpose
        pass


def test_paused_standby_catches_up_after_sigcont(spawn: Any, tmp_path: Path) -> None:
    primary, standby = hot_standby_pair(spawn, tmp_path)
    standby.signal(signal.SIGSTOP)
    try:
        for i in range(60, 70):
            assert add(primary, i)["result"] == 0
    finally:
        standby.signal(signal.SIGCONT)
    wait_states([primary, standby], ["hot-standby", "hot-standby"], timeout=40)
    wait_for(lambda: dump4(standby) == dump4(primary), 20, what="identical stores")


def test_a_replayed_backlog_keeps_each_leases_changes_in_the_order_made(spawn: Any, tmp_path: Path) -> None:
    """The backlog is replayed many leases at a time: the changes of one lease (added, deleted,
    added again with another client, renamed twice) still reach the standby in their order."""
    primary, standby = hot_standby_pair(spawn, tmp_path, **{"max-response-delay": 60000})  # stays in hot-standby paused
    standby.signal(signal.SIGSTOP)
    try:
        for i in range(80, 120):
            assert add(primary, i)["result"] == 0
        for command, arguments in (
            ("lease4-del", {"ip-address": "192.0.2.82"}),
            ("lease4-add", {"ip-address": "192.0.2.82", "hw-address": "2a:2b:2c:2d:2e:2f"}),
            ("lease4-update", {"ip-address": "192.0.2.84", "hw-address": HW, "hostname": "first.example.org"}),
            ("lease4-update", {"ip-address": "192.0.2.84", "hw-address": HW, "hostname": "second.example.org"}),
            ("lease4-del", {"ip-address": "192.0.2.86"}),
        ):
            assert primary.command(command, "dhcp4", arguments)[0]["result"] == 0
    finally:
        standby.signal(signal.SIGCONT)
    wait_for(lambda: metric(primary, "leasesync_ha_backlog_depth", peer="server2") == 0, 30,
             what="the backlog to be replayed")
    assert ha_state(primary) == "hot-standby"
    by_address = {lease["ip-address"]: lease for lease in dump4(standby)}
    assert dump4(standby) == dump4(primary)
    assert len(by_address) == 39
    assert by_address["192.0.2.82"]["hw-address"] == "2a:2b:2c:2d:2e:2f"
    assert by_address["192.0.2.84"]["hostname"] == "second.example.org"
    assert metric(standby, "leasesync_ha_lease_updates_received_total") >= 35  # replayed, not synced


def test_a_backlog_drained_over_many_rounds_logs_one_start_and_one_summary(spawn: Any, tmp_path: Path) -> None:
    """Under a stream of changes a drain can take thousands of rounds; its log is two lines, not
    up to three a round (about 300 lines a second in bench/kea_soak.py before session 30)."""
    primary, standby = hot_standby_pair(spawn, tmp_path, **{"max-response-delay": 60000})  # stays in hot-standby paused
    standby.signal(signal.SIGSTOP)
    try:
        for i in range(450):  # more than two replay rounds (200 entries each)
            address = f"192.0.2.{i + 1}" if i < 254 else f"198.51.100.{i - 253}"  # the two subnets
            assert primary.command("lease4-add", "dhcp4", {"ip-address": address, "hw-address": HW})[0]["result"] == 0
    finally:
        standby.signal(signal.SIGCONT)
    wait_for(lambda: metric(primary, "leasesync_ha_backlog_depth", peer="server2") == 0, 60,
             what="the backlog to be replayed")
    wait_for(lambda: "HA_LEASES_BACKLOG_SUCCESS" in primary.log_path.read_text(), 10, what="the drain's summary")
    log = primary.log_path.read_text()
    assert log.count("HA_LEASES_BACKLOG_START") == 1, log[-3000:]
    assert log.count("HA_LEASES_BACKLOG_SUCCESS") == 1
    summary = re.search(r"(\d+) sent, (\d+) superseded .* (\d+) already there .* (\d+) rounds", log)
    assert summary is not None, log[-3000:]
    sent, superseded, already, rounds = map(int, summary.groups())
    assert sent + already == 450 and superseded == 0 and rounds >= 3
    assert dump4(standby) == dump4(primary)


def test_a_replayed_v6_backlog_keeps_each_leases_changes_in_the_order_made(spawn: Any, tmp_path: Path) -> None:
    """The same for v6, whose every local change is queued as a lease6-bulk-apply of its lease."""
    configs = pair_configs([make_database("sqlite", tmp_path)[0] for _ in range(2)], family=6,
                           **{"max-response-delay": 60000})
    primary, standby = (spawn(config, f"server{i + 1}") for i, config in enumerate(configs))
    wait_states([primary, standby], ["hot-standby", "hot-standby"], service="dhcp6")

    def dump6(server: Any) -> list[dict[str, Any]]:
        leases = server.command("lease6-get-all", "dhcp6")[0]["arguments"]["leases"]
        return sorted(leases, key=lambda lease: lease["ip-address"])

    standby.signal(signal.SIGSTOP)
    try:
        for i in range(1, 31):
            lease = {"ip-address": f"2001:db8:1::{i:x}", "duid": "01:02:03", "iaid": i}
            assert primary.command("lease6-add", "dhcp6", lease)[0]["result"] == 0
        for command, arguments in (
            ("lease6-del", {"ip-address": "2001:db8:1::2"}),
            ("lease6-add", {"ip-address": "2001:db8:1::2", "duid": "0a:0b:0c", "iaid": 99}),
            ("lease6-update", {"ip-address": "2001:db8:1::4", "duid": "01:02:03", "iaid": 4, "hostname": "a.example"}),
            ("lease6-update", {"ip-address": "2001:db8:1::4", "duid": "01:02:03", "iaid": 4, "hostname": "b.example"}),
            ("lease6-del", {"ip-address": "2001:db8:1::6"}),
        ):
            assert primary.command(command, "dhcp6", arguments)[0]["result"] == 0
    finally:
        standby.signal(signal.SIGCONT)
    wait_for(lambda: metric(primary, "leasesync_ha_backlog_depth", peer="server2") == 0, 30,
             what="the backlog to be replayed")
    assert ha_state(primary, "dhcp6") == "hot-standby"
    assert dump6(standby) == dump6(primary)
    by_address = {lease["ip-address"]: lease for lease in dump6(standby)}
    assert len(by_address) == 29
    assert by_address["2001:db8:1::2"]["duid"] == "0a:0b:0c"
    assert by_address["2001:db8:1::4"]["hostname"] == "b.example"
    assert metric(standby, "leasesync_ha_lease_updates_received_total") >= 25  # replayed, not synced


def test_two_servers_with_one_name_are_refused_naming_both(spawn: Any, tmp_path: Path) -> None:
    dbs = [make_database("sqlite", tmp_path)[0] for _ in range(2)]
    c1, c2 = pair_configs(dbs)
    # server2's config says it is server1 too
    c2["Dhcp4"]["hooks-libraries"][0]["parameters"]["high-availability"][0]["this-server-name"] = "server1"
    c2["Dhcp4"]["hooks-libraries"][0]["parameters"]["high-availability"][0]["peers"][0]["url"] = \
        c2["Dhcp4"]["hooks-libraries"][0]["parameters"]["high-availability"][0]["peers"][1]["url"]
    c2["Dhcp4"]["hooks-libraries"][0]["parameters"]["high-availability"][0]["peers"][1]["url"] = \
        c1["Dhcp4"]["hooks-libraries"][0]["parameters"]["high-availability"][0]["peers"][0]["url"]
    first, second = spawn(c1, "server1"), spawn(c2, "server1-twin")
    wait_for(lambda: "two servers claim this-server-name 'server1'" in first.log_path.read_text(), 15,
             what="the duplicate name to be reported")
    assert ha_state(first) != "hot-standby" and ha_state(second) != "hot-standby"


def test_three_servers_primary_standby_backup_on_three_databases(spawn: Any, tmp_path: Path,
                                                                 request: pytest.FixtureRequest) -> None:
    dbs = []
    for kind in ("sqlite", "postgresql", "mysql"):
        db, drop = make_database(kind, tmp_path)
        request.addfinalizer(drop)
        dbs.append(db)
    configs = pair_configs(dbs, roles=("primary", "standby", "backup"))
    servers = [spawn(c, f"server{i + 1}") for i, c in enumerate(configs)]
    wait_states(servers, ["hot-standby", "hot-standby", "backup"])
    for i in range(100, 110):
        assert add(servers[0], i)["result"] == 0
    wait_for(lambda: dump4(servers[1]) == dump4(servers[0]) == dump4(servers[2]), 15,
             what="all three stores equal")
    # updates the standby and the backup received were not sent on again (no echo)
    assert metric(servers[0], "leasesync_commands_total", command="lease4-update") == 0
    assert metric(servers[2], "leasesync_commands_total", command="lease4-update") == 10
    # the backup's updates went in the background: the journal forgets them once they are settled
    wait_for(lambda: _journal_rows(dbs[0]) == 0, 10, what="an empty hand-off journal")


@pytest.mark.parametrize("kind", ["sqlite", "postgresql", "mysql"])
def test_changes_handed_to_the_standby_leave_the_primarys_journal(spawn: Any, tmp_path: Path, kind: str,
                                                                  request: pytest.FixtureRequest) -> None:
    db, drop = make_database(kind, tmp_path)
    request.addfinalizer(drop)
    c1, c2 = pair_configs([db, make_database("sqlite", tmp_path)[0]])
    primary, standby = spawn(c1, "server1"), spawn(c2, "server2")
    wait_states([primary, standby], ["hot-standby", "hot-standby"])
    for i in range(100, 110):
        assert add(primary, i)["result"] == 0
    assert primary.command("lease4-del", "dhcp4", {"ip-address": "192.0.2.100"})[0]["result"] == 0
    wait_for(lambda: dump4(standby) == dump4(primary), 15, what="equal stores")
    wait_for(lambda: _journal_rows(db) == 0, 10, what="an empty hand-off journal")


def _journal_rows(db: dict[str, Any]) -> int:
    """Rows in a server's HA hand-off journal (ls_ha_handoff)."""
    engine = make_engine(parse_lease_database(db, "lease-database", Path("/")))
    try:
        with engine.connect() as conn:
            return int(conn.execute(select(func.count()).select_from(schema.ha_handoff)).scalar_one())
    finally:
        engine.dispose()


def test_updates_off_reports_leases_the_partner_lacks_until_they_arrive(spawn: Any, tmp_path: Path) -> None:
    dbs = [make_database("sqlite", tmp_path)[0] for _ in range(2)]
    c1, c2 = pair_configs(dbs, **{"send-lease-updates": False, "sync-leases": False})
    primary, standby = spawn(c1, "server1"), spawn(c2, "server2")
    wait_states([primary, standby], ["hot-standby", "hot-standby"])
    assert add(primary, 77)["result"] == 0

    def replication() -> dict[str, Any]:
        status = primary.command("status-get", "dhcp4")[0]["arguments"]["high-availability"][0]
        return dict(status["leasesync"]["replication"])

    # no database replication here: the partner never gets it, and leasesync says so
    report = wait_for(lambda: (r := replication())["diverged"] == 1 and r, 20, what="divergence to be reported")
    assert report["oldest-missing"]["ip-address"] == "192.0.2.77"
    wait_for(lambda: metric(primary, "leasesync_replication_diverged_leases") == 1, 10,
             what="the divergence metric (updated at each check)")
    # what a replicating database would do: the same lease appears at the partner's site
    lease = primary.command("lease4-get", "dhcp4", {"ip-address": "192.0.2.77"})[0]["arguments"]
    assert standby.command("lease4-add", "dhcp4", {**lease, "expire": lease["cltt"] + lease["valid-lft"]})[0][
        "result"] == 0
    wait_for(lambda: replication()["diverged"] == 0 and replication()["unconfirmed"] == 0, 20,
             what="the lease to be confirmed at the partner")



def test_pair_with_http_front_ends_syncs_and_replicates(spawn: Any, tmp_path: Path) -> None:
    # the partner's heartbeats, lease updates and sync pages reach front-end processes as often as
    # the main ones: every path through a front-end must give the same HA behaviour
    dbs = [make_database("sqlite", tmp_path)[0] for _ in range(2)]
    c1, c2 = pair_configs(dbs)
    for config in (c1, c2):
        config["LeaseSync"]["http-workers"] = 2
    primary = spawn(c1, "server1")
    for i in range(1, 61):
        assert add(primary, i)["result"] == 0
    standby = spawn(c2, "server2")
    wait_states([primary, standby], ["hot-standby", "hot-standby"])
    assert dump4(standby) == dump4(primary)
    for i in range(61, 81):
        assert add(primary, i)["result"] == 0
    wait_for(lambda: dump4(standby) == dump4(primary), 10, what="standby to hold the primary's leases")
    assert len(dump4(standby)) == 80


@pytest.mark.postgres
def test_sync_skips_only_the_lease_the_standbys_database_cannot_hold(spawn: Any, tmp_path: Path,
                                                                     request: pytest.FixtureRequest) -> None:
    # SQLite holds any hostname, PostgreSQL's Kea column 255 characters: as Kea's SQL backends,
    # the standby skips that one lease (HA_LEASE_SYNC_FAILED) and the sync still completes
    standby_db, drop = make_database("postgresql", tmp_path)
    request.addfinalizer(drop)
    c1, c2 = pair_configs([make_database("sqlite", tmp_path)[0], standby_db])
    primary = spawn(c1, "server1")
    for i in range(1, 61):
        assert add(primary, i)["result"] == 0
    long_name = primary.command("lease4-add", "dhcp4", {"ip-address": "192.0.2.200", "hw-address": HW,
                                                        "hostname": "h" * 300})[0]
    assert long_name["result"] == 0, long_name
    standby = spawn(c2, "server2")
    wait_states([primary, standby], ["hot-standby", "hot-standby"])
    assert dump4(standby) == [lease for lease in dump4(primary) if lease["ip-address"] != "192.0.2.200"]
    assert len(dump4(standby)) == 60
    assert "HA_LEASE_SYNC_FAILED skipping lease 192.0.2.200" in standby.log_path.read_text()


def test_a_large_v6_bulk_reaches_the_standby_in_bulks_of_at_most_1000(spawn: Any, tmp_path: Path) -> None:
    configs = pair_configs([make_database("sqlite", tmp_path)[0] for _ in range(2)], family=6)
    servers = [spawn(config, f"server{i + 1}") for i, config in enumerate(configs)]
    wait_states(servers, ["hot-standby", "hot-standby"], service="dhcp6")
    leases = [{"ip-address": f"2001:db8:1::{i:x}", "duid": "01:02:03", "iaid": i} for i in range(1, 2501)]
    answer = servers[0].command("lease6-bulk-apply", "dhcp6", {"leases": leases}, timeout=60)[0]
    assert answer == {"result": 0, "text": "Bulk apply of 2500 IPv6 leases completed."}
    # hot-standby waits for the standby's acknowledgement before answering: it holds them all now
    held = servers[1].command("lease6-get-all", "dhcp6", timeout=30)[0]["arguments"]["leases"]
    assert len(held) == 2500
    assert metric(servers[1], "leasesync_commands_total", command="lease6-bulk-apply") == 3


def test_an_update_that_failed_before_communication_recovery_survives_its_backlog_delivery(
        spawn: Any, tmp_path: Path) -> None:
    """Load-balancing with delayed-updates-limit: the update whose send fails is what starts
    communication-recovery; the updates after it wait in that state's backlog. When the partner
    answers again that backlog is delivered, and the first update must reach the partner too."""
    dbs = [make_database("sqlite", tmp_path)[0] for _ in range(2)]
    c1, c2 = pair_configs(dbs, mode="load-balancing", roles=("primary", "secondary"),
                          **{"delayed-updates-limit": 100, "max-response-delay": 20000})
    proxy = proxy_to_server2([c1, c2])
    server1, server2 = spawn(c1, "server1"), spawn(c2, "server2")
    try:
        wait_states([server1, server2], ["load-balancing", "load-balancing"])
        proxy.swallowing.set()
        assert add(server1, 50)["result"] == 0  # its send times out (max-ack-delay)
        wait_for(lambda: ha_state(server1) == "communication-recovery", 10, what="communication-recovery")
        assert add(server1, 51)["result"] == 0  # queued in communication-recovery's backlog
        proxy.swallowing.clear()
        wait_states([server1, server2], ["load-balancing", "load-balancing"], timeout=40)
    finally:
        proxy.close()
    wait_for(lambda: sorted(lease["ip-address"] for lease in dump4(server2)) == ["192.0.2.50", "192.0.2.51"], 20,
             what="both updates on server2")


def test_a_queued_update_is_not_sent_to_a_partner_that_did_not_answer_the_question_of_its_copy(
        spawn: Any, tmp_path: Path) -> None:
    """Before replaying a queued update the server asks the partner for its copy (leaseX-get), so
    as not to replace a newer lease there. When that question times out, the update must wait: a
    partner that stalled past the question's timeout can take the update a moment later, and the
    older lease would replace its newer one (seen in the v6 load-balancing soak)."""
    dbs = [make_database("sqlite", tmp_path)[0] for _ in range(2)]
    c1, c2 = pair_configs(dbs, mode="load-balancing", roles=("primary", "secondary"),
                          **{"delayed-updates-limit": 0, "max-response-delay": 20000})
    proxy = proxy_to_server2([c1, c2])
    server1, server2 = spawn(c1, "server1"), spawn(c2, "server2")
    now = int(time.time())

    def lease60(hostname: str, expire: int) -> dict[str, Any]:
        return {"ip-address": "192.0.2.60", "hw-address": HW, "valid-lft": 4000, "expire": expire,
                "hostname": hostname}

    def on_server2() -> str:
        return str(server2.command("lease4-get", "dhcp4", {"ip-address": "192.0.2.60"})[0]["arguments"]["hostname"])

    try:
        wait_states([server1, server2], ["load-balancing", "load-balancing"])
        assert server1.command("lease4-add", "dhcp4", lease60("first.example.org", now + 3000))[0]["result"] == 0
        wait_for(lambda: on_server2() == "first.example.org", 10, what="the first version on server2")
        proxy.swallow_containing = b'"lease4-update"'
        answer = server1.command("lease4-update", "dhcp4", lease60("second.example.org", now + 3100), timeout=30)[0]
        assert answer["result"] == 0, answer  # committed; its send timed out: queued for server2
        wait_for(lambda: metric(server1, "leasesync_ha_backlog_depth") == 1, 10, what="the update queued")
        # server2 meanwhile holds a newer copy (a partner's update: stored there, not sent back)
        third = {**lease60("third.example.org", now + 3200), "force-create": True}
        assert server2.command("lease4-update", "dhcp4", third)[0]["result"] == 0
        proxy.swallow_containing = b'"lease4-get"'  # the replay's question goes unanswered
        time.sleep(4)  # rounds of the replay (one a heartbeat-delay): each asks and times out
        assert on_server2() == "third.example.org"
        proxy.swallow_containing = None
        wait_for(lambda: metric(server1, "leasesync_ha_backlog_depth") == 0, 20, what="the backlog settled")
    finally:
        proxy.close()
    assert on_server2() == "third.example.org"


def test_a_change_beyond_delayed_updates_limit_reaches_a_partner_holding_a_copy_of_the_same_second(
        spawn: Any, tmp_path: Path) -> None:
    """Communication-recovery's backlog overflows (delayed-updates-limit 1): Kea drops the updates
    beyond it and resets the partner, whose resync brings only leases newer than its own copy.
    A change made in the same second as the partner's copy must still reach it (from the durable
    backlog, which neither the overflow nor the ha-reset clears), or the pair stays different."""
    dbs = [make_database("sqlite", tmp_path)[0] for _ in range(2)]
    c1, c2 = pair_configs(dbs, mode="load-balancing", roles=("primary", "secondary"),
                          **{"delayed-updates-limit": 1, "max-response-delay": 20000})
    proxy = proxy_to_server2([c1, c2])
    server1, server2 = spawn(c1, "server1"), spawn(c2, "server2")
    expire = int(time.time()) + 3600

    def lease60(hostname: str) -> dict[str, Any]:
        # an explicit expire: both versions have the same cltt (no force-create: a local change)
        return {"ip-address": "192.0.2.60", "hw-address": HW, "valid-lft": 4000, "expire": expire,
                "hostname": hostname}

    try:
        wait_states([server1, server2], ["load-balancing", "load-balancing"])
        assert server1.command("lease4-add", "dhcp4", lease60("first.example.org"))[0]["result"] == 0
        wait_for(lambda: [lease["hostname"] for lease in dump4(server2)] == ["first.example.org"], 10,
                 what="the first version on server2")
        proxy.swallowing.set()
        assert add(server1, 50)["result"] == 0  # its send times out: communication-recovery
        wait_for(lambda: ha_state(server1) == "communication-recovery", 10, what="communication-recovery")
        assert add(server1, 51)["result"] == 0  # the backlog's one entry
        answer = server1.command("lease4-update", "dhcp4", lease60("second.example.org"))[0]
        assert answer["result"] == 0, answer  # beyond the limit
        proxy.swallowing.clear()
        wait_states([server1, server2], ["load-balancing", "load-balancing"], timeout=60)
    finally:
        proxy.close()
    wait_for(lambda: [lease["hostname"] for lease in dump4(server2) if lease["ip-address"] == "192.0.2.60"]
             == ["second.example.org"], 30, what="the second version on server2")
    assert dump4(server1) == dump4(server2)
