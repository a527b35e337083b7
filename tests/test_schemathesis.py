"""Fuzz the API from its own OpenAPI document (schemathesis) against a live portal on loopback.

No server errors, no undocumented status codes, bodies and headers as documented. Bounded so the
run takes a minute or two: a fixed number of examples per operation, derandomised.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from portal.demo.accounts import DEMO_PASSWORD, HAPPY_PATH_APARTMENT, account_number

ROOT = Path(__file__).resolve().parent.parent
CHECKS = (
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
)
MAX_EXAMPLES = int(os.environ.get("KABINET_FUZZ_EXAMPLES", "40"))


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="module")
def live_portal(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    data_dir = tmp_path_factory.mktemp("fuzz")
    port = _free_port()
    env = {
        **os.environ,
        "KABINET_THROTTLE_FREE_FAILURES": "100000",
        "KABINET_THROTTLE_CLIENT_FREE_FAILURES": "100000",
        "KABINET_THROTTLE_ACCOUNT_CEILING": "100000",
        "KABINET_PUBLIC_LOOKUPS_PER_WINDOW": "100000",
        "KABINET_PUBLIC_PAYMENTS_PER_WINDOW": "100000",
    }
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "portal.cli",
            "serve",
            "--demo",
            "--data-dir",
            str(data_dir),
            "--port",
            str(port),
            "--log-level",
            "warning",
            "--no-access-log",
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}/api/v1"
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                with urllib.request.urlopen(f"{base}/health", timeout=2):
                    break
            except OSError:
                if time.monotonic() > deadline or process.poll() is not None:
                    raise RuntimeError("the portal did not start") from None
                time.sleep(0.2)
        yield base
    finally:
        process.terminate()
        process.wait(timeout=20)


def _login(base: str) -> str:
    import json

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
def api_schema(live_portal: str) -> Any:
    # FastAPI writes OpenAPI 3.1; schemathesis 3 reads it as 3.0, which our schemas stay within.
    return schemathesis.from_uri(
        f"{live_portal}/openapi.json", base_url=live_portal.removesuffix("/api/v1"), force_schema_version="30"
    )


@pytest.fixture(scope="module")
def session_token(live_portal: str) -> str:
    return _login(live_portal)


schema = schemathesis.from_pytest_fixture("api_schema")


@schema.parametrize()
@settings(
    max_examples=MAX_EXAMPLES,
    deadline=None,
    derandomize=True,
    suppress_health_check=list(HealthCheck),
)
def test_api_conforms_to_its_schema(case: Any, live_portal: str, session_token: str) -> None:
    # Logging out would end the shared session: that operation gets a session of its own.
    token = _login(live_portal) if case.path.endswith("/auth/logout") else session_token
    headers = dict(case.headers or {})
    headers.setdefault("Authorization", f"Bearer {token}")
    case.call_and_validate(headers=headers, checks=CHECKS)
