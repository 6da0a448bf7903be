"""一单两库: the inspection item list and the target and inspector directories.

Bureaus keep them in spreadsheets, so they come in and go out as CSV (UTF-8 or GBK) or XLSX
with Chinese headers. An import is all or nothing: every row is validated first, and one bad
row rejects the file with every problem listed as ``FILE:ROW:COLUMN: what is wrong (value)``.
Rows are upserted by key; each row that changes is one audit event with the fields before and
after, written in the same transaction.
"""

from __future__ import annotations

import codecs
import csv
import json
import math
import re
import stat
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from workflow.core import audit, input_limits, normalize, spreadsheet, units
from workflow.core.config import ImportSettings
from workflow.core.db import RawConnection
from workflow.core.errors import Forbidden, InvalidInput, NotFound, Step
from workflow.core.identity import Actor
from workflow.sampling import credit_code

MAX_LISTED_ERRORS = 200  # in the message
MAX_ERRORS_AS_DATA = 1000  # in the field ``errors`` (``problems`` has them all)


class RowProblem(str):
    """One problem of a file being imported: the line people read (``FILE:ROW:COLUMN:
    message（value）``, a ``str`` like every problem line) with its parts kept, so that an
    interface can list them as data (the web's problem+json ``errors``)."""

    file: str
    row: int | None
    column: str | None
    value: str | None
    message: str

    def __new__(
        cls,
        file: str | Path,
        message: str,
        *,
        row: int | None = None,
        column: str | None = None,
        value: Any = None,
        quoted: bool = True,
    ) -> RowProblem:
        """``quoted``: the value is shown after the message; otherwise the message names it."""
        where = (
            f"{file}" + (f":{row}" if row is not None else "") + (f":{column}" if column else "")
        )
        shown = f"（{value}）" if value is not None and quoted else ""
        obj = super().__new__(cls, f"{where}: {message}{shown}")
        obj.file, obj.row, obj.column, obj.message = str(file), row, column or None, message
        obj.value = None if value is None else str(value)
        return obj

    def as_json(self) -> dict[str, Any]:
        return {
            "file": self.file,
            "row": self.row,
            "column": self.column,
            "value": self.value,
            "message": self.message,
        }


# A problem line of any importer: FILE, then the row (or "?") and the column when known.
_WHERE = re.compile(r"(?:(\d+|\?)(?::([^:\s][^:\n]*?))?:)? ?(.*)", re.DOTALL)


def row_problem(path: str, line: str) -> RowProblem:
    """``line`` (a problem of the file ``path``) with its parts: as made, or read back from
    the ``FILE:ROW:COLUMN: message`` form every importer writes."""
    if isinstance(line, RowProblem):
        return line
    obj = str.__new__(RowProblem, line)
    obj.file, obj.row, obj.column, obj.value, obj.message = path, None, None, None, line
    if line.startswith(f"{path}:"):
        m = _WHERE.fullmatch(line[len(path) + 1 :])
        assert m is not None  # every part is optional
        if m.group(1) and m.group(1).isdigit():
            obj.row = int(m.group(1))
        obj.column, obj.message = m.group(2), m.group(3)
    return obj


class ImportRejected(InvalidInput):
    """The file was rejected whole; ``problems`` holds every ``FILE:ROW:COLUMN: ...`` line,
    and the field ``errors`` the first ``MAX_ERRORS_AS_DATA`` as data (file, row, column,
    value, message)."""

    code = "import_rejected"

    def __init__(
        self,
        path: str,
        problems: list[str],
        steps: Sequence[Step] = (),
        needs: str | None = None,
    ) -> None:
        self.problems = problems
        shown = problems[:MAX_LISTED_ERRORS]
        more = len(problems) - len(shown)
        tail = f"\n……另有 {more} 个问题未列出" if more > 0 else ""
        super().__init__(
            f"{path} 未导入（共 {len(problems)} 个问题，未写入任何数据）：\n"
            + "\n".join(shown)
            + tail,
            steps=steps,
            needs=needs,
            file=path,
            problems=problems,
            errors=[row_problem(path, p).as_json() for p in problems[:MAX_ERRORS_AS_DATA]],
        )


# --- column parsers: text in, value out, ValueError(zh message) when wrong --------------------
# Every value goes through workflow/normalize.py first (NFKC, trimmed, codes upper-cased, the
# wording of real documents), so that imports and command options agree on one canonical form.


_text = normalize.text
parse_word = normalize.word
_code = normalize.code
_count = normalize.count


def _bounded(limit: int) -> Callable[[str], str]:
    def parse(v: str) -> str:
        if not v:
            return v
        v = normalize.text(v)
        if len(v) > limit:
            raise ValueError(f"超过 {limit} 个字符")
        return v

    return parse


def _choice(choice: normalize.Choice, *, blank: bool = False) -> Callable[[str], str]:
    if not blank:
        return choice.parse
    inner = choice.parse

    def parse(v: str) -> str:
        return inner(v) if v else ""

    return parse


def _list(v: str) -> list[str]:
    return normalize.split_list(v)


def _codes(v: str) -> list[str]:
    codes = normalize.split_codes(v)
    bad = [c for c in codes if not credit_code.is_valid(c)]
    if bad:
        raise ValueError(f"不是有效的统一社会信用代码：{'、'.join(bad)}")
    return codes


def _credit_code(v: str) -> str:
    code = normalize.code(v)
    if len(code) != 18:
        raise ValueError(f"统一社会信用代码应为 18 位，实为 {len(code)} 位")
    if credit_code.is_valid(code):  # the common case, checked once
        return code
    if not all(c in credit_code.CHARSET for c in code):
        raise ValueError("含有统一社会信用代码不允许的字符（不用 I、O、S、V、Z）")
    raise ValueError(f"校验位错误（应为 {credit_code.check_char(code[:17])}）")


def date_cell(v: Any) -> str | None:
    """A date as clerks write it, or an Excel date cell; stored as YYYY-MM-DD."""
    if v == "" or v is None:
        return None
    return normalize.parse_date(v).isoformat()


