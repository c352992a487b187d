"""One way every real adapter talks HTTP: rate limits, retries, credential errors, logging.

Adapters call `PlatformHTTP.request`; it turns the outside world's failures into the
PlatformError family of `platforms.base`, so that no platform error escapes as anything else.

Retrying in place is only for calls that cannot have acted twice: any call whose connection was
never made (connect errors, an empty pool), and idempotent methods (GET, HEAD, OPTIONS, PUT,
DELETE) after any failure. A non-idempotent call (POST, PATCH) that may have reached the
platform (a timeout after sending, a reset connection, a 5xx) raises OutcomeUnknown instead: the
platform may already have acted (GoToSocial makes a new boost per reblog call, a Bluesky
createRecord makes a new record), so the caller asks the platform before sending again.
"""

from __future__ import annotations

import asyncio
import email.utils
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

import httpx

from app.platforms.base import SHARED_BUCKET, CredentialsInvalid, OutcomeUnknown, PlatformError, PostGone, RateLimited

log = logging.getLogger("reposter.platforms.http")
T = TypeVar("T")

RETRYABLE_STATUS = {500, 502, 503, 504, 520, 522, 524}
IDEMPOTENT_METHODS = {"GET", "HEAD", "OPTIONS", "PUT", "DELETE"}
# Failures that happen before a byte of the request left: safe to retry whatever the method.
NOT_SENT = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout, httpx.UnsupportedProtocol)


class TryAgain(Exception):
    """One attempt failed in a way another may mend: `error` is raised if none is left; `wait` is
    how long to pause first (None: the policy's backoff)."""

    def __init__(self, error: PlatformError, *, wait: float | None = None) -> None:
        super().__init__(str(error))
        self.error = error
        self.wait = wait


@dataclass
class RetryPolicy:
    """How hard to try: server errors and timeouts are retried with exponential backoff."""

    attempts: int = 3
    backoff: float = 0.5
    # A 429 asking to wait at most this long is waited out in place; longer ones raise.
    inline_wait: float = 5.0
    sleep: Any = field(default=None)

    async def pause(self, seconds: float) -> None:
        """Sleep (through the injectable `sleep`, so tests need not wait)."""
        await (self.sleep or asyncio.sleep)(max(0.0, seconds))

    async def run(self, attempt: Callable[[], Awaitable[T]]) -> T:
        """Await `attempt()` until it returns, raises anything but TryAgain, or the attempts are spent.

        The one retry loop of every adapter (the mock's too): a pause between tries, never after
        the last one, whose TryAgain error is raised at once.
        """
        for number in range(1, self.attempts + 1):
            try:
                return await attempt()
            except TryAgain as again:
                if number >= self.attempts:
                    raise again.error from again.__cause__
                await self.pause(self.backoff * 2 ** (number - 1) if again.wait is None else again.wait)
        raise ValueError(f"RetryPolicy.attempts must be at least 1, not {self.attempts}")

    def rate_limited(self, message: str, headers: httpx.Headers, bucket: str = SHARED_BUCKET) -> TryAgain | RateLimited:
        """What to raise for a 429: TryAgain when its wait is short enough to wait out here, else RateLimited."""
        retry_at = retry_at_from_headers(headers)
        error = RateLimited(message, retry_at=retry_at, bucket=bucket)
        wait = (retry_at - datetime.now(UTC)).total_seconds()
        return TryAgain(error, wait=wait) if wait <= self.inline_wait else error


def retry_at_from_headers(headers: httpx.Headers, now: datetime | None = None) -> datetime:
    """When a rate-limited caller may try again, from Retry-After, X-RateLimit-Reset or RateLimit-Reset."""
    now = now or datetime.now(UTC)
    value = headers.get("retry-after")
    if value:
        if value.strip().isdigit():
            return now + timedelta(seconds=int(value))
        parsed = email.utils.parsedate_to_datetime(value)
        if parsed is not None:
            return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
    # X spells it x-rate-limit-reset, Mastodon x-ratelimit-reset, the IETF draft ratelimit-reset.
    reset = headers.get("x-rate-limit-reset") or headers.get("x-ratelimit-reset") or headers.get("ratelimit-reset")
    if reset:
        return _reset_to_datetime(reset.strip(), now)
    return now + timedelta(seconds=60)


def _reset_to_datetime(reset: str, now: datetime) -> datetime:
    """X sends epoch seconds, the IETF draft sends delta seconds, Mastodon sends an ISO date."""
    try:
        number = float(reset)
    except ValueError:
        try:
            parsed = datetime.fromisoformat(reset.replace("Z", "+00:00"))
        except ValueError:
            return now + timedelta(seconds=60)
        return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
    if number > 1_000_000_000:  # an epoch timestamp
        return datetime.fromtimestamp(number, UTC)
    return now + timedelta(seconds=number)


