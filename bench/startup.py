"""Process start to the login screen drawn in a real terminal, beside a minimal Textual app.

Each program runs in a pseudo-terminal of 80×24 (as a resident's terminal would give), and the clock
stops when the screen it writes contains the login button's word «Войти». The kabinet app runs in
embedded mode on an already seeded data directory (its first start seeds the demo once; that is not
what a resident waits for every day). Runs alternate between the two programs; medians are printed.
Target (issue 4): the app at most 1.3 × the minimal app.

    .venv/bin/python bench/startup.py [--runs 10]
"""

from __future__ import annotations

import argparse
import asyncio
import fcntl
import os
import pty
import select
import signal
import statistics
import struct
import sys
import tempfile
import termios
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
MARKER = "Войти".encode()


def time_to_marker(command: list[str], env: dict[str, str], timeout: float = 30.0) -> float:
    """Seconds from spawning ``command`` on an 80×24 pty until its output shows the marker."""
    pid, fd = pty.fork()
    if pid == 0:  # the child: become the program
        os.execvpe(command[0], command, env)
    fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 80, 0, 0))
    started = time.perf_counter()
    seen = b""
    try:
        while True:
            if time.perf_counter() - started > timeout:
                raise TimeoutError(f"{command} did not draw its login screen")
            ready, _, _ = select.select([fd], [], [], 0.05)
            if not ready:
                continue
            try:
                chunk = os.read(fd, 65536)
            except OSError:
                raise RuntimeError(f"{command} ended early: {seen[-400:]!r}") from None
            seen += chunk
            # Textual interleaves escape codes, but one label is written as one run of text.
            if MARKER in seen:
                return time.perf_counter() - started
    finally:
        os.kill(pid, signal.SIGTERM)
        try:
            while True:
                ready, _, _ = select.select([fd], [], [], 0.5)
                if not ready or not os.read(fd, 65536):
                    break
        except OSError:
            pass
        os.waitpid(pid, 0)
        os.close(fd)


async def seed(data_dir: Path) -> None:
    sys.path.insert(0, str(ROOT))
    from hosting.embedded import EmbeddedPortal

    async with EmbeddedPortal(data_dir=data_dir):
        pass


def main() -> int:
    parser = argparse.ArgumentParser(description="Time to the first screen in a real terminal.")
    parser.add_argument("--runs", type=int, default=10)
    args = parser.parse_args()

    data_dir = Path(tempfile.mkdtemp(prefix="kabinet-startup-"))
    env = {
        **os.environ,
        "TERM": "xterm-256color",
        "COLUMNS": "80",
        "LINES": "24",
        "XDG_CONFIG_HOME": str(data_dir / "config"),
    }
    app = [sys.executable, str(ROOT / "app.py"), "--data-dir", str(data_dir / "embedded")]
    minimal = [sys.executable, str(ROOT / "bench" / "minimal_app.py")]
    # Seed the embedded demo once (in this process), and warm the OS file cache for both programs.
    asyncio.run(seed(data_dir / "embedded"))
    time_to_marker(app, env)
    time_to_marker(minimal, env)

    app_times: list[float] = []
    minimal_times: list[float] = []
    for _ in range(args.runs):
        minimal_times.append(time_to_marker(minimal, env))
        app_times.append(time_to_marker(app, env))
    app_median = statistics.median(app_times)
    minimal_median = statistics.median(minimal_times)
    print(
        f"minimal Textual app: median {minimal_median * 1000:6.0f} ms  (min {min(minimal_times) * 1000:.0f})"
    )
    print(f"kabinet (embedded):  median {app_median * 1000:6.0f} ms  (min {min(app_times) * 1000:.0f})")
    print(f"ratio: {app_median / minimal_median:.2f} × (target ≤ 1.30)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
