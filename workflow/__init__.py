"""The ssj engine: models, the one write path, the audit log, replay, configuration, CLI."""

from workflow.clock import Clock, FixedClock, SystemClock
from workflow.config import ConfigError, Settings, load_settings
from workflow.engine import Workflow
from workflow.errors import Conflict, InvalidInput, NotFound, SsjError, TransitionRefused

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
