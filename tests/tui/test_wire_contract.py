"""One wire contract: the client's models (``tui.models``) against the portal's OpenAPI components.

Every model the client decodes names its component (:func:`tui.wire.wire`). For each one, every field
is compared with the component's property it reads: the wire name, whether it is required and whether
it may be null, and its type (integer, string with its format and pattern, enum values, array items,
the component a nested model decodes). Every answer the app reads is decoded by a model of the answer's
component, and every component those answers reach is covered. The negative cases change one thing in
a copy of the document (or declare a client model with one thing wrong) and must be caught.
"""

from __future__ import annotations

import copy
import dataclasses
import datetime as dt
import typing
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Annotated, Any

import pytest
from pydantic import AliasPath, Field
from pydantic.fields import FieldInfo

import tui.models
from portal.app import create_app
from portal.periods import MONTH_PATTERN as PORTAL_MONTH_PATTERN
from portal.settings import Settings
from tests.conftest import TEST_SECRET
from tui.wire import MONTH_PATTERN, Kopecks, Month, WireModel, adapter, wire, wire_model

Document = dict[str, Any]
Schema = dict[str, Any]

MODELS: list[type[Any]] = sorted(
    (value for value in vars(tui.models).values() if isinstance(value, type) and wire_model(value)),
    key=lambda model: model.__name__,
)

#: Every operation whose JSON answer the app reads, and the model it decodes the answer with.
READS: dict[tuple[str, str], type[Any]] = {
    ("get", "/api/v1/health"): tui.models.Health,
    ("post", "/api/v1/registration/lookup"): tui.models.RegistrationLookup,
    ("post", "/api/v1/registration"): tui.models.RegistrationAccepted,
    ("post", "/api/v1/auth/login"): tui.models.Session,
    ("get", "/api/v1/auth/session"): tui.models.Session,
    ("post", "/api/v1/auth/recovery"): tui.models.RecoveryRequested,
    ("get", "/api/v1/account"): tui.models.AccountSummary,
    ("get", "/api/v1/receipts"): tui.models.ReceiptList,
    ("get", "/api/v1/meters"): tui.models.MetersOverview,
    ("post", "/api/v1/readings"): tui.models.SubmitResult,
    ("post", "/api/v1/public/readings/lookup"): tui.models.PublicLookup,
    ("post", "/api/v1/public/readings/check"): tui.models.ReadingsAccess,
    ("get", "/api/v1/public/meters"): tui.models.MetersOverview,
    ("post", "/api/v1/public/readings"): tui.models.SubmitResult,
    ("get", "/api/v1/history/readings"): tui.models.ReadingHistory,
    ("get", "/api/v1/history/payments"): tui.models.PaymentHistory,
    ("get", "/api/v1/history/statement"): tui.models.Statement,
    ("post", "/api/v1/receipts/{period}/email"): tui.models.ReceiptMailed,
    ("get", "/api/v1/receipts/{period}/payment-codes"): tui.models.PaymentCodes,
    ("post", "/api/v1/captcha"): tui.models.Captcha,
    ("get", "/api/v1/profile"): tui.models.Profile,
    ("post", "/api/v1/profile/email"): tui.models.EmailChanged,
    ("get", "/api/v1/profile/notifications"): tui.models.MailSubscriptions,
    ("put", "/api/v1/profile/notifications"): tui.models.MailSubscriptions,
    ("post", "/api/v1/payments"): tui.models.PaymentOrder,
    ("get", "/api/v1/payments/{order_id}"): tui.models.PaymentOrder,
    ("get", "/api/v1/public/capital-repair/{capital_repair_account}"): tui.models.CapitalRepairLookup,
    ("post", "/api/v1/public/capital-repair/payments"): tui.models.PaymentOrder,
    ("get", "/api/v1/public/payments/{order_id}"): tui.models.PaymentOrder,
    ("get", "/api/v1/accounts"): tui.models.LoginAccounts,
    ("post", "/api/v1/accounts/attach"): tui.models.LoginAccounts,
    ("post", "/api/v1/accounts/current"): tui.models.LoginAccounts,
    ("delete", "/api/v1/accounts/{account_number}"): tui.models.LoginAccounts,
    ("post", "/api/v1/accounts/payments"): tui.models.PayAllResult,
    ("get", "/api/v1/accounts/payments/{order_id}"): tui.models.PaymentOrder,
}

