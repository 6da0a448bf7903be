"""Deadlines and reports: ``/api/v1/deadlines/overdue`` and ``…/upcoming`` (what ``ssj overdue``
shows, within the account's unit subtree, read so by the queries), ``/api/v1/deadlines/sweep``
(``ssj sweep``), ``/api/v1/reports`` (the offices' report obligations; ``ssj report list`` and
``ssj report submit``). Each calls the application functions the commands call."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query
from pydantic import BaseModel, Field

from web._auth import Authorized, acting
from web._deps import ContextDep
from web._paging import After, Limit, window
from web._text import Line
from workflow.app import AppContext
from workflow.core.errors import InvalidInput
from workflow.core.identity import Actor
from workflow.deadlines import overdue as deadline_view
from workflow.deadlines import reports, sweep

router = APIRouter(tags=["期限与督办"])


class DeadlineRow(BaseModel):
    deadline: str = Field(description="期限的键（任务或报告、规则、截止日期）")
    rule: str
    what: str = Field(description="应办事项")
    task_id: int | None = Field(description="任务 ID；定期报告为 null")
    subject: str = Field(description="任务或报告")
    detail: str
    unit: str | None = Field(description="所属局的单位代码")
    office: str = Field(description="承办科室")
    responsible: str = Field(description="责任人（执法人员或科室负责人）")
    due: str = Field(description="截止日期 YYYY-MM-DD")
    working_days_late: int = Field(description="已逾期的工作日数（未到期为 0）")
    working_days_left: int = Field(description="距截止的工作日数（已逾期为 0）")
    provisional: bool = Field(description="日期或工作日数所在年份的节假日安排尚未确认（暂定）")
    due_provisional: bool
    escalation_level: int = Field(description="督办级别：0 为尚未发出逾期通知")
    escalation_step: str | None
    escalation_label: str = Field(description="督办级别的说明")
    last_notice_at: str | None
    last_notice_step: str | None
    last_notice_label: str


class DeadlinePage(BaseModel):
    items: list[DeadlineRow]
    next_after: int | None = Field(description="下一页：把它作为 after 参数；null 表示已到末页")
    problems: list[str] = Field(description="无法计算期限的数据问题")


class SweepIn(BaseModel):
    dry_run: bool = Field(default=False, description="只演练：决定要做什么，不写入、不发送")
    deliver: bool = Field(default=True, description="巡检后发送邮件队列中的邮件")


class SweepSteps(BaseModel):
    reminder: int
    overdue: int
    escalation: int


class SweepDelivery(BaseModel):
    mails: int
    messages: int
    failed: int
    dead: int
    error: str | None


class PlannedStep(BaseModel):
    step: str
    kind: str
    label: str
    due: str
    to: list[str]
    not_again: list[str]


class SweepOut(BaseModel):
    as_of: str
    today: str
    open_deadlines: int
    due_soon: int
    overdue: int
    steps: SweepSteps
    messages: int = Field(description="入队邮件数")
    without_recipient: list[str]
    problems: list[str]
    delivery: SweepDelivery | None
    dry_run: bool
    planned: list[PlannedStep]
    provisional: int
    calendar_warning: str | None
    calendar_warning_sent: bool
    calendar_warning_mails: int


class ReportObligation(BaseModel):
    unit: str = Field(description="报送科室的单位代码")
    office: str
    kind: str
    kind_label: str
    period: str
    due: str
    basis: str
    provisional: bool
    submitted: bool
    submitted_by: str | None
    submitted_at: str | None
    event_seq: int | None
    late: bool | None = Field(description="是否逾期报送（未报送为 null）")
    overdue: bool = Field(description="已过截止日期仍未报送")


class ReportPage(BaseModel):
    items: list[ReportObligation]
    next_after: int | None


class ReportIn(BaseModel):
    kind: Line = Field(max_length=30, description="monthly / progress / review 或中文名称")
    period: Line = Field(max_length=16, description="如 2024-03、2024-Q2、2024")
    office: Line = Field(max_length=100, description="报送科室：单位代码或名称")


class ReportSubmitted(BaseModel):
    kind: str
    period: str
    office: str
    unit: str
    due: str
    late: bool
    event_seq: int
    submitted_at: str


def _rows(ctx: AppContext, rows: list[dict[str, Any]]) -> list[DeadlineRow]:
    label = deadline_view.step_label
    return [
        DeadlineRow(
            **{k: r[k] for k in DeadlineRow.model_fields if k in r},
            escalation_label=label(r["escalation_step"], ctx.settings),
            last_notice_label=label(r["last_notice_step"], ctx.settings),
        )
        for r in rows
    ]


Office = Annotated[Line | None, Query(max_length=100, description="只看某科室（名称）")]


@router.get("/deadlines/overdue", summary="逾期清单（最逾期者在前）", response_model=DeadlinePage)
def overdue(
    who: Annotated[Actor, Authorized("deadline.read")],
    ctx: ContextDep,
    office: Office = None,
    after: After = None,
    limit: Limit = 50,
) -> DeadlinePage:
    with ctx.new_workflow() as wf:
        rows, problems = deadline_view.overdue(
            wf, ctx.settings, ctx.clock.now(), office, within=who
        )
    page, next_after = window(rows, after, limit)
    return DeadlinePage(items=_rows(ctx, page), next_after=next_after, problems=problems)


@router.get(
    "/deadlines/upcoming", summary="即将到期的事项（最早到期者在前）", response_model=DeadlinePage
)
def upcoming(
    who: Annotated[Actor, Authorized("deadline.read")],
    ctx: ContextDep,
    days: Annotated[
        int, Query(ge=0, le=deadline_view.UPCOMING_DAYS_MAX, description="往后看多少天（日历日）")
    ] = 14,
    office: Office = None,
    after: After = None,
    limit: Limit = 50,
) -> DeadlinePage:
    with ctx.new_workflow() as wf:
        rows, problems = deadline_view.upcoming(
            wf, ctx.settings, ctx.clock.now(), office, days=days, within=who
        )
    page, next_after = window(rows, after, limit)
    return DeadlinePage(items=_rows(ctx, page), next_after=next_after, problems=problems)


@router.post(
    "/deadlines/sweep",
    summary="执行一次期限巡检（到期提醒、逾期通知、逐级督办），然后发送邮件",
    response_model=SweepOut,
)
def run_sweep(
    who: Annotated[Actor, Authorized("sweep.run")], ctx: ContextDep, body: SweepIn | None = None
) -> SweepOut:
    asked = body or SweepIn()
    with ctx.new_workflow() as wf, acting(who):
        r = sweep.run(
            wf, ctx.settings, ctx.clock.now(), deliver=asked.deliver, dry_run=asked.dry_run,
            by=who,
        )  # fmt: skip
    return SweepOut.model_validate(r.as_json())


@router.get("/reports", summary="各报送科室某年度的定期报告及报送情况", response_model=ReportPage)
def list_reports(
    who: Annotated[Actor, Authorized("report.read")],
    ctx: ContextDep,
    year: Annotated[int, Query(ge=2000, le=2099, description="年度")],
    office: Annotated[Line | None, Query(max_length=100, description="只看某科室")] = None,
    after: After = None,
    limit: Limit = 50,
) -> ReportPage:
    with ctx.new_workflow() as wf:
        rows = reports.obligations(wf, ctx.settings, year=year, office=office, within=who)
    page, next_after = window(rows, after, limit)
    return ReportPage(items=[ReportObligation(**r) for r in page], next_after=next_after)


@router.post(
    "/reports",
    summary="登记已报送的定期报告",
    response_model=ReportSubmitted,
    status_code=201,
)
def submit_report(
    body: ReportIn, who: Annotated[Actor, Authorized("report.submit")], ctx: ContextDep
) -> ReportSubmitted:
    try:
        kind = reports.KIND(body.kind)
    except ValueError as e:
        raise InvalidInput(
            f"报告类别 {body.kind!r} 无效：{e}", field="kind", value=body.kind
        ) from None
    with ctx.new_workflow() as wf, acting(who):
        r = reports.submit(
            wf, ctx.settings, kind=kind, period=body.period, office=body.office,
            actor=who.username, within=who,
        )  # fmt: skip
    return ReportSubmitted(**{k: r[k] for k in ReportSubmitted.model_fields})
