"""Report obligations (seed 000): which reports an office owes for which period, due when
(``report_periods``, ``parse_period`` and ``report_deadlines`` in workflow/deadlines/rules.py),
and submitting one (workflow/deadlines/reports.py).

Rest-day moves in 2026 and the config switch are in test_fixed_dates.py; a report through the
sweep and the overdue list is in test_sweep.py.
"""

from __future__ import annotations

import json
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from pydantic import ValidationError

from tests.conftest import register_offices
from workflow.core.clock import FixedClock
from workflow.core.config import DeadlineSettings, Settings
from workflow.core.errors import InvalidInput
from workflow.core.units import Unit
from workflow.core.writer import Workflow
from workflow.deadlines import reports
from workflow.deadlines import rules as deadline_rules
from workflow.deadlines.calendar import WorkCalendar

SH = ZoneInfo("Asia/Shanghai")
RULES = DeadlineSettings()
CAL = WorkCalendar()


def periods(year: int, rules: DeadlineSettings = RULES, **kw: Any) -> dict[str, date]:
    return {f"{k}:{p}": d for k, p, d, _ in deadline_rules.report_periods(year, rules, CAL, **kw)}


def test_what_an_office_owes_in_a_year_and_when() -> None:
    # Monthly: the 22nd ("before the 23rd"), moved off weekends: Saturday 06-22 and Sundays
    # 09-22 and 12-22. Progress: the day before 04-08, 07-01, 10-11, 12-28 — Sunday 04-07 was a
    # make-up working day (Qingming) and stays; Sunday 06-30 moves to 07-01 itself. Review: 04-30.
    assert periods(2024) == {
        "monthly:2024-01": date(2024, 1, 22),
        "monthly:2024-02": date(2024, 2, 22),
        "monthly:2024-03": date(2024, 3, 22),
        "monthly:2024-04": date(2024, 4, 22),
        "monthly:2024-05": date(2024, 5, 22),
        "monthly:2024-06": date(2024, 6, 24),
        "monthly:2024-07": date(2024, 7, 22),
        "monthly:2024-08": date(2024, 8, 22),
        "monthly:2024-09": date(2024, 9, 23),
        "monthly:2024-10": date(2024, 10, 22),
        "monthly:2024-11": date(2024, 11, 22),
        "monthly:2024-12": date(2024, 12, 23),
        "progress:2024-Q1": date(2024, 4, 7),
        "progress:2024-Q2": date(2024, 7, 1),
        "progress:2024-Q3": date(2024, 10, 10),
        "progress:2024-Q4": date(2024, 12, 27),
        "review:2024": date(2024, 4, 30),
    }
    bases = {p: b for _, p, _, b in deadline_rules.report_periods(2024, RULES, CAL)}
    assert (
        bases["2024-Q2"]
        == "7 月 1 日前报送（来源文件 000；2024-06-30 为休息日，顺延至 2024-07-01）"
    )
    assert bases["2024-Q1"] == "4 月 8 日前报送（来源文件 000）"
    assert bases["2024"] == "4 月 30 日前完成（来源文件 000）"


def test_configured_days_and_a_date_moved_into_the_next_year() -> None:
    rules = DeadlineSettings(
        monthly_report_before_day=2,  # due the 1st: New Year's Day for January
        progress_reports_before=["07-01", "01-02"],  # sorted: Q1 is the one before 01-02
        review_by="12-31",
    )
    got = periods(2023, rules)
    # 2023-01-01 is a Sunday and 01-02 the New Year holiday's Monday: the 3rd.
    assert got["monthly:2023-01"] == date(2023, 1, 3)
    assert got["progress:2023-Q1"] == date(2023, 1, 3)
    assert got["progress:2023-Q2"] == date(2023, 6, 30)
    # The year's review, due Sunday 2023-12-31, moves past the 2024 New Year's Day: into the
    # next year, still the period "2023".
    assert got["review:2023"] == date(2024, 1, 2)
    assert len(got) == 12 + 2 + 1


