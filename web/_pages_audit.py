"""The auditor's pages (issue #12 part 5): the hash chain verified (in steps that report
progress, or at once without JavaScript), a task replayed as of a moment, the log searched,
the export downloaded, checkpoints signed out and checked.

Every answer comes from the application functions the API (web/_audit.py) and ``ssj audit``
use, under the same actions of the matrix: ``audit.verify_db``/``verify_chunk``,
``replay.replay_named``, ``queries.search_events(within=…)``, ``audit.export`` (through the
API's ``export_response``: the root unit's accounts only), ``audit.checkpoint``. This module
only parses what a form says and lays the answers out for people (times in Beijing time,
payloads as fields and before/after).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from states import OUTCOMES, RESULTS, STATE_LABELS
from web._audit import export_response, utc_moment
from web._deps import ContextDep
from web._pages import CSRF_FIELD, PageUser, check_csrf
from web._problems import status_of
from web._templates import local_time, render
from web._writes import task_in_scope
from workflow.core import audit, events, permissions, queries, units
from workflow.core.clock import format_utc
from workflow.core.errors import Forbidden, InvalidInput, SsjError
from workflow.core.events import KIND_LABELS
from workflow.core.identity import Actor
from workflow.core.replay import replay_named

__all__ = ["KIND_LABELS", "readable_payload", "router"]

router = APIRouter(include_in_schema=False)

PAGE_SIZE = 50

# Payload keys as people read them (the key itself otherwise).
_FIELD_LABELS: dict[str, str] = {
    "target_code": "检查对象",
    "result": "检查结果",
    "note": "备注",
    "rectify_by": "整改期限",
    "category": "更正类别",
    "published_at": "公示时间",
    "published_on": "公示日期",
    "place": "公示地点",
    "outcome": "处置结果",
    "date": "日期",
    "trigger": "操作",
    "targets": "检查对象",
    "out": "替换下",
    "in": "替换上",
    "reason": "原因",
}
_LONG = 160  # characters: a value longer than this is folded (the draw's data, lists)
_Text = Annotated[str, Query(max_length=100)]
_Moment = Annotated[str, Query(max_length=40)]


def _shown(key: str, value: Any) -> str:
    """One payload value as text: results and outcomes by their label, UTC times in Beijing
    time, everything else as compact JSON (strings as they are)."""
    if value is None:
        return "—"
    if isinstance(value, str):
        if key == "result":
            return RESULTS.get(value, value)
        if key == "outcome":
            return OUTCOMES.get(value, value)
        if len(value) == 27 and value.endswith("Z") and value[10:11] == "T":
            return local_time(value)
        return value
    return json.dumps(value, ensure_ascii=False, sort_keys=True)


@dataclass(slots=True)
class Readable:
    """An event's payload laid out: who acted, what changed (before → after), the rest."""

    by: str | None = None
    changes: list[tuple[str, str, str]] = field(default_factory=list)
    fields: list[tuple[str, str, bool]] = field(default_factory=list)  # label, text, long


def readable_payload(payload: dict[str, Any]) -> Readable:
    """A payload as the search page shows it: ``by`` as the account, ``before``/``after`` as
    one row per changed field (a whole value when they are not objects), every other key as
    a labelled value (long ones folded)."""
    out = Readable()
    rest = dict(payload)
    by = rest.pop("by", None)
    if isinstance(by, dict):
        role = permissions.ROLES.get(str(by.get("role")), str(by.get("role") or ""))
        out.by = f"{by.get('name') or by.get('username')}（{by.get('username')}，{role}）"
    if "before" in rest or "after" in rest:
        before, after = rest.pop("before", None), rest.pop("after", None)
        if isinstance(before, dict) or isinstance(after, dict):
            b = before if isinstance(before, dict) else {}
            a = after if isinstance(after, dict) else {}
            for key in sorted(set(b) | set(a)):
                if b.get(key) != a.get(key):
                    label = _FIELD_LABELS.get(key, key)
                    out.changes.append((label, _shown(key, b.get(key)), _shown(key, a.get(key))))
        else:
            out.changes.append(("内容", _shown("", before), _shown("", after)))
    for key, value in rest.items():
        text = _shown(key, value)
        out.fields.append((_FIELD_LABELS.get(key, key), text, len(text) > _LONG))
    return out


def _failed(request: Request, template: str, context: dict[str, Any], e: SsjError) -> Response:
    """The form again, what was typed kept, with the error's message (the API's)."""
    return render(request, template, {**context, "error": e.message}, status=status_of(e))


# --- verify ------------------------------------------------------------------------------------


