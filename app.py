"""Kabinet, the terminal app (Textual). The full app arrives with the next issue."""

from __future__ import annotations

import sys


def main(argv: list[str] | None = None) -> int:
    """Entry point of ``kabinet``: for now, says the app is coming and how to try the portal."""
    print(
        "Kabinet: терминальное приложение появится в следующем выпуске; портал уже работает:\n"
        "  kabinet-portal serve --demo\n"
        "Kabinet: the terminal app is coming in the next release; the portal already works:\n"
        "  kabinet-portal serve --demo"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
