"""One error tree: stable codes and structured fields that any interface can show."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import drawn_task
from workflow.core import errors
from workflow.core.config import ConfigError, load_settings
from workflow.deadlines.calendar_notice import NoticeError, parse
from workflow.sampling.directories import ImportRejected, import_file


def test_every_error_users_see_is_an_ssj_error_with_a_stable_code() -> None:
    classes = {
        errors.InvalidInput: "invalid_input",
        errors.NotFound: "not_found",
        errors.TransitionRefused: "transition_refused",
        errors.Conflict: "conflict",
        errors.ConfigInvalid: "config_invalid",
        ImportRejected: "import_rejected",
        NoticeError: "calendar_notice_invalid",
    }
    for cls, code in classes.items():
        assert issubclass(cls, errors.SsjError) and cls.code == code
    assert ConfigError is errors.ConfigInvalid
    assert len(set(classes.values())) == len(classes)


def test_a_refused_transition_carries_the_task_its_state_and_the_trigger(wf) -> None:
    t, _ = drawn_task(wf, 1)
    with pytest.raises(errors.TransitionRefused) as e:
        wf.fire(t, "inspect", actor="x")
    out = e.value.as_json()
    assert out["code"] == "transition_refused" and out["message"] == str(e.value)
    assert (out["task"], out["state"], out["trigger"]) == (t, "drawn", "inspect")
    assert "未录入检查结果" in out["reason"]


def test_a_rejected_import_carries_the_file_and_every_problem(wf, tmp_path: Path) -> None:
    bad = tmp_path / "targets.csv"
    bad.write_text(
        "统一社会信用代码,名称,类型\n123,甲,用人单位\n456,乙,用人单位\n", encoding="utf-8"
    )
    with pytest.raises(ImportRejected) as e:
        import_file(wf.raw, "targets", bad, actor="x", now=wf.event_time())
    out = e.value.as_json()
    assert out["file"] == str(bad) and len(out["problems"]) >= 2
    assert all(p.startswith(f"{bad}:") for p in out["problems"])


def test_configuration_and_notice_errors_say_where(tmp_path: Path) -> None:
    cfg = tmp_path / "config.yaml"
    cfg.write_text("draw: {group_size: 1}\n", encoding="utf-8")
    with pytest.raises(errors.SsjError) as e:
        load_settings(cfg, env={})
    assert e.value.code == "config_invalid" and "group_size" in str(e.value)
    with pytest.raises(NoticeError) as n:
        parse(
            "国务院办公厅关于2027年部分节假日安排的通知\n一、元旦：1月1日（周三）至3日（周五）放假调休，共3天。\n"
        )
    # 2027-01-01 is a Friday: the line is named, as a field too
    assert n.value.code == "calendar_notice_invalid" and n.value.as_json()["line"] == 2
