"""Spec §3, §5, §7: the HA state machine, alone and as two cores wired back to back."""

from __future__ import annotations

import json
from typing import Any

import pytest

from app.ha.actions import (
    DisableLocalService,
    EnableLocalService,
    LogMessage,
    LogStateChange,
    SendHaReset,
    SendHeartbeat,
    StartSync,
)
from app.ha.config import parse_ha_parameters
from app.ha.state_machine import HaStateMachine
from app.ha.states import HaState
from tests.ha.conftest import CAPTURES, Pair, capture_ha_params, make_config, relationship

S = HaState


def hs_pair(**overrides: Any) -> Pair:
    return Pair(make_config("server1", **overrides), make_config("server2", **overrides))


def lb_pair(**overrides: Any) -> Pair:
    return Pair(
        make_config("server1", "load-balancing", **overrides),
        make_config("server2", "load-balancing", **overrides),
    )


def lease(address: str = "10.10.0.10", cltt: int = 1_795_635_000) -> dict[str, Any]:
    return {
        "cltt": cltt, "fqdn-fwd": False, "fqdn-rev": False, "hostname": "", "hw-address": "00:0c:01:02:03:04",
        "ip-address": address, "state": 0, "subnet-id": 1, "valid-lft": 3600,
    }  # fmt: skip


# ---- start-up -------------------------------------------------------------------------
def test_every_server_starts_in_waiting_with_dhcp_disabled() -> None:
    sm = HaStateMachine(make_config(), now=0.0)
    actions = sm.start(0.0)
    assert sm.state is S.WAITING and sm.served_scopes == frozenset()
    assert DisableLocalService(S.WAITING) in actions
    assert sm.get_timer() == 3.0  # first heartbeat heartbeat-delay after start


def test_hot_standby_start_up_both_sync_then_hot_standby() -> None:
    pair = hs_pair()
    pair.start()
    pair.advance(10)
    assert pair.states() == {"server1": S.HOT_STANDBY, "server2": S.HOT_STANDBY}
    assert pair["server1"].served_scopes == {"server1"} and pair["server2"].served_scopes == frozenset()
    # Both sides pull the other's leases at start-up (capture 01).
    assert pair.actions_of("server1", StartSync) and pair.actions_of("server2", StartSync)
    assert pair["server1"].dhcp_enabled and pair["server2"].dhcp_enabled


def test_load_balancing_start_up_each_serves_its_own_scope() -> None:
    pair = lb_pair()
    pair.start()
    pair.advance(10)
    assert pair.states() == {"server1": S.LOAD_BALANCING, "server2": S.LOAD_BALANCING}
    assert pair["server2"].served_scopes == {"server2"}
    assert pair["server1"].heartbeat_answer(0)["arguments"]["scopes"] == ["server1"]


def test_sync_leases_false_bypasses_syncing() -> None:
    pair = hs_pair(**{"sync-leases": False})
    pair.start()
    pair.advance(10)
    assert pair.states() == {"server1": S.HOT_STANDBY, "server2": S.HOT_STANDBY}
    assert not pair.actions_of("server1", StartSync) and not pair.actions_of("server2", StartSync)


def test_standby_waits_for_the_primary_when_both_wait() -> None:
    pair = hs_pair()
    pair.start()
    pair.cut("server1", "server2", both=False)  # the primary cannot reach the standby
    pair.advance(3)
    assert pair["server2"].state is S.WAITING  # saw the primary waiting: primary goes first


def test_backup_goes_to_backup_and_sends_nothing() -> None:
    peers = relationship()["peers"] + [
        {"name": "server3", "url": "http://127.0.0.1:19103/", "role": "backup"}
    ]
    sm = HaStateMachine(make_config("server3", peers=peers), 0.0)
    sm.start(0.0)
    assert sm.state is S.BACKUP and sm.get_timer() is None and not sm.dhcp_enabled
    assert "remote" not in sm.status_dict(0.0)["ha-servers"]


