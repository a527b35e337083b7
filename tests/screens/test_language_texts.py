"""Words that used to come out in the wrong language: Textual's own, the palette's, ``kabinet --help``."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from textual.command import CommandList
from textual.pilot import Pilot

from app import build_parser, cli_language
from tests.support.app import login, make_app, settle, wait_for, wait_ready
from tui.i18n import Language

CYRILLIC = re.compile(r"[а-яё]", re.IGNORECASE)


def _help(language: Language) -> str:
    return build_parser(language).format_help()


def test_help_is_russian_by_default_and_english_with_lang_en(capsys: pytest.CaptureFixture[str]) -> None:
    russian = _help("ru")
    assert "использование: kabinet" in russian and "показать эту справку и выйти" in russian
    # argparse's and the options' English words (as `kabinet --help` printed them before) are gone.
    english_words = (
        "usage:",
        "options:",
        "show this help",
        "portal API",
        "interface language",
        "Other commands",
    )
    assert not [words for words in english_words if words in russian]
    english = _help("en")
    assert "usage: kabinet" in english and not CYRILLIC.search(english)
    assert cli_language(["--lang", "en", "--help"]) == "en"
    assert cli_language(["--lang=en"]) == "en"
    with pytest.raises(SystemExit):
        build_parser("ru").parse_args(["--bogus"])
    assert "неизвестные параметры: --bogus" in capsys.readouterr().err


async def test_ctrl_c_hint_is_in_the_interface_language(tmp_path: Path, app_data_dir: Path) -> None:
    for language, words in (("ru", "Ctrl+Q"), ("en", "Ctrl+Q")):
        app = make_app(tmp_path, app_data_dir, language=language)
        async with app.run_test(size=(80, 24)) as pilot:
            await wait_ready(pilot)
            app.action_help_quit()
            await pilot.pause()
            [note] = app._notifications
            text = f"{note.title} {note.message}"
            assert words in text
            assert bool(CYRILLIC.search(text)) == (language == "ru"), text


async def _palette_options(pilot: Pilot[None], query: str) -> list[str]:
    app = pilot.app
    await pilot.press("ctrl+p")
    await settle(pilot)
    await pilot.press(*query)
    await pilot.pause(1.0)  # the "nothing found" line comes after half a second
    options = app.screen.query_one(CommandList)
    texts = [str(options.get_option_at_index(i).prompt) for i in range(options.option_count)]
    await pilot.press("escape")
    await settle(pilot)
    return texts


async def test_palette_finds_by_help_and_says_nothing_found_in_russian(
    tmp_path: Path, app_data_dir: Path
) -> None:
    app = make_app(tmp_path, app_data_dir)
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_ready(pilot)
        for query, expected in (("пароль", "Восстановление пароля"), ("english", "Сменить язык")):
            assert any(expected in text for text in await _palette_options(pilot, query)), query
        assert any("Ничего не найдено" in text for text in await _palette_options(pilot, "zzqqxx"))
        await login(pilot)
        await wait_for(pilot, lambda: app.account_number is not None)
        await settle(pilot)
        assert any("Профиль" in text for text in await _palette_options(pilot, "пароль"))
        assert any("Сменить оформление" in text for text in await _palette_options(pilot, "тема"))


async def test_every_command_has_words_in_both_languages(tmp_path: Path, app_data_dir: Path) -> None:
    for language in ("ru", "en"):
        app = make_app(tmp_path, app_data_dir, language=language)
        async with app.run_test(size=(80, 24)) as pilot:
            await wait_ready(pilot)
            for account in (None, "3500012007"):
                app.account_number = account
                for command in app.get_system_commands(app.screen):
                    assert "⟨" not in command.title + command.help, command
            assert not app.t.missing
