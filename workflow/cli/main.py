"""The ``ssj`` command line. Command and option names are a contract: auditors' scripts call them.

Exit codes: 0 success; 1 a check failed (audit verify / replay found a problem);
2 invalid input or an operation the rules refuse; 3 a conflict (someone changed the task first,
or the database stayed locked) — read again and retry.

Each command group is a module of this package; importing it registers its commands on the one
app (workflow/cli/base.py). The list below is the whole command line.
"""

from __future__ import annotations

from importlib import import_module

from workflow.cli.base import app

# The command groups, in the order `ssj --help` lists their commands; importing each registers
# its commands on the app.
GROUPS = (
    "setup",
    "units",
    "accounts",
    "directories",
    "plans",
    "tasks",
    "results",
    "draw",
    "audit",
    "config",
    "deadlines",
)
for _group in GROUPS:
    import_module(f"workflow.cli.{_group}")

__all__ = ["app", "main"]


def main() -> None:
    app(prog_name="ssj")


if __name__ == "__main__":
    main()  # the typer app exits with the command's status
