"""The dashboard: server-rendered pages under `/`, on the same services and permission checks as the API.

Each area's routes are in `pages/<area>.py`, its templates in `templates/<area>/`; `viewer.py` says
who is signed in (a cookie session, the same `Caller` a token gives), `forms.py` reads and checks a
posted form (CSRF, unstorable text), `render.py` renders pages and errors.
"""

from __future__ import annotations

from fastapi import FastAPI

from app.web.pages import ROUTERS


def install_dashboard(app: FastAPI) -> None:
    """Add the dashboard's pages to the app (none of them in the OpenAPI document)."""
    for router in ROUTERS:
        app.include_router(router, include_in_schema=False)
