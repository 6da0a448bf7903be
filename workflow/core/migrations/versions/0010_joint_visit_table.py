"""The joint visits each task was merged into, as rows indexed by the task: (task, record).
Showing a task looked them up by matching its id inside the ``joined`` JSON of every record
that carries a joint visit (migration 0009's partial index): about a millisecond of the
database's time per read with a thousand such records, growing with the database. The table
is written where ``joined`` is (TaskTransaction.set_joined) and replaces that index.

Revision ID: 0010
Revises: 0009
"""

from __future__ import annotations

import json

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

JOINED = sa.text("joined <> '[]'")


def upgrade() -> None:
    table = op.create_table(
        "joint_visit",
        sa.Column("task_id", sa.Integer(), sa.ForeignKey("task.id"), primary_key=True),
        sa.Column(
            "record_id", sa.Integer(), sa.ForeignKey("inspection_record.id"), primary_key=True
        ),
    )
    rows = op.get_bind().execute(
        sa.text("SELECT id, joined FROM inspection_record WHERE joined <> '[]'")
    )
    pairs = {
        (int(j["task_id"]), int(record_id))
        for record_id, joined in rows
        for j in json.loads(joined)
    }
    if pairs:
        op.bulk_insert(table, [{"task_id": t, "record_id": r} for t, r in sorted(pairs)])
    op.drop_index("ix_record_joint_visit", "inspection_record")


def downgrade() -> None:
    op.create_index(
        "ix_record_joint_visit",
        "inspection_record",
        ["id"],
        sqlite_where=JOINED,
        postgresql_where=JOINED,
    )
    op.drop_table("joint_visit")