def _bool(v: str) -> bool:
    if v == "":
        return True
    try:
        return normalize.YES_NO(v) == "是"
    except ValueError:
        raise ValueError("应为 是/否") from None


def _email(v: str) -> str:
    v = normalize.nfkc(v)
    if v and not re.fullmatch(r"[^@\s]+@[^@\s]+\.[^@\s]+", v):
        raise ValueError("不是有效的电子邮箱")
    return v


_PHONE = re.compile(r"[0-9+\-() ,;/、转]+")


def _phone(v: str) -> str:
    """Telephone numbers as clerks write them: ``0315-5612345``, ``138 0000 0000 转 8``."""
    if not v:
        return ""
    v = normalize.word(v)
    if len(v) > 50:
        raise ValueError("超过 50 个字符")
    if not _PHONE.fullmatch(v) or sum(c.isdigit() for c in v) < 5:
        raise ValueError("不是有效的电话号码（数字、-、+、括号，多个用顿号分隔）")
    return v


@dataclass(frozen=True)
class Col:
    key: str
    header: str
    parse: Callable[[str], Any] = _text
    required: bool = False
    is_list: bool = False  # stored as canonical JSON text
    note: str = ""
    choices: normalize.Choice | None = None  # shown in templates, as a drop-down too
    past: bool = False  # a date that records a past fact: not after today


@dataclass(frozen=True)
class Kind:
    name: str  # items | targets | inspectors
    label: str
    table: str
    cols: tuple[Col, ...]

    @property
    def key(self) -> Col:
        return self.cols[0]


TARGET_TYPES = normalize.TARGET_TYPES
_LIST_NOTE = "多个用顿号、逗号、分号或空格分隔"

KINDS: dict[str, Kind] = {
    k.name: k
    for k in (
        Kind(
            "items",
            "抽查事项清单",
            "item",
            (
                Col("code", "事项编码", _code, required=True, note="清单内唯一；字母不分大小写"),
                Col("name", "事项名称", required=True),
                Col("legal_basis", "法律依据"),
                Col("content", "检查内容"),
                Col(
                    "method",
                    "检查方式",
                    normalize.methods,
                    required=True,
                    note="可填多个，用顿号分隔，如 现场检查、书面检查",
                    choices=normalize.METHOD,
                ),
                Col(
                    "category",
                    "事项类别",
                    _choice(normalize.CATEGORY),
                    required=True,
                    choices=normalize.CATEGORY,
                ),
            ),
        ),
        Kind(
            "targets",
            "检查对象名录库",
            "target",
            (
                Col(
                    "code", "统一社会信用代码", _credit_code, required=True, note="18 位，含校验位"
                ),
                Col("name", "名称", required=True),
                Col(
                    "type",
                    "类型",
                    _choice(normalize.TARGET_TYPE),
                    required=True,
                    choices=normalize.TARGET_TYPE,
                ),
                Col("industry", "行业", parse_word),
                Col("region", "地区", parse_word),
                Col("size", "规模", _choice(normalize.SIZE, blank=True), choices=normalize.SIZE),
                Col(
                    "grade",
                    "信用风险等级",
                    normalize.grade_or_blank,
                    note="留空或“未评级”表示未评级",
                    choices=normalize.GRADE,
                ),
                Col("tags", "标签", _list, is_list=True, note=_LIST_NOTE),
                Col("violations", "违法记录次数", _count),
                Col("complaints", "投诉举报次数", _count),
                Col(
                    "last_inspected",
                    "最近检查日期",
                    date_cell,
                    note=f"{normalize.DATE_FORMS}；不能晚于今天",
                    past=True,
                ),
                Col("address", "住所", _bounded(300)),
                Col("legal_rep", "法定代表人", _bounded(50)),
                Col("phone", "联系电话", _phone),
            ),
        ),
        Kind(
            "inspectors",
            "执法检查人员名录库",
            "inspector",
            (
                Col("cert", "执法证号", _code, required=True),
                Col("name", "姓名", required=True),
                Col(
                    "fields",
                    "执法领域",
                    _list,
                    is_list=True,
                    required=True,
                    note=f"{_LIST_NOTE}；须与抽查任务的执法领域一致",
                ),
                Col("specialties", "专长", _list, is_list=True, note=_LIST_NOTE),
                Col("office", "处室", parse_word),
                Col(
                    "recusal",
                    "回避对象",
                    _codes,
                    is_list=True,
                    note=f"须回避的统一社会信用代码，{_LIST_NOTE}",
                ),
                Col("email", "电子邮箱", _email),
                Col("available", "是否可用", _bool, note="留空为 是", choices=normalize.YES_NO),
            ),
        ),
    )
}


def kind_of(name: str) -> Kind:
    try:
        return KINDS[name]
    except KeyError:
        raise InvalidInput(f"未知名录 {name!r}：应为 items、targets 或 inspectors") from None


# --- reading files ---------------------------------------------------------------------------
#
# Every bound is checked before the bytes it guards are read: a file too large, an XLSX that
# unpacks to too much or too many rows is refused up front, so a refused import never holds
# more than a chunk of it in memory. Cells come out as the text the clerk sees, or are refused.

_limits = ImportSettings()
_MB = 1024 * 1024
_CHUNK = _MB
# Columns holding codes: a number typed into them has lost its leading zeros (or, past 15
# digits, its last digits) before ssj sees it, so it is refused, not guessed.
IDENTIFIER_HEADERS = frozenset({"事项编码", "统一社会信用代码", "执法证号", "回避对象"})
# Free text and lists may hold tabs and line breaks (a list may be one entry per line); every
# other column is one line.
MULTILINE_KEYS = frozenset(
    {"legal_basis", "content", "note", "items", "scope", "joining", "conditions", "stratum_ratios"}
)
NAME_KEYS = frozenset({"name", "plan_name", "unit"})


def configure_limits(limits: ImportSettings) -> None:
    """The bounds every import uses from now on (the CLI sets config.yaml's ``imports``)."""
    global _limits
    _limits = limits


