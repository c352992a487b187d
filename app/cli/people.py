"""`reposter user create` and `reposter user list`: people who sign in to the dashboard."""

from __future__ import annotations

import argparse
import getpass
import sys
from typing import TYPE_CHECKING

from app.cli.admin import _in_transaction
from app.cli.parsing import DATABASE, USAGE, CommandError, Subparsers, add_command

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession


def _password(args: argparse.Namespace) -> str:
    """From stdin (--password-stdin, one line) or asked twice at the terminal."""
    if args.password_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    if not sys.stdin.isatty():
        raise CommandError("no terminal to ask the password at: pipe it in with --password-stdin", USAGE)
    first = getpass.getpass(f"password for {args.name}: ")
    if first != getpass.getpass("again: "):
        raise CommandError("the two passwords differ; run the command again", USAGE)
    return first


def user_create(args: argparse.Namespace) -> None:
    """`reposter user create`: a person who signs in to the dashboard (the first one is an admin)."""
    from app.auth.caller import Role
    from app.users.passwords import password_problem
    from app.users.service import create

    role = Role(args.role)
    if role is not Role.admin and not args.account:
        raise CommandError(f"a {role} needs the accounts they reach: add --account ID (repeat it for several)", USAGE)
    password = _password(args)
    if problem := password_problem(password, name=args.name):
        raise CommandError(problem, USAGE)

    async def made(session: AsyncSession) -> int:
        user = await create(session, name=args.name, password=password, role=role, account_ids=args.account or [],
                            caller=None)
        return user.id

    user_id = _in_transaction(made, hint="`reposter user list` shows who exists")
    print(f"user {user_id} {args.name!r} ({role}) made; sign in at the dashboard (`reposter serve`, then /signin)")


def user_list(args: argparse.Namespace) -> None:
    """`reposter user list`: one line per person, never a password."""
    from app.users.repository import every

    async def rows(session: AsyncSession) -> list[str]:
        return [f"{u.id}  {u.name}  {u.role}  {'all' if u.role == 'admin' else ','.join(map(str, u.account_ids))}"
                f"{'  disabled' if u.disabled_at else ''}" for u in await every(session)]

    found = _in_transaction(rows)
    print("\n".join(found) if found else "nobody yet; `reposter user create --name NAME` makes the first admin")


def add_commands(sub: Subparsers) -> None:
    """user create, user list."""
    user = add_command(sub, "user", None, "people who sign in to the dashboard: create, list",
                       "Passwords are stored as argon2id hashes. Admins invite more people from the dashboard "
                       "(People page); this command makes the first admin.", settings=DATABASE)
    users = user.add_subparsers(dest="user_command", required=True)
    cmd = add_command(users, "create", user_create, "make a person (asks the password twice)",
                      "An admin reaches every account; an organizer or moderator reaches the accounts named with "
                      "--account.", settings=DATABASE)
    cmd.add_argument("--name", required=True, help="the name they sign in with")
    cmd.add_argument("--role", default="admin", choices=["admin", "organizer", "moderator"], help="what they may do")
    cmd.add_argument("--account", type=int, action="append", metavar="ID",
                     help="an account they reach (repeat for several; needed unless --role admin)")
    cmd.add_argument("--password-stdin", action="store_true", help="read the password from standard input")
    add_command(users, "list", user_list, "list the people (id, name, role, accounts)",
                "Never a password; disabled people are marked.", settings=DATABASE)
