"""Fixtures: every database test runs on SQLite and on PostgreSQL.

PostgreSQL comes from SSJ_TEST_POSTGRES_URL (default: the local server's ``test`` database);
each test gets a schema of its own. Without a reachable server the PostgreSQL half is skipped
with the reason, unless SSJ_REQUIRE_POSTGRES=1 (CI), where it fails.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote

import psycopg
import pytest

from workflow.core import purpose, schema
from workflow.core.clock import FixedClock
from workflow.core.config import DbSettings
from workflow.core.db import make_engine
from workflow.core.writer import Workflow
from workflow.deadlines.calendar import WorkCalendar
from workflow.sampling import plans

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


@contextmanager
def database(backend: str, tmp: Path, prefix: str = "t") -> Iterator[str]:
    """A database URL of its own for ``backend``: a SQLite file in ``tmp``, or a PostgreSQL
    schema made for the block (named ``prefix`` and a random part) and dropped after it."""
    if backend == "sqlite":
        yield f"sqlite:///{tmp / 'ssj.db'}"
        return
    admin = _pg_admin()
    name = f"{prefix}_{uuid.uuid4().hex[:12]}"
    admin.execute(f"CREATE SCHEMA {name}")
    sep = "&" if "?" in PG_URL else "?"
    try:
        yield f"{PG_URL}{sep}options={quote(f'-csearch_path={name}')}"
    finally:
        admin.execute(f"DROP SCHEMA {name} CASCADE")
        admin.close()


@pytest.fixture(params=BACKENDS)
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    with database(request.param, tmp_path) as url:
        yield url


# The clerks the tests act as (config.yaml ``clerks``): they may record any target's result.
CLERKS = ("x", "甲", "测试", "worker")


@pytest.fixture
def settings() -> DbSettings:
    return DbSettings()


@pytest.fixture
def engine(db_url: str, settings: DbSettings):  # type: ignore[no-untyped-def]
    eng = make_engine(settings, db_url)
    schema.upgrade(eng)
    # A test database: its FixedClock may write (a live one takes the real time only).
    purpose.write(eng, purpose.TEST)
    yield eng
    eng.dispose()


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(datetime(2024, 4, 1, 1, 0, tzinfo=UTC), tick_us=1000)


@pytest.fixture
def wf(engine, clock: FixedClock) -> Iterator[Workflow]:  # type: ignore[no-untyped-def]
    w = Workflow(engine, calendar=WorkCalendar(), clock=clock, clerks=CLERKS)
    yield w
    w.close()


def code(i: int) -> str:
    from workflow.sampling.credit_code import make

    return make("130227", i)


def load_directory(
    wf: Workflow,
    targets: list[list[str]] | None = None,
    inspectors: list[list[str]] | None = None,
    items: list[list[str]] | None = None,
) -> None:
    """Import rows (in the directory's column order) through the real importer."""
    import tempfile
    from pathlib import Path

    from workflow.sampling.directories import KINDS, import_file, write_table

    with tempfile.TemporaryDirectory() as tmp:
        for kind, rows in (("items", items), ("targets", targets), ("inspectors", inspectors)):
            if not rows:
                continue
            path = Path(tmp) / f"{kind}.csv"
            write_table(KINDS[kind], path, rows)
            import_file(wf.raw, kind, path, actor="测试", now="2024-04-01T00:00:00.000000Z")


def target_row(c: str, region: str = "迁西县", grade: str = "B", **kw: str) -> list[str]:
    row = {
        "code": c,
        "name": f"对象{c[-4:]}",
        "type": "用人单位",
        "industry": "制造业",
        "region": region,
        "size": "小型",
        "grade": grade,
        "tags": "",
        "violations": "0",
        "complaints": "0",
        "last_inspected": "",
    }
    row.update(kw)
    return list(row.values())


def inspector_row(
    cert: str,
    fields: str = "劳动保障监察",
    recusal: str = "",
    available: str = "是",
    email: str = "",
) -> list[str]:
    return [cert, f"人员{cert}", fields, "", "劳动保障监察大队", recusal, email, available]


def drawn_task(
    wf: Workflow, targets: int = 2, plan: str = "2024001", email: bool = False, **spec: Any
) -> tuple[int, list[str]]:
    """A task moved to ``drawn`` by the real draw: ``targets`` targets of its own region, all
    drawn (ratio 100%), groups of two from the inspector directory (with e-mail addresses
    ``CERT@bureau.test`` when ``email``); ``spec``: more task fields (months, office, ...)."""
    from workflow.sampling.task_draw import draw_task

    t, codes = planned_task(wf, targets, plan, email, **spec)
    draw_task(wf, t, actor="测试")
    return t, codes


def planned_task(
    wf: Workflow, targets: int = 2, plan: str = "2024001", email: bool = False, **spec: Any
) -> tuple[int, list[str]]:
    """A task ready to draw, as ``drawn_task`` draws it: its plan published (the commitment
    out), its ``targets`` targets and the inspectors in the directories."""
    from contextlib import suppress

    from workflow.core.errors import InvalidInput

    with suppress(InvalidInput):  # the plan may exist already
        plans.create_plan(wf, plan, unit="迁西县人力资源和社会保障局", actor="测试")
    region = f"测试区{uuid.uuid4().hex[:8]}"
    t = plans.create_task(
        wf, plan, name="测试任务", actor="测试", ratio="1", filters={"region": [region]}, **spec
    )
    codes = [code(1000 * t + i) for i in range(targets)]
    certs = [f"J{i:03d}" for i in range(max(4, targets))]
    inspectors = [inspector_row(c, email=f"{c}@bureau.test" if email else "") for c in certs]
    load_directory(wf, [target_row(c, region) for c in codes], inspectors)
    plans.publish(wf, plan, actor="测试")
    return t, codes


@pytest.fixture(autouse=True, scope="session")
def _quiet_logs() -> None:
    from workflow.core.config import LogSettings
    from workflow.core.logging import configure_logging

    configure_logging(LogSettings(level="WARNING", format="console"))


# ---------------------------------------------------------------------------------------------
# A real SMTP server (aiosmtpd) on a loopback port


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class SmtpSink:
    """Collects what an aiosmtpd server receives; ``refuse`` makes it reject recipients."""

    def __init__(self) -> None:
        self.envelopes: list[Any] = []
        self.refuse: set[str] = set()

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):  # type: ignore[no-untyped-def]
        if address in self.refuse:
            return "550 5.1.1 mailbox unavailable"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):  # type: ignore[no-untyped-def]
        self.envelopes.append(envelope)
        return "250 OK"

    def messages(self) -> list[Any]:
        from email import message_from_bytes, policy

        return [message_from_bytes(e.content, policy=policy.default) for e in self.envelopes]


