"""Bodies of the health probes."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field


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
    checks: dict[str, Literal["ok"]] = Field(
        description="Each dependency asked, all answering: the database, its schema (at the "
        "code's migration head or newer; SQL storage only) and Redis when configured.",
        examples=[{"database": "ok", "schema": "ok", "redis": "ok"}],
    )

    @classmethod
    def of(cls, names: tuple[str, ...]) -> ReadyResponse:
        return cls(checks=dict.fromkeys(names, "ok"))
