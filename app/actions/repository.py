"""Every query on actions: the API's, and the pipeline's (due rows, the rows a call needs)."""

from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, Row, and_, case, func, literal, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.actions.reasons import KINDS, OTHER, REPOSTED
from app.db.dialect import among, hour_of
from app.models import Account, Action, ActionKind, ActionStatus, OriginalState, Rule, SeenPost
from app.pagination import Page, PageParams, T, paginate

# The actions whose originals are watched after sending: a like carries no content of the original's.
WATCHED = (ActionKind.repost, ActionKind.quote)


async def get(session: AsyncSession, action_id: int) -> Action | None:
    return await session.get(Action, action_id)


async def page(session: AsyncSession, *, account_id: int, statuses: list[str] | None, page: PageParams,
               into: Callable[[Action], T]) -> Page[T]:
    """A page of the account's actions, newest first."""
    query = select(Action).where(Action.account_id == account_id)
    if statuses:
        query = query.where(Action.status.in_(statuses))
    return await paginate(session, query.order_by(Action.id.desc()), page=page, into=into)


async def review_queue(session: AsyncSession, *, account_id: int, page: PageParams,
                       into: Callable[[Action], T]) -> Page[T]:
    """A page of the account's actions waiting for review, oldest first (the order they came in)."""
    query = select(Action).where(Action.account_id == account_id, Action.status == ActionStatus.review)
    return await paginate(session, query.order_by(Action.id), page=page, into=into)


async def log_page(session: AsyncSession, *, account_id: int, status: str | None = None, rule_id: int | None = None,
                   author: str | None = None, since: datetime | None = None, page: PageParams,
                   into: Callable[[Action], T]) -> Page[T]:
    """A page of the account's log, newest first, narrowed by status, rule, author (part of the handle, any case)
    and the time the rule matched."""
    query = select(Action).where(Action.account_id == account_id)
    if status:
        query = query.where(Action.status == status)
    if rule_id is not None:
        query = query.where(Action.rule_id == rule_id)
    if author:
        query = query.where(func.lower(Action.author_handle).contains(author.lower(), autoescape=True))
    if since is not None:
        query = query.where(Action.created_at >= since)
    return await paginate(session, query.order_by(Action.id.desc()), page=page, into=into)


async def post_data(session: AsyncSession, seen_post_ids: list[int]) -> dict[int, dict[str, Any]]:
    """The stored posts (as the platform gave them) by their inbox id, for what a snapshot does not keep."""
    if not seen_post_ids:
        return {}
    rows = await session.execute(select(SeenPost.id, SeenPost.data).where(among(SeenPost.id, seen_post_ids)))
    return {row_id: data or {} for row_id, data in rows}


async def done_by_author(session: AsyncSession, *, account_ids: list[int] | None,
                         author_keys: set[str]) -> Sequence[Action]:
    """Live (done, no undo in hand) actions of an author, for undo on block."""
    query = select(Action).where(Action.status == ActionStatus.done,
                                 (Action.author_handle.in_(author_keys)) | (Action.author_id.in_(author_keys)))
    if account_ids is not None:
        query = query.where(Action.account_id.in_(account_ids))
    return (await session.scalars(query)).all()


async def post_text(session: AsyncSession, seen_post_id: int) -> str | None:
    """The stored post's text (None when the post is gone or has none)."""
    data = await session.scalar(select(SeenPost.data).where(SeenPost.id == seen_post_id))
    text = (data or {}).get("text")
    return text if isinstance(text, str) else None


async def for_posts(session: AsyncSession, *, account_id: int, post_ids: list[str]) -> Sequence[Action]:
    """The account's actions (any kind, any status) on these posts, for preview."""
    if not post_ids:
        return []
    query = select(Action).where(Action.account_id == account_id, Action.post_id.in_(post_ids))
    return (await session.scalars(query.order_by(Action.id))).all()


async def subject(session: AsyncSession, action_id: int) -> tuple[Action, Account, SeenPost, Rule | None]:
    """The action, its account, its inbox post and its rule (None once the rule is deleted)."""
    action = await session.get_one(Action, action_id)
    account = await session.get_one(Account, action.account_id)
    post = await session.get_one(SeenPost, action.seen_post_id)
    rule = await session.get(Rule, action.rule_id) if action.rule_id else None
    return action, account, post, rule


async def subjects(session: AsyncSession, ids: list[int]) -> tuple[
        list[Action], dict[int, Account], dict[int, SeenPost], dict[int, Rule]]:
    """These actions (by id), with their accounts, inbox posts and rules by id: four queries for a
    whole round of sends, whatever its size."""
    actions = list((await session.scalars(select(Action).where(among(Action.id, ids)).order_by(Action.id))).all())
    account_ids = {a.account_id for a in actions}
    post_ids = {a.seen_post_id for a in actions}
    rule_ids = {a.rule_id for a in actions if a.rule_id}
    accounts = {a.id: a for a in await session.scalars(select(Account).where(among(Account.id, account_ids)))}
    posts = {p.id: p for p in await session.scalars(select(SeenPost).where(among(SeenPost.id, post_ids)))}
    rules = {r.id: r for r in await session.scalars(select(Rule).where(among(Rule.id, rule_ids)))} if rule_ids else {}
    return actions, accounts, posts, rules


async def hosts_of(session: AsyncSession, ids: list[int], *order: Any) -> Sequence[tuple[int, int, str, Any]]:
    """(action id, account id, platform, account config) of these actions, in `order`."""
    rows = await session.execute(select(Action.id, Account.id, Account.platform, Account.config)
                                 .join(Account, Account.id == Action.account_id)
                                 .where(among(Action.id, ids)).order_by(*order))
    return rows.all()