def test_passive_backup_primary_serves_without_heartbeats() -> None:
    sm = HaStateMachine(make_config(mode="passive-backup"), 0.0)
    sm.start(0.0)
    assert sm.state is S.PASSIVE_BACKUP and sm.served_scopes == {"server1"} and sm.dhcp_enabled
    assert sm.get_timer() is None


# ---- failure -------------------------------------------------------------------------
def test_partner_down_after_max_response_delay_without_contact() -> None:
    pair = hs_pair()
    pair.start()
    pair.advance(10)
    pair.cut("server1", "server2")
    pair.advance(5)
    assert pair["server1"].state is S.HOT_STANDBY  # unavailable, but not interrupted yet
    assert "partner-down after" in pair["server1"].explain(pair.now).next
    pair.advance(8)
    assert pair["server1"].state is S.PARTNER_DOWN
    assert pair["server1"].served_scopes == {"server1"}


def test_standby_needs_failure_detection_before_partner_down() -> None:
    pair = hs_pair(**{"max-unacked-clients": 1})
    pair.start()
    pair.advance(10)
    pair.cut("server1", "server2")
    pair.advance(20)
    standby = pair["server2"]
    assert standby.state is S.HOT_STANDBY
    standby.analyze_query("client-a", 10_000, pair.now)
    standby.analyze_query("client-b", 10_000, pair.now)
    pair.advance(3)
    assert standby.state is S.PARTNER_DOWN and standby.served_scopes == {"server1"}


def test_waiting_server_goes_partner_down_when_partner_never_answers() -> None:
    pair = Pair(make_config())  # server2 does not exist: every heartbeat fails
    pair.start()
    pair.advance(13)
    assert pair["server1"].state is S.PARTNER_DOWN


def test_restarted_partner_resyncs_and_partner_down_returns_to_normal() -> None:
    pair = hs_pair()
    pair.start()
    pair.advance(10)
    pair.cut("server1", "server2")
    pair.advance(13)
    plan = pair["server1"].plan_lease_updates([lease()], [])
    assert not plan.requests and pair["server1"].comm.unsent_update_count == 1
    pair.machines["server2"] = HaStateMachine(make_config("server2"), pair.now)  # restart, empty
    pair.process("server2", pair["server2"].start(pair.now))
    pair.heal()
    pair.advance(10)
    assert pair.states() == {"server1": S.HOT_STANDBY, "server2": S.HOT_STANDBY}


def test_partner_down_resyncs_when_the_partner_reports_new_unsent_updates() -> None:
    sm = HaStateMachine(make_config(), 0.0)
    sm.start(0.0)
    sm.handle_timer(3.0)
    sm.on_heartbeat_failed(3.0, "refused")
    sm.handle_timer(11.0)
    sm.on_heartbeat_failed(11.0, "refused")
    assert sm.state is S.PARTNER_DOWN
    sm.handle_timer(14.0)
    args = {"state": "ready", "date-time": "Wed, 25 Nov 2026 19:28:41 GMT", "unsent-update-count": 2}
    actions = sm.on_heartbeat_ok([{"result": 0, "arguments": args}], 14.0, 1795634921)
    moves = [(a.from_state, a.to_state) for a in actions if isinstance(a, LogStateChange)]
    assert moves[:2] == [(S.PARTNER_DOWN, S.WAITING), (S.WAITING, S.SYNCING)]  # chained, like Kea
    assert sm.state is S.SYNCING


def _standby_in_partner_down_since_start_and_primary_back_in_ready(**overrides: Any) -> Pair:
    """server2 started while server1 was down (partner-down without a sync); server1 restarts,
    syncs from server2 and reaches ready."""
    pair = hs_pair(**overrides)
    pair.cut("server1", "server2")
    pair.start()
    pair.advance(13)
    assert pair["server2"].state is S.PARTNER_DOWN
    assert not pair.actions_of("server2", StartSync)
    pair.machines["server1"] = HaStateMachine(make_config("server1", **overrides), pair.now)  # restarted
    pair.process("server1", pair["server1"].start(pair.now))
    pair.heal()
    pair.log.clear()
    return pair


