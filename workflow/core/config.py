"""Typed settings, in layers (``ssj config show`` prints each key's source):

1. the packaged defaults, workflow/core/defaults.yaml (package data: a checkout and an installed
   wheel read the same file);
2. a configuration file that overrides them: ``--config PATH``, else the file named by
   ``SSJ_CONFIG``, else ``config.yaml`` in the working directory if there is one;
3. SSJ_<SECTION>_<KEY> environment variables;
4. the command line (``--db``).

A file overrides key by key within a section (``db.url`` alone); ``offices`` is replaced whole,
so a bureau lists its own offices without inheriting the demo's.
"""

from __future__ import annotations

import ipaddress
import os
import re
from datetime import date
from pathlib import Path
from typing import Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from workflow.core.errors import ConfigInvalid

ENV_PREFIX = "SSJ_"
DEFAULTS = Path(__file__).resolve().with_name("defaults.yaml")
DEFAULT_CONFIG = DEFAULTS  # the packaged defaults, under their older name
LOCAL_CONFIG = "config.yaml"  # read from the working directory when present
DEFAULT_SOURCE = "内置默认值"  # a key no file or variable sets: the model's own default
GIVEN_SOURCE = "调用程序给定"  # settings a program passed in, not loaded from files


ConfigError = ConfigInvalid  # its name here, in the SsjError tree (core/errors.py)


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


def _known_zone(v: str) -> str:
    try:
        ZoneInfo(v)
    except (ZoneInfoNotFoundError, ValueError) as e:
        raise ValueError(f"未知时区 {v!r}") from e
    return v


def _exact_ratio(v: str, key: str) -> str:
    from workflow.core.normalize import exact_ratio

    try:
        exact_ratio(str(v))
    except ValueError as e:
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


def _month_day(v: str) -> str:
    if not re.fullmatch(r"\d{2}-\d{2}", v):
        raise ValueError(f"日期 {v!r} 应为 MM-DD，如 12-20")
    try:
        date(2024, int(v[:2]), int(v[3:]))  # a leap year: 02-29 is refused below, not here
    except ValueError:
        raise ValueError(f"日期 {v!r} 不存在") from None
    if v == "02-29":  # a yearly date: in a common year it would not exist (a crash, not a date)
        raise ValueError(f"日期 {v!r} 并非每年都有：请改用 02-28 或 03-01")
    return v


def _hhmm(v: str) -> str:
    if not re.fullmatch(r"([01]\d|2[0-3]):[0-5]\d", v):
        raise ValueError(f"时刻 {v!r} 应为 HH:MM")
    return v


class CalendarYear(_Section):
    """One year's arrangement from the State Council notice, for a year the package lacks."""

    holidays: list[date] = Field(default_factory=list)  # weekdays off
    workdays: list[date] = Field(default_factory=list)  # weekend days worked (调休)


class CalendarSettings(_Section):
    # Deadlines are computed in this zone (DESIGN §7); storage stays UTC.
    timezone: str = "Asia/Shanghai"
    years: dict[int, CalendarYear] = Field(default_factory=dict)
    # Told every day from November on while next year's holidays are not yet confirmed
    # (DESIGN §3), with how to record the State Council's notice.
    admin_name: str = "系统管理员"
    admin_emails: list[str] = Field(default_factory=list)

    @field_validator("timezone")
    @classmethod
    def _zone(cls, v: str) -> str:
        return _known_zone(v)

    @field_validator("admin_emails", mode="before")
    @classmethod
    def _emails(cls, v: Any) -> Any:
        # SSJ_CALENDAR_ADMIN_EMAILS=a@x,b@y
        return [x.strip() for x in v.split(",") if x.strip()] if isinstance(v, str) else v

    @model_validator(mode="after")
    def _dates_in_their_year(self) -> CalendarSettings:
        for year, spec in self.years.items():
            for kind, days in (("holidays", spec.holidays), ("workdays", spec.workdays)):
                for d in days:
                    if d.year != year:
                        raise ValueError(f"calendar.years.{year}.{kind} 中的 {d} 不在 {year} 年")
            for d in spec.workdays:
                if d.weekday() < 5:
                    raise ValueError(
                        f"calendar.years.{year}.workdays 中的 {d} 本是工作日：只填调休上班的周末"
                    )
        return self


