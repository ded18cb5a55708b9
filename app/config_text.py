"""Kea's configuration-file dialect of JSON.

Kea reads its configuration files with its own lexer and grammar, not with a JSON parser, and an
administrator's files rely on what that dialect allows beyond JSON (Kea 2.2 `kea-dhcp4 -t` was
asked each case):

* comments: `#` and `//` to the end of the line, `/* ... */`;
* `<?include "path"?>` anywhere a token may stand: the named file's text is read in its place
  (the path as given, so a relative one is relative to the working directory; eleven levels
  deep at most, as Kea);
* numbers as Kea's lexer takes them: integers with leading zeros (`04000`), floats without a
  digit before or after the point or with a sign (`.5`, `5.`, `+.5`), exponents; integers must
  fit 64 bits;
* extra commas after an entry of a map or a list (`[1, 2,]`, `{"a": 1,,}`): accepted, each with
  a warning, as Kea warns "Extraneous comma";
* a key given twice in one map is an error (Python's JSON reader would keep the last silently).

`NaN`, `Infinity`, single quotes and control characters in strings are refused, as by Kea.
Errors name the file, line and column (`file:line.column: text`), as Kea's do.

This reader is for configuration files only; the control channel's bodies are plain JSON,
parsed by `kea_json.loads`.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

MAX_INCLUDE_DEPTH = 11  # Kea 2.2 reads eleven nested includes and refuses a twelfth
_INT64_MIN, _INT64_MAX = -(2**63), 2**63 - 1

_BLANKS = re.compile(r"[ \t\r\n]+")
_INT = re.compile(r"-?[0-9]+")
_FLOAT = re.compile(r"[-+]?[0-9]*\.?[0-9]*(?:[eE][-+]?[0-9]+)?")
_STRING = re.compile(r'"(?:[^"\\\n]|\\.)*"')
_INCLUDE = re.compile(r'<\?[ \t]*include[ \t]+"([^"\n]+)"[ \t]*\?>')
_WORDS = {"true": True, "false": False, "null": None}
_PUNCTUATION = frozenset("{}[],:")


class ConfigSyntaxError(ValueError):
    """The text is not in Kea's configuration dialect; the message says where and why."""


@dataclass(frozen=True, slots=True)
class _Token:
    kind: str  # one of "{}[],:" or "value"
    value: Any
    where: str  # "file:line.column"


@dataclass
class _Source:
    name: str
    text: str
    at: int = 0
    line: int = 1
    line_start: int = 0

    def where(self, at: int | None = None) -> str:
        at = self.at if at is None else at
        return f"{self.name}:{self.line}.{at - self.line_start + 1}"

    def advance(self, end: int) -> None:
        """Move to `end`, counting the lines passed."""
        newlines = self.text.count("\n", self.at, end)
        if newlines:
            self.line += newlines
            self.line_start = self.text.rfind("\n", self.at, end) + 1
        self.at = end


def _tokens(text: str, name: str) -> Iterator[_Token]:
    """The tokens of `text`, with included files' tokens in place of their directives."""
    stack = [_Source(name, text)]
    while stack:
        source = stack[-1]
        text, at = source.text, source.at
        if at >= len(text):
            stack.pop()
            continue
        ch = text[at]
        blanks = _BLANKS.match(text, at)
        if blanks:
            source.advance(blanks.end())
        elif ch == "#" or text.startswith("//", at):
            end = text.find("\n", at)
            source.advance(len(text) if end < 0 else end)
        elif text.startswith("/*", at):
            end = text.find("*/", at + 2)
            if end < 0:
                raise ConfigSyntaxError(f"{source.where()}: comment not closed (/* in line {source.line})")
            source.advance(end + 2)
        elif text.startswith("<?", at):
            include = _INCLUDE.match(text, at)
            if include is None:
                raise ConfigSyntaxError(f"{source.where()}: bad directive, expected <?include \"file\"?>")
            source.advance(include.end())
            if len(stack) > MAX_INCLUDE_DEPTH:
                raise ConfigSyntaxError(f"{source.where(include.start())}: too many nested includes")
            path = include.group(1)
            try:
                stack.append(_Source(path, Path(path).read_text()))
            except (OSError, UnicodeDecodeError):
                raise ConfigSyntaxError(f"{source.where(include.start())}: can't open include file {path}") from None
        elif ch in _PUNCTUATION:
            yield _Token(ch, ch, source.where())
            source.advance(at + 1)
        elif ch == '"':
            where = source.where()
            yield _Token("value", _string(source), where)
        elif _is_number(text, at):
            where = source.where()
            value, end = _number(text, at, where)
            source.advance(end)
            yield _Token("value", value, where)
        else:
            word = re.match(r"[A-Za-z]+", text[at:at + 16])
            if word and word.group() in _WORDS:
                yield _Token("value", _WORDS[word.group()], source.where())
                source.advance(at + len(word.group()))
            else:
                raise ConfigSyntaxError(f"{source.where()}: invalid character: {ch}")


