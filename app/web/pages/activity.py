"""The activity log of one account: its actions filtered by status, rule, author and time, kept up to date
by polling a rows fragment; undo one repost or many selected."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Query, Request

from app.accounts.service import get_for
from app.actions import repository
from app.actions import service as actions_service
from app.actions.schemas import ActionRead
from app.auth.caller import Capability
from app.db.base import utcnow
from app.deps import PageDep, SessionDep
from app.errors import NotFound
from app.models import Account, ActionStatus
from app.pagination import Page, PageParams, PathId
from app.rules import repository as rules_repository
from app.web.forms import FormInvalid, SignedForm
from app.web.render import fragment, page, see_other
from app.web.viewer import Viewer, ViewerDep

router = APIRouter()
PERIODS = {"1h": ("the last hour", timedelta(hours=1)), "24h": ("the last 24 hours", timedelta(days=1)),
           "7d": ("the last 7 days", timedelta(days=7)), "30d": ("the last 30 days", timedelta(days=30))}
AUTHOR_MAX = 255
UNDO_MAX = 200


@dataclass
class LogFilter:
    """The log's filters as typed (kept in the form and the polling URL) and what was wrong with them."""

    status: str = ""
    rule: str = ""
    author: str = ""
    period: str = ""
    errors: dict[str, str] = field(default_factory=dict)

    @property
    def query(self) -> str:
        """The filters as a query string (only those set)."""
        return urlencode({k: v for k, v in (("status", self.status), ("rule", self.rule), ("author", self.author),
                                            ("period", self.period)) if v})


def parse_filter(*, status: str, rule: str, author: str, period: str, rule_ids: set[int]) -> LogFilter:
    """The filters, each checked; a wrong one is named in `errors` (the page shows it by its field)."""
    found = LogFilter(status.strip(), rule.strip(), author.strip().lstrip("@"), period.strip())
    if found.status and found.status not in set(ActionStatus):
        found.errors["status"] = f"{found.status[:40]!r} is not a status: choose one from the list"
    if found.rule and not (found.rule.isdigit() and int(found.rule) in rule_ids):
        found.errors["rule"] = "not a rule of this account: choose one from the list"
    if len(found.author) > AUTHOR_MAX:
        found.errors["author"] = f"at most {AUTHOR_MAX} characters"
    if found.period and found.period not in PERIODS:
        found.errors["period"] = "choose one of the periods in the list"
    return found


async def _account(session, viewer: Viewer, account_id: int, need: Capability) -> Account:
    return await get_for(session, account_id=account_id, caller=viewer.caller, need=need)


async def _log(session, account: Account, filters: LogFilter, paging: PageParams) -> tuple[Page, list[ActionRead]]:
    """A page of the log under the filters, each action as the API shows it (with why it waits)."""
    since = utcnow() - PERIODS[filters.period][1] if filters.period else None
    found = await repository.log_page(session, account_id=account.id, status=filters.status or None,
                                      rule_id=int(filters.rule) if filters.rule else None,
                                      author=filters.author or None, since=since, page=paging, into=lambda a: a)
    return found, await actions_service.read(session, found.items)


async def _shown(request: Request, session, viewer: Viewer, account_id: int, paging: PageParams,
                 status: str, rule: str, author: str, period: str) -> dict:
    """What the page and its rows fragment render: the account, its rules, the filters and the rows."""
    account = await _account(session, viewer, account_id, Capability.read)
    rules = await rules_repository.for_account(session, account.id, enabled_only=False)
    filters = parse_filter(status=status, rule=rule, author=author, period=period, rule_ids={r.id for r in rules})
    found, items = (None, []) if filters.errors else await _log(session, account, filters, paging)
    return {"account": account, "rules": rules, "rule_names": {r.id: r.name for r in rules}, "filters": filters,
            "found": found, "items": items, "top": max((i.id for i in items), default=0),
            "options": {"status": [("", "any status")] + [(s.value, s.value) for s in ActionStatus],
                        "rule": [("", "any rule")] + [(str(r.id), r.name) for r in rules],
                        "period": [("", "any time")] + [(key, label) for key, (label, _) in PERIODS.items()]}}


@router.get("/accounts/{account_id}/activity")
async def activity_page(account_id: PathId, request: Request, session: SessionDep, viewer: ViewerDep,
                        paging: PageDep, status: str = "", rule: str = "", author: str = "", period: str = ""):
    """The log, newest first, under the filters; page one keeps itself up to date."""
    shown = await _shown(request, session, viewer, account_id, paging, status, rule, author, period)
    return await page(request, session, viewer, "activity/log.html", title="Activity",
                      status_code=422 if shown["filters"].errors else 200, tab="activity", section="accounts",
                      seen=shown["top"], **shown)


@router.get("/accounts/{account_id}/activity/rows")
async def activity_rows(account_id: PathId, request: Request, session: SessionDep, viewer: ViewerDep,
                        paging: PageDep, status: str = "", rule: str = "", author: str = "", period: str = "",
                        seen: Annotated[int, Query(ge=0, description="the newest action id shown so far")] = 0):
    """The log's rows (page one), for polling: rows newer than `seen` are marked and announced."""
    shown = await _shown(request, session, viewer, account_id, paging, status, rule, author, period)
    if shown["filters"].errors:
        raise FormInvalid("; ".join(f"{k}: {v}" for k, v in shown["filters"].errors.items()))
    fresh = sum(1 for item in shown["items"] if item.id > seen)
    return fragment(request, "activity/_rows.html", viewer=viewer, seen=seen, fresh=fresh, live=True,
                    now_label=utcnow().strftime("%H:%M:%S UTC"), **shown)


@router.post("/accounts/{account_id}/activity/undo")
async def undo(account_id: PathId, session: SessionDep, viewer: ViewerDep, form: SignedForm):
    """Ask for the selected reposts to be undone (all or none: one that cannot be changes nothing)."""
    ids = list(dict.fromkeys(form.ints("ids")))
    if not ids or len(ids) > UNDO_MAX:
        raise FormInvalid(f"ids: select between 1 and {UNDO_MAX} reposts to undo")
    await _account(session, viewer, account_id, Capability.moderate)
    for action_id in ids:
        action = await actions_service.get_for_caller(session, action_id=action_id, caller=viewer.caller,
                                                      need=Capability.moderate)
        if action.account_id != account_id:
            raise NotFound(f"action {action_id} not found")
        await actions_service.request_undo(session, action=action, caller=viewer.caller)
    what = f"action {ids[0]}: it is" if len(ids) == 1 else f"{len(ids)} actions: each is"
    back = parse_filter(status=form.get("status"), rule=form.get("rule"), author=form.get("author"),
                        period=form.get("period"), rule_ids=set()).query
    return see_other(f"/accounts/{account_id}/activity" + (f"?{back}" if back else ""),
                     note=f"Undo requested for {what} removed from the platform within its limits; "
                          "the log shows it undone once that is done.")
