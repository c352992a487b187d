"""Acting on Bluesky: reposts, likes, quotes and replies are records in the account's repo.

A createRecord makes a new record every time it is called, so a call whose answer was lost is
settled by `find_own`, which reads the account's own repo on its PDS (com.atproto.repo.listRecords,
newest first; the PDS is the truth, where the AppView's viewer state may lag behind). Undoing a
repost or like deletes every such record of ours for the post, not only the one we noted.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from app.platforms.base import (
    ActionClient,
    ActionRefused,
    Author,
    ModerationList,
    OutcomeUnknown,
    PlatformError,
    Post,
    PostGone,
)
from app.platforms.bluesky import graph, richtext
from app.platforms.bluesky.normalize import author_from_view, post_from_view, uri_parts
from app.platforms.bluesky.xrpc import XrpcClient

COLLECTIONS = {"repost": "app.bsky.feed.repost", "like": "app.bsky.feed.like", "quote": "app.bsky.feed.post",
               "reply": "app.bsky.feed.post"}
# Our records of these kinds are posts of our own, each made once and deleted by its uri.
OWN_POSTS = ("quote", "reply")
MAX_TEXT = 300  # graphemes; code points are a safe upper bound
# Pages (100 records each) of our own repo read when looking for a record whose answer was lost.
OWN_RECORD_PAGES = 10
# Undo also deletes other records of ours for the post among our newest this many pages (cheap).
UNDO_RECORD_PAGES = 1
# Clocks differ: records dated this much before the action was decided are still looked at.
CLOCK_SLACK = timedelta(minutes=10)


def now_iso() -> str:
    """The current time as a record's `createdAt`."""
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


