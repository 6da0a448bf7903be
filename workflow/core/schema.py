"""Bring any database to the newest schema with Alembic (``ssj init``)."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.engine import Engine


def _alembic_config() -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(Path(__file__).resolve().parent / "migrations"))
    return cfg


def head_revision() -> str:
    head = ScriptDirectory.from_config(_alembic_config()).get_current_head()
    assert head is not None
    return head


def current_revision(engine: Engine) -> str | None:
    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def upgrade(
    engine: Engine, *, offices: Mapping[str, Mapping[str, Any]] | None = None
) -> tuple[str | None, str]:
    """Migrate to head; returns (revision before, revision after). ``offices``: a config.yaml's
    former ``offices`` section, which the units migration (0006) turns into office units."""
    before = current_revision(engine)
    cfg = _alembic_config()
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        cfg.attributes["offices"] = dict(offices or {})
        command.upgrade(cfg, "head")
    return before, head_revision()


UNITS_REVISION = "0006"  # the migration that turns a config's offices into units


def units_created(before: str | None, after: str) -> bool:
    """Whether an upgrade from ``before`` ran the units migration."""
    return (before is None or before < UNITS_REVISION) and after >= UNITS_REVISION
