"""Every error the portal declares has a message in both catalogues, and the API document lists them.

The codes come from the registry of declared errors (:func:`portal.kit.errors.declared_errors`): each
domain package names its errors in its ``errors.py`` (status, code and Russian message once), so a new
error without translations fails here instead of showing the portal's Russian sentence inside the
English interface.
"""

from __future__ import annotations

import re
import tempfile
from pathlib import Path
from typing import Any

import pytest

from portal.app import create_app
from portal.kit.errors import (
    DECLARED_ERRORS,
    ERRORS_EXTENSION,
    ApiError,
    DomainError,
    MethodNotAllowed,
    declared_errors,
    declared_operations,
)
from portal.settings import demo_settings
from tui.i18n import LANGUAGES, Language, Translator, load_catalogue

PORTAL = Path(__file__).resolve().parents[2] / "portal"
CODE = re.compile(r"[a-z]+(_[a-z0-9]+)*")
CYRILLIC = re.compile(r"[а-яё]", re.IGNORECASE)
#: Codes of the edge no single operation names: an unknown path or method, an error of the server.
NOT_PER_OPERATION = {"http_error", "internal_error", "method_not_allowed", "not_found"}


def portal_error_codes() -> set[str]:
    return {error.code for error in declared_errors()}


@pytest.fixture(scope="module")
def document() -> dict[str, Any]:
    app = create_app(demo_settings(Path(tempfile.mkdtemp())), prepare_database=False)
    return app.openapi()


def test_the_registry_holds_the_portals_errors() -> None:
    codes = portal_error_codes()
    assert {"login_failed", "email_unchanged", "payment_conflict", "receipt_not_found"} <= codes
    assert {"too_many_receipt_emails", "method_not_allowed", "validation_error", "nul_character"} <= codes
    assert len(codes) > 40
    for error in declared_errors():
        assert CODE.fullmatch(error.code), error
        assert 400 <= error.status_code < 600, error
        # The portal's messages are Russian (or, like the reading window's, a Russian sentence given whole).
        assert CYRILLIC.search(error.message) or re.fullmatch(r"\{\w+\}", error.message), error


def test_a_declared_error_answers_what_it_declares() -> None:
    error = MethodNotAllowed()
    assert (error.status_code, error.code, error.message) == (
        405,
        "method_not_allowed",
        "Метод не поддерживается.",
    )

    class Example(DomainError):
        status_code = 409
        code = "example_refused"
        message = "Счётчик {meter} указан дважды."
        field = "readings"

    try:
        raised = Example(meter=7)
        assert (raised.status_code, raised.code, raised.field) == (409, "example_refused", "readings")
        assert raised.message == "Счётчик 7 указан дважды."
        assert Example(meter=1, field="meter_id").field == "meter_id"
        assert Example in declared_errors()
    finally:
        DECLARED_ERRORS.remove(Example)  # the example is no error of the portal


def test_no_error_is_raised_without_its_declaration() -> None:
    """Errors are raised by name: no ``ApiError(409, "code", "…")`` with literals outside the kit."""
    inline = [
        path.relative_to(PORTAL)
        for path in PORTAL.rglob("*.py")
        if path != PORTAL / "kit" / "errors.py" and "ApiError(" in path.read_text(encoding="utf-8")
    ]
    assert not inline, inline
    assert issubclass(DomainError, ApiError)


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


def _operations(document: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {
        f"{method.upper()} {path}": operation
        for path, item in document["paths"].items()
        for method, operation in item.items()
    }


def test_the_document_lists_each_operations_error_codes(document: dict[str, Any]) -> None:
    operations = _operations(document)
    declared = declared_operations()
    assert set(declared) <= set(operations), set(declared) - set(operations)  # no stale or misspelt key
    listed: set[str] = set()
    for key, errors in declared.items():
        responses = operations[key]["responses"]
        for error in errors:
            status = str(error.status_code)
            assert status in responses, f"{key} answers {status} {error.code} but does not document {status}"
            assert error.code in responses[status][ERRORS_EXTENSION], (key, error.code)
        listed |= {code for response in responses.values() for code in response.get(ERRORS_EXTENSION, ())}
    # Every declared error is answered by some operation (or is one of the edge's).
    assert portal_error_codes() - listed <= NOT_PER_OPERATION, portal_error_codes() - listed
    # What the reading screens and the client rely on.
    submit = operations["POST /api/v1/readings"]["responses"]
    assert submit["409"][ERRORS_EXTENSION] == [
        "reading_window_closed",
        "readings_conflict",
        "request_in_progress",
    ]
    assert set(submit["401"][ERRORS_EXTENSION]) == {"not_authenticated", "session_expired"}
    assert operations["POST /api/v1/auth/login"]["responses"]["401"][ERRORS_EXTENSION] == ["login_failed"]


def test_the_422_codes_agree_with_the_schema_of_the_answer(document: dict[str, Any]) -> None:
    """``x-error-codes`` of a 422 is exactly the ``code`` enum of its schema (see ``unprocessable``)."""
    for key, operation in _operations(document).items():
        unprocessable = operation["responses"].get("422", {})
        schema = unprocessable.get("content", {}).get("application/json", {}).get("schema", {})
        enums = [
            part["properties"]["code"]["enum"] for part in schema.get("allOf", []) if "properties" in part
        ]
        if enums:
            assert sorted(enums[0]) == unprocessable[ERRORS_EXTENSION], key
