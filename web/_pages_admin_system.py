"""The administrator's pages (issue #12 part 6), second half: the mail queue, the working-day
calendar and the effective settings.

The same functions and the same matrix as ``/api/v1/outbox``, ``/api/v1/calendar`` and
``/api/v1/config`` (web/_outbox.py, web/_calendar.py, web/_admin.py): ``mail.queue`` and
``mail.retry`` (the whole database's queue: the root unit's accounts), ``calendar_years``'
``coverage`` and ``take_notice`` (a notice is always read and compared first — its dry run —
and recorded only when the same text is sent again from that comparison), and
``config.effective_settings`` (no secret among the values).
"""

from __future__ import annotations

import hashlib
import json
import os
from typing import Annotated, Any
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Form, Path, Query, Request
from fastapi.responses import RedirectResponse, Response

from web._auth import acting
from web._deps import ContextDep
from web._pages import PageUser, check_csrf
from web._pages_admin import Csrf, Flag, FormError, confirm_page
from web._templates import render
from workflow.app import AppContext
from workflow.core import config, input_limits, permissions
from workflow.core.clock import format_utc
from workflow.core.errors import InvalidInput
from workflow.core.identity import Actor
from workflow.deadlines import calendar_years, mail

__all__ = ["router"]

router = APIRouter(include_in_schema=False)

# The queue's statuses as the page offers them, the dead letters first.
STATUS_LABELS = {"dead": "死信", "pending": "待发送", "sending": "发送中", "sent": "已发送"}
PAGE_SIZE = 50
NOTICE_MAX_CHARS = 256 * 1024  # as the API's (web/_calendar.py)


# --- the mail queue -------------------------------------------------------------------------


@router.get("/admin/outbox")
def outbox_page(
    request: Request,
    who: Annotated[Actor, PageUser("outbox.read")],
    ctx: ContextDep,
    status: Annotated[str, Query(max_length=16)] = "dead",
    after: Annotated[int | None, Query(ge=0, le=input_limits.ID_MAX)] = None,
    retried: Annotated[int | None, Query(ge=1, le=input_limits.ID_MAX)] = None,
) -> Response:
    """The messages of one status (dead letters first), paged by id; a dead or pending one
    may be put back in line (``outbox.manage``)."""
    with ctx.connect() as raw:
        rows, counts = mail.queue(raw, status=status or None, after=after,
                                  limit=PAGE_SIZE + 1, by=who)  # fmt: skip
    more = len(rows) > PAGE_SIZE
    rows = rows[:PAGE_SIZE]
    next_href = (
        "/admin/outbox?" + urlencode({"status": status, "after": rows[-1]["id"]}) if more else None
    )
    return render(
        request,
        "admin_outbox.html",
        {
            "rows": rows,
            "counts": counts,
            "status": status,
            "statuses": STATUS_LABELS,
            "next_href": next_href,
            "can_retry": permissions.allowed(who.role, "outbox.manage"),
            "retried": retried,
        },
    )


@router.post("/admin/outbox/{outbox_id}/retry")
def retry(
    request: Request,
    outbox_id: Annotated[int, Path(ge=1, le=input_limits.ID_MAX)],
    who: Annotated[Actor, PageUser("outbox.manage")],
    ctx: ContextDep,
    csrf_token: Csrf = "",
    confirm: Flag = "",
) -> Response:
    """Put a dead (or failing) message back in line now, after confirmation; the check of
    ``mail.retry``'s dry run first (a sent message is refused before anything is asked)."""
    check_csrf(request, csrf_token)
    now = format_utc(ctx.clock.now())
    if confirm != "yes":
        with ctx.connect() as raw:
            before = mail.retry(raw, outbox_id, now, by=who, dry_run=True)
        return confirm_page(
            request,
            title=f"重发邮件 {outbox_id}",
            message="该邮件将放回发送队列，重新计算发送次数，在下次投递时立即发送。确定重发吗？",
            action=f"/admin/outbox/{outbox_id}/retry",
            fields={},
            button="确认重发",
            back=f"/admin/outbox?status={before}",
            details=[("编号", str(outbox_id)), ("状态", STATUS_LABELS.get(before, before))],
        )
    with ctx.connect() as raw, acting(who):
        mail.retry(raw, outbox_id, now, by=who)
    query = urlencode({"status": "pending", "retried": outbox_id})
    return RedirectResponse(f"/admin/outbox?{query}", status_code=303)


