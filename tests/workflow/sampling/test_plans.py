"""Annual plans: the seed-004 table, numbering and naming, ratio floors, publication."""

from __future__ import annotations

import csv
import hashlib
import json
from pathlib import Path

import pytest

from tests.conftest import load_directory
from workflow.core import audit, queries
from workflow.core.config import DrawSettings
from workflow.core.errors import InvalidInput
from workflow.core.writer import Workflow
from workflow.deadlines.calendar import WorkCalendar
from workflow.sampling import plans
from workflow.sampling.directories import ImportRejected

HEADER = [c.header for c in plans.PLAN_TABLE.cols[:13]]  # the seed's own thirteen columns
UNIT = "迁西县人力资源和社会保障局"
SEED_ROW = [
    "1",
    UNIT,
    "2024001",
    "2024年迁西县人力资源和社会保障局内部联合随机抽查001",
    "001号",
    "人社局加强监管,规范执法“双随机”抽查",
    "定向",
    "10%",
    "按照人社局随机抽查事项清单(清单年度全覆盖)",
    "人力资源服务机构 社保经办机构",
    "劳动保障监察大队",
    "社会保险科 社会保险中心",
    "2024年4月",
]
ITEMS = [
    ["JC-1", "劳动合同制度", "《劳动合同法》第七十四条", "书面合同", "现场", "一般"],
    ["JC-2", "农民工工资支付", "《保障农民工工资支付条例》第五十四条", "按月足额", "现场", "重点"],
]


def _table(path: Path, rows: list[list[str]], header: list[str] = HEADER) -> Path:
    with open(path, "w", encoding="utf-8", newline="") as f:
        csv.writer(f).writerows([header, *rows])
    return path


def _import(wf: Workflow, path: Path, **kw) -> plans.PlanImport:  # type: ignore[no-untyped-def]
    return plans.import_plan_table(wf, path, actor="录入员", rules=wf.rules, dry_run=False, **kw)


def test_the_seed_004_table_imports_with_its_numbering_naming_and_fields(wf, tmp_path):
    load_directory(wf, items=ITEMS)
    s = _import(wf, _table(tmp_path / "plan.csv", [SEED_ROW]))
    assert (s.plans_created, s.tasks_created) == (["2024001"], 1)
    p = queries.show_plan(wf.engine, "2024001")
    assert p["name"] == SEED_ROW[3] and p["unit"] == UNIT and p["year"] == 2024
    t = queries.show_task(wf.engine, p["tasks"][0]["id"])
    assert (t["task_no"], t["task_type"], t["ratio"], t["months"]) == (
        "001号",
        "directed",
        "0.1",
        "2024-04",
    )
    assert t["item_codes"] == ["JC-1", "JC-2"]  # 清单年度全覆盖: the whole list
    assert t["filters"] == {"type": ["人力资源服务机构", "社会保险经办机构"]}
    assert t["joining_offices"] == ["社会保险科", "社会保险中心"]
    kinds = [e["kind"] for e in queries.list_events(wf.engine)]
    assert kinds[-2:] == ["plan_created", "task_created"]
    # The same file again changes nothing; a changed task is refused, not silently altered.
    assert _import(wf, _table(tmp_path / "plan.csv", [SEED_ROW])).tasks_unchanged == 1
    changed = [*SEED_ROW[:7], "20%", *SEED_ROW[8:]]
    with pytest.raises(ImportRejected, match="内容不同"):
        _import(wf, _table(tmp_path / "changed.csv", [changed]))


