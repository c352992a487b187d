"""XActions: retweet, unretweet, quote, reply, and the account's followers / following on X."""

from __future__ import annotations

import re
from datetime import datetime, timedelta

from app.platforms.base import ActionClient, ActionRefused, Author, OutcomeUnknown, PlatformError, Post, PostGone
from app.platforms.x.client import XClient, data_of
from app.platforms.x.normalize import post_params, posts_from_page, to_post, tweets_by_id, user_to_author, users_by_id

USERNAME = re.compile(r"[A-Za-z0-9_]{1,15}|\d{1,20}")  # X's username pattern, or a user id
USER_FIELDS = {"user.fields": "created_at,description,public_metrics"}

NO_LIKES = "x: automated likes are against X's automation rules"
# Pages of our own posts (100 each) read when looking for a quote or reply whose answer was lost.
QUOTE_SEARCH_PAGES = 3
# Clocks differ: posts dated this much before the action was decided are still looked at.
CLOCK_SLACK = timedelta(minutes=10)


class XActions(ActionClient):
    """One account's actions on X."""

    def __init__(self, client: XClient) -> None:
        self.client = client

    async def lookup_author(self, name: str) -> Author | None:
        """GET /2/users/{id} for a digits-only name (else, or when no user has that id,
        /2/users/by/username/{name}); None when X finds nobody."""
        if not USERNAME.fullmatch(name):
            return None  # X would refuse the request: no user can have such a name
        for path in ([f"/2/users/{name}"] if name.isdigit() else []) + [f"/2/users/by/username/{name}"]:
            try:
                body = await self.client.call("GET", path, params=USER_FIELDS, gone=True)
            except PostGone:
                continue
            if body.get("data"):
                return user_to_author(body["data"])
        return None

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
        elif kind in ("quote", "reply"):
            if not platform_action_id:
                raise PostGone(f"x: the {kind}'s id is unknown, nothing to delete")
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

    async def reply(self, post: Post, text: str) -> str:
        """A new post answering `post` (POST /2/tweets with reply.in_reply_to_tweet_id); its id."""
        try:
            body = await self.client.call("POST", "/2/tweets", gone=True,
                                          json={"text": text, "reply": {"in_reply_to_tweet_id": post.id}})
        except PlatformError as exc:  # X: 403 "You attempted to reply to a Tweet that is deleted or not visible"
            if exc.status == 403 and "deleted or not visible" in str(exc).lower():
                raise PostGone(f"x: post {post.id} is gone or not visible: {exc}") from exc
            raise
        new_id = (body.get("data") or {}).get("id")
        if not new_id:
            raise PlatformError("x: the answer to a reply lacks the new post's id", retryable=False)
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

    async def fetch_post(self, post: Post) -> Post | None:
        """GET /2/tweets/:id, then its latest version when it was edited; None once deleted.

        An edit on X makes a new post id; every version lists them all in edit_history_tweet_ids
        (edit_history_post_ids in the OpenAPI spelling), newest last.
        """
        tweet, body = await self._tweet(post.id)
        if tweet is None:
            return None
        history = [str(i) for i in tweet.get("edit_history_tweet_ids") or tweet.get("edit_history_post_ids") or []]
        if history and history[-1] != str(tweet.get("id")):
            tweet, body = await self._tweet(history[-1])
            if tweet is None:
                return None
        return to_post(tweet, users_by_id(body.get("includes")), tweets_by_id(body.get("includes")))

    async def _tweet(self, tweet_id: str) -> tuple[dict | None, dict]:
        """One post with the fields a Post needs; (None, body) when X says it is not found."""
        params = post_params(self.client.config.field_names)
        try:
            body = await self.client.call("GET", f"/2/tweets/{tweet_id}", params=params, gone=True)
        except PostGone:
            return None, {}
        return body.get("data") or None, body

    async def find_own(self, post: Post, kind: str, *, since: datetime | None = None) -> str | None:
        """Our retweet (from the retweeters), or our quote or reply (from our own recent posts:
        `referenced_tweets` names what each quotes or replies to) of `post`."""
        if kind == "repost":
            reposted = await self.has_reposted(post)
            if reposted is None:
                raise OutcomeUnknown(f"x: too many retweeters of {post.id} to tell whether we are one")
            return post.id if reposted else None
        if kind not in ("quote", "reply"):
            raise ActionRefused(f"x: no {kind!r} to look for")
        me, token = await self.client.me_id(), None
        oldest = since - CLOCK_SLACK if since else None
        for _ in range(QUOTE_SEARCH_PAGES):
            params = {**post_params(self.client.config.field_names), "max_results": 100,
                      **({"pagination_token": token} if token else {})}
            body = await self.client.call("GET", f"/2/users/{me}/tweets", params=params)
            for mine in posts_from_page(body):
                if _answers(mine, kind, post.id):
                    return mine.id
                if oldest and mine.created_at and mine.created_at < oldest:
                    return None
            token = (body.get("meta") or {}).get("next_token")
            if not token:
                return None
        raise OutcomeUnknown(f"x: no {kind} of {post.id} in our last {QUOTE_SEARCH_PAGES} pages of posts")

    async def followers(self) -> set[str]:
        """Ids and lower-cased usernames of the account's followers (GET /2/users/:id/followers)."""
        return await self.client.user_set(f"/2/users/{await self.client.me_id()}/followers")

    async def followers_count(self) -> int | None:
        """How many followers the account's own profile reports (GET /2/users/me public_metrics)."""
        body = await self.client.call("GET", "/2/users/me", params={"user.fields": "public_metrics"})
        return (data_of(body, "the account").get("public_metrics") or {}).get("followers_count")

    async def following(self) -> set[str]:
        """Ids and lower-cased usernames of the accounts it follows (GET /2/users/:id/following)."""
        return await self.client.user_set(f"/2/users/{await self.client.me_id()}/following")

    async def list_members(self, list_id: str) -> set[str]:
        """Ids and lower-cased usernames of a list's members (needs the list.read scope)."""
        return await self.client.user_set(f"/2/lists/{list_id}/members", per_page=100)


def _answers(mine: Post, kind: str, post_id: str) -> bool:
    """Whether our post quotes (`quote`) or replies to (`reply`) the post `post_id`."""
    if kind == "quote":
        return mine.quoted_post_id == post_id
    return mine.ref.get("replied_to_id") == post_id
