"""Tokens: create, authenticate, revoke."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from app.accounts import repository as accounts_repository
from app.audit import record
from app.auth import repository
from app.auth.caller import Caller, Role
from app.auth.schemas import TokenCreate
from app.auth.tokens import hash_secret, new_secret
from app.db.base import utcnow
from app.errors import Invalid, NotFound, Unauthorized
from app.models import ApiToken


async def create(session: AsyncSession, *, data: TokenCreate, caller: Caller | None) -> tuple[ApiToken, str]:
    """Make a token; returns the row and the secret (the only time it exists in clear)."""
    if data.role is not Role.admin and not data.account_ids:
        raise Invalid(f"a {data.role} token needs account_ids")
    if data.account_ids:
        found = await accounts_repository.existing_ids(session, data.account_ids)
        missing = sorted(set(data.account_ids) - found)
        if missing:
            raise NotFound(f"accounts not found: {missing}")
    secret = new_secret()
    token = ApiToken(
        name=data.name,
        role=data.role.value,
        token_hash=hash_secret(secret),
        prefix=secret[:8],
        account_ids=sorted(set(data.account_ids)) if data.role is not Role.admin else [],
    )
    session.add(token)
    await session.flush()
    await record(session, caller, "token.create", target_type="token", target_id=token.id,
                 detail={"name": token.name, "role": token.role, "account_ids": token.account_ids})
    return token, secret


async def authenticate(session: AsyncSession, secret: str) -> Caller:
    """The caller a bearer secret stands for; 401 when it is unknown or revoked."""
    token = await repository.by_hash(session, hash_secret(secret))
    if token is None or token.revoked_at is not None:
        raise Unauthorized("unknown or revoked token")
    token.last_used_at = utcnow()
    return Caller(token.id, token.name, Role(token.role), frozenset(token.account_ids))


async def revoke(session: AsyncSession, *, token_id: int, caller: Caller) -> None:
    """Revoke a token (kept for the audit trail)."""
    token = await repository.get(session, token_id)
    if token is None:
        raise NotFound(f"token {token_id} not found")
    token.revoked_at = token.revoked_at or utcnow()
    await record(session, caller, "token.revoke", target_type="token", target_id=token_id)


async def forget_account(session: AsyncSession, *, account_id: int, caller: Caller) -> None:
    """Take a deleted account off every token's list (audited), so no later account inherits it."""
    for token in await repository.reaching(session, account_id):
        token.account_ids = [i for i in token.account_ids if i != account_id]
        await record(session, caller, "token.update", target_type="token", target_id=token.id,
                     detail={"account_ids": token.account_ids, "removed": [account_id], "why": "account deleted"})
