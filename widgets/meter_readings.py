"""The «Новое показание» form: one row per meter, checked as the resident types, with per-meter results.

Used by both readings screens (logged in, and without login after the previous readings matched).
The form does no network work: a screen gives it the meters (:meth:`MeterReadingsForm.set_meters`),
asks for the entries to send (:meth:`MeterReadingsForm.collect`), and shows the portal's answer
(:meth:`MeterReadingsForm.show_results`). Typed values stay in the form whatever happens to a
submission; only a reading the portal stored clears its field.

Every state is said in words with a sign in front (✓ принято, ✗ ошибка, ⚠ предупреждение,
? нужно подтверждение), never by colour alone.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from enum import Enum
from typing import Final

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.message import Message
from textual.widgets import Input, Label, Static

from tui.formatting import InputError, format_date, format_reading, parse_reading, reading_example
from tui.i18n import Translator
from tui.models import Meter, ReadingEntry, ReadingResult, ResultStatus, SubmitResult, VerificationStatus
from widgets.filtered_input import FilteredInput

#: Without a better limit, a reading below the previous one may be a wrap past 99…9 when the
#: consumption it means is at most this share of the dial (the portal's own rule of thumb).
ROLLOVER_SHARE: Final = Decimal("0.1")

SIGN_OK: Final = "✓"
SIGN_ERROR: Final = "✗"
SIGN_WARNING: Final = "⚠"
SIGN_QUESTION: Final = "?"

#: What a resident may type into a reading field: digits, a comma or a dot, spaces between thousands.
_READING_CHARACTERS: Final = r"[0-9 ,.\u00a0]*"


class NoteKind(Enum):
    """What the note beside a reading field says."""

    HINT = "hint"
    """The field is empty: the allowed format."""
    OK = "ok"
    """The value fits the meter."""
    WARNING = "warning"
    """Below the previous reading but maybe a rollover, or an unusually large consumption: the portal
    will ask to confirm."""
    ERROR = "error"
    """The value cannot be sent as it is."""


@dataclass(frozen=True, slots=True)
class ReadingCheck:
    """What the resident typed for one meter, judged before sending."""

    kind: NoteKind
    text: str
    """The note, with its sign (✓, ⚠, ✗) when it is not a plain hint."""
    value: Decimal | None = None
    """The reading to send (None when empty or wrong)."""


def mask_serial(serial_number: str) -> str:
    """``****3456``: a meter's number on a screen anyone may look at (as the portal masks it)."""
    return "****" + serial_number[-4:] if len(serial_number) > 4 else "****"


def service_title(t: Translator, meter: Meter) -> str:
    """The meter's service in the current language (the portal's Russian name for unknown codes)."""
    key = f"service.{meter.service}"
    return t(key) if t.has(key) else meter.service_name


def _dial(meter: Meter) -> Decimal:
    return Decimal(10) ** meter.integer_digits


def check_reading(t: Translator, meter: Meter, text: str) -> ReadingCheck:
    """Judge a typed reading as the portal will: the meter's format, then against the previous one."""
    example = reading_example(meter.integer_digits, meter.decimals)
    if not text.strip():
        return ReadingCheck(NoteKind.HINT, t("readings.format_hint", example=example))
    try:
        value = parse_reading(text, meter.integer_digits, meter.decimals)
    except InputError as error:
        return ReadingCheck(NoteKind.ERROR, f"{SIGN_ERROR} {error.message(t)}")
    previous = meter.previous_reading
    if previous is None:
        return ReadingCheck(NoteKind.OK, f"{SIGN_OK} {_upper_first(t('readings.value_ok'))}", value)
    shown_value = format_reading(value, meter.decimals)
    shown_previous = format_reading(previous.value, meter.decimals)
    if value >= previous.value:
        consumption = format_reading(value - previous.value, meter.decimals)
        unusual = unusual_consumption(t, meter, value - previous.value)
        if unusual is not None:
            return ReadingCheck(NoteKind.WARNING, f"{SIGN_WARNING} {_upper_first(unusual)}", value)
        note = t("readings.consumption", consumption=consumption, unit=t.unit(meter.unit))
        return ReadingCheck(NoteKind.OK, f"{SIGN_OK} {_upper_first(note)}", value)
    wrapped = _dial(meter) - previous.value + value
    if wrapped <= _dial(meter) * ROLLOVER_SHARE:
        note = t(
            "readings.rollover_hint",
            previous=shown_previous,
            consumption=format_reading(wrapped, meter.decimals),
            unit=t.unit(meter.unit),
        )
        return ReadingCheck(NoteKind.WARNING, f"{SIGN_WARNING} {_upper_first(note)}", value)
    note = t("readings.result_below_previous", value=shown_value, previous=shown_previous)
    return ReadingCheck(NoteKind.ERROR, f"{SIGN_ERROR} {note}")


