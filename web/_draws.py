"""A task's draw and what follows it (DESIGN §6, seed 003), under ``/api/v1/tasks/{task}``:
run the draw, read its published record (as JSON, or as the stored file that anyone can check
with the verifier), verify it, confirm it, substitute an inspector, and make the inspection
sheets; and ``/api/v1/draw-records/verification``: a record file checked on its own. Each calls the function ``ssj draw`` and ``ssj sheet`` call (workflow/sampling), under
the action the CLI command takes (workflow/cli/access.py); every write takes ``If-Match``.

The inspection sheets are a POST, not a GET: making them is an event of the task
(``sheets_made``, the files' digests in the log), so it is a write like the CLI's.
"""

from __future__ import annotations

import io
import json
import tempfile
import zipfile
from pathlib import Path
from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, Form, Response, UploadFile
from pydantic import BaseModel, Field

from web._auth import Authorized
from web._deps import ContextDep
from web._files import download_responses
from web._text import Line, Text
from web._writes import (
    IfMatch,
    current_version,
    expected_version,
    naming,
    tag,
    task_in_scope,
    writing,
)
from workflow.app import AppContext
from workflow.core import refs
from workflow.core.errors import InvalidInput
from workflow.core.identity import Actor
from workflow.sampling import sheets, task_draw

__all__ = ["router"]

router = APIRouter(tags=["抽取与检查表"])

ZIP = "application/zip"


class DrawIn(BaseModel):
    public_input: Text = Field(
        "",
        max_length=1000,
        description="公布承诺值之后才确定的公开信息（如当日公开数字）；空表示无",
    )


class Exclusion(BaseModel):
    code: str
    reason: str


class DrawStratum(BaseModel):
    name: str = Field(description="分层名称：信用风险等级，不定向任务为 all")
    ratio: str = Field(description="抽查比例（精确小数）")
    basis: str = Field("", description="该分层比例的依据")
    population: list[str] = Field(description="符合条件的检查对象（按代码排序）")
    population_digest: str
    exclusions: list[Exclusion]
    k: int = Field(description="抽取户数")
    drawn: list[str] = Field(description="抽中的检查对象")


class DrawnTarget(BaseModel):
    code: str
    eligible: list[str] = Field(description="符合条件的执法人员，按抽取顺序")
    group: list[str] = Field(description="检查组（执法证号）")
    substitutes: list[str] = Field(description="递补顺序")


class DrawnTask(BaseModel):
    id: int
    plan_no: str
    task_no: str
    name: str
    task_type: str
    filters: dict[str, list[str]]


class DrawRecord(BaseModel):
    """The published record of a draw (algorithm ``ssj-draw-v1``): enough to recompute it."""

    algorithm: str
    commitment: str
    public_input: str
    secret: str = Field(description="抽取后公开的密钥（十六进制）")
    group_size: int
    cap: int
    field: str | None = Field(description="检查组人员须具备的执法领域")
    strata: list[DrawStratum]
    targets: list[DrawnTarget]
    task: DrawnTask | None = None
    drawn_at: str | None = None


class Drawn(BaseModel):
    task: int
    state: str
    version: int
    record: DrawRecord
    warnings: list[str]


class DrawVerification(BaseModel):
    task: int
    ok: bool
    problems: list[str]


class ConfirmIn(BaseModel):
    reason: Text | None = Field(None, max_length=2000, description="逾期确认时必填")


class Confirmed(BaseModel):
    task: int
    drawn_on: str
    due: str = Field(description="确认期限（抽取后 2 个工作日内）")
    late: bool
    version: int


class SubstitutionIn(BaseModel):
    target: Line = Field(max_length=200, description="检查对象：统一社会信用代码或名称")
    inspector: Line = Field(max_length=100, description="被替换的执法人员：执法证号或姓名")
    reason: Text = Field(max_length=2000, description="替换原因（回避、请假等）")


class SkippedSubstitute(BaseModel):
    cert: str
    reason: str


class Substituted(BaseModel):
    task: int
    target: str
    replaced: str = Field(description="被替换的执法人员")
    substitute: str = Field(description="递补的执法人员")
    skipped: list[SkippedSubstitute] = Field(description="按递补顺序跳过的人员及原因")
    before: list[str]
    after: list[str]
    version: int


