"""Settings of the terminal app: the administrator's file, the user's file, the command line.

Two TOML files with the same flat keys (the fields of :class:`Config`):

- the **administrator's** file, ``/etc/kabinet/config.toml`` (:data:`ADMIN_CONFIG_PATH`), set up by
  whoever runs the host or the kiosk; the app only reads it, never writes it;
- the **user's** file, ``config.toml`` in the platform's user config folder (on Linux
  ``~/.config/kabinet/config.toml``); the app writes back only the user's preferences there
  (:data:`USER_PREFERENCE_KEYS`), see :func:`save_user_preferences`.

Precedence, lowest first: built-in defaults, the administrator's file, the user's file, ``overrides``
(the command line). A key the administrator **locks** keeps the administrator's value whatever the
user's file or the command line say — their value is ignored, not an error, because a kiosk visitor
cannot fix a file they cannot reach. Locking is explicit::

    # /etc/kabinet/config.toml
    kiosk = true
    server_url = "https://lk.example.ru"
    idle_timeout_seconds = 90

    [locked]
    keys = ["server_url", "idle_timeout_seconds", "printer"]

and one lock is implicit: ``kiosk = true`` in the administrator's file always locks ``kiosk``, so a
kiosk cannot be switched back into a personal terminal by a file in the kiosk user's home.

A file that cannot be read, an unknown key or a value of the wrong kind stops the app with a
:class:`ConfigError` naming the file, the key and what is allowed: a silently ignored typo in a kiosk's
settings could leave strangers' data on screen.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any, Final
from urllib.parse import urlsplit

import platformdirs

from tui.i18n import DEFAULT_LANGUAGE, LANGUAGES, Language, is_language

APP_NAME: Final = "kabinet"

ADMIN_CONFIG_PATH: Final = Path("/etc/kabinet/config.toml")
"""The administrator's file; read only."""

USER_PREFERENCE_KEYS: Final[tuple[str, ...]] = ("language", "theme", "last_account_number")
"""What the app itself may write to the user's file (the rest is the user's to edit by hand)."""

MIN_IDLE_TIMEOUT_SECONDS: Final = 30
"""Shorter than this and a resident is logged out while reading their receipt."""

_LOCKED_TABLE: Final = "locked"


def user_config_path() -> Path:
    """The user's settings file: ``config.toml`` in the platform's user config folder."""
    return platformdirs.user_config_path(APP_NAME) / "config.toml"


class ConfigError(Exception):
    """A settings file (or option) that cannot be used; the message names the file, key and rule."""

    def __init__(self, source: str | os.PathLike[str], problem: str, key: str | None = None) -> None:
        self.source = str(source)
        self.key = key
        self.problem = problem
        where = f"{self.source}: key '{key}'" if key else self.source
        super().__init__(f"{where} {problem}" if key else f"{where}: {problem}")


