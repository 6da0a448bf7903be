"""China's official working-day calendar (DESIGN §3), from the maintained ``chinesecalendar``.

Weekends and public holidays are off; make-up days (调休) are on. The State Council publishes
next year's arrangement each autumn, often before the package is updated: ``config.yaml``
(``calendar.years``) can then carry that year's holidays and make-up days. A year neither
covers is an error that names the year and the fix, never a guess.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from functools import lru_cache

import chinese_calendar

from workflow.errors import InvalidInput


class CalendarNotCovered(InvalidInput):
    """Neither the calendar package nor config.yaml has the holidays of the year asked about."""

    def __init__(self, year: int) -> None:
        self.year = year
        super().__init__(
            f"工作日历未覆盖 {year} 年：chinesecalendar 尚无该年的节假日安排。"
            f"请升级 chinesecalendar，或按国务院办公厅 {year} 年节假日安排通知在 config.yaml 的"
            f" calendar.years.{year} 中填写 holidays（放假的工作日）和 workdays（调休上班的周末）"
        )


@lru_cache(maxsize=1)
def package_years() -> tuple[int, int]:
    """The first and last year the installed chinesecalendar covers."""
    from chinese_calendar import constants

    return min(constants.holidays).year, max(constants.holidays).year


@dataclass(frozen=True)
class YearOverride:
    """One year's arrangement as the State Council notice gives it."""

    holidays: frozenset[date] = frozenset()  # weekdays off
    workdays: frozenset[date] = frozenset()  # weekend days on (调休)


class WorkCalendar:
    """Working days: the package's data, with config.yaml's years on top.

    Answers are cached per date: a sweep asks about the same few hundred dates many times.
    """

    def __init__(self, overrides: Mapping[int, YearOverride] | None = None) -> None:
        self.overrides = dict(overrides or {})
        self._cache: dict[date, bool] = {}
        self._add_cache: dict[tuple[date, int], date] = {}

    @classmethod
    def from_lists(cls, years: Mapping[int, tuple[Iterable[date], Iterable[date]]]) -> WorkCalendar:
        return cls({y: YearOverride(frozenset(h), frozenset(w)) for y, (h, w) in years.items()})

    def coverage(self, year: int) -> str | None:
        """Who covers ``year``: "config.yaml", "chinesecalendar x.y.z", or None."""
        if year in self.overrides:
            return "config.yaml"
        first, last = package_years()
        if first <= year <= last:
            from importlib.metadata import version

            return f"chinesecalendar {version('chinesecalendar')}"
        return None

    def is_working_day(self, day: date) -> bool:
        known = self._cache.get(day)
        if known is not None:
            return known
        override = self.overrides.get(day.year)
        if override is not None:
            if day in override.workdays:
                answer = True
            elif day in override.holidays:
                answer = False
            else:
                answer = day.weekday() < 5
        else:
            try:
                answer = bool(chinese_calendar.is_workday(day))
            except NotImplementedError:
                raise CalendarNotCovered(day.year) from None
        self._cache[day] = answer
        return answer

    def add_working_days(self, start: date, n: int) -> date:
        """The n-th working day after ``start`` (start not counted): "within n working days of
        start" means by the end of that day. n = 0 gives ``start`` itself."""
        if n < 0:
            raise ValueError("n must be >= 0")
        key = (start, n)
        known = self._add_cache.get(key)
        if known is not None:
            return known
        day, left = start, n
        while left:
            day += timedelta(days=1)
            if self.is_working_day(day):
                left -= 1
        self._add_cache[key] = day
        return day

    def working_days_between(self, start: date, end: date) -> int:
        """Working days after ``start`` up to and including ``end`` (0 when end <= start)."""
        count, day = 0, start
        while day < end:
            day += timedelta(days=1)
            count += self.is_working_day(day)
        return count
