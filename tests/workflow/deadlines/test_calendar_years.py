"""A year past the package: provisional deadlines marked 暂定 everywhere, the notice recorded in
the database for every process (and the deadlines recomputed), the daily warning to the
administrators from November. Dates are relative to the package's last year, so the tests
hold whatever chinesecalendar version is installed."""

from __future__ import annotations

import json
import re
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from typer.testing import CliRunner

from tests.conftest import SmtpServer, add_account, add_office, drawn_task
from workflow.cli.main import app
from workflow.core import audit, queries
from workflow.core.config import Settings
from workflow.core.errors import InvalidInput
from workflow.core.writer import Workflow
from workflow.deadlines import calendar_years, sweep
from workflow.deadlines.calendar import WorkCalendar, package_years
from workflow.deadlines.calendar_notice import festival_days, parse, weekday_cn
from workflow.deadlines.overdue import overdue

SH = ZoneInfo("Asia/Shanghai")
OFFICE = "劳动保障监察大队"
Y = package_years()[1] + 1  # the first year nothing covers
NOTICES = Path(__file__).parent / "notices"
runner = CliRunner()


def at(y: int, m: int, d: int, hour: int = 9) -> datetime:
    return datetime(y, m, d, hour, tzinfo=SH)


def on(day: date, hour: int = 9) -> datetime:
    return datetime(day.year, day.month, day.day, hour, tzinfo=SH)


def first_weekday(year: int, month: int, weekday: int) -> date:
    d = date(year, month, 1)
    return d + timedelta(days=(weekday - d.weekday()) % 7)


def made_up_notice(year: int) -> tuple[str, date, date]:
    """A notice for ``year`` (its arrangement made up, its form the real one): the week of the
    second Monday of March off, the Sunday before and the Saturday after worked; then the seven
    festivals a notice must list, each one day off on its first statutory day. Returns
    (text, that Monday, that Sunday)."""
    monday = first_weekday(year, 3, 0) + timedelta(days=7)
    friday, sunday, saturday = (monday + timedelta(days=n) for n in (4, -1, 12))
    text = (
        f"国务院办公厅关于{year}年部分节假日安排的通知\n"
        f"经国务院批准，现将{year}年……放假调休日期的具体安排通知如下。\n"
        f"一、测试节：{monday.month}月{monday.day}日（周一）至{friday.day}日（周五）放假调休，共5天。"
        f"{sunday.month}月{sunday.day}日（周日）、{saturday.month}月{saturday.day}日（周六）上班。\n"
    )
    for n, (name, day) in enumerate(festival_days(year).items()):
        text += f"{'二三四五六七八'[n]}、{name}：{day.month}月{day.day}日放假，共1天。\n"
    return text, monday, sunday


def make_settings(port: int = 25, admins: list[str] | None = None) -> Settings:
    return Settings.model_validate(
        {
            "offices": {OFFICE: {"head": "王队长", "email": "head@bureau.test"}},
            "calendar": {"admin_name": "张管理员", "admin_emails": admins or []},
            "mail": {"transport": "smtp"},
            "smtp": {"host": "127.0.0.1", "port": port, "timeout_seconds": 5},
        }
    )


def events(wf: Workflow, kind: str) -> list[tuple[Any, dict[str, Any]]]:
    with wf.raw.read() as cur:
        cur.execute(
            wf.raw.sql("SELECT task_id, payload FROM event WHERE kind = ? ORDER BY seq"), (kind,)
        )
        return [(t, json.loads(p)) for t, p in cur.fetchall()]


@pytest.fixture
def late_task(wf: Workflow, clock) -> int:  # type: ignore[no-untyped-def]
    """Drawn on the Friday before the made-up holiday week of year Y."""
    _, monday, _ = made_up_notice(Y)
    clock.set(on(monday - timedelta(days=3), 10))
    add_office(wf, OFFICE)
    t, _ = drawn_task(wf, 2, plan=f"{Y}001", email=True, initiating_office=OFFICE,
                      months=f"{Y}-{monday.month:02d}")  # fmt: skip
    return t


