"""一单两库 import, export and templates: all or nothing, precise errors, every change logged."""

from __future__ import annotations

import csv
from datetime import date

import pytest
from openpyxl import Workbook, load_workbook

from workflow.core import audit, queries
from workflow.core.db import RawConnection
from workflow.sampling import directories, plans
from workflow.sampling.credit_code import make
from workflow.sampling.directories import ImportRejected

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
    assert e.value.code == "import_rejected"
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


# --- what clerks type (issue #9 §3) -----------------------------------------------------------


def _target(i: int, **kw: str) -> dict[str, str]:
    row = dict(zip(T_HEAD, ["" for _ in T_HEAD], strict=True))
    row.update({"统一社会信用代码": make("130227", i), "名称": f"企业{i}", "类型": "用人单位"})
    row.update(kw)
    return row


def _dict_csv(path, rows: list[dict[str, str]]):
    return _csv(path, [list(rows[0]), *[list(r.values()) for r in rows]])


def test_targets_as_clerks_type_them_are_stored_canonically(raw, tmp_path):
    code = make("130227", 1)
    typed = (code[:8].lower() + " " + code[8:].lower()).translate(
        {ord(c): ord(c) + 0xFEE0 for c in "0123456789"}  # full-width digits
    )
    rows = [
        _target(
            1,
            **{
                "统一社会信用代码": typed,
                "类型": "社保经办机构",
                "规模": "小型企业",
                "信用风险等级": "c级",
                "标签": "重点行业 农民工、建筑业；重点行业",
                "违法记录次数": "２",
                "投诉举报次数": "3次",
                "最近检查日期": "2023年11月5日",
                "地区": "迁西县\u3000",
                "住所": "河北省唐山市迁西县兴城镇某路1号",
                "法定代表人": "王五",
                "联系电话": "０３１５－５６１２３４５",
            },
        ),
        _target(2, **{"信用风险等级": "未评级", "最近检查日期": "2023/1/9", "类型": "个体户"}),
        _target(3, **{"信用风险等级": "ａ", "最近检查日期": "2023.12.31"}),
    ]
    _import(raw, "targets", _dict_csv(tmp_path / "t.csv", rows))
    got = {r["code"]: r for r in directories.load_all(raw, "targets")}
    one = got[code]
    assert (one["type"], one["size"], one["grade"]) == ("社会保险经办机构", "小型", "C")
    assert one["tags"] == ["重点行业", "农民工", "建筑业"]
    assert (one["violations"], one["complaints"]) == (2, 3)
    assert one["last_inspected"] == "2023-11-05" and one["region"] == "迁西县"
    assert (one["address"], one["legal_rep"], one["phone"]) == (
        "河北省唐山市迁西县兴城镇某路1号",
        "王五",
        "0315-5612345",
    )
    two, three = got[make("130227", 2)], got[make("130227", 3)]
    assert (two["grade"], two["type"], two["last_inspected"]) == ("", "个体工商户", "2023-01-09")
    assert (three["grade"], three["last_inspected"]) == ("A", "2023-12-31")


def test_a_last_inspection_in_the_future_or_a_malformed_date_is_refused(raw, engine, tmp_path):
    rows = [
        _target(1, **{"最近检查日期": "2024-03-02"}),  # NOW is 2024-03-01 08:00 in Shanghai
        _target(2, **{"最近检查日期": "2024-03-051"}),  # was stored as 2024-03-05
        _target(3, **{"最近检查日期": "2024-03-01"}),
    ]
    path = _dict_csv(tmp_path / "t.csv", rows)
    with pytest.raises(ImportRejected) as e:
        _import(raw, "targets", path)
    assert any(
        p.startswith(f"{path}:2:最近检查日期: 不能晚于今天（2024-03-01）") for p in e.value.problems
    )
    assert any(p.startswith(f"{path}:3:最近检查日期: 应为日期") for p in e.value.problems)
    assert len(e.value.problems) == 2
    assert directories.load_all(raw, "targets") == [] and queries.list_events(engine) == []
    # today is the caller's (the injectable clock's local date), never the wall clock
    s = _import(raw, "targets", _dict_csv(tmp_path / "ok.csv", [rows[0]]), today=date(2024, 3, 2))
    assert s.added == 1


