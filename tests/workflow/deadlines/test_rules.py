"""workflow/deadlines/rules.py directly: the declared rules, the steps a deadline calls for on a
given day (reminders before, the ladder after) across weekends, holidays and New Year, and the
open deadlines ``collect`` reads for each task rule.

Report obligations (``report_periods``, ``parse_period``, ``report_deadlines``) are in
test_reports.py; the sweep that acts on the steps is in test_sweep.py.
"""

from __future__ import annotations

import json
import re
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import text

from tests.conftest import drawn_task
from workflow.core.clock import FixedClock
from workflow.core.config import DeadlineSettings, EscalationSettings, LadderStep
from workflow.core.writer import Workflow
from workflow.deadlines import rules
from workflow.deadlines.calendar import WorkCalendar, package_years

ROOT = Path(__file__).resolve().parents[3]
SH = ZoneInfo("Asia/Shanghai")
LADDER = EscalationSettings().ladder  # overdue at 0, office_head at 2, supervisor at 5
REMIND = DeadlineSettings().remind_before_working_days  # [3, 1]
CAL = WorkCalendar()  # chinesecalendar's years: 2024..2026 below are confirmed
UNCOVERED = package_years()[1] + 1  # the first provisional year


def deadline(due: date, rule: str = "confirm", basis: str = "b") -> rules.Deadline:
    return rules.Deadline(f"task:1:{rule}:{due}", rule, due, "大队", basis, 1)


def steps(due: date, today: date, remind: list[int] = REMIND) -> list[tuple[str, int | None]]:
    """(step, working days left or late) of what ``due`` calls for on ``today``."""
    found = rules.steps_due(deadline(due), rules.Calendar(CAL, today), remind, LADDER)
    return [(s.step, s.working_days_left if s.level == 0 else s.working_days_late) for s in found]


# ---------------------------------------------------------------------------------------------
# The rules are declared once, and everything that names a rule names a declared one


def test_the_documented_rules_are_exactly_the_declared_ones() -> None:
    doc = (ROOT / "docs" / "DEADLINES.md").read_text(encoding="utf-8")
    table = doc.split("## The deadlines", 1)[1].split("\n\n", 2)[1]
    documented = re.findall(r"^\| `([a-z_]+)` \|", table, flags=re.M)
    assert sorted(documented) == sorted(rules.RULES)
    # Each report kind has its rule, and the inspectors answer only for declared rules.
    assert {f"report_{k}" for k in rules.REPORT_KINDS} <= set(rules.RULES)
    assert set(rules.INSPECTORS_OWN) <= set(rules.RULES)
    # What to do names the command that fulfils it (the mail and the overdue list quote it).
    assert all(r.what and "ssj " in r.todo for r in rules.RULES.values())


# ---------------------------------------------------------------------------------------------
# Steps: the nearest reminder before the due date, every ladder step reached after it


def test_reminders_count_working_days_over_a_holiday_and_a_make_up_sunday() -> None:
    # Due Monday 2024-04-08. Qingming: Thursday 04-04 to Saturday 04-06 off, Sunday 04-07 worked.
    due = date(2024, 4, 8)
    assert steps(due, date(2024, 4, 1)) == []  # 04-02, 04-03, 04-07, 04-08: 4 left
    assert steps(due, date(2024, 4, 2)) == [("remind_3", 3)]
    assert steps(due, date(2024, 4, 3)) == [("remind_3", 2)]
    assert steps(due, date(2024, 4, 5)) == [("remind_3", 2)]  # asked on a holiday
    assert steps(due, date(2024, 4, 7)) == [("remind_1", 1)]  # the make-up Sunday
    assert steps(due, due) == [("remind_1", 0)]  # the due day itself: still a reminder


def test_a_long_holiday_brings_the_last_reminder_nine_calendar_days_ahead() -> None:
    # Due Wednesday 2025-02-05, the first day back from Spring Festival (01-28..02-04 off;
    # Sunday 01-26 worked): from Monday 01-27 only 02-05 is left.
    due = date(2025, 2, 5)
    assert steps(due, date(2025, 1, 23)) == []  # 01-24, 01-26, 01-27, 02-05
    assert steps(due, date(2025, 1, 24)) == [("remind_3", 3)]
    assert steps(due, date(2025, 1, 26)) == [("remind_3", 2)]
    assert steps(due, date(2025, 1, 27)) == [("remind_1", 1)]
    assert steps(due, date(2025, 2, 1)) == [("remind_1", 1)]


