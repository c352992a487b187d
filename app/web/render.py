"""Rendering: pages in the shared layout, and every error of a dashboard request as a page.

Errors: a page that needs sign-in redirects there (htmx: HX-Redirect); any other AppError or a
refused request is a page with its status and what to do, and for an htmx request only the
message, which the layout's error region shows (app.js).
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any, TypeVar

from fastapi import Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates
from sqlalchemy.ext.asyncio import AsyncSession

from app.accounts import repository as accounts_repository
from app.db.base import utcnow
from app.web.viewer import SignInNeeded, Viewer

TEMPLATES = Jinja2Templates(directory=Path(__file__).parent / "templates")
# paths that are not the dashboard's: their errors stay JSON
R = TypeVar("R", bound=Response)
NOTE = "reposter_note"
NOT_PAGES = ("/api/", "/docs", "/openapi.json", "/static/", "/healthz", "/readyz", "/metrics")


def ago(moment: datetime | None) -> str:
    """'3 min ago', 'in 2 h': a time as people read it (the exact time goes in a title)."""
    if moment is None:
        return "never"
    seconds = (moment - utcnow()).total_seconds()
    word, seconds = ("in {}", seconds) if seconds > 0 else ("{} ago", -seconds)
    for size, unit in ((86400, "d"), (3600, "h"), (60, "min")):
        if seconds >= size:
            return word.format(f"{int(seconds // size)} {unit}")
    return "just now" if seconds < 5 else word.format(f"{int(seconds)} s")


def when(moment: datetime | None) -> str:
    """A time in UTC to the second, for titles and tables."""
    return moment.strftime("%Y-%m-%d %H:%M:%S UTC") if moment else ""


TEMPLATES.env.filters["ago"] = ago
TEMPLATES.env.filters["when"] = when


async def page(request: Request, session: AsyncSession, viewer: Viewer | None, template: str, *,
               status_code: int = 200, **context: Any) -> HTMLResponse:
    """A page in the layout: the viewer, their accounts for the navigation, and `context`."""
    accounts = []
    if viewer is not None:
        accounts = list(await accounts_repository.visible(session, None if viewer.is_admin
                                                          else viewer.caller.account_ids))
    note = _note(request)
    response = TEMPLATES.TemplateResponse(request, template, {"viewer": viewer, "nav_accounts": accounts,
                                                              "note": note, **context}, status_code=status_code)
    if note is not None:
        response.delete_cookie(NOTE, path="/")
    return private(response)


def private(response: R) -> R:
    """Pages show an account's data: never kept in a cache (the back button after signing out asks again)."""
    response.headers["Cache-Control"] = "no-store"
    return response


def fragment(request: Request, template: str, *, status_code: int = 200, **context: Any) -> HTMLResponse:
    """A part of a page, for htmx to swap in (no layout)."""
    return private(TEMPLATES.TemplateResponse(request, template, context, status_code=status_code))


def see_other(url: str, *, note: str | None = None) -> RedirectResponse:
    """After a successful form: 303 to the page that shows the result, with a one-time note."""
    response = RedirectResponse(url, status_code=303)
    if note:
        response.set_cookie(NOTE, note[:300].encode("unicode_escape").decode("ascii"), max_age=60,
                            httponly=True, samesite="lax", path="/")
    return response


def _note(request: Request) -> str | None:
    """The note left by the last redirect (shown once: `page` deletes its cookie)."""
    raw = request.cookies.get(NOTE)
    if not raw:
        return None
    try:
        return raw.encode("ascii").decode("unicode_escape")
    except UnicodeError:
        return None


def is_page(request: Request) -> bool:
    """Whether the request is the dashboard's (its errors are pages, not JSON)."""
    path = request.url.path
    return not any(path.startswith(prefix) for prefix in NOT_PAGES)


def error_page(request: Request, status: int, error: str, detail: Any) -> Response:
    """How the dashboard shows an error; a sign-in redirect for SignInNeeded."""
    htmx = request.headers.get("HX-Request") == "true"
    if isinstance(detail, str) and status == SignInNeeded.status_code and detail.startswith("/signin"):
        if htmx:
            return Response(status_code=204, headers={"HX-Redirect": detail})
        return RedirectResponse(detail, status_code=303)
    message = _message(detail)
    if htmx:
        return TEMPLATES.TemplateResponse(request, "_error_fragment.html", {"error": error, "message": message},
                                          status_code=status)
    viewer = getattr(request.state, "viewer", None)
    context: dict[str, Any] = {"viewer": viewer, "nav_accounts": [], "status": status, "error": error,
                               "message": message}
    return private(TEMPLATES.TemplateResponse(request, "error.html", context, status_code=status))


def _message(detail: Any) -> str:
    if isinstance(detail, str):
        return detail
    if isinstance(detail, list):  # validation problems: where and what
        parts = []
        for item in detail:
            if isinstance(item, dict):
                loc = [str(x) for x in item.get("loc", []) if x not in ("body", "query", "path")]
                parts.append(f"{'.'.join(loc)}: {item.get('msg', '')}" if loc else str(item.get("msg", "")))
            else:
                parts.append(str(item))
        return "; ".join(parts)
    if isinstance(detail, dict):
        return str(detail.get("message") or detail)
    return "" if detail is None else str(detail)
