"""Routes: liveness and readiness probes, at the root (not under /api)."""

from __future__ import annotations

import inspect
from typing import Annotated

from fastapi import APIRouter, Depends, Response

from core.shared.health import CheckReadiness
from entrypoints.http.deps import provide
from entrypoints.http.errors import error_responses
from entrypoints.http.schemas.health import LiveResponse, ReadyResponse

router = APIRouter(prefix="/health", tags=["health"])
NO_STORE = "no-store"

CheckReadinessDep = Annotated[CheckReadiness, Depends(provide(CheckReadiness))]


@router.get(
    "/live",
    name="health:live",
    summary="Liveness: the process is up",
    description="Answers 200 while the process serves HTTP. Checks no dependency, so a "
    "database outage never gets the process restarted.",
)
async def live(response: Response) -> LiveResponse:
    response.headers["Cache-Control"] = NO_STORE
    return LiveResponse()


@router.get(
    "/ready",
    name="health:ready",
    summary="Readiness: the dependencies answer",
    description=inspect.getdoc(CheckReadiness),
    responses=error_responses(503),
)
async def ready(response: Response, check: CheckReadinessDep) -> ReadyResponse:
    response.headers["Cache-Control"] = NO_STORE
    return ReadyResponse.of(await check.execute())