def _is_number(text: str, at: int) -> bool:
    floating = _FLOAT.match(text, at)
    return text[at] in "-+.0123456789" or (floating is not None and floating.end() > at)


def _string(source: _Source) -> str:
    match = _STRING.match(source.text, source.at)
    if match is None:
        raise ConfigSyntaxError(f"{source.where()}: string not closed on its line")
    raw = match.group()
    try:
        value = json.loads(raw)  # JSON's escapes; strict: no raw control characters
    except json.JSONDecodeError as exc:
        raise ConfigSyntaxError(f"{source.where()}: bad string {raw}: {exc.msg.lower()}") from None
    source.advance(match.end())
    return str(value)


def _number(text: str, at: int, where: str) -> tuple[int | float, int]:
    # Kea's lexer takes the longer of its integer and float patterns, the integer on a tie
    integer = _INT.match(text, at)
    floating = _FLOAT.match(text, at)
    int_end = integer.end() if integer else at
    float_end = floating.end() if floating else at
    if int_end >= float_end and integer:
        value = int(integer.group())
        if not _INT64_MIN <= value <= _INT64_MAX:
            raise ConfigSyntaxError(f"{where}: failed to convert {integer.group()} to an integer")
        return value, int_end
    spelled = text[at:float_end] or text[at]
    try:
        number = float(spelled)
    except ValueError:
        number = float("nan")
    if number != number or number in (float("inf"), float("-inf")):
        raise ConfigSyntaxError(f"{where}: failed to convert {spelled} to a floating point")
    return number, max(float_end, at + 1)


class _Parser:
    def __init__(self, tokens: Iterator[_Token], name: str) -> None:
        self.tokens = tokens
        self.name = name
        self.warnings: list[str] = []
        self.token: _Token | None = None
        self._next()

    def _next(self) -> None:
        self.token = next(self.tokens, None)

    def _unexpected(self, expecting: str) -> ConfigSyntaxError:
        token = self.token
        if token is None:
            return ConfigSyntaxError(f"{self.name}: unexpected end of file, expecting {expecting}")
        shown = json.dumps(token.value) if token.kind == "value" else f'"{token.kind}"'
        return ConfigSyntaxError(f"{token.where}: syntax error, unexpected {shown}, expecting {expecting}")

    def document(self) -> Any:
        value = self.value("a value")
        if self.token is not None:
            raise self._unexpected("the end of the file")
        return value

    def value(self, expecting: str, key: str = "") -> Any:
        token = self.token
        if token is None:
            raise self._unexpected(expecting)
        if token.kind == "value":
            self._next()
            return token.value
        if token.kind == "{":
            return self.map(key)
        if token.kind == "[":
            return self.list(key)
        raise self._unexpected(expecting)

    def _extra_commas(self) -> None:
        while self.token is not None and self.token.kind == ",":
            self.warnings.append(f"{self.token.where}: extraneous comma; a piece of configuration may have been omitted")
            self._next()

    def _closed_after_item(self, close: str, last: str) -> bool:
        """After an entry or element: a comma and the next one (False), or the closing bracket
        (True), which an extra comma may precede (Kea warns about it and goes on)."""
        if self.token is not None and self.token.kind == ",":
            comma = self.token
            self._next()
            self._extra_commas()
            if self.token is None or self.token.kind != close:
                return False
            self.warnings.append(f"{comma.where}: extraneous comma after {last}; "
                                 "a piece of configuration may have been omitted")
        elif self.token is None or self.token.kind != close:
            raise self._unexpected(f'"," or "{close}"')
        self._next()
        return True

    def map(self, name: str) -> dict[str, Any]:
        self._next()  # "{"
        result: dict[str, Any] = {}
        seen: dict[str, str] = {}
        if self.token is not None and self.token.kind == "}":
            self._next()
            return result
        while True:
            token = self.token
            if token is None or token.kind != "value" or not isinstance(token.value, str):
                raise self._unexpected("a key string")
            key = token.value
            if key in seen:
                raise ConfigSyntaxError(f"{token.where}: duplicate {key} entries in {name or 'JSON'} map "
                                        f"(previous at {seen[key]})")
            seen[key] = token.where
            self._next()
            if self.token is None or self.token.kind != ":":
                raise self._unexpected('":"')
            self._next()
            result[key] = self.value("a value", key)
            if self._closed_after_item("}", f"the last entry of {name or 'a'} map"):
                return result

    def list(self, name: str) -> list[Any]:
        self._next()  # "["
        result: list[Any] = []
        if self.token is not None and self.token.kind == "]":
            self._next()
            return result
        while True:
            result.append(self.value("a value", name))
            if self._closed_after_item("]", f"the last element of {name or 'a'} list"):
                return result


def parse(text: str, name: str = "<config>") -> tuple[Any, list[str]]:
    """The value of a configuration file's text, and the warnings Kea would log reading it."""
    parser = _Parser(_tokens(text, name), name)
    return parser.document(), parser.warnings
