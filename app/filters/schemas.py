"""The filters of an account: checks after a rule matched. Every field is optional; omitted = off."""

import re
from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field, field_validator

from app.inputs import MAX_INT
from app.models.account import MarkMode

# A label value as labelers write them (com.atproto.label.defs: at most 128 characters): letters,
# digits and `-`, with `!` first for Bluesky's system labels (`!warn`, `!hide`).
_LABEL = re.compile(r"!?[a-z0-9][a-z0-9_-]{0,127}")


class Filters(BaseModel):
    """Checks a matched post must pass before it is reposted; a value the platform does not give (unknown
    followers, language) never passes a check that needs it. PUT replaces all: a field left out is off."""

    model_config = ConfigDict(extra="forbid", from_attributes=True, json_schema_extra={"examples": [
        {"languages": ["en", "de"], "exclude_replies": True, "min_followers": 10, "min_account_age_days": 7,
         "max_hashtags": 5, "banned_words": ["giveaway", "crypto airdrop"], "duplicate_window_minutes": 1440,
         "content_warnings": "review", "sensitive": "skip", "labels_skip": ["spam", "porn"],
         "labels_review": ["!warn"]}]})

    languages: list[str] = Field(default_factory=list, examples=[["en", "de"]],
                                 description="ISO 639-1 codes; empty: any language")
    exclude_replies: bool = Field(default=False, description="skip replies (and posts the platform cannot tell)")
    exclude_reposts: bool = Field(default=False, description="skip reposts (and posts the platform cannot tell)")
    exclude_quotes: bool = Field(default=False, description="skip quote posts (and posts the platform cannot tell)")
    min_followers: int | None = Field(default=None, ge=0, le=MAX_INT, examples=[10],
                                      description="skip authors with fewer followers; null: off")
    min_account_age_days: int | None = Field(default=None, ge=0, le=MAX_INT, examples=[7],
                                             description="skip authors whose account is younger, in days; null: off")
    max_hashtags: int | None = Field(default=None, ge=0, le=MAX_INT, examples=[5],
                                     description="skip posts with more hashtags; null: off")
    max_mentions: int | None = Field(default=None, ge=0, le=MAX_INT,
                                     description="skip posts with more @mentions; null: off")
    max_links: int | None = Field(default=None, ge=0, le=MAX_INT, description="skip posts with more links; null: off")
    banned_words: list[str] = Field(default_factory=list, max_length=500, examples=[["giveaway"]],
                                    description="skip posts with any of these words or phrases (or hashtags), "
                                                "tokenized like the rule language")
    duplicate_window_minutes: int | None = Field(default=None, ge=1, le=60 * 24 * 30, examples=[1440],
                                                 description="skip the same or nearly the same text as a repost "
                                                             "within this many minutes; null: off")
    content_warnings: MarkMode = Field(default=MarkMode.allow,
                                       description="posts with a content warning (Mastodon's spoiler_text): "
                                                   "allow, skip, or review (hold for a person)")
    sensitive: MarkMode = Field(default=MarkMode.allow,
                                description="posts marked sensitive (Mastodon's sensitive, X's possibly_sensitive, "
                                            "Bluesky's porn, sexual, nudity and graphic-media labels): allow, skip "
                                            "or review; where the platform does not say, skip and review hold it")
    labels_skip: list[str] = Field(default_factory=list, max_length=200, examples=[["spam", "porn"]],
                                   description="skip posts with any of these labels on the post or its author "
                                               "(Bluesky: the labelers in the account's config `labelers`)")
    labels_review: list[str] = Field(default_factory=list, max_length=200, examples=[["!warn"]],
                                     description="hold for review posts with any of these labels on the post "
                                                 "or its author (skip wins when a post has both)")

    @field_validator("languages")
    @classmethod
    def _langs(cls, value: list[str]) -> list[str]:
        cleaned = [v.strip().lower() for v in value]
        bad = [v for v in cleaned if not (2 <= len(v) <= 3 and v.isalpha())]
        if bad:
            raise ValueError(f"not language codes: {bad}")
        return cleaned

    @field_validator("banned_words")
    @classmethod
    def _words(cls, value: list[str]) -> list[str]:
        cleaned = [v.strip() for v in value]
        if any(not v or len(v) > 100 for v in cleaned):
            raise ValueError("banned words must be 1 to 100 characters")
        return cleaned

    @field_validator("labels_skip", "labels_review")
    @classmethod
    def _labels(cls, value: list[str]) -> list[str]:
        cleaned = list(dict.fromkeys(v.strip().lower() for v in value))
        bad = [v for v in cleaned if not _LABEL.fullmatch(v)]
        if bad:
            raise ValueError(f"not label values (letters, digits, '-', '!' first; at most 128): {bad}")
        return cleaned


class FiltersRead(Filters):
    account_id: int = Field(description="the account they belong to")
    updated_at: datetime | None = Field(default=None, description="when they were last set (UTC); null: never")
