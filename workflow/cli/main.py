"""The ``ssj`` command line. Command and option names are a contract: auditors' scripts call them.

Exit codes: 0 success; 1 a check failed (audit verify / replay found a problem);
2 invalid input or an operation the rules refuse; 3 a conflict (someone changed the task first,
or the database stayed locked) — read again and retry.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date, datetime
from pathlib import Path
from typing import Annotated, Any, TypeVar
from zoneinfo import ZoneInfo

import sqlalchemy.exc
import typer
from typer.core import TyperGroup

import states
from workflow.app import AppContext
from workflow.core import audit, normalize, queries, refs, schema
from workflow.core.clock import SystemClock, format_utc, parse_time
from workflow.core.config import ConfigError, load_settings
from workflow.core.errors import Conflict, InvalidInput, NotFound, SsjError
from workflow.core.logging import configure_logging
from workflow.core.replay import replay as run_replay
from workflow.core.writer import CORRECTION_CATEGORIES, parse_data

app = typer.Typer(
    help="ssj：人社“双随机、一公开”抽查工作流服务。",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
plan_app = typer.Typer(help="年度抽查工作计划。", no_args_is_help=True)
task_app = typer.Typer(help="抽查任务：创建、查看、执行触发器。", no_args_is_help=True)


class _DrawGroup(TyperGroup):
    """``ssj draw TASK`` runs the draw; ``ssj draw record|verify|confirm|substitute`` the rest."""

    def parse_args(self, ctx: typer.Context, args: list[str]) -> list[str]:  # type: ignore[override]
        if args and args[0] not in self.commands and not args[0].startswith("-"):
            args = ["run", *args]
        return super().parse_args(ctx, args)


draw_app = typer.Typer(
    cls=_DrawGroup,
    help=(
        "双随机抽取：ssj draw TASK --actor 姓名 --public-input 公开信息 执行抽取"
        "（全部选项：ssj draw TASK --help）；record / verify 公开与验证；"
        "confirm / substitute 抽取后处理。"
    ),
    no_args_is_help=True,
)
result_app = typer.Typer(help="检查结果：录入、更正、公示。", no_args_is_help=True)
followup_app = typer.Typer(help="后续处置。", no_args_is_help=True)
audit_app = typer.Typer(help="审计日志：校验、重放、导出、检查点。", no_args_is_help=True)
for sub, name in (
    (plan_app, "plan"),
    (task_app, "task"),
    (draw_app, "draw"),
    (result_app, "result"),
    (followup_app, "followup"),
    (audit_app, "audit"),
):
    app.add_typer(sub, name=name)

T = TypeVar("T")


_App = AppContext  # the commands' name for it

REHEARSAL = (
    "演练：这是正式库，--now 只演练，不写入任何数据（不记审计日志、不记督办步骤、"
    "不入队、不发送邮件）；以下是按该时刻运行将会发生的情况。"
)


def _rehearsal(a: AppContext, now: str | None, *, to_stderr: bool = False) -> bool:
    """``--now`` on a writing command; a rehearsal on a live database says so (on stderr when
    stdout is JSON)."""
    dry = a.rehearsal(now)
    if dry:
        typer.echo(REHEARSAL, err=to_stderr)
    return dry


def _state(ctx: typer.Context) -> _App:
    a: _App = ctx.find_root().obj  # set by the root callback, _main
    return a


_ONE_LINE_PARAMS = frozenset(
    {"name", "unit", "actor", "plan", "plan_no", "task_no", "office", "joining", "target"}
    | {"inspector", "item", "field", "signed_by", "kind", "trigger", "role", "status", "state"}
)


def _check_params() -> None:
    """Every int and float option or argument of the running command, in one place: ids are
    positive signed 64-bit integers (what the database can hold), every other int fits in 64
    bits, floats are finite and not negative. Out-of-range values are refused with exit 2."""
    from workflow.core import input_limits

    # typer >= 0.20 vendors click (typer.main imports the function without re-exporting it);
    # older versions use the click package: the same function under either name.
    try:
        from typer.main import get_current_context  # type: ignore[attr-defined]
    except ImportError:  # pragma: no cover
        from click import get_current_context  # type: ignore[no-redef]

    ctx = get_current_context(silent=True)
    if ctx is None:
        return
    for param in ctx.command.params:
        value = ctx.params.get(param.name or "")
        if isinstance(value, bool) or value is None:
            continue
        label = (
            param.opts[0]
            if param.opts and param.opts[0].startswith("-")
            else (param.name or "").upper()
        )
        if isinstance(value, int):
            name = param.name or ""
            if name.endswith("_id") or name in ("task",):
                what = {"task_id": "任务", "task": "任务", "outbox_id": "邮件"}.get(name, label)
                input_limits.check_id(value, f"{what}编号")
            elif name == "limit" and value < 1:
                raise InvalidInput(f"{label} {value} 无效：应为正整数")
            elif not -input_limits.ID_MAX <= value <= input_limits.ID_MAX:
                raise InvalidInput(f"{label} {value} 超出范围：应为 64 位整数")
        elif isinstance(value, float) and not (math.isfinite(value) and value >= 0):
            raise InvalidInput(f"{label} {value} 无效：应为非负的有限数")
        else:
            # Names and codes are one line of sane length; free text (reasons, notes, JSON,
            # conditions) may span lines but holds no control or bidi characters either.
            one_line = param.name in _ONE_LINE_PARAMS
            for text in value if isinstance(value, list | tuple) else [value]:
                if isinstance(text, str):
                    input_limits.check_text(
                        text,
                        label,
                        max_chars=input_limits.NAME_MAX_CHARS
                        if one_line
                        else input_limits.TEXT_MAX_CHARS,
                        multiline=not one_line,
                    )


# Exit codes (the module docstring): 2 for what the user can correct, 3 for a conflict (read
# again and retry); 1 is a check that failed, returned by the commands themselves.
EXIT_CODES: dict[type[SsjError], int] = {Conflict: 3}


@contextmanager
def _errors() -> Iterator[None]:
    try:
        _check_params()
        yield
    except SsjError as e:
        typer.echo(f"错误：{e}", err=True)
        raise typer.Exit(EXIT_CODES.get(type(e), 3 if isinstance(e, Conflict) else 2)) from None
    except ConfigError as e:
        typer.echo(f"错误：{e}", err=True)
        raise typer.Exit(2) from None
    except sqlalchemy.exc.OperationalError as e:
        typer.echo(f"错误：无法访问数据库：{e.orig}", err=True)
        raise typer.Exit(2) from None
    except OverflowError as e:
        # Last nets for input no check above foresaw (a date past 9999, a number too large
        # for the database, data nested too deep): a message and exit 2, never a traceback.
        typer.echo(f"错误：输入的数值或日期超出可处理的范围（{e}）", err=True)
        raise typer.Exit(2) from None
    except RecursionError:
        typer.echo("错误：输入的数据嵌套过深，无法处理", err=True)
        raise typer.Exit(2) from None


def _run(ctx: typer.Context, fn: Callable[[_App], T]) -> T:
    with _errors():
        return fn(_state(ctx))


def _print_json(value: Any) -> None:
    typer.echo(json.dumps(value, ensure_ascii=False, indent=2, sort_keys=False))


# What users type for a task and a target (workflow/refs.py resolves them).
TaskArg = Annotated[
    str,
    typer.Argument(
        metavar="TASK",
        help="任务：ID，或 计划编号-任务编号（如 2026001-001号）",
        show_default=False,
    ),
]
TargetArg = Annotated[
    str, typer.Argument(metavar="TARGET", help="检查对象：统一社会信用代码或名称")
]


def _task(a: _App, ref: str) -> int:
    a.require_schema()
    return refs.task_id(a.engine, ref)


def _target(a: _App, task_id: int, ref: str) -> str:
    return refs.target_code(a.engine, ref, task_id)


def _local(a: _App, stored: str | None) -> str:
    """A stored UTC time as shown to people: Asia/Shanghai (config audit.timezone), minutes."""
    return refs.local_time(stored, a.settings.audit.timezone)


@app.callback()
def _main(
    ctx: typer.Context,
    db: Annotated[
        str | None,
        typer.Option("--db", help="数据库地址（默认取环境变量 SSJ_DB_URL 或 config.yaml）"),
    ] = None,
    config: Annotated[Path | None, typer.Option("--config", help="配置文件路径")] = None,
) -> None:
    try:
        settings = load_settings(config)
    except ConfigError as e:
        typer.echo(f"错误：{e}", err=True)
        raise typer.Exit(2) from None
    configure_logging(settings.log)
    from workflow.sampling import directories

    directories.configure_limits(settings.imports)
    ctx.obj = _App(settings, db or settings.db.url)
    ctx.call_on_close(ctx.obj.close)


# ---------------------------------------------------------------------------------------------
# Set-up


@app.command()
def init(
    ctx: typer.Context,
    purpose_: Annotated[
        str | None,
        typer.Option(
            "--purpose",
            help="数据库用途：live 正式库（新库默认；只按真实时间写入）、demo 演示库、"
            "test 测试库（后两者可用 --now 按指定时刻写入）",
        ),
    ] = None,
) -> None:
    """创建数据库或升级到最新结构（Alembic 迁移），并记录数据库用途。"""
    from workflow.core import purpose

    def go(a: _App) -> None:
        if purpose_ is not None:
            purpose.check(purpose_)
        a.may_create = True
        before, after = schema.upgrade(a.engine)
        if before == after:
            typer.echo(f"数据库 {a.safe_url()} 已是最新结构（{after}）。")
        else:
            typer.echo(f"数据库 {a.safe_url()} 已升级：{before or '空库'} → {after}。")
        value, written = purpose.settle(a.engine, purpose_)
        typer.echo(f"数据库用途：{purpose.label(value)}" + ("（已记录）。" if written else "。"))

    _run(ctx, go)


@app.command()
def demo(
    ctx: typer.Context,
    if_empty: Annotated[bool, typer.Option("--if-empty", help="库中已有计划时不再加载")] = False,
    now: Annotated[
        str | None,
        typer.Option("--now", help="以此时刻为“今天”构建演示数据（ISO 8601；无时区按北京时间）"),
    ] = None,
) -> None:
    """加载演示数据：取自来源文件的计划、任务，处于各个状态，日期相对今天（本年度）。"""
    from workflow.demo import load_demo

    def go(a: _App) -> None:
        if if_empty and queries.list_plans(a.engine):
            typer.echo("库中已有数据，跳过演示数据加载。")
            return
        from workflow.core import purpose

        a.require_schema()
        current = purpose.read(a.engine)
        if purpose.is_empty(a.engine):
            if current != purpose.DEMO:
                purpose.write(a.engine, purpose.DEMO)  # an empty database becomes a demo one
                a.wf.forget_purpose()
                typer.echo(f"数据库用途：{purpose.label(purpose.DEMO)}（已记录）。")
        elif current == purpose.LIVE:
            raise InvalidInput(
                f"数据库 {a.safe_url()} 是正式库（live）且已有数据：演示数据只能加载到空库、"
                "演示库或测试库"
            )
        a.at(now)
        n = load_demo(a.wf, a.settings)
        typer.echo(f"已加载演示数据：{n} 个任务。")

    _run(ctx, go)


@app.command()
def walkthrough(ctx: typer.Context) -> None:
    """演示流程：列出任务，执行一次状态转换，校验哈希链，重放日志。"""
    from workflow.demo import walkthrough as run

    _run(ctx, lambda a: run(a.wf, typer.echo))


# ---------------------------------------------------------------------------------------------
# 一单两库: the item list and the two directories


def _default_actor() -> str:
    import getpass

    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "unknown"


@app.command("import")
def import_cmd(
    ctx: typer.Context,
    kind: Annotated[
        str, typer.Argument(help="items（事项清单）/ targets（检查对象）/ inspectors（执法人员）")
    ],
    file: Annotated[Path, typer.Argument(help=".csv（UTF-8 或 GBK）或 .xlsx，表头为中文列名")],
    dry_run: Annotated[bool, typer.Option("--dry-run", help="只校验并报告变化，不写入")] = False,
    actor: Annotated[
        str | None, typer.Option("--actor", help="操作人（默认当前系统用户）", envvar="SSJ_ACTOR")
    ] = None,
) -> None:
    """导入名录：整表校验，任一行有误则整表拒绝并列出全部问题；按主键新增或更新。"""
    from workflow.sampling import directories

    def go(a: _App) -> None:
        now = SystemClock().now()
        with a.raw() as raw:
            s = directories.import_file(
                raw,
                kind,
                file,
                actor=actor or _default_actor(),
                now=format_utc(now),
                dry_run=dry_run,
                today=_local_today(a, now),
            )
        verb = "校验通过（未写入）" if s.dry_run else "已导入"
        typer.echo(
            f"{file}：{verb} {s.rows} 行：新增 {s.added}，更新 {s.changed}，未变 {s.unchanged}。"
        )
        if s.first_seq is not None and s.last_seq is not None:  # set together
            typer.echo(f"审计事件 {_seqs(s.first_seq, s.last_seq)}。")
        for w in s.warnings:
            typer.echo(f"警告：{w}", err=True)

    _run(ctx, go)


@app.command("template")
def template_cmd(
    kind: Annotated[str, typer.Argument(help="items / targets / inspectors / plans / results")],
    file: Annotated[Path, typer.Argument(help="要生成的 .xlsx 模板")],
) -> None:
    """生成导入模板（.xlsx，含中文表头与填写说明）；plans 为年度抽查工作计划表，results 为检查结果表。"""
    from workflow.sampling import directories, plans

    with _errors():
        if kind == "plans":
            plans.write_plan_template(file)
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

    def go(a: _App) -> None:
        with a.raw() as raw:
            n = directories.export_file(raw, kind, file)
        typer.echo(f"已导出 {n} 条到 {file}。")

    _run(ctx, go)


@app.command("retire")
def retire_cmd(
    ctx: typer.Context,
    kind: Annotated[str, typer.Argument(help="items（事项）/ targets（检查对象）")],
    codes: Annotated[list[str], typer.Argument(help="事项编码或统一社会信用代码（可多个）")],
    reason: Annotated[str, typer.Option("--reason", help="停用（或恢复）的原因")],
    actor: Annotated[str | None, typer.Option("--actor", help="操作人（默认当前系统用户）")] = None,
    restore: Annotated[bool, typer.Option("--restore", help="恢复为在用")] = False,
) -> None:
    """停用事项或检查对象：保留历史，不再用于新任务与抽取；--restore 恢复。每项一个审计事件。"""
    from workflow.sampling import directories

    def go(a: _App) -> None:
        with a.raw() as raw:
            s = directories.retire(
                raw,
                kind,
                codes,
                reason=reason,
                actor=actor or _default_actor(),
                now=format_utc(SystemClock().now()),
                restore=restore,
            )
        verb = "恢复" if restore else "停用"
        if s.changed:
            typer.echo(f"已{verb} {len(s.changed)} 项：{'、'.join(s.changed)}。")
        if s.unchanged:
            state = "在用" if restore else "已停用"
            typer.echo(f"{'、'.join(s.unchanged)} 本来就{state}，未更改。")
        if s.first_seq is not None and s.last_seq is not None:  # set together
            typer.echo(f"审计事件 {_seqs(s.first_seq, s.last_seq)}。")

    _run(ctx, go)


# ---------------------------------------------------------------------------------------------
# Plans


@plan_app.command("create")
def plan_create(
    ctx: typer.Context,
    plan_no: Annotated[str, typer.Option("--no", help="抽查计划编号，如 2024001")],
    unit: Annotated[str, typer.Option("--unit", help="单位，如 迁西县人力资源和社会保障局")],
    actor: Annotated[str, typer.Option("--actor", help="操作人", envvar="SSJ_ACTOR")],
    name: Annotated[
        str | None, typer.Option("--name", help="计划名称（默认：年度+部门+随机抽查+序号）")
    ] = None,
    role: Annotated[str, typer.Option("--role")] = "clerk",
) -> None:
    """创建年度抽查工作计划。"""

    def go(a: _App) -> None:
        a.wf.create_plan(plan_no, unit=unit, actor=actor, name=name, role=role)
        typer.echo(f"已创建抽查计划 {plan_no}。")

    _run(ctx, go)


@plan_app.command("list")
def plan_list(
    ctx: typer.Context,
    as_json: Annotated[bool, typer.Option("--json", help="以 JSON 输出（供脚本读取）")] = False,
) -> None:
    """列出抽查计划。"""

    def go(a: _App) -> None:
        a.require_schema()
        plans = queries.list_plans(a.engine)
        if as_json:
            _print_json(plans)
            return
        for p in plans:
            typer.echo(f"{p['plan_no']}  {p['name']}  （{p['tasks']} 个任务）")
        if not plans:
            typer.echo("尚无抽查计划。")

    _run(ctx, go)


@plan_app.command("import")
def plan_import(
    ctx: typer.Context,
    file: Annotated[Path, typer.Argument(help="计划表 .csv 或 .xlsx（来源文件 004 附件的列）")],
    dry_run: Annotated[bool, typer.Option("--dry-run", help="只校验，不写入")] = False,
    actor: Annotated[
        str | None, typer.Option("--actor", help="操作人（默认当前系统用户）", envvar="SSJ_ACTOR")
    ] = None,
) -> None:
    """导入年度抽查工作计划表：整表校验，任一行有误则整表拒绝并按行列出全部问题。"""
    from workflow.sampling import plans

    def go(a: _App) -> None:
        s = plans.import_plan_table(
            a.wf, file, actor=actor or _default_actor(), rules=a.settings.draw, dry_run=dry_run
        )
        verb = "校验通过（未写入）" if s.dry_run else "已导入"
        created = "、".join(s.plans_created) or "无"
        typer.echo(
            f"{file}：{verb}：新建计划 {created}；新建任务 {s.tasks_created} 个，"
            f"已存在且一致 {s.tasks_unchanged} 个。"
        )
        for w in s.warnings:
            typer.echo(f"警告：{w}", err=True)

    _run(ctx, go)


@plan_app.command("publish")
def plan_publish(
    ctx: typer.Context,
    plan_no: Annotated[str, typer.Argument(help="抽查计划编号")],
    actor: Annotated[str, typer.Option("--actor", help="操作人", envvar="SSJ_ACTOR")],
    as_json: Annotated[bool, typer.Option("--json", help="以 JSON 输出（供脚本读取）")] = False,
) -> None:
    """公布计划：为每个新任务生成抽取承诺值（secret 的 SHA-256）并记入审计日志。"""

    def go(a: _App) -> None:
        done = a.wf.publish_plan(plan_no, actor=actor)
        if as_json:
            _print_json(done)
            return
        typer.echo(f"抽查计划 {plan_no} 已公布，{len(done)} 个任务的抽取承诺值：")
        for t in done:
            typer.echo(f"  任务 {t['task_id']}（{t['task_no']}）：{t['commitment']}")

    _run(ctx, go)


@plan_app.command("show")
def plan_show(
    ctx: typer.Context,
    plan_no: Annotated[str, typer.Argument(help="抽查计划编号")],
    as_json: Annotated[bool, typer.Option("--json", help="以 JSON 输出（供脚本读取）")] = False,
) -> None:
    """查看计划：任务、比例、抽取承诺值（公开信息）。"""

    def go(a: _App) -> None:
        a.require_schema()
        p = queries.show_plan(a.engine, plan_no)
        if as_json:
            _print_json(p)
            return
        pub = f"已公布 {_local(a, p['published_at'])}" if p["published_at"] else "未公布"
        typer.echo(f"{p['plan_no']} {p['name']}（{p['unit']}，{pub}）")
        for t in p["tasks"]:
            typer.echo(
                f"  {t['task_no']} 任务 {t['id']} {t['name']}  {t['task_type_label']} "
                f"{t['ratio_percent']}  {t['state']}  承诺值 {t['commitment'] or '—'}"
            )

    _run(ctx, go)


# ---------------------------------------------------------------------------------------------
# Tasks


@task_app.command("create")
def task_create(
    ctx: typer.Context,
    plan: Annotated[str, typer.Option("--plan", help="抽查计划编号")],
    name: Annotated[str, typer.Option("--name", help="抽查任务名称")],
    actor: Annotated[str, typer.Option("--actor", help="操作人", envvar="SSJ_ACTOR")],
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
    role: Annotated[str, typer.Option("--role")] = "clerk",
    reason: Annotated[str | None, typer.Option("--reason")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="以 JSON 输出（供脚本读取）")] = False,
) -> None:
    """创建抽查任务（状态 planned）。"""
    from workflow.sampling import plans

    def go(a: _App) -> None:
        try:
            filters = plans.parse_conditions(condition)
            strata = plans.parse_stratum_ratios(stratum_ratio)
        except ValueError as e:
            raise InvalidInput(str(e)) from None
        task_id = a.wf.create_task(
            plan,
            name=name,
            actor=actor,
            role=role,
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
            _print_json(queries.show_task(a.engine, task_id))
        else:
            typer.echo(f"已创建任务 {task_id}（计划 {plan}），状态 planned。")
        if field.strip():
            from workflow.sampling import directories

            with a.raw() as raw:
                warning = directories.unmatched_field(raw, field)
            if warning:
                typer.echo(f"警告：{warning}", err=True)

    _run(ctx, go)


@task_app.command("list")
def task_list(
    ctx: typer.Context,
    state: Annotated[str | None, typer.Option("--state", help="按状态筛选")] = None,
    plan: Annotated[str | None, typer.Option("--plan", help="按计划编号筛选")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="以 JSON 输出（供脚本读取）")] = False,
) -> None:
    """列出抽查任务。"""

    def go(a: _App) -> None:
        if state is not None and state not in states.STATES:
            raise InvalidInput(f"未知状态 {state!r}：应为 {'、'.join(states.STATES)}")
        a.require_schema()
        tasks = queries.list_tasks(a.engine, state, plan)
        if as_json:
            _print_json(tasks)
            return
        if not tasks:
            typer.echo("没有符合条件的任务。")
        for t in tasks:
            typer.echo(
                f"{t['id']:>5}  {t['plan_no']} {t['task_no']}  {t['state']:<10} v{t['version']:<3}"
                f" 对象 {t['records']:>3}  {t['name']}"
            )

    _run(ctx, go)


@task_app.command("show")
def task_show(
    ctx: typer.Context,
    task: TaskArg,
    as_json: Annotated[bool, typer.Option("--json", help="以 JSON 输出（供脚本读取）")] = False,
) -> None:
    """查看一个任务及其检查记录（含结果更正）。"""
    from workflow.core.errors import next_actions

    def go(a: _App) -> None:
        task_id = _task(a, task)
        t = queries.show_task(a.engine, task_id)
        if as_json:
            _print_json(t)
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
                f"已公示 {r['published_on']}（登记于 {_local(a, r['published_at'])}）"
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
                f"  结果 {_result_label(r['result'])}{due}  {pub}  后续处置 {fu}"
            )
            for c in r.get("corrections", []):
                typer.echo(
                    f"      更正 {_local(a, c['corrected_at'])}（{c['category_label']}）："
                    f"{_result_label(c['before_result'])} → {_result_label(c['after_result'])}"
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

    _run(ctx, go)


@task_app.command("fire")
def task_fire(
    ctx: typer.Context,
    task: TaskArg,
    trigger: Annotated[
        str, typer.Argument(help="inspect / publicize / rectify / close（draw 请用 ssj draw）")
    ],
    actor: Annotated[str, typer.Option("--actor", help="操作人", envvar="SSJ_ACTOR")],
    role: Annotated[str, typer.Option("--role")] = "clerk",
    reason: Annotated[str | None, typer.Option("--reason")] = None,
    data: Annotated[str | None, typer.Option("--data", help="附加数据（JSON 对象）")] = None,
    expect_version: Annotated[
        int | None, typer.Option("--expect-version", help="乐观锁：任务须仍为此版本")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="以 JSON 输出（供脚本读取）")] = False,
) -> None:
    """对任务执行触发器。"""

    def go(a: _App) -> None:
        payload = parse_data(data)
        task_id = _task(a, task)
        src, dest, seq = a.wf.fire(
            task_id,
            trigger,
            actor=actor,
            role=role,
            reason=reason,
            data=payload,
            expected_version=expect_version,
        )
        if as_json:
            _print_json({"id": task_id, "from": src, "state": dest, "seq": seq})
        else:
            typer.echo(f"任务 {task_id}：{src} → {dest}（事件 {seq}）")

    _run(ctx, go)


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
    actor: Annotated[str, typer.Option("--actor", help="操作人", envvar="SSJ_ACTOR")],
    role: Annotated[
        str | None,
        typer.Option(
            "--role", help="角色（默认按操作人：检查组成员为 inspector，经办人员为 clerk）"
        ),
    ] = None,
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

    def go(a: _App) -> None:
        due = _parse_date(rectify_by, "--rectify-by") if rectify_by else None
        task_id = _task(a, task)
        code = _target(a, task_id, target)
        value = normalize.option(result, normalize.RESULT, "--result")
        p = a.wf.set_result(
            task_id,
            code,
            value,
            actor=actor,
            role=role,
            note=note,
            reason=reason,
            rectify_by=due,
        )
        before = p["before"]["result"]
        verb = "录入" if before is None else f"更正（原为 {_result_label(before)}）"
        who = refs.Names(a.engine).target(code)
        typer.echo(f"任务 {task_id} 检查对象 {who}：已{verb}结果 {_result_label(value)}。")
        if "rectify_by" in p:
            typer.echo(f"整改期限：{p['rectify_by']}（到期前提醒，逾期督办）。")
            if due is None and a.calendar.is_provisional(date.fromisoformat(p["rectify_by"]).year):
                typer.echo(
                    f"注意：该整改期限（暂定）按 {p['rectify_by'][:4]} 年的暂定工作日历推算"
                    "（该年节假日安排尚未确认）；录入结果时可用 --rectify-by 直接指定日期。"
                )

    _run(ctx, go)


@result_app.command("publish")
def result_publish(
    ctx: typer.Context,
    task: TaskArg,
    place: Annotated[str, typer.Option("--place", help="公示位置（网址或栏目）")],
    actor: Annotated[str, typer.Option("--actor", help="操作人", envvar="SSJ_ACTOR")],
    target: Annotated[
        list[str] | None,
        typer.Option("--target", help="只公示这些检查对象（代码或名称，可重复）"),
    ] = None,
    role: Annotated[str, typer.Option("--role")] = "clerk",
    at: Annotated[
        str | None,
        typer.Option(
            "--at", "--date", help="公示日期 YYYY-MM-DD 或时刻（北京时间；默认今天，不得晚于今天）"
        ),
    ] = None,
) -> None:
    """登记检查结果的公示（日期与位置）；登记时间另按真实时间记入审计日志。"""

    def go(a: _App) -> None:
        when = None
        if at is not None:
            tz = a.settings.calendar.timezone
            try:  # a date as clerks write it, or a moment (2024-04-02T15:00, Beijing time)
                when = normalize.parse_date(at)
            except ValueError:
                try:
                    when = parse_time(at, tz).astimezone(ZoneInfo(tz)).date()
                except ValueError:
                    raise InvalidInput(
                        f"公示日期 {at!r} 无效：应为日期（如 2024-04-02、2024/4/2、2024年4月2日）"
                        "或北京时间时刻（如 2024-04-02T15:00）"
                    ) from None
        task_id = _task(a, task)
        codes = [_target(a, task_id, t) for t in target] if target else None
        done = a.wf.publish(
            task_id, place=place, actor=actor, role=role, targets=codes, published_on=when
        )
        typer.echo(f"任务 {task_id}：已公示 {len(done)} 条结果（{place}）。")

    _run(ctx, go)


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
    actor: Annotated[str, typer.Option("--actor", help="操作人", envvar="SSJ_ACTOR")],
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
    role: Annotated[str, typer.Option("--role")] = "clerk",
) -> None:
    """更正已公示的检查结果：须说明原因与类别；更正本身作为“更正”公示并记入审计日志。"""

    def go(a: _App) -> None:
        due = _parse_date(rectify_by, "--rectify-by") if rectify_by else None
        task_id = _task(a, task)
        code = _target(a, task_id, target)
        value = normalize.option(result, normalize.RESULT, "--result")
        p = a.wf.correct_result(
            task_id,
            code,
            value,
            actor=actor,
            reason=reason,
            category=category,
            note=note,
            rectify_by=due,
            place=place,
            role=role,
        )
        who = refs.Names(a.engine).target(code)
        typer.echo(
            f"任务 {task_id} 检查对象 {who}：结果已更正 {_result_label(p['before']['result'])}"
            f" → {_result_label(value)}"
            f"（{CORRECTION_CATEGORIES[p['category']]}），更正公示于 {p['published_on']}"
            f" {p['place'] or ''}".rstrip()
        )
        if p["rectify_by"]:
            typer.echo(f"整改期限：{p['rectify_by']}。")

    _run(ctx, go)


@result_app.command("rectify-by")
def result_rectify_by(
    ctx: typer.Context,
    task: TaskArg,
    target: TargetArg,
    day: Annotated[str, typer.Argument(metavar="DATE", help="新的整改期限 YYYY-MM-DD")],
    reason: Annotated[str, typer.Option("--reason", help="变更原因（必填）")],
    actor: Annotated[str, typer.Option("--actor", help="操作人", envvar="SSJ_ACTOR")],
    role: Annotated[str, typer.Option("--role")] = "clerk",
) -> None:
    """单独变更发现问题的整改期限（须说明原因，记入审计日志）。"""

    def go(a: _App) -> None:
        due = _parse_date(day, "整改期限")
        task_id = _task(a, task)
        code = _target(a, task_id, target)
        p = a.wf.change_rectify_by(task_id, code, due, actor=actor, reason=reason, role=role)
        who = refs.Names(a.engine).target(code)
        typer.echo(f"任务 {task_id} 检查对象 {who}：整改期限 {p['before'] or '—'} → {p['after']}。")

    _run(ctx, go)


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
    actor: Annotated[str, typer.Option("--actor", help="录入人", envvar="SSJ_ACTOR")],
    task: Annotated[
        str | None,
        typer.Option("--task", help="任务（ID 或 2026001-001号；文件中有“抽查任务”列时可省略）"),
    ] = None,
    reason: Annotated[
        str | None, typer.Option("--reason", help="文件改动已有（未公示）结果时必填")
    ] = None,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="只校验，不写入")] = False,
    role: Annotated[
        str | None,
        typer.Option(
            "--role", help="角色（默认按操作人：检查组成员为 inspector，经办人员为 clerk）"
        ),
    ] = None,
) -> None:
    """从一张表导入一个任务的全部检查结果：整表校验，任一行有误则整表拒绝，一次事务写入。"""
    from workflow.sampling import results

    def go(a: _App) -> None:
        a.require_schema()
        # A task given on the command line is checked before the file is read.
        given = None if task is None else str(_task(a, task))
        s = results.import_results(
            a.wf, file, actor=actor, task=given, reason=reason, role=role, dry_run=dry_run
        )
        verb = "校验通过（未写入）" if dry_run else "已导入"
        typer.echo(
            f"{file}：任务 {s['task_id']}（{s['task']}）{verb} {s['rows']} 行：录入 {s['recorded']}，"
            f"更正 {s['changed']}，未变 {s['unchanged']}。"
        )

    _run(ctx, go)


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
    actor: Annotated[str, typer.Option("--actor", help="操作人", envvar="SSJ_ACTOR")],
    note: Annotated[str, typer.Option("--note")] = "",
    on: Annotated[
        str | None,
        typer.Option(
            "--date", help="处置日期，如 2024-04-02 或 2024年4月2日（默认今天，不得晚于今天）"
        ),
    ] = None,
    role: Annotated[
        str | None,
        typer.Option(
            "--role", help="角色（默认按操作人：检查组成员为 inspector，经办人员为 clerk）"
        ),
    ] = None,
) -> None:
    """为发现问题或不配合检查的检查对象登记后续处置。"""

    def go(a: _App) -> None:
        day = _parse_date(on, "--date") if on is not None else None
        task_id = _task(a, task)
        code = _target(a, task_id, target)
        value = normalize.option(outcome, normalize.OUTCOME, "--outcome")
        a.wf.add_followup(task_id, code, value, actor=actor, role=role, on=day, note=note)
        who = refs.Names(a.engine).target(code)
        typer.echo(
            f"任务 {task_id} 检查对象 {who}：已登记后续处置 {normalize.OUTCOME.labels[value]}。"
        )

    _run(ctx, go)


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
    actor: Annotated[str, typer.Option("--actor", help="操作人", envvar="SSJ_ACTOR")],
    public_input: Annotated[
        str,
        typer.Option("--public-input", help="公布承诺值之后才确定的公开信息（如当日公开数字）"),
    ] = "",
    expect_version: Annotated[int | None, typer.Option("--expect-version")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="输出完整抽取记录")] = False,
) -> None:
    """执行抽取：planned → drawn（ssj draw TASK）。"""
    from workflow.sampling import task_draw

    def go(a: _App) -> None:
        task_id = _task(a, task)
        record = task_draw.draw_task(
            a.wf,
            task_id,
            actor=actor,
            public_input=public_input,
            expected_version=expect_version,
        )
        if not public_input.strip():
            typer.echo(NO_PUBLIC_INPUT, err=as_json)
        if as_json:
            _print_json(record)
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

    _run(ctx, go)


@draw_app.command("record")
def draw_record(
    ctx: typer.Context,
    task_ref: TaskArg,
    as_json: Annotated[bool, typer.Option("--json", help="输出完整记录（供公开与验证）")] = False,
) -> None:
    """打印已公开的抽取记录。"""
    from workflow.sampling import task_draw

    def go(a: _App) -> None:
        task_id = _task(a, task_ref)
        record = task_draw.load_record(a.wf, task_id)
        if as_json:
            _print_json(record)
            return
        task = record.get("task", {})
        names = refs.Names(a.engine)
        typer.echo(
            f"任务 {task_id}：{task.get('plan_no')} {task.get('task_no')} {task.get('name')}"
        )
        typer.echo(f"  算法 {record['algorithm']}，抽取时间 {_local(a, record.get('drawn_at'))}")
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

    _run(ctx, go)


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
    from workflow.sampling import algorithm, task_draw

    with _errors():
        if (task is None) == (file is None):
            raise InvalidInput("请指定任务编号，或用 --file 指定抽取记录文件（二者选一）")
        if file is not None:
            from workflow.core import input_limits

            limit = 512 * 1024 * 1024  # a province's draw record is tens of MB
            try:
                with open(file, "rb") as f:
                    data = f.read(limit + 1)
            except OSError as e:
                raise InvalidInput(f"无法读取 {file}：{e.strerror}") from None
            if len(data) > limit:
                raise InvalidInput(f"{file} 超过 {limit // 1024 // 1024} MB，不是抽取记录")
            # Numbers as exact decimals: 1e400 stays a number the checks can refuse, not inf.
            record = input_limits.load_json(
                input_limits.decode_utf8(data, str(file)), str(file), exact_numbers=True
            )
            if not isinstance(record, dict):
                raise InvalidInput(f"{file} 不是抽取记录（应为 JSON 对象）")
            problems, source = algorithm.verify_record(record), str(file)
        else:
            a = _state(ctx)
            task_id = _task(a, task or "")
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
    actor: Annotated[str, typer.Option("--actor", help="操作人", envvar="SSJ_ACTOR")],
    reason: Annotated[str | None, typer.Option("--reason", help="逾期确认时必填")] = None,
) -> None:
    """确认抽取结果与检查组匹配（来源文件 003：抽取后 2 个工作日内）。"""
    from workflow.sampling import task_draw

    def go(a: _App) -> None:
        task_id = _task(a, task)
        p = task_draw.confirm(
            a.wf, task_id, actor=actor, reason=reason, tz=a.settings.audit.timezone
        )
        late = "（逾期）" if p["late"] else ""
        typer.echo(
            f"任务 {task_id} 抽取结果已确认{late}；期限 {p['due']}（抽取于 {p['drawn_on']}）。"
        )

    _run(ctx, go)


@draw_app.command("substitute")
def draw_substitute(
    ctx: typer.Context,
    task: TaskArg,
    target: Annotated[str, typer.Option("--target", help="检查对象：统一社会信用代码或名称")],
    inspector: Annotated[str, typer.Option("--inspector", help="被替换人员：执法证号或姓名")],
    reason: Annotated[str, typer.Option("--reason", help="替换原因（回避、请假等）")],
    actor: Annotated[str, typer.Option("--actor", help="操作人", envvar="SSJ_ACTOR")],
) -> None:
    """按抽取顺序由下一名递补人员替换检查组中的执法人员。"""
    from workflow.sampling import task_draw

    def go(a: _App) -> None:
        task_id = _task(a, task)
        code = _target(a, task_id, target)
        cert = refs.inspector_cert(a.engine, inspector, _group(a, task_id, code))
        p = task_draw.substitute(a.wf, task_id, code, cert, reason=reason, actor=actor)
        names = refs.Names(a.engine)
        skipped = "；".join(f"{names.inspector(s['cert'])}（{s['reason']}）" for s in p["skipped"])
        typer.echo(
            f"任务 {task_id} 检查对象 {names.target(code)}："
            f"{names.inspector(p['out'])} → {names.inspector(p['in'])}"
            + (f"；跳过 {skipped}" if skipped else "")
        )

    _run(ctx, go)


def _group(a: _App, task_id: int, code: str) -> list[str]:
    """The certificates of a target's group in a task (empty when it has none)."""
    for r in queries.show_task(a.engine, task_id)["records"]:
        if r["target_code"] == code:
            return list(r["inspectors"])
    return []