def test_reminders_across_new_year() -> None:
    # Due Monday 2026-01-05: New Year 01-01..01-03 off, Sunday 01-04 worked.
    due = date(2026, 1, 5)
    assert steps(due, date(2025, 12, 29)) == []  # 12-30, 12-31, 01-04, 01-05
    assert steps(due, date(2025, 12, 30)) == [("remind_3", 3)]
    assert steps(due, date(2025, 12, 31)) == [("remind_3", 2)]
    assert steps(due, date(2026, 1, 4)) == [("remind_1", 1)]


def test_the_ladder_over_new_year_counts_only_working_days() -> None:
    # Due Tuesday 2024-12-31; 2025-01-01 off, then 01-02 and 01-03 (Thu, Fri), 01-06 on.
    due = date(2024, 12, 31)
    # New Year's Day: late, but by no working day yet. The overdue notice is still due
    # ("the day after the due date"), the escalations are not.
    assert steps(due, date(2025, 1, 1)) == [("overdue", 0)]
    assert steps(due, date(2025, 1, 2)) == [("overdue", 1)]
    assert steps(due, date(2025, 1, 3)) == [("overdue", 2), ("office_head", 2)]
    assert steps(due, date(2025, 1, 5)) == [("overdue", 2), ("office_head", 2)]  # a Sunday
    assert steps(due, date(2025, 1, 7)) == [("overdue", 4), ("office_head", 4)]
    # Five working days late (01-02, 03, 06, 07, 08): the whole ladder at once, as a sweep
    # back from downtime takes it.
    assert steps(due, date(2025, 1, 8)) == [
        ("overdue", 5),
        ("office_head", 5),
        ("supervisor", 5),
    ]


def test_a_friday_deadline_is_not_late_by_a_working_day_until_monday() -> None:
    due = date(2024, 4, 12)  # a Friday
    assert steps(due, date(2024, 4, 14)) == [("overdue", 0)]
    assert steps(due, date(2024, 4, 15)) == [("overdue", 1)]
    assert steps(due, date(2024, 4, 16)) == [("overdue", 2), ("office_head", 2)]


def test_the_steps_say_who_and_what_kind_they_are() -> None:
    d = deadline(date(2024, 12, 31))
    found = rules.steps_due(d, rules.Calendar(CAL, date(2025, 1, 8)), REMIND, LADDER)
    assert [(s.key, s.level, s.to, s.kind) for s in found] == [
        ("task:1:confirm:2024-12-31|overdue", 1, "responsible", "overdue"),
        ("task:1:confirm:2024-12-31|office_head", 2, "office_head", "escalation"),
        ("task:1:confirm:2024-12-31|supervisor", 3, "supervisor", "escalation"),
    ]
    (reminder,) = rules.steps_due(d, rules.Calendar(CAL, date(2024, 12, 30)), REMIND, LADDER)
    assert (reminder.key, reminder.kind, reminder.to) == (
        "task:1:confirm:2024-12-31|remind_1",
        "reminder",
        "responsible",
    )


def test_configured_reminders_and_ladder_are_what_is_asked() -> None:
    due = date(2024, 4, 8)
    # No reminders configured: nothing before the due date.
    assert steps(due, date(2024, 4, 7), remind=[]) == []
    # A single 5-day reminder: from Friday 03-29 (04-01, 02, 03, 07, 08 left) to the due date.
    assert steps(due, date(2024, 3, 29), remind=[5]) == [("remind_5", 5)]
    assert steps(due, due, remind=[5]) == [("remind_5", 0)]
    ladder = [
        LadderStep(step="late", to="office_head", after_working_days=1),
        LadderStep(step="bureau", to="supervisor", after_working_days=1),
    ]
    d = deadline(due)
    on = rules.steps_due(d, rules.Calendar(CAL, date(2024, 4, 9)), REMIND, ladder)
    assert [(s.step, s.level, s.to) for s in on] == [
        ("late", 1, "office_head"),
        ("bureau", 2, "supervisor"),
    ]
    # The day after: not yet a working day late, so no step of this ladder.
    sat = deadline(date(2024, 4, 12))
    assert rules.steps_due(sat, rules.Calendar(CAL, date(2024, 4, 13)), REMIND, ladder) == []