class NumberCell(str):
    """An XLSX cell that held a number, shown as text; ``number`` is the value Excel stored."""

    number: float | int

    def __new__(cls, text: str, number: float | int) -> NumberCell:
        obj = super().__new__(cls, text)
        obj.number = number
        return obj


class CheckRow(list[str]):
    """A row whose cells may hold what cell_problem refuses (control characters, numbers
    from XLSX), so each cell is checked; a plain list needs only the length check."""


class XlsxRow(CheckRow):
    pass


def cell_problem(col: Col, cell: str, limits: ImportSettings | None = None) -> str | None:
    """What is wrong with this raw cell for this column, before parsing (None: nothing)."""
    limits = limits or _limits
    if len(cell) > limits.max_cell_chars:
        return f"单元格过长：{len(cell)} 个字符，最多 {limits.max_cell_chars} 个"
    if isinstance(cell, NumberCell) and col.header in IDENTIFIER_HEADERS:
        return (
            f"是数字格式的单元格（{cell}）：数字会丢掉开头的 0（超过 15 位还会改动末几位），"
            "请把该列设为“文本”格式后重新输入（或在前面加英文单引号 '）"
        )
    if col.key in NAME_KEYS and len(cell.strip()) > input_limits.NAME_MAX_CHARS:
        return f"过长：{len(cell.strip())} 个字符，最多 {input_limits.NAME_MAX_CHARS} 个"
    bad = input_limits.bad_char(cell.strip(), multiline=col.is_list or col.key in MULTILINE_KEYS)
    if bad:
        return f"{bad}，请删除后重新导入"
    return None


def _row_clean(raw: list[str]) -> bool:
    """No cell of the row can have a problem cell_problem would find: all plain text, short,
    without control characters."""
    if type(raw) is list:  # the reader found no control character in it
        return max(map(len, raw), default=0) <= input_limits.NAME_MAX_CHARS
    return (
        not isinstance(raw, XlsxRow)  # XLSX rows: a cell may be a number
        and max(map(len, raw), default=0) <= input_limits.NAME_MAX_CHARS
        and input_limits.clean_line("".join(raw))
    )


def _reject(path: Path, problem: str) -> ImportRejected:
    return ImportRejected(str(path), [f"{path}:{problem}"])


def _csv_encoding(path: Path, limits: ImportSettings) -> tuple[str, int, bool]:
    """The file's encoding (UTF-8, else GB18030, a superset of GBK), its count of line breaks,
    and whether it is clean (no control or invisible character but line breaks anywhere: then
    a row on one line needs no cell-by-cell check). Found by streaming: never held whole."""
    for encoding in ("utf-8-sig", "gb18030"):
        decoder = codecs.getincrementaldecoder(encoding)()
        lines, clean = 0, True
        try:
            with open(path, "rb") as f:
                while chunk := f.read(_CHUNK):
                    text = decoder.decode(chunk)
                    clean = clean and input_limits.clean_but_line_breaks(text)
                    lines += chunk.count(b"\n")
                decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            continue
        return encoding, lines, clean
    raise InvalidInput(f"{path}：无法识别文件编码（支持 UTF-8 与 GBK/GB18030），请另存为 UTF-8 CSV")


def _swallowed(fields: list[str], width: int) -> bool:
    """A quoted field holding line breaks followed by what looks like whole CSV rows: an
    unbalanced quote that merged the rows after it into one cell. Rows may leave optional
    trailing columns out, so a line with at least half the header's separators counts."""
    for v in fields:
        if "\n" in v or "\r" in v:
            for line in v.splitlines()[1:]:
                if line.count(",") >= max(2, width // 2):
                    return True
    return False


def _read_csv(path: Path, limits: ImportSettings) -> Iterator[list[str]]:
    encoding, lines, clean = _csv_encoding(path, limits)
    if csv.field_size_limit() <= limits.max_cell_chars:
        csv.field_size_limit(limits.max_cell_chars + 1)
    if lines + 1 > limits.max_rows:  # physical lines bound the rows; count rows only if needed
        with open(path, encoding=encoding, newline="") as f:
            try:
                rows = sum(1 for _ in csv.reader(f))
            except csv.Error:
                rows = lines + 1
        if rows > limits.max_rows:
            raise _reject(
                path, f" 超过 {limits.max_rows:,} 行（上限 imports.max_rows），请拆分后分批导入"
            )
    width, row_no, start = 0, 0, 1  # start: the physical line where the next record begins
    with open(path, encoding=encoding, newline="") as f:
        reader = csv.reader(f, strict=True)
        try:
            for fields in reader:
                row_no += 1
                end = reader.line_num
                if end != start and width and _swallowed(fields, width):
                    raise _reject(
                        path,
                        f"{row_no}: 第 {row_no} 行（文件第 {start} 行）的双引号没有配对，"
                        "其后的若干行被并进了一个单元格：请检查该行的引号",
                    )
                if not width and any(c.strip() for c in fields):
                    width = len(fields)
                yield fields if clean and end == start else CheckRow(fields)
                start = end + 1
        except csv.Error as e:
            row_no, why = row_no + 1, str(e)  # the record that failed began at ``start``
            if "field larger" in why:
                what = (
                    f"有单元格超过 {limits.max_cell_chars} 个字符的上限"
                    "（imports.max_cell_chars），或其中的双引号没有配对"
                )
            elif "unexpected end of data" in why:
                what = (
                    f"第 {row_no} 行（文件第 {start} 行）的双引号没有配对，"
                    "其后直到文件末尾的各行都被并进了一个单元格：请检查该行的引号"
                )
            else:
                what = f"CSV 格式错误（文件第 {start} 行起）：{why}"
            raise _reject(path, f"{row_no}: {what}") from None
        except OSError as e:  # the file vanished or became unreadable mid-way
            raise InvalidInput(f"无法读取 {path}：{e.strerror or e}") from None


# <row> elements; <rowBreaks> is the one other worksheet element whose name starts with "row".
# Some writers prefix the namespace (<x:row>): those are counted by a regular expression, only
# in the chunks that hold one.
_PREFIXED_ROW = re.compile(rb"<\w{1,16}:row[\s/>]")


def _count_rows(member: Any) -> int:
    """``<row>`` elements in a worksheet's XML, streamed in chunks (never parsed whole)."""

    def count(buf: bytes) -> int:
        n = buf.count(b"<row") - buf.count(b"<rowBreaks")
        if b":row" in buf:
            n += len(_PREFIXED_ROW.findall(buf))
        return n

    total, carry = 0, b""
    while chunk := member.read(_CHUNK):
        buf = carry + chunk
        total += count(buf) - count(carry)  # a tag inside the carry was counted last time
        carry = buf[-24:]
    return total


def _check_xlsx(path: Path, limits: ImportSettings) -> None:
    """Refuse an XLSX that would unpack to too much, or hold too many rows, before opening it
    with openpyxl (whose read-only mode still loads the shared strings whole)."""
    import zipfile
    import zlib

    try:
        zf = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError, ValueError) as e:
        raise InvalidInput(f"{path}：不是有效的 XLSX 文件（{e}）") from None
    with zf:
        total = 0
        for info in zf.infolist():
            total += info.file_size
            packed = max(info.compress_size, 1)
            if info.file_size > _MB and info.file_size > packed * limits.max_compression_ratio:
                raise _reject(
                    path,
                    f" 其中的 {info.filename} 压缩了 {info.file_size // packed} 倍"
                    f"（解压后 {info.file_size / _MB:,.0f} MB），超过上限 "
                    f"{limits.max_compression_ratio} 倍（imports.max_compression_ratio）："
                    "这不像是正常的电子表格，已拒绝读取",
                )
        if total > limits.max_uncompressed_mb * _MB:
            raise _reject(
                path,
                f" 解压后共 {total / _MB:,.0f} MB，超过上限 {limits.max_uncompressed_mb} MB"
                "（imports.max_uncompressed_mb）：请拆分后分批导入",
            )
        for info in zf.infolist():
            if not re.fullmatch(r"xl/worksheets/[^/]+\.xml", info.filename):
                continue
            try:
                with zf.open(info) as member:
                    rows = _count_rows(member)
            except (zipfile.BadZipFile, zlib.error, OSError, EOFError) as e:
                raise InvalidInput(
                    f"{path}：XLSX 文件已损坏，无法解压 {info.filename}（{e}）"
                ) from None
            if rows > limits.max_rows:
                raise _reject(
                    path,
                    f" 工作表 {info.filename} 有 {rows:,} 行，超过上限 {limits.max_rows:,} 行"
                    "（imports.max_rows）：请拆分后分批导入",
                )


