"""``kabinet serve-ssh``: the app over SSH, one app process per connection, nothing else.

A resident types ``ssh -p 2222 kabinet.example.ru`` and sees the login screen. For each connection
the server starts ``python app.py`` on a pseudo-terminal of its own, sized like the client's window
and resized with it, and carries bytes both ways. What an SSH server usually offers is refused:

- no shell and no commands (``exec`` requests are refused, so are ``scp`` and ``sftp``), no port,
  socket, X11, agent or tun/tap forwarding;
- no SSH authentication of its own: any user name is accepted without a password (the app has its
  own login, by account number and password), so the SSH user name means nothing;
- limits: at most ``--max-sessions`` app processes in all and ``--max-per-address`` per client
  address (a refused session gets one line saying why), at most ``--max-connections-per-address``
  open connections per client address; at most ``--max-handshakes-per-address`` connections per
  address and ``--max-handshakes`` in all that have no app yet, each for at most ``--login-timeout``
  seconds (a newcomer pushes out the oldest of the address holding the most); a refused connection
  is told why in words before it is closed; a connection with no input for ``--idle-minutes`` is
  closed;
- keystrokes reach an app at most at ``--input-rate`` bytes a second after a burst (Textual queues an
  event per key, so a flood would grow the app without end): the client is paused meanwhile, and one
  held back for ``flood_seconds`` without a break is disconnected with a message;
- every app is started with ``KABINET_SSH=1``: like a kiosk it remembers no account number and ends
  an idle resident's session (``idle_timeout_seconds``, wiping every screen), and knows that files it
  saves land on the server;
- the app's home, config and download folders are a temporary folder per session in
  ``STATE/sessions``, removed when the session ends; the next start removes those of a killed server;
- without ``--server`` the server starts ONE demo portal for all its apps
  (``kabinet-portal serve --demo`` on a free loopback port, its data in the state folder), waits until
  it answers ``/api/v1/health``, hands every app ``--server http://127.0.0.1:PORT`` and stops it on
  shutdown (apps never open the demo's SQLite file themselves);
- when the connection ends, however it ends, the app's process group gets SIGHUP and, after
  ``--grace`` seconds, SIGKILL; the pseudo-terminal's hangup and ``PR_SET_PDEATHSIG`` cover a server
  that is itself killed. SIGTERM or SIGINT stops the server the same way for every session.

The host key (ed25519) is generated on the first start in the state folder and kept. What this server shares
with ``kabinet serve-web`` (the limits, the homes, starting and ending apps, the demo portal, the command
line's common options) is :mod:`hosting.sessions`; the SSH protocol and pseudo-terminals are here.

This module imports neither Textual nor the portal.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import fcntl
import os
import re
import shutil
import signal
import struct
import sys
import tempfile
import termios
import time
from collections import Counter
from collections.abc import Callable, Coroutine
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Final

import asyncssh
import platformdirs

from hosting import sessions
from hosting.forkserver import AppProcess, ForkLauncher, FreshLauncher, Launch
from hosting.sessions import SessionHomes, SessionOptions, bilingual
from tui.i18n import Translator

DEFAULT_PORT: Final = 2222
HOST_KEY_NAME: Final = "ssh_host_ed25519_key"
_TERM_NAME: Final = re.compile(r"[A-Za-z0-9][A-Za-z0-9._+-]{0,63}")
_READ_SIZE: Final = 65536
_PENDING_HIGH: Final = 16384
"""Client input waiting for the app above this many bytes: stop reading from the client."""
_PENDING_LOW: Final = 4096
"""…and read again once the app has taken the waiting input down to this."""
_CHANNEL_WINDOW: Final = 65536
"""The SSH window of a session: what a paused client may still have in flight (asyncssh's default: 2 MiB)."""
_FLUSH_TICK: Final = 0.05
_TERMINAL_RESET: Final = (
    b"\x1b[?1000l\x1b[?1002l\x1b[?1003l\x1b[?1006l\x1b[?1015l\x1b[?1004l\x1b[?2004l"
    b"\x1b[0m\x1b[?25h\x1b[?1049l"
)
"""Mouse reports, focus reports and bracketed paste off, cursor shown, the main screen back: the client's
terminal as the app found it, for a message written after the app is gone."""


def default_state_dir() -> Path:
    """``<user state>/kabinet/ssh``: the host key and the embedded demo portal's data."""
    return platformdirs.user_state_path("kabinet") / "ssh"


@dataclass
class ServerOptions(SessionOptions):
    """How ``kabinet serve-ssh`` runs; the command line fills it (see :func:`build_parser`)."""

    host: str = ""
    port: int = DEFAULT_PORT
    state_dir: Path = field(default_factory=default_state_dir)
    """The host key, the sessions' homes and the demo portal's data."""
    max_connections_per_address: int = 10
    """Open SSH connections per client address (with or without a session); more are closed at once."""
    login_timeout: float = 20.0
    """Seconds from the TCP connection to a running app: the SSH handshake and the session request. It
    includes a first-time OpenSSH user's answer to "Are you sure you want to continue connecting?"."""
    max_handshakes: int = 30
    """Connections still in the handshake (no app yet) in all; a newcomer pushes out the oldest one of the
    address that has the most, or is refused if its own address has the most."""
    max_handshakes_per_address: int = 3
    app_command: list[str] | None = None
    """The program to run instead of the app (tests); the default is this Python running app.py."""


def load_or_create_host_key(state_dir: Path) -> asyncssh.SSHKey:
    """The server's ed25519 host key from ``state_dir``, generated (mode 0600) on the first start."""
    state_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    path = state_dir / HOST_KEY_NAME
    if path.exists():
        return asyncssh.read_private_key(path)
    key = asyncssh.generate_private_key("ssh-ed25519")
    temporary = path.with_name(f".{path.name}.tmp")
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "wb") as stream:
        stream.write(key.export_private_key())
    os.replace(temporary, path)
    path.with_name(f"{path.name}.pub").write_bytes(key.export_public_key())
    return key