def test_a_bad_table_is_rejected_whole_with_every_problem_located(wf, tmp_path):
    load_directory(wf, items=ITEMS)
    before = wf.head()
    rows = [
        SEED_ROW,
        [
            "2",
            UNIT,
            "2024001",
            SEED_ROW[3],
            "002号",
            "任务二",
            "定向(或者不定向)",
            "10%",
            "",
            "",
            "",
            "",
            "",
        ],
        ["3", UNIT, "2024001", SEED_ROW[3], "003号", "任务三", "不定向", "2%", "", "", "", "", ""],
        [
            "4",
            UNIT,
            "2024001",
            SEED_ROW[3],
            "004号",
            "任务四",
            "不定向",
            "5%",
            "不存在的事项",
            "",
            "",
            "",
            "",
        ],
        [
            "5",
            UNIT,
            "2024001",
            SEED_ROW[3],
            "005号",
            "任务五",
            "不定向",
            "5%",
            "",
            "",
            "",
            "",
            "2023年4月",
        ],
        ["6", UNIT, "2024001", SEED_ROW[3], "001号", "任务六", "不定向", "5%", "", "", "", "", ""],
        [
            "7",
            "别的局",
            "2024001",
            SEED_ROW[3],
            "007号",
            "任务七",
            "不定向",
            "5%",
            "",
            "",
            "",
            "",
            "",
        ],
        [
            "8",
            UNIT,
            "2024001",
            SEED_ROW[3],
            "008号",
            "任务八",
            "不定向",
            "5%",
            "",
            "火星企业",
            "",
            "",
            "",
        ],
    ]
    path = _table(tmp_path / "bad.csv", rows)
    with pytest.raises(ImportRejected) as e:
        _import(wf, path)
    problems = e.value.problems
    expected = [
        (3, "抽查类型", "应为 定向 或 不定向"),
        (4, "抽查比例", "低于下限 5%"),
        (5, "抽查事项", "不在抽查事项清单中"),
        (6, "抽查时间", "不在计划年度 2024 年内"),
        (7, "抽查任务编号", "与第 2 行的任务编号重复"),
        (8, "单位", "与第 2 行同一计划的值不一致"),
        (9, "抽查对象范围", "不是检查对象类型"),
    ]
    for row, column, message in expected:
        assert any(p.startswith(f"{path}:{row}:{column}: ") and message in p for p in problems), (
            row,
            column,
            problems,
        )
    assert wf.head() == before and queries.list_plans(wf.engine) == []


def test_an_xlsx_table_from_the_template_imports(wf, tmp_path):
    from openpyxl import load_workbook

    load_directory(wf, items=ITEMS)
    path = tmp_path / "plan.xlsx"
    plans.write_plan_template(path)
    wb = load_workbook(path)
    ws = wb.worksheets[0]
    assert [c.value for c in ws[1]][:13] == HEADER
    ws.append([*SEED_ROW, "信用风险等级=C,D", "C=20%", "劳动保障监察"])
    wb.save(path)
    _import(wf, path)
    task = queries.show_task(wf.engine, 1)
    assert task["filters"] == {
        "grade": ["C", "D"],
        "type": ["人力资源服务机构", "社会保险经办机构"],
    }
    assert task["stratum_ratios"] == {"C": "0.2"} and task["inspector_field"] == "劳动保障监察"


def test_dry_run_writes_nothing(wf, tmp_path):
    load_directory(wf, items=ITEMS)
    before = wf.head()
    s = plans.import_plan_table(
        wf, _table(tmp_path / "p.csv", [SEED_ROW]), actor="x", rules=wf.rules, dry_run=True
    )
    assert s.tasks_created == 1 and s.dry_run
    assert wf.head() == before and queries.list_plans(wf.engine) == []


def test_ratio_floors_depend_on_the_level_and_major_items_have_no_ceiling(engine, clock):
    county = Workflow(engine, calendar=WorkCalendar(), clock=clock)
    load_directory(county, items=ITEMS)
    plans.create_plan(county, "2024001", unit=UNIT, actor="x")
    with pytest.raises(InvalidInput, match=r"3% 低于下限 5%（县级"):
        plans.create_task(county, "2024001", name="t", actor="x", ratio="3%")
    with pytest.raises(InvalidInput, match=r"分层 C 的比例 4% 低于下限"):
        plans.create_task(
            county, "2024001", name="t", actor="x", task_type="directed", stratum_ratios={"C": "4%"}
        )
    province = Workflow(
        engine, calendar=WorkCalendar(), clock=clock, rules=DrawSettings(level="province")
    )
    assert plans.create_task(province, "2024001", name="t", actor="x", ratio="3%")
    capped = Workflow(
        engine,
        calendar=WorkCalendar(),
        clock=clock,
        rules=DrawSettings(general_ratio_ceiling="0.2"),
    )
    with pytest.raises(InvalidInput, match="超过一般事项上限 20%"):
        plans.create_task(capped, "2024001", name="t", actor="x", ratio="30%", item_codes=["JC-1"])
    assert plans.create_task(
        capped, "2024001", name="t", actor="x", ratio="50%", item_codes=["JC-2"]
    )
    with pytest.raises(InvalidInput, match="不定向抽查不设抽取条件"):
        plans.create_task(county, "2024001", name="t", actor="x", filters={"grade": ["C"]})
    for w in (county, province, capped):
        w.close()


