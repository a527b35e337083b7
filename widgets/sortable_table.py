"""A data table whose columns know their type: sorted from the keyboard, exported for Excel.

Columns are declared with :class:`TableColumn` (key, label, :class:`ColumnType`). :meth:`SortableTable.load`
takes rows of plain typed values — :class:`~tui.formatting.Money`, ``Decimal``, ``date``, ``int``, ``str``
or ``None`` — and stores each in a cell that both sorts by its value and draws itself the Russian way
(``1 023,12 ₽``, ``25.11.2026``, ``12 345,678``). Sorting uses ``DataTable.sort`` with a key on the stored
values, so numbers sort as numbers and dates as dates, 10 000 rows well under 100 ms.

Keys (each with its twin of the Russian layout): ``s``/``ы`` sorts by the cursor's column (again on
the same column: the other way round), ``r``/``к`` reverses the order. The sorted column's header
shows ``▲`` (ascending) or ``▼`` (descending), so the order is readable without colour.
"""

from __future__ import annotations

import csv
import datetime as dt
import enum
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any, ClassVar, Final, TypeAlias

from rich.text import Text
from textual.binding import Binding, BindingType
from textual.message import Message
from textual.widgets import DataTable
from textual.widgets.data_table import ColumnKey, CursorType, RowKey

from tui.formatting import Money, format_date, format_reading
from tui.i18n import Translator
from widgets._localize import localize_bindings

ASCENDING_MARK: Final = "▲"
"""Shown after the label of a column sorted from small to large (А→Я, old→new)."""

DESCENDING_MARK: Final = "▼"
"""Shown after the label of a column sorted from large to small."""

CSV_SEPARATOR: Final = ";"
"""Excel with Russian regional settings splits CSV at semicolons (the comma is the decimal separator)."""

CSV_ENCODING: Final = "utf-8-sig"
"""UTF-8 with a BOM: without it Excel reads the file as Windows-1251 and garbles Cyrillic."""

# A text starting with one of these is a formula to a spreadsheet («=HYPERLINK(...)»): prefixed with ' .
_FORMULA_STARTS: Final = ("=", "+", "-", "@", "\t", "\r")


class ColumnType(enum.Enum):
    """What a column holds: how its cells sort, draw and export."""

    TEXT = "text"
    """``str``: sorts alphabetically ignoring case."""
    MONEY = "money"
    """:class:`~tui.formatting.Money`: sorts by amount, draws ``1 023,12 ₽``, exports ``1023,12``."""
    NUMBER = "number"
    """``Decimal`` or ``int`` (a reading, a volume): sorts as a number, draws ``12 345,678``."""
    DATE = "date"
    """``datetime.date``: sorts by date, draws and exports ``25.11.2026``."""


@dataclass(frozen=True)
class TableColumn:
    """A column of a :class:`SortableTable`."""

    key: str
    """Identifies the column (``"amount"``), also in :meth:`SortableTable.sort_by`."""
    label: str
    """The header text (already translated), without sort marks."""
    type: ColumnType = ColumnType.TEXT
    """What the cells hold."""
    decimals: int | None = None
    """For :attr:`ColumnType.NUMBER`: places to show (``None``: as many as the value has)."""


# --- cells ---------------------------------------------------------------------------------------------


@dataclass(frozen=True, order=True, slots=True)
class TextCell:
    """A text value, drawn literally (square brackets are not Rich markup here)."""

    value: str

    def __rich__(self) -> Text:
        return Text(self.value)

    def export(self) -> str:
        """The text for CSV, a leading formula character neutralised."""
        return f"'{self.value}" if self.value.startswith(_FORMULA_STARTS) else self.value


@dataclass(frozen=True, order=True, slots=True)
class NumberCell:
    """A number drawn right-aligned with Russian separators (``12 345,678``)."""

    value: Decimal
    decimals: int | None = field(default=None, compare=False)

    def __rich__(self) -> Text:
        return Text(format_reading(self.value, self.decimals), justify="right")

    def export(self) -> str:
        """``12345,678``: no thousands separator, a decimal comma, ``-`` for negatives (Excel reads it)."""
        return format_reading(self.value, self.decimals).replace("\u00a0", "").replace("\u2212", "-")


@dataclass(frozen=True, order=True, slots=True)
class DateCell:
    """A date drawn ``25.11.2026``."""

    value: dt.date

    def __rich__(self) -> Text:
        return Text(format_date(self.value))

    def export(self) -> str:
        """``25.11.2026``, which Excel with Russian settings reads as a date."""
        return format_date(self.value)


class BlankCell:
    """No value: draws ``—``, sorts before every value, exports as an empty field."""

    __slots__ = ()

    def __rich__(self) -> Text:
        return Text("—", justify="center")

    def __repr__(self) -> str:
        return "BLANK"

    def export(self) -> str:
        """An empty field."""
        return ""


