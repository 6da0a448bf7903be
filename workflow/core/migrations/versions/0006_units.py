"""Units (DESIGN §8): the tree province → city → county bureau → office. Everything that
belonged to "the bureau" now belongs to a unit: an existing single-bureau database is brought
into one root unit, and the offices its config.yaml listed (the ``offices`` section, handed to
the migration by ``ssj init``) become that unit's offices, nothing lost.

Revision ID: 0006
Revises: 0005
"""

from __future__ import annotations

from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import context, op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

ROOT_CODE = "000000"
ROOT_NAME = "本单位"  # renamed with `ssj unit edit 000000 --name … --code …`
OWNED = ("plan", "task", "target", "inspector", "report_submission")


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def upgrade() -> None:
    unit = op.create_table(
        "unit",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("code", sa.String(32), nullable=False, unique=True),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("parent_id", sa.Integer(), sa.ForeignKey("unit.id"), nullable=True),
        sa.Column("path", sa.String(500), nullable=False, index=True),
        sa.Column("head", sa.String(100), nullable=False),
        sa.Column("email", sa.String(200), nullable=False),
        sa.Column("reports", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.String(27), nullable=False),
        sa.Column("updated_at", sa.String(27), nullable=False),
    )
    now = _now()
    base = {"head": "", "email": "", "reports": False, "created_at": now, "updated_at": now}
    op.bulk_insert(
        unit,
        [
            {
                "id": 1,
                "code": ROOT_CODE,
                "name": ROOT_NAME,
                "kind": "county",
                "parent_id": None,
                "path": "/1/",
                **base,
            }
        ],
    )
    offices = dict(context.config.attributes.get("offices") or {})
    # Offices the data names but the config does not (the config changed, or its offices came
    # from the defaults of an earlier version): each becomes an office too, its head to be
    # filled in — a submitted report is some office's, and two offices' reports must not
    # become one unit's. One that submitted reports owes them.
    bind = op.get_bind()
    sql = "SELECT DISTINCT {} FROM {}"
    reporting = {r[0] for r in bind.execute(sa.text(sql.format("office", "report_submission")))}
    named = {r[0] for r in bind.execute(sa.text(sql.format("initiating_office", "task")))}
    for name in sorted((reporting | named) - set(offices) - {""}):
        offices[name] = {"head": "", "email": "", "reports": name in reporting}
    op.bulk_insert(
        unit,
        [
            {
                "id": i,
                "code": f"{ROOT_CODE}-{i - 1:02d}",
                "name": name,
                "kind": "office",
                "parent_id": 1,
                "path": f"/1/{i}/",
                **base,
                "head": o.get("head", ""),
                "email": o.get("email", ""),
                "reports": bool(o.get("reports", True)),
            }
            for i, (name, o) in enumerate(offices.items(), start=2)
        ],
    )
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            "SELECT setval(pg_get_serial_sequence('unit', 'id'), (SELECT max(id) FROM unit))"
        )
    for table in OWNED:
        with op.batch_alter_table(table) as b:
            b.add_column(sa.Column("unit_id", sa.Integer(), nullable=True))
        op.execute(f"UPDATE {table} SET unit_id = 1")
    # A submitted report was an office's: it is now that office's unit (the root when the
    # office is not among the configured ones).
    op.execute(
        "UPDATE report_submission SET unit_id = COALESCE((SELECT u.id FROM unit u"
        " WHERE u.kind = 'office' AND u.name = report_submission.office), 1)"
    )
    for table in OWNED:
        with op.batch_alter_table(table) as b:
            b.alter_column("unit_id", existing_type=sa.Integer(), nullable=False)
            b.create_foreign_key(f"fk_{table}_unit", "unit", ["unit_id"], ["id"])
            if table != "report_submission":
                b.create_index(f"ix_{table}_unit_id", ["unit_id"])
    with op.batch_alter_table("report_submission") as b:
        b.drop_constraint("uq_report_kind_period_office", type_="unique")
        b.create_unique_constraint("uq_report_kind_period_unit", ["kind", "period", "unit_id"])


def downgrade() -> None:
    with op.batch_alter_table("report_submission") as b:
        b.drop_constraint("uq_report_kind_period_unit", type_="unique")
        b.create_unique_constraint("uq_report_kind_period_office", ["kind", "period", "office"])
    for table in OWNED:
        with op.batch_alter_table(table) as b:
            if table != "report_submission":
                b.drop_index(f"ix_{table}_unit_id")
            b.drop_constraint(f"fk_{table}_unit", type_="foreignkey")
            b.drop_column("unit_id")
    op.drop_table("unit")
