"""Text folding shared by posts and queries: case-folded, accents stripped, split into tokens.

Posts and queries go through the very same functions, so whatever a choice below costs in
precision, it costs it on both sides alike and a query word always finds its own spelling.

- Case and accents: NFKD, casefold, then every combining mark is dropped (`Café` -> `cafe`,
  `ﬁ` -> `fi`, `Straße` -> `strasse`).
- Tokens are runs of letters and digits; anything else separates (`Espresso-based` ->
  `espresso`, `based`; `#coffee` -> `coffee`; `@alice` -> `alice`).
- Links in the text (`http://…`, `https://…`, `www.…`) are dropped before splitting: they are
  matched with `url:` against the post's `urls`, and would otherwise add junk tokens such as
  `https`, `www`, `com` or tracking ids to every post.
- Han ideographs and kana are one token per character (these scripts put no spaces between
  words), so a query word written in them becomes a phrase of its characters and matches
  wherever that run of characters occurs. Thai and other unspaced scripts stay one token per run.
"""

from __future__ import annotations

import re
import string
import unicodedata
from array import array
from functools import cache
from urllib.parse import urlsplit

from app.query.native import Native, native

_CJK = "\u3040-\u30ff\u31f0-\u31ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0003134f"
# Fixed patterns, never built from user input; none of them can backtrack.
_TOKEN_RE = re.compile(f"[{_CJK}]|[^\\W_{_CJK}]+")
_ASCII_TOKEN_RE = re.compile(r"[a-z0-9]+")
_LINK_RE = re.compile(r"(?:\b(?:https?|ftp)://|\bwww\.)\S*")
_CJK_RE = re.compile(f"[{_CJK}]")


@cache
def _marks_re() -> re.Pattern[str]:
    """A pattern of every combining mark (categories Mn, Mc, Me), built once on first use."""
    ranges: list[str] = []
    start = prev = -2
    for cp in [*range(0x20000), *range(0xE0000, 0xE1000)]:
        if unicodedata.category(chr(cp))[0] != "M":
            continue
        if cp != prev + 1:
            if start >= 0:
                ranges.append(_char_range(start, prev))
            start = cp
        prev = cp
    ranges.append(_char_range(start, prev))
    return re.compile("[" + "".join(ranges) + "]+")


def _char_range(first: int, last: int) -> str:
    """One regex character-class range, written with escapes."""
    return f"\\U{first:08x}" if first == last else f"\\U{first:08x}-\\U{last:08x}"


def fold(text: str) -> str:
    """Case-fold and strip accents, keeping every other character (for tags and handles)."""
    if text.isascii():
        return text.lower()
    text = unicodedata.normalize("NFKD", text).casefold()
    return _marks_re().sub("", text)


def tokenize(text: str) -> list[str]:
    """Split text into folded tokens of letters and digits, links left out.

    (Replaced below by the same in C, `app.query._native.tokenize`, when that is built.)
    """
    if text.isascii():
        return _split(text)
    tokens: list[str] = []
    known = _CHUNKS.get
    for chunk in text.split():  # whitespace always separates; the rest is done chunk by chunk
        if chunk.isascii():
            word = chunk.strip(_ASCII_PUNCTUATION)
            if word.isalnum() and "://" not in chunk and (len(word) != 3 or word.lower() != "www"):
                tokens.append(word.lower())
            elif word:
                tokens += _split(chunk)
            continue
        found = known(chunk)
        if found is None:
            found = _chunk_tokens(chunk)
        if " " in found:
            tokens += found.split(" ")
        elif found:
            tokens.append(found)
    return tokens


_ASCII_PUNCTUATION = string.punctuation
# Folding non-ASCII text (NFKD, marks) is the costly part, and words repeat so much that a memo
# of non-ASCII chunks saves most of it. Bounded: emptied when full; long chunks are not kept.
# A chunk's tokens are kept as one string, joined by spaces (tokens have none): a dict of
# strings only is not tracked by the cyclic GC, which would otherwise walk all its entries on
# every full collection (tens of ms once it is large, paid by whichever call triggers it).
_CHUNKS: dict[str, str] = {}
CACHE_MAX = 200_000
_CHUNK_KEEP_LENGTH = 40


def _chunk_tokens(chunk: str) -> str:
    """The tokens of one non-ASCII chunk joined by spaces, remembered."""
    if native is not None and not _FOLDS_SET:
        _set_folds(native)  # first non-ASCII text: the C tokenizer learns to fold most of it itself
    tokens = " ".join(_split(chunk))
    if len(chunk) <= _CHUNK_KEEP_LENGTH:
        if len(_CHUNKS) >= CACHE_MAX:
            _CHUNKS.clear()
        _CHUNKS[chunk] = tokens
    return tokens


def _split(text: str) -> list[str]:
    """The tokens of a text, computed (no memo)."""
    if text.isascii():
        text = text.lower()
        if "://" in text or "www." in text:
            text = _LINK_RE.sub(" ", text)
        return _ASCII_TOKEN_RE.findall(text)
    text = fold(text)
    if "://" in text or "www." in text:
        text = _LINK_RE.sub(" ", text)
    return _TOKEN_RE.findall(text)


