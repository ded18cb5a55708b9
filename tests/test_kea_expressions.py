"""config-test reads a client class's `test` expression as Kea 2.2's expression parser does
(app/kea_expressions.py): in-process, over the control channel, SQLite.

The texts are Kea's, recorded from kea-dhcp4/6 (the differential sweep replays many more:
tests/kea_cases.py "config-test/client-class-test-expressions-as-kea-parses-them"). Positions
after the text are left out here, as in tests/test_config_test_checks.py.
"""

from __future__ import annotations

from typing import Any

from tests.conftest import KeaClient
from tests.test_config_test_checks import SANE, check4, check6

SUBNET4 = {"subnet4": [{"id": 1, "subnet": "10.0.0.0/24"}]}
SUBNET6 = {"subnet6": [{"id": 1, "subnet": "2001:db8:1::/64"}]}


async def _test4(client: KeaClient, test: str, **more: Any) -> dict[str, Any]:
    return await check4(client, {**SUBNET4, **more, "client-classes": [{"name": "b"}, {"name": "a", "test": test}]})


async def _test6(client: KeaClient, test: str) -> dict[str, Any]:
    return await check6(client, {**SUBNET6, "client-classes": [{"name": "b"}, {"name": "a", "test": test}]})


def _refusal(test: str, error: str) -> dict[str, Any]:
    return {"result": 1, "text": f"expression: [{test}] error: <string>:{error} at"}


async def test_an_expression_of_every_kind_of_term_passes(sqlite_client: KeaClient) -> None:
    test = ("ifelse(member('b'), 'x', 'y') + substring(option[61].hex, 0, all) == hexstring(pkt4.mac, ':') "
            "and not (vendor-class[4491].data[1] == 0x01 or relay4[82].exists) and 10.0.0.1 == pkt4.giaddr")
    assert await _test4(sqlite_client, test) == {"result": 0, "text": SANE}


async def test_a_syntax_error_names_the_few_tokens_that_could_have_come(sqlite_client: KeaClient) -> None:
    assert await _test4(sqlite_client, "(member('b')") == _refusal(
        "(member('b')", "1.13: syntax error, unexpected end of file, expecting ) or and or or")
    assert await _test4(sqlite_client, "substring('x', 0) == 'x'") == _refusal(
        "substring('x', 0) == 'x'", '1.17: syntax error, unexpected ), expecting ","')


async def test_a_syntax_error_with_many_possible_tokens_names_none(sqlite_client: KeaClient) -> None:
    assert await _test4(sqlite_client, "member('b') and") == _refusal(
        "member('b') and", "1.16: syntax error, unexpected end of file")


async def test_an_empty_expression_is_a_syntax_error(sqlite_client: KeaClient) -> None:
    assert await _test4(sqlite_client, "") == _refusal("", "1.1: syntax error, unexpected end of file")


async def test_a_character_outside_the_language_is_refused_where_it_stands(sqlite_client: KeaClient) -> None:
    assert await _test4(sqlite_client, "option[60].text == \"x\"") == _refusal(
        "option[60].text == \"x\"", "1.20: Invalid character: \"")


async def test_lines_and_columns_are_counted_across_newlines(sqlite_client: KeaClient) -> None:
    test = "member('b')\n and member('c')"
    assert await _test4(sqlite_client, test) == _refusal(test, "2.13-15: Not defined client class 'c'")


async def test_an_option_name_must_be_defined_and_a_custom_definition_counts(sqlite_client: KeaClient) -> None:
    test = "option[my-opt].exists"
    assert await _test4(sqlite_client, test) == _refusal(test, "1.8-13: option 'my-opt' is not defined")
    defined = {"option-def": [{"name": "my-opt", "code": 222, "type": "string"}]}
    assert await _test4(sqlite_client, test, **defined) == {"result": 0, "text": SANE}


async def test_option_codes_are_limited_by_the_family(sqlite_client: KeaClient) -> None:
    assert await _test4(sqlite_client, "option[300].exists") == _refusal(
        "option[300].exists", "1.8-10: Option code has invalid value in 300. Allowed range: 0..255")
    assert await _test6(sqlite_client, "option[300].exists") == {"result": 0, "text": SANE}


async def test_packet_and_relay_terms_belong_to_one_family(sqlite_client: KeaClient) -> None:
    assert await _test4(sqlite_client, "pkt6.msgtype == 'x'") == _refusal(
        "pkt6.msgtype == 'x'", "1.1-4: pkt6 can only be used in DHCPv6.")
    assert await _test4(sqlite_client, "relay6[0].peeraddr == ::1") == _refusal(
        "relay6[0].peeraddr == ::1", "1.8: Nest level invalid for DHCPv4 packets")
    assert await _test6(sqlite_client, "relay4[1].exists") == {
        "result": 1, "text": "expression: [relay4[1].exists] error: <string>:1.1-6: relay4 can only be used in DHCPv4. at"}


async def test_numbers_and_addresses_are_checked_as_they_are_read(sqlite_client: KeaClient) -> None:
    assert await _test4(sqlite_client, "1.2.3.999 == 'a'") == _refusal(
        "1.2.3.999 == 'a'", "1.1-9: Failed to convert 1.2.3.999 to an IP address.")
    assert await _test4(sqlite_client, "4294967296 == 'a'") == _refusal(
        "4294967296 == 'a'", "1.1-10: Invalid value in 4294967296. Allowed range: 0..4294967295")


async def test_member_names_only_classes_defined_before(sqlite_client: KeaClient) -> None:
    assert await _test4(sqlite_client, "member('a')") == _refusal("member('a')", "1.8-10: Not defined client class 'a'")
    assert await _test4(sqlite_client, "member('b') and member('KNOWN')") == {"result": 0, "text": SANE}
