"""First checks of what a resident types in the forms, before the portal sees it (no Textual here).

Each problem is a sentence naming the field and what is allowed, in the translator's language; the
portal checks the same values again and has the last word.
"""

from __future__ import annotations

from typing import Final

from tui.i18n import Translator

#: The shortest new password the portal takes (registration's e-mailed one aside).
MIN_PASSWORD_LENGTH: Final = 8
#: The longest new password the portal takes.
MAX_PASSWORD_LENGTH: Final = 128

#: In front of a refusal and of a step done, on the forms.
ERROR_MARK: Final = "✗ "
DONE_MARK: Final = "✓ "


def field_problem(t: Translator, field_key: str, problem_key: str, **params: object) -> str:
    """«Поле «…»: …» — the field's name and what is allowed, in the translator's language."""
    return t("input.field_problem", field=t(field_key), problem=t(problem_key, **params))


def account_number_problem(t: Translator, number: str) -> str | None:
    """Why ``number`` (spaces already removed) cannot be an account number, or None."""
    if not number:
        return t("input.required", field=t("field.account_number"))
    if not 6 <= len(number) <= 20:  # the portal's rule; digits only is the input's restriction
        return field_problem(t, "field.account_number", "input.account_number_invalid")
    return None


def email_problem(t: Translator, email: str) -> str | None:
    """A first look at an e-mail address (the portal checks it properly), or None."""
    if not email:
        return t("input.required", field=t("field.email"))
    if "@" not in email.strip("@"):
        return field_problem(t, "field.email", "input.email_invalid")
    return None
