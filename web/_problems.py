"""Every error the service answers with is RFC 9457 problem details (``application/problem+json``),
mapped here and nowhere else (STYLE §4: the CLI maps error codes to exit codes, the web to HTTP
statuses).

A problem body carries the standard members — ``type`` (``/problems/<code>``, relative to the
service), ``title`` (zh-CN, one per code), ``status``, ``detail`` (the error's own message),
``instance`` (the request's path) — and the extension members ``code`` (``SsjError.code``),
``request_id`` (as in the ``X-Request-ID`` header and the log), the error's structured fields
(``task``, ``state``, ``field``, ``value`` … as ``SsjError.as_json()`` gives them) and ``next``
(the steps it offers: action, label, arguments). A field named like a standard member is put
under ``fields`` instead, never over it. Request validation problems list each bad field as
``errors: [{field, message}]``.

What maps to what:

- ``SsjError`` by class (``STATUS``; a subclass takes its nearest declared ancestor's status,
  and ``tests/web/test_problems.py`` requires every class in workflow.core.errors to be listed):
  invalid input and invalid configuration 422, not found 404, a refused transition and a
  conflict 409, no (valid) credentials 401, a role the matrix does not allow 403, sign-ins
  throttled 429;
- ``Problem``: what only the web knows (a stale ``If-Match`` is 412, see
  ``precondition_failed``; authentication will raise 401 and 403 the same way);
- FastAPI's request validation: 422 naming each field, or 400 when the body is not JSON at all;
- routing's own answers (404 no such path, 405 with its ``Allow`` header) and any other
  ``HTTPException``;
- the database unreachable: 503; anything else: 500, with no internals in the body (the
  traceback goes to the log, under the request id the body names).

A browser asking for a page (not under ``/api/``, ``Accept: text/html``: web/_templates.py
``wants_html``) gets the same status as a zh-CN page instead, and a 401 as a redirect (303) to
``/login?next=…``; the API answers problem+json whatever it is asked to accept.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from http import HTTPStatus
from typing import Any

from fastapi import FastAPI, Request
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException

from web._templates import error_html, login_redirect, wants_html
from workflow.core.errors import (
    ConfigInvalid,
    Conflict,
    Forbidden,
    InvalidInput,
    NotFound,
    SsjError,
    TooManyAttempts,
    TransitionRefused,
    Unauthenticated,
)

__all__ = [
    "PROBLEM_JSON",
    "STATUS",
    "TITLES",
    "Problem",
    "install",
    "precondition_failed",
    "problem_response",
    "status_of",
]

PROBLEM_JSON = "application/problem+json"
TYPE_BASE = "/problems/"

# HTTP status by error class; a class not listed takes its nearest listed ancestor's.
STATUS: dict[type[SsjError], int] = {
    SsjError: 400,
    InvalidInput: 422,
    ConfigInvalid: 422,
    NotFound: 404,
    TransitionRefused: 409,
    Conflict: 409,
    Unauthenticated: 401,
    Forbidden: 403,
    TooManyAttempts: 429,
}

# One zh-CN title per problem code: the kind of problem, the same for every occurrence
# (RFC 9457 §3.1.3); ``detail`` says what happened this time.
TITLES: dict[str, str] = {
    "ssj_error": "请求未能完成",
    "invalid_input": "输入有误",
    "import_rejected": "文件有误，未导入任何数据",
    "config_invalid": "配置无效",
    "not_found": "未找到",
    "transition_refused": "当前状态不允许该操作",
    "conflict": "操作冲突，请刷新后重试",
    "unauthenticated": "需要登录",
    "forbidden": "无权执行该操作",
    "too_many_attempts": "尝试次数过多",
    "csrf_failed": "请求缺少有效的 CSRF 令牌",
    "precondition_failed": "数据已被修改，请刷新后重试",
    "invalid_request": "请求参数有误",
    "malformed_request": "请求格式有误",
    "method_not_allowed": "不支持该请求方法",
    "not_ready": "服务尚未就绪",
    "database_unavailable": "数据库暂时无法访问",
    "internal_error": "服务器内部错误",
    "payload_too_large": "请求体过大",
}

# Members of the body itself: an error field of the same name goes under "fields".
_RESERVED = frozenset(
    {"type", "title", "status", "detail", "instance", "code", "request_id", "errors", "fields"}
)


class Problem(Exception):
    """A problem only the web knows (a stale ``If-Match``, later authentication): raise it in
    a route or a dependency and the client gets it as problem+json."""

    def __init__(
        self,
        status: int,
        code: str,
        detail: str,
        *,
        title: str | None = None,
        headers: Mapping[str, str] | None = None,
        fields: Mapping[str, Any] | None = None,
    ) -> None:
        super().__init__(detail)
        self.status = status
        self.code = code
        self.detail = detail
        self.title = title or TITLES.get(code, TITLES["ssj_error"])
        self.headers = dict(headers or {})
        self.fields = {k: v for k, v in (fields or {}).items() if v is not None}


def precondition_failed(error: Conflict, *, current_version: int | None = None) -> Problem:
    """A write whose ``If-Match`` named a version that is no longer current: 412 with the
    conflict's message and fields (and the current version, when known, to read again)."""
    fields = {k: v for k, v in error.as_json().items() if k not in ("code", "message")}
    if current_version is not None:
        fields["current_version"] = current_version
    return Problem(412, "precondition_failed", error.message, fields=fields)


