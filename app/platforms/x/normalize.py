"""X API v2 posts (with their `includes`) -> the normalized Post.

X answers in two spellings: docs.x.com's (`referenced_tweets`, `includes.tweets`) and the
OpenAPI document 2.167's (`referenced_posts`, `includes.posts`); both are read. What to ask
for is in `post_params`, in the spelling the account's config names.
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

from app.platforms.base import Author, Post

log = logging.getLogger("reposter.platforms.x")

USER_FIELDS = "created_at,description,name,public_metrics,username"
# Request names per spelling: the fields a Post needs, and the expansions that fill includes.users
# (authors and replied-to users) and includes.media.
FIELD_PARAMS = {
    "tweet": {
        "tweet.fields": "attachments,author_id,created_at,entities,in_reply_to_user_id,lang,possibly_sensitive,"
                        "referenced_tweets",
        "expansions": "author_id,referenced_tweets.id,attachments.media_keys,in_reply_to_user_id",
        "user.fields": USER_FIELDS,
    },
    # 2.167's post.fields enum has no author_id / referenced_posts / in_reply_to_user_id: the
    # matching expansions bring those fields along.
    "post": {
        "post.fields": "attachments,created_at,entities,lang,possibly_sensitive",
        "expansions": "author_id,referenced_posts,attachments.media_keys,in_reply_to_user_id",
        "user.fields": USER_FIELDS,
    },
}


def post_params(field_names: str = "tweet") -> dict[str, str]:
    """The fields and expansions every post-returning request asks for."""
    return dict(FIELD_PARAMS[field_names])


def posts_from_page(body: dict[str, Any]) -> list[Post]:
    """Every post of one page of search or timeline results, in the page's order."""
    users = users_by_id(body.get("includes"))
    tweets = tweets_by_id(body.get("includes"))
    return [to_post(tweet, users, tweets) for tweet in body.get("data") or []]


def tweets_by_id(includes: dict[str, Any] | None) -> dict[str, dict[str, Any]]:
    """includes.tweets (includes.posts in the OpenAPI spelling) keyed by id."""
    includes = includes or {}
    return {str(t["id"]): t for t in (includes.get("tweets") or includes.get("posts") or []) if "id" in t}


def users_by_id(includes: dict[str, Any] | None) -> dict[str, dict[str, Any]]:
    """includes.users keyed by id."""
    return {str(user["id"]): user for user in (includes or {}).get("users") or []}


def to_post(tweet: dict[str, Any], users: dict[str, dict[str, Any]],
            tweets: dict[str, dict[str, Any]] | None = None) -> Post:
    """One X post as a Post; what X did not send stays None."""
    author_id = str(tweet.get("author_id", ""))
    author = _author(author_id, users.get(author_id))
    refs = {str(ref["type"]): str(ref.get("id")) for ref in _references(tweet) if ref.get("type")}
    reply_to_user = tweet.get("in_reply_to_user_id")
    entities = tweet.get("entities") or {}
    return Post(
        platform="x",
        id=str(tweet["id"]),
        url=f"https://x.com/{author.handle or 'i'}/status/{tweet['id']}",
        author=author,
        text=tweet.get("text", ""),
        lang=tweet.get("lang"),
        created_at=_time(tweet.get("created_at")),
        hashtags=[tag["tag"] for tag in entities.get("hashtags") or [] if tag.get("tag")],
        mentions=[m["username"] for m in entities.get("mentions") or [] if m.get("username")],
        mention_ids=[str(m["id"]) for m in entities.get("mentions") or [] if m.get("id")],
        urls=_links(entities.get("urls") or []),
        media_count=len((tweet.get("attachments") or {}).get("media_keys") or []),
        is_reply="replied_to" in refs or reply_to_user is not None,
        reply_to_author=(users.get(str(reply_to_user)) or {}).get("username") if reply_to_user else None,
        reply_to_author_id=str(reply_to_user) if reply_to_user else None,
        is_repost="retweeted" in refs,
        reposted_author=_original_author(tweet, refs.get("retweeted"), users, tweets or {}),
        is_quote="quoted" in refs,
        quoted_post_id=refs.get("quoted"),
        sensitive=_sensitive(tweet, entities),
        ref=_ref(author_id, refs),
    )


def _sensitive(tweet: dict[str, Any], entities: dict[str, Any]) -> bool | None:
    """possibly_sensitive; X marks only posts with links, so without links and without it: False."""
    value = tweet.get("possibly_sensitive")
    if isinstance(value, bool):
        return value
    return None if entities.get("urls") else False


def _author(author_id: str, user: dict[str, Any] | None) -> Author:
    """The post's author from includes.users; only the id when X left the user out (suspended, withheld)."""
    if user is None:
        log.info("x post without its author in includes", extra={"author_id": author_id})
        return Author(id=author_id, handle="")
    return user_to_author({**user, "id": author_id})


def user_to_author(user: dict[str, Any]) -> Author:
    """A User object (a post's includes.users, or a user lookup) as an Author."""
    metrics = user.get("public_metrics") or {}
    return Author(
        id=str(user["id"]),
        handle=user.get("username", ""),
        display_name=user.get("name"),
        followers_count=metrics.get("followers_count"),
        created_at=_time(user.get("created_at")),
        bio=user.get("description"),
    )


def _original_author(tweet: dict[str, Any], original_id: str | None, users: dict[str, dict[str, Any]],
                     tweets: dict[str, dict[str, Any]]) -> Author | None:
    """The retweeted post's author: from includes when X sent it, else the handle of `RT @handle:`."""
    if original_id is None:
        return None
    author_id = str((tweets.get(original_id) or {}).get("author_id", ""))
    if author_id and author_id in users:
        return _author(author_id, users[author_id])
    text = tweet.get("text", "")
    handle = text[4:].split(":", 1)[0] if text.startswith("RT @") and ":" in text else ""
    return Author(id=author_id or f"@{handle}", handle=handle) if author_id or handle else None


def _references(tweet: dict[str, Any]) -> list[dict[str, Any]]:
    return tweet.get("referenced_tweets") or tweet.get("referenced_posts") or []


def _links(urls: list[dict[str, Any]]) -> list[str]:
    """The links a post carries, fully expanded; media (photo) links are media, not links."""
    return [
        u.get("expanded_url") or u["url"]
        for u in urls
        if not u.get("media_key") and (u.get("expanded_url") or u.get("url"))
    ]


def _ref(author_id: str, refs: dict[str, str]) -> dict[str, str]:
    """What acting on the post may need later: its author's id and the posts it refers to."""
    ref = {"author_id": author_id} if author_id else {}
    ref.update({f"{kind}_id": post_id for kind, post_id in refs.items() if kind})
    return ref


def _time(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value.replace("Z", "+00:00")) if value else None
