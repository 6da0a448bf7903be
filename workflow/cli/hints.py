"""How the command line renders what the domain says as data: an action as the command that
takes it, a missing input as the option that gives it, and an error as its message followed by
those hints. The domain's messages never name a command (workflow/core/errors.py)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import states
from workflow.core.errors import SsjError, Step, TransitionRefused, guard_steps

# Each action of workflow/core/actions.py as a command line; ``{name}`` is an argument of the
# step, shown as its placeholder (below) when the step does not know it.
COMMANDS: dict[str, str] = {
    "init": "ssj init",
    "directory.import": "ssj import {kind} 文件",
    "directory.template": "ssj template {kind} 模板.xlsx",
    "directory.restore": "ssj retire {kind} {code} --restore --reason 原因",
    "plan.create": "ssj plan create --no {plan} --unit 单位",
    "plan.publish": "ssj plan publish {plan}",
    "draw.run": "ssj draw {task}",
    "draw.confirm": "ssj draw confirm {task}",
    "draw.substitute": (
        "ssj draw substitute {task} --target {code} --inspector 执法证号 --reason 原因"
    ),
    "sheet.make": "ssj sheet {task} --out 检查表目录",
    "task.fire": "ssj task fire {task} {trigger}",
    "result.set": "ssj result set {task} {code} --result 结果",
    "result.import": "ssj result import 文件",
    "result.correct": (
        "ssj result correct {task} {code} --result 结果 --reason 原因 --category 类别"
    ),
    "result.publish": "ssj result publish {task} --place 公示位置",
    "followup.add": "ssj followup add {task} {code} --outcome 处置结果",
    "report.submit": "ssj report submit --kind {kind} --period 期间 --office 科室",
    "calendar.notice": "ssj calendar notice 通知全文.txt",
    "audit.verify": "ssj audit verify --against CHECKPOINT",
    "directory.retire": "ssj retire {kind} {code} --reason 原因",
    "result.rectify_by": "ssj result rectify-by {task} {code} 日期 --reason 原因",
    "task.create": "ssj task create --plan {plan} --name 任务名称",
    "task.read": "ssj task show {task}",
    "plan.read": "ssj plan show {plan}",
    "directory.read": "ssj export {kind} 文件.xlsx",
    "directory.export": "ssj export {kind} 文件.xlsx",
    "draw.read": "ssj draw record {task}",
    "deadline.read": "ssj overdue",
    "sweep.run": "ssj sweep",
    "report.read": "ssj overdue",
    "outbox.read": "ssj outbox list",
    "outbox.manage": "ssj outbox retry 邮件编号",
    "calendar.read": "ssj calendar check 年份",
    "config.read": "ssj config show",
    "audit.read": "ssj audit log",
    "audit.replay": "ssj audit replay",
    "audit.export": "ssj audit export 文件.jsonl",
    "audit.checkpoint": "ssj audit checkpoint --out 检查点.json",
    "unit.read": "ssj unit list",
    "unit.manage": "ssj unit add 代码 名称 --kind 层级 --parent 上级代码",
    "user.read": "ssj user list",
    "user.manage": "ssj user add 账号 --role 角色 --unit 单位代码",
    "token.manage": "ssj token create",
    "account.self": "ssj user password",
}

PLACEHOLDERS: dict[str, str] = {
    "task": "任务号",
    "plan": "计划编号",
    "code": "信用代码",
    "kind": "类别",
    "trigger": "触发器",
}

# The option that gives each input an error may say is missing (``SsjError.needs``).
OPTIONS: dict[str, str] = {
    "reason": "--reason",
    "as": "--as 账号 或环境变量 SSJ_USER",
    "task": "--task",
    "data": "--data",
    "now": "--now",
    "db": "--db",
    "against": "--against CHECKPOINT",
    "status": "--status",
    "working_days": "--working-days",
}


# Arguments of a step shown as options after the command, when the step carries them.
FLAGS: dict[str, str] = {"purpose": "--purpose", "reason": "--reason"}


class _Placeholders(dict[str, Any]):
    def __missing__(self, key: str) -> str:
        return PLACEHOLDERS.get(key, key)


def command(step: Step) -> str:
    """The command line that takes ``step``."""
    args: Mapping[str, Any] = {k: v for k, v in step.args.items() if v is not None}
    text = COMMANDS[step.action].format_map(_Placeholders(args))
    for key, option in FLAGS.items():
        if key in args and option not in text:
            text += f" {option} {args[key]}"
    return text


def render(e: SsjError) -> str:
    """The error as the CLI prints it: the message, the option that was missing, the commands."""
    if isinstance(e, TransitionRefused) and not e.guard_failed:
        return f"{e.message}（下一步：{next_steps(e.task_id, e.state)}）"
    hints = [command(s) for s in e.steps]
    if e.needs is not None and e.needs in OPTIONS:
        hints.append(f"用 {OPTIONS[e.needs]} 给出")
    elif e.fields.get("field") in OPTIONS:  # the option whose value is wrong
        hints.append(OPTIONS[e.fields["field"]].split()[0])
    if not hints:
        return e.message
    if "\n" in e.message:  # a list of problems: the hint on a line of its own
        return f"{e.message}\n下一步：{'；'.join(hints)}"
    return f"{e.message}（{'；'.join(hints)}）"


def next_steps(task_id: int, state: str) -> str:
    """What can move a task on from ``state``, as a person reads it: the draw is run by
    ``ssj draw``, other triggers by ``ssj task fire``; a final state has none."""
    if state not in states.STATES:
        return "无"
    allowed = states.allowed_triggers(state)
    if not allowed:
        return "无（终态）"
    if allowed == ["draw"]:
        return f"等待抽取（ssj draw {task_id}）"
    return "、".join(f"ssj task fire {task_id} {t}" for t in allowed)


# What to do when a guard stands in the way, as people say it; the commands are those of the
# guard's actions (workflow/core/actions.py GUARD_ACTIONS).
GUARD_TODO: dict[str, str] = {
    "commitment_published": "先公布计划",
    "draw_recorded": "随机抽取",
    "all_results_recorded": "录入检查结果",
    "all_results_published": "公示检查结果",
    "all_problems_followed_up": "登记后续处置",
}


def _todo(guard: str, task_id: int) -> str:
    steps = guard_steps(task_id, [guard])
    return f"{GUARD_TODO[guard]}（{'，或 '.join(command(s) for s in steps)}）"


def next_actions(task_id: int, state: str, facts: object) -> str:
    """Like ``next_steps``, but asking the guards with the task's facts: a trigger whose guard
    passes is offered as its command; one that waits on missing work says what to do first
    (a guard that rules a path out, e.g. close while problems are open, is left unsaid)."""
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
                todo.append(_todo(guard, task_id) + f"，然后 ssj task fire {task_id} {trigger}")
    if not offered and not todo:
        return next_steps(task_id, state)
    return "；".join(dict.fromkeys(offered + todo))
