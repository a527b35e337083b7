"""A table whose columns know their type: sorted from the keyboard, exported for Excel, fast at 10 000 rows.

Columns are declared with :class:`TableColumn` (key, label, :class:`ColumnType`). :meth:`SortableTable.load`
takes rows of plain typed values — :class:`~tui.formatting.Money`, ``Decimal``, ``date``, ``datetime``,
``int``, ``str`` or ``None`` — and keeps them as they are: a column's type says how its values sort,
draw (the Russian way: ``1 023,12 ₽``, ``25.11.2026``, ``12 345,678``, ``ноябрь 2026``) and export.

The table is *virtual*: a ``ScrollView`` drawing only the lines on screen through the Line API. Textual's
``DataTable`` measures every cell of every new row to size its columns (about a second for 10 000 rows);
here a column's width comes cheaply from the header and the column's extreme values (the widest amount is
the largest or the most negative one, a date is always 10 cells), and a row's text is formatted the first
time the row is drawn. Loading 10 000 rows takes a few tens of milliseconds, sorting them a few.

Keys (each with its twin of the Russian layout): ``s``/``ы`` sorts by the cursor's column (again on
the same column: the other way round), ``r``/``к`` reverses the order. The sorted column's header
shows ``▲`` (ascending) or ``▼`` (descending), so the order is readable without colour. Arrows,
PageUp/PageDown, Home/End and Ctrl+Home/Ctrl+End move the cursor; Enter posts
:class:`SortableTable.RowSelected`.
"""

from __future__ import annotations

import csv
import datetime as dt
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace
from decimal import Decimal
from operator import attrgetter
from pathlib import Path
from typing import Any, ClassVar, Final, Literal, TypeAlias

from rich.cells import cell_len, set_cell_size
from rich.segment import Segment
from rich.style import Style
from rich.text import Text
from textual import events
from textual.binding import Binding, BindingsMap, BindingType
from textual.geometry import Size
from textual.message import Message
from textual.scroll_view import ScrollView
from textual.strip import Strip

from tui.formatting import Money, format_date, format_datetime, format_month, format_reading
from tui.i18n import Language, Translator
from tui.tables import ColumnType, TableColumn
from widgets.keys import translate_bindings

ASCENDING_MARK: Final = "▲"
"""Shown after the label of a column sorted from small to large (А→Я, old→new)."""

DESCENDING_MARK: Final = "▼"
"""Shown after the label of a column sorted from large to small."""

CSV_SEPARATOR: Final = ";"
"""Excel with Russian regional settings splits CSV at semicolons (the comma is the decimal separator)."""

CSV_ENCODING: Final = "utf-8-sig"
"""UTF-8 with a BOM: without it Excel reads the file as Windows-1251 and garbles Cyrillic."""

MAX_COLUMN_WIDTH: Final = 40
"""A computed column is never wider than this; longer text is cut with ``…``."""

CELL_PADDING: Final = 1
"""Blank cells after each column's text (and before the first column's): one cell between columns."""

BLANK_TEXT: Final = "—"
"""What an empty cell (``None``) shows."""

CursorType: TypeAlias = Literal["cell", "row", "column", "none"]
"""What the cursor highlights: one cell, a whole row, a whole column, or nothing."""

# A text starting with one of these is a formula to a spreadsheet («=HYPERLINK(...)»): prefixed with ' .
_FORMULA_STARTS: Final = ("=", "+", "-", "@", "\t", "\r")


# --- formatting one value --------------------------------------------------------------------------------


def _local(moment: dt.datetime) -> dt.datetime:
    # The portal answers in UTC; the resident reads the clock of their own terminal.
    return moment.astimezone() if moment.tzinfo is not None else moment


def export_money(money: Money) -> str:
    """``1023,12`` / ``-5,00``: plain for Excel, no thousands separator, no currency."""
    sign = "-" if money.kopecks < 0 else ""
    rubles, kopecks = divmod(abs(money.kopecks), 100)
    return f"{sign}{rubles},{kopecks:02d}"


def _export_number(value: Decimal | int, decimals: int | None) -> str:
    return format_reading(Decimal(value), decimals).replace("\u00a0", "").replace("\u2212", "-")


def _export_text(value: str) -> str:
    return f"'{value}" if value.startswith(_FORMULA_STARTS) else value


def format_value(value: object, column: TableColumn, lang: Language = "ru") -> str:
    """``value`` as the table shows it in ``column`` (``—`` for ``None``)."""
    if value is None:
        return BLANK_TEXT
    kind = column.type
    if kind is ColumnType.TEXT:
        return str(value)
    if kind is ColumnType.MONEY:
        assert isinstance(value, Money)
        return str(value)
    if kind is ColumnType.NUMBER:
        assert isinstance(value, Decimal | int)
        return format_reading(Decimal(value), column.decimals)
    if kind is ColumnType.DATE:
        assert isinstance(value, dt.date)
        return format_date(value)
    if kind is ColumnType.MONTH:
        assert isinstance(value, dt.date)
        return f"{value.month:02d}.{value.year:04d}" if column.numeric_month else format_month(value, lang)
    assert isinstance(value, dt.datetime)
    return format_datetime(_local(value))