def test_partner_down_since_start_resyncs_when_the_partner_is_ready() -> None:
    """Kea 2.2 goes to hot-standby here and never fetches what the partner handed out before it
    went down (its unsent-update count restarted with it): the databases stay apart."""
    pair = _standby_in_partner_down_since_start_and_primary_back_in_ready()
    pair.advance(20)
    assert pair.states() == {"server1": S.HOT_STANDBY, "server2": S.HOT_STANDBY}
    moves = [(a.from_state, a.to_state) for n, a in pair.log if n == "server2" and isinstance(a, LogStateChange)]
    assert moves[:2] == [(S.PARTNER_DOWN, S.WAITING), (S.WAITING, S.SYNCING)]
    assert pair.actions_of("server2", StartSync)


def test_partner_down_after_a_sync_returns_to_normal_when_the_partner_is_ready() -> None:
    pair = hs_pair()
    pair.start()
    pair.advance(10)  # both synced at start-up
    pair.cut("server1", "server2")
    pair.advance(13)
    assert pair["server2"].state is S.PARTNER_DOWN
    pair.machines["server1"] = HaStateMachine(make_config("server1"), pair.now)
    pair.process("server1", pair["server1"].start(pair.now))
    pair.heal()
    pair.log.clear()
    pair.advance(20)
    assert pair.states() == {"server1": S.HOT_STANDBY, "server2": S.HOT_STANDBY}
    assert not pair.actions_of("server2", StartSync)


def test_partner_down_since_start_with_sync_leases_false_returns_to_normal() -> None:
    pair = _standby_in_partner_down_since_start_and_primary_back_in_ready(**{"sync-leases": False})
    pair.advance(20)
    assert pair.states() == {"server1": S.HOT_STANDBY, "server2": S.HOT_STANDBY}
    assert not pair.actions_of("server2", StartSync)


def test_partner_down_asks_a_ready_partner_to_resync_when_it_lacks_our_leases() -> None:
    """Spec §3.3: Kea's asymmetric-failure flaw is not copied."""
    pair = hs_pair()
    pair.start()
    pair.advance(10)
    pair.cut("server1", "server2", both=False)  # server2 still reaches server1
    pair.advance(13)
    assert pair.states() == {"server1": S.PARTNER_DOWN, "server2": S.READY}
    pair["server1"].plan_lease_updates([lease()], [])  # handed out while server2 cannot get it
    pair.heal()
    pair.advance(3)
    assert pair.actions_of("server1", SendHaReset)
    pair.advance(10)
    assert pair.states() == {"server1": S.HOT_STANDBY, "server2": S.HOT_STANDBY}


def test_partner_down_with_a_durable_backlog_returns_to_normal_without_asking_a_resync() -> None:
    """The skipped updates are replayed from the durable backlog: no ha-reset, whose resync
    would end with more skipped updates under a steady stream of lease changes."""
    pair = hs_pair()
    pair.machines["server1"] = HaStateMachine(make_config("server1"), pair.now, durable_backlog=True)
    pair.start()
    pair.advance(10)
    pair.cut("server1", "server2", both=False)  # server2 still reaches server1
    pair.advance(13)
    assert pair.states() == {"server1": S.PARTNER_DOWN, "server2": S.READY}
    plan = pair["server1"].plan_lease_updates([lease()], [])
    assert plan.skipped_partner  # the caller's durable backlog takes it
    pair.heal()
    pair.advance(3)
    assert not pair.actions_of("server1", SendHaReset)
    pair.advance(10)
    assert pair.states() == {"server1": S.HOT_STANDBY, "server2": S.HOT_STANDBY}


