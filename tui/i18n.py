"""Translations of the terminal app: Russian (the default) and English.

The words live in two TOML catalogues beside this module, ``locale/ru.toml`` and ``locale/en.toml``.
Tables nest, so ``[login] title = "…"`` is the key ``login.title``. Both catalogues carry exactly the
same keys with the same ``{placeholders}`` (a test checks it), so switching the language never leaves a
screen half translated.

Messages are ``str.format`` templates with one addition for Russian grammar: ``{n:plural:…|…|…}``
prints the form of a word that agrees with the number ``n`` — Russian has three forms
(``one|few|many``: 1 цифра, 2 цифры, 5 цифр), English two (``one|other``). The number itself is written
separately as ``{n}``, so a template may put the word where the language wants it.

A key missing from the catalogue is shown as ``⟨key⟩`` and remembered in :attr:`Translator.missing`, so
an untranslated word is visible on screen and detectable in tests instead of crashing the app.
"""

from __future__ import annotations

import string
from collections.abc import Mapping
from functools import cache
from typing import Any, Final, Literal, TypeGuard, get_args

Language = Literal["ru", "en"]
"""A language the app speaks."""

LANGUAGES: Final[tuple[Language, ...]] = get_args(Language)
"""Every supported language, the default first."""

DEFAULT_LANGUAGE: Final[Language] = "ru"
"""The billing center's residents read Russian; English is for visitors and tests."""

#: The most messages remembered for :meth:`Translator.again` (then it starts afresh).
_GIVEN_LIMIT: Final = 20_000

MISSING_OPEN: Final = "⟨"
MISSING_CLOSE: Final = "⟩"

#: Error codes the portal API answers with; each has an ``error.<code>`` key in both catalogues.
PORTAL_ERROR_CODES: Final[tuple[str, ...]] = (
    "validation_error",
    "login_failed",
    "too_many_attempts",
    "session_expired",
    "not_authenticated",
    "account_not_found",
    "registration_data_mismatch",
    "emails_differ",
    "terms_not_accepted",
    "invalid_amount",
    "invalid_account_number",
    "invalid_email",
    "recovery_code_invalid",
    "weak_password",
    "passwords_differ",
    "reading_window_closed",
    "invalid_format",
    "below_previous",
    "rollover_confirmation_required",
    "implausible_consumption_confirmation_required",
    "verification_expired",
    "unknown_meter",
    "duplicate_meter",
    "readings_conflict",
    "previous_readings_mismatch",
    "idempotency_key_reused",
    "request_in_progress",
    "invalid_period",
    "period_too_long",
    "date_out_of_range",
)


def is_language(value: object) -> TypeGuard[Language]:
    """Whether ``value`` names a supported language."""
    return value in LANGUAGES


def plural_category(language: Language, count: int) -> int:
    """Index of the word form that agrees with ``count``: Russian ``one|few|many``, English ``one|other``.

    Russian follows the CLDR rule (1, 21, 101 → one; 2–4, 22–24 → few; 0, 5–20, 25 → many).
    """
    count = abs(count)
    if language == "ru":
        if count % 10 == 1 and count % 100 != 11:
            return 0
        if 2 <= count % 10 <= 4 and not 12 <= count % 100 <= 14:
            return 1
        return 2
    return 0 if count == 1 else 1


class _MessageFormatter(string.Formatter):
    """``str.format`` plus the ``plural:`` format spec (see the module docstring)."""

    def __init__(self, language: Language) -> None:
        super().__init__()
        self.language = language

    def format_field(self, value: Any, format_spec: str) -> Any:
        if format_spec.startswith("plural:"):
            forms = format_spec.removeprefix("plural:").split("|")
            # A catalogue with too few forms still prints a word rather than failing.
            return forms[min(plural_category(self.language, int(value)), len(forms) - 1)]
        return super().format_field(value, format_spec)


def _flatten(table: Mapping[str, Any], prefix: str = "") -> dict[str, str]:
    flat: dict[str, str] = {}
    for name, value in table.items():
        key = f"{prefix}{name}"
        if isinstance(value, Mapping):
            flat.update(_flatten(value, f"{key}."))
        elif isinstance(value, str):
            flat[key] = value
        else:
            raise ValueError(f"locale entry {key!r} must be a string, not {type(value).__name__}")
    return flat


@cache
def load_catalogue(language: Language) -> Mapping[str, str]:
    """The catalogue of ``language`` as flat dotted keys, read once and cached.

    ``tomllib`` and ``importlib.resources`` are imported here, not at module level, so importing the
    app's core stays cheap until the first word is needed.
    """
    import tomllib
    from importlib import resources

    text = resources.files("tui").joinpath("locale", f"{language}.toml").read_text(encoding="utf-8")
    return _flatten(tomllib.loads(text))


