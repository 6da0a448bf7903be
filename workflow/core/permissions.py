"""Who may do what (DESIGN §8): the role × action matrix, declared once.

Every interface consults it — each CLI command names its action (workflow/cli/access.py), each
API route declares its action (web/), and the pages (web/_pages.py) offer only what it
allows. Scoping to the account's unit subtree is not here: it is applied inside the queries
that read the rows (``units.in_subtree``), so an object outside the subtree is never read,
let alone shown.
"""

from __future__ import annotations

from workflow.core.actions import ACTIONS
from workflow.core.errors import Forbidden, Unauthenticated
from workflow.core.identity import Actor

ROLES: dict[str, str] = {
    "admin": "系统管理员",
    "clerk": "录入员",
    "inspector": "执法人员",
    "supervisor": "督办",
    "auditor": "审计",
    "public": "公众",
}
# Accounts carry one of these; ``public`` is the anonymous visitor, never an account's role,
# and ``system`` the built-in account of scheduled work.
ACCOUNT_ROLES = ("admin", "clerk", "inspector", "supervisor", "auditor")

_READ_WORK = {"task.read", "plan.read", "draw.read", "deadline.read", "unit.read"}
_EVERYONE_SIGNED_IN = {"account.self", "token.manage", "calendar.read"}

_BY_ROLE: dict[str, set[str]] = {
    "admin": {
        *_READ_WORK,
        *_EVERYONE_SIGNED_IN,
        "init",
        "unit.manage",
        "user.read",
        "user.manage",
        "config.read",
        "calendar.notice",
        "outbox.read",
        "outbox.manage",
        "sweep.run",
        "report.read",
        "directory.read",
        "directory.template",
    },
    "clerk": {
        *_READ_WORK,
        *_EVERYONE_SIGNED_IN,
        "directory.read",
        "directory.export",
        "directory.import",
        "directory.template",
        "directory.restore",
        "directory.retire",
        "plan.create",
        "plan.publish",
        "task.create",
        "task.fire",
        "draw.run",
        "draw.confirm",
        "draw.substitute",
        "sheet.make",
        "result.set",
        "result.import",
        "result.correct",
        "result.rectify_by",
        "result.publish",
        "followup.add",
        "report.read",
        # The office's clerk fills in and sends the monthly form (seed 000: 填表人); the
        # supervisor may record it too.
        "report.submit",
    },
    # The results of the groups they are in: the writer checks the group (writer.recorder_role).
    "inspector": {
        *_READ_WORK,
        *_EVERYONE_SIGNED_IN,
        "directory.template",
        "sheet.make",
        "result.set",
        "result.import",
        "followup.add",
    },
    "supervisor": {
        *_READ_WORK,
        *_EVERYONE_SIGNED_IN,
        "directory.read",
        "directory.export",
        "report.read",
        "report.submit",
        "outbox.read",
        "audit.verify",
        "audit.read",
    },
    "auditor": {
        *_READ_WORK,
        *_EVERYONE_SIGNED_IN,
        "directory.read",
        "directory.export",
        "report.read",
        "audit.verify",
        "audit.read",
        "audit.replay",
        "audit.export",
        "audit.checkpoint",
    },
    # Published plans, results and draw records arrive with the public site (issue #13).
    "public": set(),
}

MATRIX: dict[str, frozenset[str]] = {
    action: frozenset(role for role, actions in _BY_ROLE.items() if action in actions)
    for action in ACTIONS
}
_undeclared = {a for actions in _BY_ROLE.values() for a in actions} - set(ACTIONS)
assert not _undeclared, f"actions not declared in workflow/core/actions.py: {_undeclared}"


def allowed(role: str, action: str) -> bool:
    if action not in MATRIX:
        raise ValueError(f"undeclared action {action!r} (workflow/core/actions.py)")
    return role in MATRIX[action]


def roles_for(action: str) -> list[str]:
    """The roles that may take ``action``, in the order of ROLES (for messages and docs)."""
    return [r for r in ROLES if r in MATRIX[action]]


def require(actor: Actor | None, action: str) -> Actor | None:
    """The account (or, for what the public may do, the anonymous visitor: None) may take
    ``action``, or the error that says why not: no account (401) or a role the matrix does not
    allow (403)."""
    if actor is None:
        if allowed("public", action):
            return None
        raise Unauthenticated(f"{ACTIONS[action]}需要登录", action=action)
    if not allowed(actor.role, action):
        who = "、".join(ROLES[r] for r in roles_for(action) if r != "public") or "无"
        raise Forbidden(
            f"账号 {actor.username}（{ROLES.get(actor.role, actor.role)}）无权{ACTIONS[action]}："
            f"该操作限于 {who}",
            action=action,
            role=actor.role,
        )
    return actor
