"""End to end over SSH: ``kabinet serve-ssh`` on a loopback port, a real SSH client (asyncssh's) with a
pseudo-terminal, the screen read through a terminal emulator (pyte), as a resident would see it."""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import asyncssh
import psutil
import pyte
import pytest

from tests.app_helpers import HAPPY, PASSWORD

ROOT = Path(__file__).resolve().parent.parent
LOGIN_SCREEN = "номер из квитанции"  # the login screen's empty account number field

pytestmark = pytest.mark.slow


class Server:
    """``kabinet serve-ssh`` in a subprocess; ``port`` once it listens."""

    def __init__(self, process: subprocess.Popen[str], port: int) -> None:
        self.process = process
        self.port = port

    def descendants(self) -> list[psutil.Process]:
        """Every process the server runs now: the apps and the one demo portal."""
        try:
            return [p for p in psutil.Process(self.process.pid).children(recursive=True) if p.is_running()]
        except psutil.NoSuchProcess:
            return []

    def apps(self) -> list[psutil.Process]:
        """The app processes the server runs now."""
        apps = []
        for process in self.descendants():
            try:
                if "portal.cli" not in process.cmdline():
                    apps.append(process)
            except psutil.NoSuchProcess:
                pass
        return apps


def _start_server(tmp_path: Path, data_dir: Path, *options: str) -> Server:
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
            return Server(process, int(match.group(1)))
    process.kill()
    raise AssertionError("serve-ssh did not start:\n" + "".join(seen))


def _stop(server: Server) -> None:
    server.process.terminate()
    try:
        server.process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        server.process.kill()
        server.process.wait()


@pytest.fixture
def ssh_server(tmp_path: Path, app_data_dir: Path) -> Iterator[Server]:
    server = _start_server(tmp_path, app_data_dir, "--max-per-address", "2")
    yield server
    apps = server.descendants()
    _stop(server)
    _gone, alive = psutil.wait_procs(apps, timeout=10)
    assert not alive, f"left running after shutdown: {alive}"


class Terminal:
    """An SSH session with a pty, its output drawn on an 80×24 pyte screen."""

    def __init__(self, process: asyncssh.SSHClientProcess[bytes]) -> None:
        self.process = process
        self.screen = pyte.Screen(80, 24)
        self.stream = pyte.ByteStream(self.screen)
        self.output = bytearray()
        self._reader = asyncio.get_running_loop().create_task(self._read())

    async def _read(self) -> None:
        while True:
            data = await self.process.stdout.read(65536)
            if not data:
                return
            self.output += data
            self.stream.feed(data)

    def text(self) -> str:
        return "\n".join(self.screen.display)

    async def wait_for(self, text: str, seconds: float = 90.0) -> str:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            if text in self.text():
                return self.text()
            if self._reader.done():
                break
            await asyncio.sleep(0.2)
        raise AssertionError(f"{text!r} never appeared; the screen was:\n{self.text()}")

    async def type(self, text: str) -> None:
        """Keys at a person's pace: a field gets the focus before its keys arrive."""
        for char in text:
            self.process.stdin.write(char.encode())
            await asyncio.sleep(0.05)
        await asyncio.sleep(0.5)


@pytest.fixture
async def connect(ssh_server: Server) -> AsyncIterator[object]:
    connections: list[asyncssh.SSHClientConnection] = []

    async def open_connection() -> asyncssh.SSHClientConnection:
        conn = await asyncssh.connect(
            "127.0.0.1",
            ssh_server.port,
            username="resident",
            known_hosts=None,
            client_keys=None,
            agent_path=None,
        )
        connections.append(conn)
        return conn

    yield open_connection
    for conn in connections:
        conn.close()


async def _open_terminal(conn: asyncssh.SSHClientConnection) -> Terminal:
    process = await conn.create_process(term_type="xterm-256color", term_size=(80, 24), encoding=None)
    return Terminal(process)


async def _wait_until(condition: object, seconds: float = 30.0) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():  # type: ignore[operator]
            return
        await asyncio.sleep(0.2)
    raise AssertionError("the condition never held")