def test_a_provisional_deadline_is_marked_and_recomputed_once_the_notice_is_recorded(
    wf: Workflow,
    engine,
    clock,
    late_task: int,  # type: ignore[no-untyped-def]
) -> None:
    text, monday, sunday = made_up_notice(Y)
    s = make_settings()
    later = on(monday + timedelta(days=18))
    # Provisional: the Friday's draw is due 2 working days later, Monday + 1 (Tuesday).
    rows, problems = overdue(wf, s, later)
    assert problems == []
    (confirm,) = [r for r in rows if r["rule"] == "confirm"]
    assert confirm["due"] == (monday + timedelta(days=1)).isoformat()
    assert confirm["provisional"] and confirm["due_provisional"]

    clock.set(on(monday + timedelta(days=1)))
    r = calendar_years.record(wf, parse(text), text, "王文书")
    assert not r.already and r.note == ""
    ((task_id, payload),) = events(wf, calendar_years.RECORDED)
    assert task_id is None and payload["year"] == Y and payload["was"].startswith("holidays ")
    assert payload["workdays"] == sorted(
        [sunday.isoformat(), (monday + timedelta(days=12)).isoformat()]
    )
    assert audit.verify_db(wf.raw).ok

    # Another process (a fresh workflow on the same database) sees the recorded year: the
    # Sunday is worked, the week off; due Sunday + 1 working day = the Monday after the week.
    other = Workflow(engine, calendar=WorkCalendar(), clock=clock)
    try:
        with other.raw.read() as cur:
            calendar_years.refresh(other.calendar, cur, other.raw.sql)
        recorded_on = (monday + timedelta(days=1)).isoformat()
        assert other.calendar.coverage(Y) == (
            f"数据库：国务院办公厅关于{Y}年部分节假日安排的通知（{recorded_on} 录入）"
        )
        assert other.calendar.is_working_day(sunday)
    finally:
        other.close()
    rows, _ = overdue(wf, s, later)  # the same process: its cached answers were dropped
    (confirm,) = [r for r in rows if r["rule"] == "confirm"]
    assert confirm["due"] == (monday + timedelta(days=7)).isoformat()
    assert not confirm["provisional"]


def test_recording_a_year_twice_or_against_the_package(wf: Workflow) -> None:
    text, _, _ = made_up_notice(Y)
    calendar_years.record(wf, parse(text), text, "王文书")
    again = calendar_years.record(wf, parse(text), text + "\n", "李文书")
    assert again.already and "已由 王文书" in again.note and again.event_seq is None
    changed = re.sub(r"、\d+月\d+日（周六）上班", "上班", text)  # one make-up day fewer
    assert changed != text
    with pytest.raises(InvalidInput, match=f"{Y} 年的节假日安排已由 王文书 .* 录入，与本通知不同"):
        calendar_years.record(wf, parse(changed), changed, "李文书")
    assert len(events(wf, calendar_years.RECORDED)) == 1

    # A year the package covers: recorded only if it agrees day by day.
    real = (NOTICES / "2026.txt").read_text(encoding="utf-8")
    tampered = real.replace("5月9日（周六）上班", "5月10日（周日）上班")
    with pytest.raises(
        InvalidInput, match="2026-05-09（周六）通知为休息；2026-05-10（周日）通知为上班"
    ):
        calendar_years.record(wf, parse(tampered), tampered, "王文书")
    ok = calendar_years.record(wf, parse(real), real, "王文书")
    assert ok.note.startswith("与 chinesecalendar ") and ok.event_seq is not None
    with pytest.raises(InvalidInput, match="必须指明录入人") as e:
        calendar_years.record(wf, parse(real), real, " ")
    assert e.value.needs == "actor"


def test_the_sweep_marks_provisional_mail_and_warns_the_administrators_once_a_day(
    wf: Workflow,
    clock,
    smtp_server: SmtpServer,  # type: ignore[no-untyped-def]
) -> None:
    s = make_settings(smtp_server.port, ["admin@bureau.test", "it@bureau.test"])
    # October: next year is not due yet.
    r = sweep.run(wf, s, at(Y - 1, 10, 31, 23))
    assert r.calendar_warning is None and r.problems == []
    # November: a warning, once a day, to each administrator.
    r = sweep.run(wf, s, at(Y - 1, 11, 2))
    assert r.calendar_warning_sent and f"{Y} 年的节假日安排尚未确认" in (r.calendar_warning or "")
    assert r.messages == 2 and r.delivery and r.delivery["mails"] == 2
    assert r.calendar_warning_mails == 2
    r = sweep.run(wf, s, at(Y - 1, 11, 2, 15))
    assert r.calendar_warning and not r.calendar_warning_sent and r.messages == 0
    sweep.run(wf, s, at(Y - 1, 11, 3))
    mails = smtp_server.sink.messages()
    assert [m["To"] for m in mails] == [
        "张管理员 <admin@bureau.test>",
        "张管理员 <it@bureau.test>",
    ] * 2
    subject = str(mails[0]["Subject"])
    assert subject == f"【工作日历】{Y} 年节假日安排尚未确认，相关期限暂定：请录入国务院办公厅通知"
    body = mails[0].get_body(preferencelist=("plain",)).get_content()
    assert "ssj calendar notice 通知全文.txt" in body and "--dry-run" in body
    assert "--actor" not in body  # the command acts as the administrator's account
    warned = events(wf, calendar_years.WARNING)
    assert [(t, p["years"], p["today"]) for t, p in warned] == [
        (None, [Y], f"{Y - 1}-11-02"), (None, [Y], f"{Y - 1}-11-03"),
    ]  # fmt: skip
    # Once the notice is recorded, no more warnings.
    text, _, _ = made_up_notice(Y)
    calendar_years.record(wf, parse(text), text, "王文书")
    r = sweep.run(wf, s, at(Y - 1, 11, 4))
    assert r.calendar_warning is None and len(events(wf, calendar_years.WARNING)) == 2


