"""The command line contract that auditors' scripts call (DESIGN §6, issue #2). Every command
that touches data acts as an account (``--as USER`` anywhere on the line, or SSJ_USER)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import add_account
from tests.workflow.cli.runner import invoke, root_code, ssj


@pytest.fixture
def demo_db(db_url: str) -> str:
    """The demo database: one account per role (admin, clerk, inspector, supervisor, auditor)."""
    ssj(db_url, "init")
    ssj(db_url, "demo", "--now", "2026-03-10T10:00")
    return db_url


@pytest.fixture
def bureau(db_url: str) -> str:
    """A new database with the bureau's people: two clerks (经办) and an auditor."""
    ssj(db_url, "init")
    add_account(db_url, "zhangsan", "clerk", name="张三")
    add_account(db_url, "lisi", "clerk", name="李四")
    add_account(db_url, "shenji", "auditor", name="审计员")
    return db_url


CLERK = ("--as", "zhangsan")
AUDITOR = ("--as", "shenji")


def test_commands_before_init_say_to_run_init(db_url):
    out = ssj(db_url, "task", "list", "--as", "zhangsan", code=2)
    assert "ssj init" in out


def test_init_twice_is_harmless(db_url):
    assert "升级" in ssj(db_url, "init")
    assert "最新" in ssj(db_url, "init")


def test_a_command_without_an_account_is_refused_and_says_how_to_name_one(demo_db):
    head = json.loads(ssj(demo_db, "audit", "verify", "--json", "--as", "auditor"))["head_seq"]
    out = ssj(demo_db, "task", "list", code=2)
    assert "需要指明以哪个账号操作" in out and "--as" in out and "SSJ_USER" in out
    out = ssj(demo_db, "plan", "publish", "2026001", code=2)  # a writing command alike
    assert "--as" in out and "SSJ_USER" in out
    out = ssj(demo_db, "task", "list", "--as", "nobody", code=2)
    assert "账号 'nobody' 不存在" in out
    # A role the matrix does not give the action: refused before anything is written.
    out = ssj(demo_db, "plan", "publish", "2026001", "--as", "auditor", code=2)
    assert "账号 auditor（审计）无权公布抽查计划" in out and "录入员" in out
    out = ssj(demo_db, "audit", "export", "x.jsonl", "--as", "clerk", code=2)
    assert "无权导出审计日志" in out
    planned = json.loads(
        ssj(demo_db, "task", "list", "--state", "planned", "--json", "--as", "clerk")
    )
    out = ssj(demo_db, "draw", str(planned[0]["id"]), "--as", "inspector", code=2)
    assert "账号 inspector（执法人员）无权随机抽取" in out
    after = json.loads(ssj(demo_db, "audit", "verify", "--json", "--as", "auditor"))["head_seq"]
    assert after == head


def test_as_may_come_before_or_after_the_command_or_from_ssj_user(demo_db):
    expected = ssj(demo_db, "--as", "clerk", "task", "list", "--json")
    assert json.loads(expected)  # the demo has tasks
    for args in (
        ("task", "list", "--json", "--as", "clerk"),
        ("task", "--as", "clerk", "list", "--json"),
        ("task", "list", "--as=clerk", "--json"),
    ):
        assert ssj(demo_db, *args) == expected, args
    assert ssj(demo_db, "task", "list", "--json", env={"SSJ_USER": "clerk"}) == expected
    # --as names the account even when SSJ_USER names another.
    out = ssj(demo_db, "task", "list", "--as", "nobody", env={"SSJ_USER": "clerk"}, code=2)
    assert "账号 'nobody' 不存在" in out
    # A write acts as the account however it was named: the event's actor and role are the
    # account's, and payload.by records it.
    ssj(demo_db, "task", "create", "--plan", "2026001", "--name", "甲", env={"SSJ_USER": "clerk"})
    ssj(demo_db, "task", "create", "--plan", "2026001", "--name", "乙", "--as", "clerk")
    account = json.loads(ssj(demo_db, "user", "show", "clerk", "--json", "--as", "admin"))
    by = {"account": account["id"], "username": "clerk", "name": "演示录入员", "role": "clerk",
          "unit": "990000"}  # fmt: skip
    log = json.loads(ssj(demo_db, "audit", "log", "--limit", "2", "--json", "--as", "auditor"))
    assert [(e["kind"], e["actor"], e["role"], e["payload"]["name"], e["payload"]["by"])
            for e in log] == [("task_created", "clerk", "clerk", n, by) for n in "甲乙"]  # fmt: skip