def status_of(error: SsjError) -> int:
    for cls in type(error).__mro__:
        if cls in STATUS:
            return STATUS[cls]
    return 400  # pragma: no cover - SsjError itself is listed


def request_id_of(request: Request) -> str | None:
    rid = getattr(request.state, "request_id", None)
    return rid if isinstance(rid, str) else None


def _plain(value: Any) -> Any:
    """A field value as JSON: dates, decimals, paths and the like as FastAPI encodes them;
    anything it cannot encode as its text."""
    try:
        return jsonable_encoder(value)
    except (TypeError, ValueError, RecursionError):
        return str(value)


def problem_body(
    *,
    status: int,
    code: str,
    detail: str,
    title: str | None = None,
    instance: str | None = None,
    request_id: str | None = None,
    fields: Mapping[str, Any] | None = None,
    errors: Sequence[Mapping[str, str]] | None = None,
) -> dict[str, Any]:
    body: dict[str, Any] = {
        "type": f"{TYPE_BASE}{code}",
        "title": title or TITLES.get(code, TITLES["ssj_error"]),
        "status": status,
        "detail": detail,
    }
    if instance is not None:
        body["instance"] = instance
    body["code"] = code
    body["request_id"] = request_id
    if errors is not None:
        body["errors"] = [dict(e) for e in errors]
    nested: dict[str, Any] = {}
    for key, value in (fields or {}).items():
        if key in _RESERVED:
            nested[key] = _plain(value)
        else:
            body[key] = _plain(value)
    if nested:
        body["fields"] = nested
    return body


def problem_response(
    request: Request | None,
    *,
    status: int,
    code: str,
    detail: str,
    title: str | None = None,
    fields: Mapping[str, Any] | None = None,
    headers: Mapping[str, str] | None = None,
    errors: Sequence[Mapping[str, str]] | None = None,
    request_id: str | None = None,
    instance: str | None = None,
) -> Response:
    """The problem+json response; the request gives the path and the request id. A browser's
    request for a page: the error page, or for 401 the way to the login page."""
    if request is not None:
        request_id = request_id or request_id_of(request)
        instance = instance or request.url.path
        if wants_html(request.url.path, request.headers.get("accept")):
            if status == 401:
                return login_redirect(request)
            return HTMLResponse(
                error_html(
                    status,
                    detail,
                    request_id=request_id,
                    page=getattr(request.state, "page", None),
                ),
                status_code=status,
                headers={"Content-Language": "zh-CN", **(headers or {})},
            )
    body = problem_body(
        status=status,
        code=code,
        detail=detail,
        title=title,
        instance=instance,
        request_id=request_id,
        fields=fields,
        errors=errors,
    )
    return JSONResponse(
        body,
        status_code=status,
        media_type=PROBLEM_JSON,
        headers={
            "Content-Language": "zh-CN",
            # RFC 9110 §11.6.1: a 401 names the scheme that would be accepted.
            **({"WWW-Authenticate": 'Bearer realm="ssj"'} if status == 401 else {}),
            **(headers or {}),
        },
    )


def internal_error_body(request_id: str | None, path: str | None) -> dict[str, Any]:
    """What a client learns of an unexpected failure: that it happened and under which
    request id the log has it — no exception text, no traceback."""
    return problem_body(
        status=500,
        code="internal_error",
        detail=f"服务器内部错误，请稍后重试；如仍出错，请将请求编号 {request_id} 告知系统管理员",
        instance=path,
        request_id=request_id,
    )


# --- the handlers ------------------------------------------------------------------------------


# The most problems one answer lists (an import of a million bad rows says how many there are).
MAX_ERRORS = 1000


async def _ssj_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, SsjError)
    fields = {k: v for k, v in exc.as_json().items() if k not in ("code", "message")}
    # An error that lists its problems one by one (a rejected import: file, row, column,
    # value, message) gives them as the problem's ``errors``, each naming its ``field`` (the
    # column); their text lines (``problems``) are the CLI's and are not repeated.
    errors = fields.pop("errors", None)
    if isinstance(errors, list):
        lines = fields.pop("problems", None)
        total = len(lines) if isinstance(lines, list) else len(errors)
        errors = errors[:MAX_ERRORS]
        if total > len(errors):
            fields["errors_total"] = total
        errors = [{"field": e.get("column"), **e} for e in errors if isinstance(e, dict)]
    return problem_response(
        request,
        status=status_of(exc),
        code=exc.code,
        detail=exc.message,
        fields=fields,
        errors=errors if isinstance(errors, list) else None,
    )