class PlatformHTTP:
    """An httpx client bound to one platform's base URL and one account's authorization."""

    def __init__(
        self,
        http: httpx.AsyncClient,
        base_url: str,
        *,
        platform: str,
        retry: RetryPolicy | None = None,
        bucket: Callable[[str, str], str] | None = None,
    ) -> None:
        self.http = http
        # (method, path) -> the platform's rate-limit bucket a 429 on that call exhausted
        self.bucket = bucket or (lambda method, path: SHARED_BUCKET)
        self.base_url = base_url.rstrip("/")
        self.platform = platform
        self.retry = retry or RetryPolicy()

    async def request(
        self,
        method: str,
        path: str,
        *,
        headers: dict[str, str] | None = None,
        not_found_is_gone: bool = False,
        idempotent: bool | None = None,
        **kwargs: Any,
    ) -> httpx.Response:
        """Send one request; retry what cannot act twice, wait out short 429s, map failures to PlatformError.

        `idempotent` overrides the method's own rule, for a POST that is safe to repeat (a
        deleteRecord, a login) or a call that must never be repeated.
        """
        url = path if path.startswith("http") else f"{self.base_url}{path}"
        repeatable = method.upper() in IDEMPOTENT_METHODS if idempotent is None else idempotent

        async def attempt() -> httpx.Response:
            try:
                response = await self._send(method, url, headers, kwargs)
            except (httpx.TimeoutException, httpx.TransportError) as exc:
                raise TryAgain(self._transport_failure(exc, method, path, repeatable)) from exc
            return self._answer(response, method, path, url, repeatable=repeatable, gone=not_found_is_gone)

        return await self.retry.run(attempt)

    def _answer(self, response: httpx.Response, method: str, path: str, url: str, *, repeatable: bool,
                gone: bool) -> httpx.Response:
        """The response when it succeeded; TryAgain for a short 429 or a 5xx that may be repeated."""
        if response.status_code == 429:
            bucket = self.bucket(method, httpx.URL(url).path)
            raise self.retry.rate_limited(f"{self.platform}: rate limited on {method} {path}", response.headers, bucket)
        if response.status_code in RETRYABLE_STATUS:
            message = f"{self.platform}: HTTP {response.status_code} on {method} {path}"
            if not repeatable:
                raise OutcomeUnknown(f"{message} (the platform may have acted)", status=response.status_code)
            raise TryAgain(PlatformError(message, status=response.status_code))
        return self._check(response, method, path, gone)

    def _transport_failure(self, exc: Exception, method: str, path: str, repeatable: bool) -> PlatformError:
        """The error for a failed exchange; OutcomeUnknown (raised at once) when it may have acted."""
        message = f"{self.platform}: {type(exc).__name__} on {method} {path}"
        if isinstance(exc, NOT_SENT) or repeatable:
            return PlatformError(message, kind="timeout" if isinstance(exc, httpx.TimeoutException) else "transport")
        log.warning("platform outcome unknown", extra={"platform": self.platform, "method": method,
                                                       "path": httpx.URL(path).path, "error": type(exc).__name__})
        raise OutcomeUnknown(f"{message} (the platform may have acted)") from exc

    async def _send(self, method: str, url: str, headers: dict[str, str] | None,
                    kwargs: dict[str, Any]) -> httpx.Response:
        """Send and log the status; never log headers, query strings or bodies (tokens live there)."""
        started = time.perf_counter()
        response = await self.http.request(method, url, headers=headers, **kwargs)
        log.info(
            "platform call",
            extra={
                "platform": self.platform,
                "method": method,
                "path": httpx.URL(url).path,
                "status": response.status_code,
                "ms": round((time.perf_counter() - started) * 1000, 1),
            },
        )
        return response

    def _check(self, response: httpx.Response, method: str, path: str, gone: bool) -> httpx.Response:
        """Turn 4xx answers into the matching PlatformError."""
        status = response.status_code
        if status < 400:
            return response
        detail = _error_text(response)
        if status in (401, 403) and _is_auth_failure(status, detail):
            raise CredentialsInvalid(f"{self.platform}: credentials need attention ({status}: {detail})", status=status)
        if status in (404, 410) and gone:
            raise PostGone(f"{self.platform}: not found ({detail})")
        raise PlatformError(f"{self.platform}: HTTP {status} on {method} {path}: {detail}", retryable=False,
                            status=status)


def _error_text(response: httpx.Response) -> str:
    """The platform's own error message, shortened; never the request."""
    try:
        body = response.json()
    except ValueError:
        return response.text[:200]
    if isinstance(body, dict):
        for key in ("error_description", "error", "message", "detail", "title"):
            if isinstance(body.get(key), str):
                return str(body[key])[:200]
        errors = body.get("errors")
        if isinstance(errors, list) and errors and isinstance(errors[0], dict):
            return str(errors[0].get("message") or errors[0].get("detail") or errors[0])[:200]
    return str(body)[:200]


def _is_auth_failure(status: int, detail: str) -> bool:
    """401 is always about credentials; 403 is when the message says so (else it is a refusal)."""
    if status == 401:
        return True
    lowered = detail.lower()
    return any(word in lowered for word in ("token", "auth", "credential", "scope", "suspended", "forbidden"))
