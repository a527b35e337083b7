"""Показания and Передача показаний без входа, driven with the keyboard at 80×24 on the embedded demo."""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Mapping, Sequence
from decimal import Decimal
from pathlib import Path
from typing import NoReturn

import pytest
from textual.pilot import Pilot
from textual.widgets import Input, Static

from app import KabinetApp
from portal.demo.accounts import (
    EXPIRED_VERIFICATION_APARTMENT,
    ROLLOVER_APARTMENT,
    account_number,
)
from screens.dialogs import ConfirmDialog, ReloginDialog, RetryDialog
from screens.help import HelpScreen
from screens.readings_without_login import ReadingsWithoutLoginScreen
from tests.support.app import (
    HAPPY,
    PASSWORD,
    assert_in_view,
    login,
    make_app,
    portal_client,
    screen_name,
    settle,
    top_screen,
    type_into,
    wait_for,
    wait_ready,
)
from tui.client import PortalClient
from tui.errors import PortalUnavailable, TooManyAttempts
from tui.models import Meter, MetersOverview, ReadingEntry, ReadingsAccess, ReadingWindow, SubmitResult
from widgets.meter_readings import MeterReadingsForm, MeterRow

EXPIRED = account_number(EXPIRED_VERIFICATION_APARTMENT)
ROLLOVER = account_number(ROLLOVER_APARTMENT)


# --- helpers -------------------------------------------------------------------------------------------


def typed(value: Decimal) -> str:
    """A reading the way a resident types it: a comma, no thousands separator."""
    return format(value, "f").replace(".", ",")


def form(pilot: Pilot[None], selector: str = "#readings-form") -> MeterReadingsForm:
    return pilot.app.screen.query_one(selector, MeterReadingsForm)


def row_text(pilot: Pilot[None], meter_id: int, part: str) -> str:
    """The text of one part of a meter's row: meter-title, meter-previous, meter-warning, meter-note, …"""
    row = pilot.app.screen.query_one(f"#meter-{meter_id}", MeterRow)
    return str(row.query_one(f".{part}", Static).render())


def status(pilot: Pilot[None], selector: str = "#readings-status") -> str:
    return str(pilot.app.screen.query_one(selector, Static).render())


async def open_readings(pilot: Pilot[None], number: str = HAPPY) -> list[Meter]:
    """Log in, press F2 on the home screen, wait for the meters; returns them."""
    await login(pilot, number)
    await wait_for(pilot, lambda: screen_name(pilot) == "HomeScreen")
    await pilot.press("f2")
    await wait_for(pilot, lambda: screen_name(pilot) == "ReadingsScreen")
    await wait_for(pilot, lambda: bool(form(pilot).rows))
    await pilot.pause()
    return form(pilot).meters


def focused_id(app: KabinetApp) -> str | None:
    """The id of the widget with the focus (a dialog's button, say)."""
    focused = app.screen.focused
    return None if focused is None else focused.id


def previous_of(meter: Meter) -> Decimal:
    assert meter.previous_reading is not None
    return meter.previous_reading.value


async def previous_readings_of(app: KabinetApp, number: str) -> dict[int, Decimal]:
    """What the receipt would print: each meter's previous reading, asked by a client of our own."""
    assert app.embedded is not None
    async with PortalClient(transport=app.embedded.transport) as client:
        await client.login(number, PASSWORD)
        overview = await client.meters()
        await client.logout()
    return {meter.meter_id: previous_of(meter) for meter in overview.meters if meter.previous_reading}


# --- logged in -----------------------------------------------------------------------------------------


async def test_all_meters_fit_at_80x24_and_up_down_move_between_rows(
    tmp_path: Path, app_data_dir: Path
) -> None:
    app = make_app(tmp_path, app_data_dir)
    async with app.run_test(size=(80, 24)) as pilot:
        meters = await open_readings(pilot)
        assert len(meters) == 3
        assert form(pilot).max_scroll_y == 0  # nothing hidden below
        first, second = (f"#new-{meter.meter_id}" for meter in meters[:2])
        assert app.screen.focused is app.screen.query_one(first, Input)
        await pilot.press("down")
        assert app.screen.focused is app.screen.query_one(second, Input)
        await pilot.press("up")
        assert app.screen.focused is app.screen.query_one(first, Input)
        assert "Предыдущее показание" in row_text(pilot, meters[0].meter_id, "meter-previous")
        labels = {active.binding.description for active in app.screen.active_bindings.values()}
        assert "Внести показания" in labels and "Назад" in labels
        await pilot.press("f1")
        assert screen_name(pilot) == "HelpScreen" and top_screen(app, HelpScreen).topic == "readings"
        await pilot.press("escape")
        assert screen_name(pilot) == "ReadingsScreen"


