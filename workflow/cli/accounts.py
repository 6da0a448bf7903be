"""``ssj user`` and ``ssj token``: accounts and API tokens (DESIGN §8).

Passwords are read from a prompt (typed twice, not echoed) or, with ``--password-stdin``, from
the first line of standard input — never from an argument, which other users of the machine
can read in the process list and which shells keep in their history. Tokens are printed once.
"""

from __future__ import annotations

import sys
from typing import Annotated

import typer

from workflow.app import AppContext
from workflow.cli.base import app, print_json, run_in_app
from workflow.core import accounts
from workflow.core.clock import SystemClock, format_utc
from workflow.core.errors import InvalidInput
from workflow.core.permissions import ACCOUNT_ROLES, ROLES

user_app = typer.Typer(help="账号：新增、查看、停用、重置密码。", no_args_is_help=True)
token_app = typer.Typer(
    help="API 令牌（供脚本调用 /api/v1）：创建、查看、吊销。", no_args_is_help=True
)
app.add_typer(user_app, name="user")
app.add_typer(token_app, name="token")

PasswordStdin = Annotated[
    bool,
    typer.Option("--password-stdin", help="从标准输入的第一行读取密码（不在命令行中出现）"),
]
_ROLE_HELP = "角色：" + "、".join(f"{r}（{ROLES[r]}）" for r in ACCOUNT_ROLES)


def _now() -> str:
    # Accounts are not rehearsed: their changes carry the real time.
    return format_utc(SystemClock().now())


def _password(from_stdin: bool, prompt: str = "密码") -> str:
    if from_stdin:
        line = sys.stdin.readline()
        if not line:
            raise InvalidInput(
                "标准输入中没有密码（--password-stdin 读取第一行）", field="password"
            )
        return line.rstrip("\r\n")
    password: str = typer.prompt(prompt, hide_input=True, confirmation_prompt=True, err=True)
    return password


def _line(u: accounts.Account) -> str:
    bits = [
        f"{u.username}（{u.name}）",
        ROLES.get(u.role, u.role),
        f"{u.unit_name}（{u.unit_code}）",
    ]
    if u.inspector_cert:
        bits.append(f"执法证 {u.inspector_cert}")
    if u.disabled:
        bits.append("已停用")
    elif not u.has_password:
        bits.append("未设密码")
    return "  ".join(bits)


@user_app.command("add")
def user_add(
    ctx: typer.Context,
    username: Annotated[str, typer.Argument(metavar="USERNAME", help="账号名（登录用）")],
    role: Annotated[str, typer.Option("--role", help=_ROLE_HELP)],
    unit: Annotated[str, typer.Option("--unit", help="所属单位代码（ssj unit list 查看）")],
    name: Annotated[str, typer.Option("--name", help="姓名（默认同账号名）")] = "",
    email: Annotated[str, typer.Option("--email", help="电子邮箱")] = "",
    inspector: Annotated[
        str | None,
        typer.Option("--inspector", help="执法人员账号关联的名录人员：执法证号（或唯一的姓名）"),
    ] = None,
    password_stdin: PasswordStdin = False,
    no_password: Annotated[
        bool, typer.Option("--no-password", help="暂不设密码（之后用 reset-password 设置）")
    ] = False,
) -> None:
    """新增账号（密码经提示输入两次，或 --password-stdin；记入审计日志，日志中不含密码）。"""

    def go(a: AppContext) -> None:
        accounts.parse_username(username)  # before asking for a password
        accounts.parse_role(role)
        password = None if no_password else _password(password_stdin)
        new = accounts.NewAccount(username, name, role, unit, password, email, inspector)
        u = accounts.add(a.wf.raw, new, by=a.actor, now=_now())
        typer.echo(f"已新增账号：{_line(u)}。")

    run_in_app(ctx, go)


@user_app.command("list")
def user_list(
    ctx: typer.Context,
    as_json: Annotated[bool, typer.Option("--json", help="以 JSON 输出（供脚本读取）")] = False,
) -> None:
    """列出本单位及下级单位的账号。"""

    def go(a: AppContext) -> None:
        with a.raw() as raw, raw.read() as cur:
            found = accounts.listing(cur, raw.sql, a.actor)
        if as_json:
            print_json([u.as_json() for u in found])
            return
        for u in found:
            typer.echo(_line(u))
        typer.echo(f"共 {len(found)} 个账号。")

    run_in_app(ctx, go)


@user_app.command("show")
def user_show(
    ctx: typer.Context,
    username: Annotated[str, typer.Argument(metavar="USERNAME")],
    as_json: Annotated[bool, typer.Option("--json", help="以 JSON 输出（供脚本读取）")] = False,
) -> None:
    """查看一个账号。"""

    def go(a: AppContext) -> None:
        with a.raw() as raw, raw.read() as cur:
            u = accounts.get(cur, raw.sql, username, a.actor)
        if as_json:
            print_json(u.as_json())
        else:
            typer.echo(_line(u))

    run_in_app(ctx, go)


