"""``ssj serve``: the web service on uvicorn and the scheduler, in one process, in the foreground
until SIGTERM / Ctrl-C (or ``exit_after`` seconds).

The listening socket is bound here, first, so that a port in use or an address the machine
does not have is a plain error before anything starts.

One web process (``web.workers: 1``, the default): uvicorn serves in a thread of this process
the application ``create_app`` builds over the command's own AppContext. The scheduler runs
beside it on an AppContext of its own — the same settings, database and clock — because a
context's workflow holds one database connection, which two threads must not share. The main
thread waits; on a signal, ``exit_after`` or the web thread's end it stops the scheduler (a
running sweep finishes: one transaction anyway), then uvicorn (open requests finish, for up
to ``GRACEFUL_SECONDS``).

Several (``web.workers: N``): uvicorn's supervisor starts N worker processes on the one
socket; each imports ``web:app_from_environment`` and calls it (uvicorn's factory mode), so
each builds its own AppContext. **How the settings reach the workers:** before starting them,
this process puts its effective settings (as JSON) in the environment variable
``_SSJ_WORKER_SETTINGS`` and its database URL (``--db`` included) in ``_SSJ_WORKER_DB_URL``;
the workers inherit the environment and validate the settings again. They serve exactly what
this process would, whatever ``--config``, config.yaml or SSJ_* said (the names start with an
underscore, so the SSJ_<SECTION>_<KEY> overrides never read them). The clock is the real one
in the workers. The scheduler runs once, in this process; the supervisor handles the signals
(SIGHUP restarts the workers one by one).
"""

from __future__ import annotations

import errno
import os
import socket
import threading
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

import uvicorn
from fastapi import FastAPI

from web._api import API_PREFIX
from web._app import create_app
from workflow.app import AppContext
from workflow.core.config import Settings, load_settings
from workflow.core.errors import InvalidInput
from workflow.core.logging import configure_logging, get_logger

__all__ = ["DB_URL_ENV", "SETTINGS_ENV", "app_from_environment", "base_url", "listen", "serve"]

SETTINGS_ENV = "_SSJ_WORKER_SETTINGS"
DB_URL_ENV = "_SSJ_WORKER_DB_URL"
GRACEFUL_SECONDS = 30  # open requests get this long to finish at shutdown
STARTUP_SECONDS = 60  # the web thread must be serving by then

log = get_logger("ssj.serve")


def base_url(host: str, port: int) -> str:
    return f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"


_BIND_ERRORS = {
    errno.EADDRINUSE: "端口已被占用（另一个 ssj serve 或其他程序正在使用）",
    errno.EACCES: "没有权限（1024 以下的端口需要特权）",
    errno.EADDRNOTAVAIL: "本机没有这个地址",
}


def listen(host: str, port: int) -> socket.socket:
    """A TCP socket bound to ``host:port`` (port 0: a free port the system picks), inheritable
    by uvicorn's worker processes; an address that cannot be had is an InvalidInput."""
    try:
        family, kind, proto, _, addr = socket.getaddrinfo(
            host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE
        )[0]
    except (socket.gaierror, UnicodeError) as e:
        raise InvalidInput(
            f"监听地址 {host} 无法解析：{getattr(e, 'strerror', None) or e}",
            field="web.host",
            value=host,
        ) from None
    sock = socket.socket(family, kind, proto)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(addr)
    except OSError as e:
        sock.close()
        why = _BIND_ERRORS.get(e.errno or 0, e.strerror or str(e))
        raise InvalidInput(
            f"无法在 {host}:{port} 上监听：{why}", field="web.port", value=port
        ) from None
    sock.set_inheritable(True)
    return sock


def _uvicorn_config(app: Any, **options: Any) -> uvicorn.Config:
    return uvicorn.Config(
        app,
        # ssj logs through structlog (the access line is web/_middleware.py's): uvicorn
        # configures no logging of its own and writes no access log.
        log_config=None,
        access_log=False,
        server_header=False,
        timeout_graceful_shutdown=GRACEFUL_SECONDS,
        **options,
    )


