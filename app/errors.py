"""Typed errors that carry their Kea answer.

Handlers raise `CommandError` from anywhere; the dispatcher turns it into Kea's
answer map at the edge, so no handler builds error answers by hand.
"""

from __future__ import annotations

from typing import Any

from app.kea_json import ENVELOPE, client_suffix, wire_suffix

RESULT_SUCCESS = 0
RESULT_ERROR = 1
RESULT_UNSUPPORTED = 2
RESULT_EMPTY = 3


class ConfigError(Exception):
    """A configuration problem, with the JSON path of the offending key."""

    def __init__(self, message: str, path: str = "") -> None:
        super().__init__(f"{path}: {message}" if path else message)
        self.message = message
        self.path = path


class DatabaseOpenError(Exception):
    """A lease database could not be opened or brought up to date at start-up; the text names the
    database (password redacted) and the reason its server or driver gave."""


class CommandError(Exception):
    """A command failed with a Kea result code and text (result 1 unless said otherwise)."""

    def __init__(self, text: str, result: int = RESULT_ERROR, arguments: Any = None, *,
                 at: tuple[Any, Any] | None = None, separator: str = " ",
                 also_at: tuple[Any, Any] | None = None, form: str = "({})") -> None:
        super().__init__(text)
        self.text = text
        self.result = result
        self.arguments = arguments
        # the request element the error is about, as (container, key) or (element, None): Kea names
        # it by its position in the command it received (`app.kea_json.wire_position`)
        self.at = at
        self.separator = separator
        # a second element Kea names after the first (a shared network around a subnet's error)
        self.also_at = also_at
        self.form = form  # how the position follows the text (app.kea_json.wire_suffix)

    def answer(self, envelope: Any = None, raw_utf8: bool = False) -> dict[str, Any]:
        """The answer map; given the envelope a daemon received through kea-ctrl-agent, the text
        ends with Kea's position of the element the error is about (`raw_utf8`: the client sent
        non-ASCII characters as raw UTF-8)."""
        text = self.text
        if envelope is not None and self.at is not None:
            text += wire_suffix(envelope, *self.at, separator=self.separator, raw=raw_utf8, form=self.form)
            if self.also_at is not None:
                text += wire_suffix(envelope, *self.also_at, raw=raw_utf8)
        return answer(self.result, text, self.arguments)

    def answer_as_agent(self, envelope: Any, body: bytes) -> dict[str, Any]:
        """The answer map of a command kea-ctrl-agent answers itself: its text ends with the
        element's line and column in the client's bytes (`body`), which the agent parsed."""
        text = self.text
        if self.at is not None:
            text += client_suffix(body, envelope, *self.at, separator=self.separator)
        return answer(self.result, text, self.arguments)


# Kea's Element accessors used on the wrong element type: commands' arguments and configurations
# alike; the position of the element follows "in" (`... Element in (<wire>:0:16)`)
NOT_A_MAP_GET = "get(string) called on a non-map Element in"
NOT_A_MAP_CONTAINS = "contains(string) called on a non-map Element in"
NOT_A_MAP_VALUE = "mapValue() called on non-map Element in"
NOT_A_LIST = "listValue() called on non-list Element in"
NOT_A_STRING = "stringValue() called on non-string Element in"
NOT_AN_INTEGER = "intValue() called on non-integer Element in"
NOT_A_BOOL = "boolValue() called on non-Bool Element in"
# what Kea's daemons answer when a handler's arguments are not a map
ARGUMENTS_NOT_A_MAP = "Error during command processing: " + NOT_A_MAP_GET


def not_a_map(text: str, container: Any = ENVELOPE, key: Any = "arguments") -> CommandError:
    """A Kea Element accessor used on `container[key]` (by default the command's arguments), which
    is not a map (`... Element in (<wire>:0:16)`)."""
    return CommandError(text, at=(container, key))


class StoreUnavailable(Exception):
    """The lease database could not be reached (or timed out); nothing was changed."""


class StoreRejected(Exception):
    """The lease database refused a value of this change (e.g. a number its column cannot hold);
    nothing was changed, and the other changes committed with it are not affected."""


class StoreOutcomeUnknown(StoreUnavailable):
    """The database did not confirm a commit in time: the change may or may not have been applied."""


def answer(result: int, text: str | None = None, arguments: Any = None) -> dict[str, Any]:
    """Build one Kea answer map; `text`/`arguments` are omitted when None, as Kea does."""
    out: dict[str, Any] = {"result": result}
    if text is not None:
        out["text"] = text
    if arguments is not None:
        out["arguments"] = arguments
    return out
