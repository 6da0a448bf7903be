"""Plans and tasks written over HTTP (web/_plans.py), on SQLite and PostgreSQL: creating a
plan (the account's bureau by default, never another's), importing the annual plan table as
clerks fill it, creating tasks, publishing the commitments; refusals name the field and write
nothing, and every event names the account and the request."""

from __future__ import annotations

import io
import re
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from fastapi.testclient import TestClient
from openpyxl import Workbook

from tests.web.conftest import bearer, events_after, head_seq, two_counties
from web import create_app
from workflow.app import AppContext
from workflow.core.clock import FixedClock
from workflow.core.writer import Workflow
from workflow.sampling.plans import PLAN_TABLE

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@pytest.fixture
def client(ctx: AppContext) -> Iterator[TestClient]:
    ctx.clock = FixedClock(datetime(2024, 4, 1, 2, 0, tzinfo=UTC))
    with TestClient(create_app(ctx)) as c:
        yield c


@pytest.fixture
def counties(wf: Workflow) -> dict[str, dict[str, str]]:
    """A clerk in each county (bearer headers by county)."""
    _, a, b = two_counties(wf)
    return {"A": bearer(wf, "clerk-a", "clerk", a), "B": bearer(wf, "clerk-b", "clerk", b)}


def count(wf: Workflow, table: str) -> int:
    with wf.raw.read() as cur:
        cur.execute(f"SELECT COUNT(*) FROM {table}")
        return int(cur.fetchone()[0])


def plan_table(rows: list[dict[str, str]]) -> bytes:
    wb = Workbook()
    ws = wb.active
    ws.append([c.header for c in PLAN_TABLE.cols])
    for r in rows:
        ws.append([r.get(c.header, "") for c in PLAN_TABLE.cols])
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def test_create_plan_in_the_accounts_bureau(
    client: TestClient, wf: Workflow, counties: dict[str, dict[str, str]]
) -> None:
    a, b = counties["A"], counties["B"]
    before = head_seq(wf)
    r = client.post("/api/v1/plans", json={"plan_no": "２０２４００１"}, headers=a)
    assert r.status_code == 201, r.text
    assert r.json() | {"created_at": ""} == {
        "plan_no": "2024001", "name": "2024年甲县人社局随机抽查001", "year": 2024,
        "unit": "甲县人社局", "created_at": "", "published_at": None,
    }  # fmt: skip
    ((kind, actor, payload),) = events_after(wf, before)
    assert (kind, actor) == ("plan_created", "clerk-a")
    assert (
        payload["unit_code"] == "T-A" and payload["by"]["request_id"] == r.headers["X-Request-ID"]
    )
    assert [p["plan_no"] for p in client.get("/api/v1/plans", headers=a).json()["items"]] == [
        "2024001"
    ]
    assert client.get("/api/v1/plans", headers=b).json()["items"] == []
    # Refusals name the field and write nothing.
    before = head_seq(wf)
    other = client.post(
        "/api/v1/plans", json={"plan_no": "2024002", "unit": "乙县人社局"}, headers=a
    )
    assert other.status_code == 403 and other.json()["field"] == "unit"
    bad = client.post("/api/v1/plans", json={"plan_no": "24001"}, headers=a)
    assert bad.status_code == 422 and bad.json()["field"] == "plan_no"
    named = client.post("/api/v1/plans", json={"plan_no": "2024002", "name": "春季抽查"}, headers=a)
    assert named.status_code == 422 and named.json()["field"] == "name"
    # Plan numbers are each bureau's own: 乙县 has a 2024001 of its own, 甲县 not two.
    taken = client.post("/api/v1/plans", json={"plan_no": "2024001"}, headers=a)
    assert taken.status_code == 422 and taken.json()["field"] == "plan_no"
    missing = client.post("/api/v1/plans", json={}, headers=a)
    assert missing.status_code == 422 and missing.json()["errors"][0]["field"] == "plan_no"
    assert head_seq(wf) == before and count(wf, "plan") == 1
    assert client.post("/api/v1/plans", json={"plan_no": "2024001"}, headers=b).status_code == 201
    assert [p["plan_no"] for p in client.get("/api/v1/plans", headers=b).json()["items"]] == [
        "2024001"
    ]
    assert count(wf, "plan") == 2


