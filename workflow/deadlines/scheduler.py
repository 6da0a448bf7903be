"""The scheduler (APScheduler 3): the sweep every few minutes, and at fixed local times — every
morning, the report due dates, the daily digest — inside ``ssj serve`` or ``ssj scheduler``.

Choices, deliberately:
- one worker thread: jobs never overlap inside a process (the workflow's connection is not
  thread-safe); across processes the sweep's transaction makes each step happen once;
- coalesce, max_instances=1: a backlog of missed runs is one run — the sweep is state-based,
  so one run catches up on all of it;
- misfire_grace_time (config): a run missed by longer (machine asleep) is dropped, not late;
- SIGTERM / SIGINT: stop taking new runs and shut down after the running job finishes, so
  no sweep is cut mid-way (it would roll back cleanly anyway: one transaction).
"""

from __future__ import annotations

import signal
import threading
import time
from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from apscheduler.events import EVENT_JOB_ERROR, EVENT_JOB_MISSED, JobExecutionEvent
from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger

from workflow.core import accounts, identity
from workflow.core.logging import get_logger
from workflow.deadlines import mail, sweep
from workflow.deadlines import rules as deadline_rules

if TYPE_CHECKING:
    from workflow.app import AppContext
    from workflow.core.config import Settings

log = get_logger("ssj.scheduler")


def fixed_dates(settings: Settings) -> list[tuple[str, CronTrigger]]:
    """Cron triggers for DESIGN §3's fixed dates, at the morning sweep's time: the monthly
    report's last day, each progress report's last day, the review and the archive date."""
    tz = ZoneInfo(settings.calendar.timezone)
    hh, mm = (int(x) for x in settings.scheduler.morning_sweep.split(":"))
    d = settings.deadlines
    out = [
        (
            "monthly_report",
            CronTrigger(day=d.monthly_report_before_day - 1, hour=hh, minute=mm, timezone=tz),
        )
    ]
    # The progress reports' last days ("before MM-DD" is due the day before), as the
    # deadline rules compute them.
    year = datetime.now(tz).year
    for kind, period, due, _ in deadline_rules.report_periods(year, d):
        if kind == "progress":
            trigger = CronTrigger(month=due.month, day=due.day, hour=hh, minute=mm, timezone=tz)
            out.append((f"progress_report_{period[5:]}", trigger))
    for name, md in (("review", d.review_by), ("archive", d.archive_by)):  # inclusive dates
        out.append(
            (name, CronTrigger(month=int(md[:2]), day=int(md[3:]), hour=hh, minute=mm, timezone=tz))
        )
    return out


def build(a: AppContext, run_sweep: Callable[[str], None]) -> BackgroundScheduler:
    s = a.settings
    tz = ZoneInfo(s.calendar.timezone)
    scheduler = BackgroundScheduler(
        timezone=tz,
        executors={"default": ThreadPoolExecutor(max_workers=1)},
        job_defaults={
            "coalesce": True,
            "max_instances": 1,
            "misfire_grace_time": s.scheduler.misfire_grace_seconds,
        },
    )
    hh, mm = (int(x) for x in s.scheduler.morning_sweep.split(":"))
    scheduler.add_job(
        run_sweep,
        IntervalTrigger(minutes=s.scheduler.sweep_every_minutes, timezone=tz),
        args=["interval"],
        id="sweep",
        name="巡检",
        next_run_time=datetime.now(tz),  # once at start: catch up on any downtime
    )
    scheduler.add_job(
        run_sweep, CronTrigger(hour=hh, minute=mm, timezone=tz), args=["morning"], id="morning"
    )
    if s.mail.digest:
        dh, dm = (int(x) for x in s.mail.digest_time.split(":"))
        scheduler.add_job(
            run_sweep, CronTrigger(hour=dh, minute=dm, timezone=tz), args=["digest"], id="digest"
        )
    for name, trigger in fixed_dates(s):
        scheduler.add_job(run_sweep, trigger, args=[name], id=name)

    def on_event(event: JobExecutionEvent) -> None:
        if event.code == EVENT_JOB_MISSED:
            log.warning("job missed", job=event.job_id, scheduled=str(event.scheduled_run_time))
        else:
            log.error("job failed", job=event.job_id, error=repr(event.exception))

    scheduler.add_listener(on_event, EVENT_JOB_ERROR | EVENT_JOB_MISSED)
    return scheduler


