"""An index of the inspection records that carry joint visits (``joined`` not empty), so that
showing a task finds the visits other tasks' draws merged it into without reading every
record: a partial index, holding only those few records (bench/api.py, docs/PERFORMANCE.md).

Revision ID: 0009
Revises: 0008
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

JOINED = sa.text("joined <> '[]'")


def upgrade() -> None:
    op.create_index(
        "ix_record_joint_visit",
        "inspection_record",
        ["id"],
        sqlite_where=JOINED,
        postgresql_where=JOINED,
    )


def downgrade() -> None:
    op.drop_index("ix_record_joint_visit", "inspection_record")
