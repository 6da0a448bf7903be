"""``ssj config show``: the effective settings and where each came from (the packaged
defaults, a configuration file, an SSJ_* environment variable, the command line). Registered on
the main app by workflow/cli.py."""

from __future__ import annotations

import json
import os
from typing import Annotated, Any

import sqlalchemy
import typer

from workflow.app import AppContext
from workflow.cli.base import app, print_json, run_in_app
from workflow.core.config import (
    DEFAULT_SOURCE,
    DEFAULTS,
    LOCAL_CONFIG,
    Settings,
    config_file,
    load_with_sources,
)

config_app = typer.Typer(help="配置：查看生效的设置及其来源。", no_args_is_help=True)
app.add_typer(config_app, name="config")


def _safe_url(url: str) -> str:
    try:
        return sqlalchemy.engine.make_url(url).render_as_string(hide_password=True)
    except sqlalchemy.exc.ArgumentError:
        return "***"  # unparsable: print none of it, it may hold a password


def effective(
    settings: Settings, sources: dict[str, str], db_override: str | None, env: dict[str, str]
) -> list[dict[str, Any]]:
    """One row per ``section.key`` (``offices.NAME`` per office): value and source. Secrets are
    never values: a database password is masked, the SMTP password only said to be set or not."""
    rows: list[dict[str, Any]] = []
    for section, values in settings.model_dump(mode="json").items():
        if not isinstance(values, dict):  # a top-level list or value (e.g. clerks)
            source = sources.get(section) or DEFAULT_SOURCE
            rows.append({"key": section, "value": values, "source": source})
            continue
        for key, value in values.items():
            name = f"{section}.{key}"
            source = sources.get(name) or sources.get(section) or DEFAULT_SOURCE
            if name == "db.url":
                if db_override is not None:
                    value, source = db_override, "命令行 --db"
                value = _safe_url(value)
            rows.append({"key": name, "value": value, "source": source})
    var = settings.smtp.password_env
    rows.append(
        {
            "key": "smtp.password",
            "value": "（已设置，不显示）" if env.get(var) else "（未设置）",
            "source": f"环境变量 {var}",
        }
    )
    return rows


@config_app.command("show")
def config_show(
    ctx: typer.Context, as_json: Annotated[bool, typer.Option("--json")] = False
) -> None:
    """打印生效的设置及每项的来源（默认配置、配置文件、SSJ_* 环境变量、命令行）；不显示密码。"""

    def go(a: AppContext) -> None:
        params = ctx.find_root().params
        env = dict(os.environ)
        settings, sources = load_with_sources(params.get("config"), env)
        rows = effective(settings, sources, params.get("db"), env)
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