def test_the_reminder_horizon_never_cuts_off_a_reminder_that_is_due() -> None:
    """``steps_due`` skips the calendar for deadlines past today + 3N + 14 days. Check that bound
    against every day the package covers, the 2020 Spring Festival extension included: the last
    due date an N-day reminder reaches (the day before the (N+1)-th working day) is inside it."""
    assert rules.reminder_horizon(date(2024, 4, 1), [3, 1]) == date(2024, 4, 24)
    assert rules.reminder_horizon(date(2024, 4, 1), []) == date(2024, 4, 15)
    first, last = package_years()
    day = date(first, 1, 1)
    while day.year <= last - 1:  # the next working day of the last year's end may not be known
        for n in (1, 3):
            reach = CAL.add_working_days(day, n + 1) - timedelta(days=1)
            assert reach <= rules.reminder_horizon(day, [n]), (day, n)
        day += timedelta(days=1)
    # And past the horizon nothing is asked of the calendar.
    at = rules.Calendar(CAL, date(2024, 4, 1))
    assert rules.steps_due(deadline(date(2024, 4, 25)), at, REMIND, LADDER) == []
    assert at._left == {}


def test_the_calendar_is_asked_once_per_due_date() -> None:
    asked: list[tuple[date, date]] = []

    class Counting(WorkCalendar):
        def working_days_between(self, start: date, end: date) -> int:
            asked.append((start, end))
            return super().working_days_between(start, end)

    at = rules.Calendar(Counting(), date(2025, 1, 8))
    assert [at.late(date(2024, 12, 31)) for _ in range(3)] == [5, 5, 5]
    assert [at.left(date(2025, 1, 10)) for _ in range(2)] == [2, 2]
    assert asked == [(date(2024, 12, 31), date(2025, 1, 8)), (date(2025, 1, 8), date(2025, 1, 10))]
    assert at.late(date(2025, 1, 10)) == 0 and at.left(date(2024, 12, 31)) == 0


def test_provisional_when_the_days_counted_touch_a_provisional_year() -> None:
    y = UNCOVERED
    before = rules.Calendar(CAL, date(y - 1, 12, 30))
    assert not before.provisional(date(y - 1, 12, 31))
    assert before.provisional(date(y, 1, 4))  # counting forward into the year
    after = rules.Calendar(CAL, date(y, 1, 4))
    assert after.provisional(date(y - 1, 12, 31))  # counting late days into the year
    assert not after.provisional(date(y, 1, 4))  # nothing counted on the day itself
    assert not rules.Calendar(CAL, date(y - 1, 6, 1)).provisional(date(y - 1, 5, 1))


def test_only_computed_dates_in_a_provisional_year_are_marked() -> None:
    y = UNCOVERED
    found = [
        deadline(date(y - 1, 12, 31)),
        deadline(date(y, 1, 4)),
        deadline(date(y, 1, 4), "rectify", rules.STATED_RECTIFY_BASIS),  # a date set by people
        deadline(date(y, 1, 4), "rectify", "检查后 20 个工作日内（默认整改期限）"),
    ]
    rules.mark_provisional(found, CAL)
    assert [d.provisional for d in found] == [False, True, False, True]


# ---------------------------------------------------------------------------------------------
# Fixed dates on rest days


