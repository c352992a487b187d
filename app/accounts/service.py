"""Accounts: connect (check credentials with the platform), change, remove."""

from __future__ import annotations

import copy
import logging
from typing import Any

from pydantic import ValidationError
from sqlalchemy.ext.asyncio import AsyncSession

from app.accounts import repository
from app.accounts.conditions import Severity, clear_condition, set_condition
from app.accounts.context import context_for
from app.accounts.crypto import encrypt
from app.accounts.schemas import AccountCreate, AccountUpdate, Limits, StopWords
from app.audit import before_after, record
from app.auth import service as auth_service
from app.auth.caller import GRANTS, Caller, Capability
from app.errors import AppError, Conflict, Invalid, NotFound
from app.models import Account
from app.platforms.base import ConnectedAccount, CredentialsInvalid, PlatformError
from app.platforms.registry import available, get_platform
from app.runtime import Runtime
from app.users import service as users_service

log = logging.getLogger("reposter.accounts")

LIMIT_FIELDS = tuple(Limits.model_fields)
# The conditions a connect raises (ConnectedAccount.warnings) and so clears when it no longer does.
CONNECT_CONDITIONS = frozenset({"bot_flag"})


async def get_for(session: AsyncSession, *, account_id: int, caller: Caller, need: Capability) -> Account:
    """The account if the caller may `need` it; 404 if it is not theirs (or absent), 403 if the role lacks it."""
    caller.require(account_id, need)
    account = await repository.get(session, account_id)
    if account is None:
        raise NotFound(f"account {account_id} not found")
    return account


async def create(session: AsyncSession, *, data: AccountCreate, runtime: Runtime, caller: Caller) -> Account:
    """Check the credentials with the platform, then store the account with them encrypted."""
    _require_connector(caller)
    if data.platform not in available():
        raise Invalid(f"unknown platform {data.platform!r}; known: {sorted(available())}")
    if await repository.by_handle(session, data.platform, data.handle):
        raise Conflict(f"{data.platform} account {data.handle!r} already exists")
    platform = get_platform(data.platform)
    given = data.limits.model_dump(exclude_unset=True) if data.limits else {}
    limits = {**platform.default_limits_for_account(), **given}
    account = Account(
        platform=data.platform, handle=data.handle, display_name=data.display_name, config=data.config,
        sources=data.sources, enabled=data.enabled,
        credentials_encrypted=encrypt(runtime.fernet, data.credentials) if data.credentials else "",
        **Limits(**limits).model_dump(), **(data.stop_words or StopWords()).columns(),
    )
    await _connect(account, runtime)
    await _refuse_twin(session, account)
    session.add(account)
    await session.flush()
    await record(session, caller, "account.create", target_type="account", target_id=account.id,
                 account_id=account.id, detail={"platform": account.platform, "handle": account.handle})
    if not caller.is_admin and caller.user_id is not None:
        await users_service.give_account(session, user_id=caller.user_id, account_id=account.id, caller=caller)
    return account


def _require_connector(caller: Caller) -> None:
    """Admins connect accounts; so does an organizer signed in to the dashboard, who is then given
    the account. An organizer's API token cannot: its accounts are fixed when it is made."""
    if caller.is_admin:
        return
    if caller.user_id is None or Capability.configure not in GRANTS[caller.role]:
        caller.require_admin()


async def _refuse_twin(session: AsyncSession, account: Account) -> None:
    """One platform user is one account here, whatever spelling of the handle it was added under:
    two would each repost the same posts."""
    platform = get_platform(account.platform)
    for other in await repository.by_platform_user(session, account.platform, account.platform_user_id or ""):
        if platform.same_server(other.config or {}, account.config or {}):
            raise Conflict(f"these credentials are {account.platform} user {account.platform_user_id}, already "
                           f"connected as {other.handle!r} (account {other.id})")


def _check_config(account: Account) -> None:
    """The account's config must fit its platform (a 422 naming each fault), before any call."""
    try:
        get_platform(account.platform).check_config(account.config or {})
    except ValidationError as exc:
        faults = [{"field": ".".join(map(str, e["loc"])) or "config", "message": e["msg"]} for e in exc.errors()]
        raise Invalid(faults, error="invalid config") from exc


