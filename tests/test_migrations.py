"""The first migration builds every table, and the models and the migrations agree."""

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect

from app.db.base import Base
from app.db.migrate import head_revision

TABLES = {"accounts", "account_filters", "rules", "blocks", "author_lists", "relation_cache", "seen_posts",
          "actions", "cursors", "api_tokens", "audit_events"}


async def test_upgrade_builds_every_table_and_no_autogenerate_diff(runtime):
    async with runtime.engine.connect() as conn:
        names = await conn.run_sync(lambda c: set(inspect(c).get_table_names()))
        version = (await conn.exec_driver_sql("SELECT version_num FROM alembic_version")).scalar()
        diff = await conn.run_sync(lambda c: compare_metadata(MigrationContext.configure(c), Base.metadata))
    assert names >= TABLES
    assert version == head_revision()
    assert diff == []
