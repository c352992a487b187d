"""The people a rule names (`from:`, `to:`, `@` terms and a `users:` scope), resolved to their ids.

`Rule.authors` maps each name as the query or scope holds it (folded, without `@`) to
`{"id": platform id or None while pending, "handle": shown}`. A name keeps the id it got when the
rule was saved: editing the rule later does not re-resolve it (alice may have renamed, and her
old handle may now be someone else's). The matcher indexes the query and scope with the ids.
"""

from __future__ import annotations

from typing import Any

from app.engine.scope import Scope
from app.models import Account, Rule
from app.moderation.identity import clean_name, home_domain, resolve_names
from app.query import Node, parse
from app.query.authors import named_authors, with_author_ids


def rule_names(node: Node, scope: Scope) -> list[str]:
    """Every name the query's terms and the `users:` scope hold, in order, without repeats."""
    listed = scope.value if scope.kind == "users" else ()
    return list(dict.fromkeys([*named_authors(node), *listed]))


async def resolve_rule_authors(runtime, account: Account, node: Node, scope: Scope,
                               known: dict[str, Any] | None) -> dict[str, dict[str, Any]]:
    """The rule's `authors`: names resolved before keep their id; the others are looked up now
    (a 422 naming those nobody has; pending when the platform cannot be asked)."""
    known = known or {}
    names = rule_names(node, scope)
    kept = {name: known[name] for name in names if (known.get(name) or {}).get("id")}
    domain = home_domain(account)
    asked = {name: _cleaned(name, domain) for name in names if name not in kept}
    found = await resolve_names(runtime, account, asked.values(), what="rule")
    for name, cleaned in asked.items():
        who = found[cleaned]
        kept[name] = {"id": who.author_id, "handle": who.handle}
    return {name: kept[name] for name in names}


def any_pending(authors: dict[str, dict[str, Any]]) -> bool:
    """Whether some name of the rule is not resolved yet."""
    return any(not (entry or {}).get("id") for entry in authors.values())


def _cleaned(name: str, domain: str | None) -> str:
    try:
        return clean_name(name, domain=domain)
    except ValueError:
        return name


def author_ids(rule: Rule) -> dict[str, str]:
    """Name -> id for the rule's resolved names (pending ones are left out: they match by name)."""
    return {name: entry["id"] for name, entry in (rule.authors or {}).items() if (entry or {}).get("id")}


def indexed(rule: Rule, scope: Scope) -> tuple[Node, Scope]:
    """The rule's query and scope as the index and decisions use them: names replaced by ids."""
    ids = author_ids(rule)
    node = with_author_ids(parse(rule.query, scoped=scope.is_set), ids)
    if scope.kind == "users" and ids:
        scope = Scope("users", tuple(dict.fromkeys(ids.get(name, name).lower() for name in scope.value)))
    return node, scope
