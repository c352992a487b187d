"""A post folded once into the sets that rule terms are tested against.

The reference evaluator, `explain` and the index all read a PreparedPost, so that a post is
tokenized once however many rules look at it.
"""

from __future__ import annotations

from app.platforms.base import Post
from app.query.tokens import fold_handle, host_suffixes, tokenize, url_host


class PreparedPost:
    """The post's folded tokens, tags, handles, language, kinds and hosts. Read-only."""

    __slots__ = (
        "post", "tokens", "token_set", "hashtags", "mentions", "authors", "reply_to",
        "langs", "flags", "followers", "_hosts",
    )

    def __init__(self, post: Post):
        self.post = post
        self.tokens: list[str] = tokenize(post.text)
        self.token_set: frozenset[str] = frozenset(self.tokens)
        self.hashtags: frozenset[str] = frozenset(map(fold_handle, post.hashtags)) if post.hashtags else _NONE
        self.mentions: frozenset[str] = frozenset(map(fold_handle, post.mentions)) if post.mentions else _NONE
        author = post.author
        self.authors: frozenset[str] = frozenset((fold_handle(author.handle), fold_handle(author.id)))
        self.reply_to: str | None = fold_handle(post.reply_to_author) if post.reply_to_author else None
        self.langs: frozenset[str] = _lang_keys(post.lang)
        self.flags: frozenset[str] = _flags(post)
        self.followers: int | None = author.followers_count
        self._hosts: frozenset[str] | None = None

    @property
    def hosts(self) -> frozenset[str]:
        """Every host the post links to, with all their parent domains (computed on first use)."""
        if self._hosts is None:
            hosts = (url_host(url) for url in self.post.urls)
            self._hosts = frozenset(suffix for host in hosts if host for suffix in host_suffixes(host))
        return self._hosts

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


_NONE: frozenset[str] = frozenset()
_LANGS: dict[str | None, frozenset[str]] = {}


def _lang_keys(lang: str | None) -> frozenset[str]:
    """`pt-BR` -> {`pt-br`, `pt`}: a rule's `lang:pt` holds for every variety of pt."""
    found = _LANGS.get(lang)
    if found is None:
        parts = (lang or "").strip().lower().replace("_", "-").split("-")
        found = frozenset("-".join(parts[:i]) for i in range(1, len(parts) + 1)) if lang else _NONE
        if len(_LANGS) < 10_000:  # language tags are few; a flood of junk ones is not kept
            _LANGS[lang] = found
    return found


def _flags(post: Post) -> frozenset[str]:
    """The `is:`/`has:` terms that hold; an unknown (None) field adds nothing."""
    key = (
        post.is_reply is True,
        post.is_repost is True,
        post.is_quote is True,
        post.author.is_bot is True,
        not post.urls,
        not post.media_count,
        not post.hashtags,
        not post.mentions,
    )
    found = _FLAGS.get(key)
    if found is None:
        names = ("is:reply", "is:repost", "is:quote", "is:bot")
        found = [name for name, on in zip(names, key[:4]) if on]
        found += [name for name, off in zip(_HAS, key[4:]) if not off]
        found = _FLAGS[key] = frozenset(found)
    return found


_HAS = ("has:links", "has:media", "has:hashtags", "has:mentions")
_FLAGS: dict[tuple[bool, ...], frozenset[str]] = {}
