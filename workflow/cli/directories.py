"""一单两库: ``ssj import``, ``template``, ``export``, ``retire``."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from workflow.app import AppContext
from workflow.cli.base import (
    acting,
    app,
    local_today,
    reported_errors,
    run_in_app,
    seq_range,
)
from workflow.core.clock import SystemClock, format_utc

# ---------------------------------------------------------------------------------------------
# 一单两库: the item list and the two directories


@app.command("import")
def import_cmd(
    ctx: typer.Context,
    kind: Annotated[
        str, typer.Argument(help="items（事项清单）/ targets（检查对象）/ inspectors（执法人员）")
    ],
    file: Annotated[Path, typer.Argument(help=".csv（UTF-8 或 GBK）或 .xlsx，表头为中文列名")],
    dry_run: Annotated[bool, typer.Option("--dry-run", help="只校验并报告变化，不写入")] = False,
    unit: Annotated[
        str | None,
        typer.Option("--unit", help="检查对象、执法人员所属的局（单位代码；默认本账号所属的局）"),
    ] = None,
) -> None:
    """导入名录：整表校验，任一行有误则整表拒绝并列出全部问题；按主键新增或更新。"""
    from workflow.sampling import directories

    def go(a: AppContext) -> None:
        now = SystemClock().now()
        with a.raw() as raw:
            s = directories.import_file(
                raw,
                kind,
                file,
                actor=acting(a),
                now=format_utc(now),
                dry_run=dry_run,
                today=local_today(a, now),
                unit=unit,
                within=a.actor,
            )
        verb = "校验通过（未写入）" if s.dry_run else "已导入"
        typer.echo(
            f"{file}：{verb} {s.rows} 行：新增 {s.added}，更新 {s.changed}，未变 {s.unchanged}。"
        )
        if s.first_seq is not None and s.last_seq is not None:  # set together
            typer.echo(f"审计事件 {seq_range(s.first_seq, s.last_seq)}。")
        for w in s.warnings:
            typer.echo(f"警告：{w}", err=True)

    run_in_app(ctx, go)


@app.command("template")
def template_cmd(
    kind: Annotated[
        str, typer.Argument(help="items / targets / inspectors / plans / results / units")
    ],
    file: Annotated[Path, typer.Argument(help="要生成的 .xlsx 模板")],
) -> None:
    """生成导入模板（.xlsx，含中文表头与填写说明）；plans 为年度抽查工作计划表，results 为检查结果表，units 为单位表。"""
    from workflow.sampling import directories, plans

    with reported_errors():
        if kind == "plans":
            plans.write_plan_template(file)
        elif kind == "units":
            from workflow.sampling import unit_table

            unit_table.write_template(file)
        elif kind == "results":
            from workflow.sampling import results

            results.write_template(file)
        else:
            directories.write_template(kind, file)
        typer.echo(f"模板已写入 {file}。")


@app.command("export")
def export_cmd(
    ctx: typer.Context,
    kind: Annotated[str, typer.Argument(help="items / targets / inspectors")],
    file: Annotated[Path, typer.Argument(help=".csv 或 .xlsx（格式与导入相同）")],
) -> None:
    """导出名录（格式与导入模板相同，可修改后重新导入）。"""
    from workflow.sampling import directories

    def go(a: AppContext) -> None:
        with a.raw() as raw:
            n = directories.export_file(raw, kind, file, within=a.actor)
        typer.echo(f"已导出 {n} 条到 {file}。")

    run_in_app(ctx, go)


@app.command("retire")
def retire_cmd(
    ctx: typer.Context,
    kind: Annotated[str, typer.Argument(help="items（事项）/ targets（检查对象）")],
    codes: Annotated[list[str], typer.Argument(help="事项编码或统一社会信用代码（可多个）")],
    reason: Annotated[str, typer.Option("--reason", help="停用（或恢复）的原因")],
    restore: Annotated[bool, typer.Option("--restore", help="恢复为在用")] = False,
) -> None:
    """停用事项或检查对象：保留历史，不再用于新任务与抽取；--restore 恢复。每项一个审计事件。"""
    from workflow.sampling import directories

    def go(a: AppContext) -> None:
        with a.raw() as raw:
            s = directories.retire(
                raw,
                kind,
                codes,
                reason=reason,
                actor=acting(a),
                now=format_utc(SystemClock().now()),
                restore=restore,
                within=a.actor,
            )
        verb = "恢复" if restore else "停用"
        if s.changed:
            typer.echo(f"已{verb} {len(s.changed)} 项：{'、'.join(s.changed)}。")
        if s.unchanged:
            state = "在用" if restore else "已停用"
            typer.echo(f"{'、'.join(s.unchanged)} 本来就{state}，未更改。")
        if s.first_seq is not None and s.last_seq is not None:  # set together
            typer.echo(f"审计事件 {seq_range(s.first_seq, s.last_seq)}。")

    run_in_app(ctx, go)
