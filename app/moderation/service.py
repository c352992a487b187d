"""Blocks and opt-outs: resolve who is named, stop them now, and undo their earlier reposts if asked."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from pydantic import ValidationError
from sqlalchemy.ext.asyncio import AsyncSession

from app.accounts import repository as accounts_repo
from app.actions import states
from app.actions.service import request_undo
from app.audit import record
from app.auth.caller import Caller
from app.db.base import utcnow
from app.errors import Conflict, Invalid, NotFound
from app.models import Account, Action, ActionStatus, AuthorList, Block, BlockListSubscription
from app.moderation import domain_blocks, pds_blocks, repository
from app.moderation.domains import block_key, domain_of_pattern, is_pattern, is_pds, pds_key, pds_of_typed
from app.moderation.identity import Resolved, clean_name, home_domain, name_in, resolve_names
from app.moderation.schemas import AuthorEntry, BlockCreate
from app.platforms.registry import get_platform


async def _undo_author(session: AsyncSession, *, account_id: int | None, who: Resolved, caller: Caller, why: str,
                       platform: str | None = None) -> int:
    done = await repository.done_by_author(session, account_id=account_id, author=who.key, pending=who.pending,
                                           platform=platform)
    for action in done:
        await request_undo(session, action=action, caller=caller, why=why)
    return len(done)


async def resolve_author(session: AsyncSession, runtime, account: Account | None, typed: str) -> Resolved:
    """Who `typed` names on the account's platform (a 422 when nobody; pending when it cannot be asked)."""
    name = clean_name(typed, domain=home_domain(account) if account is not None else None)
    return (await resolve_names(runtime, account, [name], what="author"))[name]


async def global_platform(session: AsyncSession, platform: str | None) -> str | None:
    """The platform a global block's author is looked up on: as given, else the one in use."""
    if platform is not None:
        try:
            get_platform(platform)
        except KeyError as exc:
            raise Invalid(f"unknown platform {platform!r}", error="invalid block") from exc
        return platform
    used = await accounts_repo.platforms_in_use(session)
    if len(used) > 1:
        raise Invalid(f"accounts use several platforms ({', '.join(used)}): say which one the author is on "
                      "with `platform`", error="invalid block")
    return used[0] if used else None


async def add_block(session: AsyncSession, *, runtime, account: Account | None, data: BlockCreate,
                    caller: Caller) -> dict:
    """Block an author for one account (or all, when account is None): resolved to their id first.
    A domain block (`*@spam.example`) goes to domain_blocks.add, a PDS block (`pds:host`) to pds_blocks.add."""
    if data.pds is not None:
        return await pds_blocks.add(session, account=account, platform=data.platform, data=data, host=data.pds,
                                    caller=caller)
    if data.domain is not None:
        platform = account.platform if account is not None else (
            None if data.platform is None else await global_platform(session, data.platform))
        return await domain_blocks.add(session, account=account, platform=platform, data=data, domain=data.domain,
                                       caller=caller)
    platform = account.platform if account is not None else await global_platform(session, data.platform)
    through = account
    if account is None and platform is not None:  # a global block: asked through an account on its platform
        through = await accounts_repo.first_enabled_on(session, platform)
    who = await resolve_author(session, runtime, through, data.author)
    return await add_resolved_block(session, account=account, platform=platform, who=who, data=data, caller=caller)


async def add_resolved_block(session: AsyncSession, *, account: Account | None, platform: str | None, who: Resolved,
                             data: BlockCreate, caller: Caller) -> dict:
    """Block the author `who` names (a Conflict when blocked already): stop their waiting posts, undo if asked."""
    account_id = None if account is None else account.id
    if await repository.find_block(session, account_id, who.key, platform):
        raise Conflict(f"{data.author} is already blocked" + ("" if who.pending else f" (as {who.handle})"))
    block = Block(account_id=account_id, author=who.key, handle=who.handle, pending=who.pending, platform=platform,
                  checked_at=utcnow(), reason=data.reason,
                  undo_existing=data.undo_existing, created_by=caller.label)
    session.add(block)
    await session.flush()
    unqueued = await repository.stop_waiting(session, account_id=account_id, author=who.key, pending=who.pending,
                                             platform=platform, reason=f"blocked: {data.reason or 'no reason given'}")
    undone = 0
    if data.undo_existing:
        undone = await _undo_author(session, account_id=account_id, who=who, caller=caller, platform=platform,
                                    why=f"author blocked: {data.reason}")
    await record(session, caller, "block.create", target_type="block", target_id=who.key, account_id=account_id,
                 detail={"reason": data.reason, "undo_existing": data.undo_existing, "undo_queued": undone,
                         "unqueued": unqueued, "scope": "global" if account_id is None else "account",
                         "name": data.author, "handle": who.handle, "pending": who.pending})
    return {"block": block, "undo_queued": undone, "unqueued": unqueued}


