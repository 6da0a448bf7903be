"""Guard conditions of the lifecycle.

Each guard returns ``None`` when it passes, or the reason (zh-CN, shown to users) when it fails.
They are named in the machine declaration by their function name.
"""

from __future__ import annotations

from collections.abc import Callable

from states._facts import TaskFacts

Guard = Callable[[TaskFacts], str | None]


def commitment_published(f: TaskFacts) -> str | None:
    if not f.committed:
        return "抽取承诺值尚未随计划公布：请先公布计划"
    return None


def draw_recorded(f: TaskFacts) -> str | None:
    if not f.draw_recorded:
        return "尚无抽取记录：抽取只能由抽取程序执行"
    return None


def groups_complete(f: TaskFacts) -> str | None:
    if f.records == 0:
        return "尚无抽取的检查对象（检查记录为空）"
    if f.smallest_group < f.min_group_size:
        return f"存在检查组人数不足 {f.min_group_size} 人的检查对象（最少 {f.smallest_group} 人）"
    return None


def all_results_recorded(f: TaskFacts) -> str | None:
    if f.records == 0:
        return "尚无检查记录"
    missing = f.records - f.with_result
    return f"还有 {missing} 个检查对象未录入检查结果" if missing else None


def all_results_published(f: TaskFacts) -> str | None:
    missing = f.records - f.published
    return f"还有 {missing} 条检查结果未公示" if missing else None


def has_problems(f: TaskFacts) -> str | None:
    return None if f.problems else "本任务未发现问题，无需整改，请直接 close 归档"


def all_problems_followed_up(f: TaskFacts) -> str | None:
    missing = f.problems - f.problems_followed_up
    return f"还有 {missing} 个发现问题的检查对象没有后续处置结果" if missing else None


def no_problems(f: TaskFacts) -> str | None:
    if f.problems:
        return f"本任务有 {f.problems} 个发现问题的检查对象，须先 rectify 完成后续处置"
    return None


GUARDS: dict[str, Guard] = {
    g.__name__: g
    for g in (
        commitment_published,
        draw_recorded,
        groups_complete,
        all_results_recorded,
        all_results_published,
        has_problems,
        all_problems_followed_up,
        no_problems,
    )
}
