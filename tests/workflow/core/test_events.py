"""The event kinds are declared once (workflow/core/events.py): the writer refuses any other,
replay applies each through its declaration, and docs/AUDIT.md lists exactly them."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from tests.conftest import drawn_task
from workflow.core import audit, events
from workflow.core.replay import rebuild

ROOT = Path(__file__).resolve().parents[3]


def test_docs_list_exactly_the_declared_kinds() -> None:
    text = (ROOT / "docs" / "AUDIT.md").read_text(encoding="utf-8")
    row = next(line for line in text.splitlines() if line.startswith("| `kind` |"))
    documented = set(re.findall(r"`([a-z_]+)`", row)) - {"kind"}
    assert documented == set(events.EVENTS)


def test_every_task_kind_says_what_replay_does_and_only_transitions_move_state() -> None:
    for k in events.EVENTS.values():
        assert (k.apply is not None) == (k.scope == "task"), k.name
        assert k.changes_state == (k.name == "transition"), k.name


def test_the_writer_refuses_an_undeclared_kind_or_the_wrong_scope(wf) -> None:
    t, _ = drawn_task(wf, 1)
    before = wf.head()
    for kind, task in (("result_sett", t), ("plan_created", t), ("result_set", None)):
        with wf.raw.write() as cur, pytest.raises(ValueError, match=repr(kind)):
            audit.append(
                cur, wf.raw.sql, audit.read_head(cur, wf.raw.sql), at="2024-04-01T00:00:00.000000Z",
                actor="x", role="clerk", task_id=task, kind=kind, payload={},
            )  # fmt: skip
    assert wf.head() == before  # nothing appended


def test_replay_applies_each_event_through_its_declaration() -> None:
    draw = {"trigger": "draw", "data": {"targets": [["C1", ["J1", "J2"]]]}}
    rows = [
        (1, 7, "task_created", None, "planned", "{}"),
        (2, 7, "transition", "planned", "drawn", json.dumps(draw)),
        (3, 7, "result_set", "drawn", "drawn",
         json.dumps({"target_code": "C1", "after": {"result": "problem"}, "rectify_by": "2024-05-01"})),
        (4, None, "deadline_overdue", None, None, "{}"),
        (5, 7, "rectify_by_changed", "drawn", "drawn",
         json.dumps({"target_code": "C1", "before": "2024-05-01", "after": "2024-06-01"})),
        (6, 7, "no_such_kind", "drawn", "drawn", "{}"),
        (7, 7, "result_set", "drawn", "inspected", json.dumps({"target_code": "C1", "after": {"result": "x"}})),
    ]  # fmt: skip
    tasks, problems, n = rebuild(rows)
    t = tasks[7]
    assert n == 7 and t.state == "drawn" and t.version == 5
    rec = t.records["C1"]
    # The moved date applied, then the last result_set (no date: not a problem) cleared it.
    assert (rec.group, rec.result, rec.rectify_by) == (["J1", "J2"], "x", None)
    assert rows[4][2] == "rectify_by_changed"
    tasks_before_last, _, _ = rebuild(rows[:5])
    assert tasks_before_last[7].records["C1"].rectify_by == "2024-06-01"
    assert [p["message"] for p in problems] == [
        "事件 6：未声明的事件类型 no_such_kind",
        "事件 7（result_set）不应改变任务状态",
    ]
