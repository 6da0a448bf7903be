from __future__ import annotations

import json

import pytest

from tests.conftest import drawn_task
from tests.racing import race
from workflow.core import audit, queries
from workflow.core.clock import format_utc
from workflow.core.errors import Conflict, InvalidInput, NotFound, TransitionRefused
from workflow.core.writer import Workflow
from workflow.sampling import plans


def _events(wf: Workflow, task_id: int) -> list[dict]:
    return queries.list_events(wf.engine, task_id)


def _records(wf: Workflow, task_id: int) -> list[dict]:
    return queries.show_task(wf.engine, task_id)["records"]


def test_a_task_walks_the_whole_lifecycle_with_one_event_per_change(wf):
    t, codes = drawn_task(wf, 2)
    wf.set_result(t, codes[0], "problem", actor="甲", note="未签劳动合同")
    wf.set_result(t, codes[1], "no_problem", actor="甲")
    assert wf.fire(t, "inspect", actor="甲")[:2] == ("drawn", "inspected")
    wf.publish(t, place="河北人社网", actor="甲")
    wf.fire(t, "publicize", actor="甲")
    wf.add_followup(t, codes[0], "rectified", actor="甲", note="已补签")
    wf.fire(t, "rectify", actor="甲")
    wf.fire(t, "close", actor="甲")
    shown = queries.show_task(wf.engine, t)
    assert shown["state"] == "closed"
    kinds = [e["kind"] for e in _events(wf, t)]
    assert kinds == [
        "task_created",
        "draw_committed",
        "transition",
        "result_set",
        "result_set",
        "transition",
        "results_published",
        "transition",
        "followup_added",
        "transition",
        "transition",
    ]
    assert shown["version"] == len(kinds)
    assert [e["to_state"] for e in _events(wf, t) if e["kind"] == "transition"] == [
        "drawn",
        "inspected",
        "publicized",
        "rectified",
        "closed",
    ]
    assert audit.verify_db(wf.raw).ok


def test_every_event_carries_actor_role_reason_and_payload(wf):
    t, _ = drawn_task(wf, 1)
    e = _events(wf, t)[-1]
    assert (e["actor"], e["role"], e["kind"], e["from_state"], e["to_state"]) == (
        "测试",
        "clerk",
        "transition",
        "planned",
        "drawn",
    )
    data = e["payload"]["data"]
    assert e["payload"]["trigger"] == "draw" and data["algorithm"] == "ssj-draw-v1"
    assert [code for code, _ in data["targets"]] == [r["target_code"] for r in _records(wf, t)]
    assert len(data["secret"]) == 64 and data["record_digest"]
    with pytest.raises(TransitionRefused):
        wf.fire(t, "publicize", actor="x", role="supervisor", reason="试图越级")


def test_an_illegal_move_names_the_task_state_and_allowed_triggers_and_writes_nothing(wf):
    t, _ = drawn_task(wf, 1)
    before = wf.head()
    with pytest.raises(TransitionRefused) as e:
        wf.fire(t, "close", actor="x")
    msg = str(e.value)
    assert f"任务 {t}" in msg and "drawn" in msg and "close" in msg
    # The way on is data: what the state allows, as steps (the CLI renders them as commands).
    assert [(s.action, s.args) for s in e.value.steps] == [
        ("task.fire", {"task": t, "trigger": "inspect"})
    ]
    with pytest.raises(TransitionRefused, match="未录入检查结果") as e:
        wf.fire(t, "inspect", actor="x")
    # A guard waiting on work offers the actions that do it.
    assert [s.action for s in e.value.steps] == ["result.set", "result.import"]
    assert wf.head() == before
    assert wf.task_state(t) == ("drawn", 3)


def test_draw_is_fired_only_by_the_draw_service(wf):
    plans.create_plan(wf, "2024001", unit="迁西县人社局", actor="x")
    t = plans.create_task(wf, "2024001", name="n", actor="x")
    before = wf.head()
    with pytest.raises(InvalidInput, match="抽取只能由抽取程序执行") as e:
        wf.fire(t, "draw", actor="x")
    assert [(s.action, s.args) for s in e.value.steps] == [("draw.run", {"task": t})]
    assert wf.head() == before and wf.task_state(t) == ("planned", 1)


