"""The State Council's notice, parsed: the real notices of 2023–2026 against chinesecalendar's
own data, the forms other years use, and malformed text refused with the line named."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import chinese_calendar
import pytest
from chinese_calendar import constants

from workflow.calendar import WorkCalendar, YearOverride
from workflow.calendar_notice import NoticeError, parse

NOTICES = Path(__file__).parent / "notices"


def notice_text(year: int) -> str:
    return (NOTICES / f"{year}.txt").read_text(encoding="utf-8")


def year_days(year: int) -> list[date]:
    first = date(year, 1, 1)
    return [first + timedelta(days=i) for i in range((date(year, 12, 31) - first).days + 1)]


@pytest.mark.parametrize("year", [2023, 2024, 2025, 2026])
def test_a_real_notice_gives_exactly_the_packages_days(year: int) -> None:
    n = parse(notice_text(year))
    assert n.year == year and n.title == f"国务院办公厅关于{year}年部分节假日安排的通知"
    assert n.holidays == {d for d in constants.holidays if d.year == year and d.weekday() < 5}
    assert n.workdays == {d for d in constants.workdays if d.year == year}
    # Recorded as a year of its own, every day of the year answers as the package does.
    cal = WorkCalendar(recorded={year: YearOverride(n.holidays, n.workdays, "db")})
    assert cal.coverage(year) == "db"
    wrong = [d for d in year_days(year) if cal.is_working_day(d) != chinese_calendar.is_workday(d)]
    assert wrong == []


def test_the_2026_notice_in_detail() -> None:
    n = parse(notice_text(2026))
    spring = next(p for p in n.periods if p.name == "春节")
    assert (spring.start, spring.end, len(spring.days)) == (date(2026, 2, 15), date(2026, 2, 23), 9)
    assert [(m.day, m.name) for m in n.makeup if m.name == "春节"] == [
        (date(2026, 2, 14), "春节"),
        (date(2026, 2, 28), "春节"),
    ]
    assert [p.name for p in n.periods] == [
        "元旦", "春节", "清明节", "劳动节", "端午节", "中秋节", "国庆节",
    ]  # fmt: skip
    # "鼓励……推动错峰出行" is commentary, not a holiday.
    assert len(n.periods) == 7


def test_half_width_punctuation_and_a_title_over_two_lines_read_the_same() -> None:
    text = notice_text(2025)
    half = text.translate(str.maketrans("：（），", ":(),"))
    assert "国务院办公厅关于2025年\n部分节假日安排的通知" in text
    assert parse(half) == parse(text)


def test_the_2024_encouragement_to_rest_on_new_years_eve_is_not_a_holiday() -> None:
    n = parse(notice_text(2024))
    assert date(2024, 2, 9) not in n.holidays  # 除夕: "鼓励……安排职工在除夕（2月9日）休息"


HEAD = "国务院办公厅关于2026年部分节假日安排的通知\n现将2026年元旦……具体安排通知如下。\n"


@pytest.mark.parametrize(
    ("line", "start", "end", "makeup"),
    [
        ("一、元旦：1月1日（周四）放假，与周末连休。", date(2026, 1, 1), date(2026, 1, 1), []),
        ("一、元旦：1月1日至3日放假调休，共3天。", date(2026, 1, 1), date(2026, 1, 3), []),
        # Over the turn of the year: 2025-12-31 is a Wednesday, so it starts in 2025 ...
        (
            "一、元旦：12月31日（周三）至1月3日（周六）放假调休，共4天。12月28日（周日）上班。",
            date(2025, 12, 31), date(2026, 1, 3), [date(2025, 12, 28)],
        ),
        # ... and without weekdays the notice of 2026 means 2026's New Year.
        ("一、元旦：12月31日至1月2日放假调休，共3天。", date(2025, 12, 31), date(2026, 1, 2), []),
        # A holiday crossing into the next year: 2026-12-31 is a Thursday.
        (
            "七、元旦：12月31日（周四）至1月3日（周日）放假调休，共4天。1月9日（周六）上班。",
            date(2026, 12, 31), date(2027, 1, 3), [date(2027, 1, 9)],
        ),
        ("一、元旦：2025年12月31日至2026年1月1日放假调休，共2天。", date(2025, 12, 31), date(2026, 1, 1), []),
        ("六、中秋节、国庆节：9月29日至10月6日放假调休，共8天。10月10日（周六）上班。",
         date(2026, 9, 29), date(2026, 10, 6), [date(2026, 10, 10)]),
        ("三、清明节：4月4日至6日放假调休，共3天。", date(2026, 4, 4), date(2026, 4, 6), []),
        ("一、元旦：1月1日（周四）放假1天，不调休。", date(2026, 1, 1), date(2026, 1, 1), []),
    ],
)  # fmt: skip
def test_the_forms_notices_use(line: str, start: date, end: date, makeup: list[date]) -> None:
    n = parse(HEAD + line + "\n")
    ((p,),) = [n.periods]
    assert (p.start, p.end) == (start, end)
    assert [m.day for m in n.makeup] == makeup


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        ("2月15日（农历腊月二十八、周日）", "2月15日（农历腊月二十八、周一）", "2026年2月15日 是周日，通知写的是周一"),
        ("放假调休，共9天", "放假调休，共8天", "写明共 8 天，但 2026年2月15日至2026年2月23日 是 9 天"),
        ("2月15日（农历腊月二十八、周日）至23日", "2月15日至放", "无法识别放假日期"),
        ("2月28日（周六）上班", "3月2日（周一）上班", "上班日 2026年3月2日 是周一，本就是工作日"),
        ("2月28日（周六）上班", "2月21日（周六）上班", "上班日 2026年2月21日 落在春节的假期中"),
        ("2月28日（周六）上班", "2月30日上班", "日期 2月30日 不存在"),
        ("2月28日（周六）上班", "二月廿八上班", "无法识别上班日期“二月廿八”"),
        ("二、春节：", "二、春节", "放假安排应写成"),
        ("至23日（农历正月初七、周一）", "至3月30日", "不像一个节日的假期"),
    ],
)  # fmt: skip
def test_malformed_text_is_refused_naming_the_line(old: str, new: str, message: str) -> None:
    text = notice_text(2026)
    lines = text.splitlines()
    no = next(i for i, s in enumerate(lines, 1) if old in s)
    assert old in text
    with pytest.raises(NoticeError) as e:
        parse(text.replace(old, new, 1))
    assert e.value.line_no == no
    assert f"第 {no} 行（" in str(e.value) and message in str(e.value), str(e.value)
    assert e.value.exit_code == 2


def test_overlapping_holidays_are_refused() -> None:
    with pytest.raises(NoticeError, match=r"第 4 行.*2026年5月5日 既在劳动节（第 3 行）又在端午节"):
        parse(HEAD + "四、劳动节：5月1日至5日放假调休，共5天。\n五、端午节：5月5日放假，共1天。\n")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "找不到年份"),
        ("一、元旦：1月1日放假。", "找不到年份"),
        (
            "国务院办公厅关于2026年部分节假日安排的通知\n各地要妥善安排值班。\n",
            "没有找到任何放假安排",
        ),
        ("国务院办公厅关于2026年部分节假日安排的通知\n现将2027年元旦……通知如下。\n", "第 2 行"),
    ],
)
def test_text_that_is_not_a_notice_is_refused(text: str, message: str) -> None:
    with pytest.raises(NoticeError, match=message):
        parse(text)


def test_an_item_with_make_up_days_and_no_holiday_is_refused() -> None:
    with pytest.raises(NoticeError, match=r"第 3 行.*只有上班日期，没有放假日期"):
        parse(HEAD + "二、春节：2月14日（周六）上班。\n")
