"""一单两库 over HTTP: ``/api/v1/directories/…`` — the inspection item list (事项清单) and the
target (检查对象名录库) and inspector (执法检查人员名录库) directories, through the same
functions as ``ssj import|export|template|retire`` (workflow/sampling/directories.py).

Lists page by id and keep to the account's unit subtree inside the query (the item list
belongs to no unit: everyone's). An import validates the whole file as ``ssj import`` does:
one bad row rejects it, answered 422 with every problem as ``errors`` (file, row, column,
value, message), and nothing is written. Targets and inspectors join the account's own bureau
unless the request names a unit of its subtree (another is 403). Every write runs under the
account (``acting``), so each of its events names it (``payload.by``).
"""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, Any
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Form, Query, UploadFile
from fastapi.responses import FileResponse
from pydantic import BaseModel, Field

from web._auth import Authorized, acting
from web._deps import ContextDep
from web._files import CSV, XLSX, download, download_responses, uploaded
from web._text import Line, Text
from workflow.core import input_limits
from workflow.core.clock import format_utc
from workflow.core.identity import Actor
from workflow.sampling import directories

router = APIRouter(prefix="/directories", tags=["一单两库"])


class DirectoryKind(StrEnum):
    """items 抽查事项清单 · targets 检查对象名录库 · inspectors 执法检查人员名录库"""

    items = "items"
    targets = "targets"
    inspectors = "inspectors"


class RetirableKind(StrEnum):
    """items 抽查事项 · targets 检查对象（执法人员以“是否可用”表示，不停用）"""

    items = "items"
    targets = "targets"


class ExportFormat(StrEnum):
    xlsx = "xlsx"
    csv = "csv"


class ItemEntry(BaseModel):
    id: int
    code: str = Field(description="事项编码")
    name: str
    legal_basis: str
    content: str
    method: str = Field(description="检查方式，多个以顿号分隔")
    category: str = Field(description="事项类别：重点 / 一般")
    retired_at: str | None = Field(description="停用时间（UTC）；null 为在用")


class TargetEntry(BaseModel):
    id: int
    code: str = Field(description="统一社会信用代码")
    unit: str = Field(description="所属单位代码")
    name: str
    type: str
    industry: str
    region: str
    size: str
    grade: str = Field(description="信用风险等级；空为未评级")
    tags: list[str]
    violations: int
    complaints: int
    last_inspected: str | None
    address: str
    legal_rep: str
    phone: str
    retired_at: str | None = Field(description="停用时间（UTC）；null 为在用")


class InspectorEntry(BaseModel):
    id: int
    cert: str = Field(description="执法证号")
    unit: str = Field(description="所属单位代码")
    name: str
    fields: list[str] = Field(description="执法领域")
    specialties: list[str]
    office: str
    recusal: list[str] = Field(description="须回避的统一社会信用代码")
    email: str
    available: bool


_NEXT = "下一页：把它作为 after 参数；null 表示已到末页"


class ItemPage(BaseModel):
    items: list[ItemEntry]
    next_after: int | None = Field(description=_NEXT)


class TargetPage(BaseModel):
    items: list[TargetEntry]
    next_after: int | None = Field(description=_NEXT)


class InspectorPage(BaseModel):
    items: list[InspectorEntry]
    next_after: int | None = Field(description=_NEXT)


class ImportSummary(BaseModel):
    kind: str
    file: str = Field(description="上传的文件名")
    rows: int = Field(description="数据行数")
    added: int
    changed: int
    unchanged: int
    dry_run: bool = Field(description="只校验，未写入")
    first_seq: int | None = Field(description="首个审计事件序号（未写入则为 null）")
    last_seq: int | None
    warnings: list[str] = Field(description="不拒绝导入、但应知悉的情况")


class DirectoryUpload(BaseModel):
    file: UploadFile = Field(description=".xlsx 或 .csv（UTF-8 或 GBK），中文表头")
    unit: Line | None = Field(
        None,
        max_length=32,
        description="检查对象、执法人员所属的局（单位代码，须在本单位及下级单位之内；"
        "默认账号所属的局）；事项清单不属于单位",
    )
    dry_run: bool = Field(False, description="只校验并报告变化，不写入")


class RetireIn(BaseModel):
    codes: list[Annotated[Line, Field(max_length=64)]] = Field(
        min_length=1, max_length=500, description="事项编码或统一社会信用代码"
    )
    reason: Text = Field(min_length=1, max_length=2000, description="停用或恢复的原因")


class RetireSummary(BaseModel):
    kind: str
    changed: list[str] = Field(description="本次停用（或恢复）的编码")
    unchanged: list[str] = Field(description="原本就是所要求状态的编码")
    first_seq: int | None
    last_seq: int | None


Q = Annotated[Line | None, Query(max_length=100, description="按编码（证号）或名称查找（包含）")]
After = Annotated[
    int | None, Query(ge=0, le=input_limits.ID_MAX, description="上一页的 next_after")
]
Limit = Annotated[int, Query(ge=1, le=500)]
Retired = Annotated[
    bool | None, Query(description="true：只列已停用的；false：只列在用的；不填：全部")
]


def _page(
    ctx: Any, kind: str, who: Actor, q: str | None, after: int | None, limit: int, **kw: Any
) -> tuple[list[dict[str, Any]], int | None]:
    with ctx.connect() as raw:
        rows = directories.listing(raw, kind, within=who, q=q, after=after, limit=limit + 1, **kw)
    more = len(rows) > limit
    rows = rows[:limit]
    return rows, rows[-1]["id"] if more else None


