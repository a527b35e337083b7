"""Snapshots of the main screens at 80×24 in Russian and English (pytest-textual-snapshot).

The demo is seeded with a fixed day (see conftest), so the screens show the same data on any day.
Update after a deliberate change with ``pytest tests/screens/test_snapshots.py --snapshot-update`` and look at
the SVGs under ``tests/screens/__snapshots__/``.
"""

from __future__ import annotations

import base64
import datetime as dt
import random
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TypeVar

import pytest
from textual.pilot import Pilot
from textual.widgets import Input

from tests.support.app import (
    PilotStep,
    SnapCompare,
    login,
    make_app,
    screen_name,
    settle,
    text_of,
    type_into,
    wait_for,
    wait_ready,
)
from widgets.date_field import DateField

LANGUAGES = ["ru", "en"]

T = TypeVar("T")


async def steady(pilot: Pilot[None], *, focus: bool = True) -> None:
    """Wait for the focus the screen sets once its data is in, and stop the blinking cursor."""
    if focus:
        await wait_for(pilot, lambda: pilot.app.focused is not None)
    for field in pilot.app.screen.query(Input):
        field.cursor_blink = False
    await settle(pilot)


@pytest.mark.parametrize("lang", LANGUAGES)
def test_login_screen(snap_compare: SnapCompare, tmp_path: Path, app_data_dir: Path, lang: str) -> None:
    async def ready(pilot: Pilot[None]) -> None:
        await wait_ready(pilot)
        await steady(pilot)

    app = make_app(tmp_path, app_data_dir, language=lang)
    assert snap_compare(app, terminal_size=(80, 24), run_before=ready)


@pytest.mark.parametrize("lang", LANGUAGES)
def test_home_screen(snap_compare: SnapCompare, tmp_path: Path, app_data_dir: Path, lang: str) -> None:
    async def logged_in(pilot: Pilot[None]) -> None:
        await login(pilot)
        await wait_for(pilot, lambda: screen_name(pilot) == "HomeScreen")
        await wait_for(pilot, lambda: "₽" in text_of(pilot, "#home-balance"))
        await steady(pilot)

    app = make_app(tmp_path, app_data_dir, language=lang)
    assert snap_compare(app, terminal_size=(80, 24), run_before=logged_in)


@pytest.mark.parametrize("lang", LANGUAGES)
def test_help_screen(snap_compare: SnapCompare, tmp_path: Path, app_data_dir: Path, lang: str) -> None:
    async def help_open(pilot: Pilot[None]) -> None:
        await wait_ready(pilot)
        await pilot.press("f1")
        await steady(pilot)

    app = make_app(tmp_path, app_data_dir, language=lang)
    assert snap_compare(app, terminal_size=(80, 24), run_before=help_open)


def _open_from_home(key: str, ready_text: str | None = None, *, period: bool = False) -> PilotStep:
    """run_before: log in, press ``key`` on home, set a fixed period if asked, wait until it shows."""

    async def run(pilot: Pilot[None]) -> None:
        await login(pilot)
        await wait_for(pilot, lambda: screen_name(pilot) == "HomeScreen")
        await pilot.press(key)
        await wait_for(pilot, lambda: screen_name(pilot) != "HomeScreen")
        if period:
            await wait_for(pilot, lambda: bool(pilot.app.screen.query("#period-from")))
            pilot.app.screen.query_one("#period-from", DateField).value = dt.date(2025, 11, 1)
            pilot.app.screen.query_one("#period-to", DateField).value = dt.date(2026, 10, 31)
            await pilot.press("f2")
            await wait_for(pilot, lambda: _first_table_rows(pilot) > 0)
        if ready_text is not None:
            await wait_for(pilot, lambda: ready_text in _screen_text(pilot))
        await steady(pilot)

    return run


def _first_table_rows(pilot: Pilot[None]) -> int:
    from widgets.sortable_table import SortableTable

    tables = pilot.app.screen.query(SortableTable)
    return tables.first().row_count if tables else 0


def _screen_text(pilot: Pilot[None]) -> str:
    return " ".join(str(widget.render()) for widget in pilot.app.screen.query("Static"))


@pytest.mark.parametrize("lang", LANGUAGES)
def test_readings_screen(snap_compare: SnapCompare, tmp_path: Path, app_data_dir: Path, lang: str) -> None:
    app = make_app(tmp_path, app_data_dir, language=lang)
    ready = "20.10.2026"  # the previous readings' date, shown once the meters are loaded
    assert snap_compare(app, terminal_size=(80, 24), run_before=_open_from_home("f2", ready))


@pytest.mark.parametrize(("key", "lang"), [("f3", "ru"), ("f4", "ru"), ("f4", "en"), ("f6", "ru")])
def test_history_screens(
    snap_compare: SnapCompare, tmp_path: Path, app_data_dir: Path, key: str, lang: str
) -> None:
    app = make_app(tmp_path, app_data_dir, language=lang)
    assert snap_compare(app, terminal_size=(80, 24), run_before=_open_from_home(key, period=True))