def fold_handle(handle: str) -> str:
    """A handle or tag as compared: folded, without the leading `@` or `#`."""
    found = _HANDLES.get(handle)
    if found is None:
        found = fold(handle.strip().lstrip("@#"))
        if len(_HANDLES) >= CACHE_MAX:
            _HANDLES.clear()
        _HANDLES[handle] = found
    return found


_HANDLES: dict[str, str] = {}


def url_host(url: str) -> str | None:
    """The lower-case ASCII host of a URL (scheme optional), or None when it has none."""
    text = url.strip()
    if "://" not in text and not text.startswith("//"):
        text = "//" + text
    try:
        host = urlsplit(text).hostname
    except ValueError:
        return None
    return ascii_host(host.rstrip(".")) if host else None


def ascii_host(host: str) -> str:
    """A host name in its ASCII (punycode) form, so `bücher.de` equals `xn--bcher-kva.de`."""
    if host.isascii():
        return host.lower()
    found = _HOSTS.get(host)
    if found is None:
        try:
            found = host.encode("idna").decode("ascii")
        except UnicodeError:
            found = host.lower()
        if len(_HOSTS) >= CACHE_MAX:
            _HOSTS.clear()
        _HOSTS[host] = found
    return found


_HOSTS: dict[str, str] = {}


def host_suffixes(host: str) -> list[str]:
    """The host and every parent domain: `a.b.com` -> `a.b.com`, `b.com`, `com`."""
    labels = host.split(".")
    return [".".join(labels[i:]) for i in range(len(labels)) if labels[i]]


def has_cjk(text: str) -> bool:
    """Whether the text holds a Han ideograph or kana (tokens of one character each)."""
    return not text.isascii() and _CJK_RE.search(text) is not None


def _cjk_pairs_py(tokens: list[str] | tuple[str, ...]) -> list[str]:
    """`ab` for every two consecutive tokens that are both one Han or kana character.

    A word written in these scripts is a phrase of its characters, and single characters (kana
    above all) are common; a pair of them is rare, so the index anchors such phrases on pairs.
    A pair never equals a token: each of these characters is a token of its own.
    (`app.query._native.cjk_pairs` is the same in C, used when it is built.)
    """
    known = _IS_CJK.get
    flags = [len(token) == 1 and (known(token) or _is_cjk(token)) for token in tokens]
    return [
        first + second
        for first, second, one, two in zip(tokens, tokens[1:], flags, flags[1:], strict=False)
        if one and two
    ]


_IS_CJK: dict[str, bool] = {}


def _is_cjk(char: str) -> bool:
    found = _IS_CJK.get(char)
    if found is None:
        found = _CJK_RE.match(char) is not None
        if len(_IS_CJK) < CACHE_MAX:
            _IS_CJK[char] = found
    return found


_FOLD_RANGES = ((0, 0xA000), (0xAC00, 0xD7B0), (0xF900, 0xFB00), (0xFE00, 0x10000), (0x1F000, 0x1FB00))
_FOLD_WIDTH = 6


def fold_table() -> bytes:
    """How each code point of `_FOLD_RANGES` folds, for the C tokenizer.

    `_FOLD_WIDTH` native uint32 each: the length of the folded form, then the form, letters and
    digits of any script as they are, other non-ASCII characters written 0x01 (they only separate
    tokens, and do not end a link); 0xFFFFFFFF where the form holds non-ASCII whitespace or is
    too long: chunks with such characters, or with characters outside the ranges, are folded in
    Python.
    """
    table = array("I")
    for low, high in _FOLD_RANGES:
        for cp in range(low, high):
            char = chr(cp)
            if unicodedata.is_normalized("NFKD", char) and char.casefold() == char:  # most: fast
                folded = "" if unicodedata.category(char)[0] == "M" else char
            else:
                folded = unicodedata.normalize("NFKD", char).casefold()
                folded = "".join(c for c in folded if unicodedata.category(c)[0] != "M")  # = fold(char)
            foldable = not char.isspace() and len(folded) < _FOLD_WIDTH and all(
                c.isascii() or not c.isspace() for c in folded
            )
            keep = [c.isascii() or c.isalnum() or _CJK_RE.match(c) is not None for c in folded]  # Han/kana: all tokens
            form = [ord(c) if kept else 1 for c, kept in zip(folded, keep, strict=True)] if foldable else []
            table.extend([len(form) if foldable else 0xFFFFFFFF, *form, *[0] * (_FOLD_WIDTH - 1 - len(form))])
    return table.tobytes()


_tokenize_py = tokenize
_FOLDS_SET = False


def _set_folds(c: Native) -> None:
    """Give the C tokenizer its folding table (60-70 ms, so done at the first non-ASCII text)."""
    global _FOLDS_SET
    c.set_folds(fold_table())
    _FOLDS_SET = True


if native is not None:  # else the Python versions above
    _c = native
    cjk_pairs = _c.cjk_pairs

    def tokenize(text: str) -> list[str]:
        """Split text into folded tokens of letters and digits, links left out."""
        return _c.tokenize(text, _CHUNKS, _chunk_tokens)
else:
    cjk_pairs = _cjk_pairs_py


def is_word_char(char: str) -> bool:
    """Whether a character may appear inside a hashtag (letters, digits, marks, `_`)."""
    return char.isalnum() or char == "_" or unicodedata.category(char)[0] == "M"

