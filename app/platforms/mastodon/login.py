"""Getting an access token from an instance: register an app, authorize, exchange the code.

Used by `reposter mastodon login --instance URL`:

    login = await start_login(http, "https://mastodon.social")
    print("Open", login.authorize_url)         # the user approves and is shown a code
    token = await exchange_code(http, login, code)
    # credentials {"access_token": token.access_token}, config {"base_url": login.instance}

The redirect is out-of-band (`urn:ietf:wg:oauth:2.0:oob`): the instance shows the code to copy,
so no web server is needed. PKCE (S256) is sent as well; instances before 4.3 ignore it.
`redirect_uris` goes as one string, the form docs.joinmastodon.org gives first ("String or Array
of Strings"; arrays only since Mastodon 4.3): Takahē and GoToSocial answer an array with 400.
"""

from __future__ import annotations

import base64
import hashlib
import secrets
from dataclasses import dataclass

import httpx

from app.platforms.authorized import json_of
from app.platforms.base import PlatformError
from app.platforms.http import PlatformHTTP
from app.platforms.mastodon.client import normalize_instance

OOB_REDIRECT = "urn:ietf:wg:oauth:2.0:oob"
# What the service does: read timelines, lists and follows; boost, favourite, post quotes;
# set the bot flag (write:accounts). Some servers (Takahē) set the bot flag only with the whole
# `write` scope: `reposter mastodon login --scopes "read write"` asks for it there.
SCOPES = "read write:statuses write:favourites write:accounts"
CLIENT_NAME = "reposter"


@dataclass(frozen=True)
class LoginStart:
    """A registered app and the URL where the account's owner approves it."""

    instance: str
    client_id: str
    client_secret: str
    redirect_uri: str
    scopes: str
    code_verifier: str
    authorize_url: str


@dataclass(frozen=True)
class LoginToken:
    """The access token an approved login yields."""

    access_token: str
    scope: str
    token_type: str = "Bearer"

    def credentials(self) -> dict[str, str]:
        """The account credentials the Mastodon platform expects."""
        return {"access_token": self.access_token}


def _http(http: httpx.AsyncClient, instance: str) -> PlatformHTTP:
    return PlatformHTTP(http, instance, platform="mastodon")


def pkce_pair() -> tuple[str, str]:
    """A PKCE code verifier and its S256 challenge (RFC 7636)."""
    verifier = secrets.token_urlsafe(48)
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return verifier, base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


async def start_login(
    http: httpx.AsyncClient,
    instance: str,
    *,
    client_name: str = CLIENT_NAME,
    scopes: str = SCOPES,
    redirect_uri: str = OOB_REDIRECT,
    website: str | None = None,
) -> LoginStart:
    """Register an app on `instance` (POST /api/v1/apps) and build its authorize URL."""
    instance = normalize_instance(instance)
    body: dict[str, object] = {"client_name": client_name, "redirect_uris": redirect_uri, "scopes": scopes}
    if website:
        body["website"] = website
    response = await _http(http, instance).request("POST", "/api/v1/apps", json=body)
    app = json_of(response, "mastodon", empty_is_object=False)
    verifier, challenge = pkce_pair()
    query = {
        "client_id": app["client_id"],
        "redirect_uri": redirect_uri,
        "response_type": "code",
        "scope": scopes,
        "code_challenge": challenge,
        "code_challenge_method": "S256",
    }
    url = httpx.URL(f"{instance}/oauth/authorize", params=query)
    return LoginStart(instance, app["client_id"], app["client_secret"], redirect_uri, scopes, verifier, str(url))


async def exchange_code(http: httpx.AsyncClient, login: LoginStart, code: str) -> LoginToken:
    """Trade the authorization code for an access token (POST /oauth/token)."""
    body = {
        "grant_type": "authorization_code",
        "code": code.strip(),
        "client_id": login.client_id,
        "client_secret": login.client_secret,
        "redirect_uri": login.redirect_uri,
        "code_verifier": login.code_verifier,
    }
    response = await _http(http, login.instance).request("POST", "/oauth/token", json=body)
    token = json_of(response, "mastodon", empty_is_object=False)
    if not token.get("access_token"):
        raise PlatformError("mastodon: the instance returned no access token", retryable=False)
    return LoginToken(token["access_token"], token.get("scope", login.scopes), token.get("token_type", "Bearer"))
