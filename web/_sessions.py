"""Signing in and out, the account itself, and its API tokens: ``/api/v1/session``,
``/api/v1/me``, ``/api/v1/tokens``."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request, Response
from pydantic import BaseModel, Field

from web._auth import (
    SESSION_COOKIE,
    Authorized,
    acting,
    session_of,
    set_session_cookie,
    sign_in,
    sign_out,
)
from web._deps import ContextDep, app_context
from web._paging import After, Limit, window
from workflow.app import AppContext
from workflow.core import accounts
from workflow.core.clock import format_utc
from workflow.core.identity import Actor

router = APIRouter(tags=["账号与登录"])


class Login(BaseModel):
    username: str = Field(min_length=1, max_length=64, description="账号名")
    password: str = Field(min_length=1, max_length=256, description="密码")


class Me(BaseModel):
    id: int
    username: str
    name: str
    role: str
    unit: str
    inspector: str | None = None
    csrf_token: str | None = Field(None, description="会话的 CSRF 令牌：写操作放在 X-CSRF-Token 头")


class PasswordChange(BaseModel):
    current_password: str = Field(min_length=1, max_length=256)
    new_password: str = Field(min_length=1, max_length=256)


class NewToken(BaseModel):
    name: str = Field("API", max_length=100, description="用途")


class TokenCreated(BaseModel):
    token: str = Field(description="令牌全文：只返回这一次")
    prefix: str
    name: str
    username: str


class TokenInfo(BaseModel):
    id: int
    username: str
    name: str
    prefix: str
    created_at: str
    revoked: bool
    revoked_at: str | None = None


def _now(ctx: AppContext) -> str:
    return format_utc(ctx.clock.now())


def _me(who: Actor, csrf: str | None) -> Me:
    return Me(
        id=who.id,
        username=who.username,
        name=who.name,
        role=who.role,
        unit=who.unit_code,
        inspector=who.inspector_cert,
        csrf_token=csrf,
    )


@router.post("/session", summary="登录（设置会话 Cookie）", response_model=Me)
def login(body: Login, request: Request, response: Response, ctx: ContextDep) -> Me:
    who, sid, csrf = sign_in(ctx, request, body.username, body.password)
    set_session_cookie(ctx, response, sid)
    return _me(who, csrf)


@router.delete("/session", summary="退出登录", status_code=204)
def logout(request: Request, ctx: ContextDep) -> Response:
    response = Response(status_code=204)
    sign_out(ctx, request, response)
    return response


@router.get("/me", summary="当前账号", response_model=Me)
def me(
    request: Request,
    who: Annotated[Actor, Authorized("account.self")],
    ctx: Annotated[AppContext, Depends(app_context)],
) -> Me:
    csrf = None
    sid = session_of(ctx, request)
    if sid is not None and not request.headers.get("authorization"):
        with ctx.connect() as raw, raw.read() as cur:
            csrf = accounts.session_actor(cur, raw.sql, sid, now=_now(ctx))[1]
    return _me(who, csrf)


@router.put("/me/password", summary="修改本人密码（所有登录随即退出）", status_code=204)
def change_password(
    body: PasswordChange, who: Annotated[Actor, Authorized("account.self")], ctx: ContextDep
) -> Response:
    with ctx.connect() as raw, acting(who):
        accounts.set_password(
            raw, who.username, body.new_password, by=who, now=_now(ctx),
            current=body.current_password,
        )  # fmt: skip
    response = Response(status_code=204)
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response


@router.post("/tokens", summary="创建 API 令牌（全文只返回一次）", status_code=201)
def create_token(
    body: NewToken, who: Annotated[Actor, Authorized("token.manage")], ctx: ContextDep
) -> TokenCreated:
    with ctx.connect() as raw, acting(who):
        text, token = accounts.create_token(raw, who.username, body.name, by=who, now=_now(ctx))
    return TokenCreated(
        token=text, prefix=f"ssj_{token.lookup}", name=token.name, username=token.username
    )


class TokenPage(BaseModel):
    items: list[TokenInfo]
    next_after: int | None = Field(description="下一页：把它作为 after 参数；null 表示已到末页")


@router.get("/tokens", summary="本人的 API 令牌（只列前缀）")
def list_tokens(
    who: Annotated[Actor, Authorized("token.manage")],
    ctx: ContextDep,
    after: After = None,
    limit: Limit = 100,
) -> TokenPage:
    with ctx.connect() as raw, raw.read() as cur:
        found = accounts.tokens(cur, raw.sql, who.username, by=who)
    page, next_after = window(found, after, limit)
    return TokenPage(items=[TokenInfo(**t.as_json()) for t in page], next_after=next_after)


@router.delete("/tokens/{prefix}", summary="吊销 API 令牌", status_code=204)
def revoke_token(
    prefix: str, who: Annotated[Actor, Authorized("token.manage")], ctx: ContextDep
) -> Response:
    with ctx.connect() as raw, acting(who):
        accounts.revoke_token(raw, prefix, by=who, now=_now(ctx))
    return Response(status_code=204)
