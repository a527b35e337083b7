"""The app shell, login, home, help and logout, driven with the keyboard at 80×24."""

from __future__ import annotations

from pathlib import Path

import pytest
from textual.widgets import Input, OptionList

from screens.help import HelpScreen
from tests.support.app import (
    HAPPY,
    footer_keys_in_view,
    login,
    make_app,
    screen_name,
    settle,
    text_of,
    top_screen,
    type_into,
    wait_for,
    wait_ready,
)


async def test_login_screen_offers_the_demo_account(tmp_path: Path, app_data_dir: Path) -> None:
    app = make_app(tmp_path, app_data_dir)
    async with app.run_test(size=(80, 24)) as pilot:
        assert screen_name(pilot) == "LoginScreen"
        await wait_ready(pilot)
        hint = text_of(pilot, "#demo-hint")
        assert HAPPY in hint and "Demo-Pass-2026" in hint


async def test_wrong_password_keeps_the_number_and_says_why(tmp_path: Path, app_data_dir: Path) -> None:
    app = make_app(tmp_path, app_data_dir)
    async with app.run_test(size=(80, 24)) as pilot:
        await login(pilot, HAPPY, "wrong-password")
        await wait_for(pilot, lambda: "Неверный" in text_of(pilot, "#login-error"))
        assert screen_name(pilot) == "LoginScreen"
        assert app.screen.query_one("#account-number", Input).value == HAPPY


async def test_empty_fields_are_named(tmp_path: Path, app_data_dir: Path) -> None:
    app = make_app(tmp_path, app_data_dir)
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_ready(pilot)
        await type_into(pilot, "#account-number", HAPPY)
        await pilot.press("enter", "enter")
        assert "Пароль" in text_of(pilot, "#login-error")


async def test_login_shows_home_with_balance_and_window(tmp_path: Path, app_data_dir: Path) -> None:
    app = make_app(tmp_path, app_data_dir)
    async with app.run_test(size=(80, 24)) as pilot:
        await login(pilot)
        await wait_for(pilot, lambda: screen_name(pilot) == "HomeScreen")
        await wait_for(pilot, lambda: "Баланс" in text_of(pilot, "#home-balance"))
        assert "₽" in text_of(pilot, "#home-balance")
        assert "Приём показаний" in text_of(pilot, "#home-window")
        assert HAPPY in text_of(pilot, "#home-account")
        assert app.config.last_account_number == HAPPY  # remembered for the next start


async def test_english_interface(tmp_path: Path, app_data_dir: Path) -> None:
    app = make_app(tmp_path, app_data_dir, language="en")
    async with app.run_test(size=(80, 24)) as pilot:
        await login(pilot)
        await wait_for(pilot, lambda: "Balance" in text_of(pilot, "#home-balance"))
        assert not app.t.missing
        labels = {active.binding.description for active in app.screen.active_bindings.values()}
        assert "Help" in labels and "Readings" in labels
        assert not [label for label in labels if "." in label and " " not in label]  # no raw keys


async def test_footer_labels_follow_a_language_switch(tmp_path: Path, app_data_dir: Path) -> None:
    app = make_app(tmp_path, app_data_dir)
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_ready(pilot)
        labels = {active.binding.description for active in app.screen.active_bindings.values()}
        assert "Справка" in labels and "Регистрация" in labels
        app.action_toggle_language()
        await pilot.pause()
        labels = {active.binding.description for active in app.screen.active_bindings.values()}
        assert "Help" in labels


async def test_f1_opens_help_at_the_screens_topic_and_esc_returns(tmp_path: Path, app_data_dir: Path) -> None:
    app = make_app(tmp_path, app_data_dir)
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_ready(pilot)
        await pilot.press("f1")
        assert screen_name(pilot) == "HelpScreen"
        assert top_screen(app, HelpScreen).topic == "login"
        await pilot.press("escape")
        assert screen_name(pilot) == "LoginScreen"


async def test_logout_forgets_the_resident(tmp_path: Path, app_data_dir: Path) -> None:
    app = make_app(tmp_path, app_data_dir)
    async with app.run_test(size=(80, 24)) as pilot:
        await login(pilot)
        await wait_for(pilot, lambda: screen_name(pilot) == "HomeScreen")
        await pilot.press("f10")
        await wait_for(pilot, lambda: screen_name(pilot) == "LoginScreen")
        assert app.account_number is None
        assert app.client is not None and not app.client.is_logged_in
        assert app.screen.query_one("#password", Input).value == ""
        assert len(app.screen_stack) == 2  # the default screen and a fresh login screen