class DeadlineSettings(_Section):
    """DESIGN §3's deadlines. "Within N working days of D": by the end of the N-th working day
    after D. The draw's own 2 working days are draw.confirm_within_working_days (seed 003)."""

    # Seeds 001, 003, 004: results published within 20 working days of the inspections' end.
    publish_within_working_days: int = Field(default=20, ge=0)
    # Each problem's rectification is due on the date set with its result; this is the default.
    rectify_within_working_days: int = Field(default=20, ge=0)
    # Seed 003: files archived (the task closed) by this day of the plan year.
    archive_by: str = "12-20"
    # Seed 000: the monthly report before the 23rd (due by the end of the 22nd) ...
    monthly_report_before_day: int = Field(default=23, ge=2, le=28)
    # ... progress reports before these days (due by the end of the day before) ...
    progress_reports_before: list[str] = Field(
        default_factory=lambda: ["04-08", "07-01", "10-11", "12-28"]
    )
    # ... and the item list and directories reviewed by the end of April.
    review_by: str = "04-30"
    # Reminders this many working days before a due date (the nearest one not yet sent).
    remind_before_working_days: list[int] = Field(default_factory=lambda: [3, 1])
    # A fixed-date deadline (the monthly report, progress reports, review, archive) that falls
    # on a rest day moves to the next working day (民法典 第二百零三条, DESIGN §3).
    fixed_dates_next_working_day: bool = True

    @field_validator("archive_by", "review_by")
    @classmethod
    def _md(cls, v: str) -> str:
        return _month_day(v)

    @field_validator("progress_reports_before")
    @classmethod
    def _mds(cls, v: list[str]) -> list[str]:
        return sorted(_month_day(x) for x in v)

    @field_validator("remind_before_working_days")
    @classmethod
    def _reminders(cls, v: list[int]) -> list[int]:
        if any(n < 1 for n in v):
            raise ValueError("提醒提前的工作日数应为正整数")
        return sorted(set(v), reverse=True)


class LadderStep(_Section):
    """One step after a due date passes: who is told, how many working days late."""

    step: str = Field(pattern=r"^[a-z_]+$")
    to: Literal["responsible", "office_head", "supervisor"]
    after_working_days: int = Field(ge=0)


class EscalationSettings(_Section):
    # Responsible inspectors -> office head -> the supervisor above (DESIGN §4). Step 0 is the
    # overdue notice, sent the day after the due date.
    ladder: list[LadderStep] = Field(
        default_factory=lambda: [
            LadderStep(step="overdue", to="responsible", after_working_days=0),
            LadderStep(step="office_head", to="office_head", after_working_days=2),
            LadderStep(step="supervisor", to="supervisor", after_working_days=5),
        ]
    )
    supervisor_name: str = ""
    supervisor_email: str = ""

    @model_validator(mode="after")
    def _ordered(self) -> EscalationSettings:
        names = [s.step for s in self.ladder]
        if len(set(names)) != len(names):
            raise ValueError("escalation.ladder 中的 step 名称不得重复")
        days = [s.after_working_days for s in self.ladder]
        if days != sorted(days):
            raise ValueError("escalation.ladder 应按 after_working_days 从小到大排列")
        return self


class OfficeContact(_Section):
    """An office (科室/大队): its head, who gets escalations and owes the periodic reports."""

    head: str
    email: str = ""
    reports: bool = True  # owes the monthly/progress/review reports (seed 000)


class MailSettings(_Section):
    # smtp: a real server (section smtp); maildir: files under ``maildir`` (embedded default).
    transport: Literal["smtp", "maildir"] = "maildir"
    sender: str = "双随机监管系统 <ssj@localhost>"
    maildir: str = "data/mail"
    # One mail a day per recipient (at digest_time, Asia/Shanghai) instead of one per item.
    digest: bool = False
    digest_time: str = "08:30"
    # Delivery: a failed message is retried after retry_base_seconds, doubling up to
    # retry_max_seconds; after max_attempts failures it is dead (see ssj outbox list).
    max_attempts: int = Field(default=8, ge=1)
    retry_base_seconds: int = Field(default=60, ge=1)
    retry_max_seconds: int = Field(default=3600, ge=1)
    # A process claims at most this many messages at once, for lease_seconds; a process that
    # dies mid-batch leaves them to the next one after the lease.
    batch: int = Field(default=500, ge=1)
    lease_seconds: int = Field(default=300, ge=10)

    @field_validator("digest_time")
    @classmethod
    def _time(cls, v: str) -> str:
        return _hhmm(v)


class SmtpSettings(_Section):
    host: str = "127.0.0.1"
    port: int = Field(default=25, ge=1, le=65535)
    security: Literal["none", "starttls", "ssl"] = "none"
    user: str = ""
    timeout_seconds: float = Field(default=30, gt=0)
    # The password is read from this environment variable only, never from config.yaml.
    password_env: str = "SSJ_SMTP_PASSWORD"

    @model_validator(mode="before")
    @classmethod
    def _no_password(cls, data: Any) -> Any:
        if isinstance(data, dict) and "password" in data:
            raise ValueError("smtp.password 不得写在配置文件中：请设置环境变量 SSJ_SMTP_PASSWORD")
        return data

    def password(self, env: dict[str, str] | None = None) -> str | None:
        return (os.environ if env is None else env).get(self.password_env) or None


