"""Bodies of the health probes."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from core.shared.health import CheckStatus


class LiveResponse(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{"status": "ok"}]})

    status: Literal["ok"] = "ok"


class ReadyResponse(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {"status": "ok", "checks": {"database": "ok", "schema": "ok", "redis": "ok"}}
            ]
        }
    )

    status: Literal["ok"] = "ok"
    checks: dict[str, Literal["ok", "degraded"]] = Field(
        description="Each dependency asked, all answering: the database, its schema (at the "
        "code's migration head or newer; SQL storage only) and Redis when configured. Redis "
        "is `degraded` when it does not answer (or its circuit breaker is open) while rate "
        "limits fail open: the service serves without it, so it stays ready.",
        examples=[{"database": "ok", "schema": "ok", "redis": "ok"}],
    )

    @classmethod
    def of(cls, statuses: Mapping[str, CheckStatus]) -> ReadyResponse:
        return cls(checks=dict(statuses))
