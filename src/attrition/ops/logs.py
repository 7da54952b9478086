"""Structured logs: one JSON object per line, for log collectors (Loki, journald, ELK ...).

`ATTRITION_LOG_FORMAT=json` selects it; the embedded default stays plain text for people.
Each line holds the time (UTC, ISO 8601), level, logger, message and process id, the fields a
call passed with `extra=` (when they are JSON values), and the traceback of an exception.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
from typing import Any

# What every LogRecord has: the rest of its attributes came from `extra=`.
STANDARD = frozenset(logging.makeLogRecord({}).__dict__) | {"message", "asctime"}


class JsonFormatter(logging.Formatter):
    """Format a log record as one line of JSON."""

    def format(self, record: logging.LogRecord) -> str:
        """Return the record as a JSON object on one line."""
        out: dict[str, Any] = {
            "time": dt.datetime.fromtimestamp(record.created, dt.UTC).isoformat(
                timespec="milliseconds"
            ),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "pid": record.process,
        }
        for key, value in record.__dict__.items():
            if key not in STANDARD and key not in out:
                out[key] = value if _plain(value) else repr(value)
        if record.exc_info:
            out["exception"] = self.formatException(record.exc_info)
        if record.stack_info:
            out["stack"] = self.formatStack(record.stack_info)
        return json.dumps(out, ensure_ascii=False, default=str)


def _plain(value: Any) -> bool:
    """Return whether a value goes into JSON as it is."""
    try:
        json.dumps(value)
    except (TypeError, ValueError):
        return False
    return True