def times_text(t: Translator, ratio: Decimal) -> str:
    """«в 18 537 раз», «в 5,6 раза»: whole from 10 on, one decimal below."""
    if ratio >= 10:
        count = int(ratio.quantize(Decimal(1), rounding=ROUND_HALF_UP))
        return t("readings.times", n=format_reading(Decimal(count)), count=count)
    rounded = ratio.quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)
    if rounded == rounded.to_integral_value():
        return t("readings.times", n=str(int(rounded)), count=int(rounded))
    return t("readings.times", n=format_reading(rounded), count=2)  # «в 5,6 раза», «5,6 times»


def unusual_consumption(t: Translator, meter: Meter, consumption: Decimal) -> str | None:
    """Why ``consumption`` is unusually large for the meter, with the true figures; None when it is not."""
    check = meter.consumption_check
    if check is None or consumption <= check.confirm_above:
        return None
    shown = format_reading(consumption, meter.decimals)
    if check.average_monthly is not None and check.average_monthly > 0:
        months = max(1, check.months)
        key = "readings.consumption_unusual_average" + ("_months" if months > 1 else "")
        return t(
            key,
            consumption=shown,
            unit=t.unit(meter.unit),
            times=times_text(t, consumption / (check.average_monthly * months)),
            average=format_reading(check.average_monthly, meter.decimals),
            months=months,
        )
    limit = check.monthly_limit if check.monthly_limit is not None else check.confirm_above
    return t(
        "readings.consumption_unusual_limit",
        consumption=shown,
        unit=t.unit(meter.unit),
        limit=format_reading(limit, meter.decimals),
    )


def _upper_first(text: str) -> str:
    return text[:1].upper() + text[1:]


def _lower_first(text: str) -> str:
    return text[:1].lower() + text[1:]


def result_text(t: Translator, meter: Meter, result: ReadingResult, typed: Decimal | None) -> str:
    """One meter's outcome in words: ✓ accepted / ✓ replaced / ✗ why not / ? what to confirm."""
    if result.status in (ResultStatus.ACCEPTED, ResultStatus.REPLACED_PREVIOUS):
        stored = result.reading.value if result.reading is not None else typed
        value = format_reading(stored, meter.decimals) if stored is not None else ""
        key = (
            "readings.result_accepted"
            if result.status is ResultStatus.ACCEPTED
            else "readings.result_replaced"
        )
        parts = [f"{SIGN_OK} {t(key, value=value)}"]
        if result.consumption is not None:
            parts.append(
                t(
                    "readings.consumption",
                    consumption=format_reading(result.consumption, meter.decimals),
                    unit=t.unit(meter.unit),
                )
            )
        text = ", ".join(parts)
        if result.reading is not None and result.reading.needs_review:
            text += f" {SIGN_WARNING} {t('readings.needs_review')}"
        return text
    reason = _lower_first(t.error(result.code, result.message))
    if result.status is ResultStatus.NEEDS_CONFIRMATION:
        return f"{SIGN_QUESTION} {t('readings.result_needs_confirmation', reason=reason)}"
    previous = meter.previous_reading
    if result.code == "below_previous" and typed is not None and previous is not None:
        return (
            SIGN_ERROR
            + " "
            + t(
                "readings.result_below_previous",
                value=format_reading(typed, meter.decimals),
                previous=format_reading(previous.value, meter.decimals),
            )
        )
    return f"{SIGN_ERROR} {t('readings.result_rejected', reason=reason)}"


def _local_date(moment: dt.datetime) -> dt.date:
    return moment.astimezone().date()


