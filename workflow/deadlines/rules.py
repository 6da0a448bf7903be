"""Deadlines (DESIGN §3): what is due, by when, for every open task and every office's reports,
derived from the current state on China's working-day calendar.

Nothing here is stored: a deadline is a function of the task's state and dates (and of the
reports submitted), so after any downtime the next look sees exactly what is due. What *has*
been done about a deadline — each reminder, overdue notice and escalation — is stored once per
step in ``deadline_step`` by the sweep (workflow/sweep.py).

A deadline's key includes its due date: if the date moves (a corrected result, a new
rectification date), the new date gets its own reminders.
"""

from __future__ import annotations

import json
import re
from calendar import monthrange
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from states import PROBLEM_RESULTS
from workflow.core import normalize, units
from workflow.core.clock import parse_time
from workflow.core.config import DeadlineSettings, LadderStep, Settings
from workflow.core.errors import InvalidInput
from workflow.core.units import Unit
from workflow.deadlines.calendar import WorkCalendar
from workflow.sampling.plans import month_window


@dataclass(frozen=True, slots=True)
class Rule:
    what: str  # what is due, as the mail and the overdue list say it
    todo: str  # what to do about it


RULES: dict[str, Rule] = {
    "confirm": Rule(
        "确认抽取结果、匹配检查人员并生成检查表",
        "核对抽取结果后运行 ssj draw confirm 任务号，再用 ssj sheet 任务号 --out 检查表目录 生成检查表",
    ),
    "inspect": Rule(
        "完成检查并录入全部检查结果",
        "检查后逐户录入结果（ssj result set 任务号 信用代码 --result 结果），或按检查结果表导入（ssj result import 文件）；全部录入后运行 ssj task fire 任务号 inspect",
    ),
    "publish": Rule(
        "公示检查结果",
        "用 ssj result publish 任务号 --place 公示网址 登记公示，再运行 ssj task fire 任务号 publicize",
    ),
    "rectify": Rule(
        "督促整改并登记后续处置",
        "用 ssj followup add 任务号 信用代码 --outcome 处置结果 登记整改、立案或移送情况",
    ),
    "archive": Rule(
        "办结并归档",
        "完成全部后续处置、整理检查资料立卷归档后运行 ssj task fire 任务号 close",
    ),
    "report_monthly": Rule(
        "报送“双随机、一公开”监管工作月报表",
        "报送后运行 ssj report submit --kind monthly --period 期间 --office 科室",
    ),
    "report_progress": Rule(
        "报送“双随机、一公开”监管工作落实情况",
        "报送后运行 ssj report submit --kind progress --period 期间 --office 科室",
    ),
    "report_review": Rule(
        "动态调整“一单两库”（抽查事项清单、检查对象名录库、执法检查人员名录库）",
        "调整完成后运行 ssj report submit --kind review --period 年度 --office 科室",
    ),
}

WEEKDAYS = "一二三四五六日"


def weekday_cn(day: date) -> str:
    return "星期" + WEEKDAYS[day.weekday()]


@dataclass(frozen=True, slots=True)
class Deadline:
    key: str
    rule: str
    due: date
    office: str
    basis: str  # why this date (the seed and the rule)
    task_id: int | None = None
    label: str = ""  # the task or the report, for people
    detail: str = ""
    target: str | None = None  # rectify: the record's target
    # Due in a year whose holidays are not yet confirmed (DESIGN §3): shown as 暂定, and
    # recomputed (a new key if the date moves) once the State Council's notice is recorded.
    provisional: bool = False
    # The bureau (a unit id) whose office ``office`` is: office names repeat across bureaus.
    unit_id: int | None = None


@dataclass(frozen=True, slots=True)
class Step:
    """One thing to do about a deadline now: a reminder (level 0) or a ladder step (1..)."""

    deadline: Deadline
    step: str
    level: int
    to: str  # responsible | office_head | supervisor
    working_days_left: int | None = None
    working_days_late: int | None = None

    @property
    def key(self) -> str:
        return f"{self.deadline.key}|{self.step}"

    @property
    def kind(self) -> str:
        return "reminder" if self.level == 0 else "overdue" if self.level == 1 else "escalation"


