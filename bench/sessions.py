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

Three ways are measured in one run: forked (the default), forked from a zygote that leaves its free
memory free (``KABINET_FORK_FILL=0``: the way before ``fill_free_memory``), and fresh processes. For
the forked apps, one app's memory of its own (at the first count) is then taken apart page by page
(``/proc/PID/smaps`` and ``pagemap``, compared with the fork server's page at the same address): which
mappings it is in, and whether a page is new or a copy of the fork server's, and what the copy changed.

    .venv/bin/python bench/sessions.py [--kind ssh|web] [--counts 1,20,50] [--probes 3]
        [--ways forked,unfilled,fresh]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import re
import statistics
import struct
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import Any

import aiohttp
import asyncssh
import psutil

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.startup import time_to_marker  # noqa: E402
from hosting.forkserver import FILL_VARIABLE  # noqa: E402
from hosting.sessions import DemoPortal  # noqa: E402

MARKER = "Войти".encode()
MIB = 1024 * 1024


class Server:
    """``kabinet serve-ssh`` or ``kabinet serve-web`` (``kind``) on a loopback port, limits lifted."""

    def __init__(self, kind: str, state_dir: Path, portal_url: str, way: str) -> None:
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
        env = dict(os.environ)
        if way == "fresh":
            command.append("--no-fork")
        elif way == "unfilled":
            env[FILL_VARIABLE] = "0"
        self.process = subprocess.Popen(
            command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env
        )
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


PAGE = 4096
WAYS = {"forked": "forked", "unfilled": "forked, unfilled", "fresh": "fresh process"}


def _mappings(pid: int) -> list[tuple[int, int, str, int]]:
    """(start, end, name, private dirty kB) of each mapping of a process."""
    found: list[tuple[int, int, str, int]] = []
    with open(f"/proc/{pid}/smaps") as smaps:
        for line in smaps:
            fields = line.split()
            if fields[0].endswith(":"):
                if fields[0] == "Private_Dirty:" and found:
                    start, end, name, _ = found[-1]
                    found[-1] = (start, end, name, int(fields[1]))
                continue
            low, high = (int(part, 16) for part in fields[0].split("-"))
            found.append((low, high, fields[5] if len(fields) > 5 else "[anon]", 0))
    return found


def _page_flags(pid: int, start: int, end: int) -> tuple[int, ...]:
    with open(f"/proc/{pid}/pagemap", "rb") as pagemap:
        pagemap.seek(start // PAGE * 8)
        data = pagemap.read((end - start) // PAGE * 8)
    return struct.unpack(f"{len(data) // 8}Q", data)


def _kind_of_change(mine: bytes, theirs: bytes) -> str:
    """What an app changed in its copy of a fork server's page."""
    words = [
        int.from_bytes(mine[at : at + 8], "little") - int.from_bytes(theirs[at : at + 8], "little")
        for at in range(0, PAGE, 8)
        if mine[at : at + 8] != theirs[at : at + 8]
    ]
    if not words:
        return "written and restored"
    if all(abs(delta) < 4096 for delta in words):
        return "counts only"
    return "more"


def page_report(app: int, zygote: int) -> list[str]:
    """One forked app's own memory (pages no other process maps), taken apart: by mapping, and for
    each page whether the fork server has one at that address (the app's is a copy, made when it first
    wrote to it) and what the copy changed: nothing (written and restored, as a reference count that goes
    up and down), only small numbers (counts only: reference counts, counters), or more; or not (new)."""
    mapping_kib: Counter[str] = Counter()
    pages: Counter[str] = Counter()
    zygote_maps = {(start, end) for start, end, _, _ in _mappings(zygote)}
    with (
        open(f"/proc/{app}/mem", "rb", buffering=0) as app_mem,
        open(f"/proc/{zygote}/mem", "rb", buffering=0) as zygote_mem,
    ):
        for start, end, name, dirty in _mappings(app):
            if not dirty:
                continue
            kind = "libpython" if "libpython" in name else name if name.startswith("[") else "other files"
            mapping_kib[kind] += dirty
            if (start, end) not in zygote_maps:
                pages["new"] += dirty // 4
                continue
            theirs = _page_flags(zygote, start, end)
            for index, flags in enumerate(_page_flags(app, start, end)):
                if not flags >> 63 & 1 or not flags >> 56 & 1:  # absent, or shared
                    continue
                if not theirs[index] >> 63 & 1:
                    pages["new"] += 1
                    continue
                address = start + index * PAGE
                try:
                    app_mem.seek(address)
                    zygote_mem.seek(address)
                    pages[_kind_of_change(app_mem.read(PAGE), zygote_mem.read(PAGE))] += 1
                except OSError:
                    pages["unreadable"] += 1
    mib = 1 / 1024
    by_mapping = ", ".join(f"{kind} {kib * mib:.1f}" for kind, kib in mapping_kib.most_common())
    copied = sum(count for kind, count in pages.items() if kind not in {"new", "unreadable"})
    changes = ", ".join(
        f"{kind} {pages[kind] * PAGE / MIB:.1f}" for kind in ("written and restored", "counts only", "more")
    )
    return [
        f"one forked app's own memory (pid {app}), MiB: {sum(mapping_kib.values()) * mib:.1f}",
        f"  by mapping: {by_mapping}",
        f"  copied from the fork server: {copied * PAGE / MIB:.1f} ({changes}); "
        f"new: {pages['new'] * PAGE / MIB:.1f}",
    ]


async def measure(
    server: Server, counts: list[int], probes: int, pages: list[str] | None = None
) -> list[tuple[int, float, float, float]]:
    sessions: list[Session] = []
    rows = []
    try:
        for count in counts:
            while len(sessions) < count:
                session, _ = await server.open_session()
                sessions.append(session)
            await asyncio.sleep(1.0)  # let the newest apps settle after their first paint
            apps = server.apps()
            uss, rss = memory(apps)
            zygote = server.zygote()
            if pages is not None and not pages and zygote is not None and apps:
                with contextlib.suppress(OSError, psutil.Error):
                    pages.extend(page_report(apps[-1].pid, zygote.pid))
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


async def run(kind: str, counts: list[int], probes: int, ways: list[str]) -> None:
    with tempfile.TemporaryDirectory() as folder:
        portal = DemoPortal(Path(folder) / "portal")
        url = await portal.start()
        reports: dict[str, list[str]] = {}
        try:
            local = await asyncio.to_thread(local_time, url, probes)
            print(f"local start to the login screen (python app.py --server, pty 80x24): {local:.2f} s")
            results = {}
            for way in ways:
                server = await asyncio.to_thread(Server, kind, Path(folder) / f"state-{way}", url, way)
                try:
                    reports[way] = []
                    results[way] = await measure(server, counts, probes, reports[way])
                    zygote = server.zygote()
                    if zygote is not None:
                        info = zygote.memory_full_info()
                        uss, rss = info.uss / MIB, info.rss / MIB
                        print(f"{WAYS[way]}: fork server itself: USS {uss:.1f} MiB, RSS {rss:.1f} MiB")
                finally:
                    await asyncio.to_thread(server.stop)
        finally:
            await portal.stop()
    print()
    for way in ways:
        for line in reports.get(way, []):
            print(f"{WAYS[way]}: {line}")
    print()
    print(f"kabinet serve-{kind} (load average {' '.join(f'{value:.1f}' for value in os.getloadavg())})")
    print(f"{'sessions open':>13} | {'way':<16} | {'USS/session':>11} | {'RSS/session':>11} | login screen")
    for index, count in enumerate(counts):
        for way in ways:
            _, uss, rss, seconds = results[way][index]
            print(f"{count:>13} | {WAYS[way]:<16} | {uss:>7.1f} MiB | {rss:>7.1f} MiB | {seconds:.2f} s")
    print(f"(local: {local:.2f} s; targets: USS <= 15 MiB a session, login over SSH <= local)")


def main() -> int:
    parser = argparse.ArgumentParser(description="Memory and login time per SSH session, forked or fresh.")
    parser.add_argument("--counts", default="1,20,50", help="sessions open at each step (1,20,50)")
    parser.add_argument("--probes", type=int, default=3, help="login-screen timings per step (3)")
    parser.add_argument(
        "--kind", choices=["ssh", "web"], default="ssh", help="serve-ssh (default) or serve-web"
    )
    parser.add_argument(
        "--ways",
        default=",".join(WAYS),
        help="forked (default), unfilled (KABINET_FORK_FILL=0), fresh (--no-fork); all three by default",
    )
    args = parser.parse_args()
    counts = sorted({int(part) for part in args.counts.split(",")})
    ways = [way for way in args.ways.split(",") if way]
    if unknown := set(ways) - set(WAYS):
        parser.error(f"unknown ways: {', '.join(sorted(unknown))}")
    asyncio.run(run(args.kind, counts, args.probes, ways))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
