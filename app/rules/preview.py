"""Preview: what a rule would do with given posts (or the account's recently seen ones), and why."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from app.actions import repository as actions_repository
from app.db.base import utcnow
from app.engine.decide import RuleView, decide
from app.errors import Invalid
from app.models import Account, Action, ActionKind, ActionStatus, Rule
from app.pipeline import repository as pipeline_repo
from app.pipeline.inbox import post_of
from app.pipeline.matcher import stands_alone
from app.pipeline.relations import ensure_relations
from app.pipeline.views import account_view
from app.platforms.base import Post
from app.query import explain, parse
from app.rules.authors import indexed
from app.rules.schemas import ExistingAction, PreviewItem, PreviewRequest, PreviewResult, TermHeld
from app.rules.service import checked_query, checked_scope, get

PAST = {ActionKind.repost: "reposted", ActionKind.quote: "quoted", ActionKind.like: "liked",
        ActionKind.reply: "replied to"}


async def _subject(session: AsyncSession, account: Account,
                   data: PreviewRequest) -> tuple[str, str, bool, str, Rule | None]:
    """(query, scope, review, action, rule) of the rule named, or of the query given (a repost)."""
    if data.rule_id is not None:
        rule = await get(session, rule_id=data.rule_id)
        if rule.account_id != account.id:
            raise Invalid(f"rule {data.rule_id} is not a rule of account {account.id}")
        return rule.query, rule.scope, rule.review, rule.action, rule
    if data.query is None:
        raise Invalid("give either query or rule_id")
    return data.query, data.scope or "anyone", False, ActionKind.repost, None


async def recent_posts(session: AsyncSession, account: Account, limit: int,
                       since: datetime | None = None) -> list[Post]:
    """The newest posts seen on the account's platform (since `since`, if given)."""
    rows = await pipeline_repo.newest_posts(session, platform=account.platform, limit=limit, since=since)
    return [post_of(r) for r in rows]


async def preview(session: AsyncSession, runtime, *, account: Account, data: PreviewRequest) -> PreviewResult:
    """Explain the rule against each post and say what the account would do with it."""
    query, scope_text, review, kind, saved = await _subject(session, account, data)
    scope = checked_scope(scope_text)
    checked_query(query, scope)
    node = parse(query, scoped=scope.is_set)
    if saved is not None:  # a saved rule matches the people it names by the ids they had when it was saved
        node, scope = indexed(saved, scope)
    rule = RuleView(0, account.id, scope, kind, review, anchored=stands_alone(query))
    now = utcnow()
    view = await account_view(session, account, now)
    if scope.relation and scope.relation not in view.relations:
        await ensure_relations(session, runtime, account, view, [scope.relation])
    posts = (data.posts if data.posts is not None else await recent_posts(session, account, data.limit))[: data.limit]
    existing = await actions_repository.for_posts(session, account_id=account.id, post_ids=[p.id for p in posts])
    recent = view.recent_texts
    items = []
    for post in posts:
        mine = [a for a in existing if a.post_id == post.id]
        # Never compare a post with itself: its own actions' texts leave the duplicate check.
        own = {(a.created_at, a.text) for a in mine}
        view.recent_texts = [t for t in recent if t not in own]
        items.append(_item(post, node, rule, view, now, next((a for a in mine if a.kind == rule.action), None)))
    return PreviewResult(query=query, scope=str(scope), items=items)


def _item(post: Post, node, rule: RuleView, view, now, acted: Action | None) -> PreviewItem:
    """One post: matched or not, and what the account would do, or has already done, with it."""
    result = explain(node, post)
    terms = [TermHeld(term=t.term, held=t.held) for t in result.terms]
    action = ExistingAction(id=acted.id, kind=acted.kind, status=acted.status) if acted else None
    if result.matched and acted is not None:
        sent = acted.status in (ActionStatus.done, ActionStatus.undoing, ActionStatus.undone)
        said = PAST[ActionKind(acted.kind)] if sent else "decided"  # a skipped or queued one was not reposted
        reason = f"already {said}: action {acted.id} is {acted.status}"
        return PreviewItem(post=post.model_dump(mode="json"), matched=True, would="already acted", reason=reason,
                           terms=terms, action=action)
    decision = decide(post, rule, view, now) if result.matched else None
    return PreviewItem(post=post.model_dump(mode="json"), matched=result.matched,
                       would=decision.status if decision else "no match", reason=decision.reason if decision else None,
                       terms=terms, action=action)