# ---- load-balancing communication-recovery ------------------------------------------
def test_first_failed_heartbeat_in_load_balancing_enters_communication_recovery() -> None:
    pair = lb_pair(**{"max-response-delay": 60000})
    pair.start()
    pair.advance(10)
    pair.cut("server1", "server2", both=False)
    pair.advance(3)
    assert pair["server1"].state is S.COMMUNICATION_RECOVERY
    plan = pair["server1"].plan_lease_updates([lease()], [lease("10.10.0.11")])
    assert plan.queued == 2 and not plan.wait_for_acks  # answered without waiting
    assert pair["server1"].comm.unsent_update_count == 0
    pair.heal()
    pair.advance(3)
    assert pair["server1"].state is S.LOAD_BALANCING and pair["server1"].backlog_size == 0
    sent = [a for n, a in pair.log if n == "server1" and type(a).__name__ == "SendBacklog"]
    assert [c["command"] for c in sent[0].commands] == ["lease4-del", "lease4-update"]


def _in_communication_recovery_with_a_backlog_of_one() -> Pair:
    """A load-balancing pair whose server1 cannot reach server2: server1 in communication-recovery."""
    pair = lb_pair(**{"max-response-delay": 60000, "delayed-updates-limit": 1})
    pair.start()
    pair.advance(10)
    pair.cut("server1", "server2", both=False)
    pair.advance(3)
    return pair


def test_backlog_overflow_resets_the_partner_and_resyncs() -> None:
    pair = _in_communication_recovery_with_a_backlog_of_one()
    pair["server1"].plan_lease_updates([lease(), lease("10.10.0.11")], [])
    pair.heal()
    pair.advance(3)
    assert pair.actions_of("server1", SendHaReset)
    pair.advance(10)
    assert pair.states() == {"server1": S.LOAD_BALANCING, "server2": S.LOAD_BALANCING}


def test_updates_beyond_delayed_updates_limit_are_dropped_from_the_backlog_but_marked_for_the_partner() -> None:
    # Kea's backlog drops them; the plan still says they were the partner's, for the durable backlog
    pair = _in_communication_recovery_with_a_backlog_of_one()
    fitted = pair["server1"].plan_lease_updates([lease()], [])
    dropped = pair["server1"].plan_lease_updates([lease("10.10.0.11")], [])
    assert (fitted.queued, fitted.queued_for_partner) == (1, True)
    assert (dropped.queued, dropped.queued_for_partner, dropped.requests) == (0, True, [])


def test_no_communication_recovery_in_hot_standby() -> None:
    pair = hs_pair()
    pair.start()
    pair.advance(10)
    pair.cut("server1", "server2")
    pair.advance(3)
    assert pair["server1"].state is S.HOT_STANDBY


# ---- maintenance -----------------------------------------------------------------------
def test_maintenance_start_and_cancel_without_resync() -> None:
    pair = hs_pair()
    pair.start()
    pair.advance(10)
    syncs = len(pair.actions_of("server1", StartSync))
    got = pair.admin("server1", "ha-maintenance-start")
    assert got["text"].startswith("Server is now in the partner-in-maintenance state")
    assert pair.states() == {"server1": S.PARTNER_IN_MAINTENANCE, "server2": S.IN_MAINTENANCE}
    assert pair["server2"].heartbeat_answer(0)["arguments"]["scopes"] == []
    assert pair["server1"].served_scopes == {"server1"}
    assert (
        pair.admin("server1", "ha-maintenance-cancel")["text"] == "Server maintenance successfully canceled."
    )
    pair.advance(6)
    assert pair.states() == {"server1": S.HOT_STANDBY, "server2": S.HOT_STANDBY}
    assert len(pair.actions_of("server1", StartSync)) == syncs


def test_partner_in_maintenance_goes_partner_down_on_first_failed_heartbeat() -> None:
    pair = hs_pair()
    pair.start()
    pair.advance(10)
    pair.admin("server1", "ha-maintenance-start")
    pair.cut("server1", "server2")
    pair.advance(3)
    assert pair["server1"].state is S.PARTNER_DOWN


