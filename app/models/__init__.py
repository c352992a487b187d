"""Every ORM table, imported here so Alembic and the app see the whole schema."""

from app.models.account import Account, AccountFilters, AccountStatus
from app.models.action import Action, ActionKind, ActionStatus, OriginalState, RuleAction
from app.models.alert import (
    AlertChannel,
    AlertDelivery,
    AlertFormat,
    AlertIncident,
    AlertKind,
    AlertSubscription,
    DeliveryStatus,
)
from app.models.audit import AuditEvent
from app.models.moderation import (
    AuthorHost,
    AuthorList,
    Block,
    BlockKind,
    BlockListKind,
    BlockListMember,
    BlockListSubscription,
    ListKind,
    RelationCache,
)
from app.models.post import SeenPost
from app.models.rule import ChangeMark, Rule
from app.models.schedule import Cursor, StreamPhase, StreamState
from app.models.token import ApiToken, Role
from app.models.user import Invite, User, WebSession

__all__ = [
    "Account",
    "AccountFilters",
    "AccountStatus",
    "Action",
    "ActionKind",
    "ActionStatus",
    "AlertChannel",
    "AlertDelivery",
    "AlertFormat",
    "AlertIncident",
    "AlertKind",
    "AlertSubscription",
    "ApiToken",
    "AuditEvent",
    "AuthorHost",
    "AuthorList",
    "Block",
    "BlockKind",
    "BlockListKind",
    "BlockListMember",
    "BlockListSubscription",
    "ChangeMark",
    "Cursor",
    "DeliveryStatus",
    "Invite",
    "ListKind",
    "OriginalState",
    "RelationCache",
    "Role",
    "Rule",
    "RuleAction",
    "SeenPost",
    "StreamPhase",
    "StreamState",
    "User",
    "WebSession",
]
