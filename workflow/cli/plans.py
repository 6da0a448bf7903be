"""``ssj plan``: annual plans."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from workflow.app import AppContext
from workflow.cli.base import (
    acting,
    local_time,
    plan_app,
    print_json,
    run_in_app,
)
from workflow.core import queries

# ---------------------------------------------------------------------------------------------
# Plans


@plan_app.command("create")
def plan_create(
    ctx: typer.Context,
    plan_no: Annotated[str, typer.Option("--no", help="抽查计划编号，如 2024001")],
    unit: Annotated[str, typer.Option("--unit", help="单位，如 迁西县人力资源和社会保障局")],
    name: Annotated[
        str | None, typer.Option("--name", help="计划名称（默认：年度+部门+随机抽查+序号）")
    ] = None,
) -> None:
    """创建年度抽查工作计划。"""

    def go(a: AppContext) -> None:
        from workflow.sampling import plans

        plans.create_plan(a.wf, plan_no, unit=unit, actor=acting(a), name=name, within=a.actor)
        typer.echo(f"已创建抽查计划 {plan_no}。")

    run_in_app(ctx, go)


@plan_app.command("list")
def plan_list(
    ctx: typer.Context,
    as_json: Annotated[bool, typer.Option("--json", help="以 JSON 输出（供脚本读取）")] = False,
) -> None:
    """列出抽查计划。"""

    def go(a: AppContext) -> None:
        a.require_schema()
        plans = queries.list_plans(a.engine, within=a.actor)
        if as_json:
            print_json(plans)
            return
        for p in plans:
            typer.echo(f"{p['plan_no']}  {p['name']}  （{p['tasks']} 个任务）")
        if not plans:
            typer.echo("尚无抽查计划。")

    run_in_app(ctx, go)


@plan_app.command("import")
def plan_import(
    ctx: typer.Context,
    file: Annotated[Path, typer.Argument(help="计划表 .csv 或 .xlsx（来源文件 004 附件的列）")],
    dry_run: Annotated[bool, typer.Option("--dry-run", help="只校验，不写入")] = False,
) -> None:
    """导入年度抽查工作计划表：整表校验，任一行有误则整表拒绝并按行列出全部问题。"""
    from workflow.sampling import plans

    def go(a: AppContext) -> None:
        s = plans.import_plan_table(
            a.wf,
            file,
            actor=acting(a),
            rules=a.settings.draw,
            dry_run=dry_run,
            within=a.actor,
        )
        verb = "校验通过（未写入）" if s.dry_run else "已导入"
        created = "、".join(s.plans_created) or "无"
        typer.echo(
            f"{file}：{verb}：新建计划 {created}；新建任务 {s.tasks_created} 个，"
            f"已存在且一致 {s.tasks_unchanged} 个。"
        )
        for w in s.warnings:
            typer.echo(f"警告：{w}", err=True)

    run_in_app(ctx, go)


@plan_app.command("publish")
def plan_publish(
    ctx: typer.Context,
    plan_no: Annotated[str, typer.Argument(help="抽查计划编号")],
    as_json: Annotated[bool, typer.Option("--json", help="以 JSON 输出（供脚本读取）")] = False,
) -> None:
    """公布计划：为每个新任务生成抽取承诺值（secret 的 SHA-256）并记入审计日志。"""

    def go(a: AppContext) -> None:
        from workflow.sampling import plans

        done = plans.publish(a.wf, plan_no, actor=acting(a), within=a.actor)
        if as_json:
            print_json(done)
            return
        typer.echo(f"抽查计划 {plan_no} 已公布，{len(done)} 个任务的抽取承诺值：")
        for t in done:
            typer.echo(f"  任务 {t['task_id']}（{t['task_no']}）：{t['commitment']}")

    run_in_app(ctx, go)


@plan_app.command("show")
def plan_show(
    ctx: typer.Context,
    plan_no: Annotated[str, typer.Argument(help="抽查计划编号")],
    as_json: Annotated[bool, typer.Option("--json", help="以 JSON 输出（供脚本读取）")] = False,
) -> None:
    """查看计划：任务、比例、抽取承诺值（公开信息）。"""

    def go(a: AppContext) -> None:
        a.require_schema()
        p = queries.show_plan(a.engine, plan_no, within=a.actor)
        if as_json:
            print_json(p)
            return
        pub = f"已公布 {local_time(a, p['published_at'])}" if p["published_at"] else "未公布"
        typer.echo(f"{p['plan_no']} {p['name']}（{p['unit']}，{pub}）")
        for t in p["tasks"]:
            typer.echo(
                f"  {t['task_no']} 任务 {t['id']} {t['name']}  {t['task_type_label']} "
                f"{t['ratio_percent']}  {t['state']}  承诺值 {t['commitment'] or '—'}"
            )

    run_in_app(ctx, go)