class SchedulerSettings(_Section):
    # The sweep runs every this many minutes, and every working morning at morning_sweep.
    sweep_every_minutes: int = Field(default=5, ge=1)
    morning_sweep: str = "08:00"
    # A run missed by more than this (process asleep or down) is skipped, not replayed: the
    # next sweep is state-based and catches up on everything anyway. Missed runs coalesce.
    misfire_grace_seconds: int = Field(default=300, ge=1)

    @field_validator("morning_sweep")
    @classmethod
    def _time(cls, v: str) -> str:
        return _hhmm(v)


class WebSettings(_Section):
    """``ssj serve``: where the web service and its API listen, and in how many processes.
    Each worker builds its own application context (web/_server.py says how the settings reach
    it); the scheduler runs once, in the process that starts them."""

    host: str = "127.0.0.1"
    port: int = Field(default=8000, ge=1, le=65535)
    workers: int = Field(default=1, ge=1, le=64)
    # Sessions (DESIGN §8): how long a sign-in lasts, and whether the cookie is sent only over
    # HTTPS (true in production behind TLS; the demo on http://127.0.0.1 needs false).
    session_hours: int = Field(default=12, ge=1, le=24 * 30)
    secure_cookies: bool = False
    # Login throttling: this many failures of one account name, or from one address, within
    # the window lock that name or address out until the window has passed.
    login_failures_per_account: int = Field(default=5, ge=1)
    login_failures_per_address: int = Field(default=20, ge=1)
    login_window_minutes: int = Field(default=15, ge=1)

    @field_validator("host")
    @classmethod
    def _host(cls, v: str) -> str:
        # An IP address (v4 or v6) or a host name: no scheme, port, path or spaces.
        try:
            ipaddress.ip_address(v)
        except ValueError:
            if not _HOST_NAME.fullmatch(v):
                raise ValueError(
                    f"监听地址 {v!r} 无效：应为 IP 地址（如 127.0.0.1、0.0.0.0、::1）或主机名，"
                    "不含协议、端口和路径"
                ) from None
        return v


_HOST_NAME = re.compile(
    r"(?=.{1,253}$)[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
    r"(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*"
)


class ImportSettings(_Section):
    """Bounds on what one import may read, checked before reading it (a file that would
    exhaust memory is refused with a message, not half-read)."""

    max_file_mb: int = Field(default=100, ge=1)  # the file on disk
    max_uncompressed_mb: int = Field(default=500, ge=1)  # all members of an XLSX, unpacked
    # An XLSX member (over 1 MB) that unpacks to more than this many times its packed size is
    # a zip bomb, not a spreadsheet (real sheets pack 5-30 times).
    max_compression_ratio: int = Field(default=100, ge=2)
    max_rows: int = Field(default=2_000_000, ge=1)
    max_cell_chars: int = Field(default=32_768, ge=256)


class Settings(_Section):
    db: DbSettings = DbSettings()
    log: LogSettings = LogSettings()
    lifecycle: LifecycleSettings = LifecycleSettings()
    draw: DrawSettings = DrawSettings()
    calendar: CalendarSettings = CalendarSettings()
    deadlines: DeadlineSettings = DeadlineSettings()
    escalation: EscalationSettings = EscalationSettings()
    offices: dict[str, OfficeContact] = Field(default_factory=dict)
    mail: MailSettings = MailSettings()
    smtp: SmtpSettings = SmtpSettings()
    scheduler: SchedulerSettings = SchedulerSettings()
    imports: ImportSettings = ImportSettings()
    web: WebSettings = WebSettings()
    # The bureau's clerks (经办人员) by name: besides the inspectors of a target's group, only
    # they may record or correct its result (accounts with roles come later).
    clerks: list[str] = Field(default_factory=list)

    @model_validator(mode="before")
    @classmethod
    def _one_timezone(cls, data: Any) -> Any:
        # One timezone for deadlines and for what people read: calendar.timezone. The display
        # zone an older config.yaml set under audit is named, not silently ignored.
        if isinstance(data, dict) and "audit" in data:
            raise ValueError(
                "audit.timezone 已并入 calendar.timezone（截止日期与显示时间共用一个时区）："
                "请删除 audit 一节，改在 calendar.timezone 设置"
            )
        return data


def _env_overrides(env: dict[str, str]) -> dict[str, dict[str, str]]:
    """SSJ_DB_URL → {"db": {"url": ...}}; section names hold no underscore."""
    sections = set(Settings.model_fields)
    out: dict[str, dict[str, str]] = {}
    for name, value in env.items():
        if not name.startswith(ENV_PREFIX):
            continue
        section, _, key = name[len(ENV_PREFIX) :].lower().partition("_")
        if (section, key) == ("smtp", "password"):
            continue  # read where it is used (SmtpSettings.password), never stored in settings
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


