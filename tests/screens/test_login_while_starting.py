"""A login asked for while the embedded portal is still starting is kept and sent once it is ready."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from hosting.embedded import EmbeddedPortal
from tests.support.app import HAPPY, PASSWORD, make_app, screen_name, text_of, wait_for


async def test_enter_before_the_portal_is_ready_logs_in_once_it_is(
    tmp_path: Path, app_data_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    gate = asyncio.Event()
    start = EmbeddedPortal.__aenter__

    async def slow_start(self: EmbeddedPortal) -> EmbeddedPortal:
        await gate.wait()  # the first start takes seconds (the login screen is drawn long before)
        return await start(self)

    monkeypatch.setattr(EmbeddedPortal, "__aenter__", slow_start)
    app = make_app(tmp_path, app_data_dir)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        assert app.client is None
        await pilot.press(*HAPPY, "tab", *PASSWORD, "enter")
        await pilot.pause(0.2)
        assert "Портал запускается" in text_of(pilot, "#login-error")
        assert screen_name(pilot) == "LoginScreen"
        gate.set()
        await wait_for(pilot, lambda: screen_name(pilot) == "HomeScreen")
        assert app.account_number == HAPPY

        def balance() -> str:
            return text_of(pilot, "#home-balance") if app.screen.query("#home-balance") else ""

        await wait_for(pilot, lambda: "Баланс" in balance())
