"""«Письма» of the profile: two switches, the monthly receipt and reading reminders by e-mail.

The widget only shows and asks: a tick posts :class:`MailSubscriptionsForm.Changed` with both choices;
the screen tells the portal and then calls :meth:`MailSubscriptionsForm.show` (saved) or
:meth:`MailSubscriptionsForm.failed` (the switches go back to what the portal has).
"""

from __future__ import annotations

from textual import on
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.message import Message
from textual.widgets import Static

from tui.i18n import Translator
from tui.models import MailSubscriptions
from widgets.toggles import Checkbox


class MailSubscriptionsForm(Vertical):
    DEFAULT_CSS = """
    MailSubscriptionsForm { height: auto; padding: 0 1; }
    MailSubscriptionsForm Checkbox { margin-top: 1; border: none; padding: 0; background: transparent; }
    MailSubscriptionsForm .hint { color: $text-muted; padding: 0 0 0 4; }
    MailSubscriptionsForm #letters-message { margin-top: 1; text-style: bold; }
    MailSubscriptionsForm #letters-message.-error { color: $text-error; }
    """

    class Changed(Message):
        """The resident ticked or unticked a switch: both choices as they are now."""

        def __init__(self, receipt: bool, reminders: bool) -> None:
            super().__init__()
            self.receipt = receipt
            self.reminders = reminders

    def __init__(self, translator: Translator, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.t = translator
        #: What the portal has (None until loaded): a failed change goes back to it.
        self.saved: MailSubscriptions | None = None
        self._focus_wanted = False

    def compose(self) -> ComposeResult:
        t = self.t
        yield Static(t("app.loading"), id="letters-where", markup=False)
        yield Checkbox(t("profile.letters_receipt"), id="letters-receipt", disabled=True)
        yield Static(t("profile.letters_receipt_hint"), classes="hint")
        yield Checkbox(t("profile.letters_reminders"), id="letters-reminders", disabled=True)
        yield Static(t("profile.letters_reminders_hint"), classes="hint")
        yield Static(t("profile.letters_unsubscribe"), classes="hint")
        yield Static("", id="letters-message", markup=False)

    def _boxes(self) -> tuple[Checkbox, Checkbox]:
        return self.query_one("#letters-receipt", Checkbox), self.query_one("#letters-reminders", Checkbox)

    def show(self, subscriptions: MailSubscriptions, message: str = "") -> None:
        """The portal's state: the switches set (without posting Changed) and enabled."""
        self.saved = subscriptions
        receipt, reminders = self._boxes()
        with self.prevent(Checkbox.Changed):
            receipt.value = subscriptions.receipt
            reminders.value = subscriptions.reminders
        receipt.disabled = reminders.disabled = False
        if self._focus_wanted:
            self._focus_wanted = False
            receipt.focus()
        self.query_one("#letters-where", Static).update(
            self.t("profile.letters_where", email=subscriptions.email_masked)
        )
        self.say(message)

    def say(self, text: str, *, error: bool = False) -> None:
        line = self.query_one("#letters-message", Static)
        line.update(text)
        line.set_class(error, "-error")

    def failed(self, text: str) -> None:
        """The change did not reach the portal: say why; the switches show what it has."""
        if self.saved is not None:
            self.show(self.saved)
        self.say(text, error=True)

    def focus_first(self) -> None:
        """Focus the first switch (once loaded, when it is still disabled)."""
        receipt = self._boxes()[0]
        if receipt.disabled:
            self._focus_wanted = True
        else:
            receipt.focus()

    @on(Checkbox.Changed)
    def _ticked(self, event: Checkbox.Changed) -> None:
        event.stop()
        receipt, reminders = self._boxes()
        self.say(self.t("profile.saving"))
        self.post_message(self.Changed(receipt.value, reminders.value))
