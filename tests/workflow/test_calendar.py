from __future__ import annotations

from datetime import date, timedelta

import pytest
from typer.testing import CliRunner

from workflow.calendar import CalendarNotCovered, WorkCalendar, package_years
from workflow.cli import app
from workflow.config import ConfigError, load_settings

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


def test_an_uncovered_year_is_an_error_naming_the_year_and_the_fix() -> None:
    with pytest.raises(CalendarNotCovered) as e:
        WorkCalendar().add_working_days(date(UNCOVERED - 1, 12, 30), 5)
    assert e.value.year == UNCOVERED
    assert f"{UNCOVERED} 年" in str(e.value) and f"calendar.years.{UNCOVERED}" in str(e.value)


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
    cal = load_settings(cfg, env={}).calendar.build()
    assert cal.coverage(UNCOVERED) == "config.yaml"
    assert not cal.is_working_day(weekday_off)
    assert cal.is_working_day(saturday)
    assert not cal.is_working_day(saturday + timedelta(days=1))  # an ordinary Sunday
    assert cal.coverage(UNCOVERED + 1) is None


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
    assert r.exit_code == 2 and f"calendar.years.{UNCOVERED}" in r.output
    r = runner.invoke(app, ["calendar", "add", "--from", "2024-13-01", "--working-days", "2"])
    assert r.exit_code == 2 and "2024-13-01" in r.output
