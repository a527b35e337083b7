"""covering indexes for residents' first reads; an index on sessions' expiry

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-03 08:00:00

Monthly loads put each month's charges, readings and payments of an account on other heap pages:
a 36-month statement read one heap page per row (2 × 281 pages per account at 100 000 accounts).
These indexes start with what a resident's read filters on (the account, or the meter) and carry
every column the read returns (``INCLUDE`` on PostgreSQL), so the read is an index-only scan over a
few contiguous leaf pages, whatever order the rows were loaded in. They replace the narrower indexes
with the same leading columns. (``CLUSTER`` would order the heap once, but is not maintained by later
loads; a precomputed per-account row would need its own invalidation on every write.) Index-only
scans need the visibility map: after a bulk load, ``VACUUM (ANALYZE)`` the tables (autovacuum does
it eventually).

``sessions.expires_at`` is indexed so that login deletes expired sessions in a bounded batch, oldest
first, instead of scanning every session.
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op


revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("charges", schema=None) as batch_op:
        batch_op.drop_index("ix_charges_account_period")
        batch_op.create_index(
            "ix_charges_account_statement",
            ["account_id", "period", "service_id"],
            unique=False,
            postgresql_include=["volume", "tariff_kopecks", "charged_kopecks", "recalculation_kopecks"],
        )
    with op.batch_alter_table("readings", schema=None) as batch_op:
        batch_op.drop_index("ix_readings_meter_period")
        batch_op.create_index(
            "ix_readings_meter_history",
            ["meter_id", "period", "submitted_at", "id"],
            unique=False,
            postgresql_include=["value", "rollover", "source", "status"],
        )
    with op.batch_alter_table("payments", schema=None) as batch_op:
        batch_op.drop_index("ix_payments_account_paid_on")
        batch_op.create_index(
            "ix_payments_account_history",
            ["account_id", "paid_on", "id"],
            unique=False,
            postgresql_include=["amount_kopecks", "channel", "purpose"],
        )
    with op.batch_alter_table("sessions", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_sessions_expires_at"), ["expires_at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("sessions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_sessions_expires_at"))
    with op.batch_alter_table("payments", schema=None) as batch_op:
        batch_op.drop_index("ix_payments_account_history")
        batch_op.create_index("ix_payments_account_paid_on", ["account_id", "paid_on"], unique=False)
    with op.batch_alter_table("readings", schema=None) as batch_op:
        batch_op.drop_index("ix_readings_meter_history")
        batch_op.create_index("ix_readings_meter_period", ["meter_id", "period"], unique=False)
    with op.batch_alter_table("charges", schema=None) as batch_op:
        batch_op.drop_index("ix_charges_account_statement")
        batch_op.create_index("ix_charges_account_period", ["account_id", "period"], unique=False)
