"""The portal's files at rest: private folders and files, and the demo's per-installation secrets.

The outbox holds letters with passwords and recovery codes, the SQLite file holds everything: folders
are made ``0700`` and files ``0600`` whatever the umask, and mended to that on every start
(:func:`secure_storage`, called when the portal's state is built).

The payment services' sandbox twins sign with secrets. Those that ship in the source
(:data:`portal.settings.DEFAULT_PAYMENT_SECRET`) would let anyone sign a PayMO notification and credit
an unpaid order on a public demo, so a sandbox portal replaces them with random secrets generated once
per installation and kept in ``sandbox-secrets.json`` in the data folder (:func:`use_sandbox_secrets`).
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
from pathlib import Path

from sqlalchemy.engine import make_url

from portal.settings import DEFAULT_PAYMENT_SECRET, Settings

PRIVATE_DIR_MODE = 0o700
PRIVATE_FILE_MODE = 0o600
SANDBOX_SECRETS_FILE = "sandbox-secrets.json"
#: The settings a sandbox portal fills with per-installation secrets when they are left at the default.
SANDBOX_SECRET_SETTINGS = ("a3_secret", "paymo_secret", "paymo_notify_secret")
#: SQLite's companions of a database file, which it creates with the database file's mode.
_SQLITE_SUFFIXES = ("", "-wal", "-shm", "-journal")


def private_dir(path: Path) -> Path:
    """``path`` exists as a folder only its owner can enter (parents are made as usual)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.mkdir(mode=PRIVATE_DIR_MODE, exist_ok=True)
    os.chmod(path, PRIVATE_DIR_MODE)
    return path


def private_file(path: Path) -> None:
    """Make an existing file readable by its owner only (a missing one is left missing)."""
    with contextlib.suppress(FileNotFoundError):
        os.chmod(path, PRIVATE_FILE_MODE)


def _within(path: Path, folder: Path) -> bool:
    try:
        path.resolve().relative_to(folder.resolve())
    except ValueError:
        return False
    return True


def sqlite_path(settings: Settings) -> Path | None:
    """The SQLite database file, or None (PostgreSQL, or in memory)."""
    if not settings.is_sqlite:
        return None
    database = make_url(settings.database_url).database or ""
    if not database or database.startswith(":memory:") or database.startswith("file:"):
        return None
    return Path(database)


def secure_outbox(outbox: Path) -> None:
    """The maildir and its letters: folders 0700, letters 0600."""
    private_dir(outbox)
    for folder in ("tmp", "new", "cur"):
        private_dir(outbox / folder)
        for letter in (outbox / folder).iterdir():
            if letter.is_file():
                private_file(letter)


def secure_storage(settings: Settings) -> None:
    """Create or mend the portal's folders (0700) and files (0600): data folder, SQLite file, outbox.

    A folder the operator chose outside the data folder (say, the SQLite file's) is created private
    but not changed if it exists: it may hold other things.
    """
    data_dir = settings.data_dir
    database = sqlite_path(settings)
    if data_dir.exists() or (database is not None and _within(database, data_dir)):
        private_dir(data_dir)
    if database is not None:
        folder = database.parent
        if _within(folder, data_dir) or not folder.exists():
            private_dir(folder)
        if not database.exists():
            # SQLite would create it (and its -wal and -shm, which copy its mode) under the umask.
            os.close(os.open(database, os.O_WRONLY | os.O_CREAT | os.O_EXCL, PRIVATE_FILE_MODE))
        for suffix in _SQLITE_SUFFIXES:
            private_file(database.with_name(database.name + suffix))
    outbox = settings.outbox_dir
    if outbox is not None and outbox.exists():  # the mailer makes it (private) with the first letter
        secure_outbox(outbox)
    private_file(data_dir / SANDBOX_SECRETS_FILE)


def _read_secrets(path: Path) -> dict[str, str]:
    loaded = json.loads(path.read_text(encoding="utf-8"))
    if not isinstance(loaded, dict):
        raise ValueError(f"{path} is not a JSON object")
    return {str(key): str(value) for key, value in loaded.items()}


def sandbox_secrets(data_dir: Path) -> dict[str, str]:
    """This installation's sandbox secrets, generated on first use (several workers agree on one file)."""
    path = data_dir / SANDBOX_SECRETS_FILE
    if not path.exists():
        private_dir(data_dir)
        fresh = {name: secrets.token_urlsafe(32) for name in SANDBOX_SECRET_SETTINGS}
        temporary = data_dir / f".{SANDBOX_SECRETS_FILE}.{os.getpid()}.{secrets.token_hex(4)}"
        descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, PRIVATE_FILE_MODE)
        with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
            json.dump(fresh, handle)
        try:
            os.link(temporary, path)  # atomic, and fails if another process made it first
        except FileExistsError:
            pass
        finally:
            temporary.unlink()
    private_file(path)
    stored = _read_secrets(path)
    missing = [name for name in SANDBOX_SECRET_SETTINGS if not stored.get(name)]
    if missing:
        raise SystemExit(f"{path} lacks {', '.join(missing)}: delete it to generate new sandbox secrets.")
    return stored


def use_sandbox_secrets(settings: Settings) -> None:
    """A sandbox portal signs with this installation's secrets instead of those in the source.

    Only settings left at :data:`~portal.settings.DEFAULT_PAYMENT_SECRET` are replaced; the settings
    object is updated in place, so everything holding it (the state, an embedder) sees the same secrets.
    """
    if not settings.payments_sandbox:
        return
    defaults = [name for name in SANDBOX_SECRET_SETTINGS if getattr(settings, name) == DEFAULT_PAYMENT_SECRET]
    if not defaults:
        return
    stored = sandbox_secrets(settings.data_dir)
    for name in defaults:
        setattr(settings, name, stored[name])
