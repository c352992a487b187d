"""Who is looking at the dashboard: the session cookie, the person behind it, and their Caller.

The cookie holds a random key (the database keeps its hash); it is HttpOnly, SameSite=Lax (the
platforms' sign-in redirects come back to us as top-level GETs) and Secure when the service is
reached over https. A page without a signed-in person redirects to /signin.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated
from urllib.parse import quote

from fastapi import Depends, Request, Response
from starlette.datastructures import URL

from app.auth.caller import Caller
from app.deps import RuntimeDep, SessionDep
from app.errors import AppError
from app.models import User, WebSession
from app.users import service

COOKIE = "reposter_session"


class SignInNeeded(AppError):
    """No live session: pages answer with a redirect to the sign-in page (render.py)."""

    status_code = 401
    error = "sign in needed"


@dataclass(frozen=True)
class Viewer:
    """The signed-in person: their row, their session (with its CSRF secret) and their Caller."""

    user: User
    session: WebSession
    caller: Caller

    @property
    def csrf(self) -> str:
        return self.session.csrf

    @property
    def is_admin(self) -> bool:
        return self.caller.is_admin


@dataclass(frozen=True)
class Person:
    name: str
    role: str


@dataclass(frozen=True)
class Seen:
    """What the layout needs of the viewer, as plain values (for error pages)."""

    user: Person
    csrf: str
    is_admin: bool


async def optional_viewer(request: Request, session: SessionDep, runtime: RuntimeDep) -> Viewer | None:
    """The person signed in, or None."""
    key = request.cookies.get(COOKIE)
    if not key or len(key) > 200:
        return None
    found = await service.session_user(session, key=key, days=runtime.settings.session_days)
    if found is None:
        return None
    row, user = found
    viewer = Viewer(user, row, service.caller_of(user))
    # An error page later in this request keeps the navigation; after a rollback the rows are
    # expired, so it gets plain values taken now.
    request.state.viewer = Seen(Person(user.name, user.role), row.csrf, viewer.is_admin)
    return viewer


async def required_viewer(request: Request, viewer: Annotated[Viewer | None, Depends(optional_viewer)]) -> Viewer:
    """The person signed in; SignInNeeded (a redirect to /signin, back here after) without one."""
    if viewer is None:
        raise SignInNeeded(f"/signin?next={quote(_back_to(request), safe='/')}")
    return viewer


def _back_to(request: Request) -> str:
    """Where to return after signing in: the page itself, also when the request was a part of it
    (an htmx refresh of the activity rows names its page in HX-Current-URL)."""
    url = request.url
    if request.headers.get("HX-Request") == "true" and (current := request.headers.get("HX-Current-URL")):
        url = URL(current)
    return url.path + (f"?{url.query}" if url.query else "")


ViewerDep = Annotated[Viewer, Depends(required_viewer)]
MaybeViewerDep = Annotated[Viewer | None, Depends(optional_viewer)]


def secure(request: Request, public_url: str) -> bool:
    """Whether cookies must be Secure: the service is reached over https."""
    return request.url.scheme == "https" or public_url.startswith("https://")


def set_session_cookie(response: Response, request: Request, *, key: str, days: float, public_url: str) -> None:
    response.set_cookie(COOKIE, key, max_age=int(days * 86400), httponly=True, samesite="lax",
                        secure=secure(request, public_url), path="/")


def clear_session_cookie(response: Response) -> None:
    response.delete_cookie(COOKIE, path="/")
