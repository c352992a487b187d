"""The dashboard's rules pages: the list with enable switches and 7-day counts, the editor that checks the
query as it is typed, explain against a pasted post, preview against recent posts, and delete.

Every read and write goes through the rules service with the viewer's Caller, as the API's do."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from fastapi import APIRouter, Request
from pydantic import ValidationError

from app.accounts.service import get_for
from app.auth.caller import GRANTS, Capability
from app.db.base import utcnow
from app.deps import RuntimeDep, SessionDep
from app.errors import AppError, Invalid, NotFound
from app.models import Account, Rule
from app.pagination import PathId
from app.rules import repository, service
from app.rules.checking import QueryCheck, check
from app.rules.pasted import pasted_post
from app.rules.schemas import RuleCreate, RuleUpdate
from app.rules.summary import recent_preview
from app.web.forms import Form, FormInvalid, SignedForm
from app.web.render import fragment, page, see_other
from app.web.viewer import Viewer, ViewerDep

router = APIRouter()
WEEK = timedelta(days=7)
NEW = {"name": "", "query": "", "scope": "anyone", "action": "repost", "quote_template": "", "priority": "0",
       "review": False, "enabled": True, "timing_mode": "now", "timing_minutes": "", "timing_times": "",
       "undo_after_hours": ""}
TEXT_FIELDS = ("name", "query", "scope", "action", "quote_template", "priority", "timing_mode", "timing_minutes",
               "timing_times", "undo_after_hours")
# which field an error of the service belongs to, by its `error`
ERROR_FIELDS = {"action not allowed": "action", "invalid rule": "quote_template", "invalid scope": "scope"}


def _can_edit(viewer: Viewer) -> bool:
    """Whether the viewer's role may change rules (the accounts they reach are checked per request)."""
    return Capability.configure in GRANTS[viewer.caller.role]


def _htmx(request: Request) -> bool:
    return request.headers.get("HX-Request") == "true"


async def _rule_for(session, viewer: Viewer, rule_id: int, need: Capability) -> tuple[Rule, Account]:
    """The rule and its account, as the API finds them: 404 outside the viewer's accounts, 403 without `need`."""
    rule = await service.get(session, rule_id=rule_id)
    if not viewer.caller.reaches(rule.account_id):
        raise NotFound(f"rule {rule_id} not found")
    return rule, await get_for(session, account_id=rule.account_id, caller=viewer.caller, need=need)


@router.get("/accounts/{account_id}/rules")
async def rules_list(account_id: PathId, request: Request, session: SessionDep, viewer: ViewerDep):
    """The account's rules, each with its switch and what it did in the last 7 days."""
    account = await get_for(session, account_id=account_id, caller=viewer.caller, need=Capability.read)
    rules = await repository.ordered(session, account_id=account.id)
    counts = await repository.counts_since(session, account_id=account.id, since=utcnow() - WEEK)
    return await page(request, session, viewer, "rules/list.html", title="Rules", section="accounts",
                      account=account, tab="rules", rules=rules, counts=counts, can_edit=_can_edit(viewer))


@router.post("/rules/{rule_id:int}/enabled")
async def switch_rule(rule_id: PathId, request: Request, session: SessionDep, runtime: RuntimeDep,
                      viewer: ViewerDep, form: SignedForm):
    """Turn a rule on or off (`enabled` = true or false)."""
    rule, account = await _rule_for(session, viewer, rule_id, Capability.configure)
    wanted = {"true": True, "false": False}.get(form.get("enabled"))
    if wanted is None:
        raise FormInvalid("enabled: true or false")
    await service.update(session, runtime=runtime, rule=rule, account=account, data=RuleUpdate(enabled=wanted),
                         caller=viewer.caller)
    said = f"Rule “{rule.name}” is {'on' if wanted else 'off'}."
    if _htmx(request):
        return fragment(request, "rules/_switch.html", rule=rule, viewer=viewer, can_edit=True, announce=said)
    return see_other(f"/accounts/{account.id}/rules", note=said)


# -- the editor ---------------------------------------------------------------------------------


def _values(form: Form) -> dict[str, Any]:
    """The editor's fields as typed, to show them again."""
    return {**{name: form.get(name) for name in TEXT_FIELDS},
            "review": form.has("review"), "enabled": form.has("enabled")}


