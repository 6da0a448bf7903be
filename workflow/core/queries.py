"""Read-side queries with SQLModel sessions (the write path lives in engine.py)."""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import func
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

import states
from states import RESULTS
from workflow.core.errors import Forbidden, NotFound
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
            {**p.model_dump(exclude={"id"}), "tasks": counts.get(p.id, 0)}
            for p in s.exec(q).all()
        ]


def show_plan(engine: Engine, plan_no: str, *, within: Actor | None = None) -> dict[str, Any]:
    from workflow.core.normalize import TASK_TYPES, percent

    with Session(engine) as s:
        plan = s.exec(select(Plan).where(Plan.plan_no == plan_no)).first()
        if plan is None:
            raise NotFound(f"抽查计划 {plan_no} 不存在")
        if within is not None:
            owner = s.get(Unit, plan.unit_id)
            if owner is None or not within.sees_path(owner.path):
                raise Forbidden(
                    f"抽查计划 {plan_no} 不属于账号 {within.username} 所属单位及其下级单位",
                    plan=plan_no,
                )
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


def list_tasks(
    engine: Engine,
    state: str | None = None,
    plan_no: str | None = None,
    *,
    within: Actor | None = None,
    unit: str | None = None,
    after: int | None = None,
    limit: int | None = None,
) -> list[dict[str, Any]]:
    """Tasks by id, filtered; ``within``: only the account's unit subtree, ``unit``: only that
    unit's subtree (a code), both inside the query. ``after``/``limit`` page by id."""
    with Session(engine) as s:
        records = (
            select(func.count(col(InspectionRecord.id)))
            .where(col(InspectionRecord.task_id) == col(Task.id))
            .correlate(Task)
            .scalar_subquery()
        )
        q = (
            select(Task, Plan.plan_no, Unit.code, records)
            .join(Plan, col(Plan.id) == col(Task.plan_id))
            .join(Unit, col(Unit.id) == col(Task.unit_id))
            .order_by(col(Task.id))
        )
        if state:
            q = q.where(Task.state == state)
        if plan_no:
            q = q.where(Plan.plan_no == plan_no)
        if within is not None:
            q = q.where(col(Unit.path).startswith(within.unit_path))
        if unit:
            prefix = s.exec(select(Unit.path).where(Unit.code == unit)).first()
            if prefix is None:
                raise NotFound(f"单位 {unit!r} 不存在", field="unit", value=unit)
            q = q.where(col(Unit.path).startswith(prefix))
        if after is not None:
            q = q.where(col(Task.id) > after)
        if limit is not None:
            q = q.limit(limit)
        return [_task_summary(t, p, n, u) for t, p, u, n in s.exec(q).all()]


def _task_summary(t: Task, plan_no: str, records: int, unit: str | None = None) -> dict[str, Any]:
    return {
        "id": t.id,
        "plan_no": plan_no,
        "task_no": t.task_no,
        "name": t.name,
        "unit": unit,
        "state": t.state,
        "version": t.version,
        "records": records,
        "updated_at": t.updated_at,
    }