_ZERO_PAD = re.compile(r"0+")


def _cell(v: Any, number_format: str = "General") -> str:
    """A cell as the text the clerk sees in Excel."""
    if v is None:
        return ""
    if isinstance(v, bool):
        return "是" if v else "否"
    if isinstance(v, int | float):
        fmt = number_format or "General"
        if isinstance(v, float) and v.is_integer() and abs(v) < 2**53:
            v = int(v)
        if isinstance(v, float) and not math.isfinite(v):
            return NumberCell(str(v), v)
        if fmt.endswith("%"):
            text = format(Decimal(repr(v)) * 100, "f")
            text = (text.rstrip("0").rstrip(".") if "." in text else text) + "%"
        elif isinstance(v, int) and v >= 0 and _ZERO_PAD.fullmatch(fmt) and v < 10**15:
            # A "000000000000" format shows the zeros: the text is exactly what the clerk sees.
            return str(v).zfill(len(fmt))
        else:
            text = str(v) if isinstance(v, int) else repr(v)
        return NumberCell(text, v)
    if isinstance(v, datetime):  # a datetime cell
        return v.date().isoformat()
    return str(v)


def _read_xlsx(path: Path, limits: ImportSettings) -> Iterator[list[str]]:
    from openpyxl import load_workbook

    _check_xlsx(path, limits)
    # openpyxl's failures on a malformed file are many (zlib, XML, KeyError, ValueError...):
    # whatever it raises, the clerk gets a message naming the file and the row reached.
    row_no = 0
    try:
        wb = load_workbook(path, read_only=True, data_only=True)
    except Exception as e:
        raise InvalidInput(f"{path}：不是有效的 XLSX 文件（{type(e).__name__}: {e}）") from None
    try:
        try:
            ws = wb.worksheets[0]
            ws.reset_dimensions()  # the <dimension> element may understate the sheet: read all
            rows = ws.iter_rows()
        except Exception as e:  # no worksheet, or a chart sheet first
            raise InvalidInput(f"{path}：第一个工作表无法读取（{type(e).__name__}: {e}）") from None
        while True:
            try:
                row = next(rows)
            except StopIteration:
                return
            except Exception as e:
                raise InvalidInput(
                    f"{path}：XLSX 文件已损坏，读到第 {row_no + 1} 行时出错"
                    f"（{type(e).__name__}: {e}）"
                ) from None
            row_no += 1
            yield XlsxRow(_cell(c.value, getattr(c, "number_format", "General")) for c in row)
    finally:
        wb.close()


def read_rows(path: Path, limits: ImportSettings | None = None) -> Iterator[list[str]]:
    limits = limits or _limits
    try:
        st = path.stat()
    except FileNotFoundError:
        raise InvalidInput(f"文件 {path} 不存在") from None
    except OSError as e:
        raise InvalidInput(f"无法读取 {path}：{e.strerror}") from None
    if not stat.S_ISREG(st.st_mode):
        raise InvalidInput(f"{path} 不是普通文件")
    if st.st_size > limits.max_file_mb * _MB:
        raise InvalidInput(
            f"{path}：文件大小 {st.st_size / _MB:,.1f} MB，超过上限 {limits.max_file_mb} MB"
            "（imports.max_file_mb）：请拆分后分批导入"
        )
    suffix = path.suffix.lower()
    if suffix == ".csv":
        return _read_csv(path, limits)
    if suffix == ".xlsx":
        return _read_xlsx(path, limits)
    raise InvalidInput(f"{path}：只支持 .csv 或 .xlsx 文件（.xls 请先另存为 .xlsx）")