async def _problem(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, Problem)
    return problem_response(
        request,
        status=exc.status,
        code=exc.code,
        detail=exc.detail,
        title=exc.title,
        fields=exc.fields,
        headers=exc.headers,
    )


def _field_name(loc: Sequence[Any]) -> str:
    """``("body", "plan", 0, "name")`` → ``plan[0].name``; ``("query", "limit")`` → ``limit``."""
    parts = (
        list(loc[1:])
        if loc and loc[0] in ("body", "query", "path", "header", "cookie")
        else list(loc)
    )
    out = ""
    for p in parts:
        out += f"[{p}]" if isinstance(p, int) else (f".{p}" if out else str(p))
    return out or (str(loc[0]) if loc else "")


# Pydantic's error types in zh-CN, for the usual ones; the rest keep pydantic's (English) text.
_MESSAGES = {
    "missing": "必填",
    "int_parsing": "应为整数",
    "int_type": "应为整数",
    "float_parsing": "应为数字",
    "bool_parsing": "应为 true 或 false",
    "string_type": "应为文本",
    "date_from_datetime_parsing": "应为日期 YYYY-MM-DD",
    "date_parsing": "应为日期 YYYY-MM-DD",
    "extra_forbidden": "未知字段",
    "json_invalid": "不是有效的 JSON",
    "model_attributes_type": "应为 JSON 对象",
    "dict_type": "应为 JSON 对象",
    "list_type": "应为列表",
    "date_type": "应为日期 YYYY-MM-DD",
}
# Those that quote their limit (pydantic's ``ctx``).
_LIMITS = {
    "less_than_equal": "应不大于 {le}",
    "less_than": "应小于 {lt}",
    "greater_than_equal": "应不小于 {ge}",
    "greater_than": "应大于 {gt}",
    "string_too_long": "至多 {max_length} 个字符",
    "string_too_short": "至少 {min_length} 个字符",
    "too_long": "至多 {max_length} 项",
    "too_short": "至少 {min_length} 项",
    "literal_error": "应为 {expected}",
    "enum": "应为 {expected}",
}


def _message(e: Mapping[str, Any]) -> str:
    """A validation error's message in zh-CN where pydantic's is English."""
    limit = _LIMITS.get(e["type"])
    if limit is not None:
        ctx = {
            k: str(v).replace("' or '", "、").replace("', '", "、").replace("'", "")
            for k, v in (e.get("ctx") or {}).items()
        }
        try:
            return limit.format(**ctx)
        except (KeyError, IndexError):
            pass
    return str(_MESSAGES.get(e["type"], e["msg"]))


async def _validation(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, RequestValidationError)
    errors = [
        {"field": _field_name(e.get("loc", ())), "message": _message(e)} for e in exc.errors()
    ]
    malformed = any(e["type"] == "json_invalid" for e in exc.errors())
    code = "malformed_request" if malformed else "invalid_request"
    names = "、".join(dict.fromkeys(e["field"] for e in errors if e["field"]))
    detail = (
        "请求体不是有效的 JSON"
        if malformed
        else f"请求参数有误：{names}"
        if names
        else "请求参数有误"
    )
    return problem_response(
        request,
        status=400 if malformed else 422,
        code=code,
        detail=detail,
        errors=errors,
    )


async def _http(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, StarletteHTTPException)
    headers = dict(exc.headers or {})
    # Starlette's own detail is the status phrase in English: routing's 404 and 405 say it in
    # zh-CN; a detail a route gave is kept.
    own = isinstance(exc.detail, str) and exc.detail != HTTPStatus(exc.status_code).phrase
    if exc.status_code == 404:
        code = "not_found"
        detail = exc.detail if own else f"没有这个地址：{request.url.path}"
    elif exc.status_code == 405:
        code = "method_not_allowed"
        allowed = headers.get("Allow") or headers.get("allow") or ""
        detail = f"{request.url.path} 不支持 {request.method} 请求" + (
            f"（可用：{allowed}）" if allowed else ""
        )
    else:
        code = f"http_{exc.status_code}"
        detail = exc.detail if own else "请求未能完成"
    return problem_response(
        request, status=exc.status_code, code=code, detail=str(detail), headers=headers
    )


async def _database(request: Request, exc: Exception) -> Response:
    # The driver's message names hosts and files: the log keeps it, the client gets none of it.
    from workflow.core.logging import get_logger

    get_logger("ssj.web").error("database unavailable", error=repr(exc))
    return problem_response(
        request,
        status=503,
        code="database_unavailable",
        detail="数据库暂时无法访问，请稍后重试",
        headers={"Retry-After": "5"},
    )


def install(app: FastAPI) -> None:
    """Register the handlers on ``app``. Unexpected exceptions are answered by the request
    middleware (web/_middleware.py), which sits outside these and logs them."""
    import sqlalchemy.exc

    app.add_exception_handler(SsjError, _ssj_error)
    app.add_exception_handler(Problem, _problem)
    app.add_exception_handler(RequestValidationError, _validation)
    app.add_exception_handler(StarletteHTTPException, _http)
    app.add_exception_handler(sqlalchemy.exc.OperationalError, _database)
