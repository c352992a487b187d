"""The matcher: new posts in the inbox -> the compiled rule index -> decisions -> action rows.

One in-memory RuleIndex per process over every enabled rule of every account, kept in step
with the rules table incrementally (a cheap fingerprint first, then only the changed rows).
"""

from __future__ import annotations

import gc
import logging
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from app.accounts import repository as accounts_repo
from app.actions import states
from app.actions.snapshot import RuleText, held_terms, rule_text, snapshot_of
from app.db.base import utcnow
from app.db.marks import change_mark
from app.engine.decide import Decision, RuleView, Verdict, decide
from app.engine.filters import normalized_text
from app.engine.scope import Scope, parse_scope
from app.engine.timing import Timing, Window, scheduled, spread_slot
from app.engine.view import AccountView
from app.models import Account, ActionKind, ActionStatus, Rule
from app.pipeline import repository
from app.pipeline.relations import ensure_relations
from app.pipeline.views import account_views, fill_author_pds
from app.platforms.base import Post
from app.platforms.handles import handle_key
from app.platforms.registry import get_platform
from app.query import Node, PreparedPost, QuerySyntaxError, RuleIndex, parse, prepare
from app.rules import repository as rules_repo
from app.rules.authors import author_ids, indexed
from app.runtime import Runtime

log = logging.getLogger("reposter.matcher")

BATCH = 1000
# How far before the newest updated_at seen a moved change mark makes the sync look again (a rule
# write's transaction committing this much later than it stamped the row would go unseen).
SETTLE = timedelta(minutes=5)
# What the index holds of a rule: (id, parsed query, listed authors).
Indexed = tuple[int, Node, tuple[str, ...] | None]


@dataclass
class CompiledRules:
    """The index and what each indexed rule needs for a decision, kept in step incrementally.

    A change mark kept by the database (one row) is read every batch; when it moved, only the rules
    changed since the last sync are re-read and re-indexed. Deletions show as a count or id-sum
    that no longer matches the rules known here, and only then are the ids compared.
    """

    index: RuleIndex = field(default_factory=RuleIndex)
    rules: dict[int, RuleView] = field(default_factory=dict)
    # Per indexed rule, its name and indexed query: for the snapshot of a matched post's action.
    texts: dict[int, RuleText] = field(default_factory=dict)
    known: set[int] = field(default_factory=set)
    signature: rules_repo.Signature | None = None
    latest: datetime | None = None
    mark: int | None = None  # the rules' change mark at the last sync (None: not known)

    async def sync(self, session: AsyncSession) -> None:
        """Bring the index in step with the rules table, touching only what changed.

        The change mark (one row, moved by the database on every write to `rules`, migration 0019)
        is read first: while it stands where it stood at the last sync nothing changed, and the
        fingerprint (a scan of the whole table) is not read. It is read before the rules, so a write
        landing meanwhile leaves it past what is kept here and the next sync looks again. When it
        moved, the rules changed since the newest seen, less `SETTLE`, are read again: a write
        committed late may carry an updated_at older than one already seen (the fingerprint alone,
        all there is without the mark, misses that one)."""
        mark = await change_mark(session, "rules")
        if mark is not None and mark == self.mark:
            return
        signature = await rules_repo.signature(session)
        if signature == self.signature and mark is None:
            return
        since = self.latest - SETTLE if self.latest is not None and mark is not None else self.latest
        changed = await rules_repo.changed_since(session, since)
        if self.signature is None:
            self._load(changed)
        for rule in changed if self.signature is not None else ():
            self.known.add(rule.id)
            self._put(rule) if rule.enabled else self._drop(rule.id)
        count, latest, id_sum = signature
        if count != len(self.known) or (id_sum or 0) != sum(self.known):
            for rule_id in self.known - await rules_repo.all_ids(session):
                self.known.discard(rule_id)
                self._drop(rule_id)
        self.signature, self.latest, self.mark = signature, latest, mark

    def _load(self, rules: Iterable[Rule]) -> None:
        """The first sync: every enabled rule at once, then the heap is frozen out of the collector's
        way (a full collection over a 100,000-rule index would otherwise pause the worker for seconds)."""
        entries = []
        for rule in rules:
            self.known.add(rule.id)
            if rule.enabled:
                entries.append(self._compile(rule))
        self.index.add_many(entries)
        if len(entries) > 1000:
            gc.freeze()
        log.info("rules indexed", extra={"rules": len(entries)})

    def _compile(self, rule: Rule) -> Indexed:
        """(id, parsed query, listed authors) for the index, the people it names as their ids;
        the rule's view for decisions."""
        node, scope = indexed(rule, parse_scope(rule.scope))
        self.rules[rule.id] = _view(rule, scope)
        self.texts[rule.id] = rule_text(rule.name, node, author_ids(rule))
        return rule.id, node, scope.value if scope.kind == "users" else None

    def _put(self, rule: Rule) -> None:
        rule_id, node, authors = self._compile(rule)
        self.index.replace(rule_id, node, authors=authors)

    def _drop(self, rule_id: int) -> None:
        self.index.remove(rule_id)
        self.rules.pop(rule_id, None)
        self.texts.pop(rule_id, None)


