"""Every ORM table, imported here so Alembic and the app see the whole schema."""

from app.models.account import Account, AccountFilters
from app.models.action import Action, ActionKind, ActionStatus, OriginalState
from app.models.audit import AuditEvent
from app.models.moderation import AuthorList, Block, RelationCache
from app.models.post import SeenPost
from app.models.rule import Rule
from app.models.schedule import Cursor, StreamState
from app.models.token import ApiToken

__all__ = [
    "Account",
    "AccountFilters",
    "Action",
    "ActionKind",
    "ActionStatus",
    "ApiToken",
    "AuditEvent",
    "AuthorList",
    "Block",
    "Cursor",
    "OriginalState",
    "RelationCache",
    "Rule",
    "SeenPost",
    "StreamState",
]
