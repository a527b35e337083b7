"""The app's part for terminals that strangers share: a kiosk, or SSH sessions on one server account.

There an idle session ends by itself (a countdown first, then every screen and typed value is wiped and
the login screen shown), and on a kiosk the only way out of the app is the administrator's PIN: quitting,
suspending and screenshots are refused. :class:`SharedTerminalMixin` is one of :class:`app.KabinetApp`'s
bases (before ``App[None]``); the countdown is :class:`screens.idle_warning.IdleWarningScreen`, the PIN
dialog :class:`screens.admin_exit.AdminExitScreen`, the timer and throttle are in :mod:`tui.kiosk`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from textual import events, work

from tui.kiosk import ADMIN_EXIT_CODE, IdlePhase, IdleTimer, PinThrottle, shared_ssh_session

if TYPE_CHECKING:
    from textual.app import App
    from textual.geometry import Size
    from textual.screen import Screen

    from tui.client import PortalClient
    from tui.config import Config
    from tui.i18n import Translator

    _AppBase = App[None]
else:
    _AppBase = object

#: What counts as someone at the terminal (resets the idle timer).
_ACTIVITY = (events.Key, events.MouseDown, events.MouseScrollDown, events.MouseScrollUp, events.Paste)
#: Ways out of the app (or its terminal) that a kiosk refuses.
_KIOSK_REFUSED_ACTIONS = frozenset({"quit", "help_quit", "suspend_process", "screenshot"})


class SharedTerminalMixin(_AppBase):
    """Idle logout and wipe on shared terminals; no way out of a kiosk but the administrator's."""

    if TYPE_CHECKING:
        # Provided by the app (and, for the size check, by application.terminal_size.TerminalSizeMixin).
        config: Config
        t: Translator
        client: PortalClient | None
        account_number: str | None
        _too_small_shown: bool

        def _check_size(self, size: Size | None = None) -> None: ...

    #: Idle sessions end by themselves on a kiosk and for strangers over SSH (None: they don't).
    idle: IdleTimer | None
    #: Wrong administrator PINs make the next attempt wait (kiosk mode).
    pin_throttle: PinThrottle
    _idle_warning: Screen[Any] | None

    def _setup_shared_terminal(self) -> None:
        """The idle timer (shared terminals only) and the PIN throttle; called from the app's ``__init__``."""
        self.idle = IdleTimer(self.config.idle_timeout_seconds) if self.shared_terminal else None
        self.pin_throttle = PinThrottle()
        self._idle_warning = None
        if self.shared_terminal:
            # Read the terminal no faster than the app handles it: a keystroke flood stays in the
            # terminal's buffer (and holds the SSH client back) instead of growing the app.
            from widgets.paced_input import paced

            self.driver_class = paced(self.driver_class)

    @property
    def shared_terminal(self) -> bool:
        """Strangers share this terminal (a kiosk, or SSH sessions on one server account)."""
        return self.config.kiosk or shared_ssh_session()

    # --- idle logout --------------------------------------------------------------------------------

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

    # --- the wipe -----------------------------------------------------------------------------------

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
        # The screens (and their workers) are gone, so nothing asks the portal any more: forget the
        # tokens now, before the fresh login screen takes a key, so that the next visitor's login
        # cannot be forgotten by this wipe. The portal is told about the old session afterwards.
        client = self.client
        old_token = client.forget() if client is not None else None
        self._too_small_shown = False
        await self.push_screen(LoginScreen())
        self._check_size()
        if client is None or old_token is None:
            return
        try:
            if not await asyncio.wait_for(client.logout_token(old_token), timeout=5):
                raise ConnectionError
        except Exception:
            self.log.warning("logout did not reach the portal; the session ends there by itself")

    async def _queued_callbacks_done(self) -> None:
        """Wait until the app has handled the messages queued so far (and what they queued next)."""
        import asyncio

        done = asyncio.Event()
        self.call_later(done.set)
        await asyncio.wait_for(done.wait(), timeout=5)

    # --- a crash must not show what was typed -------------------------------------------------------

    def _fatal_error(self) -> None:
        """Textual's crash report, without the frames' local variables on shared terminals.

        Textual prints a traceback *with locals* when the app crashes; on a kiosk or over SSH those
        locals could hold the last visitor's password or session token, left on the screen.
        """
        if not self.shared_terminal:
            super()._fatal_error()
            return
        import rich
        from rich.segment import Segments
        from rich.traceback import Traceback

        self.bell()
        traceback = Traceback(show_locals=False, width=None, suppress=[rich])
        self._exit_renderables.append(Segments(self.console.render(traceback, self.console.options)))
        self._close_messages_no_wait()

    # --- kiosk: no way out but the administrator's ----------------------------------------------------

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
                self.exit(return_code=ADMIN_EXIT_CODE)  # the kiosk's unit does not restart the app

        self.push_screen(AdminExitScreen(), done)

    async def action_quit(self) -> None:
        if not self.config.kiosk:  # on a kiosk only the administrator's PIN closes the app
            await super().action_quit()

    def action_help_quit(self) -> None:
        """Ctrl+C: Textual's hint how to quit, in the interface's language (nothing on a kiosk)."""
        if not self.config.kiosk:
            self.notify(self.t("app.quit_hint", key="Ctrl+Q"), title=self.t("app.quit_hint_title"))

    def action_suspend_process(self) -> None:
        if not self.config.kiosk:
            super().action_suspend_process()

    def action_screenshot(self, filename: str | None = None, path: str | None = None) -> None:
        if not self.config.kiosk:  # a screenshot would put a resident's screen on disk
            super().action_screenshot(filename, path)
