"""Kabinet: the resident's personal account of a housing billing center, in the terminal.

Thin on purpose: the App class, its screens, global keys and ``main()``. The non-visual core is in
``tui/`` (client, models, config, formatting, translations), screens in ``screens/``, widgets in
``widgets/``, the App's mixins and themes in ``application/``, the embedded portal, ``serve-ssh`` and
``hash-pin`` in ``hosting/``. Heavy parts (the embedded portal, charts) are imported after the first paint.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn

from textual import work
from textual.app import App, SystemCommand
from textual.binding import Binding
from textual.screen import Screen

from application.key_order import KeyOrderMixin
from application.shared_terminal import SharedTerminalMixin
from application.terminal_size import TerminalSizeMixin
from application.themes import apply_look
from tui.config import Config, ConfigError, load_config, save_user_preferences
from tui.i18n import DEFAULT_LANGUAGE, Language, Translator, is_language
from widgets.keys import translate_bindings

if TYPE_CHECKING:
    from hosting.embedded import EmbeddedPortal
    from tui.client import PortalClient

__version__ = "0.1.0"


class KabinetApp(KeyOrderMixin, SharedTerminalMixin, TerminalSizeMixin, App[None]):
    """The app: one resident at a time, on the embedded demo portal or a deployed one.

    Shared terminals (idle logout, kiosk mode) are in :mod:`application.shared_terminal`, the too-small
    terminal check in :mod:`application.terminal_size`, keys typed in a burst in :mod:`application.key_order`.
    """

    TITLE = "Личный кабинет"
    #: The palette's commands: :meth:`get_system_commands`, found by title or help (widgets/palette.py).
    COMMANDS = {lambda: importlib.import_module("widgets.palette").Commands}
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
        self._started = False
        #: Plain console: ASCII chart markers, ``руб.`` for ``₽``, the 16 ANSI colours only.
        self.console_profile = apply_look(self, config)
        self._setup_shared_terminal()

    # --- start-up -----------------------------------------------------------------------------------

    def on_mount(self) -> None:
        self.title = self.t("app.title")
        self.sub_title = self.t("app.subtitle")
        if self.config.keymap:
            self.set_keymap(self.config.keymap)  # checked against the bindings by check_keymap()
        self.open_screen("login")
        # The portal (and httpx) load once the login screen is on the terminal, not before.
        self.call_after_refresh(self.connect_portal)
        self._started = True
        self.call_after_refresh(self._check_size)
        if self.idle is not None:
            self.set_interval(0.5, self._idle_tick, name="idle")
        self._exit_on_sigterm()

    def _exit_on_sigterm(self) -> None:
        """SIGTERM (systemd stopping a kiosk, ``kill``) closes the app the normal way: the terminal is
        given back (main screen, cursor, modes) instead of being left in the app's alternate screen."""
        import asyncio
        import signal

        if self.is_headless:
            return
        try:
            asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, self.exit)
        except (NotImplementedError, RuntimeError, ValueError):  # no Unix signals, or not the main thread
            self.log.warning("SIGTERM not handled")

    @work(exclusive=True, group="portal", exit_on_error=False)
    async def connect_portal(self) -> None:
        """Reach the portal after the first paint: the embedded one is imported and started here."""
        from tui.client import PortalClient

        if self.config.server_url:
            self.client = PortalClient(base_url=self.config.server_url)
        else:
            from hosting.embedded import EmbeddedPortal

            embedded = EmbeddedPortal(data_dir=self.embedded_data_dir)
            await embedded.__aenter__()
            self.embedded = embedded
            self.demo_login = embedded.demo_account()
            self.client = PortalClient(transport=embedded.transport)
        from screens.base import PortalReady
        from screens.registry import declared_screens

        for screen in self.screen_stack:
            # Screens that waited for the portal (the login screen's demo hint) go on now.
            screen.post_message(PortalReady())
        # Every screen's module, for the palette and the home menu: now, not on the first paint.
        declared_screens()

    async def on_unmount(self) -> None:
        if self.client is not None:
            await self.client.aclose()
        if self.embedded is not None:
            await self.embedded.__aexit__(None, None, None)

    # --- screens ------------------------------------------------------------------------------------

    def open_screen(self, name: str, **kwargs: Any) -> None:
        """Push the screen called ``name`` (its ``SPEC.name``), importing its module on first use."""
        from screens.registry import screen_class

        self.push_screen(screen_class(name)(**kwargs))

    def resident_logged_in(self, account_number: str) -> None:
        """After a successful login: remember the number (not in kiosk mode) and go home."""
        self.account_number = account_number
        if not self.shared_terminal and self.config.last_account_number != account_number:
            self.config.last_account_number = account_number
            self.save_preferences()
        self.open_screen("home")

    def forget_resident(self) -> None:
        """Log out locally: wipe the token and every screen with what was typed on it."""
        if self.client is not None:
            self.client.forget()
        self.account_number = None
        while len(self.screen_stack) > 1:
            self.pop_screen()
        self.open_screen("login")

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
        from screens.base import PortalScreen

        screen = self.screen
        topic = screen.SPEC.help_topic if isinstance(screen, PortalScreen) else "general"
        if not (isinstance(screen, PortalScreen) and screen.SPEC.name == "help"):
            self.open_screen("help", topic=topic)

    def action_toggle_language(self) -> None:
        from screens.base import PortalScreen
        from widgets.relabel import relabel

        self.config.language = "en" if self.config.language == "ru" else "ru"
        self.t.set_language(self.config.language)
        self.save_preferences()
        self.clear_notifications()  # the toasts shown so far are in the other language
        self.notify(self.t("settings.language_changed"))
        self.refresh_bindings()
        translate_bindings(self, self.t)
        relabel(self, self.t)  # the app's title and sub-title
        for screen in self.screen_stack:
            if isinstance(screen, PortalScreen):
                screen.retranslate_keys()
            relabel(screen, self.t)  # every word on every screen, what was typed kept
        self.refresh_bindings()

    def action_command_palette(self) -> None:
        """The command palette, in the interface's language, finding commands by title or help."""
        from widgets.palette import CommandPalette

        if self.use_command_palette and not CommandPalette.is_open(self):  # type: ignore[arg-type]
            self.push_screen(CommandPalette(self.t, id="--command-palette"))

    def get_system_commands(self, screen: Screen[Any]) -> Iterable[SystemCommand]:
        from screens.registry import palette_specs

        t = self.t
        for spec in palette_specs(logged_in=bool(self.account_number)):
            yield SystemCommand(
                t(f"command.{spec.name}"),
                t(f"command.{spec.name}_help"),
                lambda name=spec.name: self.open_screen(name),
            )
        yield SystemCommand(t("command.help"), t("command.help_help"), self.action_help)
        yield SystemCommand(t("command.language"), t("command.language_help"), self.action_toggle_language)
        yield SystemCommand(t("command.theme"), t("command.theme_help"), self.action_change_theme)
        if self.account_number:
            yield SystemCommand(t("command.logout"), t("command.logout_help"), self.logout)
        if not self.config.kiosk:
            yield SystemCommand(t("command.quit"), t("command.quit_help"), self.action_quit)


