"""Errors that reach users: one tree under ``SsjError``, each class with a stable ``code`` and
the structured ``fields`` an interface shows or serialises (task, state, file, row, column,
value …). The message is zh-CN for people and neutral of the interface: it never names a
command or an option. What to do next travels as data — ``needs`` (the input that was missing,
e.g. ``reason``) and ``steps`` (actions of ``workflow.core.actions`` with their arguments) —
and each interface renders it: the CLI as options and commands with exit codes
(workflow/cli/hints.py), the web as form fields, links, HTTP statuses and problem+json."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar

from workflow.core.actions import ACTIONS, GUARD_ACTIONS


@dataclass(frozen=True)
class Step:
    """A next step offered with an error: an action people may take, and its arguments
    (``task``, ``plan``, ``code``, ``trigger`` …) as far as they are known."""

    action: str
    args: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.action not in ACTIONS:
            raise ValueError(f"undeclared action {self.action!r} (workflow/core/actions.py)")

    def as_json(self) -> dict[str, Any]:
        return {"action": self.action, "label": ACTIONS[self.action], **self.args}


class SsjError(Exception):
    code: ClassVar[str] = "ssj_error"

    def __init__(
        self,
        message: str = "",
        *,
        needs: str | None = None,
        steps: Sequence[Step] = (),
        **fields: Any,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.needs = needs  # the input whose absence is the error: reason, actor, task, …
        self.steps = tuple(steps)
        self.fields: dict[str, Any] = {k: v for k, v in fields.items() if v is not None}
        if needs is not None:
            self.fields["needs"] = needs

    def as_json(self) -> dict[str, Any]:
        """What an interface serialises: the stable code, the message, the fields, the steps."""
        out = {"code": self.code, "message": self.message, **self.fields}
        if self.steps:
            out["next"] = [s.as_json() for s in self.steps]
        return out


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

    def __init__(
        self,
        task_id: int,
        state: str,
        trigger: str,
        reason: str,
        allowed: list[str],
        steps: Sequence[Step] = (),
    ) -> None:
        import states

        self.task_id = task_id
        self.state = state
        self.trigger = trigger
        self.reason = reason
        # What the state declares, whatever the caller passed: a message must never offer
        # a trigger it has just refused, nor call a planned task final.
        self.allowed = states.allowed_triggers(state) if state in states.STATES else allowed
        # Declared here: a guard failed and its reason says what is missing. Otherwise the
        # way on is what the state allows, offered as steps (the CLI says "下一步").
        self.guard_failed = trigger in self.allowed
        if self.guard_failed:
            text = f"任务 {task_id} 当前状态为 {state}，暂不能执行 {trigger}：{reason}"
            steps = list(steps)
        else:
            what = reason.split("；该状态允许的触发器：")[0]  # the allowed ones are the steps
            text = f"任务 {task_id} 当前状态为 {state}，不能执行 {trigger}：{what}"
            steps = [trigger_step(task_id, t) for t in self.allowed]
        super().__init__(
            text, steps=steps, task=task_id, state=state, trigger=trigger, reason=reason
        )


def guard_steps(task_id: int, guards: Sequence[str]) -> list[Step]:
    """The steps that satisfy the failed ``guards`` (``actions.GUARD_ACTIONS``)."""
    return [Step(action, {"task": task_id}) for g in guards for action in GUARD_ACTIONS.get(g, ())]


def trigger_step(task_id: int, trigger: str) -> Step:
    """The step that fires ``trigger``: the draw has its own action, the rest are ``task.fire``."""
    if trigger == "draw":
        return Step("draw.run", {"task": task_id})
    return Step("task.fire", {"task": task_id, "trigger": trigger})


class Conflict(SsjError):
    """Someone else changed the task first (optimistic lock) or the database stayed locked."""

    code = "conflict"


class Unauthenticated(SsjError):
    """No account, an unknown or disabled one, a wrong password, an expired session or token."""

    code = "unauthenticated"


class Forbidden(SsjError):
    """The account's role may not take the action (``permissions.MATRIX``), or the object lies
    outside the account's unit subtree."""

    code = "forbidden"


class TooManyAttempts(SsjError):
    """Logins throttled after repeated failures for an account or from an address."""

    code = "too_many_attempts"
