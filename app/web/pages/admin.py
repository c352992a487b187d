"""Admin pages: people (roles, accounts, disable), invitations, and API tokens for scripts."""

from __future__ import annotations

from fastapi import APIRouter, Request
from pydantic import ValidationError

from app.accounts import repository as accounts_repository
from app.auth import repository as tokens_repository
from app.auth import service as tokens_service
from app.auth.schemas import TokenCreate
from app.db.base import utcnow
from app.deps import RuntimeDep, SessionDep
from app.errors import Invalid
from app.inputs import PathId
from app.models.token import Role
from app.users import repository, service
from app.web.forms import Form, SignedForm
from app.web.render import page, see_other
from app.web.viewer import Viewer, ViewerDep

router = APIRouter()
ROLES = [(r.value, r.value) for r in Role]


def _role(form: Form) -> Role:
    try:
        return Role(form.get("role"))
    except ValueError:
        raise Invalid(f"role: {form.get('role')[:40]!r} is not one of admin, organizer, moderator") from None


def _base_url(request: Request, public_url: str) -> str:
    return (public_url or str(request.base_url)).rstrip("/")


async def _people(request: Request, session, viewer: Viewer, *, status_code: int = 200, **context):
    viewer.caller.require_admin()
    return await page(request, session, viewer, "admin/people.html", title="People", section="people",
                      people=await repository.every(session), invites=await repository.invites(session),
                      roles=ROLES, now=utcnow(), account_names=await _account_names(session),
                      status_code=status_code, **context)


async def _account_names(session) -> dict[int, str]:
    """Each account's name as people know it, for lists that store ids."""
    return {a.id: a.display_name or a.handle for a in await accounts_repository.visible(session, None)}


@router.get("/admin/people")
async def people(request: Request, session: SessionDep, viewer: ViewerDep):
    return await _people(request, session, viewer)


@router.post("/admin/invites")
async def invite(request: Request, session: SessionDep, runtime: RuntimeDep, viewer: ViewerDep, form: SignedForm):
    viewer.caller.require_admin()
    try:
        row, key = await service.invite(session, role=_role(form), account_ids=form.ints("account_ids"),
                                        note=form.get("note"), caller=viewer.caller)
    except Invalid as exc:
        return await _people(request, session, viewer, status_code=422, invite_error=exc.detail)
    link = f"{_base_url(request, runtime.settings.public_url)}/invite/{key}"
    return await _people(request, session, viewer, made_link=link, made_invite=row)


@router.post("/admin/invites/{invite_id}/revoke")
async def revoke_invite(invite_id: PathId, session: SessionDep, viewer: ViewerDep, form: SignedForm):
    await service.revoke_invite(session, invite_id=invite_id, caller=viewer.caller)
    return see_other("/admin/people", note=f"Invitation {invite_id} withdrawn.")


@router.get("/admin/people/{user_id}")
async def person(user_id: PathId, request: Request, session: SessionDep, viewer: ViewerDep):
    viewer.caller.require_admin()
    return await page(request, session, viewer, "admin/person.html", title="Edit a person", section="people",
                      person=await service.get(session, user_id), roles=ROLES, error=None)


@router.post("/admin/people/{user_id}")
async def update_person(user_id: PathId, request: Request, session: SessionDep, viewer: ViewerDep, form: SignedForm):
    viewer.caller.require_admin()
    target = await service.get(session, user_id)
    try:
        await service.update(session, user_id=user_id, role=_role(form), account_ids=form.ints("account_ids"),
                             disabled=form.has("disabled"), caller=viewer.caller)
    except Invalid as exc:
        return await page(request, session, viewer, "admin/person.html", title="Edit a person", section="people",
                          person=target, roles=ROLES, error=exc.detail, status_code=422)
    return see_other("/admin/people", note=f"{target.name} is saved.")


@router.get("/tokens")
async def tokens(request: Request, session: SessionDep, viewer: ViewerDep):
    viewer.caller.require_admin()
    return await page(request, session, viewer, "admin/tokens.html", title="API tokens", section="tokens",
                      tokens=await tokens_repository.every(session), roles=ROLES, error=None,
                      account_names=await _account_names(session))


@router.post("/tokens")
async def create_token(request: Request, session: SessionDep, viewer: ViewerDep, form: SignedForm):
    viewer.caller.require_admin()
    error, secret = None, None
    try:
        data = TokenCreate(name=form.get("name"), role=_role(form), account_ids=form.ints("account_ids"))
        _, secret = await tokens_service.create(session, data=data, caller=viewer.caller)
    except ValidationError as exc:
        error = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors())
    except Invalid as exc:
        error = str(exc.detail)
    return await page(request, session, viewer, "admin/tokens.html", title="API tokens", section="tokens",
                      tokens=await tokens_repository.every(session), roles=ROLES, error=error, secret=secret,
                      account_names=await _account_names(session), status_code=422 if error else 200)


@router.post("/tokens/{token_id}/revoke")
async def revoke_token(token_id: PathId, session: SessionDep, viewer: ViewerDep, form: SignedForm):
    viewer.caller.require_admin()
    await tokens_service.revoke(session, token_id=token_id, caller=viewer.caller)
    return see_other("/tokens", note=f"Token {token_id} revoked; it stops working on its next request.")
