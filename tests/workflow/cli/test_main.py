"""The command line contract that auditors' scripts call (DESIGN §6, issue #2)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from workflow.cli.main import app

runner = CliRunner()


def ssj(db_url: str, *args: str, code: int = 0) -> str:
    r = runner.invoke(app, ["--db", db_url, *args], catch_exceptions=False)
    assert r.exit_code == code, (args, r.output)
    return r.stdout if code == 0 else r.output  # stdout alone is what scripts parse


@pytest.fixture
def demo_db(db_url: str) -> str:
    ssj(db_url, "init")
    ssj(db_url, "demo", "--now", "2026-03-10T10:00")
    return db_url


def test_commands_before_init_say_to_run_init(db_url):
    out = ssj(db_url, "task", "list", code=2)
    assert "ssj init" in out


def test_init_twice_is_harmless(db_url):
    assert "升级" in ssj(db_url, "init")
    assert "最新" in ssj(db_url, "init")


def test_demo_has_tasks_in_every_state_with_seed_004_numbering(demo_db):
    tasks = json.loads(ssj(demo_db, "task", "list", "--json"))
    assert {t["state"] for t in tasks} == {
        "planned",
        "drawn",
        "inspected",
        "publicized",
        "rectified",
        "closed",
    }
    first = json.loads(ssj(demo_db, "task", "show", str(tasks[0]["id"]), "--json"))
    assert (first["plan_no"], first["task_no"], first["ratio"]) == ("2026001", "001号", "0.1")
    assert first["plan_name"] == "2026年迁西县人力资源和社会保障局内部联合随机抽查001"
    assert {"id", "state", "version"} <= set(first)
    assert "跳过" in ssj(demo_db, "demo", "--if-empty")


def test_create_move_and_audit_a_task_through_the_cli(db_url, tmp_path):
    ssj(db_url, "init")
    ssj(
        db_url,
        "plan",
        "create",
        "--no",
        "2024001",
        "--unit",
        "迁西县人力资源和社会保障局",
        "--actor",
        "张三",
    )
    created = json.loads(
        ssj(
            db_url,
            "task",
            "create",
            "--plan",
            "2024001",
            "--name",
            "专项抽查",
            "--actor",
            "张三",
            "--type",
            "directed",
            "--ratio",
            "10%",
            "--joining",
            "社会保险科",
            "--months",
            "2024-04",
            "--json",
        )
    )
    tid = str(created["id"])
    assert created["state"] == "planned" and created["joining_offices"] == ["社会保险科"]
    targets = tmp_path / "targets.csv"
    targets.write_text(
        "统一社会信用代码,名称,类型,信用风险等级\n91350100M000100Y43,某公司,用人单位,C\n",
        encoding="utf-8",
    )
    inspectors = tmp_path / "inspectors.csv"
    inspectors.write_text("执法证号,姓名,执法领域\nJ1,甲,监察\nJ2,乙,监察\n", encoding="utf-8")
    ssj(db_url, "import", "targets", str(targets))
    ssj(db_url, "import", "inspectors", str(inspectors))
    refused = ssj(db_url, "task", "fire", tid, "draw", "--actor", "张三", code=2)
    assert f"ssj draw {tid}" in refused
    assert "ssj plan publish" in ssj(db_url, "draw", tid, "--actor", "张三", code=2)
    assert "承诺值" in ssj(db_url, "plan", "publish", "2024001", "--actor", "张三")
    out = ssj(db_url, "draw", tid, "--actor", "张三", "--public-input", "517", "--json")
    assert [t["code"] for t in json.loads(out)["targets"]] == ["91350100M000100Y43"]
    assert "验证通过" in ssj(db_url, "draw", "verify", tid)
    out = ssj(db_url, "task", "show", tid, "--json")
    assert json.loads(out)["state"] == "drawn"
    refused = ssj(db_url, "task", "fire", tid, "close", "--actor", "张三", code=2)
    assert f"任务 {tid}" in refused and "drawn" in refused and "inspect" in refused
    ssj(db_url, "result", "set", tid, "91350100M000100Y43", "--result", "problem", "--actor", "甲")
    ssj(
        db_url,
        "result",
        "set",
        tid,
        "91350100M000100Y43",
        "--result",
        "refused",
        "--actor",
        "甲",
        "--reason",
        "更正：企业拒绝提供材料",
    )
    ssj(db_url, "task", "fire", tid, "inspect", "--actor", "李四")
    ssj(db_url, "result", "publish", tid, "--place", "河北人社网", "--actor", "张三")
    ssj(db_url, "task", "fire", tid, "publicize", "--actor", "张三")
    ssj(
        db_url,
        "followup",
        "add",
        tid,
        "91350100M000100Y43",
        "--outcome",
        "case_filed",
        "--actor",
        "李四",
        "--note",
        "已立案",
        "--date",
        "2024-05-06",
    )
    ssj(db_url, "task", "fire", tid, "rectify", "--actor", "张三")
    shown = json.loads(ssj(db_url, "task", "show", tid, "--json"))
    assert shown["state"] == "rectified"
    assert shown["records"][0]["followups"][0] == {
        "outcome": "case_filed",
        "date": "2024-05-06",
        "note": "已立案",
        "actor": "李四",
    }
    stale = str(shown["version"] - 1)
    conflict = ssj(
        db_url, "task", "fire", tid, "close", "--actor", "x", "--expect-version", stale, code=3
    )
    assert "期望版本" in conflict

    verified = json.loads(ssj(db_url, "audit", "verify", "--json"))
    # plan, task, 3 directory rows, commitment, publication, draw, 2 results, inspect,
    # publish, publicize, follow-up, rectify
    assert verified["ok"] and verified["first_bad_seq"] is None and verified["events"] == 15
    replayed = json.loads(ssj(db_url, "audit", "replay", "--json"))
    assert (
        replayed["ok"] and replayed["tasks"] == {tid: "rectified"} and replayed["mismatches"] == []
    )
    log = json.loads(ssj(db_url, "audit", "log", "--task", tid, "--json"))
    correction = [e for e in log if e["kind"] == "result_set"][1]
    assert correction["payload"]["before"]["result"] == "problem"
    assert correction["payload"]["after"]["result"] == "refused"


def test_export_checkpoint_and_file_verification(demo_db, tmp_path):
    cp = tmp_path / "cp.json"
    ssj(demo_db, "audit", "checkpoint", "--out", str(cp), "--signed-by", "审计员")
    checkpoint = json.loads(cp.read_text(encoding="utf-8"))
    assert checkpoint["signed_by"] == "审计员" and checkpoint["seq"] > 0
    ssj(demo_db, "walkthrough")  # the log grows
    ssj(demo_db, "audit", "verify", "--against", str(cp))
    export = tmp_path / "log.jsonl"
    ssj(demo_db, "audit", "export", str(export))
    lines = export.read_text(encoding="utf-8").splitlines()
    original = list(lines)
    assert len(lines) == checkpoint["seq"] + 1
    assert json.loads(ssj(demo_db, "audit", "verify", "--file", str(export), "--json"))["ok"]
    assert json.loads(
        ssj(demo_db, "audit", "verify", "--file", str(export), "--against", str(cp), "--json")
    )["ok"]

    rec = json.loads(lines[9])
    rec["actor"] = "篡改者"
    lines[9] = json.dumps(rec, ensure_ascii=False)
    export.write_text("\n".join(lines) + "\n", encoding="utf-8")
    bad = json.loads(ssj(demo_db, "audit", "verify", "--file", str(export), "--json", code=1))
    assert bad == {**bad, "ok": False, "first_bad_seq": 10}

    export.write_text("\n".join(original[: checkpoint["seq"] - 5]) + "\n", encoding="utf-8")
    cut = json.loads(
        ssj(
            demo_db,
            "audit",
            "verify",
            "--file",
            str(export),
            "--against",
            str(cp),
            "--json",
            code=1,
        )
    )
    assert cut["first_bad_seq"] == checkpoint["seq"] - 4


def test_replay_of_one_task_as_of_a_time(demo_db):
    tasks = json.loads(ssj(demo_db, "task", "list", "--state", "closed", "--json"))
    tid = str(tasks[0]["id"])
    now = json.loads(ssj(demo_db, "audit", "replay", "--task", tid, "--json"))
    assert now["tasks"] == {tid: "closed"}
    then = json.loads(
        ssj(
            demo_db, "audit", "replay", "--task", tid, "--at", "2000-01-01T00:00:00+08:00", "--json"
        )
    )
    assert then["tasks"] == {} and then["ok"]
    assert "时间格式无效" in ssj(demo_db, "audit", "replay", "--at", "yesterday", code=2)
    assert "任务 999 不存在" in ssj(demo_db, "audit", "replay", "--task", "999", code=2)


def test_bad_input_is_named(demo_db):
    assert "--data 不是有效的 JSON" in ssj(
        demo_db, "task", "fire", "1", "draw", "--actor", "x", "--data", "{oops", code=2
    )
    assert "未知状态" in ssj(demo_db, "task", "list", "--state", "done", code=2)
    assert "任务 999 不存在" in ssj(demo_db, "task", "show", "999", code=2)
    assert "任务 1 的检查对象中没有 'X'" in ssj(
        demo_db, "result", "set", "1", "X", "--result", "ok", "--actor", "x", code=2
    )
    code = json.loads(ssj(demo_db, "task", "show", "1", "--json"))["records"][0]["target_code"]
    assert "检查结果 'ok' 无效" in ssj(
        demo_db, "result", "set", "1", code, "--result", "ok", "--actor", "x", code=2
    )


def test_a_bad_config_file_is_refused_at_start(db_url, tmp_path):
    cfg = tmp_path / "bad.yaml"
    cfg.write_text("log:\n  level: LOUD\n", encoding="utf-8")
    r = runner.invoke(app, ["--config", str(cfg), "--db", db_url, "init"])
    assert r.exit_code == 2 and "log.level" in r.output


def test_the_console_script_reads_ssj_db_url(db_url, tmp_path):
    """The installed ``ssj`` entry point, as an auditor's script would call it."""
    exe = Path(sys.executable).with_name("ssj")
    env = {**os.environ, "SSJ_DB_URL": db_url, "SSJ_LOG_FORMAT": "json"}
    subprocess.run([str(exe), "init"], env=env, check=True, capture_output=True)
    r = subprocess.run(
        [str(exe), "audit", "verify", "--json"], env=env, capture_output=True, text=True
    )
    assert r.returncode == 0 and json.loads(r.stdout) == {
        "ok": True,
        "events": 0,
        "first_bad_seq": None,
        "reason": None,
        "head_seq": 0,
        "head_hash": "0" * 64,
        "head_time": None,
    }


