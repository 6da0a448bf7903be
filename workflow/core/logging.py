"""structlog set-up: JSON lines when stderr is not a terminal, readable when it is."""

from __future__ import annotations

import logging
import sys

import structlog

from workflow.core.config import LogSettings


class _StderrLogger:
    """Writes to whatever ``sys.stderr`` is at call time (test runners swap it)."""

    def msg(self, message: str) -> None:
        print(message, file=sys.stderr, flush=True)

    log = debug = info = warning = warn = error = critical = exception = fatal = msg


def configure_logging(settings: LogSettings) -> None:
    level = getattr(logging, settings.level)
    as_json = settings.format == "json" or (settings.format == "auto" and not sys.stderr.isatty())
    renderer: structlog.typing.Processor = (
        structlog.processors.JSONRenderer(ensure_ascii=False)
        if as_json
        else structlog.dev.ConsoleRenderer()
    )
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            structlog.processors.format_exc_info,
            renderer,
        ],
        # Filtered methods are no-ops: debug lines cost nothing on the hot path.
        wrapper_class=structlog.make_filtering_bound_logger(level),
        logger_factory=lambda *_: _StderrLogger(),
        cache_logger_on_first_use=True,
    )


def get_logger(name: str) -> structlog.typing.FilteringBoundLogger:
    # Configured above with make_filtering_bound_logger; structlog types its result as Any.
    logger: structlog.typing.FilteringBoundLogger = structlog.get_logger(name)
    return logger
