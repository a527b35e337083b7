"""The wire contract: how the portal's JSON becomes the immutable dataclasses of :mod:`tui.models`.

One mechanism decodes every answer: a pydantic ``TypeAdapter`` over the model's own dataclass, in strict
JSON mode (an integer is a JSON integer, never ``"7"`` or ``true``; a decimal is a string, never a
float). The exact types the screens use are declared here once:

- :data:`Kopecks`: money travels as integer kopecks (the API's ``*_kopecks``), decoded as
  :class:`~tui.formatting.Money`;
- :data:`Month`: a month travels as ``YYYY-MM`` (2000-01 … 2099-12), decoded as its first day;
- :data:`DecimalText`: areas, readings and volumes travel as decimal strings, decoded as ``Decimal``;
- :data:`Moment`: a date-time, always aware (a naive one is taken as UTC);
- :data:`PngBase64`: a PNG picture in base64, decoded to its bytes.

Where a wire name differs from the attribute the screens read, the field says so in its annotation
(``Annotated[Money, Field(alias="tariff_kopecks")]``, or ``AliasPath`` into a nested object). Each
model names the OpenAPI component it decodes with :func:`wire`; ``tests/tui/test_wire_contract.py``
compares the two sides field by field, so they cannot drift apart.

``tui/`` never imports the portal: the month pattern below is the portal's text, checked by that test.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Annotated, Any, Final, TypeVar

from pydantic import AfterValidator, GetPydanticSchema, TypeAdapter
from pydantic_core import core_schema

from tui.formatting import Money

_T = TypeVar("_T")

MONTH_PATTERN: Final = r"^20[0-9]{2}-(0[1-9]|1[0-2])$"
"""``YYYY-MM`` from 2000-01 to 2099-12: how every month travels (the portal's ``MONTH_PATTERN``)."""


def _decoded(decode: Callable[[Any], Any], wire_type: core_schema.CoreSchema) -> GetPydanticSchema:
    """A Python type decoded from a JSON value of ``wire_type`` (also the type the JSON schema shows)."""
    return GetPydanticSchema(
        lambda _source, _handler: core_schema.no_info_after_validator_function(decode, wire_type)
    )


def _decimal(text: str) -> Decimal:
    try:
        value = Decimal(text)
    except InvalidOperation:
        raise ValueError(f"not a decimal: {text!r}") from None
    if not value.is_finite():
        raise ValueError(f"not a finite decimal: {text!r}")
    return value


def _month(text: str) -> dt.date:
    return dt.date(int(text[:4]), int(text[5:7]), 1)


def _png(text: str) -> bytes:
    try:
        image = base64.b64decode(text, validate=True)
    except binascii.Error as exc:
        raise ValueError(f"not base64: {exc}") from None
    if not image.startswith(b"\x89PNG"):
        raise ValueError("not a PNG picture")
    return image


def _aware(moment: dt.datetime) -> dt.datetime:
    # The portal answers in UTC with an offset; a naive moment would compare wrongly later.
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=dt.UTC)


Kopecks = Annotated[Money, _decoded(Money, core_schema.int_schema(strict=True))]
"""An amount of money: a JSON integer of kopecks."""

Month = Annotated[dt.date, _decoded(_month, core_schema.str_schema(pattern=MONTH_PATTERN, strict=True))]
"""A billing month: ``"2026-10"`` on the wire, ``date(2026, 10, 1)`` here."""

DecimalText = Annotated[Decimal, _decoded(_decimal, core_schema.str_schema(strict=True))]
"""An exact decimal: a JSON string (``"123.456"``), never a number that went through a float."""

Moment = Annotated[dt.datetime, AfterValidator(_aware)]
"""A moment: an ISO date-time string, aware."""

PngBase64 = Annotated[bytes, _decoded(_png, core_schema.str_schema(strict=True))]
"""A PNG picture: its base64 text on the wire, its bytes here."""


@dataclass(frozen=True, slots=True)
class WireModel:
    """What :func:`wire` declares of a model: its component and how it departs from it."""

    component: str
    """The name of the OpenAPI component (``components.schemas``) the model decodes."""
    ignored: frozenset[str] = frozenset()
    """Properties of the component the model does not keep (the login token stays in the client)."""
    non_null: frozenset[str] = frozenset()
    """Nullable properties the model requires to be present (the client only reads such answers)."""
    local: frozenset[str] = frozenset()
    """Attributes that are not on the wire at all (set by the client after decoding)."""


def wire(
    component: str,
    *,
    ignored: Iterable[str] = (),
    non_null: Iterable[str] = (),
    local: Iterable[str] = (),
) -> Callable[[type[_T]], type[_T]]:
    """Class decorator: the model decodes the OpenAPI component ``component`` (see :class:`WireModel`)."""
    declared = WireModel(component, frozenset(ignored), frozenset(non_null), frozenset(local))

    def mark(cls: type[_T]) -> type[_T]:
        setattr(cls, "__wire__", declared)  # noqa: B010 - a slotted class takes class attributes only so
        return cls

    return mark


def wire_model(cls: type[Any]) -> WireModel | None:
    """The :func:`wire` declaration of ``cls`` (None: not a decoded model)."""
    declared = cls.__dict__.get("__wire__")
    return declared if isinstance(declared, WireModel) else None


_ADAPTERS: dict[type[Any], TypeAdapter[Any]] = {}


def adapter(model: type[_T]) -> TypeAdapter[_T]:
    """The decoder of one model (built once, on first use)."""
    found = _ADAPTERS.get(model)
    if found is None:
        found = _ADAPTERS[model] = TypeAdapter(model)
    return found


def decode(model: type[_T], body: bytes | str) -> _T:
    """``model`` from a JSON answer; raises ``pydantic.ValidationError`` for a body of another shape."""
    return adapter(model).validate_json(body, strict=True)


__all__ = [
    "MONTH_PATTERN",
    "DecimalText",
    "Kopecks",
    "Moment",
    "Month",
    "PngBase64",
    "WireModel",
    "adapter",
    "decode",
    "wire",
    "wire_model",
]
