"""The mail queue: ``GET /api/v1/outbox`` (``ssj outbox list``: by status, paged by id) and
``POST /api/v1/outbox/{outbox_id}/retry`` (``ssj outbox retry``). The queue is the whole
database's: for the accounts of the root unit (workflow/deadlines/mail.py)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query
from pydantic import BaseModel, Field

from web._auth import Authorized, acting
from web._deps import ContextDep
from web._paging import After, Limit
from web._text import Line
from workflow.core import input_limits
from workflow.core.clock import format_utc
from workflow.core.identity import Actor
from workflow.deadlines import mail

router = APIRouter(tags=["邮件队列"])


class OutboxMessage(BaseModel):
    id: int
    key: str
    recipient: str
    recipient_name: str
    template: str
    digest: bool
    status: str = Field(description="pending 待发 / sending 发送中 / sent 已发 / dead 死信")
    attempts: int
    next_attempt_at: str
    last_error: str | None
    created_at: str
    sent_at: str | None


class OutboxCounts(BaseModel):
    pending: int
    sending: int
    sent: int
    dead: int


class OutboxPage(BaseModel):
    items: list[OutboxMessage]
    counts: OutboxCounts
    next_after: int | None = Field(description="下一页：把它作为 after 参数；null 表示已到末页")


class OutboxRetried(BaseModel):
    id: int
    previous_status: str
    status: str


@router.get("/outbox", summary="邮件队列（按状态筛选，按 ID 分页）", response_model=OutboxPage)
def list_outbox(
    who: Annotated[Actor, Authorized("outbox.read")],
    ctx: ContextDep,
    status: Annotated[
        Line | None, Query(max_length=16, description="pending / sending / sent / dead")
    ] = None,
    after: After = None,
    limit: Limit = 50,
) -> OutboxPage:
    with ctx.connect() as raw:
        rows, counts = mail.queue(raw, status=status, after=after, limit=limit + 1, by=who)
    more = len(rows) > limit
    rows = rows[:limit]
    return OutboxPage(
        items=[OutboxMessage(**r) for r in rows],
        counts=OutboxCounts(**counts),
        next_after=rows[-1]["id"] if more else None,
    )


@router.post(
    "/outbox/{outbox_id}/retry",
    summary="把一封死信（或等待重试的邮件）立即放回发送队列",
    response_model=OutboxRetried,
)
def retry(
    outbox_id: Annotated[int, Path(ge=1, le=input_limits.ID_MAX)],
    who: Annotated[Actor, Authorized("outbox.manage")],
    ctx: ContextDep,
) -> OutboxRetried:
    with ctx.connect() as raw, acting(who):
        before = mail.retry(raw, outbox_id, format_utc(ctx.clock.now()), by=who)
    return OutboxRetried(id=outbox_id, previous_status=before, status="pending")
