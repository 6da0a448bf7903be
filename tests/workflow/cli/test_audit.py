"""``ssj audit log --task N`` (with the task's deadline events, --limit the newest) and
``ssj audit replay --task N --at T`` (the records and groups as of T)."""

from __future__ import annotations

import json
from datetime import datetime
from zoneinfo import ZoneInfo

from tests.conftest import add_account, add_office, drawn_task
from tests.workflow.cli import runner
from workflow.core.config import Settings
from workflow.deadlines import sweep
from workflow.sampling import task_draw

SH = ZoneInfo("Asia/Shanghai")
OFFICE = "劳动保障监察大队"


def ssj(db_url: str, *args: str, code: int = 0) -> str:
    """As the bureau's auditor reads the log (an account of the whole database)."""
    return runner.ssj(db_url, *args, "--as", "shenji", code=code)


def at(y: int, m: int, d: int, hour: int = 9) -> datetime:
    return datetime(y, m, d, hour, tzinfo=SH)


SETTINGS = Settings.model_validate(
    {
        "offices": {OFFICE: {"head": "王队长", "email": "head@bureau.test", "reports": False}},
        "mail": {"transport": "maildir", "maildir": "unused"},
    }
)


def test_audit_log_of_a_task_includes_its_deadline_events_and_limit_is_the_newest(
    wf, clock, db_url
) -> None:
    add_account(wf, "shenji", "auditor")
    clock.set(at(2024, 4, 1))
    add_office(wf, OFFICE, reports=False)
    t, _ = drawn_task(wf, 2, initiating_office=OFFICE, months="2024-04")
    other, _ = drawn_task(wf, 1, initiating_office=OFFICE, months="2024-04")
    sweep.run(wf, SETTINGS, at(2024, 4, 1, 10), deliver=False)  # both: confirm, 3-day reminder
    clock.set(at(2024, 4, 2))
    task_draw.confirm(wf, t, actor="王队长")

    events = json.loads(ssj(db_url, "audit", "log", "--task", str(t), "--json"))
    kinds = [e["kind"] for e in events]
    assert kinds[0] == "task_created" and kinds[-1] == "draw_confirmed"
    reminders = [e for e in events if e["kind"] == "deadline_reminder"]
    assert len(reminders) == 1 and reminders[0]["task_id"] is None
    assert reminders[0]["payload"]["task"] == t  # not the other task's reminder
    seqs = [e["seq"] for e in events]
    assert seqs == sorted(seqs)

    newest = json.loads(ssj(db_url, "audit", "log", "--task", str(t), "--limit", "2", "--json"))
    assert [e["seq"] for e in newest] == seqs[-2:]
    assert [e["kind"] for e in newest] == ["deadline_reminder", "draw_confirmed"]
    everything = json.loads(ssj(db_url, "audit", "log", "--json"))
    assert any(e["payload"].get("task") == other for e in everything)  # left out above
    last3 = json.loads(ssj(db_url, "audit", "log", "--limit", "3", "--json"))
    assert [e["seq"] for e in last3] == [e["seq"] for e in everything[-3:]]

    text = ssj(db_url, "audit", "log", "--task", str(t))
    line = next(x for x in text.splitlines() if "deadline_reminder" in x)
    assert f"任务 {t} " in line
    assert "--limit" in ssj(db_url, "audit", "log", "--limit", "0", code=2)
    # The log is the supervisors' and auditors' to read, not the clerks'.
    add_account(wf, "luru", "clerk")
    out = runner.ssj(db_url, "audit", "log", "--task", str(t), "--as", "luru", code=2)
    assert "账号 luru（录入员）无权查看审计日志" in out


def test_audit_log_filtered_by_account_kind_and_time(wf, clock, db_url) -> None:
    add_account(wf, "shenji", "auditor")
    clock.set(at(2024, 4, 1))
    t, codes = drawn_task(wf, 2, initiating_office=OFFICE, months="2024-04")
    clock.set(at(2024, 4, 10))
    wf.set_result(t, codes[0], "no_problem", actor="x")
    kinds = json.loads(ssj(db_url, "audit", "log", "--kind", "result_set", "--json"))
    assert [e["task_id"] for e in kinds] == [t]
    since = json.loads(ssj(db_url, "audit", "log", "--since", "2024-04-10", "--until",
                           "2024-04-10T23:59", "--json"))  # fmt: skip
    assert [e["kind"] for e in since] == ["result_set"]
    mine = json.loads(ssj(db_url, "audit", "log", "--actor", "x", "--json"))
    assert [e["kind"] for e in mine] == ["result_set"]
    assert "事件类别 'nothing' 无效" in ssj(db_url, "audit", "log", "--kind", "nothing", code=2)
    assert "时间格式无效" in ssj(db_url, "audit", "log", "--since", "someday", code=2)