def _read_yaml(path: Path) -> dict[str, Any]:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as e:
        raise ConfigError(f"无法读取配置文件 {path}：{e.strerror}") from e
    try:
        loaded = yaml.safe_load(text)
    except yaml.YAMLError as e:
        raise ConfigError(f"配置文件 {path} 不是有效的 YAML：{e}") from e
    except RecursionError:
        raise ConfigError(f"配置文件 {path} 嵌套过深，不是 ssj 的配置") from None
    if loaded is not None and not isinstance(loaded, dict):
        raise ConfigError(f"配置文件 {path} 顶层必须是键值映射")
    return loaded or {}


def config_file(path: str | Path | None, env: dict[str, str]) -> Path | None:
    """The file that overrides the packaged defaults, if any (see the module's docstring)."""
    if path:
        return Path(path)
    if env.get("SSJ_CONFIG"):
        return Path(env["SSJ_CONFIG"])
    local = Path.cwd() / LOCAL_CONFIG
    return local if local.is_file() else None


_REPLACED_WHOLE = {"offices"}  # a mapping of the bureau's own, not merged with the defaults


def _layer(
    data: dict[str, Any], sources: dict[str, str], loaded: dict[str, Any], source: str
) -> None:
    """Put ``loaded`` over ``data``: key by key within a section; note each key's source."""
    for section, value in loaded.items():
        current = data.get(section)
        merge = section not in _REPLACED_WHOLE and isinstance(current, dict)
        if not (merge and isinstance(value, dict)):
            for key in [k for k in sources if k == section or k.startswith(f"{section}.")]:
                del sources[key]
            data[section] = value
            if not isinstance(value, dict):
                sources[section] = source
                continue
        else:
            data[section] = {**current, **value}  # type: ignore[dict-item]
        for key in value:
            sources[f"{section}.{key}"] = source


def load_with_sources(
    path: str | Path | None = None, env: dict[str, str] | None = None
) -> tuple[Settings, dict[str, str]]:
    """The settings, and where each ``section.key`` set by a file or variable came from."""
    env = dict(os.environ) if env is None else env
    data: dict[str, Any] = {}
    sources: dict[str, str] = {}
    read = [DEFAULTS]
    _layer(data, sources, _read_yaml(DEFAULTS), f"默认配置 {DEFAULTS}")
    cfg_path = config_file(path, env)
    if cfg_path is not None:
        read.append(cfg_path)
        _layer(data, sources, _read_yaml(cfg_path), f"配置文件 {cfg_path}")
    names = {name[len(ENV_PREFIX) :].lower(): name for name in env if name.startswith(ENV_PREFIX)}
    for section, keys in _env_overrides(env).items():
        current = data.get(section)
        data[section] = {**(current if isinstance(current, dict) else {}), **keys}
        for key in keys:
            sources[f"{section}.{key}"] = f"环境变量 {names[f'{section}_{key}']}"
    try:
        return Settings.model_validate(data), sources
    except ValidationError as e:
        files = "、".join(str(p) for p in read)
        raise ConfigError(_describe(e, f"{files} 及 SSJ_* 环境变量")) from e


def load_settings(path: str | Path | None = None, env: dict[str, str] | None = None) -> Settings:
    """The packaged defaults, the configuration file over them, then environment overrides."""
    return load_with_sources(path, env)[0]


def _safe_url(url: str) -> str:
    import sqlalchemy

    try:
        return sqlalchemy.engine.make_url(url).render_as_string(hide_password=True)
    except sqlalchemy.exc.ArgumentError:
        return "***"  # unparsable: print none of it, it may hold a password


def effective_settings(
    settings: Settings,
    sources: dict[str, str] | None,
    db_override: str | None,
    env: dict[str, str],
) -> list[dict[str, Any]]:
    """The effective settings as ``ssj config show`` and ``GET /api/v1/config`` show them: one
    row per ``section.key`` (``offices.NAME`` per office), value and source (``sources``:
    ``load_with_sources``'s; None when the settings were given by a program, not loaded).
    Secrets are never values: a database password is masked, the SMTP password only said to
    be set or not."""
    if sources is None:
        sources, fallback = {}, GIVEN_SOURCE
    else:
        fallback = DEFAULT_SOURCE
    rows: list[dict[str, Any]] = []
    for section, values in settings.model_dump(mode="json").items():
        if not isinstance(values, dict):  # a top-level list or value (e.g. clerks)
            source = sources.get(section) or fallback
            rows.append({"key": section, "value": values, "source": source})
            continue
        for key, value in values.items():
            name = f"{section}.{key}"
            source = sources.get(name) or sources.get(section) or fallback
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
