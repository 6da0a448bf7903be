"""The command line contract that auditors' scripts call (DESIGN §6, issue #2)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from workflow.cli import app

runner = CliRunner()


def ssj(db_url: str, *args: str, code: int = 0) -> str:
    r = runner.invoke(app, ["--db", db_url, *args], catch_exceptions=False)
    assert r.exit_code == code, (args, r.output)
    return r.stdout if code == 0 else r.output  # stdout alone is what scripts parse


@pytest.fixture
def demo_db(db_url: str) -> str:
    ssj(db_url, "init")
    ssj(db_url, "demo")
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
    assert (first["plan_no"], first["task_no"], first["ratio"]) == ("2024001", "001号", "0.1")
    assert first["plan_name"] == "2024年迁西县人力资源和社会保障局内部联合随机抽查001"
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
    ssj(
        db_url, "result", "set", tid, "91350100M000100Y43", "--result", "problem", "--actor", "李四"
    )
    ssj(
        db_url,
        "result",
        "set",
        tid,
        "91350100M000100Y43",
        "--result",
        "refused",
        "--actor",
        "李四",
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
    assert "检查结果 'ok' 无效" in ssj(
        demo_db, "result", "set", "1", "X", "--result", "ok", "--actor", "x", code=2
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
    checker = Path(__file__).resolve().parents[2] / "docs" / "verify_audit.py"
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
    from workflow.credit_code import make

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


def test_plan_table_publication_draw_verification_and_sheets_through_the_cli(db_url, tmp_path):
    from workflow import plans
    from workflow.credit_code import make

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
    assert f"{first['group'][0]} → " in out
    out = ssj(db_url, "sheet", tid, "--out", str(tmp_path / "s"), "--actor", "张三")
    assert f"已生成 {len(record['targets'])} 张检查表" in out
    assert len(list((tmp_path / "s").glob("*.xlsx"))) == len(record["targets"])
    assert "模板已写入" in ssj(db_url, "template", "plans", str(tmp_path / "plan.xlsx"))


def test_the_walkthrough_can_run_again_and_again(demo_db):
    # make run twice, three times: once nothing can move, it says so rather than failing
    outs = [ssj(demo_db, "walkthrough") for _ in range(3)]
    assert all("完整" in o and "与数据表一致" in o for o in outs)
    assert "当前没有满足条件的转换" in outs[-1]
