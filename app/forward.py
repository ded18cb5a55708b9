"""Forwarding commands to the local Kea daemons over their unix control sockets,
as kea-ctrl-agent does (answers come back as a single map; the edge wraps them in the list)."""

from __future__ import annotations

import asyncio
import errno
import json
import logging
import os
from typing import Any

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
            return await asyncio.wait_for(self._exchange(path, envelope), self.timeout)
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
        reader, writer = await asyncio.open_unix_connection(path, limit=64 * 1024 * 1024)
        try:
            writer.write(json.dumps(envelope).encode())
            await writer.drain()
            buffer = b""
            decoder = json.JSONDecoder()
            value: Any = None
            while value is None:
                chunk = await reader.read(65536)
                buffer += chunk
                try:
                    value, _ = decoder.raw_decode(buffer.decode())
                except (ValueError, UnicodeDecodeError):
                    if not chunk:
                        raise EOFError from None
            if isinstance(value, list) and value:
                value = value[0]
            if not isinstance(value, dict):
                return answer(RESULT_ERROR, f"invalid answer from the {os.path.basename(path)} socket")
            return value
        finally:
            writer.close()


def _text(exc: OSError) -> str:
    return _ERRNO_TEXT.get(exc.errno or 0, exc.strerror or str(exc))
