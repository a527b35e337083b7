"""The history screens at 80×24 with the keyboard alone: reading history, payment history, the statement.

Each test logs in to a fresh copy of the embedded demo portal, opens a screen from home by its F-key and
checks what the resident sees against what the app's own client gets from the portal.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path
from typing import TypeVar

import pytest
from textual.pilot import Pilot

from screens.history_base import HistoryScreen
from screens.payment_history import PaymentHistoryScreen
from screens.reading_history import ReadingHistoryScreen
from screens.statement import StatementScreen
from tests.support.app import (
    HAPPY,
    assert_in_view,
    login,
    make_app,
    screen_name,
    text_of,
    type_into,
    wait_for,
)
from tui.formatting import Money, billing_today
from tui.models import PaymentPurpose
from widgets.charts import ConsumptionChart, MonthlyBarChart
from widgets.period_form import PeriodForm, default_period
from widgets.sortable_table import ASCENDING_MARK, DESCENDING_MARK, SortableTable

SIZE = (80, 24)

T = TypeVar("T")


def history_screen(pilot: Pilot[None]) -> HistoryScreen:
    screen = pilot.app.screen
    assert isinstance(screen, HistoryScreen)
    return screen


async def open_from_home(pilot: Pilot[None], key: str, screen_class: type[HistoryScreen]) -> HistoryScreen:
    """From home, press ``key`` and wait until the screen has shown the default period."""
    await wait_for(pilot, lambda: screen_name(pilot) == "HomeScreen")
    await pilot.press(key)
    await wait_for(pilot, lambda: isinstance(pilot.app.screen, screen_class))
    await wait_for(pilot, lambda: history_screen(pilot).loaded)
    await pilot.pause()
    return history_screen(pilot)


def column(table: SortableTable, key: str, kind: type[T]) -> list[T | None]:
    """The values of the column ``key`` in the order shown, each a ``kind`` or empty."""
    index = [c.key for c in table.table_columns].index(key)
    return [typed(row.values[index], kind) for row in table.ordered_rows]


def typed(value: object, kind: type[T]) -> T | None:
    """A table's value, which the test expects to be a ``kind`` (or empty)."""
    assert value is None or isinstance(value, kind), f"{value!r} is not a {kind.__name__}"
    return value


def notifications(pilot: Pilot[None]) -> list[str]:
    return [notification.message for notification in pilot.app._notifications]


# --- reading history -----------------------------------------------------------------------------------


async def test_reading_history_shows_the_default_period_sorts_and_charts(
    tmp_path: Path, app_data_dir: Path
) -> None:
    app = make_app(tmp_path, app_data_dir)
    async with app.run_test(size=SIZE) as pilot:
        await login(pilot)
        screen = await open_from_home(pilot, "f3", ReadingHistoryScreen)
        assert screen.period == default_period(billing_today())
        assert app.client is not None
        expected = await app.client.reading_history(*default_period(billing_today()))
        table = screen.table
        assert table.row_count == len(expected.readings) > 0
        assert table.has_focus  # the answer is ready for arrows and sorting
        assert {value for value in column(table, "status", str)} <= {"принято", "заменено"} | {
            f"{s}, переход через ноль" for s in ("принято", "заменено")
        }

        await pilot.press("right", "right", "right")  # the «Расход» column
        await pilot.press("s")
        consumption = [value for value in column(table, "consumption", Decimal) if value is not None]
        assert consumption == sorted(consumption)
        assert table.columns["consumption"].label.plain.endswith(ASCENDING_MARK)
        first_ascending = typed(table.ordered_rows[0].values[3], Decimal)
        await pilot.press("r")
        assert typed(table.ordered_rows[0].values[3], Decimal) == max(consumption)
        assert table.columns["consumption"].label.plain.endswith(DESCENDING_MARK)
        assert first_ascending is None or first_ascending == min(consumption)
        assert "по убыванию" in text_of(pilot, "#reading-summary")

        # The chart draws the meters of one unit at a time; `g` goes on to the next unit, then hides it.
        chart = screen.query_one(ConsumptionChart)
        assert chart.is_mounted and chart.display and chart.meters
        assert all(len(values) == len(chart.periods) for values in chart.meters.values())
        units = {reading.unit for reading in expected.readings}
        assert chart.unit in units
        seen = {chart.unit}
        for _ in range(len(units) - 1):
            await pilot.press("g")
            assert chart.display
            seen.add(chart.unit)
        assert seen == units
        await pilot.press("g")
        assert not chart.display
        await pilot.press("п")
        assert chart.display and chart.meters


