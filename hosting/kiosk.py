"""``kabinet hash-pin``: the kiosk administrator's PIN, hashed for ``/etc/kabinet/config.toml``.

Asks for the PIN twice (not echoed) and prints the ``admin_pin_hash = "…"`` line; the PIN rules and the
hash are :func:`tui.kiosk.check_pin` and :func:`tui.kiosk.hash_pin`. Also ``python -m hosting.kiosk``.
"""

from __future__ import annotations

import getpass
import sys
from collections.abc import Callable

from tui.kiosk import PinError, check_pin, hash_pin


def _read_new_pin(read: Callable[[str], str]) -> str:
    pin = check_pin(read("New administrator PIN / Новый PIN администратора: "))
    if read("Repeat the PIN / Повторите PIN: ") != pin:
        raise PinError("the two PINs differ")
    return pin


def main(argv: list[str] | None = None) -> int:
    """``kabinet hash-pin``: ask for a PIN twice, print the ``admin_pin_hash = "…"`` line for the config."""
    args = sys.argv[1:] if argv is None else argv
    if args[:1] == ["hash-pin"]:
        args = args[1:]
    if args:
        print(
            "usage: kabinet hash-pin\n"
            "Asks for the administrator's PIN twice (it is not echoed) and prints the line to put in\n"
            "/etc/kabinet/config.toml. The PIN ends kiosk mode with Ctrl+F12 (or F12).",
            file=sys.stderr,
        )
        return 0 if args[0] in {"-h", "--help"} else 2
    try:
        pin = _read_new_pin(getpass.getpass)
    except PinError as exc:
        print(f"kabinet hash-pin: {exc}", file=sys.stderr)
        return 2
    except (EOFError, KeyboardInterrupt):
        return 1
    print(f'admin_pin_hash = "{hash_pin(pin)}"')
    return 0


__all__ = ["main"]


if __name__ == "__main__":
    raise SystemExit(main())
