"""Commands of the agent and of each family that are not about leases: list-commands,
version-get, build-report, status-get, config-*, shutdown, dhcp-disable/dhcp-enable."""

from __future__ import annotations

import asyncio
import copy
import json
import os
import platform
import time
from pathlib import Path
from typing import Any

import sqlalchemy

from app import KEA_COMPAT_VERSION, __version__
from app.commands import stats
from app.commands.context import CommandContext
from app.commands.registry import AGENT, BOTH, DAEMON, registry
from app.config import (
    REDACTED,
    SECRET_KEYS,
    Config,
    agent_section_of,
    kea_config_test,
    load_config,
    parse_agent,
    parse_config,
    redact,
)
from app.errors import (
    ARGUMENTS_NOT_A_MAP,
    RESULT_EMPTY,
    RESULT_ERROR,
    RESULT_SUCCESS,
    CommandError,
    ConfigError,
    answer,
    not_a_map,
)
from app.kea_defaults import control_agent_config, running_config


@registry.command("list-commands", where=BOTH, summary="The commands this agent or family accepts.")
async def list_commands(ctx: CommandContext) -> dict[str, Any]:
    return answer(RESULT_SUCCESS, arguments=registry.names(AGENT if ctx.service is None else DAEMON))


def _extended() -> str:
    return (
        f"{KEA_COMPAT_VERSION}\nleasesync {__version__} (Kea {KEA_COMPAT_VERSION} control channel)\n"
        f"Python {platform.python_version()}\nSQLAlchemy {sqlalchemy.__version__}\n"
    )


@registry.command("version-get", where=BOTH, summary="The Kea version leasesync answers as, and its own version.")
async def version_get(ctx: CommandContext) -> dict[str, Any]:
    return answer(RESULT_SUCCESS, KEA_COMPAT_VERSION, {"extended": _extended()})


@registry.command("build-report", where=BOTH, summary="How this leasesync was built.")
async def build_report(ctx: CommandContext) -> dict[str, Any]:
    text = (
        f"leasesync {__version__}\nKea-compatible control channel: {KEA_COMPAT_VERSION}\n"
        f"Python: {platform.python_version()} ({platform.python_implementation()})\n"
        f"SQLAlchemy: {sqlalchemy.__version__}\nLease backends: sqlite, postgresql, mysql\n"
    )
    return answer(RESULT_SUCCESS, text)


def _reload_key(ctx: CommandContext) -> int | None:
    """Whose configuration a command is about: the family it was sent to, None for the agent."""
    return ctx.family.family if ctx.service is not None and ctx.family is not None else None


@registry.command("status-get", where=BOTH, summary="Process status; for a family also its HA state.")
async def status_get(ctx: CommandContext) -> dict[str, Any]:
    runtime = ctx.runtime
    now = time.time()
    arguments: dict[str, Any] = {
        "pid": os.getpid(),
        "reload": int(now - runtime.reloads.get(_reload_key(ctx), runtime.started)),
        "uptime": int(now - runtime.started),
    }
    if ctx.service is not None and ctx.family is not None:
        arguments["multi-threading-enabled"] = False
        arguments["sockets"] = {"status": "ready"}
        ha = runtime.ha.get(ctx.family.family)
        if ha is not None:
            arguments["high-availability"] = ha.status()
    return answer(RESULT_SUCCESS, arguments=arguments)


def _section(ctx: CommandContext) -> tuple[str, dict[str, Any]]:
    if ctx.service is None:
        name = ctx.runtime.config.agent_section
        return name, ctx.runtime.config.raw.get(name, {})
    assert ctx.family is not None
    name = f"Dhcp{ctx.family.family}"
    return name, ctx.runtime.config.raw.get(name, {})


@registry.command("config-get", where=BOTH, summary="The running configuration, secrets redacted.")
async def config_get(ctx: CommandContext) -> dict[str, Any]:
    name, section = _section(ctx)
    if ctx.family is not None:
        # a family answers like its Kea daemon: the given configuration with Kea's defaults filled in
        section = running_config(ctx.family.config)
        counted = stats.counted(ctx.family)
        if counted is not None:  # statistic-sample-*-set-all change Kea's running defaults too
            section.update(counted.set_defaults)
    elif name == "Control-agent":  # leasesync in kea-ctrl-agent's place answers as it did
        section = control_agent_config(section)
    return answer(RESULT_SUCCESS, arguments={name: redact(copy.deepcopy(section))})


