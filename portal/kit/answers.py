"""Large read answers serialised straight from plain data, without validating them on every request.

A resident's 36-month reading history or statement is a few hundred rows (35–55 KB of JSON). Validating
such an answer with its pydantic model on every first read cost more than the database's work for it
(``bench/cold_reads.py``). A :class:`PlainAnswer` carries the answer as plain data already in its wire
form (months as ``YYYY-MM`` text, enums as their values, money as integers, exact decimals as
``Decimal``), in the model's field order, and is serialised by pydantic's own JSON writer, so strings,
dates and decimals are written exactly as the model would write them. The model stays the route's
``response_model`` (the OpenAPI document); the tests hold that every such answer validates against it and
that the model writes it back byte for byte (``tests/portal/kit/test_answers.py``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel
from pydantic_core import to_json


@dataclass(frozen=True, slots=True)
class PlainAnswer:
    """An answer of ``schema``'s shape as plain data (see the module's docstring), or as its JSON
    already written (bytes: a statement's, whose lines the database writes)."""

    #: The model the data conforms to (the route's ``response_model``).
    schema: type[BaseModel]
    data: dict[str, Any] | bytes

    def json(self) -> bytes:
        return self.data if isinstance(self.data, bytes) else to_json(self.data)


def answer_json(answer: BaseModel | PlainAnswer) -> bytes:
    """The JSON body of an answer, a model's or a plain one's."""
    if isinstance(answer, PlainAnswer):
        return answer.json()
    return answer.__pydantic_serializer__.to_json(answer)
