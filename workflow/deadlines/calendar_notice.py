"""The State Council's holiday notice (国务院办公厅关于YYYY年部分节假日安排的通知), as published.

Pure: text in, a ``Notice`` out, or ``NoticeError`` naming the line. The notice's items read

    二、春节：2月15日（农历腊月二十八、周日）至23日（农历正月初七、周一）放假调休，共9天。
    2月14日（周六）、2月28日（周六）上班。

and also "1月1日放假，与周末连休。", "1月1日（周三）放假1天，不调休。", "9月29日至10月6日…",
"2022年12月31日至2023年1月2日…". Every figure the notice states is checked: the weekday
written beside a date, the number of days (共N天), that a make-up day is a weekend day and
lies outside every holiday. Sentences that neither give days off (放假) nor days worked
(上班), such as "鼓励各单位……安排职工在除夕（2月9日）休息", are commentary and skipped.

The notice must also be possible: all seven festivals listed, each holiday named after a
festival containing that festival's first statutory day, and a lunar date written beside a date
(农历腊月二十八, 农历除夕) agreeing with it, both as the ``holidays`` package computes them.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import date, timedelta
from functools import lru_cache

from workflow.core.errors import InvalidInput

WEEKDAYS = "一二三四五六日"
FESTIVALS = ("元旦", "春节", "清明节", "劳动节", "端午节", "中秋节", "国庆节")

# After NFKC: full-width （）：， are ASCII; 、 and 。 stay.
_DATE = r"(?:(?P<{p}y>\d{{4}})年)?(?:(?P<{p}m>\d{{1,2}})月)?(?P<{p}d>\d{{1,2}})日(?:\((?P<{p}n>[^()]*)\))?"
_SPAN = re.compile(
    "^" + _DATE.format(p="a") + "(?:至" + _DATE.format(p="b") + ")?"
    r"放假(?:调休|公休)?(?:(?P<days1>\d+)天)?"
    r"(?P<rest>(?:,(?:共\d+天|与周末连休|不调休))*)$"
)
_ONE_DATE = re.compile("^" + _DATE.format(p="a") + "$")
_ITEM = re.compile(
    r"^(?:(?P<ord>[一二三四五六七八九十]+)[、.])?(?P<name>[^:。,]{1,20}):(?P<body>.+)$"
)
_WEEKDAY = re.compile(r"(?:周|星期)([一二三四五六日天])")
_LUNAR = re.compile(
    r"^农历(?:(?P<eve>除夕)|(?P<leap>闰)?(?P<m>十一|十二|[正一二三四五六七八九十冬腊])月"
    r"(?P<d>初[一二三四五六七八九十]|十[一二三四五六七八九]?|二十[一二三四五六七八九]?"
    r"|廿[一二三四五六七八九]|三十))$"
)
_TITLE = re.compile(r"关于(\d{4})年部分节假日安排的通知")
_YEAR_IN_BODY = re.compile(r"现将(\d{4})年")

MAX_SPAN_DAYS = 15  # no holiday of the notice is longer (the longest was 9 days)

# The festivals' days in the ``holidays`` package, by their (untranslated) English names; a
# day may carry several names joined by "; " (2020-10-01: "Mid-Autumn Festival; National Day").
# A festival's first statutory day is the earliest day carrying one of its names: for 春节
# 农历除夕 in the years the law made it a holiday (2008–2013, 2025 on), else 正月初一.
_PACKAGE_NAMES = {
    "元旦": ("New Year's Day",),
    "春节": ("Chinese New Year's Eve", "Chinese New Year (Spring Festival)"),
    "清明节": ("Tomb-Sweeping Day",),
    "劳动节": ("Labor Day",),
    "端午节": ("Dragon Boat Festival",),
    "中秋节": ("Mid-Autumn Festival",),
    "国庆节": ("National Day",),
}
_NEW_YEAR = "Chinese New Year (Spring Festival)"
_LUNAR_MONTHS = {"正": 1, "冬": 11, "腊": 12, "十一": 11, "十二": 12}
_LUNAR_MONTHS.update({c: i for i, c in enumerate("一二三四五六七八九十", 1)})
_DIGITS = {c: i for i, c in enumerate("一二三四五六七八九十", 1)}


class NoticeError(InvalidInput):
    """The text is not a notice this parser can read; the message names the line."""

    code = "calendar_notice_invalid"

    def __init__(self, message: str, line_no: int | None = None, line: str | None = None) -> None:
        self.line_no = line_no
        self.line = line
        where = f"第 {line_no} 行（{line.strip()}）：" if line_no is not None and line else ""
        super().__init__(f"节假日安排通知无法识别：{where}{message}", line=line_no)


@lru_cache(maxsize=16)
def _package_days(year: int) -> dict[str, date]:
    """``year``'s first statutory day of each festival, and under ``_NEW_YEAR`` 正月初一, as
    the ``holidays`` package has them (empty for a year it has no data for)."""
    import holidays

    found: dict[str, date] = {}
    for day, names in holidays.country_holidays("CN", years=year, language="en_US").items():
        for name in str(names).split("; "):
            keys = [f for f, ns in _PACKAGE_NAMES.items() if name in ns]
            keys += [_NEW_YEAR] if name == _NEW_YEAR else []
            for k in keys:
                if day.year == year and (k not in found or day < found[k]):
                    found[k] = day
    return found


def festival_days(year: int) -> dict[str, date]:
    """The first statutory day of each of the seven festivals in ``year``, from ``holidays``."""
    got = _package_days(year)
    return {f: got[f] for f in FESTIVALS if f in got}


@dataclass(frozen=True, slots=True)
class Period:
    """One holiday as the notice states it: every day from ``start`` to ``end`` is off."""

    name: str
    start: date
    end: date
    line: int

    @property
    def days(self) -> list[date]:
        return [self.start + timedelta(days=i) for i in range((self.end - self.start).days + 1)]


@dataclass(frozen=True, slots=True)
class MakeUpDay:
    """A weekend day worked (调休上班)."""

    day: date
    name: str  # the holiday it belongs to
    line: int


@dataclass(frozen=True, slots=True)
class Notice:
    year: int
    title: str
    periods: tuple[Period, ...]
    makeup: tuple[MakeUpDay, ...]

    @property
    def holidays(self) -> frozenset[date]:
        """Weekdays off (the weekend days of a holiday are off anyway)."""
        return frozenset(d for p in self.periods for d in p.days if d.weekday() < 5)

    @property
    def workdays(self) -> frozenset[date]:
        """Weekend days worked."""
        return frozenset(m.day for m in self.makeup)


def normalise(text: str) -> str:
    """NFKC (full-width punctuation and digits to ASCII), without spaces of any kind."""
    return re.sub(r"\s+", "", unicodedata.normalize("NFKC", text))


def weekday_cn(day: date) -> str:
    return "周" + WEEKDAYS[day.weekday()]


def parse(text: str) -> Notice:
    """Parse the notice's plain text; ``NoticeError`` (exit 2) names the line it cannot read."""
    lines = text.splitlines()
    flat = normalise(text)
    title_year = _TITLE.search(flat)
    body_year = _YEAR_IN_BODY.search(flat)
    if title_year is None and body_year is None:
        raise NoticeError(
            "找不到年份：通知应有标题“国务院办公厅关于YYYY年部分节假日安排的通知”"
            "或“现将YYYY年……具体安排通知如下”一句"
        )
    year = int((title_year or body_year).group(1))  # type: ignore[union-attr]
    if title_year and body_year and int(body_year.group(1)) != year:
        no = next(i for i, s in enumerate(lines, 1) if _YEAR_IN_BODY.search(normalise(s)))
        raise NoticeError(
            f"正文的年份 {body_year.group(1)} 与标题的 {year} 年不一致", no, lines[no - 1]
        )
    title = f"国务院办公厅关于{year}年部分节假日安排的通知"

    periods: list[Period] = []
    makeup: list[MakeUpDay] = []
    for no, raw in enumerate(lines, 1):
        line = normalise(raw)
        m = _ITEM.match(line)
        if m is None or not (m.group("ord") or m.group("name").startswith(FESTIVALS)):
            if line and re.match(r"^[一二三四五六七八九十]+[、.]", line) and "放假" in line:
                raise NoticeError("放假安排应写成“序号、节日：日期放假……”", no, raw)
            continue
        name = m.group("name")
        found = _item(year, name, m.group("body"), no, raw)
        if found is None:
            continue
        periods.extend(found[0])
        makeup.extend(found[1])
    if not periods:
        raise NoticeError(
            "没有找到任何放假安排：应有形如“一、元旦：1月1日（周四）至3日（周六）放假调休，共3天。”的行"
        )
    _check_overlaps(periods, makeup, lines)
    _check_festivals(year, periods, lines)
    return Notice(year, title, tuple(periods), tuple(sorted(makeup, key=lambda x: x.day)))