def test_maintenance_start_with_unreachable_partner_serves_all_scopes() -> None:
    peers = relationship(mode="load-balancing")["peers"]
    peers[0]["auto-failover"] = False
    pair = Pair(
        make_config("server1", "load-balancing", peers=peers), make_config("server2", "load-balancing")
    )
    pair.start()
    pair.advance(10)
    pair.cut("server1", "server2")
    got = pair.admin("server1", "ha-maintenance-start")
    assert (
        got["text"]
        == "Server is now in the partner-down state as its partner appears to be offline for maintenance."
    )
    assert pair["server1"].served_scopes == {"server1", "server2"}


def test_maintenance_start_refused_in_in_maintenance() -> None:
    pair = hs_pair()
    pair.start()
    pair.advance(10)
    pair.admin("server1", "ha-maintenance-start")
    got = pair.admin("server2", "ha-maintenance-start")
    assert got == {
        "result": 1,
        "text": "Unable to transition the server from the in-maintenance to partner-in-maintenance state.",
    }


def test_maintenance_cancel_refused_outside_partner_in_maintenance() -> None:
    sm = HaStateMachine(make_config(), 0.0)
    sm.start(0.0)
    assert sm.on_admin("ha-maintenance-cancel", 0.0).answer == {
        "result": 1,
        "text": "Unable to cancel maintenance request because the server is not in the partner-in-maintenance state.",
    }


# ---- clock skew --------------------------------------------------------------------
def test_clock_skew_above_60_s_terminates_and_keeps_serving_default_scope() -> None:
    pair = hs_pair()
    pair.skew["server2"] = 70
    pair.start()
    pair.advance(4)
    primary = pair["server1"]
    assert primary.state is S.TERMINATED and primary.served_scopes == {"server1"} and primary.dhcp_enabled
    assert primary.get_timer() is None  # heartbeats stop
    assert any(
        isinstance(a, LogMessage) and a.message_id == "HA_HIGH_CLOCK_SKEW_CAUSES_TERMINATION"
        for _, a in pair.log
    )


def test_restarted_partner_is_not_dragged_into_terminated_and_ha_reset_recovers() -> None:
    pair = hs_pair()
    pair.skew["server2"] = 70
    pair.start()
    pair.advance(4)
    assert pair["server1"].state is S.TERMINATED
    pair.skew.clear()  # clocks fixed, standby restarted
    pair.machines["server2"] = HaStateMachine(make_config("server2"), pair.now)
    pair.process("server2", pair["server2"].start(pair.now))
    pair.advance(6)
    assert pair["server2"].state is S.WAITING  # sees the partner terminated and waits
    assert pair.admin("server1", "ha-reset") == {"result": 0, "text": "HA state machine reset."}
    pair.advance(10)
    assert pair.states() == {"server1": S.HOT_STANDBY, "server2": S.HOT_STANDBY}


# ---- lease updates -----------------------------------------------------------------
def test_send_lease_updates_false_sends_nothing_to_anybody() -> None:
    peers = relationship()["peers"] + [
        {"name": "server3", "url": "http://127.0.0.1:19103/", "role": "backup"}
    ]
    pair = Pair(
        *(make_config(n, peers=peers, **{"send-lease-updates": False}) for n in ("server1", "server2"))
    )
    pair.start()
    pair.advance(10)
    plan = pair["server1"].plan_lease_updates([lease()], [])
    assert not plan.requests and not plan.wait_for_acks
    pair.cut("server1", "server2")
    pair.advance(13)
    assert pair["server1"].state is S.PARTNER_DOWN
    pair["server1"].plan_lease_updates([lease()], [])
    assert pair["server1"].comm.unsent_update_count == 0


