"""Every ``ssj …`` command that a message, a mail or a help text suggests is valid syntax.

The test collects the string literals of the code (not docstrings or comments), finds each
``ssj`` command in them and parses it with the real typer app: a renamed command or option,
or a positional argument too many, makes it fail.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path
from typing import Any

import pytest
import typer.main

try:  # typer ≥ 0.20 vendors click
    from typer._click.exceptions import UsageError
except ImportError:  # pragma: no cover
    from click.exceptions import UsageError  # type: ignore[no-redef]

from workflow.cli import hints
from workflow.cli.main import app
from workflow.core.actions import ACTIONS
from workflow.core.errors import Step

ROOT = Path(__file__).resolve().parents[3]
SOURCES = [
    p
    for d in ("workflow", "states", "notifications")
    for p in sorted((ROOT / d).rglob("*"))
    if p.suffix in (".py", ".txt", ".j2", ".html", ".md") and "migrations" not in p.parts
]
CJK = re.compile(r"[\u3000-\u9fff\uff00-\uffef]")
STOP = re.compile(r"[，。；：（）、“”！？`）]|\s{2,}")


def _docstrings(tree: ast.AST) -> set[int]:
    ids = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef):
            body = node.body
            if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
                ids.add(id(body[0].value))
    return ids


def _texts(path: Path) -> list[str]:
    """The strings of a source file as shown to people: f-string fields become ``1``."""
    text = path.read_text(encoding="utf-8")
    if path.suffix != ".py":
        return [re.sub(r"\{[^}]*\}+", "1", text)]
    tree = ast.parse(text)
    skip = _docstrings(tree)
    out = []
    for node in ast.walk(tree):
        if isinstance(node, ast.JoinedStr):
            parts = [v.value if isinstance(v, ast.Constant) else "1" for v in node.values]
            out.append("".join(str(p) for p in parts))
            for v in node.values:
                skip.add(id(v))
        elif (
            isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in skip
        ):
            out.append(node.value)
    # Adjacent literals are one message; f-string parts were taken whole above.
    return out


def suggested() -> list[tuple[str, str]]:
    found = []
    for path in SOURCES:
        for text in _texts(path):
            chunks = re.split(r"(?<![\w-])ssj (?=[a-z])", text)
            for chunk in chunks[1:]:  # each text after an "ssj "
                command = STOP.split(chunk)[0].strip()
                found.append((f"{path.relative_to(ROOT)}", "ssj " + command))
    return sorted(set(found))


def parse(line: str) -> None:
    """Resolve ``line`` on the real app; raise UsageError when it is not valid. ``--as USER``
    is the root's option and may come anywhere (workflow.cli.base._RootGroup)."""
    tokens: list[str] = []
    rest = line.split()[1:]
    while rest:
        tok = rest.pop(0)
        if tok == "--as":
            if not rest:
                raise UsageError("--as 缺少取值")
            rest.pop(0)
        elif not tok.startswith("--as="):
            tokens.append(tok)
    cmd: Any = typer.main.get_command(app)
    ctx = cmd.make_context("ssj", [], resilient_parsing=True)
    while hasattr(cmd, "commands") and tokens:
        name = tokens[0]
        sub = cmd.get_command(ctx, name)
        if sub is None:
            if cmd.name == "draw" and not name.startswith("-"):
                sub = cmd.get_command(ctx, "run")  # ssj draw TASK (workflow.cli.main._DrawGroup)
                tokens = ["run", *tokens]
            else:
                raise UsageError(f"没有命令 {name!r}")
        assert sub is not None
        cmd, tokens = sub, tokens[1:]
        ctx = cmd.make_context(name, [], parent=ctx, resilient_parsing=True)
    if hasattr(cmd, "commands"):
        return  # a group named alone (e.g. "ssj draw" in prose) shows its help
    options = {o: p for p in cmd.params for o in p.opts if p.param_type_name == "option"}
    arguments = [p for p in cmd.params if p.param_type_name == "argument"]
    args: list[str] = []
    positional = 0
    i = 0
    while i < len(tokens):
        tok = tokens[i]
        if tok == "--help":  # every command has it
            return
        if tok.startswith("--"):
            opt = options.get(tok)
            if opt is None:
                raise UsageError(f"{cmd.name} 没有选项 {tok}")
            args.append(tok)
            if not opt.is_flag:
                if i + 1 >= len(tokens):
                    raise UsageError(f"{tok} 缺少取值")
                args.append("1")
                i += 1
        elif CJK.search(tok) and positional >= len(arguments):
            break  # prose after the command
        else:
            positional += 1
            if positional > len(arguments):
                raise UsageError(f"{cmd.name} 多余的参数 {tok!r}")
            args.append("1" if CJK.search(tok) or "{" in tok or tok.isupper() else tok)
        i += 1
    if i:  # a whole command, not a reference to one in prose: nothing required missing
        given = set(args)
        for p in cmd.params:
            required = p.param_type_name == "option" and p.required and not p.envvar
            if required and not given & set(p.opts):
                raise UsageError(f"{cmd.name} 缺少必填选项 {p.opts[0]}")
        if positional < sum(1 for p in arguments if p.required):
            raise UsageError(f"{cmd.name} 缺少参数")
    cmd.make_context(cmd.name, args, parent=ctx, resilient_parsing=True)


