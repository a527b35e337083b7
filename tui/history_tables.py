"""The history screens' tables and chart data in the resident's language (no Textual here).

Columns and rows for «История показаний», «История платежей» and «Начисления и платежи», and the
consumption chart's series: what each row says is decided here, the widgets only draw it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal

from tui.formatting import trim_zeros
from tui.i18n import Translator
from tui.models import (
    PaymentRow,
    PaymentTotals,
    ReadingHistoryRow,
    ReadingSource,
    ReadingStatus,
    ServiceCharge,
    StatementMonth,
)
from tui.tables import ColumnType, TableColumn

# --- История показаний -------------------------------------------------------------------------------


def service_label(t: Translator, code: str, portal_name: str) -> str:
    """The service's name: the portal's own in Russian, the catalogue's in another language."""
    key = f"service.{code}"
    return t(key) if t.lang != "ru" and t.has(key) else portal_name


def reading_columns(t: Translator) -> list[TableColumn]:
    """The table's columns in the resident's language.

    What tells a reading apart and whether it counts — period, meter, value, consumption, the day it
    was sent, its source and its status — fits 80 columns; the service's name comes last.
    """
    return [
        TableColumn("period", t("reading_history.column_period"), ColumnType.MONTH, numeric_month=True),
        TableColumn("serial", t("reading_history.column_serial")),
        # The portal sends each value with its meter's decimals, so no fixed number of places here.
        TableColumn("value", t("reading_history.column_value"), ColumnType.NUMBER),
        TableColumn("consumption", t("reading_history.column_consumption"), ColumnType.NUMBER),
        TableColumn("submitted_at", t("reading_history.column_date"), ColumnType.DATE),
        TableColumn("source", t("reading_history.column_source")),
        TableColumn("status", t("reading_history.column_status")),
        TableColumn("service", t("reading_history.column_service")),
    ]


def reading_rows(t: Translator, readings: Iterable[ReadingHistoryRow]) -> list[tuple[object, ...]]:
    """One table row per reading, in :func:`reading_columns` order."""
    sources: dict[ReadingSource, str] = {}
    rows: list[tuple[object, ...]] = []
    accepted, replaced, rollover = (
        t("reading_history.accepted"),
        t("reading_history.replaced"),
        t("reading_history.rollover"),
    )
    services: dict[tuple[str, str], str] = {}
    for reading in readings:
        source = sources.get(reading.source)
        if source is None:
            source = sources[reading.source] = t(f"reading_history.source_{reading.source.value}")
        service_key = (reading.service_code, reading.service_name)
        service = services.get(service_key)
        if service is None:
            service = services[service_key] = service_label(t, *service_key)
        status = accepted if reading.status is ReadingStatus.ACCEPTED else replaced
        if reading.rollover:
            status = f"{status}, {rollover}"
        rows.append(
            (
                reading.period,
                reading.serial_number,
                reading.value,
                reading.consumption,
                # The day it was sent, on the resident's clock (the portal answers in UTC).
                reading.submitted_at.astimezone().date(),
                source,
                status,
                service,
            )
        )
    return rows


def meter_units(readings: Iterable[ReadingHistoryRow]) -> list[str]:
    """The units of the meters with accepted readings, in the order they first appear (``м³``, ``кВт·ч``)."""
    units: dict[str, None] = {}
    for reading in readings:
        if reading.status is ReadingStatus.ACCEPTED and reading.consumption is not None:
            units.setdefault(reading.unit)
    return list(units)


def consumption_series(
    t: Translator, readings: Iterable[ReadingHistoryRow], unit: str
) -> tuple[list[dt.date], dict[str, list[Decimal | None]]]:
    """Periods and consumption per meter of one ``unit``, from accepted readings only.

    Meters of one unit share a chart, so cubic metres of water are not flattened by kilowatt-hours.
    A meter is named «service №serial».
    """
    accepted = [
        r
        for r in readings
        if r.status is ReadingStatus.ACCEPTED and r.consumption is not None and r.unit == unit
    ]
    periods = sorted({reading.period for reading in accepted})
    position = {period: index for index, period in enumerate(periods)}
    meters: dict[str, list[Decimal | None]] = {}
    for reading in sorted(accepted, key=lambda r: (r.service_code, r.serial_number, r.period)):
        name = f"{service_label(t, reading.service_code, reading.service_name)} №{reading.serial_number}"
        values = meters.setdefault(name, [None] * len(periods))
        values[position[reading.period]] = reading.consumption
    return periods, meters


CHART_METERS_MAX = 4
"""Meters drawn in one chart: more lines would not be told apart at 80×10 (``g`` shows the next ones)."""