def test_create_task(client: TestClient, wf: Workflow, counties: dict[str, dict[str, str]]) -> None:
    a, b = counties["A"], counties["B"]
    assert client.post("/api/v1/plans", json={"plan_no": "2024001"}, headers=a).status_code == 201
    task = {
        "plan": "2024001", "name": "劳动合同签订情况抽查", "task_type": "定向", "ratio": "10%",
        "conditions": "信用风险等级=Ｃ,D级；规模=小型企业", "stratum_ratios": "C=20%；D=30%",
        "months": "2024年5月", "office": "劳动保障监察大队", "joining": ["工资福利科"],
    }  # fmt: skip
    before = head_seq(wf)
    r = client.post("/api/v1/tasks", json=task, headers=a)
    assert r.status_code == 201, r.text
    made = r.json()
    assert made | {"id": 0} == {
        "id": 0, "plan_no": "2024001", "task_no": "001号", "name": "劳动合同签订情况抽查",
        "state": "planned", "version": made["version"], "warnings": [],
    }  # fmt: skip
    assert r.headers["ETag"] == f'"{made["version"]}"'
    shown = client.get(f"/api/v1/tasks/{made['id']}", headers=a).json()
    assert shown["task_type"] == "directed" and shown["ratio"] == "0.1"
    assert shown["months"] == "2024-05" and shown["filters"] == {
        "grade": ["C", "D"], "size": ["小型"],
    }  # fmt: skip
    assert shown["stratum_ratios"] == {"C": "0.2", "D": "0.3"}
    ((kind, actor, payload),) = events_after(wf, before)
    assert (kind, actor, payload["by"]["username"]) == ("task_created", "clerk-a", "clerk-a")
    # A field no inspector has is created, with a warning.
    warned = client.post(
        "/api/v1/tasks", json={"plan": "2024001", "name": "工伤保险抽查", "field": "工伤保险"},
        headers=a,
    )  # fmt: skip
    assert warned.status_code == 201 and "工伤保险" in warned.json()["warnings"][0]
    # Refusals name the field and write nothing.
    before, tasks = head_seq(wf), count(wf, "task")
    for change, status, field in (
        ({"conditions": "颜色=红"}, 422, "conditions"),
        ({"stratum_ratios": "C=abc"}, 422, "stratum_ratios"),
        ({"ratio": "1%"}, 422, "ratio"),
        ({"months": "2023-05"}, 422, "months"),
        ({"task_type": "随便"}, 422, "task_type"),
        ({"task_no": "001号"}, 422, None),
        ({"item_codes": ["NO-SUCH"]}, 422, "items"),
        ({"plan": "2099001"}, 404, "plan"),
    ):
        r = client.post("/api/v1/tasks", json=task | change, headers=a)
        assert r.status_code == status, (change, r.text)
        assert r.json().get("field") == field, (change, r.text)
    nul = client.post("/api/v1/tasks", json=task | {"name": "抽查\x00"}, headers=a)
    assert nul.status_code == 422 and nul.json()["errors"][0]["field"] == "name"
    other = client.post("/api/v1/tasks", json=task, headers=b)
    assert other.status_code == 403 and other.json()["field"] == "plan"
    unnamed = client.post("/api/v1/tasks", json={"plan": "2024001"}, headers=a)
    assert unnamed.status_code == 422 and unnamed.json()["errors"][0]["field"] == "name"
    assert head_seq(wf) == before and count(wf, "task") == tasks


def test_publish_plan(
    client: TestClient, wf: Workflow, counties: dict[str, dict[str, str]]
) -> None:
    a, b = counties["A"], counties["B"]
    client.post("/api/v1/plans", json={"plan_no": "2024001"}, headers=a)
    empty = client.post("/api/v1/plans/2024001/publish", headers=a)
    assert empty.status_code == 422 and "没有任务" in empty.json()["detail"]
    for name in ("甲任务", "乙任务"):
        client.post("/api/v1/tasks", json={"plan": "2024001", "name": name}, headers=a)
    before = head_seq(wf)
    other = client.post("/api/v1/plans/2024001/publish", headers=b)
    assert other.status_code == 403 and other.json()["code"] == "forbidden"
    unknown = client.post("/api/v1/plans/2099001/publish", headers=a)
    assert unknown.status_code == 404 and unknown.json()["field"] == "plan"
    assert head_seq(wf) == before
    assert client.get("/api/v1/plans/2024001", headers=a).json()["published_at"] is None
    r = client.post("/api/v1/plans/2024001/publish", headers=a)
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["plan_no"] == "2024001"
    assert [t["task_no"] for t in body["tasks"]] == ["001号", "002号"]
    assert all(re.fullmatch(r"[0-9a-f]{64}", t["commitment"]) for t in body["tasks"])
    events = events_after(wf, before)
    assert [k for k, _, _ in events] == ["draw_committed", "draw_committed", "plan_published"]
    assert {p["by"]["username"] for _, _, p in events} == {"clerk-a"}
    again = client.post("/api/v1/plans/2024001/publish", headers=a)
    assert again.status_code == 422 and "已于" in again.json()["detail"]