@router.post(
    "/tasks/{task}/draw",
    summary="执行抽取：planned → drawn（ETag 为任务版本）",
    response_model=Drawn,
)
def run_draw(
    task: str,
    who: Annotated[Actor, Authorized("draw.run")],
    ctx: ContextDep,
    response: Response,
    body: DrawIn | None = None,
    if_match: IfMatch = None,
) -> Drawn:
    task_id = task_in_scope(ctx, task, who)
    expected = expected_version(if_match)
    public_input = body.public_input if body else ""
    with writing(ctx, who, task_id, expected) as wf:
        record = task_draw.draw_task(
            wf, task_id, actor=who.username, public_input=public_input, expected_version=expected
        )
    version = tag(ctx, response, task_id)
    return Drawn(
        task=task_id,
        state="drawn",
        version=version,
        record=DrawRecord.model_validate(record),
        warnings=[] if public_input.strip() else [task_draw.NO_PUBLIC_INPUT],
    )


@router.get("/tasks/{task}/draw", summary="抽取记录（JSON）", response_model=DrawRecord)
def show_draw(
    task: str, who: Annotated[Actor, Authorized("draw.read")], ctx: ContextDep
) -> DrawRecord:
    task_id = task_in_scope(ctx, task, who)
    with ctx.new_workflow() as wf:
        return DrawRecord.model_validate(task_draw.load_record(wf, task_id))


@router.get(
    "/tasks/{task}/draw/record",
    summary="下载抽取记录文件（原样公开的 JSON，可用于独立验证）",
    response_class=Response,
    responses={200: {"content": {"application/json": {}}, "description": "抽取记录文件"}},
)
def download_draw(
    task: str, who: Annotated[Actor, Authorized("draw.read")], ctx: ContextDep
) -> Response:
    task_id = task_in_scope(ctx, task, who)
    with ctx.new_workflow() as wf:
        stored = task_draw.record_text(wf, task_id)
    meta = json.loads(stored).get("task") or {}
    name = f"抽取记录-{meta.get('plan_no', '')}-{meta.get('task_no', task_id)}.json"
    return Response(
        stored.encode("utf-8"),
        media_type="application/json",
        headers={"Content-Disposition": attachment(name, f"ssj-draw-{task_id}.json")},
    )


@router.get(
    "/tasks/{task}/draw/verification",
    summary="仅凭抽取记录重算并与审计日志核对",
    response_model=DrawVerification,
)
def verify_draw(
    task: str, who: Annotated[Actor, Authorized("draw.read")], ctx: ContextDep
) -> DrawVerification:
    task_id = task_in_scope(ctx, task, who)
    with ctx.new_workflow() as wf:
        problems = task_draw.verify_task(wf, task_id)
    return DrawVerification(task=task_id, ok=not problems, problems=problems)


class RecordUpload(BaseModel):
    file: UploadFile = Field(
        description="抽取记录 JSON 文件（如 GET /tasks/{task}/draw/record 所下载）"
    )


class RecordVerification(BaseModel):
    ok: bool
    problems: list[str] = Field(description="不能重现之处；空表示承诺值、摘要、抽中对象等均可重现")


@router.post(
    "/draw-records/verification",
    summary="仅凭上传的抽取记录文件重算（不查数据库，同 ssj draw verify --file）",
    response_model=RecordVerification,
)
def verify_record_file(
    form: Annotated[RecordUpload, Form(media_type="multipart/form-data")],
    who: Annotated[Actor, Authorized("draw.read")],
    ctx: ContextDep,
) -> RecordVerification:
    limit = ctx.settings.imports.max_file_mb * 2**20  # the body's bound (web/_middleware.py)
    data = form.file.file.read(limit + 1)
    if len(data) > limit:
        raise InvalidInput(
            f"上传的文件超过上限 {ctx.settings.imports.max_file_mb} MB（imports.max_file_mb）",
            field="file",
        )
    with naming("file"):
        problems = task_draw.verify_record_file(data, "上传的文件")
    return RecordVerification(ok=not problems, problems=problems)


