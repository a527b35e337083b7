"""Fuzz the API from its own OpenAPI document (schemathesis) against the portal, logged in and not.

The portal runs in this process (uvicorn in a thread, SQLite, the tests' clock) and schemathesis
sends every operation schema-valid and schema-invalid input: the explicit coverage cases (each
boundary, each wrong type, methods the path does not have) and a bounded number of generated
examples, derandomised. All the checks of ``st run --checks all`` run, with the coverage phase's
``unsupported_method`` and the portal's own checks (:mod:`tests.support.schemathesis_checks`): no server
errors, no undocumented statuses, bodies and headers as documented, schema-invalid input refused,
schema-valid input accepted or refused only by a documented rule, 405 naming the right methods.

``make schemathesis`` runs the long version against ``kabinet-portal serve --workers 4`` on
PostgreSQL. ``KABINET_FUZZ_EXAMPLES`` sets the examples per operation here.
"""

from __future__ import annotations

import json
import os
import shutil
import threading
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
import schemathesis
import uvicorn
from hypothesis import HealthCheck, settings
from schemathesis import Case, DataGenerationMethod
from schemathesis.checks import not_a_server_error
from schemathesis.experimental import COVERAGE_PHASE
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    ignored_auth,
    negative_data_rejection,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
    unsupported_method,
)
from schemathesis.specs.openapi.schemas import BaseOpenAPISchema

from portal.app import create_app
from portal.demo.accounts import DEMO_PASSWORD, HAPPY_PATH_APARTMENT, account_number
from portal.kit.clock import Clock
from portal.settings import Settings
from tests.conftest import TEST_NOW, TEST_SECRET
from tests.support.ports import free_port
from tests.support.schemathesis_checks import (
    allow_header_lists_documented_methods,
    schema_valid_input_accepted,
)

pytestmark = pytest.mark.slow

CHECKS = (
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    negative_data_rejection,
    ignored_auth,
    unsupported_method,
    schema_valid_input_accepted,
    allow_header_lists_documented_methods,
)
MAX_EXAMPLES = int(os.environ.get("KABINET_FUZZ_EXAMPLES", "8"))

# The boundary cases and unexpected methods, as explicit examples before the generated ones.
COVERAGE_PHASE.enable()


@pytest.fixture(scope="module")
def live_portal(sqlite_template: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The demo portal on a copy of the seeded SQLite database, served on loopback from this process."""
    data_dir = tmp_path_factory.mktemp("fuzz")
    database = data_dir / "portal.sqlite3"
    shutil.copyfile(sqlite_template, database)
    clock = Clock()
    clock.set(TEST_NOW)
    big = 1_000_000  # no throttling: thousands of wrong passwords and unknown numbers on purpose
    settings_ = Settings(
        database_url=f"sqlite+aiosqlite:///{database}",
        demo=True,
        secret_key=TEST_SECRET,
        data_dir=data_dir,
        reading_window_always_open=True,
        throttle_free_failures=big,
        throttle_client_free_failures=big,
        throttle_account_ceiling=big,
        public_lookups_per_window=big,
        public_payments_per_window=big,
        argon2_time_cost=1,
        argon2_memory_cost=8,
    )
    port = free_port()
    config = uvicorn.Config(
        create_app(settings_, clock=clock),
        host="127.0.0.1",
        port=port,
        log_level="warning",
        access_log=False,
        lifespan="on",
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, name="fuzz-portal", daemon=True)
    thread.start()
    base = f"http://127.0.0.1:{port}/api/v1"
    try:
        deadline = time.monotonic() + 60
        while not server.started:
            if time.monotonic() > deadline or not thread.is_alive():
                raise RuntimeError("the portal did not start")
            time.sleep(0.05)
        yield base
    finally:
        server.should_exit = True
        thread.join(timeout=30)


def _login(base: str) -> str:
    request = urllib.request.Request(
        f"{base}/auth/login",
        data=json.dumps(
            {"account_number": account_number(HAPPY_PATH_APARTMENT), "password": DEMO_PASSWORD}
        ).encode(),
        headers={"content-type": "application/json"},
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        return str(json.loads(response.read())["token"])


@pytest.fixture(scope="module")
def api_schema(live_portal: str) -> BaseOpenAPISchema:
    with urllib.request.urlopen(f"{live_portal}/openapi.json", timeout=30) as response:
        document = json.loads(response.read())
    # FastAPI writes OpenAPI 3.1; schemathesis 3 reads it as 3.0, which our schemas stay within.
    return schemathesis.from_dict(
        document,
        base_url=live_portal.removesuffix("/api/v1"),
        force_schema_version="30",
        data_generation_methods=DataGenerationMethod.all(),
    )


@pytest.fixture(scope="module")
def session_token(live_portal: str) -> str:
    return _login(live_portal)


schema = schemathesis.from_pytest_fixture("api_schema", data_generation_methods=DataGenerationMethod.all())


FUZZ_SETTINGS = settings(
    max_examples=MAX_EXAMPLES,
    deadline=None,
    derandomize=True,
    suppress_health_check=list(HealthCheck),
    database=None,
)


@schema.parametrize()
@FUZZ_SETTINGS
def test_api_conforms_to_its_schema_logged_in(case: Case, live_portal: str, session_token: str) -> None:
    headers = dict(case.headers or {})
    # A case whose headers are the schema-invalid part (Authorization left out or malformed, a bad
    # Idempotency-Key) is sent as it is; any other gets the resident's session.
    generated = case.meta.headers if case.meta is not None else None
    if generated is None or not generated.is_negative:
        # Logging out would end the shared session: that operation gets a session of its own.
        token = _login(live_portal) if case.path.endswith("/auth/logout") else session_token
        headers["Authorization"] = f"Bearer {token}"
    case.call_and_validate(headers=headers, checks=CHECKS)


@schema.parametrize()
@FUZZ_SETTINGS
def test_api_conforms_to_its_schema_anonymous(case: Case) -> None:
    """A stranger: only what schemathesis itself sends (no session, or a made-up token)."""
    case.call_and_validate(checks=CHECKS)
