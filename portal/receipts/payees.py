"""What a receipt prints of a payee, and the demo's two payees (which the demo seeder imports).

A receipt takes its payees' requisites from the ``payees`` table, filled by the billing center's
import (docs/exchange.md); the constants below are only the demo region's file content.

The billing center collects the utilities; the regional capital repair fund collects the contribution on
its special account (счёт регионального оператора, 40604…). The numbers are made up but well formed: the
INNs carry valid check digits and every bank account passes the Bank of Russia's control key against the
BIC, because banking apps check them when they read a payment QR code.

"""

from __future__ import annotations

from dataclasses import dataclass

from portal.models import Payee


@dataclass(frozen=True)
class PayeeRequisites:
    """What a payment order to one payee needs (ГОСТ Р 56042-2014 names in the comments)."""

    #: Full name of the payee (``Name``, at most 160 characters).
    name: str
    #: Short name for labels on the receipt.
    short_name: str
    #: ИНН, 10 digits for an organisation (``PayeeINN``).
    inn: str
    #: КПП, 9 digits (``KPP``).
    kpp: str
    #: The payee's settlement account, 20 digits (``PersonalAcc``).
    account: str
    #: The bank's name (``BankName``, at most 45 characters).
    bank_name: str
    #: БИК, 9 digits (``BIC``).
    bic: str
    #: The bank's correspondent account, 20 digits (``CorrespAcc``).
    correspondent_account: str
    #: Postal address and phone printed under the name.
    address: str
    phone: str


_DEMO_BANK = "АО «Северный демо-банк»"
_DEMO_BIC = "041909701"
_DEMO_CORRESPONDENT_ACCOUNT = "30101810500000000701"

BILLING_CENTER = PayeeRequisites(
    name="ООО «Расчётный центр «Кабинет»",
    short_name="Расчётный центр «Кабинет»",
    inn="3525012347",
    kpp="352501001",
    account="40702810500000012345",
    bank_name=_DEMO_BANK,
    bic=_DEMO_BIC,
    correspondent_account=_DEMO_CORRESPONDENT_ACCOUNT,
    address="160000, г. Вологда, ул. Мира, д. 1",
    phone="+7 (8172) 00-00-00",
)

CAPITAL_REPAIR_FUND = PayeeRequisites(
    name="Фонд капитального ремонта многоквартирных домов Вологодской области",
    short_name="ФКР МКД ВО",
    inn="3525007890",
    kpp="352501001",
    account="40604810700000067890",
    bank_name=_DEMO_BANK,
    bic=_DEMO_BIC,
    correspondent_account=_DEMO_CORRESPONDENT_ACCOUNT,
    address="160000, г. Вологда, ул. Герцена, д. 2",
    phone="+7 (8172) 00-00-01",
)

#: The demo region's payees, by the code services name them with (``services.payee``).
DEMO_PAYEES: dict[Payee, PayeeRequisites] = {
    Payee.BILLING_CENTER: BILLING_CENTER,
    Payee.CAPITAL_REPAIR_FUND: CAPITAL_REPAIR_FUND,
}
