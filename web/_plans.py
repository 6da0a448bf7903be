"""Writing plans and tasks over HTTP: ``POST /api/v1/plans`` (create), ``/plans/import`` (the
annual plan table, whole-file validation as ``ssj plan import``), ``/plans/{plan_no}/publish``
(each new task's draw commitment), ``GET /plans/template`` and ``POST /api/v1/tasks`` — the
same functions as ``ssj plan`` and ``ssj task create`` (workflow/sampling/plans.py), each in
one writer transaction, refused (403) for a plan outside the account's unit subtree.

Reading plans and tasks is web/_tasks.py's; this router is included before it, so that
``/plans/template`` is not taken for a plan number.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Annotated

from fastapi import APIRouter, Form, Path, Response, UploadFile
from fastapi.responses import FileResponse
from pydantic import BaseModel, Field

from web._auth import Authorized, acting
from web._deps import ContextDep
from web._files import XLSX, download, download_responses, uploaded
from web._text import Line, Text
from workflow.app import AppContext
from workflow.core import normalize, queries
from workflow.core.identity import Actor
from workflow.core.writer import Workflow
from workflow.sampling import directories, plans

router = APIRouter(tags=["计划与任务"])


class PlanIn(BaseModel):
    plan_no: Line = Field(max_length=16, description="抽查计划编号：年份+三位序号，如 2024001")
    unit: Line | None = Field(
        None,
        max_length=200,
        description="单位：局的名称或代码（须在本单位及下级单位之内；默认账号所属的局）",
    )
    name: Line | None = Field(
        None, max_length=200, description="计划名称（默认：年度+部门+随机抽查+序号）"
    )


class PlanCreated(BaseModel):
    plan_no: str
    name: str
    year: int
    unit: str
    created_at: str
    published_at: str | None


class PlanTableUpload(BaseModel):
    file: UploadFile = Field(description="计划表 .xlsx 或 .csv（来源文件 004 附件的列）")
    dry_run: bool = Field(False, description="只校验，不写入")


class PlanImportSummary(BaseModel):
    file: str = Field(description="上传的文件名")
    plans_created: list[str] = Field(description="新建的抽查计划编号")
    tasks_created: int
    tasks_unchanged: int = Field(description="已存在且内容一致的任务")
    dry_run: bool = Field(description="只校验，未写入")
    warnings: list[str]


class Commitment(BaseModel):
    task_id: int
    task_no: str
    commitment: str = Field(description="抽取承诺值：secret 的 SHA-256（十六进制）")


class PlanPublished(BaseModel):
    plan_no: str
    tasks: list[Commitment]


class TaskIn(BaseModel):
    plan: Line = Field(max_length=16, description="抽查计划编号")
    name: Line = Field(max_length=200, description="抽查任务名称")
    task_no: Line | None = Field(None, max_length=16, description="任务编号，如 001号（默认顺延）")
    task_type: Line = Field(
        "undirected", max_length=16, description="定向（directed）或 不定向（undirected）"
    )
    ratio: Line = Field("0.05", max_length=16, description="抽查比例，如 0.05 或 10%")
    items: Text = Field("", max_length=2000, description="抽查事项（计划表的表述）")
    item_codes: list[Annotated[Line, Field(max_length=64)]] = Field(
        default_factory=list, max_length=500, description="抽查事项编码（须在事项清单中）"
    )
    scope: Text = Field("", max_length=2000, description="抽查对象范围（检查对象类型）")
    office: Line = Field("", max_length=100, description="发起处室")
    joining: list[Annotated[Line, Field(max_length=100)]] = Field(
        default_factory=list, max_length=50, description="联合处室"
    )
    months: Line = Field("", max_length=64, description="抽查时间（到月份），如 2024-04")
    conditions: Text = Field(
        "", max_length=2000, description="定向条件，如 信用风险等级=C,D；规模=大型"
    )
    stratum_ratios: Text = Field("", max_length=500, description="分层比例，如 C=20%；D=30%")
    field: Line = Field("", max_length=100, description="检查组人员须具备的执法领域")
    reason: Text | None = Field(None, max_length=2000)


class TaskCreated(BaseModel):
    id: int
    plan_no: str
    task_no: str
    name: str
    state: str
    version: int
    warnings: list[str] = Field(description="不拒绝创建、但应知悉的情况")


@contextmanager
def _writing(ctx: AppContext, who: Actor) -> Iterator[Workflow]:
    """A workflow of the request's own (one connection), the account bound."""
    wf = ctx.new_workflow()
    try:
        with acting(who):
            yield wf
    finally:
        wf.close()


