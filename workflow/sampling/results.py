"""``ssj result import``: the results of one task from one spreadsheet.

The layout is the inspection sheet's (workflow/sheets.py) as a table: one row per target with
its credit code (or name), result, note and rectification date; the task is ``--task`` or an
``抽查任务`` column. Like every import it is all or nothing: every row is checked against the
task first (FILE:ROW:COLUMN for each problem, nothing written), then each changed record is
one ``result_set`` event, all in one transaction through the write path (Workflow.apply_change).
"""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any

from states import PROBLEM_RESULTS, RESULTS
from workflow.core import refs
from workflow.core.errors import Conflict, SsjError, Step
from workflow.core.writer import recorder_role, require_actor
from workflow.sampling.directories import (
    Col,
    ImportRejected,
    Kind,
    ParsedRow,
    RowProblem,
    date_cell,
    parse_file,
    write_sheet,
)

if TYPE_CHECKING:
    from workflow.core.writer import Workflow


def _result(v: str) -> str:
    """A result by its code (problem) or its Chinese label (发现问题)."""
    value = refs.norm(v)
    for code, label in RESULTS.items():
        if value in (code, label):
            return code
    raise ValueError("应为 " + " / ".join(f"{label}（{code}）" for code, label in RESULTS.items()))


KIND = Kind(
    "results",
    "检查结果",
    "inspection_record",
    (
        Col("target", "统一社会信用代码", refs.norm, required=True, note="也可填检查对象名称"),
        Col("name", "检查对象名称", refs.norm, note="选填；填写时须与名录一致（用于核对）"),
        Col("result", "检查结果", _result, required=True, note="、".join(RESULTS.values())),
        Col("note", "检查情况说明"),
        Col("rectify_by", "整改期限", date_cell, note="发现问题、不配合检查时；YYYY-MM-DD"),
        Col("task", "抽查任务", refs.norm, note="如 2026001-001号；或在导入时指定"),
    ),
)


def write_template(path: Path) -> None:
    write_sheet(path, [[c.header for c in KIND.cols]], KIND, notes=True)


def import_results(  # noqa: C901 (whole-file validation: a flat list of independent checks)
    wf: Workflow,
    path: Path,
    *,
    actor: str,
    task: int | str | None = None,
    reason: str | None = None,
    role: str | None = None,
    dry_run: bool = False,
    expected_version: int | None = None,
) -> dict[str, Any]:
    """Validate the whole file, then record every changed result in one transaction.
    ``task``: the task's id or its reference (2026001-001号), else the file's 抽查任务 column.
    ``expected_version``: the task must still be at this version (read before the checks,
    and again in the write transaction), else Conflict and nothing written."""
    require_actor(actor, role)
    problems: list[str] = []
    rows: dict[str, int] = {}
    parsed: list[ParsedRow] = []
    records = parse_file(KIND, path, rows, problems, all_rows=parsed)
    header = {c.key: c.header for c in KIND.cols}
    # The cells as typed, for each problem to quote as data (the message says it in words).
    cells = {(r.row, k): v for r in parsed for k, v in r.text.items()}

    def bad(key: str, col: str, message: str) -> None:
        row = rows.get(key)
        problems.append(
            RowProblem(path, message, row=row, column=header[col],
                       value=cells.get((row, col)) if row else None, quoted=False)
        )  # fmt: skip

    task_id = _which_task(wf, path, task, records, rows, problems, bad)
    if task_id is None:
        raise ImportRejected(str(path), problems)
    existing, state, version, task_label = _task_records(wf, task_id)
    if expected_version is not None and version != expected_version:
        raise Conflict(
            f"任务 {task_id} 已被他人修改：期望版本 {expected_version}，当前版本 {version}"
            f"（状态 {state}）；请重新读取后再操作",
            task=task_id,
        )
    from states import allows

    if not allows("set_result", state):
        problems.append(
            f"{path}: 任务 {task_id}（{task_label}）当前状态为 {state}：只能在 drawn 或 inspected"
            " 状态录入检查结果（已公示的结果须经更正程序）"
        )
        raise ImportRejected(str(path), problems, steps=[Step("result.correct", {"task": task_id})])
    seen: dict[str, str] = {}
    changes: list[tuple[str, dict[str, Any], str | None]] = []
    today = wf.clock.now().astimezone(wf.timezone).date().isoformat()
    unchanged = 0
    correct: list[Step] = []  # a published row: its correction, offered once
    needs: str | None = None
    by_name: dict[str, set[str]] = {}
    for c, r in existing.items():
        for n in r["names"]:
            by_name.setdefault(n, set()).add(c)
    for key, rec in records.items():
        code = key.upper()
        if code not in existing and len(by_name.get(key, ())) == 1:
            code = next(iter(by_name[key]))
        elif code not in existing:
            try:  # not the task's: let refs say why, with the candidates
                code = refs.target_code(wf.engine, key, task_id)
            except SsjError as e:
                bad(key, "target", str(e))
                continue
        if code not in existing:
            bad(key, "target", f"任务 {task_id} 没有检查对象 {key}")
            continue
        if code in seen:
            bad(key, "target", f"与第 {rows[seen[code]]} 行是同一检查对象（{code}）")
            continue
        seen[code] = key
        old = existing[code]
        if rec["name"] and rec["name"] != old["name"]:
            bad(key, "name", f"与名录不符：{code} 是 {old['name']}（{rec['name']}）")
        if recorder_role(actor, old["group"], wf.clerks) is None:
            members = "、".join(refs.inspector_label(c, n) for c, n in old["group"].items())
            bad(
                key,
                "target",
                f"{actor} 不是该检查对象的检查组成员（{members}），也不是登记的经办人员",
            )
        if old["published"]:
            correct.append(Step("result.correct", {"task": task_id, "code": code}))
            bad(
                key,
                "result",
                "结果已公示，不得导入改动：须逐户发布更正（说明原因与类别）",
            )
        due = rec["rectify_by"]
        if due is not None and rec["result"] not in PROBLEM_RESULTS:
            bad(
                key,
                "rectify_by",
                f"结果 {rec['result']} 无需整改：只有发现问题、不配合检查有整改期限",
            )
        elif due is not None and due < today:
            bad(key, "rectify_by", f"整改期限 {due} 早于今天 {today}")
        note = rec["note"] or None
        same = old["result"] == rec["result"] and old["note"] == note
        if same and (due is None or due == old["rectify_by"]):
            unchanged += 1
            continue
        if old["result"] is not None and not reason:
            needs = "reason"
            bad(
                key,
                "result",
                f"已有结果 {old['result']}：改动已有结果须说明原因（{rec['result']}）",
            )
        if due is None and rec["result"] == old["result"] and (old["rectify_by"] or "") >= today:
            rec["rectify_by"] = old["rectify_by"]  # a changed note keeps the date it had
        changes.append((code, rec, old["result"]))
    if problems:
        raise ImportRejected(str(path), problems, correct[:1], needs=needs)
    summary = {
        "task_id": task_id,
        "task": task_label,
        "rows": len(records),
        "recorded": sum(1 for _, _, before in changes if before is None),
        "changed": sum(1 for _, _, before in changes if before is not None),
        "unchanged": unchanged,
        "dry_run": dry_run,
    }
    if dry_run or not changes:
        return summary
    with wf.raw.write() as cur:
        for n, (code, rec, before) in enumerate(changes):
            why = reason if before is not None else (reason or f"导入 {path.name}")
            payload, change = wf.result_change(
                task_id,
                code,
                rec["result"],
                actor=actor,
                note=rec["note"] or None,
                reason=why,
                rectify_by=date.fromisoformat(rec["rectify_by"]) if rec["rectify_by"] else None,
                role=role,
            )
            wf.apply_change(
                cur,
                task_id,
                expected_version if n == 0 else None,  # checked once, in this transaction
                actor=actor,
                role=role or "inspector",  # the recorder check names the role found
                kind="result_set",
                reason=why,
                payload=payload,
                change=change,
            )
    return summary


