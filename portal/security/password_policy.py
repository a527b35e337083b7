"""The one password policy of the portal: what a new password must be, and generated passwords.

SECURITY.md: length 8–128 with no composition rules; not one of the most common passwords; not the
account number (the login) itself. Registration mails a generated password (which keeps the policy),
recovery and the profile check a password the resident chose and its repeat with
:func:`check_new_password`.
"""

from __future__ import annotations

import secrets
from functools import cache
from importlib import resources
from typing import Any

from portal.security.errors import PasswordsDiffer, WeakPassword

MIN_PASSWORD_LENGTH = 8
MAX_PASSWORD_LENGTH = 128
#: The length rule of a new password in the API schema (the service answers `weak_password` outside it).
NEW_PASSWORD_SCHEMA: dict[str, Any] = {"minLength": MIN_PASSWORD_LENGTH, "maxLength": MAX_PASSWORD_LENGTH}

#: Letters for generated passwords: no look-alikes (0/O, 1/l/I), easy to retype from a letter.
_GENERATED_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnpqrstuvwxyz23456789"


@cache
def common_passwords() -> frozenset[str]:
    text = resources.files("portal.security").joinpath("common_passwords.txt").read_text("utf-8")
    return frozenset(line.strip().lower() for line in text.splitlines() if line.strip())


def password_problem(password: str, account_number: str) -> str | None:
    """Why a new password is refused (in Russian), or ``None`` if it is acceptable."""
    if len(password) < MIN_PASSWORD_LENGTH:
        return f"Пароль должен быть не короче {MIN_PASSWORD_LENGTH} символов."
    if len(password) > MAX_PASSWORD_LENGTH:
        return f"Пароль должен быть не длиннее {MAX_PASSWORD_LENGTH} символов."
    if password.strip() == account_number or (account_number in password and len(password) < 14):
        return "Пароль не должен совпадать с номером лицевого счета."
    if password.lower() in common_passwords():
        return "Этот пароль слишком распространён — выберите другой."
    return None


def check_new_password(password: str, repeat: str, account_number: str) -> None:
    """A new password the resident chose: the policy (422 ``weak_password``), then its repeat
    (422 ``passwords_differ``)."""
    problem = password_problem(password, account_number)
    if problem is not None:
        raise WeakPassword(problem=problem)
    if repeat != password:
        raise PasswordsDiffer()


def generate_password(length: int = 12) -> str:
    """A random password for the registration letter (~70 bits of the look-alike-free alphabet)."""
    return "".join(secrets.choice(_GENERATED_ALPHABET) for _ in range(length))
