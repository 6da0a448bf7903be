"""The one write path (DESIGN §5): only workflow/core writes the task and inspection-record
tables. Every other module asks the writer (``Workflow.insert_task``, the typed
``TaskTransaction`` methods); this test reads the source and fails on any other writer."""

from __future__ import annotations

import ast
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
        for d in ("workflow", "notifications", "states", "web")
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


# No module imports another module's private names (ruff's SLF001 sees `obj._x`, not
# `from m import _x`): what one module offers another is public, or the package's public face.
def _private_imports(rel: str, text: str) -> list[str]:
    found = []
    package = rel.split("/")[0]
    for node in ast.walk(ast.parse(text)):
        if not isinstance(node, ast.ImportFrom) or not node.module:
            continue
        if node.module.split(".")[0] not in ("workflow", "states", "notifications", "web"):
            continue
        own_private_module = node.module.startswith(f"{package}._")  # states/_guards → _facts
        names = [a.name for a in node.names if a.name.startswith("_")]
        modules = [p for p in node.module.split(".") if p.startswith("_")]
        if (names or modules) and not own_private_module:
            found.append(f"{rel}:{node.lineno}: from {node.module} import …")
    return found


def test_no_module_imports_another_modules_private_names() -> None:
    hits = [
        hit
        for d in ("workflow", "notifications", "states", "web")
        for p in sorted((ROOT / d).rglob("*.py"))
        for hit in _private_imports(p.relative_to(ROOT).as_posix(), p.read_text(encoding="utf-8"))
    ]
    assert hits == []


def test_the_private_import_check_finds_one() -> None:
    text = "import os\nfrom workflow.sampling.directories import Kind, _cells\n"
    assert _private_imports("workflow/x.py", text) == [
        "workflow/x.py:2: from workflow.sampling.directories import …"
    ]
    assert _private_imports("workflow/x.py", "from states._facts import RESULTS\n") != []
    assert _private_imports("states/x.py", "from states._facts import RESULTS\n") == []
    assert _private_imports("workflow/x.py", "from states import RESULTS\n") == []
    assert _private_imports("web/x.py", "from web._problems import Problem\n") == []
    assert _private_imports("workflow/cli/x.py", "from web._problems import Problem\n") != []
