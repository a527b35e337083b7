"""The captcha image in the terminal: the portal's PNG decoded, scaled down and drawn in half blocks.

At 80×24 the picture gets at most :data:`MAX_COLUMNS` columns and :data:`MAX_CELL_ROWS` rows of cells
(two pixels a cell, one above the other): 8 rows leave the code field, «Сохранить» and the message
beside and under the picture inside 24 rows. Scaling a 200×70 picture down to about 42×16 pixels keeps
the characters' strokes (a box filter averages, so a thin stroke stays as grey rather than vanishing),
and Otsu's threshold then splits ink from paper whatever the picture's contrast.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from typing import TYPE_CHECKING

from widgets.pixels import PixelImage, half_block_text

if TYPE_CHECKING:
    from PIL.Image import Image

#: Columns of cells the picture may take: with its frame it leaves about 30 columns for the code field.
MAX_COLUMNS = 44
#: Rows of cells (two pixel rows each): 16 pixel rows keep the five characters legible, and the
#: framed picture (10 rows) leaves room for the whole form around it at 24 rows.
MAX_CELL_ROWS = 8


def otsu_threshold(histogram: Sequence[int]) -> int:
    """The grey level that best splits a 256-bin histogram into two classes (Otsu's method).

    Pixels at or below the returned level are the darker class.
    """
    total = sum(histogram)
    if total == 0:
        return 127
    sum_all = sum(level * count for level, count in enumerate(histogram))
    best_level, best_between = 127, -1.0
    weight_dark = 0
    sum_dark = 0
    for level in range(256):
        weight_dark += histogram[level]
        if weight_dark == 0:
            continue
        weight_light = total - weight_dark
        if weight_light == 0:
            break
        sum_dark += level * histogram[level]
        mean_dark = sum_dark / weight_dark
        mean_light = (sum_all - sum_dark) / weight_light
        between = weight_dark * weight_light * (mean_dark - mean_light) ** 2
        if between > best_between:
            best_level, best_between = level, between
    return best_level


#: A row or column with fewer dark pixels than this is margin: a noise dot does not widen the crop.
_MIN_INK = 4
#: Paper kept around the ink, in the picture's pixels.
_MARGIN = 2


def _ink_box(image: Image) -> tuple[int, int, int, int] | None:
    """(left, top, right, bottom) around the characters of a greyscale picture, or None if blank."""
    level = otsu_threshold(image.histogram())
    data = image.tobytes()
    width, height = image.size
    columns = [0] * width
    rows = [0] * height
    for y in range(height):
        line = data[y * width : (y + 1) * width]
        for x, value in enumerate(line):
            if value <= level:
                columns[x] += 1
                rows[y] += 1
    xs = [x for x, count in enumerate(columns) if count >= _MIN_INK]
    ys = [y for y, count in enumerate(rows) if count >= _MIN_INK]
    if not xs or not ys:
        return None
    return (
        max(0, xs[0] - _MARGIN),
        max(0, ys[0] - _MARGIN),
        min(width, xs[-1] + 1 + _MARGIN),
        min(height, ys[-1] + 1 + _MARGIN),
    )


def captcha_pixels(
    png: bytes, max_columns: int = MAX_COLUMNS, max_cell_rows: int = MAX_CELL_ROWS
) -> list[list[bool]]:
    """The PNG as dark/light pixels fitting ``max_columns`` × ``2 * max_cell_rows``, aspect kept.

    Raises ``ValueError`` for bytes that are not a readable image.
    """
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(io.BytesIO(png)) as opened:
            image = opened.convert("L")
    except (UnidentifiedImageError, OSError) as exc:
        raise ValueError(f"not an image: {exc}") from None
    if image.width == 0 or image.height == 0:
        raise ValueError("an empty image")
    # Only the part with ink is worth the few pixels a terminal has: crop the empty margins first.
    box = _ink_box(image)
    if box is not None:
        image = image.crop(box)
    width, height = image.size
    scale = min(max_columns / width, 2 * max_cell_rows / height, 1.0)
    size = (max(1, round(width * scale)), max(1, round(height * scale)))
    small = image.resize(size, Image.Resampling.BOX) if size != image.size else image
    threshold = otsu_threshold(small.histogram())
    data = small.tobytes()
    columns = size[0]
    return [
        [value <= threshold for value in data[row : row + columns]] for row in range(0, len(data), columns)
    ]


def captcha_text(png: bytes) -> str:
    """The picture as half-block text, as the terminal shows it (for logs and tests)."""
    return half_block_text(captcha_pixels(png))


class CaptchaImage(PixelImage):
    """A captcha picture drawn legibly in the terminal; :meth:`show_png` changes it."""

    DEFAULT_CSS = """
    CaptchaImage {
        width: auto;
        height: auto;
        margin: 0 0 0 0;
    }
    """

    def show_png(self, png: bytes) -> None:
        """Draw another picture (raises ``ValueError`` for bytes that are not an image)."""
        self.set_pixels(captcha_pixels(png))

    def clear(self) -> None:
        """No picture (while a new one is on its way)."""
        self.set_pixels(())


__all__ = ["MAX_CELL_ROWS", "MAX_COLUMNS", "CaptchaImage", "captcha_pixels", "captcha_text", "otsu_threshold"]