def _verify_context(step: audit.VerifyStep | None, size: int) -> dict[str, Any]:
    if step is None:
        return {"step": None, "size": size}
    r = step.result
    query = None
    if not step.done:
        query = urlencode({"after": r.head_seq, "running": r.head_hash, "size": size})
    return {"step": step, "result": r, "next_query": query, "size": size}


def _size(size: int | None) -> int:
    return audit.CHUNK if size is None else size


@router.get("/audit/verify")
def verify_page(
    request: Request,
    who: Annotated[Actor, PageUser("audit.verify")],
    ctx: ContextDep,
    run: bool = False,
    size: Annotated[int | None, Query(ge=1, le=100_000)] = None,
) -> Response:
    """The chain's verification: with JavaScript in steps that report progress
    (``/audit/verify/step``), without it at once (``run``)."""
    step = None
    if run:
        with ctx.connect() as raw:
            r = audit.verify_db(raw)
        step = audit.VerifyStep(r, r.head_seq, True)
    return render(request, "audit_verify.html", _verify_context(step, _size(size)))


@router.get("/audit/verify/step")
def verify_step(
    request: Request,
    who: Annotated[Actor, PageUser("audit.verify")],
    ctx: ContextDep,
    after: Annotated[int, Query(ge=0)] = 0,
    running: Annotated[str, Query(pattern="^[0-9a-f]{64}$")] = audit.GENESIS,
    size: Annotated[int | None, Query(ge=1, le=100_000)] = None,
) -> Response:
    """One step of the verification: the next ``size`` events after ``after``, continuing
    from ``running``. htmx swaps in the progress (and asks for the next step until done);
    without JavaScript the whole page, with a link to the next step."""
    with ctx.connect() as raw:
        step = audit.verify_chunk(raw, after=after, running=running, limit=_size(size))
    context = _verify_context(step, _size(size))
    if request.headers.get("HX-Request") == "true":
        return render(request, "_audit_verify_step.html", context)
    return render(request, "audit_verify.html", context)


# --- events ------------------------------------------------------------------------------------


@router.get("/audit/events")
def events_page(
    request: Request,
    who: Annotated[Actor, PageUser("audit.read")],
    ctx: ContextDep,
    task: _Text = "",
    actor: _Text = "",
    kind: _Text = "",
    since: _Moment = "",
    until: _Moment = "",
    after: Annotated[int | None, Query(ge=0)] = None,
) -> Response:
    """The log searched by task, account, kind and time (Beijing time), in pages of
    ``PAGE_SIZE`` by seq; within the account's subtree as the API reads it."""
    filters = {"task": task, "actor": actor, "kind": kind, "since": since, "until": until}
    context: dict[str, Any] = {
        "filters": filters,
        "kinds": [(k, KIND_LABELS.get(k, k)) for k in events.EVENTS],
        "rows": [],
        "next_query": None,
        "first_query": None,
        "error": None,
    }
    try:
        task_id = task_in_scope(ctx, task.strip(), who) if task.strip() else None
        rows = queries.search_events(
            ctx.engine,
            task_id=task_id,
            actor=actor.strip() or None,
            kind=audit.event_kind(kind) if kind.strip() else None,
            since=utc_moment(ctx, since.strip(), "since") if since.strip() else None,
            until=utc_moment(ctx, until.strip(), "until") if until.strip() else None,
            within=who,
            after=after,
            limit=PAGE_SIZE + 1,
        )
    except SsjError as e:  # a bad filter: the form again, with the API's message
        return _failed(request, "audit_events.html", context, e)
    kept = {k: v for k, v in filters.items() if v}
    more = len(rows) > PAGE_SIZE
    rows = rows[:PAGE_SIZE]
    if more:
        context["next_query"] = urlencode({**kept, "after": rows[-1]["seq"]})
    if after is not None:
        context["first_query"] = urlencode(kept)
    context["rows"] = [
        {
            **r,
            "kind_label": KIND_LABELS.get(r["kind"], r["kind"]),
            "role_label": permissions.ROLES.get(r["role"], r["role"]),
            "from_label": STATE_LABELS.get(r["from_state"] or "", r["from_state"]),
            "to_label": STATE_LABELS.get(r["to_state"] or "", r["to_state"]),
            "readable": readable_payload(r["payload"]),
        }
        for r in rows
    ]
    return render(request, "audit_events.html", context)


# --- replay ------------------------------------------------------------------------------------


def _when(text: str | None) -> str:
    """A stated date stays as stated; a stored UTC time is shown in Beijing time."""
    if not text:
        return ""
    return text if len(text) <= 10 else local_time(text)


