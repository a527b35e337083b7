"""«Лицевые счета» at 80×24 on the embedded demo: attach a second account, see both with their amounts,
work on the other one (home shows it), detach it with a confirmation, a wrong total refused beside its
field with what was typed kept, «Оплатить все», and a snapshot of the screen in Russian."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from textual.pilot import Pilot
from textual.widgets import DataTable, Input

from portal.demo.accounts import UNREGISTERED_DEBTOR_APARTMENT, account_number
from screens.accounts import AccountsScreen
from tests.screens.test_registration import as_typed, receipt_total
from tests.support.app import (
    HAPPY,
    assert_in_view,
    footer_keys_in_view,
    login,
    make_app,
    portal_client,
    screen_name,
    text_of,
    type_into,
    wait_for,
)
from tui.formatting import Money
from widgets.qr import QrCode

OTHER = account_number(UNREGISTERED_DEBTOR_APARTMENT)


def accounts_screen(pilot: Pilot[Any]) -> AccountsScreen:
    screen = pilot.app.screen
    assert isinstance(screen, AccountsScreen)
    return screen


def table_rows(pilot: Pilot[Any]) -> list[list[str]]:
    table = pilot.app.screen.query_one("#accounts-table", DataTable)
    return [[str(cell) for cell in table.get_row_at(row)] for row in range(table.row_count)]


async def open_accounts(pilot: Pilot[Any]) -> None:
    await login(pilot)
    await wait_for(pilot, lambda: screen_name(pilot) == "HomeScreen")
    await wait_for(pilot, lambda: "₽" in text_of(pilot, "#home-balance"))
    await pilot.press("a")
    await wait_for(pilot, lambda: screen_name(pilot) == "AccountsScreen")
    await wait_for(pilot, lambda: accounts_screen(pilot).accounts is not None)


async def attach(pilot: Pilot[Any], number: str, total: str) -> None:
    await pilot.press("f2")
    await type_into(pilot, "#attach-number", number)
    await pilot.press("enter")  # on to the total
    assert pilot.app.screen.focused is pilot.app.screen.query_one("#attach-total")
    await type_into(pilot, "#attach-total", total)
    await pilot.press("enter")


async def test_attach_see_both_switch_and_detach(tmp_path: Path, app_data_dir: Path) -> None:
    total = await receipt_total(app_data_dir, OTHER)
    app = make_app(tmp_path, app_data_dir, language="ru")
    async with app.run_test(size=(80, 24)) as pilot:
        await open_accounts(pilot)
        assert table_rows(pilot)[0][0] == f"▶ {HAPPY}"

        await attach(pilot, OTHER, as_typed(total))
        await wait_for(pilot, lambda: len(table_rows(pilot)) == 2)
        rows = table_rows(pilot)
        # Still on the own account (▶), each with its address, amount due and capital repair due.
        assert [row[0] for row in rows] == [f"▶ {HAPPY}", f"  {OTHER}"]
        assert rows[1][1].endswith("кв. 48")
        assert all("₽" in row[2] and "₽" in row[3] for row in rows)
        assert "подключён" in text_of(pilot, "#accounts-message")
        assert_in_view(pilot, "#accounts-table", "#accounts-totals")
        assert {"f2", "f7", "f8"} <= set(footer_keys_in_view(pilot))
        assert pilot.app.screen.query_one("#accounts-table", DataTable).cursor_row == 1

        # Enter on the other account: home shows it.
        await pilot.press("enter")
        await wait_for(pilot, lambda: screen_name(pilot) == "HomeScreen")
        await wait_for(pilot, lambda: OTHER in text_of(pilot, "#home-account"))
        assert app.account_number == OTHER
        # Home lists both beside its menu, each with what is due and its digit, the one worked on marked
        # ▶, with the total, inside 80×24; every block of home still in view; the footer keeps F1 (the
        # accounts key is in the menu, not in the footer, which is full at 80 columns).
        await wait_for(pilot, lambda: "Лицевых счетов: 2" in text_of(pilot, "#home-accounts-title"))
        await wait_for(pilot, lambda: f"2 ▶ {OTHER}" in text_of(pilot, "#home-accounts-list"))
        listed = text_of(pilot, "#home-accounts-list").splitlines()
        assert listed[0].startswith(f"1   {HAPPY}") and listed[0].endswith("₽")
        assert listed[1].startswith(f"2 ▶ {OTHER}") and listed[1].endswith("₽")
        assert listed[2].startswith("Всего") and listed[3] == "1–2 — выбрать, A — все"
        assert_in_view(pilot, "#home-accounts-title", "#home-accounts-list", "#home-options")
        assert_in_view(pilot, "#home-account", "#home-balance", "#home-capital-repair", "#home-last-payment")
        assert {"f1", "f10"} <= set(footer_keys_in_view(pilot))
        # One key works on another account: 1 back to the own one, 2 to the other again.
        await pilot.press("1")
        await wait_for(pilot, lambda: HAPPY in text_of(pilot, "#home-account"))
        await wait_for(pilot, lambda: f"1 ▶ {HAPPY}" in text_of(pilot, "#home-accounts-list"))
        assert app.account_number == HAPPY
        await pilot.press("2")
        await wait_for(pilot, lambda: OTHER in text_of(pilot, "#home-account"))
        assert app.account_number == OTHER

        # Back to the list (the Cyrillic twin), detach the other one: «Нет» first, then «Отключить».
        await pilot.press("ф")
        await wait_for(pilot, lambda: screen_name(pilot) == "AccountsScreen")
        await wait_for(pilot, lambda: len(table_rows(pilot)) == 2)
        assert table_rows(pilot)[1][0] == f"▶ {OTHER}"
        await pilot.press("f8")
        await wait_for(pilot, lambda: screen_name(pilot) == "ConfirmDialog")
        await pilot.press("enter")  # the default is «Нет»
        await wait_for(pilot, lambda: screen_name(pilot) == "AccountsScreen")
        assert len(table_rows(pilot)) == 2
        await pilot.press("f8")
        await wait_for(pilot, lambda: screen_name(pilot) == "ConfirmDialog")
        await pilot.press("tab", "enter")  # to «Отключить»
        await wait_for(pilot, lambda: len(table_rows(pilot)) == 1)
        assert table_rows(pilot)[0][0] == f"▶ {HAPPY}"  # the session is back on the own account
        assert app.account_number == HAPPY

        # The own account cannot be detached: said, nothing asked.
        await pilot.press("f8")
        await pilot.pause(0.1)
        assert screen_name(pilot) == "AccountsScreen"
        assert "отключить нельзя" in text_of(pilot, "#accounts-message")

        await pilot.press("escape")
        await wait_for(pilot, lambda: screen_name(pilot) == "HomeScreen")
        await wait_for(pilot, lambda: HAPPY in text_of(pilot, "#home-account"))
        await wait_for(pilot, lambda: not pilot.app.screen.query_one("#home-accounts").display)


async def test_a_wrong_total_is_said_beside_the_field_and_kept(tmp_path: Path, app_data_dir: Path) -> None:
    total = await receipt_total(app_data_dir, OTHER)
    wrong = as_typed(total + 1)
    app = make_app(tmp_path, app_data_dir, language="ru")
    async with app.run_test(size=(80, 24)) as pilot:
        await open_accounts(pilot)
        # The form's own checks first: a bad total named with its field.
        await attach(pilot, OTHER, "12,345")
        error = "#attach-total-error"
        await wait_for(pilot, lambda: "Итого к оплате" in text_of(pilot, error))
        # Then the portal's refusal of a wrong one.
        await type_into(pilot, "#attach-total", wrong)
        await pilot.press("enter")
        await wait_for(pilot, lambda: "не совпадают" in text_of(pilot, error))
        await pilot.pause(0.1)  # the form scrolls to the message after the refresh that shows it
        screen = pilot.app.screen
        assert screen.query_one("#attach-number", Input).value == OTHER
        assert screen.query_one("#attach-total", Input).value == wrong
        assert screen.focused is screen.query_one("#attach-total")
        assert_in_view(pilot, "#attach-number", "#attach-total", error)
        assert len(table_rows(pilot)) == 1


async def test_pay_all_lists_one_order_per_account(tmp_path: Path, app_data_dir: Path) -> None:
    total = await receipt_total(app_data_dir, OTHER)
    app = make_app(tmp_path, app_data_dir, language="en")
    async with app.run_test(size=(80, 24)) as pilot:
        await open_accounts(pilot)
        await attach(pilot, OTHER, as_typed(total))
        await wait_for(pilot, lambda: len(table_rows(pilot)) == 2)
        accounts = accounts_screen(pilot).accounts
        assert accounts is not None
        due = [account for account in accounts.accounts if account.amount_due.kopecks > 0]
        await pilot.press("f7")
        assert pilot.app.screen.focused is pilot.app.screen.query_one("#pay-all-provider")
        await pilot.press("enter")
        await wait_for(pilot, lambda: "Payments:" in text_of(pilot, "#pay-all-orders"))
        orders = text_of(pilot, "#pay-all-orders")
        assert f"Payments: {len(due)}, for {accounts.total_due}" in orders
        for account in due:
            assert f"{account.account_number}: {account.amount_due}" in orders
        assert orders.count("http") == len(due)
        # Each order says how it is going: nobody has paid yet.
        assert orders.count("— … awaiting payment") == len(due) >= 2
        result = accounts_screen(pilot).pay_result
        assert result is not None
        # One is paid and one declined on the service's page (a browser would press these buttons): the
        # list follows by itself (asked in a worker), each order with its own status.
        paid, declined = result.payments[0], result.payments[1]
        client = portal_client(app)
        await client.sandbox_action(paid.order, "pay")
        await client.sandbox_action(declined.order, "decline")
        await wait_for(pilot, lambda: "✓ paid" in text_of(pilot, "#pay-all-orders"))
        await wait_for(pilot, lambda: "✗ failed" in text_of(pilot, "#pay-all-orders"))
        orders = text_of(pilot, "#pay-all-orders")
        assert f"{paid.account_number}: {paid.order.amount} (A3) — ✓ paid" in orders
        assert f"{declined.account_number}: {declined.order.amount} (A3) — ✗ failed" in orders
        assert orders.count("— … awaiting payment") == len(due) - 2
        assert_in_view(pilot, "#pay-all-orders")
        # The paid account's amount due follows (the list of accounts is asked for again).
        nothing = str(Money(0))
        await wait_for(
            pilot,
            lambda: (
                [row[2] for row in table_rows(pilot) if row[0].endswith(paid.account_number)] == [nothing]
            ),
        )
        # F3: each order's payment page as a QR code for a phone, as the payment screen shows it.
        urls = [payment.order.payment_url for payment in result.payments]
        await pilot.press("f3")
        await wait_for(pilot, lambda: screen_name(pilot) == "OrderCodesDialog")
        qr = pilot.app.screen.query_one(QrCode)
        assert qr.text == urls[0]
        assert_in_view(pilot, "#order-qr", "#order-details")
        await pilot.press("right")
        assert qr.text == urls[1 % len(urls)]
        await pilot.press("escape")
        await wait_for(pilot, lambda: screen_name(pilot) == "AccountsScreen")
        # In the other language the list says the same, the links kept.
        app.action_toggle_language()
        await pilot.pause(0.1)
        assert f"Платежей: {len(due)}" in text_of(pilot, "#pay-all-orders")
        assert text_of(pilot, "#pay-all-orders").count("http") == len(due)
        assert f"{paid.account_number}: {paid.order.amount} (А3) — ✓ оплачен" in text_of(
            pilot, "#pay-all-orders"
        )
        assert "— ✗ не прошёл" in text_of(pilot, "#pay-all-orders")
        assert "Лицевой счет" in str(pilot.app.screen.query_one("#accounts-table", DataTable).columns)


def test_accounts_screen_snapshot(snap_compare: Any, tmp_path: Path, app_data_dir: Path) -> None:
    app = make_app(tmp_path, app_data_dir, language="ru")

    async def run(pilot: Pilot[Any]) -> None:
        total = await receipt_total(app_data_dir, OTHER)
        await open_accounts(pilot)
        await attach(pilot, OTHER, as_typed(total))
        await wait_for(pilot, lambda: len(table_rows(pilot)) == 2)
        await pilot.pause(0.3)

    assert snap_compare(app, terminal_size=(80, 24), run_before=run)