def _item(
    year: int, name: str, body: str, no: int, raw: str
) -> tuple[list[Period], list[MakeUpDay]] | None:
    periods: list[Period] = []
    worked: list[tuple[str, str]] = []
    for sentence in (s for s in body.split("。") if s):
        if sentence.endswith("上班"):
            worked.extend((part, sentence) for part in sentence[: -len("上班")].split("、"))
        elif "放假" in sentence:
            m = _SPAN.match(sentence)
            if m is None:
                raise NoticeError(
                    f"无法识别放假日期“{sentence}”：应形如“2月15日（周日）至23日（周一）放假调休，共9天”",
                    no, raw,
                )  # fmt: skip
            periods.append(_period(year, name, m, no, raw))
    if not periods:
        if worked:
            raise NoticeError("只有上班日期，没有放假日期", no, raw)
        return None  # an item without dates, e.g. a general remark
    anchor = periods[0].start
    days = []
    for part, sentence in worked:
        m = _ONE_DATE.match(part)
        if m is None or m.group("am") is None:
            raise NoticeError(
                f"无法识别上班日期“{part}”（{sentence}）：应形如“2月14日（周六）、2月28日（周六）上班”",
                no, raw,
            )  # fmt: skip
        day = _resolve(year, m, "a", None, anchor, no, raw)
        if day.weekday() < 5:
            raise NoticeError(
                f"上班日 {_cn(day)} 是{weekday_cn(day)}，本就是工作日：调休上班日应为周末", no, raw
            )
        days.append(MakeUpDay(day, name, no))
    return periods, days