def test_expected_version_conflict_is_clear_and_writes_nothing(wf):
    t, codes = drawn_task(wf, 1)
    _, version = wf.task_state(t)
    wf.set_result(t, codes[0], "no_problem", actor="x", expected_version=version)
    with pytest.raises(Conflict, match=f"期望版本 {version}"):
        wf.fire(t, "inspect", actor="y", expected_version=version)
    assert wf.task_state(t) == ("drawn", version + 1)


def test_two_racing_writers_exactly_one_wins(engine, wf):
    t, codes = drawn_task(wf, 1)
    wf.set_result(t, codes[0], "no_problem", actor="x")
    _, version = wf.task_state(t)
    names = ("甲", "乙")
    results = race(
        engine, lambda w, n: w.fire(t, "inspect", actor=names[n], expected_version=version)
    )
    outcomes = ["conflict" if isinstance(r, Conflict) else "won" for r in results]
    assert not [r for r in results if isinstance(r, BaseException) and not isinstance(r, Conflict)]
    assert sorted(outcomes) == ["conflict", "won"]
    inspects = [e for e in _events(wf, t) if e["payload"].get("trigger") == "inspect"]
    assert len(inspects) == 1
    assert wf.task_state(t) == ("inspected", version + 1)


def test_a_correction_logs_before_and_after_and_needs_a_reason(wf):
    t, codes = drawn_task(wf, 1)
    wf.set_result(t, codes[0], "unreachable", actor="甲")
    with pytest.raises(InvalidInput, match="须说明原因") as e:
        wf.set_result(t, codes[0], "no_problem", actor="甲")
    assert e.value.needs == "reason"
    wf.set_result(t, codes[0], "no_problem", actor="甲", reason="复查已联系上", note="正常")
    e = _events(wf, t)[-1]
    assert e["kind"] == "result_set" and e["reason"] == "复查已联系上"
    assert e["payload"]["before"] == {"result": "unreachable", "note": None}
    assert e["payload"]["after"] == {"result": "no_problem", "note": "正常"}


def test_published_results_cannot_be_altered(wf):
    t, codes = drawn_task(wf, 1)
    wf.set_result(t, codes[0], "no_problem", actor="甲")
    wf.fire(t, "inspect", actor="甲")
    wf.publish(t, place="网站", actor="甲")
    with pytest.raises(InvalidInput, match="已公示"):
        wf.set_result(t, codes[0], "problem", actor="甲", reason="想改")


def test_bad_values_are_refused_with_the_allowed_ones(wf):
    t, codes = drawn_task(wf, 1)
    with pytest.raises(InvalidInput, match="no_problem"):
        wf.set_result(t, codes[0], "fine", actor="甲")
    with pytest.raises(NotFound, match="没有检查对象"):
        wf.set_result(t, "X" * 18, "problem", actor="甲")
    with pytest.raises(NotFound, match="任务 999"):
        wf.fire(999, "inspect", actor="甲")
    with pytest.raises(InvalidInput, match="必须指明操作人") as e:
        wf.fire(t, "inspect", actor=" ")
    assert e.value.needs == "actor"
    with pytest.raises(InvalidInput, match="角色"):
        wf.fire(t, "inspect", actor="甲", role="king")
    wf.set_result(t, codes[0], "no_problem", actor="甲")
    wf.fire(t, "inspect", actor="甲")
    with pytest.raises(InvalidInput, match="只有 problem 或 refused"):
        wf.add_followup(t, codes[0], "rectified", actor="甲")
    with pytest.raises(InvalidInput, match="rectified"):
        wf.add_followup(t, codes[0], "forgiven", actor="甲")


