"""Connecting an account by the platform's own sign-in: OAuth 2.0 authorization code with PKCE.

Mastodon: the person names an instance; we register an app there (POST /api/v1/apps, redirect
URI = our callback), send the browser to its /oauth/authorize with an S256 code challenge and a
random state, and on the callback trade the code and the verifier for a token. PKCE came with
Mastodon 4.3; older servers (and Takahē, GoToSocial) ignore the challenge and the verifier, and
the exchange works as before: the state and the app's client secret protect those logins.
X: the same with the operator's X app (settings.x_client_id / x_client_secret).

Between the redirect and the callback the login waits in a cookie sealed with the runtime's
Fernet key (encrypted and authenticated, so the app's client secret and the PKCE verifier are
never readable in the browser), valid PENDING_SECONDS and only for the person who started it.
No table: nothing to clean up, and a lost cookie only means "start again".
"""

from __future__ import annotations

import json
import secrets
from dataclasses import asdict, dataclass
from typing import Any

import httpx
from cryptography.fernet import Fernet, InvalidToken

from app.accounts.schemas import AccountCreate
from app.platforms.base import AccountContext, CredentialsInvalid, PlatformError
from app.platforms.mastodon import login as mastodon_login
from app.platforms.mastodon.client import MastodonClient, normalize_instance
from app.platforms.x import login as x_login
from app.platforms.x.client import XClient, data_of

PENDING_SECONDS = 15 * 60  # a Mastodon code lasts 10 minutes; signing in at the instance takes some too
CALLBACK = "/connect/{platform}/callback"
LABELS = {"mastodon": "Mastodon", "x": "X"}
# Takahē sets the bot flag only with the whole `write` scope; asked for when the person ticks it.
MASTODON_FULL_WRITE = "read write"


class ConnectFailed(Exception):
    """A sign-in that cannot go on: `status` for the page, `message` says what happened and what to do."""

    def __init__(self, status: int, title: str, message: str) -> None:
        super().__init__(message)
        self.status, self.title, self.message = status, title, message


@dataclass(frozen=True)
class Pending:
    """One sign-in between the redirect and the callback (sealed in a cookie, never shown)."""

    platform: str
    user_id: int
    state: str
    code_verifier: str
    redirect_uri: str
    client_id: str
    client_secret: str = ""  # Mastodon's per-login app; X's stays in the settings
    instance: str = ""


def callback_url(public_url: str, request_base: str, platform: str) -> str:
    """Where the platform sends the browser back: under public_url when set, else the request's address."""
    return (public_url or request_base).rstrip("/") + CALLBACK.format(platform=platform)


def seal(fernet: Fernet, pending: Pending) -> str:
    """The cookie value: the pending login encrypted and signed."""
    return fernet.encrypt(json.dumps(asdict(pending)).encode()).decode("ascii")


def unseal(fernet: Fernet, raw: str | None, *, platform: str, user_id: int, state: str) -> Pending:
    """The pending login the callback belongs to; ConnectFailed (400) when absent, expired, forged,
    another person's or another state's."""
    again = "Start again from “Connect an account”."
    if not raw:
        raise ConnectFailed(400, "No sign-in in progress",
                            f"This browser has no {LABELS.get(platform, platform)} sign-in waiting (it was finished, "
                            f"or cookies were cleared). {again}")
    try:
        data = json.loads(fernet.decrypt(raw.encode("ascii"), ttl=PENDING_SECONDS))
        pending = Pending(**data)
    except (InvalidToken, ValueError, TypeError, UnicodeError):
        raise ConnectFailed(400, "The sign-in expired",
                            f"The sign-in was started more than {PENDING_SECONDS // 60} minutes ago or could not "
                            f"be read. {again}") from None
    if pending.platform != platform or pending.user_id != user_id:
        raise ConnectFailed(400, "Not this sign-in", f"The sign-in waiting in this browser is not this one. {again}")
    if not state or not secrets.compare_digest(state, pending.state):
        raise ConnectFailed(400, "The sign-in does not match",
                            "The answer from the platform carries a different state than the sign-in started "
                            f"here: it is stale, or was not started by you. Nothing was connected. {again}")
    return pending


def refused(platform: str, error: str, description: str) -> ConnectFailed:
    """The platform sent the browser back with an error (the person declined, or the request was refused)."""
    why = "You (or the server) declined to authorize reposter" if error == "access_denied" else \
        f"The server refused the sign-in ({error}{': ' + description if description else ''})"
    return ConnectFailed(400, "Not authorized", f"{why}. Nothing was connected. To connect the account, start again "
                                                f"and approve reposter on the {platform} page.")


def _platform_failure(platform: str, step: str, exc: Exception) -> ConnectFailed:
    """ConnectFailed for a platform's error at `step`: refused (4xx) or unreachable (502)."""
    status = getattr(exc, "status", None)
    if isinstance(exc, CredentialsInvalid) or (isinstance(status, int) and 400 <= status < 500):
        return ConnectFailed(400, f"{platform} refused the sign-in",
                             f"{platform} refused {step}: {exc}. The code may be spent or expired (each works "
                             "once, for a few minutes). Start again from “Connect an account”.")
    return ConnectFailed(502, f"Could not reach {platform}",
                         f"{platform} did not answer as expected during {step}: {exc}. Check the address, wait a "
                         "minute and start again; if it keeps failing the server may be down.")


