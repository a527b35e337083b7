"""Data out: the readings of a period, the portal's payments of a day and the registrations, as files a
billing system loads — content, control line, both encodings, the same bytes for the same data."""

from __future__ import annotations

import datetime as dt
import shutil
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import func, select

from portal.demo.accounts import DEBTOR_APARTMENT, HAPPY_PATH_APARTMENT, account_number, capital_repair_number
from portal.exports.format import Encoding
from portal.exports.service import ExportKind, ExportRequest, parse_day, parse_period
from portal.models import Payment, Reading, User
from tests.conftest import Portal
from tests.support.exports import export_bytes, number, parse
from tests.support.payments import created, notification, order_status, press
from tests.support.readings import PERIOD, meters_by_service, only_result, ru, submit

TODAY = dt.date(2026, 11, 20)
NOTIFY = "/api/v1/payments/paymo/notify"


def readings(period: dt.date = PERIOD, encoding: Encoding = Encoding.UTF8) -> ExportRequest:
    return ExportRequest(ExportKind.READINGS, period, encoding)


def payments(day: dt.date = TODAY, encoding: Encoding = Encoding.UTF8) -> ExportRequest:
    return ExportRequest(ExportKind.PAYMENTS, day, encoding)


async def test_readings_of_the_period_with_the_replaced_one_marked(portal: Portal) -> None:
    headers = await portal.login_as(HAPPY_PATH_APARTMENT)
    cold = (await meters_by_service(portal, headers))["cold_water"]
    previous = Decimal(cold["previous_reading"]["value"])
    assert only_result(
        await submit(portal, headers, {"meter_id": cold["meter_id"], "value": ru(previous + 2)})
    )
    portal.clock.advance(dt.timedelta(minutes=5))
    assert only_result(
        await submit(portal, headers, {"meter_id": cold["meter_id"], "value": ru(previous + 1)})
    )

    header, records, control = parse(await export_bytes(portal, readings()))
    assert header == [
        "account_number",
        "meter_serial",
        "service",
        "value",
        "source",
        "submitted_at",
        "status",
    ]
    mine = [
        r for r in records if r[0] == account_number(HAPPY_PATH_APARTMENT) and r[1] == cold["serial_number"]
    ]
    assert mine == [
        [mine[0][0], cold["serial_number"], "cold_water", f"{previous + 2:.3f}", "resident",
         "2026-11-20T12:00:00+03:00", "replaced"],
        [mine[0][0], cold["serial_number"], "cold_water", f"{previous + 1:.3f}", "resident",
         "2026-11-20T12:05:00+03:00", "accepted"],
    ]  # fmt: skip
    async with portal.state.sessionmaker() as session:
        stored = await session.scalar(
            select(func.count()).select_from(Reading).where(Reading.period == PERIOD)
        )
    # Every reading of the period, once; the control line counts and adds up the records.
    assert len(records) == stored
    assert control == ["ИТОГО", str(len(records)), f"{sum(number(r[3]) for r in records):.3f}"]
    # Ordered by account number and meter serial, then time: a stable order.
    keys = [(r[0], r[1], r[5]) for r in records]
    assert keys == sorted(keys)


async def test_both_encodings_and_the_same_bytes_every_time(portal: Portal) -> None:
    headers = await portal.login_as(HAPPY_PATH_APARTMENT)
    cold = (await meters_by_service(portal, headers))["cold_water"]
    previous = Decimal(cold["previous_reading"]["value"])
    only_result(
        await submit(portal, headers, {"meter_id": cold["meter_id"], "value": ru(previous + Decimal("1.5"))})
    )
    utf8 = await export_bytes(portal, readings())
    assert utf8 == await export_bytes(portal, readings())
    cp1251 = await export_bytes(portal, readings(encoding=Encoding.CP1251))
    assert cp1251 == await export_bytes(portal, readings(encoding=Encoding.CP1251))
    assert "ИТОГО".encode("cp1251") in cp1251 and "ИТОГО".encode() not in cp1251
    head8, rows8, control8 = parse(utf8)
    head1, rows1, control1 = parse(cp1251, "cp1251")
    assert head8 == head1
    # The same records; Windows-1251 files write a decimal comma.
    assert [[*r[:3], r[3].replace(".", ","), *r[4:]] for r in rows8] == rows1
    assert any("," in r[3] for r in rows1) and not any("," in r[3] for r in rows8)
    assert control1 == [control8[0], control8[1], control8[2].replace(".", ",")]


async def test_an_empty_period_and_an_empty_day_have_a_header_and_a_zero_control_line(portal: Portal) -> None:
    assert await export_bytes(portal, readings(dt.date(2031, 1, 1))) == (
        b"account_number;meter_serial;service;value;source;submitted_at;status\r\n\xd0\x98\xd0\xa2\xd0\x9e"
        b"\xd0\x93\xd0\x9e;0;0.000\r\n"
    )
    header, records, control = parse(await export_bytes(portal, payments(dt.date(2031, 1, 1))))
    assert header[0] == "account_number" and records == [] and control == ["ИТОГО", "0", "0.00"]
    cp = await export_bytes(portal, payments(dt.date(2031, 1, 1), Encoding.CP1251))
    assert cp.endswith("ИТОГО;0;0,00\r\n".encode("cp1251"))