@dataclass
class Calendar:
    """The calendar as of one moment, memoised per due date: a sweep asks about 100k deadlines
    that share a few hundred dates."""

    cal: WorkCalendar
    today: date
    _left: dict[date, int] = field(default_factory=dict)
    _late: dict[date, int] = field(default_factory=dict)

    def left(self, due: date) -> int:
        """Working days from today to ``due`` (0 on the due date itself)."""
        n = self._left.get(due)
        if n is None:
            n = self._left[due] = self.cal.working_days_between(self.today, due)
        return n

    def provisional(self, due: date) -> bool:
        """Whether the working days between today and ``due`` rest on a provisional year."""
        lo, hi = min(due, self.today), max(due, self.today)
        return self.cal.provisional_between(lo, hi)

    def late(self, due: date) -> int:
        """Working days past ``due`` as of today."""
        n = self._late.get(due)
        if n is None:
            n = self._late[due] = self.cal.working_days_between(due, self.today)
        return n


def reminder_horizon(today: date, remind_before: list[int]) -> date:
    """A date beyond which no reminder is due yet: N working days are at most 3N + 14 calendar
    days (no run of days off is longer than two weeks)."""
    return today + timedelta(days=3 * max(remind_before, default=0) + 14)


def steps_due(
    d: Deadline, at: Calendar, remind_before: list[int], ladder: list[LadderStep]
) -> list[Step]:
    """The steps a deadline calls for today. Before the date: the nearest reminder only (a
    3-day reminder missed while down is stale once the 1-day one is due). After it: every
    ladder step reached, each to its own audience, so a catch-up tells everyone it should."""
    if at.today <= d.due:
        if not remind_before or d.due > reminder_horizon(at.today, remind_before):
            return []
        left = at.left(d.due)
        near = [n for n in remind_before if left <= n]
        if not near:
            return []
        return [Step(d, f"remind_{min(near)}", 0, "responsible", working_days_left=left)]
    late = at.late(d.due)
    return [
        Step(d, s.step, i + 1, s.to, working_days_late=late)
        for i, s in enumerate(ladder)
        if late >= s.after_working_days
    ]


# ---------------------------------------------------------------------------------------------
# Collecting the open deadlines


@dataclass
class Collected:
    deadlines: list[Deadline] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)


def _local_date(utc_text: str, tz: ZoneInfo) -> date:
    return parse_time(utc_text).astimezone(tz).date()


def _month_end(ym: str) -> date:
    y, m = int(ym[:4]), int(ym[5:7])
    return date(y, m, monthrange(y, m)[1])


def _md(year: int, md: str) -> date:
    return date(year, int(md[:2]), int(md[3:]))


def next_working_day(day: date, cal: WorkCalendar | None, rules: DeadlineSettings) -> date:
    """A fixed-date deadline on a rest day moves to the next working day (民法典 第二百零三条,
    DESIGN §3), when ``rules.fixed_dates_next_working_day``; without a calendar, the day itself.
    Asks only ``cal.is_working_day``, so any calendar (recorded, provisional) slots in."""
    if cal is None or not rules.fixed_dates_next_working_day:
        return day
    while not cal.is_working_day(day):
        day += timedelta(days=1)
    return day


def moved_note(nominal: date, due: date) -> str:
    """For the basis people read: why the date is not the nominal one."""
    return "" if due == nominal else f"；{nominal} 为休息日，顺延至 {due}"


_OPEN_TASKS = (
    "SELECT t.id, t.state, t.months, t.initiating_office, t.confirmed_at, t.drawn_at,"
    " p.year, p.plan_no, t.task_no, t.name, t.unit_id,"
    " CASE WHEN t.state = 'inspected' THEN"
    " (SELECT max(r.result_at) FROM inspection_record r WHERE r.task_id = t.id) END,"
    " CASE WHEN t.state = 'drawn' THEN (SELECT count(*) FROM inspection_record r"
    " WHERE r.task_id = t.id AND r.result IS NULL) END"
    " FROM task t JOIN plan p ON p.id = t.plan_id WHERE t.state <> 'closed'"
)
_PROBLEMS = ", ".join(f"'{r}'" for r in sorted(PROBLEM_RESULTS))
_OPEN_PROBLEMS = (
    "SELECT r.task_id, r.target_code, r.target_name, r.rectify_by, r.result_at, r.result"
    " FROM inspection_record r JOIN task t ON t.id = r.task_id"
    # From the result on, drawn included: the date was promised when the result was recorded.
    f" WHERE t.state IN ('drawn', 'inspected', 'publicized') AND r.result IN ({_PROBLEMS})"
    " AND r.followup_count = 0"
)


