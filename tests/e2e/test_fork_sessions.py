"""Sessions forked from the fork server (hosting/forkserver.py): what a child gets, that none is left
behind, and the app over SSH started that way (``kabinet serve-ssh`` forks by default)."""

from __future__ import annotations

import asyncio
import json
import os
import platform
import re
import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import psutil
import pytest

from hosting.forkserver import KSM_VARIABLE, SESSION_NAME, ZYGOTE_NAME, AppProcess, ForkLauncher, Launch
from tests.support.app import HAPPY, PASSWORD
from tests.support.ssh import LOGIN_SCREEN, open_terminal, ssh_connect, start_server, stop, wait_until

ROOT = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.slow


def _read_all(fd: int) -> bytes:
    data = b""
    while chunk := os.read(fd, 65536):
        data += chunk
    os.close(fd)
    return data


async def _launch(launcher: ForkLauncher, argv: list[str], cwd: Path, **env: str) -> tuple[object, int]:
    """Start the app with ``argv``; returns its process and the read end of its output."""
    stdin_read, stdin_write = os.pipe()
    out_read, out_write = os.pipe()
    environment = {"PATH": os.environ["PATH"], "HOME": str(cwd), "LANG": "C.UTF-8", **env}
    try:
        process = await launcher.start(
            Launch(
                argv=argv, env=environment, cwd=str(cwd), stdin=stdin_read, stdout=out_write, stderr=out_write
            )
        )
    finally:
        for fd in (stdin_read, out_write):
            os.close(fd)
    os.close(stdin_write)
    return process, out_read


@pytest.fixture
async def launcher() -> AsyncIterator[ForkLauncher]:
    launcher = ForkLauncher(env={**os.environ, "PYTHONPATH": str(ROOT)})
    await launcher.open()
    yield launcher
    await launcher.close()


_HOLES = """
import json
from hosting.forkserver import fill_free_memory
small = [bytes(40 + number % 400) for number in range(50000)]
del small[::2]  # a free block between every two live ones, in pools of every size
large = [bytearray(2000 + number * 16) for number in range(400)]
del large[::2]  # a free chunk between every two live ones in malloc's heap
print(json.dumps([fill_free_memory(), fill_free_memory()]))
"""


@pytest.mark.skipif(platform.libc_ver()[0] != "glibc", reason="malloc's free chunks are read from glibc")
def test_the_zygote_takes_the_memory_left_free_between_its_objects() -> None:
    """What a session would otherwise allocate inside the zygote's pages (and so copy them) is taken once:
    a second pass finds next to nothing left (pymalloc: at most the untouched end of the last pool of each
    of its 32 size classes, 16 KiB a pool)."""
    result = subprocess.run(
        [sys.executable, "-c", _HOLES], capture_output=True, text=True, check=True, cwd=ROOT, timeout=120
    )
    first, second = json.loads(result.stdout)
    assert first["pymalloc"] > 4_000_000  # ~25 000 freed blocks of 48-448 bytes
    assert first["malloc"] > 400_000  # 200 freed chunks of 2-8 KB
    assert second["pymalloc"] < 32 * 16384
    assert second["malloc"] < first["malloc"] / 20


async def test_the_zygote_has_one_thread_and_its_children_run_the_app(
    launcher: ForkLauncher, tmp_path: Path
) -> None:
    assert launcher.zygote is not None
    zygote = psutil.Process(launcher.zygote.pid)
    assert zygote.name() == ZYGOTE_NAME
    assert zygote.num_threads() == 1  # forking after threads is unsafe: there are none

    process, output = await _launch(launcher, ["--version"], tmp_path)
    assert await asyncio.wait_for(process.wait(), 30) == 0  # type: ignore[attr-defined]
    assert (await asyncio.to_thread(_read_all, output)).decode().strip() == "kabinet 0.1.0"
    # Reaped by the zygote at once: no zombie stays among its children.
    await wait_until(lambda: not zygote.children())


