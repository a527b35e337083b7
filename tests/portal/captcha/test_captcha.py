"""Captcha images: drawn legibly, answer never sent, single use, one purpose, one account, 3 attempts."""

from __future__ import annotations

import asyncio
import base64
import datetime as dt
import io

from PIL import Image
from sqlalchemy import select

from portal.captcha.service import CAPTCHA_ALPHABET, CAPTCHA_LENGTH, normalise_answer
from portal.demo.accounts import DEMO_PASSWORD
from portal.models import Account, Captcha
from tests.conftest import TEST_NOW, Portal
from tests.support.captcha import (
    CAPTCHA,
    EMAIL,
    NEIGHBOUR,
    NEW_EMAIL,
    PASSWORD,
    PROFILE,
    RESIDENT,
    Answers,
    email_body,
    new_captcha,
    password_body,
    record_bodies,
)


async def captcha_rows(portal: Portal, number: str = RESIDENT.account_number) -> list[Captcha]:
    async with portal.state.sessionmaker() as session:
        account_id = await session.scalar(select(Account.id).where(Account.number == number))
        rows = await session.scalars(select(Captcha).where(Captcha.account_id == account_id))
        return list(rows)


async def test_new_captcha_is_a_legible_png_without_its_answer(portal: Portal, answers: Answers) -> None:
    record_bodies(portal, answers)
    headers = await portal.login(RESIDENT.account_number, DEMO_PASSWORD)
    body = await new_captcha(portal, headers, "password_change")

    assert set(body) == {"captcha_id", "image_png_base64", "width", "height", "expires_at", "attempts_left"}
    assert body["attempts_left"] == 3
    assert (body["width"], body["height"]) == (200, 70)
    assert dt.datetime.fromisoformat(body["expires_at"]) == TEST_NOW + dt.timedelta(minutes=5)
    png = base64.b64decode(body["image_png_base64"], validate=True)
    image = Image.open(io.BytesIO(png))
    assert image.format == "PNG"
    assert image.size == (200, 70)

    answer = answers.last
    assert len(answer) == CAPTCHA_LENGTH and set(answer) <= set(CAPTCHA_ALPHABET)
    assert not set(answer) & set("0O1IL")
    # Dark characters on white: at the terminal's ~70×24 pixels there is still ink to read.
    small = image.convert("L").resize((70, 24), Image.Resampling.BOX)
    dark = sum(1 for value in small.tobytes() if value < 128)
    assert 0.08 * 70 * 24 < dark < 0.6 * 70 * 24

    (row,) = await captcha_rows(portal)
    assert row.public_id == body["captcha_id"]
    assert answer not in row.answer_hmac.upper() and len(row.answer_hmac) == 64
    assert row.purpose == "password_change" and row.attempts_left == 3
    answers.assert_never_sent()


async def test_answers_differ_and_the_alphabet_has_no_look_alikes(answers: Answers) -> None:
    from portal.captcha import service

    drawn = {service.new_answer() for _ in range(50)}
    assert len(drawn) > 45
    for look_alike in "0O1IlLQ5S8BZGMW":
        assert look_alike not in CAPTCHA_ALPHABET
    assert normalise_answer(" ab c\td ") == "ABCD"


async def test_captcha_needs_a_session_and_a_known_purpose(portal: Portal) -> None:
    response = await portal.client.post(CAPTCHA, json={"purpose": "email_change"})
    assert response.status_code == 401
    headers = await portal.login(RESIDENT.account_number, DEMO_PASSWORD)
    response = await portal.client.post(CAPTCHA, json={"purpose": "login"}, headers=headers)
    assert response.status_code == 422
    error = response.json()
    assert error["code"] == "invalid_purpose" and error["field"] == "purpose"
    assert "email_change, password_change" in error["message"]
    response = await portal.client.post(CAPTCHA, json={}, headers=headers)
    assert response.status_code == 422
    assert response.json()["field"] == "purpose"


async def test_right_answer_passes_once(portal: Portal, answers: Answers) -> None:
    record_bodies(portal, answers)
    headers = await portal.login(RESIDENT.account_number, DEMO_PASSWORD)
    captcha = await new_captcha(portal, headers, "email_change")
    # Case and spaces do not matter.
    typed = " ".join(answers.last.lower())
    response = await portal.client.post(EMAIL, json=email_body(captcha["captcha_id"], typed), headers=headers)
    assert response.status_code == 200, response.text
    assert await captcha_rows(portal) == []

    # The same captcha again (with its right answer) is refused.
    again = email_body(
        captcha["captcha_id"], answers.last, new_email="x@example.ru", new_email_repeat="x@example.ru"
    )
    response = await portal.client.post(EMAIL, json=again, headers=headers)
    assert response.status_code == 409
    assert response.json()["code"] == "captcha_invalid"
    assert response.json()["field"] == "captcha_answer"
    assert (await portal.client.get(PROFILE, headers=headers)).json()["email"] == NEW_EMAIL
    answers.assert_never_sent()


