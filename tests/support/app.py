"""Driving the real app in tests: start it on a copy of the demo portal, log in, read the screen."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Iterable
from pathlib import Path
from typing import Any, Protocol, TypeVar

from textual.app import App
from textual.pilot import Pilot
from textual.screen import Screen
from textual.widget import Widget
from textual.widgets import Input, Static

from app import KabinetApp
from portal.demo.accounts import DEMO_PASSWORD, HAPPY_PATH_APARTMENT, account_number
from tui.client import PortalClient
from tui.config import load_config

HAPPY = account_number(HAPPY_PATH_APARTMENT)
PASSWORD = DEMO_PASSWORD


def make_app(tmp_path: Path, data_dir: Path, **config: object) -> KabinetApp:
    """The app on the embedded portal in ``data_dir``, with config files of its own under ``tmp_path``."""
    cfg = load_config(
        user_path=tmp_path / "config.toml", admin_path=tmp_path / "admin.toml", overrides=config
    )
    return KabinetApp(cfg, embedded_data_dir=data_dir)


#: What a snapshot runs before it is taken: steps on the running app.
PilotStep = Callable[[Pilot[None]], Awaitable[None]]


class SnapCompare(Protocol):
    """pytest-textual-snapshot's ``snap_compare`` fixture (its own annotation leaves out the keywords)."""

    def __call__(
        self,
        app: str | Path | App[Any],
        press: Iterable[str] = (),
        terminal_size: tuple[int, int] = (80, 24),
        run_before: PilotStep | None = None,
    ) -> bool: ...


#: How long :func:`wait_for` sleeps when no worker of the app is running (a timer, another process).
IDLE_POLL_SECONDS = 0.05


async def settle(pilot: Pilot[None], seconds: float = 30.0) -> None:
    """Wait until the app is quiet: its messages handled, no worker (portal call) running — also none
    that the handling started — and animations over, each tab underline under its active tab; for at
    most ``seconds``."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + seconds
    while True:
        await pilot.pause()  # mount handlers and what they scheduled run, starting their workers
        left = deadline - loop.time()
        if left <= 0 or not await _workers_end(pilot, seconds=left):
            break
    await pilot.wait_for_scheduled_animations()
    # A tab's underline starts sliding only from a timer (Tabs._highlight_active: 0.02 s, then after a
    # refresh), so until that timer fires the animator has nothing to wait for; on a loaded machine it
    # fires after the wait above. Wait for where the underline has to end instead.
    while not underlines_in_place(pilot.app) and loop.time() < deadline:
        await pilot.pause(IDLE_POLL_SECONDS)
        await pilot.wait_for_scheduled_animations()


#: What Tabs animates to move its underline.
_UNDERLINE_ENDS = ("highlight_start", "highlight_end")


def underlines_in_place(app: App[Any]) -> bool:
    """Every shown row of tabs has its underline under its active tab, no longer moving."""
    from textual.widgets import Tabs
    from textual.widgets._tabs import Underline

    for tabs in app.screen.query(Tabs):
        active = tabs.active_tab
        if active is None or not tabs.region:  # no tab, or not laid out (hidden)
            continue
        underline = tabs.query_one(Underline)
        # Where Tabs puts it (the same region as Tabs._highlight_active's move_underline takes).
        start, end = active.virtual_region.shrink(active.styles.gutter).column_span
        if (underline.highlight_start, underline.highlight_end) != (start, end):
            return False
        if any(app.animator.is_being_animated(underline, name) for name in _UNDERLINE_ENDS):
            return False
    return True


async def wait_for(pilot: Pilot[None], condition: Callable[[], object], seconds: float = 30.0) -> None:
    """Until ``condition()`` holds, for at most ``seconds``: woken when one of the app's workers ends.

    What a screen waits for is almost always a worker (a portal call; the embedded portal starts in
    one): each time one ends its messages are handled, then ``condition`` is asked again. A worker
    may also wait on a dialog the condition looks for, and timers run without one, so the wait is
    cut at :data:`IDLE_POLL_SECONDS` while workers run and no worker ends, and is that long when none
    runs.
    """
    loop = asyncio.get_running_loop()
    deadline = loop.time() + seconds
    while not _holds(condition):
        left = deadline - loop.time()
        if left <= 0:
            condition()  # a widget still missing fails with its own error
            raise AssertionError("the app did not get there in time")
        if not await _workers_end(pilot, seconds=min(left, IDLE_POLL_SECONDS), first=True):
            await pilot.pause(min(left, IDLE_POLL_SECONDS))
        else:
            await pilot.pause()


def _holds(condition: Callable[[], object]) -> bool:
    """``condition()``, false while a widget it looks at is not mounted yet (a screen just pushed)."""
    from textual.css.query import NoMatches

    try:
        return bool(condition())
    except NoMatches:
        return False


async def _workers_end(pilot: Pilot[None], seconds: float | None, first: bool = False) -> bool:
    """Await the running workers' tasks (the first to end, or all); whether any was running."""
    tasks = [
        worker._task for worker in pilot.app.workers if worker._task is not None and not worker._task.done()
    ]
    if not tasks:
        return False
    await asyncio.wait(
        tasks, timeout=seconds, return_when=asyncio.FIRST_COMPLETED if first else asyncio.ALL_COMPLETED
    )
    return True