def test_audit_replay_of_a_task_at_a_moment_shows_its_records_then(wf, clock, db_url) -> None:
    add_account(wf, "shenji", "auditor")
    clock.set(at(2024, 4, 1))
    t, codes = drawn_task(wf, 2, initiating_office=OFFICE, months="2024-04")
    clock.set(at(2024, 4, 10))
    wf.set_result(t, codes[0], "problem", actor="甲", note="未签劳动合同")
    wf.set_result(t, codes[1], "no_problem", actor="甲")
    wf.fire(t, "inspect", actor="甲")
    clock.set(at(2024, 4, 20))
    wf.publish(t, place="县人社局网站", actor="甲")
    clock.set(at(2024, 4, 25))
    wf.add_followup(t, codes[0], "rectified", actor="甲", note="已补签")

    shown = json.loads(ssj(db_url, "task", "show", str(t), "--json"))
    groups = {r["target_code"]: r["inspectors"] for r in shown["records"]}
    names = {r["target_code"]: r["target_name"] for r in shown["records"]}

    then = json.loads(
        ssj(db_url, "audit", "replay", "--task", str(t), "--at", "2024-04-15T12:00", "--json")
    )
    assert then["tasks"] == {str(t): "inspected"}
    recs = {r["target_code"]: r for r in then["records"]}
    assert recs[codes[0]]["result"] == "problem" and recs[codes[0]]["published_at"] is None
    assert recs[codes[0]]["followups"] == [] and recs[codes[0]]["group"] == groups[codes[0]]
    assert recs[codes[0]]["target_name"] == names[codes[0]]

    before = json.loads(
        ssj(db_url, "audit", "replay", "--task", str(t), "--at", "2024-04-05", "--json")
    )
    assert {r["result"] for r in before["records"]} == {None}

    now = json.loads(ssj(db_url, "audit", "replay", "--task", str(t), "--json"))
    rec = next(r for r in now["records"] if r["target_code"] == codes[0])
    assert rec["published_place"] == "县人社局网站"
    assert rec["followups"] == [{"outcome": "rectified", "date": "2024-04-25", "note": "已补签"}]

    text = ssj(db_url, "audit", "replay", "--task", str(t), "--at", "2024-04-15T12:00")
    line = next(x for x in text.splitlines() if codes[0] in x)
    assert f"{names[codes[0]]}（{codes[0]}）" in line
    assert "结果：发现问题（未签劳动合同）" in line and "公示：未公示" in line
    assert groups[codes[0]][0] in line
    text = ssj(db_url, "audit", "replay", "--task", str(t))
    line = next(x for x in text.splitlines() if codes[0] in x)
    assert "公示：2024-04-20 09:00 县人社局网站" in line and "后续处置：已整改 2024-04-25" in line


def test_replay_follows_a_substituted_inspector(wf, clock, db_url) -> None:
    add_account(wf, "shenji", "auditor")
    clock.set(at(2024, 4, 1))
    t, codes = drawn_task(wf, 1, initiating_office=OFFICE, months="2024-04")
    before = json.loads(ssj(db_url, "audit", "replay", "--task", str(t), "--json"))["records"]
    out_cert = before[0]["group"][0]
    clock.set(at(2024, 4, 2))
    p = task_draw.substitute(wf, t, codes[0], out_cert, reason="请假", actor="王队长")
    after = json.loads(ssj(db_url, "audit", "replay", "--task", str(t), "--json"))
    assert after["ok"] and after["records"][0]["group"] == p["after"]
    assert out_cert not in after["records"][0]["group"]
    then = json.loads(
        ssj(db_url, "audit", "replay", "--task", str(t), "--at", "2024-04-01T12:00", "--json")
    )
    assert then["records"][0]["group"] == before[0]["group"]
