"""The reusable widgets at 80×24 with the keyboard alone: date field and calendar, sortable table,
charts, status line. Each test runs a small app holding just the widget under test."""

from __future__ import annotations

import csv
import datetime as dt
import re
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from textual.app import App, ComposeResult
from textual.pilot import Pilot
from textual.widgets import Footer, Input
from textual.widgets._footer import FooterKey

from tests.support.app import SnapCompare
from tui.formatting import Money
from tui.i18n import Translator
from widgets.calendar import CalendarPopup, MonthCalendar, add_months, month_weeks
from widgets.charts import ConsumptionChart, MonthlyBarChart, nice_ticks, row_ticks, short_month_label
from widgets.date_field import DateField
from widgets.sortable_table import ColumnType, SortableTable, TableColumn
from widgets.status import LoadingStatus, StatusState

SIZE = (80, 24)
TODAY = dt.date(2026, 11, 20)


# --- date field and calendar ---------------------------------------------------------------------------


class DateFieldApp(App[None]):
    def __init__(self, **field_options: Any) -> None:
        super().__init__()
        self.field_options = field_options
        self.changes: list[dt.date | None] = []

    def compose(self) -> ComposeResult:
        yield DateField(id="date-from", today=TODAY, **self.field_options)
        yield Input(id="other")

    def on_mount(self) -> None:
        self.query_one(DateField).focus()

    def on_date_field_changed(self, event: DateField.Changed) -> None:
        assert event.control is self.query_one(DateField)
        self.changes.append(event.value)


def calendar_of(app: App[Any]) -> MonthCalendar:
    assert isinstance(app.screen, CalendarPopup)
    return app.screen.query_one(MonthCalendar)


async def test_typed_date_becomes_the_value_and_is_announced() -> None:
    app = DateFieldApp(label="Начало периода")
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press(*"25.11.2026", "enter")
        field = app.query_one(DateField)
        assert field.value == dt.date(2026, 11, 25)
        assert field.error is None
        assert app.changes == [dt.date(2026, 11, 25)]


async def test_letters_cannot_be_typed_into_a_date() -> None:
    async with DateFieldApp().run_test(size=SIZE) as pilot:
        await pilot.press(*"2x5.1a1.2026")
        assert pilot.app.query_one(DateField).input.value == "25.11.2026"


async def test_invalid_date_shows_a_message_naming_the_field_and_the_format() -> None:
    app = DateFieldApp(label="Начало периода")
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press(*"25.11.26", "enter")
        field = app.query_one(DateField)
        assert field.value is None
        assert field.error is not None
        assert "Начало периода" in field.error and "ДД.ММ.ГГГГ" in field.error
        error_line = field.query_one(".date-field--error")
        assert error_line.display and error_line.region.height >= 1
        assert field.input.has_class("-invalid")
        # Fixing the text clears the message while typing.
        await pilot.press("backspace", "backspace", *"2026")
        assert field.value == dt.date(2026, 11, 25)
        assert field.error is None and not error_line.display


async def test_leaving_a_half_typed_date_shows_the_message_in_english() -> None:
    app = DateFieldApp(label="Period start", translator=Translator("en"))
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press(*"31.02.2026", "tab")
        field = app.query_one(DateField)
        assert field.error is not None and field.error.startswith('Field "Period start"')
        assert "31.02.2026" in field.error


async def test_error_text_callable_writes_the_message() -> None:
    app = DateFieldApp(error_text=lambda error: f"плохо: {error.key}")
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press(*"1.1", "enter")
        assert app.query_one(DateField).error == "плохо: input.date_invalid"


async def test_required_empty_field_and_range_are_checked() -> None:
    app = DateFieldApp(required=True, max_date=TODAY, label="Дата")
    async with app.run_test(size=SIZE) as pilot:
        field = app.query_one(DateField)
        assert field.validate() is None
        assert field.error is not None and "ДД.ММ.ГГГГ" in field.error
        await pilot.press(*"21.11.2026", "enter")
        assert field.error is not None and "позже 20.11.2026" in field.error
        assert not field.is_valid


