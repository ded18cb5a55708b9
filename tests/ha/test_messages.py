"""Spec §4, §5.5, §6.2, §7: exact bodies of what leasesync sends, compared with Kea's captures."""

from __future__ import annotations

import json
from typing import Any

import pytest

from app.ha import messages
from tests.ha.conftest import CAPTURES


def captured_requests(folder: str) -> dict[str, dict[str, Any]]:
    """First captured request body of each command in a scenario."""
    out: dict[str, dict[str, Any]] = {}
    for line in (CAPTURES / folder / "capture.jsonl").read_text().splitlines():
        entry = json.loads(line)
        body = entry.get("request", {}).get("body")
        if isinstance(body, dict):
            out.setdefault(body["command"], body)
    return out


def as_lease(sent: dict[str, Any]) -> dict[str, Any]:
    """Turn a lease as Kea sent it back into the stored form (cltt instead of expire)."""
    lease = {k: v for k, v in sent.items() if k not in ("expire", "force-create")}
    lease["cltt"] = sent["expire"] - sent["valid-lft"]
    return lease


def test_lease4_update_is_byte_identical_to_kea() -> None:
    sent = captured_requests("01-hot-standby-v4")["lease4-update"]
    assert json.dumps(messages.lease4_update(as_lease(sent["arguments"]))) == json.dumps(sent)


def test_lease4_del_is_byte_identical_to_kea() -> None:
    sent = captured_requests("01-hot-standby-v4")["lease4-del"]
    assert json.dumps(messages.lease4_del(as_lease(sent["arguments"]))) == json.dumps(sent)


def test_lease6_bulk_apply_has_both_lists() -> None:
    sent = captured_requests("07-hot-standby-v6")["lease6-bulk-apply"]
    leases = [as_lease(lease) for lease in sent["arguments"]["leases"]]
    deleted = [as_lease(lease) for lease in sent["arguments"]["deleted-leases"]]
    assert json.dumps(messages.lease6_bulk_apply(leases, deleted)) == json.dumps(sent)


def test_sync_requests_match_capture() -> None:
    sent = captured_requests("01-hot-standby-v4")
    assert messages.dhcp_disable("dhcp4", messages.sync_max_period(60000)) == sent["dhcp-disable"]
    assert messages.lease_get_page("dhcp4", None, 50) == sent["lease4-get-page"]
    assert messages.ha_sync_complete_notify("dhcp4") == sent["ha-sync-complete-notify"]
    assert messages.heartbeat("dhcp4") == sent["ha-heartbeat"]


def test_maintenance_notify_matches_capture() -> None:
    sent = captured_requests("06-maintenance-v4")["ha-maintenance-notify"]
    assert messages.ha_maintenance_notify("dhcp4", sent["arguments"]["cancel"]) == sent


def test_dhcp_disable_max_period_is_at_least_one_second() -> None:
    assert messages.sync_max_period(500) == 1
    assert "max-period" not in messages.dhcp_disable("dhcp6", None)["arguments"]


def test_get_page_limit_zero_is_refused() -> None:
    with pytest.raises(ValueError, match="limit value for lease4-get-page command must not be 0"):
        messages.lease_get_page("dhcp4", "10.0.0.1", 0)


def test_heartbeat_answer_layout() -> None:
    got = messages.heartbeat_answer("load-balancing", {"server1"}, 0, 1795635131)
    assert got == {
        "arguments": {
            "date-time": messages.format_rfc1123(1795635131),
            "scopes": ["server1"],
            "state": "load-balancing",
            "unsent-update-count": 0,
        },
        "result": 0,
        "text": "HA peer status returned.",
    }


def test_rfc1123_round_trip_and_rejections() -> None:
    assert messages.parse_rfc1123("Wed, 25 Nov 2026 19:28:41 GMT") == 1795634921
    assert messages.format_rfc1123(1795634921) == "Wed, 25 Nov 2026 19:28:41 GMT"
    for bad in ("2026-01-01T00:00:00Z", "Sunday, 06-Nov-94 08:49:37 GMT"):
        with pytest.raises(ValueError, match="unable to parse RFC 1123 time value"):
            messages.parse_rfc1123(bad)


def test_bare_map_answer_is_a_failure() -> None:
    with pytest.raises(messages.AnswerError, match=r"^HA peer status returned\., error code 1$"):
        messages.verify_answer({"result": 0, "text": "HA peer status returned."})


def test_result_3_counts_as_success() -> None:
    assert messages.verify_answer([{"result": 3, "text": "IPv4 lease not found."}]).rcode == 3


def _v6(i: int) -> dict[str, Any]:
    return {"ip-address": f"2001:db8:1::{i:x}", "duid": "01:02", "iaid": i, "valid-lft": 4000, "cltt": 1_700_000_000,
            "subnet-id": 1, "preferred-lft": 3000, "type": "IA_NA", "prefix-len": 128, "fqdn-fwd": False,
            "fqdn-rev": False, "hostname": "", "state": 0}


def test_a_change_set_that_fits_is_one_bulk_apply_as_kea_sends_it() -> None:
    leases, deleted = [_v6(i) for i in range(1, 4)], [_v6(9)]
    assert messages.lease6_bulk_applies(leases, deleted) == (messages.lease6_bulk_apply(leases, deleted),)


def test_a_large_change_set_is_split_into_bulks_of_at_most_the_chunk_deletes_first() -> None:
    leases, deleted = [_v6(i) for i in range(1, 2201)], [_v6(i) for i in range(5001, 5301)]
    commands = messages.lease6_bulk_applies(leases, deleted, chunk=1000)
    sizes = [len(c["arguments"]["deleted-leases"]) + len(c["arguments"]["leases"]) for c in commands]
    assert sizes == [1000, 1000, 500]
    sent_deleted = [lease["ip-address"] for c in commands for lease in c["arguments"]["deleted-leases"]]
    sent_leases = [lease["ip-address"] for c in commands for lease in c["arguments"]["leases"]]
    assert sent_deleted == [lease["ip-address"] for lease in deleted]
    assert sent_leases == [lease["ip-address"] for lease in leases]
    # every delete goes out before the first added lease, as within one bulk
    assert commands[0]["arguments"]["deleted-leases"] and not commands[1]["arguments"]["deleted-leases"]
    assert all(c["command"] == "lease6-bulk-apply" and c["service"] == ["dhcp6"] for c in commands)
