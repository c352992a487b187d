"""Connect an account: /accounts/new and one form per platform; Mastodon and X by the platform's
own sign-in (a redirect there and back, app/accounts/connect.py), Bluesky with an app password,
the mock platform with a handle. Organizers and admins only (Capability.configure)."""

from __future__ import annotations

import secrets
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response
from pydantic import ValidationError
from sqlalchemy.ext.asyncio import AsyncSession

from app.accounts import service as accounts_service
from app.accounts.connect import (
    PENDING_SECONDS,
    ConnectFailed,
    Pending,
    callback_url,
    finish_mastodon,
    finish_x,
    instance_of,
    refused,
    seal,
    start_mastodon,
    start_x,
    unseal,
)
from app.accounts.schemas import AccountCreate
from app.auth.caller import GRANTS, Capability
from app.deps import RuntimeDep, SessionDep
from app.errors import AppError, Forbidden
from app.models import Account
from app.runtime import Runtime
from app.web.forms import SignedForm
from app.web.render import page, see_other
from app.web.viewer import Viewer, ViewerDep, secure

router = APIRouter()

COOKIE = "reposter_connect"
COOKIE_PATH = "/connect"
NAMES = {"mastodon": "Mastodon", "x": "X", "bluesky": "Bluesky", "mock": "mock"}


def _a(platform: str) -> str:
    """'a Mastodon account', 'an X account'."""
    return f"{'an' if platform == 'x' else 'a'} {NAMES[platform]} account"
BLUESKY_PDS = "https://bsky.social"


def _may_connect(viewer: Viewer) -> None:
    """Organizers and admins connect accounts; a moderator gets 403."""
    if Capability.configure not in GRANTS[viewer.caller.role]:
        raise Forbidden(f"a {viewer.caller.role} may not connect accounts; ask an organizer or an admin")


async def _form(request: Request, session: AsyncSession, viewer: Viewer, platform: str, *, status_code: int = 200,
                errors: dict[str, str] | None = None, **values: Any) -> Response:
    """A platform's connect form, with the values sent back and each error beside its field."""
    return await page(request, session, viewer, f"connect/{platform}.html", status_code=status_code,
                      title=f"Connect {_a(platform)}", section="accounts", errors=errors or {},
                      values=values, platform=platform)


async def _failed(request: Request, session: AsyncSession, viewer: Viewer, platform: str,
                  failure: ConnectFailed) -> Response:
    """A sign-in that could not finish: what happened and what to do. Nothing to undo: the account
    service adds the account only once every check has passed (and a rollback here would expire the
    viewer's rows the layout reads)."""
    return await page(request, session, viewer, "connect/failed.html", status_code=failure.status,
                      title=failure.title, section="accounts", message=failure.message, platform=platform,
                      again=f"Connect {_a(platform)} again")


def _connected(account: Account) -> Response:
    """After connecting: the account's page, where its sources and limits are set."""
    return see_other(f"/accounts/{account.id}",
                     note=f"Connected {account.handle}. Next: set what it reposts from and how fast.")


def _as_failure(exc: AppError) -> ConnectFailed:
    """What the account service refused (already connected, credentials refused, platform down) as a page."""
    titles = {409: "Already connected", 422: "The account was refused", 502: "Could not reach the platform"}
    title = titles.get(exc.status_code, "Could not connect the account")
    return ConnectFailed(exc.status_code, title, f"{exc.detail}")


@router.get("/accounts/new")
async def choose(request: Request, session: SessionDep, runtime: RuntimeDep, viewer: ViewerDep):
    """Which platform the account is on."""
    _may_connect(viewer)
    return await page(request, session, viewer, "connect/new.html", title="Connect an account", section="accounts",
                      x_ready=bool(runtime.settings.x_client_id))


# --- Mastodon ----------------------------------------------------------------------------------


@router.get("/accounts/new/mastodon")
async def mastodon_form(request: Request, session: SessionDep, viewer: ViewerDep):
    _may_connect(viewer)
    return await _form(request, session, viewer, "mastodon", instance="")


