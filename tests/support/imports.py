"""What importing a module loads, asked of a fresh interpreter."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

_ROOT = Path(__file__).resolve().parents[2]


def imported_after(module: str, roots: set[str]) -> str:
    """Top-level packages among ``roots`` that a fresh interpreter has loaded after ``import module``."""
    code = (
        f"import sys, {module}\nprint(','.join(sorted({{m.split('.')[0] for m in sys.modules}} & {roots!r})))"
    )
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join(filter(None, [str(_ROOT), os.environ.get("PYTHONPATH")])),
    }
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=_ROOT, env=env
    )
    return result.stdout.strip()