def instance_of(typed: str) -> str:
    """The instance's base URL from what a person typed (`mastodon.social`, a URL, or `@me@host`);
    ValueError saying what is wrong."""
    text = typed.strip()
    if "@" in text and "://" not in text:  # a handle: the instance is after its last @
        text = text.rsplit("@", 1)[1]
    if not text:
        raise ValueError("type the address of the Mastodon server, e.g. mastodon.social")
    try:
        url = httpx.URL(normalize_instance(text))
    except (httpx.InvalidURL, ValueError):
        raise ValueError(f"{typed.strip()[:80]!r} is not a server address; type e.g. mastodon.social") from None
    dotless = "." not in url.host and url.host != "localhost"
    if url.scheme not in ("http", "https") or not url.host or dotless or url.userinfo or url.query \
            or url.path not in ("", "/"):
        raise ValueError(f"{typed.strip()[:80]!r} is not a server address; type only its name, e.g. mastodon.social")
    return normalize_instance(str(url.copy_with(path="/")))


async def start_mastodon(http: httpx.AsyncClient, *, instance: str, redirect_uri: str, user_id: int,
                         full_write: bool = False) -> tuple[str, Pending]:
    """Register an app on the instance; the authorize URL to send the browser to, and the login to keep."""
    scopes = MASTODON_FULL_WRITE if full_write else mastodon_login.SCOPES
    try:
        login = await mastodon_login.start_login(http, instance, scopes=scopes, redirect_uri=redirect_uri)
    except (PlatformError, KeyError, TypeError) as exc:
        raise _platform_failure(instance, "registering reposter as an app (POST /api/v1/apps)", exc) from exc
    state = secrets.token_urlsafe(24)
    # force_login: the organizer may be signed in there as themselves, not as the account to connect
    url = httpx.URL(login.authorize_url).copy_merge_params({"state": state, "force_login": "true"})
    pending = Pending("mastodon", user_id, state, login.code_verifier, redirect_uri, login.client_id,
                      login.client_secret, login.instance)
    return str(url), pending


async def finish_mastodon(http: httpx.AsyncClient, pending: Pending, code: str) -> AccountCreate:
    """Trade the code (with the verifier) for a token and ask whose it is: the account to create."""
    login = mastodon_login.LoginStart(pending.instance, pending.client_id, pending.client_secret,
                                      pending.redirect_uri, "", pending.code_verifier, "")
    try:
        token = await mastodon_login.exchange_code(http, login, code)
    except PlatformError as exc:
        raise _platform_failure(pending.instance, "the sign-in code (POST /oauth/token)", exc) from exc
    config = {"base_url": pending.instance}
    ctx = AccountContext(handle="", config=config, credentials=token.credentials())
    try:
        client = MastodonClient(ctx, http)
        acct = str((await client.call("GET", "/api/v1/accounts/verify_credentials"))["acct"])
    except (PlatformError, KeyError, TypeError) as exc:
        raise _platform_failure(pending.instance, "reading the signed-in account (verify_credentials)", exc) from exc
    handle = acct if "@" in acct else f"{acct}@{httpx.URL(pending.instance).host}"
    return AccountCreate(platform="mastodon", handle=handle, credentials=token.credentials(), config=config)


def start_x(*, client_id: str, redirect_uri: str, user_id: int) -> tuple[str, Pending]:
    """The X authorize URL (S256 challenge, state) and the login to keep."""
    request = x_login.start_login(client_id, redirect_uri)
    return request.url, Pending("x", user_id, request.state, request.code_verifier, redirect_uri, client_id)


async def finish_x(http: httpx.AsyncClient, pending: Pending, code: str, *, client_secret: str,
                   bearer_token: str) -> AccountCreate:
    """Trade the code for X's tokens and ask whose they are: the account to create."""
    try:
        credentials: dict[str, Any] = await x_login.exchange_code(
            http, code=code, code_verifier=pending.code_verifier, client_id=pending.client_id,
            redirect_uri=pending.redirect_uri, client_secret=client_secret or None)
    except PlatformError as exc:
        raise _platform_failure("X", "the sign-in code (POST /2/oauth2/token)", exc) from exc
    if bearer_token:
        credentials["bearer_token"] = bearer_token
    ctx = AccountContext(handle="", config={}, credentials=credentials)
    try:
        me = data_of(await XClient(ctx, http).call("GET", "/2/users/me"), "the account")
        handle = str(me["username"])
    except (PlatformError, KeyError, TypeError) as exc:
        raise _platform_failure("X", "reading the signed-in account (GET /2/users/me)", exc) from exc
    return AccountCreate(platform="x", handle=handle, credentials=credentials, config={})
