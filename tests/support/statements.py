"""Counting the SQL statements a request sends, so that a regression to one query per row fails a test."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import TYPE_CHECKING

from sqlalchemy.engine import Connection
from sqlalchemy.engine.interfaces import DBAPICursor

if TYPE_CHECKING:
    from tests.conftest import Portal


@contextmanager
def counted_statements(portal: Portal) -> Iterator[list[str]]:
    """The statements the portal's engine executes inside the block (an executemany counts once), those
    residents' reads hand to the driver itself on PostgreSQL (:func:`portal.kit.db.read_rows`) too."""
    statements: list[str] = []

    def record(_connection: Connection, _cursor: DBAPICursor, statement: str, *_args: object) -> None:
        statements.append(statement)

    def record_read(statement: str, _arguments: Sequence[object]) -> None:
        statements.append(statement)

    from sqlalchemy import event

    from portal.kit import db

    engine = portal.state.engine.sync_engine
    event.listen(engine, "before_cursor_execute", record)
    db.driver_read_listeners.append(record_read)
    try:
        yield statements
    finally:
        db.driver_read_listeners.remove(record_read)
        event.remove(engine, "before_cursor_execute", record)


def is_postgres(portal: Portal) -> bool:
    return bool(portal.state.engine.dialect.name == "postgresql")
