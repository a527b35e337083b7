"""``kabinet-portal notify`` killed (SIGKILL) mid-run: the next run sends the rest, none twice."""

from __future__ import annotations

import asyncio
import datetime as dt
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import select

from portal.models import MailDelivery
from tests.conftest import TEST_SECRET, Portal, PortalFactory
from tests.support.notify import Server, add_residents, smtp


def _notify(database_url: str, port: int, tmp_path: Path, *extra: str) -> subprocess.Popen[str]:
    env = {
        **os.environ,
        "KABINET_DATABASE_URL": database_url,
        "KABINET_SECRET_KEY": TEST_SECRET,
        "KABINET_DATA_DIR": str(tmp_path),
        "KABINET_SMTP_HOST": "127.0.0.1",
        "KABINET_SMTP_PORT": str(port),
        "KABINET_NOTIFY_RATE": "0",
        "KABINET_PUBLIC_URL": "https://kabinet.example.ru",
        "KABINET_NOTIFY_CLAIM_TIMEOUT_SECONDS": "2",
    }
    return subprocess.Popen(
        [sys.executable, "-m", "portal.cli", "notify", "--receipts", "--batch", "4", *extra],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


async def _states(portal: Portal) -> list[str]:
    async with portal.state.sessionmaker() as session:
        return sorted(await session.scalars(select(MailDelivery.state)))


@pytest.mark.parametrize("connections", [1, 3])
@pytest.mark.parametrize("stall_at", ["rcpt", "data"])
async def test_a_killed_sender_is_resumed_without_sending_twice(
    make_portal: PortalFactory, database_url: str, tmp_path: Path, stall_at: str, connections: int
) -> None:
    portal = await make_portal()
    async with portal.state.sessionmaker() as session:
        await add_residents(session, 6, period=dt.date(2026, 10, 1))
    hung = Server(stall_at=stall_at)
    with smtp(hung) as port:
        process = _notify(database_url, port, tmp_path, "--connections", str(connections))
        try:
            assert hung.stalled.wait(60), process.communicate()[0] if process.poll() is not None else ""
            # Each connection has a letter at RCPT (not started) or in DATA (marked ``sending`` before).
            assert hung.wait_for_stalls(connections, 60)
            assert hung.stalls == connections
            before = await _states(portal)
            in_data = connections if stall_at == "data" else 0
            assert before.count("sending") == in_data
            assert set(before) <= {"claimed", "sending"} and len(before) >= 4  # a batch, maybe the next
            os.kill(process.pid, signal.SIGKILL)
            process.wait(10)
        finally:
            if process.poll() is None:
                process.kill()
    assert hung.envelopes == []
    await asyncio.sleep(2.2)  # the dead sender's claims grow stale (KABINET_NOTIFY_CLAIM_TIMEOUT_SECONDS=2)
    server = Server()
    with smtp(server) as port:
        rerun = _notify(database_url, port, tmp_path)
        output = rerun.communicate(timeout=120)[0]
        assert rerun.returncode == 0, output
        again = _notify(database_url, port, tmp_path)
        again_output = again.communicate(timeout=120)[0]
    states = await _states(portal)
    # Nothing that had not reached DATA is lost: the next run sends it, once. A letter in DATA may have
    # arrived: it is not sent again on its own (one per connection of the killed sender).
    assert f"sent {6 - in_data}, skipped 0, failed 0, uncertain 0, remaining 0" in output, output
    if in_data:
        assert f"{in_data} letter(s) a stopped sender left between DATA" in output, output
    assert states == ["sent"] * (6 - in_data) + ["uncertain"] * in_data
    assert len(server.envelopes) == 6 - in_data
    assert "sent 0," in again_output, again_output
    assert set(server.per_recipient().values()) == {1}
