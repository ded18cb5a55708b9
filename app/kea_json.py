"""Kea's JSON dialect.

Printing: Kea's own printer sorts map keys and spaces tokens as `{ "a": 1 }`, with `[  ]` and
`{  }` for empty containers and non-ASCII escaped as \\uXXXX. Scripts sometimes compare answer
text byte for byte, so answers are printed the same way.

Configuration files are read in Kea's file dialect (comments, includes, extra commas):
`app.config_text`.

Positions: kea-ctrl-agent re-prints a command before it forwards it to a daemon, and the daemon
names the element an error is about by its column in that text (`missing parameter 'ip-address'
(<wire>:0:16)`). `wire_position` finds that column for an element of the envelope leasesync
received, so the texts of errors to commands sent with `service` are Kea's to the character.
A command the agent answers itself names the element by its line and column in the client's own
bytes (`(<string>:1:41)`): `client_position`.
"""

from __future__ import annotations

import json
from typing import Any

import orjson

_encode_string = json.encoder.encode_basestring_ascii  # type: ignore[attr-defined]
_JOIN_EACH_ITEM = 64  # a list longer than this is printed item by item (see _write)


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
        if len(value) > _JOIN_EACH_ITEM:
            # a long list (a lease4-get-all's leases): each item's pieces joined into one string at
            # once, so the pieces of 50,000 leases (about 3 million small strings, 70 MiB) are never
            # alive together, only one string per lease
            items: list[str] = []
            for item in value:
                part: list[str] = []
                _write(item, part)
                items.append("".join(part))
            out.append("[ ")
            out.append(", ".join(items))
            out.append(" ]")
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


def _wire_string_length(text: str, raw: bool = False) -> int:
    """Length of a string as kea-ctrl-agent re-prints it: Kea keeps strings as bytes and escapes
    every byte outside printable ASCII as \\u00XX. A character above U+00FF arrived as UTF-8
    bytes (Kea refuses \\u escapes above \\u00ff); one up to U+00FF did too when the client sent
    raw UTF-8 (`raw`), else it is the single byte its escape gives, as JSON libraries send it."""
    if text.isascii() and text.isprintable() and '"' not in text and "\\" not in text:
        return len(text) + 2
    size = 2
    for char in text:
        code = ord(char)
        if char in _SHORT_ESCAPES:
            size += 2
        elif code < 0x20 or code == 0x7F:
            size += 6
        elif code < 0x80:
            size += 1
        elif code <= 0xFF and not raw:
            size += 6
        else:
            size += 6 * len(char.encode("utf-8"))
    return size


_SHORT_ESCAPES = frozenset('"\\\b\f\n\r\t')


def _wire_float(value: float) -> str:
    # C++ stream output (six significant digits), and ".0" when that has no point: 2e+06.0
    text = f"{value:g}"
    return text if "." in text else text + ".0"


def _wire_length(value: Any, raw: bool = False) -> int:
    """Columns the daemon's parser counts for `value` re-printed by kea-ctrl-agent. An empty map
    counts one column less than its four characters `{  }` (a quirk of Kea's parser, measured)."""
    if isinstance(value, str):
        return _wire_string_length(value, raw)
    if value is True or value is None:
        return 4
    if value is False:
        return 5
    if isinstance(value, int):
        return len(str(value))
    if isinstance(value, float):
        return len(_wire_float(value))
    if isinstance(value, dict):
        if not value:
            return 3
        return 2 + sum(_wire_string_length(k, raw) + 2 + _wire_length(v, raw) for k, v in value.items()) \
            + 2 * (len(value) - 1) + 2
    if isinstance(value, (list, tuple)):
        if not value:
            return 4
        return 2 + sum(_wire_length(v, raw) for v in value) + 2 * (len(value) - 1) + 2
    return 0


class _Envelope:
    def __repr__(self) -> str:
        return "ENVELOPE"


# Stands for the envelope in `wire_position(envelope, ENVELOPE, "arguments")`: handlers see the
# arguments, not the envelope, and a scalar cannot be found by its identity.
ENVELOPE: Any = _Envelope()


def wire_position(envelope: Any, container: Any, key: Any = None, *, raw: bool = False) -> int | None:
    """The column Kea's daemon gives `container[key]` (or the map or list `container` itself when
    `key` is None) in the envelope as kea-ctrl-agent forwards it; None when it is not there.

    Kea's parser gives a scalar the column before its first character and a map or list the
    column of its bracket (both counted from 0 for the opening brace of the envelope). `raw`: the
    client sent non-ASCII characters as raw UTF-8 (see `_wire_string_length`)."""
    if container is ENVELOPE:
        container = envelope
    return _find(envelope, 0, container, key, raw)


def _start(value: Any, offset: int) -> int:
    return offset + 1 if isinstance(value, (dict, list, tuple)) else offset


def _members(value: Any, raw: bool) -> list[tuple[Any, Any, int]]:
    """(key, item, columns before the item) of a map in Kea's key order (`"key": `) or a list."""
    if isinstance(value, dict):
        return [(name, value[name], _wire_string_length(name, raw) + 2) for name in sorted(value)]
    if isinstance(value, list):
        return [(index, item, 0) for index, item in enumerate(value)]
    return []


