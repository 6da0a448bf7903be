"""Bring any database to the newest schema with Alembic (``ssj init``)."""

from __future__ import annotations

from collections.abc import Mapping
from functools import cache
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


@cache
def head_revision() -> str:
    """The newest migration's revision. Read once per process: finding it loads and compiles
    every migration script (≈ 7 ms), and the scripts are the installed code's."""
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
    with engine.connect() as conn:
        sqlite = conn.dialect.name == "sqlite"
        if sqlite:
            # SQLite migrations rebuild tables (copy, drop, rename): the drop of a table others
            # refer to (plan ← task) must not check foreign keys. The switch works only
            # outside a transaction; the keys are checked as a whole before the commit instead.
            # On the driver's connection: SQLAlchemy's would open a transaction first.
            _driver(conn).execute("PRAGMA foreign_keys=OFF")
        try:
            with conn.begin():
                cfg.attributes["connection"] = conn
                cfg.attributes["offices"] = dict(offices or {})
                command.upgrade(cfg, "head")
                if sqlite:
                    broken = conn.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
                    if broken:  # rolls the whole upgrade back
                        raise RuntimeError(f"foreign keys broken by the migration: {broken[:5]}")
        finally:
            if sqlite:
                _driver(conn).execute("PRAGMA foreign_keys=ON")
    return before, head_revision()


def _driver(conn: Any) -> Any:
    driver = conn.connection.driver_connection
    assert driver is not None  # a checked-out connection has one
    return driver


UNITS_REVISION = "0006"  # the migration that turns a config's offices into units


def units_created(before: str | None, after: str) -> bool:
    """Whether an upgrade from ``before`` ran the units migration."""
    return (before is None or before < UNITS_REVISION) and after >= UNITS_REVISION
