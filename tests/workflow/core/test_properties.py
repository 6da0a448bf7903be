"""Random sequences of triggers, result corrections and racing writers keep the log honest."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import states
from tests.conftest import drawn_task
from tests.racing import race
from workflow.core import audit, queries
from workflow.core.errors import Conflict, SsjError
from workflow.core.replay import replay
from workflow.core.writer import Workflow

pytestmark = pytest.mark.slow  # declared in pyproject.toml: `pytest -m 'not slow'` skips

op = st.one_of(
    st.tuples(st.just("fire"), st.sampled_from(states.TRIGGERS)),
    st.tuples(st.just("result"), st.integers(0, 2), st.sampled_from(sorted(states.RESULTS))),
    st.tuples(st.just("publish")),
    st.tuples(st.just("followup"), st.integers(0, 2)),
    st.tuples(st.just("race"), st.sampled_from(states.TRIGGERS)),
)


def _race(engine, task_id: int, trigger: str, version: int) -> list[str]:
    def fire(w: Workflow, _n: int) -> None:
        w.fire(task_id, trigger, actor="并发", expected_version=version)

    out = []
    for r in race(engine, fire):
        if isinstance(r, Conflict):
            out.append("conflict")
        elif isinstance(r, SsjError):
            out.append("refused")
        elif isinstance(r, BaseException):
            raise r
        else:
            out.append("won")
    return out


@settings(
    max_examples=15,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(ops=st.lists(op, min_size=1, max_size=25), targets=st.integers(1, 3))
def test_any_sequence_keeps_the_chain_valid_and_replay_equal_to_the_tables(wf, ops, targets):
    t, codes = drawn_task(wf, targets)
    transitions = 1  # the draw
    for o in ops:
        try:
            if o[0] == "fire":
                wf.fire(t, o[1], actor="甲")
                transitions += 1
            elif o[0] == "result":
                wf.set_result(t, codes[o[1] % targets], o[2], actor="甲", reason="更正")
            elif o[0] == "publish":
                wf.publish(t, place="网站", actor="甲")
            elif o[0] == "followup":
                wf.add_followup(t, codes[o[1] % targets], "rectified", actor="甲")
            else:
                _, version = wf.task_state(t)
                outcomes = _race(wf.engine, t, o[1], version)
                assert outcomes.count("won") <= 1
                transitions += outcomes.count("won")
        except SsjError:
            pass
    events = queries.list_events(wf.engine, t)
    assert sum(e["kind"] == "transition" for e in events) == transitions
    assert wf.task_state(t)[1] == len(events)
    assert audit.verify_db(wf.raw).ok
    r = replay(wf.raw)
    assert r.ok, r.mismatches
