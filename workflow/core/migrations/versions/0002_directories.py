"""一单两库: the inspection item list, the target directory and the inspector directory.

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "item",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("code", sa.String(64), nullable=False, unique=True),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("legal_basis", sa.Text(), nullable=False, server_default=""),
        sa.Column("content", sa.Text(), nullable=False, server_default=""),
        sa.Column("method", sa.String(16), nullable=False),
        sa.Column("category", sa.String(8), nullable=False),
        sa.Column("updated_at", sa.String(27), nullable=False),
    )
    op.create_table(
        "target",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("code", sa.String(18), nullable=False, unique=True),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("type", sa.String(32), nullable=False),
        sa.Column("industry", sa.String(100), nullable=False),
        sa.Column("region", sa.String(100), nullable=False),
        sa.Column("size", sa.String(16), nullable=False),
        sa.Column("grade", sa.String(4), nullable=False),
        sa.Column("tags", sa.Text(), nullable=False),
        sa.Column("violations", sa.Integer(), nullable=False),
        sa.Column("complaints", sa.Integer(), nullable=False),
        sa.Column("last_inspected", sa.String(10), nullable=True),
        sa.Column("updated_at", sa.String(27), nullable=False),
    )
    op.create_table(
        "inspector",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("cert", sa.String(32), nullable=False, unique=True),
        sa.Column("name", sa.String(50), nullable=False),
        sa.Column("fields", sa.Text(), nullable=False),
        sa.Column("specialties", sa.Text(), nullable=False),
        sa.Column("office", sa.String(100), nullable=False),
        sa.Column("recusal", sa.Text(), nullable=False),
        sa.Column("email", sa.String(200), nullable=False),
        sa.Column("available", sa.Boolean(), nullable=False),
        sa.Column("updated_at", sa.String(27), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("inspector")
    op.drop_table("target")
    op.drop_table("item")