STATED_RECTIFY_BASIS = "检查时确定的整改期限"
ALL_RESULTS_IN = "检查结果已全部录入，尚未确认检查完成：请运行 ssj task fire {id} inspect"


def task_label(plan_no: str, task_no: str, name: str) -> str:
    return f"计划 {plan_no} 任务 {task_no}《{name}》"


def task_deadlines(  # noqa: C901 (one pass over open tasks: a check per rule and state)
    cur: Any,
    sql: Any,
    rules: DeadlineSettings,
    confirm_days: int,
    cal: WorkCalendar,
    tz: ZoneInfo,
    out: Collected,
    horizon: date,
    within: str | None = None,
    task: int | None = None,
) -> None:
    """Open tasks' deadlines due on or before ``horizon``: confirm and inspect (drawn),
    publish (inspected), rectify (each problem not yet followed up), archive (until closed).
    ``within``: only the tasks of that unit subtree (a unit path), inside the query;
    ``task``: only that task's (a task's page). Dates are memoised: 100k tasks share a few
    plan years, month windows and draw days."""
    tasks: dict[int, tuple[str, str, str, str, int]] = {}
    scope, args = units.under("t.unit_id", within) if within else ("", ())
    if task is not None:
        scope, args = " AND ".join(filter(None, [scope, "t.id = ?"])), (*args, task)
    cur.execute(sql(_OPEN_TASKS + (f" AND {scope}" if scope else "")), args)
    add = out.deadlines.append
    archive_basis = f"{rules.archive_by[:2]} 月 {rules.archive_by[3:]} 日前办结归档（来源文件 003"
    archives: dict[int, tuple[date, str]] = {}
    windows: dict[tuple[str, int], date] = {}
    local: dict[str, date] = {}
    n = rules.publish_within_working_days

    def day_of(utc_text: str) -> date:
        d = local.get(utc_text)
        if d is None:
            d = local[utc_text] = _local_date(utc_text, tz)
        return d

    for row in cur.fetchall():
        (tid, state, months, office, confirmed, drawn_at, year, plan_no, task_no, name, unit_id,
         ended, missing) = row  # fmt: skip
        tasks[tid] = (plan_no, task_no, name, office, unit_id)
        found: list[tuple[str, date, str]] = []
        known = archives.get(year)
        if known is None:
            nominal = _md(year, rules.archive_by)
            archive = nominal
            if nominal <= horizon:  # ask the calendar only about dates in reach
                archive = next_working_day(nominal, cal, rules)
            known = archives[year] = (archive, archive_basis + moved_note(nominal, archive) + "）")
        archive, basis_ = known
        if archive <= horizon:
            found.append(("archive", archive, basis_))
        if state == "drawn":
            if confirmed is None and drawn_at is not None:
                drawn = day_of(drawn_at)
                due = cal.add_working_days(drawn, confirm_days)
                if due <= horizon:
                    basis = f"{drawn} 抽取后 {confirm_days} 个工作日内（来源文件 003）"
                    found.append(("confirm", due, basis))
            due = windows.get((months, year))  # type: ignore[assignment]
            if due is None:
                due = windows[(months, year)] = _month_end(month_window(months, year)[1])
            if due <= horizon:
                found.append(
                    ("inspect", due, f"任务抽查时间 {months or year} 结束（年度抽查计划）")
                )
        elif state == "inspected" and ended is not None:
            end = day_of(ended)
            due = cal.add_working_days(end, n)
            if due <= horizon:
                basis = f"{end} 检查结束后 {n} 个工作日内公示（来源文件 001、003、004）"
                found.append(("publish", due, basis))
        if found:
            label = task_label(plan_no, task_no, name)
            for rule, due, basis in found:
                # Every result in but the task not moved on: say what is left, not the whole.
                detail = ALL_RESULTS_IN.format(id=tid) if rule == "inspect" and missing == 0 else ""
                key = f"task:{tid}:{rule}:{due}"
                add(Deadline(key, rule, due, office, basis, tid, label, detail, unit_id=unit_id))
    cur.execute(sql(_OPEN_PROBLEMS + (f" AND {scope}" if scope else "")), args)
    n = rules.rectify_within_working_days
    for tid, code, target_name, rectify_by, result_at, result in cur.fetchall():
        plan_no, task_no, name, office, unit_id = tasks[tid]
        label = task_label(plan_no, task_no, name)
        if rectify_by:
            due = date.fromisoformat(rectify_by)
            basis = STATED_RECTIFY_BASIS
        else:  # recorded before rectification dates existed: the configured default
            due = cal.add_working_days(_local_date(result_at, tz), n)
            basis = f"检查后 {n} 个工作日内（默认整改期限）"
        if due > horizon:
            continue
        detail = f"检查对象 {target_name}（{code}），检查结果：{'发现问题' if result == 'problem' else '不配合检查'}"
        add(
            Deadline(
                f"task:{tid}:rectify:{code}:{due}",
                "rectify",
                due,
                office,
                basis,
                tid,
                label,
                detail,
                code,
                unit_id=unit_id,
            )
        )


