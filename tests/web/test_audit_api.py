"""The audit log over HTTP, on SQLite and PostgreSQL: searched by task, account, kind and
time within the account's subtree (paged by seq), a task replayed as of a moment, the whole
log exported as JSON Lines (streamed, verifiable offline), checkpoints signed out and checked
— each with its failures as problem+json naming the field, and nothing written."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.web.bureaus import BAOFENG, LUSHAN, Bureaus, at, bearer, city_with_two_counties
from tests.web.bureaus import event_count as events
from web import create_app
from workflow.app import AppContext
from workflow.core import audit
from workflow.core.clock import FixedClock
from workflow.core.writer import Workflow


@pytest.fixture
def client(ctx: AppContext) -> Iterator[TestClient]:
    ctx.clock = FixedClock(at(4, 8, 10))
    with TestClient(create_app(ctx)) as c:
        yield c


@pytest.fixture
def bureaus(wf: Workflow, clock: FixedClock, tmp_path: Path) -> Bureaus:
    return city_with_two_counties(wf, clock, tmp_path)


def _problem(r: Any, status: int, code: str, field: str | None = None) -> dict[str, Any]:
    assert r.status_code == status, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    body: dict[str, Any] = r.json()
    assert body["code"] == code, body
    if field is not None:
        assert body.get("field") == field or field in {e["field"] for e in body.get("errors", [])}
    return body


def _all(client: TestClient, auth: dict[str, str], **params: Any) -> list[dict[str, Any]]:
    """Every page of a search, following next_after."""
    out: list[dict[str, Any]] = []
    after = None
    while True:
        page_params = params | {"limit": 7} | ({"after": after} if after is not None else {})
        r = client.get("/api/v1/audit/events", params=page_params, headers=auth)
        assert r.status_code == 200, r.text
        out += r.json()["items"]
        after = r.json()["next_after"]
        if after is None:
            return out


def _result(client: TestClient, wf: Workflow, task: int, result: str = "未发现问题") -> Any:
    shown = client.get(f"/api/v1/tasks/{task}", headers=bearer(wf, "bf-clerk")).json()
    target = shown["records"][0]["target_code"]
    return client.post(
        f"/api/v1/tasks/{task}/results",
        json={"target": target, "result": result},
        headers=bearer(wf, "bf-clerk"),
    )


# --- the log searched ----------------------------------------------------------------------


def test_a_county_sees_its_own_tasks_events_and_the_city_everything(
    client: TestClient, wf: Workflow, bureaus: Bureaus
) -> None:
    mine, theirs = bureaus.tasks[BAOFENG], bureaus.tasks[LUSHAN]
    county = _all(client, bearer(wf, "bf-auditor"))
    assert county and {e["task_id"] for e in county} == {mine}  # no unit or account events
    city = _all(client, bearer(wf, "city-auditor"))
    assert [e["seq"] for e in city] == list(range(1, events(wf) + 1))
    assert {e["task_id"] for e in city} >= {mine, theirs, None}
    assert [e["seq"] for e in county] == [e["seq"] for e in city if e["task_id"] == mine]
    # The supervisor reads the log too; the clerk does not.
    assert (
        client.get("/api/v1/audit/events", headers=bearer(wf, "bf-supervisor")).status_code == 200
    )
    _problem(client.get("/api/v1/audit/events", headers=bearer(wf, "bf-clerk")), 403, "forbidden")
    assert client.get("/api/v1/audit/events").status_code == 401


def test_the_log_filtered_by_task_account_kind_and_time(
    ctx: AppContext, client: TestClient, wf: Workflow, bureaus: Bureaus
) -> None:
    mine = bureaus.tasks[BAOFENG]
    assert _result(client, wf, mine).status_code == 200
    auth = bearer(wf, "city-auditor")
    by_task = _all(client, auth, task=str(mine))
    assert by_task and {e["task_id"] for e in by_task} == {mine}
    assert by_task[-1]["kind"] == "result_set"
    assert by_task[-1]["payload"]["by"]["username"] == "bf-clerk"
    by_ref = _all(client, auth, task="2024001-001号")
    assert [e["seq"] for e in by_ref] == [e["seq"] for e in by_task]
    by_actor = _all(client, auth, actor="bf-clerk")
    assert [e["kind"] for e in by_actor] == ["result_set"]
    units_added = _all(client, auth, kind="unit_added")
    assert len(units_added) == 4 and {e["kind"] for e in units_added} == {"unit_added"}
    # Times in Beijing or UTC, bounds included: the result was set at the context's clock
    # (2024-04-08 10:00 Beijing), the tree and its tasks made on 04-01.
    every = _all(client, auth)
    window = _all(client, auth, since="2024-04-08T00:00", until="2024-04-08T02:00:00Z")
    assert [e["kind"] for e in window] == ["result_set"]
    until = _all(client, auth, until="2024-04-07T23:59:59+08:00")
    assert until == [e for e in every if e["time"] < "2024-04-07T16:00"]
    assert {e["kind"] for e in until} >= {"unit_added", "task_created", "draw_committed"}
    since = _all(client, auth, since="2024-04-08T10:00")
    assert since == [e for e in every if e["time"] >= "2024-04-08T02:00"]


def test_a_bad_filter_names_its_field(client: TestClient, wf: Workflow, bureaus: Bureaus) -> None:
    auth = bearer(wf, "bf-auditor")
    url = "/api/v1/audit/events"
    _problem(client.get(url, params={"kind": "no_such_kind"}, headers=auth), 422, "invalid_input",
             "kind")  # fmt: skip
    _problem(client.get(url, params={"since": "yesterday"}, headers=auth), 422, "invalid_input",
             "since")  # fmt: skip
    _problem(client.get(url, params={"until": "2024-13-01"}, headers=auth), 422, "invalid_input",
             "until")  # fmt: skip
    _problem(client.get(url, params={"limit": 501}, headers=auth), 422, "invalid_request", "limit")
    other = client.get(url, params={"task": str(bureaus.tasks[LUSHAN])}, headers=auth)
    _problem(other, 403, "forbidden")  # another county's task
    _problem(client.get(url, params={"task": "999999"}, headers=auth), 404, "not_found")


# --- replay --------------------------------------------------------------------------------


def test_a_task_replayed_now_and_as_of_a_past_moment(
    client: TestClient, wf: Workflow, bureaus: Bureaus
) -> None:
    mine = bureaus.tasks[BAOFENG]
    # The token first: "as of" is the log's prefix up to the last event stamped by then, and
    # a token's event is stamped with the workflow's clock (04-01).
    auth = bearer(wf, "bf-auditor")
    assert _result(client, wf, mine).status_code == 200
    now = client.get(f"/api/v1/audit/replay/{mine}", headers=auth)
    assert now.status_code == 200, now.text
    body = now.json()
    assert body["state"] == "drawn" and body["ok"] is True and body["compared_with_tables"]
    assert body["as_of"] is None and body["mismatches"] == []
    record = body["records"][0]
    assert record["result"] == "no_problem" and record["target_name"].startswith(BAOFENG)
    assert len(record["group"]) == 2 and all(n for n in record["group_names"])
    # As of Friday 04-05 (before the result): drawn, no result; not compared with the tables.
    then = client.get(f"/api/v1/audit/replay/{mine}", params={"at": "2024-04-05"}, headers=auth)
    past = then.json()
    assert past["state"] == "drawn" and past["compared_with_tables"] is False
    assert past["as_of"] == "2024-04-04T16:00:00.000000Z"
    assert {r["result"] for r in past["records"]} == {None}
    assert past["records"][0]["group"] == record["group"]
    # Before the task existed.
    before = client.get(f"/api/v1/audit/replay/{mine}", params={"at": "2024-03-01"}, headers=auth)
    assert before.json()["state"] is None and before.json()["records"] == []


def test_replay_refuses_other_units_unknown_tasks_and_bad_moments(
    client: TestClient, wf: Workflow, bureaus: Bureaus
) -> None:
    auth = bearer(wf, "bf-auditor")
    _problem(client.get(f"/api/v1/audit/replay/{bureaus.tasks[LUSHAN]}", headers=auth), 403,
             "forbidden")  # fmt: skip
    _problem(client.get("/api/v1/audit/replay/999999", headers=auth), 404, "not_found")
    _problem(client.get(f"/api/v1/audit/replay/{bureaus.tasks[BAOFENG]}", params={"at": "soon"},
                        headers=auth), 422, "invalid_input", "at")  # fmt: skip
    _problem(client.get(f"/api/v1/audit/replay/{bureaus.tasks[BAOFENG]}",
                        headers=bearer(wf, "bf-supervisor")), 403, "forbidden")  # fmt: skip


# --- export --------------------------------------------------------------------------------


def test_the_whole_log_is_exported_as_json_lines_that_verify(
    client: TestClient, wf: Workflow, bureaus: Bureaus
) -> None:
    auth = bearer(wf, "city-auditor")
    with client.stream("GET", "/api/v1/audit/export", headers=auth) as r:
        assert r.status_code == 200
        assert r.headers["content-type"].startswith("application/jsonl")
        assert 'filename="ssj-audit-20240408T020000Z.jsonl"' in r.headers["content-disposition"]
        lines = list(r.iter_lines())
    assert len(lines) == events(wf)
    result = audit.verify_rows(audit.rows_from_export(lines))
    assert result.ok and result.events == events(wf)
    expected = audit.export_lines(audit.iter_db_rows(wf.raw))  # what `ssj audit export` writes
    assert [line + "\n" for line in lines] == list(expected)


def test_only_the_root_units_auditors_export_the_whole_log(
    client: TestClient, wf: Workflow, bureaus: Bureaus
) -> None:
    body = _problem(client.get("/api/v1/audit/export", headers=bearer(wf, "bf-auditor")), 403,
                    "forbidden")  # fmt: skip
    assert "涉及全部单位" in body["detail"]
    _problem(client.get("/api/v1/audit/export", headers=bearer(wf, "city-supervisor")), 403,
             "forbidden")  # fmt: skip


# --- checkpoints ---------------------------------------------------------------------------


def test_a_checkpoint_signed_out_then_checked_against_the_log(
    client: TestClient, wf: Workflow, bureaus: Bureaus
) -> None:
    auth = bearer(wf, "bf-auditor")  # the head of the chain is no unit's secret
    before = events(wf)
    r = client.post("/api/v1/audit/checkpoints", json={"signed_by": "审计员甲"}, headers=auth)
    assert r.status_code == 201, r.text
    cp = r.json()
    assert cp["seq"] == before and cp["signed_by"] == "审计员甲"
    assert cp["algorithm"] == audit.ALGORITHM and cp["exported_at"] == "2024-04-08T02:00:00.000000Z"
    assert events(wf) == before  # signing out a checkpoint writes nothing
    assert _result(client, wf, bureaus.tasks[BAOFENG]).status_code == 200  # the log grows
    checked = client.get("/api/v1/audit/checkpoints/check",
                         params={"seq": cp["seq"], "hash": cp["hash"]}, headers=auth)  # fmt: skip
    assert checked.status_code == 200 and checked.json()["ok"] is True
    forged = client.get("/api/v1/audit/checkpoints/check",
                        params={"seq": cp["seq"], "hash": "0" * 64}, headers=auth)  # fmt: skip
    assert forged.json()["ok"] is False and forged.json()["first_bad_seq"] == cp["seq"]
    beyond = client.get("/api/v1/audit/checkpoints/check",
                        params={"seq": 10**6, "hash": cp["hash"]}, headers=auth).json()  # fmt: skip
    assert beyond["ok"] is False and "截断" in beyond["reason"]
    bare = client.post("/api/v1/audit/checkpoints", headers=auth)
    assert bare.status_code == 201 and bare.json()["signed_by"] is None


def test_no_checkpoint_of_a_broken_chain_and_bad_checkpoints_name_the_field(
    client: TestClient, wf: Workflow, bureaus: Bureaus
) -> None:
    auth = bearer(wf, "city-auditor")
    url = "/api/v1/audit/checkpoints/check"
    _problem(client.get(url, params={"seq": 1, "hash": "xyz"}, headers=auth), 422,
             "invalid_request", "hash")  # fmt: skip
    _problem(client.get(url, params={"seq": -1, "hash": "0" * 64}, headers=auth), 422,
             "invalid_request", "seq")  # fmt: skip
    _problem(client.post("/api/v1/audit/checkpoints", json={"signed_by": "x" * 101},
                         headers=auth), 422, "invalid_request", "signed_by")  # fmt: skip
    _problem(client.post("/api/v1/audit/checkpoints", headers=bearer(wf, "city-supervisor")),
             403, "forbidden")  # fmt: skip
    from tests.workflow.core.test_audit import _drop_append_only

    _drop_append_only(wf.engine)  # someone with the database's admin rights edits an event
    with wf.raw.write() as cur:
        cur.execute("UPDATE event SET reason = 'edited' WHERE seq = 3")
    broken = client.post("/api/v1/audit/checkpoints", json={}, headers=auth)
    body = _problem(broken, 409, "conflict")
    assert body["first_bad_seq"] == 3 and "不能签出检查点" in body["detail"]
    verify = client.get("/api/v1/audit/verify", headers=auth).json()
    assert verify["ok"] is False and verify["first_bad_seq"] == 3
