"""Who is calling, and what their token lets them do."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

from app.errors import Forbidden, NotFound
from app.models.token import Role


class Capability(StrEnum):
    read = "read"  # see the account, its rules, filters, blocks, actions
    configure = "configure"  # change rules, filters, limits, sources
    moderate = "moderate"  # blocks, opt-outs, review queue, undo


GRANTS: dict[Role, set[Capability]] = {
    Role.admin: set(Capability),
    Role.organizer: {Capability.read, Capability.configure, Capability.moderate},
    Role.moderator: {Capability.read, Capability.moderate},
}


@dataclass(frozen=True)
class Caller:
    token_id: int | None
    name: str
    role: Role
    account_ids: frozenset[int] = field(default_factory=frozenset)
    # a person signed in to the dashboard (app/users), rather than a token
    user_id: int | None = None

    @property
    def is_admin(self) -> bool:
        return self.role is Role.admin

    def reaches(self, account_id: int) -> bool:
        """Whether the token covers this account at all."""
        return self.is_admin or account_id in self.account_ids

    def require(self, account_id: int, capability: Capability) -> None:
        """404 for an account outside the token (nothing leaks), 403 for a missing capability."""
        if not self.reaches(account_id):
            raise NotFound(f"account {account_id} not found")
        if capability not in GRANTS[self.role]:
            raise Forbidden(f"a {self.role} may not {capability.value} this account")

    def require_admin(self) -> None:
        """Only admin tokens pass."""
        if not self.is_admin:
            raise Forbidden("this needs an admin")

    @property
    def label(self) -> str:
        """How the audit log names this caller."""
        if self.user_id:
            return f"{self.name} (user {self.user_id}, {self.role})"
        return f"{self.name} (token {self.token_id}, {self.role})" if self.token_id else self.name
