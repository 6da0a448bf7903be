"""The deadline and mail commands: calendar, sweep --now, overdue, outbox, report, scheduler."""

from __future__ import annotations

import json
import mailbox
import os
import signal
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest

from tests.conftest import add_account, add_office, drawn_task
from tests.workflow.cli.runner import invoke

OFFICE = "劳动保障监察大队"
# The people at work, each with an account over the whole bureau.
ADMIN = ("--as", "guanli")  # runs the sweep, retries mail, enters the holiday notice
CLERK = ("--as", "luru")  # records results, publishes them, follows problems up
SUPERVISOR = ("--as", "wangdui")  # watches what is late, registers the reports submitted


@pytest.fixture
def cfg(tmp_path: Path) -> Path:
    path = tmp_path / "config.yaml"
    path.write_text(
        f"""
offices:
  {OFFICE}: {{head: 王队长, email: head@bureau.test}}
escalation: {{supervisor_name: 李局长, supervisor_email: sup@bureau.test}}
mail: {{transport: maildir, maildir: {tmp_path / "mail"}}}
""",
        encoding="utf-8",
    )
    return path


@pytest.fixture
def drawn(wf, clock, db_url) -> int:  # type: ignore[no-untyped-def]
    clock.set(datetime(2024, 4, 1, 1, tzinfo=UTC))
    add_office(wf, OFFICE)
    t, _ = drawn_task(wf, 2, email=True, initiating_office=OFFICE, months="2024-04")
    add_account(wf, "guanli", "admin", name="管理员")
    add_account(wf, "luru", "clerk", name="录入员")
    add_account(wf, "wangdui", "supervisor", name="王队长")
    return t


def ssj(db_url: str, cfg: Path, *args: str, code: int = 0) -> str:
    r = invoke(["--db", db_url, "--config", str(cfg), *args])
    assert r.exit_code == code, (args, r.output)
    return r.stdout if code == 0 else r.output


def test_sweep_now_json_is_idempotent_and_mail_lands_in_the_maildir(db_url, cfg, drawn) -> None:
    first = json.loads(ssj(db_url, cfg, "sweep", "--now", "2024-04-08T09:00", "--json", *ADMIN))
    assert first["today"] == "2024-04-08"
    # The confirmation (2 working days late: notice + office head) and the Q1 progress report
    # (due by 04-07, 1 working day late: notice). The confirmation's two steps are both the
    # head's: one mail.
    assert first["steps"] == {"reminder": 0, "overdue": 2, "escalation": 1}
    assert first["delivery"]["mails"] == 2
    second = json.loads(ssj(db_url, cfg, "sweep", "--now", "2024-04-08T09:00", "--json", *ADMIN))
    assert sum(second["steps"].values()) == 0 and second["delivery"]["mails"] == 0
    box = mailbox.Maildir(cfg.parent / "mail", create=False)
    assert len(list(box.iterkeys())) == 2
    text = ssj(db_url, cfg, "sweep", "--now", "2024-04-09T09:00", *ADMIN)
    assert "巡检（截至 2024-04-09）" in text


def test_overdue_lists_what_who_due_late_and_escalation(db_url, cfg, drawn) -> None:
    ssj(db_url, cfg, "sweep", "--now", "2024-04-08T09:00", *ADMIN)
    rows = json.loads(
        ssj(db_url, cfg, "overdue", "--now", "2024-04-08T10:00", "--json", *SUPERVISOR)
    )
    assert [r["rule"] for r in rows] == ["confirm", "report_progress"]  # most late first
    row = rows[0]
    assert row["rule"] == "confirm" and row["task_id"] == drawn
    assert row["responsible"] == "王队长" and row["due"] == "2024-04-03"
    assert row["working_days_late"] == 2 and row["escalation_level"] == 2
    assert row["last_notice_step"] == "office_head"
    text = ssj(db_url, cfg, "overdue", "--now", "2024-04-08T10:00", "--office", OFFICE, *SUPERVISOR)
    assert "逾期 2 个工作日" in text and "督办进度：第 2 级 督办（科室负责人）" in text
    assert "office_head" not in text and "最近通知" in text
    typo = ssj(
        db_url,
        cfg,
        "overdue",
        "--now",
        "2024-04-08T10:00",
        "--office",
        "监察大队",
        *SUPERVISOR,
        code=2,
    )
    assert "科室 '监察大队' 既不是登记的科室" in typo and OFFICE in typo


