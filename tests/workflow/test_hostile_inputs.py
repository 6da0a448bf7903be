"""Issue #9 §5: broken and hostile files never lose a row, never crash.

Every hostile input goes through the real ``ssj`` command line. A refusal is exit code 2 (or 1
for a log or draw record that fails verification) with a zh-CN message naming the file and
where, never a traceback; after it the directories, their exports and the audit log are
exactly as before. Resource bombs are built here (small on disk, huge unpacked) and refused in
a subprocess whose peak memory is measured.
"""

from __future__ import annotations

import csv
import io
import json
import struct
import subprocess
import sys
import typing
import zipfile
import zlib
from pathlib import Path

import pytest
import sqlalchemy
from openpyxl import Workbook
from typer.testing import CliRunner

from tests.conftest import add_account
from workflow.cli import access
from workflow.cli.main import app
from workflow.core import permissions
from workflow.sampling.credit_code import make
from workflow.sampling.directories import KINDS

runner = CliRunner()
T_HEAD = [c.header for c in KINDS["targets"].cols]
I_HEAD = [c.header for c in KINDS["inspectors"].cols]
M_HEAD = [c.header for c in KINDS["items"].cols]
HUGE_ID = "99999999999999999999"  # beyond 64 bits


# The bureau's accounts (DESIGN §8): each command acts as the person who would type it — the
# clerk (录入员) for the directories, plans, draws and results, the auditor for the log, the
# administrator for the sweep and the outbox.
ADMIN, CLERK, AUDITOR = "管理员", "录入员", "审计员"
_TYPED_BY = {"audit": AUDITOR, "sweep": ADMIN, "outbox": ADMIN, "user": ADMIN, "unit": ADMIN}


def ssj(db: str, *args: str, env: dict[str, str] | None = None) -> tuple[int, str]:
    who = _TYPED_BY.get(args[0], CLERK) if args else CLERK
    r = runner.invoke(app, ["--db", db, "--as", who, *args], catch_exceptions=False, env=env)
    return r.exit_code, r.output


def ok(db: str, *args: str) -> str:
    code, out = ssj(db, *args)
    assert code == 0, (args, out)
    return out


def target(i: int, name: str | None = None) -> list[str]:
    return [make("130227", i), name or f"迁西县企业{i}", "用人单位", "制造业", "迁西县", "小型"]


def inspector(cert: str, name: str) -> list[str]:
    return [cert, name, "劳动保障监察", "", "监察大队", "", "", "是"]


def write_csv(path: Path, rows: list[list[str]]) -> Path:
    with open(path, "w", encoding="utf-8-sig", newline="") as f:
        csv.writer(f).writerows(rows)
    return path


def write_xlsx(path: Path, rows: list[list[object]]) -> Path:
    wb = Workbook()
    for r in rows:
        wb.active.append(r)
    wb.save(path)
    return path


def _bureau(db_url: str, tmp_path: Path) -> str:
    """A database with its accounts, and a few targets, inspectors and items already imported."""
    ok(db_url, "init")
    # The first account, from the server's console (no account to act as yet), then the rest.
    r = runner.invoke(app, ["--db", db_url, "user", "add", ADMIN, "--role", "admin", "--unit",
                            "000000", "--no-password"])  # fmt: skip
    assert r.exit_code == 0, r.output
    ok(db_url, "user", "add", CLERK, "--role", "clerk", "--unit", "000000", "--no-password")
    ok(db_url, "user", "add", AUDITOR, "--role", "auditor", "--unit", "000000", "--no-password")
    ok(
        db_url,
        "import",
        "targets",
        str(write_csv(tmp_path / "t0.csv", [T_HEAD[:6], *(target(i) for i in range(3))])),
    )
    ok(
        db_url,
        "import",
        "inspectors",
        str(
            write_csv(
                tmp_path / "i0.csv",
                [I_HEAD, inspector("013022700001", "张三"), inspector("013022700002", "李四")],
            )
        ),
    )
    ok(
        db_url,
        "import",
        "items",
        str(
            write_csv(
                tmp_path / "m0.csv",
                [M_HEAD, ["QX-LD-001", "劳动合同签订", "劳动合同法", "", "现场", "重点"]],
            )
        ),
    )
    return db_url


@pytest.fixture
def bureau(db_url: str, tmp_path: Path) -> str:
    return _bureau(db_url, tmp_path)