def export_value(value: object, column: TableColumn) -> str:
    """``value`` as plain CSV text for Excel (money ``1023,12``, dates ``25.11.2026``, months ``11.2026``)."""
    if value is None:
        return ""
    kind = column.type
    if kind is ColumnType.TEXT:
        return _export_text(str(value))
    if kind is ColumnType.MONEY:
        assert isinstance(value, Money)
        return export_money(value)
    if kind is ColumnType.NUMBER:
        assert isinstance(value, Decimal | int)
        return _export_number(value, column.decimals)
    if kind is ColumnType.DATE:
        assert isinstance(value, dt.date)
        return format_date(value)
    if kind is ColumnType.MONTH:
        assert isinstance(value, dt.date)
        return f"{value.month:02d}.{value.year:04d}"
    assert isinstance(value, dt.datetime)
    return format_datetime(_local(value))


_RIGHT_ALIGNED: Final = frozenset({ColumnType.MONEY, ColumnType.NUMBER})


# --- cells: one value with its way of drawing, for code that reads a row --------------------------------


@dataclass(frozen=True, order=True, slots=True)
class TextCell:
    """A text value, drawn literally (square brackets are not Rich markup here)."""

    value: str

    def __rich__(self) -> Text:
        return Text(self.value)

    def export(self) -> str:
        """The text for CSV, a leading formula character neutralised."""
        return _export_text(self.value)


@dataclass(frozen=True, order=True, slots=True)
class NumberCell:
    """A number drawn right-aligned with Russian separators (``12 345,678``)."""

    value: Decimal
    decimals: int | None = field(default=None, compare=False)

    def __rich__(self) -> Text:
        return Text(format_reading(self.value, self.decimals), justify="right")

    def export(self) -> str:
        """``12345,678``: no thousands separator, a decimal comma, ``-`` for negatives (Excel reads it)."""
        return _export_number(self.value, self.decimals)


@dataclass(frozen=True, order=True, slots=True)
class DateCell:
    """A date drawn ``25.11.2026``."""

    value: dt.date

    def __rich__(self) -> Text:
        return Text(format_date(self.value))

    def export(self) -> str:
        """``25.11.2026``, which Excel with Russian settings reads as a date."""
        return format_date(self.value)


@dataclass(frozen=True, order=True, slots=True)
class MonthCell:
    """A billing period drawn ``ноябрь 2026`` (in ``lang``)."""

    value: dt.date
    lang: Language = field(default="ru", compare=False)

    def __rich__(self) -> Text:
        return Text(format_month(self.value, self.lang))

    def export(self) -> str:
        """``11.2026``."""
        return f"{self.value.month:02d}.{self.value.year:04d}"


@dataclass(frozen=True, order=True, slots=True)
class DateTimeCell:
    """A moment drawn ``25.11.2026 14:05`` in the terminal's time zone."""

    value: dt.datetime

    def __rich__(self) -> Text:
        return Text(format_datetime(_local(self.value)))

    def export(self) -> str:
        """``25.11.2026 14:05``."""
        return format_datetime(_local(self.value))


class BlankCell:
    """No value: draws ``—``, sorts before every value, exports as an empty field."""

    __slots__ = ()

    def __rich__(self) -> Text:
        return Text(BLANK_TEXT, justify="center")

    def __repr__(self) -> str:
        return "BLANK"

    def export(self) -> str:
        """An empty field."""
        return ""


BLANK: Final = BlankCell()
"""The one blank cell (``None`` in a loaded row)."""

Cell: TypeAlias = TextCell | NumberCell | DateCell | MonthCell | DateTimeCell | Money | BlankCell
"""A value of a row wrapped with its way of drawing (see :meth:`SortableTable.get_row_at`)."""


def _to_cell(value: object, column: TableColumn, lang: Language = "ru") -> Cell:
    """Wrap a (type-checked) value of ``column``."""
    if value is None:
        return BLANK
    kind = column.type
    if kind is ColumnType.TEXT:
        return TextCell(str(value))
    if kind is ColumnType.MONEY:
        assert isinstance(value, Money)
        return value
    if kind is ColumnType.NUMBER:
        assert isinstance(value, Decimal | int)
        return NumberCell(Decimal(value), column.decimals)
    if kind is ColumnType.DATE:
        assert isinstance(value, dt.date)
        return DateCell(value)
    if kind is ColumnType.MONTH:
        assert isinstance(value, dt.date)
        return MonthCell(value, lang)
    assert isinstance(value, dt.datetime)
    return DateTimeCell(value)


