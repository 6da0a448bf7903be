"""The pages' templates (Jinja2, ``web/templates/``) and what decides whether an answer is a
page at all.

A request is a browser's when it is not for the API or the probes and its ``Accept`` names
``text/html``: errors are then answered with a zh-CN page (404, 403, 500 …) instead of
problem+json (web/_problems.py asks ``wants_html``). Times are shown in the calendar's
timezone (``calendar.timezone``, Asia/Shanghai): the ``local_time`` filter.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from jinja2 import Environment, FileSystemLoader, select_autoescape
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse

from workflow.core.clock import parse_time

__all__ = [
    "STATIC_DIR",
    "TEMPLATES_DIR",
    "environment",
    "error_html",
    "local_time",
    "login_redirect",
    "render",
    "safe_next",
    "wants_html",
]

TEMPLATES_DIR = Path(__file__).parent / "templates"
STATIC_DIR = Path(__file__).parent / "static"
DISPLAY_TZ = "Asia/Shanghai"
# Paths that are never pages: the JSON API and the probes answer problem+json whatever the
# client accepts.
_MACHINE_PREFIXES = ("/api/", "/healthz", "/readyz", "/static/")


def local_time(value: str | datetime | None, tz: str = DISPLAY_TZ) -> str:
    """A stored UTC instant (``2024-04-01T01:00:00.000000Z``) as people read it in ``tz``:
    ``2024-04-01 09:00``. Empty for nothing; a value that is not a time, as it is."""
    if value is None or value == "":
        return ""
    try:
        at = value if isinstance(value, datetime) else parse_time(str(value), "UTC")
    except ValueError:
        return str(value)
    return at.astimezone(ZoneInfo(tz)).strftime("%Y-%m-%d %H:%M")


def _environment() -> Environment:
    env = Environment(
        loader=FileSystemLoader(TEMPLATES_DIR),
        autoescape=select_autoescape(["html"]),
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["local_time"] = local_time
    return env


environment = _environment()


def wants_html(path: str, accept: str | None) -> bool:
    """Whether an answer to ``path`` for a client accepting ``accept`` is a page."""
    if path.startswith(_MACHINE_PREFIXES) or path in ("/healthz", "/readyz"):
        return False
    return "text/html" in (accept or "")


def safe_next(target: str | None) -> str:
    """Where to go after login: a path of this site (``/overdue?late=6-20``), else ``/``. An
    absolute URL, a scheme-relative ``//host`` or a backslash trick never leaves the site."""
    if not target or not target.startswith("/") or target.startswith(("//", "/\\")):
        return "/"
    if any(c in target for c in "\\\r\n\t") or target.startswith("/login"):
        return "/"
    return target


def login_redirect(request: Request) -> RedirectResponse:
    """303 to the login page, coming back here (a GET's path and query) afterwards."""
    from urllib.parse import urlencode

    here = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    target = safe_next(here if request.method in ("GET", "HEAD") else "/")
    query = "" if target == "/" else "?" + urlencode({"next": target})
    return RedirectResponse(f"/login{query}", status_code=303)


def render(
    request: Request,
    name: str,
    context: dict[str, Any],
    *,
    status: int = 200,
    headers: dict[str, str] | None = None,
) -> HTMLResponse:
    """The template ``name`` with ``context``; every page also gets the request and the
    account (``request.state.page``, set by the pages' authentication) for the layout."""
    page = getattr(request.state, "page", None)
    body = environment.get_template(name).render(request=request, page=page, **context)
    return HTMLResponse(
        body, status_code=status, headers={"Content-Language": "zh-CN", **(headers or {})}
    )


_ERROR_TITLES = {
    400: "请求有误",
    401: "需要登录",
    403: "无权访问",
    404: "页面不存在",
    405: "不支持该操作",
    409: "操作冲突",
    412: "数据已被修改",
    413: "上传的文件过大",
    422: "输入有误",
    429: "尝试次数过多",
    500: "服务器内部错误",
    503: "服务暂时不可用",
}


def error_html(status: int, detail: str, *, request_id: str | None = None, page: Any = None) -> str:
    """An error page: what happened in zh-CN, the request id to quote, a way back."""
    return environment.get_template("error.html").render(
        status=status,
        title=_ERROR_TITLES.get(status, "请求未能完成"),
        detail=detail,
        request_id=request_id,
        page=page,
        request=None,
    )
