"""``ssj init``, ``ssj demo``, ``ssj walkthrough``: setting up a database."""

from __future__ import annotations

from typing import Annotated

import sqlalchemy.exc
import typer

from workflow.app import AppContext
from workflow.cli.base import (
    app,
    run_in_app,
)
from workflow.core import queries, schema
from workflow.core.errors import InvalidInput

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

    def go(a: AppContext) -> None:
        if purpose_ is not None:
            purpose.check(purpose_)
        a.may_create = True
        offices = {k: v.model_dump() for k, v in a.settings.offices.items()}
        try:
            before, after = schema.upgrade(a.engine, offices=offices)
        except (sqlalchemy.exc.IntegrityError, RuntimeError) as e:
            # One transaction: nothing of the upgrade stays.
            reason = getattr(e, "orig", None) or e
            raise InvalidInput(
                f"数据库 {a.safe_url()} 升级失败，已回滚，数据库未改变：{reason}"
            ) from None
        if before == after:
            typer.echo(f"数据库 {a.safe_url()} 已是最新结构（{after}）。")
        else:
            typer.echo(f"数据库 {a.safe_url()} 已升级：{before or '空库'} → {after}。")
        if offices and schema.units_created(before, after):
            typer.echo(f"配置文件中的 {len(offices)} 个科室已登记为单位（ssj unit list 查看）。")
        elif offices:
            typer.echo(
                "提示：配置文件中的 offices 已不再使用（只在升级到单位管理时读取一次）；"
                "科室改由单位管理（ssj unit list 查看），可从配置文件中删去 offices。"
            )
        value, written = purpose.settle(a.engine, purpose_)
        typer.echo(f"数据库用途：{purpose.label(value)}" + ("（已记录）。" if written else "。"))

    run_in_app(ctx, go)


@app.command()
def demo(
    ctx: typer.Context,
    if_empty: Annotated[bool, typer.Option("--if-empty", help="库中已有计划时不再加载")] = False,
    now: Annotated[
        str | None,
        typer.Option("--now", help="以此时刻为“今天”构建演示数据（ISO 8601；无时区按北京时间）"),
    ] = None,
    walk: Annotated[
        bool,
        typer.Option("--walkthrough", help="加载后接着运行演示流程（已有数据而跳过加载时不运行）"),
    ] = False,
) -> None:
    """加载演示数据：取自来源文件的计划、任务，处于各个状态，日期相对今天（本年度）。"""
    from workflow.demo import load_demo

    def go(a: AppContext) -> None:
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
        from workflow.core.permissions import ROLES
        from workflow.demo import demo_accounts

        typer.echo("演示账号（密码只显示这一次；网页登录或 ssj --as 账号 使用）：")
        for username, password, role, unit in demo_accounts(a.wf):
            typer.echo(f"  {ROLES[role]:<6} 账号 {username:<11} 密码 {password}  单位 {unit}")
        if walk:  # `make run`: once, on the demo just made, not at every start
            _walk(a)

    run_in_app(ctx, go)


def _walk(a: AppContext) -> None:
    """The walkthrough, its one step taken by the demo's clerk."""
    from workflow.core import accounts, identity
    from workflow.demo import DEMO_CLERK
    from workflow.demo import walkthrough as run

    with a.raw() as raw, raw.read() as cur:
        clerk = accounts.actor(cur, raw.sql, DEMO_CLERK)
    with identity.acting_as(clerk):
        run(a.wf, typer.echo)


@app.command()
def walkthrough(ctx: typer.Context) -> None:
    """演示流程：列出任务，执行一次状态转换，校验哈希链，重放日志。"""
    run_in_app(ctx, _walk)
