"""The billing center's import: format, validation before writing, idempotence, recalculation, atomicity.

Every test starts from an empty, migrated database (SQLite, and PostgreSQL when
``KABINET_TEST_DATABASE_URL`` is set) and imports copies of ``docs/exchange-examples``.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text

from portal.cli import main
from portal.exchange import fields
from portal.kit.db import create_engine
from portal.migrations import upgrade
from tests.conftest import Portal, pg_create_database, pg_database_name, pg_drop_database, pg_url

ROOT = Path(__file__).resolve().parents[3]
EXAMPLES = ROOT / "docs" / "exchange-examples"
TABLES = (
    "payees",
    "services",
    "tariffs",
    "accounts",
    "capital_repair_accounts",
    "meters",
    "opening_balances",
    "charges",
    "payments",
    "readings",
)


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        database = f"sqlite+aiosqlite:///{tmp_path / 'exchange.sqlite3'}"
    else:
        base = pg_url()
        if base is None:
            pytest.skip("PostgreSQL tests need KABINET_TEST_DATABASE_URL")
        name = pg_database_name(f"x{abs(hash(request.node.name)) % 10**8}")
        database = asyncio.run(pg_create_database(name))

    async def migrate() -> None:
        engine = create_engine(database)
        try:
            await upgrade(engine)
        finally:
            await engine.dispose()

    asyncio.run(migrate())
    yield database
    if request.param == "postgres":
        asyncio.run(pg_drop_database(database.rsplit("/", 1)[1]))


@pytest.fixture(autouse=True)
def _restore_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """``kabinet-portal import --database-url`` sets ``KABINET_DATABASE_URL`` (for uvicorn's workers):
    put it back afterwards, or later tests in the process would use a database dropped here."""
    for name in ("KABINET_DATABASE_URL", "KABINET_DATA_DIR", "KABINET_DEMO"):
        monkeypatch.setenv(name, "")
        monkeypatch.delenv(name)


@pytest.fixture
def files(tmp_path: Path) -> Path:
    directory = tmp_path / "in"
    shutil.copytree(EXAMPLES, directory)
    return directory


def run_import(url: str, *args: str | Path, capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    code = main(["import", "--database-url", url, "--operator", "test", *map(str, args)])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def query(url: str, sql: str) -> list[tuple[Any, ...]]:
    async def go() -> list[tuple[Any, ...]]:
        engine = create_engine(url)
        try:
            async with engine.connect() as connection:
                return [tuple(row) for row in await connection.execute(text(sql))]
        finally:
            await engine.dispose()

    return asyncio.run(go())


def snapshot(url: str) -> dict[str, list[tuple[Any, ...]]]:
    return {table: query(url, f"SELECT * FROM {table} ORDER BY id") for table in TABLES}


def rewrite(path: Path, old: str, new: str) -> None:
    content = path.read_text(encoding="utf-8")
    assert old in content, old
    path.write_text(content.replace(old, new, 1), encoding="utf-8")


# --- the example set, and importing it again -------------------------------------------------------------


def test_example_set_imports_and_again_changes_nothing(
    url: str, files: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = run_import(url, files, capsys=capsys)
    assert code == 0, err
    first = snapshot(url)
    assert len(first["accounts"]) == 2 and len(first["charges"]) == 7 and len(first["payments"]) == 3
    assert query(url, "SELECT address, apartment FROM accounts ORDER BY number")[0] == (
        "г. Вологда, ул. Мира, д. 5, кв. 1",
        "1",
    )
    # Money exact, in kopecks; decimal comma and point both read.
    assert query(
        url,
        "SELECT charged_kopecks, recalculation_kopecks, penalties_kopecks FROM charges "
        "ORDER BY charged_kopecks DESC",
    )[0] == (164274, 0, 0)
    assert sorted(r[0] for r in query(url, "SELECT balance_kopecks FROM opening_balances")) == [
        -20000,
        152030,
    ]
    # The capital repair payment was made to the fund's account number: it lands on the apartment.
    assert query(
        url,
        "SELECT a.number, p.purpose, p.amount_kopecks FROM payments p JOIN accounts a "
        "ON a.id = p.account_id WHERE p.purpose = 'capital_repair'",
    ) == [("7700000001", "capital_repair", 73779)]
    assert {r[0] for r in query(url, "SELECT source FROM readings")} == {"inspector", "remote"}

    code, out, err = run_import(url, files, capsys=capsys)
    assert code == 0, err
    assert snapshot(url) == first  # same rows, same ids, no duplicate payments
    runs = query(url, "SELECT operator, status, lines_read, checksum FROM import_runs ORDER BY id")
    assert [r[:3] for r in runs] == [("test", "imported", 31), ("test", "imported", 31)]
    assert runs[0][3] == runs[1][3] and len(runs[0][3]) == 64
    assert "добавлено         0" in out
    assert out.count("файлы и база не менялись") == 10  # every kind: nothing merged again


def test_unchanged_files_are_merged_again_once_the_database_changed(
    url: str, files: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The repeat skips a kind only while its table is as the last import left it."""
    assert run_import(url, files, capsys=capsys)[0] == 0
    accepted = query(url, "SELECT id, value FROM readings WHERE status = 'accepted' ORDER BY id")[0]

    # Someone else (a resident, a correction by hand) changed a row the files set: the next import
    # of the same files must put the billing center's value back.
    async def delete() -> None:
        engine = create_engine(url)
        try:
            async with engine.begin() as connection:
                await connection.execute(text(f"DELETE FROM readings WHERE id = {accepted[0]}"))
        finally:
            await engine.dispose()

    asyncio.run(delete())
    code, out, err = run_import(url, files, capsys=capsys)
    assert code == 0, err
    assert out.count("файлы и база не менялись") == 9
    readings = query(url, "SELECT value FROM readings WHERE status = 'accepted' ORDER BY id")
    assert accepted[1] in [r[0] for r in readings]
    # A charges file changed: only its kind is merged again.
    rewrite(files / "charges.csv", "1642,74", "1642,75")
    code, out, err = run_import(url, files, capsys=capsys)
    assert code == 0, err
    assert out.count("файлы и база не менялись") == 9
    assert query(url, "SELECT count(*) FROM charges WHERE charged_kopecks = 164275") == [(1,)]


def test_import_batch_is_the_same_door(url: str, files: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from portal.exchange import import_batch
    from portal.kit.db import create_sessionmaker

    assert run_import(url, files, capsys=capsys)[0] == 0
    rows = [
        {
            "account": "7700000003",
            "address": "г. Вологда, ул. Мира, д. 5",
            "apartment": "3",
            "area": "40,5",
            "residents": "2",
            "owner": "Новый Жилец",
        }
    ]

    async def go(batch: list[dict[str, str]]) -> tuple[str, int]:
        engine = create_engine(url)
        try:
            async with create_sessionmaker(engine)() as session:
                report = await import_batch(session, "accounts", batch, import_id="api-1", operator="op")
                await session.commit()
                return report.status, report.changed
        finally:
            await engine.dispose()

    assert asyncio.run(go(rows)) == ("imported", 1)
    assert asyncio.run(go(rows)) == ("imported", 0)
    assert asyncio.run(go([{**rows[0], "area": "-1"}]))[0] == "refused"


# --- encodings -------------------------------------------------------------------------------------------


@pytest.mark.parametrize("declared", [None, "cp1251"])
def test_windows_1251_and_bom(
    url: str, files: Path, declared: str | None, capsys: pytest.CaptureFixture[str]
) -> None:
    accounts = files / "accounts.csv"
    accounts.write_bytes(accounts.read_text(encoding="utf-8").encode("cp1251"))
    services = files / "services.csv"
    services.write_bytes(b"\xef\xbb\xbf" + services.read_bytes())  # UTF-8 with a BOM
    args: list[str | Path] = [accounts] if declared else [files]
    if declared:
        args += ["--encoding", declared]
    code, _, err = run_import(url, *args, capsys=capsys)
    assert code == 0, err
    owners = {r[0] for r in query(url, "SELECT owner_name FROM accounts")}
    assert owners == {"Петров Иван Сергеевич", "Сидорова Анна Петровна"}
    if not declared:
        assert query(url, "SELECT name FROM services WHERE code = 'cold_water'") == [
            ("Холодное водоснабжение",)
        ]


@pytest.mark.parametrize(
    ("newline", "empty_line"),
    [("\n", False), ("\r\n", False), ("\n", True), ("\r\n", True)],
    ids=["lf", "crlf", "lf-empty-line", "crlf-empty-line"],
)
def test_wrong_lines_are_named_by_their_line_whoever_reads_the_file(
    url: str, files: Path, newline: str, empty_line: bool, capsys: pytest.CaptureFixture[str]
) -> None:
    """A plain file is read by PostgreSQL's own CSV reader, any other by Python's: the report is the same
    (an empty line is skipped but counted, Windows line ends are line ends)."""
    charges = files / "charges.csv"
    lines = charges.read_text(encoding="utf-8").splitlines()
    if empty_line:
        lines.insert(2, "")  # line 3 is empty: the wrong line below is still line 4
    fields = lines[3].split(";")
    fields[3] = "12,34567"  # the volume: too many decimals
    lines[3] = ";".join(fields)
    charges.write_bytes((newline.join(lines) + newline).encode("utf-8"))
    code, _, err = run_import(url, files, capsys=capsys)
    assert code == 1
    assert "charges.csv, строка 4, поле «volume»: не более 4 знаков после запятой" in err, err


def test_declared_utf8_that_is_not(url: str, files: Path, capsys: pytest.CaptureFixture[str]) -> None:
    accounts = files / "accounts.csv"
    accounts.write_bytes(accounts.read_text(encoding="utf-8").encode("cp1251"))
    code, _, err = run_import(url, accounts, "--encoding", "utf-8", capsys=capsys)
    assert code == 1 and "accounts.csv" in err and "UTF-8" in err


# --- malformed files: refused whole, nothing written, the report names file, line, field, reason ----------

MALFORMED = {
    "missing column": (
        "accounts.csv",
        "account;address;apartment;area;residents;owner",
        "account;address;apartment;area;residents",
        "accounts.csv, строка 1, поле «owner»: нет обязательного столбца",
    ),
    "extra column": (
        "accounts.csv",
        "residents;owner",
        "residents;owner;floor",
        "поле «floor»: неизвестный столбец",
    ),
    "field count": (
        "accounts.csv",
        "52,40;2;",
        "52,40;2;лишнее;",
        "accounts.csv, строка 2: в строке 7 полей",
    ),
    "account number": (
        "accounts.csv",
        "7700000001;г.",
        "77-01;г.",
        "строка 2, поле «account»: номер лицевого счёта",
    ),
    "inn check digits": (
        "payees.csv",
        "3525012347",
        "3525012348",
        "payees.csv, строка 2, поле «inn»: неверные контрольные цифры ИНН",
    ),
    "kpp": ("payees.csv", "352501001;4070", "35250100;4070", "поле «kpp»: КПП"),
    "account key": (
        "payees.csv",
        "40702810500000012345",
        "40702810600000012345",
        "поле «account»: расчётный счёт не проходит проверку контрольного ключа по БИК",
    ),
    "correspondent key": (
        "payees.csv",
        "041909701;30101810500000000701",
        "041909701;30101810600000000701",
        "поле «correspondent_account»",
    ),
    "date": (
        "meters.csv",
        "15.03.2021;15.03.2027",
        "31.02.2021;15.03.2027",
        "meters.csv, строка 2, поле «installed»: такой даты нет",
    ),
    "date format": (
        "payments.csv",
        "12.10.2026",
        "12/10/2026",
        "payments.csv, строка 2, поле «date»: дата ДД.ММ.ГГГГ",
    ),
    "month": (
        "charges.csv",
        "7700000001;2026-10;maintenance",
        "7700000001;2026-13;maintenance",
        "поле «month»: месяц ГГГГ-ММ",
    ),
    "sum": ("charges.csv", "1642,74", "1642,745", "charges.csv, строка 2, поле «charged»: сумма в рублях"),
    "payment amount": ("payments.csv", "3200,00", "0,00", "поле «amount»: сумма должна быть больше нуля"),
    "unknown service": (
        "meters.csv",
        "7700000001;cold_water",
        "7700000001;gas",
        "meters.csv, строка 2, поле «service»: услуга не найдена",
    ),
    "unknown account": (
        "charges.csv",
        "7700000002;2026-10;maintenance",
        "7700000009;2026-10;maintenance",
        "charges.csv, строка 6, поле «account»: лицевой счёт не найден",
    ),
    "unknown meter": (
        "readings.csv",
        "21-100001",
        "21-999999",
        "readings.csv, строка 2, поле «serial»: счётчик",
    ),
    "reading beyond the meter's digits": (
        "readings.csv",
        "2026-10;123,456;",
        "2026-10;123456,000;",
        "readings.csv, строка 2, поле «value»: показание не помещается на счётчик",
    ),
    "reading finer than the meter": (
        "readings.csv",
        "2026-10;45210,0;",
        "2026-10;45210,05;",
        "readings.csv, строка 3, поле «value»: у показания больше знаков после запятой",
    ),
    "reading after removal": (
        "meters.csv",
        "15.03.2021;15.03.2027;",
        "15.03.2021;15.03.2027;20.09.2026",
        "readings.csv, строка 2, поле «month»: счётчик снят раньше этого месяца",
    ),
    "unknown payee": (
        "services.csv",
        "area;billing_center;;;10",
        "area;water_company;;;10",
        "поле «payee»: получатель",
    ),
    "duplicate line": (
        "tariffs.csv",
        "maintenance;01.07.2026;31,35",
        "maintenance;01.07.2026;31,35\nmaintenance;01.07.2026;31,35",
        "tariffs.csv, строка 3, поле «valid_from»: строка повторяет ключ",
    ),
    "verification before installation": (
        "meters.csv",
        "15.03.2021;15.03.2027",
        "15.03.2021;15.03.2020",
        "поле «verification»",
    ),
}


@pytest.mark.parametrize("case", list(MALFORMED))
def test_malformed_files_are_refused_whole(
    url: str, files: Path, case: str, capsys: pytest.CaptureFixture[str]
) -> None:
    name, old, new, expected = MALFORMED[case]
    rewrite(files / name, old, new)
    code, _, err = run_import(url, files, capsys=capsys)
    assert code == 1
    assert expected in err, err
    assert "Загрузка отклонена" in err
    assert all(not rows for rows in snapshot(url).values())  # nothing written
    assert query(url, "SELECT status FROM import_runs") == [("refused",)]


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        ("account;address\n".encode("utf-16"), "UTF-16"),
        (b"\x00\x01\x02binary", "не текстовый файл"),
        (b"", "файл пуст"),
        ("номер;адрес\n1;2\n".encode(), "заголовок не подходит"),
        (b'account;address;apartment;area;residents;owner\n"7700000003;broken\n', "нарушены правила CSV"),
    ],
)
def test_unreadable_files_refuse_even_with_skip_bad(
    url: str, files: Path, content: bytes, reason: str, capsys: pytest.CaptureFixture[str]
) -> None:
    (files / "zz-extra.csv").write_bytes(content)
    code, _, err = run_import(url, files, "--skip-bad", capsys=capsys)
    assert code == 1 and "zz-extra.csv" in err and reason in err, err
    assert not query(url, "SELECT id FROM accounts")


