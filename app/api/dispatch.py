"""Routing a command envelope the way kea-ctrl-agent does, and running its handlers.

No `service` (or an empty list): the agent answers itself. `service: ["dhcp4", ...]`: each
family answers in turn, one answer per entry. Family commands that can mean only one family
(`lease4-*`, `lease6-*`, `ha-*`) are also accepted without `service`, as Kea 3.x daemons do.
Whatever leasesync does not implement for a family is forwarded to the local Kea daemon when a
control socket for it is configured.
"""

from __future__ import annotations

import logging
import time
from typing import Any

from app import kea_json
from app.commands.context import CommandContext, RequestOrigin
from app.commands.registry import AGENT, DAEMON, registry
from app.errors import (
    NOT_A_STRING,
    RESULT_ERROR,
    RESULT_UNSUPPORTED,
    CommandError,
    StoreOutcomeUnknown,
    StoreRejected,
    StoreUnavailable,
    answer,
)
from app.runtime import Runtime
from app.sentinels import MISSING

log = logging.getLogger("leasesync.api")

_ENVELOPE_KEYS = {"command", "arguments", "service", "remote-address"}

# The envelope of a request with an empty body (a JSON `null` body is a non-map envelope).
EMPTY_BODY: Any = object()

_NO_SERVICE_TEXT = (
    "'{cmd}' command not supported. You did not include \"service\" parameter in the command, which indicates "
    "that Kea Control Agent should process this command rather than forward it to one or more Kea servers. If "
    "you aimed to send this command to one of the Kea servers you should include the \"service\" parameter in "
    "your request, e.g. \"service\": [ \"dhcp4\" ] to forward the command to the DHCPv4 server, or \"service\": "
    "[ \"dhcp4\", \"dhcp6\", \"d2\" ] to forward it to DHCPv4, DHCPv6 and D2 servers etc."
)


def _processing_error(text: str) -> list[dict[str, Any]]:
    return [answer(RESULT_ERROR, f"Error during command processing: {text}")]


def implied_family(command: str) -> int | None:
    """The family a command can only mean, for envelopes without `service`."""
    spec = registry.get(command)
    if spec is not None and spec.family is not None:
        return spec.family
    if command.startswith("ha-"):
        return None
    return None


async def dispatch(runtime: Runtime, envelope: Any, origin: RequestOrigin,
                   body: bytes | None = None) -> list[dict[str, Any]]:
    """Answer one parsed request body (`body`: its bytes, when at hand) with Kea's list of answer maps."""
    if envelope is EMPTY_BODY:
        return [answer(RESULT_ERROR, "Command processing failed: NULL command parameter")]
    if not isinstance(envelope, dict):
        return _processing_error("Invalid command Element specified, expected map")
    if "command" not in envelope:
        return _processing_error("Invalid answer specified, does not contain mandatory 'command'")
    for key in envelope:
        if key not in _ENVELOPE_KEYS:
            return _processing_error(f"Received command contains unsupported parameter '{key}'")
    command = envelope["command"]
    if not isinstance(command, str):
        return _processing_error("'command' element in command message is not a string")
    arguments = envelope.get("arguments", MISSING)
    services = envelope.get("service", MISSING)
    if body is not None and not body.isascii():
        origin.raw_utf8 = True
    if services is not MISSING:
        if not isinstance(services, list):
            return [answer(RESULT_ERROR, "service value must be a list")]
        wrong = next((i for i, s in enumerate(services) if not isinstance(s, str)), None)
        if wrong is not None:
            # kea-ctrl-agent's own parser names the entry by its line and column in the client's bytes
            suffix = kea_json.client_suffix(body, envelope, services, wrong) if body is not None else ""
            return _processing_error(f"{NOT_A_STRING}{suffix}")
    if services is MISSING or not services:
        return [await _run_agent(runtime, command, arguments, origin, envelope, body)]
    return [await _run_service(runtime, service, command, arguments, origin, envelope, via_agent=True, body=body)
            for service in services]


