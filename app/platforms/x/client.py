"""XClient: one account's authorized calls to the X API v2, renewing its OAuth 2.0 user token.

User-context calls carry the account's access token; when it has expired (or a call answers 401
once) the client trades the refresh token at POST /2/oauth2/token, hands the new credentials to
`ctx.update_credentials` and tries again. The filtered stream and its rules only accept an
app-only bearer token, kept beside the user's tokens as `credentials.bearer_token`.
"""

from __future__ import annotations

import logging
import time
from collections.abc import AsyncGenerator
from datetime import datetime
from typing import Any, Literal

import httpx
from pydantic import BaseModel, ConfigDict, Field

from app.platforms.authorized import AuthorizedClient, config_of
from app.platforms.base import AccountContext, ActionRefused, CredentialsInvalid, PlatformError, RateLimited
from app.platforms.http import PlatformHTTP, retry_at_from_headers
from app.platforms.x.login import DEFAULT_BASE_URL, refresh_credentials

log = logging.getLogger("reposter.platforms.x")

PLATFORM = "x"
# Renew a token this many seconds before X says it expires, so no call races the deadline.
EXPIRY_MARGIN = 60


class XConfig(BaseModel):
    """An account's X settings (AccountContext.config)."""

    model_config = ConfigDict(extra="ignore")

    base_url: str = DEFAULT_BASE_URL
    # Posts per request; X allows 10..100 for search and 5..100 for timelines (clamped to those).
    page_size: int = Field(default=100, ge=1, le=100)
    # Pages one poll may read before it stops (the newest posts always come first on X).
    max_pages: int = Field(default=10, ge=1)
    # Pages of followers / following / list members (1000 accounts each) read at most.
    max_user_pages: int = Field(default=50, ge=1)
    # Pages of /2/tweets/:id/retweeted_by (100 users each) has_reposted reads before it says "unknown".
    max_retweeted_by_pages: int = Field(default=5, ge=1)
    # Longest filtered-stream rule the app's access level accepts (512 self-serve, 1024+ higher).
    stream_rule_max_length: int = Field(default=512, ge=1)
    # X sends a keep-alive every 20 s; no byte for this long means the stream stalled.
    stream_stall_seconds: float = Field(default=30.0, gt=0)
    # Failed stream connection attempts in a row before stream() gives up and raises.
    stream_max_failures: int = Field(default=10, ge=1)
    # Which names to ask for fields in: "tweet" (tweet.fields, referenced_tweets.id: docs.x.com)
    # or "post" (post.fields, referenced_posts: the OpenAPI document 2.167).
    field_names: Literal["tweet", "post"] = "tweet"


class XClient(AuthorizedClient):
    """Authorized JSON calls for one account; every failure surfaces as a PlatformError."""

    platform = PLATFORM

    def __init__(self, ctx: AccountContext, http: httpx.AsyncClient) -> None:
        self.config = config_of(XConfig, ctx.config, PLATFORM)
        self.raw = http
        super().__init__(ctx, PlatformHTTP(http, self.config.base_url, platform=PLATFORM, bucket=x_bucket))
        self._me = ctx.platform_user_id

    async def call(self, method: str, path: str, *, gone: bool = False, app: bool = False, **kwargs: Any) -> Any:
        """Send one request as the account (or as the app with `app=True`, never renewed) and return its JSON body."""
        if not app:
            return await super().call(method, path, gone=gone, **kwargs)
        headers = self.auth_headers(self.app_token())
        return self.json(await self.http.request(method, path, headers=headers, not_found_is_gone=gone, **kwargs))

    def due(self, token: str) -> bool:
        """Renew before the call when X's `expires_at` is (nearly) past and a refresh token is at hand."""
        return _expired(self.ctx.credentials.get("expires_at")) and bool(self.ctx.credentials.get("refresh_token"))

    def may_renew(self, error: PlatformError | None) -> bool:
        """A 401 once is mended by a refresh, when there is a refresh token to trade."""
        refused = isinstance(error, CredentialsInvalid) and error.status == 401
        return refused and bool(self.ctx.credentials.get("refresh_token"))

    async def refresh(self) -> None:
        """Trade the (single-use) refresh token at POST /2/oauth2/token."""
        fresh = await refresh_credentials(self.raw, self.ctx.credentials, base_url=self.config.base_url)
        self.ctx.update_credentials(fresh)

    async def me_id(self) -> str:
        """The account's X user id (from the context, else GET /2/users/me once)."""
        if not self._me:
            body = await self.call("GET", "/2/users/me")
            self._me = str(data_of(body, "the account")["id"])
        return self._me

    async def user_set(self, path: str, *, per_page: int = 1000) -> set[str]:
        """Ids and lower-cased usernames of a paginated user list (followers, following, members)."""
        found: set[str] = set()
        token: str | None = None
        for _ in range(self.config.max_user_pages):
            params = {"max_results": per_page, **({"pagination_token": token} if token else {})}
            body = await self.call("GET", path, params=params)
            for user in body.get("data") or []:
                found.update({str(user["id"]), str(user.get("username", "")).lower()} - {""})
            token = (body.get("meta") or {}).get("next_token")
            if not token:
                return found
        log.warning("x user list cut short", extra={"path": path, "pages": self.config.max_user_pages})
        return found

    def app_token(self) -> str:
        """The app-only bearer token the filtered stream requires; ActionRefused without one."""
        token = self.ctx.credentials.get("bearer_token")
        if not token:
            raise ActionRefused("x: the filtered stream needs the app's bearer token (credentials.bearer_token)")
        return token

    async def stream_lines(self, path: str, params: dict[str, str]) -> AsyncGenerator[str, None]:
        """The lines of a streaming GET as the app; ends when X closes the connection."""
        timeout = httpx.Timeout(10.0, read=self.config.stream_stall_seconds)
        headers = self.auth_headers(self.app_token())
        url = f"{self.http.base_url}{path}"
        try:
            async with self.raw.stream("GET", url, params=params, headers=headers, timeout=timeout) as response:
                if response.status_code >= 400:
                    await response.aread()
                    raise _stream_error(response)
                log.info("x stream connected", extra={"account": self.ctx.account_id})
                async for line in response.aiter_lines():
                    yield line
        except (httpx.TimeoutException, httpx.TransportError) as exc:
            raise PlatformError(f"x: the stream broke off ({type(exc).__name__})") from exc


