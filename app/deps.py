"""FastAPI dependencies as Annotated aliases: SessionDep, CallerDep, RuntimeDep, PageDep; and the input check
every route runs first (refuse_unstorable_text)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import Depends, Request
from fastapi.exceptions import RequestValidationError
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy.ext.asyncio import AsyncSession

from app.auth import service as auth_service
from app.auth.caller import Caller
from app.errors import NotFound, Unauthorized
from app.inputs import text_problem, unstorable
from app.pagination import PageParams, page_params
from app.runtime import Runtime


def get_runtime(request: Request) -> Runtime:
    return request.app.state.runtime


RuntimeDep = Annotated[Runtime, Depends(get_runtime)]


async def get_session(runtime: RuntimeDep) -> AsyncIterator[AsyncSession]:
    """The request's session: the one place that commits (on success) or rolls back."""
    async with runtime.sessions() as session:
        try:
            yield session
            await session.commit()
        except BaseException:
            await session.rollback()
            raise


# scope="function": the commit happens when the route returns, before the answer is sent. With
# FastAPI's default for yield dependencies (after the answer is sent), a client could read its own
# write as not yet there (a form's 303, then the GET), and a failed commit would follow a 2xx.
SessionDep = Annotated[AsyncSession, Depends(get_session, scope="function")]


# Declares the scheme in the OpenAPI document (Swagger UI's Authorize button) and on every operation
# that takes a caller; auto_error=False so a missing token is our own 401 body, not FastAPI's.
bearer = HTTPBearer(auto_error=False, scheme_name="token",
                    description="An API token: `reposter token create` or POST /api/v1/tokens (admin).")


async def get_caller(session: SessionDep,
                     credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)]) -> Caller:
    """The caller behind `Authorization: Bearer <token>`; 401 without a valid one."""
    if credentials is None:
        raise Unauthorized("send Authorization: Bearer <token>")
    return await auth_service.authenticate(session, credentials.credentials)


CallerDep = Annotated[Caller, Depends(get_caller)]

PageDep = Annotated[PageParams, Depends(page_params)]


async def refuse_unstorable_text(request: Request) -> None:
    """Text no database can store (NUL, lone surrogates) anywhere in a request: a 404 in the path
    (no resource is named so), a 422 in the query or the JSON body; checked before any query runs."""
    for name, value in request.path_params.items():
        if isinstance(value, str) and (problem := text_problem(value)):
            raise NotFound(f"no {name} like that: {problem}")
    problems = []
    for name, value in request.query_params.multi_items():
        problems += unstorable({name: value}, ("query",))
    body = await request.body()
    if body:
        try:
            # FastAPI has parsed a JSON body already; Starlette keeps it, so this does not parse again.
            data = await request.json()
        except ValueError:
            data = None  # not JSON: FastAPI answers it
        problems += unstorable(data, ("body",))
    if problems:
        raise RequestValidationError(problems)
