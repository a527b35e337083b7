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

The kernel's same-page merging (KSM): the fork server marks itself and its children mergeable
(``prctl(PR_SET_MEMORY_MERGE)``, hosting/forkserver.py); pages are merged only while the host runs
``ksmd`` (``/sys/kernel/mm/ksm/run`` = 1). Run as root, the bench measures each forked way twice: a pass
with ``ksmd`` stopped (``run`` = 0) and a pass with it running (``run`` = 1 from before the server starts),
in which, at each count, it waits until ``ksmd`` has made ``--ksm-scans`` whole scans after the last
session opened (``/sys/kernel/mm/ksm/full_scans``; the scan under way then is not counted) before it
reads the memory. It says what it switched and puts ``run``, ``pages_to_scan`` and ``sleep_millisecs``
back as it found them at the end. Merged pages are shared, so USS drops; PSS (each shared page divided
among the processes that map it) is printed beside it, and the fork server's and the apps' PSS together
divided by the sessions (what a session costs, all counted), and ``/proc/PID/ksm_merging_pages``. The
CPU ``ksmd`` used while it settled is read from its thread. At the end of each forked pass (SSH) the
first session logs in (with KSM on, it was merged while it sat at the login screen: the login must work,
a write to a merged page copying it again), and its memory is read after the login and after ``ksmd``
has settled again (KSM off: 20 s later). Not root: one pass, ``ksmd`` as the host has it.

    .venv/bin/python bench/sessions.py [--kind ssh|web] [--counts 1,20,50] [--probes 3]
        [--ways forked,unfilled,fresh] [--ksm off,on] [--ksm-scans 2]
        [--ksm-pages-to-scan N] [--ksm-sleep-ms MS]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import re
import signal
import statistics
import struct
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Coroutine
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
import asyncssh
import psutil
import pyte

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.startup import time_to_marker  # noqa: E402
from hosting.forkserver import FILL_VARIABLE  # noqa: E402
from hosting.sessions import DemoPortal  # noqa: E402
from portal.demo.accounts import DEMO_PASSWORD, HAPPY_PATH_APARTMENT, account_number  # noqa: E402

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

    async def open_session(self, *, watch: bool = False) -> tuple[Session, float]:
        """A new session and the seconds to its login screen; ``watch`` (SSH): its screen is kept (pyte)
        and keys can be typed into it."""
        if self.kind == "web":
            return await open_web_session(self.port)
        return await open_session(self.port, watch=watch)

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
        self.process: asyncssh.SSHClientProcess[bytes] | None = None
        """The SSH channel's process (SSH sessions opened with ``watch``): keys are written to it."""
        self.screen: pyte.Screen | None = None
        """What the session shows (SSH sessions opened with ``watch``)."""

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


async def open_session(port: int, limit: float = 120.0, *, watch: bool = False) -> tuple[Session, float]:
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
    session = Session(conn.close)
    stream = None
    if watch:
        session.process, session.screen = process, pyte.Screen(80, 24)
        stream = pyte.ByteStream(session.screen)
        stream.feed(seen)
    _keep_reading(_drain(process, stream))
    return session, elapsed


async def _drain(process: asyncssh.SSHClientProcess[bytes], stream: pyte.ByteStream | None = None) -> None:
    try:
        while data := await process.stdout.read(65536):
            if stream is not None:
                stream.feed(data)
    except Exception:  # the session was closed
        pass


@dataclass(frozen=True)
class Memory:
    """Mean over processes, MiB: USS (pages no other process maps), PSS (each page divided among the
    processes that map it), RSS, and pages merged by KSM (``/proc/PID/ksm_merging_pages``); and PSS
    summed."""

    uss: float
    pss: float
    rss: float
    merged: float
    pss_sum: float


def merging_pages(pid: int) -> int:
    """A process's pages that are mapped to pages merged by KSM (0 where the kernel does not show it)."""
    try:
        return int(Path(f"/proc/{pid}/ksm_merging_pages").read_text())
    except (OSError, ValueError):
        return 0


def memory(apps: list[psutil.Process]) -> Memory:
    uss, pss, rss, merged = [], [], [], []
    for app in apps:
        try:
            info = app.memory_full_info()
        except psutil.NoSuchProcess:
            continue
        uss.append(info.uss / MIB)
        pss.append(info.pss / MIB)
        rss.append(info.rss / MIB)
        merged.append(merging_pages(app.pid) * PAGE / MIB)
    return Memory(
        statistics.mean(uss), statistics.mean(pss), statistics.mean(rss), statistics.mean(merged), sum(pss)
    )


KSM_DIR = Path("/sys/kernel/mm/ksm")


