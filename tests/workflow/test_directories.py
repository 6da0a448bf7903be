"""一单两库 import, export and templates: all or nothing, precise errors, every change logged."""

from __future__ import annotations

import csv

import pytest
from openpyxl import Workbook, load_workbook

from workflow import audit, directories, queries
from workflow.credit_code import make
from workflow.db import RawConnection
from workflow.directories import ImportRejected

NOW = "2024-03-01T00:00:00.000000Z"
T_HEAD = [c.header for c in directories.KINDS["targets"].cols]


def _csv(path, rows, encoding="utf-8-sig"):
    with open(path, "w", encoding=encoding, newline="") as f:
        csv.writer(f).writerows(rows)
    return path


def _targets(n=3, start=0):
    return [
        [
            make("130227", start + i),
            f"迁西县企业{i}",
            "用人单位",
            "制造业",
            "迁西县",
            "小型",
            "ABCD"[i % 4],
            "重点行业;农民工",
            "0",
            str(i),
            "",
        ]
        for i in range(n)
    ]


@pytest.fixture
def raw(engine):
    r = RawConnection(engine)
    yield r
    r.close()


def _import(raw, kind, path, **kw):
    return directories.import_file(raw, kind, path, actor="录入员", now=NOW, **kw)


def test_targets_import_from_csv_and_every_row_is_an_event(raw, engine, tmp_path):
    s = _import(raw, "targets", _csv(tmp_path / "t.csv", [T_HEAD, *_targets(3)]))
    assert (s.rows, s.added, s.changed, s.unchanged) == (3, 3, 0, 0)
    rows = directories.load_all(raw, "targets")
    assert [r["code"] for r in rows] == sorted(r[0] for r in _targets(3))
    assert {r["grade"] for r in rows} == {"A", "B", "C"}
    assert rows[0]["tags"] == ["重点行业", "农民工"]
    events = queries.list_events(engine)
    assert [e["kind"] for e in events] == ["target_upserted"] * 3
    assert events[0]["payload"]["before"] is None and events[0]["actor"] == "录入员"
    assert audit.verify_db(raw).ok


def test_a_reimport_changes_only_what_changed_with_before_and_after(raw, engine, tmp_path):
    _import(raw, "targets", _csv(tmp_path / "t.csv", [T_HEAD, *_targets(3)]))
    rows = _targets(3)
    rows[1][6] = "D"
    s = _import(raw, "targets", _csv(tmp_path / "t2.csv", [T_HEAD, *rows]))
    assert (s.added, s.changed, s.unchanged) == (0, 1, 2)
    last = queries.list_events(engine)[-1]
    assert last["payload"] == {"key": rows[1][0], "before": {"grade": "B"}, "after": {"grade": "D"}}


def test_gbk_csv_and_xlsx_are_read(raw, tmp_path):
    _import(raw, "targets", _csv(tmp_path / "gbk.csv", [T_HEAD, *_targets(2)], encoding="gbk"))
    wb = Workbook()
    wb.active.append(T_HEAD)
    for r in _targets(2, start=10):
        wb.active.append(r)
    wb.save(tmp_path / "t.xlsx")
    s = _import(raw, "targets", tmp_path / "t.xlsx")
    assert s.added == 2 and len(directories.load_all(raw, "targets")) == 4


def test_a_bad_file_is_rejected_whole_with_every_problem_located(raw, engine, tmp_path):
    rows = _targets(4)
    rows[0][0] = rows[0][0][:17] + ("0" if rows[0][0][17] != "0" else "1")  # wrong check digit
    rows[1][2] = "外星企业"
    rows[2][9] = "很多"
    rows[3][0] = rows[1][0]  # duplicate key
    path = _csv(tmp_path / "bad.csv", [T_HEAD, *rows])
    with pytest.raises(ImportRejected) as e:
        _import(raw, "targets", path)
    problems = e.value.problems
    assert f"{path}:2:统一社会信用代码: 校验位错误" in problems[0]
    assert any(p.startswith(f"{path}:3:类型: 应为 ") and "（外星企业）" in p for p in problems)
    assert any(p.startswith(f"{path}:4:投诉举报次数: 应为非负整数（很多）") for p in problems)
    assert any(p.startswith(f"{path}:5:统一社会信用代码: 与第 3 行重复") for p in problems)
    assert e.value.exit_code == 2
    assert directories.load_all(raw, "targets") == [] and queries.list_events(engine) == []


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("", "文件为空"),
        ("名称,类型\n某公司,用人单位\n", "缺少必需的列：统一社会信用代码"),
        (",".join(T_HEAD) + "\n", "没有数据行"),
        (",".join([*T_HEAD, "备注"]) + "\n", "无法识别的列：备注"),
    ],
)
def test_structural_problems_are_named(raw, tmp_path, content, message):
    path = tmp_path / "x.csv"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(ImportRejected, match=message):
        _import(raw, "targets", path)


