"""The State Council's notice, parsed: the real notices of 2023–2026 against chinesecalendar's
own data, the forms other years use, and malformed or impossible text (festivals missing, a
festival's holiday without its day, a wrong lunar date) refused with the line named."""

from __future__ import annotations

import re
from datetime import date, timedelta
from pathlib import Path

import chinese_calendar
import pytest
from chinese_calendar import constants

from workflow.deadlines.calendar import WorkCalendar, YearOverride
from workflow.deadlines.calendar_notice import FESTIVALS, NoticeError, parse

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


def with_line(year: int, line: str, replacing: str | None) -> tuple[str, int]:
    """The real notice of ``year`` with its item line starting ``replacing`` (say "一、元旦：")
    replaced by ``line``, or ``line`` added after the items; and ``line``'s number."""
    lines = notice_text(year).splitlines()
    if replacing is None:
        no = 1 + max(i for i, s in enumerate(lines) if s.strip().startswith("七、"))
        lines.insert(no - 1, line)
    else:
        no = next(i for i, s in enumerate(lines, 1) if s.strip().startswith(replacing))
        lines[no - 1] = line
    return "\n".join(lines) + "\n", no


@pytest.mark.parametrize(
    ("year", "replacing", "line", "start", "end", "makeup"),
    [
        (2026, "一、元旦：", "一、元旦：1月1日（周四）放假，与周末连休。", date(2026, 1, 1), date(2026, 1, 1), []),
        (2026, "一、元旦：", "一、元旦：1月1日至3日放假调休，共3天。", date(2026, 1, 1), date(2026, 1, 3), []),
        # Over the turn of the year: 2025-12-31 is a Wednesday, so it starts in 2025 ...
        (
            2026, "一、元旦：",
            "一、元旦：12月31日（周三）至1月3日（周六）放假调休，共4天。12月28日（周日）上班。",
            date(2025, 12, 31), date(2026, 1, 3), [date(2025, 12, 28)],
        ),
        # ... and without weekdays the notice of 2026 means 2026's New Year.
        (2026, "一、元旦：", "一、元旦：12月31日至1月2日放假调休，共3天。", date(2025, 12, 31), date(2026, 1, 2), []),
        # A holiday crossing into the next year (2026-12-31 is a Thursday), besides 2026's own.
        (
            2026, None,
            "八、元旦：12月31日（周四）至1月3日（周日）放假调休，共4天。1月9日（周六）上班。",
            date(2026, 12, 31), date(2027, 1, 3), [date(2027, 1, 9)],
        ),
        (2026, "一、元旦：", "一、元旦：2025年12月31日至2026年1月1日放假调休，共2天。", date(2025, 12, 31), date(2026, 1, 1), []),
        # Two festivals in one holiday (2023: 中秋 on 09-29).
        (2023, "六、中秋节、国庆节：", "六、中秋节、国庆节：9月29日至10月6日放假调休，共8天。10月7日（星期六）上班。",
         date(2023, 9, 29), date(2023, 10, 6), [date(2023, 10, 7)]),
        (2026, "三、清明节：", "三、清明节：4月4日至6日放假调休，共3天。", date(2026, 4, 4), date(2026, 4, 6), []),
        (2026, "一、元旦：", "一、元旦：1月1日（周四）放假1天，不调休。", date(2026, 1, 1), date(2026, 1, 1), []),
    ],
)  # fmt: skip
def test_the_forms_notices_use(
    year: int, replacing: str | None, line: str, start: date, end: date, makeup: list[date]
) -> None:
    text, no = with_line(year, line, replacing)
    n = parse(text)
    (p,) = [p for p in n.periods if p.line == no]
    assert (p.start, p.end) == (start, end)
    assert [m.day for m in n.makeup if m.line == no] == makeup


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
    assert e.value.code == "calendar_notice_invalid"  # the CLI exits 2 for it


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


# ---------------------------------------------------------------------------------------------
# Impossible notices: festivals missing, a festival's holiday without its day, a lunar date wrong.

# A possible 2027 notice (made up: the real one is not out), its festivals on the days the
# holidays package computes (春节 from 除夕 02-05, 正月初一 02-06; 清明 04-05; 端午 06-09; 中秋 09-15).
ASSUMED_2027 = """国务院办公厅关于2027年部分节假日安排的通知
　　经国务院批准，现将2027年元旦、春节、清明节、劳动节、端午节、中秋节和国庆节放假调休日期的具体安排通知如下。
　　一、元旦：1月1日（周五）至3日（周日）放假，共3天。
　　二、春节：2月5日（农历除夕、周五）至12日（农历正月初七、周五）放假调休，共8天。1月31日（周日）、2月27日（周六）上班。
　　三、清明节：4月3日（周六）至5日（周一）放假，共3天。
　　四、劳动节：5月1日（周六）至5日（周三）放假调休，共5天。4月25日（周日）、5月8日（周六）上班。
　　五、端午节：6月9日（周三）放假，共1天。
　　六、中秋节：9月15日（农历八月十五、周三）放假，共1天。
　　七、国庆节：10月1日（周五）至7日（周四）放假调休，共7天。9月26日（周日）、10月9日（周六）上班。
"""
SPRING_2027 = "2月5日（农历除夕、周五）至12日（农历正月初七、周五）放假调休，共8天"


