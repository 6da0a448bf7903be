"""Who is asking (DESIGN §8): an API token (``Authorization: Bearer ssj_…``) or a session
cookie, turned into the account; and what it may do, by the role × action matrix.

Sessions: the cookie ``ssj_session`` carries a random session id signed with the database's
session secret (itsdangerous), HttpOnly and SameSite=Lax (Secure when ``web.secure_cookies``);
the table keeps only the id's SHA-256, so a logout or a password change ends it for whoever
holds the cookie. A new id at every login (rotation). A write authenticated by the cookie must
carry the session's CSRF token in ``X-CSRF-Token`` (the login answer and ``GET /me`` give it);
a bearer token is not sent by browsers on their own and needs none.

Routes declare their action with ``Authorized("task.read")``; the account comes back bound to
nothing — a write route binds it (``acting``) around the application call, so that its events
name the account and the request id.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Annotated, Any

import sqlalchemy.exc
from fastapi import Depends, Request, Response
from itsdangerous import BadSignature, URLSafeSerializer
from sqlalchemy import text

from web._deps import app_context
from web._problems import Problem
from workflow.app import AppContext
from workflow.core import accounts, identity, permissions
from workflow.core.clock import format_utc
from workflow.core.db import RawConnection
from workflow.core.errors import Unauthenticated
from workflow.core.identity import Actor

__all__ = [
    "CSRF_HEADER",
    "SESSION_COOKIE",
    "Authorized",
    "acting",
    "cookie_session",
    "cookie_value",
    "session_of",
    "set_session_cookie",
    "sign_in",
    "sign_out",
    "signer",
]

SESSION_COOKIE = "ssj_session"
CSRF_HEADER = "X-CSRF-Token"
_SAFE = frozenset({"GET", "HEAD", "OPTIONS"})
_SECRET_KEY = "session_secret"
_SECRETS: dict[int, str] = {}  # per application context: read once


def _secret(ctx: AppContext) -> str:
    """The key that signs session cookies: one per database (so every process of the service
    shares it), made on first use."""
    cached = _SECRETS.get(id(ctx))
    if cached:
        return cached
    with ctx.engine.begin() as c:
        row = c.execute(
            text("SELECT value FROM database_info WHERE key = :k"), {"k": _SECRET_KEY}
        ).first()
        if row is None:
            try:
                value = secrets.token_hex(32)
                c.execute(
                    text("INSERT INTO database_info (key, value) VALUES (:k, :v)"),
                    {"k": _SECRET_KEY, "v": value},
                )
                row = (value,)
            except sqlalchemy.exc.IntegrityError:  # another process made it first
                row = None
    if row is None:
        with ctx.engine.connect() as c:
            row = c.execute(
                text("SELECT value FROM database_info WHERE key = :k"), {"k": _SECRET_KEY}
            ).first()
    assert row is not None
    _SECRETS[id(ctx)] = str(row[0])
    return str(row[0])


def _serializer(ctx: AppContext) -> URLSafeSerializer:
    return URLSafeSerializer(_secret(ctx), salt="ssj-session")


def signer(ctx: AppContext, salt: str) -> URLSafeSerializer:
    """A serializer under the database's session secret for another purpose (``salt``): the
    login form's double-submit token (web/_pages.py)."""
    return URLSafeSerializer(_secret(ctx), salt=salt)


def cookie_value(ctx: AppContext, session_id: str) -> str:
    return str(_serializer(ctx).dumps(session_id))


def session_of(ctx: AppContext, request: Request) -> str | None:
    """The session id the request's cookie carries, if its signature holds."""
    raw = request.cookies.get(SESSION_COOKIE)
    if not raw:
        return None
    try:
        sid = _serializer(ctx).loads(raw)
    except BadSignature:
        return None
    return sid if isinstance(sid, str) else None


def _now(ctx: AppContext) -> str:
    return format_utc(ctx.clock.now())


def sign_in(
    ctx: AppContext, request: Request, username: str, password: str
) -> tuple[Actor, str, str]:
    """A login, for the API and the login page alike: the password checked with the
    configured throttling (per account name and per address), then a new session that ends
    the one the request's cookie carried (rotation). (account, session id, CSRF token)."""
    web = ctx.settings.web
    limits = accounts.Throttle(
        web.login_failures_per_account, web.login_failures_per_address, web.login_window_minutes
    )
    address = request.client.host if request.client else "unknown"
    with ctx.connect() as raw:
        who = accounts.login(
            raw, username, password, address=address, now=_now(ctx), throttle=limits
        )
        sid, csrf = accounts.start_session(
            raw, who, now=_now(ctx), hours=web.session_hours, replaces=session_of(ctx, request)
        )
    return who, sid, csrf