def _which_task(
    wf: Workflow,
    path: Path,
    task: int | str | None,
    records: dict[str, dict[str, Any]],
    rows: dict[str, int],
    problems: list[str],
    bad: Any,
) -> int | None:
    """The task: ``--task``, or the file's 抽查任务 column (one task per file)."""
    wanted: int | None = None
    if task is not None:
        try:
            wanted = refs.task_id(wf.engine, task)
        except SsjError as e:
            problems.append(f"{path}: 指定的任务：{e}")
            return None
    found: dict[int, str] = {}
    for key, rec in records.items():
        if not rec["task"]:
            continue
        try:
            tid = refs.task_id(wf.engine, rec["task"])
        except SsjError as e:
            bad(key, "task", str(e))
            continue
        if wanted is not None and tid != wanted:
            bad(key, "task", f"与导入时指定的任务 {wanted} 不符（{rec['task']}）")
        found.setdefault(tid, key)
    if wanted is not None:
        return wanted
    if len(found) > 1:
        listed = "、".join(f"任务 {t}（第 {rows[k]} 行）" for t, k in found.items())
        problems.append(f"{path}: 一个文件只能导入一个任务的结果，文件中有 {listed}")
        return None
    if not found:
        problems.append(f"{path}: 请在导入时指定任务，或在“抽查任务”列填写（如 2026001-001号）")
        return None
    return next(iter(found))


def _task_records(wf: Workflow, task_id: int) -> tuple[dict[str, dict[str, Any]], str, int, str]:
    """The task's records by target code (with each group's names), its state, version and
    label."""
    import json

    sql = wf.raw.sql
    with wf.raw.read() as cur:
        cur.execute(
            sql(
                "SELECT t.state, p.plan_no, t.task_no, t.version FROM task t"
                " JOIN plan p ON p.id = t.plan_id WHERE t.id = ?"
            ),
            (task_id,),
        )
        row = cur.fetchone()
        if row is None:
            from workflow.core.errors import NotFound

            raise NotFound(f"任务 {task_id} 不存在")
        state, label = row[0], f"{row[1]}-{row[2]}"
        cur.execute(
            sql(
                "SELECT r.target_code, COALESCE(t.name, r.target_name), r.result, r.result_note,"
                " r.rectify_by, r.published_at, r.inspectors, r.target_name FROM inspection_record r"
                " LEFT JOIN target t ON t.code = r.target_code WHERE r.task_id = ?"
            ),
            (task_id,),
        )
        recs = cur.fetchall()
        cur.execute(sql("SELECT cert, name FROM inspector"))
        names = dict(cur.fetchall())
    out: dict[str, dict[str, Any]] = {}
    for code, name, result, note, due, published, group, drawn_name in recs:
        certs = json.loads(group)
        members = {c: names.get(c) for c in certs}
        out[code] = {
            "name": name,
            "names": {name, drawn_name},
            "result": result,
            "note": note,
            "rectify_by": due,
            "published": published is not None,
            "group": members,
        }
    return out, state, int(row[3]), label