def test_the_festivals_first_statutory_days_come_from_the_holidays_package() -> None:
    from workflow.deadlines.calendar_notice import festival_days

    assert festival_days(2027) == {
        "元旦": date(2027, 1, 1), "春节": date(2027, 2, 5), "清明节": date(2027, 4, 5),
        "劳动节": date(2027, 5, 1), "端午节": date(2027, 6, 9), "中秋节": date(2027, 9, 15),
        "国庆节": date(2027, 10, 1),
    }  # fmt: skip
    # 春节 starts on 除夕 from 2025 (the 2024 revision of the holiday rules), on 正月初一 before.
    assert festival_days(2025)["春节"] == date(2025, 1, 28)
    assert festival_days(2024)["春节"] == date(2024, 2, 10)
    assert festival_days(2025)["中秋节"] == date(2025, 10, 6)


def test_a_possible_notice_of_a_year_past_the_package_is_read() -> None:
    n = parse(ASSUMED_2027)
    assert [p.name for p in n.periods] == list(FESTIVALS)
    spring = next(p for p in n.periods if p.name == "春节")
    assert (spring.start, spring.end) == (date(2027, 2, 5), date(2027, 2, 12))


def refused(text: str, line_part: str, message: str) -> None:
    no = next(i for i, s in enumerate(text.splitlines(), 1) if line_part in s)
    with pytest.raises(NoticeError) as e:
        parse(text)
    assert e.value.line_no == no and e.value.code == "calendar_notice_invalid"
    assert f"第 {no} 行（" in str(e.value) and message in str(e.value), str(e.value)


def test_the_trials_spring_festival_a_week_late_is_refused() -> None:
    # 2026's Spring Festival dates (and lunar annotations) in a 2027 notice: the weekdays
    # written are 2027's, so only the lunar dates and the festival's day can tell.
    late = "2月15日（农历腊月二十八、周一）至23日（农历正月初七、周二）放假调休，共9天"
    text = ASSUMED_2027.replace(SPRING_2027, late)
    refused(text, "二、春节", "2027年2月15日 是农历正月初十，不是农历腊月二十八")
    refused(text, "二、春节", "农历腊月二十八是 2027年2月3日或2027年2月4日")
    # Without the lunar dates, the holiday still lacks the festival.
    bare = ASSUMED_2027.replace(SPRING_2027, "2月15日（周一）至23日（周二）放假调休，共9天")
    refused(
        bare, "二、春节",
        "春节假期 2027年2月15日至2027年2月23日 不含春节当天："
        "2027 年春节的法定假日从 2027年2月5日（农历除夕）开始",
    )  # fmt: skip


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        ("2月15日（农历腊月二十八、", "2月15日（农历腊月二十七、", "2026年2月15日 不是农历腊月二十七"),
        ("23日（农历正月初七、", "23日（农历正月初六、", "2026年2月23日 是农历正月初七，不是农历正月初六"),
        ("2月15日（农历腊月二十八、", "2月15日（农历除夕、", "2026年2月15日 不是农历除夕：农历除夕是 2026年2月16日"),
        ("6月19日（周五）", "6月19日（农历五月初四、周五）", "2026年6月19日 是农历五月初五，不是农历五月初四"),
        ("9月25日（周五）", "9月25日（农历八月十六、周五）", "2026年9月25日 是农历八月十五，不是农历八月十六"),
        ("23日（农历正月初七、", "23日（农历正月初七日、", "无法识别农历日期“农历正月初七日”"),
    ],
)  # fmt: skip
def test_a_wrong_lunar_date_is_refused_naming_the_line(old: str, new: str, message: str) -> None:
    text = notice_text(2026)
    assert old in text
    refused(text.replace(old, new, 1), new, message)


def test_right_lunar_dates_are_accepted() -> None:
    text = (
        notice_text(2026)
        .replace("6月19日（周五）", "6月19日（农历五月初五、周五）")
        .replace("9月25日（周五）", "9月25日（农历八月十五、周五）")
        .replace("27日（周日）放假", "27日（农历八月十七、周日）放假")
    )
    assert parse(text) == parse(notice_text(2026))


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        ("6月19日（周五）至21日（周日）", "6月12日（周五）至14日（周日）",
         "端午节假期 2026年6月12日至2026年6月14日 不含端午节当天：2026 年端午节的法定假日从 2026年6月19日（农历五月初五）开始"),
        ("4月4日（周六）至6日（周一）放假，共3天", "4月6日（周一）放假，共1天",
         "2026 年清明节的法定假日从 2026年4月5日（清明）开始"),
        ("5月1日（周五）至5日（周二）放假调休，共5天", "5月2日（周六）至5日（周二）放假调休，共4天",
         "2026 年劳动节的法定假日从 2026年5月1日开始"),
        ("2月15日（农历腊月二十八、周日）至23日（农历正月初七、周一）放假调休，共9天",
         "2月17日（农历正月初一、周二）至23日（农历正月初七、周一）放假调休，共7天",
         "2026 年春节的法定假日从 2026年2月16日（农历除夕）开始"),
    ],
)  # fmt: skip
def test_a_festivals_holiday_without_its_day_is_refused(old: str, new: str, message: str) -> None:
    text = notice_text(2026)
    assert old in text
    refused(text.replace(old, new, 1), new, message)


def test_a_notice_missing_festivals_is_refused_naming_them() -> None:
    lines = ASSUMED_2027.splitlines()
    two = "\n".join(s for s in lines if not re.match(r"^\s*[三四五六七]、", s))
    refused(two, "现将2027年", "缺少2027年清明节、劳动节、端午节、中秋节、国庆节的放假安排")
    # Next year's New Year does not stand for this year's.
    text = notice_text(2026).replace(
        "一、元旦：1月1日（周四）至3日（周六）放假调休，共3天。1月4日（周日）上班。",
        "一、元旦：12月31日（周四）至1月3日（周日）放假调休，共4天。1月9日（周六）上班。",
    )
    refused(text, "现将2026年", "缺少2026年元旦的放假安排")
