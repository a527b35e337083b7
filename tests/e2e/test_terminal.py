"""End to end in a real terminal: ``python app.py`` in tmux at 80×24, log in, submit a reading.

Drives the app as a resident would — keys in, screen text out (``send-keys`` / ``capture-pane``) —
then checks through the portal that the reading was stored.
"""

from __future__ import annotations

import asyncio
import shutil
import sys
import time
from decimal import Decimal
from pathlib import Path

import pytest

from hosting.embedded import EmbeddedPortal
from tests.support.app import HAPPY, PASSWORD
from tests.support.tmux import ROOT, Terminal
from tui.client import PortalClient
from tui.models import MetersOverview

pytestmark = pytest.mark.skipif(shutil.which("tmux") is None, reason="needs tmux")


async def _meters(data_dir: Path) -> MetersOverview:
    """The happy-path resident's meters, asked of the portal directly (not through the app)."""
    async with EmbeddedPortal(data_dir=data_dir) as embedded:  # noqa: SIM117 - the client needs embedded
        async with PortalClient(transport=embedded.transport) as client:
            await client.login(HAPPY, PASSWORD)
            return await client.meters()


async def _first_meter(data_dir: Path) -> tuple[int, Decimal]:
    overview = await _meters(data_dir)
    meter = next(m for m in overview.meters if m.accepts_readings and m.previous_reading is not None)
    assert meter.previous_reading is not None
    return meter.meter_id, meter.previous_reading.value


async def _stored_values(data_dir: Path, meter_id: int) -> list[Decimal]:
    overview = await _meters(data_dir)
    meter = next(m for m in overview.meters if m.meter_id == meter_id)
    return [meter.current_reading.value] if meter.current_reading else []


def test_resident_logs_in_and_submits_a_reading(app_data_dir: Path, tmp_path: Path) -> None:
    meter_id, previous = asyncio.run(_first_meter(app_data_dir))
    new_value = previous + Decimal("1.5")
    # A returning resident: the app remembers the account number and starts in the password field.
    # (Keys typed faster than a person could may reach a field before focus moves on; a person waits.)
    config_dir = tmp_path / "config" / "kabinet"
    config_dir.mkdir(parents=True)
    (config_dir / "config.toml").write_text(f'last_account_number = "{HAPPY}"\n', encoding="utf-8")
    command = (
        f"env XDG_CONFIG_HOME={tmp_path / 'config'} TERM=xterm-256color "
        f"{sys.executable} {ROOT / 'app.py'} --data-dir {app_data_dir}"
    )
    terminal = Terminal(command)
    try:
        terminal.wait_for("Демо: лицевой счет")  # the login screen, with the embedded portal ready
        assert HAPPY in terminal.screen()
        terminal.type(PASSWORD)
        terminal.keys("Enter")
        terminal.wait_for(f"Лицевой счет {HAPPY}")  # home
        terminal.keys("F2")
        terminal.wait_for("Новое показание")
        time.sleep(1.0)  # the meters arrive, then the first field takes the focus
        terminal.type(str(new_value).replace(".", ","))
        terminal.keys("F2")
        screen = terminal.wait_for("✓")
        assert "Показание принято" in screen or "принят" in screen
    finally:
        terminal.close()
    assert asyncio.run(_stored_values(app_data_dir, meter_id)) == [new_value.quantize(previous)]
