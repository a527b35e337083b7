"""Sessions started from a fork server: one parent that has imported the app forks a child per session.

A fresh ``python app.py`` per session imports Textual, the screens and httpx anew and keeps its own copy
of all of it: about 46 MiB of memory no other session shares. The *zygote* is one process, started once
by ``kabinet serve-ssh`` or ``kabinet serve-web``, that imports the app's modules (names given to it, so
this module itself imports no Textual), freezes the garbage collector's view of them (``gc.freeze``: a
collection would write to every object and so copy every page), takes for good the memory left free
between its objects (:func:`fill_free_memory`), marks its memory mergeable by the kernel's same-page
merging (:func:`set_memory_merge`: its children inherit the mark) and then waits. For each session the
server sends it, over a Unix socket pair, what to run (the module and function, its arguments, the
environment, the working folder) and the session's standard input, output and error as file
descriptors (``SCM_RIGHTS``); the zygote forks, and answers with the child's pid and a *pidfd* for it.
The child shares every page of the imported code and objects with the zygote and its siblings until it
writes to one.

Fork is only safe in a process with one thread: the zygote never starts a thread nor an event loop (it
blocks in ``recvmsg``), and forks before anything else could. Its child:

- starts a session of its own (``setsid``), so its process group can be signalled as a whole, and makes
  its terminal (a pseudo-terminal, for SSH) the controlling one;
- dies with the zygote (``PR_SET_PDEATHSIG``), which dies with the server;
- gets the session's environment (``os.environ`` replaced: ``TERM``, ``LANG``, ``HOME``…), working folder,
  standard streams re-opened on the new descriptors, default signal handlers, and modules whose constants
  were read from the environment at import (``--reload``, e.g. ``textual.constants``) imported again;
- calls ``module.function(argv)`` and exits with what it returns.

The zygote reaps its children (SIGCHLD, with the signal blocked between ``fork`` and ``pidfd_open`` so a
child cannot be reaped before its pidfd exists): no zombies. The server waits for a child's exit on its
pidfd and ends its process group by the pid, as with a process of its own. When the socket closes the
zygote exits.

:class:`FreshLauncher` starts each session as a new process instead (``--no-fork``, and the baseline of
``bench/sessions.py``); both give an :class:`AppProcess`.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import fcntl
import gc
import importlib
import io
import json
import os
import re
import signal
import socket
import subprocess
import sys
import tempfile
import termios
import threading
import traceback
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final, Protocol

_MESSAGE_SIZE: Final = 1 << 20
_PR_SET_PDEATHSIG: Final = 1
_PR_SET_NAME: Final = 15
_PR_SET_MEMORY_MERGE: Final = 67
ZYGOTE_NAME: Final = "kabinet-zygote"
SESSION_NAME: Final = "kabinet-session"
"""The process names (``ps -o comm``, psutil's ``name()``) of the zygote and of the apps it forks: their
command line is the zygote's, ``python -m hosting.forkserver``."""

APP_PRELOAD: Final = (
    "app",
    "textual.app",
    "textual.drivers.linux_driver",
    "textual.drivers.web_driver",
    "httpx",
    "tui.client",
    "screens.login",
    "screens.home",
    "screens.readings",
    "screens.receipts",
    "screens.profile",
    "screens.help",
    "widgets.paced_input",
)
"""What the app's zygote imports before it forks: the app and what its first screens need."""
APP_WARM_UP: Final = "app:warm_up"
"""Run once in the zygote after the imports: the app drawn headless to its login screen (caches filled)."""
FILL_VARIABLE: Final = "KABINET_FORK_FILL"
"""``KABINET_FORK_FILL=0`` in the server's environment: the zygote leaves its free memory free
(:func:`fill_free_memory`), the baseline ``bench/sessions.py`` measures against."""
KSM_VARIABLE: Final = "KABINET_FORK_KSM"
"""``KABINET_FORK_KSM=0`` in the server's environment: the zygote and its children are not offered to the
kernel's same-page merging (:func:`set_memory_merge`)."""
APP_RELOAD: Final = ("textual.constants",)
"""Modules that read the environment when imported: imported again in each child."""


class ForkServerGone(OSError):
    """The fork server is not there to answer (it exited or was killed)."""


class AppProcess(Protocol):
    """A session's app process, started by a launcher: what the servers need of it."""

    @property
    def pid(self) -> int: ...

    @property
    def returncode(self) -> int | None: ...

    async def wait(self) -> int: ...


@dataclass(frozen=True)
class Launch:
    """What to start for a session."""

    argv: Sequence[str]
    """The app's arguments (without the program's name), e.g. ``["--server", URL]``."""
    env: Mapping[str, str]
    cwd: str
    stdin: int
    stdout: int
    stderr: int
    controlling_tty: bool = False
    """``stdin`` is a pseudo-terminal that becomes the child's controlling terminal (SSH)."""


def _set_death_signal(number: int) -> None:
    with contextlib.suppress(Exception):
        import ctypes

        ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, number)


