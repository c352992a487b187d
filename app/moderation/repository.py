"""Every query on blocks and author lists."""

from collections.abc import Callable, Collection, Sequence
from datetime import datetime
from typing import Any, cast

from sqlalchemy import ColumnElement, CursorResult, delete, func, insert, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from app.actions import states
from app.db.dialect import among
from app.models import (
    Account,
    Action,
    ActionKind,
    ActionStatus,
    AuthorHost,
    AuthorList,
    Block,
    BlockKind,
    BlockListMember,
    BlockListSubscription,
    Rule,
)
from app.moderation import author_hosts
from app.pagination import Page, PageParams, T, paginate

# Blocks and opt-outs stop and undo reposts, likes and quotes: never the account's reply telling an
# author who said "stop" so (the dispatcher sends a reply whatever the moderation: app/pipeline/dispatcher.py).
MODERATED = Action.kind != ActionKind.reply


def _owner(account_id: int | None):
    return Block.account_id.is_(None) if account_id is None else Block.account_id == account_id


async def find_block(session: AsyncSession, account_id: int | None, author: str,
                     platform: str | None = None) -> Block | None:
    """The block of `author` (its id, or a pending name); for a global block, on `platform`."""
    query = select(Block).where(_owner(account_id), Block.author == author)
    if account_id is None and platform is not None:
        query = query.where(or_(Block.platform == platform, Block.platform.is_(None)))
    return await session.scalar(query.limit(1))


async def accounts_on(session: AsyncSession, platform: str | None) -> Sequence[Account]:
    """The accounts on `platform` (every account for None): a global domain block finds their own instances."""
    query = select(Account) if platform is None else select(Account).where(Account.platform == platform)
    return (await session.scalars(query.order_by(Account.id))).all()


async def find_block_named(session: AsyncSession, account_id: int | None, names: list[str]) -> Block | None:
    """The block whose id, pending name or shown handle is one of `names` (to lift it by any of them)."""
    query = select(Block).where(_owner(account_id), or_(Block.author.in_(names), Block.handle.in_(names)))
    return await session.scalar(query.order_by(Block.id).limit(1))


async def blocks_owned(session: AsyncSession, *, account_id: int | None) -> Sequence[Block]:
    """The account's own blocks (global ones for None), oldest first: what an export writes."""
    return (await session.scalars(select(Block).where(_owner(account_id)).order_by(Block.id))).all()


async def blocks_page(session: AsyncSession, *, account_id: int | None, page: PageParams,
                      into: Callable[[Block], T]) -> Page[T]:
    """A page of the account's blocks (global ones for None), newest first."""
    query = select(Block).where(_owner(account_id)).order_by(Block.id.desc())
    return await paginate(session, query, page=page, into=into)


def _by_author(author: str, pending: bool):
    """Actions of the author: by id once resolved; by id or the typed handle while pending."""
    if pending:
        return (Action.author_handle == author) | (Action.author_id == author)
    return func.lower(Action.author_id) == author


def in_domain(domain: str, local_account_ids: Collection[int]) -> ColumnElement[bool]:
    """Actions whose author is in `domain` or under it (as app/platforms/handles.py `author_domain`
    reads handles, lower-cased as stored): `user@<domain>`, a Bluesky handle `<name>.<domain>` or the
    domain itself, and the local (no `@`) authors of the accounts whose own instance is in it."""
    handle = Action.author_handle
    named = or_(handle == domain, handle.like(f"%@{domain}"), handle.like(f"%.{domain}")) & ~handle.contains(":")
    if not local_account_ids:
        return named
    return named | (~handle.contains("@") & ~handle.contains(":") & Action.account_id.in_(list(local_account_ids)))


async def hosted_on(session: AsyncSession, hosts: Collection[str]) -> dict[str, str]:
    """DID -> PDS host of the cached authors hosted on one of `hosts` (or under it)."""
    query = select(AuthorHost.did, AuthorHost.pds_host).where(or_(*(author_hosts.on_host(h) for h in hosts)))
    return {did: host for did, host in await session.execute(query) if host}


