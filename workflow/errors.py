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


class Conflict(SsjError):
    """Someone else changed the task first (optimistic lock) or the database stayed locked."""

    exit_code = 3