def _find(value: Any, offset: int, container: Any, key: Any, raw: bool) -> int | None:
    if value is container and key is None:
        return _start(value, offset)
    at = offset + 2  # "{ " or "[ "
    for name, item, before in _members(value, raw):
        at += before
        if value is container and name == key:
            return _start(item, at)
        if isinstance(item, (dict, list)):
            found = _find(item, at, container, key, raw)
            if found is not None:
                return found
        at += _wire_length(item, raw) + 2  # ", "
    return None


def wire_suffix(envelope: Any, container: Any, key: Any = None, separator: str = " ", *, raw: bool = False,
                form: str = "({})") -> str:
    """Kea's position suffix for an element, ` (<wire>:0:N)`, or "" when it cannot be found
    (`form`: how the text puts the position; a few of Kea's texts leave out a parenthesis)."""
    position = wire_position(envelope, container, key, raw=raw)
    return "" if position is None else separator + form.format(f"<wire>:0:{position}")


def client_position(body: bytes, path: tuple[Any, ...]) -> str | None:
    """kea-ctrl-agent's own position of the element at `path` (keys and list indexes from the
    top) in the client's bytes, as `LINE:COLUMN`: the agent parses those bytes itself
    (`(<string>:1:14)`). Lines and columns count from 1, in bytes; a map or list is at the column
    after its bracket; every empty map earlier on the line counts one column less (the parser's
    quirk, measured as for `wire_position`)."""
    scan = _RawScan(body)
    try:
        scan.value(())
    except (IndexError, ValueError):
        return None
    found = scan.starts.get(path)
    if found is None:
        return None
    line_start = body.rfind(b"\n", 0, found) + 1
    column = found - line_start + 1 - sum(1 for start in scan.empty_maps if line_start <= start < found)
    if body[found:found + 1] in (b"{", b"["):
        column += 1
    line = body.count(b"\n", 0, found) + 1
    return f"{line}:{column}"


def element_path(value: Any, container: Any, key: Any = None) -> tuple[Any, ...] | None:
    """The keys and indexes that lead from `value` to `container[key]` (to `container` when `key`
    is None), `container` found by identity (ENVELOPE: `value` itself); None when not there."""
    if container is ENVELOPE:
        container = value
    if value is container:
        return () if key is None else (key,)
    members = value.items() if isinstance(value, dict) else enumerate(value) if isinstance(value, list) else ()
    for name, item in members:
        if isinstance(item, (dict, list)):
            found = element_path(item, container, key)
            if found is not None:
                return (name, *found)
    return None


def client_suffix(body: bytes, envelope: Any, container: Any, key: Any = None, separator: str = " ") -> str:
    """kea-ctrl-agent's own position suffix for an element of the request it answers itself,
    ` (<string>:L:C)`, or "" when it cannot be found."""
    path = element_path(envelope, container, key)
    position = client_position(body, path) if path is not None else None
    return "" if position is None else f"{separator}(<string>:{position})"


class _RawScan:
    """Just enough of a JSON scanner over bytes that parsed already: where every value starts
    (`starts`, by path; a repeated key's last value wins, as in parsers), and where the empty
    maps are. Used only to word an error answer."""

    _SPACE = frozenset(b" \t\r\n")

    def __init__(self, data: bytes) -> None:
        self.data = data
        self.at = 0
        self.starts: dict[tuple[Any, ...], int] = {}
        self.empty_maps: list[int] = []

    def _space(self) -> None:
        while self.at < len(self.data) and self.data[self.at] in self._SPACE:
            self.at += 1

    def _string(self) -> str:
        start = self.at
        self.at += 1
        while self.data[self.at] != 0x22:  # '"'
            self.at += 2 if self.data[self.at] == 0x5C else 1  # a backslash escapes the next byte
        self.at += 1
        return str(json.loads(self.data[start:self.at]))

    def value(self, path: tuple[Any, ...]) -> None:
        self._space()
        self.starts[path] = self.at
        first = self.data[self.at:self.at + 1]
        if first == b'"':
            self._string()
        elif first in (b"{", b"["):
            closing = b"}" if first == b"{" else b"]"
            start = self.at
            self.at += 1
            members = 0
            while True:
                self._space()
                if self.data[self.at:self.at + 1] == closing:
                    self.at += 1
                    break
                member: Any = members
                if closing == b"}":
                    member = self._string()
                    self._space()
                    self.at += 1  # ':'
                self.value(path + (member,))
                members += 1
                self._space()
                if self.data[self.at:self.at + 1] == b",":
                    self.at += 1
            if not members and closing == b"}":
                self.empty_maps.append(start)
        else:
            while self.at < len(self.data) and self.data[self.at:self.at + 1] not in (b",", b"]", b"}") \
                    and self.data[self.at] not in self._SPACE:
                self.at += 1


def dumps(value: Any) -> bytes:
    """Print `value` exactly as Kea prints answers."""
    if type(value) is list and len(value) == 1:
        # the usual answer, one map of result and text: printed straight (a lease write's
        # answer spent 4 calls of _write on it)
        item = value[0]
        if type(item) is dict and len(item) == 2:
            result, text = item.get("result"), item.get("text")
            if type(result) is int and type(text) is str:
                return f'[ {{ "result": {result}, "text": {_encode_string(text)} }} ]'.encode("ascii")
    out: list[str] = []
    _write(value, out)
    return "".join(out).encode("ascii")


def dumps_compact(value: Any) -> bytes:
    """Fast printing for peer-to-peer traffic, where only the JSON value matters."""
    return orjson.dumps(value, option=orjson.OPT_SORT_KEYS)


def loads(data: bytes | str) -> Any:
    return orjson.loads(data)
