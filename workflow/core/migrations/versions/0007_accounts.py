"""Accounts (DESIGN §8): who may sign in, with which role, over which unit; API tokens for
scripts; web sessions; failed logins for throttling. The built-in ``system`` account (scheduled
work) belongs to the root unit and has no password: it never signs in.

Revision ID: 0007
Revises: 0006
"""

from __future__ import annotations

from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    account = op.create_table(
        "account",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("username", sa.String(64), nullable=False, unique=True),
        sa.Column("name", sa.String(50), nullable=False),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("unit_id", sa.Integer(), sa.ForeignKey("unit.id"), nullable=False, index=True),
        sa.Column("inspector_id", sa.Integer(), sa.ForeignKey("inspector.id"), nullable=True),
        sa.Column("password_hash", sa.String(200), nullable=True),
        sa.Column("email", sa.String(200), nullable=False),
        sa.Column("disabled_at", sa.String(27), nullable=True),
        sa.Column("password_changed_at", sa.String(27), nullable=True),
        sa.Column("created_at", sa.String(27), nullable=False),
        sa.Column("updated_at", sa.String(27), nullable=False),
    )
    op.create_table(
        "api_token",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("account_id", sa.Integer(), sa.ForeignKey("account.id"), nullable=False),
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("lookup", sa.String(16), nullable=False, unique=True),
        sa.Column("digest", sa.String(64), nullable=False),
        sa.Column("created_at", sa.String(27), nullable=False),
        sa.Column("revoked_at", sa.String(27), nullable=True),
    )
    op.create_table(
        "web_session",
        sa.Column("digest", sa.String(64), primary_key=True),
        sa.Column("account_id", sa.Integer(), sa.ForeignKey("account.id"), nullable=False),
        sa.Column("csrf", sa.String(64), nullable=False),
        sa.Column("created_at", sa.String(27), nullable=False),
        sa.Column("expires_at", sa.String(27), nullable=False),
        sa.Column("ended_at", sa.String(27), nullable=True),
    )
    op.create_table(
        "login_failure",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("username", sa.String(64), nullable=False, index=True),
        sa.Column("address", sa.String(64), nullable=False, index=True),
        sa.Column("at", sa.String(27), nullable=False, index=True),
    )
    bind = op.get_bind()
    root = bind.execute(sa.text("SELECT MIN(id) FROM unit WHERE parent_id IS NULL")).scalar()
    now = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    op.bulk_insert(
        account,
        [
            {
                "id": 1,
                "username": "system",
                "name": "系统",
                "role": "system",
                "unit_id": root,
                "inspector_id": None,
                "password_hash": None,
                "email": "",
                "disabled_at": None,
                "password_changed_at": None,
                "created_at": now,
                "updated_at": now,
            }
        ],
    )
    if bind.dialect.name == "postgresql":  # ids continue after the explicit one
        op.execute(
            "SELECT setval(pg_get_serial_sequence('account', 'id'), (SELECT max(id) FROM account))"
        )


def downgrade() -> None:
    for table in ("login_failure", "web_session", "api_token", "account"):
        op.drop_table(table)