async def test_invalid_period_is_named_and_nothing_is_lost(tmp_path: Path, app_data_dir: Path) -> None:
    app = make_app(tmp_path, app_data_dir)
    async with app.run_test(size=SIZE) as pilot:
        await login(pilot)
        screen = await open_from_home(pilot, "f3", ReadingHistoryScreen)
        rows_before = screen.table.row_count
        form = screen.query_one(PeriodForm)

        await type_into(pilot, "#period-from Input", "01.01.2090")
        await pilot.press("enter")
        assert form.error is not None and "Начало периода" in form.error and "позже конца" in form.error
        assert form.date_from_field.input.value == "01.01.2090"
        assert screen.table.row_count == rows_before

        await type_into(pilot, "#period-from Input", "01.01.2015")
        await pilot.press("f2")
        assert form.error is not None and "Конец периода" in form.error and "5 лет" in form.error

        await type_into(pilot, "#period-to Input", "31.02.2026")
        await pilot.press("enter")
        messages = " ".join(form.errors())
        assert "Конец периода" in messages and "31.02.2026" in messages
        assert form.date_to_field.input.value == "31.02.2026"
        assert form.date_from_field.input.value == "01.01.2015"
        assert screen.table.row_count == rows_before
        assert screen.period == default_period(billing_today())  # nothing was asked with a bad period


async def test_an_impossible_date_keeps_the_form_in_place_and_its_message_goes_when_fixed(
    tmp_path: Path, app_data_dir: Path
) -> None:
    """32.13.2025 in «С»: «По» and «Показать» stay where they were, the message is on its own line."""
    app = make_app(tmp_path, app_data_dir)
    async with app.run_test(size=SIZE) as pilot:
        await login(pilot)
        screen = await open_from_home(pilot, "f3", ReadingHistoryScreen)
        form = screen.query_one(PeriodForm)
        parts = ("#period-from", "#period-to", ".period-form--show")
        before = [screen.query_one(part).region for part in parts]

        await type_into(pilot, "#period-from Input", "32.13.2025")
        await pilot.press("enter")
        await pilot.pause()
        assert "32.13.2025" in " ".join(form.errors())
        assert [screen.query_one(part).region for part in parts] == before
        assert_in_view(pilot, *parts, ".period-form--error")
        line = screen.query_one(".period-form--error")
        assert "Начало периода" in str(line.render())
        assert line.region.y >= before[0].bottom  # under the row, not beside it

        await type_into(pilot, "#period-from Input", "01.01.2026")
        await pilot.pause()
        assert form.errors() == []
        assert not line.display or not str(line.render()).strip()
        assert [screen.query_one(part).region for part in parts] == before


# --- payment history -----------------------------------------------------------------------------------


async def test_payment_history_totals_are_the_sum_of_the_rows(tmp_path: Path, app_data_dir: Path) -> None:
    app = make_app(tmp_path, app_data_dir)
    async with app.run_test(size=SIZE) as pilot:
        await login(pilot)
        screen = await open_from_home(pilot, "f4", PaymentHistoryScreen)
        assert app.client is not None
        history = await app.client.payment_history(*default_period(billing_today()))
        assert screen.table.row_count == len(history.payments) > 0

        def total(purpose: PaymentPurpose | None) -> Money:
            amounts = [p.amount for p in history.payments if purpose is None or p.purpose is purpose]
            return sum(amounts, Money(0))

        totals = text_of(pilot, "#payment-totals")
        assert f"Всего оплачено: {total(None)}" in totals
        assert f"Итого за ЖКУ: {total(PaymentPurpose.UTILITIES)}" in totals
        assert f"Итого взносов на капремонт: {total(PaymentPurpose.CAPITAL_REPAIR)}" in totals
        amounts = column(screen.table, "amount", Money)
        assert None not in amounts
        assert sum((amount for amount in amounts if amount is not None), Money(0)) == total(None)
        assert set(column(screen.table, "purpose", str)) <= {
            "Жилищно-коммунальные услуги",
            "Взнос на капитальный ремонт",
        }
        chart = screen.query_one(MonthlyBarChart)
        assert chart.is_mounted and len(chart.series) == 2 and chart.months


# --- statement -----------------------------------------------------------------------------------------


