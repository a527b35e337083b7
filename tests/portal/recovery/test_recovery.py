"""Password recovery: a code by e-mail, a new password with it, old password and sessions gone."""

from __future__ import annotations

import datetime as dt
import re
from email.message import EmailMessage

import httpx
import pytest

from portal.demo.accounts import DEMO_ACCOUNTS, DEMO_PASSWORD, demo_email
from tests.conftest import Portal

REQUEST = "/api/v1/auth/recovery"
CONFIRM = "/api/v1/auth/recovery/confirm"
SESSION = "/api/v1/auth/session"
LOGIN = "/api/v1/auth/login"
REQUESTED = "Если данные верны, на e-mail отправлено письмо с кодом восстановления"
NEW_PASSWORD = "Frost-Birch-Lantern-42"

REGISTERED = [demo for demo in DEMO_ACCOUNTS if demo.password == DEMO_PASSWORD]
RESIDENT = REGISTERED[0]
NEIGHBOUR = REGISTERED[1]
UNREGISTERED = next(demo for demo in DEMO_ACCOUNTS if demo.password is None)


def code_from(letter: EmailMessage) -> str:
    match = re.search(r"^Код восстановления: (\d{3} \d{3})$", letter.get_content(), re.MULTILINE)
    assert match, letter.get_content()
    return match.group(1)


async def ask_code(portal: Portal, number: str, email: str) -> httpx.Response:
    return await portal.client.post(REQUEST, json={"account_number": number, "email": email})


def confirm_body(
    number: str, code: str, password: str = NEW_PASSWORD, repeat: str | None = None
) -> dict[str, str]:
    return {
        "account_number": number,
        "code": code,
        "new_password": password,
        "new_password_repeat": password if repeat is None else repeat,
    }


async def test_full_recovery_flow(portal: Portal) -> None:
    number = RESIDENT.account_number
    old_session = await portal.login(number, DEMO_PASSWORD)
    other_session = await portal.login(number, DEMO_PASSWORD)

    # The e-mail is compared without case.
    response = await ask_code(portal, number, demo_email(RESIDENT.apartment).upper())
    assert response.status_code == 202
    assert response.json() == {"message": REQUESTED}
    (letter,) = portal.letters()
    assert letter["To"] == demo_email(RESIDENT.apartment)
    assert number in letter.get_content()
    code = code_from(letter)

    response = await portal.client.post(CONFIRM, json=confirm_body(number, code))
    assert response.status_code == 204, response.text

    assert await portal.login_status(number, DEMO_PASSWORD) == 401
    assert await portal.login_status(number, NEW_PASSWORD) == 200
    for headers in (old_session, other_session):
        assert (await portal.client.get(SESSION, headers=headers)).status_code == 401

    notice = portal.letters()[-1]
    assert notice["To"] == demo_email(RESIDENT.apartment)
    assert "изменён" in notice["Subject"] and "изменён" in notice.get_content()
    assert code not in notice.get_content() and NEW_PASSWORD not in notice.get_content()

    # Single use: the same code again is refused and the password stays.
    again = await portal.client.post(CONFIRM, json=confirm_body(number, code, "Another-Long-Pass-77"))
    assert again.status_code == 409
    assert again.json()["code"] == "recovery_code_invalid"
    assert await portal.login_status(number, NEW_PASSWORD) == 200


async def test_non_matching_requests_answer_the_same_and_send_nothing(portal: Portal) -> None:
    cases = [
        (RESIDENT.account_number, "someone.else@example.ru"),
        (RESIDENT.account_number, demo_email(NEIGHBOUR.apartment)),
        (UNREGISTERED.account_number, "ivanov@example.ru"),
        ("9999999999", demo_email(RESIDENT.apartment)),
    ]
    for number, email in cases:
        response = await ask_code(portal, number, email)
        assert response.status_code == 202, (number, email)
        assert response.json() == {"message": REQUESTED}
    assert portal.letters() == []
    assert await portal.login_status(RESIDENT.account_number, DEMO_PASSWORD) == 200


async def test_expired_code_is_refused(portal: Portal) -> None:
    number = RESIDENT.account_number
    await ask_code(portal, number, demo_email(RESIDENT.apartment))
    code = code_from(portal.letters()[0])
    portal.clock.advance(dt.timedelta(minutes=portal.settings.recovery_code_minutes, seconds=1))
    response = await portal.client.post(CONFIRM, json=confirm_body(number, code))
    assert response.status_code == 409
    assert response.json()["code"] == "recovery_code_invalid"
    assert await portal.login_status(number, DEMO_PASSWORD) == 200


