"""AuthorizedClient: one account's authorized JSON calls, the part every real adapter shares.

Mastodon, X and Bluesky each say only what is their own: where the access token lives, when it is
due for renewal, which errors a renewal mends, and how to renew (X trades its refresh token, Bluesky
refreshes its session or logs in again; Mastodon tokens never expire). This module does the rest
the same way for all three: the Authorization header, one renewal and one resend after a token
error, one renewal at a time per account, the JSON body or a PlatformError, and an account's config
checked into a PlatformError rather than pydantic's ValidationError (which the API would answer
with a bare 500).

Decrypted credentials live in the account's AccountContext, which the caller makes per job. What
the clients of one account share (`AccountTokens`) lives while one of them does, and holds a
renewal's new credentials for RENEWAL_KEPT seconds, then wipes them: nothing keeps credentials
for the life of the process.
"""

from __future__ import annotations

import asyncio
import logging
import weakref
from typing import Any, ClassVar, TypeVar

import httpx
from pydantic import BaseModel, ValidationError

from app.platforms.base import AccountContext, CredentialsInvalid, PlatformError
from app.platforms.http import PlatformHTTP

log = logging.getLogger("reposter.platforms.authorized")
Config = TypeVar("Config", bound=BaseModel)

# How long a renewal's credentials are offered to other clients of the account that still hold the
# ones it replaced: long enough for the caller to store them (right after the call), no longer.
RENEWAL_KEPT = 300.0


def config_of(model: type[Config], config: dict[str, Any] | None, platform: str) -> Config:
    """The account's config as `model`; a PlatformError naming each fault when it does not fit."""
    try:
        return model.model_validate(config or {})
    except ValidationError as exc:
        faults = "; ".join(f"{'.'.join(map(str, e['loc'])) or 'config'}: {e['msg']}" for e in exc.errors())
        raise PlatformError(f"{platform}: invalid account config ({faults})", retryable=False) from None


def json_of(response: httpx.Response, platform: str, *, empty_is_object: bool = True) -> Any:
    """The body as JSON ({} for an empty one where allowed), or a PlatformError naming the call (never the token)."""
    if not response.content and empty_is_object:
        return {}
    try:
        return response.json()
    except ValueError as exc:
        path = response.request.url.path
        raise PlatformError(f"{platform}: {path} answered HTTP {response.status_code} without JSON") from exc


class AccountTokens:
    """What the clients of one account share: a lock, so that one renewal runs at a time (X refresh
    tokens are single-use), and the last renewal for RENEWAL_KEPT seconds, so that a client still
    holding the refresh token it spent takes the new credentials instead of spending it again."""

    def __init__(self) -> None:
        self.lock = asyncio.Lock()
        self._renewal: tuple[str, dict[str, Any]] | None = None
        self._forget: asyncio.TimerHandle | None = None

    def remember(self, spent: str | None, credentials: dict[str, Any]) -> None:
        """Offer for RENEWAL_KEPT seconds the credentials that renewing with `spent` bought.

        The event loop's timer holds this object until then (a client made from the row before the
        caller saved them may come after every earlier client is gone), then wipes them.
        """
        if self._forget is not None:
            self._forget.cancel()
        self._renewal = (spent, credentials) if spent else None
        self._forget = asyncio.get_running_loop().call_later(RENEWAL_KEPT, self.forget)

    def forget(self) -> None:
        """Drop the last renewal's credentials."""
        self._renewal, self._forget = None, None

    def bought_with(self, spent: str | None) -> dict[str, Any] | None:
        """The credentials a renewal with `spent` bought, while they are kept; None otherwise."""
        if self._renewal is None or not spent or self._renewal[0] != spent:
            return None
        return self._renewal[1]


# Weak: an entry lives while a client of its account does (or a renewal's timer), no longer.
_accounts: weakref.WeakValueDictionary[str, AccountTokens] = weakref.WeakValueDictionary()


def tokens_of(platform: str, account: str) -> AccountTokens:
    """The AccountTokens every live client of `account` on `platform` shares."""
    key = f"{platform}:{account}"
    tokens = _accounts.get(key)
    if tokens is None:
        tokens = _accounts[key] = AccountTokens()
    return tokens


