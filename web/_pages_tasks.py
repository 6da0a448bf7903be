"""The tasks' pages (issue #12 part 3): the task list, a task's page, and its triggers.

- ``/tasks``: the tasks of the account's subtree, filtered (plan, state, unit, type, month,
  overdue) and searched (a task's number or id, a plan number, words of a name), paged by id
  as ``GET /api/v1/tasks`` pages (``queries.list_tasks``; the overdue filter takes the tasks
  of ``deadlines.overdue``'s rows). A plain GET form, swapped in place by htmx.
- ``/tasks/{task}``: the task as ``GET /api/v1/tasks/{task}`` reads it (``queries.show_task``),
  its inspectors by name, the state on the lifecycle with the time each step was reached, the
  triggers the viewer may fire now — those the matrix gives its role (``task.fire``), each
  enabled or disabled with the writer's own refusal (``Workflow.trigger_checks``) — its
  deadlines on a timeline (``deadlines.timeline``) and its history from the log
  (``queries.search_events``) with the before and after of each change.
- ``POST /tasks/{task}/triggers/{trigger}``: a trigger fired from the page's form (CSRF token,
  the version the page showed, a confirmation, an optional reason), through ``Workflow.fire``
  as the API's route fires it; a refusal is shown on the task's page, what was typed kept.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Query, Request
from fastapi.responses import RedirectResponse, Response

from states import OUTCOMES, RESULTS, STATE_LABELS, STATES, TRIGGER_LABELS, TRIGGERS
from web._auth import acting
from web._deps import ContextDep
from web._pages import CSRF_FIELD, PageUser, check_csrf
from web._problems import status_of
from web._tasks import task_filters
from web._templates import local_time, render
from web._writes import task_in_scope
from workflow.app import AppContext
from workflow.core import input_limits, permissions, queries, refs, units
from workflow.core.actions import ACTIONS
from workflow.core.errors import InvalidInput, SsjError
from workflow.core.events import KIND_LABELS
from workflow.core.identity import Actor
from workflow.core.normalize import TASK_TYPES
from workflow.deadlines import overdue as deadline_view
from workflow.deadlines import rules as deadline_rules
from workflow.deadlines.timeline import task_timeline

__all__ = ["PAGE_SIZE", "router"]

router = APIRouter(include_in_schema=False)

PAGE_SIZE = 50
Text = Annotated[str, Query(max_length=100)]

_FIELD_LABELS = {
    "result": "检查结果",
    "note": "备注",
    "rectify_by": "整改期限",
    "group": "检查组",
    "inspectors": "检查组",
}


# --- the list ----------------------------------------------------------------------------------


@router.get("/tasks")
def task_list(
    request: Request,
    who: Annotated[Actor, PageUser("task.read")],
    ctx: ContextDep,
    q: Text = "",
    plan: Text = "",
    state: Text = "",
    unit: Text = "",
    type: Text = "",
    month: Annotated[str, Query(max_length=7)] = "",
    overdue: Annotated[str, Query(max_length=1)] = "",
    after: Annotated[int | None, Query(ge=0, le=input_limits.ID_MAX)] = None,
) -> Response:
    """The subtree's tasks, filtered and searched, a page of ``PAGE_SIZE`` at a time."""
    filters = {
        "q": q,
        "plan": plan,
        "state": state,
        "unit": unit,
        "type": type,
        "month": month,
        "overdue": "1" if overdue else "",
    }
    rows: list[dict[str, Any]] = []
    error: SsjError | None = None
    try:
        task_type = task_filters(state or None, type or None)
        ids = _overdue_tasks(ctx, who) if overdue else None
        with ctx.reading() as c:
            rows = queries.list_tasks(
                c,
                state or None,
                plan or None,
                within=who,
                unit=unit or None,
                after=after,
                limit=PAGE_SIZE + 1,
                task_type=task_type,
                month=month or None,
                search=q or None,
                ids=ids,
            )
    except SsjError as e:
        error = e
    more = len(rows) > PAGE_SIZE
    rows = rows[:PAGE_SIZE]
    kept = {k: v for k, v in filters.items() if v}
    shown = [
        {
            **r,
            "state_label": STATE_LABELS.get(r["state"], r["state"]),
            "type_label": TASK_TYPES.get(r["task_type"], r["task_type"]),
        }
        for r in rows
    ]
    return render(
        request,
        "tasks.html",
        {
            "rows": shown,
            "filters": filters,
            "error": error,
            "paged": after is not None,
            "first_href": "/tasks" + (f"?{urlencode(kept)}" if kept else ""),
            "next_href": f"/tasks?{urlencode({**kept, 'after': rows[-1]['id']})}" if more else None,
            "plans": queries.list_plans(ctx.engine, within=who),
            "units": _units(ctx, who),
            "states": [(s, STATE_LABELS[s]) for s in STATES],
            "types": list(TASK_TYPES.items()),
        },
        status=status_of(error) if error is not None else 200,
    )


