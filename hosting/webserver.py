"""``kabinet serve-web``: the app in a browser, one app process per browser tab (textual-serve).

A resident opens ``https://kabinet.example.ru/web/`` and gets the same app as in a terminal: the page
(textual-serve's xterm.js front end) opens a websocket, and for each one the server starts the app with
Textual's web driver (``kabinet --server URL``), carrying its output to the page and the keys back. As
``kabinet serve-ssh`` (:mod:`hosting.sshserver`), with which it shares :mod:`hosting.sessions`:

- at most ``--max-sessions`` apps in all and ``--max-per-address`` per client address (behind the TLS
  proxy the address is the last one of ``X-Forwarded-For`` that is not a trusted proxy's,
  ``--trusted-proxy``); a refused tab is told why, in Russian and English, on its terminal;
- keystrokes reach an app at most at ``--input-rate`` bytes a second after ``--input-burst``: while input
  waits the websocket is not read (the browser's sends back up); input held back ``--flood-seconds``
  without a break ends the session, and a websocket message is at most 64 KiB;
- a session without a key for ``--idle-minutes`` is closed; the app itself (``KABINET_SSH=1``: a stranger
  on a shared server) remembers no account and wipes an idle resident's screens sooner;
- every app's home, config and downloads are a temporary folder in ``STATE/sessions``, removed when the
  tab closes (however it closes: the app's process group gets SIGHUP, then SIGKILL after ``--grace``);
- receipts come as a download in the browser (Textual's ``App.deliver_binary``, which textual-serve
  turns into a one-time ``/download/KEY`` link) or by e-mail;
- sessions are forked from one process that has already imported the app (:mod:`hosting.forkserver`),
  or started as fresh processes with ``--no-fork``;
- without ``--server`` one demo portal serves every app.

The page loads nothing from elsewhere (textual-serve's template links a web font; that link is dropped)
and its words come from the translation catalogue. This module imports neither Textual nor the portal.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import ipaddress
import json
import os
import re
import shutil
import sys
import time
from dataclasses import dataclass, field
from importlib.resources import files
from pathlib import Path
from typing import Any, Final
from urllib.parse import urlsplit

import aiohttp_jinja2
import jinja2
import platformdirs
from aiohttp import WSMsgType, web
from textual_serve.app_service import AppService
from textual_serve.server import Server

from hosting import sessions
from hosting.forkserver import AppProcess, ForkLauncher, FreshLauncher, Launch
from hosting.sessions import SessionHomes, SessionOptions, bilingual
from tui.i18n import Translator

DEFAULT_PORT: Final = 8022
MAX_MESSAGE: Final = 64 * 1024
"""The largest websocket message taken from a browser (textual-serve's front end sends keys and sizes)."""


def default_state_dir() -> Path:
    """``<user state>/kabinet/web``: the sessions' homes and the embedded demo portal's data."""
    return platformdirs.user_state_path("kabinet") / "web"


@dataclass
class WebOptions(SessionOptions):
    """How ``kabinet serve-web`` runs; the command line fills it (see :func:`build_parser`)."""

    host: str = "127.0.0.1"
    port: int = DEFAULT_PORT
    state_dir: Path = field(default_factory=default_state_dir)
    public_url: str | None = None
    """The page's address as browsers see it (behind a proxy: ``https://kabinet.example.ru/web``)."""
    trusted_proxies: tuple[str, ...] = ("127.0.0.1", "::1")
    """Peers whose ``X-Forwarded-For`` is believed (the TLS proxy on the same host)."""


def client_address(peer: str | None, forwarded_for: str | None, trusted: tuple[str, ...]) -> str:
    """The client's address for the per-address limit: the peer's, or behind a trusted proxy the last
    address of ``X-Forwarded-For`` that is not itself a trusted proxy (what nginx appended)."""
    address = peer or ""
    if forwarded_for and _trusted(address, trusted):
        for hop in reversed([part.strip() for part in forwarded_for.split(",")]):
            if not hop:
                continue
            address = hop
            if not _trusted(hop, trusted):
                break
    return sessions.address_key(address)


def _trusted(address: str, trusted: tuple[str, ...]) -> bool:
    try:
        parsed = ipaddress.ip_address(address)
    except ValueError:
        return False
    for entry in trusted:
        with contextlib.suppress(ValueError):
            if parsed in ipaddress.ip_network(entry, strict=False):
                return True
    return False


class _Pipes:
    """What :meth:`AppService.run` reads of its process: the app's output and error streams."""

    def __init__(self, stdout: asyncio.StreamReader, stderr: asyncio.StreamReader) -> None:
        self.stdout = stdout
        self.stderr = stderr


async def _reader(fd: int) -> asyncio.StreamReader:
    loop = asyncio.get_running_loop()
    reader = asyncio.StreamReader(limit=1 << 20)
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), os.fdopen(fd, "rb", 0))
    return reader