def describe(settings: Settings) -> str:
    """When the sweeps run, as the service says it at start."""
    s = settings.scheduler
    return f"每 {s.sweep_every_minutes} 分钟巡检一次，每天 {s.morning_sweep} 及报告截止日另巡检一次"


class Running:
    """A started scheduler: ``stop()`` lets a running sweep finish, then shuts it down."""

    def __init__(self, scheduler: BackgroundScheduler, runs: dict[str, int]) -> None:
        self._scheduler = scheduler
        self._runs = runs

    @property
    def runs(self) -> int:
        """Sweeps started so far."""
        return self._runs["n"]

    def stop(self) -> int:
        """Stop taking runs, wait for the running one (one transaction anyway); the run count."""
        if self._scheduler.running:
            self._scheduler.shutdown(wait=True)
            log.info("scheduler stopped", runs=self.runs)
        return self.runs


def start(a: AppContext) -> Running:
    """Start the jobs in the scheduler's own thread and return at once. ``a`` is the
    scheduler's alone: its workflow holds one connection, which is not shared across threads."""
    a.require_schema()
    s = a.settings
    runs = {"n": 0}

    def run_sweep(why: str) -> None:
        runs["n"] += 1
        try:
            with a.raw() as raw, raw.read() as cur:
                system = accounts.system_actor(cur, raw.sql)
            with identity.acting_as(system):  # scheduled work is the system account's
                r = sweep.run(a.wf, s)
        except Exception as e:  # a bad run must not stop the service; the next one retries
            log.error("sweep failed", trigger=why, error=repr(e))
            a.drop_workflow()  # on a fresh connection: the old one may be what broke
            raise
        for p in r.problems:
            log.error("sweep problem", trigger=why, problem=p)

    scheduler = build(a, run_sweep)
    scheduler.start()
    log.info("scheduler started", jobs=[j.id for j in scheduler.get_jobs()])
    return Running(scheduler, runs)


class StopRequest:
    """What stops a foreground service: SIGTERM/SIGINT, ``exit_after`` seconds, or a part of
    it that died. The signal handlers are installed when this is made — before the service
    starts, so no signal in between is missed — and stay: a second signal during the shutdown
    changes nothing."""

    def __init__(self) -> None:
        self._event = threading.Event()
        signal.signal(signal.SIGTERM, self._on_signal)
        signal.signal(signal.SIGINT, self._on_signal)

    def _on_signal(self, signum: int, _frame: Any) -> None:
        log.info("stopping", signal=signal.Signals(signum).name)
        self._event.set()

    def wait(
        self, exit_after: float | None = None, alive: Callable[[], bool] | None = None
    ) -> None:
        """Block until a signal, ``exit_after`` seconds, or ``alive()`` turning false."""
        # The work runs in other threads; the main thread only waits, in short slices so a
        # signal is handled at once whichever thread the kernel delivered it to.
        # time.sleep, not Event.wait(timeout): a timed lock wait never returns under
        # libfaketime (the suite's run in a future year, make test-future), a sleep does.
        until = None if exit_after is None else time.monotonic() + exit_after
        while not self._event.is_set():
            time.sleep(0.2)
            if self._event.is_set():
                return
            if until is not None and time.monotonic() >= until:
                log.info("stopping", reason="exit-after", seconds=exit_after)
                return
            if alive is not None and not alive():
                log.error("stopping", reason="a part of the service stopped")
                return


def serve(
    a: AppContext, exit_after: float | None = None, echo: Callable[[str], Any] = print
) -> None:
    """Run the scheduler in the foreground until SIGTERM/SIGINT (or ``exit_after`` seconds)."""
    a.require_schema()
    echo(f"ssj 服务已启动：数据库 {a.safe_url()}；{describe(a.settings)}。")
    echo(f"邮件发往：{mail.describe(a.settings)}。按 Ctrl-C 停止。")
    stop = StopRequest()
    running = start(a)
    try:
        stop.wait(exit_after)
    finally:
        runs = running.stop()  # lets a running sweep finish: it is one transaction anyway
    echo(f"ssj 服务已停止（本次共巡检 {runs} 次）。")