def _overdue_tasks(ctx: AppContext, who: Actor) -> set[int]:
    """The tasks with a deadline overdue now (the overdue list's rows)."""
    wf = ctx.new_workflow()
    try:
        rows, _ = deadline_view.overdue(wf, ctx.settings, ctx.clock.now(), within=who)
    finally:
        wf.close()
    return {r["task_id"] for r in rows if r["task_id"] is not None}


def _units(ctx: AppContext, who: Actor) -> list[units.Unit]:
    """The bureaus of the subtree (a task belongs to its plan's bureau)."""
    with ctx.connect() as raw, raw.read() as cur:
        found = units.load(cur, raw.sql)
    return [u for u in found if u.path.startswith(who.unit_path) and not u.is_office]


# --- a task ------------------------------------------------------------------------------------


@dataclass(slots=True)
class Action:
    """A trigger as the page offers it: enabled, or disabled with the reason."""

    trigger: str
    label: str
    dest: str
    reason: str | None
    steps: list[str] = field(default_factory=list)


@dataclass(slots=True)
class HistoryLine:
    seq: int
    time: str
    actor: str
    role: str
    kind: str
    label: str
    before_state: str | None
    after_state: str | None
    reason: str | None
    subject: str = ""
    changes: list[tuple[str, str, str]] = field(default_factory=list)  # field, before, after
    facts: list[tuple[str, str]] = field(default_factory=list)


def _value(key: str, value: Any) -> str:
    if value is None or value == "":
        return "—"
    if key == "result":
        return RESULTS.get(str(value), str(value))
    if key == "outcome":
        return OUTCOMES.get(str(value), str(value))
    if isinstance(value, list):
        return "、".join(str(v) for v in value) or "—"
    return str(value)


def _history(events: list[dict[str, Any]], targets: dict[str, str]) -> list[HistoryLine]:
    """Each event of the task as a line: who, when (Beijing time), what, the state before
    and after, and the fields it changed (their values before and after)."""
    lines: list[HistoryLine] = []
    roles = permissions.ROLES
    for e in events:
        p: dict[str, Any] = e["payload"] if isinstance(e["payload"], dict) else {}
        kind = e["kind"]
        line = HistoryLine(
            seq=e["seq"],
            time=local_time(e["time"]),
            actor=e["actor"],
            role=roles.get(e["role"], e["role"] or ""),
            kind=kind,
            label=KIND_LABELS.get(kind, kind),
            before_state=e["from_state"],
            after_state=e["to_state"],
            reason=e["reason"],
        )
        code = p.get("target_code")
        if isinstance(code, str):
            line.subject = refs.target_label(code, targets.get(code))
        before, after = p.get("before"), p.get("after")
        if isinstance(before, dict) and isinstance(after, dict):
            for k in dict.fromkeys([*before, *after]):
                if before.get(k) != after.get(k):
                    line.changes.append(
                        (_FIELD_LABELS.get(k, k), _value(k, before.get(k)), _value(k, after.get(k)))
                    )
        elif "before" in p and "after" in p:
            name = "整改期限" if kind == "rectify_by_changed" else "检查组"
            line.changes.append((name, _value("", before), _value("", after)))
        line.facts = _facts(kind, p)
        lines.append(line)
    return lines


