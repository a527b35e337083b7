"""Оплата and Оплата взноса ФКР at 80×24 on the embedded demo: sandboxes, refusals, the receipt QR code."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import NoReturn

import pytest
from textual.pilot import Pilot
from textual.widgets import ContentSwitcher, Input, Static

from app import KabinetApp
from portal.demo.accounts import DEBTOR_APARTMENT, account_number, capital_repair_number
from screens.capital_repair_payment import CapitalRepairPaymentScreen
from screens.payment_base import PaymentFlowScreen
from screens.payment_history import PaymentHistoryScreen
from tests.support.app import (
    PASSWORD,
    assert_in_view,
    login,
    make_app,
    portal_client,
    screen_name,
    settle,
    top_screen,
    type_into,
    wait_for,
    wait_ready,
)
from tests.support.qr import decode_qr
from tui.client import PortalClient
from tui.errors import PortalUnavailable
from tui.formatting import Money
from tui.models import PaymentChannel, PaymentOrder, PaymentPurpose, PaymentStatus
from widgets.payment_flow import PaymentFlow, ProviderChoice
from widgets.pixels import DARK
from widgets.qr import QrCode
from widgets.receipt_code import ReceiptCodeView


@pytest.fixture(autouse=True)
def quick_polls(monkeypatch: pytest.MonkeyPatch) -> None:
    """Ask for the status often: each question is a real round trip to the embedded portal anyway."""
    monkeypatch.setattr(PaymentFlowScreen, "POLL_SECONDS", 0.1)
    monkeypatch.setattr(PaymentFlowScreen, "POLL_MAX_SECONDS", 0.3)


# --- helpers -------------------------------------------------------------------------------------------


def flow(pilot: Pilot[None]) -> PaymentFlow:
    return pilot.app.screen.query_one(PaymentFlow)


def view_shown(pilot: Pilot[None]) -> str | None:
    """Which of the payment screen's views shows: the lookup (without login) or the payment flow."""
    return pilot.app.screen.query_one("#payment-views", ContentSwitcher).current


def placed(pilot: Pilot[None]) -> PaymentOrder:
    """The order the payment flow shows (the test has waited for it)."""
    order = flow(pilot).order
    assert order is not None, "no order is shown"
    return order


def text(pilot: Pilot[None], selector: str) -> str:
    return str(pilot.app.screen.query_one(selector, Static).render())


async def open_from_home(pilot: Pilot[None], key: str, screen: str) -> None:
    await login(pilot)
    await wait_for(pilot, lambda: screen_name(pilot) == "HomeScreen")
    await pilot.press(key)
    await wait_for(pilot, lambda: screen_name(pilot) == screen)
    await wait_for(pilot, lambda: text(pilot, "#pay-details") not in ("", "Загрузка…"))


async def pay(pilot: Pilot[None], amount: str, *, paymo: bool = False) -> None:
    """Type the amount, choose the service, Enter: wait for the payment page."""
    await type_into(pilot, "#pay-amount", amount)
    if paymo:
        await pilot.press("down")  # from «Сумма» to «Платёжный сервис»
        assert pilot.app.screen.focused is pilot.app.screen.query_one(ProviderChoice)
        await pilot.press("down")  # the arrows choose
        assert pilot.app.screen.query_one(ProviderChoice).provider.value == "paymo"
    await pilot.press("enter")
    await wait_for(pilot, lambda: flow(pilot).showing_order)


async def final(pilot: Pilot[None]) -> None:
    """Wait until the payment is final, and credited if it succeeded."""
    await wait_for(
        pilot,
        lambda: (
            (order := flow(pilot).order) is not None
            and order.is_final
            and (order.credited or order.status is not PaymentStatus.SUCCESS)
            and not flow(pilot).progress.is_loading
        ),
    )


async def own_client(app: KabinetApp, number: str) -> PortalClient:
    assert app.embedded is not None
    client = PortalClient(transport=app.embedded.transport)
    await client.login(number, PASSWORD)
    return client


