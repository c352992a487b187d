"""Bluesky records and views -> the normalized Post.

One path for every shape: a post record (from a postView, a feed item or a Jetstream commit)
gives text, facets, embeds and reply; the views around it add the author and the repost reason.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

from app.platforms.base import Author, Post
from app.platforms.handles import handle_key

PLATFORM = "bluesky"
FACET = "app.bsky.richtext.facet"
_FRACTION = re.compile(r"(\.\d{6})\d+")
# Bluesky's own values for adult and graphic media (docs.bsky.app, "Labels and moderation"):
# a post carrying one is what Mastodon calls sensitive. Bluesky has no other sensitive flag.
SENSITIVE_LABELS = frozenset({"porn", "sexual", "nudity", "graphic-media"})


def parse_datetime(value: Any) -> datetime | None:
    """An AT Protocol datetime (RFC 3339, any precision) as an aware datetime; None if unreadable."""
    if not isinstance(value, str) or not value:
        return None
    try:
        parsed = datetime.fromisoformat(_FRACTION.sub(r"\1", value.replace("z", "Z")))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def uri_parts(uri: str) -> tuple[str, str, str]:
    """`at://did/collection/rkey` -> (did, collection, rkey); empty strings where absent."""
    parts = uri.removeprefix("at://").split("/")
    parts += [""] * (3 - len(parts))
    return parts[0], parts[1], parts[2]


def post_url(uri: str, handle: str | None = None) -> str:
    """The bsky.app address of a post."""
    did, _, rkey = uri_parts(uri)
    return f"https://bsky.app/profile/{handle or did}/post/{rkey}"


def author_from_view(view: dict[str, Any]) -> Author:
    """An Author from a profileViewBasic / profileView / profileViewDetailed."""
    labels = view.get("labels")
    return Author(
        id=view["did"],
        handle=(view.get("handle") or view["did"]).lower(),
        display_name=view.get("displayName") or None,
        avatar_url=view.get("avatar") or None,
        followers_count=view.get("followersCount"),
        created_at=parse_datetime(view.get("createdAt")),
        is_bot=None if labels is None else has_bot_label(labels),
        bio=view.get("description"),
        blocks_account=(view.get("viewer") or {}).get("blockedBy"),
        labels=None if labels is None else label_values(labels, subject=view["did"]),
    )


def has_bot_label(labels: list[dict[str, Any]]) -> bool:
    """Whether the labels carry a (non-negated) `bot` value."""
    return any(label.get("val") == "bot" and not label.get("neg") for label in labels)


def label_values(labels: Any, subject: str | None = None) -> list[str]:
    """The values of com.atproto.label.defs#label objects that hold: not negated (a `neg` label
    cancels the same source's value), not expired; only those on `subject` when it is given (a
    profile view also carries labels on the profile record, which say nothing of the account)."""
    if not isinstance(labels, list):
        return []
    now = datetime.now(UTC)
    held: dict[tuple[str, str], bool] = {}
    for label in labels:
        if not isinstance(label, dict) or not isinstance(label.get("val"), str) or not label["val"]:
            continue
        if subject is not None and label.get("uri", subject) != subject:
            continue
        expires = parse_datetime(label.get("exp"))
        held[(str(label.get("src", "")), label["val"])] = not label.get("neg") and (expires is None or expires > now)
    return _unique([val for (_, val), on in held.items() if on])


def self_label_values(record: dict[str, Any]) -> list[str]:
    """The values of a record's com.atproto.label.defs#selfLabels (the author's own warnings)."""
    labels = record.get("labels")
    values = labels.get("values") if isinstance(labels, dict) else None
    if not isinstance(values, list):
        return []
    return [v["val"] for v in values if isinstance(v, dict) and isinstance(v.get("val"), str) and v["val"]]


def post_from_record(record: dict[str, Any], *, uri: str, cid: str, author: Author) -> Post:
    """A Post from an app.bsky.feed.post record and what is known of its author."""
    hashtags, mentions, urls = _facets(record)
    media_count, quoted, embed_urls = _embed(record.get("embed"))
    reply = record.get("reply") or {}
    parent_uri = (reply.get("parent") or {}).get("uri", "")
    self_labels = self_label_values(record)
    return Post(
        platform=PLATFORM,
        id=uri,
        url=post_url(uri, None if author.handle.startswith("did:") else author.handle),
        author=author,
        text=record.get("text") or "",
        lang=_language(record.get("langs")),
        created_at=parse_datetime(record.get("createdAt")),
        hashtags=hashtags,
        mentions=mentions,
        mention_ids=[m for m in mentions if m.startswith("did:")],
        urls=_unique(urls + embed_urls),
        media_count=media_count,
        is_reply=bool(reply),
        reply_to_author=(uri_parts(parent_uri)[0] or None) if reply else None,
        reply_to_author_id=(uri_parts(parent_uri)[0] or None) if reply else None,
        is_repost=False,
        is_quote=quoted is not None,
        quoted_post_id=quoted,
        labels=self_labels,
        sensitive=not SENSITIVE_LABELS.isdisjoint(self_labels),
        ref={"uri": uri, "cid": cid},
    )


def post_from_view(view: dict[str, Any]) -> Post:
    """A Post from an app.bsky.feed.defs#postView."""
    record = view.get("record") or {}
    post = post_from_record(record, uri=view["uri"], cid=view["cid"], author=author_from_view(view["author"]))
    # The AppView's labels on the post hold the self-labels too (with the author as source).
    post.labels = _unique([*label_values(view.get("labels"), subject=view["uri"]), *post.labels])
    post.sensitive = not SENSITIVE_LABELS.isdisjoint(post.labels)
    return post