_TASKS: set[asyncio.Task[Any]] = set()


def _background(work: Coroutine[Any, Any, Any]) -> None:
    """Run ``work`` on the loop, holding a reference until it is done (the loop holds only weak ones)."""
    task = asyncio.get_running_loop().create_task(work)
    _TASKS.add(task)
    task.add_done_callback(_TASKS.discard)


_LATIN: Final = str.maketrans(
    {
        **dict(zip("абвгдезийклмнопрстуфыэ", "abvgdeziiklmnoprstufye", strict=True)),
        **{"ё": "e", "ж": "zh", "х": "kh", "ц": "ts", "ч": "ch", "ш": "sh", "щ": "shch"},
        **{"ъ": "", "ь": "", "ю": "iu", "я": "ia", "«": '"', "»": '"', "—": "-", "–": "-", "\u00a0": " "},
    }
)


def _ascii(text: str) -> str:
    """Russian in Latin letters (ICAO-like): OpenSSH prints a disconnect reason's other bytes as octal."""
    letters = []
    for char in text:
        latin = char.lower().translate(_LATIN)
        letters.append(latin.capitalize() if char.isupper() else latin)
    return "".join(letters).encode("ascii", "replace").decode("ascii")


def _refusal_words(key: str) -> tuple[bytes, str]:
    """A refused connection's reason: a UTF-8 line sent before the SSH version (RFC 4253 4.2: shown
    by netcat or telnet, by ``ssh -v``) and the ASCII text of the SSH disconnect that OpenSSH prints."""
    russian, english = Translator("ru")(key), Translator("en")(key)
    return f"{russian} / {english}\r\n".encode(), f"{_ascii(russian)} / {english}"


