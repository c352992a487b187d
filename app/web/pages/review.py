"""The review queue: each post waiting for a moderator as a card; approve, reject with a reason, block the author.

Approve and reject answer an htmx request with the card's removal and a line for the page's status
region; without JavaScript they redirect back to the queue with a note.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response

from app.accounts.service import get_for
from app.actions import repository
from app.actions import service as actions_service
from app.actions.schemas import ActionRead
from app.actions.states import IllegalMove
from app.auth.caller import Capability
from app.db.base import utcnow
from app.deps import PageDep, RuntimeDep, SessionDep
from app.errors import NotFound
from app.models import Account, Action
from app.moderation import service as moderation_service
from app.moderation.schemas import BlockCreate
from app.pagination import PathId
from app.web.forms import Form, FormInvalid, SignedForm
from app.web.render import fragment, page, see_other
from app.web.viewer import Viewer, ViewerDep

router = APIRouter()
REASON_MAX = 500
BULK_MAX = 200
TAGS = re.compile(r"<[^>]+>")


@dataclass(frozen=True)
class Card:
    """One post waiting for review, with what is known of its author (None: not known)."""

    action: ActionRead
    text: str
    link: str | None
    name: str | None
    followers: int | None
    since: datetime | None
    bio: str | None
    bot: bool | None

    @property
    def age(self) -> str | None:
        """How old the author's account is, as people say it ('6 years', '3 months', '5 days')."""
        if self.since is None:
            return None
        days = max(0, (utcnow() - self.since).days)
        count, unit = next(((days // size, unit) for size, unit in ((365, "year"), (30, "month")) if days >= size),
                           (days, "day"))
        return f"{count} {unit}{'' if count == 1 else 's'}"


def _link(url: str | None) -> str | None:
    """A link only to a web page: a platform's URL is not trusted with other schemes (javascript:)."""
    return url if url and url.lower().startswith(("https://", "http://")) else None


def _when(value: Any) -> datetime | None:
    try:
        moment = datetime.fromisoformat(value) if isinstance(value, str) else None
    except ValueError:
        return None
    return moment.replace(tzinfo=UTC) if moment and moment.tzinfo is None else moment


def _bio(value: Any) -> str | None:
    """The bio as text (Mastodon's is HTML; the template escapes what is left)."""
    if not isinstance(value, str) or not value.strip():
        return None
    return " ".join(html.unescape(TAGS.sub(" ", value)).split())[:500] or None


def card_of(item: ActionRead, post: dict[str, Any] | None) -> Card:
    """The card of an action: its snapshot first, the stored post for what the snapshot does not keep."""
    post = post or {}
    author = post.get("reposted_author") or post.get("author") or {}
    snap = item.snapshot
    return Card(action=item, text=snap.text if snap else str(post.get("text") or ""), link=_link(item.post_url),
                name=(snap.author_display_name if snap else None) or author.get("display_name"),
                followers=snap.author_followers if snap and snap.author_followers is not None
                else author.get("followers_count"),
                since=_when(author.get("created_at")), bio=_bio(author.get("bio")), bot=author.get("is_bot"))


async def _account(session, viewer: Viewer, account_id: int, need: Capability) -> Account:
    return await get_for(session, account_id=account_id, caller=viewer.caller, need=need)


async def _action(session, viewer: Viewer, account_id: int, action_id: int) -> Action:
    """The action, if it is this account's and the viewer may moderate it (404 otherwise)."""
    await _account(session, viewer, account_id, Capability.moderate)
    action = await actions_service.get_for_caller(session, action_id=action_id, caller=viewer.caller,
                                                  need=Capability.moderate)
    if action.account_id != account_id:
        raise NotFound(f"action {action_id} not found")
    return action


def _reason(form: Form) -> str:
    reason = form.get("reason").strip()
    if len(reason) > REASON_MAX:
        raise FormInvalid(f"reason: at most {REASON_MAX} characters")
    return reason


def _answer(request: Request, account_id: int, message: str) -> Response:
    """htmx: the card goes (empty swap) and the status region says what happened; else back to the queue."""
    if request.headers.get("HX-Request") == "true":
        return fragment(request, "review/_done.html", message=message)
    return see_other(f"/accounts/{account_id}/review", note=message)


def _handled(action: Action) -> str:
    """Someone else decided this post while the card was shown: say so (the card goes away)."""
    by = f" by {action.decided_by}" if action.decided_by else ""
    return f"The post by @{action.author_handle} was already handled{by}: it is {action.status}. Nothing changed."


@router.get("/accounts/{account_id}/review")
async def review_page(account_id: PathId, request: Request, session: SessionDep, viewer: ViewerDep, paging: PageDep):
    """The posts waiting for review, oldest first, as cards."""
    account = await _account(session, viewer, account_id, Capability.read)
    found = await repository.review_queue(session, account_id=account.id, page=paging, into=lambda a: a)
    items = await actions_service.read(session, found.items)
    posts = await repository.post_data(session, [a.seen_post_id for a in found.items])
    cards = [card_of(item, posts.get(a.seen_post_id)) for item, a in zip(items, found.items, strict=True)]
    return await page(request, session, viewer, "review/queue.html", title="Review queue", account=account,
                      tab="review", cards=cards, found=found)


@router.post("/accounts/{account_id}/review/{action_id}/approve")
async def approve(account_id: PathId, action_id: PathId, request: Request, session: SessionDep, viewer: ViewerDep,
                  form: SignedForm):
    """Approve one post: it goes to the queue (still checked against blocks and limits before it is sent)."""
    action = await _action(session, viewer, account_id, action_id)
    try:
        await actions_service.approve(session, action=action, caller=viewer.caller)
    except IllegalMove:
        return _answer(request, account_id, _handled(action))
    return _answer(request, account_id, f"Approved the post by @{action.author_handle}: it is queued to go out.")


@router.post("/accounts/{account_id}/review/{action_id}/reject")
async def reject(account_id: PathId, action_id: PathId, request: Request, session: SessionDep, viewer: ViewerDep,
                 form: SignedForm):
    """Reject one post, with the reason given (kept in the action's reason)."""
    reason = _reason(form)
    action = await _action(session, viewer, account_id, action_id)
    try:
        await actions_service.reject(session, action=action, caller=viewer.caller, why=reason)
    except IllegalMove:
        return _answer(request, account_id, _handled(action))
    return _answer(request, account_id, f"Rejected the post by @{action.author_handle}: it will not be sent.")


@router.post("/accounts/{account_id}/review/selected")
async def selected(account_id: PathId, session: SessionDep, viewer: ViewerDep, form: SignedForm):
    """Approve or reject every selected post (all or none: one that cannot be changes nothing)."""
    ids, do, reason = form.ints("ids"), form.get("do"), _reason(form)
    if do not in ("approve", "reject"):
        raise FormInvalid("do: choose approve or reject")
    if not ids or len(ids) > BULK_MAX:
        raise FormInvalid(f"ids: select between 1 and {BULK_MAX} posts")
    for action_id in dict.fromkeys(ids):
        action = await _action(session, viewer, account_id, action_id)
        if do == "approve":
            await actions_service.approve(session, action=action, caller=viewer.caller)
        else:
            await actions_service.reject(session, action=action, caller=viewer.caller, why=reason)
    count = len(set(ids))
    done = "Approved" if do == "approve" else "Rejected"
    return see_other(f"/accounts/{account_id}/review", note=f"{done} {count} post{'s' if count != 1 else ''}.")


@router.post("/accounts/{account_id}/review/{action_id}/block")
async def block(account_id: PathId, action_id: PathId, session: SessionDep, runtime: RuntimeDep, viewer: ViewerDep,
                form: SignedForm):
    """Block the post's author on this account, optionally undoing their earlier reposts."""
    reason, undo = _reason(form), form.has("undo_existing")
    action = await _action(session, viewer, account_id, action_id)
    account = await _account(session, viewer, account_id, Capability.moderate)
    result = await moderation_service.add_block(
        session, runtime=runtime, account=account, caller=viewer.caller,
        data=BlockCreate(author=action.author_handle, reason=reason, undo_existing=undo))
    note = (f"Blocked @{action.author_handle}: {result['unqueued']} waiting post(s) of theirs will not be sent"
            + (f"; undo requested for {result['undo_queued']} earlier repost(s)." if undo else "."))
    return see_other(f"/accounts/{account_id}/review", note=note)