def test_plan_names_follow_the_seed_rule(wf):
    plans.create_plan(wf, "2024003", unit="元氏县人社局", actor="x")
    assert queries.show_plan(wf.engine, "2024003")["name"] == "2024年元氏县人社局随机抽查003"
    with pytest.raises(InvalidInput, match="年度\\+部门\\+随机抽查\\+序号"):
        plans.create_plan(wf, "2024004", unit="元氏县人社局", actor="x", name="元氏县抽查")
    with pytest.raises(InvalidInput, match="2024001"):
        plans.create_plan(wf, "24-1", unit="u", actor="x")


def test_publication_logs_each_commitment_and_keeps_the_secret_until_the_draw(wf):
    plans.create_plan(wf, "2024001", unit=UNIT, actor="x")
    with pytest.raises(InvalidInput, match="没有任务"):
        plans.publish(wf, "2024001", actor="x")
    a = plans.create_task(wf, "2024001", name="甲", actor="x")
    b = plans.create_task(wf, "2024001", name="乙", actor="x")
    done = plans.publish(wf, "2024001", actor="发布人")
    assert [d["task_id"] for d in done] == [a, b]
    events = queries.list_events(wf.engine)
    published = events[-1]
    assert published["kind"] == "plan_published" and published["payload"]["tasks"] == done
    committed = [e for e in events if e["kind"] == "draw_committed"]
    assert [e["payload"]["commitment"] for e in committed] == [d["commitment"] for d in done]
    with wf.raw.read() as cur:
        cur.execute("SELECT task_id, secret FROM draw_secret ORDER BY task_id")
        secrets = dict(cur.fetchall())
    for d in done:
        secret = secrets[d["task_id"]]
        assert hashlib.sha256(bytes.fromhex(secret)).hexdigest() == d["commitment"]
        assert all(secret not in json.dumps(e["payload"]) for e in events)  # not revealed yet
    assert queries.show_plan(wf.engine, "2024001")["published_at"]
    with pytest.raises(InvalidInput, match=r"已于 .* 公布，没有新增任务"):
        plans.publish(wf, "2024001", actor="x")
    c = plans.create_task(wf, "2024001", name="丙", actor="x")
    assert [d["task_id"] for d in plans.publish(wf, "2024001", actor="x")] == [c]
    assert audit.verify_db(wf.raw).ok


@pytest.mark.parametrize(
    ("text", "year", "expected"),
    [
        ("2024年4月", 2024, "2024-04"),
        ("2022年6-7月", 2022, "2022-06..2022-07"),
        ("2022年10月至11月", 2022, "2022-10..2022-11"),
        ("2024-04..2024-05", 2024, "2024-04..2024-05"),
        ("2024/12", 2024, "2024-12"),
        ("2024/3-2024/5", 2024, "2024-03..2024-05"),
        ("", 2024, ""),
    ],
)
def test_month_windows(text, year, expected):
    assert plans.normalize_months(text, year) == expected


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("四月", "无效：应为月份"),
        ("2024年13月", "无效：月份 13 超出范围"),
        ("2024年7-6月", "无效：起止颠倒"),
        ("2023/12", "不在计划年度 2024 年内"),
        ("2024年11月-2025年1月", "不在计划年度 2024 年内"),
    ],
)
def test_bad_month_windows_are_named(text, message):
    with pytest.raises(InvalidInput, match=f"抽查时间 '{text}' {message}"):
        plans.normalize_months(text, 2024)


