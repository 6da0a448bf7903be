"""Units and accounts: ``/api/v1/units`` (list, add, edit, import a sheet) and
``/api/v1/users`` (list, add, show, disable, enable, reset a password) — each within the
account's unit subtree and the role matrix, through the functions ``ssj unit`` and ``ssj user``
call. A unit sheet is uploaded (multipart) and validated whole as ``ssj unit import`` does:
one bad row rejects the file, 422 listing every row's problem, nothing written. And
``/api/v1/config``: the effective settings with their sources, as ``ssj config show``."""

from __future__ import annotations

import os
from typing import Annotated, Any

from fastapi import APIRouter, Form, Response, UploadFile
from pydantic import BaseModel, Field

from web._auth import Authorized, acting
from web._deps import ContextDep
from web._files import uploaded
from web._paging import After, Limit, window
from web._text import Line, Text
from workflow.app import AppContext
from workflow.core import accounts, config, units
from workflow.core.clock import format_utc
from workflow.core.identity import Actor
from workflow.sampling import unit_table

router = APIRouter(tags=["单位与账号"])


class UnitOut(BaseModel):
    code: str
    name: str
    kind: str
    kind_label: str
    parent: str | None
    head: str
    email: str
    reports: bool


class UnitIn(BaseModel):
    code: Line = Field(max_length=32, description="单位代码，如 410421 或 410421-01")
    name: Line = Field(max_length=200, description="单位名称")
    kind: Line = Field(max_length=10, description="层级：省级、市级、县级 或 科室")
    parent: Line = Field(max_length=32, description="上级单位代码")
    head: Line = Field("", max_length=100, description="负责人（逾期督办的通知对象）")
    email: Line = Field("", max_length=200, description="负责人电子邮箱")
    reports: bool = Field(False, description="科室须报送定期报告")


class UnitPatch(BaseModel):
    """Only the fields given change (the parent never does)."""

    code: Line | None = Field(None, max_length=32, description="新的单位代码")
    name: Line | None = Field(None, max_length=200)
    kind: Line | None = Field(
        None, max_length=10, description="省级、市级、县级（局与科室之间不可改）"
    )
    head: Line | None = Field(None, max_length=100)
    email: Line | None = Field(None, max_length=200)
    reports: bool | None = None


class UnitSheet(BaseModel):
    file: UploadFile = Field(description="单位表：.csv 或 .xlsx（模板同 ssj template units）")
    dry_run: bool = Field(default=False, description="只校验并报告变化，不写入")


class UnitImportOut(BaseModel):
    file: str
    rows: int
    added: list[str]
    changed: list[str]
    unchanged: int
    dry_run: bool


class AccountOut(BaseModel):
    id: int
    username: str
    name: str
    role: str
    role_label: str
    unit: str
    unit_name: str
    inspector: str | None
    inspector_name: str | None
    email: str
    disabled: bool
    created_at: str


class AccountIn(BaseModel):
    username: str = Field(max_length=64)
    name: Line = Field("", max_length=50)
    role: str = Field(max_length=20, description="admin / clerk / inspector / supervisor / auditor")
    unit: str = Field(max_length=32, description="单位代码")
    password: str = Field(min_length=1, max_length=256)
    email: Line = Field("", max_length=200)
    inspector: str | None = Field(None, max_length=50, description="执法人员账号：执法证号")


class ReasonIn(BaseModel):
    reason: Text | None = Field(None, max_length=2000, description="原因（记入审计日志）")


class PasswordReset(BaseModel):
    new_password: str = Field(min_length=1, max_length=256, description="新密码（不记入任何日志）")


def _now(ctx: AppContext) -> str:
    return format_utc(ctx.clock.now())


def _unit_out(cur: Any, sql: Any, u: units.Unit) -> UnitOut:
    parent = None
    if u.parent_id is not None:
        cur.execute(sql("SELECT code FROM unit WHERE id = ?"), (u.parent_id,))
        parent = cur.fetchone()[0]
    return UnitOut(
        code=u.code, name=u.name, kind=u.kind, kind_label=units.KINDS[u.kind], parent=parent,
        head=u.head, email=u.email, reports=u.reports,
    )  # fmt: skip


# --- units ----------------------------------------------------------------------------------


class UnitPage(BaseModel):
    items: list[UnitOut]
    next_after: int | None = Field(description="下一页：把它作为 after 参数；null 表示已到末页")


@router.get("/units", summary="本单位及下级单位（上级在前）", response_model=UnitPage)
def list_units(
    who: Annotated[Actor, Authorized("unit.read")],
    ctx: ContextDep,
    after: After = None,
    limit: Limit = 100,
) -> UnitPage:
    with ctx.connect() as raw, raw.read() as cur:
        found = [u for u in units.load(cur, raw.sql) if who.sees_path(u.path)]
        codes = {u.id: u.code for u in units.load(cur, raw.sql)}
    page, next_after = window(found, after, limit)
    return UnitPage(
        items=[
            UnitOut(
                code=u.code,
                name=u.name,
                kind=u.kind,
                kind_label=units.KINDS[u.kind],
                parent=codes.get(u.parent_id) if u.parent_id else None,
                head=u.head,
                email=u.email,
                reports=u.reports,
            )
            for u in page
        ],
        next_after=next_after,
    )


@router.post("/units", summary="新增单位（上级须在本单位及下级单位之内）", status_code=201)
def add_unit(
    body: UnitIn, who: Annotated[Actor, Authorized("unit.manage")], ctx: ContextDep
) -> UnitOut:
    with ctx.connect() as raw:
        new = units.NewUnit(
            body.code, body.name, units.parse_kind(body.kind), body.parent, body.head,
            body.email, body.reports,
        )  # fmt: skip
        with acting(who):
            made = units.add(raw, new, actor=who.username, now=_now(ctx), within=who)
        with raw.read() as cur:
            return _unit_out(cur, raw.sql, made)