async def wait_ready(pilot: Pilot[None]) -> None:
    app = pilot.app
    assert isinstance(app, KabinetApp)
    await wait_for(pilot, lambda: app.client is not None)


async def type_into(pilot: Pilot[None], selector: str, text: str) -> None:
    widget = pilot.app.screen.query_one(selector, Input)
    widget.focus()
    widget.value = ""
    await pilot.press(*text)


async def login(pilot: Pilot[None], number: str = HAPPY, password: str = PASSWORD) -> None:
    await wait_ready(pilot)
    await type_into(pilot, "#account-number", number)
    await type_into(pilot, "#password", password)
    await pilot.press("enter")


def text_of(pilot: Pilot[None], selector: str) -> str:
    return str(pilot.app.screen.query_one(selector, Static).render())


def screen_name(pilot: Pilot[None]) -> str:
    return type(pilot.app.screen).__name__


ScreenT = TypeVar("ScreenT", bound=Screen[Any])


def top_screen(app: App[None], kind: type[ScreenT]) -> ScreenT:
    """The screen on top of ``app``, which the test expects to be a ``kind``."""
    screen = app.screen
    assert isinstance(screen, kind), f"{type(screen).__name__} is on top, not {kind.__name__}"
    return screen


def portal_client(app: KabinetApp) -> PortalClient:
    """The app's portal client, which a test uses once the app is ready (see :func:`wait_ready`)."""
    assert app.client is not None, "the app has no portal client yet"
    return app.client


def assert_in_view(pilot: Pilot[None], *selectors: str) -> None:
    """Each widget is wholly on the visible screen: not cut by the terminal's edge, not scrolled away.

    A widget's region is where it is laid out; its clip is what its containers let show. Both
    must hold the whole widget — otherwise a resident would have to scroll to see or reach it.
    """
    from textual.errors import NoWidget

    screen = pilot.app.screen
    for selector in selectors:
        widget = screen.query_one(selector)
        try:
            geometry = screen.find_widget(widget)
        except NoWidget:
            raise AssertionError(f"{selector} is not on the screen at all") from None
        region = geometry.region
        visible = geometry.clip.intersection(screen.region)
        assert region.area > 0, f"{selector} has no size"
        assert visible.contains_region(region), f"{selector} at {region} is outside the visible {visible}"
        assert _on_top(screen, widget), f"{selector} at {region} is covered by another widget"


def footer_keys_in_view(pilot: Pilot[None]) -> list[str]:
    """The keys whose footer entries show whole at the current size, left to right."""
    from textual.errors import NoWidget
    from textual.widgets._footer import FooterKey

    screen = pilot.app.screen
    shown: list[str] = []
    for key in screen.query(FooterKey):
        try:
            geometry = screen.find_widget(key)
        except NoWidget:
            continue
        visible = geometry.clip.intersection(screen.region)
        if geometry.region.area and visible.contains_region(geometry.region) and _on_top(screen, key):
            shown.append(key.key)
    return shown


def _on_top(screen: Screen[object], widget: Widget) -> bool:
    """No other widget (a docked one, say) is drawn over any cell of ``widget``."""
    region = widget.region
    for y in range(region.y, region.bottom):
        for x in range(region.x, region.right):
            top, _ = screen.get_widget_at(x, y)
            if top is not widget and widget not in top.ancestors:
                return False
    return True
