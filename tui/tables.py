"""What a table shows, without drawing it: column types and columns (drawn by ``widgets/sortable_table.py``).

The screens' tables are described here in data — columns and rows from the portal's answers — so the
rules of what a row says live apart from the widget that sorts, scrolls and exports them.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass


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
    MONTH = "month"
    """``datetime.date`` meaning its month (a billing period): draws ``ноябрь 2026``, exports ``11.2026``."""
    DATETIME = "datetime"
    """``datetime.datetime``: sorts by moment, draws and exports ``25.11.2026 14:05`` in local time."""


@dataclass(frozen=True)
class TableColumn:
    """A column of a :class:`~widgets.sortable_table.SortableTable`."""

    key: str
    """Identifies the column (``"amount"``), also in :meth:`~widgets.sortable_table.SortableTable.sort_by`."""
    label: str
    """The header text (already translated), without sort marks."""
    type: ColumnType = ColumnType.TEXT
    """What the cells hold."""
    decimals: int | None = None
    """For :attr:`ColumnType.NUMBER`: places to show (``None``: as many as the value has)."""
    width: int | None = None
    """Cells for the text; ``None``: computed from the header and the values loaded."""
    numeric_month: bool = False
    """For :attr:`ColumnType.MONTH`: draw ``11.2026`` (7 cells) instead of ``ноябрь 2026``."""
    export_label: str | None = None
    """The header in a saved file, where width costs nothing (``None``: :attr:`label`); a header
    shortened to fit 80 columns (``Вх. сальдо``) is written out whole (``Входящее сальдо``)."""
