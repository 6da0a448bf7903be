"""The ``ssj`` command: one module per command group, registered on one Typer app."""

from workflow.cli.main import app, main

__all__ = ["app", "main"]