@dataclass
class Config:
    """The app's settings after merging defaults, the administrator's and the user's files."""

    language: Language = DEFAULT_LANGUAGE
    """Language of the interface, ``ru`` or ``en``."""
    theme: str = "textual-dark"
    """Name of the Textual theme."""
    last_account_number: str | None = None
    """Account number to prefill on the login screen (6–20 digits); never kept in kiosk mode."""
    server_url: str | None = None
    """Base URL of the portal API (http or https); None: the built-in default of the client."""
    downloads_dir: Path | None = None
    """Where receipts are saved; None: the user's Downloads folder (:meth:`resolved_downloads_dir`)."""
    kiosk: bool = False
    """A shared terminal in a housing office: idle logout, nothing personal kept, no way to a shell."""
    console_profile: bool = False
    """A plain console (Linux VT, old Windows): ASCII-safe symbols, e.g. ``руб.`` instead of ``₽``."""
    idle_timeout_seconds: int = 120
    """Inactivity after which a session ends (used in kiosk mode); at least 30 seconds."""
    printer: str | None = None
    """Printer name (as the system's ``lp`` knows it) receipts are sent to in kiosk mode; without one
    a kiosk cannot print (the screen says so)."""
    print_command: str = "lp"
    """The program that prints a file, called as ``<print_command> -d <printer> <file>`` (words split as
    a shell would, e.g. ``lp -o media=A4``)."""
    admin_pin_hash: str | None = field(default=None, repr=False)
    """argon2id hash of the administrator's PIN that ends kiosk mode (``kabinet hash-pin``); only
    the administrator's file may set it."""
    keymap: dict[str, str] = field(default_factory=dict)
    """Keys of your choice for the app's bindings: binding id → keys (``[keymap]`` table)."""
    locked_keys: frozenset[str] = field(default_factory=frozenset)
    """Keys the administrator locked: the app should not offer to change them."""
    admin_path: Path | None = field(default=None, compare=False)
    """The administrator's file these settings were read with (never written)."""
    user_path: Path | None = field(default=None, compare=False)
    """The user's file these settings were read from (``--config``): preferences are saved back there."""
    sources: dict[str, str] = field(default_factory=dict, compare=False, repr=False)
    """Where each key's value came from (a file's path or ``command line``), for later messages."""

    def resolved_downloads_dir(self) -> Path:
        """The folder receipts go to: :attr:`downloads_dir` or the user's Downloads folder."""
        return self.downloads_dir or platformdirs.user_downloads_path()


#: The keys a settings file may carry.
CONFIG_KEYS: Final[frozenset[str]] = frozenset(
    f.name for f in fields(Config) if f.name not in {"locked_keys", "admin_path", "user_path", "sources"}
)


class _Invalid(Exception):
    """A value breaks its key's rule; the caller adds the file and the key."""


def _language(value: object) -> Language:
    if not is_language(value):
        raise _Invalid(f"must be one of {', '.join(LANGUAGES)}")
    return value


def _non_empty_text(what: str) -> Callable[[object], str]:
    def check(value: object) -> str:
        if not isinstance(value, str) or not value.strip():
            raise _Invalid(f"must be a non-empty string ({what})")
        return value.strip()

    return check


def _account_number(value: object) -> str:
    # A number in TOML would lose the account's leading zeros, so only a quoted string will do.
    if not isinstance(value, str) or not value.isascii() or not value.isdigit() or not 6 <= len(value) <= 20:
        raise _Invalid('must be a string of 6 to 20 digits, in quotes (e.g. "3500000107")')
    return value


def _server_url(value: object) -> str:
    if isinstance(value, str):
        parts = urlsplit(value.strip())
        if parts.scheme in {"http", "https"} and parts.netloc:
            return value.strip()
    raise _Invalid("must be an http:// or https:// URL (e.g. https://lk.example.ru)")


def _directory(value: object) -> Path:
    if isinstance(value, str | os.PathLike) and str(value).strip():
        path = Path(value).expanduser()
        if path.is_absolute():
            return path
    raise _Invalid("must be an absolute folder path (may start with ~)")


def _flag(value: object) -> bool:
    if not isinstance(value, bool):
        raise _Invalid("must be true or false")
    return value


def _pin_hash(value: object) -> str:
    if not isinstance(value, str) or not value.startswith("$argon2id$"):
        raise _Invalid('must be an argon2id hash ("$argon2id$..."), as `kabinet hash-pin` prints it')
    return value


def _idle_timeout(value: object) -> int:
    # bool is an int in Python, but `idle_timeout_seconds = true` is surely a mistake.
    if isinstance(value, bool) or not isinstance(value, int) or value < MIN_IDLE_TIMEOUT_SECONDS:
        raise _Invalid(f"must be a whole number of seconds, at least {MIN_IDLE_TIMEOUT_SECONDS}")
    return value


#: A key as Textual names it: modifiers, then a letter, a digit, ``f1``-``f24`` or a key's name.
_KEY: Final = re.compile(
    r"((ctrl|alt|shift|super|meta|hyper)\+)*"
    r"([a-z0-9]|[а-яё]|f([1-9]|1[0-9]|2[0-4])|escape|enter|tab|space|backspace|delete|insert|home|end"
    r"|pageup|pagedown|up|down|left|right|minus|plus|equals_sign|comma|full_stop|slash|question_mark)"
)
#: A binding's id, as the app's bindings are named (``reading-history``).
_BINDING_ID: Final = re.compile(r"[a-z][a-z0-9-]*")


