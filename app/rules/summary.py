"""A preview told in one sentence: "in the last 24 h this rule would have reposted 12 and skipped 30:
18 not a follower, 12 language". The preview itself is app/rules/preview.py; this only counts it."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from app.db.base import utcnow
from app.models import Account, ActionKind
from app.rules.preview import PAST, preview, recent_posts
from app.rules.schemas import PreviewRequest, PreviewResult

MAX_POSTS = 500
# the filters' reasons start with the filter's name; these are the names people know them by
_FILTERS = ("language", "min_followers", "min_account_age_days", "max_hashtags", "max_mentions", "max_links",
            "banned word", "replies excluded", "reposts excluded", "quotes excluded", "duplicate text")


@dataclass(frozen=True)
class PreviewSummary:
    """How many posts the rule would act on, skip (by reason), leave alone, or has acted on already."""

    hours: int
    tried: int
    acted: int
    review: int
    skipped: Counter[str] = field(default_factory=Counter)
    unmatched: int = 0
    already: int = 0
    kind: str = "repost"
    verb: str = "reposted"
    capped: bool = False

    @property
    def sentence(self) -> str:
        """The summary as people say it."""
        text = f"In the last {self.hours} h this rule would have {self.verb} {self.acted}"
        if self.review:
            text += f" ({self.review} after review)"
        text += f" and skipped {sum(self.skipped.values())}"
        if self.skipped:
            text += ": " + ", ".join(f"{count} {why}" for why, count in self.skipped.most_common())
        return text + "."


def reason_group(reason: str | None) -> str:
    """The kind of a skip's reason: `scope: not a follower` -> `not a follower`, `filter: language de not
    in en` -> `language`, `blocked: spam` -> `blocked`."""
    head, _, rest = (reason or "no reason given").partition(": ")
    if head == "scope":
        return rest
    if head == "filter":
        return next((name for name in _FILTERS if rest.startswith(name)), rest)
    return head


def summarize(result: PreviewResult, *, hours: int, kind: str, capped: bool) -> PreviewSummary:
    """Count a preview's verdicts, the skips by the kind of their reason."""
    would = Counter(item.would for item in result.items)
    skipped = Counter(reason_group(item.reason) for item in result.items if item.would == "skipped")
    return PreviewSummary(hours=hours, tried=len(result.items), acted=would["queued"] + would["review"],
                          review=would["review"], skipped=skipped, unmatched=would["no match"] + would["ignore"],
                          already=would["already acted"], kind=kind, verb=PAST[ActionKind(kind)], capped=capped)


async def recent_preview(session: AsyncSession, runtime, *, account: Account, query: str, scope: str,
                         hours: int = 24, kind: str = ActionKind.repost) -> tuple[PreviewResult, PreviewSummary]:
    """The preview service run on the posts seen in the last `hours` (the newest MAX_POSTS), and its summary."""
    posts = await recent_posts(session, account, MAX_POSTS, since=utcnow() - timedelta(hours=hours))
    data = PreviewRequest(query=query, scope=scope, posts=posts, limit=MAX_POSTS)
    result = await preview(session, runtime, account=account, data=data)
    return result, summarize(result, hours=hours, kind=kind, capped=len(posts) >= MAX_POSTS)
