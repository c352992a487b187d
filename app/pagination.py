"""One page of a list: `Page[T]` with limit/offset and the total."""

from typing import Annotated, Generic, TypeVar

from fastapi import Path, Query
from pydantic import BaseModel, Field

# Ids are 64-bit signed integers on both engines; larger ones can name nothing.
MAX_ID = 2**63 - 1
PathId = Annotated[int, Path(ge=1, le=MAX_ID, description="an id")]
Id = Annotated[int, Field(ge=1, le=MAX_ID)]

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
    offset: Annotated[int, Query(ge=0, le=MAX_ID, description="items to skip")] = 0,
) -> PageParams:
    return PageParams(limit=limit, offset=offset)
