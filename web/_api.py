"""The JSON API, versioned under ``/api/v1`` (its OpenAPI 3.1 document at
``/api/v1/openapi.json``). One router per resource, each in its own module and included in
``router`` here; this module holds the API's root."""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version

from fastapi import APIRouter

__all__ = ["API_PREFIX", "router", "service_version"]

API_PREFIX = "/api/v1"

router = APIRouter(prefix=API_PREFIX)


def service_version() -> str:
    """ssj's version as installed (a checkout not installed says so)."""
    try:
        return version("ssj")
    except PackageNotFoundError:  # pragma: no cover - the package is always installed here
        return "0+unknown"


@router.get("/", summary="服务信息", tags=["服务"])
def api_root() -> dict[str, str]:
    return {"service": "ssj", "version": service_version()}


def _include() -> None:
    from web._admin import router as admin
    from web._sessions import router as sessions
    from web._tasks import router as tasks

    for resource in (sessions, tasks, admin):
        router.include_router(resource)


_include()
