"""The canonical text of a query: one spelling per tree, parsed back to an equal tree."""

from __future__ import annotations

from app.query.nodes import (
    And,
    Followers,
    From,
    Has,
    Hashtag,
    Is,
    Label,
    Lang,
    MatchAll,
    Mention,
    Node,
    Not,
    Or,
    Phrase,
    To,
    Url,
    Word,
)


def normalize(node: Node) -> str:
    """The canonical query text of a tree: folded terms, single spaces, only the needed parentheses."""
    if isinstance(node, Or):
        return " OR ".join(normalize(child) for child in node.children)
    if isinstance(node, And):
        return " ".join(_grouped(child) if isinstance(child, Or) else normalize(child) for child in node.children)
    if isinstance(node, Not):
        child = node.child
        return "-" + (_grouped(child) if isinstance(child, (And, Or)) else normalize(child))
    return term_text(node)


def _grouped(node: Node) -> str:
    return f"({normalize(node)})"


def term_text(node: Node) -> str:
    """The canonical text of one leaf (`#coffee`, `"latte art"`, `followers_count:10..20`)."""
    match node:
        case Word(token=token):
            return token
        case Phrase(tokens=tokens):
            return '"' + " ".join(tokens) + '"'
        case Hashtag(tag=tag):
            return f"#{tag}"
        case Mention(handle=handle):
            return f"@{handle}"
        case From(handle=handle):
            return f"from:{handle}"
        case To(handle=handle):
            return f"to:{handle}"
        case Url(host=host):
            return f"url:{host}"
        case Lang(code=code):
            return f"lang:{code}"
        case Is(kind=kind):
            return f"is:{kind}"
        case Has(kind=kind):
            return f"has:{kind}"
        case Label(value=value):
            return f"label:{value}"
        case Followers(low=low, high=high):
            return f"followers_count:{low}" + ("" if high is None else f"..{high}")
        case MatchAll():
            return ""
    raise TypeError(f"not a query node: {node!r}")