class WebSession(AppService):
    """One browser tab's app: started by the server's launcher on pipes, ended with its process group."""

    def __init__(self, server: KabinetWebServer, websocket: web.WebSocketResponse, address: str) -> None:
        super().__init__(
            "kabinet",
            write_bytes=websocket.send_bytes,
            write_str=websocket.send_str,
            close=self._close_websocket,
            download_manager=server.download_manager,
        )
        self.server = server
        self.options = server.options
        self.websocket = websocket
        self.address = address
        self.app_process: AppProcess | None = None
        self.home: Path | None = None
        self.last_input = time.monotonic()
        self.closed = False

    async def _close_websocket(self) -> None:
        """The app said it exited (Ctrl+Q): the tab's session ends. Not while the server ends it: a
        message may still be written first (idle, flood)."""
        if not self.closed:
            await self.websocket.close()

    def _environment(self, width: int, height: int) -> dict[str, str]:
        assert self.home is not None
        env = sessions.app_environment(self.home, "xterm-256color")
        env["XDG_DOWNLOAD_DIR"] = str(self.home / "Downloads")
        # What textual-serve's own AppService sets (its _build_environment), less the server's env.
        env["TEXTUAL_DRIVER"] = "textual.drivers.web_driver:WebDriver"
        env["TEXTUAL_FPS"] = "60"
        env["TEXTUAL_COLOR_SYSTEM"] = "truecolor"
        env["TERM_PROGRAM"] = "textual"
        env["COLUMNS"] = str(width)
        env["ROWS"] = str(height)
        return env

    async def _open_app_process(self, width: int = 80, height: int = 24) -> Any:
        self.home = self.server.homes.new_home()
        (self.home / "Downloads").mkdir()
        child_in, ours_in = os.pipe()
        ours_out, child_out = os.pipe()
        ours_err, child_err = os.pipe()
        try:
            self.app_process = await self.server.launcher.start(
                Launch(
                    argv=sessions.app_arguments(self.options),
                    env=self._environment(width, height),
                    cwd=str(self.home),
                    stdin=child_in,
                    stdout=child_out,
                    stderr=child_err,
                )
            )
        except BaseException:
            for fd in (ours_in, ours_out, ours_err):
                os.close(fd)
            raise
        finally:
            for fd in (child_in, child_out, child_err):
                os.close(fd)
        loop = asyncio.get_running_loop()
        transport, protocol = await loop.connect_write_pipe(
            asyncio.streams.FlowControlMixin, os.fdopen(ours_in, "wb", 0)
        )
        self._stdin = asyncio.StreamWriter(transport, protocol, None, loop)
        pipes = _Pipes(await _reader(ours_out), await _reader(ours_err))
        self._process = pipes  # type: ignore[assignment]
        return pipes

    async def stop(self) -> None:
        """Ask the app to quit; SIGHUP, then SIGKILL, to its process group if it does not in time."""
        if self.closed:
            return
        self.closed = True
        with contextlib.suppress(Exception):
            await self._download_manager.cancel_app_downloads(app_service_id=self.app_service_id)
        if self._stdin is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self.send_meta({"type": "quit"}), 1.0)
        process = self.app_process
        if process is not None:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(process.wait(), self.options.grace_seconds)
            await sessions.end_process_group(process, self.options.grace_seconds)
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._task
            self._task = None
        if self._stdin is not None:
            self._stdin.close()
        if self.home is not None:
            shutil.rmtree(self.home, ignore_errors=True)
            self.home = None

    @property
    def pid(self) -> int | None:
        return self.app_process.pid if self.app_process is not None else None


