"""One value of an import file: parsed into its exact type, or a Russian reason why not.

Money is rubles with at most two decimals (``1234,56`` or ``1234.56``, thousands may be separated by a
space) and becomes integer kopecks; volumes and readings are ``Decimal``; dates are ``DD.MM.YYYY`` or
``YYYY-MM-DD``; months are ``YYYY-MM``. Requisites are checked the way banks check them: the ИНН's
check digits, the КПП's shape, and the settlement and correspondent accounts' control key against the
БИК (Bank of Russia's rules).
"""

from __future__ import annotations

import datetime as dt
import functools
import re
from decimal import Decimal, InvalidOperation

from portal.kit.clock import BILLING_TZ
from portal.periods import MAX_DATE, MIN_DATE


class FieldError(ValueError):
    """The value is not allowed; the message (Russian) says what is."""


_MONEY = re.compile(r"-?[0-9]{1,3}(?:[ \u00a0\u202f]?[0-9]{3})*(?:[.,][0-9]{1,2})?")
_DECIMAL = re.compile(r"-?[0-9]+(?:[.,][0-9]+)?")
_INTEGER = re.compile(r"[0-9]{1,9}")
_DMY = re.compile(r"([0-9]{2})\.([0-9]{2})\.([0-9]{4})")
_ISO = re.compile(r"([0-9]{4})-([0-9]{2})-([0-9]{2})")
_MONTH = re.compile(r"([0-9]{4})-([0-9]{2})")
_ACCOUNT_NUMBER = re.compile(r"[0-9]{6,20}")
_SERIAL = re.compile(r"[0-9A-Za-zА-Яа-яЁё][0-9A-Za-zА-Яа-яЁё./ -]{0,39}")
_CODE = re.compile(r"[a-z][a-z0-9_]{0,39}")


def text(value: str, *, max_length: int) -> str:
    cleaned = value.strip()
    if not cleaned:
        raise FieldError("пустое значение")
    if len(cleaned) > max_length:
        raise FieldError(f"длиннее {max_length} символов")
    return cleaned


@functools.lru_cache(maxsize=1024)
def code(value: str) -> str:
    cleaned = value.strip()
    if not _CODE.fullmatch(cleaned):
        raise FieldError("код: латинские строчные буквы, цифры и _, до 40 символов (например, cold_water)")
    return cleaned


@functools.lru_cache(maxsize=64)  # a file lists an account's lines together
def account_number(value: str) -> str:
    cleaned = value.strip()
    if not _ACCOUNT_NUMBER.fullmatch(cleaned):
        raise FieldError("номер лицевого счёта — от 6 до 20 цифр")
    return cleaned


def serial_number(value: str) -> str:
    cleaned = value.strip()
    if not _SERIAL.fullmatch(cleaned):
        raise FieldError("заводской номер счётчика — до 40 букв, цифр, точек, дефисов и косых черт")
    return cleaned


@functools.lru_cache(maxsize=8192)  # tariffs and zero recalculations repeat on every line
def money(value: str, *, positive: bool = False, non_negative: bool = False) -> int:
    """Kopecks from rubles: ``1234,56``, ``1 234.56``, ``-12,5``."""
    cleaned = value.strip()
    if not _MONEY.fullmatch(cleaned):
        raise FieldError("сумма в рублях, не более двух знаков после запятой (например, 1234,56)")
    if not cleaned.isascii() or " " in cleaned:
        cleaned = re.sub(r"[ \u00a0\u202f]", "", cleaned)
    negative = cleaned.startswith("-")
    whole, _, fraction = cleaned.lstrip("-").replace(",", ".").partition(".")
    kopecks = int(whole) * 100 + int(fraction.ljust(2, "0"))
    if negative:
        kopecks = -kopecks
    if positive and kopecks <= 0:
        raise FieldError("сумма должна быть больше нуля")
    if non_negative and kopecks < 0:
        raise FieldError("сумма не может быть отрицательной")
    if abs(kopecks) >= 10**15:
        raise FieldError("сумма слишком велика")
    return kopecks


def decimal(value: str, *, places: int, integer_digits: int, non_negative: bool = True) -> Decimal:
    cleaned = value.strip()
    if not _DECIMAL.fullmatch(cleaned):
        raise FieldError("число с десятичной запятой или точкой (например, 12,345)")
    try:
        number = Decimal(cleaned.replace(",", "."))
    except InvalidOperation as exc:  # pragma: no cover - the pattern guarantees digits
        raise FieldError("не число") from exc
    exponent = number.as_tuple().exponent
    if isinstance(exponent, int) and -exponent > places:
        raise FieldError(f"не более {places} знаков после запятой")
    if non_negative and number < 0:
        raise FieldError("число не может быть отрицательным")
    if abs(number) >= Decimal(10) ** integer_digits:
        raise FieldError(f"не более {integer_digits} цифр до запятой")
    return number


def integer(value: str, *, low: int, high: int) -> int:
    cleaned = value.strip()
    if not _INTEGER.fullmatch(cleaned) or not low <= int(cleaned) <= high:
        raise FieldError(f"целое число от {low} до {high}")
    return int(cleaned)


