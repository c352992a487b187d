"""People: make them, sign them in and out, invite them, change their role and accounts.

Failed sign-ins in a row lock the name for a while: from the fifth on, 30 s doubling up to 15 min
(THROTTLE_*), whatever the password; an unknown name answers as slowly and as vaguely as a wrong
password. Sessions last `session_days`, renewed as the person keeps using them.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from app.accounts import repository as accounts_repository
from app.audit import record
from app.auth.caller import Caller
from app.auth.tokens import hash_secret
from app.db.base import utcnow
from app.errors import AppError, Conflict, Forbidden, Invalid, NotFound, Unauthorized
from app.models import Invite, User, WebSession
from app.models.token import Role
from app.users import repository
from app.users.passwords import hash_password, needs_rehash, password_problem, verify_password

THROTTLE_AFTER = 5
THROTTLE_FIRST_SECONDS = 30
THROTTLE_MAX_SECONDS = 900
INVITE_DAYS = 7
NAME_MAX = 100


class TooManyAttempts(AppError):
    status_code = 429
    error = "too many attempts"

    def __init__(self, until: datetime):
        self.retry_after = max(1, int((until - utcnow()).total_seconds()) + 1)
        super().__init__(f"too many failed sign-ins for this name; try again in {self.retry_after} s")


@dataclass(frozen=True)
class SignedIn:
    """A new session: the cookie's key (in clear only here) and the row."""

    key: str
    row: WebSession


def name_key(name: str) -> str:
    """How names are compared: trimmed and case-folded."""
    return name.strip().casefold()


def caller_of(user: User) -> Caller:
    """The same Caller an API token with this role and these accounts would give."""
    return Caller(None, user.name, Role(user.role), frozenset(user.account_ids or []), user_id=user.id)


def _check_name(name: str) -> str:
    name = name.strip()
    if not name:
        raise Invalid("a name is needed")
    if len(name) > NAME_MAX:
        raise Invalid(f"a name may have at most {NAME_MAX} characters")
    if any(c.isspace() and c != " " for c in name) or not name.isprintable():
        raise Invalid("a name is one line of printable characters")
    return name


async def _check_accounts(session: AsyncSession, role: Role, account_ids: list[int]) -> list[int]:
    if role is Role.admin:
        return []
    if not account_ids and role is Role.moderator:  # an organizer may start with none and connect their own
        raise Invalid("a moderator needs at least one account")
    missing = sorted(set(account_ids) - await accounts_repository.existing_ids(session, account_ids))
    if missing:
        raise NotFound(f"accounts not found: {missing}")
    return sorted(set(account_ids))


async def create(session: AsyncSession, *, name: str, password: str, role: Role, account_ids: list[int],
                 caller: Caller | None) -> User:
    """Make a person; 409 when the name is taken, 422 for a weak password or a non-admin without accounts."""
    name = _check_name(name)
    if problem := password_problem(password, name=name):
        raise Invalid(problem)
    if await repository.by_name(session, name_key(name)) is not None:
        raise Conflict(f"the name {name!r} is taken")
    user = User(name=name, name_key=name_key(name), password_hash=hash_password(password), role=role.value,
                account_ids=await _check_accounts(session, role, account_ids), failed_sign_ins=0)
    session.add(user)
    await session.flush()
    await record(session, caller, "user.create", target_type="user", target_id=user.id,
                 detail={"name": user.name, "role": user.role, "account_ids": user.account_ids})
    return user


async def sign_in(session: AsyncSession, *, name: str, password: str, days: float) -> SignedIn:
    """Check the password and open a session; 401 for a wrong name or password, 429 while locked."""
    user = await repository.by_name(session, name_key(name))
    now = utcnow()
    if user is not None and user.locked_until is not None and user.locked_until > now:
        raise TooManyAttempts(user.locked_until)
    ok = verify_password(user.password_hash if user else None, password)
    if user is None or not ok or user.disabled_at is not None:
        if user is not None and not ok:
            _count_failure(user, now)
        raise Unauthorized("wrong name or password" if user is None or not ok else "this person is disabled")
    user.failed_sign_ins, user.locked_until, user.last_sign_in_at = 0, None, now
    if needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
    return await _open(session, user, days)


def _count_failure(user: User, now: datetime) -> None:
    user.failed_sign_ins = (user.failed_sign_ins or 0) + 1
    over = user.failed_sign_ins - THROTTLE_AFTER
    if over >= 0:
        seconds = min(THROTTLE_MAX_SECONDS, THROTTLE_FIRST_SECONDS * 2 ** min(over, 10))
        user.locked_until = now + timedelta(seconds=seconds)


async def _open(session: AsyncSession, user: User, days: float) -> SignedIn:
    key = secrets.token_urlsafe(32)
    row = WebSession(key_hash=hash_secret(key), user_id=user.id, csrf=secrets.token_urlsafe(32),
                     expires_at=utcnow() + timedelta(days=days))
    session.add(row)
    await session.flush()
    return SignedIn(key, row)


async def session_user(session: AsyncSession, *, key: str, days: float) -> tuple[WebSession, User] | None:
    """The live session and person behind a cookie's key, or None (unknown, expired, disabled)."""
    found = await repository.session_by_hash(session, hash_secret(key))
    if found is None:
        return None
    row, user = found
    now = utcnow()
    if row.expires_at <= now or user.disabled_at is not None:
        return None
    if now - row.last_seen_at > timedelta(minutes=5):  # renew the session, at most one write per 5 minutes
        row.last_seen_at, row.expires_at = now, now + timedelta(days=days)
    return row, user


