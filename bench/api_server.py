"""The server of bench/api.py: ``ssj serve`` itself, with a bare Starlette JSON endpoint beside
it in the same process, for the benchmark's baseline.

Run as ``python bench/api_server.py [ssj options] serve --no-scheduler --host H --port P``:
this is the ``ssj`` command line (``workflow.cli.main:main``, the same options, the same
uvicorn server and thread, the same settings), except that the application ``create_app``
builds is wrapped in a two-way dispatch: ``GET /bench/bare`` goes to a one-route Starlette
application that answers a small JSON object; every other request goes to the ssj application
unchanged (its middleware, problem handlers and routes). The bare endpoint thus shares the
event loop, the HTTP parser and the process with the routes it is compared with, and nothing
of it is in the shipped code: production's ``ssj serve`` has no such route, no switch and no
environment variable that would add one.

The wrapper costs one comparison per request. ``web.workers`` must stay 1 (the default): with
several workers, uvicorn's workers import ``web:app_from_environment`` afresh and the wrapper
would not reach them.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

# Run as a script from bench/: the project's root first on the import path.
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent]
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from starlette.applications import Starlette  # noqa: E402
from starlette.requests import Request  # noqa: E402
from starlette.responses import JSONResponse  # noqa: E402
from starlette.routing import Route  # noqa: E402

import web._server  # noqa: E402
from workflow.app import AppContext  # noqa: E402
from workflow.cli.main import main  # noqa: E402

BARE_PATH = "/bench/bare"


async def bare(_request: Request) -> JSONResponse:
    return JSONResponse({"service": "ssj", "bare": True})


_ssj_create_app = web._server.create_app


def create_app_with_bare(ctx: AppContext) -> Any:
    ssj = _ssj_create_app(ctx)
    baseline = Starlette(routes=[Route(BARE_PATH, bare)])

    async def app(scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] == "http" and scope["path"] == BARE_PATH:
            await baseline(scope, receive, send)
        else:
            await ssj(scope, receive, send)  # lifespan included

    return app


if __name__ == "__main__":
    web._server.create_app = create_app_with_bare  # what web._server._one_process calls
    sys.argv[0] = "ssj"
    main()
