"""Registration: find the account, prove the receipt total, get a password by e-mail, log in with it."""

from __future__ import annotations

import asyncio
import datetime as dt
import re
from email.message import EmailMessage
from typing import Any

from sqlalchemy import select

from portal.demo.accounts import BUILDING_ADDRESS, DEMO_ACCOUNTS, DEMO_PASSWORD, demo_email
from portal.models import Account, User
from tests.conftest import Portal
from tests.support.registration import REGISTER, UNREGISTERED, expected_total, form, users_of

LOOKUP = "/api/v1/registration/lookup"
REGISTERED = next(demo for demo in DEMO_ACCOUNTS if demo.password == DEMO_PASSWORD)
MISMATCH_MESSAGE_START = "Данные не совпадают с квитанцией"


def password_from(letter: EmailMessage) -> str:
    match = re.search(r"^Пароль: (\S+)$", letter.get_content(), re.MULTILINE)
    assert match, letter.get_content()
    return match.group(1)


def test_demo_has_unregistered_accounts() -> None:
    assert len(UNREGISTERED) >= 2


# --- step 1: lookup ---------------------------------------------------------------------------


async def test_lookup_finds_account_and_hides_apartment_and_owner(portal: Portal) -> None:
    number = UNREGISTERED[0].account_number
    response = await portal.client.post(LOOKUP, json={"account_number": f" {number} "})
    assert response.status_code == 200, response.text
    body = response.json()
    assert body == {
        "found": True,
        "account_number": number,
        "masked_address": f"{BUILDING_ADDRESS}, кв. **",
    }
    async with portal.state.sessionmaker() as session:
        account = await session.scalar(select(Account).where(Account.number == number))
        assert account is not None
    assert account.owner_name not in response.text
    assert str(UNREGISTERED[0].apartment) not in body["masked_address"].removeprefix(BUILDING_ADDRESS)


async def test_lookup_unknown_account_is_404(portal: Portal) -> None:
    response = await portal.client.post(LOOKUP, json={"account_number": "9999999999"})
    assert response.status_code == 404
    body = response.json()
    assert body["code"] == "account_not_found"
    assert body["message"] == "Лицевой счет не найден. Проверьте номер в квитанции."


async def test_lookup_bad_format_names_the_field(portal: Portal) -> None:
    for number in ["35000120ab", "12345", "1" * 21, "3500 012012", "-350001201"]:
        response = await portal.client.post(LOOKUP, json={"account_number": number})
        assert response.status_code == 422, number
        body = response.json()
        assert body["code"] == "invalid_account_number", number
        assert body["field"] == "account_number"
        assert "«Лицевой счет»" in body["message"] and "от 6 до 20 цифр" in body["message"]


async def test_lookup_missing_or_empty_number_is_422(portal: Portal) -> None:
    for payload in ({}, {"account_number": ""}, {"account_number": 3500012012}):
        response = await portal.client.post(LOOKUP, json=payload)
        assert response.status_code == 422, payload
        assert response.json()["field"] == "account_number"
        assert "«Лицевой счет»" in response.json()["message"]


# --- step 2: success --------------------------------------------------------------------------


async def test_registration_mails_a_password_that_logs_in(portal: Portal) -> None:
    number = UNREGISTERED[0].account_number
    total = await expected_total(portal, number)

    response = await portal.client.post(REGISTER, json=form(number, total, "Ivan.Petrov@Example.RU"))
    assert response.status_code == 202, response.text
    body = response.json()
    assert body["email_masked"] == "I***@example.ru"
    assert "I***@example.ru" in body["message"]

    letters = portal.letters()
    assert len(letters) == 1
    letter = letters[0]
    assert letter["To"] == "Ivan.Petrov@example.ru"
    text = letter.get_content()
    assert number in text and "сменить пароль" in text
    password = password_from(letter)
    assert len(password) >= 12

    headers = await portal.login(number, password)
    session = await portal.client.get("/api/v1/auth/session", headers=headers)
    assert session.status_code == 200
    assert session.json()["account_number"] == number
    async with portal.state.sessionmaker() as db:
        user = await db.scalar(select(User).join(Account).where(Account.number == number))
        assert user is not None
        assert user.email == "Ivan.Petrov@example.ru"
        assert user.password_hash.startswith("$argon2id$")
        assert password not in user.password_hash


