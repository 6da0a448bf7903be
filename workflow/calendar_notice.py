"""The State Council's holiday notice (国务院办公厅关于YYYY年部分节假日安排的通知), as published.

Pure: text in, a ``Notice`` out, or ``NoticeError`` naming the line. The notice's items read

    二、春节：2月15日（农历腊月二十八、周日）至23日（农历正月初七、周一）放假调休，共9天。
    2月14日（周六）、2月28日（周六）上班。

and also "1月1日放假，与周末连休。", "1月1日（周三）放假1天，不调休。", "9月29日至10月6日…",
"2022年12月31日至2023年1月2日…". Every figure the notice states is checked: the weekday
written beside a date, the number of days (共N天), that a make-up day is a weekend day and
lies outside every holiday. Sentences that neither give days off (放假) nor days worked
(上班), such as "鼓励各单位……安排职工在除夕（2月9日）休息", are commentary and skipped.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import date, timedelta

from workflow.errors import InvalidInput

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
_TITLE = re.compile(r"关于(\d{4})年部分节假日安排的通知")
_YEAR_IN_BODY = re.compile(r"现将(\d{4})年")

MAX_SPAN_DAYS = 15  # no holiday of the notice is longer (the longest was 9 days)


class NoticeError(InvalidInput):
    """The text is not a notice this parser can read; the message names the line."""

    def __init__(self, message: str, line_no: int | None = None, line: str | None = None) -> None:
        self.line_no = line_no
        self.line = line
        where = f"第 {line_no} 行（{line.strip()}）：" if line_no is not None and line else ""
        super().__init__(f"节假日安排通知无法识别：{where}{message}")


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