def drawn_pixels(widget: QrCode) -> list[list[bool]]:
    """The image read back from what the widget draws: each cell's character and colours → two pixels."""
    rows: list[list[bool]] = []
    for y in range(widget.image_size.height):
        upper: list[bool] = []
        lower: list[bool] = []
        for segment in widget.render_line(y):
            style = segment.style
            assert style is not None and style.color is not None and style.bgcolor is not None
            fg_dark = style.color.name == DARK or style.color.triplet == (0, 0, 0)
            bg_dark = style.bgcolor.name == DARK or style.bgcolor.triplet == (0, 0, 0)
            for char in segment.text:
                top = fg_dark if char == "▀" else bg_dark
                bottom = fg_dark if char == "▄" else bg_dark
                upper.append(top)
                lower.append(bottom)
        rows += [upper, lower]
    return rows


# --- «Оплата» ------------------------------------------------------------------------------------------


async def test_paying_through_the_a3_sandbox_shows_in_the_history_and_on_home(
    tmp_path: Path, app_data_dir: Path
) -> None:
    app = make_app(tmp_path, app_data_dir)
    async with app.run_test(size=(80, 24)) as pilot:
        await open_from_home(pilot, "f7", "PaymentScreen")
        assert "Оплата счета" in text(pilot, "#pay-details")
        await pay(pilot, "150,00")
        order = flow(pilot).order
        assert order is not None and order.sandbox and order.amount == Money(15000)
        assert app.screen.query_one("#pay-qr", QrCode).text == order.payment_url
        assert decode_qr(drawn_pixels(app.screen.query_one("#pay-qr", QrCode))) == [order.payment_url]
        assert order.payment_url in text(pilot, "#pay-url").replace("\n", "")
        assert "Демо-песочница" in str(app.screen.query_one("#pay-sandbox", Static).border_title)
        await pilot.press("p")
        await final(pilot)
        assert "Платёж прошёл" in text(pilot, "#pay-status")
        assert "зачислен" in text(pilot, "#pay-result")
        assert not app.screen.query_one("#pay-sandbox", Static).display
        await pilot.press("escape")
        await wait_for(pilot, lambda: screen_name(pilot) == "HomeScreen")
        await wait_for(pilot, lambda: "150,00" in text(pilot, "#home-last-payment"))
        await pilot.press("f4")
        await wait_for(pilot, lambda: screen_name(pilot) == "PaymentHistoryScreen")
        await wait_for(pilot, lambda: top_screen(app, PaymentHistoryScreen).history is not None)
        history = top_screen(app, PaymentHistoryScreen).history
        assert history is not None
        payments = history.payments
        assert any(
            p.amount == Money(15000)
            and p.channel is PaymentChannel.A3
            and p.purpose is PaymentPurpose.UTILITIES
            for p in payments
        )


async def test_paying_through_the_paymo_sandbox(tmp_path: Path, app_data_dir: Path) -> None:
    app = make_app(tmp_path, app_data_dir)
    async with app.run_test(size=(80, 24)) as pilot:
        await open_from_home(pilot, "f7", "PaymentScreen")
        await pay(pilot, "1 023,12", paymo=True)
        assert placed(pilot).provider.value == "paymo"
        assert "PayMO" in text(pilot, "#pay-order-details")
        await pilot.press("з")  # the same key in the Russian layout
        await final(pilot)
        assert placed(pilot).status is PaymentStatus.SUCCESS and placed(pilot).credited
        summary = await portal_client(app).account_summary()
        assert summary.last_payment is not None and summary.last_payment.amount == Money(102312)
        assert summary.last_payment.channel is PaymentChannel.PAYMO


