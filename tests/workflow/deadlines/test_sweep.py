"""The sweep, time-travelling through a task's life: each reminder, overdue notice and
escalation once, in the log, in the outbox and in a real SMTP server's inbox."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from tests.conftest import SmtpServer, drawn_task, free_port, register_offices
from tests.racing import race
from workflow.core.clock import FixedClock
from workflow.core.config import Settings
from workflow.core.errors import InvalidInput
from workflow.core.writer import Workflow
from workflow.deadlines import reports, sweep
from workflow.deadlines.calendar import WorkCalendar
from workflow.deadlines.overdue import overdue
from workflow.sampling import task_draw

SH = ZoneInfo("Asia/Shanghai")
OFFICE = "劳动保障监察大队"


def at(y: int, m: int, d: int, hour: int = 9) -> datetime:
    return datetime(y, m, d, hour, tzinfo=SH)


def make_settings(wf: Workflow, port: int, reports: bool = False, **mail: Any) -> Settings:
    s = Settings.model_validate(
        {
            "offices": {
                OFFICE: {"head": "王队长", "email": "head@bureau.test", "reports": reports}
            },
            "escalation": {"supervisor_name": "李局长", "supervisor_email": "sup@bureau.test"},
            "mail": {"transport": "smtp", "retry_base_seconds": 60, **mail},
            "smtp": {"host": "127.0.0.1", "port": port, "timeout_seconds": 5},
        }
    )
    return register_offices(wf, s)


def steps(wf: Workflow) -> list[tuple[str, str]]:
    with wf.raw.read() as cur:
        cur.execute("SELECT deadline, step FROM deadline_step ORDER BY id")
        return [(r[0].split(":")[2], r[1]) for r in cur.fetchall()]


def logged(wf: Workflow) -> list[tuple[str, str, str]]:
    import json

    with wf.raw.read() as cur:
        cur.execute("SELECT kind, payload FROM event WHERE kind LIKE 'deadline_%' ORDER BY seq")
        return [(k, json.loads(p)["rule"], json.loads(p)["step"]) for k, p in cur.fetchall()]


def inbox(server: SmtpServer) -> list[tuple[str, str]]:
    return [
        (e.rcpt_tos[0], m["Subject"])
        for e, m in zip(server.sink.envelopes, server.sink.messages(), strict=True)
    ]


@pytest.fixture
def task(wf: Workflow, clock: FixedClock) -> tuple[int, list[str]]:
    clock.set(at(2024, 4, 1))  # Monday; 04-04..06 Qingming off, Sunday 04-07 worked
    return drawn_task(wf, 2, email=True, initiating_office=OFFICE, months="2024-04")


def test_a_task_lifecycle_gets_each_step_once(wf, clock, task, smtp_server: SmtpServer) -> None:
    t, codes = task
    s = make_settings(wf, smtp_server.port)

    # Day of the draw: confirmation due 04-03 (2 working days) -> the 3-day reminder.
    r = sweep.run(wf, s, at(2024, 4, 1, 10))
    assert r.steps == {"reminder": 1, "overdue": 0, "escalation": 0}
    assert steps(wf) == [("confirm", "remind_3")]
    assert inbox(smtp_server) == [
        (
            "head@bureau.test",
            "【提醒】计划 2024001 任务 001号《测试任务》：确认抽取结果、匹配检查人员并生成检查表，2024-04-03 到期",
        )
    ]
    # The same moment again, and an hour later: nothing new, nothing sent twice.
    for now in (at(2024, 4, 1, 10), at(2024, 4, 1, 11)):
        again = sweep.run(wf, s, now)
        assert again.steps == {"reminder": 0, "overdue": 0, "escalation": 0}
        assert again.delivery and again.delivery["mails"] == 0
    assert len(smtp_server.sink.envelopes) == 1

    # The due day: the last reminder.
    sweep.run(wf, s, at(2024, 4, 3))
    assert steps(wf)[-1] == ("confirm", "remind_1")

    # Down over the holiday; back on Monday 04-08, two working days late (Sunday 04-07
    # counts): the overdue notice and the office head's escalation, both at once. Both are
    # the head's (confirming is the office's): one mail, the escalation, not two.
    before = len(inbox(smtp_server))
    r = sweep.run(wf, s, at(2024, 4, 8))
    assert r.steps == {"reminder": 0, "overdue": 1, "escalation": 1}
    assert steps(wf)[-2:] == [("confirm", "overdue"), ("confirm", "office_head")]
    ((rcpt, subject),) = inbox(smtp_server)[before:]
    assert rcpt == "head@bureau.test"
    assert subject.startswith("【督办·科室负责人】") and "已逾期 2 个工作日" in subject

    clock.set(at(2024, 4, 8, 10))
    task_draw.confirm(wf, t, actor="王队长", reason="清明假期")
    assert sweep.run(wf, s, at(2024, 4, 15)).steps["overdue"] == 0  # confirmation is done

    # Inspections end with the month: 04-30 is 3 working days after Friday 04-26 (Sunday
    # 04-28 worked), and the reminder goes to the inspectors of the unfinished records.
    sweep.run(wf, s, at(2024, 4, 26))
    assert steps(wf)[-1] == ("inspect", "remind_3")
    to = sorted(rcpt for rcpt, subj in inbox(smtp_server) if "完成检查" in subj)
    assert to and all(r.endswith("@bureau.test") and r.startswith("J") for r in to)

    clock.set(at(2024, 4, 29))
    wf.set_result(t, codes[0], "no_problem", actor="甲")
    wf.set_result(t, codes[1], "problem", actor="甲", note="未签劳动合同")
    wf.fire(t, "inspect", actor="甲")

    # Publication due 20 working days after 04-29 (May Day off, Saturday 05-11 worked).
    # Down until six working days past it: all three ladder steps, the supervisor's too.
    before = len(steps(wf))
    r = sweep.run(wf, s, at(2024, 6, 6))
    publish = [x for x in steps(wf)[before:] if x[0] == "publish"]
    assert publish == [
        ("publish", "overdue"),
        ("publish", "office_head"),
        ("publish", "supervisor"),
    ]
    assert any(
        rcpt == "sup@bureau.test" and "公示检查结果" in subj for rcpt, subj in inbox(smtp_server)
    )

    # Every step is one event in the log, in the same order, and one row in deadline_step.
    assert [(rule, step) for _, rule, step in logged(wf)] == steps(wf)
    assert len(set(steps(wf))) == len(steps(wf))
    kinds = {k for k, _, _ in logged(wf)}
    assert kinds == {"deadline_reminder", "deadline_overdue", "deadline_escalated"}

    # The supervisor's view agrees.
    rows, problems = overdue(wf, s, at(2024, 6, 6))
    assert problems == []
    pub = next(r for r in rows if r["rule"] == "publish")
    assert pub["escalation_level"] == 3 and pub["escalation_step"] == "supervisor"
    assert pub["working_days_late"] == 6 and pub["last_notice_step"] == "supervisor"


def test_server_down_during_a_sweep_then_up_delivers_each_message_once(wf, clock, task) -> None:
    server = SmtpServer(free_port())
    s = make_settings(wf, server.port)
    # Two working days late at once: the overdue notice and the escalation are both the
    # head's, so one message.
    r = sweep.run(wf, s, at(2024, 4, 8))
    assert r.messages == 1 and r.delivery and r.delivery["mails"] == 0 and r.delivery["error"]
    server.start()
    try:
        r = sweep.run(wf, s, at(2024, 4, 8, 10))
        assert r.messages == 0 and r.delivery and r.delivery["mails"] == 1
        sweep.run(wf, s, at(2024, 4, 8, 11))
        r = sweep.run(wf, s, at(2024, 4, 12))  # the supervisor's step: a new mail, once
        assert r.messages == 1 and r.delivery and r.delivery["mails"] == 1
        sweep.run(wf, s, at(2024, 4, 12, 10))
        ids = [m["Message-ID"] for m in server.sink.messages()]
        assert len(ids) == 2 and len(set(ids)) == 2
    finally:
        server.stop()


def test_two_concurrent_sweeps_take_every_step_once(engine, clock, task) -> None:
    w = Workflow(engine, calendar=WorkCalendar(), clock=clock)
    try:
        s = make_settings(w, free_port())
    finally:
        w.close()
    outcomes = race(
        engine,
        lambda w, _n: sweep.run(w, s, at(2024, 4, 8), deliver=False),
        clock=FixedClock(at(2024, 4, 8)),
    )
    errors = [r for r in outcomes if isinstance(r, BaseException)]
    results = [r for r in outcomes if isinstance(r, sweep.SweepResult)]
    assert errors == []
    taken = sorted(sum(r.steps.values()) for r in results)
    assert taken == [0, 2]  # one sweep took both steps, the other found them taken
    w = Workflow(engine, calendar=WorkCalendar())
    try:
        assert steps(w) == [("confirm", "overdue"), ("confirm", "office_head")]
        assert len(logged(w)) == 2
        with w.raw.read() as cur:
            cur.execute("SELECT count(*) FROM outbox")
            assert cur.fetchone()[0] == 1  # both steps are the head's: one mail
    finally:
        w.close()


def test_reports_are_obligations_until_submitted(wf, clock, task, smtp_server) -> None:
    s = make_settings(wf, smtp_server.port, reports=True)
    # The Q1 progress report is due before 04-08, i.e. by the end of Sunday 04-07 (worked).
    rows, _ = overdue(wf, s, at(2024, 4, 9))
    assert [
        (r["rule"], r["due"], r["working_days_late"])
        for r in rows
        if r["rule"].startswith("report")
    ] == [("report_progress", "2024-04-07", 2)]
    r = sweep.run(wf, s, at(2024, 4, 9))
    assert ("progress", "overdue") in [(k.split(":")[1], st) for k, st in _step_keys(wf)]
    clock.set(at(2024, 4, 9, 11))
    done = reports.submit(wf, s, kind="progress", period="2024-Q1", office=OFFICE, actor="王队长")
    assert done["late"] is True and done["due"] == "2024-04-07"
    rows, _ = overdue(wf, s, at(2024, 4, 10))
    assert not [r for r in rows if r["rule"] == "report_progress"]
    with pytest.raises(InvalidInput, match="已由 王队长"):
        reports.submit(wf, s, kind="progress", period="2024-Q1", office=OFFICE, actor="王队长")
    with pytest.raises(InvalidInput, match="期间 '2024-13' 无效"):
        reports.submit(wf, s, kind="monthly", period="2024-13", office=OFFICE, actor="王队长")
    with pytest.raises(InvalidInput, match="不在需报送报告的科室中"):
        reports.submit(wf, s, kind="monthly", period="2024-04", office="财务科", actor="王队长")
    # The monthly report (before the 23rd) is reminded three working days ahead.
    sweep.run(wf, s, at(2024, 4, 17))
    assert ("monthly", "remind_3") in [(k.split(":")[1], st) for k, st in _step_keys(wf)]
    assert r.problems == []


def _step_keys(wf: Workflow) -> list[tuple[str, str]]:
    with wf.raw.read() as cur:
        cur.execute("SELECT deadline, step FROM deadline_step ORDER BY id")
        return [(r[0], r[1]) for r in cur.fetchall()]


def test_rectification_due_on_the_date_set_with_the_result(wf, clock, task, smtp_server) -> None:
    t, codes = task
    s = make_settings(wf, smtp_server.port)
    clock.set(at(2024, 4, 29))
    wf.set_result(t, codes[0], "no_problem", actor="x")
    p = wf.set_result(t, codes[1], "refused", actor="x", rectify_by=datetime(2024, 5, 20).date())
    assert p["rectify_by"] == "2024-05-20"
    wf.fire(t, "inspect", actor="x")
    sweep.run(wf, s, at(2024, 5, 22))  # 2 working days late
    keys = _step_keys(wf)
    assert (f"task:{t}:rectify:{codes[1]}:2024-05-20", "office_head") in keys
    # The group of that record is told, not the whole bureau.
    rcpts = {rcpt for rcpt, subj in inbox(smtp_server) if "督促整改" in subj}
    assert rcpts and rcpts <= {f"J{i:03d}@bureau.test" for i in range(4)} | {"head@bureau.test"}
    clock.set(at(2024, 5, 22, 10))
    wf.add_followup(t, codes[1], "case_filed", actor="x")
    rows, _ = overdue(wf, s, at(2024, 5, 23))
    assert not [r for r in rows if r["rule"] == "rectify"]
    with pytest.raises(InvalidInput, match="无需整改"):
        wf.set_result(
            t, codes[0], "no_problem", actor="x", reason="r", rectify_by=datetime(2024, 6, 1).date()
        )


def test_daily_digest_sends_one_mail_per_recipient_at_its_hour(
    wf, clock, task, smtp_server
) -> None:
    # The head's: the late confirmation (one mail for its notice and escalation) and the Q1
    # progress report due 04-07.
    s = make_settings(wf, smtp_server.port, reports=True, digest=True, digest_time="08:30")
    r = sweep.run(wf, s, at(2024, 4, 8, 10))  # after today's digest hour: wait for tomorrow
    assert r.messages == 2 and r.delivery and r.delivery["mails"] == 0
    r = sweep.run(wf, s, datetime(2024, 4, 9, 8, 31, tzinfo=SH))
    assert r.delivery and (r.delivery["mails"], r.delivery["messages"]) == (1, 2)
    ((rcpt, subject),) = inbox(smtp_server)
    assert rcpt == "head@bureau.test" and subject.startswith(
        "【每日汇总】2 项待办，其中 2 项已逾期"
    )


def test_a_year_nothing_covers_is_swept_provisionally_not_refused(
    wf, clock, task, smtp_server
) -> None:
    from workflow.deadlines.calendar import package_years

    s = make_settings(wf, smtp_server.port)
    late_year = package_years()[1] + 1
    r = sweep.run(wf, s, datetime(late_year, 1, 5, 9, tzinfo=SH))
    assert r.problems == [] and r.overdue >= 1 and r.steps["overdue"] >= 1
    assert r.calendar_warning and f"{late_year} 年" in r.calendar_warning


# ---------------------------------------------------------------------------------------------
# Who is told what: the targets still missing, one mail per person, the office's own deadlines


def _bodies(server: SmtpServer) -> list[tuple[str, str, str]]:
    """(recipient, subject, plain-text body) of every mail the server received."""
    out = []
    for e, m in zip(server.sink.envelopes, server.sink.messages(), strict=True):
        text = m.get_body(preferencelist=("plain",)).get_content()
        out.append((e.rcpt_tos[0], str(m["Subject"]), text))
    return out


def _groups(wf: Workflow, t: int) -> dict[str, tuple[str, list[str]]]:
    import json

    with wf.raw.read() as cur:
        cur.execute(
            wf.raw.sql(
                "SELECT target_code, target_name, inspectors FROM inspection_record"
                " WHERE task_id = ?"
            ),
            (t,),
        )
        return {c: (n, json.loads(i)) for c, n, i in cur.fetchall()}


def _payloads(wf: Workflow, rule: str) -> list[dict[str, Any]]:
    import json

    with wf.raw.read() as cur:
        cur.execute("SELECT payload FROM event WHERE kind LIKE 'deadline_%' ORDER BY seq")
        return [p for (text,) in cur.fetchall() if (p := json.loads(text))["rule"] == rule]


def test_inspection_overdue_notice_names_the_targets_still_missing(wf, clock, smtp_server) -> None:
    clock.set(at(2024, 4, 1))
    t, codes = drawn_task(wf, 3, email=True, initiating_office=OFFICE, months="2024-04")
    clock.set(at(2024, 4, 2))
    task_draw.confirm(wf, t, actor="王队长")
    clock.set(at(2024, 4, 29))
    wf.set_result(t, codes[0], "no_problem", actor="x")
    groups = _groups(wf, t)
    s = make_settings(wf, smtp_server.port)
    sweep.run(wf, s, at(2024, 5, 6))  # due 04-30; May Day off: 1 working day late
    late = [
        (r, subj, body) for r, subj, body in _bodies(smtp_server) if subj.startswith("【逾期】")
    ]
    assert late and all("完成检查并录入全部检查结果" in subj for _, subj, _ in late)
    # Each notice goes to the groups of the two unfinished records and lists them by name
    # and code; the finished one is not listed.
    wanted = {f"{c}@bureau.test" for code in codes[1:] for c in groups[code][1]}
    assert {r for r, _, _ in late} == wanted
    for _, _, body in late:
        assert "尚未录入检查结果的检查对象（2 户）" in body
        for code in codes[1:]:
            assert f"{groups[code][0]}（{code}）" in body
        assert codes[0] not in body


def test_one_person_gets_one_mail_per_deadline_when_head_is_also_in_the_group(
    wf, clock, smtp_server
) -> None:
    clock.set(at(2024, 4, 1))
    t, codes = drawn_task(wf, 2, email=True, initiating_office=OFFICE, months="2024-04")
    clock.set(at(2024, 4, 2))
    task_draw.confirm(wf, t, actor="王队长")
    groups = _groups(wf, t)
    head_cert = groups[codes[0]][1][0]  # the office head inspects too
    head = f"{head_cert}@bureau.test"
    s = Settings.model_validate(
        {
            **make_settings(wf, smtp_server.port).model_dump(),
            "offices": {OFFICE: {"head": "王队长", "email": head, "reports": False}},
        }
    )
    register_offices(wf, s)
    # 05-06 is 1 working day late: the overdue notice to the groups, the head among them.
    sweep.run(wf, s, at(2024, 5, 6))
    first = [r for r, subj, _ in _bodies(smtp_server) if "完成检查" in subj]
    assert first.count(head) == 1
    # 05-08 is 3 working days late: the office head's step — the head was told already.
    before = len(smtp_server.sink.envelopes)
    r = sweep.run(wf, s, at(2024, 5, 8))
    assert r.steps["escalation"] == 1 and r.without_recipient == []
    assert [x for x in _bodies(smtp_server)[before:] if "完成检查" in x[1]] == []
    step = next(p for p in _payloads(wf, "inspect") if p["step"] == "office_head")
    assert step["to"] == [] and step["not_again"] == [head]


def test_a_catch_up_sweep_sends_each_person_the_highest_step_only(wf, clock, smtp_server) -> None:
    clock.set(at(2024, 4, 1))
    t, codes = drawn_task(wf, 2, email=True, initiating_office=OFFICE, months="2024-04")
    clock.set(at(2024, 4, 2))
    task_draw.confirm(wf, t, actor="王队长")
    groups = _groups(wf, t)
    head = f"{groups[codes[0]][1][0]}@bureau.test"
    s = Settings.model_validate(
        {
            **make_settings(wf, smtp_server.port).model_dump(),
            "offices": {OFFICE: {"head": "王队长", "email": head, "reports": False}},
            "escalation": {"supervisor_name": "李局长", "supervisor_email": head},
        }
    )
    register_offices(wf, s)
    # Down until 6 working days late: all three steps at once, and the head is in the group
    # and is the supervisor too: one mail, the supervisor's.
    r = sweep.run(wf, s, at(2024, 5, 13))
    assert r.steps == {"reminder": 0, "overdue": 1, "escalation": 2}
    to_head = [subj for rcpt, subj, _ in _bodies(smtp_server) if rcpt == head]
    assert len(to_head) == 1 and to_head[0].startswith("【督办·上级督办人】")
    others = {f"{c}@bureau.test" for code in codes for c in groups[code][1]} - {head}
    got = [rcpt for rcpt, subj, _ in _bodies(smtp_server) if rcpt != head]
    assert sorted(got) == sorted(others)  # each other inspector: the overdue notice, once


def test_publication_overdue_goes_to_the_office_not_the_inspectors(wf, clock, tmp_path) -> None:
    import mailbox
    from email import message_from_bytes, policy

    clock.set(at(2024, 4, 1))
    t, codes = drawn_task(wf, 2, email=True, initiating_office=OFFICE, months="2024-04")
    clock.set(at(2024, 4, 2))
    task_draw.confirm(wf, t, actor="王队长")
    clock.set(at(2024, 4, 29))
    for c in codes:
        wf.set_result(t, c, "no_problem", actor="x")
    wf.fire(t, "inspect", actor="x")
    s = Settings.model_validate(
        {
            **make_settings(wf, 1).model_dump(),
            "mail": {"transport": "maildir", "maildir": str(tmp_path / "mail")},
        }
    )
    sweep.run(wf, s, at(2024, 5, 30))  # publication due 05-28 (20 working days): 2 late
    box = mailbox.Maildir(tmp_path / "mail", create=False)
    mails = [message_from_bytes(box.get_bytes(k), policy=policy.default) for k in box.iterkeys()]
    publish = [m for m in mails if "公示检查结果" in str(m["Subject"])]
    assert [str(m["To"]) for m in publish] == ["王队长 <head@bureau.test>"]
    body = publish[0].get_body(preferencelist=("plain",)).get_content()
    assert "责任人：王队长" in body and "尚未录入" not in body
    assert all("J0" not in str(m["To"]) for m in publish)
