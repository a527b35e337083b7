"""The reading history with 10 000 rows: loading, re-sorting, and switching screens, in a running app.

Issue 4's targets: loading and re-sorting 10 000 rows each under 100 ms; switching screens under 50 ms.
The app runs headless at 80×24 (``run_test``) in embedded mode on a freshly seeded demo portal; the
resident logs in for real, and the portal's reading history is replaced by 10 000 generated readings
(the portal would not hold that many for one flat), so what is timed is the terminal side only.

- **load**: ``SortableTable.load`` of the 10 000 rows plus the next refresh; also the whole
  ``show_history`` (rows built from the models, the table, the chart's data) plus the next refresh;
- **sort**: ``sort_by`` plus the next refresh, alternating columns and directions (median);
- **switch**: home → reading history (the screen kept with its data, pushed again) until mounted and
  refreshed, and back (pop) until home is refreshed (medians); for scale, the same switch to a screen
  holding only a header and a footer (what Textual itself costs here); and a fresh screen opened the
  way F3 opens it, until it has fetched (the fake returns at once) and shown the 10 000 rows.

Prints figures (milliseconds), asserts nothing::

    .venv/bin/python bench/tables.py [--rows 10000] [--runs 15]
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import statistics
import sys
import tempfile
import time
from decimal import Decimal
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from portal.demo.accounts import DEMO_PASSWORD, HAPPY_PATH_APARTMENT, account_number  # noqa: E402
from tui.models import ReadingHistory, ReadingHistoryRow, ReadingSource, ReadingStatus  # noqa: E402

#: (service code, portal name, unit, decimals) of the generated meters.
METERS = (
    ("cold_water", "Холодное водоснабжение", "м³", 3),
    ("hot_water", "Горячее водоснабжение", "м³", 3),
    ("electricity", "Электроснабжение", "кВт·ч", 0),
)


def generated_history(count: int) -> ReadingHistory:
    """``count`` readings: meters of three kinds, five years of periods, every tenth one replaced."""
    sources = list(ReadingSource)
    readings: list[ReadingHistoryRow] = []
    first = dt.date(2021, 12, 1)
    periods = [
        dt.date(first.year + (first.month - 1 + i) // 12, (first.month - 1 + i) % 12 + 1, 1)
        for i in range(60)
    ]
    meter_count = -(-count // len(periods))
    for index in range(count):
        meter, step = divmod(index, len(periods))
        code, name, unit, decimals = METERS[meter % len(METERS)]
        quantum = Decimal(1).scaleb(-decimals)
        value = (Decimal(100 + meter * 37 + step * 5) + Decimal(step % 7) / 10).quantize(quantum)
        replaced = index % 10 == 9
        readings.append(
            ReadingHistoryRow(
                reading_id=index,
                meter_id=meter,
                service_code=code,
                service_name=name,
                unit=unit,
                serial_number=f"{21 + meter % 3}-{100000 + meter * 7919 % meter_count:06d}",
                period=periods[step],
                value=value,
                consumption=None if step == 0 or replaced else Decimal(5 + step % 7).quantize(quantum),
                rollover=False,
                submitted_at=dt.datetime(
                    periods[step].year, periods[step].month, 15 + step % 10, 9, index % 60, tzinfo=dt.UTC
                ),
                source=sources[index % len(sources)],
                status=ReadingStatus.REPLACED if replaced else ReadingStatus.ACCEPTED,
            )
        )
    return ReadingHistory(date_from=periods[0], date_to=dt.date(2026, 11, 30), readings=tuple(readings))


async def settle(pilot: Any) -> None:
    """Let the screen handle every pending message, then paint it now.

    ``Pilot.pause()`` sleeps at least 20 ms to detect idleness, which would swamp the figures; this
    waits for the queued work itself (Pilot's own helper) and then runs the screen's update at once.
    """
    await pilot._wait_for_screen()
    await pilot._wait_for_screen()
    pilot.app.screen._on_timer_update()


def ms(seconds: float) -> str:
    return f"{seconds * 1000:7.1f} ms"


async def measure(rows: int, runs: int) -> None:
    from app import KabinetApp
    from hosting.embedded import EmbeddedPortal
    from screens.reading_history import ReadingHistoryScreen
    from tui.config import load_config
    from tui.history_tables import reading_rows

    history = generated_history(rows)
    work = Path(tempfile.mkdtemp(prefix="kabinet-tables-"))
    async with EmbeddedPortal(data_dir=work / "embedded"):
        pass  # seed the demo once, outside the figures
    config = load_config(user_path=work / "config.toml", admin_path=work / "admin.toml")
    app = KabinetApp(config, embedded_data_dir=work / "embedded")

    async def big_history(*_args: Any, **_kwargs: Any) -> ReadingHistory:
        return history

    async with app.run_test(size=(80, 24)) as pilot:
        while app.client is None:
            await pilot.pause(0.05)
        number = account_number(HAPPY_PATH_APARTMENT)
        await app.client.login(number, DEMO_PASSWORD)
        app.client.reading_history = big_history  # type: ignore[method-assign]
        app.resident_logged_in(number)
        await app.workers.wait_for_complete()
        await pilot.pause()
        home = app.screen

        screen = ReadingHistoryScreen()
        app.install_screen(screen, name="bench-reading-history")
        await app.push_screen("bench-reading-history")
        while not screen.loaded:
            await pilot.pause(0.01)
        await pilot.pause()
        table = screen.table
        assert table.row_count == rows, table.row_count

        table_rows = reading_rows(app.t, history.readings)
        loads, shows = [], []
        for _ in range(max(3, runs // 3)):
            started = time.perf_counter()
            table.load(table_rows)
            await settle(pilot)
            loads.append(time.perf_counter() - started)
            started = time.perf_counter()
            screen.show_history(history)
            await settle(pilot)
            shows.append(time.perf_counter() - started)

        keys = ["consumption", "submitted_at", "service", "value", "period", "status"]
        sorts = []
        for run in range(runs):
            started = time.perf_counter()
            table.sort_by(keys[run % len(keys)], reverse=bool(run % 2))
            await settle(pilot)
            sorts.append(time.perf_counter() - started)

        to_history, to_home = [], []
        for _ in range(runs):
            await app.pop_screen()
            await pilot.pause()
            assert app.screen is home
            started = time.perf_counter()
            await app.push_screen("bench-reading-history")
            await settle(pilot)
            to_history.append(time.perf_counter() - started)
            assert app.screen is screen
            started = time.perf_counter()
            await app.pop_screen()
            await settle(pilot)
            to_home.append(time.perf_counter() - started)
            await app.push_screen("bench-reading-history")
            await pilot.pause()

        # For scale: the same switch to a screen holding only a header and a footer.
        from textual.screen import Screen
        from textual.widgets import Footer, Header

        class BareScreen(Screen[None]):
            def compose(self) -> Any:
                yield Header()
                yield Footer(compact=True, show_command_palette=False)

        app.install_screen(BareScreen(), name="bench-bare")
        await app.pop_screen()
        await pilot.pause()
        to_bare = []
        for _ in range(runs):
            started = time.perf_counter()
            await app.push_screen("bench-bare")
            await settle(pilot)
            to_bare.append(time.perf_counter() - started)
            await app.pop_screen()
            await pilot.pause()
        await app.push_screen("bench-reading-history")
        await pilot.pause()

        fresh = []
        await app.pop_screen()
        for _ in range(max(3, runs // 3)):
            await app.workers.wait_for_complete()
            await pilot.pause()
            started = time.perf_counter()
            await app.push_screen(ReadingHistoryScreen())
            await settle(pilot)
            fresh.append(time.perf_counter() - started)
            await app.workers.wait_for_complete()
            await app.pop_screen()
            await pilot.pause()

    print(f"Reading history, {rows} rows, headless 80×24 (medians of {runs} runs; min / max)")
    for label, values in (
        ("load(): table.load + refresh", loads),
        ("show_history + refresh", shows),
        ("re-sort: sort_by + refresh", sorts),
        ("switch home → history", to_history),
        ("switch history → home", to_home),
        ("for scale: home → bare screen", to_bare),
        ("fresh screen: mount, fetch, show", fresh),
    ):
        spread = f"({ms(min(values)).strip()} / {ms(max(values)).strip()})"
        print(f"  {label:32} {ms(statistics.median(values))}   {spread}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--rows", type=int, default=10_000)
    parser.add_argument("--runs", type=int, default=15)
    args = parser.parse_args()
    asyncio.run(measure(args.rows, args.runs))


if __name__ == "__main__":
    main()