class Ksm:
    """The host's same-page merging (``ksmd``, ``/sys/kernel/mm/ksm``): read, switched for the bench's
    passes where the bench may (root), and put back as it was found (:meth:`restore`)."""

    SETTINGS = ("pages_to_scan", "sleep_millisecs", "run")

    def __init__(self) -> None:
        self.available = (KSM_DIR / "run").exists()
        self.writable = self.available and os.access(KSM_DIR / "run", os.W_OK)
        self.found = {name: self.read(name) for name in self.SETTINGS} if self.available else {}

    def read(self, name: str) -> int:
        return int((KSM_DIR / name).read_text().split()[0])

    def write(self, name: str, value: int) -> None:
        before = self.read(name)
        if before != value:
            (KSM_DIR / name).write_text(f"{value}\n")
            print(f"bench: {KSM_DIR / name}: {before} -> {value}", flush=True)

    def restore(self) -> None:
        if self.writable:
            for name in self.SETTINGS:
                with contextlib.suppress(OSError):
                    self.write(name, self.found[name])

    def setting(self) -> str:
        return f"pages_to_scan {self.read('pages_to_scan')}, sleep_millisecs {self.read('sleep_millisecs')}"

    @staticmethod
    def ksmd_seconds() -> float:
        """CPU seconds the ``ksmd`` kernel thread has used (0 where it cannot be read)."""
        for process in psutil.process_iter(["name"]):
            if process.info["name"] == "ksmd":
                with contextlib.suppress(psutil.Error):
                    times = process.cpu_times()
                    return float(times.user + times.system)
        return 0.0


@dataclass
class Settled:
    """``ksmd`` after the last session opened: whole scans waited for, seconds, its CPU seconds, the apps'
    mean USS after each scan, and the host's counters then."""

    scans: int
    seconds: float
    cpu: float
    uss_by_scan: list[float] = field(default_factory=list)
    counters: dict[str, int] = field(default_factory=dict)

    def line(self) -> str:
        series = ", ".join(f"{uss:.1f}" for uss in self.uss_by_scan)
        counters = ", ".join(
            f"{name} {value / MIB if name == 'general_profit' else value * PAGE / MIB:.1f} MiB"
            for name, value in self.counters.items()
        )
        return (
            f"ksmd: {self.scans} whole scans in {self.seconds:.0f} s after the last session opened, "
            f"{self.cpu:.1f} s of CPU ({100 * self.cpu / max(self.seconds, 0.001):.0f} % of a core); "
            f"apps' USS after each scan, MiB: {series}; {counters}"
        )


async def settle(ksm: Ksm, apps: Callable[[], list[psutil.Process]], scans: int, limit: float) -> Settled:
    """Wait until ``ksmd`` has made ``scans`` whole scans from now (the one under way is not whole)."""
    start_scans, start_cpu, started = ksm.read("full_scans"), ksm.ksmd_seconds(), time.monotonic()
    last, series = start_scans, []
    while last < start_scans + scans + 1:
        if time.monotonic() - started > limit:
            print(f"bench: ksmd made {last - start_scans} scans in {limit:.0f} s; reading memory anyway")
            break
        await asyncio.sleep(0.5)
        now = ksm.read("full_scans")
        if now != last:
            last = now
            series.append((await asyncio.to_thread(memory, apps())).uss)
    counters = {name: ksm.read(name) for name in ("pages_shared", "pages_sharing", "general_profit")}
    return Settled(
        scans=max(0, last - start_scans - 1),
        seconds=time.monotonic() - started,
        cpu=ksm.ksmd_seconds() - start_cpu,
        uss_by_scan=series,
        counters=counters,
    )


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


@dataclass
class Row:
    """One count of sessions open: the apps' memory, with the fork server's PSS added to the sum; the
    login-screen time; and how ``ksmd`` settled (KSM passes)."""

    count: int
    memory: Memory
    zygote_pss: float
    login: float
    settled: Settled | None = None

    @property
    def all_pss(self) -> float:
        """The apps' and the fork server's PSS, a session: what a session costs, all counted."""
        return (self.memory.pss_sum + self.zygote_pss) / self.count


HOME_SCREEN = f"Лицевой счет {account_number(HAPPY_PATH_APARTMENT)}"


