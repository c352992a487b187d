"""Alert subscriptions: who may make and see them (admins: every account's and the global ones;
organizers: their accounts'), the secret made here and kept encrypted, every change audited."""

from __future__ import annotations

import secrets
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from app.accounts.crypto import encrypt
from app.accounts.service import get_for as account_for
from app.alerts import repository
from app.alerts.incidents import TEST, enqueue
from app.alerts.schemas import AlertSubscriptionCreate, AlertSubscriptionUpdate, masked
from app.audit import before_after, record
from app.auth.caller import GRANTS, Caller, Capability
from app.db.base import utcnow
from app.errors import Forbidden, Invalid, NotFound
from app.models.alert import AlertChannel, AlertDelivery, AlertSubscription
from app.runtime import Runtime

FIELDS = ("name", "url", "format", "email_to", "kinds", "source_minutes", "review_minutes", "rate_limit_minutes",
          "enabled")


def new_secret(runtime: Runtime) -> tuple[str, str]:
    """A fresh secret and its stored (encrypted) form."""
    secret = secrets.token_urlsafe(32)
    return secret, encrypt(runtime.fernet, {"secret": secret})


async def create(session: AsyncSession, *, runtime: Runtime, data: AlertSubscriptionCreate,
                 caller: Caller) -> tuple[AlertSubscription, str]:
    """A new subscription and its secret (the only time it is shown)."""
    await _may_configure(session, caller, data.account_id)
    if data.channel == AlertChannel.email and not runtime.settings.smtp_host:
        raise Invalid("email alerts need an SMTP server: set REPOSTER_SMTP_HOST")
    secret, stored = new_secret(runtime)
    values = data.model_dump(mode="json")
    subscription = AlertSubscription(**values, secret_encrypted=stored, created_by=caller.label, created_at=utcnow())
    session.add(subscription)
    await session.flush()
    await record(session, caller, "alert.create", target_type="alert_subscription", target_id=subscription.id,
                 account_id=data.account_id, detail=_shown(subscription))
    return subscription, secret


async def get_for(session: AsyncSession, *, subscription_id: int, caller: Caller) -> AlertSubscription:
    """The subscription if the caller may configure its account (404 if not theirs, 403 if the role may not)."""
    subscription = await repository.get(session, subscription_id)
    if subscription is None or (subscription.account_id is None and not caller.is_admin) or \
            (subscription.account_id is not None and not caller.reaches(subscription.account_id)):
        raise NotFound(f"alert subscription {subscription_id} not found")
    await _may_configure(session, caller, subscription.account_id)
    return subscription


async def update(session: AsyncSession, *, subscription: AlertSubscription, data: AlertSubscriptionUpdate,
                 runtime: Runtime, caller: Caller) -> AlertSubscription:
    """Change the fields given; a webhook keeps a url, an email subscription an address."""
    before = _shown(subscription)
    for field, value in data.model_dump(mode="json", exclude_unset=True).items():
        setattr(subscription, field, value)
    await session.flush()
    await record(session, caller, "alert.update", target_type="alert_subscription", target_id=subscription.id,
                 account_id=subscription.account_id, detail=before_after(before, _shown(subscription)))
    return subscription


async def delete(session: AsyncSession, *, subscription: AlertSubscription, caller: Caller) -> None:
    """Remove it, with its incidents and messages not yet sent."""
    await record(session, caller, "alert.delete", target_type="alert_subscription", target_id=subscription.id,
                 account_id=subscription.account_id, detail=_shown(subscription))
    await session.delete(subscription)
    await session.flush()


async def renew_secret(session: AsyncSession, *, subscription: AlertSubscription, runtime: Runtime,
                       caller: Caller) -> str:
    """A new secret (shown once); messages from now on are signed with it."""
    secret, subscription.secret_encrypted = new_secret(runtime)
    await record(session, caller, "alert.secret", target_type="alert_subscription", target_id=subscription.id,
                 account_id=subscription.account_id)
    return secret


async def send_test(session: AsyncSession, *, subscription: AlertSubscription) -> AlertDelivery:
    """Put a test message in the outbox (the alerts job sends it)."""
    row = enqueue(session, subscription, event=TEST, incident=None, account=None, now=utcnow())
    await session.flush()
    return row


async def visible_ids(caller: Caller) -> list[int] | None:
    """The accounts whose subscriptions the caller lists (None: all); 403 for a role that may not configure."""
    if Capability.configure not in GRANTS[caller.role]:
        raise Forbidden(f"a {caller.role} may not configure alerts")
    return None if caller.is_admin else sorted(caller.account_ids)


async def _may_configure(session: AsyncSession, caller: Caller, account_id: int | None) -> None:
    if account_id is None:
        if not caller.is_admin:
            raise Forbidden("alerts for every account need an admin")
        return
    await account_for(session, account_id=account_id, caller=caller, need=Capability.configure)


def _shown(subscription: AlertSubscription) -> dict[str, Any]:
    """What the audit log keeps of a subscription: never its secret, its URL cut short."""
    values = {f: getattr(subscription, f) for f in FIELDS}
    values["url"] = masked(values["url"])
    return values
