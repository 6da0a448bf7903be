"""The supervisor's view: every overdue task deadline and report obligation, who is
responsible, how late in working days, how far up the ladder it has gone, and when someone
was last told — and, ahead of it, what falls due in the coming days. Both read one unit
subtree when an account asks (the scope is in the queries that collect the deadlines)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from workflow.core import refs, units
from workflow.core.clock import format_utc
from workflow.core.config import Settings
from workflow.core.errors import InvalidInput
from workflow.core.identity import Actor
from workflow.core.writer import Workflow
from workflow.deadlines import calendar_years
from workflow.deadlines import rules as deadline_rules
from workflow.deadlines.calendar import calendar_of

UPCOMING_DAYS_MAX = 366  # how far ahead the upcoming view may look (calendar days)


def overdue(
    wf: Workflow,
    settings: Settings,
    now: datetime | None = None,
    office: str | None = None,
    *,
    within: Actor | None = None,
) -> tuple[list[dict[str, Any]], list[str]]:
    """(rows sorted most late first, problems). A row whose due date or working-day count
    rests on a year not yet confirmed says so (``provisional``, DESIGN §3). ``office``: only
    that office's rows (a name that is neither an office nor on any row is refused: a typo
    would read as "nothing overdue"); ``within``: only that account's unit subtree."""
    rows, problems = _rows(
        wf, settings, now, office, within, lambda today: today - timedelta(days=1),
        lambda d, today: d.due < today,
    )  # fmt: skip
    rows.sort(key=lambda r: (-r["working_days_late"], r["due"], r["deadline"]))
    return rows, problems


def upcoming(
    wf: Workflow,
    settings: Settings,
    now: datetime | None = None,
    office: str | None = None,
    *,
    days: int = 14,
    within: Actor | None = None,
) -> tuple[list[dict[str, Any]], list[str]]:
    """(rows due from today to ``days`` calendar days ahead, soonest first; problems): the
    same rows as ``overdue`` with the working days left instead of late."""
    if not 0 <= days <= UPCOMING_DAYS_MAX:
        raise InvalidInput(
            f"天数 {days} 无效：应为 0 到 {UPCOMING_DAYS_MAX} 之间的整数", field="days", value=days
        )
    rows, problems = _rows(
        wf, settings, now, office, within, lambda today: today + timedelta(days=days),
        lambda d, today: d.due >= today,
    )  # fmt: skip
    rows.sort(key=lambda r: (r["due"], r["deadline"]))
    return rows, problems


def _rows(
    wf: Workflow,
    settings: Settings,
    now: datetime | None,
    office: str | None,
    within: Actor | None,
    horizon_of: Callable[[date], date],
    keep: Callable[[deadline_rules.Deadline, date], bool],
) -> tuple[list[dict[str, Any]], list[str]]:
    tz = ZoneInfo(settings.calendar.timezone)
    now = now or wf.clock.now()
    today = deadline_rules.local_today(now, tz)
    at = deadline_rules.Calendar(calendar_of(wf), today)
    sql = wf.raw.sql
    ladder = {i + 1: s.step for i, s in enumerate(settings.escalation.ladder)}
    scope = within.unit_path if within is not None else None
    with wf.raw.read() as cur:
        calendar_years.refresh(calendar_of(wf), cur, sql)  # a notice recorded since: recompute
        found = deadline_rules.collect_open(
            cur, sql, settings, calendar_of(wf), today, horizon_of(today), scope
        )
        chosen = [
            d for d in found.deadlines if keep(d, today) and (office is None or d.office == office)
        ]
        inspectors = deadline_rules.responsible_inspectors(cur, wf.raw, chosen)
        offices = units.offices(cur, sql)
        codes = {u.id: u.code for u in units.load(cur, sql)}
        if office is not None and not chosen:
            _require_office(office, offices, scope, found.deadlines)
        steps: dict[str, tuple[int, str, str]] = {}  # deadline → (level, last at, last step)
        found_steps = wf.raw.select_in(
            cur, "SELECT deadline, level, at, step, id FROM deadline_step", "deadline",
            [d.key for d in chosen],
        )  # fmt: skip
        as_of = format_utc(now)
        for key, level, step_at, step, _ in sorted(found_steps, key=lambda r: (r[2], r[4])):
            if step_at > as_of:  # as of a past moment (--now): not yet taken then
                continue
            prev = steps.get(key)
            steps[key] = (max(level, prev[0] if prev else 0), step_at, step)
    rows: list[dict[str, Any]] = []
    for d in chosen:
        late = d.due < today
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
                "unit": codes.get(d.unit_id or 0),
                "office": d.office,
                "responsible": people or (head.head if head else ""),
                "due": d.due.isoformat(),
                "working_days_late": at.late(d.due) if late else 0,
                "working_days_left": 0 if late else at.left(d.due),
                # 暂定: the due date (due_provisional) or the count of working days
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
    return rows, found.problems


def _require_office(
    office: str,
    offices: dict[int, dict[str, units.Unit]],
    scope: str | None,
    found: list[deadline_rules.Deadline],
) -> None:
    """An office filter that matches nothing must at least name an office (of the subtree)."""
    known = dict.fromkeys(
        [
            *(u.name for by in offices.values() for u in by.values()
              if scope is None or u.path.startswith(scope)),
            *(d.office for d in found if d.office),
        ]
    )  # fmt: skip
    if office not in known:
        raise InvalidInput(
            f"科室 {office!r} 既不是登记的科室，也没有期限事项；"
            f"已知科室：{'、'.join(known) or '无'}",
            field="office",
            value=office,
        )


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
