"""One page of a list: `Page[T]` with limit/offset and the total."""

from typing import Annotated, Generic, TypeVar

from fastapi import Query
from pydantic import BaseModel

# The id types live in app/inputs.py; endpoints import them from here with Page.
from app.inputs import MAX_ID, MAX_OFFSET, Id, PathId  # noqa: F401

T = TypeVar("T")


class Page(BaseModel, Generic[T]):
    items: list[T]
    total: int
    limit: int
    offset: int


class PageParams(BaseModel):
    limit: int = 50
    offset: int = 0


def page_params(
    limit: Annotated[int, Query(ge=1, le=500, description="items per page")] = 50,
    offset: Annotated[int, Query(ge=0, le=MAX_OFFSET, description="items to skip")] = 0,
) -> PageParams:
    return PageParams(limit=limit, offset=offset)