# ---------------------------------------------------------------------------------------------
# Report obligations (seed 000): per office that owes reports


REPORT_KINDS = {"monthly": "月报表", "progress": "落实情况报告", "review": "“一单两库”动态调整"}


def report_periods(
    year: int,
    rules: DeadlineSettings,
    cal: WorkCalendar | None = None,
    until: date | None = None,
) -> Iterator[tuple[str, str, date, str]]:
    """(kind, period, due, basis) of every report a reporting office owes in ``year``. With
    ``cal``, a due date on a rest day moves to the next working day (``next_working_day``);
    dates after ``until`` are left as they are (the calendar is not asked about them)."""

    def due(nominal: date, basis: str) -> tuple[date, str]:
        if until is not None and nominal > until:
            return nominal, basis + "）"
        moved = next_working_day(nominal, cal, rules)
        return moved, basis + moved_note(nominal, moved) + "）"

    day = rules.monthly_report_before_day
    for m in range(1, 13):
        yield (
            "monthly",
            f"{year}-{m:02d}",
            *due(date(year, m, day - 1), f"每月 {day} 日前报送（来源文件 000"),
        )
    for i, md in enumerate(rules.progress_reports_before, 1):
        before = _md(year, md)
        yield (
            "progress",
            f"{year}-Q{i}",
            *due(
                date.fromordinal(before.toordinal() - 1),
                f"{before.month} 月 {before.day} 日前报送（来源文件 000",
            ),
        )
    review = _md(year, rules.review_by)
    yield (
        "review",
        str(year),
        *due(review, f"{review.month} 月 {review.day} 日前完成（来源文件 000"),
    )


_QUARTERS = {"一": "1", "二": "2", "三": "3", "四": "4"}


def canonical_period(kind: str, text: str) -> str:
    """A report's period as offices write it, in the stored form: 2024年4月, 2024/4, 2024.04 →
    2024-04; 2024Q2, 2024年第二季度 → 2024-Q2; 2024年度 → 2024. Anything else is returned
    folded, for ``parse_period`` to refuse with an example."""
    t = re.sub(r"\s+", "", normalize.nfkc(text)).upper()
    if kind == "monthly":
        m = re.fullmatch(r"(\d{4})(?:年|[-/.])(\d{1,2})月?", t)
        if m and 1 <= int(m[2]) <= 12:
            return f"{m[1]}-{int(m[2]):02d}"
    elif kind == "progress":
        m = re.fullmatch(r"(\d{4})年?-?(?:Q|第)([1-4一二三四])(?:季度)?", t)
        if m:
            return f"{m[1]}-Q{_QUARTERS.get(m[2], m[2])}"
    elif kind == "review":
        m = re.fullmatch(r"(\d{4})年?度?", t)
        if m:
            return m[1]
    return t


