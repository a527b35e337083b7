"""The app's screens, found by their declarations (``SPEC``), not by a list kept by hand.

A screen is a :class:`~screens.base.PortalScreen` subclass with its own ``SPEC`` in ``screens/<name>.py``
(the module is named after the screen). :func:`screen_class` imports one screen's module when it is
first opened; :func:`declared_screens` imports them all (for the command palette and the home menu),
which the app does after the first paint, as it does with the portal.
"""

from __future__ import annotations

import importlib
from functools import cache
from types import ModuleType

from screens.base import UNDECLARED, PortalScreen, ScreenSpec


def _declared_in(module: ModuleType) -> list[type[PortalScreen]]:
    """The screens whose ``SPEC`` is declared in ``module`` itself (not imported bases)."""
    return [
        value
        for value in vars(module).values()
        if isinstance(value, type)
        and issubclass(value, PortalScreen)
        and value.__module__ == module.__name__
        and "SPEC" in vars(value)
        and value.SPEC is not UNDECLARED
    ]


def screen_class(name: str) -> type[PortalScreen]:
    """The screen called ``name``, its module imported on first use. Raises KeyError for no such screen."""
    try:
        module = importlib.import_module(f"{__package__}.{name}")
    except ModuleNotFoundError:
        raise KeyError(name) from None
    for screen in _declared_in(module):
        if screen.SPEC.name == name:
            return screen
    raise KeyError(name)


@cache
def declared_screens() -> tuple[type[PortalScreen], ...]:
    """Every declared screen, in their :attr:`~screens.base.ScreenSpec.order`."""
    import pkgutil  # not on the way to the first paint

    package = importlib.import_module(__package__ or "screens")
    screens: list[type[PortalScreen]] = []
    for info in pkgutil.iter_modules(package.__path__):
        screens += _declared_in(importlib.import_module(f"{package.__name__}.{info.name}"))
    return tuple(sorted(screens, key=lambda screen: (screen.SPEC.order, screen.SPEC.name)))


def declared_specs() -> tuple[ScreenSpec, ...]:
    """The declarations of :func:`declared_screens`, in the same order."""
    return tuple(screen.SPEC for screen in declared_screens())


def menu_specs() -> tuple[ScreenSpec, ...]:
    """The screens of the home menu, in its order."""
    return tuple(spec for spec in declared_specs() if spec.menu_key is not None)


def palette_specs(*, logged_in: bool) -> tuple[ScreenSpec, ...]:
    """The screens the command palette offers a resident logged in, or anyone before login."""
    audience = {"resident", "everyone"} if logged_in else {"public", "everyone"}
    return tuple(spec for spec in declared_specs() if spec.offered_to in audience)
