"""Rules of the account summary and the list of receipts; money comes from :mod:`portal.billing`."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from sqlalchemy.ext.asyncio import AsyncSession

from portal.accounts.repository import AccountsRepository, MeterVerification
from portal.accounts.schemas import (
    AccountSummary,
    AmountDueBreakdown,
    Balance,
    CapitalRepair,
    MeterWarning,
    ReceiptList,
    ReceiptMonth,
)
from portal.auth.errors import NotAuthenticated
from portal.auth.service import Principal
from portal.billing import service as billing
from portal.billing.schemas import ServiceCharge
from portal.history.schemas import PaymentRow
from portal.meter_verification import VerificationState, verification_message, verification_state
from portal.models import PaymentChannel, PaymentPurpose
from portal.reading_window import reading_window
from portal.readings.schemas import ReadingWindow
from portal.settings import Settings


def _breakdown(due: billing.AmountDue) -> AmountDueBreakdown:
    return AmountDueBreakdown(
        period=due.period,
        opening_balance_kopecks=due.opening_kopecks,
        charged_kopecks=due.charged_kopecks,
        recalculation_kopecks=due.recalculation_kopecks,
        paid_in_period_kopecks=due.paid_in_period_kopecks,
        receipt_total_kopecks=due.receipt_total_kopecks,
        payments_since_kopecks=due.paid_since_kopecks,
        lines=[ServiceCharge.model_validate(line) for line in due.lines],
    )


def meter_warnings(meters: Iterable[MeterVerification], today: dt.date) -> list[MeterWarning]:
    """Meters whose verification has expired or is due soon, in the order given (the receipt's)."""
    warnings: list[MeterWarning] = []
    for meter in meters:
        state = verification_state(meter.next_verification_on, today)
        if state is VerificationState.VALID:
            continue
        warnings.append(
            MeterWarning(
                code="verification_expired" if state is VerificationState.EXPIRED else "verification_due",
                meter_id=meter.meter_id,
                service_name=meter.service_name,
                serial_number=meter.serial_number,
                date=meter.next_verification_on,
                message=verification_message(
                    state, meter.service_name, meter.serial_number, meter.next_verification_on
                ),
            )
        )
    return warnings


async def account_summary(
    session: AsyncSession, settings: Settings, principal: Principal, today: dt.date
) -> AccountSummary:
    """The start screen of the principal's own account.

    Three queries whatever the history: the account with its last receipt month, last payment and
    meters; both payees' sums; the last receipt's lines.
    """
    repo = AccountsRepository(session)
    account = await repo.summary_account(principal.account_id, today)
    if account is None:
        # The account was deleted under a live session: the session means nothing any more.
        raise NotAuthenticated()

    dues = await billing.amounts_due_for_receipt(
        session, principal.account_id, account.last_receipt_period, today
    )
    utilities = dues[PaymentPurpose.UTILITIES]
    capital_repair: CapitalRepair | None = None
    if account.fund_account_number is not None and account.fund_name is not None:
        fund_due = dues[PaymentPurpose.CAPITAL_REPAIR]
        capital_repair = CapitalRepair(
            account_number=account.fund_account_number,
            fund_name=account.fund_name,
            period=fund_due.period,
            receipt_total_kopecks=fund_due.receipt_total_kopecks,
            amount_due_kopecks=fund_due.amount_due_kopecks,
            debt_kopecks=fund_due.debt_kopecks,
        )

    window = reading_window(settings, today)
    payment = account.last_payment
    return AccountSummary(
        account_number=account.number,
        address=account.address,
        owner_name=account.owner_name,
        area_m2=account.area_m2,
        residents=account.residents,
        balance=Balance(
            debt_kopecks=utilities.debt_kopecks,
            amount_due_kopecks=utilities.amount_due_kopecks,
            breakdown=_breakdown(utilities),
        ),
        capital_repair=capital_repair,
        reading_window=ReadingWindow(
            open=window.open,
            period=window.period,
            always_open=window.always_open,
            start_day=window.start_day,
            end_day=window.end_day,
            closes_on=window.closes_on,
            opens_on=window.opens_on,
            message=window.message,
        ),
        warnings=meter_warnings(account.meters, today),
        last_payment=(
            PaymentRow(
                paid_on=payment.paid_on,
                amount_kopecks=payment.amount_kopecks,
                channel=PaymentChannel(payment.channel),
                purpose=PaymentPurpose(payment.purpose),
            )
            if payment is not None
            else None
        ),
    )


async def receipt_list(session: AsyncSession, principal: Principal) -> ReceiptList:
    """Months with a receipt, newest first, with the receipt's two totals.

    Each total is :func:`portal.billing.service.receipt_total` /
    :func:`portal.billing.service.capital_repair_total` of its month; they are read off one statement per
    payee (one query each) instead of calling those functions month by month (one query per month and payee).
    """
    periods = await billing.receipt_periods(session, principal.account_id)
    if not periods:
        return ReceiptList(receipts=[])
    first, last = min(periods), max(periods)
    closings: dict[PaymentPurpose, dict[dt.date, int]] = {}
    for purpose in PaymentPurpose:
        months = await billing.monthly_statement(session, principal.account_id, first, last, purpose)
        closings[purpose] = {month.period: month.closing_kopecks for month in months}
    return ReceiptList(
        receipts=[
            ReceiptMonth(
                period=period,
                # The receipt prints a prepayment as 0 to pay (the rule of billing.receipt_total).
                total_kopecks=max(0, closings[PaymentPurpose.UTILITIES][period]),
                capital_repair_kopecks=max(0, closings[PaymentPurpose.CAPITAL_REPAIR][period]),
            )
            for period in periods
        ]
    )