def parse_period(
    kind: str, period: str, rules: DeadlineSettings, cal: WorkCalendar | None = None
) -> date:
    """The due date of ``kind`` for ``period`` (moved off rest days with ``cal``); a clear
    error for a period that is not one."""
    if kind not in REPORT_KINDS:
        raise InvalidInput(
            f"报告类别 {kind!r} 无效：应为 "
            + "、".join(f"{k}（{v}）" for k, v in REPORT_KINDS.items()),
            field="kind",
            value=kind,
        )
    examples = {"monthly": "2024-03", "progress": "2024-Q2", "review": "2024"}
    try:
        year = int(period[:4])
        for k, p, due, _ in report_periods(year, rules, cal):
            if k == kind and p == period:
                return due
    except ValueError:
        pass
    raise InvalidInput(
        f"{REPORT_KINDS[kind]}的期间 {period!r} 无效：应形如 {examples[kind]}",
        field="period",
        value=period,
    )


def report_deadlines(
    offices: Iterable[Unit],
    years: Iterable[int],
    since: date,
    submitted: set[tuple[str, str, int]],
    rules: DeadlineSettings,
    out: Collected,
    horizon: date,
    cal: WorkCalendar | None = None,
) -> None:
    """Reports owed and not submitted, due on or after ``since`` (the first plan's publication:
    the service does not chase reports from before it was in use). With ``cal``, due dates on
    rest days move to the next working day."""
    periods: list[tuple[str, str, date, str]] = []
    for year in years:
        periods.extend(report_periods(year, rules, cal, until=horizon))
    for office in offices:
        for kind, period, due, basis in periods:
            if due < since or due > horizon or (kind, period, office.id) in submitted:
                continue
            label = f"{office.name} {period} {REPORT_KINDS[kind]}"
            out.deadlines.append(
                Deadline(
                    # the office's code: two bureaus may each have an office of that name
                    f"report:{kind}:{period}:{office.code}:{due}",
                    f"report_{kind}",
                    due,
                    office.name,
                    basis,
                    None,
                    label,
                    f"报送期间：{period}",
                    unit_id=office.parent_id,
                )
            )


def collect(
    cur: Any,
    sql: Any,
    *,
    rules: DeadlineSettings,
    confirm_days: int,
    reporting_offices: list[Unit],
    cal: WorkCalendar,
    tz: ZoneInfo,
    today: date,
    horizon: date,
    within: str | None = None,
) -> Collected:
    """Open deadlines due on or before ``horizon`` (as of ``today``), read inside the caller's
    transaction. The sweep looks as far ahead as its reminders reach, the overdue view up to
    yesterday. ``within`` (a unit path): only that subtree's tasks, in the query; the caller
    gives the subtree's reporting offices."""
    out = Collected()
    task_deadlines(cur, sql, rules, confirm_days, cal, tz, out, horizon, within)
    if reporting_offices:
        cur.execute(sql("SELECT min(published_at) FROM plan WHERE published_at IS NOT NULL"))
        first = cur.fetchone()[0]
        if first is not None:
            since = _local_date(first, tz)
            cur.execute(sql("SELECT kind, period, unit_id FROM report_submission"))
            # (kind, period, office unit) rows.
            submitted: set[tuple[str, str, int]] = {tuple(r) for r in cur.fetchall()}
            report_deadlines(
                reporting_offices,
                range(since.year, horizon.year + 1),
                since,
                submitted,
                rules,
                out,
                horizon,
                cal,
            )
    mark_provisional(out.deadlines, cal)
    return out


def mark_provisional(found: list[Deadline], cal: WorkCalendar) -> None:
    """Mark 暂定 every deadline due in a provisional year: its date was computed on (or, for a
    fixed date moved off a rest day, checked against) a calendar not yet confirmed. Stated
    dates (a rectification date set with the result) are what they are."""
    for i, d in enumerate(found):
        if cal.is_provisional(d.due.year) and d.basis != STATED_RECTIFY_BASIS:
            found[i] = replace(d, provisional=True)


