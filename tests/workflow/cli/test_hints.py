"""The CLI's rendering of what errors offer as data: options for missing inputs, commands for
next steps. The domain's messages name no command (tests/workflow/core/test_errors.py)."""

from __future__ import annotations

import pytest

from workflow.cli import hints
from workflow.core.actions import ACTIONS, GUARD_ACTIONS
from workflow.core.errors import (
    InvalidInput,
    Step,
    TransitionRefused,
    Unauthenticated,
    guard_steps,
)
from workflow.sampling.directories import ImportRejected


def test_every_declared_action_has_exactly_one_command_line():
    assert set(hints.COMMANDS) == set(ACTIONS)
    for action in ACTIONS:
        assert hints.command(Step(action)).startswith("ssj ")


def test_a_step_names_only_declared_actions():
    with pytest.raises(ValueError, match=r"undeclared action 'plan\.publsh'"):
        Step("plan.publsh")
    assert all(a in ACTIONS for actions in GUARD_ACTIONS.values() for a in actions)


def test_known_arguments_fill_the_command_and_unknown_ones_show_their_placeholder():
    assert hints.command(Step("result.correct", {"task": 7, "code": "X1"})) == (
        "ssj result correct 7 X1 --result 结果 --reason 原因 --category 类别"
    )
    assert hints.command(Step("result.correct", {"task": 7})) == (
        "ssj result correct 7 信用代码 --result 结果 --reason 原因 --category 类别"
    )
    assert hints.command(Step("plan.publish")) == "ssj plan publish 计划编号"
    # Arguments that are options are appended, once.
    assert hints.command(Step("init", {"purpose": "demo|test"})) == "ssj init --purpose demo|test"
    assert hints.command(Step("result.set", {"task": 3, "code": "C", "reason": "原因"})) == (
        "ssj result set 3 C --result 结果 --reason 原因"
    )


def test_a_missing_input_is_rendered_as_its_option():
    e = InvalidInput("更正已公示的结果须说明原因", needs="reason", task=4)
    assert "--" not in e.message and "ssj" not in str(e)
    assert hints.render(e) == "更正已公示的结果须说明原因（用 --reason 给出）"
    assert e.as_json() == {
        "code": "invalid_input",
        "message": "更正已公示的结果须说明原因",
        "task": 4,
        "needs": "reason",
    }
    account = Unauthenticated("推进任务需要指明以哪个账号操作", needs="as")
    assert hints.render(account) == (
        "推进任务需要指明以哪个账号操作（用 --as 账号 或环境变量 SSJ_USER 给出）"
    )
    # An unknown account names the option whose value is wrong.
    unknown = Unauthenticated("账号 'nobody' 不存在", field="as", value="nobody")
    assert hints.render(unknown) == "账号 'nobody' 不存在（--as）"


def test_steps_and_needs_share_one_parenthesis_and_a_wrong_option_is_named():
    e = InvalidInput("数据库文件 x.db 不存在", steps=[Step("init")], needs="db")
    assert hints.render(e) == "数据库文件 x.db 不存在（ssj init；用 --db 给出）"
    assert e.as_json()["next"] == [{"action": "init", "label": ACTIONS["init"]}]
    bad = InvalidInput("指定时刻 2100-01-01 超出范围", field="now")
    assert hints.render(bad) == "指定时刻 2100-01-01 超出范围（--now）"


def test_a_problem_list_gets_its_next_step_on_a_line_of_its_own():
    e = ImportRejected(
        "t.csv", ["t.csv:1: 缺少必需的列：名称"], [Step("directory.template", {"kind": "targets"})]
    )
    text = hints.render(e)
    assert text.endswith("\n下一步：ssj template targets 模板.xlsx")
    assert text.startswith(
        "t.csv 未导入（共 1 个问题，未写入任何数据）：\nt.csv:1: 缺少必需的列：名称"
    )


def test_a_refused_trigger_offers_what_the_state_allows_a_failed_guard_what_satisfies_it():
    wrong = TransitionRefused(5, "drawn", "close", "不允许", ["inspect"])
    assert "ssj" not in wrong.message
    assert [s.as_json() for s in wrong.steps] == [
        {"action": "task.fire", "label": ACTIONS["task.fire"], "task": 5, "trigger": "inspect"}
    ]
    assert hints.render(wrong).endswith("（下一步：ssj task fire 5 inspect）")
    planned = TransitionRefused(6, "planned", "inspect", "不允许", [])
    assert [s.action for s in planned.steps] == ["draw.run"]
    assert hints.render(planned).endswith("（下一步：等待抽取（ssj draw 6））")
    guard = TransitionRefused(
        5,
        "drawn",
        "inspect",
        "还有 1 个检查对象未录入检查结果",
        ["inspect"],
        steps=guard_steps(5, ["all_results_recorded"]),
    )
    assert hints.render(guard) == (
        "任务 5 当前状态为 drawn，暂不能执行 inspect：还有 1 个检查对象未录入检查结果"
        "（ssj result set 5 信用代码 --result 结果；ssj result import 文件）"
    )
