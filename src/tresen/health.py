"""Liveness and readiness: database and bus."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import JSONResponse

from tresen.auth.deps import RT

router = APIRouter(tags=["health"])


@router.get("/healthz")
async def healthz(rt: RT) -> JSONResponse:
    db_ok, bus_ok = await rt.db.ping(), await rt.bus.ping()
    body = {
        "status": "ok" if db_ok and bus_ok else "degraded",
        "db": {"ok": db_ok, "backend": "sqlite" if rt.db.is_sqlite else "postgresql"},
        "bus": {"ok": bus_ok, "backend": type(rt.bus).__name__},
        "node": rt.settings.node_name,
    }
    return JSONResponse(body, status_code=200 if db_ok and bus_ok else 503)