async def stop_waiting(session: AsyncSession, *, account_id: int | None, author: str, reason: str,
                       pending: bool = True, platform: str | None = None,
                       who: ColumnElement[bool] | None = None) -> int:
    """Mark the author's (or, with `who`, those authors') waiting actions skipped; returns how many."""
    waiting = states.sources(ActionStatus.skipped, among=states.WAITING)  # never one in flight (sending)
    query = update(Action).where(Action.status.in_(waiting), MODERATED,
                                 _by_author(author, pending) if who is None else who)
    if account_id is not None:
        query = query.where(Action.account_id == account_id)
    elif platform is not None:
        query = query.where(Action.account_id.in_(select(Account.id).where(Account.platform == platform)))
    values = query.values(status=ActionStatus.skipped, reason=reason, next_attempt_at=None)
    result = cast(CursorResult[Any], await session.execute(values))  # an UPDATE's result: it has a rowcount
    return result.rowcount or 0


def _scope(query, account_id: int | None, platform: str | None):
    """Actions of the account; for None, of every account on `platform` (every account for None)."""
    if account_id is not None:
        return query.where(Action.account_id == account_id)
    if platform is not None:
        return query.where(Action.account_id.in_(select(Account.id).where(Account.platform == platform)))
    return query


async def authors_of_actions(session: AsyncSession, *, account_id: int | None, platform: str | None,
                             statuses: Collection[str]) -> Sequence[tuple[int, int, str, str]]:
    """(id, account_id, author_id, author_handle) of the actions in `statuses`: an import matches
    its new blocks against them in one pass, rather than one query per block."""
    query = select(Action.id, Action.account_id, Action.author_id, Action.author_handle)
    query = _scope(query.where(Action.status.in_(list(statuses)), MODERATED), account_id, platform)
    return [(row[0], row[1], row[2], row[3]) for row in await session.execute(query.order_by(Action.id))]


async def skip_waiting(session: AsyncSession, ids: Sequence[int], reason: str) -> int:
    """Mark these actions skipped if they are still waiting; returns how many."""
    waiting = states.sources(ActionStatus.skipped, among=states.WAITING)
    done = 0
    for start in range(0, len(ids), 500):
        query = (update(Action).where(Action.id.in_(list(ids[start:start + 500])), Action.status.in_(waiting))
                 .values(status=ActionStatus.skipped, reason=reason, next_attempt_at=None))
        done += cast(CursorResult[Any], await session.execute(query)).rowcount or 0
    return done


async def actions_in(session: AsyncSession, ids: Sequence[int]) -> list[Action]:
    """These actions, loaded (in chunks, for a long list)."""
    found: list[Action] = []
    for start in range(0, len(ids), 500):
        found += (await session.scalars(select(Action).where(Action.id.in_(list(ids[start:start + 500]))))).all()
    return found


async def block_keys(session: AsyncSession, account_id: int | None, platform: str | None) -> set[str]:
    """The keys (`author`) of the account's blocks; for None, of the global ones find_block would find."""
    query = select(Block.author).where(_owner(account_id))
    if account_id is None and platform is not None:
        query = query.where(or_(Block.platform == platform, Block.platform.is_(None)))
    return set(await session.scalars(query))


async def done_by_author(session: AsyncSession, *, account_id: int | None, author: str, pending: bool,
                         platform: str | None = None, who: ColumnElement[bool] | None = None) -> Sequence[Action]:
    """Live (done, no undo in hand) actions of an author (or, with `who`, of those authors), for undo
    on block or opt-out."""
    whose = _by_author(author, pending) if who is None else who
    query = select(Action).where(Action.status == ActionStatus.done, MODERATED, whose)
    if account_id is not None:
        query = query.where(Action.account_id == account_id)
    elif platform is not None:
        query = query.where(Action.account_id.in_(select(Account.id).where(Account.platform == platform)))
    return (await session.scalars(query)).all()


async def blocks_for(session: AsyncSession, *, account_id: int, platform: str) -> Sequence[Block]:
    """The blocks that hold for an account: its own, and the global ones of its platform or of all."""
    global_here = Block.account_id.is_(None) & or_(Block.platform.is_(None), Block.platform == platform)
    return (await session.scalars(select(Block).where(or_(Block.account_id == account_id, global_here)))).all()


