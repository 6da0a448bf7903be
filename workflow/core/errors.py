"""Errors that reach users. Each carries the exit code the CLI returns and a zh-CN message."""

from __future__ import annotations


class SsjError(Exception):
    exit_code = 2


class InvalidInput(SsjError):
    """Bad arguments or data: says what is wrong and where."""


class NotFound(SsjError):
    pass


class TransitionRefused(SsjError):
    """The task's state does not allow the trigger, or a guard fails."""

    def __init__(self, task_id: int, state: str, trigger: str, reason: str, allowed: list[str]):
        import states

        self.task_id = task_id
        self.state = state
        self.trigger = trigger
        self.reason = reason
        # What the state declares, whatever the caller passed: a message must never offer
        # a trigger it has just refused, nor call a planned task final.
        self.allowed = states.allowed_triggers(state) if state in states.STATES else allowed
        if trigger in self.allowed:  # declared here; a guard failed and says what is missing
            text = f"任务 {task_id} 当前状态为 {state}，暂不能执行 {trigger}：{reason}"
        else:
            what = reason.split("；该状态允许的触发器：")[0]  # said below, with its command
            text = (
                f"任务 {task_id} 当前状态为 {state}，不能执行 {trigger}：{what}"
                f"（下一步：{next_steps(task_id, state)}）"
            )
        super().__init__(text)


def next_steps(task_id: int, state: str) -> str:
    """What can move a task on from ``state``, as a person reads it: the draw is run by
    ``ssj draw``, other triggers by ``ssj task fire``; a final state has none."""
    import states

    if state not in states.STATES:
        return "无"
    allowed = states.allowed_triggers(state)
    if not allowed:
        return "无（终态）"
    if allowed == ["draw"]:
        return f"等待抽取（ssj draw {task_id}）"
    return "、".join(f"ssj task fire {task_id} {t}" for t in allowed)


# What to do when a guard stands in the way, as a command people can run (``{id}``: the task).
GUARD_TODO: dict[str, str] = {
    "commitment_published": "先公布计划（ssj plan publish 计划编号 --actor 姓名）",
    "all_results_recorded": (
        "录入检查结果（ssj result set {id} 信用代码 --result 结果，或 ssj result import 文件）"
    ),
    "all_results_published": "公示检查结果（ssj result publish {id} --place 公示位置）",
    "all_problems_followed_up": (
        "登记后续处置（ssj followup add {id} 信用代码 --outcome 处置结果）"
    ),
}


def next_actions(task_id: int, state: str, facts: object) -> str:
    """Like ``next_steps``, but asking the guards with the task's facts: a trigger whose guard
    passes is offered as its command; one that waits on missing work says what to do first
    (a guard that rules a path out, e.g. close while problems are open, is left unsaid)."""
    import states

    if state not in states.STATES or state == "planned":
        return next_steps(task_id, state)
    offered: list[str] = []
    todo: list[str] = []
    for trigger in states.allowed_triggers(state):
        failed = states.failed_guards(state, trigger, facts)  # type: ignore[arg-type]
        if not failed:
            offered.append(f"ssj task fire {task_id} {trigger}")
            continue
        for guard in failed:
            if guard in GUARD_TODO:
                todo.append(
                    GUARD_TODO[guard].format(id=task_id)
                    + f"，然后 ssj task fire {task_id} {trigger}"
                )
    if not offered and not todo:
        return next_steps(task_id, state)
    return "；".join(dict.fromkeys(offered + todo))


class Conflict(SsjError):
    """Someone else changed the task first (optimistic lock) or the database stayed locked."""

    exit_code = 3
