"""What routes declare: the context the application was built with, the request's id."""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.testclient import TestClient

from web import ContextDep, RequestIdDep
from workflow.app import AppContext


def test_routes_get_the_apps_context_and_the_request_id(
    bare_app: FastAPI, bare_ctx: AppContext
) -> None:
    seen: list[AppContext] = []

    @bare_app.get("/t/deps")
    def deps(ctx: ContextDep, rid: RequestIdDep) -> dict[str, str]:
        seen.append(ctx)
        return {"rid": rid, "db": ctx.db_url}

    r = TestClient(bare_app).get("/t/deps", headers={"X-Request-ID": "dep-1"})
    assert r.json() == {"rid": "dep-1", "db": bare_ctx.db_url}
    assert seen == [bare_ctx]