# --- step 2: format errors --------------------------------------------------------------------


#: (changed fields, code, field, words the message must contain)
FORMAT_ERRORS: list[tuple[dict[str, Any], str, str, str]] = [
    ({"account_number": "12ab"}, "invalid_account_number", "account_number", "«Лицевой счет»"),
    (
        {"receipt_total_kopecks": -5},
        "invalid_amount",
        "receipt_total_kopecks",
        "«Итого к оплате за указанный",
    ),
    ({"receipt_total_kopecks": "1023.12"}, "validation_error", "receipt_total_kopecks", "«Итого к оплате"),
    ({"receipt_total_kopecks": 1023.12}, "validation_error", "receipt_total_kopecks", "нужно число"),
    ({"receipt_total_kopecks": None}, "validation_error", "receipt_total_kopecks", "«Итого к оплате"),
    ({"email": "ivanov@", "email_repeat": "ivanov@"}, "invalid_email", "email", "«Введите e-mail»"),
    ({"email": "no-at-sign", "email_repeat": "no-at-sign"}, "invalid_email", "email", "e-mail"),
    ({"email_repeat": "petrov@example.ru"}, "emails_differ", "email_repeat", "«Введите e-mail повторно»"),
    ({"accept_terms": False}, "terms_not_accepted", "accept_terms", "«Принять условия соглашения»"),
]


async def test_format_errors_have_their_own_code_and_field(portal: Portal) -> None:
    number = UNREGISTERED[0].account_number
    total = await expected_total(portal, number)
    for changes, code, field, words in FORMAT_ERRORS:
        response = await portal.client.post(REGISTER, json=form(number, total, **changes))
        assert response.status_code == 422, (changes, response.text)
        body = response.json()
        assert (body["code"], body["field"]) == (code, field), changes
        assert words in body["message"], changes
    assert await users_of(portal, number) == 0
    assert portal.letters() == []
    # Format errors are not guesses: the throttle has nothing to count, the right data still registers.
    response = await portal.client.post(REGISTER, json=form(number, total))
    assert response.status_code == 202


async def test_format_errors_come_before_the_knowledge_check(portal: Portal) -> None:
    # An unknown account with a bad e-mail: the e-mail's own error, not the uniform refusal.
    response = await portal.client.post(REGISTER, json=form("9999999999", 100, "bad"))
    assert response.status_code == 422
    assert response.json()["code"] == "invalid_email"


async def test_repeated_email_is_compared_without_case_and_spaces(portal: Portal) -> None:
    number = UNREGISTERED[0].account_number
    total = await expected_total(portal, number)
    body = form(number, total, "ivanov@example.ru", email_repeat=" IVANOV@example.ru ")
    response = await portal.client.post(REGISTER, json=body)
    assert response.status_code == 202, response.text


async def test_missing_fields_are_422(portal: Portal) -> None:
    response = await portal.client.post(REGISTER, json={"account_number": UNREGISTERED[0].account_number})
    assert response.status_code == 422
    assert response.json()["code"] == "validation_error"


# --- step 2: the uniform refusal --------------------------------------------------------------