class AppSession(asyncssh.SSHServerSession[bytes]):
    """One SSH session: the app on a pseudo-terminal, bytes carried both ways, killed when it ends."""

    def __init__(self, server: KabinetSSHServer) -> None:
        self._server = server
        self._options = server.options
        self._chan: asyncssh.SSHServerChannel[bytes] | None = None
        self._term: str | None = None
        self._size: tuple[int, int] = (80, 24)
        self._master: int | None = None
        self._process: AppProcess | None = None
        self._home: Path | None = None
        self._pending = bytearray()
        self._input_paused = False
        self._writer_waiting = False
        self._flush_timer: asyncio.TimerHandle | None = None
        self._rate = sessions.KeyRate(self._options)
        self._held_back_since: float | None = None
        self._reading = False
        self._closed = False
        self.counted = False
        self.last_input = time.monotonic()
        self.input_received = 0
        """Bytes the client sent once its app was running."""
        self.input_passed = 0
        """…and how many of them reached the app."""

    # --- what the client asks for ------------------------------------------------------------------

    def connection_made(self, chan: asyncssh.SSHServerChannel[bytes]) -> None:
        self._chan = chan

    def pty_requested(self, term_type: str, term_size: tuple[int, int, int, int], term_modes: Any) -> bool:
        self._term = term_type if _TERM_NAME.fullmatch(term_type or "") else "xterm-256color"
        width, height = term_size[0], term_size[1]
        if width > 0 and height > 0:
            self._size = (min(width, 1000), min(height, 1000))
        return True

    def shell_requested(self) -> bool:
        return True

    def exec_requested(self, command: str) -> bool:
        return False  # no commands: the session is the app or nothing (scp arrives here too)

    def subsystem_requested(self, subsystem: str) -> bool:
        return False  # no sftp

    def break_received(self, msec: int) -> bool:
        return False

    def signal_received(self, signal: str) -> None:
        pass  # the client does not get to signal the app

    def session_started(self) -> None:
        _background(self._start())

    def terminal_size_changed(self, width: int, height: int, pixwidth: int, pixheight: int) -> None:
        if width > 0 and height > 0:
            self._size = (min(width, 1000), min(height, 1000))
            self._apply_size()
            if self._process is not None and self._process.returncode is None:
                with contextlib.suppress(ProcessLookupError, PermissionError):
                    os.killpg(self._process.pid, signal.SIGWINCH)

    def data_received(self, data: bytes, datatype: int | None) -> None:
        self.last_input = time.monotonic()
        if self._master is None or self._closed:
            return
        self.input_received += len(data)
        self._pending += data
        if len(self._pending) > _PENDING_HIGH and not self._input_paused and self._chan is not None:
            self._input_paused = True
            self._chan.pause_reading()  # the client's window fills: it stops sending
        self._flush_input()

    def eof_received(self) -> bool:
        return False

    def connection_lost(self, exc: Exception | None) -> None:
        _background(self.close())

    # --- the app ------------------------------------------------------------------------------------

    async def _start(self) -> None:
        chan = self._chan
        assert chan is not None
        if self._term is None:
            chan.write(bilingual("ssh.needs_terminal"))
            chan.exit(1)
            return
        refusal = self._server.admit(self)
        if refusal is not None:
            chan.write(refusal)
            chan.exit(1)
            return
        self.counted = True
        try:
            await self._spawn()
        except Exception as exc:
            print(f"kabinet serve-ssh: cannot start the app: {exc}", file=sys.stderr, flush=True)
            await self.close(status=1)

    def _environment(self) -> dict[str, str]:
        assert self._home is not None and self._chan is not None
        peer = self._chan.get_extra_info("peername") or ("", 0)
        local = self._chan.get_extra_info("sockname") or ("", 0)
        env = sessions.app_environment(self._home, self._term or "xterm-256color")
        env["COLORTERM"] = "truecolor" if "256color" in (self._term or "") else ""
        env["SSH_CONNECTION"] = f"{peer[0]} {peer[1]} {local[0]} {local[1]}"
        env["SSH_CLIENT"] = f"{peer[0]} {peer[1]} {local[1]}"
        return {name: value for name, value in env.items() if value}

    def _arguments(self) -> list[str]:
        """The app's arguments (the launcher knows the program: app_command, app.py or the fork server)."""
        if self._options.app_command:
            return []
        return sessions.app_arguments(self._options)

    async def _spawn(self) -> None:
        self._home = self._server.new_home()
        master, slave = os.openpty()
        self._master = master
        self._apply_size()
        os.set_blocking(master, False)
        try:
            # Its own session and process group (killed as a whole), the pty its controlling terminal,
            # a death signal: forked from the fork server, or a fresh process (hosting/forkserver.py).
            process = await self._server.launcher.start(
                Launch(
                    argv=self._arguments(),
                    env=self._environment(),
                    cwd=str(self._home),
                    stdin=slave,
                    stdout=slave,
                    stderr=slave,
                    controlling_tty=True,
                )
            )
        finally:
            os.close(slave)
        if self._closed or self._master is None:
            # The connection went away while the app was starting: close() found no process to end.
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(process.pid, signal.SIGKILL)
            await process.wait()
            return
        self._process = process
        self._server.sessions_changed()
        asyncio.get_running_loop().add_reader(self._master, self._read_output)
        self._reading = True
        _background(self._wait_for_exit())

    def _apply_size(self) -> None:
        if self._master is None:
            return
        width, height = self._size
        with contextlib.suppress(OSError):
            fcntl.ioctl(self._master, termios.TIOCSWINSZ, struct.pack("HHHH", height, width, 0, 0))

    def _read_output(self) -> None:
        assert self._master is not None and self._chan is not None
        try:
            data = os.read(self._master, _READ_SIZE)
        except BlockingIOError:
            return
        except OSError:  # EIO: the app closed its terminal
            data = b""
        if not data:
            self._stop_reading()
            return
        self._chan.write(data)

    def _stop_reading(self) -> None:
        if self._reading and self._master is not None:
            asyncio.get_running_loop().remove_reader(self._master)
            self._reading = False

    def pause_writing(self) -> None:
        self._stop_reading()  # the client is slow: let the pty buffer fill and the app wait

    def resume_writing(self) -> None:
        if not self._reading and self._master is not None and not self._closed:
            asyncio.get_running_loop().add_reader(self._master, self._read_output)
            self._reading = True

    def _flush_input(self) -> None:
        """Pass waiting input to the app: no faster than ``input_rate`` and only as fast as it reads.

        Textual queues an event per key (the app reads its terminal only as fast as it handles them,
        see ``widgets.paced_input``). The client is paused (``pause_reading``) while input waits, and
        one that keeps input waiting, over the rate or beyond what the app takes, without a break for
        ``flood_seconds`` is disconnected: a person's keys never pile up like that.
        """
        if self._master is None or self._closed or self._writer_waiting or not self._pending:
            return
        options = self._options
        now = time.monotonic()
        allowed = self._rate.allowance(self._pending, now)
        written = 0
        if allowed:
            try:
                written = os.write(self._master, memoryview(self._pending)[:allowed])
            except BlockingIOError:
                written = 0
            except OSError:  # the app closed its terminal
                self._pending.clear()
                self._resume_input()
                return
            del self._pending[:written]
            self._rate.spend(written)
            self.input_passed += written
        if not self._pending:
            self._held_back_since = None
        else:
            if self._held_back_since is None:
                self._held_back_since = now
            elif now - self._held_back_since > options.flood_seconds:
                self._end_flood()
                return
            if written < allowed:  # the app's terminal is full: wait until the app reads
                self._writer_waiting = True
                asyncio.get_running_loop().add_writer(self._master, self._writer_ready)
            elif self._flush_timer is None:  # more than the rate allows: wait for it
                self._flush_timer = asyncio.get_running_loop().call_later(_FLUSH_TICK, self._flush_later)
        if len(self._pending) <= _PENDING_LOW:
            self._resume_input()

    def _flush_later(self) -> None:
        self._flush_timer = None
        self._flush_input()

    def _end_flood(self) -> None:
        dropped = self.input_received - self.input_passed
        print(
            f"kabinet serve-ssh: session ended for an input flood: input {self.input_passed} bytes passed "
            f"to the app, {dropped} bytes dropped",
            flush=True,
        )
        self._pending.clear()
        _background(self.close(status=1, message=bilingual("ssh.input_flood")))

    def _resume_input(self) -> None:
        if self._input_paused and not self._closed and self._chan is not None:
            self._input_paused = False
            self._chan.resume_reading()

    def _writer_ready(self) -> None:
        assert self._master is not None
        asyncio.get_running_loop().remove_writer(self._master)
        self._writer_waiting = False
        self._flush_input()

    async def _wait_for_exit(self) -> None:
        assert self._process is not None
        status = await self._process.wait()
        # Whatever the app wrote last is still in the pty: pass it on before closing.
        if self._master is not None and self._chan is not None:
            with contextlib.suppress(OSError):
                while data := os.read(self._master, _READ_SIZE):
                    self._chan.write(data)
        await self.close(status=max(status, 0))

    async def close(self, status: int = 0, message: bytes | None = None) -> None:
        """End the session: the app's process group gets SIGHUP, then SIGKILL; its folder goes.

        ``message`` is written to the client after the app is gone, on its terminal set back as it was.
        """
        if self._closed:
            return
        self._closed = True
        self._stop_reading()
        if self._flush_timer is not None:
            self._flush_timer.cancel()
            self._flush_timer = None
        self._pending.clear()
        loop = asyncio.get_running_loop()
        process = self._process
        if process is not None:
            await sessions.end_process_group(process, self._options.grace_seconds)
        if self._master is not None:
            with contextlib.suppress(ValueError, OSError):
                loop.remove_writer(self._master)
            with contextlib.suppress(OSError):
                os.close(self._master)
            self._master = None
        if self._home is not None:
            shutil.rmtree(self._home, ignore_errors=True)
            self._home = None
        if self._chan is not None:
            with contextlib.suppress(Exception):
                if message is not None:
                    self._chan.write(_TERMINAL_RESET + message)
                self._chan.exit(status)
        self._server.session_closed(self)

    @property
    def running(self) -> bool:
        return self.counted and not self._closed

    @property
    def pid(self) -> int | None:
        return self._process.pid if self._process is not None else None


