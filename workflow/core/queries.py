"""Read-side queries with SQLModel sessions (the write path lives in engine.py)."""

from __future__ import annotations

import json
import re
from collections.abc import Collection
from typing import Any

from sqlalchemy import and_, case, func, or_, text
from sqlalchemy import select as sa_select
from sqlalchemy.engine import Connection, Engine
from sqlmodel import Session, col, select

import states
from states import RESULTS
from workflow.core.db import Bind, connected
from workflow.core.errors import InvalidInput, NotFound, SsjError
from workflow.core.identity import Actor
from workflow.core.models import (
    DeadlineStep,
    Event,
    FollowUp,
    InspectionRecord,
    Plan,
    ResultCorrection,
    Task,
    Unit,
)


def list_plans(engine: Engine, *, within: Actor | None = None) -> list[dict[str, Any]]:
    """Plans by number; ``within``: only those of the account's unit subtree."""
    with Session(engine) as s:
        counts: dict[int | None, int] = dict(
            s.exec(select(Task.plan_id, func.count()).group_by(col(Task.plan_id))).all()
        )
        q = select(Plan).join(Unit, col(Unit.id) == col(Plan.unit_id)).order_by(Plan.plan_no)
        if within is not None:
            q = q.where(col(Unit.path).startswith(within.unit_path))
        return [
            {**p.model_dump(exclude={"id"}), "tasks": counts.get(p.id, 0)} for p in s.exec(q).all()
        ]


def show_plan(engine: Engine, plan_no: str, *, within: Actor | None = None) -> dict[str, Any]:
    from workflow.core import refs
    from workflow.core.normalize import TASK_TYPES, percent

    found = refs.plan_id(engine, plan_no, within)  # in the subtree, or the error says whose
    with Session(engine) as s:
        plan = s.get(Plan, found)
        assert plan is not None
        tasks = s.exec(select(Task).where(Task.plan_id == plan.id).order_by(Task.task_no)).all()
        return {
            **plan.model_dump(exclude={"id"}),
            "tasks": [
                {
                    "id": t.id,
                    "task_no": t.task_no,
                    "name": t.name,
                    "task_type": t.task_type,
                    "task_type_label": TASK_TYPES[t.task_type],
                    "ratio": t.ratio,
                    "ratio_percent": percent(t.ratio),
                    "months": t.months,
                    "state": t.state,
                    "commitment": t.commitment,
                }
                for t in tasks
            ],
        }


# A task summary (list_tasks): these columns, then the count of records and updated_at.
_SUMMARY_COLUMNS: tuple[Any, ...] = (
    Task.id, Plan.plan_no, Task.task_no, Task.name, Unit.code, Task.state, Task.version,
    Task.task_type, Task.months, Task.initiating_office,
)  # fmt: skip
_SUMMARY_KEYS = (
    "id", "plan_no", "task_no", "name", "unit", "state", "version", "task_type", "months",
    "initiating_office", "records", "updated_at",
)  # fmt: skip


