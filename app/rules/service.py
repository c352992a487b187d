"""Rules: validated by the rule language before they are stored; every change is audited."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from app.audit import before_after, record
from app.auth.caller import Caller
from app.engine.scope import Scope, ScopeError, parse_scope
from app.errors import Invalid, NotFound
from app.models import Account, ActionKind, Rule
from app.platforms.base import Post
from app.platforms.registry import get_platform
from app.query import QuerySyntaxError, explain, normalize, parse
from app.rules import repository
from app.rules.authors import any_pending, resolve_rule_authors
from app.rules.schemas import ExplainResult, QueryError, RuleCreate, RuleUpdate, ValidateResult


def checked_scope(text: str) -> Scope:
    """The parsed scope, or a 422 naming the problem."""
    try:
        return parse_scope(text)
    except ScopeError as exc:
        raise Invalid({"field": "scope", "message": str(exc)}, error="invalid scope") from exc


def checked_query(query: str, scope: Scope) -> str:
    """The normalized query, or a 422 with the message and the character position of the fault."""
    try:
        return normalize(parse(query, scoped=scope.is_set))
    except QuerySyntaxError as exc:
        raise Invalid({"field": "query", "message": exc.message, "position": exc.position, "query": query},
                      error="invalid query") from exc


def validated(query: str, scope_text: str) -> ValidateResult:
    """The query checked as a rule with this scope would check it: valid with its normalized form, or the
    fault's message and position (a bad scope is a 422, as on save)."""
    scope = checked_scope(scope_text)
    try:
        return ValidateResult(valid=True, normalized=checked_query(query, scope))
    except Invalid as exc:
        return ValidateResult(valid=False, error=QueryError(message=exc.detail["message"],
                                                            position=exc.detail["position"]))


def explained(query: str, scope_text: str, post: Post) -> ExplainResult:
    """Which terms of the query held for the post, in the order of the query (422 for a bad query)."""
    scope = checked_scope(scope_text)
    checked_query(query, scope)
    return ExplainResult.model_validate(explain(parse(query, scoped=scope.is_set), post).to_dict())


def _check_action(account: Account, action: str, template: str | None) -> None:
    if action == ActionKind.like and not get_platform(account.platform).can_like:
        raise Invalid(f"{account.platform} does not allow automated likes", error="action not allowed")
    if action == ActionKind.quote and not (template or "").strip():
        raise Invalid("a quote rule needs a quote_template, e.g. 'Worth a read: {url}'", error="invalid rule")


async def create(session: AsyncSession, *, runtime, account: Account, data: RuleCreate, caller: Caller) -> Rule:
    """Add a rule to an account; the people it names are resolved to their ids."""
    scope = checked_scope(data.scope)
    normalized = checked_query(data.query, scope)
    _check_action(account, data.action, data.quote_template)
    authors = await resolve_rule_authors(runtime, account, parse(data.query, scoped=scope.is_set), scope, None)
    rule = Rule(account_id=account.id, normalized=normalized, **data.model_dump(exclude={"scope"}), scope=str(scope),
                authors=authors, authors_pending=any_pending(authors))
    session.add(rule)
    await session.flush()
    await record(session, caller, "rule.create", target_type="rule", target_id=rule.id, account_id=account.id,
                 detail=data.model_dump())
    return rule


async def get(session: AsyncSession, *, rule_id: int) -> Rule:
    """The rule, or 404."""
    rule = await repository.get(session, rule_id)
    if rule is None:
        raise NotFound(f"rule {rule_id} not found")
    return rule


async def update(session: AsyncSession, *, runtime, rule: Rule, account: Account, data: RuleUpdate,
                 caller: Caller) -> Rule:
    """Change a rule; the query and scope are checked together, names new to it are resolved."""
    changes = data.model_dump(exclude_unset=True)
    scope = checked_scope(changes.get("scope", rule.scope))
    query = changes.get("query", rule.query)
    normalized = checked_query(query, scope)
    _check_action(account, changes.get("action", rule.action), changes.get("quote_template", rule.quote_template))
    authors = await resolve_rule_authors(runtime, account, parse(query, scoped=scope.is_set), scope, rule.authors)
    before = {key: getattr(rule, key) for key in changes}
    for key, value in changes.items():
        setattr(rule, key, value)
    rule.scope, rule.normalized, rule.authors = str(scope), normalized, authors
    rule.authors_pending = any_pending(authors)
    await record(session, caller, "rule.update", target_type="rule", target_id=rule.id, account_id=rule.account_id,
                 detail=before_after(before, {key: getattr(rule, key) for key in changes}))
    return rule


async def delete(session: AsyncSession, *, rule: Rule, caller: Caller) -> None:
    """Remove a rule (its past actions stay in the log)."""
    await record(session, caller, "rule.delete", target_type="rule", target_id=rule.id, account_id=rule.account_id,
                 detail={"name": rule.name, "query": rule.query})
    await session.delete(rule)
