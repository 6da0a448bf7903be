"""What every request goes through, outermost of the application's own layers (a plain ASGI
middleware, so the context variables it binds reach the route and the threads sync routes
run in):

- a request id: the client's ``X-Request-ID`` when it is sane (1–128 characters of letters,
  digits and ``-_.:``), otherwise a new one; on ``request.state.request_id``, bound into
  structlog's context variables for every log line of the request, echoed in the response's
  ``X-Request-ID`` and named in any problem body;
- security headers on every response, errors included: a Content-Security-Policy that
  allows no inline script, no plugins and no framing, ``X-Content-Type-Options: nosniff``,
  ``Referrer-Policy: same-origin``, ``X-Frame-Options: DENY``;
- one access log line per request (``event: "request"``) through the project's structlog
  logger: method, path (without the query string: it may carry tokens), status, duration in
  milliseconds and the request id — never headers or bodies;
- the request's database work on one pooled connection (``AppContext.one_connection``);
- the last net: an exception nothing handled is logged with its traceback and answered
  ``500`` problem+json naming only the request id (web/_problems.py), or to a browser asking
  for a page, the same as a zh-CN page.
"""

from __future__ import annotations

import re
import time
import uuid
from collections.abc import Callable
from contextlib import AbstractContextManager
from typing import Any

import structlog
from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from web._problems import PROBLEM_JSON, internal_error_body, problem_body
from web._templates import error_html, wants_html
from workflow.core.logging import get_logger

__all__ = ["REQUEST_ID_HEADER", "SECURITY_HEADERS", "RequestMiddleware"]

REQUEST_ID_HEADER = "X-Request-ID"
_SANE_ID = re.compile(r"[A-Za-z0-9._:-]{1,128}")

CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; object-src 'none'; frame-ancestors 'none'; "
    "base-uri 'self'; form-action 'self'"
)
SECURITY_HEADERS: dict[str, str] = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "X-Frame-Options": "DENY",
}


def request_id_from(scope: Scope) -> str:
    """The client's X-Request-ID if it is sane, else a new one (32 hex digits)."""
    for name, value in scope.get("headers", ()):
        if name == b"x-request-id":
            try:
                text = bytes(value).decode("ascii")
            except UnicodeDecodeError:
                break
            if _SANE_ID.fullmatch(text):
                return text
            break
    return uuid.uuid4().hex


def loggable_path(path: str) -> str:
    """The path as a log may hold it: control and non-printing characters (a decoded %0A)
    written back as %XX, so one request is one line."""
    return "".join(c if c.isprintable() else "".join(f"%{b:02X}" for b in c.encode()) for c in path)


class _TooLarge(Exception):
    """The request's body passed the limit while it was being read."""


class RequestMiddleware:
    def __init__(
        self,
        app: ASGIApp,
        max_body: int | None = None,
        one_connection: Callable[[], AbstractContextManager[None]] | None = None,
    ) -> None:
        self.app = app
        # The request's database work on one pooled connection (AppContext.one_connection),
        # returned when the response has been sent.
        self.one_connection = one_connection
        # No request body may be larger than this (the largest import file and a margin): a
        # multipart upload is read and spooled before a route, or its authentication, runs.
        self.max_body = max_body

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        rid = request_id_from(scope)
        scope.setdefault("state", {})["request_id"] = rid
        started = time.perf_counter()
        status: int | None = None  # once the response has begun

        async def send_with_headers(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
                headers = MutableHeaders(scope=message)
                headers[REQUEST_ID_HEADER] = rid
                for name, value in SECURITY_HEADERS.items():
                    headers[name] = value
            await send(message)

        limit = self.max_body
        read = 0

        async def bounded_receive() -> Message:
            nonlocal read
            message = await receive()
            if limit is not None and message["type"] == "http.request":
                read += len(message.get("body", b""))
                if read > limit:
                    raise _TooLarge
            return message

        # A fresh logger each request: structlog caches a logger on first use, and the
        # configuration may have changed since (tests reconfigure it).
        log = get_logger("ssj.web")
        with structlog.contextvars.bound_contextvars(request_id=rid):
            try:
                declared = dict(scope.get("headers") or []).get(b"content-length", b"")
                if limit is not None and declared.isdigit() and int(declared) > limit:
                    raise _TooLarge
                if self.one_connection is None:
                    await self.app(scope, bounded_receive, send_with_headers)
                else:
                    with self.one_connection():
                        await self.app(scope, bounded_receive, send_with_headers)
            except _TooLarge:
                if status is not None:
                    raise
                await _too_large(send_with_headers, rid, scope, limit or 0)
            except Exception:
                log.exception(
                    "unhandled error", method=scope.get("method"), path=loggable_path(scope["path"])
                )
                if status is not None:
                    raise  # the response has begun: nothing better can be sent now
                await _internal_error(send_with_headers, rid, scope)
            finally:
                log.info(
                    "request",
                    method=scope.get("method"),
                    path=loggable_path(scope["path"]),
                    status=500 if status is None else status,
                    duration_ms=round((time.perf_counter() - started) * 1000, 1),
                )


async def _too_large(send: Send, rid: str, scope: Scope, limit: int) -> None:
    body = problem_body(
        status=413,
        code="payload_too_large",
        detail=f"请求体超过 {limit // 2**20} MB 的上限（imports.max_file_mb），未读取",
        instance=scope.get("path"),
        request_id=rid,
    )
    await _answer(send, 413, body)


async def _internal_error(send: Send, rid: str, scope: Scope) -> None:
    body = internal_error_body(rid, scope.get("path"))
    accept = dict(scope.get("headers") or []).get(b"accept", b"").decode("latin-1")
    if wants_html(str(scope.get("path", "")), accept):
        await _answer_html(send, 500, error_html(500, str(body["detail"]), request_id=rid))
        return
    await _answer(send, 500, body)


async def _answer_html(send: Send, status: int, page: str) -> None:
    body = page.encode("utf-8")
    headers: list[tuple[bytes, bytes]] = [
        (b"content-type", b"text/html; charset=utf-8"),
        (b"content-length", str(len(body)).encode()),
        (b"content-language", b"zh-CN"),
    ]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


async def _answer(send: Send, status: int, problem: dict[str, Any]) -> None:
    import json

    body = json.dumps(problem, ensure_ascii=False).encode("utf-8")
    headers: list[tuple[bytes, bytes]] = [
        (b"content-type", PROBLEM_JSON.encode()),
        (b"content-length", str(len(body)).encode()),
        (b"content-language", b"zh-CN"),
    ]
    message: dict[str, Any] = {"type": "http.response.start", "status": status, "headers": headers}
    await send(message)
    await send({"type": "http.response.body", "body": body})