async def remove_block(session: AsyncSession, *, account: Account | None, author: str, caller: Caller) -> None:
    """Unblock an author, named by id, handle or the name blocked (earlier undos stay undone); or a
    domain, named `*@domain` or `*.domain`."""
    account_id = None if account is None else account.id
    block = await repository.find_block_named(session, account_id, _block_names(author, account))
    if block is None:
        raise NotFound(f"{author} is not blocked")
    await session.delete(block)
    await record(session, caller, "block.delete", target_type="block", target_id=block.author, account_id=account_id)


def _block_names(author: str, account: Account | None) -> list[str]:
    """The keys a block of `author` may be stored under: a PDS or domain block's, or a person's (`_names`)."""
    if is_pds(author):
        try:
            return [pds_key(pds_of_typed(author))]
        except ValueError as exc:
            raise NotFound(f"{author!r} is not a PDS") from exc
    if not is_pattern(author):
        return _names(author, account)
    try:
        return [block_key(domain_of_pattern(author))]
    except ValueError as exc:
        raise NotFound(f"{author!r} is not a domain") from exc


def _names(author: str, account: Account | None) -> list[str]:
    """The forms an entry may hold the name in: as cleaned, and Mastodon's canonical `user@domain`."""
    try:
        name = clean_name(author)
    except ValueError as exc:
        raise NotFound(f"{author!r} is not an author") from exc
    domain = home_domain(account) if account is not None else None
    local = clean_name(name, domain=domain)
    return list(dict.fromkeys([name, local, f"{local}@{domain}" if domain and "@" not in local else local]))


async def add_entry(session: AsyncSession, *, runtime, account: Account, kind: str, data: AuthorEntry,
                    caller: Caller) -> AuthorList:
    """Put an author (resolved to their id) on the account's opt-out or consent list."""
    who = await resolve_author(session, runtime, account, data.author)
    if await repository.find_entry(session, account.id, kind, who.key):
        raise Conflict(f"{data.author} is already on the {kind} list")
    return await put_on_list(session, account=account, kind=kind, who=who, undo=data.undo_existing, caller=caller,
                             detail={"name": data.author})


async def put_on_list(session: AsyncSession, *, account: Account, kind: str, who: Resolved, undo: bool,
                      caller: Caller, detail: dict | None = None) -> AuthorList:
    """Add a resolved author to the list (not there yet): waiting posts of an opted-out author are not
    sent, and their earlier reposts are undone with `undo`; audited (with `detail`) as `<kind>.add`."""
    entry = AuthorList(account_id=account.id, kind=kind, author=who.key, handle=who.handle, pending=who.pending,
                       checked_at=utcnow())
    session.add(entry)
    await session.flush()
    if kind == "optout":
        await repository.stop_waiting(session, account_id=account.id, author=who.key, pending=who.pending,
                                      reason="opted out: author is on the account's opt-out list")
        if undo:
            await _undo_author(session, account_id=account.id, who=who, caller=caller, why="author opted out")
    await record(session, caller, f"{kind}.add", target_type=kind, target_id=who.key, account_id=account.id,
                 detail={"undo_existing": undo, "name": who.name, "handle": who.handle, "pending": who.pending,
                         **(detail or {})})
    return entry


async def remove_entry(session: AsyncSession, *, account: Account, kind: str, author: str, caller: Caller) -> None:
    """Take an author off a list (named by id, handle or the name added)."""
    account_id = account.id
    entry = await repository.find_entry_named(session, account_id, kind, _names(author, account))
    if entry is None:
        raise NotFound(f"{author} is not on the {kind} list")
    await session.delete(entry)
    await record(session, caller, f"{kind}.remove", target_type=kind, target_id=entry.author, account_id=account_id)


# --- one person on one account, as the dashboard shows them ------------------------------------

PersonKind = Literal["block", "optout", "consent"]
RECENT_ACTIONS = 200  # the author page lists this many of their newest actions


@dataclass(frozen=True)
class Preview:
    """Who a typed name is, and what adding them to `kind` would do; nothing is changed yet."""

    kind: str
    who: Resolved
    live: int  # earlier reposts (done, no undo asked) that an undo would take back
    waiting: int  # their posts waiting to be sent, which would not be
    already: bool  # already blocked (here or globally) or on the list


async def preview(session: AsyncSession, *, runtime, account: Account, kind: PersonKind, typed: str) -> Preview:
    """Resolve `typed` on the account's platform and count what blocking (or listing) them would do."""
    try:
        who = await resolve_author(session, runtime, account, name_in(typed))
    except ValueError as exc:
        raise Invalid(f"author: {exc}", error="invalid author") from exc

    async def count(statuses: Sequence[str], live: bool = False) -> int:
        return await repository.count_by_author(session, account_id=account.id, author=who.key, pending=who.pending,
                                                statuses=statuses, live=live)

    live, waiting = await count([ActionStatus.done], live=True), await count(sorted(states.WAITING))
    return Preview(kind, who, live, waiting, await _listed(session, account, kind, who.key))


