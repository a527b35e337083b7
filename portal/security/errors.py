"""Errors of a new password (:mod:`portal.security.password_policy`)."""

from __future__ import annotations

from portal.kit.errors import DomainError


class WeakPassword(DomainError):
    status_code = 422
    code = "weak_password"
    message = "Поле «Новый пароль»: {problem}"
    field = "new_password"


class PasswordsDiffer(DomainError):
    status_code = 422
    code = "passwords_differ"
    message = "Поле «Новый пароль повторно»: пароль не совпадает с полем «Новый пароль»."
    field = "new_password_repeat"
