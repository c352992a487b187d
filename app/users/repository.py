"""Every query on users, web_sessions and invites."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.models import Invite, User, WebSession


async def by_name(session: AsyncSession, name_key: str) -> User | None:
    return await session.scalar(select(User).where(User.name_key == name_key))


async def get(session: AsyncSession, user_id: int) -> User | None:
    return await session.get(User, user_id)


async def every(session: AsyncSession) -> Sequence[User]:
    """Every person, oldest first."""
    return (await session.scalars(select(User).order_by(User.id))).all()


async def count(session: AsyncSession) -> int:
    return await session.scalar(select(func.count()).select_from(User)) or 0


async def reaching(session: AsyncSession, account_id: int) -> list[User]:
    """People whose account list names `account_id` (few people: filtered here, same on both engines)."""
    return [u for u in await every(session) if account_id in (u.account_ids or [])]


async def session_by_hash(session: AsyncSession, key_hash: str) -> tuple[WebSession, User] | None:
    row = (await session.execute(select(WebSession, User).join(User, User.id == WebSession.user_id)
                                 .where(WebSession.key_hash == key_hash))).first()
    return (row[0], row[1]) if row else None


async def end_sessions(session: AsyncSession, *, user_id: int | None = None, key_hash: str | None = None,
                       expired_before: datetime | None = None) -> None:
    """Delete sessions: one (by key), all of a person's, or every one expired before a time."""
    query = delete(WebSession)
    if key_hash is not None:
        query = query.where(WebSession.key_hash == key_hash)
    if user_id is not None:
        query = query.where(WebSession.user_id == user_id)
    if expired_before is not None:
        query = query.where(WebSession.expires_at < expired_before)
    await session.execute(query)


async def invite_by_hash(session: AsyncSession, key_hash: str) -> Invite | None:
    return await session.scalar(select(Invite).where(Invite.key_hash == key_hash))


async def get_invite(session: AsyncSession, invite_id: int) -> Invite | None:
    return await session.get(Invite, invite_id)


async def invites(session: AsyncSession) -> Sequence[Invite]:
    """Every invite, newest first."""
    return (await session.scalars(select(Invite).order_by(Invite.id.desc()))).all()


async def invites_reaching(session: AsyncSession, account_id: int) -> list[Invite]:
    return [i for i in await invites(session) if account_id in (i.account_ids or [])]
