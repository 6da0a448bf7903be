"""workflow/sampling/eligibility.py directly, on constructed values: the strata of a task and
each exclusion with its published reason — joint visits, the same-year rule (recently
inspected), the risk strata and ratio floors.

What the draw reads before these rules — retired targets, the task's scope and filters, and the
inspectors' fields, recusal (回避) and availability — is task_draw's query and algorithm's
matching: tests/workflow/sampling/test_retire.py and test_task_draw.py.
"""

from __future__ import annotations

from typing import Any

from workflow.core.config import DrawSettings
from workflow.sampling.eligibility import (
    OtherVisit,
    Stratum,
    TargetFacts,
    TaskContext,
    build_strata,
)
from workflow.sampling.plans import UNGRADED

RULES = DrawSettings()  # complaints from 3 at 20%; C at least 10%, D at least 20%
OFFICE = "劳动保障监察大队"
OTHER = "社会保险科"


def ctx(
    directed: bool = False,
    ratio: str = "0.05",
    stratum_ratios: dict[str, str] | None = None,
    months: tuple[str, str] = ("2024-04", "2024-05"),
    others: dict[str, list[OtherVisit]] | None = None,
) -> TaskContext:
    return TaskContext(
        year=2024,
        directed=directed,
        ratio=ratio,
        stratum_ratios=stratum_ratios or {},
        office=OFFICE,
        months=months,
        others=others or {},
    )


def t(code: str, grade: str = "B", complaints: int = 0, last: str | None = None) -> TargetFacts:
    return TargetFacts(code, grade, complaints, last)


def visit(
    months: tuple[str, str] = ("2024-05", "2024-06"),
    office: str = OTHER,
    result: str | None = None,
    task_id: int = 7,
    label: str = "2024001 002号",
) -> OtherVisit:
    return OtherVisit(label, office, months, result, task_id)


def summary(strata: list[Stratum]) -> list[tuple[str, str, list[str], list[str]]]:
    return [(s.name, s.ratio, s.population, [c for c, _ in s.exclusions]) for s in strata]


def reasons(strata: list[Stratum]) -> dict[str, str]:
    return {c: r for s in strata for c, r in s.exclusions}


# ---------------------------------------------------------------------------------------------
# Strata


def test_an_undirected_task_is_one_stratum_at_the_task_ratio() -> None:
    targets = [t("01", "A"), t("02", ""), t("03", "D", complaints=9)]
    (s,) = build_strata(targets, ctx(ratio="0.05"), RULES)
    assert (s.name, s.ratio, s.population, s.exclusions) == ("all", "0.05", ["01", "02", "03"], [])
    assert s.basis == "不定向抽查：全部对象按 5% 抽取"
    # Plain tuples do as well as TargetFacts (the draw passes rows as read).
    assert summary(build_strata([("01", "A", 0, None)], ctx(), RULES)) == [
        ("all", "0.05", ["01"], [])
    ]


def test_a_directed_task_stratifies_by_grade_in_a_fixed_order() -> None:
    # Complaints from the threshold (3) up form their own stratum, whatever the grade; below
    # it the grade decides; no grade is its own stratum. Order: A..D, ungraded, complaints,
    # then anything else.
    targets = [
        t("01", "D"),
        t("02", "", complaints=2),
        t("03", "A", complaints=3),
        t("04", "B"),
        t("05", "X"),
        t("06", "A"),
    ]
    strata = build_strata(targets, ctx(directed=True, ratio="0.05"), RULES)
    assert [(s.name, s.population) for s in strata] == [
        ("A", ["06"]),
        ("B", ["04"]),
        ("D", ["01"]),
        (UNGRADED, ["02"]),
        ("complaints", ["03"]),
        ("X", ["05"]),
    ]


