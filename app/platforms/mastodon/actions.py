"""MastodonActionClient: boosts, favourites, quotes and the account's follow graph.

Quotes: Mastodon 4.5 (API version 7) added native quote posts (`quoted_status_id` on
POST /api/v1/statuses); the classic API has none. A quote here is a new public status whose text
ends with the quoted post's URL *and*, unless `native_quotes` is off, carries `quoted_status_id`.
On 4.5+ that is a real quote (the link in the text keeps the server from prepending its own
"RE:" line); older servers ignore the unknown parameter and show the link with its preview.
If the server refuses the quote (the quoted post is gone, or its author's quote policy does not
let this account quote it: Mastodon answers 404 `quoted_status_not_found` for both), the action
fails with ActionRefused. It is not retried as a bare link: that would go around the author's
choice. Other refusals (422: text too long, …) stay PlatformErrors with Mastodon's message.

Replies (the account's answer to a "stop" mention): a status with `in_reply_to_id`, addressed to the
author (`@acct` first, as Mastodon's own clients do, so that they are notified), no more public
than the mention (`direct` and `private` stay so; otherwise `unlisted`, kept off public timelines).
A lost answer is settled through the mention's context: our status among its descendants.

Sent twice: GoToSocial makes a new boost for every reblog call (Mastodon returns the existing
one), and only Mastodon honours `Idempotency-Key`. So a call whose answer was lost is settled by
`find_own` (the status' `reblogged` / `favourited` flags, or our own quote among our statuses),
and undoing a repost unboosts until the status says it is no longer boosted by us.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import httpx

from app.platforms.base import (
    AccountContext,
    ActionClient,
    ActionRefused,
    Author,
    OutcomeUnknown,
    PlatformError,
    Post,
    PostGone,
)
from app.platforms.mastodon import lookup
from app.platforms.mastodon.client import MastodonClient
from app.platforms.mastodon.normalize import status_to_post


def target_id(post: Post) -> str:
    """The status to act on: the boosted original for a boost, else the post itself."""
    return post.ref.get("reblog_of_id") or post.id


# GoToSocial may hold several boosts of one status by one account: unboost at most this many times.
MAX_UNBOOSTS = 20
# Our own statuses read (40 per page) when looking for a quote whose answer was lost.
QUOTE_SEARCH_PAGES = 5
# Clocks differ: our statuses dated this much before the action was decided are still looked at.
CLOCK_SLACK = timedelta(minutes=10)


def account_keys(account: dict[str, Any]) -> set[str]:
    """How the engine may name an account: its id and its lower-cased acct."""
    keys = {str(account["id"])}
    if account.get("acct"):
        keys.add(account["acct"].lower())
    return keys


class MastodonActionClient(ActionClient):
    """Acts for one account on its instance."""

    def __init__(self, ctx: AccountContext, http: httpx.AsyncClient) -> None:
        self.api = MastodonClient(ctx, http)

    async def _status_action(self, post: Post, verb: str, *, idempotent: bool | None = None) -> dict[str, Any]:
        """POST /api/v1/statuses/{id}/{verb}; PostGone when the status is no longer there."""
        path = f"/api/v1/statuses/{target_id(post)}/{verb}"
        return await self.api.call("POST", path, gone=True, idempotent=idempotent)

    async def lookup_author(self, name: str) -> Author | None:
        """The account an acct (`alice`, `alice@domain`) or an account id names; None if nobody."""
        return await lookup.lookup_author(self.api, name)

    async def repost(self, post: Post) -> str:
        """Boost; return the boost's own status id (Mastodon returns the existing one if boosted)."""
        boost = await self._status_action(post, "reblog")
        return str(boost["id"])

    async def undo(self, post: Post, platform_action_id: str | None, kind: str = "repost") -> None:
        """Unboost, unfavourite, or delete the quote status (`platform_action_id`)."""
        if kind == "repost":
            await self._unboost_all(post)
        elif kind == "like":
            await self._status_action(post, "unfavourite", idempotent=True)
        elif kind in ("quote", "reply"):
            if not platform_action_id:
                raise PlatformError(f"mastodon: cannot undo a {kind} without its status id", retryable=False)
            await self.api.call("DELETE", f"/api/v1/statuses/{platform_action_id}", gone=True)
        else:
            raise ActionRefused(f"mastodon: no undo for {kind!r}")

    async def quote(self, post: Post, text: str) -> str:
        """Publish `text` plus the post's URL as a new public status (a native quote on 4.5+).

        The URL goes in once: a template with `{url}` has put it in the text already."""
        link = post.url or ""
        status = text.strip() if link and link in text else f"{text.rstrip()}\n\n{link}".strip()
        body: dict[str, str] = {"status": status, "visibility": "public"}
        if self.api.config.native_quotes:
            body["quoted_status_id"] = target_id(post)
        # Mastodon keeps keys per account for an hour: a POST retried after a lost answer posts once.
        headers = {"Idempotency-Key": f"reposter-quote-{target_id(post)}"}
        try:
            status = await self.api.call("POST", "/api/v1/statuses", json=body, headers=headers)
        except PlatformError as exc:
            if exc.status == 404 and "quoted_status_id" in body:
                raise ActionRefused(f"mastodon: the instance refused to quote this post ({exc})") from exc
            raise
        return str(status["id"])

    async def reply(self, post: Post, text: str) -> str:
        """A status answering `post` (`in_reply_to_id`), its author's @acct first; PostGone when the
        status is no longer there."""
        parent = await self._viewed(post)
        acct = str((parent.get("account") or {}).get("acct") or "")
        mention = f"@{acct}" if acct else ""
        status = text.strip() if not mention or mention.lower() in text.lower() else f"{mention} {text.strip()}"
        visibility = parent.get("visibility") if parent.get("visibility") in ("direct", "private") else "unlisted"
        body = {"status": status, "in_reply_to_id": target_id(post), "visibility": visibility}
        # Mastodon keeps keys per account for an hour: a POST retried after a lost answer posts once.
        headers = {"Idempotency-Key": f"reposter-reply-{target_id(post)}"}
        made = await self.api.call("POST", "/api/v1/statuses", json=body, headers=headers, gone=True)
        return str(made["id"])

    async def like(self, post: Post) -> str:
        """Favourite; return the favourited status' id."""
        status = await self._status_action(post, "favourite")
        return str(status["id"])

    async def _unboost_all(self, post: Post) -> None:
        """Unboost until the status is no longer boosted by us: GoToSocial may hold several boosts,
        and its unreblog answer shows the status as it was before, so each round asks afresh."""
        for _ in range(MAX_UNBOOSTS):
            await self._status_action(post, "unreblog", idempotent=True)
            if await self.has_reposted(post) is not True:
                return
        raise PlatformError(f"mastodon: {target_id(post)} still boosted after {MAX_UNBOOSTS} unboosts")

    async def has_reposted(self, post: Post) -> bool | None:
        """The status' `reblogged` flag for this account (None if the server leaves it out)."""
        return _flag(await self._viewed(post), "reblogged")

    async def find_own(self, post: Post, kind: str, *, since: datetime | None = None) -> str | None:
        """Our boost or favourite from the status' own flags; our quote from our recent statuses; our
        reply from the status' context."""
        if kind == "quote":
            return await self._own_quote(post, since)
        if kind == "reply":
            return await self._own_reply(post)
        flag = {"repost": "reblogged", "like": "favourited"}.get(kind)
        if flag is None:
            raise ActionRefused(f"mastodon: no {kind!r} to look for")
        value = _flag(await self._viewed(post), flag)
        if value is None:
            raise OutcomeUnknown(f"mastodon: the instance does not say whether the status is {flag}")
        return target_id(post) if value else None

    async def _viewed(self, post: Post) -> dict[str, Any]:
        """The status as this account sees it."""
        return await self.api.call("GET", f"/api/v1/statuses/{target_id(post)}", gone=True)

    async def _own_reply(self, post: Post) -> str | None:
        """Our status answering `post`, among the descendants of its context (GET .../context)."""
        context = await self.api.call("GET", f"/api/v1/statuses/{target_id(post)}/context", gone=True)
        me, parent = await self.api.own_id(), target_id(post)
        descendants = context.get("descendants") if isinstance(context, dict) else None
        for status in descendants or []:
            if str((status.get("account") or {}).get("id")) == me and str(status.get("in_reply_to_id")) == parent:
                return str(status["id"])
        return None

    async def _own_quote(self, post: Post, since: datetime | None) -> str | None:
        """Our status quoting `post` (natively, or by its link), newest first, back to `since`."""
        path = f"/api/v1/accounts/{await self.api.own_id()}/statuses"
        oldest = since - CLOCK_SLACK if since else None
        params = {"limit": "40", "exclude_reblogs": "true"}
        async for page in self.api.pages(path, params, max_pages=QUOTE_SEARCH_PAGES):
            for status in page.items:
                if _quotes(status, post):
                    return str(status["id"])
                if oldest and (created := _created(status)) and created < oldest:
                    return None
            if not page.links.get("next"):
                return None
        raise OutcomeUnknown(f"mastodon: no quote of {target_id(post)} in our last {QUOTE_SEARCH_PAGES} pages")

    async def fetch_post(self, post: Post) -> Post | None:
        """GET /api/v1/statuses/:id (the boosted original for a boost); None once deleted (404)."""
        try:
            status = await self.api.call("GET", f"/api/v1/statuses/{target_id(post)}", gone=True)
        except PostGone:
            return None
        return status_to_post(status)

    async def followers(self) -> set[str]:
        """Ids and accts of the accounts following this one, every page of the Link header."""
        return await self._accounts(f"/api/v1/accounts/{await self.api.own_id()}/followers")

    async def followers_count(self) -> int | None:
        """How many followers the account's own profile reports (verify_credentials)."""
        me = await self.api.call("GET", "/api/v1/accounts/verify_credentials")
        return me.get("followers_count") if isinstance(me, dict) else None

    async def following(self) -> set[str]:
        """Ids and accts of the accounts this one follows, every page of the Link header."""
        return await self._accounts(f"/api/v1/accounts/{await self.api.own_id()}/following")

    async def list_members(self, list_id: str) -> set[str]:
        """Ids and accts of the members of one of the account's lists."""
        return await self._accounts(f"/api/v1/lists/{list_id}/accounts")

    async def _accounts(self, path: str) -> set[str]:
        """Every account of a paginated account list (80 per page, `next` links to older)."""
        keys: set[str] = set()
        async for page in self.api.pages(path, {"limit": "80"}, max_pages=self.api.config.max_account_pages):
            for account in page.items:
                keys |= account_keys(account)
        return keys


def _flag(status: dict[str, Any], name: str) -> bool | None:
    """A boolean viewer flag of a status (None if the server leaves it out)."""
    value = status.get(name)
    return value if isinstance(value, bool) else None


def _quotes(status: dict[str, Any], post: Post) -> bool:
    """Whether one of our statuses quotes `post`: Mastodon 4.5's quote, else the link in its text."""
    quoted = ((status.get("quote") or {}).get("quoted_status") or {}).get("id")
    if quoted is not None:
        return str(quoted) == target_id(post)
    return bool(post.url) and post.url in (status.get("content") or "")


def _created(status: dict[str, Any]) -> datetime | None:
    """A status' created_at, None if unreadable."""
    try:
        return datetime.fromisoformat(str(status.get("created_at")).replace("Z", "+00:00"))
    except ValueError:
        return None
