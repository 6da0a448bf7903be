"""Tasks and plans: ``/api/v1/tasks``, ``/api/v1/plans``. Reads are scoped to the account's
unit subtree inside the queries; a task's version is its ETag, and a write with ``If-Match``
naming an older version is refused with 412 (nothing written)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Header, Query, Response
from pydantic import BaseModel, Field

import states
from web._auth import Authorized, acting
from web._deps import ContextDep
from web._problems import precondition_failed
from workflow.app import AppContext
from workflow.core import normalize, queries, refs
from workflow.core.errors import Conflict, InvalidInput
from workflow.core.identity import Actor
from workflow.core.writer import Workflow

router = APIRouter(tags=["计划与任务"])


class TaskSummary(BaseModel):
    id: int
    plan_no: str
    task_no: str
    name: str
    unit: str | None
    state: str
    version: int
    records: int
    updated_at: str


class TaskPage(BaseModel):
    items: list[TaskSummary]
    next_after: int | None = Field(description="下一页：把它作为 after 参数；null 表示已到末页")


class ResultIn(BaseModel):
    target: str = Field(description="检查对象：统一社会信用代码或名称", max_length=200)
    result: str = Field(description="检查结果（中文表述或代码 no_problem 等）", max_length=50)
    note: str | None = Field(None, max_length=2000)
    reason: str | None = Field(None, max_length=2000, description="更正已有结果时必填")
    rectify_by: date | None = None


class ResultOut(BaseModel):
    task: int
    target: str
    result: str
    version: int
    rectify_by: str | None = None


class FireIn(BaseModel):
    reason: str | None = Field(None, max_length=2000)


class Fired(BaseModel):
    task: int
    from_state: str
    to_state: str
    version: int


class PlanSummary(BaseModel):
    plan_no: str
    name: str
    tasks: int


def _expected(if_match: str | None) -> int | None:
    if if_match is None or if_match.strip() == "*":
        return None
    tag = if_match.strip().removeprefix("W/").strip('"')
    if not tag.isdigit():
        raise InvalidInput(
            f"If-Match {if_match!r} 无效：应为任务的 ETag（版本号）", field="If-Match"
        )
    return int(tag)


@contextmanager
def _writing(
    ctx: AppContext, who: Actor, task_id: int, expected: int | None
) -> Iterator[Workflow]:
    """A workflow of the request's own, the account bound: a conflict on the version the
    client's ``If-Match`` named is 412 with the current version (nothing was written)."""
    wf = ctx.new_workflow()
    try:
        with acting(who):
            yield wf
    except Conflict as e:
        if expected is None:
            raise
        raise precondition_failed(e, current_version=_version(ctx, task_id)) from None
    finally:
        wf.close()


def _tag(ctx: AppContext, response: Response, task_id: int) -> int:
    """The task's version after a write, as the response's ETag."""
    version = _version(ctx, task_id)
    response.headers["ETag"] = f'"{version}"'
    return version


def _task(ctx: AppContext, ref: str, who: Actor | None) -> int:
    return refs.require_in_scope(ctx.engine, refs.task_id(ctx.engine, ref), who)


@router.get("/tasks", summary="任务列表（按 ID 分页）", response_model=TaskPage)
def list_tasks(
    who: Annotated[Actor, Authorized("task.read")],
    ctx: ContextDep,
    state: Annotated[str | None, Query(description="状态")] = None,
    plan: Annotated[str | None, Query(description="计划编号", max_length=16)] = None,
    unit: Annotated[str | None, Query(description="单位代码（含下级）", max_length=32)] = None,
    after: Annotated[
        int | None, Query(ge=0, le=2**63 - 1, description="上一页的 next_after")
    ] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
) -> TaskPage:
    if state is not None and state not in states.STATES:
        raise InvalidInput(f"状态 {state!r} 无效：应为 {'、'.join(states.STATES)}", field="state")
    rows = queries.list_tasks(
        ctx.engine, state, plan, within=who, unit=unit, after=after, limit=limit + 1
    )
    more = len(rows) > limit
    rows = rows[:limit]
    return TaskPage(
        items=[TaskSummary(**r) for r in rows], next_after=rows[-1]["id"] if more else None
    )


@router.get("/tasks/{task}", summary="任务详情（ETag 为任务版本）")
def show_task(
    task: str, who: Annotated[Actor, Authorized("task.read")], ctx: ContextDep, response: Response
) -> dict[str, Any]:
    task_id = _task(ctx, task, who)
    shown = queries.show_task(ctx.engine, task_id)
    response.headers["ETag"] = f'"{shown["version"]}"'
    return shown


@router.post(
    "/tasks/{task}/results", summary="录入或更正（未公示的）检查结果", response_model=ResultOut
)
def set_result(
    task: str,
    body: ResultIn,
    who: Annotated[Actor, Authorized("result.set")],
    ctx: ContextDep,
    response: Response,
    if_match: Annotated[str | None, Header()] = None,
) -> ResultOut:
    task_id = _task(ctx, task, who)
    expected = _expected(if_match)
    code = refs.target_code(ctx.engine, body.target, task_id)
    value = normalize.option(body.result, normalize.RESULT, "result")
    with _writing(ctx, who, task_id, expected) as wf:
        p = wf.set_result(
            task_id, code, value, actor=who.username, note=body.note, reason=body.reason,
            rectify_by=body.rectify_by, expected_version=expected,
        )  # fmt: skip
    version = _tag(ctx, response, task_id)
    return ResultOut(
        task=task_id, target=code, result=value, version=version, rectify_by=p.get("rectify_by")
    )


@router.post("/tasks/{task}/triggers/{trigger}", summary="推进任务（触发器）", response_model=Fired)
def fire(
    task: str,
    trigger: str,
    who: Annotated[Actor, Authorized("task.fire")],
    ctx: ContextDep,
    response: Response,
    body: FireIn | None = None,
    if_match: Annotated[str | None, Header()] = None,
) -> Fired:
    if trigger not in states.TRIGGERS or trigger == "draw":
        raise InvalidInput(f"触发器 {trigger!r} 无效（抽取用 draw 接口）", field="trigger")
    task_id = _task(ctx, task, who)
    expected = _expected(if_match)
    with _writing(ctx, who, task_id, expected) as wf:
        src, dest, _ = wf.fire(
            task_id, trigger, actor=who.username, reason=body.reason if body else None,
            expected_version=expected,
        )  # fmt: skip
    version = _tag(ctx, response, task_id)
    return Fired(task=task_id, from_state=src, to_state=dest, version=version)


def _version(ctx: AppContext, task_id: int) -> int:
    from sqlalchemy import text

    with ctx.engine.connect() as c:
        return int(
            c.execute(text("SELECT version FROM task WHERE id = :t"), {"t": task_id}).one()[0]
        )


@router.get("/plans", summary="抽查计划列表", response_model=list[PlanSummary])
def list_plans(
    who: Annotated[Actor, Authorized("plan.read")], ctx: ContextDep
) -> list[PlanSummary]:
    return [
        PlanSummary(plan_no=p["plan_no"], name=p["name"], tasks=p["tasks"])
        for p in queries.list_plans(ctx.engine, within=who)
    ]


@router.get("/plans/{plan_no}", summary="抽查计划详情")
def show_plan(
    plan_no: str, who: Annotated[Actor, Authorized("plan.read")], ctx: ContextDep
) -> dict[str, Any]:
    return queries.show_plan(ctx.engine, normalize.nfkc(plan_no).strip(), within=who)