# --- the working-day calendar ---------------------------------------------------------------


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def _calendar_page(
    request: Request,
    ctx: AppContext,
    who: Actor,
    *,
    years: list[int] | None = None,
    text: str = "",
    preview: dict[str, Any] | None = None,
    error: FormError | None = None,
    recorded: str = "",
) -> Response:
    with ctx.connect() as raw, raw.read() as cur:  # a notice another process recorded
        calendar_years.refresh(ctx.calendar, cur, raw.sql)
        stored = sorted(calendar_years.load(cur, raw.sql))
    today = ctx.clock.now().astimezone(ZoneInfo(ctx.settings.calendar.timezone)).date()
    shown = sorted({today.year, today.year + 1, *stored, *(years or [])})
    return render(
        request,
        "admin_calendar.html",
        {
            "years": [calendar_years.coverage(ctx.calendar, y) for y in shown],
            "can_record": permissions.allowed(who.role, "calendar.notice"),
            "text": text,
            "preview": preview,
            "error": error,
            "recorded": recorded,
            "max_chars": NOTICE_MAX_CHARS,
        },
        status=error.status if error else 200,
    )


@router.get("/admin/calendar")
def calendar_page(
    request: Request,
    who: Annotated[Actor, PageUser("calendar.read")],
    ctx: ContextDep,
    year: Annotated[list[int] | None, Query(max_length=20)] = None,
    recorded: Annotated[str, Query(max_length=200)] = "",
) -> Response:
    """Who confirms each year's holidays (or 暂定), and the form for the State Council's
    notice."""
    return _calendar_page(request, ctx, who, years=year, recorded=recorded)


@router.post("/admin/calendar/notice")
def take_notice(
    request: Request,
    who: Annotated[Actor, PageUser("calendar.notice")],
    ctx: ContextDep,
    csrf_token: Csrf = "",
    text: Annotated[str, Form(max_length=NOTICE_MAX_CHARS)] = "",
    previewed: Annotated[str, Form(max_length=64)] = "",
) -> Response:
    """The notice read and compared (the dry run); recorded only when this very text comes
    back from its comparison (``previewed``: its digest)."""
    check_csrf(request, csrf_token)
    record = bool(text) and previewed == _digest(text)
    wf = ctx.new_workflow()
    try:
        if not text.strip():
            raise InvalidInput("请粘贴国务院办公厅通知全文", field="text")
        bad = input_limits.bad_char(text, multiline=True)
        if bad:
            raise InvalidInput(bad, field="text")
        with acting(who):
            taken = calendar_years.take_notice(wf, text, who.username, dry_run=not record)
    except InvalidInput as e:
        return _calendar_page(request, ctx, who, text=text, error=FormError.of(e))
    finally:
        wf.close()
    n = taken.notice
    if record:
        r = taken.recorded
        assert r is not None
        said = (f"{n.year} 年的安排此前已录入，未重复录入" if r.already
                else f"已录入 {n.title}（审计日志第 {r.event_seq} 号事件）")  # fmt: skip
        query = urlencode({"year": n.year, "recorded": said})
        return RedirectResponse(f"/admin/calendar?{query}", status_code=303)
    preview = {
        "year": n.year,
        "title": n.title,
        "periods": n.periods,
        "makeup": n.makeup,
        "holidays": sorted(d.isoformat() for d in n.holidays),
        "workdays": sorted(d.isoformat() for d in n.workdays),
        "covered_by": taken.covered_by,
        "differences": taken.differences,
        "digest": _digest(text),
    }
    return _calendar_page(request, ctx, who, years=[n.year], text=text, preview=preview)


# --- the effective settings -----------------------------------------------------------------


def _shown(value: Any) -> str:
    if isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False)


@router.get("/admin/settings")
def settings_page(
    request: Request, who: Annotated[Actor, PageUser("config.read")], ctx: ContextDep
) -> Response:
    """The effective settings, each with its source: a database password masked, the SMTP
    password only said to be set or not (``config.effective_settings``)."""
    rows = config.effective_settings(
        ctx.settings, ctx.config_sources, ctx.db_override, dict(os.environ)
    )
    return render(
        request,
        "admin_settings.html",
        {"rows": [{**r, "value": _shown(r["value"])} for r in rows]},
    )
