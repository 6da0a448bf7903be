"""The ``ssj`` command line: the app, its root options, and what every command group shares. Command and option names are a contract: auditors' scripts call them.

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

from workflow.app import AppContext
from workflow.core import normalize, refs
from workflow.core.actions import ACTIONS
from workflow.core.config import ConfigError, load_with_sources
from workflow.core.errors import Conflict, InvalidInput, SsjError, Unauthenticated
from workflow.core.logging import configure_logging


class _RootGroup(TyperGroup):
    """``--as USER`` may come anywhere (``ssj draw 5 --as 王芳``, ``ssj token create --as
    USER``): it is the root's option, moved in front of the command before parsing."""

    def parse_args(self, ctx: typer.Context, args: list[str]) -> list[str]:  # type: ignore[override]
        front: list[str] = []
        rest: list[str] = []
        i = 0
        while i < len(args):
            arg = args[i]
            if arg == "--":
                rest.extend(args[i:])
                break
            if arg == "--as" and i + 1 < len(args):
                front += [arg, args[i + 1]]
                i += 2
                continue
            if arg.startswith("--as="):
                front.append(arg)
            else:
                rest.append(arg)
            i += 1
        return super().parse_args(ctx, front + rest)


app = typer.Typer(
    cls=_RootGroup,
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
        "双随机抽取：ssj draw TASK --public-input 公开信息 执行抽取"
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


REHEARSAL = (
    "演练：这是正式库，--now 只演练，不写入任何数据（不记审计日志、不记督办步骤、"
    "不入队、不发送邮件）；以下是按该时刻运行将会发生的情况。"
)


def announce_rehearsal(a: AppContext, now: str | None, *, to_stderr: bool = False) -> bool:
    """``--now`` on a writing command; a rehearsal on a live database says so (on stderr when
    stdout is JSON)."""
    dry = a.rehearsal(now)
    if dry:
        typer.echo(REHEARSAL, err=to_stderr)
    return dry


def app_context(ctx: typer.Context) -> AppContext:
    a: AppContext = ctx.find_root().obj  # set by the root callback, _main
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


def _authorize() -> None:
    """The account the command acts as (``--as`` / ``SSJ_USER``), checked against the role ×
    action matrix for the command's action (workflow/cli/access.py) and bound for the rest of
    the command: every event it writes names the account."""
    from workflow.cli import access
    from workflow.core import accounts, identity, permissions

    try:
        from typer.main import get_current_context  # type: ignore[attr-defined]
    except ImportError:  # pragma: no cover
        from click import get_current_context  # type: ignore[no-redef]

    ctx = get_current_context(silent=True)
    if ctx is None or not isinstance(ctx.find_root().obj, AppContext):
        return
    a: AppContext = ctx.find_root().obj
    if a.actor is not None:
        return  # already bound (a command that checks twice)
    # A new command acts as nobody until its account is checked: callers that run several
    # commands in one process (CliRunner, the test suite) must not inherit the last one's.
    identity.bind(None)
    names = []
    c: Any = ctx
    while c.parent is not None:
        names.append(c.info_name)
        c = c.parent
    command = " ".join(reversed(names))
    action = access.action_of(command, ctx.params)
    if action is None:
        return
    if not a.as_user:
        if command == "user add" and _first_account(a):
            # The first account, created from the server's console, administers the rest.
            if accounts.parse_role(str(ctx.params.get("role") or "")) != "admin":
                raise InvalidInput(
                    "数据库中还没有账号：第一个账号须为系统管理员（--role admin），"
                    "其余账号由管理员以 --as 创建",
                    field="role",
                    value=ctx.params.get("role"),
                )
            return
        raise Unauthenticated(
            f"{ACTIONS[action]}需要指明以哪个账号操作（账号由管理员创建）", needs="as"
        )
    with a.raw() as raw, raw.read() as cur:
        who = accounts.actor(cur, raw.sql, a.as_user)
    permissions.require(who, action)
    a.actor = who
    identity.bind(who)


def _first_account(a: AppContext) -> bool:
    from workflow.core import accounts

    with a.raw() as raw, raw.read() as cur:
        return accounts.count(cur, raw.sql) == 0


@contextmanager
def reported_errors() -> Iterator[None]:
    from workflow.core import identity

    # The account bound by _authorize is the command's only: unbound again when it ends, so a
    # process that runs several commands (tests, a script importing the app) does not carry one
    # command's account into the next, nor into engine-level code run after it.
    outer = identity.current()
    try:
        _check_params()
        _authorize()
        yield
    except SsjError as e:
        from workflow.cli import hints

        typer.echo(f"错误：{hints.render(e)}", err=True)
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
    finally:
        identity.bind(outer)


def run_in_app(ctx: typer.Context, fn: Callable[[AppContext], T]) -> T:
    with reported_errors():
        return fn(app_context(ctx))


def print_json(value: Any) -> None:
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


def task_id_of(a: AppContext, ref: str) -> int:
    """The task ``ref`` names, within the acting account's unit subtree."""
    a.require_schema()
    return refs.scoped_task_id(a.engine, ref, a.actor)


def target_code_of(a: AppContext, task_id: int, ref: str) -> str:
    return refs.target_code(a.engine, ref, task_id)


def local_time(a: AppContext, stored: str | None) -> str:
    """A stored UTC time as shown to people: Asia/Shanghai (config calendar.timezone), minutes."""
    return refs.local_time(stored, a.settings.calendar.timezone)


@app.callback()
def _main(
    ctx: typer.Context,
    db: Annotated[
        str | None,
        typer.Option("--db", help="数据库地址（默认取环境变量 SSJ_DB_URL 或 config.yaml）"),
    ] = None,
    config: Annotated[Path | None, typer.Option("--config", help="配置文件路径")] = None,
    as_user: Annotated[
        str | None,
        typer.Option(
            "--as",
            envvar="SSJ_USER",
            help="以哪个账号操作（默认取环境变量 SSJ_USER）；账号由管理员创建（ssj user add）",
        ),
    ] = None,
) -> None:
    try:
        settings, sources = load_with_sources(config)
    except ConfigError as e:
        typer.echo(f"错误：{e}", err=True)
        raise typer.Exit(2) from None
    configure_logging(settings.log)
    from workflow.sampling import directories

    directories.configure_limits(settings.imports)
    ctx.obj = AppContext(settings, db or settings.db.url)
    ctx.obj.config_sources, ctx.obj.db_override = sources, db  # for GET /api/v1/config
    ctx.obj.as_user = as_user
    ctx.call_on_close(ctx.obj.close)


def parse_date_option(text: str, option: str) -> date:
    """A date option as clerks write it (2024-09-27, 2024/9/27, 2024年9月27日, full-width)."""
    try:
        return normalize.parse_date(text)
    except ValueError as e:
        raise InvalidInput(f"{option} 的日期 {text!r} 无效：{e}，如 2024-09-27") from None


def seq_range(first: int, last: int) -> str:
    """A run of event numbers: 91, or 91–97."""
    return f"第 {first} 号" if first == last else f"第 {first}–{last} 号"


def result_label(code: str | None) -> str:
    """A result as people read it (the code stays in JSON)."""
    return "未录入" if code is None else normalize.RESULT.labels.get(code, code)


def local_today(a: AppContext, now: datetime) -> date:

    return now.astimezone(ZoneInfo(a.settings.calendar.timezone)).date()


def acting(a: AppContext) -> str:
    """The account the command acts as (bound by ``_authorize``): the writer's actor."""
    if a.actor is None:
        raise Unauthenticated("需要指明以哪个账号操作", needs="as")
    return a.actor.username