async def test_f4_opens_the_calendar_and_keys_pick_a_date() -> None:
    app = DateFieldApp(value=dt.date(2026, 11, 18), label="Начало периода")
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("f4")
        calendar = calendar_of(app)
        assert calendar.has_focus and calendar.cursor_date == dt.date(2026, 11, 18)
        await pilot.press("right", "right")  # 20.11
        await pilot.press("down")  # 27.11
        await pilot.press("left")  # 26.11
        await pilot.press("up")  # 19.11
        assert calendar.cursor_date == dt.date(2026, 11, 19)
        await pilot.press("pagedown")  # 19.12
        await pilot.press("end")  # 31.12
        assert calendar.cursor_date == dt.date(2026, 12, 31)
        await pilot.press("pagedown", "pageup", "pageup")  # 31.01 → 31.12 → 30.11: clamped to the month
        assert calendar.cursor_date == dt.date(2026, 11, 30)
        await pilot.press("home")
        assert calendar.cursor_date == dt.date(2026, 11, 1)
        await pilot.press("enter")
        assert not isinstance(app.screen, CalendarPopup)
        field = app.query_one(DateField)
        assert field.value == dt.date(2026, 11, 1)
        assert field.input.value == "01.11.2026"
        assert field.input.has_focus
        assert app.changes[-1] == dt.date(2026, 11, 1)


async def test_esc_closes_the_calendar_without_changing_the_date() -> None:
    app = DateFieldApp(value=dt.date(2026, 11, 18))
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("alt+down")
        assert isinstance(app.screen, CalendarPopup)
        await pilot.press("pagedown", "right", "escape")
        assert not isinstance(app.screen, CalendarPopup)
        field = app.query_one(DateField)
        assert field.value == dt.date(2026, 11, 18)
        assert field.error is None  # opening the popup is not "leaving" the field
        assert app.changes == []


async def test_calendar_opens_on_today_for_an_empty_field_and_by_mouse() -> None:
    app = DateFieldApp()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.click(".date-field--calendar")
        calendar = calendar_of(app)
        assert calendar.cursor_date == TODAY
        await pilot.press("enter")
        assert app.query_one(DateField).value == TODAY


async def test_calendar_marks_cursor_selected_and_today_without_colour() -> None:
    app = DateFieldApp(value=dt.date(2026, 11, 18))
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("f4", "down")  # cursor 25.11, the field holds 18.11, today is 20.11
        calendar = calendar_of(app)
        text = calendar.render().plain
        lines = text.splitlines()
        assert lines[0].strip() == "Ноябрь 2026"
        assert lines[1].split() == ["Пн", "Вт", "Ср", "Чт", "Пт", "Сб", "Вс"]
        assert "[25]" in text and "(18)" in text and "20•" in text
        assert len(lines) == 8  # title, weekdays, six weeks: the popup never changes height


async def test_calendar_keeps_the_cursor_in_the_allowed_range() -> None:
    app = DateFieldApp(value=dt.date(2026, 11, 18), max_date=TODAY)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("f4", "pagedown")
        assert calendar_of(app).cursor_date == TODAY
        assert "-" not in calendar_of(app).render().plain.splitlines()[0]


async def test_value_set_by_code_fills_or_clears_the_text_and_language_can_change() -> None:
    translator = Translator("ru")
    app = DateFieldApp(translator=translator, label="Дата")
    async with app.run_test(size=SIZE) as pilot:
        field = app.query_one(DateField)
        assert field.input.placeholder == "ДД.ММ.ГГГГ"
        field.value = dt.date(2026, 2, 1)
        await pilot.pause()
        assert field.input.value == "01.02.2026"
        field.value = None
        await pilot.pause()
        assert field.input.value == ""
        assert app.changes == [dt.date(2026, 2, 1), None]
        await pilot.press(*"1.1", "enter")
        translator.set_language("en")
        field.update_language()
        assert field.input.placeholder == "DD.MM.YYYY"
        assert field.error is not None and field.error.startswith('Field "Дата"')


