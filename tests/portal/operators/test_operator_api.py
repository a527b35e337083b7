"""The operator API: its own keys (stored as HMACs, shown once, revocable), never a resident's token
where an operator key is wanted nor the reverse, and the exports as the same bytes as the CLI's."""

from __future__ import annotations

import asyncio
import datetime as dt
import re
import shutil
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from portal.exports.format import Encoding
from portal.exports.service import ExportKind, ExportRequest
from portal.models import OperatorKey
from tests.conftest import Portal, PortalFactory
from tests.support.exports import export_bytes, operator_key, parse

API = "/api/v1"
OPERATOR_SCHEME = "OperatorKey"


async def _openapi(portal: Portal) -> dict[str, Any]:
    response = await portal.client.get(f"{API}/openapi.json")
    assert response.status_code == 200
    document: dict[str, Any] = response.json()
    return document


def _operations(document: dict[str, Any], scheme: str | None) -> list[tuple[str, str]]:
    """Every secured operation of one security scheme (None: every scheme but the operator's)."""
    found = []
    for path, item in document["paths"].items():
        for method, operation in item.items():
            schemes = {name for entry in operation.get("security", []) for name in entry}
            if not schemes:
                continue
            if (scheme is None and OPERATOR_SCHEME not in schemes) or (
                scheme is not None and scheme in schemes
            ):
                found.append((method, re.sub(r"\{[^}]+\}", "1", path)))
    return found


async def _call(portal: Portal, method: str, path: str, headers: dict[str, str]) -> httpx.Response:
    url = path if path.startswith(API) else f"{API}{path}"
    if method in ("get", "delete"):
        return await portal.client.request(method.upper(), url, headers=headers)
    return await portal.client.request(method.upper(), url, headers=headers, json={})


async def test_a_residents_token_opens_no_operator_endpoint(portal: Portal) -> None:
    document = await _openapi(portal)
    operations = _operations(document, OPERATOR_SCHEME)
    assert {path for _method, path in operations} >= {
        f"{API}/operator/exports/readings",
        f"{API}/operator/exports/payments",
        f"{API}/operator/exports/registrations",
    }
    resident = await portal.login_as()
    assert (await portal.client.get(f"{API}/account", headers=resident)).status_code == 200
    for method, path in operations:
        response = await _call(portal, method, f"{path}?period=2026-11&date=2026-11-20", resident)
        assert response.status_code == 401, (method, path, response.text)
        assert response.json()["code"] == "operator_not_authenticated"


async def test_an_operator_key_opens_no_resident_endpoint(portal: Portal) -> None:
    document = await _openapi(portal)
    operations = _operations(document, None)
    assert len(operations) >= 10 and ("get", f"{API}/account") in operations
    key = await operator_key(portal)
    assert (await portal.client.get(f"{API}/operator/exports/registrations", headers=key)).status_code == 200
    for method, path in operations:
        response = await _call(portal, method, path, key)
        assert response.status_code == 401, (method, path, response.text)


async def test_keys_are_stored_as_hmacs_and_revoked_keys_are_refused(portal: Portal) -> None:
    key = await operator_key(portal, "1С: Биллинг")
    secret = key["Authorization"].removeprefix("Bearer ")
    assert secret.startswith("kop_") and len(secret) > 40
    async with portal.state.sessionmaker() as session:
        row = (await session.scalars(select(OperatorKey))).one()
    assert row.name == "1С: Биллинг" and secret not in row.key_hmac and len(row.key_hmac) == 64
    # A resident's token digest of the same secret is another value: the domains are apart.
    assert row.key_hmac != portal.state.tokens.digest(secret)
    url = f"{API}/operator/exports/registrations"
    assert (await portal.client.get(url, headers=key)).status_code == 200
    from portal.operators.service import revoke_key

    async with portal.state.sessionmaker() as session:
        assert await revoke_key(session, row.id, portal.clock.now()) is True
        assert await revoke_key(session, row.id, portal.clock.now()) is False
        assert await revoke_key(session, row.id + 1, portal.clock.now()) is None
        await session.commit()
    refused = await portal.client.get(url, headers=key)
    assert refused.status_code == 401 and refused.json()["code"] == "operator_not_authenticated"
    assert (await portal.client.get(url)).status_code == 401
    assert (await portal.client.get(url, headers={"Authorization": "Bearer kop_guess"})).status_code == 401


