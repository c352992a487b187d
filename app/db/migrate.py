"""Run Alembic from the installed package (no alembic.ini needed on a user's machine)."""

from __future__ import annotations

import asyncio
from pathlib import Path

from alembic import command
from alembic.config import Config

# Shipped inside the app package (app/migrations), so an installed wheel carries them and adds no
# top-level `migrations` package to site-packages.
MIGRATIONS = Path(__file__).resolve().parents[1] / "migrations"


def alembic_config(url: str | None = None) -> Config:
    """An Alembic config pointing at our migrations, for `url` (or the settings' URL)."""
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    if url:
        cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return cfg


def upgrade(url: str | None = None, revision: str = "head") -> None:
    """Bring the database at `url` to `revision`."""
    command.upgrade(alembic_config(url), revision)


def head_revision() -> str:
    """The newest migration's id."""
    from alembic.script import ScriptDirectory

    return ScriptDirectory.from_config(alembic_config()).get_current_head() or ""


async def current_revision(url: str) -> str | None:
    """The revision the database at `url` is at; None when it was never migrated (or, for SQLite,
    its file does not exist yet). Raises SQLAlchemy's errors when the database does not answer."""
    from alembic.runtime.migration import MigrationContext
    from sqlalchemy.engine import make_url
    from sqlalchemy.ext.asyncio import create_async_engine
    from sqlalchemy.pool import NullPool

    parsed = make_url(url)
    # connecting would create an empty SQLite file where the URL points, typo or not
    if parsed.get_backend_name() == "sqlite" and parsed.database not in (None, "", ":memory:") \
            and not await asyncio.to_thread(Path(parsed.database).exists):
        return None
    engine = create_async_engine(url, poolclass=NullPool)
    try:
        async with engine.connect() as conn:
            return await conn.run_sync(lambda sync: MigrationContext.configure(sync).get_current_revision())
    finally:
        await engine.dispose()


def schema_problem(current: str | None) -> str | None:
    """What keeps this code from running on a database at revision `current`, in one sentence that
    says what to do; None when the database is at the newest migration."""
    from alembic.script import ScriptDirectory

    head = head_revision()
    if current == head:
        return None
    if current is None:
        return "the database has no reposter tables yet: run `reposter migrate` first"
    known = {script.revision for script in ScriptDirectory.from_config(alembic_config()).walk_revisions()}
    if current not in known:
        return (f"the database is at revision {current}, which this version of reposter does not know "
                "(a newer reposter migrated it): run that version, or upgrade reposter")
    return f"the database schema is at {current}, this reposter needs {head}: run `reposter migrate` first"