def export_cell(cell: object) -> str:
    """A cell as plain CSV text (money ``1023,12``, dates ``25.11.2026``)."""
    if isinstance(cell, Money):
        return export_money(cell)
    if isinstance(cell, TextCell | NumberCell | DateCell | MonthCell | DateTimeCell | BlankCell):
        return cell.export()
    return "" if cell is None else str(cell)


def _accepts(kind: ColumnType, value_type: type) -> bool:
    """Whether a column of ``kind`` can hold values of ``value_type`` (``None`` always can)."""
    if value_type is type(None):
        return True
    if kind is ColumnType.TEXT:
        return issubclass(value_type, str)
    if kind is ColumnType.MONEY:
        return issubclass(value_type, Money)
    if kind is ColumnType.NUMBER:
        return issubclass(value_type, Decimal | int) and not issubclass(value_type, bool)
    if kind is ColumnType.DATETIME:
        return issubclass(value_type, dt.datetime)
    return issubclass(value_type, dt.date) and not issubclass(value_type, dt.datetime)


def _sort_key(kind: ColumnType) -> Callable[[Any], Any]:
    if kind is ColumnType.TEXT:
        return str.casefold
    if kind is ColumnType.MONEY:
        return attrgetter("kopecks")
    return _identity


def _identity(value: Any) -> Any:
    return value


def _number_width(value: Decimal | int, fraction_digits: int) -> int:
    whole = format_reading(Decimal(abs(int(value))), 0)
    return len(whole) + (value < 0) + (fraction_digits + 1 if fraction_digits else 0)


def _fraction_digits(value: Decimal | int) -> int:
    if isinstance(value, int):
        return 0
    exponent = value.as_tuple().exponent
    return -exponent if isinstance(exponent, int) and exponent < 0 else 0


def _values_width(column: TableColumn, values: list[Any], lang: Language) -> int:
    """The widest text of ``values`` in ``column`` (``None`` excluded), found without formatting them all."""
    if not values:
        return 0
    kind = column.type
    if kind is ColumnType.TEXT:
        return max(cell_len(text) for text in set(values))
    if kind is ColumnType.MONEY:
        low, high = min(values, key=attrgetter("kopecks")), max(values, key=attrgetter("kopecks"))
        return max(len(str(low)), len(str(high)))
    if kind is ColumnType.NUMBER:
        # The widest number is an extreme one, with the most fraction digits any value has.
        fraction = column.decimals
        if fraction is None:
            fraction = max(_fraction_digits(value) for value in values)
        return max(_number_width(min(values), fraction), _number_width(max(values), fraction))
    if kind is ColumnType.DATE:
        return 10
    if kind is ColumnType.MONTH:
        if column.numeric_month:
            return 7  # 11.2026
        months = {(value.year, value.month) for value in values}
        return max(len(format_month(dt.date(year, month, 1), lang)) for year, month in months)
    return 16  # 25.11.2026 14:05


# --- the table -----------------------------------------------------------------------------------------


class TableRow:
    """One loaded row: its key and its values in column order (the text drawn is cached on first use)."""

    __slots__ = ("key", "texts", "values")

    def __init__(self, key: str, values: tuple[object, ...]) -> None:
        self.key = key
        """Names the row (given to :meth:`SortableTable.load`, else its position when loaded)."""
        self.values = values
        """The values as loaded."""
        self.texts: tuple[str, ...] | None = None
        """The values as drawn, once the row has been on screen."""


@dataclass
class TableHeader:
    """A column as shown: its header (with the sort mark) and width."""

    key: str
    label: Text
    """The header text, with ``▲``/``▼`` on the sorted column."""
    width: int
    """Cells for the text, padding excluded."""