# --- validation ------------------------------------------------------------------------------


@dataclass
class ParsedRow:
    """A data row as far as its cells parsed, for a caller that checks further."""

    row: int  # its row number in the file
    rec: dict[str, Any]  # a bad cell's column: absent if required, else its blank value
    bad: frozenset[str]  # the columns whose cells had a problem (already reported)
    text: dict[str, str]  # each column's cell as typed (trimmed), to quote in messages


def parse_file(  # noqa: C901 (whole-file validation: a flat list of independent checks)
    kind: Kind,
    path: Path,
    rows_out: dict[str, int] | None = None,
    problems_out: list[str] | None = None,
    limits: ImportSettings | None = None,
    today: date | None = None,
    all_rows: list[ParsedRow] | None = None,
) -> dict[str, dict[str, Any]]:
    """Every row validated; returns {key: record}. ``today`` (the local date) bounds the dates
    that record a past fact (``Col.past``). Raises ImportRejected listing all problems,
    unless ``problems_out`` is given: then row problems go there, rows with problems are left
    out, and the caller adds its own checks before rejecting (``rows_out`` gets each key's row
    number for those checks to cite). ``all_rows`` (with ``problems_out``) gets every data row,
    those with problems too, so that the caller can check what did parse in the same pass."""
    limits = limits or _limits
    rows = read_rows(path, limits)
    header: list[str] | None = None
    header_row = 0
    for n, raw in enumerate(rows, start=1):
        if any(c.strip() for c in raw):
            header, header_row = [c.strip() for c in raw], n
            break
    if header is None:
        raise ImportRejected(str(path), [f"{path}: 文件为空（没有表头和数据行）"])
    known = {c.header: c for c in kind.cols}
    problems: list[str] = []
    missing = [c.header for c in kind.cols if c.required and c.header not in header]
    unknown = [h for h in header if h and h not in known]
    dup_headers = sorted({h for h in header if h and header.count(h) > 1})
    if missing:
        problems.append(
            f"{path}:{header_row}: 缺少必需的列：{'、'.join(missing)}"
            f"（{kind.label}的表头为：{'、'.join(c.header for c in kind.cols)}；"
            "可先生成导入模板）"
        )
    if unknown:
        problems.append(f"{path}:{header_row}: 无法识别的列：{'、'.join(unknown)}")
    if dup_headers:
        problems.append(f"{path}:{header_row}: 列重复：{'、'.join(dup_headers)}")
    if problems:
        steps = [Step("directory.template", {"kind": kind.name})] if missing else []
        raise ImportRejected(str(path), problems, steps)
    index = [(i, known[h]) for i, h in enumerate(header) if h in known]
    records: dict[str, dict[str, Any]] = {}
    first_row: dict[str, int] = {}
    for row_no, raw in enumerate(rows, start=header_row + 1):
        if row_no > limits.max_rows:
            raise _reject(
                path, f" 超过 {limits.max_rows:,} 行（imports.max_rows），请拆分后分批导入"
            )
        if not any(c.strip() for c in raw):
            continue
        rec: dict[str, Any] = {}
        row_ok = len(problems)
        # One check for the whole row in the common case; each cell only when it may be bad.
        suspect = not _row_clean(raw)
        bad_cols: list[str] = []
        typed: dict[str, str] = {}
        for i, col in index:
            cell = raw[i] if i < len(raw) else ""
            if suspect and cell and (bad := cell_problem(col, cell, limits)):
                problems.append(RowProblem(path, bad, row=row_no, column=col.header))
                bad_cols.append(col.key)
                continue
            value = cell.strip()
            if all_rows is not None:
                typed[col.key] = value
            if value == "" and col.required:
                problems.append(RowProblem(path, "不能为空", row=row_no, column=col.header))
                bad_cols.append(col.key)
                continue
            try:
                rec[col.key] = col.parse(value)
            except ValueError as e:
                problems.append(
                    RowProblem(path, str(e), row=row_no, column=col.header, value=value)
                )
                bad_cols.append(col.key)
                continue
            if col.past and today is not None and rec[col.key] and rec[col.key] > today.isoformat():
                problems.append(
                    RowProblem(
                        path,
                        f"不能晚于今天（{today.isoformat()}），它记录的是已发生的事",
                        row=row_no,
                        column=col.header,
                        value=value,
                    )
                )
                bad_cols.append(col.key)
        for col in kind.cols:
            if col.key not in rec and not col.required:
                rec[col.key] = col.parse("")
        if all_rows is not None:
            all_rows.append(ParsedRow(row_no, rec, frozenset(bad_cols), typed))
        key = rec.get(kind.key.key)
        if key is None or (problems_out is not None and len(problems) != row_ok):
            if key is not None and key not in first_row:
                first_row[key] = row_no
            continue
        if key in first_row:
            problems.append(
                RowProblem(
                    path,
                    f"与第 {first_row[key]} 行重复",
                    row=row_no,
                    column=kind.key.header,
                    value=key,
                )
            )
            continue
        first_row[key] = row_no
        records[key] = rec
    if problems_out is not None:
        problems_out.extend(problems)
    elif problems:
        raise ImportRejected(str(path), problems)
    if not records and not problems:
        raise ImportRejected(str(path), [f"{path}: 只有表头，没有数据行"])
    if rows_out is not None:
        rows_out.update(first_row)
    return records


# --- storing ---------------------------------------------------------------------------------


def _stored(kind: Kind, rec: dict[str, Any]) -> tuple[Any, ...]:
    return tuple(
        (audit.canonical_json(rec[c.key]) if rec[c.key] else "[]") if c.is_list else rec[c.key]
        for c in kind.cols
    )


def _loaded(kind: Kind, row: tuple[Any, ...]) -> dict[str, Any]:
    out = {}
    for c, v in zip(kind.cols, row, strict=True):
        if c.is_list:
            v = json.loads(v)
        elif c.parse is _bool:
            v = bool(v)
        out[c.key] = v
    return out


@dataclass
class ImportSummary:
    kind: str
    rows: int
    added: int
    changed: int
    unchanged: int
    dry_run: bool
    first_seq: int | None = None
    last_seq: int | None = None
    warnings: list[str] = field(default_factory=list)  # printed, not refused


