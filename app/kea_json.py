"""Kea's JSON dialect.

Printing: Kea's own printer sorts map keys and spaces tokens as `{ "a": 1 }`, with `[  ]` and
`{  }` for empty containers and non-ASCII escaped as \\uXXXX. Scripts sometimes compare answer
text byte for byte, so answers are printed the same way.

Configuration files are read in Kea's file dialect (comments, includes, extra commas):
`app.config_text`.
"""

from __future__ import annotations

import json
from typing import Any

import orjson

_encode_string = json.encoder.encode_basestring_ascii  # type: ignore[attr-defined]


def _write(value: Any, out: list[str]) -> None:
    if isinstance(value, str):
        out.append(_encode_string(value))
    elif value is True:
        out.append("true")
    elif value is False:
        out.append("false")
    elif value is None:
        out.append("null")
    elif isinstance(value, int):
        out.append(str(value))
    elif isinstance(value, float):
        out.append(repr(value))
    elif isinstance(value, dict):
        if not value:
            out.append("{  }")
            return
        out.append("{ ")
        first = True
        for key in sorted(value):
            if not first:
                out.append(", ")
            first = False
            out.append(_encode_string(key))
            out.append(": ")
            _write(value[key], out)
        out.append(" }")
    elif isinstance(value, (list, tuple)):
        if not value:
            out.append("[  ]")
            return
        out.append("[ ")
        first = True
        for item in value:
            if not first:
                out.append(", ")
            first = False
            _write(item, out)
        out.append(" ]")
    else:
        raise TypeError(f"cannot print {type(value).__name__} as Kea JSON")


def dumps(value: Any) -> bytes:
    """Print `value` exactly as Kea prints answers."""
    out: list[str] = []
    _write(value, out)
    return "".join(out).encode("ascii")


def dumps_compact(value: Any) -> bytes:
    """Fast printing for peer-to-peer traffic, where only the JSON value matters."""
    return orjson.dumps(value, option=orjson.OPT_SORT_KEYS)


def loads(data: bytes | str) -> Any:
    return orjson.loads(data)