def _set_process_name(name: str) -> None:
    with contextlib.suppress(Exception):
        import ctypes

        ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_NAME, ctypes.c_char_p(name.encode()[:15]), 0, 0, 0)


def set_memory_merge(on: bool) -> bool:
    """Offer all of this process's memory to the kernel's same-page merging (KSM), or withdraw it.

    ``prctl(PR_SET_MEMORY_MERGE)`` (Linux 6.4 and later) marks every private anonymous mapping of the
    process, present and future, as mergeable, and a forked child inherits the mark. Where the host runs
    ``ksmd`` (``/sys/kernel/mm/ksm/run`` = 1), it then finds pages with the same bytes and maps one
    read-only copy in their place: a session's copy of a fork server's page that it wrote and restored
    (a reference count up and down) is the fork server's page again, and sessions idle at the same screen
    share their equal pages; a write copies the page again (copy-on-write). With ``ksmd`` stopped the mark
    does nothing. Returns whether the process is now marked (False: off, or an older kernel (EINVAL) or
    one that does not allow it (EPERM)).
    """
    try:
        import ctypes

        prctl = ctypes.CDLL(None, use_errno=True).prctl
        zero = ctypes.c_ulong(0)
        if prctl(_PR_SET_MEMORY_MERGE, ctypes.c_ulong(int(on)), zero, zero, zero) != 0:
            return False
    except (OSError, AttributeError):
        return False
    return on


class FreshLauncher:
    """Each session a new Python process running the app's script (the way without a fork server)."""

    def __init__(self, command: Sequence[str]) -> None:
        self.command = list(command)

    async def start(self, launch: Launch) -> AppProcess:
        tty = launch.controlling_tty

        def child_setup() -> None:
            if tty:
                fcntl.ioctl(0, termios.TIOCSCTTY, 0)
            _set_death_signal(signal.SIGKILL)

        process = await asyncio.create_subprocess_exec(
            *self.command,
            *launch.argv,
            stdin=launch.stdin,
            stdout=launch.stdout,
            stderr=launch.stderr,
            env=dict(launch.env),
            cwd=launch.cwd,
            start_new_session=True,
            preexec_fn=child_setup,
            close_fds=True,
        )
        return process

    async def close(self) -> None:
        pass


class ForkedProcess:
    """A child of the zygote: its pid and a pidfd that becomes readable when it exits."""

    def __init__(self, pid: int, pidfd: int) -> None:
        self._pid = pid
        self._pidfd: int | None = pidfd
        self._returncode: int | None = None
        self._exited = asyncio.Event()
        loop = asyncio.get_running_loop()
        loop.add_reader(pidfd, self._on_exit)

    @property
    def pid(self) -> int:
        return self._pid

    @property
    def returncode(self) -> int | None:
        return self._returncode

    def _on_exit(self) -> None:
        pidfd, self._pidfd = self._pidfd, None
        if pidfd is not None:
            asyncio.get_running_loop().remove_reader(pidfd)
            os.close(pidfd)
        # The zygote, not this process, is the parent and reaps it: the status is not ours to read.
        self._returncode = 0
        self._exited.set()

    async def wait(self) -> int:
        await self._exited.wait()
        return 0