def _local_date(now: str, tz: str = "Asia/Shanghai") -> date:
    from zoneinfo import ZoneInfo

    from workflow.core.clock import parse_time

    return parse_time(now, tz).astimezone(ZoneInfo(tz)).date()


def import_file(
    raw: RawConnection,
    kind_name: str,
    path: Path,
    *,
    actor: str,
    now: str,
    dry_run: bool = False,
    today: date | None = None,
    unit: str | None = None,
    within: Actor | None = None,
) -> ImportSummary:
    """Validate the whole file, then upsert it with one event per changed row. ``today``: the
    local date that past-fact dates are checked against (default: ``now`` in Asia/Shanghai).
    Targets and inspectors belong to ``unit`` (a bureau's code; default the account's own
    bureau, or with no account the root): new rows join it, rows of its subtree keep their
    unit, and a row of another bureau is refused. ``within``: the acting account, whose
    subtree ``unit`` must lie in (Forbidden otherwise). The item list belongs to no unit."""
    kind = kind_of(kind_name)
    problems: list[str] = []
    rows: dict[str, int] = {}
    records = parse_file(kind, path, rows, problems, today=today or _local_date(now))
    cols = [c.key for c in kind.cols]
    owned = kind.table in OWNED_TABLES
    select = f"SELECT {', '.join(cols)}{', unit_id' if owned else ''} FROM {kind.table}"
    with raw.write() as cur:
        owner = units.owning_bureau(cur, raw.sql, unit, within) if owned else None
        cur.execute(select)
        existing, outside = {}, {}
        for row in cur.fetchall():
            existing[row[0]] = _loaded(kind, row[: len(cols)])
            if owner is not None:
                outside[row[0]] = row[-1]
        if owner is not None:
            outside = _outside(cur, raw.sql, owner, outside, records)
        for key, unit_name in outside.items():
            problems.append(
                RowProblem(
                    path,
                    f"{key} 属于 {unit_name}，不在 {owner.label if owner else ''} "
                    "及其下级单位之内，不能由本单位导入修改",
                    row=rows[key],
                    column=kind.key.header,
                    value=key,
                    quoted=False,
                )
            )
        if problems:
            raise ImportRejected(str(path), problems)
        warnings = _warnings(cur, kind, records)
        inserts, updates, events = [], [], []
        for key, rec in records.items():
            old = existing.get(key)
            if old == rec:
                continue
            if old is None:
                inserts.append((*_stored(kind, rec), *((owner.id,) if owner else ()), now))
                payload = {"key": key, "before": None, "after": rec}
            else:
                updates.append((*_stored(kind, rec)[1:], now, key))
                diff = [c for c in cols if old[c] != rec[c]]
                payload = {
                    "key": key,
                    "before": {c: old[c] for c in diff},
                    "after": {c: rec[c] for c in diff},
                }
            events.append(
                (actor, f"{kind.table}_upserted", None, f"导入 {path.name}", None, payload)
            )
        summary = ImportSummary(
            kind.name,
            len(records),
            len(inserts),
            len(updates),
            len(records) - len(inserts) - len(updates),
            dry_run,
            warnings=warnings,
        )
        if dry_run or not events:
            raw.dbapi.rollback()
            return summary
        if inserts:
            names = [*cols, *(["unit_id"] if owner else []), "updated_at"]
            marks = ", ".join("?" for _ in names)
            cur.executemany(
                raw.sql(f"INSERT INTO {kind.table} ({', '.join(names)}) VALUES ({marks})"),
                inserts,
            )
        if updates:
            sets = ", ".join(f"{c} = ?" for c in cols[1:])
            cur.executemany(
                raw.sql(f"UPDATE {kind.table} SET {sets}, updated_at = ? WHERE {cols[0]} = ?"),
                updates,
            )
        head = audit.read_head(cur, raw.sql)
        at = head.stamp(now)
        last = audit.append_many(cur, raw.sql, head, events, at=at, role="clerk")
        summary.first_seq, summary.last_seq = head.seq + 1, last.seq
    return summary


OWNED_TABLES = ("target", "inspector")  # rows that belong to a unit (the item list is shared)


def _outside(
    cur: Any, sql: Any, owner: units.Unit, unit_of: dict[str, int], records: dict[str, Any]
) -> dict[str, str]:
    """Keys of the file whose stored row belongs to a unit outside ``owner``'s subtree → the
    name of that unit."""
    where, params = units.in_subtree("id", owner)
    cur.execute(sql(f"SELECT id FROM unit WHERE {where}"), params)
    mine = {r[0] for r in cur.fetchall()}
    foreign = {k: unit_of[k] for k in records if k in unit_of and unit_of[k] not in mine}
    if not foreign:
        return {}
    cur.execute(sql("SELECT id, name FROM unit"))
    names = dict(cur.fetchall())
    return {k: names.get(u, str(u)) for k, u in foreign.items()}


def _warnings(cur: Any, kind: Kind, records: dict[str, dict[str, Any]]) -> list[str]:
    """What the import does not refuse but the clerk should know."""
    out: list[str] = []
    if kind.name == "inspectors":
        # An inspector's field is matched exactly against each task's 执法领域; one that no
        # task (created, or imported from the plan table) uses is likely a different wording.
        cur.execute("SELECT DISTINCT inspector_field FROM task WHERE inspector_field <> ''")
        used = {r[0] for r in cur.fetchall()}
        by_field: dict[str, list[str]] = {}
        for rec in records.values():
            for f in rec["fields"]:
                if f not in used:
                    by_field.setdefault(f, []).append(rec["name"])
        known = "、".join(sorted(used)) or "尚无任务指定执法领域"
        for f, names in sorted(by_field.items()):
            who = "、".join(names[:3]) + (f" 等 {len(names)} 人" if len(names) > 3 else "")
            out.append(
                f"执法领域“{f}”（{who}）与任何抽查任务的执法领域都不一致（任务使用：{known}）；"
                "不一致的人员不会被抽入指定了执法领域的任务"
            )
    elif kind.name in RETIRABLE:
        cur.execute(f"SELECT {kind.key.key} FROM {kind.table} WHERE retired_at IS NOT NULL")
        retired = sorted({r[0] for r in cur.fetchall()} & records.keys())
        if retired:
            shown = "、".join(retired[:5]) + (f" 等 {len(retired)} 个" if len(retired) > 5 else "")
            out.append(f"{shown} 已停用：导入更新其内容，但仍为停用（恢复须另行办理并说明原因）")
    return out