def test_outbox_list_and_retry(db_url, cfg, drawn) -> None:
    ssj(db_url, cfg, "sweep", "--now", "2024-04-08T09:00", "--no-deliver", *ADMIN)
    listed = json.loads(
        ssj(db_url, cfg, "outbox", "list", "--status", "pending", "--json", *SUPERVISOR)
    )
    assert len(listed) == 2 and {r["recipient"] for r in listed} == {"head@bureau.test"}
    out = ssj(
        db_url, cfg, "outbox", "retry", str(listed[0]["id"]), "--now", "2024-04-08T09:01", *ADMIN
    )
    assert "已放回发送队列" in out
    ssj(db_url, cfg, "sweep", "--now", "2024-04-08T09:05", *ADMIN)
    assert "已发 2" in ssj(db_url, cfg, "outbox", "list", *SUPERVISOR)
    assert "已发送" in ssj(db_url, cfg, "outbox", "retry", str(listed[0]["id"]), *ADMIN, code=2)
    assert "不存在" in ssj(db_url, cfg, "outbox", "retry", "999999", *ADMIN, code=2)
    assert "--status" in ssj(db_url, cfg, "outbox", "list", "--status", "lost", *SUPERVISOR, code=2)


def test_report_submit_from_the_command_line(db_url, cfg, drawn, wf) -> None:
    add_account(wf, "liwenshu", "supervisor", name="李文书")
    out = ssj(
        db_url, cfg, "report", "submit", "--kind", "monthly", "--period", "2024-04",
        "--office", OFFICE, *SUPERVISOR,
    )  # fmt: skip
    # Submitted on the real clock, long after 2024: late.
    assert "劳动保障监察大队 2024-04 月报表（截止 2024-04-22，含当日，逾期报送）" in out
    assert "monthly" not in out
    again = ssj(
        db_url, cfg, "report", "submit", "--kind", "monthly", "--period", "2024-04",
        "--office", OFFICE, "--as", "liwenshu", code=2,
    )  # fmt: skip
    # Who and when (Beijing time, as people read it), not a stored UTC stamp.
    assert "已由 wangdui 于 " in again and "不能重复登记" in again
    assert "Z " not in again and "T" not in again.split("于 ")[1][:20]
    bad = ssj(
        db_url, cfg, "report", "submit", "--kind", "weekly", "--period", "2024-04",
        "--office", OFFICE, *SUPERVISOR, code=2,
    )  # fmt: skip
    assert "报告类别 'weekly' 无效" in bad
    # The office's clerk sends the form too (seed 000: 填表人); an auditor only reads.
    out = ssj(
        db_url, cfg, "report", "submit", "--kind", "progress", "--period", "2024Q2",
        "--office", OFFICE, *CLERK,
    )  # fmt: skip
    assert "2024-Q2" in out  # as offices write it (2024Q2), stored as 2024-Q2
    add_account(wf, "shenji", "auditor")
    refused = ssj(
        db_url, cfg, "report", "submit", "--kind", "progress", "--period", "2024年第三季度",
        "--office", OFFICE, "--as", "shenji", code=2,
    )  # fmt: skip
    assert "账号 shenji（审计）无权登记报送：该操作限于 录入员、督办" in refused


def test_report_list_says_what_each_office_owes_and_what_was_submitted(db_url, cfg, drawn):
    ssj(db_url, cfg, "report", "submit", "--kind", "progress", "--period", "2024-Q1",
        "--office", OFFICE, *SUPERVISOR)  # fmt: skip
    rows = json.loads(ssj(db_url, cfg, "report", "list", "--year", "2024", "--now",
                          "2024-04-08T10:00", "--json", *SUPERVISOR))  # fmt: skip
    assert len(rows) == 12 + 4 + 1 and {r["office"] for r in rows} == {OFFICE}
    q1 = next(r for r in rows if r["period"] == "2024-Q1")
    assert q1["submitted"] and q1["submitted_by"] == "wangdui"
    march = next(r for r in rows if r["period"] == "2024-03")
    assert march["overdue"] is True and march["submitted"] is False
    text = ssj(db_url, cfg, "report", "list", "--year", "2024", "--now", "2024-04-08T10:00",
               *CLERK)  # fmt: skip
    assert "2024-Q1 落实情况报告" in text and "已报送（wangdui" in text and "逾期未报" in text
    assert "不在需报送报告的科室中" in ssj(db_url, cfg, "report", "list", "--year", "2024",
                                          "--office", "无此科室", *CLERK, code=2)  # fmt: skip


