"""The units spreadsheet (``ssj unit import``): the unit tree as a bureau's office keeps it,
validated whole like the directories — one bad row rejects the file with every problem
listed as ``FILE:ROW:COLUMN: what is wrong`` — then each new unit and each change is one event.

Rows may come in any order: a unit's parent may be a row further down. A unit already in
the database is matched by its code and may change its name, head, address and report duty;
its level and parent stay (moving a unit would move its plans and tasks with it).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from workflow.core import units
from workflow.core.db import RawConnection
from workflow.core.errors import InvalidInput
from workflow.core.identity import Actor
from workflow.core.normalize import YES_NO
from workflow.sampling import directories
from workflow.sampling.directories import Col, ImportRejected, Kind


def _kind(text: str) -> str:
    try:
        return units.parse_kind(text)
    except InvalidInput as e:
        raise ValueError(e.message) from None


def _code(text: str) -> str:
    try:
        return units.parse_code(text)
    except InvalidInput as e:
        raise ValueError(e.message) from None


def _parent(text: str) -> str:
    return _code(text) if text.strip() else ""


def _yes(text: str) -> bool:
    if not text.strip():
        return False
    try:
        return YES_NO(text) == "是"
    except ValueError:
        raise ValueError("应为 是/否") from None


KIND = Kind(
    "units",
    "单位",
    "unit",
    (
        Col("code", "单位代码", _code, required=True, note="如 410421（行政区划代码）或 410421-01"),
        Col("name", "单位名称", required=True),
        Col("kind", "层级", _kind, required=True, note="省级、市级、县级 或 科室"),
        Col("parent", "上级单位代码", _parent, note="最上级单位留空；科室填其所在局的代码"),
        Col("head", "负责人", note="逾期督办的通知对象"),
        Col("email", "电子邮箱"),
        Col("reports", "报送定期报告", _yes, note="科室是否须报送月报表等定期报告；留空为 否"),
    ),
)


@dataclass
class UnitImport:
    rows: int
    added: list[str] = field(default_factory=list)
    changed: list[str] = field(default_factory=list)
    unchanged: int = 0
    dry_run: bool = False


def write_template(path: Path) -> None:
    directories.write_sheet(path, [[c.header for c in KIND.cols]], KIND, notes=True)


def import_units(  # noqa: C901 (whole-file validation: a flat list of independent checks)
    raw: RawConnection,
    path: Path,
    *,
    actor: str,
    now: str,
    dry_run: bool = False,
    within: Actor | None = None,
) -> UnitImport:
    """Validate the whole file, then add and update its units in one transaction (nothing
    written if any row is wrong: ImportRejected lists every problem). ``within``: every unit
    the file adds or changes must lie in that account's subtree (a new unit's parent there or
    a new row of the file)."""
    problems: list[str] = []
    rows: dict[str, int] = {}
    records = directories.parse_file(KIND, path, rows, problems)
    header = {c.key: c.header for c in KIND.cols}

    def bad(code: str, col: str, message: str) -> None:
        problems.append(f"{path}:{rows.get(code, '?')}:{header[col]}: {message}")

    summary = UnitImport(len(records), dry_run=dry_run)
    sql = raw.sql
    with raw.write() as cur:
        stored = {u.code: u for u in units.load(cur, sql)}
        # The tree as it will be: stored units and the file's new ones, by code → kind.
        kinds = {c: u.kind for c, u in stored.items()} | {
            c: r["kind"] for c, r in records.items() if c not in stored
        }
        for code, rec in records.items():
            old = stored.get(code)
            if old is not None and within is not None and not within.sees_path(old.path):
                bad(code, "code", f"单位代码 {code} 已被本账号所属单位及其下级单位以外的单位使用")
                continue
            if old is not None:
                parent = next((u.code for u in stored.values() if u.id == old.parent_id), "")
                if rec["kind"] != old.kind:
                    bad(code, "kind", f"{old.label} 已是{units.KINDS[old.kind]}单位，不能改变层级")
                if rec["parent"] and rec["parent"] != parent:
                    bad(code, "parent", f"{old.label} 的上级单位是 {parent or '无'}，不能改变")
            elif not rec["parent"]:
                bad(code, "parent", "新单位须填写上级单位代码（只能有一个最上级单位）")
            elif rec["parent"] not in kinds or (
                within is not None
                and rec["parent"] in stored
                and not within.sees_path(stored[rec["parent"]].path)
            ):
                bad(code, "parent", f"上级单位 {rec['parent']} 既不在系统中，也不在本表中")
            else:
                parent_unit = stored.get(rec["parent"]) or units.Unit(
                    0, rec["parent"], f"第 {rows.get(rec['parent'], '?')} 行的单位",
                    kinds[rec["parent"]], None, "",
                )  # fmt: skip
                problem = units.placement_problem(rec["kind"], parent_unit)
                if problem:
                    bad(code, "kind", problem)
            if rec["reports"] and rec["kind"] != "office":
                bad(code, "reports", "只有科室报送定期报告")
        if problems:
            raise ImportRejected(str(path), problems)
        pending = [c for c in records if c not in stored]
        while pending:  # parents first: a pass adds every row whose parent is in place
            ready = [c for c in pending if records[c]["parent"] in stored]
            if not ready:  # a cycle among the new rows: each waits for another
                for c in pending:
                    bad(c, "parent", f"上级单位 {records[c]['parent']} 与本单位互为上下级")
                raise ImportRejected(str(path), problems)
            for c in ready:
                r = records[c]
                new = units.NewUnit(
                    c, r["name"], r["kind"], r["parent"], r["head"], r["email"], r["reports"]
                )
                try:
                    stored[c] = units.insert(
                        cur, sql, new, actor=actor, now=now, reason=f"导入 {path.name}"
                    )
                except InvalidInput as e:  # a name its parent has already
                    bad(c, e.fields.get("field", "code"), e.message)
                    stored[c] = units.Unit(0, c, r["name"], r["kind"], None, "")
                summary.added.append(c)
            pending = [c for c in pending if c not in ready]
        for code, rec in records.items():
            if code in summary.added:
                continue
            old = stored[code]
            changes: dict[str, Any] = {k: rec[k] for k in ("name", "head", "email", "reports")}
            try:
                new_unit = units.update(
                    cur, sql, code, changes, actor=actor, now=now, reason=f"导入 {path.name}"
                )
            except InvalidInput as e:
                bad(code, e.fields.get("field", "name"), e.message)
                continue
            if new_unit != old:
                summary.changed.append(code)
            else:
                summary.unchanged += 1
        if problems:  # raised inside the transaction: nothing written
            raise ImportRejected(str(path), problems)
        if dry_run:
            raw.dbapi.rollback()
    return summary
