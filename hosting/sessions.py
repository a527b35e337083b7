"""What ``kabinet serve-ssh`` (:mod:`hosting.sshserver`) and ``kabinet serve-web`` (:mod:`hosting.webserver`)
share: hosting one app process per session for strangers on a shared server.

- the options both take (:class:`SessionOptions`) and their command line (:func:`session_parser`,
  :func:`session_option_values`, :func:`run_server`);
- the limits on sessions in all and per client address (:class:`SessionLimits`; IPv6 clients counted by
  their /64, :func:`address_key`) and on keystrokes (:class:`KeyRate`, :func:`cut_point`);
- each session's temporary home (:class:`SessionHomes`), the app's environment and arguments
  (:func:`app_environment`, :func:`app_arguments`), how it is started (:func:`make_launcher`: the fork
  server of :mod:`hosting.forkserver` or a fresh process) and ended (:func:`end_process_group`);
- the words a refused or ended session is told, in Russian and English (:func:`bilingual`,
  :func:`idle_words`);
- the server's life: one demo portal for every app without ``--server`` (:class:`DemoPortal`), the homes
  and the launcher opened and closed around it (:func:`hosted`), SIGTERM, SIGINT or SIGHUP to stop
  (:func:`until_stopped`).

Each server's protocol (SSH channels and pseudo-terminals; websockets and textual-serve's page) stays in its
own module. This module imports neither Textual nor the portal.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import fcntl
import importlib.util
import ipaddress
import os
import shutil
import signal
import socket
import sys
import tempfile
import time
from collections import Counter
from collections.abc import AsyncIterator, Callable, Coroutine
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Final, Generic, TypeVar

import httpx

from hosting.forkserver import AppProcess, ForkLauncher, FreshLauncher
from tui.i18n import Translator

_ESCAPE_LOOKBACK: Final = 64
"""Input is cut before an escape byte this close to the cut (a key's or mouse report's bytes stay whole)."""
_PORTAL_START_SECONDS: Final = 120.0


@dataclass
class SessionOptions:
    """What both servers take; :class:`hosting.sshserver.ServerOptions` and
    :class:`hosting.webserver.WebOptions` add their own (and their defaults for host, port and state)."""

    host: str = ""
    port: int = 0
    state_dir: Path = Path()
    """The sessions' homes (``STATE/sessions``) and the demo portal's data."""
    server_url: str | None = None
    """The portal the apps talk to; None: one demo portal for all, its data in ``state_dir / "portal"``."""
    data_dir: Path | None = None
    """The demo portal's data folder (default ``state_dir / "portal"``)."""
    language: str | None = None
    max_sessions: int = 50
    max_per_address: int = 3
    idle_minutes: float = 30.0
    """Close a session after this many minutes without a key (the app wipes sooner by itself)."""
    app_idle_seconds: int | None = None
    """The app's own idle logout (``idle_timeout_seconds``); None: the config's (120 s by default)."""
    input_rate: int = 2048
    """Keystrokes passed to an app, bytes per second after ``input_burst``: far more than a person types."""
    input_burst: int = 4096
    flood_seconds: float = 10.0
    """Input held back by ``input_rate`` without a break this long: the session is ended as a flood."""
    grace_seconds: float = 3.0
    fork: bool = True
    """Fork each session's app from one process that has imported it (:mod:`hosting.forkserver`);
    False: a fresh Python process per session (more memory, a slower start)."""

    def portal_data_dir(self) -> Path:
        return self.data_dir or self.state_dir / "portal"


Options = TypeVar("Options", bound=SessionOptions)


# --- limits --------------------------------------------------------------------------------------------


def address_key(address: str) -> str:
    """Per-address limits count IPv6 clients by their /64 (one household or host has a whole /64)."""
    try:
        parsed = ipaddress.ip_address(address)
    except ValueError:
        return address
    if isinstance(parsed, ipaddress.IPv6Address):
        if parsed.ipv4_mapped is not None:
            return str(parsed.ipv4_mapped)
        return str(ipaddress.ip_network(f"{parsed}/64", strict=False))
    return str(parsed)