class KabinetSSHServer(asyncssh.SSHServer):
    """One client connection: anyone may log in (the app asks for the account), one session at most."""

    def __init__(self, registry: SessionRegistry) -> None:
        self.registry = registry
        self.options = registry.options
        self.address = ""
        self.connection: asyncssh.SSHServerConnection | None = None
        self.session: AppSession | None = None
        self.connected_at = time.monotonic()
        self._login_timer: asyncio.TimerHandle | None = None

    def connection_made(self, conn: asyncssh.SSHServerConnection) -> None:
        self.connection = conn
        peer = conn.get_extra_info("peername") or ("", 0)
        self.address = sessions.address_key(str(peer[0]))
        self.connected_at = time.monotonic()
        refusal = self.registry.connect(self)
        if refusal is not None:  # a flood of connections, in all or from one address
            self.connection = None
            _refuse(conn, refusal)
            return
        self._login_timer = asyncio.get_running_loop().call_later(
            self.options.login_timeout, self._login_expired
        )

    def _login_expired(self) -> None:
        """No app running ``login_timeout`` seconds after the connection: the handshake's slot is freed."""
        self._login_timer = None
        if self.registry.is_handshaking(self) and self.connection is not None:
            self.connection.close()

    def connection_lost(self, exc: Exception | None) -> None:
        if self._login_timer is not None:
            self._login_timer.cancel()
            self._login_timer = None
        self.registry.disconnect(self)
        if self.session is not None:
            _background(self.session.close())

    def evict(self) -> None:
        """Make room for a newcomer (the registry's choice): this handshake is ended with the reason."""
        if self.connection is not None:
            conn, self.connection = self.connection, None
            _disconnect(conn, _refusal_words("ssh.server_busy")[1])

    def begin_auth(self, username: str) -> bool:
        return False  # no SSH authentication: the app has its own login

    def session_requested(self) -> AppSession | bool:
        if self.session is not None:
            return False  # one app per connection
        self.session = AppSession(self)
        return self.session

    def admit(self, session: AppSession) -> bytes | None:
        """None when this session may start its app, else the message to show instead."""
        refusal = self.registry.admit(self.address)
        if refusal is None:
            self.registry.handshake_done(self)
        return refusal

    @property
    def launcher(self) -> FreshLauncher | ForkLauncher:
        return self.registry.launcher

    def new_home(self) -> Path:
        """A temporary home folder for this connection's app (removed by the session when it ends)."""
        if self.registry.homes is not None:
            return self.registry.homes.new_home()
        return Path(tempfile.mkdtemp(prefix="kabinet-ssh-"))

    def sessions_changed(self) -> None:
        pass

    def session_closed(self, session: AppSession) -> None:
        self.registry.release(self.address, session)
        if self.connection is not None:
            conn, self.connection = self.connection, None
            conn.close()


