"""A post folded once into what rule terms are tested against.

The index reads the post's *keys*, every fact a rule can test by presence: the tokens (bare),
pairs of consecutive Han/kana tokens (`ab`, see `cjk_pairs`), and `#tag`, `@mention`,
`@id`, `from:handle`, `from:id`, `to:handle`, `to:id`, `url:host` (the host and each parent domain), `lang:xx`
(and its primary subtag), `is:…` and `has:…` where they hold, and `label:…` of the post's and its
author's labels. Tokens are letters and digits only, so they never collide with the prefixed keys.
They are kept as two lists, `tokens` and `extra_keys` (the C loop reads them as they are); `keys`
is their set, made on first use.

The reference evaluator reads the separate sets (`hashtags`, `mentions`, ...), computed from the
post on first use, independently of `keys`; the property test checks that the two agree.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from functools import cached_property

from app.platforms.base import Post
from app.query.native import native
from app.query.tokens import (
    CACHE_MAX,
    cjk_pairs,
    fold_handle,
    has_cjk,
    host_suffixes,
    tokenize,
    url_host,
)


class PreparedPost:
    """The post's folded tokens and keys, and its other facts on demand. Read-only."""

    def __init__(self, post: Post):
        self.post = post
        self.tokens: list[str] = tokenize(post.text)
        self.followers: int | None = post.author.followers_count
        extra_keys, author_keys = _post_keys(post, self.tokens)
        # every key but the tokens, repeats possible (the index's C loop reads the two lists)
        self.extra_keys: list[str] = extra_keys
        # the post's `from:` keys, distinct: the index files them in tables of their own
        self.author_keys: tuple[str, ...] = author_keys

    @cached_property
    def keys(self) -> set[str]:
        """Every key of the post: its tokens and the others."""
        return set(self.tokens).union(self.extra_keys)

    @cached_property
    def token_set(self) -> frozenset[str]:
        """The distinct tokens of the text."""
        return frozenset(self.tokens)

    @cached_property
    def hashtags(self) -> frozenset[str]:
        """The post's hashtags, folded, without `#`."""
        return frozenset(fold_handle(tag) for tag in self.post.hashtags)

    @cached_property
    def mentions(self) -> frozenset[str]:
        """The handles and ids of the authors the post mentions, folded, without `@`."""
        return frozenset(fold_handle(name) for name in (*self.post.mentions, *self.post.mention_ids))

    @cached_property
    def authors(self) -> frozenset[str]:
        """The author's folded handle and id."""
        return frozenset((fold_handle(self.post.author.handle), fold_handle(self.post.author.id)))

    @cached_property
    def reply_to(self) -> frozenset[str]:
        """The folded handle and id of the author replied to, where known."""
        names = (self.post.reply_to_author, self.post.reply_to_author_id)
        return frozenset(fold_handle(name) for name in names if name)

    @cached_property
    def langs(self) -> frozenset[str]:
        """The language and its primary subtag: `pt-BR` -> {`pt-br`, `pt`}; empty when unknown."""
        return frozenset(key.removeprefix("lang:") for key in _lang_keys(self.post.lang))

    @cached_property
    def flags(self) -> frozenset[str]:
        """The `is:`/`has:` terms that hold."""
        return frozenset(_flags(self.post))

    @cached_property
    def labels(self) -> frozenset[str]:
        """The labels on the post and on its author, folded."""
        return frozenset(fold_handle(v) for v in (*self.post.labels, *(self.post.author.labels or ())))

    @cached_property
    def hosts(self) -> frozenset[str]:
        """Every host the post links to, with all their parent domains."""
        hosts = (url_host(url) for url in self.post.urls)
        return frozenset(suffix for host in hosts if host for suffix in host_suffixes(host))

    def has_phrase(self, phrase: tuple[str, ...]) -> bool:
        """Whether the tokens of `phrase` occur consecutively, in order."""
        tokens, first, size = self.tokens, phrase[0], len(phrase)
        start = 0
        try:
            while True:
                start = tokens.index(first, start)
                if tuple(tokens[start : start + size]) == phrase:
                    return True
                start += 1
        except ValueError:
            return False


def prepare(post: Post | PreparedPost) -> PreparedPost:
    """The prepared view of a post (returned as is when already prepared)."""
    return post if isinstance(post, PreparedPost) else PreparedPost(post)


# Memos of raw value -> key: handles, tags and hosts repeat from post to post. Bounded.
_TAGS: dict[str, str] = {}
_MENTIONS: dict[str, str] = {}
_FROM: dict[str, str] = {}
_TO: dict[str, str] = {}
_LANGS: dict[str | None, tuple[str, ...]] = {}
_FLAGS: dict[tuple[bool, ...], tuple[str, ...]] = {}
_HOSTS: dict[str, tuple[str, ...]] = {}
_LABELS: dict[str, str] = {}
_NETLOC_RE = re.compile(r"(?:[A-Za-z][A-Za-z0-9+.-]*:)?//([^/?#\s]*)")  # fixed; linear


