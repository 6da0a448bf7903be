"""Retired items and targets: history kept, not offered to new tasks or draws (issue #9 §3)."""

from __future__ import annotations

import pytest

from tests.conftest import code, inspector_row, load_directory, target_row
from workflow.core import audit, queries
from workflow.core.errors import InvalidInput, NotFound
from workflow.core.replay import replay
from workflow.sampling import directories, plans, task_draw

UNIT = "迁西县人力资源和社会保障局"


def _retire(wf, kind, keys, **kw):  # type: ignore[no-untyped-def]
    return directories.retire(
        wf.raw, kind, keys, reason="注销", actor="录入员", now=wf.event_time(), **kw
    )


def test_a_retired_target_is_out_of_the_draw_population_and_logged(wf):
    codes = [code(i) for i in range(6)]
    load_directory(wf, [target_row(c) for c in codes], [inspector_row(f"C{i}") for i in range(4)])
    s = _retire(wf, "targets", [codes[0].lower(), f" {codes[1]} "])  # as clerks type them
    assert s.changed == codes[:2] and s.unchanged == []
    events = queries.list_events(wf.engine)[-2:]
    assert [e["kind"] for e in events] == ["target_retired"] * 2
    assert [e["payload"]["key"] for e in events] == codes[:2] and events[0]["reason"] == "注销"
    plans.create_plan(wf, "2024001", unit=UNIT, actor="x")
    t = plans.create_task(wf, "2024001", name="全部", actor="x", ratio="1")
    plans.publish(wf, "2024001", actor="x")
    record = task_draw.draw_task(wf, t, actor="x")
    (stratum,) = record["strata"]
    assert sorted(stratum["population"]) == sorted(codes[2:])
    assert task_draw.verify_task(wf, t) == [] and audit.verify_db(wf.raw).ok
    assert replay(wf.raw).ok
    # the row is kept, and still exported (history), with its retirement time
    rows = {r["code"]: r for r in directories.load_all(wf.raw, "targets")}
    assert set(rows) == set(codes)


def test_retiring_twice_restoring_and_unknown_codes(wf, tmp_path):
    codes = [code(i) for i in range(2)]
    load_directory(wf, [target_row(c) for c in codes])
    head = wf.head()
    with pytest.raises(NotFound, match="检查对象清单中没有：91"):
        _retire(wf, "targets", [codes[0], "911302270000000000"])
    assert wf.head() == head  # nothing changed, not even the known one
    with pytest.raises(InvalidInput, match="说明停用或恢复的原因") as e:
        directories.retire(wf.raw, "targets", codes, reason=" ", actor="x", now=wf.event_time())
    assert e.value.needs == "reason"
    with pytest.raises(InvalidInput, match="只能停用 items"):
        _retire(wf, "inspectors", ["X"])
    _retire(wf, "targets", [codes[0]])
    again = _retire(wf, "targets", codes)
    assert (again.changed, again.unchanged) == ([codes[1]], [codes[0]])
    back = _retire(wf, "targets", [codes[0]], restore=True)
    assert back.changed == [codes[0]]
    assert queries.list_events(wf.engine)[-1]["kind"] == "target_restored"
    # a re-import of a retired row updates it, keeps it retired, and says so
    path = tmp_path / "t.csv"
    directories.write_table(directories.KINDS["targets"], path, [target_row(codes[1], grade="D")])
    s = directories.import_file(wf.raw, "targets", path, actor="x", now=wf.event_time())
    assert s.changed == 1
    assert s.warnings == [
        f"{codes[1]} 已停用：导入更新其内容，但仍为停用（恢复须另行办理并说明原因）"
    ]