@router.post("/accounts/new/mastodon")
async def mastodon_start(request: Request, session: SessionDep, runtime: RuntimeDep, viewer: ViewerDep,
                         form: SignedForm):
    """Register reposter on the instance and send the browser there to sign in."""
    _may_connect(viewer)
    typed = form.get("instance")
    try:
        instance = instance_of(typed)
    except ValueError as exc:
        return await _form(request, session, viewer, "mastodon", status_code=422, errors={"instance": str(exc)},
                           instance=typed, full_write=form.has("full_write"))
    redirect_uri = callback_url(runtime.settings.public_url, str(request.base_url), "mastodon")
    try:
        url, pending = await start_mastodon(runtime.http, instance=instance, redirect_uri=redirect_uri,
                                            user_id=viewer.user.id, full_write=form.has("full_write"))
    except ConnectFailed as failure:
        return await _failed(request, session, viewer, "mastodon", failure)
    return _away(request, runtime, url, pending)


@router.get("/connect/mastodon/callback")
async def mastodon_callback(request: Request, session: SessionDep, runtime: RuntimeDep, viewer: ViewerDep,
                            code: str = "", state: str = "", error: str = "", error_description: str = ""):
    """The instance sends the browser back here: check the state, get the token, connect the account."""
    return await _callback(request, session, runtime, viewer, "mastodon", code, state, error, error_description)


# --- X -----------------------------------------------------------------------------------------


@router.get("/accounts/new/x")
async def x_form(request: Request, session: SessionDep, runtime: RuntimeDep, viewer: ViewerDep):
    _may_connect(viewer)
    return await _form(request, session, viewer, "x", ready=bool(runtime.settings.x_client_id),
                       callback=callback_url(runtime.settings.public_url, str(request.base_url), "x"))


@router.post("/accounts/new/x")
async def x_start(request: Request, session: SessionDep, runtime: RuntimeDep, viewer: ViewerDep, form: SignedForm):
    """Send the browser to X to approve the operator's app."""
    _may_connect(viewer)
    redirect_uri = callback_url(runtime.settings.public_url, str(request.base_url), "x")
    if not runtime.settings.x_client_id:
        failure = ConnectFailed(503, "X is not set up here",
                                "Connecting X accounts needs the operator's X app: set REPOSTER_X_CLIENT_ID (and "
                                "REPOSTER_X_CLIENT_SECRET for a confidential client) and register "
                                f"{redirect_uri} as the app's callback URL, then restart reposter.")
        return await _failed(request, session, viewer, "x", failure)
    url, pending = start_x(client_id=runtime.settings.x_client_id, redirect_uri=redirect_uri, user_id=viewer.user.id)
    return _away(request, runtime, url, pending)


@router.get("/connect/x/callback")
async def x_callback(request: Request, session: SessionDep, runtime: RuntimeDep, viewer: ViewerDep,
                     code: str = "", state: str = "", error: str = "", error_description: str = ""):
    """X sends the browser back here: check the state, get the tokens, connect the account."""
    return await _callback(request, session, runtime, viewer, "x", code, state, error, error_description)


# --- the redirect and the callback, for both ----------------------------------------------------


def _away(request: Request, runtime: Runtime, url: str, pending: Pending) -> Response:
    """303 to the platform's sign-in, the pending login sealed in a cookie the callback reads."""
    response = RedirectResponse(url, status_code=303)
    # SameSite=Lax: the platform's redirect back is a top-level GET from another site, which Lax lets through
    response.set_cookie(COOKIE, seal(runtime.fernet, pending), max_age=PENDING_SECONDS, httponly=True,
                        samesite="lax", secure=secure(request, runtime.settings.public_url), path=COOKIE_PATH)
    return response


async def _callback(request: Request, session: AsyncSession, runtime: Runtime, viewer: Viewer, platform: str,
                    code: str, state: str, error: str, error_description: str) -> Response:
    _may_connect(viewer)
    try:
        if error:
            raise refused(NAMES[platform], error[:100], error_description[:300])
        pending = unseal(runtime.fernet, request.cookies.get(COOKIE), platform=platform, user_id=viewer.user.id,
                         state=state)
    except ConnectFailed as failure:  # the cookie stays: a forged or stale answer must not end a real sign-in
        return await _failed(request, session, viewer, platform, failure)
    try:
        if not code:
            raise ConnectFailed(400, "No sign-in code", "The platform sent the browser back without a code. Nothing "
                                                        "was connected. Start again from “Connect an account”.")
        data = await _finish(runtime, platform, pending, code)
        account = await accounts_service.create(session, data=data, runtime=runtime, caller=viewer.caller)
    except ConnectFailed as failure:
        response = await _failed(request, session, viewer, platform, failure)
    except AppError as exc:
        response = await _failed(request, session, viewer, platform, _as_failure(exc))
    else:
        response = _connected(account)
    response.delete_cookie(COOKIE, path=COOKIE_PATH)  # a code works once: so does the pending login
    return response


