"""Tasks and plans: ``/api/v1/tasks``, ``/api/v1/plans``. Reads are scoped to the account's
unit subtree inside the queries; a task's version is its ETag, and a write with ``If-Match``
naming an older version is refused with 412 (nothing written)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Response
from pydantic import BaseModel, ConfigDict, Field

import states
from web._auth import Authorized
from web._deps import ContextDep
from web._paging import After, Limit, window
from web._text import Line, StatedDate, Text
from web._writes import IfMatch, expected_version, naming, tag, task_in_scope, writing
from workflow.core import input_limits, normalize, queries, refs
from workflow.core.errors import InvalidInput
from workflow.core.identity import Actor

router = APIRouter(tags=["计划与任务"])


class TaskSummary(BaseModel):
    id: int
    plan_no: str
    task_no: str
    name: str
    unit: str | None
    state: str
    version: int
    task_type: str
    months: str
    records: int
    updated_at: str


class TaskPage(BaseModel):
    items: list[TaskSummary]
    next_after: int | None = Field(description="下一页：把它作为 after 参数；null 表示已到末页")


class ResultIn(BaseModel):
    target: Line = Field(description="检查对象：统一社会信用代码或名称", max_length=200)
    result: Line = Field(description="检查结果（中文表述或代码 no_problem 等）", max_length=50)
    note: Text | None = Field(None, max_length=2000)
    reason: Text | None = Field(None, max_length=2000, description="更正已有结果时必填")
    rectify_by: StatedDate | None = None


class ResultOut(BaseModel):
    task: int
    target: str
    result: str
    version: int
    rectify_by: str | None = None


class FireIn(BaseModel):
    reason: Text | None = Field(None, max_length=2000)


class Fired(BaseModel):
    task: int
    from_state: str
    to_state: str
    version: int


class PlanSummary(BaseModel):
    plan_no: str
    name: str
    tasks: int


class FollowUpOut(BaseModel):
    outcome: str
    date: str | None
    note: str | None
    actor: str


class CorrectionOut(BaseModel):
    model_config = ConfigDict(extra="allow")

    before_result: str | None
    after_result: str
    reason: str
    category: str
    category_label: str
    actor: str
    corrected_at: str
    published_on: str | None
    published_place: str | None


class RecordOut(BaseModel):
    """One drawn target of a task: its group, result, publication, follow-ups, corrections."""

    model_config = ConfigDict(extra="allow")

    target_code: str
    target_name: str
    inspectors: list[str]
    result: str | None
    result_label: str | None
    result_note: str | None
    result_at: str | None
    published_at: str | None
    published_on: str | None
    published_place: str | None
    followups: list[FollowUpOut]
    joined: list[dict[str, Any]]
    rectify_by: str | None
    correction_count: int
    corrections: list[CorrectionOut]


class JointVisitOut(BaseModel):
    """A target this task's draw merged into another task's visit (联合检查)."""

    model_config = ConfigDict(extra="allow")

    target_code: str
    target_name: str
    task_id: int
    plan_no: str
    task_no: str


class TaskDetail(BaseModel):
    model_config = ConfigDict(extra="allow")

    id: int
    plan_no: str
    plan_name: str
    task_no: str
    name: str
    task_type: str
    ratio: str
    state: str
    version: int = Field(description="任务版本；写操作以 If-Match 带上（ETag 同值）")
    allowed_triggers: list[str]
    commitment: str | None
    draw_digest: str | None
    confirmed_at: str | None
    created_at: str
    updated_at: str
    records: list[RecordOut]
    joint_visits: list[JointVisitOut]


class PlanTask(BaseModel):
    model_config = ConfigDict(extra="allow")

    id: int
    task_no: str
    name: str
    task_type: str
    task_type_label: str
    ratio: str
    ratio_percent: str
    months: str
    state: str
    commitment: str | None


class PlanDetail(BaseModel):
    model_config = ConfigDict(extra="allow")

    plan_no: str
    name: str
    year: int
    unit: str
    created_at: str
    published_at: str | None
    tasks: list[PlanTask]


@router.get("/tasks", summary="任务列表（按 ID 分页）", response_model=TaskPage)
def list_tasks(
    who: Annotated[Actor, Authorized("task.read")],
    ctx: ContextDep,
    state: Annotated[str | None, Query(description="状态")] = None,
    plan: Annotated[str | None, Query(description="计划编号", max_length=16)] = None,
    unit: Annotated[str | None, Query(description="单位代码（含下级）", max_length=32)] = None,
    type: Annotated[
        str | None, Query(description="抽查类型：directed 定向 / undirected 不定向", max_length=16)
    ] = None,
    month: Annotated[
        str | None, Query(description="抽查月份 YYYY-MM（任务时间含该月）", max_length=7)
    ] = None,
    q: Annotated[
        str | None,
        Query(
            description="任务编号（如 2024001-001号、任务 ID）、计划编号或名称中的文字",
            max_length=100,
        ),
    ] = None,
    after: Annotated[
        int | None, Query(ge=0, le=input_limits.ID_MAX, description="上一页的 next_after")
    ] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
) -> TaskPage:
    task_type = task_filters(state, type)
    with ctx.reading() as c:
        rows = queries.list_tasks(
            c, state, plan, within=who, unit=unit, after=after, limit=limit + 1,
            task_type=task_type, month=month, search=q,
        )  # fmt: skip
    more = len(rows) > limit
    rows = rows[:limit]
    return TaskPage(
        items=[TaskSummary(**r) for r in rows], next_after=rows[-1]["id"] if more else None
    )


def task_filters(state: str | None, task_type: str | None) -> str | None:
    """The list's state and type as asked, checked with the API's messages (the type as
    typed: 定向 or directed); the page's filter form uses it too."""
    if state is not None and state not in states.STATES:
        raise InvalidInput(f"状态 {state!r} 无效：应为 {'、'.join(states.STATES)}", field="state")
    if not task_type:
        return None
    with naming("type"):
        return normalize.option(task_type, normalize.TASK_TYPE, "type")


