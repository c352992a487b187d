"""decide(post, rule, account view) -> Decision: blocks, opt-outs, consent, scope, filters. Pure."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from app.engine.filters import duplicate_reason, filter_reason, normalized_text, review_reason
from app.engine.scope import Scope, author_keys, out_of_scope
from app.engine.timing import NOW, Timing
from app.engine.view import AccountView
from app.platforms.base import Author, Post
from app.platforms.handles import author_domain, domain_and_parents, handle_key

NOBOT = "#nobot"


@dataclass(frozen=True)
class RuleView:
    id: int
    account_id: int
    scope: Scope
    action: str
    review: bool
    priority: int = 0
    # False for a set-scoped rule whose query cannot stand alone (empty, or only narrowing terms):
    # such a rule matches nearly every post, so posts outside its scope leave no trace at all.
    anchored: bool = True
    # when a match may go at the earliest (app/engine/timing.py)
    timing: Timing = NOW


class Verdict(StrEnum):
    """What the matcher does with a match: the status the action starts in, or no action at all.

    The first three are the statuses an action may start in (app/actions/states.py `FIRST`); the
    engine spells them itself because it is pure and knows nothing of the database."""

    queued = "queued"
    review = "review"
    skipped = "skipped"
    ignore = "ignore"  # out of scope of a rule that leaves no trace: no action row


@dataclass(frozen=True)
class Decision:
    status: Verdict
    reason: str | None = None


def stop_reason(post: Post, view: AccountView, now: datetime) -> str | None:
    """Why this account must not act on this post at all (checked again just before sending).

    For a repost, the original author is checked as well as the one who reposted it: a block or
    an opt-out cannot be got round by someone else reposting the author.
    """
    for author in filter(None, (post.author, post.reposted_author)):
        reason = _author_stop(post, author, view)
        if reason:
            return reason
    return filter_reason(view.filters, post, now)


def _author_stop(post: Post, author: Author, view: AccountView) -> str | None:
    keys = author_keys(author)
    if keys & view.own_names():
        return "own post"
    for key in keys:
        if key in view.blocked:
            return f"blocked: {view.blocked[key] or 'no reason given'}"
    blocked_domain = _blocked_domain(author, view)
    if blocked_domain is not None:
        return domain_reason(blocked_domain, view.blocked_domains[blocked_domain])
    blocked_pds = _blocked_pds(author, view)
    if blocked_pds is not None:
        return pds_reason(blocked_pds, view.blocked_pds[blocked_pds])
    if keys & view.optouts:
        return "opted out: author is on the account's opt-out list"
    if keys & view.blockers or author.blocks_account:
        return "opted out: author blocks the account"
    if author.bio and NOBOT in author.bio.lower():
        return "opted out: #nobot in the author's bio"
    if view.require_consent and not _consented(post, view, keys):
        return "consent: author has not tagged the account nor is on its consent list"
    return None


def _blocked_domain(author: Author, view: AccountView) -> str | None:
    """The blocked domain the author is in (their instance or handle domain, or a parent of it)."""
    if not view.blocked_domains:
        return None
    domain = author_domain(author.handle, home=view.home_domain)
    return next((d for d in domain_and_parents(domain) if d in view.blocked_domains), None) if domain else None


def _blocked_pds(author: Author, view: AccountView) -> str | None:
    """The blocked PDS host (or parent of it) the author's repository is on, as far as it is known."""
    if not view.blocked_pds:
        return None
    host = view.author_pds.get(author.id.lower())
    return next((h for h in domain_and_parents(host) if h in view.blocked_pds), None) if host else None


def pds_reason(host: str, reason: str) -> str:
    """The reason a post of an author hosted on a blocked PDS is skipped."""
    return f"blocked PDS {host}: {reason or 'no reason given'}"


def domain_reason(domain: str, reason: str) -> str:
    """The reason a post of an author in a blocked domain is skipped."""
    return f"blocked domain {domain}: {reason or 'no reason given'}"


def _consented(post: Post, view: AccountView, keys: set[str]) -> bool:
    mentioned = {handle_key(m) for m in (*post.mentions, *post.mention_ids)}
    return bool(keys & view.consent) or bool(mentioned & view.own_names())


def decide(post: Post, rule: RuleView, view: AccountView, now: datetime, *, text: str | None = None) -> Decision:
    """What to do with a post a rule matched: queue it, hold it for review, or skip it with a reason.
    `text`: the post's `normalized_text`, when the caller has it already (one post, many accounts)."""
    outside = out_of_scope(rule.scope, post, view.relations)
    if outside and not rule.anchored:
        return Decision(Verdict.ignore, outside)
    reason = stop_reason(post, view, now)
    reason = reason or outside
    reason = reason or duplicate_reason(view.filters, normalized_text(post) if text is None else text,
                                        view.recent_texts, now)
    if reason:
        return Decision(Verdict.skipped, reason)
    # Held for review is decided once, here: an approved post is not held again before sending.
    held = review_reason(view.filters, post)
    if held:
        return Decision(Verdict.review, held)
    return Decision(Verdict.review if rule.review else Verdict.queued)