def _refuse(conn: asyncssh.SSHServerConnection, key: str) -> None:
    """Tell a refused client why, in words, and close: a line before the SSH version, then a disconnect.

    asyncssh sends its version right after ``connection_made``; a disconnect sent before it reaches the
    client as a broken version line (OpenSSH: "banner line contains invalid characters").
    """
    line, reason = _refusal_words(key)
    transport = getattr(conn, "_transport", None)  # asyncssh offers no public way to write before it
    if isinstance(transport, asyncio.WriteTransport) and not transport.is_closing():
        with contextlib.suppress(Exception):
            transport.write(line)
    asyncio.get_running_loop().call_soon(_disconnect, conn, reason)


def _disconnect(conn: asyncssh.SSHServerConnection, reason: str) -> None:
    transport = getattr(conn, "_transport", None)
    if isinstance(transport, asyncio.Transport) and not transport.is_closing():
        _close_gently(transport)
    with contextlib.suppress(Exception):
        conn.disconnect(asyncssh.DISC_TOO_MANY_CONNECTIONS, reason)


# How long a refused client gets to finish sending what was on its way (its version, its key exchange offer).
_LINGER_SECONDS: Final = 2.0


class _Drain(asyncio.Protocol):
    """What a refused connection's socket reads after the disconnect: nothing kept, closed on EOF or time."""

    def __init__(self, abort: Callable[[], None]) -> None:
        self.timer = asyncio.get_running_loop().call_later(_LINGER_SECONDS, abort)

    def data_received(self, data: bytes) -> None:
        pass

    def eof_received(self) -> bool:
        return False  # the transport closes

    def connection_lost(self, exc: Exception | None) -> None:
        self.timer.cancel()


