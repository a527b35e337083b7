"""The demo accounts worth trying, what each one shows, and how to log in.

The seed (:mod:`portal.demo.seed`) builds its special cases from the constants here, so the list and
the data cannot drift apart. Every registered demo account has the password :data:`DEMO_PASSWORD`.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from portal.billing.service import last_receipt_period, receipt_total
from portal.models import Account, User
from portal.money import kopecks_to_decimal

#: The password of every registered demo account (each stored with its own argon2id hash and salt).
DEMO_PASSWORD = "Demo-Pass-2026"  # noqa: S105 - a published demo password, documented on purpose

#: The demo building; an apartment's address is this plus ``, кв. N``.
BUILDING_ADDRESS = "г. Вологда, ул. Ленина, д. 12"
APARTMENTS = 60
#: The regional capital repair fund (Вологодская область).
CAPITAL_REPAIR_FUND_NAME = "ФКР МКД ВО"

# Apartments with a story. Registered accounts are the odd apartments (see :func:`is_registered`).
HAPPY_PATH_APARTMENT = 7
UNREGISTERED_APARTMENT = 12
DEBTOR_APARTMENT = 23
UNREGISTERED_DEBTOR_APARTMENT = 48
EXPIRED_VERIFICATION_APARTMENT = 15  # hot water meter: verification passed before the anchor
VERIFICATION_SOON_APARTMENT = 31  # cold water meter: verification due within 60 days of the anchor
ROLLOVER_APARTMENT = 41  # electricity meter (6 digits) at 999 9xx kWh
#: Debtors: how many months before the anchor's month they stopped paying (nothing paid since).
DEBTORS_STOPPED_MONTHS_AGO: dict[int, int] = {
    DEBTOR_APARTMENT: 8,
    UNREGISTERED_DEBTOR_APARTMENT: 14,
    36: 5,
    54: 11,
}


def account_number(apartment: int) -> str:
    """The 10-digit account number (лицевой счёт) of an apartment of the demo building."""
    return f"35000120{apartment:02d}"


def capital_repair_number(apartment: int) -> str:
    """The apartment's 12-digit account number at the capital repair fund."""
    return f"352100120{apartment:03d}"


def is_registered(apartment: int) -> bool:
    """Whether the apartment's resident has registered in the portal (the odd apartments)."""
    return apartment % 2 == 1


def demo_email(apartment: int) -> str:
    """The e-mail address of a registered demo resident."""
    return f"kv{apartment}@demo.kabinet.local"


@dataclass(frozen=True)
class DemoAccount:
    """A demo account to try, with its password (None: not registered) and what it demonstrates."""

    apartment: int
    password: str | None
    purpose_ru: str
    purpose_en: str

    @property
    def account_number(self) -> str:
        return account_number(self.apartment)


def _demo(apartment: int, purpose_ru: str, purpose_en: str) -> DemoAccount:
    password = DEMO_PASSWORD if is_registered(apartment) else None
    return DemoAccount(apartment, password, purpose_ru, purpose_en)


#: The first registered account is the clean happy path: regular payer, all meters verified.
DEMO_ACCOUNTS: list[DemoAccount] = [
    _demo(HAPPY_PATH_APARTMENT, "зарегистрирован, обычный жилец", "registered, typical resident"),
    _demo(
        UNREGISTERED_APARTMENT,
        "не зарегистрирован — попробуйте регистрацию",
        "not registered — try the registration",
    ),
    _demo(DEBTOR_APARTMENT, "зарегистрирован, должник", "registered, in debt"),
    _demo(
        UNREGISTERED_DEBTOR_APARTMENT,
        "не зарегистрирован, должник — сумма квитанции включает долг",
        "not registered, in debt — the receipt total includes the debt",
    ),
    _demo(
        EXPIRED_VERIFICATION_APARTMENT,
        "счётчик с истёкшей поверкой (горячая вода)",
        "a meter whose verification has expired (hot water)",
    ),
    _demo(
        VERIFICATION_SOON_APARTMENT,
        "поверка в ближайшие 60 дней (холодная вода)",
        "verification due within 60 days (cold water)",
    ),
    _demo(
        ROLLOVER_APARTMENT,
        "счётчик близок к переходу через ноль (электроэнергия, 999 9xx)",
        "a meter close to rollover (electricity, 999 9xx)",
    ),
]


async def describe_demo_accounts(session: AsyncSession) -> list[dict[str, object]]:
    """The demo accounts as printable rows; unregistered ones carry the receipt total to register with.

    Accounts missing from the database (not seeded) are left out.
    """
    numbers = [demo.account_number for demo in DEMO_ACCOUNTS]
    stmt = (
        select(Account.number, Account.id, User.id)
        .outerjoin(User, User.account_id == Account.id)
        .where(Account.number.in_(numbers))
    )
    found = {number: (account_id, user_id) for number, account_id, user_id in await session.execute(stmt)}

    described: list[dict[str, object]] = []
    for demo in DEMO_ACCOUNTS:
        if demo.account_number not in found:
            continue
        account_id, user_id = found[demo.account_number]
        registered = user_id is not None
        period: dt.date | None = None
        total: int | None = None
        if not registered:
            period = await last_receipt_period(session, account_id)
            if period is not None:
                total = await receipt_total(session, account_id, period)
        described.append(
            {
                "account_number": demo.account_number,
                "apartment": demo.apartment,
                "registered": registered,
                "password": demo.password if registered else None,
                "purpose_ru": demo.purpose_ru,
                "purpose_en": demo.purpose_en,
                "last_receipt_period": period.isoformat() if period else None,
                "receipt_total": str(kopecks_to_decimal(total)) if total is not None else None,
                "receipt_total_kopecks": total,
            }
        )
    return described