@router.post(
    "/tasks/{task}/draw/confirmation",
    summary="确认抽取结果与检查组匹配（抽取后 2 个工作日内）",
    response_model=Confirmed,
)
def confirm_draw(
    task: str,
    who: Annotated[Actor, Authorized("draw.confirm")],
    ctx: ContextDep,
    response: Response,
    body: ConfirmIn | None = None,
    if_match: IfMatch = None,
) -> Confirmed:
    task_id = task_in_scope(ctx, task, who)
    expected = expected_version(if_match)
    with writing(ctx, who, task_id, expected) as wf:
        p = task_draw.confirm(
            wf, task_id, actor=who.username, reason=body.reason if body else None,
            tz=ctx.settings.calendar.timezone, expected_version=expected,
        )  # fmt: skip
    version = tag(ctx, response, task_id)
    return Confirmed(
        task=task_id, drawn_on=p["drawn_on"], due=p["due"], late=p["late"], version=version
    )


@router.post(
    "/tasks/{task}/draw/substitutions",
    summary="按递补顺序替换检查组中的执法人员",
    response_model=Substituted,
)
def substitute(
    task: str,
    body: SubstitutionIn,
    who: Annotated[Actor, Authorized("draw.substitute")],
    ctx: ContextDep,
    response: Response,
    if_match: IfMatch = None,
) -> Substituted:
    task_id = task_in_scope(ctx, task, who)
    expected = expected_version(if_match)
    with naming("target"):
        code = refs.target_code(ctx.engine, body.target, task_id)
    with naming("inspector"):
        cert = refs.group_member(ctx.engine, body.inspector, task_id, code)
    with writing(ctx, who, task_id, expected) as wf:
        p = task_draw.substitute(
            wf, task_id, code, cert, reason=body.reason, actor=who.username,
            expected_version=expected,
        )  # fmt: skip
    version = tag(ctx, response, task_id)
    return Substituted(
        task=task_id, target=code, replaced=p["out"], substitute=p["in"],
        skipped=[SkippedSubstitute(**s) for s in p["skipped"]], before=p["before"],
        after=p["after"], version=version,
    )  # fmt: skip


@router.post(
    "/tasks/{task}/sheets",
    summary="生成检查表（一企一表 .xlsx，打包为 .zip 下载）",
    response_class=Response,
    responses=download_responses(ZIP),
)
def make_sheets(
    task: str,
    who: Annotated[Actor, Authorized("sheet.make")],
    ctx: ContextDep,
    if_match: IfMatch = None,
) -> Response:
    task_id = task_in_scope(ctx, task, who)
    expected = expected_version(if_match)
    with tempfile.TemporaryDirectory(prefix="ssj-sheets-") as tmp:
        folder = Path(tmp)
        with writing(ctx, who, task_id, expected) as wf:
            files = sheets.make_sheets(
                wf, task_id, folder, actor=who.username, expected_version=expected
            )
        packed = io.BytesIO()
        with zipfile.ZipFile(packed, "w", zipfile.ZIP_DEFLATED) as z:
            for f in files:
                z.write(folder / f["file"], arcname=f["file"])
    version = current_version(ctx, task_id)  # the answer is the file: its ETag set here
    label = _label(ctx, task_id)
    return Response(
        packed.getvalue(),
        media_type=ZIP,
        headers={
            "Content-Disposition": attachment(f"检查表-{label}.zip", f"ssj-sheets-{task_id}.zip"),
            "ETag": f'"{version}"',
        },
    )


def _label(ctx: AppContext, task_id: int) -> str:
    """``2024001-001号``: the task as people name it."""
    from sqlalchemy import text

    with ctx.engine.connect() as c:
        plan_no, task_no = c.execute(
            text("SELECT p.plan_no, t.task_no FROM task t JOIN plan p ON p.id = t.plan_id"
                 " WHERE t.id = :t"),
            {"t": task_id},
        ).one()  # fmt: skip
    return f"{plan_no}-{task_no}"


def attachment(name: str, fallback: str) -> str:
    """A Content-Disposition for a download named ``name`` (UTF-8, RFC 6266), with an ASCII
    ``fallback`` for clients that read only ``filename``."""
    return f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(name, safe='')}"
