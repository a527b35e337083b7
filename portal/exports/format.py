"""The conventions of every exported file (docs/exchange-out.md): CSV with ``;``, a header row, one
record a line, a control line last; UTF-8 (decimal point) or Windows-1251 (decimal comma).
"""

from __future__ import annotations

import csv
import datetime as dt
import enum
import io
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal

from portal.kit.clock import BILLING_TZ

#: The first field of the control line; the line is ``ИТОГО;<records>;<sum>``.
CONTROL_MARK = "ИТОГО"
#: CRLF ends every line: what Windows spreadsheets and 1С-based billing systems write and read.
LINE_END = "\r\n"


class Encoding(enum.StrEnum):
    """The two encodings a billing system may ask for."""

    UTF8 = "utf-8"
    CP1251 = "cp1251"


@dataclass(frozen=True)
class CsvFormat:
    """How values are written for one encoding."""

    encoding: Encoding = Encoding.UTF8

    @property
    def decimal_separator(self) -> str:
        """A comma in Windows-1251 files (what Russian spreadsheets and 1С expect), a point in UTF-8."""
        return "," if self.encoding is Encoding.CP1251 else "."

    @property
    def media_type(self) -> str:
        charset = "windows-1251" if self.encoding is Encoding.CP1251 else "utf-8"
        return f"text/csv; charset={charset}"

    def decimal(self, value: Decimal, places: int) -> str:
        text = f"{value:.{places}f}"
        return text.replace(".", ",") if self.encoding is Encoding.CP1251 else text

    def money(self, kopecks: int) -> str:
        """Rubles with two decimals, exact (from integer kopecks), with a minus for a storno."""
        sign = "-" if kopecks < 0 else ""
        rubles, rest = divmod(abs(kopecks), 100)
        return f"{sign}{rubles}{self.decimal_separator}{rest:02d}"

    @staticmethod
    def date(value: dt.date) -> str:
        """ISO 8601: ``2026-11-20``."""
        return value.isoformat()

    @staticmethod
    def moment(value: dt.datetime | None) -> str:
        """ISO 8601 in the billing center's time with its offset: ``2026-11-20T12:00:00+03:00``."""
        if value is None:
            return ""
        if value.tzinfo is None:  # SQLite stores UTC without its zone
            value = value.replace(tzinfo=dt.UTC)
        return value.astimezone(BILLING_TZ).isoformat(timespec="seconds")

    def encode(self, text: str) -> bytes:
        # Strict: a character Windows-1251 cannot hold fails the export instead of being altered; the
        # file then has no control line, which is how a billing system knows it is incomplete.
        return text.encode(self.encoding.value)


class CsvChunks:
    """Encodes rows into byte chunks: the header first, the control line last."""

    def __init__(self, fmt: CsvFormat) -> None:
        self.fmt = fmt
        self._buffer = io.StringIO()
        self._writer = csv.writer(self._buffer, delimiter=";", lineterminator=LINE_END)

    def _take(self) -> bytes:
        text = self._buffer.getvalue()
        self._buffer.seek(0)
        self._buffer.truncate()
        return self.fmt.encode(text)

    def rows(self, rows: Iterable[Sequence[str]]) -> bytes:
        self._writer.writerows(rows)
        return self._take()

    def control(self, records: int, total: str) -> bytes:
        return self.rows([(CONTROL_MARK, str(records), total)])
