"""«Печать квитанций» at 80×24 on the embedded demo: save, name collisions, e-mail, kiosk printing, SSH."""

from __future__ import annotations

import io
import os
import stat
import sys
from pathlib import Path

import pypdf
import pytest
from textual.pilot import Pilot
from textual.widgets import DataTable, Static

from portal.demo.accounts import HAPPY_PATH_APARTMENT, demo_email
from portal.mail.mailer import read_outbox
from screens.receipts import ReceiptsScreen
from tests.support.app import HAPPY, login, make_app, screen_name, wait_for
from tui.environment import running_over_ssh
from tui.printing import Printer, PrintFailed, print_pdf
from tui.receipt_files import receipt_filename, save_receipt


def result(pilot: Pilot[None]) -> str:
    return str(pilot.app.screen.query_one("#receipts-result", Static).render())


def hint(pilot: Pilot[None]) -> str:
    return str(pilot.app.screen.query_one("#receipts-hint", Static).render())


async def open_receipts(pilot: Pilot[None]) -> ReceiptsScreen:
    await login(pilot)
    await wait_for(pilot, lambda: screen_name(pilot) == "HomeScreen")
    await pilot.press("f9")
    await wait_for(pilot, lambda: screen_name(pilot) == "ReceiptsScreen")
    screen = pilot.app.screen
    assert isinstance(screen, ReceiptsScreen)
    await wait_for(pilot, lambda: screen.query_one("#receipts-table", DataTable).row_count > 0)
    return screen


def pdf_text(path: Path) -> str:
    reader = pypdf.PdfReader(io.BytesIO(path.read_bytes()))
    return " ".join(page.extract_text() for page in reader.pages)


