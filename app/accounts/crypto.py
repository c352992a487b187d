"""Platform credentials at rest: Fernet-encrypted JSON, decrypted only to talk to the platform."""

import json
from typing import Any

from cryptography.fernet import Fernet, InvalidToken


def encrypt(fernet: Fernet, credentials: dict[str, Any]) -> str:
    """The stored form of a credentials dict."""
    return fernet.encrypt(json.dumps(credentials, sort_keys=True).encode()).decode()


def decrypt(fernet: Fernet, blob: str) -> dict[str, Any]:
    """The credentials dict; a wrong key is a clear error, not garbage."""
    if not blob:
        return {}
    try:
        return json.loads(fernet.decrypt(blob.encode()))
    except InvalidToken as exc:
        raise RuntimeError("stored credentials cannot be decrypted: REPOSTER_ENCRYPTION_KEY changed?") from exc