@functools.lru_cache(maxsize=4096)
def date(value: str) -> dt.date:
    """``DD.MM.YYYY`` or ``YYYY-MM-DD``, within the years the portal keeps."""
    cleaned = value.strip()
    match = _DMY.fullmatch(cleaned)
    try:
        if match:
            day = dt.date(int(match[3]), int(match[2]), int(match[1]))
        elif _ISO.fullmatch(cleaned):
            day = dt.date.fromisoformat(cleaned)
        else:
            raise FieldError("дата ДД.ММ.ГГГГ или ГГГГ-ММ-ДД (например, 25.10.2026)")
    except ValueError as exc:
        if isinstance(exc, FieldError):
            raise
        raise FieldError("такой даты нет в календаре") from exc
    if not MIN_DATE <= day <= MAX_DATE:
        raise FieldError(f"дата вне допустимого диапазона {MIN_DATE:%d.%m.%Y}–{MAX_DATE:%d.%m.%Y}")
    return day


@functools.lru_cache(maxsize=1024)
def month(value: str) -> dt.date:
    """The first day of the month ``YYYY-MM``."""
    match = _MONTH.fullmatch(value.strip())
    if not match or not 1 <= int(match[2]) <= 12:
        raise FieldError("месяц ГГГГ-ММ (например, 2026-10)")
    period = dt.date(int(match[1]), int(match[2]), 1)
    if not MIN_DATE <= period <= MAX_DATE:
        raise FieldError(f"месяц вне допустимого диапазона {MIN_DATE:%Y}–{MAX_DATE:%Y}")
    return period


def moment(value: str) -> dt.datetime:
    """A date (noon at the billing center), ``DD.MM.YYYY HH:MM`` (billing center's time) or ISO 8601."""
    cleaned = value.strip()
    if " " in cleaned and _DMY.fullmatch(cleaned.split(" ", 1)[0]):
        day_text, time_text = cleaned.split(" ", 1)
        day = date(day_text)
        try:
            clock = dt.time.fromisoformat(time_text.strip())
        except ValueError as exc:
            raise FieldError("время ЧЧ:ММ (например, 25.10.2026 14:30)") from exc
        return dt.datetime.combine(day, clock, BILLING_TZ).astimezone(dt.UTC)
    if "T" in cleaned:
        try:
            parsed = dt.datetime.fromisoformat(cleaned)
        except ValueError as exc:
            raise FieldError("дата и время ISO 8601 (например, 2026-10-25T14:30:00+03:00)") from exc
        if parsed.tzinfo is None:
            parsed = parsed.replace(tzinfo=BILLING_TZ)
        date(parsed.date().isoformat())
        return parsed.astimezone(dt.UTC)
    return dt.datetime.combine(date(cleaned), dt.time(12), BILLING_TZ).astimezone(dt.UTC)


# --- requisites -----------------------------------------------------------------------------------------

_INN10_WEIGHTS = (2, 4, 10, 3, 5, 9, 4, 6, 8)
_INN11_WEIGHTS = (7, 2, 4, 10, 3, 5, 9, 4, 6, 8)
_INN12_WEIGHTS = (3, 7, 2, 4, 10, 3, 5, 9, 4, 6, 8)
_KPP = re.compile(r"[0-9]{4}[0-9A-Z]{2}[0-9]{3}")
_ACCOUNT_WEIGHTS = (7, 1, 3) * 7 + (7, 1)


def _inn_digit(digits: str, weights: tuple[int, ...]) -> int:
    return sum(int(d) * w for d, w in zip(digits, weights, strict=False)) % 11 % 10


def inn(value: str) -> str:
    """An organisation's (10 digits) or a person's (12 digits) ИНН with valid check digits."""
    cleaned = value.strip()
    if not re.fullmatch(r"[0-9]{10}|[0-9]{12}", cleaned):
        raise FieldError("ИНН — 10 цифр (организация) или 12 цифр (ИП)")
    if len(cleaned) == 10:
        ok = _inn_digit(cleaned, _INN10_WEIGHTS) == int(cleaned[9])
    else:
        ok = _inn_digit(cleaned, _INN11_WEIGHTS) == int(cleaned[10]) and _inn_digit(
            cleaned, _INN12_WEIGHTS
        ) == int(cleaned[11])
    if not ok:
        raise FieldError("неверные контрольные цифры ИНН")
    return cleaned


def kpp(value: str) -> str:
    cleaned = value.strip()
    if not _KPP.fullmatch(cleaned):
        raise FieldError("КПП — 9 знаков: 4 цифры, 2 цифры или заглавные латинские буквы, 3 цифры")
    return cleaned


def bic(value: str) -> str:
    cleaned = value.strip()
    if not re.fullmatch(r"04[0-9]{7}", cleaned):
        raise FieldError("БИК — 9 цифр, начинается с 04")
    return cleaned


def _account_key_ok(prefix3: str, account: str) -> bool:
    digits = prefix3 + account
    return sum(int(d) * w for d, w in zip(digits, _ACCOUNT_WEIGHTS, strict=True)) % 10 == 0


def bank_account(value: str) -> str:
    cleaned = value.strip()
    if not re.fullmatch(r"[0-9]{20}", cleaned):
        raise FieldError("счёт — 20 цифр")
    return cleaned


def check_settlement_account(account: str, bic_value: str) -> None:
    """The settlement account's control key against the БИК (last three digits of the БИК)."""
    if not _account_key_ok(bic_value[-3:], account):
        raise FieldError("расчётный счёт не проходит проверку контрольного ключа по БИК")


def check_correspondent_account(account: str, bic_value: str) -> None:
    """The correspondent account's key against ``0`` + the БИК's 5th–6th digits; ends as the БИК."""
    if not account.startswith("301") or account[-3:] != bic_value[-3:]:
        raise FieldError("корреспондентский счёт — 301…, последние три цифры совпадают с БИК")
    if not _account_key_ok("0" + bic_value[4:6], account):
        raise FieldError("корреспондентский счёт не проходит проверку контрольного ключа по БИК")