@pytest.fixture(autouse=True)
def _not_over_ssh(monkeypatch: pytest.MonkeyPatch) -> None:
    """Tests run in SSH sessions too: each test says itself whether the app is over SSH."""
    for name in ("SSH_CONNECTION", "SSH_CLIENT"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("KABINET_SSH", "0")


async def test_list_shows_months_with_totals(tmp_path: Path, app_data_dir: Path) -> None:
    app = make_app(tmp_path, app_data_dir, downloads_dir=str(tmp_path / "downloads"))
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_receipts(pilot)
        table = screen.query_one("#receipts-table", DataTable)
        first = [str(cell) for cell in table.get_row_at(0)]
        latest = screen.months[0]
        assert first[1] == str(latest.total) and first[2] == str(latest.capital_repair)
        assert "₽" in first[1]
        assert str(tmp_path / "downloads") in hint(pilot)


async def test_make_and_save_a_receipt_then_again_with_a_suffix(tmp_path: Path, app_data_dir: Path) -> None:
    downloads = tmp_path / "no" / "such" / "downloads"  # created when needed
    app = make_app(tmp_path, app_data_dir, downloads_dir=str(downloads))
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_receipts(pilot)
        period = screen.months[0].period
        await pilot.press("enter")
        first = downloads / receipt_filename(HAPPY, period)
        await wait_for(pilot, lambda: str(first) in result(pilot))
        assert first.read_bytes().startswith(b"%PDF-")
        assert HAPPY in pdf_text(first)
        assert first.name == f"kvitanciya-{HAPPY}-{period:%Y-%m}.pdf"

        await pilot.press("f2")
        second = downloads / receipt_filename(HAPPY, period, 2)
        await wait_for(pilot, lambda: str(second) in result(pilot))
        assert second.name.endswith(f"{period:%Y-%m}-2.pdf") and first.exists()
        assert {p.name for p in downloads.iterdir()} == {first.name, second.name}


async def test_email_a_receipt(tmp_path: Path, app_data_dir: Path) -> None:
    app = make_app(tmp_path, app_data_dir, downloads_dir=str(tmp_path / "downloads"))
    async with app.run_test(size=(80, 24)) as pilot:
        await open_receipts(pilot)
        await pilot.press("e")
        address = demo_email(HAPPY_PATH_APARTMENT)
        masked = f"{address[0]}***@{address.split('@')[1]}"
        await wait_for(pilot, lambda: masked in result(pilot))
        assert app.embedded is not None
        outbox = app.embedded.outbox_dir
        await wait_for(pilot, lambda: len(read_outbox(outbox)) == 1)
        (letter,) = read_outbox(outbox)
        assert letter["To"] == address
        (attachment,) = list(letter.iter_attachments())
        assert attachment.get_content_type() == "application/pdf"
        assert not (tmp_path / "downloads").exists()  # nothing saved

        # The Russian layout's key does the same; then the portal asks for a pause.
        await pilot.press("у")
        await wait_for(pilot, lambda: len(read_outbox(outbox)) == 2)
        await pilot.press("e")
        await wait_for(pilot, lambda: len(read_outbox(outbox)) == 3)
        await pilot.press("e")
        await wait_for(pilot, lambda: "мин" in result(pilot) and "подряд" in result(pilot))
        assert len(read_outbox(app.embedded.outbox_dir)) == 3


def fake_printer(tmp_path: Path, exit_code: int = 0) -> tuple[Path, Path]:
    """A print command that records its arguments and what came on its standard input; (script, log)."""
    log = tmp_path / "lp.log"
    script = tmp_path / "fake-lp"
    script.write_text(
        f"#!{sys.executable}\n"
        "import sys\n"
        f"open({str(log)!r}, 'a').write(' '.join(sys.argv[1:]) + '\\n')\n"
        f"open({str(tmp_path / 'printed.pdf')!r}, 'wb').write(sys.stdin.buffer.read())\n"
        "print('request id is office-1 (1 file(s))')\n"
        f"sys.exit({exit_code})\n"
    )
    script.chmod(script.stat().st_mode | stat.S_IXUSR)
    return script, log


async def test_kiosk_prints_and_leaves_no_file(
    tmp_path: Path, app_data_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    spool = tmp_path / "tmp"
    spool.mkdir()
    monkeypatch.setenv("TMPDIR", str(spool))
    import tempfile

    monkeypatch.setattr(tempfile, "tempdir", None)  # re-read TMPDIR
    script, log = fake_printer(tmp_path)
    downloads = tmp_path / "downloads"
    app = make_app(
        tmp_path,
        app_data_dir,
        kiosk=True,
        printer="office-laser",
        print_command=str(script),
        downloads_dir=str(downloads),
    )
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_receipts(pilot)
        assert "принтере" in hint(pilot)
        await pilot.press("enter")
        await wait_for(pilot, lambda: "office-laser" in result(pilot))
        (call,) = log.read_text().splitlines()
        assert call.split(" ") == ["-d", "office-laser"]  # the PDF comes on standard input
        assert HAPPY in pdf_text(tmp_path / "printed.pdf")  # what the printer got
        assert not downloads.exists()
        assert list(spool.iterdir()) == []
        assert screen.last_saved is None


async def test_kiosk_without_printer_says_so(tmp_path: Path, app_data_dir: Path) -> None:
    app = make_app(tmp_path, app_data_dir, kiosk=True, downloads_dir=str(tmp_path / "downloads"))
    async with app.run_test(size=(80, 24)) as pilot:
        await open_receipts(pilot)
        await pilot.press("enter")
        await wait_for(pilot, lambda: "Принтер не настроен" in result(pilot))
        assert not (tmp_path / "downloads").exists()


async def test_print_failure_is_reported(tmp_path: Path) -> None:
    script, log = fake_printer(tmp_path, exit_code=1)
    with pytest.raises(PrintFailed) as failed:
        await print_pdf(Printer("office", str(script)), b"%PDF-1.4 test")
    assert failed.value.problem == "command_failed"
    assert log.read_text().splitlines() == ["-d office"]
    with pytest.raises(PrintFailed) as missing:
        await print_pdf(Printer("office", str(tmp_path / "no-such-lp")), b"%PDF-1.4 test")
    assert missing.value.problem == "command_not_found"
    with pytest.raises(PrintFailed) as none:
        await print_pdf(Printer(None), b"%PDF-1.4 test")
    assert none.value.problem == "no_printer"


async def test_over_ssh_email_comes_first(
    tmp_path: Path, app_data_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("KABINET_SSH", "")
    monkeypatch.setenv("SSH_CONNECTION", "198.51.100.7 50000 203.0.113.1 22")
    app = make_app(tmp_path, app_data_dir, downloads_dir=str(tmp_path / "downloads"))
    async with app.run_test(size=(80, 24)) as pilot:
        await open_receipts(pilot)
        assert "SSH" in hint(pilot) and "сервере" in hint(pilot)
        await pilot.press("enter")  # e-mail, not saving
        await wait_for(pilot, lambda: "e-mail" in result(pilot) and "***@" in result(pilot))
        assert not (tmp_path / "downloads").exists()
        await pilot.press("f2")  # saving still possible, with the warning
        await wait_for(pilot, lambda: "сервере" in result(pilot))
        assert len(list((tmp_path / "downloads").iterdir())) == 1


def test_ssh_detection() -> None:
    assert running_over_ssh({"SSH_CONNECTION": "1.2.3.4 5 6.7.8.9 22"})
    assert running_over_ssh({"SSH_CLIENT": "1.2.3.4 5 22"})
    assert running_over_ssh({"KABINET_SSH": "1"})
    assert not running_over_ssh({"KABINET_SSH": "0", "SSH_CLIENT": "1.2.3.4 5 22"})
    assert not running_over_ssh({})


def test_saving_never_overwrites(tmp_path: Path) -> None:
    import datetime as dt

    period = dt.date(2026, 11, 1)
    paths = [save_receipt(tmp_path / "d", "3500012007", period, f"%PDF-{i}".encode()) for i in range(3)]
    assert [p.name for p in paths] == [
        "kvitanciya-3500012007-2026-11.pdf",
        "kvitanciya-3500012007-2026-11-2.pdf",
        "kvitanciya-3500012007-2026-11-3.pdf",
    ]
    assert [p.read_bytes() for p in paths] == [b"%PDF-0", b"%PDF-1", b"%PDF-2"]
    assert stat.S_IMODE(os.stat(paths[0]).st_mode) == 0o600


async def test_the_shared_ssh_account_never_saves_a_receipt(
    tmp_path: Path, app_data_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("KABINET_SSH", "1")  # serve-ssh or the billing center's ForceCommand account
    app = make_app(tmp_path, app_data_dir, downloads_dir=str(tmp_path / "downloads"))
    async with app.run_test(size=(80, 24)) as pilot:
        await open_receipts(pilot)
        assert "e-mail" in hint(pilot) and "F2" not in hint(pilot)
        await pilot.press("f2")
        await wait_for(pilot, lambda: "выключено" in result(pilot))
        await pilot.press("enter")
        await wait_for(pilot, lambda: "***@" in result(pilot))
        assert not (tmp_path / "downloads").exists()


async def test_a_folder_name_with_brackets_is_shown_as_it_is(tmp_path: Path, app_data_dir: Path) -> None:
    downloads = tmp_path / "[old]" / "[/]receipts"
    app = make_app(tmp_path, app_data_dir, downloads_dir=str(downloads))
    async with app.run_test(size=(80, 24)) as pilot:
        await open_receipts(pilot)
        assert str(downloads) in hint(pilot)
        await pilot.press("enter")
        await wait_for(pilot, lambda: "kvitanciya" in result(pilot))
        assert str(downloads) in result(pilot)
