"""workflow/deadlines/scheduler.py directly: the jobs ``build`` registers, when each fires (asked
of its trigger as of explicit moments, never by waiting), what each calls, and what ``serve``
does with a sweep that succeeds or fails — on a stand-in scheduler, with the signal handlers
captured rather than installed, so nothing sleeps and no signal is sent.

The real service in a subprocess, stopped by SIGTERM, is tests/workflow/cli/test_deadlines.py.
"""

from __future__ import annotations

import signal
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from apscheduler.schedulers.background import BackgroundScheduler

from tests.conftest import drawn_task, register_offices
from workflow.app import AppContext
from workflow.core.clock import FixedClock
from workflow.core.config import Settings
from workflow.core.writer import Workflow
from workflow.deadlines import scheduler, sweep

SH = ZoneInfo("Asia/Shanghai")
FIXED = [
    "monthly_report",
    "progress_report_Q1",
    "progress_report_Q2",
    "progress_report_Q3",
    "progress_report_Q4",
    "review",
    "archive",
]


Build = Callable[..., tuple[BackgroundScheduler, list[str]]]
# The AppContext, the sweeps its jobs will run, the stand-in scheduler, the signal handlers
# serve installed, and the task drawn.
Service = tuple[AppContext, list[str], dict[str, "StandIn"], dict[int, Any], int]