def binding_ids() -> set[str]:
    """The ids of every key binding of the app, its screens and their widgets (for ``[keymap]``)."""
    from textual.dom import DOMNode

    from screens.home import menu_bindings
    from screens.registry import declared_screens, menu_specs

    declared_screens()  # imports every screen and the widgets they use
    ids = {binding.id for binding in menu_bindings(menu_specs()) if binding.id}
    classes: list[type[DOMNode]] = [DOMNode]
    while classes:
        cls = classes.pop()
        classes += cls.__subclasses__()
        if cls is KabinetApp or cls.__module__.split(".")[0] in {"screens", "widgets"}:
            merged = cls._merged_bindings
            if merged is not None:
                ids |= {b.id for bindings in merged.key_to_bindings.values() for b in bindings if b.id}
    return ids


def check_keymap(config: Config) -> None:
    """Refuse a ``[keymap]`` entry that names no binding of the app (its keys were checked on reading)."""
    if not config.keymap:
        return
    known = binding_ids()
    unknown = sorted(set(config.keymap) - known)
    if unknown:
        raise ConfigError(
            config.sources.get("keymap", "settings"),
            f"names {', '.join(unknown)}, which no key binding has; known ids: {', '.join(sorted(known))}",
            "keymap",
        )


#: argparse's own messages (``%``-templates, as argparse fills them) → their catalogue keys.
_ARGPARSE_MESSAGES = {
    "unrecognized arguments: %s": "cli.unrecognized",
    "expected one argument": "cli.expected_one",
    "argument %(argument_name)s: %(message)s": "cli.argument",
    "invalid choice: %(value)r (choose from %(choices)s)": "cli.invalid_choice",
    "invalid %(type)s value: %(value)r": "cli.invalid_value",
}


