"""The app run once, headless, in the fork server before it forks sessions (:mod:`hosting.forkserver`).

Textual and the app fill caches on their first screen (parsed CSS selectors, the widgets' merged
styles, Rich's cell widths, modules imported on first use). Done once in the fork server, all of it is
shared by every session forked after; done in each session, each keeps a copy of its own. The run
draws the login screen at 80×24 with a config of its own (in a temporary folder, so nothing is saved
anywhere) and a portal address nobody answers (it never logs in), then ends; the event loop is closed
and its threads joined before the fork server forks.
"""

from __future__ import annotations

import asyncio
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from textual.app import App

from tui.client import tls_context
from tui.config import Config, load_config

_NOBODY: str = "http://127.0.0.1:9"
"""The discard port: the warm-up app's portal calls fail at once, and it makes none that matter."""


def warm_up(make_app: Callable[[Config], App[Any]], runs: int = 1) -> None:
    """Run ``make_app(config)`` headless until its first screen is drawn, then end it; ``runs`` times
    (the second run finds the interpreter's specialised code and the caches as a session will)."""
    for _ in range(runs):
        _run_once(make_app)
    # The TLS trust store of a session's portal client (about 1 MiB): the servers hand their apps no
    # SSL_CERT_FILE or SSL_CERT_DIR, so they use the default one; loaded here, every session shares it.
    tls_context({})


def _run_once(make_app: Callable[[Config], App[Any]]) -> None:
    with tempfile.TemporaryDirectory(prefix="kabinet-warmup-") as folder:
        config = load_config(
            user_path=Path(folder) / "config.toml",
            admin_path=Path(folder) / "admin.toml",
            overrides={"server_url": _NOBODY},
        )
        app = make_app(config)

        async def run() -> None:
            async with app.run_test(headless=True, size=(80, 24)) as pilot:
                await pilot.pause()
                await pilot.wait_for_scheduled_animations()

        asyncio.run(run())


__all__ = ["warm_up"]
