"""Alembic environment: the URL comes from reposter's Settings (or the caller's config).

This is the one file of the migrations that imports app code: the settings for the URL, and the
models' metadata, which only autogenerate (`alembic revision --autogenerate`) compares against.
The migrations in versions/ import no app code, so their meaning never changes with the models.
"""

import asyncio

from alembic import context
from sqlalchemy import TypeDecorator
from sqlalchemy.ext.asyncio import async_engine_from_config
from sqlalchemy.pool import NullPool

import app.models  # noqa: F401  (registers every table on the metadata)
from app.config import get_settings
from app.db.base import Base

config = context.config
target_metadata = Base.metadata


def _render_item(kind: str, obj, autogen_context):
    """Our TypeDecorators (UTCDateTime) render as the plain type they emit, so a new migration imports no app code."""
    if kind == "type" and isinstance(obj, TypeDecorator) and type(obj).__module__.startswith("app."):
        return f"sa.{obj.impl_instance!r}"
    return False


def _url() -> str:
    return config.get_main_option("sqlalchemy.url") or get_settings().database_url


def run_migrations_offline() -> None:
    context.configure(url=_url(), target_metadata=target_metadata, literal_binds=True, render_as_batch=True,
                      render_item=_render_item)
    with context.begin_transaction():
        context.run_migrations()


def _run(connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
        render_item=_render_item,
    )
    with context.begin_transaction():
        context.run_migrations()


async def _run_async() -> None:
    engine = async_engine_from_config({"sqlalchemy.url": _url()}, prefix="sqlalchemy.", poolclass=NullPool)
    async with engine.connect() as connection:
        await connection.run_sync(_run)
    await engine.dispose()


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _run(connection)
    else:
        asyncio.run(_run_async())


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
