"""The baseline of bench/portal.py: a bare FastAPI endpoint returning a constant."""

from __future__ import annotations

from fastapi import FastAPI


def create() -> FastAPI:
    app = FastAPI()

    @app.get("/const")
    async def const() -> dict[str, str]:
        return {"status": "ok"}

    return app
