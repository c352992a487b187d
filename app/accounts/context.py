"""From an account row to what an adapter needs: decrypted credentials, config, a way to save."""

from __future__ import annotations

from cryptography.fernet import Fernet
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.accounts import repository
from app.accounts.crypto import decrypt, encrypt
from app.models import Account
from app.platforms.base import AccountContext


def context_for(account: Account, fernet: Fernet, pending: dict[int, str] | None = None) -> AccountContext:
    """An AccountContext whose refreshed credentials are written back, encrypted, to the row.

    When the row's session is already closed (platform calls are made outside transactions),
    pass `pending`: the new credentials wait there until `save_pending` writes them. X refresh
    tokens are single-use, so a refreshed token that is not saved locks the account out.
    """

    def save(credentials: dict) -> None:
        blob = encrypt(fernet, credentials)
        account.credentials_encrypted = blob
        if pending is not None and account.id is not None:
            pending[account.id] = blob

    return AccountContext(
        account_id=account.id,
        handle=account.handle,
        platform_user_id=account.platform_user_id,
        config=dict(account.config or {}),
        credentials=decrypt(fernet, account.credentials_encrypted),
        on_credentials_changed=save,
    )


async def save_pending(sessions: async_sessionmaker[AsyncSession], pending: dict[int, str]) -> None:
    """Write credentials refreshed during calls made outside a transaction."""
    if not pending:
        return
    async with sessions() as session, session.begin():
        while pending:
            account_id, blob = pending.popitem()
            await repository.set_credentials(session, account_id=account_id, blob=blob)
