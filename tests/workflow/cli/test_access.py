"""Who may run which command (DESIGN §8): every command of the app names its action in
workflow/cli/access.py, every action is one of workflow/core/actions.py, and the command line
enforces the role × action matrix; ``ssj user`` and ``ssj token`` from end to end."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import typer.main

from tests.conftest import add_account
from tests.workflow.cli.runner import invoke, root_code, ssj
from workflow.cli import access
from workflow.cli.main import app
from workflow.core import accounts, permissions
from workflow.core.actions import ACTIONS
from workflow.core.config import DbSettings
from workflow.core.db import RawConnection, make_engine
from workflow.core.errors import Unauthenticated


def registered() -> dict[str, Any]:
    """Every command of the app by its path ("draw run"), walking the groups."""

    def walk(group: Any, path: tuple[str, ...]) -> dict[str, Any]:
        found: dict[str, Any] = {}
        for name, cmd in group.commands.items():
            if hasattr(cmd, "commands"):
                found |= walk(cmd, (*path, name))
            else:
                found[" ".join((*path, name))] = cmd
        return found

    return walk(typer.main.get_command(app), ())


COMMANDS = registered()


def actions_of(command: str) -> set[str | None]:
    """The actions a command may take: a rule that depends on the parameters (a check of a
    file needs no account) is asked with and without them."""
    rule = access.COMMANDS[command]
    if not callable(rule):
        return {rule}
    return {rule({"file": None}), rule({"file": Path("log.jsonl")})}


def test_every_command_has_an_entry_and_every_entry_a_command():
    assert len(COMMANDS) > 40 and "draw run" in COMMANDS and "token revoke" in COMMANDS
    assert sorted(set(COMMANDS) - set(access.COMMANDS)) == []  # a command the table misses
    assert sorted(set(access.COMMANDS) - set(COMMANDS)) == []  # an entry for no command
    with pytest.raises(KeyError, match=r"no entry in workflow/cli/access\.py"):
        access.action_of("draw rerun", {})


def test_every_action_named_exists_and_some_account_may_take_it():
    named = {a for command in COMMANDS for a in actions_of(command)} - {None}
    assert sorted(named - set(ACTIONS)) == []
    for action in named:
        roles = set(permissions.roles_for(action)) & set(permissions.ACCOUNT_ROLES)
        assert roles, f"{action}: no account's role may take it"
    # A check of a file needs no account; of the database, the action.
    assert actions_of("audit verify") == {None, "audit.verify"}
    assert actions_of("draw verify") == {None, "draw.read"}


def test_the_commands_that_need_no_account_are_the_operators_own_tools():
    free = {c for c in COMMANDS if actions_of(c) == {None}}
    assert free == {
        "init",
        "demo",
        "walkthrough",
        "template",
        "scheduler",
        "serve",
        "config show",
        "calendar add",
        "calendar check",
    }


def _dummy_args(command: str) -> list[str]:
    """The command with every argument and required option given (as "1"): what reaches the
    command's body, where the account is checked."""
    args = command.split()
    for p in COMMANDS[command].params:
        if p.param_type_name == "argument":
            args.append("1")
        elif p.required:
            args += [p.opts[0], "1"]
    return args


GUARDED = sorted(c for c in COMMANDS if actions_of(c) != {None})


