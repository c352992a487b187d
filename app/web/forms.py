"""A posted form, read and checked once: its CSRF token, and text no database can store.

Signed-in forms carry the session's CSRF secret (a hidden `csrf` field, or the `X-CSRF-Token`
header htmx sends); forms before sign-in (sign-in, accepting an invitation) use a double-submit
cookie instead. A mismatch is a 403 and changes nothing.
"""

from __future__ import annotations

import secrets
from typing import Annotated

from fastapi import Depends, Request, Response
from starlette.datastructures import FormData

from app.errors import AppError, Forbidden
from app.inputs import text_problem
from app.web.viewer import Viewer, ViewerDep, secure

PRE_COOKIE = "reposter_csrf"
HEADER = "X-CSRF-Token"
MAX_FIELD = 100_000


class FormInvalid(AppError):
    """A form field the service refuses before any work: 422, the field named."""

    status_code = 422
    error = "invalid form"


class Form:
    """The fields of a checked form, as text."""

    def __init__(self, data: FormData):
        self._data = data

    def get(self, name: str, default: str = "") -> str:
        value = self._data.get(name)
        return value if isinstance(value, str) else default

    def getlist(self, name: str) -> list[str]:
        return [v for v in self._data.getlist(name) if isinstance(v, str)]

    def has(self, name: str) -> bool:
        return name in self._data

    def ints(self, name: str) -> list[int]:
        """Every value of a repeated field as ids; 422 for one that is not an id."""
        out = []
        for value in self.getlist(name):
            if not value.strip().isdigit() or not 0 < int(value) < 2**31:
                raise FormInvalid(f"{name}: {value[:40]!r} is not an id")
            out.append(int(value))
        return out


async def _read(request: Request) -> FormData:
    data = await request.form()
    for name, value in data.multi_items():
        if not isinstance(value, str):
            raise FormInvalid(f"{name}: files are not taken here")
        problem = text_problem(name) or text_problem(value)
        if problem:
            raise FormInvalid(f"{name}: {problem}")
        if len(value) > MAX_FIELD:
            raise FormInvalid(f"{name}: at most {MAX_FIELD} characters")
    return data


def _same(sent: str | None, expected: str | None) -> bool:
    return bool(sent and expected) and secrets.compare_digest(str(sent), str(expected))


async def signed_form(request: Request, viewer: ViewerDep) -> Form:
    """The form of a signed-in person, its CSRF token checked against their session."""
    data = await _read(request)
    sent = request.headers.get(HEADER) or data.get("csrf")
    if not _same(sent if isinstance(sent, str) else None, viewer.csrf):
        raise Forbidden("the form is out of date or came from another site (CSRF check); reload the page and try again")
    return Form(data)


async def anonymous_form(request: Request) -> Form:
    """A form before sign-in, checked against the double-submit cookie set with the page."""
    data = await _read(request)
    sent = data.get("csrf")
    if not _same(sent if isinstance(sent, str) else None, request.cookies.get(PRE_COOKIE)):
        raise Forbidden("the form is out of date (CSRF check); reload the page and try again")
    return Form(data)


def pre_csrf(request: Request) -> str:
    """The double-submit token for a form shown before sign-in (the browser's, or a new one)."""
    token = request.cookies.get(PRE_COOKIE)
    return token if token and len(token) <= 100 else secrets.token_urlsafe(32)


def set_pre_csrf(response: Response, request: Request, token: str, public_url: str) -> Response:
    """Give the browser the double-submit cookie the form's token must match."""
    response.set_cookie(PRE_COOKIE, token, httponly=True, samesite="strict", secure=secure(request, public_url),
                        path="/")
    return response


SignedForm = Annotated[Form, Depends(signed_form)]
AnonymousForm = Annotated[Form, Depends(anonymous_form)]
__all__ = ["AnonymousForm", "Form", "FormInvalid", "SignedForm", "Viewer", "pre_csrf", "set_pre_csrf"]
