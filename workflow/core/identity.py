"""Who is acting: the authenticated account an interface binds for the length of a command or
a request, read by the audit log (every event names it) and by the rules that depend on the
person (an inspector records only the results of their own groups).

The binding is a context variable: the CLI binds the account of ``--as`` once per command, the
web binds the request's account per request (Starlette runs each synchronous route in a thread
that inherits the request's context), and the scheduler binds the built-in ``system`` account.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, replace
from typing import Any

SYSTEM_USERNAME = "system"  # the built-in account of scheduled work (never logs in)


@dataclass(frozen=True, slots=True)
class Actor:
    """An authenticated account as the rules see it."""

    id: int
    username: str
    name: str
    role: str
    unit_id: int
    unit_code: str
    unit_path: str  # "/1/4/": the unit's subtree is every path with this prefix
    inspector_cert: str | None = None  # an inspector account's entry in the directory
    request_id: str | None = None  # over HTTP: the request that acted

    def record(self) -> dict[str, Any]:
        """What each event keeps of the account (``payload.by``, docs/AUDIT.md)."""
        out: dict[str, Any] = {
            "account": self.id,
            "username": self.username,
            "name": self.name,
            "role": self.role,
            "unit": self.unit_code,
        }
        if self.request_id:
            out["request_id"] = self.request_id
        return out

    def sees_path(self, path: str) -> bool:
        """Whether a unit (by its path) lies in this account's subtree."""
        return path.startswith(self.unit_path)

    def with_request(self, request_id: str | None) -> Actor:
        return replace(self, request_id=request_id)


_current: ContextVar[Actor | None] = ContextVar("ssj_actor", default=None)


def current() -> Actor | None:
    return _current.get()


@contextmanager
def acting_as(actor: Actor | None) -> Iterator[Actor | None]:
    """Bind ``actor`` for the block (None: nobody — engine-level code and its tests)."""
    token = _current.set(actor)
    try:
        yield actor
    finally:
        _current.reset(token)


def bind(actor: Actor | None) -> None:
    """Bind for the rest of this context (a CLI command: the process ends with it)."""
    _current.set(actor)
