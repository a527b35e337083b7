"""Counting the SQL statements a request sends, so that a regression to one query per row fails a test."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any


@contextmanager
def counted_statements(portal: Any) -> Iterator[list[str]]:
    """The statements the portal's engine executes inside the block (an executemany counts once)."""
    statements: list[str] = []

    def record(_connection: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        statements.append(statement)

    from sqlalchemy import event

    engine = portal.state.engine.sync_engine
    event.listen(engine, "before_cursor_execute", record)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", record)


def is_postgres(portal: Any) -> bool:
    return bool(portal.state.engine.dialect.name == "postgresql")
