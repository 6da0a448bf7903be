"""The draw over HTTP, on SQLite and PostgreSQL: running it (If-Match, the public input), its
record as JSON and as the stored file anyone can verify, confirmation, substitution and the
inspection sheets — each as the CLI does it, the refusals writing nothing, the events naming
the account and the request."""

from __future__ import annotations

import hashlib
import io
import json
import zipfile
from typing import Any

from fastapi.testclient import TestClient

from tests.conftest import add_account, drawn_task, planned_task
from tests.web.conftest import bearer, events_after, head_seq, token_of, two_counties
from workflow.core import queries
from workflow.core.writer import Workflow
from workflow.sampling import algorithm, task_draw

PROBLEM = "application/problem+json"


def _events(wf: Workflow, since: int) -> list[dict[str, Any]]:
    """The events after ``since``: kind, actor, the role the account acted in, payload."""
    return [
        {"kind": k, "actor": a, "role": p.get("by", {}).get("role"), "payload": p}
        for k, a, p in events_after(wf, since)
    ]


def _inspector(wf: Workflow, username: str, cert: str) -> dict[str, str]:
    """An inspector's account, linked to its directory entry, and its token's header."""
    add_account(wf, username, "inspector", inspector=cert)
    return token_of(wf, username)


def _etag(api: TestClient, task_id: int, auth: dict[str, str]) -> str:
    r = api.get(f"/api/v1/tasks/{task_id}", headers=auth)
    assert r.status_code == 200, r.text
    etag: str = r.headers["ETag"]
    return etag


def _problem(r, status: int, code: str) -> dict:  # type: ignore[no-untyped-def]
    assert r.status_code == status, r.text
    assert r.headers["content-type"].startswith(PROBLEM)
    body: dict = r.json()
    assert body["code"] == code, body
    return body


def test_the_draw_runs_and_its_record_is_read_downloaded_and_verified(
    api: TestClient, wf: Workflow
) -> None:
    t, codes = planned_task(wf, 3)
    clerk = bearer(wf, "draw-clerk")
    supervisor = bearer(wf, "draw-supervisor", "supervisor")
    etag = _etag(api, t, clerk)
    since = head_seq(wf)
    r = api.post(
        f"/api/v1/tasks/{t}/draw",
        json={"public_input": "2024-04-01 上证指数收盘 3077.38"},
        headers={**clerk, "If-Match": etag},
    )
    assert r.status_code == 200, r.text
    drawn = r.json()
    assert drawn["state"] == "drawn" and drawn["warnings"] == []
    assert r.headers["ETag"] == f'"{drawn["version"]}"' != etag
    record = drawn["record"]
    assert record["algorithm"] == algorithm.ALGORITHM
    assert sorted(t_["code"] for t_ in record["targets"]) == sorted(codes)
    assert all(len(t_["group"]) == 2 for t_ in record["targets"])
    # The event names the account and the request.
    (event,) = [e for e in _events(wf, since) if e["kind"] == "transition"]
    assert event["actor"] == "draw-clerk" and event["role"] == "clerk"
    by = event["payload"]["by"]
    assert by["username"] == "draw-clerk" and by["request_id"] == r.headers["X-Request-ID"]
    # Anyone who reads the work reads the record, as JSON …
    shown = api.get(f"/api/v1/tasks/{t}/draw", headers=supervisor)
    assert shown.status_code == 200 and shown.json() == record
    # … and as the stored file: the bytes whose digest the log holds, which verify alone.
    file = api.get(f"/api/v1/tasks/{t}/draw/record", headers=supervisor)
    assert file.status_code == 200 and file.headers["content-type"] == "application/json"
    disposition = file.headers["content-disposition"]
    assert disposition.startswith("attachment;") and "filename*=UTF-8''" in disposition
    assert hashlib.sha256(file.content).hexdigest() == task_draw.logged_digest(wf, t)
    assert algorithm.verify_record(json.loads(file.content)) == []
    verified = api.get(f"/api/v1/tasks/{t}/draw/verification", headers=supervisor)
    assert verified.json() == {"task": t, "ok": True, "problems": []}
    # The file on its own, uploaded as ``ssj draw verify --file`` reads it: no database asked.
    check = "/api/v1/draw-records/verification"

    def upload(content: bytes) -> Any:
        sent = {"file": ("抽取记录.json", content, "application/json")}
        return api.post(check, files=sent, headers=supervisor)

    assert upload(file.content).json() == {"ok": True, "problems": []}
    tampered = json.loads(file.content)
    tampered["targets"][0]["code"], tampered["targets"][1]["code"] = (
        tampered["targets"][1]["code"], tampered["targets"][0]["code"],
    )  # fmt: skip
    bad = upload(json.dumps(tampered, ensure_ascii=False).encode())
    assert bad.status_code == 200 and bad.json()["ok"] is False and bad.json()["problems"]
    assert bad.json()["problems"] == algorithm.verify_record(tampered)
    _problem(upload(b"not json"), 422, "invalid_input")
    _problem(upload(b"[1, 2]"), 422, "invalid_input")
    # A task is drawn once.
    again = api.post(f"/api/v1/tasks/{t}/draw", json={}, headers=clerk)
    _problem(again, 409, "transition_refused")


