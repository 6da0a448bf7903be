"""Every request gets an id (the client's if sane), security headers on every response,
errors included, and one access log line that holds the path but never the query string or
a header's value."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from tests.conftest import drawn_task
from tests.web.conftest import bearer
from web._middleware import SECURITY_HEADERS, loggable_path
from workflow.app import AppContext
from workflow.core import queries
from workflow.core.errors import NotFound
from workflow.core.logging import get_logger

HEX32 = re.compile(r"[0-9a-f]{32}")


def _log_lines(err: str) -> list[dict[str, Any]]:
    return [json.loads(x) for x in err.splitlines() if x.startswith("{")]


def test_security_headers_on_every_response(bare_app: FastAPI) -> None:
    @bare_app.get("/t/missing")
    def missing() -> None:
        raise NotFound("没有")

    @bare_app.get("/t/crash")
    def crash() -> None:
        raise RuntimeError("crash")

    client = TestClient(bare_app)
    responses = [
        client.get("/healthz"),  # 200
        client.get("/api/v1/openapi.json"),  # 200, the schema
        client.get("/nowhere"),  # 404 from routing
        client.post("/healthz"),  # 405
        client.get("/t/missing"),  # 404 from an SsjError
        client.get("/t/crash"),  # 500
    ]
    assert [r.status_code for r in responses] == [200, 200, 404, 405, 404, 500]
    for r in responses:
        for name, value in SECURITY_HEADERS.items():
            assert r.headers[name] == value, (r.request.url, name)
        assert "X-Request-ID" in r.headers
    csp = SECURITY_HEADERS["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp
    assert "frame-ancestors 'none'" in csp and "object-src 'none'" in csp


def test_a_sane_request_id_is_echoed_and_any_other_replaced(bare_client: TestClient) -> None:
    sane = "0f8e2a1c-trace:42.a_b"
    assert (
        bare_client.get("/healthz", headers={"X-Request-ID": sane}).headers["X-Request-ID"] == sane
    )
    for insane in ("x" * 129, "<script>", "a b", "编号".encode()):
        got = bare_client.get("/healthz", headers={"X-Request-ID": insane})
        assert HEX32.fullmatch(got.headers["X-Request-ID"]), insane
    first = bare_client.get("/healthz").headers["X-Request-ID"]
    second = bare_client.get("/healthz").headers["X-Request-ID"]
    assert HEX32.fullmatch(first) and HEX32.fullmatch(second) and first != second


def test_one_access_line_per_request_with_the_path_and_no_query_or_header_values(
    bare_client: TestClient, json_logs: None, capsys: pytest.CaptureFixture[str]
) -> None:
    capsys.readouterr()
    r = bare_client.get(
        "/api/v1/?token=s3cret-token&x=1",
        headers={"Authorization": "Bearer top-secret-bearer", "X-Request-ID": "acc-1"},
    )
    assert r.status_code == 200
    err = capsys.readouterr().err
    (line,) = [x for x in _log_lines(err) if x.get("event") == "request"]
    assert line["method"] == "GET" and line["path"] == "/api/v1/" and line["status"] == 200
    assert line["request_id"] == "acc-1" and line["level"] == "info"
    assert isinstance(line["duration_ms"], float) and line["duration_ms"] >= 0
    assert "s3cret-token" not in err and "token=" not in err
    assert "top-secret-bearer" not in err and "Authorization" not in err


def test_the_access_line_gives_the_status_of_errors_too(
    bare_app: FastAPI, json_logs: None, capsys: pytest.CaptureFixture[str]
) -> None:
    @bare_app.get("/t/crash")
    def crash() -> None:
        raise RuntimeError("crash")

    client = TestClient(bare_app)
    capsys.readouterr()
    client.get("/nowhere")
    client.get("/t/crash")
    lines = [x for x in _log_lines(capsys.readouterr().err) if x.get("event") == "request"]
    assert [(x["path"], x["status"]) for x in lines] == [("/nowhere", 404), ("/t/crash", 500)]


def test_log_lines_inside_a_request_carry_its_id(
    bare_app: FastAPI, json_logs: None, capsys: pytest.CaptureFixture[str]
) -> None:
    @bare_app.get("/t/sync")
    def sync_route() -> dict[str, str]:  # run in a worker thread
        get_logger("ssj.test").info("inside sync")
        return {}

    @bare_app.get("/t/async")
    async def async_route() -> dict[str, str]:
        get_logger("ssj.test").info("inside async")
        return {}

    client = TestClient(bare_app)
    capsys.readouterr()
    client.get("/t/sync", headers={"X-Request-ID": "in-sync"})
    client.get("/t/async", headers={"X-Request-ID": "in-async"})
    client.get("/healthz")
    lines = _log_lines(capsys.readouterr().err)
    inside = {x["event"]: x.get("request_id") for x in lines if x["event"].startswith("inside")}
    assert inside == {"inside sync": "in-sync", "inside async": "in-async"}
    # Unbound after the request: a line logged outside one carries no id.
    get_logger("ssj.test").info("outside")
    (outside,) = [x for x in _log_lines(capsys.readouterr().err) if x["event"] == "outside"]
    assert "request_id" not in outside


def test_a_path_in_the_log_is_one_line() -> None:
    assert loggable_path("/api/v1/plans/2024001") == "/api/v1/plans/2024001"
    assert loggable_path("/a\nb\x1b[31m") == "/a%0Ab%1B[31m"
    assert loggable_path("/计划/一") == "/计划/一"  # printable text stays readable


def test_the_path_logged_for_an_encoded_newline_stays_on_one_line(
    bare_client: TestClient, json_logs: None, capsys: pytest.CaptureFixture[str]
) -> None:
    capsys.readouterr()
    bare_client.get("/x%0Ay")
    (line,) = [x for x in _log_lines(capsys.readouterr().err) if x.get("event") == "request"]
    assert line["path"] == "/x%0Ay" and line["status"] == 404


def test_a_body_over_the_limit_is_refused_before_anything_reads_it() -> None:
    """An upload is read and spooled before a route (and its authentication) runs: a body over
    the limit is answered 413 whether it declares its length or not."""
    from starlette.applications import Starlette
    from starlette.middleware import Middleware
    from starlette.requests import Request
    from starlette.responses import JSONResponse
    from starlette.routing import Route

    from web._middleware import RequestMiddleware

    seen: list[int] = []

    async def upload(request: Request) -> JSONResponse:
        seen.append(len(await request.body()))
        return JSONResponse({"ok": True})

    app = Starlette(  # as create_app places it: inside Starlette's own last net
        routes=[Route("/up", upload, methods=["POST"])],
        middleware=[Middleware(RequestMiddleware, max_body=2**20)],
    )
    with TestClient(app) as c:
        assert c.post("/up", content=b"x" * 1000).status_code == 200
        declared = c.post("/up", content=b"x" * (2**20 + 1))
        assert declared.status_code == 413
        assert declared.headers["content-type"].startswith("application/problem+json")
        assert declared.json()["code"] == "payload_too_large"
        chunks = (b"x" * 65536 for _ in range(20))  # streamed: no Content-Length
        assert c.post("/up", content=chunks).status_code == 413
    assert seen == [1000]


def test_a_request_takes_one_pooled_connection(api: TestClient, ctx: AppContext, wf: Any) -> None:
    """Authentication, the route's lookups and its write share the request's connection
    (AppContext.one_connection): one checkout from the pool per request, returned at its end
    — also when the request fails."""
    from sqlalchemy import event

    t, codes = drawn_task(wf, 3)
    clerk = bearer(wf, "one-connection-clerk")
    checkouts: list[int] = []
    # The process's first write checks the schema and reads the recorded calendar, once.
    first = {"target": codes[2], "result": "no_problem"}
    assert api.post(f"/api/v1/tasks/{t}/results", json=first, headers=clerk).status_code == 200

    def count(dbapi: Any, record: Any, proxy: Any) -> None:
        checkouts.append(id(dbapi))

    event.listen(ctx.engine, "checkout", count)
    try:
        assert api.get(f"/api/v1/tasks/{t}", headers=clerk).status_code == 200
        assert len(checkouts) == 1
        r = api.post(
            f"/api/v1/tasks/{t}/results",
            json={"target": codes[0], "result": "no_problem"},
            headers=clerk,
        )
        assert r.status_code == 200, r.text
        assert len(checkouts) == 2
        assert queries.show_task(wf.engine, t)["records"][0]["result"] == "no_problem"
        stale = api.post(
            f"/api/v1/tasks/{t}/results",
            json={"target": codes[1], "result": "no_problem"},
            headers={**clerk, "If-Match": '"1"'},
        )
        assert stale.status_code == 412 and len(checkouts) == 3
        assert api.get("/api/v1/tasks/999999", headers=clerk).status_code == 404
        assert len(checkouts) == 4
    finally:
        event.remove(ctx.engine, "checkout", count)
    assert ctx.engine.pool.checkedout() == 0
    # Outside a request each use takes its own, as the CLI's do.
    with ctx.connect() as a, ctx.connect() as b:
        assert a.dbapi is not b.dbapi
    with ctx.one_connection(), ctx.connect() as a, ctx.reading() as c:
        wf2 = ctx.new_workflow()
        assert a.dbapi is c.connection.driver_connection is wf2.raw.dbapi
        wf2.close()  # borrowed: not returned by the workflow
        assert ctx.engine.pool.checkedout() == 1
    assert ctx.engine.pool.checkedout() == 0
