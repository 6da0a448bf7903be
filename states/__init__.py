"""The sampling-task lifecycle, pure: states, triggers and guards (no database, no I/O).

The machine is declared once, as data, in :mod:`states._lifecycle` and built with the
``transitions`` package; everything else asks it through this small public face.
"""

from states._facts import OUTCOMES, PROBLEM_RESULTS, RESULTS, TaskFacts
from states._lifecycle import (
    FINAL_STATES,
    INITIAL_STATE,
    RECORD_ACTIONS,
    STATE_LABELS,
    STATES,
    TRANSITIONS,
    TRIGGER_LABELS,
    TRIGGERS,
    Decision,
    IllegalTransition,
    allowed_triggers,
    allows,
    build_machine,
    decide,
    destination,
    failed_guards,
)

__all__ = [
    "FINAL_STATES",
    "INITIAL_STATE",
    "OUTCOMES",
    "PROBLEM_RESULTS",
    "RECORD_ACTIONS",
    "RESULTS",
    "STATES",
    "STATE_LABELS",
    "TRANSITIONS",
    "TRIGGERS",
    "TRIGGER_LABELS",
    "Decision",
    "IllegalTransition",
    "TaskFacts",
    "allowed_triggers",
    "allows",
    "build_machine",
    "decide",
    "destination",
    "failed_guards",
]
