"""一单两库: the inspection item list and the target and inspector directories.

Bureaus keep them in spreadsheets, so they come in and go out as CSV (UTF-8 or GBK) or XLSX
with Chinese headers. An import is all or nothing: every row is validated first, and one bad
row rejects the file with every problem listed as ``FILE:ROW:COLUMN: what is wrong (value)``.
Rows are upserted by key; each row that changes is one audit event with the fields before and
after, written in the same transaction.
"""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from workflow import audit, credit_code
from workflow.db import RawConnection
from workflow.errors import InvalidInput

MAX_ROWS = 2_000_000  # a larger file is refused up front rather than half-read
MAX_LISTED_ERRORS = 200


class ImportRejected(InvalidInput):
    """The file was rejected whole; ``problems`` holds every ``FILE:ROW:COLUMN: ...`` line."""

    def __init__(self, path: str, problems: list[str]) -> None:
        self.problems = problems
        shown = problems[:MAX_LISTED_ERRORS]
        more = len(problems) - len(shown)
        tail = f"\n……另有 {more} 个问题未列出" if more > 0 else ""
        super().__init__(
            f"{path} 未导入（共 {len(problems)} 个问题，未写入任何数据）：\n"
            + "\n".join(shown)
            + tail
        )


# --- column parsers: text in, value out, ValueError(zh message) when wrong --------------------


def _text(v: str) -> str:
    return v


def _choice(*allowed: str) -> Callable[[str], str]:
    def parse(v: str) -> str:
        if v not in allowed:
            raise ValueError(f"应为 {'/'.join(allowed)} 之一")
        return v

    return parse


def _list(v: str) -> list[str]:
    return [p.strip() for p in re.split(r"[;；,，、\n]", v) if p.strip()]


def _codes(v: str) -> list[str]:
    codes = _list(v)
    bad = [c for c in codes if not credit_code.is_valid(c.upper())]
    if bad:
        raise ValueError(f"不是有效的统一社会信用代码：{'、'.join(bad)}")
    return [c.upper() for c in codes]


def _credit_code(v: str) -> str:
    code = v.strip().upper()
    if len(code) != 18:
        raise ValueError(f"统一社会信用代码应为 18 位，实为 {len(code)} 位")
    if credit_code.is_valid(code):  # the common case, checked once
        return code
    if not all(c in credit_code.CHARSET for c in code):
        raise ValueError("含有统一社会信用代码不允许的字符（不用 I、O、S、V、Z）")
    raise ValueError(f"校验位错误（应为 {credit_code.check_char(code[:17])}）")


def _count(v: str) -> int:
    if v == "":
        return 0
    if not v.isdigit():
        raise ValueError("应为非负整数")
    return int(v)


def _date(v: str) -> str | None:
    if v == "":
        return None
    try:
        return date.fromisoformat(v[:10].replace("/", "-")).isoformat()
    except ValueError:
        raise ValueError("应为日期 YYYY-MM-DD") from None


def _bool(v: str) -> bool:
    if v in ("", "是", "可用", "1", "true", "True", "Y", "y"):
        return True
    if v in ("否", "不可用", "0", "false", "False", "N", "n"):
        return False
    raise ValueError("应为 是/否")


def _email(v: str) -> str:
    if v and not re.fullmatch(r"[^@\s]+@[^@\s]+\.[^@\s]+", v):
        raise ValueError("不是有效的电子邮箱")
    return v


@dataclass(frozen=True)
class Col:
    key: str
    header: str
    parse: Callable[[str], Any] = _text
    required: bool = False
    is_list: bool = False  # stored as canonical JSON text
    note: str = ""


@dataclass(frozen=True)
class Kind:
    name: str  # items | targets | inspectors
    label: str
    table: str
    cols: tuple[Col, ...]

    @property
    def key(self) -> Col:
        return self.cols[0]


TARGET_TYPES = (
    "用人单位",
    "个体工商户",
    "劳务派遣单位",
    "人力资源服务机构",
    "职业培训机构",
    "社会保险经办机构",
)