def test_a_year_still_uncovered_in_january_keeps_being_warned(wf: Workflow) -> None:
    s = make_settings()  # no administrator configured: logged, nobody mailed
    r = sweep.run(wf, s, at(Y, 1, 5), deliver=False)
    assert r.calendar_warning_sent and r.messages == 0 and r.calendar_warning_mails == 0
    ((_, payload),) = events(wf, calendar_years.WARNING)
    assert payload["years"] == [Y] and payload["to"] == []


def test_reminders_of_a_provisional_deadline_say_so(
    wf: Workflow,
    clock,
    late_task: int,
    smtp_server: SmtpServer,  # type: ignore[no-untyped-def]
) -> None:
    _, monday, _ = made_up_notice(Y)
    s = make_settings(smtp_server.port)
    r = sweep.run(wf, s, on(monday - timedelta(days=3), 11))
    assert r.problems == [] and r.provisional >= 1 and r.steps["reminder"] == 1
    (mail,) = smtp_server.sink.messages()
    due = (monday + timedelta(days=1)).isoformat()
    assert str(mail["Subject"]).endswith(f"{due}（暂定） 到期")
    body = mail.get_body(preferencelist=("plain",)).get_content()
    assert f"截止日期：{due}（" in body and "）（暂定）" in body and "暂定：该期限所在年份" in body
    ((_, payload),) = events(wf, "deadline_reminder")
    assert payload["provisional"] is True


def test_nothing_fails_in_a_provisional_year(wf: Workflow, clock, late_task: int) -> None:
    """Recording a problem (default rectification date) and confirming a draw in year Y."""
    from workflow.sampling import task_draw

    _, monday, _ = made_up_notice(Y)
    clock.set(on(monday - timedelta(days=3), 11))
    task_draw.confirm(wf, late_task, actor="王文书")
    with wf.raw.read() as cur:
        cur.execute(wf.raw.sql("SELECT target_code FROM inspection_record WHERE task_id = ?"),
                    (late_task,))  # fmt: skip
        code = cur.fetchone()[0]
    p = wf.set_result(late_task, code, "problem", actor="x")
    assert p["rectify_by"].startswith(str(Y))


def ssj(db_url: str, cfg: Path, *args: str, code: int = 0) -> Any:
    r = runner.invoke(app, ["--db", db_url, "--config", str(cfg), *args])
    assert r.exit_code == code, (args, r.output)
    return r


def test_cli_calendar_notice_dry_run_record_and_check(
    wf: Workflow, db_url: str, tmp_path: Path
) -> None:
    # Recording the notice is an administrator's task (the warnings go to them).
    add_account(wf, "王文书", "admin")
    cfg = tmp_path / "c.yaml"
    cfg.write_text("log: {level: WARNING}\n", encoding="utf-8")
    text, monday, sunday = made_up_notice(Y)
    f = tmp_path / "notice.txt"
    f.write_text(text, encoding="gb18030")  # as saved on a Windows desktop
    out = ssj(db_url, cfg, "calendar", "notice", str(f), "--dry-run", "--as", "王文书").stdout
    assert f"国务院办公厅关于{Y}年部分节假日安排的通知：" in out
    assert (
        f"放假 测试节：{monday.isoformat()}（周一） 至 {(monday + timedelta(days=4)).isoformat()}（周五），共 5 天"
        in out
    )
    assert f"上班 测试节：{sunday.isoformat()}（周日）" in out and "未录入" in out
    assert events(wf, calendar_years.RECORDED) == []
    ssj(db_url, cfg, "calendar", "check", str(Y), code=1)
    r = ssj(db_url, cfg, "calendar", "notice", str(f), code=2)  # no account
    assert "需要指明以哪个账号操作" in r.output
    out = ssj(db_url, cfg, "calendar", "notice", str(f), "--as", "王文书").stdout
    assert f"已录入 {Y} 年节假日安排" in out and "审计日志第" in out
    (ev,) = [e for e in queries.list_events(wf.engine) if e["kind"] == calendar_years.RECORDED]
    assert (ev["actor"], ev["role"], ev["payload"]["by"]["username"]) == (
        "王文书",
        "admin",
        "王文书",
    )
    out = ssj(db_url, cfg, "calendar", "notice", str(f), "--as", "王文书").stdout
    assert "无需重复录入" in out
    out = ssj(db_url, cfg, "calendar", "check", str(Y)).stdout
    assert f"{Y} 年已覆盖：数据库：国务院办公厅关于{Y}年部分节假日安排的通知" in out
    # A malformed notice: the file and the line named, nothing recorded, no traceback.
    bad = tmp_path / "bad.txt"
    bad.write_text(text.replace("（周一）", "（周二）"), encoding="utf-8")
    r = ssj(db_url, cfg, "calendar", "notice", str(bad), "--as", "王文书", code=2)
    assert f"{bad}：节假日安排通知无法识别：第 3 行（一、测试节：" in r.output
    assert "通知写的是周二" in r.output and "Traceback" not in r.output
    binary = tmp_path / "x.bin"
    binary.write_bytes(b"\xff\xfe\x00\x81" * 10)
    r = ssj(db_url, cfg, "calendar", "notice", str(binary), "--as", "王文书", code=2)
    assert "不是 UTF-8 或 GB18030 编码的文本文件" in r.output or "找不到年份" in r.output
    r = ssj(db_url, cfg, "calendar", "notice", str(tmp_path / "missing.txt"), "--as", "王文书",
            code=2)  # fmt: skip
    assert "无法读取" in r.output
    assert len(events(wf, calendar_years.RECORDED)) == 1


