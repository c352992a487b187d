"""XActions: retweet, unretweet, quote, and the account's followers / following on X."""

from __future__ import annotations

from datetime import datetime, timedelta

from app.platforms.base import ActionClient, ActionRefused, OutcomeUnknown, PlatformError, Post, PostGone
from app.platforms.x.client import XClient
from app.platforms.x.normalize import post_params, posts_from_page

NO_LIKES = "x: automated likes are against X's automation rules"
# Pages of our own posts (100 each) read when looking for a quote whose answer was lost.
QUOTE_SEARCH_PAGES = 3
# Clocks differ: posts dated this much before the action was decided are still looked at.
CLOCK_SLACK = timedelta(minutes=10)


class XActions(ActionClient):
    """One account's actions on X."""

    def __init__(self, client: XClient) -> None:
        self.client = client

    async def repost(self, post: Post) -> str:
        """Retweet (POST /2/users/:id/retweets); the id returned is the source post's id,
        which is also what undoing needs."""
        me = await self.client.me_id()
        try:
            body = await self.client.call("POST", f"/2/users/{me}/retweets", json={"tweet_id": post.id}, gone=True)
        except PlatformError as exc:
            if exc.status == 403 and any(word in str(exc).lower() for word in ("more than once", "already")):
                return post.id  # already retweeted: not an error
            raise
        data = body.get("data") or {}
        if data.get("retweeted") is False:
            raise PlatformError(f"x: post {post.id} was not retweeted", retryable=False)
        return str(data.get("rest_id") or post.id)

    async def undo(self, post: Post, platform_action_id: str | None, kind: str = "repost") -> None:
        """Unretweet (DELETE /2/users/:id/retweets/:source_tweet_id) or delete our quote post."""
        if kind == "repost":
            me = await self.client.me_id()
            await self.client.call("DELETE", f"/2/users/{me}/retweets/{post.id}", gone=True)
        elif kind == "quote":
            if not platform_action_id:
                raise PostGone("x: the quote's id is unknown, nothing to delete")
            await self.client.call("DELETE", f"/2/tweets/{platform_action_id}", gone=True)
        else:
            raise ActionRefused(f"x: cannot undo a {kind!r}" + (f" ({NO_LIKES})" if kind == "like" else ""))

    async def quote(self, post: Post, text: str) -> str:
        """A new post quoting `post` (POST /2/tweets with quote_tweet_id); its id."""
        body = await self.client.call("POST", "/2/tweets", json={"text": text, "quote_tweet_id": post.id}, gone=True)
        new_id = (body.get("data") or {}).get("id")
        if not new_id:
            raise PlatformError("x: the answer to a quote lacks the new post's id", retryable=False)
        return str(new_id)

    async def like(self, post: Post) -> str:
        """Never: X's automation rules forbid automated likes."""
        raise ActionRefused(NO_LIKES)

    async def has_reposted(self, post: Post) -> bool | None:
        """Whether the account is among the post's retweeters (GET /2/tweets/:id/retweeted_by).

        X's v2 posts carry no "retweeted by me" flag, so this pages through the retweeters:
        True when the account is found, False when the whole list was read without it, None
        when the list is longer than `max_retweeted_by_pages` pages (100 users each).
        """
        me = await self.client.me_id()
        token: str | None = None
        for _ in range(self.client.config.max_retweeted_by_pages):
            params = {"max_results": 100, **({"pagination_token": token} if token else {})}
            try:
                body = await self.client.call("GET", f"/2/tweets/{post.id}/retweeted_by", params=params, gone=True)
            except PostGone:
                return False
            if any(str(user.get("id")) == me for user in body.get("data") or []):
                return True
            token = (body.get("meta") or {}).get("next_token")
            if not token:
                return False
        return None

    async def find_own(self, post: Post, kind: str, *, since: datetime | None = None) -> str | None:
        """Our retweet (from the retweeters) or our quote (from our own recent posts) of `post`."""
        if kind == "repost":
            reposted = await self.has_reposted(post)
            if reposted is None:
                raise OutcomeUnknown(f"x: too many retweeters of {post.id} to tell whether we are one")
            return post.id if reposted else None
        if kind != "quote":
            raise ActionRefused(f"x: no {kind!r} to look for")
        me, token = await self.client.me_id(), None
        oldest = since - CLOCK_SLACK if since else None
        for _ in range(QUOTE_SEARCH_PAGES):
            params = {**post_params(self.client.config.field_names), "max_results": 100,
                      **({"pagination_token": token} if token else {})}
            body = await self.client.call("GET", f"/2/users/{me}/tweets", params=params)
            for mine in posts_from_page(body):
                if mine.quoted_post_id == post.id:
                    return mine.id
                if oldest and mine.created_at and mine.created_at < oldest:
                    return None
            token = (body.get("meta") or {}).get("next_token")
            if not token:
                return None
        raise OutcomeUnknown(f"x: no quote of {post.id} in our last {QUOTE_SEARCH_PAGES} pages of posts")

    async def followers(self) -> set[str]:
        """Ids and lower-cased usernames of the account's followers (GET /2/users/:id/followers)."""
        return await self.client.user_set(f"/2/users/{await self.client.me_id()}/followers")

    async def following(self) -> set[str]:
        """Ids and lower-cased usernames of the accounts it follows (GET /2/users/:id/following)."""
        return await self.client.user_set(f"/2/users/{await self.client.me_id()}/following")

    async def list_members(self, list_id: str) -> set[str]:
        """Ids and lower-cased usernames of a list's members (needs the list.read scope)."""
        return await self.client.user_set(f"/2/lists/{list_id}/members", per_page=100)
