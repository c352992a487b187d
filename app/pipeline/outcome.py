"""What a failed platform call does to an action and its account: wait, retry later, or stop."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from app.accounts.conditions import credentials_refused, record_rate_limit
from app.actions.states import move
from app.config import Settings
from app.db.base import utcnow
from app.models import Account, Action, ActionStatus, Rule
from app.platforms.base import CredentialsInvalid, OutcomeUnknown, PlatformError, Post, RateLimited
from app.platforms.handles import bare_handle


class Outcome(StrEnum):
    """What became of one action in a round of sends (the dispatcher's verdicts and results)."""

    go = "go"  # the checks passed: send it
    hold = "hold"  # over a limit, rate limited or credentials: the account's other actions wait too
    gone = "gone"  # no longer waiting (rejected, skipped or sent meanwhile): nothing to do
    lost = "lost"  # another worker holds the row now: nothing recorded
    skipped = "skipped"
    done = "done"
    failed = "failed"


class Unsettled(OutcomeUnknown):
    """Whether an earlier try acted is unknown, and cannot be asked before `retry_at` (when asking
    met a rate limit): the action stays `failed`, never re-sent blind."""

    def __init__(self, message: str, *, retry_at: datetime | None = None):
        super().__init__(message)
        self.retry_at = retry_at


def unsettled(exc: Exception, message: str) -> OutcomeUnknown:
    """What stopped the platform from telling whether an earlier try acted, as an unknown outcome."""
    if isinstance(exc, OutcomeUnknown):
        return exc
    return Unsettled(message, retry_at=getattr(exc, "retry_at", None))


@dataclass(frozen=True)
class Backoff:
    """The failure policy's answer: when to try again (None: give up), and whether the call was
    told to wait (a rate limit or credentials: the try does not count, the account's other calls wait)."""

    at: datetime | None
    told_to_wait: bool = False


def backoff(account: Account, exc: PlatformError, *, attempts: int, settings: Settings) -> Backoff:
    """The one failure policy of a platform call (sends and undos): wait as told, retry with
    exponential backoff while the error is retryable and tries remain, or give up."""
    now = utcnow()
    if isinstance(exc, RateLimited):
        record_rate_limit(account, bucket=exc.bucket, until=exc.retry_at, during="send")
        return Backoff(exc.retry_at, told_to_wait=True)
    if isinstance(exc, CredentialsInvalid):
        credentials_refused(account, exc)
        return Backoff(now + timedelta(minutes=5), told_to_wait=True)
    if not exc.retryable or attempts >= settings.max_attempts:  # ActionRefused is never retryable
        return Backoff(None)
    at = now + timedelta(seconds=settings.retry_base_seconds * 2 ** max(0, attempts - 1))
    # an OutcomeUnknown that met a rate limit while asking carries when asking is allowed again
    return Backoff(max(at, getattr(exc, "retry_at", None) or at))


def apply_failure(action: Action, account: Account, exc: PlatformError, settings: Settings) -> Outcome:
    """Record a failed send (status `sending`); `hold` when the account's other actions must wait too."""
    action.error = str(exc)
    policy = backoff(account, exc, attempts=action.attempts, settings=settings)
    if policy.told_to_wait:  # waiting as told is not a failed attempt: back to the queue
        move(action, ActionStatus.queued, attempts=max(0, action.attempts - 1), next_attempt_at=policy.at)
        return Outcome.hold
    move(action, ActionStatus.failed, next_attempt_at=policy.at)
    if isinstance(exc, OutcomeUnknown):
        # `failed` is what makes the next try ask the platform before it sends anything.
        action.error = unknown_error(exc, policy.at is None)
    return Outcome.failed


def unknown_error(exc: Exception, final: bool) -> str:
    """The error an action whose outcome is unknown carries, saying what happens next."""
    then = ("gave up asking after the last try: check the platform by hand" if final
            else "the platform is asked again before anything is re-sent")
    return f"outcome unknown: {exc}; {then}"


def render_quote(template: str | None, post: Post, rule: Rule | None) -> str:
    """Fill `{author}`, `{url}` and `{rule}` in a quote template; other braces stay as written."""
    text = template or "{url}"
    values = {"{author}": "@" + bare_handle(post.author.handle), "{url}": post.url or "",
              "{rule}": rule.name if rule else ""}
    for key, value in values.items():
        text = text.replace(key, value)
    return text
