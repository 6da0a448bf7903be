"""The supervisor's pages (issue #12 part 2): the dashboard for the account's unit subtree,
the overdue list with its filters and sorting, and what falls due next.

Every figure comes from the application functions the API and ``ssj overdue`` use
(``deadlines.overdue.overdue``/``upcoming`` with ``within=`` the account, ``queries.list_tasks``,
``deadlines.mail.queue``); this module only counts their rows into the dashboard's buckets
and filters and sorts the rows it shows.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Annotated, Any
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from states import FINAL_STATES
from web._deps import ContextDep
from web._pages import PageUser
from web._templates import render
from workflow.app import AppContext
from workflow.core import permissions, queries
from workflow.core.errors import Forbidden
from workflow.core.identity import Actor
from workflow.core.writer import Workflow
from workflow.deadlines import mail
from workflow.deadlines import overdue as deadline_view
from workflow.deadlines import rules as deadline_rules

__all__ = ["LATE_BANDS", "dashboard_page", "router"]

router = APIRouter(include_in_schema=False)

# The dashboard's bands of lateness in working days (issue #12): key → (label, low, high).
LATE_BANDS: dict[str, tuple[str, int, int | None]] = {
    "1-5": ("逾期 1–5 个工作日", 1, 5),
    "6-20": ("逾期 6–20 个工作日", 6, 20),
    "21-": ("逾期超过 20 个工作日", 21, None),
}
SOON_WORKING_DAYS = 5
# How far ahead (calendar days) the upcoming list reads to find 5 working days even across
# the longest holiday (the Spring Festival's, with its weekends).
_HORIZON_DAYS = 31

_SORTS: dict[str, tuple[str, Any]] = {
    "late": ("逾期天数", lambda r: (-r["working_days_late"], r["due"], r["deadline"])),
    "due": ("截止日期", lambda r: (r["due"], r["deadline"])),
    "level": ("督办级别", lambda r: (-r["escalation_level"], -r["working_days_late"])),
    "unit": ("单位", lambda r: (r["unit"] or "", r["office"], r["due"])),
}


def _today(ctx: AppContext) -> date:
    return deadline_rules.local_today(ctx.clock.now(), ZoneInfo(ctx.settings.calendar.timezone))


def _labelled(ctx: AppContext, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    label = deadline_view.step_label
    return [
        {
            **r,
            "escalation_label": label(r["escalation_step"], ctx.settings),
            "last_notice_label": label(r["last_notice_step"], ctx.settings),
        }
        for r in rows
    ]


@dataclass(frozen=True, slots=True)
class Count:
    label: str
    value: int | None  # None: not shown to this account
    href: str | None
    warn: bool = False


def _dead_mail(wf: Workflow, who: Actor) -> int | None:
    """The dead letters, for an account that may read the mail queue (the root unit's)."""
    if not permissions.allowed(who.role, "outbox.read"):
        return None
    try:
        _, counts = mail.queue(wf.raw, status="dead", limit=1, by=who)
    except Forbidden:
        return None
    return int(counts.get("dead", 0))


def dashboard_page(request: Request, who: Actor, ctx: AppContext) -> Response:
    """The dashboard: the subtree's open tasks, what falls due today and within 5 working
    days, the overdue by band, the dead letters — each a link to the list behind it."""
    now = ctx.clock.now()
    with ctx.new_workflow() as wf:
        late, problems = deadline_view.overdue(wf, ctx.settings, now, within=who)
        soon, more = deadline_view.upcoming(wf, ctx.settings, now, days=_HORIZON_DAYS, within=who)
        dead = _dead_mail(wf, who)
    with ctx.reading() as c:
        tasks = queries.list_tasks(c, within=who)
    today = _today(ctx).isoformat()
    counts = [
        Count("未办结任务", sum(t["state"] not in FINAL_STATES for t in tasks), None),
        Count("今日到期", sum(r["due"] == today for r in soon), "/upcoming?within=0"),
        Count(
            f"{SOON_WORKING_DAYS} 个工作日内到期",
            sum(r["working_days_left"] <= SOON_WORKING_DAYS for r in soon),
            f"/upcoming?within={SOON_WORKING_DAYS}",
        ),
    ]
    for key, (label, low, high) in LATE_BANDS.items():
        n = sum(low <= r["working_days_late"] and (high is None or r["working_days_late"] <= high)
                for r in late)  # fmt: skip
        counts.append(Count(label, n, f"/overdue?late={key}", warn=n > 0))
    if dead is not None:
        counts.append(Count("投递失败的邮件", dead, "/admin/outbox?status=dead", warn=dead > 0))
    return render(
        request,
        "dashboard.html",
        {
            "counts": counts,
            "today": today,
            "worst": _labelled(ctx, late[:10]),
            "problems": list(dict.fromkeys([*problems, *more])),
        },
    )


@router.get("/dashboard")
def dashboard(
    request: Request, who: Annotated[Actor, PageUser("deadline.read")], ctx: ContextDep
) -> Response:
    return dashboard_page(request, who, ctx)


def _choices(rows: list[dict[str, Any]], key: str) -> list[str]:
    return sorted({str(r[key]) for r in rows if r.get(key) not in (None, "")})


Text = Annotated[str, Query(max_length=100)]


@router.get("/overdue")
def overdue_list(
    request: Request,
    who: Annotated[Actor, PageUser("deadline.read")],
    ctx: ContextDep,
    unit: Text = "",
    office: Text = "",
    kind: Text = "",
    person: Text = "",
    level: Text = "",
    late: Text = "",
    sort: Text = "late",
) -> Response:
    """Every overdue deadline of the subtree, filtered by unit, office, kind, person, level
    and lateness band, sorted as asked; each row links to its task."""
    with ctx.new_workflow() as wf:
        rows, problems = deadline_view.overdue(wf, ctx.settings, ctx.clock.now(), within=who)
    everything = _labelled(ctx, rows)
    shown = everything
    if unit:
        shown = [r for r in shown if r["unit"] == unit]
    if office:
        shown = [r for r in shown if r["office"] == office]
    if kind:
        shown = [r for r in shown if r["rule"] == kind]
    if person:
        shown = [r for r in shown if person in r["responsible"]]
    if level.isdigit():
        shown = [r for r in shown if r["escalation_level"] == int(level)]
    band = LATE_BANDS.get(late)
    if band is not None:
        low, high = band[1], band[2]
        shown = [r for r in shown
                 if r["working_days_late"] >= low and (high is None or r["working_days_late"] <= high)]  # fmt: skip
    order = sort if sort in _SORTS else "late"
    shown = sorted(shown, key=_SORTS[order][1])
    kinds = {r["rule"]: r["what"] for r in everything}
    return render(
        request,
        "overdue.html",
        {
            "rows": shown,
            "total": len(everything),
            "problems": problems,
            "filters": {
                "unit": unit,
                "office": office,
                "kind": kind,
                "person": person,
                "level": level,
                "late": late if band else "",
                "sort": order,
            },
            "units": _choices(everything, "unit"),
            "offices": _choices(everything, "office"),
            "kinds": sorted(kinds.items(), key=lambda kv: kv[1]),
            "levels": sorted({r["escalation_level"] for r in everything}),
            "bands": {k: v[0] for k, v in LATE_BANDS.items()},
            "sorts": {k: v[0] for k, v in _SORTS.items()},
        },
    )


@router.get("/upcoming")
def upcoming_list(
    request: Request,
    who: Annotated[Actor, PageUser("deadline.read")],
    ctx: ContextDep,
    within: Annotated[int, Query(ge=0, le=60)] = SOON_WORKING_DAYS,
) -> Response:
    """What falls due from today to ``within`` working days ahead, soonest first."""
    with ctx.new_workflow() as wf:
        rows, problems = deadline_view.upcoming(
            wf, ctx.settings, ctx.clock.now(), days=max(_HORIZON_DAYS, within * 2 + 14),
            within=who,
        )  # fmt: skip
    if within == 0:
        today = _today(ctx).isoformat()
        rows = [r for r in rows if r["due"] == today]
    else:
        rows = [r for r in rows if r["working_days_left"] <= within]
    return render(
        request,
        "upcoming.html",
        {"rows": _labelled(ctx, rows), "within": within, "problems": problems},
    )
