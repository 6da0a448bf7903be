"""``ssj task``: create, list, show, fire."""

from __future__ import annotations

from typing import Annotated, Any

import typer

import states
from workflow.app import AppContext
from workflow.cli.base import (
    TaskArg,
    acting,
    local_time,
    print_json,
    result_label,
    run_in_app,
    task_app,
    task_id_of,
)
from workflow.core import normalize, queries, refs
from workflow.core.errors import InvalidInput

# ---------------------------------------------------------------------------------------------
# Tasks


@task_app.command("create")
def task_create(
    ctx: typer.Context,
    plan: Annotated[str, typer.Option("--plan", help="抽查计划编号")],
    name: Annotated[str, typer.Option("--name", help="抽查任务名称")],
    task_no: Annotated[
        str | None, typer.Option("--task-no", help="任务编号，如 001号（默认顺延）")
    ] = None,
    task_type: Annotated[
        str, typer.Option("--type", help="定向（directed）或 不定向（undirected）")
    ] = "undirected",
    ratio: Annotated[str, typer.Option("--ratio", help="抽查比例，如 0.05 或 10%")] = "0.05",
    items: Annotated[str, typer.Option("--items", help="抽查事项")] = "",
    scope: Annotated[str, typer.Option("--scope", help="抽查对象范围")] = "",
    office: Annotated[str, typer.Option("--office", help="发起处室")] = "",
    joining: Annotated[
        list[str] | None, typer.Option("--joining", help="联合处室（可重复）")
    ] = None,
    months: Annotated[str, typer.Option("--months", help="抽查时间（到月份），如 2024-04")] = "",
    item: Annotated[
        list[str] | None, typer.Option("--item", help="抽查事项编码（可重复，须在事项清单中）")
    ] = None,
    condition: Annotated[
        str, typer.Option("--condition", help="定向条件，如 信用风险等级=C,D；规模=大型")
    ] = "",
    stratum_ratio: Annotated[
        str, typer.Option("--stratum-ratio", help="分层比例，如 C=20%；D=30%")
    ] = "",
    field: Annotated[str, typer.Option("--field", help="检查组人员须具备的执法领域")] = "",
    reason: Annotated[str | None, typer.Option("--reason")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="以 JSON 输出（供脚本读取）")] = False,
) -> None:
    """创建抽查任务（状态 planned）。"""
    from workflow.sampling import plans

    def go(a: AppContext) -> None:
        filters, strata = plans.parse_task_conditions(condition, stratum_ratio)
        task_id = plans.create_task(
            a.wf,
            plan,
            name=name,
            actor=acting(a),
            within=a.actor,
            task_no=task_no,
            task_type=task_type,
            ratio=ratio,
            items=items,
            scope=scope,
            initiating_office=office,
            joining_offices=joining or [],
            months=months,
            item_codes=item or [],
            filters=filters,
            stratum_ratios=strata,
            inspector_field=field,
            reason=reason,
        )
        if as_json:
            print_json(queries.show_task(a.engine, task_id))
        else:
            typer.echo(f"已创建任务 {task_id}（计划 {plan}），状态 planned。")
        if field.strip():
            from workflow.sampling import directories

            with a.raw() as raw:
                warning = directories.unmatched_field(raw, field)
            if warning:
                typer.echo(f"警告：{warning}", err=True)

    run_in_app(ctx, go)


@task_app.command("list")
def task_list(
    ctx: typer.Context,
    state: Annotated[str | None, typer.Option("--state", help="按状态筛选")] = None,
    plan: Annotated[str | None, typer.Option("--plan", help="按计划编号筛选")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="以 JSON 输出（供脚本读取）")] = False,
) -> None:
    """列出抽查任务。"""

    def go(a: AppContext) -> None:
        if state is not None and state not in states.STATES:
            raise InvalidInput(f"未知状态 {state!r}：应为 {'、'.join(states.STATES)}")
        a.require_schema()
        tasks = queries.list_tasks(a.engine, state, plan, within=a.actor)
        if as_json:
            print_json(tasks)
            return
        if not tasks:
            typer.echo("没有符合条件的任务。")
        for t in tasks:
            typer.echo(
                f"{t['id']:>5}  {t['plan_no']} {t['task_no']}  {t['state']:<10} v{t['version']:<3}"
                f" 对象 {t['records']:>3}  {t['name']}"
            )

    run_in_app(ctx, go)


