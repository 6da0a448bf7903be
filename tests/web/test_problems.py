"""Every error is RFC 9457 problem+json: each SsjError class with its status, code, fields and
steps; the web's own problems (412); request validation naming the field; routing's 404 and
405; the database unreachable; anything unexpected as 500 with nothing of its internals."""

from __future__ import annotations

import inspect
import json
from collections.abc import Callable

import pytest
import sqlalchemy.exc
from fastapi import FastAPI, HTTPException
from fastapi.testclient import TestClient
from pydantic import BaseModel

from web import Problem, precondition_failed
from web._problems import STATUS, TITLES, problem_body
from workflow.core import errors
from workflow.core.errors import (
    ConfigInvalid,
    Conflict,
    InvalidInput,
    NotFound,
    SsjError,
    Step,
    TransitionRefused,
)

PROBLEM = "application/problem+json"


def _raise(exc: Exception) -> Callable[[], None]:
    def route() -> None:
        raise exc

    return route


def _client(app: FastAPI, **routes: Exception) -> TestClient:
    for name, exc in routes.items():
        app.add_api_route(f"/t/{name}", _raise(exc), methods=["GET", "POST"])
    return TestClient(app)


CASES: list[tuple[str, SsjError, int, dict[str, object]]] = [
    (
        "invalid",
        InvalidInput("比例 '1.5' 无效：应在 0 到 1 之间", field="ratio", value="1.5"),
        422,
        {"field": "ratio", "value": "1.5"},
    ),
    (
        "config",
        ConfigInvalid("配置无效：web.port = 0", field="web.port"),
        422,
        {"field": "web.port"},
    ),
    (
        "not_found",
        NotFound("任务 99 不存在", task=99, steps=[Step("plan.create")]),
        404,
        {"task": 99},
    ),
    (
        "refused",
        TransitionRefused(7, "planned", "inspect", "尚未抽取", allowed=[]),
        409,
        {"task": 7, "state": "planned", "trigger": "inspect", "reason": "尚未抽取"},
    ),
    ("conflict", Conflict("任务 7 已被他人修改（版本 3）", task=7), 409, {"task": 7}),
]


@pytest.mark.parametrize(("name", "exc", "status", "fields"), CASES, ids=[c[0] for c in CASES])
def test_each_error_class_is_problem_json_with_its_status_code_and_fields(
    bare_app: FastAPI, name: str, exc: SsjError, status: int, fields: dict[str, object]
) -> None:
    client = _client(bare_app, **{name: exc})
    r = client.get(f"/t/{name}", headers={"X-Request-ID": f"req-{name}"})
    assert r.status_code == status
    assert r.headers["content-type"] == PROBLEM
    body = r.json()
    assert body["status"] == status
    assert body["code"] == exc.code
    assert body["type"] == f"/problems/{exc.code}"
    assert body["title"] == TITLES[exc.code]
    assert body["detail"] == exc.message
    assert body["instance"] == f"/t/{name}"
    assert body["request_id"] == r.headers["X-Request-ID"] == f"req-{name}"
    for key, value in fields.items():
        assert body[key] == value
    assert "message" not in body  # it is the detail
    if exc.steps:
        assert body["next"] == [s.as_json() for s in exc.steps]


def test_a_refused_transition_offers_the_triggers_its_state_allows_as_next_steps(
    bare_app: FastAPI,
) -> None:
    exc = TransitionRefused(7, "planned", "inspect", "不允许", allowed=[])
    body = _client(bare_app, refused=exc).get("/t/refused").json()
    assert body["next"] and {s["action"] for s in body["next"]} <= {"draw.run", "task.fire"}
    assert all(s["task"] == 7 and s["label"] for s in body["next"])


def test_every_error_class_has_a_status_and_every_code_a_title() -> None:
    # A new class in workflow.core.errors (say, for the role matrix) must be mapped here.
    classes = {
        obj
        for _, obj in inspect.getmembers(errors, inspect.isclass)
        if issubclass(obj, SsjError) and obj.__module__ == errors.__name__
    }
    assert classes >= {SsjError, InvalidInput, ConfigInvalid, NotFound, TransitionRefused}
    assert classes == set(STATUS)
    assert {c.code for c in classes} <= set(TITLES)


def test_an_error_field_named_like_a_standard_member_never_replaces_it(
    bare_app: FastAPI,
) -> None:
    exc = InvalidInput("状态无效", status="sent", type="x", detail="y", row=3)
    body = _client(bare_app, clash=exc).get("/t/clash").json()
    assert body["status"] == 422 and body["type"] == "/problems/invalid_input"
    assert body["detail"] == "状态无效"
    assert body["fields"] == {"status": "sent", "type": "x", "detail": "y"}
    assert body["row"] == 3


def test_field_values_that_json_lacks_are_written_as_text() -> None:
    from datetime import date
    from decimal import Decimal
    from pathlib import Path

    body = problem_body(
        status=422,
        code="invalid_input",
        detail="x",
        fields={"day": date(2024, 5, 6), "ratio": Decimal("0.05"), "file": Path("a/b.csv")},
    )
    assert json.loads(json.dumps(body))["day"] == "2024-05-06"
    assert body["file"] == "a/b.csv" and body["ratio"] in (0.05, "0.05")


