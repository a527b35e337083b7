"""Helpers of the export tests: a file as bytes, its lines parsed, operator keys."""

from __future__ import annotations

import csv
import io
from decimal import Decimal

from portal.exports.service import ExportRequest, export_chunks
from portal.operators.service import create_key
from tests.conftest import Portal


async def export_bytes(portal: Portal, request: ExportRequest) -> bytes:
    async with portal.state.sessionmaker() as session:
        return b"".join([chunk async for chunk in export_chunks(session, request)])


def parse(data: bytes, encoding: str = "utf-8") -> tuple[list[str], list[list[str]], list[str]]:
    """Header, records and control line of a file (CRLF line ends, ``;``)."""
    text = data.decode(encoding)
    assert text.endswith("\r\n") and "\n" not in text.replace("\r\n", "")
    lines = list(csv.reader(io.StringIO(text, newline=""), delimiter=";"))
    return lines[0], lines[1:-1], lines[-1]


def number(text: str) -> Decimal:
    return Decimal(text.replace(",", "."))


async def operator_key(portal: Portal, name: str = "billing") -> dict[str, str]:
    async with portal.state.sessionmaker() as session:
        secret, _info = await create_key(session, portal.state.tokens, name, portal.state.clock.now())
        await session.commit()
    return {"Authorization": f"Bearer {secret}"}
