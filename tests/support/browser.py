"""A real headless Chromium (Debian's ``chromium``), driven over the DevTools protocol from Python.

Nothing is downloaded: the system browser is started with ``--remote-debugging-port=0``, and its
websocket is spoken to with aiohttp (a dependency of textual-serve). :class:`Page` reads what the page
shows and types into it as a person would (key events through the browser's input pipeline).
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import os
import re
import shutil
import subprocess
import tempfile
import threading
import time
from collections.abc import AsyncIterator
from typing import Any

import aiohttp

CHROMIUM_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
)
#: Key events as Chromium's DevTools protocol wants them (what xterm.js turns into terminal input).
KEYS: dict[str, dict[str, Any]] = {
    "Enter": {"key": "Enter", "code": "Enter", "windowsVirtualKeyCode": 13, "text": "\r"},
    "Tab": {"key": "Tab", "code": "Tab", "windowsVirtualKeyCode": 9},
    "Escape": {"key": "Escape", "code": "Escape", "windowsVirtualKeyCode": 27},
    **{f"F{n}": {"key": f"F{n}", "code": f"F{n}", "windowsVirtualKeyCode": 111 + n} for n in range(1, 13)},
}


def find_chromium() -> str | None:
    for name in ("chromium", "chromium-browser", "google-chrome"):
        if path := shutil.which(name):
            return path
    return None


class Browser:
    """One headless Chromium with its own profile folder; :meth:`open` gives a tab."""

    def __init__(self, process: subprocess.Popen[bytes], url: str, profile: str) -> None:
        self.process = process
        self.url = url
        self.profile = profile
        self.http = aiohttp.ClientSession()
        self.ws: aiohttp.ClientWebSocketResponse | None = None
        self._ids = itertools.count(1)
        self._waiting: dict[int, asyncio.Future[dict[str, Any]]] = {}
        self._events: list[dict[str, Any]] = []
        self._event_added = asyncio.Event()
        self._reader: asyncio.Task[None] | None = None

    async def connect(self) -> None:
        self.ws = await self.http.ws_connect(self.url, max_msg_size=0)
        self._reader = asyncio.create_task(self._read())

    async def _read(self) -> None:
        assert self.ws is not None
        async for message in self.ws:
            data = json.loads(message.data)
            if "id" in data and data["id"] in self._waiting:
                self._waiting.pop(data["id"]).set_result(data)
            else:
                self._events.append(data)
                self._event_added.set()

    async def call(self, method: str, session: str | None = None, **params: Any) -> dict[str, Any]:
        assert self.ws is not None
        number = next(self._ids)
        future: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
        self._waiting[number] = future
        message: dict[str, Any] = {"id": number, "method": method, "params": params}
        if session:
            message["sessionId"] = session
        await self.ws.send_str(json.dumps(message))
        answer = await asyncio.wait_for(future, 30)
        if "error" in answer:
            raise RuntimeError(f"{method}: {answer['error']}")
        result: dict[str, Any] = answer.get("result", {})
        return result

    async def event(self, method: str, seconds: float = 30.0) -> dict[str, Any]:
        """The first event called ``method`` (one already received counts), waiting for it."""
        deadline = time.monotonic() + seconds
        while True:
            for event in self._events:
                if event.get("method") == method:
                    self._events.remove(event)
                    return event
            left = deadline - time.monotonic()
            if left <= 0:
                raise AssertionError(f"no {method} event in {seconds} s")
            self._event_added.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._event_added.wait(), left)

    async def open(self, url: str) -> Page:
        target = (await self.call("Target.createTarget", url="about:blank"))["targetId"]
        session = (await self.call("Target.attachToTarget", targetId=target, flatten=True))["sessionId"]
        page = Page(self, target, session)
        await self.call("Page.enable", session)
        await self.call("Page.navigate", session, url=url)
        return page

    async def close(self) -> None:
        if self._reader is not None:
            self._reader.cancel()
        if self.ws is not None:
            await self.ws.close()
        await self.http.close()
        self.process.terminate()
        try:
            await asyncio.to_thread(self.process.wait, 20)
        except subprocess.TimeoutExpired:
            self.process.kill()
            await asyncio.to_thread(self.process.wait)
        shutil.rmtree(self.profile, ignore_errors=True)


class Page:
    """A tab: the terminal's text from xterm.js's accessibility buffer, keys through the browser."""

    def __init__(self, browser: Browser, target: str, session: str) -> None:
        self.browser = browser
        self.target = target
        self.session = session

    async def evaluate(self, expression: str) -> Any:
        answer = await self.browser.call(
            "Runtime.evaluate", self.session, expression=expression, returnByValue=True, awaitPromise=True
        )
        return answer.get("result", {}).get("value")

    async def text(self) -> str:
        """What the terminal shows, row by row (the accessibility tree xterm.js keeps beside its canvas)."""
        rows = await self.evaluate(
            "Array.from(document.querySelectorAll('.xterm-accessibility-tree > div'))"
            ".map(row => row.textContent).join('\\n')"
        )
        return str(rows or "").replace("\u00a0", " ")

    async def wait_for(self, text: str, seconds: float = 30.0) -> str:
        deadline = time.monotonic() + seconds
        screen = ""
        while time.monotonic() < deadline:
            screen = await self.text()
            if text in screen:
                return screen
            await asyncio.sleep(0.2)  # polling the page's text, not a fixed wait for the app
        raise AssertionError(f"{text!r} never appeared; the page showed:\n{screen}")

    async def focus(self) -> None:
        await self.evaluate("document.querySelector('.xterm-helper-textarea').focus()")

    async def type(self, text: str) -> None:
        """Each character a key press (a key down that carries the text, then the key up)."""
        await self.focus()
        for char in text:
            call = self.browser.call
            await call("Input.dispatchKeyEvent", self.session, type="keyDown", key=char, text=char)
            await call("Input.dispatchKeyEvent", self.session, type="keyUp", key=char)

    async def press(self, name: str) -> None:
        await self.focus()
        key = KEYS[name]
        await self.browser.call("Input.dispatchKeyEvent", self.session, type="keyDown", **key)
        up = {k: v for k, v in key.items() if k != "text"}
        await self.browser.call("Input.dispatchKeyEvent", self.session, type="keyUp", **up)

    async def close(self) -> None:
        await self.browser.call("Target.closeTarget", targetId=self.target)


@contextlib.asynccontextmanager
async def chromium(executable: str) -> AsyncIterator[Browser]:
    """A headless Chromium on a free DevTools port, with a throwaway profile."""
    profile = tempfile.mkdtemp(prefix="kabinet-chromium-")
    command = [
        executable,
        *CHROMIUM_FLAGS,
        f"--user-data-dir={profile}",
        "--remote-debugging-address=127.0.0.1",
        "--remote-debugging-port=0",
        "about:blank",
    ]
    process = subprocess.Popen(  # noqa: ASYNC220 - returns at once; its output is read in a thread
        command,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        env={**os.environ, "HOME": profile},
    )
    assert process.stderr is not None
    url = await asyncio.to_thread(_devtools_url, process)
    browser = Browser(process, url, profile)
    try:
        await browser.connect()
        yield browser
    finally:
        await browser.close()


def _devtools_url(process: subprocess.Popen[bytes]) -> str:
    assert process.stderr is not None
    seen = []
    for raw in process.stderr:
        line = raw.decode("utf-8", "replace")
        seen.append(line)
        if match := re.search(r"DevTools listening on (ws://\S+)", line):
            # Its further error output is read and dropped, so the browser never waits on a full pipe.
            threading.Thread(target=_discard, args=(process.stderr,), daemon=True).start()
            return match.group(1)
    raise AssertionError("Chromium did not start:\n" + "".join(seen[-30:]))


def _discard(stream: Any) -> None:
    for _ in stream:
        pass