def test_demo_has_tasks_in_every_state_with_seed_004_numbering(demo_db):
    tasks = json.loads(ssj(demo_db, "task", "list", "--json", "--as", "clerk"))
    assert {t["state"] for t in tasks} == {
        "planned",
        "drawn",
        "inspected",
        "publicized",
        "rectified",
        "closed",
    }
    first = json.loads(ssj(demo_db, "task", "show", str(tasks[0]["id"]), "--json", "--as", "clerk"))
    assert (first["plan_no"], first["task_no"], first["ratio"]) == ("2026001", "001号", "0.1")
    assert first["plan_name"] == "2026年迁西县人力资源和社会保障局内部联合随机抽查001"
    assert {"id", "state", "version"} <= set(first)
    assert "跳过" in ssj(demo_db, "demo", "--if-empty")


def test_create_move_and_audit_a_task_through_the_cli(bureau, tmp_path):
    db_url = bureau
    ssj(db_url, "plan", "create", "--no", "2024001", "--unit", "迁西县人力资源和社会保障局", *CLERK)
    created = json.loads(
        ssj(
            db_url,
            "task",
            "create",
            "--plan",
            "2024001",
            "--name",
            "专项抽查",
            *CLERK,
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
    inspectors.write_text(
        "执法证号,姓名,执法领域\nJ1,甲,监察\nJ2,乙,监察\nJ3,丙,监察\n", encoding="utf-8"
    )
    ssj(db_url, "import", "targets", str(targets), *CLERK)
    ssj(db_url, "import", "inspectors", str(inspectors), *CLERK)
    # Each inspector signs in with an account linked to their entry in the directory.
    for username, cert in (("jia", "J1"), ("yi", "J2"), ("bing", "J3")):
        add_account(db_url, username, "inspector", inspector=cert)
    refused = ssj(db_url, "task", "fire", tid, "draw", *CLERK, code=2)
    assert f"ssj draw {tid}" in refused
    assert "ssj plan publish" in ssj(db_url, "draw", tid, *CLERK, code=2)
    assert "承诺值" in ssj(db_url, "plan", "publish", "2024001", *CLERK)
    out = json.loads(ssj(db_url, "draw", tid, *CLERK, "--public-input", "517", "--json"))
    assert [t["code"] for t in out["targets"]] == ["91350100M000100Y43"]
    group = out["targets"][0]["group"]
    accounts = {"J1": "jia", "J2": "yi", "J3": "bing"}
    member = accounts[group[0]]
    (outsider,) = (accounts[c] for c in accounts if c not in group)
    assert "验证通过" in ssj(db_url, "draw", "verify", tid, *CLERK)
    out = ssj(db_url, "task", "show", tid, "--json", *CLERK)
    assert json.loads(out)["state"] == "drawn"
    refused = ssj(db_url, "task", "fire", tid, "close", *CLERK, code=2)
    assert f"任务 {tid}" in refused and "drawn" in refused and "inspect" in refused
    # An inspector records the results of their own group only; the clerk may fire triggers,
    # the inspector may not.
    code = "91350100M000100Y43"
    refused = ssj(
        db_url, "result", "set", tid, code, "--result", "problem", "--as", outsider, code=2
    )
    assert f"{outsider} 不是检查对象 {code} 的检查组成员" in refused
    ssj(db_url, "result", "set", tid, code, "--result", "problem", "--as", member)
    ssj(db_url, "result", "set", tid, code, "--result", "refused", "--as", member,
        "--reason", "更正：企业拒绝提供材料")  # fmt: skip
    assert "无权推进任务" in ssj(db_url, "task", "fire", tid, "inspect", "--as", member, code=2)
    ssj(db_url, "task", "fire", tid, "inspect", "--as", "lisi")
    ssj(db_url, "result", "publish", tid, "--place", "河北人社网", *CLERK)
    ssj(db_url, "task", "fire", tid, "publicize", *CLERK)
    ssj(
        db_url,
        "followup",
        "add",
        tid,
        code,
        "--outcome",
        "case_filed",
        "--as",
        "lisi",
        "--note",
        "已立案",
        "--date",
        "2024-05-06",
    )
    ssj(db_url, "task", "fire", tid, "rectify", *CLERK)
    shown = json.loads(ssj(db_url, "task", "show", tid, "--json", *CLERK))
    assert shown["state"] == "rectified"
    assert shown["records"][0]["followups"][0] == {
        "outcome": "case_filed",
        "date": "2024-05-06",
        "note": "已立案",
        "actor": "lisi",
    }
    stale = str(shown["version"] - 1)
    conflict = ssj(db_url, "task", "fire", tid, "close", *CLERK, "--expect-version", stale, code=3)
    assert "期望版本" in conflict

    verified = json.loads(ssj(db_url, "audit", "verify", "--json", *AUDITOR))
    # 6 accounts, plan, task, 4 directory rows, commitment, publication, draw, 2 results,
    # inspect, publish, publicize, follow-up, rectify
    assert verified["ok"] and verified["first_bad_seq"] is None and verified["events"] == 22
    replayed = json.loads(ssj(db_url, "audit", "replay", "--json", *AUDITOR))
    assert (
        replayed["ok"] and replayed["tasks"] == {tid: "rectified"} and replayed["mismatches"] == []
    )
    log = json.loads(ssj(db_url, "audit", "log", "--task", tid, "--json", *AUDITOR))
    first, correction = [e for e in log if e["kind"] == "result_set"]
    assert correction["payload"]["before"]["result"] == "problem"
    assert correction["payload"]["after"]["result"] == "refused"
    # Each event names the account that wrote it: its username and role, and payload.by.
    root = root_code(db_url)
    for e in (first, correction):
        by = e["payload"]["by"]
        assert (e["actor"], e["role"]) == (member, "inspector")
        assert by == {"account": by["account"], "username": member, "name": member,
                      "role": "inspector", "unit": root}  # fmt: skip
    steps = [(e["payload"].get("trigger", e["kind"]), e["actor"], e["role"]) for e in log]
    assert [s for s in steps if s[0] != "result_set"] == [
        ("task_created", "zhangsan", "clerk"),
        ("draw_committed", "zhangsan", "clerk"),
        ("draw", "zhangsan", "clerk"),
        ("inspect", "lisi", "clerk"),
        ("results_published", "zhangsan", "clerk"),
        ("publicize", "zhangsan", "clerk"),
        ("followup_added", "lisi", "clerk"),
        ("rectify", "zhangsan", "clerk"),
    ]


def test_export_checkpoint_and_file_verification(demo_db, tmp_path):
    cp = tmp_path / "cp.json"
    ssj(
        demo_db, "audit", "checkpoint", "--out", str(cp), "--signed-by", "审计员", "--as", "auditor"
    )
    checkpoint = json.loads(cp.read_text(encoding="utf-8"))
    assert checkpoint["signed_by"] == "审计员" and checkpoint["seq"] > 0
    ssj(demo_db, "walkthrough")  # the log grows
    ssj(demo_db, "audit", "verify", "--against", str(cp), "--as", "auditor")
    export = tmp_path / "log.jsonl"
    ssj(demo_db, "audit", "export", str(export), "--as", "auditor")
    lines = export.read_text(encoding="utf-8").splitlines()
    original = list(lines)
    assert len(lines) == checkpoint["seq"] + 1
    # Checking a file needs no account: it reads no database.
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
    auditor = ("--as", "auditor")
    tasks = json.loads(ssj(demo_db, "task", "list", "--state", "closed", "--json", *auditor))
    tid = str(tasks[0]["id"])
    now = json.loads(ssj(demo_db, "audit", "replay", "--task", tid, "--json", *auditor))
    assert now["tasks"] == {tid: "closed"}
    then = json.loads(
        ssj(
            demo_db,
            "audit",
            "replay",
            "--task",
            tid,
            "--at",
            "2000-01-01T00:00:00+08:00",
            "--json",
            *auditor,
        )
    )
    assert then["tasks"] == {} and then["ok"]
    assert "时间格式无效" in ssj(demo_db, "audit", "replay", "--at", "yesterday", *auditor, code=2)
    assert "任务 999 不存在" in ssj(demo_db, "audit", "replay", "--task", "999", *auditor, code=2)


def test_bad_input_is_named(demo_db):
    clerk = ("--as", "clerk")
    assert "--data 不是有效的 JSON" in ssj(
        demo_db, "task", "fire", "1", "draw", *clerk, "--data", "{oops", code=2
    )
    assert "未知状态" in ssj(demo_db, "task", "list", "--state", "done", *clerk, code=2)
    assert "任务 999 不存在" in ssj(demo_db, "task", "show", "999", *clerk, code=2)
    assert "任务 1 的检查对象中没有 'X'" in ssj(
        demo_db, "result", "set", "1", "X", "--result", "ok", *clerk, code=2
    )
    shown = json.loads(ssj(demo_db, "task", "show", "1", "--json", *clerk))
    code = shown["records"][0]["target_code"]
    assert "检查结果 'ok' 无效" in ssj(
        demo_db, "result", "set", "1", code, "--result", "ok", *clerk, code=2
    )


def test_a_bad_config_file_is_refused_at_start(db_url, tmp_path):
    cfg = tmp_path / "bad.yaml"
    cfg.write_text("log:\n  level: LOUD\n", encoding="utf-8")
    r = invoke(["--config", str(cfg), "--db", db_url, "init"])
    assert r.exit_code == 2 and "log.level" in r.output


def test_the_console_script_reads_ssj_db_url_and_ssj_user(db_url, tmp_path):
    """The installed ``ssj`` entry point, as an auditor's script would call it."""
    exe = Path(sys.executable).with_name("ssj")
    env = {**os.environ, "SSJ_DB_URL": db_url, "SSJ_LOG_FORMAT": "json"}
    env.pop("SSJ_USER", None)

    def run(*args: str, user: str | None = None) -> subprocess.CompletedProcess[str]:
        e = env if user is None else {**env, "SSJ_USER": user}
        return subprocess.run([str(exe), *args], env=e, capture_output=True, text=True)

    assert run("init").returncode == 0
    root = root_code(db_url)
    # The first account is created from the server's console; the others by an administrator.
    assert (
        run("user", "add", "admin", "--role", "admin", "--unit", root, "--no-password").returncode
        == 0
    )
    r = run("user", "add", "shenji", "--role", "auditor", "--unit", root, "--no-password",
            user="admin")  # fmt: skip
    assert r.returncode == 0, r.stderr
    refused = run("audit", "verify", "--json")
    assert refused.returncode == 2 and "SSJ_USER" in refused.stderr
    r = run("audit", "verify", "--json", user="shenji")
    assert r.returncode == 0, r.stderr
    verified = json.loads(r.stdout)
    assert verified == {**verified, "ok": True, "events": 2, "first_bad_seq": None, "head_seq": 2}


def test_the_standalone_stdlib_checker_agrees(demo_db, tmp_path):
    """docs/verify_audit.py: what an auditor runs without installing the project."""
    checker = Path(__file__).resolve().parents[3] / "docs" / "verify_audit.py"
    export, cp = tmp_path / "log.jsonl", tmp_path / "cp.json"
    ssj(demo_db, "audit", "export", str(export), "--as", "auditor")
    ssj(demo_db, "audit", "checkpoint", "--out", str(cp), "--as", "auditor")

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


def test_directory_import_export_and_template_through_the_cli(bureau, tmp_path):
    from workflow.sampling.credit_code import make

    db_url = bureau
    tpl = tmp_path / "targets.xlsx"
    assert "模板已写入" in ssj(db_url, "template", "targets", str(tpl))  # a blank sheet: no account
    good = tmp_path / "t.csv"
    head = "统一社会信用代码,名称,类型,信用风险等级\n"
    good.write_text(head + f"{make('130227', 1)},甲公司,用人单位,A\n", encoding="utf-8")
    assert "新增 1" in ssj(db_url, "import", "targets", str(good), "--dry-run", *CLERK)
    # The directory is the clerks' to keep: an auditor reads it but may not change it.
    assert "无权导入目录" in ssj(db_url, "import", "targets", str(good), *AUDITOR, code=2)
    assert "新增 1" in ssj(db_url, "import", "targets", str(good), *CLERK)
    assert "未变 1" in ssj(db_url, "import", "targets", str(good), "--as", "lisi")
    bad = tmp_path / "bad.csv"
    bad.write_text(head + "91130227XXXXXXXXXX,乙公司,用人单位,E\n", encoding="utf-8")
    out = ssj(db_url, "import", "targets", str(bad), *CLERK, code=2)
    assert (
        f"{bad}:2:统一社会信用代码:" in out
        and f"{bad}:2:信用风险等级: 应为" in out
        and "未写入" in out
    )
    exported = tmp_path / "out.xlsx"
    assert "已导出 1 条" in ssj(db_url, "export", "targets", str(exported), *AUDITOR)
    log = json.loads(ssj(db_url, "audit", "log", "--json", *AUDITOR))
    assert [e["kind"] for e in log] == ["account_added"] * 3 + ["target_upserted"]
    assert (log[-1]["actor"], log[-1]["role"]) == ("zhangsan", "clerk")
    assert log[-1]["payload"]["by"]["name"] == "张三"


def test_plan_import_lists_every_problem_of_the_file_in_one_run(bureau, tmp_path):
    from tests.workflow.sampling.test_plans import trial_table

    db_url = bureau
    items = tmp_path / "items.csv"
    items.write_text(
        "事项编码,事项名称,检查方式,事项类别\nQX-LD-007,工资支付,现场,重点\n", encoding="utf-8"
    )
    ssj(db_url, "import", "items", str(items), *CLERK)
    reads = (("audit", "log"), ("plan", "list"))
    before = [ssj(db_url, *c, "--json", *AUDITOR) for c in reads]
    path, expected = trial_table(tmp_path / "年度计划.xlsx")
    for dry_run in ((), ("--dry-run",)):
        out = ssj(db_url, "plan", "import", str(path), *dry_run, *CLERK, code=2)
        assert "共 9 个问题，未写入任何数据" in out
        lines = [line for line in out.splitlines() if line.startswith(f"{path}:")]
        assert len(lines) == 9
        for line, (row, column, message) in zip(lines, expected, strict=True):
            assert line.startswith(f"{path}:{row}:{column}: ") and message in line, line
    assert [ssj(db_url, *c, "--json", *AUDITOR) for c in reads] == before
    assert json.loads(ssj(db_url, "task", "list", "--json", *CLERK)) == []


def test_plan_table_publication_draw_verification_and_sheets_through_the_cli(bureau, tmp_path):
    from workflow.sampling import plans
    from workflow.sampling.credit_code import make

    db_url = bureau
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
    ssj(db_url, "import", "targets", str(targets), *CLERK)
    ssj(db_url, "import", "inspectors", str(inspectors), *CLERK)
    table = tmp_path / "plan.csv"
    header = ",".join(c.header for c in plans.PLAN_TABLE.cols[:13])
    table.write_text(
        header + "\n1,迁西县人力资源和社会保障局,2024001,,001号,专项抽查,定向,10%,,用人单位,"
        "劳动保障监察大队,社会保险科,2024年4月\n",
        encoding="utf-8",
    )
    assert "新建计划 2024001；新建任务 1 个" in ssj(db_url, "plan", "import", str(table), *CLERK)
    bad = tmp_path / "bad.csv"
    bad.write_text(header + "\n1,某局,2024001,,001号,任务,随便,1%,,,,,\n", encoding="utf-8")
    out = ssj(db_url, "plan", "import", str(bad), *CLERK, code=2)
    assert f"{bad}:2:抽查类型: 应为 定向 或 不定向" in out and "未写入" in out
    published = json.loads(ssj(db_url, "plan", "publish", "2024001", *CLERK, "--json"))
    (task,) = published
    tid = str(task["task_id"])
    assert task["commitment"] in ssj(db_url, "plan", "show", "2024001", *AUDITOR)
    out = ssj(db_url, "draw", tid, *CLERK, "--public-input", "3D 517")
    assert "planned → drawn" in out and "密钥已公开" in out
    assert "未提供 --public-input" not in out
    record = json.loads(ssj(db_url, "draw", "record", tid, "--json", *AUDITOR))
    assert record["commitment"] == task["commitment"] and record["public_input"] == "3D 517"
    assert [s["name"] for s in record["strata"]] == ["A", "B", "C", "D"]
    assert "验证通过" in ssj(db_url, "draw", "verify", tid, *AUDITOR)
    assert "SSJ_USER" in ssj(db_url, "draw", "verify", tid, code=2)  # the database's record
    path = tmp_path / "record.json"
    path.write_text(json.dumps(record, ensure_ascii=False), encoding="utf-8")
    # A published record is checked by anyone: no account.
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
    assert "二者选一" in ssj(db_url, "draw", "verify", *AUDITOR, code=2)
    out = ssj(db_url, "sheet", tid, "--out", str(tmp_path / "s"), *CLERK, code=2)
    assert f"ssj draw confirm {tid}" in out
    assert "已确认" in ssj(db_url, "draw", "confirm", tid, *CLERK, "--reason", "补录")
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
        *CLERK,
    )
    assert f"（{first['group'][0]}） → " in out  # 姓名（证号）
    out = ssj(db_url, "sheet", tid, "--out", str(tmp_path / "s"), *CLERK)
    assert f"已生成 {len(record['targets'])} 张检查表" in out
    assert len(list((tmp_path / "s").glob("*.xlsx"))) == len(record["targets"])
    assert "模板已写入" in ssj(db_url, "template", "plans", str(tmp_path / "plan.xlsx"))


def test_the_walkthrough_can_run_again_and_again(demo_db):
    # make run twice, three times: once nothing can move, it says so rather than failing
    outs = [ssj(demo_db, "walkthrough") for _ in range(3)]
    assert all("完整" in o and "与数据表一致" in o for o in outs)
    assert "当前没有满足条件的转换" in outs[-1]


def test_make_run_walks_the_demo_once_not_at_every_start(db_url):
    """``make run`` loads the demo and walks it on a new database; started again over the same
    database it loads nothing and takes no step: the demo is not worn down by restarts."""
    from workflow.core import queries
    from workflow.core.config import DbSettings
    from workflow.core.db import make_engine

    ssj(db_url, "init")
    first = ssj(db_url, "demo", "--if-empty", "--walkthrough", "--now", "2026-03-10T10:00")
    assert "已加载演示数据" in first and "== 一次状态转换 ==" in first and "完整" in first
    engine = make_engine(DbSettings(), db_url)
    try:
        events = len(queries.list_events(engine))
        again = ssj(db_url, "demo", "--if-empty", "--walkthrough")
        assert "跳过演示数据加载" in again and "一次状态转换" not in again
        assert len(queries.list_events(engine)) == events
    finally:
        engine.dispose()


def test_a_year_typed_the_way_clerks_type_it(bureau, tmp_path):
    """Issue #9 §3 through the command line: one normaliser for files and options alike."""
    from openpyxl import load_workbook

    from workflow.sampling.credit_code import make

    db_url = bureau
    items = tmp_path / "items.csv"
    items.write_text(
        "事项编码,事项名称,法律依据,检查方式,事项类别\n"
        "ｑｘ-ld-007,工资支付,《保障农民工工资支付条例》,现场检查、书面检查,重点事项\n"
        "qx-ld-008,劳动合同,《劳动合同法》,书面检查,一般事项\n",
        encoding="utf-8",
    )
    ssj(db_url, "import", "items", str(items), *CLERK)
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
    ssj(db_url, "import", "targets", str(targets), *CLERK)
    inspectors = tmp_path / "inspectors.csv"
    inspectors.write_text(
        "执法证号,姓名,执法领域\n"
        + "\n".join(f"j{i},人员{i},劳动保障监察 社会保险" for i in range(4))
        + "\n",
        encoding="utf-8",
    )
    ssj(db_url, "plan", "create", "--no", "２０２４００１", "--unit", "迁西县人社局", *CLERK)
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
            *CLERK,
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
    r = invoke(
        ["--db", db_url, "task", "create", "--plan", "2024001", "--name", "另一项",
         "--field", "劳动监察", *CLERK]
    )  # fmt: skip
    assert r.exit_code == 0 and "警告：执法领域“劳动监察”没有任何执法人员具备" in r.stderr
    # an inspector field no task uses is a warning on stderr, and the import goes on
    r = invoke(["--db", db_url, "import", "inspectors", str(inspectors), *CLERK])
    assert r.exit_code == 0 and "新增 4" in r.stdout
    assert "警告：执法领域“社会保险”" in r.stderr
    # retire: the item cannot be named in a new task; the target is not drawn
    out = ssj(db_url, "retire", "items", "qx-ld-008", "--reason", "清单调整", *CLERK)
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
        *CLERK,
        code=2,
    )
    assert "QX-LD-008 已停用" in out
    ssj(db_url, "retire", "targets", codes[3], "--reason", "注销", *CLERK)
    assert "本来就已停用" in ssj(db_url, "retire", "targets", codes[3], "--reason", "注销", *CLERK)
    tid = str(created["id"])
    ssj(db_url, "plan", "publish", "2024001", *CLERK)
    record = json.loads(ssj(db_url, "draw", tid, *CLERK, "--json"))
    assert sorted(t["code"] for t in record["targets"]) == sorted(codes[:3])
    ssj(db_url, "draw", "confirm", tid, *CLERK, "--reason", "补录")
    ssj(db_url, "sheet", tid, "--out", str(tmp_path / "s"), *CLERK)
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
        # a clerk's account records any target's result, in no group as it is
        out = ssj(db_url, "result", "set", tid, t.lower(), "--result", label, "--as", "lisi")
        assert f"（{t}）：已录入结果" in out
    shown = {
        r["target_code"]: r["result"]
        for r in json.loads(ssj(db_url, "task", "show", tid, "--json", *CLERK))["records"]
    }
    assert sorted(shown.values()) == ["no_problem", "not_operating", "problem"]
    problem = next(c for c, v in shown.items() if v == "problem")
    ssj(db_url, "task", "fire", tid, "inspect", *CLERK)
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
        "--as",
        "lisi",
    )
    assert "已登记后续处置 移送有关部门" in out
    out = ssj(db_url, "followup", "add", tid, problem, "--outcome", "罚款", "--as", "lisi", code=2)
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
        "--as",
        "lisi",
        code=2,
    )
    assert "--date 的日期 '2024-04-021' 无效" in out
    # the export of the hostile name is text, not a formula
    exported = tmp_path / "out.xlsx"
    ssj(db_url, "export", "targets", str(exported), *CLERK)
    import zipfile

    with zipfile.ZipFile(exported) as z:
        assert "<f>" not in z.read("xl/worksheets/sheet1.xml").decode()