@pytest.fixture
def staffed(db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    """A database with one account per role (the inspector linked to the directory); the
    working directory is the test's own (a command given "1" as a file writes nothing else)."""
    monkeypatch.chdir(tmp_path)
    ssj(db_url, "init")
    for role in ("admin", "clerk", "supervisor", "auditor"):
        add_account(db_url, role, role)
    people = tmp_path / "inspectors.csv"
    people.write_text("执法证号,姓名,执法领域\nJ1,甲,监察\n", encoding="utf-8")
    ssj(db_url, "import", "inspectors", str(people), "--as", "clerk")
    add_account(db_url, "inspector", "inspector", inspector="J1")
    return db_url


def test_every_guarded_command_refuses_to_run_without_an_account(staffed):
    for command in GUARDED:
        (action,) = actions_of(command) - {None}
        out = ssj(staffed, *_dummy_args(command), code=2)
        assert f"{ACTIONS[action]}需要指明以哪个账号操作" in out, command
        assert "--as 账号 或环境变量 SSJ_USER" in out, command


def test_every_guarded_command_enforces_the_matrix(staffed):
    """For each command, a role the matrix refuses is refused with 无权 and exit 2; a role it
    allows gets past the check (the dummy arguments then fail or not, for other reasons)."""
    for command in GUARDED:
        (action,) = actions_of(command) - {None}
        allowed = [r for r in permissions.ACCOUNT_ROLES if permissions.allowed(r, action)]
        refused = [r for r in permissions.ACCOUNT_ROLES if r not in allowed]
        if refused:
            out = ssj(staffed, *_dummy_args(command), "--as", refused[0], code=2)
            assert (
                f"账号 {refused[0]}（{permissions.ROLES[refused[0]]}）无权{ACTIONS[action]}" in out
            )
        r = invoke(["--db", staffed, *_dummy_args(command), "--as", allowed[0]], input="")
        assert "无权" not in r.output and "需要指明" not in r.output, (command, r.output)


# ---------------------------------------------------------------------------------------------
# ssj user, ssj token


ADMIN_PW = "管理员-Passw0rd-甲"
CLERK_PW = "luru-first-Secret"
CLERK_RESET = "luru-reset-Secret2"
CLERK_OWN = "luru-own-Secret3"
PASSWORDS = (ADMIN_PW, CLERK_PW, CLERK_RESET, CLERK_OWN)


class Session:
    """The CLI on one database, keeping everything it printed (stdout and stderr)."""

    def __init__(self, db_url: str) -> None:
        self.db_url = db_url
        self.printed: list[str] = []

    def __call__(self, *args: str, code: int = 0, input: str | None = None) -> str:
        r = invoke(["--db", self.db_url, *args], input=input)
        self.printed.append(r.output)
        assert r.exit_code == code, (args, r.output)
        return str(r.stdout if code == 0 else r.output)


def _raw(db_url: str) -> tuple[Any, RawConnection]:
    engine = make_engine(DbSettings(), db_url)
    return engine, RawConnection(engine)


def _signs_in(db_url: str, username: str, password: str) -> bool:
    engine, raw = _raw(db_url)
    try:
        accounts.login(raw, username, password, address="test", now="2026-01-01T00:00:00Z")
        return True
    except Unauthenticated:
        return False
    finally:
        raw.close()
        engine.dispose()


def _token_account(db_url: str, token: str) -> str | None:
    engine, raw = _raw(db_url)
    try:
        with raw.read() as cur:
            return accounts.token_actor(cur, raw.sql, token).username
    except Unauthenticated:
        return None
    finally:
        raw.close()
        engine.dispose()


def test_users_and_tokens_from_end_to_end(db_url, tmp_path):
    ssj_ = Session(db_url)
    ssj_("init")
    root = root_code(db_url)
    admin, clerk, auditor = ("--as", "admin"), ("--as", "luru"), ("--as", "shenji")

    # The first account is created from the server's console, without --as, and administers
    # the rest: it must be an administrator. Not the second.
    out = ssj_("user", "add", "luru", "--role", "clerk", "--unit", root, "--no-password", code=2)
    assert "第一个账号须为系统管理员（--role admin）" in out
    out = ssj_("user", "add", "admin", "--role", "admin", "--unit", root, "--name", "王管理",
               "--password-stdin", input=ADMIN_PW + "\n")  # fmt: skip
    assert out.startswith("已新增账号：admin（王管理）  系统管理员")
    out = ssj_("user", "add", "luru", "--role", "clerk", "--unit", root, "--no-password", code=2)
    assert "管理账号需要指明以哪个账号操作" in out and "--as" in out and "SSJ_USER" in out
    ssj_("user", "add", "luru", "--role", "录入员", "--unit", root, "--name", "李录入",
         "--password-stdin", *admin, input=CLERK_PW + "\n")  # fmt: skip
    ssj_("user", "add", "shenji", "--role", "auditor", "--unit", root, "--no-password", *admin)
    assert "已存在" in ssj_("user", "add", "luru", "--role", "clerk", "--unit", root,
                            "--no-password", *admin, code=2)  # fmt: skip
    # A clerk manages no accounts.
    out = ssj_("user", "add", "x2", "--role", "clerk", "--unit", root, "--no-password", *clerk,
               code=2)  # fmt: skip
    assert "账号 luru（录入员）无权管理账号" in out
    assert "无权查看账号" in ssj_("user", "list", *clerk, code=2)
    # An inspector's account is linked to their entry in the directory.
    out = ssj_("user", "add", "zhifa", "--role", "inspector", "--unit", root, "--no-password",
               *admin, code=2)  # fmt: skip
    assert "须关联执法检查人员名录中的人员" in out
    people = tmp_path / "inspectors.csv"
    people.write_text("执法证号,姓名,执法领域\nJ7,赵执法,监察\n", encoding="utf-8")
    ssj_("import", "inspectors", str(people), *clerk)
    out = ssj_("user", "add", "zhifa", "--role", "inspector", "--unit", root, "--inspector",
               "赵执法", "--no-password", *admin)  # fmt: skip
    assert "执法证 J7" in out and "未设密码" in out

    listed = json.loads(ssj_("user", "list", "--json", *admin))
    assert [(u["username"], u["role"], u["disabled"]) for u in listed] == [
        ("admin", "admin", False),
        ("luru", "clerk", False),
        ("shenji", "auditor", False),
        ("zhifa", "inspector", False),
    ]
    assert "共 4 个账号" in ssj_("user", "list", *admin)
    shown = json.loads(ssj_("user", "show", "luru", "--json", *admin))
    assert shown == {**shown, "name": "李录入", "role": "clerk", "unit": root, "inspector": None}
    assert "shenji（shenji）  审计" in ssj_("user", "show", "shenji", *admin)
    assert _signs_in(db_url, "luru", CLERK_PW) and _signs_in(db_url, "admin", ADMIN_PW)

    # Passwords: the administrator's reset, then the person's own change (the current first).
    out = ssj_("user", "reset-password", "luru", "--password-stdin", *admin,
               input=CLERK_RESET + "\n")  # fmt: skip
    assert "账号 luru 的密码已重置" in out
    assert not _signs_in(db_url, "luru", CLERK_PW) and _signs_in(db_url, "luru", CLERK_RESET)
    out = ssj_("user", "password", "--password-stdin", *clerk,
               input=f"{CLERK_PW}\n{CLERK_OWN}\n", code=2)  # fmt: skip
    assert "当前密码不正确" in out
    assert "密码太短" in ssj_("user", "password", "--password-stdin", *clerk,
                              input=f"{CLERK_RESET}\nshort\n", code=2)  # fmt: skip
    out = ssj_("user", "password", "--password-stdin", *clerk,
               input=f"{CLERK_RESET}\n{CLERK_OWN}\n")  # fmt: skip
    assert "密码已修改" in out
    assert _signs_in(db_url, "luru", CLERK_OWN) and not _signs_in(db_url, "luru", CLERK_RESET)

    # Tokens: the text printed once (stdout, one line, kept out of ``printed``); listed by
    # prefix only.
    r = invoke(["--db", db_url, "token", "create", "--name", "月报脚本", *clerk])
    assert r.exit_code == 0, r.output
    token = r.stdout.strip()
    ssj_.printed.append(r.stderr)
    assert token.startswith("ssj_") and "\n" not in token
    prefix = "_".join(token.split("_")[:2])
    assert f"令牌 {prefix}（月报脚本）" in r.stderr and token not in r.stderr
    assert _token_account(db_url, token) == "luru"
    listed = ssj_("token", "list", *clerk)
    assert prefix in listed and token not in listed and "有效" in listed
    (row,) = json.loads(ssj_("token", "list", "--json", *clerk))
    assert row == {**row, "prefix": prefix, "name": "月报脚本", "username": "luru",
                   "revoked": False}  # fmt: skip
    assert token not in json.dumps(row)
    # Another account's tokens are an administrator's to manage, not a clerk's.
    assert "无权管理账号" in ssj_("token", "list", "--user", "admin", *clerk, code=2)
    assert prefix in ssj_("token", "list", "--user", "luru", *admin)
    out = ssj_("token", "revoke", prefix, *clerk)
    assert f"令牌 {prefix}（luru，月报脚本）已吊销" in out
    assert "已吊销" in ssj_("token", "list", *clerk)
    (row,) = json.loads(ssj_("token", "list", "--json", *clerk))
    assert row["revoked"] and row["revoked_at"]
    assert _token_account(db_url, token) is None  # a revoked token opens nothing

    # A disabled account is refused at once, everywhere; enabled again, it signs in with its
    # password, but the tokens that were out when it was disabled stay revoked.
    r = invoke(["--db", db_url, "token", "create", *clerk])
    second = r.stdout.strip()
    ssj_.printed.append(r.stderr)  # the one line that shows it aside
    assert "不能停用自己的账号" in ssj_("user", "disable", "admin", *admin, code=2)
    out = ssj_("user", "disable", "luru", "--reason", "调岗", *admin)
    assert "账号已停用" in out and "已停用" in ssj_("user", "show", "luru", *admin)
    out = ssj_("task", "list", *clerk, code=2)
    assert "账号 luru 已停用" in out
    assert "账号 luru 已停用" in ssj_("user", "password", "--password-stdin", *clerk,
                                       input="a\nb\n", code=2)  # fmt: skip
    assert not _signs_in(db_url, "luru", CLERK_OWN) and _token_account(db_url, second) is None
    assert "账号已启用" in ssj_("user", "enable", "luru", *admin)
    assert ssj_("task", "list", "--json", *clerk).strip() == "[]"
    assert _token_account(db_url, second) is None
    assert "已吊销" in ssj_("token", "list", *clerk)

    # An administrator of a county manages the accounts of that county only.
    ssj_("unit", "edit", root, "--kind", "省级", "--name", "某省人力资源和社会保障厅", *admin)
    ssj_("unit", "add", "130227", "迁西县人社局", "--kind", "县级", "--parent", root, *admin)
    ssj_("unit", "add", "130132", "元氏县人社局", "--kind", "县级", "--parent", root, *admin)
    ssj_("user", "add", "qx-admin", "--role", "admin", "--unit", "130227", "--no-password", *admin)
    county = ("--as", "qx-admin")
    out = ssj_("user", "add", "ys-clerk", "--role", "clerk", "--unit", "130132", "--no-password",
               *county, code=2)  # fmt: skip
    assert "单位 '130132' 不存在" in out
    ssj_("user", "add", "qx-clerk", "--role", "clerk", "--unit", "130227", "--no-password", *county)
    listed = json.loads(ssj_("user", "list", "--json", *county))
    assert [u["username"] for u in listed] == ["qx-admin", "qx-clerk"]
    assert "账号 'luru' 不存在" in ssj_("user", "show", "luru", *county, code=2)
    assert "账号 'luru' 不存在" in ssj_("user", "disable", "luru", *county, code=2)
    assert "'ys-clerk' 不存在" in ssj_("user", "show", "ys-clerk", *admin, code=2)
    # ... and the units of that county only: another county's do not exist for it.
    ssj_("unit", "add", "130227-01", "综合科", "--kind", "科室", "--parent", "130227", *county)
    assert "单位 '130132' 不存在" in ssj_("unit", "add", "130132-01", "综合科", "--kind", "科室",
                                          "--parent", "130132", *county, code=2)  # fmt: skip
    assert "单位 '130132' 不存在" in ssj_("unit", "edit", "130132", "--head", "某人", *county,
                                          code=2)  # fmt: skip

    # The audit log has every change — and no password, hash or token.
    log = json.loads(ssj_("audit", "log", "--json", *auditor))
    kinds = [e["kind"] for e in log if e["kind"].startswith(("account_", "token_"))]
    assert kinds.count("account_added") == 6 and kinds.count("token_created") == 2
    assert kinds.count("token_revoked") == 1
    changed = [e for e in log if e["kind"] == "account_changed"]
    assert [(e["actor"], e["payload"]["after"]) for e in changed] == [
        ("admin", {"password": "reset"}),
        ("luru", {"password": "changed"}),
        ("admin", {"disabled": True}),
        ("admin", {"disabled": False}),
    ]
    first = log[0]
    assert (first["kind"], first["actor"], first["payload"]["after"]["password"]) == (
        "account_added", "console", True,
    )  # fmt: skip
    assert "by" not in first["payload"]  # created from the console: no account bound
    export = tmp_path / "log.jsonl"
    ssj_("audit", "export", str(export), *auditor)
    exported = export.read_text(encoding="utf-8")
    assert len(exported.splitlines()) == len(log)
    for text in (json.dumps(log, ensure_ascii=False), exported, *ssj_.printed):
        for secret in (*PASSWORDS, token, second, "$argon2"):
            assert secret not in text
