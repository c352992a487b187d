"""Filters: the account's checks after a rule matched. Unknown values never pass a check that needs them."""

from __future__ import annotations

from datetime import datetime, timedelta
from difflib import SequenceMatcher

from app.engine.view import FilterSettings
from app.platforms.base import Post
from app.query import tokenize

NEAR_DUPLICATE = 0.9
# Below this many characters only identical texts count: "ana studying late" and "ben studying
# late" are different posts, though 90% alike.
FUZZY_MIN_LENGTH = 40


def normalized_text(post: Post) -> str:
    """The text as duplicate detection sees it: tokens only, links dropped."""
    text = " ".join(w for w in post.text.split() if not w.startswith(("http://", "https://")))
    return " ".join(tokenize(text))


def filter_reason(f: FilterSettings, post: Post, now: datetime) -> str | None:
    """The first filter that stops `post`, as `filter: ...`, or None."""
    for check in (_kinds, _language, _followers, _age, _counts, _banned):
        reason = check(f, post, now)
        if reason:
            return f"filter: {reason}"
    return None


def _kinds(f: FilterSettings, post: Post, now: datetime) -> str | None:
    if f.exclude_replies and post.is_reply is not False:
        return "replies excluded" if post.is_reply else "replies excluded (unknown whether a reply)"
    if f.exclude_reposts and post.is_repost is not False:
        return "reposts excluded" if post.is_repost else "reposts excluded (unknown whether a repost)"
    if f.exclude_quotes and post.is_quote is not False:
        return "quotes excluded" if post.is_quote else "quotes excluded (unknown whether a quote)"
    return None


def _language(f: FilterSettings, post: Post, now: datetime) -> str | None:
    if not f.languages:
        return None
    lang = (post.lang or "").lower().split("-")[0]
    if not lang:
        return f"language unknown, wanted {', '.join(f.languages)}"
    return None if lang in f.languages else f"language {lang} not in {', '.join(f.languages)}"


def _followers(f: FilterSettings, post: Post, now: datetime) -> str | None:
    if f.min_followers is None:
        return None
    count = post.author.followers_count
    if count is None:
        return f"min_followers {f.min_followers}: author's follower count unknown"
    return None if count >= f.min_followers else f"min_followers {f.min_followers}: author has {count}"


def _age(f: FilterSettings, post: Post, now: datetime) -> str | None:
    if f.min_account_age_days is None:
        return None
    created = post.author.created_at
    if created is None:
        return f"min_account_age_days {f.min_account_age_days}: account age unknown"
    days = (now - created).days
    if days >= f.min_account_age_days:
        return None
    return f"min_account_age_days {f.min_account_age_days}: account is {days} days old"


def _counts(f: FilterSettings, post: Post, now: datetime) -> str | None:
    for name, limit, items in (
        ("max_hashtags", f.max_hashtags, post.hashtags),
        ("max_mentions", f.max_mentions, post.mentions),
        ("max_links", f.max_links, post.urls),
    ):
        if limit is not None and len(items) > limit:
            return f"{name} {limit}: post has {len(items)}"
    return None


def _banned(f: FilterSettings, post: Post, now: datetime) -> str | None:
    if not f.banned_words:
        return None
    tokens = " " + " ".join(tokenize(post.text)) + " "
    tags = {t.lower() for t in post.hashtags}
    for word in f.banned_words:
        needle = " ".join(tokenize(word))
        if needle and (f" {needle} " in tokens or needle in tags):
            return f"banned word {word!r}"
    return None


def duplicate_reason(f: FilterSettings, text: str, recent: list[tuple[datetime, str]], now: datetime) -> str | None:
    """`filter: duplicate text` when the same or nearly the same text went out within the window."""
    if not f.duplicate_window_minutes or not text:
        return None
    since = now - timedelta(minutes=f.duplicate_window_minutes)
    for when, other in recent:
        if when >= since and (other == text or _similar(text, other)):
            return f"filter: duplicate text (same as a post reposted within {f.duplicate_window_minutes} min)"
    return None


def _similar(a: str, b: str) -> bool:
    """Near-duplicates: a cheap length check first, then the ratio of matching characters."""
    if min(len(a), len(b)) < FUZZY_MIN_LENGTH or min(len(a), len(b)) / max(len(a), len(b)) < NEAR_DUPLICATE:
        return False
    return SequenceMatcher(None, a, b).ratio() >= NEAR_DUPLICATE
