"""The ssj engine: models, the one write path, the audit log, replay, configuration, CLI."""

from workflow.core.clock import Clock, FixedClock, SystemClock
from workflow.core.config import ConfigError, Settings, load_settings
from workflow.core.errors import Conflict, InvalidInput, NotFound, SsjError, TransitionRefused
from workflow.core.writer import Workflow

__all__ = [
    "Clock",
    "ConfigError",
    "Conflict",
    "FixedClock",
    "InvalidInput",
    "NotFound",
    "Settings",
    "SsjError",
    "SystemClock",
    "TransitionRefused",
    "Workflow",
    "load_settings",
]
