"""End to end over SSH: ``kabinet serve-ssh`` on a loopback port, a real SSH client (asyncssh's) with a
pseudo-terminal, the screen read through a terminal emulator (pyte), as a resident would see it."""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import os
import shutil
import socket
import subprocess
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import asyncssh
import psutil
import pytest

from tests.support.app import HAPPY, PASSWORD

if TYPE_CHECKING:
    from hosting.sshserver import KabinetSSHServer, SessionRegistry
from tests.support.ssh import (
    LOGIN_SCREEN,
    Server,
    Terminal,
    open_terminal,
    ssh_connect,
    start_server,
    stop,
    wait_until,
)

pytestmark = pytest.mark.slow


@pytest.fixture
def ssh_server(tmp_path: Path, app_data_dir: Path) -> Iterator[Server]:
    # Fresh app processes, whose command line and environment psutil reads (tests/e2e/test_fork_sessions.py
    # runs the forked ones).
    server = start_server(tmp_path, app_data_dir, "--max-per-address", "2", "--no-fork")
    yield server
    apps = server.descendants()
    stop(server)
    _gone, alive = psutil.wait_procs(apps, timeout=10)
    assert not alive, f"left running after shutdown: {alive}"


#: The ``connect`` fixture: opens a new SSH connection to the test server (closed after the test).
Connector = Callable[[], Awaitable[asyncssh.SSHClientConnection]]


@pytest.fixture
async def connect(ssh_server: Server) -> AsyncIterator[Connector]:
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


async def test_resident_logs_in_over_ssh_and_nothing_is_left(ssh_server: Server, connect: Connector) -> None:
    conn = await connect()
    terminal = await open_terminal(conn)
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
    assert home.parent.parent == ssh_server.state_dir / "sessions"
    conn.close()  # the resident closes the window
    # psutil's wait returns when the app exits, not when the server reaps it: it may be a zombie still.
    await asyncio.to_thread(app.wait, 30)
    # The server ends a session in order: the app's process group ended and reaped (asyncio's wait on
    # it returns once reaped), then the session's temporary home removed. So once the home is gone,
    # nothing of the session may be left, not even a zombie.
    await wait_until(lambda: not home.exists())
    assert not ssh_server.apps()


async def test_dropped_connection_leaves_nothing_running(ssh_server: Server, connect: Connector) -> None:
    conn = await connect()
    terminal = await open_terminal(conn)
    await terminal.wait_for(LOGIN_SCREEN)
    assert len(ssh_server.apps()) == 1
    conn.abort()  # the network goes away, no goodbye
    await wait_until(lambda: not ssh_server.apps())


async def test_commands_forwarding_and_file_transfer_are_refused(
    ssh_server: Server, connect: Connector
) -> None:
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


async def test_session_without_a_terminal_is_told_to_use_one(ssh_server: Server, connect: Connector) -> None:
    conn = await connect()
    process = await conn.create_process(encoding=None)
    output = await asyncio.wait_for(process.stdout.read(), timeout=30)
    await process.wait_closed()
    assert "ssh -t" in output.decode()
    assert process.exit_status == 1
    assert not ssh_server.apps()


async def test_sessions_per_address_are_limited(ssh_server: Server, connect: Connector) -> None:
    first = await open_terminal(await connect())
    second = await open_terminal(await connect())
    await first.wait_for(LOGIN_SCREEN)
    await second.wait_for(LOGIN_SCREEN)
    third_conn = await connect()
    process = await third_conn.create_process(term_type="xterm", term_size=(80, 24), encoding=None)
    output = await asyncio.wait_for(process.stdout.read(), timeout=30)
    await process.wait_closed()
    assert "предел" in output.decode() and "limit" in output.decode()
    assert process.exit_status == 1
    assert len(ssh_server.apps()) == 2


# --- floods and locks, as an outsider would try -----------------------------------------------------

MIB = 1024 * 1024
TEXT_KEYS = b"0123456789 abcdefghijklmnopqrstuvwxyz "
MOVE_KEYS = b"\t\x1b[B\x1b[A\t\x1b[Z\x1b[C\x1b[D"  # Tab, arrows, Shift+Tab: focus moves and redraws