class BlueskyActionClient(ActionClient):
    """Writes to the account's repo through its PDS, reads viewer state through the AppView."""

    def __init__(self, xrpc: XrpcClient) -> None:
        self.xrpc = xrpc

    async def repost(self, post: Post) -> str:
        """Create an app.bsky.feed.repost record (or return the one that exists); its at:// uri."""
        view = await self._view(post)
        existing = (view.get("viewer") or {}).get("repost")
        return existing or await self._create("repost", {"subject": _strong_ref(view)})

    async def like(self, post: Post) -> str:
        """Create an app.bsky.feed.like record (or return the one that exists); its at:// uri."""
        view = await self._view(post)
        existing = (view.get("viewer") or {}).get("like")
        return existing or await self._create("like", {"subject": _strong_ref(view)})

    async def quote(self, post: Post, text: str) -> str:
        """Publish a post with `text` embedding `post` (app.bsky.embed.record); its at:// uri."""
        if len(text) > MAX_TEXT:
            raise ActionRefused(f"bluesky: a post holds at most {MAX_TEXT} characters")
        subject = await self._subject(post)
        fields: dict[str, Any] = {"text": text, "embed": {"$type": "app.bsky.embed.record", "record": subject}}
        found = await richtext.facets(text, self._resolve)
        if found:
            fields["facets"] = found
        return await self._create("quote", fields)

    async def reply(self, post: Post, text: str) -> str:
        """Publish a post with `text` in reply to `post` (its thread's root kept, as the app does);
        its at:// uri. PostGone when `post` no longer exists."""
        if len(text) > MAX_TEXT:
            raise ActionRefused(f"bluesky: a post holds at most {MAX_TEXT} characters")
        view = await self._view(post)
        parent = _strong_ref(view)
        root = ((view.get("record") or {}).get("reply") or {}).get("root") or {}
        fields: dict[str, Any] = {"text": text, "reply": {
            "root": {"uri": root["uri"], "cid": root["cid"]} if root.get("uri") and root.get("cid") else parent,
            "parent": parent}}
        found = await richtext.facets(text, self._resolve)
        if found:
            fields["facets"] = found
        return await self._create("reply", fields)

    async def undo(self, post: Post, platform_action_id: str | None, kind: str = "repost") -> None:
        """Delete the record an earlier action created; PostGone when there is none to delete."""
        if kind not in COLLECTIONS:
            raise ActionRefused(f"bluesky: cannot undo a {kind!r}")
        uris = [platform_action_id or await self._viewer_record(post, kind)]
        if kind not in OWN_POSTS:  # a lost answer may have left a second record of ours: remove them all
            uris += (await self._own_records(post, kind, since=None, pages=UNDO_RECORD_PAGES))[0]
        ours = list(dict.fromkeys(uri for uri in uris if uri))
        if not ours:
            raise PostGone(f"bluesky: no {kind} of this post to undo")
        for uri in ours:
            did, collection, rkey = uri_parts(uri)
            if did != await self.xrpc.did() or collection != COLLECTIONS[kind] or not rkey:
                raise ActionRefused(f"bluesky: {uri} is not this account's {kind}")
            body = {"repo": did, "collection": collection, "rkey": rkey}
            await self.xrpc.procedure("com.atproto.repo.deleteRecord", body)

    async def find_own(self, post: Post, kind: str, *, since: datetime | None = None) -> str | None:
        """Our repost, like, quote or reply record of `post` in our own repo, newest first, back to `since`
        (the PDS is the truth: the AppView's thread and viewer state may lag behind it)."""
        if kind not in COLLECTIONS:
            raise ActionRefused(f"bluesky: no {kind!r} to look for")
        uris, complete = await self._own_records(post, kind, since=since)
        if uris:
            return uris[0]
        if complete:
            return None
        raise OutcomeUnknown(f"bluesky: no {kind} of {post.id} in our last {OWN_RECORD_PAGES} pages of records")

    async def _own_records(self, post: Post, kind: str, *, since: datetime | None,
                           pages: int = OWN_RECORD_PAGES) -> tuple[list[str], bool]:
        """The uris of our `kind` records of `post` (newest first), and whether the search reached
        back to `since` (or the repo's start) rather than running out of pages."""
        subject, did = _post_uri(post), await self.xrpc.did()
        oldest = since - CLOCK_SLACK if since else None
        found: list[str] = []
        cursor: str | None = None
        for _ in range(pages):
            params = {"repo": did, "collection": COLLECTIONS[kind], "limit": 100, "cursor": cursor}
            body = await self.xrpc.query("com.atproto.repo.listRecords", params)
            records = body.get("records") or []
            for record in records:
                value = record.get("value") or {}
                if _refers_to(value, kind, subject):
                    found.append(record["uri"])
                elif oldest and (created := _created(value)) and created < oldest:
                    return found, True
            cursor = body.get("cursor")
            if not cursor or not records:
                return found, True
        return found, False

    async def has_reposted(self, post: Post) -> bool | None:
        """From the post's `viewer.repost`; None when the post is gone or the viewer unknown."""
        try:
            view = await self._view(post)
        except PostGone:
            return None
        viewer = view.get("viewer")
        return None if viewer is None else bool(viewer.get("repost"))

    async def fetch_post(self, post: Post) -> Post | None:
        """The post's current view (app.bsky.feed.getPosts); None once its record is deleted."""
        try:
            return post_from_view(await self._view(post))
        except PostGone:
            return None

    async def followers(self) -> set[str]:
        """DIDs and handles of the account's followers."""
        return await graph.followers(self.xrpc)

    async def followers_count(self) -> int | None:
        """How many followers the account's own profile reports (app.bsky.actor.getProfile)."""
        body = await self.xrpc.query("app.bsky.actor.getProfile", {"actor": await self.xrpc.did()}, public=True)
        return body.get("followersCount")

    async def following(self) -> set[str]:
        """DIDs and handles of the accounts this account follows."""
        return await graph.follows(self.xrpc)

    async def lookup_author(self, name: str) -> Author | None:
        """A handle's DID through com.atproto.identity.resolveHandle (a DID as it is), then its
        profile (app.bsky.actor.getProfile) for the current handle; None when nobody has it."""
        try:
            did = name if name.startswith("did:") else (await self._public("com.atproto.identity.resolveHandle",
                                                                            {"handle": name})).get("did")
            view = await self._public("app.bsky.actor.getProfile", {"actor": did}) if did else None
        except PostGone:
            return None
        return author_from_view(view) if view and view.get("did") else None

    async def _public(self, nsid: str, params: dict[str, Any]) -> dict[str, Any]:
        """A public query; PostGone when the AppView says the handle or profile does not exist (400/404)."""
        try:
            return await self.xrpc.query(nsid, params, public=True)
        except PlatformError as exc:
            if exc.status in (400, 404) and not isinstance(exc, PostGone):
                raise PostGone(str(exc)) from exc
            raise

    async def list_members(self, list_id: str) -> set[str]:
        """DIDs and handles of a list's members (at:// uri or bsky.app address)."""
        return await graph.list_members(self.xrpc, list_id)

    async def moderation_list(self, list_id: str) -> ModerationList:
        """A list's name, purpose and members (app.bsky.graph.getList on the AppView, every page of a
        moderation list, the first of any other); PostGone when the AppView says there is no such list."""
        try:
            return await graph.get_list(self.xrpc, list_id, purpose=graph.MODLIST)
        except PlatformError as exc:
            if exc.status in (400, 404) and not isinstance(exc, PostGone):
                raise PostGone(str(exc)) from exc
            raise

    async def _view(self, post: Post) -> dict[str, Any]:
        """The post's current postView, with this account's viewer state; PostGone if deleted."""
        uri = _post_uri(post)
        body = await self.xrpc.query("app.bsky.feed.getPosts", {"uris": [uri]})
        views = [v for v in body.get("posts") or [] if v.get("uri") == uri]
        if not views:
            raise PostGone(f"bluesky: post {uri} no longer exists")
        return views[0]

    async def _subject(self, post: Post) -> dict[str, str]:
        """The strong ref (uri + cid) of a post, looked up when the post does not carry it."""
        if post.ref.get("uri") and post.ref.get("cid"):
            return {"uri": post.ref["uri"], "cid": post.ref["cid"]}
        return _strong_ref(await self._view(post))

    async def _viewer_record(self, post: Post, kind: str) -> str | None:
        """The uri of this account's repost or like of `post`, from the viewer state."""
        if kind in OWN_POSTS:
            return None
        return (((await self._view(post)).get("viewer")) or {}).get(kind)

    async def _create(self, kind: str, fields: dict[str, Any]) -> str:
        """com.atproto.repo.createRecord in the account's repo; the new record's uri."""
        collection = COLLECTIONS[kind]
        record = {"$type": collection, **fields, "createdAt": now_iso()}
        body = {"repo": await self.xrpc.did(), "collection": collection, "record": record}
        created = await self.xrpc.procedure("com.atproto.repo.createRecord", body)
        if not created.get("uri"):
            raise PlatformError("bluesky: createRecord answered without a uri")
        return created["uri"]

    async def _resolve(self, handle: str) -> str | None:
        """A handle's DID for a mention facet; None if it does not resolve."""
        try:
            body = await self.xrpc.query("com.atproto.identity.resolveHandle", {"handle": handle}, public=True)
        except PlatformError:
            return None
        return body.get("did")