class Ctx:
    """What ``build`` reads of the AppContext: its settings."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings


@pytest.fixture
def built() -> Iterator[Build]:
    """``build`` on the given settings, started paused (jobs resolved, nothing runs)."""
    made: list[BackgroundScheduler] = []

    def build(**config: Any) -> tuple[BackgroundScheduler, list[str]]:
        calls: list[str] = []
        s = scheduler.build(Ctx(Settings.model_validate(config)), calls.append)  # type: ignore[arg-type]
        s.start(paused=True)
        made.append(s)
        return s, calls

    yield build
    for s in made:
        s.shutdown(wait=False)


def next_fire(s: BackgroundScheduler, job: str, after: datetime) -> datetime:
    found = s.get_job(job)
    assert found is not None, job
    when = found.trigger.get_next_fire_time(None, after)
    assert when is not None
    return when  # type: ignore[no-any-return]


def test_the_jobs_and_what_each_calls(built: Build) -> None:
    s, calls = built()
    jobs = {j.id: j for j in s.get_jobs()}
    assert sorted(jobs) == sorted(["sweep", "morning", *FIXED])  # no digest unless configured
    # Every job is the sweep, told why it runs.
    for job in jobs.values():
        job.func(*job.args)
    assert sorted(calls) == sorted(["interval", "morning", *FIXED])
    # One run at a time, a backlog is one run, a run missed by more than 300 s is dropped.
    assert {(j.coalesce, j.max_instances, j.misfire_grace_time) for j in jobs.values()} == {
        (True, 1, 300)
    }
    assert jobs["sweep"].trigger.interval == timedelta(minutes=5)
    assert jobs["sweep"].name == "巡检"


def test_when_each_job_fires(built: Build) -> None:
    s, _ = built()
    # The morning sweep: every day at 08:00 Beijing time, weekends too (a make-up working
    # Sunday is a working day: Sunday 2024-04-07).
    assert next_fire(s, "morning", datetime(2024, 4, 6, 8, 0, 1, tzinfo=SH)) == datetime(
        2024, 4, 7, 8, tzinfo=SH
    )
    # Given in another zone, the moment is the same.
    utc_evening = datetime(2024, 4, 7, 0, 30, tzinfo=ZoneInfo("UTC"))  # 08:30 in Beijing
    assert next_fire(s, "morning", utc_evening) == datetime(2024, 4, 8, 8, tzinfo=SH)
    # The monthly report's last day (the 22nd), each month, December into January.
    assert next_fire(s, "monthly_report", datetime(2024, 12, 22, 8, 0, 1, tzinfo=SH)) == (
        datetime(2025, 1, 22, 8, tzinfo=SH)
    )
    # Each progress report's last day: the day before 04-08, 07-01, 10-11, 12-28.
    after = datetime(2024, 1, 1, tzinfo=SH)
    assert [
        next_fire(s, f"progress_report_Q{i}", after).date().isoformat() for i in range(1, 5)
    ] == [
        "2024-04-07",
        "2024-06-30",
        "2024-10-10",
        "2024-12-27",
    ]
    # The review and the archive dates are inclusive: on the day itself.
    assert next_fire(s, "review", after) == datetime(2024, 4, 30, 8, tzinfo=SH)
    assert next_fire(s, "archive", datetime(2024, 12, 20, 8, 0, 1, tzinfo=SH)) == datetime(
        2025, 12, 20, 8, tzinfo=SH
    )


def test_configured_times_zone_and_digest(built: Build) -> None:
    s, calls = built(
        scheduler={
            "morning_sweep": "07:45",
            "sweep_every_minutes": 15,
            "misfire_grace_seconds": 60,
        },
        mail={"digest": True, "digest_time": "17:05"},
        deadlines={"monthly_report_before_day": 10, "progress_reports_before": ["07-01"]},
        calendar={"timezone": "Asia/Urumqi"},
    )
    urumqi = ZoneInfo("Asia/Urumqi")
    jobs = {j.id: j for j in s.get_jobs()}
    assert sorted(jobs) == sorted(
        ["sweep", "morning", "digest", "monthly_report", "progress_report_Q1", "review", "archive"]
    )
    assert jobs["sweep"].trigger.interval == timedelta(minutes=15)
    assert {j.misfire_grace_time for j in jobs.values()} == {60}
    after = datetime(2024, 3, 1, tzinfo=urumqi)
    assert next_fire(s, "morning", after) == datetime(2024, 3, 1, 7, 45, tzinfo=urumqi)
    assert next_fire(s, "digest", after) == datetime(2024, 3, 1, 17, 5, tzinfo=urumqi)
    assert next_fire(s, "monthly_report", after) == datetime(2024, 3, 9, 7, 45, tzinfo=urumqi)
    assert next_fire(s, "progress_report_Q1", after) == datetime(2024, 6, 30, 7, 45, tzinfo=urumqi)
    jobs["digest"].func(*jobs["digest"].args)
    assert calls == ["digest"]


# ---------------------------------------------------------------------------------------------
# serve: the sweep each job runs, on a stand-in scheduler


class StandIn:
    """Takes the place of the BackgroundScheduler: ``start`` runs the given jobs' sweeps at
    once, then stops the service as SIGTERM would."""

    def __init__(self, run_sweep: Callable[[str], None], handlers: dict[int, Any]) -> None:
        self.run_sweep = run_sweep
        self.handlers = handlers
        self.runs: list[str] = []
        self.errors: list[BaseException] = []
        self.shutdown_waited: bool | None = None
        self.running = False  # as BackgroundScheduler.running

    def start(self) -> None:
        self.running = True
        for why in self.runs:
            try:
                self.run_sweep(why)
            except Exception as e:  # APScheduler logs it through the job-error listener
                self.errors.append(e)
        self.handlers[signal.SIGTERM](signal.SIGTERM, None)

    def get_jobs(self) -> list[Any]:
        return []

    def shutdown(self, wait: bool = True) -> None:
        self.shutdown_waited = wait
        self.running = False


@pytest.fixture
def service(
    monkeypatch: pytest.MonkeyPatch, wf: Workflow, clock: FixedClock, db_url: str, tmp_path: Path
) -> Iterator[Service]:
    """An AppContext on the test database with its clock fixed, and ``serve`` wired to a
    stand-in scheduler; the signal handlers it installs are captured, not installed."""
    handlers: dict[int, Any] = {}
    monkeypatch.setattr(
        signal, "signal", lambda signum, handler: handlers.__setitem__(signum, handler)
    )
    stand_in: dict[str, StandIn] = {}

    def build(a: AppContext, run_sweep: Callable[[str], None]) -> StandIn:
        stand_in["s"] = StandIn(run_sweep, handlers)
        stand_in["s"].runs = list(runs)
        return stand_in["s"]

    runs: list[str] = []
    monkeypatch.setattr(scheduler, "build", build)
    settings = Settings.model_validate(
        {
            "offices": {
                "劳动保障监察大队": {
                    "head": "王队长",
                    "email": "head@bureau.test",
                    "reports": False,
                }
            },
            "mail": {"transport": "maildir", "maildir": str(tmp_path / "mail")},
        }
    )
    a = AppContext(settings, db_url)
    a.clock = FixedClock(datetime(2024, 4, 8, 9, tzinfo=SH), tick_us=1000)
    clock.set(datetime(2024, 4, 1, 9, tzinfo=SH))
    register_offices(wf, settings)
    t, _ = drawn_task(wf, 1, initiating_office="劳动保障监察大队", months="2024-04")
    try:
        yield a, runs, stand_in, handlers, t
    finally:
        a.close()


def _steps(wf: Workflow) -> list[tuple[str, str]]:
    with wf.raw.read() as cur:
        cur.execute("SELECT key, at FROM deadline_step ORDER BY id")
        return [(k.split(":")[2] + "|" + k.split("|")[1], at) for k, at in cur.fetchall()]


def test_serve_sweeps_as_of_the_injected_clock_and_stops_on_sigterm(
    service: Service, wf: Workflow
) -> None:
    a, runs, stand_in, handlers, _ = service
    runs += ["interval", "morning"]
    said: list[str] = []
    scheduler.serve(a, echo=said.append)
    s = stand_in["s"]
    assert s.errors == [] and s.shutdown_waited is True
    assert set(handlers) == {signal.SIGTERM, signal.SIGINT}
    # As of the fixed clock, Monday 2024-04-08 (not the machine's date): the confirmation
    # due 04-03 is 2 working days late, both steps taken once though two jobs swept.
    steps = _steps(wf)
    assert [k for k, _ in steps] == ["confirm|overdue", "confirm|office_head"]
    assert all(at.startswith("2024-04-08T01:00") for _, at in steps)
    assert len(list((Path(a.settings.mail.maildir) / "new").iterdir())) == 1
    assert said[0].startswith("ssj 服务已启动：数据库 ")
    assert said[0].endswith("每 5 分钟巡检一次，每天 08:00 及报告截止日另巡检一次。")
    assert said[1].startswith("邮件发往：") and said[1].endswith("按 Ctrl-C 停止。")
    assert said[2:] == ["ssj 服务已停止（本次共巡检 2 次）。"]


def test_a_failing_sweep_is_raised_to_the_scheduler_on_a_fresh_connection(
    service: Service, monkeypatch: pytest.MonkeyPatch
) -> None:
    a, runs, stand_in, _, _ = service
    runs += ["interval", "interval"]
    seen: list[int] = []

    def broken(wf: Any, settings: Settings, *args: Any, **kw: Any) -> Any:
        seen.append(id(wf))
        raise RuntimeError("connection lost")

    monkeypatch.setattr(sweep, "run", broken)
    said: list[str] = []
    scheduler.serve(a, echo=said.append)
    s = stand_in["s"]
    # Each failure reached the scheduler (its listener logs it) and the service went on;
    # the workflow was dropped after each, so the retry ran on a new one.
    assert [str(e) for e in s.errors] == ["connection lost", "connection lost"]
    assert len(seen) == 2 and seen[0] != seen[1]
    assert a._wf is None
    assert said[-1] == "ssj 服务已停止（本次共巡检 2 次）。"