async def blocks_of_accounts(session: AsyncSession, account_ids: Collection[int]) -> Sequence[Block]:
    """The blocks of these accounts and every global one (block_holds sorts them out per account)."""
    query = select(Block).where(or_(among(Block.account_id, account_ids), Block.account_id.is_(None)))
    return (await session.scalars(query)).all()


def block_holds(block: Block, *, account_id: int, platform: str) -> bool:
    """Whether a block holds for an account: its own, or a global one of its platform or of all."""
    if block.account_id is not None:
        return block.account_id == account_id
    return block.platform is None or block.platform == platform


async def entries_of_accounts(session: AsyncSession, account_ids: Collection[int]) -> Sequence[AuthorList]:
    """The opt-out and consent entries of these accounts."""
    return (await session.scalars(select(AuthorList).where(among(AuthorList.account_id, account_ids)))).all()


async def entries_of(session: AsyncSession, account_id: int) -> Sequence[AuthorList]:
    """The account's opt-out and consent entries, both lists."""
    return (await session.scalars(select(AuthorList).where(AuthorList.account_id == account_id))).all()


async def due_for_check(session: AsyncSession, model: type[Block] | type[AuthorList], *, pending: bool,
                        stale: datetime, limit: int) -> list[Block | AuthorList]:
    """Pending rows of `model` (or, with pending False, resolved ones last checked before `stale`),
    the longest unasked first."""
    due = model.pending.is_(True) if pending else model.pending.is_(False) & (model.checked_at < stale)
    if model is Block:  # a domain block names no one to look up
        due = due & (Block.kind == BlockKind.author)
    order = (model.checked_at.is_(None).desc(), model.checked_at, model.id)
    rows = await session.scalars(select(model).where(due).order_by(*order).limit(limit))
    return [row for row in rows if isinstance(row, (Block, AuthorList))]  # (so the type checker knows)


async def find_entry(session: AsyncSession, account_id: int, kind: str, author: str) -> AuthorList | None:
    return await session.scalar(select(AuthorList).where(AuthorList.account_id == account_id, AuthorList.kind == kind,
                                                         AuthorList.author == author))


async def find_entry_named(session: AsyncSession, account_id: int, kind: str, names: list[str]) -> AuthorList | None:
    """The entry whose id, pending name or shown handle is one of `names`."""
    query = select(AuthorList).where(AuthorList.account_id == account_id, AuthorList.kind == kind,
                                     or_(AuthorList.author.in_(names), AuthorList.handle.in_(names)))
    return await session.scalar(query.order_by(AuthorList.id).limit(1))


async def entries_page(session: AsyncSession, *, account_id: int, kind: str, page: PageParams,
                       into: Callable[[AuthorList], T]) -> Page[T]:
    """A page of the account's opt-out or consent list, oldest first."""
    query = select(AuthorList).where(AuthorList.account_id == account_id, AuthorList.kind == kind)
    return await paginate(session, query.order_by(AuthorList.id), page=page, into=into)


# --- the dashboard's view of one person on one account -----------------------------------------


async def count_by_author(session: AsyncSession, *, account_id: int, author: str, pending: bool,
                          statuses: Sequence[str], live: bool = False, who: ColumnElement[bool] | None = None) -> int:
    """How many of the author's (with `who`, those authors') actions on the account are in `statuses`;
    with `live`, only those no undo was asked for (what a block or opt-out with undo would undo)."""
    query = select(func.count()).select_from(Action).where(Action.account_id == account_id,
                                                           Action.status.in_(list(statuses)),
                                                           _by_author(author, pending) if who is None else who)
    if live:
        query = query.where(Action.undo_requested_at.is_(None))
    return await session.scalar(query) or 0


async def actions_of_author(session: AsyncSession, *, account_id: int, author: str, pending: bool,
                            limit: int) -> Sequence[tuple[Action, str | None]]:
    """The author's newest actions on the account, each with its rule's name (None once deleted)."""
    query = (select(Action, Rule.name).outerjoin(Rule, Rule.id == Action.rule_id)
             .where(Action.account_id == account_id, _by_author(author, pending))
             .order_by(Action.id.desc()).limit(limit))
    return [(action, name) for action, name in await session.execute(query)]


