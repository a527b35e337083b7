"""A checkbox and a radio button whose state reads without colour: ``[x]``/``[ ]`` and ``(•)``/``( )``.

Textual draws both as ``▐X▌`` / ``▐●▌`` whatever their value and shows the state by colour alone, which
a monochrome terminal, ``NO_COLOR``, the Linux console's palette or a plain text capture loses (and a
colour-blind resident may too). Here the glyph itself changes; the colours stay as the theme has them.
"""

from __future__ import annotations

from typing import ClassVar

from textual.content import Content
from textual.widgets import Checkbox as _Checkbox
from textual.widgets import RadioButton as _RadioButton


class _ReadableToggle:
    """Textual's ``ToggleButton._button`` with the state in the glyph."""

    #: (left, inner when on, inner when off, right).
    GLYPHS: ClassVar[tuple[str, str, str, str]]

    @property
    def _button(self) -> Content:
        left, on, off, right = self.GLYPHS
        button_style = self.get_visual_style("toggle--button")  # type: ignore[attr-defined]
        inner = on if self.value else off  # type: ignore[attr-defined]
        return Content.assemble(left, (inner, button_style), right)


class Checkbox(_ReadableToggle, _Checkbox):
    """``[x] Label`` when ticked, ``[ ] Label`` when not."""

    GLYPHS = ("[", "x", " ", "]")


class RadioButton(_ReadableToggle, _RadioButton):
    """``(•) Label`` when chosen, ``( ) Label`` when not."""

    GLYPHS = ("(", "•", " ", ")")


__all__ = ["Checkbox", "RadioButton"]
