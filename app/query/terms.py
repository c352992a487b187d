"""Turning one bare term or quoted phrase of a query into a leaf node, checking its value."""

from __future__ import annotations

from collections.abc import Callable

from app.query.errors import QuerySyntaxError
from app.query.nodes import (
    Followers,
    From,
    Has,
    Hashtag,
    Is,
    Label,
    Lang,
    Leaf,
    Mention,
    Phrase,
    To,
    Url,
    Word,
)
from app.query.tokens import ascii_host, fold, is_word_char, tokenize

IS_KINDS = {"reply": "reply", "repost": "repost", "retweet": "repost", "quote": "quote", "bot": "bot",
            "sensitive": "sensitive"}
HAS_KINDS = ("links", "media", "hashtags", "mentions", "cw")
_LABEL_MAX = 128  # com.atproto.label.defs#label: val maxLength
_HANDLE_EXTRA = "_.-@"
_MAX_DIGITS = 12


def words_node(text: str, pos: int, what: str) -> Word | Phrase:
    """A word, or a phrase when the text holds several tokens (`Espresso-based`)."""
    tokens = tokenize(text)
    if not tokens:
        raise QuerySyntaxError(f"{what} has no letters or digits to match", pos)
    if len(tokens) == 1:
        return Word(tokens[0], pos)
    return Phrase(tuple(tokens), pos)


def term_node(text: str, pos: int) -> Leaf:
    """The leaf for a bare term: `#tag`, `@handle`, `name:value` or a word."""
    if text[0] == "#":
        return Hashtag(_hashtag(text[1:], pos + 1), pos)
    if text == "@":
        raise QuerySyntaxError("'@' needs a handle after it", pos)
    if text[0] == "@":
        return Mention(_handle(text[1:], pos + 1, allow_colon=False), pos)
    colon = text.find(":")
    name = text[:colon]
    if colon > 0 and name.isascii() and name.replace("_", "").isalpha():
        return _operator(name.lower(), text[colon + 1 :], pos, pos + colon + 1)
    return words_node(text, pos, f"'{text}'")


def _operator(name: str, value: str, pos: int, vpos: int) -> Leaf:
    """An `name:value` operator."""
    build = _OPERATORS.get(name)
    if build is None:
        known = ", ".join(f"{op}:" for op in _OPERATORS)
        raise QuerySyntaxError(
            f"unknown operator '{name}:' (known: {known}); to match the text, put it in quotes", pos
        )
    if not value:
        raise QuerySyntaxError(f"'{name}:' needs a value", vpos)
    return build(value, vpos, pos)


def _hashtag(value: str, vpos: int) -> str:
    """A hashtag's folded text."""
    if not value:
        raise QuerySyntaxError("'#' needs a hashtag after it", vpos - 1)
    for i, char in enumerate(value):
        if not all(is_word_char(c) for c in fold(char)):
            raise QuerySyntaxError(f"'{char}' cannot be part of a hashtag", vpos + i)
    return fold(value)


def _handle(value: str, vpos: int, *, allow_colon: bool) -> str:
    """A handle's folded text (`@` optional for from:/to:; ids such as `did:plc:…` allowed there)."""
    if value.startswith("@") and allow_colon:
        value, vpos = value[1:], vpos + 1
    if not value:
        raise QuerySyntaxError("a handle is missing", vpos)
    extra = _HANDLE_EXTRA + (":" if allow_colon else "")
    for i, char in enumerate(value):
        if not all(c.isalnum() or c in extra for c in fold(char)) or (i == 0 and char in ".-@:"):
            raise QuerySyntaxError(f"'{char}' cannot be part of a handle here", vpos + i)
    if value[-1] in ".-@:":
        raise QuerySyntaxError(f"a handle cannot end with '{value[-1]}'", vpos + len(value) - 1)
    return fold(value)


def _from(value: str, vpos: int, pos: int) -> Leaf:
    return From(_handle(value, vpos, allow_colon=True), pos)