async def sign_out(session: AsyncSession, *, key: str) -> None:
    """End the session behind this key (nothing happens for an unknown one)."""
    await repository.end_sessions(session, key_hash=hash_secret(key))


async def change_password(session: AsyncSession, *, user: User, current: str, new: str) -> None:
    """A person's own password: the current one is asked for; every other session of theirs ends."""
    if not verify_password(user.password_hash, current):
        raise Unauthorized("the current password is wrong")
    if problem := password_problem(new, name=user.name):
        raise Invalid(problem)
    user.password_hash = hash_password(new)
    await record(session, caller_of(user), "user.password", target_type="user", target_id=user.id)


async def update(session: AsyncSession, *, user_id: int, role: Role | None = None,
                 account_ids: list[int] | None = None, disabled: bool | None = None, caller: Caller) -> User:
    """An admin changes a person's role, accounts or whether they may sign in (their sessions end then)."""
    caller.require_admin()
    user = await get(session, user_id)
    before = {"role": user.role, "account_ids": user.account_ids, "disabled": user.disabled_at is not None}
    new_role = role or Role(user.role)
    if caller.user_id == user.id and (new_role is not Role.admin or disabled):
        raise Forbidden("you cannot take away your own admin role or disable yourself")
    user.role = new_role.value
    user.account_ids = await _check_accounts(session, new_role, user.account_ids if account_ids is None
                                             else account_ids)
    if disabled is not None:
        user.disabled_at = (user.disabled_at or utcnow()) if disabled else None
    after = {"role": user.role, "account_ids": user.account_ids, "disabled": user.disabled_at is not None}
    if after != before:
        await repository.end_sessions(session, user_id=user.id)
        await record(session, caller, "user.update", target_type="user", target_id=user.id,
                     detail={"before": before, "after": after})
    return user


async def get(session: AsyncSession, user_id: int) -> User:
    user = await repository.get(session, user_id)
    if user is None:
        raise NotFound(f"person {user_id} not found")
    return user


async def invite(session: AsyncSession, *, role: Role, account_ids: list[int], note: str,
                 caller: Caller) -> tuple[Invite, str]:
    """An admin makes a one-time link; returns the row and the key (in clear only now)."""
    caller.require_admin()
    key = secrets.token_urlsafe(32)
    accounts = await _check_accounts(session, role, account_ids)
    row = Invite(key_hash=hash_secret(key), role=role.value, account_ids=accounts,
                 note=note.strip()[:200], created_by=caller.label, expires_at=utcnow() + timedelta(days=INVITE_DAYS))
    session.add(row)
    await session.flush()
    await record(session, caller, "invite.create", target_type="invite", target_id=row.id,
                 detail={"role": row.role, "account_ids": row.account_ids, "note": row.note})
    return row, key


async def open_invite(session: AsyncSession, key: str) -> Invite:
    """The invite behind a link; 404 when it is unknown, used, revoked or expired (each said)."""
    row = await repository.invite_by_hash(session, hash_secret(key))
    if row is None:
        raise NotFound("this invitation link is not known")
    if row.used_at is not None:
        raise NotFound("this invitation link was used already; ask for a new one")
    if row.revoked_at is not None:
        raise NotFound("this invitation was withdrawn")
    if row.expires_at <= utcnow():
        raise NotFound("this invitation link has expired; ask for a new one")
    return row


async def accept_invite(session: AsyncSession, *, key: str, name: str, password: str, days: float) -> SignedIn:
    """The invited person chooses a name and password; the link is used up and they are signed in."""
    row = await open_invite(session, key)
    user = await create(session, name=name, password=password, role=Role(row.role), account_ids=row.account_ids,
                        caller=None)
    row.used_at, row.user_id = utcnow(), user.id
    user.last_sign_in_at = row.used_at  # joining signs them in
    await record(session, caller_of(user), "invite.accept", target_type="invite", target_id=row.id)
    return await _open(session, user, days)


async def revoke_invite(session: AsyncSession, *, invite_id: int, caller: Caller) -> None:
    caller.require_admin()
    row = await repository.get_invite(session, invite_id)
    if row is None:
        raise NotFound(f"invite {invite_id} not found")
    row.revoked_at = row.revoked_at or utcnow()
    await record(session, caller, "invite.revoke", target_type="invite", target_id=invite_id)


async def give_account(session: AsyncSession, *, user_id: int, account_id: int, caller: Caller) -> None:
    """Add an account to a person's list (an organizer who connected it)."""
    user = await get(session, user_id)
    if account_id not in user.account_ids:
        user.account_ids = sorted([*user.account_ids, account_id])
        await record(session, caller, "user.update", target_type="user", target_id=user.id,
                     detail={"account_ids": user.account_ids, "added": [account_id], "why": "account connected"})


async def forget_account(session: AsyncSession, *, account_id: int, caller: Caller) -> None:
    """Take a deleted account off every person's and invite's list, so no later account inherits it."""
    for user in await repository.reaching(session, account_id):
        user.account_ids = [i for i in user.account_ids if i != account_id]
        await record(session, caller, "user.update", target_type="user", target_id=user.id,
                     detail={"account_ids": user.account_ids, "removed": [account_id], "why": "account deleted"})
    for row in await repository.invites_reaching(session, account_id):
        row.account_ids = [i for i in row.account_ids if i != account_id]
