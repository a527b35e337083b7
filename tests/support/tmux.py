"""The app in a real terminal: a tmux session, keys in (``send-keys``), screen text out (``capture-pane``)."""

from __future__ import annotations

import os
import subprocess
import time
import uuid
from pathlib import Path

#: The repository: where ``app.py`` is.
ROOT = Path(__file__).resolve().parents[2]


class Terminal:
    """A tmux session running one command in an 80×24 window."""

    def __init__(self, command: str) -> None:
        # Unique in the machine's one tmux server, whichever xdist worker or checkout starts it.
        worker = os.environ.get("PYTEST_XDIST_WORKER", "main")
        self.name = f"kabinet-e2e-{worker}-{uuid.uuid4().hex[:8]}"
        size = ["-x", "80", "-y", "24"]
        subprocess.run(["tmux", "new-session", "-d", "-s", self.name, *size, command], check=True)

    def screen(self) -> str:
        result = subprocess.run(
            ["tmux", "capture-pane", "-p", "-t", self.name], capture_output=True, text=True, check=False
        )
        return result.stdout

    def keys(self, *keys: str) -> None:
        subprocess.run(["tmux", "send-keys", "-t", self.name, *keys], check=True)

    def type(self, text: str) -> None:
        subprocess.run(["tmux", "send-keys", "-t", self.name, "-l", text], check=True)

    def wait_for(self, text: str, seconds: float = 30.0) -> str:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            screen = self.screen()
            if text in screen:
                return screen
            time.sleep(0.2)
        raise AssertionError(f"{text!r} never appeared; the screen was:\n{self.screen()}")

    def close(self) -> None:
        subprocess.run(["tmux", "kill-session", "-t", self.name], check=False, capture_output=True)