def test_month_helpers() -> None:
    assert add_months(dt.date(2026, 1, 31), 1) == dt.date(2026, 2, 28)
    assert add_months(dt.date(2026, 1, 15), -2) == dt.date(2025, 11, 15)
    weeks = month_weeks(2026, 11)
    assert len(weeks) == 6 and weeks[0][:6] == [None] * 6 and weeks[0][6] == dt.date(2026, 11, 1)


class CalendarSnapshotApp(App[None]):
    def on_mount(self) -> None:
        self.push_screen(CalendarPopup(dt.date(2026, 11, 18), today=TODAY, field_label="Начало периода"))


def test_calendar_popup_snapshot(snap_compare: SnapCompare) -> None:
    # Cursor moved to 25.11 so the cursor [25], the field's date (18) and today 20• all show.
    assert snap_compare(CalendarSnapshotApp(), press=["down"], terminal_size=SIZE)


# --- sortable table ------------------------------------------------------------------------------------

COLUMNS = [
    TableColumn("date", "Дата", ColumnType.DATE),
    TableColumn("service", "Услуга"),
    TableColumn("amount", "Сумма", ColumnType.MONEY),
    TableColumn("volume", "Объём", ColumnType.NUMBER, decimals=3),
]

ROWS: list[tuple[object, ...]] = [
    (dt.date(2026, 3, 5), "Отопление", Money(102312), Decimal("12.5")),
    (dt.date(2025, 12, 31), "электроснабжение", Money(99), Decimal("100")),
    (dt.date(2026, 1, 10), "=HYPERLINK(1)", Money(-500), None),
    (dt.date(2026, 10, 1), "Водоотведение", Money(2000000), Decimal("9.75")),
]


class TableApp(App[None]):
    def __init__(self, translator: Translator | None = None) -> None:
        super().__init__()
        self.translator = translator
        self.sorted: list[tuple[str, bool]] = []

    def compose(self) -> ComposeResult:
        yield SortableTable(COLUMNS, translator=self.translator)
        yield Footer()

    def on_mount(self) -> None:
        table = self.query_one(SortableTable)
        table.load(ROWS)
        table.focus()

    def on_sortable_table_sorted(self, event: SortableTable.Sorted) -> None:
        self.sorted.append((event.column_key, event.reverse))


def column_values(table: SortableTable, key: str) -> list[object]:
    index = [column.key for column in table.table_columns].index(key)
    return [table.typed_row(row.key)[index] for row in table.ordered_rows]


def header_labels(table: SortableTable) -> list[str]:
    return [column.label.plain for column in table.columns.values()]


async def test_s_sorts_the_cursor_column_and_r_reverses_it_with_arrows_in_the_header() -> None:
    app = TableApp()
    async with app.run_test(size=SIZE) as pilot:
        table = app.query_one(SortableTable)
        await pilot.press("right", "right")  # the "Сумма" column
        await pilot.press("s")
        assert column_values(table, "amount") == [Money(-500), Money(99), Money(102312), Money(2000000)]
        assert header_labels(table) == ["Дата", "Услуга", "Сумма ▲", "Объём"]
        await pilot.press("r")
        assert column_values(table, "amount") == [Money(2000000), Money(102312), Money(99), Money(-500)]
        assert header_labels(table) == ["Дата", "Услуга", "Сумма ▼", "Объём"]
        assert app.sorted == [("amount", False), ("amount", True)]
        assert table.sort_description() == "Сортировка: Сумма, по убыванию"