@router.get("/items", summary="抽查事项清单（按 ID 分页）", response_model=ItemPage)
def list_items(
    who: Annotated[Actor, Authorized("directory.read")],
    ctx: ContextDep,
    q: Q = None,
    retired: Retired = None,
    after: After = None,
    limit: Limit = 50,
) -> ItemPage:
    rows, nxt = _page(ctx, "items", who, q, after, limit, retired=retired)
    return ItemPage(items=[ItemEntry(**r) for r in rows], next_after=nxt)


@router.get(
    "/targets", summary="检查对象名录库（本单位及下级单位，按 ID 分页）", response_model=TargetPage
)
def list_targets(
    who: Annotated[Actor, Authorized("directory.read")],
    ctx: ContextDep,
    q: Q = None,
    retired: Retired = None,
    after: After = None,
    limit: Limit = 50,
) -> TargetPage:
    rows, nxt = _page(ctx, "targets", who, q, after, limit, retired=retired)
    return TargetPage(items=[TargetEntry(**r) for r in rows], next_after=nxt)


@router.get(
    "/inspectors",
    summary="执法检查人员名录库（本单位及下级单位，按 ID 分页）",
    response_model=InspectorPage,
)
def list_inspectors(
    who: Annotated[Actor, Authorized("directory.read")],
    ctx: ContextDep,
    q: Q = None,
    after: After = None,
    limit: Limit = 50,
) -> InspectorPage:
    rows, nxt = _page(ctx, "inspectors", who, q, after, limit)
    return InspectorPage(items=[InspectorEntry(**r) for r in rows], next_after=nxt)


@router.post(
    "/{kind}/import",
    summary="导入名录（整表校验：任一行有误则整表拒绝并逐行列出问题，不写入任何数据）",
    response_model=ImportSummary,
)
def import_directory(
    kind: DirectoryKind,
    form: Annotated[DirectoryUpload, Form(media_type="multipart/form-data")],
    who: Annotated[Actor, Authorized("directory.import")],
    ctx: ContextDep,
) -> ImportSummary:
    now = ctx.clock.now()
    today = now.astimezone(ZoneInfo(ctx.settings.calendar.timezone)).date()
    with uploaded(form.file, ctx.settings.imports) as path, ctx.connect() as raw, acting(who):
        s = directories.import_file(
            raw, kind.value, path, actor=who.username, now=format_utc(now),
            dry_run=form.dry_run, today=today, unit=form.unit, within=who,
        )  # fmt: skip
        name = path.name
    return ImportSummary(
        kind=s.kind, file=name, rows=s.rows, added=s.added, changed=s.changed,
        unchanged=s.unchanged, dry_run=s.dry_run, first_seq=s.first_seq, last_seq=s.last_seq,
        warnings=s.warnings,
    )  # fmt: skip


@router.get(
    "/{kind}/export",
    summary="导出名录（本单位及下级单位；格式与导入模板相同，可修改后重新导入）",
    response_class=FileResponse,
    responses=download_responses(XLSX, CSV),
)
def export_directory(
    kind: DirectoryKind,
    who: Annotated[Actor, Authorized("directory.export")],
    ctx: ContextDep,
    format: Annotated[ExportFormat, Query(description="xlsx（默认）或 csv")] = ExportFormat.xlsx,
) -> FileResponse:
    label = directories.kind_of(kind.value).label

    def write(path: Any) -> None:
        with ctx.connect() as raw:
            directories.export_file(raw, kind.value, path, within=who)

    return download(write, f"{label}.{format.value}")


@router.get(
    "/{kind}/template",
    summary="空白导入模板（.xlsx，含中文表头、下拉选项与填写说明）",
    response_class=FileResponse,
    responses=download_responses(XLSX),
)
def directory_template(
    kind: DirectoryKind, who: Annotated[Actor, Authorized("directory.template")]
) -> FileResponse:
    label = directories.kind_of(kind.value).label
    return download(
        lambda path: directories.write_template(kind.value, path), f"{label}导入模板.xlsx"
    )


def _retire(
    ctx: Any, who: Actor, kind: RetirableKind, body: RetireIn, *, restore: bool
) -> RetireSummary:
    with ctx.connect() as raw, acting(who):
        s = directories.retire(
            raw, kind.value, body.codes, reason=body.reason, actor=who.username,
            now=format_utc(ctx.clock.now()), restore=restore, within=who,
        )  # fmt: skip
    return RetireSummary(
        kind=s.kind, changed=s.changed, unchanged=s.unchanged, first_seq=s.first_seq,
        last_seq=s.last_seq,
    )  # fmt: skip


@router.post(
    "/{kind}/retire",
    summary="停用事项或检查对象（保留历史，不再用于新任务与抽取；每项一个审计事件）",
    response_model=RetireSummary,
)
def retire(
    kind: RetirableKind,
    body: RetireIn,
    who: Annotated[Actor, Authorized("directory.retire")],
    ctx: ContextDep,
) -> RetireSummary:
    return _retire(ctx, who, kind, body, restore=False)


@router.post("/{kind}/restore", summary="恢复停用的事项或检查对象", response_model=RetireSummary)
def restore(
    kind: RetirableKind,
    body: RetireIn,
    who: Annotated[Actor, Authorized("directory.restore")],
    ctx: ContextDep,
) -> RetireSummary:
    return _retire(ctx, who, kind, body, restore=True)