async def test_portal_payments_of_the_day_credited_once_stornos_marked(portal: Portal) -> None:
    headers = await portal.login_as(HAPPY_PATH_APARTMENT)
    a3 = await created(portal, headers, provider="a3", key="k-a3", amount=102312)
    await press(portal, a3, "pay")
    fund = await created(portal, headers, provider="a3", key="k-fund", amount=50000, purpose="capital_repair")
    await press(portal, fund, "pay")
    for order in (a3, fund, a3):  # A3 is polled; asking twice credits once
        assert (await order_status(portal, headers, order["id"]))["credited"] is True
    paymo = await created(portal, headers, provider="paymo", key="k-paymo", amount=1005)
    await press(portal, paymo, "pay")
    # The payment service repeats its notification, and sends another event saying the same: no new row.
    raw, sig = await notification(portal, paymo, event_id="evt_repeat")
    for _ in range(2):
        assert (await portal.client.post(NOTIFY, content=raw, headers=sig)).status_code == 200
    refunded = await created(portal, headers, provider="paymo", key="k-refund", amount=700)
    await press(portal, refunded, "pay")
    await press(portal, refunded, "refund")
    declined = await created(portal, headers, provider="a3", key="k-declined", amount=300)
    await press(portal, declined, "decline")

    header, records, control = parse(await export_bytes(portal, payments()))
    assert header == [
        "account_number", "purpose", "capital_repair_account", "amount", "provider", "order_id",
        "provider_payment_id", "paid_at", "operation",
    ]  # fmt: skip
    by_order: dict[str, list[list[str]]] = {}
    for record in records:
        by_order.setdefault(record[5], []).append(record)
    number_ = account_number(HAPPY_PATH_APARTMENT)
    assert [(r[0], r[1], r[2], r[3], r[4], r[8]) for r in by_order[a3["id"]]] == [
        (number_, "utilities", "", "1023.12", "a3", "payment")
    ]
    assert [(r[1], r[2], r[3]) for r in by_order[fund["id"]]] == [
        ("capital_repair", capital_repair_number(HAPPY_PATH_APARTMENT), "500.00")
    ]
    assert [(r[3], r[4], r[8]) for r in by_order[paymo["id"]]] == [("10.05", "paymo", "payment")]
    assert [(r[3], r[8]) for r in by_order[refunded["id"]]] == [("7.00", "payment"), ("-7.00", "storno")]
    assert declined["id"] not in by_order
    for record in records:
        assert record[6], "the payment service's own reference"
        assert record[7].startswith("2026-11-20T") and record[7].endswith("+03:00")
    async with portal.state.sessionmaker() as session:
        stored = await session.scalar(
            select(func.count())
            .select_from(Payment)
            .where(Payment.paid_on == TODAY, Payment.channel.in_(("a3", "paymo")))
        )
    assert len(records) == stored == 5
    total = sum(number(r[3]) for r in records)
    assert control == ["ИТОГО", "5", f"{total:.2f}"] and total == Decimal("1533.17")
    assert await export_bytes(portal, payments()) == await export_bytes(portal, payments())


async def test_registrations_without_and_with_email(portal: Portal) -> None:
    plain = await export_bytes(portal, ExportRequest(ExportKind.REGISTRATIONS))
    header, records, control = parse(plain)
    async with portal.state.sessionmaker() as session:
        users = await session.scalar(select(func.count()).select_from(User))
    assert header == ["account_number", "registered_on"] and len(records) == users
    assert control == ["ИТОГО", str(users), ""]
    assert b"@" not in plain
    assert account_number(HAPPY_PATH_APARTMENT) in {r[0] for r in records}
    header, with_email, _ = parse(
        await export_bytes(portal, ExportRequest(ExportKind.REGISTRATIONS, with_email=True))
    )
    assert header == ["account_number", "registered_on", "email"]
    assert [r[:2] for r in with_email] == records and all("@" in r[2] for r in with_email)
    for record in records:
        dt.date.fromisoformat(record[1])
    assert account_number(DEBTOR_APARTMENT) in {r[0] for r in records}


@pytest.mark.parametrize(
    ("text", "ok"),
    [
        ("2026-11", True),
        ("2026-1", False),
        ("2026-13", False),
        ("11.2026", False),
        ("1999-12", False),
        ("٢٠٢٦-١١", False),
        ("", False),
    ],
)
def test_period_option(text: str, ok: bool) -> None:
    if ok:
        assert parse_period(text) == dt.date(2026, 11, 1)
    else:
        with pytest.raises(ValueError, match=r"--period must be a month as YYYY-MM"):
            parse_period(text)


@pytest.mark.parametrize("text", ["2026-02-30", "٢٠٢٦-١١-٢٠", "20.11.2026", "20261120", "2026-11-20T00:00"])
def test_date_option(text: str) -> None:
    with pytest.raises(ValueError, match=r"--date must be a date as YYYY-MM-DD"):
        parse_day(text)