async def test_cyrillic_twins_sort_numbers_as_numbers_and_dates_as_dates() -> None:
    app = TableApp()
    async with app.run_test(size=SIZE) as pilot:
        table = app.query_one(SortableTable)
        await pilot.press("ы")  # cursor in the first column: dates
        assert column_values(table, "date") == sorted(row[0] for row in ROWS if isinstance(row[0], dt.date))
        assert header_labels(table)[0] == "Дата ▲"
        await pilot.press("к")
        assert column_values(table, "date")[0] == dt.date(2026, 10, 1)
        assert header_labels(table)[0] == "Дата ▼"
        await pilot.press("right", "right", "right", "ы")  # volumes: 9.75 < 12.5 < 100, blank first
        assert column_values(table, "volume") == [None, Decimal("9.75"), Decimal("12.5"), Decimal("100")]
        assert header_labels(table) == ["Дата", "Услуга", "Сумма", "Объём ▲"]
        await pilot.press("ы")  # again on the same column: the other way round
        assert column_values(table, "volume") == [Decimal("100"), Decimal("12.5"), Decimal("9.75"), None]
        await pilot.press("left", "left", "ы")  # text ignores case: «электроснабжение» after «Отопление»
        assert column_values(table, "service") == [
            "=HYPERLINK(1)",
            "Водоотведение",
            "Отопление",
            "электроснабжение",
        ]


async def test_with_a_row_cursor_s_steps_through_the_columns() -> None:
    class RowCursorApp(App[None]):
        def compose(self) -> ComposeResult:
            yield SortableTable(COLUMNS, cursor_type="row")

        def on_mount(self) -> None:
            self.query_one(SortableTable).load(ROWS)
            self.query_one(SortableTable).focus()

    app = RowCursorApp()
    async with app.run_test(size=SIZE) as pilot:
        table = app.query_one(SortableTable)
        await pilot.press("s")
        assert table.sort_column == "date"
        await pilot.press("s")
        assert table.sort_column == "service" and not table.sort_reverse
        await pilot.press("к")
        assert table.sort_reverse and header_labels(table)[1] == "Услуга ▼"


async def test_cells_draw_the_russian_way() -> None:
    app = TableApp()
    async with app.run_test(size=SIZE):
        table = app.query_one(SortableTable)
        first = table.get_row_at(0)
        rendered = [getattr(cell, "__rich__")().plain for cell in first]
        assert rendered == ["05.03.2026", "Отопление", "1\u00a0023,12\u00a0₽", "12,500"]
        assert getattr(table.get_row_at(2)[3], "__rich__")().plain == "—"


async def test_load_keeps_the_sort_and_checks_types() -> None:
    app = TableApp()
    async with app.run_test(size=SIZE):
        table = app.query_one(SortableTable)
        table.sort_by("amount", reverse=True)
        table.load(ROWS[:2], row_keys=["a", "b"])
        assert column_values(table, "amount") == [Money(102312), Money(99)]
        assert table.typed_row("b")[2] == Money(99)
        with pytest.raises(TypeError, match="amount"):
            table.load([(dt.date(2026, 1, 1), "x", Decimal("1.00"), None)])


async def footer_descriptions(pilot: Pilot[None]) -> list[str]:
    await pilot.pause()
    return [key.description for key in pilot.app.screen.query(FooterKey) if key.action != "command_palette"]


async def test_footer_shows_translated_sort_keys() -> None:
    async with TableApp(Translator("en")).run_test(size=SIZE) as pilot:
        assert await footer_descriptions(pilot) == ["Sort", "Reverse order"]
    async with TableApp().run_test(size=SIZE) as pilot:
        assert await footer_descriptions(pilot) == ["Сортировка", "Обратный порядок"]


async def test_csv_export_is_for_excel(tmp_path: Path) -> None:
    app = TableApp()
    async with app.run_test(size=SIZE) as pilot:
        table = app.query_one(SortableTable)
        await pilot.press("right", "right", "s")  # by amount, ascending
        written = table.export_csv(tmp_path / "payments.csv")
    assert written == tmp_path / "payments.csv"
    raw = written.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    text = raw.decode("utf-8-sig")
    assert text.splitlines() == [
        "Дата;Услуга;Сумма;Объём",
        "10.01.2026;'=HYPERLINK(1);-5,00;",
        "31.12.2025;электроснабжение;0,99;100,000",
        "05.03.2026;Отопление;1023,12;12,500",
        "01.10.2026;Водоотведение;20000,00;9,750",
    ]
    rows = list(csv.reader(text.splitlines(), delimiter=";"))
    assert all(len(row) == 4 for row in rows)


