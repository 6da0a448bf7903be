"""The engine: plans, tasks, inspection records, follow-ups and the append-only event log.

Revision ID: 0001
Revises:
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

_APPEND_ONLY_SQLITE = [
    """CREATE TRIGGER event_no_update BEFORE UPDATE ON event
       BEGIN SELECT RAISE(ABORT, 'event log is append-only: UPDATE refused'); END""",
    """CREATE TRIGGER event_no_delete BEFORE DELETE ON event
       BEGIN SELECT RAISE(ABORT, 'event log is append-only: DELETE refused'); END""",
]

_APPEND_ONLY_POSTGRES = [
    """CREATE FUNCTION ssj_event_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
       BEGIN RAISE EXCEPTION 'event log is append-only: % refused', TG_OP; END $$""",
    """CREATE TRIGGER event_no_update_delete BEFORE UPDATE OR DELETE ON event
       FOR EACH ROW EXECUTE FUNCTION ssj_event_append_only()""",
    """CREATE TRIGGER event_no_truncate BEFORE TRUNCATE ON event
       FOR EACH STATEMENT EXECUTE FUNCTION ssj_event_append_only()""",
]


def upgrade() -> None:
    op.create_table(
        "plan",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("plan_no", sa.String(16), nullable=False, unique=True),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("unit", sa.String(200), nullable=False),
        sa.Column("created_at", sa.String(27), nullable=False),
    )
    op.create_table(
        "task",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("plan_id", sa.Integer(), sa.ForeignKey("plan.id"), nullable=False),
        sa.Column("task_no", sa.String(16), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("task_type", sa.String(16), nullable=False),
        sa.Column("ratio", sa.String(16), nullable=False),
        sa.Column("items", sa.Text(), nullable=False, server_default=""),
        sa.Column("scope", sa.Text(), nullable=False, server_default=""),
        sa.Column("initiating_office", sa.String(100), nullable=False),
        sa.Column("joining_offices", sa.Text(), nullable=False),
        sa.Column("months", sa.String(64), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.String(27), nullable=False),
        sa.Column("updated_at", sa.String(27), nullable=False),
        sa.UniqueConstraint("plan_id", "task_no", name="uq_task_plan_no"),
    )
    op.create_index("ix_task_plan_id", "task", ["plan_id"])
    op.create_table(
        "inspection_record",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("task_id", sa.Integer(), sa.ForeignKey("task.id"), nullable=False),
        sa.Column("target_code", sa.String(18), nullable=False),
        sa.Column("target_name", sa.String(200), nullable=False),
        sa.Column("inspectors", sa.Text(), nullable=False),
        sa.Column("group_size", sa.Integer(), nullable=False),
        sa.Column("result", sa.String(16), nullable=True),
        sa.Column("result_note", sa.Text(), nullable=True),
        sa.Column("result_at", sa.String(27), nullable=True),
        sa.Column("published_at", sa.String(27), nullable=True),
        sa.Column("published_place", sa.String(300), nullable=True),
        sa.Column("followup_count", sa.Integer(), nullable=False),
        sa.UniqueConstraint("task_id", "target_code", name="uq_record_task_target"),
    )
    op.create_index("ix_inspection_record_task_id", "inspection_record", ["task_id"])
    op.create_table(
        "followup",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("record_id", sa.Integer(), sa.ForeignKey("inspection_record.id"), nullable=False),
        sa.Column("outcome", sa.String(32), nullable=False),
        sa.Column("outcome_date", sa.String(10), nullable=False),
        sa.Column("note", sa.Text(), nullable=False, server_default=""),
        sa.Column("actor", sa.String(100), nullable=False),
        sa.Column("created_at", sa.String(27), nullable=False),
    )
    op.create_index("ix_followup_record_id", "followup", ["record_id"])
    op.create_table(
        "event",
        sa.Column("seq", sa.Integer(), primary_key=True, autoincrement=False),
        sa.Column("at", sa.String(27), nullable=False),
        sa.Column("actor", sa.String(100), nullable=False),
        sa.Column("role", sa.String(32), nullable=False),
        sa.Column("task_id", sa.Integer(), nullable=True),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("from_state", sa.String(16), nullable=True),
        sa.Column("to_state", sa.String(16), nullable=True),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("payload", sa.Text(), nullable=False),
        sa.Column("prev_hash", sa.String(64), nullable=False),
        sa.Column("hash", sa.String(64), nullable=False),
    )
    op.create_index("ix_event_task_seq", "event", ["task_id", "seq"])
    statements = (
        _APPEND_ONLY_POSTGRES if op.get_bind().dialect.name == "postgresql" else _APPEND_ONLY_SQLITE
    )
    for statement in statements:
        op.execute(statement)


def downgrade() -> None:
    raise RuntimeError("the audit log is append-only: migration 0001 cannot be downgraded")
