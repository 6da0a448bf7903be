"""The JSON API, versioned under ``/api/v1`` (its OpenAPI 3.1 document at
``/api/v1/openapi.json``). One router per resource, each in its own module and included in
``router`` here; this module holds the API's root."""

from __future__ import annotations

from functools import cache
from importlib.metadata import PackageNotFoundError, version
from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel

from web._openapi import PROBLEM_RESPONSES
from workflow.core import input_limits

__all__ = ["API_PREFIX", "router", "service_version"]

API_PREFIX = "/api/v1"


async def no_nul(request: Request) -> None:
    """A NUL character in a path, a query or a JSON body is refused (422 naming the field, as
    request validation names it) before any route runs: no database stores it (PostgreSQL
    refuses it outright), and a route whose own checks (web/_text.py) miss a field must still
    not answer 500. Uploaded files are binary and are checked by their importers."""
    found: list[tuple[tuple[str | int, ...], str]] = []
    if "\x00" in request.url.path:
        found.append((("path",), request.url.path))
    for key, value in request.query_params.multi_items():
        if "\x00" in key or "\x00" in value:
            found.append((("query", key.replace("\x00", "")), value))
    if request.headers.get("content-type", "").startswith("application/json"):
        body = await request.body()
        if b"\\u0000" in body.lower():  # the cheap test first
            found.extend(_nul_in_json(body))
    if found:
        raise RequestValidationError(
            [
                {
                    "type": "bad_text",
                    "loc": loc,
                    "msg": input_limits.bad_char(text, multiline=True) or "含有空字符",
                    "input": text,
                }
                for loc, text in found
            ]
        )


def _nul_in_json(body: bytes) -> list[tuple[tuple[str | int, ...], str]]:
    """Where in a JSON body a text holds a NUL: ``("body", "plan", 0, "name")``."""
    import json

    try:
        stack: list[tuple[tuple[str | int, ...], Any]] = [(("body",), json.loads(body))]
    except ValueError:
        return []  # not JSON: the route's validation says so
    out = []
    while stack:
        loc, item = stack.pop()
        if isinstance(item, str) and "\x00" in item:
            out.append((loc, item))
        elif isinstance(item, dict):
            for k, v in item.items():
                stack.append(((*loc, k), v))
                if "\x00" in k:
                    out.append(((*loc, k.replace("\x00", "")), k))
        elif isinstance(item, list):
            stack.extend(((*loc, i), v) for i, v in enumerate(item))
    return sorted(out, key=lambda found: str(found[0]))


# Every route may answer these problems (web/_openapi.py files them as problem+json).
router = APIRouter(prefix=API_PREFIX, responses=PROBLEM_RESPONSES, dependencies=[Depends(no_nul)])


@cache
def service_version() -> str:
    """ssj's version as installed (a checkout not installed says so); read once per process
    (the package's metadata is read from disk, ≈ 0.5 ms)."""
    try:
        return version("ssj")
    except PackageNotFoundError:  # pragma: no cover - the package is always installed here
        return "0+unknown"


class ServiceInfo(BaseModel):
    service: str
    version: str


@router.get("/", summary="服务信息", tags=["服务"], response_model=ServiceInfo)
def api_root() -> ServiceInfo:
    return ServiceInfo(service="ssj", version=service_version())


def _include() -> None:
    from web._admin import router as admin
    from web._audit import router as audit
    from web._calendar import router as calendar
    from web._deadlines import router as deadlines
    from web._directories import router as directories
    from web._draws import router as draws
    from web._outbox import router as outbox
    from web._plans import router as plans
    from web._results import router as results
    from web._sessions import router as sessions
    from web._tasks import router as tasks

    # plans before tasks: its /plans/template is not a plan number for /plans/{plan_no}
    for resource in (
        sessions, plans, tasks, draws, results, directories, deadlines, outbox, calendar,
        audit, admin,
    ):  # fmt: skip
        router.include_router(resource)


_include()