# --- charts --------------------------------------------------------------------------------------------

MONTHS = [dt.date(2026, month, 1) for month in range(1, 13)]


class ChartApp(App[None]):
    def __init__(self, *, console_profile: bool = False) -> None:
        super().__init__()
        self.console_profile = console_profile

    def compose(self) -> ComposeResult:
        yield MonthlyBarChart(title="График оплат", console_profile=self.console_profile, id="bars")
        yield ConsumptionChart(title="Расход", console_profile=self.console_profile, id="lines")


@pytest.mark.parametrize("console", [False, True])
async def test_charts_mount_and_draw_at_80x24(console: bool) -> None:
    app = ChartApp(console_profile=console)
    async with app.run_test(size=SIZE) as pilot:
        bars = app.query_one(MonthlyBarChart)
        lines = app.query_one(ConsumptionChart)
        empty = bars.render()
        assert "Нет данных" in str(empty)
        bars.set_data(
            MONTHS,
            {
                "ЖКУ": [Money(300000 + 1000 * i) for i in range(12)],
                "Капремонт": [Money(42000) if i % 2 else None for i in range(12)],
            },
        )
        lines.set_data(
            MONTHS,
            {"ХВС": [Decimal(5 + i % 3) for i in range(12)], "ГВС": [Decimal("2.5")] + [None] * 11},
            unit="м³",
        )
        await pilot.pause()
        bar_text = str(bars.render())
        line_text = str(lines.render())
        assert "янв 26" in bar_text and "ЖКУ" in bar_text and "Капремонт" in bar_text
        assert "3\u00a0000" in bar_text  # rubles on the y axis, Russian thousands
        assert "ХВС" in line_text and "м³" in line_text
        if console:
            assert "#" in bar_text and "*" in line_text
            assert not any("\u2800" <= char <= "\u28ff" for char in bar_text + line_text)  # no braille
        assert app.query_one("#bars").region.height >= 10


