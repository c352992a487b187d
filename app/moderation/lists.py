"""Shared block lists: an account blocks everyone on a Bluesky moderation list, or everyone another
account blocks, for as long as they are on it.

Members are kept apart from blocks (table `block_list_members`, one row per list and person at the
list's last refresh) and unioned into the account's blocks where it decides (app/pipeline/views.py).
So a manual block is never touched by a list, two lists naming one person each hold their own row,
and leaving a list lifts exactly that list's hold. See docs/decisions.md, "Shared block lists".
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass, field
from datetime import timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from app.accounts.service import get_for
from app.actions.service import request_undo
from app.audit import record
from app.auth.caller import Caller, Capability
from app.db.base import utcnow
from app.errors import Conflict, Invalid, NotFound
from app.models import Account, BlockListKind, BlockListSubscription
from app.moderation import repository
from app.moderation.identity import client_for
from app.platforms.base import ActionClient, PlatformError, PostGone

log = logging.getLogger("reposter.block_lists")

MODLIST = "app.bsky.graph.defs#modlist"
LIST_COLLECTION = "app.bsky.graph.list"
# at://<did or handle>/app.bsky.graph.list/<rkey>, or the list's page on bsky.app
_AUTHORITY = r"(?P<authority>did:[a-z]+:[A-Za-z0-9._:%-]{1,200}|[A-Za-z0-9.-]{1,253})"
_RKEY = r"(?P<rkey>[A-Za-z0-9._:~-]{1,512})"
AT_LIST = re.compile(rf"at://{_AUTHORITY}/(?P<collection>[A-Za-z0-9.-]+)/{_RKEY}")
WEB_LIST = re.compile(rf"https://bsky\.app/profile/{_AUTHORITY}/lists/{_RKEY}/?")
SHOWN_CHANGES = 50  # authors named in one audit event of a refresh (the counts are always whole)


def parse_list(value: str) -> tuple[str, str]:
    """(authority, rkey) of a Bluesky list's at-uri or bsky.app address; a 422 for anything else."""
    text = value.strip()
    found = AT_LIST.fullmatch(text) or WEB_LIST.fullmatch(text)
    if found is None or found.group("rkey") in (".", ".."):
        raise Invalid("list: give the list's at-uri (at://<did>/app.bsky.graph.list/<rkey>) or its address "
                      "(https://bsky.app/profile/<handle or did>/lists/<rkey>)", error="invalid block list")
    if "collection" in found.groupdict() and found.group("collection") != LIST_COLLECTION:
        raise Invalid(f"list: {found.group('collection')!r} records are not lists; a list's at-uri names "
                      f"{LIST_COLLECTION}", error="invalid block list")
    authority = found.group("authority")
    return (authority if authority.startswith("did:") else authority.lower()), found.group("rkey")


@dataclass
class Fetched:
    """What one read of a list gave: its name and members (author id -> handle), or why it failed."""

    name: str = ""
    members: dict[str, str] = field(default_factory=dict)
    error: str | None = None
    note: str | None = None  # read, but with something to say (a list longer than read)


async def fetch_modlist(client: ActionClient, uri: str) -> Fetched:
    """Read a Bluesky moderation list through the account's AppView; failures come back as text."""
    try:
        found = await client.moderation_list(uri)
    except PostGone:
        return Fetched(error=f"Bluesky has no list {uri} (deleted?); its members stay blocked as they were")
    except PlatformError as exc:
        return Fetched(error=f"reading the list failed: {exc}")
    if found.purpose != MODLIST:
        return Fetched(name=found.name, error=f"{uri} is not a moderation list (purpose {found.purpose or 'none'})")
    note = "the list is longer than reposter reads; its first members are blocked" if found.truncated else None
    return Fetched(found.name, {author.lower(): handle for author, handle in found.members}, note=note)


async def fetch_account_blocks(session: AsyncSession, sub: BlockListSubscription) -> Fetched:
    """Another account's own resolved blocks (list members and pending names are not passed on)."""
    source = await session.get(Account, sub.source_account_id) if sub.source_account_id is not None else None
    if source is None:
        return Fetched(error=f"account #{sub.source.removeprefix('account:')} was deleted; its blocks at the last "
                             "refresh stay")
    blocks = await repository.manual_blocks_of(session, source.id)
    return Fetched(source.handle, {block.author: block.handle or block.author for block in blocks})


@dataclass(frozen=True)
class Applied:
    added: int
    removed: int
    unqueued: int
    undo_queued: int


async def apply(session: AsyncSession, account: Account, sub: BlockListSubscription, fetched: Fetched,
                caller: Caller | None, *, interval: float) -> Applied:
    """Record one read of the list: on an error keep the members and note it on the subscription;
    else add and remove members (waiting posts of those added are not sent; earlier reposts are
    undone if the subscription says so) and note the refresh. One audit event when members changed."""
    now = utcnow()
    sub.next_refresh_at = now + timedelta(seconds=interval)
    if fetched.error is not None:
        sub.error, sub.error_at = fetched.error, now
        log.warning("block list refresh failed", extra={"account_id": account.id, "subscription_id": sub.id,
                                                         "source": sub.source, "error": fetched.error})
        return Applied(0, 0, 0, 0)
    current = await repository.members_of(session, sub.id)
    added = sorted(set(fetched.members) - set(current))
    removed = sorted(set(current) - set(fetched.members))
    await repository.add_members(session, sub.id, {author: fetched.members[author][:255] for author in added}, now)
    for author, handle in current.items():  # handles change; ids do not
        if author in fetched.members and handle != fetched.members[author][:255]:
            await repository.set_member_handle(session, sub.id, author, fetched.members[author][:255])
    await repository.remove_members(session, sub.id, removed)
    sub.name = (fetched.name or sub.name)[:255]
    sub.member_count, sub.refreshed_at = len(fetched.members), now
    sub.error, sub.error_at = (fetched.note, now) if fetched.note else (None, None)
    await session.flush()
    unqueued = await repository.stop_waiting_many(session, account_id=account.id, authors=added,
                                                  reason=f"blocked: {sub.block_reason}") if added else 0
    undone = 0
    if added and sub.undo_existing:
        for action in await repository.done_by_authors(session, account_id=account.id, authors=added):
            await request_undo(session, action=action, caller=caller, why=f"author on {sub.label}")
            undone += 1
    if added or removed:
        await record(session, caller, "block_list.refresh", target_type="block_list", target_id=sub.id,
                     account_id=account.id,
                     detail={"source": sub.source, "added": len(added), "removed": len(removed),
                             "added_authors": added[:SHOWN_CHANGES], "removed_authors": removed[:SHOWN_CHANGES],
                             "unqueued": unqueued, "undo_queued": undone})
    return Applied(len(added), len(removed), unqueued, undone)