def _view(rule: Rule, scope: Scope) -> RuleView:
    """What a decision needs of a rule."""
    return RuleView(rule.id, rule.account_id, scope, rule.action, rule.review, rule.priority,
                    anchored=stands_alone(rule.query), timing=Timing.of(rule.timing))


def stands_alone(query: str) -> bool:
    """Whether the query would be a valid rule without a set scope."""
    try:
        parse(query)
    except QuerySyntaxError:
        return False
    return True


def best_rules(rule_ids: set[int], rules: dict[int, RuleView]) -> dict[tuple[int, str], RuleView]:
    """Per (account, action kind), the matched rule of highest priority (then the oldest)."""
    best: dict[tuple[int, str], RuleView] = {}
    for rid in sorted(rule_ids):
        rule = rules[rid]
        key = (rule.account_id, rule.action)
        if key not in best or rule.priority > best[key].priority:
            best[key] = rule
    return best


@dataclass
class Found:
    """One inbox post and, per (account, action kind), the best of the rules it matched."""

    seen_id: int  # the inbox row
    source_account_id: int | None  # the account whose feed alone had it (None: every account's)
    post: Post
    prepared: PreparedPost
    best: dict[tuple[int, str], RuleView]
    normalized: str = ""  # the post's text as duplicate detection sees it (normalized_text), once a post


