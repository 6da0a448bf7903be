"""What the guards may look at: a snapshot of one task's inspection records."""

from __future__ import annotations

from typing import NamedTuple

# Result of an inspection record (DESIGN §4), with its Chinese label.
RESULTS: dict[str, str] = {
    "no_problem": "未发现问题",
    "problem": "发现问题",
    "refused": "不配合检查",
    "unreachable": "通过登记的住所（经营场所）无法联系",
    "not_operating": "未发现开展本次抽查涉及的经营活动",
}

# Results that need a follow-up outcome (DESIGN §4).
PROBLEM_RESULTS: frozenset[str] = frozenset({"problem", "refused"})

# Follow-up outcomes of a problem or refused record (DESIGN §4).
OUTCOMES: dict[str, str] = {
    "rectified": "已整改",
    "case_filed": "立案查处",
    "transferred": "移送有关部门",
    "transferred_police": "移送公安机关",
}


class TaskFacts(NamedTuple):  # a NamedTuple: built on every transition, so cheap to build
    """Counts over a task's inspection records (one record per drawn target)."""

    records: int = 0
    smallest_group: int = 0  # inspectors in the smallest group; 0 when there are no records
    with_result: int = 0
    published: int = 0
    problems: int = 0  # records whose result is in PROBLEM_RESULTS
    problems_followed_up: int = 0  # of those, records with at least one follow-up outcome
    min_group_size: int = 2  # the rule (seeds 001, 003, 004), from configuration
    committed: bool = False  # the draw commitment was published with the plan (DESIGN §6)
    draw_recorded: bool = False  # the draw record is stored and its digest logged