@router.get("/tasks/{task}", summary="任务详情（ETag 为任务版本）", response_model=TaskDetail)
def show_task(
    task: str, who: Annotated[Actor, Authorized("task.read")], ctx: ContextDep, response: Response
) -> TaskDetail:
    with ctx.reading() as c:  # the request's connection (AppContext.one_connection)
        shown = queries.show_task(c, task_in_scope(c, task, who))
    response.headers["ETag"] = f'"{shown["version"]}"'
    return TaskDetail(**shown)


@router.post(
    "/tasks/{task}/results", summary="录入或更正（未公示的）检查结果", response_model=ResultOut
)
def set_result(
    task: str,
    body: ResultIn,
    who: Annotated[Actor, Authorized("result.set")],
    ctx: ContextDep,
    response: Response,
    if_match: IfMatch = None,
) -> ResultOut:
    with ctx.reading() as c:  # the request's connection (AppContext.one_connection)
        task_id = task_in_scope(c, task, who)
        expected = expected_version(if_match)
        with naming("target"):
            code = refs.target_code(c, body.target, task_id)
    with naming("result"):
        value = normalize.option(body.result, normalize.RESULT, "result")
    with writing(ctx, who, task_id, expected) as wf:
        p = wf.set_result(
            task_id, code, value, actor=who.username, note=body.note, reason=body.reason,
            rectify_by=body.rectify_by, expected_version=expected,
        )  # fmt: skip
    version = tag(wf, response, task_id)
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
    if_match: IfMatch = None,
) -> Fired:
    if trigger not in states.TRIGGERS or trigger == "draw":
        raise InvalidInput(f"触发器 {trigger!r} 无效（抽取用 draw 接口）", field="trigger")
    task_id = task_in_scope(ctx, task, who)
    expected = expected_version(if_match)
    with writing(ctx, who, task_id, expected) as wf:
        src, dest, _ = wf.fire(
            task_id, trigger, actor=who.username, reason=body.reason if body else None,
            expected_version=expected,
        )  # fmt: skip
    version = tag(wf, response, task_id)
    return Fired(task=task_id, from_state=src, to_state=dest, version=version)


class PlanPage(BaseModel):
    items: list[PlanSummary]
    next_after: int | None = Field(description="下一页：把它作为 after 参数；null 表示已到末页")


@router.get("/plans", summary="抽查计划列表", response_model=PlanPage)
def list_plans(
    who: Annotated[Actor, Authorized("plan.read")],
    ctx: ContextDep,
    after: After = None,
    limit: Limit = 100,
) -> PlanPage:
    page, next_after = window(queries.list_plans(ctx.engine, within=who), after, limit)
    return PlanPage(
        items=[PlanSummary(plan_no=p["plan_no"], name=p["name"], tasks=p["tasks"]) for p in page],
        next_after=next_after,
    )


@router.get("/plans/{plan_no}", summary="抽查计划详情", response_model=PlanDetail)
def show_plan(
    plan_no: str, who: Annotated[Actor, Authorized("plan.read")], ctx: ContextDep
) -> PlanDetail:
    return PlanDetail(**queries.show_plan(ctx.engine, normalize.nfkc(plan_no).strip(), within=who))