async def test_unknown_wrong_total_and_already_registered_fail_alike(portal: Portal) -> None:
    fresh = UNREGISTERED[0].account_number
    fresh_total = await expected_total(portal, fresh)
    registered_total = await expected_total(portal, REGISTERED.account_number)

    attempts = {
        "unknown account": form("9999999999", fresh_total),
        "wrong total": form(fresh, fresh_total + 1),
        "already registered": form(REGISTERED.account_number, registered_total),
    }
    answers = {}
    for case, body in attempts.items():
        response = await portal.client.post(REGISTER, json=body)
        answers[case] = (response.status_code, response.json())
    first = answers["unknown account"]
    assert first[0] == 409
    assert first[1]["code"] == "registration_data_mismatch"
    assert first[1]["message"].startswith(MISMATCH_MESSAGE_START)
    assert all(answer == first for answer in answers.values()), answers
    assert await users_of(portal, fresh) == 0

    # Only the registered owner hears of it, at the registered address, with no password inside.
    letters = portal.letters()
    assert len(letters) == 1
    notice = letters[0]
    assert notice["To"] == demo_email(REGISTERED.apartment)
    text = notice.get_content()
    assert REGISTERED.account_number in text and "восстановлением пароля" in text
    assert "Пароль:" not in text
    # The owner's password still works.
    await portal.login(REGISTERED.account_number, DEMO_PASSWORD)


async def test_registering_twice_refuses_and_notifies_the_owner(portal: Portal) -> None:
    number = UNREGISTERED[0].account_number
    total = await expected_total(portal, number)
    first = await portal.client.post(REGISTER, json=form(number, total, "owner@example.ru"))
    assert first.status_code == 202
    password = password_from(portal.letters()[0])

    second = await portal.client.post(REGISTER, json=form(number, total, "intruder@example.ru"))
    assert second.status_code == 409
    assert second.json()["code"] == "registration_data_mismatch"
    letters = portal.letters()
    assert [letter["To"] for letter in letters] == ["owner@example.ru", "owner@example.ru"]
    assert "Пароль:" not in letters[1].get_content()
    assert await users_of(portal, number) == 1
    await portal.login(number, password)


async def test_already_registered_with_a_wrong_total_sends_no_notice(portal: Portal) -> None:
    total = await expected_total(portal, REGISTERED.account_number)
    response = await portal.client.post(REGISTER, json=form(REGISTERED.account_number, total + 100))
    assert response.status_code == 409
    assert portal.letters() == []


async def test_concurrent_registrations_create_one_user(portal: Portal) -> None:
    number = UNREGISTERED[0].account_number
    total = await expected_total(portal, number)
    responses = await asyncio.gather(
        *(portal.client.post(REGISTER, json=form(number, total, f"r{i}@example.ru")) for i in range(4))
    )
    statuses = sorted(response.status_code for response in responses)
    assert statuses == [202, 409, 409, 409], [r.text for r in responses]
    assert await users_of(portal, number) == 1
    password_letters = [letter for letter in portal.letters() if "Пароль:" in letter.get_content()]
    assert len(password_letters) == 1


# --- throttling -------------------------------------------------------------------------------


async def test_repeated_failures_are_throttled_with_retry_after(portal: Portal) -> None:
    number = UNREGISTERED[0].account_number
    total = await expected_total(portal, number)
    free = portal.settings.throttle_free_failures
    for attempt in range(free):
        response = await portal.client.post(REGISTER, json=form(number, total + 1 + attempt))
        assert response.status_code == 409, attempt

    blocked = await portal.client.post(REGISTER, json=form(number, total))
    assert blocked.status_code == 429
    assert blocked.json()["code"] == "too_many_attempts"
    retry_after = int(blocked.headers["Retry-After"])
    assert 0 < retry_after <= portal.settings.throttle_base_cooldown_seconds + 1
    assert await users_of(portal, number) == 0

    # The cool-down ends on its own: the account is delayed, never disabled.
    portal.clock.advance(dt.timedelta(seconds=retry_after + 1))
    response = await portal.client.post(REGISTER, json=form(number, total))
    assert response.status_code == 202, response.text


async def test_openapi_documents_every_status(portal: Portal) -> None:
    spec = (await portal.client.get("/api/v1/openapi.json")).json()
    lookup = spec["paths"][LOOKUP]["post"]["responses"]
    register = spec["paths"][REGISTER]["post"]["responses"]
    assert {"200", "404", "422"} <= set(lookup)
    assert {"202", "409", "422", "429"} <= set(register)
