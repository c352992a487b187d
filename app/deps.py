"""FastAPI dependencies as Annotated aliases: SessionDep, CallerDep, RuntimeDep."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.ext.asyncio import AsyncSession

from app.auth import service as auth_service
from app.auth.caller import Caller
from app.errors import Unauthorized
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


SessionDep = Annotated[AsyncSession, Depends(get_session)]


async def get_caller(request: Request, session: SessionDep) -> Caller:
    """The caller behind `Authorization: Bearer <token>`; 401 without a valid one."""
    header = request.headers.get("authorization", "")
    scheme, _, secret = header.partition(" ")
    if scheme.lower() != "bearer" or not secret.strip():
        raise Unauthorized("send Authorization: Bearer <token>")
    return await auth_service.authenticate(session, secret.strip())


CallerDep = Annotated[Caller, Depends(get_caller)]
