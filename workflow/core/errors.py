"""Errors that reach users: one tree under ``SsjError``, each class with a stable ``code`` and
the structured ``fields`` an interface shows or serialises (task, state, file, row, column,
value …). The CLI maps them to exit codes (workflow/cli/main.py), the web to HTTP statuses and
problem+json. The message is zh-CN for people."""

from __future__ import annotations

from typing import Any, ClassVar


class SsjError(Exception):
    code: ClassVar[str] = "ssj_error"

    def __init__(self, message: str = "", **fields: Any) -> None:
        super().__init__(message)
        self.message = message
        self.fields: dict[str, Any] = {k: v for k, v in fields.items() if v is not None}

    def as_json(self) -> dict[str, Any]:
        """What an interface serialises: the stable code, the message, the fields."""
        return {"code": self.code, "message": self.message, **self.fields}


class InvalidInput(SsjError):
    """Bad arguments or data: says what is wrong and where."""

    code = "invalid_input"


class NotFound(SsjError):
    code = "not_found"


class ConfigInvalid(InvalidInput):
    """The configuration cannot be used; the message names the file, the key and the reason."""

    code = "config_invalid"


class TransitionRefused(SsjError):
    """The task's state does not allow the trigger, or a guard fails."""

    code = "transition_refused"

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
        super().__init__(text, task=task_id, state=state, trigger=trigger, reason=reason)


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

    code = "conflict"
