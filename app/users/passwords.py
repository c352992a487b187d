"""Passwords: argon2id (argon2-cffi's recommended parameters), checked in constant time."""

from __future__ import annotations

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

_hasher = PasswordHasher()
# Checked against when the name is unknown, so an unknown name costs as long as a wrong password.
_DUMMY = _hasher.hash("not a password anyone has")

MIN_LENGTH = 10


def hash_password(password: str) -> str:
    """The stored form of a password."""
    return _hasher.hash(password)


def verify_password(stored: str | None, password: str) -> bool:
    """Whether `password` is the one `stored` was made from (an unknown person: None, always False)."""
    try:
        return _hasher.verify(stored or _DUMMY, password) and stored is not None
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(stored: str) -> bool:
    """Whether the hash was made with weaker parameters than today's."""
    return _hasher.check_needs_rehash(stored)


def password_problem(password: str, *, name: str = "") -> str | None:
    """Why a new password is refused, or None."""
    if len(password) < MIN_LENGTH:
        return f"a password needs at least {MIN_LENGTH} characters"
    if len(password) > 1000:
        return "a password may have at most 1000 characters"
    if name and password.casefold() == name.casefold():
        return "a password must not be the name"
    return None
