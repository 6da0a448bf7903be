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
from pathlib import Path
from typing import TYPE_CHECKING, Any

import states
from states._facts import RESULTS
from workflow.errors import InvalidInput

if TYPE_CHECKING:
    from workflow.engine import Workflow, _TaskTx


def _write_sheet(
    path: Path,
    task: dict[str, Any],
    target: dict[str, Any],
    items: list[tuple[Any, ...]],
    inspectors: list[tuple[Any, ...]],
) -> None:
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font

    wb = Workbook()
    ws = wb.active
    ws.title = "检查表"
    ws.append([f"{task['unit']}“双随机”抽查检查表（一企一表）"])
    ws["A1"].font = Font(bold=True, size=14)
    ws.append([])
    for label, value in (
        ("抽查计划", f"{task['plan_no']} {task['plan_name']}"),
        ("抽查任务", f"{task['task_no']} {task['name']}"),
        ("抽查时间", task["months"] or ""),
        ("检查对象", target["name"]),
        ("统一社会信用代码", target["code"]),
        ("类型", target["type"]),
        ("地区", target["region"]),
        ("行业", target["industry"]),
    ):
        ws.append([label, value])
    ws.append([])
    ws.append(["抽查事项"])
    ws.cell(ws.max_row, 1).font = Font(bold=True)
    ws.append(["事项编码", "事项名称", "法律依据", "检查内容", "检查方式"])
    for row in items:
        ws.append(list(row))
    if not items:
        ws.append(["", task["items"] or "（未指定抽查事项）"])
    ws.append([])
    ws.append(["检查组"])
    ws.cell(ws.max_row, 1).font = Font(bold=True)
    ws.append(["姓名", "执法证号", "处室", "签名"])
    for name, cert, office in inspectors:
        ws.append([name, cert, office, ""])
    ws.append([])
    ws.append(["检查结果（勾选一项）"])
    ws.cell(ws.max_row, 1).font = Font(bold=True)
    for label in RESULTS.values():
        ws.append(["□", label])
    ws.append([])
    ws.append(["检查情况说明", ""])
    ws.append(["检查对象负责人签字", "", "日期", ""])
    for col, width in zip("ABCDE", (20, 40, 40, 40, 10), strict=True):
        ws.column_dimensions[col].width = width
    for row in ws.iter_rows():
        for cell in row:
            cell.alignment = Alignment(wrap_text=True, vertical="top")
    wb.save(path)


def make_sheets(wf: Workflow, task_id: int, out_dir: Path, *, actor: str) -> list[dict[str, str]]:
    """Write one XLSX per drawn target into ``out_dir``; event ``sheets_made`` lists them."""
    payload: dict[str, Any] = {}
    scratch = Path(tempfile.mkdtemp(prefix="ssj-sheets-"))
    try:

        def change(tx: _TaskTx) -> None:
            if not states.allows("make_sheets", tx.task.state):
                raise InvalidInput(
                    f"任务 {task_id} 状态为 {tx.task.state}：检查表在抽取确认后、检查前（drawn 状态）生成"
                )
            task = _task(tx)
            if task["confirmed_at"] is None:
                raise InvalidInput(
                    f"任务 {task_id} 的抽取结果尚未确认：请先 ssj draw confirm {task_id}"
                )
            items = _items(tx, json.loads(task["item_codes"]))
            inspectors = {
                r[1]: r for r in tx.execute("SELECT name, cert, office FROM inspector").fetchall()
            }
            files = []
            # The record's target name is the fallback should the directory row be gone.
            for code, group, *found in tx.execute(
                "SELECT r.target_code, r.inspectors, t.name, t.type, t.region, t.industry,"
                " r.target_name FROM inspection_record r LEFT JOIN target t ON t.code = r.target_code"
                " WHERE r.task_id = ? ORDER BY r.target_code",
                (task_id,),
            ).fetchall():
                name, kind, region, industry, recorded_name = found
                target = {
                    "code": code,
                    "name": name or recorded_name,
                    "type": kind or "",
                    "region": region or "",
                    "industry": industry or "",
                }
                people = [inspectors.get(c, ("", c, "")) for c in json.loads(group)]
                name = f"{task['plan_no']}-{task['task_no']}-{code}.xlsx"
                _write_sheet(scratch / name, task, target, items, people)
                digest = hashlib.sha256((scratch / name).read_bytes()).hexdigest()
                files.append({"target_code": code, "file": name, "sha256": digest})
            payload["files"] = files

        wf._task_write(
            task_id,
            None,
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
    return payload["files"]


def _task(tx: _TaskTx) -> dict[str, Any]:
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


def _items(tx: _TaskTx, codes: list[str]) -> list[tuple[Any, ...]]:
    if not codes:
        return []
    rows = tx.execute(
        f"SELECT code, name, legal_basis, content, method FROM item"
        f" WHERE code IN ({', '.join('?' for _ in codes)}) ORDER BY code",
        tuple(codes),
    ).fetchall()
    return [tuple(r) for r in rows]
