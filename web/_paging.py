"""Paging of list endpoints, one way for all (as ``GET /api/v1/tasks`` does it): ``limit``
items from ``after``, and ``next_after`` to pass as ``after`` for the next page (null on the
last). Rows read from a table page by their id (``after`` is the last id seen); lists the
application computes whole (deadlines, report obligations) page by position (``after`` is
how many were seen)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Annotated, TypeVar

from fastapi import Query

from workflow.core import input_limits

__all__ = ["After", "Limit", "window"]

T = TypeVar("T")

After = Annotated[
    int | None, Query(ge=0, le=input_limits.ID_MAX, description="上一页的 next_after（首页省略）")
]
Limit = Annotated[int, Query(ge=1, le=500, description="每页条数")]


def window(rows: Sequence[T], after: int | None, limit: int) -> tuple[list[T], int | None]:
    """A page of a computed list: ``limit`` rows after the first ``after``, and the
    ``next_after`` of the page that follows (None on the last)."""
    start = after or 0
    page = list(rows[start : start + limit])
    more = start + limit < len(rows)
    return page, start + limit if more else None
