"""Spec §3.2, §3.4, §3.5, §4.3: partner bookkeeping and heartbeat-answer validation."""

from __future__ import annotations

import json
from typing import Any

import pytest

from app.ha.communication import CommunicationState, HeartbeatRejected, parse_heartbeat_answer, v4_secs_to_ms
from app.ha.messages import format_rfc1123
from app.ha.states import HaState
from tests.ha.conftest import CAPTURES, make_config

MATRIX: list[dict[str, Any]] = json.loads(
    (CAPTURES / "08-heartbeat-answer-matrix/heartbeat_matrix.json").read_text()
)
JSON_VARIANTS = [v for v in MATRIX if not isinstance(v["example_exchange"]["response"]["body"], str)]


@pytest.mark.parametrize("variant", JSON_VARIANTS, ids=lambda v: v["variant"])
def test_heartbeat_answer_accepted_exactly_when_kea_accepted_it(variant: dict[str, Any]) -> None:
    body = variant["example_exchange"]["response"]["body"]
    try:
        parse_heartbeat_answer(body)
        accepted = True
    except HeartbeatRejected:
        accepted = False
    assert accepted == variant["heartbeat_accepted"]


@pytest.mark.parametrize(
    "variant", [v for v in JSON_VARIANTS if not v["heartbeat_accepted"]], ids=lambda v: v["variant"]
)
def test_heartbeat_rejection_text_is_keas(variant: dict[str, Any]) -> None:
    logged = " ".join(variant["kea_ha_log"])
    with pytest.raises(HeartbeatRejected) as info:
        parse_heartbeat_answer(variant["example_exchange"]["response"]["body"])
    assert f"failed: {info.value.message}" in logged


def hb(state: str = "hot-standby", wall: float = 1_795_000_000, **extra: Any) -> list[dict[str, Any]]:
    args = {"state": state, "date-time": format_rfc1123(wall), "scopes": ["server1"], **extra}
    return [{"result": 0, "text": "HA peer status returned.", "arguments": args}]


def test_communication_interrupted_only_after_more_than_max_response_delay() -> None:
    comm = CommunicationState(make_config(), now=0.0)
    assert not comm.is_interrupted(10.0)  # max-response-delay 10000 ms: not yet at exactly 10 s
    assert comm.is_interrupted(10.001)


def test_successful_heartbeat_resets_the_interruption_clock() -> None:
    comm = CommunicationState(make_config(), now=0.0)
    comm.apply_heartbeat(parse_heartbeat_answer(hb()), now=9.0, wall_now=1_795_000_000)
    assert not comm.is_interrupted(18.0)
    assert comm.partner_state is HaState.HOT_STANDBY and comm.partner_scopes == {"server1"}


@pytest.mark.parametrize(
    ("skew", "warn", "terminate"),
    [(30, False, False), (31, True, False), (60, True, False), (61, True, True), (-61, True, True)],
)
def test_clock_skew_thresholds_are_strict(skew: int, warn: bool, terminate: bool) -> None:
    comm = CommunicationState(make_config(), now=0.0)
    comm.apply_heartbeat(parse_heartbeat_answer(hb(wall=1_795_000_000 + skew)), 0.0, 1_795_000_000)
    assert (comm.clock_skew_warning(0.0) is not None) == warn
    assert comm.clock_skew_should_terminate() == terminate


def test_clock_skew_warning_is_rate_limited_to_once_a_minute() -> None:
    comm = CommunicationState(make_config(), now=0.0)
    comm.apply_heartbeat(parse_heartbeat_answer(hb(wall=1_795_000_040)), 0.0, 1_795_000_000)
    assert comm.clock_skew_warning(0.0) is not None
    assert comm.clock_skew_warning(59.0) is None
    assert comm.clock_skew_warning(61.0) is not None


def test_clock_skew_log_text_like_kea() -> None:
    comm = CommunicationState(make_config(), now=0.0)
    comm.apply_heartbeat(parse_heartbeat_answer(hb(wall=1_795_000_070)), 0.0, 1_795_000_000)
    assert comm.clock_skew_text().endswith("partner's clock is 70s ahead")


def test_partner_new_unsent_updates_means_changed_and_non_zero() -> None:
    comm = CommunicationState(make_config(), now=0.0)
    comm.apply_heartbeat(parse_heartbeat_answer(hb(**{"unsent-update-count": 3})), 0.0, 1_795_000_000)
    assert comm.partner_has_new_unsent_updates()
    comm.apply_heartbeat(parse_heartbeat_answer(hb(**{"unsent-update-count": 3})), 1.0, 1_795_000_001)
    assert not comm.partner_has_new_unsent_updates()


def test_unusable_scopes_keep_the_previous_ones() -> None:
    comm = CommunicationState(make_config(), now=0.0)
    comm.apply_heartbeat(parse_heartbeat_answer(hb()), 0.0, 1_795_000_000)
    comm.apply_heartbeat(parse_heartbeat_answer(hb(scopes="server2")), 1.0, 1_795_000_001)
    assert comm.partner_scopes == {"server1"}


def test_max_unacked_clients_zero_means_interrupted_is_failure() -> None:
    assert CommunicationState(make_config(**{"max-unacked-clients": 0}), 0.0).failure_detected()


def test_failure_detected_only_with_more_unacked_clients_than_the_limit() -> None:
    comm = CommunicationState(make_config(**{"max-unacked-clients": 1}), now=0.0)
    assert not comm.analyze_query("c0", 10_000, now=5.0)  # not interrupted yet: ignored
    comm.analyze_query("c1", 10_000, now=11.0)
    assert not comm.failure_detected() and comm.unacked_clients_left(11.0) == 1
    comm.analyze_query("c2", 1_000, now=11.0)  # acked (secs below max-ack-delay)
    assert not comm.failure_detected()
    comm.analyze_query("c2", 10_000, now=11.0)  # a known client becomes unacked
    assert comm.failure_detected() and comm.unacked_clients_left(11.0) == 0


def test_little_endian_secs_are_swapped() -> None:
    assert v4_secs_to_ms(0x0A00) == 10_000
    assert v4_secs_to_ms(300 + 1) == 301_000


def test_status_remote_before_first_heartbeat() -> None:
    report = CommunicationState(make_config(), now=0.0).report(now=5.0)
    assert report["in-touch"] is False and report["last-state"] == "" and report["age"] == 0
