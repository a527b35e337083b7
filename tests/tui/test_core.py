"""The terminal app's non-visual core: money, dates, readings, masking, translations, settings."""

from __future__ import annotations

import datetime as dt
import os
from decimal import Decimal
from pathlib import Path

import pytest
import tomli_w

from tests.support.imports import imported_after
from tui import config as config_module
from tui.config import (
    ADMIN_CONFIG_PATH,
    Config,
    ConfigError,
    load_config,
    save_user_preferences,
)
from tui.formatting import (
    InputError,
    Money,
    currency_symbol,
    format_date,
    format_datetime,
    format_day_month,
    format_money,
    format_month,
    format_reading,
    mask_account,
    mask_email,
    month_name,
    month_name_genitive,
    parse_date,
    parse_reading,
    reading_example,
    set_ascii_currency,
)
from tui.i18n import (
    LANGUAGES,
    PORTAL_ERROR_CODES,
    Translator,
    load_catalogue,
    placeholders,
    plural_category,
)

NBSP = "\u00a0"

# --- money ---------------------------------------------------------------------------------------------


def test_money_is_shown_like_the_receipt() -> None:
    assert str(Money(102312)) == f"1{NBSP}023,12{NBSP}₽"
    assert str(Money(0)) == f"0,00{NBSP}₽"
    assert str(Money(5)) == f"0,05{NBSP}₽"
    assert str(Money(123456789012)) == f"1{NBSP}234{NBSP}567{NBSP}890,12{NBSP}₽"
    assert str(Money(-102312)) == f"−1{NBSP}023,12{NBSP}₽"


def test_money_draws_itself_right_aligned_for_tables() -> None:
    text = Money(102312).__rich__()
    assert text.plain == f"1{NBSP}023,12{NBSP}₽"
    assert text.justify == "right"


def test_console_without_the_ruble_sign_gets_rub() -> None:
    assert format_money(102312, currency="руб.") == f"1{NBSP}023,12{NBSP}руб."
    assert format_money(102312, currency="") == f"1{NBSP}023,12"
    set_ascii_currency(True)
    try:
        assert currency_symbol() == "руб."
        assert str(Money(100)) == f"1,00{NBSP}руб."
    finally:
        set_ascii_currency(False)
    assert str(Money(100)) == f"1,00{NBSP}₽"


@pytest.mark.parametrize(
    ("typed", "kopecks"),
    [
        ("1023.12", 102312),  # the three formats the FAQ and DOMAIN name
        ("1023,12", 102312),
        ("1 023,12", 102312),
        (f"1{NBSP}023,12", 102312),
        ("1\u202f023,12", 102312),
        ("1023", 102300),
        ("1023,1", 102310),
        ("  1023,12  ", 102312),
        ("0,05", 5),
        ("1 000 000", 100000000),
        (f"1{NBSP}023,12{NBSP}₽", 102312),  # a shown amount pasted back
        ("1023,12 руб.", 102312),
    ],
)
def test_money_parses_what_residents_type(typed: str, kopecks: int) -> None:
    assert Money.parse(typed) == Money(kopecks)


@pytest.mark.parametrize(
    ("typed", "key"),
    [
        ("", "input.amount_empty"),
        ("   ", "input.amount_empty"),
        ("1023,123", "input.amount_too_many_decimals"),
        ("-1023", "input.amount_invalid"),
        ("+1023", "input.amount_invalid"),
        ("10 23,12", "input.amount_invalid"),  # a group of two digits is a typo, not thousands
        ("1,023.12", "input.amount_invalid"),
        ("12a", "input.amount_invalid"),
        ("1023,", "input.amount_invalid"),
        ("1e3", "input.amount_invalid"),
        ("9" * 5000, "input.amount_invalid"),
    ],
)
def test_money_refuses_what_is_not_an_amount(typed: str, key: str) -> None:
    with pytest.raises(InputError) as caught:
        Money.parse(typed)
    assert caught.value.key == key
    assert isinstance(caught.value, ValueError)
    assert "1023,12" in str(caught.value)  # the message shows the allowed format


