"""The payment QR code of ГОСТ Р 56042-2014: the text a banking app reads to fill in a payment.

``ST00012`` (format ``ST0001``, charset ``2`` = UTF-8), then ``|Key=Value`` pairs: the five mandatory
keys first in the standard's order, then the optional ones this portal uses. ``|`` separates the pairs,
so it can never appear inside a value; neither can line breaks, which some apps treat as the end.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from dataclasses import dataclass

from portal.receipts.payees import PayeeRequisites

#: Format ``ST0001`` with the charset digit 2 (UTF-8).
HEADER = "ST00012"
SEPARATOR = "|"
#: ``TechCode`` 02: housing and utilities (ЖКУ).
TECH_CODE_HOUSING = "02"


@dataclass(frozen=True)
class _Rule:
    """What a value of one key may be: a pattern or a maximum length (in characters)."""

    max_length: int
    pattern: re.Pattern[str] | None = None
    #: Words for the error message: what the value must look like.
    shape: str = ""


def _digits(count: str, shape: str) -> _Rule:
    width = int(count.split(",")[-1])
    return _Rule(width, re.compile(rf"\d{{{count}}}"), shape)


#: Mandatory keys, in the order the standard requires them.
MANDATORY: dict[str, _Rule] = {
    "Name": _Rule(160),
    "PersonalAcc": _digits("20", "20 цифр"),
    "BankName": _Rule(45),
    "BIC": _digits("9", "9 цифр"),
    # 20 digits, or ``0`` when the bank has no correspondent account.
    "CorrespAcc": _Rule(20, re.compile(r"0|\d{20}"), "20 цифр или 0"),
}

#: Optional keys this portal writes, in the order it writes them. Where the standard sets no length
#: limit (PersAcc, LastName, PayerAddress) the limit is ours: enough for a real value, short enough to
#: keep the code small.
OPTIONAL: dict[str, _Rule] = {
    "Sum": _digits("1,18", "сумма в копейках, только цифры"),
    "Purpose": _Rule(160),
    "PayeeINN": _Rule(12, re.compile(r"\d{10}|\d{12}"), "10 или 12 цифр"),
    "KPP": _digits("9", "9 цифр"),
    "PersAcc": _Rule(30),
    "PaymPeriod": _Rule(6, re.compile(r"(0[1-9]|1[0-2])\d{4}"), "ММГГГГ"),
    "LastName": _Rule(60),
    "PayerAddress": _Rule(210),
    "TechCode": _Rule(2, re.compile(r"0[1-9]|1[0-5]"), "две цифры, 01–15"),
}

_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def _check(key: str, value: str, rule: _Rule) -> None:
    if not value:
        raise ValueError(f"{key}: empty value (leave an optional key out instead)")
    if SEPARATOR in value:
        raise ValueError(f"{key}: the separator {SEPARATOR!r} cannot appear inside a value")
    if _CONTROL.search(value):
        raise ValueError(f"{key}: control characters (line breaks) cannot appear inside a value")
    if len(value) > rule.max_length:
        raise ValueError(f"{key}: at most {rule.max_length} characters, got {len(value)}")
    if rule.pattern is not None and not rule.pattern.fullmatch(value):
        raise ValueError(f"{key}: must be {rule.shape}")


def gost_payload(fields: Mapping[str, str]) -> str:
    """The QR text ``ST00012|Name=…|PersonalAcc=…|…`` of ``fields``; raises ValueError on a bad field.

    The mandatory keys come first in the standard's order, then the optional ones in :data:`OPTIONAL`'s
    order, whatever the order of ``fields``. Unknown keys, empty values, ``|`` or line breaks inside a
    value, over-long values and malformed numbers are refused.
    """
    unknown = set(fields) - MANDATORY.keys() - OPTIONAL.keys()
    if unknown:
        raise ValueError(f"unknown keys: {', '.join(sorted(unknown))}")
    parts = [HEADER]
    for key, rule in MANDATORY.items():
        if key not in fields:
            raise ValueError(f"{key}: mandatory key missing")
        _check(key, fields[key], rule)
        parts.append(f"{key}={fields[key]}")
    for key, rule in OPTIONAL.items():
        if key in fields:
            _check(key, fields[key], rule)
            parts.append(f"{key}={fields[key]}")
    return SEPARATOR.join(parts)


def parse_gost_payload(text: str) -> dict[str, str]:
    """The key/value pairs of a ГОСТ payload (what a banking app does with the code it reads)."""
    header, _, rest = text.partition(SEPARATOR)
    if header != HEADER:
        raise ValueError(f"not a UTF-8 ГОСТ Р 56042 payload: starts with {header[:8]!r}")
    fields: dict[str, str] = {}
    for pair in rest.split(SEPARATOR):
        key, equals, value = pair.partition("=")
        if not equals:
            raise ValueError(f"pair without '=': {pair[:20]!r}")
        fields[key] = value
    return fields


def _clean(text: str, limit: int) -> str:
    """Free text (names, addresses) made safe for a value: no separator, no line breaks, cut to fit."""
    return " ".join(_CONTROL.sub(" ", text.replace(SEPARATOR, "/")).split())[:limit]


def payment_fields(
    payee: PayeeRequisites,
    *,
    sum_kopecks: int,
    purpose: str,
    payer_account: str,
    period: dt.date,
    payer_name: str,
    payer_address: str,
) -> dict[str, str]:
    """The fields of one payee's QR code on the receipt for ``period``.

    ``payer_account`` is the number the payee knows the payer by: the account number (лицевой счёт) at
    the billing center, or the capital repair account number at the fund.
    """
    if sum_kopecks < 0:
        raise ValueError("Sum: a payment cannot be negative")
    last_name = payer_name.split(maxsplit=1)[0] if payer_name.strip() else ""
    fields = {
        "Name": payee.name,
        "PersonalAcc": payee.account,
        "BankName": payee.bank_name,
        "BIC": payee.bic,
        "CorrespAcc": payee.correspondent_account,
        "Sum": str(sum_kopecks),
        "Purpose": purpose,
        "PayeeINN": payee.inn,
        "KPP": payee.kpp,
        "PersAcc": payer_account,
        "PaymPeriod": f"{period:%m%Y}",
        "LastName": _clean(last_name, OPTIONAL["LastName"].max_length),
        "PayerAddress": _clean(payer_address, OPTIONAL["PayerAddress"].max_length),
        "TechCode": TECH_CODE_HOUSING,
    }
    # A resident without a name or address on file still gets a code: the key is simply left out.
    return {key: value for key, value in fields.items() if value}
