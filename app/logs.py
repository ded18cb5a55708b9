"""Logging set-up: Kea-like text lines or one JSON object per line. Secrets never reach here:
callers log redacted values only."""

from __future__ import annotations

import json
import logging
import sys
import time


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        out = {
            "ts": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created)) + f".{int(record.msecs):03d}Z",
            "level": record.levelname,
            "logger": record.name,
            "msg": record.getMessage(),
        }
        if record.exc_info:
            out["exc"] = self.formatException(record.exc_info)
        return json.dumps(out)


_LEVELS = {"FATAL": "CRITICAL", "ERROR": "ERROR", "WARN": "WARNING", "WARNING": "WARNING", "INFO": "INFO",
           "DEBUG": "DEBUG", "NONE": "CRITICAL"}


def configure(fmt: str = "text", severity: str = "INFO") -> None:
    handler = logging.StreamHandler(sys.stderr)
    if fmt == "json":
        handler.setFormatter(JsonFormatter())
    else:
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)-5s [%(name)s] %(message)s"))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    level = _LEVELS.get(severity.upper(), "INFO")
    root.setLevel(level)
    # httpx logs every request it makes at INFO. The peer client used it until session 22 (a line
    # for each heartbeat and lease update sent, thousands a second under load); peer calls now go
    # through app/ha/http_transport.py, and any that go through httpx again stay at debug level,
    # where Kea logs those exchanges.
    # alembic announces each of its plugins at INFO when leasesync brings a database up to date
    for chatty in ("httpx", "httpcore", "alembic"):
        logging.getLogger(chatty).setLevel(logging.DEBUG if level == "DEBUG" else logging.WARNING)