async def test_wrong_answers_spend_the_attempts(portal: Portal, answers: Answers) -> None:
    record_bodies(portal, answers)
    headers = await portal.login(RESIDENT.account_number, DEMO_PASSWORD)
    captcha = await new_captcha(portal, headers, "password_change")
    right = answers.last
    wrong = "".join("A" if c != "A" else "C" for c in right)
    for left in (2, 1):
        response = await portal.client.post(
            PASSWORD, json=password_body(captcha["captcha_id"], wrong), headers=headers
        )
        assert response.status_code == 409
        error = response.json()
        assert error["code"] == "captcha_wrong" and error["field"] == "captcha_answer"
        assert "код с новой картинки" in error["message"] and "неверно" in error["message"]
        # The attempt is counted although the request failed and rolled back.
        (row,) = await captcha_rows(portal)
        assert row.attempts_left == left

    # The third wrong answer spends the last attempt: the captcha dies.
    response = await portal.client.post(
        PASSWORD, json=password_body(captcha["captcha_id"], wrong), headers=headers
    )
    assert response.json()["code"] == "captcha_wrong"
    assert await captcha_rows(portal) == []
    response = await portal.client.post(
        PASSWORD, json=password_body(captcha["captcha_id"], right), headers=headers
    )
    assert response.status_code == 409
    assert response.json()["code"] == "captcha_invalid"
    # The password stayed.
    await portal.login(RESIDENT.account_number, DEMO_PASSWORD)
    answers.assert_never_sent()


async def test_expired_captcha_is_refused(portal: Portal, answers: Answers) -> None:
    headers = await portal.login(RESIDENT.account_number, DEMO_PASSWORD)
    captcha = await new_captcha(portal, headers, "password_change")
    portal.clock.advance(dt.timedelta(minutes=5, seconds=1))
    response = await portal.client.post(
        PASSWORD, json=password_body(captcha["captcha_id"], answers.last), headers=headers
    )
    assert response.status_code == 409
    assert response.json()["code"] == "captcha_invalid"
    assert "устарела" in response.json()["message"]


async def test_captcha_of_another_purpose_is_refused(portal: Portal, answers: Answers) -> None:
    headers = await portal.login(RESIDENT.account_number, DEMO_PASSWORD)
    captcha = await new_captcha(portal, headers, "email_change")
    response = await portal.client.post(
        PASSWORD, json=password_body(captcha["captcha_id"], answers.last), headers=headers
    )
    assert response.status_code == 409
    assert response.json()["code"] == "captcha_invalid"
    # Refused for the password, untouched for its own purpose.
    (row,) = await captcha_rows(portal)
    assert row.attempts_left == 3
    response = await portal.client.post(
        EMAIL, json=email_body(captcha["captcha_id"], answers.last), headers=headers
    )
    assert response.status_code == 200, response.text


async def test_captcha_of_another_account_is_refused(portal: Portal, answers: Answers) -> None:
    owner = await portal.login(RESIDENT.account_number, DEMO_PASSWORD)
    neighbour = await portal.login(NEIGHBOUR.account_number, DEMO_PASSWORD)
    captcha = await new_captcha(portal, owner, "password_change")
    for wrong_answer in (answers.last, "AAAAA"):
        response = await portal.client.post(
            PASSWORD, json=password_body(captcha["captcha_id"], wrong_answer), headers=neighbour
        )
        assert response.status_code == 409
        assert response.json()["code"] == "captcha_invalid"
    # The neighbour neither used it nor spent its attempts; the neighbour's password stayed.
    (row,) = await captcha_rows(portal)
    assert row.attempts_left == 3
    await portal.login(NEIGHBOUR.account_number, DEMO_PASSWORD)
    response = await portal.client.post(
        PASSWORD, json=password_body(captcha["captcha_id"], answers.last), headers=owner
    )
    assert response.status_code == 204, response.text


async def test_a_new_captcha_replaces_the_previous_one_of_its_purpose(
    portal: Portal, answers: Answers
) -> None:
    headers = await portal.login(RESIDENT.account_number, DEMO_PASSWORD)
    for_email = await new_captcha(portal, headers, "email_change")
    first = await new_captcha(portal, headers, "password_change")
    first_answer = answers.last
    second = await new_captcha(portal, headers, "password_change")
    assert second["captcha_id"] != first["captcha_id"]
    assert {row.public_id for row in await captcha_rows(portal)} == {
        for_email["captcha_id"],
        second["captcha_id"],
    }
    response = await portal.client.post(
        PASSWORD, json=password_body(first["captcha_id"], first_answer), headers=headers
    )
    assert response.json()["code"] == "captcha_invalid"
    response = await portal.client.post(
        PASSWORD, json=password_body(second["captcha_id"], answers.last), headers=headers
    )
    assert response.status_code == 204, response.text


async def test_two_concurrent_uses_of_one_captcha_only_one_passes(portal: Portal, answers: Answers) -> None:
    headers = await portal.login(RESIDENT.account_number, DEMO_PASSWORD)
    captcha = await new_captcha(portal, headers, "email_change")
    emails = ["first@example.ru", "second@example.ru"]
    responses = await asyncio.gather(
        *(
            portal.client.post(
                EMAIL,
                json=email_body(captcha["captcha_id"], answers.last, new_email=e, new_email_repeat=e),
                headers=headers,
            )
            for e in emails
        )
    )
    statuses = sorted(r.status_code for r in responses)
    assert statuses == [200, 409], [r.text for r in responses]
    refused = next(r for r in responses if r.status_code == 409)
    assert refused.json()["code"] == "captcha_invalid"
    winner = emails[[r.status_code for r in responses].index(200)]
    assert (await portal.client.get(PROFILE, headers=headers)).json()["email"] == winner