@pytest.fixture
def sqlite_bureau(tmp_path: Path) -> str:
    """For the bombs: refused before the database is read, so one backend is enough (and
    building a bomb takes seconds)."""
    return _bureau(f"sqlite:///{tmp_path / 'bombs.db'}", tmp_path)


def snapshot(db: str, tmp_path: Path) -> dict[str, list[tuple[object, ...]]]:
    """Every row of the directories (what the exports are made of) and of the audit log."""
    engine = sqlalchemy.create_engine(db)
    try:
        with engine.connect() as conn:
            return {
                table: [
                    tuple(r)
                    for r in conn.execute(sqlalchemy.text(f"SELECT * FROM {table} ORDER BY {key}"))
                ]
                for table, key in (
                    ("target", "code"),
                    ("inspector", "cert"),
                    ("item", "code"),
                    ("event", "seq"),
                )
            }
    finally:
        engine.dispose()


def refused(
    db: str, tmp_path: Path, *args: str, code: int = 2, env: dict[str, str] | None = None
) -> str:
    """Run a command that must be refused; assert the message, and that nothing changed."""
    before = snapshot(db, tmp_path)
    got, out = ssj(db, *args, env=env)
    assert got == code, (args, out)
    assert "Traceback" not in out and out.strip(), out
    assert snapshot(db, tmp_path) == before
    return out


def imported(db: str, tmp_path: Path, kind: str) -> list[dict[str, str]]:
    path = tmp_path / f"now-{kind}.csv"
    ok(db, "export", kind, str(path))
    return list(csv.DictReader(io.StringIO(path.read_text(encoding="utf-8-sig"))))


# --- silent corruption --------------------------------------------------------------------------


def dated(i: int) -> str:
    """A full target row whose last cell is a date: 2024-03-05 plus anything still parsed."""
    return ",".join([*target(i), "B", "", "0", "0", "2024-03-05"])


def test_an_unbalanced_quote_to_the_end_of_the_file_is_refused_at_its_row(bureau, tmp_path):
    """Before: the rest of the file became one 最近检查日期 cell that still began with a
    date, so the import said 2 rows and exited 0; the rows after it were lost."""
    path = tmp_path / "t.csv"
    lines = [",".join(T_HEAD), dated(10), dated(11).replace("2024-03-05", '"2024-03-05')]
    lines += [dated(i) for i in range(12, 16)]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    out = refused(bureau, tmp_path, "import", "targets", str(path))
    assert f"{path}:3:" in out and "第 3 行（文件第 3 行）的双引号没有配对" in out


def test_an_unbalanced_quote_that_swallows_rows_is_refused(bureau, tmp_path):
    path = tmp_path / "t.csv"
    lines = [",".join(T_HEAD), dated(10), dated(11).replace("2024-03-05", '"2024-03-05')]
    lines += [dated(i) for i in range(12, 15)]
    lines.append(dated(15).replace("迁西县企业15", '迁西县企业15"'))  # the quote closes here
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    out = refused(bureau, tmp_path, "import", "targets", str(path))
    assert f"{path}:3:" in out and "第 3 行" in out and "并进了一个单元格" in out


def test_a_quoted_note_spanning_lines_still_imports(bureau, tmp_path):
    """Line breaks inside a quoted free-text cell are legitimate: no false alarm."""
    path = write_csv(
        tmp_path / "m.csv",
        [
            M_HEAD,
            [
                "QX-LD-002",
                "工资支付",
                "劳动法",
                "一、工资台账\n二、支付凭证\t（近一年）",
                "书面",
                "一般",
            ],
        ],
    )
    ok(bureau, "import", "items", str(path))
    rows = {r["事项编码"]: r for r in imported(bureau, tmp_path, "items")}
    assert rows["QX-LD-002"]["检查内容"] == "一、工资台账\n二、支付凭证\t（近一年）"


def test_an_understated_xlsx_dimension_loses_no_row(bureau, tmp_path):
    good = write_xlsx(tmp_path / "good.xlsx", [T_HEAD[:6], *(target(i) for i in range(20, 25))])
    path = tmp_path / "t.xlsx"
    with zipfile.ZipFile(good) as src, zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            data = src.read(info)
            if info.filename == "xl/worksheets/sheet1.xml":
                assert b'<dimension ref="A1:F6" />' in data  # before: only row 2 was read
                data = data.replace(b'<dimension ref="A1:F6" />', b'<dimension ref="A1:F2" />')
            dst.writestr(info, data)
    ok(bureau, "import", "targets", str(path))
    rows = {r["统一社会信用代码"]: r for r in imported(bureau, tmp_path, "targets")}
    for i in range(20, 25):  # every row, and every column past B
        assert rows[make("130227", i)]["规模"] == "小型"