# --- every screen at 80×24 ------------------------------------------------------------------------------


class FixedSecrets:
    """``secrets`` for a snapshot: the same captcha picture, order and event ids on every run."""

    def __init__(self, seed: int) -> None:
        self.rng = random.Random(seed)

    def token_hex(self, nbytes: int = 32) -> str:
        return self.rng.randbytes(nbytes).hex()

    def token_urlsafe(self, nbytes: int = 32) -> str:
        return base64.urlsafe_b64encode(self.rng.randbytes(nbytes)).rstrip(b"=").decode()

    def choice(self, seq: Sequence[T]) -> T:
        return self.rng.choice(seq)

    def randbelow(self, n: int) -> int:
        return self.rng.randrange(n)

    def randbits(self, k: int) -> int:
        return self.rng.getrandbits(k)


@pytest.fixture
def fixed_randomness(monkeypatch: pytest.MonkeyPatch) -> None:
    """Captcha answers and pictures, payment ids: drawn from a seeded generator, not the system's."""
    import captcha.image

    from portal.captcha import service as captcha_service
    from portal.payments import service as payment_service
    from portal.payments.sandbox import endpoints as sandbox_endpoints

    for seed, module in enumerate((captcha.image, captcha_service, payment_service, sandbox_endpoints)):
        monkeypatch.setattr(module, "secrets", FixedSecrets(seed))
    from screens.payment_base import PaymentFlowScreen

    monkeypatch.setattr(PaymentFlowScreen, "POLL_SECONDS", 0.1)  # the sandbox's answer comes at once


def _from_login(key: str, screen: str, *steps: PilotStep) -> PilotStep:
    """run_before: on the login screen press ``key``, wait for ``screen``, then run each step."""

    async def run(pilot: Pilot[None]) -> None:
        await wait_ready(pilot)
        await pilot.press(key)
        await wait_for(pilot, lambda: screen_name(pilot) == screen)
        for step in steps:
            await step(pilot)
        await steady(pilot)

    return run


def _typed(selector: str, text: str, *keys: str) -> PilotStep:
    async def step(pilot: Pilot[None]) -> None:
        await type_into(pilot, selector, text)
        await pilot.press(*keys)

    return step


def _until(condition: Callable[[Pilot[None]], object]) -> PilotStep:
    async def step(pilot: Pilot[None]) -> None:
        await wait_for(pilot, lambda: condition(pilot))
        await settle(pilot)

    return step


def _step_is(value: object) -> PilotStep:
    return _until(lambda pilot: getattr(pilot.app.screen, "step", None) == value)


def _shows(text: str) -> PilotStep:
    return _until(lambda pilot: text in _screen_text(pilot))


SCREENS_WITHOUT_LOGIN: dict[str, tuple[str, str, tuple[PilotStep, ...]]] = {
    "registration-1": ("f3", "RegistrationScreen", ()),
    "registration-2": (
        "f3",
        "RegistrationScreen",
        (_typed("#account-number", "3500012012", "enter"), _step_is("details")),
    ),
    "registration-error": (
        "f3",
        "RegistrationScreen",
        (_typed("#account-number", "35000", "enter"), _until(lambda pilot: pilot.app.focused is not None)),
    ),
    "recovery": ("f4", "RecoveryScreen", ()),
    "readings-without-login-1": ("f5", "ReadingsWithoutLoginScreen", ()),
    "readings-without-login-2": (
        "f5",
        "ReadingsWithoutLoginScreen",
        (_typed("#account-number", "3500012007", "enter"), _step_is(2)),
    ),
    "capital-repair-without-login": ("f6", "CapitalRepairPaymentScreen", ()),
}


@pytest.mark.parametrize("name", list(SCREENS_WITHOUT_LOGIN))
def test_screens_without_login(
    snap_compare: SnapCompare, tmp_path: Path, app_data_dir: Path, fixed_randomness: None, name: str
) -> None:
    key, screen, steps = SCREENS_WITHOUT_LOGIN[name]
    app = make_app(tmp_path, app_data_dir, language="ru")
    assert snap_compare(app, terminal_size=(80, 24), run_before=_from_login(key, screen, *steps))


def _after_login(key: str, screen: str, *steps: PilotStep) -> PilotStep:
    async def run(pilot: Pilot[None]) -> None:
        await login(pilot)
        await wait_for(pilot, lambda: screen_name(pilot) == "HomeScreen")
        await wait_for(pilot, lambda: "₽" in text_of(pilot, "#home-balance"))
        await pilot.press(key)
        await wait_for(pilot, lambda: screen_name(pilot) == screen)
        for step in steps:
            await step(pilot)
        await steady(pilot, focus=not any(getattr(step, "leaves_no_focus", False) for step in steps))

    return run


