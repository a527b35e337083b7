"""Loopback ports for servers a test starts, free at the moment they are handed out.

A fixed port collides when the suite runs in parallel (two xdist workers, or a second checkout);
the kernel's choice does not. The port is closed again before the server binds it; the kernel hands
ports out in turn, so another process taking it in between is improbable.
"""

from __future__ import annotations

import socket


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])
