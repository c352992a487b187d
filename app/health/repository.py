"""Every query behind readiness and the metrics: counts over accounts, sources, actions and the inbox."""

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Row, func, select, text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from app.models import Account, Action, ActionStatus, Cursor, SeenPost, StreamState


async def schema_revision(engine: AsyncEngine) -> str | None:
    """The migration the database is at (raises when the database does not answer)."""
    async with engine.connect() as conn:
        return (await conn.execute(text("SELECT version_num FROM alembic_version"))).scalar()


async def attention_counts(session: AsyncSession) -> tuple[int, int]:
    """(enabled accounts not active, accounts with a source whose last poll failed)."""
    attention = await session.scalar(select(func.count()).select_from(Account)
                                     .where(Account.enabled.is_(True), Account.status != "active"))
    failing = await session.scalar(select(func.count(func.distinct(Cursor.account_id)))
                                   .where(Cursor.account_id.is_not(None), Cursor.consecutive_failures > 0))
    return attention or 0, failing or 0


async def actions_by_status(session: AsyncSession) -> Sequence[Row[str, str, str, int]]:
    """(platform, kind, status, count) of every action."""
    return (await session.execute(select(Account.platform, Action.kind, Action.status, func.count())
                                  .join(Account, Account.id == Action.account_id)
                                  .group_by(Account.platform, Action.kind, Action.status))).all()


async def skip_reasons(session: AsyncSession) -> Sequence[Row[str | None, int]]:
    """(reason, count) of the skipped actions."""
    return (await session.execute(select(Action.reason, func.count()).where(Action.status == ActionStatus.skipped)
                                  .group_by(Action.reason))).all()


async def polls_by_platform(session: AsyncSession) -> Sequence[Row[str, int, int]]:
    """(platform, polls, failed polls) over every source."""
    return (await session.execute(select(Account.platform, func.sum(Cursor.poll_count), func.sum(Cursor.error_count))
                                  .join(Account, Account.id == Cursor.account_id).group_by(Account.platform))).all()


async def posts_by_platform(session: AsyncSession) -> Sequence[Row[str, int]]:
    """(platform, count) of the posts in the inbox."""
    return (await session.execute(select(SeenPost.platform, func.count()).group_by(SeenPost.platform))).all()


async def sends_since(session: AsyncSession, since: datetime) -> list[tuple[str, datetime, datetime]]:
    """(platform, sent_at, the post's seen_at) of the actions sent since `since`."""
    rows = await session.execute(select(Account.platform, Action.sent_at, SeenPost.seen_at)
                                 .join(Account, Account.id == Action.account_id)
                                 .join(SeenPost, SeenPost.id == Action.seen_post_id)
                                 .where(Action.sent_at >= since))
    return [(platform, sent_at, seen_at) for platform, sent_at, seen_at in rows if sent_at is not None]


async def account_states(session: AsyncSession) -> Sequence[Row[str, str, bool, Any]]:
    """(platform, status, enabled, conditions) of every account."""
    return (await session.execute(select(Account.platform, Account.status, Account.enabled, Account.conditions))).all()


async def streams_by_state(session: AsyncSession) -> Sequence[Row[str, str, int]]:
    """(platform, stream state, count) of the recorded stream states."""
    return (await session.execute(select(Account.platform, StreamState.state, func.count())
                                  .join(Account, Account.id == StreamState.account_id)
                                  .group_by(Account.platform, StreamState.state))).all()


async def sources_by_platform(session: AsyncSession) -> Sequence[Row[str, int, int]]:
    """(platform, sources, the longest run of failed polls) over the accounts' sources."""
    return (await session.execute(select(Account.platform, func.count(), func.max(Cursor.consecutive_failures))
                                  .join(Account, Account.id == Cursor.account_id).group_by(Account.platform))).all()


async def failing_sources(session: AsyncSession) -> Sequence[Row[str, str | None, int]]:
    """(platform, error kind, count) of the sources whose last poll failed."""
    return (await session.execute(select(Account.platform, Cursor.error_kind, func.count())
                                  .join(Account, Account.id == Cursor.account_id)
                                  .where(Cursor.consecutive_failures > 0)
                                  .group_by(Account.platform, Cursor.error_kind))).all()


async def oldest_due(session: AsyncSession, due: ColumnElement[bool]) -> Sequence[Row[str, datetime]]:
    """(platform, since when the oldest `due` action has waited)."""
    since = func.min(func.coalesce(Action.next_attempt_at, Action.created_at))
    return (await session.execute(select(Account.platform, since).join(Account, Account.id == Action.account_id)
                                  .where(due).group_by(Account.platform))).all()
