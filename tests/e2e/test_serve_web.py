"""``kabinet serve-web`` end to end in a real headless Chromium, and its parts on their own.

The browser is Debian's ``chromium`` (installed by ``.ci/run`` when missing), driven over the DevTools
protocol (tests/support/browser.py); the server is ``kabinet serve-web`` in a subprocess with the demo portal
(``kabinet-portal serve --demo`` on a free port, the seeded demo data).
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import shutil
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from decimal import Decimal
from pathlib import Path
from typing import Literal

import aiohttp
import psutil
import pytest

from hosting.webserver import client_address, front_end_script
from tests.support.app import HAPPY, PASSWORD
from tests.support.browser import chromium, find_chromium
from tests.support.ports import free_port
from tui.client import PortalClient

ROOT = Path(__file__).resolve().parents[2]
LOGIN_SCREEN = "номер из квитанции"

pytestmark = pytest.mark.slow


class WebServer:
    """``kabinet serve-web`` in a subprocess; ``url`` once it listens, ``portal_url`` of its demo portal."""

    def __init__(self, process: subprocess.Popen[str], url: str, portal_url: str, state_dir: Path) -> None:
        self.process = process
        self.url = url
        self.portal_url = portal_url
        self.state_dir = state_dir

    def apps(self) -> list[psutil.Process]:
        """The app processes now (zombies included): not the demo portal, not the fork server."""
        apps = []
        try:
            descendants = psutil.Process(self.process.pid).children(recursive=True)
        except psutil.NoSuchProcess:
            return []
        for process in descendants:
            try:
                if "portal.cli" not in process.cmdline() and process.name() != "kabinet-zygote":
                    apps.append(process)
            except psutil.ZombieProcess:
                apps.append(process)
            except psutil.NoSuchProcess:
                pass
        return apps

    def stop(self) -> str:
        self.process.terminate()
        try:
            output, _ = self.process.communicate(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            output, _ = self.process.communicate()
        return output or ""


def start_web_server(tmp_path: Path, data_dir: Path, *options: str) -> WebServer:
    command = [sys.executable, str(ROOT / "app.py"), "serve-web", "--host", "127.0.0.1"]
    if "--port" not in options:
        command += ["--port", "0"]
    command += ["--state-dir", str(tmp_path / "web-state"), "--data-dir", str(data_dir), "--grace", "2"]
    command += list(options)
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env)
    assert process.stdout is not None
    deadline = time.monotonic() + 120
    seen: list[str] = []
    portal_url = ""
    while time.monotonic() < deadline:
        line = process.stdout.readline()
        if not line:
            break
        seen.append(line)
        if match := re.search(r"demo portal on (\S+)", line):
            portal_url = match.group(1)
        if match := re.search(r"page (\S+)/ ", line):
            return WebServer(process, match.group(1), portal_url, tmp_path / "web-state")
    process.kill()
    raise AssertionError("serve-web did not start:\n" + "".join(seen))


@pytest.fixture
def web_server(tmp_path: Path, app_data_dir: Path) -> Iterator[WebServer]:
    server = start_web_server(tmp_path, app_data_dir, "--max-per-address", "2")
    yield server
    apps = server.apps()
    server.stop()
    _gone, alive = psutil.wait_procs(apps, timeout=10)
    assert not alive, f"left running after shutdown: {alive}"


async def _wait_until(condition: Callable[[], object], seconds: float = 30.0) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return
        await asyncio.sleep(0.1)
    raise AssertionError("the condition never held")


async def _first_meter(portal_url: str) -> tuple[int, Decimal, Decimal | None]:
    async with PortalClient(base_url=portal_url) as client:
        await client.login(HAPPY, PASSWORD)
        overview = await client.meters()
    meter = next(m for m in overview.meters if m.accepts_readings and m.previous_reading is not None)
    assert meter.previous_reading is not None
    current = meter.current_reading.value if meter.current_reading else None
    return meter.meter_id, meter.previous_reading.value, current


@pytest.mark.skipif(find_chromium() is None, reason="no chromium on PATH (.ci/run installs Debian's)")
async def test_resident_uses_the_app_in_a_browser_and_closing_the_tab_ends_it(
    web_server: WebServer, tmp_path: Path
) -> None:
    _, previous, _ = await _first_meter(web_server.portal_url)
    new_value = previous + Decimal("1.5")
    executable = find_chromium()
    assert executable is not None
    async with chromium(executable) as browser:
        page = await browser.open(web_server.url + "/")
        await page.wait_for(LOGIN_SCREEN, seconds=60)  # the page loaded, the app drew its login screen
        assert await page.evaluate("document.documentElement.lang") == "ru"
        apps = web_server.apps()
        assert len(apps) == 1
        app = apps[0]
        home = Path(app.cwd())
        assert home.parent.parent == web_server.state_dir / "sessions"

        await page.type(HAPPY)
        await page.press("Enter")
        await page.type(PASSWORD)
        await page.press("Enter")
        await page.wait_for(f"Лицевой счет {HAPPY}")  # home
        await page.press("F2")
        await page.wait_for("Новое показание")
        await page.wait_for(str(previous).replace(".", ","))  # the meters have arrived
        await page.type(str(new_value).replace(".", ","))
        await page.press("F2")
        screen = await page.wait_for("✓")
        assert "принят" in screen

        # The receipt of a month, downloaded through the browser (Textual's deliver_binary).
        downloads = tmp_path / "downloads"
        downloads.mkdir()
        await browser.call(
            "Browser.setDownloadBehavior", behavior="allow", downloadPath=str(downloads), eventsEnabled=True
        )
        await page.press("Escape")
        await page.wait_for(f"Лицевой счет {HAPPY}")
        await page.press("F9")
        await page.wait_for("В браузере:")
        await page.wait_for("₽")  # the months have arrived
        await page.press("Enter")
        await page.wait_for("передана в браузер")
        while (await browser.event("Browser.downloadProgress", seconds=60))["params"]["state"] != "completed":
            pass
        [pdf] = list(downloads.glob("kvitanciya-*.pdf"))
        assert pdf.name.startswith(f"kvitanciya-{HAPPY}-") and pdf.read_bytes().startswith(b"%PDF")

        await page.close()  # the resident closes the tab
        await asyncio.to_thread(app.wait, 30)  # ended and reaped (not left a zombie)
        await _wait_until(lambda: not web_server.apps())
        await _wait_until(lambda: not home.exists())  # the session's temporary home is removed
    _, _, stored = await _first_meter(web_server.portal_url)
    assert stored == new_value.quantize(previous)


#: A websocket of aiohttp's client (its messages decoded as JSON on request).
WebSocket = aiohttp.ClientWebSocketResponse[Literal[True]]


async def _open_sessions(
    url: str, count: int, http: aiohttp.ClientSession, headers: dict[str, str] | None = None
) -> list[tuple[WebSocket, bytes]]:
    """``count`` websockets as the page opens them; each with what it got in its first 20 s or less."""
    results: list[tuple[WebSocket, bytes]] = []
    for _ in range(count):
        ws = await http.ws_connect(url.replace("http", "ws", 1) + "/ws?width=80&height=24", headers=headers)
        received = b""
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and LOGIN_SCREEN.encode() not in received:
            try:
                message = await ws.receive(timeout=max(0.1, deadline - time.monotonic()))
            except TimeoutError:
                break
            if message.type == aiohttp.WSMsgType.BINARY:
                received += message.data
            elif message.type in (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSED):
                break
        results.append((ws, received))
    return results


async def test_sessions_per_address_are_limited_and_told_why(web_server: WebServer) -> None:
    async with aiohttp.ClientSession() as http:
        sessions = await _open_sessions(web_server.url, 3, http)
        (first, one), (_, two), (_, refused) = sessions
        assert LOGIN_SCREEN.encode() in one and LOGIN_SCREEN.encode() in two
        text = refused.decode()
        assert "С вашего адреса уже открыто 2 сеанса" in text and "Your address already has 2" in text
        assert len(web_server.apps()) == 2
        await first.close()
        await _wait_until(lambda: len(web_server.apps()) == 1)
        ((again, shown),) = await _open_sessions(web_server.url, 1, http)
        assert LOGIN_SCREEN.encode() in shown  # the freed place is taken again
        for ws, _ in sessions[1:]:
            await ws.close()
        await again.close()
        await _wait_until(lambda: not web_server.apps())


async def test_a_keystroke_flood_ends_the_session(tmp_path: Path, app_data_dir: Path) -> None:
    server = start_web_server(tmp_path, app_data_dir, "--input-rate", "256", "--flood-seconds", "2")
    try:
        async with aiohttp.ClientSession() as http:
            ((ws, shown),) = await _open_sessions(server.url, 1, http)
            assert LOGIN_SCREEN.encode() in shown
            app = server.apps()[0]
            flood = json.dumps(["stdin", "x" * 4000])
            received = b""
            deadline = time.monotonic() + 60
            while not ws.closed and time.monotonic() < deadline:
                try:
                    await ws.send_str(flood)
                    message = await ws.receive(timeout=0.01)
                except TimeoutError:
                    continue
                except ConnectionError:  # the server has closed it: what it wrote is still to be read
                    break
                if message.type == aiohttp.WSMsgType.BINARY:
                    received += message.data
                elif message.type in (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSED):
                    break
            async for message in ws:
                if message.type == aiohttp.WSMsgType.BINARY:
                    received += message.data
            assert "быстрее, чем может печатать человек" in received.decode("utf-8", "replace")
            await asyncio.to_thread(app.wait, 30)
            await _wait_until(lambda: not server.apps())
    finally:
        server.stop()


async def test_an_idle_tab_is_closed(tmp_path: Path, app_data_dir: Path) -> None:
    server = start_web_server(tmp_path, app_data_dir, "--idle-minutes", "0.05")  # 3 s
    try:
        async with aiohttp.ClientSession() as http:
            ((ws, shown),) = await _open_sessions(server.url, 1, http)
            assert LOGIN_SCREEN.encode() in shown
            received = b""
            async for message in ws:
                if message.type == aiohttp.WSMsgType.BINARY:
                    received += message.data
            assert "мин без ввода" in received.decode("utf-8", "replace")
            await _wait_until(lambda: not server.apps())
    finally:
        server.stop()


def test_the_page_loads_nothing_from_elsewhere_and_speaks_the_catalogue(web_server: WebServer) -> None:
    import httpx

    page = httpx.get(web_server.url + "/").text
    assert "googleapis" not in page
    assert "<title>Личный кабинет</title>" in page and "Сеанс завершён." in page
    assert re.findall(r'(?:src|href)="([^"]+)"', page) == [
        f"{web_server.url}/static/css/xterm.css",
        f"{web_server.url}/static/js/textual.js",
    ]
    script = httpx.get(web_server.url + "/static/js/textual.js").text
    assert "screenReaderMode:!0" in script and "kabinetDownload(n)" in script


def test_the_front_end_patches_still_apply() -> None:
    """A textual-serve upgrade that changes its script fails here, not silently in a browser."""
    script = front_end_script().decode()
    assert "screenReaderMode:!0" in script
    assert "window.open(n" not in script and "`download/${i}${r}`" in script


def test_behind_a_trusted_proxy_the_forwarded_address_counts() -> None:
    trusted = ("127.0.0.1", "::1")
    assert client_address("203.0.113.5", None, trusted) == "203.0.113.5"
    # Not from a trusted proxy: a client's own X-Forwarded-For is ignored.
    assert client_address("203.0.113.5", "198.51.100.7", trusted) == "203.0.113.5"
    # From the proxy: the last address it appended; one the client forged before it is not believed.
    assert client_address("127.0.0.1", "198.51.100.7, 203.0.113.9", trusted) == "203.0.113.9"
    assert client_address("127.0.0.1", "203.0.113.9, 127.0.0.1", trusted) == "203.0.113.9"
    # IPv6 clients count by their /64.
    assert client_address("::1", "2001:db8:1:2::5", trusted) == "2001:db8:1:2::/64"


def _nginx_config(folder: Path, listen_port: int, web_port: int) -> Path:
    """deploy/nginx-kabinet-web.conf's two parts (the map, the locations) in a throwaway nginx, plain HTTP."""
    block = (ROOT / "deploy" / "nginx-kabinet-web.conf").read_text(encoding="utf-8")
    start = block.index("map $http_upgrade")
    map_block = block[start : block.index("}", start) + 1]
    locations = block[block.index("location = /web") :].replace("127.0.0.1:8022", f"127.0.0.1:{web_port}")
    temp = " ".join(
        f"{kind}_temp_path {folder / kind};" for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
    )
    config = folder / "nginx.conf"
    config.write_text(
        f"daemon off; worker_processes 1; pid {folder / 'nginx.pid'}; error_log {folder / 'error.log'};\n"
        f"events {{ worker_connections 64; }}\n"
        f"http {{ access_log off; {temp}\n{map_block}\n"
        f"server {{ listen 127.0.0.1:{listen_port}; server_name localhost;\n{locations}\n}} }}\n",
        encoding="utf-8",
    )
    return config