def test_a_certificate_typed_as_a_number_is_refused_not_stripped_of_its_zero(bureau, tmp_path):
    path = write_xlsx(tmp_path / "i.xlsx", [I_HEAD, [13022700001, "张三", "劳动保障监察"]])
    out = refused(bureau, tmp_path, "import", "inspectors", str(path))
    assert f"{path}:2:执法证号: 是数字格式的单元格（13022700001）" in out and "文本" in out


def test_a_number_shown_with_its_leading_zeros_is_read_as_shown(bureau, tmp_path):
    wb = Workbook()
    wb.active.append(I_HEAD)
    wb.active.append([13022700001, "张三", "劳动保障监察"])
    wb.active["A2"].number_format = "000000000000"  # the clerk sees 013022700001
    wb.active.append(["013022700003", 42, "劳动保障监察"])  # a number in a name column: its text
    wb.save(tmp_path / "i.xlsx")
    ok(bureau, "import", "inspectors", str(tmp_path / "i.xlsx"))
    rows = {r["执法证号"]: r["姓名"] for r in imported(bureau, tmp_path, "inspectors")}
    assert rows == {"013022700001": "张三", "013022700002": "李四", "013022700003": "42"}


def test_control_and_direction_characters_in_a_name_are_refused(bureau, tmp_path):
    before = snapshot(bureau, tmp_path)
    for name, what in [
        ("迁西县\x00企业", "U+0000"),
        ("迁西\x1b[31m县企业", "U+001B"),
        ("迁西县\u202e业企", "U+202E"),
        ("\u2066迁西县企业\u2069", "U+2066"),
        ("迁西县\n企业", "U+000A"),
    ]:
        path = write_csv(tmp_path / "t.csv", [T_HEAD[:6], target(30), target(31, name)])
        code, out = ssj(bureau, "import", "targets", str(path))
        assert code == 2 and f"{path}:3:名称:" in out and what in out, (name, out)
    assert snapshot(bureau, tmp_path) == before


def test_control_characters_are_refused_in_xlsx_too(bureau, tmp_path):
    path = write_xlsx(tmp_path / "i.xlsx", [I_HEAD, ["013022700009", "王\u202e五", "劳动保障监察"]])
    out = refused(bureau, tmp_path, "import", "inspectors", str(path))
    assert f"{path}:2:姓名:" in out and "U+202E" in out


def test_names_over_a_sane_length_are_refused(bureau, tmp_path):
    path = write_csv(tmp_path / "t.csv", [T_HEAD[:6], target(40, "企" * 201)])
    out = refused(bureau, tmp_path, "import", "targets", str(path))
    assert f"{path}:2:名称: 过长：201 个字符，最多 200 个" in out
    out = refused(
        bureau,
        tmp_path,
        "plan",
        "create",
        "--no",
        "2026001",
        "--unit",
        "局" * 201,
    )
    assert "--unit 过长" in out
    out = refused(
        bureau,
        tmp_path,
        "plan",
        "create",
        "--no",
        "2026001",
        "--unit",
        "迁西\u202e局",
    )
    assert "U+202E" in out


# --- tracebacks instead of messages -------------------------------------------------------------


def test_a_csv_field_over_128_kib_is_a_message(bureau, tmp_path):
    path = write_csv(
        tmp_path / "t.csv", [T_HEAD[:6], target(50), [*target(51)[:3], "制" * 140_000]]
    )
    out = refused(bureau, tmp_path, "import", "targets", str(path))
    assert f"{path}:3:" in out and "32768" in out


def test_a_cell_over_the_cell_limit_is_named(bureau, tmp_path):
    path = write_csv(tmp_path / "t.csv", [T_HEAD[:6], [*target(52)[:3], "制" * 40_000]])
    out = refused(bureau, tmp_path, "import", "targets", str(path))
    assert f"{path}:2:行业: 单元格过长：40000 个字符，最多 32768 个" in out


