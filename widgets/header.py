"""The screens' header: Textual's, with a title update that tolerates a header being taken down.

Textual's ``Header`` updates its title from watchers of the app's and the screen's title; when a title
changes while a screen is being removed (a kiosk's idle wipe, a language switch over a stack of
screens), the watcher of the outgoing header finds no ``HeaderTitle`` and raises ``NoMatches``, which
ends the app. This header registers the same watchers with an update that lets a header going away be.
"""

from __future__ import annotations

import contextlib

from textual.css.query import NoMatches
from textual.dom import NoScreen
from textual.events import Mount
from textual.widgets import Header as TextualHeader
from textual.widgets._header import HeaderTitle

__all__ = ["Header"]


class Header(TextualHeader):
    """Textual's header whose title watchers never fail on a header being removed."""

    def _on_mount(self, event: Mount) -> None:
        # Replaces Textual's handler (and Widget's, which only concerns scrolling widgets).
        event.prevent_default()

        async def set_title() -> None:
            # A header leaving with its screen has nothing to show.
            with contextlib.suppress(NoScreen, NoMatches):
                self.query_one(HeaderTitle).update(self.format_title())

        self.watch(self.app, "title", set_title)
        self.watch(self.app, "sub_title", set_title)
        self.watch(self.screen, "title", set_title)
        self.watch(self.screen, "sub_title", set_title)
