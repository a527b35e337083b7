"""Billing: monthly statements, receipt totals and the amount due, computed from charges and payments.

``repository`` holds all SQL (always filtered by the account); ``service`` holds the rules (import them
from there: ``from portal.billing.service import receipt_total``).
"""