def _set_disabled(ctx: typer.Context, username: str, disabled: bool, reason: str | None) -> None:
    def go(a: AppContext) -> None:
        u = accounts.set_disabled(
            a.wf.raw, username, disabled, by=a.actor, now=_now(), reason=reason
        )
        typer.echo(f"账号已{'停用' if disabled else '启用'}：{_line(u)}。")

    run_in_app(ctx, go)


@user_app.command("disable")
def user_disable(
    ctx: typer.Context,
    username: Annotated[str, typer.Argument(metavar="USERNAME")],
    reason: Annotated[str | None, typer.Option("--reason", help="停用原因")] = None,
) -> None:
    """停用账号：立即退出其所有登录，其 API 令牌失效（账号不删除，日志仍指向它）。"""
    _set_disabled(ctx, username, True, reason)


@user_app.command("enable")
def user_enable(
    ctx: typer.Context,
    username: Annotated[str, typer.Argument(metavar="USERNAME")],
    reason: Annotated[str | None, typer.Option("--reason", help="启用原因")] = None,
) -> None:
    """重新启用停用的账号。"""
    _set_disabled(ctx, username, False, reason)


@user_app.command("reset-password")
def user_reset_password(
    ctx: typer.Context,
    username: Annotated[str, typer.Argument(metavar="USERNAME")],
    password_stdin: PasswordStdin = False,
) -> None:
    """为账号设置新密码（管理员；该账号的所有登录随即失效）。"""

    def go(a: AppContext) -> None:
        with a.raw() as raw, raw.read() as cur:
            accounts.get(cur, raw.sql, username, a.actor)  # before asking for a password
        password = _password(password_stdin, "新密码")
        accounts.set_password(a.wf.raw, username, password, by=a.actor, now=_now())
        typer.echo(f"账号 {username} 的密码已重置；其所有登录已退出。")

    run_in_app(ctx, go)


@user_app.command("password")
def user_password(ctx: typer.Context, password_stdin: PasswordStdin = False) -> None:
    """修改本人密码（先输入当前密码；--password-stdin 时第一行为当前密码，第二行为新密码）。"""

    def go(a: AppContext) -> None:
        assert a.actor is not None  # the matrix requires an account
        if password_stdin:
            current = sys.stdin.readline().rstrip("\r\n")
            new = sys.stdin.readline().rstrip("\r\n")
        else:
            current = typer.prompt("当前密码", hide_input=True, err=True)
            new = _password(False, "新密码")
        accounts.set_password(
            a.wf.raw, a.actor.username, new, by=a.actor, now=_now(), current=current
        )
        typer.echo("密码已修改；原有登录已全部退出。")

    run_in_app(ctx, go)


@token_app.command("create")
def token_create(
    ctx: typer.Context,
    name: Annotated[str, typer.Option("--name", help="用途，如 月报脚本")] = "API",
    user: Annotated[
        str | None, typer.Option("--user", help="为该账号创建（管理员；默认本人）")
    ] = None,
) -> None:
    """为本人（或管理员为下级账号）创建 API 令牌；令牌只显示这一次，请妥善保存。"""

    def go(a: AppContext) -> None:
        assert a.actor is not None
        text, token = accounts.create_token(
            a.wf.raw, user or a.actor.username, name, by=a.actor, now=_now()
        )
        typer.echo(text)
        typer.echo(
            f"已为账号 {token.username} 创建令牌 ssj_{token.lookup}（{token.name}）：上面一行只显示"
            "这一次；调用 API 时作为 Authorization: Bearer 令牌 发送。",
            err=True,
        )

    run_in_app(ctx, go)


@token_app.command("list")
def token_list(
    ctx: typer.Context,
    user: Annotated[str | None, typer.Option("--user", help="该账号的令牌（管理员）")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="以 JSON 输出（供脚本读取）")] = False,
) -> None:
    """列出本人（或某账号）的令牌（只显示前缀）。"""

    def go(a: AppContext) -> None:
        assert a.actor is not None
        with a.raw() as raw, raw.read() as cur:
            found = accounts.tokens(cur, raw.sql, user or a.actor.username, by=a.actor)
        if as_json:
            print_json([t.as_json() for t in found])
            return
        for t in found:
            state = f"已吊销 {t.revoked_at}" if t.revoked_at else "有效"
            typer.echo(f"ssj_{t.lookup}  {t.name}  {t.username}  创建于 {t.created_at}  {state}")
        typer.echo(f"共 {len(found)} 个令牌。")

    run_in_app(ctx, go)


@token_app.command("revoke")
def token_revoke(
    ctx: typer.Context,
    token: Annotated[
        str, typer.Argument(metavar="TOKEN", help="令牌前缀 ssj_…（token list 所示）")
    ],
) -> None:
    """吊销令牌：此后用它的请求一律拒绝。"""

    def go(a: AppContext) -> None:
        t = accounts.revoke_token(a.wf.raw, token, by=a.actor, now=_now())
        typer.echo(f"令牌 ssj_{t.lookup}（{t.username}，{t.name}）已吊销。")

    run_in_app(ctx, go)