COMMANDS = suggested()


def test_messages_suggest_commands():
    assert len(COMMANDS) > 20  # the collector works: messages do suggest commands
    lines = {c for _, c in COMMANDS}
    assert any(c.startswith("ssj task fire 1 ") for c in lines)
    assert "ssj result correct {task} {code} --result 结果 --reason 原因 --category 类别" in lines


# Every action an error may offer, rendered as the CLI renders it with typical arguments.
SAMPLE_ARGS = {"task": "12", "plan": "2026001", "code": "91130227MA0000000X", "trigger": "inspect"}
KIND_OF = {"directory.import": "targets", "directory.template": "targets",
           "directory.restore": "targets", "report.submit": "monthly"}  # fmt: skip


@pytest.mark.parametrize("action", sorted(ACTIONS))
def test_every_action_renders_as_a_command_that_parses(action: str) -> None:
    args = {**SAMPLE_ARGS, "kind": KIND_OF.get(action, "targets")}
    for step in (Step(action), Step(action, args)):
        line = hints.command(step)
        try:
            parse(line)
        except UsageError as e:
            pytest.fail(f"{action}: {line!r} 不是有效命令：{e}")


@pytest.mark.parametrize(("source", "line"), COMMANDS)
def test_every_suggested_command_parses(source: str, line: str) -> None:
    try:
        parse(line)
    except UsageError as e:
        pytest.fail(f"{source}: {line!r} 不是有效命令：{e}")


@pytest.mark.parametrize(
    "line",
    [
        "ssj followup add 1 X rectified",  # the outcome is an option, not an argument
        "ssj draw confirm 1 --by 张三",
        "ssj task fire 1 inspect --who x",
        "ssj result sett 1 X",
        "ssj sheet 1",  # --out is required
        "ssj result set 1",  # and so is the target
        "ssj task list --actor 张三",  # the account is named with --as
        "ssj draw 5 --as",
    ],
)
def test_the_checker_refuses_wrong_commands(line: str) -> None:
    with pytest.raises(UsageError):
        parse(line)


@pytest.mark.parametrize(
    "line",
    [
        "ssj draw 5 --as 王芳",
        "ssj --as clerk task list",
        "ssj task --as clerk fire 1 inspect",
        "ssj result set 1 X --result 发现问题 --as=inspector",
    ],
)
def test_the_checker_takes_as_anywhere_as_the_app_does(line: str) -> None:
    parse(line)
