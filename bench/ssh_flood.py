"""A keystroke flood against ``kabinet serve-ssh``: does an app's memory stay bounded?

Starts ``kabinet serve-ssh`` on a loopback port (with its own demo portal, or ``--server URL``),
connects one SSH client (asyncssh's) with a pseudo-terminal of 80×24, waits for the login screen,
then sends ``--megabytes`` of keystrokes as fast as the server takes them, for at most
``--seconds``. Every 0.1 s it samples the resident set size of the app process (the server's child
that is not the demo portal) and of the server itself. It prints the app's peak RSS, the server's
RSS before, at its peak and after the session ended, the bytes the client got to send and the
bytes left unsent, the server's own account of the session (bytes passed to the app and refused),
whether the connection was ended and the last lines the client saw.

    .venv/bin/python bench/ssh_flood.py [--megabytes 10] [--seconds 120] [--port 2300]
    .venv/bin/python bench/ssh_flood.py --keys moves            # Tab and arrows: a redraw per key
    .venv/bin/python bench/ssh_flood.py --rate 1900 --megabytes 0.1   # just under the server's rate

Target (issue 9): the app's peak RSS under a 10 MB flood below 150 MB, the server's RSS back to its
baseline afterwards. ``--rss-cap-mb`` stops the flood early when the app grows past it (a safety
net for running this against a server without the limit).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import re
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import asyncssh
import psutil
import pyte

ROOT = Path(__file__).resolve().parent.parent
LOGIN_MARKER = "номер из квитанции"
MIB = 1024 * 1024
KEYS = {
    "text": b"0123456789 abcdefghijklmnopqrstuvwxyz ",
    "moves": b"\t\x1b[B\x1b[A\t\x1b[Z\x1b[C\x1b[D",  # Tab, arrows, Shift+Tab: focus moves and redraws
}
ANSI = re.compile(r"\x1b\[[0-9;?<>=]*[ -/]*[@-~]|\x1b[@-Z\\-_]")


def start_server(
    state: Path, port: int, server_url: str | None, extra: list[str]
) -> tuple[subprocess.Popen[str], list[str]]:
    command = [sys.executable, str(ROOT / "app.py"), "serve-ssh", "--host", "127.0.0.1", "--port", str(port)]
    command += extra
    command += ["--state-dir", str(state / "state"), "--grace", "2"]
    command += ["--server", server_url] if server_url else ["--data-dir", str(state / "portal")]
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env)
    assert process.stdout is not None
    log: list[str] = []
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline:
        line = process.stdout.readline()
        if not line:
            break
        log.append(line)
        if re.search(r"listening on ", line):
            return process, log
    process.kill()
    raise SystemExit("serve-ssh did not start:\n" + "".join(log))


def apps_of(server: psutil.Process) -> list[psutil.Process]:
    found = []
    for child in server.children(recursive=False):
        with contextlib.suppress(psutil.Error):
            if "portal.cli" not in child.cmdline():
                found.append(child)
    return found


def rss(process: psutil.Process) -> int:
    try:
        return int(process.memory_info().rss)
    except psutil.Error:
        return 0


@dataclass
class Result:
    app_before: int
    app_peak: int
    server_peak: int
    sent: int
    unsent: int
    flood_seconds: float
    stop_reason: str
    ended_by_server: bool
    tail: list[str]


async def flood(args: argparse.Namespace, server: psutil.Process) -> Result:
    conn = await asyncssh.connect(
        "127.0.0.1", args.port, username="flood", known_hosts=None, client_keys=None, agent_path=None
    )
    process = await conn.create_process(term_type="xterm-256color", term_size=(80, 24), encoding=None)
    screen = pyte.Screen(80, 24)
    stream = pyte.ByteStream(screen)
    received = bytearray()

    async def read() -> None:
        while data := await process.stdout.read(65536):
            received.extend(data)
            with contextlib.suppress(Exception):
                stream.feed(data)

    reader = asyncio.get_running_loop().create_task(read())
    deadline = time.monotonic() + 120
    while LOGIN_MARKER not in "\n".join(screen.display):
        if time.monotonic() > deadline or reader.done():
            raise SystemExit("the login screen never appeared:\n" + "\n".join(screen.display))
        await asyncio.sleep(0.2)
    await asyncio.sleep(1.0)  # let the app settle before its baseline
    apps = apps_of(server)
    app = apps[0] if apps else None
    app_before = rss(app) if app else 0
    samples: dict[str, int] = {"app_peak": app_before, "server_peak": rss(server)}
    sampling = True

    async def sample() -> None:
        while sampling:
            if app is not None:
                samples["app_peak"] = max(samples["app_peak"], rss(app))
            samples["server_peak"] = max(samples["server_peak"], rss(server))
            await asyncio.sleep(0.1)

    sampler = asyncio.get_running_loop().create_task(sample())
    keys = (KEYS[args.keys] * 32768)[:32768]
    total = int(args.megabytes * MIB)
    sent = 0
    started = time.monotonic()
    stop_reason = "all sent"
    while sent < total and stop_reason == "all sent":
        if args.rate:  # a steady sender: no more than the rate since the start
            await asyncio.sleep(max(0.0, sent / args.rate - (time.monotonic() - started)))
        chunk = keys[: min(len(keys) if not args.rate else max(1, args.rate // 10), total - sent)]
        try:
            process.stdin.write(chunk)
        except (asyncssh.Error, BrokenPipeError, ConnectionError, OSError):
            stop_reason = "the server ended the connection"
            break
        sent += len(chunk)
        while True:  # the next chunk only once the server has taken this one
            left = args.seconds - (time.monotonic() - started)
            if left <= 0:
                stop_reason = f"time bound ({args.seconds:.0f} s)"
                break
            if app is not None and rss(app) > args.rss_cap_mb * MIB:
                stop_reason = f"app RSS over the cap of {args.rss_cap_mb} MB"
                break
            if reader.done():
                stop_reason = "the server ended the connection"
                break
            try:
                await asyncio.wait_for(process.stdin.drain(), timeout=min(left, 0.5))
                break
            except TimeoutError:
                continue
            except (asyncssh.Error, BrokenPipeError, ConnectionError, OSError):
                stop_reason = "the server ended the connection"
                break
    flood_seconds = time.monotonic() - started
    # Whatever is still queued in the client was not sent.
    unsent = 0
    with contextlib.suppress(Exception):
        unsent = process.channel.get_write_buffer_size()
    sent = max(0, sent - unsent)
    ended_by_server = stop_reason == "the server ended the connection"
    hold_until = time.monotonic() + args.hold
    while not ended_by_server and time.monotonic() < hold_until:  # the app may still be catching up
        if app is not None and rss(app) > args.rss_cap_mb * MIB:
            stop_reason = f"app RSS over the cap of {args.rss_cap_mb} MB"
            break
        await asyncio.sleep(0.5)
        ended_by_server = reader.done()
    conn.close()
    with contextlib.suppress(Exception):
        await asyncio.wait_for(reader, timeout=10)
    if app is not None:
        with contextlib.suppress(psutil.Error):
            app.wait(timeout=20)
    sampling = False
    await sampler
    # The words after the app's last screen: what the server wrote once the app was gone.
    last = bytes(received[-2000:]).decode("utf-8", "replace")
    last = last.rsplit("\x1b[?1049l", 1)[-1] if "\x1b[?1049l" in last else ""
    tail = [line for line in ANSI.sub("", last).splitlines() if line.strip()][-6:]
    if not tail:
        tail = [line.rstrip() for line in screen.display if line.strip()][-6:]
    return Result(
        app_before=app_before,
        app_peak=samples["app_peak"],
        server_peak=samples["server_peak"],
        sent=sent,
        unsent=total - sent,
        flood_seconds=flood_seconds,
        stop_reason=stop_reason,
        ended_by_server=ended_by_server,
        tail=tail,
    )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--megabytes", type=float, default=10.0, help="keystrokes to send (10)")
    parser.add_argument("--seconds", type=float, default=120.0, help="at most this long flooding (120)")
    parser.add_argument("--port", type=int, default=2300, help="the server's loopback port (2300)")
    parser.add_argument("--server", metavar="URL", help="a running portal (default: the demo portal)")
    parser.add_argument("--keys", choices=sorted(KEYS), default="text", help="what to type (text)")
    parser.add_argument("--rate", type=int, default=0, help="bytes a second at most (0: as fast as taken)")
    parser.add_argument(
        "--serve-ssh-option",
        action="append",
        default=[],
        metavar="ARG",
        help="passed on to serve-ssh (repeat: --serve-ssh-option=--input-rate --serve-ssh-option=100000)",
    )
    parser.add_argument("--hold", type=float, default=30.0, help="seconds to stay connected after (30)")
    parser.add_argument("--rss-cap-mb", type=int, default=1500, help="stop when the app grows past it")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="ssh-flood-") as folder:
        server_process, log = start_server(Path(folder), args.port, args.server, args.serve_ssh_option)
        server = psutil.Process(server_process.pid)
        try:
            time.sleep(1.0)
            server_before = rss(server)
            result = asyncio.run(flood(args, server))
            time.sleep(3.0)
            server_after = rss(server)
        finally:
            server_process.terminate()
            try:
                out, _ = server_process.communicate(timeout=30)
            except subprocess.TimeoutExpired:
                server_process.kill()
                out, _ = server_process.communicate()
            log.append(out or "")
    accounts = [line for line in "".join(log).splitlines() if "input" in line and "session" in line]
    pace = f" at {args.rate} B/s" if args.rate else ""
    print(f"flood: {args.megabytes:g} MB of keystrokes{pace}, ", end="")
    print(f"{result.flood_seconds:.1f} s, stopped: {result.stop_reason}")
    print(f"app RSS: at the login screen {result.app_before / MIB:.0f} MB, ", end="")
    print(f"peak {result.app_peak / MIB:.0f} MB (target < 150 MB)")
    print(f"server RSS: baseline {server_before / MIB:.0f} MB, ", end="")
    print(f"peak {result.server_peak / MIB:.0f} MB, ", end="")
    print(f"after {server_after / MIB:.0f} MB")
    print(f"client: sent {result.sent:,} bytes, not sent {result.unsent:,} bytes")
    for line in accounts:
        print(f"server: {line.strip()}")
    print(f"connection ended by the server: {'yes' if result.ended_by_server else 'no'}")
    print("the client saw at the end:")
    for line in result.tail:
        print(f"  | {line}")


if __name__ == "__main__":
    main()