async def test_resident_logs_in_over_ssh_and_nothing_is_left(ssh_server: Server, connect) -> None:
    conn = await connect()
    terminal = await _open_terminal(conn)
    await terminal.wait_for(LOGIN_SCREEN)
    apps = ssh_server.apps()
    assert len(apps) == 1
    app = apps[0]
    # The apps talk to the server's one demo portal; none opens the demo's database itself.
    portals = [p for p in ssh_server.descendants() if "portal.cli" in p.cmdline()]
    assert len(portals) == 1
    assert "--server" in app.cmdline() and "--data-dir" not in app.cmdline()
    environment = app.environ()
    assert environment["KABINET_SSH"] == "1"
    assert environment["TERM"] == "xterm-256color"
    assert "UTF-8" in environment["LC_ALL"]
    assert environment["HOME"] != os.environ.get("HOME")
    # Nothing remembered from anyone: the number shows only in the demo hint, not in the field.
    assert all("Демо" in line for line in terminal.text().splitlines() if HAPPY in line)

    await terminal.type(HAPPY)
    await terminal.type("\r")
    await terminal.type(PASSWORD)
    await terminal.type("\r")
    await terminal.wait_for(f"Лицевой счет {HAPPY}")  # home

    # The window grows: the app redraws for the new size.
    terminal.screen.resize(30, 100)
    terminal.process.change_terminal_size(100, 30)
    await terminal.wait_for(f"Лицевой счет {HAPPY}")

    home = Path(environment["HOME"])
    conn.close()  # the resident closes the window
    await _wait_until(lambda: not ssh_server.apps())
    assert not app.is_running()
    await _wait_until(lambda: not home.exists())  # the session's temporary home is removed


async def test_dropped_connection_leaves_nothing_running(ssh_server: Server, connect) -> None:
    conn = await connect()
    terminal = await _open_terminal(conn)
    await terminal.wait_for(LOGIN_SCREEN)
    assert len(ssh_server.apps()) == 1
    conn.abort()  # the network goes away, no goodbye
    await _wait_until(lambda: not ssh_server.apps())


async def test_commands_forwarding_and_file_transfer_are_refused(ssh_server: Server, connect) -> None:
    conn = await connect()
    with pytest.raises(asyncssh.Error):
        await conn.run("cat /etc/passwd", check=True, timeout=30)
    with pytest.raises(asyncssh.Error):
        await conn.run("scp -f /etc/passwd", check=True, timeout=30)
    with pytest.raises(asyncssh.Error):
        await asyncio.wait_for(conn.start_sftp_client(), timeout=30)
    with pytest.raises(asyncssh.Error):
        await conn.open_connection("127.0.0.1", ssh_server.port)
    with pytest.raises(asyncssh.ChannelListenError):
        await conn.forward_remote_port("127.0.0.1", 0, "127.0.0.1", 22)
    assert not ssh_server.apps()


async def test_session_without_a_terminal_is_told_to_use_one(ssh_server: Server, connect) -> None:
    conn = await connect()
    process = await conn.create_process(encoding=None)
    output = await asyncio.wait_for(process.stdout.read(), timeout=30)
    await process.wait_closed()
    assert "ssh -t" in output.decode()
    assert process.exit_status == 1
    assert not ssh_server.apps()


async def test_sessions_per_address_are_limited(ssh_server: Server, connect) -> None:
    first = await _open_terminal(await connect())
    second = await _open_terminal(await connect())
    await first.wait_for(LOGIN_SCREEN)
    await second.wait_for(LOGIN_SCREEN)
    third_conn = await connect()
    process = await third_conn.create_process(term_type="xterm", term_size=(80, 24), encoding=None)
    output = await asyncio.wait_for(process.stdout.read(), timeout=30)
    await process.wait_closed()
    assert "предел" in output.decode() and "limit" in output.decode()
    assert process.exit_status == 1
    assert len(ssh_server.apps()) == 2


def test_host_key_is_generated_once_and_kept(tmp_path: Path) -> None:
    from tui.sshserver import load_or_create_host_key

    first = load_or_create_host_key(tmp_path / "state")
    second = load_or_create_host_key(tmp_path / "state")
    assert first.export_public_key() == second.export_public_key()
    assert first.algorithm == b"ssh-ed25519"
    assert (tmp_path / "state" / "ssh_host_ed25519_key").stat().st_mode & 0o077 == 0