def test_updates_go_to_backups_in_every_state_without_waiting() -> None:
    peers = relationship()["peers"] + [
        {"name": "server3", "url": "http://127.0.0.1:19103/", "role": "backup"}
    ]
    sm = HaStateMachine(make_config("server1", peers=peers), 0.0)
    sm.start(0.0)
    plan = sm.plan_lease_updates([lease()], [])
    assert [r.peer for r in plan.requests] == ["server3"] and not plan.wait_for_acks
    assert sm.comm.unsent_update_count == 1  # the partner was skipped (waiting)


def test_hot_standby_update_to_partner_must_be_acked() -> None:
    pair = hs_pair()
    pair.start()
    pair.advance(10)
    plan = pair["server1"].plan_lease_updates([lease()], [lease("10.10.0.11")])
    assert plan.wait_for_acks
    assert [c["command"] for c in plan.requests[0].commands] == ["lease4-del", "lease4-update"]


def test_failed_lease_update_marks_the_partner_unavailable() -> None:
    pair = hs_pair()
    pair.start()
    pair.advance(10)
    pair["server1"].on_lease_update_done("server2", False, pair.now, "error code 1")
    assert pair["server1"].partner_state is S.UNAVAILABLE


def test_passive_backup_with_wait_backup_ack_waits_for_backup() -> None:
    sm = HaStateMachine(make_config(mode="passive-backup", **{"wait-backup-ack": True}), 0.0)
    sm.start(0.0)
    assert sm.plan_lease_updates([lease()], []).wait_for_acks


def test_v6_updates_are_one_bulk_apply_per_query() -> None:
    sm = HaStateMachine(make_config(mode="passive-backup"), 0.0, service="dhcp6")
    sm.start(0.0)
    v6 = {"cltt": 1, "valid-lft": 2, "ip-address": "2001:db8::1", "type": "IA_NA"}
    (request,) = sm.plan_lease_updates([v6], [v6]).requests
    assert [c["command"] for c in request.commands] == ["lease6-bulk-apply"]


# ---- pauses, commands, status ------------------------------------------------------
def test_pause_once_holds_waiting_until_ha_continue() -> None:
    pair = Pair(make_config(**{"state-machine": {"states": [{"state": "waiting", "pause": "once"}]}}))
    pair.start()
    pair.advance(20)
    assert pair["server1"].state is S.WAITING and pair["server1"].paused
    assert pair.admin("server1", "ha-continue")["text"] == "HA state machine continues."
    pair.advance(3)
    assert pair["server1"].state is S.PARTNER_DOWN
    assert pair.admin("server1", "ha-continue")["text"] == "HA state machine is not paused."


def test_ha_reset_in_waiting() -> None:
    sm = HaStateMachine(make_config(), 0.0)
    sm.start(0.0)
    assert sm.on_admin("ha-reset", 0.0).answer == {
        "result": 0,
        "text": "HA state machine already in WAITING state.",
    }


def test_ha_scopes_rejects_unknown_names_and_keeps_scopes() -> None:
    sm = HaStateMachine(make_config(), 0.0)
    sm.start(0.0)
    bad = sm.on_admin("ha-scopes", 0.0, {"scopes": ["server1", "nope"]}).answer
    assert bad == {
        "result": 1,
        "text": "invalid server name specified 'nope' while enabling/disabling HA scopes",
    }
    assert sm.served_scopes == frozenset()
    assert sm.on_admin("ha-scopes", 0.0, {"scopes": ["server1"]}).answer == {
        "result": 0,
        "text": "New HA scopes configured.",
    }
    assert sm.served_scopes == {"server1"}


@pytest.mark.parametrize("command", ["ha-scopes", "ha-sync"])
def test_null_arguments_are_not_a_map_and_absent_ones_are_not_found(command: str) -> None:
    sm = HaStateMachine(make_config(), 0.0)
    sm.start(0.0)
    assert sm.on_admin(command, 0.0, None).answer == {
        "result": 1, "text": f"arguments in the '{command}' command are not a map"}
    assert sm.on_admin(command, 0.0).answer == {"result": 1, "text": f"arguments not found in the '{command}' command"}


