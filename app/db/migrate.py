"""Run Alembic from the installed package (no alembic.ini needed on a user's machine)."""

from __future__ import annotations

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
