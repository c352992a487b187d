"""The overview: every account the viewer reaches, with its health."""

from fastapi import APIRouter, Request

from app.deps import SessionDep
from app.web.render import page
from app.web.viewer import ViewerDep

router = APIRouter()


@router.get("/")
async def overview(request: Request, session: SessionDep, viewer: ViewerDep):
    """The first page after sign-in."""
    return await page(request, session, viewer, "overview/index.html", title="Overview")