def _keys(*keys: str) -> PilotStep:
    async def step(pilot: Pilot[None]) -> None:
        await pilot.press(*keys)

    return step


def _payment_details_loaded(pilot: Pilot[None]) -> bool:
    return text_of(pilot, "#pay-details") not in ("", "Загрузка…", "Loading…")


def _captcha_shown(form: str) -> PilotStep:
    return _until(lambda pilot: getattr(pilot.app.screen, "captchas", {}).get(form) is not None)


async def _pay_in_sandbox(pilot: Pilot[None]) -> None:
    from widgets.payment_flow import PaymentFlow

    await type_into(pilot, "#pay-amount", "150,00")
    await pilot.press("enter")
    flow = pilot.app.screen.query_one(PaymentFlow)
    await wait_for(pilot, lambda: flow.showing_order)
    await pilot.press("p")  # the sandbox: «оплатить»
    await wait_for(
        pilot,
        lambda: flow.order is not None and flow.order.is_final and flow.order.credited,
    )
    await wait_for(pilot, lambda: not flow.progress.is_loading)


_pay_in_sandbox.leaves_no_focus = True  # type: ignore[attr-defined]  # the order is done: nothing to type


async def _fixed_period(pilot: Pilot[None]) -> None:
    await wait_for(pilot, lambda: bool(pilot.app.screen.query("#period-from")))
    pilot.app.screen.query_one("#period-from", DateField).value = dt.date(2025, 11, 1)
    pilot.app.screen.query_one("#period-to", DateField).value = dt.date(2026, 10, 31)
    await pilot.press("f2")
    await wait_for(pilot, lambda: _first_table_rows(pilot) > 0)


async def _impossible_date(pilot: Pilot[None]) -> None:
    await _fixed_period(pilot)
    await type_into(pilot, "#period-from Input", "32.13.2025")
    await pilot.press("enter")
    await settle(pilot)


async def _profile_local_error(pilot: Pilot[None]) -> None:
    await type_into(pilot, "#email-new", "new.address@example.ru")
    await type_into(pilot, "#email-new-repeat", "new.address@example.ru")
    await pilot.press("f2")
    await settle(pilot)


SCREENS_AFTER_LOGIN: dict[str, tuple[str, str, tuple[PilotStep, ...]]] = {
    "payment": ("f7", "PaymentScreen", (_until(_payment_details_loaded),)),
    "payment-success": ("f7", "PaymentScreen", (_until(_payment_details_loaded), _pay_in_sandbox)),
    "capital-repair": ("f8", "CapitalRepairPaymentScreen", (_until(_payment_details_loaded),)),
    "receipts": ("f9", "ReceiptsScreen", (_until(lambda pilot: pilot.app.focused is not None),)),
    "profile": ("p", "ProfileScreen", (_captcha_shown("email"), _shows("kv7@"))),
    "profile-password": (
        "p",
        "ProfileScreen",
        (_captcha_shown("email"), _shows("kv7@"), _keys("f4"), _captcha_shown("password")),
    ),
    "profile-error": ("p", "ProfileScreen", (_captcha_shown("email"), _shows("kv7@"), _profile_local_error)),
    "period-error": ("f3", "ReadingHistoryScreen", (_impossible_date,)),
}


@pytest.mark.parametrize("name", list(SCREENS_AFTER_LOGIN))
def test_screens_after_login(
    snap_compare: SnapCompare, tmp_path: Path, app_data_dir: Path, fixed_randomness: None, name: str
) -> None:
    key, screen, steps = SCREENS_AFTER_LOGIN[name]
    # The receipts screen names the folder: the same one on every machine (nothing is saved here).
    app = make_app(tmp_path, app_data_dir, language="ru", downloads_dir="/tmp/kabinet-receipts")
    assert snap_compare(app, terminal_size=(80, 24), run_before=_after_login(key, screen, *steps))


def test_statement_with_its_lines(snap_compare: SnapCompare, tmp_path: Path, app_data_dir: Path) -> None:
    app = make_app(tmp_path, app_data_dir, language="ru")
    assert snap_compare(
        app, terminal_size=(80, 24), run_before=_after_login("f6", "StatementScreen", _fixed_period)
    )


ENGLISH: dict[str, tuple[str, str, tuple[PilotStep, ...]]] = {
    "payment": ("f7", "PaymentScreen", (_until(_payment_details_loaded),)),
    "profile": ("p", "ProfileScreen", (_captcha_shown("email"), _shows("kv7@"))),
}


@pytest.mark.parametrize("name", list(ENGLISH))
def test_main_screens_in_english(
    snap_compare: SnapCompare, tmp_path: Path, app_data_dir: Path, fixed_randomness: None, name: str
) -> None:
    key, screen, steps = ENGLISH[name]
    app = make_app(tmp_path, app_data_dir, language="en")
    assert snap_compare(app, terminal_size=(80, 24), run_before=_after_login(key, screen, *steps))