def test_the_standalone_stdlib_checker_agrees(demo_db, tmp_path):
    """docs/verify_audit.py: what an auditor runs without installing the project."""
    checker = Path(__file__).resolve().parents[3] / "docs" / "verify_audit.py"
    export, cp = tmp_path / "log.jsonl", tmp_path / "cp.json"
    ssj(demo_db, "audit", "export", str(export))
    ssj(demo_db, "audit", "checkpoint", "--out", str(cp))

    def check(*args: Path) -> tuple[int, dict]:
        r = subprocess.run(
            [sys.executable, "-I", str(checker), *map(str, args)], capture_output=True, text=True
        )
        return r.returncode, json.loads(r.stdout)

    assert check(export, cp) == (
        0,
        {
            "ok": True,
            "events": json.loads(cp.read_text())["seq"],
            "head_hash": json.loads(cp.read_text())["hash"],
        },
    )
    lines = export.read_text(encoding="utf-8").splitlines()
    rec = json.loads(lines[4])
    rec["payload"]["name"] = "改过的名字"
    lines[4] = json.dumps(rec, ensure_ascii=False)
    export.write_text("\n".join(lines) + "\n", encoding="utf-8")
    code, out = check(export)
    assert (code, out["first_bad_seq"]) == (1, 5)


def test_directory_import_export_and_template_through_the_cli(db_url, tmp_path):
    from workflow.sampling.credit_code import make

    ssj(db_url, "init")
    tpl = tmp_path / "targets.xlsx"
    assert "模板已写入" in ssj(db_url, "template", "targets", str(tpl))
    good = tmp_path / "t.csv"
    head = "统一社会信用代码,名称,类型,信用风险等级\n"
    good.write_text(head + f"{make('130227', 1)},甲公司,用人单位,A\n", encoding="utf-8")
    assert "新增 1" in ssj(db_url, "import", "targets", str(good), "--dry-run")
    assert "新增 1" in ssj(db_url, "import", "targets", str(good), "--actor", "录入员")
    assert "未变 1" in ssj(db_url, "import", "targets", str(good))
    bad = tmp_path / "bad.csv"
    bad.write_text(head + "91130227XXXXXXXXXX,乙公司,用人单位,E\n", encoding="utf-8")
    out = ssj(db_url, "import", "targets", str(bad), code=2)
    assert (
        f"{bad}:2:统一社会信用代码:" in out
        and f"{bad}:2:信用风险等级: 应为" in out
        and "未写入" in out
    )
    exported = tmp_path / "out.xlsx"
    assert "已导出 1 条" in ssj(db_url, "export", "targets", str(exported))
    log = json.loads(ssj(db_url, "audit", "log", "--json"))
    assert [e["kind"] for e in log] == ["target_upserted"] and log[0]["actor"] == "录入员"


