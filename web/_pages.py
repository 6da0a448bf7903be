"""The zh-CN pages (issue #12): server-rendered Jinja2 (web/templates/), enhanced with htmx
where it helps, every script and stylesheet served from ``/static/`` by ssj itself. Pages
are an interface like the API: they call the same application functions under the same role
× action matrix (``permissions``), and hold no rule.

This module: who is looking at a page (``PageUser(action)``, the session cookie's account;
anonymous visitors are sent to ``/login?next=…`` with 303), the layout's context (the unit,
the account, its role, the navigation the matrix allows), the login and logout forms, and
``/``, each role's start page. The pages of each area live in ``web/_pages_*.py``.

Forms post with a CSRF token in a hidden field: the session's own token once signed in
(the one the API takes in ``X-CSRF-Token``); on the login form, before any session, a signed
random value that must also come back in the ``ssj_login`` cookie (double submit).
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import APIRouter, Depends, FastAPI, Request
from fastapi.responses import RedirectResponse, Response
from itsdangerous import BadSignature, URLSafeSerializer
from starlette.staticfiles import StaticFiles

from web._auth import cookie_session, set_session_cookie, sign_in, sign_out, signer
from web._deps import ContextDep, app_context
from web._templates import STATIC_DIR, login_redirect, render, safe_next
from workflow.app import AppContext
from workflow.core import permissions, units
from workflow.core.errors import Forbidden, TooManyAttempts, Unauthenticated
from workflow.core.identity import Actor

__all__ = ["NAV", "LoginRequired", "NavItem", "PageUser", "install", "nav_for", "router"]

router = APIRouter(include_in_schema=False)

LOGIN_COOKIE = "ssj_login"
CSRF_FIELD = "csrf_token"


@dataclass(frozen=True, slots=True)
class NavItem:
    label: str
    href: str
    action: str  # shown to the roles the matrix lets take it


# The navigation, declared once; each role sees what the matrix allows it.
NAV: tuple[NavItem, ...] = (
    NavItem("首页", "/", "account.self"),
    NavItem("督办看板", "/dashboard", "deadline.read"),
    NavItem("逾期事项", "/overdue", "deadline.read"),
    NavItem("即将到期", "/upcoming", "deadline.read"),
    NavItem("任务", "/tasks", "task.read"),
    # The administrator's (web/_pages_admin.py, web/_pages_admin_system.py).
    NavItem("单位管理", "/admin/units", "unit.manage"),
    NavItem("账号管理", "/admin/users", "user.manage"),
    NavItem("邮件队列", "/admin/outbox", "outbox.read"),
    NavItem("工作日历", "/admin/calendar", "calendar.notice"),
    NavItem("系统设置", "/admin/settings", "config.read"),
    NavItem("API 令牌", "/tokens", "token.manage"),
    NavItem("审计日志", "/audit/events", "audit.read"),
    NavItem("校验哈希链", "/audit/verify", "audit.verify"),
    NavItem("任务回放", "/audit/replay", "audit.replay"),
    NavItem("导出日志", "/audit/export", "audit.export"),
    NavItem("检查点", "/audit/checkpoints", "audit.checkpoint"),
)


def nav_for(role: str) -> list[NavItem]:
    return [n for n in NAV if permissions.allowed(role, n.action)]


@dataclass(frozen=True, slots=True)
class Page:
    """What the layout shows of the account looking at the page."""

    who: Actor
    csrf: str
    unit_name: str
    unit_code: str
    role_label: str
    nav: list[NavItem]
    path: str


class LoginRequired(Exception):
    """A page asked for by nobody signed in: answered 303 to ``/login?next=…``."""


def _page(ctx: AppContext, request: Request, who: Actor, csrf: str) -> Page:
    with ctx.connect() as raw, raw.read() as cur:
        unit = units.by_id(cur, raw.sql, who.unit_id)
    return Page(
        who=who,
        csrf=csrf,
        unit_name=unit.name,
        unit_code=unit.code,
        role_label=permissions.ROLES.get(who.role, who.role),
        nav=nav_for(who.role),
        path=request.url.path,
    )


def PageUser(action: str) -> Any:
    """``who: Annotated[Actor, PageUser("deadline.read")]``: the signed-in account, if the
    matrix lets its role take ``action`` (403 page otherwise); nobody signed in: 303 to the
    login page. The layout's context goes on ``request.state.page``."""
    if action not in permissions.MATRIX:
        raise ValueError(f"undeclared action {action!r}")

    def dependency(request: Request, ctx: Annotated[AppContext, Depends(app_context)]) -> Actor:
        who, csrf = cookie_session(ctx, request)
        if who is None:
            raise LoginRequired
        request.state.page = _page(ctx, request, who, csrf)
        permissions.require(who, action)
        return who

    dependency.__name__ = f"page_{action.replace('.', '_')}"
    return Depends(dependency)