def test_a_yearly_date_is_one_every_year_has() -> None:
    # 02-29 would be accepted and then fail every common year's deadlines (report periods,
    # the archive date): the configuration refuses it and says what to write instead.
    for config in ({"archive_by": "02-29"}, {"review_by": "02-29"}):
        with pytest.raises(ValidationError, match=r"02-29.*并非每年都有"):
            DeadlineSettings.model_validate(config)
    with pytest.raises(ValidationError, match="02-29"):
        DeadlineSettings(progress_reports_before=["04-08", "02-29"])
    # "Before 03-01" is the last day of February every year.
    rules = DeadlineSettings(progress_reports_before=["03-01"])
    assert periods(2024, rules)["progress:2024-Q1"] == date(2024, 2, 29)
    assert periods(2025, rules)["progress:2025-Q1"] == date(2025, 2, 28)


def test_dates_past_until_are_left_as_they_are() -> None:
    # The sweep asks only about dates in reach: past ``until`` the nominal date stands, and the
    # calendar is not asked about it.
    asked: list[date] = []

    class Counting(WorkCalendar):
        def is_working_day(self, day: date) -> bool:
            asked.append(day)
            return super().is_working_day(day)

    found = {
        p: (d, b)
        for k, p, d, b in deadline_rules.report_periods(
            2024, RULES, Counting(), until=date(2024, 6, 21)
        )
    }
    assert found["2024-06"] == (date(2024, 6, 22), "每月 23 日前报送（来源文件 000）")
    assert found["2024-09"][0] == date(2024, 9, 22)
    assert found["2024-05"][0] == date(2024, 5, 22)
    assert max(asked) == date(2024, 5, 22)


@pytest.mark.parametrize(
    ("kind", "period", "due"),
    [
        ("monthly", "2024-12", date(2024, 12, 23)),
        ("monthly", "2025-01", date(2025, 1, 22)),  # December's, then January's
        ("progress", "2024-Q4", date(2024, 12, 27)),
        ("progress", "2025-Q1", date(2025, 4, 7)),  # a Monday
        ("review", "2025", date(2025, 4, 30)),
    ],
)
def test_parse_period_gives_the_due_date(kind: str, period: str, due: date) -> None:
    assert deadline_rules.parse_period(kind, period, RULES, CAL) == due


@pytest.mark.parametrize(
    ("kind", "period"),
    [
        ("monthly", "2024-13"),
        ("monthly", "2024-00"),
        ("monthly", "2024-3"),
        ("monthly", "2024"),
        ("monthly", "二〇二四-03"),
        ("monthly", "0000-01"),  # no year 0: refused, not a crash
        ("progress", "2024-Q5"),
        ("progress", "2024-Q0"),
        ("progress", "2024-03"),
        ("review", "2024-Q1"),
        ("review", ""),
    ],
)
def test_a_period_that_is_not_one_is_refused_with_an_example(kind: str, period: str) -> None:
    example = {"monthly": "2024-03", "progress": "2024-Q2", "review": "2024"}[kind]
    with pytest.raises(InvalidInput, match=f"期间 '{period}' 无效：应形如 {example}$"):
        deadline_rules.parse_period(kind, period, RULES, CAL)


def test_an_unknown_kind_lists_the_kinds() -> None:
    with pytest.raises(InvalidInput) as e:
        deadline_rules.parse_period("weekly", "2024-03", RULES)
    assert str(e.value) == (
        "报告类别 'weekly' 无效：应为 monthly（月报表）、progress（落实情况报告）、"
        "review（“一单两库”动态调整）"
    )


# Two offices of bureau 1 that owe the reports (units: report_deadlines keys them by code).
JIA = Unit(11, "J-01", "甲科", "office", 1, "/1/11/", reports=True)
YI = Unit(12, "Y-01", "乙科", "office", 1, "/1/12/", reports=True)
CODES = {u.name: u.code for u in (JIA, YI)}


def _owed(
    since: date, horizon: date, submitted: set[tuple[str, str, int]] | None = None
) -> list[tuple[str, str, date]]:
    out = deadline_rules.Collected()
    deadline_rules.report_deadlines(
        [JIA, YI],
        range(since.year, horizon.year + 1),
        since,
        submitted or set(),
        RULES,
        out,
        horizon,
        CAL,
    )
    assert all(
        d.key == f"report:{d.rule[7:]}:{d.detail[5:]}:{CODES[d.office]}:{d.due}"
        and d.unit_id == 1  # the bureau whose offices they are
        for d in out.deadlines
    )
    return [(d.office, d.label.split(" ", 1)[1], d.due) for d in out.deadlines]


