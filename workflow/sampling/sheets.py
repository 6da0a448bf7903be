"""The inspection sheet, one per target (一企一表, seed 003), written as XLSX.

Each sheet names the task, the target, the items to inspect with their legal basis, and the
inspectors with their certificate numbers, with room for the result and signatures. Files are
written to a scratch directory first and moved into place only after the event commits, so a
failure leaves neither files without an event nor an event without files.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import tempfile
from collections.abc import Sequence
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any

import states
from states import RESULTS
from workflow.core import spreadsheet
from workflow.core.errors import InvalidInput, Step

if TYPE_CHECKING:
    from workflow.core.writer import TaskTransaction, Workflow


def _write_sheet(
    path: Path,
    task: dict[str, Any],
    target: dict[str, Any],
    items: list[tuple[Any, ...]],
    inspectors: list[tuple[Any, ...]],
    joined: Sequence[tuple[str, list[tuple[Any, ...]]]] = (),
) -> None:
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font

    wb = Workbook()
    ws = spreadsheet.first_sheet(wb, "检查表")
    # Every value below may be user text (names, addresses, items): ``spreadsheet.append``
    # stores it as text, never as a formula.
    append = partial(spreadsheet.append, ws)
    append([f"{task['unit']}“双随机”抽查检查表（一企一表）"])
    ws["A1"].font = Font(bold=True, size=14)
    append([])
    for label, value in (
        ("抽查计划", f"{task['plan_no']} {task['plan_name']}"),
        ("抽查任务", f"{task['task_no']} {task['name']}"),
        ("抽查时间", task["months"] or ""),
        ("检查对象", target["name"]),
        ("统一社会信用代码", target["code"]),
        ("住所", target["address"]),
        ("法定代表人", target["legal_rep"]),
        ("联系电话", target["phone"]),
        ("类型", target["type"]),
        ("地区", target["region"]),
        ("行业", target["industry"]),
    ):
        append([label, value])
    append([])
    append(["抽查事项"])
    ws.cell(ws.max_row, 1).font = Font(bold=True)
    append(["事项编码", "事项名称", "法律依据", "检查内容", "检查方式"])
    for row in items:
        append(list(row))
    if not items:
        append(["", task["items"] or "（未指定抽查事项）"])
    for label, joined_items in joined:  # joint visit: the joining task's items, checked too
        append([label])
        ws.cell(ws.max_row, 1).font = Font(bold=True)
        for row in joined_items:
            append(list(row))
    append([])
    append(["检查组"])
    ws.cell(ws.max_row, 1).font = Font(bold=True)
    append(["姓名", "执法证号", "处室", "签名"])
    for name, cert, office in inspectors:
        append([name, cert, office, ""])
    append([])
    append(["检查结果（勾选一项）"])
    ws.cell(ws.max_row, 1).font = Font(bold=True)
    for label in RESULTS.values():
        append(["□", label])
    append([])
    append(["检查情况说明", ""])
    append(["检查对象负责人签字", "", "日期", ""])
    for col, width in zip("ABCDE", (20, 40, 40, 40, 10), strict=True):
        ws.column_dimensions[col].width = width
    for row in ws.iter_rows():
        for cell in row:
            cell.alignment = Alignment(wrap_text=True, vertical="top")
    # A4, fitted to the width, the title repeated on every page.
    spreadsheet.print_a4(ws, title_rows="1:1")
    wb.save(path)


def sheet_file_name(task: dict[str, Any], code: str, name: str) -> str:
    """``2024001-001号-<code>-<target name>.xlsx``, sanitised and bounded in length."""
    stem = spreadsheet.safe_filename(f"{task['plan_no']}-{task['task_no']}-{code}-{name}")
    return f"{stem}.xlsx"


def make_sheets(
    wf: Workflow,
    task_id: int,
    out_dir: Path,
    *,
    actor: str,
    expected_version: int | None = None,
) -> list[dict[str, str]]:
    """Write one XLSX per drawn target into ``out_dir``; event ``sheets_made`` lists them."""
    payload: dict[str, Any] = {}
    scratch = Path(tempfile.mkdtemp(prefix="ssj-sheets-"))
    try:

        def change(tx: TaskTransaction) -> None:
            if not states.allows("make_sheets", tx.task.state):
                raise InvalidInput(
                    f"任务 {task_id} 状态为 {tx.task.state}：检查表在抽取确认后、检查前（drawn 状态）生成"
                )
            task = _task(tx)
            if task["confirmed_at"] is None:
                raise InvalidInput(
                    f"任务 {task_id} 的抽取结果尚未确认：请先确认抽取结果",
                    steps=[Step("draw.confirm", {"task": task_id})],
                    task=task_id,
                )
            items = _items(tx, json.loads(task["item_codes"]))
            inspectors = {
                r[1]: r for r in tx.execute("SELECT name, cert, office FROM inspector").fetchall()
            }
            files: list[dict[str, str]] = []
            # The record's target name is the fallback should the directory row be gone.
            for code, group, *found in tx.execute(
                "SELECT r.target_code, r.inspectors, t.name, t.type, t.region, t.industry,"
                " t.address, t.legal_rep, t.phone, r.target_name, r.joined"
                " FROM inspection_record r LEFT JOIN target t ON t.code = r.target_code"
                " WHERE r.task_id = ? ORDER BY r.target_code",
                (task_id,),
            ).fetchall():
                name, kind, region, industry, address, legal_rep, phone, recorded_name, joined = (
                    found
                )
                target = {
                    "code": code,
                    "name": name or recorded_name,
                    "type": kind or "",
                    "region": region or "",
                    "industry": industry or "",
                    "address": address or "",
                    "legal_rep": legal_rep or "",
                    "phone": phone or "",
                }
                people = [inspectors.get(c, ("", c, "")) for c in json.loads(group)]
                name = sheet_file_name(task, code, target["name"])
                _write_sheet(
                    scratch / name, task, target, items, people, _joined(tx, json.loads(joined))
                )
                digest = hashlib.sha256((scratch / name).read_bytes()).hexdigest()
                files.append({"target_code": code, "file": name, "sha256": digest})
            payload["files"] = files

        wf.write_task(
            task_id,
            expected_version,
            actor=actor,
            role="clerk",
            kind="sheets_made",
            reason=None,
            payload=payload,
            change=change,
        )
        try:
            out_dir.mkdir(parents=True, exist_ok=True)
            for f in payload["files"]:
                shutil.move(scratch / f["file"], out_dir / f["file"])
        except OSError as e:
            raise InvalidInput(
                f"检查表已生成并记入日志，但无法写入 {out_dir}：{e.strerror}；可重新运行本命令"
            ) from None
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    made: list[dict[str, str]] = payload["files"]  # set by change() when the write succeeded
    return made


def _task(tx: TaskTransaction) -> dict[str, Any]:
    row = tx.execute(
        "SELECT p.plan_no, p.name, p.unit, t.task_no, t.name, t.months, t.items, t.item_codes,"
        " t.confirmed_at FROM task t JOIN plan p ON p.id = t.plan_id WHERE t.id = ?",
        (tx.task.id,),
    ).fetchone()
    keys = [
        "plan_no",
        "plan_name",
        "unit",
        "task_no",
        "name",
        "months",
        "items",
        "item_codes",
        "confirmed_at",
    ]
    return dict(zip(keys, row, strict=True))


def _joined(
    tx: TaskTransaction, joined: list[dict[str, Any]]
) -> list[tuple[str, list[tuple[Any, ...]]]]:
    """For each task joined into this visit: a heading naming it, and its items (its plan
    wording when it lists no item codes)."""
    out = []
    for j in joined:
        plan_no, items_text = tx.execute(
            "SELECT p.plan_no, t.items FROM task t JOIN plan p ON p.id = t.plan_id WHERE t.id = ?",
            (j["task_id"],),
        ).fetchone()
        label = f"联合检查：任务 {plan_no} {j['task_no']}（{j['office'] or '—'}）的抽查事项"
        rows = _items(tx, j["item_codes"]) or [("", items_text or "（未指定抽查事项）")]
        out.append((label, rows))
    return out


def _items(tx: TaskTransaction, codes: list[str]) -> list[tuple[Any, ...]]:
    if not codes:
        return []
    rows = tx.execute(
        f"SELECT code, name, legal_basis, content, method FROM item"
        f" WHERE code IN ({', '.join('?' for _ in codes)}) ORDER BY code",
        tuple(codes),
    ).fetchall()
    return [tuple(r) for r in rows]