def _close_gently(transport: asyncio.Transport) -> None:
    """Make asyncssh's abort after a disconnect a graceful close.

    asyncssh ends a disconnected connection with ``transport.abort()``: the socket is closed at once, and when
    the client's version or key exchange offer is still unread there, the kernel answers with RST. OpenSSH
    then fails on its next write ("Broken pipe") before it reads the disconnect, and the resident never sees
    why. Instead, the written words are flushed, the sending side is shut (FIN), and what the client still
    sends is read and dropped until it closes too, or for two seconds at most.
    """

    abort_now = transport.abort

    def abort() -> None:
        transport.set_protocol(_Drain(abort_now))
        with contextlib.suppress(Exception):
            transport.write_eof()

    transport.abort = abort  # type: ignore[method-assign]


class SessionRegistry:
    """Every connection and running app of the server, for the limits, the idle check and shutdown.

    A connection is *handshaking* from its TCP connect until its app is admitted: at most
    ``max_handshakes_per_address`` per address and ``max_handshakes`` in all, each for at most
    ``login_timeout`` seconds. When all are taken, a newcomer pushes out the oldest handshake of the
    address that holds the most, unless its own address holds the most: silent connections from a few
    addresses cannot lock everyone else out.
    """

    def __init__(
        self,
        options: ServerOptions,
        homes: SessionHomes | None = None,
        launcher: FreshLauncher | ForkLauncher | None = None,
    ) -> None:
        self.options = options
        self.homes = homes
        self.launcher = launcher or make_launcher(replace(options, fork=False))
        """What starts the apps (a fork server, or a fresh process each)."""
        self.connections: set[KabinetSSHServer] = set()
        self.limits = sessions.SessionLimits(options)
        """Running apps, in all and per address."""
        self.connections_per_address: Counter[str] = Counter()
        self.handshakes: dict[KabinetSSHServer, None] = {}
        """Connections without an app yet, oldest first."""
        self.handshakes_per_address: Counter[str] = Counter()

    def connect(self, server: KabinetSSHServer) -> str | None:
        """Count a new connection; else the catalogue key of why it is refused."""
        options, address = self.options, server.address
        if (
            self.connections_per_address[address] >= options.max_connections_per_address
            or self.handshakes_per_address[address] >= options.max_handshakes_per_address
        ):
            return "ssh.too_many_connections"
        if len(self.handshakes) >= options.max_handshakes:
            victim = self._victim(address)
            if victim is None:
                return "ssh.server_busy"
            self.handshake_done(victim)
            victim.evict()
        self.connections.add(server)
        self.connections_per_address[address] += 1
        self.handshakes[server] = None
        self.handshakes_per_address[address] += 1
        return None

    def _victim(self, address: str) -> KabinetSSHServer | None:
        """The oldest handshake of the address with the most, if that is not ``address`` itself."""
        busiest = max(self.handshakes_per_address.values(), default=0)
        if busiest <= self.handshakes_per_address[address]:
            return None
        return next(s for s in self.handshakes if self.handshakes_per_address[s.address] == busiest)

    def is_handshaking(self, server: KabinetSSHServer) -> bool:
        return server in self.handshakes

    def handshake_done(self, server: KabinetSSHServer) -> None:
        if server in self.handshakes:
            del self.handshakes[server]
            sessions.uncount(self.handshakes_per_address, server.address)

    def disconnect(self, server: KabinetSSHServer) -> None:
        self.handshake_done(server)
        if server in self.connections:
            self.connections.discard(server)
            sessions.uncount(self.connections_per_address, server.address)

    def admit(self, address: str) -> bytes | None:
        return self.limits.admit(address)

    def release(self, address: str, session: AppSession) -> None:
        if session.counted:
            session.counted = False
            self.limits.release(address)

    async def watch_idle(self) -> None:
        """Close connections without a key for ``idle_minutes``."""
        limit = self.options.idle_minutes * 60
        while True:
            await asyncio.sleep(min(30.0, max(1.0, limit / 4)))
            now = time.monotonic()
            for server in list(self.connections):
                session = server.session
                if session is not None and session.running and now - session.last_input > limit:
                    await session.close(message=sessions.idle_words(self.options))

    async def close_all(self) -> None:
        running = [server.session for server in self.connections if server.session is not None]
        await asyncio.gather(*(session.close() for session in running), return_exceptions=True)
        for server in list(self.connections):
            if server.connection is not None:
                server.connection.close()


