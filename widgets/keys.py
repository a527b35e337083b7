"""Key bindings whose footer words come from the translation catalogue — one mechanism for all nodes.

A binding's description is either a catalogue key itself (``Binding("f5", "refresh", "footer.refresh")``,
the screens' way) or, for a widget that must read right with no translator at all, Russian words with
a map ``action → catalogue key`` given here. Textual builds each node's bindings once from its class's
``BINDINGS``; only that node's own copy is changed, and again when the language changes (the catalogue
keys are remembered on the node). Letter keys are declared with their Cyrillic-layout twin (``"s,ы"``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace

from textual.binding import Binding
from textual.dom import DOMNode

from tui.i18n import Translator

_KEYS_ATTRIBUTE = "_kabinet_binding_keys"


def _looks_like_key(text: str) -> bool:
    return "." in text and " " not in text


def translate_bindings(node: DOMNode, t: Translator, descriptions: Mapping[str, str] | None = None) -> None:
    """Give ``node``'s bindings the current language's words (call again after a language switch)."""
    originals: dict[tuple[str, str], str] = node.__dict__.setdefault(_KEYS_ATTRIBUTE, {})
    # Textual has no public setter for one node's bindings: its per-node copy ``_bindings`` is what
    # ``DOMNode.__init__`` builds from the class, and keymaps still apply on top of it by binding id.
    table = node._bindings.key_to_bindings
    for key, bindings in table.items():
        translated: list[Binding] = []
        for binding in bindings:
            catalogue_key = originals.get((key, binding.action))
            if catalogue_key is None:
                declared = (descriptions or {}).get(binding.action, binding.description)
                catalogue_key = declared if _looks_like_key(declared) else ""
                originals[(key, binding.action)] = catalogue_key
            if catalogue_key:
                binding = replace(binding, description=t(catalogue_key))
            translated.append(binding)
        table[key] = translated