def _cn(d: date) -> str:
    return f"{d.year}年{d.month}月{d.day}日"


def _period(year: int, name: str, m: re.Match[str], no: int, raw: str) -> Period:
    start_month = int(m.group("am")) if m.group("am") else None
    if start_month is None:
        raise NoticeError("放假的起始日期缺少月份", no, raw)
    if m.group("bd") is None:
        start = _resolve(year, m, "a", None, None, no, raw)
        end = start
    else:
        end_month = int(m.group("bm")) if m.group("bm") else start_month
        wraps = end_month < start_month and m.group("ay") is None and m.group("by") is None
        # A holiday over the turn of the year (12月31日至1月3日): in the notice of year Y it
        # is Y's New Year, so it starts in Y-1, unless the weekdays written say otherwise.
        start = _resolve(year, m, "a", None, None, no, raw, prefer=year - 1 if wraps else None)
        end = _resolve(year, m, "b", start_month, start, no, raw)
        if end < start:
            raise NoticeError(f"结束日期 {_cn(end)} 早于开始日期 {_cn(start)}", no, raw)
    span = (end - start).days + 1
    if span > MAX_SPAN_DAYS:
        raise NoticeError(
            f"放假 {span} 天（{_cn(start)}至{_cn(end)}），不像一个节日的假期", no, raw
        )
    stated = [int(x) for x in re.findall(r"共(\d+)天", m.group("rest"))]
    if m.group("days1"):
        stated.append(int(m.group("days1")))
    for n in stated:
        if n != span:
            raise NoticeError(f"写明共 {n} 天，但 {_cn(start)}至{_cn(end)} 是 {span} 天", no, raw)
    return Period(name, start, end, no)