async def test_a_child_gets_its_own_environment_folder_and_session(
    launcher: ForkLauncher, tmp_path: Path
) -> None:
    # An unknown option: the app's parser answers in the language of the child's --lang, on its stderr.
    process, output = await _launch(launcher, ["--lang", "en", "--nonsense"], tmp_path, KABINET_SSH="1")
    await asyncio.wait_for(process.wait(), 30)  # type: ignore[attr-defined]
    text = (await asyncio.to_thread(_read_all, output)).decode()
    assert "unrecognized arguments: --nonsense" in text

    # A running child: its own session and process group, its folder, its name; killed with its group.
    stdin_read, stdin_write = os.pipe()
    out_read, out_write = os.pipe()
    env = {"PATH": os.environ["PATH"], "HOME": str(tmp_path), "LANG": "C.UTF-8", "TERM": "dumb"}
    env["TEXTUAL_DRIVER"] = "textual.drivers.web_driver:WebDriver"  # read again in the child
    running = await launcher.start(
        Launch(
            argv=["--server", "http://127.0.0.1:9"],
            env=env,
            cwd=str(tmp_path),
            stdin=stdin_read,
            stdout=out_write,
            stderr=out_write,
        )
    )
    os.close(stdin_read)
    os.close(out_write)
    first = os.read(out_read, 65536)  # once it writes, it has set itself up
    assert b"__GANGLION__" in first  # Textual's web driver, chosen by the child's own environment
    child = psutil.Process(running.pid)
    assert child.name() == SESSION_NAME
    assert os.getsid(running.pid) == running.pid and os.getpgid(running.pid) == running.pid
    assert Path(child.cwd()) == tmp_path
    os.killpg(running.pid, 9)
    await asyncio.wait_for(running.wait(), 30)
    os.close(stdin_write)
    os.close(out_read)
    assert launcher.zygote is not None
    zygote = psutil.Process(launcher.zygote.pid)
    await wait_until(lambda: not zygote.children())


async def _start_app(launcher: ForkLauncher, home: Path) -> tuple[AppProcess, int, int]:
    """A forked app session (Textual's web driver on pipes, a portal nobody answers): the process, the
    write end of its input and the read end of its output (the caller closes both)."""
    stdin_read, stdin_write = os.pipe()
    out_read, out_write = os.pipe()
    env = {
        "PATH": os.environ["PATH"],
        "HOME": str(home),
        "TEXTUAL_DRIVER": "textual.drivers.web_driver:WebDriver",
    }
    running = await launcher.start(
        Launch(
            argv=["--server", "http://127.0.0.1:9"],
            env=env,
            cwd=str(home),
            stdin=stdin_read,
            stdout=out_write,
            stderr=out_write,
        )
    )
    os.close(stdin_read)
    os.close(out_write)
    return running, stdin_write, out_read


def _merge_any(pid: int) -> bool | None:
    """Whether the kernel's same-page merging may merge all of a process's memory (``ksm_merge_any`` in
    ``/proc/PID/ksm_stat``, Linux 6.x); None where the kernel does not show it."""
    try:
        text = Path(f"/proc/{pid}/ksm_stat").read_text()
    except OSError:
        return None
    found = re.search(r"^ksm_merge_any: (yes|no)$", text, re.MULTILINE)
    return None if found is None else found.group(1) == "yes"


def _merging_pages(pid: int) -> int | None:
    """``/proc/PID/ksm_merging_pages``: how many of its pages are merged now (0 while ``ksmd`` is off)."""
    try:
        return int(Path(f"/proc/{pid}/ksm_merging_pages").read_text())
    except (OSError, ValueError):
        return None