# --- what clerks type (issue #9 §3) -------------------------------------------------------------

CLERK_ITEMS = [
    ["ｑｘ-ld-007", "工资支付", "《条例》", "台账", "现场检查、书面检查", "重点事项"],
    ["QX-LD-008", "劳动合同制度", "《劳动合同法》", "合同", "现场", "一般"],
]


def test_the_plan_table_as_clerks_type_it(wf, tmp_path):
    load_directory(wf, items=CLERK_ITEMS)
    row = [
        "1",
        UNIT,
        "２０２４００１",  # full-width digits
        "",
        "1",  # the task number without padding or 号
        "专项抽查",
        "定向抽查",
        "１０％",
        "qx-ld-007、劳动合同制度",  # a lower-case code and a name
        "社保经办机构",
        "劳动保障监察大队",
        "社会保险科",
        "２０２４年４月",
        "信用风险等级＝c级,D；规模=小型企业",
        "c级=20％",
        "劳动保障监察",
    ]
    _import(wf, _table(tmp_path / "plan.csv", [row], [c.header for c in plans.PLAN_TABLE.cols]))
    p = queries.show_plan(wf.engine, "2024001")
    t = queries.show_task(wf.engine, p["tasks"][0]["id"])
    assert (t["task_no"], t["task_type"], t["ratio"], t["months"]) == (
        "001号",
        "directed",
        "0.1",
        "2024-04",
    )
    assert t["item_codes"] == ["QX-LD-007", "QX-LD-008"]
    assert t["filters"] == {"grade": ["C", "D"], "size": ["小型"], "type": ["社会保险经办机构"]}
    assert t["stratum_ratios"] == {"C": "0.2"}


def test_task_creation_normalises_types_codes_conditions_and_strata(wf):
    load_directory(wf, items=CLERK_ITEMS)
    plans.create_plan(wf, "２０２４００１", unit=UNIT, actor="x")
    t = plans.create_task(
        wf,
        "2024001",
        name="专项",
        actor="x",
        task_type="定向",
        task_no="２号",
        ratio="10 ％",
        item_codes=["qx-ld-007", "ＱＸ－ＬＤ－００８"],
        filters={"grade": ["c级", "Ｄ"], "type": ["社保经办机构"], "size": ["小型企业"]},
        stratum_ratios={"未评级": "30%", "d": "40%"},
        inspector_field=" 劳动保障监察 ",
    )
    task = queries.show_task(wf.engine, t)
    assert (task["task_type"], task["task_no"], task["ratio"]) == ("directed", "002号", "0.1")
    assert task["item_codes"] == ["QX-LD-007", "QX-LD-008"]
    assert task["filters"] == {
        "grade": ["C", "D"],
        "type": ["社会保险经办机构"],
        "size": ["小型"],
    }
    assert task["stratum_ratios"] == {"未评级": "0.3", "D": "0.4"}
    assert task["inspector_field"] == "劳动保障监察"
    with pytest.raises(InvalidInput, match="定向条件 信用风险等级 的值 E级 无效"):
        plans.create_task(
            wf, "2024001", name="x", actor="x", task_type="定向", filters={"grade": ["E级"]}
        )