def test_a_corrupt_deflate_stream_in_an_xlsx_is_a_message(bureau, tmp_path):
    path = write_xlsx(tmp_path / "t.xlsx", [T_HEAD[:6], *(target(i) for i in range(60, 200))])
    data = bytearray(path.read_bytes())
    with zipfile.ZipFile(path) as z:
        info = z.getinfo("xl/worksheets/sheet1.xml")
    start = info.header_offset + 30 + len(info.filename) + len(info.extra)
    for k in range(start + 20, start + info.compress_size - 4, 7):
        data[k] ^= 0x5A
    path.write_bytes(bytes(data))
    out = refused(bureau, tmp_path, "import", "targets", str(path))
    assert str(path) in out and "XLSX" in out


def test_paths_that_are_not_files_are_messages(bureau, tmp_path):
    (tmp_path / "dir.csv").mkdir()
    assert "不是普通文件" in refused(
        bureau, tmp_path, "import", "targets", str(tmp_path / "dir.csv")
    )
    assert "不存在" in refused(bureau, tmp_path, "import", "targets", str(tmp_path / "none.csv"))
    assert "无法写入" in refused(
        bureau, tmp_path, "export", "targets", str(tmp_path / "no" / "x.csv")
    )
    assert "无法写入" in refused(
        bureau, tmp_path, "audit", "checkpoint", "--out", str(tmp_path / "no" / "cp.json")
    )


def _export(db: str, tmp_path: Path) -> Path:
    path = tmp_path / "log.jsonl"
    ok(db, "audit", "export", str(path))
    return path


def test_audit_verify_file_refuses_what_is_not_a_log(bureau, tmp_path):
    path = tmp_path / "bad.jsonl"
    for content, message in [
        (b'{"seq": 1, "time": "\xff\xfe"}\n', "第 1 行：不是有效的 UTF-8"),
        (b"[" * 10_000 + b"]" * 10_000 + b"\n", "第 1 行：不是有效的事件记录"),
        (b'{"seq": 1e400}\n', "第 1 行：不是有效的事件记录"),
        (b"", "没有任何事件"),
        (b"\n\n", "没有任何事件"),
    ]:
        path.write_bytes(content)
        out = refused(bureau, tmp_path, "audit", "verify", "--file", str(path), code=1)
        assert message in out


def test_a_truncated_log_without_a_checkpoint_says_nothing_pins_its_length(bureau, tmp_path):
    path = _export(bureau, tmp_path)
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    path.write_text("".join(lines[:-2]), encoding="utf-8")
    out = ok(bureau, "audit", "verify", "--file", str(path))
    assert "--against" in out and "尾部被截掉" in out
    result = json.loads(ok(bureau, "audit", "verify", "--file", str(path), "--json"))
    assert result["ok"] and "检查点" in result["note"] and result["needs"] == "against"
    cp = tmp_path / "cp.json"
    ok(bureau, "audit", "checkpoint", "--out", str(cp))
    with_cp = json.loads(
        ok(
            bureau,
            "audit",
            "verify",
            "--file",
            str(_export(bureau, tmp_path)),
            "--against",
            str(cp),
            "--json",
        )
    )
    assert with_cp["ok"] and "note" not in with_cp


def test_a_hostile_checkpoint_is_a_message(bureau, tmp_path):
    cp = tmp_path / "cp.json"
    for text in ('{"seq": 1e400, "hash": "00"}', "[" * 10_000, '{"seq": -1, "hash": "00"}'):
        cp.write_text(text, encoding="utf-8")
        assert "检查点文件" in refused(bureau, tmp_path, "audit", "verify", "--against", str(cp))


def _record(db: str, tmp_path: Path) -> dict[str, object]:
    """A real draw record, for the hostile variants of it."""
    ok(
        db,
        "plan",
        "create",
        "--no",
        "2026001",
        "--unit",
        "迁西县人力资源和社会保障局",
    )
    tid = json.loads(
        ok(
            db,
            "task",
            "create",
            "--plan",
            "2026001",
            "--name",
            "专项",
            "--ratio",
            "0.5",
            "--json",
        )
    )["id"]
    ok(db, "plan", "publish", "2026001")
    ok(db, "draw", str(tid))
    return json.loads(ok(db, "draw", "record", str(tid), "--json"))