def test_money_sorts_by_amount_and_adds_up() -> None:
    amounts = [Money(500), Money(-100), Money(102312), Money(0)]
    assert sorted(amounts) == [Money(-100), Money(0), Money(500), Money(102312)]
    assert max(amounts) == Money(102312)
    assert Money(100) + Money(250) - Money(50) == Money(300)
    assert -Money(5) == Money(-5)
    assert len({Money(1), Money(1)}) == 1


def test_money_converts_to_and_from_decimal_exactly() -> None:
    assert Money.from_decimal(Decimal("1023.12")) == Money(102312)
    assert Money.from_decimal(Decimal("-0.5")) == Money(-50)
    assert Money(102312).to_decimal() == Decimal("1023.12")
    assert str(Money(100).to_decimal()) == "1.00"
    with pytest.raises(ValueError, match="fraction of a kopeck"):
        Money.from_decimal(Decimal("1.005"))
    with pytest.raises(TypeError):
        Money.from_decimal(1.5)  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        Money(1.5)  # type: ignore[arg-type]


# --- dates ---------------------------------------------------------------------------------------------


def test_dates_in_both_languages() -> None:
    day = dt.date(2026, 11, 25)
    assert format_date(day) == "25.11.2026"
    assert format_date(dt.date(2026, 1, 5)) == "05.01.2026"
    assert format_datetime(dt.datetime(2026, 11, 25, 9, 5)) == "25.11.2026 09:05"
    assert format_month(day, "ru") == "ноябрь 2026"
    assert format_month(day, "en") == "November 2026"
    assert month_name(5, "ru") == "май"
    assert month_name_genitive(11) == "ноября"
    assert month_name_genitive(5, "ru") == "мая"
    assert month_name_genitive(3, "en") == "March"
    assert format_day_month(day, "ru") == "25 ноября"
    assert format_day_month(day, "en") == "25 November"
    assert format_day_month(day, "ru", today=dt.date(2025, 12, 1)) == "25 ноября 2026"
    assert format_day_month(day, "ru", today=dt.date(2026, 1, 1)) == "25 ноября"
    with pytest.raises(ValueError):
        month_name(13)


def test_every_month_has_names_in_both_languages() -> None:
    for lang in LANGUAGES:
        names = [month_name_genitive(m, lang) for m in range(1, 13)]
        assert len(set(names)) == 12


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("25.11.2026", dt.date(2026, 11, 25)),
        ("5.1.2026", dt.date(2026, 1, 5)),
        ("2026-11-25", dt.date(2026, 11, 25)),
        (" 29.02.2028 ", dt.date(2028, 2, 29)),
    ],
)
def test_dates_parse_russian_and_iso(typed: str, expected: dt.date) -> None:
    assert parse_date(typed) == expected


@pytest.mark.parametrize(
    ("typed", "key"),
    [
        ("", "input.date_empty"),
        ("25/11/2026", "input.date_invalid"),
        ("2026-11-5", "input.date_invalid"),
        ("завтра", "input.date_invalid"),
        ("31.02.2026", "input.date_nonexistent"),
        ("2026-13-01", "input.date_nonexistent"),
    ],
)
def test_dates_refuse_nonsense_naming_the_format(typed: str, key: str) -> None:
    with pytest.raises(InputError) as caught:
        parse_date(typed)
    assert caught.value.key == key
    assert "ДД.ММ.ГГГГ" in str(caught.value) or "календаре" in str(caught.value)


# --- readings ------------------------------------------------------------------------------------------


def test_readings_are_shown_with_the_meters_decimals() -> None:
    assert format_reading(Decimal("12345.678"), 3) == f"12{NBSP}345,678"
    assert format_reading(Decimal("123.4"), 3) == "123,400"
    assert format_reading(Decimal("5"), 0) == "5"
    assert format_reading(Decimal("1234.5")) == f"1{NBSP}234,5"
    assert format_reading(Decimal("0.123"), 3) == "0,123"
    assert reading_example(5, 3) == "12345,678"
    assert reading_example(6, 0) == "123456"


