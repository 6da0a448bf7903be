from __future__ import annotations

import pytest

from workflow.config import DEFAULT_CONFIG, ConfigError, load_settings


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
