"""The application context that the CLI, the scheduler and (next) the web service share."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager, suppress
from contextvars import ContextVar
from typing import Any

import sqlalchemy.exc
from sqlalchemy.engine import Connection

from workflow.core import schema
from workflow.core.clock import Clock, FixedClock, SystemClock, parse_time
from workflow.core.config import Settings
from workflow.core.db import RawConnection, connected, make_engine
from workflow.core.errors import InvalidInput, Step
from workflow.core.identity import Actor
from workflow.core.writer import Workflow
from workflow.deadlines.calendar import WorkCalendar, build_calendar


class _SharedConnection:
    """The one pooled connection of a unit of work (a web request): taken at its first use,
    returned at the end. Its users take turns (a request's dependencies and route run one
    after the other, each perhaps in another thread), never at once."""

    def __init__(self, ctx: AppContext) -> None:
        self.ctx = ctx  # its engine is made at first use too (a request may need none)
        self.conn: Connection | None = None

    def connection(self) -> Connection:
        if self.conn is None:
            self.conn = self.ctx.engine.connect()
        return self.conn

    def close(self) -> None:
        conn, self.conn = self.conn, None
        if conn is not None:
            conn.close()  # a read left open (an error) is rolled back by the pool


# The unit of work's connection, if one is open (AppContext.one_connection). A context variable:
# the threads a web request's sync routes run in see their request's (anyio copies the context).
_shared: ContextVar[_SharedConnection | None] = ContextVar("ssj_shared_connection", default=None)


class AppContext:
    """One process's view of ssj: settings, the database URL, and, opened when first asked
    for, the engine, the calendar (config.yaml, recorded notices, the package) and the
    workflow. Built once per CLI invocation, per scheduler, and (next) per web process."""

    def __init__(self, settings: Settings, db_url: str) -> None:
        self.settings = settings
        self.db_url = db_url
        self._engine: Any = None
        self._wf: Workflow | None = None
        self._calendar: WorkCalendar | None = None
        self.clock: Clock = SystemClock()
        self.may_create = False  # only ssj init makes a new database file
        self.as_user: str | None = None  # the CLI's --as / SSJ_USER
        self.actor: Actor | None = None  # the authenticated account, once checked
        self._schema_checked = False  # by the first workflow (new_workflow)
        self._live: str | None = None  # "live" once a workflow found the database live
        # Where each setting came from (config.load_with_sources), when the command line
        # loaded them, and its --db: what the effective settings show (GET /api/v1/config).
        self.config_sources: dict[str, str] | None = None
        self.db_override: str | None = None

    @property
    def engine(self) -> Any:
        if self._engine is None:
            self._engine = make_engine(self.settings.db, self.db_url, create=self.may_create)
        return self._engine

    def require_schema(self) -> None:
        current = schema.current_revision(self.engine)
        if current != schema.head_revision():
            raise InvalidInput(
                f"数据库 {self.safe_url()} 尚未初始化或版本过旧（当前 {current or '无'}，"
                f"需要 {schema.head_revision()}）：请先初始化或升级数据库",
                steps=[Step("init")],
            )

    @property
    def wf(self) -> Workflow:
        if self._wf is None:
            self._wf = self.new_workflow()
        return self._wf

    def new_workflow(self) -> Workflow:
        """A workflow of its own (one connection) for one thread: a web request that writes
        (on the request's connection, see ``one_connection``). The caller closes it. The schema is checked for the first workflow of the context
        only: a web process makes one per write request, and the check costs a query and
        Alembic's setup (≈ 2 ms; /readyz still checks on every probe)."""
        if not self._schema_checked:
            self.require_schema()
            self._schema_checked = True
        shared = _shared.get()
        wf = Workflow(
            self.engine,
            raw=None if shared is None else RawConnection.over(shared.connection()),
            purpose=self._live,
            clock=self.clock,
            min_group_size=self.settings.lifecycle.min_group_size,
            rules=self.settings.draw,
            calendar=self.calendar,
            deadlines=self.settings.deadlines,
            timezone=self.settings.calendar.timezone,
            clerks=self.settings.clerks,
        )
        if self._live is None and wf.purpose == "live":
            # Live is the strict purpose (only the real time may be written) and a database
            # with events keeps its purpose (purpose.settle): the web's workflows, one per
            # write, need not each ask again. Any other purpose is read by each workflow.
            self._live = "live"
        return wf

    def close(self) -> None:
        """Release the database connections when the command ends (tests run many in one
        process; a server counts every open connection)."""
        self.drop_workflow()
        if self._engine is not None:
            self._engine.dispose()
            self._engine = None

    def drop_workflow(self) -> None:
        wf, self._wf = self._wf, None
        if wf is not None:
            with suppress(Exception):
                wf.close()

    @property
    def calendar(self) -> WorkCalendar:
        """config.yaml's years, the database's recorded years (when the database is there),
        the package, provisional years beyond."""
        if self._calendar is None:
            self._calendar = build_calendar(self.settings.calendar, self._recorded_years())
        return self._calendar

    def _recorded_years(self) -> dict[int, Any]:
        from workflow.deadlines import calendar_years

        try:
            if schema.current_revision(self.engine) != schema.head_revision():
                return {}  # not initialised: nothing recorded (`ssj calendar add` needs no DB)
            conn = RawConnection(self.engine)
        except (sqlalchemy.exc.OperationalError, InvalidInput):
            return {}  # unreachable or no file yet: the package and config.yaml still answer
        try:
            with conn.read() as cur:
                return calendar_years.load(cur, conn.sql)
        finally:
            conn.close()

    def at(self, now: str | None) -> None:
        """Run as of ``now`` (ISO time, Asia/Shanghai when no offset): ``--now``."""
        if now is not None:
            try:
                when = parse_time(now, self.settings.calendar.timezone)
            except (ValueError, OverflowError) as e:
                raise InvalidInput(f"指定时刻 {e}", field="now", value=now) from None
            # Deadlines are walked year by year up to --now: a far year would run for hours.
            if not 2000 <= when.year <= 2099:
                raise InvalidInput(
                    f"指定时刻 {now} 超出范围：应在 2000 年至 2099 年之间", field="now", value=now
                )
            self.clock = FixedClock(when)
            if self._wf is not None:  # built already (e.g. to read the purpose): move it too
                self._wf.clock = self.clock

    def rehearsal(self, now: str | None) -> bool:
        """``--now`` on a writing command: run as of ``now``; on a live database that is a
        rehearsal (a dry run that writes nothing; the interface says so). Demo and test
        databases write as of ``now``."""
        self.at(now)
        return now is not None and self.wf.purpose == "live"

    @contextmanager
    def raw(self) -> Iterator[RawConnection]:
        """A DBAPI connection for the streaming commands (verify, replay, import, export)."""
        self.require_schema()
        with self.connect() as conn:
            yield conn

    @contextmanager
    def connect(self) -> Iterator[RawConnection]:
        """A DBAPI connection, closed after the block, without the schema check of ``raw``:
        the web service checked the schema when it became ready (/readyz), and a request
        should not pay one more query for it. Within ``one_connection``: that connection."""
        shared = _shared.get()
        if shared is not None:
            yield RawConnection.over(shared.connection())
            return
        conn = RawConnection(self.engine)
        try:
            yield conn
        finally:
            conn.close()

    @contextmanager
    def reading(self) -> Iterator[Connection]:
        """A SQLAlchemy connection for reads, its transaction committed after the block (see
        ``db.connected``): the unit of work's (``one_connection``), or one for the block."""
        shared = _shared.get()
        if shared is None:
            with connected(self.engine) as c:
                yield c
            return
        c = shared.connection()
        yield c
        c.commit()

    @contextmanager
    def one_connection(self) -> Iterator[None]:
        """Within the block — a web request (web/_middleware.py) — ``connect``, ``reading``
        and ``new_workflow`` share one pooled connection, checked out at the first of them
        and returned after the block. Each checkout costs a ping and a transaction's round
        trips; a request used to take three: authentication, its lookups, its write
        (bench/api.py, docs/PERFORMANCE.md)."""
        shared = _SharedConnection(self)
        token = _shared.set(shared)
        try:
            yield
        finally:
            _shared.reset(token)
            shared.close()

    def safe_url(self) -> str:
        return sqlalchemy.engine.make_url(self.db_url).render_as_string(hide_password=True)
