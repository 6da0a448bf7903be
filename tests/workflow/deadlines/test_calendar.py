from __future__ import annotations

from datetime import date, timedelta

import pytest
from typer.testing import CliRunner

from workflow.cli.main import app
from workflow.core.config import ConfigError, load_settings
from workflow.deadlines.calendar import WorkCalendar, build_calendar, package_years, statutory_days

UNCOVERED = package_years()[1] + 1


@pytest.mark.parametrize(
    ("start", "n", "due"),
    [
        # 2024-09-29 (Sunday) was a make-up working day before National Day.
        (date(2024, 9, 27), 2, date(2024, 9, 30)),
        # ... and the whole holiday week is off; 2024-10-12 (Saturday) worked.
        (date(2024, 9, 27), 20, date(2024, 10, 30)),
        # Spring Festival 2026: 02-14 (Saturday) worked, 02-15..02-23 off.
        (date(2026, 2, 13), 2, date(2026, 2, 24)),
        (date(2024, 4, 1), 0, date(2024, 4, 1)),
    ],
)
def test_within_n_working_days_counts_from_the_day_after(start: date, n: int, due: date) -> None:
    assert WorkCalendar().add_working_days(start, n) == due


def test_working_days_between_counts_after_start_up_to_end() -> None:
    cal = WorkCalendar()
    assert cal.working_days_between(date(2024, 9, 27), date(2024, 9, 30)) == 2
    assert cal.working_days_between(date(2024, 9, 30), date(2024, 10, 7)) == 0
    assert cal.working_days_between(date(2024, 10, 8), date(2024, 10, 1)) == 0


def test_an_uncovered_year_is_provisional_not_an_error() -> None:
    cal = WorkCalendar()
    assert cal.is_provisional(UNCOVERED) and not cal.is_provisional(UNCOVERED - 1)
    assert cal.coverage(UNCOVERED) is None
    assert cal.coverage_of(UNCOVERED).source.startswith("holidays ")
    due = cal.add_working_days(date(UNCOVERED - 1, 12, 30), 5)
    assert due.year == UNCOVERED
    assert cal.provisional_between(date(UNCOVERED - 1, 12, 30), due)
    assert not cal.provisional_between(date(UNCOVERED - 1, 12, 1), date(UNCOVERED - 1, 12, 31))


def test_a_provisional_year_has_weekends_and_the_statutory_holidays_off() -> None:
    # 2031: New Year's Day a Wednesday; Spring Festival 01-23..25 (eve 01-22) with the
    # statutory 补假 for its Saturday on Monday 01-27; Mid-Autumn and National Day 10-01.
    cal = WorkCalendar()
    assert cal.is_provisional(2031)
    off, _ = statutory_days(2031)
    assert {date(2031, 1, 1), date(2031, 1, 22), date(2031, 1, 23), date(2031, 1, 27)} <= off
    assert not cal.is_working_day(date(2031, 1, 1))
    assert not cal.is_working_day(date(2031, 1, 22))  # 除夕, a statutory day since 2025
    assert not cal.is_working_day(date(2031, 1, 27))
    assert not cal.is_working_day(date(2031, 1, 4))  # a Saturday
    assert cal.is_working_day(date(2031, 1, 2))
    assert cal.is_working_day(date(2031, 1, 28))
    assert not cal.is_working_day(date(2031, 10, 3)) and cal.is_working_day(date(2031, 10, 8))


def test_recorded_years_replace_the_provisional_answer_and_drop_the_cache() -> None:
    from workflow.deadlines.calendar import YearOverride

    cal = WorkCalendar()
    saturday = date(2031, 1, 4)
    start = date(2030, 12, 31)
    # Provisional: 01-01 off, then 01-02 and 01-03 worked.
    assert not cal.is_working_day(saturday) and cal.add_working_days(start, 2) == date(2031, 1, 3)
    # The notice (made up): 01-01..01-03 off, Saturday 01-04 worked.
    notice = YearOverride(frozenset({date(2031, 1, 1), date(2031, 1, 2), date(2031, 1, 3)}),
                          frozenset({saturday}), "数据库：通知")  # fmt: skip
    assert cal.set_recorded({2031: notice})
    assert cal.coverage(2031) == "数据库：通知" and not cal.is_provisional(2031)
    assert cal.is_working_day(saturday) and not cal.is_working_day(date(2031, 1, 2))
    assert cal.add_working_days(start, 2) == date(2031, 1, 6)  # 01-04, 01-06: not the cached 01-03
    assert not cal.set_recorded(dict(cal.recorded))  # unchanged: caches kept