class ForkLauncher:
    """Sessions forked by one zygote (see the module's text); :meth:`open` starts it."""

    def __init__(
        self,
        module: str = "app",
        function: str = "main",
        *,
        preload: Sequence[str] = APP_PRELOAD,
        reload: Sequence[str] = APP_RELOAD,
        warm_up: str | None = APP_WARM_UP,
        env: Mapping[str, str] | None = None,
    ) -> None:
        self.module, self.function = module, function
        self.preload, self.reload = list(preload), list(reload)
        self.warm_up = warm_up
        self.env = dict(os.environ if env is None else env)
        self.zygote: subprocess.Popen[bytes] | None = None
        self._socket: socket.socket | None = None
        self._lock = threading.Lock()
        self._restarting = asyncio.Lock()
        self.memory_merge = False
        """The zygote and its children are offered to the kernel's same-page merging (its answer when
        ready: :func:`set_memory_merge`)."""

    async def open(self) -> None:
        """Start the zygote and wait until it has imported everything (its first answer)."""
        await asyncio.to_thread(self._open)

    def _open(self) -> None:
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        command = [sys.executable, "-m", "hosting.forkserver", "--fd", str(theirs.fileno())]
        command += ["--preload", ",".join(self.preload), "--reload", ",".join(self.reload)]
        if self.warm_up:
            command += ["--warm-up", self.warm_up]
        env = {**self.env, "LANG": "C.UTF-8", "LC_ALL": "C.UTF-8", "PYTHONIOENCODING": "utf-8"}
        try:
            self.zygote = subprocess.Popen(  # noqa: S603 - this Python, our module
                command,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                env=env,
                pass_fds=[theirs.fileno()],
                start_new_session=True,  # Ctrl+C at the server's terminal is the server's
                preexec_fn=lambda: _set_death_signal(signal.SIGKILL),
            )
        finally:
            theirs.close()
        self._socket = ours
        ready, _, _, _ = socket.recv_fds(ours, _MESSAGE_SIZE, 1)
        if not ready:
            raise OSError("the fork server did not start (see its error output; --no-fork: fresh processes)")
        answer = json.loads(ready)
        if "error" in answer:
            raise OSError(f"the fork server did not start: {answer['error']} (--no-fork: fresh processes)")
        self.memory_merge = bool(answer.get("memory_merge"))

    async def start(self, launch: Launch) -> AppProcess:
        """Fork the app for a session; a fork server that has died (killed, out of memory) is started
        again once, and the session goes on (the sessions it had died with it)."""
        sock = self._socket
        try:
            pid, pidfd = await asyncio.to_thread(self._request, launch)
        except ForkServerGone:
            async with self._restarting:
                if self._socket is sock:  # not restarted meanwhile by another session
                    print(
                        "kabinet: the fork server has exited; starting it again", file=sys.stderr, flush=True
                    )
                    await self.close()
                    await self.open()
            pid, pidfd = await asyncio.to_thread(self._request, launch)
        return ForkedProcess(pid, pidfd)

    def _request(self, launch: Launch) -> tuple[int, int]:
        if self._socket is None:
            raise ForkServerGone("the fork server is not running")
        request = {
            "module": self.module,
            "function": self.function,
            "argv": list(launch.argv),
            "env": dict(launch.env),
            "cwd": launch.cwd,
            "tty": launch.controlling_tty,
        }
        with self._lock:  # one request and its answer at a time
            try:
                socket.send_fds(
                    self._socket, [json.dumps(request).encode()], [launch.stdin, launch.stdout, launch.stderr]
                )
                data, fds, _, _ = socket.recv_fds(self._socket, _MESSAGE_SIZE, 1)
            except (BrokenPipeError, ConnectionResetError) as exc:
                raise ForkServerGone(f"the fork server has exited: {exc}") from exc
        if not data:
            raise ForkServerGone("the fork server has exited")
        answer = json.loads(data)
        if "error" in answer or not fds:
            for fd in fds:
                os.close(fd)
            raise OSError(f"the fork server could not start the app: {answer.get('error')}")
        return int(answer["pid"]), fds[0]

    async def close(self) -> None:
        sock, self._socket = self._socket, None
        if sock is not None:
            sock.close()  # the zygote reads EOF and exits
        zygote, self.zygote = self.zygote, None
        if zygote is not None:
            try:
                await asyncio.to_thread(zygote.wait, 10)
            except subprocess.TimeoutExpired:
                zygote.kill()
                await asyncio.to_thread(zygote.wait)


