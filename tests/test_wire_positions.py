"""Kea's position suffix on error texts: ` (<wire>:0:N)`.

kea-ctrl-agent re-prints a command before it forwards it to a daemon; the daemon's error texts end
with the column of the element they are about in that text. leasesync answers commands sent with
`service` as that daemon does, so it computes the same column (`app.kea_json.wire_position`).
The figures below were read off Kea 2.2 (tests/golden has the cases that pin them end to end).
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from app.kea_json import ENVELOPE, client_position, wire_position
from tests.conftest import KeaClient

HW = "1a:1b:1c:1d:1e:1f"


def _column_of_valid_lft_after(raw_value: str) -> int:
    """Where Kea puts `valid-lft` when the key `a` before it holds `raw_value` (JSON text)."""
    arguments = json.loads(f'{{"a": {raw_value}, "hw-address": "{HW}", "ip-address": "192.0.2.20", "valid-lft": "x"}}')
    envelope = {"command": "lease4-add", "service": ["dhcp4"], "arguments": arguments}
    position = wire_position(envelope, arguments, "valid-lft")
    assert position is not None
    return position - 100  # 100: the columns of everything but the value of "a"


# (JSON text of a value, the columns Kea 2.2's daemon counted for it once re-printed)
KEA_COLUMNS = [
    ('"x"', 3), ('"/"', 3), ('"\\u00e9"', 8), ('"\\u0001"', 8), ('"\\n"', 4), ('"\\t"', 4),
    ('"\\""', 4), ('"\\\\"', 4), ('"\\u007f"', 8), ('"\\u001f"', 8),
    ("1E3", 6), ("123456789.0", 11), ("-0.0", 4), ("0.000012345678", 11), ("1.0", 3), ("0.5", 3),
    ("123456.7", 8), ("1234567.0", 11), ("0.0001", 6), ("3.14159265", 7), ("12345.0", 7),
    ("true", 4), ("null", 4), ("[]", 4), ("0", 1), ("-1", 2), ("9223372036854775807", 19),
]


@pytest.mark.parametrize(("raw_value", "columns"), KEA_COLUMNS, ids=[raw for raw, _ in KEA_COLUMNS])
def test_a_value_moves_what_follows_by_its_length_as_kea_reprints_it(raw_value: str, columns: int) -> None:
    assert _column_of_valid_lft_after(raw_value) == columns


def test_an_empty_map_moves_what_follows_one_column_less_than_it_prints() -> None:
    # `{  }` is four characters; Kea's parser counts three (measured)
    assert _column_of_valid_lft_after("{}") == 3
    assert _column_of_valid_lft_after('{"z": 1}') == len('{ "z": 1 }')


def test_a_map_or_list_is_at_the_column_after_its_bracket_and_a_scalar_before_its_first_character() -> None:
    arguments: dict[str, Any] = {"m": {"k": 1}, "s": "x"}
    envelope = {"command": "c", "arguments": arguments}
    # { "arguments": { "m": { "k": 1 }, "s": "x" }, "command": "c" }
    assert wire_position(envelope, ENVELOPE, "arguments") == 16
    assert wire_position(envelope, arguments, None) == 16
    assert wire_position(envelope, arguments, "m") == 23
    assert wire_position(envelope, arguments, "s") == 39


def test_an_element_that_is_not_in_the_envelope_has_no_position() -> None:
    assert wire_position({"command": "c", "arguments": {}}, {}, "x") is None


async def test_an_error_to_a_family_named_by_service_ends_with_the_position(sqlite_client: KeaClient) -> None:
    answer = await sqlite_client.one("lease4-add", "dhcp4", {"ip-address": "192.0.2.20", "hw-address": 5})
    assert answer == {"result": 1, "text": "invalid type specified for parameter 'hw-address' (<wire>:0:31)"}
    answer = await sqlite_client.one("lease4-add", "dhcp4", {"ip-address": "192.0.2.300", "hw-address": HW})
    assert answer["text"].endswith("Invalid argument(<wire>:0:66)")
    answer = await sqlite_client.one("lease4-add", "dhcp4", {})
    assert answer["text"] == "missing parameter 'ip-address' (<wire>:0:16)"


async def test_every_service_in_the_list_gives_the_same_position(sqlite_client: KeaClient) -> None:
    answers = await sqlite_client.command("lease4-wipe", ["dhcp4", "dhcp4"], {"subnet-id": -1})
    assert [a["text"] for a in answers] == ["out of range value (-1) specified for parameter 'subnet-id' (<wire>:0:30)"] * 2


async def test_an_error_to_a_command_without_service_has_no_position(sqlite_client: KeaClient) -> None:
    # without service, kea-ctrl-agent forwards nothing: there is no re-printed command to point into
    answer = await sqlite_client.one("lease4-add", None, {"ip-address": "192.0.2.20", "hw-address": 5})
    assert answer == {"result": 1, "text": "invalid type specified for parameter 'hw-address'"}


async def test_an_error_about_the_arguments_themselves_points_at_them(sqlite_client: KeaClient) -> None:
    answer = await sqlite_client.one("statistic-get", "dhcp4", "x")
    assert answer["text"] == "Error during command processing: get(string) called on a non-map Element in (<wire>:0:15)"
    answer = await sqlite_client.one("lease6-bulk-apply", "dhcp6", {"leases": [7]})
    assert answer["text"] == "get(string) called on a non-map Element in (<wire>:0:29)"


# (client's bytes, index in "service", kea-ctrl-agent's LINE:COLUMN) read off Kea 2.2
AGENT_POSITIONS = [
    (b'{"service": [4], "command": "list-commands"}', 0, "1:14"),
    (b'{"service": ["dhcp4", 4], "command": "list-commands"}', 1, "1:23"),
    (b'{\r\n"service": [4], "command": "list-commands"}', 0, "2:13"),
    (b'{\t"service": [4], "command": "list-commands"}', 0, "1:15"),
    (b'{"arguments": {  }, "service": [4], "command": "list-commands"}', 0, "1:32"),
    (b'{"arguments": {"a": "\\u00e9\\t\\n"}, "service": [4], "command": "list-commands"}', 0, "1:48"),
    (b'{"arguments": {"a": "\xc3\xa9"}, "service": [4], "command": "list-commands"}', 0, "1:40"),
    (b'{"service": [{}], "command": "list-commands"}', 0, "1:15"),
    (b'{"service": [5], "service": [4], "command": "list-commands"}', 0, "1:30"),
    (b'{"service":\n[\n4], "command": "list-commands"}', 0, "3:1"),
]


@pytest.mark.parametrize(("body", "index", "position"), AGENT_POSITIONS)
def test_the_agent_counts_lines_and_byte_columns_of_the_clients_text(body: bytes, index: int, position: str) -> None:
    assert client_position(body, ("service", index)) == position


async def test_a_service_entry_that_is_not_a_string_is_named_by_its_place_in_the_request(
        sqlite_client: KeaClient) -> None:
    response = await sqlite_client.raw(b'{"command": "list-commands",\n "service": ["dhcp4", 4]}',
                                       {"Content-Type": "application/json"})
    assert response.json() == [{"result": 1, "text": "Error during command processing: stringValue() called on "
                                                      "non-string Element in (<string>:2:23)"}]


def test_a_character_sent_as_raw_utf_8_counts_its_bytes() -> None:
    arguments = {"hostname": "caf\u00e9", "valid-lft": "x"}
    envelope = {"command": "lease4-add", "service": ["dhcp4"], "arguments": arguments}
    escaped = wire_position(envelope, arguments, "valid-lft")
    assert escaped is not None
    # "\u00e9" is one byte (6 columns) when sent escaped, two bytes (12 columns) when sent raw
    assert wire_position(envelope, arguments, "valid-lft", raw=True) == escaped + 6


async def test_the_request_as_sent_decides_how_non_ascii_characters_count(sqlite_client: KeaClient) -> None:
    texts = []
    for hostname in ("caf\u00e9".encode(), b"caf\\u00e9"):
        response = await sqlite_client.raw(
            b'{"command": "lease4-add", "service": ["dhcp4"], "arguments": {"hostname": "' + hostname
            + b'", "hw-address": "01:02", "ip-address": "192.0.2.20", "valid-lft": "x"}}',
            {"Content-Type": "application/json"})
        texts.append(response.json()[0]["text"])
    # read off Kea 2.2 with these two bodies
    assert texts == ["invalid type specified for parameter 'valid-lft' (<wire>:0:112)",
                     "invalid type specified for parameter 'valid-lft' (<wire>:0:106)"]