def unmatched_field(raw: RawConnection, field_name: str) -> str | None:
    """A task's 执法领域 that no inspector has, said as a warning (None when one has it)."""
    wanted = normalize.word(field_name)
    with raw.read() as cur:
        cur.execute("SELECT fields FROM inspector")
        have = {f for (fields,) in cur.fetchall() for f in json.loads(fields)}
    if not wanted or wanted in have:
        return None
    return (
        f"执法领域“{wanted}”没有任何执法人员具备（名录中的执法领域：{'、'.join(sorted(have)) or '无'}）；"
        "抽取时将无法组成检查组"
    )


def _scope(kind: Kind, within: Actor | None) -> tuple[str, str, tuple[Any, ...]]:
    """The join and the WHERE condition that keep a unit's rows to the account's subtree
    (inside the query); the item list belongs to no unit and is everyone's."""
    if kind.table not in OWNED_TABLES:
        return "", "1 = 1", ()
    join = " JOIN unit u ON u.id = d.unit_id"
    if within is None:
        return join, "1 = 1", ()
    return join, "u.path LIKE ?", (within.unit_path + "%",)


def load_all(
    raw: RawConnection, kind_name: str, *, within: Actor | None = None
) -> list[dict[str, Any]]:
    """Every row of the directory, by key; ``within``: only the account's subtree's."""
    kind = kind_of(kind_name)
    join, where, params = _scope(kind, within)
    with raw.read() as cur:
        cur.execute(
            raw.sql(
                f"SELECT {', '.join('d.' + c.key for c in kind.cols)} FROM {kind.table} d{join}"
                f" WHERE {where} ORDER BY d.{kind.key.key}"
            ),
            params,
        )
        return [_loaded(kind, row) for row in cur.fetchall()]


def _like(text: str) -> str:
    """A LIKE pattern matching ``text`` anywhere, its own % and _ taken literally."""
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def listing(
    raw: RawConnection,
    kind_name: str,
    *,
    within: Actor | None = None,
    q: str | None = None,
    retired: bool | None = None,
    after: int | None = None,
    limit: int = 50,
) -> list[dict[str, Any]]:
    """A page of the directory by id: each row's columns, its id, its unit's code (targets
    and inspectors) and when it was retired (items and targets). ``within``: the account's
    subtree only, inside the query; ``q``: in the key (code, credit code, certificate) or the
    name; ``retired``: only retired rows (True) or only rows in use (False)."""
    kind = kind_of(kind_name)
    join, where, params = _scope(kind, within)
    owned, retirable = kind.table in OWNED_TABLES, kind_name in RETIRABLE
    conditions, args = [where], list(params)
    if q is not None and normalize.nfkc(q):
        conditions.append(f"(d.{kind.key.key} LIKE ? ESCAPE '\\' OR d.name LIKE ? ESCAPE '\\')")
        args += [_like(normalize.code(q)), _like(normalize.nfkc(q))]
    if retired is not None:
        if not retirable:
            raise InvalidInput(f"{kind.label}没有停用状态", field="retired")
        conditions.append(f"d.retired_at IS {'NOT ' if retired else ''}NULL")
    if after is not None:
        conditions.append("d.id > ?")
        args.append(after)
    extra = (", u.code" if owned else ", NULL") + (", d.retired_at" if retirable else ", NULL")
    with raw.read() as cur:
        cur.execute(
            raw.sql(
                f"SELECT d.id, {', '.join('d.' + c.key for c in kind.cols)}{extra}"
                f" FROM {kind.table} d{join} WHERE {' AND '.join(conditions)}"
                " ORDER BY d.id LIMIT ?"
            ),
            (*args, limit),
        )
        out = []
        for row in cur.fetchall():
            rec = {"id": row[0], **_loaded(kind, row[1:-2])}
            if owned:
                rec["unit"] = row[-2]
            if retirable:
                rec["retired_at"] = row[-1]
            out.append(rec)
        return out


def _cells(kind: Kind, rec: dict[str, Any]) -> list[str]:
    out = []
    for c in kind.cols:
        v = rec[c.key]
        if c.is_list:
            v = "；".join(v)
        elif isinstance(v, bool):
            v = "是" if v else "否"
        out.append("" if v is None else str(v))
    return out


def export_file(
    raw: RawConnection, kind_name: str, path: Path, *, within: Actor | None = None
) -> int:
    """Write the directory in the importer's own layout (so export → import changes nothing);
    ``within``: only the rows of the account's subtree."""
    kind = kind_of(kind_name)
    records = load_all(raw, kind_name, within=within)
    rows = [[c.header for c in kind.cols], *(_cells(kind, r) for r in records)]
    write_sheet(path, rows, kind)
    return len(records)


def write_table(kind: Kind, path: Path, rows: list[list[str]]) -> None:
    """Rows (in the kind's column order) under its headers, as the importer reads them."""
    write_sheet(path, [[c.header for c in kind.cols], *rows], kind)


def write_template(kind_name: str, path: Path) -> None:
    kind = kind_of(kind_name)
    if path.suffix.lower() != ".xlsx":
        raise InvalidInput(f"模板须为 .xlsx 文件：{path}")
    write_sheet(path, [[c.header for c in kind.cols]], kind, notes=True)


def allowed_values(col: Col) -> str:
    """What a template says a column accepts."""
    if col.choices is None:
        return ""
    blank = "" if col.required else "；可留空"
    return col.choices.allowed() + blank


TEMPLATE_ROWS = 1000  # rows of the template that carry the drop-down lists


