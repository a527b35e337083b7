"""The health endpoint: the portal answers and its database too."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from sqlalchemy import text

from portal import __version__
from portal.kit.deps import State
from portal.kit.errors import database_unavailable, error_responses, render_error

router = APIRouter(tags=["health"])


class Health(BaseModel):
    status: str
    database: str
    version: str


@router.get("/health", response_model=Health, summary="Состояние портала", responses=error_responses(503))
async def health(state: State) -> Health | JSONResponse:
    try:
        async with state.engine.connect() as connection:
            await connection.execute(text("SELECT 1"))
    except Exception:
        return render_error(database_unavailable())  # 503 with Retry-After, like every other route
    return Health(status="ok", database=state.engine.dialect.name, version=__version__)
