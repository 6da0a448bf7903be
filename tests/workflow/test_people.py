"""People, not codes (issue #9 §4): tasks, targets and inspectors as users write them; names
beside codes and local times in output; who may record a result; corrections of published
results; results imported from a spreadsheet; messages that do not contradict themselves."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

from tests.conftest import add_account, drawn_task, inspector_row, load_directory, target_row
from workflow.core import accounts, queries, refs
from workflow.core.errors import InvalidInput, NotFound, TransitionRefused
from workflow.core.replay import replay
from workflow.sampling import plans

runner = CliRunner()
# The accounts the commands act as (DESIGN §8): a clerk (录入员) may record any target's result,
# an auditor (审计) reads the log.
CLERK = "王录入"
AUDITOR = "赵审计"


@pytest.fixture
def staff(wf):  # type: ignore[no-untyped-def]
    add_account(wf, CLERK, "clerk")
    add_account(wf, AUDITOR, "auditor")


def ssj(db_url: str, *args: str, code: int = 0, env: dict[str, str] | None = None) -> str:
    r = runner.invoke(app_(), ["--db", db_url, *args], env=env, catch_exceptions=False)
    assert r.exit_code == code, (args, r.output)
    return r.stdout if code == 0 else r.output


def app_():  # type: ignore[no-untyped-def]
    from workflow.cli.main import app

    return app


def _records(wf, t: int) -> dict[str, dict]:  # type: ignore[no-untyped-def]
    from workflow.core import queries

    return {r["target_code"]: r for r in queries.show_task(wf.engine, t)["records"]}


def _events(wf) -> int:  # type: ignore[no-untyped-def]
    return wf.head().seq


# --- references --------------------------------------------------------------------------------


def test_a_task_is_found_as_users_write_it(wf):
    t, _ = drawn_task(wf, 1)
    for ref in (
        "2024001-001号",
        "2024001-001",
        "2024001 001号",
        "2024001-1",
        "２０２４００１－００１号",
        " 2024001001 ",
        str(t),
        str(t).translate(str.maketrans("0123456789", "０１２３４５６７８９")),
    ):
        assert refs.task_id(wf.engine, ref) == t, ref
    with pytest.raises(InvalidInput, match="2024001 是抽查计划编号"):
        refs.task_id(wf.engine, "2024001")
    # Only seven digits can be a plan number (the lookup skips the question for other ids).
    from workflow.sampling.plans import PLAN_NO

    assert [n for n in range(1, 12) if PLAN_NO.match("2" * n)] == [refs.PLAN_DIGITS]
    with pytest.raises(NotFound, match=r"没有任务 009号.*001号"):
        refs.task_id(wf.engine, "2024001-009号")
    with pytest.raises(NotFound, match="2099001"):
        refs.task_id(wf.engine, "2099001-001号")
    with pytest.raises(InvalidInput, match=r"任务编号 9+ 无效：应为 1 到"):
        refs.task_id(wf.engine, "9" * 25)
    with pytest.raises(InvalidInput, match="2026001-001号"):
        refs.task_id(wf.engine, "第一个任务")
    other = plans.create_task(wf, "2024001", name="n", actor="x", task_no="007号")
    assert refs.task_id(wf.engine, "2024001/7") == other
    assert refs.task_id(wf.engine, "2024001007号") == other


def test_a_target_and_an_inspector_are_found_by_name_and_a_shared_name_lists_candidates(wf):
    t, codes = drawn_task(wf, 2)
    names = {c: n for c, n in refs.Names(wf.engine).targets.items() if c in codes}
    one, two = codes
    assert refs.target_code(wf.engine, names[one], t) == one
    assert refs.target_code(wf.engine, one.lower(), t) == one
    # Renamed in the directory since the draw: the new name and the drawn name both find it.
    load_directory(wf, [[*target_row(two)[:1], "新名称有限公司", *target_row(two)[2:]]])
    assert refs.target_code(wf.engine, "新名称有限公司", t) == two
    assert refs.target_code(wf.engine, names[two], t) == two
    names[two] = "新名称有限公司"
    # A second directory entry with the same name as the first makes the name ambiguous.
    from tests.conftest import code

    twin = code(999_001)
    load_directory(wf, [[*target_row(twin)[:1], names[one], *target_row(twin)[2:]]])
    with pytest.raises(InvalidInput, match="不唯一") as e:
        refs.target_code(wf.engine, names[one])
    assert f"{names[one]}（{one}）" in str(e.value) and f"（{twin}）" in str(e.value)
    # Within the task the name is still unique: the task's own targets settle it.
    assert refs.target_code(wf.engine, names[one], t) == one
    with pytest.raises(NotFound, match=f"名称相近的有：.*{two}"):
        refs.target_code(wf.engine, names[two][:-1], t)
    # A name imported with full-width letters is found as a clerk types it, and as stored.
    wide = "宝丰县 ＡＢＣ 科技有限公司"
    load_directory(wf, [[*target_row(two)[:1], wide, *target_row(two)[2:]]])
    for typed in ("宝丰县 ABC 科技有限公司", wide, " 宝丰县 ABC 科技有限公司 "):
        assert refs.target_code(wf.engine, typed, t) == two
    with pytest.raises(NotFound, match=f"名称相近的有：.*{two}"):
        refs.target_code(wf.engine, "ABC 科技", t)

    assert refs.inspector_cert(wf.engine, "人员J001") == "J001"
    assert refs.inspector_cert(wf.engine, "j001") == "J001"
    load_directory(wf, inspectors=[["K9", "人员J001", "劳动保障监察", "", "", "", "", "是"]])
    with pytest.raises(InvalidInput, match=r"不唯一.*人员J001（J001）.*人员J001（K9）"):
        refs.inspector_cert(wf.engine, "人员J001")
    assert refs.inspector_cert(wf.engine, "人员J001", among=["K9", "J000"]) == "K9"
    with pytest.raises(NotFound, match="姓名相近的有"):
        refs.inspector_cert(wf.engine, "人员J0")


def test_local_time_is_shanghai_to_the_minute():
    assert refs.local_time("2026-03-05T06:07:59.123456Z") == "2026-03-05 14:07"
    assert refs.local_time("2026-03-05") == "2026-03-05"
    assert refs.local_time(None) == "—"


# --- the command line with names ---------------------------------------------------------------


def test_commands_take_task_target_and_inspector_names_and_show_names_and_local_times(
    db_url, wf, staff, tmp_path
):
    t, codes = drawn_task(wf, 2)
    recs = _records(wf, t)
    names = refs.Names(wf.engine)
    first = codes[0]
    member = recs[first]["inspectors"][0]
    who = names.inspectors[member]
    target_name = names.targets[first]
    # An inspector's account, linked to the directory by the person's name, records a result
    # of a group the person is in.
    add_account(wf, "zhang", "inspector", inspector=who, name=who)
    out = ssj(
        db_url, "result", "set", "2024001-001号", target_name, "--result", "no_problem",
        "--as", "zhang",
    )  # fmt: skip
    assert f"{target_name}（{first}）" in out
    # SSJ_USER stands in for --as; an account linked by the certificate number.
    cert = next(c for c in recs[codes[1]]["inspectors"] if c != member)
    add_account(wf, "li", "inspector", inspector=cert)
    ssj(db_url, "result", "set", "２０２４００１－００１号", codes[1], "--result", "no_problem",
        env={"SSJ_USER": "li"})  # fmt: skip
    log = ssj(db_url, "audit", "log", "--task", "2024001-001号", "--json", "--as", AUDITOR)
    last = json.loads(log)[-1]
    assert (last["actor"], last["role"], last["kind"]) == ("li", "inspector", "result_set")
    assert last["payload"]["by"]["username"] == "li"
    ssj(db_url, "task", "fire", "2024001-001号", "inspect", "--as", CLERK)
    ssj(db_url, "result", "publish", "2024001-001号", "--place", "网站", "--as", CLERK)
    shown = ssj(db_url, "task", "show", "2024001-001号", "--as", CLERK)
    assert f"{target_name}（{first}）" in shown
    assert f"{who}（{recs[first]['inspectors'][0]}）" in shown
    assert re.search(r"已公示 \d{4}-\d\d-\d\d（登记于 \d{4}-\d\d-\d\d \d\d:\d\d）", shown)
    assert "Z " not in shown and "Z）" not in shown
    raw = json.loads(ssj(db_url, "task", "show", "2024001-001号", "--json", "--as", CLERK))
    assert raw["records"][0]["published_at"].endswith("Z")  # JSON stays UTC ISO
    log = ssj(db_url, "audit", "log", "--task", str(t), "--as", AUDITOR)
    assert re.search(r"^\s+\d+ \d{4}-\d\d-\d\d \d\d:\d\d \S", log, re.M)
    record = ssj(db_url, "draw", "record", "2024001-001号", "--as", "zhang")
    assert f"{target_name}（{first}）：检查组 " in record and "（J00" in record
    assert "错误" not in ssj(db_url, "audit", "replay", "--task", "2024001-001号", "--as", AUDITOR)


def test_a_result_by_someone_outside_the_group_and_not_a_clerk_is_refused(db_url, wf, staff):
    t, codes = drawn_task(wf, 1)
    (group,) = [r["inspectors"] for r in _records(wf, t).values()]
    outsider = next(c for c in ("J000", "J001", "J002", "J003") if c not in group)
    add_account(wf, "路人", "inspector", inspector=outsider)
    add_account(wf, "钱督办", "supervisor")
    before = _events(wf)
    out = ssj(db_url, "result", "set", str(t), codes[0], "--result", "no_problem",
              "--as", "路人", code=2)  # fmt: skip
    assert "路人 不是检查对象" in out and "检查组成员" in out and "也不是录入员" in out
    # A supervisor's role may not record results at all (the matrix, before the task is read).
    out = ssj(db_url, "result", "set", str(t), codes[0], "--result", "no_problem",
              "--as", "钱督办", code=2)  # fmt: skip
    assert "钱督办（督办）无权" in out and "录入员、执法人员" in out
    assert _events(wf) == before
    # A clerk may record any result of the subtree.
    ssj(db_url, "result", "set", str(t), codes[0], "--result", "no_problem", "--as", CLERK)
    assert _events(wf) == before + 1
    (last,) = queries.list_events(wf.engine, t)[-1:]
    assert (last["actor"], last["role"]) == (CLERK, "clerk")


def test_an_account_is_required_known_and_enabled(db_url, wf, staff):
    t, codes = drawn_task(wf, 1)
    before = _events(wf)
    out = ssj(db_url, "result", "set", str(t), codes[0], "--result", "no_problem", code=2,
              env={"SSJ_USER": ""})  # fmt: skip
    assert "需要指明以哪个账号操作" in out and "--as 账号 或环境变量 SSJ_USER" in out
    out = ssj(db_url, "result", "set", str(t), codes[0], "--result", "no_problem",
              "--as", "无此人", code=2)  # fmt: skip
    assert "账号 '无此人' 不存在" in out
    accounts.set_disabled(wf.raw, CLERK, True, by=None, now=wf.event_time())
    after_disable = _events(wf)
    assert after_disable == before + 1  # account_changed
    out = ssj(db_url, "result", "set", str(t), codes[0], "--result", "no_problem",
              "--as", CLERK, code=2)  # fmt: skip
    assert f"账号 {CLERK} 已停用" in out
    assert _events(wf) == after_disable


# --- corrections -------------------------------------------------------------------------------


def _published(wf, result: str = "no_problem") -> tuple[int, str]:  # type: ignore[no-untyped-def]
    t, codes = drawn_task(wf, 1)
    wf.set_result(t, codes[0], result, actor="x")
    wf.fire(t, "inspect", actor="x")
    wf.publish(t, place="河北人社网", actor="x")
    return t, codes[0]


def test_a_published_result_is_changed_only_by_a_published_correction(wf):
    t, c = _published(wf)
    with pytest.raises(InvalidInput, match="结果已公示，不得直接改动：请发布更正") as e:
        wf.set_result(t, c, "problem", actor="x", reason="复核")
    assert [(s.action, s.args) for s in e.value.steps] == [
        ("result.correct", {"task": t, "code": c})
    ]
    with pytest.raises(InvalidInput, match="更正类别 'typo' 无效"):
        wf.correct_result(t, c, "problem", actor="x", reason="复核", category="typo")
    with pytest.raises(InvalidInput, match="说明原因"):
        wf.correct_result(t, c, "problem", actor="x", reason=" ", category="其他")
    with pytest.raises(InvalidInput, match="不是检查对象"):
        wf.correct_result(t, c, "problem", actor="路人", reason="复核", category="复核改变")
    before = _events(wf)
    p = wf.correct_result(
        t, c, "problem", actor="x", reason="复核发现未缴社保", category="复核改变", note="补充"
    )
    assert p["before"]["result"] == "no_problem" and p["after"]["result"] == "problem"
    assert p["category"] == "review" and p["place"] == "河北人社网"
    assert p["published_on"] == "2024-04-01" and p["rectify_by"]  # a problem gets its date
    assert _events(wf) == before + 1
    rec = _records(wf, t)[c]
    assert rec["result"] == "problem" and rec["correction_count"] == 1
    (corr,) = rec["corrections"]
    assert corr["before_result"] == "no_problem" and corr["after_result"] == "problem"
    assert corr["category_label"] == "复核改变" and corr["event_seq"] == before + 1
    from workflow.core import queries

    (e,) = queries.list_events(wf.engine, t, None)[-1:]
    assert e["kind"] == "result_corrected" and e["reason"] == "复核发现未缴社保"
    assert replay(wf.raw, t).ok


def test_an_unpublished_result_is_not_corrected_by_a_correction(wf):
    t, codes = drawn_task(wf, 1)
    wf.set_result(t, codes[0], "no_problem", actor="x")
    with pytest.raises(InvalidInput, match=r"尚未公示.*直接录入新结果") as e:
        wf.correct_result(t, codes[0], "problem", actor="x", reason="r", category="其他")
    assert [s.action for s in e.value.steps] == ["result.set"]


def test_the_rectification_date_moves_on_its_own_with_a_reason_and_replay_follows(wf):
    from datetime import date

    t, c = _published(wf, "problem")
    with pytest.raises(InvalidInput, match="说明原因"):
        wf.change_rectify_by(t, c, date(2024, 6, 28), actor="x", reason="")
    with pytest.raises(InvalidInput, match="早于今天"):
        wf.change_rectify_by(t, c, date(2024, 3, 1), actor="x", reason="延期")
    p = wf.change_rectify_by(t, c, date(2024, 6, 28), actor="x", reason="企业申请延期")
    assert p["after"] == "2024-06-28" and p["before"] and p["before"] != p["after"]
    assert _records(wf, t)[c]["rectify_by"] == "2024-06-28"
    assert replay(wf.raw, t).ok
    # A result whose rectification date changed behind the log is a mismatch replay finds.
    with wf.raw.write() as cur:
        cur.execute(
            wf.raw.sql("UPDATE inspection_record SET rectify_by = ? WHERE task_id = ?"),
            ("2024-07-01", t),
        )
    assert not replay(wf.raw, t).ok
    t2, c2 = _published(wf, "no_problem")
    with pytest.raises(InvalidInput, match="只有 problem 或 refused 有整改期限"):
        wf.change_rectify_by(t2, c2, date(2024, 6, 28), actor="x", reason="r")


def test_correct_and_rectify_by_from_the_command_line(db_url, wf, staff):
    t, c = _published(wf)
    out = ssj(db_url, "result", "correct", f"2024001-{t:03d}号", c, "--result", "problem",
              "--reason", "录入时选错", "--category", "录入错误", "--rectify-by", "2099-06-30",
              "--as", CLERK)  # fmt: skip
    assert "未发现问题 → 发现问题" in out and "录入错误" in out and "2099-06-30" in out
    out = ssj(db_url, "result", "rectify-by", str(t), c, "2099-07-31", "--reason", "延期",
              "--as", CLERK)  # fmt: skip
    assert "2099-06-30 → 2099-07-31" in out
    shown = ssj(db_url, "task", "show", str(t), "--as", CLERK)
    assert "更正" in shown and "录入错误" in shown and "原因：录入时选错" in shown
    assert "整改期限 2099-07-31" in shown
    assert "与数据表一致" in ssj(db_url, "audit", "replay", "--as", AUDITOR)


# --- result import -----------------------------------------------------------------------------


def _sheet(tmp_path: Path, rows: list[str], name: str = "results.csv") -> Path:
    path = tmp_path / name
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    return path


def test_result_import_records_a_whole_task_in_one_go(db_url, wf, staff, tmp_path):
    t, codes = drawn_task(wf, 3)
    names = refs.Names(wf.engine).targets
    path = _sheet(tmp_path, [
        "统一社会信用代码,检查对象名称,检查结果,检查情况说明,整改期限",
        f"{codes[0]},{names[codes[0]]},未发现问题,,",
        f"{names[codes[1]]},,发现问题,未签劳动合同,2099-06-28",
        f"{codes[2].lower()},,no_problem,现场检查,",
    ])  # fmt: skip
    before = _events(wf)
    out = ssj(db_url, "result", "import", str(path), "--task", "2024001-001号", "--as", CLERK,
              "--dry-run")  # fmt: skip
    assert "校验通过（未写入）" in out and _events(wf) == before
    out = ssj(db_url, "result", "import", str(path), "--task", "2024001-001号", "--as", CLERK)
    assert "录入 3" in out and _events(wf) == before + 3
    recs = _records(wf, t)
    assert [recs[c]["result"] for c in codes] == ["no_problem", "problem", "no_problem"]
    assert recs[codes[1]]["rectify_by"] == "2099-06-28"
    assert recs[codes[1]]["result_note"] == "未签劳动合同"
    out = ssj(db_url, "result", "import", str(path), "--task", str(t), "--as", CLERK)
    assert "未变 3" in out and _events(wf) == before + 3
    assert replay(wf.raw, t).ok
    # Changing a recorded result needs a reason; then one event per changed row.
    changed = _sheet(tmp_path, [
        "抽查任务,统一社会信用代码,检查结果",
        f"2024001-001号,{codes[0]},不配合检查",
    ], "changed.csv")  # fmt: skip
    out = ssj(db_url, "result", "import", str(changed), "--as", CLERK, code=2)
    assert "改动已有结果须说明原因" in out and out.endswith("下一步：用 --reason 给出\n")
    ssj(db_url, "result", "import", str(changed), "--as", CLERK, "--reason", "复核")
    assert _events(wf) == before + 4 and _records(wf, t)[codes[0]]["result"] == "refused"


def test_a_bad_results_file_is_refused_whole_with_row_and_column(db_url, wf, staff, tmp_path):
    t, codes = drawn_task(wf, 2)
    path = _sheet(tmp_path, [
        "统一社会信用代码,检查结果,整改期限",
        f"{codes[0]},未发现问题,",
        "不存在的公司,未发现问题,",
        f"{codes[1]},很好,",
        f"{codes[0]},发现问题,2024-02-30",
    ])  # fmt: skip
    before = _events(wf)
    out = ssj(db_url, "result", "import", str(path), "--task", str(t), "--as", CLERK, code=2)
    assert f"{path}:3:统一社会信用代码: " in out and "不存在的公司" in out
    assert f"{path}:4:检查结果: 应为" in out
    assert f"{path}:5:整改期限: " in out
    assert "未写入任何数据" in out and _events(wf) == before
    assert _records(wf, t)[codes[0]]["result"] is None
    # A row for a target with a group the account's inspector is not in (not a clerk either).
    group = _records(wf, t)[codes[0]]["inspectors"]
    outsider = next(c for c in ("J000", "J001", "J002", "J003") if c not in group)
    add_account(wf, "路人", "inspector", inspector=outsider)
    out = ssj(db_url, "result", "import", str(_sheet(tmp_path, [
        "统一社会信用代码,检查结果", f"{codes[0]},未发现问题"], "b.csv")), "--task", str(t),
        "--as", "路人", code=2)  # fmt: skip
    assert ":2:统一社会信用代码: 路人 不是该检查对象的检查组成员" in out
    out = ssj(db_url, "result", "import", str(path), "--as", CLERK, code=2)
    assert "请在导入时指定任务" in out


def test_result_template_has_the_import_headers(tmp_path):
    from openpyxl import load_workbook

    runner.invoke(app_(), ["template", "results", str(tmp_path / "r.xlsx")], catch_exceptions=False)
    ws = load_workbook(tmp_path / "r.xlsx").active
    assert [c.value for c in ws[1]][:3] == ["统一社会信用代码", "检查对象名称", "检查结果"]


# --- messages ----------------------------------------------------------------------------------


def test_refusals_never_offer_the_trigger_they_refuse_nor_call_a_planned_task_final(
    db_url, wf, staff
):
    t, codes = drawn_task(wf, 1)
    with pytest.raises(TransitionRefused) as e:
        wf.fire(t, "inspect", actor="x")
    msg = str(e.value)
    assert "暂不能执行 inspect" in msg and "未录入检查结果" in msg
    assert "允许的触发器：inspect" not in msg and "下一步" not in msg
    plans.create_plan(wf, "2024002", unit="迁西县人社局", actor="x")
    p = plans.create_task(wf, "2024002", name="n", actor="x")
    with pytest.raises(TransitionRefused) as e:
        wf.fire(p, "inspect", actor="x")
    assert e.value.steps[0].action == "draw.run" and "终态" not in str(e.value)
    assert f"等待抽取（ssj draw {p}）" in ssj(
        db_url, "task", "fire", str(p), "inspect", "--as", CLERK, code=2
    )
    # The draw service refuses a planned task with no commitment: still not "final".
    refused = TransitionRefused(p, "planned", "draw", "抽取承诺值尚未公布", [])
    assert "终态" not in str(refused) and "暂不能执行 draw" in str(refused)
    assert TransitionRefused(p, "closed", "close", "x", []).steps == ()
    shown = ssj(db_url, "task", "show", "2024002-001号", "--as", CLERK)
    assert f"下一步：等待抽取（ssj draw {p}）" in shown
    # The next step asks the guards: what is missing comes first, as a command to run.
    shown = ssj(db_url, "task", "show", str(t), "--as", CLERK)
    assert (
        f"下一步：录入检查结果（ssj result set {t} 信用代码 --result 结果，"
        f"或 ssj result import 文件），然后 ssj task fire {t} inspect"
    ) in shown
    wf.set_result(t, codes[0], "problem", actor="x")
    assert f"下一步：ssj task fire {t} inspect\n" in ssj(
        db_url, "task", "show", str(t), "--as", CLERK
    )
    wf.fire(t, "inspect", actor="x")
    assert (
        f"下一步：公示检查结果（ssj result publish {t} --place 公示位置），"
        f"然后 ssj task fire {t} publicize"
    ) in ssj(db_url, "task", "show", str(t), "--as", CLERK)
    wf.publish(t, place="网站", actor="x")
    wf.fire(t, "publicize", actor="x")
    # A problem: rectify waits on its follow-up; close is ruled out, not suggested.
    shown = ssj(db_url, "task", "show", str(t), "--as", CLERK)
    assert (
        f"下一步：登记后续处置（ssj followup add {t} 信用代码 --outcome 处置结果），"
        f"然后 ssj task fire {t} rectify"
    ) in shown
    assert "close" not in shown.split("下一步：")[1].split("\n")[0]


def test_inspector_row_helper_still_matches_the_directory():
    # Guards the directory layout this file's ad-hoc inspector row relies on.
    assert len(inspector_row("J1")) == 8


def test_refusals_show_stored_times_in_local_time(wf):
    from workflow.sampling import task_draw

    t, c = _published(wf)
    with pytest.raises(InvalidInput, match=r"已于 2024-04-01 09:\d\d 公示"):
        wf.publish(t, place="网站", actor="x", targets=[c])
    t2, _ = drawn_task(wf, 1)
    task_draw.confirm(wf, t2, actor="x")
    with pytest.raises(InvalidInput, match=r"已于 2024-04-01 09:\d\d 确认"):
        task_draw.confirm(wf, t2, actor="x")


def test_the_draw_takes_the_task_as_written_and_names_targets_and_inspectors(db_url, wf, staff):
    from tests.conftest import code

    plans.create_plan(wf, "2024001", unit="迁西县人力资源和社会保障局", actor="x")
    t = plans.create_task(
        wf, "2024001", name="n", actor="x", ratio="1", filters={"region": ["甲区"]}
    )
    c = code(4242)
    people = [inspector_row(f"J00{i}") for i in (1, 2, 3)]
    load_directory(wf, [target_row(c, "甲区")], people)
    plans.publish(wf, "2024001", actor="x")
    out = ssj(db_url, "draw", "2024001-001号", "--as", CLERK)
    assert f"任务 {t} 已抽取" in out
    group = _records(wf, t)[c]["inspectors"]
    assert f"对象{c[-4:]}（{c}）  检查组 人员{group[0]}（{group[0]}）、" in out
    out = ssj(db_url, "draw", "substitute", "2024001-001号", "--target", f"对象{c[-4:]}",
              "--inspector", f"人员{group[0]}", "--reason", "回避", "--as", CLERK)  # fmt: skip
    assert f"检查对象 对象{c[-4:]}（{c}）：人员{group[0]}（{group[0]}） → 人员J00" in out
    now = _records(wf, t)[c]["inspectors"]
    (came,) = set(now) - set(group)
    record = ssj(db_url, "draw", "record", "2024001-001号", "--as", CLERK)
    assert f"检查组 人员{group[0]}（{group[0]}）、" in record  # the published record as drawn
    assert (
        f"已递补：现检查组 {'、'.join(f'人员{x}（{x}）' for x in now)}（人员{group[0]}（{group[0]}）"
        f" 由 人员{came}（{came}） 依递补顺序替换"
    ) in record
    confirm = ssj(db_url, "draw", "confirm", "2024001-001号", "--as", CLERK)
    assert f"任务 {t} 抽取结果已确认" in confirm


def test_an_imported_note_change_keeps_the_rectification_date(db_url, wf, staff, tmp_path):
    t, codes = drawn_task(wf, 1)
    first = _sheet(tmp_path, ["统一社会信用代码,检查结果,检查情况说明,整改期限",
                              f"{codes[0]},发现问题,甲,2099-06-28"], "a.csv")  # fmt: skip
    ssj(db_url, "result", "import", str(first), "--task", str(t), "--as", CLERK)
    second = _sheet(tmp_path, ["统一社会信用代码,检查结果,检查情况说明",
                               f"{codes[0]},发现问题,乙"], "b.csv")  # fmt: skip
    out = ssj(db_url, "result", "import", str(second), "--task", str(t), "--as", CLERK,
              "--reason", "补充说明")  # fmt: skip
    assert "更正 1" in out
    rec = _records(wf, t)[codes[0]]
    assert rec["result_note"] == "乙" and rec["rectify_by"] == "2099-06-28"


def test_the_log_names_the_role_the_recorder_has(db_url, wf):
    """A clerk's entry is logged as the clerk's, an inspector's as the inspector's: the role
    comes from the group and the clerks list unless one is given."""
    t, codes = drawn_task(wf, 2)
    with wf.raw.read() as cur:
        cur.execute(
            wf.raw.sql(
                "SELECT inspectors FROM inspection_record WHERE task_id = ? AND target_code = ?"
            ),
            (t, codes[1]),
        )
        member = json.loads(cur.fetchone()[0])[0]
    wf.set_result(t, codes[0], "problem", actor="x")  # a listed clerk
    wf.set_result(t, codes[1], "no_problem", actor=member)  # in the target's group
    wf.fire(t, "inspect", actor="x")
    wf.add_followup(t, codes[0], "rectified", actor="x")
    events = [
        e
        for e in queries.list_events(wf.engine, t)
        if e["kind"] in ("result_set", "followup_added")
    ]
    assert [(e["actor"], e["role"]) for e in events] == [
        ("x", "clerk"), (member, "inspector"), ("x", "clerk"),
    ]  # fmt: skip
    wf.set_result(t, codes[1], "problem", actor=member, reason="复核", role="clerk")
    assert queries.list_events(wf.engine, t)[-1]["role"] == "clerk"  # stated explicitly
