from __future__ import annotations

from datetime import timedelta

from sqlalchemy import text

from tests.conftest import drawn_task
from workflow.core.clock import format_utc
from workflow.core.replay import replay


def test_replay_equals_the_tables(wf):
    t1, c1 = drawn_task(wf, 2)
    t2, _ = drawn_task(wf, 1)
    wf.set_result(t1, c1[0], "refused", actor="甲")
    wf.set_result(t1, c1[1], "no_problem", actor="甲")
    wf.fire(t1, "inspect", actor="甲")
    wf.publish(t1, place="网站", actor="甲")
    wf.fire(t1, "publicize", actor="甲")
    wf.add_followup(t1, c1[0], "case_filed", actor="甲")
    r = replay(wf.raw)
    assert r.ok, r.mismatches
    assert r.tasks == {t1: "publicized", t2: "drawn"}


def test_replay_as_of_a_past_moment_shows_the_state_then(wf, clock):
    t, codes = drawn_task(wf, 1)
    wf.set_result(t, codes[0], "no_problem", actor="甲")
    clock.set(clock.now() + timedelta(days=3))
    moment = format_utc(clock.now())
    clock.set(clock.now() + timedelta(days=3))
    wf.fire(t, "inspect", actor="甲")
    past = replay(wf.raw, task_id=t, at=moment)
    assert past.tasks == {t: "drawn"} and not past.compared and past.ok
    assert replay(wf.raw, task_id=t).tasks == {t: "inspected"}
    before_anything = replay(wf.raw, at="2000-01-01T00:00:00.000000Z")
    assert before_anything.tasks == {} and before_anything.events == 0


def test_a_table_changed_behind_the_log_is_reported_per_task(wf):
    t1, _ = drawn_task(wf, 1)
    t2, c2 = drawn_task(wf, 1)
    with wf.engine.begin() as c:  # a write that bypasses the write path
        c.execute(text("UPDATE task SET state = 'closed' WHERE id = :id"), {"id": t1})
        c.execute(
            text("UPDATE inspection_record SET result = 'no_problem' WHERE task_id = :id"),
            {"id": t2},
        )
    r = replay(wf.raw)
    assert not r.ok
    by_task = {(m["task"], m["what"]) for m in r.mismatches}
    assert (t1, "state") in by_task and (t2, "record") in by_task
    state_m = next(m for m in r.mismatches if m["what"] == "state")
    assert (state_m["log"], state_m["table"]) == ("drawn", "closed")
    assert replay(wf.raw, task_id=t2).mismatches[0]["target"] == c2[0]
    assert replay(wf.raw, task_id=t1).tasks == {t1: "drawn"}


def test_a_task_missing_from_the_log_is_reported(wf):
    t, _ = drawn_task(wf, 1)
    with wf.engine.begin() as c:
        c.execute(
            text(
                "INSERT INTO task (plan_id, unit_id, task_no, name, task_type, ratio, items, scope,"
                " initiating_office, joining_offices, months, state, version, created_at, updated_at)"
                " SELECT plan_id, unit_id, '099号', 'ghost', task_type, ratio, items, scope,"
                " initiating_office, joining_offices, months, 'closed', 1, created_at, updated_at"
                " FROM task WHERE id = :id"
            ),
            {"id": t},
        )
    r = replay(wf.raw)
    assert [m["what"] for m in r.mismatches] == ["missing_in_log"]