def test_ha_sync_max_period_null_is_refused() -> None:
    sm = HaStateMachine(make_config(), 0.0)
    sm.start(0.0)
    outcome = sm.on_admin("ha-sync", 0.0, {"server-name": "server2", "max-period": None})
    assert outcome.answer == {"result": 1, "text": "'max-period' must be a positive integer in the 'ha-sync' command"}
    assert not any(isinstance(action, StartSync) for action in outcome.actions)


def test_ha_sync_naming_this_server_is_refused_without_a_sync() -> None:
    sm = HaStateMachine(make_config(), 0.0)
    sm.start(0.0)
    outcome = sm.on_admin("ha-sync", 0.0, {"server-name": "server1"})
    assert outcome.answer == {
        "result": 1, "text": "'server-name' server1 is this server: name the server to fetch the leases from"}
    assert not any(isinstance(action, StartSync) for action in outcome.actions)


def test_partner_in_wrong_mode_state_keeps_us_waiting() -> None:
    sm = HaStateMachine(make_config(), 0.0)
    sm.start(0.0)
    sm.handle_timer(3.0)
    body = [
        {"result": 0, "arguments": {"state": "load-balancing", "date-time": "Wed, 25 Nov 2026 19:28:41 GMT"}}
    ]
    actions = sm.on_heartbeat_ok(body, 3.0, 1795634921)
    assert sm.state is S.WAITING
    assert any(
        isinstance(a, LogMessage) and a.message_id == "HA_INVALID_PARTNER_STATE_LOAD_BALANCING"
        for a in actions
    )


def test_sync_complete_notify_in_partner_down_enables_dhcp_only_after_a_failed_heartbeat() -> None:
    sm = HaStateMachine(make_config(), 0.0)
    sm.start(0.0)
    sm.handle_timer(3.0)
    sm.on_heartbeat_failed(11.0, "refused")
    assert sm.state is S.PARTNER_DOWN
    sm.on_partner_dhcp_disable(60, 12.0)
    assert not sm.dhcp_enabled
    sm.on_sync_complete_notify(12.5)
    assert not sm.dhcp_enabled
    assert any(isinstance(a, SendHeartbeat) for a in sm.handle_timer(14.0))
    actions = sm.on_heartbeat_failed(14.0, "refused")
    assert sm.dhcp_enabled and EnableLocalService(S.PARTNER_DOWN) in actions


def test_partner_dhcp_disable_expires_after_max_period() -> None:
    pair = hs_pair()
    pair.start()
    pair.advance(10)
    pair["server1"].on_partner_dhcp_disable(5, pair.now)
    pair.advance(5)
    assert pair["server1"].dhcp_enabled


def test_status_get_layout_matches_kea_capture() -> None:
    kea = json.loads((CAPTURES / "01-hot-standby-v4/server1-status-get.json").read_text())["arguments"][
        "high-availability"
    ][0]
    pair = Pair(
        *(
            parse_ha_parameters(capture_ha_params("01-hot-standby-v4", s), "ha")
            for s in ("server1", "server2")
        )
    )
    pair.start()
    pair.advance(20)
    ours = pair["server1"].status_dict(pair.now, wall_now=1_795_000_000)
    assert {k: v for k, v in ours.items() if k != "leasesync"}.keys() == kea.keys()
    assert ours["ha-servers"]["local"] == kea["ha-servers"]["local"]
    assert ours["ha-servers"]["remote"].keys() == kea["ha-servers"]["remote"].keys()
    assert {k: v for k, v in ours["ha-servers"]["remote"].items() if k != "age"} == {
        k: v for k, v in kea["ha-servers"]["remote"].items() if k != "age"
    }
    assert set(ours["leasesync"]) == {"reason", "since", "next"}