async def type_and_log_in(session: Session, pid: int, ksm: Ksm | None, scans: int, limit: float) -> list[str]:
    """The first session, merged while it sat at its login screen (``ksm``), logs in (keys at a person's
    pace); its memory before, right after, and after ``ksmd`` has settled again (without KSM: 20 s on)."""
    assert session.process is not None and session.screen is not None
    try:
        app = psutil.Process(pid)
    except psutil.NoSuchProcess:
        return ["typing: the first session's app is gone"]
    before = await asyncio.to_thread(memory, [app])
    started = time.perf_counter()
    for text in (account_number(HAPPY_PATH_APARTMENT), "\r", DEMO_PASSWORD, "\r"):
        for char in text:
            session.process.stdin.write(char.encode())
            await asyncio.sleep(0.05)
        await asyncio.sleep(0.5)
    deadline = time.monotonic() + 60
    while HOME_SCREEN not in "\n".join(session.screen.display):
        if time.monotonic() > deadline:
            shown = "\n".join(session.screen.display)
            return [f"typing: the first session did not reach its home screen; it shows:\n{shown}"]
        await asyncio.sleep(0.1)
    elapsed = time.perf_counter() - started
    after = await asyncio.to_thread(memory, [app])
    if ksm is not None:
        settled = await settle(ksm, lambda: [app], scans, limit)
        later = f"after {settled.scans} more whole scans ({settled.seconds:.0f} s):"
    else:
        await asyncio.sleep(20)
        later = "20 s later:"
    again = await asyncio.to_thread(memory, [app])

    def shown(label: str, sample: Memory) -> str:
        return f"{label} USS {sample.uss:.1f}, PSS {sample.pss:.1f}, merged {sample.merged:.1f} MiB"

    return [
        f"typing: the first session (pid {pid}{', merged at its login screen' if ksm else ''}) logged in: "
        f"home screen "
        f"{elapsed:.1f} s after its first key (keys at 50 ms, 0.5 s after each field)",
        "  " + shown("before:", before),
        "  " + shown("right after the login:", after),
        "  " + shown(later, again),
    ]


async def measure(
    server: Server,
    counts: list[int],
    probes: int,
    pages: list[str] | None = None,
    ksm: Ksm | None = None,
    scans: int = 2,
    limit: float = 1800.0,
    typing: list[str] | None = None,
) -> list[Row]:
    """At each count: the apps' memory once they have settled (``ksm``: once ``ksmd`` has made ``scans``
    whole scans), then the login-screen time of ``probes`` more sessions. ``typing`` (SSH, forked):
    the first session logs in at the end."""
    sessions: list[Session] = []
    rows = []
    first_pid = 0
    try:
        for count in counts:
            while len(sessions) < count:
                session, _ = await server.open_session(watch=not sessions and typing is not None)
                sessions.append(session)
                if not first_pid:
                    first_pid = server.apps()[0].pid
            await asyncio.sleep(1.0)  # let the newest apps settle after their first paint
            settled = None
            if ksm is not None:
                settled = await settle(ksm, server.apps, scans, limit)
            apps = server.apps()
            sample = await asyncio.to_thread(memory, apps)
            zygote = server.zygote()
            zygote_pss = 0.0
            if zygote is not None:
                with contextlib.suppress(psutil.Error):
                    zygote_pss = zygote.memory_full_info().pss / MIB
            if pages is not None and not pages and zygote is not None and apps:
                with contextlib.suppress(OSError, psutil.Error):
                    pages.extend(page_report(apps[-1].pid, zygote.pid))
            times = []
            for _ in range(probes):
                probe, elapsed = await server.open_session()
                times.append(elapsed)
                probe.close()
                await _wait_for_apps(server, count)
            rows.append(Row(count, sample, zygote_pss, statistics.median(times), settled))
        if typing is not None and sessions and sessions[0].process is not None:
            typing.extend(await type_and_log_in(sessions[0], first_pid, ksm, scans, limit))
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


def _load() -> str:
    return " ".join(f"{value:.1f}" for value in os.getloadavg())


@dataclass(frozen=True)
class Pass:
    """One pass over a way: ``ksmd`` stopped (off), running (on), or as the host has it (host)."""

    way: str
    ksm: str

    @property
    def label(self) -> str:
        return f"{WAYS[self.way]}, KSM {self.ksm}"


