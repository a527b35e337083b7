"""Memory per session and time to the login screen, over SSH or in a browser: forked apps, or fresh.

``kabinet serve-ssh`` is started twice on one demo portal: once as it runs by default (each app forked
from a zygote that has imported the app, hosting/forkserver.py) and once with ``--no-fork`` (a fresh
Python process per session, the way before). For each, sessions are opened over SSH (asyncssh, an
80×24 pseudo-terminal) until 1, 20 and 50 are open, each one waiting for its login screen (the word
«Войти»); then every app's USS (memory no other process shares: psutil's ``memory_full_info().uss``)
and RSS is read, and one more session's time from connecting to its login screen is measured (median
of ``--probes``). The same app started locally on a pseudo-terminal (``python app.py --server URL``)
gives the local time to compare with. Targets (issue 13): at most 15 MiB USS per session, and a login
screen over SSH as fast as locally.

``--kind web`` does the same with ``kabinet serve-web`` (sessions opened as the page opens them, a
websocket each).

    .venv/bin/python bench/sessions.py [--kind ssh|web] [--counts 1,20,50] [--probes 3]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import Any

import aiohttp
import asyncssh
import psutil

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.startup import time_to_marker  # noqa: E402
from hosting.sshserver import DemoPortal  # noqa: E402

MARKER = "Войти".encode()
MIB = 1024 * 1024


class Server:
    """``kabinet serve-ssh`` or ``kabinet serve-web`` (``kind``) on a loopback port, limits lifted."""

    def __init__(self, kind: str, state_dir: Path, portal_url: str, fork: bool) -> None:
        self.kind = kind
        command = [
            sys.executable,
            str(ROOT / "app.py"),
            f"serve-{kind}",
            "--host",
            "127.0.0.1",
            "--port",
            "0",
        ]
        command += ["--state-dir", str(state_dir), "--server", portal_url]
        command += ["--max-sessions", "200", "--max-per-address", "200"]
        if kind == "ssh":
            command += ["--max-connections-per-address", "400", "--max-handshakes-per-address", "30"]
        if not fork:
            command.append("--no-fork")
        self.process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        assert self.process.stdout is not None
        for line in self.process.stdout:
            if match := re.search(r"listening on .*:(\d+)", line):
                self.port = int(match.group(1))
                break
        else:
            raise RuntimeError(f"serve-{kind} did not start")

    async def open_session(self) -> tuple[Session, float]:
        if self.kind == "web":
            return await open_web_session(self.port)
        return await open_session(self.port)

    def apps(self) -> list[psutil.Process]:
        found = []
        for process in psutil.Process(self.process.pid).children(recursive=True):
            try:
                if process.name() != "kabinet-zygote":
                    found.append(process)
            except psutil.NoSuchProcess:
                pass
        return found

    def zygote(self) -> psutil.Process | None:
        for process in psutil.Process(self.process.pid).children():
            if process.name() == "kabinet-zygote":
                return process
        return None

    def stop(self) -> None:
        self.process.terminate()
        self.process.communicate(timeout=60)


_DRAINS: set[asyncio.Task[None]] = set()


class Session:
    def __init__(self, close: Callable[[], object]) -> None:
        self._close = close

    def close(self) -> None:
        result = self._close()
        if asyncio.iscoroutine(result):
            task = asyncio.get_running_loop().create_task(result)
            _DRAINS.add(task)
            task.add_done_callback(_DRAINS.discard)


def _keep_reading(work: Coroutine[Any, Any, None]) -> None:
    task = asyncio.get_running_loop().create_task(work)  # the app must never wait for its reader
    _DRAINS.add(task)
    task.add_done_callback(_DRAINS.discard)


async def open_web_session(port: int, limit: float = 120.0) -> tuple[Session, float]:
    """A new browser-like session (the websocket the page opens); seconds to its login screen."""
    started = time.perf_counter()
    http = aiohttp.ClientSession()
    ws = await http.ws_connect(f"ws://127.0.0.1:{port}/ws?width=80&height=24")
    seen = b""
    deadline = started + limit
    while MARKER not in seen:
        message = await ws.receive(timeout=max(0.01, deadline - time.perf_counter()))
        if message.type != aiohttp.WSMsgType.BINARY:
            raise RuntimeError(f"no login screen: {message.type}")
        seen += message.data
    elapsed = time.perf_counter() - started

    async def drain() -> None:
        with contextlib.suppress(Exception):
            async for _ in ws:
                pass

    async def close() -> None:
        await ws.close()
        await http.close()

    _keep_reading(drain())
    return Session(close), elapsed


async def open_session(port: int, limit: float = 120.0) -> tuple[Session, float]:
    """A new SSH session; returns it with the seconds from connecting to its login screen."""
    started = time.perf_counter()
    conn = await asyncssh.connect(
        "127.0.0.1", port, username="bench", known_hosts=None, client_keys=None, agent_path=None
    )
    process = await conn.create_process(term_type="xterm-256color", term_size=(80, 24), encoding=None)
    seen = b""
    deadline = started + limit
    while MARKER not in seen:
        left = deadline - time.perf_counter()
        if left <= 0:
            raise TimeoutError("no login screen")
        seen += await asyncio.wait_for(process.stdout.read(65536), left)
    elapsed = time.perf_counter() - started
    _keep_reading(_drain(process))
    return Session(conn.close), elapsed


async def _drain(process: asyncssh.SSHClientProcess[bytes]) -> None:
    try:
        while await process.stdout.read(65536):
            pass
    except Exception:  # the session was closed
        pass


def memory(apps: list[psutil.Process]) -> tuple[float, float]:
    """Mean USS and RSS of the apps, MiB."""
    uss, rss = [], []
    for app in apps:
        try:
            info = app.memory_full_info()
        except psutil.NoSuchProcess:
            continue
        uss.append(info.uss / MIB)
        rss.append(info.rss / MIB)
    return statistics.mean(uss), statistics.mean(rss)


async def measure(server: Server, counts: list[int], probes: int) -> list[tuple[int, float, float, float]]:
    sessions: list[Session] = []
    rows = []
    try:
        for count in counts:
            while len(sessions) < count:
                session, _ = await server.open_session()
                sessions.append(session)
            await asyncio.sleep(1.0)  # let the newest apps settle after their first paint
            uss, rss = memory(server.apps())
            times = []
            for _ in range(probes):
                probe, elapsed = await server.open_session()
                times.append(elapsed)
                probe.close()
                await _wait_for_apps(server, count)
            rows.append((count, uss, rss, statistics.median(times)))
    finally:
        for session in sessions:
            session.close()
    return rows


async def _wait_for_apps(server: Server, count: int, seconds: float = 30.0) -> None:
    deadline = time.monotonic() + seconds
    while len(server.apps()) > count and time.monotonic() < deadline:  # noqa: ASYNC110 - polls psutil
        await asyncio.sleep(0.05)


def local_time(portal_url: str, runs: int) -> float:
    with tempfile.TemporaryDirectory() as home:
        env = {**os.environ, "HOME": home, "XDG_CONFIG_HOME": f"{home}/.config", "TERM": "xterm-256color"}
        env["KABINET_SSH"] = "1"  # as the served apps: nothing remembered
        command = [sys.executable, str(ROOT / "app.py"), "--server", portal_url]
        return statistics.median(time_to_marker(command, env) for _ in range(runs))


async def run(kind: str, counts: list[int], probes: int) -> None:
    with tempfile.TemporaryDirectory() as folder:
        portal = DemoPortal(Path(folder) / "portal")
        url = await portal.start()
        try:
            local = await asyncio.to_thread(local_time, url, probes)
            print(f"local start to the login screen (python app.py --server, pty 80x24): {local:.2f} s")
            results = {}
            for fork in (True, False):
                server = await asyncio.to_thread(Server, kind, Path(folder) / f"state-{fork}", url, fork)
                try:
                    results[fork] = await measure(server, counts, probes)
                    zygote = server.zygote()
                    if zygote is not None:
                        info = zygote.memory_full_info()
                        uss, rss = info.uss / MIB, info.rss / MIB
                        print(f"fork server itself: USS {uss:.1f} MiB, RSS {rss:.1f} MiB")
                finally:
                    await asyncio.to_thread(server.stop)
        finally:
            await portal.stop()
    print()
    print(f"kabinet serve-{kind}")
    print(f"{'sessions open':>13} | {'way':<14} | {'USS/session':>11} | {'RSS/session':>11} | login screen")
    for index, count in enumerate(counts):
        for fork in (True, False):
            _, uss, rss, seconds = results[fork][index]
            way = "forked" if fork else "fresh process"
            print(f"{count:>13} | {way:<14} | {uss:>7.1f} MiB | {rss:>7.1f} MiB | {seconds:.2f} s")
    print(f"(local: {local:.2f} s; targets: USS <= 15 MiB a session, login over SSH <= local)")


def main() -> int:
    parser = argparse.ArgumentParser(description="Memory and login time per SSH session, forked or fresh.")
    parser.add_argument("--counts", default="1,20,50", help="sessions open at each step (1,20,50)")
    parser.add_argument("--probes", type=int, default=3, help="login-screen timings per step (3)")
    parser.add_argument(
        "--kind", choices=["ssh", "web"], default="ssh", help="serve-ssh (default) or serve-web"
    )
    args = parser.parse_args()
    counts = sorted({int(part) for part in args.counts.split(",")})
    asyncio.run(run(args.kind, counts, args.probes))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
