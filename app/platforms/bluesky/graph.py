"""Who follows whom, and who is on a list: paginated actor sets for scopes and streams."""

from __future__ import annotations

import time
from typing import Any

from app.platforms.base import ModerationList
from app.platforms.bluesky.xrpc import XrpcClient

PAGE = 100
MAX_PAGES = 1000  # 100,000 accounts: a bound, so a runaway cursor cannot loop forever


async def actor_set(xrpc: XrpcClient, nsid: str, params: dict[str, Any], field: str) -> set[str]:
    """DIDs and lower-cased handles of every actor in a paginated graph answer."""
    found: set[str] = set()
    cursor: str | None = None
    for _ in range(MAX_PAGES):
        body = await xrpc.query(nsid, {**params, "limit": PAGE, "cursor": cursor}, public=True)
        entries = body.get(field) or []
        for entry in entries:
            actor = entry.get("subject", entry)  # list items wrap the profile in `subject`
            found.add(actor["did"])
            found.add(actor["handle"].lower())
        cursor = body.get("cursor")
        if not cursor or not entries:
            break
    return found


async def followers(xrpc: XrpcClient) -> set[str]:
    """The account's followers."""
    return await actor_set(xrpc, "app.bsky.graph.getFollowers", {"actor": await xrpc.did()}, "followers")


async def follows(xrpc: XrpcClient) -> set[str]:
    """The accounts this account follows."""
    return await actor_set(xrpc, "app.bsky.graph.getFollows", {"actor": await xrpc.did()}, "follows")


async def list_members(xrpc: XrpcClient, list_uri: str) -> set[str]:
    """The members of a list (an at:// uri or a bsky.app list address)."""
    return await actor_set(xrpc, "app.bsky.graph.getList", {"list": await resolved_list_uri(xrpc, list_uri)}, "items")


# handle -> (DID, when asked): a list address names its owner by handle; the AppView wants the DID
_OWNERS: dict[str, tuple[str, float]] = {}
OWNER_TTL_SECONDS = 3600.0


async def resolved_list_uri(xrpc: XrpcClient, value: str) -> str:
    """`list_at_uri` with the owner as a DID: the AppView answers "List not found" to an at-uri that
    names its owner by handle (seen on @atproto/dev-env, docs/tryouts/issue13-modlists.md). The
    handle is resolved through com.atproto.identity.resolveHandle, remembered for an hour."""
    uri = list_at_uri(value)
    actor, sep, rest = uri.removeprefix("at://").partition("/")
    if not uri.startswith("at://") or not sep or actor.startswith("did:"):
        return uri
    handle = actor.lower()
    known = _OWNERS.get(handle)
    if known is None or time.monotonic() - known[1] > OWNER_TTL_SECONDS:
        body = await xrpc.query("com.atproto.identity.resolveHandle", {"handle": handle}, public=True)
        known = (str(body["did"]), time.monotonic())
        if len(_OWNERS) > 10_000:
            _OWNERS.clear()
        _OWNERS[handle] = known
    return f"at://{known[0]}/{rest}"


MODLIST = "app.bsky.graph.defs#modlist"
MAX_LIST_PAGES = 100  # 10,000 people: a moderation list read in full each refresh


async def get_list(xrpc: XrpcClient, list_uri: str, *, purpose: str | None = None) -> ModerationList:
    """A list's name, purpose and members (DID, handle) through app.bsky.graph.getList, page by page;
    with `purpose`, a list of another purpose is not read past its first page."""
    uri = await resolved_list_uri(xrpc, list_uri)
    members: dict[str, str] = {}
    cursor: str | None = None
    view: dict[str, Any] = {}
    truncated = False
    for _ in range(MAX_LIST_PAGES):
        body = await xrpc.query("app.bsky.graph.getList", {"list": uri, "limit": PAGE, "cursor": cursor}, public=True)
        view = body.get("list") or view
        items = body.get("items") or []
        for item in items:
            subject = item.get("subject") or {}
            if subject.get("did"):
                members[subject["did"]] = (subject.get("handle") or subject["did"]).lower()
        cursor = body.get("cursor")
        if not cursor or not items or (purpose is not None and view.get("purpose") != purpose):
            break
    else:
        truncated = bool(cursor)
    return ModerationList(uri=view.get("uri") or uri, name=view.get("name") or "", purpose=view.get("purpose") or "",
                          members=sorted(members.items()), truncated=truncated)


def list_at_uri(value: str) -> str:
    """`https://bsky.app/profile/<actor>/lists/<rkey>` -> `at://<actor>/app.bsky.graph.list/<rkey>`."""
    if value.startswith("at://"):
        return value
    marker = "bsky.app/profile/"
    if marker in value and "/lists/" in value:
        actor, _, rkey = value.split(marker, 1)[1].partition("/lists/")
        return f"at://{actor}/app.bsky.graph.list/{rkey.strip('/')}"
    return value
