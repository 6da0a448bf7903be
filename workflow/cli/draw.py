"""``ssj draw`` and ``ssj sheet``: the draw (DESIGN §6) and what follows it (seed 003)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from workflow.app import AppContext
from workflow.cli.base import (
    TaskArg,
    acting,
    app,
    app_context,
    draw_app,
    local_time,
    print_json,
    reported_errors,
    run_in_app,
    target_code_of,
    task_id_of,
)
from workflow.core import queries, refs
from workflow.core.errors import InvalidInput

# ---------------------------------------------------------------------------------------------
# The draw (DESIGN §6) and what follows it (seed 003)


# DESIGN §6 step 3: without a public input fixed after the commitment, the result depends on
# the bureau's secret alone; allowed (the design says "empty if none"), but said.
NO_PUBLIC_INPUT = (
    "注意：未提供 --public-input（承诺值公布之后才确定的公开信息，如当日公开数字）。"
    "本次抽取结果仅由事先承诺的密钥决定，公众只能核对结果未被改动，无法确认密钥未被挑选；"
    "正式抽取建议使用公开输入。"
)


@draw_app.command("run", hidden=True)
def draw_run(
    ctx: typer.Context,
    task: TaskArg,
    public_input: Annotated[
        str,
        typer.Option("--public-input", help="公布承诺值之后才确定的公开信息（如当日公开数字）"),
    ] = "",
    expect_version: Annotated[int | None, typer.Option("--expect-version")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="输出完整抽取记录")] = False,
) -> None:
    """执行抽取：planned → drawn（ssj draw TASK）。"""
    from workflow.sampling import task_draw

    def go(a: AppContext) -> None:
        task_id = task_id_of(a, task)
        record = task_draw.draw_task(
            a.wf,
            task_id,
            actor=acting(a),
            public_input=public_input,
            expected_version=expect_version,
        )
        if not public_input.strip():
            typer.echo(NO_PUBLIC_INPUT, err=as_json)
        if as_json:
            print_json(record)
            return
        typer.echo(f"任务 {task_id} 已抽取：planned → drawn。")
        for s in record["strata"]:
            typer.echo(
                f"  分层 {s['name']}：名录 {len(s['population'])} 户，排除 {len(s['exclusions'])} 户，"
                f"比例 {s['ratio']}，抽中 {s['k']} 户"
            )
        names = refs.Names(a.engine)
        for t in record["targets"]:
            typer.echo(
                f"  {names.target(t['code'])}  检查组 {names.group(t['group'])}"
                f"  递补 {names.group(t['substitutes']) or '—'}"
            )
        typer.echo(f"密钥已公开：{record['secret']}（承诺值 {record['commitment']}）")
        typer.echo(f"完整记录：ssj draw record {task_id} --json；验证：ssj draw verify {task_id}")

    run_in_app(ctx, go)


@draw_app.command("record")
def draw_record(
    ctx: typer.Context,
    task_ref: TaskArg,
    as_json: Annotated[bool, typer.Option("--json", help="输出完整记录（供公开与验证）")] = False,
) -> None:
    """打印已公开的抽取记录。"""
    from workflow.sampling import task_draw

    def go(a: AppContext) -> None:
        task_id = task_id_of(a, task_ref)
        record = task_draw.load_record(a.wf, task_id)
        if as_json:
            print_json(record)
            return
        task = record.get("task", {})
        names = refs.Names(a.engine)
        typer.echo(
            f"任务 {task_id}：{task.get('plan_no')} {task.get('task_no')} {task.get('name')}"
        )
        typer.echo(
            f"  算法 {record['algorithm']}，抽取时间 {local_time(a, record.get('drawn_at'))}"
        )
        typer.echo(f"  承诺值 {record['commitment']}")
        shown = repr(record["public_input"]) if record["public_input"] else "（无）"
        typer.echo(f"  公开输入 {shown}，密钥 {record['secret']}")
        typer.echo(
            f"  每组 {record['group_size']} 人，每人上限 {record['cap']} 户，执法领域 {record['field'] or '不限'}"
        )
        for s in record["strata"]:
            typer.echo(
                f"  分层 {s['name']}（{s.get('basis', '')}）：名录 {len(s['population'])} 户，"
                f"摘要 {s['population_digest']}，k = {s['k']}"
            )
            for e in s["exclusions"]:
                typer.echo(f"    排除 {names.target(e['code'])}：{e['reason']}")
            typer.echo(f"    抽中：{'、'.join(names.target(c) for c in s['drawn']) or '—'}")
        records = queries.show_task(a.engine, task_id)["records"]
        now_groups = {r["target_code"]: r["inspectors"] for r in records}
        for t in record["targets"]:
            typer.echo(
                f"  {names.target(t['code'])}：检查组 {names.group(t['group'])}；"
                f"递补顺序 {names.group(t['substitutes']) or '—'}"
            )
            # Substitutions since (the published record itself never changes; each is logged).
            current = now_groups.get(t["code"], t["group"])
            if sorted(current) != sorted(t["group"]):
                out = [c for c in t["group"] if c not in current]
                came = [c for c in current if c not in t["group"]]
                typer.echo(
                    f"    已递补：现检查组 {names.group(current)}（{names.group(out)} 由"
                    f" {names.group(came)} 依递补顺序替换，见审计日志 inspector_substituted）"
                )
        # Joint visits merged in after this draw (the published record itself never changes).
        for r in records:
            for j in r["joined"]:
                typer.echo(
                    f"  {r['target_code']}：任务 {j['task_id']}（{j['task_no']}，{j['office'] or '—'}）"
                    f"抽取时并入本次检查，一并检查事项 {'、'.join(j['item_codes']) or '—'}"
                )

    run_in_app(ctx, go)


@draw_app.command("verify")
def draw_verify(
    ctx: typer.Context,
    task: Annotated[
        str | None,
        typer.Argument(metavar="TASK", help="任务：ID，或 计划编号-任务编号（如 2026001-001号）"),
    ] = None,
    file: Annotated[
        Path | None, typer.Option("--file", help="抽取记录 JSON 文件（无需数据库）")
    ] = None,
) -> None:
    """仅凭记录重算抽取结果；不一致时退出码 1。"""
    from workflow.sampling import task_draw

    with reported_errors():
        if (task is None) == (file is None):
            raise InvalidInput("请指定任务编号，或用 --file 指定抽取记录文件（二者选一）")
        if file is not None:
            try:
                with open(file, "rb") as f:
                    data = f.read(task_draw.RECORD_FILE_MAX + 1)
            except OSError as e:
                raise InvalidInput(f"无法读取 {file}：{e.strerror}") from None
            problems, source = task_draw.verify_record_file(data, str(file)), str(file)
        else:
            a = app_context(ctx)
            task_id = task_id_of(a, task or "")
            problems, source = task_draw.verify_task(a.wf, task_id), f"任务 {task_id}"
        if problems:
            typer.echo(f"抽取记录验证失败（{source}）：")
            for p in problems:
                typer.echo(f"  - {p}")
            raise typer.Exit(1)
        typer.echo(
            f"抽取记录验证通过（{source}）：承诺值、名录摘要、抽中对象、检查组与递补顺序均可重现。"
        )


@draw_app.command("confirm")
def draw_confirm(
    ctx: typer.Context,
    task: TaskArg,
    reason: Annotated[str | None, typer.Option("--reason", help="逾期确认时必填")] = None,
) -> None:
    """确认抽取结果与检查组匹配（来源文件 003：抽取后 2 个工作日内）。"""
    from workflow.sampling import task_draw

    def go(a: AppContext) -> None:
        task_id = task_id_of(a, task)
        p = task_draw.confirm(
            a.wf, task_id, actor=acting(a), reason=reason, tz=a.settings.calendar.timezone
        )
        late = "（逾期）" if p["late"] else ""
        typer.echo(
            f"任务 {task_id} 抽取结果已确认{late}；期限 {p['due']}（抽取于 {p['drawn_on']}）。"
        )

    run_in_app(ctx, go)


@draw_app.command("substitute")
def draw_substitute(
    ctx: typer.Context,
    task: TaskArg,
    target: Annotated[str, typer.Option("--target", help="检查对象：统一社会信用代码或名称")],
    inspector: Annotated[str, typer.Option("--inspector", help="被替换人员：执法证号或姓名")],
    reason: Annotated[str, typer.Option("--reason", help="替换原因（回避、请假等）")],
) -> None:
    """按抽取顺序由下一名递补人员替换检查组中的执法人员。"""
    from workflow.sampling import task_draw

    def go(a: AppContext) -> None:
        task_id = task_id_of(a, task)
        code = target_code_of(a, task_id, target)
        cert = refs.group_member(a.engine, inspector, task_id, code)
        p = task_draw.substitute(a.wf, task_id, code, cert, reason=reason, actor=acting(a))
        names = refs.Names(a.engine)
        skipped = "；".join(f"{names.inspector(s['cert'])}（{s['reason']}）" for s in p["skipped"])
        typer.echo(
            f"任务 {task_id} 检查对象 {names.target(code)}："
            f"{names.inspector(p['out'])} → {names.inspector(p['in'])}"
            + (f"；跳过 {skipped}" if skipped else "")
        )

    run_in_app(ctx, go)


@app.command("sheet")
def sheet_cmd(
    ctx: typer.Context,
    task: TaskArg,
    out: Annotated[Path, typer.Option("--out", help="输出目录")],
) -> None:
    """生成检查表：一企一表（.xlsx），含检查对象、事项及法律依据、检查组及执法证号。"""
    from workflow.sampling import sheets

    def go(a: AppContext) -> None:
        task_id = task_id_of(a, task)
        files = sheets.make_sheets(a.wf, task_id, out, actor=acting(a))
        typer.echo(f"任务 {task_id}：已生成 {len(files)} 张检查表到 {out}。")

    run_in_app(ctx, go)
