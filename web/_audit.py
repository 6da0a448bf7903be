"""The audit log: ``/api/v1/audit/verify`` (the hash chain), ``/api/v1/audit/events`` (the log
searched by task, account, kind and time), ``/api/v1/audit/replay/{task}`` (a task rebuilt from
the log as of a moment), ``/api/v1/audit/export`` (the whole log as JSON Lines, streamed, in
the format of ``ssj audit export``) and ``/api/v1/audit/checkpoints`` (the head signed out, and
a kept checkpoint checked). The same application functions as ``ssj audit``."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated, Any

from fastapi import APIRouter, Query
from fastapi.responses import StreamingResponse
from pydantic import BaseModel, ConfigDict, Field

from web._auth import Authorized
from web._deps import ContextDep
from web._paging import After, Limit
from web._text import Line
from workflow.app import AppContext
from workflow.core import audit, input_limits, queries, refs
from workflow.core.clock import format_utc
from workflow.core.db import RawConnection
from workflow.core.identity import Actor
from workflow.core.replay import replay_named

__all__ = ["export_response", "router", "utc_moment"]

router = APIRouter(tags=["审计"])

EXPORT_TYPE = "application/jsonl"
_CHUNK = 256 * 1024  # characters of JSON Lines per chunk of the streamed export


class VerifyOut(BaseModel):
    ok: bool
    events: int
    first_bad_seq: int | None
    reason: str | None
    head_seq: int
    head_hash: str


class EventOut(BaseModel):
    seq: int
    time: str = Field(description="UTC 时间")
    actor: str
    role: str
    task_id: int | None
    kind: str
    from_state: str | None
    to_state: str | None
    reason: str | None
    payload: dict[str, Any] = Field(description="事件内容；by 为操作的账号")
    prev_hash: str
    hash: str


class EventPage(BaseModel):
    items: list[EventOut]
    next_after: int | None = Field(description="下一页：把它作为 after 参数；null 表示已到末页")


class ReplayedRecord(BaseModel):
    target_code: str
    target_name: str
    group: list[str] = Field(description="检查组：执法证号")
    group_names: list[str]
    result: str | None
    result_note: str | None
    published_at: str | None
    published_place: str | None
    followups: list[dict[str, Any]]
    joined: list[dict[str, Any]]


class ReplayMismatch(BaseModel):
    model_config = ConfigDict(extra="allow")

    task: int | None
    what: str
    message: str


class ReplayOut(BaseModel):
    task: int
    as_of: str | None = Field(description="重放到此时刻（UTC）；null 为到现在并与数据表比对")
    state: str | None = Field(description="当时的状态；null 表示当时尚无此任务")
    events: int
    compared_with_tables: bool
    ok: bool
    mismatches: list[ReplayMismatch]
    records: list[ReplayedRecord]


class CheckpointIn(BaseModel):
    signed_by: Line | None = Field(None, max_length=100, description="签收人")


class CheckpointOut(BaseModel):
    algorithm: str
    seq: int
    hash: str
    time: str | None
    exported_at: str | None
    signed_by: str | None


def _verified(r: audit.VerifyResult) -> VerifyOut:
    return VerifyOut(
        ok=r.ok, events=r.events, first_bad_seq=r.first_bad_seq, reason=r.reason,
        head_seq=r.head_seq, head_hash=r.head_hash,
    )  # fmt: skip


def utc_moment(ctx: AppContext, text: str | None, field: str) -> str | None:
    """A moment as a person gives it (no offset: Beijing time) as the log stores times."""
    return None if text is None else audit.utc_text(text, ctx.settings.calendar.timezone, field)


def _task(ctx: AppContext, ref: str, who: Actor) -> int:
    return refs.require_in_scope(ctx.engine, refs.task_id(ctx.engine, ref), who)


@router.get("/audit/verify", summary="校验审计日志的哈希链", response_model=VerifyOut)
def verify(who: Annotated[Actor, Authorized("audit.verify")], ctx: ContextDep) -> VerifyOut:
    with ctx.connect() as raw:
        return _verified(audit.verify_db(raw))


Moment = Query(max_length=40, description="ISO 8601 时刻；无时区按北京时间")


@router.get("/audit/events", summary="查询审计日志（按序号分页）", response_model=EventPage)
def search(
    who: Annotated[Actor, Authorized("audit.read")],
    ctx: ContextDep,
    task: Annotated[
        Line | None, Query(max_length=40, description="任务 ID 或 2026001-001号（含其期限事件）")
    ] = None,
    actor: Annotated[Line | None, Query(max_length=100, description="账号名")] = None,
    kind: Annotated[
        Line | None, Query(max_length=40, description="事件类别，如 result_set")
    ] = None,
    since: Annotated[Line | None, Moment] = None,
    until: Annotated[Line | None, Moment] = None,
    after: After = None,
    limit: Limit = 50,
) -> EventPage:
    rows = queries.search_events(
        ctx.engine,
        task_id=None if task is None else _task(ctx, task, who),
        actor=actor.strip() if actor is not None else None,
        kind=audit.event_kind(kind) if kind is not None else None,
        since=utc_moment(ctx, since, "since"),
        until=utc_moment(ctx, until, "until"),
        within=who,
        after=after,
        limit=limit + 1,
    )
    more = len(rows) > limit
    rows = rows[:limit]
    return EventPage(
        items=[EventOut(**r) for r in rows], next_after=rows[-1]["seq"] if more else None
    )


@router.get(
    "/audit/replay/{task}",
    summary="仅凭日志重建任务（可指定时刻）：当时的状态、检查对象、检查组与结果",
    response_model=ReplayOut,
)
def replay(
    task: Line,
    who: Annotated[Actor, Authorized("audit.replay")],
    ctx: ContextDep,
    at: Annotated[Line | None, Moment] = None,
) -> ReplayOut:
    task_id = _task(ctx, task, who)
    as_of = utc_moment(ctx, at, "at")
    with ctx.connect() as raw:
        r = replay_named(raw, task_id, as_of)
    return ReplayOut(
        task=task_id,
        as_of=r.as_of,
        state=r.tasks.get(task_id),
        events=r.events,
        compared_with_tables=r.compared,
        ok=r.ok,
        mismatches=[ReplayMismatch(**m) for m in r.mismatches],
        records=[ReplayedRecord(**rec) for rec in r.records or []],
    )


@router.get(
    "/audit/export",
    summary="导出审计日志（JSON Lines，每行一个事件，含哈希；流式下载）",
    response_class=StreamingResponse,
    responses={200: {"content": {EXPORT_TYPE: {}}, "description": "审计日志全文"}},
)
def export(who: Annotated[Actor, Authorized("audit.export")], ctx: ContextDep) -> StreamingResponse:
    return export_response(ctx, who)


def export_response(ctx: AppContext, who: Actor) -> StreamingResponse:
    """The whole log as a streamed JSON Lines download (``audit.export``: refused before the
    first line for an account whose subtree is not the whole tree); the API's and the
    auditor's page's."""
    raw = RawConnection(ctx.engine)
    try:
        lines = audit.export(raw, who)  # refuses before the first line
    except BaseException:
        raw.close()
        raise

    def chunks() -> Iterator[str]:
        try:
            buf: list[str] = []
            size = 0
            for line in lines:
                buf.append(line)
                size += len(line)
                if size >= _CHUNK:
                    yield "".join(buf)
                    buf, size = [], 0
            if buf:
                yield "".join(buf)
        finally:
            raw.close()

    stamp = ctx.clock.now().strftime("%Y%m%dT%H%M%SZ")
    return StreamingResponse(
        chunks(),
        media_type=EXPORT_TYPE,
        headers={"Content-Disposition": f'attachment; filename="ssj-audit-{stamp}.jsonl"'},
    )


@router.post(
    "/audit/checkpoints",
    summary="签出检查点：校验全链后给出链头（序号、哈希、时间），供审计人员留存",
    response_model=CheckpointOut,
    status_code=201,
)
def make_checkpoint(
    who: Annotated[Actor, Authorized("audit.checkpoint")],
    ctx: ContextDep,
    body: CheckpointIn | None = None,
) -> CheckpointOut:
    signed_by = body.signed_by.strip() if body and body.signed_by else None
    with ctx.connect() as raw:
        cp = audit.checkpoint(raw, now=format_utc(ctx.clock.now()), signed_by=signed_by)
    return CheckpointOut(**cp.as_json())


@router.get(
    "/audit/checkpoints/check",
    summary="核对检查点：日志是否仍延续审计人员留存的检查点（未被截断或改写）",
    response_model=VerifyOut,
)
def check_checkpoint(
    who: Annotated[Actor, Authorized("audit.checkpoint")],
    ctx: ContextDep,
    seq: Annotated[int, Query(ge=0, le=input_limits.ID_MAX, description="检查点的序号")],
    hash: Annotated[
        str, Query(pattern="^[0-9a-f]{64}$", description="检查点的哈希（64 位十六进制）")
    ],
) -> VerifyOut:
    with ctx.connect() as raw:
        return _verified(audit.verify_db(raw, audit.Checkpoint(seq=seq, hash=hash, time=None)))
