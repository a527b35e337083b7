"""The operator's batch import: behind operator keys, the same validation as files, idempotent, concurrent."""

from __future__ import annotations

import asyncio
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import text

from tests.conftest import Portal, pg_create_database, pg_database_name, pg_drop_database, pg_url
from tests.support.exports import operator_key
from tests.support.ports import free_port

URL = "/api/v1/operator/imports/accounts"


def account(number: str, **values: str) -> dict[str, Any]:
    return {
        "import_id": f"acc-{number}",
        "values": {
            "account": number,
            "address": "г. Вологда, ул. Пакетная, д. 1",
            "apartment": number[-2:],
            "area": "42,50",
            "residents": "2",
            "owner": "Пакетов Пётр Петрович",
            **values,
        },
    }


async def _rows(portal: Portal, sql: str) -> list[tuple[Any, ...]]:
    async with portal.state.sessionmaker() as session:
        return [tuple(row) for row in await session.execute(text(sql))]


async def test_a_batch_is_imported_once_and_logged_with_its_key(portal: Portal) -> None:
    key = await operator_key(portal, "1С: Биллинг")
    batch = {"import_id": "batch-1", "records": [account("7100000001"), account("7100000002")]}
    first = await portal.client.post(URL, json=batch, headers=key)
    assert first.status_code == 200, first.text
    body = first.json()
    assert (body["status"], body["inserted"], body["updated"]) == ("imported", 2, 0)
    assert [r["status"] for r in body["records"]] == ["accepted", "accepted"]
    assert body["records"][1]["import_id"] == "acc-7100000002"
    again = (await portal.client.post(URL, json=batch, headers=key)).json()
    assert (again["status"], again["inserted"], again["updated"], again["deleted"]) == ("imported", 0, 0, 0)
    assert await _rows(portal, "SELECT area_m2, residents FROM accounts WHERE number = '7100000001'") == [
        (pytest.approx(42.5), 2)
    ]
    runs = await _rows(portal, f"SELECT operator, status, files FROM import_runs WHERE id = {body['run_id']}")
    assert runs == [("operator key 1 (1С: Биллинг)", "imported", "batch:batch-1")]


async def test_a_bad_record_refuses_the_batch_with_russian_reasons(portal: Portal) -> None:
    key = await operator_key(portal)
    batch: dict[str, object] = {
        "import_id": "batch-2",
        "records": [
            account("7100000003"),
            account("7100000004", area="-1"),
            {"values": {"account": "71", "colour": "red"}},
        ],
    }
    answer = await portal.client.post(URL, json=batch, headers=key)
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["status"] == "refused" and body["inserted"] == 0
    assert [r["status"] for r in body["records"]] == ["accepted", "refused", "refused"]
    assert body["records"][1]["errors"] == [{"field": "area", "reason": "число не может быть отрицательным"}]
    third = {(e["field"], e["reason"]) for e in body["records"][2]["errors"]}
    assert ("colour", "неизвестный столбец для файла «лицевые счета»") in third
    assert ("owner", "нет обязательного столбца (файл «лицевые счета»)") in third
    assert not await _rows(portal, "SELECT id FROM accounts WHERE number LIKE '710000000%'")
    assert await _rows(portal, f"SELECT status FROM import_runs WHERE id = {body['run_id']}") == [
        ("refused",)
    ]

    batch["skip_bad"] = True
    body = (await portal.client.post(URL, json=batch, headers=key)).json()
    assert body["status"] == "imported" and body["inserted"] == 1
    assert [r["status"] for r in body["records"]] == ["accepted", "skipped", "skipped"]
    assert await _rows(portal, "SELECT number FROM accounts WHERE number LIKE '710000000%'") == [
        ("7100000003",)
    ]


async def test_references_are_checked_against_the_database(portal: Portal) -> None:
    key = await operator_key(portal)
    batch = {
        "import_id": "pay-1",
        "records": [
            {
                "values": {
                    "date": "12.10.2026",
                    "amount": "100,00",
                    "account": "7999999999",
                    "purpose": "utilities",
                    "collector": "sberbank",
                    "reference": "X1",
                }
            }
        ],
    }
    body = (await portal.client.post("/api/v1/operator/imports/payments", json=batch, headers=key)).json()
    assert body["status"] == "refused"
    (error,) = body["records"][0]["errors"]
    assert error["field"] == "account" and "не найден" in error["reason"]