async def with_rule_names(session: AsyncSession) -> Sequence[tuple[Action, str | None]]:
    """Every action with its rule's name (None once the rule is gone), oldest first: the demo's log."""
    query = select(Action, Rule.name).outerjoin(Rule, Rule.id == Action.rule_id).order_by(Action.id)
    rows = await session.execute(query)
    return [(action, name) for action, name in rows]


async def in_ids(session: AsyncSession, ids: list[int]) -> Sequence[Action]:
    """The actions with these ids."""
    return (await session.scalars(select(Action).where(Action.id.in_(ids)))).all()


def due_to_send(now: datetime, max_attempts: int) -> ColumnElement[bool]:
    """Queued rows whose time has come, and failed rows due for another try."""
    return or_(
        and_(Action.status == ActionStatus.queued,
             or_(Action.next_attempt_at.is_(None), Action.next_attempt_at <= now)),
        and_(Action.status == ActionStatus.failed, Action.next_attempt_at <= now, Action.attempts < max_attempts),
    )


def due_to_undo(now: datetime) -> ColumnElement[bool]:
    """Actions being undone whose time has come."""
    return and_(Action.status == ActionStatus.undoing,
                or_(Action.next_attempt_at.is_(None), Action.next_attempt_at <= now))


def promotion_ended(now: datetime) -> ColumnElement[bool]:
    """Sent actions whose rule's promotion window (undo_after_hours) has ended."""
    return and_(Action.status == ActionStatus.done, Action.undo_at <= now)


def being_undone() -> ColumnElement[bool]:
    """Actions whose undo was asked for and is not carried out yet (due or not)."""
    return Action.status == ActionStatus.undoing


def in_flight() -> ColumnElement[bool]:
    """Actions marked `sending` (reconcile settles those nobody holds)."""
    return Action.status == ActionStatus.sending


def originals_due(now: datetime, *, days: float, every: float) -> ColumnElement[bool]:
    """Sent reposts and quotes younger than `days`, not deleted, not looked at for `every` seconds."""
    last = func.coalesce(Action.original_checked_at, Action.sent_at)
    return and_(
        Action.status == ActionStatus.done, Action.kind.in_(WATCHED),
        or_(Action.original_state.is_(None), Action.original_state != OriginalState.deleted),
        Action.sent_at >= now - timedelta(days=days), last <= now - timedelta(seconds=every),
    )


async def live_on(session: AsyncSession, *, post_id: str, platform: str) -> Sequence[tuple[Action, Any]]:
    """Sent reposts and quotes of a post on `platform`, each with its account's config."""
    rows = await session.execute(select(Action, Account.config).join(Account, Account.id == Action.account_id).where(
        Action.post_id == post_id, Action.status == ActionStatus.done, Action.kind.in_(WATCHED),
        Account.platform == platform))
    return rows.all()


def _outcome_kind() -> ColumnElement[str]:
    """`reposted` for a sent action, else the kind of its skip reason (app/actions/reasons.py)."""
    skip = case(*[(Action.reason.startswith(prefix, autoescape=True), kind) for prefix, kind in KINDS], else_=OTHER)
    return case((Action.status == ActionStatus.skipped, skip), else_=literal(REPOSTED))


async def hourly_outcomes(session: AsyncSession, *, account_ids: list[int],
                          since: datetime) -> Sequence[Row[int, str, str, int]]:
    """(account id, UTC hour as `YYYY-MM-DD HH`, kind, count) of the actions sent (by sent_at, whatever
    became of them since: undone too) and those skipped (by when they were skipped) since `since`:
    the overview's charts, in one query. Replies to stop words are neither reposts nor skipped posts:
    left out."""
    skipped = Action.status == ActionStatus.skipped
    at = case((skipped, Action.updated_at), else_=Action.sent_at)
    inner = (select(Action.account_id.label("account_id"), hour_of(at).label("hour"), _outcome_kind().label("kind"))
             .where(Action.account_id.in_(account_ids), Action.kind != ActionKind.reply,
                    or_(and_(skipped, Action.updated_at >= since), and_(~skipped, Action.sent_at >= since)))
             .subquery())
    # grouped outside: PostgreSQL would not see one bound expression in SELECT and GROUP BY as the same
    query = (select(inner.c.account_id, inner.c.hour, inner.c.kind, func.count())
             .group_by(inner.c.account_id, inner.c.hour, inner.c.kind))
    return (await session.execute(query)).all()


async def waiting_by_status(session: AsyncSession, *, account_ids: list[int]) -> dict[tuple[int, str], int]:
    """{(account id, status): count} of the queued actions and those waiting for review."""
    query = (select(Action.account_id, Action.status, func.count())
             .where(Action.account_id.in_(account_ids), Action.status.in_((ActionStatus.queued, ActionStatus.review)))
             .group_by(Action.account_id, Action.status))
    return {(account_id, status): count for account_id, status, count in await session.execute(query)}


async def recent_matches(session: AsyncSession, *, account_id: int, limit: int) -> Sequence[tuple[Action, SeenPost]]:
    """The account's newest `limit` actions with the posts they were decided on, oldest first."""
    query = (select(Action, SeenPost).join(SeenPost, SeenPost.id == Action.seen_post_id)
             .where(Action.account_id == account_id).order_by(Action.id.desc()).limit(limit))
    rows = [(action, post) for action, post in await session.execute(query)]
    return rows[::-1]