def test_a_stale_if_match_is_412_with_the_current_version(bare_app: FastAPI) -> None:
    stale = precondition_failed(Conflict("任务 7 已被他人修改", task=7), current_version=4)
    r = _client(bare_app, stale=stale).get("/t/stale")
    assert r.status_code == 412 and r.headers["content-type"] == PROBLEM
    body = r.json()
    assert body["code"] == "precondition_failed" and body["type"] == "/problems/precondition_failed"
    assert body["detail"] == "任务 7 已被他人修改"
    assert body["task"] == 7 and body["current_version"] == 4


def test_a_problem_of_the_web_keeps_its_status_title_and_headers(bare_app: FastAPI) -> None:
    p = Problem(
        401,
        "unauthenticated",
        "请先登录",
        title="未登录",
        headers={"WWW-Authenticate": "Cookie"},
        fields={"title": "不是标题", "login": "/login"},
    )
    r = _client(bare_app, login=p).get("/t/login")
    assert r.status_code == 401 and r.headers["WWW-Authenticate"] == "Cookie"
    body = r.json()
    assert body["title"] == "未登录" and body["code"] == "unauthenticated"
    assert body["login"] == "/login" and body["fields"] == {"title": "不是标题"}


class Body(BaseModel):
    name: str
    ratio: float


def test_request_validation_names_each_bad_field(bare_app: FastAPI) -> None:
    @bare_app.post("/t/validated")
    def validated(body: Body, limit: int = 10) -> dict[str, str]:
        return {"name": body.name}

    client = TestClient(bare_app)
    r = client.post("/t/validated?limit=many", json={"ratio": "high"})
    assert r.status_code == 422 and r.headers["content-type"] == PROBLEM
    body = r.json()
    assert body["code"] == "invalid_request" and body["status"] == 422
    fields = {e["field"]: e["message"] for e in body["errors"]}
    assert set(fields) == {"limit", "name", "ratio"}
    assert fields["name"] == "必填" and fields["limit"] == "应为整数"
    assert all(name in body["detail"] for name in fields)
    assert body["request_id"] == r.headers["X-Request-ID"]
    ok = client.post("/t/validated", json={"name": "甲", "ratio": 0.5})
    assert ok.status_code == 200 and ok.json() == {"name": "甲"}


def test_a_body_that_is_not_json_is_a_400(bare_app: FastAPI) -> None:
    @bare_app.post("/t/json")
    def takes_json(body: Body) -> None:
        return None

    r = TestClient(bare_app).post(
        "/t/json", content=b'{"name": ', headers={"Content-Type": "application/json"}
    )
    assert r.status_code == 400 and r.headers["content-type"] == PROBLEM
    assert r.json()["code"] == "malformed_request"


def test_unknown_routes_and_methods_are_problems(bare_client: TestClient) -> None:
    r = bare_client.get("/no/such/page")
    assert r.status_code == 404 and r.headers["content-type"] == PROBLEM
    assert r.json()["code"] == "not_found" and "/no/such/page" in r.json()["detail"]
    r = bare_client.delete("/healthz")
    assert r.status_code == 405 and r.headers["content-type"] == PROBLEM
    assert r.json()["code"] == "method_not_allowed" and "GET" in r.headers["Allow"]


def test_an_http_exception_keeps_a_detail_its_route_gave(bare_app: FastAPI) -> None:
    client = _client(
        bare_app, gone=HTTPException(404, "计划 2024001 不存在"), tea=HTTPException(418)
    )
    assert client.get("/t/gone").json()["detail"] == "计划 2024001 不存在"
    r = client.get("/t/tea")
    assert r.status_code == 418 and r.json()["code"] == "http_418"
    assert r.json()["detail"] == "请求未能完成"  # not Starlette's English phrase


def test_the_database_unreachable_is_503_without_its_address(bare_app: FastAPI) -> None:
    exc = sqlalchemy.exc.OperationalError(
        "SELECT 1", {}, Exception('connection to server at "db.bureau.test" failed')
    )
    r = _client(bare_app, db=exc).get("/t/db")
    assert r.status_code == 503 and r.headers["content-type"] == PROBLEM
    assert r.json()["code"] == "database_unavailable" and "Retry-After" in r.headers
    assert "db.bureau.test" not in r.text and "SELECT" not in r.text


def test_anything_unexpected_is_500_naming_only_the_request_id(
    bare_app: FastAPI, capsys: pytest.CaptureFixture[str]
) -> None:
    client = _client(bare_app, boom=KeyError("secret_column_name"))
    r = client.get("/t/boom", headers={"X-Request-ID": "boom-1"})
    assert r.status_code == 500 and r.headers["content-type"] == PROBLEM
    body = r.json()
    assert body["code"] == "internal_error" and body["request_id"] == "boom-1"
    assert "boom-1" in body["detail"]
    assert "secret_column_name" not in r.text and "Traceback" not in r.text
    assert "KeyError" not in r.text
    # The log has it, under the same request id.
    err = capsys.readouterr().err
    assert "unhandled error" in err and "secret_column_name" in err and "boom-1" in err