class Matcher:
    """Reads the inbox past the matcher cursor and writes one action row per decision."""

    def __init__(self) -> None:
        self.compiled = CompiledRules()
        # the last batch's new `queued` actions: action id -> account id (valid once the caller committed)
        self.queued: dict[int, int] = {}
        # the last batch's authors whose PDS to look up (accounts with PDS blocks matched their posts),
        # and its actions held meanwhile (app/moderation/author_hosts.py; Pipeline.match_all does both)
        self.lookups: set[str] = set()
        self.held: dict[int, datetime] = {}

    async def run_batch(self, session: AsyncSession, runtime: Runtime, *, limit: int = BATCH) -> int:
        """Match one batch of new posts; returns how many posts were read. Caller commits.
        The batch's action rows are written together at its end (one multi-row INSERT per
        INSERT_BATCH rows), in the order the posts came in."""
        self.queued, self.lookups, self.held = {}, set(), {}
        cursor = await repository.lock_match_cursor(session, now=utcnow())
        if cursor is None:  # another worker matches: no need to read the rules' fingerprint either
            return 0
        rows = await repository.posts_after(session, after=int(cursor.position or 0), limit=limit)
        if not rows:  # nothing to match: the rules' fingerprint (a scan of the rules table) is not read
            return 0
        await self.compiled.sync(session)
        batch = _Batch(session, runtime, utcnow())
        found = [self._match(*row) for row in rows]
        await batch.load(found)
        for item in found:
            await self._decide(batch, item)
        await batch.write()
        cursor.position = str(rows[-1].id)
        cursor.last_polled_at = batch.now
        self.queued, self.lookups, self.held = batch.queued, batch.lookups, batch.held
        return len(rows)

    def _match(self, seen_id: int, source_account_id: int | None, data: dict[str, Any]) -> Found:
        post = Post.model_validate(data)
        prepared = prepare(post)
        best = best_rules(self.compiled.index.match(prepared), self.compiled.rules)
        return Found(seen_id, source_account_id, post, prepared, best, normalized_text(post) if best else "")

    async def _decide(self, batch: _Batch, found: Found) -> None:
        post = found.post
        for (account_id, kind), rule in found.best.items():
            account = batch.accounts.get(account_id)
            if account is None or account.platform != post.platform:
                continue
            if not get_platform(account.platform).can_act_on(account.config, post.ref):
                continue  # read on another server, whose ids this account's server does not know
            if found.source_account_id not in (None, account_id):
                continue
            if (account_id, post.id, kind) in batch.taken:
                continue  # decided before (a duplicate delivery): the unique row stands
            view = await batch.view(account, rule)
            decision = decide(post, rule, view, batch.now, text=found.normalized)
            if decision.status == Verdict.ignore:
                continue
            text = self.compiled.texts.get(rule.id)
            snapshot = snapshot_of(post, text, held_terms(text, found.prepared) if text else [])
            batch.record(account, rule, found.seen_id, post, found.normalized, kind, decision, view, snapshot,
                         await batch.schedule(account, rule, decision))


