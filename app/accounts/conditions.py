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
- `rate_limited:<bucket>`   limit:     the platform's rate-limit bucket `<bucket>` is exhausted until
                                       `until` (see `record_rate_limit`: the shared bucket holds
                                       every call; a send's bucket holds the sends that spend it;
                                       a poll's own bucket holds only that source, by its due time)
- `stream`                  warning:   the stream is unavailable; polling carries the feed
- `followers_empty`         warning:   the followers list is empty though the account reports followers
- `source:<source>`         warning:   a source keeps failing (see its own health for details)
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from types import SimpleNamespace
from typing import Any

from app.db.base import utcnow
from app.platforms.base import SHARED_BUCKET


class Severity(StrEnum):
    attention = "attention"  # nothing is sent until a person acts
    limit = "limit"  # a rate limit; ends by itself at `until`
    warning = "warning"  # works, but not as the owner expects


class AccountStatus(StrEnum):
    active = "active"
    needs_attention = "needs_attention"
    rate_limited = "rate_limited"


# What a rate limit holds (a condition's `holds`): every call of the account, the sends that spend
# its bucket, or only the polls that met it (each source waits by its own due time).
HOLDS_ALL, HOLDS_SENDS, HOLDS_POLLS = "all", "sends", "polls"
_STRENGTH = {HOLDS_POLLS: 0, HOLDS_SENDS: 1, HOLDS_ALL: 2}


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
    **extra: Any,
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
        **extra,
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


def expire(account: Any, now: datetime | None = None) -> None:
    """Drop rate limits whose time has passed, so status and detail are never stale."""
    now = now or utcnow()
    conditions = {k: v for k, v in (account.conditions or {}).items() if not _expired(v, now)}
    if len(conditions) != len(account.conditions or {}):
        account.conditions = conditions
    derive_status(account, now)


def record_rate_limit(account: Any, *, bucket: str, until: datetime, during: str, source: str | None = None,
                      now: datetime | None = None) -> None:
    """Record a 429 on the platform's `bucket` met by a poll (`during="poll"`) or a send.

    The shared bucket holds everything; a bucket met by a send holds the sends that spend it; a
    bucket met only by polls holds no send (its source is due again at `until`, by its cursor).
    """
    code = f"rate_limited:{bucket}"
    holds = HOLDS_ALL if bucket == SHARED_BUCKET else HOLDS_SENDS if during == "send" else HOLDS_POLLS
    previous = (account.conditions or {}).get(code) or {}
    if _STRENGTH.get(previous.get("holds", ""), -1) > _STRENGTH[holds] and not _expired(previous, now or utcnow()):
        holds = previous["holds"]  # a send met it earlier: a poll meeting it too holds no less
    what = {HOLDS_ALL: "all calls", HOLDS_SENDS: "sends", HOLDS_POLLS: f"polling {source}"}[holds]
    message = f"{what} rate limited until {until.isoformat()} ({bucket} bucket)"
    set_condition(account, code, severity=Severity.limit, message=message, until=until, http_status=429,
                  source=source, now=now, bucket=bucket, holds=holds)


def clear_rate_limits(account: Any, *, bucket: str | None = None, source: str | None = None,
                      now: datetime | None = None) -> None:
    """After a call succeeded: clear the limit on its `bucket` (a send) or met by its `source` (a
    poll), and the shared bucket's, which that success shows is not exhausted."""
    conditions = account.conditions or {}
    for code, item in list(conditions.items()):
        if not code.startswith("rate_limited:"):
            continue
        shared = code == f"rate_limited:{SHARED_BUCKET}"
        if shared or code == f"rate_limited:{bucket}" or (source is not None and item.get("source") == source):
            clear_condition(account, code, now=now)


def send_blocked_until(account: Any, now: datetime | None = None, bucket: str | None = None) -> datetime | None:
    """Until when a send spending `bucket` must wait (None: it may go). Without `bucket`: until when
    any send waits for some bucket (what the account's `rate_limited_until` shows)."""
    now = now or utcnow()
    held = [datetime.fromisoformat(item["until"]) for item in _limits(account, now)
            if _holds(item) == HOLDS_ALL or (_holds(item) == HOLDS_SENDS and _spends(item, bucket))]
    return max(held, default=None)


def polls_blocked_until(account: Any, now: datetime | None = None) -> datetime | None:
    """Until when none of the account's sources may be polled (its shared bucket is exhausted)."""
    now = now or utcnow()
    return max((datetime.fromisoformat(i["until"]) for i in _limits(account, now) if _holds(i) == HOLDS_ALL),
               default=None)


def current(account: Any, now: datetime | None = None) -> SimpleNamespace:
    """The account's conditions, status, detail and rate_limited_until as of `now`, computed
    without writing to `account` (what the API shows, even when no job has run since a limit ended)."""
    now = now or utcnow()
    view = SimpleNamespace(conditions={k: v for k, v in (account.conditions or {}).items() if not _expired(v, now)},
                           status=None, status_detail=None, rate_limited_until=None)
    derive_status(view, now)
    return view


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
        account.status_detail = "; ".join(v["message"] for v in _limits(account, now) if _holds(v) != HOLDS_POLLS)
    else:
        account.status = AccountStatus.active.value
        warnings = [v["message"] for v in items if v["severity"] != Severity.attention]
        account.status_detail = "; ".join(warnings) or None
    account.rate_limited_until = sending


def credentials_refused(account: Any, exc: Exception) -> None:
    """The platform refused the account's credentials: nothing is sent until a person acts."""
    set_condition(account, "credentials", severity=Severity.attention, message=str(exc),
                  http_status=getattr(exc, "status", None))


def needs_attention(account: Any) -> bool:
    """Whether a person must act before the account sends again."""
    return any(v["severity"] == Severity.attention for v in (account.conditions or {}).values())


def _limits(account: Any, now: datetime) -> list[dict[str, Any]]:
    """The rate limits in force at `now`."""
    return [v for k, v in (account.conditions or {}).items()
            if k.startswith("rate_limited:") and v.get("until") and not _expired(v, now)]


def _holds(item: dict[str, Any]) -> str:
    return item.get("holds") or HOLDS_POLLS


def _spends(item: dict[str, Any], bucket: str | None) -> bool:
    """Whether a send spending `bucket` (None: any send) is held by this send limit."""
    return bucket is None or item.get("bucket") in (None, bucket)


def _expired(item: dict[str, Any], now: datetime) -> bool:
    until = item.get("until")
    return item["severity"] == Severity.limit and until is not None and datetime.fromisoformat(until) <= now