async def _read(session: AsyncSession, runtime, account: Account, sub: BlockListSubscription) -> Fetched:
    if sub.kind == BlockListKind.reposter_account:
        return await fetch_account_blocks(session, sub)
    return await fetch_modlist(client_for(runtime, account), sub.source)


async def subscribe(session: AsyncSession, *, runtime, account: Account, list_ref: str | None,
                    source_account_id: int | None, undo_existing: bool,
                    caller: Caller) -> tuple[BlockListSubscription, Applied]:
    """Subscribe the account to a Bluesky moderation list or to another account's blocks: the
    list is read at once (a 422 when it is not a moderation list or cannot be read) and its
    members blocked from now on."""
    if (list_ref is None) == (source_account_id is None):
        raise Invalid("give either `list` (a Bluesky moderation list) or `source_account_id` (another account "
                      "whose blocks to follow)", error="invalid block list")
    if list_ref is not None:
        kind, source = BlockListKind.bluesky_modlist, await _list_uri(runtime, account, list_ref)
    else:
        assert source_account_id is not None
        kind, source = BlockListKind.reposter_account, await _source_account(session, account, source_account_id,
                                                                                caller)
    if await repository.subscription_by_source(session, account.id, source):
        raise Conflict(f"account {account.id} already follows {source}")
    sub = BlockListSubscription(account_id=account.id, kind=kind, source=source, undo_existing=undo_existing,
                                source_account_id=source_account_id, created_by=caller.label, member_count=0)
    fetched = await _read(session, runtime, account, sub)
    if fetched.error is not None:  # nothing stored: say why now
        raise Invalid(f"list: {fetched.error.split(';')[0]}", error="invalid block list")
    session.add(sub)
    await session.flush()
    await record(session, caller, "block_list.subscribe", target_type="block_list", target_id=sub.id,
                 account_id=account.id, detail={"kind": kind, "source": source, "undo_existing": undo_existing})
    applied = await apply(session, account, sub, fetched, caller, interval=runtime.settings.block_list_refresh_seconds)
    return sub, applied


async def _list_uri(runtime, account: Account, value: str) -> str:
    """The list's at-uri with its owner's DID (a handle resolved through the account's platform)."""
    authority, rkey = parse_list(value)
    if account.platform != "bluesky":
        raise Invalid(f"Bluesky moderation lists are for Bluesky accounts; account {account.id} is on "
                      f"{account.platform}", error="invalid block list")
    if not authority.startswith("did:"):
        try:
            owner = await client_for(runtime, account).lookup_author(authority)
        except PlatformError as exc:
            raise Invalid(f"list: could not ask Bluesky who {authority} is ({exc}); try again",
                          error="invalid block list") from exc
        if owner is None:
            raise Invalid(f"list: nobody on Bluesky is called {authority}", error="invalid block list")
        authority = owner.id
    return f"at://{authority}/{LIST_COLLECTION}/{rkey}"


async def _source_account(session: AsyncSession, account: Account, source_id: int, caller: Caller) -> str:
    """`account:<id>` of an account the caller may read, on the same platform (404 when not theirs)."""
    source = await get_for(session, account_id=source_id, caller=caller, need=Capability.read)
    if source.id == account.id:
        raise Invalid("an account cannot follow its own blocks", error="invalid block list")
    if source.platform != account.platform:
        raise Invalid(f"account {source.id} is on {source.platform}, account {account.id} on {account.platform}: "
                      "ids of people differ between platforms", error="invalid block list")
    return f"account:{source.id}"


async def get(session: AsyncSession, account: Account, subscription_id: int, *,
              lock: bool = False) -> BlockListSubscription:
    sub = await repository.subscription(session, account.id, subscription_id, lock=lock)
    if sub is None:
        raise NotFound(f"block list subscription {subscription_id} not found")
    return sub


async def unsubscribe(session: AsyncSession, *, account: Account, subscription_id: int, caller: Caller) -> None:
    """Stop following a list: its members are no longer blocked (unless blocked by hand or by another list)."""
    sub = await get(session, account, subscription_id)
    count = sub.member_count
    await session.delete(sub)
    await record(session, caller, "block_list.unsubscribe", target_type="block_list", target_id=subscription_id,
                 account_id=account.id, detail={"source": sub.source, "members": count})


async def refresh_now(session: AsyncSession, *, runtime, account: Account, subscription_id: int,
                      caller: Caller) -> tuple[BlockListSubscription, Applied]:
    """Read the list again now (a failure is recorded on the subscription, as the job does)."""
    sub = await get(session, account, subscription_id, lock=True)
    fetched = await _read(session, runtime, account, sub)
    applied = await apply(session, account, sub, fetched, caller, interval=runtime.settings.block_list_refresh_seconds)
    return sub, applied