def _given_configuration(ctx: CommandContext) -> tuple[str, dict[str, Any]]:
    """config-test / config-set: the name of the section they are about and their arguments,
    past Kea's checks of them (a family answers as Kea's daemon does first; leasesync's parser,
    which refuses what leasesync cannot run, comes after)."""
    if not ctx.has_arguments:
        raise CommandError("Missing mandatory 'arguments' parameter.")
    args = ctx.args_map
    if args is None:
        raise not_a_map(ARGUMENTS_NOT_A_MAP)
    name, _ = _section(ctx)
    if ctx.family is not None:
        refusal = kea_config_test(args, ctx.family.family, raw_utf8=ctx.origin.raw_utf8)
        if refusal is not None:
            raise refusal
    elif name not in args:
        raise CommandError(f"Missing mandatory '{name}' parameter.")
    elif not isinstance(args[name], dict):
        raise CommandError(f"'{name}' parameter expected to be a map.")
    return name, args


@registry.command("config-test", where=BOTH, summary="Check a configuration without applying it.")
async def config_test(ctx: CommandContext) -> dict[str, Any]:
    name, args = _given_configuration(ctx)
    try:
        if ctx.family is None:
            parse_agent(args[name], name)
        else:
            parse_config({name: args[name]}, ctx.runtime.config.path)
    except ConfigError as exc:
        return answer(RESULT_ERROR, str(exc))
    if ctx.family is None:
        return answer(RESULT_SUCCESS, "Configuration check successful")  # kea-ctrl-agent's words
    return answer(RESULT_SUCCESS, "Configuration seems sane. Control-socket, hook-libraries, and D2 configuration were sanity checked, but not applied.")


@registry.command("config-reload", where=BOTH,
                  summary="Re-read the configuration file; apply the section of the daemon it is sent to.")
async def config_reload(ctx: CommandContext) -> dict[str, Any]:
    """As each Kea daemon reloads only its own section: sent to dhcp4, the file's Dhcp4 is applied
    and nothing else; sent to the agent (no service), its LeaseSync section (whose listener settings
    apply at the next start). The whole file must still be valid, as it must be for a restart."""
    runtime = ctx.runtime
    path = runtime.config.path
    if path is None:
        raise CommandError("Config reload failed: no configuration file (started without -c)")
    try:
        new = load_config(path)
    except ConfigError as exc:
        return answer(RESULT_ERROR, f"Config reload failed: {exc}")
    return _apply(ctx, new, "Config reload failed")


def _apply(ctx: CommandContext, new: Config, failed: str) -> dict[str, Any]:
    """Make `new` the running configuration for the section `ctx` is about (config-reload,
    config-set): a family's Dhcp4/Dhcp6, or the agent's own sections."""
    runtime = ctx.runtime
    path = runtime.config.path
    target = _reload_key(ctx)
    running = ctx.family if target is not None else None
    if running is not None and target is not None:
        fresh = new.family(target)
        if fresh is None or fresh.lease_database != running.config.lease_database:
            return answer(RESULT_ERROR, f"{failed}: changing the Dhcp{target} lease-database or removing "
                          "the family needs a restart")
        if (fresh.ha is None) != (running.config.ha is None) or (fresh.ha is not None and fresh.ha != running.config.ha):
            return answer(RESULT_ERROR, f"{failed}: changing Dhcp{target} high-availability needs a restart")
        running.config = fresh
        runtime.foreign_views.clear()
        section = f"Dhcp{target}"
        raw = {**runtime.config.raw, section: new.raw[section]}
        families = {f: fresh if f == target else runtime.config.family(f) for f in (4, 6)}
    else:
        # the agent's own sections
        raw = {key: value for key, value in new.raw.items() if key not in ("Dhcp4", "Dhcp6")}
        raw.update({key: runtime.config.raw[key] for key in ("Dhcp4", "Dhcp6") if key in runtime.config.raw})
        families = {4: runtime.config.dhcp4, 6: runtime.config.dhcp6}
    # listener settings apply at the next start only
    runtime.config = Config(agent=runtime.config.agent, dhcp4=families[4], dhcp6=families[6], raw=raw, path=path,
                            agent_section=agent_section_of(raw))
    runtime.reloads[target] = time.time()
    # the daemons' wording; leasesync's own (no service) keeps its own
    return answer(RESULT_SUCCESS, "Configuration successful." if ctx.service else "Configuration applied successfully.")