def post_from_feed_item(item: dict[str, Any]) -> Post:
    """A Post from a feedViewPost: the reply context names the parent's author; a repost
    reason makes it a repost by the reposter, still pointing (ref) at the original to act on."""
    post = post_from_view(item["post"])
    parent = (item.get("reply") or {}).get("parent") or {}
    parent_author = (parent.get("author") or {}).get("handle") or (parent.get("author") or {}).get("did")
    if post.is_reply and parent_author:
        post.reply_to_author = parent_author.lower()
    reason = item.get("reason") or {}
    if reason.get("$type") == "app.bsky.feed.defs#reasonRepost":
        return as_repost(post, reason)
    return post


def as_repost(post: Post, reason: dict[str, Any]) -> Post:
    """The feed item 'X reposted this post': author X, time of the repost, id of the repost."""
    by = author_from_view(reason["by"])
    repost_uri = reason.get("uri") or f"{post.id}#repost-by-{by.id}"
    ref = {**post.ref, "repost_uri": repost_uri, "author_did": post.author.id}
    created = parse_datetime(reason.get("indexedAt")) or post.created_at
    return post.model_copy(
        update={"id": repost_uri, "author": by, "is_repost": True, "created_at": created, "ref": ref,
                "reposted_author": post.author}
    )


def _language(langs: Any) -> str | None:
    """The post's first declared language, as its primary subtag (`pt-BR` -> `pt`)."""
    if isinstance(langs, list) and langs and isinstance(langs[0], str) and langs[0]:
        return langs[0].split("-")[0].lower()
    return None


def _facets(record: dict[str, Any]) -> tuple[list[str], list[str], list[str]]:
    """Hashtags (facets and the record's extra `tags`), mentions (DID, and the handle the text
    shows) and links, in order of appearance."""
    text = (record.get("text") or "").encode("utf-8")
    tags: list[str] = []
    mentions: list[str] = []
    links: list[str] = []
    for facet in record.get("facets") or []:
        index = facet.get("index") or {}
        shown = text[index.get("byteStart", 0) : index.get("byteEnd", 0)].decode("utf-8", "ignore")
        for feature in facet.get("features") or []:
            kind = feature.get("$type", "")
            if kind == f"{FACET}#tag" and feature.get("tag"):
                tags.append(feature["tag"].lstrip("#"))
            elif kind == f"{FACET}#mention" and feature.get("did"):
                mentions.append(feature["did"])
                handle = handle_key(shown)
                if handle and " " not in handle:
                    mentions.append(handle)
            elif kind == f"{FACET}#link" and feature.get("uri"):
                links.append(feature["uri"])
    tags += [tag.lstrip("#") for tag in record.get("tags") or [] if isinstance(tag, str)]
    return _unique(tags, key=str.lower), _unique(mentions), _unique(links)


def _embed(embed: Any) -> tuple[int | None, str | None, list[str]]:
    """(media count, quoted post uri, link urls) of a record's embed; media None when unknown."""
    if not isinstance(embed, dict):
        return 0, None, []
    kind = embed.get("$type", "")
    if kind == "app.bsky.embed.images":
        return len(embed.get("images") or []), None, []
    if kind == "app.bsky.embed.video":
        return 1, None, []
    if kind == "app.bsky.embed.external":
        uri = (embed.get("external") or {}).get("uri")
        return 0, None, [uri] if uri else []
    if kind == "app.bsky.embed.record":
        return 0, _quoted(embed), []
    if kind == "app.bsky.embed.recordWithMedia":
        media, _, urls = _embed(embed.get("media"))
        return media, _quoted(embed.get("record") or {}), urls
    return None, None, []


def _quoted(embed_record: dict[str, Any]) -> str | None:
    """The uri of the post an app.bsky.embed.record points at (None for feeds, lists, ...)."""
    uri = (embed_record.get("record") or {}).get("uri") or ""
    return uri if uri_parts(uri)[1] == "app.bsky.feed.post" else None


def _unique(values: list[str], key=lambda v: v) -> list[str]:
    """Values without repeats (by `key`), first occurrence kept."""
    seen: set[str] = set()
    result = []
    for value in values:
        if key(value) not in seen:
            seen.add(key(value))
            result.append(value)
    return result