def test_ratio_floors_for_high_risk_grades_and_complaints() -> None:
    targets = [t("a", "A"), t("c", "C"), t("d", "D"), t("k", "B", complaints=3)]
    by = {s.name: s for s in build_strata(targets, ctx(directed=True, ratio="0.05"), RULES)}
    assert {n: s.ratio for n, s in by.items()} == {
        "A": "0.05",
        "C": "0.10",
        "D": "0.20",
        "complaints": "0.20",
    }
    assert by["A"].basis == "信用风险等级 A：比例 5%"
    assert by["C"].basis == (
        "信用风险等级 C：比例由 5% 提高到 10%（高风险对象加大抽查比例，来源文件 001）"
    )
    assert by["complaints"].basis == (
        "投诉举报 3 次及以上的对象单独成层，比例 20%（加大抽查力度，来源文件 001）"
    )
    # A stratum's own ratio above the floor stands; one equal to it is not "raised". The
    # complaints stratum takes the larger ratio as a number ("0.5" > "0.20"; as text the
    # other way round).
    own = {"C": "0.10", "D": "0.5", "complaints": "0.5"}
    by = {
        s.name: s
        for s in build_strata(targets, ctx(directed=True, ratio="0.05", stratum_ratios=own), RULES)
    }
    assert (by["C"].ratio, by["C"].basis) == ("0.10", "信用风险等级 C：比例 10%")
    assert (by["D"].ratio, by["D"].basis) == ("0.5", "信用风险等级 D：比例 50%")
    assert by["complaints"].ratio == "0.5"
    # A whole-number ratio against a two-place floor: compared as numbers.
    (only,) = build_strata([t("d", "D")], ctx(directed=True, ratio="1"), RULES)
    assert only.ratio == "1"


# ---------------------------------------------------------------------------------------------
# Joint visits


def test_a_target_another_office_will_visit_in_an_overlapping_period_joins_that_visit() -> None:
    v = visit(months=("2024-05", "2024-06"))  # overlaps 2024-04..05 by one month
    (s,) = build_strata([t("01"), t("02")], ctx(others={"01": [v]}), RULES)
    assert s.population == ["02"]
    assert s.joins == [("01", v)]
    assert reasons([s]) == {
        "01": "已由社会保险科在任务 2024001 002号（ID 7）（2024-05至2024-06）抽中：并入该次联合检查，"
        "本任务的抽查事项一并检查，一次入户，不重复检查（来源文件 000、002）"
    }


def test_what_is_not_a_joint_visit() -> None:
    others = {
        "same": [visit(office=OFFICE)],  # this office's own other task
        "done": [visit(result="problem")],  # already visited: nothing left to join
        "after": [visit(months=("2024-06", "2024-06"))],  # the month after the window
        "before": [visit(months=("2024-01", "2024-03"))],  # ends the month before
    }
    (s,) = build_strata([t(c) for c in others], ctx(others=others), RULES)
    # Nor does the same-year rule leave "done" out: its visit found a problem.
    assert s.population == ["same", "done", "after", "before"]
    assert s.exclusions == [] and s.joins == []


def test_the_earliest_task_is_joined_and_an_unknown_office_or_id_still_reads() -> None:
    later = visit(task_id=9, label="2024001 003号", months=("2024-04", "2024-04"))
    earlier = visit(task_id=3, office="", label="2024001 001号", months=("2024-05", "2024-05"))
    no_id = visit(task_id=0, label="2024002 001号")
    strata = build_strata(
        [t("01"), t("02")], ctx(others={"01": [later, earlier], "02": [no_id]}), RULES
    )
    (s,) = strata
    assert s.joins == [("01", earlier), ("02", no_id)]
    assert reasons(strata)["01"].startswith(
        "已由其他处室在任务 2024001 001号（ID 3）（2024-05）抽中"
    )
    assert reasons(strata)["02"].startswith(
        "已由社会保险科在任务 2024002 001号（2024-05至2024-06）"
    )


def test_joint_visits_switched_off() -> None:
    rules = DrawSettings(merge_joint_visits=False)
    (s,) = build_strata([t("01")], ctx(others={"01": [visit()]}), rules)
    assert (s.population, s.exclusions, s.joins) == (["01"], [], [])


