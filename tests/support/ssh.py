"""The app over SSH: ``kabinet serve-ssh`` in a subprocess, a real SSH client (asyncssh's) with a
pseudo-terminal, the screen read through a terminal emulator (pyte)."""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import asyncssh
import psutil
import pyte

ROOT = Path(__file__).resolve().parents[2]
"""The repository: where ``app.py`` is."""
LOGIN_SCREEN = "номер из квитанции"  # the login screen's empty account number field


class Server:
    """``kabinet serve-ssh`` in a subprocess; ``port`` once it listens."""

    def __init__(self, process: subprocess.Popen[str], port: int, state_dir: Path) -> None:
        self.process = process
        self.port = port
        self.state_dir = state_dir
        self.output: list[str] = []
        """What it printed after ``listening on`` (read by :meth:`stop`)."""

    def descendants(self) -> list[psutil.Process]:
        """Every process the server runs now: the apps and the one demo portal."""
        try:
            return [p for p in psutil.Process(self.process.pid).children(recursive=True) if p.is_running()]
        except psutil.NoSuchProcess:
            return []

    def apps(self) -> list[psutil.Process]:
        """The app processes the server runs now, and ended ones it has not reaped yet (zombies)."""
        apps = []
        for process in self.descendants():
            try:
                if "portal.cli" not in process.cmdline() and process.name() != "kabinet-zygote":
                    apps.append(process)
            except psutil.ZombieProcess:
                apps.append(process)
            except psutil.NoSuchProcess:
                pass
        return apps


def start_server(tmp_path: Path, data_dir: Path, *options: str) -> Server:
    command = [
        sys.executable,
        str(ROOT / "app.py"),
        "serve-ssh",
        "--host",
        "127.0.0.1",
        "--port",
        "0",
        "--state-dir",
        str(tmp_path / "state"),
        "--data-dir",
        str(data_dir),
        "--grace",
        "2",
        *options,
    ]
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env)
    assert process.stdout is not None
    deadline = time.monotonic() + 120
    seen = []
    while time.monotonic() < deadline:
        line = process.stdout.readline()
        if not line:
            break
        seen.append(line)
        if match := re.search(r"listening on .*:(\d+)", line):
            server = Server(process, int(match.group(1)), tmp_path / "state")
            server.output.extend(seen)
            return server
    process.kill()
    raise AssertionError("serve-ssh did not start:\n" + "".join(seen))


def stop(server: Server) -> None:
    server.process.terminate()
    try:
        output, _ = server.process.communicate(timeout=30)
    except subprocess.TimeoutExpired:
        server.process.kill()
        output, _ = server.process.communicate()
    server.output.append(output or "")


class Terminal:
    """An SSH session with a pty, its output drawn on an 80×24 pyte screen."""

    def __init__(self, process: asyncssh.SSHClientProcess[bytes]) -> None:
        self.process = process
        self.screen = pyte.Screen(80, 24)
        self.stream = pyte.ByteStream(self.screen)
        self.output = bytearray()
        self._changed = asyncio.Event()
        """Set when output arrives or the session ends: :meth:`wait_for` looks again then, not on a timer."""
        self._reader = asyncio.get_running_loop().create_task(self._read())

    async def _read(self) -> None:
        try:
            while True:
                data = await self.process.stdout.read(65536)
                if not data:
                    return
                self.output += data
                self.stream.feed(data)
                self._changed.set()
        finally:
            self._changed.set()

    def text(self) -> str:
        return "\n".join(self.screen.display)

    async def wait_for(self, text: str, seconds: float = 90.0) -> str:
        """The screen once ``text`` shows on it, looked at each time the app's output arrives."""
        deadline = time.monotonic() + seconds
        while True:
            self._changed.clear()
            if text in self.text():
                return self.text()
            left = deadline - time.monotonic()
            if self._reader.done() or left <= 0:
                break
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._changed.wait(), timeout=left)
        raise AssertionError(f"{text!r} never appeared; the screen was:\n{self.text()}")

    async def type(self, text: str) -> None:
        """Keys at a person's pace: a field gets the focus before its keys arrive."""
        for char in text:
            self.process.stdin.write(char.encode())
            await asyncio.sleep(0.05)
        await asyncio.sleep(0.5)


async def open_terminal(conn: asyncssh.SSHClientConnection) -> Terminal:
    process = await conn.create_process(term_type="xterm-256color", term_size=(80, 24), encoding=None)
    return Terminal(process)


async def wait_until(condition: Callable[[], object], seconds: float = 30.0) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return
        await asyncio.sleep(0.2)
    raise AssertionError("the condition never held")


async def ssh_connect(port: int, local_address: str = "127.0.0.1") -> asyncssh.SSHClientConnection:
    return await asyncssh.connect(
        "127.0.0.1",
        port,
        username="resident",
        known_hosts=None,
        client_keys=None,
        agent_path=None,
        local_addr=(local_address, 0),
    )
