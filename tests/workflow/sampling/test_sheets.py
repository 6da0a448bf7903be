"""workflow/sampling/sheets.py directly: the inspection sheet's cells, written from constructed
values and read back with openpyxl; its file name; and ``make_sheets`` on a small database —
what it reads for each target, what it refuses, and a directory it cannot write.

One sheet per drawn target, the unconfirmed-draw refusal and a joint visit's items through the
draw are in test_task_draw.py.
"""

from __future__ import annotations

import hashlib
import json
import tempfile
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from openpyxl import load_workbook
from openpyxl.worksheet.worksheet import Worksheet
from sqlalchemy import text

from tests.conftest import drawn_task, load_directory
from workflow.core import queries
from workflow.core.clock import FixedClock
from workflow.core.errors import InvalidInput
from workflow.core.writer import Workflow
from workflow.sampling import plans, sheets, task_draw

TASK = {
    "unit": "迁西县人力资源和社会保障局",
    "plan_no": "2024001",
    "plan_name": "2024年度双随机抽查计划",
    "task_no": "003号",
    "name": "劳动用工检查",
    "months": "2024-04..2024-05",
    "items": "劳动合同、工资支付",
}
TARGET = {
    "code": "91130227MA0000000X",
    "name": "迁西县某某建材有限公司",
    "address": "迁西县兴城镇1号",
    "legal_rep": "李四",
    "phone": "0315-5600000",
    "type": "用人单位",
    "region": "迁西县",
    "industry": "制造业",
}
ITEM = ("JC-1", "劳动合同制度", "《劳动合同法》第七十四条", "书面合同", "现场检查")


def rows(ws: Worksheet) -> list[list[Any]]:
    """The sheet's rows, trailing empty cells dropped."""
    out = []
    for row in ws.iter_rows(values_only=True):
        values = list(row)
        while values and values[-1] is None:
            values.pop()
        out.append(values)
    return out


def write(tmp_path: Path, **kw: Any) -> Worksheet:
    args: dict[str, Any] = {
        "task": TASK,
        "target": TARGET,
        "items": [ITEM],
        "inspectors": [("张三", "J001", "劳动保障监察大队"), ("王五", "J002", "劳动保障监察大队")],
        **kw,
    }
    path = tmp_path / "sheet.xlsx"
    sheets._write_sheet(path, **args)
    return load_workbook(path).worksheets[0]


def test_the_sheet_names_the_task_target_items_group_and_results(tmp_path: Path) -> None:
    ws = write(tmp_path)
    assert ws.title == "检查表"
    assert rows(ws) == [
        ["迁西县人力资源和社会保障局“双随机”抽查检查表（一企一表）"],
        [],
        ["抽查计划", "2024001 2024年度双随机抽查计划"],
        ["抽查任务", "003号 劳动用工检查"],
        ["抽查时间", "2024-04..2024-05"],
        ["检查对象", "迁西县某某建材有限公司"],
        ["统一社会信用代码", "91130227MA0000000X"],
        ["住所", "迁西县兴城镇1号"],
        ["法定代表人", "李四"],
        ["联系电话", "0315-5600000"],
        ["类型", "用人单位"],
        ["地区", "迁西县"],
        ["行业", "制造业"],
        [],
        ["抽查事项"],
        ["事项编码", "事项名称", "法律依据", "检查内容", "检查方式"],
        list(ITEM),
        [],
        ["检查组"],
        ["姓名", "执法证号", "处室", "签名"],
        ["张三", "J001", "劳动保障监察大队"],
        ["王五", "J002", "劳动保障监察大队"],
        [],
        ["检查结果（勾选一项）"],
        ["□", "未发现问题"],
        ["□", "发现问题"],
        ["□", "不配合检查"],
        ["□", "通过登记的住所（经营场所）无法联系"],
        ["□", "未发现开展本次抽查涉及的经营活动"],
        [],
        ["检查情况说明"],
        ["检查对象负责人签字", None, "日期"],
    ]
    # The title and the section headings are bold; every cell wraps, top-aligned.
    assert ws["A1"].font.b and ws["A1"].font.sz == 14
    assert [ws.cell(r, 1).font.b for r in (15, 19, 24)] == [True, True, True]
    assert not ws["A3"].font.b
    assert ws["B17"].alignment.wrap_text and ws["B17"].alignment.vertical == "top"
    # Printed on A4, one page wide, the title on every page.
    assert ws.page_setup.paperSize == 9 and ws.page_setup.orientation == "portrait"
    assert (ws.page_setup.fitToWidth, ws.page_setup.fitToHeight) == (1, 0)
    assert ws.sheet_properties.pageSetUpPr is not None
    assert ws.sheet_properties.pageSetUpPr.fitToPage
    assert ws.print_title_rows == "$1:$1"
    assert [ws.column_dimensions[c].width for c in "ABCDE"] == [20, 40, 40, 40, 10]


