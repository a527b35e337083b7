"""Kiosk terminals in housing offices: no way out but the administrator's PIN, idle sessions wiped,
and the Linux text console profile."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import tomli_w
from textual.widgets import Input

from app import KabinetApp
from tests.support.app import (
    HAPPY,
    PASSWORD,
    login,
    make_app,
    screen_name,
    settle,
    type_into,
    wait_for,
    wait_ready,
)
from tui.config import ConfigError, load_config
from tui.formatting import Money, set_ascii_currency
from tui.kiosk import ADMIN_EXIT_CODE, IdlePhase, IdleTimer, PinError, PinThrottle, hash_pin, verify_pin

PIN = "2468-Kiosk"


class FakeClock:
    """A monotonic clock the test moves on by hand."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def _admin_file(tmp_path: Path, **values: object) -> None:
    (tmp_path / "admin.toml").write_bytes(tomli_w.dumps(values).encode())


@pytest.fixture(scope="module")
def pin_hash() -> str:
    return hash_pin(PIN)


@pytest.fixture(autouse=True)
def _ruble_sign_back() -> Iterator[None]:
    yield
    set_ascii_currency(False)  # the console profile is process-wide


# --- the core, without a terminal ----------------------------------------------------------------------


def test_pin_is_stored_as_an_argon2id_hash(pin_hash: str) -> None:
    assert pin_hash.startswith("$argon2id$")
    assert PIN not in pin_hash
    assert verify_pin(pin_hash, PIN)
    assert not verify_pin(pin_hash, "0000")
    assert not verify_pin("not a hash", PIN)
    with pytest.raises(PinError):
        hash_pin("12")


