"""Forwarding commands to the local Kea daemons over their unix control sockets,
as kea-ctrl-agent does (answers come back as a single map; the edge wraps them in the list)."""

from __future__ import annotations

import asyncio
import errno
import json
import logging
import os
from typing import Any

import orjson

from app.config import ControlSocket
from app.errors import RESULT_ERROR, answer

log = logging.getLogger("leasesync.forward")

_ERRNO_TEXT = {
    errno.ENOENT: "No such file or directory",
    errno.ECONNREFUSED: "Connection refused",
    errno.EACCES: "Permission denied",
}


class Forwarder:
    def __init__(self, sockets: dict[str, ControlSocket], timeout: float = 10.0) -> None:
        self.sockets = sockets
        self.timeout = timeout
        self.failures = 0

    def has(self, service: str) -> bool:
        return service in self.sockets

    async def forward(self, service: str, envelope: dict[str, Any]) -> dict[str, Any]:
        path = self.sockets[service].socket_name
        try:
            return await self._exchange(path, envelope)
        except TimeoutError:
            reason = "Connection timed out"
        except ConnectionError as exc:
            reason = "End of file" if isinstance(exc, ConnectionResetError | EOFError) else _text(exc)
        except EOFError:
            reason = "End of file"
        except OSError as exc:
            reason = _text(exc)
        self.failures += 1
        log.warning("forwarding %s to %s (%s) failed: %s", envelope.get("command"), service, path, reason)
        return answer(RESULT_ERROR, f"unable to forward command to the {service} service: {reason}. "
                                    "The server is likely to be offline")

    async def _exchange(self, path: str, envelope: dict[str, Any]) -> dict[str, Any]:
        # `timeout` bounds each wait (connecting, sending, each read), not the whole exchange, as
        # kea-ctrl-agent's does: a large answer that keeps coming is not cut off half-way.
        timeout = self.timeout
        reader, writer = await asyncio.wait_for(asyncio.open_unix_connection(path, limit=64 * 1024 * 1024), timeout)
        try:
            writer.write(json.dumps(envelope).encode())
            await asyncio.wait_for(writer.drain(), timeout)
            # Kea closes the socket after its answer; a complete answer that comes before the close
            # is taken too. The answer is parsed only when a read ends on the end of a JSON value
            # or at the close: parsing the whole buffer after every read was quadratic (an 80,000
            # lease lease4-get-all outlasted the forward timeout; kea-ctrl-agent takes 4 s).
            chunks: list[bytes] = []
            value: Any = None
            while value is None:
                chunk = await asyncio.wait_for(reader.read(1 << 20), timeout)
                if chunk:
                    chunks.append(chunk)
                    if chunk.rstrip()[-1:] in (b"}", b"]"):
                        value = _json_value(b"".join(chunks))
                    continue
                value = _json_value(b"".join(chunks))
                if value is None:
                    raise EOFError
            if isinstance(value, list) and value:
                value = value[0]
            if not isinstance(value, dict):
                return answer(RESULT_ERROR, f"invalid answer from the {os.path.basename(path)} socket")
            return value
        finally:
            writer.close()


def _json_value(data: bytes) -> Any:
    """The JSON value `data` holds, or None while it is incomplete (or not JSON)."""
    try:
        return orjson.loads(data)
    except orjson.JSONDecodeError:
        pass
    try:  # what orjson refuses and Python's parser takes (integers beyond 64 bits, trailing bytes)
        return json.JSONDecoder().raw_decode(data.decode())[0]
    except (ValueError, UnicodeDecodeError):
        return None


def _text(exc: OSError) -> str:
    return _ERRNO_TEXT.get(exc.errno or 0, exc.strerror or str(exc))
