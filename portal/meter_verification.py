"""Meter verification (поверка): when a meter stops taking readings and when the resident is warned.

The one place this rule lives: the account summary warns with it and the readings submission refuses
readings of an expired meter with it.
"""

from __future__ import annotations

import datetime as dt
import enum

#: A verification due within this many days is announced in advance.
VERIFICATION_WARNING_DAYS = 60


class VerificationState(enum.StrEnum):
    """A meter's verification on a given day."""

    VALID = "valid"
    #: Still valid, but the verification date is at most :data:`VERIFICATION_WARNING_DAYS` away.
    DUE = "verification_due"
    #: The verification date has passed: the meter takes no readings until it is verified again.
    EXPIRED = "verification_expired"


def verification_state(next_verification_on: dt.date, today: dt.date) -> VerificationState:
    """The state of a meter whose next verification is due on ``next_verification_on``.

    The verification date itself is the last day the meter is valid; it has expired the day after.
    """
    if today > next_verification_on:
        return VerificationState.EXPIRED
    if (next_verification_on - today).days <= VERIFICATION_WARNING_DAYS:
        return VerificationState.DUE
    return VerificationState.VALID


def verification_message(
    state: VerificationState, service_name: str, serial_number: str, next_verification_on: dt.date
) -> str:
    """What the resident is told about a meter's verification (empty for a valid meter)."""
    meter = f"Счётчик «{service_name}» № {serial_number}"
    if state is VerificationState.EXPIRED:
        return (
            f"{meter}: срок поверки истёк {next_verification_on:%d.%m.%Y}. Показания по нему не "
            "принимаются, начисление идёт по среднему или по нормативу. Выполните поверку или замену "
            "счётчика и передайте документы в расчётный центр."
        )
    if state is VerificationState.DUE:
        return (
            f"{meter}: срок поверки истекает {next_verification_on:%d.%m.%Y}. Запланируйте поверку "
            "заранее, чтобы показания принимались без перерыва."
        )
    return ""