BLANK: Final = BlankCell()
"""The one blank cell (``None`` in a loaded row)."""

Cell: TypeAlias = TextCell | NumberCell | DateCell | Money | BlankCell
"""What a :class:`SortableTable` stores in its cells."""


def export_money(money: Money) -> str:
    """``1023,12`` / ``-5,00``: plain for Excel, no thousands separator, no currency."""
    sign = "-" if money.kopecks < 0 else ""
    rubles, kopecks = divmod(abs(money.kopecks), 100)
    return f"{sign}{rubles},{kopecks:02d}"


def _to_cell(value: object, column: TableColumn) -> Cell:
    """Wrap a typed value for ``column``; a value of the wrong type is a ``TypeError`` naming the column."""
    if value is None:
        return BLANK
    kind = column.type
    if kind is ColumnType.TEXT and isinstance(value, str):
        return TextCell(value)
    if kind is ColumnType.MONEY and isinstance(value, Money):
        return value
    if kind is ColumnType.NUMBER and isinstance(value, Decimal | int) and not isinstance(value, bool):
        return NumberCell(Decimal(value), column.decimals)
    if kind is ColumnType.DATE and isinstance(value, dt.date) and not isinstance(value, dt.datetime):
        return DateCell(value)
    raise TypeError(f"column {column.key!r} ({kind.value}) cannot hold {type(value).__name__}: {value!r}")


def _money_key(cell: Any) -> tuple[int, int]:
    return (0, 0) if cell is BLANK else (1, cell.kopecks)


def _number_key(cell: Any) -> tuple[int, Decimal]:
    return (0, Decimal(0)) if cell is BLANK else (1, cell.value)


def _date_key(cell: Any) -> tuple[int, dt.date]:
    return (0, dt.date.min) if cell is BLANK else (1, cell.value)


def _text_key(cell: Any) -> tuple[int, str]:
    return (0, "") if cell is BLANK else (1, cell.value.casefold())


_SORT_KEYS: Final[dict[ColumnType, Callable[[Any], Any]]] = {
    ColumnType.MONEY: _money_key,
    ColumnType.NUMBER: _number_key,
    ColumnType.DATE: _date_key,
    ColumnType.TEXT: _text_key,
}


def export_cell(cell: object) -> str:
    """A cell as plain CSV text (money ``1023,12``, dates ``25.11.2026``)."""
    if isinstance(cell, Money):
        return export_money(cell)
    if isinstance(cell, TextCell | NumberCell | DateCell | BlankCell):
        return cell.export()
    return "" if cell is None else str(cell)


# --- the table -----------------------------------------------------------------------------------------