def test_cli_overdue_marks_provisional_rows(
    wf: Workflow, db_url: str, tmp_path: Path, late_task: int
) -> None:
    add_account(wf, "李督办", "supervisor")  # reads what is overdue
    add_account(wf, "张管理员", "admin")  # runs the sweep by hand
    cfg = tmp_path / "c.yaml"
    cfg.write_text(f"offices:\n  {OFFICE}: {{head: 王队长, email: head@bureau.test}}\n",
                   encoding="utf-8")  # fmt: skip
    _, monday, _ = made_up_notice(Y)
    now = f"{monday + timedelta(days=18)}T09:00"
    rows = json.loads(ssj(db_url, cfg, "overdue", "--now", now, "--json", "--as", "李督办").stdout)
    (confirm,) = [r for r in rows if r["rule"] == "confirm"]
    assert confirm["provisional"] is True and confirm["due_provisional"] is True
    text = ssj(db_url, cfg, "overdue", "--now", now, "--as", "李督办").stdout
    assert f"截止 {confirm['due']}（暂定）" in text and "注：标“暂定”" in text
    r = ssj(db_url, cfg, "sweep", "--now", now, "--no-deliver", "--as", "张管理员")
    assert "为暂定" in r.stdout and f"{Y} 年的节假日安排尚未确认" in r.stdout


def test_cli_refuses_an_impossible_notice_even_in_a_dry_run(
    wf: Workflow, db_url: str, tmp_path: Path
) -> None:
    """The new-user trial: a Spring Festival ten days late, its start written as 腊月二十八, in a
    notice of year Y listing two of the seven festivals."""
    add_account(wf, "王文书", "admin")
    cfg = tmp_path / "c.yaml"
    cfg.write_text("log: {level: WARNING}\n", encoding="utf-8")
    new_year = festival_days(Y)["春节"]
    late, end = new_year + timedelta(days=10), new_year + timedelta(days=18)
    f = tmp_path / "notice.txt"

    def notice(spring: str) -> Path:
        f.write_text(
            f"国务院办公厅关于{Y}年部分节假日安排的通知\n"
            f"现将{Y}年元旦、春节放假调休日期的具体安排通知如下。\n"
            f"一、元旦：1月1日放假，共1天。\n"
            f"二、春节：{spring}。\n",
            encoding="utf-8",
        )
        return f

    days = f"{end.month}月{end.day}日（{weekday_cn(end)}）放假调休，共9天"
    lunar = notice(f"{late.month}月{late.day}日（农历腊月二十八、{weekday_cn(late)}）至{days}")
    r = ssj(db_url, cfg, "calendar", "notice", str(lunar), "--dry-run", "--as", "王文书", code=2)
    assert "第 4 行（二、春节：" in r.output and "不是农历腊月二十八" in r.output
    bare = notice(f"{late.month}月{late.day}日（{weekday_cn(late)}）至{days}")
    r = ssj(db_url, cfg, "calendar", "notice", str(bare), "--dry-run", "--as", "王文书", code=2)
    assert "第 4 行（二、春节：" in r.output and "不含春节当天" in r.output
    two = notice(f"{new_year.month}月{new_year.day}日放假，共1天")
    r = ssj(db_url, cfg, "calendar", "notice", str(two), "--dry-run", "--as", "王文书", code=2)
    assert "第 2 行（现将" in r.output
    assert f"缺少{Y}年清明节、劳动节、端午节、中秋节、国庆节的放假安排" in r.output
    assert events(wf, calendar_years.RECORDED) == []