async def test_a_declined_payment_fails_and_nothing_is_credited(tmp_path: Path, app_data_dir: Path) -> None:
    app = make_app(tmp_path, app_data_dir)
    async with app.run_test(size=(80, 24)) as pilot:
        await open_from_home(pilot, "f7", "PaymentScreen")
        before = await portal_client(app).account_summary()
        await pay(pilot, "777,77")
        await pilot.press("d")
        await final(pilot)
        order = placed(pilot)
        assert order.status is PaymentStatus.FAILED and not order.credited
        assert "Платёж не прошёл" in text(pilot, "#pay-status")
        assert "ничего не зачислено" in text(pilot, "#pay-result")
        after = await portal_client(app).account_summary()
        assert after.debt == before.debt and after.last_payment == before.last_payment
        await pilot.press("n")  # a new payment: the form again, the amount kept
        assert not flow(pilot).showing_order
        assert app.screen.query_one("#pay-amount", Input).value == "777,77"


async def test_after_paying_every_amount_due_is_asked_again_and_the_paid_receipts_code_says_so(
    tmp_path: Path, app_data_dir: Path
) -> None:
    app = make_app(tmp_path, app_data_dir)
    async with app.run_test(size=(80, 24)) as pilot:
        await open_from_home(pilot, "f7", "PaymentScreen")
        before = await portal_client(app).account_summary()
        assert before.amount_due.kopecks > 0
        field = app.screen.query_one("#pay-amount", Input)
        assert Money.parse(field.value) == before.amount_due  # prefilled: the whole amount due
        await pilot.press("enter")
        await wait_for(pilot, lambda: flow(pilot).showing_order)
        await pilot.press("p")
        await final(pilot)
        assert placed(pilot).status is PaymentStatus.SUCCESS
        # What is due now comes from the portal again, not from before the payment.
        await wait_for(pilot, lambda: "0,00" in text(pilot, "#pay-details"))
        assert str(before.amount_due) not in text(pilot, "#pay-details")
        await pilot.press("n")
        assert not flow(pilot).showing_order
        await settle(pilot)
        assert field.value == ""  # nothing is due: nothing prefilled, not the old 8 327,73
        # The receipt's code still asks for the receipt's sum, and says the receipt is paid.
        await pilot.press("f3")
        view = app.screen.query_one(ReceiptCodeView)
        await wait_for(pilot, lambda: view.code is not None)
        assert "уже оплачена" in text(pilot, "#receipt-code-paid")
        assert "не оплачивайте по нему ещё раз" in text(pilot, "#receipt-code-paid")


async def test_a_receipt_code_loaded_before_paying_says_paid_after(
    tmp_path: Path, app_data_dir: Path
) -> None:
    app = make_app(tmp_path, app_data_dir)
    async with app.run_test(size=(80, 24)) as pilot:
        await open_from_home(pilot, "f7", "PaymentScreen")
        await pilot.press("f3")
        view = app.screen.query_one(ReceiptCodeView)
        await wait_for(pilot, lambda: view.code is not None)
        assert text(pilot, "#receipt-code-paid") == ""  # nothing paid of it yet
        await pilot.press("f3")
        await type_into(pilot, "#pay-amount", "100")
        await pilot.press("enter")
        await wait_for(pilot, lambda: flow(pilot).showing_order)
        await pilot.press("p")
        await final(pilot)
        await pilot.press("f3")
        await wait_for(pilot, lambda: "частично" in text(pilot, "#receipt-code-paid"))
        summary = await portal_client(app).account_summary()
        assert str(summary.amount_due) in text(pilot, "#receipt-code-paid")