def write_sheet(path: Path, rows: list[list[str]], kind: Kind, notes: bool = False) -> None:
    """Rows (the first is the header) to a .csv or .xlsx file, written whole or not at all; a
    template (``notes``) also gets each column's note and drop-down list."""
    tmp = path.with_name(path.name + ".part")
    suffix = path.suffix.lower()
    try:
        if suffix == ".csv":
            with open(tmp, "w", encoding="utf-8-sig", newline="") as f:
                w = csv.writer(f)
                w.writerow(rows[0])
                w.writerows(spreadsheet.csv_row(r) for r in rows[1:])
        elif suffix == ".xlsx":
            from openpyxl import Workbook
            from openpyxl.styles import Font
            from openpyxl.utils import get_column_letter

            wb = Workbook(write_only=False)
            ws = spreadsheet.first_sheet(wb, kind.label)
            for r in rows:
                spreadsheet.append(ws, r)
            for cell in ws[1]:
                cell.font = Font(bold=True)
            for i, c in enumerate(kind.cols, start=1):
                ws.column_dimensions[get_column_letter(i)].width = max(12, len(c.header) * 2 + 4)
            ws.freeze_panes = "A2"
            if notes:
                for i, c in enumerate(kind.cols, start=1):
                    if c.choices is not None:
                        spreadsheet.add_choices(
                            ws,
                            i,
                            c.choices.values,
                            last_row=TEMPLATE_ROWS,
                            title=c.header,
                            hint=allowed_values(c),
                        )
                help_ws = wb.create_sheet("填写说明")
                spreadsheet.append(help_ws, ["列名", "是否必填", "可选值", "说明"])
                for cell in help_ws[1]:
                    cell.font = Font(bold=True)
                for c in kind.cols:
                    spreadsheet.append(
                        help_ws,
                        [c.header, "必填" if c.required else "选填", allowed_values(c), c.note],
                    )
                for col, width in zip("ABCD", (18, 10, 60, 50), strict=True):
                    help_ws.column_dimensions[col].width = width
            wb.save(tmp)
        else:
            raise InvalidInput(f"{path}：只支持 .csv 或 .xlsx 文件")
        tmp.replace(path)
    except OSError as e:
        raise InvalidInput(f"无法写入 {path}：{e.strerror}") from None
    finally:
        tmp.unlink(missing_ok=True)


# --- retiring items and targets ----------------------------------------------------------------
# A retired row keeps its history (records, draws and events still name it) but is not offered
# to new tasks: retired targets are out of draw populations, retired items cannot be named in a
# new task. Retiring and restoring are audited events like the import's.

RETIRABLE = {"items": "事项", "targets": "检查对象"}


@dataclass
class RetireSummary:
    kind: str
    changed: list[str]
    unchanged: list[str]  # already in the asked state
    first_seq: int | None = None
    last_seq: int | None = None


def retire(
    raw: RawConnection,
    kind_name: str,
    keys: list[str],
    *,
    reason: str,
    actor: str,
    now: str,
    restore: bool = False,
    within: Actor | None = None,
) -> RetireSummary:
    """Retire (or, with ``restore``, bring back) items or targets by code, one event each.
    ``within``: the acting account; a target outside its subtree is refused (Forbidden),
    and then nothing changes. The item list is shared by every unit."""
    if kind_name not in RETIRABLE:
        raise InvalidInput(
            f"只能停用 items（事项）或 targets（检查对象），不能停用 {kind_name!r}", field="kind"
        )
    kind = kind_of(kind_name)
    label = RETIRABLE[kind_name]
    reason = normalize.text(reason)
    if not reason:
        raise InvalidInput("请说明停用或恢复的原因", needs="reason", field="reason")
    codes = list(dict.fromkeys(normalize.code(k) for k in keys if k.strip()))
    if not codes:
        raise InvalidInput(f"请指定要{'恢复' if restore else '停用'}的{label}编码", field="code")
    key = kind.key.key
    owned = kind.table in OWNED_TABLES
    unit_cols, join = (
        (", u.path, u.name", " JOIN unit u ON u.id = d.unit_id") if owned else ("", "")
    )
    with raw.write() as cur:
        found: dict[str, str | None] = {}
        outside: dict[str, str] = {}
        for i in range(0, len(codes), 500):
            chunk = codes[i : i + 500]
            cur.execute(
                raw.sql(
                    f"SELECT d.{key}, d.retired_at{unit_cols} FROM {kind.table} d{join}"
                    f" WHERE d.{key} IN ({', '.join('?' for _ in chunk)})"
                ),
                tuple(chunk),
            )
            for row in cur.fetchall():
                found[row[0]] = row[1]
                if owned and within is not None and not within.sees_path(row[2]):
                    outside[row[0]] = row[3]
        missing = [c for c in codes if c not in found]
        if missing:
            raise NotFound(
                f"{label}清单中没有：{'、'.join(missing)}（未做任何更改）",
                field="code",
                value="、".join(missing),
            )
        if outside and within is not None:
            listed = "、".join(f"{c}（{u}）" for c, u in outside.items())
            raise Forbidden(
                f"{listed} 不在账号 {within.username} 所属单位（{within.unit_code}）"
                "及其下级单位之内（未做任何更改）",
                field="code",
            )
        todo = [c for c in codes if (found[c] is None) != restore]
        summary = RetireSummary(kind_name, todo, [c for c in codes if c not in todo])
        if not todo:
            raw.dbapi.rollback()
            return summary
        head = audit.read_head(cur, raw.sql)
        at = head.stamp(now)
        event_kind = f"{kind.table}_{'restored' if restore else 'retired'}"
        cur.executemany(
            raw.sql(f"UPDATE {kind.table} SET retired_at = ?, updated_at = ? WHERE {key} = ?"),
            [(None if restore else at, at, c) for c in todo],
        )
        events = [
            (actor, event_kind, None, reason, None, {"key": c, "retired_at": found[c]})
            for c in todo
        ]
        last = audit.append_many(cur, raw.sql, head, events, at=at, role="clerk")
        summary.first_seq, summary.last_seq = head.seq + 1, last.seq
    return summary
