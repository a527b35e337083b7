"""The base of the two-step forms before login, «Регистрация» and «Восстановление пароля» (not a screen).

What both do the same way: the form's look, a message under the form, a message beside each field
(``#<id>-error`` for the field ``#<id>`` of :attr:`FormScreen.FIELD_WIDGETS`), Enter moving on to the
next field, the steps (what each shows, which fields stay editable), buttons held while the portal is
asked (:meth:`FormScreen._ask`), the form scrolled so a message below the fold at 80×24 shows, and the way
back to the login screen with the account number filled in.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, ClassVar, Generic, TypeVar

from textual import on
from textual.containers import VerticalScroll
from textual.widget import Widget
from textual.widgets import Button, Input, Static

from screens.base import CallAbandoned, PortalScreen
from tui.errors import PortalError
from tui.validation import ERROR_MARK

if TYPE_CHECKING:
    from tui.client import PortalClient

T = TypeVar("T")


@dataclass(frozen=True)
class Answer(Generic[T]):
    """The portal's answer to a form's call (:meth:`FormScreen._ask`), which may itself be None."""

    value: T


class FormScreen(PortalScreen):
    """A form in steps whose fields the portal may name in its refusals.

    Its widgets: ``#<FORM>-body`` (a ``VerticalScroll`` of class ``form-body``) holding the form (class
    ``form``), ``#<FORM>-message`` (class ``form-message``); texts of class ``hint``, step headings of
    class ``step``, each field's message (class ``error``) after it.
    """

    DEFAULT_CSS = """
    FormScreen .form-body { height: 1fr; }
    FormScreen .form {
        width: 76;
        max-width: 100%;
        height: auto;
        padding: 0 1;
    }
    FormScreen .hint { color: $text-muted; }
    FormScreen .step { text-style: bold; margin-top: 1; }
    FormScreen .error { color: $error; text-style: bold; display: none; }
    FormScreen .form-message { height: auto; margin-top: 1; }
    FormScreen .form-message.-error { color: $error; text-style: bold; }
    FormScreen Button { margin-top: 1; }
    """

    #: The request fields the portal may name in an error → the id of the widget that holds each.
    FIELD_WIDGETS: ClassVar[dict[str, str]] = {}
    #: The stem of the form's own ids: ``#<FORM>-body`` (the scroll), ``#<FORM>-message``.
    FORM: ClassVar[str] = ""

    #: The actions (keys) that belong to one step only: action → its step.
    STEP_ACTIONS: ClassVar[Mapping[str, str]] = {}
    #: The steps. A widget of class ``in-<step>`` shows in the steps its classes name, and only in them.
    STEPS: ClassVar[tuple[str, ...]] = ()
    #: Fields (as in :attr:`FIELD_WIDGETS`) that may be changed in one step only: field → its step.
    #: In later steps they stay on screen, read-only; Esc goes back to change them.
    EDITABLE_IN: ClassVar[Mapping[str, str]] = {}
    #: Enter in a field (its id) moves on to the next one (its id); the last field's Enter is the screen's.
    NEXT_FIELD: ClassVar[Mapping[str, str]] = {}

    #: A portal call is under way: the buttons are held and Enter does nothing.
    _busy: bool = False
    #: The step the resident is at.
    step: str

    def on_mount(self) -> None:
        self.title = self.t(self.SPEC.title_key)
        self.query_one(f"#{self.FORM}-body", VerticalScroll).can_focus = False
        self.query_one(f"#{next(iter(self.FIELD_WIDGETS.values()))}", Widget).focus()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        step = self.STEP_ACTIONS.get(action)
        return step is None or step == self.step

    @on(Input.Submitted)
    def _to_next_field(self, event: Input.Submitted) -> None:
        following = self.NEXT_FIELD.get(event.input.id or "")
        if following is not None:
            self.query_one(f"#{following}", Widget).focus()

    def _show_step(self, step: str) -> None:
        self.step = step
        for field, editable_in in self.EDITABLE_IN.items():
            self.query_one(f"#{self.FIELD_WIDGETS[field]}", Widget).disabled = step != editable_in
        for widget in self.query(", ".join(f".in-{name}" for name in self.STEPS)):
            widget.display = widget.has_class(f"in-{step}")  # a later step needs the room at 80×24
        self.refresh_bindings()

    async def _ask(
        self,
        busy: str,
        call: Callable[[PortalClient], Awaitable[T]],
        *,
        refused: Callable[[PortalError], None] | None = None,
    ) -> Answer[T] | None:
        """Make the form's call to the portal (from a worker), the buttons held and ``busy`` said meanwhile.

        None when the resident gave up (nothing said) or the portal refused: ``refused`` says why (by
        default beside the field the portal names, else under the form).
        """
        self._set_busy(busy)
        try:
            value = await self.portal(call)
        except CallAbandoned:
            self._message("")
            return None
        except PortalError as exc:
            (refused or self._show_portal_error)(exc)
            return None
        finally:
            self._set_idle()
        self._message("")
        return Answer(value)

    def _set_busy(self, text: str) -> None:
        self._busy = True
        self._enable_buttons(False)
        self._message(text)

    def _set_idle(self) -> None:
        self._busy = False
        self._enable_buttons(True)

    def _enable_buttons(self, enabled: bool) -> None:
        for button in self.query(Button):
            button.disabled = not enabled

    def _message(self, text: str, *, error: bool = False) -> None:
        message = self.query_one(f"#{self.FORM}-message", Static)
        message.update(text)
        message.set_class(error, "-error")
        if text:
            self._reveal(message)

    def _reveal(self, widget: Widget, *, top: bool = False) -> None:
        """Scroll the form so that ``widget`` (a message below the fold at 80×24) is on screen."""
        body = self.query_one(f"#{self.FORM}-body", VerticalScroll)
        self.call_after_refresh(body.scroll_to_widget, widget, animate=False, top=top)

    def _field_error(self, field: str, text: str) -> None:
        widget = self.query_one(f"#{self.FIELD_WIDGETS[field]}-error", Static)
        widget.update(ERROR_MARK + text if text else "")
        widget.display = bool(text)

    def _clear_errors(self) -> None:
        for field in self.FIELD_WIDGETS:
            self._field_error(field, "")

    def _focus_field(self, field: str) -> None:
        widget = self.query_one(f"#{self.FIELD_WIDGETS[field]}", Widget)
        if widget.focusable:  # read-only fields of step 2 show their message all the same
            widget.focus()
        self._reveal(self.query_one(f"#{self.FIELD_WIDGETS[field]}-error", Static))

    def _show_problems(self, problems: dict[str, str]) -> None:
        """The form's own checks failed: each field's message beside it, the first such field focused."""
        for field, text in problems.items():
            self._field_error(field, text)
        self._focus_field(next(iter(problems)))

    def _show_portal_error(self, exc: PortalError) -> None:
        """The portal refused: beside the field it names, else under the form (throttling and the rest)."""
        self._message("")
        field = exc.field if exc.field in self.FIELD_WIDGETS else None
        if field is not None:
            self._field_error(field, self.error_text(exc))
            self._focus_field(field)
        else:
            self._message(ERROR_MARK + self.error_text(exc), error=True)

    def _back_to_login(self, number: str | None) -> None:
        """Back to the screen below (the login screen), with the account number filled in if known."""
        stack = self.app.screen_stack
        below = stack[-2] if len(stack) >= 2 else None
        if number and isinstance(below, PortalScreen):
            below.account_number_known(number)
        self.app.pop_screen()
