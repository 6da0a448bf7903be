"""``ssj unit``: the unit tree (DESIGN §8) — list, add, edit, import."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from workflow.app import AppContext
from workflow.cli.base import acting, app, print_json, run_in_app
from workflow.core import units
from workflow.core.clock import SystemClock, format_utc

unit_app = typer.Typer(
    help="单位：省、市、县人社部门及其科室（计划、任务、名录与报告均属于单位）。",
    no_args_is_help=True,
)
app.add_typer(unit_app, name="unit")


def _line(u: units.Unit, depth: int) -> str:
    extra = []
    if u.head:
        extra.append(f"负责人 {u.head}")
    if u.email:
        extra.append(u.email)
    if u.reports:
        extra.append("报送定期报告")
    tail = f"：{'，'.join(extra)}" if extra else ""
    return f"{'  ' * depth}{u.name}（{u.code}，{units.KINDS[u.kind]}）{tail}"


@unit_app.command("list")
def list_cmd(
    ctx: typer.Context,
    as_json: Annotated[bool, typer.Option("--json", help="以 JSON 输出（供脚本读取）")] = False,
) -> None:
    """列出单位树（上级在前，下级缩进）。"""

    def go(a: AppContext) -> None:
        a.require_schema()
        # The account's subtree only (DESIGN §8), as the API's GET /units.
        found = [
            u for u in units.all_units(a.wf.raw) if a.actor is None or a.actor.sees_path(u.path)
        ]
        if as_json:
            print_json([u.as_json() for u in found])
            return
        top = min((u.path.count("/") for u in found), default=2)
        for u in found:
            typer.echo(_line(u, u.path.count("/") - top))

    run_in_app(ctx, go)


@unit_app.command("add")
def add_cmd(
    ctx: typer.Context,
    code: Annotated[str, typer.Argument(help="单位代码，如 410421 或 410421-01")],
    name: Annotated[str, typer.Argument(help="单位名称，如 宝丰县人力资源和社会保障局")],
    kind: Annotated[str, typer.Option("--kind", help="层级：省级、市级、县级 或 科室")],
    parent: Annotated[str, typer.Option("--parent", help="上级单位代码")],
    head: Annotated[str, typer.Option("--head", help="负责人（逾期督办的通知对象）")] = "",
    email: Annotated[str, typer.Option("--email", help="负责人电子邮箱")] = "",
    reports: Annotated[
        bool, typer.Option("--reports", help="科室须报送定期报告（月报表等）")
    ] = False,
) -> None:
    """新增单位（记入审计日志）。"""

    def go(a: AppContext) -> None:
        new = units.NewUnit(code, name, units.parse_kind(kind), parent, head, email, reports)
        u = units.add(
            a.wf.raw, new, actor=acting(a), now=format_utc(SystemClock().now()), within=a.actor
        )
        typer.echo(f"已新增单位：{_line(u, 0)}。")

    run_in_app(ctx, go)


@unit_app.command("edit")
def edit_cmd(
    ctx: typer.Context,
    code: Annotated[str, typer.Argument(help="单位代码")],
    new_code: Annotated[str | None, typer.Option("--code", help="新的单位代码")] = None,
    name: Annotated[str | None, typer.Option("--name", help="新的单位名称")] = None,
    kind: Annotated[
        str | None, typer.Option("--kind", help="新的层级：省级、市级、县级（局与科室之间不可改）")
    ] = None,
    head: Annotated[str | None, typer.Option("--head", help="负责人")] = None,
    email: Annotated[str | None, typer.Option("--email", help="负责人电子邮箱")] = None,
    reports: Annotated[
        bool | None,
        typer.Option("--reports/--no-reports", help="科室是否须报送定期报告"),
    ] = None,
) -> None:
    """修改单位的代码、名称、层级、负责人、邮箱或报告义务（上级不可改；记入审计日志）。"""

    def go(a: AppContext) -> None:
        changes = {"code": new_code, "name": name, "kind": kind, "head": head, "email": email}
        changes["reports"] = reports  # type: ignore[assignment]
        u = units.edit(
            a.wf.raw,
            code,
            changes,
            actor=acting(a),
            now=format_utc(SystemClock().now()),
            within=a.actor,
        )
        typer.echo(f"单位已更新：{_line(u, 0)}。")

    run_in_app(ctx, go)


@unit_app.command("import")
def import_cmd(
    ctx: typer.Context,
    file: Annotated[Path, typer.Argument(help=".csv 或 .xlsx（ssj template units 生成模板）")],
    dry_run: Annotated[bool, typer.Option("--dry-run", help="只校验并报告变化，不写入")] = False,
) -> None:
    """导入单位表：整表校验，任一行有误则整表拒绝并列出全部问题；按单位代码新增或更新。"""
    from workflow.sampling import unit_table

    def go(a: AppContext) -> None:
        s = unit_table.import_units(
            a.wf.raw,
            file,
            actor=acting(a),
            now=format_utc(SystemClock().now()),
            dry_run=dry_run,
            within=a.actor,
        )
        verb = "校验通过（未写入）" if s.dry_run else "已导入"
        typer.echo(
            f"{file}：{verb} {s.rows} 行：新增 {len(s.added)}，更新 {len(s.changed)}，"
            f"未变 {s.unchanged}。"
        )

    run_in_app(ctx, go)