class MeterRow(Vertical):
    """One meter: what it is, its previous reading, the «Новое показание» field and what became of it."""

    DEFAULT_CSS = """
    MeterRow {
        height: auto;
        padding: 0 1 0 0;
        border-left: blank;
    }
    MeterRow:focus-within {
        border-left: thick $accent;
    }
    MeterRow .meter-title { text-style: bold; }
    MeterRow .meter-previous { color: $text-muted; }
    MeterRow .meter-warning { color: $text-warning; }
    MeterRow .meter-entry { height: auto; }
    MeterRow .meter-label { width: auto; padding-right: 1; }
    MeterRow Input.meter-input {
        width: 16;
        height: 1;
        border: none;
        padding: 0 1;
        background: $boost;
    }
    MeterRow Input.meter-input:focus {
        background: $accent 30%;
    }
    MeterRow .meter-note { width: 1fr; height: auto; padding-left: 1; }
    MeterRow .meter-note.-hint { color: $text-muted; }
    MeterRow .meter-note.-error, MeterRow .meter-result.-error { color: $text-error; text-style: bold; }
    MeterRow .meter-note.-warning, MeterRow .meter-result.-warning { color: $text-warning; }
    MeterRow .meter-note.-ok, MeterRow .meter-result.-ok { color: $text-success; }
    MeterRow .meter-result { height: auto; }
    MeterRow.-disabled .meter-title { text-style: none; color: $text-muted; }
    """

    def __init__(self, meter: Meter, translator: Translator, *, public: bool) -> None:
        super().__init__(id=f"meter-{meter.meter_id}", classes="meter-row")
        #: The meter as the portal last described it.
        self.meter = meter
        self.t = translator
        #: Readings without login: the serial number is masked.
        self.public = public
        #: The typed value when the result line was written (a change of the value clears it).
        self._result_for: str | None = None

    # --- building -------------------------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        yield Static("", classes="meter-title", markup=False)
        yield Static("", classes="meter-previous", markup=False)
        yield Static("", classes="meter-warning", markup=False)
        with Horizontal(classes="meter-entry"):
            yield Label(self.t("readings.new"), classes="meter-label", markup=False)
            yield FilteredInput(
                self.t,
                field=self.t("readings.new"),
                allowed=self.t("input.allowed_reading"),
                restrict=_READING_CHARACTERS,
                max_length=24,
                classes="meter-input",
                id=f"new-{self.meter.meter_id}",
                disabled=not self.meter.accepts_readings,
            )
            yield Static("", classes="meter-note", markup=False)
        yield Static("", classes="meter-result", markup=False)

    def on_mount(self) -> None:
        self.describe()
        self.show_check()
        self.query_one(".meter-result", Static).display = False

    def relabel(self) -> None:
        """After a language switch (widgets/relabel.py): the meter's lines again; the typed value stays."""
        self.describe()
        self.show_check()

    def describe(self) -> None:
        """Write the meter's lines from :attr:`meter` (again after a refresh)."""
        t, meter = self.t, self.meter
        serial = mask_serial(meter.serial_number) if self.public else meter.serial_number
        self.query_one(".meter-title", Static).update(
            f"{service_title(t, meter)}, {t.unit(meter.unit)} · {t('readings.serial')} {serial}"
        )
        previous = meter.previous_reading
        if previous is None:
            lines = t("readings.no_previous")
        else:
            lines = t(
                "readings.previous_with_date",
                value=format_reading(previous.value, meter.decimals),
                date=format_date(_local_date(previous.submitted_at)),
            )
        if meter.current_reading is not None:
            current = format_reading(meter.current_reading.value, meter.decimals)
            lines += " · " + t("readings.current", value=current)
        self.query_one(".meter-previous", Static).update(lines)
        warning = self.query_one(".meter-warning", Static)
        if not meter.accepts_readings or meter.verification_status is VerificationStatus.EXPIRED:
            warning.update(
                f"{SIGN_ERROR} {t('readings.meter_blocked', date=format_date(meter.next_verification_on))}"
            )
            warning.display = True
        elif meter.verification_status is VerificationStatus.DUE_SOON:
            due = t("readings.verification_due", date=format_date(meter.next_verification_on))
            warning.update(f"{SIGN_WARNING} {due}")
            warning.display = True
        else:
            warning.update("")
            warning.display = False
        self.set_class(not meter.accepts_readings, "-disabled")
        self.input.disabled = not meter.accepts_readings

    # --- the value ------------------------------------------------------------------------------------

    @property
    def input(self) -> Input:
        """The «Новое показание» field."""
        return self.query_one(Input)

    @property
    def enabled(self) -> bool:
        """The meter takes readings (its verification has not expired)."""
        return self.meter.accepts_readings

    def check(self) -> ReadingCheck:
        """The typed value judged against the meter (empty for a disabled meter)."""
        if not self.enabled:
            return ReadingCheck(NoteKind.HINT, "")
        return check_reading(self.t, self.meter, self.input.value)

    def show_check(self) -> ReadingCheck:
        """Write the note beside the field for the value typed now, and return the judgement."""
        result = self.check()
        note = self.query_one(".meter-note", Static)
        note.update(result.text)
        for kind in NoteKind:
            note.set_class(kind is result.kind, f"-{kind.value}")
        return result

    def show_result(self, text: str, kind: NoteKind) -> None:
        """Write the line under the field about what the portal did with the reading."""
        line = self.query_one(".meter-result", Static)
        line.update(text)
        for other in NoteKind:
            line.set_class(other is kind, f"-{other.value}")
        line.display = bool(text)
        self._result_for = self.input.value

    def clear_result(self) -> None:
        self.show_result("", NoteKind.HINT)

    @on(FilteredInput.Refused)
    def _refused(self, event: FilteredInput.Refused) -> None:
        """A letter typed into the field: say it beside the field too (until the value changes)."""
        event.stop()
        note = self.query_one(".meter-note", Static)
        note.update(f"{SIGN_ERROR} {event.text}")
        for kind in NoteKind:
            note.set_class(kind is NoteKind.ERROR, f"-{kind.value}")

    @on(Input.Changed)
    def _typed(self, event: Input.Changed) -> None:
        self.show_check()
        if self._result_for is not None and event.value != self._result_for:
            # The result was about another value: a stale ✗ beside a corrected value would mislead.
            self.clear_result()
            self._result_for = None