def test_retired_items_cannot_be_named_in_new_tasks(wf, tmp_path):
    from workflow.sampling import directories

    load_directory(wf, items=CLERK_ITEMS)
    plans.create_plan(wf, "2024001", unit=UNIT, actor="x")
    kept = plans.create_task(wf, "2024001", name="在先", actor="x", item_codes=["QX-LD-008"])
    s = directories.retire(
        wf.raw, "items", ["qx-ld-008"], reason="清单调整", actor="x", now=wf.event_time()
    )
    assert s.changed == ["QX-LD-008"]
    # history kept: the earlier task still names it
    assert queries.show_task(wf.engine, kept)["item_codes"] == ["QX-LD-008"]
    with pytest.raises(InvalidInput, match="QX-LD-008 已停用，不能用于新任务"):
        plans.create_task(wf, "2024001", name="在后", actor="x", item_codes=["QX-LD-008"])
    header = [c.header for c in plans.PLAN_TABLE.cols[:13]]
    row = [*SEED_ROW[:4], "", "新任务", "不定向", "10%", "劳动合同制度", "", "", "", ""]
    with pytest.raises(ImportRejected, match="抽查事项: QX-LD-008 已停用"):
        _import(wf, _table(tmp_path / "p.csv", [row], header))
    # "the whole list" means the items in use
    whole = [*row[:5], "全覆盖", *row[6:8], "按照事项清单", *row[9:]]
    _import(wf, _table(tmp_path / "w.csv", [whole], header))
    task = [t for t in queries.show_plan(wf.engine, "2024001")["tasks"] if t["name"] == "全覆盖"]
    assert queries.show_task(wf.engine, task[0]["id"])["item_codes"] == ["QX-LD-007"]


def test_the_plan_template_offers_the_task_types_as_a_drop_down(tmp_path):
    from openpyxl import load_workbook

    path = tmp_path / "plan.xlsx"
    plans.write_plan_template(path)
    wb = load_workbook(path)
    (dv,) = wb.worksheets[0].data_validations.dataValidation
    assert dv.formula1 == '"定向,不定向"' and str(dv.sqref).startswith("G2:")
    notes = {r[0]: r for r in wb["填写说明"].iter_rows(min_row=2, values_only=True)}
    assert notes["抽查类型"][2] == "定向/不定向（也接受：定向抽查、不定向抽查）"
    assert "社保经办机构" in notes["抽查对象范围"][3]


def test_a_plan_field_no_inspector_has_is_a_warning(wf, tmp_path):
    from tests.conftest import inspector_row

    load_directory(wf, items=ITEMS, inspectors=[inspector_row("C1", fields="劳动保障监察")])
    header = [c.header for c in plans.PLAN_TABLE.cols]
    rows = [
        [*SEED_ROW, "", "", "劳动监察"],
        ["2", *SEED_ROW[1:4], "002号", *SEED_ROW[5:], "", "", "劳动保障监察"],
    ]
    s = _import(wf, _table(tmp_path / "p.csv", rows, header))
    assert s.tasks_created == 2
    assert s.warnings == [
        "第 2 行的执法领域“劳动监察”没有任何执法人员具备（名录中的执法领域：劳动保障监察）；"
        "抽取时将无法组成检查组"
    ]


# --- every problem at once (a new user's trial) -------------------------------------------------

ALL_HEADERS = [c.header for c in plans.PLAN_TABLE.cols]


def trial_table(path: Path) -> tuple[Path, list[tuple[int, str, str]]]:
    """The XLSX a new user filled in, with the nine problems a trial met in two rounds. The
    ninth, 抽查时间 2026/12, is now understood (row 2 keeps it); 2025/12, outside the plan
    year, stands in for it. Several problems share a row. Returns the file and the expected
    (row, column, message part), in the order they are reported."""
    from openpyxl import Workbook

    wb = Workbook()
    ws = wb.active
    ws.append(ALL_HEADERS)
    plan = ["2026001", ""]
    # 序号 单位 计划编号 计划名称 任务编号 任务名称 类型 比例 事项 范围 发起 联合 时间 条件 分层 领域
    ws.append(["1", UNIT, *plan, "001号", "工资支付专项", "定向", "10%", "QX-LD-007", "用人单位",
               "劳动保障监察大队", "", "2026/12", "信用风险等级=C,D", "C=20%", ""])  # fmt: skip
    ws.append(["2", UNIT, *plan, "002号", "劳动合同专项", "不定向", "百分之五", "QX-LD-099",
               "企业", "", "", "2026年13月", "", "", ""])  # fmt: skip
    ws.append(["3", UNIT, *plan, "001号", "社保专项", "随机", "5%", "", "", "", "", "",
               "", "", ""])  # fmt: skip
    ws.append(["4", UNIT, *plan, "004号", "定向专项", "定向", "5%", "", "", "", "", "2025/12",
               "信用等级", "E=30%", ""])  # fmt: skip
    wb.save(path)
    return path, [
        (3, "抽查比例", "抽查比例 '百分之五' 无效"),
        (3, "抽查事项", "QX-LD-099 不在抽查事项清单中"),
        (3, "抽查对象范围", "企业 不是检查对象类型"),
        (3, "抽查时间", "月份 13 超出范围（1–12 月）（2026年13月）"),
        (4, "抽查任务编号", "与第 2 行的任务编号重复（001号）"),
        (4, "抽查类型", "应为 定向 或 不定向（随机）"),
        (5, "抽查时间", "抽查时间 '2025/12' 不在计划年度 2026 年内"),
        (5, "定向条件", "条件 '信用等级' 无效"),
        (5, "分层比例", "分层 'E' 无效"),
    ]


