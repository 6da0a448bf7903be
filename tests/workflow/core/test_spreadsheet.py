"""The one helper every spreadsheet writer uses: text stays text, file names are safe."""

from __future__ import annotations

import csv
import zipfile

import pytest
from openpyxl import Workbook, load_workbook

from workflow.core import spreadsheet

HOSTILE = ['=HYPERLINK("http://example.invalid","点此")', "@SUM(A1)", "+1", "-1+2", "\t=1"]


def test_user_text_is_written_as_text_never_as_a_formula(tmp_path):
    wb = Workbook()
    ws = wb.active
    row = spreadsheet.append(ws, ["名称", *HOSTILE])
    spreadsheet.put(ws, 2, 1, "=1+1")
    spreadsheet.append(ws, [3, None, "普通文本"])
    assert row == 1
    path = tmp_path / "x.xlsx"
    wb.save(path)
    with zipfile.ZipFile(path) as z:
        xml = z.read("xl/worksheets/sheet1.xml").decode()
    assert "<f>" not in xml and "<f " not in xml
    ws = load_workbook(path).active
    assert [c.value for c in ws[1]] == ["名称", *HOSTILE]
    assert all(c.data_type == "s" for c in ws[1])
    assert all(c.quotePrefix for c in ws[1][1:]) and not ws["A1"].quotePrefix
    assert (ws["A2"].value, ws["A2"].data_type) == ("=1+1", "s")
    assert (ws["A3"].value, ws["A3"].data_type) == (3, "n")  # numbers stay numbers


def test_csv_cells_that_a_spreadsheet_would_evaluate_are_quoted(tmp_path):
    path = tmp_path / "x.csv"
    with open(path, "w", encoding="utf-8", newline="") as f:
        csv.writer(f).writerow(spreadsheet.csv_row([*HOSTILE, "迁西县", "0315"]))
    with open(path, encoding="utf-8", newline="") as f:
        (cells,) = list(csv.reader(f))
    assert cells == [*("'" + h for h in HOSTILE), "迁西县", "0315"]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2024001-001号-911302-甲/乙公司", "2024001-001号-911302-甲_乙公司"),
        ("..\\..\\etc\\passwd", "_.._etc_passwd"),
        ("../../etc/passwd", "_.._etc_passwd"),
        (".CON", "CON_"),
        ("CON", "CON_"),  # reserved on Windows
        ("名\x00称\x1b[31m", "名_称_[31m"),
        ('a:b*c?d"e<f>g|h', "a_b_c_d_e_f_g_h"),
        ("   ", "未命名"),
    ],
)
def test_file_names_from_user_text_are_sanitised(text, expected):
    assert spreadsheet.safe_filename(text) == expected


def test_file_names_are_bounded_in_bytes():
    name = spreadsheet.safe_filename("迁西县" * 100)
    assert len(name.encode("utf-8")) <= 150 and name.startswith("迁西县")


def test_a_drop_down_and_a4_page_set_up(tmp_path):
    wb = Workbook()
    ws = wb.active
    spreadsheet.add_choices(ws, 2, ["A", "B"], title="等级", hint="A/B", strict=True)
    spreadsheet.print_a4(ws, title_rows="1:2")
    wb.save(tmp_path / "x.xlsx")
    ws = load_workbook(tmp_path / "x.xlsx").active
    (dv,) = ws.data_validations.dataValidation
    assert (dv.formula1, str(dv.sqref), dv.errorStyle) == ('"A,B"', "B2:B1000", "stop")
    assert ws.page_setup.paperSize == 9 and ws.print_title_rows == "$1:$2"
    with pytest.raises(ValueError, match="too long"):
        spreadsheet.add_choices(ws, 1, ["长" * 300])
