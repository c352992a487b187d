"""Connecting an X account: OAuth 2.0 Authorization Code with PKCE, and the token endpoint.

The flow (docs.x.com, "OAuth 2.0 Authorization Code Flow with PKCE"):
1. `start_login(client_id, redirect_uri)` makes a code verifier, its S256 challenge, a state and
   the authorize URL; the person opens the URL and approves the app.
2. X redirects to `redirect_uri?state=...&code=...`; `code_from_callback(url, state)` checks the
   state and returns the code. `login_interactively` runs 1-3 at a terminal (`reposter x login`).
3. `exchange_code(...)` trades the code and the verifier for tokens at POST /2/oauth2/token and
   returns the account's credentials: `{access_token, refresh_token, expires_at, client_id,
   client_secret?}`. `refresh_credentials(...)` does the same with grant_type=refresh_token.

A confidential client (one with a client secret) authenticates to the token endpoint with HTTP
Basic; a public client sends its client_id in the form instead.
"""

from __future__ import annotations

import base64
import hashlib
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import httpx

from app.platforms.authorized import json_of
from app.platforms.base import CredentialsInvalid, PlatformError
from app.platforms.http import PlatformHTTP

AUTHORIZE_URL = "https://x.com/i/oauth2/authorize"
TOKEN_PATH = "/2/oauth2/token"
DEFAULT_BASE_URL = "https://api.x.com"
# What reposter needs: read posts and users, retweet and quote, read follows and list members for
# rule scopes (`followers`, `list:<id>`), and offline.access for a refresh token so that the
# service keeps working unattended.
SCOPES = ("tweet.read", "tweet.write", "users.read", "follows.read", "list.read", "offline.access")


def new_code_verifier() -> str:
    """A fresh PKCE code verifier: 86 characters of the URL-safe alphabet (RFC 7636 allows 43-128)."""
    return secrets.token_urlsafe(64)


def code_challenge(verifier: str) -> str:
    """The S256 challenge of `verifier`: base64url(sha256(verifier)) without padding."""
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


def authorize_url(
    client_id: str,
    redirect_uri: str,
    *,
    state: str,
    challenge: str,
    scopes: tuple[str, ...] = SCOPES,
    endpoint: str = AUTHORIZE_URL,
) -> str:
    """The URL where the account's owner approves the app (response_type=code, S256 challenge)."""
    query = {
        "response_type": "code",
        "client_id": client_id,
        "redirect_uri": redirect_uri,
        "scope": " ".join(scopes),
        "state": state,
        "code_challenge": challenge,
        "code_challenge_method": "S256",
    }
    return f"{endpoint}?{urlencode(query)}"


@dataclass(frozen=True)
class LoginRequest:
    """One login in progress: show `url`, keep `state` and `code_verifier` until the callback."""

    url: str
    state: str
    code_verifier: str
    redirect_uri: str
    client_id: str


def start_login(client_id: str, redirect_uri: str, *, scopes: tuple[str, ...] = SCOPES) -> LoginRequest:
    """Begin a login: a new verifier, its challenge, a random state and the authorize URL."""
    verifier = new_code_verifier()
    state = secrets.token_urlsafe(24)
    url = authorize_url(client_id, redirect_uri, state=state, challenge=code_challenge(verifier), scopes=scopes)
    return LoginRequest(url=url, state=state, code_verifier=verifier, redirect_uri=redirect_uri, client_id=client_id)


def code_from_callback(callback: str, expected_state: str) -> str:
    """The authorization code from the redirect URL (or its query string); ValueError if refused or forged."""
    query = urlsplit(callback).query if "?" in callback or "://" in callback else callback
    params = {key: values[0] for key, values in parse_qs(query.lstrip("?")).items()}
    if "error" in params:
        raise ValueError(
            f"X refused the authorization: {params['error']} {params.get('error_description', '')}".strip()
        )
    if not secrets.compare_digest(params.get("state", ""), expected_state):
        raise ValueError("the callback's state does not match this login (a stale or forged redirect)")
    if not params.get("code"):
        raise ValueError("the callback carries no authorization code")
    return params["code"]


