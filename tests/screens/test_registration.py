"""Registration and password recovery in the terminal, driven with the keyboard at 80×24."""

from __future__ import annotations

import re
from decimal import Decimal
from pathlib import Path

from textual.pilot import Pilot
from textual.widgets import Checkbox, Input, Static

from app import KabinetApp
from portal.mail.mailer import read_outbox
from screens.recovery import RecoveryScreen
from screens.registration import RegistrationScreen
from tests.support.app import (
    login,
    make_app,
    screen_name,
    text_of,
    top_screen,
    type_into,
    wait_for,
    wait_ready,
)

UNREGISTERED = "3500012012"
REGISTERED = "3500012007"
REGISTERED_EMAIL = "kv7@demo.kabinet.local"
NEW_EMAIL = "new.resident@example.ru"


async def receipt_total(data_dir: Path, number: str) -> Decimal:
    """The last receipt's total of an unregistered demo account, as the embedded portal computes it."""
    from sqlalchemy.ext.asyncio import async_sessionmaker, create_async_engine

    from portal.demo.accounts import describe_demo_accounts

    engine = create_async_engine(f"sqlite+aiosqlite:///{data_dir / 'portal.sqlite3'}")
    try:
        async with async_sessionmaker(engine)() as session:
            rows = await describe_demo_accounts(session)
    finally:
        await engine.dispose()
    (row,) = [row for row in rows if row["account_number"] == number]
    assert row["receipt_total"] is not None
    return Decimal(str(row["receipt_total"]))


def as_typed(total: Decimal) -> str:
    """``1 234,56``: thousands apart with a space, a comma before the kopecks, as on many receipts."""
    rubles, kopecks = divmod(int(total * 100), 100)
    return f"{rubles:,}".replace(",", " ") + f",{kopecks:02d}"


def letters_to(app: KabinetApp, address: str) -> list[str]:
    assert app.embedded is not None
    outbox = app.embedded.outbox_dir
    if not outbox.exists():
        return []
    return [letter.get_content() for letter in read_outbox(outbox) if letter["To"] == address]


def value_of(pilot: Pilot[None], selector: str) -> str:
    return pilot.app.screen.query_one(selector, Input).value


async def open_registration(pilot: Pilot[None]) -> None:
    await wait_ready(pilot)
    await pilot.press("f3")
    await wait_for(pilot, lambda: screen_name(pilot) == "RegistrationScreen")


async def find_account(pilot: Pilot[None], number: str) -> None:
    await type_into(pilot, "#account-number", number)
    await pilot.press("enter")
    await wait_for(pilot, lambda: top_screen(pilot.app, RegistrationScreen).step == "details")


async def fill_details(pilot: Pilot[None], total: str, email: str, repeat: str, *, accept: bool) -> None:
    await type_into(pilot, "#receipt-total", total)
    await type_into(pilot, "#email", email)
    await type_into(pilot, "#email-repeat", repeat)
    pilot.app.screen.query_one("#accept-terms", Checkbox).value = accept
    await pilot.pause()


# --- registration ----------------------------------------------------------------------------------


async def test_f3_opens_registration_and_an_unknown_account_is_named(
    tmp_path: Path, app_data_dir: Path
) -> None:
    app = make_app(tmp_path, app_data_dir)
    async with app.run_test(size=(80, 24)) as pilot:
        await open_registration(pilot)
        labels = {active.binding.description for active in app.screen.active_bindings.values()}
        assert "Найти" in labels and "Назад" in labels and "Зарегистрироваться" not in labels
        await type_into(pilot, "#account-number", "3500099999")
        await pilot.press("enter")
        await wait_for(pilot, lambda: "не найден" in text_of(pilot, "#account-number-error"))
        assert text_of(pilot, "#account-number-error").startswith("✗")
        assert value_of(pilot, "#account-number") == "3500099999"
        assert top_screen(app, RegistrationScreen).step == "account"
        await pilot.press("escape")
        await wait_for(pilot, lambda: screen_name(pilot) == "LoginScreen")


async def test_a_short_number_is_refused_before_asking_the_portal(tmp_path: Path, app_data_dir: Path) -> None:
    app = make_app(tmp_path, app_data_dir)
    async with app.run_test(size=(80, 24)) as pilot:
        await open_registration(pilot)
        await type_into(pilot, "#account-number", "123")
        await pilot.press("f2")
        assert "Лицевой счет" in text_of(pilot, "#account-number-error")
        assert "от 6 до 20 цифр" in text_of(pilot, "#account-number-error")


