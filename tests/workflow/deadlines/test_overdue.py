"""workflow/deadlines/overdue.py directly: the supervisor's list — working days late, who is
responsible, how far up the ladder, as of which moment, in which order, and which rows rest on
a provisional calendar year; and how a step is named for people."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Engine

from tests.conftest import CLERKS, drawn_task, register_offices
from workflow.core.clock import FixedClock
from workflow.core.config import Settings
from workflow.core.writer import Workflow
from workflow.deadlines import sweep
from workflow.deadlines.calendar import Coverage, WorkCalendar
from workflow.deadlines.overdue import overdue, step_label
from workflow.deadlines.rules import RULES

SH = ZoneInfo("Asia/Shanghai")
OFFICE = "劳动保障监察大队"
OTHER = "社会保险科"  # not in config.yaml's offices: no head to name


def at(m: int, d: int, hour: int = 10, y: int = 2024) -> datetime:
    return datetime(y, m, d, hour, tzinfo=SH)


def settings(wf: Workflow, reports: bool = True) -> Settings:
    return register_offices(
        wf,
        Settings.model_validate(
            {
                "offices": {
                    OFFICE: {"head": "王队长", "email": "head@bureau.test", "reports": reports}
                }
            }
        ),
    )


def _names(wf: Workflow, t: int, code: str) -> str:
    import json

    with wf.raw.read() as cur:
        cur.execute(
            wf.raw.sql(
                "SELECT inspectors FROM inspection_record WHERE task_id = ? AND target_code = ?"
            ),
            (t, code),
        )
        certs = json.loads(cur.fetchone()[0])
    return "、".join(f"人员{c}（{c}）" for c in certs)


def test_rows_say_how_late_who_and_how_far_up_most_late_first(
    wf: Workflow, clock: FixedClock
) -> None:
    s = settings(wf)
    clock.set(at(4, 1, 9))  # Monday; Qingming 04-04..06 off, Sunday 04-07 worked
    a, codes = drawn_task(wf, 2, initiating_office=OFFICE, months="2024-04")  # confirm by 04-03
    clock.set(at(4, 2, 9))
    b, _ = drawn_task(wf, 1, plan="2024002", initiating_office=OTHER, months="2024-04")  # 04-07
    wf.set_result(a, codes[0], "problem", actor="x", rectify_by=date(2024, 4, 8))
    # A sweep on Monday 04-08 takes the steps due then: A's confirmation is 2 working days
    # late (04-07, 04-08): notice and office head; B's and the Q1 progress report (due Sunday
    # 04-07, worked) 1: the notice; the rectification is due that day: its last reminder.
    sweep.run(wf, s, at(4, 8, 9), deliver=False)

    rows, problems = overdue(wf, s, at(4, 9))
    assert problems == []
    # Most late first; equally late, the earlier due date, then the deadline key ("report:"
    # before "task:"). Not listed: what is due today or later, the March monthly report (due
    # before the first plan's publication on 04-01).
    assert [
        (r["rule"], r["task_id"], r["due"], r["working_days_late"], r["escalation_level"])
        for r in rows
    ] == [
        ("confirm", a, "2024-04-03", 3, 2),
        ("report_progress", None, "2024-04-07", 2, 1),
        ("confirm", b, "2024-04-07", 2, 1),
        ("rectify", a, "2024-04-08", 1, 0),
    ]
    confirm_a, report, confirm_b, rectify = rows
    assert confirm_a["what"] == RULES["confirm"].what
    assert confirm_a["subject"] == "计划 2024001 任务 001号《测试任务》"
    assert confirm_a["escalation_step"] == "office_head"
    assert confirm_a["last_notice_step"] == "office_head"
    assert confirm_a["last_notice_at"].startswith("2024-04-08T01:00")
    assert confirm_a["deadline"] == f"task:{a}:confirm:2024-04-03"
    assert (confirm_a["responsible"], confirm_b["responsible"]) == ("王队长", "")
    assert (report["responsible"], report["subject"]) == (
        "王队长",
        f"{OFFICE} 2024-Q1 落实情况报告",
    )
    assert (confirm_b["office"], confirm_b["escalation_step"]) == (OTHER, "overdue")
    # The rectification was only reminded: a notice, but no step of the ladder.
    assert (rectify["escalation_step"], rectify["last_notice_step"]) == (None, "remind_1")
    assert rectify["responsible"] == _names(wf, a, codes[0])
    assert codes[0] in rectify["detail"] and rectify["what"] == RULES["rectify"].what
    assert not any(r["provisional"] or r["due_provisional"] for r in rows)

    # One office's rows only.
    mine = overdue(wf, s, at(4, 9), office=OTHER)[0]
    assert [(r["rule"], r["task_id"]) for r in mine] == [("confirm", b)]

    # As of an hour before the sweep: nothing had been sent yet, and A's confirmation was 2
    # working days late; the rectification was not late at all.
    before, _ = overdue(wf, s, at(4, 8, 8))
    assert [(r["rule"], r["working_days_late"], r["escalation_level"]) for r in before] == [
        ("confirm", 2, 0),
        ("report_progress", 1, 0),
        ("confirm", 1, 0),
    ]
    assert all(r["last_notice_at"] is None and r["escalation_step"] is None for r in before)

    # Without reporting offices the report is not owed.
    assert [r["rule"] for r in overdue(wf, settings(wf, reports=False), at(4, 9))[0]] == [
        "confirm",
        "confirm",
        "rectify",
    ]


class ConfirmedUntil2024(WorkCalendar):
    """The package's days, but 2025 on treated as not yet confirmed (provisional), so that the
    rows crossing into a provisional year can be worked out by hand on known dates."""

    def coverage_of(self, year: int) -> Coverage:
        return Coverage(year, year >= 2025, "test")


def test_rows_resting_on_a_provisional_year_say_so(engine: Engine) -> None:
    clock = FixedClock(at(12, 27, 10), tick_us=1000)
    wf = Workflow(engine, calendar=ConfirmedUntil2024(), clock=clock, clerks=CLERKS)
    try:
        s = settings(wf, reports=False)
        # Drawn Friday 2024-12-27: confirmation due Tuesday 12-31 (12-30, 12-31).
        a, codes = drawn_task(wf, 1, initiating_office=OFFICE, months="2024-12")
        # Drawn Monday 12-30: due Thursday 2025-01-02 (12-31, then 01-02 after New Year's Day).
        clock.set(at(12, 30, 10))
        b, _ = drawn_task(wf, 1, plan="2024002", initiating_office=OFFICE, months="2024-12")
        wf.set_result(a, codes[0], "problem", actor="x", rectify_by=date(2025, 1, 3))

        def flags(now: datetime) -> dict[tuple[str, int], tuple[Any, ...]]:
            rows, _ = overdue(wf, s, now)
            return {
                (r["rule"], r["task_id"]): (
                    r["due"],
                    r["working_days_late"],
                    r["provisional"],
                    r["due_provisional"],
                )
                for r in rows
            }

        # On 2024-12-31 everything counted lies in 2024: archiving (due Friday 12-20) is late
        # 12-23..27, 12-30, 12-31.
        assert flags(at(12, 31)) == {
            ("archive", a): ("2024-12-20", 7, False, False),
            ("archive", b): ("2024-12-20", 7, False, False),
        }
        # On Monday 2025-01-06 the working days late (01-02, 01-03, 01-06 …) are 2025's, so
        # every row is provisional; only the confirmation due in 2025 has a provisional date.
        # The rectification date was stated by people: its date is not provisional.
        assert flags(at(1, 6, y=2025)) == {
            ("archive", a): ("2024-12-20", 10, True, False),
            ("archive", b): ("2024-12-20", 10, True, False),
            ("confirm", a): ("2024-12-31", 3, True, False),
            ("inspect", a): ("2024-12-31", 3, True, False),
            ("inspect", b): ("2024-12-31", 3, True, False),
            ("confirm", b): ("2025-01-02", 2, True, True),
            ("rectify", a): ("2025-01-03", 1, True, False),
        }
    finally:
        wf.close()


def test_steps_are_named_as_people_read_them() -> None:
    s = Settings()
    assert step_label("remind_3", s) == "到期前 3 个工作日提醒"
    assert step_label("overdue", s) == "逾期通知（责任人）"
    assert step_label("office_head", s) == "督办（科室负责人）"
    assert step_label("supervisor", s) == "督办（上级督办人）"
    assert step_label(None, s) == "" and step_label("", s) == ""
    assert step_label("retired_step", s) == "retired_step"  # a step no longer configured
    custom = Settings.model_validate(
        {"escalation": {"ladder": [{"step": "late", "to": "office_head", "after_working_days": 1}]}}
    )
    assert step_label("late", custom) == "逾期通知（科室负责人）"
    assert step_label("overdue", custom) == "overdue"
