"""A real bureau's year: what the database is for (live, demo or test), stated dates beside
real event times, joint visits that carry the joining task's items, result corrections,
retired directory rows, the target's address and contacts, and calendar years recorded from
the State Council's notice.

Revision ID: 0005
Revises: 0004
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # One row per setting of the database itself; ``purpose`` is live | demo | test. A live
    # database refuses writes at a time other than the real clock's (``--now`` rehearses).
    op.create_table(
        "database_info",
        sa.Column("key", sa.String(64), primary_key=True),
        sa.Column("value", sa.Text(), nullable=False),
    )
    with op.batch_alter_table("inspection_record") as b:
        # The publication date as the user states it (local date); published_at is the real
        # time of the event that recorded it.
        b.add_column(sa.Column("published_on", sa.String(10), nullable=True))
        # Joint visits: other tasks whose target merged into this visit, with their items
        # (JSON list of {"task_id", "task_no", "office", "item_codes"}).
        b.add_column(sa.Column("joined", sa.Text(), nullable=False, server_default="[]"))
        b.add_column(
            sa.Column("correction_count", sa.Integer(), nullable=False, server_default="0")
        )
    op.execute(
        "UPDATE inspection_record SET published_on = substr(published_at, 1, 10)"
        " WHERE published_at IS NOT NULL"
    )
    op.create_table(
        "result_correction",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column(
            "record_id",
            sa.Integer(),
            sa.ForeignKey("inspection_record.id"),
            index=True,
            nullable=False,
        ),
        sa.Column("before_result", sa.String(16), nullable=True),
        sa.Column("before_note", sa.Text(), nullable=True),
        sa.Column("after_result", sa.String(16), nullable=False),
        sa.Column("after_note", sa.Text(), nullable=True),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("category", sa.String(32), nullable=False),
        sa.Column("actor", sa.String(100), nullable=False),
        sa.Column("corrected_at", sa.String(27), nullable=False),
        sa.Column("published_on", sa.String(10), nullable=True),
        sa.Column("published_place", sa.String(300), nullable=True),
        sa.Column("event_seq", sa.Integer(), nullable=False),
    )
    with op.batch_alter_table("item") as b:
        b.add_column(sa.Column("retired_at", sa.String(27), nullable=True))
    with op.batch_alter_table("target") as b:
        b.add_column(sa.Column("retired_at", sa.String(27), nullable=True))
        b.add_column(sa.Column("address", sa.String(300), nullable=False, server_default=""))
        b.add_column(sa.Column("legal_rep", sa.String(50), nullable=False, server_default=""))
        b.add_column(sa.Column("phone", sa.String(50), nullable=False, server_default=""))
    op.create_table(
        "calendar_year",
        sa.Column("year", sa.Integer(), primary_key=True, autoincrement=False),
        sa.Column("holidays", sa.Text(), nullable=False),  # JSON list of YYYY-MM-DD
        sa.Column("workdays", sa.Text(), nullable=False),  # JSON list of YYYY-MM-DD
        sa.Column("source", sa.Text(), nullable=False),  # the notice's title
        sa.Column("text_sha256", sa.String(64), nullable=False),
        sa.Column("actor", sa.String(100), nullable=False),
        sa.Column("recorded_at", sa.String(27), nullable=False),
        sa.Column("event_seq", sa.Integer(), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("calendar_year")
    with op.batch_alter_table("target") as b:
        for c in ("phone", "legal_rep", "address", "retired_at"):
            b.drop_column(c)
    with op.batch_alter_table("item") as b:
        b.drop_column("retired_at")
    op.drop_table("result_correction")
    with op.batch_alter_table("inspection_record") as b:
        for c in ("correction_count", "joined", "published_on"):
            b.drop_column(c)
    op.drop_table("database_info")