async def charge_penalties(data_dir: Path, number: str, period: dt.date, penalties: Money) -> None:
    """The billing center's import charged ``penalties`` (пени) with a service of ``number`` in ``period``."""
    from sqlalchemy import select, update
    from sqlalchemy.ext.asyncio import create_async_engine

    from portal.models import Account, Charge

    engine = create_async_engine(f"sqlite+aiosqlite:///{data_dir / 'portal.sqlite3'}")
    try:
        async with engine.begin() as connection:
            accounts = await connection.execute(select(Account.id).where(Account.number == number))
            account_id = accounts.scalar_one()
            charge_id = (
                await connection.execute(
                    select(Charge.id)
                    .where(Charge.account_id == account_id, Charge.period == period)
                    .order_by(Charge.id)
                    .limit(1)
                )
            ).scalar_one()
            await connection.execute(
                update(Charge).where(Charge.id == charge_id).values(penalties_kopecks=penalties.kopecks)
            )
    finally:
        await engine.dispose()


async def test_statement_rows_balance_and_the_payee_switches(tmp_path: Path, app_data_dir: Path) -> None:
    period = default_period(billing_today())
    first_month = period[0].replace(day=1)
    penalties = Money(123_456)
    await charge_penalties(app_data_dir, HAPPY, first_month, penalties)
    downloads = tmp_path / "dl"
    app = make_app(tmp_path, app_data_dir, downloads_dir=str(downloads))
    async with app.run_test(size=SIZE) as pilot:
        await login(pilot)
        screen = await open_from_home(pilot, "f6", StatementScreen)
        assert isinstance(screen, StatementScreen)
        assert app.client is not None
        statement = await app.client.statement(*period, PaymentPurpose.UTILITIES)
        table = screen.table
        assert table.row_count == len(statement.months) > 0
        for row in table.ordered_rows:
            _month, opening, charged, recalculation, charged_penalties, paid, closing = row.values
            assert isinstance(opening, Money) and isinstance(closing, Money)
            assert isinstance(charged, Money) and isinstance(recalculation, Money) and isinstance(paid, Money)
            assert isinstance(charged_penalties, Money)
            assert opening + charged + recalculation + charged_penalties - paid == closing
        assert "+ пени − оплачено = исходящее сальдо" in text_of(pilot, "#statement-rule")
        # The month's penalties in their own column, every column whole within 80 columns.
        header, first = _line(table, 0), _line(table, 1)
        words = ["Месяц", "Вх.", "сальдо", "Начислено", "Перерасчёт", "Пени", "Оплачено", "Исх.", "сальдо"]
        assert header.split() == words
        assert first.startswith(f" {first_month:%m.%Y}") and str(penalties) in first
        assert table.size.width <= SIZE[0] and table.scroll_offset.x == 0
        # Saved for a spreadsheet, the headers are whole.
        await pilot.press("ctrl+s")
        (saved,) = downloads.glob("nachisleniya-*.csv")
        assert saved.read_text("utf-8-sig").splitlines()[0] == (
            "Месяц;Входящее сальдо;Начислено;Перерасчёт;Пени;Оплачено;Исходящее сальдо"
        )

        # The service lines follow the cursor.
        await pilot.press("down")
        month = statement.months[1]
        await wait_for(pilot, lambda: screen.lines_table.row_count == len(month.lines))
        assert "Начисления за" in text_of(pilot, "#statement-details-title")
        # Volumes as a person writes them: 37,47 м², 248 кВт·ч — not the storage's 37,4700 and 248,0000.
        volumes = [str(screen.lines_table.get_row_at(i)[1].__rich__()) for i in range(len(month.lines))]
        assert any(line.volume != line.volume.to_integral_value() for line in month.lines)
        assert volumes and not any(volume.endswith("0") and "," in volume for volume in volumes), volumes

        await pilot.press("p")
        await wait_for(
            pilot, lambda: screen.statement is not None and screen.statement.purpose == "capital_repair"
        )
        capital = await app.client.statement(*period, PaymentPurpose.CAPITAL_REPAIR)
        assert table.row_count == len(capital.months)
        assert "Фонд капитального ремонта" in text_of(pilot, "#statement-purpose")
        await pilot.press("escape")
        await wait_for(pilot, lambda: screen_name(pilot) == "HomeScreen")


# --- saving --------------------------------------------------------------------------------------------


