"""Receipt PDFs on disk: the file name, a folder that exists, and never overwriting a file silently."""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path

#: Attempts at a free name (``…-2.pdf`` … ``…-999.pdf``) before giving up.
MAX_SUFFIX = 999


def receipt_filename(account_number: str, period: dt.date, copy: int = 1) -> str:
    """``kvitanciya-3500012007-2026-11.pdf``; the second copy ``kvitanciya-3500012007-2026-11-2.pdf``."""
    suffix = "" if copy <= 1 else f"-{copy}"
    return f"kvitanciya-{account_number}-{period:%Y-%m}{suffix}.pdf"


def save_receipt(folder: Path, account_number: str, period: dt.date, pdf: bytes) -> Path:
    """Write ``pdf`` into ``folder`` (created if missing) under a free name; returns the file's path.

    A file of the same name is never replaced: the next free suffix is taken, and the name is claimed
    with an exclusive create so two saves at once cannot take the same one. Blocking disk work: call
    it from a worker thread. Raises :class:`OSError` (no permission, disk full…).
    """
    folder.mkdir(parents=True, exist_ok=True)
    for copy in range(1, MAX_SUFFIX + 1):
        path = folder / receipt_filename(account_number, period, copy)
        try:
            descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            continue
        try:
            with os.fdopen(descriptor, "wb") as stream:
                stream.write(pdf)
        except BaseException:
            path.unlink(missing_ok=True)
            raise
        return path
    raise FileExistsError(f"{folder}: no free name for the receipt after {MAX_SUFFIX} copies")


__all__ = ["receipt_filename", "save_receipt"]
