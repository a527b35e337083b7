"""Every error code the portal can answer has a message in both catalogues.

The codes are collected from the portal's source, so a new ``ApiError(409, "some_code", …)`` without
translations fails here instead of showing the portal's Russian sentence inside the English interface.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

from tui.i18n import LANGUAGES, Language, Translator, load_catalogue

PORTAL = Path(__file__).resolve().parents[2] / "portal"
#: The payment sandbox stands in for the outside provider: its codes go to our portal, not to residents.
NOT_THE_PORTALS = (PORTAL / "payments" / "sandbox",)
CODE = re.compile(r"[a-z]+(_[a-z0-9]+)*")
CYRILLIC = re.compile(r"[а-яё]", re.IGNORECASE)


def _constant(node: ast.AST, kind: type) -> object | None:
    return node.value if isinstance(node, ast.Constant) and isinstance(node.value, kind) else None


def portal_error_codes() -> set[str]:
    """Codes from ``ApiError(status, "code", …)`` (and subclasses), ``code="…"`` and the handlers' tables."""
    codes: set[str] = set()
    for path in PORTAL.rglob("*.py"):
        if any(path.is_relative_to(skip) for skip in NOT_THE_PORTALS):
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Call):
                args = node.args
                if len(args) >= 2 and _constant(args[0], int) is not None:
                    code = _constant(args[1], str)
                    if isinstance(code, str) and CODE.fullmatch(code):
                        codes.add(code)
                codes.update(
                    value
                    for keyword in node.keywords
                    if keyword.arg == "code" and isinstance(value := _constant(keyword.value, str), str)
                )
            elif isinstance(node, ast.Tuple) and len(node.elts) == 2:
                code, message = (_constant(element, str) for element in node.elts)
                is_pair = isinstance(code, str) and isinstance(message, str)
                if is_pair and CODE.fullmatch(str(code)) and CYRILLIC.search(str(message)):
                    codes.add(str(code))  # ("not_found", "Не найдено.") in the HTTP error handler
    return codes


def test_the_scan_finds_the_portals_codes() -> None:
    codes = portal_error_codes()
    assert {"login_failed", "email_unchanged", "payment_conflict", "receipt_not_found"} <= codes
    assert {"too_many_receipt_emails", "method_not_allowed", "validation_error"} <= codes
    assert len(codes) > 40


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_portal_code_has_a_message(language: Language) -> None:
    catalogue = load_catalogue(language)
    missing = sorted(code for code in portal_error_codes() if f"error.{code}" not in catalogue)
    assert not missing, f"{language}.toml lacks error.<code> for {missing}"


def test_english_interface_never_shows_the_portals_russian_message() -> None:
    t = Translator("en")
    for code in sorted(portal_error_codes()):
        text = t.error(code, "Русское сообщение портала.")
        assert not CYRILLIC.search(text.replace("РАЗМЕР ВЗНОСА НА КАПИТАЛЬНЫЙ РЕМОНТ", "")), (code, text)