async def _run_agent(runtime: Runtime, command: str, arguments: Any, origin: RequestOrigin,
                     envelope: dict[str, Any], body: bytes | None = None) -> dict[str, Any]:
    spec = registry.get(command)
    if spec is not None and spec.where in (AGENT, "both"):
        return await _invoke(runtime, command, arguments, origin, None, envelope, body)
    family = spec.family if spec is not None else None
    if family is None and command.startswith("ha-") and spec is not None:
        # an HA command without service: the family that runs HA answers it (Kea's HA listener ignores service)
        family = next((f for f, fam in sorted(runtime.families.items()) if fam.config.ha is not None), None)
    if family is not None and family in runtime.families:
        return await _run_service(runtime, f"dhcp{family}", command, arguments, origin, envelope)
    return answer(RESULT_UNSUPPORTED, _NO_SERVICE_TEXT.format(cmd=command))


async def _run_service(runtime: Runtime, service: str, command: str, arguments: Any, origin: RequestOrigin,
                       envelope: dict[str, Any], *, via_agent: bool = False, body: bytes | None = None
                       ) -> dict[str, Any]:
    """One family's answer. `via_agent`: the envelope named the service, as one that
    kea-ctrl-agent forwards to a daemon, whose error texts end with Kea's position of the element
    (`body`: the request's bytes, which say how the client spelt non-ASCII characters)."""
    family = {"dhcp4": 4, "dhcp6": 6}.get(service)
    spec = registry.get(command)
    local = family is not None and family in runtime.families
    forwarder = runtime.forwarder
    forwarded = forwarder is not None and forwarder.has(service)
    if local and spec is not None and spec.where in (DAEMON, "both") and not (spec.forward_first and forwarded):
        return await _invoke(runtime, command, arguments, origin, service, envelope if via_agent else None, body)
    if forwarded:
        return await forwarder.forward(service, envelope)
    if local:
        return answer(RESULT_UNSUPPORTED, f"'{command}' command not supported.")
    return answer(RESULT_ERROR, f"forwarding socket is not configured for the server type {service}")


async def _invoke(runtime: Runtime, command: str, arguments: Any, origin: RequestOrigin,
                  service: str | None, envelope: dict[str, Any] | None = None,
                  body: bytes | None = None) -> dict[str, Any]:
    """Run the handler. `envelope` (with `body`, the request's bytes, when at hand) is given when
    the error texts carry Kea's positions: a daemon's, of the envelope as kea-ctrl-agent forwards
    it (`service` set), or the agent's own, in the client's bytes (`service` None)."""
    spec = registry.get(command)
    assert spec is not None
    family_runtime = None
    if service is not None:
        service_family = 4 if service == "dhcp4" else 6
        family_runtime = runtime.view(service_family, spec.family or service_family)
    ctx = CommandContext(runtime, command, arguments, family_runtime, origin, service)
    identify = getattr(runtime, "identify_peer", None)
    if identify is not None and origin.peer_name is None:
        origin.peer_name = identify(origin, command, arguments)
    started = time.perf_counter()
    try:
        result = await spec.handler(ctx)
    except CommandError as exc:
        if service is None and envelope is not None and body is not None:
            result = exc.answer_as_agent(envelope, body)
        else:
            # its positions depend on how the client spelt non-ASCII characters (noted by dispatch)
            result = exc.answer(envelope, raw_utf8=origin.raw_utf8)
    except StoreOutcomeUnknown as exc:
        log.warning("%s: commit not confirmed: %s", command, exc)
        result = answer(RESULT_ERROR, f"lease database did not confirm the change in time, it may have been applied: {exc}")
    except StoreRejected as exc:
        log.warning("%s: the lease database refused a value: %s", command, exc)
        result = answer(RESULT_ERROR, f"the lease database cannot store this lease, nothing was changed: {exc}")
    except StoreUnavailable as exc:
        log.warning("%s failed: %s", command, exc)
        result = answer(RESULT_ERROR, f"lease database unavailable, nothing was changed: {exc}")
    except Exception:  # noqa: BLE001 - the edge never answers 500; the traceback goes to the log only
        log.exception("internal error while processing %s", command)
        result = answer(RESULT_ERROR, f"internal error while processing '{command}', see the server log")
    metrics = runtime.metrics
    if metrics is not None:
        metrics.observe_command(command, result.get("result", RESULT_ERROR), time.perf_counter() - started)
    return result