async def author_id_named(session: AsyncSession, *, account_id: int, handle: str) -> str | None:
    """The id of the author the account last acted on under this handle (to find a person by handle)."""
    query = (select(Action.author_id).where(Action.account_id == account_id,
                                            func.lower(Action.author_handle) == handle)
             .order_by(Action.id.desc()).limit(1))
    return await session.scalar(query)


async def pending_named(session: AsyncSession, *, account_id: int, author: str) -> bool:
    """Whether `author` is a name still pending on one of the account's blocks or lists (not an id)."""
    blocks = select(Block.id).where(or_(Block.account_id == account_id, Block.account_id.is_(None)),
                                    Block.author == author, Block.pending.is_(True))
    lists = select(AuthorList.id).where(AuthorList.account_id == account_id, AuthorList.author == author,
                                        AuthorList.pending.is_(True))
    return await session.scalar(select(blocks.exists() | lists.exists())) or False


# --- shared block lists ------------------------------------------------------------------------

CHUNK = 500  # authors per IN (...) of a bulk update: well inside every engine's bound on parameters


async def subscription(session: AsyncSession, account_id: int, subscription_id: int, *,
                       lock: bool = False) -> BlockListSubscription | None:
    """The account's subscription by id (None when it is another account's); `lock`: FOR UPDATE."""
    query = select(BlockListSubscription).where(BlockListSubscription.id == subscription_id,
                                                BlockListSubscription.account_id == account_id)
    return await session.scalar(query.with_for_update() if lock else query)


async def subscription_by_source(session: AsyncSession, account_id: int, source: str) -> BlockListSubscription | None:
    return await session.scalar(select(BlockListSubscription).where(BlockListSubscription.account_id == account_id,
                                                                    BlockListSubscription.source == source))


async def subscriptions_of(session: AsyncSession, account_id: int) -> Sequence[BlockListSubscription]:
    """The account's subscriptions, oldest first."""
    query = select(BlockListSubscription).where(BlockListSubscription.account_id == account_id)
    return (await session.scalars(query.order_by(BlockListSubscription.id))).all()


async def subscriptions_page(session: AsyncSession, *, account_id: int, page: PageParams,
                             into: Callable[[BlockListSubscription], T]) -> Page[T]:
    query = select(BlockListSubscription).where(BlockListSubscription.account_id == account_id)
    return await paginate(session, query.order_by(BlockListSubscription.id), page=page, into=into)


async def members_of(session: AsyncSession, subscription_id: int) -> dict[str, str]:
    """The subscription's members at its last refresh: author -> handle."""
    query = select(BlockListMember.author, BlockListMember.handle).where(
        BlockListMember.subscription_id == subscription_id)
    return {row.author: row.handle for row in await session.execute(query)}


async def add_members(session: AsyncSession, subscription_id: int, members: dict[str, str], now: datetime) -> None:
    """Insert members (author -> handle), a chunk per statement."""
    rows = [{"subscription_id": subscription_id, "author": author, "handle": handle, "added_at": now}
            for author, handle in sorted(members.items())]
    for start in range(0, len(rows), CHUNK):
        await session.execute(insert(BlockListMember), rows[start:start + CHUNK])


async def set_member_handle(session: AsyncSession, subscription_id: int, author: str, handle: str) -> None:
    await session.execute(update(BlockListMember).where(BlockListMember.subscription_id == subscription_id,
                                                        BlockListMember.author == author).values(handle=handle))


async def members_page(session: AsyncSession, *, subscription_id: int, page: PageParams,
                       into: Callable[[BlockListMember], T]) -> Page[T]:
    query = select(BlockListMember).where(BlockListMember.subscription_id == subscription_id)
    return await paginate(session, query.order_by(BlockListMember.author), page=page, into=into)


async def remove_members(session: AsyncSession, subscription_id: int, authors: Collection[str]) -> None:
    listed = sorted(authors)
    for start in range(0, len(listed), CHUNK):
        await session.execute(delete(BlockListMember).where(BlockListMember.subscription_id == subscription_id,
                                                            BlockListMember.author.in_(listed[start:start + CHUNK])))


