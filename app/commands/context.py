"""What a command handler gets: its arguments, the family it addresses, and who sent it."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from app.sentinels import MISSING

if TYPE_CHECKING:
    from app.runtime import FamilyRuntime, Runtime


@dataclass
class RequestOrigin:
    """Who sent a request: the HTTP client and, when authenticated, its user name."""

    remote: str = ""
    user: str | None = None
    # set by the HA layer when the request is known to come from an HA peer
    peer_name: str | None = None
    # the request's bytes held non-ASCII characters unescaped (Kea counts a character up to U+00FF
    # as two bytes then, as one when the client sent `\u00XX`)
    raw_utf8: bool = False

    @property
    def from_partner(self) -> bool:
        return self.peer_name is not None


@dataclass
class CommandContext:
    runtime: Runtime
    command: str
    arguments: Any  # MISSING when the envelope had no "arguments"
    family: FamilyRuntime | None = None
    origin: RequestOrigin = field(default_factory=RequestOrigin)
    service: str | None = None  # "dhcp4"/"dhcp6" when addressed to a family, None for the agent

    @property
    def has_arguments(self) -> bool:
        return self.arguments is not MISSING

    @property
    def args_map(self) -> dict[str, Any] | None:
        return self.arguments if isinstance(self.arguments, dict) else None
