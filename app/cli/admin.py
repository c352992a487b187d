"""The operator's commands: migrate, token create/list/revoke, keygen."""

from __future__ import annotations

import argparse
import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, TypeVar

from app.cli.parsing import DATABASE, USAGE, CommandError, Subparsers, add_command
from app.cli.preflight import database_url, load_settings, migrated_database, reaching

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

    from app.models import ApiToken

T = TypeVar("T")


def migrate(args: argparse.Namespace) -> None:
    """`reposter migrate [revision]`."""
    logging.getLogger("alembic.runtime.plugins").setLevel(logging.WARNING)  # set up at import: noise
    from alembic.util import CommandError as AlembicError

    from app.db.migrate import upgrade

    url = database_url(load_settings())
    try:
        with reaching(url):
            upgrade(url, args.revision)
    except AlembicError as exc:
        raise CommandError(f"{exc} (`reposter migrate` with no argument goes to the newest)", USAGE) from exc
    print(f"database at {args.revision}")


def _in_transaction(work: Callable[[AsyncSession], Awaitable[T]], *, hint: str = "") -> T:
    """Run `work` in one transaction on the migrated database; its AppError is a usage mistake,
    reported with `hint` (what to do)."""
    from app.db.session import make_engine, make_sessionmaker, transaction
    from app.errors import AppError

    url = migrated_database(load_settings())

    async def run() -> T:
        engine = make_engine(url)
        try:
            async with transaction(make_sessionmaker(engine)) as session:
                return await work(session)
        finally:
            await engine.dispose()

    try:
        with reaching(url):
            return asyncio.run(run())
    except AppError as exc:
        raise CommandError(f"{exc.detail} ({hint})" if hint else str(exc.detail), USAGE) from exc


def token_create(args: argparse.Namespace) -> None:
    """`reposter token create`: prints the secret, the only time it exists in clear."""
    from pydantic import ValidationError

    from app.auth.caller import Role
    from app.auth.schemas import TokenCreate
    from app.auth.service import create

    if args.role != Role.admin and not args.account:
        raise CommandError(f"a {args.role} token needs the accounts it reaches: add --account ID "
                           "(repeat it for several)", USAGE)
    try:
        data = TokenCreate(name=args.name, role=Role(args.role), account_ids=args.account or [])
    except ValidationError as exc:
        raise CommandError("; ".join(f"--{e['loc'][0]}: {e['msg']}" for e in exc.errors()), USAGE) from exc

    async def made(session: AsyncSession) -> str:
        return (await create(session, data=data, caller=None))[1]

    print(_in_transaction(made, hint="GET /api/v1/accounts lists the accounts and their ids"))


def token_list(args: argparse.Namespace) -> None:
    """`reposter token list`: one row per token, never a secret."""
    from app.auth.repository import every

    async def rows(session: AsyncSession) -> list[tuple[str, ...]]:
        return [_row(token) for token in await every(session)]

    found = _in_transaction(rows)
    if not found:
        print("no tokens yet; `reposter token create` makes the first")
        return
    table = [("id", "name", "role", "accounts", "prefix", "created", "last used", "revoked"), *found]
    widths = [max(len(row[i]) for row in table) for i in range(len(table[0]))]
    for row in table:
        print("  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip())


def _row(token: ApiToken) -> tuple[str, ...]:
    def when(moment: object) -> str:
        return f"{moment:%Y-%m-%d %H:%M}" if moment else "-"

    accounts = "all" if token.role == "admin" else ",".join(map(str, token.account_ids))
    return (str(token.id), token.name, token.role, accounts, f"{token.prefix}...", when(token.created_at),
            when(token.last_used_at) if token.last_used_at else "never", when(token.revoked_at))


def token_revoke(args: argparse.Namespace) -> None:
    """`reposter token revoke ID`: at once; the row stays for the audit trail."""
    from app.auth.caller import Caller, Role
    from app.auth.service import revoke

    async def revoked(session: AsyncSession) -> None:
        await revoke(session, token_id=args.id, caller=Caller(None, "reposter token revoke", Role.admin))

    _in_transaction(revoked, hint="`reposter token list` shows the ids")
    print(f"token {args.id} revoked")


def keygen(args: argparse.Namespace) -> None:
    """`reposter keygen`: a new Fernet key."""
    from cryptography.fernet import Fernet

    print(Fernet.generate_key().decode())


def add_commands(sub: Subparsers) -> None:
    """migrate, token, keygen."""
    cmd = add_command(sub, "migrate", migrate, "create or upgrade the database schema",
                      "Run it before the first `serve` or `worker`, and after each upgrade of reposter; "
                      "`serve` and `worker` refuse to start on a database that is behind.", settings=DATABASE)
    cmd.add_argument("revision", nargs="?", default="head", help="Alembic revision to go to")
    token = add_command(sub, "token", None, "API tokens: create, list, revoke",
                        "Tokens are stored hashed; a secret is shown once, when it is made.", settings=DATABASE)
    tokens = token.add_subparsers(dest="token_command", required=True)
    cmd = add_command(tokens, "create", token_create, "create a token and print its secret (shown once)",
                      "An admin token reaches every account; an organizer or moderator token reaches the "
                      "accounts named with --account.", settings=DATABASE)
    cmd.add_argument("--name", default="admin", help="what the token is for (shown in the audit log)")
    cmd.add_argument("--role", default="admin", choices=["admin", "organizer", "moderator"], help="what it may do")
    cmd.add_argument("--account", type=int, action="append", metavar="ID",
                     help="an account the token reaches (repeat for several; needed unless --role admin)")
    add_command(tokens, "list", token_list, "list the tokens (never their secrets)",
                "Columns: id, name, role, accounts, the secret's first characters, created, last used, "
                "revoked (times in UTC).", settings=DATABASE)
    cmd = add_command(tokens, "revoke", token_revoke, "revoke a token at once",
                      "The token stops working on its next request; it stays listed as revoked.", settings=DATABASE)
    cmd.add_argument("id", type=int, help="the token's id, from `reposter token list`")
    add_command(sub, "keygen", keygen, "print a new encryption key for REPOSTER_ENCRYPTION_KEY",
                "Keep the key: it decrypts the platform credentials stored with it.")
