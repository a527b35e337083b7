"""«Профиль» at 80×24 on the embedded demo: the e-mail and the password changed behind a captcha."""

from __future__ import annotations

from pathlib import Path

import pytest
from textual.pilot import Pilot
from textual.widgets import Input, Static, TabbedContent

from portal.demo.accounts import HAPPY_PATH_APARTMENT, demo_email
from portal.mail.mailer import read_outbox
from screens.profile import ProfileScreen
from tests.support.app import (
    HAPPY,
    PASSWORD,
    assert_in_view,
    login,
    make_app,
    screen_name,
    type_into,
    wait_for,
)
from tests.support.captcha import Answers
from tui.client import PortalClient
from tui.errors import LoginFailed
from widgets.captcha import CaptchaImage

NEW_EMAIL = "new.address@example.ru"
NEW_PASSWORD = "Quiet-Harbour-Lamp-58"


def message(pilot: Pilot[None], form: str) -> str:
    return str(pilot.app.screen.query_one(f"#{form}-message", Static).render())


def value(pilot: Pilot[None], input_id: str) -> str:
    field: Input = pilot.app.screen.query_one(f"#{input_id}", Input)
    return field.value


async def open_profile(pilot: Pilot[None], answers: Answers) -> ProfileScreen:
    await login(pilot)
    await wait_for(pilot, lambda: screen_name(pilot) == "HomeScreen")
    await pilot.press("p")
    await wait_for(pilot, lambda: screen_name(pilot) == "ProfileScreen")
    screen = pilot.app.screen
    assert isinstance(screen, ProfileScreen)
    await wait_for(pilot, lambda: screen.captchas["email"] is not None and len(answers.issued) == 1)
    return screen


async def test_change_email_with_a_wrong_then_the_right_code(
    tmp_path: Path, app_data_dir: Path, answers: Answers
) -> None:
    old = demo_email(HAPPY_PATH_APARTMENT)
    app = make_app(tmp_path, app_data_dir)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_profile(pilot, answers)
        await wait_for(pilot, lambda: old in str(screen.query_one("#email-current", Static).render()))
        image = screen.query_one("#email-captcha-image", CaptchaImage)
        assert 0 < image.image_size.width <= 44 and 0 < image.image_size.height <= 8
        first_image = image.pixels

        await type_into(pilot, "#email-new", NEW_EMAIL)
        await type_into(pilot, "#email-new-repeat", NEW_EMAIL)
        await type_into(pilot, "#email-current-password", PASSWORD)
        wrong = "AAAAA" if answers.last != "AAAAA" else "CCCCC"
        await type_into(pilot, "#email-captcha", wrong)
        await pilot.press("enter")
        await wait_for(pilot, lambda: "неверно" in message(pilot, "email"))
        assert "Код с картинки" in message(pilot, "email")
        # A new picture, the code field emptied and focused, the rest kept.
        await wait_for(pilot, lambda: len(answers.issued) == 2 and screen.captchas["email"] is not None)
        await wait_for(pilot, lambda: image.pixels != first_image)
        assert value(pilot, "email-captcha") == ""
        assert screen.focused is screen.query_one("#email-captcha", Input)
        assert value(pilot, "email-new") == value(pilot, "email-new-repeat") == NEW_EMAIL
        assert value(pilot, "email-current-password") == PASSWORD

        await type_into(pilot, "#email-captcha", answers.last.lower())  # any case will do
        await pilot.press("enter")
        await wait_for(pilot, lambda: "изменён" in message(pilot, "email"))
        masked_old = f"{old[0]}***@{old.split('@')[1]}"
        assert masked_old in message(pilot, "email") or old in message(pilot, "email")
        await wait_for(pilot, lambda: NEW_EMAIL in str(screen.query_one("#email-current", Static).render()))
        assert app.embedded is not None
        outbox = app.embedded.outbox_dir
        await wait_for(pilot, lambda: len(read_outbox(outbox)) >= 2)
        recipients = {letter["To"] for letter in read_outbox(outbox)}
        assert recipients == {old, NEW_EMAIL}


async def test_email_form_is_checked_before_asking(
    tmp_path: Path, app_data_dir: Path, answers: Answers
) -> None:
    app = make_app(tmp_path, app_data_dir)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_profile(pilot, answers)
        await type_into(pilot, "#email-new", "not-an-address")
        await pilot.press("f2")
        assert "«Новый e-mail»" in message(pilot, "email")
        await type_into(pilot, "#email-new", NEW_EMAIL)
        await type_into(pilot, "#email-new-repeat", "other@example.ru")
        await pilot.press("f2")
        assert "«Новый e-mail повторно»" in message(pilot, "email")
        assert screen.focused is screen.query_one("#email-new-repeat", Input)
        assert len(answers.issued) == 1  # no request was made, the picture is still good


