"""Every query on api_tokens."""

from collections.abc import Callable, Sequence

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.models import ApiToken
from app.pagination import Page, PageParams, T, paginate


async def by_hash(session: AsyncSession, token_hash: str) -> ApiToken | None:
    return await session.scalar(select(ApiToken).where(ApiToken.token_hash == token_hash))


async def get(session: AsyncSession, token_id: int) -> ApiToken | None:
    return await session.get(ApiToken, token_id)


async def page(session: AsyncSession, *, page: PageParams, into: Callable[[ApiToken], T]) -> Page[T]:
    """A page of every token, oldest first."""
    return await paginate(session, select(ApiToken).order_by(ApiToken.id), page=page, into=into)


async def every(session: AsyncSession) -> Sequence[ApiToken]:
    """Every token, revoked ones too, oldest first (`reposter token list`)."""
    return (await session.scalars(select(ApiToken).order_by(ApiToken.id))).all()


async def reaching(session: AsyncSession, account_id: int) -> list[ApiToken]:
    """Tokens whose account list names `account_id` (few tokens: filtered here, same on both engines)."""
    rows = await session.scalars(select(ApiToken).order_by(ApiToken.id))
    return [t for t in rows if account_id in (t.account_ids or [])]
