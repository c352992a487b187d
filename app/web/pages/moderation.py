"""Blocks & people: an account's blocks, opt-outs and consent; adding someone in two steps (who the
name is and what it will undo, then confirm); the shared block lists it follows; and the author
page, everything done with one person."""

from __future__ import annotations

from typing import cast
from urllib.parse import quote

from fastapi import APIRouter, Query, Request, Response

from app.accounts import repository as accounts_repo
from app.accounts.service import get_for
from app.auth.caller import GRANTS, Capability
from app.deps import RuntimeDep, SessionDep
from app.errors import AppError
from app.models import Account
from app.moderation import blocklists, domain_blocks, lists, repository, service
from app.moderation.domains import PDS_PREFIX, PREFIX
from app.moderation.service import PersonKind
from app.pagination import MAX_ID, PathId
from app.platforms.registry import get_platform
from app.web.forms import FormInvalid, SignedForm
from app.web.render import page, see_other
from app.web.viewer import Viewer, ViewerDep

router = APIRouter()

KINDS = {"block": "Block", "optout": "Opt out", "consent": "Record consent"}
REASON_MAX = 1000
LISTED_SHOWN = 200  # people blocked by lists shown on the page (each list's members are on the API)


def _kind(value: str) -> PersonKind:
    if value not in KINDS:
        raise FormInvalid(f"kind: {value[:40]!r} is not one of block, optout, consent")
    return cast(PersonKind, value)


def people_url(account_id: int) -> str:
    """The account's Blocks & people page."""
    return f"/accounts/{account_id}/people"


def author_url(account_id: int, author: str) -> str:
    """The author page of `author` (their id, or a pending name) on the account."""
    return f"/accounts/{account_id}/authors/{quote(author, safe='@:')}"


def avatar_src(url: str | None) -> str | None:
    """The avatar address if it is one to show: https, or a path on this site (the mock platform's)."""
    if url and (url.startswith("https://") or (url.startswith("/") and not url.startswith("//"))):
        return url
    return None


def can_moderate(viewer: Viewer) -> bool:
    """Whether the viewer's role may block and list people (to show the buttons; the services check again)."""
    return Capability.moderate in GRANTS[viewer.caller.role]


async def _people(request: Request, session: SessionDep, viewer: Viewer, account: Account, *, status_code: int = 200,
                  form: dict | None = None, error: str | None = None, list_form: dict | None = None,
                  list_error: str | None = None, domain_form: dict | None = None,
                  domain_error: str | None = None, import_form: dict | None = None,
                  import_errors: list[str] | None = None):
    blocks = await repository.blocks_for(session, account_id=account.id, platform=account.platform)
    entries = sorted(await repository.entries_of(session, account.id), key=lambda e: e.id, reverse=True)
    subscriptions = await repository.subscriptions_of(session, account.id)
    sources = [a for a in await accounts_repo.visible(session, None if viewer.caller.is_admin
                                                      else viewer.caller.account_ids)
               if a.id != account.id and a.platform == account.platform]
    return await page(request, session, viewer, "moderation/people.html", title="Blocks & people", account=account,
                      tab="people", section="accounts", status_code=status_code, can_moderate=can_moderate(viewer),
                      blocks=sorted(blocks, key=lambda b: b.id, reverse=True), kinds=KINDS, author_url=author_url,
                      optouts=[e for e in entries if e.kind == "optout"], error=error,
                      consents=[e for e in entries if e.kind == "consent"],
                      form=form or {"kind": "block", "author": "", "reason": ""},
                      subscriptions=subscriptions, sources=sources, list_error=list_error,
                      sources_options=[(str(a.id), f"{a.handle} (#{a.id})") for a in sources],
                      list_form=list_form or {"list": "", "source_account_id": ""},
                      listed=await repository.listed_people(session, account.id, LISTED_SHOWN),
                      listed_total=sum(s.member_count for s in subscriptions),
                      domain_form=domain_form or {"domain": "", "why": ""}, domain_error=domain_error,
                      import_form=import_form or {"csv": ""}, import_errors=import_errors or [],
                      domains_apply=get_platform(account.platform).handles_have_domains)


@router.get("/accounts/{account_id}/people")
async def people_page(account_id: PathId, request: Request, session: SessionDep, viewer: ViewerDep):
    """The account's blocks (and the global ones that hold for it), opt-outs and consent."""
    account = await get_for(session, account_id=account_id, caller=viewer.caller, need=Capability.read)
    return await _people(request, session, viewer, account)