def _facts(kind: str, p: dict[str, Any]) -> list[tuple[str, str]]:
    """What an event says besides its changes, by kind (a draw's count, a publication's
    date and place, a follow-up's outcome …)."""
    facts: list[tuple[str, str]] = []
    if kind == "transition":
        trigger = str(p.get("trigger") or "")
        facts.append(("操作", TRIGGER_LABELS.get(trigger, trigger)))
        drawn = (p.get("data") or {}).get("targets")
        if isinstance(drawn, list):
            facts.append(("抽取检查对象", f"{len(drawn)} 个"))
    elif kind == "results_published":
        facts += [
            ("公示日期", _value("", p.get("published_on"))),
            ("公示地点", _value("", p.get("place"))),
            ("公示结果", f"{len(p.get('targets') or [])} 条"),
        ]
    elif kind == "followup_added":
        facts += [
            ("处置结果", _value("outcome", p.get("outcome"))),
            ("日期", _value("", p.get("date"))),
            ("说明", _value("", p.get("note"))),
        ]
    elif kind == "result_corrected":
        facts += [
            ("公示日期", _value("", p.get("published_on"))),
            ("公示地点", _value("", p.get("place"))),
        ]
    elif kind == "inspector_substituted":
        facts += [("换下", _value("", p.get("out"))), ("递补", _value("", p.get("in")))]
    elif kind == "draw_confirmed":
        facts += [
            ("抽取日期", _value("", p.get("drawn_on"))),
            ("确认期限", _value("", p.get("due"))),
        ]
    elif kind.startswith("deadline_"):
        rule = deadline_rules.RULES.get(str(p.get("rule")))
        facts += [
            ("事项", rule.what if rule else _value("", p.get("rule"))),
            ("截止日期", _value("", p.get("due"))),
            ("发送给", _value("", p.get("to"))),
        ]
        if p.get("working_days_late") is not None:
            facts.append(("逾期工作日", str(p["working_days_late"])))
    if isinstance(p.get("rectify_by"), str) and kind == "result_set":
        facts.append(("整改期限", p["rectify_by"]))
    return facts


def _actions(ctx: AppContext, who: Actor, task_id: int) -> list[Action]:
    """The triggers the task's state declares, as the writer would answer them now; none
    for a role the matrix does not let fire triggers."""
    if not permissions.allowed(who.role, "task.fire"):
        return []
    wf = ctx.new_workflow()
    try:
        state, checks = wf.trigger_checks(task_id)
    finally:
        wf.close()
    from states import destination

    out = []
    for c in checks:
        dest = c.dest or "、".join(sorted(destination(state, c.trigger)))
        steps = [ACTIONS[s.action] for s in c.refused.steps] if c.refused is not None else []
        out.append(
            Action(
                trigger=c.trigger,
                label=TRIGGER_LABELS.get(c.trigger, c.trigger),
                dest=STATE_LABELS.get(dest, dest),
                reason=c.reason,
                steps=list(dict.fromkeys(steps)),
            )
        )
    return out


