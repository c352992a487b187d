"""From an account row to what an adapter needs: decrypted credentials, config, a way to save."""

from cryptography.fernet import Fernet

from app.accounts.crypto import decrypt, encrypt
from app.models import Account
from app.platforms.base import AccountContext


def context_for(account: Account, fernet: Fernet) -> AccountContext:
    """An AccountContext whose refreshed credentials are written back (encrypted) to the row."""

    def save(credentials: dict) -> None:
        account.credentials_encrypted = encrypt(fernet, credentials)

    return AccountContext(
        account_id=account.id,
        handle=account.handle,
        platform_user_id=account.platform_user_id,
        config=dict(account.config or {}),
        credentials=decrypt(fernet, account.credentials_encrypted),
        on_credentials_changed=save,
    )