@router.post("/accounts/{account_id}/people/check")
async def check_person(account_id: PathId, request: Request, session: SessionDep, runtime: RuntimeDep,
                       viewer: ViewerDep, form: SignedForm):
    """Step one: who the typed name is and what a block (or list entry) would do; nothing is changed."""
    account = await get_for(session, account_id=account_id, caller=viewer.caller, need=Capability.moderate)
    kind, typed, reason = _kind(form.get("kind", "block")), form.get("author").strip(), form.get("reason").strip()
    shown = {"kind": kind, "author": typed, "reason": reason}
    if not typed:
        return await _people(request, session, viewer, account, status_code=422, form=shown,
                             error="Type who: a handle, name@instance, a profile address or their id.")
    if len(reason) > REASON_MAX:
        raise FormInvalid(f"reason: at most {REASON_MAX} characters")
    try:
        seen = await service.preview(session, runtime=runtime, account=account, kind=kind, typed=typed)
    except AppError as exc:
        if exc.status_code != 422:
            raise
        return await _people(request, session, viewer, account, status_code=422, form=shown, error=str(exc.detail))
    title = {"block": "Block {}?", "optout": "Opt {} out?", "consent": "Record consent of {}?"}[kind]
    return await page(request, session, viewer, "moderation/confirm.html", title=title.format(seen.who.handle),
                      account=account, tab="people", section="accounts", seen=seen, reason=reason,
                      avatar=avatar_src(seen.who.avatar_url), author_url=author_url)


@router.post("/accounts/{account_id}/people/add")
async def add_person(account_id: PathId, session: SessionDep, runtime: RuntimeDep, viewer: ViewerDep,
                     form: SignedForm):
    """Step two, confirmed: block them (or list them), undoing their earlier reposts if asked."""
    account = await get_for(session, account_id=account_id, caller=viewer.caller, need=Capability.moderate)
    key, note = await service.add_person(session, runtime=runtime, account=account, kind=_kind(form.get("kind")),
                                         author=form.get("author"), reason=form.get("reason").strip(),
                                         undo=form.has("undo_existing"), caller=viewer.caller)
    place = key.startswith((PREFIX, PDS_PREFIX))  # a domain or PDS block: back to the list
    return see_other(people_url(account.id) if place else author_url(account.id, key), note=note)


@router.post("/accounts/{account_id}/people/check-domain")
async def check_domain(account_id: PathId, request: Request, session: SessionDep, viewer: ViewerDep,
                       form: SignedForm):
    """Step one for an instance or domain: which domain, and what blocking it would do; nothing is changed."""
    account = await get_for(session, account_id=account_id, caller=viewer.caller, need=Capability.moderate)
    typed, reason = form.get("domain").strip(), form.get("why").strip()
    if len(reason) > REASON_MAX:
        raise FormInvalid(f"reason: at most {REASON_MAX} characters")
    try:
        seen = await domain_blocks.preview(session, account=account, typed=typed)
    except AppError as exc:
        if exc.status_code != 422:
            raise
        return await _people(request, session, viewer, account, status_code=422, domain_form={"domain": typed,
                             "why": reason}, domain_error=str(exc.detail))
    return await page(request, session, viewer, "moderation/confirm_domain.html", title=f"Block {seen.shown}?",
                      account=account, tab="people", section="accounts", seen=seen, reason=reason)


@router.get("/accounts/{account_id}/people/export.csv")
async def export_blocks(account_id: PathId, session: SessionDep, viewer: ViewerDep,
                        fmt: str = Query(default="reposter", alias="format", pattern="^(reposter|mastodon)$")):
    """The account's own blocks as a CSV file (as the API's export)."""
    account = await get_for(session, account_id=account_id, caller=viewer.caller, need=Capability.read)
    text = await blocklists.export_csv(session, account=account, fmt=fmt)
    name = f"blocks-{account.id}" + ("-mastodon" if fmt == "mastodon" else "")
    return Response(text, media_type="text/csv; charset=utf-8",
                    headers={"Content-Disposition": f'attachment; filename="{name}.csv"'})


@router.post("/accounts/{account_id}/people/import")
async def import_blocks(account_id: PathId, request: Request, session: SessionDep, runtime: RuntimeDep,
                        viewer: ViewerDep, form: SignedForm):
    """Block every line of a pasted CSV block list, or none (the lines refused are listed)."""
    account = await get_for(session, account_id=account_id, caller=viewer.caller, need=Capability.moderate)
    text = form.get("csv")
    try:
        report = await blocklists.import_csv(session, runtime=runtime, account=account, body=text.encode(),
                                             platform=None, undo_existing=form.has("undo_existing"),
                                             caller=viewer.caller)
    except AppError as exc:
        if exc.status_code not in (413, 422):
            raise
        detail = exc.detail if isinstance(exc.detail, list) else [{"message": str(exc.detail)}]
        return await _people(request, session, viewer, account, status_code=exc.status_code,
                             import_form={"csv": text}, import_errors=[str(d["message"]) for d in detail])
    note = f"Imported: {report['added']} added, {report['skipped']} already blocked or repeated."
    return see_other(people_url(account.id), note=note + (f" {report['left_out']} left out (noop)."
                                                          if report["left_out"] else ""))