@app.command("sheet")
def sheet_cmd(
    ctx: typer.Context,
    task: TaskArg,
    out: Annotated[Path, typer.Option("--out", help="输出目录")],
    actor: Annotated[str, typer.Option("--actor", help="操作人", envvar="SSJ_ACTOR")],
) -> None:
    """生成检查表：一企一表（.xlsx），含检查对象、事项及法律依据、检查组及执法证号。"""
    from workflow.sampling import sheets

    def go(a: _App) -> None:
        task_id = _task(a, task)
        files = sheets.make_sheets(a.wf, task_id, out, actor=actor)
        typer.echo(f"任务 {task_id}：已生成 {len(files)} 张检查表到 {out}。")

    _run(ctx, go)


# ---------------------------------------------------------------------------------------------
# Audit


def _verify_output(result: audit.VerifyResult, as_json: bool, source: str) -> None:
    if as_json:
        _print_json(result.as_json())
    elif result.ok:
        typer.echo(
            f"哈希链完整（{source}）：{result.events} 个事件，链头 {result.head_seq} {result.head_hash}"
        )
    else:
        typer.echo(
            f"哈希链校验失败（{source}）："
            + (f"第一个异常事件序号 {result.first_bad_seq}：" if result.first_bad_seq else "")
            + (result.reason or "")  # a failed verification always gives its reason
        )
    if result.note and not as_json:
        typer.echo(f"注意：{result.note}")
    if not result.ok:
        raise typer.Exit(1)


