"""The HA hook's commands (ha-heartbeat, ha-sync, ha-scopes, ha-continue, ha-maintenance-*,
ha-reset, ha-sync-complete-notify), answered by the family's HA service."""

from __future__ import annotations

from typing import Any

from app.commands.context import CommandContext
from app.commands.registry import DAEMON, registry
from app.errors import RESULT_UNSUPPORTED, answer


def _ha(ctx: CommandContext) -> Any:
    assert ctx.family is not None
    return ctx.runtime.ha.get(ctx.family.family)


async def _unsupported(ctx: CommandContext) -> dict[str, Any]:
    """No HA relationship here: a local Kea behind a control socket may run the HA hook itself."""
    forwarder = ctx.runtime.forwarder
    if forwarder is not None and ctx.service is not None and forwarder.has(ctx.service):
        envelope: dict[str, Any] = {"command": ctx.command, "service": [ctx.service]}
        if ctx.has_arguments:
            envelope["arguments"] = ctx.arguments
        result: dict[str, Any] = await forwarder.forward(ctx.service, envelope)
        return result
    return answer(RESULT_UNSUPPORTED, f"'{ctx.command}' command not supported.")


@registry.command("ha-heartbeat", where=DAEMON, ha_peer=True, summary="The HA state, scopes and clock of this server.")
async def ha_heartbeat(ctx: CommandContext) -> dict[str, Any]:
    ha = _ha(ctx)
    return ha.heartbeat_answer() if ha is not None else await _unsupported(ctx)


async def _admin(ctx: CommandContext) -> dict[str, Any]:
    ha = _ha(ctx)
    if ha is None:
        return await _unsupported(ctx)
    return await ha.admin(ctx.command, ctx.arguments)


@registry.command("ha-sync", where=DAEMON, summary="Fetch all leases from the partner now (server-name, max-period).",
                  arguments={"server-name": "string, mandatory", "max-period": "seconds, optional"})
async def ha_sync(ctx: CommandContext) -> dict[str, Any]:
    return await _admin(ctx)


@registry.command("ha-scopes", where=DAEMON, summary="Set the scopes this server serves.",
                  arguments={"scopes": "list of server names"})
async def ha_scopes(ctx: CommandContext) -> dict[str, Any]:
    return await _admin(ctx)


@registry.command("ha-continue", where=DAEMON, summary="Resume a paused HA state machine.")
async def ha_continue(ctx: CommandContext) -> dict[str, Any]:
    return await _admin(ctx)


@registry.command("ha-reset", where=DAEMON, ha_peer=True, summary="Return the HA state machine to waiting (resync).")
async def ha_reset(ctx: CommandContext) -> dict[str, Any]:
    return await _admin(ctx)


@registry.command("ha-maintenance-start", where=DAEMON, summary="Put the partner in maintenance; this server serves all.")
async def ha_maintenance_start(ctx: CommandContext) -> dict[str, Any]:
    return await _admin(ctx)


@registry.command("ha-maintenance-cancel", where=DAEMON, summary="End the maintenance started here.")
async def ha_maintenance_cancel(ctx: CommandContext) -> dict[str, Any]:
    return await _admin(ctx)


@registry.command("ha-maintenance-notify", where=DAEMON, ha_peer=True,
                  summary="Sent by the partner: enter (cancel false) or leave (cancel true) in-maintenance.",
                  arguments={"cancel": "boolean, mandatory"})
async def ha_maintenance_notify(ctx: CommandContext) -> dict[str, Any]:
    ha = _ha(ctx)
    if ha is None:
        return await _unsupported(ctx)
    return ha.maintenance_notify(ctx.arguments if ctx.has_arguments else None)


@registry.command("ha-sync-complete-notify", where=DAEMON, ha_peer=True,
                  summary="Sent by the partner after it synced from this server: resume DHCP service.")
async def ha_sync_complete_notify(ctx: CommandContext) -> dict[str, Any]:
    ha = _ha(ctx)
    return ha.sync_complete_notify() if ha is not None else await _unsupported(ctx)
