"""Snapshots of the main screens at 80×24 in Russian and English (pytest-textual-snapshot).

The demo is seeded with a fixed day (see conftest), so the screens show the same data on any day.
Update after a deliberate change with ``pytest tests/test_snapshots.py --snapshot-update`` and look at
the SVGs under ``tests/__snapshots__/``.
"""

from __future__ import annotations

import pytest

from tests.app_helpers import login, make_app, screen_name, text_of, wait_for, wait_ready

LANGUAGES = ["ru", "en"]


@pytest.mark.parametrize("lang", LANGUAGES)
def test_login_screen(snap_compare, tmp_path, app_data_dir, lang):
    async def ready(pilot):
        await wait_ready(pilot)
        await pilot.pause()

    app = make_app(tmp_path, app_data_dir, language=lang)
    assert snap_compare(app, terminal_size=(80, 24), run_before=ready)


@pytest.mark.parametrize("lang", LANGUAGES)
def test_home_screen(snap_compare, tmp_path, app_data_dir, lang):
    async def logged_in(pilot):
        await login(pilot)
        await wait_for(pilot, lambda: screen_name(pilot) == "HomeScreen")
        await wait_for(pilot, lambda: "₽" in text_of(pilot, "#home-balance"))
        await pilot.pause()

    app = make_app(tmp_path, app_data_dir, language=lang)
    assert snap_compare(app, terminal_size=(80, 24), run_before=logged_in)


@pytest.mark.parametrize("lang", LANGUAGES)
def test_help_screen(snap_compare, tmp_path, app_data_dir, lang):
    async def help_open(pilot):
        await wait_ready(pilot)
        await pilot.press("f1")
        await pilot.pause()

    app = make_app(tmp_path, app_data_dir, language=lang)
    assert snap_compare(app, terminal_size=(80, 24), run_before=help_open)