def _keymap(value: object) -> dict[str, str]:
    if not isinstance(value, Mapping):
        raise _Invalid('must be a table of binding id = "keys" (e.g. [keymap] readings = "f2,ctrl+o")')
    keymap: dict[str, str] = {}
    for binding_id, keys in value.items():
        if not _BINDING_ID.fullmatch(binding_id):
            raise _Invalid(f"names {binding_id!r}, which is not a binding id (e.g. reading-history)")
        names = [key.strip() for key in keys.split(",")] if isinstance(keys, str) else []
        bad = [key for key in names if not _KEY.fullmatch(key)]
        if not names or bad:
            raise _Invalid(
                f"gives {binding_id!r} {keys!r}: keys are written like f2, p, ctrl+o or shift+f3, "
                "several separated by commas"
            )
        keymap[binding_id] = ",".join(names)
    return keymap


_RULES: Final[dict[str, Callable[[object], object]]] = {
    "language": _language,
    "theme": _non_empty_text("a Textual theme name, e.g. textual-dark"),
    "last_account_number": _account_number,
    "server_url": _server_url,
    "downloads_dir": _directory,
    "kiosk": _flag,
    "console_profile": _flag,
    "idle_timeout_seconds": _idle_timeout,
    "printer": _non_empty_text("the printer's name as the system knows it"),
    "print_command": _non_empty_text("a program such as lp, with options if needed"),
    "admin_pin_hash": _pin_hash,
    "keymap": _keymap,
}

#: Keys only the administrator's file may set: the PIN that lets someone out of a kiosk is theirs alone.
ADMIN_ONLY_KEYS: Final[frozenset[str]] = frozenset({"admin_pin_hash"})


def _check(source: str | os.PathLike[str], key: str, value: object) -> object:
    if key not in _RULES:
        raise ConfigError(source, f"is unknown; allowed keys: {', '.join(sorted(CONFIG_KEYS))}", key)
    try:
        return _RULES[key](value)
    except _Invalid as invalid:
        raise ConfigError(source, str(invalid), key) from None


def _read_toml(path: Path) -> dict[str, Any] | None:
    """The file's table, or None when there is no file."""
    import tomllib

    try:
        with path.open("rb") as stream:
            return tomllib.load(stream)
    except FileNotFoundError:
        return None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(path, f"not valid TOML: {exc}") from None
    except OSError as exc:
        # An unreadable administrator's file must not silently turn a kiosk into a personal terminal.
        raise ConfigError(path, f"cannot read the file: {exc.strerror or exc}") from None


def _values(path: str | os.PathLike[str], table: Mapping[str, Any]) -> dict[str, object]:
    return {key: _check(path, key, value) for key, value in table.items()}


def _locked_keys(path: Path, table: Mapping[str, Any]) -> frozenset[str]:
    locked = table.get(_LOCKED_TABLE, {})
    if not isinstance(locked, Mapping) or set(locked) - {"keys"}:
        raise ConfigError(path, "must be a table with one entry: keys = [ ... ]", _LOCKED_TABLE)
    keys = locked.get("keys", [])
    if not isinstance(keys, list) or not all(isinstance(key, str) for key in keys):
        raise ConfigError(path, "must be a list of key names", f"{_LOCKED_TABLE}.keys")
    unknown = sorted(set(keys) - CONFIG_KEYS)
    if unknown:
        raise ConfigError(
            path,
            f"names unknown keys {', '.join(unknown)}; allowed: {', '.join(sorted(CONFIG_KEYS))}",
            f"{_LOCKED_TABLE}.keys",
        )
    return frozenset(keys)


