"""config-test reads option data given in hex (`csv-format: false`) as Kea 2.2's option factory
reads the bytes (app/kea_options.py `_build_binary`): in-process, over the control channel.

The texts are Kea's, recorded from kea-dhcp4/6 (tests/kea_cases.py
"config-test/option-data-in-hex-as-kea-builds-it"; `python tests/kea_fuzz.py --family option-hex`
compares random bytes for every standard option). Positions are left out, as in
tests/test_config_test_checks.py.
"""

from __future__ import annotations

from typing import Any

from tests.conftest import KeaClient
from tests.test_config_test_checks import SANE, check4, check6

SUBNET4 = {"subnet4": [{"id": 1, "subnet": "10.0.0.0/24"}]}
SUBNET6 = {"subnet6": [{"id": 1, "subnet": "2001:db8:1::/64"}]}


async def _hex4(client: KeaClient, name: str, data: str, **more: Any) -> dict[str, Any]:
    option = {"name": name, "csv-format": False, "data": data}
    return await check4(client, {**SUBNET4, **more, "option-data": [option]})


async def _hex6(client: KeaClient, name: str, data: str) -> dict[str, Any]:
    return await check6(client, {**SUBNET6, "option-data": [{"name": name, "csv-format": False, "data": data}]})


def _refusal(space: str, code: int, text: str) -> dict[str, Any]:
    return {"result": 1, "text": f"option data does not match option definition (space: {space}, code: {code}): {text}"}


async def test_an_integer_shorter_than_its_type_is_refused(sqlite_client: KeaClient) -> None:
    assert await _hex4(sqlite_client, "time-offset", "0000") == _refusal("dhcp4", 2, "OptionInt 2 truncated")
    assert await _hex4(sqlite_client, "time-offset", "00000E10") == {"result": 0, "text": SANE}


async def test_a_string_of_only_nuls_is_refused(sqlite_client: KeaClient) -> None:
    assert await _hex4(sqlite_client, "host-name", "0000") == _refusal(
        "dhcp4", 12, "failed to parse an option '12' holding string value' was empty or contained only nuls")


async def test_a_record_field_past_the_end_is_refused(sqlite_client: KeaClient) -> None:
    definitions = {"option-def": [{"name": "my-rec", "code": 222, "type": "record", "record-types": "uint8, fqdn"}]}
    assert await _hex4(sqlite_client, "my-rec", "01", **definitions) == _refusal(
        "dhcp4", 222, "unable to read FQDN from a buffer. The buffer is empty.")
    assert await _hex4(sqlite_client, "my-rec", "01076578616d706c6503636f6d00", **definitions) == {
        "result": 0, "text": SANE}


async def test_a_v4_name_list_may_point_back_but_not_forward(sqlite_client: KeaClient) -> None:
    back = "076578616d706c6503636f6d00" + "0161c000"  # example.com., then a.example.com. by a pointer to 0
    assert await _hex4(sqlite_client, "domain-search", back) == {"result": 0, "text": SANE}
    assert await _hex4(sqlite_client, "domain-search", "c00c") == _refusal(
        "dhcp4", 119, "bad compression pointer (out of range): 12")


async def test_an_ia_option_needs_its_fixed_part(sqlite_client: KeaClient) -> None:
    assert await _hex6(sqlite_client, "ia-na", "00" * 11) == _refusal(
        "dhcp6", 3, "input option buffer has invalid size, expected at least 12 bytes")


async def test_a_vendor_option_is_read_with_the_vendors_definitions(sqlite_client: KeaClient) -> None:
    # DOCSIS 3 (4491) sub-option 2 is a list of IPv4 addresses: three bytes cannot be one
    assert await _hex4(sqlite_client, "vivso-suboptions", "0000118b050203c00002") == _refusal(
        "dhcp4", 125, "DHCPv4 Option4AddrLst 2 has invalid length=3, must be divisible by 4.")
    assert await _hex4(sqlite_client, "vivso-suboptions", "0000118b0602040a000001") == {"result": 0, "text": SANE}


async def test_client_fqdn_flags_n_and_s_together_are_refused(sqlite_client: KeaClient) -> None:
    assert await _hex6(sqlite_client, "client-fqdn", "05") == _refusal(
        "dhcp6", 39, "both N and S flag of the DHCPv6 Client FQDN Option are set. According to RFC 4704, if the N "
                     "bit is 1 the S bit MUST be 0")


async def test_sub_options_of_an_encapsulating_option_are_read_with_their_definitions(sqlite_client: KeaClient) -> None:
    # an IA_NA carrying an IAADDR (option 5) of one byte: the IAADDR's fixed part is 24 bytes
    assert await _hex6(sqlite_client, "ia-na", "00" * 12 + "0005000100") == _refusal(
        "dhcp6", 3, "input option buffer has invalid size, expected at least 24 bytes")
    # a sub-option cut short ends the list quietly, as in Kea
    assert await _hex6(sqlite_client, "ia-na", "00" * 12 + "000500") == {"result": 0, "text": SANE}


async def test_csv_data_of_an_option_with_a_class_of_its_own_is_read_back_as_bytes(sqlite_client: KeaClient) -> None:
    # v6 vendor-class: Kea writes "0102" as two bytes, then its class reads them as a tuple length
    answer = await check6(sqlite_client, {**SUBNET6, "option-data": [{"name": "vendor-class", "data": "4491, 0102"}]})
    assert answer == _refusal("dhcp6", 16, "unable to parse the opaque data tuple, the buffer length is 0, but the "
                                           "tuple length is 258")
    tuple_given = await check6(sqlite_client, {**SUBNET6, "option-data": [{"name": "vendor-class", "data": "4491, 000161"}]})
    assert tuple_given == {"result": 0, "text": SANE}
