"""Submitting meter readings, shared by «Показания» and «Передача показаний без входа» (not a screen).

:class:`ReadingsSubmitter` sends what a form holds: one idempotency key per attempt (kept while the
same values are repeated after a lost answer), the portal's per-meter results on the form, a
confirmation dialog per meter that may have rolled over or shows an unusual consumption, and a second
submission of the confirmed meters.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Awaitable, Callable, Sequence
from decimal import Decimal

from textual.widgets import Button, Static

from screens.base import CallAbandoned, PortalScreen
from screens.dialogs import ConfirmDialog
from tui.client import new_idempotency_key
from tui.errors import PortalError, PortalUnavailable
from tui.formatting import format_reading
from tui.i18n import Translator
from tui.models import (
    Meter,
    ReadingEntry,
    ReadingResult,
    ResultStatus,
    SubmitResult,
)
from widgets.meter_readings import (
    SIGN_ERROR,
    SIGN_OK,
    SIGN_WARNING,
    MeterReadingsForm,
    mask_serial,
    service_title,
)

#: Result codes after which the portal stores the reading once the resident confirms it.
ROLLOVER = "rollover_confirmation_required"
IMPLAUSIBLE = "implausible_consumption_confirmation_required"

#: Sends entries with an idempotency key; raises CallAbandoned or PortalError.
SendReadings = Callable[[Sequence[ReadingEntry], str], Awaitable[SubmitResult]]


def confirmation_text(
    t: Translator, meter: Meter, result: ReadingResult, typed: Decimal, *, public: bool
) -> str:
    """What the confirmation dialog asks about one meter (the portal's own words in Russian)."""
    serial = mask_serial(meter.serial_number) if public else meter.serial_number
    heading = f"{service_title(t, meter)}, {t('readings.serial')} {serial}"
    rollover = result.code == ROLLOVER
    title = t("readings.confirm_rollover_title" if rollover else "readings.confirm_implausible_title")
    if t.lang == "ru" and result.message:
        body = result.message
    elif result.consumption is not None:
        params = {
            "value": format_reading(typed, meter.decimals),
            "consumption": format_reading(result.consumption, meter.decimals),
            "unit": t.unit(meter.unit),
        }
        previous = meter.previous_reading
        if rollover and previous is not None:
            body = t(
                "readings.confirm_rollover", previous=format_reading(previous.value, meter.decimals), **params
            )
        else:
            body = t("readings.confirm_implausible", **params)
    else:
        body = t.error(result.code, result.message)
    return f"{title}\n{heading}\n\n{body}"


class ReadingsSubmitter:
    """Sends what a :class:`MeterReadingsForm` holds and sees the answer through, for one screen."""

    def __init__(
        self,
        screen: PortalScreen,
        form: MeterReadingsForm,
        status: Static,
        button: Button,
        send: SendReadings,
    ) -> None:
        self.screen = screen
        self.form = form
        self.status = status
        self.button = button
        self.send = send
        #: The entries of an attempt whose answer never came, with its key: repeating them reuses it.
        self._attempt: tuple[tuple[ReadingEntry, ...], str] | None = None
        #: A submission is running (a second F2 waits for it rather than racing it).
        self.busy = False

    def _key_for(self, entries: Sequence[ReadingEntry]) -> str:
        if self._attempt is not None and self._attempt[0] == tuple(entries):
            return self._attempt[1]
        key = new_idempotency_key()
        self._attempt = (tuple(entries), key)
        return key

    def value_changed(self) -> None:
        """The resident is correcting a value: an error about the previous attempt no longer applies."""
        if not self.busy and self.status.has_class("-error"):
            self._say("")

    def _say(self, text: str, kind: str = "") -> None:
        self.status.update(text)
        for name in ("ok", "error", "warning"):
            self.status.set_class(name == kind, f"-{name}")

    async def _send(self, entries: Sequence[ReadingEntry], key: str) -> SubmitResult | None:
        """One round trip; None when it failed (the status line says why, the values stay)."""
        t = self.screen.t
        self._say(t("readings.in_progress"))
        try:
            result = await self.send(entries, key)
        except CallAbandoned:
            self._say("")
            return None
        except PortalUnavailable as exc:
            # The portal may have stored them: the same values go again with the same key.
            self._say(f"{SIGN_ERROR} {self.screen.error_text(exc)}", "error")
            return None
        except PortalError as exc:
            self._attempt = None
            self._say(f"{SIGN_ERROR} {self.screen.error_text(exc)}", "error")
            return None
        if self._attempt is not None and self._attempt[1] == key:
            self._attempt = None
        return result

    async def submit(self) -> bool:
        """Check, send, ask about the meters that need a confirmation, send those again.

        Returns True when at least one reading was stored (the screen then reloads the meters).
        """
        if self.busy:
            return False
        t = self.screen.t
        entries = self.form.collect()
        if entries is None:
            self._say(f"{SIGN_ERROR} {t('readings.fix_errors')}", "error")
            return False
        if not entries:
            self._say(f"{SIGN_ERROR} {t('readings.nothing_to_submit')}", "error")
            self.form.focus_first()
            return False
        self.busy = True
        self.button.disabled = True
        try:
            return await self._submit(entries)
        finally:
            self.busy = False
            self.button.disabled = False

    async def _submit(self, entries: list[ReadingEntry]) -> bool:
        t = self.screen.t
        self.form.clear_results()
        final: dict[int, ReadingResult] = {}
        stored_any = False
        round_entries: list[ReadingEntry] = entries
        key = self._key_for(entries)
        # Rollover and unusual consumption exclude each other, so two rounds suffice; a third is a guard.
        for _round in range(3):
            result = await self._send(round_entries, key)
            if result is None:
                return stored_any
            self.form.show_results(result, round_entries)
            self._say("")
            by_meter = {entry.meter_id: entry for entry in round_entries}
            confirmed: list[ReadingEntry] = []
            for outcome in result.results:
                final[outcome.meter_id] = outcome
                stored_any = stored_any or outcome.stored
                entry = by_meter.get(outcome.meter_id)
                if outcome.status is not ResultStatus.NEEDS_CONFIRMATION or entry is None:
                    continue
                if await self._confirm(outcome, entry):
                    confirmed.append(
                        dataclasses.replace(
                            entry,
                            confirm_rollover=entry.confirm_rollover or outcome.code == ROLLOVER,
                            confirm_implausible=entry.confirm_implausible or outcome.code == IMPLAUSIBLE,
                        )
                    )
            if not confirmed:
                break
            round_entries = confirmed
            key = new_idempotency_key()
        accepted = sum(1 for outcome in final.values() if outcome.stored)
        rejected = len(final) - accepted
        summary = t("readings.summary", accepted=accepted, rejected=rejected)
        if rejected:
            self._say(f"{SIGN_WARNING} {summary}", "warning")
            first = next(meter_id for meter_id, outcome in final.items() if not outcome.stored)
            self.form.focus_row(first)
        else:
            self._say(f"{SIGN_OK} {summary}", "ok")
        return stored_any

    async def _confirm(self, outcome: ReadingResult, entry: ReadingEntry) -> bool:
        t = self.screen.t
        row = self.form.find_row(outcome.meter_id)
        if row is None:
            return False
        meter = row.meter
        typed = (
            entry.value if isinstance(entry.value, Decimal) else Decimal(str(entry.value).replace(",", "."))
        )
        self.form.focus_row(outcome.meter_id)
        message = confirmation_text(t, meter, outcome, typed, public=self.form.public)
        dialog = ConfirmDialog(
            message, yes=t("readings.confirm_yes"), no=t("readings.confirm_no"), safe_default=True
        )
        answer: bool = await self.screen.kabinet.push_screen_wait(dialog)
        return answer
