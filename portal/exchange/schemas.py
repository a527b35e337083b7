"""The operator's batch import: one kind's records as text values keyed by the file format's columns."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, StrictBool, StrictStr

from portal.exchange.kinds import KINDS

#: Records of one batch at most (condo's ``registerBillingReceipts`` takes batches of ~500).
MAX_RECORDS = 500
_IMPORT_ID = r"^[0-9A-Za-z._:/-]{1,100}$"

ImportKindName = Literal[
    "payees",
    "services",
    "tariffs",
    "accounts",
    "capital_repair",
    "meters",
    "balances",
    "charges",
    "payments",
    "readings",
]
assert set(ImportKindName.__args__) == {kind.name for kind in KINDS}  # type: ignore[attr-defined]


class ImportRecord(BaseModel):
    import_id: StrictStr | None = Field(
        default=None,
        pattern=_IMPORT_ID,
        description="The billing system's id of this record (echoed in its result); unique in the batch.",
    )
    values: dict[StrictStr, StrictStr] = Field(
        max_length=20,
        description=(
            "The record's values as text, keyed by the column names of the kind's file "
            "(docs/exchange.md): `1234,56`, `25.10.2026`, `2026-10`…"
        ),
    )


class ImportBatchRequest(BaseModel):
    import_id: StrictStr = Field(
        pattern=_IMPORT_ID,
        description="The batch's id: logged with the import. Sending a batch again changes nothing.",
    )
    skip_bad: StrictBool = Field(
        default=False, description="Import the good records and list the bad ones (default: refuse all)."
    )
    records: list[ImportRecord] = Field(min_length=1, max_length=MAX_RECORDS)


class RecordError(BaseModel):
    field: str = Field(description="The column, or an empty string for the record as a whole.")
    reason: str = Field(description="What is wrong and what is allowed, in Russian.")


class RecordResult(BaseModel):
    model_config = ConfigDict(json_schema_serialization_defaults_required=True)

    index: int = Field(description="The record's position in the batch, from 0.")
    import_id: str | None = None
    status: Literal["accepted", "refused", "skipped"] = Field(
        description="`accepted`: valid (written unless the batch was refused); `refused`: invalid, the "
        "batch was refused; `skipped`: invalid, left out with `skip_bad`."
    )
    errors: list[RecordError]


class ImportBatchResponse(BaseModel):
    model_config = ConfigDict(json_schema_serialization_defaults_required=True)

    import_id: str
    kind: ImportKindName
    status: Literal["imported", "refused"]
    run_id: int = Field(description="The import log's number of this batch (refused batches are logged too).")
    inserted: int
    updated: int
    deleted: int
    records: list[RecordResult]
