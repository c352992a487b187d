"""Blocks (per account and global) and the opt-out and consent lists."""

from fastapi import APIRouter, status

from app.accounts.service import get_for
from app.auth.caller import Capability
from app.deps import CallerDep, PageDep, RuntimeDep, SessionDep
from app.errors import error_responses
from app.moderation import repository, service
from app.moderation.schemas import AuthorEntry, AuthorEntryRead, BlockCreate, BlockCreated, BlockRead, ListKind
from app.pagination import Page, PathId

router = APIRouter(tags=["moderation"])


def _created(result: dict) -> BlockCreated:
    return BlockCreated(**BlockRead.model_validate(result["block"]).model_dump(),
                        undo_queued=result["undo_queued"], unqueued=result["unqueued"])


@router.post("/accounts/{account_id}/blocks", status_code=status.HTTP_201_CREATED, response_model=BlockCreated,
             responses=error_responses(404, 409))
async def block_author(account_id: PathId, data: BlockCreate, session: SessionDep, caller: CallerDep,
                       runtime: RuntimeDep):
    """Never repost this author from this account; waiting posts of theirs are not sent.

    The name is resolved through the platform to the author's id (a 422 when nobody has it; kept
    `pending` when the platform cannot be reached), and the block follows that person, not the handle."""
    account = await get_for(session, account_id=account_id, caller=caller, need=Capability.moderate)
    return _created(await service.add_block(session, runtime=runtime, account=account, data=data, caller=caller))


@router.get("/accounts/{account_id}/blocks", response_model=Page[BlockRead], responses=error_responses(404))
async def list_blocks(account_id: PathId, session: SessionDep, caller: CallerDep, page: PageDep):
    """The account's blocks, newest first."""
    await get_for(session, account_id=account_id, caller=caller, need=Capability.read)
    return await repository.blocks_page(session, account_id=account_id, page=page, into=BlockRead.model_validate)


@router.delete("/accounts/{account_id}/blocks/{author}", status_code=status.HTTP_204_NO_CONTENT,
               responses=error_responses(404))
async def unblock_author(account_id: PathId, author: str, session: SessionDep, caller: CallerDep) -> None:
    """Lift a block."""
    account = await get_for(session, account_id=account_id, caller=caller, need=Capability.moderate)
    await service.remove_block(session, account=account, author=author, caller=caller)


@router.post("/blocks", status_code=status.HTTP_201_CREATED, response_model=BlockCreated,
             responses=error_responses(403, 409))
async def block_globally(data: BlockCreate, session: SessionDep, caller: CallerDep, runtime: RuntimeDep):
    """Never repost this author from any account on their platform (admin); resolved as for an account's block."""
    caller.require_admin()
    return _created(await service.add_block(session, runtime=runtime, account=None, data=data, caller=caller))


@router.get("/blocks", response_model=Page[BlockRead], responses=error_responses(403))
async def list_global_blocks(session: SessionDep, caller: CallerDep, page: PageDep):
    """Global blocks (admin)."""
    caller.require_admin()
    return await repository.blocks_page(session, account_id=None, page=page, into=BlockRead.model_validate)


@router.delete("/blocks/{author}", status_code=status.HTTP_204_NO_CONTENT, responses=error_responses(403, 404))
async def unblock_globally(author: str, session: SessionDep, caller: CallerDep) -> None:
    """Lift a global block (admin)."""
    caller.require_admin()
    await service.remove_block(session, account=None, author=author, caller=caller)


@router.post("/accounts/{account_id}/authors/{kind}", status_code=status.HTTP_201_CREATED,
             response_model=AuthorEntryRead, responses=error_responses(404, 409))
async def add_author(account_id: PathId, kind: ListKind, data: AuthorEntry, session: SessionDep, caller: CallerDep,
                     runtime: RuntimeDep):
    """Add an author to the opt-out list (never reposted) or the consent list (Bluesky opt-in), by their id."""
    account = await get_for(session, account_id=account_id, caller=caller, need=Capability.moderate)
    return await service.add_entry(session, runtime=runtime, account=account, kind=kind, data=data, caller=caller)


@router.get("/accounts/{account_id}/authors/{kind}", response_model=Page[AuthorEntryRead],
            responses=error_responses(404))
async def list_authors(account_id: PathId, kind: ListKind, session: SessionDep, caller: CallerDep, page: PageDep):
    """The opt-out or consent list."""
    await get_for(session, account_id=account_id, caller=caller, need=Capability.read)
    return await repository.entries_page(session, account_id=account_id, kind=kind, page=page,
                                         into=AuthorEntryRead.model_validate)


@router.delete("/accounts/{account_id}/authors/{kind}/{author}", status_code=status.HTTP_204_NO_CONTENT,
               responses=error_responses(404))
async def remove_author(account_id: PathId, kind: ListKind, author: str, session: SessionDep,
                        caller: CallerDep) -> None:
    """Take an author off a list."""
    account = await get_for(session, account_id=account_id, caller=caller, need=Capability.moderate)
    await service.remove_entry(session, account=account, kind=kind, author=author, caller=caller)