@dataclass(frozen=True)
class ChartView:
    """What the chart shows at one press of ``g``: up to :data:`CHART_METERS_MAX` meters of one unit."""

    unit: str
    periods: list[dt.date]
    meters: dict[str, list[Decimal | None]]
    part: int
    """1-based number of this group among the unit's groups."""
    parts: int
    """How many groups the unit's meters make."""


def chart_views(t: Translator, readings: Sequence[ReadingHistoryRow]) -> list[ChartView]:
    """The chart's views: by unit, each unit's meters in groups of at most :data:`CHART_METERS_MAX`."""
    views: list[ChartView] = []
    for unit in meter_units(readings):
        periods, meters = consumption_series(t, readings, unit)
        names = list(meters)
        groups = [names[i : i + CHART_METERS_MAX] for i in range(0, len(names), CHART_METERS_MAX)]
        for part, group in enumerate(groups, start=1):
            views.append(ChartView(unit, periods, {name: meters[name] for name in group}, part, len(groups)))
    return views


# --- История платежей --------------------------------------------------------------------------------


def payment_columns(t: Translator) -> list[TableColumn]:
    """The table's columns in the resident's language."""
    return [
        TableColumn("paid_on", t("payment_history.column_date"), ColumnType.DATE),
        TableColumn("amount", t("payment_history.column_amount"), ColumnType.MONEY),
        TableColumn("purpose", t("payment_history.column_purpose")),
        TableColumn("channel", t("payment_history.column_channel")),
    ]


def payment_rows(t: Translator, payments: Iterable[PaymentRow]) -> list[tuple[object, ...]]:
    """One table row per payment, in :func:`payment_columns` order."""
    return [
        (
            payment.paid_on,
            payment.amount,
            t(f"payment_history.purpose_{payment.purpose.value}"),
            t(f"payment_history.channel_{payment.channel.value}"),
        )
        for payment in payments
    ]


def totals_text(t: Translator, totals: PaymentTotals) -> str:
    """«Всего оплачено: … · Итого за ЖКУ: … · Итого взносов на капремонт: …»."""
    return " · ".join(
        [
            t("payment_history.total", amount=totals.total),
            t("payment_history.total_utilities", amount=totals.utilities),
            t("payment_history.total_capital_repair", amount=totals.capital_repair),
        ]
    )


# --- Начисления и платежи ----------------------------------------------------------------------------


def _recalculation_column(t: Translator) -> TableColumn:
    return TableColumn(
        "recalculation",
        t("statement.column_recalculation_short"),
        ColumnType.MONEY,
        export_label=t("statement.column_recalculation"),
    )


def month_columns(t: Translator) -> list[TableColumn]:
    """The month table's columns in the resident's language.

    Every term of the balance rule has its column — penalties (пени) too, as on the receipt — so
    the headers that would not fit 80 columns are shortened (``Вх. сальдо``); the rule under the
    table and a saved file say them whole.
    """
    return [
        TableColumn("period", t("statement.column_month"), ColumnType.MONTH, numeric_month=True),
        TableColumn(
            "opening",
            t("statement.column_opening_short"),
            ColumnType.MONEY,
            export_label=t("statement.column_opening"),
        ),
        TableColumn("charged", t("statement.column_charged"), ColumnType.MONEY),
        _recalculation_column(t),
        TableColumn("penalties", t("statement.column_penalties"), ColumnType.MONEY),
        TableColumn("paid", t("statement.column_paid"), ColumnType.MONEY),
        TableColumn(
            "closing",
            t("statement.column_closing_short"),
            ColumnType.MONEY,
            export_label=t("statement.column_closing"),
        ),
    ]


def month_rows(months: Iterable[StatementMonth]) -> list[tuple[object, ...]]:
    """One row per month, in :func:`month_columns` order."""
    return [
        (
            month.period,
            month.opening,
            month.charged,
            month.recalculation,
            month.penalties,
            month.paid,
            month.closing,
        )
        for month in months
    ]


def line_columns(t: Translator) -> list[TableColumn]:
    """The service lines' columns in the resident's language."""
    return [
        TableColumn("service", t("statement.column_service")),
        TableColumn("volume", t("statement.column_volume"), ColumnType.NUMBER),
        TableColumn("unit", t("statement.column_unit")),
        TableColumn("tariff", t("statement.column_tariff"), ColumnType.MONEY),
        TableColumn("charged", t("statement.column_charged"), ColumnType.MONEY),
        _recalculation_column(t),
    ]


def line_rows(t: Translator, lines: Iterable[ServiceCharge]) -> list[tuple[object, ...]]:
    """One row per service line, in :func:`line_columns` order."""
    return [
        (
            service_label(t, line.service_code, line.service_name),
            trim_zeros(line.volume),  # 37,47 м², 248 кВт·ч — not the storage's 37,4700 and 248,0000
            t.unit(line.unit),
            line.tariff,
            line.charged,
            line.recalculation,
        )
        for line in lines
    ]
