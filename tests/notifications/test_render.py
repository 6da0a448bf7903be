"""Templates: the 暂定 mark of a provisional deadline, rows enqueued before the mark existed,
and the calendar warning."""

from __future__ import annotations

from notifications import render
from tests.notifications.test_delivery import _ctx
from workflow.deadlines.calendar_years import NOTICE_COMMAND


def test_a_provisional_deadline_is_marked_in_subject_text_and_html() -> None:
    ctx = {**_ctx(1), "recipient_name": "人员J001", "provisional": True}
    subject, text, html = render.render("deadline", ctx)
    assert subject.endswith("已逾期 3 个工作日")  # the body says why the count is 暂定
    assert (
        "截止日期：2024-09-30（检查结束后 20 个工作日内公示（来源文件 001、003、004））（暂定）"
        in text
    )
    assert "暂定：该期限所在年份的节假日安排尚未确认" in text
    assert "<strong>（暂定）</strong>" in html and "暂定：该期限所在年份" in html
    reminder = {**ctx, "kind": "reminder", "working_days_left": 2}
    assert render.render("deadline", reminder)[0].endswith("，2024-09-30（暂定） 到期")


def test_a_confirmed_deadline_and_a_row_from_before_the_mark_say_nothing_of_it() -> None:
    for ctx in ({**_ctx(1), "provisional": False}, _ctx(1)):  # the key missing: an old row
        subject, text, html = render.render("deadline", {**ctx, "recipient_name": ""})
        assert "暂定" not in subject + text + html
    items = [_ctx(1), {**_ctx(2), "provisional": True}]
    _, text, html = render.render(
        "digest", {"recipient_name": "", "day": "2024-10-08", "items": items}
    )
    assert text.count("（暂定）") == 1 and html.count("（暂定）") == 1


def test_the_calendar_warning() -> None:
    ctx = {
        "recipient_name": "张管理员",
        "years": [2027],
        "years_text": "2027 年",
        "source": "holidays 0.109",
        "command": NOTICE_COMMAND,  # run as an administrator's account (ssj --as)
        "today": "2026-11-24",
        "event_seq": 7,
    }
    subject, text, html = render.render("calendar", ctx)
    assert subject == "【工作日历】2027 年节假日安排尚未确认，相关期限暂定：请录入国务院办公厅通知"
    assert (
        "《关于2027年部分节假日安排的通知》" in text and "ssj calendar notice 通知全文.txt" in text
    )
    assert "张管理员" in html and "审计日志第 7 号事件" in html


def test_the_due_date_and_the_days_late_are_separate_lines() -> None:
    for provisional in (False, True):
        ctx = {**_ctx(1), "recipient_name": "王", "provisional": provisional}
        lines = render.render("deadline", ctx)[1].splitlines()
        due = next(i for i, line in enumerate(lines) if line.startswith("截止日期："))
        assert lines[due + 1] == "逾期：3 个工作日（按国家法定工作日计算）", lines[due : due + 2]
    # A reminder has no days late: the line after the due date is not run into it either.
    reminder = {**_ctx(1), "kind": "reminder", "working_days_left": 2, "recipient_name": "王"}
    lines = render.render("deadline", reminder)[1].splitlines()
    due = next(i for i, line in enumerate(lines) if line.startswith("截止日期："))
    assert lines[due].endswith("）") and "逾期" not in lines[due]