def test_plan_import_lists_every_problem_of_the_file_in_one_run(db_url, tmp_path):
    from tests.workflow.sampling.test_plans import trial_table

    ssj(db_url, "init")
    items = tmp_path / "items.csv"
    items.write_text(
        "事项编码,事项名称,检查方式,事项类别\nQX-LD-007,工资支付,现场,重点\n", encoding="utf-8"
    )
    ssj(db_url, "import", "items", str(items))
    before = [ssj(db_url, *c, "--json") for c in (("audit", "log"), ("plan", "list"))]
    path, expected = trial_table(tmp_path / "年度计划.xlsx")
    for dry_run in ((), ("--dry-run",)):
        out = ssj(db_url, "plan", "import", str(path), *dry_run, code=2)
        assert "共 9 个问题，未写入任何数据" in out
        lines = [line for line in out.splitlines() if line.startswith(f"{path}:")]
        assert len(lines) == 9
        for line, (row, column, message) in zip(lines, expected, strict=True):
            assert line.startswith(f"{path}:{row}:{column}: ") and message in line, line
    assert [ssj(db_url, *c, "--json") for c in (("audit", "log"), ("plan", "list"))] == before
    assert json.loads(ssj(db_url, "task", "list", "--json")) == []


def test_plan_table_publication_draw_verification_and_sheets_through_the_cli(db_url, tmp_path):
    from workflow.sampling import plans
    from workflow.sampling.credit_code import make

    ssj(db_url, "init")
    targets = tmp_path / "targets.csv"
    rows = "\n".join(
        f"{make('130227', i)},企业{i},用人单位,迁西县,{'ABCD'[i % 4]}" for i in range(12)
    )
    targets.write_text(
        "统一社会信用代码,名称,类型,地区,信用风险等级\n" + rows + "\n", encoding="utf-8"
    )
    inspectors = tmp_path / "inspectors.csv"
    inspectors.write_text(
        "执法证号,姓名,执法领域\n" + "\n".join(f"J{i},人员{i},监察" for i in range(5)) + "\n",
        encoding="utf-8",
    )
    ssj(db_url, "import", "targets", str(targets))
    ssj(db_url, "import", "inspectors", str(inspectors))
    table = tmp_path / "plan.csv"
    header = ",".join(c.header for c in plans.PLAN_TABLE.cols[:13])
    table.write_text(
        header + "\n1,迁西县人力资源和社会保障局,2024001,,001号,专项抽查,定向,10%,,用人单位,"
        "劳动保障监察大队,社会保险科,2024年4月\n",
        encoding="utf-8",
    )
    assert "新建计划 2024001；新建任务 1 个" in ssj(db_url, "plan", "import", str(table))
    bad = tmp_path / "bad.csv"
    bad.write_text(header + "\n1,某局,2024001,,001号,任务,随便,1%,,,,,\n", encoding="utf-8")
    out = ssj(db_url, "plan", "import", str(bad), code=2)
    assert f"{bad}:2:抽查类型: 应为 定向 或 不定向" in out and "未写入" in out
    published = json.loads(ssj(db_url, "plan", "publish", "2024001", "--actor", "张三", "--json"))
    (task,) = published
    tid = str(task["task_id"])
    assert task["commitment"] in ssj(db_url, "plan", "show", "2024001")
    out = ssj(db_url, "draw", tid, "--actor", "张三", "--public-input", "3D 517")
    assert "planned → drawn" in out and "密钥已公开" in out
    assert "未提供 --public-input" not in out
    record = json.loads(ssj(db_url, "draw", "record", tid, "--json"))
    assert record["commitment"] == task["commitment"] and record["public_input"] == "3D 517"
    assert [s["name"] for s in record["strata"]] == ["A", "B", "C", "D"]
    assert "验证通过" in ssj(db_url, "draw", "verify", tid)
    path = tmp_path / "record.json"
    path.write_text(json.dumps(record, ensure_ascii=False), encoding="utf-8")
    assert "验证通过" in ssj(db_url, "draw", "verify", "--file", str(path))
    # A swapped selected code and a changed secret are both caught, with exit code 1.
    swapped = json.loads(json.dumps(record))
    drawn = swapped["strata"][0]["drawn"][0]
    other = next(c for c in swapped["strata"][0]["population"] if c != drawn)
    swapped["strata"][0]["drawn"][0] = other
    path.write_text(json.dumps(swapped, ensure_ascii=False), encoding="utf-8")
    assert "抽中的对象与重算结果不符" in ssj(db_url, "draw", "verify", "--file", str(path), code=1)
    changed = {**record, "secret": "00" * 32}
    path.write_text(json.dumps(changed), encoding="utf-8")
    assert "承诺值" in ssj(db_url, "draw", "verify", "--file", str(path), code=1)
    assert "二者选一" in ssj(db_url, "draw", "verify", code=2)
    out = ssj(db_url, "sheet", tid, "--out", str(tmp_path / "s"), "--actor", "张三", code=2)
    assert f"ssj draw confirm {tid}" in out
    assert "已确认" in ssj(db_url, "draw", "confirm", tid, "--actor", "张三", "--reason", "补录")
    first = record["targets"][0]
    out = ssj(
        db_url,
        "draw",
        "substitute",
        tid,
        "--target",
        first["code"],
        "--inspector",
        first["group"][0],
        "--reason",
        "回避",
        "--actor",
        "张三",
    )
    assert f"（{first['group'][0]}） → " in out  # 姓名（证号）
    out = ssj(db_url, "sheet", tid, "--out", str(tmp_path / "s"), "--actor", "张三")
    assert f"已生成 {len(record['targets'])} 张检查表" in out
    assert len(list((tmp_path / "s").glob("*.xlsx"))) == len(record["targets"])
    assert "模板已写入" in ssj(db_url, "template", "plans", str(tmp_path / "plan.xlsx"))


