"""Plan numbers are each bureau's own (seed 004: 抽查计划编号 is the year and the department's
serial, 2024001): two counties in one database may both have plan 2024001. The number is
unique within its bureau, not across the database.

Revision ID: 0008
Revises: 0007
"""

from __future__ import annotations

from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

# The unique constraint 0001 declared on the column has no name of its own: PostgreSQL calls
# it plan_plan_no_key; SQLite's reflection gives it none, so batch mode names it by this
# convention to drop it.
_NAMING = {"uq": "uq_%(table_name)s_%(column_0_name)s"}


def _old_constraint() -> str:
    return "plan_plan_no_key" if op.get_bind().dialect.name == "postgresql" else "uq_plan_plan_no"


def upgrade() -> None:
    with op.batch_alter_table("plan", naming_convention=_NAMING) as b:
        b.drop_constraint(_old_constraint(), type_="unique")
        b.create_unique_constraint("uq_plan_unit_no", ["unit_id", "plan_no"])
        b.create_index("ix_plan_plan_no", ["plan_no"])


def downgrade() -> None:
    with op.batch_alter_table("plan", naming_convention=_NAMING) as b:
        b.drop_index("ix_plan_plan_no")
        b.drop_constraint("uq_plan_unit_no", type_="unique")
        b.create_unique_constraint(_old_constraint(), ["plan_no"])