def check_csrf(request: Request, sent: str) -> None:
    """A signed-in form's hidden token must be the session's."""
    page: Page | None = getattr(request.state, "page", None)
    if page is None or not sent or not secrets.compare_digest(sent, page.csrf):
        raise Forbidden("表单已过期或来源不明，请刷新页面后重新提交", field=CSRF_FIELD)


# --- login and logout --------------------------------------------------------------------------


def _login_serializer(ctx: AppContext) -> URLSafeSerializer:
    return signer(ctx, "ssj-login-form")


def _login_form(
    request: Request,
    ctx: AppContext,
    *,
    next_: str,
    username: str = "",
    error: str | None = None,
    status: int = 200,
) -> Response:
    token = secrets.token_urlsafe(24)
    response = render(
        request,
        "login.html",
        {"next": next_, "username": username, "error": error, "csrf_token": token},
        status=status,
    )
    response.set_cookie(
        LOGIN_COOKIE,
        _login_serializer(ctx).dumps(token),
        max_age=3600,
        httponly=True,
        samesite="strict",
        secure=ctx.settings.web.secure_cookies,
        path="/login",
    )
    return response


@router.get("/login")
def login_page(request: Request, ctx: ContextDep, next: str | None = None) -> Response:
    target = safe_next(next)
    who, _ = cookie_session(ctx, request)
    if who is not None:
        return RedirectResponse(target, status_code=303)
    return _login_form(request, ctx, next_=target)


def _login_token_ok(request: Request, ctx: AppContext, sent: str) -> bool:
    raw = request.cookies.get(LOGIN_COOKIE, "")
    try:
        expected = _login_serializer(ctx).loads(raw) if raw else ""
    except BadSignature:
        return False
    return bool(sent) and isinstance(expected, str) and secrets.compare_digest(sent, expected)


@router.post("/login")
async def login_submit(request: Request, ctx: ContextDep) -> Response:
    form = await request.form()
    username = str(form.get("username") or "")[:64]
    password = str(form.get("password") or "")[:256]
    target = safe_next(str(form.get("next") or "/"))
    if not _login_token_ok(request, ctx, str(form.get(CSRF_FIELD) or "")):
        return _login_form(
            request, ctx, next_=target, username=username, status=400,
            error="登录页面已过期，请重新输入密码后登录",
        )  # fmt: skip
    if not username.strip() or not password:
        return _login_form(
            request, ctx, next_=target, username=username, status=422,
            error="请输入用户名和密码",
        )  # fmt: skip
    from starlette.concurrency import run_in_threadpool

    try:
        _, sid, _ = await run_in_threadpool(sign_in, ctx, request, username, password)
    except TooManyAttempts as e:
        return _login_form(
            request, ctx, next_=target, username=username, error=e.message, status=429
        )
    except Unauthenticated as e:
        return _login_form(
            request, ctx, next_=target, username=username, error=e.message, status=401
        )
    response = RedirectResponse(target, status_code=303)
    set_session_cookie(ctx, response, sid)
    response.delete_cookie(LOGIN_COOKIE, path="/login")
    return response


@router.post("/logout")
async def logout(request: Request, ctx: ContextDep) -> Response:
    form = await request.form()
    who, csrf = cookie_session(ctx, request)
    response = RedirectResponse("/login", status_code=303)
    if who is None:
        return response  # nothing to end
    sent = str(form.get(CSRF_FIELD) or "")
    if not sent or not secrets.compare_digest(sent, csrf):
        request.state.page = _page(ctx, request, who, csrf)
        raise Forbidden("表单已过期或来源不明，请刷新页面后重新提交", field=CSRF_FIELD)
    sign_out(ctx, request, response)
    return response


# --- each role's start page --------------------------------------------------------------------

_START: dict[str, str] = {
    "admin": "系统管理：单位、账号、邮件队列、工作日历与设置。",
    "clerk": "录入与办理：名录、计划、抽取、检查结果、公示与后续处理。",
    "inspector": "本人所在检查组的任务：录入检查结果与后续处理。",
    "supervisor": "本单位及下级单位的督办看板。",
    "auditor": "审计日志：校验、回放、检索与导出。",
}


@router.get("/")
def start(
    request: Request, who: Annotated[Actor, PageUser("account.self")], ctx: ContextDep
) -> Response:
    """Each role's start page; the supervisor's is the dashboard."""
    if who.role == "supervisor":
        from web._pages_deadlines import dashboard_page

        return dashboard_page(request, who, ctx)
    return render(request, "start.html", {"summary": _START.get(who.role, "")})


# --- installation ------------------------------------------------------------------------------


async def _login_required(request: Request, exc: Exception) -> Response:
    return login_redirect(request)


def install(app: FastAPI, routers: list[APIRouter] | None = None) -> None:
    """The pages on ``app``: their routes, ``/static/``, and the login redirect."""
    app.add_exception_handler(LoginRequired, _login_required)
    app.mount("/static", StaticFiles(directory=STATIC_DIR, check_dir=False), name="static")
    app.include_router(router)
    for r in routers or []:
        app.include_router(r)
