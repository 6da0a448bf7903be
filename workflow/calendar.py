"""China's official working-day calendar (DESIGN §3), from the maintained ``chinesecalendar``.

Weekends and public holidays are off; make-up days (调休) are on. A year the package does not
cover is an error that names the year, never a guess.
"""

from __future__ import annotations

from datetime import date, timedelta

import chinese_calendar

from workflow.errors import InvalidInput


class CalendarNotCovered(InvalidInput):
    """The calendar package has no data for the year asked about."""


def is_working_day(day: date) -> bool:
    try:
        return bool(chinese_calendar.is_workday(day))
    except NotImplementedError:
        raise CalendarNotCovered(
            f"工作日历未覆盖 {day.year} 年（chinesecalendar 尚无该年的节假日安排）："
            "请升级 chinesecalendar 后再试"
        ) from None


def add_working_days(start: date, n: int) -> date:
    """The n-th working day after ``start`` (start not counted): "within n working days of
    start" means by the end of that day. n = 0 gives ``start`` itself."""
    if n < 0:
        raise ValueError("n must be >= 0")
    day = start
    while n:
        day += timedelta(days=1)
        if is_working_day(day):
            n -= 1
    return day


def working_days_between(start: date, end: date) -> int:
    """Working days after ``start`` up to and including ``end`` (0 when end <= start)."""
    count, day = 0, start
    while day < end:
        day += timedelta(days=1)
        count += is_working_day(day)
    return count