_SCRIPT_PATCHES: Final = (
    # An accessibility buffer (the screen's text as DOM rows): screen readers read it, and so do tests.
    (".Terminal({allowProposedApi:!0,", ".Terminal({allowProposedApi:!0,screenReaderMode:!0,"),
    # A download link relative to the page (so it works under the proxy's /web/ path too), followed
    # by a link click: window.open() outside a key press is taken for a pop-up and blocked.
    (
        'n=`${window.location.origin}/download/${i}${r}`;window.open(n,"_blank")',
        "n=`download/${i}${r}`;kabinetDownload(n)",
    ),
)
_DOWNLOAD_FUNCTION: Final = (
    "function kabinetDownload(url){const a=document.createElement('a');a.href=url;a.download='';"
    "a.rel='noopener';document.body.appendChild(a);a.click();a.remove()}\n"
)


def front_end_script() -> bytes:
    """textual-serve's front end (xterm.js) with :data:`_SCRIPT_PATCHES`; one not found is reported."""
    script = (files("textual_serve") / "static" / "js" / "textual.js").read_text(encoding="utf-8")
    for old, new in _SCRIPT_PATCHES:
        if old in script:
            script = script.replace(old, new)
        else:
            print(f"kabinet serve-web: the front end changed, not patched: {old[:40]}…", file=sys.stderr)
    return (_DOWNLOAD_FUNCTION + script).encode("utf-8")


def _page_loader() -> jinja2.BaseLoader:
    """textual-serve's page, without its web font link and with its words from the catalogue."""
    source = (files("textual_serve") / "templates" / "app_index.html").read_text(encoding="utf-8")
    page = re.sub(r"<link[^>]*fonts\.googleapis\.com[^>]*>\s*", "", source, flags=re.DOTALL)
    page = page.replace("<html>", '<html lang="{{ lang }}">', 1)
    page = page.replace("<head>", "<head>\n    <title>{{ application.name }}</title>", 1)
    page = page.replace("Session ended.", "{{ texts.session_ended }}")
    page = page.replace(">Restart<", ">{{ texts.restart }}<")
    page = page.replace(">Start<", ">{{ texts.start }}<")
    return jinja2.DictLoader({"app_index.html": page})