def _timing(values: dict[str, Any]) -> dict[str, Any]:
    """The rule's timing as the form gives it: a mode, minutes (delay, or a spread's window), local times."""
    mode, minutes = values["timing_mode"] or "now", values["timing_minutes"].strip()
    if mode == "delay":
        return {"mode": mode, "minutes": minutes}
    if mode == "spread":
        return {"mode": mode, "window_minutes": minutes}
    if mode == "at":
        return {"mode": mode, "times": [t for t in values["timing_times"].replace(",", " ").split() if t]}
    return {"mode": mode}


def _timing_values(rule: Rule) -> dict[str, str]:
    """The editor's timing fields of a saved rule."""
    timing = rule.timing or {"mode": "now"}
    minutes = timing.get("minutes") or timing.get("window_minutes")
    return {"timing_mode": str(timing.get("mode", "now")), "timing_minutes": str(minutes or ""),
            "timing_times": ", ".join(timing.get("times") or ()),
            "undo_after_hours": str(rule.undo_after_hours or "")}


def _data(values: dict[str, Any], errors: dict[str, str]) -> RuleCreate | None:
    """The rule the form describes, or None with `errors` filled in per field."""
    base = {name: values[name] for name in ("name", "query", "action", "review", "enabled")}
    try:
        return RuleCreate(**{**base, "scope": values["scope"] or "anyone",
                             "quote_template": values["quote_template"] or None,
                             "priority": values["priority"].strip() or "0", "timing": _timing(values),
                             "undo_after_hours": values["undo_after_hours"].strip() or None})
    except ValidationError as exc:
        for problem in exc.errors():
            where = str(problem["loc"][0]) if problem["loc"] else "name"
            part = [str(p) for p in problem["loc"][2:] if isinstance(p, str)] if where == "timing" else []
            errors.setdefault(where, ": ".join([*part, problem["msg"]]))
        if values["query"] and "query" not in errors and "scope" not in errors:
            # counted with the others: the query's fault is marked on the page too
            found = check(values["query"], values["scope"] or "anyone")
            if not found.valid:
                errors[found.where] = str(found.message)
        return None


def _file_error(exc: AppError, errors: dict[str, str]) -> None:
    """Put the service's refusal next to the field it is about."""
    detail = exc.detail
    if isinstance(detail, dict):
        errors[str(detail.get("field", "query"))] = str(detail.get("message"))
    else:
        errors[ERROR_FIELDS.get(exc.error, "query")] = str(detail)


async def _editor(request: Request, session, viewer: Viewer, account: Account, *, rule: Rule | None,
                  values: dict[str, Any], errors: dict[str, str] | None = None, status_code: int = 200):
    """The editor page; a refused save shows the query's check (the fault marked) and the field errors."""
    errors = errors or {}
    shown: QueryCheck | None = None
    if "query" in errors or "scope" in errors or (rule is not None and values["query"]):
        shown = check(values["query"], values["scope"] or "anyone")
    title = f"Rule “{rule.name}”" if rule is not None else "New rule"
    action = f"/rules/{rule.id}" if rule is not None else f"/accounts/{account.id}/rules/new"
    return await page(request, session, viewer, "rules/editor.html", title=title, section="accounts",
                      account=account, tab="rules", rule=rule, values=values, errors=errors, check=shown,
                      save_url=action, can_edit=_can_edit(viewer), status_code=status_code)


@router.get("/accounts/{account_id}/rules/new")
async def new_rule(account_id: PathId, request: Request, session: SessionDep, viewer: ViewerDep):
    """An empty editor."""
    account = await get_for(session, account_id=account_id, caller=viewer.caller, need=Capability.configure)
    return await _editor(request, session, viewer, account, rule=None, values=dict(NEW))


@router.post("/accounts/{account_id}/rules/new")
async def create_rule(account_id: PathId, request: Request, session: SessionDep, runtime: RuntimeDep,
                      viewer: ViewerDep, form: SignedForm):
    """Save a new rule; a mistake shows the editor again with it marked (422) and saves nothing."""
    account = await get_for(session, account_id=account_id, caller=viewer.caller, need=Capability.configure)
    values, errors = _values(form), dict[str, str]()
    data = _data(values, errors)
    if data is not None:
        try:
            rule = await service.create(session, runtime=runtime, account=account, data=data, caller=viewer.caller)
            return see_other(f"/accounts/{account.id}/rules", note=f"Rule “{rule.name}” is saved.")
        except Invalid as exc:
            _file_error(exc, errors)
    return await _editor(request, session, viewer, account, rule=None, values=values, errors=errors, status_code=422)


