from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import text
from sqlmodel import SQLModel

import workflow.core.models  # noqa: F401
from workflow.core import schema
from workflow.core.config import DbSettings
from workflow.core.db import make_engine


def test_migrations_build_exactly_the_models(engine):
    with engine.connect() as conn:
        diffs = compare_metadata(MigrationContext.configure(conn), SQLModel.metadata)
    assert diffs == []


def test_init_is_idempotent_and_reaches_head(engine):
    assert schema.current_revision(engine) == schema.head_revision()
    assert schema.upgrade(engine) == (schema.head_revision(), schema.head_revision())


def test_sqlite_runs_in_wal_with_full_sync_by_default(tmp_path):
    eng = make_engine(DbSettings(), f"sqlite:///{tmp_path / 'd' / 'x.db'}")
    with eng.connect() as c:
        assert c.execute(text("PRAGMA journal_mode")).scalar() == "wal"
        assert c.execute(text("PRAGMA synchronous")).scalar() == 2  # FULL
    eng2 = make_engine(DbSettings(sqlite_synchronous="NORMAL"), f"sqlite:///{tmp_path / 'y.db'}")
    with eng2.connect() as c:
        assert c.execute(text("PRAGMA synchronous")).scalar() == 1