KINDS: dict[str, Kind] = {
    k.name: k
    for k in (
        Kind(
            "items",
            "抽查事项清单",
            "item",
            (
                Col("code", "事项编码", required=True, note="清单内唯一"),
                Col("name", "事项名称", required=True),
                Col("legal_basis", "法律依据"),
                Col("content", "检查内容"),
                Col("method", "检查方式", _choice("现场", "书面", "非现场"), required=True),
                Col("category", "事项类别", _choice("重点", "一般"), required=True),
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
                Col("type", "类型", _choice(*TARGET_TYPES), required=True),
                Col("industry", "行业"),
                Col("region", "地区"),
                Col("size", "规模", _choice("", "大型", "中型", "小型", "微型")),
                Col("grade", "信用风险等级", _choice("", "A", "B", "C", "D")),
                Col("tags", "标签", _list, is_list=True, note="多个用分号分隔"),
                Col("violations", "违法记录次数", _count),
                Col("complaints", "投诉举报次数", _count),
                Col("last_inspected", "最近检查日期", _date, note="YYYY-MM-DD"),
            ),
        ),
        Kind(
            "inspectors",
            "执法检查人员名录库",
            "inspector",
            (
                Col("cert", "执法证号", required=True),
                Col("name", "姓名", required=True),
                Col(
                    "fields", "执法领域", _list, is_list=True, required=True, note="多个用分号分隔"
                ),
                Col("specialties", "专长", _list, is_list=True),
                Col("office", "处室"),
                Col(
                    "recusal",
                    "回避对象",
                    _codes,
                    is_list=True,
                    note="须回避的统一社会信用代码，分号分隔",
                ),
                Col("email", "电子邮箱", _email),
                Col("available", "是否可用", _bool, note="是/否"),
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


def _read_csv(path: Path) -> Iterator[list[str]]:
    data = path.read_bytes()
    for encoding in ("utf-8-sig", "gb18030"):  # GBK files are common; gb18030 is its superset
        try:
            text = data.decode(encoding)
            break
        except UnicodeDecodeError:
            continue
    else:
        raise InvalidInput(
            f"{path}：无法识别文件编码（支持 UTF-8 与 GBK/GB18030），请另存为 UTF-8 CSV"
        )
    yield from csv.reader(io.StringIO(text, newline=""))


def _cell(v: Any) -> str:
    if v is None:
        return ""
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    if hasattr(v, "date") and hasattr(v, "hour"):  # a datetime cell
        return v.date().isoformat()
    return str(v)


def _read_xlsx(path: Path) -> Iterator[list[str]]:
    from zipfile import BadZipFile

    from openpyxl import load_workbook
    from openpyxl.utils.exceptions import InvalidFileException

    try:
        wb = load_workbook(path, read_only=True, data_only=True)
    except (InvalidFileException, BadZipFile, OSError, KeyError, ValueError) as e:
        raise InvalidInput(f"{path}：不是有效的 XLSX 文件（{e}）") from None
    try:
        ws = wb.worksheets[0]
        for row in ws.iter_rows(values_only=True):
            yield [_cell(v) for v in row]
    finally:
        wb.close()


def read_rows(path: Path) -> Iterator[list[str]]:
    if not path.exists():
        raise InvalidInput(f"文件 {path} 不存在")
    suffix = path.suffix.lower()
    if suffix == ".csv":
        return _read_csv(path)
    if suffix == ".xlsx":
        return _read_xlsx(path)
    raise InvalidInput(f"{path}：只支持 .csv 或 .xlsx 文件（.xls 请先另存为 .xlsx）")


# --- validation ------------------------------------------------------------------------------


def parse_file(
    kind: Kind,
    path: Path,
    rows_out: dict[str, int] | None = None,
    problems_out: list[str] | None = None,
) -> dict[str, dict[str, Any]]:
    """Every row validated; returns {key: record}. Raises ImportRejected listing all problems,
    unless ``problems_out`` is given: then row problems go there, rows with problems are left
    out, and the caller adds its own checks before rejecting (``rows_out`` gets each key's row
    number for those checks to cite)."""
    rows = read_rows(path)
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
            f"可用 ssj template {kind.name} 生成模板）"
        )
    if unknown:
        problems.append(f"{path}:{header_row}: 无法识别的列：{'、'.join(unknown)}")
    if dup_headers:
        problems.append(f"{path}:{header_row}: 列重复：{'、'.join(dup_headers)}")
    if problems:
        raise ImportRejected(str(path), problems)
    index = [(i, known[h]) for i, h in enumerate(header) if h in known]
    records: dict[str, dict[str, Any]] = {}
    first_row: dict[str, int] = {}
    for row_no, raw in enumerate(rows, start=header_row + 1):
        if row_no - header_row > MAX_ROWS:
            raise ImportRejected(str(path), [f"{path}: 超过 {MAX_ROWS:,} 行，请拆分文件后分批导入"])
        if not any(c.strip() for c in raw):
            continue
        rec: dict[str, Any] = {}
        row_ok = len(problems)
        for i, col in index:
            value = raw[i].strip() if i < len(raw) else ""
            if value == "" and col.required:
                problems.append(f"{path}:{row_no}:{col.header}: 不能为空")
                continue
            try:
                rec[col.key] = col.parse(value)
            except ValueError as e:
                problems.append(f"{path}:{row_no}:{col.header}: {e}（{value}）")
        for col in kind.cols:
            if col.key not in rec and not col.required:
                rec[col.key] = col.parse("")
        key = rec.get(kind.key.key)
        if key is None or (problems_out is not None and len(problems) != row_ok):
            if key is not None and key not in first_row:
                first_row[key] = row_no
            continue
        if key in first_row:
            problems.append(
                f"{path}:{row_no}:{kind.key.header}: 与第 {first_row[key]} 行重复（{key}）"
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


def import_file(
    raw: RawConnection, kind_name: str, path: Path, *, actor: str, now: str, dry_run: bool = False
) -> ImportSummary:
    kind = kind_of(kind_name)
    records = parse_file(kind, path)
    cols = [c.key for c in kind.cols]
    select = f"SELECT {', '.join(cols)} FROM {kind.table}"
    with raw.write() as cur:
        cur.execute(select)
        existing = {row[0]: _loaded(kind, row) for row in cur.fetchall()}
        inserts, updates, events = [], [], []
        for key, rec in records.items():
            old = existing.get(key)
            if old == rec:
                continue
            if old is None:
                inserts.append((*_stored(kind, rec), now))
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
        )
        if dry_run or not events:
            raw.dbapi.rollback()
            return summary
        if inserts:
            marks = ", ".join("?" for _ in range(len(cols) + 1))
            cur.executemany(
                raw.sql(
                    f"INSERT INTO {kind.table} ({', '.join(cols)}, updated_at) VALUES ({marks})"
                ),
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


def load_all(raw: RawConnection, kind_name: str) -> list[dict[str, Any]]:
    kind = kind_of(kind_name)
    with raw.read() as cur:
        cur.execute(
            f"SELECT {', '.join(c.key for c in kind.cols)} FROM {kind.table}"
            f" ORDER BY {kind.key.key}"
        )
        return [_loaded(kind, row) for row in cur.fetchall()]


def _cells(kind: Kind, rec: dict[str, Any]) -> list[str]:
    out = []
    for c in kind.cols:
        v = rec[c.key]
        if c.is_list:
            v = ";".join(v)
        elif isinstance(v, bool):
            v = "是" if v else "否"
        out.append("" if v is None else str(v))
    return out


def export_file(raw: RawConnection, kind_name: str, path: Path) -> int:
    """Write the directory in the importer's own layout (so export → import changes nothing)."""
    kind = kind_of(kind_name)
    records = load_all(raw, kind_name)
    rows = [[c.header for c in kind.cols], *(_cells(kind, r) for r in records)]
    _write(path, rows, kind)
    return len(records)


def write_table(kind: Kind, path: Path, rows: list[list[str]]) -> None:
    """Rows (in the kind's column order) under its headers, as the importer reads them."""
    _write(path, [[c.header for c in kind.cols], *rows], kind)


def write_template(kind_name: str, path: Path) -> None:
    kind = kind_of(kind_name)
    if path.suffix.lower() != ".xlsx":
        raise InvalidInput(f"模板须为 .xlsx 文件：{path}")
    _write(path, [[c.header for c in kind.cols]], kind, notes=True)


def _write(path: Path, rows: list[list[str]], kind: Kind, notes: bool = False) -> None:
    tmp = path.with_name(path.name + ".part")
    suffix = path.suffix.lower()
    try:
        if suffix == ".csv":
            with open(tmp, "w", encoding="utf-8-sig", newline="") as f:
                csv.writer(f).writerows(rows)
        elif suffix == ".xlsx":
            from openpyxl import Workbook
            from openpyxl.styles import Font

            wb = Workbook(write_only=False)
            ws = wb.active
            ws.title = kind.label
            for r in rows:
                ws.append(r)
            for cell in ws[1]:
                cell.font = Font(bold=True)
            for i, c in enumerate(kind.cols, start=1):
                ws.column_dimensions[ws.cell(1, i).column_letter].width = max(
                    12, len(c.header) * 2 + 4
                )
            if notes:
                help_ws = wb.create_sheet("填写说明")
                help_ws.append(["列名", "是否必填", "说明"])
                for c in kind.cols:
                    help_ws.append([c.header, "必填" if c.required else "选填", c.note])
            wb.save(tmp)
        else:
            raise InvalidInput(f"{path}：只支持 .csv 或 .xlsx 文件")
        tmp.replace(path)
    except OSError as e:
        raise InvalidInput(f"无法写入 {path}：{e.strerror}") from None
    finally:
        tmp.unlink(missing_ok=True)
