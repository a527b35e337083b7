"""Never by colour alone: a checkbox and radio buttons say their state in their glyphs.

Read as plain text (what ``NO_COLOR``, a monochrome terminal or a text capture keeps), a ticked box
is ``[x]`` and an unticked one ``[ ]``; the chosen radio button ``(•)``, the others ``( )``.
"""

from __future__ import annotations

from textual.app import App, ComposeResult
from textual.widgets import RadioSet

from widgets.toggles import Checkbox, RadioButton


class _TogglesApp(App[None]):
    def compose(self) -> ComposeResult:
        yield Checkbox("Принять условия", id="terms")
        with RadioSet(id="provider"):
            yield RadioButton("А3", value=True, id="a3")
            yield RadioButton("PayMO", id="paymo")


def _plain(widget: Checkbox | RadioButton) -> str:
    return widget.render().plain.strip()


async def test_checkbox_and_radio_state_reads_without_colour() -> None:
    app = _TogglesApp()
    async with app.run_test(size=(40, 10)) as pilot:
        terms = app.query_one("#terms", Checkbox)
        a3, paymo = app.query_one("#a3", RadioButton), app.query_one("#paymo", RadioButton)
        assert _plain(terms) == "[ ] Принять условия"
        assert (_plain(a3), _plain(paymo)) == ("(•) А3", "( ) PayMO")
        terms.focus()
        await pilot.press("space")
        assert _plain(terms) == "[x] Принять условия"
        paymo.value = True
        await pilot.pause()
        assert (_plain(a3), _plain(paymo)) == ("( ) А3", "(•) PayMO")
