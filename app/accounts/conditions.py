"""What is wrong with an account right now, each thing by name, and the status they add up to.

An account carries a set of *conditions* (`Account.conditions`, a JSON object keyed by code): one
per thing its owner should know about, such as refused credentials, a rate limit on one of the
platform's buckets, a stream the server does not offer, or a bot flag the server would not set.
Every part of the pipeline raises and clears conditions through this module only, and the
account's `status`, `status_detail` and `rate_limited_until` are derived from them here, so that
the API always shows why, and nothing a user must know lives only in a log.

Codes (a code may carry a suffix after ':' naming a bucket or source):
- `credentials`             attention: the platform refused the credentials (401/403)
- `missing_scope`           attention: the token lacks a scope a feature needs
- `bot_flag`                warning:   the bot flag/label could not be set or did not stick
- `rate_limited:<bucket>`   limit:     a platform bucket is exhausted until `until`
                                       (bucket `send` holds sends; others hold only their own calls)
- `stream`                  warning:   the stream is unavailable; polling carries the feed
- `followers_empty`         warning:   the followers list is empty though the account reports followers
- `source:<source>`         warning:   a source keeps failing (see its own health for details)
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from app.db.base import utcnow


class Severity(StrEnum):
    attention = "attention"  # nothing is sent until a person acts
    limit = "limit"  # a rate limit; ends by itself at `until`
    warning = "warning"  # works, but not as the owner expects


class AccountStatus(StrEnum):
    active = "active"
    needs_attention = "needs_attention"
    rate_limited = "rate_limited"


# The rate-limit bucket whose exhaustion holds an account's sends (reposts, quotes, likes, undos).
SEND_BUCKET = "send"


def set_condition(
    account: Any,
    code: str,
    *,
    severity: Severity | str,
    message: str,
    until: datetime | None = None,
    http_status: int | None = None,
    source: str | None = None,
    now: datetime | None = None,
) -> None:
    """Raise (or refresh) one condition on `account` and re-derive its status."""
    now = now or utcnow()
    conditions = dict(account.conditions or {})
    previous = conditions.get(code) or {}
    conditions[code] = {
        "code": code,
        "severity": str(Severity(severity)),
        "message": message,
        "since": previous.get("since") or now.isoformat(),
        "updated_at": now.isoformat(),
        "until": until.isoformat() if until else None,
        "http_status": http_status,
        "source": source,
    }
    account.conditions = conditions  # a new dict, so the ORM sees the change
    derive_status(account, now)


def clear_condition(account: Any, code: str, *, now: datetime | None = None) -> bool:
    """Clear one condition (a no-op when absent); returns whether it was there."""
    conditions = dict(account.conditions or {})
    if conditions.pop(code, None) is None:
        return False
    account.conditions = conditions
    derive_status(account, now or utcnow())
    return True


def clear_prefix(account: Any, prefix: str, *, now: datetime | None = None) -> None:
    """Clear every condition whose code starts with `prefix` (e.g. every `rate_limited:`)."""
    conditions = {k: v for k, v in (account.conditions or {}).items() if not k.startswith(prefix)}
    if len(conditions) != len(account.conditions or {}):
        account.conditions = conditions
        derive_status(account, now or utcnow())


def expire(account: Any, now: datetime | None = None) -> None:
    """Drop rate limits whose time has passed, so status and detail are never stale."""
    now = now or utcnow()
    conditions = {k: v for k, v in (account.conditions or {}).items() if not _expired(v, now)}
    if len(conditions) != len(account.conditions or {}):
        account.conditions = conditions
    derive_status(account, now)


def send_blocked_until(account: Any, now: datetime | None = None) -> datetime | None:
    """Until when the account's sends must wait for the platform's send bucket (None: they may go)."""
    now = now or utcnow()
    item = (account.conditions or {}).get(f"rate_limited:{SEND_BUCKET}")
    if not item or not item.get("until"):
        return None
    until = datetime.fromisoformat(item["until"])
    return until if until > now else None


def derive_status(account: Any, now: datetime) -> None:
    """status: needs_attention if any attention condition, rate_limited if sends are held, else active."""
    items = [v for v in (account.conditions or {}).values() if not _expired(v, now)]
    attention = [v for v in items if v["severity"] == Severity.attention]
    sending = send_blocked_until(account, now)
    if attention:
        account.status = AccountStatus.needs_attention.value
        account.status_detail = "; ".join(v["message"] for v in attention)
    elif sending is not None:
        account.status = AccountStatus.rate_limited.value
        account.status_detail = f"rate limited until {sending.isoformat()}"
    else:
        account.status = AccountStatus.active.value
        warnings = [v["message"] for v in items if v["severity"] != Severity.attention]
        account.status_detail = "; ".join(warnings) or None
    account.rate_limited_until = sending


def needs_attention(account: Any) -> bool:
    """Whether a person must act before the account sends again."""
    return any(v["severity"] == Severity.attention for v in (account.conditions or {}).values())


def _expired(item: dict[str, Any], now: datetime) -> bool:
    until = item.get("until")
    return item["severity"] == Severity.limit and until is not None and datetime.fromisoformat(until) <= now
