"""Writing spreadsheets that are safe to open: one helper for every file ssj writes (directory
exports and templates, the plan template, inspection sheets, and later bulletins and reports).

- User text is stored as text, never as a formula. A target named ``=HYPERLINK(...)``,
  ``@SUM(...)``, ``+1`` or ``-1+2`` would otherwise be live in Excel: openpyxl turns any
  string starting with ``=`` into a formula, and Excel evaluates ``@ + -`` when a CSV is opened.
  In XLSX the cell is an inline string with the quote-prefix style (so editing it in Excel keeps
  it text); in CSV the value gets a leading ``'``, which ssj's importer removes again.
- File names built from user text are sanitised: no path separators, control characters or
  names Windows reserves (pathvalidate), and a bounded length in bytes.
- Drop-down lists (data validation) and A4 page set-up for the sheets that want them.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # openpyxl is imported when a workbook is written, not at start-up
    from openpyxl import Workbook
    from openpyxl.worksheet.worksheet import Worksheet

# What spreadsheet programs read as the start of a formula (OWASP "CSV injection"), with the
# tab and carriage return that some of them skip before looking.
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def risky(value: str) -> bool:
    return value.startswith(FORMULA_START)


def first_sheet(wb: Workbook, title: str) -> Worksheet:
    """A new workbook's sheet, titled (openpyxl types ``active`` as possibly a chart sheet)."""
    from openpyxl.worksheet.worksheet import Worksheet

    ws = wb.active
    if not isinstance(ws, Worksheet):
        raise TypeError("a new workbook starts with one worksheet")
    ws.title = title
    return ws


def put(ws: Worksheet, row: int, column: int, value: Any) -> Any:
    """Set one cell; a string is always stored as a string, whatever it starts with."""
    cell = ws.cell(row=row, column=column)
    if isinstance(value, str):
        cell.value = value
        cell.data_type = "s"  # openpyxl made it "f" if it starts with "="
        if risky(value):
            cell.quotePrefix = True
    else:
        cell.value = value
    return cell


def append(ws: Worksheet, values: Iterable[Any]) -> int:
    """``ws.append`` that stores user text as text; returns the row number written."""
    values = list(values)
    ws.append(values)
    row: int = ws.max_row
    for column, value in enumerate(values, start=1):
        if isinstance(value, str) and risky(value):
            cell = ws.cell(row=row, column=column)
            cell.data_type = "s"
            cell.quotePrefix = True
    return row


def csv_cell(value: str) -> str:
    """A CSV field that a spreadsheet program will not evaluate (importers strip the ``'``)."""
    return "'" + value if risky(value) else value


def csv_row(values: Sequence[str]) -> list[str]:
    return [csv_cell(v) for v in values]


def safe_filename(text: str, *, max_bytes: int = 150, fallback: str = "未命名") -> str:
    """A file name from user text: no separators, control characters or reserved names, at
    most ``max_bytes`` bytes of UTF-8 (Linux allows 255; the rest is left for a suffix)."""
    from pathvalidate import sanitize_filename

    def clean(t: str) -> str:
        return sanitize_filename(
            t, replacement_text="_", platform="universal", max_len=max_bytes, fs_encoding="utf-8"
        )

    # No leading dot (a hidden file) or trailing dot or space; cleaned again in case the strip
    # uncovered a reserved name (".CON" → "CON").
    name = clean(clean(" ".join(text.split())).strip(" ."))
    return name or fallback


def add_choices(
    ws: Worksheet,
    column: int,
    values: Sequence[str],
    *,
    first_row: int = 2,
    last_row: int = 1000,
    title: str = "",
    hint: str = "",
    strict: bool = False,
) -> None:
    """A drop-down of ``values`` on one column. Excel's inline list is limited to 255
    characters; ``strict`` refuses other values, otherwise Excel only warns (the importer
    accepts more wordings than the list shows)."""
    from openpyxl.utils import get_column_letter
    from openpyxl.worksheet.datavalidation import DataValidation

    formula = '"' + ",".join(values) + '"'
    if len(formula) > 257:
        raise ValueError(f"choice list too long for an inline list: {formula}")
    dv = DataValidation(
        type="list",
        formula1=formula,
        allow_blank=True,
        showDropDown=False,  # False shows the arrow (the OOXML attribute is inverted)
        showErrorMessage=True,
        errorStyle="stop" if strict else "warning",
        errorTitle=title or None,
        error=hint or None,
        promptTitle=title or None,
        prompt=hint or None,
        showInputMessage=bool(hint),
    )
    letter = get_column_letter(column)
    dv.add(f"{letter}{first_row}:{letter}{last_row}")
    ws.add_data_validation(dv)


def print_a4(ws: Worksheet, *, title_rows: str = "1:1", landscape: bool = False) -> None:
    """A4, fitted to the page width, the title rows repeated on every printed page."""
    from openpyxl.worksheet.properties import PageSetupProperties

    ws.page_setup.paperSize = ws.PAPERSIZE_A4
    ws.page_setup.orientation = "landscape" if landscape else "portrait"
    ws.page_setup.fitToWidth = 1
    ws.page_setup.fitToHeight = 0  # as many pages tall as it needs
    pr = ws.sheet_properties.pageSetUpPr
    if pr is None:  # openpyxl creates it with the sheet; the stubs allow None
        pr = ws.sheet_properties.pageSetUpPr = PageSetupProperties()
    pr.fitToPage = True
    ws.print_title_rows = title_rows