@audit_app.command("verify")
def audit_verify(
    ctx: typer.Context,
    as_json: Annotated[bool, typer.Option("--json", help="以 JSON 输出（供脚本读取）")] = False,
    against: Annotated[
        Path | None, typer.Option("--against", help="检查点文件：证明日志仍延续它")
    ] = None,
    file: Annotated[
        Path | None, typer.Option("--file", help="校验导出的日志文件（无需数据库）")
    ] = None,
) -> None:
    """校验哈希链；异常时退出码 1 并指出第一个异常事件序号。"""
    with _errors():
        checkpoint = None
        if against is not None:
            try:
                checkpoint = audit.Checkpoint.load(str(against))
            except ValueError as e:
                raise InvalidInput(str(e)) from None
        if file is not None:
            try:
                result = audit.verify_export(str(file), checkpoint)
            except OSError as e:
                raise InvalidInput(f"无法读取 {file}：{e.strerror}") from None
            _verify_output(result, as_json, str(file))
            return
        a = _state(ctx)
        with a.raw() as raw:
            result = audit.verify_db(raw, checkpoint)
        _verify_output(result, as_json, a.safe_url())


@audit_app.command("replay")
def audit_replay(
    ctx: typer.Context,
    task_ref: Annotated[
        str | None,
        typer.Option("--task", help="只重放这个任务（ID 或 2026001-001号）", show_default=False),
    ] = None,
    at: Annotated[str | None, typer.Option("--at", help="重放到这个时刻（ISO 8601）为止")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="以 JSON 输出（供脚本读取）")] = False,
) -> None:
    """仅凭日志重建任务状态并与数据表比对；不一致时退出码 1。"""
    with _errors():
        a = _state(ctx)
        task = None if task_ref is None else _task(a, task_ref)
        at_utc = None
        if at is not None:
            try:
                at_utc = format_utc(parse_time(at, a.settings.audit.timezone))
            except ValueError as e:
                raise InvalidInput(str(e)) from None
        with a.raw() as raw:
            result = run_replay(raw, task, at_utc)
            if task is not None and result.records:
                from workflow.core.replay import name_records

                name_records(raw, task, result.records)
        if task is not None and task not in result.tasks and not result.mismatches and at is None:
            raise NotFound(f"任务 {task} 不存在")
        if as_json:
            _print_json(result.as_json())
        else:
            scope = f"任务 {task}" if task is not None else "全部任务"
            when = f"截至 {at}" if at else "截至现在"
            typer.echo(f"重放{scope}（{when}，{result.events} 个事件）：")
            for tid, st in sorted(result.tasks.items()):
                typer.echo(f"  任务 {tid}: {st}")
            if result.records:
                _replayed_records(result.records, a.settings.audit.timezone)
            if not result.compared:
                typer.echo("  （按历史时刻重放，不与当前数据表比对）")
            elif result.ok:
                typer.echo("  与数据表一致。")
            for m in result.mismatches:
                typer.echo(f"  不一致：{m['message']}")
        if not result.ok:
            raise typer.Exit(1)