#: JSON answers the app does not read, and why.
NOT_READ: dict[tuple[str, str], str] = {
    ("post", "/api/v1/payments/paymo/notify"): "PayMO's server calls it, not the app",
    ("post", "/api/v1/operator/imports/{kind}"): "the billing center's system calls it with an operator key",
}


@pytest.fixture(scope="module")
def document() -> Document:
    settings = Settings(database_url="sqlite+aiosqlite:///:memory:", demo=True, secret_key=TEST_SECRET)
    return create_app(settings).openapi()


# --- the comparison ------------------------------------------------------------------------------------


def _component(document: Document, name: str) -> Schema:
    schemas: dict[str, Schema] = document["components"]["schemas"]
    return schemas[name]


def _shape(node: Schema, resolve: Callable[[str], tuple[str, Schema]]) -> dict[str, Any]:
    """What a property says about its value: type, format, pattern, enum, items, model, nullable."""
    if "anyOf" in node:
        options = [option for option in node["anyOf"] if option.get("type") != "null"]
        if len(options) != 1:
            return {"anyOf": [_shape(option, resolve) for option in node["anyOf"]]}
        return {**_shape(options[0], resolve), "nullable": len(options) < len(node["anyOf"])}
    if "$ref" in node:
        name, target = resolve(node["$ref"])
        if "enum" in target:
            return {"enum": sorted(target["enum"]), "nullable": False}
        return {"model": name, "nullable": False}
    if "enum" in node:
        return {"enum": sorted(node["enum"]), "nullable": False}
    shape: dict[str, Any] = {key: node[key] for key in ("type", "format", "pattern") if key in node}
    if node.get("type") == "array":
        shape["items"] = _shape(node["items"], resolve)
    return {**shape, "nullable": False}


def _wire_name(model: type[Any], name: str) -> str | tuple[str, ...]:
    """The name a field has on the wire: its alias, a path into a nested object, or its own name."""
    for meta in getattr(typing.get_type_hints(model, include_extras=True)[name], "__metadata__", ()):
        if isinstance(meta, FieldInfo):
            if isinstance(meta.validation_alias, AliasPath):
                return tuple(str(part) for part in meta.validation_alias.path)
            if isinstance(meta.alias, str):
                return meta.alias
    return name


@dataclass
class Comparison:
    problems: list[str] = dataclasses.field(default_factory=list)
    flattened: set[str] = dataclasses.field(default_factory=set)
    """Components read through an ``AliasPath`` (not a model of their own)."""


def compare(model: type[Any], document: Document) -> Comparison:
    """Every way ``model`` and the component it names disagree (empty: they agree)."""
    declared = wire_model(model)
    assert declared is not None, f"{model.__name__} names no component"
    result = Comparison()
    schemas: dict[str, Schema] = document["components"]["schemas"]
    if declared.component not in schemas:
        result.problems.append(f"{model.__name__}: no component {declared.component}")
        return result
    component = schemas[declared.component]
    client = adapter(model).json_schema(mode="validation", by_alias=True)
    components_of = {m.__name__: _declared(m).component for m in MODELS}

    def client_ref(ref: str) -> tuple[str, Schema]:
        name = ref.rsplit("/", 1)[-1]
        return components_of.get(name, f"(client {name})"), client["$defs"][name]

    def portal_ref(ref: str) -> tuple[str, Schema]:
        name = ref.rsplit("/", 1)[-1]
        return name, schemas[name]

    read: dict[str, set[str]] = {declared.component: set()}
    for field in dataclasses.fields(model):
        if field.name in declared.local:
            continue
        where = f"{model.__name__}.{field.name}"
        wire_name = _wire_name(model, field.name)
        required_here = field.name in client.get("required", ()) or (
            isinstance(wire_name, str) and wire_name in client.get("required", ())
        )
        ours = client["properties"][wire_name if isinstance(wire_name, str) else field.name]
        owner_name, owner, key = declared.component, component, wire_name
        if isinstance(wire_name, tuple):
            outer, key = wire_name
            read[declared.component].add(outer)
            outer_property = component.get("properties", {}).get(outer)
            if outer_property is None or "$ref" not in outer_property:
                result.problems.append(f"{where}: {declared.component}.{outer} is not a nested object")
                continue
            if outer not in component.get("required", ()):
                result.problems.append(f"{where}: {declared.component}.{outer} is not required")
            owner_name, owner = portal_ref(outer_property["$ref"])
            result.flattened.add(owner_name)
        assert isinstance(key, str)
        read.setdefault(owner_name, set()).add(key)
        theirs = owner.get("properties", {}).get(key)
        if theirs is None:
            result.problems.append(f"{where}: {owner_name} has no property {key!r}")
            continue
        if required_here and key not in owner.get("required", ()):
            result.problems.append(f"{where}: required by the client, optional in {owner_name}.{key}")
        our_shape, their_shape = _shape(ours, client_ref), _shape(theirs, portal_ref)
        if key in declared.non_null and owner_name == declared.component:
            if not their_shape.get("nullable"):
                result.problems.append(f"{where}: declared non_null, but {owner_name}.{key} is never null")
            their_shape["nullable"] = False
        if our_shape != their_shape:
            result.problems.append(f"{where}: client {our_shape} ≠ {owner_name}.{key} {their_shape}")
    for name, keys in read.items():
        kept = keys | (declared.ignored if name == declared.component else set())
        for missing in sorted(set(schemas[name].get("required", ())) - kept):
            result.problems.append(f"{model.__name__}: {name}.{missing} is required but not decoded")
    for ignored in sorted(declared.ignored - set(component.get("properties", {}))):
        result.problems.append(f"{model.__name__}: ignores {ignored!r}, which {declared.component} lacks")
    return result


