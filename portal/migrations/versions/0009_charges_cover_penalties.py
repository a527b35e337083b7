"""the covering index of an account's charges carries penalties too

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-03 14:00:00

Penalties (0004) count in every balance the statement and the account summary compute, so since they
came those sums read the heap behind ``ix_charges_account_statement`` again: one heap page per month
and service of an account loaded month by month (``bench/cold_reads.py``: a 36-month statement read
292 pages instead of 25). With ``penalties_kopecks`` in the index's ``INCLUDE`` the reads are
index-only again (PostgreSQL; on SQLite the index is the same as before).
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_COLUMNS = ["account_id", "period", "service_id"]
_INCLUDED = ["volume", "tariff_kopecks", "charged_kopecks", "recalculation_kopecks"]


def upgrade() -> None:
    with op.batch_alter_table("charges", schema=None) as batch_op:
        batch_op.drop_index("ix_charges_account_statement")
        batch_op.create_index(
            "ix_charges_account_statement",
            _COLUMNS,
            unique=False,
            postgresql_include=[*_INCLUDED, "penalties_kopecks"],
        )


def downgrade() -> None:
    with op.batch_alter_table("charges", schema=None) as batch_op:
        batch_op.drop_index("ix_charges_account_statement")
        batch_op.create_index(
            "ix_charges_account_statement", _COLUMNS, unique=False, postgresql_include=_INCLUDED
        )