class _Parser(argparse.ArgumentParser):
    """argparse with its own words ("usage:", "error:") in the interface's language."""

    def __init__(self, t: Translator, **kwargs: Any) -> None:
        self.t = t
        usage = t("cli.usage")

        class Formatter(argparse.HelpFormatter):
            def add_usage(self, *args: Any, **kw: Any) -> None:
                kw.setdefault("prefix", usage)
                super().add_usage(*args, **kw)

        super().__init__(formatter_class=Formatter, add_help=False, **kwargs)
        self._optionals.title = t("cli.options")

    def parse_args(self, *args: Any, **kwargs: Any) -> Any:
        # argparse's own messages ("unrecognized arguments: …") come from gettext; ours come first.
        ours = {msgid: self.t(key) for msgid, key in _ARGPARSE_MESSAGES.items()}
        original = argparse._  # type: ignore[attr-defined]
        argparse._ = lambda message: ours.get(message) or original(message)  # type: ignore[attr-defined]
        try:
            return super().parse_args(*args, **kwargs)
        finally:
            argparse._ = original  # type: ignore[attr-defined]

    def error(self, message: str) -> NoReturn:
        self.print_usage(sys.stderr)
        self.exit(2, self.t("cli.error", prog=self.prog, message=message) + "\n")


def cli_language(argv: list[str]) -> Language:
    """The language of ``kabinet --help``: ``--lang`` if given, else the configured one (Russian)."""
    for index, arg in enumerate(argv):
        value = arg.removeprefix("--lang=") if arg.startswith("--lang=") else None
        if arg == "--lang" and index + 1 < len(argv):
            value = argv[index + 1]
        if is_language(value):
            return value
    try:
        return load_config().language
    except ConfigError:
        return DEFAULT_LANGUAGE


def build_parser(language: Language = DEFAULT_LANGUAGE) -> argparse.ArgumentParser:
    t = Translator(language)
    parser = _Parser(t, prog="kabinet", description=t("cli.description"), epilog=t("cli.epilog"))
    parser.add_argument("-h", "--help", action="help", help=t("cli.help"))
    parser.add_argument("--server", metavar="URL", help=t("cli.server"))
    parser.add_argument("--lang", choices=["ru", "en"], help=t("cli.lang"))
    parser.add_argument("--config", type=Path, metavar="PATH", help=t("cli.config"))
    parser.add_argument("--data-dir", type=Path, metavar="DIR", help=t("cli.data_dir"))
    parser.add_argument("--kiosk", action="store_true", default=None, help=t("cli.kiosk"))
    parser.add_argument("--console", action="store_true", default=None, help=t("cli.console"))
    parser.add_argument("--idle-timeout", type=int, metavar="SECONDS", help=t("cli.idle_timeout"))
    parser.add_argument(
        "--version", action="version", version=f"kabinet {__version__}", help=t("cli.version")
    )
    return parser


def main(argv: list[str] | None = None) -> int:
    """Entry point of ``kabinet`` and ``python app.py``; the servers and ``hash-pin`` go elsewhere."""
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["serve-ssh"]:
        from hosting.sshserver import main as serve_ssh

        return int(serve_ssh(argv[1:]))
    if argv[:1] == ["serve-web"]:
        from hosting.webserver import main as serve_web

        return int(serve_web(argv[1:]))
    if argv[:1] == ["hash-pin"]:
        from hosting.kiosk import main as hash_pin

        return hash_pin(argv[1:])
    args = build_parser(cli_language(argv)).parse_args(argv)
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
        check_keymap(config)
    except ConfigError as exc:
        print(f"kabinet: {exc}", file=sys.stderr)
        return 2
    if config.kiosk:
        _ignore_terminal_signals()
    app = KabinetApp(config, embedded_data_dir=args.data_dir)
    app.run()
    return app.return_code or 0  # 1 after a crash; ADMIN_EXIT_CODE after the administrator's PIN


def warm_up() -> None:
    """For the fork server (``hosting.forkserver``): run the app once to its login screen before forking."""
    from application.warmup import warm_up as run_once

    run_once(lambda config: KabinetApp(config))


def _ignore_terminal_signals() -> None:
    """A kiosk ignores the keyboard's signals (Textual reads Ctrl+C, Ctrl+Z, Ctrl+\\ as keys anyway)."""
    import os
    import signal

    os.environ.pop("TEXTUAL_ALLOW_SIGNALS", None)  # it would let Ctrl+C and Ctrl+Z through as signals
    for name in ("SIGINT", "SIGQUIT", "SIGTSTP"):
        signal.signal(getattr(signal, name), signal.SIG_IGN)


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