def test_excel_date_cells_and_serial_numbers_are_dates(raw, tmp_path):
    from datetime import datetime

    wb = Workbook()
    ws = wb.active
    ws.append(["统一社会信用代码", "名称", "类型", "最近检查日期"])
    ws.append([make("130227", 1), "甲", "用人单位", datetime(2023, 6, 1)])
    ws.append([make("130227", 2), "乙", "用人单位", 45356])  # "General" format: 2024-03-05
    ws.append([make("130227", 3), "丙", "用人单位", "2023年7月8日"])
    wb.save(tmp_path / "t.xlsx")
    _import(raw, "targets", tmp_path / "t.xlsx", today=date(2024, 4, 1))
    got = {r["name"]: r["last_inspected"] for r in directories.load_all(raw, "targets")}
    assert got == {"甲": "2023-06-01", "乙": "2024-03-05", "丙": "2023-07-08"}


def test_items_with_the_documents_wording_and_several_methods_round_trip(raw, tmp_path):
    ihead = ["事项编码", "事项名称", "法律依据", "检查内容", "检查方式", "事项类别"]
    path = _csv(
        tmp_path / "items.csv",
        [
            ihead,
            ["ｑｘ-ld-007", "工资支付", "《条例》", "台账", "现场检查、书面检查", "重点事项"],
            ["qx-ld-008", "劳动合同", "《劳动合同法》", "合同", "非现场检查", "一般事项"],
            ["QX-LD-009", "社会保险", "《社会保险法》", "缴费", "书面，实地检查", "一般"],
        ],
    )
    _import(raw, "items", path)
    got = {r["code"]: (r["method"], r["category"]) for r in directories.load_all(raw, "items")}
    assert got == {
        "QX-LD-007": ("现场、书面", "重点"),
        "QX-LD-008": ("非现场", "一般"),
        "QX-LD-009": ("现场、书面", "一般"),
    }
    for suffix in ("csv", "xlsx"):
        out = tmp_path / f"items.{suffix}"
        directories.export_file(raw, "items", out)
        s = _import(raw, "items", out)
        assert (s.added, s.changed, s.unchanged) == (0, 0, 3)
    # the same file typed again, differently, changes nothing either
    assert _import(raw, "items", path).unchanged == 3
    with pytest.raises(ImportRejected, match=r"检查方式: 电话 无效：应为 现场/书面/非现场 之一"):
        _import(
            raw,
            "items",
            _csv(tmp_path / "bad.csv", [ihead, ["X-1", "某", "", "", "现场、电话", "一般"]]),
        )


def test_inspector_lists_split_on_every_separator_and_codes_are_normalised(raw, tmp_path):
    head = ["执法证号", "姓名", "执法领域", "专长", "回避对象", "电子邮箱", "是否可用"]
    code = make("130227", 1)
    _import(
        raw,
        "inspectors",
        _csv(
            tmp_path / "i.csv",
            [
                head,
                [
                    "１３０２２７００００１",
                    "张三",
                    "劳动关系 社会保险，工资支付",
                    "仲裁、调解;审计",
                    code.lower(),
                    "ＺＳ＠example.cn",
                    "可用",
                ],
                ["13022700002", "李四", "劳动关系\u3000社会保险", "", "", "", "ｎ"],
            ],
        ),
    )
    one, two = directories.load_all(raw, "inspectors")
    assert one["cert"] == "13022700001" and one["recusal"] == [code]
    assert one["fields"] == ["劳动关系", "社会保险", "工资支付"]
    assert one["specialties"] == ["仲裁", "调解", "审计"]
    assert (one["email"], one["available"], two["available"]) == ("ZS@example.cn", True, False)
    assert two["fields"] == ["劳动关系", "社会保险"]


def test_an_inspector_field_no_task_uses_is_a_warning(wf, tmp_path):
    plans.create_plan(wf, "2024001", unit="迁西县人力资源和社会保障局", actor="张三")
    plans.create_task(wf, "2024001", name="专项", actor="张三", inspector_field="劳动保障监察")
    head = ["执法证号", "姓名", "执法领域"]
    path = _csv(
        tmp_path / "i.csv",
        [head, ["J1", "张三", "劳动保障监察"], ["J2", "李四", "劳动监察、社会保险"]],
    )
    s = _import(wf.raw, "inspectors", path)
    assert s.added == 2  # imported: a warning, not an error
    assert len(s.warnings) == 2
    assert s.warnings[0].startswith("执法领域“劳动监察”（李四）与任何抽查任务的执法领域都不一致")
    assert "任务使用：劳动保障监察" in s.warnings[0]
    assert s.warnings[1].startswith("执法领域“社会保险”（李四）")


