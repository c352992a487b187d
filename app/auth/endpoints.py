"""/tokens: API tokens (admin only)."""

from fastapi import APIRouter, status

from app.auth import repository, service
from app.auth.schemas import TokenCreate, TokenCreated, TokenRead
from app.deps import CallerDep, PageDep, SessionDep
from app.errors import error_responses
from app.pagination import Page, PathId

router = APIRouter(prefix="/tokens", tags=["tokens"], responses=error_responses(403))


@router.post("", status_code=status.HTTP_201_CREATED, response_model=TokenCreated, responses=error_responses(404))
async def create_token(data: TokenCreate, session: SessionDep, caller: CallerDep):
    """Create a token; the secret is in the answer and nowhere else."""
    caller.require_admin()
    token, secret = await service.create(session, data=data, caller=caller)
    return TokenCreated(**TokenRead.model_validate(token).model_dump(), token=secret)


@router.get("", response_model=Page[TokenRead])
async def list_tokens(session: SessionDep, caller: CallerDep, page: PageDep):
    """Every token (never the secrets)."""
    caller.require_admin()
    return await repository.page(session, page=page, into=TokenRead.model_validate)


@router.delete("/{token_id}", status_code=status.HTTP_204_NO_CONTENT, responses=error_responses(404))
async def revoke_token(token_id: PathId, session: SessionDep, caller: CallerDep) -> None:
    """Revoke a token at once."""
    caller.require_admin()
    await service.revoke(session, token_id=token_id, caller=caller)
