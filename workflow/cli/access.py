"""Which action each command is, for the role × action matrix (workflow/core/permissions.py).

Every command acts as an account: ``--as USER`` or the environment variable ``SSJ_USER``
names it, unknown and disabled accounts are refused, and the matrix decides whether its role
may take the command's action. The account is bound for the command (core/identity.py): every
event it writes names it. The operator's own tools — ``init`` on a new database, the blank
templates and date arithmetic that read no data, the checks of a file that need no database,
the service processes (which act as the built-in ``system`` account) — need no account.
``tests/workflow/cli/test_access.py`` keeps this table complete.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

Rule = str | None | Callable[[Mapping[str, Any]], str | None]


def _unless_file(action: str) -> Rule:
    """A check of a file needs no account; of the database, the action."""
    return lambda params: None if params.get("file") else action


COMMANDS: dict[str, Rule] = {
    "init": None,  # creates or upgrades the database: the database's own credentials
    "demo": None,  # the demo database only; it creates the demo accounts
    "walkthrough": None,  # the demo database only; acts as the demo accounts
    "import": "directory.import",
    "template": None,  # a blank sheet: no data read
    "export": "directory.export",
    "retire": "directory.retire",
    "sheet": "sheet.make",
    "sweep": "sweep.run",
    "overdue": "deadline.read",
    "scheduler": None,  # the service: scheduled work acts as the system account
    "serve": None,  # the service: requests act as their own accounts
    "plan create": "plan.create",
    "plan list": "plan.read",
    "plan import": "plan.create",
    "plan publish": "plan.publish",
    "plan show": "plan.read",
    "task create": "task.create",
    "task list": "task.read",
    "task show": "task.read",
    "task fire": "task.fire",
    "draw run": "draw.run",
    "draw record": "draw.read",
    "draw verify": _unless_file("draw.read"),
    "draw confirm": "draw.confirm",
    "draw substitute": "draw.substitute",
    "result set": "result.set",
    "result publish": "result.publish",
    "result correct": "result.correct",
    "result rectify-by": "result.rectify_by",
    "result import": "result.import",
    "followup add": "followup.add",
    "audit verify": _unless_file("audit.verify"),
    "audit replay": "audit.replay",
    "audit export": "audit.export",
    "audit checkpoint": "audit.checkpoint",
    "audit log": "audit.read",
    "unit list": "unit.read",
    "unit add": "unit.manage",
    "unit edit": "unit.manage",
    "unit import": "unit.manage",
    "user add": "user.manage",
    "user list": "user.read",
    "user show": "user.read",
    "user disable": "user.manage",
    "user enable": "user.manage",
    "user reset-password": "user.manage",
    "user password": "account.self",
    "token create": "token.manage",
    "token list": "token.manage",
    "token revoke": "token.manage",
    "config show": None,  # the configuration files, not the database
    "calendar add": None,  # date arithmetic on the calendar
    "calendar check": None,  # public information: who confirmed a year's holidays
    "calendar notice": "calendar.notice",
    "report submit": "report.submit",
    "report list": "report.read",
    "outbox list": "outbox.read",
    "outbox retry": "outbox.manage",
}


def action_of(command: str, params: Mapping[str, Any]) -> str | None:
    """The action of ``command`` ("draw run": its path without the program name)."""
    if command not in COMMANDS:
        raise KeyError(f"command {command!r} has no entry in workflow/cli/access.py")
    rule = COMMANDS[command]
    return rule(params) if callable(rule) else rule
