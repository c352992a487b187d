"""Token shapes on the API."""

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from app.auth.caller import Role
from app.inputs import Id


class TokenCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=200)
    role: Role
    account_ids: list[Id] = Field(default_factory=list, max_length=1000,
                                  description="accounts an organizer/moderator token reaches")


class TokenRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    name: str
    role: Role
    prefix: str
    account_ids: list[int]
    created_at: datetime
    last_used_at: datetime | None
    revoked_at: datetime | None


class TokenCreated(TokenRead):
    token: str = Field(description="the secret; shown once, stored only as a hash")