async def test_code_works_until_it_expires(portal: Portal) -> None:
    number = RESIDENT.account_number
    await ask_code(portal, number, demo_email(RESIDENT.apartment))
    code = code_from(portal.letters()[0])
    portal.clock.advance(dt.timedelta(minutes=portal.settings.recovery_code_minutes, seconds=-5))
    response = await portal.client.post(CONFIRM, json=confirm_body(number, code))
    assert response.status_code == 204


async def test_wrong_code_and_other_accounts_code_fail_alike(portal: Portal) -> None:
    number = RESIDENT.account_number
    await ask_code(portal, number, demo_email(RESIDENT.apartment))
    code = code_from(portal.letters()[0])

    answers = []
    for body in (
        confirm_body(number, "not-the-code"),
        confirm_body(number, code[:-1]),
        confirm_body(NEIGHBOUR.account_number, code),  # the code belongs to another account
        confirm_body("9999999999", code),
    ):
        response = await portal.client.post(CONFIRM, json=body)
        answers.append((response.status_code, response.json()))
    assert answers[0][0] == 409
    assert answers[0][1]["code"] == "recovery_code_invalid"
    assert all(answer == answers[0] for answer in answers)
    assert await portal.login_status(NEIGHBOUR.account_number, DEMO_PASSWORD) == 200

    # None of that used up the resident's code.
    response = await portal.client.post(CONFIRM, json=confirm_body(number, code))
    assert response.status_code == 204


async def test_a_new_code_replaces_the_previous_one(portal: Portal) -> None:
    number = RESIDENT.account_number
    email = demo_email(RESIDENT.apartment)
    await ask_code(portal, number, email)
    await ask_code(portal, number, email)
    first, second = (code_from(letter) for letter in portal.letters())
    assert first != second
    assert (await portal.client.post(CONFIRM, json=confirm_body(number, first))).status_code == 409
    assert (await portal.client.post(CONFIRM, json=confirm_body(number, second))).status_code == 204


async def test_confirm_format_errors(portal: Portal) -> None:
    number = RESIDENT.account_number
    await ask_code(portal, number, demo_email(RESIDENT.apartment))
    code = code_from(portal.letters()[0])
    differ = confirm_body(number, code, NEW_PASSWORD, NEW_PASSWORD + "x")
    cases = [
        (confirm_body(number, code, "short1"), "weak_password", "new_password"),
        (confirm_body(number, code, "password1"), "weak_password", "new_password"),
        (confirm_body(number, code, number), "weak_password", "new_password"),
        (differ, "passwords_differ", "new_password_repeat"),
        (confirm_body("35000ab", code), "invalid_account_number", "account_number"),
    ]
    for body, code_name, field in cases:
        response = await portal.client.post(CONFIRM, json=body)
        assert response.status_code == 422, (body, response.text)
        answer = response.json()
        assert (answer["code"], answer["field"]) == (code_name, field), body
        assert "«" in answer["message"]  # the message names the field
    # Format errors neither use up the code nor count as guesses.
    assert (await portal.client.post(CONFIRM, json=confirm_body(number, code))).status_code == 204


async def test_the_code_is_six_digits_to_type_and_only_its_hmac_is_stored(portal: Portal) -> None:
    from sqlalchemy import select

    from portal.models import AccessToken, TokenKind

    number = RESIDENT.account_number
    await ask_code(portal, number, demo_email(RESIDENT.apartment))
    letter = portal.letters()[0]
    shown = code_from(letter)
    digits = shown.replace(" ", "")
    assert len(digits) == 6 and digits.isascii() and digits.isdigit()
    assert "15 мин." in letter.get_content() and portal.settings.recovery_code_minutes == 15
    async with portal.state.sessionmaker() as session:
        stored = list(
            await session.scalars(
                select(AccessToken.token_hmac).where(AccessToken.kind == TokenKind.RECOVERY)
            )
        )
    assert len(stored) == 1 and digits not in stored[0]
    assert stored[0] != portal.state.tokens.digest(digits)  # keyed with the account, not the bare code
    # Typed with or without the space, or with a dash, it is the same code.
    response = await portal.client.post(CONFIRM, json=confirm_body(number, f"{digits[:3]}-{digits[3:]}"))
    assert response.status_code == 204, response.text