def list_tasks(
    bind: Bind,
    state: str | None = None,
    plan_no: str | None = None,
    *,
    within: Actor | None = None,
    unit: str | None = None,
    after: int | None = None,
    limit: int | None = None,
    task_type: str | None = None,
    month: str | None = None,
    search: str | None = None,
    ids: Collection[int] | None = None,
) -> list[dict[str, Any]]:
    """Tasks by id, filtered; ``within``: only the account's unit subtree, ``unit``: only that
    unit's subtree (a code), both inside the query. ``after``/``limit`` page by id. ``bind``:
    an engine, or a connection the caller holds (db.Bind).

    ``task_type``: directed or undirected; ``month`` (YYYY-MM): the tasks whose months
    include it (a task without months spans its plan's year); ``search``: a task reference
    (an id, 2024001-001号) finds that task, a plan number its plan's tasks, anything else
    the tasks whose name contains it; ``ids``: only these tasks (e.g. the overdue ones)."""
    with connected(bind) as c:
        records = (
            select(func.count(col(InspectionRecord.id)))
            .where(col(InspectionRecord.task_id) == col(Task.id))
            .correlate(Task)
            .scalar_subquery()
        )
        # The summary's columns only, not Task entities: a page of 50 built as ORM objects
        # cost more than the query (measured, bench/api.py).
        q = (
            sa_select(*_SUMMARY_COLUMNS, records, col(Task.updated_at))
            .join(Plan, col(Plan.id) == col(Task.plan_id))
            .join(Unit, col(Unit.id) == col(Task.unit_id))
            .order_by(col(Task.id))
        )
        if state:
            q = q.where(col(Task.state) == state)
        if plan_no:
            from workflow.core.refs import plan_ref

            owner, number = plan_ref(plan_no)  # 2024001, or 130227:2024001
            q = q.where(col(Plan.plan_no) == number)
            if owner is not None:
                q = q.where(
                    col(Plan.unit_id) == select(Unit.id).where(Unit.code == owner).scalar_subquery()
                )
        if within is not None:
            q = q.where(col(Unit.path).startswith(within.unit_path))
        if unit:
            prefix = c.execute(sa_select(col(Unit.path)).where(col(Unit.code) == unit)).scalar()
            if prefix is None:
                raise NotFound(f"单位 {unit!r} 不存在", field="unit", value=unit)
            q = q.where(col(Unit.path).startswith(prefix))
        if task_type:
            q = q.where(col(Task.task_type) == task_type)
        if month:
            q = q.where(*_month_clause(month))
        if search and search.strip():
            q = _searched(c, q, search.strip(), within)
        if ids is not None:
            q = q.where(col(Task.id).in_(sorted(ids)))
        if after is not None:
            q = q.where(col(Task.id) > after)
        if limit is not None:
            q = q.limit(limit)
        return [dict(zip(_SUMMARY_KEYS, row, strict=True)) for row in c.execute(q).all()]


def _month_clause(month: str) -> tuple[Any, ...]:
    """A task's months (``2024-04``, ``2024-04..2024-06``, or empty: its plan's year) cover
    ``month``; ``sampling.plans.month_window`` reads them the same way."""
    if not re.fullmatch(r"\d{4}-(0[1-9]|1[0-2])", month):
        raise InvalidInput(f"月份 {month!r} 无效：应为 YYYY-MM，如 2024-04", field="month")
    months = col(Task.months)
    first = func.substr(months, 1, 7)
    last = case((func.length(months) > 7, func.substr(months, 10, 7)), else_=first)
    return (
        or_(
            and_(months == "", col(Plan.year) == int(month[:4])),
            and_(months != "", first <= month, last >= month),
        ),
    )


def _searched(c: Connection, q: Any, search: str, within: Actor | None) -> Any:
    """``list_tasks``'s ``search``: a task reference, a plan number, or words of a name."""
    from workflow.core import refs

    value = refs.norm(search)
    if re.fullmatch(r"\d{7}", value) and _plan_no_exists(c, value):
        return q.where(col(Plan.plan_no) == value)
    if re.fullmatch(r"[0-9A-Za-z:\-–—_/\s]*[0-9][0-9A-Za-z:\-–—_/\s]*号?", value):
        try:
            return q.where(col(Task.id) == refs.task_id(c, value, within))
        except SsjError:
            pass  # not a task's reference: a name, perhaps
    return q.where(col(Task.name).contains(search, autoescape=True))


def _plan_no_exists(c: Connection, plan_no: str) -> bool:
    return (
        c.execute(sa_select(col(Plan.id)).where(col(Plan.plan_no) == plan_no)).first() is not None
    )


# show_task's reads as SQL text, compiled once: it answers every GET /api/v1/tasks/{id}, and
# building ORM statements and entities cost most of its time (measured, bench/api.py).
_SHOW_TASK = text(
    "SELECT t.id, p.plan_no, p.name, t.task_no, t.name, t.task_type, t.ratio, t.items, t.scope,"
    " t.initiating_office, t.joining_offices, t.months, t.item_codes, t.filters,"
    " t.stratum_ratios, t.inspector_field, t.commitment, t.draw_digest, t.confirmed_at,"
    " t.state, t.version, t.created_at, t.updated_at"
    " FROM task t JOIN plan p ON p.id = t.plan_id WHERE t.id = :t"
)
_SHOW_RECORDS = text(
    "SELECT id, target_code, target_name, inspectors, result, result_note, result_at,"
    " published_at, published_on, published_place, followup_count, joined, rectify_by,"
    " correction_count FROM inspection_record WHERE task_id = :t ORDER BY target_code"
)
# The records whose visits other tasks' draws merged a task into (table joint_visit, by task);
# ``joined`` then says with which items.
_SHOW_JOINT_VISITS = text(
    "SELECT r.target_code, r.target_name, r.inspectors, r.result, r.published_at, r.joined,"
    " t.id, t.task_no, t.initiating_office, p.plan_no"
    " FROM joint_visit v JOIN inspection_record r ON r.id = v.record_id"
    " JOIN task t ON t.id = r.task_id JOIN plan p ON p.id = t.plan_id"
    " WHERE v.task_id = :t ORDER BY r.target_code, t.id"
)