@pytest.mark.skipif(shutil.which("nginx") is None, reason="no nginx on PATH (.ci/run installs Debian's)")
async def test_the_documented_nginx_block_serves_the_page_its_websocket_and_the_limits(
    tmp_path: Path, app_data_dir: Path
) -> None:
    proxy_port = free_port()
    public = f"http://127.0.0.1:{proxy_port}/web"
    web_port = free_port()
    server = start_web_server(
        tmp_path, app_data_dir, "--public-url", public, "--max-per-address", "1", "--port", str(web_port)
    )
    config = _nginx_config(tmp_path, proxy_port, web_port)
    nginx = subprocess.Popen(["nginx", "-c", str(config)])  # noqa: ASYNC220 - returns at once
    try:
        async with aiohttp.ClientSession() as http:
            deadline = time.monotonic() + 30
            while True:
                try:
                    async with http.get(public, allow_redirects=False) as answer:
                        assert answer.status == 301 and answer.headers["Location"].endswith("/web/")
                        break
                except aiohttp.ClientConnectionError:
                    assert time.monotonic() < deadline, "nginx did not start"
                    await asyncio.sleep(0.1)
            async with http.get(public + "/") as answer:
                page = await answer.text()
            assert f'data-session-websocket-url="ws://127.0.0.1:{proxy_port}/web/ws"' in page
            async with http.get(public + "/static/js/textual.js") as answer:
                assert answer.status == 200 and "kabinetDownload" in await answer.text()
            # Through the proxy the websocket reaches an app, and a client counts by the address nginx
            # passes on (here the test's own header stands for two residents: on loopback, the client
            # itself is a trusted proxy).
            one = {"X-Forwarded-For": "198.51.100.7"}
            ((ws, shown),) = await _open_sessions(public, 1, http, one)
            assert LOGIN_SCREEN.encode() in shown
            ((refused_ws, refused),) = await _open_sessions(public, 1, http, one)
            assert "Your address already has 1" in refused.decode()
            other = {"X-Forwarded-For": "198.51.100.8"}
            ((other_ws, other_shown),) = await _open_sessions(public, 1, http, other)
            assert LOGIN_SCREEN.encode() in other_shown
            for socket_ in (refused_ws, ws, other_ws):
                await socket_.close()
            await _wait_until(lambda: not server.apps())
    finally:
        nginx.terminate()
        await asyncio.to_thread(nginx.wait, 30)
        server.stop()