@pytest.mark.parametrize(
    ("column", "value", "message"),
    [
        ("类型", "外星企业", "应为 用人单位/个体工商户"),
        ("规模", "巨型", "应为 大型/中型/小型/微型 之一"),
        ("信用风险等级", "E级", "应为 A/B/C/D 之一"),
        ("联系电话", "请致电", "不是有效的电话号码"),
        ("住所", "长" * 301, "超过 300 个字符"),
        ("违法记录次数", "-1", "应为非负整数"),
    ],
)
def test_wrong_values_are_still_refused_with_what_is_allowed(raw, tmp_path, column, value, message):
    path = _dict_csv(tmp_path / "t.csv", [_target(1, **{column: value})])
    with pytest.raises(ImportRejected) as e:
        _import(raw, "targets", path)
    assert e.value.problems[0].startswith(f"{path}:2:{column}: {message}")


# --- formula injection: user text is stored as text, never as a formula ----------------------

HOSTILE = [
    '=HYPERLINK("http://example.invalid/x","点此")',
    "@SUM(1+1)*cmd|' /C calc'!A0",
    "+1+1",
    "-2+3",
    "=1+1",
]


def _xml_of(path, member="xl/worksheets/sheet1.xml") -> str:
    import zipfile

    with zipfile.ZipFile(path) as z:
        return z.read(member).decode("utf-8")


def test_hostile_names_come_out_of_the_xlsx_export_as_text(raw, tmp_path):
    rows = [_target(i, 名称=name, 住所=name) for i, name in enumerate(HOSTILE)]
    _import(raw, "targets", _dict_csv(tmp_path / "t.csv", rows))
    stored = sorted(r["name"] for r in directories.load_all(raw, "targets"))
    assert stored == sorted(HOSTILE)  # stored as typed
    out = tmp_path / "x.xlsx"
    directories.export_file(raw, "targets", out)
    assert "<f>" not in _xml_of(out) and "<f " not in _xml_of(out)
    ws = load_workbook(out).worksheets[0]
    names = {}
    for row in ws.iter_rows(min_row=2):
        assert row[1].data_type == "s" and row[11].data_type == "s"
        names[row[1].value] = row[1]
    assert sorted(names) == sorted(HOSTILE)
    assert all(c.quotePrefix for c in names.values())  # Excel keeps it text when edited
    s = _import(raw, "targets", out)
    assert (s.changed, s.unchanged) == (0, len(HOSTILE))


def test_hostile_names_in_a_csv_export_are_escaped_and_read_back(raw, tmp_path):
    rows = [_target(i, 名称=name) for i, name in enumerate(HOSTILE)]
    _import(raw, "targets", _dict_csv(tmp_path / "t.csv", rows))
    out = tmp_path / "x.csv"
    directories.export_file(raw, "targets", out)
    with open(out, encoding="utf-8-sig", newline="") as f:
        cells = [r[1] for r in list(csv.reader(f))[1:]]
    assert all(c.startswith("'") for c in cells)  # no spreadsheet evaluates them
    s = _import(raw, "targets", out)
    assert (s.changed, s.unchanged) == (0, len(HOSTILE))


# --- templates ----------------------------------------------------------------------------------


def test_templates_show_allowed_values_and_offer_drop_downs(tmp_path):
    path = tmp_path / "tpl.xlsx"
    directories.write_template("targets", path)
    wb = load_workbook(path)
    ws, notes = wb.worksheets
    lists = {str(dv.sqref).split(":")[0]: dv for dv in ws.data_validations.dataValidation}
    col = {
        c.header: ws.cell(1, i).column_letter
        for i, c in enumerate(directories.KINDS["targets"].cols, 1)
    }
    assert lists[f"{col['类型']}2"].formula1 == '"' + ",".join(directories.TARGET_TYPES) + '"'
    assert lists[f"{col['信用风险等级']}2"].formula1 == '"A,B,C,D"'
    assert lists[f"{col['规模']}2"].formula1 == '"大型,中型,小型,微型"'
    assert all(dv.type == "list" for dv in lists.values()) and len(lists) == 3
    help_rows = {r[0]: r for r in notes.iter_rows(min_row=2, values_only=True)}
    assert [c.value for c in notes[1]] == ["列名", "是否必填", "可选值", "说明"]
    assert "社保经办机构" in help_rows["类型"][2]
    assert (
        help_rows["规模"][2].startswith("大型/中型/小型/微型") and "可留空" in help_rows["规模"][2]
    )
    assert {"住所", "法定代表人", "联系电话"} <= set(help_rows)
    items = tmp_path / "items.xlsx"
    directories.write_template("items", items)
    ws = load_workbook(items).worksheets[0]
    formulas = sorted(dv.formula1 for dv in ws.data_validations.dataValidation)
    assert formulas == ['"现场,书面,非现场"', '"重点,一般"']