async def test_valid_reading_is_accepted_and_shown_as_this_months(tmp_path: Path, app_data_dir: Path) -> None:
    app = make_app(tmp_path, app_data_dir)
    async with app.run_test(size=(80, 24)) as pilot:
        meters = await open_readings(pilot)
        meter = meters[0]
        new = previous_of(meter) + 1
        await type_into(pilot, f"#new-{meter.meter_id}", typed(new))
        assert "✓" in row_text(pilot, meter.meter_id, "meter-note")  # fine before sending
        await pilot.press("f2")
        await wait_for(pilot, lambda: "✓" in row_text(pilot, meter.meter_id, "meter-result"))
        assert "принято" in row_text(pilot, meter.meter_id, "meter-result")
        assert "Принято: 1" in status(pilot)
        # The refreshed row shows the stored reading; the field is free for a correction.
        await wait_for(pilot, lambda: "в этом месяце" in row_text(pilot, meter.meter_id, "meter-previous"))
        assert typed(new) in row_text(pilot, meter.meter_id, "meter-previous")
        assert app.screen.query_one(f"#new-{meter.meter_id}", Input).value == ""
        # Back home and in again: the readings screen still shows it.
        await pilot.press("escape")
        assert screen_name(pilot) == "HomeScreen"
        await pilot.press("f2")
        await wait_for(pilot, lambda: screen_name(pilot) == "ReadingsScreen" and bool(form(pilot).rows))
        await wait_for(pilot, lambda: typed(new) in row_text(pilot, meter.meter_id, "meter-previous"))


async def test_precision_error_shows_while_typing_naming_the_format(
    tmp_path: Path, app_data_dir: Path
) -> None:
    app = make_app(tmp_path, app_data_dir)
    async with app.run_test(size=(80, 24)) as pilot:
        meters = await open_readings(pilot)
        water = next(meter for meter in meters if meter.decimals == 3)
        await type_into(pilot, f"#new-{water.meter_id}", "123,4567")
        note = row_text(pilot, water.meter_id, "meter-note")
        assert note.startswith("✗")
        assert "не более 3 цифр" in note and "12345,678" in note
        await type_into(pilot, f"#new-{water.meter_id}", "1234567")
        note = row_text(pilot, water.meter_id, "meter-note")
        assert "не более 5 цифр и 3 после, например 12345,678" in note
        # F2 sends nothing while a row is wrong, and says so.
        await pilot.press("f2")
        await settle(pilot)
        assert "Исправьте" in status(pilot)
        assert app.screen.query_one(f"#new-{water.meter_id}", Input).value == "1234567"
        assert_in_view(
            pilot, f"#new-{water.meter_id}", f"#meter-{water.meter_id} .meter-note", "#readings-status"
        )


async def test_reading_below_previous_is_refused_before_sending(tmp_path: Path, app_data_dir: Path) -> None:
    app = make_app(tmp_path, app_data_dir)
    async with app.run_test(size=(80, 24)) as pilot:
        meters = await open_readings(pilot)
        meter = meters[0]
        lower = previous_of(meter) - 100
        await type_into(pilot, f"#new-{meter.meter_id}", typed(lower))
        note = row_text(pilot, meter.meter_id, "meter-note")
        assert note.startswith("✗") and "меньше предыдущего" in note
        await pilot.press("f2")
        await settle(pilot)
        assert "Исправьте" in status(pilot)
        assert "меньше предыдущего" in row_text(pilot, meter.meter_id, "meter-note")


