"""Command families; importing this package registers every command in the registry."""

from app.commands import leases, reclaim, server, stat_cmds, stats  # noqa: F401

try:  # the HA commands live beside the HA service
    from app.ha import commands as _ha_commands  # type: ignore[attr-defined]  # noqa: F401
except ImportError:  # pragma: no cover - HA package not present
    pass