def _post_keys_py(post: Post, tokens: list[str]) -> tuple[list[str], tuple[str, ...]]:
    """The post's keys other than its tokens (repeats possible), and its distinct `from:` keys."""
    keys: list[str] = []
    if has_cjk(post.text):
        keys += cjk_pairs(tokens)
    author, hashtags, mentions, urls = post.author, post.hashtags, post.mentions, post.urls
    if hashtags:
        keys += [_TAGS.get(tag) or _remember(_TAGS, "#", tag) for tag in hashtags]
    if mentions:
        keys += [_MENTIONS.get(m) or _remember(_MENTIONS, "@", m) for m in mentions]
    mention_ids = post.mention_ids
    if mention_ids:
        keys += [_MENTIONS.get(m) or _remember(_MENTIONS, "@", m) for m in mention_ids]
    handle, author_id = author.handle, author.id
    by_handle = _FROM.get(handle) or _remember(_FROM, "from:", handle)
    by_id = _FROM.get(author_id) or _remember(_FROM, "from:", author_id)
    keys += (by_handle, by_id)
    reply_to = post.reply_to_author
    if reply_to:
        keys.append(_TO.get(reply_to) or _remember(_TO, "to:", reply_to))
    reply_to_id = post.reply_to_author_id
    if reply_to_id:
        keys.append(_TO.get(reply_to_id) or _remember(_TO, "to:", reply_to_id))
    lang = post.lang
    found = _LANGS.get(lang)
    keys += _lang_keys(lang) if found is None else found
    keys += _flags(post)
    labels, author_labels = post.labels, author.labels
    if labels:
        keys += [_LABELS.get(v) or _remember(_LABELS, "label:", v) for v in labels]
    if author_labels:
        keys += [_LABELS.get(v) or _remember(_LABELS, "label:", v) for v in author_labels]
    if urls:
        keys += [key for url in urls for key in _host_keys(url)]
    return keys, (by_handle,) if by_handle == by_id else (by_handle, by_id)


def _remember(memo: dict[str, str], prefix: str, raw: str) -> str:
    if len(memo) >= CACHE_MAX:
        memo.clear()
    key = memo[raw] = prefix + fold_handle(raw)
    return key


def _lang_keys(lang: str | None) -> tuple[str, ...]:
    """`pt-BR` -> (`lang:pt-br`, `lang:pt`): a rule's `lang:pt` holds for every variety of pt."""
    found = _LANGS.get(lang)
    if found is None:
        parts = (lang or "").strip().lower().replace("_", "-").split("-")
        found = tuple("lang:" + "-".join(parts[:i]) for i in range(len(parts), 0, -1)) if lang else ()
        if len(_LANGS) < 10_000:  # language tags are few; a flood of junk ones is not kept
            _LANGS[lang] = found
    return found


def _flags(post: Post) -> tuple[str, ...]:
    """The `is:`/`has:` terms that hold; an unknown (None) field adds nothing."""
    state = (
        post.is_reply is True, post.is_repost is True, post.is_quote is True, post.author.is_bot is True,
        bool(post.urls), bool(post.media_count), bool(post.hashtags), bool(post.mentions),
        bool(post.content_warning), post.sensitive is True,
    )
    found = _FLAGS.get(state)
    if found is None:
        found = _FLAGS[state] = tuple(name for name, on in zip(_FLAG_NAMES, state, strict=True) if on)
    return found


_FLAG_NAMES = ("is:reply", "is:repost", "is:quote", "is:bot", "has:links", "has:media", "has:hashtags", "has:mentions",
               "has:cw", "is:sensitive")


def _host_keys(url: str) -> tuple[str, ...]:
    """`url:` keys of a link's host and its parent domains."""
    found = _NETLOC_RE.match(url.strip())
    netloc = found.group(1) if found else url.strip().split("/", 1)[0]
    keys = _HOSTS.get(netloc)
    if keys is None:
        host = url_host("//" + netloc)
        keys = tuple("url:" + suffix for suffix in host_suffixes(host)) if host else ()
        if len(_HOSTS) >= CACHE_MAX:
            _HOSTS.clear()
        _HOSTS[netloc] = keys
    return keys


_post_keys: Callable[[Post, list[str]], tuple[list[str], tuple[str, ...]]] = _post_keys_py
if native is not None:  # the same in C (app/query/_native.c), when it is built
    native.set_key_context(_TAGS, _MENTIONS, _FROM, _TO, _LANGS, _remember, _lang_keys, _host_keys, _FLAG_NAMES,
                           _LABELS)
    _post_keys = native.post_keys