def test_hash_pin_prints_the_config_line(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from hosting.kiosk import main as hash_pin_command

    answers = iter([PIN, PIN, PIN, "another"])
    monkeypatch.setattr("getpass.getpass", lambda prompt="": next(answers))
    assert hash_pin_command(["hash-pin"]) == 0
    line = capsys.readouterr().out.strip()
    assert line.startswith('admin_pin_hash = "$argon2id$')
    assert verify_pin(line.split('"')[1], PIN)
    assert hash_pin_command([]) == 2  # the two PINs differ
    assert "differ" in capsys.readouterr().err


def test_wrong_pins_make_the_next_attempt_wait_longer() -> None:
    clock = FakeClock()
    throttle = PinThrottle(clock=clock)
    assert throttle.wait_seconds() == 0
    assert throttle.record_failure() == 1
    assert throttle.record_failure() == 2
    assert throttle.record_failure() == 4
    assert throttle.wait_seconds() == 4
    clock.now += 4
    assert throttle.wait_seconds() == 0
    for _ in range(20):
        throttle.record_failure()
    assert throttle.wait_seconds() == 60
    throttle.record_success()
    assert throttle.wait_seconds() == 0


def test_idle_timer_warns_for_the_last_seconds_then_expires() -> None:
    clock = FakeClock()
    idle = IdleTimer(120, clock=clock)
    assert idle.phase() is IdlePhase.ACTIVE
    clock.now += 105
    assert idle.phase() is IdlePhase.WARNING
    assert idle.seconds_left() == 15
    clock.now += 14.5
    assert idle.seconds_left() == 1
    idle.touch()
    assert idle.phase() is IdlePhase.ACTIVE
    clock.now += 120
    assert idle.phase() is IdlePhase.EXPIRED


def test_pin_hash_belongs_to_the_administrators_file(tmp_path: Path, pin_hash: str) -> None:
    _admin_file(tmp_path, kiosk=True, admin_pin_hash=pin_hash)
    config = load_config(user_path=tmp_path / "user.toml", admin_path=tmp_path / "admin.toml")
    assert config.admin_pin_hash == pin_hash
    assert pin_hash not in repr(config)
    (tmp_path / "user.toml").write_bytes(tomli_w.dumps({"admin_pin_hash": pin_hash}).encode())
    with pytest.raises(ConfigError, match="admin_pin_hash"):
        load_config(user_path=tmp_path / "user.toml", admin_path=tmp_path / "admin.toml")
    _admin_file(tmp_path, admin_pin_hash="2468")
    with pytest.raises(ConfigError, match="argon2id"):
        load_config(user_path=tmp_path / "nobody.toml", admin_path=tmp_path / "admin.toml")


# --- the app ---------------------------------------------------------------------------------------------


def _kiosk_app(tmp_path: Path, data_dir: Path, pin_hash: str | None = None, **config: object) -> KabinetApp:
    _admin_file(tmp_path, kiosk=True, **({"admin_pin_hash": pin_hash} if pin_hash else {}))
    return make_app(tmp_path, data_dir, **config)


async def test_quit_keys_do_nothing_in_kiosk_mode(tmp_path: Path, app_data_dir: Path) -> None:
    app = _kiosk_app(tmp_path, app_data_dir)
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_ready(pilot)
        for key in ("ctrl+q", "ctrl+c", "ctrl+z", "ctrl+backslash"):
            await pilot.press(key)
            await pilot.pause(0.1)
            assert app.is_running and app.return_code is None, key
        await app.action_quit()
        app.action_suspend_process()
        app.action_screenshot()
        await pilot.pause(0.1)
        assert app.is_running
        assert screen_name(pilot) == "LoginScreen"
        assert not any(name.endswith(".svg") for name in os.listdir(tmp_path))
        commands = {command.title for command in app.get_system_commands(app.screen)}
        assert "Закрыть программу" not in commands
        assert not any("Quit" in title or "Screenshot" in title for title in commands)


async def test_quit_still_works_outside_kiosk_mode(tmp_path: Path, app_data_dir: Path) -> None:
    app = make_app(tmp_path, app_data_dir)
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_ready(pilot)
        await pilot.press("f12")  # the administrator's key means nothing on a personal terminal
        await pilot.pause(0.1)
        assert screen_name(pilot) == "LoginScreen"
        await pilot.press("ctrl+q")
        await wait_for(pilot, lambda: not app.is_running)


async def test_admin_exit_needs_the_right_pin(tmp_path: Path, app_data_dir: Path, pin_hash: str) -> None:
    app = _kiosk_app(tmp_path, app_data_dir, pin_hash)
    clock = FakeClock()
    app.pin_throttle = PinThrottle(clock=clock)
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_ready(pilot)
        await pilot.press("ctrl+f12")
        await wait_for(pilot, lambda: screen_name(pilot) == "AdminExitScreen")
        await type_into(pilot, "#admin-pin", "0000")
        await pilot.press("enter")
        message = "#admin-exit-message"
        await wait_for(pilot, lambda: "Неверный PIN" in str(app.screen.query_one(message).render()))
        assert app.is_running
        # Within the wait even the right PIN is not checked.
        await type_into(pilot, "#admin-pin", PIN)
        await pilot.press("enter")
        await wait_for(pilot, lambda: "Подождите" in str(app.screen.query_one(message).render()))
        assert app.is_running and screen_name(pilot) == "AdminExitScreen"
        # Esc goes back to the resident's screen; the wait outlives the dialog.
        await pilot.press("escape")
        await wait_for(pilot, lambda: screen_name(pilot) == "LoginScreen")
        assert app.pin_throttle.wait_seconds() > 0
        clock.now += 61
        await pilot.press("f12")
        await wait_for(pilot, lambda: screen_name(pilot) == "AdminExitScreen")
        await type_into(pilot, "#admin-pin", PIN)
        await pilot.press("enter")
        await wait_for(pilot, lambda: not app.is_running)
    # The one exit status the kiosk's unit does not restart (RestartPreventExitStatus).
    assert app.return_code == ADMIN_EXIT_CODE


def test_kiosk_unit_restarts_all_but_the_administrators_exit() -> None:
    unit = (Path(__file__).resolve().parents[2] / "deploy" / "kabinet-kiosk@.service").read_text()
    assert "Restart=always" in unit
    assert f"RestartPreventExitStatus={ADMIN_EXIT_CODE}" in unit


def test_main_returns_the_apps_exit_status(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A crashed app (return code 1) must not look like a clean exit to systemd."""
    import app as app_module

    def crash(self: KabinetApp, *args: Any, **kwargs: Any) -> None:
        self._return_code = 1

    monkeypatch.setattr(app_module.KabinetApp, "run", crash)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path))
    argv = ["--config", str(tmp_path / "config.toml"), "--data-dir", str(tmp_path / "data")]
    assert app_module.main(argv) == 1

    def clean(self: KabinetApp, *args: Any, **kwargs: Any) -> None:
        self._return_code = 0

    monkeypatch.setattr(app_module.KabinetApp, "run", clean)
    assert app_module.main(argv) == 0


async def test_crash_report_shows_no_locals_on_a_shared_terminal(
    tmp_path: Path, app_data_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Textual's crash report prints each frame's locals: on a kiosk they could be a visitor's password."""
    import io

    from rich.console import Console

    app = _kiosk_app(tmp_path, app_data_dir)
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_ready(pilot)
        monkeypatch.setattr(app, "_close_messages_no_wait", lambda: None)  # keep the test's app running
        password = "-".join(["Typed", "Secret", "2026"])  # built, so that no source line shows it
        try:
            raise RuntimeError(f"boom {len(password)}")
        except RuntimeError:
            app._fatal_error()
        console = Console(width=120, record=True, file=io.StringIO())
        for renderable in app._exit_renderables:
            console.print(renderable)
        app._exit_renderables.clear()
        report = console.export_text()
        assert "RuntimeError" in report and "boom 17" in report
        assert password not in report


async def test_admin_exit_without_a_configured_pin_says_so(tmp_path: Path, app_data_dir: Path) -> None:
    app = _kiosk_app(tmp_path, app_data_dir)
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_ready(pilot)
        await pilot.press("ctrl+f12")
        await wait_for(pilot, lambda: screen_name(pilot) == "AdminExitScreen")
        assert "admin_pin_hash" in str(app.screen.query_one("#admin-exit-message").render())
        assert app.screen.query_one("#admin-pin", Input).disabled
        hint = str(app.screen.query_one("#admin-exit-hint").render())
        assert "Enter" not in hint and "Esc" in hint  # Enter closes nothing here


def _countdown_shown(app: KabinetApp) -> bool:
    return type(app.screen).__name__ == "IdleWarningScreen"


async def test_idle_session_counts_down_and_any_key_cancels(tmp_path: Path, app_data_dir: Path) -> None:
    app = _kiosk_app(tmp_path, app_data_dir, idle_timeout_seconds=30)
    clock = FakeClock()
    async with app.run_test(size=(80, 24)) as pilot:
        assert app.idle is not None
        app.idle.clock = clock
        app.idle.touch()
        await login(pilot)
        await wait_for(pilot, lambda: screen_name(pilot) == "HomeScreen")
        clock.now += 16  # 14 s left: the countdown shows
        await wait_for(pilot, lambda: _countdown_shown(app))
        # The countdown is composed a moment after its screen is shown.
        await wait_for(
            pilot, lambda: "1 4" in " ".join(str(c.render()) for c in app.screen.query("#idle-countdown"))
        )
        notes = " ".join(str(note.render()) for note in app.screen.query(".idle-note"))
        # The wipe comes from not pressing anything, not from a key ("Затем всё… будет стёрто" read so).
        assert "Если ничего не нажимать" in notes and "Затем" not in notes
        clock.now += 5
        await wait_for(pilot, lambda: "9" in str(app.screen.query_one("#idle-countdown").render()))
        await pilot.press("enter")  # cancels the countdown, and does nothing else
        await wait_for(pilot, lambda: screen_name(pilot) == "HomeScreen")
        assert app.account_number == HAPPY
        assert app.client is not None and app.client.is_logged_in


async def test_idle_session_is_wiped_back_to_an_empty_login(tmp_path: Path, app_data_dir: Path) -> None:
    app = _kiosk_app(tmp_path, app_data_dir, idle_timeout_seconds=30)
    clock = FakeClock()
    async with app.run_test(size=(80, 24)) as pilot:
        assert app.idle is not None
        app.idle.clock = clock
        app.idle.touch()
        await login(pilot)
        await wait_for(pilot, lambda: screen_name(pilot) == "HomeScreen")
        app.open_screen("readings")
        await wait_for(pilot, lambda: screen_name(pilot) == "ReadingsScreen")
        clock.now += 20
        await wait_for(pilot, lambda: _countdown_shown(app))
        old_token = app.client._session_token if app.client is not None else None
        clock.now += 11
        await wait_for(pilot, lambda: screen_name(pilot) == "LoginScreen")
        client = app.client
        assert client is not None
        await wait_for(pilot, lambda: not client.is_logged_in)
        assert app.account_number is None
        assert [type(screen).__name__ for screen in app.screen_stack[1:]] == ["LoginScreen"]
        assert all(field.value == "" for field in app.screen.query(Input))
        assert app.config.last_account_number is None
        assert app.clipboard == ""
        # The old session ended on the portal too: its token is refused.
        assert old_token is not None
        await wait_for(pilot, lambda: not _wiping(app))
        assert await client.logout_token(old_token) is False
        # A fresh login screen has nothing to wipe: no countdown however long it stays.
        clock.now += 100
        await pilot.pause(1.2)
        assert screen_name(pilot) == "LoginScreen"


def _wiping(app: KabinetApp) -> bool:
    return any(worker.group == "wipe" and worker.is_running for worker in app.workers)


async def test_wipe_does_not_end_the_next_visitors_session(
    tmp_path: Path, app_data_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The old session's logout may reach the portal after the next visitor has logged in."""
    import asyncio

    app = _kiosk_app(tmp_path, app_data_dir, idle_timeout_seconds=30)
    clock = FakeClock()
    async with app.run_test(size=(80, 24)) as pilot:
        assert app.idle is not None
        app.idle.clock = clock
        app.idle.touch()
        await login(pilot)
        await wait_for(pilot, lambda: screen_name(pilot) == "HomeScreen")
        client = app.client
        assert client is not None
        started, release = asyncio.Event(), asyncio.Event()
        real_logout = client.logout_token

        async def slow_logout(token: str) -> bool:
            started.set()
            await release.wait()
            return await real_logout(token)

        monkeypatch.setattr(client, "logout_token", slow_logout)
        clock.now += 31
        await wait_for(pilot, started.is_set)
        assert screen_name(pilot) == "LoginScreen"
        assert not client.is_logged_in  # forgotten before the login screen took a key
        await client.login(HAPPY, PASSWORD)  # the next visitor, while the old logout is on its way
        release.set()
        await wait_for(pilot, lambda: not _wiping(app))
        assert client.is_logged_in
        await client.session_info()  # and the portal still knows the new session


async def test_half_typed_login_is_wiped_too(tmp_path: Path, app_data_dir: Path) -> None:
    app = _kiosk_app(tmp_path, app_data_dir, idle_timeout_seconds=30)
    clock = FakeClock()
    async with app.run_test(size=(80, 24)) as pilot:
        assert app.idle is not None
        app.idle.clock = clock
        await wait_ready(pilot)
        await type_into(pilot, "#account-number", HAPPY)
        first_login = app.screen
        clock.now += 31
        # The new login screen, once it has composed its form (it is pushed before it is drawn).
        await wait_for(
            pilot,
            lambda: (
                screen_name(pilot) == "LoginScreen"
                and app.screen is not first_login
                and bool(app.screen.query("#account-number"))
            ),
        )
        assert app.screen.query_one("#account-number", Input).value == ""


async def test_console_profile_writes_rub_and_draws_no_braille(tmp_path: Path, app_data_dir: Path) -> None:
    from widgets.charts import MonthlyBarChart

    app = make_app(tmp_path, app_data_dir, console_profile=True)
    async with app.run_test(size=(80, 24)) as pilot:
        assert str(Money(102312)) == "1\u00a0023,12\u00a0руб."
        assert app.ansi_color is True
        assert app.current_theme.ansi
        await login(pilot)
        await wait_for(pilot, lambda: screen_name(pilot) == "HomeScreen")
        app.open_screen("payment_history")
        await wait_for(pilot, lambda: bool(app.screen.query("MonthlyBarChart")))
        chart = app.screen.query_one(MonthlyBarChart)
        assert chart.console_profile is True
        await settle(pilot)
        text = app.export_screenshot()
        assert not any(0x2800 <= ord(char) <= 0x28FF for char in text)
        assert "₽" not in text


async def test_console_profile_comes_with_term_linux(
    tmp_path: Path, app_data_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TERM", "linux")
    app = make_app(tmp_path, app_data_dir)
    assert app.console_profile and app.theme == "kabinet-console"


def test_high_contrast_theme_is_selectable(tmp_path: Path, app_data_dir: Path) -> None:
    app = make_app(tmp_path, app_data_dir, theme="kabinet-high-contrast")
    assert app.theme == "kabinet-high-contrast"
