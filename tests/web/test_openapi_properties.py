"""Property-based tests of the whole API from its own OpenAPI document (schemathesis), on
SQLite and PostgreSQL: for every operation, requests generated from its schema — valid ones
and, for the operations that take input, invalid ones — never get a 5xx, and every answer
has a declared status, its declared content type and a body valid against its schema
(errors as problem+json). Bounded (a few examples per operation, derandomised) so the suite
stays fast and the same run fails the same way.

The requests carry a real account's token (a clerk's; an administrator's for the routes only
administrators may take), over a database with a drawn task, so that generated requests get
past authentication into the routes' own checks and the application."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import schemathesis
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from tests.conftest import add_account, drawn_task
from web import API_PREFIX, create_app
from workflow.app import AppContext
from workflow.core import permissions
from workflow.core.writer import Workflow

PASSWORD = "schema-Fuzz-2024"
EXAMPLES = 6  # per operation and generation mode
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]
# Path parameters that name what is there: generated ones rarely do, so half the positive
# examples use these instead and reach the application rather than its 404.
_REAL: dict[str, str] = {"plan_no": "2024001", "trigger": "inspect"}
# Ending the session or the tokens under test would leave the rest unauthenticated.
_SPARE = {("DELETE", "/api/v1/session"), ("DELETE", "/api/v1/tokens/{prefix}")}


@pytest.fixture
def app_and_tokens(ctx: AppContext, wf: Workflow) -> Iterator[tuple[Any, dict[str, str]]]:
    task_id, codes = drawn_task(wf)
    _REAL.update({"task": str(task_id), "target": codes[0]})
    app = create_app(ctx)
    tokens = {}
    with TestClient(app) as client:
        for role in ("clerk", "admin", "auditor", "supervisor"):
            add_account(wf, f"fuzz-{role}", role, password=PASSWORD)
            r = client.post(
                "/api/v1/session", json={"username": f"fuzz-{role}", "password": PASSWORD}
            )
            made = client.post(
                "/api/v1/tokens",
                json={"name": "fuzz"},
                headers={"X-CSRF-Token": r.json()["csrf_token"]},
            )
            tokens[role] = made.json()["token"]
            client.cookies.clear()
    yield app, tokens


def _property(strategy: Any, examples: int, headers: dict[str, str]) -> Any:
    """One operation's property: whatever the generated request, the answer conforms."""

    @settings(
        max_examples=examples,
        deadline=None,
        derandomize=True,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    @given(case=strategy)
    def check(case: schemathesis.Case) -> None:
        response = case.call(headers=headers)
        case.validate_response(response, checks=CHECKS, headers=headers)
        # The same request with a NUL in each of its texts: refused, never a server error
        # (PostgreSQL stores no NUL; web/_api.py refuses it before any route runs).
        if _poison(case):
            again = case.call(headers=headers)
            assert again.status_code < 500, (again.status_code, again.text)

    return check


def _poison(case: schemathesis.Case) -> bool:
    """Append a NUL to every text of the request's path, query and JSON body; whether any."""
    poisoned = False

    def bad(value: Any) -> Any:
        nonlocal poisoned
        if isinstance(value, str):
            poisoned = True
            return value + "\x00"
        return value

    for part in ("path_parameters", "query"):
        values = getattr(case, part)
        if values:
            setattr(case, part, {k: bad(v) for k, v in values.items()})
    if isinstance(case.body, dict):
        case.body = {k: bad(v) for k, v in case.body.items()}
    return poisoned


def _with_real_path(case: schemathesis.Case) -> schemathesis.Case:
    case.path_parameters = {k: _REAL.get(k, v) for k, v in (case.path_parameters or {}).items()}
    return case


def _role_for(action: str | None) -> str:
    for role in ("clerk", "admin", "auditor", "supervisor"):
        if action is None or permissions.allowed(role, action):
            return role
    return "clerk"


def _action_of(app: Any, method: str, path: str) -> str | None:
    from fastapi.routing import APIRoute

    def walk(routes: list[Any]) -> Iterator[APIRoute]:
        for r in routes:
            if isinstance(r, APIRoute):
                yield r
            elif hasattr(r, "original_router"):
                yield from walk(r.original_router.routes)

    for route in walk(app.routes):
        full = route.path_format
        if not full.startswith(API_PREFIX) and full != path:
            full = API_PREFIX + full
        if full == path and method in route.methods:
            for dep in route.dependant.dependencies:
                name = getattr(dep.call, "__name__", "")
                if name.startswith("authorized_"):
                    return next(a for a in permissions.MATRIX if a.replace(".", "_") == name[11:])
    return None


def test_every_operation_against_its_schema(app_and_tokens: tuple[Any, dict[str, str]]) -> None:
    app, tokens = app_and_tokens
    schema = schemathesis.openapi.from_asgi("/api/v1/openapi.json", app)
    operations = [r.ok() for r in schema.get_all_operations()]
    assert len(operations) >= 10  # the document lists the API, not an empty shell
    tested = 0
    for op in operations:
        if (op.method.upper(), op.path) in _SPARE:
            continue
        role = _role_for(_action_of(app, op.method.upper(), op.path))
        headers = {"Authorization": f"Bearer {tokens[role]}"}
        modes = [schemathesis.GenerationMode.POSITIVE]
        if op.body or op.query or op.path_parameters:
            modes.append(schemathesis.GenerationMode.NEGATIVE)
        strategies = [op.as_strategy(generation_mode=m) for m in modes]
        if op.path_parameters:
            strategies.append(strategies[0].map(_with_real_path))
        strategy = st.one_of(*strategies)

        check = _property(strategy, EXAMPLES * len(strategies), headers)

        try:
            check()
        except Exception as e:  # say which operation, then fail with schemathesis' report
            raise AssertionError(f"{op.method.upper()} {op.path}: {e}") from e
        tested += 1
    assert tested == len(operations) - len(
        [o for o in operations if (o.method.upper(), o.path) in _SPARE]
    )
