"""Shared terminals: the administrator's PIN, the idle timer, and how the terminal is reached.

Nothing here draws anything (the screens are ``screens/admin_exit.py`` and ``screens/idle_warning.py``);
this is the logic those screens and the app use, testable without a terminal:

- :func:`hash_pin` / :func:`verify_pin`: the administrator's PIN, stored in ``/etc/kabinet/config.toml``
  as an argon2id hash (``admin_pin_hash``), never as the PIN itself;
- :class:`PinThrottle`: after a wrong PIN the next attempt waits, longer each time (1, 2, 4 … 60 s),
  so the PIN cannot be guessed at a kiosk's keyboard in any useful time;
- :class:`IdleTimer`: the idle-logout state machine (active → warning with a countdown → expired);
- :func:`shared_ssh_session`, :func:`console_profile_wanted`: facts about the terminal the app runs in.

``kabinet hash-pin`` (:mod:`hosting.kiosk`) asks for a PIN twice and prints the line to put in the
administrator's file.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from enum import Enum
from typing import TYPE_CHECKING, Final

if TYPE_CHECKING:
    from argon2 import PasswordHasher

PIN_HASH_PREFIX: Final = "$argon2id$"
"""What a stored PIN hash starts with (the config check refuses anything else)."""

MIN_PIN_LENGTH: Final = 4
MAX_PIN_LENGTH: Final = 64

IDLE_WARNING_SECONDS: Final = 15
"""How long the countdown is shown before an idle session ends."""

ADMIN_EXIT_CODE: Final = 10
"""The app's exit status when the administrator's PIN ends kiosk mode.

The kiosk's systemd unit restarts the app whatever its status (a crash included) except this one
(``Restart=always`` with ``RestartPreventExitStatus=10``).
"""

SSH_SESSION_VARIABLE: Final = "KABINET_SSH"
"""Set to ``1`` for the app when it serves a stranger over SSH (see :func:`shared_ssh_session`)."""


def _hasher() -> PasswordHasher:
    """argon2id at OWASP's minimum (as the portal's passwords): about 20 ms a hash on a kiosk's CPU."""
    from argon2 import PasswordHasher

    return PasswordHasher(time_cost=2, memory_cost=19456, parallelism=1)


class PinError(ValueError):
    """A PIN that cannot be set (too short, too long, not printable)."""


def check_pin(pin: str) -> str:
    """The PIN if it can be used, else :class:`PinError` saying what is allowed."""
    if not MIN_PIN_LENGTH <= len(pin) <= MAX_PIN_LENGTH:
        raise PinError(f"a PIN has {MIN_PIN_LENGTH} to {MAX_PIN_LENGTH} characters")
    if not pin.isprintable() or pin != pin.strip():
        raise PinError("a PIN has printable characters only, without spaces at either end")
    return pin


def hash_pin(pin: str) -> str:
    """An argon2id hash of ``pin`` (``$argon2id$v=19$m=19456,t=2,p=1$…``) for ``admin_pin_hash``."""
    return _hasher().hash(check_pin(pin))


def verify_pin(pin_hash: str, pin: str) -> bool:
    """Whether ``pin`` matches ``pin_hash``; False (never an exception) for a wrong PIN or a broken hash.

    Takes tens of milliseconds: call it in a thread (:func:`asyncio.to_thread`) from the event loop.
    """
    from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

    if not pin_hash.startswith(PIN_HASH_PREFIX):
        return False
    try:
        return _hasher().verify(pin_hash, pin)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


@dataclass
class PinThrottle:
    """Wrong PINs make the next attempt wait: 1 s after the first, doubling, at most ``max_delay``.

    ``clock`` is a monotonic clock in seconds (tests pass their own). A right PIN resets the count.
    """

    max_delay: float = 60.0
    clock: Callable[[], float] = time.monotonic
    failures: int = 0
    _next_attempt_at: float = field(default=0.0, repr=False)

    def wait_seconds(self) -> float:
        """Seconds until the next attempt is allowed (0: now)."""
        return max(0.0, self._next_attempt_at - self.clock())

    def record_failure(self) -> float:
        """Count a wrong PIN; returns the seconds the next attempt must wait."""
        self.failures += 1
        delay = min(self.max_delay, 2.0 ** (self.failures - 1))
        self._next_attempt_at = self.clock() + delay
        return delay

    def record_success(self) -> None:
        self.failures = 0
        self._next_attempt_at = 0.0


class IdlePhase(Enum):
    """Where an idle session is: in use, counting down, or over."""

    ACTIVE = "active"
    WARNING = "warning"
    EXPIRED = "expired"


@dataclass
class IdleTimer:
    """Time since the last key, and what that means: keep going, warn, or end the session.

    ``timeout`` seconds without activity end the session; during the last ``warning`` seconds the
    phase is :attr:`IdlePhase.WARNING` and :meth:`seconds_left` counts down. :meth:`touch` (any key)
    starts again from zero. ``clock`` is monotonic seconds; tests pass their own and move it on.
    """

    timeout: float
    warning: float = IDLE_WARNING_SECONDS
    clock: Callable[[], float] = time.monotonic
    _last_activity: float = field(default=0.0, repr=False)

    def __post_init__(self) -> None:
        if self.timeout <= 0:
            raise ValueError("the idle timeout must be positive")
        self.warning = min(self.warning, self.timeout)
        self._last_activity = self.clock()

    def touch(self) -> None:
        """Someone pressed a key: the session is in use again."""
        self._last_activity = self.clock()

    def idle_seconds(self) -> float:
        return max(0.0, self.clock() - self._last_activity)

    def seconds_left(self) -> int:
        """Whole seconds until the session ends, rounded up (15, 14, … 1, then 0)."""
        left = self.timeout - self.idle_seconds()
        return max(0, int(-(-left // 1)))

    def phase(self) -> IdlePhase:
        idle = self.idle_seconds()
        if idle >= self.timeout:
            return IdlePhase.EXPIRED
        if idle >= self.timeout - self.warning:
            return IdlePhase.WARNING
        return IdlePhase.ACTIVE


def shared_ssh_session(environ: Mapping[str, str] | None = None) -> bool:
    """Whether the app serves a stranger over SSH on a shared server account (``KABINET_SSH=1``).

    ``kabinet serve-ssh`` sets it for every session; with plain OpenSSH the dedicated account's
    ``ForceCommand env KABINET_SSH=1 …`` (or its login shell, ``deploy/kabinet-ssh-shell``) sets it.
    Then, as on a kiosk, the app remembers no account number and ends idle sessions. (A resident who
    runs the app over SSH on their own account has ``SSH_CONNECTION`` but not this, and keeps their
    own preferences.)
    """
    env = os.environ if environ is None else environ
    return env.get(SSH_SESSION_VARIABLE, "") not in {"", "0"}


def console_profile_wanted(configured: bool, environ: Mapping[str, str] | None = None) -> bool:
    """The text-console profile: when configured, or on the Linux console itself (``TERM=linux``)."""
    env = os.environ if environ is None else environ
    return configured or env.get("TERM") == "linux"


__all__ = [
    "ADMIN_EXIT_CODE",
    "IDLE_WARNING_SECONDS",
    "PIN_HASH_PREFIX",
    "SSH_SESSION_VARIABLE",
    "IdlePhase",
    "IdleTimer",
    "PinError",
    "PinThrottle",
    "check_pin",
    "console_profile_wanted",
    "hash_pin",
    "shared_ssh_session",
    "verify_pin",
]