async def _listed(session: AsyncSession, account: Account, kind: str, key: str) -> bool:
    if kind == "block":
        return bool(await repository.find_block(session, account.id, key)
                    or await repository.find_block(session, None, key, account.platform))
    return await repository.find_entry(session, account.id, kind, key) is not None


async def add_person(session: AsyncSession, *, runtime, account: Account, kind: PersonKind, author: str,
                     reason: str, undo: bool, caller: Caller) -> tuple[str, str]:
    """Block the author or put them on a list (as the API does); returns their key and what was done."""
    try:
        if kind == "block":
            data = BlockCreate(author=author, reason=reason, undo_existing=undo)
            made = await add_block(session, runtime=runtime, account=account, data=data, caller=caller)
            return made["block"].author, _blocked_note(made)
        entry = await add_entry(session, runtime=runtime, account=account, kind=kind, caller=caller,
                                data=AuthorEntry(author=author, undo_existing=undo and kind == "optout"))
    except ValidationError as exc:
        raise Invalid("; ".join(str(e["msg"]) for e in exc.errors()), error="invalid author") from exc
    what = "the opt-out list" if kind == "optout" else "the consent list"
    return entry.author, f"{entry.handle} is on {what}." + (" Undo of their earlier reposts is requested."
                                                            if undo and kind == "optout" else "")


def _blocked_note(made: dict) -> str:
    block, undone, unqueued = made["block"], made["undo_queued"], made["unqueued"]
    note = f"{block.handle} is blocked."
    if undone:
        note += f" Undo requested for {undone} earlier repost{'s' if undone != 1 else ''}."
    if unqueued:
        note += f" {unqueued} waiting post{'s' if unqueued != 1 else ''} will not be sent."
    return note


async def remove_person(session: AsyncSession, *, account: Account, kind: PersonKind, author: str, caller: Caller,
                        everywhere: bool = False) -> None:
    """Lift the account's block (a global one with `everywhere`, admins only) or take them off a list."""
    if kind != "block":
        await remove_entry(session, account=account, kind=kind, author=author, caller=caller)
    elif everywhere:
        caller.require_admin()
        await remove_block(session, account=None, author=author, caller=caller)
    else:
        await remove_block(session, account=account, author=author, caller=caller)


@dataclass(frozen=True)
class Person:
    """Everything about one author on one account: their states and what was done with them."""

    key: str
    pending: bool
    handle: str
    display_name: str | None
    block: Block | None
    global_block: Block | None
    optout: AuthorList | None
    consent: AuthorList | None
    actions: Sequence[tuple[Action, str | None]]
    total: int
    lists: Sequence[BlockListSubscription] = ()  # the account's subscribed block lists naming them


async def person(session: AsyncSession, *, account: Account, author: str) -> Person:
    """The author (an id, a pending name, or a handle the account acted on) on this account."""
    try:
        key = clean_name(author)
    except ValueError as exc:
        raise Invalid(f"author: {exc}", error="invalid author") from exc
    pending = await repository.pending_named(session, account_id=account.id, author=key)
    found = await _person(session, account, key, pending)
    if not pending and not found.total and not _listed_any(found):
        by_handle = await repository.author_id_named(session, account_id=account.id, handle=key)
        if by_handle and by_handle.lower() != key:  # named by a handle: show the person it belongs to
            return await _person(session, account, by_handle.lower(), False)
    return found


def _listed_any(found: Person) -> bool:
    return any((found.block, found.global_block, found.optout, found.consent, found.lists))


async def _person(session: AsyncSession, account: Account, key: str, pending: bool) -> Person:
    actions = await repository.actions_of_author(session, account_id=account.id, author=key, pending=pending,
                                                 limit=RECENT_ACTIONS)
    total = await repository.count_by_author(session, account_id=account.id, author=key, pending=pending,
                                             statuses=list(ActionStatus))
    block = await repository.find_block(session, account.id, key)
    global_block = await repository.find_block(session, None, key, account.platform)
    optout = await repository.find_entry(session, account.id, "optout", key)
    consent = await repository.find_entry(session, account.id, "consent", key)
    listed = [row for row in (block, global_block, optout, consent) if row is not None]
    handle = actions[0][0].author_handle if actions else (listed[0].handle if listed else key)
    shown = next((a.snapshot.get("author_display_name") for a, _ in actions if a.snapshot), None)
    lists = [] if pending else await repository.lists_naming(session, account.id, key)
    return Person(key, pending, handle or key, shown, block, global_block, optout, consent, actions, total, lists)