class AuthorizedClient:
    """Authorized JSON calls for one account; every failure surfaces as a PlatformError."""

    platform: ClassVar[str]
    # Where the credentials keep the access token and the token a renewal spends.
    token_field: ClassVar[str] = "access_token"
    refresh_field: ClassVar[str] = "refresh_token"
    # Whether an empty body reads as {} (a DELETE may answer with none) or is an error.
    empty_is_object: ClassVar[bool] = True

    def __init__(self, ctx: AccountContext, http: PlatformHTTP) -> None:
        self.ctx = ctx
        self.http = http
        account = ctx.account_id if ctx.account_id is not None else ctx.credentials.get("identifier") or ctx.handle
        self._tokens = tokens_of(self.platform, str(account))

    # -- what each platform says ----------------------------------------------------------------
    def due(self, token: str) -> bool:
        """Whether `token` must be renewed before it is sent (it expires within a margin)."""
        return False

    def may_renew(self, error: PlatformError | None) -> bool:
        """Whether renewing can mend `error` (None: the account has no access token yet)."""
        return False

    async def refresh(self) -> None:
        """Renew the credentials and hand them to `ctx.update_credentials`."""
        raise CredentialsInvalid(f"{self.platform}: the account's token cannot be renewed", status=None)

    # -- the same for every platform --------------------------------------------------------------
    def auth_headers(self, token: str) -> dict[str, str]:
        """The Authorization header for `token` (never logged: PlatformHTTP logs no headers)."""
        return {"Authorization": f"Bearer {token}"}

    async def token(self) -> str:
        """The access token to send: renewed first when due; CredentialsInvalid when there is none."""
        token: str | None = self.ctx.credentials.get(self.token_field)
        if token and not self.due(token):
            return token
        if not token and not self.may_renew(None):
            raise CredentialsInvalid(f"{self.platform}: the account has no {self.token_field}", status=None)
        return await self.renew(stale=token)

    async def send(self, method: str, path: str, *, gone: bool = False, **kwargs: Any) -> httpx.Response:
        """Send one authorized request; after a token error the platform can mend, renew once and resend."""
        token = await self.token()
        try:
            return await self._send(token, method, path, gone, kwargs)
        except PlatformError as exc:
            if not self.may_renew(exc):
                raise
        return await self._send(await self.renew(stale=token), method, path, gone, kwargs)

    async def call(self, method: str, path: str, *, gone: bool = False, **kwargs: Any) -> Any:
        """Send one authorized request and return its JSON body."""
        return self.json(await self.send(method, path, gone=gone, **kwargs))

    async def renew(self, *, stale: str | None) -> str:
        """Renew the token, one renewal at a time across every client of the account; the new token."""
        async with self._tokens.lock:
            current: str | None = self.ctx.credentials.get(self.token_field)
            if current and current != stale and not self.due(current):
                return current  # another call renewed it while this one waited
            spent = self.ctx.credentials.get(self.refresh_field)
            bought = self._tokens.bought_with(spent)
            if bought is not None and bought.get(self.token_field) != stale:
                self.ctx.credentials = dict(bought)  # another client of this account renewed it meanwhile
                return str(bought[self.token_field])
            await self.refresh()
            self._tokens.remember(spent, self.ctx.credentials)
            log.info("token renewed", extra={"platform": self.platform, "account": self.ctx.account_id})
            return str(self.ctx.credentials[self.token_field])

    def json(self, response: httpx.Response) -> Any:
        """The body as JSON, or a PlatformError naming the call (never the token)."""
        return json_of(response, self.platform, empty_is_object=self.empty_is_object)

    async def _send(self, token: str, method: str, path: str, gone: bool, kwargs: dict[str, Any]) -> httpx.Response:
        headers = {**self.auth_headers(token), **(kwargs.get("headers") or {})}
        rest = {key: value for key, value in kwargs.items() if key != "headers"}
        return await self.http.request(method, path, headers=headers, not_found_is_gone=gone, **rest)
