"""Kea's JSON printing: the short path for the usual answer and the item-by-item path for long
lists print what the general printer prints."""

from __future__ import annotations

from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from app import kea_json


def general(value: Any) -> bytes:
    out: list[str] = []
    kea_json._write(value, out)
    return "".join(out).encode("ascii")


def test_a_result_and_text_answer_is_printed_as_kea_prints_it() -> None:
    assert kea_json.dumps([{"result": 0, "text": "IPv4 lease updated."}]) == \
        b'[ { "result": 0, "text": "IPv4 lease updated." } ]'


def test_a_text_outside_ascii_is_escaped_in_the_usual_answer() -> None:
    assert kea_json.dumps([{"text": 'caf\u00e9 "x"', "result": 1}]) == \
        b'[ { "result": 1, "text": "caf\\u00e9 \\"x\\"" } ]'


@settings(max_examples=500, deadline=None)
@given(
    result=st.one_of(st.integers(), st.booleans(), st.none(), st.text(max_size=3)),
    text=st.one_of(st.text(), st.integers(), st.none()),
    keys=st.sampled_from([("result", "text"), ("text", "result"), ("result", "arguments"), ("arguments", "text")]),
    wrap=st.booleans(),
)
def test_the_short_path_prints_what_the_general_printer_prints(result: Any, text: Any, keys: tuple[str, str],
                                                               wrap: bool) -> None:
    item = {keys[0]: result if keys[0] == "result" else text, keys[1]: text if keys[1] == "text" else result}
    value: Any = [item] if wrap else item
    assert kea_json.dumps(value) == general(value)


def test_a_long_list_prints_as_kea_prints_a_short_one() -> None:
    numbers = list(range(kea_json._JOIN_EACH_ITEM * 2))
    assert kea_json.dumps(numbers) == ("[ " + ", ".join(map(str, numbers)) + " ]").encode()
    assert kea_json.dumps([[], {}] * kea_json._JOIN_EACH_ITEM) == b"[ " + b", ".join([b"[  ]", b"{  }"] * kea_json._JOIN_EACH_ITEM) + b" ]"


json_values = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(), st.text(max_size=8)),
    lambda inner: st.one_of(st.lists(inner, max_size=4), st.dictionaries(st.text(max_size=4), inner, max_size=4)),
    max_leaves=8,
)


@settings(max_examples=40, deadline=None)
@given(items=st.lists(json_values, min_size=kea_json._JOIN_EACH_ITEM - 2, max_size=kea_json._JOIN_EACH_ITEM * 2))
def test_a_list_prints_each_item_as_the_item_alone_prints(items: list[Any]) -> None:
    expected = b"[ " + b", ".join(general(item) for item in items) + b" ]" if items else b"[  ]"
    assert kea_json.dumps(items) == expected


def test_the_leases_of_a_large_get_all_are_printed_without_holding_every_piece() -> None:
    import tracemalloc

    leases = [{"cltt": 1795831780 + i, "fqdn-fwd": False, "fqdn-rev": False, "hostname": f"h{i}.example.org",
               "hw-address": f"02:00:00:00:{i >> 8 & 255:02x}:{i & 255:02x}", "ip-address": f"10.0.{i >> 8}.{i & 255}",
               "state": 0, "subnet-id": 1, "valid-lft": 3600} for i in range(20_000)]
    answer = [{"arguments": {"leases": leases}, "result": 0, "text": "20000 IPv4 lease(s) found."}]
    tracemalloc.start()
    try:
        printed = kea_json.dumps(answer)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    # the printed bytes, the text they were encoded from and one string per lease; the pieces of
    # every lease held at once came to eight times the answer
    assert peak < 4 * len(printed), f"{peak} bytes at the peak for an answer of {len(printed)}"
