"""The portal's own schemathesis checks: the API answers schema-valid input as its schema says.

Loaded by ``tests/portal/test_schemathesis.py`` and by ``make schemathesis`` (``st --pre-run``), where
``--checks all`` then includes them. schemathesis 3's built-in ``positive_data_acceptance`` allows
no 409, 422 or 429 at all; the portal's contract is narrower and more exact:

* ``schema_valid_input_accepted`` — input the schema accepts is answered 2xx, or refused by a
  documented rule: 401, 403, 404, 409, 429, or a 422 whose ``code`` the operation lists in its 422
  answer's ``x-rule-codes`` (what a schema cannot say: two fields that must agree, a key used before
  with another body). A ``validation_error`` or a format code there means the server keeps a rule
  the schema does not state, or states a rule the server does not keep.
* ``allow_header_lists_documented_methods`` — a 405 names, in ``Allow``, exactly the methods the
  document has for that path (two routes on one path once answered ``Allow: GET`` for a POST path).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import schemathesis
from schemathesis.specs.openapi.checks import is_unexpected_http_status_case
from schemathesis.transports.responses import get_json

from portal.kit.errors import RULES_EXTENSION

if TYPE_CHECKING:
    from schemathesis.internal.checks import CheckContext
    from schemathesis.models import Case
    from schemathesis.transports.responses import GenericResponse

#: Refusals of schema-valid input that are part of the contract: not logged in, forbidden, not found
#: (an unknown account or order), a business rule (409) and throttling (429).
REFUSALS = frozenset({401, 403, 404, 409, 429})
HTTP_METHODS = frozenset({"get", "put", "post", "delete", "options", "head", "patch", "trace"})


def _code(response: GenericResponse) -> str | None:
    try:
        body = get_json(response)
    except ValueError:
        return None
    return body.get("code") if isinstance(body, dict) else None


@schemathesis.check
def schema_valid_input_accepted(ctx: CheckContext, response: GenericResponse, case: Case) -> bool | None:
    method = case.data_generation_method
    if method is None or not method.is_positive or is_unexpected_http_status_case(case):
        return None
    status = response.status_code
    if 200 <= status < 300 or status in REFUSALS:
        return None
    if status == 400 and response.headers.get("Content-Type", "").startswith("text/plain"):
        # The HTTP server refused the request itself (a made-up token with bytes no header may carry),
        # before the API saw it: documented for every operation.
        return None
    if status == 422:
        documented = case.operation.definition.raw.get("responses", {}).get("422", {})
        rules = documented.get(RULES_EXTENSION, [])
        code = _code(response)
        if code in rules:
            return None
        raise AssertionError(
            f"Schema-valid input refused with 422 `{code}`: no rule of this operation "
            f"(its documented rules: {', '.join(rules) or 'none'})"
        )
    raise AssertionError(f"Schema-valid input answered {status}")


@schemathesis.check
def allow_header_lists_documented_methods(
    ctx: CheckContext, response: GenericResponse, case: Case
) -> bool | None:
    if response.status_code != 405:
        return None
    path_item = case.operation.schema.raw_schema["paths"][case.operation.path]
    documented = {name.upper() for name in path_item if name in HTTP_METHODS}
    allowed = {part.strip().upper() for part in response.headers.get("Allow", "").split(",") if part.strip()}
    if allowed != documented:
        raise AssertionError(
            f"405 with `Allow: {response.headers.get('Allow', '')}`; the document has "
            f"{', '.join(sorted(documented))} for {case.operation.path}"
        )
    return None
