"""``ssj result`` and ``ssj followup``: results, publication, corrections, follow-ups."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Annotated

import typer

from workflow.app import AppContext
from workflow.cli.base import (
    TargetArg,
    TaskArg,
    acting,
    followup_app,
    parse_date_option,
    result_app,
    result_label,
    run_in_app,
    target_code_of,
    task_id_of,
)
from workflow.core import normalize, refs
from workflow.core.errors import InvalidInput
from workflow.core.writer import CORRECTION_CATEGORIES

# ---------------------------------------------------------------------------------------------
# Records, results, follow-ups


@result_app.command("set")
def result_set(
    ctx: typer.Context,
    task: TaskArg,
    target: TargetArg,
    result: Annotated[
        str,
        typer.Option(
            "--result",
            help="未发现问题 / 发现问题 / 不配合检查 / 无法联系 / 未发现开展相关经营活动（或代码 no_problem 等）",
        ),
    ],
    note: Annotated[str | None, typer.Option("--note", help="检查情况说明")] = None,
    reason: Annotated[
        str | None, typer.Option("--reason", help="更正已有（未公示）结果时必填")
    ] = None,
    rectify_by: Annotated[
        str | None,
        typer.Option("--rectify-by", help="整改期限 YYYY-MM-DD（发现问题时；默认按 config.yaml）"),
    ] = None,
) -> None:
    """录入或更正未公示的检查结果（更正前后的值均记入审计日志）；已公示的用 result correct。"""

    def go(a: AppContext) -> None:
        due = parse_date_option(rectify_by, "--rectify-by") if rectify_by else None
        task_id = task_id_of(a, task)
        code = target_code_of(a, task_id, target)
        value = normalize.option(result, normalize.RESULT, "--result")
        p = a.wf.set_result(
            task_id,
            code,
            value,
            actor=acting(a),
            note=note,
            reason=reason,
            rectify_by=due,
        )
        before = p["before"]["result"]
        verb = "录入" if before is None else f"更正（原为 {result_label(before)}）"
        who = refs.Names(a.engine).target(code)
        typer.echo(f"任务 {task_id} 检查对象 {who}：已{verb}结果 {result_label(value)}。")
        if "rectify_by" in p:
            typer.echo(f"整改期限：{p['rectify_by']}（到期前提醒，逾期督办）。")
            if due is None and a.calendar.is_provisional(date.fromisoformat(p["rectify_by"]).year):
                typer.echo(
                    f"注意：该整改期限（暂定）按 {p['rectify_by'][:4]} 年的暂定工作日历推算"
                    "（该年节假日安排尚未确认）；录入结果时可用 --rectify-by 直接指定日期。"
                )

    run_in_app(ctx, go)


@result_app.command("publish")
def result_publish(
    ctx: typer.Context,
    task: TaskArg,
    place: Annotated[str, typer.Option("--place", help="公示位置（网址或栏目）")],
    target: Annotated[
        list[str] | None,
        typer.Option("--target", help="只公示这些检查对象（代码或名称，可重复）"),
    ] = None,
    at: Annotated[
        str | None,
        typer.Option(
            "--at", "--date", help="公示日期 YYYY-MM-DD 或时刻（北京时间；默认今天，不得晚于今天）"
        ),
    ] = None,
) -> None:
    """登记检查结果的公示（日期与位置）；登记时间另按真实时间记入审计日志。"""

    def go(a: AppContext) -> None:
        when = None
        if at is not None:  # a date as clerks write it, or a moment (Beijing time)
            try:
                when = normalize.local_day(at, a.settings.calendar.timezone)
            except ValueError as e:
                raise InvalidInput(f"公示日期 {at!r} 无效：{e}") from None
        task_id = task_id_of(a, task)
        codes = [target_code_of(a, task_id, t) for t in target] if target else None
        done = a.wf.publish(task_id, place=place, actor=acting(a), targets=codes, published_on=when)
        typer.echo(f"任务 {task_id}：已公示 {len(done)} 条结果（{place}）。")

    run_in_app(ctx, go)


@result_app.command("correct")
def result_correct(
    ctx: typer.Context,
    task: TaskArg,
    target: TargetArg,
    result: Annotated[
        str,
        typer.Option(
            "--result",
            help="更正后的结果：no_problem / problem / refused / unreachable / not_operating",
        ),
    ],
    reason: Annotated[str, typer.Option("--reason", help="更正原因（必填）")],
    category: Annotated[
        str, typer.Option("--category", help="更正类别：录入错误 / 复核改变 / 其他")
    ],
    note: Annotated[str | None, typer.Option("--note", help="更正后的检查情况说明")] = None,
    rectify_by: Annotated[
        str | None,
        typer.Option(
            "--rectify-by", help="整改期限 YYYY-MM-DD（更正为发现问题时；默认按 config.yaml）"
        ),
    ] = None,
    place: Annotated[
        str | None, typer.Option("--place", help="更正的公示位置（默认原公示位置）")
    ] = None,
) -> None:
    """更正已公示的检查结果：须说明原因与类别；更正本身作为“更正”公示并记入审计日志。"""

    def go(a: AppContext) -> None:
        due = parse_date_option(rectify_by, "--rectify-by") if rectify_by else None
        task_id = task_id_of(a, task)
        code = target_code_of(a, task_id, target)
        value = normalize.option(result, normalize.RESULT, "--result")
        p = a.wf.correct_result(
            task_id,
            code,
            value,
            actor=acting(a),
            reason=reason,
            category=category,
            note=note,
            rectify_by=due,
            place=place,
        )
        who = refs.Names(a.engine).target(code)
        typer.echo(
            f"任务 {task_id} 检查对象 {who}：结果已更正 {result_label(p['before']['result'])}"
            f" → {result_label(value)}"
            f"（{CORRECTION_CATEGORIES[p['category']]}），更正公示于 {p['published_on']}"
            f" {p['place'] or ''}".rstrip()
        )
        if p["rectify_by"]:
            typer.echo(f"整改期限：{p['rectify_by']}。")

    run_in_app(ctx, go)


@result_app.command("rectify-by")
def result_rectify_by(
    ctx: typer.Context,
    task: TaskArg,
    target: TargetArg,
    day: Annotated[str, typer.Argument(metavar="DATE", help="新的整改期限 YYYY-MM-DD")],
    reason: Annotated[str, typer.Option("--reason", help="变更原因（必填）")],
) -> None:
    """单独变更发现问题的整改期限（须说明原因，记入审计日志）。"""

    def go(a: AppContext) -> None:
        due = parse_date_option(day, "整改期限")
        task_id = task_id_of(a, task)
        code = target_code_of(a, task_id, target)
        p = a.wf.change_rectify_by(task_id, code, due, actor=acting(a), reason=reason)
        who = refs.Names(a.engine).target(code)
        typer.echo(f"任务 {task_id} 检查对象 {who}：整改期限 {p['before'] or '—'} → {p['after']}。")

    run_in_app(ctx, go)


@result_app.command("import")
def result_import(
    ctx: typer.Context,
    file: Annotated[
        Path,
        typer.Argument(
            help=".csv 或 .xlsx：统一社会信用代码（或名称）、检查结果、检查情况说明、整改期限"
            "（可有“抽查任务”列）"
        ),
    ],
    task: Annotated[
        str | None,
        typer.Option("--task", help="任务（ID 或 2026001-001号；文件中有“抽查任务”列时可省略）"),
    ] = None,
    reason: Annotated[
        str | None, typer.Option("--reason", help="文件改动已有（未公示）结果时必填")
    ] = None,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="只校验，不写入")] = False,
) -> None:
    """从一张表导入一个任务的全部检查结果：整表校验，任一行有误则整表拒绝，一次事务写入。"""
    from workflow.sampling import results

    def go(a: AppContext) -> None:
        a.require_schema()
        # A task given on the command line is checked before the file is read.
        given = None if task is None else task_id_of(a, task)
        s = results.import_results(
            a.wf, file, actor=acting(a), task=given, reason=reason, dry_run=dry_run
        )
        verb = "校验通过（未写入）" if dry_run else "已导入"
        typer.echo(
            f"{file}：任务 {s['task_id']}（{s['task']}）{verb} {s['rows']} 行：录入 {s['recorded']}，"
            f"更正 {s['changed']}，未变 {s['unchanged']}。"
        )

    run_in_app(ctx, go)


@followup_app.command("add")
def followup_add(
    ctx: typer.Context,
    task: TaskArg,
    target: TargetArg,
    outcome: Annotated[
        str,
        typer.Option(
            "--outcome",
            help="已整改 / 立案查处 / 移送有关部门 / 移送公安机关（或代码 rectified 等）",
        ),
    ],
    note: Annotated[str, typer.Option("--note")] = "",
    on: Annotated[
        str | None,
        typer.Option(
            "--date", help="处置日期，如 2024-04-02 或 2024年4月2日（默认今天，不得晚于今天）"
        ),
    ] = None,
) -> None:
    """为发现问题或不配合检查的检查对象登记后续处置。"""

    def go(a: AppContext) -> None:
        day = parse_date_option(on, "--date") if on is not None else None
        task_id = task_id_of(a, task)
        code = target_code_of(a, task_id, target)
        value = normalize.option(outcome, normalize.OUTCOME, "--outcome")
        a.wf.add_followup(task_id, code, value, actor=acting(a), on=day, note=note)
        who = refs.Names(a.engine).target(code)
        typer.echo(
            f"任务 {task_id} 检查对象 {who}：已登记后续处置 {normalize.OUTCOME.labels[value]}。"
        )

    run_in_app(ctx, go)
