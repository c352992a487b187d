"""Who a name is on a Mastodon-API server: `GET /api/v1/accounts/lookup?acct=` or `/accounts/:id`.

An author is the server's account id; the handle kept for display is the canonical `user@domain`
(the instance's domain for local accounts). Servers differ in how they report local accounts'
`acct` (Mastodon: `alice`, Takahē: `alice@instance.example`): both become `alice@instance.example`.
"""

from __future__ import annotations

from typing import Any

import httpx

from app.platforms.base import Author, PostGone
from app.platforms.handles import handle_key
from app.platforms.mastodon.client import MastodonClient
from app.platforms.mastodon.normalize import account_to_author


def own_domain(api: MastodonClient) -> str:
    """The instance's domain, as local accounts' canonical `user@domain` carries it."""
    return httpx.URL(api.config.base_url).host.lower()


def canonical_acct(account: dict[str, Any], domain: str) -> str:
    """`alice` (local, as Mastodon reports it) or `alice@domain` -> `alice@domain`, lower-cased."""
    acct = (account.get("acct") or account.get("username") or "").lower()
    return acct if "@" in acct else f"{acct}@{domain}"


async def lookup_author(api: MastodonClient, name: str) -> Author | None:
    """The account `name` names (an acct with or without domain, or an account id); None if nobody."""
    domain = own_domain(api)
    local = handle_key(name, domain=domain)  # Mastodon resolves `alice`; some servers not `alice@own`
    account = await _by_id(api, name) if name.isdigit() else None
    try:
        account = account or await _lookup(api, local)
    except PostGone:
        return None
    author = account_to_author(account)
    return author.model_copy(update={"handle": canonical_acct(account, domain)})


async def _lookup(api: MastodonClient, acct: str) -> dict[str, Any]:
    """`/accounts/lookup`; a bare name nobody has here is asked again on the handles' domain.

    Takahē reads a bare name on the host the request was sent to, and answers 404 ("No matching
    domains found") when its API is reached at a host that is not one of its domains (seen on a
    real Takahē: API at 127.0.0.1:18300, handles on takahe.test)."""
    try:
        return await api.call("GET", "/api/v1/accounts/lookup", params={"acct": acct}, gone=True)
    except PostGone:
        handles_on = None if "@" in acct else await _handles_domain(api)
        if not handles_on or handles_on == own_domain(api):
            raise
        return await api.call("GET", "/api/v1/accounts/lookup", params={"acct": f"{acct}@{handles_on}"}, gone=True)


async def _handles_domain(api: MastodonClient) -> str | None:
    """The domain of the bot's own profile URL, where this instance's local handles live."""
    me = await api.call("GET", "/api/v1/accounts/verify_credentials")
    return httpx.URL(me.get("url") or "").host.lower() or None


async def _by_id(api: MastodonClient, account_id: str) -> dict[str, Any] | None:
    """The account with this id; None when there is none (a digits-only name may be a username)."""
    try:
        return await api.call("GET", f"/api/v1/accounts/{account_id}", gone=True)
    except PostGone:
        return None
