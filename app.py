"""Kabinet: the resident's personal account of a housing billing center, in the terminal.

Thin on purpose: the App class, its screens, global keys and ``main()``. The non-visual core is in
``tui/`` (client, models, config, formatting, translations), screens in ``screens/``, widgets in
``widgets/``. Heavy parts (the embedded portal, charts) are imported after the first paint.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from textual import events, work
from textual.app import App, SystemCommand
from textual.binding import Binding
from textual.geometry import Size
from textual.screen import Screen

from tui.config import Config, ConfigError, load_config, save_user_preferences
from tui.i18n import Translator
from widgets.keys import translate_bindings

if TYPE_CHECKING:
    from tui.client import PortalClient
    from tui.embedded import EmbeddedPortal

__version__ = "0.1.0"

MIN_WIDTH, MIN_HEIGHT = 80, 24

#: Screens by name, imported when first opened (charts and tables cost start-up time otherwise).
SCREENS_BY_NAME: dict[str, str] = {
    "home": "screens.home:HomeScreen",
    "readings": "screens.readings:ReadingsScreen",
    "reading_history": "screens.reading_history:ReadingHistoryScreen",
    "payment_history": "screens.payment_history:PaymentHistoryScreen",
    "statement": "screens.statement:StatementScreen",
    "registration": "screens.registration:RegistrationScreen",
    "recovery": "screens.recovery:RecoveryScreen",
    "readings_without_login": "screens.readings_without_login:ReadingsWithoutLoginScreen",
}
#: Screens that need a logged-in resident (the command palette offers them only then).
RESIDENT_SCREENS = ("home", "readings", "reading_history", "payment_history", "statement")
PUBLIC_SCREENS = ("registration", "recovery", "readings_without_login")


class KabinetApp(App[None]):
    """The app: one resident at a time, on the embedded demo portal or a deployed one."""

    TITLE = "Личный кабинет"
    BINDINGS = [
        Binding("f1", "help", "footer.help", id="help"),
        # Ctrl+Q is everywhere and in the help; the footer's room goes to the screen's own keys.
        Binding("ctrl+q", "quit", "footer.quit", id="quit", priority=True, show=False),
        Binding("ctrl+p", "command_palette", "footer.palette", id="palette", priority=True, show=False),
    ]

    def __init__(self, config: Config, *, embedded_data_dir: Path | None = None) -> None:
        super().__init__()
        self.config = config
        #: The translator of the current language (Russian unless configured otherwise).
        self.t = Translator(config.language)
        translate_bindings(self, self.t)
        #: The portal client; None until the portal (embedded or remote) is reachable.
        self.client: PortalClient | None = None
        #: The embedded portal when no server URL is configured.
        self.embedded: EmbeddedPortal | None = None
        self.embedded_data_dir = embedded_data_dir
        #: The logged-in resident's account number (None when nobody is logged in).
        self.account_number: str | None = None
        #: (account number, password) of a demo account, shown on the login screen in embedded mode.
        self.demo_login: tuple[str, str] | None = None
        self._too_small_shown = False
        self._started = False
        if config.theme:
            self.theme = config.theme

    # --- start-up -----------------------------------------------------------------------------------

    def on_mount(self) -> None:
        from screens.login import LoginScreen

        self.title = self.t("app.title")
        self.sub_title = self.t("app.subtitle")
        self.push_screen(LoginScreen())
        # The portal (and httpx) load once the login screen is on the terminal, not before.
        self.call_after_refresh(self.connect_portal)
        self._started = True
        self.call_after_refresh(self._check_size)

    @work(exclusive=True, group="portal", exit_on_error=False)
    async def connect_portal(self) -> None:
        """Reach the portal after the first paint: the embedded one is imported and started here."""
        from tui.client import PortalClient

        if self.config.server_url:
            self.client = PortalClient(base_url=self.config.server_url)
        else:
            from tui.embedded import EmbeddedPortal

            embedded = EmbeddedPortal(data_dir=self.embedded_data_dir)
            await embedded.__aenter__()
            self.embedded = embedded
            self.demo_login = embedded.demo_account()
            self.client = PortalClient(transport=embedded.transport)
        for screen in self.screen_stack:
            # Screens that waited for the portal (the login screen's demo hint) go on now.
            ready = getattr(screen, "on_portal_ready", None)
            if ready is not None:
                ready()

    async def on_unmount(self) -> None:
        if self.client is not None:
            await self.client.aclose()
        if self.embedded is not None:
            await self.embedded.__aexit__(None, None, None)

    # --- screens ------------------------------------------------------------------------------------

    def open_screen(self, name: str, **kwargs: Any) -> None:
        """Push the screen called ``name`` (see :data:`SCREENS_BY_NAME`), importing it on first use."""
        module_name, _, class_name = SCREENS_BY_NAME[name].partition(":")
        screen_class = getattr(importlib.import_module(module_name), class_name)
        self.push_screen(screen_class(**kwargs))

    def resident_logged_in(self, account_number: str) -> None:
        """After a successful login: remember the number (not in kiosk mode) and go home."""
        self.account_number = account_number
        if not self.config.kiosk and self.config.last_account_number != account_number:
            self.config.last_account_number = account_number
            self.save_preferences()
        self.open_screen("home")

    def forget_resident(self) -> None:
        """Log out locally: wipe the token and every screen with what was typed on it."""
        from screens.login import LoginScreen

        if self.client is not None:
            self.client.forget()
        self.account_number = None
        while len(self.screen_stack) > 1:
            self.pop_screen()
        self.push_screen(LoginScreen())

    @work(exclusive=True, group="logout", exit_on_error=False)
    async def logout(self) -> None:
        if self.client is not None:
            try:
                await self.client.logout()
            except Exception:
                self.log.warning("logout did not reach the portal")
        self.forget_resident()
        self.notify(self.t("session.logged_out"))

    def save_preferences(self) -> None:
        try:
            save_user_preferences(self.config)
        except (OSError, ConfigError) as exc:
            self.log.warning(f"preferences not saved: {exc}")

    # --- keys and commands --------------------------------------------------------------------------

    def action_help(self) -> None:
        from screens.help import HelpScreen

        topic = getattr(self.screen, "HELP_TOPIC", "general")
        if not isinstance(self.screen, HelpScreen):
            self.push_screen(HelpScreen(topic))

    def action_toggle_language(self) -> None:
        self.config.language = "en" if self.config.language == "ru" else "ru"
        self.t.set_language(self.config.language)
        self.save_preferences()
        self.notify(self.t("settings.language_changed"))
        self.refresh_bindings()
        translate_bindings(self, self.t)
        for screen in self.screen_stack:
            retranslate = getattr(screen, "retranslate_keys", None)
            if retranslate is not None:
                retranslate()
        self.refresh_bindings()

    def action_command_palette(self) -> None:
        """The command palette, with its prompt in the interface's language."""
        from textual.command import CommandPalette

        if self.use_command_palette and not CommandPalette.is_open(self):  # type: ignore[arg-type]
            self.push_screen(CommandPalette(placeholder=self.t("app.palette_prompt"), id="--command-palette"))

    def get_system_commands(self, screen: Screen[Any]) -> Iterable[SystemCommand]:
        t = self.t
        names = RESIDENT_SCREENS if self.account_number else PUBLIC_SCREENS
        for name in names:
            yield SystemCommand(
                t(f"command.{name}"), t(f"command.{name}_help"), lambda n=name: self.open_screen(n)
            )
        yield SystemCommand(t("command.help"), t("command.help_help"), self.action_help)
        yield SystemCommand(t("command.language"), t("command.language_help"), self.action_toggle_language)
        yield SystemCommand(t("command.theme"), t("command.theme_help"), self.action_change_theme)
        if self.account_number:
            yield SystemCommand(t("command.logout"), t("command.logout_help"), self.logout)
        yield SystemCommand(t("command.quit"), t("command.quit_help"), self.action_quit)

    # --- terminal size ------------------------------------------------------------------------------

    def on_resize(self, event: events.Resize) -> None:
        # This handler runs before App._on_resize has stored the new size: go by the event's.
        if self._started:  # before the first screen is up, on_mount checks the size itself
            self._check_size(event.size)

    def _check_size(self, size: Size | None = None) -> None:
        from screens.too_small import TooSmallScreen

        size = size or self.size
        small = size.width < MIN_WIDTH or size.height < MIN_HEIGHT
        if small and not self._too_small_shown:
            self._too_small_shown = True
            self.push_screen(TooSmallScreen())
        elif not small and self._too_small_shown:
            if isinstance(self.screen, TooSmallScreen):
                self._too_small_shown = False
                self.pop_screen()
            else:
                # Something was pushed over the message meanwhile: look again once it is on top.
                self.set_timer(0.1, self._check_size)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="kabinet",
        description=(
            "Личный кабинет жильца в терминале. Без параметров запускает встроенный демо-портал "
            "(SQLite в каталоге данных пользователя); с --server подключается к развёрнутому порталу.\n"
            "The resident's personal account in the terminal. With no options it runs the embedded "
            "demo portal (SQLite in the user's data directory); --server URL connects to a deployed portal."
        ),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--server", metavar="URL", help="portal API base URL, e.g. https://lk.example.ru")
    parser.add_argument("--lang", choices=["ru", "en"], help="interface language (default: ru)")
    parser.add_argument("--config", type=Path, metavar="PATH", help="user config file (TOML)")
    parser.add_argument("--data-dir", type=Path, metavar="DIR", help="embedded portal's data directory")
    parser.add_argument("--version", action="version", version=f"kabinet {__version__}")
    return parser


def main(argv: list[str] | None = None) -> int:
    """Entry point of ``kabinet`` and ``python app.py``."""
    args = build_parser().parse_args(argv)
    try:
        config = load_config(
            user_path=args.config, overrides={"language": args.lang, "server_url": args.server}
        )
    except ConfigError as exc:
        print(f"kabinet: {exc}", file=sys.stderr)
        return 2
    KabinetApp(config, embedded_data_dir=args.data_dir).run()
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