def test_task_create_scope_becomes_the_type_filter_the_draw_selects_by(bureau):
    """Issue #9: ``task create --scope`` was stored as text and ignored by the draw."""
    db_url = bureau
    ssj(db_url, "plan", "create", "--no", "2024001", "--unit", "迁西县人力资源和社会保障局", *CLERK)
    base = ("task", "create", "--plan", "2024001", "--name", "任务", *CLERK)
    created = json.loads(ssj(db_url, *base, "--scope", "用人单位、社保经办机构", "--json"))
    assert created["filters"] == {"type": ["用人单位", "社会保险经办机构"]}
    out = ssj(db_url, *base, "--scope", "火星企业", code=2)
    assert "抽查对象范围 '火星企业' 无效" in out and "Traceback" not in out


def test_a_draw_without_public_input_says_what_that_means(demo_db):
    tasks = json.loads(ssj(demo_db, "task", "list", "--json", "--as", "clerk"))
    planned = [t for t in tasks if t["state"] == "planned"]
    assert planned, "the demo keeps one task planned"
    tid = str(planned[0]["id"])
    r = invoke(["--db", demo_db, "draw", tid, "--as", "clerk", "--json"])
    assert r.exit_code == 0, r.output
    assert json.loads(r.stdout)["public_input"] == ""  # stdout stays JSON for scripts
    assert "未提供 --public-input" in r.stderr and "仅由事先承诺的密钥决定" in r.stderr
    assert "公开输入 （无）" in ssj(demo_db, "draw", "record", tid, "--as", "clerk")


def test_a_read_command_on_a_missing_sqlite_file_leaves_no_file_behind(tmp_path):
    missing = tmp_path / "nested" / "none.db"
    for named in ((), ("--as", "zhangsan")):  # looking the account up creates nothing either
        out = ssj(f"sqlite:///{missing}", "task", "list", *named, code=2)
        assert not missing.exists() and not missing.parent.exists()
    assert f"数据库文件 {missing} 不存在" in out and "ssj init" in out
    assert "升级" in ssj(f"sqlite:///{missing}", "init")  # init creates it, folders included
    assert missing.exists()
