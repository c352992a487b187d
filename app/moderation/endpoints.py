"""Blocks (per account and global) and the opt-out and consent lists."""

from typing import Literal

from fastapi import APIRouter, Query, Request, Response, status

from app.accounts.service import get_for
from app.auth.caller import Capability
from app.deps import CallerDep, PageDep, RuntimeDep, SessionDep
from app.errors import AppError, error_responses
from app.moderation import blocklists, lists, repository, service
from app.moderation.blocklist_csv import MAX_BYTES
from app.moderation.schemas import (
    AuthorEntry,
    AuthorEntryRead,
    BlockCreate,
    BlockCreated,
    BlockImport,
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


CSV_BODY = {"requestBody": {"required": True, "content": {"text/csv": {"schema": {"type": "string"}}},
                            "description": "the block list: our `block,reason` CSV, Mastodon's domain-block CSV "
                                           "(`#domain,#severity,...`) or one name or `*@domain` a line; "
                                           f"at most {MAX_BYTES:,} bytes and 10,000 lines"}}
CSV_ANSWER: dict[int | str, dict] = {200: {"content": {"text/csv": {"schema": {"type": "string"}}},
                                           "description": "the blocks as CSV"}}
Format = Literal["reposter", "mastodon"]
FORMAT = Query(default="reposter", alias="format",
               description="reposter: `block,reason`, authors and domains; mastodon: Mastodon's domain-block CSV, "
                           "domain blocks only")


async def _body(request: Request) -> bytes:
    """The request's body, refused (413) past MAX_BYTES without reading the rest."""
    if request.headers.get("content-type", "").startswith("multipart/"):
        raise AppError("send the CSV itself as the body (Content-Type: text/csv), not a multipart form",
                       status_code=415, error="unsupported media type")
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > MAX_BYTES:
            raise AppError(f"block list too large: at most {MAX_BYTES:,} bytes", status_code=413, error="too large")
    return bytes(body)


def _csv(text: str, name: str) -> Response:
    return Response(text, media_type="text/csv; charset=utf-8",
                    headers={"Content-Disposition": f'attachment; filename="{name}"'})


@router.get("/accounts/{account_id}/blocks/export.csv", response_class=Response, responses={
    **CSV_ANSWER, **error_responses(404)})
async def export_blocks(account_id: PathId, session: SessionDep, caller: CallerDep, fmt: Format = FORMAT):
    """The account's own blocks as CSV (authors by a name that finds them again, domains as `*@domain`)."""
    account = await get_for(session, account_id=account_id, caller=caller, need=Capability.read)
    text = await blocklists.export_csv(session, account=account, fmt=fmt)
    return _csv(text, f"blocks-{account.id}{'-mastodon' if fmt == 'mastodon' else ''}.csv")


@router.post("/accounts/{account_id}/blocks/import", response_model=BlockImport, openapi_extra=CSV_BODY,
             responses=error_responses(404))
async def import_blocks(account_id: PathId, request: Request, session: SessionDep, caller: CallerDep,
                        runtime: RuntimeDep, undo_existing: bool = False):
    """Block every author and domain of a CSV file, or none: a line that cannot be read or names nobody
    refuses the file (422, every such line named); blocked ones are skipped. `undo_existing` holds for every line."""
    account = await get_for(session, account_id=account_id, caller=caller, need=Capability.moderate)
    return await blocklists.import_csv(session, runtime=runtime, account=account, body=await _body(request),
                                       platform=None, undo_existing=undo_existing, caller=caller)


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


@router.get("/blocks/export.csv", response_class=Response, responses={**CSV_ANSWER, **error_responses(403)})
async def export_global_blocks(session: SessionDep, caller: CallerDep, fmt: Format = FORMAT):
    """Global blocks as CSV (admin)."""
    caller.require_admin()
    return _csv(await blocklists.export_csv(session, account=None, fmt=fmt), "global-blocks.csv")


@router.post("/blocks/import", response_model=BlockImport, openapi_extra=CSV_BODY, responses=error_responses(403))
async def import_global_blocks(request: Request, session: SessionDep, caller: CallerDep, runtime: RuntimeDep,
                               undo_existing: bool = False,
                               platform: str | None = Query(default=None, max_length=32, description=(
                                   "the platform of the authors named (default: the one accounts use); domain "
                                   "blocks hold for every platform unless it is given"))):
    """Import global blocks (admin), as an account's import does."""
    caller.require_admin()
    return await blocklists.import_csv(session, runtime=runtime, account=None, body=await _body(request),
                                       platform=platform, undo_existing=undo_existing, caller=caller)


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
