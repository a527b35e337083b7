"""A QR code in the terminal: the text is encoded with segno and drawn by :class:`~widgets.pixels.PixelImage`.

Dark modules on a light quiet zone whatever the theme, two modules per terminal cell (half blocks), so a
phone camera reads it off the screen. The text goes in as UTF-8 bytes in byte mode without an ECI
header: what banking apps expect of a ГОСТ Р 56042 payload (``ST00012`` says UTF-8), and plain ASCII
for a URL.
"""

from __future__ import annotations

from typing import Final, Literal

import segno

from widgets.pixels import PixelImage

ErrorLevel = Literal["L", "M", "Q", "H"]

DEFAULT_BORDER: Final = 2
"""Light modules around the code. The standard asks for 4; 2 is what keeps a payment page's code within
24 terminal rows, and phone readers find the code with it, the screen around being no part of the code."""


def qr_pixels(text: str, *, border: int = DEFAULT_BORDER, error: ErrorLevel = "L") -> list[list[bool]]:
    """The modules of ``text``'s QR code with ``border`` light modules around, row by row (True = dark).

    The smallest version that holds the text at error level ``error`` (L: the smallest code, which a
    screen, unlike paper, never smudges).
    """
    code = segno.make(text.encode("utf-8"), error=error, boost_error=False, micro=False)
    return [[bool(module) for module in row] for row in code.matrix_iter(scale=1, border=border)]


class QrCode(PixelImage):
    """The QR code of a text (a payment page's URL, a ГОСТ payment payload), black on white."""

    DEFAULT_CSS = """
    QrCode {
        width: auto;
        height: auto;
    }
    """

    def __init__(
        self,
        text: str = "",
        *,
        border: int = DEFAULT_BORDER,
        error: ErrorLevel = "L",
        name: str | None = None,
        id: str | None = None,
        classes: str | None = None,
    ) -> None:
        self.border = border
        """Light modules drawn around the code (the quiet zone)."""
        self.error: ErrorLevel = error
        """The error correction level."""
        self.text = ""
        """The text encoded now ("" shows nothing)."""
        super().__init__(name=name, id=id, classes=classes)
        self.set_text(text)

    def set_text(self, text: str) -> None:
        """Encode and show another text (an empty one clears the image)."""
        self.text = text
        self.set_pixels(qr_pixels(text, border=self.border, error=self.error) if text else ())


__all__ = ["DEFAULT_BORDER", "QrCode", "qr_pixels"]