async def test_rollover_is_confirmed_in_a_dialog_then_accepted(tmp_path: Path, app_data_dir: Path) -> None:
    app = make_app(tmp_path, app_data_dir)
    async with app.run_test(size=(80, 24)) as pilot:
        meters = await open_readings(pilot, ROLLOVER)
        electricity = next(meter for meter in meters if meter.service == "electricity")
        assert previous_of(electricity) >= 999_900
        assert electricity == meters[-1]
        await type_into(pilot, f"#new-{electricity.meter_id}", "50")
        assert row_text(pilot, electricity.meter_id, "meter-note").startswith("⚠")  # a hint, not an error
        await pilot.press("enter")  # Enter in the last field sends, like F2
        await wait_for(pilot, lambda: isinstance(app.screen, ConfirmDialog))
        assert "через ноль" in top_screen(app, ConfirmDialog).message
        assert focused_id(app) == "no"  # the safe answer is the default
        await pilot.press("enter")  # Enter without reading stores nothing
        await wait_for(pilot, lambda: "?" in row_text(pilot, electricity.meter_id, "meter-result"))
        await pilot.press("f2")
        await wait_for(pilot, lambda: isinstance(app.screen, ConfirmDialog))
        await pilot.press("tab")  # to «Да, показание верное»
        assert focused_id(app) == "yes"
        await pilot.press("enter")
        await wait_for(pilot, lambda: "✓" in row_text(pilot, electricity.meter_id, "meter-result"))
        assert "Принято: 1, не принято: 0" in status(pilot)


async def test_an_absurd_consumption_warns_with_the_true_ratio_and_enter_stores_nothing(
    tmp_path: Path, app_data_dir: Path
) -> None:
    from widgets.meter_readings import times_text

    app = make_app(tmp_path, app_data_dir)
    async with app.run_test(size=(80, 24)) as pilot:
        meters = await open_readings(pilot)
        cold = next(meter for meter in meters if meter.service == "cold_water")
        check = cold.consumption_check
        assert check is not None and check.average_monthly is not None
        for value in ("600", "99999"):
            await type_into(pilot, f"#new-{cold.meter_id}", value)
            note = row_text(pilot, cold.meter_id, "meter-note")
            ratio = (Decimal(value) - previous_of(cold)) / (check.average_monthly * check.months)
            assert note.startswith("⚠") and "✓" not in note  # not «✓ Расход 99 507 м³»
            assert f"{times_text(app.t, ratio)} больше среднего" in note
        assert ratio > 9000  # 99 507 m³ against about 5,4 m³ a month: thousands of times, not «в 5 раз»
        await pilot.press("f2")
        await wait_for(pilot, lambda: isinstance(app.screen, ConfirmDialog))
        message = top_screen(app, ConfirmDialog).message
        assert times_text(app.t, ratio) in message and "в 5 раз" not in message
        assert focused_id(app) == "no"
        await pilot.press("enter")
        await wait_for(pilot, lambda: "?" in row_text(pilot, cold.meter_id, "meter-result"))
        assert app.screen.query_one(f"#new-{cold.meter_id}", Input).value == "99999"
        assert "не принято: 1" in status(pilot)
        overview = await portal_client(app).meters()
        stored = next(meter for meter in overview.meters if meter.meter_id == cold.meter_id)
        assert stored.current_reading is None


async def test_declined_rollover_keeps_the_value_and_asks_again_next_time(
    tmp_path: Path, app_data_dir: Path
) -> None:
    app = make_app(tmp_path, app_data_dir)
    async with app.run_test(size=(80, 24)) as pilot:
        meters = await open_readings(pilot, ROLLOVER)
        electricity = next(meter for meter in meters if meter.service == "electricity")
        await type_into(pilot, f"#new-{electricity.meter_id}", "50")
        await pilot.press("f2")
        await wait_for(pilot, lambda: isinstance(app.screen, ConfirmDialog))
        await pilot.press("escape")
        await wait_for(pilot, lambda: "?" in row_text(pilot, electricity.meter_id, "meter-result"))
        assert app.screen.query_one(f"#new-{electricity.meter_id}", Input).value == "50"
        assert "не принято: 1" in status(pilot)


async def test_expired_meter_is_disabled_with_the_reason_and_date(tmp_path: Path, app_data_dir: Path) -> None:
    app = make_app(tmp_path, app_data_dir)
    async with app.run_test(size=(80, 24)) as pilot:
        meters = await open_readings(pilot, EXPIRED)
        hot = next(meter for meter in meters if meter.service == "hot_water")
        assert not hot.accepts_readings
        assert app.screen.query_one(f"#new-{hot.meter_id}", Input).disabled
        warning = row_text(pilot, hot.meter_id, "meter-warning")
        assert "Поверка истекла" in warning and hot.next_verification_on.strftime("%d.%m.%Y") in warning
        # Down skips the disabled row.
        others = [meter for meter in meters if meter.accepts_readings]
        app.screen.query_one(f"#new-{others[0].meter_id}", Input).focus()
        await pilot.press("down")
        assert app.screen.focused is app.screen.query_one(f"#new-{others[1].meter_id}", Input)


