"""The draw against the database: eligibility rules, the record, verification, and what
follows the draw (confirmation, substitution, inspection sheets)."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest

from tests.conftest import add_account, code, inspector_row, load_directory, target_row
from workflow.core import audit, queries
from workflow.core.config import DrawSettings
from workflow.core.errors import InvalidInput, NotFound, TransitionRefused
from workflow.core.replay import replay
from workflow.core.writer import Workflow
from workflow.deadlines.calendar import WorkCalendar
from workflow.sampling import algorithm, plans, sheets, task_draw

ROOT = Path(__file__).resolve().parents[3]
UNIT = "迁西县人力资源和社会保障局"
ITEMS = [["JC-1", "劳动合同制度", "《劳动合同法》第七十四条", "书面合同", "现场", "一般"]]


def _task(wf: Workflow, plan: str = "2024001", **kw) -> int:  # type: ignore[no-untyped-def]
    from contextlib import suppress

    with suppress(InvalidInput):
        plans.create_plan(wf, plan, unit=UNIT, actor="x")
    t = plans.create_task(wf, plan, name="任务", actor="x", **kw)
    plans.publish(wf, plan, actor="x")
    return t


def _pool(n: int = 6, **kw) -> list[list[str]]:  # type: ignore[no-untyped-def]
    return [inspector_row(f"C{i:02d}", **kw) for i in range(n)]


def test_a_directed_draw_stratifies_by_grade_and_verifies_from_the_record(wf, tmp_path):
    grades = "AAAAABBBBBCCCCDD"
    codes = [code(i) for i in range(len(grades))]
    load_directory(
        wf, [target_row(c, grade=g) for c, g in zip(codes, grades, strict=True)], _pool()
    )
    t = _task(wf, task_type="directed", ratio="10%", stratum_ratios={"C": "50%"})
    record = task_draw.draw_task(wf, t, actor="抽取人", public_input="福彩3D 517")
    by_name = {s["name"]: s for s in record["strata"]}
    assert list(by_name) == ["A", "B", "C", "D"]
    # k = max(1, ceil(N × ratio)); D is raised to its configured floor of 20% (seed 001).
    assert [by_name[g]["k"] for g in "ABCD"] == [1, 1, 2, 1]
    assert by_name["D"]["ratio"] == "0.20" and "来源文件 001" in by_name["D"]["basis"]
    assert by_name["C"]["ratio"] == "0.5"
    assert task_draw.verify_task(wf, t) == []
    assert wf.task_state(t)[0] == "drawn"
    # The event reveals the secret behind the published commitment and vouches for the record.
    event = queries.list_events(wf.engine, t)[-1]
    data = event["payload"]["data"]
    assert algorithm.commitment_of(bytes.fromhex(data["secret"])) == data["commitment"]
    assert data["record_digest"] == task_draw.record_digest(record)
    shown = queries.show_task(wf.engine, t)
    assert sorted(r["target_code"] for r in shown["records"]) == sorted(
        x["code"] for x in record["targets"]
    )
    assert all(len(r["inspectors"]) == 2 for r in shown["records"])
    # The standalone checker agrees, and catches a changed record.
    path = tmp_path / "record.json"
    path.write_text(json.dumps(record, ensure_ascii=False), encoding="utf-8")
    checker = [sys.executable, str(ROOT / "docs" / "verify_draw.py"), str(path)]
    assert subprocess.run(checker, capture_output=True).returncode == 0
    record["strata"][0]["population"].append(code(999))
    record["strata"][0]["population"].sort()
    path.write_text(json.dumps(record, ensure_ascii=False), encoding="utf-8")
    assert subprocess.run(checker, capture_output=True).returncode == 1
    assert audit.verify_db(wf.raw).ok and replay(wf.raw).ok


def test_the_stored_record_cannot_be_changed(wf, engine):
    import sqlalchemy.exc
    from sqlalchemy import text

    load_directory(wf, [target_row(code(i)) for i in range(3)], _pool())
    t = _task(wf)
    task_draw.draw_task(wf, t, actor="x")
    with pytest.raises(sqlalchemy.exc.DBAPIError, match="append-only"), engine.begin() as c:
        c.execute(text("UPDATE draw_record SET record = '{}'"))
    with pytest.raises(sqlalchemy.exc.DBAPIError, match="append-only"), engine.begin() as c:
        c.execute(text("DELETE FROM draw_record"))


def test_targets_another_office_drew_this_period_join_that_visit(wf):
    codes = [code(i) for i in range(3)]
    load_directory(wf, [target_row(c) for c in codes], _pool())
    joint = _task(wf, ratio="1", initiating_office="社会保险科", months="2024-04")
    task_draw.draw_task(wf, joint, actor="x")
    t = _task(wf, ratio="1", initiating_office="劳动保障监察大队", months="2024-04..2024-05")
    with pytest.raises(InvalidInput, match="排除 3 户"):
        task_draw.draw_task(wf, t, actor="x")  # everyone joins the other office's visit
    load_directory(wf, [target_row(code(9))])
    record = task_draw.draw_task(wf, t, actor="x")
    (stratum,) = record["strata"]
    reasons = {e["code"]: e["reason"] for e in stratum["exclusions"]}
    assert set(reasons) == set(codes) and stratum["drawn"] == [code(9)]
    assert all("联合检查" in r and "社会保险科" in r for r in reasons.values())
    # The same office, or a period that does not overlap, is not a joint visit.
    same_office = _task(wf, ratio="1", initiating_office="社会保险科", months="2024-04")
    later = _task(wf, ratio="1", initiating_office="就业促进股", months="2024-09")
    kept = task_draw.draw_task(wf, same_office, actor="x")["strata"][0]
    assert [e["code"] for e in kept["exclusions"]] == [code(9)]  # t's target, another office
    assert task_draw.draw_task(wf, later, actor="x")["strata"][0]["exclusions"] == []


def test_same_year_rule_leaves_out_grade_a_and_clean_targets(wf):
    a_inspected, a_fresh, clean, dirty = (code(i) for i in range(4))
    load_directory(
        wf,
        [
            target_row(a_inspected, grade="A", last_inspected="2024-02-01"),
            target_row(a_fresh, grade="A", last_inspected="2023-06-01"),
            target_row(clean),
            target_row(dirty),
        ],
        _pool(),
    )
    first = _task(wf, ratio="1", months="2024-01")
    task_draw.draw_task(wf, first, actor="x")
    for c in (a_fresh, clean, dirty):
        wf.set_result(first, c, "problem" if c == dirty else "no_problem", actor="x")
    second = _task(wf, ratio="1", months="2024-05")  # same office, later: no joint visit
    record = task_draw.draw_task(wf, second, actor="x")
    (stratum,) = record["strata"]
    reasons = {e["code"]: e["reason"] for e in stratum["exclusions"]}
    assert set(reasons) == {a_inspected, a_fresh, clean}
    assert "A 级" in reasons[a_inspected] and "2024-02-01" in reasons[a_inspected]
    assert "来源文件 002" in reasons[clean] and "未发现问题" in reasons[clean]
    assert stratum["population"] == [dirty] and stratum["drawn"] == [dirty]
    assert algorithm.verify_record(record) == []


def test_rules_can_be_switched_off(engine, clock):
    wf = Workflow(
        engine, calendar=WorkCalendar(), clock=clock, rules=DrawSettings(skip_clean_this_year=False)
    )
    load_directory(wf, [target_row(code(1), grade="A", last_inspected="2024-02-01")], _pool())
    t = _task(wf, ratio="1")
    record = task_draw.draw_task(wf, t, actor="x")
    assert record["strata"][0]["exclusions"] == [] and record["strata"][0]["drawn"] == [code(1)]
    wf.close()


def test_targets_with_many_complaints_form_their_own_stratum(wf):
    rows = [target_row(code(i), grade="B", complaints=str(5 if i < 4 else 0)) for i in range(20)]
    load_directory(wf, rows, _pool(8))
    t = _task(wf, task_type="directed", ratio="5%")
    record = task_draw.draw_task(wf, t, actor="x")
    by_name = {s["name"]: s for s in record["strata"]}
    assert set(by_name) == {"B", "complaints"}
    assert by_name["complaints"]["population"] == sorted(code(i) for i in range(4))
    assert by_name["complaints"]["ratio"] == "0.20" and by_name["complaints"]["k"] == 1


def test_inspectors_are_matched_by_field_recusal_and_availability(wf):
    target = code(1)
    pool = [
        inspector_row("OK1", fields="社会保险"),
        inspector_row("OK2", fields="社会保险;劳动保障监察"),
        inspector_row("OK3", fields="社会保险"),
        inspector_row("WRONG", fields="劳动保障监察"),
        inspector_row("RECUSED", fields="社会保险", recusal=target),
        inspector_row("AWAY", fields="社会保险", available="否"),
    ]
    load_directory(wf, [target_row(target)], pool)
    t = _task(wf, ratio="1", inspector_field="社会保险")
    record = task_draw.draw_task(wf, t, actor="x")
    (drawn,) = record["targets"]
    assert sorted(drawn["eligible"]) == ["OK1", "OK2", "OK3"]
    assert len(drawn["group"]) == 2 and record["field"] == "社会保险"


def test_refusals_write_nothing(wf):
    plans.create_plan(wf, "2024001", unit=UNIT, actor="x")
    t = plans.create_task(wf, "2024001", name="未公布", actor="x")
    load_directory(wf, [target_row(code(1))], [inspector_row("ONLY")])
    before = wf.head()
    with pytest.raises(TransitionRefused, match="请先公布计划 2024001") as e:
        task_draw.draw_task(wf, t, actor="x")
    assert [(s.action, s.args) for s in e.value.steps] == [("plan.publish", {"plan": "2024001"})]
    plans.publish(wf, "2024001", actor="x")
    before = wf.head()
    with pytest.raises(InvalidInput, match=f"检查对象 {code(1)} 只有 1 名可用执法人员"):
        task_draw.draw_task(wf, t, actor="x")
    assert wf.head() == before and wf.task_state(t)[0] == "planned"
    empty = _task(wf, filters={"region": ["无此地区"]})
    with pytest.raises(InvalidInput, match="没有可抽取的检查对象"):
        task_draw.draw_task(wf, empty, actor="x")
    load_directory(wf, inspectors=[inspector_row("SECOND")])
    task_draw.draw_task(wf, t, actor="x")
    with pytest.raises(TransitionRefused, match="只抽取一次"):
        task_draw.draw_task(wf, t, actor="x")
    with pytest.raises(NotFound):
        task_draw.load_record(wf, empty)


def _at(clock, y: int, m: int, d: int, hour: int = 2) -> None:  # type: ignore[no-untyped-def]
    clock.set(datetime(y, m, d, hour, 0, tzinfo=UTC))


def test_confirmation_is_due_within_two_working_days_of_the_draw(wf, clock):
    load_directory(wf, [target_row(code(i)) for i in range(2)], _pool())
    on_time, late = _task(wf, ratio="1"), _task(wf, ratio="1")
    # Drawn Friday 2024-09-13. Saturday 09-14 is a make-up working day, 15–17 the Mid-Autumn
    # holiday: the second working day after the draw is Wednesday 09-18.
    _at(clock, 2024, 9, 13)
    task_draw.draw_task(wf, on_time, actor="x")
    task_draw.draw_task(wf, late, actor="x")
    _at(clock, 2024, 9, 18, hour=9)  # 17:00 in Shanghai
    p = task_draw.confirm(wf, on_time, actor="x")
    assert p == {"drawn_on": "2024-09-13", "due": "2024-09-18", "late": False}
    with pytest.raises(InvalidInput, match=r"已于 .* 确认"):
        task_draw.confirm(wf, on_time, actor="x")
    _at(clock, 2024, 9, 19)
    with pytest.raises(InvalidInput, match=r"应在 2024-09-18 前确认.*须说明原因") as e:
        task_draw.confirm(wf, late, actor="x")
    assert e.value.needs == "reason"
    assert task_draw.confirm(wf, late, actor="x", reason="主任出差")["late"] is True
    assert queries.list_events(wf.engine, late)[-1]["reason"] == "主任出差"


def test_substitution_takes_the_next_substitute_in_draw_order(wf):
    target = code(1)
    load_directory(wf, [target_row(target)], _pool(6))
    t = _task(wf, ratio="1")
    record = task_draw.draw_task(wf, t, actor="x")
    (drawn,) = record["targets"]
    out, first_sub, second_sub = drawn["group"][0], *drawn["substitutes"][:2]
    # The first substitute has since become unavailable: the next one is taken, and the skip
    # is recorded with its reason.
    load_directory(wf, inspectors=[inspector_row(first_sub, available="否")])
    with pytest.raises(InvalidInput, match="递补须说明原因") as e:
        task_draw.substitute(wf, t, target, out, reason=" ", actor="x")
    assert e.value.needs == "reason"
    p = task_draw.substitute(wf, t, target, out, reason="回避：亲属任职", actor="x")
    assert (p["out"], p["in"]) == (out, second_sub)
    assert p["skipped"] == [{"cert": first_sub, "reason": "目前不可用"}]
    group = queries.show_task(wf.engine, t)["records"][0]["inspectors"]
    assert group == [second_sub, drawn["group"][1]]
    with pytest.raises(InvalidInput, match="不在检查对象"):
        task_draw.substitute(wf, t, target, out, reason="再次", actor="x")
    # the one substituted out is never drawn back in
    p = task_draw.substitute(wf, t, target, second_sub, reason="病假", actor="x")
    assert p["in"] not in (out, second_sub, first_sub)
    assert replay(wf.raw).ok and task_draw.verify_task(wf, t) == []


def test_inspection_sheets_one_per_target(wf, tmp_path):
    from openpyxl import load_workbook

    codes = [code(i) for i in range(3)]
    load_directory(wf, [target_row(c) for c in codes], _pool(), ITEMS)
    t = _task(wf, ratio="1", item_codes=["JC-1"])
    task_draw.draw_task(wf, t, actor="x")
    out = tmp_path / "sheets"
    with pytest.raises(InvalidInput, match="抽取结果尚未确认") as e:
        sheets.make_sheets(wf, t, out, actor="x")
    assert [(s.action, s.args) for s in e.value.steps] == [("draw.confirm", {"task": t})]
    assert not out.exists()
    task_draw.confirm(wf, t, actor="x")
    files = sheets.make_sheets(wf, t, out, actor="x")
    assert sorted(f["target_code"] for f in files) == sorted(codes)
    records = {r["target_code"]: r for r in queries.show_task(wf.engine, t)["records"]}
    for f in files:
        ws = load_workbook(out / f["file"]).worksheets[0]
        cells = [str(c.value) for row in ws.iter_rows() for c in row if c.value is not None]
        assert f["target_code"] in cells and "《劳动合同法》第七十四条" in cells
        assert all(cert in cells for cert in records[f["target_code"]]["inspectors"])
    event = queries.list_events(wf.engine, t)[-1]
    assert event["kind"] == "sheets_made" and event["payload"]["files"] == files


def test_a_created_tasks_scope_bounds_its_population_as_the_plan_table_does(wf, tmp_path):
    """Issue #9: ``task create --scope 用人单位`` drew from the whole directory, and excluded
    other tasks' dispatch firms as joint visits."""
    employers = [code(i) for i in range(3)]
    dispatch = [code(10 + i) for i in range(2)]
    agency = code(20)
    load_directory(
        wf,
        [target_row(c) for c in employers]
        + [target_row(c, type="劳务派遣单位") for c in dispatch]
        + [target_row(agency, type="人力资源服务机构")],
        _pool(),
    )
    other = _task(
        wf, ratio="1", initiating_office="社会保险科", months="2024-04", scope="劳务派遣单位"
    )
    assert sorted(task_draw.draw_task(wf, other, actor="x")["strata"][0]["drawn"]) == sorted(
        dispatch
    )
    t = _task(
        wf, ratio="1", initiating_office="劳动保障监察大队", months="2024-04", scope="用人单位"
    )
    assert queries.show_task(wf.engine, t)["filters"] == {"type": ["用人单位"]}
    (stratum,) = task_draw.draw_task(wf, t, actor="x")["strata"]
    assert sorted(stratum["population"]) == sorted(employers)
    assert stratum["exclusions"] == []  # the other task's firms are outside this population
    # The same scope in a plan table gives the same filters: one code path.
    table = tmp_path / "plan.csv"
    header = [c.header for c in plans.PLAN_TABLE.cols[:13]]
    row = [
        "1",
        UNIT,
        "2024002",
        "",
        "001号",
        "任务",
        "不定向",
        "5%",
        "",
        "社保经办机构",
        "",
        "",
        "",
    ]
    table.write_text(",".join(header) + "\n" + ",".join(row) + "\n", encoding="utf-8")
    plans.import_plan_table(wf, table, actor="x", rules=wf.rules, dry_run=False)
    imported = queries.show_plan(wf.engine, "2024002")["tasks"][0]["id"]
    created = plans.create_task(wf, "2024002", name="任务", actor="x", scope="社保经办机构")
    assert (
        queries.show_task(wf.engine, imported)["filters"]
        == queries.show_task(wf.engine, created)["filters"]
        == {"type": ["社会保险经办机构"]}
    )
    # A scope that names no target type, or conditions outside it, are refused.
    with pytest.raises(InvalidInput, match="抽查对象范围 '火星企业' 无效"):
        plans.create_task(wf, "2024002", name="任务", actor="x", scope="火星企业")
    with pytest.raises(InvalidInput, match="类型 劳务派遣单位 超出抽查对象范围"):
        plans.create_task(
            wf,
            "2024002",
            name="任务",
            actor="x",
            task_type="directed",
            scope="用人单位",
            filters={"type": ["劳务派遣单位"]},
        )