@router.patch("/units/{code}", summary="修改单位（上级不可改）")
def edit_unit(
    code: Line, body: UnitPatch, who: Annotated[Actor, Authorized("unit.manage")], ctx: ContextDep
) -> UnitOut:
    with ctx.connect() as raw:
        changes = body.model_dump(exclude_unset=True)
        with acting(who):
            made = units.edit(raw, code, changes, actor=who.username, now=_now(ctx), within=who)
        with raw.read() as cur:
            return _unit_out(cur, raw.sql, made)


@router.post(
    "/units/import",
    summary="导入单位表（.csv 或 .xlsx）：整表校验，任一行有误则整表拒绝并列出全部问题",
    response_model=UnitImportOut,
    description="文件有误时答 422（import_rejected）：errors 逐行列出问题（行号、列名、值、问题），未写入任何数据。",
)
def import_units(
    who: Annotated[Actor, Authorized("unit.manage")],
    ctx: ContextDep,
    form: Annotated[UnitSheet, Form(media_type="multipart/form-data")],
) -> UnitImportOut:
    with uploaded(form.file, ctx.settings.imports) as path, ctx.connect() as raw, acting(who):
        s = unit_table.import_units(
            raw, path, actor=who.username, now=_now(ctx), dry_run=form.dry_run, within=who
        )
    return UnitImportOut(
        file=path.name, rows=s.rows, added=s.added, changed=s.changed, unchanged=s.unchanged,
        dry_run=s.dry_run,
    )  # fmt: skip


# --- accounts -------------------------------------------------------------------------------


class AccountPage(BaseModel):
    items: list[AccountOut]
    next_after: int | None = Field(description="下一页：把它作为 after 参数；null 表示已到末页")


@router.get("/users", summary="本单位及下级单位的账号", response_model=AccountPage)
def list_users(
    who: Annotated[Actor, Authorized("user.read")],
    ctx: ContextDep,
    after: After = None,
    limit: Limit = 100,
) -> AccountPage:
    with ctx.connect() as raw, raw.read() as cur:
        found = accounts.listing(cur, raw.sql, who)
    page, next_after = window(found, after, limit)
    return AccountPage(items=[AccountOut(**a.as_json()) for a in page], next_after=next_after)


@router.post("/users", summary="新增账号", response_model=AccountOut, status_code=201)
def add_user(
    body: AccountIn, who: Annotated[Actor, Authorized("user.manage")], ctx: ContextDep
) -> AccountOut:
    with ctx.connect() as raw:
        new = accounts.NewAccount(
            body.username, body.name, body.role, body.unit, body.password, body.email,
            body.inspector,
        )  # fmt: skip
        with acting(who):
            made = accounts.add(raw, new, by=who, now=_now(ctx))
    return AccountOut(**made.as_json())


@router.get("/users/{username}", summary="查看账号", response_model=AccountOut)
def show_user(
    username: Line, who: Annotated[Actor, Authorized("user.read")], ctx: ContextDep
) -> AccountOut:
    with ctx.connect() as raw, raw.read() as cur:
        return AccountOut(**accounts.get(cur, raw.sql, username, who).as_json())


def _set_disabled(
    ctx: AppContext, who: Actor, username: str, disabled: bool, body: ReasonIn | None
) -> AccountOut:
    with ctx.connect() as raw, acting(who):
        made = accounts.set_disabled(
            raw, username, disabled, by=who, now=_now(ctx), reason=body.reason if body else None
        )
    return AccountOut(**made.as_json())


@router.post(
    "/users/{username}/disable",
    summary="停用账号（立即退出其所有登录，其 API 令牌失效）",
    response_model=AccountOut,
)
def disable_user(
    username: Line,
    who: Annotated[Actor, Authorized("user.manage")],
    ctx: ContextDep,
    body: ReasonIn | None = None,
) -> AccountOut:
    return _set_disabled(ctx, who, username, True, body)


@router.post("/users/{username}/enable", summary="重新启用账号", response_model=AccountOut)
def enable_user(
    username: Line,
    who: Annotated[Actor, Authorized("user.manage")],
    ctx: ContextDep,
    body: ReasonIn | None = None,
) -> AccountOut:
    return _set_disabled(ctx, who, username, False, body)


@router.post(
    "/users/{username}/reset-password",
    summary="重置账号密码（该账号的所有登录随即退出）",
    status_code=204,
)
def reset_password(
    username: Line,
    body: PasswordReset,
    who: Annotated[Actor, Authorized("user.manage")],
    ctx: ContextDep,
) -> Response:
    with ctx.connect() as raw, acting(who):
        accounts.set_password(raw, username, body.new_password, by=who, now=_now(ctx))
    return Response(status_code=204)


# --- the effective settings ------------------------------------------------------------------


class SettingRow(BaseModel):
    key: str = Field(description="设置项（节.键）")
    value: Any = Field(description="生效值（数据库密码已遮盖，SMTP 密码只说明是否设置）")
    source: str = Field(description="来源：默认配置、配置文件、SSJ_* 环境变量或命令行")


class SettingsOut(BaseModel):
    items: list[SettingRow]


@router.get("/config", summary="生效的设置及其来源（不显示密码）", response_model=SettingsOut)
def effective_config(
    who: Annotated[Actor, Authorized("config.read")], ctx: ContextDep
) -> SettingsOut:
    rows = config.effective_settings(
        ctx.settings, ctx.config_sources, ctx.db_override, dict(os.environ)
    )
    return SettingsOut(items=[SettingRow(**r) for r in rows])
