"""Главная: address, balance and amount due, capital repair, the reading window, warnings, the way on."""

from __future__ import annotations

from collections.abc import Iterable

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingsMap
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.widgets import Footer, OptionList, Static
from textual.widgets.option_list import Option

from screens.base import CallAbandoned, PortalScreen, ScreenSpec
from screens.registry import menu_specs
from tui.errors import PortalError
from tui.formatting import format_date, format_month, format_reading, trim_zeros
from tui.keyboard import with_layout_twin
from tui.models import AccountSummary, LoginAccount, LoginAccounts
from tui.reading_window import window_text
from widgets.header import Header


def menu_bindings(menu: Iterable[ScreenSpec]) -> list[Binding]:
    """The home screen's key for each screen of its menu (ids for ``[keymap]``: ``reading-history``)."""
    bindings: list[Binding] = []
    for spec in menu:
        if spec.menu_key is None:
            continue
        action, description = f"open({spec.name!r})", f"footer.{spec.name}"
        keys = with_layout_twin(spec.menu_key)
        bindings.append(Binding(keys, action, description, id=spec.binding_id, show=spec.in_footer))
        bindings += [
            Binding(with_layout_twin(key), action, description, show=False) for key in spec.more_keys
        ]
    return bindings


class HomeScreen(PortalScreen):
    """What the resident sees after logging in; every screen is one key away."""

    SPEC = ScreenSpec("home", "home.title", help_topic="home", order=0)
    DEFAULT_CSS = """
    HomeScreen #home-body { height: 1fr; }
    HomeScreen #home-info { width: 1fr; padding: 0 1; }
    HomeScreen #home-side { width: 32; height: 1fr; }
    HomeScreen #home-menu { border: round $primary; height: auto; max-height: 100%; }
    HomeScreen #home-accounts { padding: 0 1; height: auto; }
    HomeScreen .block { margin-bottom: 1; height: auto; }
    HomeScreen .warning { color: $warning; text-style: bold; }
    HomeScreen .due { text-style: bold; }
    HomeScreen #home-status { color: $text-muted; height: auto; }
    HomeScreen #home-accounts { display: none; }
    HomeScreen #home-accounts-title { text-style: bold; }
    """
    #: The footer at 80 columns holds the menu's shown keys (f2, f7, f8, f9, p), f10 and f1; the menu
    #: names the others with their keys; the command palette's hint gives way to them here (ctrl+p
    #: still opens it). The menu's keys come from the screens' declarations (:func:`menu_bindings`).
    BINDINGS = [
        Binding("f5,ctrl+r", "refresh", "footer.refresh", id="refresh", show=False),
        Binding("f10", "logout", "footer.logout", id="logout"),
        # With several accounts, the digit of each listed one works on it at once (one key); «Лицевые
        # счета» itself is in the menu (A), not in the footer: at 80 columns it would push out F1's label.
        *[Binding(str(n), f"choose_account({n})", "home.key_choose", show=False) for n in range(1, 10)],
    ]
    #: How many accounts the side list shows (the rest: «… и ещё N», all on «Лицевые счета»).
    LISTED_ACCOUNTS = 5

    def __init__(self) -> None:
        super().__init__()
        #: The home menu: the declared screens that have a key here, in their order.
        self.menu = menu_specs()
        #: How many accounts the login has (the portal's last answer; 1 until it says otherwise).
        self.account_count = 1
        #: The accounts the side list shows, in its order (the digit n works on the n-th).
        self.listed: tuple[LoginAccount, ...] = ()
        # The menu's keys come before the screen's own, in the footer as in the menu.
        self._bindings = BindingsMap.merge([BindingsMap(menu_bindings(self.menu)), self._bindings])
        self.retranslate_keys()

    def compose(self) -> ComposeResult:
        t = self.t
        yield Header()
        with Horizontal(id="home-body"):
            with VerticalScroll(id="home-info"):
                yield Static(t("app.loading"), id="home-status")
                yield Static("", id="home-account", classes="block")
                yield Static("", id="home-balance", classes="block due")
                yield Static("", id="home-capital-repair", classes="block")
                yield Static("", id="home-window", classes="block")
                yield Static("", id="home-warnings", classes="block warning")
                yield Static("", id="home-last-payment", classes="block")
            with Vertical(id="home-side"):
                with Vertical(id="home-menu"):
                    yield OptionList(
                        *[Option(self._menu_prompt(spec), id=spec.name) for spec in self.menu],
                        id="home-options",
                    )
                with Vertical(id="home-accounts"):
                    yield Static("", id="home-accounts-title", markup=False)
                    yield Static("", id="home-accounts-list", markup=False)
        yield Footer(compact=True, show_command_palette=False)

    def on_mount(self) -> None:
        self.title = self.t("home.title")
        self.query_one("#home-options", OptionList).focus()
        self.load_summary()

    def action_open(self, name: str) -> None:
        self.kabinet.open_screen(name)

    def action_refresh(self) -> None:
        self.load_summary()

    def action_logout(self) -> None:
        self.kabinet.logout()

    @on(OptionList.OptionSelected, "#home-options")
    def _menu(self, event: OptionList.OptionSelected) -> None:
        if event.option.id:
            self.kabinet.open_screen(event.option.id)

    def on_screen_resume(self) -> None:
        super().on_screen_resume()
        if self.is_mounted:
            self.load_summary()

    def _menu_prompt(self, spec: ScreenSpec) -> Text:
        """A menu entry: its key in front of the screen's name, in the current language."""
        key = self.kabinet.config.keymap.get(spec.binding_id, spec.menu_key or "").split(",")[0]
        return Text.assemble((f"{key.upper():<4}", "dim"), self.t(f"nav.{spec.name}"))

    def relabel(self) -> None:
        """After a language switch (widgets/relabel.py): the menu and the blocks, in the new language."""
        menu = self.query_one("#home-options", OptionList)
        for index, spec in enumerate(self.menu):
            menu.replace_option_prompt_at_index(index, self._menu_prompt(spec))
        self.load_summary()

    @work(exclusive=True, group="summary", exit_on_error=False)
    async def load_summary(self) -> None:
        status = self.query_one("#home-status", Static)
        status.update(self.t("app.loading"))
        try:
            summary = await self.portal(lambda client: client.account_summary())
        except CallAbandoned:
            return
        except PortalError as exc:
            status.update(self.error_text(exc))
            return
        status.update("")
        self.show(summary)
        self.load_accounts()

    @work(exclusive=True, group="accounts", exit_on_error=False)
    async def load_accounts(self) -> None:
        """The login's accounts: with several, the side list with what is due on each."""
        try:
            accounts = await self.portal(lambda client: client.accounts())
        except (CallAbandoned, PortalError):
            return  # the summary is what home is for; the line waits for the next refresh
        self.show_accounts(accounts)

    def show_accounts(self, accounts: LoginAccounts) -> None:
        """With several accounts, the side list: each with what is due, the one worked on marked ▶."""
        t = self.t
        self.account_count = len(accounts.accounts)
        several = self.account_count > 1
        side = self.query_one("#home-accounts", Vertical)
        side.display = several
        if not several:
            self.listed = ()
            return
        limit = (
            self.LISTED_ACCOUNTS if self.account_count <= self.LISTED_ACCOUNTS else self.LISTED_ACCOUNTS - 1
        )
        self.listed = accounts.accounts[:limit]
        self.query_one("#home-accounts-title", Static).update(
            t("home.accounts_title", count=self.account_count)
        )
        width = 30  # the side column inside its padding
        lines = []
        for n, account in enumerate(self.listed, start=1):
            label = f"{n} {'▶' if account.current else ' '} {account.account_number}"
            lines.append(f"{label}{account.amount_due!s:>{width - len(label)}}")
        if self.account_count > limit:
            lines.append(t("home.accounts_more", count=self.account_count - limit))
        total = t("home.accounts_total")
        lines.append(f"{total}{accounts.total_due!s:>{width - len(total)}}")
        key = self.kabinet.config.keymap.get("accounts", "a").split(",")[0].upper()
        lines.append(t("home.accounts_keys", first=1, last=len(self.listed), key=key))
        self.query_one("#home-accounts-list", Static).update("\n".join(lines))

    def action_choose_account(self, n: int) -> None:
        """The digit of a listed account: work on it (the one already worked on: nothing to do)."""
        if 1 <= n <= len(self.listed) and not self.listed[n - 1].current:
            self.choose_account(self.listed[n - 1].account_number)

    @work(exclusive=True, group="accounts-change", exit_on_error=False)
    async def choose_account(self, number: str) -> None:
        status = self.query_one("#home-status", Static)
        status.update(self.t("accounts.choosing"))
        try:
            await self.work_on_account(number)
        except CallAbandoned:
            status.update("")
            return
        except PortalError as exc:
            status.update(self.error_text(exc))
            self.load_accounts()
            return
        self.load_summary()

    def show(self, summary: AccountSummary) -> None:
        """Fill the blocks from the summary (the formatting lives in tui.formatting)."""
        t, lang = self.t, self.t.lang
        self.query_one("#home-account", Static).update(
            "\n".join(
                [
                    t("home.account", account=summary.account_number),
                    summary.address,
                    summary.owner_name,
                    t("home.area", area=format_reading(trim_zeros(summary.area_m2)))
                    + "   "
                    + t("home.residents", count=summary.residents),
                ]
            )
        )
        balance = [t("home.balance") + ": "]
        if summary.debt.kopecks > 0:
            balance[0] += t("home.debt", amount=summary.debt)
        elif summary.debt.kopecks < 0:
            balance[0] += t("home.prepaid", amount=-summary.debt)
        else:
            balance[0] += t("home.settled")
        breakdown = summary.amount_due_breakdown
        if breakdown.period is not None:
            balance.append(
                t("home.amount_due_for", month=format_month(breakdown.period, lang))
                + f": {summary.amount_due}"
            )
            balance.append(
                t("home.receipt_total", month=format_month(breakdown.period, lang))
                + f": {breakdown.receipt_total}"
            )
            if breakdown.payments_since.kopecks:
                balance.append(t("home.payments_since") + f": {breakdown.payments_since}")
        else:
            balance.append(t("home.amount_due") + f": {summary.amount_due}")
        self.query_one("#home-balance", Static).update("\n".join(balance))
        capital = summary.capital_repair
        self.query_one("#home-capital-repair", Static).update(
            ""
            if capital is None
            else "\n".join(
                [
                    t("home.capital_repair") + f" ({capital.fund_name})",
                    t("home.capital_repair_account", account=capital.account_number),
                    t("home.capital_repair_due", amount=capital.amount_due),
                ]
            )
        )
        self.query_one("#home-window", Static).update(window_text(t, summary.reading_window, "home"))
        warnings = []
        for warning in summary.warnings:
            key = (
                "home.verification_expired"
                if warning.code == "verification_expired"
                else "home.verification_due"
            )
            text = t(
                key,
                service=warning.service_name,
                serial=warning.serial_number,
                date=format_date(warning.date),
            )
            warnings.append(f"⚠ {text}")
        self.query_one("#home-warnings", Static).update("\n".join(warnings))
        last = summary.last_payment
        self.query_one("#home-last-payment", Static).update(
            t("home.last_payment", amount=last.amount, date=format_date(last.paid_on))
            if last is not None
            else t("home.no_payments")
        )