def test_joint_visit_items_missing_values_and_no_items(tmp_path: Path) -> None:
    joined = [
        (
            "联合检查：任务 2024001 005号（社会保险科）的抽查事项",
            [("SB-1", "社会保险登记", "《社会保险法》第八十四条", None, "书面检查")],
        ),
        ("联合检查：任务 2024002 001号（—）的抽查事项", [("", "按计划所列事项")]),
    ]
    ws = write(
        tmp_path,
        task={**TASK, "months": None},
        target={**TARGET, "address": "", "phone": ""},
        items=[],
        inspectors=[("", "J404", "")],  # a certificate no longer in the directory
        joined=joined,
    )
    got = rows(ws)
    assert got[4] == ["抽查时间"] and got[7] == ["住所"] and got[9] == ["联系电话"]
    # No item codes: the plan's own wording stands in for them; then each joined task.
    assert got[16:22] == [
        [None, "劳动合同、工资支付"],
        ["联合检查：任务 2024001 005号（社会保险科）的抽查事项"],
        ["SB-1", "社会保险登记", "《社会保险法》第八十四条", None, "书面检查"],
        ["联合检查：任务 2024002 001号（—）的抽查事项"],
        [None, "按计划所列事项"],
        [],
    ]
    assert ws["A18"].font.b and ws["A20"].font.b
    assert got[24] == [None, "J404"]
    # Neither codes nor wording: said so.
    ws = write(tmp_path, task={**TASK, "items": None}, items=[])
    assert rows(ws)[16] == [None, "（未指定抽查事项）"]


def test_user_text_that_looks_like_a_formula_stays_text(tmp_path: Path) -> None:
    hostile = '=HYPERLINK("http://example.invalid","点此")'
    ws = write(
        tmp_path,
        target={**TARGET, "name": hostile, "legal_rep": "+1", "phone": "-1+2"},
        items=[("JC-9", "@SUM(A1)", "", "", "")],
    )
    for ref, value in (("B6", hostile), ("B9", "+1"), ("B10", "-1+2"), ("B17", "@SUM(A1)")):
        cell = ws[ref]
        assert (cell.value, cell.data_type, cell.quotePrefix) == (value, "s", True), ref
    assert not ws["B7"].quotePrefix  # ordinary text is not marked


def test_file_names_are_safe_and_bounded() -> None:
    task = {"plan_no": "2024001", "task_no": "001号"}
    assert sheets.sheet_file_name(task, "C1", "某公司") == "2024001-001号-C1-某公司.xlsx"
    assert (
        sheets.sheet_file_name(task, "C1", "甲/乙:丙*公司") == "2024001-001号-C1-甲_乙_丙_公司.xlsx"
    )
    # Runs of white space (a line break too) become one space; no trailing one.
    assert sheets.sheet_file_name(task, "C1", "甲\n乙   丙 ") == "2024001-001号-C1-甲 乙 丙.xlsx"
    long = sheets.sheet_file_name(task, "C1", "很" * 200)
    assert long.startswith("2024001-001号-C1-很") and long.endswith(".xlsx")
    assert len(long.removesuffix(".xlsx").encode()) <= 150


# ---------------------------------------------------------------------------------------------
# make_sheets on a database

ITEMS = [
    ["JC-2", "农民工工资支付", "《保障农民工工资支付条例》第五十四条", "按月足额", "现场", "重点"],
    ["JC-1", "劳动合同制度", "《劳动合同法》第七十四条", "书面合同", "书面", "一般"],
]


def _records(wf: Workflow, t: int) -> dict[str, list[str]]:
    return {r["target_code"]: r["inspectors"] for r in queries.show_task(wf.engine, t)["records"]}