async def test_the_first_a3_payment_shows_success_about_a_second_after_paying(
    tmp_path: Path, app_data_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import asyncio
    import types

    import screens.payment_base

    # The screen's real schedule: the first question after 1 s, then less and less often.
    monkeypatch.setattr(PaymentFlowScreen, "POLL_SECONDS", 1.0)
    monkeypatch.setattr(PaymentFlowScreen, "POLL_MAX_SECONDS", 5.0)
    # The waits the screen schedules between its questions: [seconds, success shown when it began, slept
    # to its end]; counted, not timed on the clock (a machine busy with the parallel suite stretches
    # every step, the schedule is the screen's own).
    waits: list[list[float | bool]] = []
    succeeded: list[Callable[[], bool]] = [lambda: False]

    async def sleep(delay: float) -> None:
        wait = [delay, succeeded[0](), False]
        waits.append(wait)
        await asyncio.sleep(delay)
        wait[2] = True

    monkeypatch.setattr(screens.payment_base, "asyncio", types.SimpleNamespace(sleep=sleep))
    app = make_app(tmp_path, app_data_dir)
    async with app.run_test(size=(80, 24)) as pilot:
        succeeded[0] = lambda: placed(pilot).status is PaymentStatus.SUCCESS
        await open_from_home(pilot, "f7", "PaymentScreen")
        await pay(pilot, "10")
        await pilot.pause(2.7)  # the resident pays a little after the page shows (the status was asked)
        before = len(waits)
        await pilot.press("p")
        await wait_for(pilot, succeeded[0])
        # Between paying and success: the wait under way (unless paying cut it short) and those begun
        # after, before success showed — under 2.5 s in all.
        assert before > 0
        under_way = waits[before - 1][0] if waits[before - 1][2] else 0.0
        after = [seconds for seconds, shown, _slept in waits[before:] if not shown]
        assert under_way + sum(after) < 2.5, waits


@pytest.mark.parametrize("typed", ["0", "-1", "1,234", "abc", "600000"])
async def test_a_wrong_amount_is_refused_naming_the_field_and_kept(
    tmp_path: Path, app_data_dir: Path, typed: str
) -> None:
    app = make_app(tmp_path, app_data_dir)
    async with app.run_test(size=(80, 24)) as pilot:
        await open_from_home(pilot, "f7", "PaymentScreen")
        await type_into(pilot, "#pay-amount", typed)
        await pilot.press("f2")
        await pilot.pause()
        assert "«Сумма»" in text(pilot, "#pay-message")
        assert_in_view(pilot, "#pay-amount", "#pay-message")  # the field and its message, at 80×24
        assert app.screen.query_one("#pay-amount", Input).value == typed
        assert not flow(pilot).showing_order


async def test_the_receipts_gost_code_is_the_portals_and_decodes(tmp_path: Path, app_data_dir: Path) -> None:
    app = make_app(tmp_path, app_data_dir)
    async with app.run_test(size=(80, 24)) as pilot:
        await open_from_home(pilot, "f7", "PaymentScreen")
        await pilot.press("f3")
        view = app.screen.query_one(ReceiptCodeView)
        await wait_for(pilot, lambda: view.code is not None)
        receipts = await portal_client(app).receipts()
        codes = await portal_client(app).payment_codes(max(receipt.period for receipt in receipts))
        assert view.code == codes.utilities
        assert decode_qr(drawn_pixels(view.qr)) == [codes.utilities.payload]
        # 24 rows cannot hold the whole code: the screen says so and gives the requisites as text.
        assert "увеличьте окно" in text(pilot, "#receipt-code-fit")
        assert "БИК" in text(pilot, "#receipt-code-requisites")
        await pilot.press("f3")
        assert not view.display or view_shown(pilot) == "payment-flow"
        assert app.screen.focused is app.screen.query_one("#pay-amount", Input)


# --- «Оплата взноса ФКР» -------------------------------------------------------------------------------


async def test_capital_repair_logged_in_is_credited_to_the_fund(tmp_path: Path, app_data_dir: Path) -> None:
    app = make_app(tmp_path, app_data_dir)
    async with app.run_test(size=(80, 24)) as pilot:
        await open_from_home(pilot, "f8", "CapitalRepairPaymentScreen")
        summary = await portal_client(app).account_summary()
        assert summary.capital_repair is not None
        assert summary.capital_repair.account_number in text(pilot, "#pay-details")
        await pay(pilot, "200")
        assert placed(pilot).purpose is PaymentPurpose.CAPITAL_REPAIR
        await pilot.press("p")
        await final(pilot)
        assert placed(pilot).status is PaymentStatus.SUCCESS
        after = await portal_client(app).account_summary()
        assert after.last_payment is not None
        assert after.last_payment.purpose is PaymentPurpose.CAPITAL_REPAIR
        assert after.last_payment.amount == Money(20000)


async def test_esc_leads_back_from_each_step_of_capital_repair_without_login(
    tmp_path: Path, app_data_dir: Path
) -> None:
    """Esc on the account number goes back to the login screen (it once did nothing there); on the form,
    back to the account number, which is kept."""
    app = make_app(tmp_path, app_data_dir)
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_ready(pilot)
        login = screen_name(pilot)
        await pilot.press("f6")
        await wait_for(pilot, lambda: screen_name(pilot) == "CapitalRepairPaymentScreen")
        await pilot.press("escape")
        await wait_for(pilot, lambda: screen_name(pilot) == login)
        await pilot.press("f6")
        await wait_for(pilot, lambda: screen_name(pilot) == "CapitalRepairPaymentScreen")
        await type_into(pilot, "#capital-repair-account", capital_repair_number(DEBTOR_APARTMENT))
        await pilot.press("enter")
        await wait_for(pilot, lambda: view_shown(pilot) == "payment-flow")
        await pilot.press("escape")
        await wait_for(pilot, lambda: view_shown(pilot) != "payment-flow")
        field = app.screen.query_one("#capital-repair-account", Input)
        assert field.value == capital_repair_number(DEBTOR_APARTMENT)
        await pilot.press("escape")
        await wait_for(pilot, lambda: screen_name(pilot) == login)


async def test_capital_repair_without_login(tmp_path: Path, app_data_dir: Path) -> None:
    app = make_app(tmp_path, app_data_dir)
    debtor_fund = capital_repair_number(DEBTOR_APARTMENT)
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_ready(pilot)
        await pilot.press("f6")
        await wait_for(pilot, lambda: screen_name(pilot) == "CapitalRepairPaymentScreen")
        assert app.screen.focused is app.screen.query_one("#capital-repair-account", Input)
        await type_into(pilot, "#capital-repair-account", "999999999999")
        await pilot.press("enter")
        await wait_for(pilot, lambda: "не найден" in text(pilot, "#capital-repair-message"))
        assert app.screen.query_one("#capital-repair-account", Input).value == "999999999999"
        await type_into(pilot, "#capital-repair-account", debtor_fund)
        await pilot.press("enter")
        await wait_for(pilot, lambda: view_shown(pilot) == "payment-flow")
        lookup = top_screen(app, CapitalRepairPaymentScreen).lookup
        assert lookup is not None and lookup.amount_due.kopecks > 0
        assert lookup.address_masked in text(pilot, "#pay-details")
        field = app.screen.query_one("#pay-amount", Input)
        assert Money.parse(field.value) == lookup.amount_due  # prefilled from the lookup
        await pilot.press("enter")
        await wait_for(pilot, lambda: flow(pilot).showing_order)
        await pilot.press("p")
        await final(pilot)
        assert placed(pilot).status is PaymentStatus.SUCCESS and placed(pilot).credited
        # Without login there is no payment history or home screen to send the visitor to.
        assert "фонде капитального ремонта" in text(pilot, "#pay-result")
        assert "Истории платежей" not in text(pilot, "#pay-result")
        # The amount due is asked again: paid in full, nothing is due and nothing prefilled.
        await wait_for(pilot, lambda: "0,00" in text(pilot, "#pay-details"))
        await pilot.press("n")
        await settle(pilot)
        assert field.value == ""
        client = await own_client(app, account_number(DEBTOR_APARTMENT))
        try:
            summary = await client.account_summary()
        finally:
            await client.aclose()
        assert summary.last_payment is not None
        assert summary.last_payment.purpose is PaymentPurpose.CAPITAL_REPAIR
        assert summary.last_payment.amount == lookup.amount_due


async def test_a_cancelled_payment_and_an_unavailable_service(
    tmp_path: Path, app_data_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    app = make_app(tmp_path, app_data_dir)
    async with app.run_test(size=(80, 24)) as pilot:
        await open_from_home(pilot, "f7", "PaymentScreen")
        await pay(pilot, "10", paymo=True)
        await pilot.press("с")  # Cyrillic «с»: C in the Russian layout
        await final(pilot)
        assert placed(pilot).status is PaymentStatus.CANCELLED and not placed(pilot).credited
        assert "Платёж отменён" in text(pilot, "#pay-status")
        await pilot.press("n")

        keys: list[object] = []

        async def provider_down(self: PortalClient, *args: object) -> NoReturn:
            keys.append(args[-1])
            raise PortalUnavailable(
                "server_error", status=503, message="Платёжный сервис A3 сейчас недоступен."
            )

        monkeypatch.setattr(PortalClient, "create_payment", provider_down)
        await type_into(pilot, "#pay-amount", "10")
        await pilot.press("f2")
        await wait_for(pilot, lambda: "недоступен" in text(pilot, "#pay-message"))
        assert screen_name(pilot) == "PaymentScreen"  # no «portal unreachable» dialog: choose another service
        await pilot.press("f2")
        await wait_for(pilot, lambda: len(keys) == 2)
        assert keys[0] == keys[1]  # the same payment repeated keeps its Idempotency-Key


async def test_a_payment_left_waiting_is_polled_less_often_then_no_more(
    tmp_path: Path, app_data_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import screens.payment_base as payment_module
    from widgets.status import StatusState

    monkeypatch.setattr(payment_module, "SLOWER_POLLS", ((0.3, 0.4),))
    monkeypatch.setattr(payment_module, "WATCH_LIMIT_SECONDS", 1.5)
    asked: list[str] = []
    original = PaymentFlowScreen.fetch

    async def counting(self: PaymentFlowScreen, client: PortalClient, order_id: str) -> PaymentOrder:
        asked.append(order_id)
        return await original(self, client, order_id=order_id)

    monkeypatch.setattr(PaymentFlowScreen, "fetch", counting)
    app = make_app(tmp_path, app_data_dir)
    async with app.run_test(size=(80, 24)) as pilot:
        await open_from_home(pilot, "f7", "PaymentScreen")
        await pay(pilot, "12,34")  # nobody presses anything on the payment page
        await wait_for(pilot, lambda: flow(pilot).progress.state is StatusState.ERROR)
        assert "F5" in str(flow(pilot).progress.render())
        stopped_after = len(asked)
        # 0.1 s polls up to 0.3 s, then 0.4 s ones up to 1.5 s: a handful, not 15
        assert 3 <= stopped_after <= 8
        await pilot.pause(1.0)
        assert len(asked) == stopped_after  # no more questions to the payment service
        assert placed(pilot).status is PaymentStatus.INITIATED


async def test_a_payment_page_code_too_tall_for_the_window_says_so(
    tmp_path: Path, app_data_dir: Path
) -> None:
    import dataclasses

    app = make_app(tmp_path, app_data_dir)
    async with app.run_test(size=(80, 24)) as pilot:
        await open_from_home(pilot, "f7", "PaymentScreen")
        await pay(pilot, "10")
        assert "окно" not in text(pilot, "#pay-url")  # the demo's short link fits at 80×24
        order = placed(pilot)
        long_link = order.payment_url + "?" + "x" * 400  # a real service's long checkout link
        flow(pilot).query_one("#pay-qr", QrCode).set_text(long_link)
        page = flow(pilot)._page_text(dataclasses.replace(order, payment_url=long_link))
        assert long_link in page and "высотой от" in page and "(сейчас 24)" in page