def show_task(engine: Engine, task_id: int) -> dict[str, Any]:
    with Session(engine) as s:
        row = s.exec(
            select(Task, Plan)
            .join(Plan, col(Plan.id) == col(Task.plan_id))
            .where(Task.id == task_id)
        ).first()
        if row is None:
            raise NotFound(f"任务 {task_id} 不存在")
        t, plan = row
        recs = s.exec(
            select(InspectionRecord)
            .where(InspectionRecord.task_id == task_id)
            .order_by(InspectionRecord.target_code)
        ).all()
        fus: dict[int, list[dict[str, Any]]] = {}
        for f in s.exec(
            select(FollowUp)
            .join(InspectionRecord, col(InspectionRecord.id) == col(FollowUp.record_id))
            .where(InspectionRecord.task_id == task_id)
            .order_by(col(FollowUp.id))
        ).all():
            fus.setdefault(f.record_id, []).append(
                {"outcome": f.outcome, "date": f.outcome_date, "note": f.note, "actor": f.actor}
            )
        joint = _joint_visits(s, task_id)
        from workflow.core.writer import CORRECTION_CATEGORIES

        corrections: dict[int, list[dict[str, Any]]] = {}
        for c in s.exec(
            select(ResultCorrection)
            .join(InspectionRecord, col(InspectionRecord.id) == col(ResultCorrection.record_id))
            .where(InspectionRecord.task_id == task_id)
            .order_by(col(ResultCorrection.id))
        ).all():
            corrections.setdefault(c.record_id, []).append(
                {
                    **c.model_dump(exclude={"id", "record_id"}),
                    "category_label": CORRECTION_CATEGORIES.get(c.category, c.category),
                }
            )
        return {
            "id": t.id,
            "plan_no": plan.plan_no,
            "plan_name": plan.name,
            "task_no": t.task_no,
            "name": t.name,
            "task_type": t.task_type,
            "ratio": t.ratio,
            "items": t.items,
            "scope": t.scope,
            "initiating_office": t.initiating_office,
            "joining_offices": json.loads(t.joining_offices),
            "months": t.months,
            "item_codes": json.loads(t.item_codes),
            "filters": json.loads(t.filters),
            "stratum_ratios": json.loads(t.stratum_ratios),
            "inspector_field": t.inspector_field,
            "commitment": t.commitment,
            "draw_digest": t.draw_digest,
            "confirmed_at": t.confirmed_at,
            "state": t.state,
            "version": t.version,
            "allowed_triggers": states.allowed_triggers(t.state),
            "created_at": t.created_at,
            "updated_at": t.updated_at,
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
                    "followups": fus.get(r.id or 0, []),
                    "joined": json.loads(r.joined),
                    "rectify_by": r.rectify_by,
                    "correction_count": r.correction_count,
                    "corrections": corrections.get(r.id or 0, []),
                }
                for r in recs
            ],
            "joint_visits": joint,
        }


def _joint_visits(s: Session, task_id: int) -> list[dict[str, Any]]:
    """Targets this task's draw merged into another task's visit (it has no record of its own
    for them): that visit, with its result once recorded."""
    # ``joined`` is canonical JSON (sorted keys, no spaces): the pattern narrows, json decides.
    pattern = f'%"task_id":{int(task_id)},%'
    rows = s.exec(
        select(InspectionRecord, Task, Plan)
        .join(Task, col(Task.id) == col(InspectionRecord.task_id))
        .join(Plan, col(Plan.id) == col(Task.plan_id))
        .where(col(InspectionRecord.joined).like(pattern))
        .order_by(col(InspectionRecord.target_code), col(Task.id))
    ).all()
    return [
        {
            "target_code": r.target_code,
            "target_name": r.target_name,
            "task_id": t.id,
            "plan_no": p.plan_no,
            "task_no": t.task_no,
            "office": t.initiating_office,
            "item_codes": j["item_codes"],
            "inspectors": json.loads(r.inspectors),
            "result": r.result,
            "result_label": RESULTS.get(r.result or ""),
            "published_at": r.published_at,
        }
        for r, t, p in rows
        for j in json.loads(r.joined)
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
    with Session(engine) as s:
        if task_id is None:
            events = _newest(s, select(Event), limit)
        else:
            own = _newest(s, select(Event).where(Event.task_id == task_id), limit)
            steps = (
                select(DeadlineStep.event_seq)
                .where(DeadlineStep.task_id == task_id)
                .order_by(col(DeadlineStep.event_seq).desc())
            )
            if limit:
                steps = steps.limit(limit)
            seqs = list(s.exec(steps).all())
            deadline = (
                list(s.exec(select(Event).where(col(Event.seq).in_(seqs))).all()) if seqs else []
            )
            events = sorted([*own, *deadline], key=lambda e: e.seq)
            if limit:
                events = events[-limit:]
        return [
            {
                **e.model_dump(exclude={"at", "payload"}),
                "time": e.at,
                "payload": json.loads(e.payload),
            }
            for e in events
        ]


def _newest(s: Session, q: Any, limit: int | None) -> list[Event]:
    """``q``'s events in seq order, or its newest ``limit`` in seq order."""
    if not limit:
        return list(s.exec(q.order_by(Event.seq)).all())
    newest = s.exec(q.order_by(col(Event.seq).desc()).limit(limit)).all()
    return list(reversed(newest))
