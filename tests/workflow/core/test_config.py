from __future__ import annotations

import pytest

from workflow.core.config import DEFAULT_CONFIG, ConfigError, load_settings


def test_shipped_config_yaml_loads_with_the_documented_defaults():
    s = load_settings(DEFAULT_CONFIG, env={})
    assert s.db.url == "sqlite:///data/ssj.db"
    assert s.db.sqlite_journal_mode == "WAL"
    assert s.db.sqlite_synchronous == "FULL"
    assert s.lifecycle.min_group_size == 2


def test_environment_overrides_any_key(tmp_path):
    s = load_settings(
        DEFAULT_CONFIG,
        env={
            "SSJ_DB_URL": "postgresql://x@h/db",
            "SSJ_DB_BUSY_TIMEOUT_MS": "5",
            "SSJ_LOG_FORMAT": "json",
        },
    )
    assert s.db.url == "postgresql://x@h/db"
    assert s.db.busy_timeout_ms == 5
    assert s.log.format == "json"


def test_an_invalid_value_names_the_key_and_the_value(tmp_path):
    p = tmp_path / "c.yaml"
    p.write_text("db:\n  sqlite_synchronous: FAST\n", encoding="utf-8")
    with pytest.raises(ConfigError) as e:
        load_settings(p, env={})
    assert "db.sqlite_synchronous" in str(e.value) and "FAST" in str(e.value)


