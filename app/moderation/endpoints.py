"""Blocks (per account and global) and the opt-out and consent lists."""

from fastapi import APIRouter, status

from app.accounts.service import get_for
from app.auth.caller import Capability
from app.deps import CallerDep, PageDep, RuntimeDep, SessionDep
from app.errors import error_responses
from app.moderation import lists, repository, service
from app.moderation.schemas import (
    AuthorEntry,
    AuthorEntryRead,
    BlockCreate,
    BlockCreated,
    BlockListCreate,
    BlockListMemberRead,
    BlockListRead,
    BlockListRefreshed,
    BlockRead,
    ListKind,
)
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


def _refreshed(sub, applied: lists.Applied) -> BlockListRefreshed:
    return BlockListRefreshed(**BlockListRead.model_validate(sub).model_dump(), added=applied.added,
                              removed=applied.removed, unqueued=applied.unqueued, undo_queued=applied.undo_queued)


@router.post("/accounts/{account_id}/block-lists", status_code=status.HTTP_201_CREATED,
             response_model=BlockListRefreshed, responses=error_responses(404, 409))
async def subscribe_block_list(account_id: PathId, data: BlockListCreate, session: SessionDep, caller: CallerDep,
                               runtime: RuntimeDep):
    """Block everyone on a Bluesky moderation list (or everyone another account blocks) while they are on it.

    The list is read at once (a 422 when it is not a moderation list, or cannot be read) and again
    every `block_list_refresh_seconds`: people who join are blocked, people who leave are not any
    more (a block of one's own, or another list naming them, still holds)."""
    account = await get_for(session, account_id=account_id, caller=caller, need=Capability.moderate)
    sub, applied = await lists.subscribe(session, runtime=runtime, account=account, list_ref=data.list,
                                         source_account_id=data.source_account_id, undo_existing=data.undo_existing,
                                         caller=caller)
    return _refreshed(sub, applied)


@router.get("/accounts/{account_id}/block-lists", response_model=Page[BlockListRead], responses=error_responses(404))
async def list_block_lists(account_id: PathId, session: SessionDep, caller: CallerDep, page: PageDep):
    """The account's block-list subscriptions, each with its last refresh and error."""
    await get_for(session, account_id=account_id, caller=caller, need=Capability.read)
    return await repository.subscriptions_page(session, account_id=account_id, page=page,
                                               into=BlockListRead.model_validate)


@router.get("/accounts/{account_id}/block-lists/{subscription_id}", response_model=BlockListRead,
            responses=error_responses(404))
async def get_block_list(account_id: PathId, subscription_id: PathId, session: SessionDep, caller: CallerDep):
    """One subscription."""
    account = await get_for(session, account_id=account_id, caller=caller, need=Capability.read)
    return await lists.get(session, account, subscription_id)


@router.get("/accounts/{account_id}/block-lists/{subscription_id}/members", response_model=Page[BlockListMemberRead],
            responses=error_responses(404))
async def block_list_members(account_id: PathId, subscription_id: PathId, session: SessionDep, caller: CallerDep,
                             page: PageDep):
    """Who is on the list (as of its last refresh that worked), by id."""
    account = await get_for(session, account_id=account_id, caller=caller, need=Capability.read)
    sub = await lists.get(session, account, subscription_id)
    return await repository.members_page(session, subscription_id=sub.id, page=page,
                                         into=BlockListMemberRead.model_validate)


@router.post("/accounts/{account_id}/block-lists/{subscription_id}/refresh", response_model=BlockListRefreshed,
             responses=error_responses(404))
async def refresh_block_list(account_id: PathId, subscription_id: PathId, session: SessionDep, caller: CallerDep,
                             runtime: RuntimeDep):
    """Read the list again now; a failure is kept on the subscription (`error`), members as they were."""
    account = await get_for(session, account_id=account_id, caller=caller, need=Capability.moderate)
    sub, applied = await lists.refresh_now(session, runtime=runtime, account=account,
                                           subscription_id=subscription_id, caller=caller)
    return _refreshed(sub, applied)


@router.delete("/accounts/{account_id}/block-lists/{subscription_id}", status_code=status.HTTP_204_NO_CONTENT,
               responses=error_responses(404))
async def unsubscribe_block_list(account_id: PathId, subscription_id: PathId, session: SessionDep,
                                 caller: CallerDep) -> None:
    """Stop following the list: its members are no longer blocked by it."""
    account = await get_for(session, account_id=account_id, caller=caller, need=Capability.moderate)
    await lists.unsubscribe(session, account=account, subscription_id=subscription_id, caller=caller)