def test_reports_owed_from_the_first_plan_to_the_horizon_across_new_year() -> None:
    # Since 2024-12-23 (December's monthly report due that very day) up to 2025-01-22.
    owed = _owed(date(2024, 12, 23), date(2025, 1, 22))
    assert owed == [
        ("甲科", "2024-12 月报表", date(2024, 12, 23)),
        ("甲科", "2024-Q4 落实情况报告", date(2024, 12, 27)),
        ("甲科", "2025-01 月报表", date(2025, 1, 22)),
        ("乙科", "2024-12 月报表", date(2024, 12, 23)),
        ("乙科", "2024-Q4 落实情况报告", date(2024, 12, 27)),
        ("乙科", "2025-01 月报表", date(2025, 1, 22)),
    ]
    # A day later the December report was due before the service was in use; a day less of
    # horizon and January's is not yet in reach.
    assert [x for x in _owed(date(2024, 12, 24), date(2025, 1, 21)) if x[0] == "甲科"] == [
        ("甲科", "2024-Q4 落实情况报告", date(2024, 12, 27))
    ]
    # What an office submitted is no longer owed; the other office still owes it.
    done = {("progress", "2024-Q4", JIA.id), ("monthly", "2024-12", YI.id)}
    assert _owed(date(2024, 12, 23), date(2024, 12, 31), done) == [
        ("甲科", "2024-12 月报表", date(2024, 12, 23)),
        ("乙科", "2024-Q4 落实情况报告", date(2024, 12, 27)),
    ]


def test_a_report_deadline_says_what_and_why() -> None:
    out = deadline_rules.Collected()
    deadline_rules.report_deadlines(
        [JIA], [2024], date(2024, 6, 1), set(), RULES, out, date(2024, 6, 30), CAL
    )
    (d,) = out.deadlines
    assert (d.key, d.rule, d.office, d.task_id, d.label, d.detail) == (
        "report:monthly:2024-06:J-01:2024-06-24",  # the office's code: names repeat
        "report_monthly",
        "甲科",
        None,
        "甲科 2024-06 月报表",
        "报送期间：2024-06",
    )
    assert d.basis.endswith("2024-06-22 为休息日，顺延至 2024-06-24）")
    assert d.rule in deadline_rules.RULES


# ---------------------------------------------------------------------------------------------
# Submitting a report (reports.submit)


def _settings(wf: Workflow, **offices: bool) -> Settings:
    """The offices (units of the root, codes T1-01, T1-02 … in order) and settings."""
    return register_offices(wf, Settings.model_validate(
        {"offices": {name: {"head": "王队长", "reports": owes} for name, owes in offices.items()}}
    ))  # fmt: skip


def _submissions(wf: Workflow) -> list[tuple[Any, ...]]:
    with wf.raw.read() as cur:
        cur.execute(
            "SELECT s.kind, s.period, s.office, s.actor, e.kind, e.actor, e.role, e.task_id,"
            " e.payload FROM report_submission s JOIN event e ON e.seq = s.event_seq"
            " ORDER BY s.event_seq"
        )
        return [(*r[:8], json.loads(r[8])) for r in cur.fetchall()]