def placeholders(template: str) -> frozenset[str]:
    """The names of the ``{placeholders}`` of a message template (format specs ignored)."""
    return frozenset(
        field.split(".")[0].split("[")[0]
        for _, field, _, _ in string.Formatter().parse(template)
        if field is not None and field != ""
    )


class Translated(str):
    """A message as the translator gave it out: the text, remembering its key and parameters.

    Widgets keep the strings they are given (a label's content, a field's placeholder, a title), so
    after a language switch the same message can be put in the other language (see
    :meth:`Translator.again`).
    """

    __slots__ = ("key", "params")

    key: str
    params: dict[str, Any]

    def __new__(cls, text: str, key: str, params: dict[str, Any]) -> Translated:
        self = super().__new__(cls, text)
        self.key = key
        self.params = params
        return self

    def __reduce__(self) -> tuple[type[str], tuple[str]]:
        return (str, (str(self),))  # copied or pickled, it is just the words


class Translator:
    """Turns catalogue keys into words of the current language.

    >>> t = Translator("en")
    >>> t("login.submit")
    'Log in'
    """

    def __init__(self, language: Language = DEFAULT_LANGUAGE) -> None:
        if not is_language(language):
            raise ValueError(f"unsupported language {language!r}: use one of {', '.join(LANGUAGES)}")
        self._language: Language = language
        self._formatter = _MessageFormatter(language)
        #: Keys asked for that the catalogue lacks (shown as ``⟨key⟩``).
        self.missing: set[str] = set()
        #: Keys whose template could not be filled (a parameter missing or of the wrong kind).
        self.faulty: set[str] = set()
        #: Every message given out (in any language) → its key and parameters, so that a language
        #: switch can put the same message in the other language (see :meth:`again`).
        self._given: dict[str, tuple[str, dict[str, Any]]] = {}

    @property
    def lang(self) -> Language:
        """The current language."""
        return self._language

    def set_language(self, language: str) -> None:
        """Switch to ``language`` (``"ru"`` or ``"en"``); anything else is a ``ValueError``."""
        if not is_language(language):
            raise ValueError(f"unsupported language {language!r}: use one of {', '.join(LANGUAGES)}")
        self._language = language
        self._formatter = _MessageFormatter(language)

    def has(self, key: str) -> bool:
        """Whether the current catalogue has ``key``."""
        return key in load_catalogue(self._language)

    def __call__(self, key: str, /, **params: Any) -> str:
        """The message of ``key`` with ``params`` substituted, or ``⟨key⟩`` when the key is missing."""
        template = load_catalogue(self._language).get(key)
        if template is None:
            self.missing.add(key)
            return f"{MISSING_OPEN}{key}{MISSING_CLOSE}"
        if not params and "{" not in template:
            text = template
        else:
            try:
                text = self._formatter.format(template, **params)
            except (KeyError, IndexError, ValueError, TypeError):
                # A translation bug must not take the screen down: show the raw template, note the key.
                self.faulty.add(key)
                return template
        if len(self._given) > _GIVEN_LIMIT:
            self._given.clear()
        self._given[text] = (key, params)
        return Translated(text, key, params)

    def again(self, text: object) -> str | None:
        """``text``, a message this translator gave out in any language, in the current language.

        ``None`` when ``text`` is not such a message (the portal's data, a sentence put together
        from pieces). Parameters that were messages themselves are translated too.
        """
        if not isinstance(text, str) or not text:
            return None
        if isinstance(text, Translated):
            key, params = text.key, text.params
        else:  # a widget kept only the words (a button's label): found by them
            given = self._given.get(text)
            if given is None:
                return None
            key, params = given
        return self(key, **{name: self.again(value) or value for name, value in params.items()})

    def unit(self, unit: str) -> str:
        """A unit of measure the portal gives in Russian (``м³``, ``кВт·ч``) in the current language."""
        key = f"unit.{unit}"
        return self(key) if self.has(key) else unit

    def error(self, code: str, message: str | None = None, /, **params: Any) -> str:
        """The resident's message for a portal error ``code``.

        Codes this version does not know fall back to the portal's own (Russian) ``message``, then to
        a generic sentence, so a newer portal never produces a bare ``⟨error.…⟩``.
        """
        key = f"error.{code}"
        if self.has(key):
            return self(key, **params)
        if message:
            return message
        return self("error.unknown", code=code)


__all__ = [
    "DEFAULT_LANGUAGE",
    "LANGUAGES",
    "PORTAL_ERROR_CODES",
    "Language",
    "Translator",
    "is_language",
    "load_catalogue",
    "placeholders",
    "plural_category",
]
