"""The overview: every account the viewer reaches, with its health, today's numbers and a chart."""

from fastapi import APIRouter, Request

from app.accounts import repository as accounts_repository
from app.accounts import service as accounts_service
from app.accounts.summary import summaries
from app.auth.caller import Capability
from app.db.base import utcnow
from app.deps import RuntimeDep, SessionDep
from app.web.charts import account_chart
from app.web.render import page
from app.web.viewer import ViewerDep

router = APIRouter()


@router.get("/")
async def overview(request: Request, session: SessionDep, viewer: ViewerDep, runtime: RuntimeDep):
    """The first page after sign-in: a card per account."""
    caller = viewer.caller
    visible = await accounts_repository.visible(session, None if caller.is_admin else caller.account_ids)
    # through the API's own check, so the overview shows exactly what GET /accounts/{id}/health would
    accounts = [await accounts_service.get_for(session, account_id=a.id, caller=caller, need=Capability.read)
                for a in visible]
    cards = await summaries(session, accounts=accounts, runtime=runtime, now=utcnow())
    return await page(request, session, viewer, "overview/index.html", title="Overview", section="overview",
                      cards=[(card, account_chart(card)) for card in cards])