def uncount(counter: Counter[str], key: str) -> None:
    """One fewer of ``key``; a key counted down to nothing leaves the counter."""
    counter[key] -= 1
    if counter[key] <= 0:
        del counter[key]


class SessionLimits:
    """Running apps: at most ``max_sessions`` in all and ``max_per_address`` per client address."""

    def __init__(self, options: SessionOptions) -> None:
        self.options = options
        self.per_address: Counter[str] = Counter()
        self.closed = False
        """The server is stopping: no more sessions."""

    def admit(self, address: str) -> bytes | None:
        """Count a session of ``address``; else the words that tell its client why not."""
        if self.closed or sum(self.per_address.values()) >= self.options.max_sessions:
            return bilingual("ssh.too_many_sessions")
        if self.per_address[address] >= self.options.max_per_address:
            return bilingual("ssh.too_many_from_address", limit=self.options.max_per_address)
        self.per_address[address] += 1
        return None

    def release(self, address: str) -> None:
        """An admitted session of ``address`` has ended."""
        uncount(self.per_address, address)


def cut_point(data: bytearray, limit: int) -> int:
    """How many bytes of ``data`` to pass on, at most ``limit``, without splitting an escape sequence.

    A cut just before an escape byte keeps every key's sequence (arrows, Alt+letter, mouse reports)
    whole; with none near the limit, the limit itself. 0: wait until more may go.
    """
    if limit >= len(data):
        return len(data)
    if limit <= 0:
        return 0
    escape = data.rfind(b"\x1b", max(0, limit - _ESCAPE_LOOKBACK), limit + 1)
    if escape < 0:
        return limit
    return escape  # 0 when the sequence at the start may be longer than the limit: wait


class KeyRate:
    """Keystrokes for an app at most at ``input_rate`` bytes a second after ``input_burst`` (a token bucket).

    Textual queues an event per key, so a flood would grow the app without end; a person never types so fast.
    """

    def __init__(self, options: SessionOptions) -> None:
        self.rate = options.input_rate
        self.burst = float(options.input_burst)
        self.tokens = self.burst
        self.refilled = time.monotonic()

    def allowance(self, pending: bytearray, now: float) -> int:
        """How many bytes of ``pending`` may go now (:func:`cut_point`); 0: none yet."""
        self.tokens = min(self.burst, self.tokens + (now - self.refilled) * self.rate)
        self.refilled = now
        return cut_point(pending, int(self.tokens))

    def spend(self, count: int) -> None:
        """``count`` bytes went to the app."""
        self.tokens -= count


# --- words ---------------------------------------------------------------------------------------------


def bilingual(key: str, **params: Any) -> bytes:
    """The catalogue's ``key`` in Russian, then English, as lines for a terminal."""
    text = "\r\n".join(Translator(lang)(key, **params) for lang in ("ru", "en"))
    return f"\r\n{text}\r\n".encode()


def idle_words(options: SessionOptions) -> bytes:
    """What a session closed after ``idle_minutes`` without a key is told."""
    return bilingual("ssh.idle_closed", minutes=max(1, int(options.idle_minutes)))


# --- the apps ------------------------------------------------------------------------------------------


def app_environment(home: Path, term: str) -> dict[str, str]:
    """An app's environment: its home and folders in ``home``, UTF-8, ``KABINET_SSH=1`` (a stranger on a
    shared server: idle wipe, no remembered account), and none of the server's own but Python's paths."""
    env = {
        "PATH": os.environ.get("PATH", "/usr/local/bin:/usr/bin:/bin"),
        "HOME": str(home),
        "XDG_CONFIG_HOME": str(home / ".config"),
        "XDG_DATA_HOME": str(home / ".local" / "share"),
        "XDG_CACHE_HOME": str(home / ".cache"),
        "XDG_STATE_HOME": str(home / ".local" / "state"),
        "TERM": term,
        "LANG": "C.UTF-8",
        "LC_ALL": "C.UTF-8",
        "PYTHONIOENCODING": "utf-8",
        "KABINET_SSH": "1",
    }
    for name in ("PYTHONPATH", "VIRTUAL_ENV", "TZ"):
        if name in os.environ:
            env[name] = os.environ[name]
    return env