@router.get(
    "/plans/template",
    summary="年度抽查工作计划表空白模板（.xlsx，来源文件 004 附件的列）",
    response_class=FileResponse,
    responses=download_responses(XLSX),
)
def plan_template(who: Annotated[Actor, Authorized("directory.template")]) -> FileResponse:
    return download(plans.write_plan_template, "年度抽查工作计划表导入模板.xlsx")


@router.post("/plans", summary="创建年度抽查工作计划", response_model=PlanCreated, status_code=201)
def create_plan(
    body: PlanIn, who: Annotated[Actor, Authorized("plan.create")], ctx: ContextDep
) -> PlanCreated:
    plan_no = normalize.code(body.plan_no)
    with _writing(ctx, who) as wf:
        plans.create_plan(
            wf, plan_no, unit=body.unit, actor=who.username, name=body.name, within=who
        )
    p = queries.show_plan(ctx.engine, plan_no, within=who)
    return PlanCreated(
        plan_no=p["plan_no"], name=p["name"], year=p["year"], unit=p["unit"],
        created_at=p["created_at"], published_at=p["published_at"],
    )  # fmt: skip


@router.post(
    "/plans/import",
    summary="导入年度抽查工作计划表（整表校验：任一行有误则整表拒绝并逐行列出问题）",
    response_model=PlanImportSummary,
)
def import_plans(
    form: Annotated[PlanTableUpload, Form(media_type="multipart/form-data")],
    who: Annotated[Actor, Authorized("plan.create")],
    ctx: ContextDep,
) -> PlanImportSummary:
    with uploaded(form.file, ctx.settings.imports) as path, _writing(ctx, who) as wf:
        s = plans.import_plan_table(
            wf, path, actor=who.username, rules=ctx.settings.draw, dry_run=form.dry_run,
            within=who,
        )  # fmt: skip
        name = path.name
    return PlanImportSummary(
        file=name, plans_created=s.plans_created, tasks_created=s.tasks_created,
        tasks_unchanged=s.tasks_unchanged, dry_run=s.dry_run, warnings=s.warnings,
    )  # fmt: skip


@router.post(
    "/plans/{plan_no}/publish",
    summary="公布计划：为每个新任务生成抽取承诺值并记入审计日志",
    response_model=PlanPublished,
)
def publish_plan(
    plan_no: Annotated[Line, Path(max_length=16, description="抽查计划编号")],
    who: Annotated[Actor, Authorized("plan.publish")],
    ctx: ContextDep,
) -> PlanPublished:
    plan_no = normalize.code(plan_no)
    with _writing(ctx, who) as wf:
        done = plans.publish(wf, plan_no, actor=who.username, within=who)
    return PlanPublished(plan_no=plan_no, tasks=[Commitment(**t) for t in done])


@router.post(
    "/tasks", summary="创建抽查任务（状态 planned）", response_model=TaskCreated, status_code=201
)
def create_task(
    body: TaskIn,
    who: Annotated[Actor, Authorized("task.create")],
    ctx: ContextDep,
    response: Response,
) -> TaskCreated:
    filters, strata = plans.parse_task_conditions(body.conditions, body.stratum_ratios)
    with _writing(ctx, who) as wf:
        task_id = plans.create_task(
            wf, body.plan, name=body.name, actor=who.username, reason=body.reason, within=who,
            task_no=body.task_no, task_type=body.task_type, ratio=body.ratio, items=body.items,
            scope=body.scope, initiating_office=body.office, joining_offices=body.joining,
            months=body.months, item_codes=body.item_codes, filters=filters,
            stratum_ratios=strata, inspector_field=body.field,
        )  # fmt: skip
    warnings = []
    if body.field.strip():
        with ctx.connect() as raw:
            warning = directories.unmatched_field(raw, body.field)
        if warning:
            warnings.append(warning)
    t = queries.show_task(ctx.engine, task_id)
    response.headers["ETag"] = f'"{t["version"]}"'
    return TaskCreated(
        id=task_id, plan_no=t["plan_no"], task_no=t["task_no"], name=t["name"],
        state=t["state"], version=t["version"], warnings=warnings,
    )  # fmt: skip