# --- the command line ---------------------------------------------------------------------------------


@pytest.fixture
def cli_database(sqlite_template: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    for name in (
        "KABINET_DEMO",
        "KABINET_DATABASE_URL",
        "KABINET_DATA_DIR",
        "KABINET_READING_WINDOW_ALWAYS_OPEN",
    ):
        monkeypatch.delenv(name, raising=False)
    copy = tmp_path / "portal.sqlite3"
    shutil.copyfile(sqlite_template, copy)
    return ["--demo", "--data-dir", str(tmp_path), "--database-url", f"sqlite+aiosqlite:///{copy}"]


@pytest.mark.parametrize(
    ("argv", "option", "allowed"),
    [
        (["readings", "--period", "2026-13"], "--period", "месяц в формате ГГГГ-ММ"),
        (["readings", "--period", "11.2026"], "--period", "месяц в формате ГГГГ-ММ"),
        (["payments", "--date", "20.11.2026"], "--date", "день в формате ГГГГ-ММ-ДД"),
        (["payments", "--date", "2026-02-30"], "--date", "день в формате ГГГГ-ММ-ДД"),
        (["registrations", "--encoding", "koi8-r"], "--encoding", "utf-8 или cp1251"),
    ],
)
def test_cli_refuses_a_bad_option_naming_it(
    cli_database: list[str],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    argv: list[str],
    option: str,
    allowed: str,
) -> None:
    from portal.cli import main

    out = tmp_path / "file.csv"
    assert main(["export", *argv, "--out", str(out), *cli_database]) == 2
    error = capsys.readouterr().err
    assert option in error and allowed in error and f"«{argv[2]}»" in error
    assert not out.exists()


def test_cli_writes_the_files(
    cli_database: list[str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from portal.cli import main

    out = tmp_path / "readings.csv"
    assert main(["export", "readings", "--period", "2026-10", "--out", str(out), *cli_database]) == 0
    _header, records, control = parse(out.read_bytes())
    assert len(records) > 0 and control[1] == str(len(records))
    assert f"записей {len(records)}, контрольная сумма" in capsys.readouterr().err
    again = tmp_path / "again.csv"
    assert main(["export", "readings", "--period", "2026-10", "--out", str(again), *cli_database]) == 0
    assert again.read_bytes() == out.read_bytes()
    cp = tmp_path / "cp.csv"
    assert (
        main(
            [
                "export",
                "readings",
                "--period",
                "2026-10",
                "--encoding",
                "cp1251",
                "--out",
                str(cp),
                *cli_database,
            ]
        )
        == 0
    )
    assert parse(cp.read_bytes(), "cp1251")[2][2] == control[2].replace(".", ",")
    assert not list(tmp_path.glob("*.partial"))


@pytest.mark.postgres
async def test_rows_come_through_a_server_side_cursor_in_partitions(
    portal: Portal, monkeypatch: pytest.MonkeyPatch
) -> None:
    """On PostgreSQL the month is never fetched whole: a cursor stays open while chunks are handed out."""
    from sqlalchemy import text

    from portal.exports import repository
    from portal.exports.service import export_chunks

    if portal.state.engine.dialect.name != "postgresql":
        pytest.skip("a server-side cursor is PostgreSQL's")
    monkeypatch.setattr(repository, "PARTITION_ROWS", 20)
    chunks = 0
    open_cursors = []
    count_cursors = text("SELECT count(*) FROM pg_cursors")
    async with portal.state.sessionmaker() as session:
        idle = await session.scalar(count_cursors)  # the asking statement's own portal
        async for _chunk in export_chunks(session, readings(dt.date(2026, 10, 1))):
            chunks += 1
            if chunks == 3:
                open_cursors.append(await session.scalar(count_cursors))
    records = len(parse(await export_bytes(portal, readings(dt.date(2026, 10, 1))))[1])
    assert records > 60
    assert chunks >= records // 20 + 2  # header, one chunk per partition, the control line
    assert open_cursors == [idle + 1]


def test_cli_on_a_new_database_writes_an_empty_file_not_a_traceback(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """An operator who exports before anything was imported gets a file with its control line (count 0)."""
    from portal.cli import main

    for name in ("KABINET_DEMO", "KABINET_DATABASE_URL", "KABINET_DATA_DIR"):
        monkeypatch.delenv(name, raising=False)
    out = tmp_path / "readings.csv"
    argv = ["--data-dir", str(tmp_path), "--database-url", f"sqlite+aiosqlite:///{tmp_path / 'new.sqlite3'}"]
    assert main(["export", "readings", "--period", "2026-11", "--out", str(out), *argv]) == 0
    _header, records, control = parse(out.read_bytes())
    assert records == [] and control[1] == "0"
    assert "записей 0" in capsys.readouterr().err
    assert main(["operator-key", "list", *argv]) == 0
    assert "No operator keys." in capsys.readouterr().out