class SmtpServer:
    def __init__(self, port: int | None = None) -> None:
        self.port = port or free_port()
        self.sink = SmtpSink()
        self._controller: Any = None

    def start(self) -> SmtpServer:
        from aiosmtpd.controller import Controller

        self._controller = Controller(self.sink, hostname="127.0.0.1", port=self.port)
        self._controller.start()
        return self

    def stop(self) -> None:
        if self._controller is not None:
            self._controller.stop()
            self._controller = None


@pytest.fixture
def smtp_server() -> Iterator[SmtpServer]:
    server = SmtpServer().start()
    yield server
    server.stop()


def register_offices(wf: Workflow, settings: Any) -> Any:
    """Offices are units (DESIGN §8): make ``settings.offices`` (a test's way of saying which
    offices the bureau has) the root unit's offices, adding or updating each; returns
    ``settings`` for chaining."""
    from workflow.core import units

    now = wf.event_time()
    with wf.raw.write() as cur:
        root = units.root(cur, wf.raw.sql)
        have = {u.name: u for u in units.load(cur, wf.raw.sql) if u.parent_id == root.id}
        for i, (name, o) in enumerate(settings.offices.items(), start=1):
            fields = {"head": o.head, "email": o.email, "reports": o.reports}
            if name in have:
                units.update(cur, wf.raw.sql, have[name].code, fields, actor="测试", now=now,
                             reason=None)  # fmt: skip
            else:
                new = units.NewUnit(f"T{root.id}-{len(have) + i:02d}", name, "office",
                                    root.code, **fields)  # fmt: skip
                units.insert(cur, wf.raw.sql, new, actor="测试", now=now, reason=None)
    return settings


def add_office(
    wf: Workflow, name: str, head: str = "王队长", email: str = "head@bureau.test",
    reports: bool = True,
) -> None:  # fmt: skip
    """One office of the root unit (as config.yaml's ``offices`` used to say it)."""
    from workflow.core.config import Settings

    offices = {name: {"head": head, "email": email, "reports": reports}}
    register_offices(wf, Settings.model_validate({"offices": offices}))


def import_rows(
    wf: Workflow, folder: Any, kind: str, rows: list[list[str]], unit: str | None = None
) -> Any:
    """One directory file of ``rows`` (short rows padded) through the real importer, into
    ``unit``'s directory."""
    from pathlib import Path

    from workflow.sampling.directories import KINDS, import_file, write_table

    width = len(KINDS[kind].cols)
    path = Path(folder) / f"{kind}-{uuid.uuid4().hex[:6]}.csv"
    write_table(KINDS[kind], path, [r + [""] * (width - len(r)) for r in rows])
    return import_file(wf.raw, kind, path, actor="测试", now=wf.event_time(), unit=unit)


def add_account(
    target: Any,
    username: str,
    role: str = "clerk",
    *,
    unit: str | None = None,
    inspector: str | None = None,
    password: str | None = None,
    name: str = "",
) -> None:
    """An account (DESIGN §8) for a test: ``target`` is a Workflow or a database URL. ``unit``
    defaults to the root unit (the whole database); an inspector account names its directory
    entry (certificate number or unique name). What the CLI then acts as with ``--as``."""
    from workflow.core import accounts, units
    from workflow.core.db import RawConnection

    engine = None
    if isinstance(target, Workflow):
        raw = target.raw
    else:
        engine = make_engine(DbSettings(), target)
        raw = RawConnection(engine)
    try:
        if unit is None:
            with raw.read() as cur:
                unit = units.root(cur, raw.sql).code
        new = accounts.NewAccount(username, name or username, role, unit, password, "", inspector)
        accounts.add(raw, new, by=None, now=datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ"))
    finally:
        if engine is not None:
            raw.close()
            engine.dispose()
