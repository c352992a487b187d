"""The audit log: who did what and when, scoped as GET /api/v1/audit is (admins see everything,
others the events of their accounts), filtered by account, kind and day, a page at a time."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from urllib.parse import urlencode

from fastapi import APIRouter, Request

from app.accounts import repository as accounts_repository
from app.audit import repository
from app.deps import SessionDep
from app.errors import Invalid, NotFound
from app.inputs import MAX_ID, text_problem
from app.models import AuditEvent
from app.pagination import PageParams
from app.web.pages.moderation import author_url
from app.web.render import page
from app.web.viewer import ViewerDep

router = APIRouter()

PAGE_SIZE = 50
MAX_PAGES = 100_000  # offsets beyond this many pages name nothing
# How each kind of event reads; others are shown by their code.
WHAT = {
    "block.create": "blocked an author", "block.delete": "lifted a block",
    "optout.add": "opted an author out", "optout.remove": "took an author off the opt-out list",
    "consent.add": "recorded an author's consent", "consent.remove": "took an author off the consent list",
    "action.approve": "approved a post", "action.reject": "rejected a post", "action.undo": "asked to undo a repost",
    "action.undone": "undid a repost", "action.undo_failed": "gave up undoing a repost",
    "rule.create": "made a rule", "rule.update": "changed a rule", "rule.delete": "deleted a rule",
    "filters.update": "changed the filters", "account.create": "connected an account",
    "account.update": "changed an account", "account.delete": "removed an account",
}


def _text(name: str, value: str) -> str:
    if problem := text_problem(value):
        raise Invalid(f"{name}: {problem}")
    return value.strip()


def _account(value: str) -> int | None:
    if not value:
        return None
    if not value.isdigit() or not 0 < int(value) <= MAX_ID:
        raise Invalid(f"account: {value[:40]!r} is not an account id")
    return int(value)


def _day(name: str, value: str) -> date | None:
    try:
        return date.fromisoformat(value) if value else None
    except ValueError as exc:
        raise Invalid(f"{name}: {value[:40]!r} is not a day (YYYY-MM-DD)") from exc


def _offset(value: str) -> int:
    if not value:
        return 0
    if not value.isdigit() or int(value) > PAGE_SIZE * MAX_PAGES:
        raise Invalid(f"offset: {value[:40]!r} is not a position in the log")
    return int(value)


def _start(day: date | None) -> datetime | None:
    return None if day is None else datetime.combine(day, time(), tzinfo=UTC)


def target_link(event: AuditEvent) -> str | None:
    """The page of what an event changed, where the dashboard has one."""
    account_id, kind, target = event.account_id, event.target_type, event.target_id
    if kind == "account":
        return f"/accounts/{target}" if target.isdigit() else None
    if account_id is None:
        return None
    if kind in ("block", "optout", "consent"):
        return author_url(account_id, target)
    if kind == "action":
        author = (event.detail or {}).get("author_id")
        if isinstance(author, str) and author:
            return f"{author_url(account_id, author.lower())}#action-{target}"
        return f"/accounts/{account_id}/activity"
    if kind == "rule":
        return f"/accounts/{account_id}/rules#rule-{target}"
    return f"/accounts/{account_id}"


@router.get("/audit")
async def audit_page(request: Request, session: SessionDep, viewer: ViewerDep, account: str = "", action: str = "",
                     since: str = "", until: str = "", offset: str = ""):
    """The audit log, newest first."""
    account_id, kind = _account(_text("account", account)), _text("action", action)[:100]
    first, last = _day("since", _text("since", since)), _day("until", _text("until", until))
    at = _offset(_text("offset", offset))
    if account_id is not None and not viewer.caller.reaches(account_id):
        raise NotFound(f"account {account_id} not found")
    scope = None if viewer.is_admin else viewer.caller.account_ids
    ids = [account_id] if account_id is not None else scope
    found = await repository.page(session, account_ids=ids, action=kind or None,
                                  page=PageParams(limit=PAGE_SIZE, offset=at), into=lambda e: e,
                                  since=_start(first), until=_start(last + timedelta(days=1)) if last else None)
    shown = {"account": account_id or "", "action": kind, "since": first or "", "until": last or ""}

    def link(offset: int) -> str:
        return "/audit?" + urlencode({**{k: v for k, v in shown.items() if v}, "offset": offset})

    accounts = await accounts_repository.visible(session, scope)
    return await page(request, session, viewer, "audit/index.html", title="Audit log", section="audit",
                      events=[(e, target_link(e)) for e in found.items], found=found, shown=shown, what=WHAT,
                      accounts=accounts, names={a.id: a.display_name or a.handle for a in accounts}, link=link,
                      kinds=await repository.actions(session, account_ids=scope))
