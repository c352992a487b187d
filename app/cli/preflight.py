"""What a command checks before it starts, each failure one line that says what to do: the settings,
the encryption key, the database URL, that the database answers and is migrated, the port."""

from __future__ import annotations

import asyncio
import contextlib
import errno
import logging
import re
import signal
import socket
import sys
from collections.abc import Iterator
from types import FrameType

from app.cli.parsing import USAGE, CommandError
from app.config import Settings, get_settings


def load_settings() -> Settings:
    """The settings, or one line naming the REPOSTER_* variable that is wrong."""
    from pydantic import ValidationError

    try:
        return get_settings()
    except ValidationError as exc:
        wrong = "; ".join(f"REPOSTER_{'_'.join(map(str, e['loc'])).upper()}: {e['msg']}" for e in exc.errors())
        raise CommandError(f"{wrong} (fix it in the environment or .env)", USAGE) from exc


def require_key(settings: Settings) -> None:
    """Refuse a missing, placeholder or malformed encryption key before anything starts."""
    try:
        settings.fernet()
    except RuntimeError as exc:
        raise CommandError(str(exc), USAGE) from exc


def _shown(url: str) -> str:
    """The URL without its password, for messages."""
    return re.sub(r"(://[^:/@]*:)[^@/]*@", r"\1***@", url)


def database_url(settings: Settings) -> str:
    """REPOSTER_DATABASE_URL, refused in one line when it cannot be parsed or names a driver we lack."""
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    url = settings.database_url
    try:
        make_url(url).get_dialect().import_dbapi()  # a driver we do not ship fails here, not mid-command
    except (ArgumentError, ValueError, ImportError) as exc:
        raise CommandError(f"REPOSTER_DATABASE_URL {_shown(url)!r} is not a database URL reposter can use "
                           f"({_first_line(exc)}); e.g. postgresql://user@host/dbname or sqlite:///./reposter.db",
                           USAGE) from exc
    return url


def _first_line(exc: BaseException) -> str:
    """An exception's own first line (SQLAlchemy's add the statement and a link on later lines)."""
    text = str(getattr(exc, "orig", None) or exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


@contextlib.contextmanager
def reaching(url: str) -> Iterator[None]:
    """Turn "the database does not answer" into one line naming the URL (password hidden)."""
    from sqlalchemy.exc import InterfaceError, OperationalError

    try:
        yield
    except (OperationalError, InterfaceError, OSError) as exc:
        raise CommandError(f"cannot reach the database at {_shown(url)}: {_first_line(exc)}; check "
                           "REPOSTER_DATABASE_URL and that the database is running") from exc


def migrated_database(settings: Settings) -> str:
    """The database URL, once the database answers and its schema is at the newest migration."""
    # Alembic's INFO lines (set up at its import) are noise before serve, worker and token commands
    logging.getLogger("alembic").setLevel(logging.WARNING)
    from app.db.migrate import current_revision, schema_problem

    url = database_url(settings)
    with reaching(url):
        problem = schema_problem(asyncio.run(current_revision(url)))
    if problem:
        raise CommandError(problem)
    return url


def listen(host: str, port: int) -> socket.socket:
    """A socket bound to host:port, taken before anything is printed, so a busy port fails first."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError as exc:
        sock.close()
        hint = ("another reposter there? stop it or pick another --port" if exc.errno == errno.EADDRINUSE
                else "check the host and port: --host and --port, or REPOSTER_HOST and REPOSTER_PORT for serve")
        raise CommandError(f"cannot listen on {host}:{port}: {exc.strerror or exc} ({hint})") from exc
    return sock


def stopped(signum: int, frame: FrameType | None) -> None:
    """SIGTERM while a command starts (or in a short one): exit 143, as a shell reports a SIGTERM."""
    print(f"reposter: stopped ({signal.Signals(signum).name}) before it was under way", file=sys.stderr)
    raise SystemExit(128 + signum)
