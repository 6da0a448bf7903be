"""The lifecycle of one sampling task, declared as data and built on ``transitions``.

    planned → drawn → inspected → publicized → rectified → closed
                                      └──────────(no problem)───────┘

Trigger names are a contract (scripts call them): draw, inspect, publicize, rectify, close.

Running a ``transitions`` trigger costs tens of microseconds, which would dominate the audited
write path, so the machine built here is compiled once, at import, into a lookup table of
(state, trigger) → candidate transitions with their guard names. ``decide`` reads that table;
``tests/states`` check that it agrees with the live machine for every state, trigger and guard
outcome.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from transitions import Machine

from states._facts import TaskFacts
from states._guards import GUARDS

STATES: tuple[str, ...] = ("planned", "drawn", "inspected", "publicized", "rectified", "closed")
INITIAL_STATE = "planned"
FINAL_STATES: frozenset[str] = frozenset({"closed"})

# The declaration. Order matters where one trigger has two transitions from one source:
# the first whose guards all pass wins (as in ``transitions``).
TRANSITIONS: tuple[dict[str, Any], ...] = (
    {
        "trigger": "draw",
        "source": "planned",
        "dest": "drawn",
        "conditions": ["commitment_published", "draw_recorded", "groups_complete"],
    },
    {
        "trigger": "inspect",
        "source": "drawn",
        "dest": "inspected",
        "conditions": ["all_results_recorded"],
    },
    {
        "trigger": "publicize",
        "source": "inspected",
        "dest": "publicized",
        "conditions": ["all_results_published"],
    },
    {
        "trigger": "rectify",
        "source": "publicized",
        "dest": "rectified",
        "conditions": ["has_problems", "all_problems_followed_up"],
    },
    {"trigger": "close", "source": "publicized", "dest": "closed", "conditions": ["no_problems"]},
    {"trigger": "close", "source": "rectified", "dest": "closed", "conditions": []},
)

TRIGGERS: tuple[str, ...] = tuple(dict.fromkeys(t["trigger"] for t in TRANSITIONS))

# Changes to a task that do not move it, and the states that allow them: the commitment is
# published before the draw; the draw is confirmed, inspectors substituted and sheets made
# after it (seed 003); results are recorded and corrected until they are published (seed 002:
# no tampering with published results); follow-ups start once problems are known.
RECORD_ACTIONS: dict[str, frozenset[str]] = {
    "commit": frozenset({"planned"}),
    "confirm_draw": frozenset({"drawn"}),
    "substitute": frozenset({"drawn"}),
    "make_sheets": frozenset({"drawn"}),
    "set_result": frozenset({"drawn", "inspected"}),
    "publish": frozenset({"inspected"}),
    "add_followup": frozenset({"inspected", "publicized"}),
    # A published result is corrected by an explicit, itself published correction (更正);
    # a problem's rectification date may move until the task is closed.
    "correct_result": frozenset({"inspected", "publicized", "rectified"}),
    "change_rectify_by": frozenset({"drawn", "inspected", "publicized", "rectified"}),
}

STATE_LABELS: dict[str, str] = {
    "planned": "已计划",
    "drawn": "已抽取",
    "inspected": "已检查",
    "publicized": "已公示",
    "rectified": "已整改",
    "closed": "已归档",
}

# What each trigger does, as people say it (the pages' buttons).
TRIGGER_LABELS: dict[str, str] = {
    "draw": "随机抽取",
    "inspect": "确认检查完成",
    "publicize": "确认结果已公示",
    "rectify": "确认整改完成",
    "close": "办结归档",
}


class _GuardModel:
    """The model a live machine drives: its condition methods are the guards over ``facts``."""

    def __init__(self, facts: TaskFacts) -> None:
        self.facts = facts

    def __getattr__(self, name: str) -> Any:
        guard = GUARDS.get(name)
        if guard is None:
            raise AttributeError(name)
        return lambda: guard(self.facts) is None


def build_machine(state: str = INITIAL_STATE, facts: TaskFacts | None = None) -> Any:
    """A live ``transitions`` machine over one task (for tools, diagrams and the tests)."""
    model = _GuardModel(facts or TaskFacts())
    Machine(
        model=model,
        states=list(STATES),
        transitions=[dict(t) for t in TRANSITIONS],
        initial=state,
        auto_transitions=False,
    )
    return model


def _compile() -> dict[tuple[str, str], tuple[tuple[str, tuple[str, ...]], ...]]:
    machine = Machine(
        model=None,
        states=list(STATES),
        transitions=[dict(t) for t in TRANSITIONS],
        initial=INITIAL_STATE,
        auto_transitions=False,
    )
    table: dict[tuple[str, str], tuple[tuple[str, tuple[str, ...]], ...]] = {}
    for trigger, event in machine.events.items():
        for source, candidates in event.transitions.items():
            compiled: list[tuple[str, tuple[str, ...]]] = []
            for t in candidates:
                if any(not c.target for c in t.conditions):
                    raise ValueError("the lifecycle uses 'conditions' only, not 'unless'")
                # The declaration names its guards and never declares an internal transition.
                guards = tuple(c.func for c in t.conditions if isinstance(c.func, str))
                if t.dest is None or len(guards) != len(t.conditions):
                    raise ValueError("the lifecycle's transitions have a dest and named guards")
                compiled.append((t.dest, guards))
            table[(source, trigger)] = tuple(compiled)
    return table


_TABLE = _compile()


class IllegalTransition(Exception):
    """A trigger that the state does not allow, or whose guard fails."""

    def __init__(self, state: str, trigger: str, reason: str) -> None:
        self.state = state
        self.trigger = trigger
        self.reason = reason
        super().__init__(reason)


@dataclass(frozen=True, slots=True)
class Decision:
    source: str
    trigger: str
    dest: str


def allows(action: str, state: str) -> bool:
    """Whether a record action (RECORD_ACTIONS) is allowed in ``state``."""
    return state in RECORD_ACTIONS[action]


def allowed_triggers(state: str) -> list[str]:
    """Triggers declared from ``state``, whatever the guards say."""
    return [trig for trig in TRIGGERS if (state, trig) in _TABLE]


def destination(state: str, trigger: str) -> set[str]:
    """Every state ``trigger`` can lead to from ``state`` (empty when it is not declared)."""
    return {dest for dest, _ in _TABLE.get((state, trigger), ())}


def decide(state: str, trigger: str, facts: TaskFacts) -> Decision:
    """Where ``trigger`` takes a task in ``state`` with ``facts``; raises IllegalTransition."""
    if state not in STATES:
        raise IllegalTransition(state, trigger, f"未知状态 {state!r}")
    candidates = _TABLE.get((state, trigger))
    if candidates is None:
        allowed = "、".join(allowed_triggers(state)) or "无（终态）"
        known = trigger in TRIGGERS
        what = f"触发器 {trigger} 不适用于状态 {state}" if known else f"未知触发器 {trigger!r}"
        raise IllegalTransition(state, trigger, f"{what}；该状态允许的触发器：{allowed}")
    reasons: list[str] = []
    for dest, guards in candidates:
        failed = [r for g in guards if (r := GUARDS[g](facts)) is not None]
        if not failed:
            return Decision(state, trigger, dest)
        reasons.extend(failed)
    raise IllegalTransition(state, trigger, "；".join(dict.fromkeys(reasons)))


def failed_guards(state: str, trigger: str, facts: TaskFacts) -> list[str]:
    """The names of the guards that keep ``trigger`` from moving a task in ``state`` now
    (empty when it may fire): of its candidate transitions, those of the first that is
    closest to passing. The trigger must be allowed in ``state``."""
    candidates = _TABLE[(state, trigger)]
    best: list[str] | None = None
    for _dest, guards in candidates:
        failed = [g for g in guards if GUARDS[g](facts) is not None]
        if best is None or len(failed) < len(best):
            best = failed
    return best or []
