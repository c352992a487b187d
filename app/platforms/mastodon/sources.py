"""Source strings (`tag:coffee`, `tags:a,b`, `home`, `list:42`, `user:alice`, `public`, `local`)
and the Mastodon endpoints that serve them, for polling and for streaming."""

from __future__ import annotations

import re
from urllib.parse import quote

from app.platforms.base import PlatformError

SOURCE_KINDS = ("tag", "tags", "home", "list", "user", "public", "local", "mentions")
# TagFeed takes at most four extra tags per mode (`LIMIT_PER_MODE = 4` in Mastodon's
# app/models/tag_feed.rb): one tag in the path and four in `any[]`.
MAX_TAGS_PER_SOURCE = 5

Query = list[tuple[str, str]]
# The account's mentions: its notifications of type `mention`, each carrying the status.
MENTIONS_ENDPOINT: tuple[str, Query] = ("/api/v1/notifications", [("types[]", "mention")])
Endpoint = tuple[str, dict[str, str]]  # a streaming path and its parameters


def any_supported(version: str | None) -> bool:
    """Whether an instance reporting `version` (GET /api/v1/instance) takes `any[]` on tag timelines.

    Mastodon itself does ("4.3.2", "4.2.0+glitch"); servers that only speak its API answer with
    the first tag alone: Takahē ("takahe/0.11.0"), GoToSocial ("0.16.0"), and the rest say so
    ("2.7.2 (compatible; Pleroma 2.6.0)"). Unknown means no: one call per tag loses nothing.
    """
    match = re.match(r"(\d+)\.(\d+)", version or "")
    return match is not None and int(match[1]) >= 3 and "compatible" not in (version or "").lower()


def split_tags(source: str) -> list[str]:
    """The hashtags named by `tag:x` or `tags:a,b,c`, without `#`, blanks or repeats."""
    _, _, rest = source.partition(":")
    tags = [t.strip().lstrip("#") for t in rest.split(",")]
    return list(dict.fromkeys(t for t in tags if t))


def fold_tags(tags: list[str]) -> list[str]:
    """Hashtags folded into as few `tags:` sources as the instance allows (five per source)."""
    unique = list(dict.fromkeys(t.lstrip("#").lower() for t in tags if t.strip("# ")))
    step = MAX_TAGS_PER_SOURCE
    return [f"tags:{','.join(unique[i : i + step])}" for i in range(0, len(unique), step)]


def unsupported(source: str, why: str = "") -> PlatformError:
    """The error for a source this platform cannot serve."""
    hint = why or f"kinds: {', '.join(SOURCE_KINDS)}"
    return PlatformError(f"mastodon: unsupported source {source!r} ({hint})", retryable=False)


def timeline_endpoint(source: str) -> tuple[str, Query]:
    """The timeline path and query for every source but `user:` (which needs a lookup first)."""
    kind, _, arg = source.partition(":")
    if kind in ("tag", "tags"):
        return tag_endpoint(source)
    if kind == "home" and not arg:
        return "/api/v1/timelines/home", []
    if kind in ("public", "local") and not arg:
        return "/api/v1/timelines/public", [("local", "true")] if kind == "local" else []
    if kind == "list" and arg:
        return f"/api/v1/timelines/list/{quote(arg, safe='')}", []
    if kind == "mentions" and not arg:
        return MENTIONS_ENDPOINT
    raise unsupported(source)


def one_tag_endpoint(tag: str) -> tuple[str, Query]:
    """The timeline of one hashtag."""
    return f"/api/v1/timelines/tag/{quote(tag, safe='')}", []


def tag_endpoint(source: str) -> tuple[str, Query]:
    """`tags:a,b,c` -> /timelines/tag/a?any[]=b&any[]=c: statuses with any of the tags."""
    tags = split_tags(source)
    if not tags:
        raise unsupported(source, "no hashtag named")
    if len(tags) > MAX_TAGS_PER_SOURCE:
        raise unsupported(source, f"{len(tags)} tags; an instance takes {MAX_TAGS_PER_SOURCE} per source")
    return f"/api/v1/timelines/tag/{quote(tags[0], safe='')}", [("any[]", t) for t in tags[1:]]


def stream_endpoints(source: str) -> list[Endpoint]:
    """The streaming paths and parameters for one source (a hashtag stream takes one tag)."""
    kind, _, arg = source.partition(":")
    if kind in ("tag", "tags") and split_tags(source):
        return [("/api/v1/streaming/hashtag", {"tag": tag}) for tag in split_tags(source)]
    if kind == "home" and not arg:
        return [("/api/v1/streaming/user", {})]
    if kind == "public" and not arg:
        return [("/api/v1/streaming/public", {})]
    if kind == "local" and not arg:
        return [("/api/v1/streaming/public/local", {})]
    if kind == "list" and arg:
        return [("/api/v1/streaming/list", {"list": arg})]
    raise unsupported(source, "no stream for it; poll it instead")