async def test_ctrl_s_saves_the_table_for_excel(tmp_path: Path, app_data_dir: Path) -> None:
    downloads = tmp_path / "dl"
    app = make_app(tmp_path, app_data_dir, downloads_dir=str(downloads))
    async with app.run_test(size=SIZE) as pilot:
        await login(pilot)
        screen = await open_from_home(pilot, "f4", PaymentHistoryScreen)
        await pilot.press("ctrl+s")
        files = list(downloads.glob("istoriya-platezhey-*.csv"))
        assert len(files) == 1
        # Named like the receipts (``kvitanciya-3500012007-2026-11.pdf``): what, whose, when.
        assert files[0].name.startswith(f"istoriya-platezhey-{HAPPY}-") and files[0].name.count("-") == 8
        raw = files[0].read_bytes()
        assert raw.startswith(b"\xef\xbb\xbf")
        lines = raw.decode("utf-8-sig").splitlines()
        assert lines[0] == "Дата;Сумма;Назначение;Способ оплаты"
        assert len(lines) == screen.table.row_count + 1
        assert any(str(files[0]) in message for message in notifications(pilot))


async def test_kiosk_refuses_to_save(tmp_path: Path, app_data_dir: Path) -> None:
    downloads = tmp_path / "dl"
    app = make_app(tmp_path, app_data_dir, kiosk=True, downloads_dir=str(downloads))
    async with app.run_test(size=SIZE) as pilot:
        await login(pilot)
        await open_from_home(pilot, "f6", StatementScreen)
        await pilot.press("ctrl+s")
        assert not downloads.exists() or not list(downloads.iterdir())
        assert "На общем терминале сохранять файлы нельзя." in notifications(pilot)


# --- English -------------------------------------------------------------------------------------------


async def test_every_history_screen_in_english(tmp_path: Path, app_data_dir: Path) -> None:
    app = make_app(tmp_path, app_data_dir, language="en")
    async with app.run_test(size=SIZE) as pilot:
        await login(pilot)
        for key, screen_class in (
            ("f3", ReadingHistoryScreen),
            ("f4", PaymentHistoryScreen),
            ("f6", StatementScreen),
        ):
            screen = await open_from_home(pilot, key, screen_class)
            assert screen.table.row_count > 0
            labels = {active.binding.description for active in screen.active_bindings.values()}
            assert {"Show", "Save", "Back"} <= labels
            await pilot.press("escape")
        assert not app.t.missing
        assert not app.t.faulty


def _line(table: SortableTable, y: int) -> str:
    return table.render_line(y).text


@pytest.mark.parametrize("lang", ["ru", "en"])
async def test_key_columns_fit_80_columns_and_the_row_stays_named_when_scrolled(
    tmp_path: Path, app_data_dir: Path, lang: str
) -> None:
    """Reading history: period … status whole at 80 columns (also sorted); the statement: every sum.

    Scrolled to the last column, the period and the meter (the month) are still at the left.
    """
    app = make_app(tmp_path, app_data_dir, language=lang)
    async with app.run_test(size=SIZE) as pilot:
        await login(pilot)
        screen = await open_from_home(pilot, "f3", ReadingHistoryScreen)
        table = screen.table
        t = app.t
        keys = ["period", "serial", "value", "consumption", "submitted_at", "source", "status"]
        for sorted_by in (None, "status"):
            if sorted_by:
                table.sort_by(sorted_by)
                await pilot.pause()
            header = _line(table, 0)
            for key in keys:
                assert table.table_columns[[c.key for c in table.table_columns].index(key)].label in header
            statuses = {t("reading_history.accepted"), t("reading_history.replaced")}
            first = _line(table, 1)
            assert any(status in first for status in statuses), first
        period = typed(table.ordered_rows[0].values[0], dt.date)
        serial = typed(table.ordered_rows[0].values[1], str)
        assert period is not None and serial is not None
        await pilot.press("end")  # to the last column: the service
        await pilot.pause()
        assert table.scroll_offset.x > 0
        header, first = _line(table, 0), _line(table, 1)
        assert header.lstrip().startswith(t("reading_history.column_period"))
        assert t("reading_history.column_service") in header
        assert f"{period.month:02d}.{period.year}" in first and serial in first
        # Beside the fixed columns the view starts at a whole column, not in the middle of one.
        after_fixed = header[table._fixed_width :]
        assert any(after_fixed.startswith(column.label) for column in table.table_columns), header
        await pilot.press("home")
        assert table.scroll_offset.x == 0

        await pilot.press("escape")
        screen = await open_from_home(pilot, "f6", StatementScreen)
        table = screen.query_one("#statement-table", SortableTable)
        header = _line(table, 0)
        for column in table.table_columns:
            assert column.label in header
