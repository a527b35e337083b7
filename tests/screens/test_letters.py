"""«Профиль → Письма» at 80×24 on the embedded demo: the receipt and reading reminders by e-mail."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.screens.test_profile import open_profile
from tests.support.app import assert_in_view, footer_keys_in_view, make_app, text_of, wait_for
from tests.support.captcha import watch_answers
from tui.client import PortalClient
from widgets.toggles import Checkbox


def _box(pilot: object, selector: str) -> str:
    checkbox = pilot.app.screen.query_one(selector, Checkbox)  # type: ignore[attr-defined]
    return str(checkbox.render().plain.strip())


async def test_resident_turns_letters_on_and_off_in_the_profile(
    tmp_path: Path, app_data_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    answers = watch_answers(monkeypatch)
    app = make_app(tmp_path, app_data_dir)
    async with app.run_test(size=(80, 24)) as pilot:
        await open_profile(pilot, answers)
        assert "f6" in footer_keys_in_view(pilot)
        await pilot.press("f6")
        await wait_for(pilot, lambda: "Письма приходят на" in text_of(pilot, "#letters-where"))
        assert _box(pilot, "#letters-receipt") == "[ ] Квитанция по e-mail каждый месяц (PDF)"
        assert _box(pilot, "#letters-reminders") == "[ ] Напоминания о показаниях счётчиков"
        assert "***@" in text_of(pilot, "#letters-where")
        assert_in_view(pilot, "#letters-receipt", "#letters-reminders", "#letters-message")
        # Space ticks the focused switch; it is saved at once.
        assert pilot.app.focused is pilot.app.screen.query_one("#letters-receipt")
        await pilot.press("space")
        await wait_for(pilot, lambda: text_of(pilot, "#letters-message") == "Изменения сохранены")
        assert _box(pilot, "#letters-receipt").startswith("[x]")
        await pilot.press("tab", "space")
        await wait_for(pilot, lambda: _box(pilot, "#letters-reminders").startswith("[x]"))
        await wait_for(pilot, lambda: text_of(pilot, "#letters-message") == "Изменения сохранены")
        client = pilot.app.client  # type: ignore[attr-defined]
        assert isinstance(client, PortalClient)
        chosen = await client.mail_subscriptions()
        assert (chosen.receipt, chosen.reminders) == (True, True)
        # And off again.
        await pilot.press("shift+tab", "space")
        await wait_for(pilot, lambda: _box(pilot, "#letters-receipt").startswith("[ ]"))
        await wait_for(pilot, lambda: text_of(pilot, "#letters-message") == "Изменения сохранены")
        chosen = await client.mail_subscriptions()
        assert (chosen.receipt, chosen.reminders) == (False, True)
