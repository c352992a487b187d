"""One way to call a platform about an action: load, call outside any transaction, record under the lease.

The worker holds the action's lease (claimed by its stage) throughout. What the call needs is
loaded in one short transaction; the call is made with no transaction open (a slow server must
not hold a database connection) while `Heartbeat` renews the lease; its outcome is written in a
new transaction, and only if the lease is still ours (`hold`): a worker whose lease was taken over
records nothing, because the row is another worker's now, and that worker settles it by asking
the platform. Tokens an adapter refreshed meanwhile are saved in that same transaction.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Generic, TypeVar

from sqlalchemy.ext.asyncio import AsyncSession

from app.accounts.context import context_for
from app.actions import repository
from app.db.session import transaction
from app.models import Account, Action, Rule
from app.models.account import DEFAULT_STOP_REPLY
from app.pipeline.inbox import post_of
from app.pipeline.leases import Heartbeat, hold, release
from app.platforms.base import ActionClient, Post
from app.platforms.registry import get_platform
from app.runtime import Runtime

log = logging.getLogger("reposter.calls")

T = TypeVar("T")
R = TypeVar("R")


@dataclass(frozen=True)
class Subject:
    """What a call about one action needs, loaded before it (detached: read, never written)."""

    action: Action
    account: Account
    post: Post
    rule: Rule | None


@dataclass
class Result(Generic[T]):
    """A call's outcome, with the fresh rows to record it on (in the recording transaction)."""

    action: Action
    account: Account
    value: T | None
    error: Exception | None


def reply_text(action: Action) -> str:
    """What a reply says: the account's text as it was when the reply was queued (kept in its snapshot)."""
    text = (action.snapshot or {}).get("reply_text")
    return text if isinstance(text, str) and text else DEFAULT_STOP_REPLY


async def load(session: AsyncSession, action_id: int) -> Subject:
    """The action, its account, the post it acts on and its rule."""
    action, account, row, rule = await repository.subject(session, action_id)
    return Subject(action, account, post_of(row), rule)


def client_for(runtime: Runtime, account: Account) -> ActionClient:
    """The account's action client, with tokens a refresh left pending."""
    ctx = context_for(account, runtime.fernet, runtime.pending_credentials)
    return get_platform(account.platform).action_client(ctx, runtime.http)


async def call_and_record(runtime: Runtime, action_id: int, call: Callable[[ActionClient, Subject], Awaitable[T]],
                          record: Callable[[AsyncSession, Result[T]], Awaitable[R]], *, what: str) -> R | None:
    """Load, make `call` outside any transaction with the lease renewed, then `record` its result
    (value or error: nothing raised by the call escapes) in a new transaction while the lease is
    still ours. Returns what `record` returned; None when the lease was lost (nothing recorded)."""
    async with transaction(runtime.sessions) as session:
        subject = await load(session, action_id)
    value: T | None = None
    error: Exception | None = None
    async with Heartbeat(runtime, Action, [action_id]):
        try:
            value = await call(client_for(runtime, subject.account), subject)
        except Exception as exc:  # noqa: BLE001 - recorded on the action; an adapter bug must not stop the queue
            error = exc
    async with transaction(runtime.sessions) as session:
        fresh = await _still_ours(session, runtime, action_id, what, error)
        return None if fresh is None else await record(session, Result(*fresh, value, error))


async def _still_ours(session: AsyncSession, runtime: Runtime, action_id: int, what: str,
                      error: Exception | None) -> tuple[Action, Account] | None:
    """The action and its account, the lease given back, if the lease is still ours (None: lost)."""
    if not await hold(session, Action, action_id, runtime.worker_id):
        outcome = "answered" if error is None else f"{type(error).__name__}: {error}"
        log.warning("lease lost: outcome not recorded", extra={
            "action_id": action_id, "worker": runtime.worker_id, "call": what, "outcome": outcome})
        return None
    action = await session.get_one(Action, action_id)
    account = await session.get_one(Account, action.account_id)
    if account.id in runtime.pending_credentials:  # the adapter refreshed its tokens meanwhile
        account.credentials_encrypted = runtime.pending_credentials.pop(account.id)
    await release(session, Action, [action_id], runtime.worker_id)
    return action, account
