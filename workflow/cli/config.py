"""``ssj config show``: the effective settings and where each came from (the packaged
defaults, a configuration file, an SSJ_* environment variable, the command line). Registered on
the main app by workflow/cli.py."""

from __future__ import annotations

import json
import os
from typing import Annotated

import typer

from workflow.app import AppContext
from workflow.cli.base import app, print_json, run_in_app
from workflow.core.config import (
    DEFAULTS,
    LOCAL_CONFIG,
    config_file,
    effective_settings,
    load_with_sources,
)

config_app = typer.Typer(help="配置：查看生效的设置及其来源。", no_args_is_help=True)
app.add_typer(config_app, name="config")


@config_app.command("show")
def config_show(
    ctx: typer.Context, as_json: Annotated[bool, typer.Option("--json")] = False
) -> None:
    """打印生效的设置及每项的来源（默认配置、配置文件、SSJ_* 环境变量、命令行）；不显示密码。"""

    def go(a: AppContext) -> None:
        params = ctx.find_root().params
        env = dict(os.environ)
        settings, sources = load_with_sources(params.get("config"), env)
        rows = effective_settings(settings, sources, params.get("db"), env)
        if as_json:
            print_json(rows)
            return
        file = config_file(params.get("config"), env)
        typer.echo(f"# 默认配置：{DEFAULTS}")
        typer.echo(
            f"# 配置文件：{file}" if file else f"# 配置文件：无（工作目录中没有 {LOCAL_CONFIG}）"
        )
        width = max(len(r["key"]) for r in rows)
        for r in rows:
            value = r["value"]
            text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
            typer.echo(f"{r['key']:<{width}} = {text}    # {r['source']}")

    run_in_app(ctx, go)
