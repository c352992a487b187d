"""One page of a list: `Page[T]` with limit/offset and the total, and `paginate`, the one place a
query is counted and cut into a page."""

from collections.abc import Callable
from typing import Annotated, Any, Generic, TypeVar

from fastapi import Query
from pydantic import BaseModel, Field
from sqlalchemy import Select, func, select
from sqlalchemy.ext.asyncio import AsyncSession

# The id types live in app/inputs.py; endpoints import them from here with Page.
from app.inputs import MAX_ID, MAX_OFFSET, Id, PathId  # noqa: F401 - re-exported, as the line above says

T = TypeVar("T")


class Page(BaseModel, Generic[T]):
    """One page of a list; ask for the next with offset + limit while it is below total."""

    items: list[T] = Field(description="this page's items")
    total: int = Field(description="items in the whole list")
    limit: int = Field(description="the page size asked for (default 50, at most 500)")
    offset: int = Field(description="items skipped before this page")


class PageParams(BaseModel):
    limit: int = 50
    offset: int = 0


def page_params(
    limit: Annotated[int, Query(ge=1, le=500, description="items per page")] = 50,
    offset: Annotated[int, Query(ge=0, le=MAX_OFFSET, description="items to skip")] = 0,
) -> PageParams:
    """The `limit` and `offset` query parameters of a list endpoint."""
    return PageParams(limit=limit, offset=offset)


async def paginate(session: AsyncSession, query: Select[Any], *, page: PageParams,
                   into: Callable[[Any], T]) -> Page[T]:
    """One page of an ordered single-entity query (each row made an item by `into`) and its total."""
    total = await session.scalar(select(func.count()).select_from(query.order_by(None).subquery()))
    rows = await session.scalars(query.limit(page.limit).offset(page.offset))
    return Page(items=[into(row) for row in rows], total=total or 0, limit=page.limit, offset=page.offset)