def _resolve(
    year: int,
    m: re.Match[str],
    p: str,
    default_month: int | None,
    after: date | None,
    no: int,
    raw: str,
    prefer: int | None = None,
) -> date:
    """The date of group ``p``: in the year written, else in the notice's year Y, else (a day
    near ``after``: a holiday's end, a make-up day) in whichever of Y-1, Y, Y+1 is nearest
    ``after``. Over the turn of the year (``prefer``) the weekday written decides between
    Y-1 and Y. The weekday written beside the date must agree."""
    month = int(m.group(f"{p}m")) if m.group(f"{p}m") else default_month
    day = int(m.group(f"{p}d"))
    note = m.group(f"{p}n") or ""
    text = f"{m.group(f'{p}y') + '年' if m.group(f'{p}y') else ''}{month}月{day}日"
    if m.group(f"{p}y"):
        candidates = [int(m.group(f"{p}y"))]
    elif prefer is not None:
        candidates = [prefer, year]
    elif after is not None:
        candidates = [
            min((year - 1, year, year + 1), key=lambda y: _days_apart(y, month, day, after))
        ]
    else:
        candidates = [year]
    valid: list[date] = []
    for y in candidates:
        try:
            valid.append(date(y, month, day))  # type: ignore[arg-type]
        except ValueError:
            continue
    if not valid:
        raise NoticeError(f"日期 {text} 不存在", no, raw)
    chosen = valid[0]
    stated = _WEEKDAY.search(note)
    if stated is not None:
        want = WEEKDAYS.index(stated.group(1).replace("天", "日"))
        agree = [d for d in valid if d.weekday() == want]
        if not agree:
            raise NoticeError(
                f"{_cn(chosen)} 是{weekday_cn(chosen)}，通知写的是{stated.group(0)}", no, raw
            )
        chosen = agree[0]
    for token in re.split(r"[、,]", note):
        if token.startswith("农历"):
            _check_lunar(chosen, token, no, raw)
    if not year - 1 <= chosen.year <= year + 1:
        raise NoticeError(f"日期 {_cn(chosen)} 不在 {year} 年前后", no, raw)
    if after is not None and abs((chosen - after).days) > 60:
        raise NoticeError(f"日期 {_cn(chosen)} 离同一节日的假期太远", no, raw)
    return chosen


def _days_apart(y: int, month: int | None, day: int, after: date) -> int:
    try:
        return abs((date(y, month or 1, day) - after).days)
    except ValueError:  # 2月29日 outside a leap year: not this one
        return 10**6


def _check_overlaps(periods: list[Period], makeup: list[MakeUpDay], lines: list[str]) -> None:
    seen: dict[date, Period] = {}
    for p in periods:
        for d in p.days:
            if d in seen:
                raise NoticeError(
                    f"{_cn(d)} 既在{seen[d].name}（第 {seen[d].line} 行）又在{p.name}的假期中",
                    p.line, lines[p.line - 1],
                )  # fmt: skip
            seen[d] = p
    worked: dict[date, MakeUpDay] = {}
    for w in makeup:
        if w.day in seen:
            raise NoticeError(
                f"上班日 {_cn(w.day)} 落在{seen[w.day].name}的假期中", w.line, lines[w.line - 1]
            )
        if w.day in worked:
            raise NoticeError(f"上班日 {_cn(w.day)} 重复出现", w.line, lines[w.line - 1])
        worked[w.day] = w


# ---------------------------------------------------------------------------------------------
# Lunar dates. Neither dependency converts a Gregorian date to a lunar one: ``holidays`` has only
# a private lunisolar class, and ``chinesecalendar`` none. So a lunar date is checked against the
# festival days the ``holidays`` package publishes: 正月初一 gives 正月 and 除夕 exactly and 腊月
# to within a day (腊月 has 29 or 30 days, which the package does not say); 端午 (五月初五) and
# 中秋 (八月十五) give their months. A date in any other month is not checked.


def _lunar_day(text: str) -> int:
    """初一 … 初十, 十一 … 十九, 二十, 廿一 or 二十一 … 廿九, 三十 as a number."""
    if text.startswith("初"):
        return _DIGITS[text[1]]
    if text in ("二十", "三十"):
        return 20 if text == "二十" else 30
    tens = 20 if text.startswith(("廿", "二十")) else 10
    return tens + (_DIGITS[text[-1]] if text != "十" else 0)


def _lunar_dates(day: date, m: re.Match[str]) -> list[date] | None:
    """The days near ``day`` that the lunar date ``m`` (of ``_LUNAR``) can be, or None if the
    festival days cannot tell."""
    if m.group("leap"):
        return None
    month = 12 if m.group("eve") else _LUNAR_MONTHS[m.group("m")]
    d = 30 if m.group("eve") else _lunar_day(m.group("d"))
    out: list[date] = []
    known = False
    for y in (day.year - 1, day.year, day.year + 1):
        got = _package_days(y)
        if m.group("eve") and _NEW_YEAR in got:
            out.append(got[_NEW_YEAR] - timedelta(days=1))
        elif month == 1 and _NEW_YEAR in got:
            out.append(got[_NEW_YEAR] + timedelta(days=d - 1))
        elif month == 12 and _NEW_YEAR in got:
            # 腊月 d is (30 - d) days before 正月初一 in a 29-day month, a day earlier in a 30-day
            # one; 腊月三十 exists only in a 30-day month.
            out.append(got[_NEW_YEAR] - timedelta(days=31 - d))
            if d < 30:
                out.append(got[_NEW_YEAR] - timedelta(days=30 - d))
        elif month == 5 and "端午节" in got:
            out.append(got["端午节"] + timedelta(days=d - 5))
        elif month == 8 and "中秋节" in got:
            out.append(got["中秋节"] + timedelta(days=d - 15))
        else:
            continue
        known = True
    return sorted(out) if known else None