def _unredacted(given: Any, running: Any) -> Any:
    """`given` with every redacted secret (as config-get shows it) replaced by the running value at
    the same place, so that config-get, edit, config-set keeps the secrets."""
    if isinstance(given, dict):
        running_map = running if isinstance(running, dict) else {}
        return {key: (running_map[key] if key in SECRET_KEYS and value == REDACTED and key in running_map
                      else _unredacted(value, running_map.get(key))) for key, value in given.items()}
    if isinstance(given, list):
        running_list = running if isinstance(running, list) else []
        return [_unredacted(value, running_list[i] if i < len(running_list) else None) for i, value in enumerate(given)]
    return given


@registry.command("config-set", where=BOTH, forward_first=True,
                  summary="Apply the configuration in the arguments: a family's Dhcp4/Dhcp6, or the agent's LeaseSync.")
async def config_set(ctx: CommandContext) -> dict[str, Any]:
    """As Kea's config-set: the section is checked as config-test checks it, then applied as
    config-reload applies the file's (the file is not written: config-write does that). With a
    control socket to the family's local Kea the command reconfigures that Kea instead, as it did
    through kea-ctrl-agent: Kea's own configuration is what serves DHCP there."""
    name, args = _given_configuration(ctx)
    if not isinstance(args[name], dict):  # the agent's (a family's is one of Kea's checks)
        raise CommandError(f"'{name}' parameter expected to be a map.")
    _, running_section = _section(ctx)
    runtime = ctx.runtime
    section = _unredacted(copy.deepcopy(args[name]), running_section)
    try:
        if ctx.family is None:
            parse_agent(section, name)
        new = parse_config({**runtime.config.raw, name: section}, runtime.config.path)
    except ConfigError as exc:
        return answer(RESULT_ERROR, str(exc))
    return _apply(ctx, new, "Config set failed")


@registry.command("config-backend-pull", where=DAEMON, forward_first=True,
                  summary="Pull configuration changes from the configuration backends (there are none here).")
async def config_backend_pull(ctx: CommandContext) -> dict[str, Any]:
    """Kea's answer without `config-control`: nothing to pull. leasesync reads no configuration
    backend; a `config-control` pasted from Kea's configuration is accepted but not used, which
    this says instead of pretending to pull (beside a local Kea the command goes to Kea)."""
    assert ctx.family is not None
    if ctx.family.config.raw.get("config-control"):
        raise CommandError("leasesync does not read configuration backends: 'config-control' is not used; send "
                           "config-backend-pull to the Kea daemon that has them")
    return answer(RESULT_EMPTY, "No config backend.")


@registry.command("config-write", where=BOTH, summary="Write the running configuration to a file.",
                  arguments={"filename": "string: the file to write; default: the file `serve` was started with"})
async def config_write(ctx: CommandContext) -> dict[str, Any]:
    runtime = ctx.runtime
    args = _map_arguments(ctx, "Argument must be a map")
    filename = args.get("filename")
    if "filename" in args and not isinstance(filename, str):
        raise CommandError("passed parameter 'filename' is not a string")
    if not filename:
        if runtime.config.path is None:
            raise CommandError("Unable to determine filename. Please specify 'filename' parameter.")
        filename = str(runtime.config.path)
    text = json.dumps(runtime.config.raw, indent=2, sort_keys=True)
    path = Path(filename)
    tmp = path.with_name(path.name + ".tmp")
    try:
        tmp.write_text(text)
        os.replace(tmp, path)
    except OSError:
        tmp.unlink(missing_ok=True)  # e.g. `filename` is a directory: leave nothing behind
        return answer(RESULT_ERROR, f"Error during write-config:Unable to open file {filename} for writing")
    return answer(RESULT_SUCCESS, f"Configuration written to {filename} successful", {"filename": filename, "size": len(text)})


@registry.command("shutdown", where=BOTH, summary="Stop the service after answering.",
                  arguments={"exit-value": "integer: the exit status of `leasesync serve` (0-255, as the C "
                                           "library truncates it; default 0)"})