async def _connect(account: Account, runtime: Runtime) -> None:
    """Ask the platform who these credentials are; a refusal is the caller's 422, an outage a 502.

    The credentials must be the named account's own (a 422 naming both otherwise), and an account
    keeps its platform identity when its credentials are replaced. What the platform could not
    prepare (the bot flag) is raised as a warning condition; connecting still succeeds."""
    _check_config(account)
    ctx = context_for(account, runtime.fernet)
    platform = get_platform(account.platform)
    try:
        who = await platform.connect(ctx, runtime.http)
    except CredentialsInvalid as exc:
        raise Invalid(f"the platform refused these credentials: {exc}", error="credentials rejected") from exc
    except PlatformError as exc:
        if not exc.retryable and exc.status is None:
            raise Invalid(f"the platform refused the account: {exc}", error="invalid account") from exc
        raise AppError(f"could not reach {account.platform}: {exc}", status_code=502,
                       error="platform unavailable") from exc
    _check_identity(account, who)
    account.platform_user_id = who.platform_user_id
    account.display_name = account.display_name or who.display_name
    clear_condition(account, "credentials")
    clear_condition(account, "missing_scope")
    _raise_connect_warnings(account, who)


def _check_identity(account: Account, who: ConnectedAccount) -> None:
    """The credentials belong to the account named (handle compared case-insensitively, or the id)."""
    if not who.is_named(account.handle):
        raise Invalid(f"these credentials belong to {account.platform} account {who.handle!r}, "
                      f"not {account.handle!r}", error="handle mismatch")
    if account.platform_user_id and account.platform_user_id != who.platform_user_id:
        raise Invalid(f"these credentials belong to {who.handle!r} (id {who.platform_user_id}), not to the account "
                      f"connected as {account.handle!r} (id {account.platform_user_id})", error="handle mismatch")


def _raise_connect_warnings(account: Account, who: ConnectedAccount) -> None:
    """Each thing connect could not do becomes a warning condition; those it did are cleared."""
    raised = {w.code for w in who.warnings}
    for code in CONNECT_CONDITIONS - raised:
        clear_condition(account, code)
    for warning in who.warnings:
        set_condition(account, warning.code, severity=Severity.warning, http_status=warning.http_status,
                      message=f"{account.platform}: {warning.message}")
        log.warning("connect could not prepare the account",
                    extra={"account_id": account.id, "code": warning.code, "platform": account.platform})


async def update(session: AsyncSession, *, account: Account, data: AccountUpdate, runtime: Runtime,
                 caller: Caller) -> Account:
    """Change settings; new credentials are checked with the platform before they are kept. The
    audit event holds what changed, before and after (credentials only as `replaced`)."""
    before = _settings(account)
    changes = data.model_dump(exclude_unset=True, exclude={"credentials", "limits", "stop_words"})
    for key, value in changes.items():
        setattr(account, key, value)
    if data.limits is not None:
        for key, value in data.limits.model_dump().items():
            setattr(account, key, value)
        changes["limits"] = data.limits.model_dump()
    if data.stop_words is not None:
        for key, value in data.stop_words.columns().items():
            setattr(account, key, value)
        changes["stop_words"] = data.stop_words.model_dump()
    detail = before_after(before, {key: _settings(account)[key] for key in changes})
    if data.credentials is not None:
        account.credentials_encrypted = encrypt(runtime.fernet, data.credentials)
        await _connect(account, runtime)
        detail["credentials"] = "replaced"
    elif data.config is not None:
        _check_config(account)
    await record(session, caller, "account.update", target_type="account", target_id=account.id,
                 account_id=account.id, detail=detail)
    return account


def _settings(account: Account) -> dict[str, Any]:
    """The account's settings a PATCH may change (credentials aside), as plain copies for the audit log."""
    return {"display_name": account.display_name, "config": copy.deepcopy(dict(account.config or {})),
            "sources": list(account.sources or []), "enabled": account.enabled,
            "limits": Limits.model_validate(account).model_dump(), "stop_words": StopWords.of(account).model_dump()}


async def delete(session: AsyncSession, *, account: Account, caller: Caller) -> None:
    """Remove the account with its rules, queue and log."""
    caller.require_admin()
    await record(session, caller, "account.delete", target_type="account", target_id=account.id,
                 detail={"platform": account.platform, "handle": account.handle})
    await session.delete(account)
    await auth_service.forget_account(session, account_id=account.id, caller=caller)
    await users_service.forget_account(session, account_id=account.id, caller=caller)