async def _flood(server: Server, terminal: Terminal, keys: bytes, total: int, seconds: float = 90) -> int:
    """Send ``total`` bytes of ``keys`` as fast as the server takes them, for at most ``seconds``, and
    wait until the server ends the session (if it does within the time); the app's peak RSS."""
    [app] = server.apps()
    peak = app.memory_info().rss
    chunk = (keys * (32768 // len(keys) + 1))[:32768]
    sent = 0
    deadline = time.monotonic() + seconds
    while sent < total and not terminal._reader.done() and time.monotonic() < deadline:
        terminal.process.stdin.write(chunk)
        sent += len(chunk)
        while not terminal._reader.done() and time.monotonic() < deadline:
            with contextlib.suppress(psutil.Error):
                peak = max(peak, app.memory_info().rss)
            try:
                await asyncio.wait_for(terminal.process.stdin.drain(), timeout=0.1)
                break
            except TimeoutError:
                continue
            except (asyncssh.Error, OSError):
                break
    while not terminal._reader.done() and time.monotonic() < deadline:  # the app may still be busy
        with contextlib.suppress(psutil.Error):
            peak = max(peak, app.memory_info().rss)
        await asyncio.sleep(0.1)
    return int(peak)


async def test_a_keystroke_flood_ends_the_session_and_the_app_stays_small(
    ssh_server: Server, connect: Connector
) -> None:
    terminal = await open_terminal(await connect())
    await terminal.wait_for(LOGIN_SCREEN)
    [app] = ssh_server.apps()
    peak = await _flood(ssh_server, terminal, TEXT_KEYS, 2 * MIB)
    assert terminal._reader.done(), "the flood went on and the server never ended it"
    assert peak < 150 * MIB  # it was ~730 MB after 40 s of a 2 MB flood, and growing
    await asyncio.to_thread(app.wait, 30)
    said = terminal.output.decode("utf-8", "replace")
    assert "быстрее, чем может печатать человек" in said and "faster than a person can type" in said
    assert ssh_server.process.poll() is None
    # Everyone else is still served.
    other = await open_terminal(await connect())
    await other.wait_for(LOGIN_SCREEN)


@pytest.mark.xfail(
    strict=False,
    reason=(
        "known defect, open: with the server's rate limit switched off, 25 s of Tab/arrow keys still grow"
        " the app by ~3 MB/s (peak 117 MB on the SSH branch alone, ~155 MB after the key-order and relabel "
        "changes); with the default limits a flood is ended after 10 s (bench/ssh_flood.py: 49-101 MB)"
    ),
)
async def test_an_app_reads_keys_no_faster_than_it_handles_them(tmp_path: Path, app_data_dir: Path) -> None:
    # The server passes everything at once and never ends a flood: only the app's own pace keeps it small.
    server = start_server(
        tmp_path,
        app_data_dir,
        *["--input-rate", "100000000", "--input-burst", "100000000", "--flood-seconds", "600"],
    )
    try:
        conn = await ssh_connect(server.port)
        terminal = await open_terminal(conn)
        await terminal.wait_for(LOGIN_SCREEN)
        # Keys that cost the app a redraw each, for 25 s: it grew to ~200 MB reading them unpaced.
        peak = await _flood(server, terminal, MOVE_KEYS, 50 * MIB, seconds=25)
        assert peak < 150 * MIB
        assert not terminal._reader.done()  # still served, at the app's pace
        conn.close()
    finally:
        stop(server)


def _is_dir(path: Path) -> bool:
    return path.is_dir()


def _closed(sock: socket.socket) -> bool:
    try:
        while sock.recv(65536):
            pass
    except BlockingIOError:
        return False
    except OSError:
        return True
    return True


async def test_silent_connections_do_not_lock_residents_out(tmp_path: Path, app_data_dir: Path) -> None:
    server = start_server(tmp_path, app_data_dir, "--login-timeout", "5")
    silent: list[socket.socket] = []
    try:
        # 100 connections from 10 addresses that never say a word.
        for n in range(100):
            sock = socket.socket()
            sock.bind((f"127.0.0.{2 + n % 10}", 0))
            sock.connect(("127.0.0.1", server.port))
            sock.setblocking(False)
            silent.append(sock)
        # The rest are refused as they come (waited for as an event, not a fixed half second: under the
        # parallel suite's load the server may take longer to get to them).
        await wait_until(lambda: sum(not _closed(sock) for sock in silent) <= 30, seconds=10)
        # One from a flooding address is told why, in words, before anything else.
        with pytest.raises(asyncssh.DisconnectError) as refused:
            await ssh_connect(server.port, "127.0.0.2")
        assert "Too many connections from your address" in refused.value.reason
        raw = socket.create_connection(
            ("127.0.0.1", server.port), timeout=10, source_address=("127.0.0.3", 0)
        )
        with raw:
            first = raw.recv(4096)
        assert first.decode("utf-8", "replace").startswith("Слишком много подключений с вашего адреса")
        if shutil.which("ssh"):  # and the real OpenSSH client prints it
            # The server closes gently after its disconnect (FIN, then reads what the client still sends):
            # closed at once, the kernel answered the client's unread key exchange offer with RST and
            # OpenSSH said "Broken pipe" instead of the reason (2 runs in 5 under load). Every client now
            # prints the reason, and none a broken banner.
            for _ in range(3):
                ssh = await asyncio.create_subprocess_exec(
                    *["ssh", "-b", "127.0.0.4", "-p", str(server.port), "-o", "BatchMode=yes"],
                    *["-o", "StrictHostKeyChecking=no", "-o", "UserKnownHostsFile=/dev/null"],
                    "x@127.0.0.1",
                    stdin=subprocess.DEVNULL,
                    stdout=subprocess.PIPE,
                    stderr=subprocess.PIPE,
                )
                _, errors = await asyncio.wait_for(ssh.communicate(), timeout=30)
                said = errors.decode()
                assert "invalid characters" not in said
                assert "Too many connections from your address" in said, said
        # A resident from another address gets the login screen all the same.
        conn = await ssh_connect(server.port)
        terminal = await open_terminal(conn)
        await terminal.wait_for(LOGIN_SCREEN)
        # The silent ones lose their slots after the login timeout; their addresses may connect again.
        await wait_until(lambda: all(_closed(sock) for sock in silent), seconds=30)
        again = await open_terminal(await ssh_connect(server.port, "127.0.0.2"))
        await again.wait_for(LOGIN_SCREEN)
    finally:
        for sock in silent:
            sock.close()
        stop(server)


async def test_homes_a_killed_server_left_are_removed_on_the_next_start(
    tmp_path: Path, app_data_dir: Path
) -> None:
    server = start_server(tmp_path, app_data_dir)
    conn = await ssh_connect(server.port)
    terminal = await open_terminal(conn)
    await terminal.wait_for(LOGIN_SCREEN)
    children = server.descendants()
    [app] = server.apps()
    home = Path(app.cwd())  # its home (a forked app's environ in /proc is the fork server's)
    # Another server with the same state folder, still running: what is its own is kept.
    other = server.state_dir / "sessions" / "server-other"
    (other / "home-x").mkdir(parents=True)
    lock = os.open(other / ".lock", os.O_RDWR | os.O_CREAT, 0o600)
    fcntl.flock(lock, fcntl.LOCK_EX)
    try:
        server.process.kill()  # kill -9: no cleanup of its own
        server.process.wait()
        conn.close()
        _gone, alive = await asyncio.to_thread(psutil.wait_procs, children, 30)
        assert not alive  # the apps and the demo portal die with it
        assert _is_dir(home)  # but the session's home is left behind
        again = start_server(tmp_path, app_data_dir)
        try:
            assert not _is_dir(home) and not _is_dir(home.parent)
            assert _is_dir(other / "home-x")
            assert "removed 1 session folder" in "".join(again.output)
        finally:
            stop(again)
    finally:
        os.close(lock)


def test_host_key_is_generated_once_and_kept(tmp_path: Path) -> None:
    from hosting.sshserver import load_or_create_host_key

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
        self.reasons: list[str] = []

    def get_extra_info(self, name: str, default: object = None) -> object:
        return (self.address, 50000) if name == "peername" else default

    def close(self) -> None:
        self.closed = True

    def disconnect(self, code: int, reason: str, lang: str = "en-US") -> None:
        self.reasons.append(reason)
        self.closed = True


def _fake_connections(
    registry: SessionRegistry, *addresses: str
) -> list[tuple[KabinetSSHServer, _FakeConnection]]:
    from hosting.sshserver import KabinetSSHServer

    made: list[tuple[KabinetSSHServer, _FakeConnection]] = []
    for address in addresses:
        server = KabinetSSHServer(registry)
        connection = _FakeConnection(address)
        server.connection_made(connection)  # type: ignore[arg-type]
        made.append((server, connection))
    return made


async def test_connections_per_address_are_capped() -> None:
    from hosting.sshserver import ServerOptions, SessionRegistry

    registry = SessionRegistry(ServerOptions(max_connections_per_address=2))
    servers = _fake_connections(
        registry, "192.0.2.1", "192.0.2.1", "192.0.2.1", "2001:db8::1", "2001:db8::2", "2001:db8::3"
    )
    await asyncio.sleep(0)  # the refusal is sent once asyncssh has sent its version
    assert [connection.closed for _, connection in servers] == [False, False, True, False, False, True]
    assert "Too many connections from your address" in servers[2][1].reasons[0]
    # One goes away: room for another from that address.
    servers[0][0].connection_lost(None)
    servers[2][0].connection_lost(None)  # a refused one has nothing to count down
    [(_, connection)] = _fake_connections(registry, "192.0.2.1")
    await asyncio.sleep(0)
    assert not connection.closed
    assert registry.connections_per_address["192.0.2.1"] == 2
    for server, _ in servers:
        server.connection_lost(None)


async def test_handshakes_are_limited_per_address_and_a_newcomer_pushes_out_the_busiest() -> None:
    from hosting.sshserver import ServerOptions, SessionRegistry

    registry = SessionRegistry(ServerOptions(max_handshakes=6, max_handshakes_per_address=3))
    # Silent connections: three addresses fill every handshake slot; a fourth from one of them is refused.
    silent = _fake_connections(registry, *[f"192.0.2.{n}" for n in (1, 1, 1, 2, 2, 3)])
    [(_, fourth)] = _fake_connections(registry, "192.0.2.1")
    await asyncio.sleep(0)
    assert fourth.closed and "Slishkom mnogo podkliuchenii" in fourth.reasons[0]
    assert not any(connection.closed for _, connection in silent)
    # Someone new gets in: the oldest handshake of the address holding the most makes room.
    [(newcomer, arrived)] = _fake_connections(registry, "198.51.100.7")
    await asyncio.sleep(0)
    assert not arrived.closed
    assert [connection.closed for _, connection in silent] == [True, False, False, False, False, False]
    assert "The server is busy" in silent[0][1].reasons[0]
    assert len(registry.handshakes) == 6 and registry.handshakes_per_address["192.0.2.1"] == 2
    # An address that already holds the most cannot push anyone out: it is told the server is busy.
    [(_, greedy)] = _fake_connections(registry, "192.0.2.2")
    await asyncio.sleep(0)
    assert greedy.closed and "The server is busy" in greedy.reasons[0]
    # Once a connection runs its app it no longer holds a handshake slot.
    registry.handshake_done(newcomer)
    assert len(registry.handshakes) == 5
    for server, _ in [*silent, (newcomer, arrived)]:
        server.connection_lost(None)
    assert not registry.handshakes and not registry.connections


async def test_a_connection_without_an_app_is_closed_after_the_login_timeout() -> None:
    from hosting.sshserver import ServerOptions, SessionRegistry

    registry = SessionRegistry(ServerOptions(login_timeout=0.2))
    [(server, connection)] = _fake_connections(registry, "192.0.2.1")
    await wait_until(lambda: connection.closed, seconds=10)
    server.connection_lost(None)
    assert not registry.handshakes


def test_a_refusal_is_readable_to_openssh_and_in_utf8_before_the_version() -> None:
    from hosting.sshserver import _refusal_words

    line, reason = _refusal_words("ssh.too_many_connections")
    assert line.decode().startswith("Слишком много подключений с вашего адреса")
    assert line.endswith(b"\r\n") and not line.startswith(b"SSH-")
    assert reason.isascii() and reason.startswith("Slishkom mnogo podkliuchenii s vashego adresa")
    assert reason.endswith("Too many connections from your address. Please try again later.")


def test_input_is_cut_between_key_sequences() -> None:
    from hosting.sessions import cut_point as _cut_point

    keys = bytearray(b"ab\x1b[Acd\x1b[<35;10;20M")
    assert _cut_point(keys, 100) == len(keys)
    assert _cut_point(keys, 3) == 2  # not inside the arrow's sequence
    assert _cut_point(keys, 2) == 2
    assert _cut_point(keys, 9) == 7  # not inside the mouse report
    assert _cut_point(bytearray(b"\x1b[<35;10;20M"), 5) == 0  # wait for more room
    assert _cut_point(bytearray(b"x" * 500), 100) == 100


class _FakeChannel:
    def __init__(self) -> None:
        self.paused = False
        self.exits: list[int] = []
        self.written = bytearray()

    def get_extra_info(self, name: str, default: object = None) -> object:
        return ("127.0.0.1", 50000) if name in {"peername", "sockname"} else default

    def pause_reading(self) -> None:
        self.paused = True

    def resume_reading(self) -> None:
        self.paused = False

    def write(self, data: bytes) -> None:
        self.written += data

    def exit(self, status: int) -> None:
        self.exits.append(status)


class _FakeServer:
    def __init__(self, options: object, home: Path | None = None) -> None:
        from hosting.sshserver import make_launcher

        self.options = options
        self.home = home
        self.closed = 0
        self.launcher = make_launcher(options)  # type: ignore[arg-type]

    def new_home(self) -> Path:
        assert self.home is not None
        self.home.mkdir()
        return self.home

    def sessions_changed(self) -> None:
        pass

    def session_closed(self, session: object) -> None:
        self.closed += 1


def _drain(reader: int) -> int:
    taken = 0
    with contextlib.suppress(BlockingIOError):
        while chunk := os.read(reader, 65536):
            taken += len(chunk)
    return taken


async def test_a_client_typing_faster_than_the_app_reads_is_paused() -> None:
    from hosting.sshserver import AppSession, ServerOptions

    # No rate limit here: only the app's pace holds the client back.
    options = ServerOptions(input_rate=10**9, input_burst=10**9, flood_seconds=600)
    session = AppSession(_FakeServer(options))  # type: ignore[arg-type]
    channel = _FakeChannel()
    session.connection_made(channel)  # type: ignore[arg-type]
    reader, writer = os.pipe()  # the app's side of the terminal, which nobody reads yet
    os.set_blocking(writer, False)
    os.set_blocking(reader, False)
    session._master = writer
    try:
        sent = 0
        while not channel.paused:  # asyncssh stops delivering once paused
            session.data_received(b"x" * 8192, None)
            sent += 8192
            assert sent < 16 * 1024 * 1024, "never paused"
        assert len(session._pending) <= 64 * 1024
        # The app reads everything: the waiting input drains and the client may send again.
        taken = 0
        for _ in range(400):
            taken += _drain(reader)
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


async def test_keystrokes_beyond_the_rate_are_held_back_and_a_flood_ends_the_session(tmp_path: Path) -> None:
    from hosting.sshserver import AppSession, ServerOptions

    options = ServerOptions(input_rate=1000, input_burst=2000, flood_seconds=1.0, grace_seconds=0.1)
    server = _FakeServer(options)
    session = AppSession(server)  # type: ignore[arg-type]
    channel = _FakeChannel()
    session.connection_made(channel)  # type: ignore[arg-type]
    reader, writer = os.pipe()  # an app that reads all it gets
    os.set_blocking(writer, False)
    os.set_blocking(reader, False)
    session._master = writer
    try:
        # A paste of a few hundred characters goes through at once.
        session.data_received(b"p" * 300, None)
        assert _drain(reader) == 300
        # A flood: the burst goes, the rest waits, the client is paused and nothing piles up.
        for _ in range(8):
            if not channel.paused:
                session.data_received(b"k" * 8192, None)
        assert channel.paused
        assert len(session._pending) <= 64 * 1024
        taken = _drain(reader)
        assert 1500 <= taken <= 2100
        # Kept waiting for longer than flood_seconds: the session ends with a message.
        for _ in range(500):
            _drain(reader)
            if server.closed:
                break
            if not channel.paused:
                session.data_received(b"k" * 8192, None)
            await asyncio.sleep(0.01)
        assert server.closed == 1 and channel.exits == [1]
        text = channel.written.decode()
        assert "быстрее, чем может печатать человек" in text and "faster than a person can type" in text
        assert channel.written.startswith(b"\x1b[?1000l")  # the terminal set back before the words
        assert session.input_passed < session.input_received
    finally:
        with contextlib.suppress(ValueError, OSError):
            asyncio.get_running_loop().remove_writer(writer)
        os.close(reader)
        with contextlib.suppress(OSError):
            os.close(writer)
        session._master = None


async def test_an_app_started_after_the_connection_dropped_is_killed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import hosting.sshserver as sshserver

    options = sshserver.ServerOptions(app_command=["sleep", "60"], grace_seconds=0.5)
    session = sshserver.AppSession(_FakeServer(options, tmp_path / "home"))  # type: ignore[arg-type]
    session.connection_made(_FakeChannel())  # type: ignore[arg-type]
    session._term = "xterm"
    started: list[asyncio.subprocess.Process] = []
    real_exec = asyncio.create_subprocess_exec

    async def exec_while_the_connection_drops(*args: object, **kwargs: object) -> asyncio.subprocess.Process:
        process = await real_exec(*args, **kwargs)  # type: ignore[arg-type]
        started.append(process)
        await session.close()  # the client went away while the app was starting
        return process

    monkeypatch.setattr("hosting.sshserver.asyncio.create_subprocess_exec", exec_while_the_connection_drops)
    await session._spawn()
    assert started and started[0].returncode is not None  # killed, not left running
    assert session._process is None and session._master is None