def serve(
    ctx: AppContext,
    *,
    host: str | None = None,
    port: int | None = None,
    workers: int | None = None,
    scheduler: bool = True,
    exit_after: float | None = None,
    echo: Callable[[str], Any] = print,
) -> None:
    """Serve the web service (and, unless ``scheduler`` is false, the scheduler) until
    SIGTERM/SIGINT or ``exit_after`` seconds. ``host``, ``port``, ``workers``: the settings'
    ``web`` section unless given. Says where it listens through ``echo``."""
    from workflow.deadlines import mail
    from workflow.deadlines import scheduler as sched

    web = ctx.settings.web
    host = web.host if host is None else host
    port = web.port if port is None else port
    workers = web.workers if workers is None else workers
    ctx.require_schema()
    sock = listen(host, port)
    try:
        url = base_url(host, sock.getsockname()[1])
        lines = [
            f"ssj 服务已启动：数据库 {ctx.safe_url()}。",
            f"网页与接口：{url}/（接口 {url}{API_PREFIX}/，接口说明 {url}{API_PREFIX}/openapi.json，"
            f"健康检查 {url}/healthz）" + (f"；{workers} 个网页进程。" if workers > 1 else "。"),
            f"定时任务：{sched.describe(ctx.settings)}；邮件发往：{mail.describe(ctx.settings)}。"
            if scheduler
            else "定时任务：不在本进程运行（须另有一个 ssj serve 或 ssj scheduler 进程运行）。",
            "按 Ctrl-C 停止。",
        ]
        run = _one_process if workers == 1 else _worker_processes
        runs = run(ctx, sock, workers, scheduler, exit_after, lambda: echo("\n".join(lines)))
    finally:
        sock.close()
    echo(f"ssj 服务已停止（本次共巡检 {runs} 次）。" if scheduler else "ssj 服务已停止。")


def _scheduler_context(ctx: AppContext) -> AppContext:
    """The scheduler's own context: the same settings, database and clock, its own connection."""
    own = AppContext(ctx.settings, ctx.db_url)
    own.clock = ctx.clock
    return own


def _one_process(
    ctx: AppContext,
    sock: socket.socket,
    _workers: int,
    with_scheduler: bool,
    exit_after: float | None,
    started: Callable[[], None],
) -> int:
    from workflow.deadlines import scheduler as sched

    stop = sched.StopRequest()  # the handlers first: no signal is missed from here on
    server = uvicorn.Server(_uvicorn_config(create_app(ctx)))
    thread = threading.Thread(
        target=server.run, kwargs={"sockets": [sock]}, name="ssj-web", daemon=True
    )
    thread.start()
    running = None
    own = _scheduler_context(ctx) if with_scheduler else None
    try:
        deadline = time.monotonic() + STARTUP_SECONDS
        while not server.started:
            if not thread.is_alive() or time.monotonic() > deadline:
                raise InvalidInput("网页服务未能启动：原因见日志")
            time.sleep(0.05)
        log.info("web started", address=f"{sock.getsockname()}")
        running = sched.start(own) if own is not None else None
        started()
        stop.wait(exit_after, alive=thread.is_alive)
    finally:
        runs = running.stop() if running is not None else 0
        server.should_exit = True
        thread.join(GRACEFUL_SECONDS + 5)
        if own is not None:
            own.close()
        log.info("web stopped")
    return runs


def _worker_processes(
    ctx: AppContext,
    sock: socket.socket,
    workers: int,
    with_scheduler: bool,
    exit_after: float | None,
    started: Callable[[], None],
) -> int:
    from uvicorn.supervisors import Multiprocess

    from workflow.deadlines import scheduler as sched

    os.environ[SETTINGS_ENV] = ctx.settings.model_dump_json()
    os.environ[DB_URL_ENV] = ctx.db_url
    config = _uvicorn_config("web:app_from_environment", factory=True, workers=workers)
    supervisor = Multiprocess(config, sockets=[sock])  # installs its signal handlers
    timer = None
    if exit_after is not None:
        timer = threading.Timer(exit_after, supervisor.should_exit.set)
        timer.daemon = True
    running = None
    try:
        running = sched.start(ctx) if with_scheduler else None
        started()
        if timer is not None:
            timer.start()
        supervisor.run()  # until a signal, the timer, or a worker that cannot start
    finally:
        if timer is not None:
            timer.cancel()
        runs = running.stop() if running is not None else 0
    return runs


def app_from_environment() -> FastAPI:
    """The application of one uvicorn worker process (factory mode: ``web:app_from_environment``).
    Started by ``ssj serve``, it takes the settings and database URL that process put in the
    environment (see the module's docstring); started by another ASGI server, it reads them as
    ``ssj`` does (config.yaml, SSJ_CONFIG, SSJ_* variables)."""
    given = os.environ.get(SETTINGS_ENV)
    settings = Settings.model_validate_json(given) if given else load_settings()
    configure_logging(settings.log)
    ctx = AppContext(settings, os.environ.get(DB_URL_ENV) or settings.db.url)
    app = create_app(ctx)

    @asynccontextmanager
    async def closing(_app: FastAPI) -> AsyncIterator[None]:
        try:
            yield
        finally:
            ctx.close()  # this process made the context: it releases its connections

    app.router.lifespan_context = closing
    return app