@pytest.mark.parametrize(
    ("typed", "integer_digits", "decimals", "expected"),
    [
        ("12345,678", 5, 3, Decimal("12345.678")),
        ("12345.678", 5, 3, Decimal("12345.678")),
        ("12 345,678", 5, 3, Decimal("12345.678")),
        ("123,4", 5, 3, Decimal("123.400")),
        ("00123,456", 5, 3, Decimal("123.456")),  # leading zeros as on the dial
        ("123", 5, 3, Decimal("123.000")),
        ("4567", 6, 0, Decimal("4567")),
        (" 4567 ", 6, 0, Decimal("4567")),
    ],
)
def test_readings_parse_with_comma_or_dot(
    typed: str, integer_digits: int, decimals: int, expected: Decimal
) -> None:
    value = parse_reading(typed, integer_digits, decimals)
    assert value == expected
    assert value.as_tuple().exponent == -decimals


@pytest.mark.parametrize(
    ("typed", "integer_digits", "decimals", "key", "words"),
    [
        ("123,4567", 5, 3, "input.reading_too_many_decimals_decimal", "после запятой не более 3 цифр"),
        ("123,45", 5, 1, "input.reading_too_many_decimals_decimal", "после запятой не более 1 цифры"),
        ("123456,1", 5, 3, "input.reading_too_many_digits_decimal", "до запятой не более 5 цифр и 3 после"),
        ("12,5", 6, 0, "input.reading_too_many_decimals_integer", "без запятой"),
        ("1234567", 6, 0, "input.reading_too_many_digits_integer", "не более 6 цифр"),
        ("12a", 5, 3, "input.reading_invalid_decimal", "12345,678"),
        ("-5", 6, 0, "input.reading_invalid_integer", "123456"),
        ("", 5, 2, "input.reading_empty", "12345,67"),
    ],
)
def test_readings_refuse_more_digits_than_the_meter_has(
    typed: str, integer_digits: int, decimals: int, key: str, words: str
) -> None:
    with pytest.raises(InputError) as caught:
        parse_reading(typed, integer_digits, decimals)
    assert caught.value.key == key
    assert words in str(caught.value).lower()
    english = caught.value.message(Translator("en"))
    assert "⟨" not in english and english[0].isupper()


def test_reading_error_speaks_english_with_english_plurals() -> None:
    with pytest.raises(InputError) as caught:
        parse_reading("1,2345", 5, 3)
    assert (
        caught.value.message(Translator("en")) == "At most 3 digits after the comma, for example 12345,678."
    )
    assert str(caught.value) == "После запятой не более 3 цифр, например 12345,678."


# --- masking -------------------------------------------------------------------------------------------


def test_personal_data_is_masked_on_shared_screens() -> None:
    assert mask_account("3500000107") == "35******07"
    assert mask_account("350007") == "35**07"
    assert mask_account("1234") == "****"
    assert mask_email("kv7@demo.kabinet.local") == "k**@demo.kabinet.local"
    assert mask_email("a@b.ru") == "a@b.ru"
    assert mask_email("not-an-email") == "n***********"


# --- translations --------------------------------------------------------------------------------------


def test_translator_substitutes_parameters() -> None:
    t = Translator()
    assert t.lang == "ru"
    assert t("app.title") == "Личный кабинет"
    assert t("login.demo_hint", account="3500000107", password="Demo") == (
        "Демо: лицевой счет 3500000107, пароль Demo"
    )
    assert t("home.window_open", day_month=format_day_month(dt.date(2026, 11, 25), t.lang)) == (
        "Приём показаний до 25 ноября"
    )
    t.set_language("en")
    assert str(t.lang) == "en"  # str(): mypy still believes the "ru" narrowed above
    assert t("login.submit") == "Log in"
    assert t("home.window_closed", day_month="15 December") == "Readings will be accepted from 15 December"
    with pytest.raises(ValueError, match="ru, en"):
        t.set_language("de")
    with pytest.raises(ValueError):
        Translator("fr")  # type: ignore[arg-type]


def test_translator_words_from_the_faq() -> None:
    t = Translator("ru")
    for key, words in {
        "login.account_number": "Лицевой счет",
        "login.submit": "Войти",
        "login.forgot_password": "Забыли пароль?",
        "registration.find": "Найти",
        "registration.receipt_total": "Итого к оплате за указанный месяц",
        "registration.email": "Введите e-mail",
        "registration.email_repeat": "Введите e-mail повторно",
        "registration.accept_terms": "Принять условия соглашения",
        "readings.new": "Новое показание",
        "readings.previous": "Предыдущее показание",
        "readings.submit": "Внести показания",
        "reading_history.show": "Показать",
        "statement.title": "Начисления и платежи",
        "statement.column_opening": "Входящее сальдо",
        "receipts.title": "Печать квитанций",
        "receipts.generate": "Сформировать квитанцию",
        "profile.save": "Сохранить изменения",
        "nav.logout": "Выход",
        "login.capital_repair_payment": "Оплата взноса ФКР",
    }.items():
        assert t(key) == words