# ---------------------------------------------------------------------------------------------
# Who is responsible


@dataclass(frozen=True, slots=True)
class Person:
    name: str
    email: str
    cert: str = ""  # 执法证号, shown beside the name


def _open_records(
    cur: Any, raw: Any, deadlines: list[Deadline]
) -> dict[int, list[tuple[str, str, list[str], str | None]]]:
    """Task id → (target code, target name, inspector certs, result) of every record of the
    tasks whose inspect or rectify deadlines are in ``deadlines``."""
    task_ids = sorted(
        {d.task_id for d in deadlines if d.task_id is not None and d.rule in INSPECTORS_OWN}
    )
    records: dict[int, list[tuple[str, str, list[str], str | None]]] = {}
    select = "SELECT task_id, target_code, target_name, inspectors, result FROM inspection_record"
    for tid, code, name, inspectors, result in raw.select_in(cur, select, "task_id", task_ids):
        records.setdefault(tid, []).append((code, name, json.loads(inspectors), result))
    for recs in records.values():
        recs.sort()
    return records


# The deadlines the inspectors answer for: their own records hold them up. The others of a task
# (confirm: the office's clerk, seed 003; publish: the office publishes the task's results;
# archive) and the reports are the office's: they go to its head (the office's unit).
INSPECTORS_OWN = ("inspect", "rectify")


def responsible_inspectors(
    cur: Any, raw: Any, deadlines: list[Deadline]
) -> dict[str, list[Person]]:
    """Deadline key → the inspectors answerable for it: those whose records hold it up
    (inspect: no result yet; rectify: that target's group). Other deadlines are the office's:
    they go to its head."""
    records = _open_records(cur, raw, deadlines)
    certs = sorted({c for recs in records.values() for r in recs for c in r[2]})
    people = {
        cert: Person(name, email or "", cert)
        for cert, name, email in raw.select_in(
            cur, "SELECT cert, name, email FROM inspector", "cert", certs
        )
    }
    out: dict[str, list[Person]] = {}
    for d in deadlines:
        recs = records.get(d.task_id or -1, [])
        if d.rule == "inspect":
            recs = [r for r in recs if r[3] is None]
        elif d.rule == "rectify":
            recs = [r for r in recs if r[0] == d.target]
        else:
            continue
        seen: dict[str, Person] = {}
        for r in recs:
            for cert in r[2]:
                if cert in people:
                    seen.setdefault(cert, people[cert])
        out[d.key] = list(seen.values())
    return out


def pending_targets(
    cur: Any, raw: Any, deadlines: list[Deadline]
) -> dict[str, list[tuple[str, str]]]:
    """Inspect deadline key → (code, name) of the targets still without a result."""
    records = _open_records(cur, raw, [d for d in deadlines if d.rule == "inspect"])
    return {
        d.key: [(r[0], r[1]) for r in records.get(d.task_id or -1, []) if r[3] is None]
        for d in deadlines
        if d.rule == "inspect"
    }


def office_of(offices: dict[int, dict[str, Unit]], d: Deadline) -> Unit | None:
    """The office a deadline is answered by (its head gets the office's escalations)."""
    return offices.get(d.unit_id or 0, {}).get(d.office)


def local_today(now: datetime, tz: ZoneInfo) -> date:
    return now.astimezone(tz).date()


def collect_open(
    cur: Any,
    sql: Any,
    settings: Settings,
    cal: WorkCalendar,
    today: date,
    horizon: date,
    within: str | None = None,
) -> Collected:
    """``collect`` with the rules, offices and zone of ``settings``; ``within`` (a unit
    path): only that subtree's tasks and offices, read so by the queries."""
    return collect(
        cur,
        sql,
        rules=settings.deadlines,
        confirm_days=settings.draw.confirm_within_working_days,
        reporting_offices=units.reporting_offices(cur, sql, within),
        cal=cal,
        tz=ZoneInfo(settings.calendar.timezone),
        today=today,
        horizon=horizon,
        within=within,
    )