def test_draw_verify_file_refuses_hostile_records(bureau, tmp_path):
    record = _record(bureau, tmp_path)
    path = tmp_path / "r.json"
    path.write_text(json.dumps(record), encoding="utf-8")
    assert "验证通过" in ok(bureau, "draw", "verify", "--file", str(path))
    cases = [
        (b"\xff\xfe{}", 2, "不是有效的 UTF-8"),
        (b"[" * 10_000 + b"]" * 10_000, 2, "嵌套超过"),
        (b'{"a": NaN}', 2, "NaN"),
        (b"[1, 2]", 2, "应为 JSON 对象"),
        (
            json.dumps(record).replace('"group_size": 2', '"group_size": 1e400').encode(),
            1,
            "group_size",
        ),
        (json.dumps(record).replace('"cap": 10', '"cap": 1e400').encode(), 1, "cap"),
        (json.dumps({**record, "strata": [{"name": []}]}).encode(), 1, "格式无效"),
    ]
    for content, code, message in cases:
        path.write_bytes(content)
        assert message in refused(
            bureau, tmp_path, "draw", "verify", "--file", str(path), code=code
        )


def test_the_standard_library_checkers_survive_hostile_files(bureau, tmp_path):
    docs = Path(__file__).resolve().parents[2] / "docs"
    path = tmp_path / "x"
    record = _record(bureau, tmp_path)
    for script, content, code in [
        ("verify_audit.py", b"\xff\n", 1),
        ("verify_audit.py", b"[" * 10_000 + b"\n", 1),
        ("verify_audit.py", b'{"seq": 1e400}\n', 1),
        ("verify_audit.py", b"", 1),
        ("verify_draw.py", b"\xff", 2),
        ("verify_draw.py", b"[" * 10_000, 2),
        (
            "verify_draw.py",
            json.dumps(record).replace('"group_size": 2', '"group_size": 1e400').encode(),
            1,
        ),
        ("verify_draw.py", json.dumps({**record, "strata": 5}).encode(), 1),
    ]:
        path.write_bytes(content)
        r = subprocess.run(
            [sys.executable, str(docs / script), str(path)], capture_output=True, text=True
        )
        assert r.returncode == code and "Traceback" not in r.stderr, (script, content[:30], r)
    path.write_bytes(b"")
    r = subprocess.run(
        [sys.executable, str(docs / "verify_audit.py"), str(_export(bureau, tmp_path))],
        capture_output=True,
        text=True,
    )
    assert r.returncode == 0 and "nothing pins" in r.stdout


HOSTILE_ARGS = [
    (["task", "show", HUGE_ID], "任务编号"),
    (["task", "show", "0"], "任务编号"),
    (["task", "fire", HUGE_ID, "inspect"], "任务编号"),
    (["task", "fire", "1", "inspect", "--expect-version", HUGE_ID], "64 位"),
    (["task", "fire", "1", "inspect", "--data", "[" * 10_000], "嵌套"),
    (["task", "fire", "1", "inspect", "--data", '{"a": 1e400}'], "超出范围"),
    (["draw", HUGE_ID], "任务编号"),
    (["draw", "record", HUGE_ID], "任务编号"),
    (["draw", "verify", HUGE_ID], "任务编号"),
    (["draw", "confirm", HUGE_ID], "任务编号"),
    (["result", "set", HUGE_ID, "X", "--result", "problem"], "任务编号"),
    (["result", "publish", HUGE_ID, "--place", "网站"], "任务编号"),
    (["followup", "add", HUGE_ID, "X", "--outcome", "rectified"], "任务编号"),
    (["sheet", HUGE_ID, "--out", "x"], "任务编号"),
    (["audit", "replay", "--task", HUGE_ID], "任务编号"),
    (["audit", "log", "--task", HUGE_ID], "任务编号"),
    (["audit", "log", "--limit", "0"], "--limit"),
    (["outbox", "retry", HUGE_ID], "邮件编号"),
    (["calendar", "add", "--from", "9999-12-31", "--working-days", "1"], "9999"),
    (["calendar", "add", "--from", "2026-01-05", "--working-days", HUGE_ID], "--working-days"),
    (["calendar", "add", "--from", "2026-01-05", "--working-days", "100000"], "--working-days"),
    (["calendar", "check", HUGE_ID], "YEAR"),
    (["overdue", "--now", "9999-12-31"], "--now"),
    (["sweep", "--now", "9999-12-31T23:59:59-14:00"], "--now"),
    (["audit", "replay", "--at", "0001-01-01T00:00:00+14:00"], "超出"),
    (
        [
            "result",
            "publish",
            "1",
            "--place",
            "网站",
            "--at",
            "9999-12-31T23:59:59-14:00",
        ],
        "超出",
    ),
    (["scheduler", "--exit-after", "inf"], "--exit-after"),
    (["scheduler", "--exit-after", "nan"], "--exit-after"),
    (
        [
            "task",
            "create",
            "--plan",
            "2026001",
            "--name",
            "x",
            "--condition",
            "地区",
        ],
        "缺少取值",
    ),
    (["task", "create", "--plan", "2026001", "--name", "专\u202e项"], "U+202E"),
    (["task", "create", "--plan", "2026001", "--name", "项" * 300], "过长"),
]


