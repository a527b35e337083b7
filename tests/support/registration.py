"""Registration helpers shared by the portal tests: the form a visitor sends, what it is checked against."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sqlalchemy import func, select

from portal.billing.service import last_receipt_period, receipt_total
from portal.demo.accounts import DEMO_ACCOUNTS
from portal.models import Account, User

if TYPE_CHECKING:
    from tests.conftest import Portal

REGISTER = "/api/v1/registration"

UNREGISTERED = [demo for demo in DEMO_ACCOUNTS if demo.password is None]


async def expected_total(portal: Portal, number: str) -> int:
    """The last receipt's total in kopecks, the way billing computes it."""
    async with portal.state.sessionmaker() as session:
        account_id = await session.scalar(select(Account.id).where(Account.number == number))
        assert account_id is not None
        period = await last_receipt_period(session, account_id)
        assert period is not None
        return await receipt_total(session, account_id, period)


def form(number: str, total: int, email: str = "ivanov@example.ru", **changes: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "account_number": number,
        "receipt_total_kopecks": total,
        "email": email,
        "email_repeat": email,
        "accept_terms": True,
    }
    body.update(changes)
    return body


async def users_of(portal: Portal, number: str) -> int:
    async with portal.state.sessionmaker() as session:
        count = await session.scalar(
            select(func.count()).select_from(User).join(Account).where(Account.number == number)
        )
        return int(count or 0)