def test_an_unknown_key_is_refused(tmp_path):
    p = tmp_path / "c.yaml"
    p.write_text("db:\n  urll: sqlite:///x.db\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"db\.urll.*未知配置项"):
        load_settings(p, env={})


def test_a_bad_environment_value_is_refused():
    with pytest.raises(ConfigError, match=r"lifecycle\.min_group_size"):
        load_settings(DEFAULT_CONFIG, env={"SSJ_LIFECYCLE_MIN_GROUP_SIZE": "1"})


def test_broken_yaml_and_missing_file_are_clear(tmp_path):
    p = tmp_path / "c.yaml"
    p.write_text("db: [unclosed\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="不是有效的 YAML"):
        load_settings(p, env={})
    with pytest.raises(ConfigError, match="无法读取配置文件"):
        load_settings(tmp_path / "missing.yaml", env={})


# ---------------------------------------------------------------------------------------------
# Layers: the packaged defaults, a configuration file, the environment; ``ssj config show``


def test_a_config_file_overrides_the_packaged_defaults_key_by_key(tmp_path):
    from workflow.core.config import DEFAULTS, load_with_sources

    p = tmp_path / "config.yaml"
    p.write_text(
        "db:\n  busy_timeout_ms: 5\noffices:\n  财务科: {head: 赵科长, email: cw@x.cn}\n",
        encoding="utf-8",
    )
    s, sources = load_with_sources(p, env={"SSJ_LOG_LEVEL": "DEBUG"})
    assert s.db.busy_timeout_ms == 5 and s.db.sqlite_synchronous == "FULL"  # the rest kept
    assert list(s.offices) == ["财务科"]  # the bureau's offices replace the demo's
    assert s.log.level == "DEBUG"
    assert sources["db.busy_timeout_ms"] == f"配置文件 {p}"
    assert sources["db.sqlite_synchronous"] == f"默认配置 {DEFAULTS}"
    assert sources["offices.财务科"] == f"配置文件 {p}" and "offices.社会保险中心" not in sources
    assert sources["log.level"] == "环境变量 SSJ_LOG_LEVEL"


def test_config_yaml_is_read_from_the_working_directory(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert load_settings(env={}).db.busy_timeout_ms == 30000  # no file: the packaged defaults
    (tmp_path / "config.yaml").write_text("db: {busy_timeout_ms: 7}\n", encoding="utf-8")
    assert load_settings(env={}).db.busy_timeout_ms == 7
    other = tmp_path / "other.yaml"
    other.write_text("db: {busy_timeout_ms: 9}\n", encoding="utf-8")
    assert load_settings(env={"SSJ_CONFIG": str(other)}).db.busy_timeout_ms == 9


def test_the_repo_config_yaml_changes_nothing_of_the_packaged_defaults():
    from pathlib import Path

    from workflow.core.config import DEFAULTS

    root = Path(__file__).resolve().parents[3] / "config.yaml"
    assert load_settings(root, env={}) == load_settings(DEFAULTS, env={})


def test_config_show_prints_values_and_sources_and_never_a_secret(tmp_path, monkeypatch):
    import json

    from typer.testing import CliRunner

    from workflow.cli.main import app
    from workflow.core.config import DEFAULTS

    monkeypatch.chdir(tmp_path)
    (tmp_path / "config.yaml").write_text("mail: {digest: true}\n", encoding="utf-8")
    monkeypatch.setenv("SSJ_SMTP_PASSWORD", "s3cret-pw")
    monkeypatch.setenv("SSJ_SMTP_HOST", "mail.bureau.test")
    monkeypatch.setenv("SSJ_DB_URL", "postgresql://ssj:dbpass@db.bureau.test/ssj")
    runner = CliRunner()
    r = runner.invoke(app, ["config", "show", "--json"], catch_exceptions=False)
    assert r.exit_code == 0, r.output
    rows = {x["key"]: x for x in json.loads(r.stdout)}
    assert rows["mail.digest"] == {
        "key": "mail.digest",
        "value": True,
        "source": f"配置文件 {tmp_path / 'config.yaml'}",
    }
    assert rows["smtp.host"]["source"] == "环境变量 SSJ_SMTP_HOST"
    assert rows["draw.group_size"]["source"] == f"默认配置 {DEFAULTS}"
    assert rows["db.url"]["value"] == "postgresql://ssj:***@db.bureau.test/ssj"
    assert rows["smtp.password"]["value"] == "（已设置，不显示）"
    text = runner.invoke(app, ["config", "show"], catch_exceptions=False).stdout
    assert "s3cret-pw" not in r.stdout + text and "dbpass" not in r.stdout + text
    assert f"# 配置文件：{tmp_path / 'config.yaml'}" in text
    line = next(x for x in text.splitlines() if x.startswith("smtp.host"))
    assert "mail.bureau.test" in line and "# 环境变量 SSJ_SMTP_HOST" in line
    over = runner.invoke(app, ["--db", "sqlite:///x.db", "config", "show", "--json"])
    db = next(x for x in json.loads(over.stdout) if x["key"] == "db.url")
    assert db == {"key": "db.url", "value": "sqlite:///x.db", "source": "命令行 --db"}


def test_one_timezone_for_deadlines_and_display(tmp_path) -> None:
    from workflow.core.config import ConfigError, load_settings

    assert "audit" not in load_settings(None, env={}).model_dump()
    old = tmp_path / "config.yaml"
    old.write_text("audit: {timezone: Asia/Urumqi}\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"audit\.timezone 已并入 calendar\.timezone"):
        load_settings(old, env={})


def test_the_web_section_listens_on_this_machine_by_default_and_names_a_bad_key(tmp_path):
    s = load_settings(DEFAULT_CONFIG, env={})
    assert (s.web.host, s.web.port, s.web.workers) == ("127.0.0.1", 8000, 1)
    over = load_settings(
        DEFAULT_CONFIG,
        env={"SSJ_WEB_HOST": "0.0.0.0", "SSJ_WEB_PORT": "8080", "SSJ_WEB_WORKERS": "4"},
    )
    assert (over.web.host, over.web.port, over.web.workers) == ("0.0.0.0", 8080, 4)
    for host in ("::1", "ssj.bureau.example", "localhost"):
        assert load_settings(DEFAULT_CONFIG, env={"SSJ_WEB_HOST": host}).web.host == host
    p = tmp_path / "c.yaml"
    for bad, key in (
        ("web: {port: 70000}", "web.port = 70000"),
        ("web: {port: 0}", "web.port = 0"),
        ("web: {workers: 0}", "web.workers = 0"),
        ("web: {host: 'http://ssj.example'}", "web.host = 'http://ssj.example'：监听地址"),
        ("web: {host: '10.0.0.1:8000'}", "web.host = '10.0.0.1:8000'"),
        ("web: {hots: 127.0.0.1}", "web.hots"),
    ):
        p.write_text(bad + "\n", encoding="utf-8")
        with pytest.raises(ConfigError) as e:
            load_settings(p, env={})
        assert key in str(e.value), (bad, str(e.value))
