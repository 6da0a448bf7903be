"""Running the ``ssj`` app in-process, as the CLI tests do.

A command binds the account of ``--as`` for the rest of its context (core/identity.py: the
process ends with the command). In-process the binding would outlive the command and stand
for every later call of the test — and of the tests after it — so each run here is wrapped in
``identity.acting_as(None)``, which restores the binding as it was before.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from typer.testing import CliRunner

from workflow.cli.main import app
from workflow.core import identity

runner = CliRunner()


def invoke(
    args: Sequence[str], *, input: str | None = None, env: Mapping[str, str] | None = None
) -> Any:
    """The app's result for ``args`` (exceptions not caught: a traceback fails the test)."""
    with identity.acting_as(None):
        return runner.invoke(app, list(args), input=input, env=env, catch_exceptions=False)


def ssj(
    db_url: str,
    *args: str,
    code: int = 0,
    input: str | None = None,
    env: Mapping[str, str] | None = None,
) -> str:
    """Run ``ssj --db DB ARGS``, check its exit code; stdout alone on success (what scripts
    parse), stdout and stderr on failure (where the message is)."""
    r = invoke(["--db", db_url, *args], input=input, env=env)
    assert r.exit_code == code, (args, r.output)
    return str(r.stdout if code == 0 else r.output)


def root_code(db_url: str) -> str:
    """The code of the database's root unit (what ``ssj init`` creates)."""
    from workflow.core import units
    from workflow.core.config import DbSettings
    from workflow.core.db import RawConnection, make_engine

    engine = make_engine(DbSettings(), db_url)
    raw = RawConnection(engine)
    try:
        with raw.read() as cur:
            return units.root(cur, raw.sql).code
    finally:
        raw.close()
        engine.dispose()