def _task_page(
    request: Request,
    ctx: AppContext,
    who: Actor,
    task_id: int,
    *,
    error: SsjError | None = None,
    form: dict[str, str] | None = None,
    fired: str | None = None,
) -> Response:
    with ctx.reading() as c:
        shown = queries.show_task(c, task_id)
        certs = [cert for r in shown["records"] for cert in r["inspectors"]]
        certs += [cert for v in shown["joint_visits"] for cert in v["inspectors"]]
        names = refs.inspector_names(c, certs)
    events = queries.search_events(ctx.engine, task_id=task_id)
    wf = ctx.new_workflow()
    try:
        timeline = task_timeline(wf, ctx.settings, task_id, ctx.clock.now())
    finally:
        wf.close()
    reached: dict[str, str] = {}
    for e in events:
        if e["kind"] == "task_created":
            reached.setdefault("planned", e["time"])
        elif e["to_state"] and e["to_state"] != e["from_state"]:
            reached[e["to_state"]] = e["time"]
    targets = {r["target_code"]: r["target_name"] for r in shown["records"]}
    history = _history(events, targets)
    history.reverse()  # newest first
    return render(
        request,
        "task.html",
        {
            "task": shown,
            "group_names": {cert: refs.inspector_label(cert, names.get(cert)) for cert in certs},
            "lifecycle": [(s, STATE_LABELS.get(s, s), local_time(reached.get(s))) for s in STATES],
            "state_label": STATE_LABELS.get(shown["state"], shown["state"]),
            "type_label": TASK_TYPES.get(shown["task_type"], shown["task_type"]),
            "can_fire": permissions.allowed(who.role, "task.fire"),
            "actions": _actions(ctx, who, task_id),
            "timeline": timeline,
            "history": history,
            "state_labels": STATE_LABELS,
            "outcomes": OUTCOMES,
            "error": error,
            "form": form or {},
            "fired": TRIGGER_LABELS.get(fired or "") if fired in TRIGGERS else None,
        },
        status=status_of(error) if error is not None else 200,
    )


@router.get("/tasks/{task}")
def task_page(
    request: Request,
    task: str,
    who: Annotated[Actor, PageUser("task.read")],
    ctx: ContextDep,
    fired: Annotated[str | None, Query(max_length=16)] = None,
) -> Response:
    with ctx.reading() as c:
        task_id = task_in_scope(c, task, who)
    return _task_page(request, ctx, who, task_id, fired=fired)


@router.post("/tasks/{task}/triggers/{trigger}")
async def fire_trigger(
    request: Request,
    task: str,
    trigger: str,
    who: Annotated[Actor, PageUser("task.fire")],
    ctx: ContextDep,
) -> Response:
    """Fire ``trigger`` from the task page's form, as ``POST /api/v1/tasks/{task}/triggers/
    {trigger}`` does (``Workflow.fire``, the account bound); the page's version stands in for
    ``If-Match``. Done: back to the task's page (303); refused: the page with the reason."""
    form = await request.form()
    check_csrf(request, str(form.get(CSRF_FIELD) or ""))
    typed = {
        "trigger": trigger,
        "reason": str(form.get("reason") or "")[:2000],
        "version": str(form.get("version") or "")[:20],
    }
    from starlette.concurrency import run_in_threadpool

    return await run_in_threadpool(_fire, request, ctx, who, task, trigger, typed, form)


def _fire(
    request: Request,
    ctx: AppContext,
    who: Actor,
    task: str,
    trigger: str,
    typed: dict[str, str],
    form: Any,
) -> Response:
    with ctx.reading() as c:
        task_id = task_in_scope(c, task, who)
    try:
        if trigger not in TRIGGERS or trigger == "draw":
            raise InvalidInput(f"触发器 {trigger!r} 无效（抽取用 draw 接口）", field="trigger")
        if form.get("confirm") != "yes":
            raise InvalidInput("请勾选确认：此操作不可撤销", field="confirm")
        version = int(typed["version"]) if typed["version"].isdigit() else None
        reason = typed["reason"].strip() or None
        wf = ctx.new_workflow()
        try:
            with acting(who):
                wf.fire(
                    task_id, trigger, actor=who.username, reason=reason, expected_version=version
                )
        finally:
            wf.close()
    except SsjError as e:  # refused, a stale page (Conflict), a missing confirmation
        return _task_page(request, ctx, who, task_id, error=e, form=typed)
    return RedirectResponse(f"/tasks/{task_id}?fired={trigger}", status_code=303)