async def test_values_are_kept_when_the_portal_is_unreachable(
    tmp_path: Path, app_data_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    app = make_app(tmp_path, app_data_dir)
    async with app.run_test(size=(80, 24)) as pilot:
        meters = await open_readings(pilot)
        meter = meters[1]
        value = typed(previous_of(meter) + 2)
        await type_into(pilot, f"#new-{meter.meter_id}", value)
        assert app.client is not None
        keys: list[str] = []
        real_submit = app.client.submit_readings

        async def unreachable(entries: Sequence[ReadingEntry], key: str | None = None) -> NoReturn:
            keys.append(key or "")
            raise PortalUnavailable("portal_unreachable")

        monkeypatch.setattr(app.client, "submit_readings", unreachable)
        await pilot.press("f2")
        await wait_for(pilot, lambda: isinstance(app.screen, RetryDialog))
        await pilot.press("escape")  # give up for now
        await wait_for(pilot, lambda: screen_name(pilot) == "ReadingsScreen")
        await settle(pilot)
        assert app.screen.query_one(f"#new-{meter.meter_id}", Input).value == value
        # The portal is back: the same values go again under the same key (stored at most once).
        monkeypatch.setattr(app.client, "submit_readings", real_submit)
        sent: list[str] = []

        async def recording(entries: Sequence[ReadingEntry], key: str | None = None) -> SubmitResult:
            sent.append(key or "")
            return await real_submit(entries, key)

        monkeypatch.setattr(app.client, "submit_readings", recording)
        await pilot.press("f2")
        await wait_for(pilot, lambda: "✓" in row_text(pilot, meter.meter_id, "meter-result"))
        assert sent == [keys[0]]


async def test_closed_window_says_when_it_opens_and_sends_nothing(
    tmp_path: Path, app_data_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    app = make_app(tmp_path, app_data_dir)
    async with app.run_test(size=(80, 24)) as pilot:
        await login(pilot)
        await wait_for(pilot, lambda: screen_name(pilot) == "HomeScreen")
        assert app.client is not None
        real_meters = app.client.meters
        closed = ReadingWindow(
            open=False,
            period=dt.date(2026, 12, 1),
            always_open=False,
            start_day=15,
            end_day=25,
            closes_on=None,
            opens_on=dt.date(2026, 12, 15),
            message="Приём показаний с 15 по 25 число.",
        )

        async def closed_meters() -> MetersOverview:
            return dataclasses.replace(await real_meters(), window=closed)

        monkeypatch.setattr(app.client, "meters", closed_meters)
        submitted: list[object] = []
        monkeypatch.setattr(app.client, "submit_readings", lambda *args: submitted.append(args))
        await pilot.press("f2")
        await wait_for(pilot, lambda: screen_name(pilot) == "ReadingsScreen" and bool(form(pilot).rows))
        await wait_for(
            pilot, lambda: "15 декабря" in str(app.screen.query_one("#readings-window", Static).render())
        )
        assert app.screen.query_one("#readings-submit").disabled
        meter = form(pilot).meters[0]
        await type_into(pilot, f"#new-{meter.meter_id}", typed(previous_of(meter) + 1))
        await pilot.press("f2")
        await settle(pilot)
        assert "откроется 15 декабря" in status(pilot)
        assert not submitted


async def test_lapsed_session_asks_for_the_password_and_the_submit_goes_on(
    tmp_path: Path, app_data_dir: Path
) -> None:
    app = make_app(tmp_path, app_data_dir)
    async with app.run_test(size=(80, 24)) as pilot:
        meters = await open_readings(pilot)
        meter = meters[0]
        value = typed(previous_of(meter) + 1)
        await type_into(pilot, f"#new-{meter.meter_id}", value)
        assert app.client is not None
        app.client.forget()  # the portal no longer knows this resident's token
        await pilot.press("f2")
        await wait_for(pilot, lambda: isinstance(app.screen, ReloginDialog))
        await type_into(pilot, "#password", PASSWORD)
        await pilot.press("enter")
        await wait_for(pilot, lambda: screen_name(pilot) == "ReadingsScreen")
        await wait_for(pilot, lambda: "✓" in row_text(pilot, meter.meter_id, "meter-result"))
        assert value in row_text(pilot, meter.meter_id, "meter-result")


# --- without login -------------------------------------------------------------------------------------


async def open_public(pilot: Pilot[None], number: str = HAPPY) -> None:
    """From the login screen: F5, the account number, Enter; wait for step 2."""
    await wait_ready(pilot)
    await pilot.press("f5")
    await wait_for(pilot, lambda: screen_name(pilot) == "ReadingsWithoutLoginScreen")
    await type_into(pilot, "#account-number", number)
    await pilot.press("enter")
    await wait_for(pilot, lambda: top_screen(pilot.app, ReadingsWithoutLoginScreen).step == 2)
    await pilot.pause()


async def type_previous(pilot: Pilot[None], values: dict[int, str]) -> None:
    for meter_id, value in values.items():
        await type_into(pilot, f"#previous-{meter_id}", value)
    await pilot.press("enter")  # in the last field: check


async def test_wrong_previous_readings_get_one_message_naming_no_meter(
    tmp_path: Path, app_data_dir: Path
) -> None:
    app = make_app(tmp_path, app_data_dir)
    async with app.run_test(size=(80, 24)) as pilot:
        await open_public(pilot)
        lookup = top_screen(app, ReadingsWithoutLoginScreen).lookup
        assert lookup is not None
        # Serials are masked and no values are shown before the check.
        text = " ".join(str(widget.render()) for widget in app.screen.query("#previous-list Static"))
        assert "****" in text
        await type_previous(pilot, {meter.meter_id: "1" for meter in lookup.meters})
        await wait_for(pilot, lambda: "✗" in status(pilot, "#public-status"))
        message = status(pilot, "#public-status")
        assert "Предыдущие показания не совпадают" in message
        for meter in lookup.meters:
            assert meter.serial_masked not in message
        assert top_screen(app, ReadingsWithoutLoginScreen).step == 2
        assert app.client is not None and not app.client.has_readings_access


async def test_right_previous_readings_open_the_new_readings_form(tmp_path: Path, app_data_dir: Path) -> None:
    app = make_app(tmp_path, app_data_dir)
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_ready(pilot)
        previous = await previous_readings_of(app, HAPPY)
        await open_public(pilot)
        await type_previous(pilot, {meter_id: typed(value) for meter_id, value in previous.items()})
        await wait_for(pilot, lambda: top_screen(app, ReadingsWithoutLoginScreen).step == 3)
        public_form = form(pilot, "#public-form")
        assert all("****" in row_text(pilot, meter.meter_id, "meter-title") for meter in public_form.meters)
        first = public_form.meters[0]
        new = previous[first.meter_id] + 1
        await type_into(pilot, f"#new-{first.meter_id}", typed(new))
        await pilot.press("f2")
        await wait_for(pilot, lambda: "✓" in row_text(pilot, first.meter_id, "meter-result"))
        assert "Принято: 1" in status(pilot, "#public-status")
        await wait_for(pilot, lambda: "в этом месяце" in row_text(pilot, first.meter_id, "meter-previous"))
        # Leaving the screen forgets the readings token.
        assert app.client is not None and app.client.has_readings_access
        await pilot.press("escape", "escape", "escape")
        await wait_for(pilot, lambda: screen_name(pilot) == "LoginScreen")
        assert not app.client.has_readings_access


async def test_one_of_three_previous_readings_is_not_called_a_mismatch_and_f2_checks(
    tmp_path: Path, app_data_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from textual.widgets import Footer

    app = make_app(tmp_path, app_data_dir)
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_ready(pilot)
        previous = await previous_readings_of(app, HAPPY)
        await open_public(pilot)
        footer_text = " ".join(str(key.render()) for key in app.screen.query_one(Footer).query("FooterKey"))
        assert "Проверить" in footer_text  # the key of this step is on the footer
        client = portal_client(app)
        asked: list[tuple[str, Mapping[int, Decimal | str]]] = []
        original = client.public_check

        async def counting(account: str, previous_readings: Mapping[int, Decimal | str]) -> ReadingsAccess:
            asked.append((account, previous_readings))
            return await original(account, previous_readings)

        monkeypatch.setattr(client, "public_check", counting)
        first, *others = list(previous)
        await type_into(pilot, f"#previous-{first}", typed(previous[first]))  # right, but one of three
        await pilot.press("f2")
        await wait_for(pilot, lambda: "✗" in status(pilot, "#public-status"))
        message = status(pilot, "#public-status")
        assert "всех счётчиков" in message and "2 из 3" in message
        assert "не совпадают" not in message
        assert asked == []  # nothing was sent: no failed attempt counted against the resident
        assert app.screen.focused is app.screen.query_one(f"#previous-{others[0]}")
        for meter_id in others:
            note = str(app.screen.query_one(f"#previous-note-{meter_id}", Static).render())
            assert note.startswith("✗") and "квитанции" in note
        for meter_id in others:
            await type_into(pilot, f"#previous-{meter_id}", typed(previous[meter_id]))
        await pilot.press("f2")  # F2 checks on this step too
        await wait_for(pilot, lambda: top_screen(app, ReadingsWithoutLoginScreen).step == 3)
        assert len(asked) == 1


async def test_too_many_checks_say_how_long_to_wait(
    tmp_path: Path, app_data_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    app = make_app(tmp_path, app_data_dir)
    async with app.run_test(size=(80, 24)) as pilot:
        await open_public(pilot)
        assert app.client is not None

        async def throttled(*args: object) -> NoReturn:
            raise TooManyAttempts(429, "too_many_attempts", "Слишком много попыток.", retry_after=600)

        monkeypatch.setattr(app.client, "public_check", throttled)
        lookup = top_screen(app, ReadingsWithoutLoginScreen).lookup
        assert lookup is not None
        await type_previous(pilot, {meter.meter_id: "1" for meter in lookup.meters})
        await wait_for(pilot, lambda: "✗" in status(pilot, "#public-status"))
        assert "10 мин" in status(pilot, "#public-status")


async def test_unknown_account_number_is_said_on_step_one(tmp_path: Path, app_data_dir: Path) -> None:
    app = make_app(tmp_path, app_data_dir)
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_ready(pilot)
        await pilot.press("f5")
        await wait_for(pilot, lambda: screen_name(pilot) == "ReadingsWithoutLoginScreen")
        await pilot.press("enter")
        assert "Номер лицевого счета" in status(pilot, "#public-status")
        await type_into(pilot, "#account-number", "3500019999")
        await pilot.press("enter")
        await wait_for(pilot, lambda: "✗" in status(pilot, "#public-status"))
        assert "не найден" in status(pilot, "#public-status")
        assert top_screen(app, ReadingsWithoutLoginScreen).step == 1


# --- English -------------------------------------------------------------------------------------------


async def test_english_rendering_has_no_missing_words(tmp_path: Path, app_data_dir: Path) -> None:
    app = make_app(tmp_path, app_data_dir, language="en")
    async with app.run_test(size=(80, 24)) as pilot:
        await open_public(pilot, EXPIRED)
        assert "Previous reading" in " ".join(str(label.render()) for label in app.screen.query("Label"))
        await pilot.press("escape", "escape")
        await wait_for(pilot, lambda: screen_name(pilot) == "LoginScreen")
        meters = await open_readings(pilot, EXPIRED)
        hot = next(meter for meter in meters if meter.service == "hot_water")
        cold = next(meter for meter in meters if meter.service == "cold_water")
        assert "Verification expired" in row_text(pilot, hot.meter_id, "meter-warning")
        assert "Hot water" in row_text(pilot, hot.meter_id, "meter-title")
        assert "Previous reading" in row_text(pilot, cold.meter_id, "meter-previous")
        await type_into(pilot, f"#new-{cold.meter_id}", "1,23456")
        assert "after the comma, for example 12345,678" in row_text(pilot, cold.meter_id, "meter-note")
        await type_into(pilot, f"#new-{cold.meter_id}", typed(previous_of(cold) + 1))
        await pilot.press("f2")
        await wait_for(pilot, lambda: "✓" in row_text(pilot, cold.meter_id, "meter-result"))
        assert "accepted" in row_text(pilot, cold.meter_id, "meter-result")
        assert "Accepted: 1" in status(pilot)
        assert not app.t.missing
        assert not app.t.faulty


async def test_a_letter_typed_into_a_reading_is_refused_in_words(tmp_path: Path, app_data_dir: Path) -> None:
    app = make_app(tmp_path, app_data_dir)
    async with app.run_test(size=(80, 24)) as pilot:
        meters = await open_readings(pilot)
        cold = meters[0]
        await type_into(pilot, f"#new-{cold.meter_id}", "5бв")  # Cyrillic letters, the Russian layout left on
        assert app.screen.query_one(f"#new-{cold.meter_id}", Input).value == "5"
        note = row_text(pilot, cold.meter_id, "meter-note")
        assert note.startswith("✗") and "только цифры и запятая" in note and "«в»" in note
        # One burst of letters makes one message, not one per key.
        assert sum("только цифры" in n.message for n in app._notifications) == 1
        await pilot.press("0")  # typing on says how the value fits again
        assert "не вводится" not in row_text(pilot, cold.meter_id, "meter-note")
