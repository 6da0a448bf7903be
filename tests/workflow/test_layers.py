"""The one write path (DESIGN §5): only workflow/core writes the task and inspection-record
tables. Every other module asks the writer (``Workflow.insert_task``, the typed
``TaskTransaction`` methods); this test reads the source and fails on any other writer."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
WRITES = re.compile(
    r"\b(INSERT\s+INTO|UPDATE|DELETE\s+FROM)\s+(task|inspection_record)\b", re.IGNORECASE
)
ORM_WRITES = re.compile(r"\b(Task|InspectionRecord)\(|update\((Task|InspectionRecord)\)")


def _outside_core() -> list[Path]:
    return [
        p
        for d in ("workflow", "notifications", "states")
        for p in sorted((ROOT / d).rglob("*.py"))
        if "core" not in p.relative_to(ROOT).parts
    ]


def test_only_core_writes_tasks_and_inspection_records() -> None:
    offenders = [
        f"{p.relative_to(ROOT)}:{n}: {line.strip()}"
        for p in _outside_core()
        for n, line in enumerate(p.read_text(encoding="utf-8").splitlines(), 1)
        if WRITES.search(line) or ORM_WRITES.search(line)
    ]
    assert offenders == []


def test_the_check_finds_a_writer() -> None:
    assert WRITES.search('cur.execute("UPDATE task SET state = ? WHERE id = ?")')
    assert WRITES.search("insert into inspection_record (task_id) values (?)")
    assert not WRITES.search("UPDATE task_step SET x = 1")  # another table
    assert ORM_WRITES.search("session.add(Task(plan_id=1))")
    assert len(_outside_core()) > 10  # the scan reaches the sampling and deadlines packages