async def test_five_wrong_codes_void_the_code(portal: Portal) -> None:
    number = RESIDENT.account_number
    email = demo_email(RESIDENT.apartment)
    await ask_code(portal, number, email)
    code = code_from(portal.letters()[0]).replace(" ", "")
    wrong = [f"{(int(code) + step) % 1_000_000:06d}" for step in range(1, 6)]
    for guess in wrong[:4]:
        assert (await portal.client.post(CONFIRM, json=confirm_body(number, guess))).status_code == 409
    portal.clock.advance(dt.timedelta(minutes=2))  # past the throttle's cool-down: only the code's limit
    assert (await portal.client.post(CONFIRM, json=confirm_body(number, wrong[4]))).status_code == 409
    portal.clock.advance(dt.timedelta(minutes=2))
    # Five wrong codes: the right one no longer opens anything (one in 200 000, not one in a few).
    response = await portal.client.post(CONFIRM, json=confirm_body(number, code))
    assert response.status_code == 409 and response.json()["code"] == "recovery_code_invalid"
    assert await portal.login_status(number, DEMO_PASSWORD) == 200
    # A new code works (once the account's throttle has cooled down).
    portal.clock.advance(dt.timedelta(minutes=5))
    await ask_code(portal, number, email)
    portal.clock.advance(dt.timedelta(minutes=5))
    fresh = code_from(portal.letters()[-1])
    assert (await portal.client.post(CONFIRM, json=confirm_body(number, fresh))).status_code == 204


async def test_four_wrong_codes_leave_the_code_working(portal: Portal) -> None:
    number = RESIDENT.account_number
    await ask_code(portal, number, demo_email(RESIDENT.apartment))
    code = code_from(portal.letters()[0]).replace(" ", "")
    for step in range(1, 5):
        guess = f"{(int(code) + step) % 1_000_000:06d}"
        assert (await portal.client.post(CONFIRM, json=confirm_body(number, guess))).status_code == 409
    portal.clock.advance(dt.timedelta(minutes=2))
    assert (await portal.client.post(CONFIRM, json=confirm_body(number, code))).status_code == 204


async def test_two_accounts_may_get_the_same_code(portal: Portal, monkeypatch: pytest.MonkeyPatch) -> None:
    import portal.recovery.service as recovery

    monkeypatch.setattr(recovery, "new_code", lambda: "042042")
    for demo in (RESIDENT, NEIGHBOUR):
        response = await ask_code(portal, demo.account_number, demo_email(demo.apartment))
        assert response.status_code == 202, response.text
    assert [code_from(letter) for letter in portal.letters()] == ["042 042", "042 042"]
    for demo in (RESIDENT, NEIGHBOUR):
        response = await portal.client.post(CONFIRM, json=confirm_body(demo.account_number, "042042"))
        assert response.status_code == 204, response.text


async def test_request_format_errors(portal: Portal) -> None:
    cases = [
        ({"account_number": "12", "email": "a@example.ru"}, "invalid_account_number", "account_number"),
        ({"account_number": RESIDENT.account_number, "email": "no-at-sign"}, "invalid_email", "email"),
        ({"account_number": RESIDENT.account_number}, "validation_error", "email"),
    ]
    for body, code, field in cases:
        response = await portal.client.post(REQUEST, json=body)
        assert response.status_code == 422, body
        assert (response.json()["code"], response.json()["field"]) == (code, field)


async def test_wrong_codes_are_throttled(portal: Portal) -> None:
    number = RESIDENT.account_number
    for attempt in range(portal.settings.throttle_free_failures):
        response = await portal.client.post(CONFIRM, json=confirm_body(number, f"guess-{attempt}"))
        assert response.status_code == 409, attempt
    response = await portal.client.post(CONFIRM, json=confirm_body(number, "guess-last"))
    assert response.status_code == 429
    assert response.json()["code"] == "too_many_attempts"
    assert int(response.headers["Retry-After"]) > 0


async def test_code_requests_are_throttled_whatever_the_data(portal: Portal) -> None:
    # Matching and non-matching requests count alike, so the throttle reveals nothing either.
    number = RESIDENT.account_number
    emails = [demo_email(RESIDENT.apartment), "x@example.ru"]
    for attempt in range(portal.settings.throttle_free_failures):
        response = await ask_code(portal, number, emails[attempt % 2])
        assert response.status_code == 202, attempt
    response = await ask_code(portal, number, emails[0])
    assert response.status_code == 429
    retry_after = int(response.headers["Retry-After"])
    assert retry_after > 0
    letters_before = len(portal.letters())

    portal.clock.advance(dt.timedelta(seconds=retry_after + 1))
    response = await ask_code(portal, number, emails[0])
    assert response.status_code == 202
    assert len(portal.letters()) == letters_before + 1


async def test_openapi_documents_every_status(portal: Portal) -> None:
    paths = (await portal.client.get("/api/v1/openapi.json")).json()["paths"]
    assert {"202", "422", "429"} <= set(paths[REQUEST]["post"]["responses"])
    assert {"204", "409", "422", "429"} <= set(paths[CONFIRM]["post"]["responses"])