async def test_registration_mails_a_password_that_logs_in(tmp_path: Path, app_data_dir: Path) -> None:
    total = await receipt_total(app_data_dir, UNREGISTERED)
    typed_total = as_typed(total)
    assert " " in typed_total and "," in typed_total  # the receipt's way of writing it
    app = make_app(tmp_path, app_data_dir)
    async with app.run_test(size=(80, 24)) as pilot:
        await open_registration(pilot)
        await find_account(pilot, UNREGISTERED)
        found = text_of(pilot, "#registration-found")
        assert UNREGISTERED in found and "кв. **" in found
        account = app.screen.query_one("#account-number", Input)
        assert account.disabled and account.value == UNREGISTERED  # visible, read-only
        labels = {active.binding.description for active in app.screen.active_bindings.values()}
        assert "Зарегистрироваться" in labels and "Условия соглашения" in labels

        # Enter walks the fields; Enter on the last e-mail goes to the terms until they are accepted.
        await type_into(pilot, "#receipt-total", typed_total)
        await pilot.press("enter")
        assert app.screen.focused is app.screen.query_one("#email")
        await pilot.press(*NEW_EMAIL, "enter", *NEW_EMAIL, "enter")
        assert app.screen.focused is app.screen.query_one("#accept-terms")
        await pilot.press("space", "f2")
        await wait_for(pilot, lambda: top_screen(app, RegistrationScreen).step == "done")
        success = text_of(pilot, "#registration-success")
        assert "Регистрация завершена" in success and "@example.ru" in success
        assert NEW_EMAIL not in success  # masked on a possibly shared screen

        await wait_for(pilot, lambda: bool(letters_to(app, NEW_EMAIL)))
        match = re.search(r"Пароль: (\S+)", letters_to(app, NEW_EMAIL)[0])
        assert match is not None
        password = match.group(1)

        await pilot.press("enter")  # «Перейти ко входу»
        await wait_for(pilot, lambda: screen_name(pilot) == "LoginScreen")
        assert value_of(pilot, "#account-number") == UNREGISTERED
        assert app.screen.focused is app.screen.query_one("#password")  # only the password to type
        await login(pilot, UNREGISTERED, password)
        await wait_for(pilot, lambda: screen_name(pilot) == "HomeScreen")


async def test_differing_emails_are_named_and_nothing_typed_is_lost(
    tmp_path: Path, app_data_dir: Path
) -> None:
    app = make_app(tmp_path, app_data_dir)
    async with app.run_test(size=(80, 24)) as pilot:
        await open_registration(pilot)
        await find_account(pilot, UNREGISTERED)
        await fill_details(pilot, "1023,12", NEW_EMAIL, "other@example.ru", accept=True)
        await pilot.press("f2")
        error = text_of(pilot, "#email-repeat-error")
        assert "Введите e-mail повторно" in error and "не совпадает" in error
        assert app.screen.focused is app.screen.query_one("#email-repeat")
        assert value_of(pilot, "#receipt-total") == "1023,12"
        assert value_of(pilot, "#email") == NEW_EMAIL
        assert value_of(pilot, "#email-repeat") == "other@example.ru"
        assert app.screen.query_one("#accept-terms", Checkbox).value


async def test_terms_must_be_accepted_and_can_be_read(tmp_path: Path, app_data_dir: Path) -> None:
    app = make_app(tmp_path, app_data_dir)
    async with app.run_test(size=(80, 24)) as pilot:
        await open_registration(pilot)
        await find_account(pilot, UNREGISTERED)
        await fill_details(pilot, "1023,12", NEW_EMAIL, NEW_EMAIL, accept=False)
        await pilot.press("f2")
        assert "Принять условия соглашения" in text_of(pilot, "#accept-terms-error")
        assert app.screen.focused is app.screen.query_one("#accept-terms")
        await pilot.press("f3")
        assert screen_name(pilot) == "TermsDialog"
        assert "152-ФЗ" in text_of(pilot, "#terms-text")
        await pilot.press("escape")
        assert screen_name(pilot) == "RegistrationScreen"
        assert value_of(pilot, "#email") == NEW_EMAIL


async def test_a_badly_written_total_names_the_field_and_the_format(
    tmp_path: Path, app_data_dir: Path
) -> None:
    app = make_app(tmp_path, app_data_dir)
    async with app.run_test(size=(80, 24)) as pilot:
        await open_registration(pilot)
        await find_account(pilot, UNREGISTERED)
        await fill_details(pilot, "1023 руб 12 коп", NEW_EMAIL, NEW_EMAIL, accept=True)
        await pilot.press("f2")
        error = text_of(pilot, "#receipt-total-error")
        assert "Итого к оплате за указанный месяц" in error and "1 023,12" in error
        assert value_of(pilot, "#receipt-total") == "1023 руб 12 коп"


