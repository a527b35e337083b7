"""The profile: the e-mail and the password changed behind the current password and a captcha."""

from __future__ import annotations

import re

import pytest

from portal.demo.accounts import DEMO_PASSWORD
from tests.conftest import Portal
from tests.support.captcha import (
    ACCOUNT,
    EMAIL,
    NEIGHBOUR,
    NEW_EMAIL,
    NEW_PASSWORD,
    PASSWORD,
    PROFILE,
    RESIDENT,
    RESIDENT_EMAIL,
    SESSION,
    Answers,
    email_body,
    new_captcha,
    password_body,
    record_bodies,
)

RECOVERY = "/api/v1/auth/recovery"


async def test_profile_shows_the_owner_their_email(portal: Portal) -> None:
    assert (await portal.client.get(PROFILE)).status_code == 401
    headers = await portal.login(RESIDENT.account_number, DEMO_PASSWORD)
    response = await portal.client.get(PROFILE, headers=headers)
    assert response.status_code == 200
    assert response.json() == {
        "account_number": RESIDENT.account_number,
        "email": RESIDENT_EMAIL,
        "email_masked": "k***@demo.kabinet.local",
    }
    neighbour = await portal.login(NEIGHBOUR.account_number, DEMO_PASSWORD)
    assert (await portal.client.get(PROFILE, headers=neighbour)).json()["account_number"] == (
        NEIGHBOUR.account_number
    )


async def test_email_change_end_to_end(portal: Portal, answers: Answers) -> None:
    record_bodies(portal, answers)
    headers = await portal.login(RESIDENT.account_number, DEMO_PASSWORD)
    summary_before = (await portal.client.get(ACCOUNT, headers=headers)).json()
    captcha = await new_captcha(portal, headers, "email_change")
    body = email_body(captcha["captcha_id"], answers.last, new_email_repeat=NEW_EMAIL.upper())
    response = await portal.client.post(EMAIL, json=body, headers=headers)
    assert response.status_code == 200, response.text
    assert response.json()["email_masked"] == "n***@example.ru"
    assert "уведомление" in response.json()["message"]

    profile = (await portal.client.get(PROFILE, headers=headers)).json()
    assert profile["email"] == NEW_EMAIL
    assert (await portal.client.get(ACCOUNT, headers=headers)).json() == summary_before

    notice, confirmation = portal.letters()
    assert notice["To"] == RESIDENT_EMAIL
    assert "изменён" in notice["Subject"]
    text = notice.get_content()
    assert RESIDENT.account_number in text and "n***@example.ru" in text and NEW_EMAIL not in text
    assert confirmation["To"] == NEW_EMAIL
    assert RESIDENT.account_number in confirmation.get_content()

    # Password recovery now goes to the new address only.
    await portal.client.post(
        RECOVERY, json={"account_number": RESIDENT.account_number, "email": RESIDENT_EMAIL}
    )
    assert len(portal.letters()) == 2
    await portal.client.post(RECOVERY, json={"account_number": RESIDENT.account_number, "email": NEW_EMAIL})
    assert portal.letters()[-1]["To"] == NEW_EMAIL
    answers.assert_never_sent()


@pytest.mark.parametrize(
    ("changes", "status", "code", "field"),
    [
        (
            {"new_email": "not-an-address", "new_email_repeat": "not-an-address"},
            422,
            "invalid_email",
            "new_email",
        ),
        ({"new_email_repeat": "other@example.ru"}, 422, "emails_differ", "new_email_repeat"),
        ({"current_password": "Wrong-Password-1"}, 409, "current_password_wrong", "current_password"),
    ],
)
async def test_email_change_refusals_keep_the_captcha(
    portal: Portal, answers: Answers, changes: dict[str, str], status: int, code: str, field: str
) -> None:
    headers = await portal.login(RESIDENT.account_number, DEMO_PASSWORD)
    captcha = await new_captcha(portal, headers, "email_change")
    response = await portal.client.post(
        EMAIL, json=email_body(captcha["captcha_id"], answers.last, **changes), headers=headers
    )
    assert response.status_code == status, response.text
    error = response.json()
    assert (error["code"], error["field"]) == (code, field)
    assert error["message"].startswith("Поле «")
    assert (await portal.client.get(PROFILE, headers=headers)).json()["email"] == RESIDENT_EMAIL
    assert portal.letters() == []
    # A refused form did not cost the captcha: the corrected form goes through with it.
    response = await portal.client.post(
        EMAIL, json=email_body(captcha["captcha_id"], answers.last), headers=headers
    )
    assert response.status_code == 200, response.text


async def test_the_same_email_again_is_refused(portal: Portal, answers: Answers) -> None:
    headers = await portal.login(RESIDENT.account_number, DEMO_PASSWORD)
    captcha = await new_captcha(portal, headers, "email_change")
    response = await portal.client.post(
        EMAIL, json=email_body(captcha["captcha_id"], answers.last), headers=headers
    )
    assert response.status_code == 200, response.text
    captcha = await new_captcha(portal, headers, "email_change")
    same = NEW_EMAIL.upper()
    response = await portal.client.post(
        EMAIL,
        json=email_body(captcha["captcha_id"], answers.last, new_email=same, new_email_repeat=same),
        headers=headers,
    )
    assert response.status_code == 409
    error = response.json()
    assert (error["code"], error["field"]) == ("email_unchanged", "new_email")
    assert len(portal.letters()) == 2