def _replayed_records(records: list[dict[str, Any]], tz: str) -> None:
    """``audit replay --task N``: each record as of the moment, one line each."""
    from zoneinfo import ZoneInfo

    from states._facts import OUTCOMES, RESULTS

    def when(text: str) -> str:  # a stated date stays as stated; a UTC time shown local
        if len(text) <= 10:
            return text
        return parse_time(text).astimezone(ZoneInfo(tz)).strftime("%Y-%m-%d %H:%M")

    typer.echo(f"  检查对象及检查组（{len(records)} 户）：")
    for r in records:
        group = "、".join(
            f"{n}（{c}）" if n else c for c, n in zip(r["group"], r["group_names"], strict=True)
        )
        result = RESULTS.get(r["result"], r["result"]) if r["result"] else "未录入"
        if r["result_note"]:
            result += f"（{r['result_note']}）"
        line = f"    {r['target_name']}（{r['target_code']}）  检查组：{group}  结果：{result}"
        if r["published_at"]:
            line += f"  公示：{when(r['published_at'])} {r['published_place'] or ''}".rstrip()
        else:
            line += "  公示：未公示"
        if r["followups"]:
            line += "  后续处置：" + "；".join(
                f"{OUTCOMES.get(f['outcome'], f['outcome'])} {f['date'] or ''}".rstrip()
                for f in r["followups"]
            )
        typer.echo(line)