def show_task(bind: Bind, task_id: int) -> dict[str, Any]:
    """A task with its plan, records (with their follow-ups and corrections) and the joint
    visits other tasks' draws merged it into. ``bind``: an engine, or a connection the caller
    holds (db.Bind)."""
    with connected(bind) as c:
        row = c.execute(_SHOW_TASK, {"t": task_id}).first()
        if row is None:
            raise NotFound(f"任务 {task_id} 不存在")
        (tid, plan_no, plan_name, task_no, name, task_type, ratio, items, scope, office,
         joining, months, item_codes, filters, stratum_ratios, inspector_field, commitment,
         draw_digest, confirmed_at, state, version, created_at, updated_at) = row  # fmt: skip
        recs = c.execute(_SHOW_RECORDS, {"t": task_id}).all()
        # Follow-ups and corrections are read only when a record counts some (most have none).
        fus: dict[int, list[dict[str, Any]]] = {}
        corrections: dict[int, list[dict[str, Any]]] = {}
        if any(r.followup_count for r in recs) or any(r.correction_count for r in recs):
            fus, corrections = _followups_and_corrections(c, task_id)
        return {
            "id": tid,
            "plan_no": plan_no,
            "plan_name": plan_name,
            "task_no": task_no,
            "name": name,
            "task_type": task_type,
            "ratio": ratio,
            "items": items,
            "scope": scope,
            "initiating_office": office,
            "joining_offices": json.loads(joining),
            "months": months,
            "item_codes": json.loads(item_codes),
            "filters": json.loads(filters),
            "stratum_ratios": json.loads(stratum_ratios),
            "inspector_field": inspector_field,
            "commitment": commitment,
            "draw_digest": draw_digest,
            "confirmed_at": confirmed_at,
            "state": state,
            "version": version,
            "allowed_triggers": states.allowed_triggers(state),
            "created_at": created_at,
            "updated_at": updated_at,
            "records": [
                {
                    "target_code": r.target_code,
                    "target_name": r.target_name,
                    "inspectors": json.loads(r.inspectors),
                    "result": r.result,
                    "result_label": RESULTS.get(r.result or ""),
                    "result_note": r.result_note,
                    "result_at": r.result_at,
                    "published_at": r.published_at,
                    "published_on": r.published_on,
                    "published_place": r.published_place,
                    "followups": fus.get(r.id, []),
                    "joined": json.loads(r.joined),
                    "rectify_by": r.rectify_by,
                    "correction_count": r.correction_count,
                    "corrections": corrections.get(r.id, []),
                }
                for r in recs
            ],
            "joint_visits": _joint_visits(c, task_id),
        }


def _followups_and_corrections(
    c: Connection, task_id: int
) -> tuple[dict[int, list[dict[str, Any]]], dict[int, list[dict[str, Any]]]]:
    """The follow-ups and the corrections of a task's records, by record id."""
    from workflow.core.writer import CORRECTION_CATEGORIES

    fus: dict[int, list[dict[str, Any]]] = {}
    corrections: dict[int, list[dict[str, Any]]] = {}
    with Session(c) as s:
        for f in s.exec(
            select(FollowUp)
            .join(InspectionRecord, col(InspectionRecord.id) == col(FollowUp.record_id))
            .where(InspectionRecord.task_id == task_id)
            .order_by(col(FollowUp.id))
        ).all():
            fus.setdefault(f.record_id, []).append(
                {"outcome": f.outcome, "date": f.outcome_date, "note": f.note, "actor": f.actor}
            )
        for k in s.exec(
            select(ResultCorrection)
            .join(InspectionRecord, col(InspectionRecord.id) == col(ResultCorrection.record_id))
            .where(InspectionRecord.task_id == task_id)
            .order_by(col(ResultCorrection.id))
        ).all():
            corrections.setdefault(k.record_id, []).append(
                {
                    **k.model_dump(exclude={"id", "record_id"}),
                    "category_label": CORRECTION_CATEGORIES.get(k.category, k.category),
                }
            )
    return fus, corrections