async def test_charts_use_the_colourless_theme_with_no_color(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NO_COLOR", "1")
    app = ChartApp()
    async with app.run_test(size=SIZE):
        assert app.query_one(MonthlyBarChart).theme == "clear"
        assert app.query_one(ConsumptionChart).theme == "clear"


def _plain(text: object) -> list[str]:
    return re.sub(r"\x1b\[[0-9;]*m", "", str(text)).splitlines()


def _labelled_rows(lines: list[str]) -> list[tuple[int, Decimal]]:
    """(row from the bottom of the plot, value) of each y tick label drawn in the chart."""
    plot = [line for line in lines if "┤" in line or ("│" in line and "┌" not in line)]
    labelled = []
    for index, line in enumerate(plot):
        label, sep, _ = line.partition("┤")
        if sep:
            number = label.replace("\u00a0", "").replace(" ", "").replace(",", ".")
            labelled.append((len(plot) - 1 - index, Decimal(number)))
    return labelled


class PaymentChartApp(App[None]):
    CSS = "MonthlyBarChart { height: 9; } ConsumptionChart { height: 12; }"

    def compose(self) -> ComposeResult:
        yield MonthlyBarChart(title="График оплат", id="bars")
        yield ConsumptionChart(title="Расход", id="lines")


@pytest.mark.parametrize("top", [809130, 1051800, 42000, 310000])
async def test_chart_ticks_sit_at_their_true_heights_and_the_legend_is_off_the_bars(top: int) -> None:
    """Every y label is on the row of its value (a linear scale), the legend and ₽ are on the title line."""
    app = PaymentChartApp()
    async with app.run_test(size=SIZE) as pilot:
        bars = app.query_one(MonthlyBarChart)
        bars.set_data(
            MONTHS, {"ЖКУ": [Money(top - 3000 * i) for i in range(12)], "Капремонт": [Money(62987)] * 12}
        )
        lines = app.query_one(ConsumptionChart)
        lines.set_data(MONTHS, {"ХВС": [Decimal(top % 7 + i % 3) for i in range(12)]}, unit="м³")
        await pilot.pause()
        for chart in (bars, lines):
            drawn = _plain(chart.render())
            rows = _labelled_rows(drawn)
            assert len(rows) >= 2, drawn
            (row0, value0), (row1, value1) = rows[-1], rows[-2]
            per_row = (value1 - value0) / (row1 - row0)
            assert per_row > 0
            for row, value in rows:  # each label where a linear scale puts its value
                assert value == value0 + per_row * (row - row0), drawn
        drawn = _plain(bars.render())
        assert "ЖКУ" in drawn[0] and "Капремонт" in drawn[0] and "₽" in drawn[0]
        assert not any("ЖКУ" in line or "Капремонт" in line for line in drawn[1:])
        assert not any(line.strip() == "₽" for line in drawn)
        assert "м³" in _plain(lines.render())[0]


def test_row_ticks_land_on_whole_rows() -> None:
    for high, rows in [(8091.3, 5), (10518, 5), (3100, 10), (8.5, 8), (0.3, 7), (15515, 12)]:
        ticks, top = row_ticks(0, high, rows)
        assert len(ticks) >= 2 and ticks[0] == 0 and top >= high
        for tick in ticks:
            position = tick / top * (rows - 1)
            assert abs(position - round(position)) < 1e-9
            assert tick <= top + 1e-9


def test_chart_helpers() -> None:
    assert short_month_label(dt.date(2026, 1, 15)) == "янв 26"
    assert short_month_label(dt.date(2026, 5, 1), Translator("en")) == "May 26"
    assert nice_ticks(0, 3100) == [0, 1000, 2000, 3000, 4000]


# --- status line ---------------------------------------------------------------------------------------


class StatusApp(App[None]):
    def __init__(self) -> None:
        super().__init__()
        self.retries = 0

    def compose(self) -> ComposeResult:
        yield LoadingStatus()

    def on_loading_status_retry_requested(self) -> None:
        self.retries += 1


async def test_status_line_shows_loading_then_an_error_with_a_retry_hint() -> None:
    app = StatusApp()
    async with app.run_test(size=SIZE) as pilot:
        status = app.query_one(LoadingStatus)
        assert not status.display
        status.show_loading()
        await pilot.pause()
        assert status.display and status.is_loading
        assert str(status.render()).endswith("Загрузка…")
        status.show_error("Портал не отвечает.")
        await pilot.pause()
        assert status.state is StatusState.ERROR
        assert str(status.render()) == "Ошибка: Портал не отвечает. F5: повторить"
        await pilot.click(LoadingStatus)
        assert app.retries == 1
        status.clear()
        await pilot.pause()
        assert not status.display


# --- the header ------------------------------------------------------------------------------------


@pytest.mark.parametrize("ours", [True, False])
async def test_a_title_change_while_a_header_is_taken_down_does_not_end_the_app(ours: bool) -> None:
    """A kiosk's idle wipe changed the title while the old screen's header was half removed: Textual's
    header then raised NoMatches('HeaderTitle') and ended the app (an intermittent kiosk test failure).
    Textual's own header is the control case: the same steps end its app with that error."""
    import contextlib

    from textual.css.query import NoMatches
    from textual.widgets import Header as TextualHeader
    from textual.widgets._header import HeaderTitle

    from widgets.header import Header

    header_class = Header if ours else TextualHeader

    class HeaderApp(App[None]):
        def compose(self) -> ComposeResult:
            yield header_class()

    app = HeaderApp()
    expected = contextlib.nullcontext() if ours else pytest.raises(NoMatches)
    with expected:
        async with app.run_test(size=(80, 24)) as pilot:
            await pilot.pause()
            await app.query_one(HeaderTitle).remove()  # a header's parts go first when its screen goes
            app.title = "Новый заголовок"
            await pilot.pause()
            await pilot.pause()
