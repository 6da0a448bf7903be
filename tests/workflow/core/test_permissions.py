"""Who may do what (DESIGN §8): the role × action matrix is declared for every action, keeps the
rules the design states, and refuses with a reason; an event written while an account is bound
names the account (its actor, role and ``payload.by``), scheduled work keeps its own actor and
role, and an inspector's account records only the results of its own groups."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from tests.conftest import add_account, add_office, drawn_task
from workflow.core import accounts, audit, identity, permissions, queries
from workflow.core.actions import ACTIONS
from workflow.core.config import Settings
from workflow.core.errors import Forbidden, InvalidInput, Unauthenticated
from workflow.core.identity import Actor
from workflow.core.permissions import ACCOUNT_ROLES, MATRIX, ROLES
from workflow.core.writer import Workflow
from workflow.deadlines import sweep

SH = ZoneInfo("Asia/Shanghai")

# Actions that change nothing in the database: reading, checking, exporting, a blank template.
READ_ONLY = {a for a in ACTIONS if a.endswith(".read")} | {
    "directory.export",
    "directory.template",
    "audit.verify",
    "audit.replay",
    "audit.export",
    "audit.checkpoint",
}
# Each person's own credentials: the own password, the own API tokens.
OWN = {"account.self", "token.manage"}
# The work on plans, tasks, draws, results and directories.
TASK_WORK = {
    a
    for a in ACTIONS
    if a.split(".")[0] in {"plan", "task", "draw", "sheet", "result", "followup", "directory"}
} - READ_ONLY


def allowed(role: str) -> set[str]:
    return {a for a, roles in MATRIX.items() if role in roles}


def writes(role: str) -> set[str]:
    return allowed(role) - READ_ONLY - OWN


def an_actor(role: str, username: str = "某人") -> Actor:
    return Actor(7, username, "某人", role, 1, "000000", "/1/")


# ---------------------------------------------------------------------------------------------
# The matrix


def test_the_matrix_is_declared_for_every_action_and_names_only_known_roles() -> None:
    assert set(MATRIX) == set(ACTIONS)
    for action, roles in MATRIX.items():
        assert roles <= set(ROLES), action
        assert roles, f"{action}: no role may take it"
        assert permissions.roles_for(action) == [r for r in ROLES if r in roles]
    assert set(ACCOUNT_ROLES) == set(ROLES) - {"public"}
    with pytest.raises(ValueError, match=r"undeclared action 'draw\.runn'"):
        permissions.allowed("clerk", "draw.runn")


def test_the_auditor_reads_and_checks_the_log_and_writes_nothing() -> None:
    assert writes("auditor") == set()
    assert not allowed("auditor") & TASK_WORK
    assert {"audit.verify", "audit.replay", "audit.export", "audit.checkpoint", "audit.read"} <= (
        allowed("auditor")
    )


def test_the_supervisor_reads_everything_of_the_work_and_submits_reports_only() -> None:
    assert writes("supervisor") == {"report.submit"}
    assert {
        "task.read", "plan.read", "draw.read", "deadline.read", "report.read", "directory.read",
        "outbox.read", "audit.read",
    } <= allowed("supervisor")  # fmt: skip
    # The office's clerk sends the monthly form (seed 000: 填表人); the supervisor may too.
    assert permissions.roles_for("report.submit") == ["clerk", "supervisor"]


def test_the_public_may_do_nothing_yet() -> None:
    assert allowed("public") == set()


def test_the_inspector_records_results_but_does_not_draw_or_publish() -> None:
    assert {"result.set", "result.import", "followup.add"} <= allowed("inspector")
    assert writes("inspector") <= {"result.set", "result.import", "followup.add", "sheet.make"}
    for action in ("draw.run", "draw.confirm", "draw.substitute", "plan.create", "plan.publish",
                   "task.create", "task.fire", "result.publish", "result.correct",
                   "directory.import"):  # fmt: skip
        assert not permissions.allowed("inspector", action), action


def test_only_the_administrator_manages_accounts_and_units_and_does_no_task_work() -> None:
    for action in ("user.manage", "user.read", "unit.manage", "init"):
        assert permissions.roles_for(action) == ["admin"], action
    assert not allowed("admin") & TASK_WORK
    # The clerk does the task work; only an administrator touches accounts and units.
    assert allowed("clerk") >= TASK_WORK
    assert not allowed("clerk") & {"user.manage", "user.read", "unit.manage", "init"}


def test_every_account_manages_its_own_password_and_tokens() -> None:
    for role in ACCOUNT_ROLES:
        assert allowed(role) >= OWN, role


def test_require_says_who_is_missing_or_why_the_role_may_not() -> None:
    with pytest.raises(Unauthenticated, match="随机抽取需要登录") as e:
        permissions.require(None, "draw.run")
    assert e.value.fields["action"] == "draw.run"
    for role in ACCOUNT_ROLES:
        who = an_actor(role, "王五")
        if permissions.allowed(role, "draw.run"):
            assert permissions.require(who, "draw.run") is who
            continue
        with pytest.raises(Forbidden) as refused:
            permissions.require(who, "draw.run")
        message = str(refused.value)
        assert f"账号 王五（{ROLES[role]}）无权随机抽取" in message, message
        assert message.endswith("该操作限于 录入员")
        assert refused.value.fields == {"action": "draw.run", "role": role}
    with pytest.raises(Forbidden, match="该操作限于 督办、审计"):
        permissions.require(an_actor("clerk"), "audit.read")


# ---------------------------------------------------------------------------------------------
# Events name the account


def _append(wf: Workflow, actor: str, role: str) -> dict:  # type: ignore[type-arg]
    with wf.raw.write() as cur:
        head = audit.read_head(cur, wf.raw.sql)
        audit.append(cur, wf.raw.sql, head, at=wf.event_time(), actor=actor, role=role,
                     task_id=None, kind="calendar_uncovered", payload={"years": [2099]})  # fmt: skip
    return queries.list_events(wf.engine)[-1]


def test_an_event_written_as_an_account_names_it_and_system_work_keeps_its_actor(
    wf: Workflow,
) -> None:
    add_account(wf, "王芳", "clerk", name="王芳芳")
    with wf.raw.read() as cur:
        fang = accounts.actor(cur, wf.raw.sql, "王芳")
    # Unbound (engine-level use): as the writer said, with no ``by``.
    plain = _append(wf, "typed", "clerk")
    assert (plain["actor"], plain["role"]) == ("typed", "clerk") and "by" not in plain["payload"]
    with identity.acting_as(fang):
        # The account, whatever name or role the caller typed.
        e = _append(wf, "冒名顶替", "supervisor")
        assert (e["actor"], e["role"]) == ("王芳", "clerk")
        assert e["payload"] == {"years": [2099], "by": fang.record()}
        assert fang.record() == {"account": fang.id, "username": "王芳", "name": "王芳芳",
                                 "role": "clerk", "unit": "000000"}  # fmt: skip
        # Scheduled work keeps its actor and role; ``by`` names who ran it.
        s = _append(wf, "system", "system")
        assert (s["actor"], s["role"]) == ("system", "system")
        assert s["payload"]["by"]["username"] == "王芳"
    # Over HTTP the request's id is kept too.
    with identity.acting_as(fang.with_request("req-42")):
        r = _append(wf, "x", "clerk")
    assert r["payload"]["by"] == {**fang.record(), "request_id": "req-42"}
    # The binding ends with its block.
    assert identity.current() is None
    assert "by" not in _append(wf, "typed", "clerk")["payload"]
    assert audit.verify_db(wf.raw).ok


def test_the_scheduled_sweep_writes_as_the_system_account(wf: Workflow, clock, tmp_path) -> None:  # type: ignore[no-untyped-def]
    office = "劳动保障监察大队"
    clock.set(datetime(2024, 4, 1, 9, tzinfo=SH))
    add_office(wf, office)
    drawn_task(wf, 2, email=True, initiating_office=office, months="2024-04")
    settings = Settings.model_validate(
        {
            "escalation": {"supervisor_name": "李局长", "supervisor_email": "sup@bureau.test"},
            "mail": {"transport": "maildir", "maildir": str(tmp_path / "mail")},
        }
    )
    with wf.raw.read() as cur:
        system = accounts.system_actor(cur, wf.raw.sql)
    assert (system.username, system.role, system.unit_code) == ("system", "system", "000000")
    before = wf.head().seq
    with identity.acting_as(system):
        r = sweep.run(wf, settings, datetime(2024, 4, 10, 9, tzinfo=SH), deliver=False)
    assert r.steps["overdue"] >= 1
    written = [e for e in queries.list_events(wf.engine) if e["seq"] > before]
    assert written and {(e["actor"], e["role"]) for e in written} == {("ssj-sweep", "system")}
    assert {json.dumps(e["payload"]["by"], sort_keys=True) for e in written} == {
        json.dumps(system.record(), sort_keys=True)
    }


# ---------------------------------------------------------------------------------------------
# Who records a result, with an account bound


def test_an_inspector_account_records_only_its_own_groups_results(wf: Workflow) -> None:
    # A person in one target's group and not in another's. The draw's secret is random, so
    # four targets may (one time in 216) all get the same pair of the four inspectors: draw
    # again until two groups differ rather than depend on the luck of one draw.
    for _ in range(20):
        t, codes = drawn_task(wf, 4)
        groups = {
            r["target_code"]: r["inspectors"] for r in queries.show_task(wf.engine, t)["records"]
        }
        found = next(
            ((a, b, m) for a in codes for b in codes for m in groups[a] if m not in groups[b]),
            None,
        )
        if found:
            break
    assert found, "twenty draws in a row gave every target the same group"
    mine, other, member = found
    add_account(wf, "检查员", "inspector", inspector=member)
    add_account(wf, "督办员", "supervisor")
    add_account(wf, "录入员", "clerk")

    def bound(username: str) -> Actor:
        with wf.raw.read() as cur:
            return accounts.actor(cur, wf.raw.sql, username)

    with identity.acting_as(bound("检查员")):
        wf.set_result(t, mine, "no_problem", actor="检查员")
        # The account decides, not the name typed: "x" is one of the engine's clerks
        # (tests/conftest.py CLERKS), which counts only when no account is bound.
        with pytest.raises(InvalidInput, match=r"不是检查对象 .* 的检查组成员"):
            wf.set_result(t, other, "no_problem", actor="x")
    with identity.acting_as(bound("督办员")), pytest.raises(InvalidInput, match="也不是录入员"):
        wf.set_result(t, other, "no_problem", actor="x")
    with identity.acting_as(bound("录入员")):
        wf.set_result(t, other, "problem", actor="录入员")
    logged = [
        (e["actor"], e["role"], e["payload"]["target_code"])
        for e in queries.list_events(wf.engine, t)
        if e["kind"] == "result_set"
    ]
    assert logged == [("检查员", "inspector", mine), ("录入员", "clerk", other)]


def test_docs_state_the_roles_and_by(tmp_path: Path) -> None:
    """docs/AUDIT.md names every role an event may carry and what ``payload.by`` holds."""
    doc = (Path(__file__).resolve().parents[3] / "docs" / "AUDIT.md").read_text(encoding="utf-8")
    row = next(line for line in doc.splitlines() if line.startswith("| `actor`, `role` |"))
    assert all(f"`{role}`" in row for role in (*ACCOUNT_ROLES, "system"))
    assert '`payload.by` is `{"account", "username", "name", "role", "unit", "request_id"?}`' in doc
    assert set(Actor(1, "u", "n", "clerk", 1, "c", "/1/", None, "r").record()) == {
        "account", "username", "name", "role", "unit", "request_id",
    }  # fmt: skip