def test_unreadable_files_are_named(raw, tmp_path):
    with pytest.raises(directories.InvalidInput, match="不存在"):
        _import(raw, "targets", tmp_path / "missing.csv")
    (tmp_path / "x.xls").write_bytes(b"\xd0\xcf")
    with pytest.raises(directories.InvalidInput, match=r"\.xlsx"):
        _import(raw, "targets", tmp_path / "x.xls")
    (tmp_path / "fake.xlsx").write_text("not a zip", encoding="utf-8")
    with pytest.raises(directories.InvalidInput, match="不是有效的 XLSX"):
        _import(raw, "targets", tmp_path / "fake.xlsx")
    (tmp_path / "bin.csv").write_bytes(bytes(range(128, 256)) * 3)
    with pytest.raises(directories.InvalidInput, match="编码"):
        _import(raw, "targets", tmp_path / "bin.csv")


def test_dry_run_writes_nothing(raw, engine, tmp_path):
    s = _import(raw, "targets", _csv(tmp_path / "t.csv", [T_HEAD, *_targets(3)]), dry_run=True)
    assert (s.added, s.dry_run) == (3, True)
    assert directories.load_all(raw, "targets") == [] and queries.list_events(engine) == []


def test_inspectors_and_items_with_lists_booleans_and_recusal(raw, tmp_path):
    head = ["执法证号", "姓名", "执法领域", "专长", "处室", "回避对象", "电子邮箱", "是否可用"]
    code = make("130227", 1)
    _import(
        raw,
        "inspectors",
        _csv(
            tmp_path / "i.csv",
            [
                head,
                [
                    "13022700001",
                    "张三",
                    "劳动关系；社会保险",
                    "工资支付",
                    "劳动保障监察大队",
                    code,
                    "zs@example.cn",
                    "是",
                ],
                ["13022700002", "李四", "劳动关系", "", "社会保险科", "", "", "否"],
            ],
        ),
    )
    rows = directories.load_all(raw, "inspectors")
    assert rows[0]["fields"] == ["劳动关系", "社会保险"] and rows[0]["recusal"] == [code]
    assert [r["available"] for r in rows] == [True, False]
    with pytest.raises(ImportRejected, match="回避对象: 不是有效的统一社会信用代码"):
        _import(
            raw,
            "inspectors",
            _csv(tmp_path / "bad.csv", [head, ["X1", "王五", "劳动关系", "", "", "123", "", ""]]),
        )
    ihead = ["事项编码", "事项名称", "法律依据", "检查内容", "检查方式", "事项类别"]
    s = _import(
        raw,
        "items",
        _csv(
            tmp_path / "items.csv",
            [
                ihead,
                [
                    "HB-RS-001",
                    "用人单位遵守劳动合同制度情况",
                    "《劳动合同法》",
                    "书面劳动合同签订",
                    "现场",
                    "一般",
                ],
                [
                    "HB-RS-002",
                    "农民工工资支付情况",
                    "《保障农民工工资支付条例》",
                    "工资支付台账",
                    "书面",
                    "重点",
                ],
            ],
        ),
    )
    assert s.added == 2


@pytest.mark.parametrize("suffix", ["csv", "xlsx"])
def test_export_then_import_changes_nothing(raw, tmp_path, suffix):
    _import(raw, "targets", _csv(tmp_path / "t.csv", [T_HEAD, *_targets(5)]))
    out = tmp_path / f"out.{suffix}"
    assert directories.export_file(raw, "targets", out) == 5
    s = _import(raw, "targets", out)
    assert (s.added, s.changed, s.unchanged) == (0, 0, 5)


def test_the_template_has_the_importers_headers(tmp_path):
    path = tmp_path / "tpl.xlsx"
    directories.write_template("inspectors", path)
    wb = load_workbook(path)
    assert [c.value for c in wb.worksheets[0][1]] == [
        c.header for c in directories.KINDS["inspectors"].cols
    ]
    assert wb.worksheets[1].title == "填写说明"
    with pytest.raises(directories.InvalidInput, match="xlsx"):
        directories.write_template("items", tmp_path / "tpl.csv")