async def test_a_small_terminal_gets_a_message(tmp_path: Path, app_data_dir: Path) -> None:
    app = make_app(tmp_path, app_data_dir)
    async with app.run_test(size=(60, 20)) as pilot:
        await wait_for(pilot, lambda: screen_name(pilot) == "TooSmallScreen")
        assert "80×24" in text_of(pilot, "Static")
        await pilot.resize_terminal(100, 30)
        await wait_for(pilot, lambda: screen_name(pilot) == "LoginScreen")


async def test_kiosk_mode_does_not_remember_the_account(tmp_path: Path, app_data_dir: Path) -> None:
    app = make_app(tmp_path, app_data_dir, kiosk=True)
    async with app.run_test(size=(80, 24)) as pilot:
        await login(pilot)
        await wait_for(pilot, lambda: screen_name(pilot) == "HomeScreen")
        assert app.config.last_account_number is None
        assert not (tmp_path / "config.toml").exists() or HAPPY not in (tmp_path / "config.toml").read_text()


async def test_command_palette_reaches_every_screen(tmp_path: Path, app_data_dir: Path) -> None:
    app = make_app(tmp_path, app_data_dir)
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_ready(pilot)
        public = {command.title for command in app.get_system_commands(app.screen)}
        assert {"Передача показаний без входа", "Справка", "Закрыть программу"} <= public
        await login(pilot)
        await wait_for(pilot, lambda: screen_name(pilot) == "HomeScreen")
        resident = {command.title for command in app.get_system_commands(app.screen)}
        assert {"Главная", "Внести показания", "История показаний", "История платежей"} <= resident
        assert "Выход" in resident
        await pilot.press("ctrl+p")
        await wait_for(pilot, lambda: screen_name(pilot) == "CommandPalette")
        await pilot.press(*"Справка")
        await settle(pilot)  # the palette searches in a worker
        await pilot.press("enter")
        await wait_for(pilot, lambda: screen_name(pilot) == "HelpScreen")
        assert top_screen(app, HelpScreen).topic == "home"


async def test_unreachable_portal_gets_a_clear_message_not_a_crash(
    tmp_path: Path, app_data_dir: Path
) -> None:
    app = make_app(tmp_path, app_data_dir, server_url="http://127.0.0.1:9")
    async with app.run_test(size=(80, 24)) as pilot:
        await login(pilot)
        await wait_for(pilot, lambda: "Портал не отвечает" in text_of(pilot, "#login-error"), seconds=20)
        assert screen_name(pilot) == "LoginScreen"
        assert app.screen.query_one("#account-number", Input).value == HAPPY  # nothing typed is lost


def test_no_color_is_honoured(tmp_path: Path, app_data_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NO_COLOR", "1")
    assert make_app(tmp_path, app_data_dir).no_color


@pytest.mark.parametrize("lang", ["ru", "en"])
async def test_footers_show_their_keys_whole_at_80_columns(
    tmp_path: Path, app_data_dir: Path, lang: str
) -> None:
    """Login: every key it offers; home: f2, f7, f8, f9, p, f10 and f1 (the menu names f3, f4, f6, a)."""
    app = make_app(tmp_path, app_data_dir, language=lang)
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_ready(pilot)
        await wait_for(pilot, lambda: footer_keys_in_view(pilot) != [])  # laid out (slow under load)
        assert footer_keys_in_view(pilot) == ["f3", "f4", "f5", "f6", "f1"]
        await login(pilot)
        await wait_for(pilot, lambda: screen_name(pilot) == "HomeScreen")
        await wait_for(pilot, lambda: "f2" in footer_keys_in_view(pilot))
        await settle(pilot)
        assert footer_keys_in_view(pilot) == ["f2", "f7", "f8", "f9", "p", "f10", "f1"]
        menu = [str(option.prompt) for option in app.screen.query_one("#home-options", OptionList).options]
        assert [entry.split()[0] for entry in menu] == ["F2", "F3", "F4", "F6", "F7", "F8", "F9", "P", "A"]