def test_lateness_is_judged_on_the_local_date_against_the_moved_due_date(
    wf: Workflow, clock: FixedClock
) -> None:
    s = _settings(wf, 甲科=True, 乙科=True, 丙科=True)
    # The April report is due Monday 2024-04-22. At 23:59 Beijing time it is on time; two
    # minutes later it is the 23rd in Beijing (still the 22nd in UTC) and late.
    clock.set(datetime(2024, 4, 22, 23, 59, tzinfo=SH))
    on_time = reports.submit(wf, s, kind="monthly", period="2024-04", office="甲科", actor="甲")
    clock.set(datetime(2024, 4, 23, 0, 1, tzinfo=SH))
    late = reports.submit(wf, s, kind="monthly", period="2024-04", office="乙科", actor="乙")
    assert (on_time["due"], on_time["late"]) == ("2024-04-22", False)
    assert (late["due"], late["late"]) == ("2024-04-22", True)
    assert on_time["submitted_at"].startswith("2024-04-22T15:59")
    assert late["submitted_at"].startswith("2024-04-22T16:01")
    # June's is due Monday 06-24 (the 22nd a Saturday): the 23rd is not late.
    clock.set(datetime(2024, 6, 23, 10, tzinfo=SH))
    june = reports.submit(wf, s, kind="monthly", period="2024-06", office="丙科", actor="丙")
    assert (june["due"], june["late"]) == ("2024-06-24", False)
    assert _submissions(wf) == [
        (
            "monthly", "2024-04", "甲科", "甲", "report_submitted", "甲", "clerk", None,
            {"kind": "monthly", "period": "2024-04", "office": "甲科", "unit": "T1-01", "due": "2024-04-22",
             "late": False},
        ),
        (
            "monthly", "2024-04", "乙科", "乙", "report_submitted", "乙", "clerk", None,
            {"kind": "monthly", "period": "2024-04", "office": "乙科", "unit": "T1-02", "due": "2024-04-22",
             "late": True},
        ),
        (
            "monthly", "2024-06", "丙科", "丙", "report_submitted", "丙", "clerk", None,
            {"kind": "monthly", "period": "2024-06", "office": "丙科", "unit": "T1-03", "due": "2024-06-24",
             "late": False},
        ),
    ]  # fmt: skip
    assert [on_time["event_seq"], late["event_seq"], june["event_seq"]] == sorted(
        {on_time["event_seq"], late["event_seq"], june["event_seq"]}
    )


def test_refused_submissions_write_nothing(wf: Workflow, clock: FixedClock) -> None:
    clock.set(datetime(2024, 4, 22, 10, tzinfo=SH))
    s = _settings(wf, 甲科=True, 不报科=False)
    before = wf.head()
    with pytest.raises(InvalidInput, match="必须指明报送人") as e:
        reports.submit(wf, s, kind="monthly", period="2024-04", office="甲科", actor="  ")
    assert e.value.needs == "actor"
    # An office that owes no reports is not one of those that do.
    with pytest.raises(InvalidInput) as e:
        reports.submit(wf, s, kind="monthly", period="2024-04", office="不报科", actor="甲")
    assert str(e.value) == "科室 '不报科' 不在需报送报告的科室中：甲科（T1-01）"
    with pytest.raises(InvalidInput, match="期间 '2024-Q5' 无效"):
        reports.submit(wf, s, kind="progress", period="2024-Q5", office="甲科", actor="甲")
    assert wf.head() == before and _submissions(wf) == []
    # With no office that owes reports, the message says so.
    no_reports = _settings(wf, 甲科=False)
    before = wf.head()
    with pytest.raises(InvalidInput) as e:
        reports.submit(wf, no_reports, kind="review", period="2024", office="甲科", actor="甲")
    assert str(e.value).endswith("：（尚未登记任何须报送报告的科室）")
    assert wf.head() == before
    s = _settings(wf, 甲科=True)
    # Once submitted, again is refused with who and when in Beijing time.
    reports.submit(wf, s, kind="review", period="2024", office="甲科", actor="甲")
    after = wf.head()
    clock.set(datetime(2024, 4, 23, 10, tzinfo=SH))
    with pytest.raises(InvalidInput) as e:
        reports.submit(wf, s, kind="review", period="2024", office="甲科", actor="乙")
    assert str(e.value) == (
        "甲科 的 2024 “一单两库”动态调整已由 甲 于 2024-04-22 10:00 报送，不能重复登记"
    )
    assert wf.head() == after
    # The same period of another kind is another report.
    assert reports.submit(wf, s, kind="monthly", period="2024-04", office="甲科", actor="甲")


@pytest.mark.parametrize(
    ("kind", "typed", "stored"),
    [
        ("monthly", "2024年4月", "2024-04"),
        ("monthly", "２０２４/4", "2024-04"),
        ("monthly", "2024.04", "2024-04"),
        ("monthly", "2024-13", "2024-13"),  # no month 13: left for parse_period to refuse
        ("progress", "2024Q2", "2024-Q2"),
        ("progress", "2024 q2", "2024-Q2"),
        ("progress", "2024年第二季度", "2024-Q2"),
        ("progress", "2024-Q5", "2024-Q5"),
        ("review", "2024年度", "2024"),
    ],
)
def test_report_periods_as_offices_write_them(kind: str, typed: str, stored: str) -> None:
    from workflow.deadlines.rules import canonical_period

    assert canonical_period(kind, typed) == stored