async def test_the_batch_is_strict_and_needs_an_operator_key(portal: Portal) -> None:
    key = await operator_key(portal)
    record = account("7100000005")
    duplicate = {"import_id": "b", "records": [record, record]}
    answer = await portal.client.post(URL, json=duplicate, headers=key)
    assert answer.status_code == 422 and answer.json()["code"] == "duplicate_record_import_id"
    assert "повторяется" in answer.json()["message"]
    for bad in (
        {"import_id": "b", "records": []},
        {"import_id": "b", "records": [account("7100000006")] * 0 + [{"values": {"account": 7100000006}}]},
        {"import_id": "b c", "records": [account("7100000006")]},
        {"import_id": "b", "records": [account("7100000006")], "skip_bad": "yes"},
        {"import_id": "b", "records": [{**account("7100000006"), "import_id": f"r{i}"} for i in range(501)]},
    ):
        assert (await portal.client.post(URL, json=bad, headers=key)).status_code == 422, bad
    unknown_kind = await portal.client.post("/api/v1/operator/imports/users", json=duplicate, headers=key)
    assert unknown_kind.status_code == 422
    assert (await portal.client.post(URL, json={"import_id": "b", "records": [record]})).status_code == 401


# --- two real workers, two batches at once -----------------------------------------------------------------


@pytest.mark.postgres
@pytest.mark.slow
def test_concurrent_batches_against_two_workers(pg_template: str, tmp_path: Path) -> None:
    from bench.throttle_burst import SECRET, serving

    assert pg_url() is not None
    name = pg_database_name("operator_imports")
    database = asyncio.run(pg_create_database(name, pg_template))
    try:
        created = subprocess.run(
            [
                sys.executable,
                "-m",
                "portal.cli",
                "operator-key",
                "create",
                "loader",
                "--database-url",
                database,
            ],
            capture_output=True,
            text=True,
            check=True,
            env={**os.environ, "KABINET_SECRET_KEY": SECRET},
        ).stdout
        secret = re.search(r"kop_\S+", created)
        assert secret is not None
        headers = {"Authorization": f"Bearer {secret.group()}"}
        # Four overlapping batches of 500 (the same 300 accounts and 200 of their own each), each sent
        # twice, all at once: the new keys are inserted once, nothing fails.
        shared = [account(f"72000{n:05d}") for n in range(300)]
        batches = [
            {"import_id": f"w{w}", "records": shared + [account(f"73{w}00{n:05d}") for n in range(200)]}
            for w in (1, 2, 3, 4)
        ]

        with serving(database, 2, free_port(), tmp_path) as base:

            async def send() -> list[dict[str, Any]]:
                async with httpx.AsyncClient(base_url=base, timeout=120) as client:
                    answers = await asyncio.gather(
                        *(
                            client.post(URL.removeprefix("/api/v1"), json=batch, headers=headers)
                            for batch in batches * 2
                        )
                    )
                assert [a.status_code for a in answers] == [200] * 8, [a.text[:300] for a in answers]
                return [a.json() for a in answers]

            results = asyncio.run(send())
        assert all(r["status"] == "imported" for r in results)
        assert sum(r["inserted"] for r in results) == 1100  # each new account inserted once
        assert all(r["updated"] == 0 for r in results)

        async def count() -> list[tuple[Any, ...]]:
            from portal.kit.db import create_engine

            engine = create_engine(database)
            try:
                async with engine.connect() as connection:
                    return [
                        tuple(row)
                        for row in await connection.execute(
                            text(
                                "SELECT count(*), count(DISTINCT number) FROM accounts "
                                "WHERE number LIKE '72000%' OR number LIKE '73_00%'"
                            )
                        )
                    ]
            finally:
                await engine.dispose()

        assert asyncio.run(count()) == [(1100, 1100)]
    finally:
        asyncio.run(pg_drop_database(name))
