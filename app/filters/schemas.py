"""The filters of an account: checks after a rule matched. Every field is optional; omitted = off."""

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field, field_validator

from app.inputs import MAX_INT


class Filters(BaseModel):
    model_config = ConfigDict(extra="forbid", from_attributes=True)

    languages: list[str] = Field(default_factory=list, description="ISO 639-1 codes; empty: any language")
    exclude_replies: bool = False
    exclude_reposts: bool = False
    exclude_quotes: bool = False
    min_followers: int | None = Field(default=None, ge=0, le=MAX_INT)
    min_account_age_days: int | None = Field(default=None, ge=0, le=MAX_INT)
    max_hashtags: int | None = Field(default=None, ge=0, le=MAX_INT)
    max_mentions: int | None = Field(default=None, ge=0, le=MAX_INT)
    max_links: int | None = Field(default=None, ge=0, le=MAX_INT)
    banned_words: list[str] = Field(default_factory=list, max_length=500,
                                    description="words or phrases, tokenized like the rule language")
    duplicate_window_minutes: int | None = Field(default=None, ge=1, le=60 * 24 * 30,
                                                 description="skip the same or nearly the same text within this window")

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


class FiltersRead(Filters):
    account_id: int
    updated_at: datetime | None = None