async def shutdown(ctx: CommandContext) -> dict[str, Any]:
    """Kea's `shutdown`: `exit-value` (an integer) becomes the process's exit status; bad
    arguments are refused and nothing stops (both measured against Kea 2.2, agent and daemon)."""
    args = _map_arguments(ctx, "Argument must be a map")
    if "exit-value" in args:
        exit_value = args["exit-value"]
        if isinstance(exit_value, bool) or not isinstance(exit_value, int):
            raise CommandError("parameter 'exit-value' is not an integer")
        ctx.runtime.exit_value = exit_value
    stop = ctx.runtime.shutdown_requested
    if stop is not None:
        asyncio.get_running_loop().call_later(0.05, lambda: asyncio.ensure_future(stop()))
    return answer(RESULT_SUCCESS, "Control Agent is shutting down" if ctx.service is None else "Shutting down.")


def _map_arguments(ctx: CommandContext, refusal: str) -> dict[str, Any]:
    """A command's arguments when they may be absent (then {}) but, when given, must be a map
    (else `refusal`, in the command's own words; `null` counts as given, as in Kea)."""
    if ctx.has_arguments and not isinstance(ctx.arguments, dict):
        raise CommandError(refusal)
    return ctx.args_map or {}


def _service_arguments(ctx: CommandContext) -> dict[str, Any]:
    """dhcp-disable / dhcp-enable arguments: absent, or a map."""
    return _map_arguments(ctx, f"arguments for the '{ctx.command}' command must be a map")


def _origin(args: dict[str, Any], errors: list[str]) -> str:
    origin = args.get("origin", "user")
    if not isinstance(origin, str):
        errors.append("'origin' argument must be a string")
    elif origin not in ("user", "ha-partner"):
        errors.append(f"invalid value used for 'origin' parameter: {origin or '(empty string)'}")
    return origin


def _raise_all(errors: list[str]) -> None:
    # Kea checks every argument and answers all its complaints, one after the other, unseparated
    if errors:
        raise CommandError("".join(errors))


@registry.command("dhcp-disable", where=DAEMON, ha_peer=True,
                  summary="Pause the family's DHCP service (max-period seconds), per origin.")
async def dhcp_disable(ctx: CommandContext) -> dict[str, Any]:
    assert ctx.family is not None
    args = _service_arguments(ctx)
    errors: list[str] = []
    max_period = None
    if "max-period" in args:
        max_period = args["max-period"]
        if isinstance(max_period, bool) or not isinstance(max_period, int):
            errors.append("'max-period' argument must be a number")
        elif max_period <= 0:
            errors.append("'max-period' must be positive integer")
    origin = _origin(args, errors)
    _raise_all(errors)
    ctx.family.dhcp.disable(origin, max_period)
    ha = ctx.runtime.ha.get(ctx.family.family)
    if ha is not None and origin == "ha-partner":
        ha.partner_dhcp_disable(max_period)  # the partner syncs from us: the HA core pauses service
    forwarder = ctx.runtime.forwarder
    if forwarder is not None and forwarder.has(ctx.family.service):
        # the local Kea serves DHCP: it must really stop while a partner syncs from us
        upstream = await forwarder.forward(ctx.family.service, {"command": "dhcp-disable", "arguments": args,
                                                                "service": [ctx.family.service]})
        if upstream.get("result") != RESULT_SUCCESS:
            return upstream
    text = f"DHCPv{ctx.family.family} service disabled"
    if max_period:
        text += f" for {max_period} seconds"
    return answer(RESULT_SUCCESS, text)


@registry.command("dhcp-enable", where=DAEMON, ha_peer=True, summary="Resume the family's DHCP service for an origin.")
async def dhcp_enable(ctx: CommandContext) -> dict[str, Any]:
    assert ctx.family is not None
    args = _service_arguments(ctx)
    errors: list[str] = []
    origin = _origin(args, errors)
    _raise_all(errors)
    ctx.family.dhcp.enable(origin)
    ha = ctx.runtime.ha.get(ctx.family.family)
    if ha is not None and origin == "ha-partner":
        ha.partner_dhcp_enable()
    forwarder = ctx.runtime.forwarder
    if forwarder is not None and forwarder.has(ctx.family.service):
        upstream = await forwarder.forward(ctx.family.service, {"command": "dhcp-enable", "arguments": args,
                                                                "service": [ctx.family.service]})
        if upstream.get("result") != RESULT_SUCCESS:
            return upstream
    return answer(RESULT_SUCCESS, "DHCP service successfully enabled")


@registry.command("server-tag-get", where=DAEMON, summary="The server tag (always empty: no config backend).")
async def server_tag_get(ctx: CommandContext) -> dict[str, Any]:
    return answer(RESULT_SUCCESS, arguments={"server-tag": ""})