# --- the zygote ---------------------------------------------------------------------------------------


def _reap(*_: Any) -> None:
    """SIGCHLD: collect every child that has exited (none stays a zombie)."""
    while True:
        try:
            pid, _status = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return


def _reopen_standard_streams() -> None:
    """``sys.stdin/stdout/stderr`` on the new descriptors 0, 1, 2, as Python sets them up at start."""
    for fd, name, mode in ((0, "stdin", "rb"), (1, "stdout", "wb"), (2, "stderr", "wb")):
        tty = os.isatty(fd)
        raw = io.FileIO(fd, mode.replace("b", ""), closefd=False)
        buffered: io.BufferedIOBase
        buffered = io.BufferedReader(raw) if mode == "rb" else io.BufferedWriter(raw)
        stream = io.TextIOWrapper(
            buffered,
            encoding="utf-8",
            errors="backslashreplace" if name == "stderr" else "strict",
            line_buffering=tty or name == "stderr",
        )
        setattr(sys, name, stream)
        setattr(sys, f"__{name}__", stream)


def _child(request: dict[str, Any], fds: list[int], sock: socket.socket, reload: Sequence[str]) -> int:
    """In the forked child: become the session's process, then run the app."""
    sock.close()
    _set_process_name(SESSION_NAME)
    os.setsid()
    for target, fd in enumerate(fds[:3]):
        os.dup2(fd, target)
    for fd in fds:
        if fd > 2:
            os.close(fd)
    if request.get("tty"):
        fcntl.ioctl(0, termios.TIOCSCTTY, 0)
    signal.signal(signal.SIGCHLD, signal.SIG_DFL)
    signal.signal(signal.SIGINT, signal.default_int_handler)
    for number in (signal.SIGTERM, signal.SIGHUP, signal.SIGQUIT, signal.SIGTSTP):
        signal.signal(number, signal.SIG_DFL)
    signal.pthread_sigmask(signal.SIG_SETMASK, set())
    os.environ.clear()
    os.environ.update(request["env"])
    os.chdir(request["cwd"])
    _reopen_standard_streams()
    # The zygote's objects stay frozen (a collection never walks them, so their pages stay shared); the
    # child's own objects are collected as in any process.
    for name in reload:
        if name in sys.modules:
            importlib.reload(sys.modules[name])
    function: Callable[[list[str]], int | None] = getattr(
        importlib.import_module(request["module"]), request["function"]
    )
    sys.argv = ["kabinet", *request["argv"]]
    return int(function(list(request["argv"])) or 0)