def test_import_plan_table_as_clerks_fill_it(
    client: TestClient, wf: Workflow, counties: dict[str, dict[str, str]]
) -> None:
    a = counties["A"]
    row = {"单位": "甲县人社局", "抽查计划编号": "２０２４００３", "抽查类型": "不定向",
           "抽查比例": "5%", "抽查对象范围": "用人单位", "发起处室": "劳动保障监察大队",
           "抽查时间": "2024年6-7月"}  # fmt: skip
    data = plan_table(
        [
            row | {"序号": "1", "抽查任务编号": "001号", "抽查任务名称": "劳动合同抽查"},
            row | {"序号": "2", "抽查任务编号": "００２", "抽查任务名称": "工资支付抽查",
                   "抽查类型": "定向抽查",
                   "定向条件": "信用风险等级=C,D", "抽查比例": "０.１"},
        ]
    )  # fmt: skip
    files = {"file": ("2024年计划.xlsx", data, XLSX)}
    before = head_seq(wf)
    dry = client.post("/api/v1/plans/import", files=files, data={"dry_run": "true"}, headers=a)
    assert dry.status_code == 200 and dry.json()["dry_run"] and head_seq(wf) == before
    r = client.post("/api/v1/plans/import", files=files, headers=a)
    assert r.status_code == 200, r.text
    assert r.json() == {
        "file": "2024年计划.xlsx", "plans_created": ["2024003"], "tasks_created": 2,
        "tasks_unchanged": 0, "dry_run": False, "warnings": [],
    }  # fmt: skip
    events = events_after(wf, before)
    assert [k for k, _, _ in events] == ["plan_created", "task_created", "task_created"]
    assert {(actor, p["by"]["username"]) for _, actor, p in events} == {("clerk-a", "clerk-a")}
    plan = client.get("/api/v1/plans/2024003", headers=a).json()
    assert plan["unit"] == "甲县人社局" and [t["months"] for t in plan["tasks"]] == [
        "2024-06..2024-07", "2024-06..2024-07",
    ]  # fmt: skip
    again = client.post("/api/v1/plans/import", files=files, headers=a)
    assert again.json()["tasks_unchanged"] == 2 and again.json()["tasks_created"] == 0, again.text


def test_bad_plan_table_lists_every_row_and_writes_nothing(
    client: TestClient, wf: Workflow, counties: dict[str, dict[str, str]]
) -> None:
    a, b = counties["A"], counties["B"]
    client.post("/api/v1/plans", json={"plan_no": "2024009"}, headers=b)
    row = {"单位": "甲县人社局", "抽查计划编号": "2024003", "抽查任务名称": "劳动合同抽查",
           "抽查类型": "不定向", "抽查比例": "5%"}  # fmt: skip
    data = plan_table(
        [
            row | {"序号": "1"},
            row | {"序号": "2", "抽查计划编号": "2024X"},
            row | {"序号": "3", "抽查比例": "很多"},
            row | {"序号": "4", "抽查计划编号": "2024004", "单位": "乙县人社局"},
            row | {"序号": "5", "抽查计划编号": "2024009", "单位": "乙县人社局"},
            row | {"序号": "6", "抽查时间": "2023年5月"},
        ]
    )  # fmt: skip
    before, plans, tasks = head_seq(wf), count(wf, "plan"), count(wf, "task")
    r = client.post("/api/v1/plans/import", files={"file": ("计划.xlsx", data, XLSX)}, headers=a)
    assert r.status_code == 422, r.text
    body = r.json()
    assert body["code"] == "import_rejected" and "/tmp" not in r.text
    found = {(e["row"], e["column"]) for e in body["errors"]}
    assert found == {
        (3, "抽查计划编号"), (4, "抽查比例"), (5, "单位"), (6, "单位"), (7, "抽查时间"),
    }  # fmt: skip
    by_row = {e["row"]: e for e in body["errors"]}
    assert by_row[3]["value"] == "2024X" and by_row[3]["file"] == "计划.xlsx"
    assert "不在账号 clerk-a 所属单位" in by_row[5]["message"]
    # 乙县's own 2024009: its bureau, not its number, is what 甲县's clerk may not touch.
    assert "乙县人社局" in by_row[6]["message"] and "不在账号 clerk-a" in by_row[6]["message"]
    assert (head_seq(wf), count(wf, "plan"), count(wf, "task")) == (before, plans, tasks)
