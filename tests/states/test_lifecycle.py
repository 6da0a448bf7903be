from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st
from transitions import MachineError

import states
from states import IllegalTransition, TaskFacts

facts_strategy = st.builds(
    TaskFacts,
    records=st.integers(0, 4),
    smallest_group=st.integers(0, 4),
    with_result=st.integers(0, 4),
    published=st.integers(0, 4),
    problems=st.integers(0, 4),
    problems_followed_up=st.integers(0, 4),
    min_group_size=st.just(2),
)


@given(
    state=st.sampled_from(states.STATES),
    trigger=st.sampled_from(states.TRIGGERS),
    facts=facts_strategy,
)
def test_compiled_table_agrees_with_the_live_transitions_machine(state, trigger, facts):
    model = states.build_machine(state, facts)
    try:
        moved = model.trigger(trigger)
    except MachineError:
        with pytest.raises(IllegalTransition):
            states.decide(state, trigger, facts)
        return
    if moved:
        assert states.decide(state, trigger, facts).dest == model.state
    else:
        with pytest.raises(IllegalTransition) as e:
            states.decide(state, trigger, facts)
        assert e.value.reason


def test_the_declared_path_and_trigger_names_are_the_contract():
    assert states.STATES == ("planned", "drawn", "inspected", "publicized", "rectified", "closed")
    assert set(states.TRIGGERS) == {"draw", "inspect", "publicize", "rectify", "close"}
    assert states.allowed_triggers("planned") == ["draw"]
    assert states.allowed_triggers("publicized") == ["rectify", "close"]
    assert states.allowed_triggers("closed") == []
    assert states.destination("rectified", "close") == {"closed"}


def test_draw_needs_a_commitment_a_record_and_groups_of_at_least_the_minimum():
    drawn = {"committed": True, "draw_recorded": True}
    ok = TaskFacts(records=2, smallest_group=2, **drawn)
    assert states.decide("planned", "draw", ok).dest == "drawn"
    with pytest.raises(IllegalTransition, match="请先公布计划"):
        states.decide("planned", "draw", ok._replace(committed=False))
    with pytest.raises(IllegalTransition, match="抽取只能由抽取程序执行"):
        states.decide("planned", "draw", ok._replace(draw_recorded=False))
    with pytest.raises(IllegalTransition, match="不足 2 人"):
        states.decide("planned", "draw", TaskFacts(records=2, smallest_group=1, **drawn))
    with pytest.raises(IllegalTransition, match="检查记录为空"):
        states.decide("planned", "draw", TaskFacts(**drawn))
    with pytest.raises(IllegalTransition, match="不足 3 人"):
        states.decide(
            "planned", "draw", TaskFacts(records=1, smallest_group=2, min_group_size=3, **drawn)
        )


def test_inspect_needs_every_result():
    with pytest.raises(IllegalTransition, match="还有 1 个检查对象未录入检查结果"):
        states.decide("drawn", "inspect", TaskFacts(records=3, with_result=2, smallest_group=2))


def test_clean_task_closes_from_publicized_but_a_problem_needs_rectify_first():
    clean = TaskFacts(records=2, with_result=2, published=2)
    assert states.decide("publicized", "close", clean).dest == "closed"
    with pytest.raises(IllegalTransition, match="无需整改"):
        states.decide("publicized", "rectify", clean)
    dirty = TaskFacts(records=2, with_result=2, published=2, problems=1)
    with pytest.raises(IllegalTransition, match="须先 rectify"):
        states.decide("publicized", "close", dirty)
    with pytest.raises(IllegalTransition, match="没有后续处置结果"):
        states.decide("publicized", "rectify", dirty)
    handled = TaskFacts(records=2, with_result=2, published=2, problems=1, problems_followed_up=1)
    assert states.decide("publicized", "rectify", handled).dest == "rectified"


def test_an_undeclared_trigger_names_the_allowed_ones():
    with pytest.raises(IllegalTransition) as e:
        states.decide("planned", "close", TaskFacts())
    assert "draw" in e.value.reason and "planned" in e.value.reason
    with pytest.raises(IllegalTransition, match="未知触发器"):
        states.decide("planned", "explode", TaskFacts())
    with pytest.raises(IllegalTransition, match="终态"):
        states.decide("closed", "close", TaskFacts())


def test_states_imports_nothing_of_ours():
    import ast
    import pathlib

    for path in pathlib.Path(states.__file__).parent.glob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.module:
                assert not node.module.startswith(("workflow", "notifications")), path
            if isinstance(node, ast.Import):
                for alias in node.names:
                    assert not alias.name.startswith(("workflow", "notifications")), path


def test_record_actions_follow_the_lifecycle():
    assert states.allows("commit", "planned") and not states.allows("commit", "drawn")
    assert [s for s in states.STATES if states.allows("substitute", s)] == ["drawn"]
    assert states.allows("set_result", "inspected") and not states.allows(
        "set_result", "publicized"
    )
    assert [s for s in states.STATES if states.allows("publish", s)] == ["inspected"]
    assert set(states.RECORD_ACTIONS["add_followup"]) == {"inspected", "publicized"}
    assert all(set(v) <= set(states.STATES) for v in states.RECORD_ACTIONS.values())


def test_failed_guards_names_what_keeps_a_trigger_from_firing() -> None:
    from states import TaskFacts, failed_guards

    waiting = TaskFacts(records=2, smallest_group=2, with_result=1)
    assert failed_guards("drawn", "inspect", waiting) == ["all_results_recorded"]
    assert failed_guards("drawn", "inspect", waiting._replace(with_result=2)) == []
    clean = TaskFacts(records=2, smallest_group=2, with_result=2, published=2)
    assert failed_guards("publicized", "close", clean) == []
    assert failed_guards("publicized", "rectify", clean) == ["has_problems"]
    open_problem = clean._replace(problems=1)
    assert failed_guards("publicized", "close", open_problem) == ["no_problems"]
    assert failed_guards("publicized", "rectify", open_problem) == ["all_problems_followed_up"]