class SortableTable(DataTable[Cell]):
    """A ``DataTable`` of typed columns, sorted by ``s``/``ы`` and ``r``/``к``; see the module docstring."""

    DEFAULT_CSS = """
    SortableTable {
        height: 1fr;
    }
    SortableTable > .datatable--header {
        text-style: bold;
    }
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("s,ы", "sort_by_cursor", "Сортировка", id="table-sort"),
        Binding("r,к", "reverse_sort", "Обратный порядок", id="table-sort-reverse"),
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

    def __init__(
        self,
        columns: Sequence[TableColumn],
        *,
        translator: Translator | None = None,
        cursor_type: CursorType = "cell",
        zebra_stripes: bool = True,
        name: str | None = None,
        id: str | None = None,
        classes: str | None = None,
        disabled: bool = False,
    ) -> None:
        """A table with ``columns``; ``cursor_type`` ``"cell"`` (default) or ``"column"`` lets ``s``
        sort by the cursor's column, ``"row"`` makes ``s`` step to the next column instead.
        """
        super().__init__(
            cursor_type=cursor_type,
            zebra_stripes=zebra_stripes,
            name=name,
            id=id,
            classes=classes,
            disabled=disabled,
        )
        if len({column.key for column in columns}) != len(columns):
            raise ValueError("column keys must be unique")
        self.table_columns: tuple[TableColumn, ...] = tuple(columns)
        """The declared columns, in display order."""
        self.translator = translator or Translator()
        """Words of the footer bindings and :meth:`sort_description`."""
        self.sort_column: str | None = None
        """The key of the column the rows are sorted by, or ``None`` (in loaded order)."""
        self.sort_reverse: bool = False
        """Whether the sort is descending (▼)."""
        self._columns_by_key = {column.key: column for column in self.table_columns}
        localize_bindings(self, self.translator, self.BINDING_DESCRIPTIONS)

    def on_mount(self) -> None:
        self._ensure_columns()

    def _ensure_columns(self) -> None:
        if self.columns:
            return
        for column in self.table_columns:
            key = self.add_column(Text(column.label), key=column.key)
            # Room for " ▲" from the start, so sorting never makes the columns jump.
            self.columns[key].content_width += 2
        if self.sort_column is not None:
            self._mark_headers()

    # --- data ----------------------------------------------------------------------------------------

    def load(self, rows: Iterable[Sequence[object]], *, row_keys: Sequence[str] | None = None) -> None:
        """Replace the rows with ``rows`` (values in column order) and keep the current sort.

        ``row_keys``, when given, names each row (e.g. a receipt id) for ``RowSelected`` handlers.
        """
        self._ensure_columns()
        self.clear()
        columns = self.table_columns
        cells = [
            [_to_cell(value, column) for value, column in zip(row, columns, strict=True)] for row in rows
        ]
        if row_keys is None:
            self.add_rows(cells)
        else:
            if len(row_keys) != len(cells):
                raise ValueError(f"{len(row_keys)} row keys for {len(cells)} rows")
            for key, row in zip(row_keys, cells, strict=True):
                self.add_row(*row, key=key)
        if self.sort_column is not None:
            self._apply_sort()

    def typed_row(self, row_key: RowKey | str) -> tuple[object, ...]:
        """The row's values as loaded (Money, Decimal, date, str, None), in column order."""
        return tuple(_plain_value(cell) for cell in self.get_row(row_key))

    # --- sorting -------------------------------------------------------------------------------------

    def sort_by(self, column_key: str, *, reverse: bool = False) -> None:
        """Sort the rows by ``column_key``'s values, descending when ``reverse``; marks the header."""
        if column_key not in self._columns_by_key:
            raise KeyError(f"no column {column_key!r}")
        self.sort_column = column_key
        self.sort_reverse = reverse
        self._apply_sort()
        self.post_message(self.Sorted(self, column_key, reverse))

    def _apply_sort(self) -> None:
        assert self.sort_column is not None
        self._mark_headers()
        column = self._columns_by_key[self.sort_column]
        self.sort(column.key, key=_SORT_KEYS[column.type], reverse=self.sort_reverse)

    def _mark_headers(self) -> None:
        for column in self.table_columns:
            data_column = self.columns.get(ColumnKey(column.key))
            if data_column is None:  # not mounted yet
                continue
            label = column.label
            if column.key == self.sort_column:
                label = f"{label} {DESCENDING_MARK if self.sort_reverse else ASCENDING_MARK}"
            data_column.label = Text(label)

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

    def on_data_table_header_selected(self, event: DataTable.HeaderSelected) -> None:
        """A click on a header sorts by that column (the keyboard uses ``s``)."""
        event.stop()
        key = str(event.column_key.value)
        self.sort_by(key, reverse=not self.sort_reverse if key == self.sort_column else False)

    def sort_description(self) -> str:
        """«Сортировка: Сумма, по убыванию» for a status line; empty when unsorted."""
        if self.sort_column is None:
            return ""
        t = self.translator
        return t(
            "table.sorted_by",
            column=self._columns_by_key[self.sort_column].label,
            direction=t("table.descending" if self.sort_reverse else "table.ascending"),
        )

    def update_language(self, labels: dict[str, str] | None = None) -> None:
        """Re-read the footer words after ``translator.set_language(...)``; ``labels`` renames columns."""
        localize_bindings(self, self.translator, self.BINDING_DESCRIPTIONS)
        if labels:
            self.table_columns = tuple(
                TableColumn(c.key, labels.get(c.key, c.label), c.type, c.decimals) for c in self.table_columns
            )
            self._columns_by_key = {column.key: column for column in self.table_columns}
            self._mark_headers()
            self._clear_caches()
            self.refresh()
        self.refresh_bindings()

    # --- export --------------------------------------------------------------------------------------

    def export_csv(self, path: str | Path) -> Path:
        """Write the columns and the rows, in the order shown, to ``path`` for Excel; returns the path.

        Semicolon-separated UTF-8 with a BOM; plain values (money ``1023,12``, dates ``25.11.2026``);
        text that a spreadsheet would run as a formula gets a leading ``'``.
        """
        target = Path(path)
        keys = [ColumnKey(column.key) for column in self.table_columns]
        with target.open("w", encoding=CSV_ENCODING, newline="") as stream:
            writer = csv.writer(stream, delimiter=CSV_SEPARATOR, lineterminator="\r\n")
            writer.writerow(TextCell(column.label).export() for column in self.table_columns)
            for row in self.ordered_rows:
                writer.writerow(export_cell(self.get_cell(row.key, key)) for key in keys)
        return target


def _plain_value(cell: object) -> object:
    if cell is BLANK:
        return None
    if isinstance(cell, TextCell | NumberCell | DateCell):
        return cell.value
    return cell


__all__ = [
    "ASCENDING_MARK",
    "BLANK",
    "CSV_ENCODING",
    "CSV_SEPARATOR",
    "DESCENDING_MARK",
    "Cell",
    "ColumnType",
    "DateCell",
    "NumberCell",
    "SortableTable",
    "TableColumn",
    "TextCell",
    "export_cell",
    "export_money",
]
