"""``POST /api/v1/operator/imports/{kind}``: the billing system's records in batches, behind an operator key.

The same door as ``kabinet-portal import``: a batch of one kind's records (text values keyed by the
kind's file columns, docs/exchange.md) is validated whole and merged by the records' natural keys, so
that a batch sent again — after a timeout, by a second pod — changes nothing. Each record gets its
result with the same Russian reasons as a file's line. Every batch is logged with its operator key.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path

from portal.exchange.errors import DuplicateRecordImportId
from portal.exchange.schemas import (
    ImportBatchRequest,
    ImportBatchResponse,
    ImportKindName,
    RecordError,
    RecordResult,
)
from portal.exchange.service import import_records
from portal.kit.deps import State
from portal.kit.errors import unprocessable
from portal.operators.dependencies import CurrentOperator

router = APIRouter(prefix="/imports", tags=["operator"])


@router.post(
    "/{kind}",
    summary="Пакет записей одного вида из биллинговой системы (до 500), идемпотентно",
    response_model=ImportBatchResponse,
    responses=unprocessable("duplicate_record_import_id"),
)
async def import_batch_records(
    state: State,
    principal: CurrentOperator,
    kind: Annotated[
        ImportKindName, Path(description="The kind of records, as the file kinds of docs/exchange.md.")
    ],
    batch: ImportBatchRequest,
) -> ImportBatchResponse:
    seen: dict[str, int] = {}
    for position, record in enumerate(batch.records):
        if record.import_id is None:
            continue
        if record.import_id in seen:
            raise DuplicateRecordImportId(
                field="records", import_id=record.import_id, first=seen[record.import_id], second=position
            )
        seen[record.import_id] = position
    # The batch's own transaction: a refused batch rolls back without touching the request's session.
    async with state.sessionmaker() as session:
        outcome = await import_records(
            session,
            kind,
            [record.values for record in batch.records],
            import_id=batch.import_id,
            operator=str(principal),
            skip_bad=batch.skip_bad,
        )
    report = outcome.report
    refused = report.status == "refused"
    results = []
    for position, record in enumerate(batch.records):
        errors = outcome.errors.get(position, [])
        status = "accepted" if not errors else ("refused" if refused else "skipped")
        results.append(
            RecordResult(
                index=position,
                import_id=record.import_id,
                status=status,
                errors=[RecordError(field=field, reason=reason) for field, reason in errors],
            )
        )
    counts = report.counts.get(kind)
    return ImportBatchResponse(
        import_id=batch.import_id,
        kind=kind,
        status="refused" if refused else "imported",
        run_id=report.import_id or 0,
        inserted=0 if refused or counts is None else counts.inserted,
        updated=0 if refused or counts is None else counts.updated,
        deleted=0 if refused or counts is None else counts.deleted,
        records=results,
    )