async def run(
    kind: str, counts: list[int], probes: int, ways: list[str], options: argparse.Namespace
) -> None:
    ksm: Ksm = options.ksm_control
    passes = [Pass(way, state) for state in options.ksm_passes for way in ways]
    # Fresh processes are not marked mergeable (nothing forks them from the marked fork server).
    passes = [item for item in passes if not (item.way == "fresh" and item.ksm == "on")]
    with tempfile.TemporaryDirectory() as folder:
        portal = DemoPortal(Path(folder) / "portal")
        url = await portal.start()
        reports: dict[Pass, list[str]] = {}
        results: dict[Pass, list[Row]] = {}
        try:
            local = await asyncio.to_thread(local_time, url, probes)
            print(f"local start to the login screen (python app.py --server, pty 80x24): {local:.2f} s")
            for number, item in enumerate(passes):
                if ksm.writable and item.ksm in ("on", "off"):
                    ksm.write("run", 1 if item.ksm == "on" else 0)
                if item.ksm == "on":
                    print(f"bench: ksmd {ksm.setting()}", flush=True)
                print(f"{item.label}: starting (load average {_load()})", flush=True)
                state = Path(folder) / f"state-{number}"
                server = await asyncio.to_thread(Server, kind, state, url, item.way)
                try:
                    reports[item] = []
                    typing: list[str] | None = None
                    if kind == "ssh" and item.way == "forked":
                        typing = []
                    results[item] = await measure(
                        server,
                        counts,
                        probes,
                        reports[item],
                        ksm if item.ksm == "on" else None,
                        options.ksm_scans,
                        options.ksm_limit,
                        typing,
                    )
                    reports[item].extend(
                        f"{row.count} sessions: {row.settled.line()}"
                        for row in results[item]
                        if row.settled is not None
                    )
                    reports[item].extend(typing or [])
                    zygote = server.zygote()
                    if zygote is not None:
                        info = zygote.memory_full_info()
                        uss, pss, rss = info.uss / MIB, info.pss / MIB, info.rss / MIB
                        merged = merging_pages(zygote.pid) * PAGE / MIB
                        print(
                            f"{item.label}: fork server itself: USS {uss:.1f} MiB, PSS {pss:.1f} MiB, "
                            f"RSS {rss:.1f} MiB, merged {merged:.1f} MiB",
                            flush=True,
                        )
                finally:
                    await asyncio.to_thread(server.stop)
                    if ksm.writable:
                        ksm.write("run", 0)  # between passes; put back as found at the end
        finally:
            await portal.stop()
    print()
    for item in passes:
        for line in reports.get(item, []):
            print(f"{item.label}: {line}")
    print()
    setting = ksm.setting() if ksm.available else "absent"
    print(f"kabinet serve-{kind} (load average {_load()}; ksmd {setting})")
    print(
        f"{'sessions open':>13} | {'way':<16} | {'KSM':<4} | {'USS/session':>11} | {'PSS/session':>11} | "
        f"{'all PSS/session':>15} | {'RSS/session':>11} | {'merged/session':>14} | login screen"
    )
    for index, count in enumerate(counts):
        for item in passes:
            row = results[item][index]
            memory_ = row.memory
            print(
                f"{count:>13} | {WAYS[item.way]:<16} | {item.ksm:<4} | {memory_.uss:>7.1f} MiB | "
                f"{memory_.pss:>7.1f} MiB | {row.all_pss:>11.1f} MiB | {memory_.rss:>7.1f} MiB | "
                f"{memory_.merged:>10.1f} MiB | {row.login:.2f} s"
            )
    print(
        f"(local: {local:.2f} s; targets: USS <= 15 MiB a session, login over SSH <= local; "
        "all PSS: the apps' and the fork server's PSS over the sessions)"
    )


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
    parser.add_argument(
        "--ksm",
        default="off,on",
        help="passes with ksmd stopped (off) and running (on): off,on by default (root only; else one pass, "
        "ksmd as the host has it)",
    )
    parser.add_argument(
        "--ksm-scans", type=int, default=2, help="whole ksmd scans to wait for at each count (2)"
    )
    parser.add_argument(
        "--ksm-limit", type=float, default=1800.0, help="seconds to wait for them at most (1800)"
    )
    parser.add_argument("--ksm-pages-to-scan", type=int, help="ksmd's pages_to_scan (default: as found)")
    parser.add_argument("--ksm-sleep-ms", type=int, help="ksmd's sleep_millisecs (default: as found)")
    args = parser.parse_args()
    counts = sorted({int(part) for part in args.counts.split(",")})
    ways = [way for way in args.ways.split(",") if way]
    if unknown := set(ways) - set(WAYS):
        parser.error(f"unknown ways: {', '.join(sorted(unknown))}")
    passes = [state for state in args.ksm.split(",") if state]
    if unknown := set(passes) - {"off", "on"}:
        parser.error(f"unknown KSM passes: {', '.join(sorted(unknown))}")
    ksm = Ksm()
    if not ksm.writable:
        run_value = ksm.read("run") if ksm.available else None
        print(f"bench: cannot switch ksmd (not root, or no {KSM_DIR}): one pass, run = {run_value}")
        passes = ["host"]
    args.ksm_passes, args.ksm_control = passes, ksm
    # SIGTERM ends the bench as Ctrl+C does: the host's ksmd is put back as it was found.
    signal.signal(signal.SIGTERM, signal.default_int_handler)
    try:
        if ksm.writable:
            if args.ksm_pages_to_scan is not None:
                ksm.write("pages_to_scan", args.ksm_pages_to_scan)
            if args.ksm_sleep_ms is not None:
                ksm.write("sleep_millisecs", args.ksm_sleep_ms)
        asyncio.run(run(args.kind, counts, args.probes, ways, args))
    finally:
        ksm.restore()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