def test_skip_bad_imports_the_rest_and_lists_the_bad_lines(
    url: str, files: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # The second account is bad: its line, and every line referring to it, are left out.
    rewrite(files / "accounts.csv", "38.10", "38.101")
    code, out, err = run_import(url, files, "--skip-bad", capsys=capsys)
    assert code == 0, err
    assert "accounts.csv, строка 3, поле «area»: не более 2 знаков после запятой" in err
    assert "charges.csv, строка 6, поле «account»: лицевой счёт не найден" in err
    assert query(url, "SELECT number FROM accounts") == [("7700000001",)]
    assert len(query(url, "SELECT id FROM charges")) == 4
    assert len(query(url, "SELECT id FROM meters")) == 2
    skipped = query(url, "SELECT status, lines_skipped FROM import_runs")
    # accounts 1, capital repair 1, meters 1, balances 1, charges 3, payments 1
    assert skipped == [("imported", 8)]
    assert "пропущено 8" in out


def test_skip_bad_leaves_a_line_out_once_whatever_it_fails(
    url: str, files: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # A repeated charge line (its key again: on PostgreSQL the unique index is refused, the check runs),
    # and a reading both too long and too fine for its meter (6 digits, 1 decimal): each left out once.
    line = "7700000001;2026-10;maintenance;52,40;31,35;1642,74;0;0\n"
    rewrite(files / "charges.csv", line, line + line)
    rewrite(files / "readings.csv", "2026-10;45210,0;", "2026-10;1234567,05;")
    code, out, err = run_import(url, files, "--skip-bad", capsys=capsys)
    assert code == 0, err
    assert "charges.csv, строка 3, поле «service»: строка повторяет ключ" in err, err
    assert "readings.csv, строка 3, поле «value»: показание не помещается на счётчик" in err, err
    assert "у показания больше знаков после запятой" not in err  # the line was left out already
    assert query(url, "SELECT status, lines_skipped FROM import_runs") == [("imported", 2)]
    assert "пропущено 2" in out
    assert len(query(url, "SELECT id FROM readings")) == 1


# --- recalculation on the demo: residents' logins, readings and portal payments untouched -----------------


def test_recalculation_replaces_the_month(
    database_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from portal.demo.accounts import HAPPY_PATH_APARTMENT, account_number

    number = account_number(HAPPY_PATH_APARTMENT)
    before_users = query(database_url, "SELECT * FROM users ORDER BY id")
    before_readings = query(database_url, "SELECT * FROM readings ORDER BY id")
    before_payments = query(database_url, "SELECT * FROM payments ORDER BY id")
    charges_sql = (
        "SELECT v.code, c.charged_kopecks, c.recalculation_kopecks FROM charges c "
        "JOIN accounts a ON a.id = c.account_id JOIN services v ON v.id = c.service_id "
        f"WHERE a.number = '{number}' AND c.period = '2026-10-01' ORDER BY v.code"
    )
    before = query(database_url, charges_sql)
    assert len(before) == 8
    other_months = query(database_url, "SELECT count(*) FROM charges WHERE period <> '2026-10-01'")
    lines = ["account;month;service;volume;tariff;charged;recalculation"]
    for code, charged, _ in before:
        if code == "solid_waste":
            continue  # no longer charged this month
        corrected = charged + 1000 if code == "heating" else charged
        lines.append(f"{number};2026-10;{code};1;0,00;{corrected // 100},{corrected % 100:02d};-5,00")
    (tmp_path / "charges-2026-10.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    code, _, err = run_import(database_url, tmp_path / "charges-2026-10.csv", capsys=capsys)
    assert code == 0, err
    after = dict((c, (ch, r)) for c, ch, r in query(database_url, charges_sql))
    assert "solid_waste" not in after and len(after) == 7
    assert after["heating"] == (dict((c, ch) for c, ch, _ in before)["heating"] + 1000, -500)
    assert query(database_url, "SELECT count(*) FROM charges WHERE period <> '2026-10-01'") == other_months
    assert query(database_url, "SELECT * FROM users ORDER BY id") == before_users
    assert query(database_url, "SELECT * FROM readings ORDER BY id") == before_readings
    assert query(database_url, "SELECT * FROM payments ORDER BY id") == before_payments


# --- the receipt's payees come from the import ------------------------------------------------------------


def _with_key(account: str, bic: str) -> str:
    """``account`` with its 9th digit set so that the control key against ``bic`` holds."""
    for digit in "0123456789":
        candidate = account[:8] + digit + account[9:]
        try:
            fields.check_settlement_account(candidate, bic)
        except fields.FieldError:
            continue
        return candidate
    raise AssertionError("no key digit")


async def test_receipt_prints_the_imported_requisites(portal: Portal, tmp_path: Path) -> None:
    from portal.receipts.payees import BILLING_CENTER

    new_account = _with_key("40702810000000099999", BILLING_CENTER.bic)
    source = (
        (EXAMPLES / "payees.csv").read_text(encoding="utf-8").replace(BILLING_CENTER.account, new_account)
    )
    (tmp_path / "payees.csv").write_text(source, encoding="utf-8")
    from portal.exchange.service import import_paths

    async with portal.state.sessionmaker() as session:
        report = await import_paths(session, [tmp_path / "payees.csv"], operator="test")
        assert report.status == "imported", report.errors
        await session.commit()
    headers = await portal.login_as()
    response = await portal.client.get("/api/v1/receipts/2026-10/payment-codes", headers=headers)
    assert response.status_code == 200, response.text
    assert f"PersonalAcc={new_account}" in response.json()["utilities"]["payload"]


# --- an import killed at any point leaves the previous state; running it again completes it --------------


def test_kill_9_mid_import_then_rerun(url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    sys.path.insert(0, str(ROOT))
    from bench.exchange import write_region

    region = tmp_path / "region"
    write_region(region, 3_000)
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    command = [sys.executable, "-m", "portal.cli", "import", "--database-url", url, str(region)]
    for marker in ("начисления — проверка", "счётчики: запись в базу", "показания: запись в базу"):
        process = subprocess.Popen(
            command, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
        )
        assert process.stderr is not None
        deadline = time.monotonic() + 120
        for line in process.stderr:
            if marker in line or time.monotonic() > deadline:
                break
        os.kill(process.pid, signal.SIGKILL)
        process.wait()
        process.stdout.close()  # type: ignore[union-attr]
        process.stderr.close()
        assert process.returncode == -signal.SIGKILL
        assert query(url, "SELECT count(*) FROM accounts") == [(0,)], marker  # the previous (empty) state
        assert query(url, "SELECT count(*) FROM import_runs") == [(0,)]
    code, _, err = run_import(url, region, capsys=capsys)
    assert code == 0, err
    assert query(url, "SELECT count(*) FROM accounts") == [(3_000,)]
    assert query(url, "SELECT count(*) FROM charges") == [(24_000,)]
    assert query(url, "SELECT count(*) FROM payments") == [(3_000,)]


def test_an_import_empties_the_residents_cache() -> None:
    from portal.kit.cache import ResidentCache

    cache = ResidentCache(enabled=True)
    cache.remember_view(7, "summary", cache.epoch(7), b"{}")
    epoch_of_an_unseen_account = cache.epoch(99)  # a view of account 99 is being computed …
    cache.apply("views:all")  # … when an import commits
    assert cache.view(7, "summary") is None
    cache.remember_view(99, "summary", epoch_of_an_unseen_account, b"{}")
    assert cache.view(99, "summary") is None


# --- the SQL fast path says yes only where the Python parser does, with the same value --------------------

TRICKY = (
    "",
    " ",
    "0",
    "00",
    "-0",
    "1",
    "-1",
    "12,5",
    "12.50",
    "1 234,56",
    "1\u00a0234,56",
    "1234567",
    "12,345",
    "0,0001",
    "99999999",
    "1000000000",
    "9999999999999,99",
    "10000000000000,00",
    "+5",
    "1e3",
    "31.12.2099",
    "01.01.2100",
    "31.12.1999",
    "29.02.2024",
    "29.02.2025",
    "31.04.2026",
    "2026-02-28",
    "2026-13-01",
    "0000-01-01",
    "2026-10",
    "2026-00",
    "1999-12",
    "24.10.2026 10:15",
    "24.10.2026 24:00",
    "24.10.2026 23:60",
    "2026-10-24T10:15:00+03:00",
    "cold_water",
    "Cold_water",
    "_x",
    "a" * 40,
    "a" * 41,
    "7700000001",
    "77000",
    "X12345",
    "А-12/3",
    "bank",
    "BANK",
    "post",
    "remote",
    "controller",
    "utilities",
    "area",
    " padded ",
    "12,5 ",
    " 12,5",
    "\u2003x",
    "x\u2003",
    "1 234 567,89",
    "-9999999999999,99",
    "9999999999999,999",
    "9999999999999999",
    "99999999999999999",
    "12345678901,5",
    "123456789,123",
    "12,3456",
    "12,34567",
    "0,00",
    "-0,00",
    "0,01",
    "29.02.2024 10:15",
    "29.02.2025 10:15",
    "31.12.2099 23:59",
    "Remote",
    "C123 ",
    "C-12/3.4",
)


#: The usual shapes of the files' values, from which near misses are made.
SHAPES = (
    "1642,74",
    "-1642,74",
    "0,00",
    "3 200,00",
    "52,400",
    "45210,123",
    "38,10",
    "7700000001",
    "2026-10",
    "15.03.2021",
    "2021-03-15",
    "24.10.2026 10:15",
    "cold_water",
    "C000000017",
    "5",
    "120",
)
#: What a near miss may put in: the shapes' own characters and a few others.
NEAR = "0123456789,.-: \u00a0\u202f\u2003aZЖ_/+eT"


def near_misses(count: int, seed: int = 12) -> list[str]:
    """Values one or two edits (a character changed, added or dropped) away from the usual shapes."""
    import random

    generator = random.Random(seed)
    values: list[str] = []
    for _ in range(count):
        value = generator.choice(SHAPES)
        for _ in range(generator.choice((1, 1, 2))):
            at = generator.randrange(len(value) + 1)
            edit = generator.randrange(3)
            if edit == 0 and at < len(value):
                value = value[:at] + generator.choice(NEAR) + value[at + 1 :]
            elif edit == 1:
                value = value[:at] + generator.choice(NEAR) + value[at:]
            else:
                value = value[:at] + value[at + 1 :]
        values.append(value)
    return values


@pytest.mark.postgres
def test_sql_fast_path_agrees_with_the_python_parser() -> None:
    """Every value the SQL takes, Python takes too, with the same value: the tricky ones above, and
    5 000 near misses of the usual shapes (the shapes are told by lists, ``LIKE`` and short regular
    expressions: a near miss is where a wrong one would let something through)."""
    from portal.exchange.kinds import KINDS

    base = pg_url()
    if base is None:
        pytest.skip("PostgreSQL tests need KABINET_TEST_DATABASE_URL")

    checked: list[str] = []
    values = sorted(set(TRICKY) | set(near_misses(5_000)) | set(SHAPES))

    async def go() -> list[str]:
        engine = create_engine(base)
        problems: list[str] = []
        try:
            async with engine.connect() as connection:
                for kind in KINDS:
                    for spec in kind.fields:
                        if spec.sql is None:
                            continue
                        rows = (
                            await connection.execute(
                                text(
                                    f"SELECT v, CASE WHEN {spec.sql.ok_for('v')} "
                                    f"THEN CAST({spec.sql.value_for('v')} AS text) END "
                                    f"FROM unnest(CAST(:values AS text[])) AS v WHERE {spec.sql.ok_for('v')}"
                                ),
                                {"values": values},
                            )
                        ).all()
                        for value, converted in rows:
                            checked.append(value)
                            if not spec.required and not value.strip():
                                python: Any = spec.default
                            else:
                                try:
                                    python = spec.parse(value)
                                except fields.FieldError as exc:
                                    problems.append(
                                        f"{kind.name}.{spec.name} {value!r}: SQL ok, Python {exc}"
                                    )
                                    continue
                            if python is None:
                                same = converted is None
                            elif hasattr(python, "tzinfo"):
                                same = dt.datetime.fromisoformat(converted) == python
                            else:
                                same = str(python) == converted or (
                                    hasattr(python, "year") and python.isoformat() == converted
                                )
                            if not same:
                                problems.append(
                                    f"{kind.name}.{spec.name} {value!r}: {converted} ≠ {python!r}"
                                )
        finally:
            await engine.dispose()
        return problems

    assert asyncio.run(go()) == []
    assert len(checked) > 1_000  # the fast path does take the usual shapes