def _joint_visits(c: Connection, task_id: int) -> list[dict[str, Any]]:
    """Targets this task's draw merged into another task's visit (it has no record of its own
    for them): that visit, with its result once recorded."""
    rows = c.execute(_SHOW_JOINT_VISITS, {"t": task_id}).all()
    return [
        {
            "target_code": code,
            "target_name": name,
            "task_id": other,
            "plan_no": plan_no,
            "task_no": task_no,
            "office": office,
            "item_codes": j["item_codes"],
            "inspectors": json.loads(inspectors),
            "result": result,
            "result_label": RESULTS.get(result or ""),
            "published_at": published_at,
        }
        for code, name, inspectors, result, published_at, joined, other, task_no, office, plan_no in rows
        for j in json.loads(joined)
        if j["task_id"] == task_id
    ]


# Deadline events (workflow/sweep.py) have task_id null, so a reminder never bumps a task's
# version; each is one deadline_step row, which names the task and the event's seq.
DEADLINE_EVENT_KINDS = ("deadline_reminder", "deadline_overdue", "deadline_escalated")


def list_events(
    engine: Engine, task_id: int | None = None, limit: int | None = None
) -> list[dict[str, Any]]:
    """Events in seq order: all, or one task's (its deadline events included); ``limit``: the
    newest that many."""
    return search_events(engine, task_id=task_id, newest=limit)


def search_events(
    engine: Engine,
    *,
    task_id: int | None = None,
    actor: str | None = None,
    kind: str | None = None,
    since: str | None = None,
    until: str | None = None,
    within: Actor | None = None,
    after: int | None = None,
    limit: int | None = None,
    newest: int | None = None,
) -> list[dict[str, Any]]:
    """Events in seq order, filtered inside the query: one task's (its deadline events
    included), one actor's (the account name events carry), one kind, stamped from ``since``
    up to ``until`` (stored UTC texts, both included); ``after``/``limit`` page by seq;
    ``newest``: only the newest that many.

    ``within``: an account sees the events of its subtree's tasks (their deadline events
    included); the events no unit owns — directories, units, accounts, the calendar, reports —
    are for the accounts whose subtree is the whole tree (``units.require_whole``)."""
    with Session(engine) as s:
        q = select(Event)
        if task_id is not None:
            steps = select(DeadlineStep.event_seq).where(DeadlineStep.task_id == task_id)
            q = q.where(or_(col(Event.task_id) == task_id, col(Event.seq).in_(steps)))
        if within is not None:
            top = s.exec(select(Unit.path).where(col(Unit.parent_id).is_(None))).first()
            if within.unit_path != top:
                tasks = (
                    select(Task.id)
                    .join(Unit, col(Unit.id) == col(Task.unit_id))
                    .where(col(Unit.path).startswith(within.unit_path))
                )
                steps = select(DeadlineStep.event_seq).where(col(DeadlineStep.task_id).in_(tasks))
                q = q.where(or_(col(Event.task_id).in_(tasks), col(Event.seq).in_(steps)))
        if actor is not None:
            q = q.where(Event.actor == actor)
        if kind is not None:
            q = q.where(Event.kind == kind)
        if since is not None:
            q = q.where(col(Event.at) >= since)
        if until is not None:
            q = q.where(col(Event.at) <= until)
        if after is not None:
            q = q.where(col(Event.seq) > after)
        if newest:
            found = list(reversed(s.exec(q.order_by(col(Event.seq).desc()).limit(newest)).all()))
        else:
            q = q.order_by(col(Event.seq))
            found = list(s.exec(q.limit(limit) if limit is not None else q).all())
        return [
            {
                **e.model_dump(exclude={"at", "payload"}),
                "time": e.at,
                "payload": json.loads(e.payload),
            }
            for e in found
        ]
