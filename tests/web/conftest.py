"""Fixtures for the web service: an AppContext over a database (SQLite and PostgreSQL, as
tests/conftest.py gives them), the application, and a client that speaks to it in-process."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from web import create_app
from workflow.app import AppContext
from workflow.core.config import LogSettings, Settings, load_settings
from workflow.core.logging import configure_logging


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
def json_logs() -> Iterator[None]:
    """The project's logging at INFO as JSON lines on stderr (read them with capsys); the
    suite's quiet setting again afterwards."""
    configure_logging(LogSettings(level="INFO", format="json"))
    yield
    configure_logging(LogSettings(level="WARNING", format="console"))
