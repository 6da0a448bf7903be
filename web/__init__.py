"""ssj's web service (issue #11): the JSON API under ``/api/v1`` and the zh-CN pages (issue
#12, web/_pages*.py) — an interface over the same application code and AppContext as the
``ssj`` command line.

- ``create_app(ctx)``: the FastAPI application over an AppContext (web/_app.py);
- ``serve(ctx, …)``: ``ssj serve`` — uvicorn and the scheduler in one process (web/_server.py);
- ``app_from_environment()``: uvicorn's factory for each worker process;
- ``Problem``, ``precondition_failed``: errors only the web knows, as problem+json
  (web/_problems.py maps every error to its status);
- ``ContextDep``, ``RequestIdDep``: what a route declares to get the context and the
  request's id (web/_deps.py).

Where the rest lives: web/_middleware.py (request id, security headers, access log, the last
net for unexpected errors), web/_health.py (``/healthz``, ``/readyz``), web/_api.py (the
``/api/v1`` router, where each resource's router is included).
"""

from web._api import API_PREFIX
from web._app import create_app
from web._deps import ContextDep, RequestIdDep
from web._problems import Problem, precondition_failed
from web._server import app_from_environment, serve

__all__ = [
    "API_PREFIX",
    "ContextDep",
    "Problem",
    "RequestIdDep",
    "app_from_environment",
    "create_app",
    "precondition_failed",
    "serve",
]
