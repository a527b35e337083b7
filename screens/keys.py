"""Key bindings whose footer labels come from the translation catalogue.

Bindings are declared on classes with a catalogue key as the description (``"footer.refresh"``);
each screen (and the app) replaces its own copy of them with the words of the current language, and
again when the language changes. Letter keys are declared together with their Cyrillic-layout twin
(``"s,ы"``), so they work whichever layout the keyboard is in.
"""

from __future__ import annotations

from dataclasses import replace

from textual.binding import Binding
from textual.dom import DOMNode

from tui.i18n import Translator

_KEYS_ATTRIBUTE = "_kabinet_binding_keys"


def translate_bindings(node: DOMNode, t: Translator) -> None:
    """Give ``node``'s bindings the current language's descriptions (catalogue keys are kept aside)."""
    # Textual keeps a per-node copy of the merged class bindings in ``_bindings``: only that copy changes.
    originals: dict[tuple[str, str], str] = node.__dict__.setdefault(_KEYS_ATTRIBUTE, {})
    table = node._bindings.key_to_bindings
    for key, bindings in table.items():
        translated: list[Binding] = []
        for binding in bindings:
            description_key = originals.setdefault((key, binding.action), binding.description)
            if description_key and "." in description_key and " " not in description_key:
                binding = replace(binding, description=t(description_key))
            translated.append(binding)
        table[key] = translated
