"""payment orders, payment notifications, the payment services' sandbox; storno payments

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-26 18:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # A refunded card payment is recorded as a negative payment (a storno): amounts are non-zero.
    with op.batch_alter_table("payments", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_payments_amount_positive"), type_="check")
        batch_op.create_check_constraint(op.f("ck_payments_amount_nonzero"), "amount_kopecks <> 0")

    op.create_table(
        "payment_orders",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("purpose", sa.String(length=20), nullable=False),
        sa.Column("provider", sa.String(length=20), nullable=False),
        sa.Column("provider_payment_id", sa.String(length=80), nullable=True),
        sa.Column("payment_url", sa.String(length=500), nullable=True),
        sa.Column("sandbox", sa.Boolean(), nullable=False),
        sa.Column("amount_kopecks", sa.BigInteger(), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("origin", sa.String(length=20), nullable=False),
        sa.Column("idempotency_key", sa.String(length=200), nullable=False),
        sa.Column("request_hash", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("credited_payment_id", sa.Integer(), nullable=True),
        sa.Column("refund_payment_id", sa.Integer(), nullable=True),
        sa.CheckConstraint("amount_kopecks > 0", name=op.f("ck_payment_orders_amount_positive")),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["accounts.id"],
            name=op.f("fk_payment_orders_account_id_accounts"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["credited_payment_id"],
            ["payments.id"],
            name=op.f("fk_payment_orders_credited_payment_id_payments"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["refund_payment_id"],
            ["payments.id"],
            name=op.f("fk_payment_orders_refund_payment_id_payments"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_payment_orders")),
        sa.UniqueConstraint(
            "account_id", "origin", "idempotency_key", name=op.f("uq_payment_orders_account_id")
        ),
        sa.UniqueConstraint("credited_payment_id", name=op.f("uq_payment_orders_credited_payment_id")),
        sa.UniqueConstraint("provider", "provider_payment_id", name=op.f("uq_payment_orders_provider")),
        sa.UniqueConstraint("refund_payment_id", name=op.f("uq_payment_orders_refund_payment_id")),
    )
    with op.batch_alter_table("payment_orders", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_payment_orders_account_id"), ["account_id"], unique=False)

    op.create_table(
        "payment_notifications",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("provider", sa.String(length=20), nullable=False),
        sa.Column("event_id", sa.String(length=80), nullable=False),
        sa.Column("order_id", sa.String(length=40), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_payment_notifications")),
        sa.UniqueConstraint("provider", "event_id", name=op.f("uq_payment_notifications_provider")),
    )
    op.create_table(
        "sandbox_payments",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("provider", sa.String(length=20), nullable=False),
        sa.Column("merchant", sa.String(length=80), nullable=False),
        sa.Column("order_id", sa.String(length=40), nullable=False),
        sa.Column("amount_kopecks", sa.BigInteger(), nullable=False),
        sa.Column("description", sa.String(length=300), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("completed_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sandbox_payments")),
        sa.UniqueConstraint("provider", "order_id", name=op.f("uq_sandbox_payments_provider")),
    )


def downgrade() -> None:
    op.drop_table("sandbox_payments")
    op.drop_table("payment_notifications")
    with op.batch_alter_table("payment_orders", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_payment_orders_account_id"))
    op.drop_table("payment_orders")
    with op.batch_alter_table("payments", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_payments_amount_nonzero"), type_="check")
        batch_op.create_check_constraint(op.f("ck_payments_amount_positive"), "amount_kopecks > 0")
