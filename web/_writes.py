"""What every route that changes a task shares: the task a path names, in the account's scope;
the version its ``If-Match`` names; the write itself, with the account bound and a stale
version answered 412; the task's new version as the answer's ETag; and the request field an
error is about.

A task's version is its ETag (``GET /tasks/{task}`` gives it); a write with ``If-Match``
naming an older version is refused with 412 and the current version, nothing written; a write
without ``If-Match`` (or with ``*``) is not checked. Routes of several resource modules use
these (tasks, the draw, results), so they live here rather than in any one of them.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Annotated

from fastapi import Header, Response
from sqlalchemy import text
from sqlalchemy.engine import Connection

from web._auth import acting
from web._problems import precondition_failed
from workflow.app import AppContext
from workflow.core import refs
from workflow.core.errors import Conflict, InvalidInput, SsjError
from workflow.core.identity import Actor
from workflow.core.writer import Workflow

__all__ = [
    "IfMatch",
    "current_version",
    "expected_version",
    "naming",
    "tag",
    "task_in_scope",
    "writing",
]

IfMatch = Annotated[
    str | None,
    Header(description="任务的 ETag（版本号）：任务已被他人修改时返回 412，不写入"),
]


def expected_version(if_match: str | None) -> int | None:
    """The version an ``If-Match`` header names (None: none, or ``*``)."""
    if if_match is None or if_match.strip() == "*":
        return None
    tag = if_match.strip().removeprefix("W/").strip('"')
    if not tag.isdigit():
        raise InvalidInput(
            f"If-Match {if_match!r} 无效：应为任务的 ETag（版本号）", field="If-Match"
        )
    return int(tag)


def task_in_scope(ctx: AppContext | Connection, ref: str, who: Actor | None) -> int:
    """The id of the task ``ref`` names (an id or 2026001-001号), if it lies in the account's
    unit subtree (else 403). ``ctx``: the context (the request's connection), or a
    connection the caller holds for its reads."""
    if isinstance(ctx, Connection):
        return refs.scoped_task_id(ctx, ref, who)
    with ctx.reading() as c:
        return refs.scoped_task_id(c, ref, who)


@contextmanager
def writing(ctx: AppContext, who: Actor, task_id: int, expected: int | None) -> Iterator[Workflow]:
    """A workflow of the request's own, the account bound: a conflict on the version the
    client's ``If-Match`` named is 412 with the current version (nothing was written)."""
    wf = ctx.new_workflow()
    try:
        with acting(who):
            yield wf
    except Conflict as e:
        if expected is None:
            raise
        raise precondition_failed(e, current_version=current_version(ctx, task_id)) from None
    finally:
        wf.close()


def tag(source: AppContext | Workflow, response: Response, task_id: int) -> int:
    """The task's version after a write, as the response's ETag: as the request's workflow
    (``source``) wrote it (``Workflow.versions``), else read again."""
    if isinstance(source, Workflow) and task_id in source.versions:
        version = source.versions[task_id]
    else:
        version = current_version(source, task_id)
    response.headers["ETag"] = f'"{version}"'
    return version


def current_version(ctx: AppContext | Workflow, task_id: int) -> int:
    with ctx.reading() if isinstance(ctx, AppContext) else ctx.engine.connect() as c:
        return int(
            c.execute(text("SELECT version FROM task WHERE id = :t"), {"t": task_id}).one()[0]
        )


@contextmanager
def naming(field: str) -> Iterator[None]:
    """An error raised in the block is about the request's ``field`` (a target, a date …):
    the problem names it, unless the error named a field of its own."""
    try:
        yield
    except SsjError as e:
        e.fields.setdefault("field", field)
        raise