async def test_a_wrong_total_gets_the_one_mismatch_message(tmp_path: Path, app_data_dir: Path) -> None:
    total = await receipt_total(app_data_dir, UNREGISTERED)
    app = make_app(tmp_path, app_data_dir)
    async with app.run_test(size=(80, 24)) as pilot:
        await open_registration(pilot)
        await find_account(pilot, UNREGISTERED)
        wrong = as_typed(total + Decimal("1.00"))
        await fill_details(pilot, wrong, NEW_EMAIL, NEW_EMAIL, accept=True)
        await pilot.press("f2")
        await wait_for(pilot, lambda: "не совпадают" in text_of(pilot, "#registration-message"))
        assert text_of(pilot, "#registration-message").startswith("✗")
        assert top_screen(app, RegistrationScreen).step == "details"
        assert value_of(pilot, "#receipt-total") == wrong
        assert value_of(pilot, "#email") == NEW_EMAIL


async def test_esc_goes_back_a_step_keeping_what_was_typed(tmp_path: Path, app_data_dir: Path) -> None:
    app = make_app(tmp_path, app_data_dir)
    async with app.run_test(size=(80, 24)) as pilot:
        await open_registration(pilot)
        await find_account(pilot, UNREGISTERED)
        await type_into(pilot, "#email", NEW_EMAIL)
        await pilot.press("escape")
        assert top_screen(app, RegistrationScreen).step == "account"
        account = app.screen.query_one("#account-number", Input)
        assert not account.disabled and app.screen.focused is account
        await pilot.press("enter")
        await wait_for(pilot, lambda: top_screen(app, RegistrationScreen).step == "details")
        assert value_of(pilot, "#email") == NEW_EMAIL
        await pilot.press("escape", "escape")
        assert screen_name(pilot) == "LoginScreen"


# --- recovery --------------------------------------------------------------------------------------


async def open_recovery_code_step(pilot: Pilot[None], number: str, email: str) -> None:
    await wait_ready(pilot)
    await pilot.press("f4")
    await wait_for(pilot, lambda: screen_name(pilot) == "RecoveryScreen")
    await type_into(pilot, "#recovery-account", number)
    await pilot.press("enter", *email, "enter")
    await wait_for(pilot, lambda: top_screen(pilot.app, RecoveryScreen).step == "confirm")


async def test_recovery_with_the_code_from_the_letter(tmp_path: Path, app_data_dir: Path) -> None:
    app = make_app(tmp_path, app_data_dir)
    async with app.run_test(size=(80, 24)) as pilot:
        await open_recovery_code_step(pilot, REGISTERED, REGISTERED_EMAIL)
        assert "Если данные верны" in text_of(pilot, "#recovery-sent")
        assert app.screen.query_one("#recovery-account", Input).disabled
        await wait_for(pilot, lambda: bool(letters_to(app, REGISTERED_EMAIL)))
        match = re.search(r"Код восстановления: (\d{3} \d{3})$", letters_to(app, REGISTERED_EMAIL)[-1], re.M)
        assert match is not None  # six digits, in two halves easy to read off a phone
        new_password = "Lenina-12-kvartira"
        await type_into(pilot, "#recovery-code", match.group(1))  # typed as the letter shows it
        await pilot.press("enter", *new_password, "enter", *new_password, "enter")
        await wait_for(pilot, lambda: screen_name(pilot) == "LoginScreen")
        assert value_of(pilot, "#account-number") == REGISTERED
        assert app.screen.focused is app.screen.query_one("#password")
        await login(pilot, REGISTERED, new_password)
        await wait_for(pilot, lambda: screen_name(pilot) == "HomeScreen")


async def test_recovery_answers_the_same_for_a_wrong_email(tmp_path: Path, app_data_dir: Path) -> None:
    app = make_app(tmp_path, app_data_dir)
    async with app.run_test(size=(80, 24)) as pilot:
        await open_recovery_code_step(pilot, REGISTERED, "stranger@example.ru")
        assert "Если данные верны" in text_of(pilot, "#recovery-sent")
        await type_into(pilot, "#recovery-code", "123456")
        await type_into(pilot, "#recovery-new-password", "Lenina-12-kvartira")
        await type_into(pilot, "#recovery-new-password-repeat", "Lenina-12-kvartira")
        await pilot.press("f2")
        await wait_for(pilot, lambda: "Код восстановления неверен" in text_of(pilot, "#recovery-code-error"))
        assert value_of(pilot, "#recovery-code") == "123456"