@audit_app.command("export")
def audit_export(ctx: typer.Context, file: Path) -> None:
    """把审计日志导出为 JSON Lines 文件（每行一个事件，含哈希）。"""
    with _errors():
        tmp = file.with_name(file.name + ".part")
        n = 0
        with _state(ctx).raw() as raw:
            try:
                with open(tmp, "w", encoding="utf-8") as f:
                    for line in audit.export_lines(audit.iter_db_rows(raw)):
                        f.write(line)
                        n += 1
                tmp.replace(file)  # never leave a half-written export under the real name
            except OSError as e:
                tmp.unlink(missing_ok=True)
                raise InvalidInput(f"无法写入 {file}：{e.strerror}") from None
        typer.echo(f"已导出 {n} 个事件到 {file}。")


@audit_app.command("checkpoint")
def audit_checkpoint(
    ctx: typer.Context,
    out: Annotated[Path | None, typer.Option("--out", help="写入文件（默认打印）")] = None,
    signed_by: Annotated[str | None, typer.Option("--signed-by", help="签收人")] = None,
) -> None:
    """导出链头（序号、哈希、时间）作为检查点，供审计人员留存。"""
    with _errors():
        a = _state(ctx)
        with a.raw() as raw:
            result = audit.verify_db(raw)
        if not result.ok:
            typer.echo(
                f"错误：哈希链已损坏（序号 {result.first_bad_seq}：{result.reason}），不能签出检查点",
                err=True,
            )
            raise typer.Exit(1)
        cp = audit.Checkpoint(
            seq=result.head_seq,
            hash=result.head_hash,
            time=result.head_time,
            exported_at=format_utc(SystemClock().now()),
            signed_by=signed_by,
        )
        text = json.dumps(
            {
                "algorithm": cp.algorithm,
                "seq": cp.seq,
                "hash": cp.hash,
                "time": cp.time,
                "exported_at": cp.exported_at,
                "signed_by": cp.signed_by,
            },
            ensure_ascii=False,
            indent=2,
        )
        if out is None:
            typer.echo(text)
        else:
            try:
                out.write_text(text + "\n", encoding="utf-8")
            except OSError as e:
                raise InvalidInput(f"无法写入 {out}：{e.strerror}") from None
            typer.echo(f"检查点已写入 {out}：序号 {cp.seq}，哈希 {cp.hash}")