def set_session_cookie(ctx: AppContext, response: Response, sid: str) -> None:
    """The signed session cookie: HttpOnly, SameSite=Lax, Secure when configured."""
    web = ctx.settings.web
    response.set_cookie(
        SESSION_COOKIE,
        cookie_value(ctx, sid),
        max_age=web.session_hours * 3600,
        httponly=True,
        samesite="lax",
        secure=web.secure_cookies,
        path="/",
    )


def sign_out(ctx: AppContext, request: Request, response: Response) -> None:
    """End the request's session, if any, and clear its cookie."""
    sid = session_of(ctx, request)
    if sid is not None:
        with ctx.connect() as raw:
            accounts.end_session(raw, sid, now=_now(ctx))
    response.delete_cookie(SESSION_COOKIE, path="/")


def _session(ctx: AppContext, request: Request, raw: RawConnection) -> tuple[Actor | None, str]:
    """The account of the request's session cookie and the session's CSRF token, or
    (None, "") without a live session."""
    sid = session_of(ctx, request)
    if sid is None:
        return None, ""
    with raw.read() as cur:
        try:
            return accounts.session_actor(cur, raw.sql, sid, now=_now(ctx))
        except Unauthenticated:
            return None, ""


def cookie_session(ctx: AppContext, request: Request) -> tuple[Actor | None, str]:
    """The pages' authentication: the session cookie's account (with the request id) and the
    session's CSRF token, which each page form carries in a hidden field; (None, "") for an
    anonymous visitor. Bearer tokens are for scripts, not pages."""
    with ctx.connect() as raw:
        who, csrf = _session(ctx, request, raw)
    if who is not None:
        who = who.with_request(getattr(request.state, "request_id", None))
    return who, csrf


def _actor(request: Request, ctx: AppContext) -> Actor | None:
    """The request's account: a bearer token, else a live session (checking CSRF on writes),
    else nobody."""
    if hasattr(request.state, "actor"):
        known: Actor | None = request.state.actor
        return known
    rid = getattr(request.state, "request_id", None)
    header = request.headers.get("authorization", "")
    who: Actor | None = None
    with ctx.connect() as raw:
        if header:
            scheme, _, token = header.partition(" ")
            if scheme.lower() != "bearer" or not token.strip():
                raise Unauthenticated("Authorization 头应为 Bearer 令牌", field="authorization")
            with raw.statement() as cur:  # one SELECT: no transaction round trips
                who = accounts.token_actor(cur, raw.sql, token)
        else:
            who, csrf = _session(ctx, request, raw)
            if who is not None and request.method not in _SAFE:
                sent = request.headers.get(CSRF_HEADER, "")
                if not secrets.compare_digest(sent, csrf):
                    raise Problem(
                        403,
                        "csrf_failed",
                        f"使用登录会话的写操作须在 {CSRF_HEADER} 头中带上会话的 CSRF 令牌",
                    )
    if who is not None:
        who = who.with_request(rid)
    request.state.actor = who
    return who


def Authorized(action: str) -> Any:
    """``who: Annotated[Actor, Authorized("task.read")]``: the account, if the matrix lets its
    role take ``action``; 401 without an account, 403 for a role that may not."""
    if action not in permissions.MATRIX:
        raise ValueError(f"undeclared action {action!r}")

    # ``async``: the lookup (one indexed statement on the request's connection, ≈ 0.2 ms)
    # runs on the event loop. As a plain ``def`` FastAPI ran it on its thread pool, and that
    # hop cost more than the lookup: ≈ 0.7 ms of the server's CPU per write (bench/api.py).
    async def dependency(request: Request, ctx: Annotated[AppContext, Depends(app_context)]) -> Any:
        who = _actor(request, ctx)
        permissions.require(who, action)
        return who

    dependency.__name__ = f"authorized_{action.replace('.', '_')}"
    return Depends(dependency)


@contextmanager
def acting(who: Actor | None) -> Iterator[Actor | None]:
    """Bind ``who`` (with its request id) around an application call that writes."""
    with identity.acting_as(who) as bound:
        yield bound
