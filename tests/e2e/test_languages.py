"""End to end in tmux at 80×24, through the FAQ's flows, in Russian and in English: no untranslated key
(``⟨…⟩``) and no words of the other language appear anywhere on the way.

The resident's own data come from the portal in Russian (address, name, the capital repair fund's
name); they are taken out before the check. Everything else must be in the interface's language.
"""

from __future__ import annotations

import asyncio
import re
import shutil
import sys
from pathlib import Path

import pytest

from hosting.embedded import EmbeddedPortal
from tests.support.app import HAPPY, PASSWORD
from tests.support.tmux import ROOT, Terminal
from tui.client import PortalClient

pytestmark = [pytest.mark.skipif(shutil.which("tmux") is None, reason="needs tmux"), pytest.mark.slow]

CYRILLIC = re.compile(r"[А-Яа-яЁё][А-Яа-яЁё.\-]*")
LATIN_WORD = re.compile(r"(?<![\w@.-])[A-Za-z][a-z]{3,}(?![\w@.-])")
#: Latin words a Russian screen may show: names of things, keys, the demo password.
LATIN_ALLOWED = {"PayMO", "Demo", "Pass", "Ctrl", "Enter", "Shift", "Space", "Home", "Linux", "mail"}
LATIN_ALLOWED |= {"enter", "space", "shift", "ctrl", "home", "tab", "English"}  # the language's own name


async def _portal_words(data_dir: Path) -> list[str]:
    """The resident's data as the portal gives them (Russian whatever the interface)."""
    async with EmbeddedPortal(data_dir=data_dir) as embedded:  # noqa: SIM117 - the client needs embedded
        async with PortalClient(transport=embedded.transport) as client:
            await client.login(HAPPY, PASSWORD)
            summary = await client.account_summary()
    # The address whole and as registration shows it (the apartment masked: «кв. **»).
    words = [summary.address, summary.address.rsplit(",", 1)[0], "кв.", summary.owner_name]
    fund = getattr(summary.capital_repair, "fund_name", None) if summary.capital_repair else None
    words += [*([fund] if fund else []), "ФКР МКД ВО", "РАЗМЕР ВЗНОСА НА КАПИТАЛЬНЫЙ РЕМОНТ"]
    return [*words, "Русский"]  # the language's own name, offered in the English interface


def _wrong_words(screen: str, language: str, data: list[str]) -> list[str]:
    for words in data:
        screen = screen.replace(words, " ")
    screen = re.sub(r"/\S+", " ", screen)  # paths (the downloads folder)
    if language == "en":
        # Headings printed on the (Russian) receipt are quoted as printed, in capitals, to be found there.
        return [word for word in CYRILLIC.findall(screen) if not word.isupper()]
    return [word for word in LATIN_WORD.findall(screen) if word not in LATIN_ALLOWED]


class Walk:
    def __init__(self, terminal: Terminal, language: str, data: list[str]) -> None:
        self.terminal, self.language, self.data = terminal, language, data
        self.problems: list[str] = []

    def check(self, where: str, text: str, seconds: float = 30.0) -> None:
        """Wait for ``text``, then look at the whole screen."""
        screen = self.terminal.wait_for(text, seconds)
        asyncio.run(asyncio.sleep(0.8))  # what loads after the first paint
        screen = self.terminal.screen()
        if "⟨" in screen:
            self.problems.append(f"{where}: untranslated key\n{screen}")
        wrong = _wrong_words(screen, self.language, self.data)
        if wrong:
            self.problems.append(f"{where}: {wrong}\n{screen}")