@router.get("/rules/{rule_id:int}")
async def edit_rule(rule_id: PathId, request: Request, session: SessionDep, viewer: ViewerDep):
    """The editor on a saved rule (read-only for a moderator)."""
    rule, account = await _rule_for(session, viewer, rule_id, Capability.read)
    values = {name: getattr(rule, name) for name in NEW if hasattr(Rule, name) and name != "undo_after_hours"}
    values["quote_template"], values["priority"] = rule.quote_template or "", str(rule.priority)
    values.update(_timing_values(rule))
    return await _editor(request, session, viewer, account, rule=rule, values=values)


@router.post("/rules/{rule_id:int}")
async def update_rule(rule_id: PathId, request: Request, session: SessionDep, runtime: RuntimeDep,
                      viewer: ViewerDep, form: SignedForm):
    """Save a changed rule; a mistake shows the editor again (422) and changes nothing."""
    rule, account = await _rule_for(session, viewer, rule_id, Capability.configure)
    values, errors = _values(form), dict[str, str]()
    data = _data(values, errors)
    if data is not None:
        try:
            await service.update(session, runtime=runtime, rule=rule, account=account,
                                 data=RuleUpdate(**data.model_dump()), caller=viewer.caller)
            return see_other(f"/accounts/{account.id}/rules", note=f"Rule “{rule.name}” is saved.")
        except Invalid as exc:
            _file_error(exc, errors)
    return await _editor(request, session, viewer, account, rule=rule, values=values, errors=errors, status_code=422)


@router.post("/rules/validate")
async def validate_query(request: Request, viewer: ViewerDep, form: SignedForm):
    """The query checked as it is typed (always 200): valid and how it reads, or the fault marked."""
    return fragment(request, "rules/_check.html", check=check(form.get("query"), form.get("scope") or "anyone"))


# -- trying a rule -------------------------------------------------------------------------------


async def _tried(request: Request, session, viewer: Viewer, account: Account, template: str, **context: Any):
    """A result for htmx to put under its form; without htmx, a page of its own."""
    if _htmx(request):
        return fragment(request, template, **context)
    return await page(request, session, viewer, "rules/tried.html", title="Rule tried", section="accounts",
                      account=account, tab="rules", part=template, **context)


@router.post("/accounts/{account_id}/rules/explain")
async def explain_post(account_id: PathId, request: Request, session: SessionDep, viewer: ViewerDep,
                       form: SignedForm):
    """Which terms of the query hold for a pasted post."""
    account = await get_for(session, account_id=account_id, caller=viewer.caller, need=Capability.read)
    post = pasted_post(platform=account.platform, text=form.get("post_text"), handle=form.get("post_author"),
                       display_name=form.get("post_name"), followers=form.get("post_followers"),
                       lang=form.get("post_lang"), reply=form.get("post_reply"))
    result = service.explained(form.get("query"), form.get("scope") or "anyone", post)
    return await _tried(request, session, viewer, account, "rules/_explain.html", result=result, post=post)


@router.post("/accounts/{account_id}/rules/preview")
async def preview_recent(account_id: PathId, request: Request, session: SessionDep, runtime: RuntimeDep,
                         viewer: ViewerDep, form: SignedForm):
    """What the query would have done with the posts of the last 24 h (the preview service; nothing is sent)."""
    account = await get_for(session, account_id=account_id, caller=viewer.caller, need=Capability.read)
    kind = form.get("action") if form.get("action") in ("repost", "quote", "like") else "repost"
    result, summary = await recent_preview(session, runtime, account=account, query=form.get("query"),
                                           scope=form.get("scope") or "anyone", kind=kind)
    return await _tried(request, session, viewer, account, "rules/_preview.html", result=result, summary=summary,
                        review=form.has("review"))


# -- delete --------------------------------------------------------------------------------------


@router.get("/rules/{rule_id:int}/delete")
async def confirm_delete(rule_id: PathId, request: Request, session: SessionDep, viewer: ViewerDep):
    """Ask before deleting."""
    rule, account = await _rule_for(session, viewer, rule_id, Capability.configure)
    return await page(request, session, viewer, "rules/delete.html", title=f"Delete rule “{rule.name}”?",
                      section="accounts", account=account, tab="rules", rule=rule)


@router.post("/rules/{rule_id:int}/delete")
async def delete_rule(rule_id: PathId, request: Request, session: SessionDep, viewer: ViewerDep, form: SignedForm):
    """Delete the rule (its past actions stay in the activity log)."""
    rule, account = await _rule_for(session, viewer, rule_id, Capability.configure)
    name = rule.name
    await service.delete(session, rule=rule, caller=viewer.caller)
    return see_other(f"/accounts/{account.id}/rules", note=f"Rule “{name}” is deleted.")
