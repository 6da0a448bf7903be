"""Units, accounts and the audit chain's check: ``/api/v1/units``, ``/api/v1/users``,
``/api/v1/audit/verify`` — each within the account's unit subtree and the role matrix."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter
from pydantic import BaseModel, Field

from web._auth import Authorized, acting
from web._deps import ContextDep
from workflow.core import accounts, audit, units
from workflow.core.clock import format_utc
from workflow.core.identity import Actor

router = APIRouter(tags=["单位、账号与审计"])


class UnitOut(BaseModel):
    code: str
    name: str
    kind: str
    kind_label: str
    parent: str | None
    head: str
    email: str
    reports: bool


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
    name: str = Field("", max_length=50)
    role: str = Field(max_length=20, description="admin / clerk / inspector / supervisor / auditor")
    unit: str = Field(max_length=32, description="单位代码")
    password: str = Field(min_length=1, max_length=256)
    email: str = Field("", max_length=200)
    inspector: str | None = Field(None, max_length=50, description="执法人员账号：执法证号")


class VerifyOut(BaseModel):
    ok: bool
    events: int
    first_bad_seq: int | None
    reason: str | None
    head_seq: int
    head_hash: str


@router.get("/units", summary="本单位及下级单位", response_model=list[UnitOut])
def list_units(who: Annotated[Actor, Authorized("unit.read")], ctx: ContextDep) -> list[UnitOut]:
    with ctx.connect() as raw, raw.read() as cur:
        found = [u for u in units.load(cur, raw.sql) if who.sees_path(u.path)]
    codes = {u.id: u.code for u in found}
    return [
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
        for u in found
    ]


@router.get("/users", summary="本单位及下级单位的账号", response_model=list[AccountOut])
def list_users(who: Annotated[Actor, Authorized("user.read")], ctx: ContextDep) -> list[AccountOut]:
    with ctx.connect() as raw, raw.read() as cur:
        return [AccountOut(**a.as_json()) for a in accounts.listing(cur, raw.sql, who)]


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
            made = accounts.add(raw, new, by=who, now=format_utc(ctx.clock.now()))
    return AccountOut(**made.as_json())


@router.get("/audit/verify", summary="校验审计日志的哈希链", response_model=VerifyOut)
def verify(who: Annotated[Actor, Authorized("audit.verify")], ctx: ContextDep) -> VerifyOut:
    with ctx.connect() as raw:
        r = audit.verify_db(raw)
    return VerifyOut(
        ok=r.ok, events=r.events, first_bad_seq=r.first_bad_seq, reason=r.reason,
        head_seq=r.head_seq, head_hash=r.head_hash,
    )  # fmt: skip