class SortableTable(ScrollView, can_focus=True):
    """A virtual table of typed columns, sorted by ``s``/``ы`` and ``r``/``к``; see the module docstring."""

    DEFAULT_CSS = """
    SortableTable {
        height: 1fr;
        background: $surface;
        color: $foreground;
        &:focus {
            background-tint: $foreground 5%;
            & > .sortable-table--cursor {
                background: $block-cursor-background;
                color: $block-cursor-foreground;
                text-style: $block-cursor-text-style;
            }
        }
        & > .sortable-table--header {
            text-style: bold;
            background: $panel;
            color: $foreground;
        }
        &:ansi > .sortable-table--header {
            background: ansi_bright_blue;
            color: ansi_default;
        }
        & > .sortable-table--even-row {
            background: $surface-lighten-1 50%;
        }
        &:dark > .sortable-table--even-row {
            background: $surface-darken-1 40%;
        }
        & > .sortable-table--odd-row {
        }
        & > .sortable-table--cursor {
            background: $block-cursor-blurred-background;
            color: $block-cursor-blurred-foreground;
            text-style: $block-cursor-blurred-text-style;
        }
    }
    """

    COMPONENT_CLASSES: ClassVar[set[str]] = {
        "sortable-table--header",
        "sortable-table--even-row",
        "sortable-table--odd-row",
        "sortable-table--cursor",
    }

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("s,ы", "sort_by_cursor", "Сортировка", id="table-sort"),
        Binding("r,к", "reverse_sort", "Обратный порядок", id="table-sort-reverse"),
        Binding("enter", "select_cursor", "Выбрать", show=False),
        Binding("up", "cursor_up", "Вверх", show=False),
        Binding("down", "cursor_down", "Вниз", show=False),
        Binding("left", "cursor_left", "Влево", show=False),
        Binding("right", "cursor_right", "Вправо", show=False),
        Binding("pageup", "page_up", "Страница вверх", show=False),
        Binding("pagedown", "page_down", "Страница вниз", show=False),
        Binding("home", "first_column", "В начало строки", show=False),
        Binding("end", "last_column", "В конец строки", show=False),
        Binding("ctrl+home", "first_row", "В начало", show=False),
        Binding("ctrl+end", "last_row", "В конец", show=False),
    ]

    BINDING_DESCRIPTIONS: ClassVar[dict[str, str]] = {
        "sort_by_cursor": "footer.sort",
        "reverse_sort": "table.sort_reverse",
    }
    """Catalogue keys of the footer words of :attr:`BINDINGS`, by action."""

    class Sorted(Message):
        """The table was sorted (by a key, a header click or :meth:`SortableTable.sort_by`)."""

        def __init__(self, table: SortableTable, column_key: str, reverse: bool) -> None:
            super().__init__()
            self.table = table
            """The table that was sorted."""
            self.column_key = column_key
            """The key of the column sorted by."""
            self.reverse = reverse
            """``True``: descending (▼); ``False``: ascending (▲)."""

        @property
        def control(self) -> SortableTable:
            """The table that was sorted."""
            return self.table

    class RowHighlighted(Message):
        """The cursor is on another row (it moved, or the rows under it changed)."""

        def __init__(self, table: SortableTable, cursor_row: int, row_key: str) -> None:
            super().__init__()
            self.table = table
            """The table."""
            self.cursor_row = cursor_row
            """The row's position as shown."""
            self.row_key = row_key
            """The row's key."""

        @property
        def control(self) -> SortableTable:
            """The table."""
            return self.table

    class RowSelected(RowHighlighted):
        """Enter (or a click) on the cursor's row."""

    def __init__(
        self,
        columns: Sequence[TableColumn],
        *,
        translator: Translator | None = None,
        cursor_type: CursorType = "cell",
        zebra_stripes: bool = True,
        show_reverse_key: bool = True,
        fixed_columns: int = 0,
        name: str | None = None,
        id: str | None = None,
        classes: str | None = None,
        disabled: bool = False,
    ) -> None:
        """A table with ``columns``; ``cursor_type`` ``"cell"`` (default) or ``"column"`` lets ``s``
        sort by the cursor's column, ``"row"`` makes ``s`` step to the next column instead.

        The first ``fixed_columns`` columns (the row's identity: its date, month or meter) stay in
        view when the table is scrolled right; the others scroll beside them.

        ``show_reverse_key=False`` keeps ``r`` out of the footer (it still works; ``s`` on the sorted
        column reverses too) for screens whose own keys need the room at 80 columns.
        """
        super().__init__(name=name, id=id, classes=classes, disabled=disabled)
        if len({column.key for column in columns}) != len(columns):
            raise ValueError("column keys must be unique")
        self.table_columns: tuple[TableColumn, ...] = tuple(columns)
        """The declared columns, in display order."""
        self.translator = translator or Translator()
        """Words of the footer bindings and :meth:`sort_description`; the language of month names."""
        self.cursor_type: CursorType = cursor_type
        """What the cursor highlights."""
        self.zebra_stripes = zebra_stripes
        """Whether every other row has a slightly different background."""
        self.fixed_columns = max(0, min(fixed_columns, len(self.table_columns)))
        """How many columns on the left stay in view when scrolling right."""
        self.sort_column: str | None = None
        """The key of the column the rows are sorted by, or ``None`` (in loaded order)."""
        self.sort_reverse: bool = False
        """Whether the sort is descending (▼)."""
        self.cursor_row = 0
        """The cursor's row, as shown (0 at the top)."""
        self.cursor_column = 0
        """The cursor's column, in display order."""
        self.columns: dict[str, TableHeader] = {}
        """The columns as shown, by key, in display order: header with sort mark, width."""
        self._rows: list[TableRow] = []
        self._rows_by_key: dict[str, TableRow] | None = None
        self._column_index = {column.key: index for index, column in enumerate(self.table_columns)}
        self._starts: list[int] = []
        self._total_width = 0
        self._value_widths: dict[str, int] = {}
        self._set_widths({column.key: 0 for column in self.table_columns})
        if not show_reverse_key:
            self._bindings = BindingsMap.from_keys(
                {
                    key: [
                        replace(binding, show=False) if binding.action == "reverse_sort" else binding
                        for binding in bindings
                    ]
                    for key, bindings in self._bindings.key_to_bindings.items()
                }
            )
        translate_bindings(self, self.translator, self.BINDING_DESCRIPTIONS)

    # --- data ----------------------------------------------------------------------------------------

    def load(self, rows: Iterable[Sequence[object]], *, row_keys: Sequence[str] | None = None) -> None:
        """Replace the rows with ``rows`` (values in column order) and keep the current sort.

        ``row_keys``, when given, names each row (e.g. a receipt id) for :class:`RowSelected` handlers;
        otherwise a row is named by its position in ``rows`` (``"0"``, ``"1"``…). A value of the wrong
        type for its column is a ``TypeError`` naming the column.
        """
        value_rows = [tuple(row) for row in rows]
        count = len(self.table_columns)
        if any(len(values) != count for values in value_rows):
            raise ValueError(f"every row needs {count} values, one per column")
        if row_keys is not None and len(row_keys) != len(value_rows):
            raise ValueError(f"{len(row_keys)} row keys for {len(value_rows)} rows")
        lang = self.translator.lang
        widths: dict[str, int] = {}
        for index, column in enumerate(self.table_columns):
            present = [values[index] for values in value_rows if values[index] is not None]
            for value_type in {type(value) for value in present}:
                if not _accepts(column.type, value_type):
                    bad = next(value for value in present if type(value) is value_type)
                    raise TypeError(
                        f"column {column.key!r} ({column.type.value}) "
                        f"cannot hold {value_type.__name__}: {bad!r}"
                    )
            width = _values_width(column, present, lang)
            if len(present) < len(value_rows):
                width = max(width, 1)  # the blank mark
            widths[column.key] = width
        keys = row_keys if row_keys is not None else [str(index) for index in range(len(value_rows))]
        self._rows = [TableRow(key, values) for key, values in zip(keys, value_rows, strict=True)]
        self._rows_by_key = None
        self._set_widths(widths)
        if self.sort_column is not None:
            self._sort_rows()
        self.cursor_row = min(self.cursor_row, max(len(self._rows) - 1, 0))
        self.refresh()
        self._announce_row()

    def clear(self) -> None:
        """Remove every row (columns and sort stay)."""
        self.load([])

    @property
    def row_count(self) -> int:
        """How many rows are loaded."""
        return len(self._rows)

    @property
    def ordered_rows(self) -> list[TableRow]:
        """The rows in the order shown (a copy of the list)."""
        return list(self._rows)

    def _row(self, row_key: str) -> TableRow:
        if self._rows_by_key is None:
            self._rows_by_key = {row.key: row for row in self._rows}
        return self._rows_by_key[str(row_key)]

    def typed_row(self, row_key: str) -> tuple[object, ...]:
        """The row's values as loaded (Money, Decimal, date, str, None), in column order."""
        return self._row(row_key).values

    def get_row(self, row_key: str) -> list[Cell]:
        """The row's values wrapped as cells that draw themselves (``__rich__``), in column order."""
        return self._cells(self._row(row_key))

    def get_row_at(self, index: int) -> list[Cell]:
        """The cells of the row shown at ``index``."""
        return self._cells(self._rows[index])

    def get_cell(self, row_key: str, column_key: str) -> Cell:
        """One cell of a row."""
        index = self._column_index[column_key]
        return _to_cell(self._row(row_key).values[index], self.table_columns[index], self.translator.lang)

    def _cells(self, row: TableRow) -> list[Cell]:
        lang = self.translator.lang
        return [
            _to_cell(value, column, lang)
            for value, column in zip(row.values, self.table_columns, strict=True)
        ]

    @property
    def cursor_row_key(self) -> str | None:
        """The key of the cursor's row, or ``None`` when the table is empty."""
        return self._rows[self.cursor_row].key if self._rows else None

    # --- sorting -------------------------------------------------------------------------------------

    def sort_by(self, column_key: str, *, reverse: bool = False) -> None:
        """Sort the rows by ``column_key``'s values, descending when ``reverse``; marks the header."""
        if column_key not in self._column_index:
            raise KeyError(f"no column {column_key!r}")
        self.sort_column = column_key
        self.sort_reverse = reverse
        self._set_widths(self._value_widths)  # room for the mark on this column's header
        self._sort_rows()
        self.refresh()
        self.post_message(self.Sorted(self, column_key, reverse))
        self._announce_row()

    def _sort_rows(self) -> None:
        assert self.sort_column is not None
        self._mark_headers()
        index = self._column_index[self.sort_column]
        value_key = _sort_key(self.table_columns[index].type)
        present = [row for row in self._rows if row.values[index] is not None]
        blank = [row for row in self._rows if row.values[index] is None]
        # Blanks sort before every value: first ascending, last descending. Python's sort is stable
        # both ways, so equal values keep their loaded order.
        present.sort(key=lambda row: value_key(row.values[index]), reverse=self.sort_reverse)
        self._rows = present + blank if self.sort_reverse else blank + present

    def _mark_headers(self) -> None:
        for column in self.table_columns:
            label = column.label
            if column.key == self.sort_column:
                label = f"{label} {DESCENDING_MARK if self.sort_reverse else ASCENDING_MARK}"
            self.columns[column.key].label = Text(label)

    def action_sort_by_cursor(self) -> None:
        """Sort by the cursor's column (again on the sorted column: the other way round).

        With a row cursor there is no cursor column: step to the next column instead.
        """
        if not self.table_columns:
            return
        keys = [column.key for column in self.table_columns]
        if self.cursor_type in ("cell", "column"):
            target = keys[min(self.cursor_column, len(keys) - 1)]
        elif self.sort_column is None:
            target = keys[0]
        else:
            target = keys[(keys.index(self.sort_column) + 1) % len(keys)]
        reverse = not self.sort_reverse if target == self.sort_column else False
        self.sort_by(target, reverse=reverse)

    def action_reverse_sort(self) -> None:
        """Reverse the order (by the cursor's column if nothing is sorted yet)."""
        if self.sort_column is None:
            self.action_sort_by_cursor()
            return
        self.sort_by(self.sort_column, reverse=not self.sort_reverse)

    def sort_description(self) -> str:
        """«Сортировка: Сумма, по убыванию» for a status line; empty when unsorted."""
        if self.sort_column is None:
            return ""
        t = self.translator
        return t(
            "table.sorted_by",
            column=self.table_columns[self._column_index[self.sort_column]].label,
            direction=t("table.descending" if self.sort_reverse else "table.ascending"),
        )

    def relabel(self) -> None:
        """After a language switch (widgets/relabel.py): headers, cells and keys in the new language."""
        again = self.translator.again
        self.table_columns = tuple(
            replace(column, export_label=again(column.export_label) or column.export_label)
            if column.export_label
            else column
            for column in self.table_columns
        )
        self.update_language(
            {column.key: again(column.label) or column.label for column in self.table_columns}
        )

    def update_language(self, labels: dict[str, str] | None = None) -> None:
        """Re-read the words after ``translator.set_language(...)``; ``labels`` renames columns."""
        translate_bindings(self, self.translator, self.BINDING_DESCRIPTIONS)
        if labels:
            self.table_columns = tuple(
                replace(c, label=labels.get(c.key, c.label)) for c in self.table_columns
            )
        for row in self._rows:
            row.texts = None
        lang = self.translator.lang
        widths = {}
        for index, column in enumerate(self.table_columns):
            present = [row.values[index] for row in self._rows if row.values[index] is not None]
            widths[column.key] = max(
                _values_width(column, present, lang), 1 if len(present) < len(self._rows) else 0
            )
        self._set_widths(widths)
        self.refresh()
        self.refresh_bindings()

    # --- geometry ------------------------------------------------------------------------------------

    def _set_widths(self, value_widths: dict[str, int]) -> None:
        """Size the columns: declared width, else the header or the widest value.

        Only the sorted column's header makes room for its `` ▲``: two cells more on every header
        would push a table's key columns past 80.
        """
        self._value_widths = value_widths
        self.columns = {}
        self._starts = []
        x = 0
        for column in self.table_columns:
            if column.width is not None:
                width = column.width
            else:
                header = cell_len(column.label) + (2 if column.key == self.sort_column else 0)
                width = min(max(header, value_widths.get(column.key, 0)), MAX_COLUMN_WIDTH)
            self.columns[column.key] = TableHeader(column.key, Text(column.label), width)
            self._starts.append(x)
            x += width + self._padding(len(self._starts) - 1)
        self._total_width = x
        self._mark_headers()
        # Beside fixed columns the view scrolls from column start to column start: room to scroll
        # the last columns that far.
        spans = [self._span(index) for index in range(self.fixed_columns, len(self.table_columns))]
        slack = max(spans, default=0) if self.fixed_columns else 0
        self.virtual_size = Size(x + slack, len(self._rows) + 1)

    @staticmethod
    def _padding(index: int) -> int:
        """Blank cells around column ``index``'s text: one after each, one before the first."""
        return 2 * CELL_PADDING if index == 0 else CELL_PADDING

    def _span(self, index: int) -> int:
        """Cells column ``index`` takes, padding included."""
        return self.columns[self.table_columns[index].key].width + self._padding(index)

    @property
    def _fixed_width(self) -> int:
        """Cells of the columns that do not scroll."""
        if self.fixed_columns == 0 or not self._starts:
            return 0
        if self.fixed_columns >= len(self._starts):
            return self._total_width
        return self._starts[self.fixed_columns]

    @property
    def _page_height(self) -> int:
        """Rows visible at once (the header line excluded)."""
        return max(self.scrollable_content_region.height - 1, 1)

    def _column_at(self, x: int) -> int | None:
        for index, start in enumerate(self._starts):
            if start <= x < start + self._span(index):
                return index
        return None

    def _view_strip(self, strip: Strip, scroll_x: int, width: int, style: Style) -> Strip:
        """The part of a full-width line in view: the fixed columns, then the rest from ``scroll_x``."""
        fixed = min(self._fixed_width, width)
        if fixed == 0:
            return strip.crop_extend(scroll_x, scroll_x + width, style)
        return Strip.join(
            [strip.crop(0, fixed), strip.crop_extend(fixed + scroll_x, scroll_x + width, style)]
        )

    # --- drawing -------------------------------------------------------------------------------------

    def _texts(self, row: TableRow) -> tuple[str, ...]:
        if row.texts is None:
            lang = self.translator.lang
            row.texts = tuple(
                format_value(value, column, lang)
                for value, column in zip(row.values, self.table_columns, strict=True)
            )
        return row.texts

    def _segments(self, texts: Sequence[str], styles: Sequence[Style], header: bool = False) -> list[Segment]:
        segments: list[Segment] = []
        pad = " " * CELL_PADDING
        for index, (column, text, style) in enumerate(zip(self.table_columns, texts, styles, strict=True)):
            width = self.columns[column.key].width
            size = cell_len(text)
            if size > width:
                text = set_cell_size(text, width - 1) + "…" if width > 1 else set_cell_size(text, width)
            elif text == BLANK_TEXT and not header:
                left = (width - 1) // 2
                text = " " * left + text + " " * (width - 1 - left)
            elif column.type in _RIGHT_ALIGNED and not header:
                text = " " * (width - size) + text
            else:
                text = text + " " * (width - size)
            segments.append(Segment(f"{pad}{text}{pad}" if index == 0 else f"{text}{pad}", style))
        return segments

    def render_line(self, y: int) -> Strip:
        """Line ``y`` of the view: the header on top, then the rows scrolled to."""
        scroll_x, scroll_y = self.scroll_offset
        width = self.scrollable_content_region.width
        base = self.rich_style
        if y == 0:
            header_style = base + self.get_component_rich_style("sortable-table--header")
            labels = [self.columns[column.key].label.plain for column in self.table_columns]
            strip = Strip(
                self._segments(labels, [header_style] * len(labels), header=True), self._total_width
            )
            return self._view_strip(strip, scroll_x, width, header_style)
        index = scroll_y + y - 1
        if index >= len(self._rows):
            return Strip.blank(width, base)
        row_style = base
        if self.zebra_stripes:
            row_style = base + self.get_component_rich_style(
                "sortable-table--odd-row" if index % 2 else "sortable-table--even-row"
            )
        styles = [row_style] * len(self.table_columns)
        if self.cursor_type != "none":
            cursor_style = row_style + self.get_component_rich_style("sortable-table--cursor")
            if self.cursor_type == "row" and index == self.cursor_row:
                styles = [cursor_style] * len(styles)
            elif styles and (
                self.cursor_type == "column" or (self.cursor_type == "cell" and index == self.cursor_row)
            ):
                styles[self.cursor_column] = cursor_style
        strip = Strip(self._segments(self._texts(self._rows[index]), styles), self._total_width)
        return self._view_strip(strip, scroll_x, width, row_style)

    # --- the cursor ----------------------------------------------------------------------------------

    def move_cursor(self, *, row: int | None = None, column: int | None = None) -> None:
        """Put the cursor on ``row``/``column`` (clamped), scroll it into view, announce a new row."""
        old_row = self.cursor_row
        if row is not None:
            self.cursor_row = max(0, min(row, len(self._rows) - 1))
        if column is not None:
            self.cursor_column = max(0, min(column, len(self.table_columns) - 1))
        self._scroll_cursor_into_view()
        self.refresh()
        if self.cursor_row != old_row:
            self._announce_row()

    def _scroll_cursor_into_view(self) -> None:
        scroll_x, scroll_y = self.scroll_offset
        page = self._page_height
        new_y = scroll_y
        if self.cursor_row < scroll_y:
            new_y = self.cursor_row
        elif self.cursor_row >= scroll_y + page:
            new_y = self.cursor_row - page + 1
        new_x = scroll_x
        if (
            self.cursor_type in ("cell", "column")
            and self._starts
            and self.cursor_column >= self.fixed_columns
        ):
            # A fixed column is always in view; the others scroll in the room right of them.
            fixed = self._fixed_width
            start = self._starts[self.cursor_column]
            end = start + self._span(self.cursor_column)
            view = self.scrollable_content_region.width
            if start < fixed + scroll_x:
                new_x = start - fixed
            elif end > scroll_x + view:
                # Scroll on to a column's start, so the first column after the fixed ones shows whole.
                least = end - view + fixed
                starts = [x for x in self._starts[self.fixed_columns :] if x >= least]
                new_x = max((starts[0] if starts else least) - fixed, 0)
        if (new_x, new_y) != (scroll_x, scroll_y):
            self.scroll_to(x=new_x, y=new_y, animate=False, force=True)

    def _announce_row(self) -> None:
        if self._rows:
            self.post_message(self.RowHighlighted(self, self.cursor_row, self._rows[self.cursor_row].key))

    def action_cursor_up(self) -> None:
        """One row up."""
        self.move_cursor(row=self.cursor_row - 1)

    def action_cursor_down(self) -> None:
        """One row down."""
        self.move_cursor(row=self.cursor_row + 1)

    def action_cursor_left(self) -> None:
        """One column left (a row cursor scrolls the view instead)."""
        if self.cursor_type in ("cell", "column"):
            self.move_cursor(column=self.cursor_column - 1)
        else:
            self.scroll_relative(x=-8, animate=False)

    def action_cursor_right(self) -> None:
        """One column right (a row cursor scrolls the view instead)."""
        if self.cursor_type in ("cell", "column"):
            self.move_cursor(column=self.cursor_column + 1)
        else:
            self.scroll_relative(x=8, animate=False)

    def action_page_up(self) -> None:
        """One screenful up."""
        self.move_cursor(row=self.cursor_row - self._page_height)

    def action_page_down(self) -> None:
        """One screenful down."""
        self.move_cursor(row=self.cursor_row + self._page_height)

    def action_first_column(self) -> None:
        """To the first column (the row's start in view again)."""
        self.move_cursor(column=0)
        if self.cursor_type not in ("cell", "column") or self.fixed_columns:
            self.scroll_to(x=0, animate=False)

    def action_last_column(self) -> None:
        """To the last column."""
        self.move_cursor(column=len(self.table_columns) - 1)
        if self.cursor_type not in ("cell", "column"):
            self.scroll_to(x=self.max_scroll_x, animate=False)

    def action_first_row(self) -> None:
        """To the first row."""
        self.move_cursor(row=0)

    def action_last_row(self) -> None:
        """To the last row."""
        self.move_cursor(row=len(self._rows) - 1)

    def action_select_cursor(self) -> None:
        """Announce the cursor's row as chosen."""
        if self._rows:
            self.post_message(self.RowSelected(self, self.cursor_row, self._rows[self.cursor_row].key))

    def on_click(self, event: events.Click) -> None:
        """A click on a header sorts by that column; on a cell, moves the cursor there."""
        offset = event.get_content_offset(self)
        if offset is None:
            return
        scroll_x, scroll_y = self.scroll_offset
        column = self._column_at(offset.x if offset.x < self._fixed_width else offset.x + scroll_x)
        if offset.y == 0:
            if column is not None:
                event.stop()
                key = self.table_columns[column].key
                self.sort_by(key, reverse=not self.sort_reverse if key == self.sort_column else False)
            return
        row = scroll_y + offset.y - 1
        if row < len(self._rows):
            event.stop()
            self.move_cursor(row=row, column=column)
            if event.chain == 2:
                self.action_select_cursor()

    # --- export --------------------------------------------------------------------------------------

    def export_csv(self, path: str | Path) -> Path:
        """Write the columns and the rows, in the order shown, to ``path`` for Excel; returns the path.

        Semicolon-separated UTF-8 with a BOM; plain values (money ``1023,12``, dates ``25.11.2026``);
        text that a spreadsheet would run as a formula gets a leading ``'``.
        """
        target = Path(path)
        columns = self.table_columns
        with target.open("w", encoding=CSV_ENCODING, newline="") as stream:
            writer = csv.writer(stream, delimiter=CSV_SEPARATOR, lineterminator="\r\n")
            writer.writerow(_export_text(column.export_label or column.label) for column in columns)
            for row in self._rows:
                writer.writerow(
                    export_value(value, column) for value, column in zip(row.values, columns, strict=True)
                )
        return target


__all__ = [
    "ASCENDING_MARK",
    "BLANK",
    "CSV_ENCODING",
    "CSV_SEPARATOR",
    "DESCENDING_MARK",
    "Cell",
    "ColumnType",
    "CursorType",
    "DateCell",
    "DateTimeCell",
    "MonthCell",
    "NumberCell",
    "SortableTable",
    "TableColumn",
    "TableHeader",
    "TableRow",
    "TextCell",
    "export_cell",
    "export_money",
    "export_value",
    "format_value",
]