def _declared(model: type[Any]) -> WireModel:
    declared = wire_model(model)
    assert declared is not None
    return declared


def _references(node: Any) -> Iterator[str]:
    if isinstance(node, dict):
        if isinstance(node.get("$ref"), str):
            yield node["$ref"].rsplit("/", 1)[-1]
        for value in node.values():
            yield from _references(value)
    elif isinstance(node, list):
        for value in node:
            yield from _references(value)


def _answer_component(operation: Schema) -> str | None:
    """The component of the operation's JSON success answer (None: no JSON object answer)."""
    for status, response in operation.get("responses", {}).items():
        if status.startswith("2"):
            schema = response.get("content", {}).get("application/json", {}).get("schema", {})
            if "$ref" in schema:
                return str(schema["$ref"]).rsplit("/", 1)[-1]
    return None


# --- the contract holds --------------------------------------------------------------------------------


def test_both_sides_spell_a_month_alike() -> None:
    assert MONTH_PATTERN == PORTAL_MONTH_PATTERN


@pytest.mark.parametrize("model", MODELS, ids=lambda model: model.__name__)
def test_a_client_model_agrees_with_its_component(model: type[Any], document: Document) -> None:
    assert compare(model, document).problems == []


def test_every_answer_the_app_reads_is_decoded_by_a_model_of_its_component(document: Document) -> None:
    answers: dict[tuple[str, str], str] = {}
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            component = _answer_component(operation)
            if component is not None:
                answers[(method, path)] = component
    assert set(answers) - set(READS) - set(NOT_READ) == set(), "an answer nobody decided about"
    for operation, model in READS.items():
        assert operation in answers, f"{operation} answers no JSON object (or is gone)"
        assert _declared(model).component == answers[operation], operation


def test_every_component_the_app_reads_is_covered(document: Document) -> None:
    schemas: dict[str, Schema] = document["components"]["schemas"]
    decoded = {_declared(model).component for model in MODELS}
    flattened = set().union(*(compare(model, document).flattened for model in MODELS))
    reached: set[str] = set()
    waiting = [_declared(model).component for model in READS.values()]
    while waiting:
        name = waiting.pop()
        if name not in reached:
            reached.add(name)
            waiting.extend(_references(schemas[name]))
    enums = {name for name in reached if "enum" in schemas[name]}
    assert reached - enums - decoded - flattened == set()
    assert decoded <= reached, "a client model of a component no answer the app reads contains"


# --- and fails when either side changes ----------------------------------------------------------------


def _properties(document: Document, component: str) -> dict[str, Schema]:
    properties: dict[str, Schema] = _component(document, component)["properties"]
    return properties


def _rename(component: str, old: str, new: str) -> Callable[[Document], None]:
    def change(document: Document) -> None:
        properties = _properties(document, component)
        properties[new] = properties.pop(old)
        schema = _component(document, component)
        schema["required"] = [new if name == old else name for name in schema.get("required", [])]

    return change


def _retype(component: str, name: str, schema: Schema) -> Callable[[Document], None]:
    def change(document: Document) -> None:
        _properties(document, component)[name] = schema

    return change


def _optional(component: str, name: str) -> Callable[[Document], None]:
    def change(document: Document) -> None:
        _component(document, component)["required"].remove(name)

    return change


