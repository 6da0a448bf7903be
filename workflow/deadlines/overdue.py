"""The supervisor's view: every overdue task deadline and report obligation, who is
responsible, how late in working days, how far up the ladder it has gone, and when someone
was last told."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from workflow.core import refs, units
from workflow.core.clock import format_utc
from workflow.core.config import Settings
from workflow.core.writer import Workflow
from workflow.deadlines import calendar_years
from workflow.deadlines import rules as deadline_rules
from workflow.deadlines.calendar import calendar_of


def overdue(
    wf: Workflow, settings: Settings, now: datetime | None = None, office: str | None = None
) -> tuple[list[dict[str, Any]], list[str]]:
    """(rows sorted most late first, problems). A row whose due date or working-day count
    rests on a year not yet confirmed says so (``provisional``, DESIGN §3)."""
    tz = ZoneInfo(settings.calendar.timezone)
    now = now or wf.clock.now()
    today = deadline_rules.local_today(now, tz)
    at = deadline_rules.Calendar(calendar_of(wf), today)
    sql = wf.raw.sql
    ladder = {i + 1: s.step for i, s in enumerate(settings.escalation.ladder)}
    with wf.raw.read() as cur:
        calendar_years.refresh(calendar_of(wf), cur, sql)  # a notice recorded since: recompute
        yesterday = today - timedelta(days=1)
        found = deadline_rules.collect_open(cur, sql, settings, calendar_of(wf), today, yesterday)
        late = [
            d for d in found.deadlines if d.due < today and (office is None or d.office == office)
        ]
        inspectors = deadline_rules.responsible_inspectors(cur, wf.raw, late)
        offices = units.offices(cur, sql)
        steps: dict[str, tuple[int, str, str]] = {}  # deadline → (level, last at, last step)
        found_steps = wf.raw.select_in(
            cur, "SELECT deadline, level, at, step, id FROM deadline_step", "deadline",
            [d.key for d in late],
        )  # fmt: skip
        as_of = format_utc(now)
        for key, level, step_at, step, _ in sorted(found_steps, key=lambda r: (r[2], r[4])):
            if step_at > as_of:  # as of a past moment (--now): not yet taken then
                continue
            prev = steps.get(key)
            steps[key] = (max(level, prev[0] if prev else 0), step_at, step)
    rows: list[dict[str, Any]] = []
    for d in late:
        days = at.late(d.due)
        head = deadline_rules.office_of(offices, d)
        people = "、".join(refs.inspector_label(p.cert, p.name) for p in inspectors.get(d.key, []))
        level, last_at, last_step = steps.get(d.key, (0, None, None))
        rows.append(
            {
                "what": deadline_rules.RULES[d.rule].what,
                "rule": d.rule,
                "task_id": d.task_id,
                "subject": d.label,
                "detail": d.detail,
                "office": d.office,
                "responsible": people or (head.head if head else ""),
                "due": d.due.isoformat(),
                "working_days_late": days,
                # 暂定: the due date (due_provisional) or the count of working days late
                # rests on a year whose holidays are not yet confirmed.
                "provisional": d.provisional or at.provisional(d.due),
                "due_provisional": d.provisional,
                "escalation_level": level,
                "escalation_step": ladder.get(level),
                "last_notice_at": last_at,
                "last_notice_step": last_step,
                "deadline": d.key,
            }
        )
    rows.sort(key=lambda r: (-r["working_days_late"], r["due"], r["deadline"]))
    return rows, found.problems


# Who a ladder step goes to, as the overdue list says it.
STEP_AUDIENCE = {"responsible": "责任人", "office_head": "科室负责人", "supervisor": "上级督办人"}


def step_label(step: str | None, settings: Settings) -> str:
    """A deadline step as people read it: 到期前提醒, 逾期通知, 督办（科室负责人）…"""
    if not step:
        return ""
    if step.startswith("remind_"):
        return f"到期前 {step.removeprefix('remind_')} 个工作日提醒"
    for i, s in enumerate(settings.escalation.ladder):
        if s.step == step:
            return f"{'逾期通知' if i == 0 else '督办'}（{STEP_AUDIENCE[s.to]}）"
    return step