def test_plan_and_task_numbering_follow_seed_004(wf):
    with pytest.raises(InvalidInput, match="2024001"):
        plans.create_plan(wf, "24-1", unit="u", actor="x")
    plans.create_plan(wf, "2024001", unit="迁西县人力资源和社会保障局", actor="x")
    plan = queries.list_plans(wf.engine)[0]
    assert plan["name"] == "2024年迁西县人力资源和社会保障局随机抽查001"
    with pytest.raises(InvalidInput, match="已存在"):
        plans.create_plan(wf, "2024001", unit="u", actor="x")
    a = plans.create_task(wf, "2024001", name="a", actor="x", ratio="10%")
    b = plans.create_task(wf, "2024001", name="b", actor="x")
    shown = queries.show_task(wf.engine, a)
    assert (shown["task_no"], shown["ratio"], shown["state"], shown["version"]) == (
        "001号",
        "0.1",
        "planned",
        1,
    )
    assert queries.show_task(wf.engine, b)["task_no"] == "002号"
    with pytest.raises(InvalidInput, match="已有任务 001号"):
        plans.create_task(wf, "2024001", name="c", actor="x", task_no="001号")
    with pytest.raises(InvalidInput, match="比例"):
        plans.create_task(wf, "2024001", name="c", actor="x", ratio="150%")
    with pytest.raises(NotFound, match="抽查计划 2099001 不存在") as e:
        plans.create_task(wf, "2099001", name="c", actor="x")
    assert [(s.action, s.args) for s in e.value.steps] == [("plan.create", {"plan": "2099001"})]
    created = queries.list_events(wf.engine, a)[0]
    assert created["kind"] == "task_created" and created["payload"]["ratio"] == "0.1"


def test_event_times_are_the_clocks_not_copied_from_the_head(wf, clock):
    """Issue 9: copying a later head's time let one event dated ahead date all later ones.
    Seq is the log's order; "as of T" is a prefix by seq (docs/AUDIT.md)."""
    from datetime import timedelta

    t, codes = drawn_task(wf, 1)
    back = clock.now() - timedelta(days=1)
    clock.set(back)
    wf.set_result(t, codes[0], "no_problem", actor="甲")
    last = queries.list_events(wf.engine, t)[-1]
    # (the fixture's clock ticks a millisecond per read: compare to the second)
    assert last["kind"] == "result_set" and last["time"][:19] == format_utc(back)[:19]
    assert last["time"] < queries.list_events(wf.engine, t)[-2]["time"]


def test_payload_is_stored_as_canonical_json(wf):
    # The canonical form is part of the hash outsiders recompute (DESIGN §6): keys sorted, no
    # spaces, UTF-8 text as is, null for None. A change to any of these fails here.
    value = {"b": 1, "a": "检查", "c": [1.5, None, True], "d": {"z": "", "y": "\u2028"}}
    assert audit.canonical_json(value) == (
        '{"a":"检查","b":1,"c":[1.5,null,true],"d":{"y":"\u2028","z":""}}'
    )
    with pytest.raises(ValueError):
        audit.canonical_json({"x": float("nan")})
    # And what the log stores is that form of each payload, byte for byte.
    t, _ = drawn_task(wf, 1)
    with wf.raw.read() as cur:
        cur.execute(wf.raw.sql("SELECT payload FROM event WHERE task_id = ?"), (t,))
        stored = [row[0] for row in cur.fetchall()]
    assert stored and all(text == audit.canonical_json(json.loads(text)) for text in stored)


def test_recorder_role_is_one_rule_for_the_writer_and_the_import():
    from workflow.core.writer import recorder_role

    group = {"41042100001": "陈德华", "41042100002": None}  # the second has left the directory
    assert recorder_role("陈德华", group, ()) == "inspector"  # by name
    assert recorder_role(" 41042100002 ", group, ()) == "inspector"  # by certificate, trimmed
    assert recorder_role("王志强", group, ("王志强",)) == "clerk"
    assert recorder_role("陈德华", group, ("陈德华",)) == "inspector"  # a member first
    assert recorder_role("王志强", group, ()) is None
    assert recorder_role("None", group, ()) is None  # a missing name is no one's name
    assert recorder_role("陈德华", {}, ()) is None
