"""A task's page (issue #12 part 3, begun): what the task is, where it stands on the
lifecycle, and its drawn targets with their results — read with ``queries.show_task``
within the account's subtree (``task_in_scope``), as ``GET /api/v1/tasks/{task}`` reads it.
The actions, the deadlines' timeline and the history are still to come."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Request
from fastapi.responses import Response

from states import STATE_LABELS, STATES
from web._deps import ContextDep
from web._pages import PageUser
from web._templates import render
from web._writes import task_in_scope
from workflow.core import queries
from workflow.core.identity import Actor

__all__ = ["router"]

router = APIRouter(include_in_schema=False)


@router.get("/tasks/{task}")
def task_page(
    request: Request, task: str, who: Annotated[Actor, PageUser("task.read")], ctx: ContextDep
) -> Response:
    with ctx.reading() as c:
        shown = queries.show_task(c, task_in_scope(c, task, who))
    return render(
        request,
        "task.html",
        {
            "task": shown,
            "lifecycle": [(s, STATE_LABELS.get(s, s)) for s in STATES],
            "state_label": STATE_LABELS.get(shown["state"], shown["state"]),
        },
    )