def test_result_set_takes_a_rectification_date(db_url, cfg, drawn, wf) -> None:
    with wf.raw.read() as cur:
        cur.execute(
            "SELECT target_code FROM inspection_record WHERE task_id = ? ORDER BY 1".replace(
                "?", "%s" if wf.raw.postgres else "?"
            ),
            (drawn,),
        )
        code = cur.fetchone()[0]
    bad = ssj(db_url, cfg, "result", "set", str(drawn), code, "--result", "problem",
              *CLERK, "--rectify-by", "2024-02-30", code=2)  # fmt: skip
    assert "--rectify-by 的日期 '2024-02-30' 无效" in bad
    # The command runs on the real clock: a date after any machine's today.
    out = ssj(db_url, cfg, "result", "set", str(drawn), code, "--result", "problem",
              *CLERK, "--rectify-by", "2099-05-20")  # fmt: skip
    assert "整改期限：2099-05-20" in out


def test_scheduler_sweeps_at_start_and_stops_cleanly_on_sigterm(db_url, cfg, drawn) -> None:
    env = {**os.environ, "SSJ_LOG_FORMAT": "json"}
    # The service as `ssj scheduler` runs it, with its clock fixed (tests never read the
    # machine's date): two months after the 2024 task's April window, so it is overdue.
    worker = [sys.executable, "-m", "tests.workflow.cli.scheduler_worker"]
    proc = subprocess.Popen(
        [*worker, db_url, str(cfg), "2024-06-03T09:00"],
        cwd=Path(__file__).resolve().parents[3],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    # Read the service's log until its start-up sweep's line, then stop it.
    assert proc.stderr is not None
    head: list[str] = []
    for raw in proc.stderr:
        head.append(raw)
        if '"event": "sweep"' in raw:
            break
    proc.send_signal(signal.SIGTERM)
    out, rest = proc.communicate(timeout=60)
    err = "".join(head) + rest
    box = cfg.parent / "mail" / "new"
    assert proc.returncode == 0, err
    assert box.exists() and any(box.iterdir())
    assert "ssj 服务已启动" in out and "ssj 服务已停止" in out
    lines = [json.loads(x) for x in err.splitlines() if x.startswith("{")]
    sweeps = [x for x in lines if x.get("event") == "sweep"]
    assert sweeps and sweeps[0]["overdue_notices"] >= 1
    assert sweeps[0]["as_of"].startswith("2024-06-03T01:00")
    assert any(x.get("event") == "stopping" and x.get("signal") == "SIGTERM" for x in lines)


def test_sweep_says_whether_the_administrators_were_mailed_about_the_calendar(
    db_url, cfg, drawn, tmp_path
) -> None:
    from workflow.deadlines.calendar import package_years

    # From November the year after the package's last is provisional: warned once a day.
    last = package_years()[1]
    out = ssj(db_url, cfg, "sweep", "--now", f"{last}-11-02T09:00", *ADMIN)
    assert f"{last + 1} 年的节假日安排尚未确认" in out
    assert "未配置管理员邮箱（config.yaml 的 calendar.admin_emails），今日提醒未发邮件。" in out
    assert "入队" not in out.split("注意：")[1]
    with_admin = tmp_path / "admin.yaml"
    with_admin.write_text(
        cfg.read_text(encoding="utf-8") + "calendar: {admin_emails: [it@bureau.test]}\n",
        encoding="utf-8",
    )
    out = ssj(db_url, with_admin, "sweep", "--now", f"{last}-11-03T09:00", *ADMIN)
    assert "今日提醒邮件已为管理员入队 1 封。" in out and "发送：1 封" in out
    again = ssj(db_url, with_admin, "sweep", "--now", f"{last}-11-03T10:00", *ADMIN)
    assert f"{last + 1} 年的节假日安排尚未确认" in again and "今日提醒" not in again


def test_results_dates_and_report_kinds_as_clerks_type_them(db_url, cfg, drawn, wf) -> None:
    codes = [
        r["target_code"]
        for r in json.loads(ssj(db_url, cfg, "task", "show", str(drawn), "--json", *CLERK))[
            "records"
        ]
    ]
    out = ssj(db_url, cfg, "result", "set", str(drawn), codes[0], "--result", "发现问题", *CLERK,
              "--rectify-by", "2099年5月20日")  # fmt: skip
    assert "已录入结果 发现问题" in out and "problem" not in out
    ssj(db_url, cfg, "result", "set", str(drawn), codes[1], "--result", "未发现问题", *CLERK)
    ssj(db_url, cfg, "task", "fire", str(drawn), "inspect", *CLERK)
    for typed in ("2024/4/20", "2024.4.20", "２０２４年４月２０日"):
        refused_or_ok = invoke(
            ["--db", db_url, "--config", str(cfg), "result", "publish", str(drawn),
                  "--place", "局网站", *CLERK, "--date", typed, "--target", codes[0]],
        )  # fmt: skip
        if typed == "2024/4/20":
            assert refused_or_ok.exit_code == 0, refused_or_ok.output
        else:  # published already: refused for that reason, not for the date's form
            assert "日期" not in refused_or_ok.output, refused_or_ok.output
    bad = ssj(db_url, cfg, "result", "publish", str(drawn), "--place", "局网站", *CLERK,
              "--date", "2024年4月31日", code=2)  # fmt: skip
    assert "公示日期 '2024年4月31日' 无效" in bad and "--at" not in bad and "isoformat" not in bad
    ssj(db_url, cfg, "result", "publish", str(drawn), "--place", "局网站", *CLERK,
        "--date", "2024-04-21")  # fmt: skip
    shown = json.loads(ssj(db_url, cfg, "task", "show", str(drawn), "--json", *CLERK))
    assert {r["target_code"]: r["published_on"] for r in shown["records"]} == {
        codes[0]: "2024-04-20", codes[1]: "2024-04-21",
    }  # fmt: skip
    ssj(db_url, cfg, "task", "fire", str(drawn), "publicize", *CLERK)
    out = ssj(db_url, cfg, "result", "correct", str(drawn), codes[1], "--result", "发现问题",
              "--reason", "复核发现未签订劳动合同", "--category", "复核改变", *CLERK)  # fmt: skip
    assert "结果已更正 未发现问题 → 发现问题" in out
    out = ssj(db_url, cfg, "followup", "add", str(drawn), codes[0], "--outcome", "已整改", *CLERK)
    assert "已登记后续处置 已整改" in out
    text = ssj(db_url, cfg, "task", "show", str(drawn), *CLERK)
    assert "类型 不定向" in text and "结果 发现问题" in text and "后续处置 已整改" in text
    assert "no_problem" not in text and "undirected" not in text
    out = ssj(db_url, cfg, "report", "submit", "--kind", "月报表", "--period", "2024-04",
              "--office", OFFICE, *SUPERVISOR)  # fmt: skip
    assert "2024-04 月报表" in out


def test_a_problem_is_chased_from_its_result_even_before_inspect_is_fired(
    db_url, cfg, drawn, wf, clock
) -> None:
    from datetime import date

    records = json.loads(ssj(db_url, cfg, "task", "show", str(drawn), "--json", *CLERK))["records"]
    codes = [r["target_code"] for r in records]
    clock.set(datetime(2024, 4, 3, 2, tzinfo=UTC))
    wf.set_result(drawn, codes[0], "problem", actor="x", rectify_by=date(2024, 4, 10))
    wf.set_result(drawn, codes[1], "no_problem", actor="x")  # every result in; still drawn
    rows = json.loads(
        ssj(db_url, cfg, "overdue", "--now", "2024-05-06T10:00", "--json", *SUPERVISOR)
    )
    mine = {r["rule"]: r for r in rows if r["task_id"] == drawn}
    assert mine["rectify"]["due"] == "2024-04-10" and codes[0] in mine["rectify"]["detail"]
    # The inspection is late, but what is left is the last step, not the whole inspection.
    assert (
        mine["inspect"]["detail"]
        == f"检查结果已全部录入，尚未确认检查完成：请运行 ssj task fire {drawn} inspect"
    )
    assert (
        json.loads(ssj(db_url, cfg, "task", "show", str(drawn), "--json", *CLERK))["state"]
        == "drawn"
    )
