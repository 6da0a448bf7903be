"""Alembic environment: ``ssj init`` passes its own connection; no alembic.ini is needed."""

from __future__ import annotations

from alembic import context
from sqlmodel import SQLModel

import workflow.core.models  # noqa: F401  (registers the tables on SQLModel.metadata)

connection = context.config.attributes["connection"]
context.configure(
    connection=connection,
    target_metadata=SQLModel.metadata,
    render_as_batch=connection.dialect.name == "sqlite",
)
with context.begin_transaction():
    context.run_migrations()