@pytest.mark.parametrize(
    ("nominal", "due"),
    [
        (date(2024, 12, 20), date(2024, 12, 20)),  # a Friday
        (date(2024, 12, 22), date(2024, 12, 23)),  # Sunday → Monday
        (date(2026, 1, 1), date(2026, 1, 4)),  # New Year 01-01..03 off; Sunday 01-04 worked
        (date(2025, 1, 28), date(2025, 2, 5)),  # Spring Festival eve → the first day back
    ],
)
def test_a_fixed_date_on_a_rest_day_moves_to_the_next_working_day(nominal: date, due: date) -> None:
    on = DeadlineSettings()
    assert rules.next_working_day(nominal, CAL, on) == due
    assert rules.next_working_day(nominal, None, on) == nominal  # no calendar: as it is
    off = DeadlineSettings(fixed_dates_next_working_day=False)
    assert rules.next_working_day(nominal, CAL, off) == nominal
    assert rules.moved_note(nominal, due) == (
        "" if due == nominal else f"；{nominal} 为休息日，顺延至 {due}"
    )


def test_weekday_names() -> None:
    assert rules.weekday_cn(date(2026, 1, 4)) == "星期日"
    assert rules.weekday_cn(date(2024, 12, 30)) == "星期一"


# ---------------------------------------------------------------------------------------------
# Collecting each task rule's deadline from the database


def _collect(wf: Workflow, today: date, horizon: date) -> rules.Collected:
    with wf.raw.read() as cur:
        return rules.collect(
            cur,
            wf.raw.sql,
            rules=DeadlineSettings(),
            confirm_days=2,
            reporting_offices=[],
            cal=CAL,
            tz=SH,
            today=today,
            horizon=horizon,
        )


def _mine(found: rules.Collected, t: int) -> dict[str, tuple[date, str]]:
    return {d.key.split(":", 2)[2]: (d.due, d.basis) for d in found.deadlines if d.task_id == t}


def test_a_drawn_task_owes_its_confirmation_inspection_and_archive(
    wf: Workflow, clock: FixedClock
) -> None:
    # Drawn late on Friday 2024-09-13, Beijing time: the second working day after is
    # Wednesday 09-18 (Saturday 09-14 worked, 09-15..17 Mid-Autumn). Drawn half an hour past
    # midnight (still Friday in UTC): the draw day is Saturday 09-14 and confirmation is due
    # Thursday 09-19.
    clock.set(datetime(2024, 9, 13, 23, 30, tzinfo=SH))
    friday, _ = drawn_task(wf, 1, plan="2024001", months="2024-09")
    clock.set(datetime(2024, 9, 14, 0, 30, tzinfo=SH))
    assert clock.now() == datetime(2024, 9, 13, 16, 30, tzinfo=UTC)
    saturday, _ = drawn_task(wf, 1, plan="2024002", months="2024-09..2024-10")
    found = _collect(wf, date(2024, 9, 14), date(2024, 12, 31))
    assert not found.problems
    assert _mine(found, friday) == {
        "confirm:2024-09-18": (date(2024, 9, 18), "2024-09-13 抽取后 2 个工作日内（来源文件 003）"),
        "inspect:2024-09-30": (date(2024, 9, 30), "任务抽查时间 2024-09 结束（年度抽查计划）"),
        "archive:2024-12-20": (date(2024, 12, 20), "12 月 20 日前办结归档（来源文件 003）"),
    }
    assert {k: v[0] for k, v in _mine(found, saturday).items()} == {
        "confirm:2024-09-19": date(2024, 9, 19),
        "inspect:2024-10-31": date(2024, 10, 31),  # the last month of the window
        "archive:2024-12-20": date(2024, 12, 20),
    }
    # Only what is due by the horizon; every deadline is a declared rule, with its label.
    near = _collect(wf, date(2024, 9, 14), date(2024, 9, 18))
    assert [(d.task_id, d.rule, d.due) for d in near.deadlines] == [
        (friday, "confirm", date(2024, 9, 18))
    ]
    assert near.deadlines[0].label == "计划 2024001 任务 001号《测试任务》"
    assert all(d.rule in rules.RULES for d in found.deadlines)