def test_every_problem_of_every_row_is_reported_at_once_and_nothing_is_written(wf, tmp_path):
    load_directory(wf, items=CLERK_ITEMS)
    plans.create_plan(wf, "2026002", unit=UNIT, actor="x")
    plans.create_task(wf, "2026002", name="在先", actor="x")
    before = (wf.head(), queries.list_plans(wf.engine), queries.list_tasks(wf.engine))
    path, expected = trial_table(tmp_path / "年度计划.xlsx")
    for dry_run in (True, False):
        with pytest.raises(ImportRejected) as e:
            plans.import_plan_table(wf, path, actor="录入员", rules=wf.rules, dry_run=dry_run)
        problems = e.value.problems
        assert [p.split(":")[1:3] for p in problems] == [[str(r), c] for r, c, _ in expected]
        for line, (row, column, message) in zip(problems, expected, strict=True):
            assert line.startswith(f"{path}:{row}:{column}: ") and message in line, line
        assert "共 9 个问题" in str(e.value)
        after = (wf.head(), queries.list_plans(wf.engine), queries.list_tasks(wf.engine))
        assert after == before


def test_a_row_whose_plan_number_is_unreadable_is_checked_for_all_else(wf, tmp_path):
    load_directory(wf, items=ITEMS)
    rows = [
        [*SEED_ROW[:5], "任务一", "不定向", "10%", "", "", "", "", "2024年4月"],
        # No plan to check its task number or its months' year against: only those are skipped.
        [
            "2",
            UNIT,
            "24-1",
            "",
            "001号",
            "任务二",
            "不定向",
            "2%",
            "",
            "火星企业",
            "",
            "",
            "2023/4",
        ],
    ]
    path = _table(tmp_path / "p.csv", rows)
    with pytest.raises(ImportRejected) as e:
        _import(wf, path)
    assert [p.split(":")[1:3] for p in e.value.problems] == [
        ["3", "抽查计划编号"],
        ["3", "抽查比例"],
        ["3", "抽查对象范围"],
    ]


def test_months_written_as_clerks_do_and_as_excel_stores_them_are_imported(wf, tmp_path):
    from datetime import datetime

    from openpyxl import Workbook

    wb = Workbook()
    ws = wb.active
    ws.append(ALL_HEADERS)
    typed = ["2024/12", "2024.12", "2024年12月", "2024-12", "2024年3-5月", "2024/3-2024/5"]
    # "2024年6月" typed into Excel is stored as the date 2024-06-01
    for i, months in enumerate([*typed, datetime(2024, 6, 1)], start=1):
        ws.append([str(i), UNIT, "2024001", "", f"{i:03d}号", f"任务{i}", "不定向", "5%", "",
                   "", "", "", months])  # fmt: skip
    wb.save(tmp_path / "p.xlsx")
    assert _import(wf, tmp_path / "p.xlsx").tasks_created == 7
    tasks = queries.show_plan(wf.engine, "2024001")["tasks"]
    stored = [queries.show_task(wf.engine, t["id"])["months"] for t in tasks]
    assert stored == [*["2024-12"] * 4, *["2024-03..2024-05"] * 2, "2024-06"]