def test_a_draw_without_public_input_says_what_that_means(api: TestClient, wf: Workflow) -> None:
    t, _ = planned_task(wf, 1)
    r = api.post(f"/api/v1/tasks/{t}/draw", headers=bearer(wf, "c0"))
    assert r.status_code == 200, r.text
    assert r.json()["warnings"] == [task_draw.NO_PUBLIC_INPUT]
    assert r.json()["record"]["public_input"] == ""


def test_refused_draws_write_nothing(api: TestClient, wf: Workflow) -> None:
    t, _ = planned_task(wf, 2)
    clerk = bearer(wf, "c1")
    etag = _etag(api, t, clerk)
    county = two_counties(wf)[1]
    outsider = bearer(wf, "county-clerk", unit=county)
    inspector = _inspector(wf, "insp", "J000")
    since = head_seq(wf)
    stale = f'"{int(etag.strip(chr(34))) - 1}"'
    body = _problem(
        api.post(f"/api/v1/tasks/{t}/draw", json={}, headers={**clerk, "If-Match": stale}),
        412,
        "precondition_failed",
    )
    assert body["current_version"] == int(etag.strip('"'))
    bad_tag = api.post(f"/api/v1/tasks/{t}/draw", json={}, headers={**clerk, "If-Match": "v1"})
    assert _problem(bad_tag, 422, "invalid_input")["field"] == "If-Match"
    too_long = api.post(f"/api/v1/tasks/{t}/draw", json={"public_input": "x" * 1001}, headers=clerk)
    assert _problem(too_long, 422, "invalid_request")["errors"][0]["field"] == "public_input"
    _problem(api.post(f"/api/v1/tasks/{t}/draw", json={}, headers=inspector), 403, "forbidden")
    _problem(api.post(f"/api/v1/tasks/{t}/draw", json={}, headers=outsider), 403, "forbidden")
    _problem(api.get(f"/api/v1/tasks/{t}/draw", headers=outsider), 403, "forbidden")
    _problem(api.post("/api/v1/tasks/99999/draw", json={}, headers=clerk), 404, "not_found")
    _problem(api.post(f"/api/v1/tasks/{t}/draw", json={}), 401, "unauthenticated")
    # Not drawn yet: no record.
    _problem(api.get(f"/api/v1/tasks/{t}/draw", headers=clerk), 404, "not_found")
    _problem(api.get(f"/api/v1/tasks/{t}/draw/record", headers=clerk), 404, "not_found")
    assert _events(wf, since) == []
    assert queries.show_task(wf.engine, t)["state"] == "planned"