def test_hostile_arguments_are_messages_not_tracebacks(bureau, tmp_path):
    before = snapshot(bureau, tmp_path)
    for args, message in HOSTILE_ARGS:
        code, out = ssj(bureau, *args)
        assert code == 2 and "Traceback" not in out, (args, out)
        assert message in out and "错误" in out, (args, out)
    assert snapshot(bureau, tmp_path) == before


def test_every_integer_option_of_every_command_refuses_a_value_beyond_64_bits(tmp_path):
    """The check is in one place: walk the whole command tree, so a new command is covered."""
    import typer.main

    root = typer.main.get_command(app)

    def kind(p) -> str:  # click's type name, or (typer >= 0.20) the annotation's
        if getattr(p, "type", None) is not None:
            return p.type.name.upper()
        ann = p.type_descriptor.annotation
        types = typing.get_args(ann) or (ann,)
        for t, name in ((bool, "BOOL"), (int, "INTEGER"), (float, "FLOAT"), (Path, "PATH")):
            if t in types:
                return name
        return "TEXT"

    fillers = {"INTEGER": "1", "FLOAT": "1", "PATH": str(tmp_path / "x.csv"), "TEXT": "x"}
    checked = 0
    db = f"sqlite:///{tmp_path / 'none.db'}"
    assert runner.invoke(app, ["--db", db, "init", "--purpose", "test"]).exit_code == 0
    # One account per role that needs no directory entry: each command runs as an account
    # whose role may take its action, so the value is checked, not the account refused.
    staff = {role: f"{role}-1" for role in ("admin", "clerk", "supervisor", "auditor")}
    for role, username in staff.items():
        add_account(db, username, role)

    def account_for(path: list[str]) -> list[str]:
        action = access.action_of(" ".join(path), {})
        if action is None:
            return []
        roles = [r for r in staff if permissions.allowed(r, action)]
        assert roles, (path, action)
        return ["--as", staff[roles[0]]]

    def walk(cmd, path: list[str]) -> None:
        nonlocal checked
        for name, sub in getattr(cmd, "commands", {}).items():
            walk(sub, [*path, name])
        if hasattr(cmd, "commands") or cmd.name in ("scheduler", "serve"):
            return
        # Integer options, and the task arguments users write as ids or 2026001-001号.
        ints = [p for p in cmd.params if kind(p) == "INTEGER" or p.name in ("task", "task_ref")]
        for target_param in ints:
            args = list(path)
            for p in cmd.params:
                if getattr(p, "is_flag", False) or (not p.required and p is not target_param):
                    continue
                value = (
                    HUGE_ID
                    if p is target_param
                    else "2024-05-06"
                    if p.name in ("day", "date")
                    else fillers.get(kind(p), "x")
                )
                args += [p.opts[0], value] if p.opts[0].startswith("-") else [value]
            r = runner.invoke(app, ["--db", db, *account_for(path), *args])
            assert r.exit_code == 2 and "Traceback" not in r.output and HUGE_ID in r.output, (
                args,
                r.output,
            )
            assert r.exception is None or isinstance(r.exception, SystemExit), (args, r.exception)
            checked += 1

    walk(root, [])
    assert checked >= 15


# --- resource bombs -----------------------------------------------------------------------------


class _Bits:
    """A raw-deflate bit writer (RFC 1951, fixed Huffman codes), to build bombs by hand."""

    def __init__(self) -> None:
        self.out, self.acc, self.n = bytearray(), 0, 0

    def put(self, value: int, nbits: int) -> None:  # values go LSB first
        self.acc |= value << self.n
        self.n += nbits
        while self.n >= 8:
            self.out.append(self.acc & 0xFF)
            self.acc >>= 8
            self.n -= 8

    def code(self, code: int, nbits: int) -> None:  # Huffman codes go MSB first
        self.put(int(f"{code:0{nbits}b}"[::-1], 2), nbits)

    def literal(self, byte: int) -> None:
        self.code(0x30 + byte, 8)  # literals 0-143

    def repeat_258(self) -> None:  # length 258 (code 285), distance 1 (code 0): 13 bits
        self.code(0b11000101, 8)
        self.code(0, 5)