class MeterReadingsForm(VerticalScroll):
    """Rows of meters with a «Новое показание» field each; Up/Down or Tab move between the rows.

    Enter in a field goes to the next row; in the last one it posts :class:`SubmitRequested`.
    """

    DEFAULT_CSS = """
    MeterReadingsForm {
        height: 1fr;
        padding: 0 1;
    }
    MeterReadingsForm > MeterRow {
        margin-bottom: 1;
    }
    MeterReadingsForm > .form-empty {
        color: $text-muted;
    }
    """
    BINDINGS = [
        Binding("down", "next_row", show=False),
        Binding("up", "previous_row", show=False),
    ]
    can_focus = False

    class SubmitRequested(Message):
        """Enter in the last field: the resident wants to send the readings."""

        def __init__(self, form: MeterReadingsForm) -> None:
            super().__init__()
            self.form = form

        @property
        def control(self) -> MeterReadingsForm:
            return self.form

    class ValueChanged(Message):
        """A reading field changed (the screen may clear its status line)."""

        def __init__(self, form: MeterReadingsForm, meter_id: int, value: str) -> None:
            super().__init__()
            self.form = form
            self.meter_id = meter_id
            self.value = value

        @property
        def control(self) -> MeterReadingsForm:
            return self.form

    def __init__(
        self,
        translator: Translator,
        *,
        public: bool = False,
        id: str | None = None,
        classes: str | None = None,
    ) -> None:
        super().__init__(id=id, classes=classes)
        self.t = translator
        #: Readings without login: serial numbers are masked.
        self.public = public

    # --- the meters -------------------------------------------------------------------------------------

    @property
    def rows(self) -> list[MeterRow]:
        return list(self.query_children(MeterRow))

    @property
    def meters(self) -> list[Meter]:
        return [row.meter for row in self.rows]

    def row(self, meter_id: int) -> MeterRow:
        return self.query_one(f"#meter-{meter_id}", MeterRow)

    def find_row(self, meter_id: int) -> MeterRow | None:
        """The meter's row, or None when the form does not show that meter."""
        return next((row for row in self.rows if row.meter.meter_id == meter_id), None)

    def meter(self, meter_id: int) -> Meter:
        return self.row(meter_id).meter

    async def set_meters(self, meters: Sequence[Meter]) -> None:
        """Show ``meters``; the same meters as before keep what was typed and get the new readings."""
        rows = self.rows
        if [row.meter.meter_id for row in rows] == [meter.meter_id for meter in meters]:
            for row, meter in zip(rows, meters, strict=True):
                row.meter = meter
                row.describe()
                row.show_check()
            return
        typed = {row.meter.meter_id: row.input.value for row in rows}
        await self.remove_children()
        if not meters:
            await self.mount(Static(self.t("readings.no_meters"), classes="form-empty"))
            return
        new_rows = [MeterRow(meter, self.t, public=self.public) for meter in meters]
        await self.mount_all(new_rows)
        for row in new_rows:
            if typed.get(row.meter.meter_id):
                row.input.value = typed[row.meter.meter_id]
                row.show_check()

    # --- values -----------------------------------------------------------------------------------------

    def value(self, meter_id: int) -> str:
        """What is typed in the meter's field."""
        return self.row(meter_id).input.value

    def set_value(self, meter_id: int, text: str) -> None:
        row = self.row(meter_id)
        row.input.value = text
        row.show_check()

    def collect(self) -> list[ReadingEntry] | None:
        """The filled rows as entries to send, or None when a row has a wrong value (it is focused).

        Empty rows are left out; each wrong row shows its ✗ note.
        """
        entries: list[ReadingEntry] = []
        wrong: list[MeterRow] = []
        for row in self.rows:
            result = row.show_check()
            if result.kind is NoteKind.ERROR:
                wrong.append(row)
            elif result.value is not None:
                entries.append(ReadingEntry(meter_id=row.meter.meter_id, value=result.value))
        if wrong:
            self.focus_row(wrong[0].meter.meter_id)
            return None
        return entries

    # --- results ----------------------------------------------------------------------------------------

    def show_results(self, result: SubmitResult, entries: Iterable[ReadingEntry]) -> None:
        """Write each meter's outcome under its field; a stored reading's field is emptied."""
        typed = {entry.meter_id: entry.value for entry in entries}
        for outcome in result.results:
            row = self.find_row(outcome.meter_id)
            if row is None:  # a meter that is no longer shown
                continue
            value = typed.get(outcome.meter_id)
            decimal_value = value if isinstance(value, Decimal) else None
            text = result_text(self.t, row.meter, outcome, decimal_value)
            if outcome.stored:
                row.input.value = ""
                row.show_check()
                kind = NoteKind.OK
            elif outcome.status is ResultStatus.NEEDS_CONFIRMATION:
                kind = NoteKind.WARNING
            else:
                kind = NoteKind.ERROR
            row.show_result(text, kind)

    def clear_results(self) -> None:
        for row in self.rows:
            row.clear_result()

    # --- moving between rows ----------------------------------------------------------------------------

    def _enabled_rows(self) -> list[MeterRow]:
        return [row for row in self.rows if row.enabled]

    def _current_index(self, rows: list[MeterRow]) -> int | None:
        focused = self.screen.focused
        for index, row in enumerate(rows):
            if focused is not None and (focused is row or row in focused.ancestors):
                return index
        return None

    def focus_row(self, meter_id: int) -> None:
        """Put the cursor in the meter's field and scroll the whole row into view."""
        row = self.row(meter_id)
        if row.enabled:
            row.input.focus()
        row.scroll_visible()

    def focus_first(self) -> None:
        """Put the cursor in the first field that takes a reading."""
        rows = self._enabled_rows()
        if rows:
            self.focus_row(rows[0].meter.meter_id)

    def _move(self, step: int) -> bool:
        rows = self._enabled_rows()
        index = self._current_index(rows)
        if index is None:
            if rows:
                self.focus_row(rows[0].meter.meter_id)
            return bool(rows)
        target = index + step
        if 0 <= target < len(rows):
            self.focus_row(rows[target].meter.meter_id)
            return True
        return False

    def action_next_row(self) -> None:
        self._move(1)

    def action_previous_row(self) -> None:
        self._move(-1)

    @on(Input.Submitted)
    def _enter(self, event: Input.Submitted) -> None:
        event.stop()
        if not self._move(1):
            self.post_message(self.SubmitRequested(self))

    @on(Input.Changed)
    def _changed(self, event: Input.Changed) -> None:
        event.stop()
        row = next((ancestor for ancestor in event.input.ancestors if isinstance(ancestor, MeterRow)), None)
        if row is not None:
            self.post_message(self.ValueChanged(self, row.meter.meter_id, event.value))


__all__ = [
    "MeterReadingsForm",
    "MeterRow",
    "NoteKind",
    "ReadingCheck",
    "check_reading",
    "mask_serial",
    "result_text",
    "service_title",
    "times_text",
    "unusual_consumption",
]
