"""The dashboard's accounts pages: the list, and each account's health with its settings forms.

Settings are saved through the API's services (accounts.service.update, filters.service.replace)
with the viewer's Caller, so a moderator is refused (403) here exactly as on the API; a moderator
sees the settings read only. A refused value re-renders the page (422) with the message next to
its field and the values as typed.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from sqlalchemy.ext.asyncio import AsyncSession

from app.accounts import repository as accounts_repository
from app.accounts import service as accounts_service
from app.accounts.conditions import current
from app.accounts.effect import effect
from app.accounts.schemas import AccountUpdate, Limits, StopWords
from app.accounts.summary import summaries
from app.auth.caller import GRANTS, Capability
from app.db.base import utcnow
from app.deps import RuntimeDep, SessionDep
from app.errors import NotFound
from app.filters import service as filters_service
from app.models import Account
from app.platforms.registry import get_platform
from app.runtime import Runtime
from app.web import account_forms as forms
from app.web.charts import account_chart
from app.web.forms import Form, SignedForm
from app.web.render import fragment, page, see_other
from app.web.viewer import Viewer, ViewerDep

router = APIRouter()
SAVED = {"account": "Account settings saved.", "limits": "Limits saved.", "filters": "Filters saved (all replaced).",
         "stop": "Stop words saved."}


@router.get("/accounts")
async def list_accounts(request: Request, session: SessionDep, viewer: ViewerDep):
    """Every account the viewer reaches."""
    caller = viewer.caller
    accounts = await accounts_repository.visible(session, None if caller.is_admin else caller.account_ids)
    # the status as of now, as GET /accounts gives it (a rate limit that has ended shows as ended)
    return await page(request, session, viewer, "accounts/list.html", title="Accounts", section="accounts",
                      accounts=[(a, current(a).status) for a in accounts])


@router.get("/accounts/{account_id:int}")
async def show_account(account_id: int, request: Request, session: SessionDep, viewer: ViewerDep,
                       runtime: RuntimeDep):
    """The account's health, numbers and settings."""
    account = await accounts_service.get_for(session, account_id=account_id, caller=viewer.caller,
                                             need=Capability.read)
    return await _show(request, session, viewer, runtime, account)


@router.post("/accounts/{account_id:int}/settings/preview")
async def preview_settings(account_id: int, request: Request, session: SessionDep, viewer: ViewerDep,
                           form: SignedForm):
    """What the limits or filters as typed would have done to the latest matches (nothing is saved)."""
    account = await accounts_service.get_for(session, account_id=account_id, caller=viewer.caller,
                                             need=Capability.configure)
    which = form.get("form")
    try:
        filters = forms.filters_of(form) if which == "filters" else None
        limits = forms.limits_of(form) if which == "limits" else None
    except forms.FormRejected as rejected:
        return fragment(request, "accounts/_effect.html", problems=rejected.errors, result=None)
    if filters is None and limits is None:
        return fragment(request, "accounts/_effect.html", problems={"form": "say which form: limits or filters"},
                        result=None, status_code=422)
    result = await effect(session, account=account, filters=filters, limits=limits)
    return fragment(request, "accounts/_effect.html", problems=None, result=result, which=which)


@router.post("/accounts/{account_id:int}/settings/{which}")
async def save_settings(account_id: int, which: str, request: Request, session: SessionDep, viewer: ViewerDep,
                        runtime: RuntimeDep, form: SignedForm):
    """Save one of the forms (account, limits, filters, stop) through the API's service."""
    account = await accounts_service.get_for(session, account_id=account_id, caller=viewer.caller,
                                             need=Capability.configure)
    if which not in SAVED:
        raise NotFound(f"no settings form {which[:40]!r}: account, limits, filters or stop")
    try:
        await _save(session, runtime, viewer, account, which, form)
    except forms.FormRejected as rejected:
        return await _show(request, session, viewer, runtime, account, status_code=422,
                           typed={which: (rejected.values, rejected.errors)})
    # FastAPI closes the session dependency (its commit) only after the 303 is sent: without this the
    # browser's next GET can read the old settings
    await session.commit()
    return see_other(f"/accounts/{account.id}#{which}", note=SAVED[which])


async def _save(session: AsyncSession, runtime: Runtime, viewer: Viewer, account: Account, which: str,
                form: Form) -> None:
    if which == "filters":
        await filters_service.replace(session, account_id=account.id, data=forms.filters_of(form),
                                      caller=viewer.caller)
        return
    if which == "stop":
        data = AccountUpdate(stop_words=forms.stop_of(form))
    else:
        data = forms.account_update(form) if which == "account" else AccountUpdate(limits=forms.limits_of(form))
    await accounts_service.update(session, account=account, data=data, runtime=runtime, caller=viewer.caller)


async def _show(request: Request, session: AsyncSession, viewer: Viewer, runtime: Runtime, account: Account, *,
                status_code: int = 200, typed: dict[str, tuple[dict, dict]] | None = None):
    """The account page; `typed` puts a refused form's values and errors in place of the saved ones."""
    card = (await summaries(session, accounts=[account], runtime=runtime, now=utcnow()))[0]
    filters = await filters_service.read(session, account_id=account.id)
    shown = {"account": (forms.account_values(account), {}),
             "limits": (forms.limits_values(Limits.model_validate(account)), {}),
             "filters": (forms.filters_values(filters), {}),
             "stop": (forms.stop_values(StopWords.of(account)), {}), **(typed or {})}
    return await page(request, session, viewer, "accounts/show.html", title=account.display_name or account.handle,
                      status_code=status_code, section="accounts", account=account, tab="health", card=card,
                      week_chart=account_chart(card), forms=shown,
                      source_kinds=get_platform(account.platform).source_kinds,
                      can_configure=Capability.configure in GRANTS[viewer.caller.role])