async def test_email_change_needs_every_field(portal: Portal) -> None:
    headers = await portal.login(RESIDENT.account_number, DEMO_PASSWORD)
    body = email_body("id", "AAAAA")
    del body["current_password"]
    response = await portal.client.post(EMAIL, json=body, headers=headers)
    assert response.status_code == 422
    assert response.json()["field"] == "current_password"
    assert "«Текущий пароль»" in response.json()["message"]
    response = await portal.client.post(EMAIL, json=email_body("id", "AAAAA"))
    assert response.status_code == 401


async def test_password_change_ends_the_other_sessions(portal: Portal, answers: Answers) -> None:
    record_bodies(portal, answers)
    number = RESIDENT.account_number
    this = await portal.login(number, DEMO_PASSWORD)
    other = await portal.login(number, DEMO_PASSWORD)
    neighbour = await portal.login(NEIGHBOUR.account_number, DEMO_PASSWORD)
    # Both sessions were used (and so remembered by the session cache) before the change.
    for headers in (this, other):
        assert (await portal.client.get(ACCOUNT, headers=headers)).status_code == 200

    captcha = await new_captcha(portal, this, "password_change")
    response = await portal.client.post(
        PASSWORD, json=password_body(captcha["captcha_id"], answers.last), headers=this
    )
    assert response.status_code == 204, response.text

    assert (await portal.client.get(SESSION, headers=other)).status_code == 401
    assert (await portal.client.get(ACCOUNT, headers=other)).status_code == 401
    assert (await portal.client.get(SESSION, headers=this)).status_code == 200
    assert (await portal.client.get(ACCOUNT, headers=this)).status_code == 200
    assert (await portal.client.get(SESSION, headers=neighbour)).status_code == 200

    assert await portal.login_status(number, DEMO_PASSWORD) == 401
    assert await portal.login_status(number, NEW_PASSWORD) == 200

    (notice,) = portal.letters()
    assert notice["To"] == RESIDENT_EMAIL
    assert "изменён" in notice["Subject"] and number in notice.get_content()
    assert NEW_PASSWORD not in notice.get_content() and DEMO_PASSWORD not in notice.get_content()
    answers.assert_never_sent()


@pytest.mark.parametrize(
    ("changes", "status", "code", "field"),
    [
        ({"new_password": "short", "new_password_repeat": "short"}, 422, "weak_password", "new_password"),
        (
            {"new_password": "password123", "new_password_repeat": "password123"},
            422,
            "weak_password",
            "new_password",
        ),
        ({"new_password_repeat": "Quiet-Harbour-Lamp-59"}, 422, "passwords_differ", "new_password_repeat"),
        ({"current_password": "Wrong-Password-1"}, 409, "current_password_wrong", "current_password"),
        (
            {"new_password": DEMO_PASSWORD, "new_password_repeat": DEMO_PASSWORD},
            409,
            "password_unchanged",
            "new_password",
        ),
    ],
)
async def test_password_change_refusals(
    portal: Portal, answers: Answers, changes: dict[str, str], status: int, code: str, field: str
) -> None:
    number = RESIDENT.account_number
    this = await portal.login(number, DEMO_PASSWORD)
    other = await portal.login(number, DEMO_PASSWORD)
    captcha = await new_captcha(portal, this, "password_change")
    response = await portal.client.post(
        PASSWORD, json=password_body(captcha["captcha_id"], answers.last, **changes), headers=this
    )
    assert response.status_code == status, response.text
    error = response.json()
    assert (error["code"], error["field"]) == (code, field)
    assert re.match(r"Поле «(Текущий пароль|Новый пароль|Новый пароль повторно)»", error["message"])
    # Nothing changed: the other session lives, the old password works, no letter.
    assert (await portal.client.get(SESSION, headers=other)).status_code == 200
    assert await portal.login_status(number, DEMO_PASSWORD) == 200
    assert portal.letters() == []
    # ... and the captcha is still there for the corrected form.
    response = await portal.client.post(
        PASSWORD, json=password_body(captcha["captcha_id"], answers.last), headers=this
    )
    assert response.status_code == 204, response.text


async def test_wrong_current_passwords_are_throttled(portal: Portal, answers: Answers) -> None:
    number = RESIDENT.account_number
    headers = await portal.login(number, DEMO_PASSWORD)
    captcha = await new_captcha(portal, headers, "password_change")
    wrong = password_body(captcha["captcha_id"], answers.last, current_password="Wrong-Password-1")
    statuses = []
    for _ in range(portal.settings.throttle_free_failures + 1):
        response = await portal.client.post(PASSWORD, json=wrong, headers=headers)
        statuses.append(response.status_code)
    assert statuses[:-1] == [409] * portal.settings.throttle_free_failures
    assert statuses[-1] == 429
    # Now even the right password waits (the cool-down is the login's), and says for how long.
    right = password_body(captcha["captcha_id"], answers.last)
    response = await portal.client.post(PASSWORD, json=right, headers=headers)
    assert response.status_code == 429
    assert response.json()["code"] == "too_many_attempts"
    assert int(response.headers["Retry-After"]) > 0
    assert await portal.login_status(number, DEMO_PASSWORD) == 429