async def test_change_password_rules_then_success_and_log_in_with_it(
    tmp_path: Path, app_data_dir: Path, answers: Answers
) -> None:
    app = make_app(tmp_path, app_data_dir)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_profile(pilot, answers)
        tabs = screen.query_one("#profile-tabs", TabbedContent)
        tabs.active = "password-tab"
        await wait_for(pilot, lambda: screen.captchas["password"] is not None and len(answers.issued) == 2)
        await wait_for(pilot, lambda: screen.form == "password")  # the tab's message is handled

        await type_into(pilot, "#password-current", PASSWORD)
        await type_into(pilot, "#password-new", "short")
        await type_into(pilot, "#password-new-repeat", "short")
        await type_into(pilot, "#password-captcha", answers.last)
        await pilot.press("f2")
        assert "«Новый пароль»" in message(pilot, "password") and "8" in message(pilot, "password")

        await type_into(pilot, "#password-new", HAPPY)
        await pilot.press("f2")
        assert "лицевого счета" in message(pilot, "password")

        await type_into(pilot, "#password-new", NEW_PASSWORD)
        await type_into(pilot, "#password-new-repeat", NEW_PASSWORD + "x")
        await pilot.press("f2")
        assert "«Новый пароль повторно»" in message(pilot, "password")

        # A wrong current password: the portal says so, the picture is replaced, the rest kept.
        await type_into(pilot, "#password-new-repeat", NEW_PASSWORD)
        await type_into(pilot, "#password-current", "Wrong-Pass-1234")
        await pilot.press("f2")
        await wait_for(pilot, lambda: "«Текущий пароль»" in message(pilot, "password"))
        await wait_for(pilot, lambda: len(answers.issued) == 3 and screen.captchas["password"] is not None)
        assert value(pilot, "password-new") == value(pilot, "password-new-repeat") == NEW_PASSWORD

        await type_into(pilot, "#password-current", PASSWORD)
        await type_into(pilot, "#password-captcha", answers.last)
        await pilot.press("enter")
        await wait_for(pilot, lambda: "Пароль изменён" in message(pilot, "password"))
        assert value(pilot, "password-current") == value(pilot, "password-new") == ""

        assert app.embedded is not None
        async with PortalClient(transport=app.embedded.transport) as fresh:
            with pytest.raises(LoginFailed):
                await fresh.login(HAPPY, PASSWORD)
            session = await fresh.login(HAPPY, NEW_PASSWORD)
            assert session is not None


async def test_new_picture_on_request(tmp_path: Path, app_data_dir: Path, answers: Answers) -> None:
    app = make_app(tmp_path, app_data_dir)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_profile(pilot, answers)
        first = screen.captchas["email"]
        await pilot.press("f5")
        await wait_for(pilot, lambda: len(answers.issued) == 2 and screen.captchas["email"] is not first)
        screen.query_one("#email-save").focus()
        await pilot.press("к")  # r in the Russian layout, outside a field
        await wait_for(pilot, lambda: len(answers.issued) == 3)


async def test_every_field_the_code_and_the_message_are_in_view_at_80x24(
    tmp_path: Path, app_data_dir: Path, answers: Answers
) -> None:
    """Nothing to type or read on either form is below the visible area; F3/F4 switch the forms."""
    app = make_app(tmp_path, app_data_dir)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_profile(pilot, answers)
        email_form = ["#email-new", "#email-new-repeat", "#email-current-password"]
        email_form += ["#email-captcha-image", "#email-captcha", "#email-save"]
        assert_in_view(pilot, *email_form)
        # A local error: the message and the field it focuses are on screen.
        await type_into(pilot, "#email-new", NEW_EMAIL)
        await type_into(pilot, "#email-new-repeat", NEW_EMAIL)
        await type_into(pilot, "#email-current-password", PASSWORD)
        await pilot.press("f2")
        await wait_for(pilot, lambda: "Код с картинки" in message(pilot, "email"))
        assert screen.focused is screen.query_one("#email-captcha", Input)
        assert_in_view(pilot, "#email-captcha", "#email-message", *email_form)
        # The portal's error (a wrong code) with its new picture: still all in view.
        await type_into(pilot, "#email-captcha", "AAAAA" if answers.last != "AAAAA" else "CCCCC")
        await pilot.press("enter")
        await wait_for(pilot, lambda: "неверно" in message(pilot, "email"))
        await wait_for(pilot, lambda: len(answers.issued) == 2 and screen.captchas["email"] is not None)
        assert_in_view(pilot, "#email-message", *email_form)

        # F4: the password form, its first field focused, without Tab to the tab strip.
        await pilot.press("f4")
        await wait_for(pilot, lambda: screen.captchas["password"] is not None)
        assert screen.query_one("#profile-tabs", TabbedContent).active == "password-tab"
        assert screen.focused is screen.query_one("#password-current", Input)
        password_form = ["#password-current", "#password-new", "#password-new-repeat"]
        password_form += ["#password-captcha-image", "#password-captcha", "#password-save"]
        assert_in_view(pilot, *password_form)
        await type_into(pilot, "#password-current", PASSWORD)
        await type_into(pilot, "#password-new", "short")
        await pilot.press("f2")
        await wait_for(pilot, lambda: "не менее" in message(pilot, "password"))
        assert screen.focused is screen.query_one("#password-new", Input)
        assert_in_view(pilot, "#password-message", *password_form)
        await pilot.press(*"-and-longer")  # the field is fixed: its message goes
        await pilot.pause()
        assert message(pilot, "password") == ""
        # F3: back to the e-mail form, what was typed there kept.
        await pilot.press("f3")
        assert screen.query_one("#profile-tabs", TabbedContent).active == "email-tab"
        assert screen.focused is screen.query_one("#email-new", Input)
        assert value(pilot, "email-new") == NEW_EMAIL