@task_app.command("show")
def task_show(
    ctx: typer.Context,
    task: TaskArg,
    as_json: Annotated[bool, typer.Option("--json", help="以 JSON 输出（供脚本读取）")] = False,
) -> None:
    """查看一个任务及其检查记录（含结果更正）。"""
    from workflow.cli.hints import next_actions

    def go(a: AppContext) -> None:
        task_id = task_id_of(a, task)
        t = queries.show_task(a.engine, task_id)
        if as_json:
            print_json(t)
            return
        names = refs.Names(a.engine)
        typer.echo(f"任务 {t['id']}：{t['plan_no']} {t['task_no']} {t['name']}")
        typer.echo(f"  计划：{t['plan_name']}")
        typer.echo(
            f"  状态：{t['state']}（{states.STATE_LABELS[t['state']]}），版本 {t['version']}"
        )
        state, facts = a.wf.facts(task_id)
        typer.echo(f"  下一步：{next_actions(t['id'], state, facts)}")
        kind = normalize.TASK_TYPES.get(t["task_type"], t["task_type"])
        typer.echo(f"  类型 {kind}，比例 {t['ratio']}，时间 {t['months'] or '—'}")
        typer.echo(
            f"  发起处室 {t['initiating_office'] or '—'}，联合处室 {'、'.join(t['joining_offices']) or '—'}"
        )
        for r in t["records"]:
            # The date the clerk states, and when it was recorded (Beijing time).
            pub = (
                f"已公示 {r['published_on']}（登记于 {local_time(a, r['published_at'])}）"
                if r["published_at"]
                else "未公示"
            )
            fu = (
                "、".join(
                    normalize.OUTCOME.labels.get(f["outcome"], f["outcome"]) for f in r["followups"]
                )
                or "—"
            )
            due = f"  整改期限 {r['rectify_by']}" if r.get("rectify_by") else ""
            typer.echo(
                f"  - {names.target(r['target_code'], r['target_name'])}"
                f"  检查组 {names.group(r['inspectors'])}"
                f"  结果 {result_label(r['result'])}{due}  {pub}  后续处置 {fu}"
            )
            for c in r.get("corrections", []):
                typer.echo(
                    f"      更正 {local_time(a, c['corrected_at'])}（{c['category_label']}）："
                    f"{result_label(c['before_result'])} → {result_label(c['after_result'])}"
                    f"；原因：{c['reason']}；"
                    f"{c['actor']}；公示于 {c['published_on']} {c['published_place'] or ''}".rstrip()
                )
            for j in r["joined"]:
                typer.echo(
                    f"      联合检查：并入任务 {j['task_id']}（{j['task_no']}，{j['office'] or '—'}）"
                    f"，一并检查事项 {'、'.join(j['item_codes']) or '—'}"
                )
        if t["joint_visits"]:
            typer.echo("  联合检查（并入其他任务的入户检查，本任务不另行检查）：")
        for v in t["joint_visits"]:
            typer.echo(
                f"  - {names.target(v['target_code'], v['target_name'])}  在任务 {v['task_id']}"
                f"（{v['plan_no']} {v['task_no']}，{v['office'] or '—'}）的检查中一并检查"
                f"  结果 {v['result_label'] or '未录入'}"
            )

    run_in_app(ctx, go)


@task_app.command("fire")
def task_fire(
    ctx: typer.Context,
    task: TaskArg,
    trigger: Annotated[
        str, typer.Argument(help="inspect / publicize / rectify / close（draw 请用 ssj draw）")
    ],
    reason: Annotated[str | None, typer.Option("--reason")] = None,
    data: Annotated[str | None, typer.Option("--data", help="附加数据（JSON 对象）")] = None,
    expect_version: Annotated[
        int | None, typer.Option("--expect-version", help="乐观锁：任务须仍为此版本")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="以 JSON 输出（供脚本读取）")] = False,
) -> None:
    """对任务执行触发器。"""

    def go(a: AppContext) -> None:
        payload = parse_data(data)
        task_id = task_id_of(a, task)
        src, dest, seq = a.wf.fire(
            task_id,
            trigger,
            actor=acting(a),
            reason=reason,
            data=payload,
            expected_version=expect_version,
        )
        if as_json:
            print_json({"id": task_id, "from": src, "state": dest, "seq": seq})
        else:
            typer.echo(f"任务 {task_id}：{src} → {dest}（事件 {seq}）")

    run_in_app(ctx, go)


def parse_data(text: str | None) -> dict[str, Any]:
    if not text:
        return {}
    from workflow.core import input_limits

    value = input_limits.load_json(text, "--data")  # bounded depth, no NaN or infinity
    if not isinstance(value, dict):
        raise InvalidInput('--data 必须是 JSON 对象，如 {"note": "..."}')
    return value
