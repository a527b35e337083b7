"""Keys on a Russian keyboard layout: a letter key and its twin in ЙЦУКЕН (no Textual here).

With the Russian layout on, ``p`` arrives as ``з``: a letter binding is declared for both, so the key
works whichever layout the resident has switched to.
"""

from __future__ import annotations

_LATIN = "qwertyuiop[]asdfghjkl;'zxcvbnm,."
_CYRILLIC = "йцукенгшщзхъфывапролджэячсмитьбю"
#: A Latin letter key → the Cyrillic letter on the same key of a ЙЦУКЕН keyboard.
TWINS: dict[str, str] = {
    latin: cyrillic for latin, cyrillic in zip(_LATIN, _CYRILLIC, strict=True) if latin.isalpha()
}


def with_layout_twin(key: str) -> str:
    """``"p"`` → ``"p,з"``; keys that are not Latin letters (``"f2"``) stay as they are."""
    twin = TWINS.get(key)
    return f"{key},{twin}" if twin else key