def app_arguments(options: SessionOptions) -> list[str]:
    """The app's arguments (the launcher knows the program: app.py or the fork server)."""
    if not options.server_url:
        raise RuntimeError("no portal for the app: serve() starts the demo portal without --server")
    arguments = ["--server", options.server_url]
    if options.language:
        arguments += ["--lang", options.language]
    if options.app_idle_seconds:
        arguments += ["--idle-timeout", str(options.app_idle_seconds)]
    return arguments


def app_script() -> str:
    spec = importlib.util.find_spec("app")  # found, not imported: that would load Textual here
    if spec is None or spec.origin is None:
        raise RuntimeError("the app (app.py) is not importable from this Python")
    return spec.origin


def make_launcher(options: SessionOptions) -> FreshLauncher | ForkLauncher:
    """The fork server (the default), or a fresh process per session (``--no-fork``)."""
    if options.fork:
        return ForkLauncher()
    return FreshLauncher([sys.executable, app_script()])


async def end_process_group(process: AppProcess, grace: float) -> None:
    """SIGHUP to the app's process group; SIGKILL to what is left after ``grace`` seconds."""
    group = process.pid  # the app leads its own session and process group
    if process.returncode is None:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(group, signal.SIGHUP)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(process.wait(), timeout=grace)
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(group, signal.SIGKILL)  # also whatever the app started (a printing job, say)
    await process.wait()


class SessionHomes:
    """The apps' temporary homes: ``STATE/sessions/server-XXXX/home-XXXX``, one folder per running server.

    A server holds an exclusive ``flock`` on its folder's ``.lock`` while it runs; the kernel drops it
    however the server ends, even by ``kill -9``. On start, :meth:`open` removes every server folder
    whose lock nobody holds (homes a killed server left behind), never one of a server still running
    with the same state folder.
    """

    def __init__(self, root: Path) -> None:
        self.root = root
        self.folder: Path | None = None
        self._lock: int | None = None

    def open(self) -> int:
        """Remove what dead servers left; make and lock this server's folder. Returns how many went."""
        self.root.mkdir(mode=0o700, parents=True, exist_ok=True)
        removed = self._remove_abandoned()
        folder = Path(tempfile.mkdtemp(prefix="server-", dir=self.root))
        lock = os.open(folder / ".lock", os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW, 0o600)
        fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        self.folder, self._lock = folder, lock
        return removed

    def _remove_abandoned(self) -> int:
        removed = 0
        for entry in self.root.iterdir():
            if not entry.name.startswith("server-") or entry.is_symlink() or not entry.is_dir():
                continue
            try:
                lock = os.open(entry / ".lock", os.O_RDWR | os.O_NOFOLLOW)
            except FileNotFoundError:
                # Made but not locked yet by a server starting now, or left by one killed right then.
                if time.time() - entry.stat().st_mtime < 60:
                    continue
                lock = None
            except OSError:
                continue
            try:
                if lock is not None:
                    try:
                        fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    except BlockingIOError:
                        continue  # its server runs
                shutil.rmtree(entry, ignore_errors=True)
                removed += 1
            finally:
                if lock is not None:
                    os.close(lock)
        return removed

    def new_home(self) -> Path:
        if self.folder is None:
            raise RuntimeError("SessionHomes.open() first")
        return Path(tempfile.mkdtemp(prefix="home-", dir=self.folder))

    def close(self) -> None:
        folder, self.folder = self.folder, None
        if folder is not None:
            shutil.rmtree(folder, ignore_errors=True)
        lock, self._lock = self._lock, None
        if lock is not None:
            os.close(lock)


# --- the server's life ---------------------------------------------------------------------------------


def _free_loopback_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def _portal_child_setup() -> None:
    """In the demo portal's process, before exec: it gets SIGTERM if the server dies."""
    with contextlib.suppress(Exception):
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG


class DemoPortal:
    """One demo portal for every app of the server: ``kabinet-portal serve --demo`` on loopback.

    Every app talks to it over HTTP (``--server``), so only this one process opens the demo's SQLite
    database. :meth:`start` returns once ``/api/v1/health`` answers; :meth:`stop` ends it.
    """

    def __init__(self, data_dir: Path, *, start_seconds: float = _PORTAL_START_SECONDS) -> None:
        self.data_dir = data_dir
        self.port = 0
        self.start_seconds = start_seconds
        self.process: asyncio.subprocess.Process | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def start(self) -> str:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self.port = _free_loopback_port()
        env = {name: value for name, value in os.environ.items() if name != "KABINET_DATABASE_URL"}
        self.process = await asyncio.create_subprocess_exec(
            *[sys.executable, "-m", "portal.cli", "serve", "--demo"],
            *["--host", "127.0.0.1", "--port", str(self.port), "--data-dir", str(self.data_dir)],
            *["--log-level", "warning", "--no-access-log"],
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.DEVNULL,  # errors go to the server's stderr
            env=env,
            start_new_session=True,  # Ctrl+C at the server's terminal is the server's to handle
            preexec_fn=_portal_child_setup,
        )
        try:
            await self._wait_until_healthy()
        except BaseException:
            await self.stop()
            raise
        return self.url

    async def _wait_until_healthy(self) -> None:
        assert self.process is not None
        deadline = time.monotonic() + self.start_seconds
        async with httpx.AsyncClient(timeout=5.0) as http:
            while True:
                if self.process.returncode is not None:
                    raise OSError(f"the demo portal exited with status {self.process.returncode}")
                with contextlib.suppress(httpx.HTTPError):
                    if (await http.get(f"{self.url}/api/v1/health")).status_code == 200:
                        return
                if time.monotonic() > deadline:
                    raise OSError(
                        f"the demo portal did not answer on {self.url} in {self.start_seconds:.0f} s"
                    )
                await asyncio.sleep(0.2)

    async def stop(self, grace: float = 10.0) -> None:
        process, self.process = self.process, None
        if process is None or process.returncode is not None:
            return
        with contextlib.suppress(ProcessLookupError):
            process.terminate()
        try:
            await asyncio.wait_for(process.wait(), timeout=grace)
        except TimeoutError:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(process.pid, signal.SIGKILL)
            await process.wait()


@dataclass
class Hosting(Generic[Options]):
    """What a server runs its sessions with (:func:`hosted`)."""

    options: Options
    """The server's options, ``server_url`` the demo portal's when it started one."""
    homes: SessionHomes
    launcher: FreshLauncher | ForkLauncher


@contextlib.asynccontextmanager
async def hosted(
    options: Options, prog: str, *, app_command: list[str] | None = None
) -> AsyncIterator[Hosting[Options]]:
    """The demo portal (without ``--server``), the sessions' homes and the launcher, for the server's life.

    ``app_command``: a program to run instead of the app (tests), in a fresh process each, with no portal.
    """
    demo: DemoPortal | None = None
    if not options.server_url and not app_command:
        demo = DemoPortal(options.portal_data_dir())
        options = replace(options, server_url=await demo.start())
        print(f"{prog}: demo portal on {options.server_url}", flush=True)
    try:
        homes = SessionHomes(options.state_dir / "sessions")
        if removed := homes.open():
            print(f"{prog}: removed {removed} session folder(s) a stopped server left", flush=True)
        launcher = FreshLauncher(app_command) if app_command else make_launcher(options)
        try:
            if isinstance(launcher, ForkLauncher):
                await launcher.open()
            yield Hosting(options, homes, launcher)
        finally:
            await launcher.close()
            homes.close()
    finally:
        if demo is not None:
            await demo.stop()


