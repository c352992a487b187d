"""What a failed platform call does to an action and its account: wait, retry later, or stop."""

from __future__ import annotations

from datetime import timedelta

from app.accounts.conditions import credentials_refused, record_rate_limit
from app.db.base import utcnow
from app.models import Account, Action
from app.platforms.base import ActionRefused, CredentialsInvalid, OutcomeUnknown, PlatformError, Post, RateLimited


def apply_failure(action: Action, account: Account, exc: PlatformError, settings) -> str:
    """Record the failure; returns `hold` when the account's other actions must wait too."""
    now = utcnow()
    action.error = str(exc)
    if isinstance(exc, RateLimited):
        # Waiting as told is not a failed attempt: back to the queue, due when the platform said.
        action.status, action.attempts, action.next_attempt_at = "queued", max(0, action.attempts - 1), exc.retry_at
        record_rate_limit(account, bucket=exc.bucket, until=exc.retry_at, during="send")
        return "hold"
    if isinstance(exc, CredentialsInvalid):
        action.status, action.attempts = "queued", max(0, action.attempts - 1)
        action.next_attempt_at = now + timedelta(minutes=5)
        credentials_refused(account, exc)
        return "hold"
    action.status = "failed"
    final = isinstance(exc, ActionRefused) or not exc.retryable or action.attempts >= settings.max_attempts
    action.next_attempt_at = None if final else now + timedelta(seconds=settings.retry_base_seconds * 2 ** (action.attempts - 1))
    if isinstance(exc, OutcomeUnknown):
        # `failed` is what makes the next try ask the platform before it sends anything.
        action.error = unknown_error(exc, final)
        if not final and getattr(exc, "retry_at", None):
            action.next_attempt_at = max(action.next_attempt_at, exc.retry_at)
    return "failed"


def unknown_error(exc: Exception, final: bool) -> str:
    """The error an action whose outcome is unknown carries, saying what happens next."""
    then = ("gave up asking after the last try: check the platform by hand" if final
            else "the platform is asked again before anything is re-sent")
    return f"outcome unknown: {exc}; {then}"


def render_quote(template: str | None, post: Post, rule) -> str:
    """Fill `{author}`, `{url}` and `{rule}` in a quote template; other braces stay as written."""
    text = template or "{url}"
    values = {"{author}": "@" + post.author.handle.lstrip("@"), "{url}": post.url or "", "{rule}": rule.name if rule else ""}
    for key, value in values.items():
        text = text.replace(key, value)
    return text