def test_substitution_is_refused_once_the_target_has_a_result(wf):
    """Issue #9: a substitution after the result silently kept it under another group."""
    target = code(1)
    load_directory(wf, [target_row(target)], _pool(6))
    t = _task(wf, ratio="1")
    (drawn,) = task_draw.draw_task(wf, t, actor="x")["targets"]
    wf.set_result(t, target, "problem", actor=drawn["group"][0])
    before = (wf.head(), queries.show_task(wf.engine, t)["records"])
    with pytest.raises(InvalidInput) as e:
        task_draw.substitute(wf, t, target, drawn["group"][0], reason="病假", actor="x")
    message = str(e.value)
    assert f"任务 {t}（2024001 001号）" in message and target in message
    assert "已录入检查结果“发现问题”（problem）" in message and "不能递补" in message
    assert (wf.head(), queries.show_task(wf.engine, t)["records"]) == before


def test_a_joint_visit_carries_both_tasks_items_and_counts_once(wf, db_url, tmp_path):
    """Issue #9: a target merged into another office's visit lost the joining task's items."""
    from alembic import command
    from openpyxl import load_workbook
    from sqlalchemy import inspect, text
    from typer.testing import CliRunner

    from workflow.cli.main import app
    from workflow.core import schema

    items = [
        *ITEMS,
        [
            "JC-2",
            "农民工工资支付",
            "《保障农民工工资支付条例》第五十四条",
            "按月足额",
            "现场",
            "重点",
        ],
    ]
    shared = sorted(code(i) for i in range(3))
    own = code(9)
    load_directory(wf, [target_row(c) for c in shared], _pool(), items)
    x = _task(wf, ratio="1", initiating_office="社会保险科", months="2024-04", item_codes=["JC-1"])
    task_draw.draw_task(wf, x, actor="x")
    load_directory(wf, [target_row(own)])
    y = _task(
        wf,
        ratio="1",
        initiating_office="劳动保障监察大队",
        months="2024-04..2024-05",
        item_codes=["JC-2"],
    )
    x_version = wf.task_state(x)[1]
    record = task_draw.draw_task(wf, y, actor="抽取人")
    # Y's record: the shared targets are excluded with a reason naming X's task; Y draws only
    # its own target and has no record of its own for the shared ones (counts once).
    (stratum,) = record["strata"]
    assert stratum["drawn"] == [own]
    reasons = {e["code"]: e["reason"] for e in stratum["exclusions"]}
    assert sorted(reasons) == shared
    assert all(f"任务 2024001 001号（ID {x}）" in r and "联合检查" in r for r in reasons.values())
    shown_y = queries.show_task(wf.engine, y)
    assert [r["target_code"] for r in shown_y["records"]] == [own]
    entry = {"task_id": y, "task_no": "002号", "office": "劳动保障监察大队", "item_codes": ["JC-2"]}
    # X's records carry Y's items, each through an event of X in Y's draw transaction.
    shown_x = queries.show_task(wf.engine, x)
    assert {r["target_code"]: r["joined"] for r in shown_x["records"]} == {
        c: [entry] for c in shared
    }
    assert wf.task_state(x)[1] == x_version + 3
    events = queries.list_events(wf.engine)
    draw_seq = next(e["seq"] for e in events if e["task_id"] == y and e["to_state"] == "drawn")
    joins = [e for e in events if e["kind"] == "joint_visit_joined"]
    assert [e["seq"] for e in joins] == [draw_seq + 1, draw_seq + 2, draw_seq + 3]
    assert [(e["task_id"], e["payload"]) for e in joins] == [
        (x, {"target_code": c, "joined": entry}) for c in shared
    ]
    # Y lists the shared targets as inspected within X's visit, with X's result once recorded.
    assert [(v["target_code"], v["task_id"], v["result"]) for v in shown_y["joint_visits"]] == [
        (c, x, None) for c in shared
    ]
    group = shown_x["records"][0]["inspectors"]
    wf.set_result(x, shared[0], "no_problem", actor=group[0])
    first = queries.show_task(wf.engine, y)["joint_visits"][0]
    assert (first["result"], first["result_label"]) == ("no_problem", "未发现问题")
    assert queries.show_task(wf.engine, x)["joint_visits"] == []
    # A database from before the joint_visit table (migration 0010): upgrading builds it from
    # the records' ``joined``, and the visits show as before.
    cfg = schema._alembic_config()
    with wf.engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.downgrade(cfg, "0009")
    with wf.engine.connect() as conn:
        assert "joint_visit" not in inspect(conn).get_table_names()
    assert schema.upgrade(wf.engine) == ("0009", schema.head_revision())
    assert queries.show_task(wf.engine, y)["joint_visits"][0] == first
    assert [v["target_code"] for v in queries.show_task(wf.engine, y)["joint_visits"]] == shared
    # The inspection sheet of a shared target lists both tasks' items.
    task_draw.confirm(wf, x, actor="x")
    out = tmp_path / "sheets"
    files = sheets.make_sheets(wf, x, out, actor="x")
    ws = load_workbook(out / files[1]["file"]).worksheets[0]
    cells = [str(c.value) for row in ws.iter_rows() for c in row if c.value is not None]
    assert "《劳动合同法》第七十四条" in cells and "《保障农民工工资支付条例》第五十四条" in cells
    assert any("联合检查：任务 2024001 002号（劳动保障监察大队）" in c for c in cells)
    # The command line shows it on both sides (to a clerk's account).
    add_account(wf, "录入员", "clerk")
    runner = CliRunner()
    as_clerk = ["--db", db_url, "--as", "录入员"]
    out_x = runner.invoke(app, [*as_clerk, "task", "show", str(x)]).stdout
    assert f"联合检查：并入任务 {y}（002号，劳动保障监察大队），一并检查事项 JC-2" in out_x
    out_y = runner.invoke(app, [*as_clerk, "task", "show", str(y)]).stdout
    assert f"（{shared[0]}）" in out_y and f"在任务 {x}（2024001 001号，社会保险科）" in out_y
    assert "结果 未发现问题" in out_y
    record_x = runner.invoke(app, [*as_clerk, "draw", "record", str(x)]).stdout
    assert f"任务 {y}（002号，劳动保障监察大队）抽取时并入本次检查" in record_x
    # Replay rebuilds ``joined`` from the log, and catches a write that bypassed it.
    assert replay(wf.raw).ok and replay(wf.raw, task_id=x).ok
    assert task_draw.verify_task(wf, x) == [] and task_draw.verify_task(wf, y) == []
    with wf.engine.begin() as c:
        c.execute(
            text("UPDATE inspection_record SET joined = '[]' WHERE target_code = :c"),
            {"c": shared[1]},
        )
    bad = replay(wf.raw)
    assert not bad.ok and [m["target"] for m in bad.mismatches] == [shared[1]]


def test_a_visit_with_a_result_is_not_joined(wf):
    codes = [code(i) for i in range(2)]
    load_directory(wf, [target_row(c) for c in codes], _pool())
    x = _task(wf, ratio="1", initiating_office="社会保险科", months="2024-04")
    task_draw.draw_task(wf, x, actor="x")
    group = queries.show_task(wf.engine, x)["records"][0]["inspectors"]
    done = queries.show_task(wf.engine, x)["records"][0]["target_code"]
    wf.set_result(x, done, "problem", actor=group[0])
    y = _task(wf, ratio="1", initiating_office="劳动保障监察大队", months="2024-04")
    (stratum,) = task_draw.draw_task(wf, y, actor="x")["strata"]
    # the visit already made is no visit to join: the target stays in Y's population
    assert stratum["drawn"] == [done]
    assert [e["code"] for e in stratum["exclusions"]] == [c for c in codes if c != done]
    assert replay(wf.raw).ok
