"""Signing in and out, accepting an invitation, and a person's own page (password)."""

from __future__ import annotations

from fastapi import APIRouter, Request

from app.deps import RuntimeDep, SessionDep
from app.errors import AppError
from app.users import service
from app.web.forms import AnonymousForm, SignedForm, pre_csrf, set_pre_csrf
from app.web.render import page, see_other
from app.web.viewer import COOKIE, MaybeViewerDep, ViewerDep, clear_session_cookie, set_session_cookie

router = APIRouter()


def _safe_next(target: str) -> str:
    """Only a path on this site (no //host or scheme): where to go after signing in."""
    if not target.startswith("/") or target.startswith("//") or "\\" in target:
        return "/"
    return target


@router.get("/signin")
async def signin_page(request: Request, session: SessionDep, runtime: RuntimeDep, viewer: MaybeViewerDep,
                      next: str = "/"):
    if viewer is not None:
        return see_other(_safe_next(next))
    csrf = pre_csrf(request)
    shown = await page(request, session, None, "signin/signin.html", title="Sign in", csrf=csrf,
                       next=_safe_next(next), name="", error=None)
    return set_pre_csrf(shown, request, csrf, runtime.settings.public_url)


@router.post("/signin")
async def signin(request: Request, session: SessionDep, runtime: RuntimeDep, form: AnonymousForm):
    name, target = form.get("name"), _safe_next(form.get("next", "/"))
    try:
        signed = await service.sign_in(session, name=name, password=form.get("password"),
                                       days=runtime.settings.session_days)
    except AppError as exc:
        if exc.status_code not in (401, 429):
            raise
        # the failure count must stick even though this request answers with an error
        await session.commit()
        shown = await page(request, session, None, "signin/signin.html", title="Sign in", status_code=exc.status_code,
                           csrf=form.get("csrf"), next=target, name=name, error=exc.detail)
        if retry := getattr(exc, "retry_after", None):
            shown.headers["Retry-After"] = str(retry)
        return shown
    response = see_other(target)
    set_session_cookie(response, request, key=signed.key, days=runtime.settings.session_days,
                       public_url=runtime.settings.public_url)
    return response


@router.post("/signout")
async def signout(request: Request, session: SessionDep, viewer: ViewerDep, form: SignedForm):
    await service.sign_out(session, key=request.cookies.get(COOKIE, ""))
    response = see_other("/signin", note="You are signed out.")
    clear_session_cookie(response)
    return response


@router.get("/invite/{key}")
async def invite_page(key: str, request: Request, session: SessionDep, runtime: RuntimeDep):
    invite = await service.open_invite(session, key)
    csrf = pre_csrf(request)
    shown = await page(request, session, None, "signin/invite.html", title="Join reposter", invite=invite, key=key,
                       csrf=csrf, name="", error=None)
    return set_pre_csrf(shown, request, csrf, runtime.settings.public_url)


@router.post("/invite/{key}")
async def accept_invite(key: str, request: Request, session: SessionDep, runtime: RuntimeDep, form: AnonymousForm):
    invite = await service.open_invite(session, key)
    name, password = form.get("name"), form.get("password")
    error = "the two passwords differ" if password != form.get("password_again") else None
    if error is None:
        try:
            signed = await service.accept_invite(session, key=key, name=name, password=password,
                                                 days=runtime.settings.session_days)
        except AppError as exc:
            if exc.status_code not in (404, 409, 422):
                raise
            error = exc.detail
    if error is not None:
        return await page(request, session, None, "signin/invite.html", title="Join reposter", invite=invite,
                          key=key, csrf=form.get("csrf"), name=name, error=error, status_code=422)
    response = see_other("/", note=f"Welcome, {name.strip()}. You are signed in.")
    set_session_cookie(response, request, key=signed.key, days=runtime.settings.session_days,
                       public_url=runtime.settings.public_url)
    return response


@router.get("/me")
async def me_page(request: Request, session: SessionDep, viewer: ViewerDep):
    return await page(request, session, viewer, "signin/me.html", title="Your account", error=None)


@router.post("/me/password")
async def change_password(request: Request, session: SessionDep, viewer: ViewerDep, form: SignedForm):
    new = form.get("new_password")
    try:
        if new != form.get("new_password_again"):
            raise AppError("the two new passwords differ", status_code=422)
        await service.change_password(session, user=viewer.user, current=form.get("current_password"), new=new)
    except AppError as exc:
        if exc.status_code not in (401, 422):
            raise
        return await page(request, session, viewer, "signin/me.html", title="Your account", error=exc.detail,
                          status_code=422)
    return see_other("/me", note="Your password is changed.")
