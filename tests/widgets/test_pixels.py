"""The half-block pixel image: two pixels per cell, dark on light whatever the theme."""

from __future__ import annotations

from textual.app import App, ComposeResult

from widgets.pixels import DARK, LIGHT, PixelImage, half_block_rows, half_block_text

CHECKER = [[True, False, True], [True, True, False], [False, True]]


def test_pixel_rows_pair_into_cells_and_short_rows_are_padded_light() -> None:
    assert half_block_rows(CHECKER) == [
        [(True, True), (False, True), (True, False)],
        [(False, False), (True, False), (False, False)],
    ]
    assert half_block_text(CHECKER) == "█▄▀\n ▀ "
    assert half_block_text([]) == ""


class _PixelApp(App[None]):
    def compose(self) -> ComposeResult:
        yield PixelImage(CHECKER, id="image")


async def test_the_widget_is_as_big_as_the_image_and_draws_fixed_colours() -> None:
    app = _PixelApp()
    async with app.run_test(size=(20, 5)) as pilot:
        image = app.query_one(PixelImage)
        await pilot.pause()
        assert (image.size.width, image.size.height) == (3, 2)
        first = image.render_line(0)
        assert first.text == "█▄▀"  # the picture is in the glyphs: NO_COLOR and text captures keep it
        colours = {(s.style.color.name if s.style and s.style.color else None) for s in first}
        backgrounds = {(s.style.bgcolor.name if s.style and s.style.bgcolor else None) for s in first}
        assert colours <= {DARK, LIGHT} and backgrounds <= {DARK, LIGHT}
        # A full dark cell is █ on a dark background too, so fonts without █ still show it.
        full = next(iter(first))
        assert full.style is not None and full.style.bgcolor is not None
        assert full.style.bgcolor.name == DARK
        assert [line.text for line in map(image.render_line, range(2))] == half_block_text(CHECKER).split(
            "\n"
        )

        image.set_pixels([[True] * 6] * 4)
        await pilot.pause()
        assert (image.size.width, image.size.height) == (6, 2)


async def test_inverted_images_swap_dark_and_light() -> None:
    image = PixelImage([[True, False]], invert=True)
    assert image.pixels == ((False, True),)