def test_config_years_take_precedence_over_recorded_ones() -> None:
    from workflow.deadlines.calendar import YearOverride

    monday = date(2031, 1, 6)
    cal = WorkCalendar(
        {2031: YearOverride(frozenset(), frozenset())},
        {2031: YearOverride(frozenset({monday}), frozenset(), "数据库：通知")},
    )
    assert cal.coverage(2031) == "config.yaml"
    assert not cal.is_working_day(monday)  # a day only the database names still counts
    cal = WorkCalendar({2031: YearOverride(frozenset(), frozenset({date(2031, 1, 4)}))},
                       {2031: YearOverride(frozenset({date(2031, 1, 4)}), frozenset(), "db")})  # fmt: skip
    assert cal.is_working_day(date(2031, 1, 4))


def test_config_years_fill_a_year_the_package_lacks(tmp_path) -> None:
    # A made-up arrangement: New Year's Day off on a weekday, a Saturday worked.
    jan1 = date(UNCOVERED, 1, 1)
    weekday_off = jan1 if jan1.weekday() < 5 else jan1 + timedelta(days=7 - jan1.weekday())
    saturday = next(
        jan1 + timedelta(days=i) for i in range(14) if (jan1 + timedelta(days=i)).weekday() == 5
    )
    cfg = tmp_path / "c.yaml"
    cfg.write_text(
        f"calendar:\n  years:\n    {UNCOVERED}:\n      holidays: [{weekday_off}]\n"
        f"      workdays: [{saturday}]\n",
        encoding="utf-8",
    )
    cal = build_calendar(load_settings(cfg, env={}).calendar)
    assert cal.coverage(UNCOVERED) == "config.yaml"
    assert not cal.is_working_day(weekday_off)
    assert cal.is_working_day(saturday)
    assert not cal.is_working_day(saturday + timedelta(days=1))  # an ordinary Sunday
    assert cal.coverage(UNCOVERED + 1) is None and cal.is_provisional(UNCOVERED + 1)


def test_config_refuses_a_make_up_day_that_is_not_a_weekend(tmp_path) -> None:
    cfg = tmp_path / "c.yaml"
    monday = date(UNCOVERED, 1, 1) + timedelta(days=(7 - date(UNCOVERED, 1, 1).weekday()) % 7)
    cfg.write_text(f"calendar:\n  years:\n    {UNCOVERED}:\n      workdays: [{monday}]\n")
    with pytest.raises(ConfigError, match="只填调休上班的周末"):
        load_settings(cfg, env={})


def test_cli_calendar_add_and_check(tmp_path) -> None:
    runner = CliRunner()
    r = runner.invoke(app, ["calendar", "add", "--from", "2024-09-27", "--working-days", "20"])
    assert r.exit_code == 0 and r.output.strip() == "2024-10-30"
    r = runner.invoke(app, ["calendar", "check", "2024"])
    assert r.exit_code == 0 and "chinesecalendar" in r.output
    r = runner.invoke(app, ["calendar", "check", str(UNCOVERED)])
    assert r.exit_code == 1 and f"{UNCOVERED} 年为暂定" in r.output
    assert "来源：holidays " in r.output and "ssj calendar notice" in r.output
    r = runner.invoke(
        app, ["calendar", "add", "--from", f"{UNCOVERED - 1}-12-30", "--working-days", "5"]
    )
    assert r.exit_code == 0 and r.stdout.strip().startswith(f"{UNCOVERED}-01-")
    assert f"暂定：{UNCOVERED} 年" in r.stderr
    r = runner.invoke(app, ["calendar", "add", "--from", "2024-13-01", "--working-days", "2"])
    assert r.exit_code == 2 and "2024-13-01" in r.output