def test_an_inspected_task_owes_publication_and_each_rectification(
    wf: Workflow, clock: FixedClock
) -> None:
    clock.set(datetime(2024, 4, 1, 9, tzinfo=SH))
    t, (clean, problem, refused) = drawn_task(wf, 3, months="2024-04")
    clock.set(datetime(2024, 4, 26, 10, tzinfo=SH))  # Friday
    wf.set_result(t, clean, "no_problem", actor="x")
    wf.set_result(t, refused, "refused", actor="x")
    clock.set(datetime(2024, 4, 29, 10, tzinfo=SH))  # Monday: the last result
    wf.set_result(t, problem, "problem", actor="x", rectify_by=date(2024, 5, 20))
    wf.fire(t, "inspect", actor="x")
    # A refusal recorded before rectification dates existed: the default applies.
    with wf.engine.begin() as c:
        c.execute(
            text("UPDATE inspection_record SET rectify_by = NULL WHERE target_code = :c"),
            {"c": refused},
        )
    found = _collect(wf, date(2024, 4, 30), date(2024, 12, 31))
    # Publication: 20 working days after the last result (04-29), not the first: 04-30, then
    # May Day 05-01..05 off, Saturday 05-11 worked: the 20th is Wednesday 05-29. The default
    # rectification runs from the refusal's own day, Friday 04-26 (Sunday 04-28 worked): 05-27.
    assert _mine(found, t) == {
        "publish:2024-05-29": (
            date(2024, 5, 29),
            "2024-04-29 检查结束后 20 个工作日内公示（来源文件 001、003、004）",
        ),
        f"rectify:{problem}:2024-05-20": (date(2024, 5, 20), rules.STATED_RECTIFY_BASIS),
        f"rectify:{refused}:2024-05-27": (
            date(2024, 5, 27),
            "检查后 20 个工作日内（默认整改期限）",
        ),
        "archive:2024-12-20": (date(2024, 12, 20), "12 月 20 日前办结归档（来源文件 003）"),
    }
    details = {d.target: d.detail for d in found.deadlines if d.rule == "rectify"}
    assert details[problem].endswith(f"（{problem}），检查结果：发现问题")
    assert details[refused].endswith(f"（{refused}），检查结果：不配合检查")
    # A follow-up ends the rectification deadline; the other stays.
    clock.set(datetime(2024, 5, 6, 10, tzinfo=SH))
    wf.add_followup(t, problem, "rectified", actor="x")
    later = _collect(wf, date(2024, 5, 6), date(2024, 12, 31))
    assert sorted(d.target or "" for d in later.deadlines if d.rule == "rectify") == [refused]


def test_who_answers_for_an_inspection_is_who_holds_it_up(wf: Workflow, clock: FixedClock) -> None:
    clock.set(datetime(2024, 4, 1, 9, tzinfo=SH))
    t, drawn = drawn_task(wf, 3, months="2024-04")
    codes = sorted(drawn)
    clock.set(datetime(2024, 4, 10, 9, tzinfo=SH))
    wf.set_result(t, codes[0], "problem", actor="x", rectify_by=date(2024, 4, 20))
    with wf.raw.read() as cur:
        cur.execute(
            wf.raw.sql(
                "SELECT target_code, target_name, inspectors FROM inspection_record"
                " WHERE task_id = ? ORDER BY target_code"
            ),
            (t,),
        )
        records = {c: (n, g) for c, n, g in cur.fetchall()}
    found = _collect(wf, date(2024, 4, 10), date(2024, 4, 30)).deadlines
    by_rule = {d.rule: d for d in found}
    assert set(by_rule) == {"confirm", "inspect", "rectify"}
    with wf.raw.read() as cur:
        pending = rules.pending_targets(cur, wf.raw, found)
        people = rules.responsible_inspectors(cur, wf.raw, found)
    inspect, rectify = by_rule["inspect"].key, by_rule["rectify"].key
    assert pending == {inspect: [(c, records[c][0]) for c in codes[1:]]}

    def certs(*cs: str) -> list[str]:
        out: list[str] = []
        for c in cs:
            out += [x for x in json.loads(records[c][1]) if x not in out]
        return out

    # Inspection: the groups of the two records still without a result, each person once.
    assert [p.cert for p in people[inspect]] == certs(*codes[1:])
    assert all(p.name == f"人员{p.cert}" for p in people[inspect])
    # Rectification: that target's group. Confirmation: the office's, not in the map.
    assert [p.cert for p in people[rectify]] == certs(codes[0])
    assert by_rule["confirm"].key not in people
