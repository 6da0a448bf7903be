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


def _exact_ratio(v: str, key: str) -> str:
    from workflow.draw import DrawError, parse_ratio

    try:
        parse_ratio(str(v))
    except DrawError as e:
        raise ValueError(f"{key}：{e}") from None
    return str(v)


class DrawSettings(_Section):
    """The draw and the rules applied before it (DESIGN §3, §6)."""

    # Which floor applies to this bureau's tasks: province 3% (seed 000), county 5% (001, 003).
    level: Literal["province", "county"] = "county"
    ratio_floor_province: str = "0.03"
    ratio_floor_county: str = "0.05"
    # Optional ceiling for tasks whose items are all general (一般); major (重点) items have none
    # (seed 001). None: no ceiling.
    general_ratio_ceiling: str | None = None
    # Inspectors per group (>= 2, seeds 001, 003, 004) and targets per inspector in one task.
    group_size: int = Field(default=2, ge=2)
    load_cap: int = Field(default=10, ge=1)
    # Seed 002: grade-A targets, and targets inspected with no problem found, are not
    # inspected again in the same year.
    skip_clean_this_year: bool = True
    # Targets another office has already drawn this period join that visit (seeds 000, 002).
    merge_joint_visits: bool = True
    # Seed 001: high-risk grades are inspected more. A directed task's stratum of that grade
    # draws at least this ratio.
    grade_min_ratio: dict[str, str] = Field(default_factory=lambda: {"C": "0.10", "D": "0.20"})
    # Seed 001: targets with many complaints form a stratum of their own with a higher ratio.
    complaints_threshold: int = Field(default=3, ge=1)
    complaints_ratio: str = "0.20"
    # Seed 003: confirm the drawn targets and match inspectors within 2 working days.
    confirm_within_working_days: int = Field(default=2, ge=0)

    @field_validator("ratio_floor_province", "ratio_floor_county", "complaints_ratio")
    @classmethod
    def _ratio(cls, v: str) -> str:
        return _exact_ratio(v, "比例")

    @field_validator("general_ratio_ceiling")
    @classmethod
    def _ceiling(cls, v: str | None) -> str | None:
        return None if v in (None, "", "null") else _exact_ratio(v, "比例上限")

    @field_validator("grade_min_ratio")
    @classmethod
    def _grades(cls, v: dict[str, str]) -> dict[str, str]:
        for grade, ratio in v.items():
            if grade not in ("A", "B", "C", "D"):
                raise ValueError(f"信用风险等级 {grade!r} 应为 A/B/C/D")
            _exact_ratio(ratio, f"{grade} 级比例")
        return {k: str(r) for k, r in v.items()}

    @property
    def ratio_floor(self) -> str:
        return self.ratio_floor_province if self.level == "province" else self.ratio_floor_county


class Settings(_Section):
    db: DbSettings = DbSettings()
    log: LogSettings = LogSettings()
    lifecycle: LifecycleSettings = LifecycleSettings()
    audit: AuditSettings = AuditSettings()
    draw: DrawSettings = DrawSettings()


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
