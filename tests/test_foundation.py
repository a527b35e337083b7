"""Migrations, settings, the command line, money parsing and the repository's own checks."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import pytest
from alembic import command
from alembic.config import Config

from portal.migrations import alembic_config
from portal.money import format_rubles, multiply_to_kopecks
from portal.settings import DEFAULT_SECRET_KEY, Settings

ROOT = Path(__file__).resolve().parent.parent


def test_money_is_formatted_and_multiplied_exactly() -> None:
    assert format_rubles(102312) == "1\u00a0023,12 ₽"
    assert format_rubles(-5) == "-0,05 ₽"
    assert multiply_to_kopecks(Decimal("3.125"), 4567) == 14272  # 14271.875 rounds half up


def test_default_secret_is_refused_outside_demo() -> None:
    with pytest.raises(SystemExit, match="KABINET_SECRET_KEY"):
        Settings(
            database_url="sqlite+aiosqlite:///x.db", secret_key=DEFAULT_SECRET_KEY
        ).check_production_safety()
    Settings(database_url="sqlite+aiosqlite:///x.db", demo=True).check_production_safety()
    strong = "kq3V9x-ZtP7mWc2LrB8nYd4HsF6jAe1Gu0Qo5TiXvKw"  # a secrets.token_urlsafe(32)
    Settings(database_url="sqlite+aiosqlite:///x.db", secret_key=strong).check_production_safety()


@pytest.mark.parametrize(
    "weak",
    [" " * 32, "a" * 32, "s" * 40, "abab" * 10, "0123" * 10, "\u00e9" * 32],
)
def test_secret_without_entropy_is_refused(weak: str) -> None:
    """Long enough but not random: the same few characters over and over."""
    with pytest.raises(SystemExit, match="KABINET_SECRET_KEY") as refused:
        Settings(database_url="sqlite+aiosqlite:///x.db", secret_key=weak).check_production_safety()
    assert "random" in str(refused.value)


def test_settings_come_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KABINET_READING_WINDOW_START_DAY", "10")
    monkeypatch.setenv("KABINET_DATABASE_URL", "postgresql+asyncpg://u@h/db")
    settings = Settings()
    assert settings.reading_window_start_day == 10
    assert not settings.is_sqlite
    monkeypatch.setenv("KABINET_READING_WINDOW_START_DAY", "40")
    with pytest.raises(ValueError, match="reading_window_start_day"):
        Settings()


def _migrate_round_trip(config: Config) -> None:
    command.upgrade(config, "head")
    command.check(config)  # the models and the migrations agree
    command.downgrade(config, "base")
    command.upgrade(config, "head")


def test_migrations_match_the_models_on_sqlite(tmp_path: Path) -> None:
    _migrate_round_trip(alembic_config(f"sqlite+aiosqlite:///{tmp_path / 'm.db'}"))


@pytest.mark.postgres
def test_migrations_match_the_models_on_postgres() -> None:
    import asyncio

    from tests.conftest import PG_URL_ENV, pg_create_database, pg_database_name, pg_drop_database, pg_url

    if pg_url() is None:
        pytest.skip(f"PostgreSQL tests need {PG_URL_ENV}")
    name = pg_database_name("mig")
    url = asyncio.run(pg_create_database(name))
    try:
        _migrate_round_trip(alembic_config(url))
    finally:
        asyncio.run(pg_drop_database(name))


def _cli(*args: str, data_dir: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "portal.cli", *args, "--data-dir", str(data_dir)],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=ROOT,
        check=False,
    )


def test_cli_seeds_and_lists_the_demo(tmp_path: Path) -> None:
    seeded = _cli("seed-demo", data_dir=tmp_path)
    assert seeded.returncode == 0, seeded.stderr
    listing = _cli("demo-accounts", "--json", data_dir=tmp_path)
    assert listing.returncode == 0, listing.stderr
    accounts = json.loads(listing.stdout)
    assert any(item["password"] for item in accounts)
    unregistered = [item for item in accounts if not item["password"]]
    assert unregistered and all(item["receipt_total"] for item in unregistered)
    again = _cli("seed-demo", data_dir=tmp_path)  # a second run neither fails nor duplicates
    assert again.returncode == 0, again.stderr
    assert json.loads(_cli("demo-accounts", "--json", data_dir=tmp_path).stdout) == accounts


def test_demo_accounts_on_a_fresh_machine_seeds_the_demo_first(tmp_path: Path) -> None:
    """`make demo-accounts` before the app or the portal ever ran: the list, not a traceback."""
    listing = _cli("demo-accounts", data_dir=tmp_path)
    assert listing.returncode == 0, listing.stderr
    assert "3500012007  пароль: Demo-Pass-2026" in listing.stdout
    # The receipt total to type at registration, written as the receipt writes it (decimal comma).
    assert re.search(r"3500012012 .*итого к оплате: \d+,\d\d\)", listing.stdout), listing.stdout


def test_serve_refuses_default_secrets_outside_demo(tmp_path: Path) -> None:
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "portal.cli",
            "serve",
            "--database-url",
            f"sqlite+aiosqlite:///{tmp_path}/x.db",
        ],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=ROOT,
        check=False,
        env={"PATH": "/usr/bin:/bin", "HOME": str(tmp_path)},
    )
    assert result.returncode != 0
    assert "KABINET_SECRET_KEY" in result.stderr


def test_ruff_is_clean() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "ruff", "check", "."], cwd=ROOT, capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_mypy_is_clean() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "mypy"], cwd=ROOT, capture_output=True, text=True, check=False, timeout=600
    )
    assert result.returncode == 0, result.stdout + result.stderr