@router.get("/audit/replay")
def replay_page(
    request: Request,
    who: Annotated[Actor, PageUser("audit.replay")],
    ctx: ContextDep,
    task: _Text = "",
    at: _Moment = "",
) -> Response:
    """A task rebuilt from the log alone as of ``at`` (Beijing time; empty: up to now, and
    compared with the tables): its state then, its targets, groups, results, publication and
    follow-ups — ``replay_named``, as ``GET /api/v1/audit/replay/{task}``."""
    context: dict[str, Any] = {"task": task, "at": at, "replayed": None, "error": None}
    if not task.strip():
        return render(request, "audit_replay.html", context)
    try:
        task_id = task_in_scope(ctx, task.strip(), who)
        as_of = utc_moment(ctx, at.strip(), "at") if at.strip() else None
        with ctx.connect() as raw:
            r = replay_named(raw, task_id, as_of)
    except SsjError as e:
        return _failed(request, "audit_replay.html", context, e)
    state = r.tasks.get(task_id)
    records = [
        {
            **rec,
            "group_shown": [
                f"{n}（{c}）" if n else c
                for c, n in zip(rec["group"], rec["group_names"], strict=True)
            ],
            "result_label": RESULTS.get(rec["result"] or "", rec["result"]),
            "published": _when(rec["published_at"]),
            "followups_shown": [
                f"{OUTCOMES.get(f.get('outcome', ''), f.get('outcome'))} {f.get('date') or ''}".strip()
                for f in rec["followups"]
            ],
        }
        for rec in r.records or []
    ]
    context["replayed"] = {
        "task_id": task_id,
        "as_of": r.as_of,
        "state": state,
        "state_label": STATE_LABELS.get(state or "", state),
        "events": r.events,
        "compared": r.compared,
        "ok": r.ok,
        "mismatches": r.mismatches,
        "records": records,
    }
    return render(request, "audit_replay.html", context)


# --- export ------------------------------------------------------------------------------------


@router.get("/audit/export")
def export_page(
    request: Request, who: Annotated[Actor, PageUser("audit.export")], ctx: ContextDep
) -> Response:
    """What the export holds and the link that downloads it; an account whose subtree is not
    the whole tree is told why it may not (``units.require_whole``, as the API refuses)."""
    refused = None
    with ctx.connect() as raw, raw.read() as cur:
        head = audit.read_head(cur, raw.sql)
        try:
            units.require_whole(cur, raw.sql, who, "导出审计日志")
        except Forbidden as e:
            refused = e.message
    return render(request, "audit_export.html", {"head": head, "refused": refused})


@router.get("/audit/export/file")
def export_file(
    request: Request, who: Annotated[Actor, PageUser("audit.export")], ctx: ContextDep
) -> Response:
    """The download: the API's streamed JSON Lines export, the same rules."""
    return export_response(ctx, who)


# --- checkpoints -------------------------------------------------------------------------------


def _checkpoint_context(who: Actor, **kw: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "signed_by": who.name or who.username,
        "confirmed": False,
        "created": None,
        "created_json": None,
        "create_error": None,
        "check": {"seq": "", "hash": ""},
        "checked": None,
        "check_error": None,
    }
    return {**base, **kw}


@router.get("/audit/checkpoints")
def checkpoints_page(
    request: Request, who: Annotated[Actor, PageUser("audit.checkpoint")], ctx: ContextDep
) -> Response:
    return render(request, "audit_checkpoints.html", _checkpoint_context(who))


@router.post("/audit/checkpoints")
async def checkpoint_create(
    request: Request, who: Annotated[Actor, PageUser("audit.checkpoint")], ctx: ContextDep
) -> Response:
    """Sign out the head as a checkpoint (``audit.checkpoint``: the whole chain verified
    first, a broken one refused); the auditor keeps what the page then shows."""
    from starlette.concurrency import run_in_threadpool

    form = await request.form()
    check_csrf(request, str(form.get(CSRF_FIELD) or ""))
    signed_by = " ".join(str(form.get("signed_by") or "").split())
    confirmed = form.get("confirm") == "yes"
    context = _checkpoint_context(who, signed_by=signed_by, confirmed=confirmed)
    if len(signed_by) > 100:
        e: SsjError = InvalidInput("签收人不能超过 100 个字符", field="signed_by")
        return _failed_checkpoint(request, context, e)
    if not confirmed:
        e = InvalidInput("请勾选确认后再签出检查点", field="confirm")
        return _failed_checkpoint(request, context, e)

    def sign() -> audit.Checkpoint:
        with ctx.connect() as raw:
            return audit.checkpoint(
                raw, now=format_utc(ctx.clock.now()), signed_by=signed_by or None
            )

    try:
        cp = await run_in_threadpool(sign)
    except SsjError as e:
        return _failed_checkpoint(request, context, e)
    context["created"] = cp
    context["created_json"] = json.dumps(cp.as_json(), ensure_ascii=False, indent=2)
    context["check"] = {"seq": str(cp.seq), "hash": cp.hash}
    return render(request, "audit_checkpoints.html", context, status=201)


