"""Health probes for whatever supervises the service (systemd, a load balancer, Kubernetes),
outside the versioned API:

- ``GET /healthz``: the process is alive and answering — touches nothing else;
- ``GET /readyz``: it can serve — the database answers and carries the schema this code
  needs (``AppContext.require_schema``); otherwise 503 problem+json. The body says which of
  the two it is, never the database's address (the log has the reason in full).
"""

from __future__ import annotations

import sqlalchemy.exc
from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response

from web._deps import ContextDep
from web._problems import problem_response
from workflow.core.errors import SsjError
from workflow.core.logging import get_logger

__all__ = ["router"]

router = APIRouter(tags=["运维"])


@router.get("/healthz", summary="存活检查：进程在运行")
def healthz() -> dict[str, str]:
    return {"status": "ok"}


@router.get(
    "/readyz",
    summary="就绪检查：数据库可访问且已升级到当前版本",
    responses={503: {"description": "未就绪（problem+json）"}},
)
def readyz(request: Request, ctx: ContextDep) -> Response:
    try:
        ctx.require_schema()
    except SsjError as e:  # not initialised, too old, or (SQLite) no such file
        reason, detail = e.message, "数据库尚未初始化或版本与程序不符"
    except (sqlalchemy.exc.SQLAlchemyError, OSError) as e:
        reason, detail = repr(e), "无法连接数据库"
    else:
        return JSONResponse({"status": "ready"})
    get_logger("ssj.web").warning("not ready", reason=reason)
    return problem_response(
        request,
        status=503,
        code="not_ready",
        detail=f"服务尚未就绪：{detail}",
        headers={"Retry-After": "5"},
    )