def test_missing_key_is_visible_and_recorded() -> None:
    t = Translator("en")
    assert t("login.no_such_key") == "⟨login.no_such_key⟩"
    assert t.missing == {"login.no_such_key"}


def test_missing_parameter_does_not_crash_the_screen() -> None:
    t = Translator("ru")
    assert t("login.demo_hint", account="1") == "Демо: лицевой счет {account}, пароль {password}"
    assert t.faulty == {"login.demo_hint"}


def test_russian_plural_forms() -> None:
    assert [plural_category("ru", n) for n in (1, 2, 4, 5, 11, 12, 21, 22, 25, 111, 0)] == [
        0, 1, 1, 2, 2, 2, 0, 1, 2, 2, 2,
    ]  # fmt: skip
    assert [plural_category("en", n) for n in (1, 2, 0, 21)] == [0, 1, 1, 1]
    t = Translator("ru")
    assert t("recovery.password_rules", length=8).startswith("Не менее 8 символов;")
    assert t("recovery.password_rules", length=21).startswith("Не менее 21 символа;")


def test_both_catalogues_have_the_same_keys_and_placeholders() -> None:
    ru, en = load_catalogue("ru"), load_catalogue("en")
    assert set(ru) == set(en), set(ru) ^ set(en)
    differing = {key for key in ru if placeholders(ru[key]) != placeholders(en[key])}
    assert not differing, differing
    assert all(value.strip() for value in (*ru.values(), *en.values()))


def test_catalogue_plural_specs_have_the_languages_number_of_forms() -> None:
    import string

    for lang, forms in (("ru", 3), ("en", 2)):
        for key, template in load_catalogue(lang).items():
            for _, _, spec, _ in string.Formatter().parse(template):
                if spec and spec.startswith("plural:"):
                    assert len(spec.split("|")) == forms, (lang, key)


def test_every_portal_error_code_has_a_message() -> None:
    for lang in LANGUAGES:
        t = Translator(lang)
        for code in PORTAL_ERROR_CODES:
            assert t.has(f"error.{code}"), (lang, code)
            assert "⟨" not in t.error(code)
        assert not t.missing
    assert Translator("ru").error("brand_new_code", "Сообщение портала") == "Сообщение портала"
    assert "brand_new_code" in Translator("en").error("brand_new_code")


def test_every_screen_has_a_command_and_a_description() -> None:
    ru = load_catalogue("ru")
    screens = {key.removeprefix("nav.") for key in ru if key.startswith("nav.")}
    for screen in screens:
        assert f"command.{screen}" in ru
        assert f"command.{screen}_help" in ru


# --- settings ------------------------------------------------------------------------------------------


