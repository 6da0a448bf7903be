"""The rules applied before a draw, turning a task's candidate targets into strata.

Each rule is configurable (config.yaml ``draw``) and each exclusion carries its reason into the
draw record, so the public sees who was left out and why:

- joint visit (seeds 000, 002): a target another office has drawn in an overlapping period,
  and not yet inspected, joins that visit instead of being inspected twice (the caller then
  adds this task's items to that visit: ``Stratum.joins``);
- same-year rule (seed 002): grade-A targets already inspected this year, and targets whose
  inspection this year found no problem, are not inspected again;
- risk (seed 001): in a directed task, targets with many complaints form a stratum of their own
  with a higher ratio, and high-risk grades draw at least their configured ratio;
- small strata (seed 004) are handled by the draw itself: a stratum under one target draws one.

Pure: the caller reads the database and passes plain values in.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import NamedTuple

from workflow.core.config import DrawSettings
from workflow.core.normalize import percent
from workflow.sampling.algorithm import StratumInput
from workflow.sampling.plans import UNGRADED

STRATUM_ORDER = ("A", "B", "C", "D", UNGRADED, "complaints")


class TargetFacts(NamedTuple):
    """A candidate target, as read from the directory (plain tuples of this shape will do:
    at a million candidates, building objects costs more than the draw)."""

    code: str
    grade: str  # "" when ungraded
    complaints: int
    last_inspected: str | None  # YYYY-MM-DD from the directory


@dataclass(frozen=True, slots=True)
class OtherVisit:
    """A record of the same target in another task of the plan year."""

    task_label: str  # e.g. "2024001 002号"
    office: str
    months: tuple[str, str]  # first and last month, "YYYY-MM"
    result: str | None
    task_id: int = 0  # the task whose visit a joint visit joins


@dataclass
class TaskContext:
    year: int
    directed: bool
    ratio: str
    stratum_ratios: dict[str, str]
    office: str
    months: tuple[str, str]
    others: dict[str, list[OtherVisit]] = field(default_factory=dict)


@dataclass
class Stratum:
    name: str
    ratio: str
    basis: str  # why this stratum has this ratio (zh-CN, published in the record)
    population: list[str] = field(default_factory=list)
    exclusions: list[tuple[str, str]] = field(default_factory=list)
    # Excluded targets that join another task's visit, with that visit (a subset of exclusions).
    joins: list[tuple[str, OtherVisit]] = field(default_factory=list)

    def as_input(self) -> StratumInput:
        return StratumInput(self.name, self.ratio, self.population, self.exclusions)


def _overlap(a: tuple[str, str], b: tuple[str, str]) -> bool:
    return a[0] <= b[1] and b[0] <= a[1]


def _exclusion(
    code: str, grade: str, last_inspected: str | None, ctx: TaskContext, rules: DrawSettings
) -> tuple[str, OtherVisit | None] | None:
    """Why the target is left out, and the visit it joins when that is the reason."""
    visits = ctx.others.get(code, ())
    if rules.merge_joint_visits:
        for v in sorted(visits, key=lambda v: v.task_id):  # the earliest task's visit
            # A visit already made (its result recorded) can no longer take this task's items.
            if v.office != ctx.office and v.result is None and _overlap(v.months, ctx.months):
                task = f"任务 {v.task_label}" + (f"（ID {v.task_id}）" if v.task_id else "")
                return (
                    f"已由{v.office or '其他处室'}在{task}（{_span(v.months)}）"
                    "抽中：并入该次联合检查，本任务的抽查事项一并检查，一次入户，不重复检查"
                    "（来源文件 000、002）",
                    v,
                )
    if rules.skip_clean_this_year:
        results = [v.result for v in visits if v.result is not None]
        inspected_on = last_inspected if (last_inspected or "")[:4] == str(ctx.year) else None
        if grade == "A" and (inspected_on or results):
            when = f"已于 {inspected_on} 检查" if inspected_on else "本年度已检查"
            return f"A 级（信用风险低）对象{when}：同一年度不再抽查（来源文件 002）", None
        if results and all(r == "no_problem" for r in results):
            return "本年度已检查且未发现问题：同一年度不再抽查（来源文件 002）", None
    return None


def build_strata(
    targets: Iterable[TargetFacts | tuple[str, str, int, str | None]],
    ctx: TaskContext,
    rules: DrawSettings,
) -> list[Stratum]:
    """The strata of a task, each with its eligible population and its exclusions."""
    strata: dict[str, Stratum] = {}
    others = ctx.others
    year = str(ctx.year)
    threshold = rules.complaints_threshold
    directed = ctx.directed
    for code, grade, complaints, last_inspected in targets:
        if not directed:
            name = "all"
        elif complaints >= threshold:
            name = "complaints"
        else:
            name = grade or UNGRADED
        s = strata.get(name)
        if s is None:
            s = strata[name] = _new_stratum(name, ctx, rules)
        # Only a target seen in another task this year, or graded A and inspected this year,
        # can be excluded: the rest (nearly all, at province scale) skip the rule checks.
        if code in others or (grade == "A" and last_inspected and last_inspected[:4] == year):
            excluded = _exclusion(code, grade, last_inspected, ctx, rules)
            if excluded is not None:
                s.exclusions.append((code, excluded[0]))
                if excluded[1] is not None:
                    s.joins.append((code, excluded[1]))
                continue
        s.population.append(code)
    for s in strata.values():
        s.exclusions.sort()
        s.joins.sort(key=lambda j: j[0])
    order = {n: i for i, n in enumerate(STRATUM_ORDER)}
    return sorted(strata.values(), key=lambda s: order.get(s.name, len(order)))


def _new_stratum(name: str, ctx: TaskContext, rules: DrawSettings) -> Stratum:
    if name == "all":
        return Stratum(name, ctx.ratio, f"不定向抽查：全部对象按 {percent(ctx.ratio)} 抽取")
    if name == "complaints":
        base = ctx.stratum_ratios.get(name, ctx.ratio)
        ratio = max(base, rules.complaints_ratio, key=Decimal)
        return Stratum(
            name,
            ratio,
            f"投诉举报 {rules.complaints_threshold} 次及以上的对象单独成层，"
            f"比例 {percent(ratio)}（加大抽查力度，来源文件 001）",
        )
    base = ctx.stratum_ratios.get(name, ctx.ratio)
    floor = rules.grade_min_ratio.get(name)
    if floor is not None and Decimal(floor) > Decimal(base):
        return Stratum(
            name,
            floor,
            f"信用风险等级 {name}：比例由 {percent(base)} 提高到 {percent(floor)}"
            "（高风险对象加大抽查比例，来源文件 001）",
        )
    return Stratum(name, base, f"信用风险等级 {name}：比例 {percent(base)}")


def _span(months: tuple[str, str]) -> str:
    """A task's months as people write them: 2026-12, or 2026-03至2026-05."""
    first, last = months
    return first if first == last else f"{first}至{last}"
