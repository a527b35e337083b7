"""A language switch changes every word on every screen of the stack, and switching back restores them.

Each screen is opened in Russian, switched to English and compared — as plain text of the whole
80×24 terminal — with the same screen opened in an English app; then switched back and compared with
itself before the switch.
"""

from __future__ import annotations

import difflib
from pathlib import Path

import pytest
from textual.pilot import Pilot

from app import KabinetApp
from tests.support.app import login, make_app, screen_name, settle, wait_for, wait_ready
from tui.i18n import Translator

PUBLIC = ["login", "registration", "recovery", "readings_without_login", "capital_repair_payment"]
RESIDENT = ["home", "readings", "reading_history", "payment_history", "statement", "payment", "receipts"]
RESIDENT += ["profile"]


def screen_text(app: KabinetApp) -> str:
    """What the terminal shows, as plain text (no colours); captcha pictures (new each time) blanked
    where they are drawn (a row of the picture with little ink in it used to slip through)."""
    from textual.widget import Widget

    from widgets.captcha import CaptchaImage

    lines = [strip.text.rstrip() for strip in app.screen._compositor.render_strips()]
    for image in app.screen.query(CaptchaImage):
        region = image.parent.content_region if isinstance(image.parent, Widget) else image.region
        for y in range(region.y, min(region.bottom, len(lines))):
            line = lines[y].ljust(region.right)
            lines[y] = (line[: region.x] + "(picture)".ljust(region.width) + line[region.right :]).rstrip()
    return "\n".join(lines)


async def _settle(pilot: Pilot[None]) -> None:
    """The portal's data are in (the screen's workers ended), charts drawn, notifications gone."""
    app = pilot.app
    await settle(pilot)
    await pilot.wait_for_scheduled_animations()
    app.clear_notifications()
    await pilot.wait_for_scheduled_animations()


async def _texts(app: KabinetApp, pilot: Pilot[None], names: list[str], switch: bool) -> dict[str, list[str]]:
    """Each screen's text as opened (and, with ``switch``, after switching and after switching back)."""
    texts: dict[str, list[str]] = {}
    for name in names:
        if name not in ("login", "home"):
            app.open_screen(name)
            await wait_for(
                pilot, lambda: screen_name(pilot) != "HomeScreen" and screen_name(pilot) != "LoginScreen"
            )
        await _settle(pilot)
        texts[name] = [screen_text(app)]
        if switch:
            app.action_toggle_language()
            await _settle(pilot)
            texts[name].append(screen_text(app))
            app.action_toggle_language()
            await _settle(pilot)
            texts[name].append(screen_text(app))
        if name not in ("login", "home"):
            app.pop_screen()
            await settle(pilot)
    return texts


async def _all_texts(tmp_path: Path, data_dir: Path, language: str, switch: bool) -> dict[str, list[str]]:
    app = make_app(tmp_path / language, data_dir, language=language)
    (tmp_path / language).mkdir(exist_ok=True)
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_ready(pilot)
        texts = await _texts(app, pilot, PUBLIC, switch)
        await login(pilot)
        await wait_for(pilot, lambda: screen_name(pilot) == "HomeScreen")
        texts |= await _texts(app, pilot, RESIDENT, switch)
        assert not app.t.missing
    return texts


def _diff(expected: str, actual: str) -> str:
    lines = difflib.unified_diff(expected.splitlines(), actual.splitlines(), lineterm="", n=0)
    return "\n".join(lines)


@pytest.mark.slow
async def test_every_screen_follows_a_language_switch_and_back(tmp_path: Path, app_data_dir: Path) -> None:
    switched = await _all_texts(tmp_path, app_data_dir, "ru", switch=True)
    english = await _all_texts(tmp_path, app_data_dir, "en", switch=False)
    wrong = []
    for name, (russian, to_english, back) in switched.items():
        if to_english != english[name][0]:
            wrong.append(
                f"{name}: switched (+) / opened in English (-)\n{_diff(english[name][0], to_english)}"
            )
        if back != russian:
            wrong.append(f"{name}: switched back (+) / before the switch (-)\n{_diff(russian, back)}")
    assert not wrong, "\n\n".join(wrong)


def test_a_message_remembers_its_key_and_is_found_again_by_its_words() -> None:
    t = Translator("ru")
    required = t("input.required", field=t("login.password"))
    button = str(t("login.submit"))  # a button keeps only the words
    t.set_language("en")
    assert t.again(required) == 'Field "Password" is required.'  # the parameter translated too
    assert t.again(button) == "Log in"
    assert t.again("Лебедев Михаил Иванович") is None  # the portal's data stay as they are
    t.set_language("ru")
    assert t.again(t.again(required)) == required