async def _finish(runtime: Runtime, platform: str, pending: Pending, code: str) -> AccountCreate:
    if platform == "mastodon":
        return await finish_mastodon(runtime.http, pending, code)
    return await finish_x(runtime.http, pending, code, client_secret=runtime.settings.x_client_secret,
                          bearer_token=runtime.settings.x_bearer_token)


# --- Bluesky and the mock: forms ----------------------------------------------------------------


@router.get("/accounts/new/bluesky")
async def bluesky_form(request: Request, session: SessionDep, viewer: ViewerDep):
    _may_connect(viewer)
    return await _form(request, session, viewer, "bluesky", handle="", pds_url="")


@router.post("/accounts/new/bluesky")
async def bluesky_connect(request: Request, session: SessionDep, runtime: RuntimeDep, viewer: ViewerDep,
                          form: SignedForm):
    """Log in with the handle and app password; the account's page after."""
    _may_connect(viewer)
    handle, password = form.get("handle").strip().lstrip("@"), form.get("app_password").strip()
    pds = form.get("pds_url").strip()
    values = {"handle": form.get("handle"), "pds_url": pds}
    errors = {}
    if not handle:
        errors["handle"] = "type the account's handle, e.g. ourgroup.bsky.social"
    if not password:
        errors["app_password"] = "paste an app password made for reposter"
    config: dict[str, Any] = {}
    if pds:
        try:
            config["pds_url"] = instance_of(pds)
        except ValueError:
            errors["pds_url"] = f"{pds[:80]!r} is not a server address; leave it empty for {BLUESKY_PDS}"
    if errors:
        return await _form(request, session, viewer, "bluesky", status_code=422, errors=errors, **values)
    body = {"platform": "bluesky", "handle": handle, "config": config,
            "credentials": {"identifier": handle, "app_password": password}}
    return await _create(request, session, runtime, viewer, "bluesky", body, values, field="app_password")


@router.get("/accounts/new/mock")
async def mock_form(request: Request, session: SessionDep, viewer: ViewerDep):
    _may_connect(viewer)
    return await _form(request, session, viewer, "mock", handle="")


@router.post("/accounts/new/mock")
async def mock_connect(request: Request, session: SessionDep, runtime: RuntimeDep, viewer: ViewerDep,
                       form: SignedForm):
    """A mock account (the demo's in-memory platform): a handle, and its token if it has one already."""
    _may_connect(viewer)
    handle = form.get("handle").strip().lstrip("@")
    values = {"handle": form.get("handle")}
    if not handle:
        return await _form(request, session, viewer, "mock", status_code=422,
                           errors={"handle": "type a handle, e.g. uni_news"}, **values)
    token = form.get("token").strip() or f"tok-{secrets.token_urlsafe(12)}"
    body = {"platform": "mock", "handle": handle, "credentials": {"token": token}}
    return await _create(request, session, runtime, viewer, "mock", body, values, field="handle")


async def _create(request: Request, session: AsyncSession, runtime: Runtime, viewer: Viewer, platform: str,
                  body: dict[str, Any], values: dict[str, str], *, field: str) -> Response:
    """Create the account as POST /api/v1/accounts does; a refusal is the form again, the reason at `field`."""
    try:
        data = AccountCreate.model_validate(body)
        account = await accounts_service.create(session, data=data, runtime=runtime, caller=viewer.caller)
    except ValidationError as exc:
        where = {"handle": "handle", "config": "pds_url"}
        errors = {where.get(str(e["loc"][0]), field): e["msg"] for e in exc.errors()}
        return await _form(request, session, viewer, platform, status_code=422, errors=errors, **values)
    except AppError as exc:
        message = "; ".join(str(d.get("message", d)) if isinstance(d, dict) else str(d) for d in exc.detail) \
            if isinstance(exc.detail, list) else str(exc.detail)
        if platform == "mock" and "token" in message:
            field = "token"
        return await _form(request, session, viewer, platform, status_code=exc.status_code,
                           errors={field: message}, **values)
    return _connected(account)