def test_each_targets_sheet_is_read_from_the_directories(
    wf: Workflow, clock: FixedClock, tmp_path: Path
) -> None:
    clock.set(datetime(2024, 4, 1, 1, tzinfo=UTC))
    load_directory(wf, items=ITEMS)
    t, codes = drawn_task(wf, 2, item_codes=["JC-2", "JC-1"], months="2024-04")
    task_draw.confirm(wf, t, actor="x")
    groups = _records(wf, t)
    first, second = sorted(codes)
    # The second target's directory row is gone: its record's name still heads the sheet. One
    # of the first group's inspectors has left the directory: the certificate alone.
    with wf.engine.begin() as c:
        c.execute(text("DELETE FROM target WHERE code = :c"), {"c": second})
        c.execute(text("DELETE FROM inspector WHERE cert = :c"), {"c": groups[first][1]})
    out = tmp_path / "检查表"
    files = sheets.make_sheets(wf, t, out, actor="x")
    assert [f["target_code"] for f in files] == [first, second]
    assert [f["file"] for f in files] == [
        f"2024001-001号-{first}-对象{first[-4:]}.xlsx",
        f"2024001-001号-{second}-对象{second[-4:]}.xlsx",
    ]
    assert sorted(p.name for p in out.iterdir()) == sorted(f["file"] for f in files)
    for f in files:
        assert f["sha256"] == hashlib.sha256((out / f["file"]).read_bytes()).hexdigest()
    one = rows(load_workbook(out / files[0]["file"]).worksheets[0])
    assert one[0] == ["迁西县人力资源和社会保障局“双随机”抽查检查表（一企一表）"]
    assert one[3:6] == [
        ["抽查任务", "001号 测试任务"],
        ["抽查时间", "2024-04"],
        ["检查对象", f"对象{first[-4:]}"],
    ]
    assert one[10:13] == [["类型", "用人单位"], ["地区", one[11][1]], ["行业", "制造业"]]
    assert one[11][1].startswith("测试区")
    # The task's items in code order, as the item directory states them.
    assert one[16:18] == [
        ["JC-1", "劳动合同制度", "《劳动合同法》第七十四条", "书面合同", "书面"],
        ["JC-2", "农民工工资支付", "《保障农民工工资支付条例》第五十四条", "按月足额", "现场"],
    ]
    lead, gone = groups[first]
    assert one[19:23] == [
        ["检查组"],
        ["姓名", "执法证号", "处室", "签名"],
        [f"人员{lead}", lead, "劳动保障监察大队"],
        [None, gone],
    ]
    two = rows(load_workbook(out / files[1]["file"]).worksheets[0])
    assert two[5:11] == [
        ["检查对象", f"对象{second[-4:]}"],
        ["统一社会信用代码", second],
        ["住所"],
        ["法定代表人"],
        ["联系电话"],
        ["类型"],
    ]
    event = queries.list_events(wf.engine, t)[-1]
    assert (event["kind"], event["actor"], event["payload"]["files"]) == ("sheets_made", "x", files)


def test_refusals_and_a_directory_that_cannot_be_written(
    wf: Workflow, clock: FixedClock, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    scratch = tmp_path / "tmp"
    scratch.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(scratch))
    clock.set(datetime(2024, 4, 1, 1, tzinfo=UTC))
    t, _ = drawn_task(wf, 1, months="2024-04")
    planned = plans.create_task(wf, "2024001", name="未抽取", actor="x")
    out = tmp_path / "out"
    before = wf.head()
    with pytest.raises(InvalidInput, match="状态为 planned：检查表在抽取确认后、检查前"):
        sheets.make_sheets(wf, planned, out, actor="x")
    assert wf.head() == before and not out.exists() and list(scratch.iterdir()) == []

    # The output path is a file: the sheets are made and logged, the move fails, and the
    # message says so; nothing is left in the scratch directory. Running again writes them.
    task_draw.confirm(wf, t, actor="x")
    blocked = tmp_path / "blocked"
    blocked.write_text("not a directory", encoding="utf-8")
    with pytest.raises(InvalidInput) as e:
        sheets.make_sheets(wf, t, blocked, actor="x")
    assert str(e.value).startswith(f"检查表已生成并记入日志，但无法写入 {blocked}：")
    assert str(e.value).endswith("；可重新运行本命令")
    assert list(scratch.iterdir()) == []
    assert queries.list_events(wf.engine, t)[-1]["kind"] == "sheets_made"
    files = sheets.make_sheets(wf, t, out, actor="x")
    assert [p.name for p in out.iterdir()] == [files[0]["file"]]
    kinds = [e["kind"] for e in queries.list_events(wf.engine, t)][-2:]
    assert kinds == ["sheets_made", "sheets_made"]

    # Once inspected, sheets are no longer made.
    wf.set_result(t, files[0]["target_code"], "no_problem", actor="x")
    wf.fire(t, "inspect", actor="x")
    with pytest.raises(InvalidInput, match="状态为 inspected"):
        sheets.make_sheets(wf, t, out, actor="x")
    assert json.loads(json.dumps(files)) == files  # the payload is plain JSON
