"""Accounts over HTTP (DESIGN §8), on SQLite and PostgreSQL: sessions with CSRF, rotation,
logout and throttling; bearer tokens; every route × every role against the one matrix;
cross-unit access; If-Match on task writes; events naming the account and the request id;
no password in any log line."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient

from tests.conftest import add_account, drawn_task
from web import create_app
from workflow.app import AppContext
from workflow.core import permissions, units
from workflow.core.writer import Workflow

PASSWORD = "correct-horse-9"


@pytest.fixture
def client(ctx: AppContext) -> Iterator[TestClient]:
    with TestClient(create_app(ctx)) as c:
        yield c


@pytest.fixture
def task(wf: Workflow) -> tuple[int, list[str]]:
    return drawn_task(wf)


def _office(wf: Workflow) -> str:
    """A county of its own (root → city → county): its accounts do not see the root's tasks.
    (An office's accounts act over their bureau: offices are parts of it.)"""
    with wf.raw.write() as cur:
        sql, now = wf.raw.sql, wf.event_time()
        root = units.root(cur, sql)
        units.update(cur, sql, root.code, {"kind": "province"}, actor="测试", now=now, reason=None)
        for new in (
            units.NewUnit("T-CITY", "测试市", "city", root.code),
            units.NewUnit("T-COUNTY", "测试县", "county", "T-CITY"),
        ):
            units.insert(cur, sql, new, actor="测试", now=now, reason=None)
    return "T-COUNTY"


def _login(client: TestClient, username: str, password: str = PASSWORD) -> Any:
    return client.post("/api/v1/session", json={"username": username, "password": password})


def _token(client: TestClient, username: str) -> str:
    r = _login(client, username)
    assert r.status_code == 200, r.text
    csrf = r.json()["csrf_token"]
    made = client.post("/api/v1/tokens", json={"name": "测试"}, headers={"X-CSRF-Token": csrf})
    assert made.status_code == 201, made.text
    client.delete("/api/v1/session")
    client.cookies.clear()
    token: str = made.json()["token"]
    return token


def test_anonymous_gets_401_problem(client: TestClient, wf: Workflow) -> None:
    r = client.get("/api/v1/tasks")
    assert r.status_code == 401
    assert r.headers["content-type"].startswith("application/problem+json")
    assert r.json()["code"] == "unauthenticated"
    assert r.headers["www-authenticate"] == 'Bearer realm="ssj"'


def test_session_cookie_csrf_logout_and_rotation(
    client: TestClient, wf: Workflow, task: tuple[int, list[str]]
) -> None:
    add_account(wf, "clerk1", "clerk", password=PASSWORD)
    r = _login(client, "clerk1")
    assert r.status_code == 200
    cookie = r.headers["set-cookie"]
    assert "HttpOnly" in cookie and "SameSite=lax" in cookie
    first = client.cookies.get("ssj_session")
    csrf = r.json()["csrf_token"]
    assert client.get("/api/v1/me").json()["csrf_token"] == csrf
    task_id, codes = task
    body = {"target": codes[0], "result": "未发现问题"}
    # A write with the cookie but without the CSRF token is refused and writes nothing.
    refused = client.post(f"/api/v1/tasks/{task_id}/results", json=body)
    assert refused.status_code == 403 and refused.json()["code"] == "csrf_failed"
    assert client.get(f"/api/v1/tasks/{task_id}").json()["records"][0]["result"] is None
    ok = client.post(f"/api/v1/tasks/{task_id}/results", json=body, headers={"X-CSRF-Token": csrf})
    assert ok.status_code == 200, ok.text
    # Logging in again rotates the id: the old cookie no longer works.
    again = _login(client, "clerk1")
    assert again.status_code == 200
    assert client.cookies.get("ssj_session") != first
    stale = TestClient(client.app, cookies={"ssj_session": first or ""})
    assert stale.get("/api/v1/tasks").status_code == 401
    # Logout ends the session for whoever holds the cookie (a stolen copy included).
    stolen = client.cookies.get("ssj_session") or ""
    assert client.delete("/api/v1/session").status_code == 204
    thief = TestClient(client.app, cookies={"ssj_session": stolen})
    assert thief.get("/api/v1/tasks").status_code == 401


def test_login_throttled_after_repeated_failures(client: TestClient, wf: Workflow) -> None:
    add_account(wf, "clerk2", "clerk", password=PASSWORD)
    for _ in range(5):
        assert _login(client, "clerk2", "wrong-password").status_code == 401
    r = _login(client, "clerk2")  # the right password, but locked out for the window
    assert r.status_code == 429
    assert r.json()["code"] == "too_many_attempts"


def test_bearer_token_and_revocation(client: TestClient, wf: Workflow) -> None:
    add_account(wf, "auditor1", "auditor", password=PASSWORD)
    token = _token(client, "auditor1")
    auth = {"Authorization": f"Bearer {token}"}
    assert client.get("/api/v1/audit/verify", headers=auth).json()["ok"] is True
    second = _token(client, "auditor1")
    page = client.get("/api/v1/tokens?limit=1", headers=auth).json()
    assert page["next_after"] == 1
    rest = client.get("/api/v1/tokens?limit=1&after=1", headers=auth).json()
    assert rest["next_after"] is None
    listed = page["items"] + rest["items"]
    assert [t["prefix"] for t in listed] == [t[: len("ssj_") + 12] for t in (token, second)]
    assert token not in json.dumps(listed) and second not in json.dumps(listed)
    assert client.delete(f"/api/v1/tokens/{listed[0]['prefix']}", headers=auth).status_code == 204
    assert client.get("/api/v1/audit/verify", headers=auth).status_code == 401
    bad = client.get("/api/v1/tasks", headers={"Authorization": "Bearer nonsense"})
    assert bad.status_code == 401


def _routes(client: TestClient) -> list[tuple[str, str, str]]:
    """Every API route that declares an action: (method, path, action)."""
    from web import API_PREFIX
    from web._api import router

    def walk(routes: list[Any]) -> Iterator[APIRoute]:
        for r in routes:
            if isinstance(r, APIRoute):
                yield r
            elif hasattr(r, "original_router"):  # FastAPI's lazily included routers
                yield from walk(r.original_router.routes)

    out = []
    for route in walk(router.routes):
        for dep in route.dependant.dependencies:
            name = getattr(dep.call, "__name__", "")
            if name.startswith("authorized_"):
                action = next(a for a in permissions.MATRIX if a.replace(".", "_") == name[11:])
                path = route.path if route.path.startswith(API_PREFIX) else API_PREFIX + route.path
                out.extend((m, path, action) for m in sorted(route.methods))
    return out


def _sheet(kind: str) -> bytes:
    """A blank import template (``plans``: the plan table) as bytes."""
    import tempfile
    from pathlib import Path

    from workflow.sampling import directories, plans, unit_table

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / ("t.csv" if kind != "plans" else "t.xlsx")
        if kind == "plans":
            plans.write_plan_template(path)
        elif kind == "units":
            unit_table.write_template(path)
        else:
            directories.write_table(directories.KINDS[kind], path, [])
        return path.read_bytes()


def test_every_route_by_every_role(
    client: TestClient, wf: Workflow, task: tuple[int, list[str]]
) -> None:
    task_id, codes = task
    tokens = {}
    for role in permissions.ACCOUNT_ROLES:
        add_account(wf, f"r-{role}", role, password=PASSWORD,
                    inspector="J000" if role == "inspector" else None)  # fmt: skip
        tokens[role] = _token(client, f"r-{role}")
    add_account(wf, "r-target", "clerk", password=PASSWORD)  # the account the admin routes act on
    routes = _routes(client)
    assert {a for _, _, a in routes} >= {
        "task.read", "result.set", "user.manage", "audit.verify", "draw.run", "draw.read",
        "draw.confirm", "draw.substitute", "sheet.make", "result.import", "result.publish",
        "result.correct", "result.rectify_by", "followup.add",
    }  # fmt: skip
    with wf.raw.read() as cur:
        root = units.root(cur, wf.raw.sql).code
    params = {"{task}": str(task_id), "{trigger}": "inspect", "{plan_no}": "2024001",
              "{prefix}": "ssj_000000000000", "{kind}": "targets", "{code}": root,
              "{username}": "r-target", "{outbox_id}": "1"}  # fmt: skip
    target = {"target": codes[0]}
    bodies: dict[Any, Any] = {
        "result.set": {**target, "result": "未发现问题"},
        "directory.retire": {"codes": [codes[0]], "reason": "测试"},
        "directory.restore": {"codes": [codes[0]], "reason": "测试"},
        "plan.create": {"plan_no": "2024002"},
        "task.create": {"plan": "2024001", "name": "新任务"},
        "draw.run": {"public_input": "公开数字"},
        "draw.confirm": {"reason": "测试"},
        "draw.substitute": {**target, "inspector": "J000", "reason": "回避"},
        "result.publish": {"place": "公示栏"},
        "result.correct": {**target, "result": "未发现问题", "reason": "复核", "category": "其他"},
        "result.rectify_by": {**target, "rectify_by": "2099-01-01", "reason": "延期"},
        "followup.add": {**target, "outcome": "已整改"},
        # A rehearsal that sends nothing: the route, not the mail, is under test here.
        "sweep.run": {"dry_run": True, "deliver": False},
        ("POST", "/api/v1/users/{username}/reset-password"): {"new_password": "another-horse-7"},
        ("POST", "/api/v1/reports"): {"kind": "monthly", "period": "2024-03", "office": "无此科室"},
        ("POST", "/api/v1/audit/checkpoints"): {"signed_by": "审计员"},
    }
    # Uploads (multipart) by route: a directory, the plan table and the units sheet, blank or
    # as exported; a task's results as clerks fill them in.
    uploads = {
        "/api/v1/directories/{kind}/import": ("targets.csv", _sheet("targets"), "text/csv"),
        "/api/v1/plans/import": ("plans.xlsx", _sheet("plans"), "application/octet-stream"),
        "/api/v1/units/import": ("units.csv", _sheet("units"), "text/csv"),
        "/api/v1/draw-records/verification": ("record.json", b"{}", "application/json"),
        "/api/v1/tasks/{task}/results/import": (
            "results.csv",
            f"统一社会信用代码,检查结果\n{codes[0]},未发现问题\n".encode(),
            "text/csv",
        ),
    }
    for method, path, action in routes:
        url = path
        for k, v in params.items():
            url = url.replace(k, v)
        body = bodies.get((method, path), bodies.get(action, {}))
        send: dict[str, Any] = (
            {"files": {"file": uploads[path]}}
            if path in uploads
            else {"json": body if method != "GET" else None}
        )
        anon = client.request(method, url, **send)
        assert anon.status_code == 401, (method, path)
        for role, token in tokens.items():
            r = client.request(
                method, url, **send, headers={"Authorization": f"Bearer {token}"},
            )  # fmt: skip
            if permissions.allowed(role, action):
                assert r.status_code not in (401, 403), (method, path, role, r.text)
            else:
                assert r.status_code == 403, (method, path, role, r.text)
                assert r.json()["code"] == "forbidden"


def test_cross_unit_access_denied(
    client: TestClient, wf: Workflow, task: tuple[int, list[str]]
) -> None:
    task_id, codes = task
    office = _office(wf)
    add_account(wf, "office-clerk", "clerk", unit=office, password=PASSWORD)
    auth = {"Authorization": f"Bearer {_token(client, 'office-clerk')}"}
    assert client.get("/api/v1/tasks", headers=auth).json()["items"] == []
    assert client.get(f"/api/v1/tasks/{task_id}", headers=auth).status_code == 403
    write = client.post(
        f"/api/v1/tasks/{task_id}/results",
        json={"target": codes[0], "result": "未发现问题"},
        headers=auth,
    )
    assert write.status_code == 403
    assert client.get("/api/v1/plans", headers=auth).json()["items"] == []
    assert client.get("/api/v1/plans/2024001", headers=auth).status_code == 403
    assert [u["code"] for u in client.get("/api/v1/units", headers=auth).json()["items"]] == [
        office
    ]


def test_if_match_stale_version_is_412_and_writes_nothing(
    client: TestClient, wf: Workflow, task: tuple[int, list[str]]
) -> None:
    task_id, codes = task
    add_account(wf, "clerk3", "clerk", password=PASSWORD)
    auth = {"Authorization": f"Bearer {_token(client, 'clerk3')}"}
    shown = client.get(f"/api/v1/tasks/{task_id}", headers=auth)
    etag = shown.headers["ETag"]
    body = {"target": codes[0], "result": "发现问题", "note": "未签合同"}
    first = client.post(
        f"/api/v1/tasks/{task_id}/results", json=body, headers={**auth, "If-Match": etag}
    )
    assert first.status_code == 200, first.text
    assert first.headers["ETag"] != etag
    again = client.post(
        f"/api/v1/tasks/{task_id}/results",
        json={**body, "result": "未发现问题", "reason": "复核"},
        headers={**auth, "If-Match": etag},
    )
    assert again.status_code == 412
    assert again.json()["current_version"] == int(first.headers["ETag"].strip('"'))
    record = client.get(f"/api/v1/tasks/{task_id}", headers=auth).json()["records"][0]
    assert record["result"] == "problem"


def test_events_name_the_account_and_request(
    client: TestClient, wf: Workflow, task: tuple[int, list[str]]
) -> None:
    task_id, _codes = task
    with wf.raw.read() as cur:
        cur.execute("SELECT target_code, inspectors FROM inspection_record ORDER BY id")
        groups = {c: json.loads(g) for c, g in cur.fetchall()}
    target, group = next(iter(groups.items()))
    outsider = next(c for c in ("J000", "J001", "J002", "J003") if c not in group)
    add_account(wf, "insp", "inspector", inspector=group[0], password=PASSWORD)
    add_account(wf, "insp-other", "inspector", inspector=outsider, password=PASSWORD)
    auth = {"Authorization": f"Bearer {_token(client, 'insp')}"}
    mine = [target]
    r = client.post(
        f"/api/v1/tasks/{task_id}/results",
        json={"target": mine[0], "result": "未发现问题"},
        headers=auth,
    )
    assert r.status_code == 200, r.text
    with wf.raw.read() as cur:
        cur.execute("SELECT actor, role, payload FROM event ORDER BY seq DESC LIMIT 1")
        actor, role, payload = cur.fetchone()
    by = json.loads(payload)["by"]
    assert (actor, role) == ("insp", "inspector")
    assert by["username"] == "insp" and by["unit"] and by["request_id"] == r.headers["X-Request-ID"]
    # An inspector outside the target's group is refused by the same rule as the CLI.
    other = {"Authorization": f"Bearer {_token(client, 'insp-other')}"}
    refused = client.post(
        f"/api/v1/tasks/{task_id}/results",
        json={"target": target, "result": "发现问题", "reason": "复核"},
        headers=other,
    )
    assert refused.status_code == 422
    assert "不是检查对象" in refused.json()["detail"]
