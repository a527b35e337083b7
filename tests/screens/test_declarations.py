"""Each screen is declared once, on its class (``SPEC``); the rest of the app is derived from that.

A new screen is its own module plus its catalogue lines and help section: these tests name what is
missing. The keymap of the config file rebinds the app's keys by binding id.
"""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest
from textual.widgets import OptionList

from app import binding_ids, check_keymap
from screens.base import PortalScreen, ScreenSpec
from screens.home import HomeScreen, menu_bindings
from screens.registry import declared_screens, declared_specs, menu_specs, palette_specs, screen_class
from tests.support.app import login, make_app, screen_name, wait_for
from tui.config import Config, ConfigError, load_config
from tui.help import help_topics

LOCALE = Path(__file__).resolve().parents[2] / "tui" / "locale"
SPECS = declared_specs()


def _catalogue(lang: str) -> set[str]:
    data = tomllib.loads((LOCALE / f"{lang}.toml").read_text(encoding="utf-8"))
    return {f"{section}.{key}" for section, table in data.items() for key in table}


def test_the_app_s_screens_are_declared() -> None:
    names = [spec.name for spec in SPECS]
    assert len(names) == len(set(names))
    assert {"login", "home", "help", "readings", "statement", "registration", "profile"} <= set(names)
    for screen in declared_screens():
        assert issubclass(screen, PortalScreen)
        # The registry opens a screen by its name from its module: screens/<name>.py.
        assert screen.__module__ == f"screens.{screen.SPEC.name}"
        assert screen_class(screen.SPEC.name) is screen
    with pytest.raises(KeyError):
        screen_class("no_such_screen")


@pytest.mark.parametrize("lang", ["ru", "en"])
@pytest.mark.parametrize("spec", SPECS, ids=lambda spec: spec.name)
def test_every_declared_screen_has_its_words_and_help(spec: ScreenSpec, lang: str) -> None:
    missing = [key for key in spec.catalogue_keys() if key not in _catalogue(lang)]
    assert not missing, f"{spec.name}: add to tui/locale/{lang}.toml: {missing}"
    _, topics = help_topics(lang)
    assert spec.help_topic in {topic.topic for topic in topics}, (
        f"{spec.name}: add a section «## … {{#{spec.help_topic}}}» to tui/locale/help.{lang}.md"
    )


def test_catalogue_keys_follow_the_declaration() -> None:
    spec = ScreenSpec("meters", "meters.title", menu_key="m")
    assert spec.catalogue_keys() == [
        "meters.title",
        "command.meters",
        "command.meters_help",
        "nav.meters",
        "footer.meters",
    ]
    assert ScreenSpec("login", "login.title", offered_to=None).catalogue_keys() == ["login.title"]


def test_home_menu_and_palette_come_from_the_declarations() -> None:
    menu = [spec.name for spec in menu_specs()]
    assert menu == [
        "readings",
        "reading_history",
        "payment_history",
        "statement",
        "payment",
        "capital_repair_payment",
        "receipts",
        "profile",
        "accounts",
    ]
    assert [spec.name for spec in palette_specs(logged_in=False)] == [
        "registration",
        "recovery",
        "readings_without_login",
        "capital_repair_payment",
    ]
    resident = [spec.name for spec in palette_specs(logged_in=True)]
    assert resident == ["home", *menu]
    assert not {"login", "help"} & {spec.name for spec in palette_specs(logged_in=True)}


def test_home_keys_come_from_the_declarations() -> None:
    bindings = menu_bindings(menu_specs())
    by_id = {binding.id: binding for binding in bindings if binding.id}
    assert by_id["readings"].key == "f2"
    assert by_id["profile"].key == "p,з"  # a letter works on the Russian layout too
    assert not by_id["reading-history"].show and by_id["payment"].show
    hidden = [binding for binding in bindings if binding.id is None]
    assert [(binding.key, binding.action, binding.show) for binding in hidden] == [
        ("k,л", "open('receipts')", False)
    ]
    assert HomeScreen.SPEC.name == "home"


# --- the keymap -------------------------------------------------------------------------------------


def test_keymap_is_read_from_the_config_file(tmp_path: Path) -> None:
    user = tmp_path / "config.toml"
    user.write_text('[keymap]\nreadings = "f2, ctrl+o"\nreading-history = "h,р"\n', encoding="utf-8")
    config = load_config(user_path=user, admin_path=tmp_path / "admin.toml")
    assert config.keymap == {"readings": "f2,ctrl+o", "reading-history": "h,р"}
    check_keymap(config)  # both ids are bindings of the app


@pytest.mark.parametrize(
    ("table", "words"),
    [
        ('keymap = "f2"', "must be a table"),
        ('[keymap]\nreadings = "ctrl++"', "'readings' 'ctrl++'"),
        ('[keymap]\nreadings = ""', "'readings'"),
        ("[keymap]\nreadings = 2", "'readings' 2"),
        ('[keymap]\n"Readings!" = "f2"', "not a binding id"),
    ],
)
def test_a_bad_keymap_is_refused_naming_the_file_and_key(tmp_path: Path, table: str, words: str) -> None:
    user = tmp_path / "config.toml"
    user.write_text(table + "\n", encoding="utf-8")
    with pytest.raises(ConfigError) as error:
        load_config(user_path=user, admin_path=tmp_path / "admin.toml")
    message = str(error.value)
    assert str(user) in message and "'keymap'" in message and words in message


def test_a_keymap_id_no_binding_has_is_refused(tmp_path: Path) -> None:
    user = tmp_path / "config.toml"
    user.write_text('[keymap]\nreadigns = "f2"\n', encoding="utf-8")
    config = load_config(user_path=user, admin_path=tmp_path / "admin.toml")
    with pytest.raises(ConfigError) as error:
        check_keymap(config)
    message = str(error.value)
    assert str(user) in message and "'keymap'" in message and "readigns" in message
    assert "reading-history" in message  # the ids there are


def test_binding_ids_cover_the_app_the_screens_and_their_widgets() -> None:
    ids = binding_ids()
    assert {"help", "quit", "palette", "refresh", "logout", "back"} <= ids
    assert {spec.binding_id for spec in menu_specs()} <= ids
    assert "table-sort" in ids  # a widget's (SortableTable)
    check_keymap(Config())  # no keymap: nothing to check


async def test_a_rebound_menu_key_opens_its_screen(tmp_path: Path, app_data_dir: Path) -> None:
    app = make_app(tmp_path, app_data_dir, keymap={"reading-history": "h,р"})
    async with app.run_test(size=(80, 24)) as pilot:
        await login(pilot)
        await wait_for(pilot, lambda: screen_name(pilot) == "HomeScreen")
        menu = app.screen.query_one("#home-options", OptionList)
        assert str(menu.get_option("reading_history").prompt).startswith("H ")
        await pilot.press("f3")  # the old key no longer does it
        await pilot.pause()
        assert screen_name(pilot) == "HomeScreen"
        await pilot.press("р")  # the Russian layout's twin, as the keymap says
        await wait_for(pilot, lambda: screen_name(pilot) == "ReadingHistoryScreen")
