"""Snapshots of the main screens at 80×24 in Russian and English (pytest-textual-snapshot).

The demo is seeded with a fixed day (see conftest), so the screens show the same data on any day.
Update after a deliberate change with ``pytest tests/test_snapshots.py --snapshot-update`` and look at
the SVGs under ``tests/__snapshots__/``.
"""

from __future__ import annotations

import datetime as dt

import pytest
from textual.widgets import Input

from tests.app_helpers import login, make_app, screen_name, text_of, wait_for, wait_ready

LANGUAGES = ["ru", "en"]


async def steady(pilot) -> None:
    """Wait for the focus the screen sets once its data is in, and stop the blinking cursor."""
    await wait_for(pilot, lambda: pilot.app.focused is not None)
    for field in pilot.app.screen.query(Input):
        field.cursor_blink = False
    await pilot.pause(0.3)


@pytest.mark.parametrize("lang", LANGUAGES)
def test_login_screen(snap_compare, tmp_path, app_data_dir, lang):
    async def ready(pilot):
        await wait_ready(pilot)
        await steady(pilot)

    app = make_app(tmp_path, app_data_dir, language=lang)
    assert snap_compare(app, terminal_size=(80, 24), run_before=ready)


@pytest.mark.parametrize("lang", LANGUAGES)
def test_home_screen(snap_compare, tmp_path, app_data_dir, lang):
    async def logged_in(pilot):
        await login(pilot)
        await wait_for(pilot, lambda: screen_name(pilot) == "HomeScreen")
        await wait_for(pilot, lambda: "₽" in text_of(pilot, "#home-balance"))
        await steady(pilot)

    app = make_app(tmp_path, app_data_dir, language=lang)
    assert snap_compare(app, terminal_size=(80, 24), run_before=logged_in)


@pytest.mark.parametrize("lang", LANGUAGES)
def test_help_screen(snap_compare, tmp_path, app_data_dir, lang):
    async def help_open(pilot):
        await wait_ready(pilot)
        await pilot.press("f1")
        await steady(pilot)

    app = make_app(tmp_path, app_data_dir, language=lang)
    assert snap_compare(app, terminal_size=(80, 24), run_before=help_open)


def _open_from_home(key: str, ready_text: str | None = None, *, period: bool = False):
    """run_before: log in, press ``key`` on home, set a fixed period if asked, wait until it shows."""

    async def run(pilot):
        await login(pilot)
        await wait_for(pilot, lambda: screen_name(pilot) == "HomeScreen")
        await pilot.press(key)
        await wait_for(pilot, lambda: screen_name(pilot) != "HomeScreen")
        if period:
            await wait_for(pilot, lambda: bool(pilot.app.screen.query("#period-from")))
            pilot.app.screen.query_one("#period-from").value = dt.date(2025, 11, 1)
            pilot.app.screen.query_one("#period-to").value = dt.date(2026, 10, 31)
            await pilot.press("f2")
            await wait_for(pilot, lambda: _first_table_rows(pilot) > 0)
        if ready_text is not None:
            await wait_for(pilot, lambda: ready_text in _screen_text(pilot))
        await steady(pilot)

    return run


def _first_table_rows(pilot) -> int:
    from widgets.sortable_table import SortableTable

    tables = pilot.app.screen.query(SortableTable)
    return tables.first().row_count if tables else 0


def _screen_text(pilot) -> str:
    return " ".join(str(widget.render()) for widget in pilot.app.screen.query("Static"))


@pytest.mark.parametrize("lang", LANGUAGES)
def test_readings_screen(snap_compare, tmp_path, app_data_dir, lang):
    app = make_app(tmp_path, app_data_dir, language=lang)
    ready = "20.10.2026"  # the previous readings' date, shown once the meters are loaded
    assert snap_compare(app, terminal_size=(80, 24), run_before=_open_from_home("f2", ready))


@pytest.mark.parametrize(("key", "lang"), [("f3", "ru"), ("f4", "en"), ("f6", "ru")])
def test_history_screens(snap_compare, tmp_path, app_data_dir, key, lang):
    app = make_app(tmp_path, app_data_dir, language=lang)
    assert snap_compare(app, terminal_size=(80, 24), run_before=_open_from_home(key, period=True))