async def exchange_code(
    http: httpx.AsyncClient,
    *,
    code: str,
    code_verifier: str,
    client_id: str,
    redirect_uri: str,
    client_secret: str | None = None,
    base_url: str = DEFAULT_BASE_URL,
) -> dict[str, Any]:
    """Trade an authorization code for the account's credentials (grant_type=authorization_code)."""
    form = {
        "grant_type": "authorization_code",
        "code": code,
        "redirect_uri": redirect_uri,
        "code_verifier": code_verifier,
    }
    return await _token_request(http, form, client_id=client_id, client_secret=client_secret, base_url=base_url)


async def login_interactively(
    http: httpx.AsyncClient,
    *,
    client_id: str,
    redirect_uri: str,
    client_secret: str | None = None,
    ask: Callable[[str], str] | None = None,
    say: Callable[[str], None] = print,
    base_url: str = DEFAULT_BASE_URL,
    scopes: tuple[str, ...] = SCOPES,
) -> dict[str, Any]:
    """`reposter x login`: show the authorize URL, read back the redirect, return the credentials."""
    ask = ask or input  # looked up at call time, so that a replaced `input` is the one used
    request = start_login(client_id, redirect_uri, scopes=scopes)
    say("Open this address, sign in as the account reposter should act for, and approve the app:")
    say(request.url)
    say(f"X then sends the browser to {redirect_uri}?state=...&code=... (the page may not load).")
    code = code_from_callback(ask("Paste that whole address here: ").strip(), request.state)
    return await exchange_code(
        http,
        code=code,
        code_verifier=request.code_verifier,
        client_id=client_id,
        redirect_uri=redirect_uri,
        client_secret=client_secret,
        base_url=base_url,
    )


async def refresh_credentials(
    http: httpx.AsyncClient, credentials: dict[str, Any], *, base_url: str = DEFAULT_BASE_URL
) -> dict[str, Any]:
    """New credentials from the refresh token; CredentialsInvalid when X no longer accepts it.

    X rotates refresh tokens: the old one stops working once used, so the caller must store the
    returned credentials before anything else can fail.
    """
    refresh_token = credentials.get("refresh_token")
    client_id = credentials.get("client_id")
    if not refresh_token or not client_id:
        raise CredentialsInvalid("x: the access token expired and there is no refresh_token/client_id to renew it")
    form = {"grant_type": "refresh_token", "refresh_token": refresh_token}
    fresh = await _token_request(
        http, form, client_id=client_id, client_secret=credentials.get("client_secret"), base_url=base_url
    )
    return {**credentials, **fresh}  # keeps bearer_token, and the old refresh token if none came back


async def _token_request(
    http: httpx.AsyncClient,
    form: dict[str, str],
    *,
    client_id: str,
    client_secret: str | None,
    base_url: str,
) -> dict[str, Any]:
    """POST the form to the token endpoint and turn the answer into stored credentials."""
    headers = {}
    if client_secret:
        basic = base64.b64encode(f"{client_id}:{client_secret}".encode()).decode("ascii")
        headers["Authorization"] = f"Basic {basic}"
    else:
        form = {**form, "client_id": client_id}
    api = PlatformHTTP(http, base_url, platform="x")
    try:
        response = await api.request("POST", TOKEN_PATH, data=form, headers=headers)
    except PlatformError as exc:
        if exc.status == 400:  # invalid_grant: the code or refresh token is spent or revoked
            raise CredentialsInvalid(f"x: the token endpoint refused the grant ({exc})", status=400) from exc
        raise
    body = json_of(response, "x", empty_is_object=False)
    return _credentials_from(body, client_id=client_id, client_secret=client_secret)


def _credentials_from(body: dict[str, Any], *, client_id: str, client_secret: str | None) -> dict[str, Any]:
    """The credentials reposter keeps, from a token response {access_token, expires_in, refresh_token, scope}."""
    if not body.get("access_token"):
        raise PlatformError("x: the token endpoint answered without an access_token", retryable=False)
    credentials: dict[str, Any] = {
        "access_token": body["access_token"],
        "expires_at": int(time.time()) + int(body.get("expires_in", 7200)),
        "client_id": client_id,
    }
    if body.get("refresh_token"):
        credentials["refresh_token"] = body["refresh_token"]
    if body.get("scope"):
        credentials["scope"] = body["scope"]
    if client_secret:
        credentials["client_secret"] = client_secret
    return credentials
