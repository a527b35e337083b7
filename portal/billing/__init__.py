"""Billing: monthly statements, receipt totals and the amount due, computed from charges and payments.

``repository`` holds all SQL (always filtered by the account); ``service`` holds the rules.
"""

from portal.billing.service import (
    AmountDue,
    ServiceLine,
    StatementMonth,
    amount_due,
    amounts_due,
    amounts_due_for_receipt,
    capital_repair_due,
    capital_repair_total,
    last_receipt_period,
    monthly_statement,
    payee_for,
    receipt_periods,
    receipt_total,
)

__all__ = [
    "AmountDue",
    "ServiceLine",
    "StatementMonth",
    "amount_due",
    "amounts_due",
    "amounts_due_for_receipt",
    "capital_repair_due",
    "capital_repair_total",
    "last_receipt_period",
    "monthly_statement",
    "payee_for",
    "receipt_periods",
    "receipt_total",
]