@audit_app.command("log")
def audit_log(
    ctx: typer.Context,
    task_ref: Annotated[
        str | None,
        typer.Option(
            "--task", help="只看这个任务（ID 或 2026001-001号；含其期限提醒、逾期与督办）"
        ),
    ] = None,
    limit: Annotated[
        int | None, typer.Option("--limit", help="只列最新的 N 个事件（仍按序号排列）")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="以 JSON 输出（供脚本读取）")] = False,
) -> None:
    """列出审计日志事件。"""

    def go(a: _App) -> None:
        if limit is not None and limit < 1:
            raise InvalidInput(f"--limit {limit} 无效：应为正整数（最新的 N 个事件）")
        a.require_schema()
        task = None if task_ref is None else _task(a, task_ref)
        events = queries.list_events(a.engine, task, limit)
        if as_json:
            _print_json(events)
            return
        for e in events:
            move = f"{e['from_state'] or '—'}→{e['to_state'] or '—'}"
            typer.echo(
                f"{e['seq']:>6} {_local(a, e['time'])} {e['actor']}({e['role']})"
                f" 任务 {e['task_id'] or e['payload'].get('task') or '—'}"
                f" {e['kind']} {move} {json.dumps(e['payload'], ensure_ascii=False)}"
                + (f" 原因：{e['reason']}" if e["reason"] else "")
            )

    _run(ctx, go)


