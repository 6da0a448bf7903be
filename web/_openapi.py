"""The API's OpenAPI 3.1 document as clients need it: every error answer of every route
declared as RFC 9457 ``application/problem+json`` with one named schema (``Problem``), instead
of FastAPI's default ``HTTPValidationError`` that the service never sends.

The error statuses every API route may answer are declared once (``PROBLEM_RESPONSES``, given
to the API router); ``document`` then files their schema under ``application/problem+json``,
the media type the answers carry (web/_problems.py).
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi
from pydantic import BaseModel, ConfigDict, Field

from web._problems import PROBLEM_JSON, TITLES

__all__ = ["PROBLEM_RESPONSES", "FieldProblem", "NextStep", "Problem", "document"]


class FieldProblem(BaseModel):
    field: str = Field(description="出错的字段（如 body.result、query.limit）")
    message: str = Field(description="该字段的问题（中文）")


class NextStep(BaseModel):
    model_config = ConfigDict(extra="allow")

    action: str = Field(description="可采取的操作（core/actions.py 中的名称）")
    label: str = Field(description="操作的中文名称")


class Problem(BaseModel):
    """RFC 9457 problem details, with ssj's extension members."""

    model_config = ConfigDict(extra="allow", title="Problem")

    type: str = Field(description="/problems/{code}")
    title: str = Field(description="问题类别的中文标题（同一 code 相同）")
    status: int = Field(description="HTTP 状态码")
    detail: str = Field(description="本次问题的中文说明")
    instance: str | None = Field(None, description="请求的路径")
    code: str = Field(
        description="稳定的错误代码，供程序判断：" + "、".join(TITLES),
    )
    request_id: str | None = Field(None, description="请求 ID（与 X-Request-ID 及日志一致）")
    errors: list[FieldProblem] | None = Field(None, description="请求校验问题：逐字段列出")
    next: list[NextStep] | None = Field(None, description="可采取的下一步")
    fields: dict[str, Any] | None = Field(
        None, description="与标准成员同名的错误字段（其余字段如 task、state、field、row 直接列出）"
    )


_STATUSES = {
    400: "请求格式有误（如请求体不是 JSON）",
    401: "需要登录（会话或 Bearer 令牌）",
    403: "角色无权执行，或对象不在本单位及下级单位之内，或缺少 CSRF 令牌",
    404: "对象不存在",
    409: "当前状态不允许，或与他人的修改冲突",
    412: "If-Match 的版本已不是当前版本（未写入）",
    422: "输入有误：说明字段、行、列与值（未写入）",
    429: "登录尝试次数过多",
    500: "服务器内部错误（日志中以请求 ID 记录）",
    503: "数据库暂时无法访问或服务尚未就绪",
}

PROBLEM_RESPONSES: dict[int | str, dict[str, Any]] = {
    status: {"model": Problem, "description": text} for status, text in _STATUSES.items()
}


def document(app: FastAPI) -> None:
    """Make ``app.openapi()`` file error answers under ``application/problem+json``."""

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is not None:
            return app.openapi_schema
        doc = get_openapi(
            title=app.title,
            version=app.version,
            openapi_version=app.openapi_version,
            summary=app.summary,
            description=app.description,
            routes=app.routes,
        )
        for operations in doc.get("paths", {}).values():
            for operation in operations.values():
                for status, answer in operation.get("responses", {}).items():
                    content = answer.get("content", {})
                    if status[:1] in "45" and "application/json" in content:
                        content[PROBLEM_JSON] = content.pop("application/json")
        schemas = doc.get("components", {}).get("schemas", {})
        for unused in ("HTTPValidationError", "ValidationError"):
            if not _referenced(doc, unused):
                schemas.pop(unused, None)
        app.openapi_schema = doc
        return doc

    app.openapi = openapi  # type: ignore[method-assign]


def _referenced(doc: dict[str, Any], name: str) -> bool:
    import json

    return f'"#/components/schemas/{name}"' in json.dumps(doc)
