"""Fixed-date deadlines on rest days move to the next working day (DESIGN §3, 民法典 第二百零三条)."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

from tests.conftest import drawn_task
from workflow.core.config import DeadlineSettings, load_settings
from workflow.deadlines import rules as deadline_rules
from workflow.deadlines.calendar import WorkCalendar

SH = ZoneInfo("Asia/Shanghai")


def dues(year: int, rules: DeadlineSettings | None = None) -> dict[tuple[str, str], date]:
    rules = rules or DeadlineSettings()
    return {(k, p): d for k, p, d, _ in deadline_rules.report_periods(year, rules, WorkCalendar())}


def test_monthly_report_due_in_the_spring_festival_moves_to_the_next_working_day() -> None:
    # 2026-02-22 (Sunday) and 02-23 (Monday) are Spring Festival days off; 02-24 is worked.
    assert WorkCalendar().is_working_day(date(2026, 2, 24))
    assert dues(2026)[("monthly", "2026-02")] == date(2026, 2, 24)
    assert dues(2026)[("monthly", "2026-01")] == date(2026, 1, 22)  # a Thursday: unchanged


def test_progress_report_due_on_sunday_moves_to_monday() -> None:
    d = dues(2026)
    assert d[("progress", "2026-Q4")] == date(2026, 12, 28)  # before 12-28 = Sunday 12-27
    assert d[("review", "2026")] == date(2026, 4, 30)  # a Thursday: unchanged


def test_the_basis_says_the_date_moved() -> None:
    basis = {
        (k, p): b
        for k, p, _, b in deadline_rules.report_periods(2026, DeadlineSettings(), WorkCalendar())
    }
    assert basis[("monthly", "2026-02")] == (
        "每月 23 日前报送（来源文件 000；2026-02-22 为休息日，顺延至 2026-02-24）"
    )
    assert basis[("monthly", "2026-01")] == "每月 23 日前报送（来源文件 000）"


def test_the_rule_can_be_switched_off_in_the_config(tmp_path) -> None:
    p = tmp_path / "c.yaml"
    p.write_text("deadlines:\n  fixed_dates_next_working_day: false\n", encoding="utf-8")
    rules = load_settings(p, env={}).deadlines
    assert not rules.fixed_dates_next_working_day
    assert dues(2026, rules)[("monthly", "2026-02")] == date(2026, 2, 22)
    assert DeadlineSettings().fixed_dates_next_working_day  # on by default


def test_report_submission_measures_lateness_against_the_moved_date() -> None:
    rules = DeadlineSettings()
    assert deadline_rules.parse_period("monthly", "2026-02", rules, WorkCalendar()) == date(
        2026, 2, 24
    )
    assert deadline_rules.parse_period("monthly", "2026-02", rules) == date(2026, 2, 22)


def test_archive_due_on_sunday_dec_20_moves_to_monday(wf, clock) -> None:
    clock.set(datetime(2026, 12, 1, 9, tzinfo=SH))
    t, _ = drawn_task(wf, 1, plan="2026001", months="2026-12")
    with wf.raw.read() as cur:
        found = deadline_rules.collect(
            cur,
            wf.raw.sql,
            rules=DeadlineSettings(),
            confirm_days=2,
            reporting_offices=[],
            cal=WorkCalendar(),
            tz=SH,
            today=date(2026, 12, 1),
            horizon=date(2026, 12, 31),
        )
    archive = [d for d in found.deadlines if d.rule == "archive" and d.task_id == t]
    assert [d.due for d in archive] == [date(2026, 12, 21)]
    assert "2026-12-20 为休息日，顺延至 2026-12-21" in archive[0].basis
    assert not found.problems
