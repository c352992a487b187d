"""/accounts: connect and manage reposting accounts."""

from fastapi import APIRouter, status

from app.accounts import health, repository, service
from app.accounts.schemas import AccountCreate, AccountHealth, AccountRead, AccountUpdate, SourceHealth
from app.auth.caller import Capability
from app.deps import CallerDep, PageDep, RuntimeDep, SessionDep
from app.errors import error_responses
from app.pagination import Page, PathId

router = APIRouter(prefix="/accounts", tags=["accounts"])


@router.post("", status_code=status.HTTP_201_CREATED, response_model=AccountRead, responses=error_responses(403, 409))
async def create_account(data: AccountCreate, session: SessionDep, caller: CallerDep, runtime: RuntimeDep):
    """Connect an account: its credentials are checked with the platform and stored encrypted."""
    return AccountRead.of(await service.create(session, data=data, runtime=runtime, caller=caller))


@router.get("", response_model=Page[AccountRead])
async def list_accounts(session: SessionDep, caller: CallerDep, page: PageDep):
    """The accounts this token reaches."""
    ids = None if caller.is_admin else caller.account_ids
    return await repository.page(session, ids=ids, page=page, into=AccountRead.of)


@router.get("/{account_id}", response_model=AccountRead, responses=error_responses(404))
async def get_account(account_id: PathId, session: SessionDep, caller: CallerDep):
    """One account (never its credentials)."""
    return AccountRead.of(await service.get_for(session, account_id=account_id, caller=caller, need=Capability.read))


@router.get("/{account_id}/health", response_model=AccountHealth, responses=error_responses(404))
async def get_account_health(account_id: PathId, session: SessionDep, caller: CallerDep, runtime: RuntimeDep):
    """What is wrong with the account: why it needs attention, warnings, rate limits with their reset
    times, each source's polls (last success, last error, failures in a row), its stream, its lists."""
    account = await service.get_for(session, account_id=account_id, caller=caller, need=Capability.read)
    return await health.account_health(session, account=account, runtime=runtime)


@router.get("/{account_id}/sources", response_model=list[SourceHealth], responses=error_responses(404))
async def list_account_sources(account_id: PathId, session: SessionDep, caller: CallerDep, runtime: RuntimeDep):
    """Each source: last poll, last success, last error (kind, HTTP status, message, time), failures in a row."""
    account = await service.get_for(session, account_id=account_id, caller=caller, need=Capability.read)
    return await health.source_health(session, account=account, runtime=runtime)


@router.patch("/{account_id}", response_model=AccountRead, responses=error_responses(403, 404))
async def update_account(account_id: PathId, data: AccountUpdate, session: SessionDep, caller: CallerDep,
                         runtime: RuntimeDep):
    """Change limits, sources, config or credentials."""
    account = await service.get_for(session, account_id=account_id, caller=caller, need=Capability.configure)
    return AccountRead.of(await service.update(session, account=account, data=data, runtime=runtime, caller=caller))


@router.delete("/{account_id}", status_code=status.HTTP_204_NO_CONTENT, responses=error_responses(403, 404))
async def delete_account(account_id: PathId, session: SessionDep, caller: CallerDep) -> None:
    """Remove an account and everything it owns (admin)."""
    account = await service.get_for(session, account_id=account_id, caller=caller, need=Capability.read)
    await service.delete(session, account=account, caller=caller)