def _to(value: str, vpos: int, pos: int) -> Leaf:
    return To(_handle(value, vpos, allow_colon=True), pos)


def _lang(value: str, vpos: int, pos: int) -> Leaf:
    parts = value.lower().replace("_", "-").split("-")
    if not (2 <= len(parts[0]) <= 3 and parts[0].isascii() and parts[0].isalpha()):
        raise QuerySyntaxError("lang: takes a language code such as en, it or pt-BR", vpos)
    offset = len(parts[0])
    for part in parts[1:]:
        if not (1 <= len(part) <= 8 and part.isascii() and part.isalnum()):
            raise QuerySyntaxError("malformed language subtag", vpos + offset + 1)
        offset += len(part) + 1
    return Lang("-".join(parts), pos)


def _is(value: str, vpos: int, pos: int) -> Leaf:
    kind = IS_KINDS.get(value.lower())
    if kind is None:
        raise QuerySyntaxError("is: takes reply, repost, retweet, quote, bot or sensitive", vpos)
    return Is(kind, pos)


def _has(value: str, vpos: int, pos: int) -> Leaf:
    if value.lower() not in HAS_KINDS:
        raise QuerySyntaxError("has: takes links, media, hashtags, mentions or cw", vpos)
    return Has(value.lower(), pos)


def _label(value: str, vpos: int, pos: int) -> Leaf:
    """A label value: ASCII letters, digits and `-` (`!` first for a system label such as `!warn`)."""
    if len(value) > _LABEL_MAX:
        raise QuerySyntaxError(f"a label is at most {_LABEL_MAX} characters", vpos)
    for i, char in enumerate(value):
        if not (char.isascii() and (char.isalnum() or char in "-_" or (char == "!" and i == 0))):
            raise QuerySyntaxError(f"'{char}' cannot be part of a label (letters, digits, '-')", vpos + i)
    if value == "!":
        raise QuerySyntaxError("'label:!' needs a label name after '!'", vpos)
    return Label(value.lower(), pos)


def _url(value: str, vpos: int, pos: int) -> Leaf:
    scheme = value.find("://")
    if scheme >= 0:
        value, vpos = value[scheme + 3 :], vpos + scheme + 3
    value = value.rstrip("/") if value.count("/") == 1 and value.endswith("/") else value
    for i, char in enumerate(value):
        if not (char.isalnum() or char in ".-"):
            raise QuerySyntaxError("url: takes a host name such as example.com (no path, no port)", vpos + i)
    labels = value.rstrip(".").split(".")
    if not value or not all(labels) or any(label[0] == "-" or label[-1] == "-" for label in labels):
        raise QuerySyntaxError("url: takes a host name such as example.com", vpos)
    return Url(ascii_host(value.rstrip(".")), pos)


def _followers(value: str, vpos: int, pos: int) -> Leaf:
    low_text, dots, high_text = value.partition("..")
    low = _count(low_text, vpos)
    if not dots:
        return Followers(low, None, pos)
    high_pos = vpos + len(low_text) + 2
    high = _count(high_text, high_pos)
    if high < low:
        raise QuerySyntaxError(f"empty range: {low} is more than {high}", vpos)
    return Followers(low, high, pos)


def _count(text: str, pos: int) -> int:
    """A non-negative whole number of at most a dozen digits."""
    if not text:
        raise QuerySyntaxError("a number is missing", pos)
    for i, char in enumerate(text):
        if not ("0" <= char <= "9"):
            raise QuerySyntaxError(f"'{char}' is not a digit; write N or N..M", pos + i)
    if len(text) > _MAX_DIGITS:
        raise QuerySyntaxError("number too large", pos)
    return int(text)


_OPERATORS: dict[str, Callable[[str, int, int], Leaf]] = {
    "from": _from,
    "to": _to,
    "lang": _lang,
    "is": _is,
    "has": _has,
    "label": _label,
    "url": _url,
    "followers_count": _followers,
}