def load_config(
    user_path: Path | None = None,
    admin_path: Path | None = None,
    overrides: Mapping[str, object] | None = None,
) -> Config:
    """The settings: defaults < administrator's file < user's file < ``overrides``, locks respected.

    ``user_path`` defaults to :func:`user_config_path`, ``admin_path`` to :data:`ADMIN_CONFIG_PATH`;
    missing files are fine. ``overrides`` are command-line options (None values mean "not given").
    Raises :class:`ConfigError`.
    """
    user_path = user_path or user_config_path()
    admin_path = admin_path or ADMIN_CONFIG_PATH
    merged: dict[str, object] = {}
    sources: dict[str, str] = {}
    locked: frozenset[str] = frozenset()

    admin_table = _read_toml(admin_path)
    if admin_table is not None:
        locked = _locked_keys(admin_path, admin_table)
        admin_values = {key: value for key, value in admin_table.items() if key != _LOCKED_TABLE}
        merged.update(_values(admin_path, admin_values))
        sources.update(dict.fromkeys(admin_values, str(admin_path)))
        if merged.get("kiosk") is True:
            locked |= {"kiosk"}

    user_table = _read_toml(user_path)
    if user_table is not None:
        if _LOCKED_TABLE in user_table:
            raise ConfigError(user_path, f"belongs in the administrator's file {admin_path}", _LOCKED_TABLE)
        if ADMIN_ONLY_KEYS & set(user_table):
            key = min(ADMIN_ONLY_KEYS & set(user_table))
            raise ConfigError(user_path, f"belongs in the administrator's file {admin_path}", key)
        user_values = {k: v for k, v in _values(user_path, user_table).items() if k not in locked}
        merged.update(user_values)
        sources.update(dict.fromkeys(user_values, str(user_path)))

    given = {
        key: value
        for key, value in (overrides or {}).items()
        if value is not None and key not in ADMIN_ONLY_KEYS
    }
    given_values = {k: v for k, v in _values("command line", given).items() if k not in locked}
    merged.update(given_values)
    sources.update(dict.fromkeys(given_values, "command line"))

    config = Config(locked_keys=locked, admin_path=admin_path, user_path=user_path, sources=sources)
    for key, value in merged.items():
        setattr(config, key, value)
    return config


def _is_same_file(one: Path, other: Path) -> bool:
    return one.expanduser().resolve(strict=False) == other.expanduser().resolve(strict=False)


def save_user_preferences(config: Config, path: Path | None = None) -> Path:
    """Write the user's preferences (:data:`USER_PREFERENCE_KEYS`) to their file; returns its path.

    Other keys already in the file are kept as they are (comments are not: the file is rewritten).
    Locked keys are not written, since they would be ignored anyway. In kiosk mode the account
    number is never written and one left in the file is removed. The file is replaced atomically (a
    temporary file beside it, then ``os.replace``), so a crash never leaves half a file. Refuses to
    write the administrator's file. Raises :class:`ConfigError`.
    """
    # Only saving needs these; keep them off the app's start-up path.
    import tempfile

    import tomli_w

    path = path or config.user_path or user_config_path()
    for admin_file in {ADMIN_CONFIG_PATH, *([config.admin_path] if config.admin_path else [])}:
        if _is_same_file(path, admin_file):
            raise ConfigError(path, "this is the administrator's file; the app never writes it")

    existing = _read_toml(path)
    data: dict[str, Any] = dict(existing or {})
    for key in USER_PREFERENCE_KEYS:
        if key in config.locked_keys:
            continue
        value = getattr(config, key)
        if value is None:
            data.pop(key, None)
        else:
            data[key] = _check("settings to save", key, value)
    if config.kiosk:
        # Strangers share a kiosk: the previous visitor's account number must not greet the next.
        data.pop("last_account_number", None)
    if existing is not None and data == existing:
        return path

    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    descriptor, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(descriptor, "wb") as stream:
            stream.write(tomli_w.dumps(data).encode("utf-8"))
            stream.flush()
            os.fsync(stream.fileno())
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    return path


__all__ = [
    "ADMIN_CONFIG_PATH",
    "CONFIG_KEYS",
    "MIN_IDLE_TIMEOUT_SECONDS",
    "USER_PREFERENCE_KEYS",
    "Config",
    "ConfigError",
    "load_config",
    "save_user_preferences",
    "user_config_path",
]
