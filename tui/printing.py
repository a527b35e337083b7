"""Printing a receipt on a kiosk: the PDF goes to the office printer through ``lp``, never to disk.

The PDF is piped into the print command's standard input (``lp -d office`` with no file reads it there and
hands it to the spooler), so the kiosk never writes a resident's receipt to a file of its own.
"""

from __future__ import annotations

import asyncio
import shlex
from dataclasses import dataclass
from typing import Literal

#: How long the print command may take to hand the file to the spooler.
PRINT_TIMEOUT_SECONDS = 60.0

PrintProblem = Literal["no_printer", "command_not_found", "command_failed", "timeout"]
"""Why a receipt was not printed; ``receipts.print_<problem>`` in the catalogue."""


class PrintFailed(Exception):
    """The receipt did not reach the printer: :attr:`problem` says why, :attr:`detail` what lp said."""

    def __init__(self, problem: PrintProblem, detail: str = "") -> None:
        super().__init__(f"{problem}: {detail}" if detail else problem)
        self.problem: PrintProblem = problem
        self.detail = detail


@dataclass(frozen=True)
class Printer:
    """A printer as the system's print command knows it."""

    name: str | None
    """The printer (``lp -d <name>``); None: none configured."""
    command: str = "lp"
    """The command and its own options, split as a shell would."""

    def arguments(self) -> list[str]:
        """``lp -d office`` (the PDF comes on standard input)."""
        if not self.name:
            raise PrintFailed("no_printer")
        return [*shlex.split(self.command), "-d", self.name]


async def print_pdf(printer: Printer, pdf: bytes, *, limit_seconds: float = PRINT_TIMEOUT_SECONDS) -> str:
    """Send ``pdf`` to ``printer``; returns what the command printed (``request id is office-12``).

    Raises :class:`PrintFailed`.
    """
    arguments = printer.arguments()
    try:
        process = await asyncio.create_subprocess_exec(
            *arguments,
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
    except (FileNotFoundError, PermissionError) as exc:
        raise PrintFailed("command_not_found", arguments[0]) from exc
    try:
        stdout, stderr = await asyncio.wait_for(process.communicate(pdf), limit_seconds)
    except TimeoutError:
        process.kill()
        await process.wait()
        raise PrintFailed("timeout") from None
    except (BrokenPipeError, ConnectionResetError):
        stdout, stderr = b"", b""
        await process.wait()
    if process.returncode != 0:
        said = (stderr or stdout).decode("utf-8", "replace").strip()
        raise PrintFailed("command_failed", said[:200])
    return stdout.decode("utf-8", "replace").strip()


__all__ = ["PRINT_TIMEOUT_SECONDS", "PrintFailed", "PrintProblem", "Printer", "print_pdf"]