def _parse_date(text: str, option: str) -> date:
    """A date option as clerks write it (2024-09-27, 2024/9/27, 2024年9月27日, full-width)."""
    try:
        return normalize.parse_date(text)
    except ValueError as e:
        raise InvalidInput(f"{option} 的日期 {text!r} 无效：{e}，如 2024-09-27") from None


def _seqs(first: int, last: int) -> str:
    """A run of event numbers: 91, or 91–97."""
    return f"第 {first} 号" if first == last else f"第 {first}–{last} 号"


def _result_label(code: str | None) -> str:
    """A result as people read it (the code stays in JSON)."""
    return "未录入" if code is None else normalize.RESULT.labels.get(code, code)


def _code_arg(text: str) -> str:
    """A target or certificate argument: a code is normalised (NFKC, no spaces, upper case);
    anything else (a name) is passed on trimmed."""
    folded = normalize.code(text)
    return folded if folded.isascii() and folded.isalnum() else text.strip()


def _local_today(a: _App, now: datetime) -> date:
    from zoneinfo import ZoneInfo

    return now.astimezone(ZoneInfo(a.settings.calendar.timezone)).date()


import workflow.cli.config  # noqa: E402,F401  (registers config show)
from workflow.cli import deadlines as cli_deadlines  # noqa: E402,F401  (registers calendar, sweep, outbox, ...)


def main() -> None:
    app(prog_name="ssj")


if __name__ == "__main__":
    # Run through the importable module, so commands registered on ``workflow.cli.main.app`` by
    # other modules (workflow/cli/deadlines.py) are on the app that runs. (Imported under its
    # own name: ``_main`` is the root callback above.)
    from workflow.cli.main import main as run_main

    run_main()  # the typer app exits with the command's status
