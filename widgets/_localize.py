"""Footer words of a widget's bindings in the resident's language.

Textual reads a binding's description from the node's own bindings map, built once from the class's
``BINDINGS``. A widget declares its bindings with Russian descriptions (so it reads right with no
translator at all) and a map ``action → catalogue key``; :func:`localize_bindings` swaps in the
words of the translator's language for that one instance, leaving the class untouched.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace

from textual.binding import Binding, BindingsMap
from textual.dom import DOMNode

from tui.i18n import Translator


def localize_bindings(node: DOMNode, translate: Translator, descriptions: Mapping[str, str]) -> None:
    """Give ``node``'s bindings whose action is in ``descriptions`` the translated description.

    ``descriptions`` maps an action name to a catalogue key. Call again after the language changes;
    ``node.refresh_bindings()`` then redraws the footer.
    """
    localized: dict[str, list[Binding]] = {}
    for key, bindings in node._bindings.key_to_bindings.items():
        localized[key] = [
            replace(binding, description=translate(descriptions[binding.action]))
            if binding.action in descriptions
            else binding
            for binding in bindings
        ]
    # Textual has no public setter for an instance's bindings; replacing the map is what
    # ``DOMNode.__init__`` does itself, and keymaps (``App.set_keymap``) still apply on top by id.
    node._bindings = BindingsMap.from_keys(localized)
