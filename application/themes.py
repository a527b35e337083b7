"""The app's own themes: high contrast for kiosks, and ANSI colours only for the Linux text console.

- ``kabinet-high-contrast``: white and yellow on black, no mid-tone greys, for office lighting and
  weak eyes (select it with ``theme = "kabinet-high-contrast"`` in the config);
- ``kabinet-console``: only the 16 ANSI colours (``ansi=True``), which the Linux console (``TERM=linux``)
  draws exactly as they are; the console profile switches to it unless an ANSI theme is configured.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Final

from textual.theme import Theme

if TYPE_CHECKING:
    from textual.app import App

    from tui.config import Config

HIGH_CONTRAST: Final = "kabinet-high-contrast"
CONSOLE: Final = "kabinet-console"

HIGH_CONTRAST_THEME: Final = Theme(
    name=HIGH_CONTRAST,
    primary="#FFD700",
    secondary="#00FFFF",
    accent="#FFD700",
    warning="#FFFF00",
    error="#FF5555",
    success="#55FF55",
    foreground="#FFFFFF",
    background="#000000",
    surface="#000000",
    panel="#1A1A1A",
    boost="#FFFFFF10",
    dark=True,
    # No dimmed text: muted hints would be grey on black.
    text_alpha=1.0,
    luminosity_spread=0.1,
    variables={
        "text-muted": "#FFFFFF",
        "border": "#FFFFFF",
        "border-blurred": "#BBBBBB",
        "footer-key-foreground": "#FFD700",
        "footer-description-foreground": "#FFFFFF",
        "input-cursor-background": "#FFD700",
        "input-cursor-foreground": "#000000",
        "input-selection-background": "#FFD700 60%",
        "block-cursor-background": "#FFD700",
        "block-cursor-foreground": "#000000",
        "block-cursor-text-style": "bold",
        "button-color-foreground": "#000000",
    },
)
"""Large-looking, high-contrast: bold yellow focus on pure black, white text everywhere."""

CONSOLE_THEME: Final = Theme(
    name=CONSOLE,
    ansi=True,
    primary="ansi_bright_yellow",
    secondary="ansi_bright_cyan",
    accent="ansi_bright_yellow",
    warning="ansi_yellow",
    error="ansi_bright_red",
    success="ansi_bright_green",
    foreground="ansi_bright_white",
    background="ansi_black",
    surface="ansi_black",
    panel="ansi_blue",
    boost="ansi_black",
    dark=True,
    variables={
        "ansi-background": "ansi_black",
        "ansi-foreground": "ansi_bright_white",
        "text-muted": "ansi_white",
        "border": "ansi_bright_white",
        "border-blurred": "ansi_white",
        "footer-background": "ansi_blue",
        "footer-key-foreground": "ansi_bright_yellow",
        "footer-description-foreground": "ansi_bright_white",
        "block-cursor-background": "ansi_bright_yellow",
        "block-cursor-foreground": "ansi_black",
        "block-cursor-text-style": "bold",
        "input-cursor-background": "ansi_bright_white",
        "input-cursor-foreground": "ansi_black",
        "input-cursor-text-style": "none",
        "input-selection-background": "ansi_bright_blue",
        "input-selection-foreground": "ansi_black",
        "screen-selection-background": "ansi_bright_blue",
        "screen-selection-foreground": "ansi_black",
    },
)
"""The 16 colours of the Linux console, nothing blended."""

THEMES: Final = (HIGH_CONTRAST_THEME, CONSOLE_THEME)
"""Registered by the app at start-up (``App.register_theme``)."""


def apply_look(app: App[Any], config: Config) -> bool:
    """Our themes, the configured one, and the text-console profile (ANSI colours, ``руб.``).

    Registers :data:`THEMES` on ``app`` and selects ``config.theme``; with the console profile (asked
    for, or ``TERM=linux``) the app keeps to the 16 ANSI colours, on :data:`CONSOLE` unless the configured
    theme is an ANSI one, and money is written with ``руб.`` for ``₽``. Returns whether the console
    profile is on (``config.console_profile`` is set to it too).
    """
    from tui.formatting import set_ascii_currency
    from tui.kiosk import console_profile_wanted

    for registered in THEMES:
        app.register_theme(registered)
    console = console_profile_wanted(config.console_profile)
    config.console_profile = console
    set_ascii_currency(console)
    theme = app.get_theme(config.theme) if config.theme else None
    if config.theme and theme is None:
        app.log.warning(f"unknown theme {config.theme!r}")
    if console:
        app.ansi_color = True
        if theme is None or not theme.ansi:
            theme = app.get_theme(CONSOLE)
    if theme is not None:
        app.theme = theme.name
    return console
