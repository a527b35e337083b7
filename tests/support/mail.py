"""Reading the portal's letters in tests."""

from __future__ import annotations

from email.message import EmailMessage


def plain_text(letter: EmailMessage) -> str:
    """The letter's plain-text body (failing the test when it has none)."""
    part = letter.get_body(preferencelist=("plain",))
    assert part is not None, f"the letter {letter['Subject']!r} has no plain-text part"
    text = part.get_content()
    assert isinstance(text, str)
    return text
