"""The service assembled: one FastAPI application per AppContext."""

from __future__ import annotations

from fastapi import FastAPI

from web._api import API_PREFIX, service_version
from web._api import router as api_router
from web._health import router as health_router
from web._middleware import RequestMiddleware
from web._openapi import document
from web._pages import install as install_pages
from web._pages_admin import router as admin_pages
from web._pages_admin_system import router as admin_system_pages
from web._pages_audit import router as audit_pages
from web._pages_deadlines import router as deadline_pages
from web._pages_tasks import router as task_pages
from web._problems import install as install_problems
from workflow.app import AppContext
from workflow.sampling import directories

__all__ = ["create_app"]


def create_app(ctx: AppContext) -> FastAPI:
    """The web service over ``ctx``: the health probes at the root, the JSON API under
    ``/api/v1`` with its OpenAPI 3.1 document at ``/api/v1/openapi.json``, every error as
    problem+json (a browser's page request: a zh-CN error page), the pages (``/login``, ``/``,
    ``/dashboard`` …; web/_pages.py) with their scripts and styles under ``/static/``, and
    each request given an id, security headers and an access log line.

    The application uses ``ctx`` (on ``app.state.ctx``; routes take it as ``ContextDep``)
    and does not own it: whoever made the context closes it."""
    app = FastAPI(
        title="ssj",
        summary="人社“双随机、一公开”抽查工作流服务",
        version=service_version(),
        openapi_url=f"{API_PREFIX}/openapi.json",
        # The interactive docs pages load their scripts from a CDN: off until their assets
        # are served from here (the Content-Security-Policy would block them anyway).
        docs_url=None,
        redoc_url=None,
        swagger_ui_oauth2_redirect_url=None,
    )
    app.state.ctx = ctx
    directories.configure_limits(ctx.settings.imports)  # as the CLI does: config.yaml's bounds
    install_problems(app)
    # The largest import file and 1 MB for the rest of a form (web/_middleware.py).
    app.add_middleware(
        RequestMiddleware,
        max_body=(ctx.settings.imports.max_file_mb + 1) * 2**20,
        one_connection=ctx.one_connection,
    )
    app.include_router(health_router)
    app.include_router(api_router)
    install_pages(app, [deadline_pages, task_pages, admin_pages, admin_system_pages, audit_pages])
    document(app)
    return app