class KabinetWebServer(Server):
    """textual-serve's server with Kabinet's launcher, limits, homes and page."""

    def __init__(self, options: WebOptions, launcher: FreshLauncher | ForkLauncher, homes: SessionHomes):
        language = options.language or "ru"
        self.t = Translator(language)  # type: ignore[arg-type]
        super().__init__(
            "kabinet",
            host=options.host,
            port=options.port,
            title=self.t("web.title"),
            public_url=(options.public_url or "").rstrip("/") or None,
        )
        self.options = options
        self.launcher = launcher
        self.homes = homes
        self.sessions: set[WebSession] = set()
        self.limits = sessions.SessionLimits(options)
        """Running apps, in all and per address; closed when the server stops."""

    def initialize_logging(self) -> None:
        pass  # the server's own lines go to stdout; textual-serve's logger keeps Python's defaults

    async def _make_app(self) -> web.Application:
        """textual-serve's routes (its ``_make_app``), the front end's script served patched."""
        app = web.Application(client_max_size=MAX_MESSAGE)
        aiohttp_jinja2.setup(app, loader=_page_loader())
        app.add_routes(
            [
                web.get("/", self.handle_index, name="index"),
                web.get("/ws", self.handle_websocket, name="websocket"),
                web.get("/download/{key}", self.handle_download, name="download"),
                web.get("/static/js/textual.js", self.handle_script),  # before the folder below
                web.static("/static", self.statics_path, name="static"),
            ]
        )
        self.script = front_end_script()
        return app

    async def handle_script(self, request: web.Request) -> web.Response:
        return web.Response(
            body=self.script, content_type="text/javascript", headers={"Cache-Control": "no-cache"}
        )

    async def on_startup(self, app: web.Application) -> None:
        pass  # no logo: serve() prints one line when listening

    async def handle_index(self, request: web.Request) -> web.Response:
        font_size = min(max(_int(request.query.get("fontsize"), 16), 8), 40)
        public = self.public_url
        router = request.app.router
        websocket_url = f"{public}{router['websocket'].url_for()}"
        websocket_url = ("wss:" if public.startswith("https") else "ws:") + websocket_url.split(":", 1)[1]
        t = self.t
        context = {
            "font_size": font_size,
            "app_websocket_url": websocket_url,
            "config": {
                "static": {"url": f"{public}{router['static'].url_for(filename='/')}".rstrip("/") + "/"}
            },
            "application": {"name": self.title},
            "lang": t.lang,
            "texts": {
                "session_ended": t("web.session_ended"),
                "restart": t("web.restart"),
                "start": t("web.start"),
            },
        }
        response = aiohttp_jinja2.render_template("app_index.html", request, context)
        response.headers["Cache-Control"] = "no-store"
        response.headers["X-Frame-Options"] = "DENY"
        response.headers["Referrer-Policy"] = "no-referrer"
        return response

    def address_of(self, request: web.Request) -> str:
        return client_address(
            request.remote, request.headers.get("X-Forwarded-For"), self.options.trusted_proxies
        )

    def _release(self, session: WebSession) -> None:
        if session in self.sessions:
            self.sessions.discard(session)
            self.limits.release(session.address)

    async def handle_websocket(self, request: web.Request) -> web.WebSocketResponse:
        websocket = web.WebSocketResponse(heartbeat=15, max_msg_size=MAX_MESSAGE)
        await websocket.prepare(request)
        address = self.address_of(request)
        refusal = self.limits.admit(address)
        if refusal is not None:
            await websocket.send_bytes(refusal)
            await websocket.close()
            return websocket
        width = min(max(_int(request.query.get("width"), 80), 10), 1000)
        height = min(max(_int(request.query.get("height"), 24), 5), 1000)
        session = WebSession(self, websocket, address)
        self.sessions.add(session)
        watcher: asyncio.Task[None] | None = None
        try:
            await session.start(width, height)
            watcher = asyncio.create_task(self._watch(session))
            await self._carry_input(websocket, session)
        except Exception as exc:
            print(f"kabinet serve-web: session ended by an error: {exc!r}", file=sys.stderr, flush=True)
        finally:
            if watcher is not None:
                watcher.cancel()
            await session.stop()
            self._release(session)
            if not websocket.closed:
                await websocket.close()
        return websocket

    async def _watch(self, session: WebSession) -> None:
        """Close the tab's session when its app has gone, or after ``idle_minutes`` without a key."""
        limit = self.options.idle_minutes * 60
        app_done = session._task
        while True:
            left = session.last_input + limit - time.monotonic()
            if left <= 0:
                await self._close_with(session, sessions.idle_words(self.options))
                return
            if app_done is not None:
                done, _ = await asyncio.wait({app_done}, timeout=min(left, 30.0))
                if done:  # the app exited (Ctrl+Q, or it died): the page shows "session ended"
                    # Not while the server ends it (flood, shutdown): its output ends before its exit
                    # is noticed, and the closing words are yet to be written (as _close_websocket).
                    if not session.closed:
                        await session.websocket.close()
                    return
            else:
                await asyncio.sleep(min(left, 30.0))

    async def _close_with(self, session: WebSession, message: bytes) -> None:
        # The app first (nothing of it may follow the message), then the message, then the close: a
        # failure to stop the app must not cost the resident the words that say why the tab ends.
        with contextlib.suppress(Exception):
            await session.stop()
        with contextlib.suppress(Exception):
            await session.websocket.send_bytes(b"\x1b[0m\x1b[2J\x1b[H" + message)
        await session.websocket.close()

    async def _carry_input(self, websocket: web.WebSocketResponse, session: WebSession) -> None:
        """The browser's messages to the app; keys at most at ``input_rate`` (see the module's text)."""
        options = self.options
        rate = sessions.KeyRate(options)
        async for message in websocket:
            if message.type != WSMsgType.TEXT:
                continue
            try:
                envelope = json.loads(message.data)
                kind, payload = envelope[0], envelope[1] if len(envelope) > 1 else None
            except (ValueError, TypeError, IndexError, KeyError):
                continue
            if kind == "stdin" and isinstance(payload, str):
                session.last_input = time.monotonic()
                pending = bytearray(payload.encode("utf-8", "replace"))
                held_since: float | None = None
                while pending:
                    now = time.monotonic()
                    cut = rate.allowance(pending, now)
                    if cut:
                        if not await session.send_bytes(bytes(pending[:cut])):
                            return
                        del pending[:cut]
                        rate.spend(cut)
                        continue
                    held_since = held_since or now
                    if now - held_since > options.flood_seconds:
                        print(
                            f"kabinet serve-web: session of {session.address} ended for an input flood",
                            flush=True,
                        )
                        await self._close_with(session, bilingual("ssh.input_flood"))
                        return
                    await asyncio.sleep(0.05)  # the websocket is not read meanwhile: the browser waits
            elif kind == "resize" and isinstance(payload, dict):
                width = min(max(_int(payload.get("width"), 80), 10), 1000)
                height = min(max(_int(payload.get("height"), 24), 5), 1000)
                await session.set_terminal_size(width, height)
            elif kind == "ping":
                await websocket.send_json(["pong", payload])
            elif kind == "blur":
                await session.blur()
            elif kind == "focus":
                await session.focus()

    async def close_all(self) -> None:
        self.limits.closed = True
        running = list(self.sessions)
        await asyncio.gather(*(s.stop() for s in running), return_exceptions=True)
        for session in running:
            with contextlib.suppress(Exception):
                await session.websocket.close()


