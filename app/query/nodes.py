"""The syntax tree of a rule query: immutable, hashable, compared without positions.

Every node keeps `pos`, the character index in the query where it starts, for error messages;
`pos` takes no part in equality, so `parse(normalize(q)) == parse(q)`.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True, slots=True)
class Word:
    """One token of the text, already folded."""

    token: str
    pos: int = field(default=0, compare=False)


@dataclass(frozen=True, slots=True)
class Phrase:
    """Two or more tokens, consecutive and in this order."""

    tokens: tuple[str, ...]
    pos: int = field(default=0, compare=False)


@dataclass(frozen=True, slots=True)
class Hashtag:
    """A hashtag of the post (folded, without `#`)."""

    tag: str
    pos: int = field(default=0, compare=False)


@dataclass(frozen=True, slots=True)
class Mention:
    """A handle the post mentions (folded, without `@`)."""

    handle: str
    pos: int = field(default=0, compare=False)


@dataclass(frozen=True, slots=True)
class From:
    """The author's handle or id."""

    handle: str
    pos: int = field(default=0, compare=False)


@dataclass(frozen=True, slots=True)
class To:
    """The author the post replies to."""

    handle: str
    pos: int = field(default=0, compare=False)


@dataclass(frozen=True, slots=True)
class Url:
    """A link to this host or one of its sub-hosts."""

    host: str
    pos: int = field(default=0, compare=False)


@dataclass(frozen=True, slots=True)
class Lang:
    """The post's language: this code, or a more specific one (`pt` holds for `pt-br`)."""

    code: str
    pos: int = field(default=0, compare=False)


@dataclass(frozen=True, slots=True)
class Is:
    """A kind of post: reply, repost, quote, bot, or sensitive (marked so by its author or platform)."""

    kind: str
    pos: int = field(default=0, compare=False)


@dataclass(frozen=True, slots=True)
class Has:
    """The post carries links, media, hashtags, mentions or a content warning (cw)."""

    kind: str
    pos: int = field(default=0, compare=False)


@dataclass(frozen=True, slots=True)
class Label:
    """A label on the post or on its author (Bluesky's labelers, self-labels), folded."""

    value: str
    pos: int = field(default=0, compare=False)


@dataclass(frozen=True, slots=True)
class Followers:
    """The author's followers count: at least `low`, and at most `high` when given."""

    low: int
    high: int | None = None
    pos: int = field(default=0, compare=False)


@dataclass(frozen=True, slots=True)
class Not:
    """The negation of one term or group."""

    child: Node
    pos: int = field(default=0, compare=False)


@dataclass(frozen=True, slots=True)
class And:
    """All of two or more children (never nested directly in another And)."""

    children: tuple[Node, ...]
    pos: int = field(default=0, compare=False)


@dataclass(frozen=True, slots=True)
class Or:
    """Any of two or more children (never nested directly in another Or)."""

    children: tuple[Node, ...]
    pos: int = field(default=0, compare=False)


@dataclass(frozen=True, slots=True)
class MatchAll:
    """The empty query of a rule scoped to a set of people: everything they post."""

    pos: int = field(default=0, compare=False)


Leaf = Word | Phrase | Hashtag | Mention | From | To | Url | Lang | Is | Has | Label | Followers
Node = Leaf | Not | And | Or | MatchAll

# Terms that can stand alone; the others only narrow.
ANCHOR_TYPES = (Word, Phrase, Hashtag, Mention, From, To, Url)
NARROWING_TYPES = (Lang, Is, Has, Label, Followers)
# The keys of narrowing terms: common in posts (or, for labels, meant to narrow), so rarely decisive.
NARROWING_PREFIXES = ("lang:", "is:", "has:", "label:")
LEAF_TYPES = ANCHOR_TYPES + NARROWING_TYPES


def leaves(node: Node) -> list[tuple[Leaf, bool]]:
    """Every leaf in query order, with whether it sits under an odd number of negations."""
    out: list[tuple[Leaf, bool]] = []
    _walk(node, False, out)
    return out


def _walk(node: Node, negated: bool, out: list[tuple[Leaf, bool]]) -> None:
    if isinstance(node, Not):
        _walk(node.child, not negated, out)
    elif isinstance(node, (And, Or)):
        for child in node.children:
            _walk(child, negated, out)
    elif not isinstance(node, MatchAll):
        out.append((node, negated))


def has_anchor(node: Node) -> bool:
    """Whether every way for the node to hold needs a positive stand-alone term."""
    if isinstance(node, ANCHOR_TYPES):
        return True
    if isinstance(node, And):
        return any(has_anchor(child) for child in node.children)
    if isinstance(node, Or):
        return all(has_anchor(child) for child in node.children)
    return False


def positive_hashtags(node: Node) -> list[str]:
    """The hashtags a match can rest on (not negated), in query order, without repeats."""
    return list(dict.fromkeys(leaf.tag for leaf, negated in leaves(node) if isinstance(leaf, Hashtag) and not negated))


def positive_authors(node: Node) -> list[str]:
    """The `from:` handles or ids a match can rest on (not negated), in query order, without repeats."""
    return list(dict.fromkeys(leaf.handle for leaf, negated in leaves(node) if isinstance(leaf, From) and not negated))
