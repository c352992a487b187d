"""API token secrets: made random, shown once, stored as a SHA-256 hash."""

import hashlib
import secrets

PREFIX = "rp_"


def new_secret() -> str:
    """A fresh token secret (43 url-safe characters of randomness after the prefix)."""
    return PREFIX + secrets.token_urlsafe(32)


def hash_secret(secret: str) -> str:
    """The stored form of a secret. Secrets are random, so a fast hash is the right tool."""
    return hashlib.sha256(secret.encode()).hexdigest()