def _post_uri(post: Post) -> str:
    """The at:// uri of the post to act on (for a repost item: the original post)."""
    uri = post.ref.get("uri") or post.id
    if not uri.startswith("at://"):
        raise ActionRefused(f"bluesky: {post.id!r} is not a Bluesky post")
    return uri


def _refers_to(value: dict[str, Any], kind: str, subject: str) -> bool:
    """Whether a record of ours is a `kind` of the post `subject` (a quote: its embedded record; a
    reply: its parent)."""
    if kind == "reply":
        return ((value.get("reply") or {}).get("parent") or {}).get("uri") == subject
    if kind != "quote":
        return (value.get("subject") or {}).get("uri") == subject
    embed = value.get("embed") or {}
    record = embed.get("record") or {}
    if embed.get("$type") == "app.bsky.embed.recordWithMedia":
        record = record.get("record") or {}
    return record.get("uri") == subject


def _created(value: dict[str, Any]) -> datetime | None:
    """A record's createdAt, None if unreadable."""
    try:
        moment = datetime.fromisoformat(str(value.get("createdAt")).replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _strong_ref(view: dict[str, Any]) -> dict[str, str]:
    """com.atproto.repo.strongRef of a postView."""
    return {"uri": view["uri"], "cid": view["cid"]}
