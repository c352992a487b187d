"""Effect preview: what proposed filters and limits would have done to the account's latest matches,
beside what the saved ones would have done (both replayed the same way, app/engine/replay.py), so
the difference is the settings' own and not the noise of what happened since."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from app.accounts.schemas import Limits
from app.actions import repository as actions_repository
from app.actions.reasons import kind_of
from app.engine.limits import LimitSettings
from app.engine.replay import Match, Outcome, replay
from app.engine.view import FilterSettings
from app.filters import service as filters_service
from app.filters.schemas import Filters
from app.models import Account, AccountFilters, Action, ActionKind, ActionStatus, SeenPost
from app.pipeline.inbox import post_of
from app.pipeline.views import filter_settings, platform_windows

WINDOW = 40
# Skip kinds no filter or limit decides: such a match stays skipped whatever the settings.
SETTINGS_KINDS = frozenset({"language", "followers", "account age", "banned word", "duplicate", "other filter",
                            "waited too long"})


@dataclass(frozen=True)
class Change:
    """A match whose outcome the proposed settings change."""

    action: Action
    text: str
    before: Outcome
    after: Outcome


@dataclass
class Effect:
    """The counts under the proposed settings and the saved ones, and the matches that change."""

    total: int = 0
    skipped: int = 0
    delayed: int = 0
    skipped_now: int = 0
    delayed_now: int = 0
    changes: list[Change] = field(default_factory=list)


async def effect(session: AsyncSession, *, account: Account, filters: Filters | None = None,
                 limits: Limits | None = None, window: int = WINDOW) -> Effect:
    """Replay the account's last `window` matches with the saved settings and with these (None: saved)."""
    rows = await actions_repository.recent_matches(session, account_id=account.id, limit=window)
    saved_filters = await filters_service.read(session, account_id=account.id)
    saved_limits = Limits.model_validate(account)
    matches = [_match(action, post) for action, post in rows]
    before = _replay(account, matches, saved_filters, saved_limits)
    after = _replay(account, matches, filters or saved_filters, limits or saved_limits)
    changes = [Change(action, _text(action, post), was, would)
               for (action, post), was, would in zip(rows, before, after, strict=True)
               if was.describe() != would.describe()]
    return Effect(total=len(matches), skipped=_skipped(after), delayed=_delayed(after), skipped_now=_skipped(before),
                  delayed_now=_delayed(before), changes=changes)


def _match(action: Action, post: SeenPost) -> Match:
    fixed = action.status == ActionStatus.skipped and kind_of(action.reason) not in SETTINGS_KINDS
    return Match(post_of(post), action.created_at, action.reason if fixed else None)


def _replay(account: Account, matches: list[Match], filters: Filters, limits: Limits) -> list[Outcome]:
    return replay(matches, _filter_settings(filters), _limit_settings(account, limits), limits.max_queue_age_seconds)


def _filter_settings(filters: Filters) -> FilterSettings:
    """The engine's view of filters given as the API takes them (a row never added to the session)."""
    fields = Filters.model_fields
    return filter_settings(AccountFilters(**{k: v for k, v in filters.model_dump().items() if k in fields}))


def _limit_settings(account: Account, limits: Limits) -> LimitSettings:
    """The limits as the dispatcher applies them to a repost, the platform's own windows included."""
    values: dict[str, Any] = limits.model_dump(exclude={"max_queue_age_seconds"})
    return LimitSettings(**values, windows=platform_windows(account, ActionKind.repost))


def _skipped(outcomes: list[Outcome]) -> int:
    return sum(1 for o in outcomes if o.skipped is not None)


def _delayed(outcomes: list[Outcome]) -> int:
    return sum(1 for o in outcomes if o.delayed)


def _text(action: Action, post: SeenPost) -> str:
    snapshot = action.snapshot or {}
    return str(snapshot.get("text") or post_of(post).text)
