"""Results after the one-by-one entry (``POST /tasks/{task}/results`` in web/_tasks.py): a whole
task's results from one uploaded sheet, their publication (一公开), corrections of published
results, a problem's rectification date, and follow-ups — under ``/api/v1/tasks/{task}``,
each calling what ``ssj result`` and ``ssj followup`` call, under the same action, with
``If-Match`` on every write.

An upload is checked whole as ``ssj result import`` checks a file: one bad row rejects it
with 422 listing each problem (row, column, the cell as typed, what is wrong), nothing
written. The file is kept in a scratch directory for the request only (web/_files.py);
messages name it as the client uploaded it, never where the server kept it.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Response, UploadFile
from pydantic import BaseModel, Field

from web._auth import Authorized
from web._deps import ContextDep
from web._files import uploaded
from web._text import Line, StatedDate, Text
from web._writes import IfMatch, expected_version, naming, tag, task_in_scope, writing
from workflow.core import normalize, queries, refs
from workflow.core.errors import InvalidInput
from workflow.core.identity import Actor
from workflow.core.writer import CORRECTION_CATEGORIES, correction_category
from workflow.sampling import results

__all__ = ["router"]

router = APIRouter(tags=["检查结果与后续处置"])


class ResultsUpload(BaseModel):
    """The form of an import (``multipart/form-data``)."""

    file: UploadFile = Field(
        description=".xlsx 或 .csv：统一社会信用代码（或名称）、检查结果、检查情况说明、整改期限"
        "（可有“抽查任务”列，须为本任务）"
    )
    reason: Text | None = Field(
        None, max_length=2000, description="文件改动已有（未公示）结果时必填"
    )
    dry_run: bool = Field(False, description="只校验，不写入")


class Imported(BaseModel):
    task: int
    task_label: str = Field(description="计划编号-任务编号")
    rows: int
    recorded: int = Field(description="新录入")
    changed: int = Field(description="更正（未公示的）已有结果")
    unchanged: int
    dry_run: bool
    version: int


class PublishIn(BaseModel):
    place: Line = Field(max_length=500, description="公示位置（网址或栏目）")
    date: Line | None = Field(
        None,
        max_length=40,
        description="公示日期 YYYY-MM-DD（或北京时间时刻）；默认今天，不得晚于今天",
    )
    targets: list[Annotated[Line, Field(max_length=200)]] | None = Field(
        None, max_length=10000, description="只公示这些检查对象（代码或名称）；默认全部未公示的"
    )


class Published(BaseModel):
    task: int
    targets: list[str]
    published_on: str
    place: str
    version: int


class CorrectionIn(BaseModel):
    target: Line = Field(max_length=200, description="检查对象：统一社会信用代码或名称")
    result: Line = Field(max_length=50, description="更正后的结果（中文表述或代码）")
    reason: Text = Field(max_length=2000, description="更正原因")
    category: Line = Field(max_length=20, description="更正类别：录入错误 / 复核改变 / 其他")
    note: Text | None = Field(None, max_length=2000, description="更正后的检查情况说明")
    rectify_by: StatedDate | None = Field(None, description="整改期限（更正为发现问题时）")
    place: Line | None = Field(None, max_length=500, description="更正的公示位置（默认原位置）")


class ResultState(BaseModel):
    result: str | None
    note: str | None


class Corrected(BaseModel):
    task: int
    target: str
    before: ResultState
    after: ResultState
    category: str
    category_label: str
    published_on: str
    place: str | None
    rectify_by: str | None
    version: int


class RectifyByIn(BaseModel):
    target: Line = Field(max_length=200, description="检查对象：统一社会信用代码或名称")
    rectify_by: StatedDate = Field(description="新的整改期限")
    reason: Text = Field(max_length=2000, description="变更原因")


class RectifyByChanged(BaseModel):
    task: int
    target: str
    before: str | None
    after: str
    version: int


class FollowupIn(BaseModel):
    target: Line = Field(max_length=200, description="检查对象：统一社会信用代码或名称")
    outcome: Line = Field(
        max_length=50, description="已整改 / 立案查处 / 移送有关部门 / 移送公安机关（或代码）"
    )
    note: Text = Field("", max_length=2000)
    date: StatedDate | None = Field(None, description="处置日期；默认今天，不得晚于今天")


class FollowupAdded(BaseModel):
    task: int
    target: str
    outcome: str
    outcome_label: str
    version: int


@router.post(
    "/tasks/{task}/results/import",
    summary="从一张表导入本任务的检查结果（整表校验，有误则整表拒绝）",
    response_model=Imported,
)
def import_results(
    task: str,
    who: Annotated[Actor, Authorized("result.import")],
    ctx: ContextDep,
    response: Response,
    form: Annotated[ResultsUpload, Form(media_type="multipart/form-data")],
    if_match: IfMatch = None,
) -> Imported:
    task_id = task_in_scope(ctx, task, who)
    expected = expected_version(if_match)
    with (
        naming("file"),  # what is wrong is in the file (each problem says where)
        uploaded(form.file, ctx.settings.imports) as path,
        writing(ctx, who, task_id, expected) as wf,
    ):
        s = results.import_results(
            wf, path, actor=who.username, task=task_id, reason=form.reason,
            dry_run=form.dry_run, expected_version=expected,
        )  # fmt: skip
    version = tag(ctx, response, task_id)
    return Imported(
        task=task_id, task_label=s["task"], rows=s["rows"], recorded=s["recorded"],
        changed=s["changed"], unchanged=s["unchanged"], dry_run=s["dry_run"], version=version,
    )  # fmt: skip


@router.post(
    "/tasks/{task}/results/publication",
    summary="登记检查结果的公示（日期与位置）",
    response_model=Published,
)
def publish(
    task: str,
    body: PublishIn,
    who: Annotated[Actor, Authorized("result.publish")],
    ctx: ContextDep,
    response: Response,
    if_match: IfMatch = None,
) -> Published:
    task_id = task_in_scope(ctx, task, who)
    expected = expected_version(if_match)
    when = None
    if body.date is not None:
        try:
            when = normalize.local_day(body.date, ctx.settings.calendar.timezone)
        except ValueError as e:
            raise InvalidInput(
                f"公示日期 {body.date!r} 无效：{e}", field="date", value=body.date
            ) from None
    codes = None
    if body.targets:
        codes = []
        for i, ref in enumerate(body.targets):
            with naming(f"targets[{i}]"):
                codes.append(refs.target_code(ctx.engine, ref, task_id))
    with writing(ctx, who, task_id, expected) as wf:
        done = wf.publish(
            task_id, place=body.place, actor=who.username, targets=codes, published_on=when,
            expected_version=expected,
        )  # fmt: skip
    version = tag(ctx, response, task_id)
    record = next(
        r for r in queries.show_task(ctx.engine, task_id)["records"] if r["target_code"] == done[0]
    )
    return Published(
        task=task_id, targets=done, published_on=record["published_on"],
        place=record["published_place"], version=version,
    )  # fmt: skip


@router.post(
    "/tasks/{task}/results/corrections",
    summary="更正已公示的检查结果（须说明原因与类别，更正本身公示）",
    response_model=Corrected,
)
def correct(
    task: str,
    body: CorrectionIn,
    who: Annotated[Actor, Authorized("result.correct")],
    ctx: ContextDep,
    response: Response,
    if_match: IfMatch = None,
) -> Corrected:
    task_id = task_in_scope(ctx, task, who)
    expected = expected_version(if_match)
    with naming("target"):
        code = refs.target_code(ctx.engine, body.target, task_id)
    with naming("result"):
        value = normalize.option(body.result, normalize.RESULT, "result")
    correction_category(body.category)  # a bad category is named before anything is read
    with writing(ctx, who, task_id, expected) as wf:
        p = wf.correct_result(
            task_id, code, value, actor=who.username, reason=body.reason,
            category=body.category, note=body.note, rectify_by=body.rectify_by,
            place=body.place, expected_version=expected,
        )  # fmt: skip
    version = tag(ctx, response, task_id)
    return Corrected(
        task=task_id, target=code, before=ResultState(**p["before"]),
        after=ResultState(**p["after"]), category=p["category"],
        category_label=CORRECTION_CATEGORIES[p["category"]], published_on=p["published_on"],
        place=p["place"], rectify_by=p["rectify_by"], version=version,
    )  # fmt: skip


@router.post(
    "/tasks/{task}/results/rectify-by",
    summary="变更发现问题的整改期限（须说明原因）",
    response_model=RectifyByChanged,
)
def change_rectify_by(
    task: str,
    body: RectifyByIn,
    who: Annotated[Actor, Authorized("result.rectify_by")],
    ctx: ContextDep,
    response: Response,
    if_match: IfMatch = None,
) -> RectifyByChanged:
    task_id = task_in_scope(ctx, task, who)
    expected = expected_version(if_match)
    with naming("target"):
        code = refs.target_code(ctx.engine, body.target, task_id)
    with writing(ctx, who, task_id, expected) as wf:
        p = wf.change_rectify_by(
            task_id, code, body.rectify_by, actor=who.username, reason=body.reason,
            expected_version=expected,
        )  # fmt: skip
    version = tag(ctx, response, task_id)
    return RectifyByChanged(
        task=task_id, target=code, before=p["before"], after=p["after"], version=version
    )


@router.post(
    "/tasks/{task}/followups",
    summary="为发现问题或不配合检查的检查对象登记后续处置",
    response_model=FollowupAdded,
    status_code=201,
)
def add_followup(
    task: str,
    body: FollowupIn,
    who: Annotated[Actor, Authorized("followup.add")],
    ctx: ContextDep,
    response: Response,
    if_match: IfMatch = None,
) -> FollowupAdded:
    task_id = task_in_scope(ctx, task, who)
    expected = expected_version(if_match)
    with naming("target"):
        code = refs.target_code(ctx.engine, body.target, task_id)
    with naming("outcome"):
        value = normalize.option(body.outcome, normalize.OUTCOME, "outcome")
    with writing(ctx, who, task_id, expected) as wf:
        wf.add_followup(
            task_id, code, value, actor=who.username, on=body.date, note=body.note,
            expected_version=expected,
        )  # fmt: skip
    version = tag(ctx, response, task_id)
    return FollowupAdded(
        task=task_id, target=code, outcome=value,
        outcome_label=normalize.OUTCOME.labels[value], version=version,
    )  # fmt: skip