async def listed_of_accounts(session: AsyncSession, account_ids: Collection[int]
                             ) -> tuple[Sequence[BlockListSubscription], Sequence[tuple[int, str]]]:
    """The subscriptions of these accounts, and (subscription id, author) of every member of them
    (plain tuples: a list of 10,000 people is 10,000 rows, not 10,000 ORM objects)."""
    subs = (await session.scalars(select(BlockListSubscription)
                                  .where(among(BlockListSubscription.account_id, account_ids)))).all()
    if not subs:
        return subs, []
    query = select(BlockListMember.subscription_id, BlockListMember.author).where(
        among(BlockListMember.subscription_id, [sub.id for sub in subs]))
    return subs, [(sub_id, author) for sub_id, author in await session.execute(query)]


async def lists_naming(session: AsyncSession, account_id: int, author: str) -> Sequence[BlockListSubscription]:
    """The account's subscribed lists `author` is on."""
    query = (select(BlockListSubscription)
             .join(BlockListMember, BlockListMember.subscription_id == BlockListSubscription.id)
             .where(BlockListSubscription.account_id == account_id, BlockListMember.author == author))
    return (await session.scalars(query.order_by(BlockListSubscription.id))).all()


async def manual_blocks_of(session: AsyncSession, account_id: int) -> Sequence[Block]:
    """An account's own resolved blocks: what a `reposter_account` subscription to it follows."""
    query = select(Block).where(Block.account_id == account_id, Block.pending.is_(False))
    return (await session.scalars(query)).all()


async def due_subscriptions(session: AsyncSession, now: datetime, limit: int) -> list[int]:
    """Subscriptions of enabled accounts due for a refresh, the longest waiting first."""
    query = (select(BlockListSubscription.id)
             .join(Account, Account.id == BlockListSubscription.account_id)
             .where(Account.enabled.is_(True), _due(now))
             .order_by(BlockListSubscription.next_refresh_at.is_(None).desc(), BlockListSubscription.next_refresh_at,
                       BlockListSubscription.id)
             .limit(limit))
    return list(await session.scalars(query))


def _due(now: datetime):
    return or_(BlockListSubscription.next_refresh_at.is_(None), BlockListSubscription.next_refresh_at <= now)


async def claim_subscription(session: AsyncSession, subscription_id: int, now: datetime, until: datetime) -> bool:
    """Take a due subscription's refresh (its next time moved to `until`); False when another
    worker took it first."""
    query = (update(BlockListSubscription).where(BlockListSubscription.id == subscription_id, _due(now))
             .values(next_refresh_at=until))
    result = cast(CursorResult[Any], await session.execute(query))
    return bool(result.rowcount)


async def stop_waiting_many(session: AsyncSession, *, account_id: int, authors: Collection[str], reason: str) -> int:
    """Mark the waiting actions of these authors (by id) skipped; returns how many."""
    waiting = states.sources(ActionStatus.skipped, among=states.WAITING)
    listed, total = sorted(authors), 0
    for start in range(0, len(listed), CHUNK):
        query = (update(Action).where(Action.account_id == account_id, Action.status.in_(waiting), MODERATED,
                                      func.lower(Action.author_id).in_(listed[start:start + CHUNK]))
                 .values(status=ActionStatus.skipped, reason=reason, next_attempt_at=None))
        result = cast(CursorResult[Any], await session.execute(query))
        total += result.rowcount or 0
    return total


async def done_by_authors(session: AsyncSession, *, account_id: int, authors: Collection[str]) -> list[Action]:
    """Live (done) actions of these authors (by id) on the account, for undo."""
    listed, found = sorted(authors), list[Action]()
    for start in range(0, len(listed), CHUNK):
        query = select(Action).where(Action.account_id == account_id, Action.status == ActionStatus.done, MODERATED,
                                     func.lower(Action.author_id).in_(listed[start:start + CHUNK]))
        found.extend((await session.scalars(query)).all())
    return found


async def listed_people(session: AsyncSession, account_id: int,
                        limit: int) -> Sequence[tuple[BlockListMember, BlockListSubscription]]:
    """People blocked for the account by its subscribed lists (one row per list), newest first."""
    query = (select(BlockListMember, BlockListSubscription)
             .join(BlockListSubscription, BlockListSubscription.id == BlockListMember.subscription_id)
             .where(BlockListSubscription.account_id == account_id)
             .order_by(BlockListMember.added_at.desc(), BlockListMember.author).limit(limit))
    return [(member, sub) for member, sub in await session.execute(query)]