@router.post("/accounts/{account_id}/people/remove")
async def remove_person(account_id: PathId, session: SessionDep, viewer: ViewerDep, form: SignedForm):
    """Lift a block or take someone off a list; back to where the button was."""
    account = await get_for(session, account_id=account_id, caller=viewer.caller, need=Capability.moderate)
    kind, author = _kind(form.get("kind")), form.get("author")
    await service.remove_person(session, account=account, kind=kind, author=author, caller=viewer.caller,
                                everywhere=form.get("scope") == "global")
    what = {"block": "unblocked", "optout": "off the opt-out list", "consent": "off the consent list"}[kind]
    back = author_url(account.id, author) if form.get("back") == "author" else people_url(account.id)
    return see_other(back, note=f"{form.get('handle') or author} is {what}.")


@router.post("/accounts/{account_id}/people/block-lists")
async def subscribe_block_list(account_id: PathId, request: Request, session: SessionDep, runtime: RuntimeDep,
                               viewer: ViewerDep, form: SignedForm):
    """Follow a Bluesky moderation list (its address) or another account's blocks (picked)."""
    account = await get_for(session, account_id=account_id, caller=viewer.caller, need=Capability.moderate)
    typed, source = form.get("list").strip(), form.get("source_account_id").strip()
    shown = {"list": typed, "source_account_id": source}
    if len(typed) > 600:
        raise FormInvalid("list: at most 600 characters")
    if source and (not source.isdigit() or not 0 < int(source) <= MAX_ID):
        raise FormInvalid("source_account_id: an account's id")
    try:
        sub, applied = await lists.subscribe(session, runtime=runtime, account=account, list_ref=typed or None,
                                             source_account_id=int(source) if source else None,
                                             undo_existing=form.has("undo_existing"), caller=viewer.caller)
    except AppError as exc:
        if exc.status_code not in (409, 422):
            raise
        return await _people(request, session, viewer, account, status_code=exc.status_code, list_form=shown,
                             list_error=str(exc.detail))
    note = f"Following {sub.label}: {sub.member_count} blocked."
    if applied.unqueued:
        note += f" {applied.unqueued} waiting post{'s' if applied.unqueued != 1 else ''} will not be sent."
    if applied.undo_queued:
        note += f" Undo requested for {applied.undo_queued} earlier repost{'s' if applied.undo_queued != 1 else ''}."
    return see_other(people_url(account.id), note=note)


@router.post("/accounts/{account_id}/people/block-lists/{subscription_id}/refresh")
async def refresh_block_list(account_id: PathId, subscription_id: PathId, session: SessionDep, runtime: RuntimeDep,
                             viewer: ViewerDep, form: SignedForm):
    """Read a followed list again now; a failure shows on the list's row."""
    account = await get_for(session, account_id=account_id, caller=viewer.caller, need=Capability.moderate)
    sub, applied = await lists.refresh_now(session, runtime=runtime, account=account, subscription_id=subscription_id,
                                           caller=viewer.caller)
    if sub.error and sub.error_at and sub.refreshed_at != sub.error_at:
        return see_other(people_url(account.id), note=f"Could not read {sub.label}: {sub.error}")
    return see_other(people_url(account.id), note=f"{sub.label}: {applied.added} added, {applied.removed} removed.")


@router.post("/accounts/{account_id}/people/block-lists/{subscription_id}/remove")
async def unsubscribe_block_list(account_id: PathId, subscription_id: PathId, session: SessionDep,
                                 viewer: ViewerDep, form: SignedForm):
    """Stop following a list: its members are no longer blocked by it."""
    account = await get_for(session, account_id=account_id, caller=viewer.caller, need=Capability.moderate)
    sub = await lists.get(session, account, subscription_id)
    label = sub.label
    await lists.unsubscribe(session, account=account, subscription_id=subscription_id, caller=viewer.caller)
    return see_other(people_url(account.id), note=f"No longer following {label}.")


@router.get("/accounts/{account_id}/authors/{author}")
async def author_page(account_id: PathId, author: str, request: Request, session: SessionDep, viewer: ViewerDep):
    """One person on this account: their block, opt-out and consent, and every action taken on their posts."""
    account = await get_for(session, account_id=account_id, caller=viewer.caller, need=Capability.read)
    person = await service.person(session, account=account, author=author)
    if person.key != author:  # named by a handle or another spelling: the page of the person, by id
        return see_other(author_url(account.id, person.key))
    return await page(request, session, viewer, "moderation/author.html", title=person.display_name or person.handle,
                      account=account, tab="people", section="accounts", person=person,
                      can_moderate=can_moderate(viewer), author_url=author_url)
