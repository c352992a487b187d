"""Token shapes on the API."""

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from app.auth.caller import Role
from app.inputs import Id


class TokenCreate(BaseModel):
    """A new API token: an admin's reaches everything; an organizer's or moderator's only its accounts."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [
        {"name": "moderation team", "role": "moderator", "account_ids": [1]}]})

    name: str = Field(min_length=1, max_length=200, examples=["moderation team"],
                      description="who or what uses it; the audit log names the token so")
    role: Role = Field(examples=["moderator"], description="admin (everything), organizer (configure, moderate and "
                                                            "read its accounts) or moderator (moderate and read)")
    account_ids: list[Id] = Field(default_factory=list, max_length=1000, examples=[[1]],
                                  description="accounts an organizer/moderator token reaches")


class TokenRead(BaseModel):
    """A token as stored: never its secret."""

    model_config = ConfigDict(from_attributes=True)

    id: int = Field(description="the token's id (what DELETE /tokens/{token_id} takes)")
    name: str = Field(description="who or what uses it")
    role: Role = Field(description="admin, organizer or moderator")
    prefix: str = Field(description="the secret's first characters, to tell tokens apart")
    account_ids: list[int] = Field(description="accounts it reaches (an admin's reaches all)")
    created_at: datetime = Field(description="when it was made (UTC)")
    last_used_at: datetime | None = Field(description="when it last authenticated a request (UTC)")
    revoked_at: datetime | None = Field(description="when it was revoked (UTC); a revoked token is refused")


class TokenCreated(TokenRead):
    token: str = Field(description="the secret; shown once, stored only as a hash")
