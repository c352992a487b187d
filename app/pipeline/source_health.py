"""How each source's polls go: the last success, the last error by kind, failures in a row; a source
that keeps failing raises the account condition `source:<source>`, and its next success clears it."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import httpx

from app.accounts.conditions import Severity, clear_condition, set_condition
from app.models import Cursor
from app.platforms.base import PlatformError

MESSAGE_LIMIT = 500


def describe(exc: BaseException) -> tuple[str, int | None, str]:
    """(kind, HTTP status, message) of a failed poll, in words a person can act on."""
    if isinstance(exc, PlatformError):
        return exc.kind, exc.status, str(exc)[:MESSAGE_LIMIT]
    if isinstance(exc, TimeoutError | httpx.TimeoutException):  # a time budget ran out: the server hangs
        return "timeout", None, f"no answer in time ({type(exc).__name__})"
    if isinstance(exc, OSError | httpx.TransportError) or type(exc).__module__.startswith("websockets"):
        return "transport", None, f"connection failed ({type(exc).__name__}: {exc})"[:MESSAGE_LIMIT]
    # Not the platform's fault: an adapter bug. Said as such, so nobody waits for the server to mend.
    return "internal", None, f"{type(exc).__name__}: {exc}"[:MESSAGE_LIMIT]


def record_success(cursor: Cursor, account: Any, now: datetime) -> None:
    """A poll went through: count it and clear the source's condition."""
    cursor.last_polled_at = cursor.last_success_at = now
    cursor.consecutive_failures = 0
    clear_condition(account, source_code(cursor.source), now=now)


def record_failure(cursor: Cursor, account: Any, exc: BaseException, *, now: datetime, threshold: int) -> None:
    """A poll failed: keep its kind, status, message and time; after `threshold` in a row, tell the owner."""
    kind, status, message = describe(exc)
    cursor.error, cursor.error_kind, cursor.error_status, cursor.error_at = message, kind, status, now
    cursor.last_polled_at = now
    cursor.consecutive_failures = (cursor.consecutive_failures or 0) + 1
    cursor.error_count = (cursor.error_count or 0) + 1
    # A poll's rate limit has its own condition with its reset time; it does not make a source failing.
    if account is None or kind == "rate_limited" or cursor.consecutive_failures < threshold:
        return
    set_condition(account, source_code(cursor.source), severity=Severity.warning, http_status=status,
                  source=cursor.source, now=now,
                  message=f"source {cursor.source} failed {cursor.consecutive_failures} times in a row, "
                          f"last: {kind}{f' {status}' if status else ''}: {message}")


def source_code(source: str) -> str:
    """The account condition code for one source."""
    return f"source:{source}"
