"""Fixtures: every database test runs on SQLite and on PostgreSQL.

PostgreSQL comes from SSJ_TEST_POSTGRES_URL (default: the local server's ``test`` database);
each test gets a schema of its own. Without a reachable server the PostgreSQL half is skipped
with the reason, unless SSJ_REQUIRE_POSTGRES=1 (CI), where it fails.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from urllib.parse import quote

import psycopg
import pytest

from workflow import schema
from workflow.clock import FixedClock
from workflow.config import DbSettings
from workflow.db import make_engine
from workflow.engine import Workflow

PG_URL = os.environ.get("SSJ_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test")
REQUIRE_PG = os.environ.get("SSJ_REQUIRE_POSTGRES") == "1"
BACKENDS = ["sqlite", "postgresql"]


def _pg_admin() -> psycopg.Connection:
    try:
        return psycopg.connect(PG_URL, autocommit=True, connect_timeout=5)
    except psycopg.OperationalError as e:
        msg = f"PostgreSQL at {PG_URL} is not reachable: {e}"
        if REQUIRE_PG:
            pytest.fail(msg + " (SSJ_REQUIRE_POSTGRES=1 makes it mandatory)")
        pytest.skip(msg)


@pytest.fixture(params=BACKENDS)
def db_url(request: pytest.FixtureRequest, tmp_path) -> Iterator[str]:  # type: ignore[no-untyped-def]
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'ssj.db'}"
        return
    admin = _pg_admin()
    name = f"t_{uuid.uuid4().hex[:12]}"
    admin.execute(f"CREATE SCHEMA {name}")
    sep = "&" if "?" in PG_URL else "?"
    try:
        yield f"{PG_URL}{sep}options={quote(f'-csearch_path={name}')}"
    finally:
        admin.execute(f"DROP SCHEMA {name} CASCADE")
        admin.close()


@pytest.fixture
def settings() -> DbSettings:
    return DbSettings()


@pytest.fixture
def engine(db_url: str, settings: DbSettings):  # type: ignore[no-untyped-def]
    eng = make_engine(settings, db_url)
    schema.upgrade(eng)
    yield eng
    eng.dispose()


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(datetime(2024, 4, 1, 1, 0, tzinfo=UTC), tick_us=1000)


@pytest.fixture
def wf(engine, clock: FixedClock) -> Iterator[Workflow]:  # type: ignore[no-untyped-def]
    w = Workflow(engine, clock=clock)
    yield w
    w.close()


def code(i: int) -> str:
    from workflow.credit_code import make

    return make("130227", i)


def drawn_task(wf: Workflow, targets: int = 2, plan: str = "2024001") -> tuple[int, list[str]]:
    """A task moved to ``drawn`` with ``targets`` records of two inspectors each."""
    from contextlib import suppress

    from workflow.errors import InvalidInput

    with suppress(InvalidInput):  # the plan may exist already
        wf.create_plan(plan, unit="迁西县人力资源和社会保障局", actor="测试")
    t = wf.create_task(plan, name="测试任务", actor="测试")
    codes = [code(1000 * t + i) for i in range(targets)]
    for i, c in enumerate(codes):
        wf.add_record(t, c, target_name=f"对象{i}", inspectors=[f"J{i}a", f"J{i}b"], actor="测试")
    wf.fire(t, "draw", actor="测试")
    return t, codes


@pytest.fixture(autouse=True, scope="session")
def _quiet_logs() -> None:
    from workflow.config import LogSettings
    from workflow.logging import configure_logging

    configure_logging(LogSettings(level="WARNING", format="console"))