def _int(value: Any, default: int) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        return default


async def serve(options: WebOptions, *, ready: asyncio.Event | None = None) -> None:
    """Run the web server until SIGTERM or SIGINT; prints ``listening on URL`` when ready."""
    async with sessions.hosted(options, "kabinet serve-web") as hosting:
        await _listen(hosting.options, hosting.launcher, hosting.homes, ready)


async def _listen(
    options: WebOptions,
    launcher: FreshLauncher | ForkLauncher,
    homes: SessionHomes,
    ready: asyncio.Event | None,
) -> None:
    server = KabinetWebServer(options, launcher, homes)
    runner = web.AppRunner(await server._make_app(), handle_signals=False, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, options.host or None, options.port)
    await site.start()
    ports = sorted({sock.getsockname()[1] for sock in site._server.sockets})  # type: ignore[union-attr]
    if options.public_url is None:
        shown_host = options.host if options.host and options.host not in ("0.0.0.0", "::") else "127.0.0.1"  # noqa: S104
        server.public_url = f"http://{shown_host}:{ports[0]}"
    way = "forked from one process" if options.fork else "a fresh process each"
    where = f"{options.host or '*'}:{','.join(map(str, ports))}, page {server.public_url}/ (sessions {way})"
    try:
        await sessions.until_stopped("kabinet serve-web", where, ready)
    finally:
        await server.close_all()
        await runner.cleanup()
        print("kabinet serve-web: stopped", flush=True)


def build_parser() -> argparse.ArgumentParser:
    parser = sessions.session_parser(
        "kabinet serve-web",
        "Serve the personal account in a browser: each tab gets its own app (textual-serve). "
        "Put it behind the portal's TLS proxy (README: the nginx block) and give --public-url.",
        host="127.0.0.1",
        port=DEFAULT_PORT,
        state_help=f"sessions and demo data (default {default_state_dir()})",
        lang_help="the apps' and the page's language",
        idle_help="close a tab without input this long (30)",
    )
    parser.add_argument(
        "--public-url",
        metavar="URL",
        help="the page's address as browsers see it, e.g. https://kabinet.example.ru/web (behind a proxy)",
    )
    parser.add_argument(
        "--trusted-proxy",
        action="append",
        metavar="ADDRESS",
        help="a proxy whose X-Forwarded-For is believed (repeatable; default 127.0.0.1 and ::1)",
    )
    return parser


def options_from(args: argparse.Namespace) -> WebOptions:
    options = WebOptions(**sessions.session_option_values(args), public_url=args.public_url)
    if args.trusted_proxy:
        options.trusted_proxies = tuple(args.trusted_proxy)
    return options


def check(options: WebOptions) -> str | None:
    """What is wrong with serve-web's own options (once the shared ones are right), or None."""
    if options.public_url is not None:
        parts = urlsplit(options.public_url)
        if parts.scheme not in ("http", "https") or not parts.netloc or parts.query or parts.fragment:
            return "--public-url must be an http(s) address such as https://kabinet.example.ru/web"
    return None


def main(argv: list[str] | None = None) -> int:
    """``kabinet serve-web [options]``."""
    return sessions.run_server(
        "kabinet serve-web", options_from(build_parser().parse_args(argv)), check, serve
    )


__all__ = [
    "DEFAULT_PORT",
    "KabinetWebServer",
    "WebOptions",
    "WebSession",
    "build_parser",
    "client_address",
    "main",
    "serve",
]