async def until_stopped(prog: str, listening: str, ready: asyncio.Event | None) -> None:
    """Say where the server listens (``ready`` is set then) and wait for SIGTERM, SIGINT or SIGHUP."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for number in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
        loop.add_signal_handler(number, stop.set)
    print(f"{prog}: listening on {listening}", flush=True)
    if ready is not None:
        ready.set()
    await stop.wait()


# --- the command line ----------------------------------------------------------------------------------


def session_parser(
    prog: str, description: str, *, host: str, port: int, state_help: str, lang_help: str, idle_help: str
) -> argparse.ArgumentParser:
    """A server's command line with the options both take (the server adds its own)."""
    parser = argparse.ArgumentParser(prog=prog, description=description)
    parser.add_argument("--host", default=host, help=f"address to listen on (default {host or 'all'})")
    parser.add_argument("--port", type=int, default=port, help=f"port (default {port}; 0: any)")
    parser.add_argument("--state-dir", type=Path, help=state_help)
    parser.add_argument("--server", metavar="URL", help="the portal's API URL (recommended)")
    parser.add_argument("--data-dir", type=Path, help="the demo portal's data (without --server)")
    parser.add_argument("--lang", choices=["ru", "en"], help=lang_help)
    parser.add_argument("--max-sessions", type=int, default=50, help="app sessions at once (default 50)")
    parser.add_argument(
        "--max-per-address", type=int, default=3, help="app sessions at once per client address (default 3)"
    )
    parser.add_argument("--idle-minutes", type=float, default=30.0, help=idle_help)
    parser.add_argument(
        "--app-idle-timeout",
        type=int,
        metavar="SECONDS",
        help="the app's idle logout (default: idle_timeout_seconds of the config, 120)",
    )
    parser.add_argument(
        "--input-rate",
        type=int,
        default=2048,
        metavar="BYTES",
        help="keystroke bytes per second passed to an app after --input-burst (2048)",
    )
    parser.add_argument(
        "--input-burst", type=int, default=4096, metavar="BYTES", help="keystroke bytes passed at once (4096)"
    )
    parser.add_argument(
        "--flood-seconds",
        type=float,
        default=10.0,
        help="end a session whose input is held back this long without a break (10)",
    )
    parser.add_argument("--grace", type=float, default=3.0, help="seconds between SIGHUP and SIGKILL (3)")
    parser.add_argument(
        "--no-fork",
        action="store_true",
        help="start each app as a fresh process instead of forking it from one that has imported it "
        "(more memory)",
    )
    return parser


def session_option_values(args: argparse.Namespace) -> dict[str, Any]:
    """:class:`SessionOptions`' fields from the command line (``state_dir`` only when given)."""
    values: dict[str, Any] = {
        "host": args.host,
        "port": args.port,
        "server_url": args.server,
        "data_dir": args.data_dir,
        "language": args.lang,
        "max_sessions": args.max_sessions,
        "max_per_address": args.max_per_address,
        "idle_minutes": args.idle_minutes,
        "app_idle_seconds": args.app_idle_timeout,
        "input_rate": args.input_rate,
        "input_burst": args.input_burst,
        "flood_seconds": args.flood_seconds,
        "grace_seconds": args.grace,
        "fork": not args.no_fork,
    }
    if args.state_dir is not None:
        values["state_dir"] = args.state_dir
    return values


def _check(options: SessionOptions) -> str | None:
    """What is wrong with the shared options, or None."""
    if min(options.max_sessions, options.max_per_address) < 1:
        return "--max-sessions and --max-per-address must be at least 1"
    if options.input_rate < 64 or options.input_burst < 256:
        return "--input-rate must be at least 64 and --input-burst at least 256"
    if options.idle_minutes <= 0 or options.grace_seconds < 0 or options.flood_seconds <= 0:
        return "--idle-minutes and --flood-seconds must be positive and --grace not negative"
    return None


def run_server(
    prog: str,
    options: Options,
    check: Callable[[Options], str | None],
    serve: Callable[[Options], Coroutine[Any, Any, None]],
) -> int:
    """A server's ``main``: 2 for wrong options (the shared ones', then ``check``'s word on the server's
    own), 1 when it cannot serve, else 0 once stopped."""
    problem = _check(options) or check(options)
    if problem:
        print(f"{prog}: {problem}", file=sys.stderr)
        return 2
    try:
        asyncio.run(serve(options))
    except OSError as exc:
        print(f"{prog}: {exc}", file=sys.stderr)
        return 1
    return 0