async def test_the_recovery_code_field_takes_digits_and_says_why_a_letter_is_refused(
    tmp_path: Path, app_data_dir: Path
) -> None:
    app = make_app(tmp_path, app_data_dir)
    async with app.run_test(size=(80, 24)) as pilot:
        await open_recovery_code_step(pilot, REGISTERED, REGISTERED_EMAIL)
        await type_into(pilot, "#recovery-code", "12a3 O45")  # a letter O for a zero, as read off a phone
        assert value_of(pilot, "#recovery-code") == "123 45"
        messages = [notification.message for notification in app._notifications]
        assert any("только цифры" in message and "«a»" in message for message in messages), messages
        await type_into(pilot, "#recovery-new-password", "Lenina-12-kvartira")
        await type_into(pilot, "#recovery-new-password-repeat", "Lenina-12-kvartira")
        await pilot.press("f2")
        await pilot.pause()
        assert "6 цифр" in text_of(pilot, "#recovery-code-error")  # five digits: said before asking


async def test_recovery_password_checks_name_the_fields(tmp_path: Path, app_data_dir: Path) -> None:
    app = make_app(tmp_path, app_data_dir)
    async with app.run_test(size=(80, 24)) as pilot:
        await open_recovery_code_step(pilot, REGISTERED, REGISTERED_EMAIL)
        await type_into(pilot, "#recovery-code", "123456")
        await type_into(pilot, "#recovery-new-password", "short")
        await type_into(pilot, "#recovery-new-password-repeat", "short")
        await pilot.press("f2")
        error = text_of(pilot, "#recovery-new-password-error")
        assert "Новый пароль" in error and "8" in error

        await type_into(pilot, "#recovery-new-password", "Lenina-12-kvartira")
        await type_into(pilot, "#recovery-new-password-repeat", "Lenina-12-kvartirA")
        await pilot.press("f2")
        assert "Новый пароль повторно" in text_of(pilot, "#recovery-new-password-repeat-error")

        # Long enough, but one of the most common passwords: only the portal knows, beside the field.
        await type_into(pilot, "#recovery-new-password", "password")
        await type_into(pilot, "#recovery-new-password-repeat", "password")
        await pilot.press("f2")
        await wait_for(pilot, lambda: "простой" in text_of(pilot, "#recovery-new-password-error"))
        assert app.screen.focused is app.screen.query_one("#recovery-new-password")
        assert value_of(pilot, "#recovery-code") == "123456"


async def test_both_screens_in_english(tmp_path: Path, app_data_dir: Path) -> None:
    app = make_app(tmp_path, app_data_dir, language="en")
    async with app.run_test(size=(80, 24)) as pilot:
        await open_registration(pilot)
        await find_account(pilot, UNREGISTERED)
        await fill_details(pilot, "12,345", NEW_EMAIL, NEW_EMAIL, accept=False)
        await pilot.press("f2")
        assert "Total to pay" in text_of(pilot, "#receipt-total-error")
        await pilot.press("f3")
        await pilot.press("escape")
        labels = {active.binding.description for active in app.screen.active_bindings.values()}
        assert "Register" in labels
        await pilot.press("escape", "escape")
        await wait_for(pilot, lambda: screen_name(pilot) == "LoginScreen")

        await open_recovery_code_step(pilot, REGISTERED, REGISTERED_EMAIL)
        assert "If the details are correct" in text_of(pilot, "#recovery-sent")
        await type_into(pilot, "#recovery-new-password", "short")
        await pilot.press("f2")
        assert "Code from the letter" in text_of(pilot, "#recovery-code-error")
        assert "at least 8 characters" in text_of(pilot, "#recovery-new-password-error")
        assert not app.t.missing
        assert not app.t.faulty


async def test_too_many_wrong_totals_say_how_long_to_wait(tmp_path: Path, app_data_dir: Path) -> None:
    app = make_app(tmp_path, app_data_dir)
    async with app.run_test(size=(80, 24)) as pilot:
        await open_registration(pilot)
        await find_account(pilot, UNREGISTERED)
        await fill_details(pilot, "1,00", NEW_EMAIL, NEW_EMAIL, accept=True)
        for _ in range(8):
            await pilot.press("f2")
            await wait_for(pilot, lambda: text_of(pilot, "#registration-message").startswith("✗"))
            if "мин." in text_of(pilot, "#registration-message"):
                break
            app.screen.query_one("#registration-message", Static).update("")
        assert "Повторите через" in text_of(pilot, "#registration-message")
        assert value_of(pilot, "#receipt-total") == "1,00"
