"""XRPC calls with the account's session: reused, refreshed when it expires, re-created only
when the refresh fails (Bluesky allows 30 logins per 5 minutes: never one per poll)."""

from __future__ import annotations

import base64
import json
import logging
import time
from typing import Any

import httpx

from app.platforms.authorized import AuthorizedClient
from app.platforms.base import AccountContext, CredentialsInvalid, PlatformError
from app.platforms.bluesky.config import BlueskyConfig, load_credentials
from app.platforms.http import PlatformHTTP

log = logging.getLogger("reposter.platforms.bluesky")

# Renew an access token this many seconds before its `exp`, so a call never starts with a dead one.
EXPIRY_MARGIN = 60
TOKEN_ERRORS = ("ExpiredToken", "InvalidToken")


def jwt_expiry(token: str) -> float | None:
    """The `exp` claim of a JWT (unverified: only to know when to renew), None if unreadable."""
    try:
        payload = token.split(".")[1]
        claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
        return float(claims["exp"])
    except (IndexError, ValueError, KeyError, TypeError):
        return None


def is_expiring(token: str | None, margin: float = EXPIRY_MARGIN) -> bool:
    """Whether the token is missing or expires within `margin` seconds."""
    if not token:
        return True
    exp = jwt_expiry(token)
    return exp is not None and exp - margin <= time.time()


def is_token_error(exc: PlatformError) -> bool:
    """401, or the 400 ExpiredToken / InvalidToken XRPC errors: the session needs renewing."""
    if isinstance(exc, CredentialsInvalid):
        return True
    return exc.status == 400 and any(name in str(exc) for name in TOKEN_ERRORS)


# docs.bsky.app/docs/advanced-guides/rate-limits: repo writes (create, update, delete records)
# cost points from one budget per account (5,000 an hour, 35,000 a day), logins have their own
# (30 per 5 minutes), and reads are limited apart from writes.
WRITE_BUCKET, SESSION_BUCKET, READ_BUCKET = "repo_write", "session", "read"
_WRITES = ("com.atproto.repo.createRecord", "com.atproto.repo.deleteRecord", "com.atproto.repo.putRecord",
           "com.atproto.repo.applyWrites")


def bluesky_bucket(method: str, path: str) -> str:
    """The Bluesky rate-limit bucket of an XRPC call."""
    nsid = path.rsplit("/", 1)[-1]
    if nsid in _WRITES:
        return WRITE_BUCKET
    if nsid in ("com.atproto.server.createSession", "com.atproto.server.refreshSession"):
        return SESSION_BUCKET
    return READ_BUCKET


class XrpcClient(AuthorizedClient):
    """GET queries and POST procedures against the PDS (or a public AppView) for one account."""

    platform = "bluesky"
    token_field = "access_jwt"
    refresh_field = "refresh_jwt"

    def __init__(self, ctx: AccountContext, http: httpx.AsyncClient, config: BlueskyConfig) -> None:
        self.config = config
        super().__init__(ctx, PlatformHTTP(http, config.pds_url, platform="bluesky", bucket=bluesky_bucket))
        self.appview = (PlatformHTTP(http, config.appview_url, platform="bluesky", bucket=bluesky_bucket)
                        if config.appview_url else None)

    async def query(self, nsid: str, params: dict[str, Any], *, public: bool = False) -> dict[str, Any]:
        """Run a query; `public` ones go to the AppView without a session when one is configured."""
        params = {k: v for k, v in params.items() if v is not None}
        # Views (posts, profiles) carry the labels of the labelers the account subscribes to.
        headers = self.config.labeler_headers() if nsid.startswith("app.bsky.") else {}
        if public and self.appview is not None:
            return self.json(await self.appview.request("GET", f"/xrpc/{nsid}", params=params, headers=headers))
        return await self.call("GET", f"/xrpc/{nsid}", params=params, headers=headers)

    async def procedure(self, nsid: str, body: dict[str, Any]) -> dict[str, Any]:
        """Run a procedure on the PDS with the session."""
        return await self.call("POST", f"/xrpc/{nsid}", json=body)

    async def did(self) -> str:
        """The account's DID: from the session, the account, or (never known yet) a login."""
        did = self.ctx.credentials.get("did") or self.ctx.platform_user_id
        return did or (await self.login())["did"]

    async def login(self) -> dict[str, Any]:
        """Create a new session from the app password and store it; return the session."""
        creds = load_credentials(self.ctx)
        body = {"identifier": creds.identifier, "password": creds.app_password}
        try:
            response = await self.http.request("POST", "/xrpc/com.atproto.server.createSession", json=body)
        except PlatformError as exc:
            if exc.status == 400:  # AuthFactorTokenRequired, AccountTakedown, ...
                raise CredentialsInvalid(f"bluesky: login refused ({exc})", status=400) from exc
            raise
        log.info("bluesky login", extra={"account": self.ctx.account_id})
        return self._store(self.json(response))

    def due(self, token: str) -> bool:
        """Renew an access token that expires within EXPIRY_MARGIN seconds."""
        return is_expiring(token)

    def may_renew(self, error: PlatformError | None) -> bool:
        """No session yet, or an expired or rejected token: refresh the session (or log in)."""
        return error is None or is_token_error(error)

    async def refresh(self) -> None:
        """Refresh the session, or log in when there is none or the refresh token is refused."""
        refresh = self.ctx.credentials.get("refresh_jwt")
        if refresh and not is_expiring(refresh, margin=0):
            try:
                await self._refresh(refresh)
                return
            except PlatformError as exc:
                if not is_token_error(exc):
                    raise  # 5xx or 429: keep the session, try again later
                log.info("bluesky refresh refused, logging in", extra={"account": self.ctx.account_id})
        await self.login()

    async def _refresh(self, refresh_jwt: str) -> dict[str, Any]:
        """com.atproto.server.refreshSession: authenticated with the refresh token, no body."""
        headers = self.auth_headers(refresh_jwt)
        response = await self.http.request("POST", "/xrpc/com.atproto.server.refreshSession", headers=headers)
        return self._store(self.json(response))

    def _store(self, session: dict[str, Any]) -> dict[str, Any]:
        """Save the session with the credentials; the owner persists them encrypted."""
        self.ctx.update_credentials(
            {
                **self.ctx.credentials,
                "access_jwt": session["accessJwt"],
                "refresh_jwt": session["refreshJwt"],
                "did": session["did"],
            }
        )
        return session

    def json(self, response: httpx.Response) -> dict[str, Any]:
        """The JSON object of a response; {} for an empty body (deleteRecord may send none)."""
        body = super().json(response)
        if not isinstance(body, dict):
            raise PlatformError("bluesky: answer is not a JSON object")
        return body
