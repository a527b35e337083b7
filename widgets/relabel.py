"""After a language switch, every screen on the stack says the same things in the new language.

Widgets keep the words they were given (a label's text, a button's label, a field's placeholder, an
option's prompt, a title). Each of those that the translator gave out is put in the new language with
the same key and parameters (:meth:`tui.i18n.Translator.again`); the resident's typing, the portal's
data and the focus stay as they are. What a screen builds from pieces (a sentence around the
portal's figures, a chart's title) it says again in its ``relabel`` method, called here too.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from rich.text import Text
from textual.content import Content
from textual.dom import DOMNode
from textual.widget import Widget
from textual.widgets import Button, DataTable, Input, OptionList, Static
from textual.widgets._tabs import Tab
from textual.widgets._toggle_button import ToggleButton

from tui.i18n import Translated, Translator


def _plain(text: object) -> str | None:
    if isinstance(text, str):
        return text
    if isinstance(text, Content):
        return text.plain
    plain = getattr(text, "plain", None)  # rich Text
    return plain if isinstance(plain, str) else None


def _relabel_widget(widget: Widget, again: Callable[[object], str | None]) -> None:
    if isinstance(widget, Static) and not isinstance(widget, Tab):
        new = again(widget.content)
        if new is not None:
            widget.update(new)
    if isinstance(widget, Button | ToggleButton | Tab):
        new = again(_plain(widget.label))
        if new is not None:
            widget.label = new
            widget.clear_cached_dimensions()  # an auto width fits the new words
            widget.refresh(layout=True)
    if isinstance(widget, Input):
        new = again(widget.placeholder)
        if new is not None:
            widget.placeholder = new
    if isinstance(widget, OptionList):
        for index in range(widget.option_count):
            new = again(_plain(widget.get_option_at_index(index).prompt))
            if new is not None:
                widget.replace_option_prompt_at_index(index, new)
    if isinstance(widget, DataTable):
        changed = False
        for column in widget.columns.values():
            new = again(_plain(column.label))
            if new is not None:
                column.label = Text(new)
                changed = True
        if changed:
            widget.refresh()
    for name in ("border_title", "border_subtitle", "tooltip"):
        new = again(_plain(getattr(widget, name, None)))
        if new is not None:
            setattr(widget, name, new)
    if isinstance(getattr(widget, "title", None), Translated):  # a chart's title
        widget.title = again(widget.title)  # type: ignore[attr-defined]
        widget.refresh()


def relabel(root: DOMNode, t: Translator) -> None:
    """Put every translated word under ``root`` (a screen, or the app's own titles) in ``t``'s language."""
    for name in ("title", "sub_title"):
        new = t.again(getattr(root, name, None))
        if new is not None:
            setattr(root, name, new)
    nodes: list[Any] = list(root.walk_children(with_self=False)) if isinstance(root, Widget) else []
    # A screen is a Widget; the app is not, and its screens are relabelled one by one.
    for node in nodes:
        if isinstance(node, Widget):
            _relabel_widget(node, t.again)
    for node in [root, *nodes]:
        hook = getattr(node, "relabel", None)
        if callable(hook):
            hook()


__all__ = ["relabel"]