# X limits each endpoint on its own (docs.x.com/x-api/fundamentals/rate-limits): a 429 on search
# leaves retweets, timelines and the rest untouched. Names for the endpoints reposter calls;
# any other is its method and path with ids as `:id`.
X_BUCKETS = {
    "GET /2/tweets/search/recent": "search",
    "GET /2/users/:id/tweets": "user_timeline",
    "GET /2/users/:id/timelines/reverse_chronological": "home_timeline",
    "POST /2/users/:id/retweets": "retweets",
    "DELETE /2/users/:id/retweets/:id": "unretweet",
    "POST /2/tweets": "create_post",
    "DELETE /2/tweets/:id": "delete_post",
    "POST /2/users/:id/likes": "likes",
    "DELETE /2/users/:id/likes/:id": "unlike",
    "GET /2/tweets/:id/retweeted_by": "retweeted_by",
    "GET /2/users/:id/followers": "followers",
    "GET /2/users/:id/following": "following",
    "GET /2/lists/:id/members": "list_members",
    "GET /2/users/me": "me",
    "GET /2/tweets/search/stream": "stream",
    "GET /2/tweets/search/stream/rules": "stream_rules",
    "POST /2/tweets/search/stream/rules": "stream_rules",
}
# The bucket each action spends (Platform.rate_bucket).
X_ACTION_BUCKETS = {"repost": "retweets", "quote": "create_post", "reply": "create_post", "like": "likes",
                    "undo:repost": "unretweet", "undo:quote": "delete_post", "undo:reply": "delete_post",
                    "undo:like": "unlike"}


def x_bucket(method: str, path: str) -> str:
    """The X rate-limit bucket (one per endpoint) of a call."""
    version, *rest = path.lstrip("/").split("/")
    endpoint = f"{method} /{version}/" + "/".join(":id" if part.isdigit() else part for part in rest)
    if endpoint.startswith("GET /2/users/by/username/"):
        return "user_lookup"
    return X_BUCKETS.get(endpoint, endpoint)


def _expired(expires_at: Any) -> bool:
    """Whether a token that expires at `expires_at` (epoch seconds or ISO 8601) is due for renewal."""
    if expires_at in (None, ""):
        return False
    try:
        if isinstance(expires_at, str) and not expires_at.replace(".", "", 1).isdigit():
            expires_at = datetime.fromisoformat(expires_at.replace("Z", "+00:00")).timestamp()
        return float(expires_at) <= time.time() + EXPIRY_MARGIN
    except (TypeError, ValueError):
        return False  # unreadable: let X say (a 401 renews it then)


def data_of(body: dict[str, Any], what: str) -> dict[str, Any]:
    """`body["data"]`, or the problem X reported instead (HTTP 200 with only `errors`)."""
    if body.get("data"):
        return body["data"]
    problems = body.get("errors") or [{}]
    detail = problems[0].get("detail") or problems[0].get("title") or "no data"
    raise PlatformError(f"x: {what} could not be read: {detail}", retryable=False, status=404)


def _stream_error(response: httpx.Response) -> PlatformError:
    """The PlatformError for a stream connection X refused."""
    status = response.status_code
    if status == 429:  # also "too many connections": only one stream per app on most tiers
        retry_at = retry_at_from_headers(response.headers)
        return RateLimited("x: the stream is rate limited", retry_at=retry_at, bucket="stream")
    if status in (401, 403):
        return CredentialsInvalid(f"x: the stream refused the app's bearer token ({status})", status=status)
    return PlatformError(f"x: the stream answered HTTP {status}", retryable=status >= 500, status=status)