def deflate_bomb(prefix: bytes, fill: int, at_least: int, suffix: bytes) -> tuple[bytes, int, int]:
    """Raw deflate of ``prefix + fill * n + suffix`` (n >= at_least) in about n/160 bytes,
    with its unpacked size and CRC-32: each 13 bytes of output repeat 8 × 258 bytes."""
    head = _Bits()
    head.put(1, 1)  # the final block
    head.put(1, 2)  # fixed Huffman codes
    for c in prefix:
        head.literal(c)
    head.literal(fill)
    matches = 0
    while head.n:  # to a byte boundary, so the rest is one 13-byte period repeated
        head.repeat_258()
        matches += 1
    period = _Bits()
    for _ in range(8):
        period.repeat_258()
    reps = max(0, (at_least - 1 - 258 * matches) // (258 * 8) + 1)
    matches += 8 * reps
    tail = _Bits()
    for c in suffix:
        tail.literal(c)
    tail.code(0, 7)  # end of block
    tail.put(0, (8 - tail.n) % 8)
    run = 1 + 258 * matches
    crc, chunk, left = zlib.crc32(prefix), bytes([fill]) * (1 << 24), run
    while left:
        crc = zlib.crc32(chunk[: min(left, len(chunk))], crc)
        left -= min(left, len(chunk))
    data = bytes(head.out) + bytes(period.out) * reps + bytes(tail.out)
    return data, len(prefix) + run + len(suffix), zlib.crc32(suffix, crc)


def deflate(data: bytes) -> tuple[bytes, int, int]:
    c = zlib.compressobj(1, zlib.DEFLATED, -15)
    return c.compress(data) + c.flush(), len(data), zlib.crc32(data)


def write_zip(path: Path, members: dict[str, tuple[bytes, int, int]]) -> Path:
    """A zip of already-deflated members (name: (raw deflate, unpacked size, CRC-32))."""
    out, central = io.BytesIO(), []
    for name, (data, size, crc) in members.items():
        nm, offset = name.encode(), out.tell()
        out.write(
            struct.pack(
                "<IHHHHHIIIHH", 0x04034B50, 20, 0, 8, 0, 0, crc, len(data), size, len(nm), 0
            )
        )
        out.write(nm + data)
        central.append(
            struct.pack(
                "<IHHHHHHIIIHHHHHII",
                0x02014B50,
                20,
                20,
                0,
                8,
                0,
                0,
                crc,
                len(data),
                size,
                len(nm),
                0,
                0,
                0,
                0,
                0,
                offset,
            )
            + nm
        )
    cd, blob = out.tell(), b"".join(central)
    out.write(
        blob
        + struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, len(central), len(central), len(blob), cd, 0)
    )
    path.write_bytes(out.getvalue())
    return path


def xlsx_with(path: Path, replace: dict[str, tuple[bytes, int, int]]) -> Path:
    """A real workbook (a targets header) with some members replaced by hand-built ones."""
    template = write_xlsx(path.with_suffix(".base.xlsx"), [T_HEAD])
    with zipfile.ZipFile(template) as z:
        members = {i.filename: deflate(z.read(i)) for i in z.infolist()}
    return write_zip(path, {**members, **replace})


SHEET_HEAD = (
    b'<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>'
)
SHEET_TAIL = b"</sheetData></worksheet>"


def shared_strings_bomb(path: Path) -> Path:
    """About 2 GB of shared strings in a file of about 12 MB (seen in the field: 4.8 MB)."""
    sst = deflate_bomb(
        b'<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><si><t>',
        ord("A"),
        2 * 10**9,
        b"</t></si></sst>",
    )
    return xlsx_with(path, {"xl/sharedStrings.xml": sst})


def rows_bomb(path: Path, rows: int = 3_000_000) -> Path:
    """Three million rows in a few hundred KB."""
    sheet = SHEET_HEAD + b"<row><c><v>1</v></c></row>" * rows + SHEET_TAIL
    return xlsx_with(path, {"xl/worksheets/sheet1.xml": deflate(sheet)})


