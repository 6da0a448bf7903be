"""The dependencies routes declare, as ``Annotated`` aliases (STYLE §9): the application
context the service was built with, and the request's id. Authentication will join them here
(a dependency that turns the session cookie into an account)."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from workflow.app import AppContext

__all__ = ["ContextDep", "RequestIdDep", "app_context", "request_id"]


async def app_context(request: Request) -> AppContext:
    """The AppContext ``create_app`` was given (``async``, as it does no I/O: FastAPI runs a
    plain ``def`` dependency in its thread pool, a hop that costs more than the function). Its settings, engine and calendar are shared
    by the requests; its ``wf`` holds one database connection and is for one thread at a time
    (a route that writes opens its own ``Workflow`` on ``ctx.engine``)."""
    ctx: AppContext = request.app.state.ctx
    return ctx


async def request_id(request: Request) -> str:
    """The request's id (web/_middleware.py), as the response header and the log carry it."""
    rid: str = request.state.request_id
    return rid


ContextDep = Annotated[AppContext, Depends(app_context)]
RequestIdDep = Annotated[str, Depends(request_id)]
