"""China's official working-day calendar (DESIGN §3).

Weekends and public holidays are off; make-up days (调休) are on. A year's answer comes from,
in this order:

1. ``config.yaml`` (``calendar.years``): a bureau's own statement of the year;
2. the database (table ``calendar_year``): the State Council's notice as recorded with
   ``ssj calendar notice`` (workflow/calendar_notice.py parses it), seen by every process;
3. the maintained ``chinesecalendar`` package, once it covers the year;
4. otherwise the year is **provisional**: weekends off and the statutory holidays whose dates
   are known from the maintained ``holidays`` package (lunar festivals and the statutory
   补假 of a holiday falling on a weekend included); the make-up working days are unknown
   until the notice is out. Never an error: every answer can say whether it is provisional,
   and callers mark such deadlines 暂定.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from functools import lru_cache
from importlib.metadata import version
from typing import TYPE_CHECKING, Any

import chinese_calendar

from workflow.core.config import CalendarSettings
from workflow.core.errors import InvalidInput

if TYPE_CHECKING:
    from workflow.core.writer import Workflow


MAX_WORKING_DAYS = 10_000


@lru_cache(maxsize=1)
def package_years() -> tuple[int, int]:
    """The first and last year the installed chinesecalendar covers."""
    from chinese_calendar import constants

    return min(constants.holidays).year, max(constants.holidays).year


@lru_cache(maxsize=64)
def statutory_days(year: int) -> tuple[frozenset[date], frozenset[date]]:
    """(days off, weekend days worked) that the ``holidays`` package knows for ``year`` in
    China: the statutory holidays with their lunar dates and weekend 补假, and whatever
    arrangement (调休) it already carries for that year."""
    import holidays

    cn = holidays.country_holidays("CN", years=year)
    off = frozenset(d for d in cn if d.year == year)
    worked = frozenset(d for d in getattr(cn, "weekend_workdays", ()) if d.year == year)
    return off, worked


@lru_cache(maxsize=2)
def _version(package: str) -> str:
    return version(package)


def provisional_source() -> str:
    return f"holidays {_version('holidays')}"


@dataclass(frozen=True)
class YearOverride:
    """One year's arrangement as the State Council notice gives it.

    ``holidays`` and ``workdays`` may hold a day of a neighbouring year (a New Year holiday
    that starts on 31 December): such a day is answered from here too."""

    holidays: frozenset[date] = frozenset()  # weekdays off
    workdays: frozenset[date] = frozenset()  # weekend days on (调休)
    source: str = "config.yaml"


@dataclass(frozen=True, slots=True)
class Coverage:
    """Who answers for a year, and whether the answer is provisional."""

    year: int
    provisional: bool
    source: str  # "config.yaml", "数据库：…", "chinesecalendar 1.11.0", "holidays 0.109"


class WorkCalendar:
    """Working days from config.yaml, the database, the package, or provisionally (above).

    Answers are cached per date: a sweep asks about the same few hundred dates many times.
    The database's years change while a service runs (``ssj calendar notice`` in another
    process): ``set_recorded`` replaces them and drops every cached answer when they changed.
    """

    def __init__(
        self,
        overrides: Mapping[int, YearOverride] | None = None,
        recorded: Mapping[int, YearOverride] | None = None,
    ) -> None:
        self.overrides = dict(overrides or {})
        self.recorded: dict[int, YearOverride] = {}
        self._cache: dict[date, bool] = {}
        self._add_cache: dict[tuple[date, int], date] = {}
        self._days: dict[date, bool] = {}
        self._coverage: dict[int, Coverage] = {}
        self._rebuild()
        if recorded:
            self.set_recorded(recorded)

    @classmethod
    def from_lists(cls, years: Mapping[int, tuple[Iterable[date], Iterable[date]]]) -> WorkCalendar:
        return cls({y: YearOverride(frozenset(h), frozenset(w)) for y, (h, w) in years.items()})

    def _rebuild(self) -> None:
        # Days named explicitly: the database's first, config.yaml's on top.
        days: dict[date, bool] = {}
        for source in (self.recorded, self.overrides):
            for spec in source.values():
                days.update(dict.fromkeys(spec.holidays, False))
                days.update(dict.fromkeys(spec.workdays, True))
        self._days = days
        self._coverage.clear()
        self._cache.clear()
        self._add_cache.clear()

    def set_recorded(self, years: Mapping[int, YearOverride]) -> bool:
        """Replace the years recorded in the database; True (and caches dropped) if changed."""
        years = dict(years)
        if years == self.recorded:
            return False
        self.recorded = years
        self._rebuild()
        return True

    def coverage_of(self, year: int) -> Coverage:
        known = self._coverage.get(year)  # asked once per deadline by the sweep: memoised
        if known is None:
            known = self._coverage[year] = self._coverage_of(year)
        return known

    def _coverage_of(self, year: int) -> Coverage:
        if year in self.overrides:
            return Coverage(year, False, self.overrides[year].source)
        if year in self.recorded:
            return Coverage(year, False, self.recorded[year].source)
        first, last = package_years()
        if first <= year <= last:
            return Coverage(year, False, f"chinesecalendar {_version('chinesecalendar')}")
        return Coverage(year, True, provisional_source())

    def coverage(self, year: int) -> str | None:
        """Who confirms ``year``: "config.yaml", "数据库：…", "chinesecalendar x.y.z", or None
        when the year is provisional."""
        c = self.coverage_of(year)
        return None if c.provisional else c.source

    def is_provisional(self, year: int) -> bool:
        return self.coverage_of(year).provisional

    def provisional_between(self, after: date, through: date) -> bool:
        """Whether any day after ``after`` up to and including ``through`` lies in a
        provisional year: a count of working days over them is provisional."""
        if through <= after:
            return False
        return any(self.is_provisional(y) for y in range(after.year, through.year + 1))

    def is_working_day(self, day: date) -> bool:
        known = self._cache.get(day)
        if known is not None:
            return known
        answer = self._days.get(day)
        if answer is None:
            if day.year in self.overrides or day.year in self.recorded:
                answer = day.weekday() < 5
            else:
                try:
                    answer = bool(chinese_calendar.is_workday(day))
                except NotImplementedError:  # a year the package does not cover: provisional
                    off, worked = statutory_days(day.year)
                    answer = day in worked or (day.weekday() < 5 and day not in off)
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
            if day == date.max:  # 9999-12-31: no working day follows it
                raise InvalidInput(f"自 {start} 起 {n} 个工作日超出了可计算的日期范围（9999 年）")
            day += timedelta(days=1)
            if self.is_working_day(day):
                left -= 1
        self._add_cache[key] = day
        return day

    def deadline(self, start: date, n: int) -> tuple[date, list[int]]:
        """ "Within n working days of start" as a person asks it (``ssj calendar add``, the
        API's ``/calendar/deadline``): the due date, and the provisional years the count
        crossed (their holidays not yet confirmed: the date may move). ``n`` is bounded: more
        than 10,000 working days (≈ 40 years) is a typo and would count for long."""
        if not 0 <= n <= MAX_WORKING_DAYS:
            raise InvalidInput(
                f"工作日数 {n} 无效：应为 0 到 {MAX_WORKING_DAYS} 之间的整数",
                field="working_days",
                value=n,
            )
        due = self.add_working_days(start, n)
        if not self.provisional_between(start, due):
            return due, []
        return due, [y for y in range(start.year, due.year + 1) if self.is_provisional(y)]

    def working_days_between(self, start: date, end: date) -> int:
        """Working days after ``start`` up to and including ``end`` (0 when end <= start)."""
        count, day = 0, start
        while day < end:
            day += timedelta(days=1)
            count += self.is_working_day(day)
        return count


def calendar_of(wf: Workflow) -> WorkCalendar:
    """The working-day calendar a workflow was built with. The writer knows it only as the
    ``WorkingDays`` protocol (core does not import deadlines); deadline code needs all of it."""
    cal = wf.calendar
    if not isinstance(cal, WorkCalendar):
        raise TypeError(f"the workflow's calendar is a {type(cal).__name__}, not a WorkCalendar")
    return cal


def build_calendar(settings: CalendarSettings, recorded: Any = None) -> WorkCalendar:
    """The working-day calendar: config.yaml's years, then ``recorded`` (the database's,
    workflow/deadlines/calendar_years.py), then the package; other years provisional."""
    return WorkCalendar(
        {
            y: YearOverride(frozenset(spec.holidays), frozenset(spec.workdays))
            for y, spec in settings.years.items()
        },
        recorded,
    )
