"""Annual plans and the draw: task draw settings, commitments, secrets, published draw records.

Revision ID: 0003
Revises: 0002
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

# A published draw record is evidence, like the log: the database refuses to change it.
_APPEND_ONLY_SQLITE = [
    """CREATE TRIGGER draw_record_no_update BEFORE UPDATE ON draw_record
       BEGIN SELECT RAISE(ABORT, 'draw records are append-only: UPDATE refused'); END""",
    """CREATE TRIGGER draw_record_no_delete BEFORE DELETE ON draw_record
       BEGIN SELECT RAISE(ABORT, 'draw records are append-only: DELETE refused'); END""",
]
_APPEND_ONLY_POSTGRES = [
    """CREATE TRIGGER draw_record_no_update_delete BEFORE UPDATE OR DELETE ON draw_record
       FOR EACH ROW EXECUTE FUNCTION ssj_event_append_only()""",
    """CREATE TRIGGER draw_record_no_truncate BEFORE TRUNCATE ON draw_record
       FOR EACH STATEMENT EXECUTE FUNCTION ssj_event_append_only()""",
]


def upgrade() -> None:
    with op.batch_alter_table("plan") as b:
        b.add_column(sa.Column("published_at", sa.String(27), nullable=True))
    with op.batch_alter_table("task") as b:
        b.add_column(sa.Column("item_codes", sa.Text(), nullable=False, server_default="[]"))
        b.add_column(sa.Column("filters", sa.Text(), nullable=False, server_default="{}"))
        b.add_column(sa.Column("stratum_ratios", sa.Text(), nullable=False, server_default="{}"))
        b.add_column(
            sa.Column("inspector_field", sa.String(100), nullable=False, server_default="")
        )
        b.add_column(sa.Column("commitment", sa.String(64), nullable=True))
        b.add_column(sa.Column("draw_digest", sa.String(64), nullable=True))
        b.add_column(sa.Column("confirmed_at", sa.String(27), nullable=True))
    with op.batch_alter_table("inspection_record") as b:
        # Inspectors substituted out of the group (seed 003), so none is drawn back in.
        b.add_column(sa.Column("replaced", sa.Text(), nullable=False, server_default="[]"))
    op.create_table(
        "draw_secret",
        sa.Column("task_id", sa.Integer(), sa.ForeignKey("task.id"), primary_key=True),
        sa.Column("secret", sa.String(64), nullable=False),
        sa.Column("created_at", sa.String(27), nullable=False),
    )
    op.create_table(
        "draw_record",
        sa.Column("task_id", sa.Integer(), sa.ForeignKey("task.id"), primary_key=True),
        sa.Column("digest", sa.String(64), nullable=False),
        sa.Column("record", sa.Text(), nullable=False),
        sa.Column("created_at", sa.String(27), nullable=False),
    )
    statements = (
        _APPEND_ONLY_POSTGRES if op.get_bind().dialect.name == "postgresql" else _APPEND_ONLY_SQLITE
    )
    for statement in statements:
        op.execute(statement)


def downgrade() -> None:
    raise RuntimeError("published draw records are append-only: 0003 cannot be downgraded")