def _serve_requests(sock: socket.socket, reload: Sequence[str]) -> None:
    zygote = os.getpid()
    while True:
        data, fds, _, _ = socket.recv_fds(sock, _MESSAGE_SIZE, 3)
        if not data:
            return  # the server closed its end
        try:
            request = json.loads(data)
            if len(fds) != 3:
                raise ValueError("a request needs three descriptors")
        except ValueError as exc:
            for fd in fds:
                os.close(fd)
            socket.send_fds(sock, [json.dumps({"error": str(exc)}).encode()], [])
            continue
        signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGCHLD})
        try:
            pid = os.fork()
            if pid == 0:
                status = 1
                try:
                    _set_death_signal(signal.SIGKILL)
                    if os.getppid() != zygote:
                        os._exit(1)
                    status = _child(request, fds, sock, reload)
                except SystemExit as exc:
                    status = exc.code if isinstance(exc.code, int) else 1
                except BaseException:
                    with contextlib.suppress(Exception):
                        traceback.print_exc()
                finally:
                    with contextlib.suppress(Exception):
                        sys.stdout.flush()
                        sys.stderr.flush()
                    os._exit(status)
            pidfd = os.pidfd_open(pid)
        finally:
            signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGCHLD})
            for fd in fds:
                os.close(fd)
        try:
            socket.send_fds(sock, [json.dumps({"pid": pid}).encode()], [pidfd])
        finally:
            os.close(pidfd)


_FILLERS: list[object] = []
"""The zygote's objects that hold the small blocks that were free when it started serving."""
_POOL_LINE: Final = re.compile(r"^\s*\d+\s+(\d+)\s+\d+\s+\d+\s+(\d+)\s*$")
_MALLOC_FREE: Final = re.compile(r'<size from="(\d+)" to="\d+" total="\d+" count="(\d+)"/>')
_TCACHE_LARGEST: Final = 1040
_TCACHE_COUNT: Final = 7


def fill_free_memory() -> dict[str, int]:
    """Allocate, for as long as the zygote lives, what its allocators have free between its objects.

    After the imports and the warm-up, Python's small-object allocator has free blocks scattered through
    its pools and glibc's malloc free chunks scattered through its heap, on pages that also hold the
    zygote's objects. A child allocating there writes to such a page and so copies all of it (4 KiB for an
    object of 64 bytes). Taken here, once, those holes stay as they are, and a child's new objects go to
    fresh pages of its own, side by side. It costs the zygote nothing it does not hold already: the pages
    are resident. Returns the bytes taken from each allocator (0 where its statistics cannot be read:
    another Python build, another C library).
    """
    return {"pymalloc": _fill_pymalloc(), "malloc": _fill_malloc()}


def _fill_pymalloc() -> int:
    """Fill the free blocks of pymalloc's pools with objects of their size class (``bytes`` mostly)."""
    try:
        with tempfile.TemporaryFile() as report:
            sys.stderr.flush()
            saved = os.dup(2)
            os.dup2(report.fileno(), 2)
            try:
                sys._debugmallocstats()  # the size classes, and the free blocks of the pools in use
            finally:
                os.dup2(saved, 2)
                os.close(saved)
            report.seek(0)
            text = report.read().decode("ascii", "replace")
    except (AttributeError, OSError):
        return 0
    empty_bytes = sys.getsizeof(b"")
    taken = 0
    for line in text.splitlines():
        match = _POOL_LINE.match(line)
        if match is None:
            continue
        size, free = int(match.group(1)), int(match.group(2))
        if size - empty_bytes >= 2:  # bytes of 0 or 1 byte are shared singletons
            _FILLERS.extend(bytes(size - empty_bytes) for _ in range(free))
        elif size - 16 < sys.getsizeof(0.5) <= size:
            _FILLERS.extend(number + 0.5 for number in range(free))
        elif size - 16 < sys.getsizeof(object()) <= size:
            _FILLERS.extend(object() for _ in range(free))
        else:
            continue
        taken += size * free
    return taken


