"""Browser tests (issue #12): the real service (uvicorn in a thread, the application ``ssj
serve`` runs, over a test database on the tests' clock) driven by Playwright in Debian's
Chromium (``/usr/bin/chromium``, headless; Playwright's own browser downloads are not used).

Without chromium or the ``playwright`` package these tests are skipped with the reason;
``SSJ_REQUIRE_BROWSER=1`` (set by ``.ci/run``) makes that a failure. ``make test`` installs
both. Each server runs once per module and backend (SQLite and PostgreSQL, as every
database test).

Screenshots of each page a test visits are kept under ``tests/browser/artifacts/``
(git-ignored; ``SSJ_BROWSER_ARTIFACTS`` puts them elsewhere), named
``<test>[<backend>]-<step>.png``.
"""

from __future__ import annotations

import os
import re
import socket
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import add_account, database, drawn_task
from workflow.app import AppContext
from workflow.core import purpose, schema
from workflow.core.clock import FixedClock
from workflow.core.config import DbSettings, load_settings
from workflow.core.db import make_engine
from workflow.core.writer import Workflow
from workflow.deadlines.calendar import WorkCalendar

CHROMIUM = "/usr/bin/chromium"
REQUIRE_BROWSER = os.environ.get("SSJ_REQUIRE_BROWSER") == "1"
ARTIFACTS = Path(os.environ.get("SSJ_BROWSER_ARTIFACTS") or Path(__file__).parent / "artifacts")
PASSWORD = "correct-horse-battery-9"
# The service's clock in these tests: 2024-04-15 09:00 in Beijing. The data is written on
# the suite's clock (2024-04-01), so the draws' confirmation deadlines are overdue by then.
SERVER_TIME = datetime(2024, 4, 15, 1, 0, tzinfo=UTC)
DATA_TIME = datetime(2024, 4, 1, 1, 0, tzinfo=UTC)

# One account per role: (username, role, display name).
ACCOUNTS = (
    ("b-admin", "admin", "王管理"),
    ("b-clerk", "clerk", "张录入"),
    ("b-inspector", "inspector", "李检查"),
    ("b-supervisor", "supervisor", "赵督办"),
    ("b-auditor", "auditor", "钱审计"),
)
OFFICES = ("劳动保障监察大队", "社会保险科")


def _unavailable(reason: str) -> None:
    if REQUIRE_BROWSER:
        pytest.fail(f"{reason} (SSJ_REQUIRE_BROWSER=1 makes the browser tests mandatory)")
    pytest.skip(reason)


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    if not os.access(CHROMIUM, os.X_OK):
        _unavailable(f"{CHROMIUM} is missing (apt-get install chromium; `make test` does it)")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _unavailable("the playwright package is missing (pip install -e '.[test]')")
    with sync_playwright() as p:
        b = p.chromium.launch(
            executable_path=CHROMIUM,
            headless=True,
            # As root (containers, CI) chromium's sandbox cannot start.
            args=["--no-sandbox", "--disable-dev-shm-usage"],
        )
        yield b
        b.close()


@dataclass
class Server:
    url: str
    backend: str
    db_url: str
    ctx: AppContext
    tasks: dict[str, int] = field(default_factory=dict)  # office → its overdue task


def _load(db_url: str) -> dict[str, int]:
    """The accounts, and one drawn task per office, unconfirmed: overdue by SERVER_TIME."""
    engine = make_engine(DbSettings(), db_url, create=True)
    schema.upgrade(engine)
    purpose.write(engine, purpose.TEST)
    wf = Workflow(engine, calendar=WorkCalendar(), clock=FixedClock(DATA_TIME, tick_us=1000))
    try:
        tasks = {}
        for office in OFFICES:
            tasks[office], _ = drawn_task(wf, 1, initiating_office=office)
        for username, role, name in ACCOUNTS:
            add_account(
                wf, username, role, password=PASSWORD, name=name,
                inspector="J000" if role == "inspector" else None,
            )  # fmt: skip
    finally:
        wf.close()
        engine.dispose()
    return tasks


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def server(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Server]:
    """The service on a free loopback port over a database of its own."""
    import uvicorn

    from web import create_app

    tmp = tmp_path_factory.mktemp("browser")
    with database(request.param, tmp, prefix="b") as db_url:
        tasks = _load(db_url)
        ctx = AppContext(load_settings(None, env={}), db_url)
        ctx.clock = FixedClock(SERVER_TIME, tick_us=1000)
        sock = socket.socket()
        sock.bind(("127.0.0.1", 0))
        sock.listen(64)  # listening before the server starts: no wait for it to come up
        port = sock.getsockname()[1]
        config = uvicorn.Config(
            create_app(ctx), log_level="warning", lifespan="off", access_log=False
        )
        srv = uvicorn.Server(config)
        thread = threading.Thread(target=srv.run, kwargs={"sockets": [sock]}, daemon=True)
        thread.start()
        try:
            yield Server(f"http://127.0.0.1:{port}", request.param, db_url, ctx, tasks)
        finally:
            srv.should_exit = True
            thread.join(timeout=10)
            sock.close()
            ctx.close()


class Shots:
    """Screenshots of the pages a test visits, kept as the test's artifacts."""

    def __init__(self, page: Any, name: str) -> None:
        self.page = page
        self.name = re.sub(r"[^\w\[\]-]+", "_", name)
        self.n = 0

    def __call__(self, step: str) -> Path:
        self.n += 1
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        path = ARTIFACTS / f"{self.name}-{self.n:02d}-{step}.png"
        self.page.screenshot(path=str(path), full_page=True)
        return path


@pytest.fixture
def page(browser: Any, server: Server, request: pytest.FixtureRequest) -> Iterator[Any]:
    """A fresh browser context (no cookies) on the server, in zh-CN; any console error —
    a script or style the Content-Security-Policy refused, a script error — fails the test."""
    context = browser.new_context(base_url=server.url, locale="zh-CN")
    context.set_default_timeout(10_000)
    p = context.new_page()
    errors: list[str] = []
    p.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    p.on("pageerror", lambda e: errors.append(str(e)))
    p.shots = Shots(p, request.node.name)
    yield p
    context.close()
    # A 4xx page the test asked for is logged by chromium as a failed resource load.
    real = [e for e in errors if "Failed to load resource" not in e]
    assert not real, f"console errors: {real}"


def login(page: Any, username: str, password: str = PASSWORD, path: str = "/login") -> None:
    page.goto(path)
    page.get_by_label("用户名").fill(username)
    page.get_by_label("密码").fill(password)
    page.get_by_role("button", name="登录").click()


def labels_and_one_h1(page: Any) -> None:
    """Accessibility basics: every visible form control has a label; the page has one h1."""
    unlabelled = page.evaluate(
        """() => [...document.querySelectorAll('input, select, textarea')]
            .filter(e => e.type !== 'hidden')
            .filter(e => !(e.labels && e.labels.length) && !e.getAttribute('aria-label'))
            .map(e => e.name || e.id)"""
    )
    assert unlabelled == [], page.url
    assert page.locator("h1").count() == 1, page.url