@pytest.mark.parametrize("switch", ["1", "0"])
async def test_the_zygote_and_its_children_are_offered_to_same_page_merging_unless_switched_off(
    tmp_path: Path, switch: str
) -> None:
    """``prctl(PR_SET_MEMORY_MERGE)`` in the zygote, inherited by every child it forks; with
    ``KABINET_FORK_KSM=0`` neither is marked. Only the mark is looked at: whether pages are then merged is
    the host's ``ksmd`` (``/sys/kernel/mm/ksm/run``), which a test leaves alone."""
    if _merge_any(os.getpid()) is None:
        pytest.skip("the kernel shows no ksm_merge_any in /proc/PID/ksm_stat (Linux 6.x)")
    launcher = ForkLauncher(env={**os.environ, "PYTHONPATH": str(ROOT), KSM_VARIABLE: switch})
    await launcher.open()
    try:
        if switch == "1" and not launcher.memory_merge:
            pytest.skip("the kernel refuses PR_SET_MEMORY_MERGE (older than 6.4, or not allowed here)")
        running, stdin_write, out_read = await _start_app(launcher, tmp_path)
        assert b"__GANGLION__" in await asyncio.to_thread(os.read, out_read, 65536)  # the app runs
        assert launcher.zygote is not None
        assert launcher.memory_merge is (switch == "1")
        assert _merge_any(launcher.zygote.pid) is (switch == "1")
        assert _merge_any(running.pid) is (switch == "1")
        assert _merging_pages(running.pid) is not None  # read by bench/sessions.py
        os.killpg(running.pid, 9)
        await asyncio.wait_for(running.wait(), 30)
        os.close(stdin_write)
        os.close(out_read)
    finally:
        await launcher.close()


async def test_a_dead_fork_server_ends_its_sessions_and_the_next_starts_a_new_one(tmp_path: Path) -> None:
    launcher = ForkLauncher(env={**os.environ, "PYTHONPATH": str(ROOT)})
    await launcher.open()
    running, stdin_write, out_read = await _start_app(launcher, tmp_path)
    child = psutil.Process(running.pid)
    assert launcher.zygote is not None
    zygote = psutil.Process(launcher.zygote.pid)
    zygote.kill()  # the fork server dies: its children die with it (PR_SET_PDEATHSIG)
    await asyncio.to_thread(child.wait, 30)
    os.close(stdin_write)
    os.close(out_read)
    # The next session starts a new fork server and runs.
    process, output = await _launch(launcher, ["--version"], tmp_path)
    assert await asyncio.wait_for(process.wait(), 30) == 0  # type: ignore[attr-defined]
    assert (await asyncio.to_thread(_read_all, output)).decode().strip() == "kabinet 0.1.0"
    assert launcher.zygote is not None and launcher.zygote.pid != zygote.pid
    await launcher.close()


async def test_resident_logs_in_over_ssh_in_a_forked_app_and_nothing_is_left(
    tmp_path: Path, app_data_dir: Path
) -> None:
    server = start_server(tmp_path, app_data_dir)  # forks by default
    try:
        conn = await ssh_connect(server.port)
        terminal = await open_terminal(conn)
        await terminal.wait_for(LOGIN_SCREEN)
        [app] = server.apps()
        assert app.name() == SESSION_NAME
        zygote = app.parent()
        assert zygote is not None and zygote.name() == ZYGOTE_NAME and zygote.ppid() == server.process.pid
        home = Path(app.cwd())
        assert home.parent.parent == server.state_dir / "sessions"
        assert app.terminal() is not None  # the pty is its controlling terminal

        await terminal.type(HAPPY)
        await terminal.type("\r")
        await terminal.type(PASSWORD)
        await terminal.type("\r")
        await terminal.wait_for(f"Лицевой счет {HAPPY}")

        conn.close()
        await asyncio.to_thread(app.wait, 30)
        await wait_until(lambda: not server.apps())
        await wait_until(lambda: not zygote.children())  # reaped: no zombie
        await wait_until(lambda: not home.exists())
    finally:
        stop(server)
