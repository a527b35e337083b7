"""Where the app runs: on the resident's own computer, or on a host they reached over SSH.

Over SSH a "downloaded" file lands on that host, not on the resident's computer, so screens that save
files offer e-mail first and say so.
"""

from __future__ import annotations

import os
from collections.abc import Mapping

#: Set to ``1`` to say "this is an SSH session" where the variables below do not reach the app
#: (``sudo``, ``su``, a wrapper that cleans the environment, ``mosh``).
FORCE_SSH_VARIABLE = "KABINET_SSH"
#: Set by OpenSSH in the session of a remote login.
SSH_VARIABLES = ("SSH_CONNECTION", "SSH_CLIENT")


def running_over_ssh(environ: Mapping[str, str] | None = None) -> bool:
    """True in an SSH session, or when ``KABINET_SSH=1`` says so (``KABINET_SSH=0`` says it is not)."""
    env = os.environ if environ is None else environ
    forced = env.get(FORCE_SSH_VARIABLE, "").strip().lower()
    if forced in {"1", "true", "yes"}:
        return True
    if forced in {"0", "false", "no"}:
        return False
    return any(env.get(name, "").strip() for name in SSH_VARIABLES)


__all__ = ["FORCE_SSH_VARIABLE", "SSH_VARIABLES", "running_over_ssh"]