class _Batch:
    """Per-batch caches of accounts and their views, and the action rows to write at its end."""

    def __init__(self, session: AsyncSession, runtime: Runtime, now: datetime) -> None:
        self.session, self.runtime, self.now = session, runtime, now
        self.accounts: dict[int, Account] = {}  # the enabled accounts the batch's posts matched
        self.views: dict[int, AccountView] = {}
        # (account, post id, kind) with an action row already or one in `rows`: decided once
        self.taken: set[tuple[int, str, str]] = set()
        self.rows: list[dict[str, Any]] = []
        self.queued: dict[int, int] = {}  # new `queued` action id -> account id
        # (account, rule) -> its latest spread window, read once a batch and counted on here
        self.windows: dict[tuple[int, int], Window | None] = {}
        # authors whose PDS is to be looked up; (account, post id, kind) of queued actions held for
        # it (an author never looked up), and once written their ids -> when they would have been due
        self.lookups: set[str] = set()
        self.holding: dict[tuple[int, str, str], datetime] = {}
        self.held: dict[int, datetime] = {}

    async def load(self, found: list[Found]) -> None:
        """The accounts the posts matched, in one query, and which of their decisions exist already
        (in one query per INSERT_BATCH keys), so that a post delivered twice is decided once."""
        wanted = {account_id for item in found for account_id, _ in item.best}
        if not wanted:
            return
        self.accounts = {a.id: a for a in await accounts_repo.visible(self.session, wanted) if a.enabled}
        keys = list(dict.fromkeys((account_id, item.post.id, kind) for item in found
                                  for account_id, kind in item.best if account_id in self.accounts))
        self.taken = await repository.existing_actions(self.session, keys) if keys else set()
        self.views = await account_views(self.session, list(self.accounts.values()), self.now)
        with_pds = {account_id for account_id, view in self.views.items() if view.blocked_pds}
        if with_pds:  # PDS blocks: the cached hosts of the authors these accounts' matches are by
            dids = {author.id for item in found for account_id, _ in item.best if account_id in with_pds
                    for author in (item.post.author, item.post.reposted_author) if author is not None}
            self.lookups = await fill_author_pds(self.session, self.views.values(), dids, self.now)

    async def view(self, account: Account, rule: RuleView) -> AccountView:
        view = self.views[account.id]
        if rule.scope.relation and rule.scope.relation not in view.relations:
            await ensure_relations(self.session, self.runtime, account, view, [rule.scope.relation])
        return view

    async def schedule(self, account: Account, rule: RuleView, decision: Decision) -> dict[str, Any]:
        """The rule's timing for this match (app/engine/timing.py): the action's scheduled_at and,
        for a spread, the window it takes a place in. Nothing for a skip."""
        if decision.status == Verdict.skipped or rule.timing.mode == "now":
            return {}
        window = None
        if rule.timing.mode == "spread":
            key = (account.id, rule.id)
            if key not in self.windows:
                self.windows[key] = await repository.spread_window(self.session, account_id=account.id,
                                                                   rule_id=rule.id)
            start, taken = spread_slot(rule.timing, self.now, self.windows[key])
            window = Window(start, taken)
            self.windows[key] = Window(start, taken + 1)
        at = scheduled(rule.timing, self.now, timezone=account.timezone or "UTC", window=window)
        return {"scheduled_at": at, "spread_start": window.start if window else None}

    def record(self, account: Account, rule: RuleView, seen_id: int, post: Post, text: str, kind: str,
               decision: Decision, view: AccountView, snapshot: dict[str, Any],
               timed: dict[str, Any] | None = None) -> None:
        """Add the action row to the batch's; its text (`normalized_text` of the post) counts for the
        duplicate filter at once. `timed`: scheduled_at (the rule's timing) and spread_start, when
        the rule is timed."""
        whose = post.reposted_author or post.author  # the author whose post a repost amplifies
        status = states.first(decision.status)
        timed = {"scheduled_at": None, "spread_start": None, **(timed or {})}
        self.taken.add((account.id, post.id, kind))
        due = (timed["scheduled_at"] or self.now) if status == ActionStatus.queued else None
        if due is not None and self._unknown_pds(post, view):
            # its author's PDS is looked up once the batch is committed, before it is sent; if that
            # does not come to an end, it goes when the lookup's time is up (not blocked)
            hold = self.now + timedelta(seconds=self.runtime.settings.pds_lookup_seconds)
            if hold > due:
                self.holding[(account.id, post.id, kind)] = due
                due = hold
        self.rows.append({
            "account_id": account.id, "rule_id": rule.id, "seen_post_id": seen_id, "post_id": post.id,
            "post_url": post.url, "author_id": whose.id, "author_handle": handle_key(whose.handle),
            "kind": ActionKind(kind), "status": status, "reason": decision.reason,
            "text": text,
            "next_attempt_at": due,
            "created_at": self.now, "updated_at": self.now, "snapshot": snapshot, **timed,
        })
        if status != ActionStatus.skipped:
            view.recent_texts.append((self.now, text))
        log.info("decision", extra={"account_id": account.id, "rule_id": rule.id, "post_id": post.id,
                                    "status": decision.status, "reason": decision.reason})

    def _unknown_pds(self, post: Post, view: AccountView) -> bool:
        """Whether an author of the post is to be looked up for the account's PDS blocks, never having been."""
        if not view.blocked_pds or not self.lookups:
            return False
        return any(a is not None and a.id.lower() in self.lookups and a.id.lower() not in view.author_pds
                   for a in (post.author, post.reposted_author))

    async def write(self) -> None:
        """Insert the batch's action rows (a row that exists already inserts nothing: the unique
        (account, post, kind) row is the last line of defence); note the new `queued` ones."""
        if not self.rows:
            return
        for action_id, account_id, status, post_id, kind in await repository.insert_actions(self.session, self.rows):
            if status == ActionStatus.queued:
                self.queued[action_id] = account_id
                if (account_id, post_id, kind) in self.holding:
                    self.held[action_id] = self.holding[(account_id, post_id, kind)]


async def matched_through(session: AsyncSession) -> int:
    """The id of the last inbox post the matcher has read (0 before the first)."""
    return await repository.match_position(session)
