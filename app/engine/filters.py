"""Filters: the account's checks after a rule matched. Unknown values never pass a check that needs them."""

from __future__ import annotations

from datetime import datetime, timedelta
from difflib import SequenceMatcher

from app.engine.view import FilterSettings, MarkMode
from app.platforms.base import Post
from app.query import tokenize

NEAR_DUPLICATE = 0.9
# Below this many characters only identical texts count: "ana studying late" and "ben studying
# late" are different posts, though 90% alike.
FUZZY_MIN_LENGTH = 40
# A content warning is quoted in the reason up to this many characters.
CW_SHOWN = 60


def normalized_text(post: Post) -> str:
    """The text as duplicate detection sees it: tokens only, links dropped."""
    text = " ".join(w for w in post.text.split() if not w.startswith(("http://", "https://")))
    return " ".join(tokenize(text))


def filter_reason(f: FilterSettings, post: Post, now: datetime) -> str | None:
    """The first filter that stops `post`, as `filter: ...`, or None."""
    for check in (_kinds, _language, _followers, _age, _counts, _banned, _marks_to_skip):
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


def _marks_to_skip(f: FilterSettings, post: Post, now: datetime) -> str | None:
    return mark_reason(f, post, MarkMode.skip)


def review_reason(f: FilterSettings, post: Post) -> str | None:
    """`filter: ... (held for review)` when a mark the account sends to review is on the post, or None."""
    reason = mark_reason(f, post, MarkMode.review)
    return f"filter: {reason} (held for review)" if reason else None


def mark_reason(f: FilterSettings, post: Post, mode: MarkMode) -> str | None:
    """The first content warning, sensitive mark or label on the post (or its authors) that the
    settings treat as `mode`, named for the log; None when there is none."""
    if f.content_warnings == mode and post.content_warning:
        cw = post.content_warning
        return f"content warning {cw if len(cw) <= CW_SHOWN else cw[:CW_SHOWN] + '…'!r}"
    if f.sensitive == mode and post.sensitive is not False:
        return "marked sensitive" if post.sensitive else "unknown whether marked sensitive"
    wanted = f.labels_skip if mode == MarkMode.skip else f.labels_review
    if not wanted:
        return None
    for whose, labels in _labelled(post):
        found = next((label for label in labels if label.lower() in wanted), None)
        if found is not None:
            return f"label {found.lower()} on the {whose}"
    return None


def _labelled(post: Post) -> list[tuple[str, list[str]]]:
    """The labels of the post, of its author and, for a repost, of the original author."""
    found = [("post", post.labels), ("author", post.author.labels or [])]
    if post.reposted_author is not None:
        found.append(("reposted author", post.reposted_author.labels or []))
    return found


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
