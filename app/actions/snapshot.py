"""The snapshot an action keeps of what was decided on: the post, its author, the rule and the terms
that held. Written once, when the matcher inserts the action; pure (no database)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from app.platforms.base import Post
from app.query import Node, explain
from app.query.nodes import From, Mention, To, leaves
from app.query.normalize import term_text
from app.query.prepared import PreparedPost
from app.query.tokens import fold_handle

# Bounds on what one row keeps: the post's text is cut, and so is a long query's list of terms.
TEXT_MAX = 1000
NAME_MAX = 200
TERMS_MAX = 50
TERM_MAX = 200


@dataclass(frozen=True, slots=True)
class RuleText:
    """What a snapshot needs of a rule: its name, its query as indexed (people as their ids),
    and each such id's name as the rule was written, to show the terms as the organizer wrote them."""

    name: str
    node: Node
    names: Mapping[str, str] = field(default_factory=dict)


def rule_text(name: str, node: Node, author_ids: Mapping[str, str]) -> RuleText:
    """A RuleText from the rule's name, indexed query and resolved names (name -> platform id)."""
    return RuleText(name, node, {fold_handle(pid): who for who, pid in author_ids.items()})


def held_terms(rule: RuleText, post: Post | PreparedPost) -> list[str]:
    """The rule's terms that held for the post, in query order (`-word`: the word was absent)."""
    result = explain(rule.node, post)
    held = [text for text, term in zip(_shown(rule), result.terms, strict=True) if term.held]
    return [text[:TERM_MAX] for text in held[:TERMS_MAX]]


def _shown(rule: RuleText) -> list[str]:
    """Each term's text as explain walks them, with people by the name the rule gave them."""
    out = []
    for leaf, negated in leaves(rule.node):
        if isinstance(leaf, (From, To, Mention)) and leaf.handle in rule.names:
            leaf = type(leaf)(rule.names[leaf.handle], leaf.pos)
        out.append(("-" if negated else "") + term_text(leaf))
    return out


def snapshot_of(post: Post, rule: RuleText | None, terms: list[str]) -> dict[str, Any]:
    """The snapshot as stored (the shape of app/actions/schemas.py ActionSnapshot)."""
    whose = post.reposted_author or post.author  # the author whose post the action amplifies
    return {
        "text": post.text[:TEXT_MAX],
        "text_truncated": len(post.text) > TEXT_MAX,
        "media_count": post.media_count,
        "author_display_name": whose.display_name[:NAME_MAX] if whose.display_name else None,
        "author_followers": whose.followers_count,
        "rule_name": rule.name[:NAME_MAX] if rule else None,
        "terms": terms,
    }