async def test_downloads_are_the_same_bytes_as_the_service_and_named(portal: Portal) -> None:
    key = await operator_key(portal)
    cases = [
        (
            "readings?period=2026-10",
            ExportRequest(ExportKind.READINGS, dt.date(2026, 10, 1)),
            "readings-2026-10.csv",
        ),
        (
            "readings?period=2026-10&encoding=cp1251",
            ExportRequest(ExportKind.READINGS, dt.date(2026, 10, 1), Encoding.CP1251),
            "readings-2026-10-cp1251.csv",
        ),
        (
            "payments?date=2026-11-19",
            ExportRequest(ExportKind.PAYMENTS, dt.date(2026, 11, 19)),
            "payments-2026-11-19.csv",
        ),
        (
            "registrations?with_email=true",
            ExportRequest(ExportKind.REGISTRATIONS, with_email=True),
            "registrations.csv",
        ),
    ]
    for query, request, filename in cases:
        response = await portal.client.get(f"{API}/operator/exports/{query}", headers=key)
        assert response.status_code == 200, response.text
        assert response.content == await export_bytes(portal, request)
        assert filename in response.headers["content-disposition"]
        charset = "windows-1251" if request.encoding is Encoding.CP1251 else "utf-8"
        assert response.headers["content-type"] == f"text/csv; charset={charset}"
    header, records, control = parse(response.content)
    assert header[-1] == "email" and control[1] == str(len(records))


async def test_the_download_is_the_same_file_as_the_command_writes(
    portal: Portal, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from portal.cli import main

    for name in ("KABINET_DEMO", "KABINET_DATABASE_URL", "KABINET_DATA_DIR"):
        monkeypatch.delenv(name, raising=False)
    key = await operator_key(portal)
    response = await portal.client.get(
        f"{API}/operator/exports/readings?period=2026-10&encoding=cp1251", headers=key
    )
    assert response.status_code == 200
    out = tmp_path / "readings.csv"
    argv = ["export", "readings", "--period", "2026-10", "--encoding", "cp1251", "--out", str(out)]
    argv += ["--data-dir", str(tmp_path), "--database-url", portal.settings.database_url]
    assert await asyncio.to_thread(main, argv) == 0
    assert out.read_bytes() == response.content


@pytest.mark.parametrize(
    ("query", "code", "field", "words"),
    [
        ("readings?period=2026-13", "invalid_export_period", "period", "ГГГГ-ММ"),
        ("readings?period=11.2026", "invalid_export_period", "period", "ГГГГ-ММ"),
        ("payments?date=2026-02-30", "invalid_export_date", "date", "ГГГГ-ММ-ДД"),
        ("registrations?encoding=koi8-r", "invalid_encoding", "encoding", "cp1251"),
    ],
)
async def test_bad_options_are_refused_in_russian_naming_the_parameter(
    portal: Portal, query: str, code: str, field: str, words: str
) -> None:
    key = await operator_key(portal)
    response = await portal.client.get(f"{API}/operator/exports/{query}", headers=key)
    assert response.status_code == 422
    body = response.json()
    assert (body["code"], body["field"]) == (code, field)
    assert f"«{field}»" in body["message"] and words in body["message"]


async def test_requests_of_a_key_are_throttled(
    make_portal: PortalFactory, caplog: pytest.LogCaptureFixture
) -> None:
    portal = await make_portal(operator_requests_per_minute=2)
    key = await operator_key(portal)
    other = await operator_key(portal, "second")
    url = f"{API}/operator/exports/registrations"
    with caplog.at_level("INFO", logger="kabinet.portal.exports"):
        assert [(await portal.client.get(url, headers=key)).status_code for _ in range(2)] == [200, 200]
    assert any(
        "export registrations" in r.getMessage() and "operator key" in r.getMessage() for r in caplog.records
    )
    refused = await portal.client.get(url, headers=key)
    assert refused.status_code == 429 and int(refused.headers["retry-after"]) > 0
    assert (await portal.client.get(url, headers=other)).status_code == 200  # per key
    portal.clock.advance(dt.timedelta(minutes=1, seconds=1))
    assert (await portal.client.get(url, headers=key)).status_code == 200


def test_operator_key_commands(
    sqlite_template: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from portal.cli import main

    for name in (
        "KABINET_DEMO",
        "KABINET_DATABASE_URL",
        "KABINET_DATA_DIR",
        "KABINET_READING_WINDOW_ALWAYS_OPEN",
    ):
        monkeypatch.delenv(name, raising=False)
    copy = tmp_path / "portal.sqlite3"
    shutil.copyfile(sqlite_template, copy)
    db = ["--demo", "--data-dir", str(tmp_path), "--database-url", f"sqlite+aiosqlite:///{copy}"]
    assert main(["operator-key", "create", "billing system", *db]) == 0
    created = capsys.readouterr().out
    secret = re.search(r"kop_\S+", created)
    assert secret is not None and "shown only this once" in created
    assert main(["operator-key", "list", *db]) == 0
    listed = capsys.readouterr().out
    assert "billing system" in listed and "active" in listed and secret.group() not in listed
    assert main(["operator-key", "revoke", "1", *db]) == 0
    assert "revoked" in capsys.readouterr().out
    assert main(["operator-key", "revoke", "99", *db]) == 1
    assert main(["operator-key", "create", "  ", *db]) == 2
    assert "name" in capsys.readouterr().err
