"""One task's deadlines on a timeline (its page, issue #12 part 3): what is due now, by when,
how many working days are left or late, 暂定 where the calendar is provisional, and every
reminder, overdue notice and escalation the sweep took for it — including the deadlines the
task has since met, which the sweep's steps still name (``deadline_step``).

The open deadlines are ``rules.task_deadlines``' (the sweep's and the overdue list's), read
for this task alone; nothing here decides a date.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from workflow.core.config import Settings
from workflow.core.writer import Workflow
from workflow.deadlines import calendar_years
from workflow.deadlines import overdue as deadline_view
from workflow.deadlines import rules as deadline_rules
from workflow.deadlines.calendar import calendar_of

__all__ = ["TimelineEntry", "TimelineStep", "task_timeline"]

# Open deadlines as far ahead as any can be: the archive date of next year's plan.
_YEARS_AHEAD = 2


@dataclass(frozen=True, slots=True)
class TimelineStep:
    """A reminder, overdue notice or escalation the sweep took (one ``deadline_step``)."""

    at: str  # stored UTC
    step: str
    label: str
    level: int
    event_seq: int


@dataclass(slots=True)
class TimelineEntry:
    """One deadline of the task: ``status`` open (due ahead or today), overdue, or done (no
    longer open: met, or made moot by the task moving on)."""

    key: str
    rule: str
    what: str
    due: str  # local date, YYYY-MM-DD
    status: str
    basis: str = ""
    detail: str = ""
    working_days_left: int | None = None
    working_days_late: int | None = None
    provisional: bool = False
    steps: list[TimelineStep] = field(default_factory=list)

    @property
    def status_label(self) -> str:
        return {"open": "未到期", "overdue": "已逾期", "done": "已办结"}[self.status]


def task_timeline(
    wf: Workflow, settings: Settings, task_id: int, now: datetime | None = None
) -> list[TimelineEntry]:
    """The task's deadlines, by due date: the open ones as of ``now`` and those the sweep's
    steps name that are no longer open (done), each with its steps."""
    tz = ZoneInfo(settings.calendar.timezone)
    today = deadline_rules.local_today(now or wf.clock.now(), tz)
    cal = calendar_of(wf)
    at = deadline_rules.Calendar(cal, today)
    sql = wf.raw.sql
    found = deadline_rules.Collected()
    with wf.raw.read() as cur:
        calendar_years.refresh(cal, cur, sql)  # a notice recorded since: recompute
        deadline_rules.task_deadlines(
            cur, sql, settings.deadlines, settings.draw.confirm_within_working_days, cal, tz,
            found, date(today.year + _YEARS_AHEAD, 12, 31), task=task_id,
        )  # fmt: skip
        deadline_rules.mark_provisional(found.deadlines, cal)
        cur.execute(
            sql(
                "SELECT deadline, rule, due_date, step, level, at, event_seq FROM deadline_step"
                " WHERE task_id = ? ORDER BY at, id"
            ),
            (task_id,),
        )
        taken: list[tuple[Any, ...]] = cur.fetchall()
    entries: dict[str, TimelineEntry] = {}
    for d in found.deadlines:
        late = d.due < today
        entries[d.key] = TimelineEntry(
            key=d.key,
            rule=d.rule,
            what=deadline_rules.RULES[d.rule].what,
            due=d.due.isoformat(),
            status="overdue" if late else "open",
            basis=d.basis,
            detail=d.detail,
            working_days_left=None if late else at.left(d.due),
            working_days_late=at.late(d.due) if late else None,
            provisional=d.provisional or at.provisional(d.due),
        )
    for key, rule, due, step, level, step_at, seq in taken:
        entry = entries.get(key)
        if entry is None:
            entry = entries[key] = TimelineEntry(
                key=key,
                rule=rule,
                what=deadline_rules.RULES[rule].what if rule in deadline_rules.RULES else rule,
                due=due,
                status="done",
            )
        entry.steps.append(
            TimelineStep(step_at, step, deadline_view.step_label(step, settings), level, seq)
        )
    order = {rule: i for i, rule in enumerate(deadline_rules.RULES)}
    return sorted(entries.values(), key=lambda e: (e.due, order.get(e.rule, 99), e.key))