def test_the_walkthrough_can_run_again_and_again(demo_db):
    # make run twice, three times: once nothing can move, it says so rather than failing
    outs = [ssj(demo_db, "walkthrough") for _ in range(3)]
    assert all("完整" in o and "与数据表一致" in o for o in outs)
    assert "当前没有满足条件的转换" in outs[-1]


def test_a_year_typed_the_way_clerks_type_it(db_url, tmp_path):
    """Issue #9 §3 through the command line: one normaliser for files and options alike."""
    from openpyxl import load_workbook

    from workflow.sampling.credit_code import make

    ssj(db_url, "init")
    items = tmp_path / "items.csv"
    items.write_text(
        "事项编码,事项名称,法律依据,检查方式,事项类别\n"
        "ｑｘ-ld-007,工资支付,《保障农民工工资支付条例》,现场检查、书面检查,重点事项\n"
        "qx-ld-008,劳动合同,《劳动合同法》,书面检查,一般事项\n",
        encoding="utf-8",
    )
    ssj(db_url, "import", "items", str(items))
    codes = [make("130227", i) for i in range(4)]
    targets = tmp_path / "targets.csv"
    names = ['=HYPERLINK("http://example.invalid","点此")', "乙/公司", "丙公司", "丁公司"]
    targets.write_text(
        "统一社会信用代码,名称,类型,信用风险等级,规模,住所,法定代表人,联系电话\n"
        + "\n".join(
            f'{c.lower()},"{n.replace(chr(34), chr(34) * 2)}",社保经办机构,c级,小型企业,'
            f"迁西县某路{i}号,法人{i},0315-561234{i}"
            for i, (c, n) in enumerate(zip(codes, names, strict=True))
        )
        + "\n",
        encoding="utf-8",
    )
    ssj(db_url, "import", "targets", str(targets))
    inspectors = tmp_path / "inspectors.csv"
    inspectors.write_text(
        "执法证号,姓名,执法领域\n"
        + "\n".join(f"j{i},人员{i},劳动保障监察 社会保险" for i in range(4))
        + "\n",
        encoding="utf-8",
    )
    ssj(
        db_url,
        "plan",
        "create",
        "--no",
        "２０２４００１",
        "--unit",
        "迁西县人社局",
        "--actor",
        "张三",
    )
    created = json.loads(
        ssj(
            db_url,
            "task",
            "create",
            "--plan",
            "2024001",
            "--name",
            "专项",
            "--type",
            "定向",
            "--ratio",
            "１００％",
            "--item",
            "ｑｘ-ld-007",
            "--condition",
            "信用风险等级=c级；类型=社保经办机构",
            "--field",
            "劳动保障监察",
            "--actor",
            "张三",
            "--json",
        )
    )
    assert (created["task_type"], created["ratio"], created["item_codes"]) == (
        "directed",
        "1",
        ["QX-LD-007"],
    )
    assert created["filters"] == {"grade": ["C"], "type": ["社会保险经办机构"]}
    # a task field no inspector has is a warning too (no inspector is imported yet)
    r = runner.invoke(
        app,
        [
            "--db",
            db_url,
            "task",
            "create",
            "--plan",
            "2024001",
            "--name",
            "另一项",
            "--field",
            "劳动监察",
            "--actor",
            "张三",
        ],
    )
    assert r.exit_code == 0 and "警告：执法领域“劳动监察”没有任何执法人员具备" in r.stderr
    # an inspector field no task uses is a warning on stderr, and the import goes on
    r = runner.invoke(app, ["--db", db_url, "import", "inspectors", str(inspectors)])
    assert r.exit_code == 0 and "新增 4" in r.stdout
    assert "警告：执法领域“社会保险”" in r.stderr
    # retire: the item cannot be named in a new task; the target is not drawn
    out = ssj(db_url, "retire", "items", "qx-ld-008", "--reason", "清单调整", "--actor", "张三")
    assert "已停用 1 项：QX-LD-008" in out
    out = ssj(
        db_url,
        "task",
        "create",
        "--plan",
        "2024001",
        "--name",
        "x",
        "--item",
        "QX-LD-008",
        "--actor",
        "张三",
        code=2,
    )
    assert "QX-LD-008 已停用" in out
    ssj(db_url, "retire", "targets", codes[3], "--reason", "注销", "--actor", "张三")
    assert "本来就已停用" in ssj(
        db_url, "retire", "targets", codes[3], "--reason", "注销", "--actor", "张三"
    )
    tid = str(created["id"])
    ssj(db_url, "plan", "publish", "2024001", "--actor", "张三")
    record = json.loads(ssj(db_url, "draw", tid, "--actor", "张三", "--json"))
    assert sorted(t["code"] for t in record["targets"]) == sorted(codes[:3])
    ssj(db_url, "draw", "confirm", tid, "--actor", "张三", "--reason", "补录")
    ssj(db_url, "sheet", tid, "--out", str(tmp_path / "s"), "--actor", "张三")
    files = sorted(p.name for p in (tmp_path / "s").glob("*.xlsx"))
    assert len(files) == 3 and all(f.startswith("2024001-001号-") for f in files)
    assert any(f.endswith("-乙_公司.xlsx") for f in files)  # no path separator from the name
    assert any("HYPERLINK" in f for f in files) and not any("/" in f or '"' in f for f in files)
    sheet = next(p for p in (tmp_path / "s").glob("*HYPERLINK*"))
    ws = load_workbook(sheet).worksheets[0]
    cells = {c.value: c for row in ws.iter_rows() for c in row if c.value is not None}
    assert cells[names[0]].data_type == "s"  # the name is text, not a live formula
    assert "迁西县某路0号" in cells and "法人0" in cells and "0315-5612340" in cells
    assert ws.page_setup.paperSize == 9 and ws.page_setup.fitToWidth == 1  # 9: A4
    assert ws.sheet_properties.pageSetUpPr.fitToPage and ws.print_title_rows == "$1:$1"
    # results and follow-ups by their Chinese labels, codes as clerks type them
    labels = ["未发现问题", "发现问题", "未发现开展相关经营活动"]
    for t, label in zip(sorted(codes[:3]), labels, strict=True):
        # 演示数据 is the clerk config.yaml lists (a clerk may record any target's result)
        out = ssj(db_url, "result", "set", tid, t.lower(), "--result", label, "--actor", "演示数据")
        assert f"（{t}）：已录入结果" in out
    shown = {
        r["target_code"]: r["result"]
        for r in json.loads(ssj(db_url, "task", "show", tid, "--json"))["records"]
    }
    assert sorted(shown.values()) == ["no_problem", "not_operating", "problem"]
    problem = next(c for c, v in shown.items() if v == "problem")
    ssj(db_url, "task", "fire", tid, "inspect", "--actor", "张三")
    out = ssj(
        db_url,
        "followup",
        "add",
        tid,
        problem,
        "--outcome",
        "移送有关部门",
        "--date",
        "2024年4月2日",
        "--actor",
        "李四",
    )
    assert "已登记后续处置 移送有关部门" in out
    out = ssj(
        db_url, "followup", "add", tid, problem, "--outcome", "罚款", "--actor", "李四", code=2
    )
    assert "后续处置 '罚款' 无效（--outcome）：应为 rectified（已整改）" in out
    out = ssj(
        db_url,
        "followup",
        "add",
        tid,
        problem,
        "--outcome",
        "立案查处",
        "--date",
        "2024-04-021",
        "--actor",
        "李四",
        code=2,
    )
    assert "--date 的日期 '2024-04-021' 无效" in out
    # the export of the hostile name is text, not a formula
    exported = tmp_path / "out.xlsx"
    ssj(db_url, "export", "targets", str(exported))
    import zipfile

    with zipfile.ZipFile(exported) as z:
        assert "<f>" not in z.read("xl/worksheets/sheet1.xml").decode()