def _fill_malloc() -> int:
    """Allocate glibc's free chunks of the main heap (its thread caches first), never to free them."""
    try:
        import ctypes

        libc = ctypes.CDLL(None)
        libc.malloc.restype = ctypes.c_void_p
        libc.malloc.argtypes = [ctypes.c_size_t]
        libc.malloc_info.argtypes = [ctypes.c_int, ctypes.c_void_p]
        libc.open_memstream.restype = ctypes.c_void_p
        libc.open_memstream.argtypes = [ctypes.c_void_p, ctypes.c_void_p]
        libc.fclose.argtypes = [ctypes.c_void_p]
        libc.free.argtypes = [ctypes.c_void_p]
    except (OSError, AttributeError):  # not glibc
        return 0

    def free_chunks() -> list[tuple[int, int]]:
        buffer, size = ctypes.c_char_p(), ctypes.c_size_t()
        stream = libc.open_memstream(ctypes.byref(buffer), ctypes.byref(size))
        if not stream:
            return []
        libc.malloc_info(0, stream)
        libc.fclose(stream)
        text = ctypes.string_at(buffer, size.value).decode("ascii", "replace")
        libc.free(buffer)
        main_heap = text.split('<heap nr="1"', 1)[0].split("<total ", 1)[0]
        # A chunk's size field has its flags in the low bits; malloc(size - 8) takes a chunk of that size.
        return [(int(first) & ~15, int(count)) for first, count in _MALLOC_FREE.findall(main_heap)]

    taken = 0
    for chunk in range(32, _TCACHE_LARGEST + 1, 16):  # the thread cache, which malloc_info does not show
        for _ in range(_TCACHE_COUNT):
            libc.malloc(chunk - 8)
    for _ in range(4):  # a bigger chunk is split, and its remainder is free again
        chunks = free_chunks()
        if not chunks:
            break
        for chunk, count in chunks:
            for _ in range(count):
                if chunk >= 32 and libc.malloc(chunk - 8):
                    taken += chunk
    return taken


def zygote_main(argv: list[str] | None = None) -> int:
    """``python -m hosting.forkserver --fd N --preload a,b --reload c``: the zygote (started by a server)."""
    parser = argparse.ArgumentParser(prog="kabinet fork server")
    parser.add_argument("--fd", type=int, required=True)
    parser.add_argument("--preload", default="")
    parser.add_argument("--reload", default="")
    parser.add_argument("--warm-up", default="", help="module:function to call once after the imports")
    args = parser.parse_args(argv)
    sock = socket.socket(fileno=args.fd)
    _set_process_name(ZYGOTE_NAME)
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        for name in filter(None, args.preload.split(",")):
            importlib.import_module(name)
        if args.warm_up:
            module, _, function = args.warm_up.partition(":")
            getattr(importlib.import_module(module), function)()
    except Exception as exc:
        socket.send_fds(sock, [json.dumps({"error": f"{type(exc).__name__}: {exc}"}).encode()], [])
        return 1
    if threading.active_count() != 1:
        message = f"{threading.active_count()} threads after the imports: forking is unsafe"
        socket.send_fds(sock, [json.dumps({"error": message}).encode()], [])
        return 1
    gc.collect()
    if os.environ.get(FILL_VARIABLE, "1") != "0":
        fill_free_memory()
    gc.freeze()
    merge = set_memory_merge(os.environ.get(KSM_VARIABLE, "1") != "0")
    signal.signal(signal.SIGCHLD, _reap)
    socket.send_fds(sock, [json.dumps({"ready": True, "memory_merge": merge}).encode()], [])
    _serve_requests(sock, [name for name in args.reload.split(",") if name])
    return 0


if __name__ == "__main__":
    raise SystemExit(zygote_main())


__all__ = [
    "APP_PRELOAD",
    "APP_RELOAD",
    "APP_WARM_UP",
    "FILL_VARIABLE",
    "KSM_VARIABLE",
    "SESSION_NAME",
    "ZYGOTE_NAME",
    "AppProcess",
    "ForkLauncher",
    "ForkServerGone",
    "ForkedProcess",
    "FreshLauncher",
    "Launch",
    "fill_free_memory",
    "set_memory_merge",
    "zygote_main",
]