def _nullable(component: str, name: str) -> Callable[[Document], None]:
    def change(document: Document) -> None:
        properties = _properties(document, component)
        properties[name] = {"anyOf": [properties[name], {"type": "null"}]}

    return change


def _new_required(component: str, name: str) -> Callable[[Document], None]:
    def change(document: Document) -> None:
        _properties(document, component)[name] = {"type": "string"}
        _component(document, component)["required"].append(name)

    return change


def _enum_value(component: str, old: str, new: str) -> Callable[[Document], None]:
    def change(document: Document) -> None:
        values = _component(document, component)["enum"]
        values[values.index(old)] = new

    return change


def _gone(component: str, name: str) -> Callable[[Document], None]:
    def change(document: Document) -> None:
        del _properties(document, component)[name]

    return change


PORTAL_CHANGES: dict[str, Callable[[Document], None]] = {
    "money renamed": _rename("PaymentOrderOut", "amount_kopecks", "amount"),
    "money as a ruble string": _retype("ServiceCharge", "tariff_kopecks", {"type": "string"}),
    "money as a number": _retype("PaymentRow", "amount_kopecks", {"type": "number"}),
    "month as a date": _retype("ReceiptMonth", "period", {"type": "string", "format": "date"}),
    "month of another pattern": _retype("ReadingOut", "period", {"type": "string", "pattern": "^.*$"}),
    "date as a month": _retype(
        "MeterOut", "next_verification_on", {"type": "string", "pattern": PORTAL_MONTH_PATTERN}
    ),
    "decimal as a number": _retype("ReadingRow", "value", {"type": "number"}),
    "nested model replaced": _retype(
        "ReadingHistory", "readings", {"type": "array", "items": {"$ref": "#/components/schemas/ReadingOut"}}
    ),
    "array of strings": _retype("MetersOverview", "meters", {"type": "array", "items": {"type": "string"}}),
    "required made optional": _optional("MeterOut", "meter_id"),
    "made nullable": _nullable("ReadingWindow", "period"),
    "non-null made never null": _retype("PaymentOrderOut", "payment_url", {"type": "string"}),
    "new required field": _new_required("StatementMonthRow", "opening_balance_kopecks"),
    "enum value renamed": _enum_value("PaymentStatus", "success", "succeeded"),
    "flattened field renamed": _rename("Balance", "debt_kopecks", "debt"),
    "flattened object renamed": _rename("AccountSummary", "balance", "balances"),
    "ignored field gone": _gone("SessionInfo", "token"),
}


@pytest.mark.parametrize("change", PORTAL_CHANGES.values(), ids=PORTAL_CHANGES.keys())
def test_a_change_on_the_portal_side_is_caught(
    change: Callable[[Document], None], document: Document
) -> None:
    changed = copy.deepcopy(document)
    change(changed)
    assert all(compare(model, document).problems == [] for model in MODELS)  # the original agrees
    assert any(compare(model, changed).problems for model in MODELS)


def _client_model(component: str, **fields: Any) -> type[Any]:
    """A client model of ``component`` with the given fields (the name and type of each)."""
    return wire(component)(
        dataclasses.make_dataclass(f"Client{component}", list(fields.items()), frozen=True)
    )


TOTAL = Annotated[Kopecks, Field(alias="total_kopecks")]
CAPITAL_REPAIR = Annotated[Kopecks, Field(alias="capital_repair_kopecks")]
CLIENT_CHANGES: dict[str, type[Any]] = {
    "money renamed": _client_model(
        "PaymentCode", payload=str, amount=Annotated[Kopecks, Field(alias="amount")]
    ),
    "money as text": _client_model("PaymentCode", payload=str, amount_kopecks=str),
    "month as a date": _client_model(
        "ReceiptMonth", period=dt.date, total=TOTAL, capital_repair=CAPITAL_REPAIR
    ),
    "month may be null": _client_model(
        "ReceiptMonth", period=Month | None, total=TOTAL, capital_repair=CAPITAL_REPAIR
    ),
    "field left out": _client_model("ReceiptMonth", period=Month, total=TOTAL),
    "nested model of another component": _client_model(
        "ReceiptList", receipts=tuple[tui.models.PaymentRow, ...]
    ),
}


@pytest.mark.parametrize("model", CLIENT_CHANGES.values(), ids=CLIENT_CHANGES.keys())
def test_a_change_on_the_client_side_is_caught(model: type[Any], document: Document) -> None:
    assert compare(model, document).problems != []