def test_task_create_scope_becomes_the_type_filter_the_draw_selects_by(db_url):
    """Issue #9: ``task create --scope`` was stored as text and ignored by the draw."""
    ssj(db_url, "init")
    ssj(
        db_url,
        "plan",
        "create",
        "--no",
        "2024001",
        "--unit",
        "迁西县人力资源和社会保障局",
        "--actor",
        "张三",
    )
    base = ("task", "create", "--plan", "2024001", "--name", "任务", "--actor", "张三")
    created = json.loads(ssj(db_url, *base, "--scope", "用人单位、社保经办机构", "--json"))
    assert created["filters"] == {"type": ["用人单位", "社会保险经办机构"]}
    out = ssj(db_url, *base, "--scope", "火星企业", code=2)
    assert "抽查对象范围 '火星企业' 无效" in out and "Traceback" not in out


def test_a_draw_without_public_input_says_what_that_means(demo_db):
    tasks = json.loads(ssj(demo_db, "task", "list", "--json"))
    planned = [t for t in tasks if t["state"] == "planned"]
    assert planned, "the demo keeps one task planned"
    tid = str(planned[0]["id"])
    r = runner.invoke(app, ["--db", demo_db, "draw", tid, "--actor", "张三", "--json"])
    assert r.exit_code == 0, r.output
    assert json.loads(r.stdout)["public_input"] == ""  # stdout stays JSON for scripts
    assert "未提供 --public-input" in r.stderr and "仅由事先承诺的密钥决定" in r.stderr
    assert "公开输入 （无）" in ssj(demo_db, "draw", "record", tid)


def test_a_read_command_on_a_missing_sqlite_file_leaves_no_file_behind(tmp_path):
    missing = tmp_path / "nested" / "none.db"
    out = ssj(f"sqlite:///{missing}", "task", "list", code=2)
    assert f"数据库文件 {missing} 不存在" in out and "ssj init" in out
    assert not missing.exists() and not missing.parent.exists()
    assert "升级" in ssj(f"sqlite:///{missing}", "init")  # init creates it, folders included
    assert missing.exists()
