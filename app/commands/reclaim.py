"""Kea's reclamation of expired leases: the `leases-reclaim` command (the work and the periodic
timers are in app/reclaim.py).

A lease whose expiry has passed and that is not yet expired-reclaimed is reclaimed as Kea 2.2
reclaims it: a declined lease is deleted, any other one is deleted with `"remove": true`, else
set to expired-reclaimed with its hostname and FQDN flags cleared (the rest stays, so a client
that returns finds its old lease). The statistics move as Kea's do (`FamilyStats.reclaimed`).

Reclaimed leases are not sent to HA partners: each server of a Kea HA pair reclaims its own
database. leasesync has no DHCP-DDNS client, so no DNS removal is queued for a lease with FQDN
flags (Kea would queue one when `dhcp-ddns` updates are enabled).

With a `control-sockets` entry for the family the command goes to the local Kea instead
(`forward_first`): the Kea that serves the clients owns its reclamation, its DNS removals and
its statistics.
"""

from __future__ import annotations

from typing import Any

from app.commands.context import CommandContext
from app.commands.registry import DAEMON, registry
from app.errors import ARGUMENTS_NOT_A_MAP, RESULT_SUCCESS, CommandError, answer, not_a_map
from app.reclaim import reclaim_all


@registry.command("leases-reclaim", where=DAEMON, forward_first=True, mutates=True,
                  summary="Reclaim the family's expired leases now (remove: delete them instead of keeping "
                          "them as expired-reclaimed).")
async def leases_reclaim(ctx: CommandContext) -> dict[str, Any]:
    assert ctx.family is not None, "leases-reclaim is always routed to a family"
    if not ctx.has_arguments:
        raise CommandError("Missing mandatory 'remove' parameter.")
    args = ctx.args_map
    if args is None:
        raise not_a_map(ARGUMENTS_NOT_A_MAP)
    if "remove" not in args:
        raise CommandError("Missing mandatory 'remove' parameter.")
    remove = args["remove"]
    if not isinstance(remove, bool):
        raise CommandError("'remove' parameter expected to be a boolean.")
    await reclaim_all(ctx.runtime, ctx.family, remove)
    return answer(RESULT_SUCCESS, "Reclamation of expired leases is complete.")
