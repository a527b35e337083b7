"""Keys typed in one burst (as SSH delivers typing) land in the field they were meant for.

The app runs in a real pseudo-terminal; whole bursts are written into it at once and the screen is
read through a terminal emulator (pyte), as a resident over SSH would see it.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import pty
import select
import signal
import struct
import sys
import termios
import time
from collections.abc import Iterator
from pathlib import Path

import pyte
import pytest

from tests.support.app import HAPPY, PASSWORD

ROOT = Path(__file__).resolve().parents[2]


class PtyApp:
    """``python app.py`` on an 80×24 pseudo-terminal."""

    def __init__(self, data_dir: Path, home: Path, *args: str) -> None:
        self.screen = pyte.Screen(80, 24)
        self.stream = pyte.ByteStream(self.screen)
        env = {
            **os.environ,
            "TERM": "xterm-256color",
            "XDG_CONFIG_HOME": str(home / "config"),
            "XDG_DATA_HOME": str(home / "data"),
            "COLUMNS": "80",
            "LINES": "24",
        }
        env.pop("TEXTUAL_DRIVER", None)
        self.pid, self.fd = pty.fork()
        if self.pid == 0:  # the child: the app on the pty
            os.execve(
                sys.executable,
                [sys.executable, str(ROOT / "app.py"), "--data-dir", str(data_dir), *args],
                env,
            )
        fcntl.ioctl(self.fd, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 80, 0, 0))

    def pump(self, seconds: float = 0.1) -> None:
        end = time.monotonic() + seconds
        while (left := end - time.monotonic()) > 0:
            ready, _, _ = select.select([self.fd], [], [], left)
            if not ready:
                continue
            try:
                data = os.read(self.fd, 65536)
            except OSError:
                return
            if not data:
                return
            self.stream.feed(data)

    def text(self) -> str:
        return "\n".join(self.screen.display)

    def wait_for(self, text: str, seconds: float = 60.0) -> str:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            self.pump(0.2)
            if text in self.text():
                return self.text()
        raise AssertionError(f"{text!r} never appeared; the screen was:\n{self.text()}")

    def burst(self, data: str) -> None:
        """Everything at once, in one write: the way a remote terminal's typing arrives."""
        os.write(self.fd, data.encode())

    def close(self) -> None:
        if self.pid:
            with contextlib.suppress(ProcessLookupError):
                os.kill(self.pid, signal.SIGKILL)
            os.waitpid(self.pid, 0)
        os.close(self.fd)


@pytest.fixture
def pty_app(app_data_dir: Path, tmp_path: Path) -> Iterator[PtyApp]:
    app = PtyApp(app_data_dir, tmp_path)
    yield app
    app.close()


def test_account_tab_password_enter_in_one_burst_logs_in(pty_app: PtyApp) -> None:
    pty_app.wait_for("Демо: лицевой счет")
    pty_app.burst(f"{HAPPY}\t{PASSWORD}\r")
    pty_app.wait_for(f"Лицевой счет {HAPPY}", seconds=20)  # home: both fields got their keys


def test_account_enter_password_enter_in_one_burst_logs_in(pty_app: PtyApp) -> None:
    pty_app.wait_for("Демо: лицевой счет")
    pty_app.burst(f"{HAPPY}\r{PASSWORD}\r")
    pty_app.wait_for(f"Лицевой счет {HAPPY}", seconds=20)


def test_registration_fields_in_one_burst(pty_app: PtyApp) -> None:
    pty_app.wait_for("Демо: лицевой счет")
    # F3 (registration), the account number and Enter, all at once: the number lands on the new screen.
    pty_app.burst(f"\x1bOR{HAPPY}\r")
    pty_app.wait_for("Шаг 2", seconds=20)
    pty_app.burst("1023,12\tresident@example.ru\tresident@example.ru\t")
    pty_app.wait_for("Принять условия соглашения", seconds=20)
    pty_app.pump(1.0)
    assert pty_app.text().count("resident@example.ru") == 2, pty_app.text()  # each e-mail in its own field


def test_sigterm_gives_the_terminal_back(pty_app: PtyApp) -> None:
    pty_app.wait_for("Демо: лицевой счет")
    os.kill(pty_app.pid, signal.SIGTERM)
    output = bytearray()
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        ready, _, _ = select.select([pty_app.fd], [], [], 0.2)
        if not ready:
            continue
        try:
            data = os.read(pty_app.fd, 65536)
        except OSError:
            break
        if not data:
            break
        output += data
    assert b"\x1b[?1049l" in output  # left the alternate screen
    _, status = os.waitpid(pty_app.pid, 0)
    assert os.WIFEXITED(status) and os.WEXITSTATUS(status) == 0
    pty_app.pid = 0
