"""The people a query names (`from:`, `to:`, `@mention`) and the query with them resolved to ids.

A rule is stored as typed; the service resolves each name it names to the platform's stable id
when the rule is saved (see docs/decisions.md, "Who an author is"). The index is then given the
tree with those names replaced by the ids, so that `from:alice` keeps matching alice after she
renames and never matches whoever takes her old handle; posts carry the ids (`from:<id>`,
`to:<id>`, `@<id>` keys). A name not (yet) resolved stays as typed and matches by handle.
"""

from __future__ import annotations

from collections.abc import Mapping

from app.query.nodes import And, From, Mention, Node, Not, Or, To
from app.query.tokens import fold_handle

_NAMED = (From, To, Mention)


def named_authors(node: Node) -> list[str]:
    """Every handle or id the query's `from:`, `to:` and `@` terms name (negated too), in order."""
    if isinstance(node, Not):
        return named_authors(node.child)
    if isinstance(node, (And, Or)):
        return list(dict.fromkeys(name for child in node.children for name in named_authors(child)))
    return [node.handle] if isinstance(node, _NAMED) else []


def with_author_ids(node: Node, ids: Mapping[str, str]) -> Node:
    """The query with each named author found in `ids` (folded name -> platform id) replaced by the id."""
    if not ids:
        return node
    if isinstance(node, Not):
        return Not(with_author_ids(node.child, ids), node.pos)
    if isinstance(node, (And, Or)):
        children = tuple(dict.fromkeys(with_author_ids(child, ids) for child in node.children))
        return children[0] if len(children) == 1 else type(node)(children, node.pos)  # two names, one person
    if isinstance(node, _NAMED) and node.handle in ids:
        return type(node)(fold_handle(ids[node.handle]), node.pos)
    return node