def _lunar_name(day: date) -> str | None:
    """``day``'s lunar date where the festival days tell it exactly (正月, 除夕, 五月, 八月)."""
    got = _package_days(day.year)
    new_year, boat, autumn = (got.get(k) for k in (_NEW_YEAR, "端午节", "中秋节"))
    if new_year is not None and day == new_year - timedelta(days=1):
        return "农历除夕"
    for month, anchor, first in (("正", new_year, 1), ("五", boat, 5), ("八", autumn, 15)):
        if anchor is not None and 1 <= (n := (day - anchor).days + first) <= 29:
            return f"农历{month}月{_lunar_text(n)}"
    return None


def _lunar_text(n: int) -> str:
    digits = "一二三四五六七八九十"
    if n <= 10:
        return "初" + digits[n - 1]
    if n < 20:
        return "十" + digits[n - 11]
    if n == 20:
        return "二十"
    return "二十" + digits[n - 21] if n < 30 else "三十"  # as the notices write it


def _check_lunar(day: date, token: str, no: int, raw: str) -> None:
    m = _LUNAR.match(token)
    if m is None:
        raise NoticeError(
            f"无法识别农历日期“{token}”：应形如“农历腊月二十八”“农历正月初七”“农历除夕”", no, raw
        )
    candidates = _lunar_dates(day, m)
    if candidates is None or day in candidates:
        return
    nearest = min(candidates, key=lambda d: abs((d - day).days))
    near = [d for d in candidates if abs((d - nearest).days) <= 1]
    actual = _lunar_name(day)
    raise NoticeError(
        f"{_cn(day)} {'是' + actual + '，' if actual else ''}不是{token}："
        f"{token}是 {'或'.join(_cn(d) for d in near)}（按 holidays 包的农历）",
        no, raw,
    )  # fmt: skip


# ---------------------------------------------------------------------------------------------
# The festivals


def _describe(festival: str, day: date) -> str:
    if festival == "春节":
        return "农历除夕" if _lunar_name(day) == "农历除夕" else "农历正月初一"
    return {"清明节": "清明", "端午节": "农历五月初五", "中秋节": "农历八月十五"}.get(festival, "")


def _check_festivals(year: int, periods: list[Period], lines: list[str]) -> None:
    """Every holiday named after a festival holds its first statutory day (of a year it
    touches: a New Year holiday may run into the next year); all seven festivals are there."""
    covered: set[str] = set()
    for p in periods:
        for festival in (f for f in FESTIVALS if f in p.name):
            days = {
                y: d
                for y in range(p.start.year, p.end.year + 1)
                if (d := festival_days(y).get(festival)) is not None
            }
            if not days:  # a year the package has no data for: the name is all there is
                covered.add(festival)
                continue
            if any(p.start <= d <= p.end for d in days.values()):
                # Only the notice year's festival counts as listed (not next year's New Year).
                if year in days and p.start <= days[year] <= p.end:
                    covered.add(festival)
                continue
            y, d = (year, days[year]) if year in days else next(iter(days.items()))
            what = _describe(festival, d)
            raise NoticeError(
                f"{festival}假期 {_cn(p.start)}至{_cn(p.end)} 不含{festival}当天："
                f"{y} 年{festival}的法定假日从 {_cn(d)}{f'（{what}）' if what else ''}开始"
                "（按 holidays 包）",
                p.line, lines[p.line - 1],
            )  # fmt: skip
    missing = [f for f in FESTIVALS if f not in covered]
    if missing:
        no = next(
            (i for i, s in enumerate(lines, 1) if _YEAR_IN_BODY.search(normalise(s))),
            next((i for i, s in enumerate(lines, 1) if "节假日安排" in s), None),
        )
        raise NoticeError(
            f"缺少{year}年{'、'.join(missing)}的放假安排：通知应列出元旦、春节、清明节、"
            "劳动节、端午节、中秋节、国庆节七个节日，每个节日一行，形如“一、元旦：1月1日放假……”",
            no, lines[no - 1] if no is not None else None,
        )  # fmt: skip