# ---------------------------------------------------------------------------------------------
# The same-year rule (seed 002)


def test_grade_a_inspected_this_year_is_left_out() -> None:
    targets = [
        t("a-this-year", "A", last="2024-02-01"),
        t("a-last-year", "A", last="2023-12-31"),
        t("a-never", "A"),
        t("a-blank", "A", last=""),
        t("b-this-year", "B", last="2024-02-01"),  # the directory's date alone: only for A
    ]
    strata = build_strata(targets, ctx(directed=True), RULES)
    assert summary(strata) == [
        ("A", "0.05", ["a-last-year", "a-never", "a-blank"], ["a-this-year"]),
        ("B", "0.05", ["b-this-year"], []),
    ]
    assert reasons(strata) == {
        "a-this-year": "A 级（信用风险低）对象已于 2024-02-01 检查：同一年度不再抽查（来源文件 002）"
    }


def test_results_of_other_tasks_this_year_decide_who_is_inspected_again() -> None:
    same = OFFICE  # this office's earlier task: not a joint visit, but a result all the same
    others: dict[str, list[OtherVisit]] = {
        "clean": [visit(office=same, result="no_problem")],
        "clean-twice": [
            visit(office=same, result="no_problem"),
            visit(result="no_problem", months=("2024-01", "2024-01")),
        ],
        "mixed": [visit(office=same, result="no_problem"), visit(office=same, result="problem")],
        "refused": [visit(office=same, result="refused")],
        "pending": [visit(office=same, result=None)],  # drawn, not yet inspected
        "a-visited": [visit(office=same, result="problem")],
    }
    targets = [t(c, "A" if c == "a-visited" else "B") for c in others]
    strata = build_strata(targets, ctx(directed=True, others=others), RULES)
    assert summary(strata) == [
        ("A", "0.05", [], ["a-visited"]),  # the stratum stays, with its exclusion
        ("B", "0.05", ["mixed", "refused", "pending"], ["clean", "clean-twice"]),
    ]
    assert reasons(strata) == {
        "a-visited": "A 级（信用风险低）对象本年度已检查：同一年度不再抽查（来源文件 002）",
        "clean": "本年度已检查且未发现问题：同一年度不再抽查（来源文件 002）",
        "clean-twice": "本年度已检查且未发现问题：同一年度不再抽查（来源文件 002）",
    }


def test_a_joint_visit_is_the_reason_before_the_same_year_rule() -> None:
    # Inspected clean earlier this year by this office, and now drawn by another office for
    # an overlapping period: it joins that visit (the reason says so) rather than being
    # merely skipped.
    others = {"01": [visit(office=OFFICE, result="no_problem", task_id=2), visit(task_id=5)]}
    (s,) = build_strata([t("01")], ctx(others=others), RULES)
    assert [c for c, _ in s.joins] == ["01"] and "联合检查" in s.exclusions[0][1]


def test_the_same_year_rule_switched_off() -> None:
    rules = DrawSettings(skip_clean_this_year=False)
    others = {"clean": [visit(office=OFFICE, result="no_problem")]}
    strata = build_strata(
        [t("a", "A", last="2024-02-01"), t("clean")], ctx(directed=True, others=others), rules
    )
    assert summary(strata) == [("A", "0.05", ["a"], []), ("B", "0.05", ["clean"], [])]


def test_exclusions_and_joins_are_sorted_and_the_input_is_what_the_draw_gets() -> None:
    v = visit()
    others = {c: [v] for c in ("09", "03", "05")}
    (s,) = build_strata([t(c) for c in ("09", "01", "05", "03", "02")], ctx(others=others), RULES)
    assert [c for c, _ in s.exclusions] == ["03", "05", "09"]
    assert [c for c, _ in s.joins] == ["03", "05", "09"]
    given: Any = s.as_input()
    assert (given.name, given.ratio, list(given.population)) == ("all", "0.05", ["01", "02"])
    assert list(given.exclusions) == s.exclusions