def _write(path: Path, table: dict[str, object]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(tomli_w.dumps(table).encode())
    return path


@pytest.fixture
def paths(tmp_path: Path) -> tuple[Path, Path]:
    return tmp_path / "home" / "config.toml", tmp_path / "etc" / "config.toml"


def test_defaults_without_any_file(paths: tuple[Path, Path]) -> None:
    user, admin = paths
    config = load_config(user, admin)
    assert config == Config()
    assert config.language == "ru"
    assert config.theme == "textual-dark"
    assert config.idle_timeout_seconds == 120
    assert config.kiosk is False
    assert config.last_account_number is None
    assert config.resolved_downloads_dir().is_absolute()


def test_user_overrides_admin_unless_the_key_is_locked(paths: tuple[Path, Path]) -> None:
    user, admin = paths
    _write(
        admin,
        {
            "theme": "nord",
            "language": "en",
            "server_url": "https://lk.example.ru",
            "printer": "office",
            "locked": {"keys": ["server_url", "printer"]},
        },
    )
    _write(user, {"language": "ru", "server_url": "http://evil.example", "printer": "home"})
    config = load_config(user, admin, overrides={"theme": "gruvbox", "printer": "cli", "kiosk": None})
    assert config.theme == "gruvbox"  # command line > admin
    assert config.language == "ru"  # user > admin
    assert config.server_url == "https://lk.example.ru"  # locked: the user's value is ignored
    assert config.printer == "office"  # locked beats the command line too
    assert config.kiosk is False  # None in overrides means "not given"
    assert config.locked_keys == {"server_url", "printer"}


def test_admin_kiosk_cannot_be_switched_off_by_the_user(paths: tuple[Path, Path]) -> None:
    user, admin = paths
    _write(admin, {"kiosk": True, "idle_timeout_seconds": 60})
    _write(user, {"kiosk": False, "idle_timeout_seconds": 600})
    config = load_config(user, admin, overrides={"kiosk": False})
    assert config.kiosk is True
    assert config.idle_timeout_seconds == 600  # not locked
    assert "kiosk" in config.locked_keys


def test_unknown_key_is_refused_naming_file_and_key(paths: tuple[Path, Path]) -> None:
    user, admin = paths
    _write(user, {"langauge": "en"})
    with pytest.raises(ConfigError) as caught:
        load_config(user, admin)
    message = str(caught.value)
    assert str(user) in message and "'langauge'" in message and "language" in message
    assert caught.value.key == "langauge"


@pytest.mark.parametrize(
    ("key", "value", "allowed"),
    [
        ("language", "de", "must be one of ru, en"),
        ("language", 1, "must be one of ru, en"),
        ("theme", "", "non-empty string"),
        ("last_account_number", 3500000107, "6 to 20 digits"),
        ("last_account_number", "12345", "6 to 20 digits"),
        ("last_account_number", "35000001O7", "6 to 20 digits"),
        ("server_url", "ftp://example.ru", "http:// or https://"),
        ("server_url", "https://", "http:// or https://"),
        ("downloads_dir", "relative/dir", "absolute folder path"),
        ("downloads_dir", 5, "absolute folder path"),
        ("kiosk", "yes", "true or false"),
        ("console_profile", 1, "true or false"),
        ("idle_timeout_seconds", 10, "at least 30"),
        ("idle_timeout_seconds", "120", "at least 30"),
        ("idle_timeout_seconds", True, "at least 30"),
        ("printer", [], "non-empty string"),
    ],
)
def test_wrong_type_is_refused(paths: tuple[Path, Path], key: str, value: object, allowed: str) -> None:
    user, admin = paths
    _write(admin, {key: value})
    with pytest.raises(ConfigError) as caught:
        load_config(user, admin)
    assert str(caught.value).startswith(f"{admin}: key '{key}' ")
    assert allowed in str(caught.value)


def test_spec_example_message(paths: tuple[Path, Path]) -> None:
    user, admin = paths
    _write(user, {"language": "de"})
    with pytest.raises(ConfigError, match=r"config\.toml: key 'language' must be one of ru, en$"):
        load_config(user, admin)


def test_values_are_typed(paths: tuple[Path, Path], tmp_path: Path) -> None:
    user, admin = paths
    _write(user, {"downloads_dir": "~/Квитанции", "idle_timeout_seconds": 30, "console_profile": True})
    config = load_config(user, admin, overrides={"downloads_dir": tmp_path})
    assert config.downloads_dir == tmp_path
    assert config.resolved_downloads_dir() == tmp_path
    assert config.console_profile is True
    assert load_config(user, admin).downloads_dir == Path.home() / "Квитанции"


def test_broken_files_and_misplaced_locks_are_refused(paths: tuple[Path, Path]) -> None:
    user, admin = paths
    user.parent.mkdir(parents=True)
    user.write_text("language = ", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"config\.toml: not valid TOML"):
        load_config(user, admin)
    _write(user, {"locked": {"keys": ["theme"]}})
    with pytest.raises(ConfigError, match="administrator's file"):
        load_config(user, admin)
    _write(user, {})
    _write(admin, {"locked": {"keys": ["colour"]}})
    with pytest.raises(ConfigError, match="unknown keys colour"):
        load_config(user, admin)
    with pytest.raises(ConfigError, match="command line: key 'language'"):
        load_config(user, user, overrides={"language": "xx"})


def test_save_round_trip_keeps_the_users_other_keys(paths: tuple[Path, Path]) -> None:
    user, admin = paths
    _write(user, {"printer": "home-laser", "theme": "nord"})
    config = load_config(user, admin)
    config.language = "en"
    config.theme = "gruvbox"
    config.last_account_number = "3500000107"
    assert save_user_preferences(config, user) == user
    again = load_config(user, admin)
    assert (again.language, again.theme, again.last_account_number, again.printer) == (
        "en",
        "gruvbox",
        "3500000107",
        "home-laser",
    )
    # Forgetting the account number removes it from the file.
    again.last_account_number = None
    save_user_preferences(again, user)
    assert "last_account_number" not in user.read_text(encoding="utf-8")
    assert [p.name for p in user.parent.iterdir()] == ["config.toml"]  # no temporary file left


def test_preferences_are_saved_to_the_file_they_were_read_from(
    paths: tuple[Path, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``--config PATH`` (and the tests' own files) are written back, never the user's default file."""
    user, admin = paths
    default = tmp_path / "default-config-home" / "config.toml"
    monkeypatch.setattr("tui.config.user_config_path", lambda: default)
    config = load_config(user, admin)
    config.language = "en"
    assert save_user_preferences(config) == user
    assert load_config(user, admin).language == "en"
    assert not default.exists()


def test_save_creates_folders_with_private_permissions(tmp_path: Path) -> None:
    target = tmp_path / "a" / "b" / "config.toml"
    save_user_preferences(Config(language="en"), target)
    assert load_config(target, tmp_path / "none.toml").language == "en"
    if os.name == "posix":
        assert target.stat().st_mode & 0o077 == 0


def test_save_refuses_invalid_values(tmp_path: Path) -> None:
    config = Config()
    config.language = "xx"  # type: ignore[assignment]
    with pytest.raises(ConfigError, match="language"):
        save_user_preferences(config, tmp_path / "config.toml")
    assert not (tmp_path / "config.toml").exists()


def test_admin_file_is_never_written(paths: tuple[Path, Path]) -> None:
    user, admin = paths
    _write(admin, {"theme": "nord", "language": "en"})
    before = admin.read_bytes(), admin.stat().st_mtime_ns
    config = load_config(user, admin)
    config.language = "ru"
    save_user_preferences(config, user)
    assert (admin.read_bytes(), admin.stat().st_mtime_ns) == before
    with pytest.raises(ConfigError, match="administrator's file"):
        save_user_preferences(config, admin)
    with pytest.raises(ConfigError, match="administrator's file"):
        save_user_preferences(config, ADMIN_CONFIG_PATH)
    assert (admin.read_bytes(), admin.stat().st_mtime_ns) == before


def test_locked_preferences_are_not_written(paths: tuple[Path, Path]) -> None:
    user, admin = paths
    _write(admin, {"theme": "nord", "locked": {"keys": ["theme"]}})
    config = load_config(user, admin)
    config.theme = "gruvbox"
    save_user_preferences(config, user)
    assert "theme" not in user.read_text(encoding="utf-8")


def test_kiosk_never_saves_the_account_number(paths: tuple[Path, Path]) -> None:
    user, admin = paths
    _write(admin, {"kiosk": True})
    _write(user, {"last_account_number": "3500000107"})  # left over from before the kiosk
    config = load_config(user, admin)
    config.last_account_number = "3500000215"
    config.language = "en"
    save_user_preferences(config, user)
    text = user.read_text(encoding="utf-8")
    assert "3500000215" not in text and "3500000107" not in text
    assert load_config(user, admin).language == "en"


def test_every_config_key_has_a_rule() -> None:
    assert set(config_module._RULES) == config_module.CONFIG_KEYS


def test_default_user_path_is_in_the_platforms_config_folder() -> None:
    path = config_module.user_config_path()
    assert path.name == "config.toml" and path.parent.name == "kabinet"


# --- import hygiene ------------------------------------------------------------------------------------


@pytest.mark.parametrize("module", ["tui.formatting", "tui.i18n", "tui.config"])
def test_formatting_translations_and_settings_load_rich_only_when_drawing(module: str) -> None:
    assert imported_after(module, {"rich", "tomli_w"}) == ""