def _failed_checkpoint(request: Request, context: dict[str, Any], e: SsjError) -> Response:
    return render(
        request, "audit_checkpoints.html", {**context, "create_error": e.message},
        status=status_of(e),
    )  # fmt: skip


@router.get("/audit/checkpoints/file")
def checkpoint_file(
    request: Request,
    who: Annotated[Actor, PageUser("audit.checkpoint")],
    ctx: ContextDep,
    seq: Annotated[int, Query(ge=0)] = 0,
    hash: Annotated[str, Query(max_length=64)] = "",
    exported_at: Annotated[str, Query(max_length=40)] = "",
    signed_by: Annotated[str, Query(max_length=100)] = "",
) -> Response:
    """The checkpoint just signed out, as the file ``ssj audit checkpoint --out`` writes,
    for the auditor to keep: only for a seq and hash the log holds (its time from the log)."""
    from workflow.core.errors import NotFound

    with ctx.connect() as raw, raw.read() as cur:
        cur.execute(raw.sql("SELECT hash, at FROM event WHERE seq = ?"), (seq,))
        row = cur.fetchone()
    if row is None or row[0] != hash:
        raise NotFound(f"日志中没有序号 {seq}、哈希 {hash} 的事件", seq=seq)
    cp = audit.Checkpoint(
        seq=seq, hash=hash, time=row[1], exported_at=exported_at or None,
        signed_by=signed_by or None,
    )  # fmt: skip
    text = json.dumps(cp.as_json(), ensure_ascii=False, indent=2) + "\n"
    return Response(
        text.encode(),
        media_type="application/json",
        headers={"Content-Disposition": f'attachment; filename="ssj-checkpoint-{seq}.json"'},
    )


def _parse_checkpoint(seq: str, hash: str) -> audit.Checkpoint:
    s, h = seq.strip(), hash.strip().lower()
    if not s.isdigit() or len(s) > 18:
        raise InvalidInput(f"检查点的序号 {seq!r} 无效：应为非负整数", field="seq", value=seq)
    if len(h) != 64 or any(c not in "0123456789abcdef" for c in h):
        raise InvalidInput("检查点的哈希无效：应为 64 位十六进制数字", field="hash", value=hash)
    return audit.Checkpoint(seq=int(s), hash=h, time=None)


@router.get("/audit/checkpoints/check")
def checkpoint_check(
    request: Request,
    who: Annotated[Actor, PageUser("audit.checkpoint")],
    ctx: ContextDep,
    seq: _Text = "",
    hash: _Text = "",
) -> Response:
    """Whether the log still continues a checkpoint the auditor kept (not cut short, not
    rewritten): ``audit.verify_db`` against it, as ``GET /api/v1/audit/checkpoints/check``."""
    context = _checkpoint_context(who, check={"seq": seq, "hash": hash})
    try:
        cp = _parse_checkpoint(seq, hash)
    except InvalidInput as e:
        context["check_error"] = e.message
        return render(request, "audit_checkpoints.html", context, status=422)
    with ctx.connect() as raw:
        context["checked"] = audit.verify_db(raw, cp)
    return render(request, "audit_checkpoints.html", context)


@router.post("/audit/checkpoints/check")
async def checkpoint_check_file(
    request: Request, who: Annotated[Actor, PageUser("audit.checkpoint")], ctx: ContextDep
) -> Response:
    """The same check against the checkpoint file the auditor kept, uploaded."""
    from starlette.concurrency import run_in_threadpool
    from starlette.datastructures import UploadFile

    form = await request.form()
    check_csrf(request, str(form.get(CSRF_FIELD) or ""))
    upload = form.get("file")
    context = _checkpoint_context(who)
    if not isinstance(upload, UploadFile) or not upload.filename:
        context["check_error"] = "请选择检查点文件"
        return render(request, "audit_checkpoints.html", context, status=422)
    name = upload.filename.replace("\\", "/").rsplit("/", 1)[-1][:200]
    try:
        cp = audit.Checkpoint.parse(await upload.read(audit.MAX_CHECKPOINT + 1), name)
    except ValueError as e:
        context["check_error"] = str(e)
        return render(request, "audit_checkpoints.html", context, status=422)

    def check() -> audit.VerifyResult:
        with ctx.connect() as raw:
            return audit.verify_db(raw, cp)

    context["check"] = {"seq": str(cp.seq), "hash": cp.hash}
    context["checked"] = await run_in_threadpool(check)
    return render(request, "audit_checkpoints.html", context)
