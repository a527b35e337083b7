"""A black-and-white pixel image drawn with half blocks: two pixels per terminal cell, one above the other.

QR codes and captcha images must stay readable whatever the theme, so the colours are fixed (dark on light,
like paper) instead of coming from the theme. Each cell is ``▀``, ``▄``, ``█`` or a space, which keeps a
square pixel on the usual 1:2 terminal cell. The dark pixels are always drawn by the glyph (foreground),
never by a background colour alone, so the picture stays on a monochrome terminal, with ``NO_COLOR`` and
in a plain text capture.
"""

from __future__ import annotations

from collections.abc import Sequence

from rich.segment import Segment
from rich.style import Style
from textual.geometry import Size
from textual.strip import Strip
from textual.widget import Widget

DARK = "#000000"
LIGHT = "#ffffff"

#: (upper dark, lower dark) → the character (its foreground is the dark part) and its fixed colours.
_CELL_STYLES = {
    (False, False): (" ", Style(color=DARK, bgcolor=LIGHT)),
    (True, True): ("█", Style(color=DARK, bgcolor=DARK)),  # dark even in a font without █
    (True, False): ("▀", Style(color=DARK, bgcolor=LIGHT)),
    (False, True): ("▄", Style(color=DARK, bgcolor=LIGHT)),
}


def half_block_rows(pixels: Sequence[Sequence[bool]]) -> list[list[tuple[bool, bool]]]:
    """Pair pixel rows into cells of (upper, lower); an odd last row gets a light lower half."""
    width = max((len(row) for row in pixels), default=0)
    cells: list[list[tuple[bool, bool]]] = []
    for top in range(0, len(pixels), 2):
        upper = list(pixels[top]) + [False] * (width - len(pixels[top]))
        lower_row = pixels[top + 1] if top + 1 < len(pixels) else []
        lower = list(lower_row) + [False] * (width - len(lower_row))
        cells.append([(bool(a), bool(b)) for a, b in zip(upper, lower, strict=True)])
    return cells


def half_block_text(pixels: Sequence[Sequence[bool]]) -> str:
    """The image as plain text (``▀``, ``▄``, ``█`` and spaces): for logs and tests."""
    glyphs = {(False, False): " ", (True, True): "█", (True, False): "▀", (False, True): "▄"}
    return "\n".join("".join(glyphs[cell] for cell in row) for row in half_block_rows(pixels))


class PixelImage(Widget):
    """Shows a matrix of pixels (``True`` = dark) as half blocks, dark on light whatever the theme."""

    DEFAULT_CSS = """
    PixelImage {
        width: auto;
        height: auto;
    }
    """

    def __init__(
        self,
        pixels: Sequence[Sequence[bool]] | None = None,
        *,
        invert: bool = False,
        name: str | None = None,
        id: str | None = None,
        classes: str | None = None,
    ) -> None:
        super().__init__(name=name, id=id, classes=classes)
        self._invert = invert
        self._cells: list[list[tuple[bool, bool]]] = []
        self._strips: list[Strip] = []
        self.pixels: tuple[tuple[bool, ...], ...] = ()
        self.set_pixels(pixels or ())

    def set_pixels(self, pixels: Sequence[Sequence[bool]]) -> None:
        """Show another image (the widget resizes to it)."""
        self.pixels = tuple(tuple(bool(p) != self._invert for p in row) for row in pixels)
        self._cells = half_block_rows(self.pixels)
        self._strips = [self._strip(row) for row in self._cells]
        self.refresh(layout=True)

    @staticmethod
    def _strip(row: list[tuple[bool, bool]]) -> Strip:
        segments: list[Segment] = []
        run_text = ""
        run_style: Style | None = None
        for cell in row:
            char, style = _CELL_STYLES[cell]
            if style is run_style:
                run_text += char
                continue
            if run_style is not None:
                segments.append(Segment(run_text, run_style))
            run_text, run_style = char, style
        if run_style is not None:
            segments.append(Segment(run_text, run_style))
        return Strip(segments, len(row))

    @property
    def image_size(self) -> Size:
        """The size in cells: one column per pixel column, one row per two pixel rows."""
        return Size(len(self._cells[0]) if self._cells else 0, len(self._cells))

    def get_content_width(self, container: Size, viewport: Size) -> int:
        return self.image_size.width

    def get_content_height(self, container: Size, viewport: Size, width: int) -> int:
        return self.image_size.height

    def render_line(self, y: int) -> Strip:
        if 0 <= y < len(self._strips):
            return self._strips[y].crop(0, self.size.width)
        return Strip.blank(self.size.width)
