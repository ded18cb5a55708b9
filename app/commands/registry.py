"""The command registry: one table from command names to handlers.

`list-commands`, the documentation generator and the dispatcher all read this table, so a
command exists in exactly one place.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from app.commands.context import CommandContext

Handler = Callable[["CommandContext"], Awaitable[dict[str, Any]]]

# Where a command runs. "agent": the control agent itself (no `service`); "daemon": a DHCP
# family (`service: ["dhcp4"]`), like kea-dhcp4/kea-dhcp6; both: either.
AGENT = "agent"
DAEMON = "daemon"
BOTH = "both"


@dataclass(frozen=True)
class CommandSpec:
    name: str
    handler: Handler
    where: str
    summary: str
    # the family a lease command is about (4 or 6); None for family-neutral commands
    family: int | None = None
    mutates: bool = False
    # commands an HA partner sends; used by permissions and `restrict-commands`
    ha_peer: bool = False
    arguments: dict[str, str] = field(default_factory=dict)
    # a family command that the local Kea answers when a control socket to it is configured
    forward_first: bool = False


class Registry:
    def __init__(self) -> None:
        self._commands: dict[str, CommandSpec] = {}

    def command(self, name: str, *, where: str, summary: str, family: int | None = None, mutates: bool = False,
                ha_peer: bool = False, arguments: dict[str, str] | None = None,
                forward_first: bool = False) -> Callable[[Handler], Handler]:
        def register(handler: Handler) -> Handler:
            if name in self._commands:
                raise ValueError(f"command {name} registered twice")
            self._commands[name] = CommandSpec(name, handler, where, summary, family, mutates, ha_peer, arguments or {},
                                               forward_first)
            return handler

        return register

    def get(self, name: str) -> CommandSpec | None:
        return self._commands.get(name)

    def names(self, where: str) -> list[str]:
        return sorted(n for n, s in self._commands.items() if s.where in (where, BOTH))

    def all(self) -> list[CommandSpec]:
        return [self._commands[n] for n in sorted(self._commands)]


registry = Registry()