def make_launcher(options: ServerOptions) -> FreshLauncher | ForkLauncher:
    """The fork server (the default), or a fresh process per session (``--no-fork``, a test's program)."""
    if options.app_command:
        return FreshLauncher(options.app_command)
    return sessions.make_launcher(options)


async def serve(options: ServerOptions, *, ready: asyncio.Event | None = None) -> None:
    """Run the SSH server until SIGTERM or SIGINT; prints ``listening on HOST:PORT`` when ready."""
    host_key = load_or_create_host_key(options.state_dir)
    async with sessions.hosted(options, "kabinet serve-ssh", app_command=options.app_command) as hosting:
        registry = SessionRegistry(hosting.options, hosting.homes, hosting.launcher)
        await _listen(hosting.options, host_key, ready, registry)


async def _listen(
    options: ServerOptions, host_key: asyncssh.SSHKey, ready: asyncio.Event | None, registry: SessionRegistry
) -> None:
    acceptor = await asyncssh.create_server(
        lambda: KabinetSSHServer(registry),
        options.host or None,
        options.port,
        server_host_keys=[host_key],
        encoding=None,
        line_editor=False,
        allow_pty=True,
        agent_forwarding=False,
        x11_forwarding=False,
        login_timeout=options.login_timeout,
        keepalive_interval=60,
        keepalive_count_max=3,
        server_version="Kabinet",
        window=_CHANNEL_WINDOW,
    )
    idle_watch = asyncio.get_running_loop().create_task(registry.watch_idle())
    ports = sorted({sock.getsockname()[1] for sock in acceptor.sockets})
    try:
        await sessions.until_stopped(
            "kabinet serve-ssh", f"{options.host or '*'}:{','.join(map(str, ports))}", ready
        )
    finally:
        idle_watch.cancel()
        acceptor.close()
        await registry.close_all()
        await acceptor.wait_closed()
        print("kabinet serve-ssh: stopped", flush=True)


