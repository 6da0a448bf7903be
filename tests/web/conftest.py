"""Fixtures for the web service: an AppContext over a database (SQLite and PostgreSQL, as
tests/conftest.py gives them), the application, and a client that speaks to it in-process."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from web import create_app
from workflow.app import AppContext
from workflow.core.clock import FixedClock
from workflow.core.config import LogSettings, Settings, load_settings
from workflow.core.logging import configure_logging
from workflow.core.writer import Workflow


@pytest.fixture
def web_settings() -> Settings:
    return load_settings(None, env={})


@pytest.fixture
def ctx(engine, db_url: str, web_settings: Settings) -> Iterator[AppContext]:  # type: ignore[no-untyped-def]
    """A context over an initialised database (the ``engine`` fixture migrates it)."""
    a = AppContext(web_settings, db_url)
    yield a
    a.close()


@pytest.fixture
def bare_ctx(tmp_path, web_settings: Settings) -> Iterator[AppContext]:  # type: ignore[no-untyped-def]
    """A context whose database no test touches (a SQLite file that is not there)."""
    a = AppContext(web_settings, f"sqlite:///{tmp_path / 'untouched.db'}")
    yield a
    a.close()


@pytest.fixture
def bare_app(bare_ctx: AppContext) -> FastAPI:
    return create_app(bare_ctx)


@pytest.fixture
def bare_client(bare_app: FastAPI) -> Iterator[TestClient]:
    with TestClient(bare_app) as c:
        yield c


@pytest.fixture
def api(ctx: AppContext, clock: FixedClock) -> Iterator[TestClient]:
    """A client of the service whose requests run on the tests' clock (2024-04-01 09:00 in
    Beijing, as the ``wf`` fixture's writes): deadlines and stated dates do not depend on
    today's date."""
    ctx.clock = clock
    with TestClient(create_app(ctx)) as c:
        yield c


def token_of(wf: Workflow, username: str) -> dict[str, str]:
    """The header that authenticates an existing account (``add_account``: an inspector's
    with its directory entry …) with an API token of its own."""
    from workflow.core import accounts

    token, _ = accounts.create_token(wf.raw, username, "测试", by=None, now=wf.event_time())
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture
def json_logs() -> Iterator[None]:
    """The project's logging at INFO as JSON lines on stderr (read them with capsys); the
    suite's quiet setting again afterwards."""
    configure_logging(LogSettings(level="INFO", format="json"))
    yield
    configure_logging(LogSettings(level="WARNING", format="console"))


# ---------------------------------------------------------------------------------------------
# Units and accounts for the resources' tests


def two_counties(wf: Any) -> tuple[str, str, str]:
    """The root made a province with a city holding two counties (codes ``T-CITY``,
    ``T-A`` 甲县人社局, ``T-B`` 乙县人社局): the accounts of one county do not see the
    other's rows. Returns the three codes (city, county A, county B)."""
    from workflow.core import units

    with wf.raw.write() as cur:
        sql, now = wf.raw.sql, wf.event_time()
        root = units.root(cur, sql)
        units.update(cur, sql, root.code, {"kind": "province"}, actor="测试", now=now, reason=None)
        for new in (
            units.NewUnit("T-CITY", "测试市人社局", "city", root.code),
            units.NewUnit("T-A", "甲县人社局", "county", "T-CITY"),
            units.NewUnit("T-B", "乙县人社局", "county", "T-CITY"),
        ):
            units.insert(cur, sql, new, actor="测试", now=now, reason=None)
    return "T-CITY", "T-A", "T-B"


def bearer(wf: Any, username: str, role: str = "clerk", unit: str | None = None) -> dict[str, str]:
    """A new account of ``role`` in ``unit`` (default: the root) and the header that carries
    one of its API tokens."""
    from tests.conftest import add_account
    from workflow.core import accounts

    add_account(wf, username, role, unit=unit)
    # The tests' clock, not the machine's: as every other event of the test database.
    token, _ = accounts.create_token(wf.raw, username, "测试", by=None, now=wf.event_time())
    return {"Authorization": f"Bearer {token}"}


def events_after(wf: Any, seq: int) -> list[tuple[str, str, dict[str, Any]]]:
    """(kind, actor, payload) of every event after ``seq``."""
    import json

    with wf.raw.read() as cur:
        cur.execute(
            wf.raw.sql("SELECT kind, actor, payload FROM event WHERE seq > ? ORDER BY seq"), (seq,)
        )
        return [(k, a, json.loads(p)) for k, a, p in cur.fetchall()]


def head_seq(wf: Any) -> int:
    with wf.raw.read() as cur:
        cur.execute("SELECT COALESCE(MAX(seq), 0) FROM event")
        return int(cur.fetchone()[0])
