"""Kea's JSON printing: the short path for the usual answer prints what the general printer prints."""

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