def build_parser() -> argparse.ArgumentParser:
    parser = sessions.session_parser(
        "kabinet serve-ssh",
        "Serve the personal account over SSH: each connection gets its own app on a pseudo-terminal "
        "(ssh -p 2222 HOST). No shell, commands, forwarding or file transfer; any SSH user name is "
        "accepted without a password, since the app has its own login.",
        host="",
        port=DEFAULT_PORT,
        state_help=f"host key, sessions and demo data (default {default_state_dir()})",
        lang_help="the apps' interface language",
        idle_help="close a connection without input this long (30)",
    )
    parser.add_argument(
        "--max-connections-per-address",
        type=int,
        default=10,
        help="open SSH connections per client address, with or without a session (default 10)",
    )
    parser.add_argument(
        "--login-timeout",
        type=float,
        default=20.0,
        help="seconds from connecting to a running app: the SSH handshake (with a first-time user's "
        "answer to the host key question) and the session request (20)",
    )
    parser.add_argument(
        "--max-handshakes",
        type=int,
        default=30,
        help="connections still in the handshake (no app yet) at once, in all (30)",
    )
    parser.add_argument(
        "--max-handshakes-per-address",
        type=int,
        default=3,
        help="connections still in the handshake at once per client address (3)",
    )
    return parser


def options_from(args: argparse.Namespace) -> ServerOptions:
    return ServerOptions(
        **sessions.session_option_values(args),
        max_connections_per_address=args.max_connections_per_address,
        login_timeout=args.login_timeout,
        max_handshakes=args.max_handshakes,
        max_handshakes_per_address=args.max_handshakes_per_address,
    )


def _check(options: ServerOptions) -> str | None:
    """What is wrong with serve-ssh's own options (once the shared ones are right), or None."""
    if (
        min(options.max_connections_per_address, options.max_handshakes, options.max_handshakes_per_address)
        < 1
    ):
        return "--max-connections-per-address and --max-handshakes… must be at least 1"
    if options.login_timeout <= 0:
        return "--login-timeout must be positive"
    if options.server_url is None:
        print(
            "kabinet serve-ssh: no --server: the apps share one demo portal "
            f"with its data in {options.portal_data_dir()}",
            file=sys.stderr,
            flush=True,
        )
    return None


def main(argv: list[str] | None = None) -> int:
    """``kabinet serve-ssh [options]``."""
    return sessions.run_server(
        "kabinet serve-ssh", options_from(build_parser().parse_args(argv)), _check, serve
    )


__all__ = [
    "DEFAULT_PORT",
    "AppSession",
    "KabinetSSHServer",
    "ServerOptions",
    "SessionRegistry",
    "build_parser",
    "load_or_create_host_key",
    "main",
    "serve",
]
