"""Deadlines and mail: rectification dates, draw time on the task, deadline steps taken,
submitted reports, and the outbox.

Revision ID: 0004
Revises: 0003
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("task") as b:
        b.add_column(sa.Column("drawn_at", sa.String(27), nullable=True))
    op.execute(
        "UPDATE task SET drawn_at = (SELECT d.created_at FROM draw_record d"
        " WHERE d.task_id = task.id)"
    )
    with op.batch_alter_table("inspection_record") as b:
        b.add_column(sa.Column("rectify_by", sa.String(10), nullable=True))
    op.create_table(
        "deadline_step",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("key", sa.String(250), nullable=False, unique=True),
        sa.Column("deadline", sa.String(200), nullable=False, index=True),
        sa.Column("rule", sa.String(32), nullable=False),
        sa.Column("task_id", sa.Integer(), nullable=True),
        sa.Column("office", sa.String(100), nullable=False),
        sa.Column("due_date", sa.String(10), nullable=False),
        sa.Column("step", sa.String(32), nullable=False),
        sa.Column("level", sa.Integer(), nullable=False),
        sa.Column("at", sa.String(27), nullable=False),
        sa.Column("event_seq", sa.Integer(), nullable=False),
    )
    op.create_table(
        "report_submission",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("period", sa.String(16), nullable=False),
        sa.Column("office", sa.String(100), nullable=False),
        sa.Column("actor", sa.String(100), nullable=False),
        sa.Column("submitted_at", sa.String(27), nullable=False),
        sa.Column("event_seq", sa.Integer(), nullable=False),
        sa.UniqueConstraint("kind", "period", "office", name="uq_report_kind_period_office"),
    )
    op.create_table(
        "outbox",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("key", sa.String(300), nullable=False, unique=True),
        sa.Column("recipient", sa.String(200), nullable=False),
        sa.Column("recipient_name", sa.String(100), nullable=False),
        sa.Column("template", sa.String(64), nullable=False),
        sa.Column("context", sa.Text(), nullable=False),
        sa.Column("digest", sa.Boolean(), nullable=False),
        sa.Column("status", sa.String(8), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", sa.String(27), nullable=False),
        sa.Column("lease_until", sa.String(27), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("created_at", sa.String(27), nullable=False),
        sa.Column("sent_at", sa.String(27), nullable=True),
    )
    op.create_index("ix_outbox_status_next", "outbox", ["status", "next_attempt_at"])


def downgrade() -> None:
    op.drop_table("outbox")
    op.drop_table("report_submission")
    op.drop_table("deadline_step")
    with op.batch_alter_table("inspection_record") as b:
        b.drop_column("rectify_by")
    with op.batch_alter_table("task") as b:
        b.drop_column("drawn_at")
