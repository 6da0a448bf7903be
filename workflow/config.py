"""Typed settings: config.yaml, then SSJ_<SECTION>_<KEY> environment overrides, then the CLI."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

ENV_PREFIX = "SSJ_"
DEFAULT_CONFIG = Path(__file__).resolve().parent.parent / "config.yaml"


class ConfigError(Exception):
    """The configuration cannot be used; the message names the file, the key and the reason."""


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", validate_assignment=True)


class DbSettings(_Section):
    url: str = "sqlite:///data/ssj.db"
    sqlite_journal_mode: Literal["WAL", "DELETE", "TRUNCATE", "PERSIST", "MEMORY"] = "WAL"
    sqlite_synchronous: Literal["OFF", "NORMAL", "FULL", "EXTRA"] = "FULL"
    busy_timeout_ms: int = Field(default=30000, ge=0)
    sqlite_wal_autocheckpoint: int = Field(default=4000, ge=0)

    @field_validator("url")
    @classmethod
    def _known_scheme(cls, v: str) -> str:
        if not v.startswith(("sqlite:", "postgresql:", "postgresql+psycopg:", "postgres:")):
            raise ValueError("只支持 sqlite:/// 或 postgresql:// 开头的数据库地址")
        return v


class LogSettings(_Section):
    level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    format: Literal["auto", "json", "console"] = "auto"


class LifecycleSettings(_Section):
    min_group_size: int = Field(default=2, ge=2)


class AuditSettings(_Section):
    timezone: str = "Asia/Shanghai"

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, v: str) -> str:
        try:
            ZoneInfo(v)
        except (ZoneInfoNotFoundError, ValueError) as e:
            raise ValueError(f"未知时区 {v!r}") from e
        return v


class Settings(_Section):
    db: DbSettings = DbSettings()
    log: LogSettings = LogSettings()
    lifecycle: LifecycleSettings = LifecycleSettings()
    audit: AuditSettings = AuditSettings()


def _env_overrides(env: dict[str, str]) -> dict[str, dict[str, str]]:
    """SSJ_DB_URL → {"db": {"url": ...}}; section names hold no underscore."""
    sections = set(Settings.model_fields)
    out: dict[str, dict[str, str]] = {}
    for name, value in env.items():
        if not name.startswith(ENV_PREFIX):
            continue
        section, _, key = name[len(ENV_PREFIX) :].lower().partition("_")
        if section in sections and key:
            out.setdefault(section, {})[key] = value
    return out


def _describe(e: ValidationError, source: str) -> str:
    lines = [f"配置无效（{source}）："]
    for err in e.errors():
        key = ".".join(str(p) for p in err["loc"])
        msg = err["msg"].removeprefix("Value error, ")
        if err["type"] == "extra_forbidden":
            msg = "未知配置项（请检查拼写）"
        lines.append(f"  {key} = {err.get('input')!r}：{msg}")
    return "\n".join(lines)


def load_settings(path: str | Path | None = None, env: dict[str, str] | None = None) -> Settings:
    """Read ``path`` (default: the project's config.yaml), apply environment overrides."""
    env = dict(os.environ) if env is None else env
    cfg_path = Path(path) if path else Path(env.get("SSJ_CONFIG", DEFAULT_CONFIG))
    data: dict[str, Any] = {}
    if path is not None or cfg_path.exists():
        try:
            text = cfg_path.read_text(encoding="utf-8")
        except OSError as e:
            raise ConfigError(f"无法读取配置文件 {cfg_path}：{e.strerror}") from e
        try:
            loaded = yaml.safe_load(text)
        except yaml.YAMLError as e:
            raise ConfigError(f"配置文件 {cfg_path} 不是有效的 YAML：{e}") from e
        if loaded is not None and not isinstance(loaded, dict):
            raise ConfigError(f"配置文件 {cfg_path} 顶层必须是键值映射")
        data = loaded or {}
    for section, keys in _env_overrides(env).items():
        current = data.get(section)
        data[section] = {**(current if isinstance(current, dict) else {}), **keys}
    try:
        return Settings.model_validate(data)
    except ValidationError as e:
        raise ConfigError(_describe(e, f"{cfg_path} 及 SSJ_* 环境变量")) from e
