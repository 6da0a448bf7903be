"""``ssj demo`` builds a bureau in the current year, dated back from the clock's today: right
after it, a few deadlines are due in the coming days and a few are 1–5 working days late, none
months late (issue #9 §4)."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from workflow.core import queries
from workflow.core.clock import FixedClock, format_utc
from workflow.core.config import DEFAULTS, load_settings
from workflow.core.replay import replay
from workflow.core.writer import Workflow
from workflow.deadlines import rules as deadline_rules
from workflow.deadlines.overdue import overdue
from workflow.demo import load_demo

SH = ZoneInfo("Asia/Shanghai")


@pytest.mark.parametrize(
    "today",
    # 01-05: the demo starts last year; 12-30: next year is not asked about
    ["2026-03-10", "2026-11-24", "2024-05-06", "2026-01-05", "2025-12-30"],
)
def test_right_after_the_demo_some_deadlines_are_near_and_none_far(
    wf: Workflow, clock: FixedClock, today: str
) -> None:
    settings = load_settings(DEFAULTS, env={})
    now = datetime.fromisoformat(f"{today}T10:00").replace(tzinfo=SH)
    clock.set(now)
    asked: set[int] = set()
    is_working_day = wf.calendar.is_working_day

    def spy(day):  # type: ignore[no-untyped-def]
        asked.add(day.year)
        return is_working_day(day)

    wf.calendar.is_working_day = spy  # type: ignore[method-assign]
    assert load_demo(wf, settings) == 6
    # The demo asks the calendar about no year after today's (next year may not be known yet).
    assert asked and max(asked) <= now.year
    wf.calendar.is_working_day = is_working_day  # type: ignore[method-assign]
    assert wf.clock is clock  # the demo dated its steps on its own clocks, then gave it back

    tasks = queries.list_tasks(wf.engine)
    assert {t["plan_no"][:4] for t in tasks} == {today[:4]}  # the current year's plans
    assert {t["state"] for t in tasks} == {
        "planned", "drawn", "inspected", "publicized", "rectified", "closed",
    }  # fmt: skip

    rows, problems = overdue(wf, settings, now)
    assert problems == []
    late = [r["working_days_late"] for r in rows]
    assert late and max(late) <= 30
    assert len([n for n in late if 1 <= n <= 5]) >= 2
    assert {"publish", "rectify"} <= {r["rule"] for r in rows if r["working_days_late"] <= 5}

    day = now.date()
    horizon = wf.calendar.add_working_days(day, 3)
    with wf.raw.read() as cur:
        found = deadline_rules.collect_open(cur, wf.raw.sql, settings, wf.calendar, day, horizon)
    soon = [d for d in found.deadlines if day <= d.due <= horizon]
    assert len(soon) >= 2 and "confirm" in {d.rule for d in soon}

    # Every step is in the log, in time order, and the log replays to the tables.
    events = queries.list_events(wf.engine)
    times = [e["time"] for e in events]
    assert times == sorted(times) and times[-1] <= format_utc(now)
    assert replay(wf.raw).ok


def test_the_demo_database_is_marked_as_a_demo(wf: Workflow, clock: FixedClock) -> None:
    clock.set(datetime(2026, 3, 10, 10, tzinfo=SH))
    load_demo(wf)
    with wf.raw.read() as cur:
        cur.execute("SELECT value FROM database_info WHERE key = 'purpose'")
        assert cur.fetchall() == [("demo",)]