# --- the server's parts, without a network -------------------------------------------------------------


class _FakeConnection:
    def __init__(self, address: str) -> None:
        self.address = address
        self.closed = False

    def get_extra_info(self, name: str, default: object = None) -> object:
        return (self.address, 50000) if name == "peername" else default

    def close(self) -> None:
        self.closed = True


def test_connections_per_address_are_capped() -> None:
    from tui.sshserver import KabinetSSHServer, ServerOptions, SessionRegistry

    registry = SessionRegistry(ServerOptions(max_connections_per_address=2))
    servers = []
    for address in ("192.0.2.1", "192.0.2.1", "192.0.2.1", "2001:db8::1", "2001:db8::2", "2001:db8::3"):
        server = KabinetSSHServer(registry)
        connection = _FakeConnection(address)
        server.connection_made(connection)  # type: ignore[arg-type]
        servers.append((server, connection))
    assert [connection.closed for _, connection in servers] == [False, False, True, False, False, True]
    # One goes away: room for another from that address.
    servers[0][0].connection_lost(None)
    servers[2][0].connection_lost(None)  # a refused one leaves nothing to count down
    again = KabinetSSHServer(registry)
    connection = _FakeConnection("192.0.2.1")
    again.connection_made(connection)  # type: ignore[arg-type]
    assert not connection.closed
    assert registry.connections_per_address["192.0.2.1"] == 2


class _FakeChannel:
    def __init__(self) -> None:
        self.paused = False
        self.exits: list[int] = []

    def get_extra_info(self, name: str, default: object = None) -> object:
        return ("127.0.0.1", 50000) if name in {"peername", "sockname"} else default

    def pause_reading(self) -> None:
        self.paused = True

    def resume_reading(self) -> None:
        self.paused = False

    def write(self, data: bytes) -> None:
        pass

    def exit(self, status: int) -> None:
        self.exits.append(status)


class _FakeServer:
    def __init__(self, options: object) -> None:
        self.options = options
        self.closed = 0

    def sessions_changed(self) -> None:
        pass

    def session_closed(self, session: object) -> None:
        self.closed += 1


async def test_a_client_typing_faster_than_the_app_reads_is_paused() -> None:
    from tui.sshserver import AppSession, ServerOptions

    session = AppSession(_FakeServer(ServerOptions()))  # type: ignore[arg-type]
    channel = _FakeChannel()
    session.connection_made(channel)  # type: ignore[arg-type]
    reader, writer = os.pipe()  # the app's side of the terminal, which nobody reads yet
    os.set_blocking(writer, False)
    session._master = writer
    try:
        for _ in range(64):
            session.data_received(b"x" * 8192, None)
        assert channel.paused
        assert len(session._pending) <= 64 * 8192
        # The app reads everything: the waiting input drains and the client may send again.
        os.set_blocking(reader, False)
        for _ in range(400):
            with contextlib.suppress(BlockingIOError):
                while os.read(reader, 65536):
                    pass
            if not channel.paused:
                break
            await asyncio.sleep(0.01)
        assert not channel.paused
    finally:
        with contextlib.suppress(ValueError, OSError):
            asyncio.get_running_loop().remove_writer(writer)
        os.close(reader)
        os.close(writer)
        session._master = None


async def test_an_app_started_after_the_connection_dropped_is_killed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import tui.sshserver as sshserver

    options = sshserver.ServerOptions(app_command=["sleep", "60"], grace_seconds=0.5)
    session = sshserver.AppSession(_FakeServer(options))  # type: ignore[arg-type]
    session.connection_made(_FakeChannel())  # type: ignore[arg-type]
    session._term = "xterm"
    started: list[asyncio.subprocess.Process] = []
    real_exec = asyncio.create_subprocess_exec

    async def exec_while_the_connection_drops(*args: object, **kwargs: object) -> asyncio.subprocess.Process:
        process = await real_exec(*args, **kwargs)  # type: ignore[arg-type]
        started.append(process)
        await session.close()  # the client went away while the app was starting
        return process

    monkeypatch.setattr(sshserver.asyncio, "create_subprocess_exec", exec_while_the_connection_drops)
    await session._spawn()
    assert started and started[0].returncode is not None  # killed, not left running
    assert session._process is None and session._master is None
