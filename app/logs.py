"""Log lines that carry their fields: one JSON object per line for `serve` and `worker`, readable
`message key=value ...` lines for the demo; REPOSTER_LOG_FORMAT and REPOSTER_LOG_LEVEL choose.

Every `log.info("event", extra={...})` field is written out (the default formatter dropped them).
Fields whose name says they hold a secret are written as "[redacted]", and request lines carry the
path without its query string; tokens are never passed to a log call in the first place (see
app/platforms/http.py), this is the second fence.
"""

from __future__ import annotations

import json
import logging
import re
import sys
from datetime import UTC, datetime
from typing import Any

# The attributes every LogRecord has; anything else on a record came in through `extra=`.
STANDARD = set(vars(logging.LogRecord("", 0, "", 0, "", (), None))) | {"message", "asctime", "taskName"}
SECRET_NAME = re.compile(r"token|secret|password|passwd|authorization|credential|cookie|api_?key", re.I)
# Libraries whose INFO lines are noise or could carry a URL with its query (httpx logs whole URLs).
QUIET = ("apscheduler", "httpx", "httpcore", "aiosqlite", "asyncio")
ACCESS_LOGGER = "uvicorn.access"


def fields(record: logging.LogRecord) -> dict[str, Any]:
    """The record's own fields (its `extra=`), secrets redacted; request fields for access lines."""
    if record.name == ACCESS_LOGGER and isinstance(record.args, tuple) and len(record.args) == 5:
        client, method, path, _version, status = record.args
        return {"client": client, "method": method, "path": str(path).split("?", 1)[0], "status": status}
    return {k: "[redacted]" if SECRET_NAME.search(k) else v
            for k, v in vars(record).items() if k not in STANDARD and not k.startswith("_")}


def message(record: logging.LogRecord) -> str:
    """The message; an access line says `request` (its own text would carry the query string)."""
    return "request" if record.name == ACCESS_LOGGER else record.getMessage()


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message, then every field."""

    def format(self, record: logging.LogRecord) -> str:
        data: dict[str, Any] = {"time": _time(record), "level": record.levelname, "logger": record.name,
                                "message": message(record)}
        for key, value in fields(record).items():
            data[key if key not in data else f"field_{key}"] = value
        if record.exc_info:
            data["exception"] = self.formatException(record.exc_info)
        return json.dumps(data, default=str, ensure_ascii=False)


class TextFormatter(logging.Formatter):
    """`time LEVEL logger: message key=value ...`, values quoted when they hold spaces."""

    def format(self, record: logging.LogRecord) -> str:
        parts = [_time(record), record.levelname, f"{record.name}:", message(record)]
        parts += [f"{key}={_text(value)}" for key, value in fields(record).items()]
        line = " ".join(parts)
        return f"{line}\n{self.formatException(record.exc_info)}" if record.exc_info else line


def setup_logging(*, fmt: str, level: str | int) -> None:
    """Send every logger's lines to stderr in `fmt` (json or text) at `level`; libraries' chatter quiet."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter() if fmt == "json" else TextFormatter())
    root = logging.getLogger()
    root.handlers = [handler]
    root.setLevel(level.upper() if isinstance(level, str) else level)
    for name in QUIET:
        logging.getLogger(name).setLevel(logging.WARNING)
    for name in ("uvicorn", "uvicorn.error", ACCESS_LOGGER):  # through our handler, not uvicorn's own
        logging.getLogger(name).handlers = []
        logging.getLogger(name).propagate = True


def _time(record: logging.LogRecord) -> str:
    return datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _text(value: Any) -> str:
    text = value if isinstance(value, str) else json.dumps(value, default=str, ensure_ascii=False)
    return json.dumps(text, ensure_ascii=False) if not text or any(c in text for c in ' "=\n') else text