def peak_import(db: str, path: Path, env: dict[str, str] | None = None) -> tuple[int, str, int]:
    """Run ``ssj import targets PATH`` in a child process; (exit code, output, peak RSS in MB)."""
    probe = (
        "import resource, subprocess, sys\n"
        "r = subprocess.run(sys.argv[1:], capture_output=True, text=True)\n"
        "print(r.returncode, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss // 1024)\n"
        "print(r.stdout + r.stderr)\n"
    )
    cmd = [
        sys.executable,
        "-c",
        probe,
        sys.executable,
        "-m",
        "workflow.cli.main",
        "--db",
        db,
        "--as",
        CLERK,
        "import",
        "targets",
        str(path),
    ]
    import os

    r = subprocess.run(
        cmd, capture_output=True, text=True, env={**os.environ, **(env or {})}, check=True
    )
    first, _, output = r.stdout.partition("\n")
    code, peak = (int(x) for x in first.split())
    return code, output, peak


def test_a_shared_strings_bomb_is_refused_before_it_is_read(sqlite_bureau, tmp_path):
    bureau = sqlite_bureau
    path = shared_strings_bomb(tmp_path / "bomb.xlsx")
    assert path.stat().st_size < 20 * 1024 * 1024
    before = snapshot(bureau, tmp_path)
    code, out, peak = peak_import(bureau, path)
    assert code == 2 and "Traceback" not in out and "xl/sharedStrings.xml" in out and "倍" in out
    assert peak < 300, peak
    # With the ratio bound lifted, the bound on the unpacked size still refuses it.
    env = {"SSJ_IMPORTS_MAX_COMPRESSION_RATIO": "100000"}  # refused on the zip's own figures
    code, out = ssj(bureau, "import", "targets", str(path), env=env)
    assert code == 2 and "解压后共 1,907 MB，超过上限 500 MB" in out
    assert snapshot(bureau, tmp_path) == before


def test_three_million_rows_are_refused_before_they_are_read(sqlite_bureau, tmp_path):
    bureau = sqlite_bureau
    path = rows_bomb(tmp_path / "rows.xlsx")
    assert path.stat().st_size < 1024 * 1024
    before = snapshot(bureau, tmp_path)
    code, out, peak = peak_import(bureau, path)
    assert code == 2 and "Traceback" not in out and peak < 300, (out, peak)
    # Packed loosely enough to pass the ratio bound, the row count still refuses it.
    code, out, peak = peak_import(bureau, path, {"SSJ_IMPORTS_MAX_COMPRESSION_RATIO": "100000"})
    assert code == 2 and "有 3,000,000 行，超过上限 2,000,000 行" in out and peak < 300, (out, peak)
    assert snapshot(bureau, tmp_path) == before


def test_file_size_and_row_bounds_come_from_the_settings(bureau, tmp_path):
    rows = [T_HEAD[:6], *(target(i) for i in range(100, 160))]
    path = write_csv(tmp_path / "t.csv", rows)
    out = refused(
        bureau, tmp_path, "import", "targets", str(path), env={"SSJ_IMPORTS_MAX_ROWS": "50"}
    )
    assert "超过 50 行" in out
    xlsx = write_xlsx(tmp_path / "t.xlsx", rows)
    out = refused(
        bureau, tmp_path, "import", "targets", str(xlsx), env={"SSJ_IMPORTS_MAX_ROWS": "50"}
    )
    assert "有 61 行，超过上限 50 行" in out
    big = tmp_path / "big.csv"
    big.write_bytes(path.read_bytes() + b"\n" * (1024 * 1024))
    out = refused(
        bureau, tmp_path, "import", "targets", str(big), env={"SSJ_IMPORTS_MAX_FILE_MB": "1"}
    )
    assert "超过上限 1 MB" in out
    ok(bureau, "import", "targets", str(path))  # within the defaults: every row imported
    assert len(imported(bureau, tmp_path, "targets")) == 3 + 60


def test_a_config_file_nested_too_deep_is_a_message(tmp_path):
    cfg = tmp_path / "deep.yaml"
    cfg.write_text("log: " + "[" * 5000 + "]" * 5000 + "\n", encoding="utf-8")
    r = runner.invoke(app, ["--config", str(cfg), "task", "list"])
    assert r.exit_code == 2 and "嵌套过深" in r.output
    assert r.exception is None or isinstance(r.exception, SystemExit)