def test_confirm_substitute_and_make_the_sheets(api: TestClient, wf: Workflow) -> None:
    t, codes = drawn_task(wf, 2)
    clerk = bearer(wf, "c2")
    since = head_seq(wf)
    # Sheets come after the confirmation: the refusal offers it as the next step.
    early = _problem(api.post(f"/api/v1/tasks/{t}/sheets", headers=clerk), 422, "invalid_input")
    assert early["next"][0]["action"] == "draw.confirm"
    etag = _etag(api, t, clerk)
    r = api.post(f"/api/v1/tasks/{t}/draw/confirmation", headers={**clerk, "If-Match": etag})
    assert r.status_code == 200, r.text
    confirmed = r.json()
    assert confirmed == {
        "task": t, "drawn_on": "2024-04-01", "due": "2024-04-03", "late": False,
        "version": int(etag.strip('"')) + 1,
    }  # fmt: skip
    assert r.headers["ETag"] == f'"{confirmed["version"]}"'
    twice = api.post(f"/api/v1/tasks/{t}/draw/confirmation", json={}, headers=clerk)
    assert "已于" in _problem(twice, 422, "invalid_input")["detail"]
    # Substitution: the inspector by name, resolved within the target's group.
    group = queries.show_task(wf.engine, t)["records"][0]["inspectors"]
    target = queries.show_task(wf.engine, t)["records"][0]["target_code"]
    r = api.post(
        f"/api/v1/tasks/{t}/draw/substitutions",
        json={"target": target, "inspector": f"人员{group[0]}", "reason": "回避：近亲属任职"},
        headers={**clerk, "If-Match": r.headers["ETag"]},
    )
    assert r.status_code == 200, r.text
    swapped = r.json()
    assert swapped["replaced"] == group[0] and swapped["before"] == group
    assert swapped["after"] == [swapped["substitute"], group[1]]
    now = queries.show_task(wf.engine, t)["records"][0]["inspectors"]
    assert now == swapped["after"]
    # The sheets: one XLSX per target in a zip, the digests the event records.
    r = api.post(f"/api/v1/tasks/{t}/sheets", headers={**clerk, "If-Match": r.headers["ETag"]})
    assert r.status_code == 200, r.text
    assert r.headers["content-type"] == "application/zip"
    assert r.headers["ETag"] == _etag(api, t, clerk)
    assert "filename*=UTF-8''" in r.headers["content-disposition"]
    with zipfile.ZipFile(io.BytesIO(r.content)) as z:
        digests = {n: hashlib.sha256(z.read(n)).hexdigest() for n in z.namelist()}
    kinds = [e["kind"] for e in _events(wf, since)]
    assert kinds == ["draw_confirmed", "inspector_substituted", "sheets_made"]
    made = _events(wf, since)[-1]
    assert {f["file"]: f["sha256"] for f in made["payload"]["files"]} == digests
    assert sorted(f["target_code"] for f in made["payload"]["files"]) == sorted(codes)
    assert all(e["actor"] == "c2" for e in _events(wf, since))


def test_refused_substitutions_and_sheets_write_nothing(api: TestClient, wf: Workflow) -> None:
    t, _ = drawn_task(wf, 2)
    clerk = bearer(wf, "c3")
    inspector = _inspector(wf, "insp3", "J001")
    record = queries.show_task(wf.engine, t)["records"][0]
    target, group = record["target_code"], record["inspectors"]
    since = head_seq(wf)
    url = f"/api/v1/tasks/{t}/draw/substitutions"
    unknown = api.post(
        url, json={"target": target, "inspector": "无此人", "reason": "病假"}, headers=clerk
    )
    assert _problem(unknown, 404, "not_found")["field"] == "inspector"
    nobody = api.post(
        url, json={"target": "不存在的公司", "inspector": group[0], "reason": "病假"}, headers=clerk
    )
    assert _problem(nobody, 404, "not_found")["field"] == "target"
    no_reason = api.post(url, json={"target": target, "inspector": group[0]}, headers=clerk)
    assert _problem(no_reason, 422, "invalid_request")["errors"][0]["field"] == "reason"
    blank = api.post(
        url, json={"target": target, "inspector": group[0], "reason": " "}, headers=clerk
    )
    assert _problem(blank, 422, "invalid_input")["needs"] == "reason"
    control = api.post(
        url, json={"target": target, "inspector": group[0], "reason": "病\x07假"}, headers=clerk
    )
    assert _problem(control, 422, "invalid_request")["errors"][0]["field"] == "reason"
    nul = api.post(f"/api/v1/tasks/{t}/draw/confirmation", json={"reason": "\x00"}, headers=clerk)
    assert _problem(nul, 422, "invalid_request")["errors"][0]["field"] == "reason"
    by_inspector = api.post(
        url, json={"target": target, "inspector": group[0], "reason": "病假"}, headers=inspector
    )
    _problem(by_inspector, 403, "forbidden")
    stale = api.post(
        f"/api/v1/tasks/{t}/draw/confirmation", json={}, headers={**clerk, "If-Match": '"1"'}
    )
    _problem(stale, 412, "precondition_failed")
    assert _events(wf, since) == []
    api.post(f"/api/v1/tasks/{t}/draw/confirmation", headers=clerk).raise_for_status()
    since = head_seq(wf)
    stale = api.post(f"/api/v1/tasks/{t}/sheets", headers={**clerk, "If-Match": '"1"'})
    _problem(stale, 412, "precondition_failed")
    assert _events(wf, since) == []
    # An inspector makes the sheets (sheet.make), as the CLI lets them.
    assert api.post(f"/api/v1/tasks/{t}/sheets", headers=inspector).status_code == 200
    (made,) = _events(wf, since)
    assert made["kind"] == "sheets_made" and made["payload"]["by"]["username"] == "insp3"
