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
        self.task_id = task_id
        self.state = state
        self.trigger = trigger
        self.reason = reason
        self.allowed = allowed
        allowed_text = "、".join(allowed) or "无（终态）"
        super().__init__(
            f"任务 {task_id} 当前状态为 {state}，不能执行 {trigger}：{reason}"
            f"（当前状态允许的触发器：{allowed_text}）"
        )


class Conflict(SsjError):
    """Someone else changed the task first (optimistic lock) or the database stayed locked."""

    exit_code = 3
