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
from tui.kiosk import IdlePhase, IdleTimer, PinThrottle, console_profile_wanted, shared_ssh_session
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
    "payment": "screens.payment:PaymentScreen",
    "capital_repair_payment": "screens.capital_repair_payment:CapitalRepairPaymentScreen",
    "receipts": "screens.receipts:ReceiptsScreen",
    "profile": "screens.profile:ProfileScreen",
}
#: Screens that need a logged-in resident (the command palette offers them only then).
RESIDENT_SCREENS: tuple[str, ...] = ("home", "readings", "reading_history", "payment_history", "statement")
RESIDENT_SCREENS += ("payment", "capital_repair_payment")
RESIDENT_SCREENS += ("receipts", "profile")
PUBLIC_SCREENS: tuple[str, ...] = ("registration", "recovery", "readings_without_login")
PUBLIC_SCREENS += ("capital_repair_payment",)


class KabinetApp(App[None]):
    """The app: one resident at a time, on the embedded demo portal or a deployed one."""

    TITLE = "Личный кабинет"
    BINDINGS = [
        Binding("f1", "help", "footer.help", id="help"),
        # Ctrl+Q is everywhere and in the help; the footer's room goes to the screen's own keys.
        Binding("ctrl+q", "quit", "footer.quit", id="quit", priority=True, show=False),
        Binding("ctrl+p", "command_palette", "footer.palette", id="palette", priority=True, show=False),
        # Kiosk mode only (see check_action); F12 too, since the Linux console sends no Ctrl+F12.
        Binding("ctrl+f12,f12", "admin_exit", "kiosk.admin_exit", id="admin-exit", priority=True, show=False),
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
        self._setup_look()
        #: Idle sessions end by themselves on a kiosk and for strangers over SSH (None: they don't).
        self.idle: IdleTimer | None = IdleTimer(config.idle_timeout_seconds) if self.shared_terminal else None
        #: Wrong administrator PINs make the next attempt wait (kiosk mode).
        self.pin_throttle = PinThrottle()
        self._idle_warning: Screen[Any] | None = None

    def _setup_look(self) -> None:
        """Our themes, the configured one, and the text-console profile (ANSI colours, ``руб.``)."""
        from tui.formatting import set_ascii_currency
        from widgets.themes import CONSOLE, THEMES

        for registered in THEMES:
            self.register_theme(registered)
        console = console_profile_wanted(self.config.console_profile)
        #: Plain console: ASCII chart markers, ``руб.`` for ``₽``, the 16 ANSI colours only.
        self.console_profile = console
        self.config.console_profile = console
        set_ascii_currency(console)
        theme = self.get_theme(self.config.theme) if self.config.theme else None
        if self.config.theme and theme is None:
            self.log.warning(f"unknown theme {self.config.theme!r}")
        if console:
            self.ansi_color = True
            if theme is None or not theme.ansi:
                theme = self.get_theme(CONSOLE)
        if theme is not None:
            self.theme = theme.name

    @property
    def shared_terminal(self) -> bool:
        """Strangers share this terminal (a kiosk, or SSH sessions on one server account)."""
        return self.config.kiosk or shared_ssh_session()

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
        if self.idle is not None:
            self.set_interval(0.5, self._idle_tick, name="idle")

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
        if not self.shared_terminal and self.config.last_account_number != account_number:
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

    # --- shared terminals: idle logout, no way out but the administrator's --------------------------

    async def on_event(self, event: events.Event) -> None:
        if self.idle is not None and isinstance(event, _ACTIVITY) and not event.is_forwarded:
            self.idle.touch()
            if self._idle_warning is not None:
                # The key that cancels the countdown does nothing else (an Enter must not submit).
                self._close_idle_warning()
                if isinstance(event, events.Key | events.MouseDown):
                    return
        await super().on_event(event)

    def _idle_tick(self) -> None:
        from screens.idle_warning import IdleWarningScreen

        if self.idle is None:
            return
        phase = self.idle.phase()
        if phase is IdlePhase.ACTIVE:
            self._close_idle_warning()
        elif not self._something_to_wipe():
            self.idle.touch()  # a fresh login screen: nothing to count down for
        elif phase is IdlePhase.WARNING:
            if self._idle_warning is None:
                self._idle_warning = IdleWarningScreen(self.idle.seconds_left())
                self.push_screen(self._idle_warning)
            elif isinstance(self._idle_warning, IdleWarningScreen) and self._idle_warning.is_mounted:
                self._idle_warning.show_seconds(self.idle.seconds_left())
        else:
            self.wipe_session()
            self.notify(self.t("session.idle_ended"))

    def _close_idle_warning(self) -> None:
        warning, self._idle_warning = self._idle_warning, None
        if warning is not None and warning in self.screen_stack:
            if self.screen is warning:
                self.pop_screen()
            else:
                self._remove_screen_later(warning)

    def _remove_screen_later(self, screen: Screen[Any]) -> None:
        # Something was pushed over the countdown meanwhile: take it out once it is on top.
        def again() -> None:
            if screen in self.screen_stack:
                if self.screen is screen:
                    self.pop_screen()
                else:
                    self.set_timer(0.1, again)

        self.set_timer(0.1, again)

    def _something_to_wipe(self) -> bool:
        """Anything of a resident's on the terminal: a session, a screen past login, a typed value."""
        from textual.widgets import Input

        from screens.idle_warning import IdleWarningScreen
        from screens.login import LoginScreen
        from screens.too_small import TooSmallScreen

        if self.account_number is not None:
            return True
        if self.client is not None and (self.client.is_logged_in or self.client.has_readings_access):
            return True
        screens = [s for s in self.screen_stack[1:] if not isinstance(s, TooSmallScreen | IdleWarningScreen)]
        if len(screens) != 1 or not isinstance(screens[0], LoginScreen):
            return True
        return any(field.value for field in screens[0].query(Input))

    def wipe_session(self) -> None:
        """End the resident's visit: every screen and typed value gone, the session ended, login shown.

        The next person at a shared terminal sees nothing of the last: the screen stack is replaced by
        a fresh login screen (empty fields, no account number), notifications and the clipboard are
        cleared, the tokens forgotten (the portal is told in the background).
        """
        self._idle_warning = None
        self.clear_notifications()
        self.copy_to_clipboard("")
        self.account_number = None
        self._wipe_screens_then_session()
        if self.idle is not None:
            self.idle.touch()

    @work(exclusive=True, group="wipe", exit_on_error=False)
    async def _wipe_screens_then_session(self) -> None:
        import asyncio

        from screens.login import LoginScreen

        # One screen at a time, and only once the app has run what is queued for it (a screen shown
        # for a moment queues its header's title update; the header must still be there for it).
        while len(self.screen_stack) > 1:
            await self._queued_callbacks_done()
            await self.pop_screen()
        await self._queued_callbacks_done()
        self._too_small_shown = False
        await self.push_screen(LoginScreen())
        self._check_size()
        # The screens (and their workers) are gone, so nothing asks the portal any more: end the session.
        client = self.client
        if client is None:
            return
        try:
            await asyncio.wait_for(client.logout(), timeout=5)
        except Exception:
            self.log.warning("logout did not reach the portal; the session ends there by itself")
        finally:
            client.forget()

    async def _queued_callbacks_done(self) -> None:
        """Wait until the app has handled the messages queued so far (and what they queued next)."""
        import asyncio

        done = asyncio.Event()
        self.call_later(done.set)
        await asyncio.wait_for(done.wait(), timeout=5)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "admin_exit":
            return self.config.kiosk
        return not (self.config.kiosk and action in _KIOSK_REFUSED_ACTIONS)

    def action_admin_exit(self) -> None:
        from screens.admin_exit import AdminExitScreen

        if not self.config.kiosk or isinstance(self.screen, AdminExitScreen):
            return

        def done(right: bool | None) -> None:
            if right:
                self.exit()

        self.push_screen(AdminExitScreen(), done)

    async def action_quit(self) -> None:
        if not self.config.kiosk:  # on a kiosk only the administrator's PIN closes the app
            await super().action_quit()

    def action_help_quit(self) -> None:
        if not self.config.kiosk:
            super().action_help_quit()

    def action_suspend_process(self) -> None:
        if not self.config.kiosk:
            super().action_suspend_process()

    def action_screenshot(self, filename: str | None = None, path: str | None = None) -> None:
        if not self.config.kiosk:  # a screenshot would put a resident's screen on disk
            super().action_screenshot(filename, path)

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
        if not self.config.kiosk:
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


#: What counts as someone at the terminal (resets the idle timer).
_ACTIVITY = (events.Key, events.MouseDown, events.MouseScrollDown, events.MouseScrollUp, events.Paste)
#: Ways out of the app (or its terminal) that a kiosk refuses.
_KIOSK_REFUSED_ACTIONS = frozenset({"quit", "help_quit", "suspend_process", "screenshot"})


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
    parser.add_argument(
        "--kiosk",
        action="store_true",
        default=None,
        help="shared terminal: no way out but the administrator's PIN (Ctrl+F12), idle logout",
    )
    parser.add_argument(
        "--console",
        action="store_true",
        default=None,
        help="Linux text console: ANSI colours, ASCII chart markers, 'руб.' (automatic with TERM=linux)",
    )
    parser.add_argument(
        "--idle-timeout", type=int, metavar="SECONDS", help="end idle sessions of shared terminals after this"
    )
    parser.epilog = (
        "Other commands: kabinet serve-ssh --help (the app over SSH); "
        "kabinet hash-pin (the administrator's PIN for kiosk mode)."
    )
    parser.add_argument("--version", action="version", version=f"kabinet {__version__}")
    return parser


def main(argv: list[str] | None = None) -> int:
    """Entry point of ``kabinet`` and ``python app.py``; ``serve-ssh`` and ``hash-pin`` go elsewhere."""
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["serve-ssh"]:
        from tui.sshserver import main as serve_ssh

        return int(serve_ssh(argv[1:]))
    if argv[:1] == ["hash-pin"]:
        from tui.kiosk import main as hash_pin

        return hash_pin(argv[1:])
    args = build_parser().parse_args(argv)
    try:
        config = load_config(
            user_path=args.config,
            overrides={
                "language": args.lang,
                "server_url": args.server,
                "kiosk": args.kiosk,
                "console_profile": args.console,
                "idle_timeout_seconds": args.idle_timeout,
            },
        )
    except ConfigError as exc:
        print(f"kabinet: {exc}", file=sys.stderr)
        return 2
    if config.kiosk:
        _ignore_terminal_signals()
    KabinetApp(config, embedded_data_dir=args.data_dir).run()
    return 0


def _ignore_terminal_signals() -> None:
    """A kiosk ignores the keyboard's signals (Textual reads Ctrl+C, Ctrl+Z, Ctrl+\\ as keys anyway)."""
    import os
    import signal

    os.environ.pop("TEXTUAL_ALLOW_SIGNALS", None)  # it would let Ctrl+C and Ctrl+Z through as signals
    for name in ("SIGINT", "SIGQUIT", "SIGTSTP"):
        signal.signal(getattr(signal, name), signal.SIG_IGN)


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