WORDS = {
    "ru": {
        "login": "Демо: лицевой счет",
        "registration": "Шаг 1 из 2",
        "registration_2": "Шаг 2 из 2",
        "recovery": "Восстановление пароля",
        "readings_without_login": "Передача показаний",
        "home": f"Лицевой счет {HAPPY}",
        "readings": "Новое показание",
        "reading_history": "История показаний",
        "payment_history": "История платежей",
        "statement": "Начисления",
        "payment": "Оплата",
        "receipts": "Печать квитанций",
        "profile": "Профиль",
        "palette": "Сменить язык",
        "language_query": "язык",
        # Results and errors of forms: waited for in the 80×24 window, so they are inside it.
        "short_number": "от 6 до 20",
        "required": "обязательно",
        "login_failed": "Неверный номер лицевого счета или пароль",
    },
    "en": {
        "login": "Demo: account number",
        "registration": "Step 1 of 2",
        "registration_2": "Step 2 of 2",
        "recovery": "Password recovery",
        "readings_without_login": "Submit readings",
        "home": f"Account {HAPPY}",
        "readings": "New reading",
        "reading_history": "Reading history",
        "payment_history": "Payment history",
        "statement": "Charges",
        "payment": "Payment",
        "receipts": "Print receipts",
        "profile": "Profile",
        "palette": "Change language",
        "language_query": "language",
        "short_number": "6 to 20",
        "required": "is required",
        "login_failed": "Wrong account number or password",
    },
}


@pytest.mark.parametrize("language", ["ru", "en"])
def test_faq_flows_speak_one_language(language: str, app_data_dir: Path, tmp_path: Path) -> None:
    data = asyncio.run(_portal_words(app_data_dir))
    words = WORDS[language]
    command = (
        f"env XDG_CONFIG_HOME={tmp_path / 'config'} TERM=xterm-256color "
        f"{sys.executable} {ROOT / 'app.py'} --data-dir {app_data_dir} --lang {language}"
    )
    terminal = Terminal(command)
    walk = Walk(terminal, language, data)
    try:
        walk.check("login", words["login"])
        for key, name in (("F3", "registration"), ("F4", "recovery"), ("F5", "readings_without_login")):
            terminal.keys(key)
            walk.check(name, words[name])
            if name == "registration":
                terminal.type("123")
                terminal.keys("Enter")
                walk.check("registration, a short number", words["short_number"])
                terminal.keys("BSpace", "BSpace", "BSpace")
                terminal.type(HAPPY)
                terminal.keys("Enter")
                walk.check("registration, step 2", words["registration_2"])
                terminal.keys("Escape")  # back to step 1
                walk.check("registration, step 1 again", words["registration"])
            terminal.keys("Escape")
            walk.check(f"login after {name}", words["login"])
        terminal.type(HAPPY)
        terminal.keys("Tab")
        terminal.type(PASSWORD)
        terminal.keys("Enter")
        walk.check("home", words["home"])
        screens = [("F2", "readings"), ("F3", "reading_history"), ("F4", "payment_history")]
        screens += [("F6", "statement"), ("F7", "payment"), ("k", "receipts"), ("p", "profile")]
        for key, name in screens:
            terminal.keys(key)
            walk.check(name, words[name])
            if name == "profile":  # saving an empty form: the field's message is in view
                terminal.keys("F2")
                walk.check("profile, an empty form saved", words["required"])
            terminal.keys("Escape")
            walk.check(f"home after {name}", words["home"])
        # Item 9: the language switched from the palette; the home screen follows, and back again.
        other = "en" if language == "ru" else "ru"
        for now, query in (
            (language, WORDS[language]["language_query"]),
            (other, WORDS[other]["language_query"]),
        ):
            terminal.keys("C-p")
            terminal.type(query)
            walk.check("palette", WORDS[now]["palette"])
            terminal.keys("Enter")
            walk.language = "en" if now == "ru" else "ru"
            walk.check("home after the switch", WORDS[walk.language]["home"])
        # Logged out, a wrong password: the refusal is in view, in the interface's language.
        terminal.keys("F10")
        walk.check("login after logging out", words["login"])
        terminal.type(HAPPY)
        terminal.keys("Tab")
        terminal.type("Wrong-Pass-2026")
        terminal.keys("Enter")
        walk.check("login, a wrong password", words["login_failed"])
    finally:
        terminal.close()
    assert not walk.problems, "\n\n".join(walk.problems)
