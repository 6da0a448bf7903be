"""The working-day calendar: ``GET /api/v1/calendar/coverage`` (who confirms a year's holidays,
as ``ssj calendar check`` says), ``GET /api/v1/calendar/deadline`` (N working days from a day,
as ``ssj calendar add`` counts them) and ``POST /api/v1/calendar/notices`` (the State Council's
notice, recorded for every process as ``ssj calendar notice`` records it)."""

from __future__ import annotations

from typing import Annotated
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Query
from pydantic import BaseModel, Field

from web._auth import Authorized, acting
from web._deps import ContextDep
from web._text import Text
from workflow.core import normalize
from workflow.core.errors import InvalidInput
from workflow.core.identity import Actor
from workflow.deadlines import calendar_years
from workflow.deadlines.calendar import MAX_WORKING_DAYS

router = APIRouter(tags=["工作日历"])

NOTICE_MAX_CHARS = 256 * 1024  # the command's file limit: a notice is a few kilobytes
YEARS_MAX = 20


class YearCoverage(BaseModel):
    year: int
    provisional: bool = Field(description="暂定：节假日安排尚未确认，按周末和法定节假日推算")
    source: str = Field(description="由谁确认（config.yaml、数据库录入的通知、chinesecalendar）")
    weekdays_off: list[str] = Field(description="暂定年份已知的工作日放假日期（不含调休上班日）")


class CalendarCoverage(BaseModel):
    years: list[YearCoverage]


class NoticeIn(BaseModel):
    text: Text = Field(
        min_length=1, max_length=NOTICE_MAX_CHARS, description="国务院办公厅通知全文（纯文本）"
    )
    dry_run: bool = Field(False, description="只识别并比对，不录入")


class NoticePeriod(BaseModel):
    name: str
    start: str
    end: str


class MakeUpDay(BaseModel):
    name: str
    day: str


class NoticeOut(BaseModel):
    year: int
    title: str
    periods: list[NoticePeriod] = Field(description="放假")
    makeup: list[MakeUpDay] = Field(description="调休上班")
    holidays: list[str] = Field(description="放假的工作日")
    workdays: list[str] = Field(description="上班的周末")
    dry_run: bool
    recorded: bool = Field(description="本次已录入")
    already: bool = Field(description="此前已录入相同安排，未重复录入")
    event_seq: int | None
    note: str
    covered_by: str | None = Field(description="演练时：该年现由谁确认（暂定为 null）")
    differences: list[str] = Field(description="演练时：与现有来源不一致的日期")


@router.get(
    "/calendar/coverage", summary="节假日安排由谁确认，或为暂定", response_model=CalendarCoverage
)
def coverage(
    who: Annotated[Actor, Authorized("calendar.read")],
    ctx: ContextDep,
    year: Annotated[list[int] | None, Query(description="年份（可多个）；省略为今年和明年")] = None,
) -> CalendarCoverage:
    if year and len(year) > YEARS_MAX:
        raise InvalidInput(f"一次至多查询 {YEARS_MAX} 个年份", field="year")
    with ctx.connect() as raw, raw.read() as cur:  # a notice another process recorded
        calendar_years.refresh(ctx.calendar, cur, raw.sql)
    if not year:
        today = ctx.clock.now().astimezone(ZoneInfo(ctx.settings.calendar.timezone)).date()
        year = [today.year, today.year + 1]
    return CalendarCoverage(
        years=[YearCoverage(**calendar_years.coverage(ctx.calendar, y)) for y in year]
    )


class Deadline(BaseModel):
    start: str = Field(alias="from", description="起算日期（当日不计）")
    working_days: int
    due: str = Field(description="截止日期：第 N 个工作日（含调休上班日，不含放假日）")
    provisional_years: list[int] = Field(
        description="所跨的暂定年份（节假日安排尚未确认，截止日期可能变动）；空表示已确认"
    )

    model_config = {"serialize_by_alias": True}


@router.get(
    "/calendar/deadline",
    summary="计算“自某日起 N 个工作日内”的截止日期（当日不计，含调休）",
    response_model=Deadline,
)
def deadline(
    who: Annotated[Actor, Authorized("calendar.read")],
    ctx: ContextDep,
    start: Annotated[
        str,
        Query(
            alias="from",
            max_length=32,
            description="起算日期，如 2024-09-27、2024年9月27日（当日不计）",
        ),
    ],
    working_days: Annotated[int, Query(ge=0, le=MAX_WORKING_DAYS, description="工作日数")],
) -> Deadline:
    try:
        day = normalize.parse_date(start)
    except ValueError as e:
        raise InvalidInput(
            f"起算日期 {start!r} 无效：{e}，如 2024-09-27", field="from", value=start
        ) from None
    with ctx.connect() as raw, raw.read() as cur:  # a notice another process recorded
        calendar_years.refresh(ctx.calendar, cur, raw.sql)
    due, years = ctx.calendar.deadline(day, working_days)
    return Deadline.model_validate(
        {"from": day.isoformat(), "working_days": working_days, "due": due.isoformat(),
         "provisional_years": years}
    )  # fmt: skip


@router.post(
    "/calendar/notices",
    summary="录入国务院办公厅节假日安排通知（识别放假与调休上班日期，各进程共用）",
    response_model=NoticeOut,
)
def take_notice(
    body: NoticeIn, who: Annotated[Actor, Authorized("calendar.notice")], ctx: ContextDep
) -> NoticeOut:
    wf = ctx.new_workflow()
    try:
        with acting(who):
            taken = calendar_years.take_notice(wf, body.text, who.username, dry_run=body.dry_run)
    finally:
        wf.close()
    n, r = taken.notice, taken.recorded
    return NoticeOut(
        year=n.year,
        title=n.title,
        periods=[
            NoticePeriod(name=p.name, start=p.start.isoformat(), end=p.end.isoformat())
            for p in n.periods
        ],
        makeup=[MakeUpDay(name=m.name, day=m.day.isoformat()) for m in n.makeup],
        holidays=sorted(d.isoformat() for d in n.holidays),
        workdays=sorted(d.isoformat() for d in n.workdays),
        dry_run=body.dry_run,
        recorded=r is not None and not r.already,
        already=r is not None and r.already,
        event_seq=r.event_seq if r is not None else None,
        note=r.note if r is not None else "",
        covered_by=taken.covered_by,
        differences=taken.differences,
    )
